"""comfyui-kling-video: every Kling video model as a ComfyUI node.

ComfyUI imports this folder as a package (under whatever name the folder has) and calls
`comfy_entrypoint`. ComfyUI is imported only inside it, so the rest of the pack imports and tests
without ComfyUI.
"""

WEB_DIRECTORY = "./web"


async def comfy_entrypoint():
    from .nodes.comfyui.nodes import KlingVideoExtension

    return KlingVideoExtension()


__all__ = ["WEB_DIRECTORY", "comfy_entrypoint"]
