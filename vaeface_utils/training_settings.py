"""The hyper-parameters that decide a trained course VAE, in one frozen record.

- :class:`TrainingSettings`: every setting that changes the trained model
  (architecture, likelihood, ``beta``, optimiser, early stopping, seed, input
  pipeline);
- :func:`course_settings`: the course's choice, full or fast.

:func:`vaeface_utils.training.train_vae` trains with them, and
:mod:`vaeface_utils.model_cache` hashes them into the name of the cached model.
Importing this module imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np

from . import config
from ._validate import int_in

__all__ = ["PIPELINES", "TrainingSettings", "course_settings"]

#: Ways of feeding images to ``fit``: NumPy arrays, or a ``tf.data`` pipeline with prefetching.
PIPELINES = ("arrays", "tf.data")
_LIKELIHOODS = ("bernoulli", "gaussian")


def _float(value, name, *, positive, fix):
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or \
            (value <= 0 if positive else value < 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"`{name}` must be a finite number {bound}; got {value!r}. {fix}")
    return float(value)


@dataclass(frozen=True)
class TrainingSettings:
    """Every hyper-parameter that changes the trained VAE, in one frozen record.

    Two equal settings (with the same data) train the same model, and
    :func:`~vaeface_utils.model_cache.load_or_train_vae` hashes them into the cache's file name. Change
    one with :meth:`replace`: ``settings.replace(beta=4.0)``.

    Attributes
    ----------
    latent_dim : int, default 32
        Size of the latent code ``z``.
    filters : tuple of int, default (32, 64, 128)
        Channels of the encoder's stride-2 convolutions (mirrored in the decoder).
    likelihood : {"gaussian", "bernoulli"}, default "gaussian"
        The decoder. The course uses a Gaussian, whose log-likelihood is a
        density over grey values and so comparable with other density models.
    gaussian_log_var : "learned", "learned-per-pixel" or float, default "learned"
        The Gaussian decoder's pixel log-variance: one learned scalar, one
        learned value per pixel, or a fixed value (see
        :class:`~vaeface_utils.model.VAE`).
    beta : float, default 1.0
        Weight of the KL term; 1 trains on the ELBO.
    epochs : int, default 400
        The most epochs; early stopping usually ends training sooner.
    batch_size : int, default 32
    learning_rate : float, default 1e-3
        Adam's initial learning rate.
    patience : int, default 40
        Early stopping: epochs without a better validation loss before
        training stops; the best weights are then restored.
    reduce_lr_patience : int, default 20
        Epochs without a better validation loss before the learning rate is
        halved (``ReduceLROnPlateau``); 0 switches the schedule off.
    seed : int, default 0
        Seed of the weights' initialisation, the shuffling and the sampling noise.
    pipeline : {"arrays", "tf.data"}, default "tf.data"
        How images reach ``fit``; see :func:`make_dataset`.
    flip : bool, default False
        Horizontal-flip augmentation of the training images (``tf.data``
        pipeline only); see :func:`make_dataset`.
    """

    latent_dim: int = 32
    filters: tuple = (32, 64, 128)
    likelihood: str = "gaussian"
    gaussian_log_var: object = "learned"
    beta: float = 1.0
    epochs: int = 400
    batch_size: int = 32
    learning_rate: float = 1e-3
    patience: int = 40
    reduce_lr_patience: int = 20
    seed: int = 0
    pipeline: str = field(default="tf.data")
    flip: bool = False

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731  (frozen)
        set_("latent_dim", int_in(self.latent_dim, "latent_dim", 1, None, "The course uses 2 to 64."))
        try:
            filters = tuple(self.filters)
        except TypeError:
            raise TypeError(f"`filters` must be a sequence of ints like (32, 64, 128); got {self.filters!r}.") from None
        if not filters or any(isinstance(f, bool) or not isinstance(f, Integral) or f < 1 for f in filters):
            raise ValueError(f"`filters` must be a non-empty sequence of ints >= 1; got {self.filters!r}. "
                             "Use (32, 64, 128).")
        set_("filters", tuple(int(f) for f in filters))
        if self.likelihood not in _LIKELIHOODS:
            raise ValueError(f"`likelihood` must be one of {_LIKELIHOODS}; got {self.likelihood!r}.")
        if self.gaussian_log_var not in ("learned", "learned-per-pixel"):
            set_("gaussian_log_var", _float_any(self.gaussian_log_var, "gaussian_log_var"))
        set_("beta", _float(self.beta, "beta", positive=False, fix="Use 1 for the ELBO."))
        set_("epochs", int_in(self.epochs, "epochs", 1, None, "Train for at least one epoch."))
        set_("batch_size", int_in(self.batch_size, "batch_size", 1, None, "The course uses 32."))
        set_("learning_rate", _float(self.learning_rate, "learning_rate", positive=True, fix="Try 1e-3."))
        set_("patience", int_in(self.patience, "patience", 1, None, "Use e.g. 40 epochs."))
        set_("reduce_lr_patience", int_in(self.reduce_lr_patience, "reduce_lr_patience", 0, None,
                                          "Use 0 to keep the learning rate fixed."))
        set_("seed", int_in(self.seed, "seed", 0, None, "Use 0."))
        if self.pipeline not in PIPELINES:
            raise ValueError(f"`pipeline` must be one of {PIPELINES}; got {self.pipeline!r}.")
        if not isinstance(self.flip, (bool, np.bool_)):
            raise TypeError(f"`flip` must be True or False; got {self.flip!r}.")
        set_("flip", bool(self.flip))
        if self.flip and self.pipeline != "tf.data":
            raise ValueError("`flip=True` needs pipeline='tf.data', which draws the flips; got pipeline='arrays'.")

    def replace(self, **changes) -> "TrainingSettings":
        """A copy with some fields changed (checked like the constructor's)."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise TypeError(f"TrainingSettings has no field(s) {unknown}; the fields are "
                            f"{[f.name for f in dataclasses.fields(self)]}.")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """The settings as a JSON-ready dict (``filters`` as a list)."""
        out = dataclasses.asdict(self)
        out["filters"] = list(self.filters)
        return out

    def vae_kwargs(self) -> dict:
        """The keyword arguments of :class:`~vaeface_utils.model.VAE` these settings fix."""
        return dict(latent_dim=self.latent_dim, filters=self.filters, likelihood=self.likelihood,
                    gaussian_log_var=self.gaussian_log_var, beta=self.beta, seed=self.seed)


def _float_any(value, name):
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"`{name}` must be 'learned', 'learned-per-pixel' or a finite float; got {value!r}.")
    return float(value)


def course_settings(fast: bool | None = None) -> TrainingSettings:
    """The course's training settings: the full run, or its fast-mode variant.

    Parameters
    ----------
    fast : bool, optional
        None (the default) reads :func:`vaeface_utils.config.fast_mode`.

    Returns
    -------
    TrainingSettings
        Full mode: the defaults of :class:`TrainingSettings` (up to 400
        epochs, early stopping after 40 without progress). Fast mode: the
        same model trained for 20 epochs.

    Examples
    --------
    >>> course_settings(fast=True).epochs
    20
    """
    if fast is None:
        fast = config.fast_mode()
    settings = TrainingSettings()
    return settings.replace(epochs=20, patience=20, reduce_lr_patience=0) if fast else settings


