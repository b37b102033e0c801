"""Node inputs → checked provider request body and its price, from a catalog entry.

Everything here runs before any request is sent: an input that breaks a rule raises InputError naming
the input and the rule, and no money moves.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from .catalog import Field, Variant
from .errors import InputError
from .media_in import encode_image

_VOICE_REF = re.compile(r"<<<voice_(\d+)>>>")


@dataclass(frozen=True)
class Cost:
    seconds: int
    rate: float          # USD per second
    usd: float
    basis: str           # e.g. "10 s × $0.14/s (audio on)"

    def __str__(self) -> str:
        return f"${self.usd:.2f} ({self.basis})"


@dataclass(frozen=True)
class PreparedRequest:
    variant: Variant
    body: dict
    cost: Cost


def split_list(value: Any) -> list[str]:
    """Voice ids arrive as one widget string: 'a, b' or one per line."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = value
    else:
        items = re.split(r"[,\n]", str(value))
    return [s.strip() for s in items if str(s).strip()]


def _check_scalar(f: Field, value: Any) -> Any:
    """Return the wire value of one non-image input, or raise InputError."""
    name = f.name
    if f.kind in ("text", "string"):
        text = "" if value is None else str(value)
        if f.required and not text.strip():
            raise InputError(name, "must not be empty")
        if f.max_length is not None and len(text) > f.max_length:
            raise InputError(name, f"is {len(text)} characters, over the {f.max_length} limit")
        return text
    if f.kind == "enum":
        text = str(value)
        if text not in f.options:
            raise InputError(name, f"{value!r} is not one of {', '.join(f.options)}")
        return text
    if f.kind == "bool":
        if not isinstance(value, bool):
            raise InputError(name, f"must be true or false, got {value!r}")
        return value
    if f.kind == "float":
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InputError(name, f"must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise InputError(name, f"must be a finite number, got {value!r}")
        if (f.min is not None and number < f.min) or (f.max is not None and number > f.max):
            raise InputError(name, f"{number:g} is outside {f.min:g} to {f.max:g}")
        return number
    if f.kind == "string_list":
        items = split_list(value)
        if f.max_items is not None and len(items) > f.max_items:
            raise InputError(name, f"has {len(items)} entries, at most {f.max_items} are allowed")
        for item in items:
            if not re.fullmatch(r"[\w.:-]{1,128}", item):
                raise InputError(name, f"{item!r} is not a voice id (letters, digits, _ . : - only)")
        return items
    raise AssertionError(f"catalog field kind {f.kind!r} has no check")


def check_inputs(variant: Variant, inputs: Mapping[str, Any]) -> dict:
    """Validate all non-image inputs; return {wire name: wire value} without empty optionals."""
    body: dict = {}
    for f in variant.fields:
        if f.kind == "image":
            continue
        value = inputs.get(f.name, f.default)
        wire_value = _check_scalar(f, value)
        if wire_value in ("", [], None) and not f.required:
            continue
        body[f.wire] = wire_value
    _check_voice_references(variant, body)
    return body


def _check_voice_references(variant: Variant, body: dict) -> None:
    if not variant.voice_field:
        return
    voices = body.get(variant.voice_field, [])
    for field_name in ("prompt", "negative_prompt"):
        for n in map(int, _VOICE_REF.findall(body.get(field_name, ""))):
            if n < 1 or n > len(voices):
                raise InputError(field_name, f"refers to <<<voice_{n}>>> but {len(voices)} voice id(s) "
                                             f"are given in {variant.field(variant.voice_field).name}")


def estimate_cost(variant: Variant, body: Mapping[str, Any]) -> Cost:
    seconds = int(body.get(variant.duration_field, 5))
    p = variant.price
    audio = bool(body.get(variant.audio_field)) if variant.audio_field else False
    voices = bool(body.get(variant.voice_field)) if variant.voice_field else False
    if audio and voices and p.voice is not None:
        rate, label = p.voice, "audio on, voice control"
    elif audio and p.audio_on is not None:
        rate, label = p.audio_on, "audio on"
    else:
        rate, label = p.audio_off, "audio off" if variant.audio_field else "per second"
    return Cost(seconds, rate, round(seconds * rate, 4), f"{seconds} s × ${rate:g}/s, {label}")


def prepare(variant: Variant, inputs: Mapping[str, Any]) -> PreparedRequest:
    """Check every input, encode the images, and price the request. Sends nothing."""
    body = check_inputs(variant, inputs)
    for f in variant.image_fields:
        image = inputs.get(f.name)
        if image is None:
            if f.required:
                raise InputError(f.name, "is required: connect an image")
            continue
        body[f.wire] = encode_image(image, f.name)
    # Keep the catalog's field order on the wire: stable bodies make stable request hashes.
    ordered = {f.wire: body[f.wire] for f in variant.fields if f.wire in body}
    return PreparedRequest(variant, ordered, estimate_cost(variant, ordered))
