"""Results passed on as URLs inside each real ComfyUI host (tests/comfyui_server.py: hosts()), against the fake
fal: Kling image-to-video → lip sync → video to audio, each VIDEO handed on by ComfyUI itself; the later hops
are sent the earlier results' URLs, never their bytes."""
import pytest

from comfyui_server import ComfyUI, host_params
from fakes.fal import FakeFal
from fakes.tls import make_tls
from media import make_mp4, make_png

KEY = "url-chain-comfy-key-0123456789"
UPLOADS = ("upload", "multipart", "part", "complete", "initiate", "put")


@pytest.fixture(scope="module", params=host_params())
def stack(request, tmp_path_factory):
    host = request.param
    tmp = tmp_path_factory.mktemp(f"url-chain-{host.name}")
    # 3 s of 1280x720: what lip sync (2-60 s, 720-1920 px) and video to audio (3-20 s) both take
    video = make_mp4(tmp / "result.mp4", width=1280, height=720, fps=24, seconds=3.0)
    (tmp / "tls").mkdir()
    tls = make_tls(tmp / "tls")
    with FakeFal(tmp / "fake", key=KEY, video_bytes=video.read_bytes(), queue_seconds=0.1,
                 progress_seconds=0.3, tls=tls) as fal:
        env = {"FAL_KEY": KEY, "FAL_QUEUE_RUN_HOST": fal.host, "FAL_RUN_HOST": fal.host, "FAL_REST_HOST": fal.host,
               "FAL_API_HOST": fal.host, "SSL_CERT_FILE": str(tls[1])}
        for var in ("KLINGAI_ACCESS_KEY", "KLINGAI_SECRET_KEY", "AIMLAPI_KEY", "AI_GATEWAY_API_KEY"):
            env[var] = ""
        comfy = ComfyUI(host, tmp / "base", env).start()
        make_png(comfy.base / "input" / "face.png", 640, 480, (200, 160, 120))
        try:
            yield comfy, fal
        finally:
            comfy.stop()


def test_chain_passes_urls(stack):
    comfy, fal = stack
    before = len(fal.submits())
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "face.png"}},
        "2": {"class_type": "KlingVideo_V26Pro_ImageToVideo", "inputs": {
            "start_frame": ["1", 0], "prompt": "a face", "negative_prompt": "", "duration": "5",
            "generate_audio": False, "voice_ids": "", "take": 0, "provider": "auto"}},
        "3": {"class_type": "KlingVideo_Lipsync_TextToVideo", "inputs": {
            "video": ["2", 0], "text": "hello", "voice_id": "AOT", "voice_language": "en", "voice_speed": 1.0,
            "take": 0, "provider": "auto"}},
        "4": {"class_type": "KlingVideo_VideoToAudio", "inputs": {
            "video": ["3", 0], "sound_effect_prompt": "birds", "background_music_prompt": "piano",
            "asmr_mode": False, "take": 0, "provider": "auto"}},
        "5": {"class_type": "SaveVideo", "inputs": {"video": ["4", 0], "filename_prefix": "video/chain",
                                                     "format": "auto", "codec": "auto"}},
    }
    entry = comfy.wait(comfy.queue(prompt), timeout=180)
    errors = [m[1] for m in entry["status"].get("messages", []) if m[0] == "execution_error"]
    assert entry["status"]["status_str"] == "success", errors or entry["status"]
    i2v, lipsync, v2a = fal.submits()[before:]
    assert lipsync["json"]["video_url"].startswith(f"{fal.base_url}/files/{i2v['request_id']}/")
    assert v2a["json"]["video_url"].startswith(f"{fal.base_url}/files/{lipsync['request_id']}/")
    assert not any(fal.count(op) for op in UPLOADS)
