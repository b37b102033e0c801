"""Print a catalog entry for a fal endpoint, read from fal's typed schema of it.

    python . schema-import endpoints.d.ts fal-ai/kling-video/v2.6/pro/image-to-video

The schema is one of: `src/types/endpoints.d.ts` of the `@fal-ai/client` npm package (its EndpointTypeMap
names each endpoint's input type), a text with such types under one markdown heading per endpoint, #### and
the id in backticks (Appendix A of provider_protocols.md), or fal's OpenAPI JSON of one endpoint
(https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=<id>). The output is Python source for
nodes/catalog.py, a draft for a person to review and paste: whatever the schema cannot say (a price, a
number's range, a type with no catalog kind) is a `# TODO` line rather than a guess.

Pure Python: no torch, ComfyUI or HTTP, so it runs anywhere the pack's files are.
"""
from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any, Optional

from ..catalog.enums import EFFECT_SCENES, LIPSYNC_VOICES

PREFIX = "fal-ai/kling-video/"
NO_DEFAULT = object()
# Long enums the catalog already names: the entry refers to them instead of repeating 200 values.
KNOWN_ENUMS = {EFFECT_SCENES: "EFFECT_SCENES", LIPSYNC_VOICES: "LIPSYNC_VOICES"}


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


# -- TypeScript (.d.ts and Appendix A) ----------------------------------------------------------------

_DECL = re.compile(r"export\s+(?:type\s+(\w+)\s*=|interface\s+(\w+)(?:\s+extends\s+[\w\s,<>]+?)?\s*(?={))\s*")
_MEMBER = re.compile(r'(?:readonly\s+)?(["\']?)([\w$-]+)\1\s*(\?)?\s*:\s*(.*)', re.S)
_DEFAULT = re.compile(r"Default value:\s*`(.*?)`")
_STRING_LIT = re.compile(r'^"((?:[^"\\]|\\.)*)"$')


def _scan(text: str, start: int, stop_at_semicolon: bool) -> int:
    """Index just past the value starting at `start`: a balanced {...} block, or up to a top-level ';'."""
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
        elif c in "{(<[":
            depth += 1
        elif c in "})>]":
            depth -= 1
            if depth == 0 and not stop_at_semicolon:
                return i + 1
        elif c == ";" and depth == 0 and stop_at_semicolon:
            return i
        i += 1
    return i


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
    parts, depth, quote, cur = [], 0, "", []
    for c in text:
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c in "{(<[":
            depth += 1
        elif c in "})>]":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(c)
    parts.append("".join(cur))
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
        m = _DEFAULT.search(comment)
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


# -- OpenAPI (fal's per-endpoint openapi.json) --------------------------------------------------------

class _OpenAPIReader:
    def __init__(self, doc: dict):
        self.schemas = (doc.get("components") or {}).get("schemas") or {}

    def resolve(self, node: dict) -> tuple[dict, str]:
        """A property schema with $ref, allOf [ref] wrappers and Optional's anyOf [X, null] unwrapped."""
        node, ref = dict(node or {}), ""
        for _ in range(10):
            if "$ref" in node:
                ref = node.pop("$ref").rsplit("/", 1)[-1]
                node = {**self.schemas.get(ref, {}), **node}
            elif len(node.get("allOf") or []) == 1:
                node = {**node.pop("allOf")[0], **node}
            elif node.get("anyOf") or node.get("oneOf"):
                key = "anyOf" if node.get("anyOf") else "oneOf"
                options = [o for o in node[key] if o.get("type") != "null"]
                if len(options) != 1:
                    break
                node.pop(key)
                node = {**options[0], **node}
            else:
                break
        return node, ref

    def prop(self, name: str, raw: dict, required: bool, depth: int = 0) -> Prop:
        node, ref = self.resolve(raw)
        text = ref or json.dumps(raw)[:80]
        kind = node.get("type")
        p = Prop(name, "unknown", text, required=required, ref=ref, default=node.get("default", NO_DEFAULT),
                 description=" ".join(str(node.get("description", "")).split()))
        if "enum" in node and all(isinstance(v, str) for v in node["enum"]):
            p.type, p.options = "enum", tuple(node["enum"])
        elif kind == "string":
            p.type, p.max_length = "string", node.get("maxLength")
        elif kind in ("number", "integer"):
            p.type = kind
            p.minimum = node.get("minimum", node.get("exclusiveMinimum"))
            p.maximum = node.get("maximum", node.get("exclusiveMaximum"))
            p.step = node.get("multipleOf")
        elif kind == "boolean":
            p.type = "boolean"
        elif kind == "array" and depth < 4:
            p.type, p.min_items, p.max_items = "array", node.get("minItems"), node.get("maxItems")
            p.items = self.prop(name, node.get("items") or {}, True, depth + 1)
        elif (kind == "object" or "properties" in node) and depth < 4:
            p.type, p.members = "object", tuple(self.object_props(node, depth + 1))
        return p

    def object_props(self, node: dict, depth: int = 0) -> list[Prop]:
        props = node.get("properties") or {}
        required = set(node.get("required") or [])
        order = [n for n in node.get("x-fal-order-properties") or [] if n in props]
        order += [n for n in props if n not in order]
        return [self.prop(n, props[n], n in required, depth) for n in order]


def read_openapi(doc: dict, endpoint: str, filename: str) -> Schema:
    if not isinstance(doc, dict):
        raise SchemaImportError(f"{filename} is JSON but not an OpenAPI document")
    meta = ((doc.get("info") or {}).get("x-fal-metadata") or {}).get("endpointId")
    paths = doc.get("paths") or {}
    post = (paths.get(f"/{endpoint}") or {}).get("post")
    if post is None or (meta and meta != endpoint):
        raise SchemaImportError(f"endpoint {endpoint!r} is not in {filename} (it describes {meta or 'no endpoint id'}"
                                f"; fal publishes one OpenAPI file per endpoint: "
                                f"https://fal.ai/api/openapi/queue/openapi.json?endpoint_id={endpoint})")
    reader = _OpenAPIReader(doc)
    body = ((post.get("requestBody") or {}).get("content") or {}).get("application/json", {}).get("schema", {})
    node, ref = reader.resolve(body)
    if not node.get("properties"):
        raise SchemaImportError(f"{endpoint}: the request body in {filename} has no properties")
    result = (paths.get(f"/{endpoint}/requests/{{request_id}}") or {}).get("get") or {}
    out_schema = (((result.get("responses") or {}).get("200") or {}).get("content") or {}) \
        .get("application/json", {}).get("schema", {})
    outputs = tuple((reader.resolve(out_schema)[0].get("properties") or {}).keys())
    return Schema(endpoint, f"{filename} {ref or 'request body'}", reader.object_props(node), outputs)


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


# -- schema → catalog fields --------------------------------------------------------------------------

_MODEL_SEGMENT = re.compile(r"^(v\d+(?:\.\d+)?(?:-turbo)?|o\d+|standard|pro|master|turbo|\d+k)$")
_TIERS = {"standard": ("Standard", "Std", "std"), "pro": ("Pro", "Pro", "pro"),
          "master": ("Master", "Master", "master"), "turbo": ("Turbo", "Turbo", "turbo")}
_TASK_WORDS = {"tts": ("Text to Speech", "TTS", "tts"), "ai-avatar": ("AI Avatar", "AIAvatar", "ai-avatar"),
               "lipsync": ("Lip Sync", "Lipsync", "lipsync"),
               "image-to-video": ("Image to Video", "ImageToVideo", "i2v"),
               "text-to-video": ("Text to Video", "TextToVideo", "t2v"),
               "reference-to-video": ("Reference to Video", "ReferenceToVideo", "r2v"),
               "video-to-video": ("Video to Video", "VideoToVideo", "v2v"),
               "audio-to-video": ("Audio to Video", "AudioToVideo", "a2v"),
               "video-to-audio": ("Video to Audio", "VideoToAudio", "v2a")}
_FAMILIES = {"image-to-video": "image-to-video", "text-to-video": "text-to-video", "elements": "multi-image",
             "motion-control": "motion-control", "effects": "effects", "lipsync": "lipsync", "create-voice": "voice",
             "tts": "audio", "video-to-audio": "audio", "ai-avatar": "ai-avatar",
             "reference-to-video": "reference-to-video", "video-to-video": "video-to-video"}


@dataclass
class Names:
    key: str
    node_id: str
    display: str
    family: str
    task: str
    endpoint: str


def names(endpoint: str) -> Names:
    """Catalog-style names from the endpoint path: v2.6/pro/image-to-video → v2.6-pro-i2v,
    KlingVideo_V26Pro_ImageToVideo, Kling 2.6 Pro Image to Video."""
    path = endpoint[len(PREFIX):] if endpoint.startswith(PREFIX) else endpoint.split("/", 1)[-1]
    segments = path.split("/")
    model = [s for s in segments if _MODEL_SEGMENT.match(s)]
    task = [s for s in segments if not _MODEL_SEGMENT.match(s)] or ["video"]
    display, node, key = [], [], []
    for s in model:
        if s in _TIERS:
            d, n, k = _TIERS[s]
        elif re.fullmatch(r"\d+k", s):
            d = n = k = s.upper()
        else:
            version, _, turbo = s.partition("-")
            number = version[1:] if version[0] == "v" else version.upper()
            d = (number + (".0" if version[0] == "v" and "." not in number else "")) + (" Turbo" if turbo else "")
            n = (version[0].upper() + version[1:].replace(".", "")) + ("Turbo" if turbo else "")
            k = s
        display.append(d)
        node.append(("_" if node and n[:1].isdigit() else "") + n)
        key.append(k.lower())
    for s in task:
        d, n, k = _TASK_WORDS.get(s) or (" ".join(w if w == "to" else w.capitalize() for w in s.split("-")),
                                         "".join(w.capitalize() for w in s.split("-")), s)
        display.append(d)
        key.append(k)
    task_node = "".join(_TASK_WORDS.get(s, (0, "".join(w.capitalize() for w in s.split("-"))))[1] for s in task)
    node_id = "KlingVideo_" + ("".join(node) + "_" if node else "") + task_node
    family = next((_FAMILIES[s] for s in task if s in _FAMILIES), "-".join(task))
    return Names("-".join(key), node_id, "Kling " + " ".join(display), family, "/".join(task), endpoint)


@dataclass
class Spec:
    """A catalog Field to print: its keyword arguments in order, and review comments above it."""

    wire: str
    kind: str
    kwargs: dict = dc_field(default_factory=dict)
    comments: list = dc_field(default_factory=list)

    @property
    def name(self) -> str:
        return self.kwargs.get("input", self.wire)


_MEDIA_ORDER = ("start_frame", "end_frame", "image", "images", "static_mask", "video",
                "reference_video", "audio", "voice_audio")
_TEXT_ORDER = ("prompt", "text", "multi_prompt", "elements")
_LATER_ORDER = ("duration", "aspect_ratio", "negative_prompt", "cfg_scale", "generate_audio", "voice_ids")
_ELEMENT_KEYS = {"frontal_image_url", "reference_image_urls", "video_url", "voice_id"}
_LIMITS = (("max_bytes", r"Max file size:\s*([\d.]+)\s*MB", 1_000_000),
           ("min_seconds", r"Min duration:\s*([\d.]+)\s*s", 1),
           ("max_seconds", r"Max duration:\s*([\d.]+)\s*s", 1),
           ("min_fps", r"Min FPS:\s*([\d.]+)", 1), ("max_fps", r"Max FPS:\s*([\d.]+)", 1))


def _tooltip(description: str) -> str:
    text = _DEFAULT.sub("", description)
    text = re.split(r"\s\*\s+Max |\s\*\s+Min ", text)[0]  # fal's machine-written limits; MediaLimits carries them
    text = " ".join(text.split()).strip()
    if len(text) > 240:
        cut = text[:240].rfind(". ")
        text = text[:cut + 1] if cut > 60 else text[:237] + "..."
    return text


def _media_limits(description: str) -> dict:
    limits = {}
    for key, pattern, scale in _LIMITS:
        m = re.search(pattern, description)
        if m:
            value = float(m.group(1)) * scale
            limits[key] = int(value) if key == "max_bytes" or value == int(value) else value
    widths = [int(v) for v in re.findall(r"Min (?:width|height):\s*(\d+)\s*px", description)]
    if widths:
        limits["min_px"] = min(widths)
    widths = [int(v) for v in re.findall(r"Max (?:width|height):\s*(\d+)\s*px", description)]
    if widths:
        limits["max_px"] = max(widths)
    return limits


def _max_in_text(description: str, unit: str) -> Optional[int]:
    # "Maximum 7 total (elements + reference images)" is a shared budget, not this field's own limit
    m = re.search(rf"(?:up to|maximum|max\.?|at most|not exceed|cannot exceed)\s+(\d+)\b(?!\s+total)\s*{unit}",
                  description, re.I)
    return int(m.group(1)) if m else None


def _media_spec(p: Prop, kind: str, name: str, alias: str, wires: set) -> Spec:
    spec = Spec(p.wire, kind, {"input": name} if name != p.wire else {})
    spec.kwargs["required"] = p.required
    if kind == "mask":
        spec.kwargs["same_size_as"] = "start_frame" if wires & {"image_url", "start_image_url"} else ""
    if kind in ("video", "audio"):
        limits = _media_limits(p.description)
        if limits:
            spec.kwargs["media"] = limits
        elif p.description:
            spec.comments.append(f"review: the limits of {name} are only in the prose of its tooltip; add "
                                 f"media=MediaLimits(...) from it")
    if alias:
        spec.kwargs["cli_alias"] = alias
    return spec


def _file_field(p: Prop, names_: Names, wires: set) -> Optional[Spec]:
    w = p.wire
    has_end = bool(wires & {"end_image_url", "tail_image_url"})
    if w == "start_image_url" or (w == "image_url" and (has_end or "image-to-video" in names_.task)):
        return _media_spec(p, "image", "start_frame", "image", wires)
    if w in ("end_image_url", "tail_image_url"):
        return _media_spec(p, "image", "end_frame", "end-image", wires)
    stem = w[:-4] if w.endswith("_url") else w
    if "mask" in w:
        return _media_spec(p, "mask", stem, "", wires)
    if "image" in w:
        return _media_spec(p, "image", stem, "image" if stem == "image" else "", wires)
    if "video" in w:
        name = "reference_video" if "motion-control" in names_.task else stem
        return _media_spec(p, "video", name, "video", wires)
    if "audio" in w:
        return _media_spec(p, "audio", stem, "audio", wires)
    if "voice" in w:
        return _media_spec(p, "audio", "voice_audio", "audio", wires)
    return None


def _array_field(p: Prop) -> Optional[Spec]:
    item = p.items or Prop("", "unknown")
    member_names = {m.wire for m in item.members}
    if p.wire == "multi_prompt" and item.type == "object":
        spec = Spec(p.wire, "shots", {"input": "shots", "required": p.required})
        extra = member_names - {"prompt", "duration"}
        if extra:
            spec.comments.append(f"TODO review: shots here also take {sorted(extra)}; the Kling Shot node gives "
                                 f"prompt and duration only")
        return spec
    if p.wire == "elements" and item.type == "object" and member_names <= _ELEMENT_KEYS:
        frontal = next((m for m in item.members if m.wire == "frontal_image_url"), None)
        style = "combo" if "video_url" in member_names else ("omni" if frontal and frontal.required else "image")
        return Spec(p.wire, "elements", {"required": p.required, "options": (style,)},
                    [f"review: elements of {item.ref or 'this type'} take {', '.join(sorted(member_names))}: "
                     f"style {style!r} (request.py's element check)"])
    if p.wire == "dynamic_masks" and item.type == "object" and member_names <= {"mask_url", "trajectories"}:
        return Spec(p.wire, "dynamic_masks", {"required": p.required})
    if item.type in ("string", "file") and p.wire.endswith("_urls") and "image" in p.wire:
        # catalog names: input_image_urls (elements, effects) → images; image_urls (O1/O3) → reference_images
        stem = p.wire[:-5]
        name = {"input_image": "images", "image": "reference_images"}.get(stem, stem + "s")
        return Spec(p.wire, "images", {"input": name})
    if item.type == "string" and not item.options:
        spec = Spec(p.wire, "string_list", {})
        if p.wire != "voice_ids":
            spec.comments.append(f"review: the node checks string_list items as ids (letters, digits, _ . : -); "
                                 f"is that right for {p.wire}?")
        return spec
    return None


def field_spec(p: Prop, names_: Names, wires: set) -> tuple[Optional[Spec], list[str]]:
    """The catalog Field for one property, or None with the reason in a TODO line."""
    notes = [f"review: {p.note}"] if p.note else []
    spec: Optional[Spec] = None
    if p.type == "file" or (p.type == "string" and p.wire.endswith("_url")):
        spec = _file_field(p, names_, wires)
    elif p.type == "array":
        spec = _array_field(p)
        if spec is not None:
            spec.kwargs["required"] = p.required
            n = p.max_items or _max_in_text(p.description, "")
            if p.min_items:
                spec.kwargs["min_items"] = p.min_items
            if n and spec.kind not in ("shots",):
                spec.kwargs["max_items"] = n
            spec.kwargs["default"] = "" if spec.kind == "string_list" else NO_DEFAULT
    elif p.type == "object" and {m.wire for m in p.members} == {"movement_type", "movement_value"}:
        spec = Spec(p.wire, "camera", {"required": p.required})
    elif p.type == "enum":
        spec = Spec(p.wire, "enum", {"required": p.required})
        default = p.default
        if default is NO_DEFAULT:
            default = p.options[0]
            if not p.required:
                notes.append(f"TODO review: {p.wire} has no default in the schema; the node sends "
                             f"{default!r} unless a rule drops it (fal would apply its own default)")
        elif default not in p.options:
            notes.append(f"TODO review: the schema's default {default!r} is not one of its options")
        spec.kwargs.update(default=default, options=p.options)
    elif p.type == "boolean":
        spec = Spec(p.wire, "bool", {"required": p.required} if p.required else {})
        default = p.default
        if default is NO_DEFAULT:
            default = False
            notes.append(f"TODO review: {p.wire} has no default in the schema; False is sent (fal would apply "
                         f"its own default)")
        spec.kwargs["default"] = bool(default)
    elif p.type in ("number", "integer"):
        kind = "int" if p.type == "integer" else "float"
        spec = Spec(p.wire, kind, {"required": p.required} if p.required else {})
        default = p.default
        if default is NO_DEFAULT:
            notes.append(f"TODO review: {p.wire} has no default in the schema; give one (None fails the check)")
            default = None
        spec.kwargs["default"] = default if default is None else (int(default) if kind == "int" else float(default))
        for key, value in (("min", p.minimum), ("max", p.maximum), ("step", p.step)):
            if value is not None:
                spec.kwargs[key] = value
        if p.minimum is None or p.maximum is None:
            notes.append(f"TODO review: the schema gives no range for {p.wire}; set min/max from fal's page "
                         f"(https://fal.ai/models/{names_.endpoint})")
    elif p.type == "string":
        prose = p.wire in ("prompt", "text") or p.wire.endswith("_prompt")
        spec = Spec(p.wire, "text" if prose else "string", {"required": p.required} if p.required else {})
        spec.kwargs["default"] = "" if p.default is NO_DEFAULT else p.default
        if prose:
            spec.kwargs["multiline"] = True
        n = p.max_length or _max_in_text(p.description, "char")
        if n:
            spec.kwargs["max_length"] = n
    if spec is None:
        what = "REQUIRED field" if p.required else "field"
        return None, notes + [f"TODO review: {what} {p.wire} ({p.type_text or p.type}) has no catalog kind; "
                              f"add it by hand or leave it out"]
    if spec.kwargs.get("required") is False:
        del spec.kwargs["required"]
    tooltip = _tooltip(p.description)
    if tooltip:
        spec.kwargs["tooltip"] = tooltip
    return spec, notes + spec.comments


def _order(spec: Spec, index: int) -> tuple:
    if spec.name in _MEDIA_ORDER:
        return (0, _MEDIA_ORDER.index(spec.name), index)
    if spec.wire in _TEXT_ORDER:
        return (1, _TEXT_ORDER.index(spec.wire), index)
    if spec.kind in ("images",):
        return (1, len(_TEXT_ORDER), index)
    if spec.wire in _LATER_ORDER:
        return (2, _LATER_ORDER.index(spec.wire), index)
    return (3, 0, index)


# -- printing -----------------------------------------------------------------------------------------

def _py(value: Any, indent: int) -> str:
    if isinstance(value, tuple):
        if value in KNOWN_ENUMS:
            return KNOWN_ENUMS[value]
        items = [repr(v) for v in value]
        one_line = "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if len(one_line) + indent <= 110:
            return one_line
        lines, cur = [], ""
        for item in items:
            if cur and len(cur) + len(item) + indent + 6 > 110:
                lines.append(cur.rstrip())
                cur = ""
            cur += item + ", "
        lines.append(cur.rstrip())
        pad = " " * (indent + 4)
        return "(\n" + "\n".join(pad + line for line in lines) + "\n" + " " * indent + ")"
    if isinstance(value, dict):  # MediaLimits
        parts, lines = [f"{k}={_num(v)}" for k, v in value.items()], [""]
        for part in parts:
            if lines[-1] and indent + 12 + len(lines[-1]) + len(part) > 108:
                lines.append("")
            lines[-1] += part + ", "
        return "MediaLimits(" + ("\n" + " " * (indent + 12)).join(l.rstrip() for l in lines).rstrip(",") + ")"
    if isinstance(value, str) and len(value) + indent > 100:
        words, lines, cur = value.split(" "), [], ""
        for w in words:
            if cur and len(cur) + len(w) + indent > 96:
                lines.append(cur)
                cur = ""
            cur += w + " "
        lines.append(cur.rstrip())
        return ("\n" + " " * indent).join(repr(line) for line in lines)
    if isinstance(value, float):
        return _num(value)
    return repr(value)


def _num(v: Any) -> str:
    if isinstance(v, int) and abs(v) >= 100_000:
        return f"{v:_}"
    return repr(v)


def _comment(text: str, indent: int, width: int = 112) -> list[str]:
    """`# text` wrapped to the width, continuation lines indented under the text."""
    lines, cur = [], ""
    for word in text.split(" "):
        if cur and indent + 2 + len(cur) + len(word) > width:
            lines.append(cur.rstrip())
            cur = "  "
        cur += word + " "
    lines.append(cur.rstrip())
    return [" " * indent + "# " + line for line in lines]


def _field_source(spec: Spec, indent: int) -> str:
    head = f"Field({spec.wire!r}, {spec.kind!r}"
    parts = [head]
    for key, value in spec.kwargs.items():
        if value is NO_DEFAULT:
            continue
        key_indent = indent + 6 + len(key) + 1
        parts.append(f"{key}={_py(value, key_indent)}")
    text, line = "", ""
    for i, part in enumerate(parts):
        piece = part + (", " if i < len(parts) - 1 else "")
        if line and (len(line) + len(piece.split("\n")[0]) + indent > 108 or "\n" in part):
            text += line.rstrip() + "\n" + " " * (indent + 6)
            line = ""
        line += piece
    return text + line + ")"


def entry_source(schema: Schema, command: str = "") -> str:
    n = names(schema.endpoint)
    wires = {p.wire for p in schema.props}
    specs, lines = [], []
    for i, p in enumerate(schema.props):
        spec, notes = field_spec(p, n, wires)
        specs.append((spec, notes, i))
    # one input name and one CLI flag per node: a clash keeps the wire name, drops the alias
    used: set = set()
    for spec, notes, _ in specs:
        if spec is None:
            continue
        if spec.name in used:
            notes.append(f"review: input name {spec.name!r} was taken; using the wire name")
            spec.kwargs.pop("input", None)
        used.add(spec.name)
    flags = {name.replace("_", "-") for name in used}
    for spec, notes, _ in specs:
        alias = spec.kwargs.get("cli_alias") if spec is not None else None
        if alias and alias in flags:
            spec.kwargs.pop("cli_alias")
        elif alias:
            flags.add(alias)
    kept = sorted((s for s in specs if s[0] is not None), key=lambda s: _order(s[0], s[2]))
    dropped = [notes for spec, notes, _ in specs if spec is None]

    path = schema.endpoint[len(PREFIX):] if schema.endpoint.startswith(PREFIX) else None
    endpoint_src = f"_fal({path!r})" if path else repr(schema.endpoint)
    outputs = set(schema.outputs)
    output = "video" if "video" in outputs else "audio" if "audio" in outputs else "voice" if "voice_id" in outputs \
        else None
    rules = []
    if {"prompt", "multi_prompt"} <= wires:
        rules.append("rule_prompt_or_shots")
    if {"camera_control", "advanced_camera_control"} <= wires:
        rules.append("rule_one_camera")
    if {"effect_scene", "input_image_urls"} <= wires:
        rules.append("rule_effect_images")
    if "character_orientation" in wires and any(s.name == "reference_video" for s, _, _ in kept):
        rules.append("rule_orientation_length")

    lines += _comment(f"{schema.endpoint}: generated by `{command or 'python . schema-import'}`.", 0)
    lines += _comment("Review every line (tooltips, limits, TODOs), paste the block after the last `CATALOG += (...)` "
                      "of nodes/catalog.py, fill in the price, and run tests/test_catalog.py (it sends every entry "
                      "to the fake fal).", 0)
    lines.append("CATALOG += (")
    lines.append("    Variant(")
    head = f"        {n.key!r}, {n.node_id!r}, {n.display!r}, {endpoint_src},"
    if len(head) > 112:
        head = f"        {n.key!r}, {n.node_id!r}, {n.display!r},\n        {endpoint_src},"
    if max(map(len, head.split("\n"))) > 112:
        head = f"        {n.key!r}, {n.node_id!r},\n        {n.display!r}, {endpoint_src},"
    lines.append(head)
    lines.append("        (")
    for spec, notes, _ in kept:
        lines += [c for note in notes for c in _comment(note, 12)]
        lines.append(f"            {_field_source(spec, 12)},")
    for notes in dropped:
        lines += [c for note in notes for c in _comment(note, 12)]
    lines.append("        ),")
    url = f"https://fal.ai/models/{schema.endpoint}"
    if "duration" in wires:
        audio = ", <$/s with audio>" if "generate_audio" in wires else ""
        lines += _comment(f"TODO price: from {url}, e.g. Price(<$/s>{audio}, source=\"<the page>: "
                          f"<what it says>\")", 8)
    else:
        lines += _comment(f"TODO price: from {url}; with no duration field, bill on a media input "
                          f"(Price(<$/s>, seconds_from=\"<input name>\", source=...)) or per request "
                          f"(per_request=True)", 8)
    lines.append("        UNKNOWN,")
    kwargs = [f"family={n.family!r}", f"description={(n.display + ' on fal.ai.')!r}",
              f"source={_py(schema.source, 15)}"]
    if "duration" not in wires:
        kwargs.append('duration_field=""')
    if "generate_audio" in wires:
        kwargs.append('audio_field="generate_audio"')
    if "voice_ids" in wires:
        kwargs.append('voice_field="voice_ids"')
    if output and output != "video":
        kwargs.append(f"output={output!r}")
    if rules:
        kwargs.append(f"rules=({', '.join(rules)},)")
    if output is None:
        lines += _comment(f"TODO review: the result has {sorted(outputs) or 'no typed fields'}; the catalog "
                          f"knows video, audio and voice results", 8)
    line = "       "
    for kw in kwargs:
        if len(line) + len(kw.split("\n")[0]) > 110:
            lines.append(line.rstrip())
            line = "       "
        line += " " + kw + ","
    lines.append(line.rstrip())
    lines.append("    ),")
    lines.append(")")
    return "\n".join(lines)


def _catalog_note(endpoint: str, key: str, node_id: str) -> str:
    """Warn when the endpoint, key or node id is already in the catalog (the draft would clash)."""
    try:
        from ..catalog import CATALOG
    except ImportError:  # run without the pack's dependencies: skip the comparison
        return ""
    notes = []
    for v in CATALOG:
        if v.endpoint == endpoint:
            notes += _comment(f"NOTE: {endpoint} is already in nodes/catalog.py as {v.key!r} ({v.display_name}): "
                              f"compare, don't add it twice.", 0)
        elif key in (v.key, *v.aliases) or node_id == v.node_id:
            notes += _comment(f"TODO review: key {key!r} or node id {node_id!r} is taken by {v.key!r}; "
                              f"pick another.", 0)
    return "\n".join(notes)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python <pack folder> schema-import",
                                     description="Print a catalog entry (Python for nodes/catalog.py) for a fal "
                                                 "endpoint, from fal's typed schema of it.")
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
