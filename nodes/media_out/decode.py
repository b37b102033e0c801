"""Decode a video file into ComfyUI's IMAGE and AUDIO: every frame, the first one only, or a selection (size,
frame cap, offset, stride: the frames node's) scaled by swscale while decoding.

Before the frames tensor is made, its size is checked against KLING_VIDEO_MAX_DECODE_BYTES and against the
memory the process can still use (memory.py): a refusal is an error on the node, not a killed process.
No ComfyUI import here: the result is plain torch tensors and dicts.
"""
from __future__ import annotations

import collections
import math
import os
from dataclasses import dataclass
from typing import Optional

import av
import numpy as np
import torch

from ..core import settings
from . import pages
from .memory import NotEnoughMemory, check_fits  # noqa: F401 re-exported
from .probe import MediaError, VideoInfo, _check_complete, _info, _open, probe_video  # noqa: F401 re-exported
from .selection import NO_SELECTION, FrameSelection, trim_audio  # noqa: F401 re-exported

MAX_DECODE_BYTES_ENV = "KLING_VIDEO_MAX_DECODE_BYTES"
# A 10 s 1080p clip is 6 GB as float32 frames; 16 GiB leaves room for ~25 s of
# 1080p (or 4K for ~6 s) while refusing what would take a 24-32 GiB machine down.
DEFAULT_MAX_DECODE_BYTES = 16 * 1024**3
SILENT_SAMPLE_RATE = 44100
# The scaler of the frames node's size: ffmpeg's own default, sharp without ringing, and it widens its kernel
# when shrinking, so a 4K frame brought to 720p does not alias.
SCALER = "BICUBIC"


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


@dataclass(frozen=True)
class _Budget:
    """What one decode may allocate, and what a refusal tells the user."""
    limit: int                               # KLING_VIDEO_MAX_DECODE_BYTES
    path: object
    memory_available: Optional[int] = None   # None: measured (memory.available())
    request_id: Optional[str] = None         # a paid result's: the refusal says it is kept

    def allocate(self, n: int, width: int, height: int) -> torch.Tensor:
        need = n * height * width * 3 * 4
        if need > self.limit:
            raise MediaError(
                f"decoding {os.fspath(self.path)!r} needs {need} bytes ({n} frames of "
                f"{width}x{height} as float32) but the limit is {self.limit} bytes; "
                f"raise it with the {MAX_DECODE_BYTES_ENV} environment variable"
            )
        check_fits(need, f"{n} frames of {width}x{height} as float32", path=self.path,
                   request_id=self.request_id, memory_available=self.memory_available)
        return torch.empty((n, height, width, 3), dtype=torch.float32)


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


def decode_video(path, *, all_frames: bool = True, max_decode_bytes: int | None = None,
                 selection: FrameSelection | None = None, memory_available: int | None = None,
                 request_id: str | None = None) -> DecodedVideo:
    """Decode every frame (or only the first, or `selection`'s) and the first audio track.

    ``max_decode_bytes`` (default: env KLING_VIDEO_MAX_DECODE_BYTES, else 16 GiB)
    caps the float32 frames tensor, and the tensor must fit in the memory the
    process can still use (``memory_available`` overrides the measured figure);
    either refusal is a MediaError raised before any allocation. A paid result's
    ``request_id`` makes the memory refusal say that the video is kept.
    With a selection, the audio is the part that goes with the kept frames and
    the fps the kept frames' rate.
    """
    limit = max_decode_bytes if max_decode_bytes is not None else max_decode_bytes_default()
    budget = _Budget(limit, path, memory_available, request_id)
    select = selection or NO_SELECTION
    with _open(path) as container:
        info = _info(container, path)
        _check_complete(container, path)
        writer, pending, audio, seen = _decode(container, info, all_frames, select, budget)
    if not pending:
        if seen and select is not NO_SELECTION:
            raise MediaError(f"{os.fspath(path)!r} has {seen} frames{' in its trim window' if select.duration or select.start_time else ''}: "
                             f"skipping the first {select.skip} leaves none")
        raise MediaError(f"{os.fspath(path)!r} has no decodable video frame")
    waveform = audio.result()
    # The decoder died with _decode's locals and the closed container; hand its
    # memory back before the pages it made room for in the big tensor get touched.
    pages.release_free_memory()
    while pending:
        writer.write(pending.popleft())
    fps = select.fps(info.fps)
    if select is not NO_SELECTION:
        waveform = trim_audio(waveform, *select.audio_window(info.fps, writer.count))
    if waveform is None:
        seconds = writer.count / fps if all_frames and fps else info.duration
        waveform = silent_audio(seconds)
    # A view: pages of an over-estimated tail were never touched, so cost nothing.
    frames = writer.frames[: writer.count]
    return DecodedVideo(info=info, frames=frames, audio=waveform, fps=fps)


def _frames_in_window(vstream, info: VideoInfo, select: FrameSelection) -> int:
    # stream.frames is exact when the container records it; an estimate from
    # the duration gets a margin so that it rarely has to grow.
    total = vstream.frames or (math.ceil(info.duration * info.frame_rate) + 2)
    if select.start_time:
        total -= math.floor(select.start_time * info.frame_rate)
    if select.duration:
        total = min(total, math.ceil(select.duration * info.frame_rate) + 1)
    return max(total, 0)


class _Window:
    """The trim window of a trimmed VideoFromFile, on frame timestamps the way ComfyUI 0.33 cuts it."""

    def __init__(self, vstream, select: FrameSelection):
        base = vstream.time_base
        self.start = int(select.start_time / base) if select.start_time and base else None
        self.end = int((select.start_time + select.duration) / base) if select.duration and base else None

    def place(self, vframe) -> int:
        """-1 before the window, 0 inside, 1 past it."""
        pts = vframe.pts
        if pts is None:
            return 0
        if self.start is not None and pts < self.start:
            return -1
        return 1 if self.end is not None and pts >= self.end else 0


def _decode(container, info: VideoInfo, all_frames: bool, select: FrameSelection, budget: _Budget):
    vstream = container.streams.video[0]
    vstream.thread_type = "AUTO"
    astream = container.streams.audio[0] if container.streams.audio else None
    n = select.count(_frames_in_window(vstream, info, select)) if all_frames else 1
    # The last frames wait as small YUV pictures and go into the big tensor only
    # once the decoder (tens of MB of reference pictures and thread contexts) is
    # freed: the peak is then the tensor plus little, not tensor plus decoder.
    writer = _FrameWriter(max(n, 1), info, budget.limit, budget.path, prefault=n - TAIL_FRAMES if all_frames else 0,
                          size=select.out_size(info.width, info.height), budget=budget)
    window = _Window(vstream, select)
    pending: collections.deque = collections.deque()
    audio = _AudioSink()
    seen = kept = 0
    video_done = False
    audio_end = None  # once the frames are all in: the last second of sound still needed (None: all of it)
    try:
        for packet in container.demux([s for s in (vstream, astream) if s is not None]):
            if packet.stream is astream:
                for aframe in packet.decode():
                    audio.add(aframe)
                    if video_done and audio_end is not None and aframe.time is not None and aframe.time > audio_end:
                        return writer, pending, audio, seen
                continue
            if video_done:
                continue
            for vframe in packet.decode():
                place = window.place(vframe)
                if place < 0:
                    continue
                if place == 0:
                    index, seen = seen, seen + 1
                    if not select.keeps(index):
                        continue
                    pending.append(vframe)
                    kept += 1
                    if len(pending) > TAIL_FRAMES:
                        writer.write(pending.popleft())
                if place > 0 or not all_frames or (select.frame_cap and kept >= select.frame_cap):
                    video_done = True
                    if all_frames:
                        audio_end = select.audio_window(info.fps, kept)[1]
                    break
            if video_done and (astream is None or audio_end is not None and audio_end <= 0):
                break
    except av.FFmpegError as e:
        raise MediaError(f"{os.fspath(budget.path)!r} is corrupt or truncated: {e}") from e
    finally:
        writer.stop_prefault()
    return writer, pending, audio, seen


class _FrameWriter:
    """Converts decoded pictures into one preallocated [N, H, W, 3] float32 tensor."""

    def __init__(self, n: int, info: VideoInfo, limit: int, path, prefault: int = 0, *,
                 size: tuple[int, int] | None = None, budget: _Budget | None = None):
        self.budget = budget or _Budget(limit, path)
        self.width, self.height = size or (info.width, info.height)
        # swscale scales while it converts; the video's own size converts exactly as ComfyUI does.
        self.scale = {} if (self.width, self.height) == (info.width, info.height) else {
            "width": self.width, "height": self.height, "interpolation": SCALER}
        self.frames = self.budget.allocate(n, self.width, self.height)
        self.out = self.frames.numpy()
        self.count = 0
        self._prefault = pages.Prefault(self.frames[:prefault]) if prefault > 0 else None

    def write(self, vframe: av.VideoFrame) -> None:
        if self.count == len(self.out):
            # Only when the header under-counted: one copy, with a quarter to spare.
            self.stop_prefault()
            bigger = self.budget.allocate(self.count + max(8, self.count // 4), self.width, self.height)
            bigger[: self.count].copy_(self.frames)
            self.frames, self.out = bigger, bigger.numpy()
        # The same swscale conversion as ComfyUI's VideoFromFile and the same
        # division (not a multiply by 1/255): the pixels are bit-identical to its
        # output. One swscale thread and numpy on this thread: swscale's slice
        # threads and torch's OpenMP workers would fight the decoder threads for
        # the cores (measured: 3x slower swscale on 2 cores).
        rgb = vframe.to_ndarray(format="rgb24", threads=1, **self.scale)
        np.divide(rgb, np.float32(255), out=self.out[self.count])
        self.count += 1
        if self._prefault is not None:
            self._prefault.written(self.count)

    def stop_prefault(self) -> None:
        if self._prefault is not None:
            self._prefault.stop()
            self._prefault = None
