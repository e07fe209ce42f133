#!/usr/bin/env bash
# Create .venv (once) and install the pinned course requirements into it.
# Run by course.sh and test.sh; safe to run again (it only tops up).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The pinned versions (requirements.txt) are tested on Python 3.11 and have
# wheels for 3.11 to 3.13; TensorFlow 2.21 has none for older or newer ones.
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
    echo "error: $python not found. Install Python 3.11 (3.12 and 3.13 work too): python.org, or Debian/Ubuntu: apt-get install python3; then run this again (or set PYTHON=/path/to/python3.11)." >&2
    exit 1
fi
checked=$python
if [ -x .venv/bin/python ]; then
    checked=.venv/bin/python  # an existing environment is topped up with its own Python
fi
version=$("$checked" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
case "$version" in
    3.11 | 3.12 | 3.13) ;;
    *)
        echo "error: $checked is Python $version; the course needs Python 3.11, 3.12 or 3.13 (TensorFlow 2.21 has no other wheels). Install one (python.org, pyenv, or your system's packages) and run again with PYTHON=/path/to/python3.11 (delete .venv first if it was made with another Python)." >&2
        exit 1 ;;
esac
if [ "$(uname -s)" = Darwin ] && [ "$(uname -m)" = x86_64 ]; then
    echo "error: TensorFlow 2.21 has no wheels for Intel Macs. Use Colab or Binder (see the README), or a Linux or Apple-silicon machine." >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    if ! "$python" -m venv .venv 2>/dev/null; then
        rm -rf .venv
        # Debian and Ubuntu ship venv separately from python3.
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "Installing Debian's python3-venv (needed to create .venv) ..."
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
            "$python" -m venv .venv
        else
            echo "error: '$python -m venv' failed. On Debian or Ubuntu run: sudo apt-get install python3-venv" >&2
            exit 1
        fi
    fi
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements.txt

# JupyterLab's defaults for this environment: no "get notified about Jupyter
# news?" question at a student's first start, and no update checks.
mkdir -p .venv/share/jupyter/lab/settings
cp scripts/jupyterlab_overrides.json .venv/share/jupyter/lab/settings/overrides.json
