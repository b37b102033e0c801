"""One paid generation, start to file: submit once → follow status → result → download.

It reports progress through a callback, watches for the user's interrupt (then cancels the remote job)
and enforces a queue-wait limit and an overall deadline. No ComfyUI and no torch here.

Money rules kept here: every submit attempt has its own id at the provider (Kling's external_task_id and
Vercel's idempotency key must not be reused for a new attempt); under a spend cap the price is reserved
before the submit, atomically with the check; a cancelled job keeps its request id, since the provider may
ignore the cancel and finish (and bill) it; one request runs in one process at a time (a lock file per
request), the others wait for its result.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable, Optional

import aiohttp

from ..core import http, settings
from .. import providers
from ..core.errors import Interrupted, JobFailed, KlingError, ProviderError, scrub
from ..core.filelock import FileLock
from ..providers.base import CancelUnsupported, Client, Handle
from .journal import LIVE, Journal, now_iso
from ..media_out.probe import MediaError, probe_audio, probe_video
from ..catalog import variant as find_variant
from ..request import Cost, PreparedRequest

log = logging.getLogger("kling_video")

MB = 1024 * 1024


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
        module = providers.get(self.prepared.provider)
        credentials = module.credentials()  # a missing key is reported before anything is sent
        self.started = time.monotonic()
        state = resume.get("state") if resume else None
        async with http.new_session() as session:
            queue = module.CLIENT(session, credentials)
            if state == "pending":
                await self._recover(queue, resume)
            elif resume and resume.get("request_id"):
                self.attempt = int(resume.get("attempt") or 0)
                self.handle = Handle(self.prepared.provider, self.prepared.model, resume["request_id"],
                                     resume.get("handle_data") or {})
                self._set_phase("queued", (f"asking {self.who} about request {self.handle.request_id}, cancelled "
                                           "earlier: it may have finished anyway" if state == "cancelled" else
                                           f"reattached to {self.who} request {self.handle.request_id}")
                                + " (no new charge)", 0.02)
            else:
                await self._submit(queue)
            try:
                result = resume.get("result") if state in ("completed", "downloaded") else None
                if result is None:
                    final = await self._guard(self._follow(queue), queue)
                    if final.get("error") and state == "cancelled":
                        # The cancel did take: nothing was made, so nothing is paid twice by a new attempt.
                        if not self.may_submit:
                            raise JobFailed(f"{self.who} request {self.handle.request_id} was cancelled there "
                                            f"({final['error']}): there is nothing to collect; {RUN_AGAIN} to "
                                            "make a new video", request_id=self.handle.request_id)
                        self._record(state="failed", error=scrub(str(final["error"])))
                        self._emit(f"{self.who} request {self.handle.request_id} was cancelled there: "
                                   "submitting anew", 0.0)
                        await self._submit(queue)
                        final = await self._guard(self._follow(queue), queue)
                    if final.get("error"):
                        raise await self._failure(queue, final)
                    result = await self._guard(queue.result(self.handle, final), queue)
                    self._record(state="completed", result=result)
                path = None
                if self.variant.output in ("video", "audio"):
                    url = queue.video_url(result) if self.variant.output == "video" else queue.audio_url(result)
                    self._set_phase("downloading", f"downloading the {self.variant.output}", 0.92)
                    path = await self._guard(self._download_checked(session, url), queue, cancel_remote=False)
                # A result that carried the video itself (Vercel's base64 form) keeps it only until it is on disk:
                # every later read of the journal (cache hits, the jobs panel) would parse megabytes.
                self._record(state="downloaded", path=str(path) if path else None,
                             result=_without_inline_media(result) if path else result)
            except JobFailed as exc:
                self._record(state="failed", error=str(exc))
                raise
        self._set_phase("done", f"done in {time.monotonic() - self.started:.0f} s", 1.0)
        return JobResult(self.handle.request_id, path, result)

    async def _recover(self, queue: Client, record: dict) -> None:
        """A submit whose answer never came: find the job it made, or submit where that cannot pay twice."""
        self.attempt = int(record.get("attempt") or 0)
        # The id of the attempt in flight, not of a new one: that is what the provider knows the job by.
        self.handle = await queue.recover(self.prepared.model, submit_id(self.key, self.attempt))
        if self.handle:
            self._record(state="submitted", request_id=self.handle.request_id, handle_data=self.handle.data)
            self._set_phase("queued", f"found the job of the cut-off submit at {self.who}: "
                                      f"{self.handle.request_id} (no new charge)", 0.02)
        elif queue.idempotent_submit and self.may_submit:
            await self._submit(queue, resend=True)
        else:
            raise ProviderError(
                f"an earlier submit of this exact request (journal {self.key[:12]}, {record.get('created')}) was "
                f"cut off before {self.who} answered, so it may have started a paid job we cannot follow. Check "
                "your provider's dashboard; to submit again anyway, raise `take` (the node's input, --take in the CLI).")

    @property
    def who(self) -> str:
        return providers.get(self.prepared.provider).TITLE

    async def _submit(self, queue: Client, resend: bool = False) -> None:
        """A new submit attempt; with `resend`, the attempt in flight sent again (only where the provider
        makes that idempotent), which was reserved and logged when it was first sent."""
        if not self.may_submit:
            raise KlingError("Collect never submits: this job has no paid result to collect")
        self._set_phase("submitting", f"submitting to {self.who} ({self.prepared.cost})", 0.0)
        body = await queue.wire(self.prepared.model, self.prepared.body, lambda text: self._emit(text, 0.0))
        if not resend:
            previous = self.journal.get(self.key) if self.journal and self.key else None
            self.attempt = int((previous or {}).get("attempt") or 0) + 1
        reservation = f"{self.key}:{self.attempt}"
        if self.journal and not resend:
            await self._reserve(reservation)
        # Recorded before sending: a crash from here on leaves a trace instead of a silent double charge.
        self._record(state="pending", provider=self.prepared.provider, endpoint=self.prepared.model,
                     variant=self.variant.key, cost=str(self.prepared.cost), price=self.prepared.cost.usd,
                     created=now_iso(), attempt=self.attempt, request_id=None, handle_data=None, result=None,
                     path=None, error=None)
        settle = self.journal.settle if self.journal and not resend else (lambda rid, spend: None)
        try:
            # The submit is not interruptible half-way: once sent, we must learn its request id.
            self.handle = await queue.submit(self.prepared.model, body, submit_id(self.key, self.attempt))
        except ProviderError as exc:
            if exc.status is not None and exc.status >= 400:
                self._record(state="failed", error=str(exc))  # the provider refused it: no job exists
                settle(reservation, None)
            else:  # the answer was lost: the job may exist and be billed, so the cap keeps counting it
                settle(reservation, self._spend(None))
            raise
        except BaseException:
            settle(reservation, self._spend(None))
            raise
        self._record(state="submitted", request_id=self.handle.request_id, handle_data=self.handle.data)
        settle(reservation, self._spend(self.handle.request_id))
        log.info("kling-video: submitted %s as request %s (%s)", self.prepared.model,
                 self.handle.request_id, self.prepared.cost)
        self._set_phase("queued", "queued", 0.02)

    async def _reserve(self, reservation: str) -> None:
        """Reserve the price under the daily cap; while only other jobs' submits in flight stand in the way,
        wait for them (one may be refused and give its share back)."""
        usd = self.prepared.cost.capped_usd or 0.0
        told = False
        while not await asyncio.to_thread(self.journal.try_reserve, reservation, usd, self.variant.display_name):
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

    async def _download_checked(self, session: aiohttp.ClientSession, url: str) -> Path:
        """Download, then make sure the MP4 is whole and decodes; a damaged one is fetched once more."""
        problem = None
        for attempt in (1, 2):
            path = await self._download(session, url)
            try:
                await asyncio.to_thread(probe_video if self.variant.output == "video" else probe_audio, path)
                return path
            except MediaError as exc:
                problem = exc
                damaged = path.with_name(path.name + ".damaged")
                os.replace(path, damaged)
                log.warning("kling-video: %s (attempt %d); kept as %s", exc, attempt, damaged.name)
        raise ProviderError(f"the video of {self.who} request {self.handle.request_id} arrived damaged twice "
                            f"({problem}); it stays at the provider for a while: {url}",
                            request_id=self.handle.request_id)

    # -- following the job ---------------------------------------------------------------------
    async def _follow(self, queue: Client) -> dict:
        """Status objects until COMPLETED (each provider normalises its own states to fal's)."""
        async for status in queue.statuses(self.handle, self.limits.poll_interval):
            self._on_status(status)
            if status["status"] == "COMPLETED":
                return status
        raise ProviderError(f"{self.who} status ended before the job completed", retryable=True)

    def _on_status(self, status: dict) -> None:
        state = status["status"]
        # fal sends the whole log list with every event: each line is said once.
        new = []
        for entry in (status.get("logs") or [])[self.logs_seen:]:
            message = scrub(entry.get("message", "") if isinstance(entry, dict) else str(entry))
            log.info("kling-video [%s]: %s", self.handle.request_id, message)
            new.append(message[:500])
        if status.get("logs"):
            self.logs_seen = max(self.logs_seen, len(status["logs"]))
        if state == "IN_QUEUE":
            position = status.get("queue_position")
            self._set_phase("queued", f"queued at position {position}" if position is not None else "queued", 0.02,
                            tuple(new))
        elif state == "IN_PROGRESS":
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

    async def _failure(self, queue: Client, final: dict) -> JobFailed:
        message = f"{final.get('error')}" + (f" ({final['error_type']})" if final.get("error_type") else "")
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
                    self._record(state="cancelled", error=reason)
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
    def _destination(self, suffix: str) -> tuple[Path, Path]:
        """The result's file name, and a temporary name no other process or job can be writing."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        rid = re.sub(r"[^\w.-]+", "_", self.handle.request_id)[:80]  # AI/ML API ids carry ':model/name'
        final = self.out_dir / f"{stamp}_{self.variant.key}_{rid}{suffix}"
        return final, final.with_name(f"{final.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")

    def _save_inline(self, url: str) -> Path:
        """A result the provider sent inside its answer (Vercel's base64 form) as a data: URI."""
        header, _, payload = url.partition(",")
        try:
            data = base64.b64decode(payload, validate=True) if header.endswith(";base64") else payload.encode()
        except (binascii.Error, ValueError):
            raise ProviderError(f"the {self.variant.output} of request {self.handle.request_id} is not valid "
                                "base64", retryable=True) from None
        if len(data) > self.limits.max_download:
            raise ProviderError(f"the video is {len(data) / MB:.0f} MB, over the {self.limits.max_download / MB:.0f} "
                                "MB cap (KLING_VIDEO_MAX_DOWNLOAD_MB)")
        final, part = self._destination(".mp4" if self.variant.output == "video" else ".mp3")
        part.write_bytes(data)
        os.replace(part, final)
        return final

    async def _download(self, session: aiohttp.ClientSession, url: str) -> Path:
        if url.startswith("data:"):
            return await asyncio.to_thread(self._save_inline, url)
        if not url.startswith("https://"):
            raise ProviderError(f"refusing to download a result that is not https: {url[:120]}")
        final, part = self._destination(".mp4" if self.variant.output == "video"
                                        else (Path(url.split("?")[0]).suffix or ".mp3"))
        have = 0
        part.write_bytes(b"")
        for attempt in range(4):
            headers = {"Range": f"bytes={have}-"} if have else {}
            try:
                async with session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(
                        total=None, connect=20, sock_read=60)) as resp:
                    if resp.status not in (200, 206):
                        raise ProviderError(f"download of the video: HTTP {resp.status}", status=resp.status,
                                            retryable=resp.status >= 500 or resp.status == 429)
                    if resp.status == 200 and have:
                        have = 0  # the server ignored our Range: start over
                    total = resp.content_length + have if resp.content_length is not None else None
                    if total is not None and total > self.limits.max_download:
                        raise ProviderError(f"the video is {total / MB:.0f} MB, over the "
                                            f"{self.limits.max_download / MB:.0f} MB cap (KLING_VIDEO_MAX_DOWNLOAD_MB)")
                    with open(part, "r+b" if have else "wb") as out:
                        out.seek(have)
                        out.truncate()
                        async for chunk in resp.content.iter_chunked(MB):
                            have += len(chunk)
                            if have > self.limits.max_download:
                                raise ProviderError(f"the video exceeds the {self.limits.max_download / MB:.0f} MB "
                                                    "cap (KLING_VIDEO_MAX_DOWNLOAD_MB)")
                            out.write(chunk)
                            if total:
                                self._emit(f"downloading {have / MB:.1f} / {total / MB:.1f} MB", 0.92 + 0.08 * have / total)
                    if total is None or have >= total:
                        os.replace(part, final)
                        return final
                    raise ProviderError("download ended early", retryable=True)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                error = ProviderError(f"download broke ({exc.__class__.__name__})", retryable=True)
            except ProviderError as exc:
                if not exc.retryable:
                    raise
                error = exc
            log.warning("kling-video: %s; resuming at byte %d", error, have)
            await asyncio.sleep(0.5 * 2 ** attempt)
        part.unlink(missing_ok=True)
        raise ProviderError(f"could not download the video of request {self.handle.request_id}: {error}; "
                            f"the result stays at {self.who} for a while: {url}", request_id=self.handle.request_id)

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


def request_hash(prepared: PreparedRequest, take: int = 0) -> str:
    """Canonical hash of (provider, endpoint, body, take); media count by their content's digest."""
    canonical = json.dumps([prepared.provider, prepared.model, prepared.body, take], sort_keys=True,
                           separators=(",", ":"), default=lambda m: f"sha256:{m.digest}")
    return hashlib.sha256(canonical.encode()).hexdigest()


async def generate(prepare_fn, out_dir: Path, *, take: int = 0, journal: Optional[Journal] = None,
                   **job_options) -> tuple[PreparedRequest, JobResult]:
    """Check and encode the inputs (off the event loop: encoding takes tens of ms), then return the
    journal's finished result of the identical request, reattach to its unfinished job, or run a new one.

    `prepare_fn` returns the PreparedRequest; any InputError it raises leaves before a byte is sent.
    `take` > 0 asks for a new take of otherwise identical inputs (each take is its own cached result)."""
    settings.check_all()
    prepared = await asyncio.to_thread(prepare_fn)
    journal = journal or Journal()
    key = request_hash(prepared, take)
    return prepared, await _once(key, lambda: _exclusive(journal, key, job_options, lambda: _generate(
        prepared, out_dir, journal, key, job_options)))


# Journal states whose request id leads to a paid result that was never saved: collectable without a submit
# ("cancelled": the provider may have finished it anyway; Collect asks).
COLLECTABLE = ("submitted", "completed", "cancelled")


def collectable(record: Optional[dict]) -> bool:
    return bool(record) and record.get("state") in COLLECTABLE and bool(record.get("request_id"))


async def collect(key: str, out_dir: Path, *, journal: Optional[Journal] = None, **job_options) -> JobResult:
    """Finish a paid job from its journal record alone (the jobs panel's Collect): reattach to its request id,
    follow it, download. Never submits: the record keeps no inputs, only what following the request needs."""
    settings.check_all()
    journal = journal or Journal()
    record = journal.get(key)
    if not collectable(record):
        state = record.get("state") if record else "no such entry"
        raise KlingError(f"journal entry {key[:12]} has no paid result to collect ({state})")
    try:
        v = find_variant(str(record.get("variant", "")))
    except KeyError as exc:  # a variant this version of the pack no longer has
        raise KlingError(f"journal entry {key[:12]}: {exc.args[0]}") from None
    prepared = PreparedRequest(v, {}, Cost(None, None, record.get("price"), "journal"),
                               provider=record.get("provider", "fal"), model=record.get("endpoint", ""))
    return await _once(key, lambda: _exclusive(journal, key, job_options, lambda: _collect(
        prepared, out_dir, journal, key, job_options)))


async def _collect(prepared: PreparedRequest, out_dir: Path, journal: Journal, key: str,
                   job_options: dict) -> JobResult:
    record = journal.get(key)  # again: another process may have finished it while we waited
    if record and record.get("state") == "downloaded" and record.get("request_id"):
        return await _generate(prepared, out_dir, journal, key, job_options)
    if not collectable(record):
        raise KlingError(f"journal entry {key[:12]} has no paid result to collect "
                         f"({record.get('state') if record else 'no such entry'})")
    return await Job(prepared, out_dir, journal=journal, key=key, may_submit=False, **job_options).run(resume=record)


async def _exclusive(journal: Journal, key: str, job_options: dict,
                     start: Callable[[], Awaitable[JobResult]]) -> JobResult:
    """Run `start` holding the request's lock file: a second process with the same request (the CLI beside
    ComfyUI, two CLI runs) waits, then finds the first one's result in the journal instead of paying again.
    The OS frees the lock of a killed process, so the next run reattaches to its job."""
    on_update = job_options.get("on_update") or (lambda u: None)
    lock = FileLock(journal.jobs / f"{key}.lock")
    got = await lock.acquire_async(
        on_wait=lambda: on_update(Update("waiting", "another process (ComfyUI or the CLI) is running this same "
                                                    "request: waiting for its result (no new charge)", 0.01)),
        should_stop=job_options.get("interrupted") or (lambda: False))
    if not got:
        raise Interrupted("Interrupted while another process was running the same request; nothing was sent")
    try:
        return await start()
    finally:
        lock.release()


def running_keys() -> set[str]:
    """Request hashes of the jobs this process is running right now (callable from a worker thread: the
    dict is copied in one step before it is read)."""
    return {key for key, task in list(_running.items()) if not task.done()}


async def _once(key: str, start: Callable[[], Awaitable[JobResult]]) -> JobResult:
    running = _running.get(key)
    if running is not None and not running.done() and running.get_loop() is asyncio.get_running_loop():
        # The identical request is already running in this process (two equal nodes, or a node and the
        # jobs panel's Collect): share it.
        return await asyncio.shield(running)
    task = asyncio.ensure_future(start())
    _running[key] = task
    try:
        return await asyncio.shield(task)
    finally:
        if task.done() and _running.get(key) is task:
            del _running[key]


# Jobs running in this process, by request hash.
_running: dict[str, asyncio.Future] = {}


async def _generate(prepared: PreparedRequest, out_dir: Path, journal: Journal, key: str,
                    job_options: dict) -> JobResult:
    record = journal.get(key)
    on_update = job_options.get("on_update") or (lambda u: None)
    if record and record.get("state") == "downloaded" and record.get("request_id"):
        path = Path(record["path"]) if record.get("path") else None
        if path is None or await asyncio.to_thread(_intact, path):
            on_update(Update("done", f"cached result of {record.get('provider', 'fal')} request "
                                     f"{record['request_id']}: no new charge",
                             1.0, record["request_id"]))
            return JobResult(record["request_id"], path, record.get("result") or {})
    resume = record if record and record.get("state") in LIVE else None
    job = Job(prepared, out_dir, journal=journal, key=key, **job_options)
    return await job.run(resume=resume)


INLINE_KEEP = 4096  # characters of an answer's string kept in the journal once its file is saved


def _without_inline_media(value):
    """`value` with long strings (base64 video data) replaced by their length."""
    if isinstance(value, (dict, list)) and len(value) > INLINE_KEEP and \
            all(isinstance(v, int) for v in (value.values() if isinstance(value, dict) else value)):
        return f"<{len(value)} bytes, saved to the file>"  # a byte array as JSON: a list, or keyed by index
    if isinstance(value, dict):
        return {k: _without_inline_media(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_inline_media(v) for v in value]
    if isinstance(value, str) and len(value) > INLINE_KEEP:
        return f"<{len(value)} characters, saved to the file>"
    return value


def _intact(path: Path) -> bool:
    try:
        (probe_video if path.suffix == ".mp4" else probe_audio)(path)
        return True
    except (MediaError, OSError):
        return False
