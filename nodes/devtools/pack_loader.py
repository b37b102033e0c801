"""Load the pack's folder as the package ``comfyui_kling_video``, whatever the folder is called.

ComfyUI's custom_nodes/ decides the folder's name, while the CLI, the tests and the benchmarks import the
pack by a fixed one. They reach this file by path before the package exists, so it imports nothing of the
pack::

    runpy.run_path(str(pack_root / "nodes" / "devtools" / "pack_loader.py"))["load_pack"]()
"""
from __future__ import annotations

import importlib.util
import pathlib
import sys
import types

PACKAGE = "comfyui_kling_video"
ROOT = pathlib.Path(__file__).resolve().parents[2]


def load_pack(root: str | pathlib.Path = ROOT) -> types.ModuleType:
    """The pack as ``comfyui_kling_video`` (loaded from ``root`` unless a package of that name is loaded)."""
    if PACKAGE not in sys.modules:
        root = pathlib.Path(root)
        spec = importlib.util.spec_from_file_location(PACKAGE, root / "__init__.py",
                                                      submodule_search_locations=[str(root)])
        pack = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = pack
        spec.loader.exec_module(pack)
    return sys.modules[PACKAGE]
