"""The pack's own ComfyUI socket types, for fields that are structures (helper_nodes.py builds them, the
Kling nodes in nodes.py take them), and the menu category both put their nodes in."""
from __future__ import annotations

from comfy_api.latest import io

CATEGORY = "Kling Video"

SHOTS = io.Custom("KLING_SHOTS")
ELEMENTS = io.Custom("KLING_ELEMENTS")
DYNAMIC_MASKS = io.Custom("KLING_DYNAMIC_MASKS")
CAMERA = io.Custom("KLING_CAMERA")
