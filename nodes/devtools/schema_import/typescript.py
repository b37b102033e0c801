"""Reading fal's TypeScript types (@fal-ai/client's endpoints.d.ts, or Appendix A's per-endpoint sections) into a
Schema. Declarations are found by name when needed, not parsed up front."""
from __future__ import annotations

import difflib
import json
import re
from typing import Iterator, Optional

from .schema import DEFAULT_NOTE, Prop, Schema, SchemaImportError

_DECL = re.compile(r"export\s+(?:type\s+(\w+)\s*=|interface\s+(\w+)(?:\s+extends\s+[\w\s,<>]+?)?\s*(?={))\s*")
_MEMBER = re.compile(r'(?:readonly\s+)?(["\']?)([\w$-]+)\1\s*(\?)?\s*:\s*(.*)', re.S)
_STRING_LIT = re.compile(r'^"((?:[^"\\]|\\.)*)"$')


def _walk(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, bracket depth after it) for each character from `start` that is outside string
    literals and comments."""
    depth, i, quote = 0, start, ""
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif text.startswith("//", i):  # comments hold apostrophes ("character's") and braces: skip them
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
            continue
        elif c in "\"'`":
            quote = c
        else:
            depth += (c in "{(<[") - (c in "})>]")
            yield i, c, depth
        i += 1


def _scan(text: str, start: int, stop_at_semicolon: bool) -> int:
    """Index just past the value starting at `start`: a balanced {...} block, or up to a top-level ';'."""
    for i, c, depth in _walk(text, start):
        if depth == 0 and stop_at_semicolon and c == ";":
            return i
        if depth == 0 and not stop_at_semicolon and c in "})>]":
            return i + 1
    return len(text)


class _Declarations:
    """Type declarations of a text, looked up by name when needed: endpoints.d.ts has 3,600 of them, and
    scanning them all takes seconds. The first declaration of a name wins (a scope holds one of each)."""

    def __init__(self, text: str):
        self.text = text
        self._found: dict[str, Optional[str]] = {}

    def get(self, name: str) -> Optional[str]:
        if name not in self._found:
            m = re.search(rf"export\s+(?:type\s+{re.escape(name)}\s*=|interface\s+{re.escape(name)}"
                          rf"(?:\s+extends\s+[^{{]+?)?\s*(?={{))\s*", self.text)
            self._found[name] = self._rhs(m.end()) if m else None
        return self._found[name]

    def _rhs(self, start: int) -> str:
        end = _scan(self.text, start, stop_at_semicolon=not self.text.startswith("{", start))
        return self.text[start:end].strip()

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def __getitem__(self, name: str) -> str:
        rhs = self.get(name)
        if rhs is None:
            raise KeyError(name)
        return rhs

    def names(self) -> list[str]:
        return [m.group(1) or m.group(2) for m in _DECL.finditer(self.text)]


def _split_top(text: str, sep: str) -> list[str]:
    parts, start = [], 0
    for i, c, depth in _walk(text):
        if c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _members(block: str) -> list[tuple[str, str]]:
    """(comment, member text) for each member of a `{ ... }` type literal."""
    body, out, comment, i = block.strip()[1:-1], [], [], 0
    while i < len(body):
        if body[i].isspace() or body[i] in ";,":
            i += 1
        elif body.startswith("/*", i):
            end = body.find("*/", i + 2)
            end = len(body) if end < 0 else end
            comment += [re.sub(r"^\s*\*+ ?", "", line) for line in body[i + 2:end].lstrip("*").splitlines()]
            i = end + 2
        elif body.startswith("//", i):
            end = body.find("\n", i)
            end = len(body) if end < 0 else end
            comment.append(body[i + 2:end])
            i = end
        else:
            end = _scan(body, i, stop_at_semicolon=True)
            out.append((" ".join(" ".join(comment).split()), body[i:end].strip()))
            comment, i = [], end + 1
    return out


class _TypeReader:
    def __init__(self, decls: _Declarations, whole_text: str):
        self.decls = decls
        self.whole = whole_text

    def prop(self, name: str, optional: bool, type_text: str, comment: str) -> Prop:
        p = self.type_of(type_text, name)
        p.wire, p.required, p.description = name, not optional, comment
        m = DEFAULT_NOTE.search(comment)
        if m:
            try:
                p.default = json.loads(m.group(1))
            except ValueError:
                p.default = m.group(1)
        return p

    def type_of(self, text: str, name: str, depth: int = 0) -> Prop:
        text = " ".join(text.split())
        parts = [t for t in _split_top(text, "|") if t not in ("null", "undefined")]
        if depth > 8 or not parts:
            return Prop(name, "unknown", text)
        if parts[0].startswith("<"):  # Appendix A's "<same ... enum as ... above>"
            return self._borrowed_enum(name, text)
        if "string" in parts and set(parts) <= {"string", "Blob", "File"} and len(parts) > 1:
            return Prop(name, "file", text)
        if all(_STRING_LIT.match(t) for t in parts):
            return Prop(name, "enum", text, options=tuple(_STRING_LIT.match(t).group(1) for t in parts))
        if len(parts) > 1:
            return Prop(name, "unknown", text)
        t = parts[0]
        if t in ("string", "number", "boolean"):
            return Prop(name, t, text)
        m = re.fullmatch(r"Array<(.+)>", t) or re.fullmatch(r"(\w+)\[\]", t)
        if m:
            return Prop(name, "array", text, items=self.type_of(m.group(1), name, depth + 1))
        if re.fullmatch(r"\w+", t) and t in self.decls:
            rhs = self.decls[t]
            if rhs.startswith("{"):
                members = tuple(self.member_props(rhs, depth + 1))
                return Prop(name, "object", text, ref=t, members=members)
            resolved = self.type_of(rhs, name, depth + 1)
            resolved.type_text, resolved.ref = text, resolved.ref or t
            return resolved
        return Prop(name, "unknown", text)

    def member_props(self, block: str, depth: int = 0) -> list[Prop]:
        props = []
        for comment, member in _members(block):
            m = _MEMBER.fullmatch(member)
            if m:
                props.append(self.prop(m.group(2), bool(m.group(3)), m.group(4), comment))
        return props

    def _borrowed_enum(self, name: str, text: str) -> Prop:
        """The same field spelled out as a string-literal union elsewhere in the file, if exactly one way."""
        found = set()
        for m in re.finditer(rf'\b{re.escape(name)}\??\s*:\s*("(?:[^"\\]|\\.)*"(?:\s*\|\s*"(?:[^"\\]|\\.)*")+)\s*;',
                             self.whole):
            found.add(tuple(_STRING_LIT.match(t).group(1) for t in _split_top(m.group(1), "|")))
        if len(found) == 1:
            return Prop(name, "enum", text, options=found.pop(),
                        note=f"options taken from `{name}` elsewhere in the file (here the schema says {text})")
        return Prop(name, "unknown", text)


def type_name(endpoint: str) -> str:
    """fal's name for an endpoint's types:
    fal-ai/kling-video/v2.5-turbo/pro/text-to-video → KlingVideoV25TurboProTextToVideo."""
    path = endpoint.split("/", 1)[1] if "/" in endpoint else endpoint
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[/.\-_]", path) if p)


def _section(text: str, endpoint: str) -> Optional[str]:
    m = re.search(rf"^#+\s*`{re.escape(endpoint)}`\s*$", text, re.M)
    if not m:
        return None
    end = re.search(r"^#", text[m.end():], re.M)
    return text[m.end(): m.end() + end.start()] if end else text[m.end():]


def read_typescript(text: str, endpoint: str, filename: str) -> Schema:
    mapped = re.search(rf'"{re.escape(endpoint)}"\s*:\s*\{{\s*input:\s*([\w.]+)\s*;\s*output:\s*([\w.]+)', text)
    section = None if mapped else _section(text, endpoint)
    scope = section if section is not None else text
    decls = _Declarations(scope)
    base = type_name(endpoint)
    if mapped:
        input_name, output_name = mapped.group(1).split(".")[-1], mapped.group(2).split(".")[-1]
    elif f"{base}Input" in decls:
        input_name, output_name = f"{base}Input", f"{base}Output"
    elif section is not None:
        inputs = [n for n in decls.names() if n.endswith("Input")]
        if not inputs:
            raise SchemaImportError(f"the section of {endpoint} in {filename} declares no ...Input type")
        input_name, output_name = inputs[0], inputs[0][:-5] + "Output"
    else:
        raise SchemaImportError(_not_found(text, endpoint, filename, base))
    if input_name in ("any", "unknown"):
        raise SchemaImportError(f"{endpoint} is typed `{input_name}` in {filename}: no schema to import")
    chain, name = [input_name], input_name
    while name in decls and re.fullmatch(r"\w+", decls[name]) and len(chain) < 10:
        name = decls[name]
        chain.append(name)
    if name not in decls:
        raise SchemaImportError(f"{endpoint}: type {name} is not declared in {filename}")
    if not decls[name].startswith("{"):
        raise SchemaImportError(f"{endpoint}: input type {name} is `{decls[name][:60]}`, not an object: "
                                f"nothing to import (fal publishes no typed schema for it)")
    reader = _TypeReader(decls, text)
    props = reader.member_props(decls[name])
    outputs: tuple = ()
    out = reader.type_of(output_name, "output") if output_name in decls else None
    if out is not None and out.type == "object":
        outputs = tuple(p.wire for p in out.members)
    return Schema(endpoint, f"{filename} {' = '.join(chain)}", props, outputs)


def _not_found(text: str, endpoint: str, filename: str, base: str) -> str:
    known = set(re.findall(r"fal-ai/kling-video/[\w./-]+\w", text))
    if endpoint in known:
        return (f"{endpoint} is mentioned in {filename} but has no typed schema there (no EndpointTypeMap entry, "
                f"no '#### `{endpoint}`' section, no type {base}Input); try fal's OpenAPI file: "
                f"https://fal.ai/api/openapi/queue/openapi.json?endpoint_id={endpoint}")
    close = difflib.get_close_matches(endpoint, sorted(known), n=3, cutoff=0.6)
    return (f"endpoint {endpoint!r} is not in {filename} (no EndpointTypeMap entry, no '#### `{endpoint}`' "
            f"section, no type {base}Input)" + (f"; did you mean {', '.join(close)}?" if close else ""))
