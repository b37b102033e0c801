"""Every KLING_VIDEO_* setting is read and checked in one place (nodes/core/settings.py), before any request: a bad
value is one line naming the variable and the rule, the CLI exits 2, and the provider never hears of it."""
import logging
import os
import pathlib
import re

import pytest

from comfyui_kling_video.nodes.jobs import panel as jobs_panel
from comfyui_kling_video.nodes.media_out import decode as media_out
from comfyui_kling_video.nodes.core import settings
from test_cli import cli, fal_cli_env


# The repros of issue 12 first (a timeout that submitted and then cancelled, a threshold silently ignored, a
# home that was a traceback), then one bad value of every other setting.
BAD = [
    ("KLING_VIDEO_TIMEOUT", "-5", "must be a number of seconds, greater than 0"),
    ("KLING_VIDEO_INLINE_MAX_MB", "abc", "must be a number of megabytes, 0 or more"),
    ("KLING_VIDEO_HOME", "{file}", "must be a folder the pack can create and write to; {file} is a file"),
    ("KLING_VIDEO_HOME", "{file}/sub", "must be a folder the pack can create and write to; {file} is a file"),
    ("KLING_VIDEO_QUEUE_TIMEOUT", "0", "must be a number of seconds, greater than 0"),
    ("KLING_VIDEO_MAX_DOWNLOAD_MB", "inf", "must be a number of megabytes, greater than 0"),
    ("KLING_VIDEO_MAX_USD", "nan", "must be a number of dollars, 0 or more"),
    ("KLING_VIDEO_MAX_USD", "$5", "must be a number of dollars, 0 or more"),
    ("KLING_VIDEO_MAX_DECODE_BYTES", "lots", "must be a number of bytes, greater than 0"),
    ("KLING_VIDEO_ALLOWED_HOSTS", "http://proxy.example/", "'http://proxy.example/' is not a host name"),
]


@pytest.mark.parametrize("var,value,rule", BAD)
def test_a_bad_setting_stops_the_cli_before_anything_is_sent(fal_env, tmp_path, var, value, rule):
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    value, rule = value.format(file=a_file), rule.format(file=a_file)
    r = cli("t2v", "--prompt", "a boat", "--out", str(tmp_path / "out.mp4"),
            env={**fal_cli_env(fal_env), var: value})
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"error: {var}={value!r}: {rule}"), r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert fal_env.requests() == []  # not a submit, not an upload, not a status
    assert not (tmp_path / "out.mp4").exists()


def test_a_dry_run_checks_the_settings_too(tmp_path):
    # They shape the request a dry run shows (which media go inline), so it must not show one a run refuses.
    r = cli("t2v", "--prompt", "a boat", "--dry-run", env={"KLING_VIDEO_INLINE_MAX_MB": "abc"})
    assert r.returncode == 2 and "KLING_VIDEO_INLINE_MAX_MB='abc': must be a number of megabytes" in r.stderr
    assert "POST https://" not in r.stdout


def test_an_unset_home_that_cannot_be_made_names_the_variable(tmp_path, monkeypatch):
    blocker = tmp_path / "home-is-a-file"
    blocker.write_text("x")
    monkeypatch.delenv("KLING_VIDEO_HOME")
    monkeypatch.setenv("HOME", str(blocker))  # ~/.kling-video lies under a file
    with pytest.raises(settings.SettingsError, match=r"KLING_VIDEO_HOME: is unset, so the pack keeps its journal "
                                                     r"in .*home-is-a-file/\.kling-video, but .* is a file; set "
                                                     r"KLING_VIDEO_HOME to a folder you can write to"):
        settings.check_all()


def test_good_values_and_defaults(monkeypatch, tmp_path):
    for var in settings.READERS:
        monkeypatch.delenv(var, raising=False)
    assert (settings.timeout(), settings.queue_timeout()) == (1800.0, 600.0)
    assert settings.max_usd() is None and settings.inline_max_override() is None
    monkeypatch.setenv("KLING_VIDEO_MAX_USD", " 0 ")  # a cap of zero is a valid way to stop all spending
    monkeypatch.setenv("KLING_VIDEO_INLINE_MAX_MB", "0.5")
    monkeypatch.setenv("KLING_VIDEO_HOME", str(tmp_path / "not" / "yet" / "made"))
    settings.check_all()
    assert settings.max_usd() == 0.0 and settings.inline_max_override() == 500_000
    assert not (tmp_path / "not").exists()  # checking makes nothing


def test_every_reader_of_a_setting_goes_through_settings(monkeypatch):
    # media_out and the jobs panel read their variables through settings (one rule, one message).
    monkeypatch.setenv("KLING_VIDEO_MAX_DECODE_BYTES", "-1")
    with pytest.raises(settings.SettingsError, match="KLING_VIDEO_MAX_DECODE_BYTES='-1': must be a number of bytes"):
        media_out.max_decode_bytes_default()
    monkeypatch.setenv("KLING_VIDEO_MAX_USD", "2.5")
    assert jobs_panel.cap_usd() == 2.5
    # No other module reads a KLING_VIDEO_ variable itself.
    for path in pathlib.Path(settings.__file__).parent.rglob("*.py"):
        if path.name != "settings.py":
            for line in path.read_text().splitlines():
                assert not (re.search(r"environ|getenv", line) and "KLING_VIDEO_" in line), (path.name, line)


def test_an_unknown_setting_is_warned_about_once(monkeypatch, caplog):
    monkeypatch.setenv("KLING_VIDEO_MAXUSD", "1")  # a typo: the cap would silently be off
    settings._warned.discard("KLING_VIDEO_MAXUSD")
    with caplog.at_level(logging.WARNING, logger="kling_video"):
        settings.check_all()
        settings.check_all()
    said = [r.getMessage() for r in caplog.records if "KLING_VIDEO_MAXUSD" in r.getMessage()]
    assert len(said) == 1 and "is not a setting of this pack" in said[0] and "KLING_VIDEO_MAX_USD" in said[0]
    assert os.environ["KLING_VIDEO_MAXUSD"] == "1"
