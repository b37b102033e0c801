"""Never lose a paid result, never pay twice: crashes (kill -9), the journal, the cache, the spend cap."""
import asyncio
import json
import os
import pathlib
import signal
import subprocess
import sys

import av
import pytest

from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.core.errors import KlingError, ProviderError
from comfyui_kling_video.nodes.jobs.generate import generate, request_hash
from comfyui_kling_video.nodes.jobs.journal import Journal
from comfyui_kling_video.nodes.jobs.spend import SpendCapReached
from comfyui_kling_video.nodes.request import prepare
from conftest import wait_for

ROOT = pathlib.Path(__file__).resolve().parents[1]
T2V = variant("t2v")


def start_cli(out, *extra):
    env = {**os.environ}
    return subprocess.Popen([sys.executable, str(ROOT), "t2v", "--prompt", "crash test", "--out", str(out), *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def plays(path):
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0)) > 0


@pytest.mark.parametrize("phase", ["in_progress", "downloading"])
def test_kill_9_then_rerun_reattaches(fal_env, tmp_path, phase):
    fal_env.queue_seconds, fal_env.progress_seconds = 0.2, 3.0
    if phase == "downloading":
        fal_env.progress_seconds = 0.3
        fal_env.inject("file", delay=30)  # the download hangs until we kill the process
    proc = start_cli(tmp_path / "out.mp4")
    if phase == "in_progress":
        # (the fake logs a submit before it has given it a request id)
        wait_for(lambda: fal_env.submits() and fal_env.submits()[0].get("request_id")
                 and fal_env.status_of(fal_env.submits()[0]["request_id"]) == "IN_PROGRESS")
    else:
        wait_for(lambda: fal_env.count("file") == 1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert not (tmp_path / "out.mp4").exists()
    rerun = start_cli(tmp_path / "out.mp4")
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    assert "reattached" in err and "no new charge" in err
    assert fal_env.count("submit") == 1
    assert (tmp_path / "out.mp4").read_bytes() == fal_env.video_bytes and plays(tmp_path / "out.mp4")
    # and a third run is a free cache hit: no request to fal at all
    before = len(fal_env.log)
    third = start_cli(tmp_path / "again.mp4")
    _, err = third.communicate(timeout=60)
    assert third.returncode == 0 and "cached result" in err
    assert [e for e in fal_env.log[before:] if e.get("op")] == []


def t2v(tmp_path, prompt="journal", **options):
    return generate(lambda: prepare(T2V, {"prompt": prompt}), tmp_path / "out", **options)


def test_journal_records_every_step_and_spend(fal_env, tmp_path):
    _, done = asyncio.run(t2v(tmp_path))
    journal = Journal()
    [record] = journal.all()
    assert record["state"] == "downloaded" and record["request_id"] == done.request_id
    assert record["path"] == str(done.path) and record["endpoint"] == T2V.endpoint
    [line] = journal.spend.path.read_text().splitlines()
    spend = json.loads(line)
    assert {"time", "provider", "endpoint", "request_id", "seconds", "audio", "price"} <= set(spend)
    assert spend["price"] == pytest.approx(0.70) and spend["audio"] is True and spend["seconds"] == 5


def test_failed_job_is_not_reattached(fal_env, tmp_path):
    fal_env.next_outcome = ("error", {"error": "boom", "error_type": "internal_error"})
    with pytest.raises(KlingError):
        asyncio.run(t2v(tmp_path))
    asyncio.run(t2v(tmp_path))
    assert fal_env.count("submit") == 2
    assert Journal().all()[0]["state"] == "downloaded"


def test_interrupted_and_cancelled_job_is_submitted_again(fal_env, tmp_path):
    fal_env.queue_seconds = 5
    with pytest.raises(KlingError):
        asyncio.run(t2v(tmp_path, interrupted=lambda: True))
    assert Journal().all()[0]["state"] == "cancelled"
    fal_env.queue_seconds = 0.2
    asyncio.run(t2v(tmp_path))
    assert fal_env.count("submit") == 2


def test_cancel_racing_completion_keeps_the_result(fal_env, tmp_path):
    fal_env.queue_seconds, fal_env.progress_seconds = 0.1, 0.2
    seen = []

    def interrupted():
        # interrupt only once the job is done at fal: the cancel then answers ALREADY_COMPLETED
        return bool(fal_env.events("completed")) and not seen.append(1)

    fal_env.inject("result", delay=1.0)  # keep us in the result fetch while the interrupt lands
    with pytest.raises(KlingError) as err:
        asyncio.run(t2v(tmp_path, interrupted=interrupted))
    assert "collect it" in str(err.value)
    assert Journal().all()[0]["state"] in ("submitted", "completed")
    _, done = asyncio.run(t2v(tmp_path))  # collected, not paid again
    assert fal_env.count("submit") == 1 and done.path.read_bytes() == fal_env.video_bytes


def test_corrupt_journal_entry_is_skipped_with_a_warning(fal_env, tmp_path, caplog):
    prepared = prepare(T2V, {"prompt": "journal"})
    journal = Journal()
    journal.jobs.mkdir(parents=True)
    (journal.jobs / f"{request_hash(prepared)}.json").write_text('{"state": "submitted", "request_')
    (journal.jobs / "other.json").write_text("garbage")
    asyncio.run(t2v(tmp_path))
    assert "skipping unreadable journal entry" in caplog.text
    assert fal_env.count("submit") == 1


def test_submit_cut_off_before_an_answer_is_not_repeated(fal_env, tmp_path):
    fal_env.inject("submit", reset=True, process=True)  # fal made the job, the answer was lost
    with pytest.raises(ProviderError):
        asyncio.run(t2v(tmp_path))
    with pytest.raises(ProviderError, match="raise `take`"):
        asyncio.run(t2v(tmp_path))
    assert fal_env.count("submit") == 1
    asyncio.run(t2v(tmp_path, take=1))
    assert fal_env.count("submit") == 2


def test_damaged_download_is_fetched_again(fal_env, tmp_path):
    size = len(fal_env.video_bytes)
    # The CDN sends a complete-looking response that is cut short (Content-Length matches what it sends).
    fal_env.inject("file", status=200, body=fal_env.video_bytes[: size // 2],
                   headers={"Content-Type": "video/mp4"}, content_type="video/mp4")
    _, done = asyncio.run(t2v(tmp_path))
    assert done.path.read_bytes() == fal_env.video_bytes and fal_env.count("file") == 2
    assert list(done.path.parent.glob("*.damaged"))


def test_spend_cap_refuses_before_sending(fal_env, tmp_path, monkeypatch):
    monkeypatch.setenv("KLING_VIDEO_MAX_USD", "1.00")
    asyncio.run(t2v(tmp_path, prompt="first"))  # $0.70
    with pytest.raises(SpendCapReached) as err:
        asyncio.run(t2v(tmp_path, prompt="second"))  # would be $1.40 today
    assert "KLING_VIDEO_MAX_USD" in str(err.value) and "$0.70" in str(err.value)
    assert fal_env.count("submit") == 1
    asyncio.run(t2v(tmp_path, prompt="first"))  # the cached one is free, so still allowed
    assert fal_env.count("submit") == 1


def test_unpriced_variant_counts_as_the_dearest_of_its_family(fal_env, tmp_path, monkeypatch):
    monkeypatch.setenv("KLING_VIDEO_MAX_USD", "0.50")
    v = variant("v1.6-pro-t2v")  # fal publishes no price
    with pytest.raises(SpendCapReached):
        asyncio.run(generate(lambda: prepare(v, {"prompt": "x"}), tmp_path))
    assert fal_env.count("submit") == 0


def test_result_url_must_be_https(fal_env, tmp_path):
    fal_env.inject("result", status=200, body={"video": {"url": f"http://{fal_env.host}/files/x/output.mp4"}})
    with pytest.raises(ProviderError, match="not https"):
        asyncio.run(t2v(tmp_path))
    assert fal_env.count("file") == 0


def test_video_damaged_twice_is_an_error_that_keeps_the_job(fal_env, tmp_path):
    half = fal_env.video_bytes[: len(fal_env.video_bytes) // 2]
    fal_env.inject("file", status=200, body=half, content_type="video/mp4", times=2)
    with pytest.raises(ProviderError, match="arrived damaged twice"):
        asyncio.run(t2v(tmp_path))
    assert Journal().all()[0]["state"] == "completed"  # the next run fetches it again, no new job
    _, done = asyncio.run(t2v(tmp_path))
    assert done.path.read_bytes() == fal_env.video_bytes and fal_env.count("submit") == 1
