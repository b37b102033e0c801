"""Kling Video to Frames: any VIDEO → IMAGE, AUDIO and fps, at a size, a frame cap, an offset and a stride.

A file-backed VIDEO (core Load Video's VideoFromFile, trimmed or not, a Kling node's VIDEO, an API node's
in-memory file) goes through the pack's decoder, which skips the frames left out without converting them and
scales inside swscale; a VIDEO made of frames (Create Video's) is cut and resized as tensors. Either way the
frames tensor is checked against the memory the process can still use before it is made.
"""
from __future__ import annotations

import dataclasses
import io as _io
import os
import tempfile
from typing import Any, Optional

from comfy_api.latest import io

from .sockets import CATEGORY

# The decoder (torch, numpy, PyAV) is imported when the node runs: help_pages and the CLI read this schema
# without them.

NODE_ID = "KlingVideo_VideoToFrames"


def _file_source(video) -> Optional[Any]:
    """The VIDEO's own file (a path or a BytesIO), or None when it has none: VideoInput's default
    get_stream_source would re-encode the frames, a lossy round trip this node exists to avoid."""
    owner = next((c for c in type(video).__mro__ if "get_stream_source" in vars(c)), None)
    if owner is None or owner.__name__ == "VideoInput":
        return None
    return video.get_stream_source()


def _trim_window(video) -> tuple[float, float]:
    trim = getattr(video, "get_active_trim_window", None)  # ComfyUI 0.33's Video Slice; 0.3.x has none
    return tuple(trim()) if trim is not None else (0.0, 0.0)


def frames_of(video, selection) -> tuple[Any, dict, float]:
    """(IMAGE, AUDIO, fps) of any VIDEO under the selection (a media_out.selection.FrameSelection)."""
    from ..media_out.decode import decode_video, silent_audio
    from ..media_out.memory import check_fits
    from ..media_out.selection import select_tensor, trim_audio
    source = _file_source(video)
    if source is not None:
        start, duration = _trim_window(video)
        selection = dataclasses.replace(selection, start_time=start, duration=duration)
        if isinstance(source, (str, os.PathLike)):
            decoded = decode_video(os.fspath(source), selection=selection)
            return decoded.frames, decoded.audio, decoded.fps
        return _decode_bytes(source, selection)
    components = video.get_components()
    images, fps = components.images, float(components.frame_rate or 0)
    n = selection.count(len(images))
    if not n:
        raise ValueError(f"the video has {len(images)} frames: skipping the first {selection.skip} leaves none")
    out_w, out_h = selection.out_size(int(images.shape[2]), int(images.shape[1]))
    if (out_w, out_h) != (int(images.shape[2]), int(images.shape[1])) or selection.every_nth > 1:
        # A new tensor (scaled, or the strided frames made contiguous); otherwise the frames are a view.
        check_fits(n * out_h * out_w * int(images.shape[3]) * 4, f"{n} frames of {out_w}x{out_h} as float32")
    frames = select_tensor(images, selection, fps)
    kept = len(frames)
    audio = trim_audio(components.audio, *selection.audio_window(fps, kept)) if fps else components.audio
    if audio is None:
        audio = silent_audio(kept / selection.fps(fps) if fps else 0.0)
    return frames, audio, selection.fps(fps)


def _decode_bytes(source: _io.BytesIO, selection) -> tuple[Any, dict, float]:
    from ..media_out.decode import decode_video
    # A file in memory (ComfyUI's API nodes hand their downloads over so): the decoder reads files by path, which
    # also lets it check the file is whole. A copy of a few MB, gone when decoded.
    fd, path = tempfile.mkstemp(prefix="kling-frames-", suffix=".mp4")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(source.getbuffer())
        decoded = decode_video(path, selection=selection)
    finally:
        os.unlink(path)
    return decoded.frames, decoded.audio, decoded.fps


class KlingVideoToFrames(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=NODE_ID, display_name="Kling Video to Frames", category=f"{CATEGORY}/helpers",
            description="Any VIDEO (a Kling node's, Load Video's, Create Video's) as frames, sound and fps, "
                        "decoded by the pack's fast decoder: smaller frames, fewer of them, from an offset, every "
                        "nth one. Frames are float32, 4 bytes per channel: 10 s of 4K is 22 GiB, 10 s of 1080p "
                        "5.6 GiB; what would not fit in the free memory is refused before anything is allocated, "
                        "with the size it needs.",
            inputs=[
                io.Video.Input("video", tooltip="Any VIDEO: a Kling node's, Load Video's (trimmed by Video "
                                                "Slice or not), Create Video's, another pack's."),
                io.Int.Input("size", default=0, min=0, max=16384, step=2,
                             tooltip="Longest side in pixels, keeping the aspect ratio (both sides even); "
                                     "0 keeps the video's size. Scaled while decoding."),
                io.Int.Input("frame_cap", default=0, min=0, max=1_000_000,
                             tooltip="At most this many frames; 0: all of them."),
                io.Int.Input("skip_first_frames", default=0, min=0, max=1_000_000,
                             tooltip="Frames left out at the start (of the trimmed part, for a trimmed VIDEO)."),
                io.Int.Input("every_nth", default=1, min=1, max=1000,
                             tooltip="Keep every nth frame: 2 halves the frames and the fps."),
            ],
            outputs=[
                io.Image.Output("frames", display_name="frames",
                                tooltip="The kept frames, float32 RGB in 0..1 (ComfyUI's IMAGE)."),
                io.Audio.Output("audio", display_name="audio",
                                tooltip="The sound of the kept frames' span; silence when the video has none."),
                io.Float.Output("fps", display_name="fps", tooltip="The kept frames' rate: the video's / every_nth."),
            ],
        )

    @classmethod
    def execute(cls, video, size=0, frame_cap=0, skip_first_frames=0, every_nth=1) -> io.NodeOutput:
        from ..media_out.selection import FrameSelection
        selection = FrameSelection(size=int(size), frame_cap=int(frame_cap), skip=int(skip_first_frames),
                                   every_nth=int(every_nth))
        frames, audio, fps = frames_of(video, selection)
        return io.NodeOutput(frames, audio, float(fps))
