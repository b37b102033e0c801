"""The values media become before a request is sent, without the encoder: providers read a Media (bytes,
MIME type, name) and must import without numpy, PIL, torch or av, which encode.py needs.
"""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Optional


@dataclass(frozen=True)
class Media:
    data: bytes
    mime: str
    name: str
    # Where the provider that made these exact bytes still serves them (for an AUDIO, the audio file it was
    # decoded from: SavedAudio): a provider that accepts URLs for the field is sent this instead of the bytes
    # (no upload, a short body). Not part of equality or the digest: the request is the same whichever way the
    # file travels.
    url: Optional[str] = field(default=None, compare=False)

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


@dataclass(frozen=True)
class SavedResult:
    """A file the pack itself downloaded, as the adapter found it in the journal: its path, the provider's URL
    that still serves it, and the SHA-256 it had when saved. The encoder sends the URL only when the bytes it
    reads still have that hash (the file was not changed since). It is the file's path (os.PathLike) to
    whatever else reads the input: Kling Extend looks the file up in the journal itself."""
    path: str
    url: str
    sha256: str

    def __fspath__(self) -> str:
        return self.path


@dataclass(frozen=True, eq=False)
class SavedAudio(Mapping):
    """An AUDIO that is the whole, unchanged decode of an audio file the pack downloaded (the adapter or the CLI
    checked that; the journal says the provider's URL still serves the file, of `size` bytes). To every reader
    it is still an AUDIO mapping; the encoder attaches the URL to the Media it encodes, whose bytes stay the
    request's identity whichever way the sound travels."""
    waveform: Any
    sample_rate: int
    url: str
    size: int

    def __getitem__(self, key: str) -> Any:
        if key not in ("waveform", "sample_rate"):
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self):
        return iter(("waveform", "sample_rate"))

    def __len__(self) -> int:
        return 2
