"""Repairing covered faces: fill the hidden pixels from what the rest of the face shows.

Three ways, each a model of faces asked the same question, "what is under the
square?", with the visible pixels kept as they are:

- :func:`repair_with_mean_face` fills the hole with the mean training face;
- :func:`repair_with_ppca` fills it with probabilistic PCA's conditional
  mean: the posterior of the code given the *visible* pixels only, in closed
  form (Tipping & Bishop 1999), decoded;
- :func:`repair_with_vae` finds a code ``z`` that makes the VAE's decoder fit
  the visible pixels, ``max_z log p(x_visible | z) + log p(z)``, by gradient
  steps from the encoder's guess, and decodes it.

PPCA's answer is the conditional *mean* of the hidden pixels, the best guess
in squared error under its model; the VAE's is the decoder's mean at the single
most probable code, not an average over the codes that fit. Scoring by the
squared error inside the hole (:func:`hole_rmse`) therefore suits PPCA's
answer a little better.

:func:`hole_rmse` scores a repair inside the hole only, where the methods
differ. :func:`hidden_squares` makes the masks, at the places
:func:`vaeface_utils.perturbations.occlude` covers.
"""

from __future__ import annotations

import numpy as np

from ._optimizer import prepare_optimizer
from ._validate import int_in
from .perturbations import occlude

__all__ = ["hidden_squares", "repair_with_mean_face", "repair_with_ppca", "repair_with_vae", "hole_rmse"]


def _images(x, name="x"):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 4 or x.shape[-1] != 1:
        raise ValueError(f"`{name}` must be images of shape (n, H, W, 1); got shape {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"`{name}` holds NaN or infinite values.")
    return x


def _mask(hidden, x):
    hidden = np.asarray(hidden)
    if hidden.dtype != bool or hidden.shape != x.shape:
        raise ValueError(f"`hidden` must be a boolean array of the images' shape {x.shape} (True where a pixel is "
                         f"covered); got dtype {hidden.dtype} and shape {hidden.shape}. Make it with hidden_squares.")
    return hidden


def hidden_squares(images, size, *, seed=0):
    """Boolean masks, True on a ``size`` x ``size`` square of each image (where :func:`occlude` puts it).

    Parameters
    ----------
    images : array_like of float, shape (n, H, W, 1)
    size : int
        Side of the square, ``1 <= size <= min(H, W)``.
    seed : int, default 0
        The same seed as :func:`vaeface_utils.perturbations.occlude` covers the same places.

    Returns
    -------
    ndarray of bool, the shape of ``images``

    Examples
    --------
    >>> int(hidden_squares(np.zeros((2, 8, 8, 1)), 3).sum())
    18
    """
    x = _images(images, "images")
    if not isinstance(size, (int, np.integer)) or not 1 <= size <= min(x.shape[1:3]):
        raise ValueError(f"`size` must be an int from 1 to {min(x.shape[1:3])}; got {size!r}.")
    return occlude(np.ones_like(x), int(size), value=0.0, seed=seed) == 0.0


def repair_with_mean_face(x, hidden, mean_face):
    """The hidden pixels replaced by the mean face's; the visible ones kept.

    Parameters
    ----------
    x : array_like of float, shape (n, H, W, 1)
        The faces (every pixel finite); their hidden pixels are replaced.
    hidden : ndarray of bool, the shape of ``x``
    mean_face : array_like of float, shape (H, W, 1)

    Returns
    -------
    ndarray of float64, the shape of ``x``
    """
    x = _images(x)
    hidden = _mask(hidden, x)
    mean_face = np.asarray(mean_face, dtype=np.float64)
    if mean_face.shape != x.shape[1:]:
        raise ValueError(f"`mean_face` must have the shape of one face, {x.shape[1:]}; got {mean_face.shape}. "
                         "Use x_train.mean(axis=0).")
    return np.where(hidden, np.broadcast_to(mean_face, x.shape), x)


def repair_with_ppca(x, hidden, params):
    r"""PPCA's conditional mean of the hidden pixels given the visible ones.

    With ``x = mean + W c + noise``, ``c ~ N(0, I)`` and noise ``N(0, sigma2 I)``,
    the visible pixels ``v`` give the posterior mean
    ``c = (W_v^T W_v + sigma2 I)^{-1} W_v^T (x_v - mean_v)``, and the hidden pixels
    are filled with ``mean_h + W_h c``: exact inference, one small linear system
    per face.

    Parameters
    ----------
    x : array_like of float, shape (n, H, W, 1)
    hidden : ndarray of bool, the shape of ``x``
    params : PPCAParams
        From :func:`vaeface_utils.ppca.ppca_fit` on flattened training faces.

    Returns
    -------
    ndarray of float64, the shape of ``x``
    """
    x = _images(x)
    hidden = _mask(hidden, x)
    mean, w, sigma2 = (np.asarray(params.mean, dtype=np.float64), np.asarray(params.W, dtype=np.float64),
                       float(params.sigma2))
    flat, flat_hidden = x.reshape(len(x), -1), hidden.reshape(len(x), -1)
    if mean.shape != (flat.shape[1],):
        raise ValueError(f"PPCA was fitted on {mean.shape[0]} pixels, the images have {flat.shape[1]}.")
    repaired = flat.copy()
    for i in range(len(flat)):
        visible = ~flat_hidden[i]
        w_v = w[visible]
        code = np.linalg.solve(w_v.T @ w_v + sigma2 * np.eye(w.shape[1]), w_v.T @ (flat[i, visible] - mean[visible]))
        repaired[i, ~visible] = mean[~visible] + w[~visible] @ code
    return repaired.reshape(x.shape)


def repair_with_vae(vae, x, hidden, *, steps=100, learning_rate=0.05):
    r"""Fit a code to the visible pixels under the VAE, decode it, fill the hole.

    Starts from the encoder's posterior mean for the covered face (``steps=0``
    stops there: the encoder's own guess), then takes ``steps`` Adam steps on
    ``z`` to maximise ``log p(x_visible | z) + log p(z)``, the decoder's
    Gaussian log-likelihood summed over the visible pixels only plus the
    standard normal prior. The hole gets the decoder's mean.

    Parameters
    ----------
    vae : vaeface_utils.model.VAE
        A trained VAE with a Gaussian decoder.
    x : array_like of float, shape (n, H, W, 1)
        The faces; their hidden pixels are set to 0 (black) before encoding,
        as :func:`~vaeface_utils.perturbations.occlude` covers them.
    hidden : ndarray of bool, the shape of ``x``
    steps : int, default 100
    learning_rate : float, default 0.05
        Adam's step size, > 0. The optimisation is deterministic.

    Returns
    -------
    ndarray of float64, the shape of ``x``

    Raises
    ------
    ValueError
        A decoder that is not Gaussian, or bad images, mask or steps.
    """
    import keras
    import tensorflow as tf

    x = _images(x)
    hidden = _mask(hidden, x)
    if getattr(vae, "likelihood", None) != "gaussian":
        raise ValueError("repair_with_vae needs a VAE with likelihood='gaussian' (the course model); got "
                         f"{getattr(vae, 'likelihood', type(vae).__name__)!r}.")
    int_in(steps, "steps", 0, None, "")
    if not (isinstance(learning_rate, (int, float)) and np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"`learning_rate` must be a number > 0; got {learning_rate!r}.")
    covered = np.where(hidden, 0.0, x).astype("float32")
    z_mean, _ = vae.posterior(covered)
    z = tf.Variable(np.asarray(z_mean, dtype="float32"))
    visible = tf.constant((~hidden).astype("float32"))
    target = tf.constant(covered)
    log_var = tf.cast(vae._x_log_var(), "float32")
    optimizer = prepare_optimizer(keras.optimizers.Adam(learning_rate=learning_rate), [z])  # nothing outlives the call

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            mean = tf.sigmoid(tf.cast(vae.decoder(z, training=False), "float32"))
            nll = 0.5 * tf.reduce_sum(visible * (tf.square(target - mean) * tf.exp(-log_var) + log_var), axis=[1, 2, 3])
            loss = tf.reduce_sum(nll + 0.5 * tf.reduce_sum(tf.square(z), axis=1))
        optimizer.apply([tape.gradient(loss, z)], [z])

    for _ in range(int(steps)):
        step()
    filled = np.asarray(vae.decode(z.numpy()), dtype=np.float64)
    return np.where(hidden, filled, x)


def hole_rmse(repaired, x, hidden):
    """Root mean squared error of each repaired face inside its hole, on the [0, 1] grey scale.

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    x = _images(x)
    repaired = _images(repaired, "repaired")
    hidden = _mask(hidden, x)
    if repaired.shape != x.shape:
        raise ValueError(f"`repaired` has shape {repaired.shape}, the faces {x.shape}.")
    counts = hidden.sum(axis=(1, 2, 3))
    if np.any(counts == 0):
        raise ValueError("A face has no hidden pixel, so there is nothing to score.")
    return np.sqrt((np.square(repaired - x) * hidden).sum(axis=(1, 2, 3)) / counts)
