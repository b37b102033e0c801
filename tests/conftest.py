"""Load the pack under a fixed package name, whatever its folder is called (as ComfyUI would)."""
import logging
import pathlib
import runpy
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests import their helpers (media, fakes) as top-level modules

runpy.run_path(str(ROOT / "nodes" / "devtools" / "pack_loader.py"))["load_pack"](ROOT)


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    """Every test gets its own journal and keys file: a developer's stored keys or journal in ~/.kling-video
    must never answer for a test (fixtures below may point it elsewhere)."""
    monkeypatch.setenv("KLING_VIDEO_HOME", str(tmp_path / "kling-home"))


@pytest.fixture
def fal_env(monkeypatch, tmp_path):
    """A fake fal.ai over HTTPS, with the pack pointed at it the way a user would point it at a proxy."""
    from fakes.fal import FakeFal
    from media import make_mp4

    video = make_mp4(tmp_path / "result.mp4", width=320, height=240, fps=24, seconds=1.0)
    with FakeFal(tmp_path / "fake", key="test-key-0123456789", video_bytes=video.read_bytes()) as fake:
        monkeypatch.setenv("FAL_KEY", "test-key-0123456789")
        monkeypatch.setenv("FAL_QUEUE_RUN_HOST", fake.host)
        monkeypatch.setenv("FAL_RUN_HOST", fake.host)
        monkeypatch.setenv("FAL_REST_HOST", fake.host)
        monkeypatch.setenv("FAL_API_HOST", fake.host)  # fal's pricing API
        monkeypatch.setenv("SSL_CERT_FILE", str(fake.ca_path))
        from comfyui_kling_video.nodes.core import http
        http.ssl_context.cache_clear()
        monkeypatch.setenv("KLING_VIDEO_HOME", str(tmp_path / "kling-home"))  # journal and spend log
        yield fake
        http.ssl_context.cache_clear()


@pytest.fixture
def no_server_errors(caplog):
    """aiohttp must never log an error (resets and truncations are on purpose, not crashes): for the fakes'
    own tests (``pytestmark = pytest.mark.usefixtures("no_server_errors")``)."""
    caplog.set_level(logging.WARNING)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not bad, [r.getMessage() for r in bad]


@pytest.fixture
def captured_logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


PROVIDER_KEYS = ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "AIMLAPI_KEY", "AI_GATEWAY_API_KEY",
                 "KLINGAI_ACCESS_KEY", "KLINGAI_SECRET_KEY")
SECRET = "recognisable-secret-0123456789"


@pytest.fixture(params=["fal", "kling", "aimlapi", "vercel"])
def any_provider(request, monkeypatch, tmp_path):
    """Each provider's fake over HTTPS, with only that provider's credentials set: (name, fake)."""
    from media import make_mp4
    name = request.param
    video = make_mp4(tmp_path / "result.mp4", width=320, height=240, fps=24, seconds=1.0).read_bytes()
    for var in PROVIDER_KEYS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KLING_VIDEO_HOME", str(tmp_path / "kling-home"))
    if name == "fal":
        from fakes.fal import FakeFal as Fake
        fake = Fake(tmp_path / "fake", key=SECRET, video_bytes=video)
        env = {"FAL_KEY": SECRET, "FAL_QUEUE_RUN_HOST": "{host}", "FAL_RUN_HOST": "{host}", "FAL_REST_HOST": "{host}",
               "FAL_API_HOST": "{host}"}
    elif name == "kling":
        from fakes.kling import FakeKling as Fake
        fake = Fake(tmp_path / "fake", access_key="access-" + SECRET, secret_key=SECRET, video_bytes=video)
        env = {"KLINGAI_ACCESS_KEY": "access-" + SECRET, "KLINGAI_SECRET_KEY": SECRET, "KLINGAI_BASE_URL": "{base}"}
    elif name == "aimlapi":
        from fakes.aimlapi import FakeAimlapi as Fake
        fake = Fake(tmp_path / "fake", key=SECRET, video_bytes=video)
        env = {"AIMLAPI_KEY": SECRET, "AIMLAPI_BASE_URL": "{base}"}
    else:
        from fakes.vercel import FakeVercel as Fake
        fake = Fake(tmp_path / "fake", key=SECRET, video_bytes=video)
        env = {"AI_GATEWAY_API_KEY": SECRET, "AI_GATEWAY_BASE_URL": "{base}"}
    with fake:
        for var, value in env.items():
            monkeypatch.setenv(var, value.format(host=fake.host, base=fake.base_url))
        monkeypatch.setenv("SSL_CERT_FILE", str(fake.ca_path))
        from comfyui_kling_video.nodes.core import http
        http.ssl_context.cache_clear()
        yield name, fake
        http.ssl_context.cache_clear()


def wait_for(condition, timeout=30):
    """Poll `condition` until it holds (a fake's state changes on its own thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")
