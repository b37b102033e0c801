"""The pack by file path under a fixed name: benchmarks need neither ComfyUI nor an installed pack."""
import pathlib
import runpy

ROOT = pathlib.Path(__file__).resolve().parents[1]
LOADER = ROOT / "nodes" / "devtools" / "pack_loader.py"

load_pack = runpy.run_path(str(LOADER))["load_pack"]
