"""The benchmark scripts still run and print their figures line (their numbers are not checked here:
speed is measured by running them, never by timed tests)."""
import json
import pathlib
import re
import subprocess
import sys

from media import make_mp4

ROOT = pathlib.Path(__file__).resolve().parents[1]


def last_line(*args):
    r = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.strip().splitlines()[-1]


def test_encode_benchmark():
    line = last_line(ROOT / "benchmarks" / "encode.py", "--width", "640", "--height", "480", "--repeat", "1")
    assert re.fullmatch(r"ours_ms=[\d.]+ baseline_ms=[\d.]+ speedup=[\d.]+ mime=image/\w+ kb=\d+", line)


def test_completion_benchmark():
    line = last_line(ROOT / "benchmarks" / "completion.py", "--jobs", "1")
    assert re.fullmatch(r"sse_ms=\d+ poll_ms=\d+ poll_over_sse=[\d.]+ sse_requests=[\d.]+ poll_requests=[\d.]+", line)


def test_decode_benchmark(tmp_path):
    clip = make_mp4(tmp_path / "clip.mp4", width=320, height=240, fps=24, seconds=1.0)
    # The 4K case at a quarter second: the memory check must refuse it under the benchmark's limit.
    line = last_line(ROOT / "benchmarks" / "decode.py", "--video", clip, "--repeat", "1", "--uhd-seconds", "0.25")
    assert re.fullmatch(r"ours_over_floor=[\d.]+ ours_over_comfy=n/a peak_over_tensor=[\d.]+ floor_s=[\d.]+ "
                        r"ours_s=[\d.]+ comfy_s=n/a uhd=refused", line), line


def test_chain_benchmark():
    # Later hops carry the first result's URL: their bytes are a sliver of the first run's.
    line = last_line(ROOT / "benchmarks" / "chain.py", "--repeat", "1")  # its own 4 s 720p clip
    m = re.fullmatch(r"after_over_before_bytes=([\d.]+) later_hops_after_over_before_bytes=([\d.]+) "
                     r"after_over_before_s=[\d.]+ before_bytes=\d+ after_bytes=\d+ before_s=[\d.]+ after_s=[\d.]+", line)
    assert m, line
    assert float(m.group(2)) < 0.05, line


def test_batch_benchmark():
    # 6 jobs, then 12; on fal and on Kling's API, killed after 3 accepted submits and run again: on Kling every job
    # is made with one submit each (a cut-off submit is found by its external_task_id); on fal every job is made
    # or reported cut off, none twice.
    line = last_line(ROOT / "benchmarks" / "batch.py", "--quick", "--jobs", "6", "--long-jobs", "12", "--concurrency",
                     "2", "3", "--queue-seconds", "0.1", "--progress-seconds", "0.2", "--singles", "1")
    figures = json.loads(line)
    assert figures["missed"] == [], line
    assert figures["resume_fal_paid_twice"] == figures["resume_kling_paid_twice"] == 0, line
    assert figures["resume_fal_results"] + figures["resume_fal_cut_off"] == 6, line
    assert figures["resume_kling_results"] == figures["resume_kling_submits"] == 6, line
    assert {"wall_over_ideal_c2", "wall_over_ideal_c3", "rss_mb_per_job_in_flight", "rss_kb_per_manifest_line",
            "status_requests_per_job_s_c3"} <= figures.keys(), line
