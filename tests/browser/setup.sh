# shellcheck shell=bash
# What the browser tests (tests/test_browser.py) need, installed when missing:
#   - Debian's chromium, with apt-get, when run as root (no browser download: playwright never fetches one);
#   - playwright-core, pinned in tests/browser/package-lock.json, with npm ci.
# Sourced by tests/run.sh. It never fails the run: without chromium, node or npm the browser tests skip and
# say why. Logs go to .cache/browser-setup.log. Both steps do nothing when already done.
_kling_browser_setup() {
    local root log
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)" || return 0
    log="$root/.cache/browser-setup.log"
    mkdir -p "$root/.cache"
    if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "run.sh: installing Debian's chromium for the browser tests (log: $log)"
        # with its recommends (fonts, mesa): the set the tests were written against
        if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
                >>"$log" 2>&1; then
            echo "run.sh: chromium did not install (see $log); the browser tests will skip"
        fi
    fi
    if command -v npm >/dev/null 2>&1; then
        local lock="$root/tests/browser/package-lock.json" stamp="$root/tests/browser/node_modules/.kling-lock"
        if [ ! -f "$stamp" ] || ! cmp -s "$lock" "$stamp"; then
            echo "run.sh: installing playwright-core for the browser tests (log: $log)"
            if (cd "$root/tests/browser" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) >>"$log" 2>&1; then
                cp "$lock" "$stamp"
            else
                echo "run.sh: npm ci failed (see $log); the browser tests will skip"
            fi
        fi
    fi
    return 0
}
_kling_browser_setup
unset -f _kling_browser_setup
