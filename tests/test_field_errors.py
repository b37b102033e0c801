"""Field errors where tracebacks were: an image too large to decode names the field and the pixel limit; a key
with a line break names its variable (never the key) on every provider, before any request."""
import asyncio
import json
import os

import pytest
from PIL import Image

from comfyui_kling_video.nodes.core import keys
from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.request import prepare
from conftest import PROVIDER_KEYS
from test_cli import cli, fal_cli_env


@pytest.mark.parametrize("side", [20000, 12000])  # over Pillow's error limit; over its warning limit
def test_an_image_too_large_to_decode_names_the_field_and_the_pixel_limit(fal_env, tmp_path, side):
    big = tmp_path / "big.png"
    Image.new("1", (side, side)).save(big)  # 1 bit a pixel: small on disk, 4.8 GB as RGB float
    r = cli("i2v", "--image", str(big), "--prompt", "x", "--out", str(tmp_path / "out.mp4"), env=fal_cli_env(fal_env))
    assert r.returncode == 1, r.stderr
    limit = Image.MAX_IMAGE_PIXELS
    assert r.stderr == (f"error: start_frame: {str(big)!r} has {side * side / 1e6:.0f} megapixels, over the limit of "
                        f"{limit / 1e6:.0f} megapixels ({limit:,} pixels) for an input image; scale it down\n")
    assert fal_env.requests() == []


BROKEN = "test-key-0123456789\nX-Injected: 1"


def test_a_key_with_a_line_break_in_the_environment_is_named_never_shown(fal_env, tmp_path):
    r = cli("t2v", "--prompt", "a boat", "--out", str(tmp_path / "out.mp4"),
            env={**fal_cli_env(fal_env), "FAL_KEY": BROKEN})
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("error: FAL_KEY in the environment contains a line break, but a key is one line of "
                               "printable characters without spaces; set it again"), r.stderr
    assert "test-key" not in r.stderr + r.stdout and "Injected" not in r.stderr + r.stdout
    assert "Traceback" not in r.stderr and fal_env.requests() == []


def test_a_stored_key_with_a_line_break_is_named_never_shown(fal_env, tmp_path):
    home = tmp_path / "kling-home"
    home.mkdir(exist_ok=True)
    (home / "keys.json").write_text(json.dumps({"FAL_KEY": "test-key-0123456789\rtail"}))
    env = {**fal_cli_env(fal_env), "KLING_VIDEO_HOME": str(home)}
    del env["FAL_KEY"]
    r = cli("t2v", "--prompt", "a boat", "--out", str(tmp_path / "out.mp4"), env=env)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"error: the FAL_KEY stored in {home / 'keys.json'} contains a line break"), r.stderr
    assert "store it again in ComfyUI" in r.stderr
    assert "test-key" not in r.stderr and "tail" not in r.stderr and fal_env.requests() == []


@pytest.mark.parametrize("flaw,said", [("\n", "a line break"), (" ", "a space"), ("\x07", "a control character")])
def test_every_provider_refuses_a_key_that_cannot_travel_in_a_header(any_provider, tmp_path, monkeypatch, flaw, said):
    name, fake = any_provider
    var = next(v for v in PROVIDER_KEYS if os.environ.get(v))  # the provider's (first) key variable
    value = os.environ[var]
    monkeypatch.setenv(var, value[:6] + flaw + value[6:])
    t2v = variant("t2v")
    with pytest.raises(keys.BadKey) as caught:
        asyncio.run(generate(lambda: prepare(t2v, {"prompt": "a boat"}, name), tmp_path / "out"))
    message = str(caught.value)
    assert message.startswith(f"{var} in the environment contains {said}"), message
    assert value[:6] not in message and value[6:] not in message
    assert fake.requests() == []
