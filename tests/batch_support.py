"""Helpers of the batch tests (tests/test_batch_*.py): a manifest on disk, `python . batch` in a subprocess
pointed at a fake, and the fakes with short job times."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from media import make_mp4

ROOT = pathlib.Path(__file__).resolve().parents[1]
FAL_KEY = "batch-test-key-0123456789"
KLING_AK, KLING_SK = "batch-access-key-0123", "batch-secret-key-0123456789"
FINISHED = ("done", "cached", "reattached")


@pytest.fixture(scope="session")
def video_bytes(tmp_path_factory) -> bytes:
    return make_mp4(tmp_path_factory.mktemp("video") / "v.mp4", width=160, height=120, seconds=0.5).read_bytes()


@pytest.fixture
def fal(tmp_path, video_bytes):
    from fakes.fal import FakeFal
    with FakeFal(tmp_path / "fake-fal", key=FAL_KEY, video_bytes=video_bytes, queue_seconds=0.1,
                 progress_seconds=0.2) as fake:
        yield fake


@pytest.fixture
def kling(tmp_path, video_bytes):
    from fakes.kling import FakeKling
    with FakeKling(tmp_path / "fake-kling", access_key=KLING_AK, secret_key=KLING_SK, video_bytes=video_bytes,
                   queue_seconds=0.1, progress_seconds=0.2) as fake:
        yield fake


@pytest.fixture
def fal_here(fal, monkeypatch):
    """The fake fal for this process (the Python API's tests), as a user would point the pack at a proxy."""
    for var, value in env_for(fal).items():
        monkeypatch.setenv(var, value)
    from comfyui_kling_video.nodes.core import http
    http.ssl_context.cache_clear()
    yield fal
    http.ssl_context.cache_clear()


def env_for(fake) -> dict:
    """The environment variables that point the pack at a fake (fal or Kling)."""
    if hasattr(fake, "access_key"):
        return {"KLINGAI_ACCESS_KEY": fake.access_key, "KLINGAI_SECRET_KEY": fake.secret_key,
                "KLINGAI_BASE_URL": fake.base_url, "SSL_CERT_FILE": str(fake.ca_path)}
    return {"FAL_KEY": fake.key, "FAL_QUEUE_RUN_HOST": fake.host, "FAL_RUN_HOST": fake.host,
            "FAL_REST_HOST": fake.host, "FAL_API_HOST": fake.host, "SSL_CERT_FILE": str(fake.ca_path)}


def environ(home: pathlib.Path, fake=None, **extra) -> dict:
    """A clean environment: no provider key or pack setting of the developer's, this test's home."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("FAL_", "KLINGAI_", "AIMLAPI_", "AI_GATEWAY_", "KLING_VIDEO_"))}
    return {**base, **(env_for(fake) if fake is not None else {}), "KLING_VIDEO_HOME": str(home), **extra}


def command(manifest, *args) -> list[str]:
    return [sys.executable, str(ROOT), "batch", str(manifest), *map(str, args)]


def batch(manifest, *args, env, cwd=None, timeout=90) -> subprocess.CompletedProcess:
    return subprocess.run(command(manifest, *args), capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout)


def start(manifest, *args, env, cwd=None) -> subprocess.Popen:
    return subprocess.Popen(command(manifest, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=cwd)


def write_jsonl(path: pathlib.Path, rows: list) -> pathlib.Path:
    """Rows as JSON Lines; a str row is written as it is (a broken line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def shots(n: int, prefix: str = "s", **fields) -> list[dict]:
    """n text-to-video jobs with distinct prompts (so distinct requests) and ids prefix0, prefix1, ..."""
    return [{"variant": "t2v", "prompt": f"shot {prefix}{i}", "id": f"{prefix}{i}", **fields} for i in range(n)]


def results(path: pathlib.Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def accepted(fake) -> list[dict]:
    """The submits the fake accepted (FakeFal's submits() lists the refused ones too)."""
    return [e for e in fake.submits() if e.get("request_id")]


def sent(fake) -> list[dict]:
    """Every request the fake received but fal's price list (a read that makes nothing, fetched once a valid
    batch is checked, so that its estimate uses fal's live prices)."""
    return [e for e in fake.requests() if e["op"] != "pricing"]
