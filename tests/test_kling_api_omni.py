"""Kling's own API "Omni-Video" (POST /v1/videos/omni-video) as a provider of fal's O1 / O3 nodes, end to end
through the pack against the fake Kling API: the wire body, statuses, result and downloaded file; Kling's
spelling of prompt references; what Kling's omni refuses is refused before any request, naming the input. The
fake is written from ComfyUI 0.33.0's code and a third-party copy of Kling's page (tests/fakes/kling_omni.py)."""
import base64
import hashlib
import io

import numpy as np
import pytest
import torch
from PIL import Image

from comfyui_kling_video.nodes.core.errors import InputError, JobFailed
from test_kling_api_offers import picture, record_of, run
from test_kling_extend import kling  # noqa: F401  (the fake Kling API, pointed at)
from test_kling_models import _image, _raw, refuses_each_then_runs

OMNI = "/v1/videos/omni-video"


def pixels(raw_base64):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(raw_base64))).convert("RGB"))


def same_image(raw_base64, tensor):
    return np.array_equal(pixels(raw_base64), (tensor[0].numpy() * 255 + 0.5).astype(np.uint8))


def refused(kling, tmp_path, key, inputs, field, words):
    with pytest.raises(InputError) as err:
        run(tmp_path, key, inputs)
    assert err.value.field == field and words in str(err.value), str(err.value)
    assert kling.log == []


@pytest.fixture
def source(tmp_path):
    """A 3 s 1280x720 video the pack downloaded earlier, with the provider link that still serves it."""
    from comfyui_kling_video.nodes.media_in.media import SavedResult
    from media import make_mp4
    path = make_mp4(tmp_path / "source.mp4", width=1280, height=720, fps=24, seconds=3.0)
    return SavedResult(str(path), "https://cdn.example.com/source.mp4", hashlib.sha256(path.read_bytes()).hexdigest())


# -- O3 text and image to video -----------------------------------------------------------------------------
@pytest.mark.parametrize("key,mode,rate", [("o3-std-t2v", "std", 0.112), ("o3-pro-t2v", "pro", 0.14),
                                           ("o3-4k-t2v", "4k", 0.42)])
def test_o3_text_to_video_runs_on_kling_s_omni_route(kling, tmp_path, key, mode, rate):
    prepared, done = run(tmp_path, key, {"prompt": "a fox runs", "duration": "12", "aspect_ratio": "9:16",
                                         "generate_audio": True})
    [submit] = kling.submits()
    assert submit["path"] == OMNI
    body = submit["json"]
    assert body.pop("external_task_id")
    assert body == {"model_name": "kling-v3-omni", "mode": mode, "prompt": "a fox runs", "aspect_ratio": "9:16",
                    "duration": "12", "sound": "on"}
    assert {r["path"] for r in kling.requests("status")} == {f"{OMNI}/{done.request_id}"}
    assert done.path.read_bytes() == kling.video_bytes
    assert prepared.cost.usd == pytest.approx(rate * 12)
    assert record_of(done)["endpoint"] == f"kling-v3-omni/{mode}"


def test_o3_image_to_video_sends_typed_frames_and_no_frame_shape(kling, tmp_path):
    start, end = picture(1), picture(2)
    prepared, done = run(tmp_path, "o3-pro-i2v", {"start_frame": start, "end_frame": end, "duration": "8",
                                                  "prompt": "@image1 turns into @Image2"})
    body = kling.submits()[0]["json"]
    first, last = body["image_list"]
    assert (first["type"], last["type"]) == ("first_frame", "end_frame")
    assert same_image(first["image_url"], start) and same_image(last["image_url"], end)
    assert body["prompt"] == "<<<image_1>>> turns into <<<image_2>>>"  # Kling's spelling, not fal's
    assert "aspect_ratio" not in body and body["sound"] == "off" and body["duration"] == "8"
    assert prepared.cost.usd == pytest.approx(0.112 * 8)
    assert done.path.read_bytes() == kling.video_bytes


def test_o3_shots_go_as_kling_s_multi_prompt(kling, tmp_path):
    shots = [{"prompt": "a door opens", "duration": "3"}, {"prompt": "she walks in", "duration": "5"}]
    run(tmp_path, "o3-std-i2v", {"start_frame": picture(3), "prompt": "", "duration": "8", "shots": shots})
    body = kling.submits()[0]["json"]
    assert body["multi_shot"] is True and body["shot_type"] == "customize" and body["prompt"] == ""
    assert body["multi_prompt"] == [{"index": 1, "prompt": "a door opens", "duration": "3"},
                                    {"index": 2, "prompt": "she walks in", "duration": "5"}]


# -- O1 image to video --------------------------------------------------------------------------------------
@pytest.mark.parametrize("key,mode,rate", [("o1-std-i2v", "std", 0.084), ("o1-pro-i2v", "pro", 0.112)])
def test_o1_image_to_video_runs_on_kling_with_kling_s_references(kling, tmp_path, key, mode, rate):
    prepared, done = run(tmp_path, key, {"start_frame": picture(4), "end_frame": picture(5), "duration": "7",
                                         "prompt": "from <<<image_1>>> to @image2"})
    body = kling.submits()[0]["json"]
    assert body["model_name"] == "kling-video-o1" and body["mode"] == mode and body["duration"] == "7"
    assert body["prompt"] == "from <<<image_1>>> to <<<image_2>>>"
    assert "sound" not in body and "aspect_ratio" not in body
    assert prepared.cost.usd == pytest.approx(rate * 7)
    assert record_of(done)["endpoint"] == f"kling-video-o1/{mode}"


def test_what_kling_s_omni_refuses_for_image_to_video_is_refused_before_any_request(kling, tmp_path):
    refused(kling, tmp_path, "o1-pro-i2v", {"start_frame": picture(1), "prompt": "x", "duration": "7"},
            "duration", "5 or 10 s")  # o1 from a start frame alone: 5 or 10 s
    shots = [{"prompt": "a", "duration": "5"}]
    refused(kling, tmp_path, "o3-pro-i2v", {"start_frame": picture(1), "end_frame": picture(2), "prompt": "",
                                            "duration": "5", "shots": shots}, "end_frame", "or shots")
    refused(kling, tmp_path, "o3-pro-t2v", {"prompt": "x", "shot_type": "intelligent"}, "shot_type",
            "Kling cannot take it")
    refused(kling, tmp_path, "o3-pro-t2v", {"prompt": "", "duration": "5",
                                            "shots": [{"prompt": "p" * 600, "duration": "5"}]},
            "shots[1].prompt", "512")


def test_a_lost_omni_submit_answer_is_found_again_by_our_id(kling, tmp_path):
    kling.inject("submit", reset=True, process=True)
    _, done = run(tmp_path, "o3-pro-t2v", {"prompt": "lost"})
    assert done.path.read_bytes() == kling.video_bytes
    assert kling.count("submit") == 1 and len(kling.jobs) == 1
    ext = next(iter(kling.jobs.values())).extra["external_task_id"]
    assert f"{OMNI}/{ext}" in {r["path"] for r in kling.requests("status")}


def test_a_failed_omni_task_reports_kling_s_message(kling, tmp_path):
    kling.next_outcome = ("error", {"message": "content policy triggered"})
    with pytest.raises(JobFailed, match="content policy triggered"):
        run(tmp_path, "o3-std-t2v", {"prompt": "a fox"})


# -- Reference to video -------------------------------------------------------------------------------------
def test_o1_reference_images_keep_their_numbers(kling, tmp_path):
    refs = torch.cat([picture(6), picture(7)])
    prepared, _ = run(tmp_path, "o1-pro-r2v", {"reference_images": refs, "prompt": "@Image2 waves at @image1",
                                               "aspect_ratio": "1:1", "duration": "4"})
    body = kling.submits()[0]["json"]
    assert [set(i) for i in body["image_list"]] == [{"image_url"}, {"image_url"}]  # untyped: references
    assert same_image(body["image_list"][1]["image_url"], refs[1:])
    assert body["prompt"] == "<<<image_2>>> waves at <<<image_1>>>"
    assert (body["aspect_ratio"], body["duration"]) == ("1:1", "4")
    assert prepared.cost.usd == pytest.approx(0.112 * 4)


def test_o3_reference_images_after_a_start_frame_are_renumbered(kling, tmp_path):
    refs = torch.cat([picture(8), picture(9)])
    run(tmp_path, "o3-std-r2v", {"start_frame": picture(10), "reference_images": refs, "duration": "6",
                                 "prompt": "@Image1 meets @Image2"})
    body = kling.submits()[0]["json"]
    assert [i.get("type") for i in body["image_list"]] == ["first_frame", None, None]
    # fal's @Image1 is the first reference image: Kling's list puts the first frame before it
    assert body["prompt"] == "<<<image_2>>> meets <<<image_3>>>"
    assert "aspect_ratio" not in body  # the first frame decides


def test_what_kling_s_omni_refuses_for_references_is_refused_before_any_request(kling, tmp_path):
    refs = torch.cat([picture(1), picture(2)])
    refused(kling, tmp_path, "o3-pro-r2v", {"start_frame": picture(3), "end_frame": picture(4),
                                            "reference_images": refs, "prompt": "x"}, "end_frame", "not both")
    refused(kling, tmp_path, "o3-pro-r2v", {"start_frame": picture(3), "prompt": "x", "aspect_ratio": "9:16"},
            "aspect_ratio", "start frame")
    refused(kling, tmp_path, "o3-pro-r2v", {"end_frame": picture(3), "prompt": "x"}, "end_frame", "start frame")
    refused(kling, tmp_path, "o3-pro-r2v", {"start_frame": picture(3), "prompt": "x",
                                            "reference_images": torch.cat([picture(i) for i in range(7)])},
            "reference_images", "at most 7")
    element = [{"frontal": picture(5), "references": picture(6), "video": None, "voice_id": ""}]
    refused(kling, tmp_path, "o1-pro-r2v", {"elements": element, "prompt": "@Element1 waves"}, "elements",
            "Kling cannot take it")


# -- Video to video -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("key,model,rate", [("o1-std-v2v-edit", "kling-video-o1/std", 0.126),
                                            ("o3-pro-v2v-edit", "kling-v3-omni/pro", 0.168)])
def test_video_edit_sends_the_video_s_link_as_its_base(kling, tmp_path, source, key, model, rate):
    ref = picture(11)
    prepared, done = run(tmp_path, key, {"video": source, "reference_images": ref, "keep_audio": False,
                                         "prompt": "give @Video1 the crown of @Image1"})
    body = kling.submits()[0]["json"]
    assert body["video_list"] == [{"video_url": source.url, "refer_type": "base", "keep_original_sound": "no"}]
    assert body["prompt"] == "give <<<video_1>>> the crown of <<<image_1>>>"
    assert same_image(body["image_list"][0]["image_url"], ref)
    assert "duration" not in body and "aspect_ratio" not in body  # an edit lasts and looks as its video
    assert f"{body['model_name']}/{body['mode']}" == model
    assert prepared.cost.usd == pytest.approx(rate * 3)  # billed on the source video's 3 s
    assert done.path.read_bytes() == kling.video_bytes


def test_video_reference_sends_the_video_as_a_feature(kling, tmp_path, source):
    prepared, _ = run(tmp_path, "o3-std-v2v-ref", {"video": source, "prompt": "the next shot of @video1",
                                                   "aspect_ratio": "16:9", "duration": "10"})
    body = kling.submits()[0]["json"]
    assert body["video_list"] == [{"video_url": source.url, "refer_type": "feature", "keep_original_sound": "yes"}]
    assert (body["aspect_ratio"], body["duration"], body["prompt"]) == ("16:9", "10", "the next shot of <<<video_1>>>")
    assert prepared.cost.usd == pytest.approx(0.126 * 10)


def test_what_kling_s_omni_refuses_for_video_is_refused_before_any_request(kling, tmp_path, source):
    refused(kling, tmp_path, "o3-pro-v2v-edit", {"video": source.path, "prompt": "x"}, "video", "only as a link")
    refused(kling, tmp_path, "o1-pro-v2v-ref", {"video": source, "prompt": "x"}, "aspect_ratio", "16:9")  # 'auto'
    refused(kling, tmp_path, "o3-pro-v2v-ref", {"video": source, "prompt": "x", "aspect_ratio": "1:1",
                                                "duration": "12"}, "duration", "not offered by Kling")


# -- The fake -----------------------------------------------------------------------------------------------
def test_the_fake_takes_omni_video_as_strictly_as_documented(kling):
    first = {"image_url": _image(), "type": "first_frame"}
    good = {"model_name": "kling-v3-omni", "prompt": "a fox", "mode": "pro", "aspect_ratio": "16:9", "duration": "7"}
    video = {"video_url": "https://cdn.example.com/v.mp4", "refer_type": "base", "keep_original_sound": "yes"}
    changes = (({"mode": "4k", "model_name": "kling-video-o1"}, "mode"),
               ({"model_name": "kling-video-o1"}, "duration"),          # o1 text to video: 5 or 10
               ({"duration": "16"}, "duration"), ({"duration": 7}, "duration"),
               ({"model_name": "kling-v3"}, "model_name"), ({"aspect_ratio": None}, "aspect_ratio"),
               ({"image_list": [first]}, "aspect_ratio"),                 # the frame decides
               ({"image_list": [{**first, "image_url": "data:image/png;base64," + _image()}]}, "image_url"),
               ({"image_list": [{"image_url": _image()}] * 8}, "at most 7"),
               ({"image_list": [first, {"image_url": _image()}, {**first, "type": "end_frame"}],
               "aspect_ratio": None}, "end_frame"),
               ({"video_list": [video], "aspect_ratio": None}, "duration"),  # an edit follows its video
               ({"video_list": [{**video, "video_url": _image()}]}, "video_list.0.video_url"),
               ({"video_list": [video, video]}, "video_list"),
               ({"sound": "on", "model_name": "kling-video-o1", "duration": "5"}, "sound"),
               ({"shot_type": "intelligence"}, "shot_type"), ({"negative_prompt": "x"}, "negative_prompt"),
               ({"prompt": ""}, "prompt"),
               ({"multi_shot": True, "shot_type": "customize", "multi_prompt": [
               {"index": 1, "prompt": "a", "duration": "3"}]}, "add up"),)
    tid = refuses_each_then_runs(kling, OMNI, good, changes, "omni1")
    assert kling.jobs[tid].model == "kling-v3-omni"
    assert _raw(kling, "GET", f"/v1/videos/text2video/{tid}").json["code"] == 1203  # another route's task
