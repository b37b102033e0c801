"""What a batch shows while it runs, on stderr: on a terminal one tqdm bar kept in place (jobs finished of all,
the estimated time left from the rate so far, and done / running / queued / failed and the spend); in a pipe
or a log, one plain line per finished job and a status line at most every PLAIN_EVERY seconds. The summary
table at the end is the same in both.
"""
from __future__ import annotations

import time
from collections import defaultdict
from typing import Optional, TextIO

from ..cli.display import PLAIN_EVERY, Display, progress_bar
from ..providers import registry
from .run import FINISHED, Batch, Outcome


class BatchDisplay(Display):
    """The CLI's display (its say() and close()) with a bar over the jobs instead of one job's progress."""

    def __init__(self, batch: Batch, stream: Optional[TextIO] = None):
        super().__init__(stream)
        self.batch = batch

    def start(self) -> None:
        # tqdm's time left comes from the finished jobs' rate: the "estimated time left" of a batch. A short
        # bar and short words, so all of it fits in 80 columns (tqdm cuts the line at the terminal's width).
        self.bar = progress_bar(self.stream, len(self.batch.jobs), "|{bar:8}| {desc} · {remaining} left")
        self.refresh()

    def status(self) -> str:
        b = self.batch
        return (f"done {b.count(*FINISHED)}/{len(b.jobs)} · running {b.running} · queued {b.queued} · "
                f"failed {b.count('failed', 'failed earlier', 'cut off')} · ${b.spent:.2f}")

    def refresh(self) -> None:
        if self.bar is not None:
            self.bar.set_description_str(self.status(), refresh=False)
            finished = len(self.batch.outcomes) - self.bar.n
            if finished:
                self.bar.update(finished)  # through update(), so tqdm's rate (and time left) sees it
            else:
                self.bar.refresh()
        elif time.monotonic() - self.said_at >= PLAIN_EVERY:
            self.said_at = time.monotonic()
            self.say(self.status() + " spent")

    def outcome(self, o: Outcome) -> None:
        where = f" → {o.path}" if o.path else ""
        rid = f" {registry.title(o.provider)} request {o.request_id}" if o.request_id else ""
        said = {"done": f"done:{rid}{where}", "cached": f"already made:{rid}{where} (no new charge)",
                "reattached": f"collected:{rid}{where} (paid earlier, no new charge)"}.get(o.status)
        self.say(f"{o.id} (line {o.line}) " + (said or f"{o.status}: {o.error}"))
        self.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.refresh()
        super().close()


def summary(outcomes: list[Outcome]) -> str:
    """Per variant and provider: jobs, how they ended, and what this run paid."""
    rows: dict[tuple[str, str], dict] = defaultdict(lambda: defaultdict(float))
    for o in outcomes:
        row = rows[(o.variant, o.provider)]
        row["jobs"] += 1
        row[o.status] += 1
        row["paid"] += (o.cost or 0.0) if o.paid_now else 0.0
    columns = ["done", "cached", "reattached", "failed", "failed earlier", "cut off", "not run", "in flight"]
    shown = [c for c in columns if any(r.get(c) for r in rows.values())]
    header = ["variant", "provider", "jobs", *shown, "paid now"]
    body = [[v, registry.title(p), f"{r['jobs']:.0f}", *(f"{r.get(c, 0):.0f}" for c in shown), f"${r['paid']:.2f}"]
            for (v, p), r in sorted(rows.items())]
    total = ["total", "", str(len(outcomes)), *(str(sum(1 for o in outcomes if o.status == c)) for c in shown),
             f"${sum((o.cost or 0.0) for o in outcomes if o.paid_now):.2f}"]
    table = [header, *body, total]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
             for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
