"""Checks of one input against its catalog field: text, numbers, enums, voice ids, shots, camera moves.

A failed check raises InputError naming the input and the rule (through fail), before any request is sent.
"""
from __future__ import annotations

import math
import re
from typing import Any, Optional

from ..catalog import DURATIONS_3_15, PROMPT_MAX, Field
from ..core.errors import InputError

_VOICE_ID = re.compile(r"[\w.:-]{1,128}")
CAMERA_MOVES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")


def split_list(value: Any) -> list[str]:
    """Voice ids arrive as one widget string: 'a, b' or one per line."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else re.split(r"[,\n]", str(value))
    return [str(s).strip() for s in items if str(s).strip()]


def fail(name: str, rule: str):
    raise InputError(name, rule)


def check_text(name: str, value: Any, required: bool, max_length: Optional[int]) -> str:
    text = "" if value is None else str(value)
    if required and not text.strip():
        fail(name, "must not be empty")
    if max_length is not None and len(text) > max_length:
        fail(name, f"is {len(text)} characters, over the {max_length} limit")
    return text


def check_number(name: str, value: Any, lo, hi, integer: bool = False):
    if isinstance(value, bool):
        fail(name, f"must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        fail(name, f"must be a number, got {value!r}")
    if not math.isfinite(number):
        fail(name, f"must be a finite number, got {value!r}")
    if integer and number != int(number):
        fail(name, f"must be a whole number, got {value!r}")
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        fail(name, f"{number:g} is outside {lo:g} to {hi:g}")
    return int(number) if integer else number


def check_count(f: Field, n: int, what: str) -> None:
    if f.min_items is not None and n < f.min_items:
        fail(f.name, f"has {n} {what}, at least {f.min_items} needed")
    if f.max_items is not None and n > f.max_items:
        fail(f.name, f"has {n} {what}, at most {f.max_items} are allowed")


def check_voice_ids(f: Field, value: Any) -> list[str]:
    items = split_list(value)
    check_count(f, len(items), "entries")
    for item in items:
        if not _VOICE_ID.fullmatch(item):
            fail(f.name, f"{item!r} is not a voice id (letters, digits, _ . : - only)")
    return items


def check_scalar(f: Field, value: Any) -> Any:
    if f.kind in ("text", "string"):
        return check_text(f.name, value, f.required, f.max_length)
    if f.kind == "enum":
        if str(value) not in f.options:
            shown = ", ".join(f.options) if len(f.options) <= 16 else f"the {len(f.options)} listed values"
            fail(f.name, f"{value!r} is not one of {shown}")
        return str(value)
    if f.kind == "bool":
        if not isinstance(value, bool):
            fail(f.name, f"must be true or false, got {value!r}")
        return value
    if f.kind in ("float", "int"):
        return check_number(f.name, value, f.min, f.max, integer=f.kind == "int")
    if f.kind == "string_list":
        return check_voice_ids(f, value)
    if f.kind == "shots":
        return _shots(f, value)
    if f.kind == "camera":
        return _camera(f, value)
    raise AssertionError(f"catalog field kind {f.kind!r} has no check")


def _shots(f: Field, shots: Any) -> list[dict]:
    """Kling Shot nodes give [{'prompt', 'duration'}]; each shot lasts 3-15 s (seed 003)."""
    if not shots:
        return []
    check_count(f, len(shots), "shots")
    out = []
    for i, shot in enumerate(shots, 1):
        check_text(f"{f.name}[{i}].prompt", shot.get("prompt"), True, PROMPT_MAX)
        if str(shot.get("duration")) not in DURATIONS_3_15:
            fail(f"{f.name}[{i}].duration", f"{shot.get('duration')!r} is not one of 3 to 15 seconds")
        out.append({"prompt": str(shot["prompt"]), "duration": str(shot["duration"])})
    return out


def _camera(f: Field, move: Any) -> Optional[dict]:
    if not move:
        return None
    if move.get("movement_type") not in CAMERA_MOVES:
        fail(f.name, f"movement_type {move.get('movement_type')!r} is not one of {', '.join(CAMERA_MOVES)}")
    value = check_number(f"{f.name}.movement_value", move.get("movement_value"), -10, 10, integer=True)
    if value == 0:
        fail(f"{f.name}.movement_value", "is 0, which moves nothing; use -10 to -1 or 1 to 10")
    return {"movement_type": move["movement_type"], "movement_value": value}


def parse_points(text: str, name: str) -> list[dict]:
    """'x,y; x,y; ...' (pixels of the start frame) → [{'x', 'y'}]."""
    points = []
    for i, part in enumerate(p for p in re.split(r"[;\n]", text or "") if p.strip()):
        m = re.fullmatch(r"\s*(-?\d+)\s*[, ]\s*(-?\d+)\s*", part)
        if not m:
            fail(name, f"point {i + 1} {part.strip()!r} is not 'x,y' in whole pixels")
        points.append({"x": int(m.group(1)), "y": int(m.group(2))})
    return points
