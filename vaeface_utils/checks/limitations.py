"""Self-checks for the exercises of ``05_limitations``.

Each check takes the student's ``answer`` and the exercise's data, computes
the right value itself (with :mod:`vaeface_utils.limitations` or
scikit-learn), and returns a :class:`~vaeface_utils.checks.CheckResult`:
"Correct", "Not done yet" for the placeholder ``None``, or what is wrong with
a hint. Common mistakes get their own hint; no message contains the answer.

Examples
--------
>>> import numpy as np
>>> from vaeface_utils.checks import limitations as check
>>> check.gradient_energy(None, np.zeros((8, 8, 1)))
Exercise 1 (gradient energy by hand): Not done yet. Replace the placeholder with your answer and run the cell again.
"""

from __future__ import annotations

import math

import numpy as np

from .. import limitations as _lim
from ._core import CheckResult, check_close, is_placeholder

__all__ = ["gradient_energy", "membership_auc", "shifted_down_accuracy"]

_RTOL = 1e-6


def _number(answer):
    """The answer as one finite float, or None."""
    try:
        value = float(np.asarray(answer, dtype=np.float64))
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _diagnose(name, answer, expected, mistakes, hint, rtol=_RTOL):
    """check_close for one number; a known wrong value gets its own hint."""
    if is_placeholder(answer):
        return CheckResult(name, "not done", "Replace the placeholder with your answer and run the cell again.")
    if np.ndim(answer) != 0 and np.size(answer) != 1:
        return CheckResult(name, "wrong", f"Give one number; got an array of shape {np.shape(answer)}.")
    return check_close(name, answer, expected, hint=hint, rtol=rtol, atol=1e-12,
                       mistakes=[(np.float64(value), text) for value, text in mistakes])


def gradient_energy(answer, image):
    """Exercise 1: the gradient energy of one image, computed by hand.

    Parameters
    ----------
    answer : float or None
    image : array_like of float, shape (H, W, 1) or (H, W)
    """
    name = "Exercise 1 (gradient energy by hand)"
    x = np.asarray(image, dtype=np.float64)
    x = x[..., 0] if x.ndim == 3 else x
    expected = float(_lim.gradient_energy(x[None])[0])
    dx, dy = np.diff(x, axis=1), np.diff(x, axis=0)
    mistakes = [
        (np.mean(dx ** 2), "That is only the horizontal part. Add the mean squared vertical difference too."),
        (np.mean(dy ** 2), "That is only the vertical part. Add the mean squared horizontal difference too."),
        (np.sum(dx ** 2) + np.sum(dy ** 2), "That is a sum over pixels; take the mean of each part instead."),
        (np.mean(np.abs(dx)) + np.mean(np.abs(dy)), "Square the differences before averaging (not their size)."),
        (np.mean(dx) ** 2 + np.mean(dy) ** 2, "Square each difference first, then average: the mean of the "
                                              "squares, not the square of the mean."),
    ]
    return _diagnose(name, answer, expected, mistakes,
                     hint="Use np.diff along axis 1 and along axis 0 of the (H, W) image, square, average each, add.")


def membership_auc(answer, members, nonmembers):
    """Exercise 2: the AUC of a membership score, from its pairwise definition.

    Parameters
    ----------
    answer : float or None
    members, nonmembers : array_like of float, shape (n_members,), (n_nonmembers,)
        Scores; higher means "more likely a member".
    """
    name = "Exercise 2 (membership AUC by hand)"
    m = np.asarray(members, dtype=np.float64)
    n = np.asarray(nonmembers, dtype=np.float64)
    expected = _lim.membership_roc(m, n)[2]
    greater = np.mean(m[:, None] > n[None, :])
    mistakes = [
        (1.0 - expected, "The direction is reversed: count the pairs in which the *member* scores higher."),
        (np.mean(m > n.mean()), "That compared each member with the average non-member. Compare every member "
                                "with every non-member: an (n_members, n_nonmembers) table of comparisons."),
        (np.mean(m[:, None] >= n[None, :]), "Ties counted as whole wins; count them as one half."),
    ]
    if not math.isclose(greater, expected, rel_tol=_RTOL):  # only a distinct mistake when there are ties
        mistakes.append((greater, "Ties are left out; count each tied pair as one half."))
    answer_value = _number(answer)
    if answer_value is not None and 1.0 < answer_value <= 100.0:
        return CheckResult(name, "wrong", "Give a fraction in [0, 1], not a percentage.")
    return _diagnose(name, answer, expected, mistakes,
                     hint="Broadcast members[:, None] against nonmembers[None, :], count wins plus half the ties, "
                          "and average over all pairs.")


def shifted_down_accuracy(answer, x_gallery, id_gallery, x_test, id_test, *, n_components=50, pixels=4,
                          x_fit=None):
    """Exercise 3: eigenfaces + 1-NN accuracy on test faces shifted ``pixels`` down.

    Eigenfaces (``n_components`` components) are fitted on ``x_fit`` (by
    default the gallery); the gallery stays unperturbed.

    Parameters
    ----------
    answer : float or None
        A fraction in [0, 1].
    x_gallery, x_test : ndarray of float, shape (n, H, W, 1)
    id_gallery, id_test : ndarray of int, shape (n,)
    n_components : int, default 50
    pixels : int, default 4
    x_fit : ndarray of float, shape (m, H, W, 1), optional
        The images the eigenfaces are fitted on, e.g. the training faces
        only; default ``x_gallery``.
    """
    from ..recognition import Eigenfaces, identification_accuracy

    name = "Exercise 3 (a vertical shift)"
    if is_placeholder(answer):
        return CheckResult(name, "not done", "Replace the placeholder with your answer and run the cell again.")
    eigenfaces = Eigenfaces(n_components).fit(x_gallery if x_fit is None else x_fit)
    gallery = eigenfaces.transform(x_gallery)

    def accuracy(queries):
        return identification_accuracy(gallery, id_gallery, eigenfaces.transform(queries), id_test)

    expected = accuracy(_lim.shift(x_test, dy=pixels))
    value = _number(answer)
    if value is not None and 1.0 < value <= 100.0:
        return CheckResult(name, "wrong", "Give a fraction in [0, 1], not a percentage.")
    mistakes = [
        (accuracy(_lim.shift(x_test, dy=-pixels)), "That shifted the faces up; a positive dy moves them down."),
        (accuracy(_lim.shift(x_test, dx=pixels)), "That is a horizontal shift (dx); shift down with dy."),
        (accuracy(x_test), "That is the accuracy on the unshifted faces; shift the queries first."),
    ]
    mistakes = [(wrong, hint) for wrong, hint in mistakes if not math.isclose(wrong, expected)]
    return _diagnose(name, answer, expected, mistakes, rtol=1e-9,
                     hint="Transform the gallery and the shifted queries with the same fitted eigenfaces, then "
                          "use identification_accuracy(gallery_features, id_gallery, query_features, id_test).")
