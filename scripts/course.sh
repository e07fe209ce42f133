#!/usr/bin/env bash
# Set up (see setup.sh), then open the course in JupyterLab at notebook 00's
# exercise version (exercises/: solutions removed; notebooks/ has them).
# Extra arguments go to JupyterLab, e.g. `bash scripts/course.sh --port 8889`.
set -euo pipefail
# shellcheck source=scripts/absolute_paths.sh
. "$(dirname "${BASH_SOURCE[0]}")/absolute_paths.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
if [ "$(id -u)" = 0 ]; then
    # JupyterLab refuses to start as root without it (containers, cloud machines).
    set -- --allow-root "$@"
fi
exec .venv/bin/jupyter lab exercises/00_start_here.ipynb "$@"
