"""vaeface_utils.protocol: validation choices with ties to the simpler, paired differences against SciPy,
bootstrap intervals over people against a brute-force loop."""

import numpy as np
import pytest
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin

from vaeface_utils import protocol
from vaeface_utils.identification import CLASSIFIERS, NORMALISATIONS, identification_accuracy, make_classifier


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


class NoisyColumns(Columns):
    """Columns plus noise from one generator shared by every clone, like a VAE's sampled z."""

    rng = np.random.default_rng(3)

    def transform(self, x):
        x = super().transform(x)
        return x + 2.0 * type(self).rng.standard_normal(x.shape)


@pytest.mark.parametrize("extractor", [Columns, NoisyColumns])
def test_the_grid_search_scores_as_a_hand_loop_on_one_fit_per_size(two_clusters, extractor):
    """Every setting's validation accuracy equals identification_accuracy on the same features, fitted once a size."""
    x_train, id_train, x_val, id_val = two_clusters
    NoisyColumns.rng = np.random.default_rng(3)
    choice = protocol.choose_on_validation(extractor, x_train, id_train, x_val, id_val, sizes=(1, 4))
    NoisyColumns.rng = np.random.default_rng(3)
    by_hand = {}
    for size in (1, 4):
        fitted = extractor(size).fit(x_train, id_train)
        z_train, z_val = fitted.transform(x_train), fitted.transform(x_val)
        for c in CLASSIFIERS:
            for n in NORMALISATIONS:
                by_hand[size, c, n] = identification_accuracy(z_train, id_train, z_val, id_val,
                                                              make_classifier(c, normalise=n))
    assert choice.scores == by_hand
    assert list(choice.scores) == sorted(by_hand, key=lambda k: (CLASSIFIERS.index(k[1]),
                                                                 NORMALISATIONS.index(k[2]), k[0]))


def test_choose_on_validation_refuses_a_validation_person_without_training_images(two_clusters):
    x_train, id_train, x_val, id_val = two_clusters
    with pytest.raises(ValueError, match=r"1 identities in `id_val` have no training image \(e\.g\. \[7\]\)"):
        protocol.choose_on_validation(Columns, x_train, id_train, x_val, np.r_[id_val[:-1], 7])
    with pytest.raises(ValueError, match="`x_val` has 10 rows but `id_val` has 9"):
        protocol.choose_on_validation(Columns, x_train, id_train, x_val, id_val[:-1])


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


# --------------------------------------------------------------------------
# bootstrap_difference


def test_bootstrap_difference_matches_a_brute_force_loop():
    rng = np.random.default_rng(7)
    groups = np.repeat(np.arange(12), 5)
    a = rng.random(60) < 0.8
    b = rng.random(60) < 0.6
    mean, low, high = protocol.bootstrap_difference(a, b, groups, n_resamples=300, seed=3)
    assert np.isclose(mean, np.mean(a.astype(float) - b))
    draws = np.random.default_rng(3).integers(0, 12, size=(300, 12))  # the same draws, resampled one by one
    means = [np.mean(np.concatenate([(a.astype(float) - b)[groups == g] for g in row])) for row in draws]
    assert np.allclose([low, high], np.percentile(means, [2.5, 97.5]))


def test_bootstrap_difference_agrees_with_scipy_on_group_means():
    rng = np.random.default_rng(8)
    groups = np.repeat(np.arange(40), 5)  # equal groups: resampling groups is resampling the 40 group means
    person = rng.normal(0.0, 0.3, 40)[groups]  # a per-person effect shared by the person's queries
    a = np.clip(0.7 + person + rng.normal(0, 0.2, 200), 0, 1)
    b = np.clip(0.6 + person + rng.normal(0, 0.2, 200), 0, 1)
    mean, low, high = protocol.bootstrap_difference(a, b, groups, n_resamples=4000, seed=0)
    group_means = np.bincount(groups, weights=a - b) / 5
    ci = stats.bootstrap((group_means,), np.mean, n_resamples=20000, method="percentile",
                         random_state=np.random.default_rng(1)).confidence_interval
    width = high - low
    assert abs(low - ci.low) < 0.1 * width and abs(high - ci.high) < 0.1 * width  # Monte Carlo tolerance
    assert low < mean < high


def test_bootstrap_difference_resamples_people_not_faces():
    """Queries of one person move together: the interval over people is wider than one over single faces."""
    groups = np.repeat(np.arange(20), 10)
    d = np.where(np.arange(20) % 2 == 0, 1.0, -0.8)[groups]  # every face of a person has that person's difference
    low_people, high_people = protocol.bootstrap_difference(d, np.zeros(200), groups, seed=0)[1:]
    low_faces, high_faces = protocol.bootstrap_difference(d, np.zeros(200), np.arange(200), seed=0)[1:]
    assert high_people - low_people > 2 * (high_faces - low_faces)


def test_bootstrap_difference_known_cases():
    groups = [0, 0, 1, 1, 2, 2]
    assert protocol.bootstrap_difference([1, 0, 1, 1, 0, 1], [1, 0, 1, 1, 0, 1], groups) == (0.0, 0.0, 0.0)
    assert np.allclose(protocol.bootstrap_difference([1.0] * 6, [0.75] * 6, groups), 0.25)  # a constant difference
    first = protocol.bootstrap_difference([1, 0, 1, 1, 0, 1], [0, 0, 1, 0, 0, 1], groups, seed=5)
    assert first == protocol.bootstrap_difference([1, 0, 1, 1, 0, 1], [0, 0, 1, 0, 0, 1], groups, seed=5)  # seeded


@pytest.mark.parametrize("kwargs, error, match", [
    ({"correct_a": [1.0, 0.0]}, ValueError, "one entry per query"),
    ({"groups": [0, 0, 0]}, ValueError, "at least 2 distinct groups"),
    ({"correct_b": []}, ValueError, "`correct_b` must be a non-empty 1-D"),
    ({"correct_a": [[1.0, 0.0, 1.0]]}, ValueError, "`correct_a` must be a non-empty 1-D"),
    ({"correct_a": [1.0, np.nan, 0.0]}, ValueError, "NaN"),
    ({"correct_a": ["a", "b", "c"]}, TypeError, "`correct_a` must be an array of numbers"),
    ({"n_resamples": 0}, ValueError, "`n_resamples`"),
    ({"n_resamples": 2.5}, ValueError, "`n_resamples` must be an int"),
    ({"confidence": 1.0}, ValueError, "`confidence`"),
])
def test_bootstrap_difference_bad_input(kwargs, error, match):
    arguments = {"correct_a": [1.0, 0.0, 1.0], "correct_b": [0.0, 0.0, 1.0], "groups": [0, 1, 1], **kwargs}
    with pytest.raises(error, match=match):
        protocol.bootstrap_difference(**arguments)
