"""Request bodies and prices from the catalog, field by field (no network)."""
import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image

from comfyui_kling_video.nodes.catalog import CATALOG, variant
from comfyui_kling_video.nodes.core.errors import InputError
from comfyui_kling_video.nodes.media_in.encode import PNG_MAX_PIXELS, encode_image
from comfyui_kling_video.nodes.request import prepare

I2V = variant("i2v")
T2V = variant("t2v")


def image(h=480, w=640, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, h, w, 3, generator=g)


def decode(media):
    uri = media.data_uri()  # what goes on the wire for a file this small
    head, _, payload = uri.partition(",")
    mime = head[5:].split(";")[0]
    return mime, np.asarray(Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB"))


def test_i2v_body_field_by_field():
    start, end = image(seed=1), image(seed=2)
    p = prepare(I2V, {"start_frame": start, "end_frame": end, "prompt": "A king says <<<voice_1>>> hello",
                      "negative_prompt": "blur", "duration": "10", "generate_audio": True,
                      "voice_ids": "v_one, v_two"})
    assert list(p.body) == ["start_image_url", "end_image_url", "prompt", "duration", "negative_prompt",
                            "generate_audio", "voice_ids"]
    assert p.body["prompt"] == "A king says <<<voice_1>>> hello"
    assert p.body["negative_prompt"] == "blur"
    assert p.body["duration"] == "10" and isinstance(p.body["duration"], str)
    assert p.body["generate_audio"] is True
    assert p.body["voice_ids"] == ["v_one", "v_two"]
    assert "image_url" not in p.body and "tail_image_url" not in p.body
    # start and end frames round-trip losslessly (PNG below PNG_MAX_PIXELS)
    for key, tensor in (("start_image_url", start), ("end_image_url", end)):
        mime, pixels = decode(p.body[key])
        assert mime == "image/png"
        expected = (tensor[0].numpy() * 255 + 0.5).astype(np.uint8)
        assert np.array_equal(pixels, expected)
    assert p.cost.usd == pytest.approx(1.68) and "voice" in p.cost.basis


def test_i2v_defaults_and_optional_end_frame_omitted():
    p = prepare(I2V, {"start_frame": image(), "prompt": "waves"})
    assert p.body == {"start_image_url": p.body["start_image_url"], "prompt": "waves",
                      "negative_prompt": "blur, distort, and low quality", "duration": "5",
                      "generate_audio": True}
    assert str(p.cost).startswith("$0.70")


@pytest.mark.parametrize("duration,audio,voices,usd", [
    ("5", True, "", 0.70), ("10", True, "", 1.40), ("5", False, "", 0.35), ("5", True, "v1", 0.84),
])
def test_prices(duration, audio, voices, usd):
    p = prepare(I2V, {"start_frame": image(), "prompt": "x", "duration": duration,
                      "generate_audio": audio, "voice_ids": voices})
    assert p.cost.usd == pytest.approx(usd)


def test_t2v_body_field_by_field():
    p = prepare(T2V, {"prompt": "a cat", "duration": "10", "aspect_ratio": "9:16", "negative_prompt": "dark",
                      "cfg_scale": 0.25, "generate_audio": False})
    assert p.body == {"prompt": "a cat", "duration": "10", "aspect_ratio": "9:16", "negative_prompt": "dark",
                      "cfg_scale": 0.25, "generate_audio": False}
    assert p.cost.usd == pytest.approx(0.70)


def test_large_frame_is_jpeg_and_close():
    big = image(1080, 1920)
    mime, pixels = decode(encode_image(big, "start_frame"))
    assert 1080 * 1920 > PNG_MAX_PIXELS and mime == "image/jpeg"
    expected = big[0].numpy() * 255
    assert np.abs(pixels.astype(np.float32) - expected).mean() < 12  # random noise is JPEG's worst case


BAD = [
    ("start_frame", {"start_frame": None}, "required"),
    ("start_frame", {"start_frame": torch.rand(2, 480, 640, 3)}, "batch of 2"),
    ("start_frame", {"start_frame": image(200, 200)}, "300x300"),
    ("start_frame", {"start_frame": image(300, 900)}, "aspect ratio"),
    ("start_frame", {"start_frame": torch.rand(480, 640)}, "shape"),
    ("start_frame", {"start_frame": torch.full((1, 480, 640, 3), float("nan"))}, "NaN"),
    ("end_frame", {"end_frame": image(1000, 300)}, "aspect ratio"),
    ("prompt", {"prompt": "   "}, "empty"),
    ("prompt", {"prompt": "x" * 2501}, "2500"),
    ("negative_prompt", {"negative_prompt": "y" * 3000}, "2500"),
    ("duration", {"duration": "7"}, "not one of"),
    ("voice_ids", {"voice_ids": "a,b,c"}, "at most 2"),
    ("voice_ids", {"voice_ids": "bad id!"}, "not a voice id"),
    ("prompt", {"prompt": "say <<<voice_2>>>", "voice_ids": "one"}, "voice_2"),
    ("generate_audio", {"generate_audio": "yes"}, "true or false"),
    ("voice_ids", {"voice_ids": "v1", "generate_audio": False}, "needs generate_audio on"),
]


@pytest.mark.parametrize("field,override,rule", BAD, ids=[f"{b[0]}-{b[2]}" for b in BAD])
def test_bad_i2v_inputs_name_field_and_rule(field, override, rule):
    inputs = {"start_frame": image(), "prompt": "ok", **override}
    with pytest.raises(InputError) as err:
        prepare(I2V, inputs)
    assert err.value.field == field
    assert str(err.value).startswith(field) and rule in str(err.value)


@pytest.mark.parametrize("override,field,rule", [
    ({"cfg_scale": 1.5}, "cfg_scale", "outside 0 to 1"),
    ({"cfg_scale": float("inf")}, "cfg_scale", "finite"),
    ({"aspect_ratio": "4:3"}, "aspect_ratio", "not one of"),
])
def test_bad_t2v_inputs(override, field, rule):
    with pytest.raises(InputError) as err:
        prepare(T2V, {"prompt": "ok", **override})
    assert err.value.field == field and rule in str(err.value)


def test_catalog_is_consistent():
    ids = [v.node_id for v in CATALOG]
    assert len(set(ids)) == len(ids) and all(i.startswith("KlingVideo_") for i in ids)
    for v in CATALOG:
        names = [f.name for f in v.fields]
        assert len(set(names)) == len(names), v.key
        if v.duration_field:
            assert v.field(v.duration_field).options, v.key
        else:  # billed on an input's length, per request, or not published
            assert v.price.seconds_from or v.price.per_request or v.price.audio_off is None, v.key
        if v.price.seconds_from:
            assert v.field(v.price.seconds_from).kind in ("video", "audio"), v.key
        assert v.price.source and v.source, v.key
