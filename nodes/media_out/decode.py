"""Decode a downloaded video file (H.264 + AAC MP4) into ComfyUI's IMAGE and AUDIO.

No ComfyUI import here: the result is plain torch tensors and dicts.
"""
from __future__ import annotations

import collections
import ctypes
import math
import mmap
import os
import sys
import threading
from dataclasses import dataclass

import av
import numpy as np
import torch

from ..core import settings
from .probe import MediaError, VideoInfo, _check_complete, _info, _open, probe_video  # noqa: F401 re-exported

MAX_DECODE_BYTES_ENV = "KLING_VIDEO_MAX_DECODE_BYTES"
# A 10 s 1080p clip is 6 GB as float32 frames; 16 GiB leaves room for ~25 s of
# 1080p (or 4K for ~6 s) while refusing what would take a 24-32 GiB machine down.
DEFAULT_MAX_DECODE_BYTES = 16 * 1024**3
SILENT_SAMPLE_RATE = 44100


@dataclass
class DecodedVideo:
    info: VideoInfo
    frames: torch.Tensor  # [N, H, W, 3] float32 in 0..1
    audio: dict  # {"waveform": float32 [1, C, T], "sample_rate": int}
    fps: float


def max_decode_bytes_default() -> int:
    """KLING_VIDEO_MAX_DECODE_BYTES, read (and refused when malformed) by settings like every setting."""
    value = settings.max_decode_bytes()
    return DEFAULT_MAX_DECODE_BYTES if value is None else value


def _allocate(n: int, info: VideoInfo, limit: int, path) -> torch.Tensor:
    need = n * info.height * info.width * 3 * 4
    if need > limit:
        raise MediaError(
            f"decoding {os.fspath(path)!r} needs {need} bytes ({n} frames of "
            f"{info.width}x{info.height} as float32) but the limit is {limit} bytes; "
            f"raise it with the {MAX_DECODE_BYTES_ENV} environment variable"
        )
    return torch.empty((n, info.height, info.width, 3), dtype=torch.float32)


class _AudioSink:
    """Collects any sample format as float32 planar chunks and joins them once."""

    def __init__(self):
        self.chunks: list[np.ndarray] = []
        self.resampler = None
        self.rate = 0

    def add(self, frame: av.AudioFrame) -> None:
        if self.resampler is None:
            self.rate = frame.sample_rate
            # Passes fltp (AAC's own format) through untouched; converts packed
            # and integer formats to planar float in -1..1.
            self.resampler = av.AudioResampler(format="fltp", layout=frame.layout, rate=frame.sample_rate)
        for out in self.resampler.resample(frame):
            self.chunks.append(out.to_ndarray())

    def result(self) -> dict | None:
        if self.resampler is not None:
            for out in self.resampler.resample(None):
                self.chunks.append(out.to_ndarray())
        if not self.chunks:
            return None
        wave = np.concatenate(self.chunks, axis=1) if len(self.chunks) > 1 else self.chunks[0]
        self.chunks = []
        return {"waveform": torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32)).unsqueeze(0),
                "sample_rate": int(self.rate)}


def decode_audio(path) -> dict:
    """An audio file (the TTS result) as ComfyUI's AUDIO."""
    sink = _AudioSink()
    with _open(path) as container:
        if not container.streams.audio:
            raise MediaError(f"{os.fspath(path)!r} has no audio stream")
        try:
            for frame in container.decode(audio=0):
                sink.add(frame)
        except av.FFmpegError as e:
            raise MediaError(f"{os.fspath(path)!r} is corrupt: {e}") from e
    audio = sink.result()
    if audio is None:
        raise MediaError(f"{os.fspath(path)!r} has no decodable audio")
    return audio


def silent_audio(seconds: float, sample_rate: int = SILENT_SAMPLE_RATE) -> dict:
    """Mono silence, at least one sample long so that encoders accept it."""
    samples = max(1, round(seconds * sample_rate))
    return {"waveform": torch.zeros((1, 1, samples), dtype=torch.float32), "sample_rate": sample_rate}


# Decoded pictures held back until the decoder is gone; see _decode.
TAIL_FRAMES = 3


def decode_video(path, *, all_frames: bool = True, max_decode_bytes: int | None = None) -> DecodedVideo:
    """Decode every frame (or only the first) and the first audio track.

    ``max_decode_bytes`` (default: env KLING_VIDEO_MAX_DECODE_BYTES, else 16 GiB)
    caps the float32 frames tensor; a bigger video raises MediaError before any
    allocation.
    """
    limit = max_decode_bytes if max_decode_bytes is not None else max_decode_bytes_default()
    with _open(path) as container:
        info = _info(container, path)
        _check_complete(container, path)
        writer, pending, audio = _decode(container, info, all_frames, limit, path)
    if not pending:
        raise MediaError(f"{os.fspath(path)!r} has no decodable video frame")
    waveform = audio.result()
    # The decoder died with _decode's locals and the closed container; hand its
    # memory back before the pages it made room for in the big tensor get touched.
    _release_free_memory()
    while pending:
        writer.write(pending.popleft())
    if waveform is None:
        seconds = writer.count / info.fps if all_frames and info.fps else info.duration
        waveform = silent_audio(seconds)
    # A view: pages of an over-estimated tail were never touched, so cost nothing.
    frames = writer.frames[: writer.count]
    return DecodedVideo(info=info, frames=frames, audio=waveform, fps=info.fps)


def _decode(container, info: VideoInfo, all_frames: bool, limit: int, path):
    vstream = container.streams.video[0]
    vstream.thread_type = "AUTO"
    astream = container.streams.audio[0] if container.streams.audio else None
    if all_frames:
        # stream.frames is exact when the container records it; an estimate from
        # the duration gets a margin so that it rarely has to grow.
        n = vstream.frames or (math.ceil(info.duration * info.frame_rate) + 2)
    else:
        n = 1
    # The last frames wait as small YUV pictures and go into the big tensor only
    # once the decoder (tens of MB of reference pictures and thread contexts) is
    # freed: the peak is then the tensor plus little, not tensor plus decoder.
    writer = _FrameWriter(max(n, 1), info, limit, path, prefault=n - TAIL_FRAMES if all_frames else 0)
    pending: collections.deque = collections.deque()
    audio = _AudioSink()
    try:
        for packet in container.demux([s for s in (vstream, astream) if s is not None]):
            if packet.stream is astream:
                for aframe in packet.decode():
                    audio.add(aframe)
            elif all_frames or not pending:
                for vframe in packet.decode():
                    pending.append(vframe)
                    if len(pending) > TAIL_FRAMES:
                        writer.write(pending.popleft())
                    if not all_frames:
                        break
    except av.FFmpegError as e:
        raise MediaError(f"{os.fspath(path)!r} is corrupt or truncated: {e}") from e
    finally:
        writer.stop_prefault()
    return writer, pending, audio


class _FrameWriter:
    """Converts decoded pictures into one preallocated [N, H, W, 3] float32 tensor."""

    def __init__(self, n: int, info: VideoInfo, limit: int, path, prefault: int = 0):
        self.info, self.limit, self.path = info, limit, path
        self.frames = _allocate(n, info, limit, path)
        self.out = self.frames.numpy()
        self.count = 0
        self._prefault = _Prefault(self.frames[:prefault]) if prefault > 0 else None

    def write(self, vframe: av.VideoFrame) -> None:
        if self.count == len(self.out):
            # Only when the header under-counted: one copy, with a quarter to spare.
            self.stop_prefault()
            bigger = _allocate(self.count + max(8, self.count // 4), self.info, self.limit, self.path)
            bigger[: self.count].copy_(self.frames)
            self.frames, self.out = bigger, bigger.numpy()
        # The same swscale conversion as ComfyUI's VideoFromFile and the same
        # division (not a multiply by 1/255): the pixels are bit-identical to its
        # output. One swscale thread and numpy on this thread: swscale's slice
        # threads and torch's OpenMP workers would fight the decoder threads for
        # the cores (measured: 3x slower swscale on 2 cores).
        rgb = vframe.to_ndarray(format="rgb24", threads=1)
        np.divide(rgb, np.float32(255), out=self.out[self.count])
        self.count += 1
        if self._prefault is not None:
            self._prefault.written(self.count)

    def stop_prefault(self) -> None:
        if self._prefault is not None:
            self._prefault.stop()
            self._prefault = None


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _release_free_memory() -> None:
    # glibc keeps freed heap memory (here: the closed decoder's) resident until
    # asked; other C libraries have no malloc_trim and this does nothing.
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


class _Prefault:
    """Faults in the pages of fresh frames from a second thread.

    First-touch page faults (the kernel zeroing 6 GB, page by page) otherwise
    cost the decoding thread about as much as decoding. MADV_POPULATE_WRITE
    (Linux >= 5.14) maps pages without changing their content, so racing the
    writer is harmless. It keeps only a few frames ahead of the writer: racing
    through the whole tensor at once starves the decoder threads instead
    (measured ~10% slower on 2 cores). Elsewhere this does nothing.
    """

    AHEAD = 4  # frames
    MADV_POPULATE_WRITE = 23

    def __init__(self, frames: torch.Tensor):
        self._cv = threading.Condition()
        self._written = 0
        self._stopped = False
        self._thread = None
        madvise = getattr(_libc(), "madvise", None)
        if madvise is None or len(frames) == 0:
            return
        madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        frame_bytes = frames[0].numel() * frames.element_size()
        self._thread = threading.Thread(
            target=self._run, args=(madvise, frames.data_ptr(), frame_bytes, len(frames)),
            name="kling-prefault", daemon=True,
        )
        self._thread.start()

    def _run(self, madvise, start: int, frame_bytes: int, n: int) -> None:
        page = mmap.PAGESIZE
        end = (start + n * frame_bytes) // page * page
        for i in range(n):
            with self._cv:
                self._cv.wait_for(lambda: self._stopped or i < self._written + self.AHEAD)
                if self._stopped:
                    return
            lo = -(-(start + i * frame_bytes) // page) * page
            hi = min(-(-(start + (i + 1) * frame_bytes) // page) * page, end)
            # ctypes drops the GIL for the call; nonzero means an old kernel.
            if hi > lo and madvise(lo, hi - lo, self.MADV_POPULATE_WRITE):
                return

    def written(self, count: int) -> None:
        with self._cv:
            self._written = count
            self._cv.notify()

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify()
        if self._thread is not None:
            self._thread.join()
