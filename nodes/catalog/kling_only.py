"""Variants only Kling's own API serves (no fal endpoint): they are not in CATALOG, which is fal's list with
the other providers added, so no generated node, CLI sub-command or help page comes from them. Each has a
node of its own in nodes/comfyui/; the entry gives the job runner its key, name, fields, output and price, and
lets the jobs panel find it again (variants.variant).
"""
from __future__ import annotations

from dataclasses import replace

from .fields import CFG, NEGATIVE, prompt
from .schema import Field, Offer, Price, Variant

# Kling bills in its own units (final_unit_deduction) and publishes no USD price we could find. ComfyUI's
# partner-node price list, which charges the model maker's list price, says "Video Extend | 59.08 credits / run"
# at 211 credits = $1 (research16.md §3.1 and §4.3).
EXTEND_PRICE = Price(0.28, per_request=True, source=(
    "Comfy-Org/docs tutorials/partner-nodes/pricing.mdx @ ffb27fc2 (2026-08-21): 59.08 credits per run, 211 "
    "credits = $1 (docs.comfy.org); Kling's own unit price is not published"))
# A reseller reports that extending a pro-mode video costs 3.5 times as much (research16.md §3.1, third party):
# the spend cap counts that for pro sources.
PRO_SOURCE_FACTOR = 3.5
EXTEND_SOURCE = ("research16.md §3.1: a saved copy of Kling's videoExtension page (POST /v1/videos/video-extend; "
                 "video_id, prompt, negative_prompt, cfg_scale, callback_url, external_task_id)")

EXTEND = Variant(
    "kling-extend", "KlingVideo_Extend", "Kling Extend", "", (
        # A VIDEO on the node; Kling receives its id, which the node finds in the journal (jobs/extend.py).
        Field("video_id", "video", input="video", required=True, cli_alias="video",
              tooltip="A VIDEO made on Kling's own API (a Kling 1.0, 1.5 or 1.6 node with provider 'kling', or "
                      "another Kling Extend): the node finds Kling's id for it in the journal."),
        replace(prompt(), tooltip="What happens in the added 4-5 seconds."),
        NEGATIVE, CFG),
    EXTEND_PRICE, family="extend", source=EXTEND_SOURCE, typical_seconds=240, duration_field="",
    description="Add 4-5 seconds to a video Kling's own API made (Kling 1.0, 1.5 or 1.6 models, or an extension "
                "of one), up to 3 minutes in all; model and mode are the source's.",
    offers=(Offer("kling", "video-extend", ("video_id", "prompt", "negative_prompt", "cfg_scale"), EXTEND_PRICE,
                  EXTEND_SOURCE),))

KLING_ONLY: tuple[Variant, ...] = (EXTEND,)
