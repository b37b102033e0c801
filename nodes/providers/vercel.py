"""Vercel AI Gateway (provider_protocols.md §4), through its v4 start/status pair.

Why not the v3 `POST /video-model` event stream: it holds one HTTP connection open for minutes and returns
no job id until the video is ready, so a crash or a dropped connection loses a paid result. The v4 start
takes an `idempotency-key` (ours: derived from the journal hash): a repeated start returns the same
operation instead of a second job, and status can be asked again after a restart.
"""
from __future__ import annotations

import asyncio
import base64

from .. import http
from ..errors import JobFailed, ProviderError
from ..media_in import Media
from .base import Client, Handle, env_base_url, env_credential, split_mode

NAME = "vercel"
TITLE = "Vercel AI Gateway"
ENV = ("AI_GATEWAY_API_KEY",)
KEY_HELP = ("Create a key at https://vercel.com/dashboard/ai-gateway and set it as the AI_GATEWAY_API_KEY "
            "environment variable (AI_GATEWAY_BASE_URL points elsewhere, https only).")
SPEC_VERSION = "4"


def credentials() -> str:
    return env_credential("AI_GATEWAY_API_KEY", "Vercel AI Gateway", KEY_HELP)


def base_url() -> str:
    return env_base_url("AI_GATEWAY_BASE_URL", "https://ai-gateway.vercel.sh")


def _file(media: Media) -> dict:
    # The gateway wants plain base64 and the type beside it: no data: prefix.
    return {"type": "file", "mediaType": media.mime, "data": base64.b64encode(media.data).decode()}


class VercelClient(Client):
    name = NAME
    can_cancel = False
    idempotent_submit = True

    def __init__(self, session, key: str):
        self.session = session
        self.key = key

    def _headers(self, model: str) -> dict:
        return {"Authorization": f"Bearer {self.key}", "ai-gateway-protocol-version": "0.0.1",
                "ai-gateway-auth-method": "api-key", "ai-video-model-specification-version": SPEC_VERSION,
                "ai-model-id": split_mode(model)[0]}

    async def _send(self, url, what, model, body, extra=None, retry=http.QUERY):
        try:
            answer = await http.send(self.session, "POST", url, headers={**self._headers(model), **(extra or {})},
                                     json_body=body, retry=retry, what=what)
        except ProviderError as exc:
            if exc.status == 401:
                raise ProviderError(f"Vercel AI Gateway rejected the key (HTTP 401): {exc}. {KEY_HELP}",
                                    status=401) from None
            raise
        return answer.data

    async def wire(self, model: str, body: dict, emit) -> dict:
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

    async def submit(self, model: str, wire_body: dict, key: str = "") -> Handle:
        idempotency = f"kling-video-{key[:48]}" if key else ""
        data = await self._send(f"{base_url()}/v4/ai/video-model/start", f"Vercel start of {model}", model,
                                wire_body, {"idempotency-key": idempotency} if idempotency else None,
                                # with an idempotency key a repeated start cannot make a second job
                                retry=http.QUERY if idempotency else http.SUBMIT)
        operation = data.get("operation")
        if operation is None:
            raise ProviderError(f"Vercel start: no operation in {str(data)[:300]}")
        return Handle(NAME, model, idempotency or str(operation)[:64], {"operation": operation, "body": None})

    async def recover(self, model: str, key: str):
        return None  # needs the body again: Job re-sends the start with the same key instead

    async def statuses(self, handle: Handle, poll_interval: float):
        while True:
            data = await self._send(f"{base_url()}/v4/ai/video-model/status", "Vercel status", handle.model,
                                    {"operation": handle.data["operation"]})
            state = data.get("status")
            if state in ("completed", "error", "cancelled"):
                error = None if state == "completed" else (data.get("error") or state)
                yield {"status": "COMPLETED", "error": error, "result": data}
                return
            yield {"status": "IN_PROGRESS", "logs": None}
            await asyncio.sleep(max(poll_interval, 2.0))

    async def result(self, handle: Handle, final: dict, quick: bool = False) -> dict:
        if final.get("error"):
            raise JobFailed(f"Vercel AI Gateway job failed: {final['error']}")
        return final.get("result") or {}

    def video_url(self, result: dict) -> str:
        for video in result.get("videos") or []:
            if video.get("type") == "url" and video.get("url"):
                return video["url"]
        raise ProviderError(f"Vercel result has no video url: {str(result)[:300]}")


def describe(model: str, wire_body: dict) -> tuple[str, str]:
    return (f"POST {base_url()}/v4/ai/video-model/start",
            f"Authorization: Bearer $AI_GATEWAY_API_KEY, ai-model-id: {split_mode(model)[0]}, "
            "idempotency-key: kling-video-<hash>")


CLIENT = VercelClient
