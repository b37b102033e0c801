"""The states of a paid job, as the journal records them.

pending (recorded before the submit is sent) → submitted (request id known) → completed (result known) →
downloaded (file on disk); or failed / cancelled. The values are the journal's JSON strings: journals written
by earlier versions read the same, and a JobState compares equal to its string.
"""
from __future__ import annotations

from enum import Enum


class JobState(str, Enum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    COMPLETED = "completed"
    DOWNLOADED = "downloaded"
    FAILED = "failed"
    # A cancel was asked (or the provider has none) after an interrupt or a time limit. The provider may have
    # ignored it and finished the video, so the request id is kept and the next run asks first.
    CANCELLED = "cancelled"

    def __str__(self) -> str:  # the journal's word, in messages too (not "JobState.FAILED")
        return self.value


# Tuples, not sets: a damaged journal's state may be any JSON value, unhashable ones included.
STATES = tuple(JobState)
# The provider may still hold (or be making) the paid result: a rerun of the request reattaches.
LIVE = (JobState.PENDING, JobState.SUBMITTED, JobState.COMPLETED, JobState.DOWNLOADED, JobState.CANCELLED)
# A request id leads to a paid result that was never saved: collectable without a submit ("cancelled": the
# provider may have finished it anyway; Collect asks).
COLLECTABLE = (JobState.SUBMITTED, JobState.COMPLETED, JobState.CANCELLED)
