"""The Keras 3 variational autoencoder used throughout the course.

A small convolutional VAE for grey faces of shape ``(H, W, 1)`` (64 x 64 by
default), written for the TensorFlow backend and fast enough to train on a
laptop CPU in a few minutes:

- :class:`Sampling`, the reparameterisation ``z = z_mean + exp(z_log_var / 2) * eps``
  with seeded noise (``keras.random.SeedGenerator``);
- :func:`build_encoder` and :func:`build_decoder`, functional Keras models;
- :class:`VAE`, a ``keras.Model`` with ``call``, ``train_step`` and ``test_step``
  (so ``fit(validation_data=...)``, ``evaluate`` and ``predict`` work), a
  Bernoulli or Gaussian decoder and a weight ``beta`` on the KL. Its NumPy
  helpers for the notebooks (:meth:`VAE.encode`, :meth:`VAE.posterior`,
  :meth:`VAE.generate`, :meth:`VAE.reconstruct`, :meth:`VAE.elbo_terms`,
  :meth:`VAE.log_importance_weights`) come from
  :class:`vaeface_utils.inference.NumPyInference`, and the callback that stops
  training on a NaN loss from :mod:`vaeface_utils.callbacks`.

Every loss is in nats per image: log-likelihoods are summed over pixels, not
averaged, so that the reconstruction and the KL are on the same scale and the
loss is the negative ELBO (for ``beta = 1``). With the Bernoulli likelihood on
grey values (not 0 or 1) the "likelihood" is not normalised, so that loss is
not a negative ELBO in nats of any density; the continuous Bernoulli
(Loaiza-Ganem & Cunningham, 2019) or the Gaussian decoder are.

The model computes in float32 throughout, which gives the same numbers on
every machine.

Importing this module imports TensorFlow (a second or two) but trains, seeds
and downloads nothing.
"""

from __future__ import annotations

import math

from . import config

try:
    config.import_keras()  # TensorFlow without its start-up log lines
    import tensorflow as tf
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "vaeface_utils.model needs TensorFlow, which is not installed. Install it with "
        "`pip install tensorflow-cpu` (Linux/Windows, CPU only) or `pip install tensorflow`, "
        "or `pip install vaeface-utils[cpu]`."
    ) from error

import keras
import numpy as np
from keras import layers, ops

if keras.backend.backend() != "tensorflow":  # pragma: no cover - depends on the environment
    raise ImportError(
        f"vaeface_utils.model needs Keras's TensorFlow backend; Keras is using {keras.backend.backend()!r}. "
        "Set the environment variable KERAS_BACKEND=tensorflow before Python starts (or before "
        "`import keras`)."
    )

from ._validate import int_in  # noqa: E402
from ._validate import is_array_like as _is_array_like  # noqa: E402
from ._validate import vae_images as check_images  # noqa: E402
from .callbacks import NaNLossError, StopOnNaN  # noqa: E402
from ._optimizer import prepare_optimizer  # noqa: E402
from .inference import NumPyInference  # noqa: E402

__all__ = [
    "LIKELIHOODS",
    "LEARNED_LOG_VARS",
    "X_LOG_VAR_RANGE",
    "Sampling",
    "build_encoder",
    "build_decoder",
    "total_stride",
    "check_images",
    "VAE",
    "StopOnNaN",
    "NaNLossError",
]

#: The decoders :class:`VAE` offers.
LIKELIHOODS = ("bernoulli", "gaussian")
#: The Gaussian decoder's learned pixel variances: one scalar, or one per pixel.
LEARNED_LOG_VARS = ("learned", "learned-per-pixel")
#: The range a learned pixel log-variance is clipped to in the loss (see :meth:`VAE.pixel_log_var`).
X_LOG_VAR_RANGE = (-9.0, 2.0)

_LOG_2PI = math.log(2.0 * math.pi)

# --------------------------------------------------------------------------
# Sampling


@keras.saving.register_keras_serializable(package="vaeface")
class Sampling(layers.Layer):
    """Draw ``z = z_mean + exp(z_log_var / 2) * eps`` with ``eps ~ N(0, I)``.

    The reparameterisation trick: the randomness is in ``eps``, so gradients
    flow to ``z_mean`` and ``z_log_var``. The noise comes from a
    ``keras.random.SeedGenerator``, so a seeded layer draws the same sequence
    of noise in every run (and its state is saved with the model).

    Parameters
    ----------
    seed : int, optional
        Seed of the noise; ``None`` draws a seed from Keras's global generator
        (itself seeded by :func:`vaeface_utils.config.seed_everything`).

    Call arguments
    --------------
    inputs : (z_mean, z_log_var), each float32 of shape (n, latent_dim)

    Returns
    -------
    z : float32 tensor, shape (n, latent_dim)
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}

    # The noise state is saved with the model, so that training resumes with the same noise.
    def save_own_variables(self, store):
        store["seed_state"] = np.asarray(self.seed_generator.state.numpy())

    def load_own_variables(self, store):
        if "seed_state" in store:
            self.seed_generator.state.assign(np.asarray(store["seed_state"]))


# --------------------------------------------------------------------------
# Encoder and decoder


def total_stride(filters=(32, 64, 128)) -> int:
    """How much the encoder shrinks each side of the image: ``2 ** len(filters)``."""
    return 2 ** len(tuple(filters))


def _check_architecture(image_shape, latent_dim, filters, kernel_size):
    """Validate and normalise the architecture's arguments; return them."""
    try:
        shape = tuple(int(s) for s in image_shape)
    except (TypeError, ValueError):
        raise TypeError(f"`image_shape` must be a tuple of ints like (64, 64, 1); got {image_shape!r}.") from None
    if len(shape) == 2:
        shape = shape + (1,)
    if len(shape) != 3 or shape[2] != 1 or min(shape) < 1:
        raise ValueError(
            f"`image_shape` must be (height, width, 1) for grey images; got {image_shape!r}. "
            "Pass e.g. image_shape=(64, 64, 1)."
        )
    try:
        filters = tuple(int(f) for f in filters)
    except (TypeError, ValueError):
        raise TypeError(f"`filters` must be a sequence of ints like (32, 64, 128); got {filters!r}.") from None
    if not filters or min(filters) < 1:
        raise ValueError(f"`filters` must hold at least one positive int; got {filters!r}.")
    int_in(latent_dim, "latent_dim", 1, None, "The course uses 2 to 64.")
    int_in(kernel_size, "kernel_size", 1, None, "The course uses 3.")
    stride = total_stride(filters)
    height, width = shape[:2]
    if height % stride or width % stride:
        fit = lambda s: max(stride, round(s / stride) * stride)  # noqa: E731
        raise ValueError(
            f"Image size {height}x{width} does not work with this network: its {len(filters)} "
            f"stride-2 convolutions shrink each side by a total stride of {stride}, so height and "
            f"width must be multiples of {stride}. Fix: resize the images, e.g. "
            f"load_faces(size=({fit(height)}, {fit(width)})), or use fewer conv layers "
            f"(shorter `filters`)."
        )
    return shape, int(latent_dim), filters, int(kernel_size)


def build_encoder(image_shape=(64, 64, 1), latent_dim=32, filters=(32, 64, 128), kernel_size=3,
                  name="encoder") -> keras.Model:
    """The encoder q(z|x): stride-2 convolutions, then two dense heads.

    Parameters
    ----------
    image_shape : (int, int, 1), default (64, 64, 1)
        Height and width must be multiples of ``2 ** len(filters)``.
    latent_dim : int, default 32
    filters : sequence of int, default (32, 64, 128)
        Channels of each 3x3 stride-2 ReLU convolution.
    kernel_size : int, default 3
    name : str

    Returns
    -------
    keras.Model
        Maps images ``(n, H, W, 1)`` to ``[z_mean, z_log_var]``, each
        ``(n, latent_dim)``, float32.

    Raises
    ------
    ValueError
        ``image_shape`` not divisible by the total stride (the message says
        which sizes work), or other arguments out of range.
    """
    image_shape, latent_dim, filters, kernel_size = _check_architecture(image_shape, latent_dim, filters,
                                                                         kernel_size)
    x = inputs = keras.Input(shape=image_shape, name="images")
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, kernel_size, strides=2, padding="same", activation="relu", name=f"conv{i + 1}",
                          dtype="float32")(x)
    x = layers.Flatten(name="flatten", dtype="float32")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean", dtype="float32")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var", dtype="float32")(x)
    return keras.Model(inputs, [z_mean, z_log_var], name=name)


def build_decoder(image_shape=(64, 64, 1), latent_dim=32, filters=(32, 64, 128), kernel_size=3,
                  name="decoder") -> keras.Model:
    """The decoder p(x|z): a dense layer, then stride-2 transposed convolutions.

    The mirror image of :func:`build_encoder` (same arguments). Its output is
    unconstrained, one value per pixel: the Bernoulli logits, or the
    Gaussian mean before a sigmoid (see :class:`VAE`).

    Returns
    -------
    keras.Model
        Maps ``z`` of shape ``(n, latent_dim)`` to ``(n, H, W, 1)``, float32.
    """
    image_shape, latent_dim, filters, kernel_size = _check_architecture(image_shape, latent_dim, filters,
                                                                         kernel_size)
    stride = total_stride(filters)
    h0, w0 = image_shape[0] // stride, image_shape[1] // stride
    z = inputs = keras.Input(shape=(latent_dim,), name="z")
    x = layers.Dense(h0 * w0 * filters[-1], activation="relu", name="dense", dtype="float32")(z)
    x = layers.Reshape((h0, w0, filters[-1]), name="reshape", dtype="float32")(x)
    for i, f in enumerate(reversed(filters[:-1])):
        x = layers.Conv2DTranspose(f, kernel_size, strides=2, padding="same", activation="relu",
                                   name=f"deconv{i + 1}", dtype="float32")(x)
    x = layers.Conv2DTranspose(1, kernel_size, strides=2, padding="same", name="logits", dtype="float32")(x)
    return keras.Model(inputs, x, name=name)


# --------------------------------------------------------------------------
# The model


def _unpack_x(data):
    """The images from whatever ``fit``/``evaluate`` hand a step: x, (x,), (x, y) or (x, y, w)."""
    if isinstance(data, (tuple, list)):
        return data[0]
    return data


@keras.saving.register_keras_serializable(package="vaeface")
class VAE(NumPyInference, keras.Model):
    """A convolutional variational autoencoder for grey faces.

    The loss, per image and in nats, is::

        loss = -E_q[log p(x|z)] + beta * KL(q(z|x) || N(0, I))

    estimated with one sample ``z`` per image; with ``beta = 1`` it is the
    negative ELBO. ``log p(x|z)`` is summed over all pixels.

    Parameters
    ----------
    image_shape : (int, int, 1), default (64, 64, 1)
        Height and width must be multiples of ``2 ** len(filters)`` (8 by
        default); other sizes raise a ``ValueError`` that says which work.
    latent_dim : int, default 32
    likelihood : {"bernoulli", "gaussian"}, default "bernoulli"
        ``"bernoulli"``: the decoder outputs one logit per pixel and pixel
        values in [0, 1] are treated as probabilities (the continuous
        Bernoulli's unnormalised form, standard for grey images).
        ``"gaussian"``: the decoder outputs the mean ``sigmoid(output)``; the
        variance is one scalar shared by all pixels, one per pixel, or fixed
        (see ``gaussian_log_var``).
    beta : float, default 1.0
        Weight of the KL term. 0 gives an autoencoder with noisy codes.
    gaussian_log_var : "learned", "learned-per-pixel" or float, default "learned"
        Only for ``likelihood="gaussian"``. ``"learned"``: a trainable scalar
        log-variance (the weight ``x_log_var``), initialised to
        ``log(0.1 ** 2)`` and kept in [-9, 2] in the loss.
        ``"learned-per-pixel"``: one trainable log-variance per pixel (the
        weight ``x_log_var`` has the image's shape), so that pixels the
        decoder predicts well (the background) get a small variance and hard
        ones (eyes, hair) a large one. A float: that log-variance, fixed.
    filters : sequence of int, default (32, 64, 128)
    kernel_size : int, default 3
    seed : int, optional
        Seed of the sampling noise (:class:`Sampling`).

    Attributes
    ----------
    encoder, decoder : keras.Model
        See :func:`build_encoder` and :func:`build_decoder`.
    sampling : Sampling

    Notes
    -----
    ``call`` (and so ``predict``) is deterministic at inference: it decodes
    the posterior mean. Noise is drawn only in ``train_step``/``test_step``
    and when ``training=True``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((8, 16, 16, 1), dtype=np.float32)
    >>> vae = VAE(image_shape=(16, 16, 1), latent_dim=2, seed=0)
    >>> vae.compile(optimizer="adam")
    >>> history = vae.fit(x, epochs=1, verbose=0)
    >>> vae.encode(x).shape
    (8, 2)
    """

    def __init__(self, image_shape=(64, 64, 1), latent_dim=32, likelihood="bernoulli", beta=1.0,
                 gaussian_log_var="learned", filters=(32, 64, 128), kernel_size=3, seed=None, **kwargs):
        dtype = kwargs.pop("dtype", None)
        if dtype not in (None, "float32"):
            raise ValueError(f"The course's VAE computes in float32; got dtype={dtype!r}. Leave `dtype` out.")
        super().__init__(dtype="float32", **kwargs)
        image_shape, latent_dim, filters, kernel_size = _check_architecture(image_shape, latent_dim, filters,
                                                                             kernel_size)
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"`likelihood` must be one of {LIKELIHOODS}; got {likelihood!r}.")
        try:
            beta = float(beta)
        except (TypeError, ValueError):
            raise TypeError(f"`beta` must be a number >= 0; got {beta!r}.") from None
        if not (beta >= 0 and np.isfinite(beta)):
            raise ValueError(f"`beta` must be a finite number >= 0; got {beta!r}. Use 1 for the ELBO.")
        if gaussian_log_var not in LEARNED_LOG_VARS:
            try:
                gaussian_log_var = float(gaussian_log_var)
            except (TypeError, ValueError):
                raise TypeError(
                    f"`gaussian_log_var` must be one of {LEARNED_LOG_VARS} or a float; got {gaussian_log_var!r}."
                ) from None
            if not np.isfinite(gaussian_log_var):
                raise ValueError(f"`gaussian_log_var` must be finite; got {gaussian_log_var!r}.")
        self.image_shape = image_shape
        self.latent_dim = latent_dim
        self.likelihood = likelihood
        self.beta = beta
        self.gaussian_log_var = gaussian_log_var
        self.filters = filters
        self.kernel_size = kernel_size
        self.seed = seed

        self.encoder = build_encoder(image_shape, latent_dim, filters, kernel_size)
        self.decoder = build_decoder(image_shape, latent_dim, filters, kernel_size)
        self.sampling = Sampling(seed=seed, name="sampling")
        self.sampling.build([(None, latent_dim), (None, latent_dim)])
        self.x_log_var = None
        if likelihood == "gaussian" and gaussian_log_var in LEARNED_LOG_VARS:
            shape = () if gaussian_log_var == "learned" else self.image_shape
            self.x_log_var = self.add_weight(shape=shape, initializer=keras.initializers.Constant(math.log(0.01)),
                                             name="x_log_var", dtype="float32")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.built = True
        object.__setattr__(self, "_numpy_fns", {})  # NumPyInference's compiled functions, untracked by Keras

    # -- Keras plumbing ---------------------------------------------------

    def build(self, input_shape=None):
        """Everything is built in ``__init__``; kept so that loading works."""
        self.built = True

    def get_build_config(self):
        return {"input_shape": (None,) + self.image_shape}

    def build_from_config(self, config):
        self.built = True

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        config.update(image_shape=list(self.image_shape), latent_dim=self.latent_dim, likelihood=self.likelihood,
                      beta=self.beta, gaussian_log_var=self.gaussian_log_var, filters=list(self.filters),
                      kernel_size=self.kernel_size, seed=self.seed)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @property
    def metrics(self):
        """The trackers, reset by Keras at the start of every epoch."""
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def compile(self, optimizer="adam", *, steps_per_execution=8, **kwargs):
        """Like ``keras.Model.compile``, with defaults chosen for small data on a CPU.

        Parameters
        ----------
        optimizer : str or keras.optimizers.Optimizer, default "adam"
        steps_per_execution : int, default 8
            Optimiser steps per call into the compiled graph. With a few
            hundred images an epoch is only a few steps, and Keras's
            per-step Python overhead would otherwise be a large share of the
            time (``benchmarks/train_throughput.py`` measures it against 1).
            Callbacks then see one batch end per execution (per 8 steps);
            epoch ends, which the course's callbacks use, are unchanged.
        **kwargs
            Passed on, e.g. ``jit_compile``. Its default "auto" means XLA
            on a GPU and plain graph mode (``tf.function`` with TensorFlow's
            oneDNN kernels) on a CPU-only machine (``benchmarks/train_throughput.py``
            compares it with XLA).
            No ``loss`` is taken: the loss is the negative ELBO computed in
            :meth:`train_step`.
        """
        if kwargs.get("loss") is not None:
            raise ValueError(
                "VAE.compile takes no `loss`: the VAE's loss is its negative ELBO, computed in train_step. "
                "Remove `loss=...`; use `beta` and `likelihood` to change it."
            )
        super().compile(optimizer=optimizer, steps_per_execution=steps_per_execution, **kwargs)
        # Else each trained model's compiled step stays in memory after the model is gone: tens of MB each.
        prepare_optimizer(self.optimizer, self.trainable_variables if self.built else None)

    def compile_from_config(self, config):
        """Re-compile when loading; :meth:`compile` builds the optimizer, so its saved state can be restored."""
        self.compile(**keras.saving.deserialize_keras_object(config))

    # -- the maths, in tensors -------------------------------------------

    def _x_log_var(self):
        """The Gaussian decoder's pixel log-variance as the loss uses it: a float32 tensor."""
        if self.x_log_var is not None:
            return ops.clip(self.x_log_var, *X_LOG_VAR_RANGE)
        return ops.convert_to_tensor(self.gaussian_log_var, dtype="float32")

    def pixel_log_var(self):
        """The Gaussian decoder's pixel log-variance, as the loss uses it.

        Returns
        -------
        ndarray of float64 or None
            Shape () for one variance, the image's shape for one per pixel;
            a learned one is clipped to :data:`X_LOG_VAR_RANGE`. None for the
            Bernoulli decoder, which has no variance.
        """
        if self.likelihood != "gaussian":
            return None
        return np.asarray(self._x_log_var(), dtype=np.float64)

    def _log_px_given_z(self, x, output):
        """log p(x|z) per image, summed over pixels; ``output`` is the decoder's raw output."""
        if self.likelihood == "bernoulli":
            # x * logit - softplus(logit) = x log sigmoid(l) + (1 - x) log(1 - sigmoid(l)), computed stably.
            log_px = x * output - ops.softplus(output)
        else:
            mean = ops.sigmoid(output)
            log_var = self._x_log_var()
            log_px = -0.5 * (_LOG_2PI + log_var + ops.square(x - mean) * ops.exp(-log_var))
        return ops.sum(log_px, axis=(1, 2, 3))

    @staticmethod
    def _kl(z_mean, z_log_var):
        """KL(N(z_mean, exp(z_log_var)) || N(0, I)) per image, in closed form."""
        return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)

    def _encode(self, x, training):
        """``[z_mean, z_log_var]``, each (n, latent_dim)."""
        return list(self.encoder(x, training=training))

    def _loss_terms(self, x, training):
        x = ops.cast(x, "float32")
        z_mean, z_log_var = self._encode(x, training)
        z = self.sampling([z_mean, z_log_var])
        output = self.decoder(z, training=training)
        reconstruction_loss = -ops.mean(self._log_px_given_z(x, output))
        kl = ops.mean(self._kl(z_mean, z_log_var))
        loss = reconstruction_loss + self.beta * kl
        return loss, reconstruction_loss, kl

    def _update_trackers(self, loss, reconstruction_loss, kl, n):
        self.loss_tracker.update_state(loss, sample_weight=n)
        self.reconstruction_tracker.update_state(reconstruction_loss, sample_weight=n)
        self.kl_tracker.update_state(kl, sample_weight=n)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        """One optimiser step on a batch; returns the running means of the trackers."""
        x = _unpack_x(data)
        with tf.GradientTape() as tape:
            loss, reconstruction_loss, kl = self._loss_terms(x, training=True)
            total = loss + ops.sum(self.losses) if self.losses else loss
        grads = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        return self._update_trackers(loss, reconstruction_loss, kl, ops.cast(ops.shape(x)[0], "float32"))

    def test_step(self, data):
        """The loss on a batch (one sample of ``z`` per image), without training."""
        x = _unpack_x(data)
        loss, reconstruction_loss, kl = self._loss_terms(x, training=False)
        return self._update_trackers(loss, reconstruction_loss, kl, ops.cast(ops.shape(x)[0], "float32"))

    def call(self, inputs, training=None):
        """Reconstruct images: the decoder's mean, from ``z_mean`` (or a sample if ``training``)."""
        z_mean, z_log_var = self._encode(ops.cast(inputs, "float32"), training)
        z = self.sampling([z_mean, z_log_var]) if training else z_mean
        return ops.sigmoid(self.decoder(z, training=training))

    # -- public entry points, with input checks ---------------------------

    def _check(self, x, name):
        if x is not None and _is_array_like(x):
            check_images(x, name=name, image_shape=self.image_shape, likelihood=self.likelihood)

    def fit(self, x=None, y=None, *args, validation_data=None, callbacks=None, **kwargs):
        """``keras.Model.fit``, checking the images first and stopping on NaN.

        ``fit(x)`` and ``fit(x, x)`` do the same (the target is always the
        input; ``y`` is ignored). ``validation_data`` may be ``x_val``,
        ``(x_val,)`` or ``(x_val, x_val)``. Unless ``callbacks`` holds a
        ``TerminateOnNaN``, a :class:`StopOnNaN` is added, which raises
        :class:`NaNLossError` with an explanation.
        """
        self._check(x, "x")
        self._check(y, "y")
        if validation_data is not None:
            if isinstance(validation_data, (tuple, list)):
                self._check(validation_data[0], "validation_data[0]")
            elif _is_array_like(validation_data):
                self._check(validation_data, "validation_data")
                validation_data = (validation_data,)
        callbacks = list(callbacks or [])
        if not any(isinstance(c, keras.callbacks.TerminateOnNaN) for c in callbacks):
            callbacks.append(StopOnNaN())
        return super().fit(x, y, *args, validation_data=validation_data, callbacks=callbacks, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """``keras.Model.evaluate`` after checking the images; ``y`` is ignored."""
        self._check(x, "x")
        return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        """``keras.Model.predict`` after checking the images: deterministic reconstructions."""
        self._check(x, "x")
        return super().predict(x, *args, **kwargs)
