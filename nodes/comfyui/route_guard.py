"""Refusal of other web pages on the pack's HTTP routes (keys, jobs).

ComfyUI's own origin check covers only a server bound to a loopback address (and is off with
--enable-cors-header); started with --listen on a LAN address, any web page the user visits could POST to
the pack's routes (collect a paid job, store a key). Two checks keep them out:

* `Host` must name this server: a loopback name or address, any IP address, the address ComfyUI listens on,
  or a name listed in KLING_VIDEO_ALLOWED_HOSTS. A DNS-rebinding page (evil.example pointed at this machine
  after it loaded) is same-origin with itself, so Origin and Host agree and Sec-Fetch-Site says same-origin;
  only its Host, evil.example, gives it away, and it is sent on every request, GETs included. An IP address
  cannot be rebound (the page would have to be served from it), so every one is allowed: a LAN address
  ComfyUI answers on with --listen 0.0.0.0 is one the pack cannot list in advance.
* A browser names the calling page in `Origin` (and its relation in `Sec-Fetch-Site`): the Origin must be
  the Host itself, or a name in KLING_VIDEO_ALLOWED_HOSTS (a reverse proxy that rewrites Host to
  127.0.0.1:8188 leaves the page's own https://comfy.example.com as the Origin). Cross-site is refused.

Requests with neither Origin nor Sec-Fetch-Site (scripts, curl) pass once the Host is allowed: they are not a
web page acting on the user's behalf, and no route ever answers with a key.
"""
from __future__ import annotations

import ipaddress
import logging
import socket
import sys
from typing import Optional
from urllib.parse import urlsplit

from aiohttp import web

from ..core import settings

log = logging.getLogger("kling_video")

ALLOWED_FETCH_SITES = ("same-origin", "none")  # "none": the user typed the URL
LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


def _split(netloc: str) -> Optional[tuple[str, Optional[int]]]:
    """(host name or address, port) of "host[:port]" ("[v6]:port" too); None when it does not parse."""
    try:
        parts = urlsplit("//" + netloc.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    return (host, port) if host and not parts.username and not parts.password and parts.path == "" else None


def listen_hosts() -> tuple[str, ...]:
    """The names or addresses ComfyUI was told to listen on (--listen, comma-separated). Read from ComfyUI's
    parsed arguments only when ComfyUI has loaded them: importing them here would parse this process's argv."""
    cli_args = sys.modules.get("comfy.cli_args")
    listen = getattr(getattr(cli_args, "args", None), "listen", None)
    if not isinstance(listen, str):
        return ()
    return tuple(h.strip().strip("[]").lower() for h in listen.split(",") if h.strip())


def _machine_names() -> tuple[str, ...]:
    # The name a LAN user types to reach this machine (mypc, mypc.local); a remote page cannot rebind it.
    try:
        name = socket.gethostname().lower().rstrip(".")
    except OSError:
        return ()
    return (name, f"{name}.local") if name else ()


def _configured(host: str, port: Optional[int], entries: tuple[str, ...]) -> bool:
    """Whether host[:port] is one of KLING_VIDEO_ALLOWED_HOSTS's entries (an entry without a port: any port)."""
    for entry in entries:
        wanted = _split(entry)
        if wanted and wanted[0] == host and (wanted[1] is None or wanted[1] == port):
            return True
    return False


def host_allowed(netloc: str, configured: tuple[str, ...]) -> bool:
    split = _split(netloc.lower())
    if split is None:
        return False
    host, port = split
    try:
        ipaddress.ip_address(host)
        return True  # an address cannot be rebound: see the module's docstring
    except ValueError:
        pass
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):  # *.localhost is loopback by definition (RFC 6761)
        return True
    return host in listen_hosts() or host in _machine_names() or _configured(host, port, configured)


def refusal(request: web.Request) -> str:
    """Why this request may not use the pack's routes ("" when it may)."""
    try:
        configured = settings.allowed_hosts()
    except settings.SettingsError as exc:
        return str(exc)
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site.lower() not in ALLOWED_FETCH_SITES:
        return f"cross-origin request: Sec-Fetch-Site is {site}"
    host = request.headers.get("Host", "").strip().lower()
    if host and not host_allowed(host, configured):
        return (f"the Host {host[:100]!r} is not a name of this server (a DNS-rebinding page shows so); behind a "
                "reverse proxy, add its name to KLING_VIDEO_ALLOWED_HOSTS")
    origin = request.headers.get("Origin")
    if origin is None:
        return ""
    parts = urlsplit(origin.strip())
    # "Origin: null" (sandboxed frames, file:// pages) has no host and never matches.
    netloc = parts.netloc.lower() if parts.scheme in ("http", "https") else ""
    page = _split(netloc) if netloc else None
    if page and (netloc == host or _configured(page[0], page[1], configured)):
        return ""
    return "cross-origin request: the Origin is not this server (nor in KLING_VIDEO_ALLOWED_HOSTS)"


def guarded(handler):
    """The handler, answering 403 to another page's request instead of running."""

    async def guarded_handler(request: web.Request) -> web.StreamResponse:
        why = refusal(request)
        if why:
            log.warning("kling-video: refused %s %s (%s)", request.method, request.path, why)
            return web.json_response({"error": f"request refused: {why}"}, status=403)
        return await handler(request)

    return guarded_handler
