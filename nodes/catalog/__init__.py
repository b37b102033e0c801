"""The declarative catalog: one entry per Kling variant.

A node, its CLI sub-command, its request body, its validation and its price all come from an entry here,
so adding a variant is adding an entry (and a test), never a class. Nothing here knows ComfyUI or HTTP.
Field lists come from fal's schemas: seed 003 ("Other types") and the typed endpoint map of
@fal-ai/client 1.10.1 (reference/provider_protocols.md Appendix A/B); each entry names its source.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Optional

from .enums import EFFECT_SCENES, LIPSYNC_VOICES
from ..media_in.encode import MediaLimits

NEGATIVE_DEFAULT = "blur, distort, and low quality"
# Kling's own API caps prompts at 2500 characters; fal passes them through.
PROMPT_MAX = 2500
DURATIONS_5_10 = ("5", "10")
DURATIONS_3_15 = tuple(str(n) for n in range(3, 16))

# Field kinds and the ComfyUI input each becomes:
#   text, string, string_list → STRING widget; enum → combo; bool → toggle; float, int → number widget
#   image → IMAGE (one image); images → IMAGE batch; mask → MASK; video → VIDEO; audio → AUDIO
#   shots, elements, dynamic_masks, camera → the pack's own types, built by its helper nodes
# An elements field's options name fal's element type: "combo" (default; KlingV3ComboElementInput: a frontal
# image + 1-3 references, or one video with a voice), "omni" (OmniVideoElementInput: frontal + 1-3
# references) or "image" (ElementInput: frontal and/or 0-3 references).
MEDIA_KINDS = ("image", "images", "mask", "video", "audio")
STRUCT_KINDS = ("shots", "elements", "dynamic_masks", "camera")


@dataclass(frozen=True)
class Field:
    """One input of a variant: how the node shows it and what the provider receives."""

    wire: str                       # field name in the provider's request body
    kind: str
    input: str = ""                 # node/CLI input name, when it differs from `wire`
    required: bool = False
    default: Any = None
    options: tuple = ()
    min: Optional[float] = None
    max: Optional[float] = None
    step: Optional[float] = None
    min_items: Optional[int] = None
    max_items: Optional[int] = None
    max_length: Optional[int] = None
    media: Optional[MediaLimits] = None
    same_size_as: str = ""          # a mask must match this image input
    multiline: bool = False
    cli_alias: str = ""             # a shorter CLI flag, e.g. --image for start_frame
    tooltip: str = ""

    @property
    def name(self) -> str:
        return self.input or self.wire


@dataclass(frozen=True)
class Price:
    """US dollars per second of video; the rate depends on the audio settings. `None` = not published."""

    audio_off: Optional[float]
    audio_on: Optional[float] = None
    voice: Optional[float] = None   # audio on and voice ids given
    per_request: bool = False       # a flat price per request, not per second
    seconds_from: str = ""          # bill the length of this video input, not the `duration` field
    round_up_to: int = 1            # billed seconds are rounded up to a multiple of this
    source: str = ""

    def describe(self) -> str:
        """'$0.07/s, $0.14/s with audio, $0.168/s with voices' or 'not published'."""
        if self.audio_off is None:
            return "not published"
        text = f"${self.audio_off:g}/{'request' if self.per_request else 's'}"
        if self.audio_on is not None:
            text += f", ${self.audio_on:g}/s with audio"
        if self.voice is not None:
            text += f", ${self.voice:g}/s with voices"
        if self.seconds_from:
            text += f" of the {self.seconds_from.replace('_', ' ')}"
            text += f" (rounded up to {self.round_up_to} s)" if self.round_up_to > 1 else ""
        return text


UNKNOWN = Price(None, source="not published on fal's pages we could find")


@dataclass(frozen=True)
class Offer:
    """A provider other than fal that serves a variant: its model id, the catalog fields (fal's wire
    names) it can take, and its price. The provider's module maps the names onto its own wire format."""

    provider: str
    model: str                      # the provider's model id; "<id>/<mode>" where Kling's std|pro is a setting
    fields: tuple[str, ...]
    price: Price
    source: str
    # Where the provider takes less than fal: (field, allowed values) or (field, most items), e.g.
    # (("duration", ("5", "10")), ("elements", 4)).
    limits: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Variant:
    key: str                        # short stable id, also the CLI sub-command
    node_id: str                    # ComfyUI node id (prefixed: ids are global in ComfyUI)
    display_name: str
    endpoint: str                   # fal endpoint id
    fields: tuple[Field, ...]
    price: Price
    family: str = ""                # text-to-video, image-to-video, ... (README and example workflows)
    description: str = ""
    source: str = ""                # where the field list comes from
    aliases: tuple[str, ...] = ()   # extra CLI names
    typical_seconds: int = 120      # wall time a job usually takes, for the progress estimate
    output: str = "video"           # video | voice | audio
    rules: tuple[Callable, ...] = ()  # cross-field checks, see request.py
    duration_field: str = "duration"
    audio_field: Optional[str] = None
    voice_field: Optional[str] = None
    offers: tuple[Offer, ...] = ()   # providers besides fal

    @property
    def providers(self) -> tuple[str, ...]:
        return ("fal",) + tuple(o.provider for o in self.offers)

    def offer(self, provider: str) -> Offer:
        if provider == "fal":
            return Offer("fal", self.endpoint, tuple(f.wire for f in self.fields), self.price, self.source)
        for o in self.offers:
            if o.provider == provider:
                return o
        raise KeyError(f"{self.display_name} is not served by {provider}; it is by: {', '.join(self.providers)}")

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name or f.wire == name:
                return f
        raise KeyError(name)

    def has(self, name: str) -> bool:
        return any(f.name == name or f.wire == name for f in self.fields)


# -- reusable fields --------------------------------------------------------------------------------

def prompt(required: bool = True, max_length: int = PROMPT_MAX) -> Field:
    return Field("prompt", "text", required=required, default="", multiline=True, max_length=max_length,
                 tooltip="What happens in the video. Speech in quotes is spoken when audio is on; "
                         "reference voices as <<<voice_1>>>, <<<voice_2>>>.")


NEGATIVE = Field("negative_prompt", "text", default=NEGATIVE_DEFAULT, multiline=True, max_length=PROMPT_MAX,
                 tooltip="What to avoid.")
ASPECT = Field("aspect_ratio", "enum", default="16:9", options=("16:9", "9:16", "1:1"),
               tooltip="Frame shape of the generated video.")
CFG = Field("cfg_scale", "float", default=0.5, min=0.0, max=1.0, step=0.01,
            tooltip="How closely the video follows the prompt (0 to 1).")
AUDIO = Field("generate_audio", "bool", default=True,
              tooltip="Generate native audio (speech in Chinese or English, sound effects). Costs more.")
VOICES = Field("voice_ids", "string_list", default="", max_items=2,
               tooltip="Up to 2 voice ids (from the Kling Create Voice node), separated by commas; "
                       "reference them in the prompt as <<<voice_1>>> and <<<voice_2>>>.")
SHOTS = Field("multi_prompt", "shots", input="shots", min_items=1, max_items=6,
              tooltip="Multi-shot video: chain Kling Shot nodes. Leave the prompt empty when shots are "
                      "connected; the shots' durations must add up to the duration.")
ELEMENTS = Field("elements", "elements",
                 tooltip="Characters or objects (Kling Element nodes), referenced in the prompt as "
                         "@Element1, @Element2, ...")


def duration(options: tuple[str, ...] = DURATIONS_5_10) -> Field:
    return Field("duration", "enum", default="5", options=options,
                 tooltip="Length of the video in seconds (billed per second).")


def image(wire: str, name: str, required: bool, tooltip: str, alias: str = "") -> Field:
    return Field(wire, "image", input=name, required=required, cli_alias=alias, tooltip=tooltip)


START = "First frame of the video (one image, at least 300x300 px, aspect ratio 1:2.5 to 2.5:1)."
END = "Optional last frame of the video (same rules as the first)."


def legacy_start() -> Field:
    return image("image_url", "start_frame", True, START, "image")


def legacy_end() -> Field:
    return image("tail_image_url", "end_frame", False, END, "end-image")


STATIC_MASK = Field("static_mask_url", "mask", input="static_mask", same_size_as="start_frame",
                    tooltip="Motion brush: the area that must stay still (white = brushed), same size as "
                            "the start frame.")
DYNAMIC_MASKS = Field("dynamic_masks", "dynamic_masks", max_items=6,
                      tooltip="Motion brush: areas that move along a path (Kling Dynamic Mask nodes).")
CAMERA = Field("camera_control", "enum", default="none",
               options=("none", "down_back", "forward_up", "right_turn_forward", "left_turn_forward"),
               tooltip="A preset camera move (or none).")
ADVANCED_CAMERA = Field("advanced_camera_control", "camera",
                        tooltip="A custom camera move (Kling Camera Control node); not with a preset move.")


# -- cross-field rules: rule(body, fail, media_seconds) may adjust the body and calls fail(input, why) --

def rule_prompt_or_shots(body: dict, fail, media_seconds: dict) -> None:
    """v3: a single prompt or shots, not both; the shots fill the whole duration."""
    shots = body.get("multi_prompt")
    if shots:
        if body.get("prompt", "").strip():
            fail("prompt", "leave it empty when shots are connected (the shots carry the prompts)")
        body.pop("prompt", None)
        total = sum(int(s["duration"]) for s in shots)
        if str(total) != body.get("duration"):
            fail("duration", f"is {body.get('duration')} s but the shots add up to {total} s")
        body.setdefault("shot_type", "customize")
    else:
        if not body.get("prompt", "").strip():
            fail("prompt", "must not be empty (or connect shots)")
        if body.get("shot_type") == "customize":
            body.pop("shot_type")  # customize only describes shots; without shots it is meaningless


def rule_one_camera(body: dict, fail, media_seconds: dict) -> None:
    if body.get("camera_control") == "none":
        body.pop("camera_control")
    if "camera_control" in body and "advanced_camera_control" in body:
        fail("advanced_camera_control", "choose a preset camera_control or a custom camera move, not both")


def rule_effect_images(body: dict, fail, media_seconds: dict) -> None:
    images = body.get("input_image_urls", [])
    need = 2 if body.get("effect_scene") in ("hug", "kiss", "heart_gesture") else 1
    if len(images) != need:
        fail("images", f"effect {body.get('effect_scene')!r} takes {need} image(s), got {len(images)}")


def rule_orientation_length(body: dict, fail, media_seconds: dict) -> None:
    """Motion control: the reference video may last 10 s when the image sets the orientation, 30 s
    when the video does."""
    limit = 10 if body.get("character_orientation") == "image" else 30
    length = media_seconds.get("reference_video")
    if length is not None and length > limit:
        fail("reference_video", f"is {length:.1f} s; with character_orientation "
                                f"'{body.get('character_orientation')}' it may last at most {limit} s")


def rule_face_with_video(body: dict, fail, media_seconds: dict) -> None:
    if body.get("elements") and body.get("character_orientation") != "video":
        fail("elements", "a face element binds only with character_orientation 'video' (fal's rule)")


def rule_max_references(limit: int, with_video_only: bool = False):
    """O1/O3: elements plus reference images may number at most `limit` ("Maximum N total (elements +
    reference images)"); O3 reference-to-video applies it only when an element is a video."""
    def rule(body: dict, fail, media_seconds: dict) -> None:
        elements, images = body.get("elements") or [], body.get("image_urls") or []
        if with_video_only and not any("video_url" in e for e in elements):
            return
        if len(elements) + len(images) > limit:
            fail("reference_images", f"{len(elements)} element(s) + {len(images)} reference image(s) make "
                                     f"{len(elements) + len(images)}; at most {limit} in all")
    rule.__name__ = f"rule_max_references_{limit}"
    return rule


# -- family builders --------------------------------------------------------------------------------

def _fal(model_path: str) -> str:
    return f"fal-ai/kling-video/{model_path}"


def text_to_video(key, node_id, name, model_path, price, *, source, cfg=True, camera=False, audio=False,
                  v3=False, aliases=(), typical=120, offers=()) -> Variant:
    if v3:
        fields = (prompt(required=False), SHOTS, duration(DURATIONS_3_15), ASPECT, NEGATIVE, CFG, AUDIO, VOICES,
                  Field("shot_type", "enum", default="customize", options=("customize", "intelligent"),
                        tooltip="customize: your shots; intelligent: Kling cuts the prompt into shots."))
    else:
        fields = (prompt(), duration(), ASPECT, NEGATIVE) + ((CFG,) if cfg else ()) + ((AUDIO,) if audio else ())
        if camera:
            fields += (CAMERA, ADVANCED_CAMERA)
    return Variant(key, node_id, name, _fal(model_path), fields, price, family="text-to-video",
                   description=f"Generate a video from a prompt with {name.replace(' Text to Video', '')} on fal.ai.",
                   source=source, aliases=aliases, typical_seconds=typical,
                   rules=(rule_prompt_or_shots,) if v3 else ((rule_one_camera,) if camera else ()),
                   audio_field="generate_audio" if (audio or v3) else None,
                   voice_field="voice_ids" if v3 else None, offers=offers)


def image_to_video(key, node_id, name, model_path, price, *, source, end=False, aspect=False, masks=False,
                   cfg=True, modern=False, audio=False, voices=False, v3=False, aliases=(), typical=150,
                   offers=()) -> Variant:
    if modern or v3:  # v2.6 and v3 name the frames start_image_url / end_image_url
        fields = (image("start_image_url", "start_frame", True, START, "image"),
                  image("end_image_url", "end_frame", False, END, "end-image"))
    else:
        fields = (legacy_start(),) + ((legacy_end(),) if end else ())
    if v3:
        fields += (prompt(required=False), SHOTS, ELEMENTS, duration(DURATIONS_3_15), ASPECT, NEGATIVE, CFG,
                   AUDIO, VOICES)
    else:
        fields += (prompt(), duration()) + ((ASPECT,) if aspect else ()) + (NEGATIVE,) + ((CFG,) if cfg else ())
        fields += ((AUDIO,) if audio else ()) + ((VOICES,) if voices else ())
        if masks:
            fields += (STATIC_MASK, DYNAMIC_MASKS)
    return Variant(key, node_id, name, _fal(model_path), fields, price, family="image-to-video",
                   description=f"Animate a start frame with {name.replace(' Image to Video', '')} on fal.ai.",
                   source=source, aliases=aliases, typical_seconds=typical,
                   rules=(rule_prompt_or_shots,) if v3 else (),
                   audio_field="generate_audio" if (audio or v3) else None,
                   voice_field="voice_ids" if (voices or v3) else None, offers=offers)


def per_second(rate: float, source: str) -> Price:
    return Price(rate, source=source)


def audio_rates(off: float, on: float, voice: Optional[float], source: str) -> Price:
    return Price(off, on, voice, source=source)


_PP = "reference/provider_protocols.md §2.2"
_NO_PRICE = Price(None, source="the provider publishes no per-second price we could find (provider_protocols.md §3-§5)")

# Kling 2.6 Pro on the other providers (provider_protocols.md §3 AI/ML API, §4 Vercel AI Gateway, §5 Kling).
V26_I2V_OFFERS = (
    Offer("kling", "kling-v2-6/pro", ("start_image_url", "end_image_url", "prompt", "duration", "negative_prompt",
                                      "generate_audio", "voice_ids"), _NO_PRICE,
          "provider_protocols.md §5.4 (POST /v1/videos/image2video, model_name kling-v2-6, mode pro)"),
    Offer("aimlapi", "klingai/video-v2-6-pro-image-to-video",
          ("start_image_url", "end_image_url", "prompt", "duration", "negative_prompt", "generate_audio"), _NO_PRICE,
          "seed 004; provider_protocols.md §3.2 (tail_image_url from the older AI/ML API spec)"),
    Offer("vercel", "klingai/kling-v2.6-i2v/pro", ("start_image_url", "end_image_url", "prompt", "duration",
                                               "negative_prompt", "generate_audio", "voice_ids"), _NO_PRICE,
          "seed 002; provider_protocols.md §4.1-§4.2"),
)
V26_T2V_OFFERS = (
    Offer("kling", "kling-v2-6/pro", ("prompt", "duration", "aspect_ratio", "negative_prompt", "generate_audio"),
          _NO_PRICE, "provider_protocols.md §5.4 (text2video; cfg_scale is not supported by kling-v2.x)"),
    Offer("aimlapi", "klingai/video-v2-6-pro-text-to-video",
          ("prompt", "duration", "aspect_ratio", "negative_prompt", "cfg_scale", "generate_audio"), _NO_PRICE,
          "seed 004; provider_protocols.md §3.2"),
    Offer("vercel", "klingai/kling-v2.6-t2v/pro", ("prompt", "duration", "aspect_ratio", "negative_prompt",
                                               "generate_audio"), _NO_PRICE,
          "provider_protocols.md §4 (model id by analogy with klingai/kling-v2.6-i2v; cfgScale: not v2.x)"),
)
_SEED = "seed 003"
_TYPES = "@fal-ai/client 1.10.1 types (provider_protocols.md Appendix A)"

# -- the catalog ------------------------------------------------------------------------------------

CATALOG: tuple[Variant, ...] = (
    # text to video
    text_to_video("v1-std-t2v", "KlingVideo_V1Std_TextToVideo", "Kling 1.0 Standard Text to Video",
                  "v1/standard/text-to-video", UNKNOWN, camera=True,
                  source=f"{_SEED} V1TextToVideoRequest + CameraControl; {_TYPES}"),
    text_to_video("v1.5-pro-t2v", "KlingVideo_V15Pro_TextToVideo", "Kling 1.5 Pro Text to Video",
                  "v1.5/pro/text-to-video", UNKNOWN, source=f"{_SEED} TextToVideoRequest; {_TYPES}"),
    text_to_video("v1.6-std-t2v", "KlingVideo_V16Std_TextToVideo", "Kling 1.6 Standard Text to Video",
                  "v1.6/standard/text-to-video", UNKNOWN, source=f"{_SEED} TextToVideoRequest; {_TYPES}"),
    text_to_video("v1.6-pro-t2v", "KlingVideo_V16Pro_TextToVideo", "Kling 1.6 Pro Text to Video",
                  "v1.6/pro/text-to-video", UNKNOWN, source=f"{_SEED} TextToVideoRequest; {_TYPES}"),
    text_to_video("v2-master-t2v", "KlingVideo_V2Master_TextToVideo", "Kling 2.0 Master Text to Video",
                  "v2/master/text-to-video",
                  per_second(0.28, "https://fal.ai/models/fal-ai/kling-video/v2/master/text-to-video/llms.txt: 5 s = $1.40, +$0.28/s"), source=f"{_SEED} TextToVideoV2MasterRequest; {_TYPES}"),
    text_to_video("v2.1-master-t2v", "KlingVideo_V21Master_TextToVideo", "Kling 2.1 Master Text to Video",
                  "v2.1/master/text-to-video", per_second(0.28, f"{_PP} row 18: 5 s = $1.40 + $0.28/s"),
                  source=f"{_SEED} TextToVideoV21MasterRequest; {_TYPES}"),
    text_to_video("v2.5-turbo-pro-t2v", "KlingVideo_V25TurboPro_TextToVideo", "Kling 2.5 Turbo Pro Text to Video",
                  "v2.5-turbo/pro/text-to-video",
                  per_second(0.07, "https://fal.ai/models/fal-ai/kling-video/v2.5-turbo/pro/text-to-video: 5 s = $0.35, +$0.07/s"), source=f"{_SEED} TextToVideoV25ProRequest; {_TYPES}"),
    text_to_video("v2.6-pro-t2v", "KlingVideo_V26Pro_TextToVideo", "Kling 2.6 Pro Text to Video",
                  "v2.6/pro/text-to-video",
                  audio_rates(0.07, 0.14, None, "seed 000 ($0.14/s with audio); fal llms.txt $0.07/s without "
                                               f"({_PP} rows 1-2)"),
                  audio=True, aliases=("t2v",), typical=150,
                  source=f"{_SEED} TextToVideoV26ProRequest; {_TYPES}", offers=V26_T2V_OFFERS),
    text_to_video("v3-std-t2v", "KlingVideo_V3Std_TextToVideo", "Kling 3.0 Standard Text to Video",
                  "v3/standard/text-to-video",
                  audio_rates(0.084, 0.126, 0.154, f"{_PP} row 8"), v3=True, typical=180,
                  source=f"{_SEED} TextToVideoV3StandardRequest (newer than {_TYPES}: voice_ids)"),
    text_to_video("v3-pro-t2v", "KlingVideo_V3Pro_TextToVideo", "Kling 3.0 Pro Text to Video",
                  "v3/pro/text-to-video",
                  audio_rates(0.112, 0.168, 0.196, "fal's price text for v3/pro/text-to-video "
                                                   "(fal registry copy, gokayfem/ComfyUI-fal-API@1780dde)"),
                  v3=True, typical=180,
                  source=f"{_SEED} TextToVideoV3ProRequest (newer than {_TYPES}: voice_ids)"),
    # image to video
    image_to_video("v1-std-i2v", "KlingVideo_V1Std_ImageToVideo", "Kling 1.0 Standard Image to Video",
                   "v1/standard/image-to-video",
                   per_second(0.045, "https://fal.ai/models/fal-ai/kling-video/v1/standard/image-to-video/llms.txt: $0.045/s"), end=True, masks=True,
                   source=f"{_SEED} V1ImageToVideoRequest + DynamicMask + Trajectory; {_TYPES}"),
    image_to_video("v1.5-pro-i2v", "KlingVideo_V15Pro_ImageToVideo", "Kling 1.5 Pro Image to Video",
                   "v1.5/pro/image-to-video", UNKNOWN, end=True, aspect=True, masks=True,
                   source=f"{_SEED} KlingV15ProImageToVideoRequest; {_TYPES}"),
    image_to_video("v1.6-std-i2v", "KlingVideo_V16Std_ImageToVideo", "Kling 1.6 Standard Image to Video",
                   "v1.6/standard/image-to-video", per_second(0.045, f"{_PP} row 24 (third-party page)"),
                   source=f"{_SEED} ImageToVideoRequest; {_TYPES}"),
    image_to_video("v1.6-pro-i2v", "KlingVideo_V16Pro_ImageToVideo", "Kling 1.6 Pro Image to Video",
                   "v1.6/pro/image-to-video",
                   per_second(0.098, "https://fal.ai/models/fal-ai/kling-video/v1.6/pro/image-to-video: $0.098/s"), end=True, aspect=True,
                   source=f"{_SEED} ProImageToVideoRequest; {_TYPES}"),
    image_to_video("v2-master-i2v", "KlingVideo_V2Master_ImageToVideo", "Kling 2.0 Master Image to Video",
                   "v2/master/image-to-video",
                   per_second(0.28, "https://fal.ai/models/fal-ai/kling-video/v2/master/image-to-video: 5 s = $1.40, +$0.28/s"), source=f"{_SEED} ImageToVideoV2MasterRequest; {_TYPES}"),
    image_to_video("v2.1-std-i2v", "KlingVideo_V21Std_ImageToVideo", "Kling 2.1 Standard Image to Video",
                   "v2.1/standard/image-to-video", per_second(0.056, f"{_PP} row 20: 5 s = $0.28 + $0.056/s"),
                   source=f"{_SEED} ImageToVideoV21StandardRequest; {_TYPES}"),
    image_to_video("v2.1-pro-i2v", "KlingVideo_V21Pro_ImageToVideo", "Kling 2.1 Pro Image to Video",
                   "v2.1/pro/image-to-video", per_second(0.098, f"{_PP} row 19: 5 s = $0.49 + $0.098/s"), end=True,
                   source=f"{_SEED} ImageToVideoV21ProRequest; @fal-ai/client 1.8.5 types (Appendix B)"),
    image_to_video("v2.1-master-i2v", "KlingVideo_V21Master_ImageToVideo", "Kling 2.1 Master Image to Video",
                   "v2.1/master/image-to-video", per_second(0.28, f"{_PP} row 17: 5 s = $1.40 + $0.28/s"),
                   source=f"{_SEED} ImageToVideoV21MasterRequest; {_TYPES}"),
    image_to_video("v2.5-turbo-std-i2v", "KlingVideo_V25TurboStd_ImageToVideo",
                   "Kling 2.5 Turbo Standard Image to Video", "v2.5-turbo/standard/image-to-video",
                   per_second(0.042, f"{_PP} row 15: 5 s = $0.21 + $0.042/s"),
                   source=f"{_SEED} ImageToVideoV25StandardRequest; {_TYPES}"),
    image_to_video("v2.5-turbo-pro-i2v", "KlingVideo_V25TurboPro_ImageToVideo", "Kling 2.5 Turbo Pro Image to Video",
                   "v2.5-turbo/pro/image-to-video", per_second(0.07, f"{_PP} row 14: 5 s = $0.35 + $0.07/s"),
                   end=True, source=f"{_SEED} ImageToVideoV25ProRequest; {_TYPES}"),
    image_to_video("v2.6-pro-i2v", "KlingVideo_V26Pro_ImageToVideo", "Kling 2.6 Pro Image to Video",
                   "v2.6/pro/image-to-video",
                   audio_rates(0.07, 0.14, 0.168, "seed 000 ('0.14 (with audio)', 5 s = $0.70); fal llms.txt: "
                                                  f"$0.07/s without audio, $0.168/s with voice control ({_PP} row 1)"),
                   modern=True, cfg=False, audio=True, voices=True, aliases=("i2v",), typical=180,
                   source=f"seed 003 Input schema, seed 000; {_TYPES}", offers=V26_I2V_OFFERS),
    image_to_video("v3-std-i2v", "KlingVideo_V3Std_ImageToVideo", "Kling 3.0 Standard Image to Video",
                   "v3/standard/image-to-video",
                   audio_rates(0.084, 0.126, 0.154, "https://fal.ai/models/fal-ai/kling-video/v3/standard/image-to-video"), v3=True, typical=180,
                   source=f"{_SEED} ImageToVideoV3StandardRequest (newer than {_TYPES}: voice_ids, aspect_ratio)"),
    image_to_video("v3-pro-i2v", "KlingVideo_V3Pro_ImageToVideo", "Kling 3.0 Pro Image to Video",
                   "v3/pro/image-to-video", audio_rates(0.112, 0.168, 0.196, f"{_PP} row 5 (playground page)"),
                   v3=True, typical=180,
                   source=f"{_SEED} ImageToVideoV3ProRequest (newer than {_TYPES}: voice_ids, aspect_ratio)"),
)


def multi_image(key, node_id, name, model_path, price) -> Variant:
    return Variant(key, node_id, name, _fal(model_path), (
        Field("input_image_urls", "images", input="images", required=True, min_items=1, max_items=4,
              tooltip="1 to 4 images (a batch) whose subjects appear in the video."),
        prompt(), duration(), ASPECT, NEGATIVE), price, family="multi-image",
        description=f"Make a video from up to 4 reference images with {name} on fal.ai.",
        source=f"{_SEED} MultiImageToVideoRequest; {_TYPES}")


def motion_control(key, node_id, name, model_path, price, *, face: bool = False) -> Variant:
    """v2.6 and v3 motion control; v3 adds one face element (orientation `video` only)."""
    extra = (replace(ELEMENTS, options=("image",), max_items=1,
                     tooltip="Optional face element (one Kling Element with a frontal image and/or references) "
                             "for identity; @Element1 in the prompt. Only with character_orientation 'video'."),
             ) if face else ()
    return Variant(key, node_id, name, _fal(model_path), (
        Field("image_url", "image", input="image", required=True, cli_alias="image",
              tooltip="The character and scene to animate (body clearly visible, >5% of the image)."),
        Field("video_url", "video", input="reference_video", required=True, cli_alias="video",
              media=MediaLimits(max_seconds=30, max_bytes=100_000_000),
              tooltip="The motion to copy: up to 10 s (orientation image) or 30 s (orientation video)."),
        Field("character_orientation", "enum", required=True, default="video", options=("image", "video"),
              tooltip="image: keep the image's orientation (video ≤10 s); video: follow the video (≤30 s)."),
        prompt(required=False), Field("keep_original_sound", "bool", default=True,
                                      tooltip="Keep the reference video's sound.")) + extra,
        price, family="motion-control", typical_seconds=240, duration_field="",
        rules=(rule_orientation_length,) + ((rule_face_with_video,) if face else ()),
        description=f"Transfer the motion of a reference video onto an image's character with {name}.",
        source=f"{_TYPES} KlingVideoV3ProMotionControlInput" if face else f"{_SEED} MotionControlRequest; {_TYPES}")


def effects(key, node_id, name, model_path, price) -> Variant:
    return Variant(key, node_id, name, _fal(model_path), (
        Field("input_image_urls", "images", input="images", required=True, min_items=1, max_items=2,
              tooltip="One image, or two (a batch) for hug, kiss and heart_gesture."),
        Field("effect_scene", "enum", required=True, default="squish", options=EFFECT_SCENES,
              tooltip="The effect template."),
        duration()), price, family="effects", rules=(rule_effect_images,),
        description=f"Apply one of Kling's ~200 video effect templates to a photo ({name}).",
        source=f"{_SEED} VideoEffectsRequest; {_TYPES}")


LIPSYNC_VIDEO = MediaLimits(min_px=720, max_px=1920, max_bytes=100_000_000)

CATALOG += (
    multi_image("v1.6-std-elements", "KlingVideo_V16Std_Elements", "Kling 1.6 Standard Elements",
                "v1.6/standard/elements", per_second(0.056, "https://fal.ai/models/fal-ai/kling-video/v1.6/standard/elements/llms.txt: $0.056/s")),
    multi_image("v1.6-pro-elements", "KlingVideo_V16Pro_Elements", "Kling 1.6 Pro Elements",
                "v1.6/pro/elements", UNKNOWN),
    motion_control("v2.6-std-motion", "KlingVideo_V26Std_MotionControl", "Kling 2.6 Standard Motion Control",
                   "v2.6/standard/motion-control", replace(UNKNOWN, seconds_from="reference_video")),
    motion_control("v2.6-pro-motion", "KlingVideo_V26Pro_MotionControl", "Kling 2.6 Pro Motion Control",
                   "v2.6/pro/motion-control", replace(UNKNOWN, seconds_from="reference_video")),
    Variant("lipsync-a2v", "KlingVideo_Lipsync_AudioToVideo", "Kling Lip Sync (Audio)",
            _fal("lipsync/audio-to-video"), (
                Field("video_url", "video", input="video", required=True, cli_alias="video",
                      media=replace(LIPSYNC_VIDEO, min_seconds=2, max_seconds=10),
                      tooltip="The face video: MP4/MOV, 2-10 s, 720-1920 px sides, at most 100 MB."),
                Field("audio_url", "audio", input="audio", required=True, cli_alias="audio",
                      media=MediaLimits(min_seconds=2, max_seconds=60, max_bytes=5_000_000),
                      tooltip="The speech: 2-60 s, at most 5 MB (sent as WAV, or MP3 when WAV is larger)."),
            ), Price(0.014, seconds_from="video", round_up_to=5, source=f"{_PP} row 35: $0.014 per input-video "
                                                                         "second, rounded up to 5 s"),
            family="lipsync", description="Make the face in a video speak an audio track (Kling lip sync).",
            source=f"{_SEED} LipsyncA2VRequest; {_TYPES}", duration_field=""),
    Variant("lipsync-t2v", "KlingVideo_Lipsync_TextToVideo", "Kling Lip Sync (Text)",
            _fal("lipsync/text-to-video"), (
                Field("video_url", "video", input="video", required=True, cli_alias="video",
                      media=replace(LIPSYNC_VIDEO, min_seconds=2, max_seconds=60),
                      tooltip="The face video: MP4/MOV, 2-60 s, 720-1920 px sides, at most 100 MB."),
                Field("text", "text", required=True, default="", multiline=True, max_length=120,
                      tooltip="What the face says (at most 120 characters)."),
                Field("voice_id", "enum", required=True, default=LIPSYNC_VOICES[0], options=LIPSYNC_VOICES,
                      tooltip="Kling's built-in voice."),
                Field("voice_language", "enum", default="en", options=("en", "zh"),
                      tooltip="The language of the voice."),
                Field("voice_speed", "float", default=1.0, min=0.8, max=2.0, step=0.1,
                      tooltip="Speech rate."),
            ), Price(0.014, seconds_from="video", round_up_to=5,
                     source="https://fal.ai/models/fal-ai/kling-video/lipsync/text-to-video: $0.014 per input-video second, rounded up to 5 s"),
            family="lipsync",
            description="Make the face in a video say a text with one of Kling's voices.",
            source=f"{_SEED} LipsyncT2VRequest; {_TYPES}", duration_field=""),
    effects("v1-std-effects", "KlingVideo_V1Std_Effects", "Kling 1.0 Standard Effects", "v1/standard/effects", UNKNOWN),
    effects("v1.5-pro-effects", "KlingVideo_V15Pro_Effects", "Kling 1.5 Pro Effects", "v1.5/pro/effects", UNKNOWN),
    effects("v1.6-std-effects", "KlingVideo_V16Std_Effects", "Kling 1.6 Standard Effects", "v1.6/standard/effects",
            UNKNOWN),
    effects("v1.6-pro-effects", "KlingVideo_V16Pro_Effects", "Kling 1.6 Pro Effects", "v1.6/pro/effects", UNKNOWN),
    Variant("create-voice", "KlingVideo_CreateVoice", "Kling Create Voice", _fal("create-voice"), (
        Field("voice_url", "audio", input="voice_audio", required=True, cli_alias="audio",
              media=MediaLimits(min_seconds=5, max_seconds=30, max_bytes=10_000_000),
              tooltip="5-30 s of one clean voice. Its voice id goes into voice_ids of the 2.6 and 3.0 nodes."),
    ), Price(0.007, per_request=True, source="https://fal.ai/models/fal-ai/kling-video/create-voice/llms.txt: $0.007 per generation"), family="voice", output="voice", duration_field="", typical_seconds=30,
        description="Clone a voice from 5-30 s of speech; the voice id works in voice_ids of Kling 2.6/3.0 "
                    "nodes (prompt: <<<voice_1>>>).",
        source=f"seed 000/003 link to it; {_TYPES} CreateVoiceInput/Output"),
)

# -- newer fal models (provider_protocols.md §2.2 rows 11-13, 40-49; Appendix A) ----------------------

_SHOT_TYPE = Field("shot_type", "enum", default="customize", options=("customize", "intelligent"),
                   tooltip="customize: your shots; intelligent: Kling cuts the prompt into shots.")


def omni(key, node_id, name, model_path, price, *, image_input: bool, o1: bool = False, audio: bool = True,
         source: str = _TYPES) -> Variant:
    """O1 / O3 / v3 Turbo text and image to video."""
    frames = ()
    if image_input:
        start = "start_image_url" if o1 else "image_url"
        frames = (image(start, "start_frame", True, START, "image"),
                  image("end_image_url", "end_frame", False, END, "end-image"))
    if o1:  # O1: one prompt (@Image1 = start frame, @Image2 = end frame), 3-10 s
        fields = frames + (replace(prompt(), tooltip="What happens; @Image1 is the start frame, @Image2 the end "
                                                      "frame."), duration(tuple(str(n) for n in range(3, 11))))
        rules = ()
    else:
        fields = frames + (prompt(required=False), SHOTS, duration(DURATIONS_3_15)) + (() if image_input else (ASPECT,))
        if audio:
            fields += (replace(AUDIO, default=False),)
        fields += (_SHOT_TYPE,)
        rules = (rule_prompt_or_shots,)
    family = "image-to-video" if image_input else "text-to-video"
    return Variant(key, node_id, name, _fal(model_path), fields, price, family=family, source=source, rules=rules,
                   description=f"{name} on fal.ai.", typical_seconds=180,
                   audio_field="generate_audio" if (audio and not o1) else None)


REFERENCE_IMAGES = Field("image_urls", "images", input="reference_images", min_items=1,
                         tooltip="Reference images for style or appearance (a batch), @Image1, @Image2, ... in "
                                 "the prompt.")
# O1/O3 video-to-video source: "mp4/mov, 3-10.05 s, 720-2160 px, at most 200 MB" (+ "24-60 fps" on O1).
V2V_VIDEO = MediaLimits(min_seconds=3, max_seconds=10.05, min_px=720, max_px=2160, max_bytes=200_000_000)


def omni_reference(key, node_id, name, model_path, price, *, o1: bool) -> Variant:
    """O1 / O3 reference to video: elements and reference images (and on O3 optional start/end frames)."""
    if o1:
        fields = (replace(prompt(), tooltip="What happens; @Element1, @Element2 are the elements and @Image1, "
                                            "@Image2 the reference images, in order."),
                  replace(ELEMENTS, options=("omni",), max_items=7,
                          tooltip="Characters or objects: Kling Element nodes with a frontal image and 1-3 "
                                  "references (@Element1, ...)."),
                  replace(REFERENCE_IMAGES, max_items=7), ASPECT, duration(tuple(str(n) for n in range(3, 11))))
        rules = (rule_max_references(7),)
    else:
        fields = (image("start_image_url", "start_frame", False, "Optional first frame.", "image"),
                  image("end_image_url", "end_frame", False, END, "end-image"),
                  prompt(required=False), SHOTS, replace(ELEMENTS, options=("combo",)), REFERENCE_IMAGES,
                  ASPECT, duration(DURATIONS_3_15), replace(AUDIO, default=False), _SHOT_TYPE)
        rules = (rule_prompt_or_shots, rule_max_references(4, with_video_only=True))
    return Variant(key, node_id, name, _fal(model_path), fields, price, family="reference-to-video",
                   source=_TYPES + (" OmniVideoReferenceToVideoInput" if o1 else " O3ProReferenceVideoI2VInput"),
                   rules=rules, typical_seconds=200, audio_field=None if o1 else "generate_audio",
                   description=f"Make a video of elements and reference images with {name} on fal.ai.")


def omni_video_edit(key, node_id, name, model_path, price, *, o1: bool, reference: bool) -> Variant:
    """O1 / O3 video to video: edit a video (same length) or make a new one that references it."""
    fields = (Field("video_url", "video", input="video", required=True, cli_alias="video",
                    media=replace(V2V_VIDEO, min_fps=24, max_fps=60) if o1 else V2V_VIDEO,
                    tooltip="The source video: MP4/MOV, 3-10 s, 720-2160 px sides, at most 200 MB"
                            + (", 24-60 fps." if o1 else ".")),
              replace(prompt(), tooltip="The edit or the new video; @Video1 is the source video, @Element1 and "
                                        "@Image1 the elements and reference images."),
              replace(ELEMENTS, options=("omni",) if o1 else ("image",), max_items=4,
                      tooltip="Characters or objects (Kling Element nodes with images), @Element1, ..."),
              replace(REFERENCE_IMAGES, max_items=4),
              Field("keep_audio", "bool", default=True, tooltip="Keep the source video's sound."))
    if reference:
        fields += (replace(ASPECT, default="auto", options=("auto",) + ASPECT.options),
                   duration(tuple(str(n) for n in range(3, 11 if o1 else 16))))
    kind = "reference" if reference else "edit"
    types = {(True, False): "OmniV2VEditInput", (True, True): "OmniV2VReferenceInput",
             (False, False): "O3ProEditVideoV2VInput", (False, True): "O3ProReferenceVideoV2VInput"}
    return Variant(key, node_id, name, _fal(model_path), fields, price, family="video-to-video",
                   source=f"{_TYPES} {types[o1, reference]}", rules=(rule_max_references(4),),
                   typical_seconds=240, duration_field="duration" if reference else "",
                   description=(f"Make a new video that follows a reference video ({kind}) with {name} on fal.ai."
                                if reference else f"Edit a video with a prompt with {name} on fal.ai."))


def avatar(key, node_id, name, model_path, price) -> Variant:
    return Variant(key, node_id, name, _fal(model_path), (
        Field("image_url", "image", input="image", required=True, cli_alias="image",
              tooltip="The face or character that speaks."),
        Field("audio_url", "audio", input="audio", required=True, cli_alias="audio",
              tooltip="What it says (the video lasts as long as the audio)."),
        Field("prompt", "text", default=".", multiline=True, max_length=PROMPT_MAX,
              tooltip="Optional direction for expression and motion."),
    ), price, family="ai-avatar", duration_field="", typical_seconds=240,
        description=f"Make an image speak an audio track ({name}).", source=f"{_TYPES} AIAvatarInput")


_REG = "fal's price text (fal registry copy, gokayfem/ComfyUI-fal-API@1780dde)"
CATALOG += (
    omni("o1-pro-i2v", "KlingVideo_O1_ImageToVideo", "Kling O1 Image to Video", "o1/image-to-video",
         per_second(0.112, f"{_PP} row 41"), image_input=True, o1=True),
    omni("o1-std-i2v", "KlingVideo_O1Std_ImageToVideo", "Kling O1 Standard Image to Video",
         "o1/standard/image-to-video", per_second(0.084, f"{_PP} row 41"), image_input=True, o1=True),
    omni("o3-pro-i2v", "KlingVideo_O3Pro_ImageToVideo", "Kling O3 Pro Image to Video", "o3/pro/image-to-video",
         audio_rates(0.112, 0.14, None, _REG), image_input=True),
    omni("o3-std-i2v", "KlingVideo_O3Std_ImageToVideo", "Kling O3 Standard Image to Video",
         "o3/standard/image-to-video", audio_rates(0.084, 0.112, None, f"{_PP} row 45"), image_input=True),
    omni("o3-4k-i2v", "KlingVideo_O3_4K_ImageToVideo", "Kling O3 4K Image to Video", "o3/4k/image-to-video",
         audio_rates(0.42, 0.42, None, "https://fal.ai/models/fal-ai/kling-video/o3/4k/text-to-video/llms.txt: "
                                       "$0.42/s, audio on or off"), image_input=True,
         source="like o3/pro/image-to-video (provider_protocols.md §2.2 row 49; fal registry)"),
    omni("o3-pro-t2v", "KlingVideo_O3Pro_TextToVideo", "Kling O3 Pro Text to Video", "o3/pro/text-to-video",
         audio_rates(0.112, 0.14, None, _REG), image_input=False),
    omni("o3-std-t2v", "KlingVideo_O3Std_TextToVideo", "Kling O3 Standard Text to Video",
         "o3/standard/text-to-video", audio_rates(0.084, 0.112, None, _REG), image_input=False),
    omni("o3-4k-t2v", "KlingVideo_O3_4K_TextToVideo", "Kling O3 4K Text to Video", "o3/4k/text-to-video",
         audio_rates(0.42, 0.42, None, "https://fal.ai/models/fal-ai/kling-video/o3/4k/text-to-video/llms.txt"),
         image_input=False, source="like o3/pro/text-to-video (provider_protocols.md §2.2 row 49)"),
    omni("v3-turbo-std-i2v", "KlingVideo_V3TurboStd_ImageToVideo", "Kling 3.0 Turbo Standard Image to Video",
         "v3/turbo/standard/image-to-video",
         per_second(0.112, "https://fal.ai/models/fal-ai/kling-video/v3/turbo/standard/image-to-video/llms.txt "
                           "(audio always on)"), image_input=True, audio=False,
         source="provider_protocols.md §2.2 row 11; fal llms.txt (no typed client schema yet)"),
    omni("v3-turbo-pro-i2v", "KlingVideo_V3TurboPro_ImageToVideo", "Kling 3.0 Turbo Pro Image to Video",
         "v3/turbo/pro/image-to-video",
         per_second(0.14, "https://fal.ai/models/fal-ai/kling-video/v3/turbo/pro/image-to-video/llms.txt"),
         image_input=True, audio=False, source="provider_protocols.md §2.2 row 12; fal llms.txt"),
    omni("v3-turbo-pro-t2v", "KlingVideo_V3TurboPro_TextToVideo", "Kling 3.0 Turbo Pro Text to Video",
         "v3/turbo/pro/text-to-video",
         per_second(0.14, "https://fal.ai/models/fal-ai/kling-video/v3/turbo/pro/text-to-video/llms.txt"),
         image_input=False, audio=False, source="provider_protocols.md §2.2 row 13; fal llms.txt"),
    omni_reference("o1-pro-r2v", "KlingVideo_O1_ReferenceToVideo", "Kling O1 Reference to Video",
                   "o1/reference-to-video", UNKNOWN, o1=True),
    omni_reference("o1-std-r2v", "KlingVideo_O1Std_ReferenceToVideo", "Kling O1 Standard Reference to Video",
                   "o1/standard/reference-to-video", UNKNOWN, o1=True),
    omni_reference("o3-pro-r2v", "KlingVideo_O3Pro_ReferenceToVideo", "Kling O3 Pro Reference to Video",
                   "o3/pro/reference-to-video", UNKNOWN, o1=False),
    omni_reference("o3-std-r2v", "KlingVideo_O3Std_ReferenceToVideo", "Kling O3 Standard Reference to Video",
                   "o3/standard/reference-to-video", UNKNOWN, o1=False),
    omni_video_edit("o1-pro-v2v-edit", "KlingVideo_O1_VideoEdit", "Kling O1 Video Edit", "o1/video-to-video/edit",
                    replace(UNKNOWN, seconds_from="video"), o1=True, reference=False),
    omni_video_edit("o1-std-v2v-edit", "KlingVideo_O1Std_VideoEdit", "Kling O1 Standard Video Edit",
                    "o1/standard/video-to-video/edit", replace(UNKNOWN, seconds_from="video"), o1=True,
                    reference=False),
    omni_video_edit("o1-pro-v2v-ref", "KlingVideo_O1_VideoReference", "Kling O1 Video Reference",
                    "o1/video-to-video/reference", UNKNOWN, o1=True, reference=True),
    omni_video_edit("o1-std-v2v-ref", "KlingVideo_O1Std_VideoReference", "Kling O1 Standard Video Reference",
                    "o1/standard/video-to-video/reference", UNKNOWN, o1=True, reference=True),
    omni_video_edit("o3-pro-v2v-edit", "KlingVideo_O3Pro_VideoEdit", "Kling O3 Pro Video Edit",
                    "o3/pro/video-to-video/edit", replace(UNKNOWN, seconds_from="video"), o1=False,
                    reference=False),
    omni_video_edit("o3-std-v2v-edit", "KlingVideo_O3Std_VideoEdit", "Kling O3 Standard Video Edit",
                    "o3/standard/video-to-video/edit", replace(UNKNOWN, seconds_from="video"), o1=False,
                    reference=False),
    omni_video_edit("o3-pro-v2v-ref", "KlingVideo_O3Pro_VideoReference", "Kling O3 Pro Video Reference",
                    "o3/pro/video-to-video/reference", UNKNOWN, o1=False, reference=True),
    omni_video_edit("o3-std-v2v-ref", "KlingVideo_O3Std_VideoReference", "Kling O3 Standard Video Reference",
                    "o3/standard/video-to-video/reference", UNKNOWN, o1=False, reference=True),
    motion_control("v3-std-motion", "KlingVideo_V3Std_MotionControl", "Kling 3.0 Standard Motion Control",
                   "v3/standard/motion-control", replace(UNKNOWN, seconds_from="reference_video"), face=True),
    motion_control("v3-pro-motion", "KlingVideo_V3Pro_MotionControl", "Kling 3.0 Pro Motion Control",
                   "v3/pro/motion-control", replace(UNKNOWN, seconds_from="reference_video"), face=True),
    avatar("avatar-v1-std", "KlingVideo_AIAvatar_V1Std", "Kling AI Avatar 1.0 Standard", "v1/standard/ai-avatar",
           replace(UNKNOWN, seconds_from="audio")),
    avatar("avatar-v1-pro", "KlingVideo_AIAvatar_V1Pro", "Kling AI Avatar 1.0 Pro", "v1/pro/ai-avatar",
           replace(UNKNOWN, seconds_from="audio")),
    avatar("avatar-v2-std", "KlingVideo_AIAvatar_V2Std", "Kling AI Avatar 2.0 Standard", "ai-avatar/v2/standard",
           Price(0.0562, seconds_from="audio", source="https://fal.ai/models/fal-ai/kling-video/ai-avatar/v2/standard: "
                                                      "$0.0562/s")),
    avatar("avatar-v2-pro", "KlingVideo_AIAvatar_V2Pro", "Kling AI Avatar 2.0 Pro", "ai-avatar/v2/pro",
           replace(UNKNOWN, seconds_from="audio")),
    Variant("tts", "KlingVideo_TTS", "Kling Text to Speech", _fal("v1/tts"), (
        Field("text", "text", required=True, default="", multiline=True, tooltip="What to say."),
        Field("voice_id", "enum", default="genshin_vindi2", options=LIPSYNC_VOICES, tooltip="Kling's built-in voice."),
        Field("voice_speed", "float", default=1.0, min=0.8, max=2.0, step=0.1, tooltip="Speech rate (0.8 to 2)."),
    ), Price(0.007, per_request=True, source="https://fal.ai/models/fal-ai/kling-video/v1/tts/llms.txt: $0.007 "
                                              "per generation"),
        family="audio", output="audio", duration_field="", typical_seconds=20,
        description="Speak a text with one of Kling's voices; the result is an AUDIO.",
        source=f"{_TYPES} KlingVideoV1TtsInput (voice_speed range from fal's page)"),
    Variant("video-to-audio", "KlingVideo_VideoToAudio", "Kling Video to Audio", _fal("video-to-audio"), (
        Field("video_url", "video", input="video", required=True, cli_alias="video",
              media=MediaLimits(min_seconds=3, max_seconds=20, max_bytes=100_000_000),
              tooltip="The video to give a soundtrack: MP4/MOV, 3-20 s, at most 100 MB."),
        # fal's defaults describe a car race: both prompts are required so a soundtrack is never a surprise.
        Field("sound_effect_prompt", "text", required=True, default="", multiline=True, max_length=200,
              tooltip="The sound effects (at most 200 characters)."),
        Field("background_music_prompt", "text", required=True, default="", multiline=True, max_length=200,
              tooltip="The background music (at most 200 characters)."),
        Field("asmr_mode", "bool", default=False, tooltip="Finer, more immersive sound effects."),
    ), Price(0.035, per_request=True, source="https://fal.ai/models/fal-ai/kling-video/video-to-audio/llms.txt: "
                                             "$0.035 per video"),
        family="audio", duration_field="", typical_seconds=60,
        description="Generate a soundtrack for a video; outputs the dubbed VIDEO and its AUDIO.",
        source=f"{_TYPES} VideoToAudioInput"),
)

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
}
_KLING_TAKES = {"prompt", "negative_prompt", "duration", "image_url", "tail_image_url", "start_image_url",
                "end_image_url", "generate_audio", "voice_ids", "multi_prompt", "shot_type"}


def _with_kling(v: Variant) -> Variant:
    model = _KLING_MODELS.get(v.key)
    if model is None or any(o.provider == "kling" for o in v.offers):
        return v
    takes = set(_KLING_TAKES)
    if v.family == "text-to-video":
        takes.add("aspect_ratio")
    if not model.startswith("kling-v2"):
        takes.add("cfg_scale")
    fields = tuple(f.wire for f in v.fields if f.wire in takes)
    return replace(v, offers=v.offers + (Offer("kling", model, fields, _NO_PRICE,
                                               "provider_protocols.md §5.4 (model_name and mode)"),))


# The resellers' other Kling models. AI/ML API: the OpenAPI files of github.com/aimlapi/api-docs
# (docs/api-references/video-models/Kling-AI/*.json at f14fa72f, 2026-08-21). Vercel AI Gateway: the
# GatewayVideoModelId list of github.com/vercel/ai (packages/gateway/src/gateway-video-model-settings.ts at
# ed857f50) with the providerOptions.klingai of packages/klingai. Neither publishes a per-second price.
_AIML = "github.com/aimlapi/api-docs docs/api-references/video-models/Kling-AI/"
_VERCEL = "github.com/vercel/ai packages/gateway/src/gateway-video-model-settings.ts; packages/klingai options"
_MOTION = ("image_url", "video_url", "character_orientation", "prompt", "keep_original_sound")
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


CATALOG = tuple(_with_resellers(_with_kling(v)) for v in CATALOG)

# Seed 003 types deliberately without a node, and why.
EXCLUDED = {
    "FaceChoice": "part of Kling's identify-face + advanced-lip-sync API; no fal endpoint takes it "
                  "(no typed fal client carries it; provider_protocols.md §2.2)",
    "FaceData": "output of Kling's identify-face API; not served by fal (as FaceChoice)",
    "File": "the output file type, not a request",
    "KlingV3MultiPromptElement": "an item of multi_prompt: the Kling Shot node",
    "CameraControl": "advanced_camera_control: the Kling Camera Control node",
    "DynamicMask": "an item of dynamic_masks: the Kling Dynamic Mask node",
    "Trajectory": "the path of a dynamic mask: the Kling Dynamic Mask node",
}

# fal endpoints (provider_protocols.md §2.2) deliberately without a node, and why.
EXCLUDED_ENDPOINTS = {
    "fal-ai/kling-video/v1/pro/image-to-video": "typed `any` in @fal-ai/client 1.8.5/1.9.4 and absent from 1.10.x "
                                                "and from fal's current Kling list: no schema to validate against",
    "fal-ai/kling-video/v1/pro/text-to-video": "as v1/pro/image-to-video: no typed schema, not on fal's current list",
}


def variant(key: str) -> Variant:
    for v in CATALOG:
        if key == v.key or key in v.aliases or key == v.node_id:
            return v
    raise KeyError(f"unknown Kling variant {key!r}; known: {', '.join(v.key for v in CATALOG)}")
