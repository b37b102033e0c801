"""The pack's frontend in a real browser: Debian's chromium driven by playwright-core (tests/browser/), against
each real ComfyUI host (tests/comfyui_server.py: hosts()) with the pack and the fake fal.ai; the page reaches
nothing outside the machine.

Each scenario is one script, tests/browser/<name>.mjs, that exits non-zero on a failed check; the price, run,
jobs and keys scenarios run in both node renderers (the classic canvas and the Vue one, "Nodes 2.0").
Screenshots go to a temporary folder, or to $KLING_SCREENSHOTS (`KLING_SCREENSHOTS=docs/screenshots` refreshes
the README's), named <picture>-<renderer>-comfyui-<host>.png.
"""
import os
import pathlib
import shutil
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BROWSER = ROOT / "tests" / "browser"
sys.path.insert(0, str(BROWSER))
from comfy_stack import KEY, stack  # noqa: E402
from comfyui_server import host_params, hosts  # noqa: E402

NODE = shutil.which("node")
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# Core nodes that need torchaudio, which a test environment may lack; a template may use them only then.
AUDIO_NODES = {"PreviewAudio", "SaveAudio", "LoadAudio"}


RENDERERS = ("classic", "vue")


def _missing() -> str:
    if not hosts():
        return "no ComfyUI: run tests/run.sh, or set COMFYUI_DIR to a ComfyUI checkout"
    if not NODE:
        return "node is not on PATH"
    if not CHROMIUM:
        return "chromium is not installed (tests/run.sh installs it with apt-get when run as root)"
    if not (BROWSER / "node_modules" / "playwright-core").is_dir():
        return "playwright-core is not installed (cd tests/browser && npm ci)"
    return ""


needs_browser = pytest.mark.skipif(bool(_missing()), reason=_missing() or "-")


def test_ci_has_what_the_browser_tests_need():
    """.ci/run sets KLING_TEST_REQUIRE_BROWSER: there a missing chromium or ComfyUI is a failure, not a skip."""
    if not os.environ.get("KLING_TEST_REQUIRE_BROWSER"):
        pytest.skip("only where KLING_TEST_REQUIRE_BROWSER is set (CI)")
    assert not _missing(), _missing() + " (see .cache/browser-setup.log)"


@pytest.fixture(scope="module", params=host_params())
def host(request):
    return request.param


@pytest.fixture(scope="module")
def served(host, tmp_path_factory):
    """ComfyUI with FAL_KEY set, and the fake fal.ai it talks to."""
    with stack(tmp_path_factory.mktemp(f"browser-{host.name}"), host) as (comfy, fal):
        yield comfy, fal


@pytest.fixture(scope="module")
def served_without_key(host, tmp_path_factory):
    """ComfyUI started without any provider key (the user gives one in the browser)."""
    with stack(tmp_path_factory.mktemp(f"browser-nokey-{host.name}"), host, fal_key=False) as (comfy, fal):
        yield comfy, fal


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    wanted = os.environ.get("KLING_SCREENSHOTS")
    return (ROOT / wanted) if wanted else tmp_path_factory.mktemp("screenshots")


def run_scenario(name: str, comfy, screenshots, renderer: str = "classic", **env) -> str:
    started = time.monotonic()
    tag = f"{renderer}-comfyui-{comfy.host.name}"
    proc = subprocess.run([NODE, str(BROWSER / f"{name}.mjs")], cwd=BROWSER, capture_output=True, text=True,
                          timeout=400, env={**os.environ, "COMFY_URL": comfy.url, "CHROMIUM": CHROMIUM,
                                            "KLING_RENDERER": renderer, "SCREENSHOT_DIR": str(screenshots),
                                            "SCREENSHOT_TAG": tag, **env})
    print(f"--- {name}.mjs, {tag} ({time.monotonic() - started:.1f} s)\n{proc.stdout}{proc.stderr}")
    assert proc.returncode == 0, (f"{name}.mjs failed:\n{proc.stdout[-5000:]}{proc.stderr[-3000:]}\n"
                                  f"--- ComfyUI log:\n{comfy.log()[-3000:]}")
    return proc.stdout


def assert_png(path: pathlib.Path):
    assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 2000, path


def shot(screenshots, comfy, renderer: str, name: str) -> pathlib.Path:
    return screenshots / f"{name}-{renderer}-comfyui-{comfy.host.name}.png"


@needs_browser
@pytest.mark.parametrize("renderer", RENDERERS)
def test_price_badge_follows_the_widgets_and_the_total_sits_by_run(served, screenshots, renderer):
    comfy, _fal = served
    run_scenario("price", comfy, screenshots, renderer)
    for name in ("price-badge", "price-total", "price-batch"):
        assert_png(shot(screenshots, comfy, renderer, name))


@needs_browser
@pytest.mark.parametrize("renderer", RENDERERS)
def test_queued_node_shows_progress_then_a_playable_video(served, screenshots, renderer):
    comfy, fal = served
    before = fal.count("submit")
    run_scenario("run", comfy, screenshots, renderer)
    assert fal.count("submit") - before == 1  # paid once; the two unchanged copies queued after it cost nothing
    assert_png(shot(screenshots, comfy, renderer, "run-progress"))
    assert_png(shot(screenshots, comfy, renderer, "run-preview"))


@needs_browser
@pytest.mark.parametrize("renderer", RENDERERS)
def test_jobs_panel_collects_an_interrupted_job_without_a_second_submit(served, screenshots, renderer):
    comfy, fal = served
    submits = fal.count("submit")
    saved = set((comfy.base / "output" / "kling-video").glob("*.mp4"))
    fal.inject("file", delay=30)  # the download hangs until the user interrupts it
    try:
        run_scenario("jobs", comfy, screenshots, renderer)
    finally:
        fal.clear_injections()
    assert fal.count("submit") - submits == 1
    assert len(set((comfy.base / "output" / "kling-video").glob("*.mp4")) - saved) == 1  # the collected one
    assert_png(shot(screenshots, comfy, renderer, "jobs-panel"))


@needs_browser
@pytest.mark.parametrize("renderer", RENDERERS)
def test_key_from_the_settings_dialog_runs_a_job_and_shows_up_nowhere_else(served_without_key, screenshots, renderer):
    comfy, fal = served_without_key
    keys_files = list((comfy.base / "user").rglob("keys.json"))
    for path in keys_files:  # the other renderer's run stored one: each run starts without a key
        path.unlink()
    submits = fal.count("submit")
    run_scenario("keys", comfy, screenshots, renderer, KLING_TEST_KEY=KEY)
    assert fal.count("submit") - submits == 1
    [keys_file] = (comfy.base / "user").rglob("keys.json")
    assert KEY in keys_file.read_text()  # where the dialog stores it, and the only place
    assert KEY not in comfy.log()
    written = [p for folder in ("output", "user", "temp") for p in (comfy.base / folder).rglob("*") if p.is_file()]
    assert any(p.suffix == ".mp4" for p in written)
    for path in written:
        if path != keys_file:
            assert KEY.encode() not in path.read_bytes(), path  # the videos' metadata included


@needs_browser
def test_templates_load_without_warnings(served, screenshots):
    comfy, _fal = served
    missing = sorted(AUDIO_NODES - set(comfy.get("/object_info")))
    run_scenario("templates", comfy, screenshots, ALLOWED_MISSING=",".join(missing))


def test_every_example_workflow_has_a_jpg_thumbnail():
    # ComfyUI's template browser asks for <name>.jpg and nothing else; tests/browser/thumbnails.mjs makes them.
    workflows = sorted(p.stem for p in (ROOT / "example_workflows").glob("*.json"))
    assert workflows
    for name in workflows:
        jpg = ROOT / "example_workflows" / f"{name}.jpg"
        assert jpg.is_file(), f"{jpg.name} is missing: run tests/browser/thumbnails.mjs (see its header)"
        assert jpg.read_bytes()[:3] == b"\xff\xd8\xff", f"{jpg.name} is not a JPEG"
    strays = sorted(p.name for p in (ROOT / "example_workflows").glob("*.jpg") if p.stem not in workflows)
    assert not strays, f"thumbnails without a workflow: {strays}"
