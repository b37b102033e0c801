"""`python <this folder> i2v ...`: the command line, without ComfyUI and without installing the pack.

The folder may have any name (ComfyUI's custom_nodes/ decides it), so it is loaded as a package under a
fixed name before the CLI's relative imports run.
"""
import pathlib
import runpy
import sys

_LOADER = pathlib.Path(__file__).resolve().parent / "nodes" / "devtools" / "pack_loader.py"
runpy.run_path(str(_LOADER))["load_pack"]()

from comfyui_kling_video.nodes.cli.main import main  # noqa: E402

sys.exit(main())
