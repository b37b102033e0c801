"""Load the pack by file path under a fixed name: benchmarks need neither ComfyUI nor an installed pack."""
import importlib.util
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_pack(root: pathlib.Path = ROOT):
    if "comfyui_kling_video" not in sys.modules:
        spec = importlib.util.spec_from_file_location("comfyui_kling_video", root / "__init__.py",
                                                      submodule_search_locations=[str(root)])
        pack = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = pack
        spec.loader.exec_module(pack)
    return sys.modules["comfyui_kling_video"]
