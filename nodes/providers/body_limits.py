"""How large a request each provider takes, and what happens to media that would make it larger.

Media travel inside the JSON body (a `data:` URI or plain base64, 4/3 of the file) unless the provider has
storage to upload them to first. Each provider module states its `RequestLimits`, with the source of each
number: files up to `inline_max` go inline, larger ones are uploaded where the provider can take uploads (fal),
and there more files are uploaded until the whole body fits `body_max`. A provider without storage cannot
take a body over its limit at all: it answers HTTP 413 (or fails later without saying why), so the request is
refused here, before anything is sent, naming the field, the limit and what to do instead.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ..core import settings
from ..core.errors import InputError
from ..media_in.media import Media
from .wire_format import walk_media


@dataclass(frozen=True)
class RequestLimits:
    body_max: int                       # bytes of the whole JSON body the provider takes
    inline_max: Optional[int] = None    # files above this are uploaded first; None: no upload, all go inline
    uploaded_url_chars: int = 0         # the length of an uploaded file's URL, rounded up, for planning

    def inline_threshold(self) -> int:
        """The provider's inline threshold, or KLING_VIDEO_INLINE_MAX_MB where the user set one."""
        override = settings.inline_max_override()
        return self.inline_max if override is None else override


def body_bytes(wire_body: Any) -> int:
    """The size of the body as http.send puts it on the wire (compact JSON, ASCII)."""
    return len(json.dumps(wire_body, separators=(",", ":")).encode())


def files_of(body: Any) -> list[Media]:
    """Every distinct file of a catalog body (by content), largest first."""
    found: dict[str, Media] = {}
    walk_media(body, lambda m: found.setdefault(m.digest, m))
    return sorted(found.values(), key=lambda m: len(m.data), reverse=True)


def field_of(media: Media) -> str:
    """The input a file came from: its name without the extension (media_in names files after their field)."""
    return media.name.rsplit(".", 1)[0] if "." in media.name else media.name


def mb(size: float) -> str:
    return f"{size / 1e6:.2f} MB" if size < 10e6 else f"{size / 1e6:.1f} MB"


def _advice(media: Media) -> str:
    kind = media.mime.split("/")[0]
    if kind == "video":
        return "a shorter or lower-resolution video"
    if kind == "audio":
        return "shorter audio"
    return "a smaller image"


def check_fits(body: dict, build: Callable[[dict], Any], limits: RequestLimits, who: str) -> Any:
    """The wire body `build(body)`, or InputError when it is larger than the provider takes.

    `body` is the catalog body (with Media); `build` maps it onto the provider's wire body. The error names
    the largest file, how large it may be here, and the way out: a smaller file, or fal, which uploads."""
    wire = build(body)
    size = body_bytes(wire)
    if size <= limits.body_max:
        return wire
    # A file the provider was sent as its URL (Media.url) adds only the URL: it is not what makes the body large.
    text = json.dumps(wire)
    files = [m for m in files_of(body) if not (m.url and json.dumps(m.url) in text)]
    if not files:
        raise InputError("prompt", f"makes the request {mb(size)}, over the {limits.body_max / 1e6:g} MB that "
                                   f"{who} takes")
    biggest = files[0]
    # What this file adds to the body (a file sent twice, like Vercel's first frame, counts twice):
    without = body_bytes(build(walk_media(body, lambda m: Media(b"", m.mime, m.name) if m.digest == biggest.digest
                                          else m)))
    room = limits.body_max - without
    share = size - without
    if room > 0 and share > 0:
        most = f"at most about {mb(len(biggest.data) * room / share)} here"
    else:
        most = f"the other inputs alone already make the request {mb(without)}"
    others = ", ".join(f"{field_of(m)} ({mb(len(m.data))})" for m in files[1:])
    raise InputError(field_of(biggest), (
        f"is {mb(len(biggest.data))}. {who} takes files only inside the request, as base64 (a third larger): "
        f"with it{' and ' + others if others else ''} the request would be {mb(size)}, over the "
        f"{limits.body_max / 1e6:g} MB that {who} takes (a larger request gets HTTP 413). Use {_advice(biggest)} "
        f"({most}), or the fal provider, which uploads large files to its storage first."))


def upload_plan(body: dict, limits: RequestLimits) -> list[Media]:
    """The files a provider with storage uploads before submitting (the dry run shows the same): every file over
    the inline threshold, then the largest of the others while the body would still be over `body_max`.
    Empty where the provider takes no uploads (no inline_max). A file with a known provider URL (Media.url) is
    never uploaded: the provider (fal, the one with storage) is sent the URL, and it counts as the URL's length."""
    if limits.inline_max is None:
        return []
    files = files_of(body)  # largest first
    linked = [m for m in files if m.url]
    files = [m for m in files if not m.url]
    threshold = limits.inline_threshold()
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
        return rest + sum(occurs[m.digest] * len(m.url) for m in linked) + sum(
            occurs[m.digest] * (limits.uploaded_url_chars if m.digest in uploaded else _data_uri_chars(m))
            for m in files)

    while inline and size() > limits.body_max:
        planned.append(inline.pop(0))
    return planned


def _data_uri_chars(media: Media) -> int:
    return len(f"data:{media.mime};base64,") + 4 * -(-len(media.data) // 3)
