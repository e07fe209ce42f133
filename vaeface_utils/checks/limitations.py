"""Self-checks for the exercises of ``05_limitations``.

Each check takes the student's ``answer`` and the exercise's data, computes
the right value itself (with :mod:`vaeface_utils.image_metrics`,
:mod:`~vaeface_utils.perturbations`, :mod:`~vaeface_utils.privacy`,
:mod:`~vaeface_utils.latent_diagnostics` or scikit-learn), and returns a
:class:`~vaeface_utils.checks.CheckResult`: "Correct", "Not done yet" for the
placeholder ``None``, or what is wrong with a hint. Common mistakes get their
own hint; no message contains the answer.

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

from ..image_metrics import gradient_energy as _gradient_energy
from ..latent_diagnostics import ACTIVE_THRESHOLD, active_units as _active_units
from ..perturbations import shift as _shift
from ..privacy import membership_roc as _membership_roc
from ._core import CheckResult, as_number, check_close, is_placeholder

__all__ = ["gradient_energy", "membership_auc", "shifted_down_accuracy", "shift_direction", "free_bits_kl",
           "free_bits_active_units"]

_RTOL = 1e-6


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
    expected = float(_gradient_energy(x[None])[0])
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
    expected = _membership_roc(m, n)[2]
    greater = np.mean(m[:, None] > n[None, :])
    mistakes = [
        (1.0 - expected, "The direction is reversed: count the pairs in which the *member* scores higher."),
        (np.mean(m > n.mean()), "That compared each member with the average non-member. Compare every member "
                                "with every non-member: an (n_members, n_nonmembers) table of comparisons."),
        (np.mean(m[:, None] >= n[None, :]), "Ties counted as whole wins; count them as one half."),
    ]
    if not math.isclose(greater, expected, rel_tol=_RTOL):  # only a distinct mistake when there are ties
        mistakes.append((greater, "Ties are left out; count each tied pair as one half."))
    answer_value = as_number(answer)
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
    from ..features import Eigenfaces
    from ..identification import identification_accuracy

    name = "Exercise 3 (a vertical shift)"
    if is_placeholder(answer):
        return CheckResult(name, "not done", "Replace the placeholder with your answer and run the cell again.")
    eigenfaces = Eigenfaces(n_components).fit(x_gallery if x_fit is None else x_fit)
    gallery = eigenfaces.transform(x_gallery)

    def accuracy(queries):
        return identification_accuracy(gallery, id_gallery, eigenfaces.transform(queries), id_test)

    expected = accuracy(_shift(x_test, dy=pixels))
    value = as_number(answer)
    if value is not None and 1.0 < value <= 100.0:
        return CheckResult(name, "wrong", "Give a fraction in [0, 1], not a percentage.")
    mistakes = [
        (accuracy(_shift(x_test, dy=-pixels)), "That shifted the faces up; a positive dy moves them down."),
        (accuracy(_shift(x_test, dx=pixels)), "That is a horizontal shift (dx); shift down with dy."),
        (accuracy(x_test), "That is the accuracy on the unshifted faces; shift the queries first."),
    ]
    mistakes = [(wrong, hint) for wrong, hint in mistakes if not math.isclose(wrong, expected)]
    return _diagnose(name, answer, expected, mistakes, rtol=1e-9,
                     hint="Transform the gallery and the shifted queries with the same fitted eigenfaces, then "
                          "use identification_accuracy(gallery_features, id_gallery, query_features, id_test).")


def shift_direction(answer, accuracy_right, x_gallery, id_gallery, x_test, id_test, *, n_components=50, pixels=4,
                    x_fit=None):
    """Exercise 3, second part: is a shift ``pixels`` down "worse", "better" or "same" as one to the right?

    ``accuracy_right`` is section 6's accuracy for the same shift to the right;
    the accuracy for the shift down is computed here as in
    :func:`shifted_down_accuracy` (same arguments).
    """
    from ..features import Eigenfaces
    from ..identification import identification_accuracy

    name = "Exercise 3 (down or right?)"
    if is_placeholder(answer):
        return CheckResult(name, "not done", "Replace the placeholder with your answer and run the cell again.")
    if not isinstance(answer, str) or answer not in ("worse", "better", "same"):
        return CheckResult(name, "wrong", 'Answer "worse", "better" or "same".')
    eigenfaces = Eigenfaces(n_components).fit(x_gallery if x_fit is None else x_fit)
    down = identification_accuracy(eigenfaces.transform(x_gallery), id_gallery,
                                   eigenfaces.transform(_shift(x_test, dy=pixels)), id_test)
    truth = "worse" if down < accuracy_right else "better" if down > accuracy_right else "same"
    if answer == truth:
        return CheckResult(name, "correct")
    return CheckResult(name, "wrong", "Compare your accuracy for the shift down with the one for the same shift to "
                                      "the right, in section 6's table.")


def _kl_per_dim(z_mean, z_log_var):
    return -0.5 * (1.0 + z_log_var - z_mean ** 2 - np.exp(z_log_var))


def free_bits_kl(answer, free_bits=0.5, seed=0):
    """Exercise 4: a function ``answer(z_mean, z_log_var, free_bits)`` in ``keras.ops``.

    It must return, per image, the sum over latent dimensions of
    ``max(KL_j, free_bits)``, where ``KL_j`` is the closed-form KL of
    dimension ``j`` to N(0, 1). It is run here on random posteriors, as
    tensors, and compared with NumPy.
    """
    name = "Exercise 4 (the free-bits KL)"
    if is_placeholder(answer):
        return CheckResult(name, "not done", "Replace the placeholder with your function and run the cell again.")
    if not callable(answer):
        return CheckResult(name, "wrong", f"Expected a function, got {type(answer).__name__}.")
    import keras

    rng = np.random.default_rng(seed)
    z_mean = rng.normal(0.0, 0.7, size=(6, 5)).astype("float32")
    z_log_var = rng.normal(-0.3, 0.6, size=(6, 5)).astype("float32")
    try:
        got = keras.ops.convert_to_numpy(answer(keras.ops.convert_to_tensor(z_mean),
                                                keras.ops.convert_to_tensor(z_log_var), free_bits))
    except Exception as error:  # noqa: BLE001 - the student's code may fail in any way
        return CheckResult(name, "wrong", f"Calling it on tensors raised {type(error).__name__}: {str(error)[:160]}. "
                                          "Use keras.ops (ops.maximum, ops.sum, ops.exp), not NumPy.")
    per_dim = _kl_per_dim(z_mean.astype(np.float64), z_log_var.astype(np.float64))
    expected = np.maximum(per_dim, free_bits).sum(axis=1)
    return check_close(name, got, expected, rtol=1e-4, atol=1e-5,
                       hint="Compute the KL of each latent dimension, raise each to at least free_bits, then sum "
                            "over the latent axis (one number per image).",
                       shape_hint="Return one number per image: sum over the latent axis (axis=-1).",
                       mistakes=[(per_dim.sum(axis=1), "That is the plain KL: no dimension was raised to free_bits."),
                                 (np.maximum(per_dim.sum(axis=1), free_bits),
                                  "The floor applies to each dimension's KL, before the sum, not to the total."),
                                 (np.minimum(per_dim, free_bits).sum(axis=1),
                                  "A floor, not a ceiling: take the larger of KL_j and free_bits.")])


def free_bits_active_units(answer, z_mean, threshold=ACTIVE_THRESHOLD):
    """Exercise 4, second part: the active units of the model trained with free bits, on the given codes."""
    name = "Exercise 4 (active units with free bits)"
    if is_placeholder(answer):
        return CheckResult(name, "not done", "Replace the placeholder with your answer and run the cell again.")
    expected = _active_units(np.asarray(z_mean), threshold)
    return check_close(name, answer, expected, rtol=0, atol=0.5,
                       hint="Count the latent dimensions whose posterior mean varies across the test faces by more "
                            "than the threshold (latent_diagnostics.active_units).")
