"""Small ComfyUI nodes that build the structured inputs of Kling nodes (shots, elements, motion-brush
paths, camera moves, a list of prompts). They only collect values; the Kling node checks them with
everything else."""
from __future__ import annotations

from comfy_api.latest import io

from ..catalog import DURATIONS_3_15
from ..core.errors import InputError
from .sockets import CAMERA, CATEGORY, DYNAMIC_MASKS, ELEMENTS, SHOTS
from ..request import CAMERA_MOVES, parse_points

HELPERS = f"{CATEGORY}/helpers"


class KlingShot(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="KlingVideo_Shot", display_name="Kling Shot", category=HELPERS,
            description="One shot of a Kling 3.0 multi-shot video. Chain them: the first shot's output goes "
                        "into the next shot's `previous`, the last into the video node's `shots`.",
            inputs=[io.String.Input("prompt", multiline=True, default="", tooltip="What happens in this shot."),
                    io.Combo.Input("duration", options=list(DURATIONS_3_15), default="5",
                                   tooltip="Length of this shot in seconds."),
                    SHOTS.Input("previous", optional=True, tooltip="The shots before this one.")],
            outputs=[SHOTS.Output("shots", display_name="shots")])

    @classmethod
    def execute(cls, prompt, duration, previous=None) -> io.NodeOutput:
        return io.NodeOutput(list(previous or []) + [{"prompt": prompt, "duration": duration}])


class KlingElement(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="KlingVideo_Element", display_name="Kling Element", category=HELPERS,
            description="A character or object for Kling 3.0, O1 and O3 (@Element1, @Element2, ... in the prompt): a "
                        "frontal image plus 1-3 reference images, or (3.0 image to video, O3 reference to video) "
                        "a video, optionally with a voice id. Chain them through 'previous'.",
            inputs=[io.Image.Input("frontal", optional=True, tooltip="The main view."),
                    io.Image.Input("references", optional=True, tooltip="1-3 other angles (a batch)."),
                    io.Video.Input("video", optional=True, tooltip="Instead of images: a video of the element."),
                    io.String.Input("voice_id", default="", tooltip="A voice for a video element."),
                    ELEMENTS.Input("previous", optional=True, tooltip="The elements before this one.")],
            outputs=[ELEMENTS.Output("elements", display_name="elements")])

    @classmethod
    def execute(cls, voice_id="", frontal=None, references=None, video=None, previous=None) -> io.NodeOutput:
        item = {"frontal": frontal, "references": references, "video": video, "voice_id": voice_id}
        return io.NodeOutput(list(previous or []) + [item])


class KlingDynamicMask(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="KlingVideo_DynamicMask", display_name="Kling Dynamic Mask", category=HELPERS,
            description="Motion brush for Kling 1.0/1.5 image to video: an area (MASK, same size as the start "
                        "frame) and the path it follows, as pixel points 'x,y; x,y; ...'.",
            inputs=[io.Mask.Input("mask"),
                    io.String.Input("path", default="", tooltip="At least 2 points in start-frame pixels, "
                                                                "e.g. '100,200; 300,200'."),
                    DYNAMIC_MASKS.Input("previous", optional=True)],
            outputs=[DYNAMIC_MASKS.Output("dynamic_masks", display_name="dynamic_masks")])

    @classmethod
    def execute(cls, mask, path, previous=None) -> io.NodeOutput:
        item = {"mask": mask, "trajectories": parse_points(path, "path")}
        return io.NodeOutput(list(previous or []) + [item])


class KlingCameraControl(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="KlingVideo_CameraControl", display_name="Kling Camera Control", category=HELPERS,
            description="A custom camera move for Kling 1.0 text to video.",
            inputs=[io.Combo.Input("movement_type", options=list(CAMERA_MOVES), default="zoom"),
                    io.Int.Input("movement_value", default=5, min=-10, max=10,
                                 tooltip="Strength and direction, -10 to 10 (not 0).")],
            outputs=[CAMERA.Output("camera", display_name="camera")])

    @classmethod
    def execute(cls, movement_type, movement_value) -> io.NodeOutput:
        return io.NodeOutput({"movement_type": movement_type, "movement_value": movement_value})


class KlingPromptList(io.ComfyNode):
    """Batch prompts: ComfyUI runs a node once per item of a list input, so each line is one paid video."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="KlingVideo_PromptList", display_name="Kling Prompt List", category=HELPERS,
            description="One prompt per line, as a list: a Kling node whose prompt is connected here makes (and "
                        "pays for) one video per line; its price badge says ×N.",
            inputs=[io.String.Input("prompts", default="", multiline=True,
                                    tooltip="One prompt per line; empty lines are skipped.")],
            outputs=[io.String.Output("prompt", display_name="prompt", is_output_list=True)])

    @classmethod
    def execute(cls, prompts) -> io.NodeOutput:
        lines = prompt_lines(prompts)
        if not lines:
            raise InputError("prompts", "write at least one prompt (one per line)")
        return io.NodeOutput(lines)


def prompt_lines(text: str) -> list[str]:
    return [line.strip() for line in str(text).splitlines() if line.strip()]


HELPER_NODES = [KlingShot, KlingElement, KlingDynamicMask, KlingCameraControl, KlingPromptList]
