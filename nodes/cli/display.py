"""What the command line shows while a job runs, on stderr (stdout carries only the result).

On a terminal, one progress line is kept in place (a tqdm bar) and the provider's log lines scroll above it;
in a pipe or a log file, plain lines: each phase once, its progress at most every PLAIN_EVERY seconds. In
both, each provider log line is said once (job.Update carries only the new ones), and warnings pass through
the same display, so they never break the line in place.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from typing import Optional, TextIO

from ..jobs.runner import Update

PLAIN_EVERY = 15.0  # a 3-minute job writes about a dozen progress lines to a log, not hundreds


def progress_bar(stream: TextIO, total: int = 100, bar_format: str = "{percentage:3.0f}% |{bar:20}| {desc}"):
    """A tqdm bar when `stream` is a terminal and tqdm is installed (ComfyUI brings it), else None."""
    try:
        if not stream.isatty():
            return None
        from tqdm import tqdm
        columns = os.get_terminal_size(stream.fileno()).columns
    except (ImportError, AttributeError, ValueError, OSError):  # ValueError: a closed stream
        return None
    # A terminal that reports no size (a bare pty) would get no bar at all from tqdm: assume 80x24.
    width = {"dynamic_ncols": True} if columns > 0 else {"ncols": 80, "nrows": 24}
    return tqdm(total=total, file=stream, bar_format=bar_format, leave=True,
                mininterval=0, **width)


class Display:
    def __init__(self, stream: Optional[TextIO] = None):
        self.title = ""  # the provider's, once chosen: it prefixes the provider's log lines
        self.stream = stream or sys.stderr
        self.bar = None
        self.phase: Optional[str] = None
        self.text: Optional[str] = None
        self.said_at = 0.0

    def start(self) -> None:
        self.bar = progress_bar(self.stream)

    def update(self, update: Update) -> None:
        for line in update.log_lines:
            self.say(f"{self.title}: {line}")
        if self.bar is not None:
            n = round(min(max(update.fraction, 0.0), 1.0) * 100, 1)
            if (n, update.text) != (self.bar.n, self.text):
                self.bar.n = n
                self.bar.set_description_str(update.text, refresh=False)
                self.bar.refresh()
        elif update.text != self.text and (update.phase != self.phase
                                           or time.monotonic() - self.said_at >= PLAIN_EVERY):
            self.said_at = time.monotonic()
            self.say(f"[{update.fraction * 100:3.0f}%] {update.text}")
        self.phase, self.text = update.phase, update.text

    def say(self, line: str) -> None:
        """A line that stays (a provider log line, a warning), above the line in place."""
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        """End the line in place, so what follows (the result, an error) starts on a line of its own."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# Records the display says itself: why a job stopped (the job raises it next, and the CLI prints that), and
# with -v each provider log line (Update.log_lines carries them).
SAID_ELSEWHERE = ("kling-video: request %s stopped", "kling-video [%s]: %s")


class DisplayHandler(logging.Handler):
    """Log records through the display, so a warning never breaks the line in place; what the display or the
    CLI says anyway is dropped, so nothing is said twice."""

    def __init__(self, display: Display):
        super().__init__()
        self.display = display
        self.setFormatter(logging.Formatter("%(message)s"))

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "kling_video" and str(record.msg).startswith(SAID_ELSEWHERE):
            return False
        return super().filter(record)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.display.say(self.format(record))
        except Exception:
            self.handleError(record)
