"""Node inputs → checked provider request body and its price, from a catalog entry.

Everything here runs before any request is sent: an input that breaks a rule raises InputError naming
the input and the rule, and no money moves. Media become `Media` values in the body; the job turns them
into data URIs or uploads when it sends the request.

    field_checks.py     one input against its field: text, numbers, enums, voice ids, shots, camera
    media_checks.py     images, masks, videos, audio, elements, dynamic masks → Media
    provider_checks.py  what the chosen provider can take
    body.py             prepare(): all of the above in order → PreparedRequest
    prepared.py         PreparedRequest, the type the jobs and providers receive
    pricing.py          Cost, estimate_cost(), quote()
"""
from __future__ import annotations

from .field_checks import CAMERA_MOVES, parse_points, split_list
from .prepared import PreparedRequest
from .pricing import UNPUBLISHED, Cost, estimate_cost, quote

__all__ = ["prepare", "quote", "estimate_cost", "PreparedRequest", "Cost", "UNPUBLISHED", "CAMERA_MOVES",
           "parse_points", "split_list"]


def __getattr__(name: str):
    # prepare() encodes media through numpy and PIL; loading it on first use keeps the request types
    # (PreparedRequest, Cost) importable by the provider modules without them.
    if name == "prepare":
        from .body import prepare
        return prepare
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
