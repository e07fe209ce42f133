"""vaeface_utils.reporting: rows, quoted numbers marked as such, the plain-text table, and every error path."""

import numpy as np
import pytest

from vaeface_utils.identification import IdentificationResult
from vaeface_utils.reporting import QUOTED_ORL_5_5, format_table, results_table


def test_results_table_rows_and_quoted_numbers():
    result = IdentificationResult(np.array([0.9, 1.0]), np.array([0, 1]), 5, 50, np.ones(2), np.ones(2))
    rows = results_table({"pixels": [0.97, 0.975, 0.98], "eigenfaces": result}, quoted=QUOTED_ORL_5_5)
    assert [r.method for r in rows] == ["pixels", "eigenfaces", "eigenfaces", "SOM + CNN"]
    assert rows[0].mean == pytest.approx(0.975) and rows[0].std == pytest.approx(0.005)
    assert rows[0].text == "97.5 ± 0.5 %" and rows[0].n_splits == 3 and rows[0].note == ""
    assert rows[1].text == "95.0 ± 7.1 %" and not rows[1].quoted
    assert rows[2].text == "89.5 %" and rows[3].text == "96.2 %"
    assert all(r.quoted and r.note.startswith("quoted, not measured: Lawrence et al. 1997") for r in rows[2:])
    table = format_table(rows, title="ORL 5/5")
    lines = table.splitlines()
    assert lines[0] == "ORL 5/5" and lines[1].split() == ["method", "accuracy", "splits", "note"]
    assert sum("quoted, not measured" in line for line in lines) == 2
    assert results_table({"one split": [0.5]})[0].text == "50.0 %"
    assert results_table({"m": [0.97512]}, digits=2)[0].text == "97.51 %"


def test_results_table_errors():
    with pytest.raises(ValueError, match="`accuracies` is empty"):
        results_table({})
    with pytest.raises(ValueError, match="has no accuracies"):
        results_table({"m": []})
    with pytest.raises(ValueError, match="fractions in \\[0, 1\\].*Divide percentages by 100"):
        results_table({"m": [97.5, 96.0]})
    with pytest.raises(TypeError, match="QuotedResult"):
        results_table({"m": [0.9]}, quoted=[("eigenfaces", 0.105)])
    with pytest.raises(ValueError, match="non-empty list from results_table"):
        format_table([])
