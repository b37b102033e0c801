"""Kling 2.6 Standard on Kling's own API (model_name kling-v2-6, mode std): fal serves 2.6 in pro only, so these
are Kling-only nodes (catalog/kling_only.py). Std is "720P, silent video only" and takes no end frame
(third-party mirrors of Kling's documentation, research16.md §3.2): the nodes and sub-commands offer neither,
the CLI refuses the flags before any request, and the fake Kling refuses them on the wire as Kling does."""
import asyncio
import json

import pytest
import torch

from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.catalog.kling_only import V26_STD_I2V, V26_STD_T2V
from comfyui_kling_video.nodes.core.errors import InputError
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.jobs.journal import Journal
from comfyui_kling_video.nodes.providers import select
from comfyui_kling_video.nodes.request import prepare, quote
from media import make_png
from test_cli import cli
from test_kling_extend import kling  # noqa: F401  (the fake Kling API, pointed at)
from test_kling_models import _image, _raw, record_of

RATE = 0.042  # $/s: Kling's list price for kling-v2-6 std, as transcribed by a third party (the entry's source)


def run(tmp_path, v, inputs):
    return asyncio.run(generate(lambda: prepare(v, inputs, "kling"), tmp_path / "out"))


def frame(seed=0):
    return torch.rand(1, 480, 640, 3, generator=torch.Generator().manual_seed(seed))


def test_text_to_video_sends_kling_v2_6_std_and_is_priced(kling, tmp_path):
    prepared, done = run(tmp_path, V26_STD_T2V, {"prompt": "a red kite over a beach", "duration": "10",
                                                 "aspect_ratio": "9:16"})
    [submit] = kling.submits()
    assert submit["path"] == "/v1/videos/text2video"
    body = submit["json"]
    assert {k: v for k, v in body.items() if k != "external_task_id"} == {
        "model_name": "kling-v2-6", "mode": "std", "prompt": "a red kite over a beach", "duration": "10",
        "aspect_ratio": "9:16", "negative_prompt": "blur, distort, and low quality"}
    assert {r["path"].rsplit("/", 1)[0] for r in kling.requests("status")} == {"/v1/videos/text2video"}
    assert done.path.read_bytes() == kling.video_bytes
    assert prepared.cost.usd == pytest.approx(RATE * 10)
    record = record_of(done)
    assert (record["provider"], record["endpoint"], record["variant"]) == ("kling", "kling-v2-6/std", "v2.6-std-t2v")
    [spent] = [json.loads(line) for line in Journal().spend.path.read_text().splitlines()]
    assert (spent["endpoint"], spent["price"], spent["seconds"]) == ("kling-v2-6/std", pytest.approx(RATE * 10), 10)
    assert "price_known" not in spent


def test_image_to_video_sends_the_start_frame_only(kling, tmp_path):
    prepared, done = run(tmp_path, V26_STD_I2V, {"start_frame": frame(3), "prompt": "the kite climbs"})
    [submit] = kling.submits()
    assert submit["path"] == "/v1/videos/image2video"
    body = submit["json"]
    assert (body["model_name"], body["mode"], body["duration"]) == ("kling-v2-6", "std", "5")
    assert not body["image"].startswith("data:") and len(body["image"]) > 1000  # Kling takes raw base64
    assert not {"image_tail", "sound", "voice_list", "cfg_scale", "aspect_ratio"} & set(body)
    assert done.path.read_bytes() == kling.video_bytes
    assert prepared.cost.usd == pytest.approx(RATE * 5)
    assert record_of(done)["endpoint"] == "kling-v2-6/std"


def test_only_kling_serves_it_and_the_price_is_sourced():
    for v in (V26_STD_T2V, V26_STD_I2V):  # GENERATED also holds other Kling-only variants
        assert variant(v.key) is v and variant(v.node_id) is v and v.endpoint == ""
        assert v.providers == ("kling",)
        with pytest.raises(InputError, match="choose one of: auto, kling"):
            select.choose(v, "fal")
        assert v.price.describe() == f"${RATE}/s" and v.offer("kling").price == v.price
        assert "third party" in v.price.source and "third-party mirrors of Kling's documentation" in v.source
        # silent and start frame only: nothing on the node or the command line could ask for sound or an end frame
        assert not {"generate_audio", "voice_ids", "end_image_url", "tail_image_url", "cfg_scale"} & \
            {f.wire for f in v.fields}
        assert v.audio_field is None and v.voice_field is None
    assert quote(V26_STD_T2V, {"duration": "10"}, "kling").usd == pytest.approx(RATE * 10)
    assert quote(V26_STD_I2V, {}, "kling").usd == pytest.approx(RATE * 5)


def test_the_price_badge_quotes_kling_std(tmp_path):
    import aiohttp
    from comfyui_kling_video.nodes.comfyui import price_route
    from pack_routes import served

    async def main():
        async with served(price_route.register) as url, aiohttp.ClientSession() as session:
            async with session.post(url + price_route.PRICE_ROUTE, json={
                    "node_type": V26_STD_T2V.node_id, "values": {"duration": "10"}}) as resp:
                return resp.status, await resp.json()

    status, body = asyncio.run(main())
    assert status == 200, body
    assert body["provider"] == "kling" and body["usd"] == pytest.approx(RATE * 10) and body["text"] == "$0.42"


def test_the_command_line_has_the_sub_commands_and_refuses_sound_and_end_frame_before_any_request(kling, tmp_path):
    start = make_png(tmp_path / "start.png", 640, 480, (10, 120, 200))
    env = {"KLINGAI_ACCESS_KEY": kling.access_key, "KLINGAI_SECRET_KEY": kling.secret_key,
           "KLINGAI_BASE_URL": kling.base_url, "SSL_CERT_FILE": str(kling.ca_path),
           "KLING_VIDEO_HOME": str(tmp_path / "home")}
    r = cli("v2.6-std-i2v", "--image", str(start), "--prompt", "the kite climbs", "--dry-run", env=env)
    assert r.returncode == 0, r.stderr
    assert f"== Kling\nPOST {kling.base_url}/v1/videos/image2video" in r.stdout and r.stdout.count("== ") == 1
    assert '"model_name": "kling-v2-6"' in r.stdout and '"mode": "std"' in r.stdout and "$0.21" in r.stdout
    for extra in (["--generate-audio"], ["--end-frame", str(start)], ["--voice-ids", "v1"]):
        r = cli("v2.6-std-i2v", "--image", str(start), "--prompt", "x", *extra, "--out", str(tmp_path / "o.mp4"),
                env=env)
        assert r.returncode == 2 and f"unrecognized arguments: {extra[0]}" in r.stderr, r.stderr
    r = cli("v2.6-std-t2v", "--prompt", "x", "--generate-audio", env=env)
    assert r.returncode == 2 and "unrecognized arguments: --generate-audio" in r.stderr
    assert kling.log == [] and not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize("endpoint,extra", [("text2video", {"prompt": "x", "aspect_ratio": "1:1"}),
                                            ("image2video", {"image": "IMG", "prompt": "x"})])
def test_the_fake_takes_std_silent_and_refuses_what_needs_pro(kling, endpoint, extra):
    good = {"model_name": "kling-v2-6", "mode": "std", "duration": "10", "negative_prompt": "blur",
            **{k: _image() if v == "IMG" else v for k, v in extra.items()}}
    r = _raw(kling, "POST", f"/v1/videos/{endpoint}", {**good, "sound": "off"})
    assert r.status == 200 and r.json["code"] == 0, r.json
    assert kling.jobs[r.json["data"]["task_id"]].model == "kling-v2-6"
    refusals = [({"sound": "on"}, "sound 'on' with kling-v2-6 requires mode 'pro'"),
                ({"voice_list": [{"voice_id": "v1"}]}, "voice_list requires sound 'on'"),
                ({"cfg_scale": 0.5}, "cfg_scale is not supported by kling-v2-6")]
    if endpoint == "image2video":
        refusals.append(({"image_tail": _image()}, "image_tail with kling-v2-6 requires mode 'pro'"))
    for change, named in refusals:
        r = _raw(kling, "POST", f"/v1/videos/{endpoint}", {**good, **change})
        assert (r.status, r.json["code"]) == (400, 1201) and named in r.json["message"], (change, r.json)
    # the same with mode pro is Kling's ordinary 2.6 Pro request
    r = _raw(kling, "POST", f"/v1/videos/{endpoint}", {**good, "mode": "pro", "sound": "on"})
    assert r.json["code"] == 0, r.json
