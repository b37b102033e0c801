"""The help pages in Markdown, one per node, from the node definitions and the catalog; and web/docs kept equal
to them."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

from ...providers import registry
from ...catalog import CATALOG, Field, Variant
from ...catalog.kling_only import GENERATED, KLING_ONLY
from ...media_in.encode import MAX_ASPECT, MAX_BYTES, MIN_SIDE
from .node_schemas import ROOT, NodeDef, Socket, read_nodes

DOCS_DIR = ROOT / "web" / "docs"
HELP_PAGES_COMMAND = "python . help-pages"
INLINE_OPTIONS = 16  # longer option lists get their own section below the table

EXAMPLE_TEXT = {
    "prompt": "A paper boat drifts down a rainy street at dusk, soft rain sounds",
    "text": "Hello, and welcome back.",
    "sound_effect_prompt": "rain on a tin roof, distant thunder",
    "background_music_prompt": "calm piano",
}
WIDGET_TYPES = ("STRING", "INT", "FLOAT", "BOOLEAN", "COMBO")
EXAMPLE_FILES = {"image": "start.png", "images": "photo.png", "mask": "mask.png", "video": "clip.mp4",
                 "audio": "voice.wav"}
# Helper node per structured kind: the node that builds it.
BUILDERS = {"shots": "KlingVideo_Shot", "elements": "KlingVideo_Element", "dynamic_masks": "KlingVideo_DynamicMask",
            "camera": "KlingVideo_CameraControl"}


def _md(text: Any) -> str:
    """A value made safe for one Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _prose(text: Any) -> str:
    """Free text (tooltips, descriptions): `<<<voice_1>>>` would otherwise be taken for an HTML tag and dropped
    by the help panel's sanitiser."""
    return _md(str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def _value(v: Any) -> str:
    if v is None or v == "":
        return "" if v is None else '""'
    if isinstance(v, bool):
        return "on" if v else "off"
    return f"`{v}`"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _limits(s: Socket, f: Optional[Field], nodes: dict) -> str:
    parts = []
    options = s.kw.get("options")
    if options and len(options) <= INLINE_OPTIONS:
        parts.append(", ".join(f"`{o}`" for o in options))
    elif options:
        parts.append(f"{len(options)} options, listed below")
    lo, hi = s.kw.get("min"), s.kw.get("max")
    if lo is not None or hi is not None:
        rng = f"{_num(lo)} to {_num(hi)}" if lo is not None and hi is not None else (
            f"at least {_num(lo)}" if lo is not None else f"at most {_num(hi)}")
        step = s.kw.get("step")
        parts.append(rng + (f", step {_num(step)}" if step else ""))
    if f is not None:
        if f.max_length:
            parts.append(f"at most {f.max_length} characters")
        if f.kind == "string_list" and f.max_items:
            parts.append(f"up to {f.max_items}, separated by commas")
        elif f.kind == "images":
            parts.append(f"a batch of {f.min_items or 1} to {f.max_items} images" if f.max_items else "a batch")
        elif f.kind in BUILDERS:
            count = ""
            if f.max_items:
                count = f"{f.min_items} to {f.max_items}, " if f.min_items else f"up to {f.max_items}, "
            builder = nodes.get(BUILDERS[f.kind])
            parts.append(count + (f"from {builder.display_name} nodes" if builder else ""))
        if f.media is not None:
            parts.append(_media(f.media))
        if f.same_size_as:
            parts.append(f"same size as `{f.same_size_as}`")
        if f.kind in ("image", "images"):
            parts.append(f"{'each ' if f.kind == 'images' else ''}at least {MIN_SIDE}x{MIN_SIDE} px, aspect ratio "
                         f"1:{MAX_ASPECT:g} to {MAX_ASPECT:g}:1, at most {MAX_BYTES / 1e6:g} MB encoded")
    return "; ".join(p for p in parts if p)


def _media(m) -> str:
    parts = []
    if m.min_seconds is not None or m.max_seconds is not None:
        parts.append(f"{_num(m.min_seconds or 0)}-{_num(m.max_seconds)} s" if m.max_seconds is not None
                     else f"at least {_num(m.min_seconds)} s")
    if m.min_px is not None or m.max_px is not None:
        parts.append(f"sides {m.min_px or 0}-{m.max_px} px" if m.max_px else f"sides at least {m.min_px} px")
    if m.max_bytes is not None:
        parts.append(f"at most {_num(m.max_bytes / 1e6)} MB")
    if m.min_fps is not None or m.max_fps is not None:
        parts.append(f"{_num(m.min_fps or 0)}-{_num(m.max_fps)} fps")
    return ", ".join(parts)


def _inputs_table(node: NodeDef, variant: Optional[Variant], nodes: dict) -> list[str]:
    rows = ["| input | type | required | default | limits | what it does |", "|---|---|---|---|---|---|"]
    long_options = []
    for s in node.inputs:
        f = variant.field(s.id) if variant is not None and variant.has(s.id) else None
        # A widget always has a value; "required" means the user must give one (or connect a socket).
        required = f.required if f is not None else not (s.optional or s.type in WIDGET_TYPES)
        rows.append(f"| `{s.id}` | {s.type} | {'yes' if required else ''} | {_md(_value(s.kw.get('default')))} | "
                    f"{_md(_limits(s, f, nodes))} | {_prose(s.kw.get('tooltip', ''))} |")
        if len(s.kw.get("options") or ()) > INLINE_OPTIONS:
            long_options.append(s)
    lines = ["## Inputs", ""] + rows
    for s in long_options:
        lines += ["", f"### `{s.id}` options", "", ", ".join(f"`{o}`" for o in s.kw["options"])]
    return lines


def _outputs_table(node: NodeDef) -> list[str]:
    rows = ["## Outputs", "", "| output | type | what it is |", "|---|---|---|"]
    for s in node.outputs:
        rows.append(f"| {_md(s.label)} | {s.type} | {_prose(s.kw.get('tooltip', ''))} |")
    return rows


def _taken(variant: Variant, provider: str) -> str:
    takes = set(variant.offer(provider).fields)
    missing = [f.name for f in variant.fields if f.wire not in takes]
    return "all" if not missing else "all but " + ", ".join(f"`{m}`" for m in missing)


def _prices(variant: Variant) -> list[str]:
    rows = ["## Providers and prices", "",
            "| provider | model | price | inputs taken | keys (environment) |", "|---|---|---|---|---|"]
    sources = []
    for name in variant.providers:
        provider, offer = registry.info(name), variant.offer(name)
        rows.append(f"| {provider.title} (`{name}`) | `{offer.model}` | {_md(offer.price.describe())} | "
                    f"{_taken(variant, name)} | {' + '.join(f'`{e}`' for e in provider.env)} |")
        sources.append(f"- {provider.title}: price: {_prose(offer.price.source or '–')}; "
                       f"inputs: {_prose(offer.source or '–')}.")
    notes = ["", "`provider` = `auto` takes the first of " + ", ".join(variant.providers) +
             " whose keys are set. Prices are list prices, shown as estimates on the node's badge and in its "
             "`request_id / cost` output; where none is published the node says \"price unknown\"."]
    return rows + notes + ["", "Sources:", ""] + sources


def example_command(variant: Variant) -> str:
    """A dry run of the variant from the command line: prints each provider's request and price, sends nothing."""
    args = ["python", ".", variant.key]
    for f in variant.fields:
        if not (f.required or f.name == "prompt"):
            continue
        flag = f"--{f.name.replace('_', '-')}"
        if f.kind in EXAMPLE_FILES:
            args += [flag, EXAMPLE_FILES[f.kind]]
        elif f.kind == "text":
            args += [flag, json.dumps(EXAMPLE_TEXT.get(f.name, "..."), ensure_ascii=False)]
        elif f.kind == "enum":
            args += [flag, str(f.default)]
    return " ".join(args + ["--dry-run"])


def _variant_page(node: NodeDef, variant: Variant, nodes: dict) -> list[str]:
    aliases = "".join(f" (or `{a}`)" for a in variant.aliases)
    in_cli = variant in CATALOG + GENERATED  # Kling Extend has a node, no sub-command
    lines = [f"# {node.display_name}", "", _prose(variant.description), "",
             f"- node id: `{node.node_id}`; menu: {node.category}"]
    lines += [f"- fal endpoint: `{variant.endpoint}`"] * bool(variant.endpoint)
    lines += [f"- command line: `python . {variant.key}`{aliases}; `--help` lists every flag"] * in_cli
    lines += [f"- field list from: {_prose(variant.source)}", ""]
    if node.deprecated:
        lines[1:1] = ["", "**Deprecated**: kept so saved workflows still load; use a newer node."]
    lines += _inputs_table(node, variant, nodes) + [""] + _outputs_table(node) + [""] + _prices(variant)
    lines += ["", "## Example", "",
              ("From the pack's folder, with your own files: prints each provider's exact request and its price, "
               "and sends nothing (no key needed). Without `--dry-run` it makes the video."), "",
              "```bash", example_command(variant), "```"] * in_cli
    structs = [f for f in variant.fields if f.kind in BUILDERS and BUILDERS[f.kind] in nodes]
    if structs:
        lines += ["", "In ComfyUI, " + "; ".join(
            f"`{f.name}` comes from {nodes[BUILDERS[f.kind]].display_name} (`{BUILDERS[f.kind]}`) nodes"
            for f in structs) + "."]
    return lines


def _helper_page(node: NodeDef, nodes: dict) -> list[str]:
    lines = [f"# {node.display_name}", "", _prose(node.description), "",
             f"- node id: `{node.node_id}`; menu: {node.category}",
             "- price: free (runs locally, sends no request)"]
    kinds = [k for k, helper in BUILDERS.items() if helper == node.node_id]
    users = [v for v in CATALOG if any(f.kind in kinds for f in v.fields)]
    if users:
        into = ", ".join(f"`{f.name}`" for f in users[0].fields if f.kind in kinds)
        lines.append(f"- connect its output to {into} of: " + ", ".join(
            f"{v.display_name} (`{v.node_id}`)" for v in users))
    lines += [""] + _inputs_table(node, None, nodes) + [""] + _outputs_table(node)
    return lines


def render_pages(nodes: Optional[list[NodeDef]] = None) -> dict[str, str]:
    """File name (`<node id>.md`) → page text, for every node the pack registers."""
    nodes = read_nodes() if nodes is None else nodes
    by_id = {n.node_id: n for n in nodes}
    variants = {v.node_id: v for v in CATALOG + KLING_ONLY}
    pages = {}
    for node in nodes:
        variant = variants.get(node.node_id)
        lines = _variant_page(node, variant, by_id) if variant else _helper_page(node, by_id)
        footer = f"<!-- generated by `{HELP_PAGES_COMMAND}` from nodes/catalog/; edit the catalog, not this file -->"
        pages[f"{node.node_id}.md"] = "\n".join(lines + ["", footer]) + "\n"
    return pages


def stale_pages(docs: Path = DOCS_DIR, pages: Optional[dict[str, str]] = None) -> list[str]:
    """Pages missing, different from the catalog, or left over from a node that is gone."""
    pages = render_pages() if pages is None else pages
    stale = [name for name, text in pages.items()
             if not (docs / name).is_file() or (docs / name).read_text(encoding="utf-8") != text]
    extra = [p.name for p in docs.glob("*.md") if p.name not in pages] if docs.is_dir() else []
    return sorted(stale) + sorted(f"{name} (no such node)" for name in extra)


def write_pages(docs: Path = DOCS_DIR) -> list[str]:
    pages = render_pages()
    docs.mkdir(parents=True, exist_ok=True)
    changed = stale_pages(docs, pages)
    for name, text in pages.items():
        (docs / name).write_text(text, encoding="utf-8", newline="\n")
    for p in docs.glob("*.md"):  # locale folders (<node id>/<locale>.md) are hand-written: left alone
        if p.name not in pages:
            p.unlink()
    return changed


def help_pages_main(check: bool = False, docs: Path = DOCS_DIR) -> int:
    if check:
        stale = stale_pages(docs)
        if stale:
            print(f"{len(stale)} stale help page(s) in {docs}; run `{HELP_PAGES_COMMAND}`:", file=sys.stderr)
            print("\n".join(f"  {name}" for name in stale), file=sys.stderr)
            return 1
        print(f"help pages up to date in {docs}")
        return 0
    changed = write_pages(docs)
    print(f"wrote the help pages to {docs} ({len(changed)} changed)")
    return 0
