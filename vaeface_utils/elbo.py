"""The ELBO and its parts, in NumPy float64: KL terms, log-likelihoods, the ELBO and the IWAE bound.

These are the reference formulas of the course. They are written for checking,
not for training: everything is float64, batched over the first axis, and
numerically stable (log-sum-exp, softplus), and nothing here imports
TensorFlow. The model's own Keras loss is tested against these functions, and
its NumPy helpers (:mod:`vaeface_utils.inference`) call them.

Conventions
-----------
* Axis 0 is the batch: ``x`` has shape ``(n, ...)`` and a per-example result has
  shape ``(n,)``. Latent codes have shape ``(n, latent_dim)``; the Gaussian
  helpers sum over the last axis only, so they also accept a leading sample
  axis, ``(n_importance, n, latent_dim)``.
* Log-likelihoods are **summed** over pixels (and latent dimensions): they are
  in nats per example, the unit in which ``log p(x) >= ELBO`` holds.
* All logarithms are natural; :func:`vaeface_utils.units.nats_to_bits_per_dim`
  converts.

The one model in which ``log p(x)``, the posterior and the ELBO of any Gaussian
``q`` are exact, probabilistic PCA, is in :mod:`vaeface_utils.ppca`.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
from scipy.special import logsumexp

from ._validate import array as _array
from ._validate import broadcast as _broadcast
from ._validate import same_shape as _same_shape
from ._validate import sum_non_batch as _sum_non_batch

__all__ = [
    "kl_diag_gaussian_standard",
    "kl_diag_gaussians",
    "log_normal_diag",
    "bernoulli_log_likelihood",
    "gaussian_log_likelihood",
    "elbo",
    "elbo_from_samples",
    "iwae_bound",
]

_LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------- Gaussians and KL


def kl_diag_gaussian_standard(z_mean, z_log_var):
    r"""KL divergence from a diagonal Gaussian to the standard normal prior, in nats.

    .. math::

        \mathrm{KL}\big(\mathcal N(\mu, \mathrm{diag}\,\sigma^2) \,\|\, \mathcal N(0, I)\big)
        = \tfrac12 \sum_j \big(\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2\big)

    Parameters
    ----------
    z_mean : array_like, shape (..., latent_dim), float
        The encoder's means.
    z_log_var : array_like, shape (..., latent_dim), float
        The encoder's log-variances (``log sigma**2``), same shape as ``z_mean``.

    Returns
    -------
    kl : ndarray, shape (...), float64
        Summed over the last axis: shape ``(n,)`` for inputs of shape
        ``(n, latent_dim)``. Always >= 0.

    Raises
    ------
    ValueError
        If the shapes differ, an input is a scalar, or a value is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> kl_diag_gaussian_standard(np.zeros((2, 3)), np.zeros((2, 3)))
    array([0., 0.])
    >>> float(kl_diag_gaussian_standard([[1.0]], [[0.0]])[0])  # a unit shift costs 1/2 nat
    0.5
    """
    z_mean = _array(z_mean, "z_mean", min_ndim=1, allow=" (..., latent_dim)")
    z_log_var = _array(z_log_var, "z_log_var", min_ndim=1, allow=" (..., latent_dim)")
    _same_shape(z_mean, z_log_var, "z_mean", "z_log_var")
    return 0.5 * np.sum(np.exp(z_log_var) + z_mean**2 - 1.0 - z_log_var, axis=-1)


def kl_diag_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    r"""KL(q || p) between two diagonal Gaussians, summed over the last axis, in nats.

    .. math::

        \mathrm{KL}(q \,\|\, p) = \tfrac12 \sum_j \Big(\log\frac{\sigma_{p,j}^2}{\sigma_{q,j}^2}
        + \frac{\sigma_{q,j}^2 + (\mu_{q,j} - \mu_{p,j})^2}{\sigma_{p,j}^2} - 1\Big)

    Parameters
    ----------
    mean_q, log_var_q : array_like, shape (..., latent_dim), float
        Mean and log-variance of ``q`` (the first argument of the KL).
    mean_p, log_var_p : array_like, broadcastable to the same shape, float
        Mean and log-variance of ``p``; e.g. shape ``(latent_dim,)`` for one prior
        shared by all examples.

    Returns
    -------
    kl : ndarray, shape (...), float64
        Summed over the last axis of the broadcast shape. Always >= 0; not
        symmetric in ``q`` and ``p``.

    Raises
    ------
    ValueError
        If the shapes do not broadcast, an input is a scalar, or a value is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> kl_diag_gaussians(np.zeros((1, 2)), np.zeros((1, 2)), 0.0 * np.ones(2), np.zeros(2))
    array([0.])
    >>> round(float(kl_diag_gaussians([[0.0]], [[0.0]], [0.0], [np.log(4.0)])[0]), 6)
    0.318147
    """
    names = ("mean_q", "log_var_q", "mean_p", "log_var_p")
    arrays = [_array(a, n, min_ndim=1, allow=" (..., latent_dim)")
              for a, n in zip((mean_q, log_var_q, mean_p, log_var_p), names)]
    _broadcast(arrays, names)
    mean_q, log_var_q, mean_p, log_var_p = arrays
    ratio = np.exp(log_var_q - log_var_p)  # sigma_q^2 / sigma_p^2, without overflow in each
    terms = log_var_p - log_var_q + ratio + (mean_q - mean_p) ** 2 * np.exp(-log_var_p) - 1.0
    return 0.5 * np.sum(terms, axis=-1)


def log_normal_diag(z, mean, log_var):
    r"""Log density of a diagonal Gaussian, summed over the last axis, in nats.

    .. math::

        \log \mathcal N(z; \mu, \mathrm{diag}\,\sigma^2)
        = -\tfrac12 \sum_j \Big(\log 2\pi + \log\sigma_j^2 + \frac{(z_j - \mu_j)^2}{\sigma_j^2}\Big)

    Parameters
    ----------
    z : array_like, shape (..., latent_dim), float
        Points, e.g. ``(n, latent_dim)`` or ``(n_importance, n, latent_dim)``.
    mean, log_var : array_like, broadcastable against ``z``, float
        Use ``0.0`` for both to get the standard normal prior ``log p(z)``.

    Returns
    -------
    log_density : ndarray, shape (...), float64
        Summed over the last axis of the broadcast shape.

    Raises
    ------
    ValueError
        If the shapes do not broadcast, ``z`` is a scalar, or a value is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(log_normal_diag(np.zeros((1, 1)), 0.0, 0.0)[0]), 6)  # -log(2 pi) / 2
    -0.918939
    """
    z = _array(z, "z", min_ndim=1, allow=" (..., latent_dim)")
    mean = _array(mean, "mean")
    log_var = _array(log_var, "log_var")
    _broadcast((z, mean, log_var), ("z", "mean", "log_var"))
    return -0.5 * np.sum(_LOG_2PI + log_var + (z - mean) ** 2 * np.exp(-log_var), axis=-1)


# --------------------------------------------------------------------------- decoder likelihoods


def bernoulli_log_likelihood(x, logits):
    r"""Bernoulli log-likelihood of images given the decoder's logits, summed over pixels.

    For each pixel, ``x log sigmoid(l) + (1 - x) log(1 - sigmoid(l))``, written
    stably as ``x l - softplus(l)``; summed over every axis but the first. It is
    minus the binary cross-entropy on logits (Keras
    ``binary_crossentropy(x, logits, from_logits=True)``) **summed**, not averaged,
    over pixels: ``-D * mean_bce`` for ``D`` pixels.

    For grey values ``x`` strictly between 0 and 1 the same expression is still
    what the cross-entropy loss computes, but it is no longer the log of a
    normalised density over ``[0, 1]`` (that would need the continuous
    Bernoulli's normalising constant).

    Parameters
    ----------
    x : array_like, shape (n, ...), float in [0, 1]
        Images, e.g. ``(n, H, W, 1)``; usually binary.
    logits : array_like, same shape as ``x``, float
        Decoder outputs before the sigmoid.

    Returns
    -------
    log_px_given_z : ndarray, shape (n,), float64
        In nats per image; <= 0.

    Raises
    ------
    ValueError
        If the shapes differ, ``x`` is a scalar, ``x`` leaves [0, 1], or a value
        is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 0.0]])
    >>> round(float(bernoulli_log_likelihood(x, np.zeros((1, 2)))[0]), 6)  # 2 log(1/2)
    -1.386294
    >>> abs(float(bernoulli_log_likelihood(x, np.array([[800.0, -800.0]]))[0]))  # no overflow
    0.0
    """
    x = _array(x, "x", min_ndim=1, allow=" (n, ...)")
    logits = _array(logits, "logits", min_ndim=1, allow=" (n, ...)")
    _same_shape(x, logits, "x", "logits")
    if np.any((x < 0.0) | (x > 1.0)):
        raise ValueError(
            f"`x` must lie in [0, 1] for a Bernoulli likelihood; got values in "
            f"[{x.min():.4g}, {x.max():.4g}]. Scale 8-bit images with x / 255."
        )
    return _sum_non_batch(x * logits - np.logaddexp(0.0, logits))


def gaussian_log_likelihood(x, mean, log_var=0.0):
    r"""Gaussian log-likelihood of images given the decoder's means, summed over pixels.

    .. math::

        \log \mathcal N(x; \hat x, \sigma^2 I) = -\frac{\lVert x - \hat x\rVert^2}{2\sigma^2}
        - \frac D2 \log(2\pi\sigma^2)
        = -\frac{D \cdot \mathrm{MSE}}{2\sigma^2} - \frac D2 \log(2\pi\sigma^2)

    So the mean squared error is a Gaussian log-likelihood only after it is
    multiplied by ``D / (2 sigma^2)`` and shifted by a constant; without a
    variance, the weight of reconstruction against the KL term is arbitrary.

    Parameters
    ----------
    x : array_like, shape (n, ...), float
        Images, e.g. ``(n, H, W, 1)``.
    mean : array_like, same shape as ``x``, float
        Decoder means (the reconstruction ``x_hat``).
    log_var : float or array_like broadcastable to ``x``, default 0.0
        Log of the pixel noise variance ``sigma**2``: one value, one per pixel,
        or one per example of shape ``(n, 1, ...)``.

    Returns
    -------
    log_px_given_z : ndarray, shape (n,), float64
        In nats per image.

    Raises
    ------
    ValueError
        If the shapes differ or do not broadcast, ``x`` is a scalar, or a value
        is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((1, 4))
    >>> round(float(gaussian_log_likelihood(x, x, log_var=0.0)[0]), 6)  # -4 log(2 pi) / 2
    -3.675754
    """
    x = _array(x, "x", min_ndim=1, allow=" (n, ...)")
    mean = _array(mean, "mean", min_ndim=1, allow=" (n, ...)")
    _same_shape(x, mean, "x", "mean")
    log_var = _array(log_var, "log_var")
    if _broadcast((x, log_var), ("x", "log_var")) != x.shape:
        raise ValueError(
            f"`log_var` must broadcast to the shape of `x` {x.shape}; got {log_var.shape}. "
            "Use a scalar, one value per pixel, or shape (n, 1, ...) for one per example."
        )
    per_pixel = -0.5 * (_LOG_2PI + log_var + (x - mean) ** 2 * np.exp(-log_var))
    return _sum_non_batch(np.broadcast_to(per_pixel, x.shape))


# --------------------------------------------------------------------------- the bounds


def elbo(log_px_given_z, kl):
    r"""The ELBO per example: reconstruction minus KL, ``log p(x|z) - KL(q(z|x) || p(z))``.

    With ``log_px_given_z`` evaluated at one sample ``z ~ q(z|x)`` this is the
    single-sample estimate used in training; with its expectation under ``q``
    it is the ELBO itself. Training **maximises** it over the decoder's
    parameters (theta) and the encoder's (phi); the loss is ``-elbo``.

    Parameters
    ----------
    log_px_given_z : array_like, shape (n,), float
        Decoder log-likelihood in nats per example (summed over pixels).
    kl : array_like, shape (n,), float
        ``KL(q(z|x) || p(z))`` in nats per example, e.g. from
        :func:`kl_diag_gaussian_standard`.

    Returns
    -------
    elbo : ndarray, shape (n,), float64
        In nats per example; a lower bound on ``log p(x)``.

    Raises
    ------
    ValueError
        If the shapes differ or a value is not finite.

    Examples
    --------
    >>> elbo([-100.0, -80.0], [5.0, 3.0])
    array([-105.,  -83.])
    """
    log_px_given_z = _array(log_px_given_z, "log_px_given_z")
    kl = _array(kl, "kl")
    _same_shape(log_px_given_z, kl, "log_px_given_z", "kl")
    return log_px_given_z - kl


def elbo_from_samples(log_px_given_z, log_pz, log_qz, *, sample_axis=None):
    r"""The ELBO read as ``E_q[log p(x, z) - log q(z|x)]``, from samples ``z ~ q(z|x)``.

    ``log p(x, z) - log q(z|x) = log p(x|z) + log p(z) - log q(z|x)`` is the
    log importance weight of one sample; its average over samples estimates
    the ELBO without a closed-form KL.

    Parameters
    ----------
    log_px_given_z, log_pz, log_qz : array_like, same shape, float
        For each sample ``z``: the decoder log-likelihood ``log p(x|z)``, the
        prior log density ``log p(z)`` and the encoder log density
        ``log q(z|x)``, in nats. Shape ``(n,)`` for one sample per example or
        ``(n_importance, n)`` with ``sample_axis=0``.
    sample_axis : int or None, default None
        The axis that holds samples of ``z``; the estimate is averaged over it.
        None: no averaging (one sample per entry).

    Returns
    -------
    elbo : ndarray, float64
        Shape of the inputs without ``sample_axis``.

    Raises
    ------
    ValueError
        If the shapes differ, ``sample_axis`` is not an axis of the inputs, or
        a value is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> elbo_from_samples(np.array([-10.0]), np.array([-1.0]), np.array([-2.0]))
    array([-9.])
    >>> elbo_from_samples(np.array([[-10.0], [-12.0]]), np.zeros((2, 1)), np.zeros((2, 1)), sample_axis=0)
    array([-11.])
    """
    arrays = [_array(a, n) for a, n in zip((log_px_given_z, log_pz, log_qz), ("log_px_given_z", "log_pz", "log_qz"))]
    _same_shape(arrays[0], arrays[1], "log_px_given_z", "log_pz")
    _same_shape(arrays[0], arrays[2], "log_px_given_z", "log_qz")
    log_weights = arrays[0] + arrays[1] - arrays[2]
    if sample_axis is None:
        return log_weights
    if isinstance(sample_axis, bool) or not isinstance(sample_axis, Integral) or not (
        -log_weights.ndim <= sample_axis < log_weights.ndim
    ):
        raise ValueError(
            f"`sample_axis` must be None or an axis of the inputs (shape {log_weights.shape}); "
            f"got {sample_axis!r}. Use 0 for inputs of shape (n_importance, n)."
        )
    return log_weights.mean(axis=sample_axis)


def iwae_bound(log_weights):
    r"""The importance-weighted bound ``L_K`` per example, from ``K`` log-weights each.

    .. math::

        L_K = \log \frac1K \sum_{k=1}^K w_k, \qquad
        \log w_k = \log p(x, z_k) - \log q(z_k | x), \quad z_k \sim q(z|x),

    computed as ``logsumexp(log_w, axis=0) - log K``, which neither overflows nor
    underflows. In expectation ``ELBO = L_1 <= L_K <= L_{K+1} <= log p(x)``.

    Parameters
    ----------
    log_weights : array_like, shape (n_importance, n), float
        ``n_importance = K >= 1`` log importance weights for each of ``n`` examples.

    Returns
    -------
    bound : ndarray, shape (n,), float64
        The single-draw estimate of ``L_K`` for each example, in nats.

    Raises
    ------
    ValueError
        If ``log_weights`` is not 2-D, has no samples (``K = 0``), or holds a
        value that is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> iwae_bound(np.array([[-1000.0], [-1000.0]]))  # naive log(mean(exp)) gives -inf here
    array([-1000.])
    >>> iwae_bound(np.array([[-3.0, -5.0]]))  # K = 1 is the ELBO estimate itself
    array([-3., -5.])
    """
    log_weights = _array(
        log_weights, "log_weights", ndim=2,
        allow=" (n_importance, n); for one example use log_w[:, None], for K = 1 use log_w[None, :]",
    )
    n_importance = log_weights.shape[0]
    if n_importance < 1:
        raise ValueError(
            f"`log_weights` must hold n_importance >= 1 samples along axis 0; got shape {log_weights.shape}. "
            "Draw at least one z per example (K = 1 gives the ELBO)."
        )
    return logsumexp(log_weights, axis=0) - math.log(n_importance)
