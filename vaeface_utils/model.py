"""The Keras 3 variational autoencoder used throughout the course.

A small convolutional VAE for grey faces of shape ``(H, W, 1)`` (64 x 64 by
default), written for the TensorFlow backend and fast enough to train on a
laptop CPU in a few minutes:

- :class:`Sampling`, the reparameterisation ``z = z_mean + exp(z_log_var / 2) * eps``
  with seeded noise (``keras.random.SeedGenerator``);
- :func:`build_encoder` and :func:`build_decoder`, functional Keras models;
- :class:`VAE`, a ``keras.Model`` with ``call``, ``train_step`` and ``test_step``
  (so ``fit(validation_data=...)``, ``evaluate`` and ``predict`` work), a
  Bernoulli or Gaussian decoder, a weight ``beta`` on the KL, an optional
  mixed-precision ``dtype`` policy (float32 by default), and the NumPy
  helpers that later notebooks need (:meth:`VAE.encode`, :meth:`VAE.posterior`,
  :meth:`VAE.generate`, :meth:`VAE.reconstruct`, :meth:`VAE.elbo_terms`,
  :meth:`VAE.log_importance_weights`);
- :class:`StopOnNaN`, a callback that stops training with a clear message when
  the loss stops being finite (``VAE.fit`` adds it by default).

Every loss is in nats per image: log-likelihoods are summed over pixels, not
averaged, so that the reconstruction and the KL are on the same scale and the
loss is the negative ELBO (for ``beta = 1``). With the Bernoulli likelihood on
grey values (not 0 or 1) the "likelihood" is not normalised, so that loss is
not a negative ELBO in nats of any density; the continuous Bernoulli
(Loaiza-Ganem & Cunningham, 2019) or the Gaussian decoder are.

Importing this module imports TensorFlow (a second or two) but trains, seeds
and downloads nothing.
"""

from __future__ import annotations

import math
import warnings

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

__all__ = [
    "LIKELIHOODS",
    "LEARNED_LOG_VARS",
    "DTYPES",
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
#: The most codes the decoder sees at once in ``log_importance_weights`` (its activations' memory).
DECODE_BATCH = 256
#: The Gaussian decoder's learned pixel variances: one scalar, or one per pixel.
LEARNED_LOG_VARS = ("learned", "learned-per-pixel")

#: The dtype policies :class:`VAE` accepts: weights always float32.
DTYPES = ("float32", "mixed_bfloat16", "mixed_float16")

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
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, (int, np.integer)) or latent_dim < 1:
        raise ValueError(f"`latent_dim` must be an int >= 1; got {latent_dim!r}. The course uses 2 to 64.")
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, (int, np.integer)) or kernel_size < 1:
        raise ValueError(f"`kernel_size` must be an int >= 1; got {kernel_size!r}.")
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
                  name="encoder", dtype=None) -> keras.Model:
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
    dtype : str or keras.DTypePolicy, optional
        The layers' dtype policy (see :class:`VAE`); ``None``: Keras's global
        policy, float32 unless changed.

    Returns
    -------
    keras.Model
        Maps images ``(n, H, W, 1)`` to ``[z_mean, z_log_var]``, each
        ``(n, latent_dim)``, in the policy's compute dtype (float32 by default).

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
                          dtype=dtype)(x)
    x = layers.Flatten(name="flatten", dtype=dtype)(x)
    z_mean = layers.Dense(latent_dim, name="z_mean", dtype=dtype)(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var", dtype=dtype)(x)
    return keras.Model(inputs, [z_mean, z_log_var], name=name)


def build_decoder(image_shape=(64, 64, 1), latent_dim=32, filters=(32, 64, 128), kernel_size=3,
                  name="decoder", dtype=None) -> keras.Model:
    """The decoder p(x|z): a dense layer, then stride-2 transposed convolutions.

    The mirror image of :func:`build_encoder` (same arguments). Its output is
    unconstrained, one value per pixel: the Bernoulli logits, or the
    Gaussian mean before a sigmoid (see :class:`VAE`).

    Returns
    -------
    keras.Model
        Maps ``z`` of shape ``(n, latent_dim)`` to ``(n, H, W, 1)``, in the
        policy's compute dtype (float32 by default).
    """
    image_shape, latent_dim, filters, kernel_size = _check_architecture(image_shape, latent_dim, filters,
                                                                         kernel_size)
    stride = total_stride(filters)
    h0, w0 = image_shape[0] // stride, image_shape[1] // stride
    z = inputs = keras.Input(shape=(latent_dim,), name="z")
    x = layers.Dense(h0 * w0 * filters[-1], activation="relu", name="dense", dtype=dtype)(z)
    x = layers.Reshape((h0, w0, filters[-1]), name="reshape", dtype=dtype)(x)
    for i, f in enumerate(reversed(filters[:-1])):
        x = layers.Conv2DTranspose(f, kernel_size, strides=2, padding="same", activation="relu",
                                   name=f"deconv{i + 1}", dtype=dtype)(x)
    x = layers.Conv2DTranspose(1, kernel_size, strides=2, padding="same", name="logits", dtype=dtype)(x)
    return keras.Model(inputs, x, name=name)


# --------------------------------------------------------------------------
# Input checks


def _is_array_like(x) -> bool:
    return isinstance(x, (np.ndarray, list, tuple)) or tf.is_tensor(x) or hasattr(x, "__array__")


def check_images(x, *, name="x", image_shape=None, likelihood="bernoulli") -> None:
    """Check that ``x`` is a batch of float images the VAE can use.

    Parameters
    ----------
    x : array_like, shape (n, H, W, 1)
        Floating point; in [0, 1] for the Bernoulli likelihood.
    name : str
        The argument's name, used in the messages.
    image_shape : (int, int, 1), optional
        The shape the model was built for.
    likelihood : {"bernoulli", "gaussian"}

    Raises
    ------
    TypeError
        Integer, boolean or non-numeric dtype.
    ValueError
        Wrong number of axes, wrong height/width, no images, values that are
        not finite, or outside [0, 1] for the Bernoulli likelihood.
    """
    dtype = np.dtype(x.dtype.as_numpy_dtype) if tf.is_tensor(x) else getattr(x, "dtype", None)
    if dtype is None:
        x = np.asarray(x)
        dtype = x.dtype
    dtype = np.dtype(dtype)
    if dtype.kind in "iub":
        raise TypeError(
            f"`{name}` has dtype {dtype}; the VAE expects floating-point images with values in [0, 1]. "
            f"Convert it with `{name}.astype('float32') / 255` (for 8-bit images), or use "
            "vaeface_utils.data.load_faces, which returns float32 in [0, 1]."
        )
    if dtype.kind != "f":
        raise TypeError(f"`{name}` must be a float array of images; got dtype {dtype}.")
    shape = tuple(x.shape)
    want = tuple(image_shape) if image_shape is not None else None
    if len(shape) == 3 and (want is None or shape[1:] == want[:2]):
        raise ValueError(
            f"`{name}` has shape {shape}: 3 axes, but images must be (n, height, width, 1) with a channel "
            f"axis. Add it with `{name}[..., None]` (or np.expand_dims({name}, -1))."
        )
    if len(shape) != 4:
        raise ValueError(
            f"`{name}` must have 4 axes (n, height, width, 1); got shape {shape}. For a single image "
            f"use `{name}[None]`."
        )
    if shape[0] == 0:
        raise ValueError(f"`{name}` holds no images (shape {shape}); pass at least one.")
    if want is not None and shape[1:] != want:
        raise ValueError(
            f"This VAE was built for images of shape {want}; `{name}` has images of shape {shape[1:]}. "
            f"Resize them (e.g. load_faces(size={want[:2]})) or build a new VAE with "
            f"image_shape={shape[1:]}."
        )
    values = x.numpy() if tf.is_tensor(x) else np.asarray(x)
    lo, hi = float(np.min(values)), float(np.max(values))
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"`{name}` contains NaN or infinite values; remove or replace them before training.")
    if likelihood == "bernoulli" and (lo < 0.0 or hi > 1.0):
        raise ValueError(
            f"`{name}` has values from {lo:.4g} to {hi:.4g}, but the Bernoulli likelihood needs pixel values "
            f"in [0, 1]. Rescale: divide 8-bit images by 255, or use "
            f"({name} - {name}.min()) / ({name}.max() - {name}.min())."
        )


# --------------------------------------------------------------------------
# NaN guard


class NaNLossError(FloatingPointError):
    """Training produced a loss that is NaN or infinite (raised by :class:`StopOnNaN`)."""


class StopOnNaN(keras.callbacks.TerminateOnNaN):
    """Stop training as soon as the loss is NaN or infinite, and say why.

    :meth:`VAE.fit` adds one (``raise_error=True``) unless ``callbacks``
    already holds a ``TerminateOnNaN``.

    Parameters
    ----------
    raise_error : bool, default True
        Raise :class:`NaNLossError` (a ``FloatingPointError``) out of ``fit``.
        With False, training stops quietly, a ``RuntimeWarning`` is issued and
        the text is kept in :attr:`message` (``None`` while all is well).
    """

    def __init__(self, raise_error=True):
        super().__init__()
        self.raise_error = raise_error
        self.message = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(np.asarray(loss))
        if np.isfinite(loss):
            return
        every = int(getattr(self.model, "steps_per_execution", 1) or 1)
        where = f"epoch {self._epoch + 1}, by step {batch + 1}" + (f" (checked every {every} steps)" if every > 1 else "")
        self.message = (
            f"Training stopped: the loss became {loss} at {where}. "
            "The weights are no longer usable; rebuild or reload the model. Usual causes: a learning rate "
            "that is too high (try 1e-3 or lower), inputs with NaN or outside [0, 1], or a Gaussian decoder "
            "whose variance collapsed (fix it with gaussian_log_var=<a float>)."
        )
        self.model.stop_training = True
        if self.raise_error:
            raise NaNLossError(self.message)
        warnings.warn(self.message, RuntimeWarning, stacklevel=2)


# --------------------------------------------------------------------------
# The model


def _unpack_x(data):
    """The images from whatever ``fit``/``evaluate`` hand a step: x, (x,), (x, y) or (x, y, w)."""
    if isinstance(data, (tuple, list)):
        return data[0]
    return data


@keras.saving.register_keras_serializable(package="vaeface")
class VAE(keras.Model):
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
    dtype : {"float32", "mixed_bfloat16", "mixed_float16"}, optional
        The dtype policy of the encoder and decoder layers. ``None`` (the
        default) takes Keras's global policy, which is float32 unless
        changed. With a mixed policy the layers compute in 16 bits while
        the weights, the sampling, the loss, the metrics and every NumPy
        result stay float32. ``"mixed_bfloat16"`` trains the default model
        about 1.3x faster than float32 on a CPU with bfloat16 instructions
        (AVX512_BF16 or AMX; measured by ``benchmarks/train_throughput.py``);
        on CPUs without them it may be slower, so measure first.
        ``"mixed_float16"`` is for GPUs (``compile`` then adds loss scaling).
        The course trains in float32, which gives the same numbers on every
        machine: evaluating the course's trained model with 16-bit
        activations moves each face's ELBO by about 2 nats (up to 13).

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
                 gaussian_log_var="learned", filters=(32, 64, 128), kernel_size=3, seed=None, dtype=None, **kwargs):
        try:
            policy = keras.config.dtype_policy() if dtype is None else keras.dtype_policies.get(dtype)
        except ValueError:  # not a policy Keras knows
            policy = None
        if policy is None or policy.name not in DTYPES:
            raise ValueError(
                f"`dtype` must be one of {DTYPES}; got {dtype if policy is None else policy.name!r}"
                + ("" if dtype is not None else " (Keras's global dtype policy)")
                + ". Weights must stay float32; for speed use a mixed policy."
            )
        super().__init__(dtype=policy, **kwargs)
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

        self.encoder = build_encoder(image_shape, latent_dim, filters, kernel_size, dtype=self.dtype_policy)
        self.decoder = build_decoder(image_shape, latent_dim, filters, kernel_size, dtype=self.dtype_policy)
        self.sampling = Sampling(seed=seed, name="sampling", dtype="float32")
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
        object.__setattr__(self, "_numpy_fns", {})  # not tracked by Keras or TensorFlow

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
                      kernel_size=self.kernel_size, seed=self.seed, dtype=self.dtype_policy.name)
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
            hundred images an epoch is only ~10 steps, and Keras's per-step
            Python overhead would otherwise cost a third of the time.
            Callbacks then see one batch end per execution.
        **kwargs
            Passed on, e.g. ``jit_compile``. Its default "auto" means XLA
            on a GPU and plain graph mode (``tf.function`` with TensorFlow's
            oneDNN kernels) on a CPU-only machine, which on CPUs trains this
            model faster than XLA (see ``benchmarks/train_throughput.py``).
            No ``loss`` is taken: the loss is the negative ELBO computed in
            :meth:`train_step`.
        """
        if kwargs.get("loss") is not None:
            raise ValueError(
                "VAE.compile takes no `loss`: the VAE's loss is its negative ELBO, computed in train_step. "
                "Remove `loss=...`; use `beta` and `likelihood` to change it."
            )
        super().compile(optimizer=optimizer, steps_per_execution=steps_per_execution, **kwargs)
        if self.built:
            # Create the optimiser's slot variables now, eagerly. Created inside the first compiled
            # step instead, each gets a lazily initialised variable whose tf.cond branches TensorFlow
            # keeps alive after the model is gone: tens of MB per trained model.
            self.optimizer.build(self.trainable_variables)

    def compile_from_config(self, config):
        """Re-compile when loading; :meth:`compile` builds the optimizer, so its saved state can be restored."""
        self.compile(**keras.saving.deserialize_keras_object(config))

    # -- the maths, in tensors -------------------------------------------

    def _x_log_var(self):
        if self.x_log_var is not None:
            return ops.clip(self.x_log_var, -9.0, 2.0)
        return ops.convert_to_tensor(self.gaussian_log_var, dtype="float32")

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
        """``(z_mean, z_log_var)`` in float32, whatever the layers compute in."""
        return [ops.cast(t, "float32") for t in self.encoder(x, training=training)]

    def _loss_terms(self, x, training):
        x = ops.cast(x, "float32")
        z_mean, z_log_var = self._encode(x, training)
        z = self.sampling([z_mean, z_log_var])
        output = ops.cast(self.decoder(z, training=training), "float32")
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
            total = self.optimizer.scale_loss(total)  # unchanged unless mixed_float16 added loss scaling
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
        return ops.sigmoid(ops.cast(self.decoder(z, training=training), "float32"))

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

    # -- NumPy helpers for the notebooks ----------------------------------

    def _fn(self, key):
        """A cached ``tf.function`` running the encoder or decoder (kept out of Keras's attribute tracking)."""
        if key not in self._numpy_fns:
            if key == "encode":
                spec = tf.TensorSpec((None,) + self.image_shape, tf.float32)
                fn = lambda x: self._encode(x, training=False)  # noqa: E731
            else:
                spec = tf.TensorSpec((None, self.latent_dim), tf.float32)
                fn = lambda z: ops.cast(self.decoder(z, training=False), "float32")  # noqa: E731
            # autograph=False: plain Keras calls need no conversion, and AutoGraph
            # would re-read these lambdas' source from disk when tracing.
            self._numpy_fns[key] = tf.function(fn, input_signature=[spec], autograph=False)
        return self._numpy_fns[key]

    def _batches(self, n, batch_size):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"`batch_size` must be an int >= 1; got {batch_size!r}.")
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
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"`n` must be an int >= 1; got {n!r}.")
        z = np.random.default_rng(seed).standard_normal((int(n), self.latent_dim)).astype(np.float32)
        return self.decode(z)

    def _log_px_given_z_numpy(self, x, output):
        """float64 log p(x|z), summed over pixels; x (n, H, W, 1), output (..., n, H, W, 1)."""
        x = x.astype(np.float64)
        output = output.astype(np.float64)
        axes = (-3, -2, -1)
        if self.likelihood == "bernoulli":
            return np.sum(x * output - np.logaddexp(0.0, output), axis=axes)
        log_var = np.clip(self.x_log_var.numpy().astype(np.float64), -9, 2) if self.x_log_var is not None \
            else self.gaussian_log_var
        mean = _sigmoid(output)
        return np.sum(-0.5 * (_LOG_2PI + log_var + (x - mean) ** 2 * np.exp(-log_var)), axis=axes)

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
        log_px, kl = [], []
        for s in self._batches(len(x), batch_size):
            eps = rng.standard_normal(z_mean[s].shape)
            z = z_mean[s] + np.exp(0.5 * z_log_var[s].astype(np.float64)) * eps
            log_px.append(self._log_px_given_z_numpy(x[s], self._decoder_output(z)))
        m, lv = z_mean.astype(np.float64), z_log_var.astype(np.float64)
        kl = -0.5 * np.sum(1.0 + lv - m ** 2 - np.exp(lv), axis=1)
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
            decoder sees at most :data:`DECODE_BATCH` codes at once, which
            bounds the memory of its activations.

        Returns
        -------
        ndarray of float64, shape (K, n)
        """
        if isinstance(n_importance, bool) or not isinstance(n_importance, (int, np.integer)) or n_importance < 1:
            raise ValueError(f"`n_importance` must be an int >= 1; got {n_importance!r}. Use 1 for the plain ELBO.")
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
            output = self._decoder_output(z.reshape(-1, self.latent_dim),
                                          batch_size=max(1, min(int(max_decodes), DECODE_BATCH)))
            output = output.reshape((k, -1) + self.image_shape)
            log_px = self._log_px_given_z_numpy(x[s], output)            # (K, b)
            log_pz = -0.5 * np.sum(_LOG_2PI + z ** 2, axis=-1)
            log_qz = -0.5 * np.sum(_LOG_2PI + lv + eps ** 2, axis=-1)
            out[:, s] = log_px + log_pz - log_qz
        return out


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(a)))
