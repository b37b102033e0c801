"""AI/ML API (provider_protocols.md §3): POST /v2/video/generations, then poll by generation_id.

No cancel and no idempotency key: a submit whose answer was lost cannot be recovered, so it is never
repeated (the journal says so). Statuses other than completed/error/failed count as pending.
"""
from __future__ import annotations

import asyncio

from ..core import http
from ..core.errors import JobFailed, ProviderError
from .base import Client, Handle, env_base_url, env_credential, split_mode, walk_media
from .body_limits import RequestLimits, check_fits

NAME = "aimlapi"
TITLE = "AI/ML API"
ENV = ("AIMLAPI_KEY",)
KEY_HELP = ("Create a key at https://aimlapi.com/app/keys and set it as the AIMLAPI_KEY environment variable "
            "(AIMLAPI_BASE_URL points elsewhere, https only).")
# Catalog (fal) field → AI/ML API field; O1 names its end frame last_image_url.
RENAME = {"start_image_url": "image_url", "end_image_url": "tail_image_url", "image_urls": "image_list",
          "keep_original_sound": "keep_audio"}
O1_RENAME = {**RENAME, "end_image_url": "last_image_url"}
# AI/ML API has no storage and publishes no body limit; it passes the request on to Kling's own API (its
# "auto" provider tries Kling first), so a file must fit the body that API takes (kling.py: about 10 MB).
LIMITS = RequestLimits(body_max=10_000_000)


def credentials() -> str:
    return env_credential("AIMLAPI_KEY", "AI/ML API", KEY_HELP)


def base_url() -> str:
    return env_base_url("AIMLAPI_BASE_URL", "https://api.aimlapi.com")


class AimlClient(Client):
    name = NAME
    can_cancel = False

    def __init__(self, session, key: str):
        self.session = session
        self._auth = {"Authorization": f"Bearer {key}"}

    async def _send(self, method, url, what, **kw):
        try:
            return await http.send(self.session, method, url, headers=self._auth, what=what, **kw)
        except ProviderError as exc:
            if exc.status == 401:
                raise ProviderError(f"AI/ML API rejected the key (HTTP 401): {exc}. {KEY_HELP}", status=401) from None
            if exc.status == 403:
                raise ProviderError(f"AI/ML API: out of credits (HTTP 403): {exc}. Top up at https://aimlapi.com/app/billing",
                                    status=403) from None
            raise

    async def wire(self, model: str, body: dict, emit) -> dict:
        return check_fits(body, lambda b: to_wire(model, b), LIMITS, TITLE)

    async def submit(self, model: str, wire_body: dict, key: str = "") -> Handle:
        answer = await self._send("POST", f"{base_url()}/v2/video/generations",
                                  f"AI/ML API submit of {wire_body['model']}", json_body=wire_body, retry=http.SUBMIT)
        gen_id = answer.data.get("id")
        if not gen_id:
            raise ProviderError(f"AI/ML API submit: no id in the answer: {str(answer.data)[:300]}")
        return Handle(NAME, model, str(gen_id))  # the whole id, ':model' suffix included

    async def _poll(self, handle: Handle) -> dict:
        answer = await self._send("GET", f"{base_url()}/v2/video/generations", f"AI/ML API status of {handle.request_id}",
                                  params={"generation_id": handle.request_id})
        return answer.data

    async def statuses(self, handle: Handle, poll_interval: float):
        while True:
            data = await self._poll(handle)
            state = str(data.get("status", "")).lower()
            if state in ("completed", "succeeded", "error", "failed"):
                error = data.get("error")
                message = (error.get("message") or error.get("name")) if isinstance(error, dict) else error
                if state in ("error", "failed") and not message:
                    message = f"generation {state}"
                yield {"status": "COMPLETED", "error": message, "result": data}
                return
            yield {"status": "IN_QUEUE" if state in ("queued", "waiting") else "IN_PROGRESS", "logs": None}
            await asyncio.sleep(max(poll_interval, 2.0))

    async def result(self, handle: Handle, final: dict, quick: bool = False) -> dict:
        if final.get("error"):
            raise JobFailed(f"AI/ML API generation {handle.request_id} failed: {final['error']}")
        return final.get("result") or await self._poll(handle)

    def video_url(self, result: dict) -> str:
        video = result.get("video") or {}
        # The OpenAPI says video.url; seed 004's example says output.video_url: accept both.
        url = video.get("url") if isinstance(video, dict) else None
        url = url or (result.get("output") or {}).get("video_url")
        if not url:
            raise ProviderError(f"AI/ML API result has no video url: {str(result)[:300]}")
        return url


def to_wire(model: str, body: dict) -> dict:
    model_id, mode = split_mode(model)
    rename = O1_RENAME if "/video-o1-" in model_id else RENAME
    out = {"model": model_id}
    for key, value in walk_media(body, lambda m: m.data_uri()).items():
        if key == "duration":
            value = int(value)  # an integer in AI/ML API's schemas, a string at fal
        elif key == "multi_prompt":
            value = [{**shot, "duration": int(shot["duration"])} for shot in value]
        out[rename.get(key, key)] = value
    if mode:
        out["mode"] = mode
    return out


def describe(model: str, wire_body: dict) -> tuple[str, str]:
    return f"POST {base_url()}/v2/video/generations", "Authorization: Bearer $AIMLAPI_KEY"


CLIENT = AimlClient
