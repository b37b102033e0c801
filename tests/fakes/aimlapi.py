"""A fake AI/ML API (aimlapi.com) video-generation server for Kling v2.6 pro, as strict as the docs allow.

Written from ``/work/shared/reference/provider_protocols.md`` §3 (and seed 004, whose example response §3.3
calls untrustworthy: it is only served on request, ``legacy_shape``). Nothing here imports the package
under test. Server, log, injections and jobs: :mod:`fakes.common` (same public API as ``FakeFal``)::

    with FakeAimlapi(tmp_path, key="k", video_bytes=mp4) as aiml:
        base URL aiml.base_url (instead of https://api.aimlapi.com), SSL_CERT_FILE=aiml.ca_path

Routes (``Authorization: Bearer <key>`` on both API routes)::

    POST /v2/video/generations                    op "submit"  {"model", ...} -> {"id": "<uuid>:<model>", "status": "queued"}
    GET  /v2/video/generations?generation_id=ID   op "status"  ID is the WHOLE id, ":<model>" suffix included
    GET  /files/<file id>/output.mp4              op "file"    the result video; no auth; Range

There is no cancel endpoint in AI/ML API's video API (none is documented), so there is none here.
The ``/v1/video/generations``, ``/video/generations`` and legacy ``/v2/generate/video/kling/generation``
paths (§3.2/§3.3) are left out on purpose: a product should use the documented v2 pair.

Status life: ``queued`` -> ``generating`` -> ``completed`` (``video.url``, ``meta.usage.credits_used``) |
``error`` (``error: {name, message}``). Every status answer carries all five schema keys (``id``,
``status``, ``video``, ``error``, ``meta``), null when not applicable.

Knobs: ``key``, ``no_credits`` (403 on submit), ``legacy_shape`` (completed jobs answered in seed 004's
``{"status": "succeeded", "output": {"video_url"}}`` shape), ``pending_words`` (what queued/running are
called; the official polling example also knows ``waiting``/``active``), ``credits_per_second``,
``image_formats``, ``schemas`` (model -> field specs, editable per test).
"""
from __future__ import annotations

import datetime as _dt
import re
import time
import uuid
from typing import Any

from .common import (DONE, FILE_ROUTE, QUEUED, RUNNING, C, E, FakeServer, Issue, R, S, check_fields, DEFAULT_VIDEO, image_problem, js_type, parse_data_uri)

MODEL_I2V = "klingai/video-v2-6-pro-image-to-video"
MODEL_T2V = "klingai/video-v2-6-pro-text-to-video"
PROVIDERS = ["auto", "kling", "klingai", "fal"]  # newest spec
MSG_401 = ("This request requires a valid API key. You can create a new API key on the Billing page: "
           "https://aimlapi.com/app/keys")
MSG_403 = "You've run out of credits. Please top up your balance or update your payment method to continue."
_GEN = re.compile(r"^/v2/video/generations/?$")


class FakeAimlapi(FakeServer):
    NAME = "FakeAimlapi"
    OPS = ("submit", "status", "file")
    CREATE_OPS = ("submit",)
    ROUTES = [("submit", ("POST",), _GEN), ("status", ("GET",), _GEN), FILE_ROUTE]

    def __init__(self, tmpdir, key: str = "test-key", video_bytes: bytes = DEFAULT_VIDEO, *,
                 queue_seconds: float = 0.3, progress_seconds: float = 0.5, tls=None, **kw):
        super().__init__(tmpdir, video_bytes, queue_seconds=queue_seconds, progress_seconds=progress_seconds,
                         tls=tls, **kw)
        self.key = key
        self.no_credits = False
        self.legacy_shape = False
        self.pending_words = {QUEUED: "queued", RUNNING: "generating"}
        self.credits_per_second = 42_000  # arbitrary: the docs give the field, not a rate
        self.schemas = self.default_schemas()

    # ---------------------------------------------------------------- schemas (§3.2)
    def default_schemas(self) -> dict[str, dict]:
        img = C(self._check_image_url)
        common = {
            "model": R(S()),
            "prompt": R(S(min_length=1, max_length=2500)),
            # integer enum [5, 10] in the schema; the docs' example posts "5": both accepted (§3.2, §6.8)
            "duration": E(5, 10, "5", "10"),
            "negative_prompt": S(),
            "generate_audio": {"type": "bool"},
            "provider": E(*PROVIDERS),
        }
        aspect = E("16:9", "9:16", "1:1")
        cfg = {"type": "number", "ge": 0, "le": 1}
        schemas = {
            MODEL_I2V: {**common, "image_url": R(img), "tail_image_url": img},  # tail: older spec only
            MODEL_T2V: {**common, "aspect_ratio": aspect, "cfg_scale": cfg},
        }
        # The newer models (aimlapi/api-docs Kling-AI/*.json at f14fa72f): integer durations, the std|pro tier
        # in the model id except for motion control (a `mode` field), image lists named image_list.
        video = C(self._check_video_url)
        motion = {"model": R(S()), "image_url": R(img), "video_url": R(video), "prompt": S(max_length=2500),
                  "character_orientation": E("image", "video"), "keep_audio": {"type": "bool"},
                  "mode": E("std", "pro")}  # no `provider`, no elements (not even on v3)
        for m in ("klingai/video-v2-6-motion-control", "klingai/video-v3-motion-control"):
            schemas[m] = motion
        three_fifteen = {"type": "int", "ge": 3, "le": 15}
        v3 = {"model": R(S()), "prompt": S(max_length=2500), "multi_prompt": {"type": "list", "items": S()},
              "duration": three_fifteen, "shot_type": E("customize", "intelligent"), "generate_audio": {"type": "bool"},
              "negative_prompt": S(), "cfg_scale": cfg, "provider": E(*PROVIDERS)}
        element = {"type": "object", "fields": {
            "reference_image_urls": R({"type": "list", "items": img, "min_items": 1, "max_items": 4}),
            "frontal_image_url": img, "video_url": video}}
        for tier in ("pro", "standard"):
            schemas[f"klingai/video-v3-{tier}-text-to-video"] = {**v3, "aspect_ratio": aspect}
            schemas[f"klingai/video-v3-{tier}-image-to-video"] = {
                **v3, "image_url": R(img), "tail_image_url": img,
                "elements": {"type": "list", "items": element, "max_items": 4}}
        shot = {"type": "object", "fields": {"prompt": R(S(min_length=1, max_length=3072)),
                                             "duration": {"type": "int", "ge": 1, "le": 15}}}
        turbo = {"model": R(S()), "prompt": S(max_length=3072), "duration": three_fifteen,
                 "multi_prompt": {"type": "list", "items": shot, "min_items": 1, "max_items": 6}}
        schemas["klingai/video-v3-turbo-pro-text-to-video"] = {**turbo, "aspect_ratio": aspect}
        for m in ("klingai/video-v3-turbo-pro-image-to-video", "klingai/video-v3-standard-turbo-image-to-video"):
            schemas[m] = {**turbo, "image_url": R(img)}
        o1_element = {"type": "object", "fields": {
            "reference_image_urls": R({"type": "list", "items": img, "min_items": 1, "max_items": 4}),
            "frontal_image_url": R(img)}}
        o1 = {"model": R(S()), "prompt": R(S(min_length=1, max_length=2500)), "provider": E(*PROVIDERS)}
        five_ten = E(5, 10)
        elements = {"type": "list", "items": o1_element, "max_items": 4}
        images = lambda most: {"type": "list", "items": img, "min_items": 1, "max_items": most}  # noqa: E731
        schemas["klingai/video-o1-image-to-video"] = {**o1, "image_url": R(img), "last_image_url": img,
                                                      "duration": five_ten}
        schemas["klingai/video-o1-reference-to-video"] = {**o1, "image_list": images(7), "elements": elements,
                                                          "aspect_ratio": aspect, "duration": five_ten}
        schemas["klingai/video-o1-video-to-video-edit"] = {**o1, "video_url": R(video), "image_list": images(7),
                                                           "elements": elements, "keep_audio": {"type": "bool"}}
        schemas["klingai/video-o1-video-to-video-reference"] = {
            **o1, "video_url": R(video), "image_list": images(4), "elements": elements,
            "keep_audio": {"type": "bool"}, "aspect_ratio": aspect, "duration": five_ten}
        # The older ids (v1 to v2.5 turbo): required prompt and, on image to video, image_url.
        legacy = {"model": R(S()), "prompt": R(S(min_length=1, max_length=2500)), "duration": E(5, 10),
                  "negative_prompt": S(), "cfg_scale": cfg}
        for version in ("kling-video/v1/standard", "kling-video/v1/pro", "kling-video/v1.5/standard",
                        "kling-video/v1.5/pro", "kling-video/v1.6/standard", "kling-video/v1.6/pro",
                        "klingai/v2.5-turbo/pro"):
            schemas[f"{version}/text-to-video"] = {**legacy, "aspect_ratio": aspect}
            schemas[f"{version}/image-to-video"] = {**legacy, "image_url": R(img), "tail_image_url": img}
        for master in ("klingai/v2-master", "klingai/v2.1-master"):
            schemas[f"{master}-text-to-video"] = {**legacy, "aspect_ratio": aspect}
            schemas[f"{master}-image-to-video"] = {**legacy, "image_url": R(img)}  # no tail on master
        for tier in ("standard", "pro"):
            schemas[f"kling-video/v2.1/{tier}/image-to-video"] = {**legacy, "image_url": R(img),
                                                                  **({"tail_image_url": img} if tier == "pro" else {})}
        return schemas

    def _check_video_url(self, v: Any, path: str) -> list[Issue]:
        """"A HTTPS URL ... or a data URI" of an MP4/MOV video."""
        if not isinstance(v, str):
            return [Issue(path, "type", f"Expected string, received {js_type(v)}")]
        if v.startswith("https://"):
            return []
        try:
            mime, raw = parse_data_uri(v)
        except ValueError as exc:
            return [Issue(path, "value", f"Invalid url: expected an https URL or a data URI ({exc})")]
        if mime not in ("video/mp4", "video/quicktime") or raw[4:8] != b"ftyp":
            return [Issue(path, "value", f"unsupported video ({mime or 'no type'}): MP4 or MOV only")]
        return []

    def _check_image_url(self, v: Any, path: str) -> list[Issue]:
        """An https URL (not fetched) or a base64 data URI of an image held to Kling's limits."""
        if not isinstance(v, str):
            return [Issue(path, "type", f"Expected string, received {js_type(v)}")]
        if v.startswith("https://"):
            return [] if len(v) > len("https://") else [Issue(path, "value", "Invalid url")]
        if not v.startswith("data:"):
            return [Issue(path, "value", "Invalid url: expected an https URL or a base64 data URI "
                                         "(data:image/...;base64,...)")]
        try:
            mime, raw = parse_data_uri(v)
        except ValueError as exc:
            return [Issue(path, "value", str(exc))]
        problem = image_problem(raw, mime, formats=self.image_formats)
        return [Issue(path, "value", problem)] if problem else []

    # ---------------------------------------------------------------- public helpers
    def status_of(self, job_id: str) -> str:
        with self._lock:
            job = self.jobs[job_id]
            phase = self._phase(job, time.monotonic())
        if phase != DONE:
            return self.pending_words[phase]
        return "completed" if job.ok else "error"

    # ---------------------------------------------------------------- plumbing
    def _error_body(self, status: int, message: str, path: str = "") -> dict:
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return {"message": message, "path": path, "requestId": str(uuid.uuid4()), "statusCode": str(status),
                "timestamp": stamp}

    def _err(self, request, status: int, message: str):
        return self._json(status, self._error_body(status, message, request.path))

    def _route_not_found(self, method, path, wrong_method):
        return self._json(404, self._error_body(404, f"Cannot {method} {path}", path))

    def _auth(self, request):
        header = request.headers.get("Authorization", "")
        scheme, _, cred = header.partition(" ")
        if scheme != "Bearer" or not cred or cred != self.key:
            return self._err(request, 401, MSG_401)
        return None

    def _take_outcome(self):
        spec = super()._take_outcome()
        if spec is not None:
            spec.setdefault("name", spec.get("error_type") or "GenerationError")
        return spec

    # ---------------------------------------------------------------- handlers
    async def _h_submit(self, request, params, raw, entry, inj):
        denied = self._auth(request)
        if denied:
            return denied
        if self.no_credits:
            return self._err(request, 403, MSG_403)
        ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        body = entry["json"]
        if ctype != "application/json" or not isinstance(body, dict):
            got = "no JSON object" if ctype == "application/json" else f"Content-Type {ctype or 'missing'!r}"
            return self._err(request, 400, f"Body validation error! Expected a JSON object body ({got})")
        model = body.get("model")
        if not isinstance(model, str):
            issue = (Issue("model", "missing", "Required") if "model" not in body else
                     Issue("model", "type", f"Expected string, received {js_type(model)}"))
            return self._err(request, 400, "Body validation error! " + issue.text())
        schema = self.schemas.get(model)
        if schema is None:
            return self._err(request, 404, f"Model {model} not found")
        issues = await self._offload(check_fields, schema, body)
        if issues:
            return self._err(request, 400, "Body validation error! " + "; ".join(i.text() for i in issues))
        job_id = f"{uuid.uuid4()}:{model}"
        self._new_job(job_id, body, model=model, endpoint="i2v" if model == MODEL_I2V else "t2v")
        entry["request_id"] = job_id
        return self._json(200, {"id": job_id, "status": "queued"})

    async def _h_status(self, request, params, raw, entry, inj):
        denied = self._auth(request)
        if denied:
            return denied
        gid = request.query.get("generation_id")
        if not gid:
            return self._err(request, 400, "Query validation error! generation_id: Required")
        with self._lock:
            job = self.jobs.get(gid)  # the whole id: "<uuid>" alone is not found
            if job is None:
                return self._err(request, 404, f"Generation {gid} not found")
            phase = self._phase(job, time.monotonic())
        return self._json(200, self._status_body(job, phase))

    def _status_body(self, job, phase: str) -> dict:
        if phase != DONE:
            return {"id": job.id, "status": self.pending_words[phase], "video": None, "error": None, "meta": None}
        if not job.ok:
            o = job.outcome or {"name": "Cancelled", "message": "Generation was cancelled"}
            return {"id": job.id, "status": "error", "video": None,
                    "error": {"name": o["name"], "message": o["message"]}, "meta": None}
        seconds = int(job.body.get("duration", 5))
        if self.legacy_shape:  # seed 004's example (marked "Generated from AA-232"; not the real schema)
            return {"id": job.id, "object": "video.generation", "model": job.model, "created": int(job.wall_submit),
                    "status": "succeeded",
                    "output": {"video_url": self.file_url(job), "duration_seconds": seconds,
                               "has_audio": job.body.get("generate_audio", True)},
                    "usage": {"input_tokens": 0, "output_tokens": 0, "prompt_tokens": 0, "completion_tokens": 0,
                              "total_tokens": 0}}
        return {"id": job.id, "status": "completed", "video": {"url": self.file_url(job)}, "error": None,
                "meta": {"usage": {"credits_used": seconds * self.credits_per_second}}}
