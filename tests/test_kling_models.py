"""Kling's own API for the models it serves beyond text2video/image2video's usual ones: multi-image to video
(fal's v1.6 elements nodes), Kling 3.0's native 4K (fal's v3 4K nodes) and Avatar (fal's avatar v2 nodes). Each
runs end to end through the pack against the fake Kling API; what Kling cannot take is refused before any
request; the fake is as strict as the documented shape (research16.md §3.2)."""
import asyncio
import base64
import io
import wave

import pytest
import torch
from PIL import Image

from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.core.errors import InputError
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.jobs.journal import Journal
from comfyui_kling_video.nodes.request import prepare
from fakes.client import call
from fakes.kling import encode_jwt
from test_kling_extend import kling  # noqa: F401  (the fake Kling API, pointed at)


def pictures(n, seed=0):
    return torch.rand(n, 480, 640, 3, generator=torch.Generator().manual_seed(seed))


def run(tmp_path, key, inputs):
    return asyncio.run(generate(lambda: prepare(variant(key), inputs, "kling"), tmp_path / "out"))


def record_of(done):
    return next(r for r in Journal().all() if r["request_id"] == done.request_id)


@pytest.mark.parametrize("key,mode", [("v1.6-std-elements", "std"), ("v1.6-pro-elements", "pro")])
def test_multi_image_to_video_runs_on_kling(kling, tmp_path, key, mode):
    _, done = run(tmp_path, key, {"images": pictures(3), "prompt": "three friends wave", "duration": "10",
                                  "aspect_ratio": "1:1"})
    [submit] = kling.submits()
    assert submit["path"] == "/v1/videos/multi-image2video"
    body = submit["json"]
    assert (body["model_name"], body["mode"], body["duration"], body["aspect_ratio"]) == ("kling-v1-6", mode, "10",
                                                                                           "1:1")
    assert len(body["image_list"]) == 3 and all(set(i) == {"image"} for i in body["image_list"])
    assert {r["path"].rsplit("/", 1)[0] for r in kling.requests("status")} == {"/v1/videos/multi-image2video"}
    assert done.path.read_bytes() == kling.video_bytes
    record = record_of(done)
    assert record["provider"] == "kling" and record["endpoint"] == f"kling-v1-6/{mode}"


def test_more_than_four_images_are_refused_before_any_request(kling, tmp_path):
    with pytest.raises(InputError) as err:
        run(tmp_path, "v1.6-std-elements", {"images": pictures(5), "prompt": "five friends"})
    assert err.value.field == "images"
    assert kling.log == []


@pytest.mark.parametrize("key,extra", [("v3-4k-t2v", {"aspect_ratio": "9:16"}),
                                       ("v3-4k-i2v", {"start_frame": pictures(1, 7)})])
def test_kling_3_native_4k_runs_on_kling_at_its_list_price(kling, tmp_path, key, extra):
    prepared, done = run(tmp_path, key, {"prompt": "a city at night", "duration": "5", "generate_audio": False,
                                         **extra})
    [submit] = kling.submits()
    body = submit["json"]
    assert submit["path"] == ("/v1/videos/image2video" if "start_frame" in extra else "/v1/videos/text2video")
    assert (body["model_name"], body["mode"], body["sound"]) == ("kling-v3", "4k", "off")
    assert done.path.read_bytes() == kling.video_bytes
    assert prepared.cost.usd == pytest.approx(0.42 * 5)
    assert record_of(done)["endpoint"] == "kling-v3/4k"


def test_a_4k_field_kling_cannot_take_is_refused_before_any_request(kling, tmp_path):
    element = [{"frontal": pictures(1, 1), "references": pictures(1, 2), "video": None, "voice_id": ""}]
    with pytest.raises(InputError) as err:
        run(tmp_path, "v3-4k-i2v", {"prompt": "a city", "start_frame": pictures(1, 3), "elements": element})
    assert err.value.field == "elements" and "Kling" in str(err.value) and "fal.ai can" in str(err.value)
    assert kling.log == []


def _raw(fake, method, path, body=None):
    token = encode_jwt({"iss": fake.access_key, "exp": 4_000_000_000, "nbf": 0}, fake.secret_key)
    return call(fake, method, path, body, headers={"Authorization": f"Bearer {token}"})


def refuses_each_then_runs(kling, path, good, changes, external_id):
    """The fake refuses `good` with each (change, the field its message must name) applied (a None value
    removes the key), then runs `good` itself, found again by its external_task_id; returns the task id."""
    for change, named in changes:
        body = {k: v for k, v in {**good, **change}.items() if v is not None}
        r = _raw(kling, "POST", path, body)
        assert (r.status, r.json["code"]) == (400, 1201) and named in r.json["message"], (change, r.json)
    tid = _raw(kling, "POST", path, {**good, "external_task_id": external_id}).json["data"]["task_id"]
    kling.wait_completed(tid)
    data = _raw(kling, "GET", f"{path}/{external_id}").json["data"]
    assert data["task_status"] == "succeed" and data["task_result"]["videos"][0]["url"]
    return tid


def _image():
    """A 320x320 PNG as raw base64: inside Kling's image limits (>= 300 px)."""
    buf = io.BytesIO()
    Image.new("RGB", (320, 320), (200, 100, 50)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_the_fake_takes_multi_image_to_video_as_strictly_as_documented(kling):
    image = {"image": _image()}
    good = {"model_name": "kling-v1-6", "image_list": [image, image], "prompt": "two cats", "mode": "pro",
            "duration": "5", "aspect_ratio": "16:9"}
    for change, named in (({"model_name": "kling-v2-6"}, "model_name"), ({"image_list": []}, "image_list"),
                          ({"image_list": [image] * 5}, "image_list"), ({"prompt": ""}, "prompt"),
                          ({"sound": "on"}, "sound"), ({"cfg_scale": 0.5}, "cfg_scale"),
                          ({"duration": "7"}, "duration"), ({"image_list": [{"url": "x"}]}, "image_list")):
        r = _raw(kling, "POST", "/v1/videos/multi-image2video", {**good, **change})
        assert (r.status, r.json["code"]) == (400, 1201) and named in r.json["message"], change
    no_prompt = dict(good)
    del no_prompt["prompt"]
    assert _raw(kling, "POST", "/v1/videos/multi-image2video", no_prompt).json["code"] == 1201
    # model_name left out: kling-v1-6, Kling's only model for this route
    r = _raw(kling, "POST", "/v1/videos/multi-image2video",
             {"image_list": [image], "prompt": "a cat", "external_task_id": "m1"})
    tid = r.json["data"]["task_id"]
    kling.wait_completed(tid)
    assert kling.jobs[tid].model == "kling-v1-6"
    for path in (f"/v1/videos/multi-image2video/{tid}", "/v1/videos/multi-image2video/m1"):
        data = _raw(kling, "GET", path).json["data"]
        assert data["task_status"] == "succeed" and data["task_result"]["videos"][0]["url"]
    assert _raw(kling, "GET", f"/v1/videos/image2video/{tid}").json["code"] == 1203


@pytest.mark.parametrize("endpoint,body,named", [
    ("text2video", {"model_name": "kling-v2-6", "mode": "4k", "prompt": "x"}, "kling-v3 only"),
    ("text2video", {"model_name": "kling-v2-6", "mode": "std", "prompt": "x", "sound": "on"}, "requires mode 'pro'"),
    ("image2video", {"model_name": "kling-v2-6", "mode": "std", "image": "IMG", "image_tail": "IMG"},
     "image_tail with kling-v2-6 requires mode 'pro'"),
    ("text2video", {"model_name": "kling-v3", "mode": "8k", "prompt": "x"}, "mode"),
])
def test_the_fake_refuses_modes_kling_does_not_serve(kling, endpoint, body, named):
    body = {k: _image() if v == "IMG" else v for k, v in body.items()}
    r = _raw(kling, "POST", f"/v1/videos/{endpoint}", body)
    assert (r.status, r.json["code"]) == (400, 1201) and named in r.json["message"], r.json


def speech(seconds, rate=16000):
    t = torch.arange(int(seconds * rate)) / rate
    return {"waveform": (0.3 * torch.sin(2 * torch.pi * 220 * t))[None, None], "sample_rate": rate}


@pytest.mark.parametrize("key,mode,rate", [("avatar-v2-std", "std", 0.056), ("avatar-v2-pro", "pro", 0.112)])
def test_avatar_runs_on_kling_billed_on_the_sound(kling, tmp_path, key, mode, rate):
    prepared, done = run(tmp_path, key, {"image": pictures(1, 4), "audio": speech(3.5), "prompt": "she smiles"})
    [submit] = kling.submits()
    body = submit["json"]
    assert submit["path"] == "/v1/videos/avatar/image2video"
    assert set(body) == {"image", "sound_file", "prompt", "mode", "external_task_id"} and body["mode"] == mode
    with wave.open(io.BytesIO(base64.b64decode(body["sound_file"]))) as w:
        assert w.getnframes() / w.getframerate() == pytest.approx(3.5)
    assert {r["path"].rsplit("/", 1)[0] for r in kling.requests("status")} == {"/v1/videos/avatar/image2video"}
    assert done.path.read_bytes() == kling.video_bytes
    assert prepared.cost.usd == pytest.approx(4 * rate)  # 3.5 s, billed by the whole second
    assert record_of(done)["endpoint"] == f"avatar/{mode}"


def _wav(seconds, rate=8000):
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return base64.b64encode(buf.getvalue()).decode()


def test_the_fake_takes_avatar_as_strictly_as_documented(kling):
    good = {"image": _image(), "sound_file": _wav(3), "prompt": "hello", "mode": "pro"}
    for change, named in (({"model_name": "kling-v2-6"}, "model_name"), ({"audio_id": "a1"}, "not both"),
                          ({"sound_file": _wav(1.5)}, "2 to 300 seconds"), ({"mode": "4k"}, "mode"),
                          ({"sound_file": "data:audio/wav;base64," + _wav(3)}, "data:"),
                          ({"sound_file": base64.b64encode(b"not audio at all").decode()}, ".mp3/.wav")):
        r = _raw(kling, "POST", "/v1/videos/avatar/image2video", {**good, **change})
        assert (r.status, r.json["code"]) == (400, 1201) and named in r.json["message"], (change, r.json)
    no_sound = {k: v for k, v in good.items() if k != "sound_file"}
    assert "either audio_id or sound_file" in _raw(kling, "POST", "/v1/videos/avatar/image2video",
                                                   no_sound).json["message"]
    r = _raw(kling, "POST", "/v1/videos/avatar/image2video", {**good, "external_task_id": "a1"})
    tid = r.json["data"]["task_id"]
    kling.wait_completed(tid)
    data = _raw(kling, "GET", "/v1/videos/avatar/image2video/a1").json["data"]
    assert data["task_status"] == "succeed" and float(data["task_result"]["videos"][0]["duration"]) == 3.0
