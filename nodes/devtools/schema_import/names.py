"""The catalog's names for an endpoint (key, node id, display name, family), made from its id."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .schema import PREFIX

_MODEL_SEGMENT = re.compile(r"^(v\d+(?:\.\d+)?(?:-turbo)?|o\d+|standard|pro|master|turbo|\d+k)$")
_TIERS = {"standard": ("Standard", "Std", "std"), "pro": ("Pro", "Pro", "pro"),
          "master": ("Master", "Master", "master"), "turbo": ("Turbo", "Turbo", "turbo")}
_TASK_WORDS = {"tts": ("Text to Speech", "TTS", "tts"), "ai-avatar": ("AI Avatar", "AIAvatar", "ai-avatar"),
               "lipsync": ("Lip Sync", "Lipsync", "lipsync"),
               "image-to-video": ("Image to Video", "ImageToVideo", "i2v"),
               "text-to-video": ("Text to Video", "TextToVideo", "t2v"),
               "reference-to-video": ("Reference to Video", "ReferenceToVideo", "r2v"),
               "video-to-video": ("Video to Video", "VideoToVideo", "v2v"),
               "audio-to-video": ("Audio to Video", "AudioToVideo", "a2v"),
               "video-to-audio": ("Video to Audio", "VideoToAudio", "v2a")}
_FAMILIES = {"image-to-video": "image-to-video", "text-to-video": "text-to-video", "elements": "multi-image",
             "motion-control": "motion-control", "effects": "effects", "lipsync": "lipsync", "create-voice": "voice",
             "tts": "audio", "video-to-audio": "audio", "ai-avatar": "ai-avatar",
             "reference-to-video": "reference-to-video", "video-to-video": "video-to-video"}


@dataclass
class Names:
    key: str
    node_id: str
    display: str
    family: str
    task: str
    endpoint: str


def names(endpoint: str) -> Names:
    """Catalog-style names from the endpoint path: v2.6/pro/image-to-video → v2.6-pro-i2v,
    KlingVideo_V26Pro_ImageToVideo, Kling 2.6 Pro Image to Video."""
    path = endpoint[len(PREFIX):] if endpoint.startswith(PREFIX) else endpoint.split("/", 1)[-1]
    segments = path.split("/")
    model = [s for s in segments if _MODEL_SEGMENT.match(s)]
    task = [s for s in segments if not _MODEL_SEGMENT.match(s)] or ["video"]
    display, node, key = [], [], []
    for s in model:
        if s in _TIERS:
            d, n, k = _TIERS[s]
        elif re.fullmatch(r"\d+k", s):
            d = n = k = s.upper()
        else:
            version, _, turbo = s.partition("-")
            number = version[1:] if version[0] == "v" else version.upper()
            d = (number + (".0" if version[0] == "v" and "." not in number else "")) + (" Turbo" if turbo else "")
            n = (version[0].upper() + version[1:].replace(".", "")) + ("Turbo" if turbo else "")
            k = s
        display.append(d)
        node.append(("_" if node and n[:1].isdigit() else "") + n)
        key.append(k.lower())
    for s in task:
        d, n, k = _TASK_WORDS.get(s) or (" ".join(w if w == "to" else w.capitalize() for w in s.split("-")),
                                         "".join(w.capitalize() for w in s.split("-")), s)
        display.append(d)
        key.append(k)
    task_node = "".join(_TASK_WORDS.get(s, (0, "".join(w.capitalize() for w in s.split("-"))))[1] for s in task)
    node_id = "KlingVideo_" + ("".join(node) + "_" if node else "") + task_node
    family = next((_FAMILIES[s] for s in task if s in _FAMILIES), "-".join(task))
    return Names("-".join(key), node_id, "Kling " + " ".join(display), family, "/".join(task), endpoint)
