"""Prompt references: O1/O3 (and Kling 3.0 elements) name their inputs inside the prompt.

fal documents them as @Image1, @Element1, @Video1 (1-based; images, elements and videos numbered apart, each
in its input's order: provider_protocols.md Appendix A, e.g. o1/reference-to-video "Take @Element1, @Element2
to reference elements and @Image1, @Image2 to reference images in order"); Kling's own API writes the same
references as <<<image_1>>>, <<<element_1>>>, <<<video_1>>>. Users type either, in any case (fal's pages write
@Element1, users @element1). The rule rewrites every one to fal's form and refuses one that names an input
that is not connected, before any request: a dangling reference costs a whole generation that ignores it.
"""
from __future__ import annotations

import re

from .schema import Field

# The form sent: fal's documented spelling. `kind` is image/element/video, `n` the 1-based number.
WIRE_FORM = "@{Kind}{n}"
KINDS = ("image", "element", "video")
REFERENCE = re.compile(r"<<<\s*(image|element|video)_(\d+)\s*>>>|(?<![\w@])@(image|element|video)_?(\d+)\b",
                        re.IGNORECASE)


def wire_form(kind: str, n: int) -> str:
    return WIRE_FORM.format(Kind=kind.capitalize(), kind=kind, n=n)


def _slots(body: dict, fields: tuple[Field, ...]) -> list[tuple[str, bool]]:
    """One (input name, connected) per number: a single-image field holds its place whether connected or
    not (O1: @Image2 is the end frame even when only the start frame is given); a list adds its items."""
    slots = []
    for f in fields:
        value = body.get(f.wire)
        if f.kind in ("image", "video"):
            slots.append((f.name, value is not None))
        else:
            slots += [(f.name, True)] * len(value or ())
    return slots


def rule_prompt_references(*, images: tuple[Field, ...] = (), elements: tuple[Field, ...] = (),
                           videos: tuple[Field, ...] = (), kinds: tuple[str, ...] = KINDS):
    """A catalog rule: check and rewrite the references of `kinds` in the prompts; `images`, `elements` and
    `videos` are the fields each kind numbers, in order. A kind not in `kinds` is left as the user wrote it."""
    sources = {"image": images, "element": elements, "video": videos}

    def rule(body: dict, fail, media_seconds: dict) -> None:
        slots = {kind: _slots(body, sources[kind]) for kind in kinds}

        def resolve(name: str, match: re.Match) -> str:
            kind = (match.group(1) or match.group(3)).lower()
            if kind not in kinds:
                return match.group(0)
            n = int(match.group(2) or match.group(4))
            written, taken = match.group(0), slots[kind]
            if not sources[kind]:
                fail(name, f"refers to {written} but this model takes no {kind} input")
            if n < 1 or n > len(taken):
                inputs = ", ".join(dict.fromkeys(f.name for f in sources[kind]))
                connected = sum(1 for _, on in taken if on)
                fail(name, f"refers to {written} but {connected} {kind}(s) are connected ({inputs})")
            if not taken[n - 1][1]:
                fail(name, f"refers to {written}, the {taken[n - 1][0]}, which is not connected")
            return wire_form(kind, n)

        def rewrite(name: str, text: str) -> str:
            return REFERENCE.sub(lambda m: resolve(name, m), text)

        for name in ("prompt", "negative_prompt"):
            if isinstance(body.get(name), str):
                body[name] = rewrite(name, body[name])
        for i, shot in enumerate(body.get("multi_prompt") or [], 1):
            shot["prompt"] = rewrite(f"shots[{i}].prompt", shot["prompt"])

    rule.__name__ = "rule_prompt_references_" + "_".join(kinds)
    return rule
