"""What the readers of fal's schemas produce: one Schema of Props, the same whichever file format it came from."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

PREFIX = "fal-ai/kling-video/"
NO_DEFAULT = object()
# fal writes a property's default into its description too; the TypeScript types have no other place for it.
DEFAULT_NOTE = re.compile(r"Default value:\s*`(.*?)`")


class SchemaImportError(Exception):
    """The file has no usable schema for the endpoint; the message says what was looked for."""


@dataclass
class Prop:
    """One schema property, the same whichever file format it came from."""

    wire: str
    type: str                      # string file number integer boolean enum array object unknown
    type_text: str = ""            # as the schema writes it, for review comments
    required: bool = False
    description: str = ""
    default: Any = NO_DEFAULT
    options: tuple = ()
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    step: Optional[float] = None
    max_length: Optional[int] = None
    min_items: Optional[int] = None
    max_items: Optional[int] = None
    items: Optional["Prop"] = None  # arrays
    ref: str = ""                  # object (or array item) type name
    members: tuple = ()            # object: its Props
    note: str = ""                 # how the reader got here, when it is not plain


@dataclass
class Schema:
    endpoint: str
    source: str                    # file and type name, for the entry's `source`
    props: list
    outputs: tuple = ()            # property names of the result
