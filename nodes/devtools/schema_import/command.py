"""`python . schema-import FILE ENDPOINT`: print the entry, with a note when the catalog already has it."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .entry_source import comment, entry_source
from .names import names
from .read import read_schema
from .schema import SchemaImportError


def _catalog_note(endpoint: str, key: str, node_id: str) -> str:
    """Warn when the endpoint, key or node id is already in the catalog (the draft would clash)."""
    try:
        from ...catalog import CATALOG
    except ImportError:  # run without the pack's dependencies: skip the comparison
        return ""
    notes = []
    for v in CATALOG:
        if v.endpoint == endpoint:
            notes += comment(f"NOTE: {endpoint} is already in the catalog (nodes/catalog/) as {v.key!r} "
                             f"({v.display_name}): compare, don't add it twice.", 0)
        elif key in (v.key, *v.aliases) or node_id == v.node_id:
            notes += comment(f"TODO review: key {key!r} or node id {node_id!r} is taken by {v.key!r}; "
                              f"pick another.", 0)
    return "\n".join(notes)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python <pack folder> schema-import",
                                     description="Print a catalog entry (Python for nodes/catalog/fal_entries.py) "
                                                 "for a fal endpoint, from fal's typed schema of it.")
    parser.add_argument("file", type=Path, help="@fal-ai/client's src/types/endpoints.d.ts, a text with such types "
                                                "(provider_protocols.md Appendix A), or fal's OpenAPI JSON")
    parser.add_argument("endpoint_id", help="e.g. fal-ai/kling-video/v2.6/pro/image-to-video (the fal-ai/kling-video/ "
                                            "prefix may be left out)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        schema = read_schema(args.file, args.endpoint_id)
    except SchemaImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    command = f"python . schema-import {args.file.name} {schema.endpoint}"
    n = names(schema.endpoint)
    note = _catalog_note(schema.endpoint, n.key, n.node_id)
    print((note + "\n" if note else "") + entry_source(schema, command))
    return 0
