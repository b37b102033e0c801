"""Every KLING_VIDEO_* setting, read and checked in one place.

Each reader returns the value in the unit the code uses, or raises SettingsError naming the variable and the
rule. `check_all()` reads every one of them: the CLI and the job runner call it before any request, so a typo
in a setting is heard before money moves, never as a half-run job (a negative timeout once cancelled a job it
had just paid for).
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable, Optional

from .errors import KlingError

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


def _number(var: str, default: Optional[float], *, minimum: float = 0.0, allow_zero: bool = False,
            unit: str = "") -> Optional[float]:
    raw = _raw(var)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(var, f"must be a number{unit}", raw) from None
    if not math.isfinite(value):
        raise SettingsError(var, f"must be a finite number{unit}", raw)
    if value < minimum or (value == minimum and not allow_zero):
        rule = f"at least {minimum:g}" if allow_zero else f"greater than {minimum:g}"
        raise SettingsError(var, f"must be {rule}{unit}", raw)
    return value


# -- the settings -----------------------------------------------------------------------------------

def home() -> Path:
    """KLING_VIDEO_HOME: the journal, spend log, keys and outputs; else ComfyUI's user folder, else
    ~/.kling-video."""
    raw = _raw("KLING_VIDEO_HOME")
    if raw:
        path = Path(raw).expanduser()
        if path.exists() and not path.is_dir():
            raise SettingsError("KLING_VIDEO_HOME", "must be a folder (it names a file)", raw)
        return path
    try:
        import folder_paths  # ComfyUI's; present only inside ComfyUI
        return Path(folder_paths.get_user_directory()) / "kling-video"
    except Exception:
        return Path.home() / ".kling-video"


def queue_timeout() -> float:
    """KLING_VIDEO_QUEUE_TIMEOUT, seconds a job may wait in the provider's queue (an empty balance shows so)."""
    return _number("KLING_VIDEO_QUEUE_TIMEOUT", 600.0, unit=" of seconds")


def timeout() -> float:
    """KLING_VIDEO_TIMEOUT, the overall deadline of one job in seconds."""
    return _number("KLING_VIDEO_TIMEOUT", 1800.0, unit=" of seconds")


def max_download_bytes() -> int:
    """KLING_VIDEO_MAX_DOWNLOAD_MB (MiB), the largest result the pack downloads."""
    return int(_number("KLING_VIDEO_MAX_DOWNLOAD_MB", 2048.0, unit=" of megabytes") * MiB)


def inline_max_override() -> Optional[int]:
    """KLING_VIDEO_INLINE_MAX_MB (decimal MB): files up to this go inline as data URIs, larger ones through
    the provider's upload. None when unset: each provider's own threshold applies."""
    value = _number("KLING_VIDEO_INLINE_MAX_MB", None, allow_zero=True, unit=" of megabytes")
    return None if value is None else int(value * MB)


def max_usd() -> Optional[float]:
    """KLING_VIDEO_MAX_USD, the spend cap per UTC day in dollars; None when unset."""
    return _number("KLING_VIDEO_MAX_USD", None, allow_zero=True, unit=" of dollars")


def max_decode_bytes() -> Optional[int]:
    """KLING_VIDEO_MAX_DECODE_BYTES: the largest frames tensor decoded; None when unset."""
    value = _number("KLING_VIDEO_MAX_DECODE_BYTES", None, unit=" of bytes")
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


READERS: dict[str, Callable[[], object]] = {
    "KLING_VIDEO_HOME": home,
    "KLING_VIDEO_QUEUE_TIMEOUT": queue_timeout,
    "KLING_VIDEO_TIMEOUT": timeout,
    "KLING_VIDEO_MAX_DOWNLOAD_MB": max_download_bytes,
    "KLING_VIDEO_INLINE_MAX_MB": inline_max_override,
    "KLING_VIDEO_MAX_USD": max_usd,
    "KLING_VIDEO_MAX_DECODE_BYTES": max_decode_bytes,
    "KLING_VIDEO_ALLOWED_HOSTS": allowed_hosts,
}


def check_all() -> None:
    """Read every setting; the first bad one raises SettingsError. Unknown KLING_VIDEO_* names are left alone
    (test switches and future settings use the prefix too)."""
    for read in READERS.values():
        read()
