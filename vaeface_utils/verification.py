"""Verification: are two images the same person? Pairs, scores, ROC, AUC and equal error rate.

:func:`make_pairs`
    Same-person and different-person pairs, all of them or a seeded
    balanced sample.
:func:`pair_scores`
    Cosine similarity or negative Euclidean distance of each pair's features
    (:data:`METRICS`); larger always means "more likely the same person".
:func:`verification_roc`
    The ROC curve (:func:`sklearn.metrics.roc_curve`), its area and the
    equal error rate, as a :class:`VerificationResult`.
:func:`equal_error_rate`
    Where false accepts equal false rejects on a ROC curve.

Error rates are fractions in [0, 1].

>>> make_pairs([0, 0, 1, 1])
Pairs(2 same, 4 different)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from ._validate import as_features, as_labels, one_of

__all__ = [
    "METRICS",
    "Pairs",
    "make_pairs",
    "pair_scores",
    "VerificationResult",
    "verification_roc",
    "equal_error_rate",
]

#: Pair scores for verification; larger always means "more likely the same person".
METRICS = ("cosine", "euclidean")


@dataclass(frozen=True)
class Pairs:
    """Pairs of rows for verification.

    Attributes
    ----------
    first, second : ndarray of int64, shape (n_pairs,)
        Row indices, ``first < second``.
    same : ndarray of bool, shape (n_pairs,)
        Whether the two rows show the same person.
    """

    first: np.ndarray
    second: np.ndarray
    same: np.ndarray

    def __len__(self) -> int:
        return len(self.same)

    def __repr__(self) -> str:
        return f"Pairs({int(self.same.sum())} same, {int((~self.same).sum())} different)"


def make_pairs(identity, *, n_pairs: int | None = None, seed: int = 0) -> Pairs:
    """Same-person and different-person pairs from a set of identities.

    Parameters
    ----------
    identity : array_like, shape (n,)
    n_pairs : int, optional
        ``None`` (default): every unordered pair ``i < j`` once, which for
        ORL is 1,800 same and 78,000 different. An even int: a seeded,
        balanced sample without replacement, half same and half different.
    seed : int, default 0

    Returns
    -------
    Pairs
        Sorted by ``(first, second)``.

    Raises
    ------
    ValueError
        Fewer than two rows, no same-person pair (nobody has two images), no
        different-person pair (one person), or ``n_pairs`` odd, below 2, or
        more than the balanced sample allows.

    Examples
    --------
    >>> make_pairs([0, 0, 1, 1])
    Pairs(2 same, 4 different)
    >>> make_pairs([0, 0, 0, 1, 1], n_pairs=4)
    Pairs(2 same, 2 different)
    """
    y = as_labels(identity, "identity")
    if len(y) < 2:
        raise ValueError(f"Pairs need at least 2 rows in `identity`; got {len(y)}.")
    first, second = np.triu_indices(len(y), k=1)
    same = y[first] == y[second]
    n_same, n_diff = int(same.sum()), int((~same).sum())
    if n_same == 0:
        raise ValueError("No same-person pairs: every person in `identity` has one image. "
                         "Verification needs at least two images of some people.")
    if n_diff == 0:
        raise ValueError("No different-person pairs: `identity` holds one person. Pass images of two or more people.")
    if n_pairs is not None:
        top = 2 * min(n_same, n_diff)
        if isinstance(n_pairs, bool) or not isinstance(n_pairs, (int, np.integer)) or not (
                2 <= n_pairs <= top and n_pairs % 2 == 0):
            raise ValueError(
                f"`n_pairs` must be None (all pairs) or an even int from 2 to {top} (twice the {min(n_same, n_diff)} "
                f"pairs of the rarer kind: {n_same} same, {n_diff} different); got {n_pairs!r}."
            )
        rng = np.random.default_rng(seed)
        keep = np.concatenate([rng.choice(np.flatnonzero(same), n_pairs // 2, replace=False),
                               rng.choice(np.flatnonzero(~same), n_pairs // 2, replace=False)])
        keep.sort()
        first, second, same = first[keep], second[keep], same[keep]
    return Pairs(first.astype(np.int64), second.astype(np.int64), same)


def pair_scores(features, first, second, *, metric: str = "cosine") -> np.ndarray:
    """Similarity of each pair of rows; larger means "more likely the same person".

    Parameters
    ----------
    features : array_like of float, shape (n, d)
    first, second : array_like of int, shape (n_pairs,)
        Row indices.
    metric : {"cosine", "euclidean"}, default "cosine"
        Cosine similarity, or the negative Euclidean distance.

    Returns
    -------
    ndarray of float64, shape (n_pairs,)

    Raises
    ------
    ValueError
        Non-2-D or empty features, index arrays of different lengths or out
        of range, a zero feature vector with ``"cosine"``, unknown metric.

    Examples
    --------
    >>> pair_scores([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]], [0, 0], [1, 2]).round(4).tolist()
    [0.7071, 0.0]
    """
    x = as_features(features, "features")
    one_of(metric, "metric", METRICS)
    first, second = np.asarray(first), np.asarray(second)
    if first.shape != second.shape or first.ndim != 1 or not np.issubdtype(first.dtype, np.integer) \
            or not np.issubdtype(second.dtype, np.integer):
        raise ValueError(f"`first` and `second` must be 1-D int arrays of one length; got shapes "
                         f"{first.shape} and {second.shape}. Use make_pairs(identity).")
    if first.size and (min(first.min(), second.min()) < 0 or max(first.max(), second.max()) >= len(x)):
        raise ValueError(f"Pair indices must be rows of `features`, 0 to {len(x) - 1}.")
    if metric == "cosine":
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        if np.any(norms == 0):
            raise ValueError(f"{int(np.sum(norms == 0))} feature rows are all zero, so their cosine similarity is "
                             "undefined; use metric='euclidean' or features without zero rows.")
        x = x / norms
    scores = np.empty(len(first))
    step = max(1, 2**22 // x.shape[1])  # pairs per chunk: about 32 MB of gathered rows, whatever d is
    for start in range(0, len(first), step):
        a, b = x[first[start:start + step]], x[second[start:start + step]]
        scores[start:start + step] = -np.linalg.norm(a - b, axis=1) if metric == "euclidean" else \
            np.einsum("ij,ij->i", a, b)
    return scores


def equal_error_rate(fpr, tpr) -> float:
    """The error rate where false accepts equal false rejects: ``fpr = 1 - tpr``.

    Found by linear interpolation between the two ROC points on either side
    of the crossing, as on the ROC curve drawn with straight segments.

    Parameters
    ----------
    fpr, tpr : array_like of float, shape (n_points,)
        A ROC curve with ``fpr`` non-decreasing, as from
        :func:`sklearn.metrics.roc_curve`.

    Returns
    -------
    float
        In [0, 1]; 0 for a perfect separation, 0.5 for chance.

    Raises
    ------
    ValueError
        Arrays of different lengths, fewer than two points, values outside
        [0, 1], or a curve that never reaches ``fpr = 1 - tpr``.

    Examples
    --------
    >>> round(equal_error_rate([0.0, 0.2, 0.6, 1.0], [0.0, 0.6, 0.9, 1.0]), 6)  # 11/35
    0.314286
    """
    t = _crossing(fpr, tpr)
    return t[0]


def _crossing(fpr, tpr):
    """(eer, index, weight): the crossing lies between points index - 1 and index."""
    fpr, tpr = np.asarray(fpr, dtype=np.float64), np.asarray(tpr, dtype=np.float64)
    if fpr.ndim != 1 or fpr.shape != tpr.shape or len(fpr) < 2:
        raise ValueError(f"`fpr` and `tpr` must be 1-D arrays of one length >= 2; got shapes {fpr.shape} and "
                         f"{tpr.shape}. Pass the first two outputs of sklearn.metrics.roc_curve.")
    if np.any((fpr < 0) | (fpr > 1) | (tpr < 0) | (tpr > 1)) or not np.all(np.isfinite(fpr + tpr)):
        raise ValueError("`fpr` and `tpr` are rates, so they must lie in [0, 1].")
    gap = fpr - (1.0 - tpr)  # false accepts minus false rejects; rises along the curve
    above = np.flatnonzero(gap >= 0)
    if above.size == 0 or gap[0] > 0:
        raise ValueError("The ROC curve never crosses fpr = 1 - tpr; pass the whole curve, from (0, 0) to (1, 1).")
    i = int(above[0])
    if i == 0:
        return float(fpr[0]), 0, 1.0
    w = -gap[i - 1] / (gap[i] - gap[i - 1])
    return float(fpr[i - 1] + w * (fpr[i] - fpr[i - 1])), i, float(w)


@dataclass(frozen=True)
class VerificationResult:
    """ROC, AUC and equal error rate of same/different-person pairs.

    Attributes
    ----------
    fpr, tpr, thresholds : ndarray of float64
        From :func:`sklearn.metrics.roc_curve` (``thresholds[0]`` is inf).
    auc : float
        Area under the ROC curve, :func:`sklearn.metrics.roc_auc_score`.
    eer : float
        Equal error rate, :func:`equal_error_rate`.
    eer_threshold : float
        Score at the equal error rate, interpolated like ``eer``.
    n_same, n_different : int
        Pairs of each kind.
    metric : str
    """

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    auc: float
    eer: float
    eer_threshold: float
    n_same: int
    n_different: int
    metric: str

    def __repr__(self) -> str:
        return (f"VerificationResult(auc={self.auc:.4f}, eer={100 * self.eer:.1f} %, metric={self.metric!r}, "
                f"{self.n_same} same and {self.n_different} different pairs)")


def verification_roc(features, identity, *, metric: str = "cosine", n_pairs: int | None = None,
                     seed: int = 0) -> VerificationResult:
    """Verification: are two images the same person? ROC, AUC and EER.

    Builds pairs with :func:`make_pairs`, scores them with
    :func:`pair_scores`, and measures how well the scores separate
    same-person from different-person pairs at every threshold.

    Parameters
    ----------
    features : array_like of float, shape (n, d)
        E.g. features of the test images, from an extractor fitted on the
        training images.
    identity : array_like, shape (n,)
    metric : {"cosine", "euclidean"}, default "cosine"
    n_pairs : int, optional
        ``None`` for all pairs, or an even int for a seeded balanced sample.
    seed : int, default 0

    Returns
    -------
    VerificationResult

    Raises
    ------
    ValueError
        As :func:`make_pairs` and :func:`pair_scores`, and features and
        identities of different lengths.

    Examples
    --------
    >>> result = verification_roc([[1.0, 0.1], [1.0, 0.0], [0.0, 1.0], [0.1, 1.0]], [0, 0, 1, 1])
    >>> result.auc, result.eer
    (1.0, 0.0)
    """
    x = as_features(features, "features")
    y = as_labels(identity, "identity", len(x), "features")
    pairs = make_pairs(y, n_pairs=n_pairs, seed=seed)
    scores = pair_scores(x, pairs.first, pairs.second, metric=metric)
    fpr, tpr, thresholds = roc_curve(pairs.same, scores)
    eer, i, w = _crossing(fpr, tpr)
    if i == 0 or not np.isfinite(thresholds[i - 1]):
        threshold = float(thresholds[i])
    else:
        threshold = float(thresholds[i - 1] + w * (thresholds[i] - thresholds[i - 1]))
    return VerificationResult(fpr, tpr, thresholds, float(roc_auc_score(pairs.same, scores)), eer, threshold,
                              int(pairs.same.sum()), int((~pairs.same).sum()), metric)
