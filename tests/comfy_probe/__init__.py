"""A test-only ComfyUI custom node that tests/test_comfyui.py links beside the pack: it answers, from inside the
running server, how many times a route is in ComfyUI's route table, and calls the pack's extension hooks again
in a given order (as a host other than this one would), so a test sees whether the pack registers its routes once.
"""
import sys

from aiohttp import web
from server import PromptServer

NODE_CLASS_MAPPINGS = {}


def _count(method: str, path: str) -> dict:
    server = PromptServer.instance
    table = sum(1 for r in server.routes if getattr(r, "method", None) == method and getattr(r, "path", None) == path)
    app = sum(1 for r in server.app.router.routes()
              if r.method == method and r.resource is not None and r.resource.canonical == path)
    return {"table": table, "app": app}


def _extension_class():
    for name, module in list(sys.modules.items()):
        if name.endswith("nodes.comfyui.nodes") and hasattr(module, "KlingVideoExtension"):
            return module.KlingVideoExtension
    raise LookupError("the pack's nodes.comfyui.nodes module is not loaded")


@PromptServer.instance.routes.get("/kling_test/route_count")
async def route_count(request):
    return web.json_response(_count(request.query["method"], request.query["path"]))


@PromptServer.instance.routes.post("/kling_test/call_hooks")
async def call_hooks(request):
    body = await request.json()
    extension = _extension_class()()  # a new instance: the once-only guard may not live in one object
    for hook in body["order"]:
        await getattr(extension, hook)()
    return web.json_response(_count(body["method"], body["path"]))
