"""One paid job at a provider, start to file: submit once → follow status → result → download.

It reports progress through a callback, watches for the user's interrupt (then cancels the remote job)
and enforces a queue-wait limit and an overall deadline. No ComfyUI and no torch here. Whether a request
runs at all (the cache, the lock, reattaching) is generate.py's; saving the file is download.py's.

Money rules kept here: every submit attempt has its own id at the provider (Kling's external_task_id and
Vercel's idempotency key must not be reused for a new attempt); under a spend cap the price is reserved
before the submit, atomically with the check; a cancelled job keeps its request id, since the provider may
ignore the cancel and finish (and bill) it.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable, Optional

from ..core import http, settings
from ..providers import registry, select
from ..core.errors import Interrupted, JobFailed, KlingError, ProviderError, scrub
from ..providers.contract import TERMINAL, CancelUnsupported, Client, Completed, Failed, Handle, Queued, Running, Status
from ..media_out.kinds import KINDS
from ..request import PreparedRequest
from .download import Download, saved_facts, without_inline_media
from .journal import Journal, now_iso
from .states import JobState

log = logging.getLogger("kling_video")


@dataclass(frozen=True)
class Limits:
    # A job that never leaves the queue (e.g. an account without balance) should fail fast, while a
    # running Kling job legitimately takes minutes.
    queue_wait: float = field(default_factory=settings.queue_timeout)
    deadline: float = field(default_factory=settings.timeout)
    max_download: int = field(default_factory=settings.max_download_bytes)
    poll_interval: float = 1.0    # only when the status stream is unavailable


@dataclass
class Update:
    phase: str                    # waiting | submitting | queued | running | downloading | done
    text: str
    fraction: float               # overall progress estimate, 0..1
    request_id: Optional[str] = None
    log_lines: tuple[str, ...] = ()   # the provider's log lines new with this update (scrubbed), each said once


def submit_id(key: str, attempt: int) -> str:
    """The id one submit attempt carries to the provider (Kling's external_task_id, Vercel's idempotency key).
    A retry of a failed job is a new attempt with a new id: Kling refuses a reused external_task_id and Vercel
    replays the old (failed) operation. Attempt 0 is the id of journals written before attempts existed."""
    return key if attempt == 0 else f"{key[:40]}-{attempt}"


# Shown wherever a stopped job can be picked up again, in ComfyUI and in the CLI alike.
RUN_AGAIN = "run the same node or command again"


@dataclass(frozen=True)
class JobResult:
    request_id: str
    path: Optional[Path]    # the downloaded video; None for variants whose output is not a file
    result: dict


class Job:
    """One request at the provider. With a journal and a key, every state change is recorded, so a
    later run of the same request resumes it (`run(resume=record)`) instead of paying again."""

    def __init__(self, prepared: PreparedRequest, out_dir: Path, *,
                 on_update: Callable[[Update], None] = lambda u: None,
                 interrupted: Callable[[], bool] = lambda: False,
                 limits: Optional[Limits] = None,
                 journal: Optional[Journal] = None, key: str = "", may_submit: bool = True):
        self.prepared = prepared
        self.may_submit = may_submit  # False for Collect: follow a paid job, never start one
        self.journal = journal
        self.key = key
        self.variant = prepared.variant
        self.kind = KINDS[prepared.variant.output]
        self.out_dir = Path(out_dir)
        self.on_update = on_update
        self.interrupted = interrupted
        self.limits = limits or Limits()
        self.handle: Optional[Handle] = None
        self.started = 0.0
        self.phase_since = 0.0
        self.phase = "submitting"
        self.logs_seen = 0
        self.attempt = 0

    # -- public -------------------------------------------------------------------------------
    async def run(self, resume: Optional[dict] = None) -> JobResult:
        """Submit (or, given a journal record with a request id, reattach), follow, fetch, download."""
        settings.check_all()  # a broken setting is heard before anything is sent
        module = select.get(self.prepared.provider)
        credentials = module.credentials()  # a missing key is reported before anything is sent
        self.started = time.monotonic()
        state = resume.get("state") if resume else None
        async with http.new_session() as session:
            queue = module.CLIENT(session, credentials)
            if state == JobState.PENDING:
                await self._recover(queue, resume)
            elif resume and resume.get("request_id"):
                self.attempt = int(resume.get("attempt") or 0)
                self.handle = Handle(self.prepared.provider, self.prepared.model, resume["request_id"],
                                     resume.get("handle_data") or {})
                self._set_phase("queued", (f"asking {self.who} about request {self.handle.request_id}, cancelled "
                                           "earlier: it may have finished anyway" if state == JobState.CANCELLED else
                                           f"reattached to {self.who} request {self.handle.request_id}")
                                + " (no new charge)", 0.02)
            else:
                await self._submit(queue)
            try:
                result = resume.get("result") if state in (JobState.COMPLETED, JobState.DOWNLOADED) else None
                if result is None:
                    final = await self._guard(self._follow(queue), queue)
                    if isinstance(final, Failed) and state == JobState.CANCELLED:
                        # The cancel did take: nothing was made, so nothing is paid twice by a new attempt.
                        if not self.may_submit:
                            raise JobFailed(f"{self.who} request {self.handle.request_id} was cancelled there "
                                            f"({final.error}): there is nothing to collect; {RUN_AGAIN} to "
                                            "make a new video", request_id=self.handle.request_id)
                        self._record(state=JobState.FAILED, error=scrub(final.error))
                        self._emit(f"{self.who} request {self.handle.request_id} was cancelled there: "
                                   "submitting anew", 0.0)
                        await self._submit(queue)
                        final = await self._guard(self._follow(queue), queue)
                    if isinstance(final, Failed):
                        raise await self._failure(queue, final)
                    result = await self._guard(queue.result(self.handle, final), queue)
                    await self._record_off_loop(state=JobState.COMPLETED, result=result)
                path, facts = None, {}
                if self.kind.is_file:
                    url = module.output_url(result, self.kind.name)
                    self._set_phase("downloading", f"downloading the {self.kind.label}", 0.92)
                    path = await self._guard(self._download().checked(session, url), queue, cancel_remote=False)
                    facts = await asyncio.to_thread(saved_facts, path, url, self.prepared.provider)
                # A result that carried the video itself (Vercel's base64 form) keeps it only until it is on disk:
                # every later read of the journal (cache hits, the jobs panel) would parse megabytes.
                await self._record_off_loop(state=JobState.DOWNLOADED, path=str(path) if path else None,
                                            result=without_inline_media(result) if path else result, **facts)
            except JobFailed as exc:
                self._record(state=JobState.FAILED, error=str(exc))
                raise
        self._set_phase("done", f"done in {time.monotonic() - self.started:.0f} s", 1.0)
        return JobResult(self.handle.request_id, path, result)

    async def _recover(self, queue: Client, record: dict) -> None:
        """A submit whose answer never came: find the job it made, or submit where that cannot pay twice."""
        self.attempt = int(record.get("attempt") or 0)
        # The id of the attempt in flight, not of a new one: that is what the provider knows the job by.
        self.handle = await queue.recover(self.prepared.model, submit_id(self.key, self.attempt))
        if self.handle:
            await self._record_off_loop(state=JobState.SUBMITTED, request_id=self.handle.request_id,
                                        handle_data=self.handle.data)
            self._set_phase("queued", f"found the job of the cut-off submit at {self.who}: "
                                      f"{self.handle.request_id} (no new charge)", 0.02)
        elif registry.info(self.prepared.provider).idempotent_submit and self.may_submit:
            await self._submit(queue, resend=True)
        else:
            raise ProviderError(
                f"an earlier submit of this exact request (journal {self.key[:12]}, {record.get('created')}) was "
                f"cut off before {self.who} answered, so it may have started a paid job we cannot follow. Check "
                "your provider's dashboard; to submit again anyway, raise `take` (the node's input, --take in the CLI).")

    @property
    def who(self) -> str:
        return registry.title(self.prepared.provider)

    async def _submit(self, queue: Client, resend: bool = False) -> None:
        """A new submit attempt; with `resend`, the attempt in flight sent again (only where the provider
        makes that idempotent), which was reserved and logged when it was first sent."""
        if not self.may_submit:
            raise KlingError("Collect never submits: this job has no paid result to collect")
        self._set_phase("submitting", f"submitting to {self.who} ({self.prepared.cost})", 0.0)
        # Uploads (fal's storage) are the one step with I/O; the provider's wire body is a pure function of the rest.
        body = select.get(self.prepared.provider).wire(self.prepared.model, await queue.upload_media(
            self.prepared.body, lambda text: self._emit(text, 0.0)))
        if not resend:
            previous = self.journal.get(self.key) if self.journal and self.key else None
            self.attempt = int((previous or {}).get("attempt") or 0) + 1
        reservation = f"{self.key}:{self.attempt}"
        if self.journal and not resend:
            await self._reserve(reservation)
        # Recorded before sending: a crash from here on leaves a trace instead of a silent double charge.
        self._record(state=JobState.PENDING, provider=self.prepared.provider, endpoint=self.prepared.model,
                     variant=self.variant.key, cost=str(self.prepared.cost), price=self.prepared.cost.usd,
                     created=now_iso(), attempt=self.attempt, request_id=None, handle_data=None, result=None,
                     path=None, error=None, throttled=None)
        settle = self.journal.spend.settle if self.journal and not resend else (lambda rid, spend: None)
        try:
            # The submit is not interruptible half-way: once sent, we must learn its request id.
            self.handle = await queue.submit(self.prepared.model, body, submit_id(self.key, self.attempt))
        except ProviderError as exc:
            if exc.status is not None and exc.status >= 400:
                # The provider refused it: no job exists. A refusal for "too many" is marked, so a batch run
                # again sends it instead of counting it among the failed.
                self._record(state=JobState.FAILED, error=str(exc), throttled=exc.throttled or None)
                settle(reservation, None)
            else:  # the answer was lost: the job may exist and be billed, so the cap keeps counting it
                settle(reservation, self._spend(None))
            raise
        except BaseException:
            settle(reservation, self._spend(None))
            raise
        # The request id and the spend log's line in one step, off the event loop, whatever cancels us now.
        spent = self._spend(self.handle.request_id)
        await self._record_off_loop(state=JobState.SUBMITTED, request_id=self.handle.request_id,
                                    handle_data=self.handle.data, then=lambda: settle(reservation, spent))
        log.info("kling-video: submitted %s as request %s (%s)", self.prepared.model,
                 self.handle.request_id, self.prepared.cost)
        self._set_phase("queued", "queued", 0.02)

    async def _reserve(self, reservation: str) -> None:
        """Reserve the price under the daily cap; while only other jobs' submits in flight stand in the way,
        wait for them (one may be refused and give its share back)."""
        usd = self.prepared.cost.capped_usd or 0.0
        told = False
        while not await asyncio.to_thread(self.journal.spend.try_reserve, reservation, usd, self.variant.display_name):
            if not told:
                told = True
                self._set_phase("waiting", "waiting: another job's submit is in flight and the daily spend cap "
                                           "(KLING_VIDEO_MAX_USD) has room for one of them only", 0.0)
            if self.interrupted():
                raise Interrupted("Interrupted while waiting for the spend cap: nothing was sent")
            await asyncio.sleep(0.2)

    def _spend(self, request_id: Optional[str]) -> dict:
        """The spend log's line for this attempt: what the cap counted, the upper estimate where no price is
        published (so the day's total grows by it, and says so)."""
        c = self.prepared.cost
        entry = {"time": now_iso(), "provider": self.prepared.provider, "endpoint": self.prepared.model,
                 "request_id": request_id, "attempt": self.attempt, "seconds": c.seconds, "price": c.capped_usd,
                 "audio": bool(self.prepared.body.get(self.variant.audio_field)) if self.variant.audio_field else None,
                 "estimate": str(c)}
        if c.usd is None:
            entry["price_known"] = False
            entry["estimate"] = (f"upper estimate ${c.capped_usd or 0:.2f}, counted by the spend cap: no published "
                                 f"price ({c})")
        if request_id is None:
            entry["note"] = "the submit's answer was lost: counted in case the provider accepted it"
        return entry

    def _record(self, **changes) -> None:
        if self.journal and self.key:
            self.journal.update(self.key, **changes)

    async def _record_off_loop(self, then=None, **changes) -> None:
        if self.journal and self.key:
            await self.journal.update_off_loop(self.key, then, **changes)
        elif then is not None:
            then()

    # -- following the job ---------------------------------------------------------------------
    async def _follow(self, queue: Client) -> Completed | Failed:
        """Statuses until the job ends (Completed or Failed)."""
        async for status in queue.statuses(self.handle, self.limits.poll_interval):
            self._on_status(status)
            if isinstance(status, TERMINAL):
                return status
        raise ProviderError(f"{self.who} status ended before the job completed", retryable=True)

    def _on_status(self, status: Status) -> None:
        # fal sends the whole log with every status: each line is said once.
        new = []
        for line in status.logs[self.logs_seen:]:
            message = scrub(line)
            log.info("kling-video [%s]: %s", self.handle.request_id, message)
            new.append(message[:500])
        self.logs_seen = max(self.logs_seen, len(status.logs))
        if isinstance(status, Queued):
            self._set_phase("queued", "queued" if status.position is None else f"queued at position {status.position}",
                            0.02, tuple(new))
        elif isinstance(status, Running):
            if self.phase != "running":
                self._set_phase("running", "running", 0.05, tuple(new))
                new = []
            self._running_update(tuple(new))

    def _running_update(self, log_lines: tuple[str, ...] = ()) -> None:
        elapsed = time.monotonic() - self.phase_since
        typical = self.variant.typical_seconds
        text = f"running {elapsed:.0f} s"
        text += f" (~{max(typical - elapsed, 0):.0f} s left)" if elapsed < typical else " (longer than usual)"
        self._emit(text, 0.05 + 0.85 * min(elapsed / typical, 0.97), log_lines)

    async def _failure(self, queue: Client, final: Failed) -> JobFailed:
        message = final.error + (f" ({final.error_type})" if final.error_type else "")
        try:
            # The result replays the model's error with its details; it will not get better with retries.
            await queue.result(self.handle, final, quick=True)
        except ProviderError as exc:
            message += f"; {exc}"
        return JobFailed(f"Kling job {self.handle.request_id} on {self.who} failed: {message}",
                         request_id=self.handle.request_id)

    # -- interrupt and deadlines ------------------------------------------------------------------
    async def _guard(self, coro: Awaitable, queue: Client, cancel_remote: bool = True):
        """Await `coro`, but give up on interrupt, queue-wait limit or deadline (cancelling the job)."""
        task = asyncio.ensure_future(coro)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=0.1)
                if done:
                    return task.result()
                reason = self._stop_reason()
                if reason:
                    break
                if self.phase == "running":
                    self._running_update()
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        rid = self.handle.request_id
        outcome = f"kept at {self.who} (it was already finished): {RUN_AGAIN} to collect it at no new cost"
        if cancel_remote:
            try:
                word = await queue.cancel(self.handle)
                if word != "ALREADY_COMPLETED":
                    # A cancel is a request the provider may ignore (fal: "the model app decides"): keep the
                    # request id, so the next run asks before it pays again.
                    self._record(state=JobState.CANCELLED, error=reason)
                    outcome = (f"cancel sent to {self.who} ({word}); if {self.who} finishes it anyway, "
                               f"{RUN_AGAIN} to collect it at no new cost")
                else:  # the cancel raced the completion: the paid result is there to collect next time
                    outcome = f"already finished at {self.who}: {RUN_AGAIN} to collect it at no new cost"
            except CancelUnsupported:
                outcome = (f"{self.who} has no cancel, so the job goes on there (and is billed): {RUN_AGAIN} to "
                           "collect it at no new cost")
            except ProviderError as exc:
                outcome = f"cancel failed: {exc}; {RUN_AGAIN} to reattach to it"
        log.warning("kling-video: request %s stopped: %s; %s", rid, reason, outcome)
        if reason == "interrupted":
            raise Interrupted(f"Interrupted: {self.who} request {rid} {outcome}")
        raise ProviderError(f"{reason}: {self.who} request {rid} {outcome}", request_id=rid)

    def _stop_reason(self) -> str:
        now = time.monotonic()
        if self.interrupted():
            return "interrupted"
        if self.phase == "queued" and now - self.phase_since > self.limits.queue_wait:
            return (f"still queued after {self.limits.queue_wait:.0f} s (is your {self.who} balance empty? "
                    "set KLING_VIDEO_QUEUE_TIMEOUT to wait longer)")
        if now - self.started > self.limits.deadline:
            return f"not finished after {self.limits.deadline:.0f} s (KLING_VIDEO_TIMEOUT)"
        return ""

    # -- download --------------------------------------------------------------------------------
    def _download(self) -> Download:
        return Download(self.kind, self.out_dir, self.variant.key, self.handle.request_id, self.who,
                        self.limits.max_download, self._emit)

    # -- progress --------------------------------------------------------------------------------
    def _set_phase(self, phase: str, text: str, fraction: float, log_lines: tuple[str, ...] = ()) -> None:
        self.phase = phase
        self.phase_since = time.monotonic()
        self._emit(text, fraction, log_lines)

    def _emit(self, text: str, fraction: float, log_lines: tuple[str, ...] = ()) -> None:
        rid = self.handle.request_id if self.handle else None
        try:
            self.on_update(Update(self.phase, text, fraction, rid, log_lines))
        except Exception:  # a broken progress display must never lose a paid job
            log.exception("kling-video: progress callback failed")

