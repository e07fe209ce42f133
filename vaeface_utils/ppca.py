r"""Probabilistic PCA: the one latent-variable model whose likelihood, posterior and ELBO are exact.

The linear-Gaussian latent model (Tipping & Bishop 1999),

    z ~ N(0, I_q),    x | z ~ N(W z + mean, sigma2 I_D),

has a closed-form ``log p(x)``, posterior ``p(z | x)`` and ELBO for any
Gaussian ``q``, so every claim about the ELBO can be checked on it (notebook
01), and it is the baseline density model for the faces (notebooks 03 and 05):
:func:`ppca_fit`, :func:`ppca_select`, :func:`ppca_log_likelihood`,
:func:`ppca_posterior`, :func:`ppca_elbo`, :func:`ppca_log_joint` and
:func:`ppca_sample`. NumPy float64 only.
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import NamedTuple

import numpy as np

from ._validate import array as _array
from ._validate import positive_int as _positive_int
from .elbo import _LOG_2PI, kl_diag_gaussian_standard, log_normal_diag

__all__ = [
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
    scores, ml_sigma2, best, best_params = {}, {}, None, None  # only the best fit is kept: each W is D x q
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
            if s2 is None:
                ml_sigma2[q] = params.sigma2
            scores[q, s2] = float(ppca_log_likelihood(x_val, params).mean())
            if best is None or scores[q, s2] > scores[best]:  # first of equals: the smaller latent size
                best, best_params = (q, s2), params
    return PPCASelection(best_params, best[0], best_params.sigma2, scores, ml_sigma2)


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
        In nats. Subtract ``log q(z|x)`` (:func:`vaeface_utils.elbo.log_normal_diag`) to get log
        importance weights for :func:`vaeface_utils.elbo.iwae_bound`.

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

    minus ``KL(q || N(0, I))`` from :func:`vaeface_utils.elbo.kl_diag_gaussian_standard`. It equals
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
