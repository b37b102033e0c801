"""The pack's node definitions, read without ComfyUI: its `define_schema` methods run against recording
stand-ins for ComfyUI's modules, served only while reading."""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]  # the pack's folder
# Modules of ComfyUI that the pack's node code imports (at import time or inside functions).
COMFY_MODULES = ("comfy_api", "comfy", "comfy_execution", "folder_paths", "server")
_ADAPTER = importlib.util.resolve_name("...comfyui", __package__)


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
    def ours(name: str) -> bool:
        return name == _ADAPTER or name.startswith(_ADAPTER + ".") or name.split(".")[0] in COMFY_MODULES

    saved = {n: m for n, m in sys.modules.items() if ours(n)}
    for name in saved:
        del sys.modules[name]
    finder = _StandIn()
    sys.meta_path.insert(0, finder)
    try:
        entry = importlib.import_module(f"{_ADAPTER}.nodes")
        classes = entry.all_nodes()
        return [_node_def(cls.define_schema()) for cls in classes]
    finally:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if ours(n)]:
            del sys.modules[name]
        sys.modules.update(saved)
        parent, short = _ADAPTER.rsplit(".", 1)
        if _ADAPTER in saved:
            setattr(sys.modules[parent], short, saved[_ADAPTER])
        elif hasattr(sys.modules[parent], short):
            delattr(sys.modules[parent], short)


def _node_def(schema: dict) -> NodeDef:
    return NodeDef(schema["node_id"], schema.get("display_name") or schema["node_id"], schema.get("category", ""),
                   schema.get("description", ""), tuple(schema.get("inputs") or ()),
                   tuple(schema.get("outputs") or ()), bool(schema.get("is_deprecated")))
