"""The benchmark scripts still run and print their figures line (their numbers are not checked here:
speed is measured by running them, never by timed tests)."""
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
