"""The fal queue pipeline against the fake fal server over real HTTPS: happy path, errors, cancel."""
import asyncio
import base64
import io
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.core.errors import (InputError, Interrupted, JobFailed, MissingCredentials, ProviderError)
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.jobs.runner import Job, Limits
from comfyui_kling_video.nodes.request import PreparedRequest, estimate_cost, prepare

KEY = "test-key-0123456789"
I2V = variant("i2v")
T2V = variant("t2v")


def image(h=480, w=640, seed=0):
    return torch.rand(1, h, w, 3, generator=torch.Generator().manual_seed(seed))


def run(coro):
    return asyncio.run(coro)


def t2v(tmp_path, **job_options):
    return generate(lambda: prepare(T2V, {"prompt": "a paper boat"}), tmp_path / "out", **job_options)


def test_i2v_happy_path_body_and_file(fal_env, tmp_path):
    start, end = image(seed=1), image(seed=2)
    updates = []
    prepared, done = run(generate(
        lambda: prepare(I2V, {"start_frame": start, "end_frame": end, "prompt": "a king says hello",
                              "duration": "10", "generate_audio": False}),
        tmp_path / "out", on_update=updates.append))
    assert done.path.read_bytes() == fal_env.video_bytes
    assert done.path.parent == tmp_path / "out" and not list(done.path.parent.glob("*.part"))
    [submit] = fal_env.submits()
    assert submit["path"] == "/fal-ai/kling-video/v2.6/pro/image-to-video"
    assert submit["headers"]["authorization"] == f"Key {KEY}"
    body = submit["json"]
    assert body["prompt"] == "a king says hello" and body["duration"] == "10"
    assert body["generate_audio"] is False and "voice_ids" not in body
    for key, tensor in (("start_image_url", start), ("end_image_url", end)):
        head, payload = body[key].split(",", 1)
        assert head == "data:image/png;base64"
        pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB"))
        assert np.array_equal(pixels, (tensor[0].numpy() * 255 + 0.5).astype(np.uint8))
    assert done.request_id == submit["request_id"] and done.request_id in done.path.name
    # followed through one status stream, not polling; the CDN never sees the key
    assert fal_env.count("stream") == 1 and fal_env.count("status") == 0
    assert all("authorization" not in r["headers"] for r in fal_env.requests("file"))
    phases = [u.phase for u in updates]
    assert phases[0] == "submitting" and phases[-1] == "done"
    assert {"queued", "running", "downloading"} <= set(phases)
    assert any("queued at position" in u.text for u in updates)
    # fal resends its whole log list with every event: each line reaches the display once
    lines = [line for u in updates for line in u.log_lines]
    assert lines == ["Starting video generation", "Generating frames", "Encoding video"]
    assert prepared.cost.usd == pytest.approx(0.70)


def test_t2v_body(fal_env, tmp_path):
    run(generate(lambda: prepare(T2V, {"prompt": "rain", "duration": "5", "aspect_ratio": "1:1",
                                       "cfg_scale": 0.8, "generate_audio": True, "negative_prompt": "x"}),
                 tmp_path))
    assert fal_env.submits()[0]["json"] == {"prompt": "rain", "duration": "5", "aspect_ratio": "1:1",
                                            "negative_prompt": "x", "cfg_scale": 0.8, "generate_audio": True}


BAD_INPUTS = [
    {"start_frame": None},
    {"start_frame": torch.rand(2, 480, 640, 3)},
    {"start_frame": image(100, 400)},
    {"start_frame": image(300, 1000)},
    {"end_frame": image(299, 600)},
    {"prompt": ""},
    {"prompt": "p" * 2600},
    {"duration": "15"},
    {"voice_ids": "a, b, c"},
    {"prompt": "<<<voice_1>>> speaks"},
    {"generate_audio": None},
    {"negative_prompt": "n" * 2501},
]


@pytest.mark.parametrize("override", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
def test_bad_inputs_send_nothing(fal_env, tmp_path, override):
    inputs = {"start_frame": image(), "prompt": "ok", **override}
    with pytest.raises(InputError):
        run(generate(lambda: prepare(I2V, inputs), tmp_path))
    assert fal_env.log == []


def test_missing_key_sends_nothing(fal_env, tmp_path, monkeypatch):
    monkeypatch.delenv("FAL_KEY")
    monkeypatch.delenv("FAL_KEY_ID", raising=False)
    with pytest.raises(MissingCredentials, match="FAL_KEY"):
        run(t2v(tmp_path))
    assert fal_env.log == []


def test_key_id_and_secret_are_joined(fal_env, tmp_path, monkeypatch):
    monkeypatch.delenv("FAL_KEY")
    monkeypatch.setenv("FAL_KEY_ID", "test-key")
    monkeypatch.setenv("FAL_KEY_SECRET", "0123456789")
    fal_env.key = "test-key:0123456789"
    run(t2v(tmp_path))
    assert fal_env.submits()[0]["headers"]["authorization"] == "Key test-key:0123456789"


@pytest.mark.parametrize("forbid", [False, True])
def test_rejected_key_says_how_to_fix(fal_env, tmp_path, forbid, captured_logs):
    if forbid:
        fal_env.forbid = True
    else:
        fal_env.key = "another-key-entirely"
    with pytest.raises(ProviderError) as err:
        run(t2v(tmp_path))
    message = str(err.value)
    assert f"HTTP {403 if forbid else 401}" in message and "FAL_KEY" in message
    assert "fal.ai/dashboard/keys" in message
    assert fal_env.count("submit") == 1
    assert KEY not in message and KEY not in captured_logs.text


def test_422_names_field_and_provider_message(fal_env, tmp_path):
    # A body as a pack with last generation's field names would send it (image_url to v2.6).
    body = {"prompt": "x", "image_url": "https://example.com/a.png"}
    prepared = PreparedRequest(I2V, body, estimate_cost(I2V, body))
    with pytest.raises(ProviderError) as err:
        run(Job(prepared, tmp_path).run())
    assert err.value.status == 422
    assert "start_image_url" in str(err.value) and "image_url" in str(err.value)
    assert fal_env.count("submit") == 1


def test_completed_with_error_is_shown(fal_env, tmp_path):
    fal_env.next_outcome = ("error", {"error": "Kling refused the image: face detection failed",
                                      "error_type": "content_policy_violation", "result_status": 422,
                                      "result_body": {"detail": [{"loc": ["body", "start_image_url"],
                                                                  "msg": "face detection failed",
                                                                  "type": "content_policy_violation"}]}})
    with pytest.raises(JobFailed) as err:
        run(t2v(tmp_path))
    text = str(err.value)
    assert "face detection failed" in text and "content_policy_violation" in text
    assert err.value.request_id == fal_env.submits()[0]["request_id"]
    assert fal_env.count("file") == 0


@pytest.mark.parametrize("op,status,headers", [
    ("status", 429, {"Retry-After": "0"}), ("status", 500, {}), ("stream", 503, {}),
    ("result", 429, {"Retry-After": "0"}), ("result", 502, {}),
])
def test_transient_errors_are_retried(fal_env, tmp_path, op, status, headers):
    fal_env.inject(op, status=status, body={"detail": "busy"}, headers=headers, times=2)
    if op == "status":  # status is only asked after the stream breaks
        fal_env.inject("stream", reset=True)
    _, done = run(t2v(tmp_path))
    assert done.path.read_bytes() == fal_env.video_bytes
    assert fal_env.count("submit") == 1


def test_submit_retried_only_when_nothing_was_created(fal_env, tmp_path):
    fal_env.inject("submit", status=429, body={"detail": "Too many requests"}, headers={"Retry-After": "0"})
    fal_env.inject("submit", status=503, body="<html>503 nginx</html>")  # ingress: no request id
    run(t2v(tmp_path))
    assert fal_env.count("submit") == 3 and len(fal_env.jobs) == 1


@pytest.mark.parametrize("fault", [
    dict(reset=True, process=True),                      # job created, answer lost
    dict(status=500, body={"detail": "Internal error"}, headers={"x-fal-request-id": "r1"}),
])
def test_submit_never_repeated_when_a_job_may_exist(fal_env, tmp_path, fault):
    fal_env.inject("submit", **fault)
    with pytest.raises(ProviderError) as err:
        run(t2v(tmp_path))
    assert fal_env.count("submit") == 1
    if fault.get("reset"):
        assert "not repeated" in str(err.value)


def test_stream_unavailable_falls_back_to_polling(fal_env, tmp_path):
    fal_env.inject("stream", status=404, body={"detail": "Not Found"})
    _, done = run(t2v(tmp_path, limits=Limits(poll_interval=0.2)))
    assert done.path.exists() and fal_env.count("status") >= 1


def test_broken_stream_reconnects(fal_env, tmp_path):
    fal_env.inject("stream", truncate_at=1, times=2)
    _, done = run(t2v(tmp_path))
    assert done.path.exists() and fal_env.count("stream") >= 2 and fal_env.count("submit") == 1


def test_download_resumes_after_a_drop(fal_env, tmp_path):
    fal_env.inject("file", truncate_at=1000)
    _, done = run(t2v(tmp_path))
    assert done.path.read_bytes() == fal_env.video_bytes
    files = fal_env.requests("file")
    assert len(files) == 2 and files[1]["headers"].get("range") == "bytes=1000-"


def test_download_cap(fal_env, tmp_path):
    with pytest.raises(ProviderError, match="MAX_DOWNLOAD"):
        run(t2v(tmp_path, limits=Limits(max_download=100)))


def test_interrupt_cancels_the_fal_request(fal_env, tmp_path):
    fal_env.queue_seconds = 5
    flag = threading.Event()
    seen = []

    def on_update(u):
        seen.append(u)
        if u.phase == "queued":
            flag.set()

    with pytest.raises(Interrupted) as err:
        run(t2v(tmp_path, on_update=on_update, interrupted=flag.is_set))
    [cancel] = fal_env.requests("cancel")
    rid = fal_env.submits()[0]["request_id"]
    assert cancel["method"] == "PUT" and cancel["path"] == f"/fal-ai/kling-video/requests/{rid}/cancel"
    assert rid in str(err.value) and fal_env.jobs[rid].cancelled


def test_queue_wait_limit_cancels(fal_env, tmp_path):
    fal_env.hold = True
    with pytest.raises(ProviderError, match="still queued"):
        run(t2v(tmp_path, limits=Limits(queue_wait=0.5)))
    assert fal_env.count("cancel") == 1


def test_overall_deadline(fal_env, tmp_path):
    fal_env.progress_seconds = 5
    with pytest.raises(ProviderError, match="KLING_VIDEO_TIMEOUT"):
        run(t2v(tmp_path, limits=Limits(deadline=1.0)))
    assert fal_env.count("cancel") == 1


def test_two_jobs_overlap(fal_env, tmp_path):
    fal_env.progress_seconds = 1.0

    async def both():
        return await asyncio.gather(
            generate(lambda: prepare(T2V, {"prompt": "boat one"}), tmp_path / "a"),
            generate(lambda: prepare(T2V, {"prompt": "boat two"}), tmp_path / "b"))

    (_, a), (_, b) = run(both())
    submits = fal_env.submits()
    first_done = min(e["t"] for e in fal_env.events("completed"))
    assert len(submits) == 2 and max(s["t"] for s in submits) < first_done
    assert a.request_id != b.request_id


def test_no_key_or_data_uri_in_logs_and_errors(fal_env, tmp_path, captured_logs):
    fal_env.next_outcome = ("error", {"error": f"echo {KEY}", "result_status": 500,
                                      "result_body": {"detail": f"bad key {KEY}"}})
    with pytest.raises(JobFailed) as err:
        run(generate(lambda: prepare(I2V, {"start_frame": image(), "prompt": "p"}), tmp_path))
    assert KEY not in str(err.value) and "<FAL_KEY>" in str(err.value)
    assert KEY not in captured_logs.text
    assert "base64,iVBOR" not in captured_logs.text


def test_identical_concurrent_requests_share_one_job(fal_env, tmp_path):
    async def both():
        return await asyncio.gather(t2v(tmp_path / "a"), t2v(tmp_path / "b"))

    (_, a), (_, b) = run(both())
    assert a == b and fal_env.count("submit") == 1


def test_same_request_in_one_process_is_not_paid_twice(fal_env, tmp_path):
    _, first = run(t2v(tmp_path))
    updates = []
    _, again = run(t2v(tmp_path, on_update=updates.append))
    assert again == first and fal_env.count("submit") == 1
    assert "no new charge" in updates[-1].text
    first.path.unlink()  # the file is gone: fetched again from fal's result, not paid again
    _, third = run(t2v(tmp_path))
    assert fal_env.count("submit") == 1 and fal_env.count("file") == 2
    assert third.path.read_bytes() == fal_env.video_bytes
    _, take = run(t2v(tmp_path, take=1))  # a new take is a new paid job
    assert fal_env.count("submit") == 2 and take.request_id != first.request_id
