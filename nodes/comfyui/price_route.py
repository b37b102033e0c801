"""POST /kling_video/price {node_type, values} → the price of those widget values, for the badge that
web/kling_price.js draws on every Kling node (the catalog, or fal's live price, stays the one source of prices:
request/pricing.price_of, which the spend cap reads too).

Each call also starts fal's daily price refresh in the background when one is due (providers/fal_pricing.py);
the answer never waits for it."""
from __future__ import annotations

from aiohttp import web

from ..catalog import fal_prices
from ..catalog import variant as find
from ..core.errors import MissingCredentials
from ..providers import fal_pricing, registry, select
from ..request import quote
from ..request.pricing import price_of

PRICE_ROUTE = "/kling_video/price"


def registered(routes) -> bool:
    """Whether this table already has the price route: the sign that the pack's routes are in it."""
    return isinstance(routes, web.RouteTableDef) and any(
        getattr(r, "method", None) == "POST" and getattr(r, "path", None) == PRICE_ROUTE for r in routes)


def provenance(v, provider: str, cost) -> dict:
    """Which price the badge shows, for its tooltip: fal's live price (and when it was fetched), or the
    catalog's list price (its source, and for fal why no live price stands)."""
    if cost.price_as_of:
        when = fal_prices.parse_time(cost.price_as_of)
        age = (fal_prices.now() - when).total_seconds() if when else None
        return {"price_origin": "live", "price_source": cost.price_source, "price_as_of": cost.price_as_of,
                "price_age_seconds": None if age is None else max(0, round(age))}
    note = fal_prices.why_not_live(v.endpoint) if provider == "fal" else ""
    return {"price_origin": "catalog", "price_source": cost.price_source, "price_as_of": None,
            "price_age_seconds": None, "price_note": note}


def register(routes) -> None:
    async def price(request):
        data = await request.json()
        fal_pricing.refresh_in_background()
        try:
            v = find(str(data.get("node_type", "")))
            values = data.get("values") or {}
            try:
                provider = select.choose(v, values.get("provider", "auto"))
            except MissingCredentials:
                provider = v.providers[0]  # no key yet: show the reference price (fal's, where fal serves it)
            cost = quote(v, values, provider)
            # fal's price is the reference: the badge names the chosen provider when it differs (a Kling-only
            # node, Extend, has no reference)
            reference = cost if provider == v.providers[0] else quote(v, values, v.providers[0])
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        short = f"${cost.usd:.2f}" if cost.usd is not None else "price unknown"
        shown = price_of(v, provider)
        if shown.seconds_from and cost.usd is None and shown.audio_off is not None:
            short = f"${cost.rate or shown.audio_off:g}/s of {shown.seconds_from.replace('_', ' ')}"
        return web.json_response({"usd": cost.usd, "text": short, "detail": str(cost), "provider": provider,
                                  "provider_title": registry.title(provider), "reference_usd": reference.usd,
                                  **provenance(v, provider, cost)})

    routes.post(PRICE_ROUTE)(price)
