"""Kling's own API as a provider of nodes fal also serves, on routes of their own: Kling 3.0 Turbo (fal's v3 turbo
nodes). Each runs end to end through the pack against the fake Kling API (wire body, statuses, result, the
downloaded file); what Kling cannot take is refused before any request; the fake is as strict as the documented
shape (ComfyUI 0.33.0's code; research16.md §3.2)."""
import asyncio
import base64
import hashlib
import io

import numpy as np
import pytest
import torch
from PIL import Image

from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.core.errors import InputError, JobFailed, KlingError
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.jobs.journal import Journal
from comfyui_kling_video.nodes.request import prepare
from test_kling_extend import kling  # noqa: F401  (the fake Kling API, pointed at)
from test_kling_models import _image, _raw, refuses_each_then_runs


def picture(seed):
    return torch.rand(1, 480, 640, 3, generator=torch.Generator().manual_seed(seed))


def run(tmp_path, key, inputs):
    return asyncio.run(generate(lambda: prepare(variant(key), inputs, "kling"), tmp_path / "out"))


def record_of(done):
    return next(r for r in Journal().all() if r["request_id"] == done.request_id)


# -- Kling 3.0 Turbo -------------------------------------------------------------------------------------
def test_turbo_text_to_video_runs_on_kling_at_1080p(kling, tmp_path):
    prepared, done = run(tmp_path, "v3-turbo-pro-t2v", {"prompt": "a fox runs", "duration": "10",
                                                        "aspect_ratio": "9:16"})
    [submit] = kling.submits()
    assert submit["path"] == "/text-to-video/kling-3.0-turbo"
    assert submit["json"] == {"prompt": "a fox runs", "settings": {"resolution": "1080p", "duration": 10,
                                                                    "aspect_ratio": "9:16"}}
    statuses = kling.requests("status")
    assert statuses and {(r["path"], tuple(r["query"].items())) for r in statuses} == {
        ("/tasks", (("task_ids", done.request_id),))}
    assert done.path.read_bytes() == kling.video_bytes
    assert prepared.cost.usd == pytest.approx(0.14 * 10)
    assert record_of(done)["endpoint"] == "kling-3.0-turbo/1080p"


@pytest.mark.parametrize("key,resolution,rate", [("v3-turbo-std-i2v", "720p", 0.112),
                                                 ("v3-turbo-pro-i2v", "1080p", 0.14)])
def test_turbo_image_to_video_sends_the_frame_as_a_content(kling, tmp_path, key, resolution, rate):
    frame = picture(5)
    prepared, done = run(tmp_path, key, {"prompt": "she turns", "start_frame": frame, "duration": "5"})
    [submit] = kling.submits()
    body = submit["json"]
    assert submit["path"] == "/image-to-video/kling-3.0-turbo"
    assert body["settings"] == {"resolution": resolution, "duration": 5}  # no aspect ratio: the image decides
    prompt, first = body["contents"]
    assert prompt == {"type": "prompt", "text": "she turns"} and set(first) == {"type", "url"}
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(first["url"]))).convert("RGB"))
    assert np.array_equal(pixels, (frame[0].numpy() * 255 + 0.5).astype(np.uint8))
    assert done.path.read_bytes() == kling.video_bytes
    assert prepared.cost.usd == pytest.approx(rate * 5)


def test_turbo_shots_go_as_one_prompt(kling, tmp_path):
    shots = [{"prompt": "a door opens", "duration": "3"}, {"prompt": "she walks in", "duration": "5"}]
    run(tmp_path, "v3-turbo-pro-t2v", {"prompt": "", "duration": "8", "shots": shots})
    body = kling.submits()[0]["json"]
    assert body == {"prompt": "shot 1, 3, a door opens; shot 2, 5, she walks in;",
                    "settings": {"resolution": "1080p", "duration": 8, "aspect_ratio": "16:9"}}


@pytest.mark.parametrize("inputs,field", [
    ({"end_frame": picture(2)}, "end_frame"),              # one first frame only
    ({"shot_type": "intelligent"}, "shot_type"),            # no shot type: shots are spelled in the prompt
])
def test_what_turbo_on_kling_cannot_take_is_refused_before_any_request(kling, tmp_path, inputs, field):
    with pytest.raises(InputError) as err:
        run(tmp_path, "v3-turbo-pro-i2v", {"prompt": "x", "start_frame": picture(1), **inputs})
    assert err.value.field == field and "Kling cannot take it" in str(err.value)
    assert kling.log == []


def test_turbo_has_no_audio_switch_to_refuse():
    """Turbo always makes sound: no Turbo node has a generate_audio input for the Kling offer to drop."""
    for key in ("v3-turbo-std-i2v", "v3-turbo-pro-i2v", "v3-turbo-pro-t2v"):
        v = variant(key)
        assert not v.has("generate_audio") and "generate_audio" not in v.offer("kling").fields


def test_too_long_shots_for_turbo_image_to_video_are_refused_before_any_request(kling, tmp_path):
    shots = [{"prompt": "y" * 510, "duration": "3"}] * 5
    with pytest.raises(InputError) as err:
        run(tmp_path, "v3-turbo-pro-i2v", {"prompt": "", "start_frame": picture(1), "duration": "15",
                                           "shots": shots})
    assert err.value.field == "shots" and "2500" in str(err.value)
    assert kling.log == []


def test_a_failed_turbo_task_reports_kling_s_message(kling, tmp_path):
    kling.next_outcome = ("error", {"message": "content policy triggered"})
    with pytest.raises(JobFailed, match="content policy triggered"):
        run(tmp_path, "v3-turbo-pro-t2v", {"prompt": "a fox"})


def test_a_lost_turbo_submit_answer_is_never_sent_again(kling, tmp_path):
    """Turbo takes no external_task_id: a create whose answer was lost cannot be found, so the rerun refuses
    to resend (unlike the /v1 routes, where the job is found by our id)."""
    kling.inject("submit", reset=True, process=True)
    with pytest.raises(KlingError):
        run(tmp_path, "v3-turbo-pro-t2v", {"prompt": "lost"})
    with pytest.raises(KlingError, match="3.0 Turbo.*raise `take`"):
        run(tmp_path, "v3-turbo-pro-t2v", {"prompt": "lost"})
    assert kling.count("submit") == 1 and len(kling.jobs) == 1


def test_the_fake_takes_turbo_as_strictly_as_documented(kling):
    t2v, i2v = "/text-to-video/kling-3.0-turbo", "/image-to-video/kling-3.0-turbo"
    frame = {"type": "first_frame", "url": _image()}
    good_t2v = {"prompt": "a fox", "settings": {"resolution": "720p", "duration": 5, "aspect_ratio": "1:1"}}
    good_i2v = {"contents": [{"type": "prompt", "text": "a fox"}, frame], "settings": {"resolution": "1080p"}}
    for path, body, named in (
            (t2v, {**good_t2v, "settings": {"duration": "5"}}, "settings.duration"),
            (t2v, {**good_t2v, "settings": {"duration": 16}}, "settings.duration"),
            (t2v, {**good_t2v, "settings": {"resolution": "4k"}}, "settings.resolution"),
            (t2v, {**good_t2v, "external_task_id": "x"}, "external_task_id"),
            (t2v, {**good_t2v, "model_name": "kling-v3"}, "model_name"),
            (t2v, {"settings": good_t2v["settings"]}, "prompt"),
            (t2v, {**good_t2v, "prompt": "p" * 3073}, "prompt"),
            (i2v, {**good_i2v, "settings": {"aspect_ratio": "16:9"}}, "settings.aspect_ratio"),
            (i2v, {"contents": [frame, frame]}, "exactly one first_frame"),
            (i2v, {"contents": [{"type": "prompt", "text": "x"}]}, "exactly one first_frame"),
            (i2v, {"contents": [{"type": "first_frame", "text": "x"}]}, "contents.0"),
            (i2v, {"contents": [{"type": "prompt", "text": "t" * 2501}, frame]}, "contents.0.text"),
            (i2v, {"contents": [{"type": "first_frame", "url": "data:image/png;base64," + _image()}]}, "data:")):
        r = _raw(kling, "POST", path, body)
        assert (r.status, r.json["code"]) == (400, 1201) and named in r.json["message"], (body, r.json)
    r = _raw(kling, "POST", i2v, good_i2v)
    data = r.json["data"]
    assert set(data) == {"id", "status", "message"} and data["status"] == "submitted"
    kling.wait_completed(data["id"])
    [task] = _raw(kling, "GET", f"/tasks?task_ids={data['id']}").json["data"]
    assert task["status"] == "succeeded" and task["outputs"][0]["type"] == "video" and task["outputs"][0]["url"]
    assert _raw(kling, "GET", "/tasks").json["code"] == 1201
    made = _raw(kling, "POST", "/v1/videos/text2video", {"model_name": "kling-v3", "prompt": "x"}).json["data"]
    assert _raw(kling, "GET", f"/tasks?task_ids={made['task_id']}").json["code"] == 1203


# -- Motion control ---------------------------------------------------------------------------------------
@pytest.fixture
def reference(tmp_path):
    """A 3 s video the pack downloaded earlier, with the provider link that still serves it."""
    from comfyui_kling_video.nodes.media_in.media import SavedResult
    from media import make_mp4
    path = make_mp4(tmp_path / "dance.mp4", width=640, height=360, fps=24, seconds=3.0)
    return SavedResult(str(path), "https://cdn.example.com/dance.mp4", hashlib.sha256(path.read_bytes()).hexdigest())


@pytest.mark.parametrize("key,model,rate", [("v2.6-std-motion", "kling-v2-6/std", 0.07),
                                            ("v2.6-pro-motion", "kling-v2-6/pro", 0.112),
                                            ("v3-std-motion", "kling-v3/std", 0.126),
                                            ("v3-pro-motion", "kling-v3/pro", 0.168)])
def test_motion_control_runs_on_kling_with_the_video_s_link(kling, tmp_path, reference, key, model, rate):
    image = picture(6)
    prepared, done = run(tmp_path, key, {"image": image, "reference_video": reference, "prompt": "she dances",
                                         "character_orientation": "image", "keep_original_sound": False})
    [submit] = kling.submits()
    body = submit["json"]
    assert submit["path"] == "/v1/videos/motion-control"
    assert {k: v for k, v in body.items() if k not in ("image_url", "external_task_id")} == {
        "model_name": model.split("/")[0], "mode": model.split("/")[1], "video_url": reference.url,
        "character_orientation": "image", "keep_original_sound": "no", "prompt": "she dances"}
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(body["image_url"]))).convert("RGB"))
    assert np.array_equal(pixels, (image[0].numpy() * 255 + 0.5).astype(np.uint8)) and body["external_task_id"]
    assert {r["path"].rsplit("/", 1)[0] for r in kling.requests("status")} == {"/v1/videos/motion-control"}
    assert done.path.read_bytes() == kling.video_bytes
    assert prepared.cost.usd == pytest.approx(rate * 3)  # billed on the reference video's 3 s
    assert record_of(done)["endpoint"] == model


def test_a_reference_video_without_a_link_is_refused_before_any_request(kling, tmp_path, reference):
    with pytest.raises(InputError) as err:
        run(tmp_path, "v2.6-pro-motion", {"image": picture(1), "reference_video": reference.path,
                                          "character_orientation": "image"})
    assert err.value.field == "reference_video" and "only as a link" in str(err.value)
    assert kling.log == []


def test_the_v3_face_element_is_not_sent_to_kling(kling, tmp_path, reference):
    element = [{"frontal": picture(2), "references": None, "video": None, "voice_id": ""}]
    with pytest.raises(InputError) as err:
        run(tmp_path, "v3-pro-motion", {"image": picture(1), "reference_video": reference, "elements": element,
                                        "character_orientation": "video"})
    assert err.value.field == "elements" and "Kling cannot take it" in str(err.value)
    assert kling.log == []


def test_the_fake_takes_motion_control_as_strictly_as_documented(kling):
    good = {"model_name": "kling-v3", "mode": "pro", "image_url": _image(), "character_orientation": "video",
            "video_url": "https://cdn.example.com/dance.mp4", "keep_original_sound": "yes", "prompt": "x"}
    path = "/v1/videos/motion-control"
    changes = (({"mode": None}, "mode"), ({"model_name": "kling-v2-5-turbo"}, "model_name"),
               ({"video_url": base64.b64encode(b"video").decode()}, "video_url"),
               ({"keep_original_sound": True}, "keep_original_sound"),
               ({"character_orientation": "left"}, "character_orientation"),
               ({"duration": "5"}, "duration"), ({"image": _image()}, "image"),
               ({"model_name": "kling-v2-6", "element_list": [{"element_id": 1}]}, "element_list"),)
    tid = refuses_each_then_runs(kling, path, good, changes, "mc1")
    assert kling.jobs[tid].model == "kling-v3"


# -- Lip sync ---------------------------------------------------------------------------------------------
def _saved(tmp_path, name, seconds):
    from comfyui_kling_video.nodes.media_in.media import SavedResult
    from media import make_mp4
    path = make_mp4(tmp_path / name, width=1280, height=720, fps=8, seconds=seconds)
    return SavedResult(str(path), f"https://cdn.example.com/{name}", hashlib.sha256(path.read_bytes()).hexdigest())


def speech(seconds, rate=16000):
    t = torch.arange(int(seconds * rate)) / rate
    return {"waveform": (0.3 * torch.sin(2 * torch.pi * 220 * t))[None, None], "sample_rate": rate}


def test_lip_sync_with_audio_runs_on_kling_for_one_flat_price(kling, tmp_path):
    face = _saved(tmp_path, "face.mp4", 3.0)
    prepared, done = run(tmp_path, "lipsync-a2v", {"video": face, "audio": speech(2.5)})
    [submit] = kling.submits()
    assert submit["path"] == "/v1/videos/lip-sync"
    body = submit["json"]
    assert set(body) == {"input"}  # no model, no external_task_id: the route documents neither
    given = body["input"]
    assert {k: v for k, v in given.items() if k != "audio_file"} == {"mode": "audio2video", "video_url": face.url,
                                                                     "audio_type": "file"}
    assert base64.b64decode(given["audio_file"])[:4] == b"RIFF"
    assert {r["path"].rsplit("/", 1)[0] for r in kling.requests("status")} == {"/v1/videos/lip-sync"}
    assert done.path.read_bytes() == kling.video_bytes
    assert prepared.cost.usd == pytest.approx(0.07)
    assert record_of(done)["endpoint"] == "lip-sync/audio2video"


def test_lip_sync_with_text_runs_on_kling(kling, tmp_path):
    face = _saved(tmp_path, "face.mp4", 3.0)
    run(tmp_path, "lipsync-t2v", {"video": face, "text": "hello there", "voice_id": "uk_man2",
                                  "voice_language": "en", "voice_speed": 1.2})
    assert kling.submits()[0]["json"] == {"input": {"mode": "text2video", "video_url": face.url,
                                                    "text": "hello there", "voice_id": "uk_man2",
                                                    "voice_language": "en", "voice_speed": 1.2}}


def test_a_face_video_kling_cannot_take_is_refused_before_any_request(kling, tmp_path):
    long_face = _saved(tmp_path, "long.mp4", 12.0)  # fal's text lip sync takes it; Kling's 2-10 s do not
    with pytest.raises(InputError) as err:
        run(tmp_path, "lipsync-t2v", {"video": long_face, "text": "hi", "voice_id": "uk_man2"})
    assert err.value.field == "video" and "2-10 s" in str(err.value)
    with pytest.raises(InputError) as err:
        run(tmp_path, "lipsync-t2v", {"video": _saved(tmp_path, "short.mp4", 3.0).path, "text": "hi",
                                      "voice_id": "uk_man2"})
    assert err.value.field == "video" and "only as a link" in str(err.value)
    assert kling.log == []


def test_a_lost_lip_sync_submit_answer_is_never_sent_again(kling, tmp_path):
    kling.inject("submit", reset=True, process=True)
    inputs = {"video": _saved(tmp_path, "face.mp4", 3.0), "text": "lost", "voice_id": "uk_man2"}
    with pytest.raises(KlingError):
        run(tmp_path, "lipsync-t2v", inputs)
    with pytest.raises(KlingError, match="lip sync.*raise `take`"):
        run(tmp_path, "lipsync-t2v", inputs)
    assert kling.count("submit") == 1 and len(kling.jobs) == 1


def test_the_fake_takes_lip_sync_as_strictly_as_documented(kling):
    path = "/v1/videos/lip-sync"
    text = {"mode": "text2video", "video_url": "https://cdn.example.com/f.mp4", "text": "hi", "voice_id": "uk_man2",
            "voice_language": "en", "voice_speed": 1.0}
    for given, named in (({**text, "voice_speed": 2.5}, "voice_speed"), ({**text, "voice_speed": 1.25}, "decimal"),
                         ({**text, "text": "t" * 121}, "input.text"), ({**text, "voice_language": "fr"}, "voice_language"),
                         ({k: v for k, v in text.items() if k != "voice_id"}, "input.voice_id"),
                         ({**text, "video_id": "v1"}, "exactly one of video_id and video_url"),
                         ({**text, "video_url": base64.b64encode(b"x").decode()}, "input.video_url"),
                         ({"mode": "audio2video", "video_url": text["video_url"]}, "input.audio_type"),
                         ({"mode": "audio2video", "video_url": text["video_url"], "audio_type": "url",
                           "audio_file": base64.b64encode(b"ID3....").decode()}, "input.audio_url"),
                         ({k: v for k, v in text.items() if k != "video_url"} | {"video_id": "nope"}, "30 days")):
        r = _raw(kling, "POST", path, {"input": given})
        assert (r.status, r.json["code"]) == (400, 1201) and named in r.json["message"], (given, r.json)
    for extra in ({"external_task_id": "x"}, {"model_name": "kling-v1-6"}):
        r = _raw(kling, "POST", path, {"input": text, **extra})
        assert r.json["code"] == 1201 and next(iter(extra)) in r.json["message"]
    tid = _raw(kling, "POST", path, {"input": text}).json["data"]["task_id"]
    kling.wait_completed(tid)
    data = _raw(kling, "GET", f"{path}/{tid}").json["data"]
    assert data["task_status"] == "succeed" and data["task_result"]["videos"][0]["url"]
    made = data["task_result"]["videos"][0]["id"]
    by_id = {k: v for k, v in text.items() if k != "video_url"} | {"video_id": made}
    assert _raw(kling, "POST", path, {"input": by_id}).json["code"] == 0  # a video this account made, by its id
