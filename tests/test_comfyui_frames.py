"""Kling Video to Frames inside each real ComfyUI host (tests/comfyui_server.py: hosts()): core's Load Video (a
VideoFromFile), Video Slice (0.33: a trimmed one) and Create Video (a VideoFromComponents) in, its frames, audio
and fps through core's Create Video and Save Video out. No provider is involved."""
import pytest

import av

from comfyui_server import ComfyUI, host_params
from media import frame_index, make_mp4

NODE = "KlingVideo_VideoToFrames"
SECONDS, FPS = 2.0, 24


@pytest.fixture(scope="module", params=host_params())
def comfy(request, tmp_path_factory):
    host = request.param
    tmp = tmp_path_factory.mktemp(f"frames-{host.name}")
    comfy = ComfyUI(host, tmp / "base", {"KLING_VIDEO_HOME": str(tmp / "kling-home")})
    make_mp4(comfy.base / "input" / "kling_frames.mp4", width=640, height=360, fps=FPS, seconds=SECONDS)
    make_mp4(comfy.base / "input" / "kling_frames_silent.mp4", width=640, height=360, fps=FPS, seconds=SECONDS,
             audio=False)
    comfy.start()
    try:
        yield comfy
    finally:
        comfy.stop()


def frames_node(video, size=0, frame_cap=0, skip=0, every_nth=1):
    return {"class_type": NODE, "inputs": {"video": video, "size": size, "frame_cap": frame_cap,
                                           "skip_first_frames": skip, "every_nth": every_nth}}


def create_and_save(frames_id, prefix, audio=True):
    inputs = {"images": [frames_id, 0], "fps": [frames_id, 2]}
    if audio:
        inputs["audio"] = [frames_id, 1]
    return {"90": {"class_type": "CreateVideo", "inputs": inputs},
            "91": {"class_type": "SaveVideo", "inputs": {"video": ["90", 0], "filename_prefix": prefix,
                                                         "format": "auto", "codec": "auto"}}}


def run(comfy, prompt) -> dict:
    entry = comfy.wait(comfy.queue(prompt))
    status = entry["status"]
    errors = [m[1] for m in status.get("messages", []) if m[0] == "execution_error"]
    assert status["status_str"] == "success", [
        f"{e.get('node_type')}: {e.get('exception_message')}\n" + "".join(e.get("traceback") or []) for e in errors]
    return entry


def saved(comfy, entry):
    """(frame indices, fps, (width, height), seconds of audio or None) of what SaveVideo wrote."""
    info = entry["outputs"]["91"]["images"][0]
    path = comfy.base / "output" / info["subfolder"] / info["filename"]
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        fps, size = float(v.average_rate), (v.codec_context.width, v.codec_context.height)
        indices = [frame_index(f.to_ndarray(format="rgb24")) for f in c.decode(video=0)]
    with av.open(str(path)) as c:
        seconds = (sum(f.samples for f in c.decode(audio=0)) / c.streams.audio[0].sample_rate
                   if c.streams.audio else None)
    return indices, fps, size, seconds


def test_the_node_is_listed(comfy):
    info = comfy.get(f"/object_info/{NODE}")[NODE]
    assert info["display_name"] == "Kling Video to Frames" and info["category"] == "Kling Video/helpers"
    assert info["output"] == ["IMAGE", "AUDIO", "FLOAT"]
    assert set(info["input"]["required"]) == {"video", "size", "frame_cap", "skip_first_frames", "every_nth"}


def test_load_video_to_frames_to_create_and_save_video(comfy):
    prompt = {"1": {"class_type": "LoadVideo", "inputs": {"file": "kling_frames.mp4"}},
              "2": frames_node(["1", 0], size=320, frame_cap=10, skip=2, every_nth=2),
              **create_and_save("2", "video/frames_load")}
    indices, fps, size, seconds = saved(comfy, run(comfy, prompt))
    assert (indices, fps, size) == (list(range(2, 22, 2)), 12.0, (320, 180))
    assert seconds == pytest.approx(10 / 12, abs=0.05)  # the sound of the kept frames' span


def test_silent_video_gives_silence_of_the_frames_length(comfy):
    prompt = {"1": {"class_type": "LoadVideo", "inputs": {"file": "kling_frames_silent.mp4"}},
              "2": frames_node(["1", 0], every_nth=4),
              **create_and_save("2", "video/frames_silent")}
    indices, fps, size, seconds = saved(comfy, run(comfy, prompt))
    assert (indices, fps, size) == (list(range(0, 48, 4)), 6.0, (640, 360))
    assert seconds == pytest.approx(2.0, abs=0.05)


def test_frames_of_a_video_made_of_frames(comfy):
    # Load Video → Get Video Components → Create Video: a VideoFromComponents, cut and resized as tensors.
    prompt = {"1": {"class_type": "LoadVideo", "inputs": {"file": "kling_frames.mp4"}},
              "3": {"class_type": "GetVideoComponents", "inputs": {"video": ["1", 0]}},
              "4": {"class_type": "CreateVideo", "inputs": {"images": ["3", 0], "fps": ["3", 2], "audio": ["3", 1]}},
              "2": frames_node(["4", 0], size=480, skip=1, every_nth=3, frame_cap=5),
              **create_and_save("2", "video/frames_components")}
    indices, fps, size, seconds = saved(comfy, run(comfy, prompt))
    assert (indices, fps, size) == ([1, 4, 7, 10, 13], 8.0, (480, 270))
    assert seconds == pytest.approx(5 / 8, abs=0.05)


def test_a_trimmed_video_is_decoded_within_its_window(comfy):
    if "Video Slice" not in comfy.get("/object_info"):
        pytest.skip("this host has no Video Slice node (its VideoFromFile has no trim window)")
    prompt = {"1": {"class_type": "LoadVideo", "inputs": {"file": "kling_frames.mp4"}},
              "5": {"class_type": "Video Slice", "inputs": {"video": ["1", 0], "start_time": 0.5, "duration": 1.0,
                                                             "strict_duration": False}},
              "2": frames_node(["5", 0], every_nth=2),
              **create_and_save("2", "video/frames_sliced")}
    indices, fps, size, seconds = saved(comfy, run(comfy, prompt))
    assert (indices, fps) == (list(range(12, 36, 2)), 12.0)
    assert seconds == pytest.approx(1.0, abs=0.05)


def test_an_offset_past_the_end_is_an_error_on_the_node(comfy):
    prompt = {"1": {"class_type": "LoadVideo", "inputs": {"file": "kling_frames.mp4"}},
              "2": frames_node(["1", 0], skip=500),
              **create_and_save("2", "video/frames_none")}
    entry = comfy.wait(comfy.queue(prompt))
    assert entry["status"]["status_str"] == "error"
    errors = [m[1] for m in entry["status"]["messages"] if m[0] == "execution_error"]
    assert errors[0]["node_type"] == NODE and "skipping the first 500 leaves none" in errors[0]["exception_message"]
