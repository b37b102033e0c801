"""Running a checked batch: lanes of jobs per provider, each job through jobs.generate (the journal, the lock,
the cache and the spend cap, as every node and the CLI use them), its file copied to the batch's folder as
<id>.<ext>.

Run again, the same manifest pays for nothing twice: a job whose request the journal holds finished is copied
from there (no charge), one in flight is reattached, one that failed stays failed unless retry_failed; one the
provider refused for "too many" was never made, so it simply runs.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional

from ..cli import output as cli_out
from ..core import http, settings
from ..core.errors import InputError, JobFailed, KlingError, MissingCredentials, ProviderError
from ..jobs.generate import generate
from ..jobs.journal import Journal
from ..jobs.runner import Update
from ..jobs.spend import SpendCapReached
from ..jobs.states import LIVE, JobState
from .lanes import Lane
from .plan import Planned, prepare_line

log = logging.getLogger("kling_video")


@dataclass
class Outcome:
    id: str
    line: int
    variant: str
    provider: str
    status: str  # done | cached | reattached | failed | failed earlier | cut off | not run | in flight
    request_id: Optional[str] = None
    cost: Optional[float] = None     # the video's price in USD (None: unpublished), whether paid now or before
    paid_now: bool = False           # this run submitted it (False: the journal had it)
    estimate: str = ""
    path: Optional[str] = None
    error: Optional[str] = None

    def row(self) -> dict:
        return asdict(self)


# done: paid by this run; cached: the journal had the file; reattached: paid by an earlier run, finished by this one.
FINISHED = ("done", "cached", "reattached")


class Batch:
    def __init__(self, jobs: list[Planned], base: Path, out: Path, *, concurrency: Optional[int] = None,
                 retry_failed: bool = False, journal: Optional[Journal] = None,
                 on_outcome: Callable[[Outcome], None] = lambda o: None,
                 on_update: Callable[[Planned, Update], None] = lambda j, u: None):
        self.jobs, self.base, self.out = jobs, base, out
        self.retry_failed = retry_failed
        self.journal = journal or Journal()
        self.on_outcome, self.on_update = on_outcome, on_update
        self.lanes: dict[str, Lane] = {}
        for job in jobs:
            self.lanes.setdefault(job.provider, Lane(job.provider, concurrency)).waiting.append(job)
        self.outcomes: dict[str, Outcome] = {}
        self.charged: dict[str, float] = {}   # job id -> USD, from the moment this run's submit was accepted
        self.claimed: set[str] = set()        # request hashes this run has started
        self.stopping = ""               # why no new job starts (Ctrl-C, a rejected key)
        self.cap_reached = ""            # the daily cap was reached: jobs that would pay are not run
        self.started = 0.0

    # -- counts for the display ----------------------------------------------------------------
    @property
    def running(self) -> int:
        return sum(lane.active for lane in self.lanes.values())

    @property
    def queued(self) -> int:
        return sum(len(lane.waiting) for lane in self.lanes.values())

    def count(self, *statuses: str) -> int:
        return sum(1 for o in self.outcomes.values() if o.status in statuses)

    @property
    def spent(self) -> float:
        """What this run's accepted submits cost, in USD (an unpublished price at the spend cap's stand-in)."""
        return sum(self.charged.values())

    def stop(self, why: str) -> None:
        self.stopping = self.stopping or why

    # -- running -----------------------------------------------------------------------------
    async def run(self) -> list[Outcome]:
        self.started = time.monotonic()
        workers = [self._worker(lane) for lane in self.lanes.values() for _ in range(lane.ceiling)]
        try:
            await asyncio.gather(*workers)
        finally:
            for lane in self.lanes.values():  # what never started, said as such in results.jsonl
                while lane.waiting:
                    self._finish(self._outcome(lane.waiting.popleft(), "not run",
                                               error=lane.stopped or self.stopping or "the batch was stopped"))
            for job in self.jobs:  # quit while in flight: the journal holds the request id
                if job.line.id not in self.outcomes:
                    self._finish(self._outcome(job, "in flight", error="stopped while in flight: run the same "
                                               "command again to collect it (no new charge)"))
        return [self.outcomes[job.line.id] for job in self.jobs if job.line.id in self.outcomes]

    async def _worker(self, lane: Lane) -> None:
        while lane.waiting and not (self.stopping or lane.stopped):
            await lane.enter()
            if not lane.waiting or self.stopping or lane.stopped:
                lane.leave(False)
                return
            job = lane.waiting.popleft()
            outcome = None
            try:
                outcome = await self._one(job, lane)
            except _TooMany:
                lane.waiting.append(job)  # never made at the provider: it runs again when the lane has room
            except Exception as exc:  # a fault in one job (ours or the machine's) must not stop the others
                log.exception("kling-video: batch job %s failed", job.line.id)
                outcome = self._outcome(job, "failed", error=f"{type(exc).__name__}: {exc}")
            finally:
                lane.leave(outcome is not None and outcome.status in FINISHED)
            if outcome is not None:
                self._finish(outcome)

    def _finish(self, outcome: Outcome) -> None:
        self.outcomes[outcome.id] = outcome
        self.on_outcome(outcome)

    def _outcome(self, job: Planned, status: str, **facts) -> Outcome:
        return Outcome(job.line.id, job.line.number, job.variant.key, job.provider, status,
                       cost=job.cost.capped_usd, estimate=str(job.cost), **facts)

    async def _one(self, job: Planned, lane: Lane) -> Outcome:
        token = http.on_throttle.set(lane.throttled)
        try:
            # Over the cap, a job the journal has made (or is making) is still collected: it costs nothing.
            record = self.journal.get(job.key) if self.cap_reached else None
            if self.cap_reached and (record or {}).get("state") not in LIVE:
                return self._outcome(job, "not run", error=self.cap_reached)
            # Prepared again, not kept from the check: a thousand encoded bodies would not fit in memory.
            _, prepared = await asyncio.to_thread(prepare_line, job.line, self.base)
            return await self._run(job, prepared)
        except ProviderError as exc:
            if exc.throttled:
                self.claimed.discard(job.key)  # nothing was made: the next attempt is this run's to pay
                raise _TooMany() from None
            if (exc.status in (401, 402, 403) or exc.status == 429) and not isinstance(exc, JobFailed):
                # The key or the account (no credit; Kling's 1100-1102 come as 429): every next job of this
                # provider would be refused the same way, so none is sent.
                lane.stopped = lane.stopped or f"not sent: {lane.provider} refused an earlier job ({exc})"
            return self._outcome(job, "failed", request_id=exc.request_id, error=str(exc))
        except SpendCapReached as exc:
            self.cap_reached = self.cap_reached or str(exc)
            return self._outcome(job, "not run", error=str(exc))
        except MissingCredentials as exc:
            self.stop(str(exc))
            return self._outcome(job, "not run", error=str(exc))
        except (InputError, KlingError, OSError) as exc:
            return self._outcome(job, "failed", error=str(exc))
        finally:
            http.on_throttle.reset(token)

    async def _run(self, job: Planned, prepared) -> Outcome:
        record = self.journal.get(job.key)
        state = record.get("state") if record else None
        if state == JobState.FAILED and not record.get("throttled") and not self.retry_failed:
            return self._outcome(job, "failed earlier", request_id=record.get("request_id"),
                                 error=f"{record.get('error')} (run with --retry-failed to pay for a new attempt)")
        # Two lines asking for the same video share one job (jobs.generate runs a request once): one pays.
        paid_now = state not in LIVE and job.key not in self.claimed
        self.claimed.add(job.key)

        def update(u: Update) -> None:
            if paid_now and u.request_id and job.line.id not in self.charged:
                self.charged[job.line.id] = job.cost.capped_usd or 0.0
            self.on_update(job, u)
        # Never interrupted from here: a Ctrl-C stops new submits, and a job left in flight is reattached by
        # the next run, where a cancel could lose a job the provider bills anyway.
        try:
            _, done = await generate(lambda: prepared, settings.home() / "outputs", take=job.line.take,
                                     journal=self.journal, on_update=update, interrupted=lambda: False)
        except ProviderError as exc:
            if state == JobState.PENDING and not exc.throttled:
                # An earlier run was stopped mid-submit at a provider that cannot be asked about it (fal): the
                # job may exist and be billed. Said apart from failures, so the user checks those few by hand.
                return self._outcome(job, "cut off", error=str(exc))
            raise
        path = None
        if done.path is not None:
            path = self.out / f"{job.line.id}{done.path.suffix}"
            await asyncio.to_thread(cli_out.write, done.path, path)
        status = "done" if state not in LIVE else "cached" if state == JobState.DOWNLOADED else "reattached"
        return self._outcome(job, status, request_id=done.request_id, paid_now=paid_now,
                             path=str(path) if path else None)


class _TooMany(Exception):
    """The provider refused the submit for "too many": nothing was made, the job goes back in its lane."""
