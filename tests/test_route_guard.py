"""The route guard against DNS rebinding and behind reverse proxies (issue 12, hole 11): a real aiohttp server
with the pack's guarded routes (keys and jobs), called as a browser would with each Host and Origin."""
import asyncio
import json
import sys
import types

import aiohttp
import pytest

from comfyui_kling_video.nodes.comfyui import jobs_routes, keys_routes
from comfyui_kling_video.nodes.core import keys
from pack_routes import served

KEY = "fal-key-0123456789abcdef-1a2b"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KLING_VIDEO_HOME", str(tmp_path / "home"))
    for var in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "KLING_VIDEO_ALLOWED_HOSTS"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "home"


def serve_and(scenario, tmp_path):
    """Run `scenario(call, port)` against the pack's routes served on 127.0.0.1; call(method, path, headers,
    json=None) -> (status, parsed body)."""
    async def main():
        jobs = lambda routes: jobs_routes.register(routes, output_dir=lambda: tmp_path / "output")  # noqa: E731
        async with served(keys_routes.register, jobs) as url, aiohttp.ClientSession() as session:
            async def call(method, path, headers, body=None):
                async with session.request(method, url + path, headers=headers, json=body) as r:
                    return r.status, json.loads(await r.text())
            await scenario(call, int(url.rsplit(":", 1)[1]))
    asyncio.run(main())


STORE = ("POST", "/kling_video/keys", {"var": "FAL_KEY", "value": KEY})


def test_a_dns_rebinding_page_is_refused(home, tmp_path):
    """evil.example re-pointed at this machine: the page is same-origin with itself (its Origin is its Host,
    Sec-Fetch-Site says same-origin, a GET carries no Origin at all), so only the Host gives it away."""
    async def scenario(call, port):
        page = f"evil.example:{port}"
        same_origin_get = {"Host": page, "Sec-Fetch-Site": "same-origin"}
        same_origin_post = {**same_origin_get, "Origin": f"http://{page}"}
        for method, path, headers, body in (("GET", "/kling_video/keys", same_origin_get, None),
                                            ("GET", "/kling_video/jobs", same_origin_get, None),
                                            (*STORE[:2], same_origin_post, STORE[2]),
                                            ("DELETE", "/kling_video/keys/FAL_KEY", same_origin_post, None),
                                            ("POST", "/kling_video/jobs/abc/collect", same_origin_post, None)):
            status, answer = await call(method, path, headers, body)
            assert status == 403, (method, path, answer)
            assert "evil.example" in answer["error"] and "KLING_VIDEO_ALLOWED_HOSTS" in answer["error"]
        # the trailing-dot spelling of the same name, and a name that only looks local
        for host in (f"evil.example.:{port}", f"localhost.evil.example:{port}", f"127.0.0.1.nip.io:{port}"):
            assert (await call("GET", "/kling_video/keys", {"Host": host}))[0] == 403, host
    serve_and(scenario, tmp_path)
    assert keys.secret("FAL_KEY") == ""


def test_loopback_names_and_addresses_and_lan_addresses_are_this_server(home, tmp_path):
    async def scenario(call, port):
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost.:{port}", f"[::1]:{port}",
                     f"comfy.localhost:{port}", f"192.168.1.20:{port}", f"[fe80::1]:{port}", "127.0.0.1"):
            status, answer = await call("GET", "/kling_video/keys", {"Host": host, "Origin": f"http://{host}"})
            assert status == 200, (host, answer)
        # no Origin and no Sec-Fetch-Site (a script): fine once the Host is this server
        assert (await call("GET", "/kling_video/jobs", {"Host": f"localhost:{port}"}))[0] == 200
        # the Host alone is not enough: another page's Origin is still refused
        status, answer = await call(*STORE[:2], {"Host": f"localhost:{port}", "Origin": "http://evil.example"},
                                    STORE[2])
        assert status == 403 and "cross-origin" in answer["error"]
    serve_and(scenario, tmp_path)
    assert keys.secret("FAL_KEY") == ""


def test_a_reverse_proxy_listed_in_allowed_hosts_is_served(home, tmp_path, monkeypatch):
    """nginx at https://comfy.example.com forwarding to 127.0.0.1:8188: either it rewrites Host (the page's
    Origin is then not the Host) or it passes the public name on as Host."""
    async def scenario(call, port):
        rewritten = {"Host": f"127.0.0.1:{port}", "Origin": "https://comfy.example.com",
                     "Sec-Fetch-Site": "same-origin"}
        kept = {"Host": "comfy.example.com", "Origin": "https://comfy.example.com", "Sec-Fetch-Site": "same-origin"}
        monkeypatch.delenv("KLING_VIDEO_ALLOWED_HOSTS", raising=False)
        assert (await call(*STORE[:2], rewritten, STORE[2]))[0] == 403  # unknown until listed
        assert (await call(*STORE[:2], kept, STORE[2]))[0] == 403
        monkeypatch.setenv("KLING_VIDEO_ALLOWED_HOSTS", "studio.example.org, comfy.example.com")
        status, answer = await call(*STORE[:2], rewritten, STORE[2])
        assert status == 200 and KEY not in json.dumps(answer), answer
        assert (await call("GET", "/kling_video/keys", kept))[0] == 200
        assert (await call("GET", "/kling_video/jobs", {"Host": "comfy.example.com"}))[0] == 200
        # still not any page: another Origin through the proxy, or another name as Host
        assert (await call(*STORE[:2], {**rewritten, "Origin": "https://evil.example"}, STORE[2]))[0] == 403
        assert (await call("GET", "/kling_video/keys", {"Host": "evil.example"}))[0] == 403
        # an entry with a port admits that port only
        monkeypatch.setenv("KLING_VIDEO_ALLOWED_HOSTS", "comfy.example.com:8443")
        assert (await call("GET", "/kling_video/keys", {**rewritten, "Origin": "https://comfy.example.com:8443"}))[0] == 200
        assert (await call("GET", "/kling_video/keys", rewritten))[0] == 403
        assert (await call("GET", "/kling_video/keys", {"Host": "comfy.example.com:8443"}))[0] == 200
        assert (await call("GET", "/kling_video/keys", {"Host": "comfy.example.com:9000"}))[0] == 403
    serve_and(scenario, tmp_path)
    assert keys.secret("FAL_KEY") == KEY


def test_a_broken_allowed_hosts_setting_refuses_and_says_why(home, tmp_path, monkeypatch):
    monkeypatch.setenv("KLING_VIDEO_ALLOWED_HOSTS", "https://comfy.example.com/")

    async def scenario(call, port):
        status, answer = await call("GET", "/kling_video/keys", {"Host": f"127.0.0.1:{port}"})
        assert status == 403 and "KLING_VIDEO_ALLOWED_HOSTS" in answer["error"] and "host name" in answer["error"]
    serve_and(scenario, tmp_path)


def test_the_name_comfyui_listens_on_is_this_server(home, tmp_path, monkeypatch):
    """ComfyUI started with --listen studio.lan: its parsed arguments (comfy.cli_args.args, loaded by ComfyUI
    before any custom node) name the host; outside ComfyUI nothing is imported to find out."""
    async def scenario(call, port):
        page = {"Host": f"studio.lan:{port}", "Origin": f"http://studio.lan:{port}"}
        assert (await call("GET", "/kling_video/keys", page))[0] == 403
        comfy_args = types.ModuleType("comfy.cli_args")
        comfy_args.args = types.SimpleNamespace(listen="10.0.0.5,studio.lan", port=port)
        monkeypatch.setitem(sys.modules, "comfy.cli_args", comfy_args)
        status, answer = await call(*STORE[:2], page, STORE[2])
        assert status == 200, answer
        assert (await call("GET", "/kling_video/keys", {**page, "Host": f"other.lan:{port}"}))[0] == 403
    monkeypatch.delitem(sys.modules, "comfy.cli_args", raising=False)
    serve_and(scenario, tmp_path)
    assert keys.secret("FAL_KEY") == KEY
