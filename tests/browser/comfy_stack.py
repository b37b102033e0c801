"""A real ComfyUI with the pack and a fake fal.ai, for the browser scenarios (tests/test_browser.py) and
for running the thumbnail generator by hand:

    .venv/bin/python tests/browser/comfy_stack.py      # prints COMFY_URL=..., serves until Ctrl-C or kill
    COMFY_URL=http://127.0.0.1:PORT node tests/browser/thumbnails.mjs
"""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import signal
import sys
import tempfile

TESTS = pathlib.Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from comfyui_server import ComfyUI  # noqa: E402
from fakes.fal import FakeFal  # noqa: E402
from fakes.tls import make_tls  # noqa: E402
from media import make_mp4, make_png, make_wav  # noqa: E402

KEY = "browser-test-key-5551234567"
PROVIDER_KEYS = ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "KLINGAI_ACCESS_KEY", "KLINGAI_SECRET_KEY",
                 "AIMLAPI_KEY", "AI_GATEWAY_API_KEY")
# What the frontend would otherwise show on a first start (the template browser, the new-user tour),
# covering the canvas the scenarios look at.
SETTINGS = {"Comfy.TutorialCompleted": True, "Comfy.InstalledVersion": "1.32.9",
            "Comfy.Release.Version": "1.32.9", "Comfy.Release.Status": "changelog seen",
            "Comfy.Minimap.Visible": False, "Comfy.VueNodes.Enabled": False}


def _inputs(folder: pathlib.Path) -> None:
    """The files the example workflows' loader nodes name."""
    for name, color in (("kling_start.png", (200, 40, 40)), ("kling_end.png", (40, 40, 200))):
        make_png(folder / name, 640, 480, color)
    for name in ("kling_motion.mp4", "kling_face.mp4"):
        make_mp4(folder / name, width=640, height=360, fps=24, seconds=3.0)
    make_wav(folder / "kling_voice.wav", seconds=6.0)


@contextlib.contextmanager
def stack(tmp: pathlib.Path, comfy_dir: str, *, fal_key: bool = True, progress_seconds: float = 4.0):
    """Yield (comfy, fal). With fal_key=False ComfyUI starts without FAL_KEY (a key comes from the UI)."""
    video = make_mp4(tmp / "result.mp4", width=320, height=240, fps=24, seconds=1.0)
    (tmp / "tls").mkdir(exist_ok=True)
    tls = make_tls(tmp / "tls")
    # Long enough in progress for the scenario to see (and photograph) the node's progress text.
    with FakeFal(tmp / "fal", key=KEY, video_bytes=video.read_bytes(), queue_seconds=1.0,
                 progress_seconds=progress_seconds, tls=tls) as fal:
        env = {"FAL_QUEUE_RUN_HOST": fal.host, "FAL_RUN_HOST": fal.host, "FAL_REST_HOST": fal.host,
               "SSL_CERT_FILE": str(tls[1])}
        comfy = ComfyUI(comfy_dir, tmp / "base", env)
        # only the fake's key, and the journal, keys file and spend cap in this ComfyUI's own user folder,
        # whatever the developer's shell (or a test's monkeypatch) holds
        for var in (*PROVIDER_KEYS, "KLING_VIDEO_HOME", "KLING_VIDEO_MAX_USD"):
            comfy.env.pop(var, None)
        if fal_key:
            comfy.env["FAL_KEY"] = KEY
        user = comfy.base / "user" / "default"
        user.mkdir(parents=True, exist_ok=True)
        (user / "comfy.settings.json").write_text(json.dumps(SETTINGS))
        _inputs(comfy.base / "input")
        comfy.start()
        try:
            yield comfy, fal
        finally:
            comfy.stop()


def _interrupt(*_):
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops ComfyUI and the fake too, and cleans up
    comfy_dir = os.environ.get("COMFYUI_DIR") or str(TESTS.parent / ".cache" / "comfyui")
    with tempfile.TemporaryDirectory(prefix="kling-browser-") as tmp, \
            stack(pathlib.Path(tmp), comfy_dir) as (comfy, _fal):
        print(f"COMFY_URL={comfy.url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            comfy.proc.wait()


if __name__ == "__main__":
    main()
