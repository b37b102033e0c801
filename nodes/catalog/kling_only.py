"""Variants only Kling's own API serves (no fal endpoint). They are not in CATALOG, which is fal's list with
the other providers added (the fal-only tooling reads it); variants.variant finds them, so the jobs panel and
the price badge do. GENERATED are plain ones: the adapter and the CLI make their node and sub-command from the
entry as for a catalog entry. EXTEND needs more than its fields (jobs/extend.py) and has a node of its own.
"""
from __future__ import annotations

from dataclasses import replace

from .fields import ASPECT, CFG, NEGATIVE, START, duration, image, prompt
from .kling_voices import COMFY_SOURCE, LANGUAGES, TTS_VOICES
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

# Kling 2.6 in mode std: fal serves 2.6 in pro only. Kling's own pages for it were not found; every fact below is
# from third-party mirrors of Kling's documentation (research16.md §3.2).
V26_STD_SOURCE = (
    "third-party mirrors of Kling's documentation only (research16.md §3.2): docs.apimart.ai/en/api-reference/"
    "videos/kling-v2-6/generation ('std - Standard mode (720P, silent video only)'; its matrix gives std text and "
    "image to video, 5 or 10 s, a first frame but no last frame and no audio) and docs.unifically.com ('native_audio "
    "requires mode: pro'); the body is Kling's text2video/image2video one, model_name kling-v2-6, mode std "
    "(provider_protocols.md §5.4: no cfg_scale on kling-v2.x, no aspect_ratio on image2video)")
# Kling's price page is in no corpus we could read. A public repository's transcription of it gives kling-v2-6 std
# 1.5 units per 5 s and 3 per 10 s at $0.14 a unit; its pro row ($0.07/s) and its kling-v3 std row ($0.084/s)
# equal the figures Comfy-Org publishes (offers.py), which is why it is trusted.
V26_STD_PRICE = Price(0.042, source=(
    "Kling's list price as transcribed by a third party (find_string id 56116135556, from kling.ai/document-api/"
    "productBilling/prePaidResourcePackage, captured 2026-06-01): kling-v2-6 std 1.5 units per 5 s, 3 per 10 s, "
    "1 unit = $0.14; its kling-v2-6 pro and kling-v3 std rows agree with Comfy-Org/docs pricing.mdx @ ffb27fc2"))
_V26_STD_NOTE = "720p and silent: sound and an end frame need Kling 2.6 Pro."
_V26_STD_PROMPT = replace(prompt(), tooltip="What happens in the video (silent: no speech, no sound).")


def _v26_std(key: str, node_id: str, name: str, family: str, fields: tuple[Field, ...], what: str,
             typical: int) -> Variant:
    return Variant(key, node_id, name, "", fields, V26_STD_PRICE, family=family, source=V26_STD_SOURCE,
                   typical_seconds=typical, description=f"{what} with Kling 2.6 Standard on Kling's own API. "
                                                        f"{_V26_STD_NOTE}",
                   offers=(Offer("kling", "kling-v2-6/std", tuple(f.wire for f in fields), V26_STD_PRICE,
                                 V26_STD_SOURCE),))


V26_STD_T2V = _v26_std("v2.6-std-t2v", "KlingVideo_V26Std_TextToVideo", "Kling 2.6 Standard Text to Video",
                       "text-to-video", (_V26_STD_PROMPT, duration(), ASPECT, NEGATIVE),
                       "Generate a video from a prompt", 150)
V26_STD_I2V = _v26_std("v2.6-std-i2v", "KlingVideo_V26Std_ImageToVideo", "Kling 2.6 Standard Image to Video",
                       "image-to-video", (image("start_image_url", "start_frame", True, START, "image"),
                                          _V26_STD_PROMPT, duration(), NEGATIVE), "Animate a start frame", 180)

# Kling's text to audio (sound effects): no fal endpoint. Its fields and result are from third-party copies of
# Kling's documentation only; the wire and the result: nodes/providers/kling_audio.py.
T2A_SOURCE = (
    "third-party copies of Kling's documentation only: a copy of klingai.com/document-api/api/video/"
    "audio-generation/text-to-audio.md kept in a public repository (find_string id 71232374228: POST "
    "/v1/audio/text-to-audio, prompt required, at most 200 characters, duration required, 3.0-10.0 s with one "
    "decimal, external_task_id, callback_url; GET /v1/audio/text-to-audio/{task_id or external_task_id}; result "
    "task_result.audios[{id, url_mp3, url_wav, duration_mp3, duration_wav}]); the SDK okaris/kling @ 80af2f82 "
    "(kling/models/audio.py TextToAudioRequest, kling/models/common.py AudioResult, kling/api/audio.py) agrees")
T2A_PRICE = Price(None, source=(
    "not published anywhere we could read: Kling's price page is in no corpus, and neither Comfy-Org/docs "
    "pricing.mdx nor the resellers' pages we found list Kling's text to audio"))
TEXT_TO_AUDIO = Variant(
    "kling-text-to-audio", "KlingVideo_TextToAudio", "Kling Text to Audio", "", (
        Field("prompt", "text", required=True, default="", multiline=True, max_length=200,
              tooltip="The sound to make, e.g. fireworks at a festival (at most 200 characters)."),
        Field("duration", "float", default=5.0, min=3.0, max=10.0, step=0.1,
              tooltip="Length of the sound in seconds: 3 to 10, in steps of 0.1."),
    ), T2A_PRICE, family="audio", output="audio", source=T2A_SOURCE, typical_seconds=60,
    description="Generate a sound effect from a prompt with Kling's own API; the result is an AUDIO.",
    offers=(Offer("kling", "text-to-audio", ("prompt", "duration"), T2A_PRICE, T2A_SOURCE),))

# Kling's text to speech: fal's tts node has no voice_language, and many voices speak both languages, so it is a
# node of its own. Every source is a third party's: Kling's page is known only through copies and resellers.
TTS_SOURCE = (
    "third-party sources only: a scraped copy of Kling's apiReference/model/TTS page (m-macmini.tail568a50.ts.net/"
    "youtube-automation/samples/kling-api/deep-extra/apiReference_model__TTS_sections.json: POST /v1/audio/tts "
    "{text, voice_id, voice_language, voice_speed}, answered with task_result.audios[{id, url, duration}]); the "
    "resellers' pages docs.kkiai.com, docs.fast-token.com and apidoc.cometapi.com (text at most 1000 characters, "
    "voice_language zh|en and matching the voice, voice_speed 0.8-2.0 with one decimal; no external_task_id and no "
    "query route); the SDK okaris/kling @ 80af2f82 (kling/models/audio.py TTSRequest, kling/api/audio.py: 'Returns "
    f"immediately with audio in task_result'); the voices and their languages: {COMFY_SOURCE}")
TTS_PRICE = Price(None, source=(
    "not published anywhere we could read: Kling's price page is in no corpus, and Comfy-Org/docs pricing.mdx "
    "lists no Kling text to speech"))
TEXT_TO_SPEECH = Variant(
    "kling-tts", "KlingVideo_KlingTextToSpeech", "Kling Text to Speech (Kling API)", "", (
        Field("text", "text", required=True, default="", multiline=True, max_length=1000,
              tooltip="What to say (at most 1000 characters)."),
        Field("voice_id", "enum", required=True, default="genshin_vindi2", options=tuple(TTS_VOICES),
              tooltip="One of Kling's preset voices; it must speak the chosen language."),
        Field("voice_language", "enum", required=True, default="en", options=LANGUAGES,
              tooltip="The language of the text: en or zh. Some voices speak only one of them."),
        Field("voice_speed", "float", default=1.0, min=0.8, max=2.0, step=0.1,
              tooltip="Speech rate: 0.8 to 2.0, in steps of 0.1."),
    ), TTS_PRICE, family="audio", output="audio", source=TTS_SOURCE, typical_seconds=20, duration_field="",
    description="Speak a text in English or Chinese with one of Kling's voices on Kling's own API; the result is "
                "an AUDIO.",
    offers=(Offer("kling", "tts", ("text", "voice_id", "voice_language", "voice_speed"), TTS_PRICE, TTS_SOURCE),))

GENERATED: tuple[Variant, ...] = (V26_STD_T2V, V26_STD_I2V, TEXT_TO_AUDIO, TEXT_TO_SPEECH)
KLING_ONLY: tuple[Variant, ...] = (EXTEND,) + GENERATED
