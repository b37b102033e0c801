"""Real media files for the tests and benchmarks, written with PyAV.

Video frames carry a pattern that survives H.264 + yuv420p:

* rows ``[0, height // 4)`` are a band of ``BITS`` equal-width blocks; block ``b``
  (counted from the left) is white if bit ``b`` of the frame index is set, else
  black -- see :func:`frame_index`;
* every other pixel is the flat colour :func:`expected_color` ``(i)``.

Audio is a sine of ``tone_hz`` at amplitude ``AMPLITUDE`` on every channel.

Nothing here imports the package under test, so ``benchmarks/`` can load this file
by path.
"""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

BITS = 8
AMPLITUDE = 0.5
AUDIO_FRAME_SAMPLES = 1024  # AAC's frame size


def expected_color(i: int) -> tuple[int, int, int]:
    """RGB (0..255) of frame ``i`` outside the index band.

    Kept within 40..215 so that limited-range YUV never clips it."""
    return (40 + (i * 23) % 176, 40 + (i * 41) % 176, 40 + (i * 67) % 176)


def pattern_frame(i: int, width: int, height: int) -> np.ndarray:
    """The uint8 [H, W, 3] RGB image written as frame ``i`` (see module doc)."""
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:] = expected_color(i)
    band = img[: height // 4]
    for b in range(BITS):
        x0, x1 = b * width // BITS, (b + 1) * width // BITS
        band[:, x0:x1] = 255 if (i >> b) & 1 else 0
    return img


def _as_float(img) -> np.ndarray:
    arr = img.numpy() if hasattr(img, "numpy") else np.asarray(img)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    return arr.astype(np.float32, copy=False)


def frame_index(img) -> int:
    """Recover ``i`` from a decoded frame (uint8 0..255 or float 0..1, [H, W, 3],
    numpy or torch) by reading the centre of each block of the index band."""
    arr = _as_float(img)
    h, w = arr.shape[:2]
    y0, y1 = h // 16, h // 4 - h // 16
    i = 0
    for b in range(BITS):
        x0, x1 = b * w // BITS, (b + 1) * w // BITS
        pad = (x1 - x0) // 4
        if arr[y0:y1, x0 + pad : x1 - pad].mean() > 0.5:
            i |= 1 << b
    return i


def frame_color(img) -> np.ndarray:
    """Mean RGB (0..1) of a decoded frame's flat area, away from the band's edge."""
    arr = _as_float(img)
    h = arr.shape[0]
    return arr[h // 4 + h // 8 :].reshape(-1, 3).mean(axis=0)


def busy_frame(i: int, width: int, height: int, _cache: dict = {}) -> np.ndarray:
    """A frame that costs a decoder about what real footage does: moving colour
    gradients under moving grain and a sliding block, so no frame is cheap to
    predict from the previous one."""
    key = (width, height)
    if key not in _cache:
        rng = np.random.default_rng(1234)
        # Twice as big as the frame so that each frame can take a moving window.
        grain = rng.integers(-24, 25, size=(2 * height, 2 * width, 1), dtype=np.int16)
        ys = np.linspace(0, 2 * np.pi, height, dtype=np.float32)[:, None]
        xs = np.linspace(0, 2 * np.pi, width, dtype=np.float32)[None, :]
        _cache.clear()
        _cache[key] = (grain, ys, xs)
    grain, ys, xs = _cache[key]
    t = i / 12.0
    img = np.empty((height, width, 3), dtype=np.int16)
    img[..., 0] = 128 + 80 * np.sin(xs + t) * np.cos(ys * 0.5)
    img[..., 1] = 128 + 80 * np.sin(ys + 1.7 * t)
    img[..., 2] = 128 + 80 * np.cos(xs * 0.7 - ys + 0.6 * t)
    dy, dx = (7 * i) % height, (11 * i) % width
    img += grain[dy : dy + height, dx : dx + width]
    bx = (i * 16) % max(1, width - width // 5)
    img[height // 3 : height // 3 + height // 5, bx : bx + width // 5] = (230, 40, 40)
    return np.clip(img, 0, 255).astype(np.uint8)


def sine(n: int, sample_rate: int, tone_hz: float, channels: int) -> np.ndarray:
    """float32 [channels, n] sine at ``AMPLITUDE``."""
    t = np.arange(n, dtype=np.float64) / sample_rate
    wave = (AMPLITUDE * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
    return np.ascontiguousarray(np.broadcast_to(wave, (channels, n)))


def make_mp4(
    path,
    *,
    width: int = 640,
    height: int = 360,
    fps=24,
    seconds: float = 2.0,
    audio: bool = True,
    tone_hz: float = 440.0,
    sample_rate: int = 44100,
    channels: int = 2,
    content: str = "pattern",
    preset: str = "ultrafast",
    crf: int = 18,
    fragmented: bool = False,
    faststart: bool = False,
    audio_codec: str = "aac",
    video: bool = True,
    channel_tones=None,
    container_format: str | None = None,
    threads: int = 0,
):
    """Write an H.264 (libx264, yuv420p) + AAC file and return ``path``.

    ``round(seconds * fps)`` frames of ``pattern_frame`` (``content="pattern"``)
    or ``busy_frame`` (``content="busy"``). The container follows the file
    extension (``.mkv``, ``.mov`` work too). ``fragmented=True`` writes a
    fragmented MP4, whose header records no frame count (``stream.frames == 0``
    on reading); ``faststart=True`` puts the index before the data, as web-ready
    MP4s do. ``audio_codec="pcm_s16le"`` (in .mov/.mkv) stores packed 16-bit
    samples instead of AAC's planar float. ``video=False`` writes audio only.
    ``channel_tones`` gives each channel its own frequency (default: all
    ``tone_hz``). ``path`` may also be a writable file object (give
    ``container_format`` then); one without ``seek`` makes a non-seekable
    output, e.g. an MKV whose header has no duration.
    """
    rate = Fraction(fps).limit_denominator(100_000)
    n_frames = round(seconds * rate) if video else 0
    make = {"pattern": pattern_frame, "busy": busy_frame}[content]
    flags = ["frag_keyframe", "empty_moov"] if fragmented else []
    flags += ["faststart"] if faststart else []
    options = {"movflags": "+".join(flags)} if flags else {}
    target = path if hasattr(path, "write") else os.fspath(path)
    with av.open(target, mode="w", format=container_format, options=options) as out:
        if video:
            vs = out.add_stream("libx264", rate=rate)
            vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
            vs.options = {"preset": preset, "crf": str(crf)}
            vs.codec_context.thread_count = threads
        aus = None
        if audio:
            layout = {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")
            aus = out.add_stream(audio_codec, rate=sample_rate, layout=layout)
            if audio_codec == "aac":
                aus.bit_rate = 64_000 * channels
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(make(i, width, height), format="rgb24")
            frame.pts = i
            frame.time_base = 1 / rate
            out.mux(vs.encode(frame.reformat(format="yuv420p")))
        if video:
            out.mux(vs.encode(None))
        if aus is not None:
            total = round(seconds * sample_rate)
            tones = channel_tones or [tone_hz] * channels
            wave = np.concatenate([sine(total, sample_rate, hz, 1) for hz in tones])
            for start in range(0, total, AUDIO_FRAME_SAMPLES):
                chunk = np.ascontiguousarray(wave[:, start : start + AUDIO_FRAME_SAMPLES])
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=aus.layout)
                af.sample_rate = sample_rate
                af.pts = start
                af.time_base = Fraction(1, sample_rate)
                out.mux(aus.encode(af))
            out.mux(aus.encode(None))
    return path


def make_wav(path, seconds: float, rate: int = 22050):
    """A mono 16-bit WAV of a 220 Hz tone (a voice sample for loaders and the CLI)."""
    import wave
    pcm = (sine(int(seconds * rate), rate, 220.0, 1)[0] * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return Path(path)


def make_png(path, width: int, height: int, color=(255, 0, 0)):
    """A flat-colour RGB PNG; returns ``path``."""
    from PIL import Image

    Image.new("RGB", (width, height), tuple(color)).save(path, format="PNG")
    return path


def truncate(path, fraction: float = 0.5, out=None):
    """Keep the first ``fraction`` of the bytes of ``path`` (in place, or into
    ``out``) and return the path written."""
    data = Path(path).read_bytes()
    dest = Path(out) if out is not None else Path(path)
    dest.write_bytes(data[: int(len(data) * fraction)])
    return dest


def garbage(path, size: int = 200_000, seed: int = 0):
    """Random bytes under a video file name; returns ``path``."""
    Path(path).write_bytes(np.random.default_rng(seed).bytes(size))
    return path


def dominant_frequency(wave, sample_rate: int) -> float:
    """Frequency (Hz) of the strongest FFT bin of a 1-D signal."""
    x = np.asarray(wave, dtype=np.float64)
    x = x - x.mean()
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spec) * sample_rate / len(x))


__all__ = [
    "AMPLITUDE", "BITS", "busy_frame", "dominant_frequency", "expected_color",
    "frame_color", "frame_index", "garbage", "make_mp4", "make_png",
    "pattern_frame", "sine", "truncate",
]
