#!/usr/bin/env bash
# Set up (see setup.sh), then run the whole test suite in the fast mode:
# the package's unit tests, the jupytext pairs, and every notebook under nbval.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/test_data.py`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export VAEFACE_FAST="${VAEFACE_FAST:-1}"
exec .venv/bin/python -m pytest "$@"
