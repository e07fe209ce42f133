"""The VAE's NumPy helpers: codes, images, ELBOs and importance weights as arrays.

:class:`NumPyInference` is mixed into :class:`vaeface_utils.model.VAE`. Its
methods run the trained encoder and decoder batch by batch in compiled
functions and return NumPy arrays, and compute every density with
:mod:`vaeface_utils.elbo`'s tested formulas (the likelihoods, the KL, the
Gaussian log-density), in float64:

- :meth:`~NumPyInference.posterior` and :meth:`~NumPyInference.encode`: q(z|x);
- :meth:`~NumPyInference.decode`, :meth:`~NumPyInference.reconstruct` and
  :meth:`~NumPyInference.generate`: images;
- :meth:`~NumPyInference.elbo_terms`: each image's one-sample ELBO;
- :meth:`~NumPyInference.log_importance_weights`: what the IWAE bound needs.

Importing this module imports TensorFlow.
"""

from __future__ import annotations

import numpy as np

from . import config
from . import elbo as _elbo
from ._validate import int_in

config.import_keras()
import tensorflow as tf  # noqa: E402

__all__ = ["DECODE_BATCH", "NumPyInference"]

#: The most codes decoded and scored at once by ``log_importance_weights`` and ``amortisation.posterior_elbo``.
DECODE_BATCH = 256


class NumPyInference:
    """NumPy entry points of a trained VAE (mixed into :class:`vaeface_utils.model.VAE`).

    Expects of the class it is mixed into: ``encoder``, ``decoder``,
    ``image_shape``, ``latent_dim``, ``likelihood``, :meth:`pixel_log_var`,
    ``_encode(x, training)``, ``_check(x, name)`` and a ``_numpy_fns`` dict.
    """

    def _fn(self, key):
        """A cached ``tf.function`` running the encoder or decoder (kept out of Keras's attribute tracking)."""
        if key not in self._numpy_fns:
            if key == "encode":
                spec = tf.TensorSpec((None,) + self.image_shape, tf.float32)
                fn = lambda x: self._encode(x, training=False)  # noqa: E731
            else:
                spec = tf.TensorSpec((None, self.latent_dim), tf.float32)
                fn = lambda z: self.decoder(z, training=False)  # noqa: E731
            # autograph=False: plain Keras calls need no conversion, and AutoGraph
            # would re-read these lambdas' source from disk when tracing.
            self._numpy_fns[key] = tf.function(fn, input_signature=[spec], autograph=False)
        return self._numpy_fns[key]

    def _batches(self, n, batch_size):
        int_in(batch_size, "batch_size", 1, None, "")
        return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]

    def posterior(self, x, batch_size=256):
        """The approximate posterior q(z|x) = N(z_mean, diag(exp(z_log_var))).

        Parameters
        ----------
        x : array_like of float, shape (n, H, W, 1)
        batch_size : int, default 256

        Returns
        -------
        z_mean, z_log_var : ndarray of float32, each (n, latent_dim)
        """
        self._check(x, "x")
        x = np.asarray(x, dtype=np.float32)
        encode = self._fn("encode")
        parts = [encode(x[s]) for s in self._batches(len(x), batch_size)]
        z_mean = np.concatenate([p[0].numpy() for p in parts])
        z_log_var = np.concatenate([p[1].numpy() for p in parts])
        return z_mean, z_log_var

    def encode(self, x, batch_size=256):
        """Features: the posterior mean ``z_mean``, ndarray of float32 of shape (n, latent_dim)."""
        return self.posterior(x, batch_size=batch_size)[0]

    def _decoder_output(self, z, batch_size=256):
        z = np.asarray(z, dtype=np.float32)
        decode = self._fn("decode")
        return np.concatenate([decode(z[s]).numpy() for s in self._batches(len(z), batch_size)])

    def decode(self, z, batch_size=256):
        """The decoder's mean image for each code.

        Parameters
        ----------
        z : array_like of float, shape (n, latent_dim)

        Returns
        -------
        ndarray of float32, shape (n, H, W, 1), in [0, 1]
            ``sigmoid(decoder output)``: the Bernoulli probabilities or the
            Gaussian means.
        """
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"`z` must have shape (n, {self.latent_dim}) (this VAE's latent_dim); got {z.shape}."
            )
        return _sigmoid(self._decoder_output(z, batch_size)).astype(np.float32)

    def reconstruct(self, x, batch_size=256):
        """Decode the posterior mean of each image: ndarray (n, H, W, 1) float32 in [0, 1]."""
        return self.decode(self.encode(x, batch_size=batch_size), batch_size=batch_size)

    def generate(self, n, seed=None):
        """Images decoded from ``n`` codes drawn from the prior N(0, I).

        Parameters
        ----------
        n : int
        seed : int, optional
            Seed of NumPy's generator for the codes; the same seed gives the
            same images. ``None`` draws fresh noise from the operating system
            every call, which :func:`vaeface_utils.config.seed_everything`
            does not fix: pass a seed wherever a result must repeat.

        Returns
        -------
        ndarray of float32, shape (n, H, W, 1), in [0, 1]
            The decoder's mean images (not pixel samples).
        """
        int_in(n, "n", 1, None, "")
        z = np.random.default_rng(seed).standard_normal((int(n), self.latent_dim)).astype(np.float32)
        return self.decode(z)

    def _log_px_given_z_numpy(self, x, output):
        """float64 log p(x|z), summed over pixels: x (n, H, W, 1), output (..., n, H, W, 1) -> (..., n)."""
        lead = output.shape[:-3]
        x = np.broadcast_to(np.asarray(x, dtype=np.float64), lead + x.shape[-3:]).reshape((-1,) + x.shape[-3:])
        output = np.asarray(output, dtype=np.float64).reshape(x.shape)
        if self.likelihood == "bernoulli":
            log_px = _elbo.bernoulli_log_likelihood(x, output)
        else:
            log_px = _elbo.gaussian_log_likelihood(x, _sigmoid(output), self.pixel_log_var())
        return log_px.reshape(lead)

    def _log_px_of_codes(self, x, z, batch_size=DECODE_BATCH):
        """float64 log p(x_i | z_si) for codes z (S, n, L) of images x (n, H, W, 1) -> (S, n).

        The codes are decoded and scored ``batch_size`` at a time, so the
        memory of the decoded images and their likelihoods does not grow with
        S * n; the values are those of decoding all at once.
        """
        codes = np.asarray(z).reshape(-1, self.latent_dim)                # code r belongs to image r % n
        log_px = np.empty(len(codes))
        for t in self._batches(len(codes), batch_size):
            rows = np.arange(t.start, t.stop) % len(x)
            log_px[t] = self._log_px_given_z_numpy(x[rows], self._decoder_output(codes[t], batch_size))
        return log_px.reshape(z.shape[:-1])

    def elbo_terms(self, x, seed=None, batch_size=256):
        """The ELBO of each image, with one sample of ``z``, in float64 nats.

        Parameters
        ----------
        x : array_like of float, shape (n, H, W, 1)
        seed : int, optional
            Seed of NumPy's generator for the noise ``eps`` (drawn batch by
            batch, each of shape (batch, latent_dim)). ``None`` draws fresh
            noise every call, not fixed by ``seed_everything``.
        batch_size : int, default 256

        Returns
        -------
        dict of ndarray of float64, each (n,)
            ``"log_px_given_z"``, ``"kl"`` (closed form) and
            ``"elbo" = log_px_given_z - kl``.
        """
        self._check(x, "x")
        x = np.asarray(x, dtype=np.float32)
        rng = np.random.default_rng(seed)
        z_mean, z_log_var = self.posterior(x, batch_size=batch_size)
        log_px = []
        for s in self._batches(len(x), batch_size):
            eps = rng.standard_normal(z_mean[s].shape)
            z = z_mean[s] + np.exp(0.5 * z_log_var[s].astype(np.float64)) * eps
            log_px.append(self._log_px_given_z_numpy(x[s], self._decoder_output(z)))
        kl = _elbo.kl_diag_gaussian_standard(z_mean, z_log_var)
        log_px = np.concatenate(log_px)
        return {"log_px_given_z": log_px, "kl": kl, "elbo": log_px - kl}

    def log_importance_weights(self, x, n_importance, seed=None, max_decodes=2048):
        """Log importance weights ``log p(x|z_k) + log p(z_k) - log q(z_k|x)``, ``z_k ~ q(z|x)``.

        The IWAE bound of each image is ``logsumexp(w, axis=0) - log(K)``
        (see :func:`vaeface_utils.elbo.iwae_bound`); with ``K = 1`` it is the
        one-sample ELBO.

        Parameters
        ----------
        x : array_like of float, shape (n, H, W, 1)
        n_importance : int
            K, samples per image.
        seed : int, optional
            Seed of NumPy's generator for the noise; eps is drawn for one
            chunk of images at a time, with shape (K, chunk, latent_dim).
            ``None`` draws fresh noise every call, not fixed by
            ``seed_everything``.
        max_decodes : int, default 2048
            The noise is drawn for ``max_decodes // K`` images at a time (so
            the same ``seed`` and ``max_decodes`` give the same weights); the
            decoder sees at most :data:`DECODE_BATCH` codes at once, and their
            log-likelihoods are computed as they come, which bounds the memory
            of both.

        Returns
        -------
        ndarray of float64, shape (K, n)
        """
        int_in(n_importance, "n_importance", 1, None, "Use 1 for the plain ELBO.")
        self._check(x, "x")
        x = np.asarray(x, dtype=np.float32)
        z_mean, z_log_var = self.posterior(x)
        return self._log_weights_under(x, z_mean, z_log_var, int(n_importance), seed, max_decodes)

    def _log_weights_under(self, x, z_mean, z_log_var, k, seed, max_decodes):
        """Log importance weights (K, n) with the proposal N(z_mean, exp(z_log_var)); x already checked."""
        rng = np.random.default_rng(seed)
        chunk = max(1, int(max_decodes) // k)
        out = np.empty((k, len(x)), dtype=np.float64)
        for s in self._batches(len(x), chunk):
            m = np.asarray(z_mean[s], dtype=np.float64)
            lv = np.asarray(z_log_var[s], dtype=np.float64)
            eps = rng.standard_normal((k,) + m.shape)
            z = m + np.exp(0.5 * lv) * eps                               # (K, b, L)
            log_px = self._log_px_of_codes(x[s], z, max(1, min(int(max_decodes), DECODE_BATCH)))  # (K, b)
            log_pz = _elbo.log_normal_diag(z, 0.0, 0.0)
            log_qz = _elbo.log_normal_diag(z, m, lv)
            out[:, s] = log_px + log_pz - log_qz
        return out


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(a)))
