"""Request-size limits per provider (issue 12, hole 9), against the fakes, which answer an oversized body
413 as each service does.

A file goes inside the JSON body (base64, 4/3 of its size) up to the provider's inline threshold; fal uploads
larger ones, and more while the body is over its limit; a provider without storage refuses before sending,
naming the field, the limit and what to do."""
import asyncio
import json
import os
import pathlib
import ssl
import subprocess
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.core.errors import InputError
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.jobs.journal import Journal
from comfyui_kling_video.nodes.providers import aimlapi, fal, kling, vercel
from comfyui_kling_video.nodes.request import prepare
from conftest import SECRET

ROOT = pathlib.Path(__file__).resolve().parents[1]
I2V = variant("v2.6-pro-i2v")  # served by all four providers
LIMIT = {"fal": fal.LIMITS, "kling": kling.LIMITS, "aimlapi": aimlapi.LIMITS, "vercel": vercel.LIMITS}


def noise(width, height, seed=0):
    """An IMAGE that compresses badly: the pack sends it as a JPEG of about 2.4 bytes a pixel."""
    return np.random.default_rng(seed).random((1, height, width, 3), dtype=np.float32)


@pytest.fixture(scope="module")
def images():
    return {"1.1MB": noise(900, 506, 1), "1.6MB": noise(1100, 620, 2), "1.7MB": noise(1120, 630, 3),
            "3.5MB": noise(1600, 900, 4), "5MB": noise(1920, 1080, 5), "9.3MB": noise(2400, 1600, 6)}


def run(name, inputs, tmp_path):
    return asyncio.run(generate(lambda: prepare(I2V, {"prompt": "a storm", "duration": "5", **inputs}, name),
                                tmp_path / "out"))


def wire_requests(fake):
    return [e for e in fake.requests() if e["op"] != "file"]


# -- providers without storage: refused before sending ---------------------------------------------

@pytest.mark.parametrize("any_provider,size,limit_text", [("kling", "9.3MB", "10 MB"), ("aimlapi", "9.3MB", "10 MB"),
                                                          ("vercel", "1.7MB", "4.5 MB")],
                         indirect=["any_provider"], ids=["kling", "aimlapi", "vercel"])
def test_media_too_large_for_a_provider_without_storage_are_refused_before_sending(any_provider, images, size,
                                                                                    limit_text, tmp_path, monkeypatch):
    name, fake = any_provider
    monkeypatch.setenv("KLING_VIDEO_MAX_USD", "50")
    with pytest.raises(InputError) as err:
        run(name, {"start_frame": images[size]}, tmp_path)
    message = str(err.value)
    assert err.value.field == "start_frame", message
    assert limit_text in message and "HTTP 413" in message and "fal provider" in message, message
    assert "smaller image" in message and "at most about" in message, message
    assert wire_requests(fake) == []  # not even a status query: nothing was sent
    assert Journal().spend.spent_today() == 0


@pytest.mark.parametrize("any_provider,size", [("kling", "5MB"), ("aimlapi", "5MB"), ("vercel", "1.1MB")],
                         indirect=["any_provider"], ids=["kling", "aimlapi", "vercel"])
def test_media_under_the_limit_still_go_inline(any_provider, images, size, tmp_path):
    """The limit is the provider's, not a blanket one: a 5 MB image still goes to Kling's API inline."""
    name, fake = any_provider
    _, done = run(name, {"start_frame": images[size]}, tmp_path)
    assert done.path.read_bytes() == fake.video_bytes
    [submit] = fake.submits()
    assert submit["size"] > 1_000_000 and submit["size"] <= LIMIT[name].body_max  # the image went inline


@pytest.mark.parametrize("any_provider", ["vercel"], indirect=True)
def test_the_limit_counts_the_whole_body_and_a_file_sent_twice(any_provider, images, tmp_path):
    """Vercel's body carries the first frame twice (image and frameImages): each frame fits alone, not both
    together; the error names the larger and the others."""
    _, fake = any_provider
    with pytest.raises(InputError) as err:
        run("vercel", {"start_frame": images["1.1MB"], "end_frame": images["1.6MB"]}, tmp_path)
    assert err.value.field == "end_frame" and "and start_frame (1.12 MB)" in str(err.value), str(err.value)
    assert wire_requests(fake) == []


# -- fal: uploads keep the body under its limit -----------------------------------------------------

def test_fal_uploads_a_file_over_its_inline_threshold(fal_env, images, tmp_path):
    _, done = run("fal", {"start_frame": images["3.5MB"]}, tmp_path)
    assert done.path.read_bytes() == fal_env.video_bytes
    [submit] = fal_env.submits()
    assert submit["http_status"] == 200 and submit["size"] <= fal.LIMITS.body_max
    assert submit["json"]["start_image_url"].startswith(f"https://{fal_env.host}/")
    assert fal_env.count("upload") == 1


def test_fal_uploads_the_largest_files_while_the_body_is_over_its_limit(fal_env, images, tmp_path):
    """Two files under the inline threshold that together would make the body too large: the larger one
    is uploaded, the other stays inline."""
    _, done = run("fal", {"start_frame": images["1.6MB"], "end_frame": images["1.7MB"]}, tmp_path)
    assert done.path.exists()
    body = fal_env.submits()[0]["json"]
    assert body["end_image_url"].startswith("https://") and body["start_image_url"].startswith("data:image/jpeg")
    assert fal_env.submits()[0]["size"] <= fal.LIMITS.body_max and fal_env.count("upload") == 1


def test_inline_override_cannot_break_the_body_limit(fal_env, images, tmp_path, monkeypatch):
    """KLING_VIDEO_INLINE_MAX_MB moves the threshold, but a body over fal's limit still uploads."""
    monkeypatch.setenv("KLING_VIDEO_INLINE_MAX_MB", "50")
    run("fal", {"start_frame": images["3.5MB"]}, tmp_path)
    assert fal_env.submits()[0]["json"]["start_image_url"].startswith("https://")
    monkeypatch.setenv("KLING_VIDEO_INLINE_MAX_MB", "1")  # lower than fal's own: a 1.1 MB file is uploaded
    run("fal", {"start_frame": images["1.1MB"]}, tmp_path)
    assert fal_env.submits()[1]["json"]["start_image_url"].startswith("https://")
    assert fal_env.count("upload") == 2


# -- the fakes hold the services' limits --------------------------------------------------------------

def _post(url, body: bytes, headers, ca):
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=str(ca)), timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.mark.parametrize("any_provider", ["fal", "kling", "aimlapi", "vercel"], indirect=True)
def test_the_fakes_answer_an_oversized_body_413_as_the_service_does(any_provider):
    name, fake = any_provider
    limit = fake.body_max_bytes
    assert limit == LIMIT[name].body_max  # the pack plans for the limit the fake holds
    path = {"fal": "/fal-ai/kling-video/v2.6/pro/image-to-video", "kling": "/v1/videos/image2video",
            "aimlapi": "/v2/video/generations", "vercel": "/v4/ai/video-model/start"}[name]
    body = json.dumps({"prompt": "p", "image": "A" * limit}).encode()
    status, headers, answer = _post(fake.base_url + path, body, {}, fake.ca_path)
    assert status == 413
    if name == "vercel":  # the platform answers before the gateway: text, and its error header
        assert headers["X-Vercel-Error"] == "FUNCTION_PAYLOAD_TOO_LARGE" and b"FUNCTION_PAYLOAD_TOO_LARGE" in answer
    elif name == "fal":
        assert "Request Entity Too Large" in json.loads(answer)["detail"]
    elif name == "kling":
        assert set(json.loads(answer)) == {"code", "message", "request_id"}
    else:
        assert json.loads(answer)["statusCode"] == "413"
    assert fake.jobs == {}


# -- the CLI's dry run says the same, sending nothing --------------------------------------------------

def test_dry_run_shows_the_refusal_and_the_upload(tmp_path, images):
    image = (np.clip(images["9.3MB"][0], 0, 1) * 255).astype(np.uint8)
    Image.fromarray(image).save(tmp_path / "big.png", compress_level=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAL_", "KLINGAI_", "AIMLAPI_", "AI_GATEWAY_"))}
    r = subprocess.run([sys.executable, str(ROOT), "i2v", "--image", str(tmp_path / "big.png"), "--prompt", "p",
                        "--dry-run"], capture_output=True, text=True, timeout=300,
                       env={**env, "KLING_VIDEO_HOME": str(tmp_path / "home")})
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "bytes: uploaded to fal storage first>" in out and "POST https://queue.fal.run/" in out
    for title, limit in (("Kling", "over the 10 MB"), ("AI/ML API", "over the 10 MB"),
                         ("Vercel AI Gateway", "over the 4.5 MB")):
        line = next(l for l in out.splitlines() if l.startswith(f"== {title}"))
        assert "refused before sending: start_frame: is 9.28 MB" in line and limit in line, line
    assert len(out) < 20000
