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
