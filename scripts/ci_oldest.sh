#!/usr/bin/env bash
# CI job "oldest": the helper package with the lowest versions that
# pyproject.toml declares, on the oldest supported Python, and its unit tests.
#
# uv's `--resolution lowest-direct` installs, for each dependency the package
# declares (with the "cpu" and "widgets" extras), the lowest release its range
# allows; what those need in turn resolves as usual. So the bounds in
# pyproject.toml are exactly what this job tests: when a test fails here,
# raise that bound.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv=.venv-oldest
uv_version=0.13.9

python=${PYTHON:-python3}
lowest=$(sed -n 's/^requires-python = ">=\([0-9.]*\)".*/\1/p' pyproject.toml)
have=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$have" != "$lowest" ]; then
    echo "error: the oldest job runs on Python $lowest (requires-python in pyproject.toml); $python is $have. Set PYTHON." >&2
    exit 1
fi

rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip --quiet --disable-pip-version-check install "uv==$uv_version"
uv_install() { "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" "$@"; }
uv_install --resolution lowest-direct ".[cpu,widgets]"
pytest_pin=$(grep '^pytest==' requirements.txt)
uv_install "$pytest_pin"
echo "lowest declared versions on Python $have:"
"$venv/bin/uv" pip list --python "$venv/bin/python" 2>/dev/null \
    | grep -E '^(tensorflow-cpu|tensorflow|keras|numpy|scipy|matplotlib|scikit-learn|scikit-image|ipywidgets) ' \
    | awk '{printf "  %s %s\n", $1, $2}'
bash scripts/unit_tests.sh "$venv/bin/python"
