"""The whole catalog: every fal entry with the other providers that serve it, and the lookup by key, CLI
alias or node id."""
from __future__ import annotations

from . import fal_entries
from .kling_only import KLING_ONLY
from .offers import with_other_providers
from .schema import Variant

CATALOG: tuple[Variant, ...] = tuple(with_other_providers(v) for v in fal_entries.CATALOG)


def variant(key: str) -> Variant:
    for v in CATALOG + KLING_ONLY:
        if key == v.key or key in v.aliases or key == v.node_id:
            return v
    raise KeyError(f"unknown Kling variant {key!r}; known: {', '.join(v.key for v in CATALOG)}")
