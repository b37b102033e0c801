"""fal.ai's queue protocol, spoken directly (DESIGN.md §3, provider_protocols.md §1).

fal-client is not used: its submit retries on connection errors (a lost answer can mean a second paid
job) and it has no status stream. This module knows JSON and HTTP, never torch or ComfyUI.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import AsyncIterator, Optional, Union

import aiohttp

from ..core import http
from ..core.errors import JobFailed, ProviderError
from .contract import TERMINAL, Client, Completed, Failed, Handle, Queued, Running, Status
from .credentials import env_credential, key_rejected, send
from .poll import StreamUnavailable
from .registry import info
from ..media_in.media import Media
from .body_limits import RequestLimits, upload_plan
from .wire_format import url_at, url_or, walk_media

log = logging.getLogger("kling_video")

PROVIDER = info("fal")
# fal documents no size limit for inline (data URI) inputs, but its maintainers report data URIs failing above
# 3 to 10 MB (github.com/fal-ai/fal pull 178: "this does not work for more than 10MB (someone reported 3MB)").
# Uploads are free, so the body stays under the lowest report: a file over 2 MB (a 2.7 MB data URI) is
# uploaded, and more files are uploaded, largest first, while the body would be over 3 MB. The length of a fal
# storage URL (https://v3b.fal.media/files/<bucket>/<id>_<name>), rounded up, plans the uploads.
LIMITS = RequestLimits(body_max=3_000_000, inline_max=2_000_000, uploaded_url_chars=200)


def credentials() -> str:
    return api_key()


def api_key() -> str:
    # FAL_KEY (or FAL_KEY_ID + FAL_KEY_SECRET, keys.from_env) from the environment, else the stored one
    return env_credential(PROVIDER.name, "FAL_KEY")


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
    provider = PROVIDER

    def __init__(self, session: aiohttp.ClientSession, key: Optional[str] = None):
        self.session = session
        self._auth = {"Authorization": f"Key {key or api_key()}"}

    async def _send(self, method: str, url: str, what: str, **kw) -> http.Answer:
        return await send(self.session, PROVIDER.name, method, url, headers=self._auth, what=what, rejected=(401, 403), **kw)

    async def upload_media(self, body: dict, emit) -> dict:
        """Media go inline as data URIs (wire()), or first to fal's storage (upload_plan)."""
        uploads = {}
        for media in upload_plan(body, LIMITS):
            emit(f"uploading {media.name} ({len(media.data) / 1e6:.1f} MB)")
            uploads[media.digest] = await self.upload(media.data, media.mime, media.name)
        return walk_media(body, lambda m: uploads.get(m.digest, m))

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
        return Handle(PROVIDER.name, model, str(request_id))

    async def status(self, handle: Handle, logs: bool = True) -> Status:
        answer = await self._send("GET", f"{_base(handle)}/status", f"fal status of {handle.request_id}",
                                  params={"logs": "1" if logs else "0"})
        return parse_status(answer.data)

    async def stream(self, handle: Handle) -> AsyncIterator[Status]:
        """Statuses from fal's server-sent events until a terminal one: one request notices completion at once.

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
                raise key_rejected(PROVIDER.name, resp.status)
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
                        event = parse_status(json.loads("\n".join(data_lines)))
                        data_lines = []
                        yield event
                        if isinstance(event, TERMINAL):
                            return
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                raise ProviderError(f"fal status stream broke ({exc.__class__.__name__})", retryable=True) from exc
        raise ProviderError("fal status stream closed before COMPLETED", retryable=True)

    async def result(self, handle: Handle, final: Union[Completed, Failed, None] = None, quick: bool = False) -> dict:
        """The model output, fetched (for a failed job too: it replays the model's error with its details).
        `quick`: one attempt."""
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


def parse_status(answer) -> Status:
    """fal's status object (the same in a poll's answer and a stream's event): IN_QUEUE with queue_position,
    IN_PROGRESS, COMPLETED; a failed job is COMPLETED with `error` and `error_type`."""
    state = answer.get("status") if isinstance(answer, dict) else None
    if state not in ("IN_QUEUE", "IN_PROGRESS", "COMPLETED"):
        raise ProviderError(f"fal status: unexpected answer {str(answer)[:300]}", retryable=True)
    logs = tuple(entry.get("message", "") if isinstance(entry, dict) else str(entry)
                 for entry in answer.get("logs") or ())
    if state == "IN_QUEUE":
        return Queued(answer.get("queue_position"), logs)
    if state == "IN_PROGRESS":
        return Running(logs)
    if answer.get("error"):
        return Failed(str(answer["error"]), str(answer.get("error_type") or ""), logs)
    return Completed({}, logs)


def output_url(result: dict, kind: str) -> str:
    """The URL of fal's `{kind: File}` output (video, audio)."""
    url = url_at(result, (kind, "url"))
    if not url:
        raise ProviderError(f"fal result has no {kind} url: {json.dumps(result)[:300]}")
    return url


def wire(model: str, body: dict) -> dict:
    """fal takes the catalog body as is: media not uploaded go inline as data URIs, and a result the pack
    downloaded goes as its provider's URL (fal fetches any https URL for its *_url fields)."""
    return walk_media(body, url_or(Media.data_uri))


def describe(model: str, wire_body: dict) -> tuple[str, str]:
    return f"POST {queue_base()}/{model}", "Authorization: Key $FAL_KEY"


CLIENT = FalQueue
