"""How many of a batch's jobs may be in flight at one provider, and how that number follows the provider's
"too many requests" answers.

Each provider gets a lane with a ceiling (the user's --concurrency, or the provider's default below). A 429
(fal, AI/ML API, Vercel) or Kling's 1302/1303 lowers the lane's limit to one below what was in flight and holds
new submits for the provider's Retry-After; after a quiet spell the limit climbs back, one job at a time. So an
account whose limit is below the ceiling settles at its limit instead of failing jobs.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Optional

# Jobs in flight per provider when --concurrency is not given, and why (the batch's help prints these).
DEFAULTS = {
    "fal": (2, "fal runs 2 requests at once on a new account and raises that up to 40 as credit is bought; "
               "more would wait in fal's queue, where KLING_VIDEO_QUEUE_TIMEOUT counts"),
    "kling": (2, "Kling's account limit depends on its resource pack; over it, Kling answers 1303"),
    "aimlapi": (4, "AI/ML API publishes no per-account limit; its 429 answers slow the batch down"),
    "vercel": (4, "the AI Gateway publishes no per-account limit; its 429 answers slow the batch down"),
}
HOLD = 5.0        # seconds new submits wait after a "too many" without a Retry-After
QUIET = 30.0      # seconds without a "too many" before the limit climbs back by one


class Lane:
    def __init__(self, provider: str, ceiling: Optional[int] = None):
        self.provider = provider
        self.ceiling = max(1, ceiling or DEFAULTS.get(provider, (2, ""))[0])
        self.limit = self.ceiling
        self.active = 0
        self.waiting: deque = deque()   # the jobs not started yet, in manifest order
        self.resume_at = 0.0
        self.last_throttle = float("-inf")
        self.throttles = 0
        self.stopped = ""               # why this provider gets no more jobs (a rejected key, no credit)
        self._changed = asyncio.Event()

    async def enter(self) -> None:
        """Wait for a free place under the limit and the end of any hold."""
        while True:
            now = time.monotonic()
            if self.active < self.limit and now >= self.resume_at:
                self.active += 1
                return
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), self.resume_at - now if now < self.resume_at else None)
            except asyncio.TimeoutError:
                pass

    def leave(self, succeeded: bool) -> None:
        self.active -= 1
        if succeeded and self.limit < self.ceiling and time.monotonic() - self.last_throttle > QUIET:
            self.limit += 1
        self._changed.set()

    def throttled(self, retry_after: Optional[float]) -> None:
        """The provider said "too many": called by the HTTP layer for every such answer of this lane's jobs."""
        now = time.monotonic()
        self.throttles += 1
        # Several jobs hear the same "too many" at once: the limit drops once per hold, not once per job.
        if now >= self.resume_at:
            self.limit = max(1, min(self.limit, self.active) - 1)
        self.last_throttle = now
        self.resume_at = max(self.resume_at, now + (HOLD if retry_after is None else min(retry_after, 60.0)))
        self._changed.set()
