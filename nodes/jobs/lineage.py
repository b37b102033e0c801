"""Which journal record made a file: the pack's own downloads are known by their path, so a VIDEO handed from
one node to the next can be traced back to the job (provider, model, result) that made it."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Optional

from .journal import Journal
from .states import JobState


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them is gone: compare the names the journal and the caller give
        return os.path.realpath(a) == os.path.realpath(b)


def record_of(path: os.PathLike | str, journal: Optional[Journal] = None) -> Optional[dict]:
    """The newest downloaded record whose file is `path` (with its journal key as "key"), or None when the
    pack did not download it."""
    wanted = os.fspath(Path(path))
    for record in (journal or Journal()).all():  # newest first
        saved = record.get("path")
        if record.get("state") == JobState.DOWNLOADED and saved and _same_file(saved, wanted):
            return record
    return None


# A URL due to expire within this margin is not passed on: the receiving job may wait in a queue before the
# provider fetches it.
URL_MARGIN = 3600.0


def passable_url(path: os.PathLike | str, journal: Optional[Journal] = None,
                 now: Optional[float] = None) -> Optional[tuple[str, str]]:
    """(the provider's URL, the file's SHA-256 when saved) for a file the pack downloaded, while that URL still
    serves it and the file looks unchanged (same size and mtime; the encoder checks the hash of what it reads);
    None when the file must travel as bytes."""
    record = record_of(path, journal)
    if not record or not record.get("url") or not record.get("sha256"):
        return None
    expires = record.get("url_expires")
    if expires is not None and expires - URL_MARGIN <= (time.time() if now is None else now):
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    if stat.st_size != record.get("size") or stat.st_mtime != record.get("mtime"):
        return None
    return record["url"], record["sha256"]
