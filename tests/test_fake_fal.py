"""The fake fal.ai server behaves as fal documents its queue protocol.

Talks to it with http.client / aiohttp directly -- never with the product's code.
"""
from __future__ import annotations

import asyncio
import base64
import http.client
import io
import json
import re
import socket
import ssl
import threading
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

import av
import numpy as np
import pytest
from PIL import Image

from fakes import client
from fakes.client import Resp
from fakes.fal import SCHEMAS, FakeFal
from media import make_mp4

KEY = "test-key-abc"
I2V = "fal-ai/kling-video/v2.6/pro/image-to-video"
T2V = "fal-ai/kling-video/v2.6/pro/text-to-video"
VIDEO = bytes(range(256)) * 40  # 10240 bytes
HTTPS_IMG = "https://example.com/start.png"
HTTPS_VID = "https://example.com/clip.mp4"
HTTPS_AUD = "https://example.com/voice.wav"
KV = "fal-ai/kling-video/"
V3I, V3T = KV + "v3/pro/image-to-video", KV + "v3/standard/text-to-video"
TURBO_I = KV + "v3/turbo/standard/image-to-video"
O1I, O1R, O1E = KV + "o1/image-to-video", KV + "o1/reference-to-video", KV + "o1/video-to-video/edit"
O3I, O3R, O3E = KV + "o3/pro/image-to-video", KV + "o3/pro/reference-to-video", KV + "o3/standard/video-to-video/edit"
O1VR = KV + "o1/standard/video-to-video/reference"
MC26, MC3 = KV + "v2.6/pro/motion-control", KV + "v3/pro/motion-control"
FX, EL = KV + "v1.6/pro/effects", KV + "v1.6/standard/elements"
LA, LT = KV + "lipsync/audio-to-video", KV + "lipsync/text-to-video"
V1T, V1I, V15I = KV + "v1/standard/text-to-video", KV + "v1/standard/image-to-video", KV + "v1.5/pro/image-to-video"
V25I = KV + "v2.5-turbo/pro/image-to-video"
CV, TTS, V2A = KV + "create-voice", KV + "v1/tts", KV + "video-to-audio"
AVATAR = KV + "ai-avatar/v2/pro"


# ------------------------------------------------------------------------------------------ helpers
pytestmark = pytest.mark.usefixtures("no_server_errors")


def call(fal, method, path, body=None, *, key=KEY, headers=None, **kw) -> Resp:
    """One request on a fresh connection, with fal's ``Authorization: Key`` unless ``key`` is None."""
    auth = {} if key is None else {"Authorization": f"Key {key}"}
    return client.call(fal, method, path, body, headers={**auth, **(headers or {})}, **kw)


def submit(fal, body=None, endpoint=I2V, **kw) -> Resp:
    return call(fal, "POST", "/" + endpoint, {"prompt": "a cat", "start_image_url": HTTPS_IMG} if body is None
                else body, **kw)


def status(fal, rid, logs="1", **kw) -> Resp:
    q = "" if logs is None else f"?logs={logs}"
    return call(fal, "GET", f"/fal-ai/kling-video/requests/{rid}/status{q}", **kw)


def read_sse(fal, rid, logs="1", timeout=10.0):
    """[(t, kind, payload)] with kind "data" or "comment", plus how the stream ended."""
    c = client.connect(fal, timeout)
    c.request("GET", f"/fal-ai/kling-video/requests/{rid}/status/stream?logs={logs}",
              headers={"Authorization": f"Key {KEY}", "Accept": "text/event-stream"})
    r = c.getresponse()
    assert r.status == 200, r.read()
    ctype = r.getheader("Content-Type")
    items, ended = client.read_events(c, r)
    return ctype, items, ended


def data_uri(w, h, fmt="PNG", mime=None, mode="RGB"):
    buf = io.BytesIO()
    Image.new(mode, (w, h), (200, 30, 90) if mode == "RGB" else 7).save(buf, format=fmt)
    mime = mime or "image/" + fmt.lower()
    return f"data:{mime};base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def fal(tmp_path):
    with FakeFal(tmp_path, key=KEY, video_bytes=VIDEO) as f:
        yield f


@pytest.fixture
def quick(tmp_path):
    """Short life cycle, for tests that are not about timing."""
    with FakeFal(tmp_path, key=KEY, video_bytes=VIDEO, queue_seconds=0.05, progress_seconds=0.05) as f:
        yield f


# ------------------------------------------------------------------------------------------ happy path
def test_happy_path_polling(fal):
    body = {"prompt": "a cat", "start_image_url": HTTPS_IMG, "duration": "5", "generate_audio": True}
    t0 = time.monotonic()
    r = submit(fal, body)
    assert r.status == 200
    sub = r.json
    rid = sub["request_id"]
    base = f"https://{fal.host}/fal-ai/kling-video/requests/{rid}"
    assert sub == {"status": "IN_QUEUE", "request_id": rid, "response_url": base, "status_url": base + "/status",
                   "cancel_url": base + "/cancel", "queue_position": 2, "gateway_request_id": rid}

    seen = []
    while True:
        r = status(fal, rid, logs="1")
        s = r.json
        assert r.header("x-fal-request-id") == rid
        assert r.status == (200 if s["status"] == "COMPLETED" else 202)
        assert "logs" in s
        seen.append(s)
        if s["status"] == "COMPLETED":
            break
        assert time.monotonic() - t0 < 5
        time.sleep(0.03)

    phases = [s["status"] for s in seen]
    order = {"IN_QUEUE": 0, "IN_PROGRESS": 1, "COMPLETED": 2}
    assert [order[p] for p in phases] == sorted(order[p] for p in phases)
    assert {"IN_QUEUE", "IN_PROGRESS"} <= set(phases)
    queued = [s for s in seen if s["status"] == "IN_QUEUE"]
    positions = [s["queue_position"] for s in queued]
    assert positions[0] == 2 and positions == sorted(positions, reverse=True) and len(set(positions)) >= 2
    assert all(s["logs"] is None for s in queued)
    counts = [len(s["logs"]) for s in seen if s["status"] != "IN_QUEUE"]
    assert counts == sorted(counts) and counts[0] >= 1 and counts[-1] == 3 and len(set(counts)) >= 2
    final = seen[-1]
    for line in final["logs"]:
        assert set(line) == {"message", "level", "source", "timestamp"} and line["source"] == "USER"
    assert final["metrics"] == {"inference_time": 0.5}
    assert "error" not in final
    assert 0.75 <= time.monotonic() - t0 < 3

    r = call(fal, "GET", sub["response_url"])
    assert r.status == 200 and r.header("x-fal-request-id") == rid
    video = r.json["video"]
    assert video == {"url": f"https://{fal.host}/files/{rid}/output.mp4", "content_type": "video/mp4",
                     "file_name": "output.mp4", "file_size": len(VIDEO)}
    f = call(fal, "GET", video["url"], key=None)
    assert f.status == 200 and f.data == VIDEO
    assert f.header("content-type") == "video/mp4" and f.header("accept-ranges") == "bytes"
    assert int(f.header("content-length")) == len(VIDEO)

    # observability
    assert [e["json"] for e in fal.submits()] == [body]
    assert fal.submits()[0]["headers"]["authorization"] == f"Key {KEY}"
    assert fal.count("status") == len(seen) and fal.count("result") == 1 and fal.count("file") == 1
    (done,) = fal.events("completed")
    assert done["request_id"] == rid and t0 + 0.8 <= done["t"] <= time.monotonic()
    assert fal.jobs[rid].endpoint == I2V and fal.jobs[rid].body == body
    entry = fal.requests("status")[0]
    assert entry["query"] == {"logs": "1"} and entry["method"] == "GET" and entry["http_status"] == 202


def test_completed_event_logged_without_polling(quick):
    rid = submit(quick).json["request_id"]
    time.sleep(0.3)
    assert [e["request_id"] for e in quick.events("completed")] == [rid]
    assert quick.count("status") == 0


def test_logs_query_values(quick):
    rid = submit(quick).json["request_id"]
    quick.wait_completed(rid)
    for value in ("1", "true"):
        assert len(status(quick, rid, logs=value).json["logs"]) == 3
    for value in ("0", "false", None):
        r = status(quick, rid, logs=value)
        assert r.status == 200 and r.json["logs"] is None
    for value in ("yes", "True", "2", ""):
        r = status(quick, rid, logs=value)
        assert r.status == 422, value
        (err,) = r.json["detail"]
        assert err["loc"] == ["query", "logs"] and err["input"] == value
    r = call(quick, "GET", f"/fal-ai/kling-video/requests/{rid}/status/stream?logs=maybe")
    assert r.status == 422


def test_text_to_video_full_body(quick):
    body = {"prompt": "a dog", "duration": "10", "aspect_ratio": "9:16", "negative_prompt": "blur",
            "cfg_scale": 0, "generate_audio": False}
    r = submit(quick, body, endpoint=T2V)
    assert r.status == 200
    assert r.json["status_url"].endswith(f"/fal-ai/kling-video/requests/{r.json['request_id']}/status")
    assert submit(quick, dict(body, cfg_scale=1.0), endpoint=T2V).status == 200


# ------------------------------------------------------------------------------------------ SSE
def test_sse_stream_events_in_order_then_closed(tmp_path):
    with FakeFal(tmp_path, key=KEY, video_bytes=VIDEO, sse_ping_seconds=0.1) as fal:
        rid = submit(fal).json["request_id"]
        ctype, items, ended = read_sse(fal, rid, logs="1")
        assert ctype.startswith("text/event-stream")
        assert ended == "eof"
        events = [p for _, k, p in items if k == "data"]
        pings = [p for _, k, p in items if k == "comment"]
        assert pings and set(pings) == {": ping"}
        phases = [e["status"] for e in events]
        assert phases[0] == "IN_QUEUE" and phases[-1] == "COMPLETED" and phases.count("COMPLETED") == 1
        assert "IN_PROGRESS" in phases
        order = {"IN_QUEUE": 0, "IN_PROGRESS": 1, "COMPLETED": 2}
        assert [order[p] for p in phases] == sorted(order[p] for p in phases)
        positions = [e["queue_position"] for e in events if e["status"] == "IN_QUEUE"]
        assert positions == sorted(positions, reverse=True) and positions[0] == 2 and positions[-1] == 0
        assert all(a != b for a, b in zip(events, events[1:]))  # one event per change
        assert events[-1]["metrics"] == {"inference_time": 0.5} and len(events[-1]["logs"]) == 3
        # same objects as the status route
        assert events[-1] == status(fal, rid, logs="1").json
        # they arrived over time, not in one burst at the end
        times = [t for t, k, _ in items if k == "data"]
        assert times[-1] - times[0] >= 0.6
        assert fal.requests("stream")[0]["http_status"] == 200


def test_sse_without_logs_and_after_completion(quick):
    rid = submit(quick).json["request_id"]
    _, items, _ = read_sse(quick, rid, logs="0")
    events = [p for _, k, p in items if k == "data"]
    assert [e["status"] for e in events].count("IN_PROGRESS") <= 1
    assert all(e["logs"] is None for e in events)
    assert not [p for _, k, p in items if k == "comment"]  # default ping period is 15 s
    # a stream opened after completion gets one COMPLETED event and closes
    _, items, ended = read_sse(quick, rid)
    assert [p["status"] for _, k, p in items] == ["COMPLETED"] and ended == "eof"


# ------------------------------------------------------------------------------------------ files
def test_range_download(quick):
    rid = submit(quick).json["request_id"]
    quick.wait_completed(rid)
    url = call(quick, "GET", f"/fal-ai/kling-video/requests/{rid}").json["video"]["url"]
    r = call(quick, "GET", url, key=None, headers={"Range": "bytes=1000-"})
    assert r.status == 206 and r.data == VIDEO[1000:]
    assert r.header("content-range") == f"bytes 1000-{len(VIDEO) - 1}/{len(VIDEO)}"
    assert int(r.header("content-length")) == len(VIDEO) - 1000
    r = call(quick, "GET", url, key=None, headers={"Range": "bytes=10-19"})
    assert r.status == 206 and r.data == VIDEO[10:20]
    r = call(quick, "GET", url, key=None, headers={"Range": f"bytes={len(VIDEO)}-"})
    assert r.status == 416 and r.header("content-range") == f"bytes */{len(VIDEO)}"
    assert call(quick, "GET", f"/files/{rid}/other.mp4", key=None).status == 404
    assert call(quick, "GET", "/files/nope/output.mp4", key=None).status == 404


# ------------------------------------------------------------------------------------------ validation
def _locs(r):
    return [(tuple(e["loc"]), e["type"]) for e in r.json["detail"]]


BAD_BODIES = [
    ("missing start_image_url", I2V, {"prompt": "p"}, [(("body", "start_image_url"), "missing")]),
    ("image_url sent to v2.6", I2V, {"prompt": "p", "image_url": HTTPS_IMG},
     [(("body", "start_image_url"), "missing"), (("body", "image_url"), "extra_forbidden")]),
    ("duration as a number", I2V, {"prompt": "p", "start_image_url": HTTPS_IMG, "duration": 5},
     [(("body", "duration"), "enum")]),
    ("duration not in enum", I2V, {"prompt": "p", "start_image_url": HTTPS_IMG, "duration": "7"},
     [(("body", "duration"), "enum")]),
    ("image 200x200", I2V, {"prompt": "p", "start_image_url": data_uri(200, 200)},
     [(("body", "start_image_url"), "image_too_small")]),
    ("aspect 3:1", I2V, {"prompt": "p", "start_image_url": data_uri(900, 300)},
     [(("body", "start_image_url"), "invalid_aspect_ratio")]),
    ("aspect 1:3 end image", I2V, {"prompt": "p", "start_image_url": HTTPS_IMG, "end_image_url": data_uri(300, 900)},
     [(("body", "end_image_url"), "invalid_aspect_ratio")]),
    ("bad base64", I2V, {"prompt": "p", "start_image_url": "data:image/png;base64,@@not*base64@@"},
     [(("body", "start_image_url"), "image_load_error")]),
    ("not an image", I2V, {"prompt": "p", "start_image_url": "data:image/png;base64,"
                           + base64.b64encode(b"hello world").decode()},
     [(("body", "start_image_url"), "image_load_error")]),
    ("no ;base64", I2V, {"prompt": "p", "start_image_url": "data:image/png,abc"},
     [(("body", "start_image_url"), "image_load_error")]),
    ("jpeg declared png", I2V, {"prompt": "p", "start_image_url": data_uri(400, 400, "JPEG", mime="image/png")},
     [(("body", "start_image_url"), "image_format_mismatch")]),
    ("image/jpg mime", I2V, {"prompt": "p", "start_image_url": data_uri(400, 400, "JPEG", mime="image/jpg")},
     [(("body", "start_image_url"), "unsupported_image_format")]),
    ("bmp", I2V, {"prompt": "p", "start_image_url": data_uri(400, 400, "BMP")},
     [(("body", "start_image_url"), "unsupported_image_format")]),
    ("over 10 MB", I2V, {"prompt": "p", "start_image_url": "data:image/png;base64,"
                         + base64.b64encode(b"\0" * 10_000_001).decode()},
     [(("body", "start_image_url"), "file_too_large")]),
    ("http scheme", I2V, {"prompt": "p", "start_image_url": "http://example.com/a.png"},
     [(("body", "start_image_url"), "url_scheme")]),
    ("null end image", I2V, {"prompt": "p", "start_image_url": HTTPS_IMG, "end_image_url": None},
     [(("body", "end_image_url"), "string_type")]),
    ("prompt not a string", I2V, {"prompt": 12, "start_image_url": HTTPS_IMG}, [(("body", "prompt"), "string_type")]),
    ("generate_audio as a string", I2V, {"prompt": "p", "start_image_url": HTTPS_IMG, "generate_audio": "true"},
     [(("body", "generate_audio"), "bool_type")]),
    ("three voices", I2V, {"prompt": "p", "start_image_url": HTTPS_IMG, "voice_ids": ["a", "b", "c"]},
     [(("body", "voice_ids"), "too_long")]),
    ("voice id not a string", I2V, {"prompt": "p", "start_image_url": HTTPS_IMG, "voice_ids": ["a", 2]},
     [(("body", "voice_ids", 1), "string_type")]),
    ("cfg_scale on i2v", I2V, {"prompt": "p", "start_image_url": HTTPS_IMG, "cfg_scale": 0.5},
     [(("body", "cfg_scale"), "extra_forbidden")]),
    ("voice_ids on 3.0 4K", KV + "v3/4k/text-to-video", {"prompt": "p", "voice_ids": ["v"]},
     [(("body", "voice_ids"), "extra_forbidden")]),
    ("aspect_ratio on 3.0 4K i2v", KV + "v3/4k/image-to-video",
     {"prompt": "p", "start_image_url": HTTPS_IMG, "aspect_ratio": "1:1"},
     [(("body", "aspect_ratio"), "extra_forbidden")]),
    ("cfg_scale 1.5", T2V, {"prompt": "p", "cfg_scale": 1.5}, [(("body", "cfg_scale"), "less_than_equal")]),
    ("cfg_scale -0.1", T2V, {"prompt": "p", "cfg_scale": -0.1}, [(("body", "cfg_scale"), "greater_than_equal")]),
    ("cfg_scale as a string", T2V, {"prompt": "p", "cfg_scale": "0.5"}, [(("body", "cfg_scale"), "float_type")]),
    ("cfg_scale as a bool", T2V, {"prompt": "p", "cfg_scale": True}, [(("body", "cfg_scale"), "float_type")]),
    ("aspect 4:3", T2V, {"prompt": "p", "aspect_ratio": "4:3"}, [(("body", "aspect_ratio"), "enum")]),
    ("t2v without prompt", T2V, {}, [(("body", "prompt"), "missing")]),
    ("image on t2v", T2V, {"prompt": "p", "start_image_url": HTTPS_IMG},
     [(("body", "start_image_url"), "extra_forbidden")]),
    ("body is a list", T2V, ["p"], [(("body",), "model_attributes_type")]),
    # ---- every Kling endpoint (reference §2.2, Appendix A/B, seed 003): nested locs, rule kinds
    ("v3 prompt and multi_prompt", V3T, {"prompt": "p", "multi_prompt": [{"prompt": "a"}]},
     [(("body",), "value_error")]),
    ("v3 neither prompt nor multi_prompt", V3T, {}, [(("body",), "value_error")]),
    ("O3 neither prompt nor multi_prompt", O3I, {"image_url": HTTPS_IMG}, [(("body",), "value_error")]),
    ("v3 i2v multi_prompt without shot_type", V3I,
     {"start_image_url": HTTPS_IMG, "multi_prompt": [{"prompt": "a", "duration": "5"}]},
     [(("body", "shot_type"), "missing")]),
    ("shots not summing to duration", V3I,
     {"start_image_url": HTTPS_IMG, "shot_type": "customize", "duration": "5",
      "multi_prompt": [{"prompt": "a", "duration": "3"}, {"prompt": "b", "duration": "3"}]},
     [(("body", "multi_prompt"), "value_error")]),
    ("default shot durations vs default duration", V3T, {"multi_prompt": [{"prompt": "a"}, {"prompt": "b"}]},
     [(("body", "multi_prompt"), "value_error")]),
    ("shot duration 16", V3T, {"multi_prompt": [{"prompt": "a", "duration": "5"}, {"prompt": "b", "duration": "16"}]},
     [(("body", "multi_prompt", 1, "duration"), "enum")]),
    ("shot without prompt", V3T, {"multi_prompt": [{"duration": "5"}]},
     [(("body", "multi_prompt", 0, "prompt"), "missing")]),
    ("shot with an extra key", V3T, {"multi_prompt": [{"prompt": "a", "negative_prompt": "x"}]},
     [(("body", "multi_prompt", 0, "negative_prompt"), "extra_forbidden")]),
    ("shot not an object", V3T, {"multi_prompt": ["a"]}, [(("body", "multi_prompt", 0), "model_type")]),
    ("seven shots", V3T, {"duration": "14", "multi_prompt": [{"prompt": "a", "duration": "2"}] * 7},
     [(("body", "multi_prompt"), "too_long")]),
    ("empty multi_prompt", V3T, {"multi_prompt": []}, [(("body", "multi_prompt"), "too_short")]),
    ("v3 i2v shot_type intelligent", V3I, {"prompt": "p", "start_image_url": HTTPS_IMG, "shot_type": "intelligent"},
     [(("body", "shot_type"), "enum")]),
    ("shot_type spelled like Kling's API", V3T, {"prompt": "p", "shot_type": "intelligence"},
     [(("body", "shot_type"), "enum")]),
    ("v3 duration 2", V3T, {"prompt": "p", "duration": "2"}, [(("body", "duration"), "enum")]),
    ("v3 three voices", V3T, {"prompt": "p", "voice_ids": ["a", "b", "c"]}, [(("body", "voice_ids"), "too_long")]),
    ("two video elements", V3I, {"prompt": "p", "start_image_url": HTTPS_IMG,
                                 "elements": [{"video_url": HTTPS_VID}, {"video_url": HTTPS_VID}]},
     [(("body", "elements", 1, "video_url"), "value_error")]),
    ("element with nothing", V3I, {"prompt": "p", "start_image_url": HTTPS_IMG, "elements": [{}]},
     [(("body", "elements", 0), "value_error")]),
    ("element with images and a video", V3I,
     {"prompt": "p", "start_image_url": HTTPS_IMG,
      "elements": [{"frontal_image_url": HTTPS_IMG, "video_url": HTTPS_VID}]},
     [(("body", "elements", 0), "value_error")]),
    ("voice on an image element", V3I,
     {"prompt": "p", "start_image_url": HTTPS_IMG, "elements": [{"frontal_image_url": HTTPS_IMG, "voice_id": "v"}]},
     [(("body", "elements", 0, "voice_id"), "value_error")]),
    ("element video over http", V3I, {"prompt": "p", "start_image_url": HTTPS_IMG,
                                      "elements": [{"video_url": "http://example.com/a.mp4"}]},
     [(("body", "elements", 0, "video_url"), "url_scheme")]),
    ("four reference images", O1R, {"prompt": "p", "elements": [{"frontal_image_url": HTTPS_IMG,
                                                                 "reference_image_urls": [HTTPS_IMG] * 4}]},
     [(("body", "elements", 0, "reference_image_urls"), "too_long")]),
    ("no reference images", O1R, {"prompt": "p", "elements": [{"frontal_image_url": HTTPS_IMG,
                                                               "reference_image_urls": []}]},
     [(("body", "elements", 0, "reference_image_urls"), "too_short")]),
    ("O1 element without its frontal image", O1R, {"prompt": "p", "elements": [{"reference_image_urls": [HTTPS_IMG]}]},
     [(("body", "elements", 0, "frontal_image_url"), "missing")]),
    ("O1 reference image too small", O1R, {"prompt": "p", "image_urls": [HTTPS_IMG, data_uri(200, 300)]},
     [(("body", "image_urls", 1), "image_too_small")]),
    ("O1 eight images in total", O1R, {"prompt": "p", "elements": [{"frontal_image_url": HTTPS_IMG}] * 3,
                                       "image_urls": [HTTPS_IMG] * 5},
     [(("body",), "value_error")]),
    ("O1 edit five images in total", O1E, {"prompt": "p", "video_url": HTTPS_VID, "image_urls": [HTTPS_IMG] * 5},
     [(("body",), "value_error")]),
    ("O3 r2v five images with a video element", O3R,
     {"prompt": "p", "elements": [{"video_url": HTTPS_VID}], "image_urls": [HTTPS_IMG] * 4},
     [(("body",), "value_error")]),
    ("O1 duration 11", O1I, {"prompt": "p", "start_image_url": HTTPS_IMG, "duration": "11"},
     [(("body", "duration"), "enum")]),
    ("v2v reference aspect 4:3", O1VR, {"prompt": "p", "video_url": HTTPS_VID, "aspect_ratio": "4:3"},
     [(("body", "aspect_ratio"), "enum")]),
    ("O3 i2v given start_image_url", O3I, {"prompt": "p", "start_image_url": HTTPS_IMG},
     [(("body", "image_url"), "missing"), (("body", "start_image_url"), "extra_forbidden")]),
    ("v2.5 turbo given start_image_url", V25I, {"prompt": "p", "start_image_url": HTTPS_IMG},
     [(("body", "image_url"), "missing"), (("body", "start_image_url"), "extra_forbidden")]),
    ("v3 turbo image as gif", TURBO_I, {"prompt": "p", "image_url": data_uri(400, 400, "GIF", mode="P")},
     [(("body", "image_url"), "unsupported_image_format")]),
    ("v3 motion elements with orientation image", MC3,
     {"image_url": HTTPS_IMG, "video_url": HTTPS_VID, "character_orientation": "image",
      "elements": [{"frontal_image_url": HTTPS_IMG}]},
     [(("body", "elements"), "value_error")]),
    ("v3 motion two elements", MC3, {"image_url": HTTPS_IMG, "video_url": HTTPS_VID, "character_orientation": "video",
                                     "elements": [{"frontal_image_url": HTTPS_IMG}] * 2},
     [(("body", "elements"), "too_long")]),
    ("motion control without orientation", MC26, {"image_url": HTTPS_IMG, "video_url": HTTPS_VID},
     [(("body", "character_orientation"), "missing")]),
    ("hug with one image", FX, {"effect_scene": "hug", "input_image_urls": [HTTPS_IMG]},
     [(("body", "input_image_urls"), "value_error")]),
    ("kiss without images", FX, {"effect_scene": "kiss"}, [(("body", "input_image_urls"), "missing")]),
    ("unknown effect", FX, {"effect_scene": "hugs"}, [(("body", "effect_scene"), "enum")]),
    ("elements: five images", EL, {"prompt": "p", "input_image_urls": [HTTPS_IMG] * 5},
     [(("body", "input_image_urls"), "too_long")]),
    ("elements: no images", EL, {"prompt": "p"}, [(("body", "input_image_urls"), "missing")]),
    ("lipsync text of 121 characters", LT, {"video_url": HTTPS_VID, "text": "x" * 121, "voice_id": "AOT"},
     [(("body", "text"), "string_too_long")]),
    ("lipsync unknown voice", LT, {"video_url": HTTPS_VID, "text": "hi", "voice_id": "nobody"},
     [(("body", "voice_id"), "enum")]),
    ("lipsync voice_language fr", LT, {"video_url": HTTPS_VID, "text": "hi", "voice_id": "AOT", "voice_language": "fr"},
     [(("body", "voice_language"), "enum")]),
    ("camera movement type", V1T, {"prompt": "p", "advanced_camera_control": {"movement_type": "dolly",
                                                                             "movement_value": 1}},
     [(("body", "advanced_camera_control", "movement_type"), "enum")]),
    ("camera movement value 1.5", V1T, {"prompt": "p", "advanced_camera_control": {"movement_type": "pan",
                                                                                  "movement_value": 1.5}},
     [(("body", "advanced_camera_control", "movement_value"), "int_type")]),
    ("camera control as a string", V1T, {"prompt": "p", "advanced_camera_control": "zoom"},
     [(("body", "advanced_camera_control"), "model_type")]),
    ("trajectory x 1.5", V15I, {"prompt": "p", "image_url": HTTPS_IMG, "dynamic_masks": [
        {"mask_url": HTTPS_IMG, "trajectories": [{"x": 1, "y": 2}, {"x": 1.5, "y": 2}]}]},
     [(("body", "dynamic_masks", 0, "trajectories", 1, "x"), "int_type")]),
    ("dynamic mask without mask_url", V1I, {"prompt": "p", "image_url": HTTPS_IMG, "dynamic_masks": [{}]},
     [(("body", "dynamic_masks", 0, "mask_url"), "missing")]),
    ("mask as jpeg", V1I, {"prompt": "p", "image_url": HTTPS_IMG, "static_mask_url": data_uri(400, 400, "JPEG")},
     [(("body", "static_mask_url"), "unsupported_image_format")]),
    ("video-to-audio prompt of 201 characters", V2A, {"video_url": HTTPS_VID, "sound_effect_prompt": "x" * 201},
     [(("body", "sound_effect_prompt"), "string_too_long")]),
    ("tts without text", TTS, {}, [(("body", "text"), "missing")]),
    ("create-voice over http", CV, {"voice_url": "http://example.com/v.wav"}, [(("body", "voice_url"), "url_scheme")]),
    ("avatar without audio", AVATAR, {"image_url": HTTPS_IMG}, [(("body", "audio_url"), "missing")]),
]


@pytest.mark.parametrize("endpoint,body,expected", [c[1:] for c in BAD_BODIES], ids=[c[0] for c in BAD_BODIES])
def test_validation_errors(quick, endpoint, body, expected):
    quick.body_max_bytes = None  # the fields' own limits, not the body's (tests/test_request_limits.py)
    r = call(quick, "POST", "/" + endpoint, body)
    assert r.status == 422, r.data[:300]
    assert _locs(r) == expected
    for e in r.json["detail"]:
        assert e["url"] == "https://docs.fal.ai/errors#" + e["type"] and e["msg"]
        assert "input" in e and len(json.dumps(e["input"])) < 400  # data URIs are shortened
    assert quick.jobs == {} and quick.count("submit") == 1


def test_validation_messages_are_pydantic_style(quick):
    r = submit(quick, {"prompt": "p", "start_image_url": HTTPS_IMG, "duration": 5})
    (e,) = r.json["detail"]
    assert e["msg"] == "Input should be '5' or '10'" and e["input"] == 5 and e["ctx"] == {"expected": "'5' or '10'"}
    r = submit(quick, {"prompt": "p"})
    (e,) = r.json["detail"]
    assert e["msg"] == "Field required" and e["input"] == {"prompt": "p"}


def test_malformed_requests(quick):
    r = call(quick, "POST", "/" + I2V, raw=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status == 422 and r.json["detail"][0]["type"] == "json_invalid"
    r = call(quick, "POST", "/" + I2V, raw=b'{"prompt":"p"}', headers={"Content-Type": "text/plain"})
    assert r.status == 422
    r = call(quick, "POST", "/" + I2V)
    assert r.status == 422 and r.json["detail"][0]["type"] == "missing"


@pytest.mark.parametrize("w,h,fmt", [(300, 300, "PNG"), (750, 300, "JPEG"), (300, 750, "WEBP"), (400, 400, "GIF")])
def test_valid_data_uris_accepted(quick, w, h, fmt):
    body = {"prompt": "p", "start_image_url": data_uri(w, h, fmt, mode="RGB" if fmt != "GIF" else "P"),
            "end_image_url": HTTPS_IMG, "duration": "10", "negative_prompt": "blur", "generate_audio": False,
            "voice_ids": ["v1", "v2"]}
    r = submit(quick, body)
    assert r.status == 200, r.data[:300]
    assert quick.jobs[r.json["request_id"]].body == body


# ------------------------------------------------------------------------------------------ auth and routing
def test_auth(quick):
    r = submit(quick, key=None)
    assert r.status == 401 and isinstance(r.json["detail"], str)
    assert submit(quick, key="wrong").status == 401
    assert submit(quick, key=None, headers={"Authorization": f"Bearer {KEY}"}).status == 401
    assert quick.jobs == {}
    rid = submit(quick).json["request_id"]
    for method, path in [("GET", f"/fal-ai/kling-video/requests/{rid}/status"),
                         ("GET", f"/fal-ai/kling-video/requests/{rid}/status/stream"),
                         ("GET", f"/fal-ai/kling-video/requests/{rid}"),
                         ("PUT", f"/fal-ai/kling-video/requests/{rid}/cancel")]:
        assert call(quick, method, path, key=None).status == 401
        assert call(quick, method, path, key="nope").status == 401
    quick.forbid = True
    r = submit(quick)
    assert r.status == 403 and r.json["detail"].startswith("User is locked. Reason: Exhausted balance.")
    assert status(quick, rid).status == 403
    quick.forbid = False
    quick.wait_completed(rid)
    url = call(quick, "GET", f"/fal-ai/kling-video/requests/{rid}").json["video"]["url"]
    assert call(quick, "GET", url, key=None).status == 200  # the CDN needs no key


def test_not_found_and_early_result(fal):
    r = submit(fal, endpoint="fal-ai/kling-video/v9/pro/image-to-video")
    assert r.status == 404 and "not found" in r.json["detail"] and "Application" in r.json["detail"]
    rid = submit(fal).json["request_id"]
    r = call(fal, "GET", f"/fal-ai/kling-video/requests/{rid}")
    assert r.status == 400 and r.json == {"detail": "Request is still in progress"}
    ghost = "00000000-0000-4000-8000-000000000000"
    assert status(fal, ghost).status == 404
    assert call(fal, "GET", f"/fal-ai/kling-video/requests/{ghost}").status == 404
    assert call(fal, "GET", f"/fal-ai/kling-video/requests/{ghost}/status/stream").status == 404
    r = call(fal, "PUT", f"/fal-ai/kling-video/requests/{ghost}/cancel")
    assert r.status == 404 and r.json == {"status": "NOT_FOUND"}
    # status/result/cancel live under the first two parts of the endpoint id only
    assert call(fal, "GET", f"/{I2V}/requests/{rid}/status").status in (404, 405)
    assert call(fal, "GET", f"/fal-ai/other-app/requests/{rid}/status").status == 404
    assert call(fal, "POST", f"/fal-ai/kling-video/requests/{rid}/cancel").status in (404, 405)


# ------------------------------------------------------------------------------------------ cancel
def test_cancel_while_queued(fal):
    rid = submit(fal).json["request_id"]
    r = call(fal, "PUT", f"/fal-ai/kling-video/requests/{rid}/cancel")
    assert r.status == 202 and r.json == {"status": "CANCELLATION_REQUESTED"}
    s = status(fal, rid)
    assert s.status == 200
    assert s.json["status"] == "COMPLETED" and s.json["error"] == "Request was cancelled"
    assert s.json["error_type"] == "client_cancelled" and s.json["logs"] == []
    r = call(fal, "GET", f"/fal-ai/kling-video/requests/{rid}")
    assert r.status == 499 and r.json == {"detail": "Request was cancelled", "error_type": "client_cancelled"}
    assert r.header("x-fal-request-id") == rid
    r = call(fal, "PUT", f"/fal-ai/kling-video/requests/{rid}/cancel")
    assert r.status == 400 and r.json == {"status": "ALREADY_COMPLETED"}
    assert call(fal, "GET", f"/files/{rid}/output.mp4", key=None).status == 404
    assert [e["request_id"] for e in fal.events("completed")] == [rid]


def test_cancel_while_running_and_after_completion(quick):
    quick.progress_seconds = 1.0
    rid = submit(quick).json["request_id"]
    while status(quick, rid).json["status"] != "IN_PROGRESS":
        time.sleep(0.01)
    assert call(quick, "PUT", f"/fal-ai/kling-video/requests/{rid}/cancel").status == 202
    s = status(quick, rid).json
    assert s["status"] == "COMPLETED" and s["error_type"] == "client_cancelled" and 1 <= len(s["logs"]) < 3
    assert call(quick, "GET", f"/fal-ai/kling-video/requests/{rid}").status == 499
    quick.progress_seconds = 0.05
    rid2 = submit(quick).json["request_id"]
    quick.wait_completed(rid2)
    r = call(quick, "PUT", f"/fal-ai/kling-video/requests/{rid2}/cancel")
    assert r.status == 400 and r.json == {"status": "ALREADY_COMPLETED"}
    assert call(quick, "GET", f"/fal-ai/kling-video/requests/{rid2}").status == 200


# ------------------------------------------------------------------------------------------ outcomes, hold
def test_failed_job_outcome(quick):
    detail = [{"loc": ["body", "prompt"], "msg": "The content was flagged by a content checker.",
               "type": "content_policy_violation", "url": "https://docs.fal.ai/errors#content_policy_violation"}]
    quick.next_outcome = ("error", {"error": "Invalid status code: 422", "error_type": "content_policy_violation",
                                    "result_status": 422, "result_body": {"detail": detail}})
    rid = submit(quick).json["request_id"]
    quick.wait_completed(rid)
    s = status(quick, rid)
    assert s.status == 200 and s.json["error"] == "Invalid status code: 422"
    assert s.json["error_type"] == "content_policy_violation" and s.json["metrics"] == {}
    r = call(quick, "GET", f"/fal-ai/kling-video/requests/{rid}")
    assert r.status == 422 and r.json == {"detail": detail} and r.header("x-fal-request-id") == rid
    # one-shot: the next job succeeds; a bare error spec replays a 500
    assert quick.next_outcome == "ok"
    quick.next_outcome = ("error", {"error": "Internal error", "error_type": "internal_error"})
    rid2 = submit(quick).json["request_id"]
    rid3 = submit(quick).json["request_id"]
    quick.wait_completed(rid2)
    quick.wait_completed(rid3)
    r = call(quick, "GET", f"/fal-ai/kling-video/requests/{rid2}")
    assert r.status == 500 and r.json == {"detail": "Internal error", "error_type": "internal_error"}
    assert r.header("x-fal-error-type") == "internal_error"
    assert call(quick, "GET", f"/fal-ai/kling-video/requests/{rid3}").status == 200


def test_hold_keeps_jobs_queued_until_released(quick):
    quick.hold = True
    rid = submit(quick).json["request_id"]
    time.sleep(0.3)
    s = status(quick, rid)
    assert s.status == 202 and s.json["status"] == "IN_QUEUE" and s.json["queue_position"] == 2
    assert not quick.events("completed")
    t = time.monotonic()
    quick.release()
    quick.wait_completed(rid)
    assert time.monotonic() - t >= 0.09
    assert status(quick, rid).json["status"] == "COMPLETED"


# ------------------------------------------------------------------------------------------ fault injection
def test_inject_status_codes(quick):
    quick.inject("submit", status=429, body={"detail": "Too many concurrent requests"},
                 headers={"Retry-After": "1"}, times=2)
    for _ in range(2):
        r = submit(quick)
        assert r.status == 429 and r.header("retry-after") == "1" and "x-fal-request-id" not in r.headers
    r = submit(quick)
    assert r.status == 200 and len(quick.jobs) == 1
    rid = r.json["request_id"]
    entries = quick.submits()
    assert [e["http_status"] for e in entries] == [429, 429, 200]
    assert entries[0]["injected"]["status"] == 429 and entries[2]["injected"] is None

    quick.inject("status", status=500, body={"detail": "Internal error", "error_type": "internal_error"},
                 headers={"x-fal-request-id": rid, "X-Fal-Error-Type": "internal_error"})
    r = status(quick, rid)
    assert r.status == 500 and r.json["error_type"] == "internal_error" and r.header("x-fal-request-id") == rid
    assert status(quick, rid).status in (200, 202)

    quick.wait_completed(rid)
    nginx = "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center>" \
            "<h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>"
    quick.inject("result", status=503, body=nginx)
    r = call(quick, "GET", f"/fal-ai/kling-video/requests/{rid}")
    assert r.status == 503 and b"nginx" in r.data and r.header("content-type").startswith("text/html")
    assert "x-fal-request-id" not in r.headers
    assert call(quick, "GET", f"/fal-ai/kling-video/requests/{rid}").status == 200

    quick.inject("cancel", status=502)
    assert call(quick, "PUT", f"/fal-ai/kling-video/requests/{rid}/cancel").status == 502
    quick.inject("file", status=404)
    assert call(quick, "GET", f"/files/{rid}/output.mp4", key=None).status == 404
    assert call(quick, "GET", f"/files/{rid}/output.mp4", key=None).status == 200


def test_inject_reset(quick):
    quick.inject("submit", reset=True)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
        submit(quick)
    assert quick.jobs == {} and quick.submits()[0]["http_status"] is None
    # the answer is lost after the job was created: a retry would start a second job
    quick.inject("submit", reset=True, process=True)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
        submit(quick)
    assert len(quick.jobs) == 1
    rid = next(iter(quick.jobs))
    quick.inject("status", reset=True)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
        status(quick, rid)
    assert status(quick, rid).status in (200, 202)
    quick.inject("stream", reset=True)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
        read_sse(quick, rid)
    # a lost cancel answer: the job is cancelled all the same
    quick.inject("cancel", status=504, process=True)
    assert call(quick, "PUT", f"/fal-ai/kling-video/requests/{rid}/cancel").status == 504
    assert status(quick, rid).json.get("error_type") == "client_cancelled"


def test_inject_truncated_file_and_stream(quick):
    rid = submit(quick).json["request_id"]
    quick.inject("stream", truncate_at=1)
    _, items, ended = read_sse(quick, rid)
    assert [p["status"] for _, k, p in items if k == "data"] == ["IN_QUEUE"]
    quick.wait_completed(rid)
    quick.inject("file", truncate_at=100)
    code, length, partial = client.read_cut_short(quick, f"/files/{rid}/output.mp4")
    assert code == 200 and length == len(VIDEO)
    assert partial == VIDEO[:100]
    # with a Range the product can resume
    r = call(quick, "GET", f"/files/{rid}/output.mp4", key=None, headers={"Range": "bytes=100-"})
    assert r.status == 206 and r.data == VIDEO[100:]


def test_inject_delay(quick):
    rid = submit(quick).json["request_id"]
    quick.inject("status", delay=0.3)
    t = time.monotonic()
    assert status(quick, rid).status in (200, 202)
    assert time.monotonic() - t >= 0.29
    quick.inject("status", delay=0.5)
    with pytest.raises((TimeoutError, socket.timeout)):
        status(quick, rid, timeout=0.1)


def test_inject_rejects_nonsense(quick):
    with pytest.raises(ValueError):
        quick.inject("nonsense", status=500)
    with pytest.raises(ValueError):
        quick.inject("upload", truncate_at=3)
    with pytest.raises(ValueError):
        quick.inject("status")
    with pytest.raises(ValueError):
        quick.inject("status", truncate_at=3)


# ------------------------------------------------------------------------------------------ async, shutdown
def test_usable_from_async_code(tmp_path):
    import aiohttp

    async def main():
        async with FakeFal(tmp_path, key=KEY, video_bytes=VIDEO, queue_seconds=0.05,
                           progress_seconds=0.1) as fal:
            ctx = ssl.create_default_context(cafile=str(fal.ca_path))
            headers = {"Authorization": f"Key {KEY}"}
            async with aiohttp.ClientSession(headers=headers) as s:
                async with s.post(fal.url("/" + T2V), json={"prompt": "p"}, ssl=ctx) as r:
                    assert r.status == 200
                    sub = await r.json()
                statuses = []
                async with s.get(sub["status_url"] + "/stream", params={"logs": "1"}, ssl=ctx) as r:
                    assert r.headers["Content-Type"].startswith("text/event-stream")
                    async for line in r.content:
                        if line.startswith(b"data: "):
                            statuses.append(json.loads(line[6:])["status"])
                assert statuses[0] == "IN_QUEUE" and statuses[-1] == "COMPLETED"
                async with s.get(sub["response_url"], ssl=ctx) as r:
                    url = (await r.json())["video"]["url"]
                async with aiohttp.ClientSession() as cdn:
                    async with cdn.get(url, ssl=ctx, headers={"Range": "bytes=5-"}) as r:
                        assert r.status == 206 and await r.read() == VIDEO[5:]
                    fal.inject("file", truncate_at=10)
                    async with cdn.get(url, ssl=ctx) as r:
                        try:
                            await r.read()
                            raise AssertionError("truncated body read whole")
                        except aiohttp.ClientPayloadError:
                            pass

    asyncio.run(main())


def test_clean_shutdown_with_open_stream(tmp_path):
    before = set(threading.enumerate())
    fal = FakeFal(tmp_path, key=KEY, video_bytes=VIDEO)
    fal.start()
    fal.hold = True
    rid = submit(fal).json["request_id"]
    _, items, _ = client.stop_during(fal, lambda: read_sse(fal, rid), lambda: fal.count("stream"))
    assert [p["status"] for _, k, p in items if k == "data"] == ["IN_QUEUE"]
    assert set(threading.enumerate()) <= before
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", fal.port), timeout=1).close()
    fal.stop()  # idempotent
    assert fal.count("submit") == 1  # the log survives the server


# ------------------------------------------------------------------------------------------ every endpoint
# One valid body per Kling endpoint, written from the reference (§2.2, Appendix A/B, seed 003), not read
# from the fake: the fake must know exactly these endpoints.
SHOTS = [{"prompt": "a cat walks in", "duration": "3"}, {"prompt": "it sits down", "duration": "2"}]
VALID_BODIES = {
    KV + "v1/standard/text-to-video": {"prompt": "p", "duration": "10", "aspect_ratio": "1:1", "negative_prompt": "n",
                                       "cfg_scale": 0.5, "camera_control": "down_back",
                                       "advanced_camera_control": {"movement_type": "zoom", "movement_value": -5}},
    KV + "v1/pro/text-to-video": {"prompt": "p", "camera_control": "forward_up"},
    KV + "v1.5/pro/text-to-video": {"prompt": "p", "aspect_ratio": "9:16"},
    KV + "v1.6/standard/text-to-video": {"prompt": "p", "duration": "5"},
    KV + "v1.6/pro/text-to-video": {"prompt": "p", "cfg_scale": 1},
    KV + "v2/master/text-to-video": {"prompt": "p", "negative_prompt": "n"},
    KV + "v2.1/master/text-to-video": {"prompt": "p", "duration": "10"},
    KV + "v2.5-turbo/pro/text-to-video": {"prompt": "p", "aspect_ratio": "16:9"},
    KV + "v2.6/pro/text-to-video": {"prompt": "p", "generate_audio": False},
    KV + "v3/standard/text-to-video": {"multi_prompt": SHOTS, "shot_type": "intelligent", "voice_ids": ["v1"],
                                       "generate_audio": True, "aspect_ratio": "9:16", "cfg_scale": 0.2},
    KV + "v3/pro/text-to-video": {"prompt": "p", "duration": "15", "negative_prompt": "n"},
    KV + "v3/turbo/pro/text-to-video": {"prompt": "p", "aspect_ratio": "1:1", "duration": "8"},
    KV + "o3/standard/text-to-video": {"prompt": "p", "duration": "3", "generate_audio": False},
    KV + "o3/pro/text-to-video": {"multi_prompt": [{"prompt": "a", "duration": "1"}, {"prompt": "b", "duration": "2"}],
                                  "duration": "3"},
    KV + "o3/4k/text-to-video": {"prompt": "p"},
    KV + "v3/4k/text-to-video": {"multi_prompt": SHOTS, "shot_type": "intelligent", "aspect_ratio": "9:16",
                                 "generate_audio": False, "negative_prompt": "n", "cfg_scale": 0.3},
    KV + "v1/standard/image-to-video": {"prompt": "p", "image_url": HTTPS_IMG, "tail_image_url": HTTPS_IMG,
                                        "static_mask_url": HTTPS_IMG,
                                        "dynamic_masks": [{"mask_url": HTTPS_IMG, "trajectories": [{"x": 1, "y": 2}]}]},
    KV + "v1/pro/image-to-video": {"prompt": "p", "image_url": HTTPS_IMG},
    KV + "v1.5/pro/image-to-video": {"prompt": "p", "image_url": HTTPS_IMG, "aspect_ratio": "1:1",
                                     "dynamic_masks": [{"mask_url": HTTPS_IMG}]},
    KV + "v1.6/standard/image-to-video": {"prompt": "p", "image_url": HTTPS_IMG, "cfg_scale": 0.7},
    KV + "v1.6/pro/image-to-video": {"prompt": "p", "image_url": HTTPS_IMG, "tail_image_url": HTTPS_IMG,
                                     "aspect_ratio": "9:16"},
    KV + "v2/master/image-to-video": {"prompt": "p", "image_url": HTTPS_IMG},
    KV + "v2.1/standard/image-to-video": {"prompt": "p", "image_url": HTTPS_IMG, "duration": "10"},
    KV + "v2.1/pro/image-to-video": {"prompt": "p", "image_url": HTTPS_IMG, "tail_image_url": HTTPS_IMG},
    KV + "v2.1/master/image-to-video": {"prompt": "p", "image_url": HTTPS_IMG},
    KV + "v2.5-turbo/standard/image-to-video": {"prompt": "p", "image_url": HTTPS_IMG},
    KV + "v2.5-turbo/pro/image-to-video": {"prompt": "p", "image_url": HTTPS_IMG, "tail_image_url": HTTPS_IMG},
    KV + "v2.6/pro/image-to-video": {"prompt": "p", "start_image_url": HTTPS_IMG, "voice_ids": ["a", "b"]},
    KV + "v3/standard/image-to-video": {"prompt": "p", "start_image_url": HTTPS_IMG, "aspect_ratio": "1:1",
                                        "voice_ids": ["v"], "duration": "7"},
    KV + "v3/pro/image-to-video": {"multi_prompt": SHOTS, "shot_type": "customize", "start_image_url": HTTPS_IMG,
                                   "end_image_url": HTTPS_IMG,
                                   "elements": [{"frontal_image_url": HTTPS_IMG, "reference_image_urls": [HTTPS_IMG]},
                                                {"video_url": HTTPS_VID, "voice_id": "voice_x"}]},
    KV + "v3/turbo/standard/image-to-video": {"prompt": "p", "image_url": HTTPS_IMG, "duration": "3"},
    KV + "v3/turbo/pro/image-to-video": {"multi_prompt": SHOTS, "image_url": HTTPS_IMG, "end_image_url": HTTPS_IMG},
    KV + "o1/image-to-video": {"prompt": "@Image1 to @Image2", "start_image_url": HTTPS_IMG,
                               "end_image_url": HTTPS_IMG, "duration": "10"},
    KV + "o1/standard/image-to-video": {"prompt": "p", "start_image_url": HTTPS_IMG, "duration": "3"},
    KV + "o3/standard/image-to-video": {"prompt": "p", "image_url": HTTPS_IMG, "end_image_url": HTTPS_IMG},
    KV + "o3/pro/image-to-video": {"prompt": "p", "image_url": HTTPS_IMG, "duration": "12"},
    KV + "o3/4k/image-to-video": {"prompt": "p", "image_url": HTTPS_IMG},
    KV + "v3/4k/image-to-video": {"prompt": "@Element1 waves", "start_image_url": HTTPS_IMG,
                                  "end_image_url": HTTPS_IMG, "duration": "15", "shot_type": "customize",
                                  "elements": [{"video_url": HTTPS_VID, "voice_id": "voice_x"}]},
    KV + "o1/reference-to-video": {"prompt": "@Element1", "elements": [{"frontal_image_url": HTTPS_IMG,
                                                                      "reference_image_urls": [HTTPS_IMG] * 3}] * 2,
                                   "image_urls": [HTTPS_IMG] * 5, "aspect_ratio": "9:16"},
    KV + "o1/standard/reference-to-video": {"prompt": "p", "image_urls": [HTTPS_IMG]},
    KV + "o3/standard/reference-to-video": {"prompt": "p", "start_image_url": HTTPS_IMG,
                                            "elements": [{"video_url": HTTPS_VID}], "image_urls": [HTTPS_IMG] * 3},
    KV + "o3/pro/reference-to-video": {"multi_prompt": SHOTS, "image_urls": [HTTPS_IMG] * 6},
    KV + "o1/video-to-video/edit": {"prompt": "p", "video_url": HTTPS_VID, "keep_audio": True,
                                    "elements": [{"frontal_image_url": HTTPS_IMG}], "image_urls": [HTTPS_IMG] * 3},
    KV + "o1/standard/video-to-video/edit": {"prompt": "p", "video_url": HTTPS_VID},
    KV + "o1/video-to-video/reference": {"prompt": "p", "video_url": HTTPS_VID, "aspect_ratio": "auto",
                                         "duration": "4"},
    KV + "o1/standard/video-to-video/reference": {"prompt": "p", "video_url": HTTPS_VID},
    KV + "o3/standard/video-to-video/edit": {"prompt": "@Video1", "video_url": HTTPS_VID, "elements": [{}],
                                             "shot_type": "customize"},
    KV + "o3/pro/video-to-video/edit": {"prompt": "p", "video_url": HTTPS_VID, "keep_audio": False},
    KV + "o3/standard/video-to-video/reference": {"prompt": "p", "video_url": HTTPS_VID, "duration": "15"},
    KV + "o3/pro/video-to-video/reference": {"prompt": "p", "video_url": HTTPS_VID, "aspect_ratio": "16:9"},
    KV + "v1.6/standard/elements": {"prompt": "p", "input_image_urls": [HTTPS_IMG]},
    KV + "v1.6/pro/elements": {"prompt": "p", "input_image_urls": [HTTPS_IMG] * 4, "aspect_ratio": "1:1"},
    KV + "v1/standard/effects": {"effect_scene": "squish", "input_image_urls": [HTTPS_IMG]},
    KV + "v1.5/pro/effects": {"effect_scene": "hug", "input_image_urls": [HTTPS_IMG, HTTPS_IMG], "duration": "10"},
    KV + "v1.6/standard/effects": {"effect_scene": "let's_ride", "input_image_urls": [HTTPS_IMG]},
    KV + "v1.6/pro/effects": {"effect_scene": "emoji", "input_image_urls": [HTTPS_IMG]},
    KV + "v2.6/standard/motion-control": {"image_url": HTTPS_IMG, "video_url": HTTPS_VID,
                                          "character_orientation": "image"},
    KV + "v2.6/pro/motion-control": {"prompt": "p", "image_url": HTTPS_IMG, "video_url": HTTPS_VID,
                                     "character_orientation": "video", "keep_original_sound": False},
    KV + "v3/standard/motion-control": {"image_url": HTTPS_IMG, "video_url": HTTPS_VID,
                                        "character_orientation": "video",
                                        "elements": [{"frontal_image_url": HTTPS_IMG}]},
    KV + "v3/pro/motion-control": {"image_url": HTTPS_IMG, "video_url": HTTPS_VID, "character_orientation": "image"},
    KV + "lipsync/audio-to-video": {"video_url": HTTPS_VID, "audio_url": HTTPS_AUD},
    KV + "lipsync/text-to-video": {"video_url": HTTPS_VID, "text": "x" * 120, "voice_id": "genshin_vindi2",
                                   "voice_language": "zh", "voice_speed": 1.5},
    KV + "create-voice": {"voice_url": HTTPS_AUD},
    KV + "v1/tts": {"text": "hello", "voice_id": "uk_boy1", "voice_speed": 0.8},
    KV + "video-to-audio": {"video_url": HTTPS_VID, "sound_effect_prompt": "x" * 200, "background_music_prompt": "m",
                            "asmr_mode": True},
    KV + "v1/standard/ai-avatar": {"image_url": HTTPS_IMG, "audio_url": HTTPS_AUD},
    KV + "v1/pro/ai-avatar": {"image_url": HTTPS_IMG, "audio_url": HTTPS_AUD, "prompt": "."},
    KV + "ai-avatar/v2/standard": {"image_url": HTTPS_IMG, "audio_url": HTTPS_AUD},
    KV + "ai-avatar/v2/pro": {"image_url": HTTPS_IMG, "audio_url": HTTPS_AUD, "prompt": "talks"},
}


def expected_output(endpoint):
    """The documented output keys (reference §2.2 #37-#40, Appendix A)."""
    if "ai-avatar" in endpoint:
        return {"video", "duration"}
    if endpoint.endswith("/create-voice"):
        return {"voice_id"}
    if endpoint.endswith("/tts"):
        return {"audio"}
    if endpoint.endswith("/video-to-audio"):
        return {"audio", "video"}
    return {"video"}


def test_every_endpoint_accepts_a_valid_body_and_answers_its_output_shape(quick):
    assert set(SCHEMAS) == set(VALID_BODIES), (sorted(set(SCHEMAS) - set(VALID_BODIES)),
                                               sorted(set(VALID_BODIES) - set(SCHEMAS)))
    rids = {}
    for endpoint, body in VALID_BODIES.items():
        r = call(quick, "POST", "/" + endpoint, body)
        assert r.status == 200, (endpoint, r.data[:400])
        rids[endpoint] = r.json["request_id"]
    audio = None
    for endpoint, rid in rids.items():
        quick.wait_completed(rid)
        r = call(quick, "GET", f"/fal-ai/kling-video/requests/{rid}")
        assert r.status == 200, endpoint
        out = r.json
        assert set(out) == expected_output(endpoint), (endpoint, out)
        for key in ("video", "audio"):
            if key in out:
                f = out[key]
                assert set(f) == {"url", "content_type", "file_name", "file_size"}
                got = call(quick, "GET", f["url"], key=None)
                assert got.status == 200 and len(got.data) == f["file_size"]
                assert got.header("content-type") == f["content_type"]
                if key == "video":
                    assert got.data == VIDEO and f["content_type"] == "video/mp4"
                else:
                    audio = got.data
                    assert f["content_type"] == "audio/mpeg" and f["file_name"].endswith(".mp3")
        if "duration" in out:
            assert isinstance(out["duration"], float) and out["duration"] > 0
        if "voice_id" in out:
            assert isinstance(out["voice_id"], str) and out["voice_id"]
    # the default audio is a real, decodable file
    with av.open(io.BytesIO(audio)) as c:
        assert c.streams.audio and sum(f.samples for f in c.decode(audio=0)) > 0
    assert quick.count("submit") == len(VALID_BODIES)


def test_outputs_with_real_media_and_outputs_as_inputs(tmp_path, media):
    wav = media["wav3"]
    with FakeFal(tmp_path, key=KEY, video_bytes=media["v720"], audio_bytes=wav, queue_seconds=0.02,
                 progress_seconds=0.02) as fal:
        rids = [call(fal, "POST", "/" + ep, VALID_BODIES[ep]).json["request_id"] for ep in (AVATAR, TTS, V2A, CV)]
        for rid in rids:
            fal.wait_completed(rid)
        avatar, tts, v2a, voice = (call(fal, "GET", f"/fal-ai/kling-video/requests/{rid}").json for rid in rids)
        assert abs(avatar["duration"] - 3.2) < 0.1  # the served video's own duration
        assert tts["audio"]["content_type"] == "audio/wav" and tts["audio"]["file_name"] == "output.wav"
        assert call(fal, "GET", tts["audio"]["url"], key=None).data == wav
        assert v2a["audio"]["file_name"] == "audio.wav" and v2a["video"]["file_name"] == "output.mp4"
        assert call(fal, "GET", v2a["video"]["url"], key=None).data == media["v720"]
        assert voice["voice_id"].startswith("voice_") and voice["voice_id"] == fal.jobs[rids[3]].voice_id
        # a job's output URL is a file of this fake: it is decoded and checked like an upload
        r = call(fal, "POST", "/" + LA, {"video_url": avatar["video"]["url"], "audio_url": tts["audio"]["url"]})
        assert r.status == 200, r.data[:300]
        r = call(fal, "POST", "/" + CV, {"voice_url": tts["audio"]["url"]})  # 3 s < 5 s
        assert _locs(r) == [(("body", "voice_url"), "audio_duration_too_short")]
        r = call(fal, "POST", "/" + LA, {"video_url": fal.url(f"/files/{rids[0]}/nope.mp4"), "audio_url": HTTPS_AUD})
        assert _locs(r) == [(("body", "video_url"), "file_download_error")]


# ------------------------------------------------------------------------------------------ media checks
def _audio(seconds, fmt="wav", rate=16000):
    """A mono 440 Hz tone, encoded with PyAV."""
    codec = {"wav": "pcm_s16le", "mp3": "libmp3lame", "ogg": "libvorbis"}[fmt]
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=fmt) as out:
        st = out.add_stream(codec, rate=rate, layout="mono")
        n = int(seconds * rate)
        wave = (0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)).astype(np.float32)[None, :]
        size = st.codec_context.frame_size or n
        fmt_name = "s16" if codec == "pcm_s16le" else "fltp"
        for start in range(0, n, size):
            chunk = wave[:, start:start + size]
            arr = (chunk * 32767).astype(np.int16) if fmt_name == "s16" else np.ascontiguousarray(chunk)
            frame = av.AudioFrame.from_ndarray(arr, format=fmt_name, layout="mono")
            frame.sample_rate, frame.pts = rate, start
            out.mux(st.encode(frame))
        out.mux(st.encode(None))
    return buf.getvalue()


def uri(mime, data):
    return f"data:{mime};base64," + base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("media")
    vid = lambda name, **kw: make_mp4(d / name, **kw).read_bytes()  # noqa: E731
    return {
        "v720": vid("v720.mp4", width=720, height=720, fps=24, seconds=3.2),        # lipsync, O1/O3 edit, v2a
        "v_small": vid("small.mp4", width=320, height=240, fps=24, seconds=2.5, audio=False),
        "v_short": vid("short.mp4", width=320, height=240, fps=24, seconds=1.0, audio=False),
        "v_long": vid("long.mov", width=320, height=240, fps=8, seconds=11.0, audio=False),
        "v_slow": vid("slow.mp4", width=720, height=720, fps=12, seconds=3.2, audio=False),
        "v_webm": vid("clip.mkv", width=320, height=240, fps=24, seconds=1.0, audio=False),
        "wav1": _audio(1.0), "wav3": _audio(3.0), "wav6": _audio(6.0), "mp3_6": _audio(6.0, "mp3"),
        "png": data_uri(640, 360)[len("data:image/png;base64,"):],
    }


def _png(media):
    return "data:image/png;base64," + media["png"]


# (id, endpoint, body(media) -> dict, expected [(loc, type)] or [] for accepted)
MEDIA_CASES = [
    ("lipsync a2v accepted", LA, lambda m: {"video_url": uri("video/mp4", m["v720"]),
                                            "audio_url": uri("audio/wav", m["wav3"])}, []),
    ("lipsync a2v video too short", LA, lambda m: {"video_url": uri("video/mp4", m["v_short"]), "audio_url": HTTPS_AUD},
     [(("body", "video_url"), "video_duration_too_short")]),
    ("lipsync a2v video below 720 px", LA, lambda m: {"video_url": uri("video/mp4", m["v_small"]),
                                                      "audio_url": HTTPS_AUD},
     [(("body", "video_url"), "video_too_small")]),
    ("lipsync a2v audio too short", LA, lambda m: {"video_url": HTTPS_VID, "audio_url": uri("audio/wav", m["wav1"])},
     [(("body", "audio_url"), "audio_duration_too_short")]),
    ("lipsync a2v audio over 5 MB", LA, lambda m: {"video_url": HTTPS_VID,
                                                   "audio_url": uri("audio/wav", b"\0" * 5_000_001)},
     [(("body", "audio_url"), "file_too_large")]),
    ("wav declared as mp3", LA, lambda m: {"video_url": HTTPS_VID, "audio_url": uri("audio/mpeg", m["wav3"])},
     [(("body", "audio_url"), "audio_format_mismatch")]),
    ("matroska declared as mp4", LA, lambda m: {"video_url": uri("video/mp4", m["v_webm"]), "audio_url": HTTPS_AUD},
     [(("body", "video_url"), "video_format_mismatch")]),
    ("webm video", LA, lambda m: {"video_url": uri("video/webm", m["v_webm"]), "audio_url": HTTPS_AUD},
     [(("body", "video_url"), "unsupported_video_format")]),
    ("garbage video", LA, lambda m: {"video_url": uri("video/mp4", b"\0" * 5000), "audio_url": HTTPS_AUD},
     [(("body", "video_url"), "video_load_error")]),
    ("audio file given as the video", LA, lambda m: {"video_url": uri("video/mp4", m["wav3"]), "audio_url": HTTPS_AUD},
     [(("body", "video_url"), "video_load_error")]),
    ("lipsync t2v accepted", LT, lambda m: {"video_url": uri("video/quicktime", m["v720"]), "text": "hi",
                                            "voice_id": "AOT"}, []),
    ("O1 edit accepted", O1E, lambda m: {"prompt": "p", "video_url": uri("video/mp4", m["v720"])}, []),
    ("O1 edit at 12 fps", O1E, lambda m: {"prompt": "p", "video_url": uri("video/mp4", m["v_slow"])},
     [(("body", "video_url"), "video_fps_too_low")]),
    ("O1 edit video of 2.5 s", O1E, lambda m: {"prompt": "p", "video_url": uri("video/mp4", m["v_small"])},
     [(("body", "video_url"), "video_duration_too_short")]),
    ("O3 edit accepted at 12 fps", O3E, lambda m: {"prompt": "p", "video_url": uri("video/mp4", m["v_slow"])}, []),
    ("video-to-audio accepted", V2A, lambda m: {"video_url": uri("video/mp4", m["v720"])}, []),
    ("video-to-audio video of 1 s", V2A, lambda m: {"video_url": uri("video/mp4", m["v_short"])},
     [(("body", "video_url"), "video_duration_too_short")]),
    ("motion control 11 s, orientation video", MC26, lambda m: {
        "image_url": HTTPS_IMG, "video_url": uri("video/quicktime", m["v_long"]),
        "character_orientation": "video"}, []),
    ("motion control 11 s, orientation image", MC26, lambda m: {
        "image_url": HTTPS_IMG, "video_url": uri("video/quicktime", m["v_long"]), "character_orientation": "image"},
     [(("body", "video_url"), "video_duration_too_long")]),
    ("create-voice mp3 accepted", CV, lambda m: {"voice_url": uri("audio/mpeg", m["mp3_6"])}, []),
    ("create-voice 3 s", CV, lambda m: {"voice_url": uri("audio/wav", m["wav3"])},
     [(("body", "voice_url"), "audio_duration_too_short")]),
    ("create-voice video of 3.2 s", CV, lambda m: {"voice_url": uri("video/mp4", m["v720"])},
     [(("body", "voice_url"), "audio_duration_too_short")]),
    ("create-voice video without sound", CV, lambda m: {"voice_url": uri("video/quicktime", m["v_long"])},
     [(("body", "voice_url"), "audio_load_error")]),
    ("create-voice m4a not listed", CV, lambda m: {"voice_url": uri("audio/mp4", m["v720"])},
     [(("body", "voice_url"), "unsupported_audio_format")]),
    ("avatar accepted", AVATAR, lambda m: {"image_url": _png(m), "audio_url": uri("audio/mpeg", m["mp3_6"])}, []),
    ("masks accepted", V1I, lambda m: {"prompt": "p", "image_url": _png(m), "static_mask_url": _png(m),
                                       "dynamic_masks": [{"mask_url": _png(m), "trajectories": [{"x": 0, "y": 9}]}]},
     []),
    ("mask that does not decode", V1I, lambda m: {"prompt": "p", "image_url": HTTPS_IMG,
                                                  "dynamic_masks": [{"mask_url": uri("image/png", b"\x89PNG nope")}]},
     [(("body", "dynamic_masks", 0, "mask_url"), "image_load_error")]),
    ("element video accepted", V3I, lambda m: {"prompt": "p", "start_image_url": _png(m),
                                               "elements": [{"video_url": uri("video/mp4", m["v_short"])}]}, []),
    ("element video that does not decode", V3I, lambda m: {
        "prompt": "p", "start_image_url": HTTPS_IMG, "elements": [{"video_url": uri("video/mp4", b"junk")}]},
     [(("body", "elements", 0, "video_url"), "video_load_error")]),
]


@pytest.mark.parametrize("endpoint,make,expected", [c[1:] for c in MEDIA_CASES], ids=[c[0] for c in MEDIA_CASES])
def test_media_are_decoded_and_held_to_the_documented_limits(quick, media, endpoint, make, expected):
    quick.body_max_bytes = None  # the fields' own limits, not the body's (tests/test_request_limits.py)
    r = call(quick, "POST", "/" + endpoint, make(media))
    if not expected:
        assert r.status == 200, r.data[:400]
        return
    assert r.status == 422, r.data[:300]
    assert _locs(r) == expected
    (e,) = r.json["detail"]
    assert e["msg"] and len(json.dumps(e["input"])) < 400


def test_rule_errors_are_pydantic_style(quick):
    r = call(quick, "POST", "/" + V3T, {"prompt": "p", "multi_prompt": [{"prompt": "a"}]})
    (e,) = r.json["detail"]
    assert e["msg"] == "Value error, Either prompt or multi_prompt must be provided, but not both"
    assert e["ctx"] == {"error": "Either prompt or multi_prompt must be provided, but not both"}
    r = call(quick, "POST", "/" + V3T, {"duration": "10",
                                        "multi_prompt": [{"prompt": "a"}, {"prompt": "b", "duration": "4"}]})
    (e,) = r.json["detail"]
    assert e["ctx"]["sum"] == 9 and e["ctx"]["total"] == 10
    # rules run only once the fields are valid, like pydantic's "after" model validators
    r = call(quick, "POST", "/" + V3T, {"prompt": "p", "multi_prompt": [{"prompt": "a", "duration": "0"}]})
    assert _locs(r) == [(("body", "multi_prompt", 0, "duration"), "enum")]


# ------------------------------------------------------------------------------------------ fal storage
def token(fal, **kw):
    r = call(fal, "POST", "/storage/auth/token?storage_type=fal-cdn-v3", {}, **kw)
    assert r.status == 200, r.data
    return r.json


def cdn(fal, method, path, data=b"", tok=None, headers=None):
    h = {"Authorization": f"Bearer {tok}"} if tok else {}
    h.update(headers or {})
    return call(fal, method, path, key=None, raw=data, headers=h)


def test_token_then_simple_upload_then_submit(quick, media):
    t0 = datetime.now(timezone.utc)
    tok = token(quick)
    assert set(tok) == {"token", "token_type", "base_url", "expires_at"}
    assert tok["token_type"] == "Bearer" and tok["base_url"] == f"https://127.0.0.1:{quick.port}"
    expires = datetime.fromisoformat(tok["expires_at"])  # what fal-client does; must be tz-aware
    assert expires.tzinfo is not None and 3500 < (expires - t0).total_seconds() < 3700
    entry = quick.requests("token")[0]
    assert entry["query"] == {"storage_type": "fal-cdn-v3"} and entry["headers"]["authorization"] == f"Key {KEY}"

    r = cdn(quick, "POST", tok["base_url"] + "/files/upload", media["wav6"], tok["token"],
            {"Content-Type": "audio/wav", "X-Fal-File-Name": "my voice.wav"})
    assert r.status == 200 and set(r.json) == {"access_url"}
    url = r.json["access_url"]
    assert re.fullmatch(rf"https://127\.0\.0\.1:{quick.port}/files/uploads/[0-9a-f]{{32}}/my_voice\.wav", url)
    got = call(quick, "GET", url, key=None)  # served like the CDN: no auth
    assert got.status == 200 and got.data == media["wav6"] and got.header("content-type") == "audio/wav"
    got = call(quick, "GET", url, key=None, headers={"Range": "bytes=10-19"})
    assert got.status == 206 and got.data == media["wav6"][10:20]
    (up,) = quick.uploads.values()
    assert up.url == url and up.via == "upload" and up.data == media["wav6"] and quick.uploaded(url) == media["wav6"]
    with pytest.raises(LookupError):
        quick.uploaded(HTTPS_AUD)
    # an upload without a file name gets one from its type
    r = cdn(quick, "POST", "/files/upload", media["mp3_6"], tok["token"], {"Content-Type": "audio/mpeg"})
    assert r.json["access_url"].endswith("/upload.mp3")

    r = call(quick, "POST", "/" + CV, {"voice_url": url})
    assert r.status == 200, r.data[:300]
    quick.wait_completed(r.json["request_id"])
    assert set(call(quick, "GET", r.json["response_url"]).json) == {"voice_id"}
    assert [e["op"] for e in quick.requests()][:2] == ["token", "upload"]


def test_uploaded_media_are_checked_like_data_uris(quick, media):
    tok = token(quick)["token"]
    short = cdn(quick, "POST", "/files/upload", media["wav1"], tok, {"Content-Type": "audio/wav"}).json["access_url"]
    r = call(quick, "POST", "/" + LA, {"video_url": HTTPS_VID, "audio_url": short})
    assert r.status == 422 and _locs(r) == [(("body", "audio_url"), "audio_duration_too_short")]
    assert r.json["detail"][0]["ctx"] == {"min_duration": 2.0, "duration": 1.0}
    # the type the upload declared is the one checked
    wrong = cdn(quick, "POST", "/files/upload", media["wav3"], tok, {"Content-Type": "audio/mpeg"}).json["access_url"]
    assert _locs(call(quick, "POST", "/" + LA, {"video_url": HTTPS_VID, "audio_url": wrong})) == [
        (("body", "audio_url"), "audio_format_mismatch")]
    blob = cdn(quick, "POST", "/files/upload", media["wav3"], tok).json["access_url"]  # no Content-Type
    assert _locs(call(quick, "POST", "/" + LA, {"video_url": HTTPS_VID, "audio_url": blob})) == [
        (("body", "audio_url"), "unsupported_audio_format")]
    video = cdn(quick, "POST", "/files/upload", media["v720"], tok, {"Content-Type": "video/mp4"}).json["access_url"]
    ok = cdn(quick, "POST", "/files/upload", media["wav3"], tok, {"Content-Type": "audio/wav"}).json["access_url"]
    assert call(quick, "POST", "/" + LA, {"video_url": video, "audio_url": ok}).status == 200
    # a URL of this fake that holds no file
    ghost = ok.rsplit("/", 2)[0] + "/0123/x.wav"
    assert _locs(call(quick, "POST", "/" + LA, {"video_url": video, "audio_url": ghost})) == [
        (("body", "audio_url"), "file_download_error")]
    # a file put there directly, for tests that do not upload
    url = quick.add_upload(media["wav3"], "audio/wav", "direct.wav")
    assert call(quick, "GET", url, key=None).data == media["wav3"]
    assert call(quick, "POST", "/" + LA, {"video_url": video, "audio_url": url}).status == 200


def test_storage_auth(quick, media):
    assert call(quick, "POST", "/storage/auth/token?storage_type=fal-cdn-v3", {}, key="wrong").status == 401
    assert call(quick, "POST", "/storage/auth/token?storage_type=fal-cdn-v3", {}, key=None).status == 401
    r = call(quick, "POST", "/storage/auth/token", {})
    assert r.status == 422 and _locs(r) == [(("query", "storage_type"), "missing")]
    r = call(quick, "POST", "/storage/auth/token?storage_type=gcs", {})
    assert r.status == 422 and _locs(r) == [(("query", "storage_type"), "enum")]
    tok = token(quick)["token"]
    assert cdn(quick, "POST", "/files/upload", b"x").status == 401                      # no auth
    assert call(quick, "POST", "/files/upload", raw=b"x").status == 401                 # the API key is not a token
    assert cdn(quick, "POST", "/files/upload", b"x", "not-a-token").status == 401
    assert cdn(quick, "POST", "/files/upload", b"x", tok, {"Authorization": f"Key {tok}"}).status == 401
    assert cdn(quick, "POST", "/files/upload", b"x", tok).status == 200
    assert cdn(quick, "POST", "/files/upload", b"", tok).status == 400
    quick.expire_tokens()
    r = cdn(quick, "POST", "/files/upload", b"x", tok)
    assert r.status == 401 and "expired" in r.json["detail"].lower()
    quick.token_seconds = 0.2
    tok = token(quick)["token"]
    assert cdn(quick, "POST", "/files/upload", b"x", tok).status == 200
    time.sleep(0.25)
    assert cdn(quick, "POST", "/files/upload/multipart", b"", tok).status == 401
    quick.forbid = True
    assert call(quick, "POST", "/storage/auth/token?storage_type=fal-cdn-v3", {}).status == 403
    quick.forbid = False
    quick.upload_max_bytes = 10
    assert cdn(quick, "POST", "/files/upload", b"x" * 11, token(quick)["token"]).status == 413


def test_multipart_upload(quick, media):
    tok = token(quick)
    base, t = tok["base_url"], tok["token"]
    data = media["v720"]
    r = cdn(quick, "POST", base + "/files/upload/multipart", b"", t,
            {"Content-Type": "video/mp4", "X-Fal-File-Name": "clip.mp4", "Accept": "application/json"})
    assert r.status == 200 and set(r.json) == {"access_url", "uploadId"}
    access, upload_id = r.json["access_url"], r.json["uploadId"]
    assert access.endswith("/clip.mp4")
    assert call(quick, "GET", access, key=None).status == 404  # not complete yet
    # parts smaller than 5 MiB (all but the last) are refused at completion, as on S3-like stores
    third = len(data) // 3 + 1
    chunks = [data[i:i + third] for i in range(0, len(data), third)]
    assert len(chunks) == 3
    parts = []
    for n, chunk in enumerate(chunks, 1):
        r = cdn(quick, "PUT", f"{access}/multipart/{upload_id}/{n}", chunk, t,
                {"Content-Type": "video/mp4", "Accept-Encoding": "identity"})
        assert r.status == 200 and r.header("etag").startswith('"')
        parts.append({"partNumber": n, "etag": r.header("etag")})
    done = f"{access}/multipart/{upload_id}/complete"
    r = call(quick, "POST", done, {"parts": parts}, key=None, headers={"Authorization": f"Bearer {t}"})
    assert r.status == 400 and "EntityTooSmall" in r.json["detail"]
    quick.multipart_min_part = 1024
    for bad in ({"parts": parts + parts[:1]}, {"parts": [dict(parts[0], etag='"0000"')] + parts[1:]},
                {"parts": parts + [{"partNumber": 9, "etag": "x"}]}, {"parts": []}, {"nope": 1}):
        r = call(quick, "POST", done, bad, key=None, headers={"Authorization": f"Bearer {t}"})
        assert r.status == 400, bad
    assert call(quick, "POST", done, {"parts": parts}, key=None).status == 401
    assert cdn(quick, "PUT", f"{access}/multipart/wrong-id/1", b"x", t).status == 404
    assert cdn(quick, "PUT", f"{access}/multipart/{upload_id}/0", b"x", t).status == 400
    # in any order: fal-client lists the parts in the order its parallel uploads finished
    r = call(quick, "POST", done, {"parts": parts[::-1]}, key=None, headers={"Authorization": f"Bearer {t}"})
    assert r.status == 200 and r.json == {"access_url": access}
    got = call(quick, "GET", access, key=None)
    assert got.data == data and got.header("content-type") == "video/mp4"
    assert cdn(quick, "PUT", f"{access}/multipart/{upload_id}/4", b"x", t).status == 404  # closed
    assert call(quick, "POST", "/" + O1E, {"prompt": "p", "video_url": access}).status == 200
    assert [quick.count(op) for op in ("token", "multipart", "part", "complete")] == [1, 1, 6, 8]
    # a part of exactly the minimum size is fine
    quick.multipart_min_part = 5 * 1024 * 1024
    r = cdn(quick, "POST", base + "/files/upload/multipart", b"", t, {"Content-Type": "application/octet-stream"})
    access, upload_id = r.json["access_url"], r.json["uploadId"]
    assert access.endswith("/upload.bin")
    big = bytes(5 * 1024 * 1024)
    e1 = cdn(quick, "PUT", f"{access}/multipart/{upload_id}/1", big, t).header("etag")
    e2 = cdn(quick, "PUT", f"{access}/multipart/{upload_id}/2", b"tail", t).header("etag")
    r = call(quick, "POST", f"{access}/multipart/{upload_id}/complete",
             {"parts": [{"partNumber": 1, "etag": e1}, {"partNumber": 2, "etag": e2}]}, key=None,
             headers={"Authorization": f"Bearer {t}"})
    assert r.status == 200 and len(call(quick, "GET", access, key=None).data) == len(big) + 4


def test_fallback_initiate_and_signed_put(quick, media):
    # fal-client: the v3 upload fails (not retried) -> "falling back to fal" -> initiate + PUT
    tok = token(quick)["token"]
    quick.inject("upload", status=500, body={"detail": "boom"})
    assert cdn(quick, "POST", "/files/upload", media["wav3"], tok, {"Content-Type": "audio/wav"}).status == 500
    r = call(quick, "POST", "/storage/upload/initiate?storage_type=gcs",
             {"file_name": "voice.wav", "content_type": "audio/wav"})
    assert r.status == 200 and set(r.json) == {"upload_url", "file_url"}
    put_url, file_url = r.json["upload_url"], r.json["file_url"]
    assert file_url.endswith("/voice.wav") and urlsplit(put_url).netloc == quick.host
    assert call(quick, "GET", file_url, key=None).status == 404  # nothing PUT yet
    r = call(quick, "PUT", put_url, raw=media["wav3"], key=None, headers={"Content-Type": "audio/mpeg"})
    assert r.status == 403 and b"SignatureDoesNotMatch" in r.data  # the content type is part of the signature
    r = call(quick, "PUT", put_url.split("?")[0] + "?signature=forged", raw=media["wav3"], key=None,
             headers={"Content-Type": "audio/wav"})
    assert r.status == 403
    # fal-client's PUT carries its default "Authorization: Key ..." too: ignored by the signed URL
    r = call(quick, "PUT", put_url, raw=media["wav3"], headers={"Content-Type": "audio/wav"})
    assert r.status == 200
    assert call(quick, "GET", file_url, key=None).data == media["wav3"]
    assert call(quick, "POST", "/" + LA, {"video_url": HTTPS_VID, "audio_url": file_url}).status == 200
    assert [e["op"] for e in quick.requests()] == ["token", "upload", "initiate", "file", "put", "put", "put", "file",
                                                  "submit"]
    # the JS client's storage_type; bad bodies and auth
    assert call(quick, "POST", "/storage/upload/initiate?storage_type=fal-cdn-v3",
                {"file_name": "a.png", "content_type": "image/png"}).status == 200
    r = call(quick, "POST", "/storage/upload/initiate?storage_type=gcs", {"file_name": "a.png"})
    assert r.status == 422 and _locs(r) == [(("body", "content_type"), "missing")]
    r = call(quick, "POST", "/storage/upload/initiate?storage_type=s3", {"content_type": "image/png"})
    assert r.status == 422 and _locs(r) == [(("query", "storage_type"), "enum")]
    assert call(quick, "POST", "/storage/upload/initiate?storage_type=gcs", {"content_type": "image/png"},
                key="wrong").status == 401


def test_storage_injections(quick, media):
    quick.inject("token", reset=True)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
        token(quick)
    tok = token(quick)["token"]
    # the upload went through but its answer was lost: the file exists, a retry makes a second one
    quick.inject("upload", status=502, process=True)
    assert cdn(quick, "POST", "/files/upload", b"abc", tok, {"Content-Type": "text/plain"}).status == 502
    (up,) = quick.uploads.values()
    assert up.complete and up.data == b"abc"
    quick.inject("file", truncate_at=1)
    with pytest.raises(http.client.IncompleteRead):
        call(quick, "GET", up.url, key=None)
    quick.inject("put", status=503)
    r = call(quick, "POST", "/storage/upload/initiate?storage_type=gcs", {"content_type": "audio/wav"})
    assert r.json["file_url"].endswith("/upload.wav")
    r = call(quick, "PUT", r.json["upload_url"], raw=b"x", key=None, headers={"Content-Type": "audio/wav"})
    assert r.status == 503
    assert [e["injected"] is not None for e in quick.requests()] == [True, False, True, True, False, True]
