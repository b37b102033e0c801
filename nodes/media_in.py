"""ComfyUI IMAGE (or any H×W×C array) → validated image data URI, before any request is sent."""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from .errors import InputError

MIN_SIDE = 300
MAX_ASPECT = 2.5
MAX_BYTES = 10_000_000  # "10 MB"; the decimal reading is the safe one
# PNG keeps every pixel but costs ~45 ms per third of a megapixel here and ~2.5 bytes a pixel; above
# this, JPEG q95 without chroma subsampling is visually lossless, ~10x faster and ~2x smaller.
PNG_MAX_PIXELS = 800 * 450
JPEG_QUALITIES = (95, 90, 85)


def to_uint8_rgb(image, field: str) -> np.ndarray:
    """One image as H×W×3 uint8. Accepts a ComfyUI IMAGE tensor [B,H,W,C] with B == 1, or an array."""
    if hasattr(image, "detach"):  # a torch tensor; torch itself is the host's, not imported here
        image = image.detach().cpu().numpy()
    arr = np.asarray(image)
    if arr.ndim == 4:
        if arr.shape[0] != 1:
            raise InputError(field, f"got a batch of {arr.shape[0]} images; connect exactly one "
                                    "(pick one with an 'Image From Batch' node)")
        arr = arr[0]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
        raise InputError(field, f"expected an IMAGE of shape [1,H,W,3], got {list(np.shape(image))}")
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif arr.shape[2] == 4:
        arr = arr[..., :3]
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    if not np.isfinite(arr).all():
        raise InputError(field, "the image contains NaN or infinite values")
    # In-place numpy is ~10x faster here than torch's clamp for a 1080p frame.
    out = np.multiply(arr, 255.0, dtype=np.float32)
    np.add(out, 0.5, out=out)
    np.clip(out, 0.0, 255.0, out=out)
    return out.astype(np.uint8)


def check_geometry(width: int, height: int, field: str) -> None:
    if width < MIN_SIDE or height < MIN_SIDE:
        raise InputError(field, f"{width}x{height} px is smaller than the {MIN_SIDE}x{MIN_SIDE} minimum")
    ratio = width / height
    if ratio > MAX_ASPECT or ratio < 1 / MAX_ASPECT:
        raise InputError(field, f"aspect ratio {width}:{height} ({ratio:.2f}) is outside 1:2.5 to 2.5:1")


def encode_image(image, field: str) -> str:
    """Validate one image and return it as a data URI (PNG when small, else JPEG; see PNG_MAX_PIXELS)."""
    rgb = to_uint8_rgb(image, field)
    height, width = rgb.shape[:2]
    check_geometry(width, height, field)
    pil = Image.fromarray(rgb, "RGB")
    if width * height <= PNG_MAX_PIXELS:
        data, mime = _save(pil, "PNG", compress_level=1), "image/png"
    else:
        data, mime = b"", "image/jpeg"
    for quality in JPEG_QUALITIES:
        if data and len(data) <= MAX_BYTES:
            break
        data, mime = _save(pil, "JPEG", quality=quality, subsampling=0), "image/jpeg"
    if len(data) > MAX_BYTES:
        raise InputError(field, f"encoded image is {len(data) / 1e6:.1f} MB, over the 10 MB limit; scale it down")
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _save(pil: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    pil.save(buf, fmt, **options)
    return buf.getvalue()


def decode_data_uri(uri: str) -> tuple[str, bytes]:
    """(mime, bytes) of a data URI; used by the CLI's dry run and by tests."""
    head, _, payload = uri.partition(",")
    return head[5:].split(";")[0], base64.b64decode(payload)
