"""Generate the student versions of the notebooks: solutions removed.

Each notebook holds its exercises and their solutions in one place. In a code
cell, everything from a line that reads ``# solution`` to the end of the cell
is a solution; a whole cell tagged ``solution`` is one too. The student version
drops both and keeps the placeholder written above the marker
(``answer = None``), so the self-check below it says "Not done yet". Outputs
are cleared: students run the notebooks themselves.

Command line::

    python -m vaeface_utils.student               # notebooks/ -> student/
    python -m vaeface_utils.student SRC DEST
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

__all__ = ["SOLUTION_MARKER", "SOLUTION_TAG", "strip_solutions", "make_student_versions", "main"]

SOLUTION_MARKER = "# solution"
SOLUTION_TAG = "solution"

_BANNER = (
    "> **Student version.** The solutions are removed: replace each `None` "
    "placeholder in the exercises with your answer and run the check below it."
)


def strip_solutions(notebook):
    """Return a copy of ``notebook`` (an nbformat node) without its solutions.

    Raises
    ------
    ValueError
        If a cell's solution marker has no placeholder line above it, which
        would leave the student an empty cell and a check that cannot run.
    """
    student = copy.deepcopy(notebook)
    cells = []
    for index, cell in enumerate(student.cells):
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
        cells.append(cell)
    student.cells = cells
    if cells and cells[0].cell_type == "markdown":
        cells[0].source = cells[0].source.rstrip() + "\n\n" + _BANNER
    return student


def make_student_versions(source="notebooks", destination="student") -> list[Path]:
    """Write the student version of every ``NN_*.ipynb`` in ``source`` to ``destination``.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    FileNotFoundError
        If ``source`` holds no notebooks.
    """
    import nbformat

    source, destination = Path(source), Path(destination)
    notebooks = sorted(source.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"No notebooks named NN_*.ipynb in {source}; pass the course's notebooks/ folder.")
    destination.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        student = strip_solutions(nbformat.read(path, as_version=4))
        target = destination / path.name
        nbformat.write(student, target)
        written.append(target)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Write the student versions of the notebooks (solutions removed).")
    parser.add_argument("source", nargs="?", default="notebooks", help="folder of notebooks (default: notebooks)")
    parser.add_argument("destination", nargs="?", default="student", help="output folder (default: student)")
    args = parser.parse_args(argv)
    for path in make_student_versions(args.source, args.destination):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
