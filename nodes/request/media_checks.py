"""Media inputs of a request: images, masks, videos, audio, elements and dynamic masks, checked and encoded
into Media values (media_in does the encoding and the per-file limits; here are the per-field rules).
"""
from __future__ import annotations

from typing import Any

from ..catalog import Field, MediaLimits
from ..media_in import encode as media_in
from .field_checks import check_count, check_number, check_voice_ids, fail


class MediaContext:
    """Sizes and lengths learned while encoding, for rules that compare inputs."""

    def __init__(self):
        self.sizes: dict[str, tuple[int, int]] = {}
        self.seconds: dict[str, float] = {}


def encode_media(f: Field, value: Any, ctx: MediaContext) -> Any:
    if f.kind == "image":
        rgb = media_in.to_uint8_rgb(value, f.name)
        ctx.sizes[f.name] = (rgb.shape[1], rgb.shape[0])
        return media_in.encode_image(rgb, f.name)
    if f.kind == "images":
        return media_in.encode_images(value, f.name, f.min_items or 1, f.max_items)
    if f.kind == "mask":
        return media_in.encode_mask(value, f.name, ctx.sizes.get(f.same_size_as))
    if f.kind == "video":
        media, seconds = media_in.encode_video(value, f.name, f.media or MediaLimits())
        ctx.seconds[f.name] = seconds
        return media
    if f.kind == "audio":
        media = media_in.encode_audio(value, f.name, f.media or MediaLimits())
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
    The field's options name the element type the endpoint takes (see the kinds comment in catalog/schema.py)."""
    if not elements:
        return []
    check_count(f, len(elements), "elements")
    style = (f.options or ("combo",))[0]
    out, videos = [], 0
    for i, el in enumerate(elements, 1):
        name = f"{f.name}[{i}]"
        item: dict = {}
        if el.get("video") is not None:
            if style != "combo":
                fail(name, "is a video element; this model takes image elements only (frontal + references)")
            videos += 1
            if el.get("frontal") is not None or el.get("references") is not None:
                fail(name, "is either a video or images (frontal + references), not both")
            item["video_url"], _ = media_in.encode_video(el["video"], f"{name}.video")
            if el.get("voice_id"):
                item["voice_id"] = check_voice_ids(Field("voice_id", "string_list", input=f"{name}.voice_id",
                                                          max_items=1), el["voice_id"])[0]
            out.append(item)
            continue
        if el.get("voice_id"):
            fail(f"{name}.voice_id", "voices bind to video elements only (Kling's rule)")
        if style == "image":
            if el.get("frontal") is None and el.get("references") is None:
                fail(name, "needs a frontal image, reference images, or both")
        elif el.get("frontal") is None or el.get("references") is None:
            need = "a frontal image and 1 to 3 reference images" + (" (or a video)" if style == "combo" else "")
            fail(name, f"needs {need}")
        if el.get("frontal") is not None:
            item["frontal_image_url"] = media_in.encode_image(el["frontal"], f"{name}.frontal")
        if el.get("references") is not None:
            item["reference_image_urls"] = media_in.encode_images(el["references"], f"{name}.references",
                                                                  0 if style == "image" else 1, 3)
        out.append(item)
    if videos > 1:
        fail(f.name, f"has {videos} video elements; a request may have one")
    return out


def _dynamic_masks(f: Field, masks: Any, ctx: MediaContext) -> list[dict]:
    """Kling Dynamic Mask nodes give [{'mask': MASK, 'trajectories': [{'x','y'}, ...]}]."""
    if not masks:
        return []
    check_count(f, len(masks), "dynamic masks")
    size = ctx.sizes.get("start_frame")
    out = []
    for i, item in enumerate(masks, 1):
        name = f"{f.name}[{i}]"
        points = item.get("trajectories") or []
        if len(points) < 2:
            fail(f"{name}.trajectories", f"has {len(points)} point(s); a path needs at least 2")
        path = []
        for j, p in enumerate(points, 1):
            x = check_number(f"{name}.trajectories[{j}].x", p.get("x"), 0, size[0] if size else None, integer=True)
            y = check_number(f"{name}.trajectories[{j}].y", p.get("y"), 0, size[1] if size else None, integer=True)
            path.append({"x": x, "y": y})
        out.append({"mask_url": media_in.encode_mask(item.get("mask"), f"{name}.mask", size),
                     "trajectories": path})
    return out
