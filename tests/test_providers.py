"""Every variant × provider pair the catalog lists, against each provider's fake (written from the
reference, independently of the mapping code): bodies field by field, outputs, faults, crashes, key hygiene."""
import asyncio
import base64
import io
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image

from comfyui_kling_video.nodes.catalog import CATALOG, variant
from comfyui_kling_video.nodes.errors import InputError, KlingError
from comfyui_kling_video.nodes.job import generate
from comfyui_kling_video.nodes.journal import Journal
from comfyui_kling_video.nodes.media_out import decode_video
from comfyui_kling_video.nodes.request import prepare
from conftest import SECRET

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAIRS = [(p, v.key) for v in CATALOG for p in v.providers if len(v.providers) > 1]


def picture(seed):
    return torch.rand(1, 480, 640, 3, generator=torch.Generator().manual_seed(seed))


def inputs_for(v):
    given = {"prompt": "a king walks", "duration": "10", "negative_prompt": "blur"}
    if v.has("start_frame"):
        given["start_frame"] = picture(1)
    if v.has("end_frame"):
        given["end_frame"] = picture(2)
    if v.has("generate_audio"):
        given["generate_audio"] = False
    if v.family == "text-to-video":
        given["aspect_ratio"] = "9:16"
    return given


def image_of(value):
    """Pixels of an image as each provider carries it (data URI, raw base64, or a Vercel file part)."""
    if isinstance(value, dict):
        value = value["data"]
    raw = base64.b64decode(value.split(",", 1)[1] if value.startswith("data:") else value)
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))


def sent_fields(name, body, offer):
    """What the provider received, in node-input terms (independent of the product's mapping)."""
    frames = {}
    if name == "fal":
        out = dict(body)
        frames = {"start_frame": body.get("start_image_url") or body.get("image_url"),
                  "end_frame": body.get("end_image_url") or body.get("tail_image_url")}
    elif name == "kling":
        out = {k: body[k] for k in ("prompt", "negative_prompt", "duration", "aspect_ratio") if k in body}
        if "sound" in body:
            out["generate_audio"] = body["sound"] == "on"
        frames = {"start_frame": body.get("image"), "end_frame": body.get("image_tail")}
        model_name, mode = offer.model.split("/")
        assert body["mode"] == mode and body["model_name"] == model_name and body["external_task_id"]
    elif name == "aimlapi":
        out = {k: body[k] for k in ("prompt", "negative_prompt", "aspect_ratio", "generate_audio", "cfg_scale") if k in body}
        out["duration"] = str(body["duration"])
        frames = {"start_frame": body.get("image_url"), "end_frame": body.get("tail_image_url")}
    else:
        options = body["providerOptions"]["klingai"]
        out = {"prompt": body["prompt"], "duration": str(body["duration"]), "generate_audio": body["generateAudio"],
               "negative_prompt": options["negativePrompt"]}
        if "aspectRatio" in body:
            out["aspect_ratio"] = body["aspectRatio"]
        for frame in body.get("frameImages", []):
            frames["start_frame" if frame["frameType"] == "first_frame" else "end_frame"] = frame["image"]
        assert options["mode"] == "pro" and options["sound"] == ("on" if body["generateAudio"] else "off")
    out.update({k: v for k, v in frames.items() if v})
    return out


@pytest.mark.parametrize("any_provider,key", PAIRS, indirect=["any_provider"],
                         ids=[f"{p}-{k}" for p, k in PAIRS])
def test_every_variant_on_every_provider(any_provider, tmp_path, key):
    name, fake = any_provider
    v = variant(key)
    given = inputs_for(v)
    _, done = asyncio.run(generate(lambda: prepare(v, given, name), tmp_path / "out"))
    [submit] = fake.submits()
    got = sent_fields(name, submit["json"], v.offer(name))
    for field in ("prompt", "negative_prompt", "duration", "generate_audio", "aspect_ratio"):
        if field in given:
            assert got[field] == given[field], (name, field)
    for node_input in ("start_frame", "end_frame"):
        if node_input in given:
            expected = (given[node_input][0].numpy() * 255 + 0.5).astype(np.uint8)
            assert np.array_equal(image_of(got[node_input]), expected), (name, node_input)
    assert done.path.read_bytes() == fake.video_bytes
    decoded = decode_video(done.path)
    assert decoded.frames.shape[0] == 24 and decoded.audio["waveform"].shape[1] == 2
    record = Journal().all()[0]
    assert record["provider"] == name and record["state"] == "downloaded"


@pytest.mark.parametrize("key,field,value,able", [
    ("i2v", "voice_ids", "v1", {"fal", "kling", "vercel"}),
    ("t2v", "cfg_scale", 0.8, {"fal", "aimlapi"}),
])
def test_a_field_the_provider_cannot_take_is_refused(any_provider, tmp_path, key, field, value, able):
    name, fake = any_provider
    v = variant(key)
    given = {**inputs_for(v), field: value}
    if field == "voice_ids":
        given.update(prompt="<<<voice_1>>> speaks", generate_audio=True)
    if name in able:
        asyncio.run(generate(lambda: prepare(v, given, name), tmp_path / "out"))
        return
    with pytest.raises(InputError) as err:
        asyncio.run(generate(lambda: prepare(v, given, name), tmp_path / "out"))
    assert err.value.field == field and "cannot take it" in str(err.value)
    assert fake.log == []


def faults(name):
    reset_status = ("stream", dict(reset=True)) if name == "fal" else ("status", dict(reset=True, times=2))
    burst = ("status", dict(status=503, body={"message": "Service unavailable"}, times=3))
    return {"5xx burst on status": ([("stream", dict(reset=True))] if name == "fal" else []) + [burst],
            "connection reset during status": [reset_status],
            "connection reset mid-download": [("file", dict(truncate_at=2000))]}


@pytest.mark.parametrize("fault", ["5xx burst on status", "connection reset during status",
                                   "connection reset mid-download"])
def test_faults_on_every_provider(any_provider, tmp_path, fault, caplog):
    name, fake = any_provider
    for op, kwargs in faults(name)[fault]:
        fake.inject(op, **kwargs)
    _, done = asyncio.run(generate(lambda: prepare(variant("t2v"), {"prompt": "fault"}, name), tmp_path / "out"))
    assert done.path.read_bytes() == fake.video_bytes
    assert len(fake.submits()) == 1
    assert SECRET not in caplog.text


def test_lost_submit_answer(any_provider, tmp_path, caplog):
    """The create reached the provider but its answer was lost. fal and AI/ML API cannot tell whether a
    job exists: never repeated, the user is told. Kling finds it at once by external_task_id; Vercel's
    start is retried under the same idempotency key: both deliver the one job."""
    name, fake = any_provider
    fake.inject("start" if name == "vercel" else "submit", reset=True, process=True)
    run = lambda: asyncio.run(generate(lambda: prepare(variant("t2v"), {"prompt": "lost"}, name), tmp_path / "out"))
    if name in ("fal", "aimlapi"):
        with pytest.raises(KlingError):
            run()
        with pytest.raises(KlingError, match="raise the node's `take`"):
            run()
    else:
        _, done = run()
        assert done.path.read_bytes() == fake.video_bytes
    assert len(fake.jobs) == 1  # never created twice
    assert SECRET not in caplog.text


def test_error_paths_never_show_the_key(any_provider, tmp_path, caplog):
    name, fake = any_provider
    fake.next_outcome = ("error", {"error": f"boom {SECRET}", "message": f"boom {SECRET}"})
    with pytest.raises(KlingError) as err:
        asyncio.run(generate(lambda: prepare(variant("t2v"), {"prompt": "leak"}, name), tmp_path / "out"))
    assert SECRET not in str(err.value) and SECRET not in caplog.text
    home = pathlib.Path(os.environ["KLING_VIDEO_HOME"])
    for path in home.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes()


def test_kill_9_then_rerun_on_every_provider(any_provider, tmp_path):
    name, fake = any_provider
    fake.progress_seconds = 3.0
    cmd = [sys.executable, str(ROOT), "t2v", "--prompt", "crash", "--provider", name, "--out", str(tmp_path / "o.mp4")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not fake.submits() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    assert rerun.returncode == 0, rerun.stderr
    assert (tmp_path / "o.mp4").read_bytes() == fake.video_bytes
    assert len(fake.submits()) == 1 and len(fake.jobs) == 1
    assert SECRET not in rerun.stdout + rerun.stderr


@pytest.mark.parametrize("any_provider", ["kling"], indirect=True)
def test_kling_out_of_credits_is_not_retried(any_provider, tmp_path):
    name, fake = any_provider
    fake.no_credits = True  # HTTP 429 with Kling's code 1102: waiting will not help
    with pytest.raises(KlingError, match="1102.*resource pack"):
        asyncio.run(generate(lambda: prepare(variant("t2v"), {"prompt": "broke"}, name), tmp_path / "out"))
    assert fake.count("submit") == 1
