"""ComfyUI V3 nodes generated from the catalog. With comfy_helpers.py, the only code that imports ComfyUI."""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import folder_paths
from comfy_api.latest import ComfyExtension, InputImpl, io, ui

from . import jobs_routes
from .. import providers
from ..core import settings
from ..catalog import CATALOG, Field, Variant
from ..core.errors import Interrupted, MissingCredentials
from ..jobs.runner import Update, generate
from ..jobs.panel import OUTPUT_SUBFOLDER
from ..request import prepare, quote

log = logging.getLogger("kling_video")

CATEGORY = "Kling Video"
FRAMES_OUTPUT = 1  # index of the `frames` output; decoding is skipped when nothing consumes it


# The pack's own socket types, for fields that are structures; helper nodes build them.
SHOTS = io.Custom("KLING_SHOTS")
ELEMENTS = io.Custom("KLING_ELEMENTS")
DYNAMIC_MASKS = io.Custom("KLING_DYNAMIC_MASKS")
CAMERA = io.Custom("KLING_CAMERA")
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

VIDEO_OUTPUTS = [
    lambda: io.Video.Output("video_out", display_name="VIDEO"),
    lambda: io.Image.Output("frames", display_name="frames", tooltip="All decoded frames (decoded only when connected)."),
    lambda: io.Audio.Output("audio_out", display_name="audio", tooltip="The soundtrack; silence when the video has none."),
    lambda: io.Float.Output("fps", display_name="fps"),
    lambda: io.String.Output("info", display_name="request_id / cost"),
]
VOICE_OUTPUTS = [
    lambda: io.String.Output("voice_id", display_name="voice_id",
                             tooltip="Connect to voice_ids of a Kling 2.6 or 3.0 node; say it as <<<voice_1>>>."),
    lambda: io.String.Output("info", display_name="request_id / cost"),
]


AUDIO_OUTPUTS = [
    lambda: io.Audio.Output("audio_out", display_name="audio"),
    lambda: io.String.Output("info", display_name="request_id / cost"),
]
OUTPUTS = {"video": VIDEO_OUTPUTS, "voice": VOICE_OUTPUTS, "audio": AUDIO_OUTPUTS}


def make_node(variant: Variant) -> type[io.ComfyNode]:
    """A ComfyNode class for one catalog entry."""

    def define_schema(cls) -> io.Schema:
        outputs = OUTPUTS[variant.output]
        return io.Schema(
            node_id=variant.node_id,
            display_name=variant.display_name,
            category=f"{CATEGORY}/{variant.family}" if variant.family else CATEGORY,
            description=f"{variant.description}\nEndpoint: {variant.endpoint}. "
                        f"Price (estimate): {variant.price.describe()}. Keys: Settings → Kling Video → API keys, "
                        "or the providers' environment variables.",
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
        provider = providers.choose(variant, inputs.pop("provider", "auto"))
        try:
            prepared, done = await generate(lambda: prepare(variant, inputs, provider), out_dir, take=take,
                                            on_update=progress, interrupted=progress.interrupted)
        except Interrupted:
            raise progress.mm.InterruptProcessingException()
        info = (f"{variant.display_name} | {providers.get(provider).TITLE} request {done.request_id} | "
                f"est. {prepared.cost}")
        if variant.output == "voice":
            voice_id = str(done.result.get("voice_id", ""))
            progress(Update("done", f"voice id {voice_id}", 1.0, done.request_id))
            return io.NodeOutput(voice_id, info, ui=ui.PreviewText(f"voice id: {voice_id}\n{info}"))
        if variant.output == "audio":
            from ..media_out.decode import decode_audio
            audio = await asyncio.to_thread(decode_audio, str(done.path))
            progress(Update("done", f"done: est. {prepared.cost}", 1.0, done.request_id))
            return io.NodeOutput(audio, info + f" | {OUTPUT_SUBFOLDER}/{done.path.name}")
        from ..media_out.decode import decode_video
        decoded = await asyncio.to_thread(decode_video, str(done.path),
                                          all_frames=frames_consumed(cls.hidden.dynprompt, node_id))
        info += f" | {OUTPUT_SUBFOLDER}/{done.path.name}"
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


NODES = [make_node(v) for v in CATALOG]


PRICE_ROUTE = "/kling_video/price"


def register_routes() -> None:
    """POST /kling_video/price {node_type, values} → the price of those widget values, for the badge that
    web/kling_price.js draws on every Kling node (the catalog stays the one source of prices)."""
    from aiohttp import web
    from server import PromptServer
    from ..catalog import variant as find
    from . import keys_routes

    routes = PromptServer.instance.routes
    # Once only, whichever extension hook the host calls first (0.33 calls both; a second copy of the pack
    # too): each call would otherwise add another copy of every route. (help_pages reads the nodes with a
    # stand-in PromptServer, whose table is no RouteTableDef.)
    if isinstance(routes, web.RouteTableDef) and any(
            getattr(r, "method", None) == "POST" and getattr(r, "path", None) == PRICE_ROUTE for r in routes):
        return

    async def price(request):
        data = await request.json()
        try:
            v = find(str(data.get("node_type", "")))
            values = data.get("values") or {}
            try:
                provider = providers.choose(v, values.get("provider", "auto"))
            except MissingCredentials:
                provider = "fal"  # no key yet: show the reference price
            cost = quote(v, values, provider)
            # fal's price is the reference: the badge names the chosen provider when it differs
            reference = cost if provider == "fal" else quote(v, values, "fal")
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        short = f"${cost.usd:.2f}" if cost.usd is not None else "price unknown"
        if v.price.seconds_from and cost.usd is None and v.price.audio_off is not None:
            short = f"${cost.rate or v.price.audio_off:g}/s of {v.price.seconds_from.replace('_', ' ')}"
        return web.json_response({"usd": cost.usd, "text": short, "detail": str(cost), "provider": provider,
                                  "provider_title": providers.get(provider).TITLE, "reference_usd": reference.usd})

    routes.post(PRICE_ROUTE)(price)
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
    from .helper_nodes import HELPER_NODES
    return list(NODES) + HELPER_NODES
