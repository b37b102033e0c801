"""The fake AI/ML API, Vercel AI Gateway and Kling servers behave as the reference documents them.

Talks to them with http.client directly -- never with the product's code. JWTs are built here with
hmac/hashlib/base64, independently of the fake's own helper.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import io
import json
import re
import ssl
import time
from urllib.parse import quote, urlsplit

import pytest
from PIL import Image

from fakes.aimlapi import MODEL_I2V, MODEL_T2V, FakeAimlapi
from fakes.client import call, connect, read_cut_short, read_events, stop_during
from fakes.kling import FakeKling
from fakes.tls import make_tls
from fakes.vercel import FakeVercel

KEY = "test-key-abc"
AK, SK = "ak-test-0123", "sk-test-secret-4567"
VIDEO = bytes(range(256)) * 40  # 10240 bytes
V_I2V, V_T2V = "klingai/kling-v2.6-i2v", "klingai/kling-v2.6-t2v"
DROPPED = (http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)


# ------------------------------------------------------------------------------------------ helpers
pytestmark = pytest.mark.usefixtures("no_server_errors")


def image_bytes(w=400, h=400, fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 30, 90)).save(buf, format=fmt)
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def data_uri(w=400, h=400, fmt="PNG", mime=None) -> str:
    return f"data:{mime or 'image/' + fmt.lower()};base64," + b64(image_bytes(w, h, fmt))


def check_download(fake, url):
    assert url.startswith(fake.base_url + "/files/") and url.endswith("/output.mp4")
    r = call(fake, "GET", url)  # no auth
    assert r.status == 200 and r.data == VIDEO and r.headers["content-type"] == "video/mp4"
    r = call(fake, "GET", url, headers={"Range": "bytes=100-199"})
    assert r.status == 206 and r.data == VIDEO[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{len(VIDEO)}"


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_tls(tmp_path_factory.mktemp("ca"))


# ============================================================================================== AI/ML API
@pytest.fixture
def aiml(tmp_path, tls):
    with FakeAimlapi(tmp_path, key=KEY, video_bytes=VIDEO, queue_seconds=0.1, progress_seconds=0.6, tls=tls) as f:
        yield f


def aiml_auth(key=KEY):
    return {"Authorization": f"Bearer {key}"}


def aiml_submit(fake, body, key=KEY):
    return call(fake, "POST", "/v2/video/generations", body, headers=aiml_auth(key))


def aiml_status(fake, gid, key=KEY):
    return call(fake, "GET", f"/v2/video/generations?generation_id={quote(gid, safe='')}", headers=aiml_auth(key))


AIML_I2V = {"model": MODEL_I2V, "prompt": "a cat", "image_url": "https://example.com/cat.png"}


def test_aiml_i2v_happy_path(aiml):
    body = {"model": MODEL_I2V, "prompt": "a cat turns its head", "image_url": data_uri(400, 600),
            "duration": 5, "negative_prompt": "blur", "generate_audio": True,
            "tail_image_url": data_uri(600, 400, "JPEG"), "provider": "kling"}
    r = aiml_submit(aiml, body)
    assert r.status == 200, r.data
    gid = r.json["id"]
    assert r.json == {"id": gid, "status": "queued"}
    assert re.fullmatch(r"[0-9a-f-]{36}:" + re.escape(MODEL_I2V), gid)
    seen = []
    while True:
        s = aiml_status(aiml, gid)
        assert s.status == 200
        seen.append(s.json["status"])
        if s.json["status"] not in ("queued", "generating"):
            break
        assert s.json["video"] is None and s.json["error"] is None and s.json["meta"] is None
        time.sleep(0.02)
    assert seen[0] == "queued" and "generating" in seen and seen[-1] == "completed"
    done = s.json
    assert done["id"] == gid and done["error"] is None and done["meta"]["usage"]["credits_used"] > 0
    check_download(aiml, done["video"]["url"])
    [sub] = aiml.submits()
    assert sub["request_id"] == gid and sub["json"] == body and sub["headers"]["authorization"] == f"Bearer {KEY}"
    assert aiml.jobs[gid].body == body and aiml.jobs[gid].ok and aiml.status_of(gid) == "completed"
    assert [e["request_id"] for e in aiml.events("completed")] == [gid]
    assert aiml.count("status") == len(seen) and aiml.count("file") == 2


def test_aiml_t2v_accepts_string_duration(aiml):
    body = {"model": MODEL_T2V, "prompt": "rain on a window", "aspect_ratio": "9:16", "duration": "10",
            "cfg_scale": 0.5, "generate_audio": False, "negative_prompt": "", "provider": "auto"}
    r = aiml_submit(aiml, body)
    assert r.status == 200 and r.json["id"].endswith(":" + MODEL_T2V)
    aiml.wait_completed(r.json["id"])
    assert aiml_status(aiml, r.json["id"]).json["status"] == "completed"


def test_aiml_auth_and_credits(aiml):
    for headers in ({}, aiml_auth("wrong"), {"Authorization": f"Key {KEY}"}, {"Authorization": "Bearer"}):
        r = call(aiml, "POST", "/v2/video/generations", AIML_I2V, headers=headers)
        assert r.status == 401
        assert set(r.json) == {"message", "path", "requestId", "statusCode", "timestamp"}
        assert r.json["message"].startswith("This request requires a valid API key")
        assert r.json["statusCode"] == "401" and r.json["path"] == "/v2/video/generations"
    gid = aiml_submit(aiml, AIML_I2V).json["id"]
    assert aiml_status(aiml, gid, key="wrong").status == 401
    aiml.no_credits = True
    r = aiml_submit(aiml, AIML_I2V)
    assert r.status == 403 and r.json["message"].startswith("You've run out of credits")
    assert r.json["statusCode"] == "403"
    assert aiml_status(aiml, gid).status == 200  # polling still works
    assert list(aiml.jobs) == [gid] and aiml.count("submit") == 6 and len(aiml.submits()) == 1


@pytest.mark.parametrize("change, status, field", [
    ({"model": "klingai/video-v9-pro-image-to-video"}, 404, "klingai/video-v9"),
    ({"foo": 1}, 400, "foo"),
    ({"generate_audio": "yes"}, 400, "generate_audio"),
    ({"duration": 7}, 400, "duration"),
    ({"duration": "7"}, 400, "duration"),
    ({"duration": 5.5}, 400, "duration"),
    ({"provider": "replicate"}, 400, "provider"),
    ({"prompt": None}, 400, "prompt"),
    ({"prompt": "x" * 2501}, 400, "prompt"),
    ({"negative_prompt": None}, 400, "negative_prompt"),
    ({"image_url": "http://example.com/cat.png"}, 400, "image_url"),
    ({"image_url": b64(image_bytes())}, 400, "image_url"),
    ({"image_url": data_uri(200, 400)}, 400, "too small"),
    ({"image_url": data_uri(1200, 400)}, 400, "aspect ratio"),
    ({"image_url": data_uri(fmt="JPEG", mime="image/png")}, 400, "does not match"),
    ({"image_url": data_uri(fmt="WEBP")}, 400, "unsupported image type"),
    ({"image_url": "data:image/png;base64,@@@"}, 400, "base64"),
    ({"tail_image_url": data_uri(100, 100)}, 400, "tail_image_url"),
    ({"cfg_scale": 0.5}, 400, "cfg_scale"),          # t2v only
    ({"aspect_ratio": "16:9"}, 400, "aspect_ratio"),  # t2v only
])
def test_aiml_rejections(aiml, change, status, field):
    body = {**AIML_I2V, **change}
    if change.get("prompt", "") is None:
        del body["prompt"]
    r = aiml_submit(aiml, body)
    assert r.status == status, r.data
    assert field in r.json["message"] and r.json["statusCode"] == str(status)
    if status == 400:
        assert r.json["message"].startswith("Body validation error!")
    assert aiml.jobs == {} and aiml.submits() == []


def test_aiml_t2v_rejections(aiml):
    base = {"model": MODEL_T2V, "prompt": "p"}
    for change, field in [({"cfg_scale": 1.5}, "cfg_scale"), ({"aspect_ratio": "4:3"}, "aspect_ratio"),
                          ({"image_url": "https://example.com/a.png"}, "image_url"), ({"prompt": ""}, "prompt")]:
        r = aiml_submit(aiml, {**base, **change})
        assert r.status == 400 and field in r.json["message"], (change, r.data)
    r = aiml_submit(aiml, {"prompt": "p"})
    assert r.status == 400 and "model" in r.json["message"]
    r = call(aiml, "POST", "/v2/video/generations", raw=b"prompt=p",
             headers={**aiml_auth(), "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 400 and aiml.jobs == {}


@pytest.mark.parametrize("body, field", [
    ({"model": "klingai/video-o1-image-to-video", "prompt": "p", "image_url": data_uri(), "duration": "5"},
     "duration"),  # an integer enum
    ({"model": "klingai/video-o1-image-to-video", "prompt": "p", "image_url": data_uri(), "tail_image_url": data_uri()},
     "tail_image_url"),  # O1 calls it last_image_url
    ({"model": "klingai/video-o1-reference-to-video", "prompt": "p", "image_urls": [data_uri()]}, "image_urls"),
    ({"model": "klingai/video-o1-reference-to-video", "prompt": "p",
      "elements": [{"frontal_image_url": data_uri()}]}, "elements.0.reference_image_urls"),
    ({"model": "klingai/video-o1-video-to-video-edit", "prompt": "p", "video_url": data_uri()}, "video_url"),
    ({"model": "klingai/video-v3-pro-text-to-video", "prompt": "p", "duration": 2}, "duration"),
    ({"model": "klingai/video-v3-pro-text-to-video", "multi_prompt": [{"prompt": "a", "duration": 5}]},
     "multi_prompt.0"),  # plain strings on v3 (objects on turbo)
    ({"model": "klingai/video-v3-turbo-pro-text-to-video", "prompt": "p", "negative_prompt": "x"}, "negative_prompt"),
    ({"model": "klingai/video-v3-motion-control", "image_url": data_uri(), "video_url": "https://e.com/v.mp4",
      "keep_original_sound": True}, "keep_original_sound"),  # AI/ML API calls it keep_audio
    ({"model": "klingai/video-v3-motion-control", "image_url": data_uri(), "video_url": "https://e.com/v.mp4",
      "mode": "master"}, "mode"),
    ({"model": "klingai/video-v3-motion-control", "image_url": data_uri(), "video_url": "https://e.com/v.mp4",
      "elements": []}, "elements"),
])
def test_aiml_newer_model_rejections(aiml, body, field):
    r = aiml_submit(aiml, body)
    assert r.status == 400 and field in r.json["message"], r.json
    assert aiml.jobs == {}


def test_aiml_newer_models_accepted(aiml):
    video = "data:video/mp4;base64," + b64(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    for body in ({"model": "klingai/video-v3-motion-control", "image_url": data_uri(), "video_url": video,
                  "character_orientation": "image", "keep_audio": False, "mode": "pro"},
                 {"model": "klingai/video-o1-reference-to-video", "prompt": "p", "image_list": [data_uri()],
                  "elements": [{"frontal_image_url": data_uri(), "reference_image_urls": [data_uri()]}],
                  "duration": 10},
                 {"model": "klingai/video-v3-turbo-pro-text-to-video", "multi_prompt": [{"prompt": "a", "duration": 5}],
                  "duration": 5}):
        r = aiml_submit(aiml, body)
        assert r.status == 200 and r.json["id"].endswith(":" + body["model"]), r.json


def test_aiml_generation_id_must_be_whole(aiml):
    gid = aiml_submit(aiml, AIML_I2V).json["id"]
    bare = gid.split(":")[0]
    r = aiml_status(aiml, bare)
    assert r.status == 404 and r.json["statusCode"] == "404"
    assert aiml_status(aiml, bare + ":" + MODEL_T2V).status == 404
    assert aiml_status(aiml, gid).status == 200
    # unencoded ':' and '/' in the query work too
    assert call(aiml, "GET", f"/v2/video/generations?generation_id={gid}", headers=aiml_auth()).status == 200
    r = call(aiml, "GET", "/v2/video/generations", headers=aiml_auth())
    assert r.status == 400 and "generation_id" in r.json["message"]
    r = call(aiml, "GET", f"/v2/video/generations/{bare}", headers=aiml_auth())
    assert r.status == 404 and r.json["message"].startswith("Cannot GET")
    # no cancel endpoint
    assert call(aiml, "DELETE", f"/v2/video/generations?generation_id={gid}", headers=aiml_auth()).status == 404


def test_aiml_error_outcome_and_legacy_shape(aiml):
    aiml.next_outcome = ("error", {"name": "ContentPolicyViolation", "message": "The prompt was flagged"})
    bad = aiml_submit(aiml, AIML_I2V).json["id"]
    aiml.next_outcome = ("error", {"message": "boom"})
    bad2 = aiml_submit(aiml, AIML_I2V).json["id"]
    aiml.wait_completed(bad)
    aiml.wait_completed(bad2)
    r = aiml_status(aiml, bad).json
    assert r["status"] == "error" and r["video"] is None
    assert r["error"] == {"name": "ContentPolicyViolation", "message": "The prompt was flagged"}
    assert aiml_status(aiml, bad2).json["error"] == {"name": "GenerationError", "message": "boom"}
    assert not aiml.jobs[bad].ok and aiml.status_of(bad) == "error"
    assert call(aiml, "GET", aiml.file_url(aiml.jobs[bad])).status == 404
    aiml.legacy_shape = True
    gid = aiml_submit(aiml, {**AIML_I2V, "duration": "10"}).json["id"]
    assert aiml_status(aiml, gid).json["status"] == "queued"
    aiml.wait_completed(gid)
    r = aiml_status(aiml, gid).json
    assert r["status"] == "succeeded" and r["object"] == "video.generation" and r["output"]["duration_seconds"] == 10
    check_download(aiml, r["output"]["video_url"])
    aiml.pending_words = {"queued": "waiting", "running": "active"}
    gid = aiml_submit(aiml, AIML_I2V).json["id"]
    assert aiml_status(aiml, gid).json["status"] == "waiting"


def test_aiml_hold_and_injections(aiml):
    aiml.hold = True
    gid = aiml_submit(aiml, AIML_I2V).json["id"]
    time.sleep(0.35)
    assert aiml_status(aiml, gid).json["status"] == "queued"
    aiml.hold = False
    aiml.wait_completed(gid)
    # the job is created but the answer is lost
    aiml.inject("submit", status=502, process=True)
    r = aiml_submit(aiml, AIML_I2V)
    assert r.status == 502 and r.json["statusCode"] == "502" and r.json["message"] == "Bad Gateway"
    assert len(aiml.jobs) == 2 and aiml.submits()[-1]["http_status"] == 502
    lost = aiml.submits()[-1]["request_id"]
    assert aiml.jobs[lost].body == AIML_I2V
    aiml.inject("submit", reset=True)
    with pytest.raises(DROPPED):
        aiml_submit(aiml, AIML_I2V)
    assert len(aiml.jobs) == 2 and aiml.count("submit") == 3 and len(aiml.submits()) == 2
    aiml.inject("status", status=429, body={"message": "Too Many Requests"}, headers={"Retry-After": "1"}, times=2)
    for _ in range(2):
        r = aiml_status(aiml, gid)
        assert r.status == 429 and r.headers["retry-after"] == "1"
    assert aiml_status(aiml, gid).status == 200
    aiml.inject("status", delay=0.2)
    t = time.monotonic()
    assert aiml_status(aiml, gid).status == 200 and time.monotonic() - t >= 0.19
    url = aiml_status(aiml, gid).json["video"]["url"]
    aiml.inject("file", truncate_at=100)
    code, length, partial = read_cut_short(aiml, urlsplit(url).path)
    assert code == 200 and length == len(VIDEO)
    assert partial == VIDEO[:100]
    aiml.inject("status", status=500)
    aiml.clear_injections()
    assert aiml_status(aiml, gid).status == 200
    with pytest.raises(ValueError):
        aiml.inject("cancel", status=500)  # there is no cancel op
    with pytest.raises(ValueError):
        aiml.inject("submit", truncate_at=3)
    with pytest.raises(ValueError):
        aiml.inject("file", status=500, process=True)


# ============================================================================================== Vercel
@pytest.fixture
def gw(tmp_path, tls):
    with FakeVercel(tmp_path, key=KEY, video_bytes=VIDEO, queue_seconds=0.1, progress_seconds=0.35,
                    sse_ping_seconds=0.1, tls=tls) as f:
        yield f


def vh(model=V_I2V, ver="3", sse=True, key=KEY, **extra):
    h = {"Authorization": f"Bearer {key}", "ai-gateway-protocol-version": "0.0.1", "ai-gateway-auth-method": "api-key",
         "ai-video-model-specification-version": ver, "ai-model-id": model, "user-agent": "ai/6.0.326 test"}
    if sse:
        h["accept"] = "text/event-stream"
    h.update(extra)
    return {k: v for k, v in h.items() if v is not None}


def png_file(w=400, h=400):
    return {"type": "file", "mediaType": "image/png", "data": b64(image_bytes(w, h))}


def v_i2v(**kw):
    return {"prompt": "the cat blinks", "n": 1, "providerOptions": {}, "image": png_file(), **kw}


def read_sse(fake, body, headers, path="/v3/ai/video-model", timeout=10.0):
    """(status, content type, [(kind, payload)], how it ended); kind "data" or "comment"."""
    c = connect(fake, timeout)
    c.request("POST", path, body=json.dumps(body).encode(), headers={**headers, "Content-Type": "application/json"})
    r = c.getresponse()
    if r.status != 200:
        data = r.read()
        c.close()
        return r.status, r.getheader("Content-Type"), json.loads(data), "json"
    items, ended = read_events(c, r)
    return 200, r.getheader("Content-Type"), [(kind, payload) for _, kind, payload in items], ended


def test_vercel_sse_happy_path(gw):
    img = png_file(600, 400)
    body = {"prompt": "the cat blinks", "n": 1, "duration": 5, "generateAudio": True,
            "providerOptions": {"klingai": {"mode": "pro", "negativePrompt": "blur",
                                            "voiceList": [{"voiceId": "v-1"}, {"voiceId": "v-2"}]}},
            "image": img,
            "frameImages": [{"frameType": "first_frame", "image": img},
                            {"frameType": "last_frame", "image": {"type": "url", "url": "https://example.com/end.png"}}]}
    status, ctype, items, ended = read_sse(gw, body, vh())
    assert status == 200 and ctype.startswith("text/event-stream") and ended == "eof"
    kinds = [k for k, _ in items]
    assert kinds.count("data") == 1 and kinds[-1] == "data" and kinds.count("comment") >= 2
    assert all(p == ": ping" for k, p in items if k == "comment")
    event = items[-1][1]
    [sub] = gw.submits()
    task = sub["request_id"]
    assert event["type"] == "result" and event["warnings"] == []
    assert event["providerMetadata"]["klingai"]["taskId"] == task
    [video] = event["videos"]
    assert video["type"] == "url" and video["mediaType"] == "video/mp4"
    assert event["providerMetadata"]["klingai"]["videos"][0]["url"] == video["url"]
    check_download(gw, video["url"])
    assert gw.jobs[task].body == body and gw.jobs[task].model == V_I2V and gw.status_of(task) == "completed"
    assert sub["headers"]["ai-model-id"] == V_I2V and sub["headers"]["accept"] == "text/event-stream"
    assert [e["request_id"] for e in gw.events("completed")] == [task]


def test_vercel_t2v_and_v4_sse(gw):
    body = {"prompt": "rain on a window", "n": 1, "aspectRatio": "9:16", "duration": 10, "generateAudio": False,
            "providerOptions": {"klingai": {"mode": "std", "sound": "off"}}}
    status, _, items, _ = read_sse(gw, body, vh(model=V_T2V))
    assert status == 200 and items[-1][1]["type"] == "result"
    status, _, items, _ = read_sse(gw, body, vh(model=V_T2V, ver="4"), path="/v4/ai/video-model")
    assert status == 200 and items[-1][1]["type"] == "result"
    # aspectRatio on i2v: accepted with a warning (Kling i2v follows the image)
    status, _, items, _ = read_sse(gw, v_i2v(aspectRatio="16:9"), vh())
    assert items[-1][1]["warnings"][0]["feature"] == "aspectRatio"


def test_vercel_sse_error_event(gw):
    gw.next_outcome = ("error", {"message": "Kling rejected the image", "errorType": "failed_dependency",
                                 "statusCode": 424})
    status, _, items, ended = read_sse(gw, v_i2v(), vh())
    assert status == 200 and ended == "eof"
    assert items[-1] == ("data", {"type": "error", "message": "Kling rejected the image",
                                  "errorType": "failed_dependency", "statusCode": 424, "param": None})
    assert [k for k, _ in items].count("data") == 1
    task = gw.submits()[0]["request_id"]
    assert gw.status_of(task) == "error" and call(gw, "GET", gw.file_url(gw.jobs[task])).status == 404


@pytest.mark.parametrize("headers, status, type_, param", [
    (vh(key=None, Authorization=None), 401, "authentication_error", None),
    (vh(key="wrong"), 401, "authentication_error", None),
    (vh(**{"ai-gateway-protocol-version": None}), 400, "invalid_request_error", "ai-gateway-protocol-version"),
    (vh(ver="4"), 400, "invalid_request_error", "ai-video-model-specification-version"),
    (vh(model=None), 400, "invalid_request_error", "ai-model-id"),
    (vh(model="klingai/kling-v9-i2v"), 404, "model_not_found", {"modelId": "klingai/kling-v9-i2v"}),
    (vh(sse=False), 400, "invalid_request_error", "accept"),
    (vh(**{"ai-gateway-auth-method": "cookie"}), 400, "invalid_request_error", "ai-gateway-auth-method"),
])
def test_vercel_header_rejections(gw, headers, status, type_, param):
    status_, _, body, ended = read_sse(gw, v_i2v(), headers)
    assert (status_, ended) == (status, "json")
    assert body["error"]["type"] == type_ and isinstance(body["error"]["message"], str)
    assert body["error"].get("param") == param
    assert gw.jobs == {}


def _frames(first, last=None):
    out = [{"frameType": "first_frame", "image": first}]
    if last:
        out.append({"frameType": "last_frame", "image": last})
    return out


V3_I2V, V3_T2V, V25_I2V = "klingai/kling-v3.0-i2v", "klingai/kling-v3.0-t2v", "klingai/kling-v2.5-turbo-i2v"


def _shots(*durations, index=1):
    return [{"index": index + i, "prompt": f"shot {i}", "duration": d} for i, d in enumerate(durations)]


def _v3(**options):
    return {"providerOptions": {"klingai": {"mode": "pro", **options}}}


@pytest.mark.parametrize("model, body, param", [
    (V3_T2V, {"prompt": "p", "n": 1, "duration": 16}, "duration"),
    (V3_T2V, {"prompt": "p", "n": 1, "duration": 8, **_v3(multiShot=True, shotType="intelligent")},
     "providerOptions.klingai.shotType"),  # Kling spells it "intelligence"
    (V3_T2V, {"prompt": "", "n": 1, "duration": 8, **_v3(multiShot=True, shotType="customize",
                                                         multiPrompt=_shots("3", "4"))},
     "providerOptions.klingai.multiPrompt"),  # 3 + 4 is not 8
    (V3_T2V, {"prompt": "", "n": 1, "duration": 8, **_v3(multiShot=True, shotType="customize",
                                                         multiPrompt=_shots(3, 5))},
     "providerOptions.klingai.multiPrompt.0.duration"),  # durations are strings
    (V3_T2V, {"prompt": "", "n": 1, "duration": 8, **_v3(multiShot=True, shotType="customize",
                                                         multiPrompt=_shots("3", "5", index=0))},
     "providerOptions.klingai.multiPrompt.0.index"),
    (V3_T2V, {"prompt": "p", "n": 1, **_v3(multiPrompt=_shots("5"))}, "providerOptions.klingai.multiShot"),
    (V3_T2V, {"prompt": "", "n": 1}, "prompt"),
    (V25_I2V, v_i2v(generateAudio=False), "generateAudio"),  # no sound before v2.6
    (V25_I2V, v_i2v(providerOptions={"klingai": {"cfgScale": 0.5}}), "providerOptions.klingai.cfgScale"),
])
def test_vercel_v3_and_v25_rejections(gw, model, body, param):
    status, _, answer, ended = read_sse(gw, body, vh(model=model))
    assert (status, ended) == (400, "json"), answer
    assert answer["error"]["param"] == param, answer
    assert gw.jobs == {}


def test_vercel_v3_multi_shot_accepted(gw):
    body = {"prompt": "", "n": 1, "duration": 8, **_v3(multiShot=True, shotType="customize", cfgScale=0.4,
                                                      multiPrompt=_shots("3", "5"))}
    status, _, items, _ = read_sse(gw, body, vh(model=V3_T2V))
    assert status == 200 and [p["type"] for kind, p in items if kind == "data"] == ["result"], items


@pytest.mark.parametrize("model, body, param", [
    (V_I2V, v_i2v(image={"type": "file", "mediaType": "image/png", "data": data_uri()}), "image.data"),
    (V_I2V, {"prompt": "p", "n": 1, "frameImages": _frames({"type": "file", "mediaType": "image/png",
                                                             "data": data_uri()})}, "frameImages.0.image.data"),
    (V_I2V, v_i2v(negativePrompt="blur"), "negativePrompt"),
    (V_I2V, v_i2v(inputReferences=[]), "inputReferences"),
    (V_I2V, v_i2v(duration="5"), "duration"),
    (V_I2V, v_i2v(duration=7), "duration"),
    (V_I2V, v_i2v(n=2), "n"),
    (V_I2V, v_i2v(generateAudio="true"), "generateAudio"),
    (V_I2V, v_i2v(providerOptions={"klingai": {"mode": "pro", "cfgScale": 0.5}}), "providerOptions.klingai.cfgScale"),
    (V_I2V, v_i2v(providerOptions={"kling": {"mode": "pro"}}), "providerOptions.kling"),
    (V_I2V, v_i2v(providerOptions={"klingai": {"mode": "master"}}), "providerOptions.klingai.mode"),
    (V_I2V, v_i2v(providerOptions={"klingai": {"mode": "pro", "sound": "on",
                                               "voiceList": [{"voiceId": "a"}] * 3}}),
     "providerOptions.klingai.voiceList"),
    (V_I2V, v_i2v(providerOptions={"klingai": {"mode": "pro", "voiceList": [{"voice_id": "a"}]}}),
     "providerOptions.klingai.voiceList.0.voiceId"),
    (V_I2V, v_i2v(providerOptions={"klingai": {"mode": "pro", "voiceList": [{"voiceId": "a"}]}}),
     "providerOptions.klingai.voiceList"),  # no sound
    (V_I2V, v_i2v(generateAudio=True), "providerOptions.klingai.mode"),  # sound on v2.6 needs pro
    (V_I2V, v_i2v(providerOptions={"klingai": {"imageTail": data_uri()}}), "providerOptions.klingai.imageTail"),
    (V_I2V, {"prompt": "p", "n": 1, "providerOptions": {}}, "image"),
    (V_I2V, v_i2v(image={"type": "base64", "data": "x"}), "image.type"),
    (V_I2V, v_i2v(image={"type": "url", "url": "http://example.com/a.png"}), "image.url"),
    (V_I2V, v_i2v(image={"type": "file", "mediaType": "image/jpeg", "data": b64(image_bytes())}), "image.data"),
    (V_I2V, v_i2v(image=png_file(200, 200)), "image.data"),
    (V_I2V, v_i2v(image=png_file(1100, 400)), "image.data"),
    (V_I2V, v_i2v(frameImages=_frames(png_file(500, 400))), "image"),  # differs from image
    (V_I2V, v_i2v(frameImages=_frames(png_file(), {"type": "url", "url": "https://e.com/x.png"}),
                  providerOptions={"klingai": {"imageTail": "https://e.com/y.png"}}),
     "providerOptions.klingai.imageTail"),
    (V_I2V, v_i2v(frameImages=[{"frameType": "middle", "image": png_file()}]), "frameImages.0.frameType"),
    (V_T2V, {"prompt": "p", "n": 1, "image": png_file()}, "image"),
    (V_T2V, {"n": 1}, "prompt"),
    (V_T2V, {"prompt": "p", "aspectRatio": "4:3"}, "aspectRatio"),
])
def test_vercel_body_rejections(gw, model, body, param):
    status, _, answer, ended = read_sse(gw, body, vh(model=model))
    assert (status, ended) == (400, "json"), answer
    assert answer["error"]["type"] == "invalid_request_error" and answer["error"]["param"] == param
    assert gw.jobs == {} and gw.submits() == []


def test_vercel_sse_faults(gw):
    # the stream is cut after one keep-alive: no data event, but the job exists
    gw.inject("submit", truncate_at=1)
    status, _, items, ended = read_sse(gw, v_i2v(), vh())
    assert status == 200 and items == [("comment", ": ping")] and ended == "eof"
    assert len(gw.jobs) == 1 and len(gw.submits()) == 1
    gw.inject("submit", status=504, process=True, body={"error": {"message": "Gateway timeout", "type": "timeout"}})
    status, _, body, _ = read_sse(gw, v_i2v(), vh())
    assert status == 504 and body["error"]["type"] == "timeout" and len(gw.jobs) == 2
    gw.inject("submit", status=429)
    status, _, body, _ = read_sse(gw, v_i2v(), vh())
    assert status == 429 and body == {"error": {"message": "Too Many Requests", "type": "rate_limit_exceeded"}}
    gw.inject("submit", reset=True)
    with pytest.raises(DROPPED):
        read_sse(gw, v_i2v(), vh())
    assert len(gw.jobs) == 2 and gw.count("submit") == 4 and len(gw.submits()) == 2


def test_vercel_hold_keeps_stream_pinging(gw):
    gw.hold = True
    c = connect(gw, 5)
    c.request("POST", "/v3/ai/video-model", body=json.dumps(v_i2v()).encode(),
              headers={**vh(), "Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 200
    lines = [r.readline() for _ in range(6)]  # 3 pings (each followed by a blank line) while held
    assert lines == [b": ping\n", b"\n"] * 3
    gw.hold = False
    rest = r.read()
    c.close()
    assert rest.count(b"data: ") == 1 and b'"type": "result"' in rest


def test_vercel_v4_start_status_and_idempotency(gw):
    h = vh(ver="4", sse=False, **{"idempotency-key": "aisdk_vid_0001"})
    body = v_i2v(aspectRatio="1:1", callbackUrl="https://example.com/hook")
    r = call(gw, "POST", "/v4/ai/video-model/start", body, headers=h)
    assert r.status == 200, r.data
    op = r.json["operation"]
    assert r.json["warnings"][0]["feature"] == "aspectRatio"
    again = call(gw, "POST", "/v4/ai/video-model/start", body, headers=h)
    assert again.status == 200 and again.json == r.json and len(gw.jobs) == 1
    assert [e.get("idempotent_replay", False) for e in gw.submits()] == [False, True]
    other = call(gw, "POST", "/v4/ai/video-model/start", v_i2v(), headers=h)
    assert other.status == 400 and other.json["error"]["param"] == "idempotency-key"
    # the start answer is lost; the retry with the same key gets the same operation
    h2 = vh(ver="4", sse=False, **{"idempotency-key": "aisdk_vid_0002"})
    gw.inject("start", status=503, process=True)
    assert call(gw, "POST", "/v4/ai/video-model/start", body, headers=h2).status == 503
    retry = call(gw, "POST", "/v4/ai/video-model/start", body, headers=h2)
    assert retry.status == 200 and len(gw.jobs) == 2 and retry.json["operation"] != op

    sh = vh(ver="4", sse=False)
    r = call(gw, "POST", "/v4/ai/video-model/status", {"operation": op}, headers=sh)
    assert r.status == 200 and r.json == {"status": "pending"}
    gw.wait_completed(op["taskId"])
    r = call(gw, "POST", "/v4/ai/video-model/status", {"operation": op}, headers=sh)
    assert r.json["status"] == "completed"
    check_download(gw, r.json["videos"][0]["url"])
    # the operation must come back verbatim, with the right headers
    for bad_body, headers in [({"operation": {**op, "taskId": "1"}}, sh), ({"operation": {k: v for k, v in op.items()
                                                                          if k != "modelId"}}, sh),
                              ({"operation": op, "extra": 1}, sh), ({"operation": op}, vh(V_T2V, ver="4", sse=False)),
                              ({"operation": op}, vh(ver="3", sse=False))]:
        assert call(gw, "POST", "/v4/ai/video-model/status", bad_body, headers=headers).status == 400
    assert call(gw, "POST", "/v4/ai/video-model/status", {"operation": op}, headers=vh(key="x", ver="4")).status == 401
    assert call(gw, "POST", "/v3/ai/video-model/start", body, headers=vh(ver="3", sse=False)).status == 404
    # failures and cancellations
    gw.next_outcome = ("error", {"message": "upstream failed"})
    op2 = call(gw, "POST", "/v4/ai/video-model/start", v_i2v(), headers=vh(ver="4", sse=False)).json["operation"]
    op3 = call(gw, "POST", "/v4/ai/video-model/start", v_i2v(), headers=vh(ver="4", sse=False)).json["operation"]
    gw.cancel_job(op3["taskId"])
    gw.wait_completed(op2["taskId"])
    assert call(gw, "POST", "/v4/ai/video-model/status", {"operation": op2}, headers=sh).json == \
        {"status": "error", "error": "upstream failed"}
    assert call(gw, "POST", "/v4/ai/video-model/status", {"operation": op3}, headers=sh).json == {"status": "cancelled"}


# ============================================================================================== Kling
def jwt(payload: dict, secret: str = SK, alg: str = "HS256") -> str:
    def enc(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    head = enc(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = enc(json.dumps(payload).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{enc(sig)}"


def token(**over) -> str:
    now = int(time.time())
    payload = {"iss": AK, "exp": now + 1800, "nbf": now - 5}
    payload.update(over)
    return jwt({k: v for k, v in payload.items() if v is not None})


def kh(tok=None):
    return {"Authorization": f"Bearer {tok or token()}"}


@pytest.fixture
def kling(tmp_path, tls):
    with FakeKling(tmp_path, access_key=AK, secret_key=SK, video_bytes=VIDEO, queue_seconds=0.1,
                   progress_seconds=0.6, tls=tls) as f:
        yield f


def k_submit(fake, body, endpoint="image2video", headers=None):
    return call(fake, "POST", f"/v1/videos/{endpoint}", body, headers=kh() if headers is None else headers)


def k_status(fake, tid, endpoint="image2video", headers=None):
    return call(fake, "GET", f"/v1/videos/{endpoint}/{quote(tid, safe='')}", headers=kh() if headers is None else headers)


K_I2V = {"model_name": "kling-v2-6", "image": "https://example.com/cat.png", "prompt": "a cat", "duration": "5"}


def test_kling_i2v_happy_path(kling):
    body = {"model_name": "kling-v2-6", "image": b64(image_bytes(400, 700)), "image_tail": b64(image_bytes(400, 700, "JPEG")),
            "prompt": "<<<voice_1>>> says hello", "negative_prompt": "blur", "mode": "pro", "duration": "10",
            "sound": "on", "voice_list": [{"voice_id": "v-1"}, {"voice_id": "v-2"}],
            "watermark_info": {"enabled": False}, "callback_url": "https://example.com/cb"}
    t0 = time.time()
    r = k_submit(kling, body)
    assert r.status == 200, r.data
    assert r.json["code"] == 0 and r.json["message"] == "success" and r.json["request_id"]
    data = r.json["data"]
    tid = data["task_id"]
    assert data["task_status"] == "submitted" and data["task_info"] == {"external_task_id": None}
    assert abs(data["created_at"] / 1000 - t0) < 5 and data["updated_at"] == data["created_at"]
    seen = []
    while True:
        s = k_status(kling, tid)
        assert s.status == 200 and s.json["code"] == 0
        seen.append(s.json["data"]["task_status"])
        if seen[-1] not in ("submitted", "processing"):
            break
        assert "task_result" not in s.json["data"]
        time.sleep(0.02)
    assert seen[0] == "submitted" and "processing" in seen and seen[-1] == "succeed"
    d = s.json["data"]
    assert d["task_id"] == tid and d["task_status_msg"] == "" and d["updated_at"] >= d["created_at"]
    [video] = d["task_result"]["videos"]
    assert video["duration"] == "10.0" and video["id"]
    check_download(kling, video["url"])
    [sub] = kling.submits()
    assert sub["request_id"] == tid and sub["json"] == body and sub["jwt"]["iss"] == AK
    assert kling.jobs[tid].body == body and kling.status_of(tid) == "succeed"
    assert [e["request_id"] for e in kling.events("completed")] == [tid]


def test_kling_t2v_and_external_task_id(kling):
    body = {"model_name": "kling-v2-6", "prompt": "rain", "aspect_ratio": "9:16", "mode": "std", "duration": "5",
            "sound": "off", "external_task_id": "my-job/1"}
    r = k_submit(kling, body, "text2video")
    assert r.status == 200 and r.json["data"]["task_info"] == {"external_task_id": "my-job/1"}
    tid = r.json["data"]["task_id"]
    by_ext = k_status(kling, "my-job/1", "text2video")
    assert by_ext.status == 200 and by_ext.json["data"]["task_id"] == tid
    assert by_ext.json["data"]["task_info"]["external_task_id"] == "my-job/1"
    dup = k_submit(kling, {**K_I2V, "external_task_id": "my-job/1"})
    assert dup.status == 400 and dup.json["code"] == 1201 and "external_task_id already exists" in dup.json["message"]
    assert len(kling.jobs) == 1
    for path_tid, endpoint in [(tid, "image2video"), ("my-job/1", "image2video"), ("0000", "text2video")]:
        r = k_status(kling, path_tid, endpoint)
        assert r.status == 404 and r.json["code"] == 1203 and r.json["request_id"]
    # cfg_scale is fine on v1.x
    r = k_submit(kling, {"model_name": "kling-v1-6", "prompt": "p", "cfg_scale": 0.5}, "text2video")
    assert r.status == 200 and kling.jobs[r.json["data"]["task_id"]].model == "kling-v1-6"
    r = k_submit(kling, {"prompt": "p"}, "text2video")  # model_name left out: Kling's default
    assert r.status == 200 and kling.jobs[r.json["data"]["task_id"]].model == "kling-v1"


# Tokens are made when the test runs, not when it is collected: a slow suite must not age them.
@pytest.mark.parametrize("auth, code", [
    (lambda: None, 1001),
    (lambda: "Bearer ", 1001),
    (lambda: "Token " + "x.y.z", 1002),
    (lambda: "Bearer not-a-jwt", 1002),
    (lambda: "Bearer " + jwt({"iss": AK, "exp": int(time.time()) + 600}, secret="wrong-secret"), 1002),
    (lambda: "Bearer " + jwt({"iss": AK, "exp": int(time.time()) + 600}, alg="none"), 1002),
    (lambda: "Bearer " + token(exp=None), 1002),
    (lambda: "Bearer " + token(iss="someone-else"), 1000),
    (lambda: "Bearer " + token(exp=int(time.time()) - 10), 1004),
    (lambda: "Bearer " + token(nbf=int(time.time()) + 60), 1003),
], ids=["none", "empty", "scheme", "garbage", "signature", "alg-none", "no-exp", "iss", "expired", "nbf"])
def test_kling_jwt_rejections(kling, auth, code):
    auth = auth()
    r = k_submit(kling, K_I2V, headers={} if auth is None else {"Authorization": auth})
    assert r.status == 401 and r.json["code"] == code and r.json["message"] and r.json["request_id"]
    assert kling.jobs == {}


def test_kling_jwt_clock_and_status_auth(kling):
    tid = k_submit(kling, K_I2V).json["data"]["task_id"]
    assert k_status(kling, tid, headers={}).json["code"] == 1001
    assert k_status(kling, tid, headers=kh(token(exp=int(time.time()) - 1))).json["code"] == 1004
    # no nbf at all is accepted; a token valid in 2 s is accepted by a server whose clock is 5 s ahead
    assert k_submit(kling, K_I2V, headers=kh(token(nbf=None))).status == 200
    later = kh(token(nbf=int(time.time()) + 2))
    assert k_submit(kling, K_I2V, headers=later).json["code"] == 1003
    kling.clock_skew = 5
    assert k_submit(kling, K_I2V, headers=later).status == 200
    kling.no_credits = True
    r = k_submit(kling, K_I2V)
    assert r.status == 429 and r.json["code"] == 1102
    assert k_status(kling, tid).status == 200


@pytest.mark.parametrize("endpoint, change, field", [
    ("image2video", {"image": data_uri()}, "image"),
    ("image2video", {"image_tail": data_uri()}, "image_tail"),
    ("image2video", {"duration": 5}, "duration"),
    ("image2video", {"duration": "7"}, "duration"),
    ("image2video", {"cfg_scale": 0.5}, "cfg_scale"),
    ("image2video", {"foo": "bar"}, "foo"),
    ("image2video", {"sound": "on"}, "sound"),                       # v2.6 sound needs mode pro
    ("image2video", {"sound": "on", "mode": "std"}, "sound"),
    ("image2video", {"mode": "pro", "voice_list": [{"voice_id": "a"}]}, "voice_list"),  # needs sound on
    ("image2video", {"mode": "pro", "sound": "on", "voice_list": [{"voice_id": "a"}] * 3}, "voice_list"),
    ("image2video", {"mode": "pro", "sound": "on", "voice_list": [{"voiceId": "a"}]}, "voice_list.0"),
    ("image2video", {"aspect_ratio": "16:9"}, "aspect_ratio"),
    ("image2video", {"prompt": "x" * 2501}, "prompt"),
    ("image2video", {"negative_prompt": None}, "negative_prompt"),
    ("image2video", {"model_name": "kling-v9"}, "model_name"),
    ("image2video", {"model_name": "kling-v2-5-turbo", "sound": "off"}, "sound"),
    ("image2video", {"multi_shot": True}, "multi_shot"),
    ("image2video", {"image": b64(image_bytes(250, 400))}, "too small"),
    ("image2video", {"image": b64(image_bytes(fmt="WEBP"))}, "unsupported image format"),
    ("image2video", {"image": "http://example.com/cat.png"}, "image"),
    ("image2video", {"image": "!!notbase64!!"}, "image"),
    ("image2video", {"image": None}, "image"),
    ("image2video", {"mode": "turbo"}, "mode"),
    ("image2video", {"camera_control": {"type": "simple", "config": {"zoom": 5, "pan": 1}}}, "camera_control"),
    ("image2video", {"image_tail": "https://e.com/t.png", "camera_control": {"type": "down_back"}}, "camera_control"),
    ("text2video", {"image": "https://example.com/cat.png"}, "image"),
    ("text2video", {"prompt": ""}, "prompt"),
    ("text2video", {"aspect_ratio": "4:3"}, "aspect_ratio"),
])
def test_kling_rejections(kling, endpoint, change, field):
    base = {k: v for k, v in K_I2V.items() if not (endpoint == "text2video" and k == "image")}
    body = {k: v for k, v in {**base, **change}.items() if not (k == "image" and v is None)}  # None: left out
    r = k_submit(kling, body, endpoint)
    assert r.status == 400 and r.json["code"] == 1201, r.data
    assert field in r.json["message"]
    assert kling.jobs == {} and kling.submits() == []


def test_kling_malformed_and_unknown_routes(kling):
    r = call(kling, "POST", "/v1/videos/image2video", raw=b"not json",
             headers={**kh(), "Content-Type": "application/json"})
    assert r.status == 400 and r.json["code"] == 1200
    r = call(kling, "POST", "/v1/videos/image2video", raw=json.dumps([K_I2V]).encode(),
             headers={**kh(), "Content-Type": "application/json"})
    assert r.status == 400 and r.json["code"] == 1200
    r = call(kling, "POST", "/v1/videos/no-such-task", K_I2V, headers=kh())  # omni-video is served now
    assert r.status == 404 and r.json["code"] == 1202
    tid = k_submit(kling, K_I2V).json["data"]["task_id"]
    # no cancel endpoint
    assert call(kling, "DELETE", f"/v1/videos/image2video/{tid}", headers=kh()).json["code"] == 1202


def test_kling_failed_task_and_lost_answer(kling):
    kling.next_outcome = ("error", {"message": "Failure to pass the risk control system"})
    tid = k_submit(kling, K_I2V).json["data"]["task_id"]
    kling.wait_completed(tid)
    d = k_status(kling, tid).json["data"]
    assert d["task_status"] == "failed" and d["task_status_msg"] == "Failure to pass the risk control system"
    assert "task_result" not in d and kling.status_of(tid) == "failed"
    # the create answer is lost; a retry with the same external_task_id is refused, and that id finds the task
    kling.inject("submit", status=504, process=True)
    r = k_submit(kling, {**K_I2V, "external_task_id": "retry-me"})
    assert r.status == 504 and r.json["code"] == 5002
    lost = kling.submits()[-1]["request_id"]
    r = k_submit(kling, {**K_I2V, "external_task_id": "retry-me"})
    assert r.status == 400 and "already exists" in r.json["message"]
    assert k_status(kling, "retry-me").json["data"]["task_id"] == lost
    kling.inject("status", reset=True)
    with pytest.raises(DROPPED):
        k_status(kling, lost)
    kling.hold = True
    held = k_submit(kling, K_I2V).json["data"]["task_id"]
    time.sleep(0.3)
    assert kling.status_of(held) == "submitted"
    kling.release()
    kling.wait_completed(held)
    assert kling.status_of(held) == "succeed"


def test_fakes_can_share_one_ca(tmp_path, tls):
    with FakeAimlapi(tmp_path / "a", key=KEY, tls=tls) as a, FakeKling(tmp_path / "k", AK, SK, tls=tls) as k:
        assert a.ca_path == k.ca_path and a.port != k.port
        assert aiml_submit(a, AIML_I2V).status == 200
        assert k_submit(k, K_I2V).status == 200


# ============================================================================================== all fakes
def test_usable_from_async_code_with_aiohttp(tmp_path):
    import asyncio

    import aiohttp

    async def main():
        async with FakeVercel(tmp_path, key=KEY, video_bytes=VIDEO, queue_seconds=0.05, progress_seconds=0.2,
                              sse_ping_seconds=0.05) as gw:
            ctx = ssl.create_default_context(cafile=str(gw.ca_path))
            async with aiohttp.ClientSession() as s:
                async with s.post(gw.url("/v3/ai/video-model"), json=v_i2v(), headers=vh(), ssl=ctx) as r:
                    assert r.status == 200 and r.headers["Content-Type"].startswith("text/event-stream")
                    lines = [line async for line in r.content]
                data = [json.loads(x[6:]) for x in lines if x.startswith(b"data: ")]
                assert len(data) == 1 and data[0]["type"] == "result"
                assert lines.count(b": ping\n") >= 2
                async with s.get(data[0]["videos"][0]["url"], ssl=ctx, headers={"Range": "bytes=5-"}) as r:
                    assert r.status == 206 and await r.read() == VIDEO[5:]

    asyncio.run(main())


def test_clean_shutdown_with_open_stream(tmp_path):
    gw = FakeVercel(tmp_path, key=KEY, video_bytes=VIDEO)
    gw.start()
    gw.hold = True
    _, _, items, _ = stop_during(gw, lambda: read_sse(gw, v_i2v(), vh()), lambda: gw.submits())
    assert all(k == "comment" for k, _ in items)
    gw.stop()  # idempotent
    assert gw.count("submit") == 1  # the log survives the server
