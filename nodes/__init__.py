"""The pack's code. Only comfy_nodes.py imports ComfyUI; everything else runs and tests without it."""
