"""The course's comparison protocol: choose on validation, compare by paired differences.

Every method, baselines and VAE alike, gets its settings (feature size,
classifier, normalisation) from the same search on the validation images,
ties going to the simpler choice; test splits are touched once, at the end.
Two methods measured on the same splits are compared by their per-split
differences, with a confidence interval (:func:`paired_difference`), not by
whether their error bars overlap. Two methods scored on the same queries of
one split are compared by their per-query differences, with a bootstrap
interval that resamples people (:func:`bootstrap_difference`).

>>> round(paired_difference([0.95, 0.96, 0.94], [0.93, 0.95, 0.93]).mean, 4)
0.0133
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.pipeline import Pipeline

from . import _validate as _v
from ._validate import as_features, as_labels
from .identification import CLASSIFIERS, NORMALISATIONS, make_classifier

__all__ = ["ValidationChoice", "choose_on_validation", "PairedDifference", "paired_difference",
           "bootstrap_difference", "holm", "interval_verdict"]


@dataclass(frozen=True)
class ValidationChoice:
    """The outcome of :func:`choose_on_validation`.

    Attributes
    ----------
    size : int or None
        The chosen feature size (None when there was no size to choose).
    classifier, normalise : str
        The chosen classifier and normalisation (see
        :func:`vaeface_utils.identification.make_classifier`).
    accuracy : float
        Its validation accuracy.
    scores : dict
        ``{(size, classifier, normalise): validation accuracy}`` for every
        setting tried, simplest first.
    """

    size: int | None
    classifier: str
    normalise: str
    accuracy: float
    scores: dict = field(repr=False)

    def classifier_pipeline(self):
        """The chosen classifier, unfitted."""
        return make_classifier(self.classifier, normalise=self.normalise)


def choose_on_validation(make_extractor: Callable, x_train, id_train, x_val, id_val, *,
                         sizes: Sequence[int | None] = (None,), classifiers: Sequence[str] = CLASSIFIERS,
                         normalisations: Sequence[str] = NORMALISATIONS, skip=()) -> ValidationChoice:
    """Fit features on the training images, identify the validation images, keep the best setting.

    The settings are tried simplest first: classifiers in the order given
    (1-NN before the fitted ones), then normalisations (none, standardise,
    unit rows), then sizes from small to large; the first setting with the
    highest accuracy wins, so ties go to the simpler choice.

    Parameters
    ----------
    make_extractor : callable
        ``make_extractor(size)`` returns an unfitted scikit-learn transformer
        (``fit(x, y)``, ``transform(x)``), e.g.
        ``lambda n: Eigenfaces(n)``; called with None when ``sizes`` is
        ``(None,)``.
    x_train, id_train, x_val, id_val : array_like
        Images and identities; nothing else is seen.
    sizes : sequence of int or None, default (None,)
    classifiers : sequence of str, default all of :data:`~vaeface_utils.identification.CLASSIFIERS`
    normalisations : sequence of str, default all of :data:`~vaeface_utils.identification.NORMALISATIONS`
    skip : collection of (classifier, normalise), optional
        Pairs not to try (for instance, too slow to fit on raw pixels).

    Returns
    -------
    ValidationChoice

    Raises
    ------
    ValueError
        If nothing is left to try, if a validation person has no training
        image, or if the features are not finite.

    Notes
    -----
    For each size the extractor is fitted once and the training and
    validation images are transformed once; then
    :class:`~sklearn.model_selection.GridSearchCV`, with a
    :class:`~sklearn.model_selection.PredefinedSplit` whose one test fold is
    the validation images, fits every classifier on the training features
    and scores it on the validation features (``refit=False``: nothing is
    fitted on the validation images). The sizes stay a loop outside the
    search: a search over whole pipelines would fit the extractor again for
    every classifier, and an extractor that samples (a VAE's sampled ``z``)
    would hand each classifier different codes. Within one size the search
    keeps the first of equals in the order above, as here over all settings.
    """
    sizes = sorted(sizes, key=lambda s: -1 if s is None else s)
    tried = [(c, n) for c in classifiers for n in normalisations if (c, n) not in set(skip)]
    if not sizes or not tried:
        raise ValueError("Nothing to try: give at least one size, classifier and normalisation not in `skip`.")
    id_train = as_labels(id_train, "id_train", len(x_train), "x_train")
    id_val = as_labels(id_val, "id_val", len(x_val), "x_val")
    unseen = np.setdiff1d(id_val, id_train)
    if unseen.size:
        raise ValueError(f"{unseen.size} identities in `id_val` have no training image (e.g. {unseen[:5].tolist()}); "
                         "closed-set identification needs every validation person among the training images. "
                         "Use a per-person split, e.g. split_per_identity(identity, n_train=5, n_val=1).")
    # -1: a training row in every split; 0: a row of the one test fold, the validation images.
    validation_fold = PredefinedSplit(np.r_[np.full(len(id_train), -1), np.zeros(len(id_val), dtype=int)])
    candidates = {"classify": [make_classifier(c, normalise=n) for c, n in tried]}  # searched in this order
    scores = {}
    for size in sizes:
        extractor = make_extractor(size).fit(x_train, id_train)
        z_train = as_features(extractor.transform(x_train), "features of the training images")
        z_val = as_features(extractor.transform(x_val), "features of the validation images")
        search = GridSearchCV(Pipeline([("classify", make_classifier())]), candidates, cv=validation_fold,
                              refit=False, error_score="raise")
        search.fit(np.concatenate([z_train, z_val]), np.concatenate([id_train, id_val]))
        for (c, n), accuracy in zip(tried, search.cv_results_["mean_test_score"]):
            scores[size, c, n] = float(accuracy)
    order = sorted(scores, key=lambda key: (classifiers.index(key[1]), normalisations.index(key[2]),
                                            -1 if key[0] is None else key[0]))
    scores = {key: scores[key] for key in order}
    best = max(order, key=lambda key: scores[key])  # the first of equals: the simplest
    return ValidationChoice(size=best[0], classifier=best[1], normalise=best[2], accuracy=scores[best],
                            scores=scores)


@dataclass(frozen=True)
class PairedDifference:
    """Mean per-split difference ``a - b`` with a t confidence interval.

    Attributes
    ----------
    mean, low, high : float
        The mean difference and its interval.
    confidence : float
    n : int
        Number of splits.
    wins : int
        Splits on which ``a`` was strictly better.
    p_value : float
        Two-sided p-value of the same t statistic.
    corrected : bool
        Whether the variance was corrected for overlapping splits.
    """

    mean: float
    low: float
    high: float
    confidence: float
    n: int
    wins: int
    p_value: float = float("nan")
    corrected: bool = False

    @property
    def verdict(self) -> str:
        """``"a better"``, ``"b better"`` or ``"no clear difference"`` (the interval contains 0)."""
        if self.low > 0:
            return "a better"
        if self.high < 0:
            return "b better"
        return "no clear difference"

    def __str__(self):
        return (f"{100 * self.mean:+.1f} points [{100 * self.low:+.1f}, {100 * self.high:+.1f}] "
                f"({self.confidence:.0%} CI{', corrected' if self.corrected else ''}, {self.n} splits, "
                f"better on {self.wins})")


def paired_difference(a, b, *, confidence: float = 0.95, test_train_ratio: float | None = None) -> PairedDifference:
    """Compare two methods measured on the same splits, split by split.

    Random splits of one data set share images, so the per-split
    differences are correlated and the plain t interval over splits is too
    narrow. ``test_train_ratio`` applies the correction of Nadeau & Bengio
    (2003, "Inference for the Generalization Error", Machine Learning 52):
    the variance of the mean difference is taken as
    ``(1 / J + n_test / n_train) * s**2`` instead of ``s**2 / J``.

    Parameters
    ----------
    a, b : sequence of float, or IdentificationResult
        Per-split scores, in the same split order.
    confidence : float, default 0.95
    test_train_ratio : float, optional
        ``n_test / n_train`` of each split (1.0 for ORL's 5/5 splits); None
        for the plain paired t interval.

    Returns
    -------
    PairedDifference
        The mean of ``a - b`` with Student's t interval over splits.

    Raises
    ------
    ValueError
        If the two hold different numbers of splits, or fewer than 2.
    """
    from scipy import stats

    a = np.asarray(getattr(a, "accuracies", a), dtype=float)
    b = np.asarray(getattr(b, "accuracies", b), dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"`a` and `b` must hold one score per split, the same splits; got shapes {a.shape} "
                         f"and {b.shape}.")
    if len(a) < 2:
        raise ValueError(f"A paired interval needs at least 2 splits; got {len(a)}.")
    if not 0 < confidence < 1:
        raise ValueError(f"`confidence` must be in (0, 1); got {confidence!r}. Use 0.95.")
    d = a - b
    mean = float(d.mean())
    factor = 1 / len(d) + (0.0 if test_train_ratio is None else float(test_train_ratio))
    se = float(d.std(ddof=1) * np.sqrt(factor))
    half = float(stats.t.ppf(0.5 + confidence / 2, len(d) - 1) * se)
    p_value = float(2 * stats.t.sf(abs(mean) / se, len(d) - 1)) if se > 0 else (0.0 if mean else 1.0)
    return PairedDifference(mean=mean, low=mean - half, high=mean + half, confidence=confidence, n=len(d),
                            wins=int(np.sum(d > 0)), p_value=p_value, corrected=test_train_ratio is not None)


def bootstrap_difference(correct_a, correct_b, groups, n_resamples=2000, seed=0, *, confidence=0.95):
    """The mean per-query difference ``a - b``, with a bootstrap interval over groups (people).

    Two methods scored on the same queries give paired scores. The queries
    of one person are not independent of each other (an easy person is easy
    for every picture), so the interval resamples whole groups: each
    resample draws as many groups as there are, with replacement, and takes
    the mean difference over every query of the groups drawn (a group drawn
    twice counts twice). The interval is the percentile interval of those
    means.

    Parameters
    ----------
    correct_a, correct_b : array_like of float or bool, shape (n,)
        One score per query for each method, in the same order: 1/0 for a
        right/wrong answer, or a fraction (e.g. the share of perturbed
        versions of the query identified correctly).
    groups : array_like, shape (n,)
        The group of each query, e.g. the person's identity; at least two
        distinct groups.
    n_resamples : int, default 2000
    seed : int, default 0
        Seed of the NumPy generator that draws the groups.
    confidence : float, default 0.95

    Returns
    -------
    mean, low, high : float
        The mean of ``a - b`` over all queries, and the bootstrap interval.

    Raises
    ------
    ValueError
        Arrays that are not 1-D of one length, empty or not finite; fewer
        than two groups; ``n_resamples`` < 1; ``confidence`` outside (0, 1).
    TypeError
        Scores that are not numbers.

    Examples
    --------
    >>> bootstrap_difference([1, 1, 0, 1], [1, 0, 0, 1], ["p", "p", "q", "q"])[0]
    0.25
    """
    a, b = (_v.scores(scores, name, what="an array of numbers (or booleans), one per query", per="query",
                    fix="pass 1/0 or fractions per query.")
            for name, scores in (("correct_a", correct_a), ("correct_b", correct_b)))
    g = np.asarray(groups)
    if a.shape != b.shape or g.shape != a.shape:
        raise ValueError(f"`correct_a`, `correct_b` and `groups` must have one entry per query, the same queries; "
                         f"got shapes {a.shape}, {b.shape} and {g.shape}.")
    labels, index = np.unique(g, return_inverse=True)
    if len(labels) < 2:
        raise ValueError(f"`groups` must hold at least 2 distinct groups to resample; got {len(labels)}. "
                         "Pass each query's person.")
    n_resamples = _v.integer(n_resamples, "n_resamples", low=1, fix="Use 2000 or more.")
    confidence = _v.number(confidence, "confidence", low=0.0, high=1.0, fix="Use 0.95.")
    if confidence in (0.0, 1.0):
        raise ValueError(f"`confidence` must be strictly between 0 and 1; got {confidence!r}. Use 0.95.")
    d = a - b
    total = np.bincount(index, weights=d, minlength=len(labels))  # sum of the differences of each group
    count = np.bincount(index, minlength=len(labels)).astype(np.float64)  # queries per group
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, len(labels), size=(n_resamples, len(labels)))
    means = total[drawn].sum(axis=1) / count[drawn].sum(axis=1)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(d.mean()), float(low), float(high)


def holm(p_values: dict) -> dict:
    """Holm's step-down adjustment of several p-values (family-wise error), same keys.

    >>> holm({"a": 0.01, "b": 0.04, "c": 0.03})
    {'a': 0.03, 'b': 0.06, 'c': 0.06}
    """
    keys = sorted(p_values, key=p_values.get)
    adjusted, running = {}, 0.0
    for rank, key in enumerate(keys):
        running = max(running, min(1.0, (len(keys) - rank) * p_values[key]))
        adjusted[key] = round(running, 12)
    return {key: adjusted[key] for key in p_values}


def interval_verdict(interval, *, below, above, neither):
    """Words for a difference by where its interval lies: ``below`` 0, ``above`` 0, or ``neither`` (it holds 0).

    Parameters
    ----------
    interval : (mean, low, high)
        A difference and its interval, e.g. from
        :func:`bootstrap_difference`.
    below, above, neither : str
        What to say when ``high < 0``, when ``low > 0``, and otherwise.

    Examples
    --------
    >>> interval_verdict((0.2, 0.1, 0.3), below="worse", above="better", neither="no difference shown")
    'better'
    """
    _, low, high = interval
    if low > high:
        raise ValueError(f"The interval's low end {low} is above its high end {high}.")
    return below if high < 0 else above if low > 0 else neither

