"""Kling's own API as a provider of fal's effects nodes: POST /v1/videos/effects (ComfyUI 0.33.0's
KlingVideoEffectsRequest, from Kling's OpenAPI for Comfy's proxy). Runs end to end through the pack against the
fake Kling API (wire body, statuses, result, the downloaded file); a scene or length the source does not allow is
refused before any request; the fake is as strict as the source's shape."""
import asyncio

import pytest
import torch

from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.core.errors import InputError
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.request import prepare
from test_kling_extend import kling  # noqa: F401  (the fake Kling API, pointed at)
from test_kling_models import _image, _raw, refuses_each_then_runs

PATH = "/v1/videos/effects"


def picture(seed):
    return torch.rand(1, 480, 640, 3, generator=torch.Generator().manual_seed(seed))


def run(tmp_path, key, inputs):
    return asyncio.run(generate(lambda: prepare(variant(key), inputs, "kling"), tmp_path / "out"))


@pytest.mark.parametrize("key,model_name,mode", [("v1-std-effects", "kling-v1", "std"),
                                                 ("v1.5-pro-effects", "kling-v1-5", "pro"),
                                                 ("v1.6-pro-effects", "kling-v1-6", "pro")])
def test_a_two_person_effect_runs_on_kling(kling, tmp_path, key, model_name, mode):
    images = torch.cat([picture(1), picture(2)])
    _, done = run(tmp_path, key, {"images": images, "effect_scene": "kiss", "duration": "10"})
    [submit] = kling.submits()
    assert submit["path"] == PATH
    body = submit["json"]
    assert set(body) == {"effect_scene", "input", "external_task_id"} and body["effect_scene"] == "kiss"
    given = body["input"]
    assert {k: given[k] for k in ("model_name", "mode", "duration")} == {"model_name": model_name, "mode": mode,
                                                                         "duration": "10"}
    assert len(given["images"]) == 2 and not given["images"][0].startswith("data:")
    assert {r["path"].rsplit("/", 1)[0] for r in kling.requests("status")} == {PATH}
    assert done.path.read_bytes() == kling.video_bytes


def test_a_one_image_effect_runs_on_kling_1_6_standard(kling, tmp_path):
    _, done = run(tmp_path, "v1.6-std-effects", {"images": picture(3), "effect_scene": "bloombloom"})
    [submit] = kling.submits()
    assert submit["json"]["effect_scene"] == "bloombloom"
    given = submit["json"]["input"]
    assert set(given) == {"model_name", "image", "duration"} and given["model_name"] == "kling-v1-6"
    assert given["duration"] == "5" and done.path.read_bytes() == kling.video_bytes


@pytest.mark.parametrize("key,inputs,field", [
    ("v1.6-std-effects", {"effect_scene": "jelly_press"}, "effect_scene"),     # not in the source at all
    ("v1-std-effects", {"effect_scene": "expansion"}, "effect_scene"),         # one-image scenes: kling-v1-6 only
    ("v1.6-pro-effects", {"effect_scene": "fuzzyfuzzy"}, "effect_scene"),      # ... and with no mode: std only
    ("v1.5-pro-effects", {}, "effect_scene"),                                  # the default scene (squish) too
    ("v1.6-std-effects", {"effect_scene": "squish", "duration": "10"}, "duration"),  # one-image scenes: 5 s
])
def test_what_kling_effects_cannot_take_is_refused_before_any_request(kling, tmp_path, key, inputs, field):
    with pytest.raises(InputError) as caught:
        run(tmp_path, key, {"images": picture(4), **inputs})
    assert caught.value.field == field and "Kling" in str(caught.value)
    assert kling.requests() == []


def test_the_fake_takes_effects_as_strictly_as_the_source(kling):
    image = _image()
    two = {"effect_scene": "hug", "input": {"model_name": "kling-v1-5", "mode": "pro", "images": [image, image],
                                            "duration": "5"}}
    refuses_each_then_runs(kling, PATH, two, [
        ({"effect_scene": "jelly_press"}, "effect_scene"),
        ({"effect_scene": None}, "effect_scene"),
        ({"input": {**two["input"], "model_name": "kling-v2-6"}}, "input.model_name"),
        ({"input": {**two["input"], "images": [image]}}, "input.images"),
        ({"input": {**two["input"], "duration": 5}}, "input.duration"),
        ({"input": {**two["input"], "prompt": "x"}}, "input.prompt"),
        ({"input": "x"}, "input"),
        ({"model_name": "kling-v1"}, "model_name"),
    ], "fx-two")
    one = {"effect_scene": "squish", "input": {"model_name": "kling-v1-6", "image": image, "duration": "5"}}
    refuses_each_then_runs(kling, PATH, one, [
        ({"input": {**one["input"], "mode": "std"}}, "input.mode"),
        ({"input": {**one["input"], "model_name": "kling-v1"}}, "input.model_name"),
        ({"input": {**one["input"], "duration": "10"}}, "input.duration"),
        ({"input": {**one["input"], "image": "data:image/png;base64," + image}}, "input.image"),
        ({"input": {"model_name": "kling-v1-6", "duration": "5"}}, "input.image"),
    ], "fx-one")
    assert _raw(kling, "GET", f"{PATH}/no-such-task").status == 404
