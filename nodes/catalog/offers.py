"""Who besides fal serves each catalog variant: Kling's own API, AI/ML API and Vercel AI Gateway, as Offers
(the provider's model id, the catalog fields it takes, its limits and its price).

with_other_providers(variant) adds them to a fal entry; catalog/variants.py applies it to every entry.
"""
from __future__ import annotations

from dataclasses import replace

from .enums import TWO_PERSON_EFFECTS
from .omni_offers import OMNI_OFFERS
from .schema import DURATIONS_5_10, Offer, Price, Variant

_NO_PRICE = Price(None, source="the provider publishes no per-second price we could find (provider_protocols.md §3-§5)")

# Kling's own list prices (research16.md §4.3). Kling's price page is in no corpus we could read; the figures
# are ComfyUI's partner-node price table, which charges "the model maker's list price" in credits at 211 credits
# = $1 (docs.comfy.org/catalog/models/kling/kling-v2-6): a third party's publication of Kling's prices,
# cross-checked in CNY against ye4293/one-api common/video-pricing.go @ f3e60afa (also third-party).
_COMFY = ("Kling's list price as published by a third party: Comfy-Org/docs tutorials/partner-nodes/pricing.mdx "
          "@ ffb27fc2 (2026-08-21), {credits} credits/s at 211 credits = $1; one-api video-pricing.go agrees in CNY")
_KLING_PRICES = {
    "kling-v3/std": Price(0.084, 0.126, source=_COMFY.format(credits="kling-v3 720p: 17.72 audio off, 26.59 on")),
    "kling-v3/pro": Price(0.112, 0.168, source=_COMFY.format(credits="kling-v3 1080p: 23.63 audio off, 35.45 on")),
    "kling-v2-6/pro": Price(0.07, 0.14, source=_COMFY.format(credits="kling-v2-6: 14.77 audio off, 29.54 on")),
    "kling-v2-5-turbo/pro": Price(0.07, source=_COMFY.format(credits="kling-v2-5-turbo pro: 73.85 per 5 s run, "
                                                                     "147.7 per 10 s run, i.e. 14.77")),
    "kling-v3/4k": Price(0.42, 0.42, source=_COMFY.format(credits="kling-v3 4k: 88.62 audio off or on")),
    # Billed on the audio's length, as fal bills its avatar nodes.
    "avatar/std": Price(0.056, seconds_from="audio", source=_COMFY.format(credits="Avatar 2.0 std: 11.82")),
    "avatar/pro": Price(0.112, seconds_from="audio", source=_COMFY.format(credits="Avatar 2.0 pro: 23.63")),
}

# AI/ML API publishes no Kling prices we could find (its api-docs repository has none); these are one user's
# observations of what AI/ML API charged (research16.md §4.4, find_string ids 60300044561 and 62764550425).
_AIML_SEEN = "observed, third-party (June 2026): a user's notes of AI/ML API's charges, not AI/ML API's publication; "
_AIML_PRICES = {
    "klingai/video-v3-standard-image-to-video": Price(0.218, 0.327, source=_AIML_SEEN + "$0.218/s ($1.09 per 5 s), "
                                                      "audio on +50%"),
    "klingai/video-v3-standard-text-to-video": Price(0.218, 0.327, source=_AIML_SEEN + "$0.218/s ($1.09 per 5 s), "
                                                     "audio on +50%"),
    "klingai/video-v3-pro-image-to-video": Price(0.291, 0.4365, source=_AIML_SEEN + "$0.291/s ($1.46 per 5 s), "
                                                 "audio on +50%"),
    "klingai/video-v3-pro-text-to-video": Price(0.291, 0.4365, source=_AIML_SEEN + "$0.291/s ($1.46 per 5 s), "
                                                "audio on +50%"),
    "klingai/video-o1-reference-to-video": Price(0.112, source=_AIML_SEEN + "$0.56 per 5 s"),
    "kling-video/v1/standard/text-to-video": Price(0.029, source=_AIML_SEEN + "$0.029/s"),
    "kling-video/v1/standard/image-to-video": Price(0.029, source=_AIML_SEEN + "$0.029/s"),
    "klingai/v2.1-master-text-to-video": Price(0.294, source=_AIML_SEEN + "$0.294/s"),
    "klingai/v2.1-master-image-to-video": Price(0.294, source=_AIML_SEEN + "$0.294/s"),
}
# Vercel AI Gateway prices its Kling models only in its live model feed (research16.md §4.2); the one captured
# figure (kling-v3.0-motion-control) is for a model no offer here uses. Its offers keep _NO_PRICE.
_PUBLISHED = {"kling": _KLING_PRICES, "aimlapi": _AIML_PRICES}

# Kling 3.0 Turbo on Kling's own API (nodes/providers/kling_turbo.py). Sources: ComfyUI 0.33.0's own code
# (Comfy-Org: first-party for ComfyUI, third-party for Kling), comfy_api_nodes/nodes_kling.py execute_kling_turbo
# and apis/kling.py Kling3Turbo*, plus the third-party pages of research16.md §3.2 (ye4293/one-api). Its only
# settings are resolution 720p|1080p, duration 3-15 and (text to video) aspect ratio; one first frame, no end
# frame; shots go as one prompt (Comfy's build_turbo_shot_prompt). No source names a std|pro Turbo: standard is
# 720p and pro 1080p because Comfy's Kling 3.0 node sends resolution 720p as mode std and 1080p as pro, and its
# Turbo prices per resolution equal fal's Turbo standard and pro prices. Audio is always on ("Always generates
# audio; the audio toggle is ignored", Comfy-Org/docs pricing.mdx): the Turbo nodes have no audio switch.
_TURBO_SOURCE = ("ComfyUI 0.33.0 code (Comfy-Org; third party for Kling): comfy_api_nodes/nodes_kling.py "
                 "execute_kling_turbo, apis/kling.py Kling3Turbo*; research16.md §3.2 third-party pages; "
                 "std = 720p, pro = 1080p by Comfy's resolution-to-mode mapping and matching prices")
_TURBO_PRICE = ("Kling's list price as published by a third party: Comfy-Org/docs tutorials/partner-nodes/"
                "pricing.mdx @ 000ac58b, kling-3.0-turbo {credits} credits/s at 211 credits = $1 (audio always on); "
                "ComfyUI 0.33.0's KlingVideoNode price badge: ${usd}/s")
_KLING_PRICES.update({
    "kling-3.0-turbo/720p": Price(0.112, source=_TURBO_PRICE.format(credits="720p: 23.63", usd="0.112")),
    "kling-3.0-turbo/1080p": Price(0.14, source=_TURBO_PRICE.format(credits="1080p: 29.54", usd="0.14")),
})
_TURBO_I2V = ("image_url", "prompt", "multi_prompt", "duration")

# Motion control on Kling's own API (nodes/providers/kling_tasks.py): POST /v1/videos/motion-control with
# model_name kling-v3 | kling-v2-6 and mode std | pro. The reference video goes as a link only (Kling keeps no
# uploads); the v3 nodes' face element is not offered (Kling's element_list takes ids of elements registered at
# Kling, not images). Billed per second of output, which follows the reference video.
_MOTION_SOURCE = ("ComfyUI 0.33.0 code (Comfy-Org; third party for Kling): comfy_api_nodes/nodes_kling.py "
                  "MotionControl, apis/kling.py MotionControlRequest; provider_protocols.md §5.4; third-party mirror "
                  "of Kling's page: cuijinyu/new-api web/src/pages/Documentation/content/kling-motion-control.en.md "
                  "(image_url Base64 or URL, video_url a link)")
_MOTION_PRICE = ("Kling's list price as published by a third party: Comfy-Org/docs tutorials/partner-nodes/pricing.mdx"
                 " @ 000ac58b, {model} motion control {mode} {credits} credits/s of output at 211 credits = $1; "
                 "ComfyUI 0.33.0's MotionControl price badge: ${usd}/s")

_MOTION = ("image_url", "video_url", "character_orientation", "prompt", "keep_original_sound")  # motion control's fields, on every provider that serves it

def _motion(model: str, usd: float, credits: str) -> Offer:
    model_name, mode = model.split("/")
    price = Price(usd, seconds_from="reference_video",
                  source=_MOTION_PRICE.format(model=model_name, mode=mode, credits=credits, usd=usd))
    return Offer("kling", model, _MOTION, price, _MOTION_SOURCE)
_KLING_TURBO = {
    "v3-turbo-std-i2v": Offer("kling", "kling-3.0-turbo/720p", _TURBO_I2V, _NO_PRICE, _TURBO_SOURCE),
    "v3-turbo-pro-i2v": Offer("kling", "kling-3.0-turbo/1080p", _TURBO_I2V, _NO_PRICE, _TURBO_SOURCE),
    "v3-turbo-pro-t2v": Offer("kling", "kling-3.0-turbo/1080p", ("prompt", "multi_prompt", "duration",
                                                                 "aspect_ratio"), _NO_PRICE, _TURBO_SOURCE),
}
# Lip sync on Kling's own API (nodes/providers/kling_tasks.py): POST /v1/videos/lip-sync, one flat price a run.
# The face video goes as a link only (Kling keeps no uploads) and must last 2-10 s (the text node allows 60 s on
# fal: kling_tasks refuses a longer one before any request).
_LIP_SYNC_SOURCE = ("ComfyUI 0.33.0 code (Comfy-Org; third party for Kling): comfy_api_nodes/nodes_kling.py "
                    "execute_lipsync, apis/__init__.py KlingLipSyncRequest; third-party copy of Kling's page: "
                    "timerring/dmx-docs-test docs/zh/models/kling/api/video-sync-lip.md")
_LIP_SYNC_PRICE = Price(0.07, per_request=True, source="Kling's list price as published by a third party: "
                        "Comfy-Org/docs tutorials/partner-nodes/pricing.mdx @ 000ac58b, Lip Sync 14.77 credits/run at "
                        "211 credits = $1 (ComfyUI 0.33.0's own badge says ~$0.1)")
# Video to audio on Kling's own API (nodes/providers/kling_audio.py): POST /v1/audio/video-to-audio. The video goes
# as a link only (Kling keeps no uploads); the result's task_result.videos[0] is the video with its soundtrack.
_V2A_SOURCE = ("third-party copies of Kling's documentation only: a copy of klingai.com/document-api/api/video/"
               "audio-generation/video-to-audio.md kept in a public repository (find_string id 71044361333: video_id "
               "or video_url, a link to an mp4/mov of at most 100 MB and 3-20 s; sound_effect_prompt and bgm_prompt "
               "<= 200; asmr_mode; result task_result.videos[{id, url, duration}] and audios[{id, url_mp3, "
               "url_wav}]); the SDK okaris/kling @ 80af2f82 (kling/models/audio.py VideoToAudioRequest) agrees")
_V2A_PRICE = Price(None, source="not published anywhere we could read: Kling's price page is in no corpus, and "
                                "Comfy-Org/docs pricing.mdx lists no Kling video to audio")
# Video effects on Kling's own API (nodes/providers/kling_effects.py): POST /v1/videos/effects. The source allows
# 8 of the catalog's scenes: the two-person ones on kling-v1 | v1-5 | v1-6 std | pro, 5 or 10 s; the one-image
# ones on kling-v1-6 with no mode (so std only) and 5 s only (kling_effects refuses 10 s).
_EFFECTS_SOURCE = ("ComfyUI 0.33.0 code (Comfy-Org; third party for Kling): comfy_api_nodes/apis/__init__.py "
                   "KlingVideoEffectsRequest, KlingSingleImageEffectInput, KlingDualCharacterEffectInput, generated "
                   "from Kling's own OpenAPI for Comfy's proxy (/proxy/kling/v1/videos/effects)")
_EFFECTS_PRICE = Price(None, source="not published anywhere we could read: Comfy-Org's price list says only \"Priced "
                                    "the same as t2v based on mode, model, and duration\" for its two-person effects "
                                    "node, with no figure")
_ONE_IMAGE_EFFECTS = ("bloombloom", "dizzydizzy", "fuzzyfuzzy", "squish", "expansion")


def _effects(model: str) -> Offer:
    scenes = TWO_PERSON_EFFECTS + (_ONE_IMAGE_EFFECTS if model == "kling-v1-6/std" else ())
    return Offer("kling", f"effects/{model}", ("input_image_urls", "effect_scene", "duration"), _EFFECTS_PRICE,
                 _EFFECTS_SOURCE, limits=(("effect_scene", scenes),))
_KLING_OWN_ROUTES = {
    "video-to-audio": Offer("kling", "video-to-audio", ("video_url", "sound_effect_prompt", "background_music_prompt",
                                                        "asmr_mode"), _V2A_PRICE, _V2A_SOURCE),
    "lipsync-a2v": Offer("kling", "lip-sync/audio2video", ("video_url", "audio_url"), _LIP_SYNC_PRICE,
                         _LIP_SYNC_SOURCE),
    "lipsync-t2v": Offer("kling", "lip-sync/text2video", ("video_url", "text", "voice_id", "voice_language",
                                                          "voice_speed"), _LIP_SYNC_PRICE, _LIP_SYNC_SOURCE),
    **_KLING_TURBO,
    **OMNI_OFFERS,  # O1 / O3 on Kling's Omni-Video route: omni_offers.py
    "v2.6-std-motion": _motion("kling-v2-6/std", 0.07, "14.77"),
    "v2.6-pro-motion": _motion("kling-v2-6/pro", 0.112, "23.63"),
    "v3-std-motion": _motion("kling-v3/std", 0.126, "26.59"),
    "v3-pro-motion": _motion("kling-v3/pro", 0.168, "35.45"),
    "v1-std-effects": _effects("kling-v1/std"),
    "v1.5-pro-effects": _effects("kling-v1-5/pro"),
    "v1.6-std-effects": _effects("kling-v1-6/std"),
    "v1.6-pro-effects": _effects("kling-v1-6/pro"),
}


def _priced(offer: Offer) -> Offer:
    """The offer with its provider's published price, where one is known and the offer has none."""
    known = _PUBLISHED.get(offer.provider, {}).get(offer.model)
    return replace(offer, price=known) if known is not None and offer.price.audio_off is None else offer

# Kling 2.6 Pro on the other providers (provider_protocols.md §3 AI/ML API, §4 Vercel AI Gateway, §5 Kling).
_V26_PRO = {
    "v2.6-pro-i2v": (
        Offer("kling", "kling-v2-6/pro", ("start_image_url", "end_image_url", "prompt", "duration", "negative_prompt",
                                          "generate_audio", "voice_ids"), _NO_PRICE,
              "provider_protocols.md §5.4 (POST /v1/videos/image2video, model_name kling-v2-6, mode pro)"),
        Offer("aimlapi", "klingai/video-v2-6-pro-image-to-video",
              ("start_image_url", "end_image_url", "prompt", "duration", "negative_prompt", "generate_audio"),
              _NO_PRICE, "seed 004; provider_protocols.md §3.2 (tail_image_url from the older AI/ML API spec)"),
        Offer("vercel", "klingai/kling-v2.6-i2v/pro", ("start_image_url", "end_image_url", "prompt", "duration",
                                                   "negative_prompt", "generate_audio", "voice_ids"), _NO_PRICE,
              "seed 002; provider_protocols.md §4.1-§4.2"),
    ),
    "v2.6-pro-t2v": (
        Offer("kling", "kling-v2-6/pro", ("prompt", "duration", "aspect_ratio", "negative_prompt", "generate_audio"),
              _NO_PRICE, "provider_protocols.md §5.4 (text2video; cfg_scale is not supported by kling-v2.x)"),
        Offer("aimlapi", "klingai/video-v2-6-pro-text-to-video",
              ("prompt", "duration", "aspect_ratio", "negative_prompt", "cfg_scale", "generate_audio"), _NO_PRICE,
              "seed 004; provider_protocols.md §3.2"),
        Offer("vercel", "klingai/kling-v2.6-t2v/pro", ("prompt", "duration", "aspect_ratio", "negative_prompt",
                                                   "generate_audio"), _NO_PRICE,
              "provider_protocols.md §4 (model id by analogy with klingai/kling-v2.6-i2v; cfgScale: not v2.x)"),
    ),
}

# Kling's own API serves the same models by `model_name` and `mode` (provider_protocols.md §5.4); the
# model is written "<model_name>/<mode>". Fields it takes, in the catalog's (fal's) names: no cfg_scale on
# v2.x, no aspect ratio for image to video (the image decides), no motion brush or camera presets here.
_KLING_MODELS = {
    "v1-std-t2v": "kling-v1/std", "v1.5-pro-t2v": "kling-v1-5/pro", "v1.6-std-t2v": "kling-v1-6/std",
    "v1.6-pro-t2v": "kling-v1-6/pro", "v2-master-t2v": "kling-v2-master/pro", "v2.1-master-t2v": "kling-v2-1-master/pro",
    "v2.5-turbo-pro-t2v": "kling-v2-5-turbo/pro", "v3-std-t2v": "kling-v3/std", "v3-pro-t2v": "kling-v3/pro",
    "v1-std-i2v": "kling-v1/std", "v1.5-pro-i2v": "kling-v1-5/pro", "v1.6-std-i2v": "kling-v1-6/std",
    "v1.6-pro-i2v": "kling-v1-6/pro", "v2-master-i2v": "kling-v2-master/pro", "v2.1-std-i2v": "kling-v2-1/std",
    "v2.1-pro-i2v": "kling-v2-1/pro", "v2.1-master-i2v": "kling-v2-1-master/pro",
    "v2.5-turbo-std-i2v": "kling-v2-5-turbo/std", "v2.5-turbo-pro-i2v": "kling-v2-5-turbo/pro",
    "v3-std-i2v": "kling-v3/std", "v3-pro-i2v": "kling-v3/pro",
    "v3-4k-t2v": "kling-v3/4k", "v3-4k-i2v": "kling-v3/4k",
    "v1.6-std-elements": "kling-v1-6/std", "v1.6-pro-elements": "kling-v1-6/pro",
    "avatar-v2-std": "avatar/std", "avatar-v2-pro": "avatar/pro",
}
_KLING_TAKES = {"prompt", "negative_prompt", "duration", "image_url", "tail_image_url", "start_image_url",
                "end_image_url", "generate_audio", "voice_ids", "multi_prompt", "shot_type", "audio_url"}
# Avatar 2.0 (Comfy's price table names it so): Kling's avatar route takes no model name, only the mode.
_AVATAR = ("a copy of Kling's API documentation text kept in a public repository (find_string id 46140562610, "
           "'Avatar': POST /v1/videos/avatar/image2video; image, sound_file (base64 or URL; mp3/wav/m4a/aac, "
           "<=5 MB, 2-300 s), prompt, mode std|pro); the version (2.0) from Comfy-Org/docs pricing.mdx, third party")
# Where a model's facts come from somewhere other than provider_protocols.md §5.4.
_KLING_SOURCES = {
    "kling-v3/4k": "third-party only (research16.md §3.2): text2video/image2video with model_name kling-v3, mode "
                   "4k in ye4293/one-api common/video-pricing.go @ f3e60afa and ComfyUI's Kling 3.0 node; no copy "
                   "of Kling's own pages spells mode 4k",
    "avatar/std": _AVATAR, "avatar/pro": _AVATAR,
}
# Multi-image to video (fal's v1.6 elements): the official page the mirrors point to
# (app.klingai.com/.../multiImageToVideo) could not be read. Kling publishes no price for it we could find.
_MULTI_IMAGE = ("provider_protocols.md §5.3-§5.4 (POST /v1/videos/multi-image2video and its body fields, from the "
                "AI SDK's Kling provider, vercel/ai packages/klingai); 'kling-v1-6 only' and 'image_list 1-4' from "
                "third-party mirrors of Kling's documentation only (research16.md §3.2: docs.anyfast.ai, "
                "doc.ezmodel.cloud, gpt.morphogen.top)")


def _with_kling(v: Variant) -> Variant:
    if v.key in _KLING_OWN_ROUTES and not any(o.provider == "kling" for o in v.offers):
        return replace(v, offers=v.offers + (_KLING_OWN_ROUTES[v.key],))
    model = _KLING_MODELS.get(v.key)
    if model is None or any(o.provider == "kling" for o in v.offers):
        return v
    takes = set(_KLING_TAKES)
    source = _KLING_SOURCES.get(model) or "provider_protocols.md §5.4 (model_name and mode)"
    if v.family in ("text-to-video", "multi-image"):
        takes.add("aspect_ratio")
    if v.family == "multi-image":
        takes.add("input_image_urls")
        source = _MULTI_IMAGE
    if not model.startswith("kling-v2"):
        takes.add("cfg_scale")
    fields = tuple(f.wire for f in v.fields if f.wire in takes)
    return replace(v, offers=v.offers + (Offer("kling", model, fields, _NO_PRICE, source),))


# The resellers' other Kling models. AI/ML API: the OpenAPI files of github.com/aimlapi/api-docs
# (docs/api-references/video-models/Kling-AI/*.json at f14fa72f, 2026-08-21). Vercel AI Gateway: the
# GatewayVideoModelId list of github.com/vercel/ai (packages/gateway/src/gateway-video-model-settings.ts at
# ed857f50) with the providerOptions.klingai of packages/klingai. Their prices, where known: _PUBLISHED above.
_AIML = "github.com/aimlapi/api-docs docs/api-references/video-models/Kling-AI/"
_VERCEL = "github.com/vercel/ai packages/gateway/src/gateway-video-model-settings.ts; packages/klingai options"
_V3_AIML = ("prompt", "duration", "generate_audio", "negative_prompt", "cfg_scale", "shot_type")
_V3_VERCEL = ("prompt", "multi_prompt", "shot_type", "duration", "negative_prompt", "cfg_scale", "generate_audio",
              "voice_ids")
_FIVE_TEN = ("duration", DURATIONS_5_10)
_RESELLERS = {
    "v2.6-pro-motion": (
        Offer("aimlapi", "klingai/video-v2-6-motion-control/pro", _MOTION, _NO_PRICE,
              _AIML + "video-v2-6-pro-motion-control.json (model enum renamed from -pro- on 2026-06-10; mode field)"),),
    "v2.6-std-motion": (
        Offer("aimlapi", "klingai/video-v2-6-motion-control/std", _MOTION, _NO_PRICE,
              _AIML + "video-v2-6-pro-motion-control.json (mode std)"),),
    "v3-pro-motion": (
        Offer("aimlapi", "klingai/video-v3-motion-control/pro", _MOTION, _NO_PRICE,
              _AIML + "klingai-video-v3-motion-control-schema.json (no elements field)"),),
    "v3-std-motion": (
        Offer("aimlapi", "klingai/video-v3-motion-control/std", _MOTION, _NO_PRICE,
              _AIML + "klingai-video-v3-motion-control-schema.json (mode std)"),),
    "v3-pro-i2v": (
        Offer("aimlapi", "klingai/video-v3-pro-image-to-video", ("start_image_url", "end_image_url") + _V3_AIML,
              _NO_PRICE, _AIML + "video-v3-pro-image-to-video.json (its multi_prompt is a list of plain strings, "
                                 "its elements have no voice: neither is offered)"),
        Offer("vercel", "klingai/kling-v3.0-i2v/pro", ("start_image_url", "end_image_url") + _V3_VERCEL,
              _NO_PRICE, _VERCEL)),
    "v3-std-i2v": (
        Offer("aimlapi", "klingai/video-v3-standard-image-to-video", ("start_image_url", "end_image_url") + _V3_AIML,
              _NO_PRICE, _AIML + "video-v3-standard-image-to-video.json"),
        Offer("vercel", "klingai/kling-v3.0-i2v/std", ("start_image_url", "end_image_url") + _V3_VERCEL,
              _NO_PRICE, _VERCEL)),
    "v3-pro-t2v": (
        Offer("aimlapi", "klingai/video-v3-pro-text-to-video", _V3_AIML + ("aspect_ratio",), _NO_PRICE,
              _AIML + "video-v3-pro-text-to-video.json"),
        Offer("vercel", "klingai/kling-v3.0-t2v/pro", _V3_VERCEL + ("aspect_ratio",), _NO_PRICE, _VERCEL)),
    "v3-std-t2v": (
        Offer("aimlapi", "klingai/video-v3-standard-text-to-video", _V3_AIML + ("aspect_ratio",), _NO_PRICE,
              _AIML + "video-v3-standard-text-to-video.json"),
        Offer("vercel", "klingai/kling-v3.0-t2v/std", _V3_VERCEL + ("aspect_ratio",), _NO_PRICE, _VERCEL)),
    "v3-turbo-pro-i2v": (
        Offer("aimlapi", "klingai/video-v3-turbo-pro-image-to-video", ("image_url", "prompt", "multi_prompt",
                                                                       "duration"), _NO_PRICE,
              _AIML + "v3-turbo-pro-image-to-video.json"),),
    "v3-turbo-std-i2v": (
        Offer("aimlapi", "klingai/video-v3-standard-turbo-image-to-video", ("image_url", "prompt", "multi_prompt",
                                                                            "duration"), _NO_PRICE,
              _AIML + "v3-standard-turbo-image-to-video.json"),),
    "v3-turbo-pro-t2v": (
        Offer("aimlapi", "klingai/video-v3-turbo-pro-text-to-video", ("prompt", "multi_prompt", "duration",
                                                                      "aspect_ratio"), _NO_PRICE,
              _AIML + "v3-turbo-pro-text-to-video.json"),),
    "o1-pro-i2v": (
        Offer("aimlapi", "klingai/video-o1-image-to-video", ("start_image_url", "end_image_url", "prompt",
                                                             "duration"), _NO_PRICE,
              _AIML + "video-o1-image-to-video.json (last_image_url; duration 5 or 10)", limits=(_FIVE_TEN,)),),
    "o1-pro-r2v": (
        Offer("aimlapi", "klingai/video-o1-reference-to-video", ("prompt", "elements", "image_urls", "aspect_ratio",
                                                                 "duration"), _NO_PRICE,
              _AIML + "video-o1-reference-to-video.json (image_list; at most 4 elements; duration 5 or 10)",
              limits=(_FIVE_TEN, ("elements", 4))),),
    "o1-pro-v2v-edit": (
        Offer("aimlapi", "klingai/video-o1-video-to-video-edit", ("video_url", "prompt", "elements", "image_urls",
                                                                  "keep_audio"), _NO_PRICE,
              _AIML + "video-o1-video-to-video-edit.json"),),
    "o1-pro-v2v-ref": (
        Offer("aimlapi", "klingai/video-o1-video-to-video-reference", ("video_url", "prompt", "elements", "image_urls",
                                                                       "keep_audio", "aspect_ratio", "duration"),
              _NO_PRICE, _AIML + "video-o1-video-to-video-reference.json (no 'auto' aspect ratio; duration 5 or 10)",
              limits=(_FIVE_TEN, ("aspect_ratio", ("16:9", "9:16", "1:1")))),),
    "v2.5-turbo-pro-i2v": (
        Offer("vercel", "klingai/kling-v2.5-turbo-i2v/pro", ("image_url", "tail_image_url", "prompt", "duration",
                                                             "negative_prompt"), _NO_PRICE,
              _VERCEL + " (cfgScale: not v2.x)"),),
    "v2.5-turbo-std-i2v": (
        Offer("vercel", "klingai/kling-v2.5-turbo-i2v/std", ("image_url", "prompt", "duration", "negative_prompt"),
              _NO_PRICE, _VERCEL),),
    "v2.5-turbo-pro-t2v": (
        Offer("vercel", "klingai/kling-v2.5-turbo-t2v/pro", ("prompt", "duration", "aspect_ratio", "negative_prompt"),
              _NO_PRICE, _VERCEL),),
}

# AI/ML API's older Kling ids (the same api-docs folder: v1-*.json ... v2.5-turbo-pro-*.json): image_url and
# tail_image_url, integer duration 5|10, negative_prompt, cfg_scale, aspect_ratio on text to video. Their
# motion brush and camera fields are left to fal and Kling: their shapes differ from fal's and no example
# shows them sent.
_AIML_LEGACY = {
    "v1-std-t2v": "kling-video/v1/standard/text-to-video", "v1-std-i2v": "kling-video/v1/standard/image-to-video",
    "v1.5-pro-t2v": "kling-video/v1.5/pro/text-to-video", "v1.5-pro-i2v": "kling-video/v1.5/pro/image-to-video",
    "v1.6-std-t2v": "kling-video/v1.6/standard/text-to-video", "v1.6-pro-t2v": "kling-video/v1.6/pro/text-to-video",
    "v1.6-std-i2v": "kling-video/v1.6/standard/image-to-video", "v1.6-pro-i2v": "kling-video/v1.6/pro/image-to-video",
    "v2-master-t2v": "klingai/v2-master-text-to-video", "v2-master-i2v": "klingai/v2-master-image-to-video",
    "v2.1-master-t2v": "klingai/v2.1-master-text-to-video", "v2.1-master-i2v": "klingai/v2.1-master-image-to-video",
    "v2.1-std-i2v": "kling-video/v2.1/standard/image-to-video", "v2.1-pro-i2v": "kling-video/v2.1/pro/image-to-video",
    "v2.5-turbo-pro-t2v": "klingai/v2.5-turbo/pro/text-to-video",
    "v2.5-turbo-pro-i2v": "klingai/v2.5-turbo/pro/image-to-video",
}
_AIML_LEGACY_TAKES = ("prompt", "image_url", "tail_image_url", "duration", "negative_prompt", "cfg_scale")


def _aiml_legacy(v: Variant) -> tuple[Offer, ...]:
    model = _AIML_LEGACY.get(v.key)
    if model is None:
        return ()
    takes = _AIML_LEGACY_TAKES + (("aspect_ratio",) if v.family == "text-to-video" else ())
    name = model.replace("/", "-").removeprefix("klingai-").removeprefix("kling-video-")
    return (Offer("aimlapi", model, tuple(f.wire for f in v.fields if f.wire in takes), _NO_PRICE,
                  f"{_AIML}{name}.json"),)


def _with_resellers(v: Variant) -> Variant:
    have = {o.provider for o in v.offers}
    extra = tuple(o for o in _RESELLERS.get(v.key, ()) + _aiml_legacy(v) if o.provider not in have)
    return replace(v, offers=v.offers + extra) if extra else v


def with_other_providers(v: Variant) -> Variant:
    if v.key in _V26_PRO:
        v = replace(v, offers=v.offers + _V26_PRO[v.key])
    v = _with_resellers(_with_kling(v))
    return replace(v, offers=tuple(map(_priced, v.offers))) if v.offers else v
