"""A batch manifest, line by line: JSON Lines (one object per line) or CSV (a header row, one row per video).

Each job names its variant (the CLI's command or a node id), its inputs by the CLI's flag names, and optionally
`provider`, `take` and `id`. Reading checks only the shape; what the inputs mean is checked by plan.py, which
reads them through the CLI's own parsers.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..core.errors import InputError

# Keys of a line that are not inputs of the variant.
RESERVED = ("variant", "provider", "take", "id")


@dataclass(frozen=True)
class Line:
    number: int             # in the file, 1-based (a CSV's header is line 1), as an editor shows it
    id: str                 # the user's, or "line<number>": results.jsonl and the output's file name use it
    variant: str
    provider: str
    take: int
    values: dict = field(default_factory=dict)   # flag name -> value, as written


class LineError(InputError):
    """A line that cannot run: the message names the line, the field and the rule."""

    def __init__(self, number: int, field: str, rule: str):
        self.number = number
        super().__init__(field, rule)

    def __str__(self) -> str:  # number 0: a line made by the Python API, not read from a file
        return f"line {self.number}: {super().__str__()}" if self.number else super().__str__()


def read(path: Path) -> Iterator[Line | LineError]:
    """The manifest's jobs in order; a line that is not even a job is yielded as its LineError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("manifest", f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    rows = _csv_rows(text) if path.suffix.lower() == ".csv" else _json_rows(text)
    seen: dict[str, int] = {}
    for number, row in rows:
        try:
            line = _line(number, row)
        except LineError as exc:
            yield exc
            continue
        if line.id in seen:
            yield LineError(number, "id", f"{line.id!r} is already the id of line {seen[line.id]}: ids must be "
                                          "unique (results.jsonl and the output files are named by them)")
            continue
        seen[line.id] = number
        yield line


def _json_rows(text: str) -> Iterator[tuple[int, dict | LineError]]:
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            row = json.loads(raw)
        except ValueError as exc:
            yield number, LineError(number, "line", f"is not JSON ({exc.msg} at column {exc.colno})")
            continue
        yield number, row if isinstance(row, dict) else LineError(number, "line", "must be a JSON object {...}")


def _csv_rows(text: str) -> Iterator[tuple[int, dict | LineError]]:
    reader = csv.DictReader(text.splitlines())
    for row in reader:
        number = reader.line_num
        if None in row:
            yield number, LineError(number, "line", f"has {len(row[None]) + len(reader.fieldnames)} cells, "
                                                    f"the header {len(reader.fieldnames)}")
            continue
        # An empty cell is an input not given (the variant's default), as a flag left off.
        yield number, {k.strip(): v for k, v in row.items() if k and v is not None and v.strip() != ""}


def _line(number: int, row: dict | LineError) -> Line:
    if isinstance(row, LineError):
        raise row
    variant = row.get("variant")
    if not isinstance(variant, str) or not variant.strip():
        raise LineError(number, "variant", "is required: a CLI command (e.g. i2v) or a node id")
    take = row.get("take", 0)
    try:
        take = int(take)
        if take < 0:
            raise ValueError
    except (TypeError, ValueError):
        raise LineError(number, "take", f"must be a whole number 0 or more, not {row.get('take')!r}") from None
    provider = row.get("provider") or "auto"
    if not isinstance(provider, str):
        raise LineError(number, "provider", f"must be a provider's name, not {provider!r}")
    line_id = row.get("id")
    line_id = f"line{number}" if line_id in (None, "") else str(line_id)
    if not line_id.strip() or any(c in line_id for c in "/\\\0") or line_id in (".", ".."):
        raise LineError(number, "id", f"{line_id!r} cannot name a file (no slashes, not empty)")
    values = {k: v for k, v in row.items() if k not in RESERVED}
    return Line(number, line_id, variant.strip(), provider.strip(), take, values)
