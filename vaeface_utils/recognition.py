"""Face recognition from features: extractors, classifiers, protocols, metrics, tables.

Notebook 04 tests the claim that VAE features "reduce computation and raise
recognition accuracy" against honest baselines. This module holds what that
test needs, built on scikit-learn wherever scikit-learn already does the job:

Feature extractors (scikit-learn transformers: ``fit(images, identity)``, then ``transform(images)``)
    :class:`Pixels` (raw pixels), :class:`Eigenfaces` (PCA),
    :class:`Fisherfaces` (PCA then LDA, Belhumeur et al. 1997) and
    :class:`EncoderFeatures` (wraps any ``encode(images) -> (n, d)`` callable,
    such as a VAE's posterior mean; it knows nothing about Keras).
Classifiers
    :func:`make_classifier` builds one of :data:`CLASSIFIERS` by name, with an
    optional feature normalisation from :data:`NORMALISATIONS`.
Closed-set identification
    :func:`identification_accuracy` for one gallery and query set;
    :func:`evaluate_identification` for repeated seeded per-person splits, the
    feature extractor fitted on each split's training images only.
Verification
    :func:`make_pairs`, :func:`pair_scores`, :func:`verification_roc` (ROC,
    AUC and equal error rate) and :func:`equal_error_rate`.
Tables
    :func:`results_table` and :func:`format_table`; literature numbers go in
    as :class:`QuotedResult` rows marked "quoted, not measured"
    (:data:`QUOTED_ORL_5_5`).

All accuracies and error rates are fractions in [0, 1]; tables show percent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score, roc_curve
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer, StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from .data import repeated_splits

__all__ = [
    "CLASSIFIERS",
    "NORMALISATIONS",
    "METRICS",
    "Pixels",
    "Eigenfaces",
    "Fisherfaces",
    "EncoderFeatures",
    "make_classifier",
    "identification_accuracy",
    "IdentificationResult",
    "evaluate_identification",
    "Pairs",
    "make_pairs",
    "pair_scores",
    "VerificationResult",
    "verification_roc",
    "equal_error_rate",
    "QuotedResult",
    "QUOTED_ORL_5_5",
    "ResultRow",
    "results_table",
    "format_table",
]

#: Names that :func:`make_classifier` knows.
CLASSIFIERS = ("1nn-euclidean", "1nn-cosine", "logreg", "linear-svm")
#: Feature normalisations applied before the classifier.
NORMALISATIONS = ("none", "standardise", "l2")
#: Pair scores for verification; larger always means "more likely the same person".
METRICS = ("cosine", "euclidean")


# --------------------------------------------------------------------------
# Input checks shared by the public functions


def _flatten(images, name: str = "images") -> np.ndarray:
    """(n, ...) array -> float (n, d); the rows are images or feature vectors."""
    x = np.asarray(images)
    if x.ndim < 2 or x.shape[0] == 0 or x.size == 0:
        raise ValueError(
            f"`{name}` must be a non-empty array of images (n, H, W, 1) or features (n, d); "
            f"got shape {x.shape}. Pass at least one image, e.g. faces.images[split.train]."
        )
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise TypeError(f"`{name}` must hold real numbers; got dtype {x.dtype}. Pass pixels as floats in [0, 1].")
    return x.reshape(len(x), -1).astype(np.float64, copy=False)


def _features(features, name: str) -> np.ndarray:
    """A non-empty, finite, 2-D float array (n, d)."""
    x = np.asarray(features)
    if x.size == 0:
        raise ValueError(f"`{name}` is empty (shape {x.shape}); it needs at least one row of features.")
    if x.ndim != 2:
        raise ValueError(
            f"`{name}` must be 2-D, (n_images, n_features); got shape {x.shape}. "
            "Transform images with a feature extractor first, or flatten with x.reshape(len(x), -1)."
        )
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise TypeError(f"`{name}` must hold real numbers; got dtype {x.dtype}.")
    x = x.astype(np.float64, copy=False)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"`{name}` holds NaN or infinity; check the feature extractor (a diverged encoder?).")
    return x


def _labels(identity, name: str, n: int | None = None, features_name: str = "features") -> np.ndarray:
    """A non-empty 1-D label array, of length ``n`` when given."""
    y = np.asarray(identity)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(
            f"`{name}` must be a non-empty 1-D array with one identity per row; got shape {y.shape}. "
            "Pass FaceData.identity (or the same indices of it as the features)."
        )
    if n is not None and len(y) != n:
        raise ValueError(
            f"`{features_name}` has {n} rows but `{name}` has {len(y)} identities; they must match row for row. "
            "Index both with the same split indices, e.g. features[split.train] and identity[split.train]."
        )
    return y


def _int_in(value, name: str, low: int, high: int | None, fix: str) -> int:
    ok = not isinstance(value, bool) and isinstance(value, (int, np.integer))
    ok = ok and value >= low and (high is None or value <= high)
    if not ok:
        allowed = f"an int from {low} to {high}" if high is not None else f"an int >= {low}"
        raise ValueError(f"`{name}` must be {allowed}; got {value!r}. {fix}")
    return int(value)


def _choice(value, name: str, allowed: Sequence[str], fix: str = "") -> str:
    if not isinstance(value, str) or value not in allowed:
        known = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"Unknown `{name}` {value!r}; the known ones are {known}.{' ' + fix if fix else ''}")
    return value


# --------------------------------------------------------------------------
# Feature extractors


class Pixels(TransformerMixin, BaseEstimator):
    """Raw pixels as features: each image flattened to one row.

    The baseline every other feature has to beat. ``fit`` learns nothing.

    Examples
    --------
    >>> import numpy as np
    >>> Pixels().fit_transform(np.zeros((3, 4, 4, 1))).shape
    (3, 16)
    """

    def fit(self, images, identity=None):
        """Check the input and remember the number of pixels.

        Parameters
        ----------
        images : array_like, shape (n, H, W, 1), (n, H, W) or (n, d)
        identity : ignored

        Returns
        -------
        self
        """
        self.n_features_in_ = _flatten(images).shape[1]
        return self

    def transform(self, images):
        """Flatten.

        Parameters
        ----------
        images : array_like, shape (n, H, W, 1), (n, H, W) or (n, d)

        Returns
        -------
        ndarray of float64, shape (n, H * W)

        Raises
        ------
        ValueError
            Empty input, or not as many pixels as the images seen in ``fit``.
        """
        check_is_fitted(self)
        x = _flatten(images)
        if x.shape[1] != self.n_features_in_:
            raise ValueError(
                f"These images have {x.shape[1]} pixels each but the extractor was fitted on "
                f"{self.n_features_in_}; use images of the same size for training and queries."
            )
        return x


class Eigenfaces(Pixels):
    """Eigenfaces: project the pixels onto the leading principal components.

    Turk & Pentland (1991). The principal components of the training images
    (the "eigenfaces") span a ``n_components``-dimensional face space; each
    image is described by its coordinates there.

    Parameters
    ----------
    n_components : int or float, default 50
        Dimensions kept: an int from 1 to ``min(n_train_images, n_pixels)``,
        or a float in (0, 1) for the fraction of variance to keep.
    whiten : bool, default False
        Divide each coordinate by its standard deviation, so that every
        direction counts equally in a distance.

    Attributes
    ----------
    pca_ : sklearn.decomposition.PCA
        The fitted PCA; ``pca_.components_`` reshaped to (H, W) are the
        eigenfaces and ``pca_.mean_`` the mean face.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((20, 8, 8, 1))
    >>> Eigenfaces(n_components=5).fit(x).transform(x).shape
    (20, 5)
    """

    def __init__(self, n_components=50, *, whiten: bool = False):
        self.n_components = n_components
        self.whiten = whiten

    def fit(self, images, identity=None):
        """Fit the PCA on training images only.

        Parameters
        ----------
        images : array_like, shape (n, H, W, 1), (n, H, W) or (n, d)
        identity : ignored

        Returns
        -------
        self

        Raises
        ------
        ValueError
            ``n_components`` larger than the number of training images or
            pixels, or not a positive int or a fraction in (0, 1).
        """
        x = _flatten(images)
        limit = min(x.shape)
        k = self.n_components
        if isinstance(k, (float, np.floating)) and not isinstance(k, bool):
            if not 0.0 < k < 1.0:
                raise ValueError(f"`n_components` as a float is a fraction of variance in (0, 1); got {k!r}.")
        else:
            _int_in(k, "n_components", 1, limit,
                    f"There are {x.shape[0]} training images of {x.shape[1]} pixels, so at most {limit} "
                    f"components exist; pass n_components <= {limit} or a fraction of variance such as 0.95.")
        self.n_features_in_ = x.shape[1]
        self.pca_ = PCA(n_components=k, whiten=self.whiten, svd_solver="full").fit(x)
        return self

    def transform(self, images):
        """Coordinates in face space.

        Returns
        -------
        ndarray of float64, shape (n, n_components)
        """
        return self.pca_.transform(super().transform(images))


class Fisherfaces(Pixels):
    """Fisherfaces: PCA to ``n - c`` dimensions, then LDA to ``c - 1``.

    Belhumeur, Hespanha & Kriegman (1997). With ``n`` training images of ``c``
    people the within-person scatter of raw pixels is singular (its rank is at
    most ``n - c``), so PCA first keeps ``n - c`` dimensions, where it is not;
    LDA then finds the ``c - 1`` directions that best separate the people
    relative to how much each person varies. Needs identities to fit, and at
    least two training images of some people.

    The strict recipe can overfit badly: with ``n - c`` PCA dimensions the
    within-person scatter is only just invertible, and its smallest
    directions are noise that LDA then magnifies. On ORL 64 x 64 with 5
    training images per person (10 splits), 1-NN on the strict recipe's
    features (160 PCA dimensions) is right 55 ± 9 % of the time, against
    96 ± 1 % with ``pca_components=60``. Choose ``pca_components`` on
    training or validation images only.

    Parameters
    ----------
    n_components : int, optional
        LDA dimensions kept; default all, ``min(c - 1, pca_components)``
        (``c - 1`` when every person has at least two training images).
    pca_components : int, optional
        PCA dimensions before LDA, from 1 to ``n - c`` (or the number of
        pixels, if smaller); default that maximum, the Belhumeur et al.
        recipe.

    Attributes
    ----------
    pca_ : sklearn.decomposition.PCA
    lda_ : sklearn.discriminant_analysis.LinearDiscriminantAnalysis

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((30, 8, 8, 1))
    >>> identity = np.repeat(np.arange(6), 5)          # 6 people, 5 images each
    >>> Fisherfaces().fit(x, identity).transform(x).shape
    (30, 5)
    """

    def __init__(self, n_components: int | None = None, *, pca_components: int | None = None):
        self.n_components = n_components
        self.pca_components = pca_components

    def fit(self, images, identity=None):
        """Fit PCA then LDA on the training images and their identities.

        Parameters
        ----------
        images : array_like, shape (n, H, W, 1), (n, H, W) or (n, d)
        identity : array_like, shape (n,)

        Returns
        -------
        self

        Raises
        ------
        ValueError
            No identities, fewer than two people, nobody with two images
            (``n - c = 0``), lengths that differ, or ``n_components`` or
            ``pca_components`` out of range.
        """
        x = _flatten(images)
        if identity is None:
            raise ValueError("Fisherfaces needs the identities to fit: call fit(images, identity).")
        y = _labels(identity, "identity", len(x), "images")
        n, c = len(x), len(np.unique(y))
        if c < 2:
            raise ValueError(f"Fisherfaces needs at least 2 people to separate; got {c}. Pass images of more people.")
        n_pca = min(n - c, x.shape[1])
        if n_pca < 1:
            raise ValueError(
                f"Fisherfaces needs more training images than people (n - c >= 1) for the within-person "
                f"scatter; got n = {n} images of c = {c} people. Use at least 2 training images per person "
                "(n_train >= 2), or eigenfaces for one image per person."
            )
        if self.pca_components is not None:
            n_pca = _int_in(self.pca_components, "pca_components", 1, n_pca,
                            f"With n = {n} training images of c = {c} people and {x.shape[1]} pixels, at most "
                            f"min(n - c, pixels) = {n_pca} PCA dimensions keep the within-person scatter "
                            "invertible; pass None for that many.")
        top = min(c - 1, n_pca)
        k = top if self.n_components is None else _int_in(
            self.n_components, "n_components", 1, top,
            f"LDA gives at most min(c - 1, pca_components) = {top} dimensions here; pass None for all of them.")
        self.n_features_in_ = x.shape[1]
        self.pca_ = PCA(n_components=n_pca, svd_solver="full").fit(x)
        self.lda_ = LinearDiscriminantAnalysis(n_components=k).fit(self.pca_.transform(x), y)
        return self

    def transform(self, images):
        """Coordinates in the Fisher space.

        Returns
        -------
        ndarray of float64, shape (n, n_components)
        """
        return self.lda_.transform(self.pca_.transform(super().transform(images)))


class EncoderFeatures(TransformerMixin, BaseEstimator):
    """Turn any encoder callable into a feature extractor.

    Wraps ``encode(images) -> (n, d)``: a VAE's posterior mean, a sampled
    ``z``, or anything else. It knows nothing about Keras: the callable gets
    the images exactly as they were passed (e.g. ``(n, 64, 64, 1)``) and must
    return something :func:`numpy.asarray` turns into an ``(n, d)`` array.
    ``fit`` trains nothing (train the encoder before, or per split through the
    ``fit_features`` hook of :func:`evaluate_identification`); cloning shares
    the callable instead of copying the model behind it.

    Parameters
    ----------
    encode : callable
        ``encode(images) -> array (n, d)``. For a model that returns
        ``(z_mean, z_log_var, z)`` pass a function that picks one, e.g.
        ``lambda x: vae.encoder.predict(x, verbose=0)[0]``.

    Examples
    --------
    >>> import numpy as np
    >>> mean_and_spread = EncoderFeatures(lambda x: np.c_[x.mean(axis=(1, 2, 3)), x.std(axis=(1, 2, 3))])
    >>> mean_and_spread.fit_transform(np.ones((4, 8, 8, 1))).tolist()
    [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]
    """

    def __init__(self, encode: Callable):
        self.encode = encode

    def __sklearn_clone__(self):
        return type(self)(self.encode)

    def fit(self, images, identity=None):
        """Check that ``encode`` is callable; nothing is trained.

        Raises
        ------
        TypeError
            ``encode`` is not callable.
        """
        if not callable(self.encode):
            raise TypeError(
                f"`encode` must be a callable encode(images) -> (n, d) array; got {type(self.encode).__name__}. "
                "Pass e.g. lambda x: vae.encoder.predict(x, verbose=0)[0]."
            )
        self.fitted_ = True
        return self

    def transform(self, images):
        """Run the encoder.

        Parameters
        ----------
        images : array_like, shape (n, ...)
            Passed to ``encode`` unchanged.

        Returns
        -------
        ndarray of float64, shape (n, d)

        Raises
        ------
        TypeError
            ``encode`` returned a tuple or list (several outputs).
        ValueError
            The output is not 2-D with one row per image, or is not finite.
        """
        check_is_fitted(self)
        n = len(images)
        out = self.encode(images)
        if isinstance(out, (tuple, list)):
            raise TypeError(
                f"`encode` returned a {type(out).__name__} of {len(out)} outputs; it must return one (n, d) array. "
                "Wrap it to pick one, e.g. lambda x: encode(x)[0] for the posterior mean."
            )
        z = np.asarray(out)
        if z.ndim != 2 or z.shape[0] != n:
            raise ValueError(
                f"`encode` must return an array (n, d) with one row per image; for {n} images it returned "
                f"shape {z.shape}. Reshape its output, e.g. z.reshape(len(z), -1)."
            )
        return _features(z, "encode(images)")


# --------------------------------------------------------------------------
# Classifiers


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
    _choice(name, "classifier", CLASSIFIERS, "Pass one of these names or a scikit-learn classifier.")
    normalise = "none" if normalise is None else normalise
    _choice(normalise, "normalise", NORMALISATIONS)
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


# --------------------------------------------------------------------------
# Closed-set identification


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
    x_train = _features(features_train, "features_train")
    y_train = _labels(id_train, "id_train", len(x_train), "features_train")
    x_test = _features(features_test, "features_test")
    y_test = _labels(id_test, "id_test", len(x_test), "features_test")
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
        return _std(self.accuracies)

    def __repr__(self) -> str:
        return (f"IdentificationResult({_percent(self.mean, self.std)}, n_train={self.n_train}, "
                f"n_splits={len(self.accuracies)}, n_features={self.n_features})")


def _std(values) -> float:
    values = np.asarray(values, dtype=np.float64)
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")


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
        E.g. ``Eigenfaces(50)``; cloned and fitted afresh on every split.
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

    Examples
    --------
    >>> import numpy as np
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
    _flatten(x)  # non-empty, numeric
    y = _labels(identity, "identity", len(x), "images")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"`identity` must hold ints (one per person); got dtype {y.dtype}. Pass FaceData.identity.")
    people, counts = np.unique(y, return_counts=True)
    n_train = _int_in(n_train, "n_train", 1, None,
                      "It is the number of training images per person; ORL allows 1-9 and its standard is 5.")
    _int_in(n_splits, "n_splits", 1, None, "Use 10 for the usual protocol.")
    short = people[counts < n_train + 1]
    if short.size:
        shown = ", ".join(f"{p} ({c})" for p, c in zip(short[:5], counts[counts < n_train + 1][:5]))
        raise ValueError(
            f"n_train = {n_train} needs at least {n_train + 1} images of each person ({n_train} to train, "
            f"1 query), but {short.size} people have fewer: identity (images) {shown}"
            f"{' ...' if short.size > 5 else ''}. Use n_train <= {counts.min() - 1}, or drop those people."
        )
    if isinstance(classifier, str):
        _choice(classifier, "classifier", CLASSIFIERS, "Pass one of these names or a scikit-learn classifier.")
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
        z_train = _features(extractor.transform(x[split.train]), "features of the training images")
        model = _classifier(classifier).fit(z_train, y[split.train])
        middle = time.perf_counter()
        z_test = _features(extractor.transform(x[split.test]), "features of the query images")
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


# --------------------------------------------------------------------------
# Verification


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
    y = _labels(identity, "identity")
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
    x = _features(features, "features")
    _choice(metric, "metric", METRICS)
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
    x = _features(features, "features")
    y = _labels(identity, "identity", len(x), "features")
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


# --------------------------------------------------------------------------
# Tables


@dataclass(frozen=True)
class QuotedResult:
    """A number from the literature: shown in tables, never mixed up with a measurement.

    Attributes
    ----------
    method : str
    error : float
        Error rate in [0, 1] as published.
    protocol : str
        E.g. ``"ORL, 5 training / 5 test images per person"``.
    source : str
        Citation.
    """

    method: str
    error: float
    protocol: str
    source: str

    @property
    def accuracy(self) -> float:
        return 1.0 - self.error


#: Lawrence, Giles, Tsoi & Back (1997), "Face recognition: a convolutional
#: neural-network approach", IEEE Trans. Neural Networks 8(1): 98-113; ORL,
#: 5 training and 5 test images per person.
QUOTED_ORL_5_5 = (
    QuotedResult("eigenfaces", 0.105, "ORL 5/5", "Lawrence et al. 1997"),
    QuotedResult("SOM + CNN", 0.038, "ORL 5/5", "Lawrence et al. 1997"),
)


@dataclass(frozen=True)
class ResultRow:
    """One row of a results table.

    Attributes
    ----------
    method : str
    mean : float
        Accuracy in [0, 1].
    std : float
        Sample standard deviation over splits; NaN for one split or a quoted number.
    n_splits : int or None
        None for a quoted number.
    text : str
        E.g. ``"97.5 ± 1.2 %"``.
    note : str
        Empty for a measurement; ``"quoted, not measured: <source>, <protocol>"``
        for a number from the literature.
    """

    method: str
    mean: float
    std: float
    n_splits: int | None
    text: str
    note: str = ""

    @property
    def quoted(self) -> bool:
        return self.n_splits is None


def _percent(mean: float, std: float, digits: int = 1) -> str:
    if np.isnan(std):
        return f"{100 * mean:.{digits}f} %"
    return f"{100 * mean:.{digits}f} ± {100 * std:.{digits}f} %"


def results_table(accuracies: Mapping[str, Sequence[float] | IdentificationResult], *,
                  quoted: Iterable[QuotedResult] = (), digits: int = 1) -> list[ResultRow]:
    """Rows of mean ± standard deviation, one per method, then any quoted numbers.

    Parameters
    ----------
    accuracies : mapping of str to array_like of float or IdentificationResult
        Method name to its per-split accuracies, fractions in [0, 1].
    quoted : iterable of QuotedResult, optional
        Literature numbers, e.g. :data:`QUOTED_ORL_5_5`; appended after the
        measurements and marked "quoted, not measured".
    digits : int, default 1
        Decimals of the percentages.

    Returns
    -------
    list of ResultRow
        In the order given; the standard deviation is the sample one
        (``ddof=1``) over splits, left out of ``text`` for a single split.

    Raises
    ------
    ValueError
        No methods, an empty list of accuracies, or values outside [0, 1]
        (percentages passed by mistake).
    TypeError
        ``quoted`` holds something other than QuotedResult.

    Examples
    --------
    >>> rows = results_table({"eigenfaces + 1-NN": [0.95, 0.97]}, quoted=QUOTED_ORL_5_5[:1])
    >>> [row.text for row in rows]
    ['96.0 ± 1.4 %', '89.5 %']
    >>> rows[1].note
    'quoted, not measured: Lawrence et al. 1997, ORL 5/5'
    """
    if not accuracies:
        raise ValueError("`accuracies` is empty; pass {method name: list of per-split accuracies}.")
    _int_in(digits, "digits", 0, 6, "Use 1 for one decimal.")
    rows = []
    for method, values in accuracies.items():
        if isinstance(values, IdentificationResult):
            values = values.accuracies
        a = np.asarray(values, dtype=np.float64).ravel()
        if a.size == 0:
            raise ValueError(f"Method {method!r} has no accuracies; pass one per split.")
        if np.any(~np.isfinite(a)) or np.any((a < 0) | (a > 1)):
            raise ValueError(
                f"Accuracies of {method!r} must be fractions in [0, 1]; got values from {a.min()} to {a.max()}. "
                "Divide percentages by 100."
            )
        mean, std = float(a.mean()), _std(a)
        rows.append(ResultRow(str(method), mean, std, int(a.size), _percent(mean, std, digits)))
    for q in quoted:
        if not isinstance(q, QuotedResult):
            raise TypeError(f"`quoted` must hold QuotedResult items; got {type(q).__name__}. Use QUOTED_ORL_5_5.")
        rows.append(ResultRow(q.method, q.accuracy, float("nan"), None, _percent(q.accuracy, float("nan"), digits),
                              f"quoted, not measured: {q.source}, {q.protocol}"))
    return rows


def format_table(rows: Sequence[ResultRow], *, title: str | None = None) -> str:
    """A plain-text table of :func:`results_table` rows, for printing in a notebook.

    Parameters
    ----------
    rows : sequence of ResultRow
    title : str, optional
        A first line, e.g. ``"ORL 64x64, 5/5 split, 10 seeds"``.

    Returns
    -------
    str

    Examples
    --------
    >>> print(format_table(results_table({"pixels + 1-NN": [0.9, 0.92]}, quoted=QUOTED_ORL_5_5[1:])))
    method         accuracy      splits  note
    -------------  ------------  ------  ---------------------------------------------------
    pixels + 1-NN  91.0 ± 1.4 %  2
    SOM + CNN      96.2 %        -       quoted, not measured: Lawrence et al. 1997, ORL 5/5
    """
    if not rows or not all(isinstance(r, ResultRow) for r in rows):
        raise ValueError("`rows` must be a non-empty list from results_table(...).")
    header = ("method", "accuracy", "splits", "note")
    cells = [(r.method, r.text, "-" if r.n_splits is None else str(r.n_splits), r.note) for r in rows]
    widths = [max(len(header[k]), *(len(c[k]) for c in cells)) for k in range(4)]
    line = lambda c: "  ".join(s.ljust(w) for s, w in zip(c, widths)).rstrip()  # noqa: E731
    out = ([title] if title else []) + [line(header), line(["-" * w for w in widths])] + [line(c) for c in cells]
    return "\n".join(out)
