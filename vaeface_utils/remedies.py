"""Two remedies for posterior collapse: KL warm-up and free bits.

Both change only the KL term of the course's :class:`~vaeface_utils.model.VAE`
(its method ``_kl``, the KL of each image to the prior):

- :class:`WarmUpVAE` multiplies it by a weight that :class:`KLWarmUp` raises
  from 0 to 1 over the first epochs (Bowman et al. 2016; Sønderby et al.
  2016), so the decoder learns to use the code before the KL is charged in
  full;
- :class:`FreeBitsVAE` charges each latent dimension at least ``free_bits``
  nats, ``sum_j max(KL_j, free_bits)`` per image (a per-image variant of
  Kingma et al. 2016), so a dimension gains nothing by carrying less than
  that.

The ``kl`` that training reports is then the changed term; measure the true
KL afterwards, e.g. with :meth:`VAE.elbo_terms` or
:func:`vaeface_utils.elbo.kl_diag_gaussian_standard` on ``vae.posterior(x)``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from .model import VAE
from ._validate import int_in

__all__ = ["WarmUpVAE", "KLWarmUp", "FreeBitsVAE"]


@keras.saving.register_keras_serializable(package="vaeface_utils")
class WarmUpVAE(VAE):
    """The course VAE with a KL weight in [0, 1] that a callback can change during training.

    Parameters
    ----------
    *args, **kwargs
        As :class:`~vaeface_utils.model.VAE`. The weight starts at 0; ``fit``
        needs ``callbacks=[KLWarmUp(epochs)]`` (it says so otherwise). During
        the warm-up the reported ``kl``, ``loss`` and ``val_loss`` are the
        weighted ones, lower than the full objective's: do not stop early or
        choose epochs on them before the weight reaches 1.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kl_weight = self.add_weight(shape=(), initializer="zeros", trainable=False, name="kl_weight",
                                         dtype="float32")

    def fit(self, *args, callbacks=None, **kwargs):
        if not any(isinstance(callback, KLWarmUp) for callback in (callbacks or [])):
            raise ValueError("A WarmUpVAE's KL weight starts at 0: without callbacks=[KLWarmUp(epochs)] it would "
                             "train with no KL term. Pass the callback, or use the plain VAE.")
        return super().fit(*args, callbacks=callbacks, **kwargs)

    def _kl(self, z_mean, z_log_var):
        return self.kl_weight * VAE._kl(z_mean, z_log_var)


class KLWarmUp(keras.callbacks.Callback):
    """Raise a :class:`WarmUpVAE`'s KL weight linearly from 0 to 1 over ``epochs`` epochs, then keep it at 1.

    At the start of epoch ``e`` (counting from 0) the weight is ``min(1, e / epochs)``.
    """

    def __init__(self, epochs):
        super().__init__()
        int_in(epochs, "epochs", 1, None, "")
        self.epochs = int(epochs)

    def on_epoch_begin(self, epoch, logs=None):
        if not isinstance(self.model, WarmUpVAE):
            raise TypeError(f"KLWarmUp needs a WarmUpVAE; got {type(self.model).__name__}.")
        self.model.kl_weight.assign(min(1.0, epoch / self.epochs))


@keras.saving.register_keras_serializable(package="vaeface_utils")
class FreeBitsVAE(VAE):
    """The course VAE whose KL term charges each latent dimension at least ``free_bits`` nats.

    Parameters
    ----------
    *args, **kwargs
        As :class:`~vaeface_utils.model.VAE`.
    free_bits : float, default 0.5
        Nats per latent dimension, > 0.
    """

    def __init__(self, *args, free_bits=0.5, **kwargs):
        if not (isinstance(free_bits, (int, float, np.integer, np.floating)) and not isinstance(free_bits, bool)
                and np.isfinite(free_bits) and free_bits > 0):
            raise ValueError(f"`free_bits` must be a finite number of nats > 0; got {free_bits!r}.")
        super().__init__(*args, **kwargs)
        self.free_bits = float(free_bits)

    def _kl(self, z_mean, z_log_var):
        per_dimension = -0.5 * (1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        return ops.sum(ops.maximum(per_dimension, self.free_bits), axis=-1)

    def get_config(self):
        return {**super().get_config(), "free_bits": self.free_bits}
