"""vaeface_utils.protocol: validation choices with ties to the simpler, paired differences against SciPy."""

import numpy as np
import pytest
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin

from vaeface_utils import protocol


class Columns(TransformerMixin, BaseEstimator):
    """Keep the first `size` columns (None: all)."""

    def __init__(self, size=None):
        self.size = size

    def fit(self, x, y=None):
        return self

    def transform(self, x):
        x = np.asarray(x, dtype=float).reshape(len(x), -1)
        return x if self.size is None else x[:, : self.size]


@pytest.fixture
def two_clusters():
    rng = np.random.default_rng(0)
    identity = np.repeat([0, 1], 10)
    x = rng.normal(size=(20, 4))
    x[:, 0] += 6 * identity  # only the first column tells the two apart
    return x[::2], identity[::2], x[1::2], identity[1::2]


def test_choose_on_validation_keeps_the_simplest_of_equals(two_clusters):
    x_train, id_train, x_val, id_val = two_clusters
    choice = protocol.choose_on_validation(Columns, x_train, id_train, x_val, id_val, sizes=(4, 1, 2))
    assert choice.accuracy == 1.0
    assert (choice.size, choice.classifier, choice.normalise) == (1, "1nn-euclidean", "none")  # the first of equals
    assert list(choice.scores)[0] == (1, "1nn-euclidean", "none")  # simplest first
    assert len(choice.scores) == 3 * 4 * 3
    assert choice.classifier_pipeline().fit(x_train, id_train).score(x_val, id_val) == 1.0


def test_choose_on_validation_skips_and_refuses_nothing_to_try(two_clusters):
    x_train, id_train, x_val, id_val = two_clusters
    skip = {("1nn-euclidean", n) for n in ("none", "standardise", "l2")}
    choice = protocol.choose_on_validation(Columns, x_train, id_train, x_val, id_val, skip=skip)
    assert all(c != "1nn-euclidean" for _, c, _ in choice.scores)
    with pytest.raises(ValueError, match="Nothing to try"):
        protocol.choose_on_validation(Columns, x_train, id_train, x_val, id_val, classifiers=("1nn-euclidean",),
                                      skip=skip)


def test_paired_difference_is_the_paired_t_interval():
    a = np.array([0.95, 0.97, 0.94, 0.96, 0.93])
    b = np.array([0.93, 0.95, 0.93, 0.93, 0.92])
    d = protocol.paired_difference(a, b)
    interval = stats.ttest_rel(a, b).confidence_interval(0.95)
    assert np.isclose(d.mean, np.mean(a - b)) and np.isclose(d.low, interval.low) and np.isclose(d.high, interval.high)
    assert d.wins == 5 and d.n == 5 and d.verdict == "a better"
    assert protocol.paired_difference(b, a).verdict == "b better"
    assert protocol.paired_difference(a, a[::-1]).verdict == "no clear difference"
    assert "points" in str(d) and "5 splits" in str(d)


@pytest.mark.parametrize("a, b, match", [([0.9, 0.8], [0.9], "same splits"), ([0.9], [0.8], "at least 2")])
def test_paired_difference_bad_input(a, b, match):
    with pytest.raises(ValueError, match=match):
        protocol.paired_difference(a, b)


def test_the_corrected_interval_is_nadeau_and_bengios():
    a = np.array([0.95, 0.97, 0.94, 0.96, 0.93])
    b = np.array([0.93, 0.95, 0.93, 0.93, 0.92])
    d = a - b
    corrected = protocol.paired_difference(a, b, test_train_ratio=1.0)
    half = stats.t.ppf(0.975, 4) * d.std(ddof=1) * np.sqrt(1 / 5 + 1.0)
    assert np.isclose(corrected.high - corrected.mean, half) and corrected.corrected
    plain = protocol.paired_difference(a, b)
    assert corrected.low < plain.low and corrected.p_value > plain.p_value
    assert np.isclose(plain.p_value, stats.ttest_rel(a, b).pvalue)


def test_holm_adjusts_in_step_down_order():
    assert protocol.holm({"a": 0.01, "b": 0.04, "c": 0.03}) == {"a": 0.03, "b": 0.06, "c": 0.06}
    assert protocol.holm({"x": 0.5}) == {"x": 0.5}
    assert protocol.holm({"a": 0.4, "b": 0.5}) == {"a": 0.8, "b": 0.8}


def test_interval_verdict_reads_where_the_interval_lies():
    from vaeface_utils.protocol import interval_verdict

    words = dict(below="b", above="a", neither="n")
    assert [interval_verdict(i, **words) for i in ((-2, -3, -1), (2, 1, 3), (0, -1, 1), (0, 0, 1))] == list("bann")
    with pytest.raises(ValueError, match="low end"):
        interval_verdict((0, 1, -1), **words)
