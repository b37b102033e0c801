"""The prepare step: node inputs → a checked body in the catalog's field order, priced, for one provider.

Cheap field checks run first, then the media are encoded, then the variant's cross-field rules, the voice
references and what the provider can take. Sends nothing.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from ..catalog import MEDIA_KINDS, Variant
from .field_checks import check_scalar, fail
from .media_checks import MediaContext, encode_media
from .prepared import PreparedRequest
from .pricing import estimate_cost, price_of
from .provider_checks import check_provider_fields

_VOICE_REF = re.compile(r"<<<voice_(\d+)>>>")


def _check_voice_references(variant: Variant, body: dict) -> None:
    if not variant.voice_field:
        return
    voices = body.get(variant.voice_field, [])
    if voices and variant.audio_field and body.get(variant.audio_field) is False:
        # Kling: "voice_list needs sound on" (provider_protocols.md §5.4); a voice without audio says nothing.
        fail(variant.field(variant.voice_field).name, f"needs {variant.audio_field} on: voices are audio")
    texts = [("prompt", body.get("prompt", "")), ("negative_prompt", body.get("negative_prompt", ""))]
    texts += [(f"shots[{i}].prompt", s["prompt"]) for i, s in enumerate(body.get("multi_prompt", []), 1)]
    for name, text in texts:
        for n in map(int, _VOICE_REF.findall(text)):
            if n < 1 or n > len(voices):
                fail(name, f"refers to <<<voice_{n}>>> but {len(voices)} voice id(s) are given in "
                           f"{variant.field(variant.voice_field).name}")


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def prepare(variant: Variant, inputs: Mapping[str, Any], provider: str = "fal") -> PreparedRequest:
    """Check every input (for this provider), encode the media, and price the request. Sends nothing."""
    offer = variant.offer(provider)
    body: dict = {}
    # Cheap checks first, so a typo is reported before seconds of image encoding.
    for f in variant.fields:
        if f.kind in MEDIA_KINDS or f.kind in ("elements", "dynamic_masks"):
            continue
        value = check_scalar(f, inputs.get(f.name, f.default))
        if not (_is_empty(value) and not f.required):
            body[f.wire] = value
    ctx = MediaContext()
    for f in variant.fields:
        if not (f.kind in MEDIA_KINDS or f.kind in ("elements", "dynamic_masks")):
            continue
        value = inputs.get(f.name)
        if _is_empty(value) or (hasattr(value, "numel") and value.numel() == 0):
            if f.required:
                fail(f.name, f"is required: connect {'an image' if 'image' in f.kind else 'it'}")
            continue
        encoded = encode_media(f, value, ctx)
        if not _is_empty(encoded):
            body[f.wire] = encoded
    for rule in variant.rules:
        rule(body, fail, ctx.seconds)
    _check_voice_references(variant, body)
    check_provider_fields(variant, offer, body)
    # Keep the catalog's field order on the wire: stable bodies make stable request hashes.
    order = [f.wire for f in variant.fields]
    ordered = {k: body[k] for k in sorted(body, key=lambda k: order.index(k) if k in order else len(order))}
    return PreparedRequest(variant, ordered, estimate_cost(variant, ordered, ctx.seconds, price_of(variant, provider)),
                           provider, offer.model)
