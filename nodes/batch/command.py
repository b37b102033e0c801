"""`python . batch jobs.jsonl`: check every line, then run the jobs within the providers' limits, resumable.

Exit status: 0 when every job has its video, 1 when some failed (or did not run), 2 when the manifest or an
option is wrong (nothing was sent), 130 after Ctrl-C.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import signal
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..cli import output as cli_out
from ..cli.display import DisplayHandler
from ..core import settings
from ..core.errors import InputError, KlingError, MissingCredentials
from ..core.files import atomic_write
from ..jobs.journal import Journal
from ..jobs.states import LIVE, JobState
from ..providers import fal_pricing, registry, select
from . import manifest as manifest_file
from .lanes import DEFAULTS
from .plan import Planned, check, parse_shard, shard
from .progress import BatchDisplay, summary
from .run import FINISHED, Batch, Outcome

HELP = """One line per video. JSON Lines:
  {"variant": "i2v", "image": "shots/a.png", "prompt": "a slow dolly in", "duration": "10", "id": "a"}
or CSV with a header row (variant,image,prompt,duration,id). Inputs are the command's flags (--end-image is
"end-image" or "end_image"); media paths are relative to the manifest; optional: provider, take, id.

Jobs in flight per provider when --concurrency is not given:
""" + "\n".join(f"  {name}: {n} ({why})" for name, (n, why) in DEFAULTS.items())


def add_parser(sub) -> None:
    p = sub.add_parser("batch", help="many videos from a manifest (JSON Lines or CSV), resumable",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("manifest", help="a .jsonl (one JSON object per line) or .csv file")
    p.add_argument("--out", metavar="DIR", help="where <id>.mp4 files and results.jsonl go (default: a folder "
                   "<manifest name>_outputs beside the manifest)")
    p.add_argument("--concurrency", type=int, metavar="N", help="jobs in flight per provider (default: see above); "
                   "a provider's 429 or Kling's 1303 lowers it for a while instead of failing jobs")
    p.add_argument("--dry-run", action="store_true", help="check every line and print the count and price per "
                   "variant and provider; send nothing (no key needed)")
    p.add_argument("--max-usd", type=float, metavar="USD", help="refuse the batch when the estimate of what it "
                   "would pay exceeds this (the daily cap KLING_VIDEO_MAX_USD still applies)")
    p.add_argument("--retry-failed", action="store_true", help="pay again for jobs that failed in an earlier run")
    p.add_argument("--skip-invalid", action="store_true", help="run the valid lines even when others are wrong")
    p.add_argument("--shard", metavar="I/N", help="run only the I-th of N parts (every N-th line from the I-th), "
                   "so N machines share one manifest with no coordinator")
    p.add_argument("-v", "--verbose", action="store_true")


def results_name(index: int, count: int) -> str:
    return "results.jsonl" if count == 1 else f"results-{index}of{count}.jsonl"


def default_out(manifest: Path) -> Path:
    return manifest.parent / f"{manifest.stem}_outputs"


def validate(path: Path, index: int = 1, count: int = 1, *, dry_run: bool = False,
             err=sys.stderr) -> tuple[list[Planned], list[InputError]]:
    """The shard's lines checked: the jobs, and the errors of the lines that cannot run."""
    entries = shard(list(manifest_file.read(path)), index, count)
    jobs, errors = [], []
    for entry in entries:
        if isinstance(entry, InputError):
            errors.append(entry)
            continue
        try:
            jobs.append(check(entry, path.parent, dry_run=dry_run))
        except InputError as exc:
            errors.append(exc)
    first: dict[str, Planned] = {}
    for job in jobs:
        if job.key in first:
            print(f"note: line {job.line.number} asks for the same video as line {first[job.key].line.number} "
                  "(same inputs and take): one video, paid once, serves both; give another take for a new one",
                  file=err)
        first.setdefault(job.key, job)
    return jobs, errors


def to_pay(jobs: list[Planned], journal: Journal, retry_failed: bool) -> list[Planned]:
    """The jobs this run would submit (and pay for): not those the journal has made or is making."""
    out, keys = [], set()
    for job in jobs:
        if job.key in keys:  # the same video twice in the manifest: made and paid once
            continue
        keys.add(job.key)
        record = journal.get(job.key)
        state = record.get("state") if record else None
        if state in LIVE or (state == JobState.FAILED and not record.get("throttled") and not retry_failed):
            continue
        out.append(job)
    return out


def estimate(jobs: list[Planned]) -> tuple[float, list[Planned]]:
    """The total the spend cap would count, and the jobs whose price is not published (counted at its stand-in)."""
    return sum(j.cost.capped_usd or 0.0 for j in jobs), [j for j in jobs if j.cost.usd is None]


def print_plan(jobs: list[Planned], paying: list[Planned]) -> None:
    per = Counter((j.variant.key, j.provider) for j in jobs)
    paid = {id(j) for j in paying}
    print(f"{'variant':20} {'provider':18} {'jobs':>5} {'to pay':>7} {'estimate':>10}")
    for (variant, provider), n in sorted(per.items()):
        group = [j for j in paying if (j.variant.key, j.provider) == (variant, provider)]
        total, unknown = estimate(group)
        keyless = any(j.keyless for j in jobs if (j.variant.key, j.provider) == (variant, provider))
        print(f"{variant:20} {registry.title(provider) + (' (no key)' if keyless else ''):18} {n:5} {len(group):7} "
              f"{'$%.2f' % total:>10}{' (some unknown)' if unknown else ''}")
    total, unknown = estimate(paying)
    done = sum(1 for j in jobs if id(j) not in paid)
    print(f"\n{len(jobs)} jobs; {len(paying)} to pay, estimated ${total:.2f}"
          + (f"; {done} made or in flight already, or failed earlier (no charge)" if done else ""))
    for j in unknown:
        print(f"price unknown: line {j.line.number} ({j.variant.display_name} on {registry.title(j.provider)}): "
              f"counted at ${j.cost.capped_usd or 0:.2f}, the spend cap's stand-in ({j.cost})")


class InvalidLines(InputError):
    """Lines that cannot run, each named with its line and field; nothing was sent."""

    def __init__(self, errors: list[InputError], total: int):
        self.errors = errors
        super().__init__("manifest", f"{len(errors)} of {total} lines cannot run: nothing was sent (fix them, or "
                                     "--skip-invalid to run the others):\n" + "\n".join(map(str, errors)))


@dataclass
class Plan:
    manifest: Path
    index: int
    count: int
    jobs: list[Planned]
    paying: list[Planned]          # the jobs this run would submit
    skipped: list[InputError]      # invalid lines left out (--skip-invalid)

    @property
    def estimate(self) -> float:
        return estimate(self.paying)[0]


def plan(manifest: Path, *, shard_text: Optional[str] = None, skip_invalid: bool = False, retry_failed: bool = False,
         max_usd: Optional[float] = None, dry_run: bool = False, journal: Optional[Journal] = None) -> Plan:
    """Every line of the shard checked and priced; raises InvalidLines (unless skip_invalid) or InputError for
    --max-usd, before anything is sent."""
    settings.check_all()
    index, count = parse_shard(shard_text)
    jobs, errors = validate(manifest, index, count, dry_run=dry_run)
    if errors and not skip_invalid:
        raise InvalidLines(errors, len(jobs) + len(errors))
    # The estimate uses fal's live prices when it can: fetched (at most once a day) only for a valid batch,
    # and then the lines are priced again.
    if not dry_run and any(j.provider == "fal" for j in jobs) and asyncio.run(fal_pricing.refresh_if_due()):
        jobs, errors = validate(manifest, index, count, dry_run=dry_run, err=io.StringIO())  # notes said once
    found = Plan(manifest, index, count, jobs, to_pay(jobs, journal or Journal(), retry_failed), errors)
    if max_usd is not None and found.estimate > max_usd and not dry_run:
        raise InputError("--max-usd", f"the batch would pay about ${found.estimate:.2f}, over ${max_usd:.2f}: "
                                      "nothing was sent (--dry-run shows the prices)")
    return found


def execute(found: Plan, out: Optional[Path] = None, *, concurrency: Optional[int] = None,
            retry_failed: bool = False, show: bool = True, results: bool = True) -> tuple[list[Outcome], bool, Path]:
    """Run a plan; write results.jsonl (or results-IofN.jsonl) into `out`. Returns the outcomes in manifest
    order, whether it was interrupted, and the results file."""
    if concurrency is not None and concurrency < 1:
        raise InputError("--concurrency", f"must be 1 or more, not {concurrency}")
    folder = cli_out.check(str(Path(out or default_out(found.manifest))) + "/").folder
    for provider in sorted({j.provider for j in found.jobs}):
        select.get(provider).credentials()  # a missing key is heard before anything is sent
    outcomes, interrupted = run(found.jobs, found.manifest.parent, folder, concurrency=concurrency,
                                retry_failed=retry_failed, show=show)
    path = folder / results_name(found.index, found.count)
    if results:
        write_results(path, outcomes)
    return outcomes, interrupted, path


def main(args) -> int:
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        found = plan(Path(args.manifest).expanduser(), shard_text=args.shard, skip_invalid=args.skip_invalid,
                     retry_failed=args.retry_failed, max_usd=args.max_usd, dry_run=args.dry_run)
        for exc in found.skipped:
            print(f"skipped: {exc}", file=sys.stderr)
        if args.dry_run:
            print_plan(found.jobs, found.paying)
            return 0
        print(f"{len(found.jobs)} jobs, {len(found.paying)} to pay: estimated ${found.estimate:.2f}", file=sys.stderr)
        outcomes, interrupted, results = execute(found, args.out and Path(args.out), concurrency=args.concurrency,
                                                 retry_failed=args.retry_failed)
    except (MissingCredentials, settings.SettingsError, InputError) as exc:
        print(f"error: {exc}" + ("" if isinstance(exc, InvalidLines) else "\n(nothing was sent)"), file=sys.stderr)
        return 2
    except KlingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary(outcomes))
    print(f"\nresults: {results}")
    if interrupted:
        return 130
    return 0 if all(o.status in FINISHED for o in outcomes) else 1


def write_results(path: Path, outcomes: list[Outcome]) -> None:
    atomic_write(path, "".join(json.dumps(o.row(), ensure_ascii=False) + "\n" for o in outcomes))


def run(jobs: list[Planned], base: Path, out: Path, *, concurrency: Optional[int] = None,
        retry_failed: bool = False, journal: Optional[Journal] = None, show: bool = True) -> tuple[list[Outcome], bool]:
    """Run the jobs with a display on stderr; Ctrl-C once stops new submits and lets running jobs finish,
    twice quits at once (the journal keeps every request id: the same command collects them)."""
    batch = Batch(jobs, base, out, concurrency=concurrency, retry_failed=retry_failed, journal=journal)
    display = BatchDisplay(batch) if show else None
    if display:
        batch.on_outcome = display.outcome
        logging.getLogger().handlers[:] = [DisplayHandler(display)]
    interrupted = False

    async def main_task() -> list[Outcome]:
        nonlocal interrupted
        task = asyncio.current_task()

        def on_sigint() -> None:
            nonlocal interrupted
            if interrupted:
                task.cancel()
                return
            interrupted = True
            batch.stop("interrupted (Ctrl-C) before it started: run the same command again to make it")
            if display:
                display.say(f"stopping: no new jobs; {batch.running} running ones finish (Ctrl-C again to quit "
                            "now: they stay in the journal, and the same command collects them at no new cost)")
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, on_sigint)
        except (NotImplementedError, RuntimeError):
            pass
        ticker = asyncio.ensure_future(_tick(display)) if display else None
        try:
            return await batch.run()
        finally:
            if ticker:
                ticker.cancel()

    if display:
        display.start()
    try:
        outcomes = asyncio.run(main_task())
    except (KeyboardInterrupt, asyncio.CancelledError):
        interrupted = True
        outcomes = [batch.outcomes[j.line.id] for j in jobs if j.line.id in batch.outcomes]
    finally:
        if display:
            display.close()
    return outcomes, interrupted


async def _tick(display: BatchDisplay) -> None:
    while True:  # the counts and time left move while no job finishes
        await asyncio.sleep(1.0)
        display.refresh()
