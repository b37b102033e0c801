"""AI/ML API (provider_protocols.md §3): POST /v2/video/generations, then poll by generation_id.

No cancel and no idempotency key: a submit whose answer was lost cannot be recovered, so it is never
repeated (the journal says so). Statuses other than completed/error/failed count as pending.
"""
from __future__ import annotations

from ..core import http
from ..core.errors import ProviderError
from .contract import Client, Completed, Failed, Handle, Queued, Running, Status
from .credentials import env_base_url, env_credential, send
from .registry import info
from ..media_in.media import Media
from .body_limits import RequestLimits, check_fits
from .wire_format import split_mode, url_at, url_or, walk_media

PROVIDER = info("aimlapi")
# Catalog (fal) field → AI/ML API field; O1 names its end frame last_image_url.
RENAME = {"start_image_url": "image_url", "end_image_url": "tail_image_url", "image_urls": "image_list",
          "keep_original_sound": "keep_audio"}
O1_RENAME = {**RENAME, "end_image_url": "last_image_url"}
# AI/ML API has no storage and publishes no body limit; it passes the request on to Kling's own API (its
# "auto" provider tries Kling first), so a file must fit the body that API takes (kling.py: about 10 MB).
LIMITS = RequestLimits(body_max=10_000_000)


def credentials() -> str:
    return env_credential(PROVIDER.name, "AIMLAPI_KEY")


def base_url() -> str:
    return env_base_url("AIMLAPI_BASE_URL", "https://api.aimlapi.com")


class AimlClient(Client):
    provider = PROVIDER
    failure_text = "{title} generation {request_id} failed: {error}"

    def __init__(self, session, key: str):
        self.session = session
        self._auth = {"Authorization": f"Bearer {key}"}

    async def _send(self, method, url, what, **kw):
        try:
            return await send(self.session, PROVIDER.name, method, url, headers=self._auth, what=what, **kw)
        except ProviderError as exc:
            if exc.status == 403:
                raise ProviderError(f"AI/ML API: out of credits (HTTP 403): {exc}. Top up at https://aimlapi.com/app/billing",
                                    status=403) from None
            raise

    async def submit(self, model: str, wire_body: dict, key: str = "") -> Handle:
        answer = await self._send("POST", f"{base_url()}/v2/video/generations",
                                  f"AI/ML API submit of {wire_body['model']}", json_body=wire_body, retry=http.SUBMIT)
        gen_id = answer.data.get("id")
        if not gen_id:
            raise ProviderError(f"AI/ML API submit: no id in the answer: {str(answer.data)[:300]}")
        return Handle(PROVIDER.name, model, str(gen_id))  # the whole id, ':model' suffix included

    async def status(self, handle: Handle) -> Status:
        answer = await self._send("GET", f"{base_url()}/v2/video/generations", f"AI/ML API status of {handle.request_id}",
                                  params={"generation_id": handle.request_id})
        return parse_status(answer.data)


def parse_status(answer: dict) -> Status:
    """queued → generating → completed | error (the OpenAPI); the official example also waits on `waiting` and
    `active`, so anything but completed/succeeded/error/failed is still pending. A failure's reason is in
    error: {name, message}."""
    state = str(answer.get("status", "")).lower()
    if state in ("completed", "succeeded", "error", "failed"):
        error = answer.get("error")
        message = (error.get("message") or error.get("name")) if isinstance(error, dict) else error
        if state in ("error", "failed") and not message:
            message = f"generation {state}"
        return Failed(str(message)) if message else Completed(answer)
    return Queued() if state in ("queued", "waiting") else Running()


def output_url(result: dict, kind: str) -> str:
    # The OpenAPI says video.url; seed 004's example says output.video_url: accept both.
    url = url_at(result, ("video", "url"), ("output", "video_url")) if kind == "video" else None
    if not url:
        raise ProviderError(f"AI/ML API result has no {kind} url: {str(result)[:300]}")
    return url


def wire(model: str, body: dict) -> dict:
    return check_fits(body, lambda b: to_wire(model, b), LIMITS, PROVIDER.title)


def to_wire(model: str, body: dict) -> dict:
    model_id, mode = split_mode(model)
    rename = O1_RENAME if "/video-o1-" in model_id else RENAME
    out = {"model": model_id}
    # Its media fields take "https://… or Base64 (data URI)" (the OpenAPI): a known result URL goes as is.
    for key, value in walk_media(body, url_or(Media.data_uri)).items():
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
