"""What a catalog entry is made of: Variant (one Kling model on fal, with the other providers' Offers),
its Fields, its Price, the MediaLimits of a media input, and the constants the field kinds share.

Pure data types: nothing here knows ComfyUI, HTTP or numpy, so every stage can import it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

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
class MediaLimits:
    """What a provider accepts for a video or audio input; media_in checks it while encoding."""

    min_seconds: Optional[float] = None
    max_seconds: Optional[float] = None
    min_px: Optional[int] = None       # smallest allowed width and height
    max_px: Optional[int] = None       # largest allowed width and height
    max_bytes: Optional[int] = None
    min_fps: Optional[float] = None
    max_fps: Optional[float] = None


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
    endpoint: str                   # fal endpoint id; "" where fal does not serve it (kling_only.py)
    fields: tuple[Field, ...]
    price: Price
    family: str = ""                # text-to-video, image-to-video, ... (README and example workflows)
    description: str = ""
    source: str = ""                # where the field list comes from
    aliases: tuple[str, ...] = ()   # extra CLI names
    typical_seconds: int = 120      # wall time a job usually takes, for the progress estimate
    output: str = "video"           # video | voice | audio
    rules: tuple[Callable, ...] = ()  # cross-field checks, see rules.py
    duration_field: str = "duration"
    audio_field: Optional[str] = None
    voice_field: Optional[str] = None
    offers: tuple[Offer, ...] = ()   # providers besides fal

    @property
    def providers(self) -> tuple[str, ...]:
        return ("fal",) * bool(self.endpoint) + tuple(o.provider for o in self.offers)

    def offer(self, provider: str) -> Offer:
        if provider == "fal" and self.endpoint:
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

