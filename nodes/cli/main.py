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
import re
import signal
import sys
from pathlib import Path

from ..catalog import CATALOG, STRUCT_KINDS, Variant
from ..core.errors import InputError, Interrupted, KlingError, MissingCredentials, scrub
from .display import Display, DisplayHandler
from ..jobs.generate import generate
from ..media_out.kinds import KINDS
from . import output as cli_out
from ..core import keys, settings
from ..providers import fal_pricing, registry, select
from ..providers.body_limits import upload_plan
from ..providers.wire_format import walk_media
from ..request import prepare


def _add_variant(sub, variant: Variant) -> None:
    p = sub.add_parser(variant.key, aliases=list(variant.aliases), help=variant.display_name,
                       description=f"{variant.description} Endpoint: {variant.endpoint}.")
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


# The CLI's word for what the nodes call "run the node again": a rerun of the same request is free.
AGAIN = "run the command again"


def _load_image(path: str, field: str, mode: str = "RGB"):
    import warnings
    import numpy as np
    from PIL import Image, ImageOps
    # Pillow's own decompression-bomb limit, refused rather than warned about: at 20000x20000 the decoded
    # image alone is 1.2 GB, for a video of at most 4K.
    limit = Image.MAX_IMAGE_PIXELS or 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                arr = np.asarray(ImageOps.exif_transpose(im).convert(mode))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        # Pillow names the pixel count only in its message ("Image size (400000000 pixels) exceeds ...").
        size = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = f"{int(size.group(1)) / 1e6:.0f} megapixels" if size else "more pixels"
        raise InputError(field, f"{path!r} has {pixels}, over the limit of {limit / 1e6:.0f} megapixels "
                                f"({limit:,} pixels) for an input image; scale it down") from None
    except OSError as exc:
        raise InputError(field, f"cannot read image {path!r}: {exc}") from None
    return arr if mode == "RGB" else arr.astype("float32") / 255.0


def _load_audio(path: str, field: str) -> dict:
    """An audio (or video) file as ComfyUI's AUDIO dict, through PyAV."""
    import av
    import numpy as np
    try:
        with av.open(path) as container:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", layout=stream.layout.name, rate=stream.rate)
            chunks = [r.to_ndarray() for frame in container.decode(stream) for r in resampler.resample(frame)]
            rate = stream.rate
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise InputError(field, f"cannot read audio from {path!r}: {exc}") from None
    return {"waveform": np.concatenate(chunks, axis=1)[None], "sample_rate": rate}


def _load(kind: str, value, field: str):
    """A CLI value (paths, JSON with paths) as the node input the same field would get in ComfyUI."""
    import numpy as np
    if value is None:
        return None
    if kind == "image":
        return _load_image(value, field)
    if kind == "images":
        return np.stack([_load_image(v, field) for v in value])
    if kind == "mask":
        return _load_image(value, field, "L")
    if kind == "video":
        return value  # a path: media_in reads the file
    if kind == "audio":
        return _load_audio(value, field)
    if kind == "elements":
        return [{"frontal": _load("image", e.get("frontal"), field),
                 "references": _load("images", e.get("references"), field),
                 "video": e.get("video"), "voice_id": e.get("voice_id", "")} for e in value]
    if kind == "dynamic_masks":
        return [{"mask": _load("mask", m.get("mask"), field), "trajectories": m.get("trajectories")} for m in value]
    return value


def _inputs(args, variant: Variant) -> dict:
    return {f.name: _load(f.kind, getattr(args, f.name), f.name) for f in variant.fields}


def _print_dry_run(variant: Variant, inputs: dict, requested: str) -> None:
    """Each provider's exact request (media shortened) and its cost; sends nothing, needs no key."""
    names = variant.providers if requested == "auto" else (requested,)
    prepared_by, refused = {}, {}
    for name in names:
        try:
            prepared_by[name] = prepare(variant, inputs, name)
        except InputError as exc:
            refused[name] = exc
    if not prepared_by:
        raise next(iter(refused.values()))  # the inputs are wrong for everyone
    for name in names:
        module, title = select.get(name), registry.title(name)
        if name in refused:
            print(f"== {title}: refused before sending: {refused[name]}\n")
            continue
        prepared = prepared_by[name]
        # A provider with storage (fal) uploads large media before submitting; a dry run only says it would.
        uploaded = {m.digest for m in upload_plan(prepared.body, module.LIMITS)}
        body = walk_media(prepared.body, lambda m: m if m.digest not in uploaded
                          else f"<{m.name}, {len(m.data)} bytes: uploaded to {name} storage first>")
        try:
            wire = module.wire(prepared.model, body)
        except InputError as exc:  # too large for a provider without storage
            print(f"== {title}: refused before sending: {exc}\n")
            continue
        line, auth = module.describe(prepared.model, wire)
        print(f"== {title}\n{line}\n{auth}\nContent-Type: application/json\n")
        print(_shorten(scrub(json.dumps(wire, indent=2, ensure_ascii=False))))
        print(f"\nestimated cost: {prepared.cost}\n")


def _shorten(text: str) -> str:
    # Raw base64 (Kling, Vercel) is as bulky as a data URI: keep its length only.
    return re.sub(r'"([A-Za-z0-9+/=]{200,})"', lambda m: f'"…[{len(m.group(1))} base64 chars]"', text)


def markdown_table() -> str:
    rows = ["| node | fal endpoint | inputs | price on fal | other providers (model) |", "|---|---|---|---|---|"]
    for v in CATALOG:
        inputs = ", ".join(f"`{f.name}`" + ("*" if f.required else "") for f in v.fields)
        others = ", ".join(f"{registry.title(o.provider)} (`{o.model}`)" for o in v.offers) or "–"
        rows.append(f"| {v.display_name} | `{v.endpoint.removeprefix('fal-ai/kling-video/')}` | {inputs} | "
                    f"{v.price.describe()} | {others} |")
    return "\n".join(rows)


def providers_table() -> str:
    """Variant × provider for every variant more than fal serves: model, price, the inputs it takes."""
    rows = ["| variant | provider | model | price | inputs taken |", "|---|---|---|---|---|"]
    for v in CATALOG:
        if len(v.providers) < 2:
            continue
        for name in v.providers:
            offer = v.offer(name)
            left_out = [f"`{f.name}`" for f in v.fields if f.wire not in offer.fields]
            taken = "all" if not left_out else "all but " + ", ".join(left_out)
            limits = "; ".join(f"`{v.field(w).name}` " + (f"≤{a} items" if isinstance(a, int) else "|".join(a))
                               for w, a in offer.limits)
            price = offer.price.describe() if offer.price.audio_off is not None else "not published"
            rows.append(f"| {v.display_name if name == 'fal' else ''} | {registry.title(name)} | `{offer.model}` | "
                        f"{price} | {taken}{' (' + limits + ')' if limits else ''} |")
    return "\n".join(rows)


async def _run(prepared, out_dir: Path, take: int, display: Display):
    # Ctrl-C must cancel the job at the provider, not just abandon it: the job notices the flag, cancels
    # and raises Interrupted. A second Ctrl-C quits without waiting for the cancel's answer.
    stop = asyncio.Event()
    task = asyncio.current_task()

    def on_sigint() -> None:
        if stop.is_set():
            task.cancel()
            return
        stop.set()
        display.say(f"stopping: asking {display.title} to cancel the job (Ctrl-C again to quit without waiting)")
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, on_sigint)
    except (NotImplementedError, RuntimeError):  # Windows: Ctrl-C raises KeyboardInterrupt instead
        pass
    _, done = await generate(lambda: prepared, out_dir, take=take, on_update=display.update, interrupted=stop.is_set)
    return done


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python <pack folder>", description="Kling video on fal.ai from the command line.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the variants")
    sub.add_parser("table", help="print the README's table of nodes (markdown)").add_argument(
        "--providers", action="store_true", help="the table of variants × providers instead")
    sub.add_parser("help-pages", help="write web/docs/<node id>.md from the catalog").add_argument(
        "--check", action="store_true", help="write nothing; exit 1 listing stale pages")
    sub.add_parser("contract", help="check node ids and inputs against tests/contract_snapshot.json").add_argument(
        "--write", action="store_true", help="refresh the snapshot")
    schema = sub.add_parser("schema-import", help="print a catalog entry for a fal endpoint from its typed schema "
                            "(README: Adding a new Kling model)")
    schema.add_argument("file", help="endpoints.d.ts of @fal-ai/client, a text in its form, or an OpenAPI JSON")
    schema.add_argument("endpoint_id", help="e.g. fal-ai/kling-video/v2.6/pro/image-to-video")
    for variant in CATALOG:
        _add_variant(sub, variant)
    args = parser.parse_args(argv)
    if args.command == "list":
        for v in CATALOG:
            print(f"{v.key:20} {', '.join(v.aliases):4} {v.display_name:42} {v.endpoint}")
        return 0
    if args.command == "table":
        print(providers_table() if args.providers else markdown_table())
        return 0
    if args.command == "schema-import":
        from ..devtools import schema_import
        return schema_import.main([args.file, args.endpoint_id])
    if args.command in ("help-pages", "contract"):
        from ..devtools import help_pages
        return help_pages.help_pages_main(args.check) if args.command == "help-pages" else help_pages.contract_main(args.write)
    variant: Variant = args.variant
    display = Display()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        handlers=[DisplayHandler(display)])
    done, started = None, False
    try:
        # Every setting first, dry run included: they shape the request a dry run shows (what goes inline).
        settings.check_all()
        inputs = _inputs(args, variant)
        if args.dry_run:
            _print_dry_run(variant, inputs, args.provider)
            return 0
        destination = cli_out.check(args.out) if KINDS[variant.output].is_file else None
        provider = select.choose(variant, args.provider)  # a missing key is the first thing to hear
        select.get(provider).credentials()
        display.title = registry.title(provider)
        if provider == "fal":  # fal's live prices, at most once a day; the catalog's when that fails
            asyncio.run(fal_pricing.refresh_if_due())
        prepared = prepare(variant, inputs, provider)
        out_dir = settings.home() / "outputs"  # the journal's copy; --out gets its own
        print(f"estimated cost: {prepared.cost}", file=sys.stderr)
        display.start()
        started = True
        try:
            done = asyncio.run(_run(prepared, out_dir, args.take, display))
        finally:
            display.close()
        if done.path is None:  # e.g. create-voice: the answer is the result
            print(json.dumps(done.result))
        else:
            safe_id = re.sub(r"[^\w.-]+", "_", done.request_id)
            out = destination.path(f"{variant.key}_{safe_id}{done.path.suffix}")
            try:
                cli_out.write(done.path, out)
            except OSError as exc:
                print(f"error: the {variant.output} is paid for and saved at {done.path}, but writing {out} failed "
                      f"({exc.strerror or exc}); {AGAIN} (with an --out that can be written) to copy it there at no "
                      "new cost", file=sys.stderr)
                return 1
            print(out)
        print(f"{registry.title(provider)} request {done.request_id}, est. {prepared.cost}")
        return 0
    except (MissingCredentials, keys.BadKey, settings.SettingsError) as exc:
        hint = "; add --dry-run to see the request without a key" if isinstance(exc, MissingCredentials) else ""
        print(f"error: {exc}\n(nothing was sent{hint})", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"error: {exc}" + ("\n(nothing was sent)" if exc.field == "--out" else ""), file=sys.stderr)
        return 2 if exc.field == "--out" else 1
    except Interrupted as exc:
        said = str(exc)  # "Interrupted: fal.ai request ..." or "Interrupted while waiting ..."
        print("interrupted" + (said[len("Interrupted"):] if said.startswith("Interrupted") else f": {said}"),
              file=sys.stderr)
        return 130
    except KlingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):  # CancelledError: a second Ctrl-C during the job
        if done is not None and done.path is not None:
            said = f"the {variant.output} is saved at {done.path}; {AGAIN} to copy it at no new cost"
        elif started:
            said = f"quit without waiting for the provider's answer; {AGAIN} to reattach to the job (no new charge)"
        else:
            said = "nothing was sent"
        print(f"interrupted: {said}", file=sys.stderr)
        return 130
    except OSError as exc:  # the machine's side (a full disk, a vanished folder): said, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
