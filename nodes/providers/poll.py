"""The one loop that follows a job at any provider: statuses until a terminal one.

A provider gives its single status query, what counts as the end, and (where it has one) its pushed status
stream; the loop knows nothing of any provider's JSON. Each query already retries transient failures itself
(core/http.py's QUERY policy), so the loop only paces the queries.
"""
from __future__ import annotations

import asyncio
import logging
from typing import AsyncIterator, Awaitable, Callable, Optional, TypeVar

from ..core.errors import ProviderError

log = logging.getLogger("kling_video")

S = TypeVar("S")

# The slowest pace of a provider that is only ever polled: its jobs run for minutes, and its status queries
# count against the account's rate limit with everything else.
POLLED_ONLY_EVERY = 2.0


class StreamUnavailable(Exception):
    """The provider's status stream cannot be used at all (not served, wrong content type): poll instead."""


def interval(asked: float, streams: bool) -> float:
    """Seconds between status queries: as asked (Limits.poll_interval) where polling is only the fallback of a
    status stream, at most every POLLED_ONLY_EVERY seconds where polling is all there is."""
    return asked if streams else max(asked, POLLED_ONLY_EVERY)


async def follow(query: Callable[[], Awaitable[S]], finished: Callable[[S], bool], every: float,
                 stream: Optional[Callable[[], AsyncIterator[S]]] = None) -> AsyncIterator[S]:
    """Statuses until `finished(status)`. With a `stream`, it is read (one request notices completion at
    once), reconnected when it breaks, and replaced by polling every `every` seconds when it is unavailable."""
    if stream is None:
        async for status in _poll(query, finished, every):
            yield status
        return
    failures = 0
    while True:
        try:
            async for status in stream():
                failures = 0
                yield status
                if finished(status):
                    return
        except StreamUnavailable as exc:
            log.info("kling-video: status stream unavailable (%s); polling instead", exc)
            async for status in _poll(query, finished, every):
                yield status
            return
        except ProviderError as exc:
            if not exc.retryable:
                raise
            failures += 1
            log.warning("kling-video: %s; reconnecting (%d)", exc, failures)
        # A dropped stream may have missed the terminal event: ask once before reconnecting.
        status = await query()
        yield status
        if finished(status):
            return
        await asyncio.sleep(min(0.2 * 2 ** failures, 5.0))


async def _poll(query: Callable[[], Awaitable[S]], finished: Callable[[S], bool], every: float) -> AsyncIterator[S]:
    while True:
        status = await query()
        yield status
        if finished(status):
            return
        await asyncio.sleep(every)
