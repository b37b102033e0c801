"""Kling 3.0 Turbo's routes for :class:`fakes.kling.FakeKling` (a mixin: FakeKling's auth, errors, jobs).

Written from ComfyUI 0.33.0's own code (comfy_api_nodes/nodes_kling.py execute_kling_turbo; apis/kling.py
Kling3Turbo*: third party for Kling) and research16.md §3.2 (third-party pages); nothing here imports the package
under test::

    POST /text-to-video/kling-3.0-turbo    op "submit"  {prompt (1-3072), settings?, options?}
    POST /image-to-video/kling-3.0-turbo   op "submit"  {contents: [{type: "prompt", text (1-2500)}?,
                                                          {type: "first_frame", url}], settings?, options?}
    GET  /tasks?task_ids=<id>               op "status"  {code, message, request_id, data: [task]}

settings: resolution "720p" (default) | "1080p", duration an integer 3-15 (default 5; "3-15 second"), and
aspect_ratio 16:9 | 9:16 | 1:1 on text to video only ("text-to-video only"). options: {callback_url} (research16.md
§3.2, one-api; stored, never called). Anything else is refused with 400/1201 naming it; there is no
external_task_id (none of the sources has one), so a task can be found only by its id. Create answers
{code, message, request_id, data: {id, status: "submitted", message}}; a task is {id, status: submitted |
processing | succeeded | failed, message, outputs: [{type: "video", id, url, duration}] once succeeded}. The
video always has sound ("Always generates audio"): the fake's video bytes are served as they are.
"""
from __future__ import annotations

import re
import time
import uuid
from typing import Any

from .common import DONE, QUEUED, RUNNING, C, E, Issue, R, S, check_fields, numeric_id

MODEL = "kling-3.0-turbo"
TURBO_ROUTES = [
    ("submit", ("POST",), re.compile(r"^/(?P<turbo>text-to-video|image-to-video)/kling-3\.0-turbo$")),
    ("status", ("GET",), re.compile(r"^/tasks$")),
]
DURATIONS = (3, 15)


def turbo_fields(kind: str, image, callback) -> dict:
    settings = {"resolution": E("720p", "1080p"), "duration": {"type": "int", "ge": DURATIONS[0], "le": DURATIONS[1]}}
    if kind == "text-to-video":
        settings["aspect_ratio"] = E("16:9", "9:16", "1:1")
    fields: dict[str, Any] = {"settings": {"type": "object", "fields": settings},
                              "options": {"type": "object", "fields": {"callback_url": C(callback)}}}
    if kind == "text-to-video":
        fields["prompt"] = R(S(min_length=1, max_length=3072))
    else:
        fields["contents"] = R({"type": "list", "min_items": 1, "max_items": 2, "items": {"type": "object", "fields": {
            "type": R(E("prompt", "first_frame")), "text": S(min_length=1, max_length=2500), "url": C(image)}}})
    return fields


def turbo_issues(body: Any, kind: str, image, callback) -> list[Issue]:
    if not isinstance(body, dict):
        return [Issue("", "type", "Expected object")]
    issues = check_fields(turbo_fields(kind, image, callback), body)
    if issues or kind == "text-to-video":
        return issues
    kinds = [c["type"] for c in body["contents"]]
    if kinds.count("first_frame") != 1 or kinds.count("prompt") > 1:
        issues.append(Issue("contents", "value", "exactly one first_frame and at most one prompt"))
    for i, c in enumerate(body["contents"]):
        wants, refuses = ("text", "url") if c["type"] == "prompt" else ("url", "text")
        if wants not in c or refuses in c:
            issues.append(Issue(f"contents.{i}", "value", f"a {c['type']} content has {wants} and no {refuses}"))
    return issues


class TurboRoutes:
    """FakeKling's handlers delegate here for the Turbo routes."""

    async def _turbo_submit(self, request, params, entry):
        kind = params["turbo"]
        body = entry["json"]
        issues = await self._offload(turbo_issues, body, kind, self._check_image, _callback)
        if issues:
            return self._err(400, 1201, "Invalid parameters: " + "; ".join(i.text() for i in issues))
        settings = body.get("settings") or {}
        with self._lock:
            if self._over_limit():
                return self._err(429, 1303, f"Parallel task over resource pack limit: {self.concurrency_limit} tasks "
                                            "of this account are processing")
            job = self._new_job(numeric_id(), body, model=MODEL, endpoint=f"turbo/{kind}",
                                extra={"video_id": str(uuid.uuid4()), "mode": settings.get("resolution", "720p"),
                                       "seconds": float(settings.get("duration", 5))})
        entry["request_id"] = job.id
        return self._json(200, {"code": 0, "message": "success", "request_id": str(uuid.uuid4()),
                                "data": {"id": job.id, "status": "submitted", "message": ""}})

    def _turbo_status(self, request, entry):
        ids = request.query.get("task_ids", "")
        if not ids or set(request.query) != {"task_ids"}:
            return self._err(400, 1201, "Invalid parameters: task_ids is required (and nothing else)")
        with self._lock:
            job = self.jobs.get(ids)
            if job is None or not job.endpoint.startswith("turbo/"):
                return self._err(404, 1203, f"Task not found: {ids}")
            task = self._turbo_task(job, self._phase(job, time.monotonic()))
        return self._json(200, {"code": 0, "message": "success", "request_id": str(uuid.uuid4()), "data": [task]})

    def _turbo_task(self, job, phase: str) -> dict:
        status = {QUEUED: "submitted", RUNNING: "processing"}.get(phase) or ("succeeded" if job.ok else "failed")
        task = {"id": job.id, "status": status, "message": ""}
        if status == "failed":
            task["message"] = job.outcome["message"] if job.outcome else "Task was cancelled"
        elif phase == DONE:
            task["outputs"] = [{"type": "video", "id": job.extra["video_id"], "url": self.file_url(job),
                                "duration": self._video_duration(job.extra["seconds"])}]
        return task


def _callback(v: Any, path: str) -> list[Issue]:
    if isinstance(v, str) and re.match(r"^https?://[^/\s]+", v):
        return []
    return [Issue(path, "value", "must be an http(s) URL")]
