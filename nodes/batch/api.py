"""For scripts: the batch's code path (the journal, the lock, the cache, the spend cap and the lanes), as calls.

    import runpy
    runpy.run_path("ComfyUI/custom_nodes/comfyui-kling-video/nodes/devtools/pack_loader.py")["load_pack"]()
    from comfyui_kling_video.nodes.batch.api import batch, generate

    shot = generate("i2v", image="start.png", prompt="a slow dolly in", duration="10", out="renders")
    print(shot.path, shot.request_id, shot.cost)
    for o in batch("jobs.jsonl", concurrency=8):
        print(o.id, o.status, o.path or o.error)

Inputs are named and written as in a manifest (the CLI's flags, media as paths, relative to the working
folder for generate() and to the manifest for batch()). Running the same call again pays nothing twice.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

from ..core.errors import JobFailed
from .command import Plan, execute, plan
from .manifest import Line
from .plan import check
from .run import FINISHED, Outcome

Result = Outcome


def generate(variant: str, *, provider: str = "auto", take: int = 0, out: str | Path = ".",
             id: Optional[str] = None, **inputs) -> Result:
    """One video (or voice, or sound): its Result, with `path` the file in `out` named <id>.<ext> (by default
    <variant>_<the request hash's first 12 characters>). Raises InputError before sending anything when an
    input is wrong, JobFailed when the job failed."""
    base = Path.cwd()
    line = Line(0, id or "", variant, provider, int(take), dict(inputs))
    job = check(line, base)
    job = dataclasses.replace(job, line=dataclasses.replace(line, id=id or f"{job.variant.key}_{job.key[:12]}"))
    # A plan of one job: the same run as a manifest's, without a results.jsonl.
    outcomes, _, _ = execute(Plan(base / "generate", 1, 1, [job], [job], []), Path(out), show=False,
                             results=False)
    outcome = outcomes[0]
    if outcome.status not in FINISHED:
        raise JobFailed(outcome.error or outcome.status, request_id=outcome.request_id)
    return outcome


def batch(manifest: str | Path, *, out: Optional[str | Path] = None, concurrency: Optional[int] = None,
          retry_failed: bool = False, skip_invalid: bool = False, shard: Optional[str] = None,
          max_usd: Optional[float] = None, progress: bool = False) -> list[Result]:
    """Every job of the manifest (or of its shard "I/N"), in manifest order, as `python . batch` runs them;
    results.jsonl is written too. Raises InputError (InvalidLines names every bad line) before sending anything."""
    found = plan(Path(manifest), shard_text=shard, skip_invalid=skip_invalid, retry_failed=retry_failed,
                 max_usd=max_usd)
    outcomes, _, _ = execute(found, Path(out) if out else None, concurrency=concurrency,
                             retry_failed=retry_failed, show=progress)
    return outcomes
