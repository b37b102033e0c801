"""Saving a finished job's result file: resumable download (or the inline data: form), size cap, and a check
that the file is whole and decodes, else it is fetched once more."""
from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import aiohttp

from ..core.errors import ProviderError
from ..media_out.kinds import OutputKind
from ..media_out.probe import MediaError

log = logging.getLogger("kling_video")

MB = 1024 * 1024
INLINE_KEEP = 4096  # characters of an answer's string kept in the journal once its file is saved
# How long a provider's result URL keeps serving the file, where the provider states it (seconds). fal's CDN
# keeps outputs as the account's storage settings say (docs.fal.ai "Data Retention & Storage": "Configurable"),
# AI/ML API and Vercel state nothing: their URLs are trusted for a day only, so that an account which expires
# its files sooner costs a re-upload, not a failed paid hop.
URL_LIFETIME = {
    "kling": 30 * 86400,  # Kling's API: "videos will be cleared 30 days after generation" (video-extend page)
}
UNSTATED_URL_LIFETIME = 86400


@dataclass(frozen=True)
class Download:
    """Where one job's result goes and what it may be: `emit(text, fraction)` reports progress."""

    kind: OutputKind
    out_dir: Path
    variant_key: str
    request_id: str
    who: str                      # the provider's title, for messages
    max_bytes: int
    emit: Callable[[str, float], None]

    async def checked(self, session: aiohttp.ClientSession, url: str) -> Path:
        """Download, then make sure the file is whole and decodes; a damaged one is fetched once more."""
        problem = None
        for attempt in (1, 2):
            path = await self.fetch(session, url)
            try:
                await asyncio.to_thread(self.kind.probe, path)
                return path
            except MediaError as exc:
                problem = exc
                damaged = path.with_name(path.name + ".damaged")
                os.replace(path, damaged)
                log.warning("kling-video: %s (attempt %d); kept as %s", exc, attempt, damaged.name)
        raise ProviderError(f"the video of {self.who} request {self.request_id} arrived damaged twice "
                            f"({problem}); it stays at the provider for a while: {url}",
                            request_id=self.request_id)

    def destination(self, suffix: str) -> tuple[Path, Path]:
        """The result's file name, and a temporary name no other process or job can be writing."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        rid = re.sub(r"[^\w.-]+", "_", self.request_id)[:80]  # AI/ML API ids carry ':model/name'
        final = self.out_dir / f"{stamp}_{self.variant_key}_{rid}{suffix}"
        return final, final.with_name(f"{final.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")

    def save_inline(self, url: str) -> Path:
        """A result the provider sent inside its answer (Vercel's base64 form) as a data: URI."""
        header, _, payload = url.partition(",")
        try:
            data = base64.b64decode(payload, validate=True) if header.endswith(";base64") else payload.encode()
        except (binascii.Error, ValueError):
            raise ProviderError(f"the {self.kind.label} of request {self.request_id} is not valid "
                                "base64", retryable=True) from None
        if len(data) > self.max_bytes:
            raise ProviderError(f"the video is {len(data) / MB:.0f} MB, over the {self.max_bytes / MB:.0f} "
                                "MB cap (KLING_VIDEO_MAX_DOWNLOAD_MB)")
        final, part = self.destination(self.kind.file_suffix(url))
        part.write_bytes(data)
        os.replace(part, final)
        return final

    async def fetch(self, session: aiohttp.ClientSession, url: str) -> Path:
        if url.startswith("data:"):
            return await asyncio.to_thread(self.save_inline, url)
        if not url.startswith("https://"):
            raise ProviderError(f"refusing to download a result that is not https: {url[:120]}")
        final, part = self.destination(self.kind.file_suffix(url))
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
                    if total is not None and total > self.max_bytes:
                        raise ProviderError(f"the video is {total / MB:.0f} MB, over the "
                                            f"{self.max_bytes / MB:.0f} MB cap (KLING_VIDEO_MAX_DOWNLOAD_MB)")
                    with open(part, "r+b" if have else "wb") as out:
                        out.seek(have)
                        out.truncate()
                        async for chunk in resp.content.iter_chunked(MB):
                            have += len(chunk)
                            if have > self.max_bytes:
                                raise ProviderError(f"the video exceeds the {self.max_bytes / MB:.0f} MB "
                                                    "cap (KLING_VIDEO_MAX_DOWNLOAD_MB)")
                            out.write(chunk)
                            if total:
                                self.emit(f"downloading {have / MB:.1f} / {total / MB:.1f} MB", 0.92 + 0.08 * have / total)
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
        raise ProviderError(f"could not download the video of request {self.request_id}: {error}; "
                            f"the result stays at {self.who} for a while: {url}", request_id=self.request_id)


def intact(path: Path, kind: OutputKind) -> bool:
    """Whether a saved result is still there, whole and decodable (else the cache fetches it again)."""
    try:
        kind.probe(path)
        return True
    except (MediaError, OSError):
        return False


def without_inline_media(value):
    """`value` with long strings (base64 video data) replaced by their length."""
    if isinstance(value, (dict, list)) and len(value) > INLINE_KEEP and \
            all(isinstance(v, int) for v in (value.values() if isinstance(value, dict) else value)):
        return f"<{len(value)} bytes, saved to the file>"  # a byte array as JSON: a list, or keyed by index
    if isinstance(value, dict):
        return {k: without_inline_media(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_inline_media(v) for v in value]
    if isinstance(value, str) and len(value) > INLINE_KEEP:
        return f"<{len(value)} characters, saved to the file>"
    return value


def saved_facts(path: Path, url: str, provider: str, now: float | None = None) -> dict:
    """What the journal keeps of a saved result so a later request can pass on the provider's URL instead of
    the file: the URL (none for a result that came inline), when it expires where the provider states it, and
    the file's SHA-256, size and mtime to tell whether it was changed since."""
    if not url.startswith("https://"):
        return {"url": None}
    stat = os.stat(path)
    lifetime = URL_LIFETIME.get(provider, UNSTATED_URL_LIFETIME)
    return {"url": url, "url_expires": (now or time.time()) + lifetime,
            "sha256": file_sha256(path), "size": stat.st_size, "mtime": stat.st_mtime}


def file_sha256(path) -> str:
    # A read loop, not hashlib.file_digest: that needs Python 3.11, and the pack runs on 3.10.
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MB), b""):
            digest.update(chunk)
    return digest.hexdigest()
