"""`--out` is checked before anything is paid for; when writing it still fails after the download, the CLI says
where the paid video is, and a rerun copies it at no new cost. The CLI runs as a real subprocess against the
fake fal."""
import os
import pathlib
import subprocess
import sys

from conftest import wait_for
from test_cli import ROOT, cli, fal_cli_env


def bad_destinations(tmp_path):
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("x")
    cases = [
        (str(a_file / "x.mp4"), f"cannot make the folder {a_file}: {a_file} is a file"),
        (str(a_file / "deeper" / "x.mp4"), f"cannot make the folder {a_file / 'deeper'}: {a_file} is a file"),
    ]
    if pathlib.Path("/proc/self").is_dir():  # Linux: a folder where no file can be created, even by root
        cases.append(("/proc/x.mp4", "cannot write in /proc ("))
    return cases


def test_a_destination_that_cannot_be_written_is_refused_before_anything_is_sent(fal_env, tmp_path):
    for out, rule in bad_destinations(tmp_path):
        r = cli("t2v", "--prompt", "a boat", "--out", out, env=fal_cli_env(fal_env))
        assert r.returncode == 2, (out, r.stderr)
        assert r.stderr.startswith(f"error: --out: {rule}") and "nothing was sent" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
    assert fal_env.requests() == []


def test_a_missing_folder_is_made_and_a_folder_gets_the_default_name(fal_env, tmp_path):
    nested = tmp_path / "videos" / "today" / "boat.mp4"
    r = cli("t2v", "--prompt", "a boat", "--out", str(nested), env=fal_cli_env(fal_env))
    assert r.returncode == 0, r.stderr
    assert nested.read_bytes() == fal_env.video_bytes and r.stdout.splitlines()[0] == str(nested)

    folder = tmp_path / "videos"
    r = cli("t2v", "--prompt", "a kite", "--out", str(folder), env=fal_cli_env(fal_env))
    assert r.returncode == 0, r.stderr
    rid = fal_env.submits()[-1]["request_id"]
    written = folder / f"v2.6-pro-t2v_{rid}.mp4"
    assert r.stdout.splitlines()[0] == str(written) and written.read_bytes() == fal_env.video_bytes
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no probe or temporary left behind
    assert len(fal_env.submits()) == 2


def test_writing_that_fails_after_the_download_says_where_the_paid_video_is(fal_env, tmp_path):
    fal_env.progress_seconds = 3.0
    folder = tmp_path / "videos"
    out = folder / "boat.mp4"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FAL_", "KLINGAI_", "AIMLAPI_", "AI_GATEWAY_"))}
    proc = subprocess.Popen([sys.executable, str(ROOT), "t2v", "--prompt", "a boat", "--out", str(out)],
                            env={**base, **fal_cli_env(fal_env)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_for(lambda: fal_env.count("submit") == 1)
        folder.rmdir()  # made by the check before the submit; while the job runs it turns into a file
        folder.write_text("not a folder any more")
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr and stdout == ""
    [line] = [l for l in stderr.splitlines() if l.startswith("error:")]
    saved = pathlib.Path(line.split("is paid for and saved at ")[1].split(", but writing")[0])
    assert saved.read_bytes() == fal_env.video_bytes
    assert saved.parent == pathlib.Path(os.environ["KLING_VIDEO_HOME"]) / "outputs"
    assert f"writing {out} failed" in line and "run the command again" in line and "at no new cost" in line

    # ... and it is: the rerun copies the journal's video, without a second job.
    good = tmp_path / "elsewhere" / "boat.mp4"
    r = cli("t2v", "--prompt", "a boat", "--out", str(good), env=fal_cli_env(fal_env))
    assert r.returncode == 0, r.stderr
    assert good.read_bytes() == fal_env.video_bytes and fal_env.count("submit") == 1
    assert "no new charge" in r.stderr
