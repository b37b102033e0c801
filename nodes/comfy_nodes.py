"""ComfyUI V3 nodes generated from the catalog. The only module that imports ComfyUI."""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import folder_paths
from comfy_api.latest import ComfyExtension, InputImpl, io, ui

from .catalog import CATALOG, Field, Variant
from .errors import Interrupted
from .job import Update, generate
from .request import prepare

log = logging.getLogger("kling_video")

CATEGORY = "Kling Video"
OUTPUT_SUBFOLDER = "kling-video"
FRAMES_OUTPUT = 1  # index of the `frames` output; decoding is skipped when nothing consumes it


def _input(f: Field):
    tip = f.tooltip
    if f.kind == "image":
        return io.Image.Input(f.name, optional=not f.required, tooltip=tip)
    if f.kind in ("text", "string", "string_list"):
        return io.String.Input(f.name, default=f.default or "", multiline=f.multiline, tooltip=tip)
    if f.kind == "enum":
        return io.Combo.Input(f.name, options=list(f.options), default=f.default, tooltip=tip)
    if f.kind == "bool":
        return io.Boolean.Input(f.name, default=f.default, tooltip=tip)
    if f.kind == "float":
        return io.Float.Input(f.name, default=f.default, min=f.min, max=f.max, step=f.step, tooltip=tip)
    raise AssertionError(f"no ComfyUI input for field kind {f.kind!r}")


def frames_consumed(graph, node_id) -> bool:
    """Whether any node reads this node's `frames` output. `graph` is a DynamicPrompt or a prompt dict."""
    if graph is None or node_id is None:
        return True  # unknown: decode, which is slow but never wrong
    if hasattr(graph, "all_node_ids"):
        nodes = (graph.get_node(i) for i in graph.all_node_ids())
    else:
        nodes = graph.values()
    for node in nodes:
        for value in (node.get("inputs") or {}).values():
            if (isinstance(value, (list, tuple)) and len(value) == 2
                    and str(value[0]) == str(node_id) and value[1] == FRAMES_OUTPUT):
                return True
    return False


def _running_prompt():
    """The prompt being executed, for fingerprint_inputs (which ComfyUI calls without hidden inputs)."""
    try:
        from comfy_execution.utils import get_executing_context
        from server import PromptServer
        context = get_executing_context()
        running, _ = PromptServer.instance.prompt_queue.get_current_queue_volatile()
        for item in running:
            if context is not None and item[1] == context.prompt_id:
                return item[2], context.node_id
    except Exception:  # an internal API changed: fall back to "unknown"
        log.debug("kling-video: cannot see the running prompt", exc_info=True)
    return None, None


class _Progress:
    """Progress bar + text on the node; remembers an interrupt that ComfyUI's progress hook consumed."""

    def __init__(self, node_id):
        import comfy.model_management
        import comfy.utils
        self.mm = comfy.model_management
        self.node_id = node_id
        self.bar = comfy.utils.ProgressBar(100, node_id=node_id)
        self.interrupt_seen = False

    def interrupted(self) -> bool:
        return self.interrupt_seen or self.mm.processing_interrupted()

    def __call__(self, update: Update) -> None:
        if self.interrupted():
            return
        try:
            # ComfyUI's hook raises (and clears the flag) when the user has interrupted.
            self.bar.update_absolute(round(update.fraction * 100), 100)
        except self.mm.InterruptProcessingException:
            self.interrupt_seen = True
            return
        text = update.text + (f"\nrequest {update.request_id}" if update.request_id else "")
        try:
            from server import PromptServer
            PromptServer.instance.send_progress_text(text, self.node_id)
        except Exception:
            log.debug("kling-video: progress text not sent", exc_info=True)


def make_node(variant: Variant) -> type[io.ComfyNode]:
    """A ComfyNode class for one catalog entry."""

    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=variant.node_id,
            display_name=variant.display_name,
            category=CATEGORY,
            description=f"{variant.description}\nEndpoint: {variant.endpoint}. "
                        f"Price: {_price_text(variant)}. Key: FAL_KEY environment variable.",
            inputs=[_input(f) for f in variant.fields],
            outputs=[
                io.Video.Output("video", display_name="VIDEO"),
                io.Image.Output("frames", display_name="frames",
                                tooltip="All decoded frames (decoded only when connected)."),
                io.Audio.Output("audio", display_name="audio",
                                tooltip="The soundtrack; silence when the video has none."),
                io.Float.Output("fps", display_name="fps"),
                io.String.Output("info", display_name="request_id / cost"),
            ],
            hidden=[io.Hidden.unique_id, io.Hidden.dynprompt],
        )

    def fingerprint_inputs(cls, **kwargs):
        # ComfyUI caches on inputs only; connecting `frames` later must re-run the node so the
        # frames get decoded, instead of reusing the first-frame placeholder.
        prompt, node_id = _running_prompt()
        return "frames" if frames_consumed(prompt, node_id) else "no-frames"

    async def execute(cls, **inputs) -> io.NodeOutput:
        node_id = cls.hidden.unique_id
        progress = _Progress(node_id)
        out_dir = Path(folder_paths.get_output_directory()) / OUTPUT_SUBFOLDER
        try:
            prepared, done = await generate(lambda: prepare(variant, inputs), out_dir,
                                            on_update=progress, interrupted=progress.interrupted)
        except Interrupted:
            raise progress.mm.InterruptProcessingException()
        from .media_out import decode_video
        decoded = await asyncio.to_thread(decode_video, str(done.path),
                                          all_frames=frames_consumed(cls.hidden.dynprompt, node_id))
        info = (f"{variant.display_name} | fal request {done.request_id} | est. {prepared.cost} | "
                f"{OUTPUT_SUBFOLDER}/{done.path.name}")
        progress(Update("done", f"done: est. {prepared.cost}", 1.0, done.request_id))
        preview = ui.PreviewVideo([ui.SavedResult(done.path.name, OUTPUT_SUBFOLDER, io.FolderType.output)])
        return io.NodeOutput(InputImpl.VideoFromFile(str(done.path)), decoded.frames, decoded.audio,
                             float(decoded.fps), info, ui=preview)

    name = "Node_" + variant.node_id
    return type(name, (io.ComfyNode,), {
        "define_schema": classmethod(define_schema),
        "fingerprint_inputs": classmethod(fingerprint_inputs),
        "execute": classmethod(execute),
        "__module__": __name__,
        "__doc__": variant.description,
    })


def _price_text(variant: Variant) -> str:
    p = variant.price
    parts = [f"${p.audio_off:g}/s"]
    if p.audio_on is not None:
        parts = [f"${p.audio_off:g}/s without audio", f"${p.audio_on:g}/s with audio"]
    if p.voice is not None:
        parts.append(f"${p.voice:g}/s with voices")
    return ", ".join(parts) + " (estimate)"


NODES = [make_node(v) for v in CATALOG]


class KlingVideoExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return list(NODES)
