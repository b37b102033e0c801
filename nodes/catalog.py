"""The declarative catalog: one entry per Kling variant.

A node, its request body, its validation and its price all come from an entry here, so adding a
variant is adding an entry (and a test), never a class. Nothing in this module knows ComfyUI or HTTP.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

NEGATIVE_DEFAULT = "blur, distort, and low quality"
# Kling's own API caps prompts at 2500 characters; fal passes them through.
PROMPT_MAX = 2500


@dataclass(frozen=True)
class Field:
    """One input of a variant: how the node shows it and what the provider receives."""

    wire: str                       # field name in the provider's request body
    kind: str                       # text | string | enum | bool | float | image | string_list
    input: str = ""                 # node/CLI input name, when it differs from `wire`
    required: bool = False
    default: Any = None
    options: tuple = ()
    min: Optional[float] = None
    max: Optional[float] = None
    step: Optional[float] = None
    max_items: Optional[int] = None
    max_length: Optional[int] = None
    multiline: bool = False
    cli_alias: str = ""              # a shorter CLI flag, e.g. --image for start_frame
    tooltip: str = ""

    @property
    def name(self) -> str:
        return self.input or self.wire


@dataclass(frozen=True)
class Price:
    """US dollars per second of output video; the rate depends on the audio settings."""

    audio_off: float
    audio_on: Optional[float] = None
    voice: Optional[float] = None   # audio on and voice_ids given
    source: str = ""


@dataclass(frozen=True)
class Variant:
    key: str                        # short stable id, also the CLI sub-command
    node_id: str                    # ComfyUI node id (prefixed: ids are global in ComfyUI)
    display_name: str
    endpoint: str                   # fal endpoint id
    fields: tuple[Field, ...]
    price: Price
    description: str = ""
    source: str = ""                # where the field list was confirmed
    aliases: tuple[str, ...] = ()   # extra CLI names
    typical_seconds: int = 120      # wall time a job usually takes, for the progress estimate
    duration_field: str = "duration"
    audio_field: Optional[str] = "generate_audio"
    voice_field: Optional[str] = "voice_ids"

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name or f.wire == name:
                return f
        raise KeyError(name)

    @property
    def image_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.kind == "image")


def _prompt(required: bool = True) -> Field:
    return Field("prompt", "text", required=required, default="", multiline=True,
                 max_length=PROMPT_MAX,
                 tooltip="What happens in the video. Speech in quotes is spoken when audio is on; "
                         "reference voices as <<<voice_1>>>, <<<voice_2>>>.")


def _negative() -> Field:
    return Field("negative_prompt", "text", default=NEGATIVE_DEFAULT, multiline=True,
                 max_length=PROMPT_MAX, tooltip="What to avoid.")


def _duration(options: tuple[str, ...] = ("5", "10")) -> Field:
    return Field("duration", "enum", default="5" if "5" in options else options[0],
                 options=options, tooltip="Length of the video in seconds (billed per second).")


def _audio() -> Field:
    return Field("generate_audio", "bool", default=True,
                 tooltip="Generate native audio (speech in Chinese or English, sound effects). "
                         "Audio doubles the price.")


def _voices() -> Field:
    return Field("voice_ids", "string_list", default="", max_items=2,
                 tooltip="Up to 2 voice ids from Kling's create-voice endpoint, separated by commas; "
                         "reference them in the prompt as <<<voice_1>>> and <<<voice_2>>>.")


def _aspect() -> Field:
    return Field("aspect_ratio", "enum", default="16:9", options=("16:9", "9:16", "1:1"),
                 tooltip="Frame shape of the generated video.")


def _cfg() -> Field:
    return Field("cfg_scale", "float", default=0.5, min=0.0, max=1.0, step=0.01,
                 tooltip="How closely the video follows the prompt (0 to 1).")


_V26_PRICE = Price(
    audio_off=0.07, audio_on=0.14, voice=0.168,
    source="seed 000 ('0.14 (with audio)', 5 s = $0.70); fal llms.txt for v2.6 pro: $0.07/s audio off, "
           "$0.168/s with voice control (reference/provider_protocols.md §2.2 row 1)",
)

CATALOG: tuple[Variant, ...] = (
    Variant(
        key="v2.6-pro-i2v",
        aliases=("i2v",),
        node_id="KlingVideo_V26Pro_ImageToVideo",
        display_name="Kling 2.6 Pro Image to Video",
        endpoint="fal-ai/kling-video/v2.6/pro/image-to-video",
        description="Animate a start frame (and optionally an end frame) with Kling 2.6 Pro on fal.ai, "
                    "with native audio.",
        source="seed 003 (Input schema), seed 000; @fal-ai/client 1.10.1 types (provider_protocols.md App. A)",
        fields=(
            Field("start_image_url", "image", input="start_frame", required=True, cli_alias="image",
                  tooltip="First frame of the video (one image, at least 300x300, aspect 1:2.5 to 2.5:1)."),
            Field("end_image_url", "image", input="end_frame", cli_alias="end-image",
                  tooltip="Optional last frame of the video."),
            _prompt(),
            _negative(),
            _duration(),
            _audio(),
            _voices(),
        ),
        price=_V26_PRICE,
        typical_seconds=180,
    ),
    Variant(
        key="v2.6-pro-t2v",
        aliases=("t2v",),
        node_id="KlingVideo_V26Pro_TextToVideo",
        display_name="Kling 2.6 Pro Text to Video",
        endpoint="fal-ai/kling-video/v2.6/pro/text-to-video",
        description="Generate a video from a prompt with Kling 2.6 Pro on fal.ai, with native audio.",
        source="seed 003 TextToVideoV26ProRequest; @fal-ai/client 1.10.1 types",
        fields=(
            _prompt(),
            _duration(),
            _aspect(),
            _negative(),
            _cfg(),
            _audio(),
        ),
        price=_V26_PRICE,
        voice_field=None,
        typical_seconds=150,
    ),
)


def variant(key: str) -> Variant:
    for v in CATALOG:
        if key == v.key or key in v.aliases or key == v.node_id:
            return v
    raise KeyError(f"unknown Kling variant {key!r}; known: {', '.join(v.key for v in CATALOG)}")
