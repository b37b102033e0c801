"""Advisory file locks shared by every process on one journal (ComfyUI, CLI runs, several ComfyUIs).

The OS drops a lock when its holder dies (kill -9 included), so a crashed run never blocks the next one.
flock locks belong to the open file, not the process: two opens in one process exclude each other too, which
is what lets threads of one ComfyUI take turns like separate processes.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import Callable, Iterator, Optional

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return True
    except OSError:
        return False


def _unlock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
    else:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


class FileLock:
    """An exclusive lock on `path` (created if missing). `acquire()` blocks a thread; `acquire_async()` waits
    on the event loop, so other jobs of the same process keep running meanwhile."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.fd: Optional[int] = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if _try_lock(fd):
            self.fd = fd
            return True
        os.close(fd)
        return False

    def acquire(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.try_acquire():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.path} stayed locked for {timeout:.0f} s")
            time.sleep(0.02)

    async def acquire_async(self, *, on_wait: Callable[[], None] = lambda: None,
                            should_stop: Callable[[], bool] = lambda: False) -> bool:
        """Wait until the lock is ours (True), or `should_stop()` says to give up (False). `on_wait` runs once
        when the lock is found held."""
        if self.try_acquire():
            return True
        on_wait()
        while True:
            await asyncio.sleep(0.1)
            if self.try_acquire():
                return True
            if should_stop():
                return False

    def release(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            try:
                _unlock(fd)
            finally:
                os.close(fd)


@contextlib.contextmanager
def locked(path: Path, timeout: float = 60.0) -> Iterator[None]:
    """A short critical section (read-check-write of a small file) across threads and processes."""
    lock = FileLock(path)
    lock.acquire(timeout)
    try:
        yield
    finally:
        lock.release()
