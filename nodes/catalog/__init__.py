"""The declarative catalog: one entry per Kling variant.

A node, its CLI sub-command, its request body, its validation and its price all come from an entry here,
so adding a variant is adding an entry (and a test), never a class. Nothing here knows ComfyUI or HTTP.

    schema.py       Variant, Field, Price, Offer, MediaLimits and the shared constants
    fields.py       fields and media limits many entries share (prompt, duration, frames, camera, ...)
    rules.py        cross-field rules (prompt or shots, one camera, effect images, ...)
    families.py     one builder per kind of endpoint (text to video, image to video, omni, ...)
    fal_entries.py  the entries: every variant on fal, its price and sources
    offers.py       Kling's own API, AI/ML API and Vercel AI Gateway on the same variants
    variants.py     CATALOG (fal entries + other providers) and variant(key)
    enums.py        the long enums (effect scenes, lip sync voices)
"""
from __future__ import annotations

from .enums import EFFECT_SCENES, LIPSYNC_VOICES
from .fal_entries import EXCLUDED, EXCLUDED_ENDPOINTS
from .rules import (rule_effect_images, rule_face_with_video, rule_max_references, rule_one_camera,
                    rule_orientation_length, rule_prompt_or_shots)
from .schema import (DURATIONS_3_15, DURATIONS_5_10, MEDIA_KINDS, NEGATIVE_DEFAULT, PROMPT_MAX, STRUCT_KINDS,
                     UNKNOWN, Field, MediaLimits, Offer, Price, Variant)
from .variants import CATALOG, variant

__all__ = [
    "CATALOG", "variant", "Variant", "Field", "Price", "Offer", "MediaLimits", "UNKNOWN",
    "DURATIONS_3_15", "DURATIONS_5_10", "MEDIA_KINDS", "STRUCT_KINDS", "PROMPT_MAX", "NEGATIVE_DEFAULT",
    "EXCLUDED", "EXCLUDED_ENDPOINTS", "EFFECT_SCENES", "LIPSYNC_VOICES",
    "rule_prompt_or_shots", "rule_one_camera", "rule_effect_images", "rule_orientation_length",
    "rule_face_with_video", "rule_max_references",
]
