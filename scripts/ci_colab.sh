#!/usr/bin/env bash
# CI job "colab": the course in Colab's versions (ci/colab.txt).
#
# 1. an environment with exactly Colab's versions, on Colab's Python;
# 2. the helper package installed the way the notebooks' Colab cell does it
#    (pip, non-editable, with its declared ranges), and a check that this left
#    every one of Colab's versions as it was;
# 3. the package's unit tests, against that installed copy;
# 4. every notebook executed top to bottom in the fast mode (outputs are not
#    compared: training numbers differ between versions), with each one's time
#    and peak memory.
#
# Needs the Python version named in ci/colab.txt, found on PATH or under
# pyenv. Without it the job fails in CI (CI set) and is skipped elsewhere, with
# the reason either way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
versions=ci/colab.txt
venv=.venv-colab

want=$(sed -n 's/^# python: *\([0-9.]*\).*/\1/p' "$versions")
if [ -z "$want" ]; then
    echo "error: $versions has no '# python: X.Y' line." >&2
    exit 1
fi
python=""
# pyenv's own installs first: its shim on PATH fails unless that version is activated.
for candidate in "$(pyenv root 2>/dev/null)/versions/$want"*/bin/python"$want" \
                 "$HOME/.pyenv/versions/$want"*/bin/python"$want" "python$want"; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import sys" >/dev/null 2>&1; then
        python=$(command -v "$candidate")
        break
    fi
done
if [ -z "$python" ]; then
    reason="Python $want (Colab's) was not found on PATH or under pyenv; install it (pyenv install $want)"
    if [ -n "${CI:-}" ]; then
        echo "error: the Colab job must run in CI, but $reason." >&2
        exit 1
    fi
    echo "skipped: $reason."
    exit 0
fi
echo "Colab's versions on $("$python" --version)"

rm -rf "$venv"
"$python" -m venv "$venv"
pip_quiet() { "$venv/bin/python" -m pip --quiet --disable-pip-version-check "$@"; }
pip_quiet install -r "$versions"

# What the Colab cell runs (pip install "vaeface-utils @ git+<repository>@main"),
# with this checkout's committed HEAD in place of the repository on GitHub.
pip_quiet install "vaeface-utils @ git+file://$PWD@$(git rev-parse HEAD)"

# The test tools, held to Colab's versions so that they cannot move them.
pip_quiet install -c "$versions" pytest nbclient

"$venv/bin/python" - "$versions" <<'EOF'
import sys
from importlib import metadata

from packaging.requirements import Requirement

changed, shown = [], []
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    requirement = Requirement(line)
    (want,) = [str(s.version) for s in requirement.specifier]
    have = metadata.version(requirement.name)
    shown.append(f"{requirement.name} {have}")
    if have != want:
        changed.append(f"{requirement.name}: Colab has {want}, the environment now has {have}")
if changed:
    sys.exit("error: installing the helper package changed Colab's versions:\n  " + "\n  ".join(changed)
             + "\nWiden the ranges in pyproject.toml so that Colab's versions satisfy them.")
print("Colab's versions are unchanged: " + ", ".join(shown))
EOF

bash scripts/unit_tests.sh "$venv/bin/python"
# Colab's old ipykernel warns at every kernel start that Python 3.13's frozen
# modules confuse its debugger; the kernels here are not debugged.
PYDEVD_DISABLE_FILE_VALIDATION=1 VAEFACE_FAST=1 "$venv/bin/python" benchmarks/course_time.py --fast
