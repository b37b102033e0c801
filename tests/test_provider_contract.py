"""Every provider module keeps the contract of nodes/providers/contract.py, and each one's parse_status maps the
states its protocol documents (../shared/reference/provider_protocols.md) to the right Status type."""
import asyncio
import inspect
import json
import types

import pytest

from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.core.errors import ProviderError
from comfyui_kling_video.nodes.media_in.media import Media
from comfyui_kling_video.nodes.providers import contract, poll, registry, select
from comfyui_kling_video.nodes.providers.contract import Completed, Failed, Queued, Running

MODULES = {name: select.get(name) for name in registry.ORDER}


@pytest.mark.parametrize("name", registry.ORDER)
def test_every_provider_module_keeps_the_contract(name):
    module = MODULES[name]
    assert contract.unmet(module) == []
    for function in ("wire", "describe", "parse_status", "output_url"):  # pure: no I/O, so never async
        assert not inspect.iscoroutinefunction(getattr(module, function)), (name, function)
    # The registry is the only place that says who the provider is and what it can do.
    assert not [g for g in ("NAME", "TITLE", "ENV", "KEY_HELP") if hasattr(module, g)], name
    assert not [a for a in ("name", "can_cancel", "idempotent_submit") if hasattr(module.CLIENT, a)], name


def test_the_registry_and_the_modules_name_the_same_providers():
    assert tuple(MODULES) == registry.ORDER == tuple(p.name for p in registry.PROVIDERS)
    with pytest.raises(KeyError, match="unknown provider 'nope'; known: fal, kling, aimlapi, vercel"):
        select.get("nope")


def test_a_client_that_breaks_the_contract_is_named():
    class Half(contract.Client):  # no submit, no status; claims no cancel but overrides it
        provider = registry.info("kling")

        def __init__(self, session, credentials):
            pass

        async def cancel(self, handle):
            return "OK"

    module = types.ModuleType("nodes.providers.kling")
    module.CLIENT = Half
    gaps = contract.unmet(module)
    assert "kling.wire is not a function" in gaps and "kling.LIMITS is not a RequestLimits" in gaps
    assert "kling.CLIENT does not implement status, submit" in gaps
    assert "kling: registry can_cancel=False but CLIENT overrides cancel()" in gaps


# -- statuses, as each protocol documents them ---------------------------------------------------------

def test_fal_statuses():  # §1: IN_QUEUE → IN_PROGRESS → COMPLETED; a failure is COMPLETED with error
    parse = MODULES["fal"].parse_status
    assert parse({"status": "IN_QUEUE", "queue_position": 2, "request_id": "r", "logs": None}) == Queued(2)
    assert parse({"status": "IN_QUEUE", "queue_position": 0, "logs": None}).position == 0
    log = {"message": "step 1", "level": "INFO", "source": "USER", "timestamp": "2025-01-01T00:00:00.000000"}
    assert parse({"status": "IN_PROGRESS", "request_id": "r", "logs": [log]}) == Running(("step 1",))
    done = parse({"status": "COMPLETED", "request_id": "r", "logs": [log], "metrics": {"inference_time": 12.3}})
    assert isinstance(done, Completed) and done.logs == ("step 1",)
    assert parse({"status": "COMPLETED", "logs": None, "metrics": {}, "error": None}) == Completed()
    failed = parse({"status": "COMPLETED", "request_id": "r", "logs": None, "metrics": {},
                    "error": "face detection failed", "error_type": "content_policy_violation"})
    assert failed == Failed("face detection failed", "content_policy_violation")
    # FAILED or CANCELED are not fal's words (some third-party schemas invent them): asked again, not trusted
    for answer in ({"status": "FAILED"}, {"status": "CANCELED"}, "<html>", None):
        with pytest.raises(ProviderError) as err:
            parse(answer)
        assert err.value.retryable


def kling_answer(state, **data):
    return {"code": 0, "message": "success", "request_id": "req-002",
            "data": {"task_id": "task-abc-123", "task_status": state, "task_info": {"external_task_id": None}, **data}}


def test_kling_statuses():  # §5.5: submitted → processing → succeed | failed (reason in task_status_msg)
    parse = MODULES["kling"].parse_status
    assert parse(kling_answer("submitted")) == Queued()
    assert parse(kling_answer("processing")) == Running()
    videos = {"videos": [{"id": "video-001", "url": "https://p1.a.kwimgs.com/output/video-001.mp4", "duration": "5.0"}]}
    done = parse(kling_answer("succeed", task_status_msg="", task_result=videos))
    assert isinstance(done, Completed)
    assert MODULES["kling"].output_url(done.result, "video") == "https://p1.a.kwimgs.com/output/video-001.mp4"
    assert parse(kling_answer("failed", task_status_msg="Failure to pass the risk control system")) == \
        Failed("Failure to pass the risk control system")
    assert parse(kling_answer("failed", task_status_msg="")) == Failed("failed")


def test_aimlapi_statuses():  # §3: queued → generating → completed | error; waiting and active are pending too
    parse = MODULES["aimlapi"].parse_status
    gid = "27f25c85-e9db-44e9-909a-0c3ceb35cdd9:klingai/video-v2-6-pro-image-to-video"
    assert parse({"id": gid, "status": "queued"}) == Queued()
    assert parse({"id": gid, "status": "waiting"}) == Queued()
    assert parse({"id": gid, "status": "generating"}) == Running()
    assert parse({"id": gid, "status": "active"}) == Running()
    url = "https://cdn.aimlapi.com/flamingo/files/b/0a84eaeb/4JST2nBT5v7zbzIy6RlmW_output.mp4"
    done = parse({"id": gid, "status": "completed", "video": {"url": url}})
    assert isinstance(done, Completed) and MODULES["aimlapi"].output_url(done.result, "video") == url
    assert parse({"id": gid, "status": "error", "error": {"name": "ModerationError", "message": "flagged"}}) == \
        Failed("flagged")
    assert parse({"id": gid, "status": "error", "error": {"name": "ModerationError"}}) == Failed("ModerationError")
    assert parse({"id": gid, "status": "error", "error": None}) == Failed("generation error")
    # the tolerant reading of seed 004's shape: succeeded with output.video_url
    done = parse({"id": gid, "status": "succeeded", "output": {"video_url": url}})
    assert isinstance(done, Completed) and MODULES["aimlapi"].output_url(done.result, "video") == url


def test_vercel_statuses():  # §4.4: pending, then completed | error | cancelled (an error, as the SDK says)
    parse = MODULES["vercel"].parse_status
    assert parse({"status": "pending"}) == Running()
    done = parse({"status": "completed", "videos": [{"type": "url", "url": "https://x.test/v.mp4",
                                                     "mediaType": "video/mp4"}]})
    assert isinstance(done, Completed) and MODULES["vercel"].output_url(done.result, "video") == "https://x.test/v.mp4"
    assert parse({"status": "error", "error": "upstream failed"}) == Failed("upstream failed")
    assert parse({"status": "cancelled"}) == Failed("cancelled")


@pytest.mark.parametrize("name", registry.ORDER)
def test_a_result_without_the_file_says_so(name):
    with pytest.raises(ProviderError, match="result has no"):
        MODULES[name].output_url({"status": "completed"}, "video")


# -- the wire body: a pure function of the prepared body -------------------------------------------------

@pytest.mark.parametrize("name", registry.ORDER)
def test_wire_is_pure_and_puts_every_file_inline(name):
    png = Media(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png", "start_image_url.png")
    body = {"prompt": "a lighthouse", "duration": "5", "start_image_url": png}
    model = variant("v2.6-pro-i2v").offer(name).model  # served by all four
    wire = MODULES[name].wire(model, body)
    text = json.dumps(wire)  # nothing left that is not JSON: every Media went inline the provider's way
    assert "a lighthouse" in text
    assert MODULES[name].wire(model, body) == wire  # the same body, the same wire body
    line, auth = MODULES[name].describe(model, wire)
    assert line.startswith("POST https://") and auth


# -- the shared poll loop ----------------------------------------------------------------------------

def test_poll_pace():
    assert poll.interval(1.0, streams=True) == 1.0     # fal's fallback when its stream is unavailable
    assert poll.interval(1.0, streams=False) == 2.0    # providers that are only polled: at most every 2 s
    assert poll.interval(5.0, streams=False) == 5.0


def statuses(*items):
    answers = iter(items)

    async def query():
        return next(answers)
    return query


def follow(query, stream=None):
    async def go():
        return [s async for s in poll.follow(query, lambda s: isinstance(s, contract.TERMINAL), 0, stream)]
    return asyncio.run(go())


def test_follow_polls_until_a_terminal_status():
    assert follow(statuses(Queued(1), Running(), Failed("x"), Running())) == [Queued(1), Running(), Failed("x")]


def test_follow_reads_the_stream_reconnects_and_falls_back_to_polling():
    calls = []

    def stream():
        calls.append(len(calls))

        async def events():
            if len(calls) == 1:
                yield Queued(3)
                raise ProviderError("stream broke", retryable=True)
            raise poll.StreamUnavailable("HTTP 404")
            yield  # an async generator
        return events()
    # broken once (asked once before reconnecting), then unavailable: polled to the end
    got = follow(statuses(Running(("a",)), Running(("a", "b")), Completed()), stream)
    assert got == [Queued(3), Running(("a",)), Running(("a", "b")), Completed()] and len(calls) == 2


def test_follow_gives_up_on_a_stream_error_no_retry_helps():
    async def events():
        raise ProviderError("fal.ai rejected the key (HTTP 401)", status=401)
        yield
    with pytest.raises(ProviderError, match="rejected the key"):
        follow(statuses(), lambda: events())
