"""A paid result is never lost and never paid for twice, and the spend cap holds (issue 12, holes 1-5):
unpriced jobs count against the cap, the check and the reservation are one step across coroutines and
processes, every submit attempt has its own id, a cancel the provider ignores loses nothing, and two
processes on one journal share one job."""
import asyncio
import json
import os
import pathlib
import signal
import subprocess
import sys

import av
import pytest

from comfyui_kling_video.nodes.jobs import panel as jobs_panel
from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.core.errors import Interrupted, KlingError, ProviderError
from comfyui_kling_video.nodes.jobs.generate import generate, request_hash
from comfyui_kling_video.nodes.jobs.journal import Journal
from comfyui_kling_video.nodes.jobs.spend import SpendCapReached
from comfyui_kling_video.nodes.request import prepare
from conftest import wait_for

ROOT = pathlib.Path(__file__).resolve().parents[1]
T2V = variant("t2v")  # v2.6 Pro text to video: $0.70 for 5 s with audio on fal


def t2v(tmp_path, prompt, provider="fal", **options):
    return generate(lambda: prepare(T2V, {"prompt": prompt}, provider), tmp_path / "out", **options)


def spend_lines():
    path = Journal().spend.path
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def plays(path) -> bool:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0)) > 0


# -- hole 1: a job without a published price spends its upper estimate ---------------------------------

def test_unpriced_jobs_count_what_the_cap_counted(fal_env, tmp_path, monkeypatch):
    unpriced = variant("v1.6-pro-t2v")  # fal publishes no price for it
    estimate = prepare(unpriced, {"prompt": "x"}).cost.capped_usd
    assert estimate and prepare(unpriced, {"prompt": "x"}).cost.usd is None
    monkeypatch.setenv("KLING_VIDEO_MAX_USD", f"{estimate * 1.5:.2f}")  # room for one, not two
    run = lambda prompt: asyncio.run(generate(lambda: prepare(unpriced, {"prompt": prompt}), tmp_path))
    run("first")
    with pytest.raises(SpendCapReached):
        run("second")
    with pytest.raises(SpendCapReached):
        run("third")
    assert fal_env.count("submit") == 1
    [line] = spend_lines()
    assert line["price"] == pytest.approx(estimate) and line["price_known"] is False
    assert "upper estimate" in line["estimate"]
    assert Journal().spend.spent_today() == pytest.approx(estimate)


# -- hole 2: check and reservation in one step ---------------------------------------------------------

def test_two_jobs_started_together_cannot_both_pass_the_cap(fal_env, tmp_path, monkeypatch):
    monkeypatch.setenv("KLING_VIDEO_MAX_USD", "1.00")
    fal_env.inject("submit", delay=0.5, times=2)  # both are checked while the other's submit is in flight

    async def both():
        return await asyncio.gather(t2v(tmp_path, "one"), t2v(tmp_path, "two"), return_exceptions=True)

    results = asyncio.run(both())
    assert sorted(type(r).__name__ for r in results) == ["SpendCapReached", "tuple"]
    assert fal_env.count("submit") == 1
    assert Journal().spend.spent_today() == pytest.approx(0.70)
    assert not json.loads(Journal().spend.reservations_path.read_text())  # nothing left reserved


def test_a_refused_submit_gives_its_reservation_back_to_the_waiting_job(fal_env, tmp_path, monkeypatch):
    monkeypatch.setenv("KLING_VIDEO_MAX_USD", "1.00")
    # the first submit to arrive is refused by fal after a while; the other job waits for it, then goes
    fal_env.inject("submit", status=422, body={"detail": [{"loc": ["body", "prompt"], "msg": "refused"}]},
                   delay=0.8)

    async def both():
        first = asyncio.ensure_future(t2v(tmp_path, "one"))
        await asyncio.sleep(0.3)
        second = asyncio.ensure_future(t2v(tmp_path, "two"))
        return await asyncio.gather(first, second, return_exceptions=True)

    first, second = asyncio.run(both())
    assert isinstance(first, ProviderError) and first.status == 422
    assert isinstance(second, tuple) and second[1].path.read_bytes() == fal_env.video_bytes
    assert Journal().spend.spent_today() == pytest.approx(0.70)


def cli(tmp_path, prompt, out, *extra):
    return subprocess.Popen([sys.executable, str(ROOT), "t2v", "--prompt", prompt, "--out", str(out), *extra],
                            env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_cannot_both_pass_the_cap(fal_env, tmp_path, monkeypatch):
    monkeypatch.setenv("KLING_VIDEO_MAX_USD", "1.00")
    fal_env.inject("submit", delay=1.0, times=2)
    procs = [cli(tmp_path, f"process {i}", tmp_path / f"{i}.mp4") for i in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 1], results
    assert fal_env.count("submit") == 1
    refused = next(err for p, (_, err) in zip(procs, results) if p.returncode == 1)
    assert "spend cap reached" in refused and "Traceback" not in refused
    assert Journal().spend.spent_today() == pytest.approx(0.70)


# -- hole 3: each submit attempt has its own id ----------------------------------------------------------

@pytest.mark.parametrize("any_provider", ["kling", "vercel"], indirect=True)
def test_a_failed_job_is_submitted_anew_with_a_new_id(any_provider, tmp_path):
    name, fake = any_provider
    fake.next_outcome = ("error", {"message": "the model failed", "error": "the model failed"})
    with pytest.raises(KlingError, match="failed"):
        asyncio.run(t2v(tmp_path, "retry me", name))
    _, done = asyncio.run(t2v(tmp_path, "retry me", name))  # README: a failed job is submitted anew
    assert done.path.read_bytes() == fake.video_bytes
    assert len(fake.jobs) == 2
    ids = [s["json"]["external_task_id"] if name == "kling" else s["headers"]["idempotency-key"]
           for s in fake.submits()]
    assert len(ids) == 2 and ids[0] != ids[1]
    [record] = Journal().all()
    assert record["state"] == "downloaded" and record["attempt"] == 2


@pytest.mark.parametrize("any_provider", ["kling", "vercel"], indirect=True)
def test_a_cut_off_retry_is_recovered_by_the_id_of_the_attempt_in_flight(any_provider, tmp_path):
    name, fake = any_provider
    fake.next_outcome = ("error", {"message": "the model failed", "error": "the model failed"})
    with pytest.raises(KlingError):
        asyncio.run(t2v(tmp_path, "cut", name))
    fake.inject("start" if name == "vercel" else "submit", reset=True, process=True)  # attempt 2 made, answer lost
    _, done = asyncio.run(t2v(tmp_path, "cut", name))
    assert done.path.read_bytes() == fake.video_bytes
    assert len(fake.jobs) == 2  # the failed one and attempt 2: never a third


# -- hole 4: a cancel the provider ignores ---------------------------------------------------------------

def interrupt_when_running(fake):
    return lambda: any(fake.status_of(s["request_id"]) == "IN_PROGRESS" for s in fake.submits()
                       if s.get("request_id"))


def test_an_ignored_cancel_is_collected_by_the_next_run_at_no_cost(fal_env, tmp_path):
    fal_env.ignore_cancel_when_running = True
    fal_env.queue_seconds, fal_env.progress_seconds = 0.1, 1.5
    with pytest.raises(Interrupted) as err:
        asyncio.run(t2v(tmp_path, "ignored", interrupted=interrupt_when_running(fal_env)))
    assert "collect it at no new cost" in str(err.value)
    assert fal_env.count("cancel") == 1
    [record] = Journal().all()
    assert record["state"] == "cancelled" and record["request_id"]
    wait_for(lambda: fal_env.events("completed"))  # fal finished (and billed) it anyway
    updates = []
    _, done = asyncio.run(t2v(tmp_path, "ignored", on_update=updates.append))
    assert fal_env.count("submit") == 1 and done.path.read_bytes() == fal_env.video_bytes
    assert any("cancelled earlier" in u.text for u in updates)


def test_collect_in_the_jobs_panel_takes_an_ignored_cancel(fal_env, tmp_path):
    fal_env.ignore_cancel_when_running = True
    fal_env.queue_seconds, fal_env.progress_seconds = 0.1, 1.5
    with pytest.raises(Interrupted):
        asyncio.run(t2v(tmp_path, "panel", interrupted=interrupt_when_running(fal_env)))
    [entry] = jobs_panel.list_jobs()
    assert entry["collectable"]
    saved = asyncio.run(jobs_panel.collect(entry["hash"], tmp_path))
    assert fal_env.count("submit") == 1
    assert pathlib.Path(tmp_path, "kling-video").exists() and saved


def test_a_cancel_that_took_is_submitted_anew_but_never_by_collect(fal_env, tmp_path):
    fal_env.queue_seconds = 5  # cancelled while queued: fal honours it
    with pytest.raises(Interrupted):
        asyncio.run(t2v(tmp_path, "took", interrupted=lambda: bool(fal_env.submits())))
    key = Journal().all()[0]["key"]
    with pytest.raises(KlingError, match="nothing to collect"):
        asyncio.run(jobs_panel.collect(key, tmp_path))
    assert fal_env.count("submit") == 1
    fal_env.queue_seconds = 0.1
    _, done = asyncio.run(t2v(tmp_path, "took"))
    assert fal_env.count("submit") == 2 and done.path.read_bytes() == fal_env.video_bytes


# -- hole 5: two processes, one journal ------------------------------------------------------------------

def test_two_processes_with_the_same_request_share_one_job(fal_env, tmp_path):
    fal_env.queue_seconds, fal_env.progress_seconds = 0.2, 1.0
    # slow downloads: without a lock both processes would write the same result file at once
    fal_env.inject("file", delay=1.5, times=2)
    procs = [cli(tmp_path, "same request", tmp_path / f"{i}.mp4") for i in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err
        assert "Traceback" not in err and "damaged" not in err
    # one job, one download: the second process took the first one's file
    assert fal_env.count("submit") == 1 and fal_env.count("file") == 1
    for i in range(2):
        assert (tmp_path / f"{i}.mp4").read_bytes() == fal_env.video_bytes and plays(tmp_path / f"{i}.mp4")
    home = pathlib.Path(os.environ["KLING_VIDEO_HOME"])
    assert not list(home.rglob("*.part"))


def test_kill_9_of_the_first_process_mid_download_hands_the_job_to_the_second(fal_env, tmp_path):
    fal_env.queue_seconds, fal_env.progress_seconds = 0.1, 0.3
    fal_env.inject("file", delay=30)  # the first download hangs until it is killed
    first = cli(tmp_path, "killed", tmp_path / "first.mp4")
    wait_for(lambda: fal_env.count("file") == 1)
    second = cli(tmp_path, "killed", tmp_path / "second.mp4")  # waits on the first's lock
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert "Traceback" not in err
    assert fal_env.count("submit") == 1
    assert (tmp_path / "second.mp4").read_bytes() == fal_env.video_bytes and plays(tmp_path / "second.mp4")


def test_a_request_being_run_elsewhere_is_waited_for_not_submitted(fal_env, tmp_path):
    """In one process too: a job holding the request's lock (another thread's, like a second ComfyUI
    worker) makes the same request wait, then read its result."""
    from comfyui_kling_video.nodes.core.filelock import FileLock
    prepared = prepare(T2V, {"prompt": "held"})
    lock = FileLock(Journal().jobs / f"{request_hash(prepared)}.lock")
    assert lock.try_acquire()
    updates = []

    async def scenario():
        task = asyncio.ensure_future(t2v(tmp_path, "held", on_update=updates.append))
        await asyncio.sleep(0.5)
        assert not task.done() and fal_env.count("submit") == 0
        lock.release()
        return await task

    _, done = asyncio.run(scenario())
    assert any("another process" in u.text for u in updates)
    assert done.path.read_bytes() == fal_env.video_bytes and fal_env.count("submit") == 1
