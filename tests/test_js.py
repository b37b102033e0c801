"""The frontend's pure logic (web/*_logic.js), tested with node's own runner: `node --test tests/js/`."""
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
def test_node_test_runner_passes():
    r = subprocess.run(["node", "--test", "tests/js/"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    assert "# fail 0" in r.stdout and "# pass 0" not in r.stdout


def test_the_panel_offers_collect_for_exactly_the_servers_collectable_states():
    """The jobs tab decides on its own whether to show Collect; its list must be the server's rule, or a job the
    server would collect (a cancelled one the provider finished anyway) has no button."""
    from comfyui_kling_video.nodes.jobs.states import COLLECTABLE
    import json
    import re
    text = (ROOT / "web" / "kling_jobs_logic.js").read_text()
    js = json.loads(re.search(r"export const COLLECTABLE_STATES = (\[.*?\]);", text).group(1))
    assert js == [str(s) for s in COLLECTABLE], (js, COLLECTABLE)
