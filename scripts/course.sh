#!/usr/bin/env bash
# Set up (see setup.sh), then open the course in JupyterLab at notebook 00.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/jupyter lab notebooks/00_start_here.ipynb "$@"
