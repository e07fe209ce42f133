"""Recognition of perturbed faces: how accuracy falls as a nuisance factor grows.

The gallery stays as it is; each query face is perturbed with
:func:`vaeface_utils.perturbations.perturb`, one kind at a time, at each of a
list of strengths, and identified against the gallery.

:func:`perturbed_correct`
    Whether each perturbed query is named right: one boolean array
    ``(n_strengths, n_queries)`` per kind of perturbation.
:func:`accuracy_by_strength`
    The share of queries named right at each strength.
:func:`mean_perturbed_accuracy`
    The mean of those shares over every kind and every strength but the
    first (strength 0, the clean queries).
:func:`share_correct_per_query`
    For each query, the share of its perturbed versions named right: the
    per-query score that :func:`vaeface_utils.protocol.bootstrap_difference`
    compares between two methods.
:data:`QUOTED_LFW`
    For scale, what discriminative face recognition reaches on faces in the
    wild (any pose, light and background), kept as a
    :class:`~vaeface_utils.reporting.QuotedResult` so that it is never
    mistaken for a measurement.

Nothing here imports TensorFlow; the features may come from any model.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np

from .perturbations import PERTURBATIONS, perturb
from .reporting import QuotedResult

__all__ = ["QUOTED_LFW", "perturbed_correct", "accuracy_by_strength", "mean_perturbed_accuracy",
           "share_correct_per_query"]

#: Schroff, Kalenichenko & Philbin (2015), "FaceNet: A Unified Embedding for Face
#: Recognition and Clustering", CVPR: 99.63 % accuracy on Labeled Faces in the
#: Wild (pair verification: same person or not?, with face alignment), a deep
#: network trained on 100 to 200 million face images of about 8 million
#: people. Quoted, not measured.
QUOTED_LFW = QuotedResult("FaceNet", 0.0037, "LFW pair verification (unrestricted, labelled outside data)",
                          "Schroff, Kalenichenko & Philbin, CVPR 2015")


def _strengths(strengths):
    if not isinstance(strengths, Mapping) or not strengths:
        raise TypeError(f"`strengths` must be a non-empty dict {{kind: strengths}}; got {type(strengths).__name__}. "
                        'Use e.g. {"shift": (0, 2, 4)}.')
    unknown = [kind for kind in strengths if kind not in PERTURBATIONS]
    if unknown:
        raise ValueError(f"Unknown kinds {unknown} in `strengths`; the known perturbations are {list(PERTURBATIONS)}.")
    empty = [kind for kind, values in strengths.items() if len(values) == 0]
    if empty:
        raise ValueError(f"`strengths` must list at least one strength per kind; {empty} have none.")
    return strengths


def perturbed_correct(features: Callable, classifier, x_gallery, id_gallery, x_query, id_query,
                      strengths: Mapping[str, Sequence], *, seed=0):
    """Whether the classifier names the person of each perturbed query right.

    ``classifier`` (a copy of it, unfitted) is fitted on ``features(x_gallery)``
    and ``id_gallery``. For each kind and strength in ``strengths`` the
    queries are perturbed (:func:`~vaeface_utils.perturbations.perturb`, with
    ``seed``), cast to float32, mapped by ``features`` and classified.

    Parameters
    ----------
    features : callable
        Images ``(n, H, W, 1)`` to features ``(n, d)``, e.g. ``vae.encode`` or
        a fitted ``Eigenfaces().transform``.
    classifier : scikit-learn estimator
        E.g. ``make_classifier("1nn-euclidean")``; cloned, never changed.
    x_gallery : ndarray of float, shape (m, H, W, 1)
    id_gallery : array_like, shape (m,)
    x_query : ndarray of float, shape (n, H, W, 1)
    id_query : array_like, shape (n,)
    strengths : dict
        ``{kind: sequence of strengths}``, kinds from
        :data:`~vaeface_utils.perturbations.PERTURBATIONS`.
    seed : int, default 0
        Places of the occluding squares.

    Returns
    -------
    dict
        ``{kind: ndarray of bool, shape (len(strengths[kind]), n)}``, in the
        order of ``strengths``.

    Raises
    ------
    TypeError
        ``features`` is not callable or ``strengths`` is not a dict.
    ValueError
        Unknown kinds, a kind without strengths, or labels whose lengths
        differ from the images'.

    Examples
    --------
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> x = np.random.default_rng(0).random((4, 8, 8, 1))
    >>> flat = lambda images: images.reshape(len(images), -1)
    >>> correct = perturbed_correct(flat, KNeighborsClassifier(1), x, [0, 1, 2, 3], x, [0, 1, 2, 3],
    ...                             {"shift": (0, 1)})
    >>> correct["shift"].shape, bool(correct["shift"][0].all())
    ((2, 4), True)
    """
    from sklearn.base import clone

    if not callable(features):
        raise TypeError(f"`features` must be a function from images to features; got {type(features).__name__}. "
                        "Pass e.g. vae.encode or eigenfaces.transform.")
    strengths = _strengths(strengths)
    id_query = np.asarray(id_query)
    for name, x, labels in (("gallery", x_gallery, id_gallery), ("query", x_query, id_query)):
        if len(x) != len(labels):
            raise ValueError(f"`x_{name}` and `id_{name}` must hold one label per image; got {len(x)} images and "
                             f"{len(labels)} labels.")
    fitted = clone(classifier).fit(features(x_gallery), id_gallery)
    return {kind: np.array([fitted.predict(features(perturb(x_query, kind, s, seed=seed).astype(np.float32)))
                            == id_query for s in values]) for kind, values in strengths.items()}


def accuracy_by_strength(correct_by_kind):
    """``{kind: [share of queries named right at each strength]}`` from :func:`perturbed_correct`.

    Examples
    --------
    >>> accuracy_by_strength({"shift": np.array([[True, True], [True, False]])})
    {'shift': [1.0, 0.5]}
    """
    return {kind: [float(c.mean()) for c in correct] for kind, correct in correct_by_kind.items()}


def mean_perturbed_accuracy(accuracy_by_kind):
    """The mean accuracy over every kind and every strength but the first (the clean queries).

    Parameters
    ----------
    accuracy_by_kind : dict
        ``{kind: [accuracy at each strength]}`` from
        :func:`accuracy_by_strength`, the same number of strengths for each
        kind, the first of them 0.

    Returns
    -------
    float

    Examples
    --------
    >>> mean_perturbed_accuracy({"shift": [1.0, 0.8, 0.6], "rotation": [1.0, 0.9, 0.5]})
    0.7
    """
    return float(np.mean([accuracies[1:] for accuracies in accuracy_by_kind.values()]))


def share_correct_per_query(correct_by_kind, kinds=None):
    """For each query, the share of its perturbed versions (every strength but the first) named right.

    Parameters
    ----------
    correct_by_kind : dict
        From :func:`perturbed_correct`.
    kinds : sequence of str, optional
        The kinds to pool; default all of them.

    Returns
    -------
    ndarray of float64, shape (n,)

    Examples
    --------
    >>> correct = {"shift": np.array([[True, True], [True, False], [False, False]])}
    >>> share_correct_per_query(correct).tolist()
    [0.5, 0.0]
    """
    kinds = tuple(correct_by_kind) if kinds is None else tuple(kinds)
    missing = [kind for kind in kinds if kind not in correct_by_kind]
    if missing:
        raise ValueError(f"`kinds` {missing} are not in `correct_by_kind` (which holds {list(correct_by_kind)}).")
    return np.concatenate([correct_by_kind[kind][1:] for kind in kinds]).mean(axis=0)
