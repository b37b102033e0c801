"""Node inputs → checked provider request body and its price, from a catalog entry.

Everything here runs before any request is sent: an input that breaks a rule raises InputError naming
the input and the rule, and no money moves. Media become `Media` values in the body; the job turns them
into data URIs or uploads when it sends the request.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from .media_in import encode as media_in
from .catalog import DURATIONS_3_15, MEDIA_KINDS, PROMPT_MAX, Field, Variant
from .core.errors import InputError


_VOICE_REF = re.compile(r"<<<voice_(\d+)>>>")
_VOICE_ID = re.compile(r"[\w.:-]{1,128}")
CAMERA_MOVES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")


@dataclass(frozen=True)
class Cost:
    seconds: Optional[float]
    rate: Optional[float]   # USD per second (or per request)
    usd: Optional[float]    # None: price unknown
    basis: str
    cap_usd: Optional[float] = None  # what the spend cap counts: usd, or a pessimistic stand-in

    @property
    def capped_usd(self) -> Optional[float]:
        return self.usd if self.usd is not None else self.cap_usd

    def __str__(self) -> str:
        return f"${self.usd:.2f} ({self.basis})" if self.usd is not None else f"price unknown ({self.basis})"


@dataclass(frozen=True)
class PreparedRequest:
    variant: Variant
    body: dict              # fal's field names; the provider's module maps them onto its wire format
    cost: Cost
    provider: str = "fal"
    model: str = ""         # the provider's model id or endpoint

    def __post_init__(self):
        if not self.model:
            object.__setattr__(self, "model", self.variant.endpoint)


def split_list(value: Any) -> list[str]:
    """Voice ids arrive as one widget string: 'a, b' or one per line."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else re.split(r"[,\n]", str(value))
    return [str(s).strip() for s in items if str(s).strip()]


def _fail(name: str, rule: str):
    raise InputError(name, rule)


def _text(name: str, value: Any, required: bool, max_length: Optional[int]) -> str:
    text = "" if value is None else str(value)
    if required and not text.strip():
        _fail(name, "must not be empty")
    if max_length is not None and len(text) > max_length:
        _fail(name, f"is {len(text)} characters, over the {max_length} limit")
    return text


def _number(name: str, value: Any, lo, hi, integer: bool = False):
    if isinstance(value, bool):
        _fail(name, f"must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        _fail(name, f"must be a number, got {value!r}")
    if not math.isfinite(number):
        _fail(name, f"must be a finite number, got {value!r}")
    if integer and number != int(number):
        _fail(name, f"must be a whole number, got {value!r}")
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        _fail(name, f"{number:g} is outside {lo:g} to {hi:g}")
    return int(number) if integer else number


def _count(f: Field, n: int, what: str) -> None:
    if f.min_items is not None and n < f.min_items:
        _fail(f.name, f"has {n} {what}, at least {f.min_items} needed")
    if f.max_items is not None and n > f.max_items:
        _fail(f.name, f"has {n} {what}, at most {f.max_items} are allowed")


def _voice_ids(f: Field, value: Any) -> list[str]:
    items = split_list(value)
    _count(f, len(items), "entries")
    for item in items:
        if not _VOICE_ID.fullmatch(item):
            _fail(f.name, f"{item!r} is not a voice id (letters, digits, _ . : - only)")
    return items


def _scalar(f: Field, value: Any) -> Any:
    if f.kind in ("text", "string"):
        return _text(f.name, value, f.required, f.max_length)
    if f.kind == "enum":
        if str(value) not in f.options:
            shown = ", ".join(f.options) if len(f.options) <= 16 else f"the {len(f.options)} listed values"
            _fail(f.name, f"{value!r} is not one of {shown}")
        return str(value)
    if f.kind == "bool":
        if not isinstance(value, bool):
            _fail(f.name, f"must be true or false, got {value!r}")
        return value
    if f.kind in ("float", "int"):
        return _number(f.name, value, f.min, f.max, integer=f.kind == "int")
    if f.kind == "string_list":
        return _voice_ids(f, value)
    if f.kind == "shots":
        return _shots(f, value)
    if f.kind == "camera":
        return _camera(f, value)
    raise AssertionError(f"catalog field kind {f.kind!r} has no check")


def _shots(f: Field, shots: Any) -> list[dict]:
    """Kling Shot nodes give [{'prompt', 'duration'}]; each shot lasts 3-15 s (seed 003)."""
    if not shots:
        return []
    _count(f, len(shots), "shots")
    out = []
    for i, shot in enumerate(shots, 1):
        _text(f"{f.name}[{i}].prompt", shot.get("prompt"), True, PROMPT_MAX)
        if str(shot.get("duration")) not in DURATIONS_3_15:
            _fail(f"{f.name}[{i}].duration", f"{shot.get('duration')!r} is not one of 3 to 15 seconds")
        out.append({"prompt": str(shot["prompt"]), "duration": str(shot["duration"])})
    return out


def _camera(f: Field, move: Any) -> Optional[dict]:
    if not move:
        return None
    if move.get("movement_type") not in CAMERA_MOVES:
        _fail(f.name, f"movement_type {move.get('movement_type')!r} is not one of {', '.join(CAMERA_MOVES)}")
    value = _number(f"{f.name}.movement_value", move.get("movement_value"), -10, 10, integer=True)
    if value == 0:
        _fail(f"{f.name}.movement_value", "is 0, which moves nothing; use -10 to -1 or 1 to 10")
    return {"movement_type": move["movement_type"], "movement_value": value}


def parse_points(text: str, name: str) -> list[dict]:
    """'x,y; x,y; ...' (pixels of the start frame) → [{'x', 'y'}]."""
    points = []
    for i, part in enumerate(p for p in re.split(r"[;\n]", text or "") if p.strip()):
        m = re.fullmatch(r"\s*(-?\d+)\s*[, ]\s*(-?\d+)\s*", part)
        if not m:
            _fail(name, f"point {i + 1} {part.strip()!r} is not 'x,y' in whole pixels")
        points.append({"x": int(m.group(1)), "y": int(m.group(2))})
    return points


# -- media ------------------------------------------------------------------------------------------

class _MediaContext:
    """Sizes and lengths learned while encoding, for rules that compare inputs."""

    def __init__(self):
        self.sizes: dict[str, tuple[int, int]] = {}
        self.seconds: dict[str, float] = {}


def _media(f: Field, value: Any, ctx: _MediaContext) -> Any:
    if f.kind == "image":
        rgb = media_in.to_uint8_rgb(value, f.name)
        ctx.sizes[f.name] = (rgb.shape[1], rgb.shape[0])
        return media_in.encode_image(rgb, f.name)
    if f.kind == "images":
        return media_in.encode_images(value, f.name, f.min_items or 1, f.max_items)
    if f.kind == "mask":
        return media_in.encode_mask(value, f.name, ctx.sizes.get(f.same_size_as))
    if f.kind == "video":
        media, seconds = media_in.encode_video(value, f.name, f.media or media_in.MediaLimits())
        ctx.seconds[f.name] = seconds
        return media
    if f.kind == "audio":
        media = media_in.encode_audio(value, f.name, f.media or media_in.MediaLimits())
        if media_in.is_audio(value):  # a dict, or VideoHelperSuite's LazyAudioMap
            ctx.seconds[f.name] = value["waveform"].shape[-1] / int(value["sample_rate"])
        return media
    if f.kind == "elements":
        return _elements(f, value)
    if f.kind == "dynamic_masks":
        return _dynamic_masks(f, value, ctx)
    raise AssertionError(f"catalog field kind {f.kind!r} has no encoder")


def _elements(f: Field, elements: Any) -> list[dict]:
    """Kling Element nodes give [{'frontal', 'references', 'video', 'voice_id'}] (ComfyUI media inside).
    The field's options name the element type the endpoint takes (see the kinds comment in catalog.py)."""
    if not elements:
        return []
    _count(f, len(elements), "elements")
    style = (f.options or ("combo",))[0]
    out, videos = [], 0
    for i, el in enumerate(elements, 1):
        name = f"{f.name}[{i}]"
        item: dict = {}
        if el.get("video") is not None:
            if style != "combo":
                _fail(name, "is a video element; this model takes image elements only (frontal + references)")
            videos += 1
            if el.get("frontal") is not None or el.get("references") is not None:
                _fail(name, "is either a video or images (frontal + references), not both")
            item["video_url"], _ = media_in.encode_video(el["video"], f"{name}.video")
            if el.get("voice_id"):
                item["voice_id"] = _voice_ids(Field("voice_id", "string_list", input=f"{name}.voice_id",
                                                    max_items=1), el["voice_id"])[0]
            out.append(item)
            continue
        if el.get("voice_id"):
            _fail(f"{name}.voice_id", "voices bind to video elements only (Kling's rule)")
        if style == "image":
            if el.get("frontal") is None and el.get("references") is None:
                _fail(name, "needs a frontal image, reference images, or both")
        elif el.get("frontal") is None or el.get("references") is None:
            need = "a frontal image and 1 to 3 reference images" + (" (or a video)" if style == "combo" else "")
            _fail(name, f"needs {need}")
        if el.get("frontal") is not None:
            item["frontal_image_url"] = media_in.encode_image(el["frontal"], f"{name}.frontal")
        if el.get("references") is not None:
            item["reference_image_urls"] = media_in.encode_images(el["references"], f"{name}.references",
                                                                  0 if style == "image" else 1, 3)
        out.append(item)
    if videos > 1:
        _fail(f.name, f"has {videos} video elements; a request may have one")
    return out


def _dynamic_masks(f: Field, masks: Any, ctx: _MediaContext) -> list[dict]:
    """Kling Dynamic Mask nodes give [{'mask': MASK, 'trajectories': [{'x','y'}, ...]}]."""
    if not masks:
        return []
    _count(f, len(masks), "dynamic masks")
    size = ctx.sizes.get("start_frame")
    out = []
    for i, item in enumerate(masks, 1):
        name = f"{f.name}[{i}]"
        points = item.get("trajectories") or []
        if len(points) < 2:
            _fail(f"{name}.trajectories", f"has {len(points)} point(s); a path needs at least 2")
        path = []
        for j, p in enumerate(points, 1):
            x = _number(f"{name}.trajectories[{j}].x", p.get("x"), 0, size[0] if size else None, integer=True)
            y = _number(f"{name}.trajectories[{j}].y", p.get("y"), 0, size[1] if size else None, integer=True)
            path.append({"x": x, "y": y})
        out.append({"mask_url": media_in.encode_mask(item.get("mask"), f"{name}.mask", size),
                     "trajectories": path})
    return out


# -- the whole request ------------------------------------------------------------------------------

def _check_voice_references(variant: Variant, body: dict) -> None:
    if not variant.voice_field:
        return
    voices = body.get(variant.voice_field, [])
    if voices and variant.audio_field and body.get(variant.audio_field) is False:
        # Kling: "voice_list needs sound on" (provider_protocols.md §5.4); a voice without audio says nothing.
        _fail(variant.field(variant.voice_field).name, f"needs {variant.audio_field} on: voices are audio")
    texts = [("prompt", body.get("prompt", "")), ("negative_prompt", body.get("negative_prompt", ""))]
    texts += [(f"shots[{i}].prompt", s["prompt"]) for i, s in enumerate(body.get("multi_prompt", []), 1)]
    for name, text in texts:
        for n in map(int, _VOICE_REF.findall(text)):
            if n < 1 or n > len(voices):
                _fail(name, f"refers to <<<voice_{n}>>> but {len(voices)} voice id(s) are given in "
                            f"{variant.field(variant.voice_field).name}")


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def prepare(variant: Variant, inputs: Mapping[str, Any], provider: str = "fal") -> PreparedRequest:
    """Check every input (for this provider), encode the media, and price the request. Sends nothing."""
    offer = variant.offer(provider)
    body: dict = {}
    # Cheap checks first, so a typo is reported before seconds of image encoding.
    for f in variant.fields:
        if f.kind in MEDIA_KINDS or f.kind in ("elements", "dynamic_masks"):
            continue
        value = _scalar(f, inputs.get(f.name, f.default))
        if not (_is_empty(value) and not f.required):
            body[f.wire] = value
    ctx = _MediaContext()
    for f in variant.fields:
        if not (f.kind in MEDIA_KINDS or f.kind in ("elements", "dynamic_masks")):
            continue
        value = inputs.get(f.name)
        if _is_empty(value) or (hasattr(value, "numel") and value.numel() == 0):
            if f.required:
                _fail(f.name, f"is required: connect {'an image' if 'image' in f.kind else 'it'}")
            continue
        encoded = _media(f, value, ctx)
        if not _is_empty(encoded):
            body[f.wire] = encoded
    for rule in variant.rules:
        rule(body, _fail, ctx.seconds)
    _check_voice_references(variant, body)
    _check_provider_fields(variant, offer, body)
    # Keep the catalog's field order on the wire: stable bodies make stable request hashes.
    order = [f.wire for f in variant.fields]
    ordered = {k: body[k] for k in sorted(body, key=lambda k: order.index(k) if k in order else len(order))}
    return PreparedRequest(variant, ordered, estimate_cost(variant, ordered, ctx.seconds, offer.price),
                           provider, offer.model)


def _check_provider_fields(variant: Variant, offer, body: dict) -> None:
    """A field the provider cannot take is refused, never silently dropped; left at its default it is
    simply not sent (the provider applies its own default)."""
    if offer.provider == "fal":  # the catalog is written in fal's terms: fal takes the whole body
        return
    for wire in [w for w in body if w not in offer.fields]:
        f = variant.field(wire)
        if body[wire] == f.default or (f.kind == "string_list" and not body[wire]):
            del body[wire]
            continue
        able = [p for p in variant.providers if wire in variant.offer(p).fields]
        _fail(f.name, f"{_title(offer.provider)} cannot take it; {', '.join(map(_title, able))} can "
                      f"(or leave it at its default, {f.default!r})")
    for wire, allowed in offer.limits:
        if wire not in body:
            continue
        f, value = variant.field(wire), body[wire]
        if isinstance(allowed, int):
            if len(value) > allowed:
                able = [p for p in variant.providers if _within(variant.offer(p), wire, value)]
                _fail(f.name, f"has {len(value)} items; {_title(offer.provider)} takes at most {allowed} "
                              f"({', '.join(map(_title, able))} can take {len(value)})")
        elif str(value) not in allowed:
            if value == f.default:
                del body[wire]  # the provider's own default applies
                continue
            able = [p for p in variant.providers if _within(variant.offer(p), wire, value)]
            _fail(f.name, f"{value!r} is not offered by {_title(offer.provider)} (it takes {', '.join(allowed)}); "
                          f"{', '.join(map(_title, able))} can take it")


def _within(offer, wire: str, value) -> bool:
    if wire not in offer.fields:
        return False
    allowed = dict(offer.limits).get(wire)
    if allowed is None:
        return True
    return len(value) <= allowed if isinstance(allowed, int) else str(value) in allowed


def _title(provider: str) -> str:
    from . import providers
    return providers.get(provider).TITLE


UNPUBLISHED = "no published price"


def estimate_cost(variant: Variant, body: Mapping[str, Any], media_seconds: Optional[dict] = None,
                  price=None) -> Cost:
    p = price or variant.price
    audio = bool(body.get(variant.audio_field)) if variant.audio_field else False
    voices = bool(body.get(variant.voice_field)) if variant.voice_field else False
    if audio and voices and p.voice is not None:
        rate, label = p.voice, "audio on, voice control"
    elif audio and p.audio_on is not None:
        rate, label = p.audio_on, "audio on"
    else:
        rate, label = p.audio_off, "audio off" if variant.audio_field else ""
    if p.per_request:
        return Cost(None, rate, rate, "per request" if rate is not None else UNPUBLISHED)
    if p.seconds_from:
        seconds = (media_seconds or {}).get(p.seconds_from)
        seconds = None if seconds is None else math.ceil(seconds / p.round_up_to) * p.round_up_to
        what = f"{p.seconds_from} length"
    else:
        seconds = int(body.get(variant.duration_field, 5)) if variant.duration_field else None
        what = "duration"
    if rate is None or seconds is None:
        # The spend cap must not let an unpriced job through for free: count the dearest rate of its
        # family over the longest duration it offers.
        worst = _family_max_rate(variant) * (seconds or _longest(variant))
        # Users read the finding, not p.source: it cites maintainers' notes the pack does not ship.
        if rate is None:
            basis = f"{seconds:g} s; {UNPUBLISHED}" if seconds is not None else UNPUBLISHED
        else:
            basis = f"${rate:g}/s of the {what}, not known yet"
        return Cost(seconds, None, None, basis, cap_usd=round(worst, 4))
    basis = f"{seconds:g} s × ${rate:g}/s" + (f", {label}" if label else "")
    if p.seconds_from:
        basis += f", billed on the {what}"
    return Cost(seconds, rate, round(seconds * rate, 4), basis)


def quote(variant: Variant, values: Mapping[str, Any], provider: str = "fal") -> Cost:
    """The price of a node's current widget values, for the live badge: no media, no validation."""
    body: dict = {}
    for f in variant.fields:
        if f.name in values and f.kind not in MEDIA_KINDS:
            body[f.wire] = split_list(values[f.name]) if f.kind == "string_list" else values[f.name]
    return estimate_cost(variant, body, price=variant.offer(provider).price)


def _family_max_rate(variant: Variant) -> float:
    from .catalog import CATALOG
    rates = [r for v in CATALOG if v.family == variant.family and not v.price.per_request
             for r in (v.price.audio_off, v.price.audio_on, v.price.voice) if r is not None]
    return max(rates or [r for v in CATALOG for r in (v.price.voice, v.price.audio_on, v.price.audio_off) if r])


def _longest(variant: Variant) -> float:
    if variant.price.seconds_from:
        limits = variant.field(variant.price.seconds_from).media
        return limits.max_seconds if limits and limits.max_seconds else 60  # unknown length: a minute
    if variant.duration_field:
        return max(int(o) for o in variant.field(variant.duration_field).options)
    return 1
