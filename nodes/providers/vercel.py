"""Vercel AI Gateway (provider_protocols.md §4), through its v4 start/status pair.

Why not the v3 `POST /video-model` event stream: it holds one HTTP connection open for minutes and returns
no job id until the video is ready, so a crash or a dropped connection loses a paid result. The v4 start
takes an `idempotency-key` (ours: derived from the journal hash): a repeated start returns the same
operation instead of a second job, and status can be asked again after a restart.
"""
from __future__ import annotations

import base64
import re

from ..core import http
from ..core.errors import ProviderError
from ..media_in.media import Media
from .contract import Client, Completed, Failed, Handle, Running, Status
from .credentials import env_base_url, env_credential, send
from .registry import info
from .body_limits import RequestLimits, check_fits
from .wire_format import split_mode

PROVIDER = info("vercel")
SPEC_VERSION = "4"
# The gateway has no storage for inputs: files go inside the JSON body as base64. It runs on Vercel Functions,
# whose request body limit is 4.5 MB (vercel.com/docs/functions/limitations#request-body-size; the gateway
# answers 413 FUNCTION_PAYLOAD_TOO_LARGE above it, community.vercel.com/t/ai-gateway-payload-size/23450).
# Decimal megabytes, the stricter reading.
LIMITS = RequestLimits(body_max=4_500_000)


def credentials() -> str:
    return env_credential(PROVIDER.name, "AI_GATEWAY_API_KEY")


def base_url() -> str:
    return env_base_url("AI_GATEWAY_BASE_URL", "https://ai-gateway.vercel.sh")


def _file(media: Media) -> dict:
    # The gateway wants plain base64 and the type beside it: no data: prefix.
    return {"type": "file", "mediaType": media.mime, "data": base64.b64encode(media.data).decode()}


class VercelClient(Client):
    provider = PROVIDER
    failure_text = "{title} job failed: {error}"

    def __init__(self, session, key: str):
        self.session = session
        self.key = key

    def _headers(self, model: str) -> dict:
        return {"Authorization": f"Bearer {self.key}", "ai-gateway-protocol-version": "0.0.1",
                "ai-gateway-auth-method": "api-key", "ai-video-model-specification-version": SPEC_VERSION,
                "ai-model-id": split_mode(model)[0]}

    async def _send(self, url, what, model, body, extra=None, retry=http.QUERY):
        answer = await send(self.session, PROVIDER.name, "POST", url, headers={**self._headers(model), **(extra or {})},
                            json_body=body, retry=retry, what=what)
        return answer.data

    async def submit(self, model: str, wire_body: dict, key: str = "") -> Handle:
        idempotency = f"kling-video-{key[:48]}" if key else ""
        data = await self._send(f"{base_url()}/v4/ai/video-model/start", f"Vercel start of {model}", model,
                                wire_body, {"idempotency-key": idempotency} if idempotency else None,
                                # with an idempotency key a repeated start cannot make a second job
                                retry=http.QUERY if idempotency else http.SUBMIT)
        operation = data.get("operation")
        if operation is None:
            raise ProviderError(f"Vercel start: no operation in {str(data)[:300]}")
        return Handle(PROVIDER.name, model, idempotency or str(operation)[:64], {"operation": operation, "body": None})

    # No recover(): a lookup needs the body again; the runner re-sends the start with the same key instead.

    async def status(self, handle: Handle) -> Status:
        return parse_status(await self._send(f"{base_url()}/v4/ai/video-model/status", "Vercel status",
                                             handle.model, {"operation": handle.data["operation"]}))


def parse_status(answer: dict) -> Status:
    """The v4 status: pending, then completed (with the videos), error (with a message) or cancelled (which the
    SDK reports as an error)."""
    state = answer.get("status")
    if state == "completed":
        return Completed(answer)
    if state in ("error", "cancelled"):
        return Failed(str(answer.get("error") or state))
    return Running()


def output_url(result: dict, kind: str) -> str:
    if kind != "video":
        raise ProviderError(f"Vercel result has no {kind}: {str(result)[:300]}")
    return video_location(result)


def wire(model: str, body: dict) -> dict:
    return check_fits(body, lambda b: to_wire(model, b), LIMITS, PROVIDER.title)


def to_wire(model: str, body: dict) -> dict:
    options = {"mode": split_mode(model)[1] or "pro"}
    out = {"prompt": body.get("prompt", ""), "n": 1}
    if "duration" in body:
        out["duration"] = int(body["duration"])
    if "aspect_ratio" in body:
        out["aspectRatio"] = body["aspect_ratio"]
    if "generate_audio" in body:
        out["generateAudio"] = bool(body["generate_audio"])
        options["sound"] = "on" if body["generate_audio"] else "off"
    if "negative_prompt" in body:
        options["negativePrompt"] = body["negative_prompt"]
    if "cfg_scale" in body:
        options["cfgScale"] = body["cfg_scale"]
    if body.get("voice_ids"):
        options["voiceList"] = [{"voiceId": v} for v in body["voice_ids"]]
    if body.get("multi_prompt") or body.get("shot_type") == "intelligent":
        # Kling's multi-shot: its own spelling "intelligence", shots numbered from 1, durations as strings.
        options["multiShot"] = True
        options["shotType"] = "intelligence" if body.get("shot_type") == "intelligent" else "customize"
        if body.get("multi_prompt"):
            options["multiPrompt"] = [{"index": i, "prompt": shot["prompt"], "duration": str(shot["duration"])}
                                      for i, shot in enumerate(body["multi_prompt"], 1)]
    frames = []
    first = body.get("start_image_url") or body.get("image_url")
    last = body.get("end_image_url") or body.get("tail_image_url")
    if first is not None:
        out["image"] = _file(first)
        frames.append({"frameType": "first_frame", "image": out["image"]})
    if last is not None:
        frames.append({"frameType": "last_frame", "image": _file(last)})
    if frames:
        out["frameImages"] = frames
    out["providerOptions"] = {"klingai": options}
    return out


def video_location(result: dict) -> str:
    """Where the video of a completed status is: an https URL, or a `data:<type>;base64,` URI of the bytes the
    answer carried. Every form of the video model specification (@ai-sdk/provider VideoModelV4VideoData, and
    the gateway's own schema in @ai-sdk/gateway 4.x) is read:

      {"type": "url", "url", "mediaType"}       a file to download
      {"type": "base64", "data", "mediaType"}   the video itself
      {"type": "binary", "data", "mediaType"}   the video as bytes (a Uint8Array; in JSON an array of numbers,
                                                or an object of index -> number)
      {"type": "uploaded", "mediaType"}         delivered to the team's upload destination, not to us: the
                                                provider's own URL in providerMetadata.<provider>.videos is used
    """
    videos = [v for v in result.get("videos") or [] if isinstance(v, dict)]
    for video in videos:
        kind, mime = video.get("type"), _media_type(video.get("mediaType"))
        if kind == "url" and isinstance(video.get("url"), str) and video["url"]:
            return video["url"]
        if kind == "base64" and isinstance(video.get("data"), str) and video["data"]:
            return f"data:{mime};base64,{_standard_base64(video['data'])}"
        if kind == "binary":
            data = _bytes_of(video.get("data"))
            if data:
                return f"data:{mime};base64,{base64.b64encode(data).decode()}"
    if any(v.get("type") == "uploaded" for v in videos):
        for meta in (result.get("providerMetadata") or {}).values():
            for item in (meta.get("videos") if isinstance(meta, dict) else None) or []:
                url = item.get("url") if isinstance(item, dict) else None
                if isinstance(url, str) and url.startswith("https://"):
                    return url
        raise ProviderError("the Vercel AI Gateway delivered the video to your team's upload destination "
                            "(result type 'uploaded'), not in its answer: find it there; it is paid for")
    raise ProviderError(f"Vercel result has no video: {str(result)[:300]}")


def _media_type(value) -> str:
    # The type goes into a data: URI; anything but a plain type/subtype would break it.
    return value if isinstance(value, str) and re.fullmatch(r"[\w.+-]+/[\w.+-]+", value) else "video/mp4"


def _standard_base64(data: str) -> str:
    """Plain standard base64 of whatever base64 the answer used (a data: prefix, line breaks, the URL-safe
    alphabet, no padding); the download checks it strictly."""
    data = data.split(",", 1)[1] if data.startswith("data:") else data
    data = re.sub(r"\s+", "", data).translate(str.maketrans("-_", "+/"))
    return data + "=" * (-len(data) % 4)


def _bytes_of(value) -> bytes:
    """A Uint8Array as JSON carries it: [0, 1, ...] or {"0": 0, "1": 1, ...}; b"" when it is neither."""
    if isinstance(value, dict):
        try:
            value = [value[str(i)] for i in range(len(value))]
        except KeyError:
            return b""
    if isinstance(value, list):
        try:
            return bytes(value)
        except (TypeError, ValueError):
            return b""
    return b""


def describe(model: str, wire_body: dict) -> tuple[str, str]:
    return (f"POST {base_url()}/v4/ai/video-model/start",
            f"Authorization: Bearer $AI_GATEWAY_API_KEY, ai-model-id: {split_mode(model)[0]}, "
            "idempotency-key: kling-video-<hash>")


CLIENT = VercelClient
