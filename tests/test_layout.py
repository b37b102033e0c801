"""The pack's layout rules, read from the code: every module's imports (at the top and inside functions,
relative ones resolved) are checked against the layering table below, ComfyUI stays in nodes/comfyui/, no
import cycles, provider modules import without numpy/PIL/torch/av, and no module grows past MAX_LINES.
A failure names the file, the line and the import; each layer's entry in LAYERS says why it may import what
it does."""
from __future__ import annotations

import ast
import json
import pathlib
import subprocess
import sys
from dataclasses import dataclass
from typing import Optional

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = "comfyui_kling_video"  # the fixed name tests and the CLI load the pack under (absolute imports)

# layer: (the layers it may import besides itself, why). A module's layer is its folder under nodes/
# (nodes/request.py or nodes/request/ is "request"), except providers/registry.py, which is its own.
LAYERS = {
    "providers.registry": ((), "the providers' names, titles and key variables: data everything reads, even "
                               "core, so it can import nothing"),
    "core": (("providers.registry",), "errors, settings, files, http, keys: the floor every stage stands on"),
    "catalog": (("core", "providers.registry"), "what each node takes and costs: pure description, read by "
                                                "every stage after it"),
    "media_in": (("core", "catalog"), "encodes inputs to files; knows no request, provider or host"),
    "request": (("core", "catalog", "media_in", "providers.registry"), "checks, body and price of a request "
                                                                      "before any provider code runs"),
    "providers": (("core", "catalog", "media_in", "request", "providers.registry"),
                  "wire formats over HTTP: plain types only, never the encoder (see ONLY and "
                  "test_provider_modules_import_without_numpy_pil_torch_av)"),
    "media_out": (("core",), "probes and decodes result files, whoever made them"),
    "jobs": (("providers.registry", "core", "catalog", "request", "providers", "media_out"),
             "runs a prepared request on a provider and saves the result; no host"),
    "comfyui": (("providers.registry", "core", "catalog", "media_in", "request", "providers", "media_out", "jobs"),
                "the adapter: the one place ComfyUI meets the pack; nothing below depends on it"),
    "cli": (("providers.registry", "core", "catalog", "media_in", "request", "providers", "media_out", "jobs",
             "batch", "devtools"), "the command line runs the same pipeline without ComfyUI (and the developer "
                                   "commands, and batches)"),
    "batch": (("providers.registry", "core", "catalog", "media_in", "request", "providers", "media_out", "jobs",
               "cli"), "many jobs through the jobs stage; a manifest line is read by the CLI's own flag parsers, "
                       "so it means what the same words mean on the command line"),
    "devtools": (("providers.registry", "core", "catalog", "media_in", "request", "providers", "media_out", "jobs",
                  "comfyui", "cli", "batch"), "help_pages reads the adapter's node schemas with stand-ins for "
                                              "ComfyUI"),
}
# (importing layer, imported layer): the only modules of that layer it may import, and why.
ONLY = {
    ("providers", "media_in"): ({"nodes.media_in.media"}, "the numpy-free Media type, never the encoder"),
}
COMFY_MODULES = ("comfy_api", "comfy", "comfy_execution", "comfy_extras", "comfy_api_nodes", "folder_paths",
                 "server", "nodes")  # `nodes` absolute is ComfyUI's nodes.py; the pack imports its own relatively
HEAVY = ("numpy", "PIL", "torch", "av")
MAX_LINES = 400
# Pure data tables may be longer: splitting a table only scatters it. {"nodes/x/y.py": "why"}; none is
# today (the catalog's entries fit in modules by family).
LONG_TABLES: dict[str, str] = {}


@dataclass(frozen=True)
class Import:
    file: str             # path from the pack's root
    line: int
    text: str             # the statement as written (normalised)
    target: str           # the imported module: the pack's as "nodes.x.y", others by their full name
    ours: bool            # a module of the pack
    top_level: bool       # runs when the importing module is imported (not inside a function)
    type_checking: bool   # under `if TYPE_CHECKING:` (never runs)

    def where(self) -> str:
        return f"{self.file}:{self.line}: `{self.text}`"


def pack_files() -> list[pathlib.Path]:
    return sorted([*ROOT.glob("*.py"), *(ROOT / "nodes").rglob("*.py")])


def module_name(path: pathlib.Path) -> str:
    """'nodes.core.errors' for nodes/core/errors.py, 'nodes.catalog' for nodes/catalog/__init__.py, '' for the
    pack's own __init__.py."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in pack_files()}


ABOVE = "<above the pack>"  # the target of a relative import with more dots than the pack has levels


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    package = current if is_package else current.rpartition(".")[0]
    parts = package.split(".") if package else []
    if node.level - 1 > len(parts):
        return ABOVE
    base = parts[:len(parts) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(current: str, is_package: bool, node) -> list[tuple[str, bool]]:
    """(module, is the pack's) for each module an import statement loads."""
    if isinstance(node, ast.Import):
        return [_absolute(alias.name) for alias in node.names]
    if node.level == 0:
        base = _absolute(node.module or "")
        if not base[1]:
            return [base]
        module = base[0]
    else:
        module = _resolve(current, is_package, node)
        if module == ABOVE:
            return [(ABOVE, True)]
    # `from . import x` loads the submodule x when there is one, else takes a name from the package.
    found = []
    for alias in node.names:
        sub = f"{module}.{alias.name}" if module else alias.name
        found.append((sub if sub in MODULES else module, True))
    return found


def _absolute(name: str) -> tuple[str, bool]:
    if name == PACKAGE or name.startswith(PACKAGE + "."):
        return name[len(PACKAGE) + 1:], True
    return name, False


def imports_of(path: pathlib.Path) -> list[Import]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, str(path))
    current, rel = module_name(path), path.relative_to(ROOT).as_posix()
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def visit(node, top_level: bool, type_checking: bool) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for target, ours in _targets(current, is_package, node):
                found.append(Import(rel, node.lineno, ast.unparse(node), target, ours, top_level, type_checking))
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            top_level = False
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, top_level, True)
            for child in node.orelse:
                visit(child, top_level, type_checking)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, top_level, type_checking)

    visit(tree, True, False)
    return found


def _is_type_checking(test) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


ALL_IMPORTS = {name: imports_of(path) for name, path in MODULES.items()}


def layer_of(module: str) -> Optional[str]:
    """The module's layer; None for the pack's entry files (__init__.py, __main__.py) and nodes/__init__.py."""
    if not module.startswith("nodes."):
        return None
    rest = module[len("nodes."):]
    if rest == "providers.registry" or rest.startswith("providers.registry."):
        return "providers.registry"
    return rest.split(".")[0]


# -- the rules ---------------------------------------------------------------------------------------

def test_relative_imports_stay_in_the_pack():
    found = [imp.where() for imports in ALL_IMPORTS.values() for imp in imports if imp.target == ABOVE]
    assert not found, "\n  ".join(["relative imports that climb out of the pack (one dot too many?):", *found])


def test_every_module_is_in_a_layer():
    unknown = sorted(str(MODULES[m].relative_to(ROOT)) for m in MODULES
                     if layer_of(m) is not None and layer_of(m) not in LAYERS)
    assert not unknown, f"modules in no layer of LAYERS (add their folder with its rules): {unknown}"


def layering_violations() -> list[str]:
    found = []
    for module, imports in ALL_IMPORTS.items():
        layer = layer_of(module)
        if layer is None or layer not in LAYERS:
            continue
        allowed, _ = LAYERS[layer]
        for imp in imports:
            if not imp.ours:
                continue
            to = layer_of(imp.target)
            if to is None or to == layer:
                continue
            if to not in allowed:
                found.append(f"{imp.where()} imports {imp.target}: {layer} may import only "
                             f"{', '.join(allowed) or 'nothing of the pack'} ({LAYERS[layer][1]})")
            elif (layer, to) in ONLY and imp.target not in ONLY[layer, to][0]:
                modules, why = ONLY[layer, to]
                found.append(f"{imp.where()} imports {imp.target}: {layer} may import only "
                             f"{', '.join(sorted(modules))} of {to} ({why})")
    return found


def test_imports_follow_the_layers():
    found = layering_violations()
    assert not found, "imports against the layering rules:\n  " + "\n  ".join(found)


def comfyui_violations() -> list[str]:
    return [f"{imp.where()}: ComfyUI's {imp.target} is imported only in nodes/comfyui/"
            for module, imports in ALL_IMPORTS.items() if layer_of(module) != "comfyui"
            for imp in imports if not imp.ours and imp.target.split(".")[0] in COMFY_MODULES]


def test_comfyui_is_imported_only_in_the_adapter():
    found = comfyui_violations()
    assert not found, "\n  ".join(["ComfyUI outside nodes/comfyui/:", *found])


def import_cycles() -> list[str]:
    """Every strongly connected group of modules, each shown as one cycle through it with its imports.
    Imports under `if TYPE_CHECKING:` never run, so they make no cycle."""
    edges: dict[str, dict[str, Import]] = {m: {} for m in MODULES}
    for module, imports in ALL_IMPORTS.items():
        for imp in imports:
            if imp.ours and not imp.type_checking and imp.target in MODULES and imp.target != module:
                edges[module].setdefault(imp.target, imp)
    cycles = []
    for group in _strongly_connected(edges):
        if len(group) > 1:
            cycles.append(_show_cycle(_cycle_in(sorted(group)[0], group, edges), edges))
    return cycles


def _strongly_connected(edges: dict[str, dict]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the import graph is small, but recursion depth is not worth a thought)."""
    index, low, on_stack, stack, groups, counter = {}, {}, set(), [], [], [0]
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups


def _cycle_in(start: str, group: set[str], edges: dict[str, dict]) -> list[str]:
    """The shortest path from start back to start inside its group (breadth first)."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in sorted(edges[node]):
                if child not in group:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, node, start]
                if child not in came_from:
                    came_from[child] = node
                    nxt.append(child)
        frontier = nxt
    raise AssertionError(f"no cycle through {start}")


def _show_cycle(path: list[str], edges: dict[str, dict]) -> str:
    steps = [f"{a} → {b} ({edges[a][b].where()})" for a, b in zip(path, path[1:])]
    return " → ".join(path) + "\n      " + "\n      ".join(steps)


def test_no_import_cycles():
    cycles = import_cycles()
    assert not cycles, "import cycles (imports inside functions count too):\n  " + "\n  ".join(cycles)


PROVIDER_MODULES = sorted(m for m in MODULES if layer_of(m) in ("providers", "providers.registry"))

_IMPORT_ONE = """
import importlib, json, runpy, sys
runpy.run_path(sys.argv[1])["load_pack"]()
importlib.import_module(sys.argv[2])
print(json.dumps(sorted(n for n in sys.modules if n.split(".")[0] in sys.argv[3].split(","))))
"""


@pytest.mark.parametrize("module", PROVIDER_MODULES)
def test_provider_modules_import_without_numpy_pil_torch_av(module):
    """Provider modules know JSON and HTTP: a host without numpy/PIL/torch/av (a proxy, a CLI that only
    collects) must be able to import them. Checked in a fresh interpreter, where nothing was imported before."""
    done = subprocess.run([sys.executable, "-c", _IMPORT_ONE, str(ROOT / "nodes" / "devtools" / "pack_loader.py"),
                           f"{PACKAGE}.{module}", ",".join(HEAVY)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    heavy = [n for n in json.loads(done.stdout.splitlines()[-1]) if "." not in n]
    assert not heavy, (f"importing {MODULES[module].relative_to(ROOT)} imports {', '.join(heavy)}; "
                       f"through: {heavy_path(module) or 'no import of the pack (a library pulls it in)'}")


def heavy_path(start: str) -> str:
    """The chain of top-level imports from `start` to a module that imports numpy/PIL/torch/av at its top."""
    came_from: dict[str, Optional[Import]] = {start: None}
    frontier = [start]
    while frontier:
        nxt = []
        for module in frontier:
            for imp in ALL_IMPORTS.get(module, []):
                if not imp.top_level or imp.type_checking:
                    continue
                if not imp.ours and imp.target.split(".")[0] in HEAVY:
                    chain, at = [imp], module
                    while came_from[at] is not None:
                        chain.append(came_from[at])
                        at = _module_of(came_from[at])
                    return " → ".join(i.where() for i in reversed(chain))
                if imp.ours and imp.target in MODULES and imp.target not in came_from:
                    came_from[imp.target] = imp
                    nxt.append(imp.target)
        frontier = nxt
    return ""


def _module_of(imp: Import) -> str:
    return module_name(ROOT / imp.file)


def long_modules() -> list[str]:
    found = []
    for path in sorted((ROOT / "nodes").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and rel not in LONG_TABLES:
            found.append(f"{rel}:{lines}: {lines} lines, over {MAX_LINES}; split it along its seams "
                         "(or, for a pure data table, add it to LONG_TABLES with the reason)")
    return found


def test_no_module_is_too_long():
    found = long_modules()
    assert not found, "\n  ".join(["modules over the limit:", *found])


def test_long_tables_are_still_long_tables():
    stale = [f"{rel}: {'missing' if not (ROOT / rel).is_file() else 'now within the limit'}; remove it from LONG_TABLES"
             for rel in LONG_TABLES
             if not (ROOT / rel).is_file() or len((ROOT / rel).read_text(encoding="utf-8").splitlines()) <= MAX_LINES]
    assert not stale, "\n  ".join(stale)
