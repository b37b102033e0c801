"""Kling's own API: its audio tasks, under /v1/audio rather than /v1/videos. kling.py sends them like the others
(a fresh JWT, external_task_id = the journal hash, then GET <the same path>/<task_id or external_task_id>);
this module maps the catalog's body (fal's names) onto Kling's and finds the file in the result.

Sources are third-party copies of Kling's documentation only, each naming klingai.com/document-api as its origin
(find_string ids 71232374228 text-to-audio.md, 71044361333 video-to-audio.md), agreeing with the SDK
okaris/kling @ 80af2f82 (kling/models/audio.py, kling/models/common.py AudioResult, kling/api/audio.py):

  POST /v1/audio/text-to-audio   {prompt (required, <= 200 characters), duration (required, 3.0-10.0 s, one
                                  decimal), external_task_id, callback_url}
  POST /v1/audio/video-to-audio  {video_id | video_url (exactly one; a link to an mp4/mov, <= 100 MB, 3-20 s),
                                  sound_effect_prompt (<= 200), bgm_prompt (<= 200), asmr_mode (default false),
                                  external_task_id, callback_url}
  GET  /v1/audio/<task>/<id>     the /v1 task envelope; once "succeed", task_result.audios[{id, url_mp3, url_wav,
                                  duration_mp3, duration_wav}], and for video to audio also task_result.videos
                                  [{id, url, duration}]: the video with its new soundtrack.

Video to audio's node gives a VIDEO (the dubbed video, as fal's does); text to audio's an AUDIO, the WAV when
Kling gives one (lossless, for editing further), else the MP3. Kling keeps no uploads: the video goes as a link.
The models are written as the task's name ("text-to-audio", "video-to-audio").
"""
from __future__ import annotations

from ..core.errors import InputError
from .kling_tasks import link
from .wire_format import url_at

TEXT_TO_AUDIO = "text-to-audio"
VIDEO_TO_AUDIO = "video-to-audio"
TASKS = (TEXT_TO_AUDIO, VIDEO_TO_AUDIO)
SECONDS = (3.0, 10.0)   # "3.0s - 10.0s, supports one decimal place"


def serves(model: str) -> bool:
    return model in TASKS


def path(task: str) -> str:
    return f"/v1/audio/{task}"


def to_wire(model: str, body: dict) -> dict:
    if model == TEXT_TO_AUDIO:
        return {"prompt": body["prompt"], "duration": _seconds(body.get("duration", 5.0))}
    out = {"video_url": link(body["video_url"], "video", "video")}
    # The node requires both prompts; Kling takes either alone too, so an empty one is left out.
    for ours, theirs in (("sound_effect_prompt", "sound_effect_prompt"), ("background_music_prompt", "bgm_prompt")):
        if body.get(ours):
            out[theirs] = body[ours]
    if "asmr_mode" in body:
        out["asmr_mode"] = bool(body["asmr_mode"])
    return out


def _seconds(value) -> float:
    seconds = float(value)
    if not SECONDS[0] <= seconds <= SECONDS[1] or round(seconds, 1) != seconds:
        raise InputError("duration", f"is {seconds:g}; Kling's text to audio takes 3.0 to 10.0 seconds, in steps "
                                     "of 0.1")
    return seconds


def audio_url(result: dict) -> str:
    return url_at(result, ("task_result", "audios", 0, "url_wav"), ("task_result", "audios", 0, "url_mp3")) or ""
