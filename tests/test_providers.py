"""Every variant × provider pair the catalog lists, against each provider's fake (written from the
reference, independently of the mapping code): bodies field by field, outputs, faults, crashes, key hygiene."""
import asyncio
import base64
import hashlib
import io
import os
import pathlib
import signal
import subprocess
import sys
import time
import wave

import numpy as np
import pytest
import torch
from PIL import Image

from comfyui_kling_video.nodes.catalog import CATALOG, variant
from comfyui_kling_video.nodes.core.errors import InputError, KlingError
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.jobs.journal import Journal
from comfyui_kling_video.nodes.media_out.decode import decode_video
from comfyui_kling_video.nodes.request import prepare
from conftest import SECRET

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAIRS = [(p, v.key) for v in CATALOG for p in v.providers if len(v.providers) > 1]


def picture(seed):
    return torch.rand(1, 480, 640, 3, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """3 s of 1280x720 H.264+AAC: inside every provider's video limits (720 px sides for video to video)."""
    from media import make_mp4
    return make_mp4(tmp_path_factory.mktemp("clip") / "clip.mp4", width=1280, height=720, fps=24, seconds=3.0)


def inputs_for(v, offer, clip):
    """Valid node inputs for every field the provider takes, with non-default values where there is a
    choice, so that a dropped or renamed field shows."""
    given = {}
    for f in v.fields:
        if f.wire not in offer.fields:
            continue
        if offer.provider == "kling" and f.kind == "image" and "image_urls" in offer.fields:
            continue  # Kling's omni takes frames or a frame shape, not both: tests/test_kling_api_omni.py
        if f.name in ("prompt",):
            given[f.name] = "a king walks"
        elif f.name == "negative_prompt":
            given[f.name] = "blur"
        elif f.name == "text":  # lip sync's words
            given[f.name] = "hello there"
        elif f.name in ("sound_effect_prompt", "background_music_prompt"):  # video to audio's
            given[f.name] = f"{f.name} of a race"
        elif f.name == "asmr_mode":
            given[f.name] = True
        elif f.name == "effect_scene":  # a two-person scene: every provider's effects take it, with two images
            given[f.name] = "hug"
        elif f.name == "duration":
            given[f.name] = "10"
        elif f.name == "generate_audio":
            given[f.name] = False
        elif f.name == "aspect_ratio":
            given[f.name] = "9:16"
        elif f.name == "character_orientation":  # not the default, unless a face element needs it
            given[f.name] = "video" if "elements" in offer.fields else "image"
        elif f.name in ("keep_original_sound", "keep_audio"):
            given[f.name] = False
        elif f.name == "cfg_scale":
            given[f.name] = 0.7
        elif f.kind == "image":
            given[f.name] = picture(len(given) + 1)
        elif f.kind == "images":
            given[f.name] = torch.cat([picture(20), picture(21)])
        elif f.kind == "video" and offer.provider == "kling":  # Kling takes a video only as a link
            from comfyui_kling_video.nodes.media_in.media import SavedResult
            given[f.name] = SavedResult(str(clip), "https://cdn.example.com/clip.mp4",
                                        hashlib.sha256(pathlib.Path(clip).read_bytes()).hexdigest())
        elif f.kind == "video":
            given[f.name] = str(clip)
        elif f.kind == "audio":  # 3 s of a tone at 16 kHz: inside every provider's sound limits
            t = torch.arange(48000) / 16000
            given[f.name] = {"waveform": (0.3 * torch.sin(2 * torch.pi * 220 * t))[None, None], "sample_rate": 16000}
        elif f.kind == "elements":
            given[f.name] = [{"frontal": picture(30), "references": picture(31), "video": None, "voice_id": ""}]
    return given


def image_of(value):
    """Pixels of an image as each provider carries it (data URI, raw base64, or a Vercel file part)."""
    if isinstance(value, dict):
        value = value["data"]
    raw = base64.b64decode(value.split(",", 1)[1] if value.startswith("data:") else value)
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))


SCALARS = ("prompt", "negative_prompt", "duration", "generate_audio", "aspect_ratio", "character_orientation",
           "keep_original_sound", "keep_audio", "cfg_scale", "text", "sound_effect_prompt", "background_music_prompt",
           "asmr_mode", "effect_scene")


def sent_fields(name, body, offer):
    """What the provider received, in node-input terms (independent of the product's mapping)."""
    model, _, mode = offer.model.rpartition("/") if offer.model.endswith(("/std", "/pro", "/4k")) \
        else (offer.model, "", "")
    if name == "fal":
        out = {k: body[k] for k in SCALARS if k in body}
        out.update(start_frame=body.get("start_image_url") or body.get("image_url"),
                   end_frame=body.get("end_image_url") or body.get("tail_image_url"), image=body.get("image_url"),
                   reference_images=body.get("image_urls"), elements=body.get("elements"),
                   images=body.get("input_image_urls"), audio=body.get("audio_url"))
    elif name == "kling" and "settings" in body:  # Kling 3.0 Turbo's own shape (no model_name, mode or our id)
        settings, contents = body["settings"], {c["type"]: c for c in body.get("contents", [])}
        assert settings["resolution"] == offer.model.rpartition("/")[2] and "external_task_id" not in body
        out = {"prompt": body.get("prompt") or contents["prompt"]["text"], "duration": str(settings["duration"]),
               **({"aspect_ratio": settings["aspect_ratio"]} if "aspect_ratio" in settings else {})}
        out["start_frame"] = contents.get("first_frame", {}).get("url")
    elif name == "kling" and offer.model == "video-to-audio":  # /v1/audio: no model_name or mode
        assert body["external_task_id"] and "model_name" not in body
        out = {"sound_effect_prompt": body.get("sound_effect_prompt"), "asmr_mode": body.get("asmr_mode"),
               "background_music_prompt": body.get("bgm_prompt")}
    elif name == "kling" and body.get("model_name") in ("kling-v3-omni", "kling-video-o1"):  # Omni-Video
        assert f"{body['model_name']}/{body['mode']}" == offer.model and body["external_task_id"]
        out = {k: body[k] for k in ("prompt", "duration", "aspect_ratio") if k in body}
        if "sound" in body:
            out["generate_audio"] = body["sound"] == "on"
        frames = {i.get("type"): i["image_url"] for i in body.get("image_list", [])}
        out.update(start_frame=frames.get("first_frame"), end_frame=frames.get("end_frame"),
                   reference_images=[i["image_url"] for i in body.get("image_list", []) if "type" not in i])
        for video in body.get("video_list", []):
            out.update(video=video["video_url"], keep_audio=video["keep_original_sound"] == "yes")
    elif name == "kling" and "effect_scene" in body:  # video effects: {effect_scene, input: {...}}
        given = body["input"]
        assert f"effects/{given['model_name']}/{given['mode']}" == offer.model and body["external_task_id"]
        out = {"effect_scene": body["effect_scene"], "duration": given["duration"], "images": given["images"]}
    elif name == "kling" and "input" in body:  # lip sync: {input: {...}}, no model and no id of ours
        body = body["input"]
        assert body["mode"] == offer.model.rpartition("/")[2] and "external_task_id" not in body
        out = {"audio": body.get("audio_file"), **({"text": body["text"]} if "text" in body else {})}
    elif name == "kling":
        out = {k: body[k] for k in ("prompt", "negative_prompt", "duration", "aspect_ratio", "cfg_scale",
                                    "character_orientation") if k in body}
        if "keep_original_sound" in body:  # motion control's "yes" | "no"
            out["keep_original_sound"] = body["keep_original_sound"] == "yes"
        if "sound" in body:
            out["generate_audio"] = body["sound"] == "on"
        out.update(start_frame=body.get("image"), end_frame=body.get("image_tail"),
                   image=body.get("image") or body.get("image_url"),
                   images=[i["image"] for i in body["image_list"]] if "image_list" in body else None,
                   audio=body.get("sound_file"))
        # Kling's avatar route takes no model_name: the mode alone chooses
        assert body["mode"] == mode and body.get("model_name") == (None if model == "avatar" else model)
        assert body["external_task_id"]
    elif name == "aimlapi":
        assert body["model"] == model and body.get("mode", "") == mode
        out = {k: body[k] for k in SCALARS if k in body and k != "keep_audio"}
        if "duration" in body:
            assert type(body["duration"]) is int  # an integer in AI/ML API's schemas
            out["duration"] = str(body["duration"])
        if "keep_audio" in body:
            out["keep_original_sound" if "motion-control" in model else "keep_audio"] = body["keep_audio"]
        out.update(start_frame=body.get("image_url"), image=body.get("image_url"),
                   end_frame=body.get("tail_image_url") or body.get("last_image_url"),
                   reference_images=body.get("image_list"), elements=body.get("elements"))
    else:
        options = body["providerOptions"]["klingai"]
        out = {"prompt": body["prompt"], "duration": str(body["duration"])}
        if "generateAudio" in body:
            out["generate_audio"] = body["generateAudio"]
            assert options["sound"] == ("on" if body["generateAudio"] else "off")
        if "negativePrompt" in options:
            out["negative_prompt"] = options["negativePrompt"]
        if "cfgScale" in options:
            out["cfg_scale"] = options["cfgScale"]
        if "aspectRatio" in body:
            out["aspect_ratio"] = body["aspectRatio"]
        for frame in body.get("frameImages", []):
            out["start_frame" if frame["frameType"] == "first_frame" else "end_frame"] = frame["image"]
        assert options["mode"] == mode
    out["video"] = out["reference_video"] = out.get("video") or body.get("video_url")
    return out


def video_of(value):
    return base64.b64decode(value.split(",", 1)[1])


@pytest.mark.parametrize("any_provider,key", PAIRS, indirect=["any_provider"],
                         ids=[f"{p}-{k}" for p, k in PAIRS])
def test_every_variant_on_every_provider(any_provider, tmp_path, clip, key):
    name, fake = any_provider
    v = variant(key)
    given = inputs_for(v, v.offer(name), clip)
    _, done = asyncio.run(generate(lambda: prepare(v, given, name), tmp_path / "out"))
    [submit] = fake.submits()
    got = sent_fields(name, submit["json"], v.offer(name))
    if name == "fal":  # a file over fal's inline threshold, or over its body limit, went through its storage
        got = {k: f"data:;base64,{base64.b64encode(fake.uploaded(u)).decode()}"
               if isinstance(u, str) and u.startswith(f"https://{fake.host}/") else u for k, u in got.items()}
    for field, value in given.items():
        if field in SCALARS:
            assert got[field] == value, (name, field)
        elif isinstance(value, torch.Tensor) and field in ("start_frame", "end_frame", "image"):
            expected = (value[0].numpy() * 255 + 0.5).astype(np.uint8)
            assert np.array_equal(image_of(got[field]), expected), (name, field)
        elif field in ("reference_images", "images"):
            assert len(got[field]) == 2, (name, field)
        elif field == "audio":  # a data URI (fal) or raw Base64 (Kling) of the WAV given
            with wave.open(io.BytesIO(base64.b64decode(got[field].split(",", 1)[-1]))) as w:
                assert w.getnframes() == 48000 and w.getframerate() == 16000, (name, field)
        elif field == "elements":
            [element] = got[field]
            assert set(element) == {"frontal_image_url", "reference_image_urls"}, (name, element.keys())
        elif field in ("video", "reference_video") and not isinstance(value, str):  # a link, passed on
            assert got[field] == value.url, (name, field)
        elif field in ("video", "reference_video"):
            assert video_of(got[field]) == pathlib.Path(clip).read_bytes(), (name, field)
        else:
            raise AssertionError(f"no check for {field}")
    assert done.path.read_bytes() == fake.video_bytes
    decoded = decode_video(done.path)
    assert decoded.frames.shape[0] == 24 and decoded.audio["waveform"].shape[1] == 2
    record = Journal().all()[0]
    assert record["provider"] == name and record["state"] == "downloaded"


@pytest.mark.parametrize("key,provider,field,value,rule", [
    ("o1-pro-i2v", "aimlapi", "duration", "7",
     "'7' is not offered by AI/ML API (it takes 5, 10); fal.ai, Kling can take it"),  # Kling: with an end frame
    ("o1-pro-r2v", "aimlapi", "elements", "5 elements", "has 5 items; AI/ML API takes at most 4 (fal.ai can take 5)"),
    ("o1-pro-v2v-ref", "aimlapi", "aspect_ratio", "auto", None),  # the default: left to the provider
])
def test_a_value_the_provider_cannot_take_is_refused(any_provider, tmp_path, clip, key, provider, field, value, rule):
    name, fake = any_provider
    if name != provider:
        pytest.skip("one provider's limit")
    v = variant(key)
    given = inputs_for(v, v.offer(name), clip)
    if field == "elements":
        given["elements"] = given["elements"] * 5
        given["reference_images"] = None
    else:
        given[field] = value
    if rule is None:
        asyncio.run(generate(lambda: prepare(v, given, name), tmp_path / "out"))
        assert field not in fake.submits()[0]["json"]
        return
    with pytest.raises(InputError) as err:
        asyncio.run(generate(lambda: prepare(v, given, name), tmp_path / "out"))
    assert err.value.field == field and rule in str(err.value), str(err.value)
    assert fake.log == []


@pytest.mark.parametrize("key,field,value,able", [
    ("i2v", "voice_ids", "v1", {"fal", "kling", "vercel"}),
    ("t2v", "cfg_scale", 0.8, {"fal", "aimlapi"}),
])
def test_a_field_the_provider_cannot_take_is_refused(any_provider, tmp_path, clip, key, field, value, able):
    name, fake = any_provider
    v = variant(key)
    given = {**inputs_for(v, v.offer(name), clip), field: value}
    if field == "voice_ids":
        given.update(prompt="<<<voice_1>>> speaks", generate_audio=True)
    if name in able:
        asyncio.run(generate(lambda: prepare(v, given, name), tmp_path / "out"))
        return
    with pytest.raises(InputError) as err:
        asyncio.run(generate(lambda: prepare(v, given, name), tmp_path / "out"))
    assert err.value.field == field and "cannot take it" in str(err.value)
    assert fake.log == []


def faults(name, fake):
    no_stream = [("stream", dict(reset=True))] if name == "fal" else []  # fal: fall back to polling
    reset_status = ("stream", dict(reset=True)) if name == "fal" else ("status", dict(reset=True, times=2))
    burst = ("status", dict(status=503, body={"message": "Service unavailable"}, times=3))
    create = "start" if name == "vercel" else "submit"
    return {"5xx burst on status": no_stream + [burst],
            "connection reset during status": [reset_status],
            "connection reset mid-download": [("file", dict(truncate_at=2000))],
            "create 429 with Retry-After": [(create, dict(status=429, body={"message": "Too Many Requests"},
                                                          headers={"Retry-After": "1"}))],
            "malformed JSON in status": no_stream + [("status", dict(status=200, body="<html>oops</html>", times=2))],
            "truncated MP4 (fetched again)": [("file", dict(status=200, body=fake.video_bytes[:3000],
                                                            content_type="video/mp4"))]}


@pytest.mark.parametrize("fault", ["5xx burst on status", "connection reset during status",
                                   "connection reset mid-download", "create 429 with Retry-After",
                                   "malformed JSON in status", "truncated MP4 (fetched again)"])
def test_faults_on_every_provider(any_provider, tmp_path, fault, caplog):
    name, fake = any_provider
    for op, kwargs in faults(name, fake)[fault]:
        fake.inject(op, **kwargs)
    _, done = asyncio.run(generate(lambda: prepare(variant("t2v"), {"prompt": "fault"}, name), tmp_path / "out"))
    assert done.path.read_bytes() == fake.video_bytes
    assert len(fake.jobs) == 1  # one paid job, whatever was retried
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
        with pytest.raises(KlingError, match="raise `take`"):
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


@pytest.mark.parametrize("key,provider", [("v3-pro-i2v", "vercel"), ("v3-std-t2v", "vercel"),
                                          ("v3-turbo-pro-t2v", "aimlapi"), ("v3-pro-t2v", "kling")])
def test_multi_shot_on_other_providers(any_provider, tmp_path, key, provider):
    """Shots in each provider's own shape: Vercel's multiPrompt [{index, prompt, duration: str}] under
    multiShot, AI/ML API turbo's [{prompt, duration: int}], Kling's multi_prompt; the fakes check the sum."""
    name, fake = any_provider
    if name != provider:
        pytest.skip("one provider's shape")
    v = variant(key)
    shots = [{"prompt": "a door opens", "duration": "3"}, {"prompt": "she walks in", "duration": "5"}]
    given = {"prompt": "", "duration": "8", "shots": shots}
    if v.has("start_frame"):
        given["start_frame"] = picture(3)
    asyncio.run(generate(lambda: prepare(v, given, name), tmp_path / "out"))
    body = fake.submits()[0]["json"]
    if name == "vercel":
        options = body["providerOptions"]["klingai"]
        assert options["multiShot"] is True and options["shotType"] == "customize"
        assert options["multiPrompt"] == [{"index": 1, "prompt": "a door opens", "duration": "3"},
                                          {"index": 2, "prompt": "she walks in", "duration": "5"}]
    elif name == "aimlapi":
        assert body["multi_prompt"] == [{"prompt": "a door opens", "duration": 3},
                                        {"prompt": "she walks in", "duration": 5}]
    else:
        assert [s["prompt"] for s in body["multi_prompt"]] == ["a door opens", "she walks in"]
    assert "prompt" not in body or not body["prompt"]


@pytest.mark.parametrize("any_provider", ["kling"], indirect=True)
def test_kling_tokens_never_leak(any_provider, tmp_path, caplog):
    """The JWTs made from the Kling secret are secrets too: one echoed back in an error body must not reach
    the error, the log or any file."""
    name, fake = any_provider
    asyncio.run(generate(lambda: prepare(variant("t2v"), {"prompt": "first"}, name), tmp_path / "a"))
    tokens = {e["headers"]["authorization"].split(" ", 1)[1] for e in fake.log
              if "authorization" in e.get("headers", {})}
    assert tokens and all(t.count(".") == 2 for t in tokens)
    token = sorted(tokens)[0]
    fake.inject("submit", status=400, body={"code": 1201, "message": f"bad request with token {token}",
                                            "request_id": "r1"})
    with pytest.raises(KlingError) as err:
        asyncio.run(generate(lambda: prepare(variant("t2v"), {"prompt": "second"}, name), tmp_path / "b"))
    assert "1201" in str(err.value)
    for secret in (token, token.rsplit(".", 1)[1], SECRET, "access-" + SECRET):
        assert secret not in str(err.value) and secret not in caplog.text
        for path in pathlib.Path(os.environ["KLING_VIDEO_HOME"]).rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path
