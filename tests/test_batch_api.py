"""The batch's Python API (nodes/batch/api.py) in this process, and --shard I/N: disjoint parts whose union is the
manifest (issue 17)."""
import pytest

from batch_support import (FINISHED, accepted, fal, fal_here, results, shots, video_bytes,  # noqa: F401
                           write_jsonl)

from comfyui_kling_video.nodes.batch.api import batch, generate
from comfyui_kling_video.nodes.batch.command import InvalidLines
from comfyui_kling_video.nodes.core.errors import InputError


def test_generate_returns_a_result_with_the_file(fal_here, tmp_path):
    shot = generate("t2v", prompt="a paper boat", duration="10", generate_audio=False, out=tmp_path / "renders")
    assert shot.status == "done" and shot.paid_now
    assert open(shot.path, "rb").read() == fal_here.video_bytes
    assert shot.path.startswith(str(tmp_path / "renders")) and shot.path.endswith(".mp4")
    [submit] = accepted(fal_here)
    assert shot.request_id == submit["request_id"] and submit["json"]["duration"] == "10"
    assert shot.cost == pytest.approx(0.70)
    again = generate("t2v", prompt="a paper boat", duration="10", generate_audio=False, out=tmp_path / "renders")
    assert again.status == "cached" and again.request_id == shot.request_id and len(fal_here.jobs) == 1


def test_generate_refuses_a_bad_input_before_any_request(fal_here, tmp_path):
    with pytest.raises(InputError) as caught:
        generate("t2v", prompt="a boat", duration="7", out=tmp_path)
    assert caught.value.field == "duration" and "'7'" in str(caught.value)
    with pytest.raises(InputError) as caught:
        generate("i2v", prompt="a boat", image="nowhere.png", out=tmp_path)
    assert caught.value.field == "start_frame"
    assert fal_here.requests() == []


def test_batch_returns_outcomes_in_manifest_order(fal_here, tmp_path):
    fal_here.progress_seconds = 0.3
    ids = [f"s{i}" for i in range(5)]
    manifest = write_jsonl(tmp_path / "jobs.jsonl", shots(5))
    # One job already made: it finishes first, whatever its place in the manifest.
    made = generate("t2v", prompt="shot s4", out=tmp_path)
    outcomes = batch(manifest, concurrency=3, out=tmp_path / "out")
    assert [o.id for o in outcomes] == ids and [o.line for o in outcomes] == [1, 2, 3, 4, 5]
    assert [o.status for o in outcomes] == ["done"] * 4 + ["cached"]
    assert outcomes[4].request_id == made.request_id and len(fal_here.jobs) == 5
    assert [row["id"] for row in results(tmp_path / "out" / "results.jsonl")] == ids


def test_batch_refuses_a_bad_manifest_before_any_request(fal_here, tmp_path):
    manifest = write_jsonl(tmp_path / "jobs.jsonl", [*shots(2), {"variant": "t2v", "prompt": "x", "take": -1}])
    with pytest.raises(InvalidLines) as caught:
        batch(manifest)
    assert "line 3: take: must be a whole number 0 or more" in str(caught.value)
    assert fal_here.requests() == []
    outcomes = batch(manifest, skip_invalid=True)
    assert [(o.id, o.status) for o in outcomes] == [("s0", "done"), ("s1", "done")]


def test_shards_are_disjoint_and_their_union_is_the_manifest(fal_here, tmp_path):
    ids = [f"s{i}" for i in range(8)]
    manifest = write_jsonl(tmp_path / "jobs.jsonl", shots(8))
    out = tmp_path / "out"
    parts = {}
    for index in (1, 2, 3):
        outcomes = batch(manifest, shard=f"{index}/3", out=out, concurrency=3)
        assert all(o.status in FINISHED for o in outcomes)
        parts[index] = [row["id"] for row in results(out / f"results-{index}of3.jsonl")]
        assert parts[index] == [o.id for o in outcomes]
    assert not (out / "results.jsonl").exists()
    assert sorted(sum(parts.values(), []), key=ids.index) == ids  # the union, each job once
    assert all(not set(parts[a]) & set(parts[b]) for a, b in ((1, 2), (1, 3), (2, 3)))
    assert len(accepted(fal_here)) == len(fal_here.jobs) == 8
    assert sorted(p.name for p in out.glob("*.mp4")) == sorted(f"{i}.mp4" for i in ids)
    with pytest.raises(InputError) as caught:
        batch(manifest, shard="4/3")
    assert caught.value.field == "--shard"
