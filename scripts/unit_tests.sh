#!/usr/bin/env bash
# Run the helper package's unit tests with the Python of another environment,
# against the package as installed there (not the checkout's source folder).
# Used by the CI jobs for Colab's versions (ci_colab.sh) and for the oldest
# declared versions (ci_oldest.sh):
#
#   bash scripts/unit_tests.sh .venv-colab/bin/python [pytest arguments]
#
# Left out: the tests of the repository's tooling, which need the full
# environment of requirements.txt (the rendered book, the browser, jupytext
# pairs, launch cells, exercise versions, benchmarks) and the notebooks under
# nbval; the main job runs those.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python=$1
shift
# -P: the checkout's folder is not put on sys.path, so `import vaeface_utils`
# finds the installed package, as on Colab.
where=$("$python" -P -c "import vaeface_utils, os; print(os.path.dirname(vaeface_utils.__file__))")
case "$where" in
    "$PWD"/vaeface_utils)
        echo "error: $python imports vaeface_utils from the checkout ($where), not from an installed copy." >&2
        exit 1 ;;
esac
echo "testing the installed vaeface_utils in ${where#"$PWD"/}"
exec "$python" -P -m pytest -o addopts="" -p no:cacheprovider --import-mode=importlib -ra \
    --durations=5 tests \
    --ignore=tests/test_book.py --ignore=tests/test_browser.py --ignore=tests/test_jupytext_sync.py \
    --ignore=tests/test_launch_cells.py --ignore=tests/test_notebook_references.py \
    --ignore=tests/test_exercises.py --ignore=tests/test_benchmarks.py --ignore=tests/test_ci_files.py \
    "$@"
