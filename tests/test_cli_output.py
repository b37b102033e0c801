"""What the CLI prints while a job runs, run as a user runs it (a subprocess against the fake fal): each
provider log line once, the progress line kept in place on a terminal (a pty here) and plain lines in a
pipe, a failure said once, only files the pack ships cited, exit status 130 on Ctrl-C with the cancel sent."""
import fcntl
import os
import pathlib
import pty
import re
import signal
import struct
import subprocess
import sys
import termios

import pytest

from conftest import wait_for
from test_cli import ROOT, cli, fal_cli_env

LOGS = [f"step {i} of the model" for i in range(12)]


@pytest.fixture
def chatty_fal(fal_env):
    """A 2 s job that logs a dozen lines: fal sends the whole log list with every status event."""
    fal_env.logs = list(LOGS)
    fal_env.progress_seconds = 2.0
    return fal_env


def popen(*args, fake, stderr, extra_env=None):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FAL_", "KLINGAI_", "AIMLAPI_", "AI_GATEWAY_"))}
    # Reset SIGINT in the child: a shell that started the test suite in the background may ignore it.
    return subprocess.Popen([sys.executable, str(ROOT), *args], env={**base, **fal_cli_env(fake), **(extra_env or {})},
                            stdout=subprocess.PIPE, stderr=stderr,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def test_in_a_pipe_each_log_line_is_said_once_in_plain_lines(chatty_fal, tmp_path):
    r = cli("t2v", "--prompt", "a boat", "--out", str(tmp_path / "boat.mp4"), env=fal_cli_env(chatty_fal))
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    for message in LOGS:
        assert lines.count(f"fal.ai: {message}") == 1, r.stderr
    assert sum(message in r.stderr for message in LOGS) == len(LOGS)  # not repeated inside other lines either
    assert "\r" not in r.stderr and "\x1b" not in r.stderr
    # A phase is one line; its progress at most every 15 s: the 2 s job prints about as many lines as it logs.
    assert len(lines) <= len(LOGS) + 8, r.stderr
    assert sum(line.startswith("[") and "running" in line for line in lines) == 1, r.stderr
    assert r.stdout.splitlines()[0] == str(tmp_path / "boat.mp4")


def read_all(fd) -> bytes:
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return out
        if not chunk:
            return out
        out += chunk


def test_on_a_terminal_the_progress_line_stays_in_place(chatty_fal, tmp_path):
    main, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = popen("t2v", "--prompt", "a boat", "--out", str(tmp_path / "boat.mp4"), fake=chatty_fal, stderr=terminal)
    os.close(terminal)
    shown = read_all(main).decode()
    os.close(main)
    stdout = proc.stdout.read().decode()
    assert proc.wait(timeout=60) == 0, shown
    assert stdout.splitlines()[0] == str(tmp_path / "boat.mp4")  # the result stays plain for scripts
    rows = shown.replace("\r\n", "\n").split("\n")
    for message in LOGS:  # each log line once, on a row of its own
        assert sum(row.endswith(f"fal.ai: {message}") for row in rows) == 1, shown
        assert shown.count(message) == 1, shown
    # The running line is redrawn with carriage returns, never a new row per update: besides the cost line,
    # the log lines and the final bar, no row is added.
    assert shown.count("running") > 1, shown
    assert len([row for row in rows if row.strip()]) <= len(LOGS) + 3, shown
    assert re.search(r"\r100% \|█+\| done in \d+ s", shown), shown


def test_a_failure_is_said_once(chatty_fal, tmp_path):
    chatty_fal.progress_seconds = 6.0
    r = cli("t2v", "--prompt", "a boat", "--out", str(tmp_path / "boat.mp4"),
            env={**fal_cli_env(chatty_fal), "KLING_VIDEO_TIMEOUT": "1"})
    assert r.returncode == 1, r.stderr
    rid = chatty_fal.submits()[0]["request_id"]
    assert r.stderr.count(rid) == 1 and r.stderr.count("not finished after 1 s") == 1, r.stderr
    [error] = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert rid in error and "cancel sent to fal.ai" in error and "command again" in error
    assert "node again" not in r.stderr and "Traceback" not in r.stderr


def test_ctrl_c_cancels_the_job_and_exits_130(chatty_fal, tmp_path):
    chatty_fal.progress_seconds = 30.0
    proc = popen("t2v", "--prompt", "a boat", "--out", str(tmp_path / "boat.mp4"), fake=chatty_fal,
                 stderr=subprocess.PIPE)
    try:
        wait_for(lambda: chatty_fal.count("submit") == 1
                 and chatty_fal.status_of(chatty_fal.submits()[0]["request_id"]) == "IN_PROGRESS")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    stderr = stderr.decode()
    assert proc.returncode == 130, stderr
    assert chatty_fal.count("cancel") == 1
    rid = chatty_fal.submits()[0]["request_id"]
    [said] = [line for line in stderr.splitlines() if line.startswith("interrupted:")]
    assert rid in said and "cancel sent to fal.ai" in said and "command again" in said, stderr
    assert stderr.count(rid) == 1 and "Traceback" not in stderr and stdout == b""
    assert not (tmp_path / "boat.mp4").exists()


def test_the_cli_cites_only_files_the_pack_ships(tmp_path):
    # An unpriced offer's cost used to cite the maintainers' reference notes (provider_protocols.md).
    out = ""
    for args in (("t2v", "--prompt", "x", "--dry-run"), ("v1.6-pro-t2v", "--prompt", "x", "--dry-run"), ("list",)):
        r = cli(*args)
        assert r.returncode == 0, r.stderr
        out += r.stdout + r.stderr
    assert "estimated cost: price unknown" in out
    shipped = set()
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("tests", "node_modules")]
        shipped.update(files)
    for cited in re.findall(r"[\w./-]+\.(?:md|py|json|txt)\b", out):
        assert (ROOT / cited).exists() or pathlib.Path(cited).name in shipped, cited
