#!/usr/bin/env bash
# Set up (see setup.sh), then run the whole test suite in the fast mode:
# the package's unit tests, the jupytext pairs, and every notebook under nbval.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/test_data.py`.
set -euo pipefail
# shellcheck source=scripts/absolute_paths.sh
. "$(dirname "${BASH_SOURCE[0]}")/absolute_paths.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
# The browser tests (tests/test_browser.py) need Chromium and chromedriver.
# Install Debian's when we can; otherwise say that those tests will be skipped.
# (Where chromium is Ubuntu's snap, the tests skip themselves and say why.)
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing Debian's chromium and chromium-driver for the browser tests ..."
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }; then
            echo "note: could not install chromium, so the browser tests will be skipped (they fail in CI)."
        fi
    else
        echo "note: chromium/chromedriver not found, so the browser tests will be skipped (Debian: sudo apt-get install chromium chromium-driver)."
    fi
fi
export VAEFACE_FAST="${VAEFACE_FAST:-1}"
exec .venv/bin/python -m pytest "$@"
