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

Text to speech (the Kling-only node "Kling Text to Speech (Kling API)"; third-party sources only, in
catalog/kling_only.py TTS_SOURCE) is synchronous:

  POST /v1/audio/tts             {text (required, <= 1000), voice_id (required, a preset voice), voice_language
                                  (required, zh | en, one the voice speaks), voice_speed (0.8-2.0, one decimal)}
                                  answered with the finished task: task_result.audios[{id, url, duration}]

No source gives it an external_task_id or a query route, so a lost answer cannot be looked up: kling.findable()
says so and the runner never resends it. The answer itself is the job's one status (kling.py keeps it in the
handle: a restart reattaches without a request).

Video to audio's node gives a VIDEO (the dubbed video, as fal's does); text to audio's an AUDIO, the WAV when
Kling gives one (lossless, for editing further), else the MP3. Kling keeps no uploads: the video goes as a link.
The models are written as the task's name ("text-to-audio", "video-to-audio").
"""
from __future__ import annotations

from ..catalog.kling_voices import LANGUAGES, TTS_VOICES, speaks
from ..core.errors import InputError
from .kling_tasks import link
from .wire_format import url_at

TEXT_TO_AUDIO = "text-to-audio"
VIDEO_TO_AUDIO = "video-to-audio"
TTS = "tts"
TASKS = (TEXT_TO_AUDIO, VIDEO_TO_AUDIO, TTS)
SECONDS = (3.0, 10.0)   # "3.0s - 10.0s, supports one decimal place"
TTS_TEXT_MAX = 1000
TTS_SPEED = (0.8, 2.0)  # "valid range: 0.8~2.0, precise to one decimal place"
# A create answer without a result: Kling's TTS has no route to ask about it again.
UNSETTLED = ("Kling's text to speech answered without a finished result, and it has no route to ask about that "
             "task again: check your Kling dashboard")


def serves(model: str) -> bool:
    return model in TASKS


def path(task: str) -> str:
    return f"/v1/audio/{task}"


def synchronous(task: str) -> bool:
    """Whether the create's answer is the finished task (text to speech): there is nothing to poll."""
    return task == TTS


def to_wire(model: str, body: dict) -> dict:
    if model == TTS:
        return _tts(body)
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


def _tts(body: dict) -> dict:
    text, voice, language = body.get("text") or "", body.get("voice_id") or "", body.get("voice_language") or ""
    speed = float(body.get("voice_speed", 1.0))
    if not text.strip() or len(text) > TTS_TEXT_MAX:
        raise InputError("text", f"has {len(text)} characters; Kling's text to speech takes 1 to {TTS_TEXT_MAX}")
    if language not in LANGUAGES:
        raise InputError("voice_language", f"is {language!r}; Kling's text to speech takes en or zh")
    if voice not in TTS_VOICES:
        raise InputError("voice_id", f"{voice!r} is not one of Kling's preset voices")
    if not speaks(voice, language):
        raise InputError("voice_id", f"{voice!r} speaks only {'/'.join(TTS_VOICES[voice])}, not {language}: "
                                     "Kling refuses the pair (\"Voice id not found\")")
    if not TTS_SPEED[0] <= speed <= TTS_SPEED[1] or round(speed, 1) != speed:
        raise InputError("voice_speed", f"is {speed:g}; Kling's text to speech takes 0.8 to 2.0, in steps of 0.1")
    return {"text": text, "voice_id": voice, "voice_language": language, "voice_speed": speed}


def _seconds(value) -> float:
    seconds = float(value)
    if not SECONDS[0] <= seconds <= SECONDS[1] or round(seconds, 1) != seconds:
        raise InputError("duration", f"is {seconds:g}; Kling's text to audio takes 3.0 to 10.0 seconds, in steps "
                                     "of 0.1")
    return seconds


def audio_url(result: dict) -> str:
    return url_at(result, ("task_result", "audios", 0, "url_wav"), ("task_result", "audios", 0, "url_mp3"),
                  ("task_result", "audios", 0, "url")) or ""  # "url": text to speech's one file
