"""Kling 3.0 Turbo on Kling's own API: its own routes and shapes, unlike the /v1/videos family.

Source: ComfyUI 0.33.0's own code (Comfy-Org; first-party for ComfyUI, third-party for Kling):
comfy_api_nodes/nodes_kling.py execute_kling_turbo and build_turbo_shot_prompt, and the Kling3Turbo* models of
comfy_api_nodes/apis/kling.py. Comfy calls Kling through its proxy as /proxy/kling/<Kling's own path>, so:

  POST /text-to-video/kling-3.0-turbo   {prompt (<= 3072), settings: {resolution, aspect_ratio, duration}}
  POST /image-to-video/kling-3.0-turbo  {contents: [{type: "prompt", text (<= 2500)}, {type: "first_frame", url}],
                                         settings: {resolution, duration}}   (no aspect ratio: the image decides)
  create answer {code, message, request_id, data: {id, status, message}}
  GET  /tasks?task_ids=<id>  → {code, message, request_id, data: [{id, status: submitted | processing |
                                 succeeded | failed, message, outputs: [{type: "video", id, url, duration}]}]}

resolution is 720p | 1080p, duration an integer 3-15. research16.md §3.2 found the same routes in third-party
code (ye4293/one-api). A multi-shot video is one prompt, "shot <n>, <seconds>, <prompt>; ..." (Comfy's
build_turbo_shot_prompt). The model is written "kling-3.0-turbo/<resolution>".

None of these shapes carries an id of ours (no external_task_id): a create whose answer was lost cannot be looked
up, so nothing may be sent again for it (see KlingClient.recover).
"""
from __future__ import annotations

from typing import Any, Callable

from ..core.errors import InputError, ProviderError
from .contract import Completed, Failed, Queued, Running, Status

MODEL = "kling-3.0-turbo"
TASK = "turbo"   # the Handle's data["task"]
STATUS_PATH = "/tasks"
TEXT_MAX = 3072   # text to video's prompt
IMAGE_TEXT_MAX = 2500   # image to video's prompt content


def serves(model: str) -> bool:
    return model.partition("/")[0] == MODEL


def shots_prompt(shots: list) -> str:
    """Storyboard shots as Turbo's one prompt (Comfy's build_turbo_shot_prompt)."""
    return "; ".join(f"shot {i}, {int(s['duration'])}, {s['prompt']}" for i, s in enumerate(shots, 1)) + ";"


def to_wire(model: str, body: dict, encode: Callable[[Any], Any]) -> dict:
    """The catalog's body (fal's names) as Turbo's; `encode` turns the start frame into what Kling takes."""
    resolution = model.partition("/")[2]
    shots = body.get("multi_prompt")
    prompt = shots_prompt(shots) if shots else body.get("prompt", "")
    settings: dict = {"resolution": resolution, "duration": int(body.get("duration", 5))}
    image = body.get("image_url")
    most = TEXT_MAX if image is None else IMAGE_TEXT_MAX
    if len(prompt) > most:
        raise InputError("shots" if shots else "prompt",
                         f"Kling 3.0 Turbo takes a prompt of at most {most} characters; the "
                         f"{'shots make one of' if shots else 'prompt has'} {len(prompt)}")
    if image is None:
        if "aspect_ratio" in body:
            settings["aspect_ratio"] = body["aspect_ratio"]
        return {"prompt": prompt, "settings": settings}
    contents = ([{"type": "prompt", "text": prompt}] if prompt else []) + [{"type": "first_frame",
                                                                            "url": encode(image)}]
    return {"contents": contents, "settings": settings}


def create_path(wire_body: dict) -> str:
    return f"/{'image-to-video' if 'contents' in wire_body else 'text-to-video'}/{MODEL}"


def task_id(answer: dict) -> str:
    task = (answer.get("data") or {}).get("id")
    if not task:
        raise ProviderError(f"Kling 3.0 Turbo create: no id in {str(answer)[:300]}")
    return str(task)


def parse_status(answer: dict) -> Status:
    """/tasks answers a list; ours is its only item. "succeeded", not /v1's "succeed"."""
    tasks = answer.get("data") or [{}]
    task = tasks[0] if isinstance(tasks[0], dict) else {}
    state = task.get("status")
    if state == "succeeded":
        return Completed(task)
    if state == "failed":
        return Failed(str(task.get("message") or "failed"))
    return Queued() if state == "submitted" else Running()


def video_url(result: dict) -> str:
    for output in result.get("outputs") or ():
        if isinstance(output, dict) and output.get("type") == "video" and output.get("url"):
            return output["url"]
    return ""
