"""Closed-set identification: who is this? Classifiers, accuracy, and repeated per-person splits.

Notebook 04 tests the claim that VAE features "reduce computation and raise
recognition accuracy" against honest baselines; this module holds the
identification protocol, built on scikit-learn's classifiers and model
selection.

:func:`make_classifier`
    One of :data:`CLASSIFIERS` by name, after an optional feature
    normalisation from :data:`NORMALISATIONS`.
:func:`identification_accuracy`
    The fraction of queries given the right person, for one gallery and
    query set.
:class:`PerPersonSplits`
    The course's repeated per-person splits as a scikit-learn splitter, for
    :func:`sklearn.model_selection.cross_validate` and friends.
:func:`evaluate_identification`
    One method (features + classifier) over those splits, the features
    fitted on each split's training images only.

Features come from :mod:`vaeface_utils.features`. Accuracies are fractions
in [0, 1].

>>> identification_accuracy([[0.0], [10.0]], [0, 1], [[1.0], [9.0]], [0, 1])
1.0
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import BaseCrossValidator
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer, StandardScaler
from sklearn.svm import LinearSVC

from ._validate import as_features, as_labels, as_rows, int_in, one_of
from .data import repeated_splits
from .reporting import percent_text, sample_std

__all__ = [
    "CLASSIFIERS",
    "NORMALISATIONS",
    "make_classifier",
    "identification_accuracy",
    "IdentificationResult",
    "PerPersonSplits",
    "evaluate_identification",
]

#: Names that :func:`make_classifier` knows.
CLASSIFIERS = ("1nn-euclidean", "1nn-cosine", "logreg", "linear-svm")
#: Feature normalisations applied before the classifier.
NORMALISATIONS = ("none", "standardise", "l2")


def make_classifier(name: str = "1nn-euclidean", *, normalise: str | None = "none", **kwargs) -> Pipeline:
    """A classifier from a small registry, with an optional feature normalisation.

    =================  ==========================================================
    name               scikit-learn estimator
    =================  ==========================================================
    ``1nn-euclidean``  ``KNeighborsClassifier(n_neighbors=1)``
    ``1nn-cosine``     ``KNeighborsClassifier(n_neighbors=1, metric="cosine")``
    ``logreg``         ``LogisticRegression(C=1.0, max_iter=5000)``
    ``linear-svm``     ``LinearSVC(C=1.0, max_iter=20000, random_state=0)``
    =================  ==========================================================

    Parameters
    ----------
    name : str, default "1nn-euclidean"
        One of :data:`CLASSIFIERS`.
    normalise : {"none", "standardise", "l2"} or None, default "none"
        Applied to the features first, fitted on the training features only:
        ``StandardScaler`` (zero mean, unit variance per feature) or
        ``Normalizer`` (each row to unit Euclidean length). ``None`` means
        ``"none"``.
    **kwargs
        Passed to the estimator, overriding the defaults (e.g. ``C=10``).

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``"normalise"`` and ``"classifier"``; unfitted.

    Raises
    ------
    ValueError
        Unknown ``name`` or ``normalise``; the message lists the known ones.

    Examples
    --------
    >>> import numpy as np
    >>> clf = make_classifier("1nn-cosine").fit([[1.0, 0.0], [0.0, 1.0]], [0, 1])
    >>> clf.predict([[5.0, 1.0]]).tolist()
    [0]
    """
    one_of(name, "classifier", CLASSIFIERS, "Pass one of these names or a scikit-learn classifier.")
    normalise = "none" if normalise is None else normalise
    one_of(normalise, "normalise", NORMALISATIONS)
    if name == "1nn-euclidean":
        estimator = KNeighborsClassifier(**{"n_neighbors": 1, **kwargs})
    elif name == "1nn-cosine":
        estimator = KNeighborsClassifier(**{"n_neighbors": 1, "metric": "cosine", "algorithm": "brute", **kwargs})
    elif name == "logreg":
        estimator = LogisticRegression(**{"C": 1.0, "max_iter": 5000, **kwargs})
    else:
        estimator = LinearSVC(**{"C": 1.0, "max_iter": 20000, "random_state": 0, **kwargs})
    scaler = {"none": "passthrough", "standardise": StandardScaler(), "l2": Normalizer()}[normalise]
    return Pipeline([("normalise", scaler), ("classifier", estimator)])


def _classifier(classifier):
    """A fresh, unfitted classifier from a name or an estimator."""
    if isinstance(classifier, str):
        return make_classifier(classifier)
    if not (hasattr(classifier, "fit") and hasattr(classifier, "predict")):
        raise TypeError(
            f"`classifier` must be a name from {CLASSIFIERS} or a scikit-learn classifier; "
            f"got {type(classifier).__name__}. Use make_classifier(...)."
        )
    return clone(classifier)


def identification_accuracy(features_train, id_train, features_test, id_test, classifier="1nn-euclidean") -> float:
    """Closed-set identification: the fraction of queries given the right person.

    The classifier is fitted on the gallery (``features_train``) and predicts
    each query's identity; every query's person must be in the gallery.

    Parameters
    ----------
    features_train : array_like of float, shape (n_train, d)
    id_train : array_like, shape (n_train,)
    features_test : array_like of float, shape (n_test, d)
    id_test : array_like, shape (n_test,)
    classifier : str or scikit-learn classifier, default "1nn-euclidean"
        A name from :data:`CLASSIFIERS` or an estimator (it is cloned, so the
        one passed stays unfitted).

    Returns
    -------
    float
        Accuracy in [0, 1].

    Raises
    ------
    ValueError
        Empty or non-2-D features, features and identities of different
        lengths, a different number of features in train and test, a query
        whose person is not in the gallery, or an unknown classifier name.
    TypeError
        ``classifier`` is neither a name nor an estimator.

    Examples
    --------
    >>> identification_accuracy([[0.0], [10.0]], [0, 1], [[1.0], [9.0], [4.0]], [0, 1, 1])
    0.6666666666666666
    """
    x_train = as_features(features_train, "features_train")
    y_train = as_labels(id_train, "id_train", len(x_train), "features_train")
    x_test = as_features(features_test, "features_test")
    y_test = as_labels(id_test, "id_test", len(x_test), "features_test")
    if x_train.shape[1] != x_test.shape[1]:
        raise ValueError(
            f"`features_train` has {x_train.shape[1]} features per row but `features_test` has {x_test.shape[1]}; "
            "compute both with the same fitted feature extractor."
        )
    unseen = np.setdiff1d(y_test, y_train)
    if unseen.size:
        raise ValueError(
            f"{unseen.size} identities in `id_test` have no training image (e.g. {unseen[:5].tolist()}); "
            "closed-set identification needs every query's person in the gallery. Use a per-person split."
        )
    model = _classifier(classifier).fit(x_train, y_train)
    return float(accuracy_score(y_test, model.predict(x_test)))


@dataclass(frozen=True)
class IdentificationResult:
    """Accuracies of one method over repeated per-person splits.

    Attributes
    ----------
    accuracies : ndarray of float64, shape (n_splits,)
        One accuracy in [0, 1] per split.
    seeds : ndarray of int64, shape (n_splits,)
        The seed of each split (:func:`vaeface_utils.data.split_per_identity`).
    n_train : int
        Training images of each person; the rest are queries.
    n_features : int
        Feature dimension (of the last split).
    fit_seconds, predict_seconds : ndarray of float64, shape (n_splits,)
        Wall-clock time per split to fit features and classifier on the
        training images, and to transform and classify the queries.
    """

    accuracies: np.ndarray
    seeds: np.ndarray
    n_train: int
    n_features: int
    fit_seconds: np.ndarray
    predict_seconds: np.ndarray

    @property
    def mean(self) -> float:
        """Mean accuracy over the splits."""
        return float(np.mean(self.accuracies))

    @property
    def std(self) -> float:
        """Sample standard deviation (``ddof=1``) over the splits; NaN for one split."""
        return sample_std(self.accuracies)

    def __repr__(self) -> str:
        return (f"IdentificationResult({percent_text(self.mean, self.std)}, n_train={self.n_train}, "
                f"n_splits={len(self.accuracies)}, n_features={self.n_features})")


class PerPersonSplits(BaseCrossValidator):
    """The course's repeated per-person splits, as a scikit-learn cross-validator.

    Split ``i`` draws ``n_train`` images of each person for training and keeps
    the rest for testing, with seed ``seed + i``: exactly
    :func:`vaeface_utils.data.repeated_splits`, so
    :func:`sklearn.model_selection.cross_validate` or
    :class:`sklearn.model_selection.GridSearchCV` with ``cv=PerPersonSplits(...)``
    sees the same splits as :func:`evaluate_identification` and the notebooks.
    The identities are the ``y`` passed to ``split``.

    Parameters
    ----------
    n_train : int, default 5
        Training images per person.
    n_splits : int, default 10
    seed : int, default 0

    Raises
    ------
    ValueError
        From ``split``: no identities (``y``), or ``n_train`` or ``n_splits``
        out of range (as :func:`vaeface_utils.data.repeated_splits`).

    Examples
    --------
    >>> import numpy as np
    >>> identity = np.repeat(np.arange(3), 4)
    >>> train, test = next(PerPersonSplits(3, n_splits=2).split(identity, identity))
    >>> len(train), len(test)
    (9, 3)
    """

    def __init__(self, n_train: int = 5, *, n_splits: int = 10, seed: int = 0):
        self.n_train = n_train
        self.n_splits = n_splits
        self.seed = seed

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of splits, ``n_splits``."""
        return int_in(self.n_splits, "n_splits", 1, None, "Use 10 for the usual protocol.")

    def _iter_test_indices(self, X=None, y=None, groups=None):
        """The test rows of each split; scikit-learn makes the rest the training rows."""
        if y is None:
            raise ValueError("PerPersonSplits draws images per person, so it needs the identities: "
                             "pass them as y, e.g. cross_validate(model, images, identity, cv=PerPersonSplits()).")
        for split in repeated_splits(y, self.n_train, n_splits=self.get_n_splits(), seed=self.seed):
            yield split.test


def evaluate_identification(images, identity, *, features=None, fit_features=None,
                            classifier="1nn-euclidean", n_train: int = 5, n_splits: int = 10,
                            seed: int = 0) -> IdentificationResult:
    """Run one method (features + classifier) over repeated per-person splits.

    Split ``i`` draws ``n_train`` images of each person for training and keeps
    the rest as queries, with seed ``seed + i``
    (:func:`vaeface_utils.data.repeated_splits`, the same splits as the other
    notebooks). The feature extractor is fitted on that split's training
    images and identities only: no query is seen in fitting.

    Parameters
    ----------
    images : array_like, shape (n, H, W, 1)
    identity : array_like of int, shape (n,)
    features : scikit-learn transformer, optional
        E.g. ``Eigenfaces(50)`` from :mod:`vaeface_utils.features`; cloned
        and fitted afresh on every split.
    fit_features : callable, optional
        ``fit_features(train_images, train_identity, split) -> transformer``
        for features that need more than ``fit``, such as a VAE trained per
        split; the transformer it returns must be ready to ``transform`` and
        is not fitted again. Give exactly one of ``features`` and
        ``fit_features``.
    classifier : str or scikit-learn classifier, default "1nn-euclidean"
    n_train : int, default 5
        Training images per person, from 1 to (the fewest images anyone has)
        minus one; ORL allows 1-9, and its standard is 5.
    n_splits : int, default 10
    seed : int, default 0

    Returns
    -------
    IdentificationResult
        Per-split accuracies, ``.mean`` and ``.std``, and timings.

    Raises
    ------
    ValueError
        ``n_train`` out of range, a person with fewer than ``n_train + 1``
        images (named in the message), images and identities of different
        lengths, empty input, neither or both of ``features`` and
        ``fit_features``, or an unknown classifier name.
    TypeError
        ``features`` is not a transformer, or ``fit_features`` is not
        callable or returns no transformer.

    Notes
    -----
    With ``features``, the accuracies are those of
    ``cross_validate(Pipeline([("features", features), ("classifier", classifier)]),
    images, identity, cv=PerPersonSplits(n_train, n_splits=n_splits, seed=seed))``
    (:func:`sklearn.model_selection.cross_validate`). The loop is written out
    here because the ``fit_features`` hook needs each split itself (its seed
    names the VAE trained for it), because the features of every split are
    checked with a message that names the extractor, and because the timings
    cover exactly fitting and predicting.

    Examples
    --------
    >>> import numpy as np
    >>> from vaeface_utils.features import Pixels
    >>> rng = np.random.default_rng(0)
    >>> identity = np.repeat(np.arange(4), 3)
    >>> images = identity[:, None, None, None] + 0.1 * rng.random((12, 4, 4, 1))
    >>> result = evaluate_identification(images, identity, features=Pixels(), n_train=1, n_splits=3)
    >>> result.accuracies.tolist()
    [1.0, 1.0, 1.0]
    """
    if (features is None) == (fit_features is None):
        raise ValueError(
            "Give exactly one of `features` (a transformer, cloned and fitted per split) and `fit_features` "
            f"(a callable that returns a ready transformer); got features={features!r} and "
            f"fit_features={fit_features!r}."
        )
    if fit_features is not None and not callable(fit_features):
        raise TypeError(f"`fit_features` must be callable; got {type(fit_features).__name__}.")
    if features is not None and not (hasattr(features, "fit") and hasattr(features, "transform")):
        raise TypeError(f"`features` must be a transformer with fit and transform, such as Eigenfaces(50); "
                        f"got {type(features).__name__}.")
    x = np.asarray(images)
    as_rows(x)  # non-empty, numeric
    y = as_labels(identity, "identity", len(x), "images")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"`identity` must hold ints (one per person); got dtype {y.dtype}. Pass FaceData.identity.")
    people, counts = np.unique(y, return_counts=True)
    n_train = int_in(n_train, "n_train", 1, None,
                     "It is the number of training images per person; ORL allows 1-9 and its standard is 5.")
    int_in(n_splits, "n_splits", 1, None, "Use 10 for the usual protocol.")
    short = people[counts < n_train + 1]
    if short.size:
        shown = ", ".join(f"{p} ({c})" for p, c in zip(short[:5], counts[counts < n_train + 1][:5]))
        raise ValueError(
            f"n_train = {n_train} needs at least {n_train + 1} images of each person ({n_train} to train, "
            f"1 query), but {short.size} people have fewer: identity (images) {shown}"
            f"{' ...' if short.size > 5 else ''}. Use n_train <= {counts.min() - 1}, or drop those people."
        )
    if isinstance(classifier, str):
        one_of(classifier, "classifier", CLASSIFIERS, "Pass one of these names or a scikit-learn classifier.")
    accuracies, seeds, fit_seconds, predict_seconds = [], [], [], []
    n_features = 0
    for split in repeated_splits(y, n_train, n_splits=n_splits, seed=seed):
        start = time.perf_counter()
        if fit_features is None:
            extractor = clone(features).fit(x[split.train], y[split.train])
        else:
            extractor = fit_features(x[split.train], y[split.train], split)
            if not hasattr(extractor, "transform"):
                raise TypeError(
                    f"`fit_features` must return a transformer with .transform; got {type(extractor).__name__}. "
                    "Wrap an encoder with EncoderFeatures(encode).fit(train_images)."
                )
        z_train = as_features(extractor.transform(x[split.train]), "features of the training images")
        model = _classifier(classifier).fit(z_train, y[split.train])
        middle = time.perf_counter()
        z_test = as_features(extractor.transform(x[split.test]), "features of the query images")
        predicted = model.predict(z_test)
        end = time.perf_counter()
        accuracies.append(accuracy_score(y[split.test], predicted))
        seeds.append(split.seed)
        fit_seconds.append(middle - start)
        predict_seconds.append(end - middle)
        n_features = z_train.shape[1]
    as_array = lambda v, t=np.float64: np.asarray(v, dtype=t)  # noqa: E731
    return IdentificationResult(as_array(accuracies), as_array(seeds, np.int64), n_train, n_features,
                                as_array(fit_seconds), as_array(predict_seconds))
