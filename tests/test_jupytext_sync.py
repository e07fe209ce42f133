"""Each notebook and its py:percent pair (``notebooks/py/``) hold the same cells (outputs aside)."""

import re
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SCRIPTS = NOTEBOOKS / "py"
IPYNB = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _cells(notebook):
    return [(cell.cell_type, cell.source.strip(), sorted(cell.metadata.get("tags", []))) for cell in notebook.cells]


def test_every_notebook_has_a_pair_and_every_pair_a_notebook():
    scripts = sorted(SCRIPTS.glob("[0-9][0-9]_*.py"))
    assert [p.stem for p in IPYNB] == [p.stem for p in scripts], (
        "Each notebooks/NN_*.ipynb needs a notebooks/py/NN_*.py pair and the other way round; "
        "create the missing one with `jupytext --sync notebooks/NN_*.ipynb`."
    )
    assert IPYNB, "no notebooks found"
    assert not sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py")), (
        "py:percent pairs belong in notebooks/py/, so that JupyterLab lists each notebook once"
    )


@pytest.mark.parametrize("ipynb", IPYNB, ids=[p.stem for p in IPYNB])
def test_pairing_is_declared_in_the_notebook(ipynb):
    """JupyterLab's jupytext pairs on save by the notebook's own metadata; it must name py/."""
    formats = jupytext.read(ipynb).metadata.get("jupytext", {}).get("formats")
    assert formats == "ipynb,py//py:percent", (
        f"{ipynb.name} pairs as {formats!r}; run `jupytext --set-formats ipynb,py//py:percent notebooks/{ipynb.name}`"
    )


@pytest.mark.parametrize("ipynb", IPYNB, ids=[p.stem for p in IPYNB])
def test_pair_in_sync(ipynb):
    script = SCRIPTS / f"{ipynb.stem}.py"
    from_ipynb = _cells(jupytext.read(ipynb))
    from_script = _cells(jupytext.read(script))
    assert from_ipynb == from_script, (
        f"{ipynb.name} and py/{script.name} differ; run `jupytext --sync notebooks/{ipynb.name}` "
        "after editing either one."
    )


@pytest.mark.parametrize("ipynb", IPYNB, ids=[p.stem for p in IPYNB])
def test_notebook_shape(ipynb):
    """A parameters cell that reads the fast mode, and exercises at the end."""
    notebook = jupytext.read(ipynb)
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{ipynb.name}: expected exactly one cell tagged 'parameters', found {len(tagged)}"
    assert "config.fast_mode()" in tagged[0].source, f"{ipynb.name}: the parameters cell must read config.fast_mode()"
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "## Exercises" in text, f"{ipynb.name} must end in a '## Exercises' section"
    assert "## References" in text, f"{ipynb.name} needs a '## References' section"


def reading_minutes(notebook):
    """An estimate of a notebook's reading time: 180 words of prose and 30 lines of code a minute."""
    words = sum(len(c.source.split()) for c in notebook.cells
                if c.cell_type == "markdown" and "launch" not in c.metadata.get("tags", []))
    lines = sum(1 for c in notebook.cells if c.cell_type == "code" for line in c.source.splitlines() if line.strip())
    return words / 180 + lines / 30


@pytest.mark.parametrize("ipynb", IPYNB, ids=[p.stem for p in IPYNB])
def test_header_gives_a_reading_time_that_fits_the_text(ipynb):
    notebook = jupytext.read(ipynb)
    match = re.search(r"\*\*Reading time:\*\* about (\d+) minutes", notebook.cells[0].source)
    assert match, f"{ipynb.name}: the first cell must say '**Reading time:** about N minutes'"
    stated, estimate = int(match.group(1)), reading_minutes(notebook)
    assert abs(stated - estimate) <= max(5, 0.25 * estimate), (
        f"{ipynb.name} says {stated} minutes of reading; its text and code now come to about {estimate:.0f}"
    )
