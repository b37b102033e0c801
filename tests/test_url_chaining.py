"""Results passed on as URLs: a VIDEO the pack downloaded goes to the next request as its provider's URL (no
upload, no data URI), and as bytes again when the file was changed or the URL has expired. Against the fake fal
over HTTPS, through the adapter's own unwrapping of ComfyUI's VIDEO (comfyui/video_in.plain_inputs)."""
import asyncio
import os
import time

import pytest
import torch

from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.comfyui.video_in import plain_inputs
from comfyui_kling_video.nodes.jobs import download, lineage
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.jobs.journal import Journal
from comfyui_kling_video.nodes.request import prepare

I2V, LIPSYNC = variant("i2v"), variant("lipsync-t2v")
UPLOADS = ("upload", "multipart", "part", "complete", "initiate", "put")


class FileVideo:
    """What core Load Video hands a node: a VIDEO backed by a whole file (VideoFromFile's methods)."""

    def __init__(self, path):
        self.path = path

    def get_stream_source(self):
        return str(self.path)


@pytest.fixture
def fal_720p(fal_env):
    """The fake's results as a 3 s 1280x720 clip: what lip sync takes (2-60 s, 720-1920 px)."""
    from media import make_mp4
    fal_env.video_bytes = make_mp4(fal_env.tmpdir / "r720.mp4", width=1280, height=720, fps=24,
                                   seconds=3.0).read_bytes()
    return fal_env


def first_hop(tmp_path):
    image = torch.rand(1, 480, 640, 3, generator=torch.Generator().manual_seed(7))
    _, done = asyncio.run(generate(lambda: prepare(I2V, {"start_frame": image, "prompt": "a face"}),
                                   tmp_path / "out"))
    return done


def second_hop(tmp_path, path, **options):
    inputs = plain_inputs({"video": FileVideo(path), "text": "hello there", "voice_id": "AOT"}, **options)
    return asyncio.run(generate(lambda: prepare(LIPSYNC, inputs), tmp_path / "out"))


def test_second_hop_sends_the_first_result_url(fal_720p, tmp_path):
    done = first_hop(tmp_path)
    first_url = done.result["video"]["url"]
    record = Journal().all()[0]
    assert record["url"] == first_url and record["size"] == done.path.stat().st_size
    second_hop(tmp_path, done.path)
    hop2 = fal_720p.submits()[-1]
    assert hop2["path"].endswith("/lipsync/text-to-video")
    assert hop2["json"]["video_url"] == first_url
    assert not any(fal_720p.count(op) for op in UPLOADS)
    assert hop2["size"] < 1000  # the URL, not a megabyte of base64


def test_without_url_passing_the_bytes_travel(fal_720p, tmp_path):
    done = first_hop(tmp_path)
    second_hop(tmp_path, done.path, pass_urls=False)
    assert fal_720p.submits()[-1]["json"]["video_url"].startswith("data:video/mp4;base64,")


def test_a_changed_file_goes_as_bytes(fal_720p, tmp_path):
    done = first_hop(tmp_path)
    from media import make_mp4
    make_mp4(done.path, width=1280, height=720, fps=24, seconds=2.5)  # edited in place since the download
    second_hop(tmp_path, done.path)
    assert fal_720p.submits()[-1]["json"]["video_url"].startswith("data:video/mp4;base64,")


def test_a_changed_file_with_the_same_size_and_mtime_goes_as_bytes(fal_720p, tmp_path):
    done = first_hop(tmp_path)
    stat = done.path.stat()
    data = bytearray(done.path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a byte of a frame in mdat: the file still opens
    done.path.write_bytes(bytes(data))
    os.utime(done.path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second_hop(tmp_path, done.path)
    assert fal_720p.submits()[-1]["json"]["video_url"].startswith("data:video/mp4;base64,")


def test_an_expired_url_goes_as_bytes(fal_720p, tmp_path):
    done = first_hop(tmp_path)
    journal = Journal()
    record = journal.all()[0]
    # fal states no lifetime for its outputs (an account setting): trusted for a day
    assert record["url_expires"] == pytest.approx(time.time() + download.UNSTATED_URL_LIFETIME, abs=120)
    journal.update(record["key"], url_expires=time.time() + lineage.URL_MARGIN / 2)  # about to expire
    assert lineage.passable_url(done.path) is None
    second_hop(tmp_path, done.path)
    assert fal_720p.submits()[-1]["json"]["video_url"].startswith("data:video/mp4;base64,")


def test_a_stated_lifetime_is_recorded(tmp_path):
    from comfyui_kling_video.nodes.jobs.download import saved_facts
    path = tmp_path / "v.mp4"
    path.write_bytes(b"x" * 10)
    facts = saved_facts(path, "https://example.com/v.mp4", "kling", now=1000.0)
    assert facts["url_expires"] == 1000.0 + 30 * 86400 and facts["size"] == 10
    assert saved_facts(path, "data:video/mp4;base64,eA==", "vercel") == {"url": None}


def test_wire_forms_and_upload_plan():
    """fal and AI/ML API take the URL (Kling's API, unsure, keeps the bytes); fal's upload plan
    never uploads a file it can name by URL, and counts it as the URL's length."""
    from comfyui_kling_video.nodes.media_in.media import Media
    from comfyui_kling_video.nodes.providers import aimlapi, fal
    from comfyui_kling_video.nodes.providers.body_limits import upload_plan
    url = "https://v3b.fal.media/files/b/x_output.mp4"
    big = Media(b"\0" * 5_000_000, "video/mp4", "video.mp4", url=url)
    body = {"prompt": "p", "video_url": big}
    assert fal.wire("fal-ai/kling-video/video-to-audio", body)["video_url"] == url
    assert aimlapi.wire("klingai/video-v2-6-pro-motion-control", {"prompt": "p", "video_url": Media(
        b"\0" * 100, "video/mp4", "video.mp4", url=url)})["video_url"] == url
    assert upload_plan(body, fal.LIMITS) == []
    assert upload_plan({"video_url": Media(big.data, big.mime, big.name)}, fal.LIMITS)  # without a URL: uploaded
    assert Media(b"a", "video/mp4", "v.mp4", url=url) == Media(b"a", "video/mp4", "v.mp4")  # same request


def test_a_saved_result_is_still_its_path():
    """Readers that want the file (Kling Extend finds the job by the path) get it from a SavedResult."""
    from comfyui_kling_video.nodes.media_in.media import SavedResult
    saved = SavedResult("/tmp/x.mp4", "https://example.com/x.mp4", "0" * 64)
    assert isinstance(saved, os.PathLike) and os.fspath(saved) == "/tmp/x.mp4"


# -- AUDIO: an audio result handed on (comfyui/audio_in.py), and CLI paths (cli/inputs.py) --------------------

TTS, LIPSYNC_AUDIO = variant("tts"), variant("lipsync-a2v")


@pytest.fixture
def fal_av(fal_720p, tmp_path):
    """fal_720p, and text to speech answering 3 s of MP3: what lip sync's audio takes (2-60 s)."""
    from media import make_mp4
    fal_720p.audio_bytes = make_mp4(tmp_path / "speech.mp3", video=False, audio_codec="libmp3lame", seconds=3.0,
                                    channels=1, sample_rate=24000).read_bytes()
    return fal_720p


def speech(tmp_path):
    """A TTS result as the node hands it on: the AUDIO decoded from the file, remembered (comfyui/nodes.py)."""
    from comfyui_kling_video.nodes.comfyui import audio_in
    from comfyui_kling_video.nodes.media_out.kinds import KINDS
    _, done = asyncio.run(generate(lambda: prepare(TTS, {"text": "hello there"}), tmp_path / "out"))
    audio = KINDS["audio"].decoder(done.path)["audio"]
    audio_in.remember(audio, done.path)
    return done, audio


def lipsync_audio(tmp_path, video_path, audio, **options):
    inputs = plain_inputs({"video": FileVideo(video_path), "audio": audio}, **options)
    return asyncio.run(generate(lambda: prepare(LIPSYNC_AUDIO, inputs), tmp_path / "out"))


def test_an_audio_result_goes_on_as_its_url(fal_av, tmp_path):
    face, (said, audio) = first_hop(tmp_path), speech(tmp_path)
    lipsync_audio(tmp_path, face.path, audio)
    hop = fal_av.submits()[-1]
    assert hop["path"].endswith("/lipsync/audio-to-video")
    assert hop["json"]["audio_url"] == said.result["audio"]["url"] and said.path.suffix == ".mp3"
    assert hop["json"]["video_url"] == face.result["video"]["url"]
    assert not any(fal_av.count(op) for op in UPLOADS) and hop["size"] < 1000


def test_the_request_is_the_same_whichever_way_the_audio_travels(fal_av, tmp_path):
    """The bytes encoded from the waveform stay the request's identity: an expired URL is no new paid job."""
    from comfyui_kling_video.nodes.jobs.generate import request_hash
    face, (_, audio) = first_hop(tmp_path), speech(tmp_path)
    ways = [prepare(LIPSYNC_AUDIO, plain_inputs({"video": FileVideo(face.path), "audio": audio}, pass_urls=p))
            for p in (True, False)]
    assert ways[0].body["audio_url"].url and not ways[1].body["audio_url"].url
    assert request_hash(ways[0]) == request_hash(ways[1])


@pytest.mark.parametrize("change", ["trimmed", "in place", "sample rate", "no URL passing"])
def test_a_changed_audio_goes_as_bytes(fal_av, tmp_path, change):
    face, (_, audio) = first_hop(tmp_path), speech(tmp_path)
    options = {}
    if change == "trimmed":  # what core Trim Audio Duration returns: a new dict around a slice
        audio = {"waveform": audio["waveform"][..., :-100], "sample_rate": audio["sample_rate"]}
    elif change == "in place":  # the same dict and tensor, its samples changed
        audio["waveform"].mul_(0.5)
    elif change == "sample rate":  # the same samples, said to be at another rate
        audio = {**audio, "sample_rate": audio["sample_rate"] // 2}
    else:
        options = {"pass_urls": False}
    lipsync_audio(tmp_path, face.path, audio, **options)
    hop = fal_av.submits()[-1]["json"]
    assert hop["audio_url"].startswith("data:audio/wav;base64,")
    assert (hop["video_url"] == face.result["video"]["url"]) == (change != "no URL passing")  # only the audio


def test_an_audio_whose_url_expired_goes_as_bytes(fal_av, tmp_path):
    face, (said, audio) = first_hop(tmp_path), speech(tmp_path)
    journal = Journal()
    key = next(r["key"] for r in journal.all() if r["url"] == said.result["audio"]["url"])
    journal.update(key, url_expires=time.time() + lineage.URL_MARGIN / 2)
    lipsync_audio(tmp_path, face.path, audio)
    assert fal_av.submits()[-1]["json"]["audio_url"].startswith("data:audio/wav;base64,")


def test_the_soundtrack_of_a_video_result_goes_as_bytes(fal_av, tmp_path):
    """Its file is an MP4, not the audio file an AUDIO field takes: even remembered, its URL is not passed."""
    from comfyui_kling_video.nodes.comfyui import audio_in
    from comfyui_kling_video.nodes.media_out.kinds import KINDS
    face = first_hop(tmp_path)
    soundtrack = KINDS["video"].decoder(face.path)["soundtrack"]
    audio_in.remember(soundtrack, face.path)
    assert audio_in.saved_audio(soundtrack) is None
    assert lineage.copy_of_download(face.path, "audio") is None and lineage.copy_of_download(face.path, "video")


def test_a_provider_file_over_the_field_limit_is_not_passed():
    import numpy as np
    from comfyui_kling_video.nodes.catalog import MediaLimits
    from comfyui_kling_video.nodes.media_in.encode import encode_audio
    from comfyui_kling_video.nodes.media_in.media import SavedAudio
    url = "https://v3b.fal.media/files/b/speech.mp3"
    wave = np.zeros((1, 1, 16000), np.float32)
    assert encode_audio(SavedAudio(wave, 16000, url, 90_000), "audio", MediaLimits(max_bytes=100_000)).url == url
    assert encode_audio(SavedAudio(wave, 16000, url, 200_000), "audio", MediaLimits(max_bytes=100_000)).url is None


def test_cli_paths_of_downloads_and_their_copies_go_as_urls(fal_av, tmp_path):
    """`--video`/`--audio` (cli/inputs.py): the journal's own file, or a byte-identical copy like --out's, goes
    as the provider's URL; a copy changed since, or a video result given as audio, as bytes."""
    import shutil
    from comfyui_kling_video.nodes.cli.inputs import load
    from comfyui_kling_video.nodes.media_in.media import SavedAudio, SavedResult
    face, (said, _) = first_hop(tmp_path), speech(tmp_path)
    out = shutil.copy(face.path, tmp_path / "face-out.mp4")  # what --out writes: a copy
    changed = tmp_path / "face-changed.mp4"
    data = bytearray(face.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    changed.write_bytes(bytes(data))
    for path in (face.path, out):
        video = load("video", str(path), "video")
        assert isinstance(video, SavedResult) and video.url == face.result["video"]["url"]
    assert load("video", str(changed), "video") == str(changed)
    audio = load("audio", str(shutil.copy(said.path, tmp_path / "said-out.mp3")), "audio")
    assert isinstance(audio, SavedAudio) and audio.url == said.result["audio"]["url"]
    assert not isinstance(load("audio", str(face.path), "audio"), SavedAudio)  # a video's soundtrack
    body = prepare(LIPSYNC_AUDIO, {"video": load("video", str(out), "video"), "audio": audio}).body
    assert body["video_url"].url == face.result["video"]["url"] and body["audio_url"].url == audio.url


def test_the_cli_sends_its_own_out_files_as_urls(fal_av, tmp_path):
    """The command line as a user chains it: each result written with --out, then given as --video/--audio."""
    from media import make_png
    from test_cli import cli, fal_cli_env
    env = fal_cli_env(fal_av)
    make_png(tmp_path / "face.png", 640, 480, (200, 160, 120))
    for args in (("i2v", "--image", str(tmp_path / "face.png"), "--prompt", "a face", "--out", "face.mp4"),
                 ("tts", "--text", "hello there", "--out", "said.mp3"),
                 ("lipsync-a2v", "--video", "face.mp4", "--audio", "said.mp3", "--out", "talk.mp4")):
        r = cli(*args, env=env, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    i2v, tts, lipsync = fal_av.submits()[-3:]
    assert lipsync["json"]["video_url"].startswith(f"{fal_av.base_url}/files/{i2v['request_id']}/")
    assert lipsync["json"]["audio_url"].startswith(f"{fal_av.base_url}/files/{tts['request_id']}/")
    assert not any(fal_av.count(op) for op in UPLOADS)
