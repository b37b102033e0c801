"""A fake of Kling's own video API (api-singapore.klingai.com), image2video and text2video, strict.

Written from ``/work/shared/reference/provider_protocols.md`` §5; nothing here imports the package under
test. Server, log, injections and jobs: :mod:`fakes.common` (same public API as ``FakeFal``)::

    with FakeKling(tmp_path, access_key="ak", secret_key="sk", video_bytes=mp4) as kling:
        base URL kling.base_url (instead of https://api-singapore.klingai.com), SSL_CERT_FILE=kling.ca_path

Routes (``Authorization: Bearer <JWT>`` on the API routes)::

    POST /v1/videos/image2video                       op "submit"
    POST /v1/videos/text2video                        op "submit"
    GET  /v1/videos/{image2video|text2video}/{id}     op "status"  id: the task_id, or your external_task_id
    GET  /files/<file id>/output.mp4                  op "file"    the result video; no auth; Range

Kling documents no cancel endpoint, so there is none here. The list query (``GET /v1/videos/image2video?
pageNum=..``) is not implemented. ``callback_url`` is checked and stored, never called.

JWT (§5.2): HS256 over the secret key, ``iss`` = access key, ``exp`` > now, ``nbf`` <= now (strict, no
skew; ``clock_skew`` seconds are added to the server's clock to test a client's margin). Every claim is
checked with hmac/hashlib/base64 only. 401 codes: 1001 no token, 1002 malformed / not HS256 / bad signature
/ no numeric ``exp``, 1000 unknown access key (``iss``), 1003 ``nbf`` in the future, 1004 expired.

Task life: ``submitted`` -> ``processing`` -> ``succeed`` (``task_result.videos[{id, url, duration}]``) |
``failed`` (``task_status_msg``). Errors are ``{"code", "message", "request_id"}``: 400/1200 a body that
is not a JSON object, 400/1201 a bad parameter (named in the message), 404/1203 an unknown task, 404/1202 an
unknown route, 429/1102 ``no_credits``.

Knobs: ``access_key``, ``secret_key``, ``no_credits``, ``clock_skew``, ``image_formats``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from typing import Any

from .common import (DEFAULT_VIDEO, FILE_ROUTE, QUEUED, RUNNING, C, E, FakeServer, Issue, R, S, check_fields, js_type,
                     kling_image_issues, numeric_id)

MODELS = ["kling-v1", "kling-v1-5", "kling-v1-6", "kling-v2-master", "kling-v2-1", "kling-v2-1-master",
          "kling-v2-5-turbo", "kling-v2-6", "kling-v3"]
DEFAULT_MODEL = "kling-v1"          # Kling's default when model_name is left out
SOUND_MODELS = {"kling-v2-6", "kling-v3"}   # "sound: v2.6+ only"; voice_list "v2.6+/v3"
V3_ONLY = ("multi_shot", "shot_type", "multi_prompt", "element_list")
CAMERA_TYPES = ["simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward"]
AXES = ["horizontal", "vertical", "pan", "tilt", "roll", "zoom"]
ENDPOINTS = ("image2video", "text2video")


def _durations(model: str) -> list[str]:
    return [str(i) for i in range(3, 16)] if model == "kling-v3" else ["5", "10"]


def _b64url(s: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", s):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _callback(v: Any, path: str) -> list[Issue]:
    if not isinstance(v, str):
        return [Issue(path, "type", f"Expected string, received {js_type(v)}")]
    return [] if re.match(r"^https?://[^/\s]+", v) else [Issue(path, "value", "must be an http(s) URL")]


class FakeKling(FakeServer):
    NAME = "FakeKling"
    OPS = ("submit", "status", "file")
    CREATE_OPS = ("submit",)
    ROUTES = [
        ("submit", ("POST",), re.compile(r"^/v1/videos/(?P<endpoint>image2video|text2video)$")),
        ("status", ("GET",), re.compile(r"^/v1/videos/(?P<endpoint>image2video|text2video)/(?P<tid>[^/]+)$")),
        FILE_ROUTE,
    ]

    def __init__(self, tmpdir, access_key: str = "test-access-key", secret_key: str = "test-secret-key",
                 video_bytes: bytes = DEFAULT_VIDEO, *, queue_seconds: float = 0.3, progress_seconds: float = 0.5,
                 tls=None, **kw):
        super().__init__(tmpdir, video_bytes, queue_seconds=queue_seconds, progress_seconds=progress_seconds,
                         tls=tls, **kw)
        self.access_key = access_key
        self.secret_key = secret_key
        self.no_credits = False
        self.clock_skew = 0.0
        self._external: dict[str, str] = {}  # external_task_id -> task_id

    # ---------------------------------------------------------------- public helpers
    def status_of(self, job_id: str) -> str:
        with self._lock:
            job = self.jobs[job_id]
            return self._task_status(job, self._phase(job, time.monotonic()))

    def make_jwt(self, *, iss: str | None = None, exp: float | None = None, nbf: float | None = None,
                 secret: str | None = None, alg: str = "HS256", omit: tuple = ()) -> str:
        """A token as the docs build it (exp now+1800, nbf now-5), with any part overridden: for tests."""
        now = time.time()
        payload = {"iss": self.access_key if iss is None else iss, "exp": int(now + 1800 if exp is None else exp),
                   "nbf": int(now - 5 if nbf is None else nbf)}
        for k in omit:
            payload.pop(k, None)
        return encode_jwt(payload, self.secret_key if secret is None else secret, alg=alg)

    # ---------------------------------------------------------------- errors and auth
    def _error_body(self, status: int, message: str, path: str = "") -> dict:
        code = {400: 1201, 401: 1000, 403: 1103, 404: 1203, 429: 1302, 500: 5000, 503: 5001, 504: 5002}
        return {"code": code.get(status, 5000), "message": message, "request_id": str(uuid.uuid4())}

    def _err(self, status: int, code: int, message: str):
        return self._json(status, {"code": code, "message": message, "request_id": str(uuid.uuid4())})

    def _route_not_found(self, method, path, wrong_method):
        return self._err(404, 1202, f"Invalid request method or path: {method} {path}")

    def _auth(self, request, entry):
        header = request.headers.get("Authorization")
        if header is None or header.strip() == "":
            return self._err(401, 1001, "Authorization is empty")
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer":
            return self._err(401, 1002, "Authorization is invalid: expected 'Bearer <token>'")
        if token == "":
            return self._err(401, 1001, "Authorization is empty")
        try:
            h64, p64, s64 = token.split(".")
            head, claims, sig = json.loads(_b64url(h64)), json.loads(_b64url(p64)), _b64url(s64)
        except ValueError:
            return self._err(401, 1002, "Authorization is invalid: not a JWT")
        if not isinstance(head, dict) or not isinstance(claims, dict) or head.get("alg") != "HS256":
            return self._err(401, 1002, "Authorization is invalid: the token must be an HS256 JWT")
        if claims.get("iss") != self.access_key:
            return self._err(401, 1000, "Authentication failed: unknown access key (iss)")
        good = hmac.new(self.secret_key.encode(), f"{h64}.{p64}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(good, sig):
            return self._err(401, 1002, "Authorization is invalid: signature verification failed")
        entry["jwt"] = claims
        now = time.time() + self.clock_skew
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if isinstance(exp, bool) or not isinstance(exp, (int, float)):
            return self._err(401, 1002, "Authorization is invalid: exp missing")
        if nbf is not None and (isinstance(nbf, bool) or not isinstance(nbf, (int, float))):
            return self._err(401, 1002, "Authorization is invalid: nbf is not a number")
        if exp <= now:
            return self._err(401, 1004, "Authorization token has expired")
        if nbf is not None and nbf > now:
            return self._err(401, 1003, "Authorization token is not yet valid (nbf)")
        return None

    # ---------------------------------------------------------------- validation (§5.4)
    def _check_image(self, v: Any, path: str, *, mask: bool = False) -> list[Issue]:
        limits = {"min_side": 1, "min_aspect": 0.0, "max_aspect": float("inf")} if mask else {}
        return kling_image_issues(v, path, self.image_formats, **limits)

    def body_fields(self, endpoint: str) -> dict:
        img = C(self._check_image)
        mask = C(lambda v, p: self._check_image(v, p, mask=True))
        number = {"type": "number", "ge": -10, "le": 10}
        fields = {
            "model_name": E(*MODELS),
            "prompt": S(max_length=2500),
            "negative_prompt": S(max_length=2500),
            "cfg_scale": {"type": "number", "ge": 0, "le": 1},
            "mode": E("std", "pro"),
            "duration": S(),  # a STRING; its values depend on the model (cross checks)
            "sound": E("on", "off"),
            "voice_list": {"type": "list", "min_items": 1, "max_items": 2,
                           "items": {"type": "object", "fields": {"voice_id": R(S(min_length=1))}}},
            "camera_control": {"type": "object", "fields": {
                "type": R(E(*CAMERA_TYPES)), "config": {"type": "object", "fields": {a: number for a in AXES}}}},
            "multi_shot": {"type": "bool"},
            "shot_type": E("customize", "intelligence"),
            "multi_prompt": {"type": "list", "min_items": 1, "max_items": 6, "items": {"type": "object", "fields": {
                "index": R({"type": "int", "ge": 1}), "prompt": R(S(max_length=512)), "duration": S()}}},
            "watermark_info": {"type": "object", "fields": {"enabled": R({"type": "bool"})}},
            "callback_url": C(_callback),
            "external_task_id": S(min_length=1),
        }
        if endpoint == "image2video":
            point = {"type": "object", "fields": {"x": R({"type": "int"}), "y": R({"type": "int"})}}
            fields.update({
                "image": img, "image_tail": img, "static_mask": mask,
                "dynamic_masks": {"type": "list", "min_items": 1, "max_items": 6, "items": {
                    "type": "object", "fields": {"mask": R(mask),
                                                 "trajectories": R({"type": "list", "items": point})}}},
                "element_list": {"type": "list", "max_items": 3,
                                 "items": {"type": "object", "fields": {"element_id": R({"type": "int"})}}},
            })
        else:
            fields["prompt"] = S(min_length=1, max_length=2500)  # required unless the shots carry the prompts
            fields["aspect_ratio"] = E("16:9", "9:16", "1:1")
        return fields

    def validate(self, body: Any, endpoint: str) -> list[Issue]:
        if not isinstance(body, dict):
            return [Issue("", "type", f"Expected object, received {js_type(body)}")]
        issues = check_fields(self.body_fields(endpoint), body)
        if issues:
            return issues
        model = body.get("model_name", DEFAULT_MODEL)
        customized = body.get("multi_shot") and body.get("shot_type") == "customize" and body.get("multi_prompt")
        if endpoint == "text2video" and "prompt" not in body and not customized:
            # §5.4 lists prompt for text2video; with customized shots each shot has its own (as on fal, §2.2 #7)
            issues.append(Issue("prompt", "missing", "Required"))
        if endpoint == "image2video" and "image" not in body and "image_tail" not in body:
            issues.append(Issue("image", "missing", "image or image_tail is required"))
        if "image_tail" in body:
            for name in ("static_mask", "dynamic_masks", "camera_control"):
                if name in body:
                    issues.append(Issue(name, "value", "cannot be used together with image_tail"))
        if "cfg_scale" in body and model.startswith("kling-v2"):
            issues.append(Issue("cfg_scale", "value", f"cfg_scale is not supported by {model}"))
        if "duration" in body and body["duration"] not in _durations(model):
            issues.append(Issue("duration", "enum", f"Invalid value {body['duration']!r} for {model}: expected "
                                                    f"one of {', '.join(_durations(model))}"))
        if model != "kling-v3":
            issues.extend(Issue(n, "value", f"not supported by {model} (kling-v3 only)") for n in V3_ONLY if n in body)
        sound = body.get("sound", "off")
        if "sound" in body and model not in SOUND_MODELS:
            issues.append(Issue("sound", "value", f"not supported by {model} (kling-v2-6 and later)"))
        elif sound == "on" and model == "kling-v2-6" and body.get("mode", "std") != "pro":
            issues.append(Issue("sound", "value", "sound 'on' with kling-v2-6 requires mode 'pro'"))
        if "voice_list" in body:
            if model not in SOUND_MODELS:
                issues.append(Issue("voice_list", "value", f"not supported by {model}"))
            elif sound != "on":
                issues.append(Issue("voice_list", "value", "voice_list requires sound 'on'"))
            if "element_list" in body:
                issues.append(Issue("voice_list", "value", "voice_list cannot be used together with element_list"))
        cc = body.get("camera_control")
        if cc is not None:
            config = cc.get("config")
            if cc["type"] == "simple":
                if config is None or sum(1 for a in AXES if config.get(a, 0) != 0) != 1:
                    issues.append(Issue("camera_control.config", "value",
                                        "type 'simple' needs a config with exactly one non-zero axis"))
            elif config is not None:
                issues.append(Issue("camera_control.config", "value", "config is only for type 'simple'"))
        return issues

    # ---------------------------------------------------------------- task state
    def _task_status(self, job, phase: str) -> str:
        if phase == QUEUED:
            return "submitted"
        if phase == RUNNING:
            return "processing"
        return "succeed" if job.ok else "failed"

    def _updated_at(self, job, phase: str) -> int:
        if phase == QUEUED or job.t_release is None:
            t = job.wall_submit
        elif phase == RUNNING:
            t = self._wall(job.t_release + job.queue_seconds)
        else:
            t = self._wall(job.t_completed)
        return int(t * 1000)

    def _task_data(self, job, phase: str) -> dict:
        status = self._task_status(job, phase)
        data = {"task_id": job.id, "task_status": status, "task_status_msg": "",
                "task_info": {"external_task_id": job.extra.get("external_task_id")},
                "watermark_info": {"enabled": bool((job.body.get("watermark_info") or {}).get("enabled"))},
                "created_at": int(job.wall_submit * 1000), "updated_at": self._updated_at(job, phase)}
        if status == "failed":
            data["task_status_msg"] = job.outcome["message"] if job.outcome else "Task was cancelled"
        elif status == "succeed":
            seconds = int(job.body.get("duration", "5"))
            units = (2 if job.body.get("mode") == "pro" else 1) * max(1, seconds // 5)  # arbitrary
            data["final_unit_deduction"] = str(units)
            data["task_result"] = {"videos": [{"id": job.extra["video_id"], "url": self.file_url(job),
                                               "duration": self._video_duration(seconds)}]}
        return data

    # ---------------------------------------------------------------- handlers
    async def _h_submit(self, request, params, raw, entry, inj):
        denied = self._auth(request, entry)
        if denied:
            return denied
        if self.no_credits:
            return self._err(429, 1102, "Resource pack exhausted or expired")
        body = entry["json"]
        ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json" or not isinstance(body, dict):
            return self._err(400, 1200, "Invalid request: the body must be a JSON object (application/json)")
        endpoint = params["endpoint"]
        issues = await self._offload(self.validate, body, endpoint)
        if issues:
            return self._err(400, 1201, "Invalid parameters: " + "; ".join(i.text() for i in issues))
        ext = body.get("external_task_id")
        with self._lock:
            if ext is not None and ext in self._external:
                return self._err(400, 1201, f"external_task_id already exists: {ext!r}")
            job = self._new_job(numeric_id(), body, model=body.get("model_name", DEFAULT_MODEL), endpoint=endpoint,
                                extra={"external_task_id": ext, "video_id": str(uuid.uuid4())})
            if ext is not None:
                self._external[ext] = job.id
        entry["request_id"] = job.id
        ms = int(job.wall_submit * 1000)
        return self._json(200, {"code": 0, "message": "success", "request_id": str(uuid.uuid4()),
                                "data": {"task_id": job.id, "task_status": "submitted",
                                         "task_info": {"external_task_id": ext}, "created_at": ms, "updated_at": ms}})

    async def _h_status(self, request, params, raw, entry, inj):
        denied = self._auth(request, entry)
        if denied:
            return denied
        tid = params["tid"]
        with self._lock:
            job = self.jobs.get(tid) or self.jobs.get(self._external.get(tid, ""))
            if job is None or job.endpoint != params["endpoint"]:
                return self._err(404, 1203, f"Task not found: {tid}")
            data = self._task_data(job, self._phase(job, time.monotonic()))
        return self._json(200, {"code": 0, "message": "success", "request_id": str(uuid.uuid4()), "data": data})


def encode_jwt(payload: dict, secret: str, *, alg: str = "HS256", typ: str = "JWT") -> str:
    """HS256 JWT with hmac/hashlib/base64 (what PyJWT's ``jwt.encode`` gives)."""
    def b64(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": alg, "typ": typ}, separators=(",", ":")).encode())
    body = b64(json.dumps(payload, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"
