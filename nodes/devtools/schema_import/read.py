"""A schema file read into the Schema of one endpoint, by the reader its format needs."""
from __future__ import annotations

import json
from pathlib import Path

from .openapi import read_openapi
from .schema import PREFIX, Schema, SchemaImportError
from .typescript import read_typescript


def read_schema(path: Path, endpoint: str) -> Schema:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaImportError(f"cannot read {path}: {exc.strerror or exc}") from None
    # A short id (v2.6/pro/image-to-video) is a Kling one; try it in full first, so `create-voice` is not
    # taken for some other model's CreateVoiceInput.
    candidates = [PREFIX + endpoint, endpoint] if not endpoint.startswith("fal-ai/") else [endpoint]
    doc = None
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise SchemaImportError(f"{path.name} looks like JSON but does not parse: {exc}") from None
    first_error = None
    for candidate in candidates:
        try:
            return read_openapi(doc, candidate, path.name) if doc is not None else \
                read_typescript(text, candidate, path.name)
        except SchemaImportError as exc:
            first_error = first_error or exc
    raise first_error
