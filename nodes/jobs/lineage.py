"""Which journal record made a file: the pack's own downloads are known by their path (or, for a copy, by their
content), so a VIDEO or AUDIO handed from one node to the next can be traced back to the job (provider, model,
result) that made it, and its provider URL passed on instead of the bytes while that URL still serves them."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator, Optional

from ..catalog import variant as find_variant
from .download import file_sha256
from .journal import Journal
from .states import JobState


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them is gone: compare the names the journal and the caller give
        return os.path.realpath(a) == os.path.realpath(b)


def _downloads(journal: Optional[Journal]) -> Iterator[dict]:
    """Every downloaded record, newest first."""
    return (r for r in (journal or Journal()).all() if r.get("state") == JobState.DOWNLOADED and r.get("path"))


def record_of(path: os.PathLike | str, journal: Optional[Journal] = None) -> Optional[dict]:
    """The newest downloaded record whose file is `path` (with its journal key as "key"), or None when the
    pack did not download it."""
    wanted = os.fspath(Path(path))
    return next((r for r in _downloads(journal) if _same_file(r["path"], wanted)), None)


# A URL due to expire within this margin is not passed on: the receiving job may wait in a queue before the
# provider fetches it.
URL_MARGIN = 3600.0


def live_url(record: dict, now: Optional[float] = None) -> Optional[str]:
    """The record's provider URL while it serves the file for URL_MARGIN yet (and the file's hash is known)."""
    if not record.get("url") or not record.get("sha256"):
        return None
    expires = record.get("url_expires")
    if expires is not None and expires - URL_MARGIN <= (time.time() if now is None else now):
        return None
    return record["url"]


def kind_of(record: dict) -> str:
    """The output kind ("video", "audio": media_out/kinds.py) of the variant that made the record's file; ""
    for a variant this version of the pack no longer has. A URL goes only to a field that takes its kind: the
    soundtrack of a video result is an MP4, not the audio file an AUDIO field expects."""
    try:
        return find_variant(str(record.get("variant", ""))).output
    except KeyError:
        return ""


def passable_url(path: os.PathLike | str, journal: Optional[Journal] = None,
                 now: Optional[float] = None) -> Optional[tuple[str, str]]:
    """(the provider's URL, the file's SHA-256 when saved) for a file the pack downloaded, while that URL still
    serves it and the file looks unchanged (same size and mtime; the encoder checks the hash of what it reads);
    None when the file must travel as bytes."""
    record = record_of(path, journal)
    url = live_url(record, now) if record else None
    if not url:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    if stat.st_size != record.get("size") or stat.st_mtime != record.get("mtime"):
        return None
    return url, record["sha256"]


def url_of_content(sha256: str, kind: str, journal: Optional[Journal] = None,
                   now: Optional[float] = None) -> Optional[tuple[str, int]]:
    """(the provider's URL, the file's size) of a download of `kind` whose file had this SHA-256, while the URL
    still serves it; None when there is none. Whatever the local file became since, the provider serves
    what was downloaded."""
    for record in _downloads(journal):
        if record.get("sha256") == sha256 and live_url(record, now) and kind_of(record) == kind:
            return record["url"], record.get("size") or 0
    return None


def copy_of_download(path: os.PathLike | str, kind: str, journal: Optional[Journal] = None,
                     now: Optional[float] = None) -> Optional[tuple[str, str]]:
    """(the provider's URL, the SHA-256) when the file at `path` is byte for byte a download of `kind` whose URL
    still serves it: the journal's own copy, or any copy of it (the CLI's --out). The file is hashed only when
    a download of that kind has its size; None when it must travel as bytes."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return None
    sizes = [r for r in _downloads(journal) if r.get("size") == size and live_url(r, now) and kind_of(r) == kind]
    if not sizes:
        return None
    digest = file_sha256(path)
    return next(((r["url"], digest) for r in sizes if r["sha256"] == digest), None)
