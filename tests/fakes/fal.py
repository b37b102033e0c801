"""A fake fal.ai queue server, as strict as the real service (stricter where that is safer).

Written from fal's protocol documentation (see ``/work/shared/reference/provider_protocols.md`` §1,
§1.14, §2 and Appendices A/B, and seed 003), independently of the package under test: nothing here
imports it or reads its catalog -- the point is to catch mistakes in that catalog.

It is a real HTTPS server on ``127.0.0.1`` (random port, throw-away CA from :mod:`fakes.tls`), run by
aiohttp in a background thread with its own event loop, so it serves sync and async tests alike. Server,
log, fault injections and job clock: :class:`fakes.common.FakeServer`, as for the other providers' fakes::

    with FakeFal(tmp_path, key="test-key", video_bytes=mp4) as fal:
        env FAL_QUEUE_RUN_HOST=fal.host, FAL_RUN_HOST=fal.host, FAL_REST_HOST=fal.host,
            SSL_CERT_FILE=fal.ca_path
        ...
        assert fal.count("submit") == 1

Routes (the queue and REST ones need ``Authorization: Key <key>``; the CDN upload ones
``Authorization: Bearer <token>`` from the token route)::

    POST /{endpoint_id}                                  op "submit"
    GET  /{owner}/{alias}/requests/{id}/status           op "status"   (?logs=1|0|true|false)
    GET  /{owner}/{alias}/requests/{id}/status/stream    op "stream"   (server-sent events)
    GET  /{owner}/{alias}/requests/{id}                  op "result"
    PUT  /{owner}/{alias}/requests/{id}/cancel           op "cancel"
    GET  /files/{id}/{name}                              op "file"     (outputs; no auth, like the CDN; Range)

    fal storage (what fal-client 1.0.3 ``upload()`` speaks, reference §1.14); one host plays
    rest.fal.ai, v3.fal.media and the signed-URL bucket:
    POST /storage/auth/token?storage_type=fal-cdn-v3     op "token"     Key -> {token, token_type, base_url, expires_at}
    POST /files/upload                                   op "upload"    Bearer; raw body -> {access_url}
    POST /files/upload/multipart                         op "multipart" Bearer -> {access_url, uploadId}
    PUT  {access_url}/multipart/{uploadId}/{partNumber}  op "part"      Bearer; -> ETag header
    POST {access_url}/multipart/{uploadId}/complete      op "complete"  Bearer; {"parts":[{partNumber, etag}]}
    POST /storage/upload/initiate?storage_type=gcs       op "initiate"  Key; {file_name, content_type}
                                                                        -> {upload_url, file_url}
    PUT  {upload_url}  (/storage/signed/{id}?...)        op "put"       signed URL: no auth; Content-Type must
                                                                        be the one given to "initiate"
    GET  /files/uploads/{id}/{name}                      op "file"      (uploads; no auth; Range)

    fal's Platform API (api.fal.ai; env FAL_API_HOST=fal.host):
    GET  /v1/models/pricing?endpoint_id=a,b[&cursor=c]   op "pricing"   Key; 1 to 50 ids (comma-separated or
                                                                        repeated); 404 for the whole batch when
                                                                        one id is unknown; :data:`PRICES`

A job's life is driven by the wall clock: ``queue_seconds`` IN_QUEUE (queue position counting down from
``queue_position`` to 0), then ``progress_seconds`` IN_PROGRESS (the ``logs`` lines appear evenly spread
over it), then COMPLETED. Its result has the endpoint's documented output shape (:data:`OUTPUTS`).

Inputs are checked against :data:`SCHEMAS` (fields) and :data:`RULES` (cross-field rules). Media URL
fields accept https URLs (not fetched), ``data:`` URIs and URLs of files uploaded to (or produced by)
this fake; the last two are decoded (Pillow for images, PyAV for audio and video) and held to the
documented limits.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import datetime as _dt
import functools
import hashlib
import io
import json
import math
import mimetypes
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from aiohttp import web

from . import common
from .common import DEFAULT_VIDEO, DONE, QUEUED, RUNNING, FakeServer, Reset, decode_image

# --------------------------------------------------------------------------------------------------
# Input schemas, as data: endpoint id -> {field name -> spec}.
#
# spec keys, by "type":
#   "string"      min_length, max_length
#   "boolean"
#   "number", "integer"   ge, le  (integer: a JSON integer, not 5.0)
#   "enum"        values (compared with their JSON type: "5" is not 5)
#   "list"        items (a spec), min_items, max_items
#   "object"      fields ({name: spec}; unknown keys are rejected), rules (cross-field rules, see RULES)
#   "image_url"   formats (mime types; default png/jpeg/webp/gif), max_bytes (10 MB), min_side (300),
#                 min_aspect/max_aspect (0.4/2.5)
#   "mask_url"    formats (default image/png only), max_bytes (10 MB); must decode
#   "video_url"   formats (default video/mp4, video/quicktime), max_bytes, min_seconds, max_seconds,
#                 min_width, max_width, min_height, max_height, min_fps, max_fps
#   "audio_url"   formats (default mp3/wav/m4a/aac mime types; may list video/mp4 etc. for a voice taken
#                 from a video), max_bytes, min_seconds, max_seconds
#   every spec:   "required" (bool)
# Every field not listed is rejected (422 "extra_forbidden"). A JSON null is rejected too (the typed
# schemas say ``field?: T``, not ``T | null``): the product must leave an unset field out.
# A "*_url" value is an https URL (not fetched, unless it points at this fake), or a base64 data URI,
# or the URL of a file uploaded to this fake / produced by one of its jobs (checked like a data URI).
#
# Sources, written next to each entry: "A" = reference Appendix A heading (@fal-ai/client 1.10.1 typed
# map, or the type name given), "B" = Appendix B (older client), "seed X" = seed 003's type X (its main
# "Input" or one of its "Other types"), "§2.2 #n" = a row of the reference endpoint table, "INF" =
# inferred (no typed schema exists). Where seed 003 and Appendix A disagree, §2.2 says the seed is
# newer: the union is accepted (noted at the entry).
# --------------------------------------------------------------------------------------------------
EFFECT_SCENES = [
    "hug", "kiss", "heart_gesture", "squish", "expansion", "fuzzyfuzzy", "bloombloom", "dizzydizzy", "jelly_press",
    "jelly_slice", "jelly_squish", "jelly_jiggle", "pixelpixel", "yearbook", "instant_film", "anime_figure",
    "rocketrocket", "fly_fly", "disappear", "lightning_power", "bullet_time", "bullet_time_360", "media_interview",
    "day_to_night", "let's_ride", "jumpdrop", "swish_swish", "running_man", "jazz_jazz", "swing_swing",
    "skateskate", "building_sweater", "pure_white_wings", "black_wings", "golden_wing", "pink_pink_wings",
    "rampage_ape", "a_list_look", "countdown_teleport", "firework_2026", "instant_christmas", "birthday_star",
    "firework", "celebration", "tiger_hug_pro", "pet_lion_pro", "guardian_spirit", "squeeze_scream", "inner_voice",
    "memory_alive", "guess_what", "eagle_snatch", "hug_from_past", "instant_kid", "dollar_rain", "cry_cry",
    "building_collapse", "mushroom", "jesus_hug", "shark_alert", "lie_flat", "polar_bear_hug", "brown_bear_hug",
    "office_escape_plow", "watermelon_bomb", "boss_coming", "wig_out", "car_explosion", "tiger_hug", "siblings",
    "construction_worker", "snatched", "felt_felt", "plushcut", "drunk_dance", "drunk_dance_pet", "daoma_dance",
    "bouncy_dance", "smooth_sailing_dance", "new_year_greeting", "lion_dance", "prosperity", "great_success",
    "golden_horse_fortune", "red_packet_box", "lucky_horse_year", "lucky_red_packet", "lucky_money_come",
    "lion_dance_pet", "dumpling_making_pet", "fish_making_pet", "pet_red_packet", "lantern_glow",
    "expression_challenge", "overdrive", "heart_gesture_dance", "poping", "martial_arts", "running", "nezha",
    "motorcycle_dance", "subject_3_dance", "ghost_step_dance", "phantom_jewel", "zoom_out", "cheers_2026",
    "kiss_pro", "fight_pro", "hug_pro", "heart_gesture_pro", "dollar_rain_pro", "pet_bee_pro",
    "santa_random_surprise", "magic_match_tree", "happy_birthday", "thumbs_up_pro", "surprise_bouquet",
    "bouquet_drop", "3d_cartoon_1_pro", "glamour_photo_shoot", "box_of_joy", "first_toast_of_the_year",
    "my_santa_pic", "santa_gift", "steampunk_christmas", "snowglobe", "christmas_photo_shoot", "ornament_crash",
    "santa_express", "particle_santa_surround", "coronation_of_frost", "spark_in_the_snow", "scarlet_and_snow",
    "cozy_toon_wrap", "bullet_time_lite", "magic_cloak", "balloon_parade", "jumping_ginger_joy", "c4d_cartoon_pro",
    "venomous_spider", "throne_of_king", "luminous_elf", "woodland_elf", "japanese_anime_1", "american_comics",
    "snowboarding", "witch_transform", "vampire_transform", "pumpkin_head_transform", "demon_transform",
    "mummy_transform", "zombie_transform", "cute_pumpkin_transform", "cute_ghost_transform",
    "knock_knock_halloween", "halloween_escape", "baseball", "trampoline", "trampoline_night", "pucker_up",
    "feed_mooncake", "flyer", "dishwasher", "pet_chinese_opera", "magic_fireball", "gallery_ring", "pet_moto_rider",
    "muscle_pet", "pet_delivery", "mythic_style", "steampunk", "3d_cartoon_2", "pet_chef", "santa_gifts",
    "santa_hug", "girlfriend", "boyfriend", "heart_gesture_1", "pet_wizard", "smoke_smoke", "gun_shot",
    "double_gun", "pet_warrior", "long_hair", "pet_dance", "wool_curly", "pet_bee", "marry_me", "piggy_morph",
    "ski_ski", "magic_broom", "splashsplash", "surfsurf", "fairy_wing", "angel_wing", "dark_wing", "emoji"
]

VOICE_IDS = [
    "genshin_vindi2", "zhinen_xuesheng", "AOT", "ai_shatang", "genshin_klee2", "genshin_kirara", "ai_kaiya",
    "oversea_male1", "ai_chenjiahao_712", "girlfriend_4_speech02", "chat1_female_new-3", "chat_0407_5-1",
    "cartoon-boy-07", "uk_boy1", "cartoon-girl-01", "PeppaPig_platform", "ai_huangzhong_712", "ai_huangyaoshi_712",
    "ai_laoguowang_712", "chengshu_jiejie", "you_pingjing", "calm_story1", "uk_man2", "laopopo_speech02",
    "heainainai_speech02", "reader_en_m-v1", "commercial_lady_en_f-v1", "tiyuxi_xuedi", "tiexin_nanyou",
    "girlfriend_1_speech02", "girlfriend_2_speech02", "zhuxi_speech02", "uk_oldman3", "dongbeilaotie_speech02",
    "chongqingxiaohuo_speech02", "chuanmeizi_speech02", "chaoshandashu_speech02", "ai_taiwan_man2_speech02",
    "xianzhanggui_speech02", "tianjinjiejie_speech02", "diyinnansang_DB_CN_M_04-v2", "yizhipiannan-v1",
    "guanxiaofang-v2", "tianmeixuemei-v1", "daopianyansang-v1", "mengwa-v1"
]

# Effect scenes: seed 003 VideoEffectsRequest.EffectSceneEnum == Appendix A v1.5/pro/effects (197 values,
# identical lists). Voice ids: seed 003 LipsyncT2VRequest.VoiceIdEnum == Appendix A lipsync/text-to-video
# (46 values, identical lists).
EFFECTS_NEEDING_TWO_IMAGES = ["hug", "kiss", "heart_gesture"]  # reference §2.2 #34
MOVEMENT_TYPES = ["horizontal", "vertical", "pan", "tilt", "roll", "zoom"]  # seed CameraControl
CAMERA_CONTROLS = ["down_back", "forward_up", "right_turn_forward", "left_turn_forward"]  # seed V1TextToVideoRequest

# Media limits (the stricter, decimal reading of "MB").
IMAGE_MIME_TO_PIL = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/gif": "GIF"}
IMAGE_MAX_BYTES = 10_000_000  # "10 MB"
IMAGE_MIN_SIDE = 300
IMAGE_MIN_ASPECT = 1 / 2.5
IMAGE_MAX_ASPECT = 2.5
VIDEO_MIMES = ["video/mp4", "video/quicktime"]  # ".mp4/.mov"
AUDIO_MIMES = ["audio/mpeg", "audio/mp3", "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave",
               "audio/mp4", "audio/x-m4a", "audio/m4a", "audio/aac"]  # mp3 / wav / m4a / aac
# PyAV demuxer names a declared type may decode as.
MOV_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
MIME_TO_DEMUXERS = {
    "video/mp4": {MOV_FAMILY}, "video/quicktime": {MOV_FAMILY},
    "audio/mpeg": {"mp3"}, "audio/mp3": {"mp3"},
    "audio/wav": {"wav"}, "audio/x-wav": {"wav"}, "audio/wave": {"wav"}, "audio/vnd.wave": {"wav"},
    "audio/mp4": {MOV_FAMILY}, "audio/x-m4a": {MOV_FAMILY}, "audio/m4a": {MOV_FAMILY},
    "audio/aac": {"aac"},
}


def _enum(values) -> dict:
    return {"type": "enum", "values": list(values)}


def _durations(lo: int, hi: int) -> dict:
    return _enum(str(i) for i in range(lo, hi + 1))


def _s(**kw) -> dict:
    return {"type": "string", **kw}


def _req(spec: dict) -> dict:
    return {**spec, "required": True}


def _img(**kw) -> dict:
    return {"type": "image_url", **kw}


def _img_list(**kw) -> dict:
    return {"type": "list", "items": _img(), **kw}


def _aspect(auto: bool = False) -> dict:
    return _enum((["auto"] if auto else []) + ["16:9", "9:16", "1:1"])


def _cfg() -> dict:
    return {"type": "number", "ge": 0, "le": 1}  # "cfg_scale 0 to 1" (seed 000 limits, DESIGN §4)


def _voice_ids() -> dict:
    return {"type": "list", "items": _s(), "max_items": 2}  # "maximum 2 voices per task"


def _multi_prompt() -> dict:
    # KlingV3MultiPromptElement (seed + A). Shot duration: seed "3".."15", types "1".."15" -> union "1".."15".
    # 1-6 shots (reference §2.3.3 / §2.2 #11).
    return {"type": "list", "min_items": 1, "max_items": 6,
            "items": {"type": "object", "name": "KlingV3MultiPromptElement",
                      "fields": {"prompt": _req(_s()), "duration": _durations(1, 15)}}}


def _dynamic_masks() -> dict:
    # seed DynamicMask {mask_url, trajectories: list<Trajectory>}, Trajectory {x: integer, y: integer}
    # (A: TrackPoint x/y "number" -- the seed's integer is the narrower, newer reading).
    point = {"type": "object", "name": "Trajectory",
             "fields": {"x": _req({"type": "integer"}), "y": _req({"type": "integer"})}}
    return {"type": "list", "items": {"type": "object", "name": "DynamicMask",
                                      "fields": {"mask_url": _req({"type": "mask_url"}),
                                                 "trajectories": {"type": "list", "items": point}}}}


def _camera_control() -> dict:
    # seed CameraControl / A: {movement_type*: enum, movement_value*: integer}
    return {"type": "object", "name": "CameraControl",
            "fields": {"movement_type": _req(_enum(MOVEMENT_TYPES)),
                       "movement_value": _req({"type": "integer"})}}


def _omni_element() -> dict:
    # A: OmniVideoElementInput (O1): frontal_image_url* (Kling image limits), reference_image_urls 1-3.
    return {"type": "object", "name": "OmniVideoElementInput",
            "fields": {"frontal_image_url": _req(_img()),
                       "reference_image_urls": _img_list(min_items=1, max_items=3)}}


def _combo_element() -> dict:
    # A: KlingV3ComboElementInput (seed 003 names it without defining it): an image set (frontal +
    # 1-3 reference images) or a video; voice_id only on a video element.
    return {"type": "object", "name": "KlingV3ComboElementInput",
            "fields": {"frontal_image_url": _img(),
                       "reference_image_urls": _img_list(min_items=1, max_items=3),
                       "video_url": {"type": "video_url"},
                       "voice_id": _s()},
            "rules": [{"kind": "exactly_one_group",
                       "groups": [["frontal_image_url", "reference_image_urls"], ["video_url"]],
                       "msg": "An element is either an image set (frontal_image_url/reference_image_urls) "
                              "or a video (video_url)"},
                      {"kind": "requires", "field": "voice_id", "needs": "video_url",
                       "msg": "Voice binding is only supported for video elements"}]}


def _image_element() -> dict:
    # A: KlingV3ImageElementInput = ElementInput: both optional, reference images 0-3.
    return {"type": "object", "name": "ElementInput",
            "fields": {"frontal_image_url": _img(), "reference_image_urls": _img_list(max_items=3)}}


def _list_of(item: dict, **kw) -> dict:
    return {"type": "list", "items": item, **kw}


# --- families --------------------------------------------------------------------------------------
def _t2v_classic() -> dict:
    # seed TextToVideoRequest (= TextToVideoV21MasterRequest = TextToVideoV25ProRequest = TextToVideoV2MasterRequest)
    # = A KlingVideoV15ProTextToVideoInput
    return {"prompt": _req(_s()), "duration": _enum(["5", "10"]), "aspect_ratio": _aspect(),
            "negative_prompt": _s(), "cfg_scale": _cfg()}


def _i2v_classic(tail: bool = False, aspect: bool = False, masks: bool = False) -> dict:
    # seed ImageToVideoRequest / ImageToVideoV2MasterRequest (= A KlingVideoV2MasterImageToVideoInput)
    spec = {"prompt": _req(_s()), "image_url": _req(_img()), "duration": _enum(["5", "10"]),
            "negative_prompt": _s(), "cfg_scale": _cfg()}
    if aspect:
        spec["aspect_ratio"] = _aspect()
    if tail:
        spec["tail_image_url"] = _img()
    if masks:
        spec["static_mask_url"] = {"type": "mask_url"}
        spec["dynamic_masks"] = _dynamic_masks()
    return spec


def _v1_t2v() -> dict:
    # seed V1TextToVideoRequest = A fal-ai/kling-video/v1/standard/text-to-video
    return {**_t2v_classic(), "camera_control": _enum(CAMERA_CONTROLS), "advanced_camera_control": _camera_control()}


def _motion_control(elements: bool) -> dict:
    # seed MotionControlRequest = A v2.6/{pro,standard}/motion-control; v3 adds elements (A only).
    # Reference video: ".mp4/.mov" assumed (Kling); max 30 s ('video'), 10 s ('image': see RULES).
    spec = {"prompt": _s(), "image_url": _req(_img()),
            "video_url": _req({"type": "video_url", "max_seconds": 30}),
            "keep_original_sound": {"type": "boolean"},
            "character_orientation": _req(_enum(["image", "video"]))}
    if elements:
        spec["elements"] = _list_of(_image_element(), max_items=1)  # "Only 1 element is supported"
    return spec


def _v3_i2v() -> dict:
    # seed ImageToVideoV3ProRequest / ImageToVideoV3StandardRequest; A v3/{pro,standard}/image-to-video.
    # Union: voice_ids and aspect_ratio are seed-only (absent from the 1.10.1 types). shot_type: seed
    # enum ["customize"] (A: plain string).
    return {"prompt": _s(), "multi_prompt": _multi_prompt(), "start_image_url": _req(_img()),
            "duration": _durations(3, 15), "generate_audio": {"type": "boolean"}, "end_image_url": _img(),
            "voice_ids": _voice_ids(), "elements": _list_of(_combo_element()),
            "shot_type": _enum(["customize"]), "aspect_ratio": _aspect(), "negative_prompt": _s(),
            "cfg_scale": _cfg()}


def _v3_t2v() -> dict:
    # seed TextToVideoV3ProRequest / TextToVideoV3StandardRequest; A v3/{pro,standard}/text-to-video.
    # Union: voice_ids is seed-only.
    return {"prompt": _s(), "duration": _durations(3, 15), "multi_prompt": _multi_prompt(),
            "generate_audio": {"type": "boolean"}, "voice_ids": _voice_ids(),
            "shot_type": _enum(["customize", "intelligent"]), "aspect_ratio": _aspect(),
            "negative_prompt": _s(), "cfg_scale": _cfg()}


def _v3_4k(image: bool) -> dict:
    # fal-js endpoints.ts @381105e KlingVideoV34k{Text,Image}ToVideoInput (fal's typed map, 2026-08-02): no
    # voice_ids, no seed; text to video has aspect_ratio, image to video has start/end frames and elements.
    spec = {"prompt": _s(), "multi_prompt": _multi_prompt(), "duration": _durations(3, 15),
            "generate_audio": {"type": "boolean"}, "shot_type": _enum(["customize", "intelligent"]),
            "negative_prompt": _s(), "cfg_scale": _cfg()}
    if image:
        spec.update({"start_image_url": _req(_img()), "end_image_url": _img(),
                     "elements": _list_of(_combo_element())})
    else:
        spec["aspect_ratio"] = _aspect()
    return spec


def _v3_turbo_i2v() -> dict:
    # §2.2 #11/#12 (no typed schema): image_url* (jpg/png <= 50 MB), prompt | multi_prompt (1-6 shots,
    # total <= 15 s), duration "3".."15"; end_image_url per §2.3.2. shot_type: INF (v3 family). Audio is
    # always on: no generate_audio. Fields the row elides ("...") are rejected until documented.
    return {"prompt": _s(), "multi_prompt": _multi_prompt(),
            "image_url": _req(_img(formats=["image/jpeg", "image/png"], max_bytes=50_000_000)),
            "end_image_url": _img(formats=["image/jpeg", "image/png"], max_bytes=50_000_000),
            "duration": _durations(3, 15), "shot_type": _enum(["customize"])}


def _v3_turbo_t2v() -> dict:
    # §2.2 #13 (no typed schema): prompt | multi_prompt, aspect_ratio, duration; shot_type INF.
    return {"prompt": _s(), "multi_prompt": _multi_prompt(), "aspect_ratio": _aspect(),
            "duration": _durations(3, 15), "shot_type": _enum(["customize", "intelligent"])}


def _o1_i2v() -> dict:
    # A OmniVideoImageToVideoInput (o1/image-to-video, o1/standard/image-to-video)
    return {"prompt": _req(_s()), "start_image_url": _req(_img()), "end_image_url": _img(),
            "duration": _durations(3, 10)}


def _o1_r2v() -> dict:
    # A OmniVideoReferenceToVideoInput; "Maximum 7 total (elements + reference images + start image)": RULES
    return {"prompt": _req(_s()), "elements": _list_of(_omni_element()), "image_urls": _img_list(),
            "aspect_ratio": _aspect(), "duration": _durations(3, 10)}


# O1 v2v reference video: "Max file size: 200.0MB, Min width: 720px, Min height: 720px, Max width: 2160px,
# Max height: 2160px, Min duration: 3.0s, Max duration: 10.05s, Min FPS: 24.0, Max FPS: 60.0" (A).
_O1_V2V_VIDEO = {"type": "video_url", "max_bytes": 200_000_000, "min_seconds": 3.0, "max_seconds": 10.05,
                 "min_width": 720, "max_width": 2160, "min_height": 720, "max_height": 2160,
                 "min_fps": 24.0, "max_fps": 60.0}
# O3 v2v: "Only .mp4/.mov formats, 3-10s duration, 720-2160px resolution, max 200MB" (A); no fps limit
# stated; 10.05 s upper bound taken from O1's exact figure.
_O3_V2V_VIDEO = {"type": "video_url", "max_bytes": 200_000_000, "min_seconds": 3.0, "max_seconds": 10.05,
                 "min_width": 720, "max_width": 2160, "min_height": 720, "max_height": 2160}


def _o1_v2v(reference: bool) -> dict:
    # A OmniV2VEditInput / OmniV2VReferenceInput; "Maximum 4 total (elements + reference images)": RULES
    spec = {"prompt": _req(_s()), "video_url": _req(dict(_O1_V2V_VIDEO)), "elements": _list_of(_omni_element()),
            "image_urls": _img_list(), "keep_audio": {"type": "boolean"}}
    if reference:
        spec["aspect_ratio"] = _aspect(auto=True)
        spec["duration"] = _durations(3, 10)
    return spec


def _o3_i2v() -> dict:
    # A O3ProImageToVideoInput (o3/{pro,standard}/image-to-video). shot_type: A says string; the enum is INF.
    return {"prompt": _s(), "multi_prompt": _multi_prompt(), "image_url": _req(_img()), "end_image_url": _img(),
            "duration": _durations(3, 15), "generate_audio": {"type": "boolean"},
            "shot_type": _enum(["customize", "intelligent"])}


def _o3_t2v() -> dict:
    # A O3ProTextToVideoInput (o3/{pro,standard}/text-to-video). shot_type enum INF (A: string).
    return {"prompt": _s(), "multi_prompt": _multi_prompt(), "aspect_ratio": _aspect(),
            "duration": _durations(3, 15), "generate_audio": {"type": "boolean"},
            "shot_type": _enum(["customize", "intelligent"])}


def _o3_r2v() -> dict:
    # A O3ProReferenceVideoI2VInput (o3/{pro,standard}/reference-to-video)
    return {"prompt": _s(), "multi_prompt": _multi_prompt(), "start_image_url": _img(), "end_image_url": _img(),
            "image_urls": _img_list(), "elements": _list_of(_combo_element()), "aspect_ratio": _aspect(),
            "duration": _durations(3, 15), "generate_audio": {"type": "boolean"},
            "shot_type": _enum(["customize", "intelligent"])}


def _o3_v2v(reference: bool) -> dict:
    # A O3ProEditVideoV2VInput / O3ProReferenceVideoV2VInput
    spec = {"prompt": _req(_s()), "video_url": _req(dict(_O3_V2V_VIDEO)), "elements": _list_of(_image_element()),
            "image_urls": _img_list(), "keep_audio": {"type": "boolean"},
            "shot_type": _enum(["customize", "intelligent"])}
    if reference:
        spec["aspect_ratio"] = _aspect(auto=True)
        spec["duration"] = _durations(3, 15)
    return spec


def _effects() -> dict:
    # seed VideoEffectsRequest = A KlingVideoV15ProEffectsInput
    return {"effect_scene": _req(_enum(EFFECT_SCENES)), "input_image_urls": _img_list(),
            "duration": _enum(["5", "10"])}


def _elements() -> dict:
    # seed MultiImageToVideoRequest = A KlingVideoV16ProElementsInput: "Supports up to 4 images."
    return {"prompt": _req(_s()), "input_image_urls": _req(_img_list(min_items=1, max_items=4)),
            "duration": _enum(["5", "10"]), "aspect_ratio": _aspect(), "negative_prompt": _s()}


# Lipsync input video: ".mp4/.mov, <=100MB, 2-10s (a2v) / 2-60s (t2v), 720p/1080p only, width/height 720-1920px"
def _lipsync_video(max_seconds: float) -> dict:
    return {"type": "video_url", "max_bytes": 100_000_000, "min_seconds": 2.0, "max_seconds": max_seconds,
            "min_width": 720, "max_width": 1920, "min_height": 720, "max_height": 1920}


def _avatar() -> dict:
    # A AIAvatarInput (v1/{standard,pro}/ai-avatar, ai-avatar/v2/{standard,pro}); no media limits documented
    return {"audio_url": _req({"type": "audio_url"}), "image_url": _req(_img()), "prompt": _s()}


_KV = "fal-ai/kling-video/"
SCHEMAS: dict[str, dict[str, dict[str, Any]]] = {
    # ---- text-to-video
    _KV + "v1/standard/text-to-video": _v1_t2v(),              # seed V1TextToVideoRequest; A
    _KV + "v1/pro/text-to-video": _v1_t2v(),                   # INF: §2.2 #33 "probably like #32" (typed `any`, B)
    _KV + "v1.5/pro/text-to-video": _t2v_classic(),            # seed TextToVideoRequest; A
    _KV + "v1.6/standard/text-to-video": _t2v_classic(),       # seed TextToVideoRequest; A
    _KV + "v1.6/pro/text-to-video": _t2v_classic(),            # seed TextToVideoRequest; A
    _KV + "v2/master/text-to-video": _t2v_classic(),           # seed TextToVideoV2MasterRequest; A
    _KV + "v2.1/master/text-to-video": _t2v_classic(),         # seed TextToVideoV21MasterRequest; A
    _KV + "v2.5-turbo/pro/text-to-video": _t2v_classic(),      # seed TextToVideoV25ProRequest; A
    _KV + "v2.6/pro/text-to-video": {**_t2v_classic(), "generate_audio": {"type": "boolean"}},
    #                                                           seed TextToVideoV26ProRequest; A
    _KV + "v3/standard/text-to-video": _v3_t2v(),              # seed TextToVideoV3StandardRequest; A (+voice_ids)
    _KV + "v3/pro/text-to-video": _v3_t2v(),                   # seed TextToVideoV3ProRequest; A (+voice_ids)
    _KV + "v3/turbo/pro/text-to-video": _v3_turbo_t2v(),       # §2.2 #13 only
    _KV + "o3/standard/text-to-video": _o3_t2v(),              # A o3/standard/text-to-video
    _KV + "o3/pro/text-to-video": _o3_t2v(),                   # A o3/pro/text-to-video
    _KV + "o3/4k/text-to-video": _o3_t2v(),                    # §2.2 #49 "like #46" (INF: same as O3 t2v)
    _KV + "v3/4k/text-to-video": _v3_4k(image=False),          # endpoints.ts @381105e KlingVideoV34kTextToVideoInput
    # ---- image-to-video
    _KV + "v1/standard/image-to-video": _i2v_classic(tail=True, masks=True),  # seed V1ImageToVideoRequest; A
    _KV + "v1/pro/image-to-video": _i2v_classic(tail=True, masks=True),       # INF: §2.2 #33 "probably like #31"
    _KV + "v1.5/pro/image-to-video": _i2v_classic(tail=True, aspect=True, masks=True),
    #                                                           seed KlingV15ProImageToVideoRequest; A
    _KV + "v1.6/standard/image-to-video": _i2v_classic(),      # seed ImageToVideoRequest; A (= V2Master input)
    _KV + "v1.6/pro/image-to-video": _i2v_classic(tail=True, aspect=True),    # seed ProImageToVideoRequest; A
    _KV + "v2/master/image-to-video": _i2v_classic(),          # seed ImageToVideoV2MasterRequest; A
    _KV + "v2.1/standard/image-to-video": _i2v_classic(),      # seed ImageToVideoV21StandardRequest; A
    _KV + "v2.1/pro/image-to-video": _i2v_classic(tail=True),  # seed ImageToVideoV21ProRequest; B (1.8.5)
    _KV + "v2.1/master/image-to-video": _i2v_classic(),        # seed ImageToVideoV21MasterRequest; A
    _KV + "v2.5-turbo/standard/image-to-video": _i2v_classic(),  # seed ImageToVideoV25StandardRequest; A
    _KV + "v2.5-turbo/pro/image-to-video": _i2v_classic(tail=True),  # seed ImageToVideoV25ProRequest; A
    _KV + "v2.6/pro/image-to-video": {                         # seed 003 main "Input"; A
        "prompt": _req(_s()), "start_image_url": _req(_img()), "end_image_url": _img(),
        "duration": _enum(["5", "10"]), "negative_prompt": _s(), "generate_audio": {"type": "boolean"},
        "voice_ids": _voice_ids()},
    _KV + "v3/standard/image-to-video": _v3_i2v(),             # seed ImageToVideoV3StandardRequest; A
    #                                                           (+ seed-only voice_ids, aspect_ratio)
    _KV + "v3/pro/image-to-video": _v3_i2v(),                  # seed ImageToVideoV3ProRequest; A
    #                                                           (+ seed-only voice_ids, aspect_ratio)
    _KV + "v3/turbo/standard/image-to-video": _v3_turbo_i2v(),  # §2.2 #11 only
    _KV + "v3/turbo/pro/image-to-video": _v3_turbo_i2v(),      # §2.2 #12 only
    _KV + "o1/image-to-video": _o1_i2v(),                      # A o1/image-to-video
    _KV + "o1/standard/image-to-video": _o1_i2v(),             # A o1/standard/image-to-video
    _KV + "o3/standard/image-to-video": _o3_i2v(),             # A o3/standard/image-to-video
    _KV + "o3/pro/image-to-video": _o3_i2v(),                  # A o3/pro/image-to-video
    _KV + "o3/4k/image-to-video": _o3_i2v(),                   # §2.2 #49 "presumably" (INF: same as O3 i2v)
    _KV + "v3/4k/image-to-video": _v3_4k(image=True),          # endpoints.ts @381105e KlingVideoV34kImageToVideoInput
    # ---- reference-to-video, video-to-video
    _KV + "o1/reference-to-video": _o1_r2v(),                  # A o1/reference-to-video
    _KV + "o1/standard/reference-to-video": _o1_r2v(),         # A o1/standard/reference-to-video
    _KV + "o3/standard/reference-to-video": _o3_r2v(),         # A o3/standard/reference-to-video
    _KV + "o3/pro/reference-to-video": _o3_r2v(),              # A o3/pro/reference-to-video
    _KV + "o1/video-to-video/edit": _o1_v2v(False),            # A o1/video-to-video/edit
    _KV + "o1/standard/video-to-video/edit": _o1_v2v(False),   # A o1/standard/video-to-video/edit
    _KV + "o1/video-to-video/reference": _o1_v2v(True),        # A o1/video-to-video/reference
    _KV + "o1/standard/video-to-video/reference": _o1_v2v(True),  # A o1/standard/video-to-video/reference
    _KV + "o3/standard/video-to-video/edit": _o3_v2v(False),   # A o3/standard/video-to-video/edit
    _KV + "o3/pro/video-to-video/edit": _o3_v2v(False),        # A o3/pro/video-to-video/edit
    _KV + "o3/standard/video-to-video/reference": _o3_v2v(True),  # A o3/standard/video-to-video/reference
    _KV + "o3/pro/video-to-video/reference": _o3_v2v(True),    # A o3/pro/video-to-video/reference
    # ---- elements, effects
    _KV + "v1.6/standard/elements": _elements(),               # seed MultiImageToVideoRequest; A
    _KV + "v1.6/pro/elements": _elements(),                    # seed MultiImageToVideoRequest; A
    _KV + "v1/standard/effects": _effects(),                   # seed VideoEffectsRequest; A
    _KV + "v1.5/pro/effects": _effects(),                      # seed VideoEffectsRequest; A
    _KV + "v1.6/standard/effects": _effects(),                 # seed VideoEffectsRequest; A
    _KV + "v1.6/pro/effects": _effects(),                      # seed VideoEffectsRequest; A
    # ---- motion control
    _KV + "v2.6/standard/motion-control": _motion_control(False),  # seed MotionControlRequest; A
    _KV + "v2.6/pro/motion-control": _motion_control(False),   # seed MotionControlRequest; A
    _KV + "v3/standard/motion-control": _motion_control(True),  # A v3/standard/motion-control
    _KV + "v3/pro/motion-control": _motion_control(True),      # A v3/pro/motion-control
    # ---- lipsync, voice, audio, avatar
    _KV + "lipsync/audio-to-video": {                          # seed LipsyncA2VRequest; A lipsyncInput
        "video_url": _req(_lipsync_video(10.0)),
        "audio_url": _req({"type": "audio_url", "min_seconds": 2.0, "max_seconds": 60.0, "max_bytes": 5_000_000})},
    _KV + "lipsync/text-to-video": {                           # seed LipsyncT2VRequest; A
        "video_url": _req(_lipsync_video(60.0)), "text": _req(_s(max_length=120)),
        "voice_id": _req(_enum(VOICE_IDS)), "voice_language": _enum(["zh", "en"]),
        "voice_speed": {"type": "number"}},
    _KV + "create-voice": {                                    # A CreateVoiceInput (§2.2 #37)
        "voice_url": _req({"type": "audio_url", "formats": ["audio/mpeg", "audio/mp3", "audio/wav", "audio/x-wav",
                                                            "audio/wave", "audio/vnd.wave", *VIDEO_MIMES],
                           "min_seconds": 5.0, "max_seconds": 30.0})},
    _KV + "v1/tts": {                                          # A v1/tts (§2.2 #38)
        "text": _req(_s()), "voice_id": _enum(VOICE_IDS), "voice_speed": {"type": "number"}},
    _KV + "video-to-audio": {                                  # A VideoToAudioInput (§2.2 #39)
        "video_url": _req({"type": "video_url", "max_bytes": 100_000_000, "min_seconds": 3.0, "max_seconds": 20.0}),
        "sound_effect_prompt": _s(max_length=200), "background_music_prompt": _s(max_length=200),
        "asmr_mode": {"type": "boolean"}},
    _KV + "v1/standard/ai-avatar": _avatar(),                  # A AIAvatarInput
    _KV + "v1/pro/ai-avatar": _avatar(),                       # A AIAvatarInput
    _KV + "ai-avatar/v2/standard": _avatar(),                  # A AIAvatarInput
    _KV + "ai-avatar/v2/pro": _avatar(),                       # A AIAvatarInput
}

# --------------------------------------------------------------------------------------------------
# Cross-field rules, as data: endpoint id -> [rule]. They run after the fields of their object
# validated (like pydantic "after" model validators); an "object" spec may carry its own "rules".
#   exactly_one_of   fields                    exactly one present          -> loc [..obj], value_error
#   required_with    field, with               field missing while `with` present -> [..field], missing
#   requires         field, needs, msg         field present without `needs` -> [..field], value_error
#   exactly_one_group groups, msg              fields of exactly one group present -> [..obj], value_error
#   shots_sum        list, item, total, default  sum(item durations) == total -> [..list], value_error
#   max_with         list, field, max          at most `max` items carry `field` -> [..list, i, field]
#   max_total        lists, max, [when_any_has: (list, field)]  total length -> [..obj], value_error
#   only_when        field, when {f: [values]} field only allowed then -> [..field], value_error
#   count_when       field, when {f: [values]}, count  exact list length then -> [..field]
#   duration_by      field, by, max_seconds {value: s}  decoded media duration -> [..field]
# --------------------------------------------------------------------------------------------------
_XOR_PROMPT = {"kind": "exactly_one_of", "fields": ["prompt", "multi_prompt"],
               "msg": "Either prompt or multi_prompt must be provided, but not both"}
_SHOTS_SUM = {"kind": "shots_sum", "list": "multi_prompt", "item": "duration", "total": "duration", "default": "5"}
_ONE_VIDEO_ELEMENT = {"kind": "max_with", "list": "elements", "field": "video_url", "max": 1,
                      "msg": "A request can only have one element with a video"}
_SHOT_TYPE_WITH_MULTI = {"kind": "required_with", "field": "shot_type", "with": "multi_prompt"}
_ORIENTATION_LIMIT = {"kind": "duration_by", "field": "video_url", "by": "character_orientation",
                      "max_seconds": {"image": 10.0, "video": 30.0}}


def _max_total(n: int, when_video: bool = False) -> dict:
    rule = {"kind": "max_total", "lists": ["elements", "image_urls"], "max": n}
    if when_video:
        rule["when_any_has"] = ["elements", "video_url"]
    return rule


RULES: dict[str, list[dict]] = {}
for _ep in ("v3/standard/image-to-video", "v3/pro/image-to-video"):
    # "Either prompt or multi_prompt ... but not both"; shot_type "Required when multi_prompt is provided";
    # "A request can only have one element with a video"; shots sum to the total (§2.3.3).
    RULES[_KV + _ep] = [_XOR_PROMPT, _SHOT_TYPE_WITH_MULTI, _SHOTS_SUM, _ONE_VIDEO_ELEMENT]
# v3 4K image to video: "Either prompt or multi_prompt ... but not both"; "A request can only have one element
# with a video" (endpoints.ts @381105e); no "shot_type required with multi_prompt" there (it defaults to customize).
RULES[_KV + "v3/4k/image-to-video"] = [_XOR_PROMPT, _SHOTS_SUM, _ONE_VIDEO_ELEMENT]
for _ep in ("v3/standard/text-to-video", "v3/pro/text-to-video", "v3/4k/text-to-video",
            "v3/turbo/standard/image-to-video", "v3/turbo/pro/image-to-video", "v3/turbo/pro/text-to-video", "o3/standard/image-to-video",
            "o3/pro/image-to-video", "o3/4k/image-to-video", "o3/standard/text-to-video", "o3/pro/text-to-video",
            "o3/4k/text-to-video"):
    RULES[_KV + _ep] = [_XOR_PROMPT, _SHOTS_SUM]
for _ep in ("o3/standard/reference-to-video", "o3/pro/reference-to-video"):
    # image_urls: "Maximum 4 total (elements + reference images) when using video"
    RULES[_KV + _ep] = [_XOR_PROMPT, _SHOTS_SUM, _ONE_VIDEO_ELEMENT, _max_total(4, when_video=True)]
for _ep in ("o1/reference-to-video", "o1/standard/reference-to-video"):
    RULES[_KV + _ep] = [_max_total(7)]  # "Maximum 7 total (elements + reference images + start image)"
for _ep in ("o1/video-to-video/edit", "o1/standard/video-to-video/edit", "o1/video-to-video/reference",
            "o1/standard/video-to-video/reference", "o3/standard/video-to-video/edit", "o3/pro/video-to-video/edit",
            "o3/standard/video-to-video/reference", "o3/pro/video-to-video/reference"):
    RULES[_KV + _ep] = [_max_total(4)]  # "Maximum 4 total (elements + reference images) when using video"
for _ep in ("v2.6/standard/motion-control", "v2.6/pro/motion-control"):
    RULES[_KV + _ep] = [_ORIENTATION_LIMIT]  # "10s max for 'image', 30s max for 'video'"
for _ep in ("v3/standard/motion-control", "v3/pro/motion-control"):
    # "Element binding is only supported when character_orientation is 'video'"
    RULES[_KV + _ep] = [_ORIENTATION_LIMIT, {"kind": "only_when", "field": "elements",
                                             "when": {"character_orientation": ["video"]},
                                             "msg": "Element binding is only supported when "
                                                    "character_orientation is 'video'"}]
for _ep in ("v1/standard/effects", "v1.5/pro/effects", "v1.6/standard/effects", "v1.6/pro/effects"):
    # "hug, kiss and heart_gesture need 2" input images (§2.2 #34)
    RULES[_KV + _ep] = [{"kind": "count_when", "field": "input_image_urls",
                         "when": {"effect_scene": EFFECTS_NEEDING_TWO_IMAGES}, "count": 2}]

# --------------------------------------------------------------------------------------------------
# Output shapes (reference §2.1/§2.2, Appendix A): endpoint id -> kind.
#   "video"        {"video": File}
#   "avatar"       {"video": File, "duration": number}
#   "voice"        {"voice_id": str}
#   "audio"        {"audio": File}
#   "video_audio"  {"audio": File, "video": File}
# An endpoint not listed (a caller's own schema) answers {"video": File}.
# --------------------------------------------------------------------------------------------------
OUTPUTS: dict[str, str] = {ep: "video" for ep in SCHEMAS}
OUTPUTS.update({_KV + "v1/standard/ai-avatar": "avatar", _KV + "v1/pro/ai-avatar": "avatar",
                _KV + "ai-avatar/v2/standard": "avatar", _KV + "ai-avatar/v2/pro": "avatar",
                _KV + "create-voice": "voice", _KV + "v1/tts": "audio", _KV + "video-to-audio": "video_audio"})

ERROR_DOCS = "https://docs.fal.ai/errors#"

IN_QUEUE, IN_PROGRESS, COMPLETED = "IN_QUEUE", "IN_PROGRESS", "COMPLETED"
STATUS = {QUEUED: IN_QUEUE, RUNNING: IN_PROGRESS, DONE: COMPLETED}  # a job's phase in fal's words
UPLOAD_OPS = ("token", "upload", "multipart", "part", "complete", "initiate", "put")
OPS = ("submit", "status", "stream", "result", "cancel", "file") + UPLOAD_OPS + ("pricing",)

# fal's pricing index (GET /v1/models/pricing, docs.fal.ai/platform-apis/v1/models/pricing): one unit price per
# endpoint. The rates are fal's list prices on its model pages (the base, audio-off rate where a page lists
# tiers); "seconds" is the unit label fal's API was seen answering for per-second models (research16.md §2.4).
# The index knows every endpoint this fake serves; one whose list price is not written here answers in fal's
# own "units" (a label fal's API answers for many endpoints, research16.md §2.4), which no per-second price can
# use. An id not in here is unknown to the index: the whole batch naming it is answered 404, as
# ComfyUI-Fal-Gateway observed.
PRICES: dict[str, dict] = {ep: {"unit_price": 1.0, "unit": "units", "currency": "USD"} for ep in SCHEMAS}
PRICES.update({
    _KV + ep: {"unit_price": rate, "unit": unit, "currency": "USD"} for ep, rate, unit in (
        ("v2.6/pro/image-to-video", 0.07, "seconds"), ("v2.6/pro/text-to-video", 0.07, "seconds"),
        ("v3/pro/image-to-video", 0.112, "seconds"), ("v3/pro/text-to-video", 0.112, "seconds"),
        ("v3/standard/image-to-video", 0.084, "seconds"), ("v3/standard/text-to-video", 0.084, "seconds"),
        ("v3/4k/image-to-video", 0.42, "seconds"), ("v3/4k/text-to-video", 0.42, "seconds"),
        ("o3/4k/image-to-video", 0.42, "seconds"), ("o3/4k/text-to-video", 0.42, "seconds"),
        ("v2.5-turbo/pro/image-to-video", 0.07, "seconds"), ("v2.5-turbo/pro/text-to-video", 0.07, "seconds"),
        ("v2.1/master/image-to-video", 0.28, "seconds"), ("v2.1/master/text-to-video", 0.28, "seconds"),
        ("v1.6/pro/image-to-video", 0.098, "seconds"), ("v1.6/standard/image-to-video", 0.045, "seconds"),
        ("lipsync/audio-to-video", 0.014, "seconds"), ("create-voice", 0.007, "generations"),
    )
})
PRICING_MAX_IDS = 50  # "Must provide at least 1 endpoint ID (1-50 models)"
DEFAULT_LOGS = ["Starting video generation", "Generating frames", "Encoding video"]
CANCELLED_ERROR = "Request was cancelled"
CANCELLED_TYPE = "client_cancelled"


# --------------------------------------------------------------------------------------------------
# Validation (pydantic-v2 style error items)
# --------------------------------------------------------------------------------------------------
def shorten(value: Any, limit: int = 80) -> Any:
    """The ``input`` echoed in an error: long strings (data URIs) cut, containers shortened recursively."""
    if isinstance(value, str):
        return value if len(value) <= limit else f"{value[:60]}...[{len(value)} chars]"
    if isinstance(value, dict):
        return {k: shorten(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [shorten(v, limit) for v in value[:10]]
    return value


def _err(loc, type_: str, msg: str, value: Any, ctx: dict | None = None) -> dict:
    item = {"loc": list(loc), "msg": msg, "type": type_, "url": ERROR_DOCS + type_, "input": shorten(value)}
    if ctx is not None:
        item["ctx"] = ctx
    return item


def _value_error(loc, msg: str, value: Any) -> dict:
    """What a pydantic (model) validator raising ValueError(msg) gives."""
    return _err(loc, "value_error", f"Value error, {msg}", value, {"error": msg})


def _expected(values) -> str:
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


class _Ctx:
    """State of one validation: how to fetch this fake's own URLs, and what the media decoded to."""

    def __init__(self, resolve: Callable[[str], tuple[bytes, str] | None] | None):
        self.resolve = resolve
        self.media: dict[tuple, dict] = {}  # loc -> probe info (duration, width, ...)


def validate_input(schema: dict[str, dict], body: Any, *, rules: list[dict] | None = None,
                   resolve: Callable[[str], tuple[bytes, str] | None] | None = None) -> list[dict]:
    """Errors of ``body`` against ``schema`` (empty list when valid).

    Order: schema fields (nested ones depth first), then extras, then -- only when all that passed --
    the cross-field ``rules``. ``resolve(url)`` maps an https URL to ``(bytes, content_type)`` to check
    it like a data URI, returns None for a URL that is not fetched, or raises LookupError (not found).
    """
    if not isinstance(body, dict):
        return [_err(["body"], "model_attributes_type",
                     "Input should be a valid dictionary or object to extract fields from", body)]
    return _check_object(schema, rules or [], body, ["body"], _Ctx(resolve))


def _check_object(fields: dict, rules: list, obj: dict, loc: list, ctx: _Ctx) -> list[dict]:
    errors: list[dict] = []
    for name, spec in fields.items():
        if name not in obj:
            if spec.get("required"):
                errors.append(_err(loc + [name], "missing", "Field required", obj))
            continue
        errors.extend(_check(spec, obj[name], loc + [name], ctx))
    for name, value in obj.items():
        if name not in fields:
            errors.append(_err(loc + [name], "extra_forbidden", "Extra inputs are not permitted", value))
    if not errors and rules:
        errors.extend(_apply_rules(rules, obj, loc, ctx))
    return errors


def _check(spec: dict, v: Any, loc: list, ctx: _Ctx | None = None) -> list[dict]:
    ctx = ctx or _Ctx(None)
    t = spec["type"]
    if t in ("string",) or t in _MEDIA_KINDS:
        if not isinstance(v, str):
            return [_err(loc, "string_type", "Input should be a valid string", v)]
        if "min_length" in spec and len(v) < spec["min_length"]:
            n = spec["min_length"]
            return [_err(loc, "string_too_short", f"String should have at least {n} characters", v,
                         {"min_length": n})]
        if "max_length" in spec and len(v) > spec["max_length"]:
            n = spec["max_length"]
            return [_err(loc, "string_too_long", f"String should have at most {n} characters", v,
                         {"max_length": n})]
        return _check_media_url(spec, v, loc, ctx) if t in _MEDIA_KINDS else []
    if t == "boolean":
        return [] if isinstance(v, bool) else [_err(loc, "bool_type", "Input should be a valid boolean", v)]
    if t in ("number", "integer"):
        if t == "integer" and (isinstance(v, bool) or not isinstance(v, int)):
            return [_err(loc, "int_type", "Input should be a valid integer", v)]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return [_err(loc, "float_type", "Input should be a valid number", v)]
        if not math.isfinite(v):
            return [_err(loc, "finite_number", "Input should be a finite number", v)]
        if "ge" in spec and not v >= spec["ge"]:
            return [_err(loc, "greater_than_equal", f"Input should be greater than or equal to {spec['ge']}",
                         v, {"ge": spec["ge"]})]
        if "le" in spec and not v <= spec["le"]:
            return [_err(loc, "less_than_equal", f"Input should be less than or equal to {spec['le']}",
                         v, {"le": spec["le"]})]
        return []
    if t == "enum":
        values = spec["values"]
        if any(type(v) is type(x) and v == x for x in values):
            return []
        exp = _expected(values)
        return [_err(loc, "enum", f"Input should be {exp}", v, {"expected": exp})]
    if t == "list":
        if not isinstance(v, list):
            return [_err(loc, "list_type", "Input should be a valid list", v)]
        errors: list[dict] = []
        for i, item in enumerate(v):
            errors.extend(_check(spec["items"], item, loc + [i], ctx))
        if "max_items" in spec and len(v) > spec["max_items"]:
            n = spec["max_items"]
            errors.append(_err(loc, "too_long", f"List should have at most {n} items after validation, not {len(v)}",
                               v, {"field_type": "List", "max_length": n, "actual_length": len(v)}))
        if "min_items" in spec and len(v) < spec["min_items"]:
            n = spec["min_items"]
            errors.append(_err(loc, "too_short", f"List should have at least {n} items after validation, not {len(v)}",
                               v, {"field_type": "List", "min_length": n, "actual_length": len(v)}))
        return errors
    if t == "object":
        if not isinstance(v, dict):
            name = spec.get("name", "object")
            return [_err(loc, "model_type", f"Input should be a valid dictionary or instance of {name}", v,
                         {"class_name": name})]
        return _check_object(spec["fields"], spec.get("rules", []), v, loc, ctx)
    raise ValueError(f"unknown schema type {t!r}")


# ---------------------------------------------------------------------------------------------- rules
def _apply_rules(rules: list[dict], obj: dict, loc: list, ctx: _Ctx) -> list[dict]:
    errors: list[dict] = []
    for r in rules:
        kind = r["kind"]
        if kind == "exactly_one_of":
            present = [f for f in r["fields"] if f in obj]
            if len(present) != 1:
                msg = r.get("msg") or f"Exactly one of {', '.join(r['fields'])} must be provided"
                errors.append(_value_error(loc, msg, obj))
        elif kind == "required_with":
            if r["with"] in obj and r["field"] not in obj:
                errors.append(_err(loc + [r["field"]], "missing", f"Field required when {r['with']} is provided",
                                   obj))
        elif kind == "requires":
            if r["field"] in obj and r["needs"] not in obj:
                errors.append(_value_error(loc + [r["field"]], r["msg"], obj[r["field"]]))
        elif kind == "exactly_one_group":
            hit = [g for g in r["groups"] if any(f in obj for f in g)]
            if len(hit) != 1:
                errors.append(_value_error(loc, r["msg"], obj))
        elif kind == "shots_sum":
            shots = obj.get(r["list"])
            if shots is None:
                continue
            total = int(obj.get(r["total"], r["default"]))
            got = sum(int(s.get(r["item"], r["default"])) for s in shots)
            if got != total:
                msg = (f"The {r['list']} shot durations add up to {got} s, but {r['total']} is {total} s "
                       f"(unset shot durations count as {r['default']} s)")
                item = _value_error(loc + [r["list"]], msg, shots)
                item["ctx"].update({"sum": got, "total": total})
                errors.append(item)
        elif kind == "max_with":
            items = obj.get(r["list"]) or []
            idx = [i for i, it in enumerate(items) if isinstance(it, dict) and r["field"] in it]
            if len(idx) > r["max"]:
                i = idx[r["max"]]
                errors.append(_value_error(loc + [r["list"], i, r["field"]], r["msg"], items[i][r["field"]]))
        elif kind == "max_total":
            if "when_any_has" in r:
                lst, fld = r["when_any_has"]
                if not any(isinstance(it, dict) and fld in it for it in obj.get(lst) or []):
                    continue
            n = sum(len(obj.get(name) or []) for name in r["lists"])
            if n > r["max"]:
                msg = f"At most {r['max']} in total ({' + '.join(r['lists'])}), got {n}"
                item = _value_error(loc, msg, obj)
                item["ctx"].update({"max_total": r["max"], "total": n})
                errors.append(item)
        elif kind == "only_when":
            if r["field"] in obj and any(obj.get(k) not in vals for k, vals in r["when"].items()):
                errors.append(_value_error(loc + [r["field"]], r["msg"], obj[r["field"]]))
        elif kind == "count_when":
            if all(obj.get(k) in vals for k, vals in r["when"].items()):
                cond = ", ".join(f"{k}={obj.get(k)!r}" for k in r["when"])
                if r["field"] not in obj:
                    errors.append(_err(loc + [r["field"]], "missing", f"Field required when {cond}", obj))
                elif len(obj[r["field"]]) != r["count"]:
                    msg = f"{cond} needs exactly {r['count']} items in {r['field']}, got {len(obj[r['field']])}"
                    errors.append(_value_error(loc + [r["field"]], msg, obj[r["field"]]))
        elif kind == "duration_by":
            info = ctx.media.get(tuple(loc + [r["field"]]))
            limit = r["max_seconds"].get(obj.get(r["by"]))
            if info is not None and limit is not None and info["duration"] > limit:
                d = info["duration"]
                errors.append(_err(loc + [r["field"]], "video_duration_too_long",
                                   f"Video duration {d:.2f}s exceeds {limit:g}s, the maximum for "
                                   f"{r['by']}={obj.get(r['by'])!r}", obj[r["field"]],
                                   {"max_duration": limit, "duration": round(d, 3), r["by"]: obj.get(r["by"])}))
        else:
            raise ValueError(f"unknown rule kind {kind!r}")
    return errors


# ---------------------------------------------------------------------------------------------- media
_MEDIA_KINDS = {"image_url": "image", "mask_url": "mask", "video_url": "video", "audio_url": "audio"}
_DEFAULT_FORMATS = {"image": list(IMAGE_MIME_TO_PIL), "mask": ["image/png"], "video": VIDEO_MIMES,
                    "audio": AUDIO_MIMES}
_DEFAULT_MAX_BYTES = {"image": IMAGE_MAX_BYTES, "mask": IMAGE_MAX_BYTES, "video": None, "audio": None}
_DATA_URI = re.compile(r"^data:(?P<mime>[^;,]*)(?P<params>(?:;[^;,]*)*),(?P<data>.*)$", re.S)


def _check_media_url(spec: dict, v: str, loc: list, ctx: _Ctx) -> list[dict]:
    kind = _MEDIA_KINDS[spec["type"]]
    word = "image" if kind == "mask" else kind  # error types: image_*, video_*, audio_*
    formats = spec.get("formats", _DEFAULT_FORMATS[kind])
    if v.startswith("https://"):
        host = urlsplit(v).netloc
        if not host:
            return [_err(loc, "url_parsing", "Input should be a valid URL, empty host", v)]
        if ctx.resolve is None:
            return []
        try:
            found = ctx.resolve(v)
        except LookupError as exc:
            return [_err(loc, "file_download_error", f"Failed to download the file: {exc}", v)]
        if found is None:
            return []  # the fake never downloads remote files
        raw, mime = found
        return _check_media_bytes(spec, kind, raw, mime, v, loc, ctx)
    if not v.startswith("data:"):
        return [_err(loc, "url_scheme", "URL scheme should be 'https' or 'data'", v,
                     {"expected_schemes": "'https' or 'data'"})]
    m = _DATA_URI.match(v)
    if not m or "base64" not in m.group("params").split(";"):
        return [_err(loc, f"{word}_load_error", "Invalid data URI: expected data:<mime>;base64,<data>", v)]
    mime = m.group("mime").lower()
    if mime not in formats:
        return [_unsupported(word, mime, formats, v, loc)]
    try:
        raw = base64.b64decode(m.group("data"), validate=True)
    except (binascii.Error, ValueError):
        return [_err(loc, f"{word}_load_error", f"Failed to load the {word}: invalid base64 data", v)]
    return _check_media_bytes(spec, kind, raw, mime, v, loc, ctx)


def _unsupported(word: str, mime: str, formats, v, loc) -> dict:
    return _err(loc, f"unsupported_{word}_format", f"Unsupported {word} format {mime!r}", v,
                {"supported_formats": sorted(formats)})


def _check_media_bytes(spec: dict, kind: str, raw: bytes, mime: str, v: str, loc: list, ctx: _Ctx) -> list[dict]:
    word = "image" if kind == "mask" else kind
    mime = (mime or "").split(";")[0].strip().lower()
    formats = spec.get("formats", _DEFAULT_FORMATS[kind])
    if mime not in formats:
        return [_unsupported(word, mime, formats, v, loc)]
    max_bytes = spec.get("max_bytes", _DEFAULT_MAX_BYTES[kind])
    if max_bytes is not None and len(raw) > max_bytes:
        return [_err(loc, "file_too_large", f"File is too large: {len(raw)} bytes, at most {max_bytes}",
                     v, {"max_size": max_bytes, "size": len(raw)})]
    if kind in ("image", "mask"):
        return _check_image(spec, kind, raw, mime, v, loc)
    return _check_av(spec, kind, raw, mime, v, loc, ctx)


def _check_image(spec: dict, kind: str, raw: bytes, mime: str, v: str, loc: list) -> list[dict]:
    try:
        fmt, width, height = decode_image(raw)
    except Exception as exc:  # noqa: BLE001 - any decoding failure is the client's fault
        return [_err(loc, "image_load_error", f"Failed to load the image: {type(exc).__name__}", v)]
    if fmt != IMAGE_MIME_TO_PIL.get(mime):
        return [_err(loc, "image_format_mismatch",
                     f"Declared type {mime!r} does not match the image data ({fmt})", v,
                     {"declared": mime, "actual": fmt})]
    if kind == "mask":
        return []
    side = spec.get("min_side", IMAGE_MIN_SIDE)
    if width < side or height < side:
        return [_err(loc, "image_too_small",
                     f"Image is too small: {width}x{height}, at least {side}x{side} px", v,
                     {"min_width": side, "min_height": side, "width": width, "height": height})]
    lo, hi = spec.get("min_aspect", IMAGE_MIN_ASPECT), spec.get("max_aspect", IMAGE_MAX_ASPECT)
    aspect = width / height
    if not lo <= aspect <= hi:
        return [_err(loc, "invalid_aspect_ratio",
                     f"Image aspect ratio {aspect:.3f} is outside {lo:.2f}-{hi:.2f} (1:2.5 to 2.5:1)", v,
                     {"min_aspect_ratio": round(lo, 4), "max_aspect_ratio": hi, "aspect_ratio": round(aspect, 4)})]
    return []


def probe_media(raw: bytes, want: str = "video") -> dict:
    """Decode ``raw`` with PyAV: ``{"format", "duration", "has_video", "has_audio"[, "width", "height", "fps"]}``.

    Raises (any exception) when it does not open, has no stream of kind ``want``, or its first frame of
    that kind does not decode."""
    import av  # imported lazily: only decoded media need it

    with av.open(io.BytesIO(raw), mode="r") as c:
        vs = c.streams.video[0] if c.streams.video else None
        aus = c.streams.audio[0] if c.streams.audio else None
        stream = vs if want == "video" else aus
        if stream is None:
            raise ValueError(f"no {want} stream")
        info: dict[str, Any] = {"format": c.format.name, "has_video": vs is not None, "has_audio": aus is not None}
        if vs is not None:
            rate = vs.average_rate or vs.guessed_rate
            info.update(width=vs.codec_context.width, height=vs.codec_context.height,
                        fps=float(rate) if rate else None)
        duration = c.duration / 1_000_000 if c.duration else None
        if not duration:
            candidates = [float(s.duration * s.time_base) for s in c.streams if s.duration and s.time_base]
            duration = max(candidates) if candidates else None
        for _frame in c.decode(stream):
            break
        else:
            raise ValueError(f"no {want} frame decodes")
        if not duration:  # no header says: demux everything
            c.seek(0)
            end = 0.0
            for packet in c.demux(stream):
                if packet.pts is not None and packet.time_base:
                    end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
            duration = end
        info["duration"] = float(duration)
        return info


def _check_av(spec: dict, kind: str, raw: bytes, mime: str, v: str, loc: list, ctx: _Ctx) -> list[dict]:
    word = kind  # "video" or "audio"
    try:
        info = probe_media(raw, want=kind)
    except Exception as exc:  # noqa: BLE001 - any decoding failure is the client's fault
        return [_err(loc, f"{word}_load_error", f"Failed to load the {word}: {type(exc).__name__}: {exc}", v)]
    if info["format"] not in MIME_TO_DEMUXERS.get(mime, set()):
        return [_err(loc, f"{word}_format_mismatch",
                     f"Declared type {mime!r} does not match the {word} data ({info['format']})", v,
                     {"declared": mime, "actual": info["format"]})]
    ctx.media[tuple(loc)] = info
    d = info["duration"]
    Word = word.capitalize()
    if "min_seconds" in spec and d < spec["min_seconds"]:
        lim = spec["min_seconds"]
        return [_err(loc, f"{word}_duration_too_short", f"{Word} duration {d:.2f}s is shorter than {lim:g}s",
                     v, {"min_duration": lim, "duration": round(d, 3)})]
    if "max_seconds" in spec and d > spec["max_seconds"]:
        lim = spec["max_seconds"]
        return [_err(loc, f"{word}_duration_too_long", f"{Word} duration {d:.2f}s is longer than {lim:g}s",
                     v, {"max_duration": lim, "duration": round(d, 3)})]
    if kind == "video":
        w, h = info["width"], info["height"]
        lo_w, lo_h = spec.get("min_width", 0), spec.get("min_height", 0)
        hi_w, hi_h = spec.get("max_width", math.inf), spec.get("max_height", math.inf)
        limits = {k: spec[k] for k in ("min_width", "max_width", "min_height", "max_height") if k in spec}
        if w < lo_w or h < lo_h:
            return [_err(loc, "video_too_small", f"Video is too small: {w}x{h}, at least {lo_w}x{lo_h} px", v,
                         {**limits, "width": w, "height": h})]
        if w > hi_w or h > hi_h:
            return [_err(loc, "video_too_large", f"Video is too large: {w}x{h}, at most {hi_w}x{hi_h} px", v,
                         {**limits, "width": w, "height": h})]
        fps = info.get("fps")
        if fps is not None and "min_fps" in spec and fps < spec["min_fps"]:
            return [_err(loc, "video_fps_too_low", f"Video frame rate {fps:.3g} fps is below {spec['min_fps']:g}",
                         v, {"min_fps": spec["min_fps"], "fps": round(fps, 3)})]
        if fps is not None and "max_fps" in spec and fps > spec["max_fps"]:
            return [_err(loc, "video_fps_too_high", f"Video frame rate {fps:.3g} fps is above {spec['max_fps']:g}",
                         v, {"max_fps": spec["max_fps"], "fps": round(fps, 3)})]
    return []


# ---------------------------------------------------------------------------------------------- outputs
def sniff_audio(data: bytes) -> tuple[str, str]:
    """(content_type, file extension) of an audio file, from its first bytes."""
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio/mpeg", "mp3"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav", "wav"
    if data[:4] == b"fLaC":
        return "audio/flac", "flac"
    if data[:4] == b"OggS":
        return "audio/ogg", "ogg"
    if data[4:8] == b"ftyp":
        return "audio/mp4", "m4a"
    return "application/octet-stream", "bin"


@functools.lru_cache(maxsize=1)
def default_audio() -> bytes:
    """One second of a 440 Hz tone as MP3 (what fal documents for video-to-audio), WAV if no MP3 encoder."""
    import av
    import numpy as np

    rate = 44100
    wave = (0.3 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype(np.float32)[None, :]
    try:
        buf = io.BytesIO()
        with av.open(buf, mode="w", format="mp3") as out:
            st = out.add_stream("libmp3lame", rate=rate, layout="mono")
            for start in range(0, rate, 1152):
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(wave[:, start:start + 1152]),
                                                   format="fltp", layout="mono")
                frame.sample_rate, frame.pts = rate, start
                out.mux(st.encode(frame))
            out.mux(st.encode(None))
        return buf.getvalue()
    except Exception:  # noqa: BLE001 - no libmp3lame in this PyAV build: WAV then
        import wave as _wave

        buf = io.BytesIO()
        with _wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes((wave[0] * 32767).astype("<i2").tobytes())
        return buf.getvalue()


# --------------------------------------------------------------------------------------------------
# Jobs, uploads and fault injections
# --------------------------------------------------------------------------------------------------
@dataclass
class Job(common.Job):
    """A queue request: ``id`` (also ``request_id``) its request id, ``endpoint`` the full endpoint id (e.g.
    "fal-ai/kling-video/v2.6/pro/image-to-video"), ``outcome`` None (ok) or {"error", "error_type",
    "result_status", "result_body", "result_headers"}."""
    app: str = ""                # the endpoint's first two parts, e.g. "fal-ai/kling-video"
    start_position: int = 0      # queue position when its queue time started
    log_lines: list[dict] = field(default_factory=list)  # {"message", "level"}
    kind: str = "video"          # output shape, see OUTPUTS
    voice_id: str | None = None  # create-voice: the id its result carries


@dataclass
class Upload:
    """A file in the fake's storage, served at ``url`` once ``data`` is set."""
    id: str
    name: str
    content_type: str
    url: str
    via: str                       # "upload" | "multipart" | "initiate" | "add_upload"
    data: bytes | None = None      # None until the upload is complete
    t: float = 0.0
    upload_id: str | None = None   # multipart: its uploadId
    parts: dict = field(default_factory=dict)  # multipart: partNumber -> (bytes, etag)
    signature: str | None = None   # initiate: the secret of its signed PUT URL
    expires: float | None = None   # initiate: when that URL expires (time.monotonic())

    @property
    def complete(self) -> bool:
        return self.data is not None


_R = r"/(?P<owner>[^/]+)/(?P<alias>[^/]+)/requests/(?P<rid>[^/]+)"
_U = r"/files/uploads/(?P<uid>[^/]+)/(?P<name>[^/]+)"
_OUTPUT_PATH = re.compile(r"/files/(?P<rid>[^/]+)/(?P<name>[^/]+)")
_UPLOAD_PATH = re.compile(_U)
_ROUTES = [  # first match with the right method wins
    ("pricing", ("GET",), re.compile(r"^/v1/models/pricing$")),
    ("token", ("POST",), re.compile(r"^/storage/auth/token$")),
    ("initiate", ("POST",), re.compile(r"^/storage/upload/initiate$")),
    ("put", ("PUT",), re.compile(r"^/storage/signed/(?P<uid>[^/]+)$")),
    ("upload", ("POST",), re.compile(r"^/files/upload$")),
    ("multipart", ("POST",), re.compile(r"^/files/upload/multipart$")),
    ("complete", ("POST",), re.compile("^" + _U + r"/multipart/(?P<mid>[^/]+)/complete$")),
    ("part", ("PUT",), re.compile("^" + _U + r"/multipart/(?P<mid>[^/]+)/(?P<part>[^/]+)$")),
    ("file", ("GET", "HEAD"), re.compile("^" + _U + "$")),
    ("file", ("GET", "HEAD"), re.compile("^" + _OUTPUT_PATH.pattern + "$")),
    ("stream", ("GET",), re.compile("^" + _R + r"/status/stream$")),
    ("status", ("GET",), re.compile("^" + _R + r"/status$")),
    ("cancel", ("PUT",), re.compile("^" + _R + r"/cancel$")),
    ("result", ("GET",), re.compile("^" + _R + r"$")),
    ("submit", ("POST",), re.compile(r"^/(?P<endpoint>.+?)/?$")),
]


def _safe_name(name: str | None, content_type: str) -> str:
    """A file name for a storage URL: the client's (basename, unsafe characters replaced) or upload.<ext>."""
    if name:
        base = re.sub(r"[^A-Za-z0-9._-]", "_", re.split(r"[/\\]", name)[-1]).lstrip(".")[:200]
        if base:
            return base
    mime = (content_type or "").split(";")[0].strip().lower()
    return "upload" + (_EXTENSIONS.get(mime) or mimetypes.guess_extension(mime) or ".bin")


_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "image/gif": ".gif",
               "video/mp4": ".mp4", "video/quicktime": ".mov", "audio/mpeg": ".mp3", "audio/mp3": ".mp3",
               "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/wave": ".wav", "audio/vnd.wave": ".wav",
               "audio/mp4": ".m4a", "audio/x-m4a": ".m4a", "audio/m4a": ".m4a", "audio/aac": ".aac",
               "application/octet-stream": ".bin"}


def _gcs_error(status: int, code: str, message: str) -> web.Response:
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return web.Response(status=status, body=body.encode(), content_type="application/xml")


class FakeFal(FakeServer):
    """A fake fal.ai queue + CDN + storage over HTTPS. See the module docstring.

    Attributes besides the constructor's and :class:`fakes.common.FakeServer`'s: ``jobs`` (request id ->
    :class:`Job`), ``uploads`` (id -> :class:`Upload`), ``forbid`` (answer 403 "User is locked"),
    ``schemas``/``rules``/``outputs`` (copies, editable per test), ``upload_max_bytes`` (simple uploads and
    signed PUTs; 100 MiB, fal-client's multipart threshold), ``multipart_min_part`` (every part but the last,
    5 MiB as on S3-like stores), ``body_max_bytes`` (a queue submit over it is answered 413; 3 MB, see
    :data:`fakes.common.BODY_LIMITS`), ``concurrency_limit`` (see :class:`fakes.common.FakeServer`; answered 429
    ``{"detail": "Concurrency limit exceeded: ..."}`` with ``Retry-After: concurrency_retry_after``).

    Injectable ops (``inject``): the queue's "submit", "status", "stream", "result", "cancel", the CDN's
    "file", and the storage's "token", "upload", "multipart", "part", "complete", "initiate", "put". An
    injected status without a body answers ``{"detail": <reason>}`` and no ``x-fal-request-id``;
    ``truncate_at=N`` on "stream" sends N status events, then closes without the COMPLETED one.
    """

    NAME = "FakeFal"
    OPS = OPS
    CREATE_OPS = ("submit",)
    ROUTES = _ROUTES
    TRUNCATE_OPS = ("file", "stream")
    NO_PROCESS_OPS = ("file", "stream")
    BODY_LIMIT_OPS = ("submit",)
    BINARY_OPS = ("upload", "part", "put")  # request bodies that are file bytes, not JSON
    ROUTE_RAW_PATH = False
    JOB = Job

    def __init__(self, tmpdir, key: str = "test-key", video_bytes: bytes = DEFAULT_VIDEO, *,
                 queue_seconds: float = 0.3, progress_seconds: float = 0.5, queue_position: int = 2,
                 logs: list | None = None, sse_ping_seconds: float = 15.0,
                 schemas: dict | None = None, tls=None, audio_bytes: bytes | None = None,
                 rules: dict | None = None, outputs: dict | None = None, token_seconds: float = 3600.0):
        super().__init__(tmpdir, video_bytes, queue_seconds=queue_seconds, progress_seconds=progress_seconds,
                         sse_ping_seconds=sse_ping_seconds, tls=tls)
        self.key = key
        self.audio_bytes = bytes(default_audio() if audio_bytes is None else audio_bytes)
        self.queue_position = int(queue_position)
        self.logs = list(DEFAULT_LOGS if logs is None else logs)
        self.schemas = copy.deepcopy(SCHEMAS if schemas is None else schemas)
        self.rules = copy.deepcopy(RULES if rules is None else rules)
        self.outputs = dict(OUTPUTS if outputs is None else outputs)
        self.token_seconds = float(token_seconds)
        self.upload_max_bytes = 100 * 1024 * 1024
        self.multipart_min_part = 5 * 1024 * 1024
        self.forbid = False
        self.concurrency_retry_after = 1  # the Retry-After (seconds) of a 429 over concurrency_limit
        self.prices = copy.deepcopy(PRICES)  # the pricing index, editable per test
        self.pricing_page_size = PRICING_MAX_IDS  # prices per page of /v1/models/pricing (then next_cursor)
        # fal's docs: a running request only receives a cancel signal and "the model app decides". True: a
        # cancel of an IN_PROGRESS job is accepted (202) and ignored; the job completes and is billed.
        self.ignore_cancel_when_running = False
        self.uploads: dict[str, Upload] = {}
        self._tokens: dict[str, float] = {}  # token -> expiry (time.monotonic())
        self._wall_offset = time.time() - time.monotonic()
        self._video_duration_cache: tuple[bytes, float] | None = None

    # ---------------------------------------------------------------- public helpers
    def file_url(self, job: Job, name: str = "output.mp4") -> str:
        return f"{self.base_url}/files/{job.request_id}/{name}"

    def submits(self) -> list[dict]:
        """Every "submit" request, accepted or not (the other fakes list only the accepted ones)."""
        return self.requests("submit")

    def status_of(self, request_id: str) -> str:
        """IN_QUEUE, IN_PROGRESS or COMPLETED (whatever the outcome)."""
        return STATUS[self.phase_of(request_id)]

    def add_upload(self, data: bytes, content_type: str, name: str | None = None) -> str:
        """Put a file into the fake's storage without HTTP (as if uploaded); returns its URL. Needs ``start()``."""
        if self.port is None:
            raise RuntimeError("start the FakeFal first: the URL carries its port")
        up = self._new_upload(name, content_type, "add_upload")
        up.data = bytes(data)
        return up.url

    def uploaded(self, url: str) -> bytes:
        """The bytes this fake holds at ``url`` (an upload, or a job's output); LookupError if none."""
        found = self._resolve(url)
        if found is None:
            raise LookupError(f"{url} is not a URL of this fake")
        return found[0]

    def expire_tokens(self) -> None:
        """Every CDN token issued so far expires now (uploads with it answer 401)."""
        with self._lock:
            for token in self._tokens:
                self._tokens[token] = 0.0

    # ---------------------------------------------------------------- job state
    def _hold_back(self, job: Job, now: float) -> None:
        job.start_position = self._position(job, now)  # frozen where it stands
        super()._hold_back(job, now)

    def _position(self, job: Job, now: float) -> int:
        if job.t_release is None or job.queue_seconds <= 0:
            return job.start_position
        remaining = max(0.0, job.queue_seconds - (now - job.t_release))
        return min(job.start_position, int(remaining / job.queue_seconds * (job.start_position + 1)))

    def _visible_logs(self, job: Job, now: float) -> list[dict]:
        if job.t_release is None:
            return []
        end = now if job.t_completed is None else min(now, job.t_completed)
        start = job.t_release + job.queue_seconds
        n = len(job.log_lines)
        out = []
        for i, line in enumerate(job.log_lines):
            t = start + job.progress_seconds * i / n
            if t <= end:
                stamp = _dt.datetime.fromtimestamp(t + self._wall_offset, _dt.timezone.utc)
                out.append({"message": line["message"], "level": line["level"], "source": "USER",
                            "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")})
        return out

    def _urls(self, job: Job) -> dict:
        base = f"{self.base_url}/{job.app}/requests/{job.request_id}"
        return {"response_url": base, "status_url": base + "/status", "cancel_url": base + "/cancel"}

    def _status_obj(self, job: Job, with_logs: bool, now: float) -> dict:
        with self._lock:
            phase = self._phase(job, now)
            obj: dict[str, Any] = {"status": STATUS[phase], "request_id": job.request_id, **self._urls(job)}
            if phase == QUEUED:
                obj["queue_position"] = self._position(job, now)
                obj["logs"] = None
            elif phase == RUNNING:
                obj["logs"] = self._visible_logs(job, now) if with_logs else None
            else:
                obj["logs"] = self._visible_logs(job, now) if with_logs else None
                if job.cancelled:
                    obj["metrics"] = {}
                    obj["error"], obj["error_type"] = CANCELLED_ERROR, CANCELLED_TYPE
                elif job.outcome is not None:
                    obj["metrics"] = {}
                    obj["error"], obj["error_type"] = job.outcome["error"], job.outcome["error_type"]
                else:
                    obj["metrics"] = {"inference_time": round(job.progress_seconds, 3)}
            return obj

    def _take_outcome(self) -> dict | None:
        spec = super()._take_outcome()
        if spec is not None:
            spec.setdefault("error", "Internal error")
            spec.setdefault("error_type", "internal_error")
            spec.setdefault("result_status", 500)
            spec.setdefault("result_body", {"detail": spec["error"], "error_type": spec["error_type"]})
            spec.setdefault("result_headers", {})
        return spec

    # ---------------------------------------------------------------- outputs and stored files
    def _job_files(self, job: Job) -> dict[str, tuple[bytes, str]]:
        """File name -> (bytes, content type) of a job's outputs."""
        video = self.video_bytes
        audio = self.audio_bytes
        actype, ext = sniff_audio(audio)
        if job.kind in ("video", "avatar"):
            return {"output.mp4": (video, "video/mp4")}
        if job.kind == "audio":
            return {f"output.{ext}": (audio, actype)}
        if job.kind == "video_audio":
            return {"output.mp4": (video, "video/mp4"), f"audio.{ext}": (audio, actype)}
        return {}

    def _file_obj(self, job: Job, name: str) -> dict:
        data, ctype = self._job_files(job)[name]
        return {"url": self.file_url(job, name), "content_type": ctype, "file_name": name, "file_size": len(data)}

    def _avatar_seconds(self) -> float:
        """Duration of ``video_bytes`` (ai-avatar's "duration"); 5.0 when it does not decode."""
        cached = self._video_duration_cache
        if cached is not None and cached[0] is self.video_bytes:
            return cached[1]
        try:
            d = round(probe_media(self.video_bytes, "video")["duration"], 3)
        except Exception:  # noqa: BLE001 - e.g. the default stand-in bytes
            d = 5.0
        self._video_duration_cache = (self.video_bytes, d)
        return d

    def _result_body(self, job: Job) -> dict:
        files = list(self._job_files(job))
        if job.kind == "voice":
            return {"voice_id": job.voice_id}
        if job.kind == "audio":
            return {"audio": self._file_obj(job, files[0])}
        if job.kind == "video_audio":
            return {"audio": self._file_obj(job, files[1]), "video": self._file_obj(job, files[0])}
        body = {"video": self._file_obj(job, "output.mp4")}
        if job.kind == "avatar":
            body["duration"] = self._avatar_seconds()
        return body

    def _new_upload(self, name: str | None, content_type: str, via: str) -> Upload:
        uid = uuid.uuid4().hex
        name = _safe_name(name, content_type)
        up = Upload(id=uid, name=name, content_type=content_type, via=via,
                    url=f"{self.base_url}/files/uploads/{uid}/{name}", t=time.monotonic())
        with self._lock:
            self.uploads[uid] = up
        return up

    def _upload_for(self, params: dict) -> Upload | None:
        with self._lock:
            up = self.uploads.get(params["uid"])
        return up if up is not None and up.name == params["name"] else None

    def _resolve(self, url: str) -> tuple[bytes, str] | None:
        """For the validator: a URL of this fake -> (bytes, content type); other hosts -> None (not fetched)."""
        u = urlsplit(url)
        try:
            port = u.port
        except ValueError:
            return None
        if u.hostname not in ("127.0.0.1", "localhost") or port != self.port:
            return None
        m = _UPLOAD_PATH.fullmatch(u.path)
        if m:
            up = self._upload_for(m.groupdict())
            if up is None or not up.complete:
                raise LookupError(f"404 Not Found ({u.path})")
            return up.data, up.content_type
        m = _OUTPUT_PATH.fullmatch(u.path)
        if m:
            with self._lock:
                job = self.jobs.get(m["rid"])
                done = job is not None and self._phase(job, time.monotonic()) == DONE and job.ok
            files = self._job_files(job) if done else {}
            if m["name"] in files:
                return files[m["name"]]
        raise LookupError(f"404 Not Found ({u.path})")

    # ---------------------------------------------------------------- HTTP answers
    def _error_body(self, status: int, message: str, path: str = "") -> dict:
        return {"detail": message}

    def _too_large(self, request: web.Request, size: int) -> web.Response:
        return self._json(413, {"detail": f"Request Entity Too Large: the body is {size} bytes, at most "
                                          f"{self.body_max_bytes}; send large files as URLs (fal storage)"})

    def _auth(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization")
        if not header:
            return self._json(401, {"detail": "Missing authorization header. Use 'Authorization: Key <FAL_KEY>'."})
        scheme, _, cred = header.partition(" ")
        if scheme != "Key" or cred != self.key:
            return self._json(401, {"detail": "Invalid API key or authorization header."})
        if self.forbid:
            return self._json(403, {"detail": "User is locked. Reason: Exhausted balance. "
                                              "Top up your balance at fal.ai/dashboard/billing."})
        return None

    def _bearer(self, request: web.Request) -> web.Response | None:
        """CDN auth: ``Authorization: Bearer <token>`` with a live token from /storage/auth/token."""
        header = request.headers.get("Authorization")
        if not header:
            return self._json(401, {"detail": "Missing authorization header. Use 'Authorization: Bearer <token>' "
                                              "with a token from /storage/auth/token."})
        scheme, _, cred = header.partition(" ")
        with self._lock:
            expiry = self._tokens.get(cred)
        if scheme != "Bearer" or expiry is None:
            return self._json(401, {"detail": "Invalid token."})
        if time.monotonic() >= expiry:
            return self._json(401, {"detail": "Token expired."})
        return None

    def _job_for(self, params: dict) -> Job | None:
        with self._lock:
            job = self.jobs.get(params["rid"])
        if job is None or job.app != f"{params['owner']}/{params['alias']}":
            return None
        return job

    @staticmethod
    def _logs_param(request: web.Request):
        """(with_logs, error_response)."""
        value = request.query.get("logs")
        if value is None:
            return False, None
        if value in ("1", "true"):
            return True, None
        if value in ("0", "false"):
            return False, None
        return False, FakeFal._json(422, {"detail": [_err(["query", "logs"], "bool_parsing",
                                                          "Input should be a valid boolean, unable to interpret input",
                                                          value)]})

    @staticmethod
    def _storage_type(request: web.Request, allowed: tuple) -> web.Response | None:
        value = request.query.get("storage_type")
        if value in allowed:
            return None
        if value is None:
            item = _err(["query", "storage_type"], "missing", "Field required", None)
        else:
            exp = _expected(allowed)
            item = _err(["query", "storage_type"], "enum", f"Input should be {exp}", value, {"expected": exp})
        return FakeFal._json(422, {"detail": [item]})

    # ---------------------------------------------------------------- queue handlers
    async def _h_submit(self, request, params, raw, entry, inj) -> web.Response:
        denied = self._auth(request)
        if denied:
            return denied
        endpoint = params["endpoint"]
        schema = self.schemas.get(endpoint)
        if schema is None:
            return self._json(404, {"detail": f"Application '{endpoint}' not found"})
        ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not raw:
            return self._json(422, {"detail": [_err(["body"], "missing", "Field required", None)]})
        if ctype != "application/json":
            return self._json(422, {"detail": [_err(["body"], "model_attributes_type",
                                                     "Input should be a valid dictionary or object to extract "
                                                     f"fields from (Content-Type {ctype or 'missing'!r})",
                                                     raw[:80].decode("utf-8", "replace"))]})
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return self._json(422, {"detail": [_err(["body", 0], "json_invalid", f"JSON decode error: {exc}",
                                                    raw[:80].decode("utf-8", "replace"))]})
        errors = await self._offload(validate_input, schema, body, rules=self.rules.get(endpoint),
                                     resolve=self._resolve)
        if errors:
            return self._json(422, {"detail": errors})
        lines = [{"message": x, "level": "INFO"} if isinstance(x, str) else
                 {"message": x["message"], "level": x.get("level", "INFO")} for x in self.logs]
        kind = self.outputs.get(endpoint, "video")
        with self._lock:
            if self._over_limit():  # reference §1.8.3: "429: concurrency limit exceeded", {"detail": ...}
                return self._json(429, {"detail": f"Concurrency limit exceeded: {self.concurrency_limit} requests "
                                                  "of this account are already running"},
                                  {"Retry-After": str(self.concurrency_retry_after)})
            job = self._new_job(str(uuid.uuid4()), body, endpoint=endpoint, app="/".join(endpoint.split("/")[:2]),
                                start_position=self.queue_position, log_lines=lines, kind=kind,
                                voice_id=f"voice_{uuid.uuid4().hex[:20]}" if kind == "voice" else None)
        rid = job.request_id
        entry["request_id"] = rid
        answer = {"status": IN_QUEUE, "request_id": rid, **self._urls(job),
                  "queue_position": job.start_position, "gateway_request_id": rid}
        return self._json(200, answer, {"x-fal-request-id": rid})

    def _named_job(self, request: web.Request, params: dict, *, logs: bool = False, missing: dict | None = None):
        """The job a queue route names, checked in fal's order (auth, the ``logs`` query, the request id):
        ``(job, with_logs, None)``, or ``(None, False, the error answer)``; ``missing``: the 404 body."""
        denied = self._auth(request)
        if denied is not None:
            return None, False, denied
        with_logs = False
        if logs:
            with_logs, bad = self._logs_param(request)
            if bad is not None:
                return None, False, bad
        job = self._job_for(params)
        if job is None:
            return None, False, self._json(404, missing or {"detail": f"Request {params['rid']} not found"})
        return job, with_logs, None

    async def _h_status(self, request, params, raw, entry, inj) -> web.Response:
        job, with_logs, answer = self._named_job(request, params, logs=True)
        if answer is not None:
            return answer
        obj = self._status_obj(job, with_logs, time.monotonic())
        return self._json(200 if obj["status"] == COMPLETED else 202, obj, {"x-fal-request-id": job.request_id})

    async def _h_stream(self, request, params, raw, entry, inj) -> web.StreamResponse:
        job, with_logs, answer = self._named_job(request, params, logs=True)
        if answer is not None:
            return answer
        resp = web.StreamResponse(status=200, headers={"Content-Type": "text/event-stream",
                                                       "Cache-Control": "no-cache",
                                                       "x-fal-request-id": job.request_id})
        resp.force_close()  # "the server closes the stream after it sends the COMPLETED event"
        entry["http_status"] = 200
        await resp.prepare(request)
        last, sent = None, 0
        next_ping = time.monotonic() + self.sse_ping_seconds
        try:
            while not self._closing:
                now = time.monotonic()
                obj = self._status_obj(job, with_logs, now)
                if obj != last:
                    if inj is not None and inj.truncate_at is not None and sent >= inj.truncate_at:
                        raise Reset(graceful=True)
                    await resp.write(b"data: " + json.dumps(obj).encode() + b"\n\n")
                    last, sent = obj, sent + 1
                    if obj["status"] == COMPLETED:
                        break
                if now >= next_ping:
                    await resp.write(b": ping\n\n")
                    next_ping = now + self.sse_ping_seconds
                await asyncio.sleep(max(0.0, min(0.02, next_ping - time.monotonic())))
            await resp.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client went away
        return resp

    async def _h_result(self, request, params, raw, entry, inj) -> web.Response:
        job, _, answer = self._named_job(request, params)
        if answer is not None:
            return answer
        headers = {"x-fal-request-id": job.request_id}
        if self._status_obj(job, False, time.monotonic())["status"] != COMPLETED:
            return self._json(400, {"detail": "Request is still in progress"}, headers)
        if job.cancelled:
            headers["x-fal-error-type"] = CANCELLED_TYPE
            return self._json(499, {"detail": CANCELLED_ERROR, "error_type": CANCELLED_TYPE}, headers)
        if job.outcome is not None:
            o = job.outcome
            body = o["result_body"]
            if isinstance(body, dict) and body.get("error_type"):
                headers["x-fal-error-type"] = body["error_type"]
            headers.update(o["result_headers"])
            return self._json(o["result_status"], body, headers)
        return self._json(200, self._result_body(job), headers)

    async def _h_cancel(self, request, params, raw, entry, inj) -> web.Response:
        job, _, answer = self._named_job(request, params, missing={"status": "NOT_FOUND"})
        if answer is not None:
            return answer
        with self._lock:
            now = time.monotonic()
            phase = self._phase(job, now)
            if phase == DONE:
                return self._json(400, {"status": "ALREADY_COMPLETED"}, {"x-fal-request-id": job.request_id})
            if phase == RUNNING and self.ignore_cancel_when_running:
                entry["cancel_ignored"] = True
                return self._json(202, {"status": "CANCELLATION_REQUESTED"}, {"x-fal-request-id": job.request_id})
            job.cancelled = True
            self._complete(job, now)
        return self._json(202, {"status": "CANCELLATION_REQUESTED"}, {"x-fal-request-id": job.request_id})

    async def _h_file(self, request, params, raw, entry, inj) -> web.StreamResponse:
        if "uid" in params:  # an uploaded file
            up = self._upload_for(params)
            if up is None or not up.complete:
                return self._json(404, {"detail": "Not Found"})
            return await self._serve(request, up.data, up.content_type, entry, inj)
        with self._lock:
            job = self.jobs.get(params["rid"])
            done = job is not None and self._phase(job, time.monotonic()) == DONE
        files = self._job_files(job) if done and job.ok else {}
        if params["name"] not in files:
            return self._json(404, {"detail": "Not Found"})
        data, ctype = files[params["name"]]
        return await self._serve(request, data, ctype, entry, inj)

    # ---------------------------------------------------------------- storage handlers (reference §1.14)
    async def _h_token(self, request, params, raw, entry, inj) -> web.Response:
        denied = self._auth(request) or self._storage_type(request, ("fal-cdn-v3",))
        if denied:
            return denied
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_seconds
        expires = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=self.token_seconds)
        entry["token"] = token
        return self._json(200, {"token": token, "token_type": "Bearer", "base_url": self.base_url,
                                "expires_at": expires.isoformat()})

    def _check_size(self, raw: bytes) -> web.Response | None:
        if not raw:
            return self._json(400, {"detail": "Empty upload."})
        if len(raw) > self.upload_max_bytes:
            return self._json(413, {"detail": f"File too large: {len(raw)} bytes, at most {self.upload_max_bytes} "
                                              "in one request; use the multipart upload."})
        return None

    async def _h_upload(self, request, params, raw, entry, inj) -> web.Response:
        denied = self._bearer(request) or self._check_size(raw)
        if denied:
            return denied
        ctype = request.headers.get("Content-Type") or "application/octet-stream"
        up = self._new_upload(request.headers.get("X-Fal-File-Name"), ctype, "upload")
        up.data = raw
        entry["upload_id"], entry["url"] = up.id, up.url
        return self._json(200, {"access_url": up.url})

    async def _h_multipart(self, request, params, raw, entry, inj) -> web.Response:
        denied = self._bearer(request)
        if denied:
            return denied
        ctype = request.headers.get("Content-Type") or "application/octet-stream"
        up = self._new_upload(request.headers.get("X-Fal-File-Name"), ctype, "multipart")
        up.upload_id = secrets.token_hex(16)
        entry["upload_id"], entry["url"] = up.id, up.url
        return self._json(200, {"access_url": up.url, "uploadId": up.upload_id})

    def _multipart_upload(self, params: dict) -> Upload | None:
        up = self._upload_for(params)
        if up is None or up.upload_id is None or up.upload_id != params["mid"]:
            return None
        return up

    async def _h_part(self, request, params, raw, entry, inj) -> web.Response:
        denied = self._bearer(request)
        if denied:
            return denied
        up = self._multipart_upload(params)
        if up is None or up.complete:
            return self._json(404, {"detail": "No such multipart upload."})
        if not re.fullmatch(r"[1-9][0-9]{0,4}", params["part"]) or int(params["part"]) > 10000:
            return self._json(400, {"detail": "partNumber must be an integer from 1 to 10000."})
        if not raw:
            return self._json(400, {"detail": "Empty part."})
        etag = '"' + hashlib.md5(raw).hexdigest() + '"'
        with self._lock:
            up.parts[int(params["part"])] = (raw, etag)
        return web.Response(status=200, headers={"ETag": etag})

    async def _h_complete(self, request, params, raw, entry, inj) -> web.Response:
        denied = self._bearer(request)
        if denied:
            return denied
        up = self._multipart_upload(params)
        if up is None:
            return self._json(404, {"detail": "No such multipart upload."})
        if up.complete:  # a retried complete whose answer was lost
            return self._json(200, {"access_url": up.url})
        parts = entry["json"].get("parts") if isinstance(entry["json"], dict) else None
        if not isinstance(parts, list) or not parts or not all(
                isinstance(p, dict) and isinstance(p.get("partNumber"), int) and not isinstance(p["partNumber"], bool)
                and isinstance(p.get("etag"), str) for p in parts):
            return self._json(400, {"detail": 'Expected {"parts": [{"partNumber": int, "etag": str}, ...]} '
                                              "with at least one part."})
        numbers = [p["partNumber"] for p in parts]
        if len(set(numbers)) != len(numbers):
            return self._json(400, {"detail": "InvalidPart: a partNumber is listed twice."})
        # Any order: fal-client 1.0.3 uploads parts in parallel and lists them in the order they finished.
        parts = sorted(parts, key=lambda p: p["partNumber"])
        with self._lock:
            stored = dict(up.parts)
        chunks = []
        for p in parts:
            have = stored.get(p["partNumber"])
            if have is None or have[1].strip('"') != p["etag"].strip('"'):
                return self._json(400, {"detail": f"InvalidPart: part {p['partNumber']} was not uploaded or its "
                                                  "etag does not match."})
            chunks.append(have[0])
        for p, chunk in zip(parts[:-1], chunks[:-1]):
            if len(chunk) < self.multipart_min_part:
                return self._json(400, {"detail": f"EntityTooSmall: part {p['partNumber']} has {len(chunk)} bytes; "
                                                  f"every part but the last needs {self.multipart_min_part}."})
        with self._lock:
            up.data = b"".join(chunks)
            up.parts.clear()
        return self._json(200, {"access_url": up.url})

    async def _h_initiate(self, request, params, raw, entry, inj) -> web.Response:
        denied = self._auth(request) or self._storage_type(request, ("gcs", "fal-cdn-v3"))
        if denied:
            return denied
        body = entry["json"]
        errors = validate_input({"file_name": _s(), "content_type": _req(_s(min_length=1))}, body)
        if errors:
            return self._json(422, {"detail": errors})
        up = self._new_upload(body.get("file_name"), body["content_type"], "initiate")
        up.signature = secrets.token_urlsafe(24)
        up.expires = time.monotonic() + self.token_seconds
        entry["upload_id"], entry["url"] = up.id, up.url
        return self._json(200, {"upload_url": f"{self.base_url}/storage/signed/{up.id}?signature={up.signature}",
                                "file_url": up.url})

    async def _h_put(self, request, params, raw, entry, inj) -> web.Response:
        with self._lock:
            up = self.uploads.get(params["uid"])
        if up is None or up.via != "initiate":
            return _gcs_error(404, "NoSuchUpload", "No such upload.")
        if request.query.get("signature") != up.signature:
            return _gcs_error(403, "SignatureDoesNotMatch", "The request signature does not match.")
        if time.monotonic() > up.expires:
            return _gcs_error(400, "ExpiredToken", "The signed URL has expired.")
        got = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if got != up.content_type.split(";")[0].strip().lower():
            return _gcs_error(403, "SignatureDoesNotMatch",
                              f"Content-Type {got!r} is not the signed one ({up.content_type!r}).")
        if len(raw) > self.upload_max_bytes:
            return _gcs_error(413, "EntityTooLarge", "Your proposed upload is larger than the maximum object size.")
        with self._lock:
            up.data = raw
        return web.Response(status=200)


    # ---------------------------------------------------------------- Platform API: pricing
    async def _h_pricing(self, request, params, raw, entry, inj) -> web.Response:
        """GET /v1/models/pricing: Key auth, 1 to 50 endpoint ids, cursor pagination (an offset here)."""
        denied = self._auth(request)
        if denied:
            return denied
        ids = [i.strip() for value in request.query.getall("endpoint_id", []) for i in value.split(",") if i.strip()]
        if not 1 <= len(ids) <= PRICING_MAX_IDS:
            return self._json(422, {"detail": [_err(["query", "endpoint_id"], "value_error",
                                                    f"Must provide at least 1 endpoint ID (1-{PRICING_MAX_IDS} "
                                                    f"models), got {len(ids)}", ",".join(ids))]})
        with self._lock:
            prices, page = dict(self.prices), max(1, int(self.pricing_page_size))
        unknown = [i for i in ids if i not in prices]
        if unknown:
            return self._json(404, {"detail": f"Endpoint not found: {unknown[0]}"})
        cursor = request.query.get("cursor")
        try:
            start = int(cursor) if cursor is not None else 0
        except ValueError:
            return self._json(422, {"detail": [_err(["query", "cursor"], "value_error", "Invalid cursor", cursor)]})
        listed = [{"endpoint_id": i, **prices[i]} for i in dict.fromkeys(ids)]
        chunk = listed[start:start + page]
        more = start + page < len(listed)
        return self._json(200, {"prices": chunk, "next_cursor": str(start + page) if more else None,
                                "has_more": more})
