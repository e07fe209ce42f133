"""Self-checks for the exercises of ``04_latent_face_recognition``.

Each check takes the student's ``answer`` and the exercise's data, computes the
right value with :mod:`vaeface_utils.identification` and
:mod:`vaeface_utils.verification`, and returns a
:class:`~vaeface_utils.checks.CheckResult`: "Correct", "Not done yet" for the
placeholder ``None``, or what is wrong with a hint. Common mistakes get their
own hint; no message contains the expected value.

Examples
--------
>>> from vaeface_utils.checks import recognition as check
>>> check.pair_counts(None, [0, 0, 1, 1])
Exercise 2 (same and different pairs): Not done yet. Replace the placeholder with your answer and run the cell again.
"""

from __future__ import annotations

import numpy as np

from .. import identification as _identification
from .. import verification as _verification
from ._core import CheckResult, as_number, check_close, is_placeholder

__all__ = ["nearest_neighbour_accuracy", "pair_counts", "equal_error_rate", "sampled_code"]


def nearest_neighbour_accuracy(answer, features_train, id_train, features_test, id_test):
    """Exercise 1: the accuracy of 1-nearest-neighbour (Euclidean), written by hand.

    Parameters
    ----------
    answer : float or None
        A fraction in [0, 1].
    features_train, id_train, features_test, id_test
        As :func:`vaeface_utils.identification.identification_accuracy`.
    """
    name = "Exercise 1 (1-NN accuracy by hand)"
    expected = _identification.identification_accuracy(features_train, id_train, features_test, id_test,
                                                       "1nn-euclidean")
    value = None if is_placeholder(answer) else as_number(answer)
    if value is not None and not np.isclose(value, expected, atol=1e-9) and 1 < value <= 100:
        if np.isclose(value / 100, expected, atol=1e-9):
            return CheckResult(name, "wrong", "That looks like a percentage; the course writes accuracies as "
                                              "fractions in [0, 1].")
        return CheckResult(name, "wrong", "An accuracy is a fraction in [0, 1]: divide the number of right "
                                          "answers by the number of queries.")
    if value is not None and np.isclose(value, 1 - expected, atol=1e-9) and not np.isclose(value, expected):
        return CheckResult(name, "wrong", "That is the error rate; the accuracy is the fraction of queries "
                                          "given the right person.")
    return check_close(
        name, answer, expected, atol=1e-9, rtol=0,
        hint="For each query (test row), find the training row at the smallest Euclidean distance and take its "
             "identity; then compare with the query's true identity. Distances go from queries to the gallery, "
             "not between queries.",
        shape_hint="The answer is one number, the fraction of queries identified correctly.",
    )


def pair_counts(answer, identity):
    """Exercise 2: how many same-person and different-person pairs there are.

    Parameters
    ----------
    answer : (int, int) or None
        ``(n_same, n_different)``, counting each unordered pair of distinct
        images once.
    identity : array_like, shape (n,)
    """
    name = "Exercise 2 (same and different pairs)"
    y = np.asarray(identity)
    counts = np.unique(y, return_counts=True)[1]
    n = len(y)
    n_same = int(np.sum(counts * (counts - 1) // 2))
    expected = np.array([n_same, n * (n - 1) // 2 - n_same], dtype=np.float64)
    if not is_placeholder(answer):
        try:
            got = np.asarray(answer, dtype=np.float64)
        except (TypeError, ValueError):
            got = None
        if got is not None and got.shape == (2,) and not np.allclose(got, expected):
            if np.allclose(got, 2 * expected):
                return CheckResult(name, "wrong", "You counted ordered pairs: (i, j) and (j, i) are the same pair. "
                                                  "Count each unordered pair once.")
            if np.isclose(got[0], expected[0] + n) or np.isclose(got[0], 2 * expected[0] + n):
                return CheckResult(name, "wrong", "An image paired with itself is not a pair; use i < j only.")
            if np.allclose(got[::-1], expected):
                return CheckResult(name, "wrong", "The two numbers are swapped: same-person pairs first.")
    return check_close(
        name, answer, expected, rtol=0, atol=0.5,
        hint="A person with m images gives m (m - 1) / 2 same-person pairs; all n images give n (n - 1) / 2 "
             "pairs, and the different-person pairs are the rest.",
        shape_hint="Give two numbers: (same-person pairs, different-person pairs).",
    )


def equal_error_rate(answer, fpr, tpr):
    """Exercise 3: the equal error rate of a ROC curve, by linear interpolation.

    Parameters
    ----------
    answer : float or None
        A fraction in [0, 1].
    fpr, tpr : array_like, shape (n_points,)
        The ROC curve, e.g. from :func:`sklearn.metrics.roc_curve`.
    """
    name = "Exercise 3 (equal error rate)"
    expected = _verification.equal_error_rate(fpr, tpr)
    value = None if is_placeholder(answer) else as_number(answer)
    if value is not None and not np.isclose(value, expected, atol=1e-6):
        if np.isclose(value, 1 - expected, atol=1e-6):
            return CheckResult(name, "wrong", "At the equal error rate false accepts equal false rejects; the "
                                              "false reject rate is 1 - tpr, not tpr.")
        if 1 < value <= 100:
            return CheckResult(name, "wrong", "That looks like a percentage; give the rate as a fraction in [0, 1].")
        gap = np.asarray(fpr, dtype=np.float64) - (1 - np.asarray(tpr, dtype=np.float64))
        nearest = np.asarray(fpr, dtype=np.float64)[np.argmin(np.abs(gap))]
        if np.isclose(value, nearest, atol=1e-6):
            return CheckResult(name, "wrong", "That is the ROC point nearest the crossing; interpolate linearly "
                                              "between the two points on either side of fpr = 1 - tpr.")
    return check_close(
        name, answer, expected, atol=1e-6, rtol=0,
        hint="Find where fpr - (1 - tpr) changes sign, and interpolate linearly between those two ROC points.",
        shape_hint="The answer is one number.",
    )


def sampled_code(answer, z_mean, z_log_var, eps):
    """Exercise 4: one reparameterised sample ``z = z_mean + exp(z_log_var / 2) * eps``.

    Parameters
    ----------
    answer : array_like of float, shape (n, latent_dim), or None
    z_mean, z_log_var : array_like of float, shape (n, latent_dim)
        The posterior, e.g. from ``vae.posterior(images)``.
    eps : array_like of float, shape (n, latent_dim)
        The standard normal noise to use.
    """
    name = "Exercise 4 (a sampled code)"
    mean = np.asarray(z_mean, dtype=np.float64)
    log_var = np.asarray(z_log_var, dtype=np.float64)
    noise = np.asarray(eps, dtype=np.float64)
    expected = mean + np.exp(0.5 * log_var) * noise
    if not is_placeholder(answer):
        try:
            got = np.asarray(answer, dtype=np.float64)
        except (TypeError, ValueError):
            got = None
        if got is not None and got.shape == expected.shape and not np.allclose(got, expected, rtol=1e-4, atol=1e-5):
            for wrong, hint in [
                (mean + np.exp(log_var) * noise, "exp(z_log_var) is the variance; the standard deviation is "
                                                 "exp(z_log_var / 2)."),
                (mean + log_var * noise, "z_log_var is a log-variance: exponentiate half of it to get the "
                                         "standard deviation."),
                (mean + np.exp(0.5 * log_var), "Multiply the standard deviation by the noise eps."),
                (mean, "That is the posterior mean; a sample adds the standard deviation times eps."),
            ]:
                if np.allclose(got, wrong, rtol=1e-4, atol=1e-5):
                    return CheckResult(name, "wrong", hint)
    return check_close(
        name, answer, expected, rtol=1e-4, atol=1e-5,
        hint="z = z_mean + sigma * eps, with sigma = exp(z_log_var / 2), element by element.",
        shape_hint="The answer has one row per image and one column per latent dimension, like z_mean.",
    )
