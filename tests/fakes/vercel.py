"""A fake Vercel AI Gateway video endpoint for Kling v2.6 (what ``@ai-sdk/gateway`` speaks), strict.

Written from ``/work/shared/reference/provider_protocols.md`` §4 (and seed 002); nothing here imports the
package under test. Server, log, injections and jobs: :mod:`fakes.common` (same public API as ``FakeFal``)::

    with FakeVercel(tmp_path, key="k", video_bytes=mp4) as gw:
        base URL gw.base_url + "/v3/ai" (instead of https://ai-gateway.vercel.sh/v3/ai), SSL_CERT_FILE=gw.ca_path

Routes (all but "file" need the gateway headers, below)::

    POST /v3/ai/video-model          op "submit"  spec version 3; answers text/event-stream (doGenerate, ai@6)
    POST /v4/ai/video-model          op "submit"  the same with spec version 4 (ai@7 doGenerate)
    POST /v4/ai/video-model/start    op "start"   spec version 4 -> {"operation": {...}, "warnings", ...}
    POST /v4/ai/video-model/status   op "status"  {"operation": <as given by start>} -> {"status": ...}
    GET  /files/<file id>/output.mp4 op "file"    the result video; no auth; Range

Required request headers: ``Authorization: Bearer <key>`` (else 401 ``authentication_error``),
``ai-gateway-protocol-version: 0.0.1``, ``ai-video-model-specification-version`` (3 under /v3, 4 under /v4),
``ai-model-id`` (``klingai/kling-v2.6-i2v`` | ``klingai/kling-v2.6-t2v``; unknown -> 404 ``model_not_found``
with ``param.modelId``), ``content-type: application/json``; on "submit" also ``accept: text/event-stream``.
``ai-gateway-auth-method``, if sent, must be ``api-key`` or ``oidc``.

The SSE answer: ``: ping`` comments every ``sse_ping_seconds`` while the job runs, then ONE ``data:`` event
(``{"type": "result", ...}`` or ``{"type": "error", ...}``), then the server closes. Errors before the stream
starts are JSON ``{"error": {"message", "type", "param"?}}``.

Start/status (§4.4): the operation is opaque to the client and must come back verbatim; an
``idempotency-key`` seen before (same model and body) returns the same answer and makes no second job, the
same key with a different request is a 400. There is no cancel endpoint; ``cancel_job(id)`` cancels from
the test side (v4 status then says ``{"status": "cancelled"}``, an SSE stream gets an error event).

Knobs: ``key``, ``sse_ping_seconds``, ``sound_needs_pro`` (Kling's "v2.6 sound requires mode pro" enforced
on the effective sound, §5.4), ``image_formats``, ``body_max_bytes`` (4.5 MB, Vercel Functions' limit: a larger
body is answered 413 ``FUNCTION_PAYLOAD_TOO_LARGE`` in text, as the platform does), ``video_form``: how a
finished video is given (``videos[0]``, every form of the video model specification, @ai-sdk/provider
``VideoModelV4VideoData`` and the gateway 4.x schema):

    "url"       {"type": "url", "url": <its file here>, "mediaType": "video/mp4"}   (the default)
    "base64"    {"type": "base64", "data": <the video, base64>, "mediaType": "video/mp4"}
    "binary"    {"type": "binary", "data": <a Uint8Array as JSON.stringify writes it: {"0": b0, "1": b1, ...}>}
    "uploaded"  {"type": "uploaded", "mediaType": "video/mp4"}: delivered to the team's upload destination;
                providerMetadata.klingai.videos[0].url still names Kling's own copy
    "uploaded-only"  the same without providerMetadata: nothing in the answer leads to the video
"""
from __future__ import annotations

import asyncio
import base64
import json
import re
import time
import uuid
from typing import Any

from .common import (DEFAULT_VIDEO, DONE, FILE_ROUTE, C, E, FakeServer, Issue, R, Reset, S, b64decode_strict,
                     check_fields, image_problem, join, js_type, kling_image_issues, numeric_id)

# GatewayVideoModelId's Kling ids (vercel/ai packages/gateway/src/gateway-video-model-settings.ts); the
# v2.5 turbo and v3.0 ones came after §4 was written.
MODELS = {"klingai/kling-v2.6-i2v": "i2v", "klingai/kling-v2.6-t2v": "t2v",
          "klingai/kling-v2.5-turbo-i2v": "i2v", "klingai/kling-v2.5-turbo-t2v": "t2v",
          "klingai/kling-v3.0-i2v": "i2v", "klingai/kling-v3.0-t2v": "t2v"}


def version_of(model: str) -> str:
    return re.search(r"kling-v(\d\.\d)", model).group(1)
PROTOCOL_VERSION = "0.0.1"
# Vercel: resolution 720p or 1080p, sent as "{w}x{h}" (§4.2); the three aspect ratios of each.
RESOLUTIONS = ["1280x720", "720x1280", "720x720", "1920x1080", "1080x1920", "1080x1080"]


def _duration(v: Any, path: str) -> list[Issue]:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return [Issue(path, "type", f"Expected number, received {js_type(v)}")]
    return [] if v in (5, 10) else [Issue(path, "enum", f"Invalid duration {v}: expected 5 | 10 (seconds)")]


def _duration_v3(v: Any, path: str) -> list[Issue]:
    if isinstance(v, bool) or not isinstance(v, int):
        return [Issue(path, "type", f"Expected integer, received {js_type(v)}")]
    return [] if 3 <= v <= 15 else [Issue(path, "range", f"Invalid duration {v}: Kling v3 takes 3 to 15 seconds")]


def _no_cfg_scale(v: Any, path: str) -> list[Issue]:
    return [Issue(path, "value", "cfgScale is not supported by Kling v2.x models")]


def _https(v: Any, path: str) -> list[Issue]:
    if not isinstance(v, str):
        return [Issue(path, "type", f"Expected string, received {js_type(v)}")]
    return [] if v.startswith("https://") and len(v) > 8 else [Issue(path, "value", "Invalid url: expected https://")]


class FakeVercel(FakeServer):
    NAME = "FakeVercel"
    OPS = ("submit", "start", "status", "file")
    CREATE_OPS = ("submit", "start")
    ROUTES = [
        ("submit", ("POST",), re.compile(r"^/v(?P<ver>[34])/ai/video-model$")),
        ("start", ("POST",), re.compile(r"^/v(?P<ver>4)/ai/video-model/start$")),
        ("status", ("POST",), re.compile(r"^/v(?P<ver>4)/ai/video-model/status$")),
        FILE_ROUTE,
    ]
    TRUNCATE_OPS = ("file", "submit")

    def __init__(self, tmpdir, key: str = "test-key", video_bytes: bytes = DEFAULT_VIDEO, *,
                 queue_seconds: float = 0.3, progress_seconds: float = 0.5, sse_ping_seconds: float = 0.2,
                 tls=None):
        super().__init__(tmpdir, video_bytes, queue_seconds=queue_seconds, progress_seconds=progress_seconds,
                         sse_ping_seconds=sse_ping_seconds, tls=tls)
        self.key = key
        self.sound_needs_pro = True
        self.video_form = "url"
        self._idem: dict[str, tuple[str, Any, str, dict]] = {}  # key -> (model, body, job id, answer)

    # ---------------------------------------------------------------- public helpers
    def status_of(self, job_id: str) -> str:
        with self._lock:
            job = self.jobs[job_id]
            phase = self._phase(job, time.monotonic())
        if phase != DONE:
            return "pending"
        return "cancelled" if job.cancelled else ("completed" if job.ok else "error")

    def cancel_job(self, job_id: str) -> None:
        """Cancel a job from the test side (the gateway has no cancel endpoint)."""
        with self._lock:
            job = self.jobs[job_id]
            if self._phase(job, time.monotonic()) != DONE:
                job.cancelled = True
                self._complete(job, time.monotonic())

    # ---------------------------------------------------------------- errors
    def _error_body(self, status: int, message: str, path: str = "") -> dict:
        types = {400: "invalid_request_error", 401: "authentication_error", 403: "forbidden",
                 404: "not_found", 424: "failed_dependency", 429: "rate_limit_exceeded"}
        return {"error": {"message": message, "type": types.get(status, "internal_server_error")}}

    def _err(self, status: int, type_: str, message: str, param: Any = None) -> Any:
        err: dict[str, Any] = {"message": message, "type": type_}
        if param is not None:
            err["param"] = param
        return self._json(status, {"error": err})

    def _bad(self, message: str, param: Any = None):
        return self._err(400, "invalid_request_error", message, param)

    def _take_outcome(self):
        spec = super()._take_outcome()
        if spec is not None:
            spec.setdefault("errorType", spec.get("error_type") or "internal_server_error")
            spec.setdefault("statusCode", spec.get("result_status") or 500)
        return spec

    # ---------------------------------------------------------------- checks
    def _check_headers(self, request, version: str, sse: bool):
        """(error response or None, model id)."""
        h = request.headers
        scheme, _, cred = h.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not cred or cred != self.key:
            return self._err(401, "authentication_error",
                             "Invalid API key. Set AI_GATEWAY_API_KEY (Authorization: Bearer <key>)."), None
        if h.get("ai-gateway-protocol-version") != PROTOCOL_VERSION:
            return self._bad(f"Unsupported or missing ai-gateway-protocol-version "
                             f"{h.get('ai-gateway-protocol-version')!r}; expected {PROTOCOL_VERSION!r}",
                             "ai-gateway-protocol-version"), None
        if h.get("ai-video-model-specification-version") != version:
            return self._bad(f"ai-video-model-specification-version must be {version!r} on /v{version}, got "
                             f"{h.get('ai-video-model-specification-version')!r}",
                             "ai-video-model-specification-version"), None
        if h.get("ai-gateway-auth-method") not in (None, "api-key", "oidc"):
            return self._bad("ai-gateway-auth-method must be 'api-key' or 'oidc'", "ai-gateway-auth-method"), None
        model = h.get("ai-model-id")
        if not model:
            return self._bad("Missing ai-model-id header", "ai-model-id"), None
        if model not in MODELS:
            return self._err(404, "model_not_found", f"Model '{model}' not found", {"modelId": model}), None
        if sse and "text/event-stream" not in h.get("Accept", ""):
            return self._bad("This endpoint streams its answer: send 'accept: text/event-stream'", "accept"), None
        if h.get("Content-Type", "").split(";")[0].strip().lower() != "application/json":
            return self._bad("Content-Type must be application/json", "content-type"), None
        return None, model

    def _check_image(self, v: Any, path: str) -> list[Issue]:
        """``{"type": "url", "url": https}`` or ``{"type": "file", "mediaType", "data": plain base64}``."""
        if not isinstance(v, dict):
            return [Issue(path, "type", f"Expected object, received {js_type(v)}")]
        kind = v.get("type")
        if kind == "url":
            return check_fields({"type": R(E("url")), "url": R(C(_https))}, v, path)
        if kind != "file":
            return [Issue(join(path, "type"), "enum", f"Invalid discriminator value. Expected 'url' | 'file', "
                                                      f"received {json.dumps(kind)}")]
        issues = check_fields({"type": R(E("file")), "mediaType": R(S()), "data": R(S(min_length=1))}, v, path)
        if issues:
            return issues
        data = v["data"]
        if data.startswith("data:"):
            return [Issue(join(path, "data"), "value", "data must be plain base64 without a 'data:' URL prefix "
                                                       "(the type goes in mediaType)")]
        try:
            raw = b64decode_strict(data)
        except ValueError as exc:
            return [Issue(join(path, "data"), "value", str(exc))]
        problem = image_problem(raw, v["mediaType"].lower(), formats=self.image_formats)
        return [Issue(join(path, "data"), "value", problem)] if problem else []

    def _check_kling_image_str(self, v: Any, path: str) -> list[Issue]:
        """providerOptions.klingai.imageTail: passed on to Kling, so held to what Kling takes."""
        return kling_image_issues(v, path, self.image_formats)

    def body_fields(self, kind: str, start: bool, version: str = "2.6") -> dict:
        """Field specs of the request body (§4.2), for ``kind`` "i2v"/"t2v"; ``start``: the v4 start flow."""
        image = C(self._check_image)
        v3 = version == "3.0"
        klingai = {
            "mode": E("std", "pro"),
            "negativePrompt": S(max_length=2500),
            "sound": E("on", "off"),
            "imageTail": C(self._check_kling_image_str),
            "voiceList": {"type": "list", "max_items": 2,
                          "items": {"type": "object", "fields": {"voiceId": R(S(min_length=1))}}},
            "cfgScale": {"type": "number", "ge": 0, "le": 1} if v3 else C(_no_cfg_scale),  # "cfgScale (not v2.x)"
            "watermarkEnabled": {"type": "bool"},
            "pollIntervalMs": {"type": "number", "ge": 0},
            "pollTimeoutMs": {"type": "number", "ge": 0},
        }
        if v3:  # Kling's multi-shot (packages/klingai: multiShot, shotType, multiPrompt [{index, prompt, duration}])
            klingai.update({
                "multiShot": {"type": "bool"}, "shotType": E("customize", "intelligence"),
                "multiPrompt": {"type": "list", "min_items": 1, "max_items": 6, "items": {"type": "object", "fields": {
                    "index": R({"type": "int", "ge": 1}), "prompt": R(S(min_length=1, max_length=512)),
                    "duration": R(E(*[str(n) for n in range(1, 16)]))}}}})
        fields = {
            "prompt": S(max_length=2500),  # t2v: required and non-empty unless customized shots (validate)
            "n": E(1),
            "aspectRatio": E("16:9", "9:16", "1:1"),
            "resolution": E(*RESOLUTIONS),
            "duration": C(_duration_v3 if v3 else _duration),
            "fps": E(30),
            "seed": {"type": "int"},
            "generateAudio": {"type": "bool"},
            "providerOptions": {"type": "object", "fields": {"klingai": {"type": "object", "fields": klingai}}},
            "image": image,
            "frameImages": {"type": "list", "max_items": 2, "items": {
                "type": "object", "fields": {"frameType": R(E("first_frame", "last_frame")), "image": R(image)}}},
        }
        if start:
            fields["callbackUrl"] = C(_https)
        return fields

    def validate(self, body: Any, kind: str, start: bool = False,
                 model: str = "klingai/kling-v2.6-i2v") -> tuple[list[Issue], list[dict]]:
        """(issues, warnings) of a request body."""
        if not isinstance(body, dict):
            return [Issue("", "type", f"Expected object, received {js_type(body)}")], []
        version = version_of(model)
        issues = check_fields(self.body_fields(kind, start, version), body)
        if issues:
            return issues, []
        opts = (body.get("providerOptions") or {}).get("klingai") or {}
        customized = opts.get("multiShot") and opts.get("shotType") == "customize" and opts.get("multiPrompt")
        if kind == "t2v" and not body.get("prompt") and not customized:
            issues.append(Issue("prompt", "too_short", "String must contain at least 1 character(s)"))
        if version == "2.5":  # Kling: sound and voices need v2.6 or later
            for name, where in (("generateAudio", body), ("sound", opts), ("voiceList", opts)):
                if name in where:
                    issues.append(Issue(name, "value", f"{name} is not supported by {model} (Kling v2.6+ only)"))
        if opts.get("multiShot"):
            shots = opts.get("multiPrompt") or []
            if "shotType" not in opts:
                issues.append(Issue("providerOptions.klingai.shotType", "missing", "Required when multiShot is true"))
            elif opts["shotType"] == "customize":
                if not shots:
                    issues.append(Issue("providerOptions.klingai.multiPrompt", "missing",
                                        "Required when shotType is 'customize'"))
                elif [s_["index"] for s_ in shots] != list(range(1, len(shots) + 1)):
                    issues.append(Issue("providerOptions.klingai.multiPrompt", "value", "index must count 1, 2, ..."))
                elif sum(int(s_["duration"]) for s_ in shots) != body.get("duration", 5):
                    issues.append(Issue("providerOptions.klingai.multiPrompt", "value",
                                        "the shots' durations must add up to the video's duration"))
        elif "multiPrompt" in opts or "shotType" in opts:
            issues.append(Issue("providerOptions.klingai.multiShot", "value", "multiPrompt/shotType need multiShot"))
        frames = body.get("frameImages") or []
        types = [f["frameType"] for f in frames]
        first = next((f["image"] for f in frames if f["frameType"] == "first_frame"), None)
        warnings: list[dict] = []
        if len(set(types)) != len(types):
            issues.append(Issue("frameImages", "value", "each frameType may appear once"))
        if kind == "t2v":
            for name in ("image", "frameImages"):
                if name in body:
                    issues.append(Issue(name, "value", "text-to-video takes no input image"))
            if "imageTail" in opts:
                issues.append(Issue("providerOptions.klingai.imageTail", "value", "text-to-video takes no image"))
        else:
            if "image" not in body and first is None:
                issues.append(Issue("image", "missing", "Required: image-to-video needs image or a first_frame"))
            if "image" in body and first is not None and body["image"] != first:
                issues.append(Issue("image", "value", "image and the first_frame of frameImages differ"))
            if "last_frame" in types and "imageTail" in opts:
                issues.append(Issue("providerOptions.klingai.imageTail", "value",
                                    "give the end frame once: a last_frame in frameImages or imageTail"))
            if "aspectRatio" in body:
                warnings.append({"type": "unsupported", "feature": "aspectRatio",
                                 "details": "Kling image-to-video follows the input image's aspect ratio"})
        sound = body["generateAudio"] if "generateAudio" in body else opts.get("sound") == "on"
        if sound and self.sound_needs_pro and version == "2.6" and opts.get("mode", "std") != "pro":
            issues.append(Issue("providerOptions.klingai.mode", "value",
                                "sound on Kling v2.6 requires mode 'pro' (the default mode is 'std')"))
        if "voiceList" in opts and not sound:
            issues.append(Issue("providerOptions.klingai.voiceList", "value", "voiceList needs sound on"))
        return issues, warnings

    def _issues_response(self, issues: list[Issue]):
        return self._bad("Invalid request: " + "; ".join(i.text() for i in issues), issues[0].path or None)

    async def _parse_and_validate(self, request, entry, model: str, start: bool):
        """(error response or None, body, warnings)."""
        body = entry["json"]
        if body is None:
            return self._bad("Request body must be JSON"), None, []
        issues, warnings = await self._offload(self.validate, body, MODELS[model], start, model)
        if issues:
            return self._issues_response(issues), body, []
        return None, body, warnings

    def _too_large(self, request, size: int):
        """The platform's own answer, before the gateway sees the request (not the gateway's error JSON)."""
        from aiohttp import web

        return web.Response(status=413, text=f"Request Entity Too Large\n\nFUNCTION_PAYLOAD_TOO_LARGE\n\n"
                                             f"iad1::{uuid.uuid4().hex[:5]}-{int(time.time() * 1000)}\n",
                            headers={"X-Vercel-Error": "FUNCTION_PAYLOAD_TOO_LARGE", "Server": "Vercel"})

    # ---------------------------------------------------------------- results
    def _videos(self, job) -> list[dict]:
        form = self.video_form
        if form == "url":
            return [{"type": "url", "url": self.file_url(job), "mediaType": "video/mp4"}]
        if form == "base64":
            return [{"type": "base64", "data": base64.b64encode(self.video_bytes).decode(), "mediaType": "video/mp4"}]
        if form == "binary":
            return [{"type": "binary", "data": {str(i): b for i, b in enumerate(self.video_bytes)},
                     "mediaType": "video/mp4"}]
        if form in ("uploaded", "uploaded-only"):
            return [{"type": "uploaded", "mediaType": "video/mp4"}]
        raise ValueError(f"video_form {form!r}: use url, base64, binary, uploaded or uploaded-only")

    def _metadata(self, job) -> dict:
        return {"klingai": {"taskId": job.id, "videos": [{"id": job.extra["video_id"], "url": self.file_url(job),
                                                         "duration": self._video_duration(job.body.get("duration"))}]}}

    def _result_event(self, job) -> dict:
        if not job.ok:
            o = job.outcome or {"message": "Generation was cancelled", "errorType": "cancelled", "statusCode": 499}
            return {"type": "error", "message": o["message"], "errorType": o["errorType"],
                    "statusCode": o["statusCode"], "param": None}
        event = {"type": "result", "videos": self._videos(job), "warnings": job.extra["warnings"],
                 "providerMetadata": self._metadata(job)}
        if self.video_form == "uploaded-only":
            del event["providerMetadata"]
        return event

    def _create(self, body, model: str, warnings: list[dict], entry: dict):
        job = self._new_job(numeric_id(), body, model=model, endpoint=MODELS[model],
                            extra={"warnings": warnings, "video_id": str(uuid.uuid4())})
        entry["request_id"] = job.id
        return job

    # ---------------------------------------------------------------- handlers
    async def _h_submit(self, request, params, raw, entry, inj):
        bad, model = self._check_headers(request, params["ver"], sse=True)
        if bad:
            return bad
        bad, body, warnings = await self._parse_and_validate(request, entry, model, start=False)
        if bad:
            return bad
        job = self._create(body, model, warnings, entry)
        if inj is not None and inj.process:
            return self._json(200, {})  # replaced by the injected answer: nothing is streamed
        truncate = inj.truncate_at if inj is not None else None
        resp = web_stream()
        entry["http_status"] = 200
        await resp.prepare(request)
        pings, next_ping = 0, time.monotonic() + self.sse_ping_seconds
        try:
            while not self._closing:
                if truncate is not None and pings >= truncate:
                    raise Reset(graceful=True)
                now = time.monotonic()
                with self._lock:
                    phase = self._phase(job, now)
                if phase == DONE:
                    if truncate is not None:
                        raise Reset(graceful=True)
                    await resp.write(b"data: " + json.dumps(self._result_event(job)).encode() + b"\n\n")
                    break
                if now >= next_ping:
                    await resp.write(b": ping\n\n")
                    pings += 1
                    next_ping = now + self.sse_ping_seconds
                await asyncio.sleep(max(0.0, min(0.02, next_ping - time.monotonic())))
            await resp.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client went away; the job goes on
        return resp

    async def _h_start(self, request, params, raw, entry, inj):
        bad, model = self._check_headers(request, "4", sse=False)
        if bad:
            return bad
        bad, body, warnings = await self._parse_and_validate(request, entry, model, start=True)
        if bad:
            return bad
        key = request.headers.get("idempotency-key")
        with self._lock:
            if key is not None and key in self._idem:
                m, b, job_id, answer = self._idem[key]
                if (m, b) != (model, body):
                    return self._bad("idempotency-key was already used with a different request",
                                     "idempotency-key")
                entry["request_id"], entry["idempotent_replay"] = job_id, True
                return self._json(200, answer)
            job = self._create(body, model, warnings, entry)
            op = {"type": "klingai-video-task", "modelId": model, "taskId": job.id,
                  "endpoint": "image2video" if MODELS[model] == "i2v" else "text2video",
                  "createdAt": int(job.wall_submit * 1000)}
            job.extra["operation"] = op
            answer = {"operation": op, "warnings": warnings, "providerMetadata": {"klingai": {"taskId": job.id}}}
            if key is not None:
                self._idem[key] = (model, body, job.id, answer)
        return self._json(200, answer)

    async def _h_status(self, request, params, raw, entry, inj):
        bad, model = self._check_headers(request, "4", sse=False)
        if bad:
            return bad
        body = entry["json"]
        if not isinstance(body, dict) or set(body) != {"operation"} or not isinstance(body["operation"], dict):
            return self._bad('Invalid request: expected {"operation": <the object start returned>}', "operation")
        op = body["operation"]
        with self._lock:
            job = self.jobs.get(str(op.get("taskId")))
            if job is None or job.extra.get("operation") != op:
                return self._bad("Invalid request: unknown operation (send it back exactly as start returned it)",
                                 "operation")
            if job.model != model:
                return self._bad(f"ai-model-id {model!r} is not the model of this operation ({job.model!r})",
                                 "ai-model-id")
            phase = self._phase(job, time.monotonic())
        if phase != DONE:
            return self._json(200, {"status": "pending"})
        if job.cancelled:
            return self._json(200, {"status": "cancelled"})
        if not job.ok:
            return self._json(200, {"status": "error", "error": job.outcome["message"]})
        answer = {"status": "completed", "videos": self._videos(job)}
        if self.video_form == "uploaded":
            answer["providerMetadata"] = self._metadata(job)
        return self._json(200, answer)


def web_stream():
    from aiohttp import web

    resp = web.StreamResponse(status=200, headers={"Content-Type": "text/event-stream",
                                                   "Cache-Control": "no-cache"})
    resp.force_close()  # the gateway closes the stream after its one data event
    return resp
