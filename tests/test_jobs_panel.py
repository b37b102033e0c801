"""The jobs panel: the journal's jobs listed without secrets, a paid result collected with no second submit,
today's spend; its HTTP routes in a bare aiohttp app and once in a real ComfyUI ($COMFYUI_DIR)."""
import asyncio
import json
import os
import pathlib
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from comfyui_kling_video.nodes.jobs import panel as jobs_panel
from comfyui_kling_video.nodes.comfyui import jobs_routes
from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.core.errors import Interrupted
from comfyui_kling_video.nodes.jobs.generate import generate, request_hash
from comfyui_kling_video.nodes.jobs.journal import Journal
from comfyui_kling_video.nodes.request import prepare
from conftest import wait_for

ROOT = pathlib.Path(__file__).resolve().parents[1]
KEY = "test-key-0123456789"  # conftest's fal_env key
T2V = variant("t2v")
EVIL = {"Origin": "http://evil.example"}


def t2v(out, prompt="panel", **options):
    return generate(lambda: prepare(T2V, {"prompt": prompt}), out, **options)


def interrupted_while_downloading(fal_env, tmp_path, prompt="panel"):
    """Run a job and interrupt it once fal has it finished and the download has begun: paid, not saved."""
    fal_env.queue_seconds, fal_env.progress_seconds = 0.1, 0.2
    fal_env.inject("file", delay=10)
    with pytest.raises(Interrupted):
        asyncio.run(t2v(tmp_path / "node-out", prompt, interrupted=lambda: fal_env.count("file") > 0))
    [entry] = [j for j in jobs_panel.list_jobs() if j["hash"] == request_hash(prepare(T2V, {"prompt": prompt}))]
    return entry


def test_interrupted_job_is_listed_as_collectable_and_collected_without_a_second_submit(fal_env, tmp_path):
    entry = interrupted_while_downloading(fal_env, tmp_path)
    [submit] = fal_env.submits()
    assert entry["state"] == "completed" and entry["collectable"] and not entry["running"]
    assert entry["request_id"] == submit["request_id"] and entry["provider"] == "fal"
    assert entry["provider_title"] == "fal.ai" and entry["model"] == T2V.endpoint
    assert entry["variant"] == T2V.key and entry["node"] == T2V.display_name
    assert entry["cost_usd"] == pytest.approx(0.70) and "0.70" in entry["cost"]
    assert 0 <= entry["age_s"] < 60 and entry["path"] is None and not entry["file_exists"]

    out = tmp_path / "comfy-output"
    path = asyncio.run(jobs_panel.collect(entry["hash"], out))
    assert path.parent == out / "kling-video" and path.read_bytes() == fal_env.video_bytes
    assert fal_env.count("submit") == 1
    [after] = jobs_panel.list_jobs()
    assert after["state"] == "downloaded" and not after["collectable"]
    assert after["path"] == str(path) and after["file_exists"]
    # the node's next run of the same request is the collected file, still with no new job
    _, done = asyncio.run(t2v(tmp_path / "node-out"))
    assert done.path == path and fal_env.count("submit") == 1


def test_collect_refuses_what_has_nothing_to_collect_without_asking_fal(fal_env, tmp_path):
    journal = Journal()
    # ("cancelled" is collectable: the provider may have ignored the cancel; test_money.py covers it)
    states = {"a" * 64: "downloaded", "b" * 64: "failed", "d" * 64: "pending"}
    for key, state in states.items():
        journal.put(key, {"state": state, "provider": "fal", "endpoint": T2V.endpoint, "variant": T2V.key,
                          "request_id": "r-" + key[:4], "path": str(tmp_path / "x.mp4")})
    for key in states:
        with pytest.raises(jobs_panel.CollectRefused) as err:
            asyncio.run(jobs_panel.collect(key, tmp_path))
        assert err.value.status == 409
    for key, status in (("e" * 64, 404), ("../../etc/passwd", 400), ("A" * 64, 400)):
        with pytest.raises(jobs_panel.CollectRefused) as err:
            asyncio.run(jobs_panel.collect(key, tmp_path))
        assert err.value.status == status
    assert fal_env.log.snapshot() == [] and not (tmp_path / "kling-video").exists()
    assert not any(j["collectable"] for j in jobs_panel.list_jobs())


def test_listing_never_carries_a_key_or_media(fal_env, tmp_path):
    asyncio.run(t2v(tmp_path))
    journal = Journal()
    [record] = journal.all()
    # whatever a provider might put in a record, the listing shows picked fields, scrubbed
    data_uri = "data:image/png;base64," + "iVBORw0KGgo" * 20
    journal.update(record["key"], error=f"rejected key {KEY} for {data_uri}",
                   handle_data={"token": KEY, "image": data_uri}, result={"echo": KEY})
    listed = jobs_panel.list_jobs()
    text = json.dumps(listed)
    assert KEY not in text and "iVBORw0KGgo" * 2 not in text
    assert "<FAL_KEY>" in listed[0]["error"]
    assert not {"handle_data", "result", "body"} & set(listed[0])


def test_spend_today_and_cap(fal_env, tmp_path, monkeypatch):
    assert jobs_panel.spend_today() == 0
    monkeypatch.delenv("KLING_VIDEO_MAX_USD", raising=False)
    assert jobs_panel.cap_usd() is None
    asyncio.run(t2v(tmp_path, "one"))
    asyncio.run(t2v(tmp_path, "two"))
    asyncio.run(t2v(tmp_path, "one"))  # cached: free
    assert jobs_panel.spend_today() == pytest.approx(1.40)
    monkeypatch.setenv("KLING_VIDEO_MAX_USD", "5")
    assert jobs_panel.cap_usd() == 5.0
    monkeypatch.setenv("KLING_VIDEO_MAX_USD", "lots")
    assert jobs_panel.cap_usd() is None


def test_collect_while_the_node_runs_the_job_shares_it(fal_env, tmp_path):
    fal_env.queue_seconds, fal_env.progress_seconds = 0.1, 1.0
    out = tmp_path / "comfy-output"

    async def both():
        node = asyncio.ensure_future(t2v(out / "kling-video"))
        while not (jobs_panel.list_jobs() and jobs_panel.list_jobs()[0]["state"] == "submitted"):
            await asyncio.sleep(0.02)
        [entry] = jobs_panel.list_jobs()
        assert entry["running"] and not entry["collectable"]
        collected = await jobs_panel.collect(entry["hash"], out)
        return (await node)[1].path, collected

    node_path, collected = asyncio.run(both())
    assert node_path == collected and fal_env.count("submit") == 1 and fal_env.count("file") == 1


# -- the routes ------------------------------------------------------------------------------------------
async def _client(out) -> TestClient:
    routes = web.RouteTableDef()
    jobs_routes.register(routes, output_dir=lambda: out)
    app = web.Application()
    app.add_routes(routes)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


def test_routes_list_and_collect_a_job_of_a_killed_process(fal_env, tmp_path, monkeypatch):
    monkeypatch.setenv("KLING_VIDEO_MAX_USD", "3")
    fal_env.queue_seconds, fal_env.progress_seconds = 0.2, 3.0
    cli = subprocess.Popen([sys.executable, str(ROOT), "t2v", "--prompt", "crash", "--out", str(tmp_path / "c.mp4")],
                           env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: fal_env.submits() and fal_env.submits()[0].get("request_id")
             and fal_env.status_of(fal_env.submits()[0]["request_id"]) == "IN_PROGRESS")
    cli.send_signal(signal.SIGKILL)
    cli.wait(10)
    rid = fal_env.submits()[0]["request_id"]
    out = tmp_path / "comfy-output"

    async def scenario():
        client = await _client(out)
        try:
            r = await client.get("/kling_video/jobs")
            listing = await r.json()
            assert r.status == 200 and listing["cap_usd"] == 3.0
            assert listing["spend_today_usd"] == pytest.approx(0.70)
            [job] = listing["jobs"]
            assert job["state"] == "submitted" and job["collectable"] and job["request_id"] == rid
            collect = f"/kling_video/jobs/{job['hash']}/collect"
            for method in (client.get("/kling_video/jobs", headers=EVIL), client.post(collect, headers=EVIL),
                           client.post(collect, headers={"Origin": "null"})):
                r = await method
                assert r.status == 403 and "cross-origin" in (await r.json())["error"]
            assert not out.exists() and Journal().get(job["hash"])["state"] == "submitted"
            # a browser on the page itself names the same origin as the Host it talks to
            r = await client.post(collect, headers={"Origin": f"http://{client.host}:{client.port}"})
            saved = await r.json()
            assert r.status == 200, saved
            after = (await (await client.get("/kling_video/jobs")).json())["jobs"][0]
            r = await client.post(collect)
            again = r.status, (await r.json())["error"]
            return saved, after, again
        finally:
            await client.close()

    saved, after, again = asyncio.run(scenario())
    path = out / "kling-video" / saved["file"]
    assert path.read_bytes() == fal_env.video_bytes and rid.replace("/", "_") in saved["file"]
    assert saved["url"] == f"/view?filename={saved['file']}&subfolder=kling-video&type=output"
    assert after["state"] == "downloaded" and after["url"] == saved["url"]
    assert again[0] == 409 and "already saved" in again[1]
    assert fal_env.count("submit") == 1 and fal_env.count("stream") + fal_env.count("status") >= 2


# -- in a real ComfyUI -----------------------------------------------------------------------------------
COMFY_KEY = "comfy-jobs-key-9876543210"
T2V_NODE = "KlingVideo_V26Pro_TextToVideo"


def _request(comfy, method, path, headers=None):
    req = urllib.request.Request(comfy.url + path, method=method, headers=headers or {},
                                 data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.mark.skipif(not os.environ.get("COMFYUI_DIR"), reason="set COMFYUI_DIR to a ComfyUI checkout")
def test_in_comfyui_an_interrupted_job_is_collected_from_the_panel_routes(tmp_path):
    from comfyui_server import ComfyUI
    from fakes.fal import FakeFal
    from media import make_mp4

    video = make_mp4(tmp_path / "result.mp4", width=320, height=240, fps=24, seconds=1.0).read_bytes()
    with FakeFal(tmp_path / "fake", key=COMFY_KEY, video_bytes=video, queue_seconds=0.2,
                 progress_seconds=0.3) as fal:
        env = {"FAL_KEY": COMFY_KEY, "FAL_QUEUE_RUN_HOST": fal.host, "FAL_RUN_HOST": fal.host,
               "FAL_REST_HOST": fal.host, "FAL_API_HOST": fal.host, "SSL_CERT_FILE": str(fal.ca_path)}
        for var in ("KLING_VIDEO_HOME", "KLING_VIDEO_MAX_USD"):
            env[var] = ""
        comfy = ComfyUI(os.environ["COMFYUI_DIR"], tmp_path / "base", env).start()
        try:
            fal.inject("file", delay=20)  # the download hangs: the user interrupts it
            pid = comfy.queue({"1": {"class_type": T2V_NODE, "inputs": {
                "prompt": "collect me", "duration": "5", "aspect_ratio": "16:9", "negative_prompt": "",
                "cfg_scale": 0.5, "generate_audio": True, "take": 0, "provider": "auto"}},
                "2": {"class_type": "SaveVideo", "inputs": {"video": ["1", 0], "filename_prefix": "video/jobs",
                                                            "format": "auto", "codec": "auto"}}})
            wait_for(lambda: fal.count("file") > 0, timeout=60)
            comfy.post("/interrupt", {})
            assert comfy.wait(pid)["status"]["status_str"] == "error"

            status, body = _request(comfy, "GET", "/kling_video/jobs")
            listing = json.loads(body)
            [job] = listing["jobs"]
            assert status == 200 and job["state"] == "completed" and job["collectable"]
            assert listing["spend_today_usd"] == pytest.approx(0.70) and listing["cap_usd"] is None
            collect = f"/kling_video/jobs/{job['hash']}/collect"
            # ComfyUI's own origin check only guards loopback Hosts; ours refuses a LAN address too
            lan = {"Host": f"192.0.2.7:{comfy.port}"}
            status, body = _request(comfy, "POST", collect, {**lan, **EVIL})
            assert status == 403 and b"cross-origin" in body
            assert not list((comfy.base / "output" / "kling-video").glob("*.mp4"))
            status, body = _request(comfy, "POST", collect, {**lan, "Origin": f"http://192.0.2.7:{comfy.port}"})
            assert status == 200, body
            saved = json.loads(body)
            status, served = _request(comfy, "GET", saved["url"])
            assert status == 200 and served == video
            assert fal.count("submit") == 1
            # the frontend calls the routes under /api/ and loads the tab's script next to its logic module
            status, body = _request(comfy, "GET", "/api/kling_video/jobs")
            assert status == 200 and json.loads(body)["jobs"][0]["state"] == "downloaded"
            status, script = _request(comfy, "GET", "/extensions/comfyui-kling-video/kling_jobs.js")
            assert status == 200 and b'"kling-video-jobs"' in script and b"./kling_jobs_logic.js" in script
            assert _request(comfy, "GET", "/extensions/comfyui-kling-video/kling_jobs_logic.js")[0] == 200
            assert COMFY_KEY not in comfy.log()
        finally:
            comfy.stop()
