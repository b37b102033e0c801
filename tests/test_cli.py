"""README's main command, run as a user would: `python <pack folder> ...` in a subprocess."""
import os
import pathlib
import subprocess
import sys

from media import make_png

ROOT = pathlib.Path(__file__).resolve().parents[1]


def cli(*args, env=None, cwd=None):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FAL_", "KLINGAI_", "AIMLAPI_", "AI_GATEWAY_"))}
    return subprocess.run([sys.executable, str(ROOT), *args], capture_output=True, text=True, timeout=120,
                          env={**base, **(env or {})}, cwd=cwd)


def fal_cli_env(fake) -> dict:
    """The environment that points a CLI subprocess at a fake fal."""
    return {"FAL_KEY": fake.key, "FAL_QUEUE_RUN_HOST": fake.host, "FAL_RUN_HOST": fake.host,
            "FAL_REST_HOST": fake.host, "FAL_API_HOST": fake.host, "SSL_CERT_FILE": str(fake.ca_path)}


def test_without_key_says_what_is_missing(tmp_path):
    r = cli("t2v", "--prompt", "a boat", "--out", str(tmp_path / "out.mp4"))
    assert r.returncode == 2
    assert "No key is set" in r.stderr and "FAL_KEY" in r.stderr and "fal.ai/dashboard/keys" in r.stderr
    assert "KLINGAI_ACCESS_KEY" in r.stderr and "AIMLAPI_KEY" in r.stderr
    assert not (tmp_path / "out.mp4").exists()


def test_dry_run_prints_request_and_cost_without_key(tmp_path):
    make_png(tmp_path / "start.png", 1280, 720, (10, 120, 200))
    r = cli("i2v", "--image", str(tmp_path / "start.png"), "--prompt", "hello", "--duration", "10", "--dry-run")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "POST https://queue.fal.run/fal-ai/kling-video/v2.6/pro/image-to-video" in out
    assert '"start_image_url": "data:image/jpeg;base64,…[' in out and len(out) < 6000
    assert '"duration": "10"' in out and "$1.40" in out
    # every provider that serves the variant, each in its own wire format
    assert "POST https://api-singapore.klingai.com/v1/videos/image2video" in out and '"image": "…[' in out
    assert "POST https://api.aimlapi.com/v2/video/generations" in out and '"duration": 10' in out
    assert "POST https://ai-gateway.vercel.sh/v4/ai/video-model/start" in out and '"frameImages"' in out


def test_dry_run_names_a_field_a_provider_cannot_take(tmp_path):
    make_png(tmp_path / "start.png", 640, 480, (10, 120, 200))
    r = cli("i2v", "--image", str(tmp_path / "start.png"), "--prompt", "<<<voice_1>>> hi", "--voice-ids", "v1",
            "--provider", "aimlapi", "--dry-run")
    assert r.returncode == 1
    assert "voice_ids: AI/ML API cannot take it; fal.ai, Kling, Vercel AI Gateway can" in r.stderr


def test_bad_input_is_refused(tmp_path):
    make_png(tmp_path / "small.png", 200, 200)
    r = cli("i2v", "--image", str(tmp_path / "small.png"), "--prompt", "x", "--dry-run")
    assert r.returncode == 1 and "start_frame: 200x200 px is smaller than the 300x300 minimum" in r.stderr


def test_makes_a_video_against_fal(fal_env, tmp_path):
    env = {k: os.environ[k] for k in ("FAL_KEY", "FAL_QUEUE_RUN_HOST", "FAL_RUN_HOST", "FAL_API_HOST", "SSL_CERT_FILE")}
    r = cli("t2v", "--prompt", "a paper boat", "--no-generate-audio", "--out", str(tmp_path / "boat.mp4"), env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "boat.mp4").read_bytes() == fal_env.video_bytes
    assert fal_env.submits()[0]["json"]["generate_audio"] is False
    assert "$0.35" in r.stderr and fal_env.submits()[0]["request_id"] in r.stdout
    assert env["FAL_KEY"] not in r.stdout + r.stderr


def test_readme_node_table_is_the_catalog():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- nodes-table:start -->\n")[1].split("\n<!-- nodes-table:end -->")[0]
    r = cli("table")
    assert r.returncode == 0 and table == r.stdout.rstrip("\n"), "run `python . table` and paste it into README.md"


def test_readme_provider_table_is_the_catalog():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- providers-table:start -->\n")[1].split("\n<!-- providers-table:end -->")[0]
    r = cli("table", "--providers")
    assert r.returncode == 0 and table == r.stdout.rstrip("\n"), \
        "run `python . table --providers` and paste it into README.md"
    assert "| Kling 2.6 Pro Image to Video | fal.ai |" in table and "klingai/video-o1-reference-to-video" in table


def test_lipsync_dry_run_with_media_files(tmp_path):
    from media import make_mp4
    clip = make_mp4(tmp_path / "face.mp4", width=1280, height=720, fps=24, seconds=3.0)
    r = cli("lipsync-a2v", "--video", str(clip), "--audio", str(clip), "--dry-run")
    assert r.returncode == 0, r.stderr
    assert '"video_url": "data:video/mp4;base64,…[' in r.stdout and '"audio_url": "data:audio/wav;base64,…[' in r.stdout
    assert "$0.07 (5 s × $0.014/s, billed on the video length)" in r.stdout  # 3 s rounded up to 5 s


def test_dry_run_works_for_every_variant(tmp_path, capsys):
    # In this process (the CLI's own main()), not one subprocess per variant: 70 interpreter start-ups took
    # minutes. The subprocess path is covered by the other tests here.
    from comfyui_kling_video.nodes.catalog import CATALOG
    from comfyui_kling_video.nodes.catalog.kling_only import GENERATED
    from comfyui_kling_video.nodes.cli.main import main
    from media import make_mp4
    png = make_png(tmp_path / "start.png", 640, 480, (10, 120, 200))
    clip = make_mp4(tmp_path / "clip.mp4", width=1280, height=720, fps=24, seconds=6.0)
    files = {"image": [str(png)], "images": [str(png)], "mask": None, "video": [str(clip)], "audio": [str(clip)]}
    failures = []
    for v in CATALOG + GENERATED:
        args = [v.key, "--dry-run"]
        for f in v.fields:
            if f.required and f.kind in files:
                args += [f"--{f.name.replace('_', '-')}", *files[f.kind]]
            elif f.required and f.kind == "text":
                args += [f"--{f.name.replace('_', '-')}", "a test"]
        if v.has("prompt") and not v.field("prompt").required:
            args += ["--prompt", "a test"]
        try:
            code = main(args)
        except SystemExit as exc:  # argparse refusing the arguments
            code = exc.code
        out, err = capsys.readouterr()
        model = v.endpoint or v.offers[0].model.split("/")[0]
        if code != 0 or model not in out or "estimated cost" not in out:
            failures.append((v.key, err[-300:]))
    assert not failures, failures
