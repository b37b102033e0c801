"""Fields and media limits that many catalog entries share, so the families and entries name them
instead of repeating a tooltip or a limit."""
from __future__ import annotations

from .schema import DURATIONS_5_10, NEGATIVE_DEFAULT, PROMPT_MAX, Field, MediaLimits


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

SHOT_TYPE = Field("shot_type", "enum", default="customize", options=("customize", "intelligent"),
                  tooltip="customize: your shots; intelligent: Kling cuts the prompt into shots.")
REFERENCE_IMAGES = Field("image_urls", "images", input="reference_images", min_items=1,
                         tooltip="Reference images for style or appearance (a batch), @Image1, @Image2, ... in "
                                 "the prompt.")

# Lip sync's face video; each lip sync endpoint adds its own length limits.
LIPSYNC_VIDEO = MediaLimits(min_px=720, max_px=1920, max_bytes=100_000_000)
# O1/O3 video-to-video source: "mp4/mov, 3-10.05 s, 720-2160 px, at most 200 MB" (+ "24-60 fps" on O1).
V2V_VIDEO = MediaLimits(min_seconds=3, max_seconds=10.05, min_px=720, max_px=2160, max_bytes=200_000_000)
