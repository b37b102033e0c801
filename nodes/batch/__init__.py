"""Batch runs: many videos from one manifest, within every provider's limits, resumable after any stop.

    manifest.py  the file (JSON Lines or CSV) → Line, or a LineError naming the line and the field
    plan.py      Line → Planned: read through the CLI's flag parsers, media loaded, request checked and priced
    lanes.py     jobs in flight per provider, slowed down by the provider's "too many" answers
    run.py       Batch: the lanes' workers, each job through jobs.generate (journal, lock, cache, spend cap)
    progress.py  the live display and the summary table
    command.py   `python . batch`; api.py: generate() and batch() for scripts, the same code path
"""
