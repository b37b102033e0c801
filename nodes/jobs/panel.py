"""What the jobs sidebar shows and does: the journal's jobs, collecting a paid result, today's spend.

No ComfyUI here (the routes in jobs_routes.py pass the output folder in), so it is tested without it.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import Optional

from . import generate
from ..core import settings
from ..providers import registry
from ..catalog import variant as find_variant
from ..core.errors import KlingError, scrub
from .journal import Journal
from .states import JobState

OUTPUT_SUBFOLDER = "kling-video"  # under ComfyUI's output folder; the nodes (comfyui/nodes.py) save there too
LIST_LIMIT = 200                  # newest entries listed; the journal keeps every job ever run
_HASH = re.compile(r"[0-9a-f]{64}")


class CollectRefused(KlingError):
    """Collect cannot run for this entry; `status` is the HTTP answer it maps to."""

    def __init__(self, message: str, status: int):
        self.status = status
        super().__init__(message)


def _epoch(iso) -> Optional[float]:
    try:
        return dt.datetime.fromisoformat(str(iso)).timestamp()
    except ValueError:
        return None


def _node_name(variant_key) -> Optional[str]:
    try:
        return find_variant(str(variant_key)).display_name
    except KeyError:
        return None


def _provider_title(name) -> Optional[str]:
    try:
        return registry.title(str(name))
    except KeyError:
        return None


def _entry(record: dict, running: set[str], now: float) -> dict:
    key, state = record["key"], record["state"]
    created = _epoch(record.get("created"))
    updated = record.get("updated") if isinstance(record.get("updated"), (int, float)) else None
    path = record.get("path") if state == JobState.DOWNLOADED else None
    is_running = key in running
    entry = {
        "hash": key,
        "state": state,
        "running": is_running,
        "collectable": generate.collectable(record) and not is_running,
        "provider": record.get("provider"),
        "provider_title": _provider_title(record.get("provider")),
        "model": record.get("endpoint"),
        "variant": record.get("variant"),
        "node": _node_name(record.get("variant")),
        "request_id": record.get("request_id"),
        "cost_usd": record.get("price"),
        "cost": record.get("cost"),
        "created": record.get("created"),
        "age_s": round(now - created, 1) if created else None,
        "updated_age_s": round(now - updated, 1) if updated else None,
        "path": path,
        "file_exists": bool(path) and Path(path).is_file(),
        "error": record.get("error"),
    }
    # Fields are picked one by one (never the record's handle data or result); scrubbing every string
    # is the second fence in case a provider ever echoed a key into an id or an error.
    return {k: scrub(v) if isinstance(v, str) else v for k, v in entry.items()}


def list_jobs(journal: Optional[Journal] = None, limit: int = LIST_LIMIT) -> list[dict]:
    """The journal's newest entries, newest first, without request bodies, media or keys."""
    journal = journal or Journal()
    running, now = generate.running_keys(), time.time()
    return [_entry(record, running, now) for record in journal.all()[:limit]]


async def collect(key: str, output_dir: Path, journal: Optional[Journal] = None) -> Optional[Path]:
    """Save the paid, never-downloaded result of journal entry `key` into output_dir/kling-video/ by
    reattaching to its request id (the same Job code a node's rerun uses); never submits. Returns the file
    (None for a variant whose output is not a file, such as a voice id)."""
    if not _HASH.fullmatch(key or ""):
        raise CollectRefused("not a journal entry id", 400)
    journal = journal or Journal()
    record = journal.get(key)
    if record is None:
        raise CollectRefused(f"no journal entry {key[:12]}", 404)
    if not generate.collectable(record):
        why = {JobState.DOWNLOADED: "its result is already saved", JobState.PENDING: "its submit was cut off "
               "before a request id came back, so there is nothing to follow", JobState.FAILED: "the job failed",
               JobState.CANCELLED: "the job was cancelled"}.get(record["state"], record["state"])
        raise CollectRefused(f"nothing to collect for journal entry {key[:12]}: {why}", 409)
    done = await generate.collect(key, Path(output_dir) / OUTPUT_SUBFOLDER, journal=journal)
    return done.path


def spend_today(journal: Optional[Journal] = None) -> float:
    """Dollars submitted today (UTC), from the spend log all runs sharing the journal append to."""
    return round((journal or Journal()).spend.spent_today(), 4)


def cap_usd() -> Optional[float]:
    """KLING_VIDEO_MAX_USD as dollars; None when unset. A malformed value shows as no cap here: every submit
    refuses to run with it (settings.check_all), naming the variable and the rule."""
    try:
        return settings.max_usd()
    except settings.SettingsError:
        return None
