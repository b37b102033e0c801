"""The pack's one HTTP stack: aiohttp (ComfyUI's own server library, so it adds nothing inside ComfyUI).

Providers call `send` with a retry policy; it returns parsed answers or raises ProviderError with a
message a user can act on. Nothing here knows a provider's JSON.
"""
from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import random
import ssl
import time
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Optional

import aiohttp

from .errors import ProviderError, scrub

log = logging.getLogger("kling_video")

USER_AGENT = "comfyui-kling-video/0.1"

# Who hears of a provider's "too many requests" (429, with its Retry-After in seconds or None) while the
# current task sends: a batch slows all its jobs down, instead of each job retrying on its own at full rate.
on_throttle: ContextVar[Optional[Callable[[Optional[float]], None]]] = ContextVar("kling_on_throttle", default=None)


@lru_cache(maxsize=1)
def ssl_context() -> ssl.SSLContext:
    # SSL_CERT_FILE lets users (and our tests) trust a proxy's or a test server's CA.
    cafile = os.environ.get("SSL_CERT_FILE") or None
    if cafile is None:
        try:
            import certifi  # present wherever aiohttp/requests are; the system store may be empty
            cafile = certifi.where()
        except ImportError:
            pass
    return ssl.create_default_context(cafile=cafile)


def new_session(*, total: Optional[float] = None, read: float = 60.0) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=ssl_context(), limit=8),
        timeout=aiohttp.ClientTimeout(total=total, connect=20.0, sock_read=read),
        headers={"User-Agent": USER_AGENT},
    )


@dataclass(frozen=True)
class Retry:
    """How often to retry and on what. `unsent_only` means: only when the request provably created
    nothing at the provider (connection refused, 429, an ingress error without a request id)."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 10.0
    unsent_only: bool = False

    def delay(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), 60.0)
        return min(self.base * 2 ** attempt, self.cap) * random.uniform(0.5, 1.0)


SUBMIT = Retry(attempts=4, unsent_only=True)
QUERY = Retry()
NO_RETRY = Retry(attempts=1)

_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


@dataclass
class Answer:
    status: int
    headers: Any
    data: Any       # parsed JSON, or text when the body is not JSON


def retry_after_seconds(headers) -> Optional[float]:
    value = headers.get("Retry-After") if headers else None
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


def _created_nothing(answer: Answer) -> bool:
    """True when an error answer proves the provider never accepted the request."""
    if answer.status == 429:
        return True
    # An ingress (load balancer) error carries no request id: the queue never saw the request.
    return answer.status in (502, 503, 504) and not answer.headers.get("x-fal-request-id")


async def send(session: aiohttp.ClientSession, method: str, url: str, *, headers: dict,
               json_body: Any = None, body: Optional[bytes] = None, params: Optional[dict] = None,
               retry: Retry = QUERY, what: str = "request", expect_json: bool = True,
               final: Optional[Callable[[Answer], bool]] = None) -> Answer:
    """One logical request; returns a 2xx Answer or raises ProviderError (after retries). With
    `expect_json`, a 2xx whose body is not a JSON object (a proxy's page, a cut-off body) counts as a
    transient failure too. `final(answer)` marks an error answer that no retry can help (a provider's own
    code for "no credits", say), even under a retryable HTTP status."""
    send_headers = dict(headers)
    if json_body is not None:
        body = json.dumps(json_body, separators=(",", ":")).encode()
        send_headers["Content-Type"] = "application/json"
    last: Optional[ProviderError] = None
    for attempt in range(retry.attempts):
        retry_after = None
        try:
            async with session.request(method, url, data=body, params=params, headers=send_headers) as resp:
                text = await resp.text()
                answer = Answer(resp.status, resp.headers, _parse(text))
        except aiohttp.ClientConnectorError as exc:
            # The connection was never made, so nothing was sent: safe to retry even a submit.
            last = ProviderError(f"{what}: cannot connect to {_host(url)} ({exc.__class__.__name__})",
                                 retryable=True)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            last = ProviderError(f"{what}: connection to {_host(url)} failed ({exc.__class__.__name__}: {exc})",
                                 retryable=True)
            if retry.unsent_only:
                # The request may have arrived and created a paid job: never send it twice.
                raise ProviderError(
                    f"{last} after the request was sent; it was not repeated because the provider may "
                    f"have accepted it") from exc
        else:
            if 200 <= answer.status < 300:
                if not expect_json or isinstance(answer.data, dict):
                    return answer
                last = ProviderError(f"{what}: HTTP {answer.status} with a malformed answer: "
                                     f"{scrub(str(answer.data))[:200]!r}", status=answer.status, retryable=True)
                if retry.unsent_only:  # the provider accepted something: never send it twice
                    raise ProviderError(f"{last}; the request was not repeated because the provider may have "
                                        "accepted it", status=answer.status)
            else:
                last = error_from_answer(answer, what)
                if final is not None and final(answer):
                    raise last
                if answer.status == 429:
                    last.throttled = True
                    listener = on_throttle.get()
                    if listener is not None:
                        listener(retry_after_seconds(answer.headers))
                if answer.status not in _RETRY_STATUS or (retry.unsent_only and not _created_nothing(answer)):
                    raise last
            retry_after = retry_after_seconds(answer.headers)
        if attempt + 1 < retry.attempts:
            wait = retry.delay(attempt, retry_after)
            log.warning("kling-video: %s; retrying in %.1f s (%d/%d)", last, wait, attempt + 1, retry.attempts - 1)
            await asyncio.sleep(wait)
    assert last is not None
    raise last


def _parse(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def _host(url: str) -> str:
    return url.split("/")[2] if "://" in url else url


def describe_detail(detail: Any) -> str:
    """fal's `detail` is a string or a list of {loc, msg, type}: name each field and its message."""
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = [str(x) for x in item.get("loc", []) if x != "body"]
                where = ".".join(loc) or "request"
                parts.append(f"{where}: {item.get('msg', item.get('type', 'invalid'))}")
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)


def error_from_answer(answer: Answer, what: str) -> ProviderError:
    data = answer.data
    detail = data.get("detail", data) if isinstance(data, dict) else (data or "")
    message = describe_detail(detail)
    if isinstance(message, str) and message.lstrip().startswith("<"):
        message = "(an HTML error page)"
    error = ProviderError(f"{what}: HTTP {answer.status}: {scrub(message)[:600]}", status=answer.status,
                          request_id=answer.headers.get("x-fal-request-id"),
                          retryable=answer.status in _RETRY_STATUS)
    error.body = data  # providers read their own error codes from it
    return error
