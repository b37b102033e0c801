"""Every form in which the Vercel AI Gateway may hand over a finished video (issue 12, hole 10), end to end
through the job against the fake gateway, which sends each form of the video model specification."""
import asyncio
import base64
import json

import pytest

from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.core.errors import ProviderError
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.jobs.journal import Journal
from comfyui_kling_video.nodes.providers.vercel import video_location
from comfyui_kling_video.nodes.request import prepare

T2V = variant("v2.6-pro-t2v")


def run(tmp_path, take=0):
    return asyncio.run(generate(lambda: prepare(T2V, {"prompt": "a lighthouse", "duration": "5"}, "vercel"),
                                tmp_path / "out", take=take))


@pytest.mark.parametrize("any_provider", ["vercel"], indirect=True)
@pytest.mark.parametrize("form,downloads", [("url", 1), ("base64", 0), ("binary", 0), ("uploaded", 1)])
def test_every_result_form_gives_the_video(any_provider, tmp_path, form, downloads):
    _, fake = any_provider
    fake.video_form = form
    _, done = run(tmp_path)
    assert done.path.read_bytes() == fake.video_bytes and done.path.suffix == ".mp4"
    assert fake.count("file") == downloads  # the bytes came in the answer, or from the file it names
    assert len(fake.submits()) == 1
    # once saved, the video's bytes are not kept in the journal (every cache hit reads it)
    [record] = Journal().all()
    assert len(json.dumps(record)) < len(fake.video_bytes)
    _, again = run(tmp_path)
    assert again.path == done.path and len(fake.submits()) == 1


@pytest.mark.parametrize("any_provider", ["vercel"], indirect=True)
def test_a_video_delivered_elsewhere_is_said_so_and_not_paid_again(any_provider, tmp_path):
    """'uploaded' with nothing in the answer leading to it: the job says where the video went; running the
    node again asks the gateway again (same paid operation), it does not start a second job."""
    _, fake = any_provider
    fake.video_form = "uploaded-only"
    for _ in (1, 2):
        with pytest.raises(ProviderError, match="upload destination"):
            run(tmp_path)
        assert fake.count("file") == 0
    assert len({s["request_id"] for s in fake.submits()}) == 1


def test_base64_spellings_are_normalised():
    """The download decodes strictly: whatever base64 the answer used arrives as standard, padded base64."""
    video = bytes(range(256)) * 3 + b"\xfb\xff"
    std = base64.b64encode(video).decode()
    urlsafe = base64.urlsafe_b64encode(video).decode().rstrip("=")
    for data in (std, urlsafe, "\n".join(std[i:i + 76] for i in range(0, len(std), 76)), "data:video/mp4;base64," + std):
        uri = video_location({"videos": [{"type": "base64", "data": data, "mediaType": "video/mp4"}]})
        assert uri == "data:video/mp4;base64," + std
    as_list = video_location({"videos": [{"type": "binary", "data": list(video[:5]), "mediaType": "video/webm"}]})
    assert as_list == "data:video/webm;base64," + base64.b64encode(video[:5]).decode()
    # a media type that would break the URI falls back to MP4
    odd = video_location({"videos": [{"type": "base64", "data": std, "mediaType": "video/mp4;x=,y"}]})
    assert odd.startswith("data:video/mp4;base64,")
    with pytest.raises(ProviderError, match="no video"):
        video_location({"videos": [{"type": "binary", "data": [300]}]})
