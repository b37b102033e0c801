"""Reading fal's OpenAPI document of one endpoint (openapi.json?endpoint_id=<id>) into a Schema."""
from __future__ import annotations

import json

from .schema import NO_DEFAULT, Prop, Schema, SchemaImportError


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
