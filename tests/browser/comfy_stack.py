"""A real ComfyUI with the pack and a fake fal.ai, for the browser scenarios (tests/test_browser.py) and
for running the thumbnail generator by hand:

    .venv/bin/python tests/browser/comfy_stack.py [HOST]   # prints COMFY_URL=..., serves until Ctrl-C or kill
    COMFY_URL=http://127.0.0.1:PORT node tests/browser/thumbnails.mjs

HOST names one of tests/comfyui_server.py's hosts() (e.g. 0.33.0); the first one by default.
"""
from __future__ import annotations

import contextlib
import json
import pathlib
import signal
import subprocess
import sys
import tempfile

TESTS = pathlib.Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from comfyui_server import ComfyUI, Host, hosts  # noqa: E402
from fakes.fal import FakeFal  # noqa: E402
from fakes.tls import make_tls  # noqa: E402
from media import make_mp4, make_png, make_wav  # noqa: E402

KEY = "browser-test-key-5551234567"
PROVIDER_KEYS = ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "KLINGAI_ACCESS_KEY", "KLINGAI_SECRET_KEY",
                 "AIMLAPI_KEY", "AI_GATEWAY_API_KEY")
# What the frontend would otherwise show on a first start (the template browser, the new-user tour, the
# release notes of its own version), covering the canvas the scenarios look at. Frontend 1.4x and later
# also warn, in toasts that stay, that the host's templates and docs packages are older than ComfyUI 0.33
# asks for (the test host serves 0.3.75's: tests/setup_comfyui_033.sh); the templates come from this pack.
# The node renderer is each scenario's choice (harness.mjs: openComfy).
SETTINGS = {"Comfy.TutorialCompleted": True, "Comfy.Release.Status": "changelog seen",
            "Comfy.Minimap.Visible": False, "Comfy.VueNodes.Enabled": False,
            "Comfy.VersionCompatibility.DisableWarnings": True}


def frontend_version(host: Host) -> str | None:
    """The frontend the host serves: its --front-end-root's package version, else the one its Python has."""
    if host.front_end_root:  # <version folder>/comfyui_frontend_package/static
        for info in pathlib.Path(host.front_end_root).parents[1].glob("comfyui_frontend_package-*.dist-info"):
            return info.name.removeprefix("comfyui_frontend_package-").removesuffix(".dist-info")
    out = subprocess.run([host.python, "-c", "import importlib.metadata as m; print(m.version('comfyui-frontend-package'))"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip() or None


def settings_for(host: Host) -> dict:
    """SETTINGS, with the host's frontend version marked as installed and its release notes as seen."""
    version = frontend_version(host)
    return {**SETTINGS, **({"Comfy.InstalledVersion": version, "Comfy.Release.Version": version} if version else {})}


def _inputs(folder: pathlib.Path) -> None:
    """The files the example workflows' loader nodes name."""
    for name, color in (("kling_start.png", (200, 40, 40)), ("kling_end.png", (40, 40, 200))):
        make_png(folder / name, 640, 480, color)
    for name in ("kling_motion.mp4", "kling_face.mp4"):
        make_mp4(folder / name, width=640, height=360, fps=24, seconds=3.0)
    make_wav(folder / "kling_voice.wav", seconds=6.0)


@contextlib.contextmanager
def stack(tmp: pathlib.Path, host: Host | str, *, fal_key: bool = True, progress_seconds: float = 4.0):
    """Yield (comfy, fal) on `host` (a Host, or a ComfyUI directory). With fal_key=False ComfyUI starts
    without FAL_KEY (a key comes from the UI)."""
    host = host if isinstance(host, Host) else Host("custom", str(host))
    video = make_mp4(tmp / "result.mp4", width=320, height=240, fps=24, seconds=1.0)
    (tmp / "tls").mkdir(exist_ok=True)
    tls = make_tls(tmp / "tls")
    # Long enough in progress for the scenario to see (and photograph) the node's progress text.
    with FakeFal(tmp / "fal", key=KEY, video_bytes=video.read_bytes(), queue_seconds=1.0,
                 progress_seconds=progress_seconds, tls=tls) as fal:
        env = {"FAL_QUEUE_RUN_HOST": fal.host, "FAL_RUN_HOST": fal.host, "FAL_REST_HOST": fal.host, "FAL_API_HOST": fal.host,
               "SSL_CERT_FILE": str(tls[1])}
        comfy = ComfyUI(host, tmp / "base", env)
        # only the fake's key, and the journal, keys file and spend cap in this ComfyUI's own user folder,
        # whatever the developer's shell (or a test's monkeypatch) holds
        for var in (*PROVIDER_KEYS, "KLING_VIDEO_HOME", "KLING_VIDEO_MAX_USD"):
            comfy.env.pop(var, None)
        if fal_key:
            comfy.env["FAL_KEY"] = KEY
        user = comfy.base / "user" / "default"
        user.mkdir(parents=True, exist_ok=True)
        (user / "comfy.settings.json").write_text(json.dumps(settings_for(host)))
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
    found = hosts() or [Host("custom", str(TESTS.parent / ".cache" / "comfyui"))]
    wanted = sys.argv[1] if len(sys.argv) > 1 else found[0].name
    host = next((h for h in found if h.name == wanted), None)
    if host is None:
        sys.exit(f"no host named {wanted!r}: {', '.join(h.name for h in found)}")
    with tempfile.TemporaryDirectory(prefix="kling-browser-") as tmp, \
            stack(pathlib.Path(tmp), host) as (comfy, _fal):
        print(f"COMFY_URL={comfy.url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            comfy.proc.wait()


if __name__ == "__main__":
    main()
