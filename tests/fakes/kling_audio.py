"""Kling's audio routes for :class:`fakes.kling.FakeKling` (a mixin: FakeKling's auth, errors, jobs).

Written from third-party copies of Kling's documentation only, each naming klingai.com/document-api as its origin
(find_string ids 71232374228 ".../audio-generation/text-to-audio.md" and 71044361333 ".../video-to-audio.md"), and
the SDK okaris/kling @ 80af2f82 (kling/models/audio.py, kling/models/common.py); nothing here imports the package
under test::

    POST /v1/audio/text-to-audio            op "submit"  {prompt (required, 1-200 characters), duration (required,
                                                          a number 3.0-10.0 with at most one decimal),
                                                          external_task_id?, callback_url?}
    POST /v1/audio/video-to-audio           op "submit"  {video_id | video_url (exactly one: a video this fake
                                                          made, or an https link), sound_effect_prompt? (<= 200),
                                                          bgm_prompt? (<= 200), asmr_mode? (bool),
                                                          external_task_id?, callback_url?}
    GET  /v1/audio/<task>/<id>              op "status"  id: the task_id, or your external_task_id
    POST /v1/audio/tts                      op "submit"  {text (required, 1-1000 characters), voice_id (required),
                                                          voice_language (required, zh | en), voice_speed? (a
                                                          number 0.8-2.0 with at most one decimal)}: answered
                                                          with the finished task; there is no query route
    GET  /files/<file id>/output.{wav,mp3}  op "file"    the result's audio (no auth; Range)

Anything else in a body is refused with 400/1201 naming it. The create answer and the task are the /v1 envelope
(submitted -> processing -> succeed | failed, task_status_msg). Once succeeded, task_result.audios is
[{id, url_mp3, url_wav, duration_mp3, duration_wav}]; video to audio adds task_result.videos [{id, url, duration}]
(the fake's video bytes: "the video with its soundtrack"). The WAV lasts the requested duration (5 s for video
to audio: the linked video is not fetched); the MP3 is a fixed short tone.

Text to speech (third-party sources only: a scraped copy of Kling's apiReference/model/TTS page, the resellers
docs.kkiai.com, docs.fast-token.com and apidoc.cometapi.com, the SDK's TTSRequest, "Returns immediately with audio
in task_result") is synchronous: the create's answer is the task, "succeed" with task_result.audios [{id, url,
duration}] (the url is the MP3 above) or "failed" (next_outcome), with no task_info: none of the sources takes an
external_task_id, so it is refused like any other unknown field. A voice must speak the language ("Voice id not
found", 1201, as CometAPI reports); the fake knows the few voices of TTS_VOICES (languages from ComfyUI 0.33.0's
VOICES_CONFIG) and refuses the rest the same way.
"""
from __future__ import annotations

import io
import math
import re
import struct
import time
import uuid
import wave
from typing import Any

from .common import DONE, C, E, Issue, R, S, check_fields, numeric_id

TEXT_TO_AUDIO = "text-to-audio"
VIDEO_TO_AUDIO = "video-to-audio"
TTS = "tts"
AUDIO_ROUTES = [
    ("submit", ("POST",), re.compile(r"^/v1/audio/(?P<audio>text-to-audio|video-to-audio|tts)$")),
    ("status", ("GET",), re.compile(r"^/v1/audio/(?P<audio>text-to-audio|video-to-audio)/(?P<tid>[^/]+)$")),
]
SECONDS = (3.0, 10.0)
TTS_VOICES = {"genshin_vindi2": ("en", "zh"), "ai_kaiya": ("en", "zh"), "oversea_male1": ("en",),
              "uk_man2": ("en",), "tiyuxi_xuedi": ("zh",), "mengwa-v1": ("zh",)}
AUDIO_FILES = {"output.wav": "audio/wav", "output.mp3": "audio/mpeg"}


def _link(v: Any, path: str) -> list[Issue]:
    if isinstance(v, str) and re.match(r"^https://[^/\s]+/", v):
        return []
    return [Issue(path, "value", "must be an https link to an mp4/mov video")]


def _callback(v: Any, path: str) -> list[Issue]:
    if isinstance(v, str) and re.match(r"^https?://[^/\s]+", v):
        return []
    return [Issue(path, "value", "must be an http(s) URL")]


def audio_fields(task: str) -> dict:
    if task == TTS:
        return {"text": R(S(min_length=1, max_length=1000)), "voice_id": R(S(min_length=1)),
                "voice_language": R(E("zh", "en")), "voice_speed": {"type": "number", "ge": 0.8, "le": 2.0}}
    common = {"external_task_id": S(min_length=1), "callback_url": C(_callback)}
    if task == TEXT_TO_AUDIO:
        return {"prompt": R(S(min_length=1, max_length=200)),
                "duration": R({"type": "number", "ge": SECONDS[0], "le": SECONDS[1]}), **common}
    return {"video_id": S(min_length=1), "video_url": C(_link), "sound_effect_prompt": S(max_length=200),
            "bgm_prompt": S(max_length=200), "asmr_mode": {"type": "bool"}, **common}


def audio_issues(body: Any, task: str, made) -> list[Issue]:
    """made(video_id) says whether this fake made that video."""
    if not isinstance(body, dict):
        return [Issue("", "type", "Expected object")]
    issues = check_fields(audio_fields(task), body)
    if issues:
        return issues
    if task == TTS:
        if "voice_speed" in body and round(body["voice_speed"], 1) != body["voice_speed"]:
            issues.append(Issue("voice_speed", "value", "precise to one decimal place"))
        elif body["voice_language"] not in TTS_VOICES.get(body["voice_id"], ()):
            issues.append(Issue("voice_id", "value", "Voice id not found"))
    elif task == TEXT_TO_AUDIO:
        if round(body["duration"], 1) != body["duration"]:
            issues.append(Issue("duration", "value", "supports one decimal place"))
    elif ("video_id" in body) == ("video_url" in body):
        issues.append(Issue("video_url", "value", "exactly one of video_id and video_url is required"))
    elif "video_id" in body and not made(body["video_id"]):
        issues.append(Issue("video_id", "value", "not a video generated by this account in the last 30 days"))
    return issues


def tone_wav(seconds: float, rate: int = 8000) -> bytes:
    """A 440 Hz tone of this length as 16-bit mono WAV."""
    frames = b"".join(struct.pack("<h", int(9000 * math.sin(2 * math.pi * 440 * i / rate)))
                      for i in range(int(seconds * rate)))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return buf.getvalue()


class AudioRoutes:
    """FakeKling's handlers delegate here for /v1/audio; its file handler serves the audio files."""

    _mp3: bytes | None = None

    async def _audio_submit(self, request, params, entry):
        task, body = params["audio"], entry["json"]
        issues = await self._offload(audio_issues, body, task, lambda vid: self.video(vid) is not None)
        if issues:
            return self._err(400, 1201, "Invalid parameters: " + "; ".join(i.text() for i in issues))
        if task == TTS:
            return self._tts_answer(entry, body)
        ext = body.get("external_task_id")
        with self._lock:
            if ext is not None and ext in self._external:
                return self._err(400, 1201, f"external_task_id already exists: {ext!r}")
            job = self._create(body, ext, model=task, endpoint=f"audio/{task}",
                               extra={"external_task_id": ext, "video_id": str(uuid.uuid4()),
                                      "audio_id": str(uuid.uuid4()), "mode": "",
                                      "seconds": float(body.get("duration", 5.0))})
        return self._created(entry, job, ext)

    def _tts_answer(self, entry, body):
        """The synchronous create: the task, finished."""
        with self._lock:
            job = self._create(body, None, model=TTS, endpoint=f"audio/{TTS}",
                               extra={"audio_id": str(uuid.uuid4()), "mode": "", "seconds": 1.0})
            if job is None:
                return self._created(entry, job, None)
            self._complete(job, job.t_submit)
            entry["request_id"] = job.id
            ms = int(job.wall_submit * 1000)
            data = {"task_id": job.id, "task_status": "succeed" if job.ok else "failed",
                    "task_status_msg": "" if job.ok else job.outcome["message"], "created_at": ms, "updated_at": ms}
            if job.ok:
                data["final_unit_deduction"] = "1"  # arbitrary
                data["task_result"] = {"audios": [{"id": job.extra["audio_id"], "duration": "1.0",
                                                   "url": f"{self.base_url}/files/{job.file_id}/output.mp3"}]}
        return self._json(200, {"code": 0, "message": "success", "request_id": str(uuid.uuid4()), "data": data})

    def _audio_status(self, params):
        tid = params["tid"]
        with self._lock:
            job = self.jobs.get(tid) or self.jobs.get(self._external.get(tid, ""))
            if job is None or job.endpoint != f"audio/{params['audio']}":
                return self._err(404, 1203, f"Task not found: {tid}")
            phase = self._phase(job, time.monotonic())
            data = self._task_data(job, phase)
            data.pop("watermark_info", None)
            if data["task_status"] == "succeed":
                data["task_result"] = self._audio_result(job)
        return self._json(200, {"code": 0, "message": "success", "request_id": str(uuid.uuid4()), "data": data})

    def _audio_result(self, job) -> dict:
        base = f"{self.base_url}/files/{job.file_id}/output"
        seconds = f"{job.extra['seconds']:.1f}"
        result = {"audios": [{"id": job.extra["audio_id"], "url_mp3": base + ".mp3", "url_wav": base + ".wav",
                              "duration_mp3": seconds, "duration_wav": seconds}]}
        if job.model == VIDEO_TO_AUDIO:
            result["videos"] = [{"id": job.extra["video_id"], "url": self.file_url(job), "duration": seconds}]
        return result

    async def _h_file(self, request, params, raw, entry, inj):
        if params["name"] not in AUDIO_FILES:
            return await super()._h_file(request, params, raw, entry, inj)
        with self._lock:
            job = self.jobs.get(self._files.get(params["fid"], ""))
            done = (job is not None and job.endpoint.startswith("audio/")
                    and self._phase(job, time.monotonic()) == DONE and job.ok)
        if not done:
            return self._json(404, self._error_body(404, "Not Found", request.path))
        if params["name"] == "output.wav":
            data = await self._offload(tone_wav, job.extra["seconds"])
        else:
            data = self._mp3 = self._mp3 or await self._offload(_mp3)
        return await self._serve(request, data, AUDIO_FILES[params["name"]], entry, inj)


def _mp3() -> bytes:
    from .fal import default_audio  # one second of tone (as WAV where PyAV has no MP3 encoder)
    return default_audio()
