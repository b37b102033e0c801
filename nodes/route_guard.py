"""Cross-origin refusal for the pack's HTTP routes (keys, jobs).

ComfyUI's own origin check covers only a server bound to a loopback address (and is off with
--enable-cors-header); started with --listen on a LAN address, any web page the user visits could POST to
the pack's routes (collect a paid job, store a key). A browser names the page's origin in `Origin` on such
a request and, in current browsers, its relation in `Sec-Fetch-Site`: a request whose Origin is not the
`Host` it was sent to, or that says it is cross-site, is refused. Requests with neither header (scripts,
curl) pass: they are not a web page acting on the user's behalf, and no route ever answers with a key.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from aiohttp import web

log = logging.getLogger("kling_video")

ALLOWED_FETCH_SITES = ("same-origin", "none")  # "none": the user typed the URL


def same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    host = request.headers.get("Host", "").strip().lower()
    parts = urlsplit(origin.strip())
    # "Origin: null" (sandboxed frames, file:// pages) has no host and never matches.
    return bool(parts.hostname) and bool(host) and parts.netloc.lower() == host


def refusal(request: web.Request) -> str:
    """Why this request may not use the pack's routes ("" when it may)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site.lower() not in ALLOWED_FETCH_SITES:
        return f"Sec-Fetch-Site is {site}"
    if not same_origin(request):
        return "the Origin is not this server"
    return ""


def guarded(handler):
    """The handler, answering 403 to a cross-origin request instead of running."""

    async def guarded_handler(request: web.Request) -> web.StreamResponse:
        why = refusal(request)
        if why:
            log.warning("kling-video: refused %s %s from another site (%s)", request.method, request.path, why)
            return web.json_response({"error": f"cross-origin request refused: {why}"}, status=403)
        return await handler(request)

    return guarded_handler
