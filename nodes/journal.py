"""The on-disk journal of paid jobs, and the spend log.

One JSON file per request hash under <home>/jobs/, replaced atomically (write, fsync, rename) at every
state change: pending (before the submit) → submitted (request id known) → completed (result known) →
downloaded (file on disk); or failed / cancelled. A process that dies at any point leaves a record that
the next run of the same request reattaches to instead of paying again.

The spend log (<home>/spend.jsonl) gets one JSON line per submitted job.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Optional

from .errors import KlingError, scrub

log = logging.getLogger("kling_video")

STATES = ("pending", "submitted", "completed", "downloaded", "failed", "cancelled")
# States in which the provider may still hold (or be making) the paid result.
LIVE = ("pending", "submitted", "completed", "downloaded")


def home() -> Path:
    """$KLING_VIDEO_HOME, else the pack's folder in ComfyUI's user directory, else ~/.kling-video."""
    env = os.environ.get("KLING_VIDEO_HOME", "").strip()
    if env:
        return Path(env).expanduser()
    try:
        import folder_paths  # ComfyUI's; present only inside ComfyUI
        return Path(folder_paths.get_user_directory()) / "kling-video"
    except Exception:
        return Path.home() / ".kling-video"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Journal:
    def __init__(self, root: Optional[Path] = None):
        self.root = Path(root) if root else home()
        self.jobs = self.root / "jobs"

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
        _atomic_write(self._path(key), json.dumps(record, indent=1, sort_keys=True))
        return record

    def update(self, key: str, **changes) -> dict:
        return self.put(key, {**(self.get(key) or {}), **changes})

    def all(self) -> list[dict]:
        """Every readable record, newest first (for listings)."""
        records = []
        for path in sorted(self.jobs.glob("*.json")) if self.jobs.is_dir() else []:
            record = self.get(path.stem)
            if record:
                records.append({**record, "key": path.stem})
        return sorted(records, key=lambda r: r.get("updated", 0), reverse=True)

    # -- spend ---------------------------------------------------------------------------------
    @property
    def spend_path(self) -> Path:
        return self.root / "spend.jsonl"

    def record_spend(self, entry: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry, sort_keys=True) + "\n"
        # One write() of a short line with O_APPEND: concurrent jobs never interleave their lines.
        fd = os.open(self.spend_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def spent_today(self) -> float:
        today = dt.datetime.now(dt.timezone.utc).date().isoformat()
        total = 0.0
        try:
            lines = self.spend_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return 0.0
        for n, line in enumerate(lines, 1):
            try:
                entry = json.loads(line)
                if str(entry.get("time", "")).startswith(today):
                    total += float(entry.get("price") or 0)
            except (ValueError, TypeError, AttributeError):
                log.warning("kling-video: skipping unreadable line %d of %s", n, self.spend_path)
        return total


class SpendCapReached(KlingError):
    pass


def daily_cap() -> Optional[float]:
    """KLING_VIDEO_MAX_USD in dollars, None when unset; KlingError when it is not a number."""
    raw = os.environ.get("KLING_VIDEO_MAX_USD", "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise KlingError(f"KLING_VIDEO_MAX_USD={raw!r} is not a number of dollars") from None


def check_cap(journal: Journal, price: Optional[float], what: str) -> None:
    """KLING_VIDEO_MAX_USD caps what this machine spends per UTC day (all ComfyUI and CLI runs sharing the
    journal); a submit that would pass it is refused before anything is sent."""
    cap = daily_cap()
    if cap is None:
        return
    spent = journal.spent_today()
    if spent + (price or 0) > cap + 1e-9:
        raise SpendCapReached(
            f"spend cap reached: {what} would cost ${price or 0:.2f} and ${spent:.2f} was already spent today "
            f"(UTC) of the ${cap:.2f} allowed by KLING_VIDEO_MAX_USD; nothing was sent. Raise or unset "
            f"KLING_VIDEO_MAX_USD to continue (spend log: {journal.spend_path})")


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def safe(text) -> str:
    return scrub(str(text))
