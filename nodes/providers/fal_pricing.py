"""fal's prices from fal's own pricing API, refreshed at most once a day into the cache catalog/fal_prices.py
reads (research16.md §2; the API ComfyUI-Fal-Gateway reads):

    GET https://api.fal.ai/v1/models/pricing?endpoint_id=<id>,<id>,...   (1 to 50 ids; Authorization: Key)
    -> {"prices": [{endpoint_id, unit_price, unit, currency}], "next_cursor": str|null, "has_more": bool}

fal answers 404 for the whole batch when one id is unknown to its pricing index: the batch is halved until the
unknown id is found, and that id is remembered (and skipped for a week). A refused key (401/403) or an
unreachable API leaves the cache as it was; the catalog's prices stand, and the failure is logged once.

Callers: the price route (in the background) and the CLI (before pricing). Never a job: a job reads the cache.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
from typing import Iterable, Optional

from ..catalog import CATALOG, fal_prices
from ..core import files, http
from ..core.errors import KlingError, ProviderError, scrub
from . import fal

log = logging.getLogger("kling_video")

BATCH = 50           # fal: "Must provide at least 1 endpoint ID (1-50 models)"
MAX_PAGES = 100      # a cursor that never ends must not loop
RETRY_FAILED = dt.timedelta(hours=1)   # after a failed refresh, the next try
FORGET_UNKNOWN = dt.timedelta(days=7)  # an id fal did not know is asked again after this
TIMEOUT = 60.0       # the whole refresh
# The query policy (retry on 429, 5xx and lost connections) with fewer, shorter waits: no price is worth
# holding the CLI for, and a failed refresh is tried again within the hour.
RETRY = http.Retry(attempts=3, base=0.5, cap=2.0)


class _Refused(KlingError):
    """The key was refused (401/403): no refresh."""


def api_base() -> str:
    # FAL_API_HOST moves it for proxies and tests, as FAL_REST_HOST does the REST host
    return f"https://{os.environ.get('FAL_API_HOST', '').strip() or 'api.fal.ai'}/v1"


def endpoint_ids() -> list[str]:
    return sorted({v.endpoint for v in CATALOG})


def due(at: Optional[dt.datetime] = None) -> bool:
    """Whether a refresh is due: the cache is missing or a day old, and no refresh failed in the last hour."""
    at = at or fal_prices.now()
    data = fal_prices.load()
    if fal_prices.is_fresh(data, at):
        return False
    failed = fal_prices.parse_time(data.get("failed_at"))
    return failed is None or at - failed >= RETRY_FAILED


async def _page(session, key: str, ids: list[str], cursor: Optional[str]) -> dict:
    params = {"endpoint_id": ",".join(ids)}
    if cursor:
        params["cursor"] = cursor
    try:
        answer = await http.send(session, "GET", f"{api_base()}/models/pricing", params=params,
                                 headers={"Authorization": f"Key {key}", "Accept": "application/json"},
                                 retry=RETRY, what="fal pricing")
    except ProviderError as exc:
        if exc.status in (401, 403):
            raise _Refused(f"fal's pricing API refused the key (HTTP {exc.status})") from None
        raise
    return answer.data


async def _batch(session, key: str, ids: list[str], prices: dict, unknown: set) -> None:
    """One batch, every page of it; on a 404 the halves, down to the one id fal does not know."""
    cursor = None
    try:
        for _ in range(MAX_PAGES):
            data = await _page(session, key, ids, cursor)
            for item in data.get("prices") or []:
                if isinstance(item, dict) and item.get("endpoint_id") and item.get("unit_price") is not None:
                    prices[str(item["endpoint_id"])] = {"unit_price": item["unit_price"], "unit": item.get("unit"),
                                                        "currency": item.get("currency") or "USD"}
            cursor = data.get("next_cursor")
            if not (data.get("has_more") and cursor):
                return
    except ProviderError as exc:
        if exc.status != 404:
            raise
        if len(ids) == 1:
            unknown.add(ids[0])
            return
        half = len(ids) // 2
        await _batch(session, key, ids[:half], prices, unknown)
        await _batch(session, key, ids[half:], prices, unknown)


async def fetch(key: str, ids: Iterable[str]) -> tuple[dict, set]:
    """(prices by endpoint id, ids fal's pricing index does not know) for `ids`, batched by BATCH."""
    ids = list(ids)
    prices: dict = {}
    unknown: set = set()
    async with http.new_session(total=TIMEOUT) as session:
        for start in range(0, len(ids), BATCH):
            await _batch(session, key, ids[start:start + BATCH], prices, unknown)
    return prices, unknown


def _write(data: dict) -> None:
    data["schema"] = fal_prices.SCHEMA
    files.atomic_write(fal_prices.cache_path(), json.dumps(data, indent=1, sort_keys=True))


_told: set[str] = set()


def _tell_once(kind: str, message: str) -> None:
    if kind not in _told:
        _told.add(kind)
        log.warning("kling-video: %s; the catalog's fal prices are shown and counted", message)


async def refresh(key: Optional[str] = None, at: Optional[dt.datetime] = None) -> bool:
    """Fetch fal's prices into the cache now. True when it did; False when there is no fal key or the refresh
    failed (the cache then keeps what it had, plus when and why it failed). Never raises for fal's answers."""
    if key is None:
        try:
            key = fal.api_key()
        except KlingError:  # MissingCredentials, or a malformed stored key
            return False
    at = at or fal_prices.now()
    old = dict(fal_prices.load())
    remembered = {i: t for i, t in (old.get("unknown") or {}).items()
                  if (w := fal_prices.parse_time(t)) is not None and at - w < FORGET_UNKNOWN}
    ids = [i for i in endpoint_ids() if i not in remembered]
    try:
        prices, unknown = await fetch(key, ids)
    except (_Refused, ProviderError, asyncio.TimeoutError, OSError) as exc:
        kind = "refused" if isinstance(exc, _Refused) else "unreachable"
        message = scrub(str(exc) or exc.__class__.__name__).replace(key, "<key>")
        _tell_once(kind, f"fal's prices were not refreshed: {message}")
        _write({**old, "failed_at": at.isoformat(), "failure": message})
        return False
    stamp = at.isoformat()
    remembered.update({i: stamp for i in unknown})
    _write({"fetched_at": stamp, "prices": prices, "unknown": remembered, "failed_at": None, "failure": None})
    _told.clear()
    log.info("kling-video: fal's prices refreshed for %d endpoints (%d unknown to its pricing API)",
             len(prices), len(unknown))
    return True


async def refresh_if_due() -> bool:
    """refresh() when a fal key is set and due() says so; never raises (a price is never worth a failure)."""
    try:
        if not due():
            return False
        return await refresh()
    except (KlingError, OSError) as exc:  # the home folder is not writable, a bad setting: the catalog stands
        _tell_once("local", f"fal's prices were not refreshed ({scrub(str(exc))})")
        return False


_running: Optional[asyncio.Task] = None


def refresh_in_background() -> None:
    """Start refresh_if_due() on the running loop unless one is under way (the price route's trigger)."""
    global _running
    if _running is not None and not _running.done():
        return
    try:
        fal.api_key()
        if not due():
            return
    except (KlingError, OSError):  # no fal key: nothing to refresh with
        return
    _running = asyncio.get_running_loop().create_task(refresh_if_due())
