"""The Python source of a catalog entry (a `CATALOG += (Variant(...),)` block) for a Schema."""
from __future__ import annotations

from typing import Any

from ...catalog.enums import EFFECT_SCENES, LIPSYNC_VOICES
from .fields import Spec, field_spec, order
from .names import names
from .schema import NO_DEFAULT, PREFIX, Schema

# Long enums the catalog already names: the entry refers to them instead of repeating 200 values.
KNOWN_ENUMS = {EFFECT_SCENES: "EFFECT_SCENES", LIPSYNC_VOICES: "LIPSYNC_VOICES"}


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


def comment(text: str, indent: int, width: int = 112) -> list[str]:
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
    kept = sorted((s for s in specs if s[0] is not None), key=lambda s: order(s[0], s[2]))
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

    lines += comment(f"{schema.endpoint}: generated by `{command or 'python . schema-import'}`.", 0)
    lines += comment("Review every line (tooltips, limits, TODOs), paste the block after the last "
                     "`CATALOG += (...)` of nodes/catalog/fal_entries.py, fill in the price, and run "
                     "tests/test_catalog.py (it sends every entry to the fake fal).", 0)
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
        lines += [c for note in notes for c in comment(note, 12)]
        lines.append(f"            {_field_source(spec, 12)},")
    for notes in dropped:
        lines += [c for note in notes for c in comment(note, 12)]
    lines.append("        ),")
    url = f"https://fal.ai/models/{schema.endpoint}"
    if "duration" in wires:
        audio = ", <$/s with audio>" if "generate_audio" in wires else ""
        lines += comment(f"TODO price: from {url}, e.g. Price(<$/s>{audio}, source=\"<the page>: "
                          f"<what it says>\")", 8)
    else:
        lines += comment(f"TODO price: from {url}; with no duration field, bill on a media input "
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
        lines += comment(f"TODO review: the result has {sorted(outputs) or 'no typed fields'}; the catalog "
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
