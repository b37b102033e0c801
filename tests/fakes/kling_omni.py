"""Kling's Omni-Video body for :class:`fakes.kling.FakeKling` (``POST /v1/videos/omni-video``; status at
``GET /v1/videos/omni-video/{task_id or external_task_id}``, the /v1 envelope).

Written from ComfyUI 0.33.0's own code (comfy_api_nodes/apis/kling.py OmniProText2VideoRequest,
OmniProFirstLastFrameRequest, OmniProReferences2VideoRequest, OmniParamImage, OmniParamVideo; nodes_kling.py
OmniPro*Node: third party for Kling) and a third-party copy of Kling's Omni-Video page (WHQ25/rawgenai
docs/research/kling/omni-video-o1.md); nothing here imports the package under test. Fields:

``model_name`` kling-video-o1 (the default) | kling-v3-omni; ``prompt`` (required; 1-2500 characters, may be
empty with customized shots); ``mode`` std | pro (the default) | 4k (kling-v3-omni only: Comfy's nodes refuse 4K
for o1); ``image_list`` [{image_url (https URL or raw Base64, Kling's image rules), type? first_frame |
end_frame}]; ``element_list`` [{element_id (an integer)}]; ``video_list`` (at most 1) [{video_url (an https
link only), refer_type base | feature, keep_original_sound yes | no}]; ``aspect_ratio`` 16:9 | 9:16 | 1:1;
``duration`` a string "3".."10" (kling-video-o1) or "3".."15" (kling-v3-omni); ``sound`` on | off ("on":
kling-v3-omni only); ``multi_shot``, ``shot_type`` customize, ``multi_prompt`` [{index, prompt (<= 512),
duration}] (kling-v3-omni only; the durations add up to ``duration``); ``watermark_info``, ``callback_url``,
``external_task_id``. Anything else is refused with 400/1201 naming it.

Cross rules (Kling's page): at most one first_frame and one end_frame, and no end_frame among more than 2 images;
images + elements at most 7, or 4 beside a video; aspect_ratio is refused with a first_frame or a ``base`` video and
required otherwise; duration is refused with a ``base`` video (it follows the video); kling-video-o1's text to
video and first-frame-only video take duration 5 or 10 only. The video lasts ``duration`` s (5 for an edit: the
linked video is not fetched).
"""
from __future__ import annotations

import re
from typing import Any

from .common import C, E, Issue, R, S, check_fields, js_type

OMNI = "omni-video"
MODELS = ("kling-video-o1", "kling-v3-omni")
DEFAULT_MODEL = "kling-video-o1"


def _link(v: Any, path: str) -> list[Issue]:
    if not isinstance(v, str):
        return [Issue(path, "type", f"Expected string, received {js_type(v)}")]
    return [] if re.match(r"^https://[^/\s]+/", v) else [Issue(path, "value", "must be a URL of the video")]


def omni_fields(image, callback) -> dict:
    return {
        "model_name": E(*MODELS), "prompt": R(S(max_length=2500)), "mode": E("std", "pro", "4k"),
        "image_list": {"type": "list", "min_items": 1, "items": {"type": "object", "fields": {
            "image_url": R(C(image)), "type": E("first_frame", "end_frame")}}},
        "element_list": {"type": "list", "min_items": 1, "items": {"type": "object", "fields": {
            "element_id": R({"type": "int"})}}},
        "video_list": {"type": "list", "min_items": 1, "max_items": 1, "items": {"type": "object", "fields": {
            "video_url": R(C(_link)), "refer_type": R(E("base", "feature")),
            "keep_original_sound": E("yes", "no")}}},
        "aspect_ratio": E("16:9", "9:16", "1:1"), "duration": S(), "sound": E("on", "off"),
        "multi_shot": {"type": "bool"}, "shot_type": E("customize"),
        "multi_prompt": {"type": "list", "min_items": 1, "max_items": 6, "items": {"type": "object", "fields": {
            "index": R({"type": "int", "ge": 1}), "prompt": R(S(min_length=1, max_length=512)), "duration": R(S())}}},
        "watermark_info": {"type": "object", "fields": {"enabled": R({"type": "bool"})}},
        "callback_url": C(callback), "external_task_id": S(min_length=1),
    }


def omni_issues(body: dict, image, callback) -> list[Issue]:
    issues = check_fields(omni_fields(image, callback), body)
    if issues:
        return issues
    model = body.get("model_name", DEFAULT_MODEL)
    images, videos = body.get("image_list", []), body.get("video_list", [])
    kinds = [i.get("type") for i in images]
    edit = any(v["refer_type"] == "base" for v in videos)
    first = "first_frame" in kinds
    if kinds.count("first_frame") > 1 or kinds.count("end_frame") > 1:
        issues.append(Issue("image_list", "value", "at most one first_frame and one end_frame"))
    if "end_frame" in kinds and len(images) > 2:
        issues.append(Issue("image_list", "value", "an end_frame cannot be set with more than 2 images"))
    most = 4 if videos else 7
    if len(images) + len(body.get("element_list", [])) > most:
        issues.append(Issue("image_list", "value", f"images + elements: at most {most}"
                                                   f"{' with a reference video' if videos else ''}"))
    if "aspect_ratio" in body and (first or edit):
        issues.append(Issue("aspect_ratio", "value", "not supported with a first frame or a video edit"))
    elif "aspect_ratio" not in body and not (first or edit):
        issues.append(Issue("aspect_ratio", "missing", "Required without a first frame or a video edit"))
    shots = body.get("multi_prompt")
    if not body["prompt"] and not (body.get("multi_shot") and shots):
        issues.append(Issue("prompt", "too_short", "String must contain at least 1 character(s)"))
    if model != "kling-v3-omni":
        issues.extend(Issue(n, "value", f"not supported by {model} (kling-v3-omni only)")
                      for n in ("multi_shot", "shot_type", "multi_prompt") if n in body)
        if body.get("mode") == "4k":
            issues.append(Issue("mode", "value", f"mode '4k' is not supported by {model}"))
        if body.get("sound") == "on":
            issues.append(Issue("sound", "value", f"sound 'on' is not supported by {model}"))
    if "duration" in body:
        allowed = [str(n) for n in range(3, 16 if model == "kling-v3-omni" else 11)]
        if edit:
            issues.append(Issue("duration", "value", "cannot be set for a video edit (it follows the video)"))
        elif model == "kling-video-o1" and not videos and not body.get("element_list") and \
                (not images or kinds == ["first_frame"]):
            allowed = ["5", "10"]
        if body["duration"] not in allowed:
            issues.append(Issue("duration", "enum", f"Invalid value {body['duration']!r}: expected one of "
                                                    f"{', '.join(allowed)}"))
    if shots and body.get("multi_shot") and sum(int(s["duration"]) for s in shots) != int(body.get("duration", 5)):
        issues.append(Issue("multi_prompt", "value", "the shots' durations must add up to duration"))
    return issues


def omni_model(body: dict) -> tuple[str, str, float]:
    """(model, mode, seconds) of the job an accepted body makes."""
    edit = any(v["refer_type"] == "base" for v in body.get("video_list", []))
    return (body.get("model_name", DEFAULT_MODEL), body.get("mode", "pro"),
            5.0 if edit else float(body.get("duration", "5")))
