"""Kling's own API video effects, POST /v1/videos/effects (GET /v1/videos/effects/{task_id | external_task_id}).

Source: ComfyUI 0.33.0's comfy_api_nodes/apis/__init__.py KlingVideoEffectsRequest, KlingVideoEffectsInput,
KlingSingleImageEffectInput, KlingDualCharacterEffectInput and their enums, generated from Kling's own OpenAPI for
Comfy's proxy (/proxy/kling/v1/videos/effects). The body is {effect_scene, input, callback_url?,
external_task_id?}; the answer and the result are text2video's (task_result.videos[0].url).

- two-person scenes hug | kiss | heart_gesture: input {model_name kling-v1 | kling-v1-5 | kling-v1-6, mode std |
  pro, images [left, right], duration "5" | "10"};
- one-image scenes bloombloom | dizzydizzy | fuzzyfuzzy | squish | expansion: input {model_name kling-v1-6, image,
  duration "5"}, with no mode: only the kling-v1-6 std offer takes them (a pro run is not in the source).

The catalog's offers (catalog/offers.py) limit effect_scene to these; the catalog's (fal's) ~200 other scenes are
refused before any request. The model is written "effects/<model_name>/<mode>".
"""
from __future__ import annotations

import base64
from typing import Any

from ..catalog.enums import TWO_PERSON_EFFECTS
from ..core.errors import InputError
from ..media_in.media import Media

TASK = "effects"
PREFIX = TASK + "/"


def serves(model: str) -> bool:
    return model.startswith(PREFIX)


def _raw_base64(value: Any) -> Any:
    return base64.b64encode(value.data).decode() if isinstance(value, Media) else value


def to_wire(model: str, body: dict) -> dict:
    model_name, _, mode = model[len(PREFIX):].partition("/")
    scene = body.get("effect_scene")
    if scene is None:  # the provider check dropped the catalog's default scene: one this model lacks
        raise InputError("effect_scene", f"Kling's API does not offer the default scene with {model_name} {mode}: "
                                         f"choose {', '.join(TWO_PERSON_EFFECTS)}, or another provider")
    images = [_raw_base64(i) for i in body.get("input_image_urls", ())]
    duration = str(body.get("duration", "5"))
    if scene in TWO_PERSON_EFFECTS:
        given = {"model_name": model_name, "mode": mode, "images": images, "duration": duration}
    else:
        if duration != "5":
            raise InputError("duration", f"Kling's API makes the {scene!r} effect 5 s long only")
        given = {"model_name": model_name, "image": images[0] if images else None, "duration": duration}
    return {"effect_scene": scene, "input": given}
