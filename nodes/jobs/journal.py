"""The on-disk journal of paid jobs.

One JSON file per request hash under <home>/jobs/, replaced atomically (write, fsync, rename) at every
state change (states.py: pending → submitted → completed → downloaded, or failed / cancelled). A process
that dies at any point leaves a record that the next run of the same request reattaches to instead of
paying again. The spend log and the cap beside it are spend.py's (`journal.spend`).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import json
import logging
import time
from pathlib import Path
from typing import Optional

from ..core import settings
from ..core.files import atomic_write
from .spend import SpendLog
from .states import STATES

log = logging.getLogger("kling_video")

# Apart from the default executor (which encodes media), so a write never waits behind an encode.
_WRITER = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="kling-journal")


class Journal:
    def __init__(self, root: Optional[Path] = None):
        self.root = Path(root) if root else settings.home()
        self.jobs = self.root / "jobs"
        self.spend = SpendLog(self.root)

    def _path(self, key: str) -> Path:
        return self.jobs / f"{key}.json"

    def get(self, key: str) -> Optional[dict]:
        path = self._path(key)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(record, dict) or record.get("state") not in STATES:
                raise ValueError("not a job record")
            return record
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("kling-video: skipping unreadable journal entry %s (%s)", path, exc)
            return None

    def put(self, key: str, record: dict) -> dict:
        record = {**record, "updated": time.time()}
        atomic_write(self._path(key), json.dumps(record, indent=1, sort_keys=True))
        return record

    def update(self, key: str, **changes) -> dict:
        return self.put(key, {**(self.get(key) or {}), **changes})

    async def update_off_loop(self, key: str, then=None, **changes) -> None:
        """update() (then `then()`, in the same step) on the journal's own threads: each write fsyncs, and with
        dozens of jobs in flight, writes on the event loop stall them all. Once asked, the write happens even
        if the caller is cancelled (a request id must never be lost to a Ctrl-C)."""
        def write() -> None:
            self.update(key, **changes)
            if then is not None:
                then()
        await asyncio.shield(asyncio.get_running_loop().run_in_executor(_WRITER, write))

    def all(self) -> list[dict]:
        """Every readable record, newest first (for listings)."""
        records = []
        for path in sorted(self.jobs.glob("*.json")) if self.jobs.is_dir() else []:
            record = self.get(path.stem)
            if record:
                records.append({**record, "key": path.stem})
        return sorted(records, key=lambda r: r.get("updated", 0), reverse=True)


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

