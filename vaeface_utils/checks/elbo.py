"""Self-checks for the exercises of ``01_elbo_derivation``.

Each check takes the student's ``answer`` and the exercise's data, computes the
right value with :mod:`vaeface_utils.elbo`, and returns a
:class:`~vaeface_utils.checks.CheckResult`: "Correct", "Not done yet" for the
placeholder ``None``, or what is wrong with a hint. Common mistakes get their
own hint; no message ever contains the expected value.

Examples
--------
>>> import numpy as np
>>> from vaeface_utils.checks import elbo as check
>>> check.bits_per_dim(None, nats=1000.0, n_dims=4096)
Exercise 3 (bits per dimension): Not done yet. Replace the placeholder with your answer and run the cell again.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

from .. import elbo as _elbo
from .. import units as _units
from ._core import CheckResult, check_close, is_placeholder

__all__ = ["kl_to_gaussian_prior", "iwae_bound", "bits_per_dim", "gaussian_log_likelihood_from_mse", "kl_minimum"]

_RTOL = 1e-4


def _diagnose(name, answer, expected, mistakes, hint, shape_hint=None):
    """check_close with this module's tolerances; a known wrong value gets its own hint."""
    return check_close(name, answer, expected, hint=hint, rtol=_RTOL, atol=1e-6, shape_hint=shape_hint,
                       mistakes=mistakes)


def kl_to_gaussian_prior(answer, mean_q, log_var_q, mean_p, log_var_p):
    """Exercise 1: ``KL(q || p)`` per example, with a diagonal Gaussian prior that is not N(0, I).

    Parameters
    ----------
    answer : array_like, shape (n,), or None
    mean_q, log_var_q : array_like, shape (n, latent_dim)
        The encoder's output for ``n`` examples.
    mean_p, log_var_p : array_like, shape (latent_dim,)
        The prior's mean and log-variance.
    """
    name = "Exercise 1 (KL to a Gaussian prior)"
    mean_q, log_var_q = np.asarray(mean_q, float), np.asarray(log_var_q, float)
    mean_p, log_var_p = np.broadcast_to(mean_p, mean_q.shape), np.broadcast_to(log_var_p, log_var_q.shape)
    expected = _elbo.kl_diag_gaussians(mean_q, log_var_q, mean_p, log_var_p)
    mistakes = [
        (_elbo.kl_diag_gaussian_standard(mean_q, log_var_q),
         "That is the KL to the standard normal N(0, I). This prior has its own mean and variance: "
         "measure the distance from mean_q to mean_p in units of the prior's variance."),
        (_elbo.kl_diag_gaussians(mean_p, log_var_p, mean_q, log_var_q),
         "That is KL(p || q), the other direction. The KL in the ELBO is KL(q || p): an expectation under q, "
         "so q's variance sits in the numerator and p's in the denominator."),
        (2 * expected, "Off by a factor of 2: check the 1/2 in front of the sum."),
        (0.5 * expected, "Off by a factor of 2: the 1/2 should appear once."),
    ]
    hint = ("Work per latent dimension: write KL = E_q[log q(z) - log p(z)] with both Gaussian densities, "
            "and use E_q[(z - mean_p)**2] = var_q + (mean_q - mean_p)**2 for the term from p. Then sum over the "
            "latent dimensions. Variances are np.exp(log_var), not log_var.")
    return _diagnose(name, answer, expected, mistakes, hint,
                     shape_hint="Give one KL per example: sum over the latent axis (axis=-1).")


def iwae_bound(answer, log_weights):
    """Exercise 2: ``L_K`` from ``K`` log importance weights.

    Parameters
    ----------
    answer : float or array_like, or None
        A float for ``log_weights`` of shape ``(K,)``; shape ``(n,)`` for ``(K, n)``.
    log_weights : array_like, shape (K,) or (K, n)
    """
    name = "Exercise 2 (the IWAE bound)"
    log_w = np.asarray(log_weights, dtype=np.float64)
    one = log_w.ndim == 1
    expected = _elbo.iwae_bound(log_w[:, None] if one else log_w)
    expected = expected[0] if one else expected
    try:
        got = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        got = None
    if not is_placeholder(answer) and got is not None and got.size and not np.all(np.isfinite(got)):
        return CheckResult(
            name, "wrong",
            "Your answer is infinite or NaN: np.exp of log-weights this negative underflows to 0, and log(0) = -inf. "
            "Stay in log space: scipy.special.logsumexp does the sum of exponentials stably.",
        )
    k = log_w.shape[0]
    mistakes = [
        (log_w.mean(axis=0), "That is the average log-weight: the ELBO estimate L_1. L_K is the log of the "
                             "average weight, not the average of the log-weights."),
        (logsumexp(log_w, axis=0), "That is the log of the *sum* of the weights; L_K uses their average, so "
                                   "account for the 1/K."),
        (logsumexp(log_w, axis=0) - k, "Dividing by K in log space means subtracting log K, not K."),
        (log_w.max(axis=0), "That is the largest log-weight only; L_K averages all K weights."),
    ]
    hint = "L_K = log((1/K) * sum_k exp(log_w_k)), computed in log space; K is the number of log-weights."
    return _diagnose(name, answer, expected, mistakes, hint,
                     shape_hint="Average over the K samples (axis 0): one bound per example.")


def bits_per_dim(answer, nats, n_dims):
    """Exercise 3: bits per dimension from a negative log-likelihood in nats per image.

    Parameters
    ----------
    answer : float or None
    nats : float
        ``-log p(x)`` (or ``-ELBO``) in nats per image; positive.
    n_dims : int
        Pixels per image.
    """
    name = "Exercise 3 (bits per dimension)"
    expected = _units.nats_to_bits_per_dim(nats, n_dims)
    ln2 = math.log(2.0)
    mistakes = [
        (-expected, "The sign is flipped: bits per dimension are reported for the *negative* log-likelihood, "
                    "a positive cost."),
        (nats / n_dims, "That is nats per dimension. A bit is ln 2 nats: convert the unit as well."),
        (nats / ln2, "That is bits per image. Bits per *dimension* shares them among the pixels."),
        (nats * ln2 / n_dims, "The unit conversion goes the other way: a bit is smaller than a nat "
                              "(1 bit = ln 2 nats), so an amount has more bits than nats."),
        (nats / (n_dims * math.log(10.0)), "That used log base 10. Bits are base 2."),
    ]
    hint = "Two steps: share the nats among the dimensions, then convert nats to bits (1 bit = ln 2 nats)."
    return _diagnose(name, answer, expected, mistakes, hint)


def gaussian_log_likelihood_from_mse(answer, mse, n_dims, sigma2):
    """Exercise 4: ``log N(x; x_hat, sigma2 I)`` per image, from the mean squared error over pixels.

    Parameters
    ----------
    answer : float or array_like, or None
    mse : float or array_like, shape (n,)
        Mean over pixels of ``(x - x_hat)**2``, per image.
    n_dims : int
        Pixels per image.
    sigma2 : float
        The decoder's pixel noise variance.
    """
    name = "Exercise 4 (Gaussian log-likelihood from the MSE)"
    mse = np.asarray(mse, dtype=np.float64)
    const = 0.5 * n_dims * math.log(2 * math.pi * sigma2)
    fit_term = n_dims * mse / (2 * sigma2)
    expected = -fit_term - const
    mistakes = [
        (-fit_term, "The normalising constant is missing: a Gaussian density has a -(D/2) log(2 pi sigma2) term."),
        (fit_term + const, "The sign is flipped: that is the negative log-likelihood (the loss)."),
        (expected / n_dims, "That is per pixel. The log-likelihood of an image sums over its pixels: "
                            "independent pixels multiply."),
        (-n_dims * mse / (2 * math.sqrt(sigma2)) - 0.5 * n_dims * math.log(2 * math.pi * math.sqrt(sigma2)),
         "sigma2 is already the variance; do not take its square root."),
        (-n_dims * mse / 2 - const, "The squared error must be divided by the variance sigma2."),
    ]
    hint = ("Start from the sum over pixels of log N(x_d; x_hat_d, sigma2) and write the sum of squared errors "
            "as D * MSE.")
    return _diagnose(name, answer, expected, mistakes, hint)


def kl_minimum(answer, mean=0.5):
    """Exercise 5: the variance that minimises ``KL(N(mean, v) || N(0, 1))`` over ``v``, and the minimum.

    Derived on paper: ``d/dv [ (v + mean**2 - 1 - log v) / 2 ] = 0`` at
    ``v = 1``, where the KL is ``mean**2 / 2``.
    """
    name = "Exercise 5 (the smallest KL at a fixed mean)"
    if is_placeholder(answer):
        return CheckResult(name, "not done", "Replace the placeholder with your answer and run the cell again.")
    try:
        variance, minimum = (float(v) for v in answer)
    except (TypeError, ValueError):
        return CheckResult(name, "wrong", "Give two numbers: (the variance that minimises the KL, the minimum KL).")
    if not np.isclose(variance, 1.0, rtol=1e-6):
        hint = ("Write the one-dimensional KL as a function of the variance v, differentiate with respect to v "
                "and set the derivative to zero.")
        if np.isclose(variance, mean ** 2, rtol=1e-6) or np.isclose(variance, 0.0):
            hint = "The minimum is not where the variance shrinks; the -log v term grows as v goes to 0. " + hint
        return CheckResult(name, "wrong", hint)
    if np.isclose(minimum, 0.5 * mean ** 2, rtol=1e-6, atol=1e-12):
        return CheckResult(name, "correct")
    if np.isclose(minimum, mean ** 2, rtol=1e-6):
        return CheckResult(name, "wrong", "The variance is right; the minimum is off by a factor of 2: mind the 1/2 "
                                          "in front of the KL.")
    return CheckResult(name, "wrong", "The variance is right; put it back into the KL to get the minimum.")
