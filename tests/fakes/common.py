"""Machinery shared by the HTTPS fakes of fal.ai, AI/ML API, Vercel AI Gateway and Kling's own API.

Written from ``/work/shared/reference/provider_protocols.md`` only; nothing here imports the package under
test. Every fake has this public API, so one test can drive any provider::

    with FakeX(tmp_path, key="k", video_bytes=mp4, queue_seconds=0.3, progress_seconds=0.5) as fake:
        fake.host, fake.base_url, fake.ca_path, fake.port
        fake.log                       # requests {"t","method","path","query","headers","json","size","op",
                                       #           "http_status","injected"[,"request_id"]} and events
                                       # {"event": "completed", "request_id", "t"}
        fake.count(op), fake.requests(op), fake.submits(), fake.events("completed")
        fake.jobs                      # id -> Job (.body, .ok, .cancelled, .model, .endpoint, ...)
        fake.inject(op, status=..., body=..., headers=..., times=1, reset=False, process=False,
                    delay=0.0, truncate_at=None, content_type=None)
        fake.hold = True / False       # jobs stay queued / start their queue time now
        fake.next_outcome = "ok" | ("error", {"message": ..., ...})
        fake.clear_injections(), fake.video_bytes, fake.phase_of(id), fake.status_of(id),
        fake.wait_completed(id)
        fake.body_max_bytes            # a larger request body is answered 413 (BODY_LIMITS; None: any size)
        fake.concurrency_limit         # None, or refuse a create while this many jobs are not done, in the
                                       # provider's words (fal 429 + Retry-After, Kling 429/1303)
        fake.in_flight(), fake.peak_in_flight()   # jobs not done yet: now, and the most at once

A job lives by the wall clock: ``queue_seconds`` queued, ``progress_seconds`` running, then done (its video
at ``/files/<file id>/output.mp4``, no auth, Range; fal's at its own paths). Each provider names those phases
its own way (``status_of``).
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import functools
import io
import json
import math
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Callable, NamedTuple
from urllib.parse import unquote

from aiohttp import web

from .tls import make_tls

QUEUED, RUNNING, DONE = "queued", "running", "done"
# 32-byte ftyp box + a few bytes: enough to look like an mp4 to a sniffer (as in fakes.fal).
DEFAULT_VIDEO = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00" * 992

# Kling's input image limits (reference §4.2 "Model capabilities per Vercel" and §5.4): jpg/jpeg/png,
# at most 10 MB (decimal, the stricter reading), sides at least 300 px, aspect ratio 1:2.5 to 2.5:1.
IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
IMAGE_MAX_BYTES = 10_000_000
IMAGE_MIN_SIDE = 300
IMAGE_MIN_ASPECT = 1 / 2.5
IMAGE_MAX_ASPECT = 2.5

# The largest request body each service takes (bytes, decimal megabytes: the stricter reading); a larger one is
# answered 413 before it is looked at. Files travel inside the JSON (base64, 4/3 of their size), so these decide
# how large an input can be.
BODY_LIMITS = {
    # fal documents no limit for a request body or its data URIs; its maintainers report data URIs failing above
    # 3 to 10 MB (github.com/fal-ai/fal pull 178). The fake takes the lowest report, for a queue submit only
    # (FakeFal.BODY_LIMIT_OPS); larger files go through fal's storage.
    "FakeFal": 3_000_000,
    # Vercel Functions' request body limit, which the gateway runs on: "4.5 MB", 413 FUNCTION_PAYLOAD_TOO_LARGE
    # (vercel.com/docs/functions/limitations, vercel.com/docs/errors/FUNCTION_PAYLOAD_TOO_LARGE), reported for
    # the gateway at community.vercel.com/t/ai-gateway-payload-size/23450.
    "FakeVercel": 4_500_000,
    # Kling's API is reported to take JSON bodies up to about 10 MB (issue 12); it documents none.
    "FakeKling": 10_000_000,
    # AI/ML API documents none; it hands the request to Kling's API (provider "auto": Kling first).
    "FakeAimlapi": 10_000_000,
}


def numeric_id() -> str:
    """A Kling-style task id (an 18-digit decimal string; the docs' fixtures only show "task-abc-123")."""
    return str(10 ** 17 + secrets.randbelow(9 * 10 ** 17))


# --------------------------------------------------------------------------------------------------
# Jobs, injections, log
# --------------------------------------------------------------------------------------------------
@dataclass
class Job:
    id: str                  # what the provider calls it (AIML "<uuid>:<model>", Kling task_id, Vercel taskId)
    body: Any                # the create request's JSON
    outcome: dict | None     # None = ok; else {"message", ...provider keys}
    t_submit: float          # time.monotonic()
    queue_seconds: float
    progress_seconds: float
    t_release: float | None  # when its queue time started (None while held)
    file_id: str             # /files/<file_id>/output.mp4
    model: str = ""
    endpoint: str = ""       # Kling "image2video"/"text2video"; Vercel "i2v"/"t2v"; AIML "i2v"/"t2v"
    wall_submit: float = 0.0  # time.time() at submit
    t_completed: float | None = None
    cancelled: bool = False
    extra: dict = field(default_factory=dict)  # provider specifics (external_task_id, operation, warnings...)

    @property
    def request_id(self) -> str:
        return self.id

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


class Log(list):
    """A list appended to from the server thread; read it with the helpers or ``log.snapshot()``."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def append(self, item) -> None:  # type: ignore[override]
        with self.lock:
            super().append(item)

    def snapshot(self) -> list:
        with self.lock:
            return list(self)


class Reset(Exception):
    """Raised by a handler to drop the connection (abort, or close gracefully flushing what was sent)."""

    def __init__(self, graceful: bool = False):
        super().__init__()
        self.graceful = graceful


# --------------------------------------------------------------------------------------------------
# A small validator: zod-like issues with a dotted path
# --------------------------------------------------------------------------------------------------
class Issue(NamedTuple):
    path: str      # "duration", "image.data", "frameImages.0.frameType"; "" = the body itself
    kind: str      # missing | type | enum | unknown | too_long | too_short | range | value
    message: str

    def text(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def js_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def join(path: str, key) -> str:
    return f"{path}.{key}" if path else str(key)


def _lit(v: Any) -> str:
    return f"'{v}'" if isinstance(v, str) else json.dumps(v)


def check(spec: dict, v: Any, path: str = "") -> list[Issue]:
    """Issues of ``v`` against ``spec``.

    spec "type": "string" (min_length, max_length) | "bool" | "int"/"number" (ge, le) | "enum" (values,
    compared with their JSON type: "5" is not 5) | "list" (items, min_items, max_items) | "object" (fields;
    unknown keys rejected; "required" on a field) | "custom" (fn(v, path) -> list[Issue]) | "any".
    A JSON null is a type error for every type but "any" (an optional field must be left out)."""
    t = spec["type"]
    if t == "any":
        return []
    if t == "custom":
        return spec["fn"](v, path)
    if t == "string":
        if not isinstance(v, str):
            return [Issue(path, "type", f"Expected string, received {js_type(v)}")]
        if "min_length" in spec and len(v) < spec["min_length"]:
            return [Issue(path, "too_short", f"String must contain at least {spec['min_length']} character(s)")]
        if "max_length" in spec and len(v) > spec["max_length"]:
            return [Issue(path, "too_long", f"String must contain at most {spec['max_length']} character(s)")]
        return []
    if t == "bool":
        return [] if isinstance(v, bool) else [Issue(path, "type", f"Expected boolean, received {js_type(v)}")]
    if t in ("int", "number"):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (t == "int" and not isinstance(v, int)):
            want = "integer" if t == "int" else "number"
            return [Issue(path, "type", f"Expected {want}, received {js_type(v)}")]
        if not math.isfinite(v):
            return [Issue(path, "type", "Expected a finite number")]
        if "ge" in spec and v < spec["ge"]:
            return [Issue(path, "range", f"Number must be greater than or equal to {spec['ge']}")]
        if "le" in spec and v > spec["le"]:
            return [Issue(path, "range", f"Number must be less than or equal to {spec['le']}")]
        return []
    if t == "enum":
        values = spec["values"]
        if any(type(v) is type(x) and v == x for x in values):
            return []
        return [Issue(path, "enum", f"Invalid enum value. Expected {' | '.join(_lit(x) for x in values)}, "
                                    f"received {_lit(v)}")]
    if t == "list":
        if not isinstance(v, list):
            return [Issue(path, "type", f"Expected array, received {js_type(v)}")]
        issues: list[Issue] = []
        if "max_items" in spec and len(v) > spec["max_items"]:
            issues.append(Issue(path, "too_long", f"Array must contain at most {spec['max_items']} element(s)"))
        if "min_items" in spec and len(v) < spec["min_items"]:
            issues.append(Issue(path, "too_short", f"Array must contain at least {spec['min_items']} element(s)"))
        for i, item in enumerate(v):
            issues.extend(check(spec["items"], item, join(path, i)))
        return issues
    if t == "object":
        if not isinstance(v, dict):
            return [Issue(path, "type", f"Expected object, received {js_type(v)}")]
        return check_fields(spec["fields"], v, path)
    raise ValueError(f"unknown spec type {t!r}")


def check_fields(fields: dict, obj: dict, path: str = "") -> list[Issue]:
    issues: list[Issue] = []
    for name, spec in fields.items():
        if name not in obj:
            if spec.get("required"):
                issues.append(Issue(join(path, name), "missing", "Required"))
            continue
        issues.extend(check(spec, obj[name], join(path, name)))
    for name in obj:
        if name not in fields:
            issues.append(Issue(join(path, name), "unknown", f"Unrecognized key: '{name}'"))
    return issues


def S(**kw) -> dict:
    return {"type": "string", **kw}


def E(*values, **kw) -> dict:
    return {"type": "enum", "values": list(values), **kw}


def R(spec: dict) -> dict:
    return {**spec, "required": True}


def C(fn: Callable[[Any, str], list[Issue]], **kw) -> dict:
    return {"type": "custom", "fn": fn, **kw}


# --------------------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------------------
_DATA_URI = re.compile(r"^data:(?P<mime>[^;,]*)(?P<params>(?:;[^;,]*)*),(?P<data>.*)$", re.S)


def b64decode_strict(s: str) -> bytes:
    """Standard base64 (padding required, no whitespace); ValueError otherwise."""
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"invalid base64 data ({exc})") from None
    if not raw:
        raise ValueError("empty base64 data")
    return raw


def parse_data_uri(s: str) -> tuple[str, bytes]:
    """``data:<mime>;base64,<data>`` -> (mime, bytes); ValueError otherwise."""
    m = _DATA_URI.match(s)
    if not m or "base64" not in [p.strip() for p in m.group("params").split(";")]:
        raise ValueError("invalid data URI: expected data:<mime>;base64,<data>")
    return m.group("mime").strip().lower(), b64decode_strict(m.group("data"))


def decode_image(raw: bytes) -> tuple[str, int, int]:
    """(PIL format name, width, height) of an image that decodes whole; raises whatever Pillow raises."""
    from PIL import Image  # lazily: only decoded media need it

    with Image.open(io.BytesIO(raw)) as img:
        fmt, size = img.format, img.size
        img.load()
    return fmt, *size


def image_problem(raw: bytes, declared: str | None = None, *, formats: dict | None = None,
                  max_bytes: int = IMAGE_MAX_BYTES, min_side: int = IMAGE_MIN_SIDE,
                  min_aspect: float = IMAGE_MIN_ASPECT, max_aspect: float = IMAGE_MAX_ASPECT) -> str | None:
    """Why ``raw`` is not an acceptable input image (None if it is). ``declared``: its stated mime type."""
    formats = IMAGE_FORMATS if formats is None else formats
    if declared is not None and declared not in formats:
        return f"unsupported image type {declared!r} (supported: {', '.join(sorted(formats))})"
    if len(raw) > max_bytes:
        return f"image is too large: {len(raw)} bytes, at most {max_bytes}"
    try:
        fmt, width, height = decode_image(raw)
    except Exception as exc:  # noqa: BLE001 - any decoding failure is the client's fault
        return f"the data is not a decodable image ({type(exc).__name__})"
    if fmt not in formats.values():
        return f"unsupported image format {fmt} (supported: {', '.join(sorted(formats))})"
    if declared is not None and formats[declared] != fmt:
        return f"declared type {declared!r} does not match the image data ({fmt})"
    if width < min_side or height < min_side:
        return f"image is too small: {width}x{height}, each side must be at least {min_side} px"
    aspect = width / height
    if not min_aspect - 1e-9 <= aspect <= max_aspect + 1e-9:
        return f"image aspect ratio {aspect:.3f} is outside 1:2.5 to 2.5:1"
    return None


def kling_image_issues(v: Any, path: str, formats: dict, **limits) -> list[Issue]:
    """Issues of an image as Kling's API takes it (reference §5.4): an https URL (not fetched), or raw Base64
    without a ``data:`` prefix, decoded and held to :func:`image_problem`'s limits (``limits`` override them)."""
    if not isinstance(v, str):
        return [Issue(path, "type", f"Expected string, received {js_type(v)}")]
    if v.startswith("data:"):
        return [Issue(path, "value", "must be an image URL or raw Base64 without the 'data:' prefix")]
    if v.startswith("https://"):
        return []
    if v.startswith("http://"):
        return [Issue(path, "value", "image URLs must be https")]
    try:
        raw = b64decode_strict(v)
    except ValueError as exc:
        return [Issue(path, "value", f"expected an https URL or raw Base64: {exc}")]
    problem = image_problem(raw, formats=formats, **limits)
    return [Issue(path, "value", problem)] if problem else []


# --------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------
class FakeServer:
    """Base of the provider fakes: HTTPS server thread, routing, log, injections, jobs, files.

    Subclasses set ``NAME``, ``OPS``, ``CREATE_OPS`` (ops whose accepted requests ``submits()`` lists),
    ``ROUTES`` ([(op, methods, regex on the raw path)], first match wins; named groups are unquoted) and
    ``TRUNCATE_OPS``, and implement ``_h_<op>(request, params, raw, entry, inj)``, ``status_of``,
    ``_error_body(status, message)`` and ``_route_not_found(method, path, wrong_method)``. The other class
    attributes below say where a provider differs from the default.
    """

    NAME = "FakeServer"
    OPS: tuple[str, ...] = ("file",)
    CREATE_OPS: tuple[str, ...] = ("submit",)
    ROUTES: list = []
    TRUNCATE_OPS: tuple[str, ...] = ("file",)
    NO_PROCESS_OPS: tuple[str, ...] = ("file",)  # ops whose answer cannot be "processed, then lost"
    BODY_LIMIT_OPS: tuple[str, ...] | None = None  # ops held to ``body_max_bytes`` (None: every op)
    BINARY_OPS: tuple[str, ...] = ()  # ops whose request bodies are file bytes: not parsed as JSON for the log
    # True: route on the raw path, then unquote the captured parts; False: route on aiohttp's decoded path (fal)
    ROUTE_RAW_PATH = True
    JOB: type = Job  # the job record (a provider's may add fields)

    def __init__(self, tmpdir, video_bytes: bytes = DEFAULT_VIDEO, *, queue_seconds: float = 0.3,
                 progress_seconds: float = 0.5, sse_ping_seconds: float = 0.2, tls=None):
        self.tmpdir = Path(tmpdir)
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.video_bytes = bytes(video_bytes)
        self.queue_seconds = float(queue_seconds)
        self.progress_seconds = float(progress_seconds)
        self.sse_ping_seconds = float(sse_ping_seconds)
        self.image_formats = dict(IMAGE_FORMATS)
        self.body_max_bytes: int | None = BODY_LIMITS.get(self.NAME)  # None: any size
        # An account's concurrency limit: a create while this many jobs are not done is refused with the
        # provider's "too many" answer (fal's 429, Kling's 1303); None: no limit (the default).
        self.concurrency_limit: int | None = None
        self.next_outcome: Any = "ok"
        self.log = Log()
        self.jobs: dict[str, Job] = {}
        self._files: dict[str, str] = {}  # file id -> job id
        self._hold = False
        self._lock = threading.RLock()
        self._injections: dict[str, list[Injection]] = {op: [] for op in self.OPS}
        self._ssl_ctx, self.ca_path = tls if tls is not None else make_tls(self.tmpdir)
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.port: int | None = None

    # ---------------------------------------------------------------- life cycle
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    async def __aenter__(self):
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *exc) -> None:
        await asyncio.to_thread(self.stop)

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.NAME} already started")
        self._closing = False
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"{self.NAME}-media")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=self.NAME, daemon=True)
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
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    async def _astart(self) -> None:
        app = web.Application(client_max_size=128 * 1024 * 1024)
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

    def file_url(self, job: Job) -> str:
        return f"{self.base_url}/files/{job.file_id}/output.mp4"

    @property
    def hold(self) -> bool:
        return self._hold

    @hold.setter
    def hold(self, value: bool) -> None:
        """True: new jobs, and jobs still queued, stay queued; False: they start their queue time now."""
        value = bool(value)
        with self._lock:
            now = time.monotonic()
            if value and not self._hold:
                for job in self.jobs.values():
                    if job.t_release is not None and self._phase(job, now) == QUEUED:
                        self._hold_back(job, now)
            elif not value and self._hold:
                for job in self.jobs.values():
                    if job.t_release is None and job.t_completed is None:
                        job.t_release = now
            self._hold = value

    def _hold_back(self, job: Job, now: float) -> None:
        """Put a queued job back on hold (its queue time starts again on release)."""
        job.t_release = None

    def release(self) -> None:
        self.hold = False

    def inject(self, op: str, status: int | None = None, body: Any = None, headers: dict | None = None, *,
               times: int = 1, reset: bool = False, truncate_at: int | None = None, delay: float = 0.0,
               process: bool = False, content_type: str | None = None) -> None:
        """Make the next ``times`` requests of ``op`` misbehave (queued after earlier injections of that op).

        * ``status`` (+ ``body``: dict/list -> JSON, str -> text/html if it starts with "<" else text/plain,
          bytes; default: the provider's error JSON for that status; ``headers`` sent as given): answer that.
        * ``reset=True``: abort the connection without an answer.
        * ``truncate_at=N`` (ops in ``TRUNCATE_OPS``): "file": the headers (full Content-Length) and N bytes,
          then close; an SSE op: the headers and N events (Vercel's keep-alive comments, fal's status events),
          then close without the result.
        * ``delay=S``: wait S seconds first (then the injected answer, or the normal one).
        * ``process=True`` (with status or reset; not on ``NO_PROCESS_OPS``): really handle the request first
          (a create makes its job, an upload stores its file), then replace the answer -- "the answer was lost".
        """
        if op not in self.OPS:
            raise ValueError(f"op must be one of {self.OPS}")
        if status is None and not reset and truncate_at is None and not delay:
            raise ValueError("give status=, reset=True, truncate_at= or delay=")
        if truncate_at is not None and op not in self.TRUNCATE_OPS:
            raise ValueError(f"truncate_at is for {_quoted(self.TRUNCATE_OPS)}")
        if process and (op in self.NO_PROCESS_OPS or (status is None and not reset)):
            raise ValueError(f"process=True needs status= or reset=True, on any op but {_quoted(self.NO_PROCESS_OPS)}")
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
        """Accepted create requests (those that made, or found, a job), each with its ``request_id``.

        Unlike FakeFal's (all "submit" requests), rejected and dropped ones are left out: count those
        with ``count("submit")``."""
        return [e for e in self.requests() if e["op"] in self.CREATE_OPS and e.get("request_id")]

    def count(self, op: str) -> int:
        return len(self.requests(op))

    def events(self, name: str | None = None) -> list[dict]:
        return [e for e in self.log.snapshot() if "event" in e and (name is None or e["event"] == name)]

    def in_flight(self) -> int:
        """Jobs made and not done yet (queued or running), now."""
        with self._lock:
            now = time.monotonic()
            return sum(1 for job in self.jobs.values() if self._phase(job, now) != DONE)

    def peak_in_flight(self) -> int:
        """The most jobs made and not done yet at one moment, over the fake's life."""
        with self._lock:
            now = time.monotonic()
            for job in self.jobs.values():
                self._phase(job, now)
            # A job done at the moment another is made is not counted with it (-1 sorts first).
            steps = sorted([(j.t_submit, 1) for j in self.jobs.values()]
                           + [(j.t_completed, -1) for j in self.jobs.values() if j.t_completed is not None])
        peak = running = 0
        for _, step in steps:
            running += step
            peak = max(peak, running)
        return peak

    def _over_limit(self) -> bool:
        """True when a new job would exceed ``concurrency_limit``. Call with ``self._lock`` held, in the same
        step as the ``_new_job`` it guards, so that two creates at once cannot both slip under the limit."""
        return self.concurrency_limit is not None and self.in_flight() >= self.concurrency_limit

    def phase_of(self, job_id: str) -> str:
        """"queued", "running" or "done" (whatever the outcome)."""
        with self._lock:
            return self._phase(self.jobs[job_id], time.monotonic())

    def status_of(self, job_id: str) -> str:  # the provider's own word; subclasses
        raise NotImplementedError

    def wait_completed(self, job_id: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.phase_of(job_id) != DONE:
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} not done after {timeout} s")
            time.sleep(0.01)

    # ---------------------------------------------------------------- jobs
    def _new_job(self, job_id: str, body: Any, **kw) -> Job:
        now = time.monotonic()
        with self._lock:
            job = self.JOB(id=job_id, body=body, outcome=self._take_outcome(), t_submit=now,
                           queue_seconds=self.queue_seconds, progress_seconds=self.progress_seconds,
                           t_release=None if self._hold else now, file_id=uuid.uuid4().hex,
                           wall_submit=time.time(), **kw)
            self.jobs[job_id] = job
            self._files[job.file_id] = job_id
        return job

    def _phase(self, job: Job, now: float) -> str:
        """Current phase of ``job``; records the done transition. Call with ``self._lock`` held."""
        if job.t_completed is not None:
            return DONE
        if job.t_release is None:
            return QUEUED
        elapsed = now - job.t_release
        if elapsed < job.queue_seconds:
            return QUEUED
        if elapsed < job.queue_seconds + job.progress_seconds:
            return RUNNING
        self._complete(job, job.t_release + job.queue_seconds + job.progress_seconds)
        return DONE

    def _complete(self, job: Job, t: float) -> None:
        job.t_completed = t
        self.log.append({"event": "completed", "request_id": job.id, "t": t})

    def _wall(self, t_mono: float) -> float:
        return t_mono + (time.time() - time.monotonic())

    def _take_outcome(self) -> dict | None:
        outcome, self.next_outcome = self.next_outcome, "ok"
        if outcome in (None, "ok", ("ok",)):
            return None
        if isinstance(outcome, (tuple, list)) and len(outcome) == 2 and outcome[0] == "error":
            spec = dict(outcome[1] or {})
            spec.setdefault("message", spec.get("error") or "Internal error")
            return spec
        raise ValueError(f"bad next_outcome {outcome!r}: use 'ok' or ('error', {{...}})")

    def _video_duration(self, requested: str | int | float | None) -> str:
        return f"{float(requested or 5):.1f}"

    # ---------------------------------------------------------------- HTTP plumbing
    def _route(self, method: str, path: str):
        wrong_method = False
        for op, methods, rx in self.ROUTES:
            m = rx.match(path)
            if m:
                if method in methods:
                    parts = m.groupdict().items()
                    return op, {k: unquote(v) if self.ROUTE_RAW_PATH else v for k, v in parts if v is not None}, False
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

    async def _offload(self, fn, *args, **kwargs):
        """Run ``fn`` (media decoding) off the event loop, so SSE streams and delays keep their timing."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    @staticmethod
    def _json(status: int, obj: Any, headers: dict | None = None) -> web.Response:
        return web.Response(status=status, body=json.dumps(obj).encode(), content_type="application/json",
                            headers=headers)

    def _error_body(self, status: int, message: str, path: str = "") -> Any:
        """The provider's error JSON (default body of injected statuses, 404s, ...)."""
        return {"message": message}

    def _too_large(self, request: web.Request, size: int) -> web.Response:
        """The service's answer to a body over ``body_max_bytes`` (its error JSON, unless it documents another)."""
        return self._json(413, self._error_body(413, f"Request Entity Too Large: the body is {size} bytes, at most "
                                                     f"{self.body_max_bytes}", request.path))

    def _route_not_found(self, method: str, path: str, wrong_method: bool) -> web.Response:
        status = 405 if wrong_method else 404
        return self._json(status, self._error_body(status, "Method Not Allowed" if wrong_method else "Not Found",
                                                   path))

    def _injected_response(self, inj: Injection, path: str) -> web.Response:
        body, ctype = inj.body, inj.content_type
        if body is None:
            try:
                reason = HTTPStatus(inj.status).phrase
            except ValueError:
                reason = "Error"
            body = self._error_body(inj.status, reason, path)
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
        op, params, wrong_method = self._route(request.method, request.rel_url.raw_path if self.ROUTE_RAW_PATH
                                                                else request.path)
        parsed = None
        if raw and op not in self.BINARY_OPS:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        entry = {"t": time.monotonic(), "method": request.method, "path": request.path,
                 "query": dict(request.query), "headers": {k.lower(): v for k, v in request.headers.items()},
                 "json": parsed, "size": len(raw), "op": op or "unknown", "http_status": None, "injected": None}
        self.log.append(entry)
        if op is None:
            resp = self._route_not_found(request.method, request.path, wrong_method)
            entry["http_status"] = resp.status
            return resp
        if (self.body_max_bytes is not None and len(raw) > self.body_max_bytes
                and (self.BODY_LIMIT_OPS is None or op in self.BODY_LIMIT_OPS)):
            entry["http_status"], entry["too_large"] = 413, True
            return self._too_large(request, len(raw))

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
                    return self._injected_response(inj, request.path)
        handler = getattr(self, "_h_" + op)
        try:
            resp = await handler(request, params, raw, entry, inj)
        except Reset as exc:
            return self._drop(request, exc.graceful)
        if inj is not None and inj.process:
            if inj.reset:
                return self._drop(request)
            entry["http_status"] = inj.status
            return self._injected_response(inj, request.path)
        if entry["http_status"] is None:
            entry["http_status"] = resp.status
        return resp

    # ---------------------------------------------------------------- files
    async def _h_file(self, request, params, raw, entry, inj) -> web.StreamResponse:
        with self._lock:
            job = self.jobs.get(self._files.get(params["fid"], ""))
            done = job is not None and self._phase(job, time.monotonic()) == DONE and job.ok
        if not done or params["name"] != "output.mp4":
            return self._json(404, self._error_body(404, "Not Found", request.path))
        return await self._serve(request, self.video_bytes, "video/mp4", entry, inj)

    async def _serve(self, request: web.Request, data: bytes, ctype: str, entry: dict,
                     inj: Injection | None) -> web.StreamResponse:
        """A file, with single-range support (RFC 9110) and the "file" injections."""
        size = len(data)
        headers = {"Content-Type": ctype, "Accept-Ranges": "bytes"}
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
            raise Reset(graceful=True)
        await resp.write(payload)
        await resp.write_eof()
        return resp


def _quoted(names) -> str:
    """'a', 'a' and 'b', 'a', 'b' and 'c'."""
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


FILE_ROUTE = ("file", ("GET", "HEAD"), re.compile(r"^/files/(?P<fid>[^/]+)/(?P<name>[^/]+)$"))
