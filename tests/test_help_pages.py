"""Help pages (web/docs/<node id>.md, shown in ComfyUI's node help panel): generated from the catalog and the
node definitions, never stale, one per node, and each page's example command really runs (as a dry run)."""
import re
import shlex
import sys

import pytest

from media import make_mp4, make_png, make_wav

from comfyui_kling_video.nodes.cli import main as cli
from comfyui_kling_video.nodes.devtools import help_pages
from comfyui_kling_video.nodes.devtools.help_pages.pages import _prose
from comfyui_kling_video.nodes.providers import registry
from comfyui_kling_video.nodes.catalog import CATALOG

HELPERS = ("KlingVideo_Shot", "KlingVideo_Element", "KlingVideo_DynamicMask", "KlingVideo_CameraControl")


@pytest.fixture(scope="module")
def nodes():
    return help_pages.read_nodes()


@pytest.fixture(scope="module")
def pages(nodes):
    return help_pages.render_pages(nodes)


def test_pages_on_disk_are_up_to_date(pages):
    stale = help_pages.stale_pages(help_pages.DOCS_DIR, pages)
    assert not stale, (f"web/docs is stale ({', '.join(stale)}): run `.venv/bin/python . help-pages` "
                       "and commit web/docs")


def test_every_catalog_node_and_helper_has_a_page(nodes, pages):
    ids = [v.node_id for v in CATALOG] + list(HELPERS)
    registered = [n.node_id for n in nodes]
    assert [i for i in registered if i in ids] == ids and len(set(registered)) == len(registered)
    assert sorted(pages) == sorted(f"{i}.md" for i in registered)
    missing = [i for i in registered if not (help_pages.DOCS_DIR / f"{i}.md").is_file()]
    assert not missing, f"no page for {missing}: run `.venv/bin/python . help-pages`"


def test_a_variant_page_shows_its_fields_prices_and_sources(pages):
    for v in CATALOG:
        page = pages[f"{v.node_id}.md"]
        assert page.startswith(f"# {v.display_name}\n"), v.key
        for name in [f.name for f in v.fields] + ["take", "provider"]:
            assert f"| `{name}` |" in page, (v.key, name)
        for name in v.providers:
            offer = v.offer(name)
            row = f"| {registry.title(name)} (`{name}`) | `{offer.model}` | {offer.price.describe()} |"
            assert row in page, (v.key, name)
            assert _prose(offer.price.source) in page, (v.key, name)
        assert f"python . {v.key} " in page and "--dry-run" in page


def test_page_details_come_from_the_catalog(pages):
    i2v = pages["KlingVideo_V26Pro_ImageToVideo.md"]
    assert "| `prompt` | STRING | yes | \"\" | at most 2500 characters |" in i2v
    assert "| `voice_ids` | STRING |  | \"\" | up to 2, separated by commas |" in i2v
    assert ("| AI/ML API (`aimlapi`) | `klingai/video-v2-6-pro-image-to-video` | not published | "
            "all but `voice_ids` |") in i2v
    assert "$0.07/s, $0.14/s with audio, $0.168/s with voices" in i2v
    assert "| request_id / cost | STRING |" in i2v
    lipsync = pages["KlingVideo_Lipsync_AudioToVideo.md"]
    assert "2-10 s, sides 720-1920 px, at most 100 MB" in lipsync
    assert "$0.014/s of the video (rounded up to 5 s)" in lipsync
    effects = pages["KlingVideo_V16Pro_Effects.md"]
    assert "### `effect_scene` options" in effects and "`heart_gesture`" in effects
    v1 = pages["KlingVideo_V1Std_ImageToVideo.md"]
    assert "same size as `start_frame`" in v1 and "from Kling Dynamic Mask nodes" in v1


def test_helper_pages_show_inputs_outputs_and_where_they_connect(pages):
    shot = pages["KlingVideo_Shot.md"]
    assert "| `prompt` | STRING |" in shot and "| `previous` | KLING_SHOTS |" in shot
    assert "| shots | KLING_SHOTS |" in shot and "(`KlingVideo_V3Pro_TextToVideo`)" in shot
    camera = pages["KlingVideo_CameraControl.md"]
    assert "| `movement_value` | INT |  | `5` | -10 to 10 |" in camera and "free" in camera
    assert "(`KlingVideo_V1Std_TextToVideo`)" in camera


def test_no_raw_angle_brackets_outside_code(pages):
    """The help panel sanitises HTML: an unescaped <<<voice_1>>> in prose would vanish."""
    for name, page in pages.items():
        prose = re.sub(r"```.*?```|`[^`]*`|<!--.*?-->", "", page, flags=re.S)
        assert "<" not in prose and ">" not in prose, (name, [l for l in prose.splitlines() if "<" in l][:2])
    assert "&lt;&lt;&lt;voice_1&gt;&gt;&gt;" in pages["KlingVideo_CreateVoice.md"]


def test_reading_the_nodes_leaves_no_stand_ins_behind(nodes):
    before = dict(sys.modules)
    help_pages.read_nodes()
    added = [m for m in sys.modules if m not in before]
    assert not [m for m in added if m.split(".")[0] in help_pages.COMFY_MODULES or ".comfy_" in m], added
    assert all(sys.modules.get(m) is before[m] for m in before if m.split(".")[0] in help_pages.COMFY_MODULES)


def test_check_lists_stale_and_leftover_pages(tmp_path, capsys):
    docs = tmp_path / "docs"
    assert help_pages.help_pages_main(docs=docs) == 0
    assert help_pages.help_pages_main(check=True, docs=docs) == 0
    (docs / "KlingVideo_Shot.md").write_text("old text", encoding="utf-8")
    (docs / "KlingVideo_Retired.md").write_text("a node that is gone", encoding="utf-8")
    (docs / "KlingVideo_CameraControl.md").unlink()
    capsys.readouterr()
    assert help_pages.help_pages_main(check=True, docs=docs) == 1
    err = capsys.readouterr().err
    assert "KlingVideo_Shot.md" in err and "KlingVideo_CameraControl.md" in err
    assert "KlingVideo_Retired.md (no such node)" in err and "python . help-pages" in err
    assert help_pages.help_pages_main(docs=docs) == 0
    assert not (docs / "KlingVideo_Retired.md").exists()
    assert help_pages.help_pages_main(check=True, docs=docs) == 0


def test_every_page_example_runs_as_a_dry_run(pages, tmp_path, monkeypatch, capsys):
    make_png(tmp_path / "start.png", 640, 480, (10, 120, 200))
    make_png(tmp_path / "photo.png", 640, 480, (200, 120, 10))
    make_mp4(tmp_path / "clip.mp4", width=1280, height=720, fps=24, seconds=4.0)
    make_wav(tmp_path / "voice.wav", 6.0)
    monkeypatch.chdir(tmp_path)
    failures = []
    for v in CATALOG:
        page = pages[f"{v.node_id}.md"]
        command = page.split("```bash\n", 1)[1].split("\n```", 1)[0]
        argv = shlex.split(command)
        assert argv[:2] == ["python", "."] and argv[-1] == "--dry-run", command
        capsys.readouterr()
        try:
            code = cli.main(argv[2:])
        except SystemExit as exc:  # argparse refused the flags
            code = exc.code
        out, err = capsys.readouterr()
        if code != 0 or v.endpoint not in out or "estimated cost" not in out:
            failures.append((command, err[-300:]))
    assert not failures, failures


def test_command_line_check(pages):
    """`python . help-pages --check` is what CI and the lead run; it agrees with the in-memory comparison."""
    import subprocess
    r = subprocess.run([sys.executable, str(help_pages.ROOT), "help-pages", "--check"], capture_output=True,
                       text=True, timeout=120)
    stale = help_pages.stale_pages(help_pages.DOCS_DIR, pages)
    assert r.returncode == (1 if stale else 0), r.stderr
    assert ("up to date" in r.stdout) if not stale else all(name in r.stderr for name in stale)
