"""The values media become before a request is sent, without the encoder: providers read a Media (bytes,
MIME type, name) and must import without numpy, PIL, torch or av, which encode.py needs.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Media:
    data: bytes
    mime: str
    name: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def data_uri(self) -> str:
        return f"data:{self.mime};base64," + base64.b64encode(self.data).decode("ascii")


@dataclass(frozen=True)
class PendingVideo:
    """A host's video that must be re-encoded before it can be sent (frames from Create Video, a trimmed
    slice, a container other than MP4/MOV). The host's adapter, which alone knows its video objects, says
    how to write it as H.264 MP4; encode.py calls `write_mp4(path)` only when the request reaches this
    input, so cheap checks still report a typo before seconds of re-encoding."""
    write_mp4: Callable[[str], None]
