"""HTTP routes of the jobs sidebar (web/kling_jobs.js):

GET  /kling_video/jobs                 → {jobs, spend_today_usd, cap_usd}
POST /kling_video/jobs/{hash}/collect  → {file, url}: the paid result saved under output/kling-video/
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import urlencode

from aiohttp import web

from ..jobs import panel as jobs_panel
from ..core.errors import KlingError, MissingCredentials, ProviderError
from .route_guard import guarded

log = logging.getLogger("kling_video")


def _comfy_output_dir() -> Path:
    import folder_paths  # ComfyUI's; only the running server calls this
    return Path(folder_paths.get_output_directory())


def view_url(path: Optional[str], output_dir: Path) -> Optional[str]:
    """ComfyUI's /view address of a file in output/kling-video/, else None."""
    if not path or Path(path).resolve().parent != (output_dir / jobs_panel.OUTPUT_SUBFOLDER).resolve():
        return None
    return "/view?" + urlencode({"filename": Path(path).name, "subfolder": jobs_panel.OUTPUT_SUBFOLDER,
                                 "type": "output"})


def register(routes: web.RouteTableDef, output_dir: Callable[[], Path] = _comfy_output_dir) -> None:
    async def jobs(request: web.Request) -> web.Response:
        out = output_dir()
        listed = await asyncio.to_thread(jobs_panel.list_jobs)
        for entry in listed:
            entry["url"] = view_url(entry["path"], out) if entry["file_exists"] else None
        return web.json_response({"jobs": listed, "spend_today_usd": await asyncio.to_thread(jobs_panel.spend_today),
                                  "cap_usd": jobs_panel.cap_usd()})

    async def collect(request: web.Request) -> web.Response:
        out = output_dir()
        try:
            path = await jobs_panel.collect(request.match_info["hash"], out)
        except jobs_panel.CollectRefused as exc:
            return web.json_response({"error": str(exc)}, status=exc.status)
        except MissingCredentials as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except ProviderError as exc:
            return web.json_response({"error": str(exc)}, status=502)
        except KlingError as exc:
            return web.json_response({"error": str(exc)}, status=409)
        log.info("kling-video: jobs panel collected %s", path)
        return web.json_response({"file": path.name if path else None, "url": view_url(str(path) if path else None, out)})

    routes.get("/kling_video/jobs")(guarded(jobs))
    routes.post("/kling_video/jobs/{hash}/collect")(guarded(collect))
