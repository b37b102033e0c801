"""`python . batch` running: jobs in flight per provider, the providers' "too many" answers (fal's 429 with
Retry-After, Kling's 1303), and a batch stopped by kill -9, a failed job or Ctrl-C, then run again (issue 17)."""
import signal
import time

from batch_support import (FINISHED, accepted, batch, environ, fal, kling, results, shots, start,  # noqa: F401
                           video_bytes, write_jsonl)
from conftest import wait_for


def finished(out) -> list[str]:
    return [row["id"] for row in results(out / "results.jsonl") if row["status"] in FINISHED]


def held_and_followed(fal) -> list[str]:
    """Jobs held in fal's queue whose status the pack asks: it has journaled their request ids."""
    asked = " ".join(e["path"] for e in fal.requests() if e["op"] in ("status", "stream"))
    return [rid for rid, job in list(fal.jobs.items()) if job.t_release is None and rid in asked]


def test_at_most_n_jobs_in_flight(fal, tmp_path):
    fal.progress_seconds = 0.8  # long enough for the lane to fill, on a busy machine too
    manifest = write_jsonl(tmp_path / "jobs.jsonl", shots(7))
    r = batch(manifest, "--concurrency", "3", env=environ(tmp_path / "home", fal))
    assert r.returncode == 0, r.stderr
    assert fal.peak_in_flight() == 3 and len(fal.jobs) == 7
    assert len(finished(tmp_path / "jobs_outputs")) == 7


def test_fal_concurrency_limit_slows_the_batch_down(fal, tmp_path):
    """An account limit below --concurrency: fal's 429s hold the lane, and no job fails or is paid twice."""
    fal.concurrency_limit = 2
    manifest = write_jsonl(tmp_path / "jobs.jsonl", shots(6))
    r = batch(manifest, "--concurrency", "5", env=environ(tmp_path / "home", fal))
    assert r.returncode == 0, r.stderr
    refused = [e for e in fal.submits() if e["http_status"] == 429]
    assert refused, "the account's limit was never reached: the test proves nothing"
    assert len(accepted(fal)) == len(fal.jobs) == 6 and fal.peak_in_flight() <= 2
    rows = results(tmp_path / "jobs_outputs" / "results.jsonl")
    assert [row["status"] for row in rows] == ["done"] * 6
    assert len({row["request_id"] for row in rows}) == 6


def test_kling_1303_slows_the_batch_down(kling, tmp_path):
    kling.concurrency_limit = 2
    manifest = write_jsonl(tmp_path / "jobs.jsonl", shots(4, provider="kling"))
    r = batch(manifest, "--concurrency", "4", env=environ(tmp_path / "home", kling))
    assert r.returncode == 0, r.stderr
    assert kling.count("submit") > 4, "no 1303 was answered: the test proves nothing"
    assert len(kling.submits()) == len(kling.jobs) == 4 and kling.peak_in_flight() <= 2
    assert [row["status"] for row in results(tmp_path / "jobs_outputs" / "results.jsonl")] == ["done"] * 4


def test_kill_9_half_way_then_the_same_command_pays_nothing_twice(fal, tmp_path):
    manifest = write_jsonl(tmp_path / "jobs.jsonl", shots(12))
    env = environ(tmp_path / "home", fal)
    proc = start(manifest, "--concurrency", "4", env=env)
    try:
        wait_for(lambda: len(fal.events("completed")) >= 4 or proc.poll() is not None, timeout=60)
        # Killed while its four jobs wait in fal's queue, not half-way through a submit: a submit cut off
        # before its answer is a job the pack cannot find again at fal (it says so, and never pays twice).
        fal.hold = True
        wait_for(lambda: len(held_and_followed(fal)) == 4 or proc.poll() is not None, timeout=60)
    finally:
        proc.kill()  # SIGKILL: no cleanup of any kind
        proc.communicate()
    made = len(fal.jobs)
    assert proc.returncode == -signal.SIGKILL and 8 <= made < 12, made
    fal.release()
    r = batch(manifest, "--concurrency", "4", env=env)
    assert r.returncode == 0, r.stderr
    rows = results(tmp_path / "jobs_outputs" / "results.jsonl")
    assert [row["id"] for row in rows] == [f"s{i}" for i in range(12)]
    assert all(row["status"] in FINISHED for row in rows), rows
    assert len(accepted(fal)) == len(fal.jobs) == 12
    assert len({row["request_id"] for row in rows}) == 12
    # Those the first run paid for: copied from the journal, or collected from fal, at no new charge.
    assert sum(not row["paid_now"] for row in rows) == made
    assert sum(row["status"] == "reattached" for row in rows) >= 4


def test_a_failed_job_stays_failed_unless_retry_failed(fal, tmp_path):
    fal.next_outcome = ("error", {"error": "Content policy violation", "error_type": "content_policy_violation",
                                  "result_status": 422})
    manifest = write_jsonl(tmp_path / "jobs.jsonl", shots(3))
    env = environ(tmp_path / "home", fal)
    out = tmp_path / "jobs_outputs"
    r = batch(manifest, "--concurrency", "1", env=env)  # one at a time: the first job gets the failure
    assert r.returncode == 1, r.stderr
    rows = results(out / "results.jsonl")
    assert [row["status"] for row in rows] == ["failed", "done", "done"] and len(fal.jobs) == 3
    r = batch(manifest, env=env)
    assert r.returncode == 1 and len(fal.jobs) == 3
    rows = results(out / "results.jsonl")
    assert [row["status"] for row in rows] == ["failed earlier", "cached", "cached"]
    assert "--retry-failed" in rows[0]["error"]
    r = batch(manifest, "--retry-failed", env=env)
    assert r.returncode == 0, r.stderr
    assert [row["status"] for row in results(out / "results.jsonl")] == ["done", "cached", "cached"]
    assert len(accepted(fal)) == len(fal.jobs) == 4 and (out / "s0.mp4").read_bytes() == fal.video_bytes


def test_ctrl_c_stops_new_submits_and_lets_running_jobs_finish(fal, tmp_path):
    fal.hold = True  # the jobs stay queued until the test has pressed Ctrl-C
    manifest = write_jsonl(tmp_path / "jobs.jsonl", shots(6))
    env = environ(tmp_path / "home", fal)
    proc = start(manifest, "--concurrency", "2", env=env)
    try:
        wait_for(lambda: len(fal.jobs) == 2 or proc.poll() is not None, timeout=60)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert proc.poll() is None, "quit before its running jobs finished"
        fal.release()
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "stopping: no new jobs" in stderr and len(fal.jobs) == 2
    rows = results(tmp_path / "jobs_outputs" / "results.jsonl")
    assert [row["status"] for row in rows].count("done") == 2
    assert [row["status"] for row in rows].count("not run") == 4
    r = batch(manifest, "--concurrency", "2", env=env)
    assert r.returncode == 0, r.stderr
    assert len(finished(tmp_path / "jobs_outputs")) == 6 and len(accepted(fal)) == len(fal.jobs) == 6


def test_a_locked_account_stops_its_provider_after_one_refusal(fal, tmp_path):
    """fal's 403 "User is locked" (no balance) would refuse every job alike: the first refusal stops the
    lane, and the rest are "not run", not sent."""
    fal.forbid = True
    manifest = write_jsonl(tmp_path / "jobs.jsonl", shots(4))
    r = batch(manifest, "--concurrency", "1", env=environ(tmp_path / "home", fal))
    assert r.returncode == 1, r.stderr
    rows = results(tmp_path / "jobs_outputs" / "results.jsonl")
    assert [row["status"] for row in rows] == ["failed", "not run", "not run", "not run"]
    assert "403" in rows[0]["error"] and "refused an earlier job" in rows[1]["error"]
    assert len(fal.submits()) == 1 and not fal.jobs


def test_on_a_terminal_one_bar_with_the_counts_in_a_log_one_line_per_job(fal, tmp_path):
    """The display the issue asks for: on a terminal (a real pty) tqdm's bar with done / running / queued /
    failed, the spend and the time left; in a pipe, a plain line per finished job and no bar."""
    import os
    import pty
    import subprocess
    from batch_support import command
    manifest = write_jsonl(tmp_path / "jobs.jsonl", shots(3))
    import fcntl
    import struct
    import termios
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # the classic 80 columns
    proc = subprocess.Popen(command(manifest, "--concurrency", "2"), env=environ(tmp_path / "home", fal),
                            stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert proc.wait(timeout=60) == 0
    text = shown.decode(errors="replace")
    last = [part for part in text.split("\r") if "done 3/3" in part][-1]
    # The bar, redrawn in place, whole within 80 columns: counts, spend and time left.
    assert last.startswith("|████████| done 3/3 · running 0 · queued 0 · failed 0 · $2.10 · 00:00 left"), last
    assert "s0 (line 1) done: fal.ai request" in text
    piped = batch(manifest, "--concurrency", "2", env=environ(tmp_path / "home2", fal))
    assert piped.returncode == 0 and "\r" not in piped.stderr and "|" not in piped.stderr.split("\n")[-2]
    assert [line.split(" (")[0] for line in piped.stderr.splitlines() if " done: fal.ai request " in line] \
        and sum(" done: fal.ai request " in line for line in piped.stderr.splitlines()) == 3
