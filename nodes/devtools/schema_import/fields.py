"""One schema property as a catalog Field: its kind, input name, limits and the review notes for it."""
from __future__ import annotations

import re
from dataclasses import dataclass, field as dc_field
from typing import Optional

from .names import Names
from .schema import DEFAULT_NOTE, NO_DEFAULT, Prop


@dataclass
class Spec:
    """A catalog Field to print: its keyword arguments in order, and review comments above it."""

    wire: str
    kind: str
    kwargs: dict = dc_field(default_factory=dict)
    comments: list = dc_field(default_factory=list)

    @property
    def name(self) -> str:
        return self.kwargs.get("input", self.wire)


_MEDIA_ORDER = ("start_frame", "end_frame", "image", "images", "static_mask", "video",
                "reference_video", "audio", "voice_audio")
_TEXT_ORDER = ("prompt", "text", "multi_prompt", "elements")
_LATER_ORDER = ("duration", "aspect_ratio", "negative_prompt", "cfg_scale", "generate_audio", "voice_ids")
_ELEMENT_KEYS = {"frontal_image_url", "reference_image_urls", "video_url", "voice_id"}
_LIMITS = (("max_bytes", r"Max file size:\s*([\d.]+)\s*MB", 1_000_000),
           ("min_seconds", r"Min duration:\s*([\d.]+)\s*s", 1),
           ("max_seconds", r"Max duration:\s*([\d.]+)\s*s", 1),
           ("min_fps", r"Min FPS:\s*([\d.]+)", 1), ("max_fps", r"Max FPS:\s*([\d.]+)", 1))


def _tooltip(description: str) -> str:
    text = DEFAULT_NOTE.sub("", description)
    text = re.split(r"\s\*\s+Max |\s\*\s+Min ", text)[0]  # fal's machine-written limits; MediaLimits carries them
    text = " ".join(text.split()).strip()
    if len(text) > 240:
        cut = text[:240].rfind(". ")
        text = text[:cut + 1] if cut > 60 else text[:237] + "..."
    return text


def _media_limits(description: str) -> dict:
    limits = {}
    for key, pattern, scale in _LIMITS:
        m = re.search(pattern, description)
        if m:
            value = float(m.group(1)) * scale
            limits[key] = int(value) if key == "max_bytes" or value == int(value) else value
    widths = [int(v) for v in re.findall(r"Min (?:width|height):\s*(\d+)\s*px", description)]
    if widths:
        limits["min_px"] = min(widths)
    widths = [int(v) for v in re.findall(r"Max (?:width|height):\s*(\d+)\s*px", description)]
    if widths:
        limits["max_px"] = max(widths)
    return limits


def _max_in_text(description: str, unit: str) -> Optional[int]:
    # "Maximum 7 total (elements + reference images)" is a shared budget, not this field's own limit
    m = re.search(rf"(?:up to|maximum|max\.?|at most|not exceed|cannot exceed)\s+(\d+)\b(?!\s+total)\s*{unit}",
                  description, re.I)
    return int(m.group(1)) if m else None


def _media_spec(p: Prop, kind: str, name: str, alias: str, wires: set) -> Spec:
    spec = Spec(p.wire, kind, {"input": name} if name != p.wire else {})
    spec.kwargs["required"] = p.required
    if kind == "mask":
        spec.kwargs["same_size_as"] = "start_frame" if wires & {"image_url", "start_image_url"} else ""
    if kind in ("video", "audio"):
        limits = _media_limits(p.description)
        if limits:
            spec.kwargs["media"] = limits
        elif p.description:
            spec.comments.append(f"review: the limits of {name} are only in the prose of its tooltip; add "
                                 f"media=MediaLimits(...) from it")
    if alias:
        spec.kwargs["cli_alias"] = alias
    return spec


def _file_field(p: Prop, names_: Names, wires: set) -> Optional[Spec]:
    w = p.wire
    has_end = bool(wires & {"end_image_url", "tail_image_url"})
    if w == "start_image_url" or (w == "image_url" and (has_end or "image-to-video" in names_.task)):
        return _media_spec(p, "image", "start_frame", "image", wires)
    if w in ("end_image_url", "tail_image_url"):
        return _media_spec(p, "image", "end_frame", "end-image", wires)
    stem = w[:-4] if w.endswith("_url") else w
    if "mask" in w:
        return _media_spec(p, "mask", stem, "", wires)
    if "image" in w:
        return _media_spec(p, "image", stem, "image" if stem == "image" else "", wires)
    if "video" in w:
        name = "reference_video" if "motion-control" in names_.task else stem
        return _media_spec(p, "video", name, "video", wires)
    if "audio" in w:
        return _media_spec(p, "audio", stem, "audio", wires)
    if "voice" in w:
        return _media_spec(p, "audio", "voice_audio", "audio", wires)
    return None


def _array_field(p: Prop) -> Optional[Spec]:
    item = p.items or Prop("", "unknown")
    member_names = {m.wire for m in item.members}
    if p.wire == "multi_prompt" and item.type == "object":
        spec = Spec(p.wire, "shots", {"input": "shots", "required": p.required})
        extra = member_names - {"prompt", "duration"}
        if extra:
            spec.comments.append(f"TODO review: shots here also take {sorted(extra)}; the Kling Shot node gives "
                                 f"prompt and duration only")
        return spec
    if p.wire == "elements" and item.type == "object" and member_names <= _ELEMENT_KEYS:
        frontal = next((m for m in item.members if m.wire == "frontal_image_url"), None)
        style = "combo" if "video_url" in member_names else ("omni" if frontal and frontal.required else "image")
        return Spec(p.wire, "elements", {"required": p.required, "options": (style,)},
                    [f"review: elements of {item.ref or 'this type'} take {', '.join(sorted(member_names))}: "
                     f"style {style!r} (nodes/request/media_checks.py's element check)"])
    if p.wire == "dynamic_masks" and item.type == "object" and member_names <= {"mask_url", "trajectories"}:
        return Spec(p.wire, "dynamic_masks", {"required": p.required})
    if item.type in ("string", "file") and p.wire.endswith("_urls") and "image" in p.wire:
        # catalog names: input_image_urls (elements, effects) → images; image_urls (O1/O3) → reference_images
        stem = p.wire[:-5]
        name = {"input_image": "images", "image": "reference_images"}.get(stem, stem + "s")
        return Spec(p.wire, "images", {"input": name})
    if item.type == "string" and not item.options:
        spec = Spec(p.wire, "string_list", {})
        if p.wire != "voice_ids":
            spec.comments.append(f"review: the node checks string_list items as ids (letters, digits, _ . : -); "
                                 f"is that right for {p.wire}?")
        return spec
    return None


def field_spec(p: Prop, names_: Names, wires: set) -> tuple[Optional[Spec], list[str]]:
    """The catalog Field for one property, or None with the reason in a TODO line."""
    notes = [f"review: {p.note}"] if p.note else []
    spec: Optional[Spec] = None
    if p.type == "file" or (p.type == "string" and p.wire.endswith("_url")):
        spec = _file_field(p, names_, wires)
    elif p.type == "array":
        spec = _array_field(p)
        if spec is not None:
            spec.kwargs["required"] = p.required
            n = p.max_items or _max_in_text(p.description, "")
            if p.min_items:
                spec.kwargs["min_items"] = p.min_items
            if n and spec.kind not in ("shots",):
                spec.kwargs["max_items"] = n
            spec.kwargs["default"] = "" if spec.kind == "string_list" else NO_DEFAULT
    elif p.type == "object" and {m.wire for m in p.members} == {"movement_type", "movement_value"}:
        spec = Spec(p.wire, "camera", {"required": p.required})
    elif p.type == "enum":
        spec = Spec(p.wire, "enum", {"required": p.required})
        default = p.default
        if default is NO_DEFAULT:
            default = p.options[0]
            if not p.required:
                notes.append(f"TODO review: {p.wire} has no default in the schema; the node sends "
                             f"{default!r} unless a rule drops it (fal would apply its own default)")
        elif default not in p.options:
            notes.append(f"TODO review: the schema's default {default!r} is not one of its options")
        spec.kwargs.update(default=default, options=p.options)
    elif p.type == "boolean":
        spec = Spec(p.wire, "bool", {"required": p.required} if p.required else {})
        default = p.default
        if default is NO_DEFAULT:
            default = False
            notes.append(f"TODO review: {p.wire} has no default in the schema; False is sent (fal would apply "
                         f"its own default)")
        spec.kwargs["default"] = bool(default)
    elif p.type in ("number", "integer"):
        kind = "int" if p.type == "integer" else "float"
        spec = Spec(p.wire, kind, {"required": p.required} if p.required else {})
        default = p.default
        if default is NO_DEFAULT:
            notes.append(f"TODO review: {p.wire} has no default in the schema; give one (None fails the check)")
            default = None
        spec.kwargs["default"] = default if default is None else (int(default) if kind == "int" else float(default))
        for key, value in (("min", p.minimum), ("max", p.maximum), ("step", p.step)):
            if value is not None:
                spec.kwargs[key] = value
        if p.minimum is None or p.maximum is None:
            notes.append(f"TODO review: the schema gives no range for {p.wire}; set min/max from fal's page "
                         f"(https://fal.ai/models/{names_.endpoint})")
    elif p.type == "string":
        prose = p.wire in ("prompt", "text") or p.wire.endswith("_prompt")
        spec = Spec(p.wire, "text" if prose else "string", {"required": p.required} if p.required else {})
        spec.kwargs["default"] = "" if p.default is NO_DEFAULT else p.default
        if prose:
            spec.kwargs["multiline"] = True
        n = p.max_length or _max_in_text(p.description, "char")
        if n:
            spec.kwargs["max_length"] = n
    if spec is None:
        what = "REQUIRED field" if p.required else "field"
        return None, notes + [f"TODO review: {what} {p.wire} ({p.type_text or p.type}) has no catalog kind; "
                              f"add it by hand or leave it out"]
    if spec.kwargs.get("required") is False:
        del spec.kwargs["required"]
    tooltip = _tooltip(p.description)
    if tooltip:
        spec.kwargs["tooltip"] = tooltip
    return spec, notes + spec.comments


def order(spec: Spec, index: int) -> tuple:
    if spec.name in _MEDIA_ORDER:
        return (0, _MEDIA_ORDER.index(spec.name), index)
    if spec.wire in _TEXT_ORDER:
        return (1, _TEXT_ORDER.index(spec.wire), index)
    if spec.kind in ("images",):
        return (1, len(_TEXT_ORDER), index)
    if spec.wire in _LATER_ORDER:
        return (2, _LATER_ORDER.index(spec.wire), index)
    return (3, 0, index)
