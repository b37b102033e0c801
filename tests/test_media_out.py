"""nodes/media_out/decode.py on real H.264 + AAC files written by tests/media.py.

The ComfyUI comparisons run when COMFYUI_DIR points at a ComfyUI checkout whose
requirements are installed; they are skipped otherwise.
"""
from __future__ import annotations

import dataclasses
import io
import os
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

HERE = Path(__file__).resolve().parent


import media  # noqa: E402  (tests/ is on sys.path: conftest.py)
from comfyui_kling_video.nodes.media_out import decode as mo  # noqa: E402  (the pack, loaded by conftest.py)

W, H, FPS, SECONDS, RATE = 640, 360, 24, 2.0, 44100
N = round(FPS * SECONDS)
COLOR_TOLERANCE = 4 / 255  # flat colours through yuv420p + H.264 at crf 18


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("media")
    made = {
        "clip": media.make_mp4(d / "clip.mp4", channel_tones=(440.0, 660.0)),
        "silent": media.make_mp4(d / "silent.mp4", audio=False),
        "mono": media.make_mp4(d / "mono.mp4", fps=30, seconds=1.5, channels=1,
                               sample_rate=48000, tone_hz=1000.0),
        "fragmented": media.make_mp4(d / "fragmented.mp4", fragmented=True),
        "faststart": media.make_mp4(d / "faststart.mp4", faststart=True),
        "mkv": media.make_mp4(d / "clip.mkv"),
        "pcm": media.make_mp4(d / "pcm.mov", audio_codec="pcm_s16le", channel_tones=(440.0, 660.0)),
        "audio_only": media.make_mp4(d / "audio_only.m4a", video=False),
    }

    class WriteOnly:  # no seek(): the muxer cannot go back to write a duration
        def __init__(self, f):
            self.f = f

        def write(self, b):
            return self.f.write(b)

    with open(d / "streamed.mkv", "wb") as f:
        media.make_mp4(WriteOnly(f), container_format="matroska")
    made["streamed"] = d / "streamed.mkv"
    return made


@pytest.fixture(scope="module")
def clip(files):
    return mo.decode_video(files["clip"])


def assert_pattern(frames: torch.Tensor, n: int = N, tolerance: float = COLOR_TOLERANCE) -> None:
    assert frames.shape == (n, H, W, 3)
    assert [media.frame_index(f) for f in frames] == list(range(n))
    for i in range(n):
        expected = np.array(media.expected_color(i)) / 255
        assert np.abs(media.frame_color(frames[i]) - expected).max() < tolerance, i


def assert_tone(wave: torch.Tensor, sample_rate: int, hz: float) -> None:
    assert abs(media.dominant_frequency(wave.numpy(), sample_rate) - hz) < 3


# -- probe ---------------------------------------------------------------------


def test_probe_reads_the_header(files):
    info = mo.probe_video(files["clip"])
    assert (info.width, info.height, info.frame_count) == (W, H, N)
    assert info.frame_rate == Fraction(FPS) and info.fps == 24.0
    assert info.duration == pytest.approx(SECONDS, abs=0.05)
    assert (info.has_audio, info.audio_sample_rate, info.audio_channels) == (True, RATE, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.width = 1


def test_probe_without_audio(files):
    info = mo.probe_video(files["silent"])
    assert (info.has_audio, info.audio_sample_rate, info.audio_channels) == (False, None, None)


# -- frames --------------------------------------------------------------------


def test_frames_are_float_nhwc_in_unit_range(clip):
    f = clip.frames
    assert f.dtype == torch.float32 and f.device.type == "cpu" and f.is_contiguous()
    assert float(f.min()) >= 0.0 and float(f.max()) <= 1.0
    assert clip.fps == 24.0 and clip.info.frame_count == N


def test_every_frame_in_order_with_its_colour(clip):
    assert_pattern(clip.frames)


def test_first_frame_only_still_decodes_audio(files):
    d = mo.decode_video(files["clip"], all_frames=False)
    assert d.frames.shape == (1, H, W, 3)
    assert media.frame_index(d.frames[0]) == 0
    assert d.audio["waveform"].shape[-1] == pytest.approx(SECONDS * RATE, abs=2048)


@pytest.mark.parametrize("name", ["fragmented", "mkv", "streamed"])
def test_header_without_a_frame_count(files, name):
    with av.open(str(files[name])) as c:
        assert c.streams.video[0].frames == 0  # the premise: N has to be estimated
    d = mo.decode_video(files[name])
    assert_pattern(d.frames)
    # The estimate's spare frames are cut off by a view, not a copy.
    assert d.frames.untyped_storage().nbytes() >= d.frames.numel() * 4


def test_streamed_mkv_has_no_duration_either(files):
    info = mo.probe_video(files["streamed"])
    assert info.frame_count == N and info.duration == pytest.approx(SECONDS)


def test_writer_grows_when_the_estimate_is_short(files):
    # A header that under-counts is hard to make on purpose; drive the writer
    # directly with real decoded pictures instead.
    info = mo.probe_video(files["clip"])
    writer = mo._FrameWriter(2, info, limit=1 << 40, path=files["clip"])
    with av.open(str(files["clip"])) as c:
        for frame in c.decode(video=0):
            writer.write(frame)
    writer.stop_prefault()
    assert writer.count == N and len(writer.frames) >= N
    assert_pattern(writer.frames[:N])


def test_faststart_file_decodes(files):
    assert_pattern(mo.decode_video(files["faststart"]).frames)


# -- audio ---------------------------------------------------------------------


def test_aac_stereo(clip):
    w, sr = clip.audio["waveform"], clip.audio["sample_rate"]
    assert w.dtype == torch.float32 and w.dim() == 3 and w.shape[:2] == (1, 2)
    assert sr == RATE and isinstance(sr, int)
    assert w.shape[2] == pytest.approx(SECONDS * RATE, abs=2048)  # AAC pads its last frame
    assert_tone(w[0, 0], sr, 440.0)
    assert_tone(w[0, 1], sr, 660.0)  # channels in order


def test_aac_starts_in_sync(clip):
    # The encoder's priming samples are dropped: sample 0 is the sine's sample 0.
    w = clip.audio["waveform"][0, 0].numpy()
    ref = media.sine(len(w), RATE, 440.0, 1)[0]
    body = slice(1024, int(SECONDS * RATE) - 2048)
    assert np.abs(w[body] - ref[body]).mean() < 0.02


def test_mono_at_another_rate(files):
    d = mo.decode_video(files["mono"])
    assert d.frames.shape[0] == 45 and d.fps == 30.0
    w = d.audio["waveform"]
    assert w.shape[:2] == (1, 1) and d.audio["sample_rate"] == 48000
    assert w.shape[2] == pytest.approx(1.5 * 48000, abs=2048)
    assert_tone(w[0, 0], 48000, 1000.0)


def test_packed_integer_samples(files):
    with av.open(str(files["pcm"])) as c:
        assert c.streams.audio[0].format.name == "s16"  # packed, not AAC's planar fltp
    d = mo.decode_video(files["pcm"])
    w = d.audio["waveform"]
    assert w.dtype == torch.float32 and w.shape == (1, 2, int(SECONDS * RATE))
    assert float(w.abs().max()) == pytest.approx(media.AMPLITUDE, abs=0.01)  # scaled to -1..1
    assert_tone(w[0, 0], RATE, 440.0)
    assert_tone(w[0, 1], RATE, 660.0)  # de-interleaved


def test_no_audio_track_gives_silence(files):
    d = mo.decode_video(files["silent"])
    assert d.info.has_audio is False
    w = d.audio["waveform"]
    assert d.audio["sample_rate"] == 44100
    assert w.dtype == torch.float32 and w.shape == (1, 1, int(SECONDS * 44100))
    assert not w.any()


def test_silence_encodes_the_way_save_audio_does(files, tmp_path):
    # The encoding steps of ComfyUI's SaveAudio (comfy_extras/nodes_audio.py
    # save_audio, FLAC), which imports torchaudio and a GPU check on load.
    audio = mo.decode_video(files["silent"]).audio
    for waveform in audio["waveform"].cpu():
        buf = io.BytesIO()
        out = av.open(buf, mode="w", format="flac")
        layout = "mono" if waveform.shape[0] == 1 else "stereo"
        stream = out.add_stream("flac", rate=audio["sample_rate"], layout=layout)
        frame = av.AudioFrame.from_ndarray(
            waveform.movedim(0, 1).reshape(1, -1).float().numpy(), format="flt", layout=layout
        )
        frame.sample_rate = audio["sample_rate"]
        frame.pts = 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        out.close()
        buf.seek(0)
        with av.open(buf) as back:
            assert sum(f.samples for f in back.decode(audio=0)) == waveform.shape[-1]


# -- limits and bad files ------------------------------------------------------


def test_max_decode_bytes_refuses_before_decoding(files):
    need = N * H * W * 3 * 4
    with pytest.raises(mo.MediaError) as e:
        mo.decode_video(files["clip"], max_decode_bytes=need - 1)
    assert str(need) in str(e.value) and str(need - 1) in str(e.value)
    assert mo.MAX_DECODE_BYTES_ENV in str(e.value)
    assert mo.decode_video(files["clip"], max_decode_bytes=need).frames.shape[0] == N


def test_max_decode_bytes_from_the_environment(files, monkeypatch):
    need = N * H * W * 3 * 4
    monkeypatch.setenv("KLING_VIDEO_MAX_DECODE_BYTES", str(need - 1))
    with pytest.raises(mo.MediaError, match="KLING_VIDEO_MAX_DECODE_BYTES"):
        mo.decode_video(files["clip"])
    monkeypatch.setenv("KLING_VIDEO_MAX_DECODE_BYTES", str(need))
    assert mo.decode_video(files["clip"]).frames.shape[0] == N
    monkeypatch.setenv("KLING_VIDEO_MAX_DECODE_BYTES", "lots")
    with pytest.raises(mo.settings.SettingsError, match="KLING_VIDEO_MAX_DECODE_BYTES='lots': must be a number of bytes"):
        mo.decode_video(files["clip"])


def test_default_limit_is_16_gib(monkeypatch):
    monkeypatch.delenv("KLING_VIDEO_MAX_DECODE_BYTES", raising=False)
    assert mo.max_decode_bytes_default() == 16 * 1024**3


@pytest.mark.parametrize(
    "name, fraction",
    [("clip", 0.5), ("faststart", 0.5), ("faststart", 0.97), ("fragmented", 0.5), ("fragmented", 0.97)],
)
def test_truncated_mp4_is_a_media_error(files, tmp_path, name, fraction):
    cut = media.truncate(files[name], fraction, out=tmp_path / f"cut_{name}.mp4")
    with pytest.raises(mo.MediaError):
        mo.probe_video(cut)
    with pytest.raises(mo.MediaError):
        mo.decode_video(cut)


@pytest.mark.parametrize("kind", ["garbage", "empty", "missing", "audio_only"])
def test_not_a_video_is_a_media_error(files, tmp_path, kind):
    path = {
        "garbage": lambda: media.garbage(tmp_path / "garbage.mp4"),
        "empty": lambda: media.truncate(files["clip"], 0.0, out=tmp_path / "empty.mp4"),
        "missing": lambda: tmp_path / "missing.mp4",
        "audio_only": lambda: files["audio_only"],
    }[kind]()
    for call in (mo.probe_video, mo.decode_video):
        with pytest.raises(mo.MediaError) as e:
            call(path)
        assert isinstance(e.value, ValueError)
        assert str(path.name) in str(e.value)


# -- against ComfyUI -----------------------------------------------------------


@pytest.fixture(scope="module")
def comfy():
    root = os.environ.get("COMFYUI_DIR")
    if not root:
        pytest.skip("COMFYUI_DIR is not set")
    if root not in sys.path:
        sys.path.append(root)  # appended: ComfyUI's top-level names must not shadow others
    try:
        from comfy_api.latest import InputImpl, Types
    except Exception as e:  # noqa: BLE001 - any import failure means "not usable here"
        pytest.skip(f"ComfyUI at {root} is not importable: {e!r}")
    return InputImpl, Types


def test_frames_equal_comfyui_decode(comfy, files, clip):
    InputImpl, _ = comfy
    theirs = InputImpl.VideoFromFile(str(files["clip"])).get_components()
    # Same swscale conversion (PyAV's to_ndarray("rgb24"): the stream's colorspace
    # tag, BT.601 when untagged, limited range) and the same x / 255: identical.
    assert theirs.images.shape == clip.frames.shape
    assert torch.equal(theirs.images, clip.frames)
    assert theirs.frame_rate == Fraction(FPS)
    w_ours, w_theirs = clip.audio["waveform"], theirs.audio["waveform"]
    assert w_theirs.shape == w_ours.shape and theirs.audio["sample_rate"] == RATE
    # ComfyUI seeks back to 0 before decoding audio: its AAC decoder starts
    # without the first frame's history, so the first ~450 samples are zeros
    # and the rest differ by float noise (~1e-5).
    assert float((w_theirs[..., 2048:] - w_ours[..., 2048:]).abs().max()) < 1e-3


@pytest.mark.parametrize("name", ["clip", "silent"])
def test_comfyui_saves_what_we_decode(comfy, files, tmp_path, name):
    # CreateVideo + SaveVideo: VideoFromComponents(...).save_to(path).
    InputImpl, Types = comfy
    d = mo.decode_video(files[name])
    video = InputImpl.VideoFromComponents(
        Types.VideoComponents(images=d.frames, audio=d.audio, frame_rate=Fraction(d.fps))
    )
    out = tmp_path / f"{name}_saved.mp4"
    video.save_to(str(out))
    back = mo.decode_video(out)
    assert_pattern(back.frames, tolerance=8 / 255)  # a second lossy generation
    assert back.info.has_audio
    w = back.audio["waveform"]
    assert w.shape[2] == pytest.approx(SECONDS * back.audio["sample_rate"], abs=2048)
    if name == "clip":
        assert_tone(w[0, 0], back.audio["sample_rate"], 440.0)
    else:
        assert float(w.abs().max()) < 1e-3
