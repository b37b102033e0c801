"""Command-line values (paths, JSON with paths) as the node inputs the same fields get in ComfyUI.

A video or audio path that is a file the pack downloaded (the journal's copy, or a byte-identical one such as
--out wrote) carries the provider's URL for it, as results handed on in ComfyUI do (comfyui/video_in.py): a
provider that takes URLs is sent the URL instead of the bytes, while the URL still serves the file.
"""
from __future__ import annotations

import os
import re

from ..catalog import Variant
from ..core.errors import InputError
from ..jobs.lineage import copy_of_download, passable_url
from ..media_in.media import SavedAudio, SavedResult


def _load_image(path: str, field: str, mode: str = "RGB"):
    import warnings
    import numpy as np
    from PIL import Image, ImageOps
    # Pillow's own decompression-bomb limit, refused rather than warned about: at 20000x20000 the decoded
    # image alone is 1.2 GB, for a video of at most 4K.
    limit = Image.MAX_IMAGE_PIXELS or 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                arr = np.asarray(ImageOps.exif_transpose(im).convert(mode))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        # Pillow names the pixel count only in its message ("Image size (400000000 pixels) exceeds ...").
        size = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = f"{int(size.group(1)) / 1e6:.0f} megapixels" if size else "more pixels"
        raise InputError(field, f"{path!r} has {pixels}, over the limit of {limit / 1e6:.0f} megapixels "
                                f"({limit:,} pixels) for an input image; scale it down") from None
    except OSError as exc:
        raise InputError(field, f"cannot read image {path!r}: {exc}") from None
    return arr if mode == "RGB" else arr.astype("float32") / 255.0


def _load_audio(path: str, field: str) -> dict:
    """An audio (or video) file as ComfyUI's AUDIO dict, through PyAV."""
    import av
    import numpy as np
    try:
        with av.open(path) as container:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", layout=stream.layout.name, rate=stream.rate)
            chunks = [r.to_ndarray() for frame in container.decode(stream) for r in resampler.resample(frame)]
            rate = stream.rate
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise InputError(field, f"cannot read audio from {path!r}: {exc}") from None
    return {"waveform": np.concatenate(chunks, axis=1)[None], "sample_rate": rate}


def _video(path: str):
    """The path, or a SavedResult when it is a video the pack downloaded (the encoder sends the URL only when
    the bytes it reads still have the journal's hash)."""
    found = passable_url(path) or copy_of_download(path, "video")  # by its path first: no hashing
    return SavedResult(os.fspath(path), *found) if found else path


def _audio(path: str, field: str):
    """The AUDIO in the file, as a SavedAudio when the file is byte for byte an audio result the pack
    downloaded (not a video result's soundtrack: its file is an MP4, which audio fields do not take)."""
    found = copy_of_download(path, "audio")
    audio = _load_audio(path, field)
    if not found:
        return audio
    return SavedAudio(audio["waveform"], audio["sample_rate"], found[0], os.stat(path).st_size)


def load(kind: str, value, field: str):
    """A CLI value (paths, JSON with paths) as the node input the same field would get in ComfyUI."""
    import numpy as np
    if value is None:
        return None
    if kind == "image":
        return _load_image(value, field)
    if kind == "images":
        return np.stack([_load_image(v, field) for v in value])
    if kind == "mask":
        return _load_image(value, field, "L")
    if kind == "video":
        return _video(value)  # a path: media_in reads the file
    if kind == "audio":
        return _audio(value, field)
    if kind == "elements":
        return [{"frontal": load("image", e.get("frontal"), field),
                 "references": load("images", e.get("references"), field),
                 "video": load("video", e.get("video"), field), "voice_id": e.get("voice_id", "")} for e in value]
    if kind == "dynamic_masks":
        return [{"mask": load("mask", m.get("mask"), field), "trajectories": m.get("trajectories")} for m in value]
    return value


def inputs(args, variant: Variant) -> dict:
    return {f.name: load(f.kind, getattr(args, f.name), f.name) for f in variant.fields}
