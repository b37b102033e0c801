"""POST /kling_video/price {node_type, values} → the price of those widget values, for the badge that
web/kling_price.js draws on every Kling node (the catalog stays the one source of prices)."""
from __future__ import annotations

from aiohttp import web

from ..providers import registry, select
from ..catalog import variant as find
from ..core.errors import MissingCredentials
from ..request import quote

PRICE_ROUTE = "/kling_video/price"


def registered(routes) -> bool:
    """Whether this table already has the price route: the sign that the pack's routes are in it."""
    return isinstance(routes, web.RouteTableDef) and any(
        getattr(r, "method", None) == "POST" and getattr(r, "path", None) == PRICE_ROUTE for r in routes)


def register(routes) -> None:
    async def price(request):
        data = await request.json()
        try:
            v = find(str(data.get("node_type", "")))
            values = data.get("values") or {}
            try:
                provider = select.choose(v, values.get("provider", "auto"))
            except MissingCredentials:
                provider = "fal"  # no key yet: show the reference price
            cost = quote(v, values, provider)
            # fal's price is the reference: the badge names the chosen provider when it differs
            reference = cost if provider == "fal" else quote(v, values, "fal")
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        short = f"${cost.usd:.2f}" if cost.usd is not None else "price unknown"
        if v.price.seconds_from and cost.usd is None and v.price.audio_off is not None:
            short = f"${cost.rate or v.price.audio_off:g}/s of {v.price.seconds_from.replace('_', ' ')}"
        return web.json_response({"usd": cost.usd, "text": short, "detail": str(cost), "provider": provider,
                                  "provider_title": registry.title(provider), "reference_usd": reference.usd})

    routes.post(PRICE_ROUTE)(price)
