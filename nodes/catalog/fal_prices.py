"""fal's live prices, as providers/fal_pricing.py left them on disk, and the catalog Price each one makes.

The refresh (HTTP) lives with the providers; this reader lives with the catalog so the pricing step
(nodes/request/) can read it without any provider code. A live price counts for a day after it was fetched;
after that, or when fal's answer cannot be expressed as a catalog Price, the catalog's list price stands.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

from ..core import settings
from .schema import Price

CACHE_NAME = "fal-prices.json"
SCHEMA = 1
MAX_AGE = dt.timedelta(days=1)
# fal's `unit` (singular, lower case) for a price per second of video, and for one per request: only these
# map onto a catalog Price. Others ("1000 characters", "megapixels", "units") keep the catalog's.
PER_SECOND_UNITS = {"second", "sec", "s"}
PER_REQUEST_UNITS = {"request", "generation", "video", "audio", "call", "run"}


@dataclass(frozen=True)
class LivePrice(Price):
    """A Price taken from fal's pricing API; `as_of` is when it was fetched (ISO 8601, UTC)."""

    as_of: str = ""


def cache_path() -> Path:
    return settings.home() / CACHE_NAME


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def parse_time(text) -> Optional[dt.datetime]:
    try:
        when = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


_memo: tuple[tuple, dict] = ((), {})


def load() -> dict:
    """The cache file's content ({} when there is none or it is unreadable). Re-read only when it changed:
    the badge asks on every widget change."""
    global _memo
    path = cache_path()
    try:
        st = os.stat(path)
    except OSError:
        return {}
    stamp = (str(path), st.st_mtime_ns, st.st_size)
    if _memo[0] != stamp:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        _memo = (stamp, data if isinstance(data, dict) and data.get("schema") == SCHEMA else {})
    return _memo[1]


def fetched_at(data: Optional[dict] = None) -> Optional[dt.datetime]:
    return parse_time((load() if data is None else data).get("fetched_at"))


def is_fresh(data: Optional[dict] = None, at: Optional[dt.datetime] = None) -> bool:
    when = fetched_at(data)
    return when is not None and (at or now()) - when < MAX_AGE


def _unit(text: str) -> str:
    unit = str(text or "").strip().lower()
    return unit[:-1] if unit.endswith("s") and unit not in PER_SECOND_UNITS else unit


def _scaled(rate: Optional[float], factor: float) -> Optional[float]:
    return None if rate is None else round(rate * factor, 6)


def apply(catalog: Price, entry: dict, as_of: str) -> Price:
    """The Price a pricing API entry {unit_price, unit, currency} makes of the catalog's: a LivePrice, or the
    catalog's own with a source that says why fal's could not be used.

    fal's API gives one rate per endpoint, while a Kling endpoint may have audio and voice tiers. When that
    rate is one of the catalog's tiers, the catalog's tiers stand (confirmed). When it is none of them the
    price changed, and the tiers are scaled as if it were the base (audio off) rate: for the spend cap an
    overestimate is the safe side."""
    try:
        rate = float(entry["unit_price"])
    except (KeyError, TypeError, ValueError):
        return catalog
    unit, currency = _unit(entry.get("unit", "")), str(entry.get("currency") or "USD").upper()
    said = f"fal's pricing API says {rate:g} {currency} per {unit or '?'}"
    if currency != "USD" or rate < 0:
        return replace(catalog, source=f"{catalog.source} ({said}: not in US dollars, the catalog's price is kept)")
    per_second = unit in PER_SECOND_UNITS
    if per_second == catalog.per_request or not (per_second or unit in PER_REQUEST_UNITS):
        billed = "per request" if catalog.per_request else "per second"
        return replace(catalog, source=f"{catalog.source} ({said}, which the catalog's price {billed} cannot "
                                       f"express: the catalog's price is kept)")
    tiers = (catalog.audio_off, catalog.audio_on, catalog.voice)
    source = f"fal's pricing API: ${rate:g} per {unit}, as of {as_of}"
    if catalog.audio_off is None or not catalog.audio_off:
        off, on, voice = rate, None, None
    elif any(t is not None and abs(t - rate) < 1e-9 for t in tiers):
        off, on, voice = tiers
    else:
        factor = rate / catalog.audio_off
        off, on, voice = rate, _scaled(catalog.audio_on, factor), _scaled(catalog.voice, factor)
        if on is not None or voice is not None:
            source += " (one rate for the endpoint: taken as the audio-off rate, the catalog's tiers scaled to it)"
    return LivePrice(off, on, voice, per_request=catalog.per_request, seconds_from=catalog.seconds_from,
                     round_up_to=catalog.round_up_to, source=source, as_of=as_of)


def price(endpoint: str, catalog: Price, at: Optional[dt.datetime] = None) -> Price:
    """fal's live price for `endpoint` while the cache is fresh, else the catalog's."""
    data = load()
    entry = (data.get("prices") or {}).get(endpoint)
    if not isinstance(entry, dict) or not is_fresh(data, at):
        return catalog
    return apply(catalog, entry, str(data.get("fetched_at")))


def why_not_live(endpoint: str, at: Optional[dt.datetime] = None) -> str:
    """Why the catalog's price stands for a fal endpoint (for the badge's tooltip); "" when it does not."""
    data = load()
    if not data.get("fetched_at"):
        failure = data.get("failure")
        return f"fal's prices could not be fetched ({failure})" if failure else "fal's prices not fetched yet"
    if not is_fresh(data, at):
        return f"fal's prices of {data.get('fetched_at')} are over a day old"
    if endpoint in (data.get("unknown") or {}):
        return "fal's pricing API does not know this endpoint"
    if endpoint not in (data.get("prices") or {}):
        return "fal's pricing API gave no price for this endpoint"
    return ""
