"""Prompt references of O1/O3 (@Image1, @Element1, @Video1 or Kling's <<<image_1>>> forms): rewritten to fal's
documented spelling, and refused before any request when they name an input that is not connected."""
import pytest
import torch

from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.core.errors import InputError
from comfyui_kling_video.nodes.request import prepare
from media import make_mp4


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    # inside the O1/O3 video-to-video limits: 720-2160 px, 3-10 s, 24-60 fps
    return str(make_mp4(tmp_path_factory.mktemp("media") / "clip.mp4", width=1280, height=720, fps=24, seconds=3.0))


def picture(seed=0, n=1):
    return torch.rand(n, 480, 640, 3, generator=torch.Generator().manual_seed(seed))


def element(seed):
    return {"frontal": picture(seed), "references": picture(seed + 1), "video": None, "voice_id": ""}


def refused(key, inputs) -> InputError:
    with pytest.raises(InputError) as caught:
        prepare(variant(key), inputs)
    return caught.value


def test_o1_frames_are_image_1_and_2_in_any_spelling():
    body = prepare(variant("o1-pro-i2v"), {"start_frame": picture(1), "end_frame": picture(2),
                                           "prompt": "<<<image_1>>> melts into @image2, then @IMAGE_1 again"}).body
    assert body["prompt"] == "@Image1 melts into @Image2, then @Image1 again"


def test_o1_end_frame_reference_without_the_end_frame_is_refused():
    error = refused("o1-std-i2v", {"start_frame": picture(1), "prompt": "from @Image1 to @image2"})
    assert error.field == "prompt" and "@image2" in error.rule and "end_frame" in error.rule
    assert "not connected" in error.rule


def test_reference_to_video_numbers_elements_and_images_apart():
    inputs = {"prompt": "<<<element_2>>> hands @Element1 the cup in the style of @image1",
              "elements": [element(1), element(3)], "reference_images": picture(5)}
    assert prepare(variant("o1-pro-r2v"), inputs).body["prompt"] == \
        "@Element2 hands @Element1 the cup in the style of @Image1"
    error = refused("o1-pro-r2v", {**inputs, "prompt": "@element3 waves"})
    assert error.field == "prompt" and "@element3" in error.rule and "2 element(s)" in error.rule
    assert "elements" in error.rule
    error = refused("o1-pro-r2v", {**inputs, "prompt": "<<<image_2>>> only"})
    assert "<<<image_2>>>" in error.rule and "1 image(s)" in error.rule and "reference_images" in error.rule


def test_a_kind_the_model_does_not_take_is_refused():
    inputs = {"prompt": "@Element1 dances like @Video1", "elements": [element(1)]}
    error = refused("o1-pro-r2v", inputs)
    assert "@Video1" in error.rule and "no video input" in error.rule


def test_o3_reference_frames_are_not_numbered_only_reference_images_are():
    # o3 reference-to-video: start/end frames are set by upload; @Image1 is the first of image_urls
    error = refused("o3-pro-r2v", {"start_frame": picture(1), "prompt": "@Image1 at dawn", "elements": [element(2)]})
    assert "0 image(s)" in error.rule and "reference_images" in error.rule


def test_shot_prompts_are_checked_and_named():
    inputs = {"prompt": "", "duration": "6", "elements": [element(1)],
              "shots": [{"prompt": "<<<element_1>>> enters", "duration": "3"},
                        {"prompt": "@Element2 follows", "duration": "3"}]}
    error = refused("o3-std-r2v", inputs)
    assert error.field == "shots[2].prompt" and "@Element2" in error.rule
    inputs["shots"][1]["prompt"] = "she sits"
    body = prepare(variant("o3-std-r2v"), inputs).body
    assert [s["prompt"] for s in body["multi_prompt"]] == ["@Element1 enters", "she sits"]


def test_video_edit_names_the_source_video(clip):
    inputs = {"video": clip, "prompt": "make <<<VIDEO_1>>> rainy; mail me@video1.com"}
    assert prepare(variant("o3-pro-v2v-edit"), inputs).body["prompt"] == "make @Video1 rainy; mail me@video1.com"
    error = refused("o1-pro-v2v-edit", {**inputs, "prompt": "@Video1 in the style of @Image1"})
    assert error.field == "prompt" and "@Image1" in error.rule and "reference_images" in error.rule


def test_v3_checks_elements_only():
    # fal documents only "@Element1, @Element2" for Kling 3.0 (image to video, 4K, motion control)
    for key in ("v3-pro-i2v", "v3-4k-i2v"):
        error = refused(key, {"start_frame": picture(1), "prompt": "@element1 smiles"})
        assert error.field == "prompt" and "@element1" in error.rule and "0 element(s)" in error.rule
        body = prepare(variant(key), {"start_frame": picture(1), "elements": [element(2)],
                                      "prompt": "<<<element_1>>> smiles at @image7"}).body
        assert body["prompt"] == "@Element1 smiles at @image7"  # v3 names no images: left as written


def test_models_without_documented_references_leave_the_prompt_alone():
    body = prepare(variant("o3-pro-t2v"), {"prompt": "a sign reads @Image1 and <<<video_1>>>"}).body
    assert body["prompt"] == "a sign reads @Image1 and <<<video_1>>>"
