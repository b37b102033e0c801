"""Batch runs (`python . batch`): wall time against the ideal, memory, status requests, and a kill -9 half-way.

    .venv/bin/python benchmarks/batch.py [--jobs 200] [--long-jobs 1000] [--concurrency 8 32]
                                         [--queue-seconds 0.5] [--progress-seconds 1.0] [--singles 3]
                                         [--quick] [--keep DIR]

Every run is `python <pack> batch <manifest> --concurrency N` in a fresh child process with a journal of its own
(KLING_VIDEO_HOME), against the tests' fake fal (and, for the kill, fake Kling API) over HTTPS on 127.0.0.1; the
manifest is text-to-video lines (`t2v`, one prompt each), every job returns the same small MP4. Runs, in order:

- one job (a batch of 1), `--singles` times: the baseline t1, the median time from its submit to the exit;
- `--jobs` jobs at each `--concurrency`: batch time (first submit to exit) / (ceil(jobs/N) × t1);
- `--long-jobs` jobs at the last concurrency: its peak RSS minus that of `--jobs` jobs at the same concurrency;
- `--jobs` jobs at the last concurrency, SIGKILLed once the fake has accepted half of the submits, then the same
  command again, on each provider: on Kling's API every job finished with exactly `--jobs` accepted submits (a
  submit cut off by the kill is found again by its external_task_id); on fal every job finished or reported as
  cut off (its submit was on the wire at the kill: fal cannot look it up, so it is not sent again), none twice.

The time before the first submit (start-up: reading, checking and pricing every line) is shown apart and left out
of both sides of the ratio, so the ratio is the batch's overhead over ideal rounds of N jobs, not start-up
amortised over many rounds. Peak RSS is the child's VmHWM (/proc/<pid>/status, read every 10 ms until it exits;
not wait4's ru_maxrss, which includes this process's own peak: see vm_hwm). Status requests
per job-second: the fake's "status" and "stream" requests over the sum of the jobs' times in flight (each job's
submit to the last request naming it). Last line: the figures as one JSON object. Exit status 1 when a goal is
missed (wall ratio ≤ 1.15, ≤ 4 MB per job in flight, ≤ 8 KB per manifest line, ≤ 1 status request per
job-second, the resumes as above: benchmarks/README.md says why a cut-off job on fal is not a miss); `--quick`
(the tests' tiny run) checks only the resumes, as its times are all start-up.
"""
import argparse
import json
import math
import os
import pathlib
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from batch_support import FAL_KEY, KLING_AK, KLING_SK, environ  # noqa: E402  (tests/ is on the path now)

GOALS = {"wall_over_ideal": 1.15, "rss_mb_per_job_in_flight": 4.0, "rss_kb_per_manifest_line": 8.0,
         "status_requests_per_job_s": 1.0}
FINISHED = ("done", "cached", "reattached")


def vm_hwm(pid: int) -> int:
    """The process's peak RSS in bytes so far (0 once it has exited). Not wait4's ru_maxrss: Linux carries the
    spawning process's own high-water mark over the child's exec, and this one holds the fakes and their logs."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return next((int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


def write_manifest(path: pathlib.Path, jobs: int, provider: str = "") -> pathlib.Path:
    where = {"provider": provider} if provider else {}
    path.write_text("".join(json.dumps({"variant": "t2v", "prompt": f"shot {i} of a product on a turntable",
                                        "id": f"s{i}", **where}) + "\n" for i in range(jobs)))
    return path


def accepted(entries) -> list:
    return [e for e in entries if e.get("op") == "submit" and e.get("request_id")]


class Run:
    """One child: `python <pack> batch` with its wall time, start-up, peak RSS, CPU and the fake's log of it."""

    def __init__(self, fake, folder: pathlib.Path, manifest: pathlib.Path, concurrency: int, kill_at: int = 0,
                 check: bool = True):
        folder.mkdir(parents=True, exist_ok=True)
        mark = len(fake.log.snapshot())
        argv = [sys.executable, str(ROOT), "batch", str(manifest), "--concurrency", str(concurrency),
                "--out", str(folder / "out")]
        own = resource.getrusage(resource.RUSAGE_SELF)
        with open(folder / "output.txt", "ab") as out:
            t0 = time.monotonic()
            # Only the fake's key (environ drops the caller's): another provider's key must not pick the provider.
            proc = subprocess.Popen(argv, env=environ(folder / "home", fake), stdout=out, stderr=out,
                                    stdin=subprocess.DEVNULL)
            self.killed = False
            self.peak_rss = 0
            while True:  # os.wait4, not proc.wait: the child's own CPU times
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                self.peak_rss = max(self.peak_rss, vm_hwm(proc.pid))
                if kill_at and not self.killed and len(accepted(fake.log.snapshot()[mark:])) >= kill_at:
                    os.kill(proc.pid, signal.SIGKILL)
                    self.killed = True
                time.sleep(0.01)
            self.wall = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        self.rc = proc.returncode
        self.cpu = usage.ru_utime + usage.ru_stime
        now = resource.getrusage(resource.RUSAGE_SELF)  # this process: mostly the fake serving the child
        self.fake_cpu = now.ru_utime + now.ru_stime - own.ru_utime - own.ru_stime
        self.log = [e for e in fake.log.snapshot()[mark:] if "op" in e]  # requests, not the fake's events
        self.output = folder / "output.txt"
        submits = accepted(self.log)
        self.startup = (submits[0]["t"] - t0) if submits else self.wall
        self.batch_s = self.wall - self.startup   # first submit to exit
        self.results = folder / "out" / "results.jsonl"
        if check and self.rc != 0 and not self.killed:
            sys.exit(f"batch exited {self.rc}:\n{self.output.read_text()[-3000:]}")

    def status_rate(self) -> float:
        """Status and stream requests per second of job in flight (submit to the last request naming the job)."""
        spans = {e["request_id"]: [e["t"], e["t"]] for e in accepted(self.log)}
        polls = 0
        for e in self.log:
            rid = next((r for r in e["path"].split("/") if r in spans), None)
            if rid is None:
                continue
            spans[rid][1] = max(spans[rid][1], e["t"])
            polls += e["op"] in ("status", "stream")
        in_flight = sum(b - a for a, b in spans.values())
        return polls / in_flight if in_flight else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--long-jobs", type=int, default=1000, help="the long manifest, run at the last concurrency")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    ap.add_argument("--queue-seconds", type=float, default=0.5, help="each fake job's time IN_QUEUE")
    ap.add_argument("--progress-seconds", type=float, default=1.0, help="each fake job's time IN_PROGRESS")
    ap.add_argument("--singles", type=int, default=3, help="batches of 1 run for t1 (their median)")
    ap.add_argument("--quick", action="store_true", help="a tiny run for the tests: only the resumes are checked")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (each run's output.txt, journal, results)")
    args = ap.parse_args()
    from fakes.fal import FakeFal
    from fakes.kling import FakeKling
    from media import make_mp4

    lo_n, hi_n = args.concurrency[0], args.concurrency[-1]
    with tempfile.TemporaryDirectory() as d:
        tmp = pathlib.Path(args.keep or d)
        tmp.mkdir(parents=True, exist_ok=True)
        clip = make_mp4(tmp / "clip.mp4", width=320, height=240, fps=24, seconds=1.0)
        short = write_manifest(tmp / "jobs.jsonl", args.jobs)
        times = {"video_bytes": clip.read_bytes(), "queue_seconds": args.queue_seconds,
                 "progress_seconds": args.progress_seconds}
        with FakeFal(tmp / "fake", key=FAL_KEY, **times) as fake:
            singles = [Run(fake, tmp / f"single{i}", write_manifest(tmp / "one.jsonl", 1), 1)
                       for i in range(args.singles)]
            single = sorted(singles, key=lambda r: r.batch_s)[len(singles) // 2]
            t1 = single.batch_s
            print(f"one job: t1 {t1:.2f} s (of {', '.join(f'{r.batch_s:.2f}' for r in singles)}; start-up "
                  f"{single.startup:.2f} s), peak RSS {single.peak_rss / 2**20:.1f} MiB")
            runs = {}
            for n in args.concurrency:
                runs[n] = r = Run(fake, tmp / f"c{n}", short, n)
                print(f"{args.jobs} jobs at {n:3}: {r.batch_s:6.2f} s after {r.startup:.2f} s start-up (ideal "
                      f"{math.ceil(args.jobs / n) * t1:.2f} s), peak RSS {r.peak_rss / 2**20:.1f} MiB, cpu {r.cpu:.1f} s "
                      f"(the fake's {r.fake_cpu:.1f} s)")
            long = Run(fake, tmp / "long", write_manifest(tmp / "long.jsonl", args.long_jobs), hi_n)
            print(f"{args.long_jobs} jobs at {hi_n:3}: {long.batch_s:6.2f} s after {long.startup:.2f} s start-up, "
                  f"peak RSS {long.peak_rss / 2**20:.1f} MiB, cpu {long.cpu:.1f} s")
            resumes = {"fal": kill_and_resume(fake, tmp / "resume-fal", short, hi_n, args.jobs)}
        with FakeKling(tmp / "fake-kling", access_key=KLING_AK, secret_key=KLING_SK, **times) as fake:
            resumes["kling"] = kill_and_resume(fake, tmp / "resume-kling",
                                               write_manifest(tmp / "kling.jsonl", args.jobs, "kling"), hi_n, args.jobs)

    figures = {"t1_s": round(t1, 3), "startup_s_1": round(single.startup, 2)}
    for n, r in runs.items():
        figures[f"wall_over_ideal_c{n}"] = round(r.batch_s / (math.ceil(args.jobs / n) * t1), 3)
    for n, r in runs.items():
        figures.update({f"batch_s_c{n}": round(r.batch_s, 2), f"startup_s_c{n}": round(r.startup, 2),
                        f"cpu_s_c{n}": round(r.cpu, 1), f"fake_cpu_s_c{n}": round(r.fake_cpu, 1),
                        f"peak_rss_mib_c{n}": round(r.peak_rss / 2**20, 1),
                        f"status_requests_per_job_s_c{n}": round(r.status_rate(), 3)})
    figures["rss_mb_per_job_in_flight"] = (round((runs[hi_n].peak_rss - runs[lo_n].peak_rss) / 1e6 / (hi_n - lo_n), 3)
                                           if hi_n != lo_n else None)
    figures[f"peak_rss_mib_long{args.long_jobs}"] = round(long.peak_rss / 2**20, 1)
    figures["rss_kb_per_manifest_line"] = round((long.peak_rss - runs[hi_n].peak_rss) / 1e3
                                                / (args.long_jobs - args.jobs), 2)
    for name, (killed, again, rows) in resumes.items():
        figures.update(resume_figures(name, killed, again, rows))

    missed = resume_missed(figures, args.jobs, {name: r[0].killed for name, r in resumes.items()})
    if not args.quick:
        missed += [name for name, value in figures.items()
                   if value is not None and any(name.startswith(k) and value > g for k, g in GOALS.items())]
    figures["missed"] = missed

    print(f"\n{'figure':38} {'value':>10}  goal")
    for name, value in figures.items():
        if name != "missed" and not name.endswith("_statuses"):
            goal = next((f"≤ {g}" for k, g in GOALS.items() if name.startswith(k)), "")
            print(f"{name:38} {value!s:>10}  {goal}")
    for name, (_, _, rows) in resumes.items():
        print(f"resume on {name}: killed after {figures[f'resume_{name}_killed_after_submits']} accepted submits; the "
              f"same command then: {figures[f'resume_{name}_statuses']}")
        for row in rows:
            if row["status"] not in FINISHED:
                print(f"  {row['id']} {row['status']}: {row['error']}")
    print("goals missed: " + (", ".join(missed) if missed else "none"))
    print(json.dumps(figures))
    return 1 if missed else 0


def kill_and_resume(fake, folder: pathlib.Path, manifest: pathlib.Path, concurrency: int, jobs: int):
    """The batch SIGKILLed once the fake has accepted half of its submits, then the same command again."""
    killed = Run(fake, folder, manifest, concurrency, kill_at=max(1, jobs // 2))
    again = Run(fake, folder, manifest, concurrency, check=False)  # its failures are figures
    rows = [json.loads(x) for x in again.results.read_text().splitlines()] if again.results.exists() else []
    return killed, again, rows


def resume_figures(name: str, killed: Run, again: Run, rows: list) -> dict:
    """What a kill and the same command again came to on one provider. On fal, a job whose submit was on the
    wire at the kill is reported "cut off" by the second run: fal cannot look a job up by our id, so submitting
    again could pay twice; such a job is counted apart, and whether fal took it (paid, not followed). Kling's
    API finds such a submit by its external_task_id, so there every job should finish, each submitted once."""
    prompts = Counter(e["json"]["prompt"] for e in accepted(killed.log) + accepted(again.log))
    cut = {row["id"] for row in rows if row["status"] == "cut off"}
    figures = {"killed_after_submits": len(accepted(killed.log)),
               "results": sum(1 for row in rows if row["status"] in FINISHED),
               "submits": sum(prompts.values()),
               "paid_twice": sum(n - 1 for n in prompts.values()),
               "cut_off": len(cut)}
    if name == "fal":
        figures["cut_off_taken_by_fal"] = sum(1 for e in accepted(killed.log) if _job_of(e["json"]["prompt"]) in cut)
    else:  # the submits the kill cut off, as the second run asked for them by our own id
        ours = {e["json"].get("external_task_id") for e in killed.log if e["op"] == "submit"} - {None}
        asked = {e["path"].rsplit("/", 1)[-1] for e in again.log if e["op"] == "status"} & ours
        figures["cut_off_looked_up"] = len(asked)
        figures["cut_off_found_by_id"] = len(asked & {e["json"]["external_task_id"] for e in accepted(killed.log)})
    figures["statuses"] = dict(sorted(Counter(row["status"] for row in rows).items()))
    return {f"resume_{name}_{k}": v for k, v in figures.items()}


def resume_missed(figures: dict, jobs: int, was_killed: dict) -> list:
    """What the pack owes after a kill -9. Kling's API: every job finished and exactly one accepted submit each
    (the issue's figure). fal: every job finished or reported cut off, none paid twice; the issue's "exactly
    200 submits" there also needs the kill to miss every submit's round trip, which the pack cannot choose:
    resume_fal_cut_off says how often it did not."""
    missed = [f"the batch on {name} ended before the kill" for name, was in was_killed.items() if not was]
    for name in was_killed:
        f = lambda k: figures[f"resume_{name}_{k}"]  # noqa: E731
        if f("paid_twice"):
            missed.append(f"resume_{name}_paid_twice")
        if name == "fal" and f("results") + f("cut_off") != jobs:
            missed.append(f"resume on fal: {f('results')} + {f('cut_off')} cut off of {jobs} jobs")
        if name != "fal" and (f("results") != jobs or f("submits") != jobs):
            missed.append(f"resume on {name}: {f('results')} results and {f('submits')} submits of {jobs} jobs")
    return missed


def _job_of(prompt: str) -> str:
    return "s" + prompt.split()[1]  # write_manifest's "shot <i> of ..." is job s<i>


if __name__ == "__main__":
    sys.exit(main())
