"""Help pages (web/docs/<node id>.md) and the public contract (node ids, inputs, outputs), both read from
the node definitions without ComfyUI.

ComfyUI's frontend shows `<WEB_DIRECTORY>/docs/<node id>/<locale>.md`, else `<WEB_DIRECTORY>/docs/<node id>.md`,
in its node help panel; one locale-free page per node serves every language.

The node definitions are read (node_schemas) by running the pack's own `define_schema` methods against a
recording stand-in for ComfyUI's `comfy_api.latest.io` (installed in sys.modules only while reading, then
removed), so a page (pages) or the contract (workflow_contract) can never disagree with what ComfyUI registers:
the inputs every Kling node adds (take, provider), the helper nodes and the outputs all come from the same code
ComfyUI runs. tests/test_contract.py checks this reading against a real ComfyUI's /object_info when COMFYUI_DIR
is set.

    python . help-pages [--check]     write web/docs/ (--check: exit 1 and list stale pages)
    python . contract [--write]       compare with (--write: refresh) tests/contract_snapshot.json
"""
from .node_schemas import COMFY_MODULES, ROOT, NodeDef, Socket, read_nodes
from .pages import DOCS_DIR, example_command, help_pages_main, render_pages, stale_pages, write_pages
from .workflow_contract import SNAPSHOT, contract, contract_additions, contract_breaks, contract_main

__all__ = ["COMFY_MODULES", "ROOT", "NodeDef", "Socket", "read_nodes",
           "DOCS_DIR", "example_command", "help_pages_main", "render_pages", "stale_pages", "write_pages",
           "SNAPSHOT", "contract", "contract_additions", "contract_breaks", "contract_main"]
