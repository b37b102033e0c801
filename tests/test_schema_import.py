"""`schema-import`: a catalog entry printed from fal's typed schema of an endpoint (issue 7).

The printed entry is executed in the fal entries module's namespace, as it would run once pasted, and the
Variant it makes is compared with the schema as transcribed by hand below (not by the importer), with
the catalog entries written before the command existed, and with the fake fal's own schema check."""
import asyncio
import contextlib
import io
import json
import pathlib
import subprocess
import sys

import pytest
import torch

from comfyui_kling_video.nodes import catalog
from comfyui_kling_video.nodes.catalog import fal_entries
from comfyui_kling_video.nodes.devtools import schema_import
from comfyui_kling_video.nodes.catalog.enums import LIPSYNC_VOICES
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.request import prepare

ROOT = pathlib.Path(__file__).resolve().parents[1]
APPENDIX = ROOT.parent / "shared" / "reference" / "provider_protocols.md"
needs_appendix = pytest.mark.skipif(not APPENDIX.is_file(), reason=f"{APPENDIX} (the project's copy of "
                                    "@fal-ai/client 1.10.1's Kling types, Appendix A) is not beside the repository")


def run(path, endpoint):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = schema_import.main([str(path), endpoint])
    return code, out.getvalue(), err.getvalue()


def load(source: str) -> catalog.Variant:
    """The printed block run as if pasted into nodes/catalog/fal_entries.py."""
    namespace = dict(vars(fal_entries), CATALOG=())
    exec(compile(source, "<schema-import output>", "exec"), namespace)
    (entry,) = namespace["CATALOG"]
    assert isinstance(entry, catalog.Variant)
    return entry


def imported(endpoint: str, path=APPENDIX) -> catalog.Variant:
    code, out, err = run(path, endpoint)
    assert code == 0, err
    return load(out)


# Appendix A, transcribed by hand: wire → required, and the default/options where the schema gives them.
SCHEMAS = {
    "fal-ai/kling-video/o1/reference-to-video": {  # OmniVideoReferenceToVideoInput
        "aspect_ratio": dict(required=False, default="16:9", options=("16:9", "9:16", "1:1")),
        "duration": dict(required=False, default="5", options=("3", "4", "5", "6", "7", "8", "9", "10")),
        "elements": dict(required=False), "image_urls": dict(required=False), "prompt": dict(required=True),
    },
    "fal-ai/kling-video/o3/pro/video-to-video/edit": {  # O3ProEditVideoV2VInput
        "elements": dict(required=False), "image_urls": dict(required=False),
        "keep_audio": dict(required=False, default=True), "prompt": dict(required=True),
        "shot_type": dict(required=False, default="customize"), "video_url": dict(required=True),
    },
    "fal-ai/kling-video/v2.6/pro/image-to-video": {  # KlingVideoV26ProImageToVideoInput
        "duration": dict(required=False, default="5", options=("5", "10")), "end_image_url": dict(required=False),
        "generate_audio": dict(required=False, default=True),
        "negative_prompt": dict(required=False, default="blur, distort, and low quality"),
        "prompt": dict(required=True), "start_image_url": dict(required=True), "voice_ids": dict(required=False),
    },
    "fal-ai/kling-video/create-voice": {"voice_url": dict(required=True)},  # CreateVoiceInput
    "fal-ai/kling-video/v1/tts": {  # KlingVideoV1TtsInput; voice_id is the lipsync voice enum
        "text": dict(required=True), "voice_id": dict(required=False, default="genshin_vindi2", options=LIPSYNC_VOICES),
        "voice_speed": dict(required=False, default=1.0),
    },
    "fal-ai/kling-video/lipsync/text-to-video": {  # KlingVideoLipsyncTextToVideoInput
        "text": dict(required=True), "video_url": dict(required=True),
        "voice_id": dict(required=True, options=LIPSYNC_VOICES),
        "voice_language": dict(required=False, default="en", options=("zh", "en")),
        "voice_speed": dict(required=False, default=1.0),
    },
}


@needs_appendix
@pytest.mark.parametrize("endpoint", sorted(SCHEMAS))
def test_entry_matches_the_schema(endpoint):
    entry = imported(endpoint)
    assert entry.endpoint == endpoint and entry.node_id.startswith("KlingVideo_")
    assert entry.price is catalog.UNKNOWN
    assert "provider_protocols.md" in entry.source and "Input" in entry.source
    expected = SCHEMAS[endpoint]
    assert sorted(f.wire for f in entry.fields) == sorted(expected)
    for f in entry.fields:
        want = expected[f.wire]
        assert f.required == want["required"], f.wire
        if "default" in want:
            assert f.default == want["default"], f.wire
        if "options" in want:
            assert f.options == want["options"], f.wire


@needs_appendix
def test_kinds_and_input_names_follow_the_catalog_conventions():
    by_wire = {f.wire: f for f in imported("o3/pro/reference-to-video").fields}  # the short id works too
    assert (by_wire["start_image_url"].kind, by_wire["start_image_url"].name) == ("image", "start_frame")
    assert (by_wire["end_image_url"].kind, by_wire["end_image_url"].name) == ("image", "end_frame")
    assert (by_wire["multi_prompt"].kind, by_wire["multi_prompt"].name) == ("shots", "shots")
    assert by_wire["elements"].kind == "elements" and by_wire["elements"].options == ("combo",)  # video elements
    assert by_wire["image_urls"].kind == "images"
    edit = {f.wire: f for f in imported("o3/pro/video-to-video/edit").fields}
    assert edit["elements"].options == ("image",)  # ElementInput: images only, frontal optional
    assert (edit["video_url"].kind, edit["video_url"].name) == ("video", "video")
    legacy = {f.wire: f for f in imported("v1/standard/image-to-video").fields}
    assert (legacy["image_url"].name, legacy["tail_image_url"].name) == ("start_frame", "end_frame")
    assert (legacy["static_mask_url"].kind, legacy["static_mask_url"].same_size_as) == ("mask", "start_frame")
    assert legacy["dynamic_masks"].kind == "dynamic_masks"
    lipsync = {f.wire: f for f in imported("lipsync/audio-to-video").fields}
    assert (lipsync["audio_url"].kind, lipsync["video_url"].kind) == ("audio", "video")
    assert imported("create-voice").output == "voice" and imported("v1/tts").output == "audio"
    camera = imported("v1/standard/text-to-video")
    assert camera.field("advanced_camera_control").kind == "camera" and catalog.rule_one_camera in camera.rules
    assert catalog.rule_prompt_or_shots in imported("o3/pro/text-to-video").rules


@needs_appendix
def test_what_the_schema_cannot_say_is_a_todo_not_a_guess():
    code, out, _ = run(APPENDIX, "v1/tts")
    assert code == 0
    assert "TODO price: from https://fal.ai/models/fal-ai/kling-video/v1/tts" in out
    assert "TODO review: the schema gives no range for voice_speed" in out
    entry = load(out)
    assert (entry.field("voice_speed").min, entry.field("voice_speed").max) == (None, None)
    # Appendix A abbreviates the voice enum the second time; the options come from its first spelling, said so.
    assert "options taken from `voice_id` elsewhere in the file" in out


# The catalog entries written by hand before the importer, compared field by field. The only differences
# allowed are these, each for a reason (a difference outside them fails, so does a new one).
CATALOG_DIFFERENCES = {
    # seed 003 (fal's newer schema) adds voice_ids (and aspect_ratio to image to video) to v3
    "v3-std-t2v": ({"voice_ids"}, set()), "v3-pro-t2v": ({"voice_ids"}, set()),
    # ...and the catalog leaves shot_type to rule_prompt_or_shots, which sets it when shots are given
    "v3-std-i2v": ({"voice_ids", "aspect_ratio"}, {"shot_type"}),
    "v3-pro-i2v": ({"voice_ids", "aspect_ratio"}, {"shot_type"}),
    # O3 video to video takes no shots, so the catalog leaves out their shot_type
    "o3-pro-v2v-edit": (set(), {"shot_type"}), "o3-std-v2v-edit": (set(), {"shot_type"}),
    "o3-pro-v2v-ref": (set(), {"shot_type"}), "o3-std-v2v-ref": (set(), {"shot_type"}),
}
# Fields the catalog requires although the schema does not: effects need their one or two images, and
# video to audio's prompts default to a car race on fal, a soundtrack nobody asked for.
STRICTER_IN_CATALOG = {("v1-std-effects", "input_image_urls"), ("v1.5-pro-effects", "input_image_urls"),
                       ("v1.6-std-effects", "input_image_urls"), ("v1.6-pro-effects", "input_image_urls"),
                       ("video-to-audio", "sound_effect_prompt"), ("video-to-audio", "background_music_prompt")}


def _typed_in_appendix():
    if not APPENDIX.is_file():
        return []
    text = APPENDIX.read_text()
    return [v.key for v in catalog.CATALOG if f"#### `{v.endpoint}`" in text]


@needs_appendix
@pytest.mark.parametrize("key", _typed_in_appendix() or ["(no appendix)"])
def test_catalog_entry_has_the_schema_fields(key):
    made = catalog.variant(key)
    entry = imported(made.endpoint)
    only_catalog = {f.wire for f in made.fields} - {f.wire for f in entry.fields}
    only_schema = {f.wire for f in entry.fields} - {f.wire for f in made.fields}
    allowed_catalog, allowed_schema = CATALOG_DIFFERENCES.get(key, (set(), set()))
    assert only_catalog <= allowed_catalog and only_schema <= allowed_schema, (only_catalog, only_schema)
    for f in entry.fields:
        if made.has(f.wire):
            assert made.field(f.wire).name == f.name, f.wire  # one naming convention, old entries and new
            if (key, f.wire) in STRICTER_IN_CATALOG:
                assert made.field(f.wire).required and not f.required, f.wire
            else:
                assert made.field(f.wire).required == f.required, f.wire


@needs_appendix
def test_core_endpoints_are_cross_checked():
    """The cross-check above must include the models the README leads with, with no allowance."""
    typed = _typed_in_appendix()
    for key in ("v2.6-pro-i2v", "v2.6-pro-t2v", "lipsync-a2v", "tts", "o1-pro-r2v"):
        assert key in typed and key not in CATALOG_DIFFERENCES
    made = catalog.variant("v2.6-pro-i2v")
    assert [f.wire for f in imported(made.endpoint).fields] == [f.wire for f in made.fields]  # same order too


@needs_appendix
def test_generated_entry_runs_against_fake_fal(fal_env, tmp_path):
    """Pasted as printed, the v2.6 entry makes a request the fake fal (its own schema check) accepts."""
    entry = imported("fal-ai/kling-video/v2.6/pro/image-to-video")
    frame = torch.rand(1, 480, 640, 3, generator=torch.Generator().manual_seed(7))
    prepared, done = asyncio.run(generate(lambda: prepare(entry, {"start_frame": frame, "prompt": "a red kite"}),
                                          tmp_path))
    [submit] = fal_env.submits()
    assert submit["path"] == "/fal-ai/kling-video/v2.6/pro/image-to-video"
    assert set(submit["json"]) == {"start_image_url", "prompt", "duration", "negative_prompt", "generate_audio"}
    assert done.path.read_bytes() == fal_env.video_bytes
    assert prepared.cost.usd is None  # price unknown until a person fills it in


# @fal-ai/client's own form: JSDoc comments and the EndpointTypeMap (excerpt of src/types/endpoints.d.ts,
# 1.10.1, plus an `interface` and a type the catalog has no kind for).
DTS = '''
export type KlingVideoV26ProMotionControlInput = {
    /**
     * Controls whether the output character's orientation matches the reference image or video. 'video':
     * orientation matches reference video - better for complex motions (max 30s).
     */
    character_orientation: "image" | "video";
    /**
     * Reference image URL. The characters, backgrounds, and other elements in the generated video are based on this reference image.
     */
    image_url: string | Blob | File;
    /**
     * Whether to keep the original sound from the reference video. Default value: `true`
     */
    keep_original_sound?: boolean;
    /**
     *
     */
    prompt?: string;
    /**
     * Reference video URL.      * Max file size: 100.0MB, Min duration: 3.0s, Max duration: 30.05s
     */
    video_url: string | Blob | File;
};
export interface KlingVideoV9ProMagicInput {
    /** The CFG scale. Default value: `0.5` */
    cfg_scale?: number;
    /** Something new. */
    lora_weights: Record<string, number>;
    prompt: string;
}
export type EndpointTypeMap = {
    "fal-ai/kling-video/v2.6/pro/motion-control": {
        input: KlingVideoV26ProMotionControlInput;
        output: KlingVideoV26ProMotionControlOutput;
    };
    "fal-ai/kling-video/v9/pro/magic": {
        input: KlingVideoV9ProMagicInput;
        output: KlingVideoV9ProMagicOutput;
    };
};
'''


def test_reads_endpoints_d_ts(tmp_path):
    path = tmp_path / "endpoints.d.ts"
    path.write_text(DTS)
    entry = imported("fal-ai/kling-video/v2.6/pro/motion-control", path)
    made = catalog.variant("v2.6-pro-motion")
    assert sorted((f.wire, f.name, f.kind, f.required) for f in entry.fields) == \
        sorted((f.wire, f.name, f.kind, f.required) for f in made.fields)
    assert entry.field("reference_video").media == catalog.MediaLimits(min_seconds=3, max_seconds=30.05,
                                                                        max_bytes=100_000_000)
    assert catalog.rule_orientation_length in entry.rules and entry.duration_field == ""
    assert entry.source == "endpoints.d.ts KlingVideoV26ProMotionControlInput"

    code, out, _ = run(path, "fal-ai/kling-video/v9/pro/magic")
    assert code == 0
    magic = load(out)
    assert [f.wire for f in magic.fields] == ["prompt", "cfg_scale"]  # lora_weights has no kind: left out...
    assert "TODO review: REQUIRED field lora_weights (Record<string, number>) has no catalog kind" in out  # ...said
    assert magic.field("cfg_scale").default == 0.5 and "no range for cfg_scale" in out


# fal's OpenAPI file of one endpoint, in the shape fal serves (Pydantic JSON schema: Optional as
# anyOf [X, null], enums behind an allOf $ref wrapper, x-fal-order-properties for the order).
OPENAPI = {
    "openapi": "3.0.4",
    "info": {"title": "Queue OpenAPI for fal-ai/kling-video/v9/pro/image-to-video", "version": "1.0.0",
             "x-fal-metadata": {"endpointId": "fal-ai/kling-video/v9/pro/image-to-video"}},
    "components": {"schemas": {
        "KlingVideoV9ProImageToVideoInput": {
            "type": "object", "title": "ImageToVideoInput", "required": ["prompt", "start_image_url"],
            "x-fal-order-properties": ["prompt", "start_image_url", "end_image_url", "duration", "cfg_scale",
                                       "seed", "generate_audio", "voice_ids", "negative_prompt"],
            "properties": {
                "prompt": {"type": "string", "maxLength": 2500, "title": "Prompt"},
                "start_image_url": {"type": "string", "title": "Start Image Url",
                                    "description": "URL of the start image."},
                "end_image_url": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "End Image Url"},
                "duration": {"allOf": [{"$ref": "#/components/schemas/DurationEnum"}], "default": "5"},
                "cfg_scale": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5, "title": "Cfg Scale"},
                "seed": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 2147483647}, {"type": "null"}],
                         "title": "Seed"},
                "generate_audio": {"type": "boolean", "default": True},
                "voice_ids": {"anyOf": [{"type": "array", "items": {"type": "string"}, "maxItems": 2},
                                        {"type": "null"}]},
                "negative_prompt": {"anyOf": [{"type": "string", "maxLength": 2500}, {"type": "null"}],
                                    "default": "blur, distort, and low quality"},
            }},
        "DurationEnum": {"type": "string", "enum": ["5", "10"], "title": "DurationEnum"},
        "KlingVideoV9ProImageToVideoOutput": {"type": "object", "required": ["video"],
                                              "properties": {"video": {"$ref": "#/components/schemas/File"}}},
        "File": {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]},
    }},
    "paths": {
        "/fal-ai/kling-video/v9/pro/image-to-video": {"post": {"requestBody": {"required": True, "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/KlingVideoV9ProImageToVideoInput"}}}}}},
        "/fal-ai/kling-video/v9/pro/image-to-video/requests/{request_id}": {"get": {"responses": {"200": {
            "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/KlingVideoV9ProImageToVideoOutput"}}}}}}},
    },
}


def test_reads_fal_openapi(tmp_path):
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(OPENAPI))
    entry = imported("v9/pro/image-to-video", path)
    assert entry.endpoint == "fal-ai/kling-video/v9/pro/image-to-video"
    assert entry.node_id == "KlingVideo_V9Pro_ImageToVideo" and entry.display_name == "Kling 9.0 Pro Image to Video"
    f = {f.wire: f for f in entry.fields}
    assert (f["start_image_url"].name, f["start_image_url"].required) == ("start_frame", True)
    assert (f["end_image_url"].name, f["end_image_url"].required) == ("end_frame", False)
    assert (f["prompt"].required, f["prompt"].max_length) == (True, 2500)
    assert (f["duration"].kind, f["duration"].options, f["duration"].default) == ("enum", ("5", "10"), "5")
    assert (f["cfg_scale"].min, f["cfg_scale"].max, f["cfg_scale"].default) == (0, 1, 0.5)
    assert (f["seed"].kind, f["seed"].min, f["seed"].max) == ("int", 0, 2147483647)
    assert (f["voice_ids"].kind, f["voice_ids"].max_items) == ("string_list", 2)
    assert f["negative_prompt"].default == "blur, distort, and low quality"
    assert (entry.audio_field, entry.voice_field, entry.output) == ("generate_audio", "voice_ids", "video")
    assert entry.source == "openapi.json KlingVideoV9ProImageToVideoInput"

    code, out, err = run(path, "fal-ai/kling-video/v2.6/pro/image-to-video")  # another endpoint's file
    assert code == 2 and out == ""
    assert "fal-ai/kling-video/v2.6/pro/image-to-video" in err and "fal-ai/kling-video/v9/pro/image-to-video" in err


def cli(*args):
    return subprocess.run([sys.executable, str(ROOT), *args], capture_output=True, text=True, timeout=120)


@needs_appendix
def test_cli_prints_the_entry():
    r = cli("schema-import", str(APPENDIX), "fal-ai/kling-video/o1/reference-to-video")
    assert r.returncode == 0, r.stderr
    entry = load(r.stdout)
    assert entry.endpoint == "fal-ai/kling-video/o1/reference-to-video"
    assert "is already in the catalog (nodes/catalog/) as 'o1-pro-r2v'" in r.stdout  # a reviewer is told it exists


@needs_appendix
def test_cli_unknown_endpoint_is_named_with_exit_code_2():
    r = cli("schema-import", str(APPENDIX), "fal-ai/kling-video/v9/pro/image-to-video")
    assert r.returncode == 2 and r.stdout == ""
    assert "'fal-ai/kling-video/v9/pro/image-to-video' is not in provider_protocols.md" in r.stderr
    assert "did you mean" in r.stderr and "Traceback" not in r.stderr


def test_cli_missing_file_exit_code_2(tmp_path):
    r = cli("schema-import", str(tmp_path / "nope.d.ts"), "v2.6/pro/image-to-video")
    assert r.returncode == 2 and "cannot read" in r.stderr and "nope.d.ts" in r.stderr
