"""Time IMAGE → data URI for one frame: ours vs the usual way (torch clamp → PNG at PIL's default level).

    .venv/bin/python benchmarks/encode.py [--width 1920 --height 1080 --repeat 20]

Last line: `ours_ms=<median> baseline_ms=<median> speedup=<x> mime=<ours> kb=<ours size>`.
"""
import argparse
import base64
import io
import statistics
import time

import numpy as np
import torch
from PIL import Image

import _pack  # benchmarks/_pack.py

def load_pack():
    _pack.load_pack()
    from comfyui_kling_video.nodes.media_in import encode as media_in
    return media_in


def test_frame(height, width):
    """A photo-like frame: smooth gradients plus sensor-like noise (flat colours would flatter PNG)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([x / width, y / height, ((x + y) % 256) / 255], -1)
    img += np.random.default_rng(0).normal(0, 0.03, img.shape).astype(np.float32)
    return torch.from_numpy(np.clip(img, 0, 1))[None]


def baseline(image):
    arr = image[0].mul(255).clamp(0, 255).to(torch.uint8).numpy()
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def median_ms(fn, image, repeat):
    fn(image)  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(image)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    media_in = load_pack()
    image = test_frame(args.height, args.width)
    ours, uri = median_ms(lambda im: media_in.encode_image(im, "start_frame").data_uri(), image, args.repeat)
    base, _ = median_ms(baseline, image, max(3, args.repeat // 4))
    mime = uri[5:uri.index(";")]
    size_kb = len(base64.b64decode(uri.split(",", 1)[1])) // 1024
    print(f"{args.width}x{args.height}: ours {ours:.1f} ms ({mime}, {size_kb} KB), baseline PNG {base:.1f} ms")
    print(f"ours_ms={ours:.1f} baseline_ms={base:.1f} speedup={base / ours:.1f} mime={mime} kb={size_kb}")


if __name__ == "__main__":
    main()
