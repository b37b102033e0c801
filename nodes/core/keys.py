"""Provider keys: from the environment, else from the pack's own keys file.

The file is <home>/keys.json (settings.home(): in ComfyUI its user directory's kling-video/, which none of
ComfyUI's routes serve), mode 0600 from its creation, replaced atomically. Keys are never ComfyUI settings
(GET /settings hands those to any client) nor widget values (saved in workflows and PNG metadata).

The environment always wins, so a key exported before starting ComfyUI cannot be overridden from the
browser. The file is read at each use (cached by its stat), so a stored or forgotten key takes effect
without a restart, in ComfyUI and in the CLI (which shares the file when KLING_VIDEO_HOME points at it).
"""
from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from ..providers import registry
from ..providers.registry import DIALOG, ENV_PAIRS  # noqa: F401 (DIALOG: every missing-key message names it)
from .errors import KlingError, add_secret_source
from . import settings
from .files import atomic_write

log = logging.getLogger("kling_video")

FILE_NAME = "keys.json"
# Field labels for the dialog (after the provider's title: "fal.ai key", "Kling secret key").
LABELS = {"KLINGAI_ACCESS_KEY": "access key", "KLINGAI_SECRET_KEY": "secret key"}
MAX_LENGTH = 4096
HINT_MIN_LENGTH = 12  # below this, four characters would give away too much of the key


class BadKey(KlingError, ValueError):
    """A key that cannot be sent (it travels in an HTTP header): names the variable, never shows the key."""


_lock = threading.Lock()
_cache: dict = {"stat": None, "values": {}}


def path() -> Path:
    return settings.home() / FILE_NAME


def providers() -> list[tuple[str, str, tuple[str, ...]]]:
    """(name, title, variables) per provider, in `auto` order; the provider modules are the source."""
    return [(p.name, p.title, p.env) for p in registry.PROVIDERS]


def known() -> tuple[str, ...]:
    return tuple(var for _, _, variables in providers() for var in variables)


def _check(var: str) -> None:
    if var not in known():
        # Not echoed: a key pasted into the wrong field must not come back in an error.
        raise ValueError(f"not a key this pack stores; known: {', '.join(known())}")


def from_env(var: str) -> str:
    value = os.environ.get(var, "").strip()
    if not value and var in ENV_PAIRS:
        first, second = (os.environ.get(v, "").strip() for v in ENV_PAIRS[var])
        if first and second:
            value = f"{first}:{second}"
    return value


def _stored() -> dict[str, str]:
    target = path()
    try:
        st = target.stat()
    except OSError:
        return {}
    stamp = (str(target), st.st_ino, st.st_mtime_ns, st.st_size)
    if _cache["stat"] == stamp:
        return _cache["values"]
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not an object")
        values = {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str) and v}
    except (OSError, ValueError) as exc:
        # The content is never logged: it is keys.
        log.warning("kling-video: ignoring unreadable keys file %s (%s)", target, type(exc).__name__)
        values = {}
    _cache.update(stat=stamp, values=values)
    return values


def stored_items() -> list[tuple[str, str]]:
    """Every stored (variable, key), for the scrubber."""
    return list(_stored().items())


add_secret_source(stored_items)

def secret(var: str) -> str:
    """The key for `var`: the environment's, else the stored one, else "". Every provider reads its keys
    here, so a key that cannot travel in a header is refused before any request, naming where it came from."""
    _check(var)
    value = from_env(var)
    if value:
        names = " + ".join(ENV_PAIRS[var]) if var in ENV_PAIRS and not os.environ.get(var, "").strip() else var
        source, fix = f"{names} in the environment", "set it again"
    else:
        value = _stored().get(var, "")
        source, fix = f"the {var} stored in {path()}", f"store it again {DIALOG.removeprefix('store it ')}"
    flaw = _flaw(value)
    if flaw:
        raise BadKey(f"{source} contains {flaw}, but a key is one line of printable characters without spaces; "
                     f"{fix} (the key is not shown here)")
    return value


def _flaw(value: str) -> str:
    """What keeps `value` out of an HTTP header ("" when nothing does); aiohttp would raise on the header
    only when the request is sent, with a traceback."""
    if "\n" in value or "\r" in value:
        return "a line break"
    if any(ch.isspace() for ch in value):
        return "a space"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "a control character"
    if len(value) > MAX_LENGTH:
        return f"more than {MAX_LENGTH} characters"
    return ""


def hint(value: str) -> str:
    return f"…{value[-4:]}" if len(value) >= HINT_MIN_LENGTH else ""


def _var_status(var: str) -> dict:
    stored = _stored().get(var, "")
    if from_env(var):
        # A stored key is kept but unused while the environment has one: say so rather than hide it.
        return {"var": var, "label": LABELS.get(var, "key"), "source": "environment", "hint": "",
                "shadowed": bool(stored)}
    return {"var": var, "label": LABELS.get(var, "key"), "source": "stored" if stored else "missing",
            "hint": hint(stored), "shadowed": False}


def status() -> dict:
    """Where each provider's keys come from; never a key, at most its last four characters."""
    out = []
    for name, title, variables in providers():
        rows = [_var_status(var) for var in variables]
        sources = {row["source"] for row in rows}
        if "missing" in sources:
            source = "missing"
        elif sources == {"environment"}:
            source = "environment"
        else:
            source = "stored"
        out.append({"name": name, "title": title, "source": source, "vars": rows})
    return {"providers": out, "file": str(path())}


def validate(value) -> str:
    if not isinstance(value, str):
        raise ValueError("the key must be a string")
    value = value.strip()
    if not value:
        raise ValueError("the key is empty")
    if len(value) > MAX_LENGTH:
        raise ValueError(f"the key is longer than {MAX_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        # It travels in an HTTP header: a line break there would be header injection.
        raise ValueError("the key contains spaces or control characters")
    return value


def _write(values: dict[str, str]) -> None:
    target = path()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkstemp (inside _atomic_write) creates the file 0600, so the key is never readable by others, not
    # even between creation and rename.
    atomic_write(target, json.dumps(values, indent=1, sort_keys=True))


def store(var: str, value: str) -> None:
    _check(var)
    value = validate(value)
    with _lock:
        values = dict(_stored())
        values[var] = value
        _write(values)


def forget(var: str) -> None:
    _check(var)
    with _lock:
        values = dict(_stored())
        if values.pop(var, None) is None:
            return
        if values:
            _write(values)
        else:
            path().unlink(missing_ok=True)
