"""The fal entries: every Kling variant on fal.ai, each one call to a family builder (families.py) or a
Variant written out, with its price and where its fields and price come from. The other providers' offers
are added in offers.py.

Field lists come from fal's schemas: seed 003 ("Other types") and the typed endpoint map of
@fal-ai/client 1.10.1 (reference/provider_protocols.md Appendix A/B). `python . schema-import` prints a
draft entry to paste after the last `CATALOG += (...)` here; it names the builders, rules and types below.
"""
from __future__ import annotations

from dataclasses import replace

from .enums import EFFECT_SCENES, LIPSYNC_VOICES  # noqa: F401 (EFFECT_SCENES: schema-import drafts name it)
from .families import (SEED, TYPES, _fal, audio_rates, avatar, effects, image_to_video, motion_control,
                       multi_image, omni, omni_reference, omni_video_edit, per_second, text_to_video)
from .fields import LIPSYNC_VIDEO
from .rules import (rule_effect_images, rule_one_camera, rule_orientation_length,  # noqa: F401 (as above)
                    rule_prompt_or_shots)
from .schema import UNKNOWN, Field, MediaLimits, Price, Variant

_PP = "reference/provider_protocols.md §2.2"
# Kling 3.0 4K takes no voice_ids: fal's typed map has none for it (nor aspect_ratio on image to video) and its
# price page quotes audio "without voice control" only.
_4K_TYPES = ("fal-ai/fal-js libs/client/src/types/endpoints.ts @381105e (2026-08-02) KlingVideoV34k{}ToVideoInput "
             "(no voice_ids)")
_4K_PRICE = ("https://fal.ai/models/fal-ai/kling-video/v3/4k/{}: $0.42/s \"regardless of whether audio is on "
             "or off\"")

CATALOG: tuple[Variant, ...] = (
    # text to video
    text_to_video("v1-std-t2v", "KlingVideo_V1Std_TextToVideo", "Kling 1.0 Standard Text to Video",
                  "v1/standard/text-to-video", UNKNOWN, camera=True,
                  source=f"{SEED} V1TextToVideoRequest + CameraControl; {TYPES}"),
    text_to_video("v1.5-pro-t2v", "KlingVideo_V15Pro_TextToVideo", "Kling 1.5 Pro Text to Video",
                  "v1.5/pro/text-to-video", UNKNOWN, source=f"{SEED} TextToVideoRequest; {TYPES}"),
    text_to_video("v1.6-std-t2v", "KlingVideo_V16Std_TextToVideo", "Kling 1.6 Standard Text to Video",
                  "v1.6/standard/text-to-video", UNKNOWN, source=f"{SEED} TextToVideoRequest; {TYPES}"),
    text_to_video("v1.6-pro-t2v", "KlingVideo_V16Pro_TextToVideo", "Kling 1.6 Pro Text to Video",
                  "v1.6/pro/text-to-video", UNKNOWN, source=f"{SEED} TextToVideoRequest; {TYPES}"),
    text_to_video("v2-master-t2v", "KlingVideo_V2Master_TextToVideo", "Kling 2.0 Master Text to Video",
                  "v2/master/text-to-video",
                  per_second(0.28, "https://fal.ai/models/fal-ai/kling-video/v2/master/text-to-video/llms.txt: 5 s = $1.40, +$0.28/s"), source=f"{SEED} TextToVideoV2MasterRequest; {TYPES}"),
    text_to_video("v2.1-master-t2v", "KlingVideo_V21Master_TextToVideo", "Kling 2.1 Master Text to Video",
                  "v2.1/master/text-to-video", per_second(0.28, f"{_PP} row 18: 5 s = $1.40 + $0.28/s"),
                  source=f"{SEED} TextToVideoV21MasterRequest; {TYPES}"),
    text_to_video("v2.5-turbo-pro-t2v", "KlingVideo_V25TurboPro_TextToVideo", "Kling 2.5 Turbo Pro Text to Video",
                  "v2.5-turbo/pro/text-to-video",
                  per_second(0.07, "https://fal.ai/models/fal-ai/kling-video/v2.5-turbo/pro/text-to-video: 5 s = $0.35, +$0.07/s"), source=f"{SEED} TextToVideoV25ProRequest; {TYPES}"),
    text_to_video("v2.6-pro-t2v", "KlingVideo_V26Pro_TextToVideo", "Kling 2.6 Pro Text to Video",
                  "v2.6/pro/text-to-video",
                  audio_rates(0.07, 0.14, None, "seed 000 ($0.14/s with audio); fal llms.txt $0.07/s without "
                                               f"({_PP} rows 1-2)"),
                  audio=True, aliases=("t2v",), typical=150,
                  source=f"{SEED} TextToVideoV26ProRequest; {TYPES}"),
    text_to_video("v3-std-t2v", "KlingVideo_V3Std_TextToVideo", "Kling 3.0 Standard Text to Video",
                  "v3/standard/text-to-video",
                  audio_rates(0.084, 0.126, 0.154, f"{_PP} row 8"), v3=True, voices=True, typical=180,
                  source=f"{SEED} TextToVideoV3StandardRequest (newer than {TYPES}: voice_ids)"),
    text_to_video("v3-pro-t2v", "KlingVideo_V3Pro_TextToVideo", "Kling 3.0 Pro Text to Video",
                  "v3/pro/text-to-video",
                  audio_rates(0.112, 0.168, 0.196, "fal's price text for v3/pro/text-to-video "
                                                   "(fal registry copy, gokayfem/ComfyUI-fal-API@1780dde)"),
                  v3=True, voices=True, typical=180,
                  source=f"{SEED} TextToVideoV3ProRequest (newer than {TYPES}: voice_ids)"),
    text_to_video("v3-4k-t2v", "KlingVideo_V3_4K_TextToVideo", "Kling 3.0 4K Text to Video",
                  "v3/4k/text-to-video", audio_rates(0.42, 0.42, None, _4K_PRICE.format("text-to-video/llms.txt")),
                  v3=True, typical=180, source=_4K_TYPES.format("Text")),
    # image to video
    image_to_video("v1-std-i2v", "KlingVideo_V1Std_ImageToVideo", "Kling 1.0 Standard Image to Video",
                   "v1/standard/image-to-video",
                   per_second(0.045, "https://fal.ai/models/fal-ai/kling-video/v1/standard/image-to-video/llms.txt: $0.045/s"), end=True, masks=True,
                   source=f"{SEED} V1ImageToVideoRequest + DynamicMask + Trajectory; {TYPES}"),
    image_to_video("v1.5-pro-i2v", "KlingVideo_V15Pro_ImageToVideo", "Kling 1.5 Pro Image to Video",
                   "v1.5/pro/image-to-video", UNKNOWN, end=True, aspect=True, masks=True,
                   source=f"{SEED} KlingV15ProImageToVideoRequest; {TYPES}"),
    image_to_video("v1.6-std-i2v", "KlingVideo_V16Std_ImageToVideo", "Kling 1.6 Standard Image to Video",
                   "v1.6/standard/image-to-video", per_second(0.045, f"{_PP} row 24 (third-party page)"),
                   source=f"{SEED} ImageToVideoRequest; {TYPES}"),
    image_to_video("v1.6-pro-i2v", "KlingVideo_V16Pro_ImageToVideo", "Kling 1.6 Pro Image to Video",
                   "v1.6/pro/image-to-video",
                   per_second(0.098, "https://fal.ai/models/fal-ai/kling-video/v1.6/pro/image-to-video: $0.098/s"), end=True, aspect=True,
                   source=f"{SEED} ProImageToVideoRequest; {TYPES}"),
    image_to_video("v2-master-i2v", "KlingVideo_V2Master_ImageToVideo", "Kling 2.0 Master Image to Video",
                   "v2/master/image-to-video",
                   per_second(0.28, "https://fal.ai/models/fal-ai/kling-video/v2/master/image-to-video: 5 s = $1.40, +$0.28/s"), source=f"{SEED} ImageToVideoV2MasterRequest; {TYPES}"),
    image_to_video("v2.1-std-i2v", "KlingVideo_V21Std_ImageToVideo", "Kling 2.1 Standard Image to Video",
                   "v2.1/standard/image-to-video", per_second(0.056, f"{_PP} row 20: 5 s = $0.28 + $0.056/s"),
                   source=f"{SEED} ImageToVideoV21StandardRequest; {TYPES}"),
    image_to_video("v2.1-pro-i2v", "KlingVideo_V21Pro_ImageToVideo", "Kling 2.1 Pro Image to Video",
                   "v2.1/pro/image-to-video", per_second(0.098, f"{_PP} row 19: 5 s = $0.49 + $0.098/s"), end=True,
                   source=f"{SEED} ImageToVideoV21ProRequest; @fal-ai/client 1.8.5 types (Appendix B)"),
    image_to_video("v2.1-master-i2v", "KlingVideo_V21Master_ImageToVideo", "Kling 2.1 Master Image to Video",
                   "v2.1/master/image-to-video", per_second(0.28, f"{_PP} row 17: 5 s = $1.40 + $0.28/s"),
                   source=f"{SEED} ImageToVideoV21MasterRequest; {TYPES}"),
    image_to_video("v2.5-turbo-std-i2v", "KlingVideo_V25TurboStd_ImageToVideo",
                   "Kling 2.5 Turbo Standard Image to Video", "v2.5-turbo/standard/image-to-video",
                   per_second(0.042, f"{_PP} row 15: 5 s = $0.21 + $0.042/s"),
                   source=f"{SEED} ImageToVideoV25StandardRequest; {TYPES}"),
    image_to_video("v2.5-turbo-pro-i2v", "KlingVideo_V25TurboPro_ImageToVideo", "Kling 2.5 Turbo Pro Image to Video",
                   "v2.5-turbo/pro/image-to-video", per_second(0.07, f"{_PP} row 14: 5 s = $0.35 + $0.07/s"),
                   end=True, source=f"{SEED} ImageToVideoV25ProRequest; {TYPES}"),
    image_to_video("v2.6-pro-i2v", "KlingVideo_V26Pro_ImageToVideo", "Kling 2.6 Pro Image to Video",
                   "v2.6/pro/image-to-video",
                   audio_rates(0.07, 0.14, 0.168, "seed 000 ('0.14 (with audio)', 5 s = $0.70); fal llms.txt: "
                                                  f"$0.07/s without audio, $0.168/s with voice control ({_PP} row 1)"),
                   modern=True, cfg=False, audio=True, voices=True, aliases=("i2v",), typical=180,
                   source=f"seed 003 Input schema, seed 000; {TYPES}"),
    image_to_video("v3-std-i2v", "KlingVideo_V3Std_ImageToVideo", "Kling 3.0 Standard Image to Video",
                   "v3/standard/image-to-video",
                   audio_rates(0.084, 0.126, 0.154, "https://fal.ai/models/fal-ai/kling-video/v3/standard/image-to-video"), v3=True, aspect=True,
                   voices=True, typical=180,
                   source=f"{SEED} ImageToVideoV3StandardRequest (newer than {TYPES}: voice_ids, aspect_ratio)"),
    image_to_video("v3-pro-i2v", "KlingVideo_V3Pro_ImageToVideo", "Kling 3.0 Pro Image to Video",
                   "v3/pro/image-to-video", audio_rates(0.112, 0.168, 0.196, f"{_PP} row 5 (playground page)"),
                   v3=True, aspect=True, voices=True, typical=180,
                   source=f"{SEED} ImageToVideoV3ProRequest (newer than {TYPES}: voice_ids, aspect_ratio)"),
    image_to_video("v3-4k-i2v", "KlingVideo_V3_4K_ImageToVideo", "Kling 3.0 4K Image to Video",
                   "v3/4k/image-to-video", audio_rates(0.42, 0.42, None, _4K_PRICE.format("image-to-video/playground")),
                   v3=True, shot_type=True, typical=180, source=_4K_TYPES.format("Image")),
)

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
            source=f"{SEED} LipsyncA2VRequest; {TYPES}", duration_field=""),
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
            source=f"{SEED} LipsyncT2VRequest; {TYPES}", duration_field=""),
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
        source=f"seed 000/003 link to it; {TYPES} CreateVoiceInput/Output"),
)

# -- newer fal models (provider_protocols.md §2.2 rows 11-13, 40-49; Appendix A) ----------------------

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
        source=f"{TYPES} KlingVideoV1TtsInput (voice_speed range from fal's page)"),
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
        source=f"{TYPES} VideoToAudioInput"),
)

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
