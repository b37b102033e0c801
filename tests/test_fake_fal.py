"""The fake fal.ai server behaves as fal documents its queue protocol.

Talks to it with http.client / aiohttp directly -- never with the product's code.
"""
from __future__ import annotations

import asyncio
import base64
import http.client
import io
import json
import logging
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

import pytest
from PIL import Image

from fakes.fal import FakeFal

KEY = "test-key-abc"
I2V = "fal-ai/kling-video/v2.6/pro/image-to-video"
T2V = "fal-ai/kling-video/v2.6/pro/text-to-video"
VIDEO = bytes(range(256)) * 40  # 10240 bytes
HTTPS_IMG = "https://example.com/start.png"


# ------------------------------------------------------------------------------------------ helpers
class Resp:
    def __init__(self, status, headers, data):
        self.status, self.headers, self.data = status, headers, data

    @property
    def json(self):
        return json.loads(self.data)

    def header(self, name):
        return self.headers.get(name.lower())


def _conn(fal, timeout=5.0):
    ctx = ssl.create_default_context(cafile=str(fal.ca_path))
    return http.client.HTTPSConnection("127.0.0.1", fal.port, context=ctx, timeout=timeout)


def call(fal, method, path, body=None, *, key=KEY, headers=None, raw=None, timeout=5.0) -> Resp:
    """One request on a fresh connection. ``path`` may be a full URL returned by the fake."""
    if path.startswith("https://"):
        u = urlsplit(path)
        assert u.netloc == fal.host
        path = u.path + ("?" + u.query if u.query else "")
    h = {} if key is None else {"Authorization": f"Key {key}"}
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    c = _conn(fal, timeout)
    try:
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        c.close()


def submit(fal, body=None, endpoint=I2V, **kw) -> Resp:
    return call(fal, "POST", "/" + endpoint, {"prompt": "a cat", "start_image_url": HTTPS_IMG} if body is None
                else body, **kw)


def status(fal, rid, logs="1", **kw) -> Resp:
    q = "" if logs is None else f"?logs={logs}"
    return call(fal, "GET", f"/fal-ai/kling-video/requests/{rid}/status{q}", **kw)


def read_sse(fal, rid, logs="1", timeout=10.0):
    """[(t, kind, payload)] with kind "data" or "comment", plus how the stream ended."""
    c = _conn(fal, timeout)
    c.request("GET", f"/fal-ai/kling-video/requests/{rid}/status/stream?logs={logs}",
              headers={"Authorization": f"Key {KEY}", "Accept": "text/event-stream"})
    r = c.getresponse()
    assert r.status == 200, r.read()
    ctype = r.getheader("Content-Type")
    items, ended = [], "eof"
    try:
        while True:
            line = r.readline()
            if not line:
                break
            line = line.rstrip(b"\r\n")
            if line.startswith(b"data: "):
                items.append((time.monotonic(), "data", json.loads(line[6:])))
            elif line.startswith(b":"):
                items.append((time.monotonic(), "comment", line.decode()))
            else:
                assert line == b"", line
    except (http.client.IncompleteRead, ConnectionError, ssl.SSLError) as exc:
        ended = type(exc).__name__
    finally:
        c.close()
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


@pytest.fixture(autouse=True)
def no_server_errors(caplog):
    """aiohttp must never log an error (resets and truncations are on purpose, not crashes)."""
    caplog.set_level(logging.WARNING)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not bad, [r.getMessage() for r in bad]


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
    ("cfg_scale 1.5", T2V, {"prompt": "p", "cfg_scale": 1.5}, [(("body", "cfg_scale"), "less_than_equal")]),
    ("cfg_scale -0.1", T2V, {"prompt": "p", "cfg_scale": -0.1}, [(("body", "cfg_scale"), "greater_than_equal")]),
    ("cfg_scale as a string", T2V, {"prompt": "p", "cfg_scale": "0.5"}, [(("body", "cfg_scale"), "float_type")]),
    ("cfg_scale as a bool", T2V, {"prompt": "p", "cfg_scale": True}, [(("body", "cfg_scale"), "float_type")]),
    ("aspect 4:3", T2V, {"prompt": "p", "aspect_ratio": "4:3"}, [(("body", "aspect_ratio"), "enum")]),
    ("t2v without prompt", T2V, {}, [(("body", "prompt"), "missing")]),
    ("image on t2v", T2V, {"prompt": "p", "start_image_url": HTTPS_IMG},
     [(("body", "start_image_url"), "extra_forbidden")]),
    ("body is a list", T2V, ["p"], [(("body",), "model_attributes_type")]),
]


@pytest.mark.parametrize("endpoint,body,expected", [c[1:] for c in BAD_BODIES], ids=[c[0] for c in BAD_BODIES])
def test_validation_errors(quick, endpoint, body, expected):
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
    c = _conn(quick)
    c.request("GET", f"/files/{rid}/output.mp4")
    r = c.getresponse()
    assert r.status == 200 and int(r.getheader("Content-Length")) == len(VIDEO)
    with pytest.raises(http.client.IncompleteRead) as info:
        r.read()
    assert info.value.partial == VIDEO[:100]
    c.close()
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
        quick.inject("upload", status=500)
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
    result = {}
    reader = threading.Thread(target=lambda: result.update(out=read_sse(fal, rid)))
    reader.start()
    while fal.count("stream") == 0:
        time.sleep(0.01)
    time.sleep(0.1)
    t = time.monotonic()
    fal.stop()
    assert time.monotonic() - t < 3
    reader.join(3)
    assert not reader.is_alive()
    assert [p["status"] for _, k, p in result["out"][1] if k == "data"] == ["IN_QUEUE"]
    assert set(threading.enumerate()) <= before
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", fal.port), timeout=1).close()
    fal.stop()  # idempotent
    assert fal.count("submit") == 1  # the log survives the server
