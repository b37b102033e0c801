"""Results passed on as URLs: bytes sent and wall time of a three-node chain, with and without URL passing.

    .venv/bin/python benchmarks/chain.py [--video /tmp/bench.mp4] [--speech-seconds 4] [--repeat 3]

Against the tests' fake fal (HTTPS on 127.0.0.1), the chain image-to-video (`i2v`) → lip sync (`lipsync-t2v`) →
video to audio (`video-to-audio`), each hop's VIDEO handed on the way ComfyUI does: a file-backed VIDEO
unwrapped by the adapter (comfyui/video_in.plain_inputs). The fake's result for every job is `--video` (default:
a 4 s 1280x720 clip made here; `benchmarks/make_video.py` makes the 10 s 1080p one the README quotes).
`before` passes `pass_urls=False` (the bytes travel: inline or through fal's storage), `after` the default.
Each chain runs with a journal of its own (no cache hits); the two alternate, `--repeat` rounds.
The AUDIO chain, image-to-video and text to speech (`tts`) → lip sync with that audio (`lipsync-a2v`), hands
the speech on as the node does: decoded, remembered (comfyui/audio_in.py); its line before the last says what
lip sync sent (`--speech-seconds` of MP3 from the fake's text to speech).
Bytes = the request bodies the fake received for submits and fal storage uploads. Last line:
`after_over_before_bytes=<r> later_hops_after_over_before_bytes=<r> after_over_before_s=<r> before_bytes=<n>
after_bytes=<n> before_s=<s> after_s=<s>` (bytes of one chain, and of hops 2-3 alone: hop 1 sends the user's
image either way; seconds: medians over the rounds).
"""
import argparse
import asyncio
import os
import pathlib
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from _pack import load_pack  # noqa: E402  (benchmarks/_pack.py)

SENT_OPS = ("submit", "upload", "multipart", "part", "complete", "initiate", "put")


class FileVideo:
    """What core Load Video hands the next node: a VIDEO backed by a whole file."""

    def __init__(self, path):
        self.path = path

    def get_stream_source(self):
        return str(self.path)


def hopper(tmp: pathlib.Path, pass_urls: bool, after_hop):
    """hop(variant key, node inputs) -> the result's file: one node's run, its inputs handed over as the adapter
    hands them (comfyui/video_in.plain_inputs)."""
    from comfyui_kling_video.nodes.catalog import variant
    from comfyui_kling_video.nodes.comfyui.video_in import plain_inputs
    from comfyui_kling_video.nodes.jobs.generate import generate
    from comfyui_kling_video.nodes.request import prepare

    def hop(key, inputs):
        _, done = asyncio.run(generate(lambda: prepare(variant(key), plain_inputs(inputs, pass_urls)), tmp / "out"))
        after_hop()
        return done.path
    return hop


def face(hop) -> pathlib.Path:
    import torch
    image = torch.rand(1, 720, 1280, 3, generator=torch.Generator().manual_seed(1))
    return hop("i2v", {"start_frame": image, "prompt": "a face looks at the camera"})


def chain(tmp: pathlib.Path, pass_urls: bool, after_hop=lambda: None) -> pathlib.Path:
    hop = hopper(tmp, pass_urls, after_hop)
    video = hop("lipsync-t2v", {"video": FileVideo(face(hop)), "text": "hello from the benchmark",
                                "voice_id": "AOT"})
    return hop("video-to-audio", {"video": FileVideo(video), "sound_effect_prompt": "birds",
                                  "background_music_prompt": "calm piano"})


def audio_chain(tmp: pathlib.Path, pass_urls: bool, after_hop=lambda: None) -> pathlib.Path:
    from comfyui_kling_video.nodes.comfyui import audio_in
    from comfyui_kling_video.nodes.media_out.kinds import KINDS
    hop = hopper(tmp, pass_urls, after_hop)
    video = face(hop)
    speech = hop("tts", {"text": "hello from the benchmark"})
    audio = KINDS["audio"].decoder(speech)["audio"]  # what the TTS node outputs (comfyui/nodes.py)
    audio_in.remember(audio, speech)
    return hop("lipsync-a2v", {"video": FileVideo(video), "audio": audio})


def measure(fake, tmp: pathlib.Path, pass_urls: bool, run=chain) -> tuple[list[int], float]:
    """Bytes sent by each hop, and the chain's wall time."""
    os.environ["KLING_VIDEO_HOME"] = str(tmp / "home")  # a journal of its own: no cache hit from another run
    marks = [len(fake.log.snapshot())]
    t = time.perf_counter()
    run(tmp, pass_urls, lambda: marks.append(len(fake.log.snapshot())))
    seconds = time.perf_counter() - t
    log = fake.log.snapshot()
    sent = [sum(e.get("size") or 0 for e in log[a:b] if e.get("op") in SENT_OPS) for a, b in zip(marks, marks[1:])]
    return sent, seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--video", help="the MP4 every fake job returns (default: a 4 s 1280x720 clip)")
    ap.add_argument("--speech-seconds", type=float, default=4.0, help="text to speech's result (MP3, 24 kHz mono)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    load_pack()
    from fakes.fal import FakeFal
    from media import make_mp4
    with tempfile.TemporaryDirectory() as d:
        tmp = pathlib.Path(d)
        clip = pathlib.Path(args.video) if args.video else make_mp4(tmp / "clip.mp4", width=1280, height=720,
                                                                    fps=24, seconds=4.0)
        speech = make_mp4(tmp / "speech.mp3", video=False, audio_codec="libmp3lame", seconds=args.speech_seconds,
                          channels=1, sample_rate=24000)
        with FakeFal(tmp / "fake", key="bench-key-0123456789", video_bytes=clip.read_bytes(), queue_seconds=0.1,
                     progress_seconds=0.2, audio_bytes=speech.read_bytes()) as fake:
            os.environ.update(FAL_KEY="bench-key-0123456789", FAL_QUEUE_RUN_HOST=fake.host, FAL_RUN_HOST=fake.host,
                              FAL_REST_HOST=fake.host, FAL_API_HOST=fake.host, SSL_CERT_FILE=str(fake.ca_path))
            runs = {False: [], True: []}
            for n in range(args.repeat):
                for pass_urls in (False, True):
                    sent, seconds = measure(fake, tmp / f"{n}-{pass_urls}", pass_urls)
                    runs[pass_urls].append((sent, seconds))
                    print(f"round {n + 1} {'after ' if pass_urls else 'before'}: "
                          f"{' + '.join(f'{b / 1e6:.3f}' for b in sent)} MB sent by the hops, {seconds:6.2f} s")
            # Lip sync's bytes with the AUDIO (and the VIDEO) handed on: its hop alone, the last of the chain.
            lipsync = {p: measure(fake, tmp / f"audio-{p}", p, audio_chain)[0][-1] for p in (False, True)}
    before_b, after_b = (sum(runs[k][-1][0]) for k in (False, True))
    # Hop 1 sends the user's image either way: what URL passing changes is what the later hops send.
    later_before, later_after = (sum(runs[k][-1][0][1:]) for k in (False, True))
    before_s = statistics.median(s for _, s in runs[False])
    after_s = statistics.median(s for _, s in runs[True])
    print(f"video {clip.stat().st_size / 1e6:.1f} MB" if args.video else "video: 4 s 1280x720 made here")
    print(f"audio chain (i2v, tts -> lipsync-a2v, {args.speech_seconds:g} s of speech): lipsync_before_bytes="
          f"{lipsync[False]} lipsync_after_bytes={lipsync[True]} lipsync_after_over_before_bytes="
          f"{lipsync[True] / lipsync[False]:.5f}")
    print(f"after_over_before_bytes={after_b / before_b:.4f} later_hops_after_over_before_bytes="
          f"{later_after / later_before:.5f} after_over_before_s={after_s / before_s:.3f} before_bytes={before_b} "
          f"after_bytes={after_b} before_s={before_s:.2f} after_s={after_s:.2f}")


if __name__ == "__main__":
    main()
