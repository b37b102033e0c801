"""The frames node's decoding (size, frame cap, offset, stride, trim window) and the memory check, on real
H.264 + AAC files; the node inside real ComfyUI hosts is tests/test_comfyui_frames.py."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import av
import numpy as np
import pytest
import torch

import media
from comfyui_kling_video.nodes.media_out import decode as mo
from comfyui_kling_video.nodes.media_out import memory
from comfyui_kling_video.nodes.media_out.selection import FrameSelection, select_tensor

ROOT = Path(__file__).resolve().parents[1]
W, H, FPS, SECONDS, RATE = 640, 360, 24, 2.0, 44100
N = round(FPS * SECONDS)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return media.make_mp4(tmp_path_factory.mktemp("frames") / "clip.mp4", width=W, height=H, fps=FPS,
                          seconds=SECONDS)


@pytest.fixture(scope="module")
def silent(tmp_path_factory):
    return media.make_mp4(tmp_path_factory.mktemp("frames") / "silent.mp4", width=W, height=H, fps=FPS,
                          seconds=SECONDS, audio=False)


def indices(frames) -> list[int]:
    return [media.frame_index(f) for f in frames]


def assert_colours(frames, kept: list[int], tolerance=6 / 255):
    for frame, i in zip(frames, kept):
        assert np.abs(media.frame_color(frame) - np.array(media.expected_color(i)) / 255).max() < tolerance, i


@pytest.mark.parametrize("select, kept", [
    (FrameSelection(), list(range(N))),
    (FrameSelection(frame_cap=10), list(range(10))),
    (FrameSelection(skip=5), list(range(5, N))),
    (FrameSelection(every_nth=3), list(range(0, N, 3))),
    (FrameSelection(skip=7, every_nth=4, frame_cap=5), [7, 11, 15, 19, 23]),
    (FrameSelection(skip=40, every_nth=5), [40, 45]),
])
def test_cap_offset_and_stride_keep_the_expected_frames(clip, select, kept):
    d = mo.decode_video(clip, selection=select)
    assert d.frames.shape == (len(kept), H, W, 3) and d.frames.is_contiguous()
    assert indices(d.frames) == kept
    assert_colours(d.frames, kept)
    assert d.fps == pytest.approx(FPS / select.every_nth)
    # The sound of the kept frames' span: from the first kept frame, as long as the frames play at the new fps.
    w = d.audio["waveform"]
    expected = min(len(kept) / d.fps, SECONDS - select.skip / FPS)
    assert w.shape[-1] == pytest.approx(expected * RATE, abs=1100), (w.shape, expected)
    assert abs(media.dominant_frequency(w[0, 0].numpy(), RATE) - 440) < 5


def test_frames_at_the_full_size_are_those_of_a_plain_decode(clip):
    whole = mo.decode_video(clip).frames
    picked = mo.decode_video(clip, selection=FrameSelection(skip=3, every_nth=2, frame_cap=6)).frames
    assert torch.equal(picked, whole[3::2][:6])


@pytest.mark.parametrize("size, shape", [(320, (180, 320)), (480, (270, 480)), (100, (56, 100)),
                                         (1280, (720, 1280)), (640, (360, 640))])
def test_size_is_the_longest_side_with_the_aspect_kept(clip, size, shape):
    d = mo.decode_video(clip, selection=FrameSelection(size=size, frame_cap=4))
    assert d.frames.shape == (4, *shape, 3)
    assert indices(d.frames) == [0, 1, 2, 3]
    assert_colours(d.frames, [0, 1, 2, 3])
    assert float(d.frames.min()) >= 0 and float(d.frames.max()) <= 1


def test_scaling_happens_in_swscale(clip):
    # The same pixels as PyAV's own scaler gives for that frame: scaled while decoding, not after.
    d = mo.decode_video(clip, selection=FrameSelection(size=320, skip=2, frame_cap=1))
    with av.open(str(clip)) as c:
        frame = [f for _, f in zip(range(3), c.decode(video=0))][2]
        rgb = frame.to_ndarray(format="rgb24", width=320, height=180, interpolation=mo.SCALER)
    assert torch.equal(d.frames[0], torch.from_numpy(rgb) / 255.0)


def test_trim_window_cuts_on_timestamps(clip):
    # ComfyUI 0.33's Video Slice: from 0.5 s for 1 s, then the node's own offset and stride within it.
    d = mo.decode_video(clip, selection=FrameSelection(start_time=0.5, duration=1.0, skip=2, every_nth=2))
    assert indices(d.frames) == list(range(14, 36, 2))
    w = d.audio["waveform"]
    assert w.shape[-1] == pytest.approx((1.0 - 2 / FPS) * RATE, abs=1100)


def test_no_audio_gives_silence_as_long_as_the_frames(silent):
    d = mo.decode_video(silent, selection=FrameSelection(every_nth=2, frame_cap=6))
    assert d.fps == 12 and d.frames.shape[0] == 6
    assert d.audio["waveform"].shape == (1, 1, round(6 / 12 * 44100)) and not d.audio["waveform"].any()


def test_an_offset_past_the_end_is_a_clear_error(clip):
    with pytest.raises(mo.MediaError, match=f"has {N} frames: skipping the first 100 leaves none"):
        mo.decode_video(clip, selection=FrameSelection(skip=100))


def test_bad_selections_are_refused():
    with pytest.raises(ValueError, match="every_nth"):
        FrameSelection(every_nth=0)
    with pytest.raises(ValueError, match="size"):
        FrameSelection(size=-2)


def test_frames_in_memory_get_the_same_selection(clip):
    whole = mo.decode_video(clip).frames
    picked = select_tensor(whole, FrameSelection(skip=1, every_nth=5, frame_cap=4), FPS)
    assert picked.is_contiguous() and indices(picked) == [1, 6, 11, 16]
    small = select_tensor(whole, FrameSelection(size=320, frame_cap=3), FPS)
    assert small.shape == (3, 180, 320, 3) and indices(small) == [0, 1, 2]
    assert_colours(small, [0, 1, 2])
    assert float(small.min()) >= 0 and float(small.max()) <= 1


# -- the memory check ------------------------------------------------------------------------------


def test_refused_with_the_size_the_memory_and_what_to_do(clip):
    need = N * H * W * 3 * 4
    room = need + memory.RESERVE - 1  # the decoder's reserve comes on top of the frames
    with pytest.raises(memory.NotEnoughMemory) as e:
        mo.decode_video(clip, memory_available=room, request_id="req-123")
    text = str(e.value)
    assert e.value.need == need and e.value.available == room
    assert f"{N} frames of {W}x{H} as float32 need {memory.gib(need)} ({need} bytes)" in text
    assert f"can use only {memory.gib(room)} more now (the limit given" in text
    assert "Use the VIDEO output" in text and "Kling Video to Frames" in text
    assert f"The paid video is saved at {clip} and recorded in the Kling jobs journal (request req-123)" in text
    with pytest.raises(memory.NotEnoughMemory) as e:
        mo.decode_video(clip, memory_available=room)  # not a paid result: nothing to say about it
    assert "paid" not in str(e.value) and str(e.value).endswith("every_nth).")
    assert isinstance(e.value, mo.MediaError)
    # The same video, smaller and thinned out, fits in the same memory.
    small = mo.decode_video(clip, memory_available=room, selection=FrameSelection(size=320, every_nth=2))
    assert small.frames.shape == (N // 2, 180, 320, 3)
    assert mo.decode_video(clip, memory_available=need + memory.RESERVE).frames.shape[0] == N


def test_refused_before_the_tensor_is_allocated(tmp_path):
    # A 4K clip under an address-space limit that a 4K frames tensor cannot get: a refusal from torch.empty
    # (RuntimeError) would mean the allocation came first; NotEnoughMemory means the check did.
    clip = media.make_mp4(tmp_path / "uhd.mp4", width=3840, height=2160, fps=24, seconds=0.5, audio=False)
    script = textwrap.dedent(f"""
        import json, resource
        import runpy
        runpy.run_path({str(ROOT / "nodes" / "devtools" / "pack_loader.py")!r})["load_pack"]()
        from comfyui_kling_video.nodes.media_out import decode as mo, memory
        with open("/proc/self/status") as f:
            vm = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))
        # Room for the decoder, not for 12 frames of 4K as float32 (1.2 GB).
        resource.setrlimit(resource.RLIMIT_AS, (vm + 600 * 2**20, resource.RLIM_INFINITY))
        try:
            mo.decode_video({str(clip)!r}, memory_available=800 * 2**20)
        except memory.NotEnoughMemory as e:
            print(json.dumps({{"need": e.need, "available": e.available}}))
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout) == {"need": 12 * 2160 * 3840 * 3 * 4, "available": 800 * 2**20}


def _tree(root: Path, files: dict) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


MEMINFO = "MemTotal:       32000000 kB\nMemFree:         1000000 kB\nMemAvailable:   20000000 kB\n"


def test_available_memory_is_memavailable_without_a_limit(tmp_path):
    root = _tree(tmp_path, {"proc/meminfo": MEMINFO, "proc/self/cgroup": "0::/\n",
                            "sys/fs/cgroup/cgroup.controllers": "memory", "sys/fs/cgroup/memory.max": "max\n",
                            "sys/fs/cgroup/memory.current": "123\n"})
    assert memory.available(root) == memory.Available(20000000 * 1024, "available memory")


def test_available_memory_under_a_cgroup_v2_limit(tmp_path):
    root = _tree(tmp_path, {"proc/meminfo": MEMINFO, "proc/self/cgroup": "0::/user.slice/comfy.scope\n",
                            "sys/fs/cgroup/cgroup.controllers": "memory",
                            "sys/fs/cgroup/user.slice/comfy.scope/memory.max": str(8 * 2**30),
                            "sys/fs/cgroup/user.slice/comfy.scope/memory.current": str(3 * 2**30),
                            "sys/fs/cgroup/user.slice/comfy.scope/memory.stat":
                                f"anon 1\ninactive_file {2**30}\nactive_file 5\n",
                            # a parent's tighter limit binds too
                            "sys/fs/cgroup/user.slice/memory.max": str(20 * 2**30),
                            "sys/fs/cgroup/user.slice/memory.current": str(2 * 2**30)})
    got = memory.available(root)
    assert got.bytes == 6 * 2**30 and "cgroup v2" in got.source  # 8 - (3 - 1 inactive page cache)


def test_available_memory_under_a_cgroup_v1_limit_seen_from_inside_a_container(tmp_path):
    # The group's path names the host's hierarchy; inside the container the mount is the group itself.
    root = _tree(tmp_path, {"proc/meminfo": MEMINFO, "proc/self/cgroup": "4:memory:/docker/abc\n0::/\n",
                            "sys/fs/cgroup/memory/memory.limit_in_bytes": str(4 * 2**30),
                            "sys/fs/cgroup/memory/memory.usage_in_bytes": str(2**30),
                            "sys/fs/cgroup/memory/memory.stat": "total_inactive_file 0\n"})
    assert memory.available(root) == memory.Available(3 * 2**30, "the container's memory limit (cgroup v1)")
    unlimited = _tree(tmp_path / "u", {"proc/meminfo": MEMINFO, "proc/self/cgroup": "4:memory:/\n",
                                       "sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712",
                                       "sys/fs/cgroup/memory/memory.usage_in_bytes": "5"})
    assert memory.available(unlimited).source == "available memory"


def test_this_machine_reports_some_memory():
    got = memory.available()
    assert got is not None and got.bytes > 0
