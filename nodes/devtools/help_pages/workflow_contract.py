"""The public contract: node ids, their inputs and outputs, which saved workflows depend on; compared with
the snapshot in tests/contract_snapshot.json."""
from __future__ import annotations

import json
import re
import sys
from typing import Optional

from .node_schemas import ROOT, NodeDef, read_nodes

SNAPSHOT = ROOT / "tests" / "contract_snapshot.json"


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
