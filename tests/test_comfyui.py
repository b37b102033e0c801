"""The pack inside each real ComfyUI host (tests/comfyui_server.py: hosts()), against the fake providers,
as a user would run it. Every test runs once per host."""
import asyncio
import base64
import io
import json
import pathlib
import struct
import time
import uuid

import av
import pytest

from comfyui_server import ComfyUI, host_params, ui_to_api, vhs_dir
from fakes.aimlapi import FakeAimlapi
from fakes.fal import FakeFal
from fakes.kling import FakeKling
from fakes.tls import make_tls
from fakes.vercel import FakeVercel

OTHERS = {}  # the other providers' fakes, by provider name
from media import make_mp4, make_png, make_wav

KEY = "comfy-test-key-9876543210"
ROOT = pathlib.Path(__file__).resolve().parents[1]
I2V = "KlingVideo_V26Pro_ImageToVideo"
T2V = "KlingVideo_V26Pro_TextToVideo"
SOURCE_FRAMES = 24
PROBE = pathlib.Path(__file__).resolve().parent / "comfy_probe"  # a test-only node: sees the route table


@pytest.fixture(scope="module", params=host_params())
def host(request):
    return request.param


@pytest.fixture(scope="module")
def stack(host, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"comfy-{host.name}")
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
        env = {"FAL_KEY": KEY, "FAL_QUEUE_RUN_HOST": fal.host, "FAL_RUN_HOST": fal.host, "FAL_REST_HOST": fal.host, "FAL_API_HOST": fal.host,
               "KLINGAI_ACCESS_KEY": "ak-" + KEY, "KLINGAI_SECRET_KEY": KEY, "KLINGAI_BASE_URL": kling.base_url,
               "AIMLAPI_KEY": KEY, "AIMLAPI_BASE_URL": aiml.base_url,
               "AI_GATEWAY_API_KEY": KEY, "AI_GATEWAY_BASE_URL": vercel.base_url,
               "SSL_CERT_FILE": str(tls[1])}
        vhs = vhs_dir()
        comfy = ComfyUI(host, tmp / "base", env, custom_nodes=[PROBE] + ([vhs] if vhs else [])).start()
        comfy.has_vhs = bool(vhs)
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


def assert_success(entry):
    status = entry["status"]
    errors = [m[1] for m in status.get("messages", []) if m[0] == "execution_error"]
    assert status["status_str"] == "success", (
        "; ".join(f"{e.get('node_type')}: {e.get('exception_type')}: {e.get('exception_message')}\n"
                  + "".join(e.get("traceback") or []) for e in errors) or status)


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
    from comfyui_kling_video.nodes.catalog.kling_only import KLING_ONLY
    CATALOG = CATALOG + KLING_ONLY
    info = comfy.get("/object_info")
    ids = [v.node_id for v in CATALOG] + ["KlingVideo_Shot", "KlingVideo_Element", "KlingVideo_DynamicMask",
                                          "KlingVideo_CameraControl", "KlingVideo_PromptList", "KlingVideo_VideoToFrames"]
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
    assert_success(entry)
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
    assert_success(entry)
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
    assert_success(entry)
    assert len(fake.submits()) == before + 1
    saved = entry["outputs"]["4"]["images"][0]
    assert (comfy.base / "output" / saved["subfolder"] / saved["filename"]).stat().st_size > 0


def test_frames_audio_fps_to_create_video(comfy, fal):
    prompt = {"1": load_image("kling_start.png"), "2": i2v_node(prompt="frames please"),
              "5": {"class_type": "CreateVideo", "inputs": {"images": ["2", 1], "fps": ["2", 3], "audio": ["2", 2]}},
              "6": {"class_type": "SaveVideo", "inputs": {"video": ["5", 0], "filename_prefix": "video/kling_frames",
                                                           "format": "auto", "codec": "auto"}}}
    entry = comfy.wait(comfy.queue(prompt))
    assert_success(entry)
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
    assert_success(comfy.wait(comfy.queue(base)))
    later = {**base, "5": {"class_type": "CreateVideo", "inputs": {"images": ["2", 1], "fps": ["2", 3]}},
             "6": {"class_type": "SaveVideo", "inputs": {"video": ["5", 0], "filename_prefix": "video/later_frames",
                                                          "format": "auto", "codec": "auto"}}}
    entry = comfy.wait(comfy.queue(later))
    assert_success(entry)
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
        assert_success(entry)
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
    assert_success(entry)


def test_templates_are_served(comfy):
    templates = comfy.get("/api/workflow_templates")
    ours = next(v for k, v in templates.items() if "kling" in k.lower())
    assert sorted(ours) == sorted(p.stem for p in (ROOT / "example_workflows").glob("*.json"))


# -- what newer hosts changed ------------------------------------------------------------------------

def test_routes_are_registered_once_whichever_hook_comes_first(comfy):
    """0.3.75 calls only get_node_list(); 0.33 calls on_load() first. Either way one POST /kling_video/price,
    and calling the hooks again (another host, another order) adds none."""
    price = {"method": "POST", "path": "/kling_video/price"}
    assert comfy.get("/kling_test/route_count?method=POST&path=/kling_video/price") == {"table": 1, "app": 1}
    for order in (["on_load", "get_node_list"], ["get_node_list", "on_load"], ["get_node_list"]):
        assert comfy.post("/kling_test/call_hooks", {**price, "order": order})["table"] == 1, order
    for path in ("/kling_video/jobs", "/kling_video/keys"):
        assert comfy.get(f"/kling_test/route_count?method=GET&path={path}")["table"] <= 1, path
    assert comfy.post("/kling_video/price", {"node_type": I2V, "values": {"duration": "5"}})["usd"] is not None


def run_and_listen(comfy, prompt, timeout=120):
    """Queue `prompt` as the frontend does (its own websocket client id) and collect what the host sends that
    client: (history entry, [(node id, progress text)], [json messages])."""
    import aiohttp
    client_id = uuid.uuid4().hex
    texts, messages = [], []

    async def listen():
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"{comfy.url}/ws?clientId={client_id}") as ws:
                async with session.post(f"{comfy.url}/prompt",
                                        json={"prompt": prompt, "client_id": client_id}) as r:
                    queued = await r.json()
                    assert r.status == 200, f"POST /prompt -> {r.status}: {queued}"
                    prompt_id = queued["prompt_id"]
                while True:
                    msg = await ws.receive(timeout=timeout)
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        kind, = struct.unpack(">I", msg.data[:4])
                        if kind == 3:  # BinaryEventTypes.TEXT: >I node-id length, node id, text
                            n, = struct.unpack(">I", msg.data[4:8])
                            texts.append((msg.data[8:8 + n].decode(), msg.data[8 + n:].decode()))
                    elif msg.type == aiohttp.WSMsgType.TEXT:
                        data = json.loads(msg.data)
                        messages.append(data)
                        if (data["type"] in ("execution_success", "execution_error", "execution_interrupted")
                                and data["data"].get("prompt_id") == prompt_id):
                            return prompt_id
                    else:
                        raise AssertionError(f"websocket closed: {msg}")

    prompt_id = asyncio.run(listen())
    return comfy.wait(prompt_id), texts, messages


def test_progress_text_and_preview_reach_the_frontend(comfy, fal):
    entry, texts, messages = run_and_listen(comfy, {"1": load_image("kling_start.png"),
                                                    "2": i2v_node(prompt="tell me how it goes"),
                                                    "3": save_video(["2", 0], "video/listen")})
    assert_success(entry)
    ours = [text for node, text in texts if node == "2"]
    assert any("request " in t for t in ours), texts
    assert ours[-1].startswith("done: est. $0.70"), ours[-1]
    executed = [m["data"] for m in messages if m["type"] == "executed" and m["data"]["node"] == "2"]
    preview = executed[-1]["output"]["images"][0]
    assert preview["subfolder"] == "kling-video" and preview["type"] == "output", preview


def test_voice_node_shows_its_text(comfy, fal):
    """ui.PreviewText on the voice node: the frontend gets the voice id as the node's text output."""
    entry = comfy.wait(comfy.queue({"1": {"class_type": "LoadAudio", "inputs": {"audio": "kling_voice.wav"}},
                                    "2": {"class_type": "KlingVideo_CreateVoice", "inputs": {
                                        "voice_audio": ["1", 0], "take": 0, "provider": "auto"}},
                                    "3": load_image("kling_start.png"),
                                    "4": i2v_node(prompt="say <<<voice_1>>> hello", start_frame=["3", 0],
                                                  voice_ids=["2", 0]),
                                    "5": save_video(["4", 0], "video/voice")}))
    assert_success(entry)
    assert any("voice id:" in t for t in entry["outputs"]["2"]["text"]), entry["outputs"]["2"]


def test_kling_video_splits_into_components(comfy, fal):
    """The pack's VIDEO (VideoFromFile) in core Get Video Components: every frame, the fps, the soundtrack."""
    prompt = {"1": load_image("kling_start.png"), "2": i2v_node(prompt="split me"),
              "3": {"class_type": "GetVideoComponents", "inputs": {"video": ["2", 0]}},
              "4": {"class_type": "CreateVideo", "inputs": {"images": ["3", 0], "fps": ["3", 2], "audio": ["3", 1]}},
              "5": save_video(["4", 0], "video/components")}
    entry = comfy.wait(comfy.queue(prompt))
    assert_success(entry)
    frames, fps, has_audio, _ = video_stats(saved_file(comfy, entry, "5").read_bytes())
    assert (frames, round(fps), has_audio) == (SOURCE_FRAMES, 24, True)


# -- what users wire next to Kling nodes: VideoHelperSuite and core video nodes ----------------------

def save_video(video, prefix):
    return {"class_type": "SaveVideo", "inputs": {"video": video, "filename_prefix": prefix,
                                                  "format": "auto", "codec": "auto"}}


def saved_file(comfy, entry, node_id, key="images"):
    saved = entry["outputs"][node_id][key][0]
    return comfy.base / saved.get("type", "output") / saved["subfolder"] / saved["filename"]


def video_stats(data: bytes):
    """(decoded frames, fps, has audio, (width, height)) of an encoded video."""
    with av.open(io.BytesIO(data)) as c:
        stream = c.streams.video[0]
        size = (stream.codec_context.width, stream.codec_context.height)
        fps = float(stream.average_rate)
        has_audio = bool(c.streams.audio)
        return sum(1 for _ in c.decode(video=0)), fps, has_audio, size


def sent_media(fal, url: str) -> bytes:
    """The bytes the pack sent for a *_url field: a data: URI, or a file it uploaded to the fake's storage."""
    if url.startswith("data:"):
        return base64.b64decode(url.split(",", 1)[1])
    return fal.uploaded(url)


def wav_seconds(data: bytes) -> float:
    import wave
    with wave.open(io.BytesIO(data)) as w:
        return w.getnframes() / w.getframerate()


def vhs_load_video(name):
    return {"class_type": "VHS_LoadVideo", "inputs": {
        "video": name, "force_rate": 0, "custom_width": 0, "custom_height": 0, "frame_load_cap": 0,
        "skip_first_frames": 0, "select_every_nth": 1, "format": "None"}}


def vhs_frames_to_create_video(load_id, audio: bool):
    """VHS Load Video's frames (and soundtrack) at its own fps into core Create Video: node ids v1, v2."""
    return {"v1": {"class_type": "VHS_VideoInfo", "inputs": {"video_info": [load_id, 3]}},
            "v2": {"class_type": "CreateVideo", "inputs": {"images": [load_id, 0], "fps": ["v1", 5],
                                                            **({"audio": [load_id, 2]} if audio else {})}}}


@pytest.fixture
def vhs(comfy):
    if not comfy.has_vhs:
        pytest.skip("VideoHelperSuite is not set up (tests/setup_comfyui_033.sh unpacks it)")
    return comfy


def last_submit(fal, before, endpoint_part):
    """The one request body submitted since `before`, to an endpoint whose path contains endpoint_part."""
    submits = fal.submits()[before:]
    assert len(submits) == 1 and endpoint_part in submits[0]["path"], [s["path"] for s in submits]
    return submits[0]["json"]


def test_kling_frames_audio_fps_into_vhs_video_combine(vhs, fal):
    comfy = vhs
    prompt = {"1": load_image("kling_start.png"), "2": i2v_node(prompt="into vhs"),
              "3": {"class_type": "VHS_VideoCombine", "inputs": {
                  "images": ["2", 1], "frame_rate": ["2", 3], "audio": ["2", 2], "loop_count": 0,
                  "filename_prefix": "kling_vhs", "format": "video/h264-mp4", "pingpong": False, "save_output": True,
                  "pix_fmt": "yuv420p", "crf": 19, "save_metadata": True, "trim_to_audio": False}}}
    entry = comfy.wait(comfy.queue(prompt))
    assert_success(entry)
    frames, fps, has_audio, size = video_stats(saved_file(comfy, entry, "3", key="gifs").read_bytes())
    assert (frames, round(fps), has_audio, size) == (SOURCE_FRAMES, 24, True, (320, 240))


def test_vhs_load_video_through_create_video_into_lip_sync(vhs, fal):
    """VHS's frames + soundtrack → core Create Video (a VideoFromComponents) → Kling lip sync, with VHS's
    audio (a LazyAudioMap, not a dict) as the speech: the face video is sent as a real MP4 of every frame."""
    comfy = vhs
    before = len(fal.submits())
    prompt = {"10": vhs_load_video("kling_face.mp4"), **vhs_frames_to_create_video("10", audio=True),
              "13": {"class_type": "KlingVideo_Lipsync_AudioToVideo", "inputs": {
                  "video": ["v2", 0], "audio": ["10", 2], "take": 0, "provider": "auto"}},
              "14": save_video(["13", 0], "video/vhs_lipsync")}
    entry = comfy.wait(comfy.queue(prompt))
    assert_success(entry)
    body = last_submit(fal, before, "lipsync")
    frames, fps, has_audio, size = video_stats(sent_media(fal, body["video_url"]))
    assert (frames, round(fps), has_audio, size) == (72, 24, True, (1280, 720))
    assert wav_seconds(sent_media(fal, body["audio_url"])) == pytest.approx(3.0, abs=0.05)


def test_vhs_frames_through_create_video_into_motion_control(vhs, fal):
    comfy = vhs
    before = len(fal.submits())
    prompt = {"20": vhs_load_video("kling_motion.mp4"), **vhs_frames_to_create_video("20", audio=False),
              "23": load_image("kling_start.png"),
              "24": {"class_type": "KlingVideo_V26Pro_MotionControl", "inputs": {
                  "image": ["23", 0], "reference_video": ["v2", 0], "character_orientation": "video",
                  "prompt": "dance", "keep_original_sound": True, "take": 0, "provider": "auto"}},
              "25": save_video(["24", 0], "video/vhs_motion")}
    entry = comfy.wait(comfy.queue(prompt))
    assert_success(entry)
    frames, fps, has_audio, size = video_stats(sent_media(fal, last_submit(fal, before, "motion")["video_url"]))
    assert (frames, round(fps), has_audio, size) == (72, 24, False, (1280, 720))


def test_vhs_audio_into_ai_avatar(vhs, fal):
    """VHS Load Video's soundtrack (a LazyAudioMap) as an avatar's speech; its 3 s price the avatar
    ($0.0562/s), and VHS Load Audio's plain dict works too."""
    comfy = vhs
    for loader, out, seconds, price in (
            (vhs_load_video("kling_face.mp4"), 2, 3.0, "$0.17"),
            ({"class_type": "VHS_LoadAudioUpload", "inputs": {"audio": "kling_voice.wav", "start_time": 0,
                                                              "duration": 0}}, 0, 6.0, "$0.34")):
        before = len(fal.submits())
        prompt = {"30": loader, "31": load_image("kling_start.png"),
                  "32": {"class_type": "KlingVideo_AIAvatar_V2Std", "inputs": {
                      "image": ["31", 0], "audio": ["30", out], "prompt": f"vhs {seconds:g} s", "take": 0,
                      "provider": "auto"}},  # its own prompt: the example workflow's request is cached
                  "33": save_video(["32", 0], "video/vhs_avatar")}
        entry, texts, _ = run_and_listen(comfy, prompt)
        assert_success(entry)
        sent = sent_media(fal, last_submit(fal, before, "avatar")["audio_url"])
        assert wav_seconds(sent) == pytest.approx(seconds, abs=0.05)
        assert [t for node, t in texts if node == "32"][-1].startswith(f"done: est. {price}"), texts


def test_trimmed_video_is_sent_trimmed(comfy, fal):
    """ComfyUI 0.33's Video Slice gives a VideoFromFile with a trim window over the whole file: the pack must
    send the slice, not the file."""
    if "Video Slice" not in comfy.get("/object_info"):
        pytest.skip("this host has no Video Slice node (its VideoFromFile has no trim window)")
    before = len(fal.submits())
    prompt = {"40": {"class_type": "LoadVideo", "inputs": {"file": "kling_face.mp4"}},
              "41": {"class_type": "Video Slice", "inputs": {"video": ["40", 0], "start_time": 0.5, "duration": 2.0,
                                                              "strict_duration": False}},
              "42": {"class_type": "LoadAudio", "inputs": {"audio": "kling_voice.wav"}},
              "43": {"class_type": "KlingVideo_Lipsync_AudioToVideo", "inputs": {
                  "video": ["41", 0], "audio": ["42", 0], "take": 0, "provider": "auto"}},
              "44": save_video(["43", 0], "video/sliced")}
    entry = comfy.wait(comfy.queue(prompt))
    assert_success(entry)
    frames, fps, _, size = video_stats(sent_media(fal, last_submit(fal, before, "lipsync")["video_url"]))
    assert (frames, round(fps), size) == (48, 24, (1280, 720))


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
