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
