"""vaeface_utils.verification against scikit-learn's ROC and AUC, known answers, and every error path."""

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score, roc_curve

from vaeface_utils.verification import METRICS, equal_error_rate, make_pairs, pair_scores, verification_roc


def test_all_pairs_and_balanced_samples():
    identity = np.repeat(np.arange(5), 4)
    pairs = make_pairs(identity)
    assert len(pairs) == 20 * 19 // 2 and pairs.same.sum() == 5 * 6
    assert np.all(pairs.first < pairs.second)
    np.testing.assert_array_equal(pairs.same, identity[pairs.first] == identity[pairs.second])
    sample = make_pairs(identity, n_pairs=40, seed=1)
    assert sample.same.sum() == 20 and (~sample.same).sum() == 20
    assert len(set(zip(sample.first.tolist(), sample.second.tolist()))) == 40  # no pair twice
    again = make_pairs(identity, n_pairs=40, seed=1)
    np.testing.assert_array_equal(sample.first, again.first)
    np.testing.assert_array_equal(sample.second, again.second)
    other = make_pairs(identity, n_pairs=40, seed=2)
    assert not np.array_equal(sample.first, other.first) or not np.array_equal(sample.second, other.second)


def test_pair_scores_are_cosine_similarity_and_negative_distance(rng):
    x = rng.normal(size=(6, 3))
    pairs = make_pairs([0, 0, 1, 1, 2, 2])
    cos = pair_scores(x, pairs.first, pairs.second)
    for s, i, j in zip(cos, pairs.first, pairs.second):
        assert s == pytest.approx(x[i] @ x[j] / np.linalg.norm(x[i]) / np.linalg.norm(x[j]))
    euclid = pair_scores(x, pairs.first, pairs.second, metric="euclidean")
    np.testing.assert_allclose(euclid, -np.linalg.norm(x[pairs.first] - x[pairs.second], axis=1))


def test_verification_roc_and_auc_equal_sklearn(gallery):
    x, y = np.r_[gallery[0], gallery[2]], np.r_[gallery[1], gallery[3]]
    for metric in METRICS:
        result = verification_roc(x, y, metric=metric)
        pairs = make_pairs(y)
        scores = pair_scores(x, pairs.first, pairs.second, metric=metric)
        fpr, tpr, thresholds = roc_curve(pairs.same, scores)
        np.testing.assert_array_equal(result.fpr, fpr)
        np.testing.assert_array_equal(result.tpr, tpr)
        np.testing.assert_array_equal(result.thresholds, thresholds)
        assert result.auc == roc_auc_score(pairs.same, scores)
        assert 0.5 < result.auc < 1
        assert (result.n_same, result.n_different) == (6 * 28, 48 * 47 // 2 - 6 * 28)
        # At the EER threshold, false accepts and false rejects are both about the EER.
        far = np.mean(scores[~pairs.same] >= result.eer_threshold)
        frr = np.mean(scores[pairs.same] < result.eer_threshold)
        assert abs(far - result.eer) < 0.02 and abs(frr - result.eer) < 0.02
    sampled = verification_roc(x, y, n_pairs=100, seed=0)
    assert sampled.n_same == sampled.n_different == 50


def test_equal_error_rate_known_answers():
    # Interpolation between (0.2, 0.6) and (0.6, 0.9): fpr = 1 - tpr at 11/35.
    assert equal_error_rate([0.0, 0.2, 0.6, 1.0], [0.0, 0.6, 0.9, 1.0]) == pytest.approx(11 / 35, abs=1e-12)
    # A ROC point exactly on the line, and the perfect and the reversed score.
    assert equal_error_rate([0.0, 0.5, 1.0], [0.0, 0.5, 1.0]) == pytest.approx(0.5)
    assert verification_roc([[0.0], [0.1], [5.0], [5.2]], [0, 0, 1, 1], metric="euclidean").eer == 0.0
    # Every different pair scored above every same pair: EER 1.
    fpr, tpr, _ = roc_curve([1, 1, 0, 0], [0.0, 1.0, 2.0, 3.0])
    assert equal_error_rate(fpr, tpr) == pytest.approx(1.0)
    # A case worked by hand: same scores {-9, -9}, different {-1, -10, -8, -1}; the ROC jumps from
    # (0.75, 0) at threshold -8 to (0.75, 1) at -9, so fpr = 1 - tpr = 0.75 on that segment.
    worked = verification_roc([[0.0], [9.0], [1.0], [10.0]], [0, 0, 1, 1], metric="euclidean")
    assert worked.eer == pytest.approx(0.75) and -9.0 <= worked.eer_threshold <= -8.0


def test_equal_error_rate_of_two_gaussians_monte_carlo(rng):
    """Scores N(+1, 1) for same, N(-1, 1) for different: EER = Phi(-1) = 0.1587 by symmetry."""
    n = 20_000
    scores = np.r_[rng.normal(1.0, 1.0, n), rng.normal(-1.0, 1.0, n)]
    fpr, tpr, _ = roc_curve(np.r_[np.ones(n), np.zeros(n)], scores)
    # Binomial standard error of a rate near 0.16 from 20k samples is 0.0026; allow 4 of them.
    assert equal_error_rate(fpr, tpr) == pytest.approx(stats.norm.cdf(-1.0), abs=0.011)


def test_verification_errors(rng):
    x = rng.normal(size=(4, 2))
    with pytest.raises(ValueError, match="No same-person pairs"):
        make_pairs([0, 1, 2])
    with pytest.raises(ValueError, match="No different-person pairs"):
        make_pairs([3, 3, 3])
    with pytest.raises(ValueError, match="at least 2 rows"):
        make_pairs([0])
    with pytest.raises(ValueError, match=r"non-empty 1-D"):
        make_pairs([])
    for bad in (3, 0, 10, 2.0):
        with pytest.raises(ValueError, match=r"`n_pairs` must be None \(all pairs\) or an even int from 2 to 4"):
            make_pairs([0, 0, 1, 1], n_pairs=bad)
    with pytest.raises(ValueError, match=r"Unknown `metric` 'l1'"):
        verification_roc(x, [0, 0, 1, 1], metric="l1")
    with pytest.raises(ValueError, match="`features` has 4 rows but `identity` has 3"):
        verification_roc(x, [0, 0, 1])
    with pytest.raises(ValueError, match="must be 2-D"):
        verification_roc(x.ravel(), [0, 0, 1, 1, 2, 2, 3, 3])
    with pytest.raises(ValueError, match="all zero"):
        verification_roc(np.r_[x[:3], [[0.0, 0.0]]], [0, 0, 1, 1])
    with pytest.raises(ValueError, match="rows of `features`"):
        pair_scores(x, [0], [4])
    with pytest.raises(ValueError, match="one length >= 2"):
        equal_error_rate([0.0, 1.0], [0.0])
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        equal_error_rate([0.0, 2.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="never crosses"):
        equal_error_rate([0.0, 0.1], [0.0, 0.2])
