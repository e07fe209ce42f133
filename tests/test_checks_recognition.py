"""The self-checks of notebook 04's exercises (vaeface_utils.checks.recognition)."""

import numpy as np

from vaeface_utils.checks import recognition as check
from vaeface_utils.identification import identification_accuracy


def test_check_nearest_neighbour_accuracy(gallery):
    right = identification_accuracy(*gallery)
    assert check.nearest_neighbour_accuracy(right, *gallery).passed
    assert check.nearest_neighbour_accuracy(None, *gallery).status == "not done"
    assert "percentage" in repr(check.nearest_neighbour_accuracy(100 * right, *gallery))
    assert "error rate" in repr(check.nearest_neighbour_accuracy(1 - right, *gallery))
    wrong = check.nearest_neighbour_accuracy(0.01, *gallery)
    assert wrong.status == "wrong" and f"{right}" not in repr(wrong) and f"{100 * right:.1f}" not in repr(wrong)


def test_check_pair_counts():
    identity = np.repeat(np.arange(40), 10)
    assert check.pair_counts((1800, 78000), identity).passed
    assert check.pair_counts(None, identity).status == "not done"
    assert "ordered pairs" in repr(check.pair_counts((3600, 156000), identity))
    assert "itself" in repr(check.pair_counts((2200, 78000), identity))
    assert "swapped" in repr(check.pair_counts((78000, 1800), identity))
    wrong = check.pair_counts((1000, 2000), identity)
    assert wrong.status == "wrong" and "1800" not in repr(wrong) and "78000" not in repr(wrong)


def test_check_equal_error_rate():
    fpr, tpr = [0.0, 0.2, 0.6, 1.0], [0.0, 0.6, 0.9, 1.0]
    assert check.equal_error_rate(11 / 35, fpr, tpr).passed
    assert check.equal_error_rate(None, fpr, tpr).status == "not done"
    assert "1 - tpr" in repr(check.equal_error_rate(24 / 35, fpr, tpr))
    assert "interpolate" in repr(check.equal_error_rate(0.2, fpr, tpr))
    assert "percentage" in repr(check.equal_error_rate(100 * 11 / 35, fpr, tpr))
    assert "0.314" not in repr(check.equal_error_rate(0.5, fpr, tpr))
