"""How fast does a job notice COMPLETED, and with how many requests: status stream (SSE) vs polling.

    .venv/bin/python benchmarks/completion.py [--jobs 6]

Runs real jobs against the tests' fake fal server (HTTPS on 127.0.0.1). Latency = time from the
fake marking the job COMPLETED to our result request; requests = status + stream requests per job.
Polling runs at the 1 request/second/job ceiling. Last line:
`sse_ms=<median> poll_ms=<median> poll_over_sse=<x> sse_requests=<per job> poll_requests=<per job>`.
"""
import argparse
import asyncio
import os
import pathlib
import random
import statistics
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from _pack import load_pack  # noqa: E402  (benchmarks/_pack.py)


def measure(fake, jobs: int, poll: bool, tmp: pathlib.Path):
    from comfyui_kling_video.nodes.catalog import variant
    from comfyui_kling_video.nodes.jobs.runner import Job, Limits
    from comfyui_kling_video.nodes.request import prepare

    latencies, requests = [], []
    for n in range(jobs):
        fake.progress_seconds = random.uniform(1.0, 2.0)
        if poll:
            fake.inject("stream", status=404, body={"detail": "Not Found"})
        start = len(fake.log)
        prepared = prepare(variant("t2v"), {"prompt": f"benchmark {n}"})
        done = asyncio.run(Job(prepared, tmp, limits=Limits(poll_interval=1.0)).run())
        entries = fake.log[start:]
        completed = next(e["t"] for e in entries if e.get("event") == "completed" and e["request_id"] == done.request_id)
        result = next(e["t"] for e in entries if e.get("op") == "result")
        latencies.append((result - completed) * 1000)
        requests.append(sum(1 for e in entries if e.get("op") in ("status", "stream")))
    return statistics.median(latencies), statistics.mean(requests)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=6)
    args = ap.parse_args()
    load_pack()
    from fakes.fal import FakeFal
    from media import make_mp4
    random.seed(1)
    with tempfile.TemporaryDirectory() as d:
        tmp = pathlib.Path(d)
        video = make_mp4(tmp / "result.mp4", width=160, height=120, fps=24, seconds=0.5).read_bytes()
        with FakeFal(tmp / "fake", key="bench-key-0123456789", video_bytes=video, queue_seconds=0.2) as fake:
            os.environ.update(FAL_KEY="bench-key-0123456789", FAL_QUEUE_RUN_HOST=fake.host,
                              FAL_RUN_HOST=fake.host, SSL_CERT_FILE=str(fake.ca_path))
            sse_ms, sse_req = measure(fake, args.jobs, False, tmp)
            poll_ms, poll_req = measure(fake, args.jobs, True, tmp)
    print(f"status stream: median {sse_ms:.0f} ms to notice completion, {sse_req:.1f} requests/job")
    print(f"polling 1/s:   median {poll_ms:.0f} ms to notice completion, {poll_req:.1f} requests/job")
    print(f"sse_ms={sse_ms:.0f} poll_ms={poll_ms:.0f} poll_over_sse={poll_ms / max(sse_ms, 1e-3):.1f} "
          f"sse_requests={sse_req:.1f} poll_requests={poll_req:.1f}")


if __name__ == "__main__":
    main()
