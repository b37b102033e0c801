"""Kling's own API (provider_protocols.md §5): a fresh HS256 JWT per request from the access and secret
keys; POST /v1/videos/{image2video|text2video}, then GET /v1/videos/{task}/{id}.

Every create carries external_task_id = the journal hash: after a crash or a lost answer the job is
looked up by it before anything is created again, so a paid job is never created twice.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from ..core import http, keys
from ..core.errors import MissingCredentials, ProviderError
from .contract import Client, Completed, Failed, Handle, Queued, Running, Status
from .credentials import env_base_url
from .registry import info
from .body_limits import RequestLimits, check_fits
from .wire_format import split_mode, url_at, walk_media

PROVIDER = info("kling")
RENAME = {"start_image_url": "image", "end_image_url": "image_tail", "image_url": "image",
          "tail_image_url": "image_tail", "generate_audio": "sound", "voice_ids": "voice_list"}
# Kling's service codes (§5.6) and what a user can do about them.
CODES = {
    1000: "authentication failed: check KLINGAI_ACCESS_KEY and KLINGAI_SECRET_KEY",
    1001: "the Authorization header is empty",
    1002: "the token is invalid: check KLINGAI_SECRET_KEY",
    1003: "the token is not valid yet: check this machine's clock",
    1004: "the token expired: check this machine's clock",
    1100: "the Kling account has a problem: see https://app.klingai.com",
    1101: "the Kling account is in arrears: top it up",
    1102: "no resource pack left (or it expired): buy one at https://app.klingai.com",
    1103: "this key may not use that resource",
    1200: "invalid request parameters",
    1201: "invalid request parameters",
    1202: "invalid request method",
    1203: "the resource does not exist",
    1300: "the content policy was triggered",
    1301: "the content security check was triggered",
    1302: "rate limit: too many requests",
    1303: "concurrency or resource-pack limit reached",
    1304: "this IP is not on the allow-list",
}
RETRY_CODES = {1302, 1303}
# Kling's API has no storage: a file goes inside the JSON body as raw base64 (4/3 of its size), and the body is
# reported refused above about 10 MB (issue 12's report; Kling's documents cap each image at 10 MB but state
# no body limit). Decimal megabytes, the stricter reading.
LIMITS = RequestLimits(body_max=10_000_000)


def _hopeless(answer) -> bool:
    """Kling answers 429 for an empty account too (1100-1102): waiting will not help."""
    return isinstance(answer.data, dict) and answer.data.get("code") not in (None, *RETRY_CODES) \
        and answer.data.get("code") < 5000


def credentials() -> tuple[str, str]:
    access = keys.secret("KLINGAI_ACCESS_KEY")
    secret = keys.secret("KLINGAI_SECRET_KEY")
    if not access or not secret:
        missing = " and ".join(n for n, v in (("KLINGAI_ACCESS_KEY", access), ("KLINGAI_SECRET_KEY", secret)) if not v)
        raise MissingCredentials(f"No Kling API key: {missing} is neither set nor stored. {PROVIDER.key_help}")
    return access, secret


def base_url() -> str:
    return env_base_url("KLINGAI_BASE_URL", "https://api-singapore.klingai.com")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(access: str, secret: str, now: float | None = None) -> str:
    now = int(time.time() if now is None else now)
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps({"iss": access, "exp": now + 1800, "nbf": now - 5}, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


def _task(body: dict) -> str:
    return "image2video" if "image" in body or "image_tail" in body else "text2video"


class KlingClient(Client):
    provider = PROVIDER
    failure_text = "{title} task {request_id} failed: {error}"

    def __init__(self, session, creds: tuple[str, str]):
        self.session = session
        self.access, self.secret = creds

    async def _send(self, method, url, what, **kw):
        # A fresh token for every request, as Kling's own SDK does: a long job outlives a token.
        headers = {"Authorization": f"Bearer {make_jwt(self.access, self.secret)}"}
        try:
            answer = await http.send(self.session, method, url, headers=headers, what=what, final=_hopeless, **kw)
        except ProviderError as exc:
            raise self._explain(exc) from None
        if answer.data.get("code", 0) != 0:
            error = ProviderError(f"{what}: {answer.data}", status=answer.status)
            error.body = answer.data
            raise self._explain(error)
        return answer.data

    @staticmethod
    def _explain(exc: ProviderError) -> ProviderError:
        body = getattr(exc, "body", None)
        code = body.get("code") if isinstance(body, dict) else None
        if code in CODES:
            return ProviderError(f"Kling error {code}: {CODES[code]} ({body.get('message', '')})",
                                 status=exc.status, retryable=code in RETRY_CODES or (exc.status or 0) >= 500)
        return exc

    async def submit(self, model: str, wire_body: dict, key: str = "") -> Handle:
        task = _task(wire_body)
        body = {**wire_body, "external_task_id": key[:64]} if key else wire_body
        try:
            data = await self._send("POST", f"{base_url()}/v1/videos/{task}", f"Kling create ({task})",
                                    json_body=body, retry=http.SUBMIT)
        except ProviderError as exc:
            if key and exc.status is None:  # the answer was lost: did Kling create it? ask by our id
                found = await self._lookup(model, task, key[:64])
                if found:
                    return found
            raise
        task_id = (data.get("data") or {}).get("task_id")
        if not task_id:
            raise ProviderError(f"Kling create: no task_id in {str(data)[:300]}")
        return Handle(PROVIDER.name, model, str(task_id), {"task": task})

    async def _lookup(self, model: str, task: str, external_id: str):
        try:
            data = await self._send("GET", f"{base_url()}/v1/videos/{task}/{external_id}", "Kling lookup")
        except ProviderError as exc:
            if exc.status == 404 or "1203" in str(exc):
                return None
            raise
        task_id = (data.get("data") or {}).get("task_id")
        return Handle(PROVIDER.name, model, str(task_id), {"task": task}) if task_id else None

    async def recover(self, model: str, key: str):
        for task in ("image2video", "text2video"):
            found = await self._lookup(model, task, key[:64])
            if found:
                return found
        return None

    async def status(self, handle: Handle) -> Status:
        task = handle.data.get("task", "image2video")
        return parse_status(await self._send("GET", f"{base_url()}/v1/videos/{task}/{handle.request_id}",
                                             f"Kling status of {handle.request_id}"))


def parse_status(answer: dict) -> Status:
    """Kling's task_status: submitted → processing → succeed | failed (the reason in task_status_msg)."""
    data = answer.get("data") or {}
    state = data.get("task_status")
    if state == "succeed":
        return Completed(data)
    if state == "failed":
        return Failed(str(data.get("task_status_msg") or "failed"))
    return Queued() if state == "submitted" else Running()


def output_url(result: dict, kind: str) -> str:
    url = url_at(result, ("task_result", "videos", 0, "url")) if kind == "video" else None
    if not url:
        raise ProviderError(f"Kling result has no {kind}: {str(result)[:300]}")
    return url


def wire(model: str, body: dict) -> dict:
    return check_fits(body, lambda b: to_wire(model, b), LIMITS, "Kling's API")


def to_wire(model: str, body: dict) -> dict:
    model_name, mode = split_mode(model)
    out = {"model_name": model_name, "mode": mode or "pro"}
    # Kling takes raw base64 (no data: prefix) or an https URL.
    for key, value in walk_media(body, lambda m: base64.b64encode(m.data).decode()).items():
        if key == "generate_audio":
            value = "on" if value else "off"
        elif key == "voice_ids":
            value = [{"voice_id": v} for v in value]
        elif key == "multi_prompt":
            out["multi_shot"] = True
            value = [{"index": i, "prompt": s["prompt"], "duration": s["duration"]} for i, s in enumerate(value, 1)]
        elif key == "shot_type" and value == "intelligent":
            value = "intelligence"  # Kling's spelling of fal's "intelligent" (§6 item 11)
        out[RENAME.get(key, key)] = value
    return out


def describe(model: str, wire_body: dict) -> tuple[str, str]:
    return (f"POST {base_url()}/v1/videos/{_task(wire_body)}",
            "Authorization: Bearer <JWT from $KLINGAI_ACCESS_KEY / $KLINGAI_SECRET_KEY>")


CLIENT = KlingClient
