"""A provider's key and address: read from the environment or the key store, and the one message for a key the
provider refused."""
from __future__ import annotations

import os

from ..core import http, keys
from ..core.errors import MissingCredentials, ProviderError
from .registry import DIALOG, info


def env_credential(provider: str, var: str) -> str:
    """The key from the environment, else the one stored from ComfyUI's settings (core/keys.py)."""
    value = keys.secret(var)
    if not value:
        p = info(provider)
        raise MissingCredentials(f"No {p.title} key: {var} is not set and none is stored. {p.key_help} "
                                 f"Or {DIALOG}.")
    return value


def env_base_url(var: str, default: str) -> str:
    """A provider's base URL, overridable for proxies and tests; https only (keys travel with it)."""
    url = os.environ.get(var, "").strip().rstrip("/") or default
    if not url.startswith("https://"):
        raise MissingCredentials(f"{var} must be an https URL, got {url!r}")
    return url


def key_rejected(provider: str, status: int, detail: str = "") -> ProviderError:
    """The error for an answer refusing the key: which provider, and where to get a key that works."""
    p = info(provider)
    return ProviderError(f"{p.title} rejected the key (HTTP {status}){': ' + detail if detail else ''}. "
                         f"{p.key_help}", status=status)


async def send(session, provider: str, method: str, url: str, *, rejected: tuple[int, ...] = (401,),
               **kw) -> http.Answer:
    """http.send (its retry policy included), where an answer with a status in `rejected` says the key was
    refused."""
    try:
        return await http.send(session, method, url, **kw)
    except ProviderError as exc:
        if exc.status in rejected:
            raise key_rejected(provider, exc.status, str(exc)) from None
        raise
