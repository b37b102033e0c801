"""Kling's own API, "Omni-Video" (fal's O1 / O3 nodes): POST /v1/videos/omni-video, GET /v1/videos/omni-video/{id}
(a task id, or our external_task_id). A pure mapping from the catalog's body (fal's names); kling.py sends it
like the other /v1 tasks and finds a lost create again by our id.

Sources (see nodes/catalog/omni_offers.py): ComfyUI 0.33.0's own code (Comfy-Org; third party for Kling),
comfy_api_nodes/nodes_kling.py OmniPro*Node and apis/kling.py OmniPro*Request, and a third-party copy of Kling's
Omni-Video page (WHQ25/rawgenai docs/research/kling/omni-video-o1.md). The body:

  {model_name: kling-v3-omni | kling-video-o1, mode: std | pro | 4k (kling-v3-omni only), prompt (<= 2500; inputs
   named <<<image_1>>>, <<<video_1>>>), image_list: [{image_url (Base64 or URL), type?: first_frame | end_frame}],
   video_list: [{video_url (a URL only), refer_type: base (edit) | feature (reference), keep_original_sound}],
   aspect_ratio 16:9 | 9:16 | 1:1, duration "3".."15", sound on | off, multi_shot, shot_type, multi_prompt}

Kling's rules, refused here before any request (the error names the node's input): Comfy's nodes send a first
frame before an end frame, never an end frame with reference images or storyboards, and no storyboards, audio or
4K with kling-video-o1, whose text to video and first-frame video last 5 or 10 s; Kling's page: at most 7 images
(4 beside a video), no aspect ratio with a first frame or a video edit (the frame or video decides) but one is
required otherwise, no duration for an edit (it lasts as long as its video). Kling keeps no uploads: a video goes
only as the link of a result the pack downloaded (Media.url).

Prompt references: the catalog's rule spells them fal's way (@Image1: fal numbers only the reference images where
a node has them, else the frames); Kling numbers the image_list as sent (frames first, as Comfy sends them), so
each is renumbered to the entry it names and written <<<image_n>>>.
"""
from __future__ import annotations

import base64
import re
from typing import Any

from ..catalog.fields import ASPECT
from ..catalog.references import REFERENCE  # the one pattern of every spelling the pack reads
from ..core.errors import InputError
from ..media_in.media import Media
from .kling_tasks import link
from .wire_format import url_or

MODELS = ("kling-v3-omni", "kling-video-o1")
O1 = "kling-video-o1"
TASK = "omni-video"
MOST_IMAGES, MOST_IMAGES_WITH_VIDEO = 7, 4
SHOT_PROMPT_MAX = 512   # Comfy: validate_string(storyboard prompt, max_length=512)
O1_SHORT = ("5", "10")  # kling-video-o1 text to video and first-frame video


def serves(model: str) -> bool:
    return model.partition("/")[0] in MODELS


def is_omni(wire_body: dict) -> bool:
    return wire_body.get("model_name") in MODELS


def _image(media: Any) -> Any:
    return url_or(lambda m: base64.b64encode(m.data).decode())(media) if isinstance(media, Media) else media


def to_wire(model: str, body: dict) -> dict:
    name, _, mode = model.partition("/")
    o1 = name == O1
    start, end = body.get("image_url", body.get("start_image_url")), body.get("end_image_url")
    refs, video, shots = body.get("image_urls") or [], body.get("video_url"), body.get("multi_prompt")
    _refuse(o1, body, start, end, refs, video, shots)
    # (entry, the fal number of the @Image it answers to): fal numbers the reference images where there are any.
    images = [({"image_url": _image(start), "type": "first_frame"}, None if refs else 1)] if start is not None else []
    if end is not None:
        images.append(({"image_url": _image(end), "type": "end_frame"}, 2))
    images += [({"image_url": _image(image)}, n) for n, image in enumerate(refs, 1)]
    kling_number = {fal: at for at, (_, fal) in enumerate(images, 1) if fal is not None}
    out: dict = {"model_name": name, "mode": mode or "pro",
                 "prompt": _kling_references(body.get("prompt", ""), kling_number, video is not None)}
    if images:
        out["image_list"] = [entry for entry, _ in images]
    if video is not None:
        edit = "duration" not in body  # an edit's node has no duration: it lasts as long as its video
        if not edit and "aspect_ratio" not in body:
            raise InputError("aspect_ratio", "Kling's API needs a frame shape for a video reference: choose 16:9, "
                                             "9:16 or 1:1 ('auto' is fal.ai's)")
        out["video_list"] = [{"video_url": link(video, "video", "video"), "refer_type": "base" if edit else "feature",
                              "keep_original_sound": "yes" if body.get("keep_audio", True) else "no"}]
    if "aspect_ratio" in body and start is None:
        out["aspect_ratio"] = body["aspect_ratio"]
    if "duration" in body:
        out["duration"] = str(body["duration"])
    if "generate_audio" in body:
        out["sound"] = "on" if body["generate_audio"] else "off"
    if shots:
        out.update(multi_shot=True, shot_type="customize", multi_prompt=[
            {"index": i, "prompt": _kling_references(s["prompt"], kling_number, False), "duration": s["duration"]}
            for i, s in enumerate(shots, 1)])
    return out


def _kling_references(text: str, kling_number: dict, has_video: bool) -> str:
    """fal's @Image<n> (or a spelling the catalog's rule left as typed) as Kling's <<<image_<m>>>, m being the
    image_list entry it names; a reference to nothing Kling is sent stays as typed (the rule refuses those where
    the node numbers its inputs)."""
    def kling(match: re.Match) -> str:
        kind = (match.group(1) or match.group(3)).lower()
        n = int(match.group(2) or match.group(4))
        if kind == "image" and n in kling_number:
            return f"<<<image_{kling_number[n]}>>>"
        if kind == "video" and n == 1 and has_video:
            return "<<<video_1>>>"
        return match.group(0)
    return REFERENCE.sub(kling, text)


def _refuse(o1: bool, body: dict, start, end, refs: list, video, shots) -> None:
    if end is not None and start is None:
        raise InputError("end_frame", "Kling's API takes an end frame only after a start frame: connect one")
    if end is not None and refs:
        raise InputError("end_frame", "Kling's API takes an end frame or reference images, not both")
    if end is not None and shots:
        raise InputError("end_frame", "Kling's API takes an end frame or shots, not both")
    most = MOST_IMAGES_WITH_VIDEO if video is not None else MOST_IMAGES
    count = len(refs) + (start is not None) + (end is not None)
    if count > most:
        raise InputError("reference_images", f"make {count} images with the frames; Kling's API takes at most {most}"
                                             f"{' beside a video' if video is not None else ''}")
    for i, shot in enumerate(shots or (), 1):
        if len(shot["prompt"]) > SHOT_PROMPT_MAX:
            raise InputError(f"shots[{i}].prompt", f"has {len(shot['prompt'])} characters; Kling's API takes at "
                                                   f"most {SHOT_PROMPT_MAX} per shot")
    if start is not None and body.get("aspect_ratio", ASPECT.default) != ASPECT.default:
        raise InputError("aspect_ratio", "Kling's API takes no frame shape with a start frame (the frame decides): "
                                         f"leave it at {ASPECT.default!r}, or choose fal.ai")
    if o1 and end is None and not refs and video is None and str(body.get("duration", "5")) not in O1_SHORT:
        raise InputError("duration", f"{body['duration']!r}: Kling's API makes kling-video-o1 videos from a prompt "
                                     "or a start frame alone 5 or 10 s long (3-10 s with an end frame); fal.ai can "
                                     "take it")
