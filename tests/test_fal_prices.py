"""fal's live prices (issue 16): refreshed from fal's pricing API (the fake serves it as fal documents it), cached
for a day under the journal's home, the catalog's price when the refresh cannot be had, shown by the price route
with where it comes from, and counted by the spend cap and the spend log at the price the badge shows."""
import asyncio
import datetime as dt
import json
import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from comfyui_kling_video.nodes.catalog import CATALOG, fal_prices, variant
from comfyui_kling_video.nodes.comfyui import price_route
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.jobs.journal import Journal
from comfyui_kling_video.nodes.providers import fal_pricing
from comfyui_kling_video.nodes.request import prepare
from comfyui_kling_video.nodes.request.pricing import price_of

T2V = variant("t2v")  # v2.6 Pro text to video: $0.07/s audio off, $0.14/s on, in the catalog
KV = "fal-ai/kling-video/"


def refresh(**kw) -> bool:
    return asyncio.run(fal_pricing.refresh(**kw))


def pricing_calls(fake) -> list[dict]:
    return [e for e in fake.log.snapshot() if e["op"] == "pricing"]


def cache() -> dict:
    return json.loads(fal_prices.cache_path().read_text())


def test_refresh_batches_by_50_with_the_key_and_caches_for_a_day(fal_env):
    fal_env.prices[T2V.endpoint] = {"unit_price": 0.09, "unit": "seconds", "currency": "USD"}
    assert fal_pricing.due() and refresh()
    calls = pricing_calls(fal_env)
    ids = sorted({v.endpoint for v in CATALOG})
    asked = [i for c in calls for i in c["query"]["endpoint_id"].split(",")]
    assert all(1 <= len(c["query"]["endpoint_id"].split(",")) <= 50 for c in calls)
    assert all(c["headers"]["authorization"] == "Key test-key-0123456789" for c in calls)
    assert set(asked) == set(ids) and all(c["http_status"] == 200 for c in calls)
    assert cache()["prices"][T2V.endpoint] == {"unit_price": 0.09, "unit": "seconds", "currency": "USD"}
    # fal's rate is none of the catalog's tiers: the price changed; taken as the audio-off rate, tiers scaled
    live = price_of(T2V)
    assert isinstance(live, fal_prices.LivePrice) and (live.audio_off, live.audio_on) == (0.09, 0.18)
    assert prepare(T2V, {"prompt": "x", "generate_audio": False}).cost.usd == pytest.approx(0.45)
    # within the day: nothing is asked again
    assert not fal_pricing.due()
    assert asyncio.run(fal_pricing.refresh_if_due()) is False and len(pricing_calls(fal_env)) == len(calls)
    # a day later: due again, and the stale price is no longer used
    tomorrow = fal_prices.now() + dt.timedelta(days=1, minutes=1)
    assert fal_pricing.due(tomorrow)
    assert fal_prices.price(T2V.endpoint, T2V.price, tomorrow) is T2V.price
    assert refresh(at=tomorrow) and len(pricing_calls(fal_env)) > len(calls)


def test_a_rate_equal_to_a_catalog_tier_confirms_the_tiers(fal_env):
    assert refresh()
    live = price_of(T2V)  # the fake lists 0.07/s: the catalog's audio-off rate
    assert isinstance(live, fal_prices.LivePrice)
    assert (live.audio_off, live.audio_on, live.voice) == (T2V.price.audio_off, T2V.price.audio_on, T2V.price.voice)
    # a unit no catalog price can express keeps the catalog's, and says so
    units = next(v for v in CATALOG if fal_env.prices.get(v.endpoint, {}).get("unit") == "units")
    kept = price_of(units)
    assert not isinstance(kept, fal_prices.LivePrice) and "cannot express" in kept.source


def test_a_404_batch_is_halved_to_the_unknown_id_which_is_remembered(fal_env):
    unknown = variant("v3-pro-i2v").endpoint
    del fal_env.prices[unknown]
    assert refresh()
    data = cache()
    assert list(data["unknown"]) == [unknown] and unknown not in data["prices"]
    assert T2V.endpoint in data["prices"]  # the rest of its batch was priced
    assert price_of(variant("v3-pro-i2v")) is variant("v3-pro-i2v").price
    assert fal_prices.why_not_live(unknown) == "fal's pricing API does not know this endpoint"
    singles = [c for c in pricing_calls(fal_env) if c["query"]["endpoint_id"] == unknown]
    assert [c["http_status"] for c in singles] == [404]
    # the next refresh does not ask for it again
    before = len(pricing_calls(fal_env))
    assert refresh(at=fal_prices.now() + dt.timedelta(days=1, minutes=1))
    assert all(unknown not in c["query"]["endpoint_id"] for c in pricing_calls(fal_env)[before:])
    assert all(c["http_status"] == 200 for c in pricing_calls(fal_env)[before:])


def test_pages_are_followed_by_cursor(fal_env):
    fal_env.pricing_page_size = 7
    assert refresh()
    calls = pricing_calls(fal_env)
    assert any("cursor" in c["query"] for c in calls)
    assert len(cache()["prices"]) == len({v.endpoint for v in CATALOG} & set(fal_env.prices))


@pytest.mark.parametrize("how", ["401", "403"])
def test_a_refused_key_keeps_the_catalog_price_logs_once_and_never_shows_the_key(fal_env, monkeypatch, caplog, how):
    caplog.set_level(logging.INFO)
    fal_pricing._told.clear()
    if how == "401":
        monkeypatch.setenv("FAL_KEY", "wrong-key-9876543210")
    else:
        fal_env.forbid = True
    assert refresh() is False
    assert refresh() is False
    assert price_of(T2V) is T2V.price
    data = cache()
    assert "fetched_at" not in data and f"HTTP {how}" in data["failure"]
    assert "9876543210" not in fal_prices.cache_path().read_text()
    told = [r.getMessage() for r in caplog.records if "not refreshed" in r.getMessage()]
    assert len(told) == 1 and "9876543210" not in told[0] and "0123456789" not in told[0]
    # tried again within the hour only by an explicit refresh, not by the triggers
    assert not fal_pricing.due() and fal_pricing.due(fal_prices.now() + dt.timedelta(hours=1, minutes=1))
    assert fal_prices.why_not_live(T2V.endpoint).startswith("fal's prices could not be fetched")


def test_an_unreachable_api_keeps_the_catalog_price(fal_env, monkeypatch):
    monkeypatch.setenv("FAL_API_HOST", "127.0.0.1:9")  # nothing listens on the discard port
    assert refresh() is False
    assert price_of(T2V) is T2V.price and "failure" in cache()
    assert prepare(T2V, {"prompt": "x"}).cost.price_as_of is None


def test_without_a_fal_key_nothing_is_asked(fal_env, monkeypatch):
    monkeypatch.delenv("FAL_KEY")
    assert refresh() is False and pricing_calls(fal_env) == [] and not fal_prices.cache_path().exists()


# -- the badge's JSON and the spend log ---------------------------------------------------------------

async def _quote(node_type: str, values: dict) -> dict:
    routes = web.RouteTableDef()
    price_route.register(routes)
    app = web.Application()
    app.add_routes(routes)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        r = await client.post(price_route.PRICE_ROUTE, json={"node_type": node_type, "values": values})
        assert r.status == 200
        answer = await r.json()
        if fal_pricing._running is not None:  # the refresh the route started in the background
            await fal_pricing._running
        return answer
    finally:
        await client.close()


def test_the_badge_says_which_price_it_shows_and_refreshes_in_the_background(fal_env):
    values = {"prompt": "x", "duration": "5", "generate_audio": True, "provider": "fal"}
    first = asyncio.run(_quote(T2V.node_id, values))
    assert first["text"] == "$0.70" and first["price_origin"] == "catalog" and first["price_as_of"] is None
    assert first["price_source"] == T2V.price.source and first["price_note"] == "fal's prices not fetched yet"
    assert pricing_calls(fal_env)  # the route started the refresh; its answer did not wait for it
    second = asyncio.run(_quote(T2V.node_id, values))
    assert second["text"] == "$0.70"  # the same price: the same badge text
    assert second["price_origin"] == "live" and second["price_as_of"] == cache()["fetched_at"]
    assert second["price_source"].startswith("fal's pricing API: $0.07 per second, as of ")
    assert 0 <= second["price_age_seconds"] < 120
    calls = len(pricing_calls(fal_env))
    asyncio.run(_quote(T2V.node_id, values))
    assert len(pricing_calls(fal_env)) == calls  # once a day


def test_the_spend_log_counts_the_price_the_badge_shows(fal_env, tmp_path, monkeypatch):
    monkeypatch.setenv("KLING_VIDEO_MAX_USD", "5")
    fal_env.prices[T2V.endpoint] = {"unit_price": 0.09, "unit": "seconds", "currency": "USD"}
    assert refresh()
    values = {"prompt": "a heron", "duration": "5", "generate_audio": False, "provider": "fal"}
    badge = asyncio.run(_quote(T2V.node_id, values))
    assert badge["usd"] == pytest.approx(0.45) and badge["text"] == "$0.45" and badge["price_origin"] == "live"
    asyncio.run(generate(lambda: prepare(T2V, {"prompt": "a heron", "duration": "5", "generate_audio": False}),
                         tmp_path / "out"))
    [line] = [json.loads(x) for x in Journal().spend.path.read_text().splitlines()]
    assert line["price"] == pytest.approx(badge["usd"]) and "$0.09/s" in line["estimate"]
    assert Journal().spend.spent_today() == pytest.approx(badge["usd"])
