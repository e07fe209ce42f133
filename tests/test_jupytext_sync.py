"""Each notebook and its py:percent pair (``notebooks/py/``) hold the same cells (outputs aside)."""

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
