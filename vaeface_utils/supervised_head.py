"""A VAE trained jointly with a classifier on its code: the ELBO plus a weighted cross-entropy.

The loss per image is

    -ELBO(x) + w * CE(y, softmax(W mu(x) + b)),

where ``mu(x)`` is the posterior mean and the linear head ``W, b`` names the
person. With ``w = 0`` it is the plain VAE; the larger ``w``, the more the
encoder is asked to make ``mu(x)`` linearly separable by person, at the price
of some ELBO. It is a weighted classification term like the one Kingma et
al. (2014) add to their M2 model, but put on the code itself: in M2 the
decoder also takes the label and the classifier is a network of its own,
whereas here the cross-entropy on mu(x) is exactly what pushes identity into
z. The prior stays N(0, I), so the held-out ELBO is computed as the plain
VAE's.
"""

from __future__ import annotations

import numpy as np

from .labelled import LabelledVAE
from .model import keras, layers, ops

__all__ = ["SupervisedVAE"]


@keras.saving.register_keras_serializable(package="vaeface")
class SupervisedVAE(LabelledVAE):
    """A VAE with a linear softmax head on its posterior mean.

    Parameters
    ----------
    n_people : int, default 40
    classification_weight : float, default 100.0
        ``w`` above, >= 0. The ELBO is in nats per image, about a thousand
        for a 32 x 32 face, while the cross-entropy of a uniform guess among
        40 people is log 40 ≈ 3.7 nats, so useful weights are in the tens to
        thousands.
    **kwargs
        As :class:`~vaeface_utils.labelled.LabelledVAE`.
    """

    extra_metrics = ("cross_entropy",)

    def __init__(self, n_people=40, classification_weight=100.0, **kwargs):
        super().__init__(n_people=n_people, **kwargs)
        try:
            weight = float(classification_weight)
        except (TypeError, ValueError):
            raise TypeError(f"`classification_weight` must be a number >= 0; got {classification_weight!r}.") from None
        if not (np.isfinite(weight) and weight >= 0):
            raise ValueError(f"`classification_weight` must be a finite number >= 0; got {classification_weight!r}. "
                             "Use 0 for the plain VAE.")
        self.classification_weight = weight
        self.head = layers.Dense(self.n_people, name="head")
        self.head.build((None, self.latent_dim))

    def get_config(self):
        return {**super().get_config(), "classification_weight": self.classification_weight}

    def _terms(self, x, people, training):
        z_mean, z_log_var = self._encode(x, training)
        z = self.sampling([z_mean, z_log_var])
        output = ops.cast(self.decoder(z, training=training), "float32")
        reconstruction_loss = -ops.mean(self._log_px_given_z(x, output))
        kl = ops.mean(self._kl(z_mean, z_log_var))
        logits = self.head(z_mean)
        cross_entropy = ops.mean(keras.losses.sparse_categorical_crossentropy(people, logits, from_logits=True))
        loss = reconstruction_loss + kl + self.classification_weight * cross_entropy
        return {"loss": loss, "reconstruction_loss": reconstruction_loss, "kl": kl, "cross_entropy": cross_entropy}

    def person_logits(self, x):
        """The head's logits for each image, float32 (n, n_people)."""
        return np.asarray(self.head(self.encode(x)))

    def predict_people(self, x):
        """The head's most probable person index for each image, int (n,)."""
        return np.argmax(self.person_logits(x), axis=1)
