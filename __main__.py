"""`python <this folder> i2v ...`: the command line, without ComfyUI and without installing the pack.

The folder may have any name (ComfyUI's custom_nodes/ decides it), so it is loaded as a package under a
fixed name before the CLI's relative imports run.
"""
import importlib.util
import pathlib
import sys

_ROOT = pathlib.Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("comfyui_kling_video", _ROOT / "__init__.py",
                                               submodule_search_locations=[str(_ROOT)])
_pack = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _pack
_spec.loader.exec_module(_pack)

from comfyui_kling_video.nodes.cli.main import main  # noqa: E402

sys.exit(main())
