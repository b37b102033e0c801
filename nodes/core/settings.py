"""Every KLING_VIDEO_* setting, read and checked in one place.

Each reader returns the value in the unit the code uses, or raises SettingsError naming the variable and the
rule. `check_all()` reads every one of them: the CLI and the job runner call it before any request, so a typo
in a setting is heard before money moves, never as a half-run job (a negative timeout once cancelled a job it
had just paid for).
"""
from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Callable, Optional

from .errors import KlingError

log = logging.getLogger("kling_video")

MB = 1_000_000   # decimal megabytes: providers state their limits so
MiB = 1024 * 1024


class SettingsError(KlingError):
    """A KLING_VIDEO_* variable breaks its rule; raised before anything is sent."""

    def __init__(self, var: str, rule: str, value: str = ""):
        self.var = var
        shown = f"={value!r}" if value and len(value) <= 200 else ""
        super().__init__(f"{var}{shown}: {rule}")


def _raw(var: str) -> str:
    return os.environ.get(var, "").strip()


def _number(var: str, default: Optional[float], *, unit: str, allow_zero: bool = False) -> Optional[float]:
    raw = _raw(var)
    if not raw:
        return default
    rule = f"must be a number of {unit}, " + ("0 or more" if allow_zero else "greater than 0")
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(var, rule, raw) from None
    # nan and inf parse as floats, and "inf" would switch a limit off without saying so
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise SettingsError(var, rule, raw)
    return value


# -- the settings -----------------------------------------------------------------------------------

def home() -> Path:
    """KLING_VIDEO_HOME: the journal, spend log, keys and outputs; else ComfyUI's user folder, else
    ~/.kling-video."""
    raw = _raw("KLING_VIDEO_HOME")
    if raw:
        path = Path(raw).expanduser()
        if path.exists() and not path.is_dir():
            raise SettingsError("KLING_VIDEO_HOME", f"must be a folder the pack can create and write to; {path} "
                                                    "is a file", raw)
        return path
    return _host_home or Path.home() / ".kling-video"


# Set by the ComfyUI adapter (comfy_nodes.py) to <ComfyUI user dir>/kling-video: only the adapter asks ComfyUI
# where that is, so this module behaves the same in the CLI, in tests and inside ComfyUI.
_host_home: Optional[Path] = None


def use_host_home(path: Path) -> None:
    global _host_home
    _host_home = Path(path)


def queue_timeout() -> float:
    """KLING_VIDEO_QUEUE_TIMEOUT, seconds a job may wait in the provider's queue (an empty balance shows so)."""
    return _number("KLING_VIDEO_QUEUE_TIMEOUT", 600.0, unit="seconds")


def timeout() -> float:
    """KLING_VIDEO_TIMEOUT, the overall deadline of one job in seconds."""
    return _number("KLING_VIDEO_TIMEOUT", 1800.0, unit="seconds")


def max_download_bytes() -> int:
    """KLING_VIDEO_MAX_DOWNLOAD_MB (MiB), the largest result the pack downloads."""
    return int(_number("KLING_VIDEO_MAX_DOWNLOAD_MB", 2048.0, unit="megabytes") * MiB)


def inline_max_override() -> Optional[int]:
    """KLING_VIDEO_INLINE_MAX_MB (decimal MB): files up to this go inline as data URIs, larger ones through
    the provider's upload. None when unset: each provider's own threshold applies."""
    value = _number("KLING_VIDEO_INLINE_MAX_MB", None, allow_zero=True, unit="megabytes")
    return None if value is None else int(value * MB)


def max_usd() -> Optional[float]:
    """KLING_VIDEO_MAX_USD, the spend cap per UTC day in dollars; None when unset."""
    return _number("KLING_VIDEO_MAX_USD", None, allow_zero=True, unit="dollars")


def max_decode_bytes() -> Optional[int]:
    """KLING_VIDEO_MAX_DECODE_BYTES: the largest frames tensor decoded; None when unset."""
    value = _number("KLING_VIDEO_MAX_DECODE_BYTES", None, unit="bytes")
    return None if value is None else int(value)


def allowed_hosts() -> tuple[str, ...]:
    """KLING_VIDEO_ALLOWED_HOSTS: extra Host names (a reverse proxy's) the pack's routes answer, comma-separated."""
    raw = _raw("KLING_VIDEO_ALLOWED_HOSTS")
    hosts = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    for h in hosts:
        if any(c.isspace() or c in "/@" for c in h):
            raise SettingsError("KLING_VIDEO_ALLOWED_HOSTS", f"{h!r} is not a host name (host or host:port, "
                                "comma-separated)", raw)
    return hosts


def writable_home() -> Path:
    """home(), and that the pack can make and write it; checked without creating anything (a dry run must
    leave no trace). A path under a file, or under a folder nobody may write to, is heard here rather than
    as a traceback from the first journal write, after the submit."""
    path = home()
    raw = _raw("KLING_VIDEO_HOME")
    existing = path
    # exists() is False for a path under a file too: walk up to what is really there.
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        problem = f"{existing} is a file"
    elif not os.access(existing, os.W_OK | os.X_OK):
        problem = f"{existing} is not writable"
    else:
        return path
    if raw:
        raise SettingsError("KLING_VIDEO_HOME", f"must be a folder the pack can create and write to; {problem}", raw)
    raise SettingsError("KLING_VIDEO_HOME", f"is unset, so the pack keeps its journal in {path}, but {problem}; "
                                            "set KLING_VIDEO_HOME to a folder you can write to")


READERS: dict[str, Callable[[], object]] = {
    "KLING_VIDEO_HOME": writable_home,
    "KLING_VIDEO_QUEUE_TIMEOUT": queue_timeout,
    "KLING_VIDEO_TIMEOUT": timeout,
    "KLING_VIDEO_MAX_DOWNLOAD_MB": max_download_bytes,
    "KLING_VIDEO_INLINE_MAX_MB": inline_max_override,
    "KLING_VIDEO_MAX_USD": max_usd,
    "KLING_VIDEO_MAX_DECODE_BYTES": max_decode_bytes,
    "KLING_VIDEO_ALLOWED_HOSTS": allowed_hosts,
}

_warned: set[str] = set()


def unknown() -> list[str]:
    """KLING_VIDEO_* names in the environment that are no setting: most likely a typo (KLING_VIDEO_MAXUSD
    would leave the spend cap off)."""
    return sorted(n for n in os.environ if n.startswith("KLING_VIDEO_") and n not in READERS)


def check_all() -> None:
    """Read every setting; the first bad one raises SettingsError. An unknown KLING_VIDEO_* name is warned
    about once, not refused: another pack may use the same prefix."""
    for read in READERS.values():
        read()
    for name in unknown():
        if name not in _warned:
            _warned.add(name)
            log.warning("kling-video: %s is not a setting of this pack (known: %s); it is ignored",
                        name, ", ".join(READERS))
