"""Kling Extend's request: the source video's id at Kling, found through the journal from the file the node
was handed, and every reason Kling would refuse it, checked before anything is sent; then the ordinary field
checks and price for Kling's API."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Optional

from ..catalog import Field, Variant
from ..catalog.kling_only import EXTEND, PRO_SOURCE_FACTOR
from ..core.errors import InputError
from ..media_out.probe import MediaError, probe_video
from ..providers import kling, registry
from ..providers.wire_format import split_mode
from ..request import Cost, PreparedRequest, prepare
from .journal import Journal
from .lineage import record_of

INPUT = "video"
# The node takes a VIDEO; what is checked and sent is its id.
_BY_ID = replace(EXTEND, fields=(Field("video_id", "string", required=True),) + EXTEND.fields[1:])
# What every refusal ends with: the one kind of VIDEO Kling can extend.
CONNECT = ("connect the VIDEO output of a Kling 1.0, 1.5 or 1.6 node run with provider 'kling' (Kling's own "
           "API), or of another Kling Extend")


@dataclass(frozen=True)
class ExtendSource:
    video_id: str       # Kling's id of the video (task_result.videos[0].id)
    model: str          # its "<model_name>/<mode>", which the extension keeps
    seconds: float      # its whole length
    key: str            # the journal record that made it


def source_of(path: Optional[os.PathLike | str], journal: Optional[Journal] = None,
              now: Optional[dt.datetime] = None) -> ExtendSource:
    """The Kling video behind the file `path`; InputError naming why Kling could not extend it."""
    if path is None:
        raise InputError(INPUT, "is not a file the pack downloaded (it was made or trimmed in the workflow, e.g. "
                                "by Create Video or Video Slice): Kling extends only videos it made itself, by "
                                f"their id; {CONNECT}")
    record = record_of(path, journal)
    name = Path(path).name
    if record is None:
        raise InputError(INPUT, f"{name} is not a video the pack downloaded from a Kling job (the journal has no "
                                f"record of it, e.g. a Load Video file): Kling extends only videos it made itself, "
                                f"by their id; {CONNECT}")
    provider = record.get("provider", "fal")
    if provider != "kling":
        raise InputError(INPUT, f"{name} was made on {registry.title(provider)}, not on Kling's own API, so Kling "
                                f"has no id for it and cannot extend it; {CONNECT}")
    model = str(record.get("endpoint") or "")
    if not kling.extendable(model):
        raise InputError(INPUT, f"{name} was made by {split_mode(model)[0] or 'an unknown model'}; Kling's API "
                                f"extends only videos of {', '.join(kling.EXTENDABLE)} (and extensions of them); "
                                f"{CONNECT}")
    video_id, reported = kling.video_of(record.get("result") or {})
    if not video_id:
        raise InputError(INPUT, f"{name}: Kling's answer in the journal (entry {record['key'][:12]}) names no "
                                f"video id; {CONNECT}")
    created = _when(record.get("created"))
    now = now or dt.datetime.now(dt.timezone.utc)
    if created and (now - created).days >= kling.KEPT_DAYS:
        raise InputError(INPUT, f"{name} was made on {created:%Y-%m-%d}; Kling clears videos "
                                f"{kling.KEPT_DAYS} days after generation, so it can no longer be extended")
    seconds = max(filter(None, (reported, _probed(path))), default=None)
    if seconds is None:
        raise InputError(INPUT, f"{name}: its length is unknown (the file does not open and Kling's answer "
                                "gives none), so the 3-minute limit cannot be checked")
    if seconds + kling.EXTEND_ADDS_SECONDS > kling.EXTEND_MAX_SECONDS:
        raise InputError(INPUT, f"{name} lasts {seconds:.1f} s; an extension adds up to "
                                f"{kling.EXTEND_ADDS_SECONDS:g} s and Kling's limit is "
                                f"{kling.EXTEND_MAX_SECONDS / 60:g} minutes in all, so it cannot be extended again")
    return ExtendSource(video_id, model, seconds, record["key"])


def prepare_extend(path: Optional[os.PathLike | str], inputs: Mapping[str, Any],
                   journal: Optional[Journal] = None) -> PreparedRequest:
    """The checked request to extend the video at `path` (inputs: prompt, negative_prompt, cfg_scale). Sends
    nothing; the request's model is the source's, which Kling keeps."""
    source = source_of(path, journal)
    prepared = prepare(_BY_ID, {**inputs, "video_id": source.video_id}, "kling")
    cost = prepared.cost
    if split_mode(source.model)[1] == "pro" and cost.usd is not None:
        usd = round(cost.usd * PRO_SOURCE_FACTOR, 4)
        cost = Cost(None, usd, usd, f"per request; a pro-mode source: {PRO_SOURCE_FACTOR:g} × ${cost.usd:g}, "
                                    "as a reseller reports")
    return PreparedRequest(EXTEND, prepared.body, cost, "kling", source.model)


def prepare_node(variant: Variant, inputs: Mapping[str, Any], provider: str = "kling") -> PreparedRequest:
    """The node's prepare step: its plain inputs (the VIDEO as its file's path, or something that is not a
    file) → the checked request."""
    inputs = dict(inputs)
    video = inputs.pop(INPUT, None)
    if video is None:
        raise InputError(INPUT, f"is required: {CONNECT}")
    return prepare_extend(video if isinstance(video, (str, os.PathLike)) else None, inputs)


def _probed(path) -> Optional[float]:
    try:
        return probe_video(path).duration or None
    except (MediaError, OSError):
        return None


def _when(iso) -> Optional[dt.datetime]:
    try:
        when = dt.datetime.fromisoformat(str(iso))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
