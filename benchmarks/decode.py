"""Decode speed and peak memory: nodes/media_out/decode.py against PyAV alone and ComfyUI's own decoder, and the
memory check on a 4K clip.

    python benchmarks/decode.py --video PATH [--comfyui-dir DIR] [--repeat 5] [--uhd-seconds 1]

Every decode runs in a fresh child process, so that each peak RSS (the child's ru_maxrss from wait4: the most
it ever had resident, interpreter and libraries included) is its own. Only the decode call is timed; imports
are not. Three decoders:

- floor: PyAV alone, the same demux and threads as ours, every picture to rgb24 (the conversion ours and
  ComfyUI 0.3.x use) and the audio decoded, but no tensor: what decoding costs before any float32 is written;
- ours: decode_video(path), the float32 [N, H, W, 3] frames tensor and the soundtrack;
- comfy (with --comfyui-dir): VideoFromFile(path).get_components() of that ComfyUI, once (it needs ~3x the
  tensor's memory).

floor and ours alternate, --repeat rounds; each round's ours/floor is a ratio of two runs seconds apart on the
same machine, and the spread of those ratios says how noisy the machine is. Then the 4K case: a clip made by
tests/media.py (--uhd-seconds of 3840x2160, 0 skips it) decoded under a memory limit set to half its tensor
(plus the decoder's reserve), with the child's address space capped just as tight: the memory check must refuse
it (NotEnoughMemory, not torch's allocation failure), and the frames node's selection (1280 px) must fit. The
last line is

    ours_over_floor=<r> ours_over_comfy=<r|n/a> peak_over_tensor=<r> floor_s=<s> ours_s=<s> comfy_s=<s|n/a> uhd=<refused|FAILED|skipped>

with the ratio the median of the rounds' ratios, the times their medians, peak_over_tensor from the highest
peak among ours' runs.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs in the child: python -c CHILD <floor|ours|comfy|refuse|scaled> <video> <root or comfyui dir> <limit>
CHILD = r"""
import json, resource, sys, time
which, video, where, limit = sys.argv[1:5]
limit = int(limit)

def vm(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0

report = {}
if which != "comfy":
    import runpy
    # The pack by file path, under a fixed name: neither ComfyUI nor an installed pack is needed.
    runpy.run_path(where + "/nodes/devtools/pack_loader.py")["load_pack"](where)
    from comfyui_kling_video.nodes.media_out import decode as module
    from comfyui_kling_video.nodes.media_out.selection import FrameSelection
    import av
if which == "floor":
    def decode():
        # What decode_video does minus the tensor: same streams, same decoder threads, same swscale call.
        with av.open(video) as container:
            vstream = container.streams.video[0]
            vstream.thread_type = "AUTO"
            astream = container.streams.audio[0] if container.streams.audio else None
            n = 0
            for packet in container.demux([s for s in (vstream, astream) if s is not None]):
                for frame in packet.decode():
                    if packet.stream is vstream:
                        frame.to_ndarray(format="rgb24", threads=1)
                        n += 1
        return n
elif which == "ours":
    decode = lambda: module.decode_video(video)
elif which == "scaled":
    decode = lambda: module.decode_video(video, selection=FrameSelection(size=1280), memory_available=limit)
elif which == "refuse":
    from comfyui_kling_video.nodes.media_out.memory import NotEnoughMemory
    # An address space with no room for the tensor: allocating before checking fails here, loudly.
    resource.setrlimit(resource.RLIMIT_AS, (vm("VmSize") + limit, resource.RLIM_INFINITY))
    def decode():
        try:
            module.decode_video(video, memory_available=limit)
        except NotEnoughMemory as e:
            report.update(refused=True, need=e.need, available=e.available, message=str(e))
else:
    sys.path.insert(0, where)
    from comfy_api.latest import InputImpl
    decode = lambda: InputImpl.VideoFromFile(video).get_components()
baseline = vm("VmRSS")
cpu0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
result = decode()
seconds = time.perf_counter() - t0
cpu1 = resource.getrusage(resource.RUSAGE_SELF)
report.update(seconds=seconds, baseline_rss=baseline, hwm_after_decode=vm("VmHWM"),
              user=cpu1.ru_utime - cpu0.ru_utime, sys=cpu1.ru_stime - cpu0.ru_stime)
frames = getattr(result, "frames", getattr(result, "images", None))
if frames is not None:
    report.update(shape=list(frames.shape), tensor_bytes=frames.numel() * frames.element_size())
print(json.dumps(report), flush=True)
# Interpreter teardown with a 6 GB tensor still alive pages in ~120 MB more
# (library destructors), which would land on top of the peak; without the
# tensor it lands on a small process. So the child's whole-life peak (wait4's
# ru_maxrss) is the decode's peak.
del result, frames
"""

GiB = 1024**3
RESERVE = 512 * 1024**2  # nodes/media_out/memory.py RESERVE: the decoder's room beside the tensor


def run_child(which: str, video: str, where: str, limit: int = 0) -> dict:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, which, video, where, str(limit)],
                            stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{which} child failed with exit code {code}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss"] = usage.ru_maxrss * 1024  # KiB on Linux
    return result


def describe(which: str, i: int, r: dict) -> str:
    line = (f"{which} run {i}: {r['seconds']:.2f} s (cpu {r['user']:.2f} user + {r['sys']:.2f} sys), "
            f"RSS before {r['baseline_rss'] / GiB:.3f} GiB, peak {r['peak_rss'] / GiB:.3f} GiB")
    if "tensor_bytes" in r:
        line += (f", frames {r['shape']} ({r['tensor_bytes'] / GiB:.2f} GiB), "
                 f"peak/tensor {r['peak_rss'] / r['tensor_bytes']:.4f}, "
                 f"peak - before - tensor {(r['peak_rss'] - r['baseline_rss'] - r['tensor_bytes']) / 2**20:.0f} MiB")
    return line


def uhd_case(seconds: float) -> str:
    """The memory check on a 4K clip: refused cleanly under a limit, decoded at 1280 px under the same one."""
    sys.path.insert(0, str(ROOT / "tests"))
    import media  # the benchmark's own media maker (benchmarks/make_video.py uses it too)
    with tempfile.TemporaryDirectory(prefix="kling-bench-") as tmp:
        clip = str(media.make_mp4(Path(tmp) / "uhd.mp4", width=3840, height=2160, fps=24, seconds=seconds))
        n = round(24 * seconds)
        tensor = n * 2160 * 3840 * 3 * 4
        limit = tensor // 2 + RESERVE
        refused = run_child("refuse", clip, str(ROOT), limit)
        print(f"uhd: {n} frames of 3840x2160 need {tensor / GiB:.2f} GiB; limit {limit / GiB:.2f} GiB "
              f"(and the child's address space +{limit / GiB:.2f} GiB): "
              f"{'refused' if refused.get('refused') else 'NOT refused'} in {refused['seconds'] * 1000:.0f} ms, "
              f"peak RSS {refused['peak_rss'] / GiB:.3f} GiB (before {refused['baseline_rss'] / GiB:.3f})", flush=True)
        if refused.get("refused"):
            print(f"uhd message: {refused['message']}", flush=True)
        scaled = run_child("scaled", clip, str(ROOT), limit)
        print(describe("uhd at 1280 px under the same limit", 1, scaled), flush=True)
        ok = refused.get("refused") and refused["need"] == tensor and scaled["shape"] == [n, 720, 1280, 3]
        return "refused" if ok else "FAILED"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--video", required=True)
    p.add_argument("--comfyui-dir", help="a ComfyUI checkout; compares with VideoFromFile.get_components()")
    p.add_argument("--repeat", type=int, default=3, help="rounds of floor + ours (default 3); ComfyUI's runs once")
    p.add_argument("--uhd-seconds", type=float, default=1.0, help="length of the 4K clip (default 1; 0 skips it)")
    args = p.parse_args(argv)
    video = str(Path(args.video).resolve())

    floor, ours = [], []
    for i in range(1, args.repeat + 1):
        floor.append(run_child("floor", video, str(ROOT)))
        print(describe("floor", i, floor[-1]), flush=True)
        ours.append(run_child("ours", video, str(ROOT)))
        print(describe("ours", i, ours[-1]) + f"; ours/floor this round {ours[-1]['seconds'] / floor[-1]['seconds']:.2f}",
              flush=True)
    ratios = sorted(o["seconds"] / f["seconds"] for o, f in zip(ours, floor))
    floor_s = statistics.median(r["seconds"] for r in floor)
    ours_s = statistics.median(r["seconds"] for r in ours)
    over_floor = statistics.median(ratios)
    print(f"ours/floor per round: {', '.join(f'{r:.2f}' for r in ratios)} (median {over_floor:.2f}); "
          f"cpu seconds, median: floor {statistics.median(r['user'] + r['sys'] for r in floor):.2f}, "
          f"ours {statistics.median(r['user'] + r['sys'] for r in ours):.2f} "
          f"(of which sys {statistics.median(r['sys'] for r in ours):.2f})", flush=True)
    peak = max(r["peak_rss"] for r in ours) / ours[0]["tensor_bytes"]

    over_comfy = comfy_s = "n/a"
    if args.comfyui_dir:
        comfy = run_child("comfy", video, str(Path(args.comfyui_dir).resolve()))
        print(describe("comfy", 1, comfy), flush=True)
        if comfy["shape"] != ours[0]["shape"]:
            print(f"WARNING: frame shapes differ: ours {ours[0]['shape']} comfy {comfy['shape']}")
        comfy_s = f"{comfy['seconds']:.2f}"
        over_comfy = f"{ours_s / comfy['seconds']:.3f}"

    uhd = uhd_case(args.uhd_seconds) if args.uhd_seconds > 0 else "skipped"
    print(f"ours_over_floor={over_floor:.2f} ours_over_comfy={over_comfy} peak_over_tensor={peak:.4f} "
          f"floor_s={floor_s:.2f} ours_s={ours_s:.2f} comfy_s={comfy_s} uhd={uhd}")


if __name__ == "__main__":
    main()
