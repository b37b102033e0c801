"""Command line: the nodes' pipeline without ComfyUI.

    python . i2v --image start.png --end-image end.png --prompt "..." --out out.mp4
    python . t2v --prompt "..." --duration 10 --dry-run
    python . list
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path

from .catalog import CATALOG, Variant
from .errors import Interrupted, KlingError, MissingCredentials, scrub
from .job import Job, Update
from .providers import fal
from .request import prepare


def _add_variant(sub, variant: Variant) -> None:
    p = sub.add_parser(variant.key, aliases=list(variant.aliases), help=variant.display_name,
                       description=f"{variant.description} Endpoint: {variant.endpoint}.")
    p.set_defaults(variant=variant)
    for f in variant.fields:
        flags = [f"--{f.name.replace('_', '-')}"] + ([f"--{f.cli_alias}"] if f.cli_alias else [])
        kw = dict(dest=f.name, help=f.tooltip)
        if f.kind == "image":
            p.add_argument(*flags, metavar="PATH", **kw)
        elif f.kind == "bool":
            p.add_argument(*flags, action=argparse.BooleanOptionalAction, default=f.default, **kw)
        elif f.kind == "enum":
            p.add_argument(*flags, choices=f.options, default=f.default, **kw)
        elif f.kind == "float":
            p.add_argument(*flags, type=float, default=f.default, **kw)
        else:
            p.add_argument(*flags, default=f.default, **kw)
    p.add_argument("--out", type=Path, default=None, help="where to write the MP4 (default: ./<variant>_<request id>.mp4)")
    p.add_argument("--dry-run", action="store_true", help="print the exact request and its cost; send nothing")
    p.add_argument("-v", "--verbose", action="store_true")


def _load_image(path: str, field: str):
    import numpy as np
    from PIL import Image, ImageOps
    from .errors import InputError
    try:
        with Image.open(path) as im:
            return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    except OSError as exc:
        raise InputError(field, f"cannot read image {path!r}: {exc}") from None


def _inputs(args, variant: Variant) -> dict:
    inputs = {}
    for f in variant.fields:
        value = getattr(args, f.name)
        if f.kind == "image":
            if value is not None:
                inputs[f.name] = _load_image(value, f.name)
        else:
            inputs[f.name] = value
    return inputs


def _print_dry_run(prepared) -> None:
    v = prepared.variant
    print(f"POST {fal.queue_base()}/{v.endpoint}")
    print("Authorization: Key $FAL_KEY")
    print("Content-Type: application/json")
    print()
    print(scrub(json.dumps(prepared.body, indent=2, ensure_ascii=False)))
    print()
    print(f"estimated cost: {prepared.cost}")


async def _run(job: Job):
    # Ctrl-C must cancel the job at fal, not just abandon it: the job notices the flag and cancels.
    stop = asyncio.Event()
    job.interrupted = stop.is_set
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    except (NotImplementedError, RuntimeError):  # Windows: Ctrl-C raises KeyboardInterrupt instead
        pass
    return await job.run()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python <pack folder>", description="Kling video on fal.ai from the command line.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the variants and their prices")
    for variant in CATALOG:
        _add_variant(sub, variant)
    args = parser.parse_args(argv)
    if args.command == "list":
        for v in CATALOG:
            print(f"{v.key:16} {', '.join(v.aliases):6} {v.display_name}  ({v.endpoint})")
        return 0
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    variant: Variant = args.variant
    try:
        if not args.dry_run:
            fal.api_key()  # the first thing a new user needs to hear about
        prepared = prepare(variant, _inputs(args, variant))
        if args.dry_run:
            _print_dry_run(prepared)
            return 0
        out_dir = (args.out.parent if args.out else Path.cwd()).resolve()
        last = [""]

        def show(update: Update) -> None:
            if update.text != last[0]:
                last[0] = update.text
                print(f"[{update.fraction * 100:3.0f}%] {update.text}", file=sys.stderr)

        print(f"estimated cost: {prepared.cost}", file=sys.stderr)
        done = asyncio.run(_run(Job(prepared, out_dir, on_update=show)))
        path = done.path
        if args.out:
            os.replace(path, args.out)
            path = args.out
        print(f"{path}\nfal request {done.request_id}, est. {prepared.cost}")
        return 0
    except MissingCredentials as exc:
        print(f"error: {exc}\n(nothing was sent; add --dry-run to see the request without a key)", file=sys.stderr)
        return 2
    except KlingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Interrupted):
        return 130
