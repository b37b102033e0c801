"""HTTP routes behind the "API keys" dialog (web/kling_keys.js):

    GET    /kling_video/keys          → keys.status() (sources and at most the last four characters)
    POST   /kling_video/keys          {var, value} → store; answers the new status, never the value
    DELETE /kling_video/keys/{var}    → forget (also POST /kling_video/keys/forget {var})

Only the page ComfyUI itself served may call them (route_guard.py).
"""
from __future__ import annotations

from aiohttp import web

from ..core import keys
from .route_guard import guarded as guard


def register(routes) -> None:
    """Add the routes to an aiohttp RouteTableDef (ComfyUI's PromptServer.instance.routes)."""

    async def _body(request: web.Request) -> dict:
        if request.content_type != "application/json":
            # HTML forms cannot send JSON: one more thing a cross-site page cannot forge.
            raise web.HTTPUnsupportedMediaType(text="send application/json")
        try:
            data = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="the body is not JSON") from None
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text="the body is not a JSON object")
        return data

    def _answer(action):
        try:
            action()
        except ValueError as exc:
            # keys' messages say what is wrong, never echoing what was sent.
            return web.json_response({"error": str(exc)}, status=400)
        except OSError as exc:
            return web.json_response({"error": f"could not write the keys file: {exc.strerror}"}, status=500)
        return web.json_response(keys.status())

    @routes.get("/kling_video/keys")
    @guard
    async def get_status(request):
        return web.json_response(keys.status())

    @routes.post("/kling_video/keys")
    @guard
    async def store(request):
        data = await _body(request)
        return _answer(lambda: keys.store(str(data.get("var", "")), data.get("value")))

    @routes.post("/kling_video/keys/forget")
    @guard
    async def forget_post(request):
        data = await _body(request)
        return _answer(lambda: keys.forget(str(data.get("var", ""))))

    @routes.delete("/kling_video/keys/{var}")
    @guard
    async def forget_delete(request):
        return _answer(lambda: keys.forget(request.match_info["var"]))
