"""A fake fal.ai queue server, as strict as the real service (stricter where that is safer).

Written from fal's protocol documentation (see ``/work/shared/reference/provider_protocols.md`` §1 and
§2.3), independently of the package under test: nothing here imports it.

It is a real HTTPS server on ``127.0.0.1`` (random port, throw-away CA from :mod:`fakes.tls`), run by
aiohttp in a background thread with its own event loop, so it serves sync and async tests alike::

    with FakeFal(tmp_path, key="test-key", video_bytes=mp4) as fal:
        env FAL_QUEUE_RUN_HOST=fal.host, FAL_RUN_HOST=fal.host, SSL_CERT_FILE=fal.ca_path
        ...
        assert fal.count("submit") == 1

Routes (the queue ones need ``Authorization: Key <key>``)::

    POST /{endpoint_id}                                  op "submit"
    GET  /{owner}/{alias}/requests/{id}/status           op "status"   (?logs=1|0|true|false)
    GET  /{owner}/{alias}/requests/{id}/status/stream    op "stream"   (server-sent events)
    GET  /{owner}/{alias}/requests/{id}                  op "result"
    PUT  /{owner}/{alias}/requests/{id}/cancel           op "cancel"
    GET  /files/{id}/output.mp4                          op "file"     (no auth, like the CDN; Range)

A job's life is driven by the wall clock: ``queue_seconds`` IN_QUEUE (queue position counting down from
``queue_position`` to 0), then ``progress_seconds`` IN_PROGRESS (the ``logs`` lines appear evenly spread
over it), then COMPLETED.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import datetime as _dt
import io
import json
import math
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from .tls import make_tls

# --------------------------------------------------------------------------------------------------
# Input schemas, as data: endpoint id -> {field name -> spec}.
#
# spec keys: "type" one of "string" | "boolean" | "number" | "integer" | "enum" | "list" | "image_url";
#            "required" (bool); "values" (enum); "ge"/"le" (number, integer); "min_length"/"max_length"
#            (string); "items" (a spec, for list) and "min_items"/"max_items" (list).
# Every field not listed is rejected (422 "extra_forbidden"). A JSON null is rejected too (the typed
# schemas say ``field?: T``, not ``T | null``): the product must leave an unset field out.
# Sources: seed 003 (v2.6 pro i2v main input, TextToVideoV26ProRequest), reference §2.2 rows 1-2,
# @fal-ai/client 1.10.1 typed endpoint map (reference Appendix A), DESIGN.md §4 limits.
# --------------------------------------------------------------------------------------------------
_DURATION_5_10 = {"type": "enum", "values": ["5", "10"]}
_ASPECT = {"type": "enum", "values": ["16:9", "9:16", "1:1"]}
_CFG = {"type": "number", "ge": 0, "le": 1}

SCHEMAS: dict[str, dict[str, dict[str, Any]]] = {
    "fal-ai/kling-video/v2.6/pro/image-to-video": {
        "prompt": {"type": "string", "required": True},
        "start_image_url": {"type": "image_url", "required": True},
        "end_image_url": {"type": "image_url"},
        "duration": _DURATION_5_10,
        "negative_prompt": {"type": "string"},
        "generate_audio": {"type": "boolean"},
        "voice_ids": {"type": "list", "items": {"type": "string"}, "max_items": 2},
    },
    "fal-ai/kling-video/v2.6/pro/text-to-video": {
        "prompt": {"type": "string", "required": True},
        "duration": _DURATION_5_10,
        "aspect_ratio": _ASPECT,
        "negative_prompt": {"type": "string"},
        "cfg_scale": _CFG,
        "generate_audio": {"type": "boolean"},
    },
}

# Image inputs (Kling limits, DESIGN.md §4 / reference §1.14).
IMAGE_MIME_TO_PIL = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/gif": "GIF"}
IMAGE_MAX_BYTES = 10_000_000  # "10 MB"; the stricter (decimal) reading
IMAGE_MIN_SIDE = 300
IMAGE_MIN_ASPECT = 1 / 2.5
IMAGE_MAX_ASPECT = 2.5

ERROR_DOCS = "https://docs.fal.ai/errors#"

IN_QUEUE, IN_PROGRESS, COMPLETED = "IN_QUEUE", "IN_PROGRESS", "COMPLETED"
OPS = ("submit", "status", "stream", "result", "cancel", "file")
DEFAULT_LOGS = ["Starting video generation", "Generating frames", "Encoding video"]
CANCELLED_ERROR = "Request was cancelled"
CANCELLED_TYPE = "client_cancelled"
# 32-byte ftyp box + a few bytes: enough to look like an mp4 to a sniffer.
DEFAULT_VIDEO = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00" * 992


# --------------------------------------------------------------------------------------------------
# Validation (pydantic-v2 style error items)
# --------------------------------------------------------------------------------------------------
def shorten(value: Any, limit: int = 80) -> Any:
    """The ``input`` echoed in an error: long strings (data URIs) cut, containers shortened recursively."""
    if isinstance(value, str):
        return value if len(value) <= limit else f"{value[:60]}...[{len(value)} chars]"
    if isinstance(value, dict):
        return {k: shorten(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [shorten(v, limit) for v in value[:10]]
    return value


def _err(loc, type_: str, msg: str, value: Any, ctx: dict | None = None) -> dict:
    item = {"loc": list(loc), "msg": msg, "type": type_, "url": ERROR_DOCS + type_, "input": shorten(value)}
    if ctx is not None:
        item["ctx"] = ctx
    return item


def _expected(values) -> str:
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def validate_input(schema: dict[str, dict], body: Any) -> list[dict]:
    """Errors of ``body`` against ``schema`` (empty list when valid); order: schema fields, then extras."""
    if not isinstance(body, dict):
        return [_err(["body"], "model_attributes_type",
                     "Input should be a valid dictionary or object to extract fields from", body)]
    errors: list[dict] = []
    for name, spec in schema.items():
        if name not in body:
            if spec.get("required"):
                errors.append(_err(["body", name], "missing", "Field required", body))
            continue
        errors.extend(_check(spec, body[name], ["body", name]))
    for name, value in body.items():
        if name not in schema:
            errors.append(_err(["body", name], "extra_forbidden", "Extra inputs are not permitted", value))
    return errors


def _check(spec: dict, v: Any, loc: list) -> list[dict]:
    t = spec["type"]
    if t in ("string", "image_url"):
        if not isinstance(v, str):
            return [_err(loc, "string_type", "Input should be a valid string", v)]
        if "min_length" in spec and len(v) < spec["min_length"]:
            n = spec["min_length"]
            return [_err(loc, "string_too_short", f"String should have at least {n} characters", v,
                         {"min_length": n})]
        if "max_length" in spec and len(v) > spec["max_length"]:
            n = spec["max_length"]
            return [_err(loc, "string_too_long", f"String should have at most {n} characters", v,
                         {"max_length": n})]
        return _check_image_url(v, loc) if t == "image_url" else []
    if t == "boolean":
        return [] if isinstance(v, bool) else [_err(loc, "bool_type", "Input should be a valid boolean", v)]
    if t in ("number", "integer"):
        if t == "integer" and (isinstance(v, bool) or not isinstance(v, int)):
            return [_err(loc, "int_type", "Input should be a valid integer", v)]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return [_err(loc, "float_type", "Input should be a valid number", v)]
        if not math.isfinite(v):
            return [_err(loc, "finite_number", "Input should be a finite number", v)]
        if "ge" in spec and not v >= spec["ge"]:
            return [_err(loc, "greater_than_equal", f"Input should be greater than or equal to {spec['ge']}",
                         v, {"ge": spec["ge"]})]
        if "le" in spec and not v <= spec["le"]:
            return [_err(loc, "less_than_equal", f"Input should be less than or equal to {spec['le']}",
                         v, {"le": spec["le"]})]
        return []
    if t == "enum":
        values = spec["values"]
        if any(type(v) is type(x) and v == x for x in values):
            return []
        exp = _expected(values)
        return [_err(loc, "enum", f"Input should be {exp}", v, {"expected": exp})]
    if t == "list":
        if not isinstance(v, list):
            return [_err(loc, "list_type", "Input should be a valid list", v)]
        errors: list[dict] = []
        for i, item in enumerate(v):
            errors.extend(_check(spec["items"], item, loc + [i]))
        if "max_items" in spec and len(v) > spec["max_items"]:
            n = spec["max_items"]
            errors.append(_err(loc, "too_long", f"List should have at most {n} items after validation, not {len(v)}",
                               v, {"field_type": "List", "max_length": n, "actual_length": len(v)}))
        if "min_items" in spec and len(v) < spec["min_items"]:
            n = spec["min_items"]
            errors.append(_err(loc, "too_short", f"List should have at least {n} items after validation, not {len(v)}",
                               v, {"field_type": "List", "min_length": n, "actual_length": len(v)}))
        return errors
    raise ValueError(f"unknown schema type {t!r}")


_DATA_URI = re.compile(r"^data:(?P<mime>[^;,]*)(?P<params>(?:;[^;,]*)*),(?P<data>.*)$", re.S)


def _check_image_url(v: str, loc: list) -> list[dict]:
    if v.startswith("https://"):
        host = v[len("https://"):].split("/", 1)[0]
        if host:
            return []  # the fake never downloads remote images
        return [_err(loc, "url_parsing", "Input should be a valid URL, empty host", v)]
    if not v.startswith("data:"):
        return [_err(loc, "url_scheme", "URL scheme should be 'https' or 'data'", v,
                     {"expected_schemes": "'https' or 'data'"})]
    m = _DATA_URI.match(v)
    if not m or "base64" not in m.group("params").split(";"):
        return [_err(loc, "image_load_error", "Invalid data URI: expected data:<mime>;base64,<data>", v)]
    mime = m.group("mime").lower()
    supported = sorted(IMAGE_MIME_TO_PIL)
    if mime not in IMAGE_MIME_TO_PIL:
        return [_err(loc, "unsupported_image_format", f"Unsupported image format {mime!r}", v,
                     {"supported_formats": supported})]
    try:
        raw = base64.b64decode(m.group("data"), validate=True)
    except (binascii.Error, ValueError):
        return [_err(loc, "image_load_error", "Failed to load the image: invalid base64 data", v)]
    if len(raw) > IMAGE_MAX_BYTES:
        return [_err(loc, "file_too_large", f"File is too large: {len(raw)} bytes, at most {IMAGE_MAX_BYTES}",
                     v, {"max_size": IMAGE_MAX_BYTES, "size": len(raw)})]
    from PIL import Image  # imported lazily: only data URIs need it

    try:
        with Image.open(io.BytesIO(raw)) as img:
            fmt = img.format
            width, height = img.size
            img.load()
    except Exception as exc:  # noqa: BLE001 - any decoding failure is the client's fault
        return [_err(loc, "image_load_error", f"Failed to load the image: {type(exc).__name__}", v)]
    if fmt != IMAGE_MIME_TO_PIL[mime]:
        return [_err(loc, "image_format_mismatch",
                     f"Declared type {mime!r} does not match the image data ({fmt})", v,
                     {"declared": mime, "actual": fmt})]
    if width < IMAGE_MIN_SIDE or height < IMAGE_MIN_SIDE:
        return [_err(loc, "image_too_small",
                     f"Image is too small: {width}x{height}, at least {IMAGE_MIN_SIDE}x{IMAGE_MIN_SIDE} px", v,
                     {"min_width": IMAGE_MIN_SIDE, "min_height": IMAGE_MIN_SIDE, "width": width, "height": height})]
    aspect = width / height
    if not IMAGE_MIN_ASPECT <= aspect <= IMAGE_MAX_ASPECT:
        return [_err(loc, "invalid_aspect_ratio",
                     f"Image aspect ratio {aspect:.3f} is outside 0.40-2.50 (1:2.5 to 2.5:1)", v,
                     {"min_aspect_ratio": 0.4, "max_aspect_ratio": 2.5, "aspect_ratio": round(aspect, 4)})]
    return []


# --------------------------------------------------------------------------------------------------
# Jobs and fault injections
# --------------------------------------------------------------------------------------------------
@dataclass
class Job:
    request_id: str
    endpoint: str            # full endpoint id, e.g. "fal-ai/kling-video/v2.6/pro/image-to-video"
    app: str                 # its first two parts, e.g. "fal-ai/kling-video"
    body: dict
    outcome: dict | None     # None = ok; else {"error", "error_type", "result_status", "result_body", ...}
    t_submit: float
    queue_seconds: float
    progress_seconds: float
    start_position: int
    log_lines: list[dict]    # {"message", "level"}
    t_release: float | None  # when its queue time started counting (None while held)
    t_completed: float | None = None
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome is None and not self.cancelled


@dataclass
class Injection:
    op: str
    status: int | None = None
    body: Any = None
    headers: dict = field(default_factory=dict)
    content_type: str | None = None
    reset: bool = False
    truncate_at: int | None = None
    delay: float = 0.0
    process: bool = False
    remaining: int = 1


class _Log(list):
    """A list appended to from the server thread; read it with ``list(fal.log)`` or the helpers."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def append(self, item) -> None:  # type: ignore[override]
        with self.lock:
            super().append(item)

    def snapshot(self) -> list:
        with self.lock:
            return list(self)


_R = r"/(?P<owner>[^/]+)/(?P<alias>[^/]+)/requests/(?P<rid>[^/]+)"
_ROUTES = [
    ("file", ("GET", "HEAD"), re.compile(r"^/files/(?P<rid>[^/]+)/(?P<name>[^/]+)$")),
    ("stream", ("GET",), re.compile("^" + _R + r"/status/stream$")),
    ("status", ("GET",), re.compile("^" + _R + r"/status$")),
    ("cancel", ("PUT",), re.compile("^" + _R + r"/cancel$")),
    ("result", ("GET",), re.compile("^" + _R + r"$")),
    ("submit", ("POST",), re.compile(r"^/(?P<endpoint>.+?)/?$")),
]


class _Reset(Exception):
    """Raised by a handler to drop the connection: abort it, or close it gracefully (flushing what was sent)."""

    def __init__(self, graceful: bool = False):
        super().__init__()
        self.graceful = graceful


class FakeFal:
    """A fake fal.ai queue + CDN over HTTPS. See the module docstring."""

    def __init__(self, tmpdir, key: str = "test-key", video_bytes: bytes = DEFAULT_VIDEO, *,
                 queue_seconds: float = 0.3, progress_seconds: float = 0.5, queue_position: int = 2,
                 logs: list | None = None, sse_ping_seconds: float = 15.0,
                 schemas: dict | None = None, tls=None):
        self.tmpdir = Path(tmpdir)
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.key = key
        self.video_bytes = bytes(video_bytes)
        self.queue_seconds = float(queue_seconds)
        self.progress_seconds = float(progress_seconds)
        self.queue_position = int(queue_position)
        self.logs = list(DEFAULT_LOGS if logs is None else logs)
        self.sse_ping_seconds = float(sse_ping_seconds)
        self.schemas = copy.deepcopy(SCHEMAS if schemas is None else schemas)
        self.forbid = False
        self.next_outcome: Any = "ok"
        self.log = _Log()
        self.jobs: dict[str, Job] = {}
        self._hold = False
        self._lock = threading.RLock()
        self._injections: dict[str, list[Injection]] = {op: [] for op in OPS}
        self._ssl_ctx, self.ca_path = tls if tls is not None else make_tls(self.tmpdir)
        self._wall_offset = time.time() - time.monotonic()
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task | None = None
        self.port: int | None = None

    # ---------------------------------------------------------------- life cycle
    def __enter__(self) -> "FakeFal":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    async def __aenter__(self) -> "FakeFal":
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *exc) -> None:
        await asyncio.to_thread(self.stop)

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("FakeFal already started")
        self._closing = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="FakeFal", daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._astart(), self._loop).result(10)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._thread is None:
            return
        self._closing = True  # SSE streams and injected delays see it within ~20 ms
        try:
            if self._runner is not None:
                asyncio.run_coroutine_threadsafe(self._astop(), self._loop).result(15)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()
            self._thread = None
            self._runner = None

    async def _astart(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._ssl_ctx)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def _astop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass
        await self._runner.cleanup()

    async def _tick(self) -> None:
        """Advance jobs so that "completed" events are logged even when nobody polls."""
        while True:
            now = time.monotonic()
            with self._lock:
                for job in list(self.jobs.values()):
                    self._phase(job, now)
            await asyncio.sleep(0.01)

    # ---------------------------------------------------------------- public helpers
    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + ("" if path.startswith("/") else "/") + path

    @property
    def hold(self) -> bool:
        return self._hold

    @hold.setter
    def hold(self, value: bool) -> None:
        """True: new jobs, and jobs still IN_QUEUE, stay IN_QUEUE; False: they start their queue time now."""
        value = bool(value)
        with self._lock:
            now = time.monotonic()
            if value and not self._hold:
                for job in self.jobs.values():
                    if job.t_release is not None and self._phase(job, now) == IN_QUEUE:
                        job.start_position = self._position(job, now)  # frozen where it stands
                        job.t_release = None
            elif not value and self._hold:
                for job in self.jobs.values():
                    if job.t_release is None and job.t_completed is None:
                        job.t_release = now
            self._hold = value

    def release(self) -> None:
        self.hold = False

    def inject(self, op: str, status: int | None = None, body: Any = None, headers: dict | None = None, *,
               times: int = 1, reset: bool = False, truncate_at: int | None = None, delay: float = 0.0,
               process: bool = False, content_type: str | None = None) -> None:
        """Make the next ``times`` requests of ``op`` misbehave (queued after earlier injections of that op).

        * ``status`` (+ ``body``: dict/list → JSON, str → text/html if it starts with "<" else text/plain,
          bytes; default ``{"detail": <reason>}``; ``headers`` sent as given, nothing added — in particular
          no ``x-fal-request-id``): answer that instead.
        * ``reset=True``: abort the connection without an answer.
        * ``truncate_at=N``: "file": send the headers (full Content-Length) and N bytes, then close;
          "stream": send N events, then close without the COMPLETED event.
        * ``delay=S``: wait S seconds first (then the injected answer, or the normal one).
        * ``process=True`` (submit/status/result/cancel, with status or reset): really handle the request
          first (a submit creates its job), then replace the answer — "the answer was lost".
        """
        if op not in OPS:
            raise ValueError(f"op must be one of {OPS}")
        if status is None and not reset and truncate_at is None and not delay:
            raise ValueError("give status=, reset=True, truncate_at= or delay=")
        if truncate_at is not None and op not in ("file", "stream"):
            raise ValueError("truncate_at is for 'file' and 'stream'")
        if process and (op in ("file", "stream") or (status is None and not reset)):
            raise ValueError("process=True needs status= or reset=True, on submit/status/result/cancel")
        inj = Injection(op=op, status=status, body=body, headers=dict(headers or {}), content_type=content_type,
                        reset=reset, truncate_at=truncate_at, delay=float(delay), process=process,
                        remaining=int(times))
        with self._lock:
            self._injections[op].append(inj)

    def clear_injections(self) -> None:
        with self._lock:
            for lst in self._injections.values():
                lst.clear()

    def requests(self, op: str | None = None) -> list[dict]:
        """Request log entries (not events), optionally of one op."""
        return [e for e in self.log.snapshot() if "op" in e and (op is None or e["op"] == op)]

    def submits(self) -> list[dict]:
        return self.requests("submit")

    def count(self, op: str) -> int:
        return len(self.requests(op))

    def events(self, name: str | None = None) -> list[dict]:
        return [e for e in self.log.snapshot() if "event" in e and (name is None or e["event"] == name)]

    def status_of(self, request_id: str) -> str:
        with self._lock:
            return self._phase(self.jobs[request_id], time.monotonic())

    def wait_completed(self, request_id: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.status_of(request_id) != COMPLETED:
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {request_id} not completed after {timeout} s")
            time.sleep(0.01)

    # ---------------------------------------------------------------- job state
    def _phase(self, job: Job, now: float) -> str:
        """Current status of ``job``; records the COMPLETED transition. Call with ``self._lock`` held."""
        if job.t_completed is not None:
            return COMPLETED
        if job.t_release is None:
            return IN_QUEUE
        elapsed = now - job.t_release
        if elapsed < job.queue_seconds:
            return IN_QUEUE
        if elapsed < job.queue_seconds + job.progress_seconds:
            return IN_PROGRESS
        self._complete(job, job.t_release + job.queue_seconds + job.progress_seconds)
        return COMPLETED

    def _complete(self, job: Job, t: float) -> None:
        job.t_completed = t
        self.log.append({"event": "completed", "request_id": job.request_id, "t": t})

    def _position(self, job: Job, now: float) -> int:
        if job.t_release is None or job.queue_seconds <= 0:
            return job.start_position
        remaining = max(0.0, job.queue_seconds - (now - job.t_release))
        return min(job.start_position, int(remaining / job.queue_seconds * (job.start_position + 1)))

    def _visible_logs(self, job: Job, now: float) -> list[dict]:
        if job.t_release is None:
            return []
        end = now if job.t_completed is None else min(now, job.t_completed)
        start = job.t_release + job.queue_seconds
        n = len(job.log_lines)
        out = []
        for i, line in enumerate(job.log_lines):
            t = start + job.progress_seconds * i / n
            if t <= end:
                stamp = _dt.datetime.fromtimestamp(t + self._wall_offset, _dt.timezone.utc)
                out.append({"message": line["message"], "level": line["level"], "source": "USER",
                            "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")})
        return out

    def _urls(self, job: Job) -> dict:
        base = f"{self.base_url}/{job.app}/requests/{job.request_id}"
        return {"response_url": base, "status_url": base + "/status", "cancel_url": base + "/cancel"}

    def _status_obj(self, job: Job, with_logs: bool, now: float) -> dict:
        with self._lock:
            phase = self._phase(job, now)
            obj: dict[str, Any] = {"status": phase, "request_id": job.request_id, **self._urls(job)}
            if phase == IN_QUEUE:
                obj["queue_position"] = self._position(job, now)
                obj["logs"] = None
            elif phase == IN_PROGRESS:
                obj["logs"] = self._visible_logs(job, now) if with_logs else None
            else:
                obj["logs"] = self._visible_logs(job, now) if with_logs else None
                if job.cancelled:
                    obj["metrics"] = {}
                    obj["error"], obj["error_type"] = CANCELLED_ERROR, CANCELLED_TYPE
                elif job.outcome is not None:
                    obj["metrics"] = {}
                    obj["error"], obj["error_type"] = job.outcome["error"], job.outcome["error_type"]
                else:
                    obj["metrics"] = {"inference_time": round(job.progress_seconds, 3)}
            return obj

    def _take_outcome(self) -> dict | None:
        outcome, self.next_outcome = self.next_outcome, "ok"
        if outcome in (None, "ok", ("ok",)):
            return None
        if isinstance(outcome, (tuple, list)) and len(outcome) == 2 and outcome[0] == "error":
            spec = dict(outcome[1] or {})
            spec.setdefault("error", "Internal error")
            spec.setdefault("error_type", "internal_error")
            spec.setdefault("result_status", 500)
            spec.setdefault("result_body", {"detail": spec["error"], "error_type": spec["error_type"]})
            spec.setdefault("result_headers", {})
            return spec
        raise ValueError(f"bad next_outcome {outcome!r}: use 'ok' or ('error', {{...}})")

    # ---------------------------------------------------------------- HTTP plumbing
    def _route(self, method: str, path: str):
        wrong_method = False
        for op, methods, rx in _ROUTES:
            m = rx.match(path)
            if m:
                if method in methods:
                    return op, m.groupdict(), False
                wrong_method = True
        return None, {}, wrong_method

    def _take_injection(self, op: str) -> Injection | None:
        with self._lock:
            lst = self._injections[op]
            if not lst:
                return None
            inj = lst[0]
            inj.remaining -= 1
            if inj.remaining <= 0:
                lst.pop(0)
            return inj

    async def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._closing and time.monotonic() < end:
            await asyncio.sleep(min(0.02, max(0.0, end - time.monotonic())))

    @staticmethod
    def _json(status: int, obj: Any, headers: dict | None = None) -> web.Response:
        return web.Response(status=status, body=json.dumps(obj).encode(), content_type="application/json",
                            headers=headers)

    @staticmethod
    def _injected_response(inj: Injection) -> web.Response:
        body, ctype = inj.body, inj.content_type
        if body is None:
            from http import HTTPStatus
            try:
                reason = HTTPStatus(inj.status).phrase
            except ValueError:
                reason = "Error"
            body = {"detail": reason}
        if isinstance(body, (dict, list)):
            data, ctype = json.dumps(body).encode(), ctype or "application/json"
        elif isinstance(body, str):
            data = body.encode()
            ctype = ctype or ("text/html" if body.lstrip().startswith("<") else "text/plain")
        else:
            data, ctype = bytes(body), ctype or "application/octet-stream"
        headers = dict(inj.headers)
        headers.setdefault("Content-Type", ctype)
        return web.Response(status=inj.status, body=data, headers=headers)

    @staticmethod
    def _drop(request: web.Request, graceful: bool = False) -> web.Response:
        """Drop the connection; the returned dummy response cannot be written and aiohttp ignores that."""
        if request.transport is not None:
            if graceful:
                request.transport.close()
            else:
                request.transport.abort()
        return web.Response(status=499)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        op, params, wrong_method = self._route(request.method, request.path)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        entry = {"t": time.monotonic(), "method": request.method, "path": request.path,
                 "query": dict(request.query), "headers": {k.lower(): v for k, v in request.headers.items()},
                 "json": parsed, "op": op or "unknown", "http_status": None, "injected": None}
        self.log.append(entry)
        if op is None:
            entry["http_status"] = 405 if wrong_method else 404
            return self._json(entry["http_status"], {"detail": "Method Not Allowed" if wrong_method else "Not Found"})

        inj = self._take_injection(op)
        if inj is not None:
            entry["injected"] = {k: v for k, v in vars(inj).items() if k not in ("op", "remaining")}
            if inj.delay:
                await self._sleep(inj.delay)
            if not inj.process:
                if inj.reset:
                    return self._drop(request)
                if inj.status is not None:
                    entry["http_status"] = inj.status
                    return self._injected_response(inj)
        handler = getattr(self, "_h_" + op)
        try:
            resp = await handler(request, params, raw, entry, inj)
        except _Reset as exc:
            return self._drop(request, exc.graceful)
        if inj is not None and inj.process:
            if inj.reset:
                return self._drop(request)
            entry["http_status"] = inj.status
            return self._injected_response(inj)
        if entry["http_status"] is None:
            entry["http_status"] = resp.status
        return resp

    def _auth(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization")
        if not header:
            return self._json(401, {"detail": "Missing authorization header. Use 'Authorization: Key <FAL_KEY>'."})
        scheme, _, cred = header.partition(" ")
        if scheme != "Key" or cred != self.key:
            return self._json(401, {"detail": "Invalid API key or authorization header."})
        if self.forbid:
            return self._json(403, {"detail": "User is locked. Reason: Exhausted balance. "
                                              "Top up your balance at fal.ai/dashboard/billing."})
        return None

    def _job_for(self, params: dict) -> Job | None:
        with self._lock:
            job = self.jobs.get(params["rid"])
        if job is None or job.app != f"{params['owner']}/{params['alias']}":
            return None
        return job

    @staticmethod
    def _logs_param(request: web.Request):
        """(with_logs, error_response)."""
        value = request.query.get("logs")
        if value is None:
            return False, None
        if value in ("1", "true"):
            return True, None
        if value in ("0", "false"):
            return False, None
        return False, FakeFal._json(422, {"detail": [_err(["query", "logs"], "bool_parsing",
                                                          "Input should be a valid boolean, unable to interpret input",
                                                          value)]})

    # ---------------------------------------------------------------- handlers
    async def _h_submit(self, request, params, raw, entry, inj) -> web.Response:
        denied = self._auth(request)
        if denied:
            return denied
        endpoint = params["endpoint"]
        schema = self.schemas.get(endpoint)
        if schema is None:
            return self._json(404, {"detail": f"Application '{endpoint}' not found"})
        ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not raw:
            return self._json(422, {"detail": [_err(["body"], "missing", "Field required", None)]})
        if ctype != "application/json":
            return self._json(422, {"detail": [_err(["body"], "model_attributes_type",
                                                     "Input should be a valid dictionary or object to extract "
                                                     f"fields from (Content-Type {ctype or 'missing'!r})",
                                                     raw[:80].decode("utf-8", "replace"))]})
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return self._json(422, {"detail": [_err(["body", 0], "json_invalid", f"JSON decode error: {exc}",
                                                    raw[:80].decode("utf-8", "replace"))]})
        errors = validate_input(schema, body)
        if errors:
            return self._json(422, {"detail": errors})
        now = time.monotonic()
        rid = str(uuid.uuid4())
        lines = [{"message": x, "level": "INFO"} if isinstance(x, str) else
                 {"message": x["message"], "level": x.get("level", "INFO")} for x in self.logs]
        with self._lock:
            job = Job(request_id=rid, endpoint=endpoint, app="/".join(endpoint.split("/")[:2]), body=body,
                      outcome=self._take_outcome(), t_submit=now, queue_seconds=self.queue_seconds,
                      progress_seconds=self.progress_seconds, start_position=self.queue_position,
                      log_lines=lines, t_release=None if self._hold else now)
            self.jobs[rid] = job
        entry["request_id"] = rid
        answer = {"status": IN_QUEUE, "request_id": rid, **self._urls(job),
                  "queue_position": job.start_position, "gateway_request_id": rid}
        return self._json(200, answer, {"x-fal-request-id": rid})

    async def _h_status(self, request, params, raw, entry, inj) -> web.Response:
        denied = self._auth(request)
        if denied:
            return denied
        with_logs, bad = self._logs_param(request)
        if bad:
            return bad
        job = self._job_for(params)
        if job is None:
            return self._json(404, {"detail": f"Request {params['rid']} not found"})
        obj = self._status_obj(job, with_logs, time.monotonic())
        return self._json(200 if obj["status"] == COMPLETED else 202, obj, {"x-fal-request-id": job.request_id})

    async def _h_stream(self, request, params, raw, entry, inj) -> web.StreamResponse:
        denied = self._auth(request)
        if denied:
            return denied
        with_logs, bad = self._logs_param(request)
        if bad:
            return bad
        job = self._job_for(params)
        if job is None:
            return self._json(404, {"detail": f"Request {params['rid']} not found"})
        resp = web.StreamResponse(status=200, headers={"Content-Type": "text/event-stream",
                                                       "Cache-Control": "no-cache",
                                                       "x-fal-request-id": job.request_id})
        resp.force_close()  # "the server closes the stream after it sends the COMPLETED event"
        entry["http_status"] = 200
        await resp.prepare(request)
        last, sent = None, 0
        next_ping = time.monotonic() + self.sse_ping_seconds
        try:
            while not self._closing:
                now = time.monotonic()
                obj = self._status_obj(job, with_logs, now)
                if obj != last:
                    if inj is not None and inj.truncate_at is not None and sent >= inj.truncate_at:
                        raise _Reset(graceful=True)
                    await resp.write(b"data: " + json.dumps(obj).encode() + b"\n\n")
                    last, sent = obj, sent + 1
                    if obj["status"] == COMPLETED:
                        break
                if now >= next_ping:
                    await resp.write(b": ping\n\n")
                    next_ping = now + self.sse_ping_seconds
                await asyncio.sleep(max(0.0, min(0.02, next_ping - time.monotonic())))
            await resp.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client went away
        return resp

    async def _h_result(self, request, params, raw, entry, inj) -> web.Response:
        denied = self._auth(request)
        if denied:
            return denied
        job = self._job_for(params)
        if job is None:
            return self._json(404, {"detail": f"Request {params['rid']} not found"})
        headers = {"x-fal-request-id": job.request_id}
        if self._status_obj(job, False, time.monotonic())["status"] != COMPLETED:
            return self._json(400, {"detail": "Request is still in progress"}, headers)
        if job.cancelled:
            headers["x-fal-error-type"] = CANCELLED_TYPE
            return self._json(499, {"detail": CANCELLED_ERROR, "error_type": CANCELLED_TYPE}, headers)
        if job.outcome is not None:
            o = job.outcome
            body = o["result_body"]
            if isinstance(body, dict) and body.get("error_type"):
                headers["x-fal-error-type"] = body["error_type"]
            headers.update(o["result_headers"])
            return self._json(o["result_status"], body, headers)
        video = {"url": f"{self.base_url}/files/{job.request_id}/output.mp4", "content_type": "video/mp4",
                 "file_name": "output.mp4", "file_size": len(self.video_bytes)}
        return self._json(200, {"video": video}, headers)

    async def _h_cancel(self, request, params, raw, entry, inj) -> web.Response:
        denied = self._auth(request)
        if denied:
            return denied
        job = self._job_for(params)
        if job is None:
            return self._json(404, {"status": "NOT_FOUND"})
        with self._lock:
            now = time.monotonic()
            if self._phase(job, now) == COMPLETED:
                return self._json(400, {"status": "ALREADY_COMPLETED"}, {"x-fal-request-id": job.request_id})
            job.cancelled = True
            self._complete(job, now)
        return self._json(202, {"status": "CANCELLATION_REQUESTED"}, {"x-fal-request-id": job.request_id})

    async def _h_file(self, request, params, raw, entry, inj) -> web.StreamResponse:
        with self._lock:
            job = self.jobs.get(params["rid"])
            done = job is not None and self._phase(job, time.monotonic()) == COMPLETED
        if not done or not job.ok or params["name"] != "output.mp4":
            return self._json(404, {"detail": "Not Found"})
        data = self.video_bytes
        size = len(data)
        headers = {"Content-Type": "video/mp4", "Accept-Ranges": "bytes"}
        status, start, end = 200, 0, size  # [start, end)
        rng = request.headers.get("Range")
        if rng:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if m and (m.group(1) or m.group(2)):
                a, b = m.group(1), m.group(2)
                if a:
                    start, end = int(a), (min(int(b) + 1, size) if b else size)
                else:  # suffix: the last N bytes
                    start, end = max(0, size - int(b)), size
                if start >= size or start >= end:
                    return web.Response(status=416, headers={"Content-Range": f"bytes */{size}",
                                                             "Accept-Ranges": "bytes"})
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
            # anything else (multiple ranges, other units): ignored, full answer, as RFC 9110 allows
        payload = data[start:end]
        resp = web.StreamResponse(status=status, headers=headers)
        resp.content_length = len(payload)
        entry["http_status"] = status
        await resp.prepare(request)
        if request.method == "HEAD":
            await resp.write_eof()
            return resp
        if inj is not None and inj.truncate_at is not None:
            await resp.write(payload[:inj.truncate_at])
            raise _Reset(graceful=True)  # close() flushes those bytes, then the connection ends
        await resp.write(payload)
        await resp.write_eof()
        return resp

