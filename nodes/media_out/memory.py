"""How much memory this process can still take, and a refusal that says so before a big tensor is made.

A float32 frames tensor is 4 bytes per channel per pixel: 10 s of 4K is 22 GiB. Allocating more than the machine
(or the container) can give gets the whole ComfyUI process killed by the kernel, every other running node with it;
an error on the node instead leaves the user a choice.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .probe import MediaError

GiB = 1024**3
# What the decoder needs beside its output (reference pictures, thread contexts, the audio) and what the rest of
# the process allocates meanwhile: a result that fills memory to the last page would still get the process killed.
RESERVE = 512 * 1024**2
UNLIMITED = 1 << 60  # cgroup v1 writes "no limit" as a page-rounded 2^63


class NotEnoughMemory(MediaError):
    """The frames would not fit in the memory this process can still use; raised before allocating them."""

    def __init__(self, message: str, need: int, available: int):
        super().__init__(message)
        self.need, self.available = need, available


@dataclass(frozen=True)
class Available:
    bytes: int
    source: str  # where the figure comes from, for the message


def _meminfo(root: Path) -> Optional[int]:
    try:
        for line in (root / "proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _read_int(path: Path) -> Optional[int]:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _stat(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _cgroup_dirs(root: Path) -> list[tuple[Path, str]]:
    """This process's memory cgroup folders, innermost first, each with its version ("v1"/"v2").

    /proc/self/cgroup names the group relative to the hierarchy's root; inside a container the mounted
    /sys/fs/cgroup often is that group already, so the path is tried under the mount and the mount itself last.
    """
    try:
        lines = (root / "proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        if controllers == "" and (root / "sys/fs/cgroup/cgroup.controllers").exists():
            mount, version = root / "sys/fs/cgroup", "v2"
        elif "memory" in controllers.split(","):
            mount, version = root / "sys/fs/cgroup/memory", "v1"
        else:
            continue
        group = mount / rel.lstrip("/")
        if not group.is_dir():
            group = mount
        # A parent's limit binds its children too: walk up to the mount.
        while True:
            found.append((group, version))
            if group == mount or mount not in group.parents:
                break
            group = group.parent
    return found


def _cgroup_headroom(group: Path, version: str) -> Optional[int]:
    if version == "v2":
        limit, usage = _read_int(group / "memory.max"), _read_int(group / "memory.current")
    else:
        limit, usage = _read_int(group / "memory.limit_in_bytes"), _read_int(group / "memory.usage_in_bytes")
    if limit is None or usage is None or limit >= UNLIMITED:
        return None
    # The usage counts the page cache, which the kernel drops before it kills anyone: its inactive part is
    # as good as free (the figure `docker stats` shows).
    stat = group / "memory.stat"
    inactive = _stat(stat, "inactive_file") if version == "v2" else _stat(stat, "total_inactive_file")
    return max(0, limit - max(0, usage - inactive))


def available(root: Path = Path("/")) -> Optional[Available]:
    """The memory this process can still allocate: MemAvailable, or a cgroup limit's headroom when smaller.
    None where neither is known (not Linux): the check is then skipped rather than guessed."""
    best = None
    total = _meminfo(root)
    if total is not None:
        best = Available(total, "available memory")
    for group, version in _cgroup_dirs(root):
        room = _cgroup_headroom(group, version)
        if room is not None and (best is None or room < best.bytes):
            best = Available(room, f"the container's memory limit (cgroup {version})")
    return best


def gib(n: int) -> str:
    return f"{n / GiB:.1f} GiB" if n >= GiB else f"{n / 2**20:.0f} MiB"


def check_fits(need: int, what: str, *, path=None, request_id: Optional[str] = None,
               memory_available: Optional[int] = None, advice: str = "") -> None:
    """Raise NotEnoughMemory unless `need` more bytes (plus RESERVE) fit in what the process can still use.

    `memory_available` replaces the measured figure (tests, the benchmark). A paid result's `request_id` (and
    `path`) make the message say where it is kept: nothing is lost, nothing needs paying again."""
    if memory_available is not None:
        room = Available(memory_available, "the limit given")
    else:
        room = available()
        if room is None:
            return
    if need + RESERVE <= room.bytes:
        return
    message = (f"not enough memory for the frames: {what} need {gib(need)} ({need} bytes), but this process can "
               f"use only {gib(room.bytes)} more now ({room.source}; {gib(RESERVE)} kept for the decoder). "
               f"{advice or DEFAULT_ADVICE}")
    if request_id:
        where = f" at {os.fspath(path)}" if isinstance(path, (str, os.PathLike)) else ""
        message += (f" The paid video is saved{where} and recorded in the Kling jobs journal (request {request_id}): "
                    "running the node again reads it from disk at no cost.")
    raise NotEnoughMemory(message, need, room.bytes)


DEFAULT_ADVICE = ("Use the VIDEO output instead (SaveVideo and video nodes take it without decoding), or decode "
                  "fewer, smaller frames with the Kling Video to Frames node (its size, frame_cap and every_nth).")
