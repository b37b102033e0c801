"""The frames tensor's memory pages: faulting them in beside the decoder, and handing freed memory back.

A float32 frames tensor is fresh memory; the kernel zeroes each of its pages on first touch, which costs about as
much as decoding the video. Linux only; elsewhere these do nothing.
"""
from __future__ import annotations

import ctypes
import mmap
import sys
import threading

import torch


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def release_free_memory() -> None:
    # glibc keeps freed heap memory (here: the closed decoder's) resident until
    # asked; other C libraries have no malloc_trim and this does nothing.
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


class Prefault:
    """Faults in the pages of fresh frames from a second thread.

    First-touch page faults (the kernel zeroing 6 GB, page by page) otherwise
    cost the decoding thread about as much as decoding. MADV_POPULATE_WRITE
    (Linux >= 5.14) maps pages without changing their content, so racing the
    writer is harmless. It keeps only a few frames ahead of the writer: racing
    through the whole tensor at once starves the decoder threads instead
    (measured ~10% slower on 2 cores). Elsewhere this does nothing.
    """

    AHEAD = 4  # frames
    MADV_POPULATE_WRITE = 23

    def __init__(self, frames: torch.Tensor):
        self._cv = threading.Condition()
        self._written = 0
        self._stopped = False
        self._thread = None
        madvise = getattr(_libc(), "madvise", None)
        if madvise is None or len(frames) == 0:
            return
        madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        frame_bytes = frames[0].numel() * frames.element_size()
        self._thread = threading.Thread(
            target=self._run, args=(madvise, frames.data_ptr(), frame_bytes, len(frames)),
            name="kling-prefault", daemon=True,
        )
        self._thread.start()

    def _run(self, madvise, start: int, frame_bytes: int, n: int) -> None:
        page = mmap.PAGESIZE
        end = (start + n * frame_bytes) // page * page
        for i in range(n):
            with self._cv:
                self._cv.wait_for(lambda: self._stopped or i < self._written + self.AHEAD)
                if self._stopped:
                    return
            lo = -(-(start + i * frame_bytes) // page) * page
            hi = min(-(-(start + (i + 1) * frame_bytes) // page) * page, end)
            # ctypes drops the GIL for the call; nonzero means an old kernel.
            if hi > lo and madvise(lo, hi - lo, self.MADV_POPULATE_WRITE):
                return

    def written(self, count: int) -> None:
        with self._cv:
            self._written = count
            self._cv.notify()

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify()
        if self._thread is not None:
            self._thread.join()
