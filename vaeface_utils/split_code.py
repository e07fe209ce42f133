"""A code in two parts: identity, shared by all images of one person, and nuisance, one per image.

In the spirit of the multi-level VAE of Bouchacourt et al. (2018). The code
``z = (c, s)`` has an identity part ``c`` (``identity_dim`` dimensions) and a
nuisance part ``s`` (the rest). The encoder gives every image a Gaussian over
both. For a *group*, the images of one person in a batch, the identity
posterior is the normalised product of the group's Gaussians over ``c``:

    precision_g = Σ_i exp(-log_var_c,i),    mean_g = Σ_i exp(-log_var_c,i) mean_c,i / precision_g,

and one ``c`` drawn from it is shared by every image of the group, while each
image draws its own ``s``. The group's ELBO is

    Σ_i E_q[log p(x_i | c, s_i)] - KL(q(c | group) || N(0, I)) - Σ_i KL(q(s_i | x_i) || N(0, I)),

a lower bound on the log-likelihood of the group's images under a model in
which they share ``c``. The loss per image divides it by the batch's images.
The only way to lower the loss through ``c`` is to put in it what the
images of a person have in common; what varies within the person must go
to ``s``. Recognition uses the identity part's posterior mean alone. For a
single test image the group is the image itself, and its bound is the plain
VAE's ELBO, so held-out ELBOs compare.

Every person in training needs at least two images, or nothing would tell
identity from nuisance.
"""

from __future__ import annotations

import numpy as np

from .labelled import LabelledVAE, _positive_int, check_people
from ._validate import is_array_like as _is_array_like
from .model import keras, ops, tf

__all__ = ["SplitCodeVAE"]


@keras.saving.register_keras_serializable(package="vaeface")
class SplitCodeVAE(LabelledVAE):
    """A VAE whose first ``identity_dim`` code dimensions are shared within a person.

    Parameters
    ----------
    n_people : int, default 40
    identity_dim : int, default 16
        Dimensions of the identity part; ``latent_dim - identity_dim`` (>= 1)
        are the nuisance part.
    **kwargs
        As :class:`~vaeface_utils.labelled.LabelledVAE`.
    """

    extra_metrics = ("kl_identity", "kl_nuisance")

    def __init__(self, n_people=40, identity_dim=16, **kwargs):
        super().__init__(n_people=n_people, **kwargs)
        self.identity_dim = _positive_int(identity_dim, "identity_dim", "Use e.g. half of latent_dim.")
        if self.identity_dim >= self.latent_dim:
            raise ValueError(f"`identity_dim` ({identity_dim}) must be smaller than latent_dim ({self.latent_dim}), "
                             "so that at least one dimension is left for the nuisance part.")

    def get_config(self):
        return {**super().get_config(), "identity_dim": self.identity_dim}

    @staticmethod
    def check_training_people(people):
        """Every person present needs at least two images; raises ValueError naming those who have one."""
        counts = np.bincount(np.asarray(people))
        single = np.flatnonzero(counts == 1)
        if len(single):
            raise ValueError(f"The split code needs at least two training images of every person; person index(es) "
                             f"{single.tolist()[:10]} have one. Use n_train >= 2 per person, or drop them.")

    def fit(self, x=None, y=None, *args, **kwargs):
        """``keras.Model.fit`` on grouped batches only: a dataset from :func:`~vaeface_utils.labelled.grouped_dataset`.

        Arrays would be cut into batches that split a person's images apart,
        so they are refused with the way to train instead.
        """
        if _is_array_like(x):
            if y is not None:
                self.check_training_people(check_people(y, len(x), self.n_people, "y"))
            raise ValueError("The split code needs batches that hold all images of each person in them; arrays "
                             "would be cut apart by Keras. Train with labelled.train_labelled(model, images, people, "
                             "epochs=...), or fit on labelled.grouped_dataset(images, people, ...).")
        return super().fit(x, y, *args, **kwargs)

    def _terms(self, x, people, training):
        d = self.identity_dim
        z_mean, z_log_var = self._encode(x, training)
        c_mean, c_log_var, s_mean, s_log_var = z_mean[:, :d], z_log_var[:, :d], z_mean[:, d:], z_log_var[:, d:]
        c_log_var = ops.clip(c_log_var, -15.0, 15.0)  # precisions exp(-log_var) stay finite and nonzero in float32
        precision = ops.exp(-c_log_var)
        group_precision = tf.math.unsorted_segment_sum(precision, people, self.n_people)     # (P, d)
        group_weighted = tf.math.unsorted_segment_sum(precision * c_mean, people, self.n_people)
        count = tf.math.unsorted_segment_sum(ops.ones_like(people, dtype="float32"), people, self.n_people)
        present = ops.cast(count > 0, "float32")                                            # (P,)
        safe = ops.where(group_precision > 0, group_precision, 1.0)
        g_mean, g_log_var = group_weighted / safe, -ops.log(safe)
        c = ops.take(self.sampling([g_mean, g_log_var]), people, axis=0)                    # one c per person
        s = self.sampling([s_mean, s_log_var])
        output = ops.cast(self.decoder(ops.concatenate([c, s], axis=-1), training=training), "float32")
        reconstruction_loss = -ops.mean(self._log_px_given_z(x, output))
        n = ops.cast(ops.shape(x)[0], "float32")
        kl_identity = ops.sum(present * self._kl(g_mean, g_log_var)) / n
        kl_nuisance = ops.mean(self._kl(s_mean, s_log_var))
        kl = kl_identity + kl_nuisance
        return {"loss": reconstruction_loss + kl, "reconstruction_loss": reconstruction_loss, "kl": kl,
                "kl_identity": kl_identity, "kl_nuisance": kl_nuisance}

    def identity_features(self, x):
        """The identity part of the posterior mean, (n, identity_dim)."""
        return self.encode(x)[:, :self.identity_dim]

    def swap(self, x_identity, x_nuisance):
        """Decode the identity part of ``x_identity`` with the nuisance part of ``x_nuisance``, image by image."""
        a, b = self.encode(x_identity), self.encode(x_nuisance)
        if len(a) != len(b):
            raise ValueError(f"`x_identity` and `x_nuisance` must hold as many images; got {len(a)} and {len(b)}.")
        return self.decode(np.concatenate([a[:, :self.identity_dim], b[:, self.identity_dim:]], axis=1))
