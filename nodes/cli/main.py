"""Command line: the nodes' pipeline without ComfyUI.

    python . i2v --image start.png --end-image end.png --prompt "..." --out out.mp4
    python . t2v --prompt "..." --duration 10 --dry-run
    python . list
    python . batch jobs.jsonl --dry-run     (nodes/batch/: many jobs from a manifest)
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

from ..batch import command as batch_command
from ..catalog import CATALOG, Variant
from ..catalog.kling_only import GENERATED
from ..core.errors import InputError, Interrupted, KlingError, MissingCredentials, scrub
from .display import Display, DisplayHandler
from ..jobs.generate import generate
from ..media_out.kinds import KINDS
from . import output as cli_out
from .args import add_variant
from .inputs import inputs as cli_inputs
from ..core import keys, settings
from ..providers import fal_pricing, registry, select
from ..providers.body_limits import upload_plan
from ..providers.wire_format import walk_media
from ..request import prepare


# The CLI's word for what the nodes call "run the node again": a rerun of the same request is free.
AGAIN = "run the command again"


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
    for v in CATALOG + GENERATED:
        inputs = ", ".join(f"`{f.name}`" + ("*" if f.required else "") for f in v.fields)
        others = ", ".join(f"{registry.title(o.provider)} (`{o.model}`)" for o in v.offers) or "–"
        if not v.endpoint:  # served by Kling's own API only: its price is the offer's
            others = ", ".join(f"{registry.title(o.provider)} (`{o.model}`, {o.price.describe()})" for o in v.offers)
        endpoint = f"`{v.endpoint.removeprefix('fal-ai/kling-video/')}`" if v.endpoint else "– (not on fal)"
        rows.append(f"| {v.display_name} | {endpoint} | {inputs} | "
                    f"{v.price.describe() if v.endpoint else '–'} | {others} |")
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
    batch_command.add_parser(sub)
    for variant in CATALOG + GENERATED:
        add_variant(sub, variant)
    args = parser.parse_args(argv)
    if args.command == "list":
        for v in CATALOG + GENERATED:
            print(f"{v.key:20} {', '.join(v.aliases):4} {v.display_name:42} "
                  f"{v.endpoint or ', '.join(f'{o.provider}: {o.model}' for o in v.offers)}")
        return 0
    if args.command == "table":
        print(providers_table() if args.providers else markdown_table())
        return 0
    if args.command == "batch":
        return batch_command.main(args)
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
        inputs = cli_inputs(args, variant)
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
