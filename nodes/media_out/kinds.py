"""What a variant's result is (the catalog's `Variant.output`): one row per kind of output.

A row says where the result's file is found, how it is saved and checked, how it is decoded, and which
outputs a node of that kind has. Outputs are names; the ComfyUI adapter maps each name to a socket (so no
ComfyUI here), and a decoder returns its values by the same names. Decoding imports torch, so a decoder
imports it only when called: the CLI and the job runner read this table without it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from .probe import probe_audio, probe_video


def _decode_video(path: os.PathLike | str, *, all_frames: bool = True, request_id: str = "") -> dict[str, Any]:
    from .decode import decode_video
    # The request id lets a refusal for lack of memory say where the paid video is kept.
    decoded = decode_video(str(path), all_frames=all_frames, request_id=request_id or None)
    return {"frames": decoded.frames, "soundtrack": decoded.audio, "fps": float(decoded.fps)}


def _decode_audio(path: os.PathLike | str, *, all_frames: bool = True, request_id: str = "") -> dict[str, Any]:
    from .decode import decode_audio
    return {"audio": decode_audio(str(path))}


@dataclass(frozen=True)
class OutputKind:
    name: str                    # the catalog's Variant.output
    label: str                   # how messages name the result
    outputs: tuple[str, ...]     # a node's outputs, in order
    # A file, found in the provider's result by output_url(result, name); else a value of the result itself.
    is_file: bool = False
    suffix: str = ""             # the saved file's suffix
    url_suffix: bool = False     # a downloaded file keeps its URL's suffix when it has one
    probe: Optional[Callable[[Path], Any]] = None   # MediaError unless the saved file is whole and decodes
    decoder: Optional[Callable[..., dict[str, Any]]] = None  # the file → {output name: value}
    result_key: str = ""         # for a value result: its key in the provider's result

    def file_suffix(self, url: str = "") -> str:
        """The suffix of the file saved from `url` (a data: URI has none of its own)."""
        own = Path(url.split("?")[0]).suffix if self.url_suffix and not url.startswith("data:") else ""
        return own or self.suffix


VIDEO = OutputKind("video", "video", ("video", "frames", "soundtrack", "fps", "info"), is_file=True,
                   suffix=".mp4", probe=probe_video, decoder=_decode_video)
VOICE = OutputKind("voice", "voice id", ("voice_id", "info"), result_key="voice_id")
# Text to speech: the provider's URL says the format (mp3 unless it says otherwise).
AUDIO = OutputKind("audio", "audio", ("audio", "info"), is_file=True, suffix=".mp3", url_suffix=True,
                   probe=probe_audio, decoder=_decode_audio)

KINDS = {kind.name: kind for kind in (VIDEO, VOICE, AUDIO)}  # by Variant.output
