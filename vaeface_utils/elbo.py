"""The ELBO and its parts, in NumPy float64: KL terms, log-likelihoods, the IWAE bound, bits/dim, PPCA.

These are the reference formulas of the course. They are written for checking,
not for training: everything is float64, batched over the first axis, and
numerically stable (log-sum-exp, softplus), and nothing here imports
TensorFlow. The model's own Keras loss is tested against these functions.

Conventions
-----------
* Axis 0 is the batch: ``x`` has shape ``(n, ...)`` and a per-example result has
  shape ``(n,)``. Latent codes have shape ``(n, latent_dim)``; the Gaussian
  helpers sum over the last axis only, so they also accept a leading sample
  axis, ``(n_importance, n, latent_dim)``.
* Log-likelihoods are **summed** over pixels (and latent dimensions): they are
  in nats per example, the unit in which ``log p(x) >= ELBO`` holds.
* All logarithms are natural; :func:`nats_to_bits_per_dim` converts.

The linear-Gaussian latent model (probabilistic PCA, Tipping & Bishop 1999),

    z ~ N(0, I_q),    x | z ~ N(W z + mean, sigma2 I_D),

is the one model in which ``log p(x)``, the posterior ``p(z | x)`` and the ELBO
of any Gaussian ``q`` are exact, so every claim about the ELBO can be checked
on it: see :func:`ppca_fit`, :func:`ppca_log_likelihood`,
:func:`ppca_posterior`, :func:`ppca_elbo`, :func:`ppca_log_joint` and
:func:`ppca_sample`.
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp

__all__ = [
    "kl_diag_gaussian_standard",
    "kl_diag_gaussians",
    "log_normal_diag",
    "bernoulli_log_likelihood",
    "gaussian_log_likelihood",
    "elbo",
    "elbo_from_samples",
    "iwae_bound",
    "nats_to_bits_per_dim",
    "bits_per_dim_to_nats",
    "discretization_correction_nats",
    "PPCAParams",
    "ppca_fit",
    "ppca_select",
    "PPCASelection",
    "ppca_log_likelihood",
    "ppca_posterior",
    "ppca_elbo",
    "ppca_log_joint",
    "ppca_sample",
]

_LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------- argument checks


def _array(value, name, *, min_ndim=0, ndim=None, allow=""):
    """``value`` as a finite float64 array, or an error that names ``name``."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"`{name}` must be a number or an array of numbers; got {type(value).__name__}. "
            "Pass a NumPy array (convert tensors with np.asarray(tensor))."
        ) from None
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"`{name}` must have {ndim} dimension(s){allow}; got shape {array.shape}.")
    if array.ndim < min_ndim:
        raise ValueError(
            f"`{name}` must have at least {min_ndim} dimension(s){allow}; got shape {array.shape}. "
            "Add the missing axis, e.g. x[None] for a single example."
        )
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(
            f"`{name}` must be finite; got {bad} NaN or infinite value(s) among {array.size}. "
            "Look for an overflow upstream (exp of a large log-variance, log of 0)."
        )
    return array


def _same_shape(a, b, name_a, name_b):
    if a.shape != b.shape:
        raise ValueError(
            f"`{name_a}` and `{name_b}` must have the same shape; got {a.shape} and {b.shape}. "
            "They describe the same variables, one value each."
        )


def _broadcast(arrays, names):
    try:
        return np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        shapes = ", ".join(f"`{n}` {a.shape}" for n, a in zip(names, arrays))
        raise ValueError(
            f"{shapes} must broadcast against each other (NumPy rules); they do not. "
            "Give them the same shape, or size 1 where a value is shared."
        ) from None


def _positive_int(value, name, *, fix):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"`{name}` must be an int >= 1; got {value!r}. {fix}")
    return int(value)


def _sum_non_batch(values):
    return values.reshape(values.shape[0], -1).sum(axis=1) if values.ndim > 1 else values


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


# --------------------------------------------------------------------------- units


def _n_dims(n_dims):
    return _positive_int(n_dims, "n_dims", fix="Pass the number of pixels per image, e.g. 64 * 64 * 1.")


def nats_to_bits_per_dim(nats, n_dims):
    r"""Convert nats per example to bits per dimension: ``nats / (n_dims * ln 2)``.

    Bits per dimension are usually reported for the negative log-likelihood
    (or negative ELBO), so pass ``-log_px`` to get the familiar positive number;
    the sign is kept as given.

    Parameters
    ----------
    nats : float or array_like, float
        An amount in nats per example.
    n_dims : int >= 1
        Dimensions per example, e.g. pixels per image ``H * W * channels``.

    Returns
    -------
    bits_per_dim : float64 or ndarray
        Same shape as ``nats``.

    Raises
    ------
    ValueError
        If ``n_dims`` is not an int >= 1 or ``nats`` is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(nats_to_bits_per_dim(4096 * np.log(2.0), 4096)), 6)
    1.0
    """
    nats = _array(nats, "nats")
    return nats / (_n_dims(n_dims) * math.log(2.0))


def bits_per_dim_to_nats(bpd, n_dims):
    r"""Convert bits per dimension to nats per example: ``bpd * n_dims * ln 2``.

    The inverse of :func:`nats_to_bits_per_dim`.

    Parameters
    ----------
    bpd : float or array_like, float
        Bits per dimension.
    n_dims : int >= 1
        Dimensions per example.

    Returns
    -------
    nats : float64 or ndarray
        Same shape as ``bpd``.

    Raises
    ------
    ValueError
        If ``n_dims`` is not an int >= 1 or ``bpd`` is not finite.

    Examples
    --------
    >>> round(float(bits_per_dim_to_nats(8.0, 1)), 6)  # 8 bits = log(256) nats
    5.545177
    """
    bpd = _array(bpd, "bpd")
    return bpd * (_n_dims(n_dims) * math.log(2.0))


def discretization_correction_nats(n_dims, n_levels=256):
    r"""``n_dims * log(n_levels)``: the nats between a density on [0, 1] and one per grey level.

    A continuous model of 8-bit images scaled to [0, 1] assigns a *density*
    ``p(y)`` to ``y = (x_int + u) / 256`` (``x_int`` in ``{0, ..., 255}^D``,
    uniform dequantisation noise ``u`` in ``[0, 1)^D``). The probability it
    gives the discrete image is the integral of ``p`` over that image's bin,
    a cube of side ``1/256``:

    .. math::

        \log P(x_{\mathrm{int}}) = \log \int_{\mathrm{bin}} p(y)\,dy
        = \log \mathbb E_u\big[p(y)\big] - D \log 256
        \;\ge\; \mathbb E_u\big[\log p(y)\big] - D \log 256 ,

    with equality when ``p`` is constant on each bin (approximately, when it
    varies little within ``1/256``). So to report a discrete log-likelihood
    (or bits per dimension comparable with other papers, which use the 0-255
    scale), **subtract** this correction from the [0, 1]-scale log density:
    ``log p_discrete ~= log p_[0,1] - D log 256``; in bits per dimension, **add**
    ``log2(256) = 8``. A log density on [0, 1] can be positive and its bits per
    dimension negative; after the correction neither can happen.

    Parameters
    ----------
    n_dims : int >= 1
        Dimensions per example ``D`` (pixels times channels).
    n_levels : int >= 2, default 256
        Grey levels per dimension (256 for 8-bit data).

    Returns
    -------
    float
        ``n_dims * log(n_levels)`` in nats per example.

    Raises
    ------
    ValueError
        If ``n_dims`` is not an int >= 1 or ``n_levels`` not an int >= 2.

    Examples
    --------
    >>> round(discretization_correction_nats(1), 6)  # log 256 nats = 8 bits
    5.545177
    """
    n_dims = _n_dims(n_dims)
    if isinstance(n_levels, bool) or not isinstance(n_levels, Integral) or n_levels < 2:
        raise ValueError(f"`n_levels` must be an int >= 2; got {n_levels!r}. Use 256 for 8-bit images.")
    return n_dims * math.log(int(n_levels))


# --------------------------------------------------------------------------- PPCA


class PPCAParams(NamedTuple):
    """Parameters of the linear-Gaussian model ``x = W z + mean + noise``.

    Attributes
    ----------
    mean : ndarray, shape (D,), float64
    W : ndarray, shape (D, latent_dim), float64
        The loading matrix (a linear decoder).
    sigma2 : float
        Pixel noise variance, > 0.
    """

    mean: np.ndarray
    W: np.ndarray
    sigma2: float


def _params(params):
    if not isinstance(params, tuple) or len(params) != 3:
        raise TypeError(
            f"`params` must be PPCAParams(mean, W, sigma2) (or a 3-tuple); got {type(params).__name__}. "
            "Build it with ppca_fit(x, latent_dim) or PPCAParams(mean, W, sigma2)."
        )
    mean = _array(params[0], "params.mean", ndim=1, allow=" (D,)")
    W = _array(params[1], "params.W", ndim=2, allow=" (D, latent_dim)")
    sigma2 = _array(params[2], "params.sigma2", ndim=0, allow=" (a scalar)")
    if W.shape[0] != mean.shape[0]:
        raise ValueError(
            f"`params.W` must have one row per dimension of `params.mean` ({mean.shape[0]}); got shape {W.shape}."
        )
    if not sigma2 > 0:
        raise ValueError(f"`params.sigma2` must be > 0; got {float(sigma2)!r}. It is a noise variance.")
    return PPCAParams(mean, W, float(sigma2))


def _data(x, params, name="x"):
    x = _array(x, name, ndim=2, allow=" (n, D); for one example use x[None]")
    if x.shape[1] != params.mean.shape[0]:
        raise ValueError(
            f"`{name}` must have D = {params.mean.shape[0]} columns to match `params`; got shape {x.shape}."
        )
    return x


def _ppca_core(params):
    """M = W^T W + sigma2 I (latent_dim x latent_dim) and its Cholesky factor."""
    M = params.W.T @ params.W + params.sigma2 * np.eye(params.W.shape[1])
    return M, np.linalg.cholesky(M)


def ppca_fit(x, latent_dim, sigma2=None):
    r"""Fit probabilistic PCA by maximum likelihood, in closed form (Tipping & Bishop 1999).

    With ``S`` the sample covariance and ``lambda_1 >= ... >= lambda_D`` its
    eigenvalues with eigenvectors ``U``: ``mean`` is the sample mean,
    ``sigma2 = (lambda_{q+1} + ... + lambda_D) / (D - q)`` and
    ``W = U_q (Lambda_q - sigma2 I)^{1/2}``. The eigenvalues come from an SVD of
    the centred data, so ``D = 4096`` pixels with ``n = 200`` images costs one
    ``200 x 4096`` SVD, never a ``4096 x 4096`` matrix. The columns of ``W`` are
    orthogonal, so the posterior covariance is diagonal.

    Parameters
    ----------
    x : array_like, shape (n, D), float
        Training data, one example per row (flatten images first).
    latent_dim : int
        ``1 <= latent_dim < min(n, D)``.
    sigma2 : float, optional
        A noise variance to use instead of the maximum-likelihood one; ``W``
        is then the maximum-likelihood loading matrix for that variance,
        ``U_q (max(Lambda_q - sigma2, 0))^{1/2}``. With fewer examples than
        dimensions the maximum-likelihood ``sigma2`` is biased low (the
        model fits its training data too closely), so choose it on held-out
        data (:func:`ppca_select`).

    Returns
    -------
    PPCAParams
        ``(mean (D,), W (D, latent_dim), sigma2 float)``.

    Raises
    ------
    ValueError
        If ``x`` is not 2-D or not finite, ``latent_dim`` is out of range, or
        the data have no variance left outside ``latent_dim`` directions
        (``sigma2`` would be 0).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(100, 5))
    >>> params = ppca_fit(x, latent_dim=2)
    >>> params.W.shape, params.sigma2 > 0
    ((5, 2), True)
    """
    x = _array(x, "x", ndim=2, allow=" (n, D); flatten images with x.reshape(len(x), -1)")
    n, d = x.shape
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, Integral) or not 1 <= latent_dim < min(n, d):
        raise ValueError(
            f"`latent_dim` must be an int with 1 <= latent_dim < min(n, D) = {min(n, d)}; got {latent_dim!r}. "
            "Use fewer latent dimensions or more examples."
        )
    return _ppca_from_svd(_centred_svd(x), int(latent_dim), sigma2)


def _centred_svd(x):
    """(mean, eigenvalues of the sample covariance, right singular vectors, trace of S, n, D)."""
    n, d = x.shape
    mean = x.mean(axis=0)
    centred = x - mean
    _, s, vt = np.linalg.svd(centred, full_matrices=False, compute_uv=True)
    return mean, s**2 / n, vt, float(np.sum(centred**2) / n), n, d


def _ppca_from_svd(svd, q, sigma2=None):
    mean, eigvals, vt, total, n, d = svd
    if sigma2 is not None:
        try:
            sigma2 = float(sigma2)
        except (TypeError, ValueError):
            raise TypeError(f"`sigma2` must be a positive float or None; got {sigma2!r}.") from None
        if not (sigma2 > 0 and math.isfinite(sigma2)):
            raise ValueError(f"`sigma2` must be a finite noise variance > 0; got {sigma2!r}. "
                             "Leave it None for the maximum-likelihood value.")
        W = vt[:q].T * np.sqrt(np.maximum(eigvals[:q] - sigma2, 0.0))
        return PPCAParams(mean, W, sigma2)
    sigma2 = (total - float(np.sum(eigvals[:q]))) / (d - q)  # trace(S) includes eigenvalues the SVD omits
    if not sigma2 > 1e-12 * max(total, 1e-300):
        raise ValueError(
            f"`x` has (almost) no variance outside its top {q} directions, so sigma2 would be {sigma2:.3g}; "
            f"got data of rank <= {q}. Use a smaller `latent_dim` or add noise to the data."
        )
    scale = np.sqrt(np.maximum(eigvals[:q] - sigma2, 0.0))
    W = vt[:q].T * scale
    return PPCAParams(mean, W, sigma2)


class PPCASelection(NamedTuple):
    """The outcome of :func:`ppca_select`.

    Attributes
    ----------
    params : PPCAParams
        The chosen model, fitted on the training data.
    latent_dim : int
    sigma2 : float
        The chosen noise variance.
    scores : dict
        ``{(latent_dim, sigma2): mean held-out log p(x)}`` for every pair
        tried, with ``sigma2 = None`` standing for the maximum-likelihood value
        (left out where the training data have rank ``<= latent_dim``, so
        that value would be 0).
    ml_sigma2 : dict
        ``{latent_dim: maximum-likelihood sigma2}`` where it exists.
    """

    params: PPCAParams
    latent_dim: int
    sigma2: float
    scores: dict
    ml_sigma2: dict


def ppca_select(x_train, x_val, latent_dims, sigma2s=None):
    """Choose PPCA's latent size and noise variance by the validation data's exact log-likelihood.

    Parameters
    ----------
    x_train, x_val : array_like, shape (n, D)
        The model is fitted on ``x_train``; ``x_val`` only scores it.
    latent_dims : sequence of int
    sigma2s : sequence of float, optional
        Noise variances to try besides the maximum-likelihood one of each
        latent size.

    Returns
    -------
    PPCASelection
        The pair with the highest mean validation log-likelihood; ties go
        to the smaller latent size.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = 3 * rng.normal(size=(400, 2)) @ rng.normal(size=(2, 8)) + 0.3 * rng.normal(size=(400, 8))
    >>> chosen = ppca_select(x[:200], x[200:], latent_dims=[1, 2, 3], sigma2s=[0.01, 0.09, 1.0])
    >>> chosen.latent_dim, chosen.sigma2
    (2, 0.09)
    """
    x_train = _array(x_train, "x_train", ndim=2, allow=" (n, D)")
    x_val = _array(x_val, "x_val", ndim=2, allow=" (n, D)")
    if not len(latent_dims):
        raise ValueError("`latent_dims` must name at least one latent size.")
    scores, fitted, ml_sigma2 = {}, {}, {}
    n, d = x_train.shape
    bad = [q for q in latent_dims if isinstance(q, bool) or not isinstance(q, Integral) or not 1 <= q < min(n, d)]
    if bad:
        raise ValueError(f"`latent_dims` must be ints with 1 <= latent_dim < min(n, D) = {min(n, d)}; got {bad}.")
    svd = _centred_svd(x_train)
    for q in sorted(latent_dims):
        for s2 in [None] + sorted(float(s) for s in (() if sigma2s is None else sigma2s)):
            try:
                params = _ppca_from_svd(svd, int(q), s2)
            except ValueError:
                if s2 is not None:  # a given variance is always valid: a real error
                    raise
                continue  # no maximum-likelihood variance: the data have rank <= q
            fitted[q, s2] = params
            if s2 is None:
                ml_sigma2[q] = params.sigma2
            scores[q, s2] = float(ppca_log_likelihood(x_val, params).mean())
    best = max(scores, key=lambda key: scores[key])  # first of equals: the smaller latent size
    return PPCASelection(fitted[best], best[0], fitted[best].sigma2, scores, ml_sigma2)


def ppca_log_likelihood(x, params):
    r"""Exact ``log p(x)`` under the linear-Gaussian model, per example, in nats.

    ``x ~ N(mean, C)`` with ``C = W W^T + sigma2 I``. Never forms ``C``: with
    ``M = W^T W + sigma2 I`` (latent_dim x latent_dim, Cholesky ``L``),
    ``log det C = (D - q) log sigma2 + log det M`` and (Woodbury)
    ``r^T C^{-1} r = (|r|^2 - |L^{-1} W^T r|^2) / sigma2`` for ``r = x - mean``.
    Cost ``O(n D q)``.

    Parameters
    ----------
    x : array_like, shape (n, D), float
    params : PPCAParams

    Returns
    -------
    log_px : ndarray, shape (n,), float64

    Raises
    ------
    ValueError
        If ``x`` is not ``(n, D)`` with ``D`` matching ``params``, or not finite.
    TypeError
        If ``params`` is not a ``PPCAParams`` (or 3-tuple).

    Examples
    --------
    >>> import numpy as np
    >>> params = PPCAParams(np.zeros(2), np.zeros((2, 1)), 1.0)  # x ~ N(0, I_2)
    >>> round(float(ppca_log_likelihood(np.zeros((1, 2)), params)[0]), 6)  # -log(2 pi)
    -1.837877
    """
    params = _params(params)
    x = _data(x, params)
    d, q = params.W.shape
    _, chol = _ppca_core(params)
    r = x - params.mean
    a = np.linalg.solve(chol, params.W.T @ r.T)  # (q, n)
    quad = (np.sum(r**2, axis=1) - np.sum(a**2, axis=0)) / params.sigma2
    log_det = (d - q) * math.log(params.sigma2) + 2.0 * np.sum(np.log(np.diag(chol)))
    return -0.5 * (d * _LOG_2PI + log_det + quad)


def ppca_posterior(x, params):
    r"""The exact posterior ``p(z | x) = N(M^{-1} W^T (x - mean), sigma2 M^{-1})``.

    With ``M = W^T W + sigma2 I``. The covariance does not depend on ``x``.

    Parameters
    ----------
    x : array_like, shape (n, D), float
    params : PPCAParams

    Returns
    -------
    z_mean : ndarray, shape (n, latent_dim), float64
    z_cov : ndarray, shape (latent_dim, latent_dim), float64
        Shared by all examples; diagonal when the columns of ``W`` are
        orthogonal (as from :func:`ppca_fit`), and then
        ``np.log(np.diag(z_cov))`` is the log-variance of the exact posterior.

    Raises
    ------
    ValueError, TypeError
        As :func:`ppca_log_likelihood`.

    Examples
    --------
    >>> import numpy as np
    >>> params = PPCAParams(np.zeros(1), np.ones((1, 1)), 1.0)  # x = z + noise
    >>> z_mean, z_cov = ppca_posterior(np.array([[2.0]]), params)
    >>> round(float(z_mean[0, 0]), 12), round(float(z_cov[0, 0]), 12)
    (1.0, 0.5)
    """
    params = _params(params)
    x = _data(x, params)
    M, chol = _ppca_core(params)
    rhs = params.W.T @ (x - params.mean).T  # (q, n)
    z_mean = np.linalg.solve(chol.T, np.linalg.solve(chol, rhs)).T
    chol_inv = np.linalg.solve(chol, np.eye(len(M)))
    z_cov = params.sigma2 * (chol_inv.T @ chol_inv)
    return z_mean, 0.5 * (z_cov + z_cov.T)


def ppca_log_joint(x, z, params):
    r"""``log p(x, z) = log p(x | z) + log p(z)`` under the linear-Gaussian model.

    Parameters
    ----------
    x : array_like, shape (n, D), float
    z : array_like, shape (..., n, latent_dim), float
        Latent codes, e.g. ``(n_importance, n, latent_dim)`` samples per example.
    params : PPCAParams

    Returns
    -------
    log_joint : ndarray, shape (..., n), float64
        In nats. Subtract ``log q(z|x)`` (:func:`log_normal_diag`) to get log
        importance weights for :func:`iwae_bound`.

    Raises
    ------
    ValueError
        If the shapes do not match ``x`` and ``params`` or a value is not finite.
    TypeError
        If ``params`` is not a ``PPCAParams`` (or 3-tuple).

    Examples
    --------
    >>> import numpy as np
    >>> params = PPCAParams(np.zeros(1), np.ones((1, 1)), 1.0)
    >>> round(float(ppca_log_joint(np.zeros((1, 1)), np.zeros((1, 1)), params)[0]), 6)
    -1.837877
    """
    params = _params(params)
    x = _data(x, params)
    z = _array(z, "z", min_ndim=2, allow=" (..., n, latent_dim)")
    if z.shape[-2:] != (x.shape[0], params.W.shape[1]):
        raise ValueError(
            f"`z` must end in (n, latent_dim) = {(x.shape[0], params.W.shape[1])}; got shape {z.shape}."
        )
    x_mean = z @ params.W.T + params.mean  # (..., n, D)
    log_px_given_z = -0.5 * np.sum(
        _LOG_2PI + math.log(params.sigma2) + (x - x_mean) ** 2 / params.sigma2, axis=-1
    )
    return log_px_given_z + log_normal_diag(z, 0.0, 0.0)


def ppca_elbo(x, params, z_mean, z_log_var):
    r"""The exact ELBO of a diagonal Gaussian ``q(z|x)`` under the linear-Gaussian model.

    No sampling: with ``q = N(m, diag s^2)`` and ``r = x - mean``,

    .. math::

        \mathbb E_q[\log p(x|z)] = -\frac D2 \log(2\pi\sigma^2)
        - \frac{\lVert r - W m\rVert^2 + \sum_j s_j^2 \lVert W_{:,j}\rVert^2}{2\sigma^2},

    minus ``KL(q || N(0, I))`` from :func:`kl_diag_gaussian_standard`. It equals
    :func:`ppca_log_likelihood` exactly when ``q`` is the posterior of
    :func:`ppca_posterior`, and is lower for any other ``q``.

    Parameters
    ----------
    x : array_like, shape (n, D), float
    params : PPCAParams
    z_mean : array_like, shape (n, latent_dim), float
    z_log_var : array_like, shape (n, latent_dim) or (latent_dim,), float

    Returns
    -------
    elbo : ndarray, shape (n,), float64
        In nats per example.

    Raises
    ------
    ValueError
        If the shapes do not match or a value is not finite.
    TypeError
        If ``params`` is not a ``PPCAParams`` (or 3-tuple).

    Examples
    --------
    >>> import numpy as np
    >>> params = PPCAParams(np.zeros(1), np.ones((1, 1)), 1.0)
    >>> x = np.array([[2.0]])
    >>> z_mean, z_cov = ppca_posterior(x, params)
    >>> bool(np.isclose(ppca_elbo(x, params, z_mean, np.log([[z_cov[0, 0]]]))[0], ppca_log_likelihood(x, params)[0]))
    True
    """
    params = _params(params)
    x = _data(x, params)
    n, q = x.shape[0], params.W.shape[1]
    z_mean = _array(z_mean, "z_mean", ndim=2, allow=" (n, latent_dim)")
    if z_mean.shape != (n, q):
        raise ValueError(f"`z_mean` must have shape (n, latent_dim) = {(n, q)}; got {z_mean.shape}.")
    z_log_var = _array(z_log_var, "z_log_var", min_ndim=1, allow=" (n, latent_dim) or (latent_dim,)")
    if z_log_var.shape not in {(n, q), (q,)}:
        raise ValueError(
            f"`z_log_var` must have shape (n, latent_dim) = {(n, q)} or (latent_dim,) = {(q,)}; "
            f"got {z_log_var.shape}."
        )
    z_log_var = np.broadcast_to(z_log_var, (n, q))
    d = x.shape[1]
    residual = x - params.mean - z_mean @ params.W.T
    col_norms = np.sum(params.W**2, axis=0)  # (q,)
    expected_sq = np.sum(residual**2, axis=1) + np.exp(z_log_var) @ col_norms
    log_px_given_z = -0.5 * d * (_LOG_2PI + math.log(params.sigma2)) - 0.5 * expected_sq / params.sigma2
    return log_px_given_z - kl_diag_gaussian_standard(z_mean, z_log_var)


def ppca_sample(params, n, *, rng=None):
    r"""Draw ``n`` examples from the linear-Gaussian model: ``z ~ N(0, I)``, ``x = W z + mean + noise``.

    Parameters
    ----------
    params : PPCAParams
    n : int >= 1
        Number of examples.
    rng : numpy.random.Generator or int or None, default None
        The random generator, or a seed for a new one. None: fresh entropy
        (not reproducible); pass a seed in notebooks.

    Returns
    -------
    x : ndarray, shape (n, D), float64
    z : ndarray, shape (n, latent_dim), float64
        The latent codes that generated ``x``.

    Raises
    ------
    ValueError
        If ``n`` is not an int >= 1.
    TypeError
        If ``params`` is not a ``PPCAParams`` (or 3-tuple).

    Examples
    --------
    >>> import numpy as np
    >>> params = PPCAParams(np.zeros(3), np.ones((3, 1)), 0.1)
    >>> x, z = ppca_sample(params, 4, rng=0)
    >>> x.shape, z.shape
    ((4, 3), (4, 1))
    """
    params = _params(params)
    n = _positive_int(n, "n", fix="Ask for at least one example.")
    rng = np.random.default_rng(rng)
    d, q = params.W.shape
    z = rng.standard_normal((n, q))
    x = z @ params.W.T + params.mean + math.sqrt(params.sigma2) * rng.standard_normal((n, d))
    return x, z
