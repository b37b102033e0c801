"""The pack's HTTP routes served by a plain aiohttp app on 127.0.0.1 (no ComfyUI): for route tests."""
import contextlib

from aiohttp import web


@contextlib.asynccontextmanager
async def served(*registrars):
    """`async with served(keys_routes.register, ...) as url:` each registrar adds its routes to one table."""
    routes = web.RouteTableDef()
    for register in registrars:
        register(routes)
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    finally:
        await runner.cleanup()
