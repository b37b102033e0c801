"""Kling's own API: the /v1/videos tasks whose bodies are not text2video's or image2video's (motion control, lip
sync), as pure mappings from the catalog's body (fal's names). kling.py sends them like the others; motion control
carries external_task_id (a lost answer is found again by our id), lip sync documents none.

Motion control, POST /v1/videos/motion-control (ComfyUI 0.33.0's own code, comfy_api_nodes/nodes_kling.py
MotionControl and apis/kling.py MotionControlRequest: model_name kling-v3 | kling-v2-6, mode, prompt, image_url,
video_url, keep_original_sound "yes" | "no", character_orientation; provider_protocols.md §5.4; a third-party
mirror of Kling's page, cuijinyu/new-api web/src/pages/Documentation/content/kling-motion-control.en.md:
image_url "Base64 or URL", video_url a link to an mp4/mov of at most 100 MB, external_task_id). Kling keeps no
uploads, so the reference video can go only as a link: that of a result the pack downloaded (Media.url).

Lip sync, POST /v1/videos/lip-sync (ComfyUI 0.33.0's comfy_api_nodes/apis/__init__.py KlingLipSyncRequest and
KlingLipSyncInputObject, nodes_kling.py execute_lipsync; a third-party copy of Kling's page, timerring/dmx-docs-test
docs/zh/models/kling/api/video-sync-lip.md): {input: {video_url (a link: mp4/mov, <= 100 MB, 2-10 s, 720-1920 px
sides) | video_id, mode text2video | audio2video, text (<= 120), voice_id, voice_language zh | en, voice_speed
0.8-2.0, audio_type file | url, audio_file (raw Base64; mp3/wav/m4a/aac, <= 5 MB) | audio_url}, callback_url}.
No external_task_id in either source: a lost answer cannot be looked up (kling.py never resends it). The model
is written "lip-sync/<mode>".
"""
from __future__ import annotations

import base64
import struct
from typing import Any, Optional

from ..core.errors import InputError
from ..media_in.media import Media

MOTION = "motion-control"
LIP_SYNC = "lip-sync"
LIP_SYNC_SECONDS = (2.0, 10.0)   # "2-10秒"; Comfy's execute_lipsync: validate_video_duration(video, 2, 10)


def _raw_base64(value: Any) -> Any:
    return base64.b64encode(value.data).decode() if isinstance(value, Media) else value


def link(value: Any, field: str, what: str) -> str:
    if isinstance(value, Media):
        if not value.url:
            raise InputError(field, f"Kling's API takes the {what} only as a link (it keeps no uploads): connect a "
                                    "video this pack downloaded from a provider, whose link is passed on, or choose "
                                    "another provider")
        return value.url
    return value


def is_motion(body: dict) -> bool:
    return "character_orientation" in body


def motion_wire(model_name: str, mode: str, body: dict) -> dict:
    out = {"model_name": model_name, "mode": mode, "image_url": _raw_base64(body["image_url"]),
           "video_url": link(body["video_url"], "reference_video", "reference video"),
           "character_orientation": body["character_orientation"]}
    if "prompt" in body:
        out["prompt"] = body["prompt"]
    if "keep_original_sound" in body:
        out["keep_original_sound"] = "yes" if body["keep_original_sound"] else "no"
    return out


def is_lip_sync(model: str) -> bool:
    return model.partition("/")[0] == LIP_SYNC


def lip_sync_wire(model: str, body: dict) -> dict:
    video = body["video_url"]
    seconds = mp4_seconds(video.data) if isinstance(video, Media) else None
    if seconds is not None and not LIP_SYNC_SECONDS[0] <= seconds <= LIP_SYNC_SECONDS[1] + 0.05:
        raise InputError("video", f"lasts {seconds:.1f} s; Kling's lip sync takes 2-10 s (fal.ai takes longer ones)")
    out: dict = {"mode": model.partition("/")[2], "video_url": link(video, "video", "face video")}
    if "audio_url" in body:
        audio = body["audio_url"]
        if isinstance(audio, Media) and audio.url:
            out.update(audio_type="url", audio_url=audio.url)
        else:
            out.update(audio_type="file", audio_file=_raw_base64(audio))
    for key in ("text", "voice_id", "voice_language", "voice_speed"):
        if key in body:
            out[key] = body[key]
    return {"input": out}


def mp4_seconds(data: bytes) -> Optional[float]:
    """An MP4's length from its movie header (moov/mvhd), or None where there is none to read."""
    moov = _box(data, b"moov")
    mvhd = _box(moov, b"mvhd") if moov else None
    if not mvhd or len(mvhd) < 32:
        return None
    scale, length = (struct.unpack(">IQ", mvhd[20:32]) if mvhd[0] == 1 else struct.unpack(">II", mvhd[12:20]))
    return length / scale if scale else None


def _box(data: bytes, kind: bytes) -> Optional[bytes]:
    """The payload of the first top-level box of this kind."""
    at = 0
    while at + 8 <= len(data):
        size, name = struct.unpack(">I4s", data[at:at + 8])
        head = 8
        if size == 1 and at + 16 <= len(data):
            size, head = struct.unpack(">Q", data[at + 8:at + 16])[0], 16
        elif size == 0:
            size = len(data) - at
        if size < head:
            return None
        if name == kind:
            return data[at + head:at + size]
        at += size
    return None
