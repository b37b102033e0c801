"""Is this file a whole, decodable video, and what is in it? (no torch: the CLI and the job use it)"""
from __future__ import annotations

import fractions
import os
from dataclasses import dataclass

import av


class MediaError(ValueError):
    """The file is not a video we can decode (or is too big to decode)."""


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frame_rate: fractions.Fraction
    frame_count: int  # best estimate; exact for a normal MP4
    duration: float  # seconds
    has_audio: bool
    audio_sample_rate: int | None
    audio_channels: int | None


def _open(path):
    try:
        return av.open(os.fspath(path), mode="r")
    except (av.FFmpegError, OSError) as e:
        raise MediaError(f"cannot open {os.fspath(path)!r} as a video: {e}") from e


def _video_stream(container, path):
    if not container.streams.video:
        raise MediaError(f"{os.fspath(path)!r} has no video stream")
    return container.streams.video[0]


def _check_complete(container, path) -> None:
    # A download cut short keeps its header when the moov atom comes first
    # (web-ready MP4s), so it would open fine and quietly decode half a clip: the
    # sample index still says where the missing bytes should be.
    try:
        size = os.path.getsize(path)
    except (OSError, TypeError):
        return
    for stream in container.streams.video[:1] + container.streams.audio[:1]:
        entries = stream.index_entries
        if len(entries):
            last = entries[len(entries) - 1]
            if last.pos + last.size > size:
                raise MediaError(
                    f"{os.fspath(path)!r} is truncated: its index needs "
                    f"{last.pos + last.size} bytes but the file has {size}"
                )


def _info(container, path) -> VideoInfo:
    stream = _video_stream(container, path)
    # average_rate of a fragmented MP4 is derived from a rounded duration
    # (e.g. 23.72 for a 24 fps clip); guessed_rate looks at the stream's timing.
    rate = stream.guessed_rate or stream.average_rate or stream.base_rate
    rate = fractions.Fraction(rate) if rate else fractions.Fraction(0)
    if stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    elif container.duration:
        duration = container.duration / av.time_base
    else:
        duration = stream.frames / rate if stream.frames and rate else 0.0
    frame_count = stream.frames or round(duration * rate)
    if not frame_count:
        # Nothing in the header (e.g. a streamed MKV): counting packets reads the
        # file but decodes nothing, and spares decode_video growing its tensor.
        # A second handle, because seeking back can drop the first audio packet.
        with _open(path) as counter:
            try:
                frame_count = sum(1 for packet in counter.demux(video=0) if packet.size)
            except av.FFmpegError as e:
                raise MediaError(f"{os.fspath(path)!r} is corrupt: {e}") from e
        duration = frame_count / rate if rate else 0.0
    audio = container.streams.audio[0] if container.streams.audio else None
    return VideoInfo(
        width=stream.codec_context.width,
        height=stream.codec_context.height,
        fps=float(rate),
        frame_rate=rate,
        frame_count=int(frame_count),
        duration=float(duration),
        has_audio=audio is not None,
        audio_sample_rate=int(audio.sample_rate) if audio is not None else None,
        audio_channels=int(audio.channels) if audio is not None else None,
    )


def probe_video(path) -> VideoInfo:
    """Read the header and decode one frame; MediaError unless that works."""
    with _open(path) as container:
        info = _info(container, path)
        _check_complete(container, path)
        try:
            for _ in container.decode(video=0):
                break
            else:
                raise MediaError(f"{os.fspath(path)!r} has no decodable video frame")
        except av.FFmpegError as e:
            raise MediaError(f"{os.fspath(path)!r} is corrupt: {e}") from e
    if info.width <= 0 or info.height <= 0:
        raise MediaError(f"{os.fspath(path)!r} has no frame size")
    return info



def probe_audio(path) -> None:
    """MediaError unless the file has an audio stream whose first frame decodes."""
    with _open(path) as container:
        if not container.streams.audio:
            raise MediaError(f"{os.fspath(path)!r} has no audio stream")
        _check_complete(container, path)
        try:
            for _ in container.decode(audio=0):
                return
        except av.FFmpegError as e:
            raise MediaError(f"{os.fspath(path)!r} is corrupt: {e}") from e
    raise MediaError(f"{os.fspath(path)!r} has no decodable audio")
