"""The flags of each variant's command: one per catalog field, named after it, typed by its kind.

The batch manifest names its inputs by the same flags and is parsed by the same parsers, so a line of a
manifest means exactly what the same words on the command line mean.
"""
from __future__ import annotations

import argparse
import json

from ..catalog import STRUCT_KINDS, Variant


def add_variant(sub, variant: Variant) -> None:
    p = sub.add_parser(variant.key, aliases=list(variant.aliases), help=variant.display_name,
                       description=variant.description
                       + (f" Endpoint: {variant.endpoint}." if variant.endpoint else ""))
    p.set_defaults(variant=variant)
    for f in variant.fields:
        flags = [f"--{f.name.replace('_', '-')}"] + ([f"--{f.cli_alias}"] if f.cli_alias else [])
        kw = dict(dest=f.name, help=f.tooltip)
        if f.kind in ("image", "mask", "video", "audio"):
            p.add_argument(*flags, metavar="PATH", **kw)
        elif f.kind == "images":
            p.add_argument(*flags, metavar="PATH", nargs="+", **kw)
        elif f.kind in STRUCT_KINDS:
            p.add_argument(*flags, metavar="JSON", type=json.loads,
                           help=f"{f.tooltip} As JSON, e.g. {STRUCT_EXAMPLES[f.kind]}")
        elif f.kind == "bool":
            p.add_argument(*flags, action=argparse.BooleanOptionalAction, default=f.default, **kw)
        elif f.kind == "enum":
            p.add_argument(*flags, choices=f.options, default=f.default, metavar="{" + ",".join(f.options[:6])
                           + (",..." if len(f.options) > 6 else "") + "}", **kw)
        elif f.kind in ("float", "int"):
            p.add_argument(*flags, type=float if f.kind == "float" else int, default=f.default, **kw)
        else:
            p.add_argument(*flags, default=f.default, **kw)
    p.add_argument("--out", default=None, metavar="PATH", help="where to write the MP4: a file, or a folder for the "
                   "default name ./<variant>_<request id>.mp4; missing folders are made (checked before anything "
                   "is sent)")
    p.add_argument("--provider", choices=["auto", *variant.providers], default="auto",
                   help="who runs the job (auto: the first of fal, kling, aimlapi, vercel with a key set)")
    p.add_argument("--take", type=int, default=0, help="0, 1, 2, ...: another number makes a new (paid) video "
                   "from the same inputs; the same number returns the journal's video at no cost")
    p.add_argument("--dry-run", action="store_true", help="print the exact request and its cost; send nothing")
    p.add_argument("-v", "--verbose", action="store_true")


STRUCT_EXAMPLES = {
    "shots": '\'[{"prompt": "a door opens", "duration": "5"}, {"prompt": "a cat walks in", "duration": "5"}]\'',
    "elements": '\'[{"frontal": "face.png", "references": ["side.png"]}]\' or \'[{"video": "me.mp4", "voice_id": "..."}]\'',
    "dynamic_masks": '\'[{"mask": "mask.png", "trajectories": [{"x": 100, "y": 200}, {"x": 300, "y": 200}]}]\'',
    "camera": '\'{"movement_type": "zoom", "movement_value": 5}\'',
}
