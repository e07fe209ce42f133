"""The amortisation gap: how much of a VAE's ELBO the encoder loses.

A VAE's encoder maps every image to its approximate posterior q(z|x) in one
pass: it is *amortised* over the data set. For one image we can do better by
optimising that image's posterior directly, starting from the encoder's
answer. The ELBO gained is the **amortisation gap** (Cremer, Li & Duvenaud,
"Inference Suboptimality in Variational Autoencoders", ICML 2018): the part
of ``log p(x) - ELBO`` that a better encoder could remove without changing
the decoder. What is left is the approximation gap of the Gaussian family.

How far the ELBO lies below ``log p(x)`` is bounded from below by the
importance-weighted bound ``L_K`` with more samples: :func:`iwae_estimate`
gives ``L_K`` for every ``K`` from one set of log-weights.
"""

from __future__ import annotations

import contextlib
from typing import NamedTuple

import numpy as np

from . import config
from . import elbo as _elbo
from ._optimizer import prepare_optimizer
from ._validate import int_in

__all__ = ["RefinedPosterior", "decoder_variance_scaled", "iwae_estimate", "posterior_elbo", "posterior_log_weights",
           "refine_posterior"]


class RefinedPosterior(NamedTuple):
    """The outcome of :func:`refine_posterior`; arrays are per image.

    Attributes
    ----------
    z_mean, z_log_var : ndarray, shape (n, latent_dim)
        The optimised posterior of each image.
    encoder_elbo, refined_elbo : ndarray of float64, shape (n,)
        Each image's ELBO under the encoder's q and under the optimised q,
        estimated with the same noise (see :func:`posterior_elbo`).

    The amortisation gap of each image is ``refined_elbo - encoder_elbo``.
    """

    z_mean: np.ndarray
    z_log_var: np.ndarray
    encoder_elbo: np.ndarray
    refined_elbo: np.ndarray

    @property
    def gap(self) -> np.ndarray:
        return self.refined_elbo - self.encoder_elbo


def _check_vae(vae):
    from .model import VAE

    if not isinstance(vae, VAE):
        raise TypeError(f"`vae` must be a vaeface_utils.model.VAE; got {type(vae).__name__}.")


def _posterior_arrays(vae, x, z_mean, z_log_var):
    """Checked ``x`` (float32) and the posterior's ``z_mean``, ``z_log_var`` (float64, (n, latent_dim))."""
    _check_vae(vae)
    x = np.asarray(x, dtype=np.float32)
    m, lv = np.asarray(z_mean, np.float64), np.asarray(z_log_var, np.float64)
    if m.shape != (len(x), vae.latent_dim) or lv.shape != m.shape:
        raise ValueError(f"`z_mean` and `z_log_var` must have shape (n, latent_dim) = {(len(x), vae.latent_dim)}; "
                         f"got {m.shape} and {lv.shape}.")
    return x, m, lv


def posterior_elbo(vae, x, z_mean, z_log_var, *, n_samples=100, seed=0):
    """The ELBO of each image under a given Gaussian posterior, in float64 nats.

    ``E_q[log p(x|z)]`` is averaged over ``n_samples`` draws of ``z`` (the same
    standard normal noise for any posterior given the same ``seed``, so two
    posteriors of one image are compared with common random numbers); the KL
    to the prior is in closed form.

    Parameters
    ----------
    vae : vaeface_utils.model.VAE
    x : ndarray, shape (n, H, W, 1)
    z_mean, z_log_var : ndarray, shape (n, latent_dim)
    n_samples : int, default 100
    seed : int, default 0

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    x, m, lv = _posterior_arrays(vae, x, z_mean, z_log_var)
    eps = np.random.default_rng(seed).standard_normal((n_samples,) + m.shape)
    z = m + np.exp(0.5 * lv) * eps                                             # (S, n, L)
    log_px = vae._log_px_of_codes(x, z).mean(axis=0)
    kl = -0.5 * np.sum(1.0 + lv - m ** 2 - np.exp(lv), axis=1)
    return log_px - kl


def posterior_log_weights(vae, x, z_mean, z_log_var, n_importance, *, seed=0, max_decodes=2048):
    """Log importance weights with a given Gaussian proposal instead of the encoder's.

    Any proposal gives a valid IWAE bound, ``logsumexp(w) - log K <= log p(x)``
    in expectation; a proposal nearer the true posterior gives a tighter one.
    Same conventions as :meth:`vaeface_utils.model.VAE.log_importance_weights`.

    Returns
    -------
    ndarray of float64, shape (K, n)
    """
    x, m, lv = _posterior_arrays(vae, x, z_mean, z_log_var)
    return vae._log_weights_under(x, m, lv, int(n_importance), seed, max_decodes)


def iwae_estimate(log_weights, n_importance):
    r"""The importance-weighted bound ``L_K`` of each example, averaged over disjoint groups of ``K`` log-weights.

    From ``K_max`` log-weights per example, split into ``K_max // K`` groups
    of ``K`` (leftover samples are not used), each group gives one estimate
    of ``L_K`` (:func:`vaeface_utils.elbo.iwae_bound`); their mean is an
    unbiased estimate of ``E[L_K]`` with less noise than one group. ``K = 1``
    gives the mean log-weight (the ELBO estimate), ``K = K_max`` the bound of
    all samples at once.

    Parameters
    ----------
    log_weights : array_like of float, shape (K_max, n)
        E.g. from :meth:`vaeface_utils.model.VAE.log_importance_weights` or
        :func:`posterior_log_weights`.
    n_importance : int
        ``K``, from 1 to ``K_max``.

    Returns
    -------
    ndarray of float64, shape (n,)
        In nats.

    Raises
    ------
    ValueError
        ``log_weights`` not 2-D, empty or not finite; ``n_importance`` not
        an int from 1 to ``K_max``.

    Examples
    --------
    >>> log_w = np.log([[1.0, 2.0], [3.0, 2.0], [2.0, 2.0], [6.0, 2.0]])
    >>> np.exp(iwae_estimate(log_w, 2)).round(6).tolist()  # mean of log(2) and log(4), and log(2)
    [2.828427, 2.0]
    """
    log_w = np.asarray(log_weights, dtype=np.float64)
    if log_w.ndim != 2 or log_w.shape[0] < 1:
        raise ValueError(f"`log_weights` must have shape (K_max, n) with K_max >= 1; got {log_w.shape}. "
                         "Use vae.log_importance_weights(x, K_max).")
    k_max = log_w.shape[0]
    if isinstance(n_importance, bool) or not isinstance(n_importance, (int, np.integer)) \
            or not 1 <= n_importance <= k_max:
        raise ValueError(f"`n_importance` must be an int from 1 to K_max = {k_max}; got {n_importance!r}. "
                         "Use 1 for the ELBO.")
    k = int(n_importance)
    groups = log_w[: (k_max // k) * k].reshape(k_max // k, k, log_w.shape[1])
    return np.mean([_elbo.iwae_bound(group) for group in groups], axis=0)


def refine_posterior(vae, x, *, steps=300, learning_rate=0.02, n_samples=4, seed=0, eval_samples=100):
    """Optimise each image's Gaussian posterior by gradient ascent on its ELBO, from the encoder's answer.

    The decoder is frozen; only the per-image means and log-variances move
    (Adam, ``n_samples`` reparameterised draws per image and step). Both
    posteriors are then scored by :func:`posterior_elbo` with the same noise.

    Parameters
    ----------
    vae : vaeface_utils.model.VAE
    x : ndarray, shape (n, H, W, 1)
    steps : int, default 300
    learning_rate : float, default 0.02
    n_samples : int, default 4
    seed : int, default 0
        Seeds the optimisation's noise and the evaluation's.
    eval_samples : int, default 100

    Returns
    -------
    RefinedPosterior
        If an image's optimised posterior scores lower than the encoder's
        on one set of noise (``seed + 1``), the encoder's is kept for it.
        Both ELBOs are then reported on fresh noise (``seed + 2``), so the
        choice does not bias the reported gap.
    """
    _check_vae(vae)
    int_in(steps, "steps", 0, None, "")
    keras = config.import_keras()
    import tensorflow as tf

    x = np.asarray(x, dtype=np.float32)
    vae._check(x, "x")
    z_mean0, z_log_var0 = vae.posterior(x)
    mean = tf.Variable(z_mean0.astype(np.float32))
    log_var = tf.Variable(z_log_var0.astype(np.float32))
    optimizer = prepare_optimizer(keras.optimizers.Adam(learning_rate), [mean, log_var])  # nothing outlives the call
    generator = tf.random.Generator.from_seed(seed)
    x_tiled = tf.constant(np.concatenate([x] * n_samples))

    @tf.function
    def step():
        eps = generator.normal((n_samples,) + tuple(mean.shape))
        with tf.GradientTape() as tape:
            z = mean[None] + tf.exp(0.5 * log_var)[None] * eps
            output = tf.cast(vae.decoder(tf.reshape(z, (-1, mean.shape[1])), training=False), tf.float32)
            log_px = tf.reduce_mean(tf.reshape(vae._log_px_given_z(x_tiled, output), (n_samples, -1)), axis=0)
            kl = -0.5 * tf.reduce_sum(1.0 + log_var - tf.square(mean) - tf.exp(log_var), axis=1)
            loss = -tf.reduce_sum(log_px - kl)  # images are independent: the sum optimises each
        grads = tape.gradient(loss, [mean, log_var])
        optimizer.apply(grads, [mean, log_var])

    for _ in range(int(steps)):
        step()
    refined_mean, refined_log_var = mean.numpy(), log_var.numpy()
    before = posterior_elbo(vae, x, z_mean0, z_log_var0, n_samples=eval_samples, seed=seed + 1)
    after = posterior_elbo(vae, x, refined_mean, refined_log_var, n_samples=eval_samples, seed=seed + 1)
    worse = after < before
    refined_mean[worse], refined_log_var[worse] = z_mean0[worse], z_log_var0[worse]
    before = posterior_elbo(vae, x, z_mean0, z_log_var0, n_samples=eval_samples, seed=seed + 2)
    after = posterior_elbo(vae, x, refined_mean, refined_log_var, n_samples=eval_samples, seed=seed + 2)
    return RefinedPosterior(refined_mean, refined_log_var, before, after)


@contextlib.contextmanager
def decoder_variance_scaled(vae, factor):
    """Within the block, the Gaussian decoder's pixel variances are multiplied by ``factor``.

    The variance a VAE learns fits its training faces; like PPCA's noise
    variance, it can be chosen on held-out faces instead: score a few
    factors on validation faces, keep the best. The weights are restored on
    leaving the block.

    Raises
    ------
    ValueError
        If the model has no learned Gaussian variance, or ``factor`` is not > 0.
    """
    _check_vae(vae)
    if vae.x_log_var is None:
        raise ValueError("`vae` has no learned decoder variance (a Bernoulli decoder or a fixed variance).")
    if not (isinstance(factor, (int, float, np.floating)) and factor > 0 and np.isfinite(factor)):
        raise ValueError(f"`factor` must be a positive number; got {factor!r}.")
    saved = vae.x_log_var.numpy()
    vae.x_log_var.assign(saved + np.float32(np.log(factor)))
    try:
        yield vae
    finally:
        vae.x_log_var.assign(saved)
