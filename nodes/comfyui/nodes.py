"""ComfyUI V3 nodes generated from the catalog, and the extension that registers them (ComfyUI is imported
only in this sub-package)."""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import folder_paths
from comfy_api.latest import ComfyExtension, InputImpl, io, ui

from . import jobs_routes, keys_routes, price_route
from .sockets import CAMERA, CATEGORY, DYNAMIC_MASKS, ELEMENTS, SHOTS
from . import audio_in
from .video_in import plain_inputs
from ..providers import registry, select
from ..core import settings
from ..catalog import CATALOG, Field, Variant
from ..catalog.kling_only import EXTEND, GENERATED
from ..core.errors import Interrupted
from ..jobs.extend import prepare_node as prepare_extend
from ..jobs.generate import generate
from ..jobs.runner import Update
from ..jobs.panel import OUTPUT_SUBFOLDER
from ..media_out.kinds import KINDS, VIDEO
from ..request import prepare

log = logging.getLogger("kling_video")

FRAMES_OUTPUT = VIDEO.outputs.index("frames")  # decoding is skipped when nothing consumes it


_SOCKETS = {"image": io.Image, "images": io.Image, "mask": io.Mask, "video": io.Video, "audio": io.Audio,
            "shots": SHOTS, "elements": ELEMENTS, "dynamic_masks": DYNAMIC_MASKS, "camera": CAMERA}


def _input(f: Field):
    tip = f.tooltip
    optional = not f.required
    if f.kind in _SOCKETS:
        return _SOCKETS[f.kind].Input(f.name, optional=optional, tooltip=tip)
    if f.kind in ("text", "string", "string_list"):
        return io.String.Input(f.name, default=f.default or "", multiline=f.multiline, tooltip=tip)
    if f.kind == "enum":
        return io.Combo.Input(f.name, options=list(f.options), default=f.default, tooltip=tip)
    if f.kind == "bool":
        return io.Boolean.Input(f.name, default=f.default, tooltip=tip)
    if f.kind == "float":
        return io.Float.Input(f.name, default=f.default, min=f.min, max=f.max, step=f.step, tooltip=tip)
    if f.kind == "int":
        return io.Int.Input(f.name, default=f.default, min=f.min, max=f.max, tooltip=tip)
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
        self.last_log = ""  # the provider's latest log line stays under the running text

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
        if update.log_lines:
            self.last_log = update.log_lines[-1][:200]
        text = update.text + (f"\n{self.last_log}" if self.last_log and update.phase == "running" else "")
        text += f"\nrequest {update.request_id}" if update.request_id else ""
        try:
            from server import PromptServer
            PromptServer.instance.send_progress_text(text, self.node_id)
        except Exception:
            log.debug("kling-video: progress text not sent", exc_info=True)


# Like a seed: the same inputs and take give the cached result for free; another number is a new paid
# take. No control_after_generate: a "randomize" default would pay for a new video on every queue.
TAKE = lambda: io.Int.Input(  # noqa: E731
    "take", default=0, min=0, max=1_000_000,
    tooltip="0, 1, 2, ...: a new number makes (and pays for) a new video from the same inputs; an earlier "
            "number returns that take's video from disk at no cost.")

# The output kinds' outputs (media_out/kinds.py) by name, as ComfyUI sockets.
OUTPUT_SOCKETS = {
    "video": lambda: io.Video.Output("video_out", display_name="VIDEO"),
    "frames": lambda: io.Image.Output("frames", display_name="frames",
                                      tooltip="All decoded frames (decoded only when connected)."),
    "soundtrack": lambda: io.Audio.Output("audio_out", display_name="audio",
                                          tooltip="The soundtrack; silence when the video has none."),
    "fps": lambda: io.Float.Output("fps", display_name="fps"),
    "voice_id": lambda: io.String.Output(
        "voice_id", display_name="voice_id",
        tooltip="Connect to voice_ids of a Kling 2.6 or 3.0 node; say it as <<<voice_1>>>."),
    "audio": lambda: io.Audio.Output("audio_out", display_name="audio"),
    "info": lambda: io.String.Output("info", display_name="request_id / cost"),
}
OUTPUTS = {kind.name: [OUTPUT_SOCKETS[name] for name in kind.outputs] for kind in KINDS.values()}


def make_node(variant: Variant, prepare_fn=prepare) -> type[io.ComfyNode]:
    """A ComfyNode class for one catalog entry; `prepare_fn(variant, plain inputs, provider)` makes its request."""

    def define_schema(cls) -> io.Schema:
        outputs = OUTPUTS[variant.output]
        return io.Schema(
            node_id=variant.node_id,
            display_name=variant.display_name,
            category=f"{CATEGORY}/{variant.family}" if variant.family else CATEGORY,
            description=(f"{variant.description}\n" + (f"Endpoint: {variant.endpoint}. " if variant.endpoint else "")
                         + f"Price (estimate): {variant.price.describe()}. Keys: Settings → Kling Video → API keys, "
                         "or the providers' environment variables."),
            inputs=[_input(f) for f in variant.fields] + [TAKE(), io.Combo.Input(
                "provider", options=["auto", *variant.providers], default="auto",
                tooltip="Who runs the job. auto: the first of " + ", ".join(variant.providers) +
                        " whose key is set (order: fal, Kling, AI/ML API, Vercel).")],
            outputs=[make() for make in outputs],
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
        take = int(inputs.pop("take", 0) or 0)
        provider = select.choose(variant, inputs.pop("provider", "auto"))
        try:
            prepared, done = await generate(lambda: prepare_fn(variant, plain_inputs(inputs), provider), out_dir,
                                            take=take, on_update=progress, interrupted=progress.interrupted)
        except Interrupted:
            raise progress.mm.InterruptProcessingException()
        info = (f"{variant.display_name} | {registry.title(provider)} request {done.request_id} | "
                f"est. {prepared.cost}")
        kind = KINDS[variant.output]
        if not kind.is_file:  # the answer is the result (create-voice's voice id)
            value = str(done.result.get(kind.result_key, ""))
            progress(Update("done", f"{kind.label} {value}", 1.0, done.request_id))
            return io.NodeOutput(value, info, ui=ui.PreviewText(f"{kind.label}: {value}\n{info}"))
        values = await asyncio.to_thread(kind.decoder, done.path, all_frames="frames" in kind.outputs
                                         and frames_consumed(cls.hidden.dynprompt, node_id),
                                         request_id=done.request_id)
        if "audio" in values:  # an audio file decoded whole: a later node may be sent its URL (audio_in.py)
            audio_in.remember(values["audio"], done.path)
        values["info"] = info + f" | {OUTPUT_SUBFOLDER}/{done.path.name}"
        progress(Update("done", f"done: est. {prepared.cost}", 1.0, done.request_id))
        preview = None
        if "video" in kind.outputs:  # the file itself as ComfyUI's VIDEO, previewed on the node
            values["video"] = InputImpl.VideoFromFile(str(done.path))
            preview = ui.PreviewVideo([ui.SavedResult(done.path.name, OUTPUT_SUBFOLDER, io.FolderType.output)])
        return io.NodeOutput(*(values[name] for name in kind.outputs), ui=preview)

    name = "Node_" + variant.node_id
    return type(name, (io.ComfyNode,), {
        "define_schema": classmethod(define_schema),
        "fingerprint_inputs": classmethod(fingerprint_inputs),
        "execute": classmethod(execute),
        "__module__": __name__,
        "__doc__": variant.description,
    })


# Kling-only variants that need nothing beyond their fields come from their entries, as catalog ones do;
# Kling Extend: a VIDEO in, Kling's id for it found in the journal (jobs/extend.py).
NODES = [make_node(v) for v in CATALOG + GENERATED] + [make_node(EXTEND, prepare_extend)]


def register_routes() -> None:
    """The pack's HTTP routes on ComfyUI's server: the price badge, the jobs panel, the API keys dialog."""
    from server import PromptServer

    routes = PromptServer.instance.routes
    # Once only, whichever extension hook the host calls first (0.33 calls both; a second copy of the pack
    # too): each call would otherwise add another copy of every route. (help_pages reads the nodes with a
    # stand-in PromptServer, whose table is no RouteTableDef.)
    if price_route.registered(routes):
        return
    price_route.register(routes)
    jobs_routes.register(routes)
    keys_routes.register(routes)


def start() -> None:
    """What the pack needs from the running ComfyUI; safe to call more than once."""
    # The journal, keys and spend log live in ComfyUI's user folder, unless KLING_VIDEO_HOME says otherwise.
    settings.use_host_home(Path(folder_paths.get_user_directory()) / "kling-video")
    register_routes()


class KlingVideoExtension(ComfyExtension):
    async def on_load(self) -> None:
        # Newer ComfyUI (0.33) calls this first, then get_node_list().
        start()

    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        # ComfyUI 0.3.64-0.3.75 call only this, once at start (never on_load()).
        start()
        return all_nodes()


def all_nodes() -> list[type[io.ComfyNode]]:
    """Every node class of the pack (also read without a running ComfyUI, by help_pages)."""
    from .frames_node import KlingVideoToFrames
    from .helper_nodes import HELPER_NODES
    return list(NODES) + HELPER_NODES + [KlingVideoToFrames]
