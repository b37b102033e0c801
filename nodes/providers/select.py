"""Which provider serves a request: the one asked for, or with `auto` the first in registry.ORDER that serves
the variant and has its key set; and the module that speaks to it."""
from __future__ import annotations

import importlib

from ..core.errors import InputError, MissingCredentials
from .registry import DIALOG, ORDER, info


def get(name: str):
    """The provider's module (contract.py says what it provides)."""
    info(name)  # an unknown name says which are known
    return importlib.import_module(f"{__package__}.{name}")


def has_credentials(name: str) -> bool:
    try:
        get(name).credentials()
        return True
    except MissingCredentials:
        return False


def choose(variant, requested: str = "auto") -> str:
    """The provider to use: the one asked for, or with `auto` the first in ORDER that serves the variant and
    has credentials set."""
    if requested and requested != "auto":
        if requested not in variant.providers:
            raise InputError("provider", f"{requested!r} does not serve {variant.display_name}; "
                                         f"choose one of: auto, {', '.join(variant.providers)}")
        return requested
    for name in ORDER:
        if name in variant.providers and has_credentials(name):
            return name
    wanted = "; ".join(f"{' + '.join(info(n).env)} for {info(n).title}" for n in ORDER if n in variant.providers)
    raise MissingCredentials(f"No key is set for any provider of {variant.display_name}: set {wanted} "
                             f"(then restart ComfyUI), or {DIALOG}. {info('fal').key_help}")
