"""ComfyUI media (IMAGE, MASK, VIDEO, AUDIO) → validated files ready to send, before any request.

Every encoder returns a Media (media.py): bytes plus MIME type. The provider turns a Media into a `data:` URI
or base64, or uploads it to its storage when it is large (providers/body_limits.py); the request hash uses its
digest. No ComfyUI and no torch imports: tensors are read through numpy; a video arrives as a path, MP4 bytes
or a PendingVideo, which the ComfyUI adapter makes of ComfyUI's VIDEO objects (comfyui/video_in.py).
"""
from __future__ import annotations

import io
import os
import tempfile
import wave
from collections.abc import Mapping
from typing import Optional

import numpy as np
from PIL import Image

from ..catalog.schema import MediaLimits
from ..core.errors import InputError
from .media import Media, PendingVideo, SavedAudio, SavedResult

MIN_SIDE = 300
MAX_ASPECT = 2.5
MAX_BYTES = 10_000_000  # "10 MB"; the decimal reading is the safe one
# PNG keeps every pixel but costs ~45 ms per third of a megapixel here and ~2.5 bytes a pixel; above
# this, JPEG q95 without chroma subsampling is visually lossless, ~10x faster and ~2x smaller.
PNG_MAX_PIXELS = 800 * 450
JPEG_QUALITIES = (95, 90, 85)


# -- images -----------------------------------------------------------------------------------------

def _numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor; torch itself is the host's, not imported here
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _to_uint8(arr: np.ndarray, field: str) -> np.ndarray:
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    if not np.isfinite(arr).all():
        raise InputError(field, "the image contains NaN or infinite values")
    # In-place numpy is ~10x faster here than torch's clamp for a 1080p frame.
    out = np.multiply(arr, 255.0, dtype=np.float32)
    np.add(out, 0.5, out=out)
    np.clip(out, 0.0, 255.0, out=out)
    return out.astype(np.uint8)


def image_batch(images, field: str) -> list[np.ndarray]:
    """A ComfyUI IMAGE [B,H,W,C] (or one H×W×C array) as a list of H×W×3 uint8 arrays."""
    arr = _numpy(images)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[3] not in (1, 3, 4):
        raise InputError(field, f"expected an IMAGE of shape [B,H,W,3], got {list(arr.shape)}")
    if arr.shape[3] == 1:
        arr = np.repeat(arr, 3, axis=3)
    elif arr.shape[3] == 4:
        arr = arr[..., :3]
    return [_to_uint8(a, field) for a in arr]


def to_uint8_rgb(image, field: str) -> np.ndarray:
    """Exactly one image as H×W×3 uint8."""
    batch = image_batch(image, field)
    if len(batch) != 1:
        raise InputError(field, f"got a batch of {len(batch)} images; connect exactly one "
                                "(pick one with an 'Image From Batch' node)")
    return batch[0]


def check_geometry(width: int, height: int, field: str) -> None:
    if width < MIN_SIDE or height < MIN_SIDE:
        raise InputError(field, f"{width}x{height} px is smaller than the {MIN_SIDE}x{MIN_SIDE} minimum")
    ratio = width / height
    if ratio > MAX_ASPECT or ratio < 1 / MAX_ASPECT:
        raise InputError(field, f"aspect ratio {width}:{height} ({ratio:.2f}) is outside 1:2.5 to 2.5:1")


def _encode_rgb(rgb: np.ndarray, field: str) -> Media:
    height, width = rgb.shape[:2]
    check_geometry(width, height, field)
    pil = Image.fromarray(rgb, "RGB")
    if width * height <= PNG_MAX_PIXELS:
        data = _save(pil, "PNG", compress_level=1)
        if len(data) <= MAX_BYTES:
            return Media(data, "image/png", f"{field}.png")
    for quality in JPEG_QUALITIES:
        data = _save(pil, "JPEG", quality=quality, subsampling=0)
        if len(data) <= MAX_BYTES:
            return Media(data, "image/jpeg", f"{field}.jpg")
    raise InputError(field, f"encoded image is {len(data) / 1e6:.1f} MB, over the 10 MB limit; scale it down")


def encode_image(image, field: str) -> Media:
    """Validate one image (PNG when small, else JPEG; see PNG_MAX_PIXELS)."""
    return _encode_rgb(to_uint8_rgb(image, field), field)


def encode_images(images, field: str, min_items: int = 1, max_items: Optional[int] = None) -> list[Media]:
    """A batch of images for a list field (multi-image, effects, references)."""
    batch = image_batch(images, field)
    if len(batch) < min_items or (max_items is not None and len(batch) > max_items):
        span = f"{min_items} to {max_items}" if max_items else f"at least {min_items}"
        raise InputError(field, f"got {len(batch)} images; this input takes {span} "
                                "(batch them with an 'Image Batch' node)")
    return [_encode_rgb(rgb, f"{field}[{i}]") for i, rgb in enumerate(batch)]


def encode_mask(mask, field: str, size: Optional[tuple[int, int]] = None) -> Media:
    """A ComfyUI MASK ([H,W] or [1,H,W], 1 = brushed area) as a black-and-white PNG."""
    arr = _numpy(mask)
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2:
        raise InputError(field, f"expected one MASK of shape [H,W], got {list(arr.shape)}")
    height, width = arr.shape
    if size is not None and (width, height) != size:
        raise InputError(field, f"is {width}x{height} px but the image is {size[0]}x{size[1]}; "
                                "a motion-brush mask must match its image")
    gray = _to_uint8(arr, field)
    if not gray.any():
        raise InputError(field, "is empty: paint the area to move (or leave the input unconnected)")
    return Media(_save(Image.fromarray(gray, "L"), "PNG", compress_level=1), "image/png", f"{field}.png")


def _save(pil: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    pil.save(buf, fmt, **options)
    return buf.getvalue()


# -- video and audio --------------------------------------------------------------------------------

def _check_seconds(seconds: float, limits: MediaLimits, field: str) -> None:
    if limits.min_seconds is not None and seconds < limits.min_seconds:
        raise InputError(field, f"is {seconds:.2f} s long, shorter than the {limits.min_seconds:g} s minimum")
    if limits.max_seconds is not None and seconds > limits.max_seconds:
        raise InputError(field, f"is {seconds:.2f} s long, longer than the {limits.max_seconds:g} s maximum")


def _check_bytes(size: int, limits: MediaLimits, field: str) -> None:
    if limits.max_bytes is not None and size > limits.max_bytes:
        raise InputError(field, f"is {size / 1e6:.1f} MB, over the {limits.max_bytes / 1e6:g} MB limit")


def video_bytes(video, field: str) -> bytes:
    """MP4 (or MOV) bytes of a video given as a path, bytes, or a PendingVideo written on demand."""
    if isinstance(video, (bytes, bytearray)):
        return bytes(video)
    if isinstance(video, SavedResult):
        video = video.path
    if isinstance(video, (str, os.PathLike)):
        with open(video, "rb") as f:
            return f.read()
    if not isinstance(video, PendingVideo):
        raise InputError(field, f"expected a VIDEO, got {type(video).__name__}")
    # A real .mp4 path, not a BytesIO: a host's writer may need the name to pick the container (ComfyUI 0.3.x).
    with tempfile.TemporaryDirectory(prefix="kling-video-") as tmp:
        path = os.path.join(tmp, "video.mp4")
        video.write_mp4(path)
        with open(path, "rb") as f:
            return f.read()


def encode_video(video, field: str, limits: MediaLimits = MediaLimits()) -> tuple[Media, float]:
    """The video as MP4 and its length in seconds, after checking the limits."""
    import av
    data = video_bytes(video, field)
    _check_bytes(len(data), limits, field)
    try:
        with av.open(io.BytesIO(data)) as container:
            if not container.streams.video:
                raise InputError(field, "has no video stream")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            if container.duration:
                seconds = container.duration / 1_000_000
            else:
                seconds = float(stream.duration * stream.time_base) if stream.duration else 0.0
    except av.FFmpegError as exc:
        raise InputError(field, f"is not a readable video ({exc})") from None
    _check_seconds(seconds, limits, field)
    for side, name in ((width, "width"), (height, "height")):
        if limits.min_px is not None and side < limits.min_px:
            raise InputError(field, f"{name} {side} px is below the {limits.min_px} px minimum")
        if limits.max_px is not None and side > limits.max_px:
            raise InputError(field, f"{name} {side} px is above the {limits.max_px} px maximum")
    if fps and limits.min_fps is not None and fps < limits.min_fps - 0.01:
        raise InputError(field, f"runs at {fps:.2f} fps, below the {limits.min_fps:g} fps minimum")
    if fps and limits.max_fps is not None and fps > limits.max_fps + 0.01:
        raise InputError(field, f"runs at {fps:.2f} fps, above the {limits.max_fps:g} fps maximum")
    media = Media(data, "video/mp4", f"{field}.mp4")
    if isinstance(video, SavedResult) and media.digest == video.sha256:
        media = Media(data, media.mime, media.name, url=video.url)
    return media, seconds


def is_audio(value) -> bool:
    """ComfyUI's AUDIO is any mapping with `waveform` and `sample_rate`, as core nodes read it: core builds a
    dict, VideoHelperSuite's Load Video a LazyAudioMap (a Mapping that decodes on first access)."""
    return isinstance(value, Mapping) and "waveform" in value and "sample_rate" in value


def encode_audio(audio, field: str, limits: MediaLimits = MediaLimits()) -> Media:
    """A ComfyUI AUDIO as WAV (lossless), or MP3 when the WAV would break the size limit."""
    if not is_audio(audio):
        raise InputError(field, "expected an AUDIO ({'waveform': [B,C,T], 'sample_rate': int})")
    wave_arr = _numpy(audio["waveform"])
    if wave_arr.ndim == 3:
        if wave_arr.shape[0] != 1:
            raise InputError(field, f"got a batch of {wave_arr.shape[0]} sounds; connect one")
        wave_arr = wave_arr[0]
    if wave_arr.ndim != 2 or wave_arr.shape[1] == 0:
        raise InputError(field, f"expected a waveform [1,C,T], got {list(_numpy(audio['waveform']).shape)}")
    rate = int(audio["sample_rate"])
    _check_seconds(wave_arr.shape[1] / rate, limits, field)
    pcm = (np.clip(np.nan_to_num(wave_arr), -1, 1) * 32767).astype("<i2").T  # T×C interleaved
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    data = buf.getvalue()
    # The provider's own file for a SavedAudio, unless it is larger than the field takes.
    url = audio.url if isinstance(audio, SavedAudio) and (limits.max_bytes is None
                                                          or audio.size <= limits.max_bytes) else None
    if limits.max_bytes is None or len(data) <= limits.max_bytes:
        return Media(data, "audio/wav", f"{field}.wav", url=url)
    data = _mp3(pcm, rate)
    _check_bytes(len(data), limits, field)
    return Media(data, "audio/mpeg", f"{field}.mp3", url=url)


def _mp3(pcm: np.ndarray, rate: int) -> bytes:
    import av
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=rate, layout="stereo" if pcm.shape[1] > 1 else "mono")
        stream.bit_rate = 192_000
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm[:, :2].reshape(1, -1)), format="s16",
                                           layout=stream.layout.name)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()
