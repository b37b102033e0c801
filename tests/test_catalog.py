"""Every catalog entry, end to end against the fake fal server, which checks each body against a schema
written from fal's documentation independently of the catalog; plus the coverage of seed 003."""
import asyncio
import base64
import io
import pathlib
import re
import wave

import numpy as np
import pytest
import torch
from PIL import Image

from comfyui_kling_video.nodes.catalog import CATALOG, EXCLUDED, EXCLUDED_ENDPOINTS, variant
from comfyui_kling_video.nodes.core.errors import InputError
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.media_out.decode import decode_audio, decode_video
from comfyui_kling_video.nodes.request import prepare
from media import make_mp4, sine

ROOT = pathlib.Path(__file__).resolve().parents[1]
SEED_003 = next((ROOT.parent / "shared" / "seeds").glob("003_*.txt"), None) \
    if (ROOT.parent / "shared" / "seeds").is_dir() else None
H, W = 480, 640


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 3 s 1280x720 H.264+AAC clip: inside every video limit of the catalog."""
    return make_mp4(tmp_path_factory.mktemp("media") / "clip.mp4", width=1280, height=720, fps=24, seconds=3.0)


def picture(seed=0, n=1):
    return torch.rand(n, H, W, 3, generator=torch.Generator().manual_seed(seed))


def speech(seconds):
    return {"waveform": torch.from_numpy(sine(int(seconds * 16000), 16000, 220.0, 1).copy())[None], "sample_rate": 16000}


def sample_inputs(v, clip):
    """Valid inputs for every field of a variant, as ComfyUI would pass them."""
    inputs = {}
    for i, f in enumerate(v.fields):
        if f.kind == "image":
            inputs[f.name] = picture(i)
        elif f.kind == "images":
            inputs[f.name] = picture(i, f.min_items or 1)
        elif f.kind == "mask":
            mask = torch.zeros(1, H, W)
            mask[:, 100:200, 100:300] = 1.0
            inputs[f.name] = mask
        elif f.kind == "video":
            inputs[f.name] = str(clip)
        elif f.kind == "audio":
            inputs[f.name] = speech(max((f.media.min_seconds if f.media else 0) or 0, 3) + 1)
        elif f.kind == "text" and (f.wire in ("prompt", "text") or f.required):
            inputs[f.name] = "a lighthouse at dawn, waves rolling in"
        elif f.kind not in ("shots", "elements", "dynamic_masks", "camera"):
            inputs[f.name] = f.default
    return inputs


def wire_bytes(uri, fake):
    if uri.startswith("data:"):
        return base64.b64decode(uri.split(",", 1)[1])
    return fake.uploaded(uri)


def check_media(f, sent, given, fake, clip):
    if f.kind == "image":
        got = np.asarray(Image.open(io.BytesIO(wire_bytes(sent, fake))).convert("RGB"), dtype=np.float32)
        assert np.abs(got - given[0].numpy() * 255).mean() < 1.0, f.name
    elif f.kind == "images":
        assert len(sent) == given.shape[0], f.name
        for uri, img in zip(sent, given):
            got = np.asarray(Image.open(io.BytesIO(wire_bytes(uri, fake))).convert("RGB"), dtype=np.float32)
            assert np.abs(got - img.numpy() * 255).mean() < 1.0, f.name
    elif f.kind == "mask":
        got = np.asarray(Image.open(io.BytesIO(wire_bytes(sent, fake))))
        assert np.array_equal(got, (given[0].numpy() * 255).astype(np.uint8)), f.name
    elif f.kind == "video":
        assert wire_bytes(sent, fake) == pathlib.Path(clip).read_bytes(), f.name
    elif f.kind == "audio":
        with wave.open(io.BytesIO(wire_bytes(sent, fake))) as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
            assert w.getframerate() == given["sample_rate"]
        expected = (given["waveform"][0, 0].numpy() * 32767).astype("<i2")
        assert np.abs(pcm.astype(int) - expected.astype(int)).max() <= 1, f.name
    else:
        raise AssertionError(f.kind)


@pytest.mark.parametrize("key", [v.key for v in CATALOG])
def test_every_variant_against_fal(fal_env, tmp_path, clip, key):
    v = variant(key)
    inputs = sample_inputs(v, clip)
    prepared, done = asyncio.run(generate(lambda: prepare(v, inputs), tmp_path))
    [submit] = fal_env.submits()
    assert submit["path"] == f"/{v.endpoint}"
    body = submit["json"]
    for f in v.fields:
        if f.wire not in body:
            assert f.kind in ("shots", "elements", "dynamic_masks", "camera", "image", "mask") or not f.required \
                or f.name == "prompt", f"{f.name} missing"
            continue
        if f.kind in ("image", "images", "mask", "video", "audio"):
            check_media(f, body[f.wire], inputs[f.name], fal_env, clip)
        elif f.kind == "string_list":
            assert body[f.wire] == [s.strip() for s in inputs[f.name].split(",") if s.strip()]
        else:
            assert body[f.wire] == inputs[f.name], f.name
    unknown = set(body) - {f.wire for f in v.fields}
    assert not unknown, unknown
    if v.output == "video":
        assert done.path.read_bytes() == fal_env.video_bytes
        decoded = decode_video(done.path)
        assert decoded.frames.ndim == 4 and decoded.frames.shape[-1] == 3 and decoded.fps > 0
    elif v.output == "audio":
        assert done.path.read_bytes() == fal_env.audio_bytes
        audio = decode_audio(done.path)
        assert audio["waveform"].ndim == 3 and audio["waveform"].shape[-1] > 0 and audio["sample_rate"] > 0
    else:
        assert done.path is None and done.result["voice_id"]
    assert (prepared.cost.usd is None) == (v.price.audio_off is None)


def test_seed_003_types_all_have_a_node_or_a_reason():
    if SEED_003 is None:
        pytest.skip("../shared/seeds is not beside the repository")
    text = SEED_003.read_text()
    names = set(re.findall(r"^([A-Z][A-Za-z0-9]+)\n#", text, re.M))
    assert len(names) >= 30
    covered = {n for n in names if any(re.search(rf"\b{n}\b", v.source) for v in CATALOG)}
    missing = names - covered - set(EXCLUDED)
    assert not missing, f"seed 003 types without a catalog entry or a reasoned exclusion: {sorted(missing)}"
    assert set(EXCLUDED) <= names


# -- structured inputs ------------------------------------------------------------------------------

def test_v3_shots_and_elements(fal_env, tmp_path, clip):
    v = variant("v3-pro-i2v")
    inputs = sample_inputs(v, clip)
    inputs.update(prompt="", duration="8",
                  shots=[{"prompt": "@Element1 opens the door", "duration": "3"},
                         {"prompt": "she walks in and says <<<voice_1>>> hello", "duration": "5"}],
                  voice_ids="voice_abc",
                  elements=[{"frontal": picture(7), "references": picture(8, 2), "video": None, "voice_id": ""},
                            {"frontal": None, "references": None, "video": str(clip), "voice_id": "voice_abc"}])
    asyncio.run(generate(lambda: prepare(v, inputs), tmp_path))
    body = fal_env.submits()[0]["json"]
    assert "prompt" not in body and body["shot_type"] == "customize" and body["duration"] == "8"
    assert body["multi_prompt"] == [{"prompt": "@Element1 opens the door", "duration": "3"},
                                    {"prompt": "she walks in and says <<<voice_1>>> hello", "duration": "5"}]
    first, second = body["elements"]
    assert set(first) == {"frontal_image_url", "reference_image_urls"} and len(first["reference_image_urls"]) == 2
    assert set(second) == {"video_url", "voice_id"} and second["voice_id"] == "voice_abc"


def el(frontal=None, references=None, video=None, voice_id=""):
    return {"frontal": frontal, "references": references, "video": video, "voice_id": voice_id}


@pytest.mark.parametrize("key,elements,shape", [
    ("o1-pro-r2v", [el(picture(1), picture(2, 3))], {"frontal_image_url", "reference_image_urls"}),
    ("o3-std-r2v", [el(video="__clip__", voice_id="voice_9")], {"video_url", "voice_id"}),
    ("o3-pro-v2v-edit", [el(references=picture(3, 2))], {"reference_image_urls"}),
    ("o1-std-v2v-ref", [el(picture(4), picture(5))], {"frontal_image_url", "reference_image_urls"}),
    ("v3-pro-motion", [el(frontal=picture(6))], {"frontal_image_url"}),
])
def test_elements_of_each_style_reach_fal(fal_env, tmp_path, clip, key, elements, shape):
    """The fake checks each endpoint's element type (combo, omni or image) from fal's schema."""
    v = variant(key)
    inputs = sample_inputs(v, clip)
    inputs["elements"] = [{k: (str(clip) if x == "__clip__" else x) for k, x in e.items()} for e in elements]
    inputs["reference_images"] = picture(9, 2) if v.has("reference_images") else None
    asyncio.run(generate(lambda: prepare(v, inputs), tmp_path))
    body = fal_env.submits()[0]["json"]
    assert [set(e) for e in body["elements"]] == [shape]
    if v.has("reference_images"):
        assert len(body["image_urls"]) == 2


def test_v1_motion_brush_and_camera(fal_env, tmp_path, clip):
    i2v = variant("v1-std-i2v")
    inputs = sample_inputs(i2v, clip)
    mask = torch.zeros(1, H, W)
    mask[:, 50:150, 50:150] = 1
    inputs["dynamic_masks"] = [{"mask": mask, "trajectories": [{"x": 100, "y": 100}, {"x": 400, "y": 300}]}]
    asyncio.run(generate(lambda: prepare(i2v, inputs), tmp_path))
    [dm] = fal_env.submits()[0]["json"]["dynamic_masks"]
    assert dm["trajectories"] == [{"x": 100, "y": 100}, {"x": 400, "y": 300}]
    t2v = variant("v1-std-t2v")
    asyncio.run(generate(lambda: prepare(t2v, {"prompt": "a road", "advanced_camera_control":
                                               {"movement_type": "zoom", "movement_value": -4}}), tmp_path / "b"))
    body = fal_env.submits()[1]["json"]
    assert body["advanced_camera_control"] == {"movement_type": "zoom", "movement_value": -4}
    assert "camera_control" not in body  # the "none" preset is not sent


def test_large_media_is_uploaded_first(fal_env, tmp_path, clip, monkeypatch):
    monkeypatch.setenv("KLING_VIDEO_INLINE_MAX_MB", "0.01")  # everything above 10 kB is uploaded
    v = variant("lipsync-a2v")
    inputs = sample_inputs(v, clip)
    asyncio.run(generate(lambda: prepare(v, inputs), tmp_path))
    body = fal_env.submits()[0]["json"]
    assert body["video_url"].startswith(f"https://{fal_env.host}/") and body["audio_url"].startswith("https://")
    assert fal_env.uploaded(body["video_url"]) == pathlib.Path(clip).read_bytes()


# -- bad inputs across the catalog: named field, nothing sent --------------------------------------

def _bad_cases():
    def case(key, field, override, rule):
        return pytest.param(key, field, override, rule, id=f"{key}:{field}:{rule}")
    return [
        case("v1-std-t2v", "advanced_camera_control", {"camera_control": "down_back",
                                                       "advanced_camera_control": {"movement_type": "pan",
                                                                                   "movement_value": 3}}, "not both"),
        case("v1-std-t2v", "advanced_camera_control.movement_value",
             {"advanced_camera_control": {"movement_type": "pan", "movement_value": 0}}, "moves nothing"),
        case("v1-std-t2v", "advanced_camera_control", {"advanced_camera_control": {"movement_type": "spin",
                                                                                   "movement_value": 2}}, "not one of"),
        case("v1-std-i2v", "static_mask", {"static_mask": torch.ones(1, 100, 100)}, "must match its image"),
        case("v1-std-i2v", "static_mask", {"static_mask": torch.zeros(1, H, W)}, "is empty"),
        case("v1-std-i2v", "dynamic_masks[1].trajectories", {"dynamic_masks": [
            {"mask": torch.ones(1, H, W), "trajectories": [{"x": 1, "y": 1}]}]}, "at least 2"),
        case("v1-std-i2v", "dynamic_masks[1].trajectories[2].x", {"dynamic_masks": [
            {"mask": torch.ones(1, H, W), "trajectories": [{"x": 1, "y": 1}, {"x": 5000, "y": 1}]}]}, "outside"),
        case("v1.5-pro-i2v", "aspect_ratio", {"aspect_ratio": "21:9"}, "not one of"),
        case("v1.6-pro-i2v", "end_frame", {"end_frame": picture(1, 3)}, "batch of 3"),
        case("v2.1-master-t2v", "cfg_scale", {"cfg_scale": -0.1}, "outside 0 to 1"),
        case("v2.5-turbo-pro-i2v", "duration", {"duration": "7"}, "not one of"),
        case("v3-pro-t2v", "prompt", {"prompt": ""}, "or connect shots"),
        case("v3-pro-t2v", "prompt", {"shots": [{"prompt": "a", "duration": "5"}]}, "leave it empty"),
        case("v3-pro-t2v", "duration", {"prompt": "", "duration": "9",
                                        "shots": [{"prompt": "a", "duration": "5"}]}, "add up to 5"),
        case("v3-pro-t2v", "shots[1].duration", {"prompt": "", "shots": [{"prompt": "a", "duration": "2"}]},
             "3 to 15"),
        case("v3-pro-t2v", "shots[2].prompt", {"prompt": "", "duration": "10", "shots": [
            {"prompt": "a", "duration": "5"}, {"prompt": " ", "duration": "5"}]}, "empty"),
        case("v3-pro-t2v", "shots", {"prompt": "", "duration": "15",
                                     "shots": [{"prompt": "a", "duration": "3"}] * 7}, "at most 6"),
        case("v3-std-t2v", "voice_ids", {"voice_ids": "a,b,c"}, "at most 2"),
        case("v3-std-t2v", "shot_type", {"shot_type": "auto"}, "not one of"),
        case("v3-pro-i2v", "elements[1]", {"elements": [{"frontal": picture(), "references": None,
                                                         "video": None, "voice_id": ""}]}, "1 to 3 reference"),
        case("v3-pro-i2v", "elements[1].references", {"elements": [{"frontal": picture(), "references": picture(0, 4),
                                                                    "video": None, "voice_id": ""}]}, "1 to 3"),
        case("v3-pro-i2v", "elements[1].voice_id", {"elements": [{"frontal": picture(), "references": picture(),
                                                                  "video": None, "voice_id": "v1"}]}, "video elements"),
        case("v3-pro-i2v", "prompt", {"prompt": "hi <<<voice_1>>>"}, "voice_1"),
        case("v1.6-std-elements", "images", {"images": picture(0, 5)}, "1 to 4"),
        case("v1.6-pro-effects", "images", {"effect_scene": "hug"}, "takes 2"),
        case("v1-std-effects", "images", {"images": picture(0, 2)}, "takes 1"),
        case("v1-std-effects", "effect_scene", {"effect_scene": "moonwalk"}, "not one of"),
        case("v2.6-pro-motion", "character_orientation", {"character_orientation": "side"}, "not one of"),
        case("v2.6-std-motion", "image", {"image": None}, "required"),
        case("o1-pro-r2v", "elements[1]", {"elements": [el(frontal=picture())]}, "1 to 3 reference"),
        case("o1-pro-r2v", "elements[1]", {"elements": [el(video="__clip__")]}, "image elements only"),
        case("o1-pro-r2v", "reference_images", {"elements": [el(picture(), picture())] * 3,
                                                "reference_images": picture(0, 5)}, "at most 7 in all"),
        case("o3-pro-v2v-edit", "reference_images", {"elements": [el(picture())] * 2,
                                                     "reference_images": picture(0, 3)}, "at most 4 in all"),
        case("o3-std-v2v-ref", "elements[1]", {"elements": [el()]}, "frontal image, reference images, or both"),
        case("o1-pro-v2v-edit", "video", {"video": "__small__"}, "below the 720 px minimum"),
        case("o1-std-v2v-edit", "video", {"video": "__slow__"}, "below the 24 fps minimum"),
        case("o3-pro-r2v", "prompt", {"prompt": ""}, "or connect shots"),
        case("v3-pro-motion", "elements", {"character_orientation": "image", "elements": [el(picture())]},
             "only with character_orientation 'video'"),
        case("v3-std-motion", "elements", {"elements": [el(picture())] * 2}, "at most 1"),
        case("lipsync-a2v", "audio", {"audio": "__short__"}, "shorter than the 2 s minimum"),
        case("lipsync-a2v", "video", {"video": "__small__"}, "below the 720 px minimum"),
        case("lipsync-t2v", "text", {"text": "x" * 121}, "120"),
        case("lipsync-t2v", "voice_id", {"voice_id": "morgan_freeman"}, "not one of"),
        case("lipsync-t2v", "voice_speed", {"voice_speed": 3.0}, "outside"),
        case("create-voice", "voice_audio", {"voice_audio": "__short__"}, "shorter than the 5 s minimum"),
        case("create-voice", "voice_audio", {"voice_audio": {"waveform": torch.zeros(2, 1, 100000),
                                                             "sample_rate": 16000}}, "batch of 2"),
    ]


@pytest.fixture(scope="module")
def small_clip(tmp_path_factory):
    return make_mp4(tmp_path_factory.mktemp("media") / "small.mp4", width=320, height=240, fps=24, seconds=3.0)


@pytest.fixture(scope="module")
def slow_clip(tmp_path_factory):
    return make_mp4(tmp_path_factory.mktemp("media") / "slow.mp4", width=1280, height=720, fps=15, seconds=3.0)


@pytest.mark.parametrize("key,field,override,rule", _bad_cases())
def test_bad_inputs_across_the_catalog(fal_env, tmp_path, clip, small_clip, slow_clip, key, field, override, rule):
    v = variant(key)
    inputs = sample_inputs(v, clip)
    named = {"__short__": speech(1.0), "__small__": str(small_clip), "__slow__": str(slow_clip),
             "__clip__": str(clip)}
    for name, value in override.items():
        if isinstance(value, list):
            value = [{k: named.get(x, x) if isinstance(x, str) else x for k, x in e.items()}
                     if isinstance(e, dict) else e for e in value]
        inputs[name] = named.get(value, value) if isinstance(value, str) else value
    with pytest.raises(InputError) as err:
        asyncio.run(generate(lambda: prepare(v, inputs), tmp_path))
    assert err.value.field == field, str(err.value)
    assert rule in str(err.value)
    assert fal_env.log == []


# -- coverage of fal's Kling endpoint list (provider_protocols.md §2.2) ------------------------------

PROTOCOLS = ROOT.parent / "shared" / "reference" / "provider_protocols.md"


def section_2_2_endpoints(text: str) -> set[str]:
    """Every endpoint id named in the §2.2 table, with `{pro,standard}` expanded, short ids prefixed and
    "`.../edit` and `/reference`" read as both."""
    table = text.split("## 2.2 Endpoint table", 1)[1].split("\n## ", 1)[0]
    found: set[str] = set()
    for row in re.findall(r"^\| \d+ \| (.+?) \|", table, re.M):
        previous = ""
        for raw in re.findall(r"`([^`]+)`", row):
            if raw.startswith("/"):
                raw = previous.rsplit("/", 1)[0] + raw
            ids = [raw]
            m = re.search(r"\{([^}]+)\}", raw)
            if m:
                ids = [raw.replace(m.group(0), alt) for alt in m.group(1).split(",")]
            for one in ids:
                one = one if one.startswith("fal-ai/") else "fal-ai/kling-video/" + one
                found.add(one)
            previous = raw if raw.startswith("fal-ai/") else "fal-ai/kling-video/" + raw
    return found


def test_section_2_2_parser_reads_the_shorthands():
    row = ("| 48 | `fal-ai/kling-video/o3/{pro,standard}/video-to-video/edit` and `/reference` | – | x | ? |\n"
           "| 34 | `fal-ai/kling-video/v1/standard/effects`, `v1.5/pro/effects` | V | x | ? |\n")
    got = section_2_2_endpoints("## 2.2 Endpoint table\n\n" + row + "\n## 2.3 next")
    assert got == {"fal-ai/kling-video/o3/pro/video-to-video/edit", "fal-ai/kling-video/o3/standard/video-to-video/edit",
                   "fal-ai/kling-video/o3/pro/video-to-video/reference",
                   "fal-ai/kling-video/o3/standard/video-to-video/reference",
                   "fal-ai/kling-video/v1/standard/effects", "fal-ai/kling-video/v1.5/pro/effects"}


def test_every_fal_endpoint_has_a_node_or_a_reason():
    if not PROTOCOLS.is_file():
        pytest.skip("../shared/reference is not beside the repository")
    endpoints = section_2_2_endpoints(PROTOCOLS.read_text())
    assert len(endpoints) >= 60, len(endpoints)
    served = {v.endpoint for v in CATALOG}
    missing = endpoints - served - set(EXCLUDED_ENDPOINTS)
    assert not missing, f"§2.2 endpoints with neither a catalog entry nor a reasoned exclusion: {sorted(missing)}"
    assert set(EXCLUDED_ENDPOINTS) <= endpoints  # no stale exclusions
    assert all(len(reason) > 20 for reason in EXCLUDED_ENDPOINTS.values())
