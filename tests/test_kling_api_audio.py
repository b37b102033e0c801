"""Kling's own API audio tasks: text to audio (a Kling-only node) and video to audio (an offer on fal's node). Each
runs end to end through the pack against the fake Kling API (wire body, statuses, result, the downloaded file);
what Kling cannot take is refused before any request; the fake is as strict as the documented shape (third-party
copies of Kling's pages and the okaris/kling SDK: fakes/kling_audio.py)."""
import asyncio
import base64
import hashlib
import io
import wave

import pytest

from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.catalog.kling_only import GENERATED, TEXT_TO_AUDIO
from comfyui_kling_video.nodes.core.errors import InputError, KlingError
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.jobs.journal import Journal
from comfyui_kling_video.nodes.providers import select
from comfyui_kling_video.nodes.request import prepare
from fakes.kling_audio import tone_wav
from test_kling_extend import kling  # noqa: F401  (the fake Kling API, pointed at)
from test_kling_models import _raw

T2A, V2A = "/v1/audio/text-to-audio", "/v1/audio/video-to-audio"


def run(tmp_path, key, inputs):
    return asyncio.run(generate(lambda: prepare(variant(key), inputs, "kling"), tmp_path / "out"))


def record_of(done):
    return next(r for r in Journal().all() if r["request_id"] == done.request_id)


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as w:
        return w.getnframes() / w.getframerate()


@pytest.fixture
def clip(tmp_path):
    """A 4 s video the pack downloaded earlier, with the provider link that still serves it."""
    from comfyui_kling_video.nodes.media_in.media import SavedResult
    from media import make_mp4
    path = make_mp4(tmp_path / "clip.mp4", width=640, height=360, fps=12, seconds=4.0)
    return SavedResult(str(path), "https://cdn.example.com/clip.mp4", hashlib.sha256(path.read_bytes()).hexdigest())


# -- Text to audio ----------------------------------------------------------------------------------------
def test_text_to_audio_runs_on_kling_and_saves_the_wav(kling, tmp_path):
    prepared, done = run(tmp_path, "kling-text-to-audio", {"prompt": "fireworks at a festival", "duration": 4.5})
    [submit] = kling.submits()
    assert submit["path"] == T2A
    body = submit["json"]
    assert {k: v for k, v in body.items() if k != "external_task_id"} == {"prompt": "fireworks at a festival",
                                                                          "duration": 4.5}
    assert body["external_task_id"]  # a lost answer is found again by our id
    assert {r["path"].rsplit("/", 1)[0] for r in kling.requests("status")} == {T2A}
    assert done.path.suffix == ".wav" and done.path.read_bytes() == tone_wav(4.5)
    assert wav_seconds(done.path.read_bytes()) == pytest.approx(4.5)
    assert record_of(done)["endpoint"] == "text-to-audio"
    assert prepared.cost.usd is None and prepared.cost.cap_usd > 0  # unpublished: the cap counts a stand-in


def test_text_to_audio_is_a_kling_only_node_with_sourced_fields():
    v = TEXT_TO_AUDIO
    assert v in GENERATED and variant(v.key) is v and variant(v.node_id) is v and v.endpoint == ""
    assert v.providers == ("kling",) and v.output == "audio" and v.family == "audio"
    with pytest.raises(InputError, match="choose one of: auto, kling"):
        select.choose(v, "fal")
    assert "third-party copies of Kling's documentation" in v.source and "okaris/kling @ 80af2f82" in v.source
    assert v.price.audio_off is None and "not published" in v.price.source
    assert (v.field("prompt").max_length, v.field("duration").min, v.field("duration").max) == (200, 3.0, 10.0)


@pytest.mark.parametrize("inputs,field", [
    ({"prompt": "p" * 201}, "prompt"),                 # "Cannot exceed 200 characters"
    ({"prompt": "rain", "duration": 10.5}, "duration"),  # 3.0-10.0 s
    ({"prompt": "rain", "duration": 2.5}, "duration"),
    ({"prompt": "rain", "duration": 4.55}, "duration"),  # "supports one decimal place"
    ({"prompt": ""}, "prompt"),
])
def test_what_text_to_audio_cannot_take_is_refused_before_any_request(kling, tmp_path, inputs, field):
    with pytest.raises(InputError) as err:
        run(tmp_path, "kling-text-to-audio", inputs)
    assert err.value.field == field
    assert kling.log == []


def test_a_lost_text_to_audio_answer_is_found_by_our_id(kling, tmp_path):
    kling.inject("submit", reset=True, process=True)
    _, done = run(tmp_path, "kling-text-to-audio", {"prompt": "a door creaks", "duration": 3.0})
    assert kling.count("submit") == 1 and len(kling.jobs) == 1
    external = kling.requests("submit")[0]["json"]["external_task_id"]
    assert any(r["path"] == f"{T2A}/{external}" for r in kling.requests("status"))
    assert wav_seconds(done.path.read_bytes()) == pytest.approx(3.0)


def test_a_failed_text_to_audio_task_reports_kling_s_message(kling, tmp_path):
    from comfyui_kling_video.nodes.core.errors import JobFailed
    kling.next_outcome = ("error", {"message": "content policy triggered"})
    with pytest.raises(JobFailed, match="content policy triggered"):
        run(tmp_path, "kling-text-to-audio", {"prompt": "a fox"})


# -- Video to audio ---------------------------------------------------------------------------------------
def test_video_to_audio_runs_on_kling_with_the_video_s_link(kling, tmp_path, clip):
    v = variant("video-to-audio")
    assert v.providers == ("fal", "kling")
    _, done = run(tmp_path, "video-to-audio", {"video": clip, "sound_effect_prompt": "engines roar",
                                               "background_music_prompt": "tense drums", "asmr_mode": True})
    [submit] = kling.submits()
    assert submit["path"] == V2A
    body = submit["json"]
    assert {k: v for k, v in body.items() if k != "external_task_id"} == {
        "video_url": clip.url, "sound_effect_prompt": "engines roar", "bgm_prompt": "tense drums", "asmr_mode": True}
    assert body["external_task_id"]
    assert {r["path"].rsplit("/", 1)[0] for r in kling.requests("status")} == {V2A}
    assert done.path.read_bytes() == kling.video_bytes  # the video with its new soundtrack
    assert record_of(done)["endpoint"] == "video-to-audio"
    offer = v.offer("kling")
    assert "third-party copies of Kling's documentation" in offer.source and "not published" in offer.price.source


def test_a_video_without_a_link_is_refused_before_any_request(kling, tmp_path, clip):
    with pytest.raises(InputError) as err:
        run(tmp_path, "video-to-audio", {"video": clip.path, "sound_effect_prompt": "rain",
                                         "background_music_prompt": "piano"})
    assert err.value.field == "video" and "only as a link" in str(err.value)
    assert kling.log == []


# -- The fake ---------------------------------------------------------------------------------------------
def test_the_fake_takes_text_to_audio_as_strictly_as_documented(kling):
    good = {"prompt": "fireworks", "duration": 3}
    for change, named in (({"prompt": None}, "prompt"), ({"duration": None}, "duration"),
                          ({"prompt": "p" * 201}, "prompt"), ({"duration": 2.9}, "duration"),
                          ({"duration": 10.1}, "duration"), ({"duration": 5.55}, "one decimal"),
                          ({"duration": "5"}, "duration"), ({"model_name": "kling-v1"}, "model_name"),
                          ({"external_task_id": ""}, "external_task_id")):
        body = {k: v for k, v in {**good, **change}.items() if v is not None}
        r = _raw(kling, "POST", T2A, body)
        assert (r.status, r.json["code"]) == (400, 1201) and named in r.json["message"], (change, r.json)
    data = _raw(kling, "POST", T2A, {**good, "external_task_id": "sfx1"}).json["data"]
    assert data["task_status"] == "submitted" and data["task_info"] == {"external_task_id": "sfx1"}
    kling.wait_completed(data["task_id"])
    task = _raw(kling, "GET", f"{T2A}/sfx1").json["data"]  # found by our id too
    assert task["task_id"] == data["task_id"] and task["task_status"] == "succeed"
    [sound] = task["task_result"]["audios"]
    assert set(sound) == {"id", "url_mp3", "url_wav", "duration_mp3", "duration_wav"} and "videos" not in task[
        "task_result"]
    assert _raw(kling, "GET", f"{V2A}/{data['task_id']}").json["code"] == 1203  # another task's route
    assert _raw(kling, "GET", f"/v1/videos/text2video/{data['task_id']}").json["code"] == 1203
    assert _raw(kling, "POST", T2A, {**good, "external_task_id": "sfx1"}).json["code"] == 1201  # not twice


def test_the_fake_takes_video_to_audio_as_strictly_as_documented(kling):
    link = "https://cdn.example.com/clip.mp4"
    for body, named in (({}, "exactly one of video_id and video_url"),
                        ({"video_url": link, "video_id": "v1"}, "exactly one of video_id and video_url"),
                        ({"video_url": base64.b64encode(b"video").decode()}, "video_url"),
                        ({"video_id": "nope"}, "30 days"),
                        ({"video_url": link, "bgm_prompt": "b" * 201}, "bgm_prompt"),
                        ({"video_url": link, "sound_effect_prompt": "s" * 201}, "sound_effect_prompt"),
                        ({"video_url": link, "asmr_mode": "yes"}, "asmr_mode"),
                        ({"video_url": link, "background_music_prompt": "x"}, "background_music_prompt"),
                        ({"video_url": link, "duration": 5}, "duration")):
        r = _raw(kling, "POST", V2A, body)
        assert (r.status, r.json["code"]) == (400, 1201) and named in r.json["message"], (body, r.json)
    tid = _raw(kling, "POST", V2A, {"video_url": link, "asmr_mode": False}).json["data"]["task_id"]
    kling.wait_completed(tid)
    result = _raw(kling, "GET", f"{V2A}/{tid}").json["data"]["task_result"]
    assert result["videos"][0]["url"] and result["audios"][0]["url_wav"]
    made = _raw(kling, "POST", "/v1/videos/text2video", {"model_name": "kling-v1-6", "prompt": "x"}).json["data"]
    kling.wait_completed(made["task_id"])
    video_id = _raw(kling, "GET", f"/v1/videos/text2video/{made['task_id']}").json["data"]["task_result"][
        "videos"][0]["id"]
    assert _raw(kling, "POST", V2A, {"video_id": video_id}).json["code"] == 0  # a video this account made


def test_the_fake_serves_the_audio_files_once_done(kling):
    import urllib.request
    data = _raw(kling, "POST", T2A, {"prompt": "rain", "duration": 3.5}).json["data"]
    kling.wait_completed(data["task_id"])
    sound = _raw(kling, "GET", f"{T2A}/{data['task_id']}").json["data"]["task_result"]["audios"][0]
    import ssl
    context = ssl.create_default_context(cafile=str(kling.ca_path))
    with urllib.request.urlopen(sound["url_wav"], context=context) as r:
        assert r.headers["Content-Type"] == "audio/wav" and wav_seconds(r.read()) == pytest.approx(3.5)
    with urllib.request.urlopen(sound["url_mp3"], context=context) as r:
        assert r.headers["Content-Type"] == "audio/mpeg" and len(r.read()) > 100


def test_tts_is_not_offered_on_kling():
    """Kling's TTS needs voice_language, and one voice id serves both languages (ComfyUI's nodes_kling.py maps
    genshin_vindi2 to en and zh): the tts node, which has no language input, cannot say which to send. Kling's TTS
    is a node of its own instead (kling-tts: test_kling_api_tts.py)."""
    assert variant("tts").providers == ("fal",)
    with pytest.raises(KlingError):
        select.choose(variant("tts"), "kling")
