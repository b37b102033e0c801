"""Cross-field rules of catalog entries: checks one field alone cannot make.

A rule is rule(body, fail, media_seconds): it may adjust the checked body and calls fail(input, why) to
refuse it; media_seconds holds the lengths of the video and audio inputs. request/ runs a variant's rules
after every field has passed its own checks.
"""
from __future__ import annotations


def rule_prompt_or_shots(body: dict, fail, media_seconds: dict) -> None:
    """v3: a single prompt or shots, not both; the shots fill the whole duration."""
    shots = body.get("multi_prompt")
    if shots:
        if body.get("prompt", "").strip():
            fail("prompt", "leave it empty when shots are connected (the shots carry the prompts)")
        body.pop("prompt", None)
        total = sum(int(s["duration"]) for s in shots)
        if str(total) != body.get("duration"):
            fail("duration", f"is {body.get('duration')} s but the shots add up to {total} s")
        body.setdefault("shot_type", "customize")
    else:
        if not body.get("prompt", "").strip():
            fail("prompt", "must not be empty (or connect shots)")
        if body.get("shot_type") == "customize":
            body.pop("shot_type")  # customize only describes shots; without shots it is meaningless


def rule_one_camera(body: dict, fail, media_seconds: dict) -> None:
    if body.get("camera_control") == "none":
        body.pop("camera_control")
    if "camera_control" in body and "advanced_camera_control" in body:
        fail("advanced_camera_control", "choose a preset camera_control or a custom camera move, not both")


def rule_effect_images(body: dict, fail, media_seconds: dict) -> None:
    images = body.get("input_image_urls", [])
    need = 2 if body.get("effect_scene") in ("hug", "kiss", "heart_gesture") else 1
    if len(images) != need:
        fail("images", f"effect {body.get('effect_scene')!r} takes {need} image(s), got {len(images)}")


def rule_orientation_length(body: dict, fail, media_seconds: dict) -> None:
    """Motion control: the reference video may last 10 s when the image sets the orientation, 30 s
    when the video does."""
    limit = 10 if body.get("character_orientation") == "image" else 30
    length = media_seconds.get("reference_video")
    if length is not None and length > limit:
        fail("reference_video", f"is {length:.1f} s; with character_orientation "
                                f"'{body.get('character_orientation')}' it may last at most {limit} s")


def rule_face_with_video(body: dict, fail, media_seconds: dict) -> None:
    if body.get("elements") and body.get("character_orientation") != "video":
        fail("elements", "a face element binds only with character_orientation 'video' (fal's rule)")


def rule_max_references(limit: int, with_video_only: bool = False):
    """O1/O3: elements plus reference images may number at most `limit` ("Maximum N total (elements +
    reference images)"); O3 reference-to-video applies it only when an element is a video."""
    def rule(body: dict, fail, media_seconds: dict) -> None:
        elements, images = body.get("elements") or [], body.get("image_urls") or []
        if with_video_only and not any("video_url" in e for e in elements):
            return
        if len(elements) + len(images) > limit:
            fail("reference_images", f"{len(elements)} element(s) + {len(images)} reference image(s) make "
                                     f"{len(elements) + len(images)}; at most {limit} in all")
    rule.__name__ = f"rule_max_references_{limit}"
    return rule

