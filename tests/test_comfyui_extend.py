"""Kling Extend inside each real ComfyUI host (tests/comfyui_server.py: hosts()) against the fake Kling API: the
"Extend chained twice" template runs, and a VIDEO Kling did not make is refused before any request."""
import json
import pathlib

import pytest

from comfyui_server import ComfyUI, host_params, ui_to_api
from fakes.kling import FakeKling
from fakes.tls import make_tls
from media import make_mp4

KEY = "extend-comfy-key-9876543210"
ROOT = pathlib.Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "example_workflows" / "kling_extend_chained_twice.json"


@pytest.fixture(scope="module", params=host_params())
def stack(request, tmp_path_factory):
    host = request.param
    tmp = tmp_path_factory.mktemp(f"extend-{host.name}")
    video = make_mp4(tmp / "result.mp4", width=320, height=240, fps=24, seconds=1.0)
    (tmp / "tls").mkdir()
    tls = make_tls(tmp / "tls")
    with FakeKling(tmp / "kling", access_key="ak-" + KEY, secret_key=KEY, video_bytes=video.read_bytes(),
                   queue_seconds=0.1, progress_seconds=0.3, tls=tls) as kling:
        env = {"KLINGAI_ACCESS_KEY": "ak-" + KEY, "KLINGAI_SECRET_KEY": KEY, "KLINGAI_BASE_URL": kling.base_url,
               "SSL_CERT_FILE": str(tls[1])}
        for var in ("FAL_KEY", "AIMLAPI_KEY", "AI_GATEWAY_API_KEY"):
            env[var] = ""
        comfy = ComfyUI(host, tmp / "base", env).start()
        make_mp4(comfy.base / "input" / "kling_loaded.mp4", width=320, height=240, fps=24, seconds=1.0)
        try:
            yield comfy, kling
        finally:
            comfy.stop()


def errors(entry):
    return [m[1] for m in entry["status"].get("messages", []) if m[0] == "execution_error"]


def test_extend_chained_twice_template(stack):
    comfy, kling = stack
    info = comfy.get("/object_info")
    node = info["KlingVideo_Extend"]
    assert node["input"]["required"]["video"][0] == "VIDEO" and node["display_name"] == "Kling Extend"
    assert node["input"]["required"]["provider"][1]["options"] == ["auto", "kling"]
    before = len(kling.submits())
    entry = comfy.wait(comfy.queue(ui_to_api(json.loads(TEMPLATE.read_text()), info)), timeout=180)
    assert entry["status"]["status_str"] == "success", errors(entry) or entry["status"]
    made = kling.submits()[before:]
    assert [s["path"].rsplit("/", 1)[1] for s in made] == ["text2video", "video-extend", "video-extend"]
    ids = [kling.jobs[s["request_id"]].extra["video_id"] for s in made]
    assert [s["json"]["video_id"] for s in made[1:]] == ids[:2]  # each extension names the video before it
    assert kling.video(ids[2]) == {"model": "kling-v1-6", "mode": "std", "seconds": 15.0}
    saved = entry["outputs"]["4"]["images"][0]
    assert (comfy.base / "output" / saved["subfolder"] / saved["filename"]).stat().st_size > 0


def test_a_loaded_video_is_refused_before_any_request(stack):
    comfy, kling = stack
    before = len(kling.log)
    prompt = {"1": {"class_type": "LoadVideo", "inputs": {"file": "kling_loaded.mp4"}},
              "2": {"class_type": "KlingVideo_Extend", "inputs": {
                  "video": ["1", 0], "prompt": "go on", "negative_prompt": "", "cfg_scale": 0.5, "take": 0,
                  "provider": "auto"}},
              "3": {"class_type": "SaveVideo", "inputs": {"video": ["2", 0], "filename_prefix": "video/refused",
                                                           "format": "auto", "codec": "auto"}}}
    entry = comfy.wait(comfy.queue(prompt))
    assert entry["status"]["status_str"] == "error"
    message = errors(entry)[0]["exception_message"]
    assert "kling_loaded.mp4 is not a video the pack downloaded" in message and "provider 'kling'" in message
    assert len(kling.log) == before


def test_kling_26_standard_runs_on_kling_api(stack):
    """A plain Kling-only node (kling_only.GENERATED) is a node like any other: std mode, silent, saved."""
    comfy, kling = stack
    assert comfy.get("/object_info")["KlingVideo_V26Std_TextToVideo"]["input"]["required"]["provider"][1][
        "options"] == ["auto", "kling"]
    before = len(kling.submits())
    prompt = {"1": {"class_type": "KlingVideo_V26Std_TextToVideo", "inputs": {
                  "prompt": "a kite over a beach", "duration": "5", "aspect_ratio": "16:9", "negative_prompt": "",
                  "take": 0, "provider": "kling"}},
              "2": {"class_type": "SaveVideo", "inputs": {"video": ["1", 0], "filename_prefix": "video/std",
                                                           "format": "auto", "codec": "auto"}}}
    entry = comfy.wait(comfy.queue(prompt), timeout=120)
    assert entry["status"]["status_str"] == "success", errors(entry) or entry["status"]
    [made] = kling.submits()[before:]
    assert made["path"].endswith("/v1/videos/text2video")
    assert (made["json"]["model_name"], made["json"]["mode"]) == ("kling-v2-6", "std")
    assert "sound" not in made["json"] or made["json"]["sound"] == "off"
    saved = entry["outputs"]["2"]["images"][0]
    assert (comfy.base / "output" / saved["subfolder"] / saved["filename"]).stat().st_size > 0


def test_kling_text_to_audio_saves_a_sound(stack):
    """The Kling-only sound node's AUDIO goes into core Save Audio, which writes the file."""
    comfy, kling = stack
    before = len(kling.submits())
    prompt = {"1": {"class_type": "KlingVideo_TextToAudio", "inputs": {
                  "prompt": "fireworks at a festival", "duration": 3.5, "take": 0, "provider": "kling"}},
              "2": {"class_type": "SaveAudio", "inputs": {"audio": ["1", 0], "filename_prefix": "audio/kling"}}}
    entry = comfy.wait(comfy.queue(prompt), timeout=120)
    assert entry["status"]["status_str"] == "success", errors(entry) or entry["status"]
    [made] = kling.submits()[before:]
    assert made["path"].endswith("/v1/audio/text-to-audio")
    assert made["json"]["duration"] == 3.5 and made["json"]["prompt"] == "fireworks at a festival"
    saved = entry["outputs"]["2"]["audio"][0]
    assert (comfy.base / "output" / saved["subfolder"] / saved["filename"]).stat().st_size > 0
