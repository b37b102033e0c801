"""The pack's code, one sub-package per stage of the data path (docs/architecture.md). Only nodes/comfyui/ imports
ComfyUI; everything else runs and tests without it."""
