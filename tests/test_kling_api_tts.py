"""Kling's own text to speech (POST /v1/audio/tts): a Kling-only node, end to end through the pack against the fake
Kling API. The create's answer is the finished task (no polling, no query route), so a lost answer is never sent
again; what Kling cannot take is refused before any request. Sources (third party only) and the fake's shape:
fakes/kling_audio.py."""
import asyncio

import pytest

from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.catalog.kling_only import GENERATED, TEXT_TO_SPEECH
from comfyui_kling_video.nodes.catalog.kling_voices import TTS_VOICES
from comfyui_kling_video.nodes.core.errors import InputError, JobFailed, ProviderError
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.jobs.journal import Journal
from comfyui_kling_video.nodes.providers import kling as kling_api, select
from comfyui_kling_video.nodes.request import prepare
from fakes.kling_audio import _mp3
from test_kling_extend import kling  # noqa: F401  (the fake Kling API, pointed at)
from test_kling_models import _raw

TTS = "/v1/audio/tts"
GOOD = {"text": "Hello there", "voice_id": "genshin_vindi2", "voice_language": "en", "voice_speed": 1.2}


def run(tmp_path, inputs):
    return asyncio.run(generate(lambda: prepare(variant("kling-tts"), inputs, "kling"), tmp_path / "out"))


def test_text_to_speech_runs_on_kling_from_the_create_s_answer(kling, tmp_path):
    prepared, done = run(tmp_path, GOOD)
    [submit] = kling.submits()
    assert submit["path"] == TTS
    assert submit["json"] == GOOD  # no external_task_id: no source gives the route one
    assert kling.requests("status") == []  # synchronous: nothing to poll
    assert done.path.read_bytes() == _mp3()
    record = next(r for r in Journal().all() if r["request_id"] == done.request_id)
    assert record["endpoint"] == "tts" and record["handle_data"]["answer"]["task_status"] == "succeed"
    assert prepared.cost.usd is None and prepared.cost.cap_usd > 0  # unpublished: the cap counts a stand-in


def test_a_chinese_only_voice_speaks_chinese(kling, tmp_path):
    _, done = run(tmp_path, {"text": "你好", "voice_id": "tiyuxi_xuedi", "voice_language": "zh"})
    assert kling.submits()[0]["json"] == {"text": "你好", "voice_id": "tiyuxi_xuedi", "voice_language": "zh",
                                          "voice_speed": 1.0}
    assert done.path.stat().st_size > 100


def test_text_to_speech_is_a_kling_only_node_with_sourced_fields():
    v = TEXT_TO_SPEECH
    assert v in GENERATED and variant(v.key) is v and variant(v.node_id) is v and v.endpoint == ""
    assert v.display_name == "Kling Text to Speech (Kling API)"
    assert v.providers == ("kling",) and v.output == "audio" and v.family == "audio"
    with pytest.raises(InputError, match="choose one of: auto, kling"):
        select.choose(v, "fal")
    assert "third-party sources only" in v.source and "okaris/kling @ 80af2f82" in v.source
    assert "ComfyUI 0.33.0" in v.source and "(third party)" in v.source
    assert v.price.audio_off is None and "not published" in v.price.source
    assert v.field("text").max_length == 1000 and v.field("voice_language").options == ("en", "zh")
    speed = v.field("voice_speed")
    assert (speed.min, speed.max, speed.default) == (0.8, 2.0, 1.0)
    assert set(v.field("voice_id").options) == set(TTS_VOICES) and TTS_VOICES["genshin_vindi2"] == ("en", "zh")
    assert variant("tts").providers == ("fal",)  # fal's node stays fal's: it has no voice_language


@pytest.mark.parametrize("inputs,field", [
    ({"text": "a" * 1001}, "text"),                     # "maximum text length is 1000 characters"
    ({"text": ""}, "text"),
    ({"voice_speed": 2.1}, "voice_speed"),               # 0.8-2.0
    ({"voice_speed": 0.7}, "voice_speed"),
    ({"voice_speed": 1.25}, "voice_speed"),              # "precise to one decimal place"
    ({"voice_language": "fr"}, "voice_language"),        # zh | en
    ({"voice_id": "oversea_male1", "voice_language": "zh"}, "voice_id"),  # speaks English only
    ({"voice_id": "someone_else"}, "voice_id"),
])
def test_what_text_to_speech_cannot_take_is_refused_before_any_request(kling, tmp_path, inputs, field):
    with pytest.raises(InputError) as err:
        run(tmp_path, {**GOOD, **inputs})
    assert err.value.field == field
    assert kling.log == []


def test_a_lost_answer_is_never_sent_again(kling, tmp_path):
    assert not kling_api.findable("tts")
    kling.inject("submit", reset=True, process=True)
    with pytest.raises(ProviderError):
        run(tmp_path, GOOD)
    assert kling.count("submit") == 1 and len(kling.jobs) == 1  # Kling made (and billed) it
    with pytest.raises(ProviderError, match="text to speech API takes no id of ours"):
        run(tmp_path, GOOD)  # the same request again: the cut-off submit may have made it, so nothing is sent
    assert kling.count("submit") == 1


def test_a_failed_answer_reports_kling_s_message(kling, tmp_path):
    kling.next_outcome = ("error", {"message": "content policy triggered"})
    with pytest.raises(JobFailed, match="content policy triggered"):
        run(tmp_path, GOOD)
    assert kling.requests("status") == []


def test_an_answer_without_a_result_fails_without_waiting():
    """Kling's TTS has no query route: an answer that is not finished can never become so."""
    client = kling_api.KlingClient(None, ("ak", "sk"))
    handle = kling_api.Handle("kling", "tts", "1", {"task": "tts", "answer": {"task_status": "submitted"}})
    status = asyncio.run(client.status(handle))
    assert isinstance(status, kling_api.Failed) and "no route to ask" in status.error


def test_the_fake_takes_text_to_speech_as_strictly_as_documented(kling):
    for change, named in (({"text": None}, "text"), ({"voice_id": None}, "voice_id"),
                          ({"voice_language": None}, "voice_language"), ({"text": "t" * 1001}, "text"),
                          ({"voice_language": "fr"}, "voice_language"), ({"voice_speed": 2.1}, "voice_speed"),
                          ({"voice_speed": 0.7}, "voice_speed"), ({"voice_speed": 1.25}, "one decimal"),
                          ({"voice_id": "uk_man2", "voice_language": "zh"}, "Voice id not found"),
                          ({"voice_id": "nobody"}, "Voice id not found"),
                          ({"external_task_id": "t1"}, "external_task_id"), ({"speed": 1.0}, "speed")):
        body = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
        r = _raw(kling, "POST", TTS, body)
        assert (r.status, r.json["code"]) == (400, 1201) and named in r.json["message"], (change, r.json)
    data = _raw(kling, "POST", TTS, GOOD).json["data"]
    assert data["task_status"] == "succeed" and "task_info" not in data
    [sound] = data["task_result"]["audios"]
    assert set(sound) == {"id", "url", "duration"}
    assert _raw(kling, "GET", f"{TTS}/{data['task_id']}").json["code"] == 1202  # no query route
