"""Where the command line writes its result (--out): checked before anything is paid for, written whole.

A destination that cannot be written used to surface as a traceback after the job was paid; now it is an
error before any request. What can still fail later (the disk fills, the folder goes away mid-job) leaves the
paid video in the journal's outputs folder, from where a rerun copies it at no new cost.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..core.errors import InputError


@dataclass(frozen=True)
class Destination:
    folder: Path
    name: Optional[str]  # None: the default name, known once the request id is

    def path(self, default_name: str) -> Path:
        return self.folder / (self.name or default_name)


def check(out: Optional[str]) -> Destination:
    """--out as given: a file, a folder for the default name (one that exists, or any path ending in a
    separator), or None for the current folder. A missing folder is created now, as users expect; a place
    the result cannot be written raises InputError naming --out, before anything is sent."""
    if out is None:
        folder, name = Path.cwd(), None
    else:
        given = Path(out).expanduser()
        if out.endswith(("/", os.sep)) or given.is_dir():
            folder, name = given, None
        else:
            folder, name = given.parent, given.name
            if given.exists() and not given.is_file():
                raise InputError("--out", f"{out} exists and is not a regular file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InputError("--out", f"cannot make the folder {folder}: {_file_above(folder)} is a file") from None
    except OSError as exc:
        raise InputError("--out", f"cannot make the folder {folder} ({exc.strerror or exc})") from None
    # Permission bits do not tell (root, read-only mounts, /proc): only creating a file there does.
    probe = folder / f".{name or 'kling-video'}.{os.getpid()}.check"
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        probe.unlink()
    except OSError as exc:
        raise InputError("--out", f"cannot write in {folder} ({exc.strerror or exc})") from None
    return Destination(folder, name)


def _file_above(path: Path) -> Path:
    for parent in (path, *path.parents):
        if parent.exists():
            return parent
    return path


def write(source: Path, target: Path) -> None:
    """Copy `source` to `target` through a temporary name in the same folder, so `target` is either the
    whole video or untouched, whatever interrupts the copy."""
    target.parent.mkdir(parents=True, exist_ok=True)  # it may have been removed while the job ran
    temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        # 0o666 less the umask, as any file the user's tools create (mkstemp would make it 0600)
        with os.fdopen(os.open(temporary, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o666), "wb") as out, \
                open(source, "rb") as data:
            shutil.copyfileobj(data, out)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
