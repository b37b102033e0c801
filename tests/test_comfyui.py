"""The pack inside a real ComfyUI ($COMFYUI_DIR), against the fake fal server, as a user would run it."""
import json
import os
import pathlib
import time

import av
import pytest

from comfyui_server import ComfyUI, ui_to_api
from fakes.aimlapi import FakeAimlapi
from fakes.fal import FakeFal
from fakes.kling import FakeKling
from fakes.tls import make_tls
from fakes.vercel import FakeVercel

OTHERS = {}  # the other providers' fakes, by provider name
from media import make_mp4, make_png, make_wav


COMFYUI_DIR = os.environ.get("COMFYUI_DIR")
pytestmark = pytest.mark.skipif(not COMFYUI_DIR, reason="set COMFYUI_DIR to a ComfyUI checkout to run these")

KEY = "comfy-test-key-9876543210"
ROOT = pathlib.Path(__file__).resolve().parents[1]
I2V = "KlingVideo_V26Pro_ImageToVideo"
T2V = "KlingVideo_V26Pro_TextToVideo"
SOURCE_FRAMES = 24


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("comfy")
    video = make_mp4(tmp / "result.mp4", width=320, height=240, fps=24, seconds=SOURCE_FRAMES / 24)
    (tmp / "tls").mkdir()
    tls = make_tls(tmp / "tls")
    with FakeFal(tmp / "fake", key=KEY, video_bytes=video.read_bytes(), queue_seconds=0.3,
                 progress_seconds=0.6, tls=tls) as fal, \
            FakeKling(tmp / "kling", access_key="ak-" + KEY, secret_key=KEY, video_bytes=video.read_bytes(),
                      tls=tls) as kling, \
            FakeAimlapi(tmp / "aiml", key=KEY, video_bytes=video.read_bytes(), tls=tls) as aiml, \
            FakeVercel(tmp / "vercel", key=KEY, video_bytes=video.read_bytes(), tls=tls) as vercel:
        OTHERS.update(kling=kling, aimlapi=aiml, vercel=vercel)
        env = {"FAL_KEY": KEY, "FAL_QUEUE_RUN_HOST": fal.host, "FAL_RUN_HOST": fal.host, "FAL_REST_HOST": fal.host,
               "KLINGAI_ACCESS_KEY": "ak-" + KEY, "KLINGAI_SECRET_KEY": KEY, "KLINGAI_BASE_URL": kling.base_url,
               "AIMLAPI_KEY": KEY, "AIMLAPI_BASE_URL": aiml.base_url,
               "AI_GATEWAY_API_KEY": KEY, "AI_GATEWAY_BASE_URL": vercel.base_url,
               "SSL_CERT_FILE": str(tls[1])}
        comfy = ComfyUI(COMFYUI_DIR, tmp / "base", env).start()
        inputs = comfy.base / "input"
        for name, color in (("kling_start.png", (200, 40, 40)), ("kling_end.png", (40, 40, 200))):
            make_png(inputs / name, 640, 480, color)
        for name in ("kling_motion.mp4", "kling_face.mp4"):
            make_mp4(inputs / name, width=1280, height=720, fps=24, seconds=3.0)
        make_wav(inputs / "kling_voice.wav", seconds=6.0)
        try:
            yield comfy, fal
        finally:
            comfy.stop()


@pytest.fixture
def comfy(stack):
    comfy, fal = stack
    fal.hold = False
    fal.next_outcome = "ok"
    fal.clear_injections()
    return comfy


@pytest.fixture
def fal(stack):
    return stack[1]


def kling_outputs(comfy):
    return sorted((comfy.base / "output" / "kling-video").glob("*.mp4"))


def i2v_node(prompt="a king walks slowly", **extra):
    return {"class_type": I2V, "inputs": {"start_frame": ["1", 0], "prompt": prompt,
                                          "negative_prompt": "blur", "duration": "5",
                                          "generate_audio": True, "voice_ids": "", "take": 0, "provider": "auto", **extra}}


def load_image(name):
    return {"class_type": "LoadImage", "inputs": {"image": name}}


def test_every_catalog_node_and_helper_loads(comfy):
    from comfyui_kling_video.nodes.catalog import CATALOG
    info = comfy.get("/object_info")
    ids = [v.node_id for v in CATALOG] + ["KlingVideo_Shot", "KlingVideo_Element", "KlingVideo_DynamicMask",
                                          "KlingVideo_CameraControl", "KlingVideo_PromptList"]
    missing = [i for i in ids if i not in info]
    assert not missing, f"{missing}\n{comfy.log()[-3000:]}"
    assert not [l for l in comfy.log().splitlines() if "IMPORT FAILED" in l and "kling" in l.lower()]
    for v in CATALOG:
        node = info[v.node_id]
        assert node["category"].startswith("Kling Video/")
        given = {**node["input"].get("required", {}), **node["input"].get("optional", {})}
        assert set(given) == {f.name for f in v.fields} | {"take", "provider"}, v.key


def test_object_info_shows_the_nodes(comfy):
    info = comfy.get("/object_info")
    for node_id, name in ((I2V, "Kling 2.6 Pro Image to Video"), (T2V, "Kling 2.6 Pro Text to Video")):
        node = info[node_id]
        assert node["display_name"] == name and node["category"].startswith("Kling Video")
        assert node["output"] == ["VIDEO", "IMAGE", "AUDIO", "FLOAT", "STRING"]
        assert node["output_name"][:4] == ["VIDEO", "frames", "audio", "fps"]
        assert not node.get("api_node")
    i2v = info[I2V]["input"]
    assert i2v["required"]["start_frame"][0] == "IMAGE" and i2v["optional"]["end_frame"][0] == "IMAGE"
    assert i2v["required"]["negative_prompt"][1]["default"] == "blur, distort, and low quality"
    assert i2v["required"]["generate_audio"][1]["default"] is True
    t2v = info[T2V]["input"]["required"]
    assert t2v["cfg_scale"][1]["min"] == 0 and t2v["cfg_scale"][1]["max"] == 1
    assert not any("key" in name.lower() for node in (I2V, T2V) for sect in info[node]["input"].values()
                   for name in sect)


def test_load_image_to_kling_to_save_video(comfy, fal):
    before = len(fal.submits())
    prompt = {"1": load_image("kling_start.png"), "3": load_image("kling_end.png"),
              "2": i2v_node(end_frame=["3", 0]),
              "4": {"class_type": "SaveVideo", "inputs": {"video": ["2", 0], "filename_prefix": "video/kling_i2v",
                                                           "format": "auto", "codec": "auto"}}}
    entry = comfy.wait(comfy.queue(prompt))
    assert entry["status"]["status_str"] == "success", entry["status"]
    submits = fal.submits()[before:]
    assert len(submits) == 1
    body = submits[0]["json"]
    assert body["start_image_url"].startswith("data:image/png;base64,") and "end_image_url" in body
    assert body["prompt"] == "a king walks slowly"
    saved = entry["outputs"]["4"]["images"][0]
    path = comfy.base / "output" / saved["subfolder"] / saved["filename"]
    with av.open(str(path)) as c:
        assert c.streams.video and c.streams.audio
    preview = entry["outputs"]["2"]["images"][0]
    assert preview["subfolder"] == "kling-video" and preview["type"] == "output"
    assert (comfy.base / "output" / "kling-video" / preview["filename"]).exists()


def test_prompt_list_makes_one_video_per_line(comfy, fal):
    """ComfyUI runs a node once per item of a list input: three lines, three paid videos, three files."""
    before = len(fal.submits())
    lines = ["a fox in the snow", "an owl at dusk", "a hare in the rain"]
    prompt = {"1": load_image("kling_start.png"),
              "5": {"class_type": "KlingVideo_PromptList", "inputs": {"prompts": "\n".join(lines[:2]) + "\n\n"
                                                                                + lines[2]}},
              "2": i2v_node(prompt=["5", 0], generate_audio=False),
              "4": {"class_type": "SaveVideo", "inputs": {"video": ["2", 0], "filename_prefix": "video/list",
                                                           "format": "auto", "codec": "auto"}}}
    entry = comfy.wait(comfy.queue(prompt), timeout=180)
    assert entry["status"]["status_str"] == "success", entry["status"]
    assert sorted(s["json"]["prompt"] for s in fal.submits()[before:]) == sorted(lines)
    assert len(entry["outputs"]["4"]["images"]) == 3
    info = comfy.get("/object_info/KlingVideo_PromptList")["KlingVideo_PromptList"]
    assert info["output_is_list"] == [True]


@pytest.mark.parametrize("provider", ["kling", "aimlapi", "vercel"])
def test_load_image_to_kling_on_each_provider(comfy, fal, provider):
    fake = OTHERS[provider]
    before = len(fake.submits())
    prompt = {"1": load_image("kling_start.png"), "2": i2v_node(prompt=f"on {provider}", provider=provider),
              "4": {"class_type": "SaveVideo", "inputs": {"video": ["2", 0], "filename_prefix": f"video/{provider}",
                                                           "format": "auto", "codec": "auto"}}}
    entry = comfy.wait(comfy.queue(prompt))
    assert entry["status"]["status_str"] == "success", entry["status"]
    assert len(fake.submits()) == before + 1
    saved = entry["outputs"]["4"]["images"][0]
    assert (comfy.base / "output" / saved["subfolder"] / saved["filename"]).stat().st_size > 0


def test_frames_audio_fps_to_create_video(comfy, fal):
    prompt = {"1": load_image("kling_start.png"), "2": i2v_node(prompt="frames please"),
              "5": {"class_type": "CreateVideo", "inputs": {"images": ["2", 1], "fps": ["2", 3], "audio": ["2", 2]}},
              "6": {"class_type": "SaveVideo", "inputs": {"video": ["5", 0], "filename_prefix": "video/kling_frames",
                                                           "format": "auto", "codec": "auto"}}}
    entry = comfy.wait(comfy.queue(prompt))
    assert entry["status"]["status_str"] == "success", entry["status"]
    saved = entry["outputs"]["6"]["images"][0]
    with av.open(str(comfy.base / "output" / saved["subfolder"] / saved["filename"])) as c:
        frames = sum(1 for _ in c.decode(video=0))
        assert c.streams.audio, "the soundtrack made it through CreateVideo"
        assert float(c.streams.video[0].average_rate) == pytest.approx(24, abs=0.01)
    assert frames == SOURCE_FRAMES  # all frames were decoded, not the unconnected placeholder


def test_connecting_frames_later_decodes_them_without_paying_again(comfy, fal):
    base = {"1": load_image("kling_start.png"), "2": i2v_node(prompt="connect later"),
            "4": {"class_type": "SaveVideo", "inputs": {"video": ["2", 0], "filename_prefix": "video/later",
                                                         "format": "auto", "codec": "auto"}}}
    before = len(fal.submits())
    assert comfy.wait(comfy.queue(base))["status"]["status_str"] == "success"
    later = {**base, "5": {"class_type": "CreateVideo", "inputs": {"images": ["2", 1], "fps": ["2", 3]}},
             "6": {"class_type": "SaveVideo", "inputs": {"video": ["5", 0], "filename_prefix": "video/later_frames",
                                                          "format": "auto", "codec": "auto"}}}
    entry = comfy.wait(comfy.queue(later))
    assert entry["status"]["status_str"] == "success", entry["status"]
    saved = entry["outputs"]["6"]["images"][0]
    with av.open(str(comfy.base / "output" / saved["subfolder"] / saved["filename"])) as c:
        assert sum(1 for _ in c.decode(video=0)) == SOURCE_FRAMES
    assert len(fal.submits()) == before + 1


def test_two_kling_nodes_in_one_prompt_overlap(comfy, fal):
    fal.progress_seconds = 1.5
    try:
        before = len(fal.submits())
        prompt = {}
        for n, text in ((1, "first boat"), (3, "second boat")):
            prompt[str(n)] = {"class_type": T2V, "inputs": {"prompt": text, "duration": "5", "aspect_ratio": "16:9",
                                                            "negative_prompt": "", "cfg_scale": 0.5,
                                                            "generate_audio": False, "take": 0, "provider": "auto"}}
            prompt[str(n + 1)] = {"class_type": "SaveVideo", "inputs": {
                "video": [str(n), 0], "filename_prefix": f"video/overlap{n}", "format": "auto", "codec": "auto"}}
        entry = comfy.wait(comfy.queue(prompt))
        assert entry["status"]["status_str"] == "success", entry["status"]
    finally:
        fal.progress_seconds = 0.6
    submits = fal.submits()[before:]
    ids = {s["request_id"] for s in submits}
    completed = [e["t"] for e in fal.events("completed") if e["request_id"] in ids]
    assert len(submits) == 2 and max(s["t"] for s in submits) < min(completed)
    assert "negative_prompt" not in submits[0]["json"]  # an emptied optional field is left out


def test_interrupt_cancels_at_fal(comfy, fal):
    fal.hold = True
    before = len(fal.submits())
    prompt = {"1": load_image("kling_start.png"), "2": i2v_node(prompt="interrupt me"),
              "4": {"class_type": "SaveVideo", "inputs": {"video": ["2", 0], "filename_prefix": "video/int",
                                                           "format": "auto", "codec": "auto"}}}
    pid = comfy.queue(prompt)
    deadline = time.monotonic() + 30
    while len(fal.submits()) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    comfy.post("/interrupt", {})
    entry = comfy.wait(pid)
    assert entry["status"]["status_str"] == "error"
    assert any(m[0] == "execution_interrupted" for m in entry["status"]["messages"])
    rid = fal.submits()[-1]["request_id"]
    assert fal.jobs[rid].cancelled and fal.count("cancel") >= 1


def test_bad_input_is_refused_before_any_request(comfy, fal):
    before = len(fal.log)
    entry = comfy.wait(comfy.queue({"1": load_image("kling_start.png"), "2": i2v_node(prompt="   "),
                                    "4": {"class_type": "SaveVideo", "inputs": {
                                        "video": ["2", 0], "filename_prefix": "video/bad",
                                        "format": "auto", "codec": "auto"}}}))
    assert entry["status"]["status_str"] == "error"
    error = next(m[1] for m in entry["status"]["messages"] if m[0] == "execution_error")
    assert "prompt: must not be empty" in error["exception_message"]
    assert len(fal.log) == before


def test_provider_error_is_shown(comfy, fal):
    fal.next_outcome = ("error", {"error": "Kling could not generate: image rejected",
                                  "error_type": "content_policy_violation", "result_status": 422,
                                  "result_body": {"detail": [{"loc": ["body", "prompt"], "msg": "flagged",
                                                              "type": "content_policy_violation"}]}})
    entry = comfy.wait(comfy.queue({"1": {"class_type": T2V, "inputs": {
        "prompt": "flag me", "duration": "5", "aspect_ratio": "1:1", "negative_prompt": "", "cfg_scale": 0.5,
        "generate_audio": True, "take": 0, "provider": "auto"}}, "2": {"class_type": "SaveVideo", "inputs": {
            "video": ["1", 0], "filename_prefix": "video/err", "format": "auto", "codec": "auto"}}}))
    error = next(m[1] for m in entry["status"]["messages"] if m[0] == "execution_error")
    assert "image rejected" in error["exception_message"] and "prompt: flagged" in error["exception_message"]


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "example_workflows").glob("*.json")))
def test_example_workflows_run(comfy, fal, name):
    workflow = json.loads((ROOT / "example_workflows" / name).read_text())
    info = comfy.get("/object_info")
    missing = {n["type"] for n in workflow["nodes"]} - set(info)
    # PreviewAudio/SaveAudio need torchaudio, which the test environment may lack; nothing else may be missing.
    assert missing <= {"PreviewAudio", "SaveAudio"}, missing
    workflow["nodes"] = [n for n in workflow["nodes"] if n["type"] not in missing]
    entry = comfy.wait(comfy.queue(ui_to_api(workflow, info)))
    assert entry["status"]["status_str"] == "success", entry["status"]


def test_templates_are_served(comfy):
    templates = comfy.get("/api/workflow_templates")
    ours = next(v for k, v in templates.items() if "kling" in k.lower())
    assert sorted(ours) == sorted(p.stem for p in (ROOT / "example_workflows").glob("*.json"))


def test_key_never_leaves_the_environment(comfy, fal):
    # runs last in this module: everything ComfyUI wrote so far must be free of the key
    assert KEY not in comfy.log()
    assert KEY not in json.dumps(comfy.get("/history"))
    journal = list((comfy.base / "user" / "kling-video").rglob("*"))
    assert any(p.name == "spend.jsonl" for p in journal) and any(p.suffix == ".json" for p in journal)
    for path in list((comfy.base / "output").rglob("*")) + journal:
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_live_price_route_and_badge_script(comfy):
    quote = lambda node, **values: comfy.post("/kling_video/price", {"node_type": node, "values": values})
    assert quote(I2V, duration="5", generate_audio=True, voice_ids="")["text"] == "$0.70"
    assert quote(I2V, duration="10", generate_audio=True, voice_ids="")["text"] == "$1.40"
    assert quote(I2V, duration="5", generate_audio=False, voice_ids="")["text"] == "$0.35"
    assert quote(I2V, duration="5", generate_audio=True, voice_ids="v1")["text"] == "$0.84"
    assert quote("KlingVideo_V16Pro_TextToVideo", duration="5")["text"] == "price unknown"
    import urllib.request
    with urllib.request.urlopen(comfy.url + "/extensions/comfyui-kling-video/kling_price.js") as r:
        assert b"/kling_video/price" in r.read()
