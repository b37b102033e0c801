"""Kling Extend against the fake Kling API: the source video's id comes from the journal, chains work, and
every video Kling could not extend is refused before any request (and by the fake, as strictly as Kling)."""
import asyncio

import pytest

from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.catalog.kling_only import EXTEND
from comfyui_kling_video.nodes.core.errors import InputError, ProviderError
from comfyui_kling_video.nodes.jobs.extend import prepare_node
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.jobs.journal import Journal
from comfyui_kling_video.nodes.request import prepare
from fakes.client import call
from fakes.fal import FakeFal
from fakes.kling import FakeKling, encode_jwt
from media import make_mp4

SECRET = "extend-secret-0123456789"
FAL_KEY = "extend-fal-key-0123456789"


@pytest.fixture
def kling(tmp_path, monkeypatch):
    video = make_mp4(tmp_path / "result.mp4", width=160, height=120, fps=12, seconds=1.0).read_bytes()
    with FakeKling(tmp_path / "kling", access_key="ak-" + SECRET, secret_key=SECRET, video_bytes=video,
                   queue_seconds=0.05, progress_seconds=0.1) as fake:
        point_at(monkeypatch, fake)
        yield fake
    from comfyui_kling_video.nodes.core import http
    http.ssl_context.cache_clear()


def point_at(monkeypatch, fake):
    from comfyui_kling_video.nodes.core import http
    monkeypatch.setenv("KLINGAI_ACCESS_KEY", fake.access_key)
    monkeypatch.setenv("KLINGAI_SECRET_KEY", fake.secret_key)
    monkeypatch.setenv("KLINGAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("SSL_CERT_FILE", str(fake.ca_path))
    http.ssl_context.cache_clear()


def make(tmp_path, key="v1.6-std-t2v", prompt="a lighthouse at dawn", provider="kling"):
    """A video made by a catalog node on `provider`: its file."""
    _, done = asyncio.run(generate(lambda: prepare(variant(key), {"prompt": prompt}, provider), tmp_path / "out"))
    return done.path


def extend(tmp_path, video, prompt="the camera pulls back"):
    return asyncio.run(generate(lambda: prepare_node(EXTEND, {"video": video, "prompt": prompt}),
                                tmp_path / "out"))


def test_extend_finds_the_video_id_in_the_journal(kling, tmp_path):
    source = make(tmp_path)
    made = kling.submits()[-1]["request_id"]
    prepared, done = extend(tmp_path, str(source))
    body = kling.submits()[-1]["json"]
    assert kling.requests("submit")[-1]["path"].endswith("/v1/videos/video-extend")
    assert body["video_id"] == kling.jobs[made].extra["video_id"]
    assert body["prompt"] == "the camera pulls back" and "model_name" not in body and "mode" not in body
    assert done.path.is_file() and done.path != source
    record = next(r for r in Journal().all() if r["request_id"] == done.request_id)
    # the extension keeps its source's model and mode; the price is Comfy's list price per run
    assert record["variant"] == "kling-extend" and record["endpoint"] == "kling-v1-6/std"
    assert record["price"] == 0.28 and prepared.cost.usd == 0.28
    assert float(done.result["task_result"]["videos"][0]["duration"]) == 10.0  # 5 s + 5 s, the whole video


def test_extend_chained_twice(kling, tmp_path):
    first_source = make(tmp_path)
    _, first = extend(tmp_path, str(first_source), "a gull lands")
    _, second = extend(tmp_path, str(first.path), "the gull flies off")
    bodies = [s["json"] for s in kling.submits()[-2:]]
    assert bodies[1]["video_id"] == first.result["task_result"]["videos"][0]["id"] != bodies[0]["video_id"]
    assert kling.video(second.result["task_result"]["videos"][0]["id"]) == {
        "model": "kling-v1-6", "mode": "std", "seconds": 15.0}
    # the same extension again is the journal's, at no cost
    before = len(kling.submits())
    assert extend(tmp_path, str(first.path), "the gull flies off")[1].path == second.path
    assert len(kling.submits()) == before


def test_a_video_from_elsewhere_is_refused_before_any_request(kling, tmp_path):
    loaded = make_mp4(tmp_path / "loaded.mp4", width=160, height=120, fps=12, seconds=1.0)
    before = len(kling.log)
    with pytest.raises(InputError, match=r"video: loaded.mp4 is not a video the pack downloaded .* connect the "
                                         r"VIDEO output of a Kling 1.0, 1.5 or 1.6 node run with provider 'kling'"):
        extend(tmp_path, str(loaded))
    with pytest.raises(InputError, match="made or trimmed in the workflow"):
        extend(tmp_path, object())  # what the node gets for Create Video's VIDEO: no file of its own
    assert len(kling.log) == before


def test_a_video_from_another_provider_is_refused(kling, tmp_path, monkeypatch):
    video = make_mp4(tmp_path / "fal.mp4", width=160, height=120, fps=12, seconds=1.0).read_bytes()
    with FakeFal(tmp_path / "fal", key=FAL_KEY, video_bytes=video, queue_seconds=0.05,
                 progress_seconds=0.1) as fal:
        for var in ("FAL_QUEUE_RUN_HOST", "FAL_RUN_HOST", "FAL_REST_HOST", "FAL_API_HOST"):
            monkeypatch.setenv(var, fal.host)
        monkeypatch.setenv("FAL_KEY", FAL_KEY)
        monkeypatch.setenv("SSL_CERT_FILE", str(fal.ca_path))
        from comfyui_kling_video.nodes.core import http
        http.ssl_context.cache_clear()
        on_fal = make(tmp_path, provider="fal")
    point_at(monkeypatch, kling)
    before = len(kling.log)
    with pytest.raises(InputError, match=r"was made on fal.ai, not on Kling's own API, so Kling has no id for it"):
        extend(tmp_path, str(on_fal))
    assert len(kling.log) == before


def test_a_model_kling_cannot_extend_is_refused_before_any_request(kling, tmp_path):
    v26 = make(tmp_path, key="v2.6-pro-t2v")
    before = len(kling.log)
    with pytest.raises(InputError, match=r"made by kling-v2-6; Kling's API extends only videos of kling-v1, "
                                         r"kling-v1-5, kling-v1-6"):
        extend(tmp_path, str(v26))
    assert len(kling.log) == before


def test_an_id_kling_no_longer_knows_is_refused_by_kling_at_no_cost(kling, tmp_path, monkeypatch):
    source = make(tmp_path)
    video = make_mp4(tmp_path / "other.mp4", width=160, height=120, fps=12, seconds=1.0).read_bytes()
    with FakeKling(tmp_path / "kling2", access_key=kling.access_key, secret_key=SECRET, video_bytes=video) as other:
        point_at(monkeypatch, other)  # another account, or the video was cleared: the id means nothing there
        with pytest.raises(ProviderError, match=r"Kling error 1201: invalid request parameters .*not a video "
                                                r"generated by this account"):
            extend(tmp_path, str(source))
        assert len(other.requests("submit")) == 1 and not other.jobs
    spent = Journal().spend.path.read_text().splitlines()
    assert len(spent) == 1  # the source only: a refused extension made no job and is not counted


def test_the_3_minute_limit_is_checked_before_any_request(tmp_path, monkeypatch):
    long = make_mp4(tmp_path / "long.mp4", width=64, height=64, fps=1, seconds=177, audio=False).read_bytes()
    with FakeKling(tmp_path / "kling", access_key="ak-" + SECRET, secret_key=SECRET, video_bytes=long,
                   queue_seconds=0.05, progress_seconds=0.1) as fake:
        point_at(monkeypatch, fake)
        source = make(tmp_path)
        before = len(fake.log)
        with pytest.raises(InputError, match=r"lasts 177.0 s; an extension adds up to 5 s and Kling's limit is 3 "
                                             r"minutes in all"):
            extend(tmp_path, str(source))
        assert len(fake.log) == before


def _extend_raw(fake, body):
    token = encode_jwt({"iss": fake.access_key, "exp": 4_000_000_000, "nbf": 0}, fake.secret_key)
    return call(fake, "POST", "/v1/videos/video-extend", body, headers={"Authorization": f"Bearer {token}"})


def test_the_fake_extends_as_strictly_as_kling(kling):
    long = kling.add_video(seconds=176)
    r = _extend_raw(kling, {"video_id": long, "prompt": "more"})
    assert (r.status, r.json["code"]) == (400, 1201) and "cannot exceed 3 minutes" in r.json["message"]
    v26 = kling.add_video(model="kling-v2-6", mode="pro")
    r = _extend_raw(kling, {"video_id": v26, "prompt": "more"})
    assert r.json["code"] == 1201 and "V1.0, V1.5, and V1.6" in r.json["message"]
    ok = kling.add_video(seconds=170)
    for body, named in (({"video_id": ok, "prompt": "more", "model_name": "kling-v1-6"}, "model_name"),
                        ({"video_id": ok, "prompt": ""}, "prompt"), ({"video_id": ok}, "prompt"),
                        ({"video_id": "nope", "prompt": "more"}, "not a video generated")):
        r = _extend_raw(kling, body)
        assert (r.status, r.json["code"]) == (400, 1201) and named in r.json["message"], body
    r = _extend_raw(kling, {"video_id": ok, "prompt": "more", "external_task_id": "x1"})
    tid = r.json["data"]["task_id"]
    kling.wait_completed(tid)
    token = encode_jwt({"iss": kling.access_key, "exp": 4_000_000_000, "nbf": 0}, kling.secret_key)
    for path in (f"/v1/videos/video-extend/{tid}", "/v1/videos/video-extend/x1"):
        data = call(kling, "GET", path, headers={"Authorization": f"Bearer {token}"}).json["data"]
        assert data["task_status"] == "succeed" and data["task_result"]["videos"][0]["duration"] == "175.0"
    assert call(kling, "GET", f"/v1/videos/text2video/{tid}",
                headers={"Authorization": f"Bearer {token}"}).json["code"] == 1203


def test_the_price_badge_of_extend_quotes_kling_without_a_fal_reference(tmp_path):
    """The badge's route serves a Kling-only node too: Kling's price, no fal reference to compare with."""
    import aiohttp
    from comfyui_kling_video.nodes.comfyui import price_route
    from pack_routes import served

    async def main():
        async with served(price_route.register) as url, aiohttp.ClientSession() as session:
            async with session.post(url + price_route.PRICE_ROUTE,
                                    json={"node_type": EXTEND.node_id, "values": {}}) as resp:
                return resp.status, await resp.json()

    status, body = asyncio.run(main())
    assert status == 200, body
    assert body["provider"] == "kling" and body["usd"] == pytest.approx(0.28)
    assert body["reference_usd"] == body["usd"] and body["text"] == "$0.28"
