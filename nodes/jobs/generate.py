"""One run per request: the journal, the lock, the cache.

A request is known by its hash. Its journal record says whether it was already paid for: a finished result
is returned from disk, an unfinished job is reattached, and only a request never sent is submitted. One
process at a time runs a request (a lock file per request); inside a process, equal requests share one run.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Awaitable, Callable, Optional

from ..core import settings
from ..core.errors import Interrupted, KlingError
from ..core.filelock import FileLock
from ..catalog import variant as find_variant
from ..media_out.kinds import KINDS
from ..request import Cost, PreparedRequest
from .download import intact
from .journal import Journal
from .runner import Job, JobResult, Update
from .states import COLLECTABLE, LIVE, JobState


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
    if record and record.get("state") == JobState.DOWNLOADED and record.get("request_id"):
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
    if record and record.get("state") == JobState.DOWNLOADED and record.get("request_id"):
        path = Path(record["path"]) if record.get("path") else None
        if path is None or await asyncio.to_thread(intact, path, KINDS[prepared.variant.output]):
            on_update(Update("done", f"cached result of {record.get('provider', 'fal')} request "
                                     f"{record['request_id']}: no new charge",
                             1.0, record["request_id"]))
            return JobResult(record["request_id"], path, record.get("result") or {})
    resume = record if record and record.get("state") in LIVE else None
    job = Job(prepared, out_dir, journal=journal, key=key, **job_options)
    return await job.run(resume=resume)
