"""Help pages (web/docs/<node id>.md) and the public contract (node ids, inputs, outputs), both read from
the node definitions without ComfyUI.

ComfyUI's frontend shows `<WEB_DIRECTORY>/docs/<node id>/<locale>.md`, else `<WEB_DIRECTORY>/docs/<node id>.md`,
in its node help panel; one locale-free page per node serves every language.

The node definitions are read by running the pack's own `define_schema` methods against a recording stand-in
for ComfyUI's `comfy_api.latest.io` (installed in sys.modules only while reading, then removed), so a page or
the contract can never disagree with what ComfyUI registers: the inputs every Kling node adds (take,
provider), the helper nodes and the outputs all come from the same code ComfyUI runs.
tests/test_contract.py checks this reading against a real ComfyUI's /object_info when COMFYUI_DIR is set.

    python . help-pages [--check]     write web/docs/ (--check: exit 1 and list stale pages)
    python . contract [--write]       compare with (--write: refresh) tests/contract_snapshot.json
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import json
import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .. import providers
from ..catalog import CATALOG, Field, Variant
from ..media_in.encode import MAX_ASPECT, MAX_BYTES, MIN_SIDE

ROOT = Path(__file__).resolve().parents[2]
DOCS_DIR = ROOT / "web" / "docs"
SNAPSHOT = ROOT / "tests" / "contract_snapshot.json"
HELP_PAGES_COMMAND = "python . help-pages"
CONTRACT_COMMAND = "python . contract --write"
# Modules of ComfyUI that the pack's node code imports (at import time or inside functions).
COMFY_MODULES = ("comfy_api", "comfy", "comfy_execution", "folder_paths", "server")
INLINE_OPTIONS = 16  # longer option lists get their own section below the table


# -- reading node definitions without ComfyUI -------------------------------------------------------

@dataclass(frozen=True)
class Socket:
    """One input or output as the node declares it: io type (IMAGE, COMBO, KLING_SHOTS...) and its keywords."""

    id: str
    type: str
    kw: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def optional(self) -> bool:
        return bool(self.kw.get("optional"))

    @property
    def label(self) -> str:
        """An output's name as ComfyUI shows it (object_info's output_name)."""
        return self.kw.get("display_name") or self.type


@dataclass(frozen=True)
class NodeDef:
    node_id: str
    display_name: str
    category: str
    description: str
    inputs: tuple[Socket, ...]
    outputs: tuple[Socket, ...]
    deprecated: bool = False


class _Anything:
    """Whatever ComfyUI object the node code touches outside define_schema (never used for a page)."""

    def __getattr__(self, name):
        return _Anything()

    def __call__(self, *args, **kwargs):
        return _Anything()


class _IoType:
    """io.Image, io.Combo, io.Custom("KLING_SHOTS"), ...: records the sockets made from it."""

    def __init__(self, io_type: str):
        self.io_type = io_type

    def Input(self, id, **kw):  # ComfyUI's names
        return Socket(id, self.io_type, kw)

    def Output(self, id=None, **kw):
        return Socket(id or "", self.io_type, kw)


class _Io(types.ModuleType):
    # ComfyUI's io type names are its class names upper-cased (io.Boolean → BOOLEAN, io.Video → VIDEO).
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _IoType(name.upper())

    ComfyNode = type("ComfyNode", (), {})
    Hidden = _Anything()

    @staticmethod
    def Custom(io_type):
        return _IoType(io_type)

    @staticmethod
    def Schema(**kw):
        return kw


class _StandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves stand-in modules for ComfyUI's own while the pack's node modules are read."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in COMFY_MODULES:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        if spec.name.endswith(".latest") or spec.name.endswith("._io"):
            module = _Io(spec.name)
            module.io = module
            module.ComfyExtension = type("ComfyExtension", (), {})
            module.InputImpl = module.ui = _Anything()
            return module
        module = types.ModuleType(spec.name)
        module.__getattr__ = lambda attr: _Anything() if not attr.startswith("__") else _raise(attr)
        return module

    def exec_module(self, module):
        module.__path__ = []


def _raise(attr):
    raise AttributeError(attr)


def read_nodes() -> list[NodeDef]:
    """Every node the pack registers, in ComfyUI's order, read from its define_schema methods."""
    adapter = __name__.rsplit(".", 2)[0] + ".comfyui"

    def ours(name: str) -> bool:
        return name == adapter or name.startswith(adapter + ".") or name.split(".")[0] in COMFY_MODULES

    saved = {n: m for n, m in sys.modules.items() if ours(n)}
    for name in saved:
        del sys.modules[name]
    finder = _StandIn()
    sys.meta_path.insert(0, finder)
    try:
        entry = importlib.import_module(f"{adapter}.nodes")
        classes = entry.all_nodes()
        return [_node_def(cls.define_schema()) for cls in classes]
    finally:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if ours(n)]:
            del sys.modules[name]
        sys.modules.update(saved)
        parent, short = adapter.rsplit(".", 1)
        if adapter in saved:
            setattr(sys.modules[parent], short, saved[adapter])
        elif hasattr(sys.modules[parent], short):
            delattr(sys.modules[parent], short)


def _node_def(schema: dict) -> NodeDef:
    return NodeDef(schema["node_id"], schema.get("display_name") or schema["node_id"], schema.get("category", ""),
                   schema.get("description", ""), tuple(schema.get("inputs") or ()),
                   tuple(schema.get("outputs") or ()), bool(schema.get("is_deprecated")))


# -- the public contract ------------------------------------------------------------------------------

def contract(nodes: Optional[list[NodeDef]] = None) -> dict:
    """node id → its input names with types, and its outputs in order: what saved workflows depend on."""
    nodes = read_nodes() if nodes is None else nodes
    return {n.node_id: {"inputs": {s.id: s.type for s in sorted(n.inputs, key=lambda s: s.id)},
                        "outputs": [[s.type, s.label] for s in n.outputs],
                        **({"deprecated": True} if n.deprecated else {})}
            for n in sorted(nodes, key=lambda n: n.node_id)}


def contract_breaks(old: dict, new: dict) -> list[str]:
    """What a workflow saved against `old` would lose with `new`. Additions are not breaks."""
    breaks = []
    for node_id, was in old.items():
        now = new.get(node_id)
        if now is None:
            breaks.append(f"{node_id}: the node is gone (keep it, marked deprecated, instead)")
            continue
        for name, io_type in was["inputs"].items():
            if name not in now["inputs"]:
                breaks.append(f"{node_id}: input {name!r} is gone or renamed")
            elif now["inputs"][name] != io_type:
                breaks.append(f"{node_id}: input {name!r} changed type {io_type} → {now['inputs'][name]}")
        # Links address outputs by position: existing ones keep their place and type; new ones go last.
        for i, (io_type, label) in enumerate(was["outputs"]):
            got = now["outputs"][i] if i < len(now["outputs"]) else None
            if got is None or got[0] != io_type:
                breaks.append(f"{node_id}: output {i} ({io_type} {label!r}) is gone, moved or changed type")
    return breaks


def contract_additions(old: dict, new: dict) -> list[str]:
    added = []
    for node_id, now in new.items():
        was = old.get(node_id)
        if was is None:
            added.append(f"{node_id} (new node)")
            continue
        added += [f"{node_id}.{name}" for name in now["inputs"] if name not in was["inputs"]]
        added += [f"{node_id} output {i}" for i in range(len(was["outputs"]), len(now["outputs"]))]
    return added


# -- pages ----------------------------------------------------------------------------------------

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
        module, offer = providers.get(name), variant.offer(name)
        rows.append(f"| {module.TITLE} (`{name}`) | `{offer.model}` | {_md(offer.price.describe())} | "
                    f"{_taken(variant, name)} | {' + '.join(f'`{e}`' for e in module.ENV)} |")
        sources.append(f"- {module.TITLE}: price: {_prose(offer.price.source or '–')}; "
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
    lines = [f"# {node.display_name}", "", _prose(variant.description), "",
             f"- node id: `{node.node_id}`; menu: {node.category}",
             f"- fal endpoint: `{variant.endpoint}`",
             f"- command line: `python . {variant.key}`{aliases}; `--help` lists every flag",
             f"- field list from: {_prose(variant.source)}", ""]
    if node.deprecated:
        lines[1:1] = ["", "**Deprecated**: kept so saved workflows still load; use a newer node."]
    lines += _inputs_table(node, variant, nodes) + [""] + _outputs_table(node) + [""] + _prices(variant)
    lines += ["", "## Example", "",
              ("From the pack's folder, with your own files: prints each provider's exact request and its price, "
               "and sends nothing (no key needed). Without `--dry-run` it makes the video."), "",
              "```bash", example_command(variant), "```"]
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
    variants = {v.node_id: v for v in CATALOG}
    pages = {}
    for node in nodes:
        variant = variants.get(node.node_id)
        lines = _variant_page(node, variant, by_id) if variant else _helper_page(node, by_id)
        footer = f"<!-- generated by `{HELP_PAGES_COMMAND}` from nodes/catalog.py; edit the catalog, not this file -->"
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


# -- command line -----------------------------------------------------------------------------------

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


def contract_main(write: bool = False) -> int:
    now = contract()
    old = json.loads(SNAPSHOT.read_text(encoding="utf-8")) if SNAPSHOT.is_file() else {}
    breaks = contract_breaks(old, now)
    if write:
        if breaks:
            print("refreshing the snapshot over these breaks of saved workflows:\n  " + "\n  ".join(breaks),
                  file=sys.stderr)
        text = json.dumps(now, indent=1, sort_keys=True, ensure_ascii=False)
        # One line per output pair keeps a diff of the snapshot readable.
        text = re.sub(r'\[\s+("[^"]*"),\s+("[^"]*")\s+\]', r"[\1, \2]", text)
        SNAPSHOT.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {SNAPSHOT} ({len(now)} nodes)")
        return 0
    for line in contract_additions(old, now):
        print(f"not in the snapshot yet: {line}")
    if breaks:
        print("breaks saved workflows:\n  " + "\n  ".join(breaks), file=sys.stderr)
        return 1
    return 0
