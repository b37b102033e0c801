"""The spend log and the daily spend cap.

<home>/spend.jsonl gets one JSON line per submitted job: its price, or for a job without a published price
the upper estimate the spend cap counted (`price_known: false`). Under a cap (KLING_VIDEO_MAX_USD), a submit
first reserves its price in <home>/spend.pending.json; check and reservation are one step under a lock file
shared by every process on this home, so two jobs started together cannot both slip under the cap.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from pathlib import Path
from typing import Optional

from ..core import settings
from ..core.errors import KlingError
from ..core.filelock import locked
from ..core.files import atomic_write

log = logging.getLogger("kling_video")

# A cap reservation this old, or whose process is gone, is counted as spent and never waited for: its submit
# may have gone through before the process died.
RESERVATION_FRESH_SECONDS = 300.0


class SpendCapReached(KlingError):
    pass


class SpendLog:
    """The spend log and the cap's reservations of one home (a journal's `spend`)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def path(self) -> Path:
        return self.root / "spend.jsonl"

    def record(self, entry: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry, sort_keys=True) + "\n"
        # One write() of a short line with O_APPEND: concurrent jobs never interleave their lines.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def spent_today(self) -> float:
        today = _today()
        total = 0.0
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return 0.0
        for n, line in enumerate(lines, 1):
            try:
                entry = json.loads(line)
                if str(entry.get("time", "")).startswith(today):
                    total += float(entry.get("price") or 0)
            except (ValueError, TypeError, AttributeError):
                log.warning("kling-video: skipping unreadable line %d of %s", n, self.path)
        return total

    # -- the cap's reservations ------------------------------------------------------------------
    @property
    def reservations_path(self) -> Path:
        return self.root / "spend.pending.json"

    @property
    def lock_path(self) -> Path:
        return self.root / "spend.lock"

    def _reservations(self) -> dict:
        """Today's reservations {id: {usd, time, pid, what}}; earlier days' are dropped (their day is over)."""
        try:
            data = json.loads(self.reservations_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("kling-video: unreadable %s (%s); counting no reservations", self.reservations_path, exc)
            return {}
        today = _today()
        return {k: r for k, r in data.items() if isinstance(r, dict) and r.get("day") == today} \
            if isinstance(data, dict) else {}

    def try_reserve(self, rid: str, usd: float, what: str) -> bool:
        """Under KLING_VIDEO_MAX_USD, reserve `usd` for the submit `rid` in one step with the check.

        True: reserved (or there is no cap). False: only other jobs' submits still in flight stand in the way:
        wait and ask again, as one of them may be refused and give its reservation back. Raises
        SpendCapReached when what is spent (or reserved by submits that can no longer be given back) leaves
        no room."""
        cap = settings.max_usd()
        if cap is None:
            return True
        with locked(self.lock_path):
            spent = self.spent_today()
            reservations = self._reservations()
            others = [r for k, r in reservations.items() if k != rid]
            in_flight = sum(float(r.get("usd") or 0) for r in others if _fresh(r))
            settled = spent + sum(float(r.get("usd") or 0) for r in others if not _fresh(r))
            if settled + in_flight + usd <= cap + 1e-9:
                reservations[rid] = {"usd": usd, "time": time.time(), "pid": os.getpid(), "what": what,
                                     "day": _today()}
                atomic_write(self.reservations_path, json.dumps(reservations, indent=1, sort_keys=True))
                return True
            if settled + usd > cap + 1e-9:
                raise SpendCapReached(
                    f"spend cap reached: {what} would cost ${usd:.2f} and ${settled:.2f} was already spent today "
                    f"(UTC) of the ${cap:.2f} allowed by KLING_VIDEO_MAX_USD; nothing was sent. Raise or unset "
                    f"KLING_VIDEO_MAX_USD to continue (spend log: {self.path})")
            return False

    def settle(self, rid: str, spend: Optional[dict]) -> None:
        """The submit `rid` is over: log what it spent (None: nothing, the provider refused it) and drop its
        reservation, in one step so the cap never counts it twice or not at all."""
        with locked(self.lock_path):
            if spend is not None:
                self.record(spend)
            reservations = self._reservations()
            if reservations.pop(rid, None) is not None:  # (earlier days' entries go at the next write)
                atomic_write(self.reservations_path, json.dumps(reservations, indent=1, sort_keys=True))


def _today() -> str:
    return dt.datetime.now(dt.timezone.utc).date().isoformat()


def _fresh(reservation: dict) -> bool:
    """A reservation whose submit may still be refused and give it back."""
    if time.time() - float(reservation.get("time") or 0) > RESERVATION_FRESH_SECONDS:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there: trust the age alone
        return True
    try:
        os.kill(int(reservation.get("pid") or 0), 0)
        return True
    except (OSError, ValueError):
        return False
