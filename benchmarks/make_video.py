"""Write a benchmark clip: H.264 (libx264, yuv420p) + AAC stereo 44.1 kHz.

    python benchmarks/make_video.py OUT.mp4 [--seconds 10 --width 1920 --height 1080 --fps 24]

The picture is moving gradients under moving grain with a sliding block
(``tests/media.py:busy_frame``), so every frame carries real residual like footage
does; a flat colour would make decoding unrealistically cheap.
"""
from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load_media():
    # By file path: the pack need not be installed or importable as a package.
    spec = importlib.util.spec_from_file_location("kling_test_media", ROOT / "tests" / "media.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--width", type=int, default=1920)
    p.add_argument("--height", type=int, default=1080)
    p.add_argument("--fps", type=float, default=24.0)
    p.add_argument("--preset", default="veryfast", help="libx264 preset (default: veryfast)")
    p.add_argument("--crf", type=int, default=20)
    p.add_argument("--tone-hz", type=float, default=440.0)
    args = p.parse_args(argv)

    media = _load_media()
    t0 = time.perf_counter()
    media.make_mp4(
        args.out, width=args.width, height=args.height, fps=args.fps, seconds=args.seconds,
        tone_hz=args.tone_hz, content="busy", preset=args.preset, crf=args.crf,
    )
    size = Path(args.out).stat().st_size
    print(f"wrote {args.out}: {args.width}x{args.height} {args.fps:g} fps {args.seconds:g} s, "
          f"{size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
