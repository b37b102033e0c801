"""Results passed on as URLs inside each real ComfyUI host (tests/comfyui_server.py: hosts()), against the fake
fal: Kling image-to-video → lip sync → video to audio, each VIDEO handed on by ComfyUI itself; the later hops
are sent the earlier results' URLs, never their bytes. Likewise text to speech's AUDIO into lip sync, and the
same AUDIO after core Trim Audio Duration, which makes it another sound: that one travels as bytes."""
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
    # 3 s of MP3 as text to speech's result: what lip sync's audio takes (2-60 s)
    speech = make_mp4(tmp / "speech.mp3", video=False, audio_codec="libmp3lame", seconds=3.0, channels=1,
                      sample_rate=24000)
    (tmp / "tls").mkdir()
    tls = make_tls(tmp / "tls")
    with FakeFal(tmp / "fake", key=KEY, video_bytes=video.read_bytes(), audio_bytes=speech.read_bytes(),
                 queue_seconds=0.1, progress_seconds=0.3, tls=tls) as fal:
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


def face(prompt: str) -> dict:
    """Nodes "1" and "2" of a prompt: a face image into Kling image-to-video."""
    return {"1": {"class_type": "LoadImage", "inputs": {"image": "face.png"}},
            "2": {"class_type": "KlingVideo_V26Pro_ImageToVideo", "inputs": {
                "start_frame": ["1", 0], "prompt": prompt, "negative_prompt": "", "duration": "5",
                "generate_audio": False, "voice_ids": "", "take": 0, "provider": "auto"}}}


def run(comfy, prompt: dict) -> None:
    entry = comfy.wait(comfy.queue(prompt), timeout=180)
    errors = [m[1] for m in entry["status"].get("messages", []) if m[0] == "execution_error"]
    assert entry["status"]["status_str"] == "success", errors or entry["status"]


def test_chain_passes_urls(stack):
    comfy, fal = stack
    before = len(fal.submits())
    prompt = {
        **face("a face"),
        "3": {"class_type": "KlingVideo_Lipsync_TextToVideo", "inputs": {
            "video": ["2", 0], "text": "hello", "voice_id": "AOT", "voice_language": "en", "voice_speed": 1.0,
            "take": 0, "provider": "auto"}},
        "4": {"class_type": "KlingVideo_VideoToAudio", "inputs": {
            "video": ["3", 0], "sound_effect_prompt": "birds", "background_music_prompt": "piano",
            "asmr_mode": False, "take": 0, "provider": "auto"}},
        "5": {"class_type": "SaveVideo", "inputs": {"video": ["4", 0], "filename_prefix": "video/chain",
                                                     "format": "auto", "codec": "auto"}},
    }
    run(comfy, prompt)
    i2v, lipsync, v2a = fal.submits()[before:]
    assert lipsync["json"]["video_url"].startswith(f"{fal.base_url}/files/{i2v['request_id']}/")
    assert v2a["json"]["video_url"].startswith(f"{fal.base_url}/files/{lipsync['request_id']}/")
    assert not any(fal.count(op) for op in UPLOADS)


def test_an_audio_result_passes_its_url_and_a_trimmed_one_its_bytes(stack):
    comfy, fal = stack
    before = len(fal.submits())
    lipsync = lambda audio: {"class_type": "KlingVideo_Lipsync_AudioToVideo", "inputs": {  # noqa: E731
        "video": ["2", 0], "audio": audio, "take": 0, "provider": "auto"}}
    save = lambda node, name: {"class_type": "SaveVideo", "inputs": {  # noqa: E731
        "video": [node, 0], "filename_prefix": f"video/{name}", "format": "auto", "codec": "auto"}}
    prompt = {
        **face("a face that talks"),
        "3": {"class_type": "KlingVideo_TTS", "inputs": {
            "text": "hello from the chain", "voice_id": "genshin_vindi2", "voice_speed": 1.0, "take": 0,
            "provider": "auto"}},
        "4": lipsync(["3", 0]),
        "5": save("4", "talk"),
        "6": {"class_type": "TrimAudioDuration", "inputs": {"audio": ["3", 0], "start_index": 0.0,
                                                            "duration": 2.5}},
        "7": lipsync(["6", 0]),
        "8": save("7", "talk-trimmed"),
    }
    run(comfy, prompt)
    submits = fal.submits()[before:]
    tts = next(s for s in submits if s["path"].endswith("/v1/tts"))
    i2v = next(s for s in submits if s["path"].endswith("/image-to-video"))
    hops = [s["json"] for s in submits if s["path"].endswith("/lipsync/audio-to-video")]
    assert len(hops) == 2 and all(h["video_url"].startswith(f"{fal.base_url}/files/{i2v['request_id']}/")
                                  for h in hops)
    passed = [h for h in hops if h["audio_url"].startswith(f"{fal.base_url}/files/{tts['request_id']}/")]
    trimmed = [h for h in hops if h["audio_url"].startswith("data:audio/wav;base64,")]
    assert len(passed) == 1 and len(trimmed) == 1
    assert not any(fal.count(op) for op in UPLOADS)
