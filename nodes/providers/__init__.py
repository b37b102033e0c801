"""One module per provider; each maps catalog requests onto that provider's wire protocol.

`auto` picks the first provider in ORDER that serves the variant and whose credentials are set: fal first
(the pack's reference provider: every variant, SSE status, cancel), then Kling's own API (the source, with
external_task_id for crash recovery), then the resellers.
"""
from __future__ import annotations

import importlib

ORDER = ("fal", "kling", "aimlapi", "vercel")


def get(name: str):
    if name not in ORDER:
        raise KeyError(f"unknown provider {name!r}; known: {', '.join(ORDER)}")
    return importlib.import_module(f".{name}", __name__)


def has_credentials(name: str) -> bool:
    from ..core.errors import MissingCredentials
    try:
        get(name).credentials()
        return True
    except MissingCredentials:
        return False


def choose(variant, requested: str = "auto") -> str:
    """The provider to use: the one asked for, or with `auto` the first in ORDER that serves the variant and
    has credentials set."""
    from ..core import keys
    from ..core.errors import InputError, MissingCredentials
    if requested and requested != "auto":
        if requested not in variant.providers:
            raise InputError("provider", f"{requested!r} does not serve {variant.display_name}; "
                                         f"choose one of: auto, {', '.join(variant.providers)}")
        return requested
    for name in ORDER:
        if name in variant.providers and has_credentials(name):
            return name
    wanted = "; ".join(f"{' + '.join(get(n).ENV)} for {get(n).TITLE}" for n in ORDER if n in variant.providers)
    raise MissingCredentials(f"No key is set for any provider of {variant.display_name}: set {wanted} "
                             f"(then restart ComfyUI), or {keys.DIALOG}. {get('fal').KEY_HELP}")
