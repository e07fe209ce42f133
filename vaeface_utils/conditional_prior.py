"""A VAE whose prior knows who is in the picture: one learned Gaussian per person.

The plain VAE's prior is one standard normal shared by all faces, so nothing
asks the codes of one person to sit together. Here the prior is a mixture
with one component per person,

    p(z | person y) = N(z; m_y, diag exp(s_y)),      p(y) = 1 / P,

with the means ``m_y`` and log-variances ``s_y`` learned with the encoder and
decoder. Training maximises the ELBO of log p(x | y):

    E_q[log p(x|z)] - KL(q(z|x) || p(z|y)),

so the encoder learns to place each image near its person's component.

**Recognition** is the posterior over people. The encoder does not see ``y``,
so the reconstruction term is the same for every person and, with the ELBO in
place of log p(x | y),

    log p(y | x) ≈ -KL(q(z|x) || p(z|y)) - logsumexp_y' [-KL(q(z|x) || p(z|y'))].

**The held-out bound** uses no label: since each ELBO_y(x) <= log p(x | y),

    log p(x) = log Σ_y p(y) p(x|y) >= E_q[log p(x|z)] + logsumexp_y [log p(y) - KL(q(z|x) || p(z|y))],

a lower bound on this model's log-density of x, as the plain VAE's ELBO is
on its own: the two compare as bounds (not as likelihoods). It is looser
than an ELBO with the whole mixture as the prior, so it favours this model
in nothing.
"""

from __future__ import annotations

import math

import numpy as np

from . import elbo as _elbo
from .labelled import LabelledVAE, _positive_int
from .model import keras, ops

__all__ = ["ConditionalPriorVAE", "PRIOR_KINDS", "LOG_VAR_RANGE"]

#: The components' covariances: learned per person and dimension, or fixed to the identity.
PRIOR_KINDS = ("learned-variance", "unit-variance")

#: The prior components' log-variances are kept in this range in the loss.
LOG_VAR_RANGE = (-6.0, 2.0)


@keras.saving.register_keras_serializable(package="vaeface")
class ConditionalPriorVAE(LabelledVAE):
    """A VAE with a learned Gaussian prior per person; see the module's text for the maths.

    Parameters
    ----------
    n_people : int, default 40
    prior_kind : {"learned-variance", "unit-variance"}, default "learned-variance"
        Whether each component's log-variances ``s_y`` are learned or fixed at 0.
    **kwargs
        As :class:`~vaeface_utils.labelled.LabelledVAE`.

    Attributes
    ----------
    prior_mean, prior_log_var : keras.Variable, shape (n_people, latent_dim)
        The components' means (initialised at random, N(0, 0.05²), Keras's
        ``RandomNormal`` default) and log-variances (initialised at 0, the
        plain prior's).
    """

    def __init__(self, n_people=40, prior_kind="learned-variance", **kwargs):
        if prior_kind not in PRIOR_KINDS:
            raise ValueError(f"`prior_kind` must be one of {PRIOR_KINDS}; got {prior_kind!r}.")
        super().__init__(n_people=n_people, **kwargs)
        self.prior_kind = prior_kind
        self.prior_mean = self.add_weight(shape=(self.n_people, self.latent_dim), name="prior_mean",
                                          initializer=keras.initializers.RandomNormal(seed=self.seed))
        self.prior_log_var = self.add_weight(shape=(self.n_people, self.latent_dim), name="prior_log_var",
                                             initializer="zeros", trainable=prior_kind == "learned-variance")

    def get_config(self):
        return {**super().get_config(), "prior_kind": self.prior_kind}

    def prior(self):
        """The components as NumPy arrays: ``(means, log_vars)``, each (n_people, latent_dim), log-variances clipped."""
        return (self.prior_mean.numpy().astype(np.float64),
                np.clip(self.prior_log_var.numpy().astype(np.float64), *LOG_VAR_RANGE))

    def _terms(self, x, people, training):
        z_mean, z_log_var = self._encode(x, training)
        z = self.sampling([z_mean, z_log_var])
        output = ops.cast(self.decoder(z, training=training), "float32")
        reconstruction_loss = -ops.mean(self._log_px_given_z(x, output))
        mean_p = ops.take(self.prior_mean, people, axis=0)
        log_var_p = ops.clip(ops.take(self.prior_log_var, people, axis=0), *LOG_VAR_RANGE)
        kl = 0.5 * ops.sum(log_var_p - z_log_var + ops.exp(z_log_var - log_var_p)
                           + ops.square(z_mean - mean_p) * ops.exp(-log_var_p) - 1.0, axis=-1)
        kl = ops.mean(kl)
        return {"loss": reconstruction_loss + kl, "reconstruction_loss": reconstruction_loss, "kl": kl}

    def kl_to_people(self, x):
        """KL(q(z|x) || p(z|y)) for every image and person, float64 of shape (n, n_people)."""
        z_mean, z_log_var = self.posterior(x)
        mean_p, log_var_p = self.prior()
        return _elbo.kl_diag_gaussians(z_mean[:, None, :].astype(np.float64), z_log_var[:, None, :].astype(np.float64),
                                       mean_p[None], log_var_p[None])

    def person_log_posterior(self, x):
        """log p(y | x) for every image and person (rows sum to 1 after exp), float64 (n, n_people)."""
        scores = -self.kl_to_people(x)
        return scores - _logsumexp(scores)[:, None]

    def predict_people(self, x):
        """The most probable person index of each image, int (n,)."""
        return np.argmax(self.person_log_posterior(x), axis=1)

    def heldout_elbo(self, x, seed=0, n_samples=8):
        """A label-free lower bound on log p(x) per image (see the module's text), float64 (n,).

        The reconstruction term is the average of ``n_samples`` seeded one-sample estimates.
        """
        n_samples = _positive_int(n_samples, "n_samples", "Use e.g. 8.")
        terms = [self.elbo_terms(x, seed=[seed, i])["log_px_given_z"] for i in range(n_samples)]
        return np.mean(terms, axis=0) + _logsumexp(-self.kl_to_people(x)) - math.log(self.n_people)


def _logsumexp(a):
    top = np.max(a, axis=1)
    return top + np.log(np.sum(np.exp(a - top[:, None]), axis=1))
