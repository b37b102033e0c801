"""Kling's own API as a provider of fal's O1 / O3 nodes: "Omni-Video", POST /v1/videos/omni-video (the wire:
nodes/providers/kling_omni.py). offers.py adds these to the Kling offers it lists (OMNI_OFFERS).

Sources: ComfyUI 0.33.0's own code (Comfy-Org: first-party for ComfyUI, third-party for Kling), which calls Kling
through its proxy as /proxy/kling/<Kling's own path>: comfy_api_nodes/nodes_kling.py OmniProTextToVideoNode,
OmniProFirstLastFrameNode, OmniProImageToVideoNode, OmniProVideoToVideoNode, OmniProEditVideoNode and
finish_omni_video_task (model_name kling-v3-omni | kling-video-o1; resolution 720p -> mode std, 1080p -> pro,
4k -> 4k, kling-v3-omni only) with apis/kling.py OmniProText2VideoRequest, OmniProFirstLastFrameRequest,
OmniProReferences2VideoRequest, OmniParamImage, OmniParamVideo. Also a third-party copy of Kling's Omni-Video page
(WHQ25/rawgenai docs/research/kling/omni-video-o1.md @ b3f9cef1): image_url "Base64 or URL", video_list by URL
only, external_task_id (and the GET by it), and when duration and aspect_ratio apply. Prices: _PRICE below.

What the offers leave out, each for a reason: elements (Kling's element_list takes ids of elements registered in
the account's element library, not images; Comfy never sends it), shot_type "intelligent" (Comfy sends only
"customize", with storyboards), and fal's "auto" aspect ratio (Kling has none).
"""
from __future__ import annotations

from .schema import Offer, Price

_SOURCE = ("ComfyUI 0.33.0 code (Comfy-Org: first-party for ComfyUI, third-party for Kling): comfy_api_nodes/"
           "nodes_kling.py OmniPro*Node (POST /proxy/kling/v1/videos/omni-video, polled at .../omni-video/{task_id}), "
           "apis/kling.py OmniPro*Request; third-party copy of Kling's Omni-Video page: WHQ25/rawgenai "
           "docs/research/kling/omni-video-o1.md @ b3f9cef1 (image_url Base64 or URL, video by URL only, "
           "external_task_id); std = 720p, pro = 1080p by Comfy's resolution-to-mode mapping")
_PRICE = ("Kling's list price as published by a third party: Comfy-Org/docs tutorials/partner-nodes/pricing.mdx "
          "@ ffb27fc2, {model} {task} {resolution}: {credits} credits/s at 211 credits = $1; ComfyUI 0.33.0's "
          "OmniPro*Node price badges agree")
_RESOLUTION = {"std": "720p", "pro": "1080p", "4k": "4k"}


def _generation(model: str, off: float, on: float | None, credits: str) -> Price:
    name, _, mode = model.partition("/")
    return Price(off, on, source=_PRICE.format(model=name, task="generation", resolution=_RESOLUTION[mode],
                                               credits=credits))


def _v2v(model: str, usd: float, credits: str, seconds_from: str = "") -> Price:
    name, _, mode = model.partition("/")
    return Price(usd, seconds_from=seconds_from, source=_PRICE.format(
        model=name, task="video to video, edit", resolution=_RESOLUTION[mode], credits=credits))


_O3_PRICES = {"std": ("17.72 audio off, 23.63 on", 0.084, 0.112), "pro": ("23.63 audio off, 29.54 on", 0.112, 0.14),
              "4k": ("88.62 audio off or on", 0.42, 0.42)}
_O1_PRICES = {"std": ("17.72", 0.084), "pro": ("23.63", 0.112)}
_V2V_PRICES = {"std": ("26.59", 0.126), "pro": ("35.45", 0.168)}   # the same for both models

_T2V = ("prompt", "multi_prompt", "duration", "aspect_ratio", "generate_audio")
_I2V_O3 = ("image_url", "end_image_url", "prompt", "multi_prompt", "duration", "generate_audio")
_I2V_O1 = ("start_image_url", "end_image_url", "prompt", "duration")
_R2V_O1 = ("prompt", "image_urls", "aspect_ratio", "duration")
_R2V_O3 = ("start_image_url", "end_image_url", "prompt", "multi_prompt", "image_urls", "aspect_ratio", "duration",
           "generate_audio")
_EDIT = ("video_url", "prompt", "image_urls", "keep_audio")
_REFERENCE = _EDIT + ("aspect_ratio", "duration")
# Kling: "at most 7 images without a reference video"; a video reference lasts 3-10 s (Comfy's
# OmniProVideoToVideoNode: duration 3-10 for both models) and takes no "auto" frame shape.
_SEVEN = (("image_urls", 7),)
_REFERENCE_LIMITS = (("duration", tuple(str(n) for n in range(3, 11))), ("aspect_ratio", ("16:9", "9:16", "1:1")))


def _o3(fields: tuple, mode: str, limits: tuple = ()) -> Offer:
    credits, off, on = _O3_PRICES[mode]
    model = f"kling-v3-omni/{mode}"
    return Offer("kling", model, fields, _generation(model, off, on, credits), _SOURCE, limits)


def _o1(fields: tuple, mode: str, limits: tuple = ()) -> Offer:
    credits, usd = _O1_PRICES[mode]
    model = f"kling-video-o1/{mode}"
    return Offer("kling", model, fields, _generation(model, usd, None, credits), _SOURCE, limits)


def _video(name: str, mode: str, edit: bool) -> Offer:
    credits, usd = _V2V_PRICES[mode]
    model = f"{name}/{mode}"
    # An edit lasts as long as its source video ("duration follows input video on Edit").
    return Offer("kling", model, _EDIT if edit else _REFERENCE, _v2v(model, usd, credits, "video" if edit else ""),
                 _SOURCE, () if edit else _REFERENCE_LIMITS)


OMNI_OFFERS = {
    "o3-std-t2v": _o3(_T2V, "std"), "o3-pro-t2v": _o3(_T2V, "pro"), "o3-4k-t2v": _o3(_T2V, "4k"),
    "o3-std-i2v": _o3(_I2V_O3, "std"), "o3-pro-i2v": _o3(_I2V_O3, "pro"), "o3-4k-i2v": _o3(_I2V_O3, "4k"),
    "o1-std-i2v": _o1(_I2V_O1, "std"), "o1-pro-i2v": _o1(_I2V_O1, "pro"),
    "o1-std-r2v": _o1(_R2V_O1, "std"), "o1-pro-r2v": _o1(_R2V_O1, "pro"),
    "o3-std-r2v": _o3(_R2V_O3, "std", _SEVEN), "o3-pro-r2v": _o3(_R2V_O3, "pro", _SEVEN),
    **{f"{o}-{mode}-v2v-{kind}": _video(name, mode, kind == "edit")
       for o, name in (("o1", "kling-video-o1"), ("o3", "kling-v3-omni"))
       for mode in ("std", "pro") for kind in ("edit", "ref")},
}
