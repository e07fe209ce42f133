r"""The aggregate posterior against the prior: where a VAE's codes of real faces lie.

A VAE's encoder gives each training face ``x_n`` a posterior ``q(z | x_n)``. The
codes of the whole training set follow their average, the *aggregate
posterior* ``q(z) = (1/N) sum_n q(z | x_n)``, a mixture of ``N`` Gaussians.
Sampling "a new face" draws ``z`` from the prior ``p(z) = N(0, I)`` instead; where
``q(z)`` and ``p(z)`` differ, the decoder meets codes it was never trained on.

The KL term of the ELBO, averaged over the training faces, splits exactly in
two (Hoffman & Johnson 2016, "ELBO surgery"):

.. math::

    \frac1N \sum_n \mathrm{KL}(q(z|x_n) \,\|\, p(z))
    = I_q(n; z) + \mathrm{KL}(q(z) \,\|\, p(z)),

where ``I_q(n; z)``, the mutual information between a face's index and its
code, is at most ``log N``. :func:`aggregate_posterior_kl` estimates both
terms by Monte Carlo, with the mixture's density computed exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp

from .elbo import kl_diag_gaussian_standard, log_normal_diag
from ._validate import int_in

__all__ = ["AggregateKL", "aggregate_posterior_kl", "mixture_log_density"]

class AggregateKL(NamedTuple):
    """The parts of the average KL term, in nats (see :func:`aggregate_posterior_kl`)."""

    mean_kl: float  # (1/N) sum_n KL(q(z|x_n) || p(z)), in closed form
    mutual_information: float  # I_q(n; z), Monte Carlo
    kl_aggregate_prior: float  # KL(q(z) || p(z)), Monte Carlo
    standard_error: float  # of the Monte Carlo estimate of KL(q(z) || p(z))
    log_n: float  # log N, the largest possible mutual information
    sum_standard_error: float  # of the Monte Carlo estimate of the sum of the two terms


def _check(z_mean, z_log_var):
    z_mean = np.asarray(z_mean, dtype=np.float64)
    z_log_var = np.asarray(z_log_var, dtype=np.float64)
    if z_mean.ndim != 2 or z_mean.shape != z_log_var.shape or len(z_mean) < 1:
        raise ValueError("`z_mean` and `z_log_var` must both have shape (n, latent_dim) with n >= 1; got "
                         f"{z_mean.shape} and {z_log_var.shape}. Use vae.posterior(x).")
    if not (np.all(np.isfinite(z_mean)) and np.all(np.isfinite(z_log_var))):
        raise ValueError("`z_mean` and `z_log_var` must be finite.")
    return z_mean, z_log_var


def mixture_log_density(z, z_mean, z_log_var, batch_size=512):
    """``log q(z)`` of the mixture ``(1/N) sum_n N(z; z_mean[n], diag exp(z_log_var[n]))``.

    Parameters
    ----------
    z : array_like, shape (m, latent_dim)
    z_mean, z_log_var : array_like, shape (N, latent_dim)
    batch_size : int, default 512
        Rows of ``z`` evaluated at once (memory ``batch_size x N x latent_dim``).

    Returns
    -------
    ndarray of float64, shape (m,)
    """
    z_mean, z_log_var = _check(z_mean, z_log_var)
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] != z_mean.shape[1]:
        raise ValueError(f"`z` must have shape (m, {z_mean.shape[1]}); got {z.shape}.")
    int_in(batch_size, "batch_size", 1, None, "")
    out = np.empty(len(z))
    for start in range(0, len(z), batch_size):
        log_components = log_normal_diag(z[start:start + batch_size, None, :], z_mean, z_log_var)  # (b, N)
        out[start:start + batch_size] = logsumexp(log_components, axis=1) - np.log(len(z_mean))
    return out


def aggregate_posterior_kl(z_mean, z_log_var, n_samples=20000, seed=0):
    """Estimate ``KL(q(z) || p(z))`` and ``I_q(n; z)`` for the posteriors of ``N`` faces.

    ``n_samples`` codes are drawn from the aggregate posterior (a face chosen
    at random, then a code from its posterior); ``log q(z)`` is computed
    exactly as a mixture, ``log p(z)`` and ``log q(z | x_n)`` in closed form.
    The two estimates use the same draws, and the closed-form mean KL equals
    their sum up to Monte Carlo error (``sum_standard_error``).

    Parameters
    ----------
    z_mean, z_log_var : array_like, shape (N, latent_dim)
        The posteriors, e.g. ``vae.posterior(x_train)``.
    n_samples : int, default 20000
    seed : int, default 0

    Returns
    -------
    AggregateKL

    Examples
    --------
    >>> r = aggregate_posterior_kl(np.zeros((3, 2)), np.zeros((3, 2)), n_samples=100)
    >>> [abs(round(value, 6)) for value in (r.kl_aggregate_prior, r.mutual_information)]
    [0.0, 0.0]
    """
    z_mean, z_log_var = _check(z_mean, z_log_var)
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"`n_samples` must be an int >= 2; got {n_samples!r}.")
    rng = np.random.default_rng(seed)
    n, d = z_mean.shape
    which = rng.integers(n, size=n_samples)
    z = z_mean[which] + np.exp(0.5 * z_log_var[which]) * rng.standard_normal((n_samples, d))
    log_q_agg = mixture_log_density(z, z_mean, z_log_var)
    log_p = log_normal_diag(z, 0.0, 0.0)
    log_q_own = log_normal_diag(z, z_mean[which], z_log_var[which])
    kl_parts = log_q_agg - log_p
    sum_parts = log_q_own - log_p  # information plus mismatch, sample by sample
    mean_kl = float(np.mean(kl_diag_gaussian_standard(z_mean, z_log_var)))
    return AggregateKL(mean_kl=mean_kl, mutual_information=float(np.mean(log_q_own - log_q_agg)),
                       kl_aggregate_prior=float(np.mean(kl_parts)),
                       standard_error=float(np.std(kl_parts, ddof=1) / np.sqrt(n_samples)), log_n=float(np.log(n)),
                       sum_standard_error=float(np.std(sum_parts, ddof=1) / np.sqrt(n_samples)))
