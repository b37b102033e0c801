"""From manifest lines to checked jobs: every line is read through the CLI's own flag parser, its media loaded
from paths relative to the manifest, its provider chosen and its request prepared (checked, encoded, priced)
before anything is sent. A job keeps its request hash and cost, not its encoded body: a manifest of any length
costs a few hundred bytes per line, and the body is prepared again when the job runs.
"""
from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

from ..catalog import CATALOG, STRUCT_KINDS, Variant
from ..catalog import variant as find_variant
from ..catalog.kling_only import GENERATED
from ..cli.args import add_variant
from ..cli.inputs import inputs as load_inputs
from ..core.errors import InputError, MissingCredentials
from ..jobs.generate import request_hash
from ..providers import select
from ..request import Cost, PreparedRequest, prepare
from .manifest import Line, LineError


@dataclass(frozen=True)
class Planned:
    line: Line
    variant: Variant
    provider: str
    key: str            # the request hash: the journal's key of this job
    cost: Cost
    keyless: bool = False   # dry run only: no key is set for this provider (chosen, or the first when none has one)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise _ParseError(message)


class _ParseError(Exception):
    pass


@lru_cache(maxsize=None)
def _parser(key: str) -> argparse.ArgumentParser:
    parser = _Parser(prog="batch", add_help=False)
    add_variant(parser.add_subparsers(dest="command"), find_variant(key))
    return parser


def _flags(variant: Variant) -> dict[str, str]:
    """Every spelling of a field's flag a manifest may use → the field's name."""
    names = {}
    for f in variant.fields:
        for spelling in (f.name, f.name.replace("_", "-"), f.cli_alias, f.cli_alias.replace("-", "_")):
            if spelling:
                names[spelling] = f.name
    return names


def _tokens(line: Line, variant: Variant) -> list[str]:
    """The line's values as the words of a command line."""
    flags = _flags(variant)
    tokens = []
    for key, value in line.values.items():
        name = flags.get(str(key).lstrip("-"))
        if name is None:
            known = ", ".join(f.name for f in variant.fields)
            raise LineError(line.number, str(key), f"is not an input of {variant.key} ({variant.display_name}); "
                                                  f"its inputs: {known}, and variant, provider, take, id")
        f = variant.field(name)
        flag = f"--{name.replace('_', '-')}"
        if value is None:
            continue
        if f.kind == "bool":
            on = value if isinstance(value, bool) else str(value).strip().lower()
            if on in (True, "true", "yes", "1", "on"):
                tokens.append(flag)
            elif on in (False, "false", "no", "0", "off"):
                tokens.append(f"--no-{name.replace('_', '-')}")
            else:
                raise LineError(line.number, name, f"must be true or false, not {value!r}")
        elif f.kind == "images":
            items = value if isinstance(value, list) else [v for v in str(value).split(";") if v.strip()]
            tokens += [flag, *map(str, items)]
        elif f.kind in STRUCT_KINDS:
            tokens += [flag, value if isinstance(value, str) else json.dumps(value)]
        elif isinstance(value, float) and value.is_integer() and f.kind == "enum":
            tokens += [flag, str(int(value))]  # JSON's 5.0 for the duration "5"
        else:
            tokens += [flag, str(value).lower() if isinstance(value, bool) else str(value)]
    return tokens


def _rebase(kind: str, value, base: Path):
    """Media paths of a manifest are relative to the manifest's folder, wherever the command runs."""
    def path(p):
        return p if p is None or not isinstance(p, str) else str((base / Path(p).expanduser()).resolve())
    if value is None:
        return None
    if kind in ("image", "mask", "video", "audio"):
        return path(value)
    if kind == "images":
        return [path(v) for v in value]
    if kind == "elements" and isinstance(value, list):
        return [{**e, **{k: path(e[k]) for k in ("frontal", "video") if k in e},
                 **({"references": [path(r) for r in e["references"]]} if isinstance(e.get("references"), list) else {})}
                if isinstance(e, dict) else e for e in value]
    if kind == "dynamic_masks" and isinstance(value, list):
        return [{**m, "mask": path(m.get("mask"))} if isinstance(m, dict) else m for m in value]
    return value


def _field_of(message: str, variant: Variant) -> str:
    flag = re.search(r"argument (--[\w-]+)", message)
    if flag:
        return _flags(variant).get(flag.group(1).lstrip("-"), flag.group(1))
    return "line"


def prepare_line(line: Line, base: Path, *, dry_run: bool = False) -> tuple[Planned, PreparedRequest]:
    """The line's checked request; LineError names the line, the field and the rule."""
    try:
        variant = find_variant(line.variant)
    except KeyError:
        raise LineError(line.number, "variant", f"{line.variant!r} is not a variant: `python . list` names them "
                                                "(a command such as i2v, or a node id)") from None
    if variant not in CATALOG + GENERATED:
        raise LineError(line.number, "variant", f"{variant.display_name} has no command line (it takes a VIDEO "
                                                "made in ComfyUI), so it cannot be batched")
    try:
        args = _parser(variant.key).parse_args([variant.key, *_tokens(line, variant)])
    except _ParseError as exc:
        rule = re.sub(r"^argument [\w/-]+: ", "", str(exc))
        raise LineError(line.number, _field_of(str(exc), variant), rule) from None
    for f in variant.fields:
        setattr(args, f.name, _rebase(f.kind, getattr(args, f.name), base))
    try:
        provider = select.choose(variant, line.provider)
    except InputError as exc:
        raise LineError(line.number, "provider", exc.rule) from None
    except MissingCredentials as exc:
        if not dry_run:
            raise LineError(line.number, "provider", str(exc)) from None
        provider = variant.providers[0]
    keyless = dry_run and not select.has_credentials(provider)
    try:
        prepared = prepare(variant, load_inputs(args, variant), provider)
    except LineError:
        raise
    except InputError as exc:
        raise LineError(line.number, exc.field, exc.rule) from None
    return Planned(line, variant, provider, request_hash(prepared, line.take), prepared.cost, keyless), prepared


def check(line: Line, base: Path, *, dry_run: bool = False) -> Planned:
    return prepare_line(line, base, dry_run=dry_run)[0]


def shard(jobs: list, index: int, count: int) -> list:
    """The index-th (1-based) of `count` disjoint parts: every count-th job of the manifest, starting at the
    index-th. The parts' union is the manifest, whatever each machine's keys or journal."""
    return jobs[index - 1::count]


def parse_shard(text: Optional[str]) -> tuple[int, int]:
    if not text:
        return 1, 1
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise InputError("--shard", f"must be I/N with 1 ≤ I ≤ N (e.g. 2/4 for the second of four parts), not {text!r}")
    return int(m.group(1)), int(m.group(2))
