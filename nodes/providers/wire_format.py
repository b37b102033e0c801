"""Helpers for writing a provider's JSON from a prepared body and reading its answers (no I/O)."""
from __future__ import annotations

from typing import Any, Callable, Optional

from ..media_in.media import Media


def walk_media(value: Any, convert: Callable[[Media], Any]) -> Any:
    """The body with every Media replaced by convert(media)."""
    if isinstance(value, Media):
        return convert(value)
    if isinstance(value, dict):
        return {k: walk_media(v, convert) for k, v in value.items()}
    if isinstance(value, list):
        return [walk_media(v, convert) for v in value]
    return value


def url_or(encode: Callable[[Media], Any]) -> Callable[[Media], Any]:
    """A converter for a field that takes URLs: a file with a known provider URL (Media.url: the pack
    downloaded it from there and it is unchanged) is sent as that URL, any other as `encode` makes it."""
    return lambda media: media.url or encode(media)


def split_mode(model: str) -> tuple[str, str]:
    """A catalog offer writes "<model id>/<mode>" where the provider sets Kling's std|pro mode apart from the
    model id (Kling's own API, Vercel's providerOptions, AI/ML API's motion control): (id, mode or "")."""
    head, sep, tail = model.rpartition("/")
    return (head, tail) if sep and tail in ("std", "pro") else (model, "")


def url_at(value: Any, *paths: tuple) -> Optional[str]:
    """The first non-empty string along one of `paths` (keys and list indexes) in an answer."""
    for path in paths:
        node = value
        for step in path:
            if isinstance(node, dict):
                node = node.get(step)
            elif isinstance(node, list) and isinstance(step, int) and -len(node) <= step < len(node):
                node = node[step]
            else:
                node = None
                break
        if isinstance(node, str) and node:
            return node
    return None
