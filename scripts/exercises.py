"""Write the exercise versions of the notebooks: solutions removed, self-checks kept.

Each notebook in ``notebooks/`` holds its exercises and their solutions in one
place. In a code cell, everything from a line that reads ``# solution`` to the
end of the cell is a solution; a whole cell tagged ``solution`` is one too. The
exercise version drops both and keeps the placeholder written above the marker
(``answer = None``), so the self-check below it says "Not done yet". Outputs
are cleared (students run the notebooks themselves) and the jupytext pairing is
dropped, so that JupyterLab writes no ``.py`` files beside a student's copy.

The exercise versions are committed in ``exercises/`` under the notebooks'
names; every launch link opens them, and ``tests/test_exercises.py`` fails when
they differ from what this script writes now. After editing a notebook::

    .venv/bin/python scripts/exercises.py            # notebooks/ -> exercises/
    .venv/bin/python scripts/exercises.py --check    # exit 1 if exercises/ is out of date
    .venv/bin/python scripts/exercises.py SRC DEST
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from pathlib import Path

import nbformat

__all__ = ["SOLUTION_MARKER", "SOLUTION_TAG", "BANNER", "strip_solutions", "make_exercise_versions", "stale", "main"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTION_MARKER = "# solution"
SOLUTION_TAG = "solution"

BANNER = (
    "> **Exercise version.** The solutions are removed: replace each `None` "
    "placeholder in the exercises with your answer and run the check below it. "
    "The version with solutions and stored outputs is `notebooks/{name}`."
)


def strip_solutions(notebook, name="this notebook"):
    """Return a copy of ``notebook`` (an nbformat node) without its solutions.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
    name : str
        The notebook's file name, for the banner that points to the version
        with solutions.

    Raises
    ------
    ValueError
        If a cell's solution marker has no placeholder line above it, which
        would leave the student an empty cell and a check that cannot run.
    """
    exercise = copy.deepcopy(notebook)
    cells = []
    for index, cell in enumerate(exercise.cells):
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "code":
            lines = cell.source.splitlines()
            marker = next((i for i, line in enumerate(lines) if line.strip() == SOLUTION_MARKER), None)
            if marker is not None:
                kept = "\n".join(lines[:marker]).rstrip()
                if not any(line.strip() and not line.lstrip().startswith("#") for line in lines[:marker]):
                    raise ValueError(
                        f"cell {index} has a '{SOLUTION_MARKER}' marker with no placeholder code above it; "
                        "write e.g. `answer = None  # replace None with your answer` before the marker."
                    )
                cell.source = kept
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        cells.append(cell)
    exercise.cells = cells
    exercise.metadata.pop("jupytext", None)
    if cells and cells[0].cell_type == "markdown":
        cells[0].source = cells[0].source.rstrip() + "\n\n" + BANNER.format(name=name)
    return exercise


def make_exercise_versions(source=REPO_ROOT / "notebooks", destination=REPO_ROOT / "exercises") -> list[Path]:
    """Write the exercise version of every ``NN_*.ipynb`` in ``source`` to ``destination``.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    FileNotFoundError
        If ``source`` holds no notebooks.
    """
    source, destination = Path(source), Path(destination)
    notebooks = sorted(source.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"No notebooks named NN_*.ipynb in {source}; pass the course's notebooks/ folder.")
    destination.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        exercise = strip_solutions(nbformat.read(path, as_version=4), path.name)
        target = destination / path.name
        nbformat.write(exercise, target)
        written.append(target)
    return written


def stale(source=REPO_ROOT / "notebooks", destination=REPO_ROOT / "exercises") -> list[str]:
    """Names of the files in ``destination`` that differ from what would be written now.

    Missing files, extra ``NN_*.ipynb`` files and files whose bytes differ are
    all stale.
    """
    destination = Path(destination)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = {p.name: p.read_bytes() for p in make_exercise_versions(source, tmp)}
    present = {p.name: p.read_bytes() for p in destination.glob("[0-9][0-9]_*.ipynb")} if destination.is_dir() else {}
    return sorted(name for name in fresh.keys() | present.keys() if fresh.get(name) != present.get(name))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Write the exercise versions of the notebooks (solutions removed).")
    parser.add_argument("source", nargs="?", default=REPO_ROOT / "notebooks", type=Path,
                        help="folder of notebooks (default: notebooks/)")
    parser.add_argument("destination", nargs="?", default=REPO_ROOT / "exercises", type=Path,
                        help="output folder (default: exercises/)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the destination is out of date")
    args = parser.parse_args(argv)
    if args.check:
        names = stale(args.source, args.destination)
        for name in names:
            print(f"out of date: {args.destination.name}/{name}; run `python scripts/exercises.py`")
        return 1 if names else 0
    for path in make_exercise_versions(args.source, args.destination):
        print(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
