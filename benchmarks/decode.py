"""Decode speed and peak memory: nodes/media_out/decode.py against ComfyUI's own decoder.

    python benchmarks/decode.py --video PATH [--comfyui-dir DIR] [--repeat 3]

Each decode runs in a fresh child process, so that each peak RSS (the child's
ru_maxrss from wait4: the most it ever had resident, interpreter and libraries
included) is its own. Only the decode call is timed; imports are not. The last line is

    speedup=<comfy_s / ours_s> peak_rss_ratio=<ours peak RSS / frames tensor bytes> ours_s=<s> comfy_s=<s>

with ours_s the median of the repeats, the ratio from the highest peak among
them, and the comfy fields ``n/a`` without --comfyui-dir.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs in the child: python -c CHILD <ours|comfy> <video> <root or comfyui dir>
CHILD = r"""
import json, sys, time
which, video, where = sys.argv[1:4]

def vm(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0

if which == "ours":
    import importlib.util
    # The pack by file path, under a fixed name: neither ComfyUI nor an installed pack is needed.
    spec = importlib.util.spec_from_file_location("comfyui_kling_video", where + "/__init__.py",
                                                  submodule_search_locations=[where])
    pack = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = pack
    spec.loader.exec_module(pack)
    from comfyui_kling_video.nodes.media_out import decode as module
    baseline = vm("VmRSS")
    t0 = time.perf_counter()
    result = module.decode_video(video)
    seconds = time.perf_counter() - t0
    frames, audio = result.frames, result.audio
else:
    sys.path.insert(0, where)
    from comfy_api.latest import InputImpl
    baseline = vm("VmRSS")
    t0 = time.perf_counter()
    result = InputImpl.VideoFromFile(video).get_components()
    seconds = time.perf_counter() - t0
    frames, audio = result.images, result.audio
print(json.dumps({
    "seconds": seconds,
    "shape": list(frames.shape),
    "dtype": str(frames.dtype),
    "tensor_bytes": frames.numel() * frames.element_size(),
    "audio": list(audio["waveform"].shape) + [audio["sample_rate"]] if audio else None,
    "baseline_rss": baseline,
    "hwm_after_decode": vm("VmHWM"),
}), flush=True)
# Interpreter teardown with a 6 GB tensor still alive pages in ~120 MB more
# (library destructors), which would land on top of the peak; without the
# tensor it lands on a small process. So the child's whole-life peak (wait4's
# ru_maxrss) is the decode's peak.
del result, frames, audio
"""


def run_child(which: str, video: str, where: str) -> dict:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, which, video, where],
        stdout=subprocess.PIPE, text=True,
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{which} child failed with exit code {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss"] = usage.ru_maxrss * 1024  # KiB on Linux
    return result


def describe(which: str, i: int, r: dict) -> str:
    gib = 1024**3
    return (
        f"{which} run {i}: {r['seconds']:.2f} s, frames {r['shape']} {r['dtype']} "
        f"({r['tensor_bytes'] / gib:.2f} GiB), audio {r['audio']}, "
        f"RSS before decode {r['baseline_rss'] / gib:.3f} GiB, child peak RSS {r['peak_rss'] / gib:.3f} GiB "
        f"(VmHWM right after decode {r['hwm_after_decode'] / gib:.3f} GiB), "
        f"peak/tensor {r['peak_rss'] / r['tensor_bytes']:.4f}, "
        f"peak - before - tensor {(r['peak_rss'] - r['baseline_rss'] - r['tensor_bytes']) / 2**20:.0f} MiB"
    )


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--video", required=True)
    p.add_argument("--comfyui-dir", help="a ComfyUI checkout; compares with VideoFromFile.get_components()")
    p.add_argument("--repeat", type=int, default=3, help="decodes with ours (default 3); ComfyUI's runs once")
    args = p.parse_args(argv)
    video = str(Path(args.video).resolve())

    ours = []
    for i in range(1, args.repeat + 1):
        ours.append(run_child("ours", video, str(ROOT)))
        print(describe("ours", i, ours[-1]), flush=True)
    ours_s = statistics.median(r["seconds"] for r in ours)
    peak = max(r["peak_rss"] for r in ours)
    ratio = peak / ours[0]["tensor_bytes"]

    speedup = comfy_s = "n/a"
    if args.comfyui_dir:
        comfy = run_child("comfy", video, str(Path(args.comfyui_dir).resolve()))
        print(describe("comfy", 1, comfy), flush=True)
        if comfy["shape"] != ours[0]["shape"]:
            print(f"WARNING: frame shapes differ: ours {ours[0]['shape']} comfy {comfy['shape']}")
        comfy_s = f"{comfy['seconds']:.2f}"
        speedup = f"{comfy['seconds'] / ours_s:.2f}"
    print(f"speedup={speedup} peak_rss_ratio={ratio:.4f} ours_s={ours_s:.2f} comfy_s={comfy_s}")


if __name__ == "__main__":
    main()
