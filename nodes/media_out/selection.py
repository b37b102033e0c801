"""Which frames to decode and at what size: the frames node's size, frame cap, offset and stride.

Pure arithmetic plus the tensor-side version (for a VIDEO that is frames already); the decoder applies the same
selection while decoding, so that skipped frames are never converted and scaled ones are scaled by swscale.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch


@dataclass(frozen=True)
class FrameSelection:
    size: int = 0           # longest side in pixels, aspect kept; 0: the video's own size
    frame_cap: int = 0      # at most this many frames; 0: all
    skip: int = 0           # frames left out at the start (after the trim window)
    every_nth: int = 1      # keep frame skip, skip + n, skip + 2n, ...
    start_time: float = 0.0  # a trim window in seconds (ComfyUI's trimmed VideoFromFile); 0: from the start
    duration: float = 0.0    # 0: to the end

    def __post_init__(self):
        for name in ("size", "frame_cap", "skip", "start_time", "duration"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, not {getattr(self, name)}")
        if self.every_nth < 1:
            raise ValueError(f"every_nth must be 1 or more, not {self.every_nth}")

    def out_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of the frames: the longest side at `size`, both sides even (H.264's 4:2:0, which
        SaveVideo writes, needs even sides); the video's own size when `size` is 0 or already that."""
        if not self.size or self.size == max(width, height):
            return width, height
        scale = self.size / max(width, height)
        return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)

    def count(self, frames_in_window: int) -> int:
        """How many frames the selection keeps out of `frames_in_window`."""
        kept = math.ceil(max(0, frames_in_window - self.skip) / self.every_nth)
        return min(kept, self.frame_cap) if self.frame_cap else kept

    def fps(self, fps: float) -> float:
        """The rate of the kept frames: the stride thins them out, the cap and offset do not."""
        return fps / self.every_nth

    def keeps(self, index: int) -> bool:
        """Whether frame `index` (0 = the first frame of the window) is kept, cap aside."""
        return index >= self.skip and (index - self.skip) % self.every_nth == 0

    def audio_window(self, fps: float, kept: int) -> tuple[float, Optional[float]]:
        """(start, end) in seconds of the sound that goes with the kept frames, from the start of the file;
        end None: to the end (the window's, when it has one)."""
        start = self.start_time + (self.skip / fps if fps else 0.0)
        end = start + kept * self.every_nth / fps if fps and kept else None
        if self.duration:
            window_end = self.start_time + self.duration
            end = window_end if end is None else min(end, window_end)
        return start, end


NO_SELECTION = FrameSelection()


def trim_audio(audio: Optional[dict], start: float, end: Optional[float]) -> Optional[dict]:
    """The part of an AUDIO dict between two times (seconds from its first sample); a view, no copy."""
    if audio is None or (start <= 0 and end is None):
        return audio
    rate = int(audio["sample_rate"])
    wave = audio["waveform"]
    lo = min(wave.shape[-1], max(0, round(start * rate)))
    hi = wave.shape[-1] if end is None else min(wave.shape[-1], max(lo, round(end * rate)))
    return {**audio, "waveform": wave[..., lo:hi]}


def select_tensor(images: torch.Tensor, selection: FrameSelection, fps: float) -> torch.Tensor:
    """The selection applied to frames already in memory ([N, H, W, C] float): offset, stride and cap as a view,
    then a resize when asked (there is no decoder to scale in). The trim window is the caller's: a VIDEO made
    of frames has none."""
    picked = images[selection.skip::selection.every_nth]
    if selection.frame_cap:
        picked = picked[: selection.frame_cap]
    height, width = int(images.shape[1]), int(images.shape[2])
    out_w, out_h = selection.out_size(width, height)
    if (out_w, out_h) == (width, height) or len(picked) == 0:
        return picked.contiguous()
    out = torch.empty((len(picked), out_h, out_w, images.shape[3]), dtype=images.dtype)
    # In slices: interpolate's float working copies stay a few frames big, whatever the batch.
    step = 8
    for i in range(0, len(picked), step):
        chunk = picked[i:i + step].movedim(-1, 1).float()
        scaled = torch.nn.functional.interpolate(chunk, size=(out_h, out_w), mode="bicubic",
                                                 align_corners=False, antialias=True)
        out[i:i + step] = scaled.clamp_(0, 1).movedim(1, -1)
    return out
