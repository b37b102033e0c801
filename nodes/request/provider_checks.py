"""What the chosen provider can take: a field it lacks, or a value beyond its limits, is refused with the
providers that can take it named."""
from __future__ import annotations

from ..catalog import Variant
from ..providers import registry
from .field_checks import fail


def check_provider_fields(variant: Variant, offer, body: dict) -> None:
    """A field the provider cannot take is refused, never silently dropped; left at its default it is
    simply not sent (the provider applies its own default)."""
    if offer.provider == "fal":  # the catalog is written in fal's terms: fal takes the whole body
        return
    for wire in [w for w in body if w not in offer.fields]:
        f = variant.field(wire)
        if body[wire] == f.default or (f.kind == "string_list" and not body[wire]):
            del body[wire]
            continue
        able = [p for p in variant.providers if wire in variant.offer(p).fields]
        fail(f.name, f"{_title(offer.provider)} cannot take it; {', '.join(map(_title, able))} can "
                     f"(or leave it at its default, {f.default!r})")
    for wire, allowed in offer.limits:
        if wire not in body:
            continue
        f, value = variant.field(wire), body[wire]
        if isinstance(allowed, int):
            if len(value) > allowed:
                able = [p for p in variant.providers if _within(variant.offer(p), wire, value)]
                fail(f.name, f"has {len(value)} items; {_title(offer.provider)} takes at most {allowed} "
                             f"({', '.join(map(_title, able))} can take {len(value)})")
        elif str(value) not in allowed:
            if value == f.default:
                del body[wire]  # the provider's own default applies
                continue
            able = [p for p in variant.providers if _within(variant.offer(p), wire, value)]
            fail(f.name, f"{value!r} is not offered by {_title(offer.provider)} (it takes {', '.join(allowed)}); "
                         f"{', '.join(map(_title, able))} can take it")


def _within(offer, wire: str, value) -> bool:
    if wire not in offer.fields:
        return False
    allowed = dict(offer.limits).get(wire)
    if allowed is None:
        return True
    return len(value) <= allowed if isinstance(allowed, int) else str(value) in allowed


def _title(provider: str) -> str:
    return registry.title(provider)
