# shellcheck shell=bash
# The second real ComfyUI for the tests: ComfyUI 0.33.0 with frontend 1.58.1, plus VideoHelperSuite 1.7.9
# (the video pack users wire next to Kling nodes). tests/run.sh sources it after setup_comfyui.sh:
#
#   source tests/setup_comfyui_033.sh .venv/bin/python
#
# Both hosts share one venv (a second one would download torch's ~5 GB again on every clean CI run).
# They agree on everything but three pinned packages: 0.33.0 wants comfyui-frontend-package 1.49.6,
# comfyui-workflow-templates 0.11.44 and comfyui-embedded-docs 0.5.10, 0.3.75 wants 1.32.9/0.7.25/0.3.1.
# The venv keeps 0.3.75's three; 0.33.0 gets its frontend from --front-end-root (1.58.1, installed with
# `pip install --target` under .cache/frontends/) and serves 0.3.75's templates and docs packages, whose
# Python API it also supports. Its other requirements (comfy-kitchen, comfy-aimdo, blake3, ...) are added
# to the venv, with torch, torchvision and those three pinned so that pip changes none of them.
#
# Sources, all under .cache/ (git-ignored), each step skipped when its stamp says it is done:
#   ../shared/hosts/comfyui-0.33.0.tar.gz                 -> .cache/comfyui-0.33.0
#   ../shared/hosts/comfyui-videohelpersuite-1.7.9.tar.gz -> .cache/custom_nodes/comfyui-videohelpersuite
#   PyPI comfyui-frontend-package==1.58.1                 -> .cache/frontends/1.58.1
#   PyPI torchaudio==2.11.1 --no-deps (0.33.0 imports it at start-up; it needs nothing but torch)
# Exports COMFYUI_033_DIR, COMFYUI_033_FRONTEND (the --front-end-root) and KLING_TEST_VHS_DIR.
# Meant to be sourced: it sets no shell options, defines one function (removed afterwards) and
# returns non-zero, loudly, on failure.

_comfyui_033_setup() {
    local py="${1:-}"
    local version=0.33.0 frontend="${COMFYUI_033_FRONTEND_VERSION:-1.58.1}" torchaudio=2.11.1
    local root cache hosts tarball vhs_tarball dest vhs fe_dir stamp want prefix req cons log dep_stamp t0
    if [ -z "$py" ] || [ ! -x "$py" ]; then
        echo "setup_comfyui_033.sh: usage: source tests/setup_comfyui_033.sh PATH/TO/venv/bin/python (got '${py}')" >&2
        return 2
    fi
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return 1
    cache="${COMFYUI_CACHE_DIR:-$root/.cache}"
    hosts="${KLING_TEST_HOSTS_SOURCE:-$root/../shared/hosts}"
    tarball="$hosts/comfyui-$version.tar.gz"
    vhs_tarball="$hosts/comfyui-videohelpersuite-1.7.9.tar.gz"
    dest="$cache/comfyui-$version"
    vhs="$cache/custom_nodes/comfyui-videohelpersuite"
    fe_dir="$cache/frontends/$frontend"
    log="$cache/comfyui-033-pip.log"
    t0=$SECONDS
    for f in "$tarball" "$vhs_tarball"; do
        [ -f "$f" ] || { echo "setup_comfyui_033.sh: $f is missing (set KLING_TEST_HOSTS_SOURCE to its folder)" >&2; return 1; }
    done
    mkdir -p "$cache/custom_nodes" "$cache/frontends" || return 1

    # ---- 1. the two source trees, unpacked as they are -------------------
    _unpack() {  # tarball dest: its single top folder becomes dest
        local tar="$1" out="$2" want stamp
        want="$(basename "$tar") $(cksum < "$tar" | cut -d' ' -f1)"
        stamp="$out/.ci-source-stamp"
        [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
        rm -rf "$out" "$out.tmp" && mkdir -p "$out.tmp" || return 1
        tar -xzf "$tar" -C "$out.tmp" --strip-components=1 || { echo "setup_comfyui_033.sh: cannot unpack $tar" >&2; return 1; }
        mv "$out.tmp" "$out" && echo "$want" > "$stamp" || return 1
        echo "setup_comfyui_033.sh: unpacked $(basename "$tar") in $out"
    }
    _unpack "$tarball" "$dest" || return 1
    _unpack "$vhs_tarball" "$vhs" || return 1
    grep -q "__version__ = \"$version\"" "$dest/comfyui_version.py" \
        || { echo "setup_comfyui_033.sh: $dest is not ComfyUI $version" >&2; return 1; }

    # ---- 2. the frontend, beside (not in) the venv ------------------------
    stamp="$fe_dir/.ci-stamp"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "comfyui-frontend-package==$frontend" ]; then
        echo "setup_comfyui_033.sh: installing comfyui-frontend-package==$frontend into $fe_dir"
        rm -rf "$fe_dir" "$fe_dir.tmp" || return 1
        if ! "$py" -m pip install --disable-pip-version-check --no-deps --target "$fe_dir.tmp" \
                "comfyui-frontend-package==$frontend" > "$log" 2>&1; then
            tail -n 40 "$log" >&2
            return 1
        fi
        [ -f "$fe_dir.tmp/comfyui_frontend_package/static/index.html" ] \
            || { echo "setup_comfyui_033.sh: comfyui-frontend-package==$frontend has no static/index.html" >&2; return 1; }
        mv "$fe_dir.tmp" "$fe_dir" && echo "comfyui-frontend-package==$frontend" > "$stamp" || return 1
    fi

    # ---- 3. 0.33.0's other requirements, changing nothing 0.3.75 uses -----
    prefix="$("$py" -c 'import sys; print(sys.prefix)')" || return 1
    req="$cache/comfyui-033-requirements.txt"
    cons="$cache/comfyui-033-constraints.txt"
    grep -v -E '^[[:space:]]*(torch|torchvision|torchaudio|comfyui-frontend-package|comfyui-workflow-templates|comfyui-embedded-docs)[[:space:]]*([<>=!~;#[].*)?$' \
        "$dest/requirements.txt" > "$req" || return 1
    "$py" - > "$cons" <<'PY' || return 1
import importlib.metadata as m
for name in ("torch", "torchvision", "comfyui-frontend-package", "comfyui-workflow-templates",
             "comfyui-embedded-docs"):
    try:
        print(f"{name}=={m.version(name)}")
    except m.PackageNotFoundError:
        raise SystemExit(f"setup_comfyui_033.sh: {name} is not installed (run tests/setup_comfyui.sh first)")
PY
    dep_stamp="$prefix/.comfyui-033-deps-$(cat "$req" "$cons" | cksum | cut -d' ' -f1)-ta$torchaudio"
    if [ ! -f "$dep_stamp" ] || ! "$py" -c '
import importlib.metadata as m, importlib.util, sys
mods = ["comfy_kitchen", "comfy_aimdo", "simpleeval", "blake3", "torchaudio", "av", "alembic"]
sys.exit(any(importlib.util.find_spec(x) is None for x in mods) or m.version("torchaudio") != sys.argv[1])' "$torchaudio"; then
        echo "setup_comfyui_033.sh: installing ComfyUI $version's requirements into $prefix (pinned: $(tr '\n' ' ' < "$cons"))"
        if ! "$py" -m pip install --disable-pip-version-check -c "$cons" -r "$req" > "$log" 2>&1; then
            tail -n 40 "$log" >&2
            return 1
        fi
        # Its own wheel requires exactly its torch (2.11.x); torchaudio 2.11.1 only calls torch's
        # public API, so it runs beside torch 2.14.1 (checked below by importing it).
        if ! "$py" -c 'import importlib.metadata as m, sys; sys.exit(m.version("torchaudio") != sys.argv[1])' "$torchaudio" 2>/dev/null; then
            if ! "$py" -m pip install --disable-pip-version-check --no-deps "torchaudio==$torchaudio" >> "$log" 2>&1; then
                tail -n 40 "$log" >&2
                return 1
            fi
        fi
        "$py" - "$cons" <<'PY' || return 1
import sys, importlib.metadata as m
import torch, torchaudio.functional as F
for line in open(sys.argv[1]):
    name, want = line.strip().split("==")
    if m.version(name) != want:
        sys.exit(f"setup_comfyui_033.sh: pip changed {name} to {m.version(name)} (wanted {want})")
if F.resample(torch.zeros(1, 480), 48000, 16000).shape != (1, 160):
    sys.exit("setup_comfyui_033.sh: torchaudio does not resample beside this torch")
PY
        rm -f "$prefix"/.comfyui-033-deps-* && touch "$dep_stamp"
    fi

    export COMFYUI_033_DIR="$dest"
    export COMFYUI_033_FRONTEND="$fe_dir/comfyui_frontend_package/static"
    export KLING_TEST_VHS_DIR="$vhs"
    echo "setup_comfyui_033.sh: ComfyUI $version in $dest, frontend $frontend, VideoHelperSuite in $vhs ($((SECONDS - t0)) s)"
}

_comfyui_033_rc=0
_comfyui_033_setup "$@" || _comfyui_033_rc=$?
unset -f _comfyui_033_setup _unpack
if [ "$_comfyui_033_rc" -ne 0 ]; then
    echo "setup_comfyui_033.sh: setup FAILED (status $_comfyui_033_rc)" >&2
    unset _comfyui_033_rc
    return 1 2>/dev/null || exit 1
fi
unset _comfyui_033_rc
