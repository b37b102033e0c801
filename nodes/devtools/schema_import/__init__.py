"""Print a catalog entry for a fal endpoint, read from fal's typed schema of it.

    python . schema-import endpoints.d.ts fal-ai/kling-video/v2.6/pro/image-to-video

The schema is one of: `src/types/endpoints.d.ts` of the `@fal-ai/client` npm package (its EndpointTypeMap
names each endpoint's input type), a text with such types under one markdown heading per endpoint, #### and
the id in backticks (Appendix A of provider_protocols.md), or fal's OpenAPI JSON of one endpoint
(https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=<id>). The output is Python source for
nodes/catalog/fal_entries.py, a draft for a person to review and paste: whatever the schema cannot say (a price, a
number's range, a type with no catalog kind) is a `# TODO` line rather than a guess.

The stages, one module each: schema (the format-neutral Prop and Schema), typescript and openapi (the two
readers), read (picks the reader for a file), names (catalog names from the endpoint id), fields (a Prop as
a catalog Field), entry_source (the printed entry), command (the command line and the catalog comparison).

Pure Python: no torch, ComfyUI or HTTP, so it runs anywhere the pack's files are.
"""
from .command import main

__all__ = ["main"]
