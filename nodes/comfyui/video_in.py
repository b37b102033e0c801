"""ComfyUI's VIDEO objects → what the encoder takes (media_in/encode.py): the path of a file that is the
whole video as MP4/MOV, else a PendingVideo that re-encodes it as H.264 MP4 when the request reaches it.

VIDEO objects are recognised by their methods, not their classes, so every form the hosts hand over works:
core Load Video's VideoFromFile (0.33's Video Slice trims one without touching its file), Create Video's
VideoFromComponents, and other packs' VideoInput subclasses. AUDIO is already plain data (any mapping with
`waveform` and `sample_rate`, VideoHelperSuite's LazyAudioMap too); an AUDIO that is unchanged output of one of
the pack's audio results is recognised by audio_in.py.
"""
from __future__ import annotations

import os
from typing import Any, Optional

from ..jobs.lineage import passable_url
from .audio_in import saved_audio
from ..media_in.media import PendingVideo, SavedResult


def plain_inputs(inputs: dict, pass_urls: bool = True) -> dict:
    """The node's inputs with every VIDEO (also inside the structures helper nodes build, e.g. an element's
    video) replaced by plain data; everything else is passed on as it is. With `pass_urls`, a video file the
    pack itself downloaded comes with the provider's URL for it (a SavedResult), and so does an AUDIO that is
    an audio result of the pack's, unchanged (a SavedAudio), so a provider that takes URLs is sent the URL
    instead of the file."""
    return {name: _plain(value, pass_urls) for name, value in inputs.items()}


def _plain(value: Any, pass_urls: bool) -> Any:
    if _is_video(value):
        source = video_source(value)
        return (saved_result(source) or source) if pass_urls else source
    # Only the pack's own structures (lists of plain dicts) are walked: a mapping of another type may be
    # lazy (VideoHelperSuite's AUDIO decodes on first access).
    if type(value) is list:
        return [_plain(v, pass_urls) for v in value]
    if pass_urls and type(value) is dict and "waveform" in value:
        return saved_audio(value) or value
    if type(value) is dict:
        return {k: _plain(v, pass_urls) for k, v in value.items()}
    return value


def saved_result(source: Any) -> Optional[SavedResult]:
    """A SavedResult for a video file the journal says the pack downloaded and whose URL still serves it."""
    if not isinstance(source, (str, os.PathLike)):
        return None
    found = passable_url(source)
    return SavedResult(os.fspath(source), *found) if found else None


def _is_video(value: Any) -> bool:
    return hasattr(value, "save_to") or hasattr(value, "get_stream_source")


def video_source(video) -> Any:
    """Its own file when that is already the whole video as MP4/MOV (sent as it is), else a PendingVideo."""
    source = video.get_stream_source() if _is_whole_file(video) else None
    if isinstance(source, (str, os.PathLike)) and str(source).lower().endswith((".mp4", ".mov")):
        return source
    if not hasattr(video, "save_to"):
        return video  # not a VIDEO after all: the encoder names what it got

    def write_mp4(path: str) -> None:
        from comfy_api.latest import Types
        # A real .mp4 path: into a BytesIO, ComfyUI 0.3.x's save_to names no container and PyAV refuses
        # ("Could not determine output format").
        video.save_to(path, format=Types.VideoContainer.MP4, codec=Types.VideoCodec.H264)

    return PendingVideo(write_mp4)


def _is_whole_file(video) -> bool:
    """Whether the VIDEO's stream source is its whole content: a file-backed VIDEO without a trim window
    (ComfyUI 0.33's Video Slice trims a VideoFromFile without touching its file). VideoInput's default
    get_stream_source encodes everything into a BytesIO, which fails on ComfyUI 0.3.x: not worth asking."""
    if not hasattr(video, "get_stream_source"):
        return False
    owner = next((c for c in type(video).__mro__ if "get_stream_source" in vars(c)), None)
    if owner is None or owner.__name__ == "VideoInput":
        return False
    trim = getattr(video, "get_active_trim_window", None)
    return trim is None or not any(trim())
