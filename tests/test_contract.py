"""Node ids, input names and output slots are a public contract: saved workflows (and API-format prompts)
name them. tests/contract_snapshot.json records them; a node id or input that disappears, is renamed or changes
type, or an output that moves, fails here. Additions are fine (refresh the snapshot to protect them too):

    .venv/bin/python . contract --write

Retiring a node: never delete it. Keep its catalog entry (same node id, same inputs) so old workflows still
load, and mark its schema `is_deprecated=True` (ComfyUI labels it deprecated and hides it from node search);
its help page then says so and the snapshot records `"deprecated": true`. No node is retired yet; the first
one adds a `deprecated` flag to `Variant` in nodes/catalog/schema.py, passed as `is_deprecated` in
nodes/comfyui/nodes.py make_node. Renaming an input likewise means keeping the old name.
"""
import json
import os
import warnings

import pytest

from comfyui_kling_video.nodes.devtools import help_pages

REFRESH = "`.venv/bin/python . contract --write`"


@pytest.fixture(scope="module")
def current():
    return help_pages.contract()


def test_no_node_input_or_output_of_the_snapshot_is_gone(current):
    snapshot = json.loads(help_pages.SNAPSHOT.read_text(encoding="utf-8"))
    breaks = help_pages.contract_breaks(snapshot, current)
    assert not breaks, ("these changes break saved workflows:\n  " + "\n  ".join(breaks) +
                        "\nKeep the old node/input (mark a retired node deprecated, see this file's docstring). "
                        f"Only if the break is deliberate, accept it with {REFRESH}.")
    added = help_pages.contract_additions(snapshot, current)
    if added:
        warnings.warn(f"not yet protected by the contract snapshot: {', '.join(added)}; run {REFRESH}", stacklevel=1)


def test_the_snapshot_covers_every_catalog_node():
    from comfyui_kling_video.nodes.catalog import CATALOG
    snapshot = json.loads(help_pages.SNAPSHOT.read_text(encoding="utf-8"))
    v26 = snapshot["KlingVideo_V26Pro_ImageToVideo"]
    assert {"start_frame", "prompt", "take", "provider"} <= set(v26["inputs"])
    assert v26["outputs"][0] == ["VIDEO", "VIDEO"]
    assert "KlingVideo_Shot" in snapshot
    # The lead adds variants often; most must already be in the snapshot (the rest only warn above).
    assert sum(v.node_id in snapshot for v in CATALOG) >= 50


def test_breaks_are_caught_and_additions_are_not_breaks(current):
    i2v = "KlingVideo_V26Pro_ImageToVideo"
    old = json.loads(json.dumps(current))
    assert help_pages.contract_breaks(old, current) == []

    renamed = json.loads(json.dumps(current))
    renamed[i2v]["inputs"]["first_frame"] = renamed[i2v]["inputs"].pop("start_frame")
    assert help_pages.contract_breaks(old, renamed) == [f"{i2v}: input 'start_frame' is gone or renamed"]
    assert help_pages.contract_additions(old, renamed) == [f"{i2v}.first_frame"]

    gone = {k: v for k, v in current.items() if k != "KlingVideo_Shot"}
    assert help_pages.contract_breaks(old, gone) == [
        "KlingVideo_Shot: the node is gone (keep it, marked deprecated, instead)"]
    retyped = json.loads(json.dumps(current))
    retyped[i2v]["inputs"]["end_frame"] = "VIDEO"
    retyped[i2v]["outputs"].insert(0, ["STRING", "new"])
    # a new output in front shifts every existing one: each is a break
    assert help_pages.contract_breaks(old, retyped) == [
        f"{i2v}: input 'end_frame' changed type IMAGE → VIDEO"] + [
        f"{i2v}: output {i} ({t} {n!r}) is gone, moved or changed type" for i, (t, n) in enumerate(old[i2v]["outputs"])]

    grown = json.loads(json.dumps(current))
    grown[i2v]["inputs"]["seed"] = "INT"
    grown[i2v]["outputs"].append(["STRING", "extra"])
    grown["KlingVideo_New"] = {"inputs": {}, "outputs": []}
    assert help_pages.contract_breaks(old, grown) == []
    assert help_pages.contract_additions(old, grown) == [f"{i2v}.seed", f"{i2v} output 5", "KlingVideo_New (new node)"]


def test_every_kling_node_takes_its_fields_plus_take_and_provider(current):
    from comfyui_kling_video.nodes.catalog import CATALOG
    for v in CATALOG:
        assert set(current[v.node_id]["inputs"]) == {f.name for f in v.fields} | {"take", "provider"}, v.key


def _from_object_info(node: dict) -> dict:
    given = {**node["input"].get("required", {}), **node["input"].get("optional", {})}
    # V1 object_info writes a combo's type as its option list
    inputs = {name: ("COMBO" if isinstance(spec[0], list) else spec[0]) for name, spec in sorted(given.items())}
    return {"inputs": inputs, "outputs": [list(pair) for pair in zip(node["output"], node["output_name"], strict=True)],
            **({"deprecated": True} if node.get("deprecated") else {})}


@pytest.mark.skipif(not os.environ.get("COMFYUI_DIR"), reason="set COMFYUI_DIR to check against a real ComfyUI")
def test_the_reading_without_comfyui_matches_a_real_comfyui(current, tmp_path):
    """The snapshot and the help pages read the nodes without ComfyUI; a real one must register the same."""
    from comfyui_server import ComfyUI
    env = {k: "" for k in ("FAL_KEY", "KLINGAI_ACCESS_KEY", "KLINGAI_SECRET_KEY", "AIMLAPI_KEY", "AI_GATEWAY_API_KEY")}
    comfy = ComfyUI(os.environ["COMFYUI_DIR"], tmp_path / "base", {**env, "KLING_VIDEO_HOME": str(tmp_path / "home")})
    comfy.start()
    try:
        info = comfy.get("/object_info")
    finally:
        comfy.stop()
    real = {node_id: _from_object_info(info[node_id]) for node_id in current if node_id in info}
    assert sorted(real) == sorted(current), f"not registered: {sorted(set(current) - set(real))}\n{comfy.log()[-2000:]}"
    assert real == current


def test_command_line_reports_no_break():
    import subprocess
    import sys
    r = subprocess.run([sys.executable, str(help_pages.ROOT), "contract"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
