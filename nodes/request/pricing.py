"""The price of a request: Cost, from a variant's (or an offer's) Price and the checked body; quote() for the
live badge; and the stand-in the spend cap counts when no price is published.

price_of() is the one choice of Price: fal's live price while the refreshed cache is fresh
(catalog/fal_prices.py), else the catalog's. The badge, the spend cap and the spend log all read it."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from ..catalog import CATALOG, MEDIA_KINDS, Price, Variant, fal_prices
from .field_checks import split_list


@dataclass(frozen=True)
class Cost:
    seconds: Optional[float]
    rate: Optional[float]   # USD per second (or per request)
    usd: Optional[float]    # None: price unknown
    basis: str
    cap_usd: Optional[float] = None  # what the spend cap counts: usd, or a pessimistic stand-in
    price_source: str = ""  # where the rate comes from: fal's pricing API (and when), or the catalog's source
    price_as_of: Optional[str] = None  # when fal's live price was fetched; None: the catalog's list price

    @property
    def capped_usd(self) -> Optional[float]:
        return self.usd if self.usd is not None else self.cap_usd

    def __str__(self) -> str:
        return f"${self.usd:.2f} ({self.basis})" if self.usd is not None else f"price unknown ({self.basis})"


UNPUBLISHED = "no published price"


def price_of(variant: Variant, provider: str = "fal") -> Price:
    """The price a request to `provider` is counted at: for fal its live price when fresh, else the catalog's."""
    offer = variant.offer(provider)
    return fal_prices.price(offer.model, offer.price) if provider == "fal" else offer.price


def estimate_cost(variant: Variant, body: Mapping[str, Any], media_seconds: Optional[dict] = None,
                  price=None) -> Cost:
    p = price or variant.price
    origin = {"price_source": p.source, "price_as_of": getattr(p, "as_of", None) or None}
    audio = bool(body.get(variant.audio_field)) if variant.audio_field else False
    voices = bool(body.get(variant.voice_field)) if variant.voice_field else False
    if audio and voices and p.voice is not None:
        rate, label = p.voice, "audio on, voice control"
    elif audio and p.audio_on is not None:
        rate, label = p.audio_on, "audio on"
    else:
        rate, label = p.audio_off, "audio off" if variant.audio_field else ""
    if p.per_request:
        return Cost(None, rate, rate, "per request" if rate is not None else UNPUBLISHED, **origin)
    if p.seconds_from:
        seconds = (media_seconds or {}).get(p.seconds_from)
        seconds = None if seconds is None else math.ceil(seconds / p.round_up_to) * p.round_up_to
        what = f"{p.seconds_from} length"
    else:
        seconds = int(body.get(variant.duration_field, 5)) if variant.duration_field else None
        what = "duration"
    if rate is None or seconds is None:
        # The spend cap must not let an unpriced job through for free: count the dearest rate of its
        # family over the longest duration it offers.
        worst = _family_max_rate(variant) * (seconds or _longest(variant))
        # Users read the finding, not p.source: it cites maintainers' notes the pack does not ship.
        if rate is None:
            basis = f"{seconds:g} s; {UNPUBLISHED}" if seconds is not None else UNPUBLISHED
        else:
            basis = f"${rate:g}/s of the {what}, not known yet"
        return Cost(seconds, None, None, basis, cap_usd=round(worst, 4), **origin)
    basis = f"{seconds:g} s × ${rate:g}/s" + (f", {label}" if label else "")
    if p.seconds_from:
        basis += f", billed on the {what}"
    return Cost(seconds, rate, round(seconds * rate, 4), basis, **origin)


def quote(variant: Variant, values: Mapping[str, Any], provider: str = "fal") -> Cost:
    """The price of a node's current widget values, for the live badge: no media, no validation."""
    body: dict = {}
    for f in variant.fields:
        if f.name in values and f.kind not in MEDIA_KINDS:
            body[f.wire] = split_list(values[f.name]) if f.kind == "string_list" else values[f.name]
    return estimate_cost(variant, body, price=price_of(variant, provider))


def _family_max_rate(variant: Variant) -> float:
    rates = [r for v in CATALOG if v.family == variant.family and not v.price.per_request
             for r in (v.price.audio_off, v.price.audio_on, v.price.voice) if r is not None]
    return max(rates or [r for v in CATALOG for r in (v.price.voice, v.price.audio_on, v.price.audio_off) if r])


def _longest(variant: Variant) -> float:
    if variant.price.seconds_from:
        limits = variant.field(variant.price.seconds_from).media
        return limits.max_seconds if limits and limits.max_seconds else 60  # unknown length: a minute
    if variant.duration_field:
        return max(int(o) for o in variant.field(variant.duration_field).options)
    return 1
