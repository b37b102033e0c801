"""Keys stored from ComfyUI's settings dialog: the file, the environment's precedence, the routes (in a plain
aiohttp server and in a real ComfyUI), and that a stored key never shows up anywhere else."""
import asyncio
import json
import os
import pathlib
import stat
import subprocess
import sys
import urllib.error
import urllib.request

import aiohttp
import pytest

from comfyui_kling_video.nodes.core import errors, keys
from comfyui_kling_video.nodes.comfyui import keys_routes
from comfyui_kling_video.nodes.providers import select
from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.core.errors import KlingError, MissingCredentials
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.providers import aimlapi, fal, kling, vercel
from comfyui_kling_video.nodes.request import prepare
from pack_routes import served
from conftest import PROVIDER_KEYS, SECRET

ROOT = pathlib.Path(__file__).resolve().parents[1]
STORED = "stored-secret-key-abcdef1a2b"
ENV_KEY = "environment-key-0123456789"
VARS = ("FAL_KEY", "KLINGAI_ACCESS_KEY", "KLINGAI_SECRET_KEY", "AIMLAPI_KEY", "AI_GATEWAY_API_KEY")


@pytest.fixture
def home(monkeypatch, tmp_path):
    for var in PROVIDER_KEYS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KLING_VIDEO_HOME", str(tmp_path / "kling-home"))
    return tmp_path / "kling-home"


def by_name(status):
    return {p["name"]: p for p in status["providers"]}


def test_store_status_forget(home):
    assert {p["name"]: p["source"] for p in keys.status()["providers"]} == \
        {"fal": "missing", "kling": "missing", "aimlapi": "missing", "vercel": "missing"}
    assert [v["var"] for p in keys.status()["providers"] for v in p["vars"]] == list(VARS)
    keys.store("FAL_KEY", f"  {STORED}\n")
    assert keys.secret("FAL_KEY") == STORED
    fal_status = by_name(keys.status())["fal"]
    assert fal_status["source"] == "stored" and fal_status["vars"][0]["hint"] == "…1a2b"
    assert STORED not in json.dumps(keys.status())
    keys.store("KLINGAI_ACCESS_KEY", "access-" + STORED)
    assert by_name(keys.status())["kling"]["source"] == "missing"  # the secret key is still missing
    assert json.loads((home / "keys.json").read_text()) == {"FAL_KEY": STORED, "KLINGAI_ACCESS_KEY": "access-" + STORED}
    keys.forget("FAL_KEY")
    keys.forget("FAL_KEY")  # forgetting twice is no error
    assert keys.secret("FAL_KEY") == "" and by_name(keys.status())["fal"]["source"] == "missing"
    keys.forget("KLINGAI_ACCESS_KEY")
    assert not (home / "keys.json").exists()


def test_file_is_private_from_creation(home):
    old = os.umask(0)  # a file opened the ordinary way would now be created world-readable
    try:
        keys.store("AIMLAPI_KEY", STORED)
        keys.store("AI_GATEWAY_API_KEY", STORED + "2")
    finally:
        os.umask(old)
    assert stat.S_IMODE((home / "keys.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert [p.name for p in home.iterdir()] == ["keys.json"]  # no temporary file left behind


def test_only_known_variables_and_sane_values(home):
    for var in ("FAL_KEY_ID", "PATH", "", "KLING_VIDEO_HOME"):
        with pytest.raises(ValueError) as err:
            keys.store(var, STORED)
        assert STORED not in str(err.value)
    for bad in ("", "   ", "two words", "line\nbreak", "x" * 5000, None, 12345678):
        with pytest.raises(ValueError):
            keys.store("FAL_KEY", bad)
    with pytest.raises(ValueError):
        keys.secret("HOME")
    assert not (home / "keys.json").exists()


def test_environment_wins_and_the_status_says_so(home, monkeypatch):
    keys.store("FAL_KEY", STORED)
    monkeypatch.setenv("FAL_KEY", ENV_KEY)
    assert fal.api_key() == ENV_KEY
    [row] = by_name(keys.status())["fal"]["vars"]
    assert row["source"] == "environment" and row["shadowed"] and row["hint"] == ""
    monkeypatch.delenv("FAL_KEY")
    monkeypatch.setenv("FAL_KEY_ID", "id-123")
    monkeypatch.setenv("FAL_KEY_SECRET", "secret-4567890")  # fal's other environment form wins too
    assert fal.api_key() == "id-123:secret-4567890" and by_name(keys.status())["fal"]["source"] == "environment"
    monkeypatch.delenv("FAL_KEY_SECRET")
    assert fal.api_key() == STORED


def test_every_provider_reads_a_stored_key_at_once(home):
    readers = {"FAL_KEY": fal.credentials, "AIMLAPI_KEY": aimlapi.credentials,
               "AI_GATEWAY_API_KEY": vercel.credentials}
    for var, read in readers.items():
        with pytest.raises(MissingCredentials) as err:
            read()
        assert "Settings → Kling Video → API keys" in str(err.value), var
        keys.store(var, STORED)
        assert read() == STORED
        keys.forget(var)
        with pytest.raises(MissingCredentials):
            read()
    keys.store("KLINGAI_SECRET_KEY", STORED)
    with pytest.raises(MissingCredentials, match="KLINGAI_ACCESS_KEY is neither set nor stored.*API keys"):
        kling.credentials()
    keys.store("KLINGAI_ACCESS_KEY", "access-" + STORED)
    assert kling.credentials() == ("access-" + STORED, STORED)


def test_a_stored_key_is_scrubbed_from_messages(home):
    keys.store("AI_GATEWAY_API_KEY", STORED)
    assert errors.scrub(f"Authorization: Bearer {STORED}") == "Authorization: Bearer <AI_GATEWAY_API_KEY>"
    assert STORED not in str(KlingError(f"the provider said {STORED!r}"))
    keys.forget("AI_GATEWAY_API_KEY")
    assert STORED in errors.scrub(STORED)  # forgotten: no longer a secret of this machine


def test_a_short_key_gets_no_hint(home):
    keys.store("AIMLAPI_KEY", "abc12345")
    assert by_name(keys.status())["aimlapi"]["vars"][0] == \
        {"var": "AIMLAPI_KEY", "label": "key", "source": "stored", "hint": "", "shadowed": False}


def test_an_unreadable_file_counts_as_no_keys(home, caplog):
    home.mkdir(parents=True)
    (home / "keys.json").write_text('{"FAL_KEY": "' + STORED)  # cut short
    assert keys.secret("FAL_KEY") == ""
    assert "unreadable keys file" in caplog.text and STORED not in caplog.text


def test_each_provider_runs_a_job_with_a_stored_key(any_provider, tmp_path, caplog):
    """The environment's keys moved into the keys file: every provider's fake still accepts the job."""
    name, fake = any_provider
    for var in VARS:
        if os.environ.get(var):
            keys.store(var, os.environ.pop(var))  # any_provider's monkeypatch restores the environment
    assert not any(os.environ.get(var) for var in VARS)
    v = variant("t2v")
    assert select.choose(v, "auto") == name  # `auto` sees the stored key
    _, done = asyncio.run(generate(lambda: prepare(v, {"prompt": "stored"}, name), tmp_path / "out"))
    assert done.path.read_bytes() == fake.video_bytes and len(fake.submits()) == 1
    assert SECRET not in caplog.text


def test_the_cli_uses_a_stored_key(fal_env, tmp_path):
    keys.store("FAL_KEY", os.environ["FAL_KEY"])
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_KEYS}
    r = subprocess.run([sys.executable, str(ROOT), "t2v", "--prompt", "a boat", "--no-generate-audio",
                        "--out", str(tmp_path / "boat.mp4")], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "boat.mp4").read_bytes() == fal_env.video_bytes
    assert os.environ["FAL_KEY"] not in r.stdout + r.stderr


# -- the routes in a plain aiohttp server ------------------------------------------------------------


def test_routes_store_forget_and_refuse_other_sites(home, caplog):
    async def scenario():
        async with served(keys_routes.register) as url, aiohttp.ClientSession() as s:
            own = {"Origin": url}

            async def call(method, path, **kw):
                async with s.request(method, url + path, **kw) as r:
                    return r.status, await r.text()

            code, text = await call("GET", "/kling_video/keys")
            assert code == 200 and by_name(json.loads(text))["fal"]["source"] == "missing"
            body = {"var": "FAL_KEY", "value": STORED}
            refused = [
                {"Origin": "http://evil.example"},
                {"Origin": "null"},
                {"Origin": url.replace("127.0.0.1", "localhost")},
                {"Origin": url[:-1]},  # another port on the same host
                # a LAN name: ComfyUI's own check looks at loopback hosts only
                {"Origin": "http://evil.example", "Host": "comfy.lan:8188"},
                {"Sec-Fetch-Site": "cross-site"},
                {"Sec-Fetch-Site": "same-site", **own},
            ]
            for headers in refused:
                for method, path, kw in (("POST", "/kling_video/keys", {"json": body}),
                                         ("GET", "/kling_video/keys", {}),
                                         ("DELETE", "/kling_video/keys/FAL_KEY", {}),
                                         ("POST", "/kling_video/keys/forget", {"json": {"var": "FAL_KEY"}})):
                    code, _ = await call(method, path, headers=headers, **kw)
                    assert code == 403, (headers, method, path)
            assert not (home / "keys.json").exists()

            code, text = await call("POST", "/kling_video/keys", json=body,
                                    headers={**own, "Sec-Fetch-Site": "same-origin"})
            assert code == 200 and STORED not in text
            assert by_name(json.loads(text))["fal"]["vars"][0]["hint"] == "…1a2b"
            assert keys.secret("FAL_KEY") == STORED
            code, _ = await call("POST", "/kling_video/keys", data=json.dumps(body), headers=own)  # text/plain
            assert code == 415
            code, text = await call("POST", "/kling_video/keys", json={"var": STORED, "value": "x" * 20}, headers=own)
            assert code == 400 and STORED not in text
            code, text = await call("POST", "/kling_video/keys", json={"var": "AIMLAPI_KEY", "value": "a\r\nX: y"})
            assert code == 400 and "control" in text  # no Origin (curl): allowed, and still validated

            code, text = await call("DELETE", "/kling_video/keys/FAL_KEY", headers=own)
            assert code == 200 and by_name(json.loads(text))["fal"]["source"] == "missing"
            await call("POST", "/kling_video/keys", json={"var": "AIMLAPI_KEY", "value": STORED})
            code, text = await call("POST", "/kling_video/keys/forget", json={"var": "AIMLAPI_KEY"}, headers=own)
            assert code == 200 and by_name(json.loads(text))["aimlapi"]["source"] == "missing"

    asyncio.run(scenario())
    assert STORED not in caplog.text


# -- in a real ComfyUI -----------------------------------------------------------------------------

COMFYUI_DIR = os.environ.get("COMFYUI_DIR")
T2V = "KlingVideo_V26Pro_TextToVideo"
COMFY_KEY = "comfy-stored-key-5550001a2b"


@pytest.fixture(scope="module")
def keyless_comfy(tmp_path_factory):
    """A real ComfyUI started with no provider key in its environment, and a fake fal.ai."""
    if not COMFYUI_DIR:
        pytest.skip("set COMFYUI_DIR to a ComfyUI checkout to run this")
    from comfyui_server import ComfyUI
    from fakes.fal import FakeFal
    from fakes.tls import make_tls
    from media import make_mp4

    tmp = tmp_path_factory.mktemp("keys-comfy")
    video = make_mp4(tmp / "result.mp4", width=320, height=240, fps=24, seconds=1.0)
    (tmp / "tls").mkdir()
    tls = make_tls(tmp / "tls")
    with FakeFal(tmp / "fal", key=COMFY_KEY, video_bytes=video.read_bytes(), tls=tls) as fake:
        comfy = ComfyUI(COMFYUI_DIR, tmp / "base", {"FAL_QUEUE_RUN_HOST": fake.host, "FAL_RUN_HOST": fake.host,
                                                    "FAL_REST_HOST": fake.host, "FAL_API_HOST": fake.host, "SSL_CERT_FILE": str(tls[1])})
        for var in (*PROVIDER_KEYS, "KLING_VIDEO_HOME"):
            comfy.env.pop(var, None)
        comfy.start()
        try:
            yield comfy, fake
        finally:
            comfy.stop()


def _request(comfy, method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(comfy.url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def test_in_comfyui_a_key_stored_from_the_page_runs_a_node_and_leaks_nowhere(keyless_comfy):
    comfy, fake = keyless_comfy
    own = {"Origin": comfy.url}
    prompt = {"1": {"class_type": T2V, "inputs": {"prompt": "a stored key", "negative_prompt": "blur",
                                                  "duration": "5", "aspect_ratio": "16:9", "cfg_scale": 0.5, "generate_audio": False,
                                                  "take": 0, "provider": "auto"}},
              "2": {"class_type": "SaveVideo", "inputs": {"video": ["1", 0], "filename_prefix": "video/keys",
                                                          "format": "auto", "codec": "auto"}}}
    entry = comfy.wait(comfy.queue(prompt))
    assert entry["status"]["status_str"] == "error"
    assert "Settings → Kling Video → API keys" in json.dumps(entry["status"], ensure_ascii=False)

    body = {"var": "FAL_KEY", "value": COMFY_KEY}
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "http://evil.example", "Host": "comfy.lan"},
                    {"Sec-Fetch-Site": "cross-site"}):
        code, _ = _request(comfy, "POST", "/api/kling_video/keys", body, headers)
        assert code == 403, headers
    code, text = _request(comfy, "GET", "/kling_video/keys", headers=own)
    assert code == 200 and by_name(json.loads(text))["fal"]["source"] == "missing"

    code, text = _request(comfy, "POST", "/api/kling_video/keys", body, own)
    assert code == 200 and COMFY_KEY not in text and by_name(json.loads(text))["fal"]["vars"][0]["hint"] == "…1a2b"
    key_file = comfy.base / "user" / "kling-video" / "keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    prompt["1"]["inputs"]["prompt"] = "a stored key, again"
    entry = comfy.wait(comfy.queue(prompt))
    assert entry["status"]["status_str"] == "success", entry["status"]
    assert len(fake.submits()) == 1

    # Everything a client can read, and everything ComfyUI wrote, is free of the key.
    assert COMFY_KEY not in json.dumps(comfy.get("/settings"))
    assert COMFY_KEY not in json.dumps(comfy.get("/history"))
    for path in ("/userdata/..%2Fkling-video%2Fkeys.json", "/userdata/%2E%2E%2Fkling-video%2Fkeys.json",
                 "/view?filename=keys.json&subfolder=..%2Fuser%2Fkling-video&type=output"):
        code, text = _request(comfy, "GET", path)
        assert COMFY_KEY not in text and code != 200, path
    written = [p for p in comfy.base.rglob("*") if p.is_file() and p != key_file and "custom_nodes" not in p.parts]
    assert any(p.suffix == ".mp4" for p in written) and any(p.name == "spend.jsonl" for p in written)
    for path in written:
        assert COMFY_KEY.encode() not in path.read_bytes(), path
    assert COMFY_KEY not in comfy.log()

    code, text = _request(comfy, "DELETE", "/api/kling_video/keys/FAL_KEY", headers=own)
    assert code == 200 and by_name(json.loads(text))["fal"]["source"] == "missing" and not key_file.exists()
    prompt["1"]["inputs"]["prompt"] = "a forgotten key"
    assert comfy.wait(comfy.queue(prompt))["status"]["status_str"] == "error"
    assert len(fake.submits()) == 1

    with urllib.request.urlopen(comfy.url + "/extensions/comfyui-kling-video/kling_keys.js") as r:
        assert b'from "./kling_keys_logic.js"' in r.read()
    with urllib.request.urlopen(comfy.url + "/extensions/comfyui-kling-video/kling_keys_logic.js") as r:
        assert b'ROUTE = "/kling_video/keys"' in r.read()
