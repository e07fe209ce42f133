"""Exercise versions: solutions removed, placeholders kept, committed up to date, and every one runs."""

import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
EXERCISES = ROOT / "exercises"
sys.path.insert(0, str(ROOT / "scripts"))

from exercises import make_exercise_versions, stale, strip_solutions  # noqa: E402  (scripts/exercises.py)


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title")] + list(cells)
    return nb


def test_marker_and_tag_remove_solutions_and_keep_placeholders():
    exercise = nbformat.v4.new_code_cell("answer = None  # replace None\n# solution\nanswer = 42")
    exercise.outputs = [nbformat.v4.new_output("stream", text="42\n")]
    hidden = nbformat.v4.new_code_cell("secret = 42", metadata={"tags": ["solution"]})
    check = nbformat.v4.new_code_cell("check(answer)")
    paired = notebook(exercise, hidden, check)
    paired.metadata["jupytext"] = {"formats": "ipynb,py//py:percent"}
    student = strip_solutions(paired, "00_x.ipynb")
    sources = [c.source for c in student.cells]
    assert sources[1:] == ["answer = None  # replace None", "check(answer)"]
    assert "42" not in "".join(sources)
    assert all(c.outputs == [] for c in student.cells if c.cell_type == "code")
    assert "Exercise version" in student.cells[0].source and "notebooks/00_x.ipynb" in student.cells[0].source
    assert "jupytext" not in student.metadata, "JupyterLab would write a .py pair beside the student's copy"


def test_a_marker_without_a_placeholder_is_an_error():
    with pytest.raises(ValueError, match="no placeholder code above it"):
        strip_solutions(notebook(nbformat.v4.new_code_cell("# Exercise 1\n# solution\nanswer = 1")))


def test_empty_source_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="No notebooks named"):
        make_exercise_versions(tmp_path, tmp_path / "out")


def test_committed_exercise_versions_are_up_to_date():
    assert not stale(NOTEBOOKS, EXERCISES), (
        f"exercises/ is out of date ({stale(NOTEBOOKS, EXERCISES)}); run `.venv/bin/python scripts/exercises.py`"
    )


def test_stale_sees_a_changed_missing_or_extra_file(tmp_path):
    make_exercise_versions(NOTEBOOKS, tmp_path)
    assert stale(NOTEBOOKS, tmp_path) == []
    first = sorted(tmp_path.glob("*.ipynb"))[0]
    first.write_text(first.read_text().replace("Exercise version", "Exercise versio"))
    (tmp_path / "99_extra.ipynb").write_text("{}")
    sorted(tmp_path.glob("*.ipynb"))[1].unlink()
    assert len(stale(NOTEBOOKS, tmp_path)) == 3


@pytest.fixture(scope="module")
def exercise_folder(tmp_path_factory):
    """A copy of the committed exercises/, run where no stray file can reach the checkout."""
    destination = tmp_path_factory.mktemp("exercises")
    for path in EXERCISES.glob("[0-9][0-9]_*.ipynb"):
        shutil.copy2(path, destination / path.name)
    return destination


EXERCISE_NOTEBOOKS = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("name", EXERCISE_NOTEBOOKS)
def test_exercise_version_has_no_solutions(exercise_folder, name):
    student = nbformat.read(exercise_folder / name, as_version=4)
    code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    assert "# solution" not in code
    assert "= None  # replace None with your answer" in code, f"{name} has no exercise placeholder"


@pytest.mark.parametrize("name", EXERCISE_NOTEBOOKS)
def test_exercise_version_runs_and_says_not_done(exercise_folder, name, request):
    """Executed top to bottom: no error, and every self-check says "Not done yet"."""
    from nbclient import NotebookClient

    if name != "01_elbo_derivation.ipynb":
        request.getfixturevalue("orl_path")  # the faces are needed (a skip with the reason outside CI)
    student = nbformat.read(exercise_folder / name, as_version=4)
    NotebookClient(student, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(exercise_folder)}}).execute()
    verdicts = [
        "".join(output.get("data", {}).get("text/plain", ""))
        for cell in student.cells if cell.cell_type == "code"
        for output in cell.outputs
    ]
    verdicts = [v for v in verdicts if v.startswith("Exercise")]
    assert verdicts, f"{name}: no self-check output found"
    assert all("Not done yet" in v for v in verdicts), verdicts
