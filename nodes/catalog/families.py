"""Family builders: one function per kind of Kling endpoint on fal (text to video, image to video,
multi-image, motion control, effects, O1/O3 omni, avatar) that turns a few switches into a Variant, so most
entries in fal_entries.py are one call.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

from .enums import EFFECT_SCENES
from .fields import (ADVANCED_CAMERA, ASPECT, AUDIO, CAMERA, CFG, DYNAMIC_MASKS, ELEMENTS, END, NEGATIVE,
                     REFERENCE_IMAGES, SHOT_TYPE, SHOTS, START, STATIC_MASK, V2V_VIDEO, VOICES, duration, image,
                     legacy_end, legacy_start, prompt)
from .rules import (rule_effect_images, rule_face_with_video, rule_max_references, rule_one_camera,
                    rule_orientation_length, rule_prompt_or_shots)
from .references import rule_prompt_references
from .schema import DURATIONS_3_15, PROMPT_MAX, Field, MediaLimits, Price, Variant

# Where field lists come from: seed 003 ("Other types") and fal's typed client (provider_protocols.md).
SEED = "seed 003"
TYPES = "@fal-ai/client 1.10.1 types (provider_protocols.md Appendix A)"


def _fal(model_path: str) -> str:
    return f"fal-ai/kling-video/{model_path}"


def text_to_video(key, node_id, name, model_path, price, *, source, cfg=True, camera=False, audio=False,
                  v3=False, voices=False, aliases=(), typical=120) -> Variant:
    if v3:
        fields = (prompt(required=False), SHOTS, duration(DURATIONS_3_15), ASPECT, NEGATIVE, CFG, AUDIO)
        fields += ((VOICES,) if voices else ()) + (SHOT_TYPE,)
    else:
        fields = (prompt(), duration(), ASPECT, NEGATIVE) + ((CFG,) if cfg else ()) + ((AUDIO,) if audio else ())
        if camera:
            fields += (CAMERA, ADVANCED_CAMERA)
    return Variant(key, node_id, name, _fal(model_path), fields, price, family="text-to-video",
                   description=f"Generate a video from a prompt with {name.replace(' Text to Video', '')} on fal.ai.",
                   source=source, aliases=aliases, typical_seconds=typical,
                   rules=(rule_prompt_or_shots,) if v3 else ((rule_one_camera,) if camera else ()),
                   audio_field="generate_audio" if (audio or v3) else None,
                   voice_field="voice_ids" if voices else None)


def image_to_video(key, node_id, name, model_path, price, *, source, end=False, aspect=False, masks=False,
                   cfg=True, modern=False, audio=False, voices=False, v3=False, shot_type=False, aliases=(),
                   typical=150) -> Variant:
    if modern or v3:  # v2.6 and v3 name the frames start_image_url / end_image_url
        fields = (image("start_image_url", "start_frame", True, START, "image"),
                  image("end_image_url", "end_frame", False, END, "end-image"))
    else:
        fields = (legacy_start(),) + ((legacy_end(),) if end else ())
    if v3:
        fields += (prompt(required=False), SHOTS, ELEMENTS, duration(DURATIONS_3_15)) + ((ASPECT,) if aspect else ())
        fields += (NEGATIVE, CFG, AUDIO) + ((VOICES,) if voices else ()) + ((SHOT_TYPE,) if shot_type else ())
    else:
        fields += (prompt(), duration()) + ((ASPECT,) if aspect else ()) + (NEGATIVE,) + ((CFG,) if cfg else ())
        fields += ((AUDIO,) if audio else ()) + ((VOICES,) if voices else ())
        if masks:
            fields += (STATIC_MASK, DYNAMIC_MASKS)
    # fal: "Reference in prompt as @Element1, @Element2"; v3 documents no other reference.
    v3_rules = (rule_prompt_or_shots, rule_prompt_references(elements=(ELEMENTS,), kinds=("element",)))
    return Variant(key, node_id, name, _fal(model_path), fields, price, family="image-to-video",
                   description=f"Animate a start frame with {name.replace(' Image to Video', '')} on fal.ai.",
                   source=source, aliases=aliases, typical_seconds=typical,
                   rules=v3_rules if v3 else (),
                   audio_field="generate_audio" if (audio or v3) else None,
                   voice_field="voice_ids" if voices else None)


def per_second(rate: float, source: str) -> Price:
    return Price(rate, source=source)


def audio_rates(off: float, on: float, voice: Optional[float], source: str) -> Price:
    return Price(off, on, voice, source=source)


def multi_image(key, node_id, name, model_path, price) -> Variant:
    return Variant(key, node_id, name, _fal(model_path), (
        Field("input_image_urls", "images", input="images", required=True, min_items=1, max_items=4,
              tooltip="1 to 4 images (a batch) whose subjects appear in the video."),
        prompt(), duration(), ASPECT, NEGATIVE), price, family="multi-image",
        description=f"Make a video from up to 4 reference images with {name} on fal.ai.",
        source=f"{SEED} MultiImageToVideoRequest; {TYPES}")


def motion_control(key, node_id, name, model_path, price, *, face: bool = False) -> Variant:
    """v2.6 and v3 motion control; v3 adds one face element (orientation `video` only)."""
    extra = (replace(ELEMENTS, options=("image",), max_items=1,
                     tooltip="Optional face element (one Kling Element with a frontal image and/or references) "
                             "for identity; @Element1 in the prompt. Only with character_orientation 'video'."),
             ) if face else ()
    face_rules = (rule_face_with_video, rule_prompt_references(elements=extra, kinds=("element",))) if face else ()
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
        rules=(rule_orientation_length,) + face_rules,
        description=f"Transfer the motion of a reference video onto an image's character with {name}.",
        source=f"{TYPES} KlingVideoV3ProMotionControlInput" if face else f"{SEED} MotionControlRequest; {TYPES}")


def effects(key, node_id, name, model_path, price) -> Variant:
    return Variant(key, node_id, name, _fal(model_path), (
        Field("input_image_urls", "images", input="images", required=True, min_items=1, max_items=2,
              tooltip="One image, or two (a batch) for hug, kiss and heart_gesture."),
        Field("effect_scene", "enum", required=True, default="squish", options=EFFECT_SCENES,
              tooltip="The effect template."),
        duration()), price, family="effects", rules=(rule_effect_images,),
        description=f"Apply one of Kling's ~200 video effect templates to a photo ({name}).",
        source=f"{SEED} VideoEffectsRequest; {TYPES}")


def omni(key, node_id, name, model_path, price, *, image_input: bool, o1: bool = False, audio: bool = True,
         source: str = TYPES) -> Variant:
    """O1 / O3 / v3 Turbo text and image to video."""
    frames = ()
    if image_input:
        start = "start_image_url" if o1 else "image_url"
        frames = (image(start, "start_frame", True, START, "image"),
                  image("end_image_url", "end_frame", False, END, "end-image"))
    if o1:  # O1: one prompt (@Image1 = start frame, @Image2 = end frame), 3-10 s
        fields = frames + (replace(prompt(), tooltip="What happens; @Image1 is the start frame, @Image2 the end "
                                                      "frame."), duration(tuple(str(n) for n in range(3, 11))))
        rules = (rule_prompt_references(images=frames),)
    else:
        fields = frames + (prompt(required=False), SHOTS, duration(DURATIONS_3_15)) + (() if image_input else (ASPECT,))
        if audio:
            fields += (replace(AUDIO, default=False),)
        fields += (SHOT_TYPE,)
        rules = (rule_prompt_or_shots,)
    family = "image-to-video" if image_input else "text-to-video"
    return Variant(key, node_id, name, _fal(model_path), fields, price, family=family, source=source, rules=rules,
                   description=f"{name} on fal.ai.", typical_seconds=180,
                   audio_field="generate_audio" if (audio and not o1) else None)


def omni_reference(key, node_id, name, model_path, price, *, o1: bool) -> Variant:
    """O1 / O3 reference to video: elements and reference images (and on O3 optional start/end frames)."""
    if o1:
        elements, images = (replace(ELEMENTS, options=("omni",), max_items=7,
                                    tooltip="Characters or objects: Kling Element nodes with a frontal image and "
                                            "1-3 references (@Element1, ...)."), replace(REFERENCE_IMAGES, max_items=7))
        fields = (replace(prompt(), tooltip="What happens; @Element1, @Element2 are the elements and @Image1, "
                                            "@Image2 the reference images, in order."),
                  elements, images, ASPECT, duration(tuple(str(n) for n in range(3, 11))))
        rules = (rule_max_references(7),)
    else:
        elements, images = replace(ELEMENTS, options=("combo",)), REFERENCE_IMAGES
        fields = (image("start_image_url", "start_frame", False, "Optional first frame.", "image"),
                  image("end_image_url", "end_frame", False, END, "end-image"),
                  prompt(required=False), SHOTS, elements, images,
                  ASPECT, duration(DURATIONS_3_15), replace(AUDIO, default=False), SHOT_TYPE)
        rules = (rule_prompt_or_shots, rule_max_references(4, with_video_only=True))
    # The frames are not numbered: fal numbers only the reference images (image_urls) as @Image1, ...
    rules += (rule_prompt_references(images=(images,), elements=(elements,)),)
    return Variant(key, node_id, name, _fal(model_path), fields, price, family="reference-to-video",
                   source=TYPES + (" OmniVideoReferenceToVideoInput" if o1 else " O3ProReferenceVideoI2VInput"),
                   rules=rules, typical_seconds=200, audio_field=None if o1 else "generate_audio",
                   description=f"Make a video of elements and reference images with {name} on fal.ai.")


def omni_video_edit(key, node_id, name, model_path, price, *, o1: bool, reference: bool) -> Variant:
    """O1 / O3 video to video: edit a video (same length) or make a new one that references it."""
    video = Field("video_url", "video", input="video", required=True, cli_alias="video",
                  media=replace(V2V_VIDEO, min_fps=24, max_fps=60) if o1 else V2V_VIDEO,
                  tooltip="The source video: MP4/MOV, 3-10 s, 720-2160 px sides, at most 200 MB"
                          + (", 24-60 fps." if o1 else "."))
    elements = replace(ELEMENTS, options=("omni",) if o1 else ("image",), max_items=4,
                       tooltip="Characters or objects (Kling Element nodes with images), @Element1, ...")
    images = replace(REFERENCE_IMAGES, max_items=4)
    fields = (video, replace(prompt(), tooltip="The edit or the new video; @Video1 is the source video, @Element1 "
                                               "and @Image1 the elements and reference images."),
              elements, images, Field("keep_audio", "bool", default=True, tooltip="Keep the source video's sound."))
    if reference:
        fields += (replace(ASPECT, default="auto", options=("auto",) + ASPECT.options),
                   duration(tuple(str(n) for n in range(3, 11 if o1 else 16))))
    kind = "reference" if reference else "edit"
    types = {(True, False): "OmniV2VEditInput", (True, True): "OmniV2VReferenceInput",
             (False, False): "O3ProEditVideoV2VInput", (False, True): "O3ProReferenceVideoV2VInput"}
    return Variant(key, node_id, name, _fal(model_path), fields, price, family="video-to-video",
                   source=f"{TYPES} {types[o1, reference]}",
                   rules=(rule_max_references(4),
                          rule_prompt_references(images=(images,), elements=(elements,), videos=(video,))),
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
        description=f"Make an image speak an audio track ({name}).", source=f"{TYPES} AIAvatarInput")
