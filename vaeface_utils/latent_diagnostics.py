"""How a VAE uses its latent code: activity, active units, KL per dimension, sampled codes.

:data:`ACTIVE_THRESHOLD`
    The course's one threshold for an *active* latent dimension.
:func:`latent_activity` and :func:`active_units`
    How much each dimension's posterior mean moves from image to image, and
    how many dimensions move more than the threshold (Burda et al. 2016).
:func:`kl_per_dimension`
    The KL term of the ELBO split over the latent dimensions: a collapsed
    dimension has a KL near 0.
:func:`sampled_z`
    One reparameterised draw from each posterior,
    ``z = z_mean + exp(z_log_var / 2) * eps``, with NumPy noise.

Every function takes the posterior means ``z_mean`` of shape
``(n, latent_dim)`` (from :meth:`vaeface_utils.model.VAE.posterior`), and
where it needs them the log-variances ``z_log_var`` of the same shape, and
returns float64 values. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import numpy as np

from . import _validate as _v
from . import elbo as _elbo

__all__ = ["ACTIVE_THRESHOLD", "latent_activity", "active_units", "kl_per_dimension", "sampled_z"]

#: A latent dimension is active when its posterior mean varies across images by more than this (variance).
ACTIVE_THRESHOLD = 0.01


def latent_activity(z_mean):
    """How much each latent dimension's posterior mean moves from image to image.

    ``A_j = Var_x(E_q[z_j | x])``, the variance across images of column ``j``
    of ``z_mean`` (Burda et al. 2016).

    Parameters
    ----------
    z_mean : array_like of float, shape (n, latent_dim)

    Returns
    -------
    ndarray of float64, shape (latent_dim,)

    Raises
    ------
    ValueError
        Not 2-D with at least one row, or not finite.
    """
    return _v.latent(z_mean, "z_mean").var(axis=0)


def active_units(z_mean, threshold=ACTIVE_THRESHOLD):
    """The number of active latent dimensions: ``A_j > threshold``.

    Parameters
    ----------
    z_mean : array_like of float, shape (n, latent_dim)
        Posterior means of ``n`` images (at least two, for a variance).
    threshold : float, default ACTIVE_THRESHOLD (0.01)

    Returns
    -------
    int

    Raises
    ------
    ValueError
        Bad ``z_mean`` or fewer than two images, or ``threshold`` < 0.

    Examples
    --------
    >>> active_units([[0.0, 0.0], [1.0, 0.001]])
    1
    """
    z = _v.latent(z_mean, "z_mean")
    if len(z) < 2:
        raise ValueError(f"`z_mean` must hold at least 2 images to measure a variance across images; got {len(z)}.")
    threshold = _v.number(threshold, "threshold", low=0.0,
                          fix=f"The usual threshold is ACTIVE_THRESHOLD = {ACTIVE_THRESHOLD}.")
    return int(np.sum(latent_activity(z) > threshold))


def kl_per_dimension(z_mean, z_log_var):
    r"""The KL from ``q(z_j | x)`` to ``N(0, 1)`` of each latent dimension, averaged over images.

    .. math::

        \mathrm{KL}_j = \frac1n \sum_x \tfrac12\big(e^{s_j(x)} + m_j(x)^2 - 1 - s_j(x)\big)

    with ``m = z_mean`` and ``s = z_log_var``; the sum over ``j`` is the mean
    KL term of the ELBO. A collapsed dimension has ``KL_j`` near 0.

    Parameters
    ----------
    z_mean, z_log_var : array_like of float, shape (n, latent_dim)

    Returns
    -------
    ndarray of float64, shape (latent_dim,)
        In nats per image; never negative.

    Raises
    ------
    ValueError
        Bad arrays or different shapes.
    """
    m = _v.latent(z_mean, "z_mean")
    s = _v.latent(z_log_var, "z_log_var")
    if m.shape != s.shape:
        raise ValueError(f"`z_mean` and `z_log_var` must have the same shape; got {m.shape} and {s.shape}. "
                         "Pass both outputs of vae.posterior(images).")
    return _elbo.kl_diag_gaussian_standard(m[..., None], s[..., None]).mean(axis=0)  # each dimension on its own


def sampled_z(z_mean, z_log_var, seed=0):
    """One reparameterised sample from each posterior: ``z_mean + exp(z_log_var / 2) * eps``.

    Parameters
    ----------
    z_mean, z_log_var : array_like of float, shape (n, latent_dim)
        The posterior q(z|x) = N(z_mean, diag(exp(z_log_var))), e.g. from
        :meth:`vaeface_utils.model.VAE.posterior`.
    seed : int or numpy.random.Generator, default 0
        The noise ``eps ~ N(0, I)`` comes from ``numpy.random.default_rng(seed)``.

    Returns
    -------
    ndarray of float64, shape (n, latent_dim)

    Raises
    ------
    ValueError
        If the two arrays differ in shape or are not 2-D.

    Examples
    --------
    >>> z = sampled_z([[0.0, 1.0]], [[-50.0, -50.0]])  # a tiny variance: the mean, almost exactly
    >>> z.shape, bool(np.allclose(z, [[0.0, 1.0]]))
    ((1, 2), True)
    """
    z_mean = np.asarray(z_mean, dtype=np.float64)
    z_log_var = np.asarray(z_log_var, dtype=np.float64)
    if z_mean.ndim != 2 or z_mean.shape != z_log_var.shape:
        raise ValueError(f"`z_mean` and `z_log_var` must be 2-D arrays of one shape (n, latent_dim); got "
                         f"{z_mean.shape} and {z_log_var.shape}. Pass the two outputs of vae.posterior(images).")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal(z_mean.shape)
