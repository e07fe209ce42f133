"""Tests that a notebook names (in its tables of bugs and guards) exist in tests/."""

import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DEFINED = {
    name
    for path in (ROOT / "tests").glob("test_*.py")
    for name in re.findall(r"^def (test_\w+)", path.read_text(), flags=re.MULTILINE)
}


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_named_tests_exist(ipynb):
    text = "\n".join(c.source for c in jupytext.read(ipynb).cells if c.cell_type == "markdown")
    named = set(re.findall(r"`(test_\w+)`", text)) - {"test_step"}  # test_step: Keras's method
    missing = sorted(named - DEFINED)
    assert not missing, f"{ipynb.name} names tests that do not exist in tests/: {missing}"
