"""`python . batch` before anything is sent: the manifest's lines checked (JSON Lines and CSV), --dry-run's counts
and prices, --max-usd, and the daily spend cap across a batch's concurrent jobs (issue 17)."""
import json
import re

from batch_support import (FINISHED, accepted, batch, environ, fal, results, sent, shots,  # noqa: F401 (fixtures)
                           video_bytes, write_jsonl)
from media import make_png

from comfyui_kling_video.nodes.catalog import variant


def bad_and_good_lines(folder):
    (folder / "shots").mkdir(parents=True)
    make_png(folder / "shots" / "a.png", 640, 360)
    return write_jsonl(folder / "jobs.jsonl", [
        {"variant": "t2v", "prompt": "a paper boat", "id": "boat"},                  # 1 good
        {"variant": "t2v", "prompt": "x", "duration": "7"},                          # 2 bad enum value
        {"variant": "t2v", "prompt": "x", "colour": "red"},                          # 3 unknown input
        {"variant": "i2v", "prompt": "x"},                                           # 4 required media missing
        {"variant": "t2v", "prompt": "another", "id": "boat"},                       # 5 duplicate id
        "{not json",                                                                 # 6
        {"variant": "i2v", "prompt": "x", "image": "shots/missing.png"},             # 7 no such file
        {"variant": "t9v", "prompt": "x"},                                           # 8 unknown variant
        {"variant": "i2v", "prompt": "a slow dolly in", "image": "shots/a.png", "id": "dolly"},  # 9 good
    ])


def test_bad_lines_are_named_and_nothing_is_sent(fal, tmp_path):
    manifest = bad_and_good_lines(tmp_path / "project")
    r = batch(manifest, env=environ(tmp_path / "home", fal))
    assert r.returncode == 2, r.stderr
    assert "7 of 9 lines cannot run: nothing was sent" in r.stderr
    for said in ("line 2: duration: invalid choice: '7' (choose from '5', '10')",
                 "line 3: colour: is not an input of v2.6-pro-t2v",
                 "line 4: start_frame: is required",
                 "line 5: id: 'boat' is already the id of line 1",
                 "line 6: line: is not JSON",
                 "line 7: start_frame: cannot read image",
                 "line 8: variant: 't9v' is not a variant"):
        assert said in r.stderr, said
    assert not re.search(r"^line [19]:", r.stderr, re.M)
    assert fal.requests() == []  # not even fal's price list: it is read only for a valid batch
    assert not (tmp_path / "project" / "jobs_outputs" / "results.jsonl").exists()


def test_skip_invalid_runs_the_other_lines(fal, tmp_path):
    manifest = bad_and_good_lines(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"  # media paths are the manifest's, wherever the command runs
    elsewhere.mkdir()
    r = batch(manifest, "--skip-invalid", env=environ(tmp_path / "home", fal), cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    assert "skipped: line 2: duration" in r.stderr and "skipped: line 8: variant" in r.stderr
    out = tmp_path / "project" / "jobs_outputs"
    rows = results(out / "results.jsonl")
    assert [(row["id"], row["line"], row["status"]) for row in rows] == [("boat", 1, "done"), ("dolly", 9, "done")]
    assert (out / "boat.mp4").read_bytes() == fal.video_bytes == (out / "dolly.mp4").read_bytes()
    bodies = [e["json"] for e in accepted(fal)]
    assert len(bodies) == 2 and len(fal.jobs) == 2
    image = next(b for b in bodies if "start_image_url" in b)["start_image_url"]
    assert image.startswith("data:image/") or fal.uploaded(image)


def test_csv_manifest(fal, tmp_path):
    manifest = tmp_path / "jobs.csv"
    # An empty cell is the input's default; line 1 is the header, as an editor counts.
    manifest.write_text("variant,prompt,duration,generate_audio,aspect_ratio,id\n"
                        "t2v,a red kite,10,false,,kite\n"
                        "t2v,a blue kite,,yes,4:3,\n")
    r = batch(manifest, env=environ(tmp_path / "home", fal))
    assert r.returncode == 2 and "1 of 2 lines cannot run" in r.stderr
    assert "line 3: aspect_ratio: invalid choice: '4:3'" in r.stderr and fal.requests() == []
    manifest.write_text(manifest.read_text().replace("4:3", "9:16"))
    r = batch(manifest, env=environ(tmp_path / "home", fal))
    assert r.returncode == 0, r.stderr
    rows = results(tmp_path / "jobs_outputs" / "results.jsonl")
    assert [(row["id"], row["status"]) for row in rows] == [("kite", "done"), ("line3", "done")]
    bodies = {e["json"]["prompt"]: e["json"] for e in accepted(fal)}
    assert bodies["a red kite"]["duration"] == "10" and bodies["a red kite"]["generate_audio"] is False
    assert bodies["a blue kite"]["duration"] == "5" and bodies["a blue kite"]["generate_audio"] is True
    assert bodies["a blue kite"]["aspect_ratio"] == "9:16"


def test_dry_run_counts_and_prices_per_variant_and_provider(fal, tmp_path):
    manifest = write_jsonl(tmp_path / "jobs.jsonl", [
        *shots(3),                                                          # fal, 5 s with audio
        *shots(2, "long", duration="10", generate_audio=False),             # fal, 10 s silent
        {"variant": "t2v", "prompt": "on kling", "provider": "kling"},       # Kling's own price
        {"variant": "v1.6-std-t2v", "prompt": "no published price"},        # line 7
    ])
    r = batch(manifest, "--dry-run", env=environ(tmp_path / "home", fal))  # a key is set, yet nothing is sent
    assert r.returncode == 0, r.stderr
    assert fal.requests() == []
    rows = {tuple(line.split()[:3]): line.split()[3:] for line in r.stdout.splitlines()[1:] if line.strip()}
    t2v, old = variant("t2v"), variant("v1.6-std-t2v")
    fal_price, kling_price = t2v.offer("fal").price, t2v.offer("kling").price
    fal_t2v = 3 * 5 * fal_price.audio_on + 2 * 10 * fal_price.audio_off
    assert rows[("v2.6-pro-t2v", "fal.ai", "5")] == ["5", f"${fal_t2v:.2f}"]
    # No Kling key in this environment: the row is priced on Kling all the same, and says so.
    [on_kling] = [line for line in r.stdout.splitlines() if line.startswith("v2.6-pro-t2v") and "Kling" in line]
    assert "Kling (no key)" in on_kling and on_kling.split()[-3:] == ["1", "1", f"${5 * kling_price.audio_on:.2f}"]
    assert rows[("v1.6-std-t2v", "fal.ai", "1")][-2:] == ["(some", "unknown)"]
    assert old.offer("fal").price.audio_off is None
    stand_in = float(re.search(r"price unknown: line 7 \(.*\): counted at \$([\d.]+)", r.stdout).group(1))
    total = fal_t2v + 5 * kling_price.audio_on + stand_in
    assert f"7 jobs; 7 to pay, estimated ${total:.2f}" in r.stdout


def test_max_usd_refuses_a_batch_over_it(fal, tmp_path):
    manifest = write_jsonl(tmp_path / "jobs.jsonl", shots(3))
    r = batch(manifest, "--max-usd", "0.5", env=environ(tmp_path / "home", fal))
    assert r.returncode == 2 and "--max-usd: the batch would pay about $" in r.stderr and "over $0.50" in r.stderr
    assert sent(fal) == [] and not fal.jobs


def test_daily_cap_stops_the_jobs_over_it(fal, tmp_path):
    # $0.35 a job (5 s, silent); a cap of $1.00 takes two: five jobs started at once must not slip past it.
    manifest = write_jsonl(tmp_path / "jobs.jsonl", shots(5, generate_audio=False))
    home = tmp_path / "home"
    r = batch(manifest, "--concurrency", "5", env=environ(home, fal, KLING_VIDEO_MAX_USD="1.00"))
    assert r.returncode == 1, r.stderr
    rows = results(tmp_path / "jobs_outputs" / "results.jsonl")
    statuses = sorted(row["status"] for row in rows)
    assert statuses == ["done", "done", "not run", "not run", "not run"], rows
    assert all("spend cap reached" in row["error"] for row in rows if row["status"] == "not run")
    spent = [json.loads(line)["price"] for line in (home / "spend.jsonl").read_text().splitlines()]
    assert len(spent) == 2 and sum(spent) <= 1.00 and len(fal.jobs) == 2
    # Run again the next hour: the finished ones are free, the others still over the cap.
    r = batch(manifest, env=environ(home, fal, KLING_VIDEO_MAX_USD="1.00"))
    assert r.returncode == 1 and len(fal.jobs) == 2
    assert sorted(row["status"] for row in results(tmp_path / "jobs_outputs" / "results.jsonl")) == \
        ["cached", "cached", "not run", "not run", "not run"]
