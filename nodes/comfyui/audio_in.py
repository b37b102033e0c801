"""ComfyUI's AUDIO results handed to another node → the provider's URL of the audio file they were decoded from.

A node whose result is an audio file (Kling text to speech) remembers each AUDIO it decodes: which file (its
SHA-256) and a fingerprint of the waveform and sample rate as decoded. When that AUDIO reaches a Kling node
unchanged, the encoder is given a SavedAudio and the provider that takes URLs is sent the file's URL.

The memory is a table beside the value, keyed by the waveform tensor itself, not a key inside the AUDIO dict:
the dict keeps the exact shape every other node expects. Core nodes that change the sound (trim, volume, split,
concat) build a new dict around a new tensor, which the table does not know; one that hands the same dict or
tensor on is unchanged by definition; one that edits the tensor in place, or the sample rate, fails the
fingerprint, checked at use. Either way the sound travels as bytes, as before. A VIDEO's soundtrack is never
remembered: its file is an MP4, not the audio file an AUDIO field takes.
"""
from __future__ import annotations

import hashlib
import os
import weakref
from dataclasses import dataclass
from typing import Any, Optional

from ..jobs.download import file_sha256
from ..jobs.lineage import url_of_content
from ..media_in.media import SavedAudio


@dataclass(frozen=True)
class _Source:
    sha256: str        # the audio file's, when it was decoded
    fingerprint: str   # the waveform's and sample rate's, as decoded


# id(waveform) -> (a weak reference to it, its source); an entry leaves with its tensor.
_SOURCES: dict[int, tuple[weakref.ref, _Source]] = {}


def fingerprint(audio) -> Optional[str]:
    """SHA-256 of the waveform's dtype, shape, samples and the sample rate; None when it cannot be read."""
    try:
        wave = audio["waveform"]
        if hasattr(wave, "detach"):  # a torch tensor (a copy only when it is not on the CPU)
            wave = wave.detach().cpu().contiguous().numpy()
        import numpy as np
        arr = np.ascontiguousarray(wave)
        digest = hashlib.sha256(f"{arr.dtype.str}|{arr.shape}|{int(audio['sample_rate'])}|".encode())
        digest.update(arr.view(np.uint8).reshape(-1))
        return digest.hexdigest()
    except Exception:  # noqa: BLE001 - not a waveform this can read: it travels as bytes
        return None


def remember(audio: Any, path: os.PathLike | str) -> None:
    """Remember that `audio` is the whole decode of the audio file at `path` (a result the pack downloaded)."""
    wave = audio.get("waveform") if isinstance(audio, dict) else None
    marks = fingerprint(audio) if wave is not None else None
    if marks is None:
        return
    try:
        ref = weakref.ref(wave, lambda _, key=id(wave): _SOURCES.pop(key, None))
    except TypeError:  # not weakly referenceable (a plain numpy array): not worth remembering
        return
    _SOURCES[id(wave)] = (ref, _Source(file_sha256(path), marks))


def saved_audio(audio: Any) -> Optional[SavedAudio]:
    """A SavedAudio for an AUDIO that is, unchanged, the decode of an audio file the pack downloaded and whose
    URL still serves it; None when it must travel as bytes."""
    if type(audio) is not dict:  # the pack's decoders make plain dicts; other mappings may decode lazily
        return None
    wave = audio.get("waveform")
    entry = _SOURCES.get(id(wave)) if wave is not None else None
    if entry is None or entry[0]() is not wave:
        return None
    source = entry[1]
    if fingerprint(audio) != source.fingerprint:
        return None
    found = url_of_content(source.sha256, "audio")
    return SavedAudio(wave, int(audio["sample_rate"]), *found) if found else None
