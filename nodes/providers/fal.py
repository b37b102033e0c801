"""fal.ai's queue protocol, spoken directly (DESIGN.md §3, provider_protocols.md §1).

fal-client is not used: its submit retries on connection errors (a lost answer can mean a second paid
job) and it has no status stream. This module knows JSON and HTTP, never torch or ComfyUI.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from collections import Counter
from typing import AsyncIterator, Optional

import aiohttp

from ..core import http
from ..core.errors import JobFailed, ProviderError
from ..media_in.encode import Media
from .base import Client, Handle, env_credential, walk_media
from .body_limits import RequestLimits, body_bytes, files_of

log = logging.getLogger("kling_video")

NAME = "fal"
TITLE = "fal.ai"
ENV = ("FAL_KEY",)
KEY_HELP = ("Create a key at https://fal.ai/dashboard/keys and set it as the FAL_KEY environment variable "
            "(export FAL_KEY=... before starting ComfyUI).")
# fal documents no size limit for inline (data URI) inputs, but its maintainers report data URIs failing above
# 3 to 10 MB (github.com/fal-ai/fal pull 178: "this does not work for more than 10MB (someone reported 3MB)").
# Uploads are free, so the body stays under the lowest report: a file over 2 MB (a 2.7 MB data URI) is
# uploaded, and more files are uploaded, largest first, while the body would be over 3 MB.
LIMITS = RequestLimits(body_max=3_000_000, inline_max=2_000_000)
# The length of a fal storage URL (https://v3b.fal.media/files/<bucket>/<id>_<name>), rounded up, for
# planning before anything is uploaded.
UPLOADED_URL_CHARS = 200


def credentials() -> str:
    return api_key()


def api_key() -> str:
    # FAL_KEY (or FAL_KEY_ID + FAL_KEY_SECRET, keys.from_env) from the environment, else the stored one
    return env_credential("FAL_KEY", TITLE, KEY_HELP)


def queue_base() -> str:
    run_host = os.environ.get("FAL_RUN_HOST", "").strip() or "fal.run"
    queue_host = os.environ.get("FAL_QUEUE_RUN_HOST", "").strip() or f"queue.{run_host}"
    return f"https://{queue_host}"


def rest_base() -> str:
    return f"https://{os.environ.get('FAL_REST_HOST', '').strip() or 'rest.fal.ai'}"


def app_path(endpoint: str) -> str:
    """Status, result and cancel live under owner/alias only: fal-ai/kling-video, not the full path."""
    return "/".join(endpoint.split("/")[:2])


def _base(handle: Handle) -> str:
    return f"{queue_base()}/{app_path(handle.model)}/requests/{handle.request_id}"


class FalQueue(Client):
    name = NAME

    def __init__(self, session: aiohttp.ClientSession, key: Optional[str] = None):
        self.session = session
        self._auth = {"Authorization": f"Key {key or api_key()}"}

    async def wire(self, model: str, body: dict, emit) -> dict:
        """fal takes the body as is; media go inline as data URIs, or through fal's storage (upload_plan)."""
        uploads = {}
        for media in upload_plan(body):
            emit(f"uploading {media.name} ({len(media.data) / 1e6:.1f} MB)")
            uploads[media.digest] = await self.upload(media.data, media.mime, media.name)
        return walk_media(body, lambda m: uploads.get(m.digest) or m.data_uri())

    async def _send(self, method: str, url: str, what: str, **kw) -> http.Answer:
        try:
            return await http.send(self.session, method, url, headers=self._auth, what=what, **kw)
        except ProviderError as exc:
            if exc.status in (401, 403):
                raise ProviderError(f"fal.ai rejected the key (HTTP {exc.status}): {exc}. {KEY_HELP}",
                                    status=exc.status) from None
            raise

    async def upload(self, data: bytes, mime: str, name: str) -> str:
        """Put a file on fal's CDN (the protocol of fal_client.upload) and return its URL. Uploads cost
        nothing, so they are retried like any query."""
        token = await self._send("POST", f"{rest_base()}/storage/auth/token", "fal storage token",
                                 params={"storage_type": "fal-cdn-v3"}, json_body={})
        grant = token.data if isinstance(token.data, dict) else {}
        base = str(grant.get("base_url", ""))
        if not base.startswith("https://") or not grant.get("token"):
            raise ProviderError(f"fal storage token: unexpected answer {str(token.data)[:200]}")
        headers = {"Authorization": f"{grant.get('token_type', 'Bearer')} {grant['token']}",
                   "Content-Type": mime, "X-Fal-File-Name": name}
        answer = await http.send(self.session, "POST", f"{base.rstrip('/')}/files/upload", headers=headers,
                                 body=data, what=f"fal upload of {name}")
        url = answer.data.get("access_url") if isinstance(answer.data, dict) else None
        if not url:
            raise ProviderError(f"fal upload of {name}: no access_url in {str(answer.data)[:200]}")
        return str(url)

    async def submit(self, model: str, wire_body: dict, key: str = "") -> Handle:
        answer = await self._send("POST", f"{queue_base()}/{model}", f"fal submit to {model}",
                                  json_body=wire_body, retry=http.SUBMIT)
        request_id = answer.data.get("request_id")
        if not request_id:
            raise ProviderError(f"fal submit to {model}: the answer has no request_id: {str(answer.data)[:300]}")
        return Handle(NAME, model, str(request_id))

    async def status(self, handle: Handle, logs: bool = True) -> dict:
        answer = await self._send("GET", f"{_base(handle)}/status", f"fal status of {handle.request_id}",
                                  params={"logs": "1" if logs else "0"})
        return _status_object(answer.data)

    async def statuses(self, handle: Handle, poll_interval: float):
        """The SSE stream notices completion at once with a single request; polling (at most once a
        second) is the fallback when the stream is unavailable."""
        failures = 0
        while True:
            try:
                async for status in self.stream(handle):
                    failures = 0
                    yield status
                    if status["status"] == "COMPLETED":
                        return
            except StreamUnavailable as exc:
                log.info("kling-video: status stream unavailable (%s); polling instead", exc)
                while True:
                    status = await self.status(handle)
                    yield status
                    if status["status"] == "COMPLETED":
                        return
                    await asyncio.sleep(poll_interval)
            except ProviderError as exc:
                if not exc.retryable:
                    raise
                failures += 1
                log.warning("kling-video: %s; reconnecting (%d)", exc, failures)
            # A dropped stream may have missed the COMPLETED event: ask once before reconnecting.
            status = await self.status(handle)
            yield status
            if status["status"] == "COMPLETED":
                return
            await asyncio.sleep(min(0.2 * 2 ** failures, 5.0))

    async def stream(self, handle: Handle) -> AsyncIterator[dict]:
        """Status objects from fal's server-sent events until COMPLETED.

        Raises StreamUnavailable when the stream cannot be used at all (the caller polls instead) and
        ProviderError on a broken connection (the caller reconnects)."""
        url = f"{_base(handle)}/status/stream"
        headers = {**self._auth, "Accept": "text/event-stream"}
        try:
            resp = await self.session.get(url, params={"logs": "1"}, headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=None, connect=20, sock_read=45))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise ProviderError(f"fal status stream: {exc.__class__.__name__}", retryable=True) from exc
        async with resp:
            if resp.status in (401, 403):
                raise ProviderError(f"fal.ai rejected the key (HTTP {resp.status}). {KEY_HELP}", status=resp.status)
            if resp.status in (404, 405, 501) or not resp.headers.get("Content-Type", "").startswith("text/event-stream"):
                raise StreamUnavailable(f"HTTP {resp.status} {resp.headers.get('Content-Type', '')}")
            if resp.status >= 300:
                raise ProviderError(f"fal status stream: HTTP {resp.status}", status=resp.status, retryable=True)
            data_lines: list[str] = []
            try:
                async for raw in resp.content:
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    if line.startswith("data:"):
                        data_lines.append(line[5:].lstrip())
                    elif not line and data_lines:
                        event = _status_object(json.loads("\n".join(data_lines)))
                        data_lines = []
                        yield event
                        if event["status"] == "COMPLETED":
                            return
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                raise ProviderError(f"fal status stream broke ({exc.__class__.__name__})", retryable=True) from exc
        raise ProviderError("fal status stream closed before COMPLETED", retryable=True)

    async def result(self, handle: Handle, final: Optional[dict] = None, quick: bool = False) -> dict:
        """The model output. `quick`: one attempt (a failed job's result only replays its error)."""
        retry = http.NO_RETRY if quick else http.QUERY
        try:
            answer = await self._send("GET", _base(handle), f"fal result of {handle.request_id}", retry=retry)
        except ProviderError as exc:
            if exc.status is not None and not exc.retryable:  # the job ended in an error: no retry helps
                raise JobFailed(f"{exc}", status=exc.status, request_id=handle.request_id) from None
            raise
        if not isinstance(answer.data, dict):
            raise ProviderError(f"fal result of {handle.request_id} is not JSON: {str(answer.data)[:200]}")
        return answer.data

    def video_url(self, result: dict) -> str:
        return file_url(result, "video")

    def audio_url(self, result: dict) -> str:
        return file_url(result, "audio")

    async def cancel(self, handle: Handle) -> str:
        """Ask fal to cancel; returns fal's status word. Never raises for an already finished job."""
        try:
            answer = await self._send("PUT", f"{_base(handle)}/cancel", f"fal cancel of {handle.request_id}",
                                      retry=http.Retry(attempts=3, base=0.3, cap=2.0))
        except ProviderError as exc:
            if exc.status in (400, 404):
                return "ALREADY_COMPLETED" if exc.status == 400 else "NOT_FOUND"
            raise
        data = answer.data if isinstance(answer.data, dict) else {}
        return str(data.get("status", "CANCELLATION_REQUESTED"))


class StreamUnavailable(Exception):
    pass


def _status_object(data) -> dict:
    if not isinstance(data, dict) or data.get("status") not in ("IN_QUEUE", "IN_PROGRESS", "COMPLETED"):
        raise ProviderError(f"fal status: unexpected answer {str(data)[:300]}", retryable=True)
    return data


def file_url(result: dict, kind: str) -> str:
    """The URL of fal's `{kind: File}` output (video, audio)."""
    file = result.get(kind)
    url = file.get("url") if isinstance(file, dict) else None
    if not url:
        raise ProviderError(f"fal result has no {kind} url: {json.dumps(result)[:300]}")
    return url


def upload_plan(body: dict) -> list[Media]:
    """The files wire() uploads before submitting (the dry run shows the same): every file over the inline
    threshold, then the largest of the others while the body would still be over LIMITS.body_max."""
    files = files_of(body)  # largest first
    threshold = LIMITS.inline_threshold()
    planned = [m for m in files if len(m.data) > threshold]
    inline = [m for m in files if len(m.data) <= threshold]
    # The body's size from its parts, not by encoding it once per candidate: the rest of the body, plus each
    # file as often as it occurs, as a data URI or as the URL of its upload.
    occurs: Counter = Counter()

    def blank(media: Media) -> str:
        occurs[media.digest] += 1
        return ""

    rest = body_bytes(walk_media(body, blank))

    def size() -> int:
        uploaded = {m.digest for m in planned}
        return rest + sum(occurs[m.digest] * (UPLOADED_URL_CHARS if m.digest in uploaded else _data_uri_chars(m))
                          for m in files)

    while inline and size() > LIMITS.body_max:
        planned.append(inline.pop(0))
    return planned


def _data_uri_chars(media: Media) -> int:
    return len(f"data:{media.mime};base64,") + 4 * -(-len(media.data) // 3)


def describe(model: str, wire_body: dict) -> tuple[str, str]:
    return f"POST {queue_base()}/{model}", "Authorization: Key $FAL_KEY"


CLIENT = FalQueue
