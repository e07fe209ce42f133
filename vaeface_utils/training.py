"""Training the course VAE on faces: its settings in one place, one training loop, one cache.

Three pieces, used by notebook 03 and by every later notebook:

- :class:`TrainingSettings`, a frozen dataclass holding every hyper-parameter
  that changes the trained model (architecture, likelihood, ``beta``,
  optimiser, early stopping, seed, input pipeline); :func:`course_settings`
  returns the course's choice, full or fast.
- :func:`train_vae`, which builds a :class:`~vaeface_utils.model.VAE` and
  fits it in graph mode with early stopping on the validation loss (best
  weights restored), a learning-rate schedule on plateaus and the NaN guard.
- :func:`load_or_train_vae`, which returns the trained model from the
  git-ignored cache (:func:`vaeface_utils.config.cache_dir`) when the same
  settings, data, split and mode were trained before, and trains and saves it
  otherwise. The file name holds a hash of all of these, so a change trains a
  new model instead of loading a stale one.

Importing this module imports neither TensorFlow nor Keras; the functions
that need them import them when called.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import config

__all__ = [
    "PIPELINES",
    "CACHE_VERSION",
    "HISTORY_KEYS",
    "TrainingSettings",
    "course_settings",
    "make_dataset",
    "ProgressLine",
    "train_vae",
    "TrainedVAE",
    "CODE_FILES",
    "code_fingerprint",
    "cache_key",
    "cache_path",
    "load_or_train_vae",
]

#: Ways of feeding images to ``fit``: NumPy arrays, or a ``tf.data`` pipeline with prefetching.
PIPELINES = ("arrays", "tf.data")
#: Bumped to make every old cache miss for a reason the fingerprint below cannot see.
CACHE_VERSION = 1
#: The modules whose code decides what a trained model is: their source is hashed into every cache key.
CODE_FILES = ("model.py", "training.py", "elbo.py")
#: Per-epoch entries of the history returned by :func:`train_vae` (all in nats per image, but the last two).
HISTORY_KEYS = ("loss", "reconstruction_loss", "kl", "val_loss", "val_reconstruction_loss", "val_kl",
                "learning_rate", "seconds")
_LIKELIHOODS = ("bernoulli", "gaussian")


def _int(value, name, low, fix):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"`{name}` must be an int >= {low}; got {value!r}. {fix}")
    return int(value)


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
    :func:`load_or_train_vae` hashes them into the cache's file name. Change
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
        set_("latent_dim", _int(self.latent_dim, "latent_dim", 1, "The course uses 2 to 64."))
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
        set_("epochs", _int(self.epochs, "epochs", 1, "Train for at least one epoch."))
        set_("batch_size", _int(self.batch_size, "batch_size", 1, "The course uses 32."))
        set_("learning_rate", _float(self.learning_rate, "learning_rate", positive=True, fix="Try 1e-3."))
        set_("patience", _int(self.patience, "patience", 1, "Use e.g. 40 epochs."))
        set_("reduce_lr_patience", _int(self.reduce_lr_patience, "reduce_lr_patience", 0,
                                        "Use 0 to keep the learning rate fixed."))
        set_("seed", _int(self.seed, "seed", 0, "Use 0."))
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


# --------------------------------------------------------------------------
# Input pipeline


def _check_images(images, name):
    if not hasattr(images, "shape") or not hasattr(images, "dtype"):
        raise TypeError(f"`{name}` must be a NumPy array of images (n, H, W, 1); got {type(images).__name__}.")
    if np.dtype(images.dtype).kind != "f":
        raise TypeError(f"`{name}` must hold floats in [0, 1]; got dtype {images.dtype}. "
                        f"Convert with `{name}.astype('float32') / 255`.")
    if images.ndim != 4 or images.shape[-1] != 1 or images.shape[0] < 1:
        raise ValueError(f"`{name}` must have shape (n, H, W, 1) with n >= 1; got {images.shape}. "
                         "Use load_faces().images, or add the channel axis with [..., None].")
    return np.ascontiguousarray(images, dtype=np.float32)


def make_dataset(images, batch_size, *, shuffle=True, seed=0, flip=False):
    """A ``tf.data`` pipeline over in-memory images: shuffle, (flip,) batch, prefetch.

    The images are copied into TensorFlow once and cached; each epoch
    reshuffles them (seeded) and batches are prepared in the background
    while the previous step runs (``prefetch(AUTOTUNE)``).

    Parameters
    ----------
    images : ndarray of float32, shape (n, H, W, 1)
    batch_size : int
    shuffle : bool, default True
    seed : int, default 0
    flip : bool, default False
        Mirror each image left to right with probability 1/2, drawn afresh
        every epoch (seeded): horizontal-flip augmentation.

    Returns
    -------
    tf.data.Dataset
        Yields batches of float32 images, shape (<= batch_size, H, W, 1).
    """
    config.import_keras()
    import tensorflow as tf

    images = _check_images(images, "images")
    batch_size = _int(batch_size, "batch_size", 1, "The course uses 32.")
    dataset = tf.data.Dataset.from_tensor_slices(images).cache()
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    if flip:
        coins = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        dataset = tf.data.Dataset.zip((dataset, coins)).map(
            lambda image, coin: tf.where(coin % 2 == 0, image, tf.reverse(image, axis=[1])))
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


# --------------------------------------------------------------------------
# Training


def _callback_base():
    keras = config.import_keras()
    return keras.callbacks.Callback


def _epoch_log():
    """A callback adding the learning rate and the epoch's wall-clock seconds to Keras's logs (so to the history)."""

    class EpochLog(_callback_base()):  # built when called: importing this module imports no Keras
        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                logs["learning_rate"] = float(np.asarray(self.model.optimizer.learning_rate))
                logs["seconds"] = time.perf_counter() - self._start

    return EpochLog()


def ProgressLine(every=25, *, print_fn=None):
    """A Keras callback that reports training in one line every ``every`` epochs.

    A short alternative to Keras's progress bar for stored notebook outputs::

        epoch  25: loss -3571.2, val_loss -3325.1 nats per image (kl 68.7), 0.6 s/epoch

    Parameters
    ----------
    every : int, default 25
        Report after epochs ``every, 2 * every, ...`` and after the last epoch.
    print_fn : callable, optional
        Called with each line; pass ``print`` in a notebook. None collects
        the lines in the callback's ``lines`` attribute only (library code
        does not print).

    Returns
    -------
    keras.callbacks.Callback
    """
    every = _int(every, "every", 1, "Use e.g. 25.")
    base = _callback_base()

    class _ProgressLine(base):
        def __init__(self):
            super().__init__()
            self.lines = []
            self._seconds = []

        def _emit(self, epoch, logs):
            logs = logs or {}
            seconds = np.mean(self._seconds[-every:]) if self._seconds else float("nan")
            line = f"epoch {epoch + 1:3d}: loss {logs.get('loss', float('nan')):9.1f}"
            if "val_loss" in logs:
                line += f", val_loss {logs['val_loss']:9.1f}"
            line += f" nats per image (val kl {logs.get('val_kl', logs.get('kl', float('nan'))):.1f})"
            line += f", {seconds:.2f} s/epoch"
            self.lines.append(line)
            if print_fn is not None:
                print_fn(line)

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self._seconds.append(time.perf_counter() - self._start)
            self._last = (epoch, dict(logs or {}))
            if (epoch + 1) % every == 0:
                self._emit(epoch, logs)
                self._last = None

        def on_train_end(self, logs=None):
            if getattr(self, "_last", None) is not None:
                self._emit(*self._last)

    return _ProgressLine()


def train_vae(images_train, images_val, settings: TrainingSettings | None = None, *, callbacks=None, verbose=0):
    """Build the course VAE and train it, stopping early on the validation loss.

    Graph mode (Keras compiles ``train_step``), Adam, and these callbacks:
    ``EarlyStopping(monitor="val_loss", patience=settings.patience,
    restore_best_weights=True)``, ``ReduceLROnPlateau`` (halving the learning
    rate after ``settings.reduce_lr_patience`` epochs without progress, unless
    0) and :class:`~vaeface_utils.model.StopOnNaN` (added by ``VAE.fit``).

    ``keras.utils.set_random_seed(settings.seed)`` is called first (it seeds
    Python's, NumPy's and TensorFlow's global generators), so the same
    settings and images train the same model.

    Parameters
    ----------
    images_train : ndarray of float32, shape (n_train, H, W, 1)
        Training images, in [0, 1]; H and W multiples of ``2 ** len(settings.filters)``.
    images_val : ndarray of float32, shape (n_val, H, W, 1)
        Validation images, for early stopping and the learning-rate schedule.
    settings : TrainingSettings, optional
        Default :func:`course_settings` (which reads the fast mode).
    callbacks : list of keras.callbacks.Callback, optional
        Extra callbacks, e.g. :func:`ProgressLine`.
    verbose : {0, 1, 2}, default 0
        Keras's progress display; 0 for none.

    Returns
    -------
    vae : vaeface_utils.model.VAE
        Compiled, with the weights of the epoch with the lowest validation loss.
    history : dict of str to list of float
        One value per epoch trained, under :data:`HISTORY_KEYS`: the training
        and validation ``loss`` (negative ELBO for ``beta = 1``),
        ``reconstruction_loss`` (``-E_q log p(x|z)``) and ``kl``, in nats per
        image; ``learning_rate``; ``seconds`` (wall-clock time of the epoch).

    Raises
    ------
    TypeError
        If ``settings`` is not a :class:`TrainingSettings`, or the images are
        not float arrays.
    ValueError
        If the images are not ``(n, H, W, 1)``, the two sets differ in image
        size, or ``verbose`` is not 0, 1 or 2.
    vaeface_utils.model.NaNLossError
        If the loss stops being finite.
    """
    if settings is None:
        settings = course_settings()
    if not isinstance(settings, TrainingSettings):
        raise TypeError(f"`settings` must be a TrainingSettings; got {type(settings).__name__}. "
                        "Use course_settings() or TrainingSettings(...).")
    images_train = _check_images(images_train, "images_train")
    images_val = _check_images(images_val, "images_val")
    if images_train.shape[1:] != images_val.shape[1:]:
        raise ValueError(f"`images_train` and `images_val` must hold images of the same shape; got "
                         f"{images_train.shape[1:]} and {images_val.shape[1:]}.")
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 0, 1 or 2; got {verbose!r}. Use 0 and a ProgressLine for short output.")

    keras = config.import_keras()
    from .model import VAE

    keras.utils.set_random_seed(settings.seed)
    vae = VAE(image_shape=images_train.shape[1:], **settings.vae_kwargs())
    vae.compile(optimizer=keras.optimizers.Adam(settings.learning_rate))
    callbacks_ = [_epoch_log(),
                  keras.callbacks.EarlyStopping(monitor="val_loss", patience=settings.patience,
                                                restore_best_weights=True)]
    if settings.reduce_lr_patience:
        callbacks_.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                                            patience=settings.reduce_lr_patience, min_lr=1e-5))
    callbacks_ += list(callbacks or [])

    if settings.pipeline == "tf.data":
        train = make_dataset(images_train, settings.batch_size, shuffle=True, seed=settings.seed, flip=settings.flip)
        val = make_dataset(images_val, len(images_val), shuffle=False)
        fit = vae.fit(train, validation_data=val, epochs=settings.epochs, callbacks=callbacks_, verbose=verbose,
                      shuffle=False)  # the dataset reshuffles itself each epoch
    else:
        fit = vae.fit(images_train, validation_data=images_val, epochs=settings.epochs,
                      batch_size=settings.batch_size, callbacks=callbacks_, verbose=verbose, shuffle=True)
    history = {key: [float(v) for v in fit.history[key]] for key in HISTORY_KEYS if key in fit.history}
    return vae, history


# --------------------------------------------------------------------------
# The cache


class TrainedVAE(NamedTuple):
    """What :func:`load_or_train_vae` returns.

    Attributes
    ----------
    vae : vaeface_utils.model.VAE
    history : dict of str to list of float
        As from :func:`train_vae` (kept beside the model in the cache).
    path : pathlib.Path
        The ``.keras`` file in the cache.
    from_cache : bool
        True if it was loaded, False if it was trained just now.
    """

    vae: object
    history: dict
    path: Path
    from_cache: bool


def _digest(array) -> str:
    array = np.ascontiguousarray(array)
    h = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    h.update(array.tobytes())
    return h.hexdigest()


def _resolve_data(faces, split):
    from .data import FaceData, Split, load_faces, split_per_identity

    if faces is None:
        faces = load_faces()
    if not isinstance(faces, FaceData):
        raise TypeError(f"`faces` must be a FaceData (from load_faces()); got {type(faces).__name__}.")
    if split is None:
        split = split_per_identity(faces.identity, n_train=5, n_val=1, seed=0)
    if not isinstance(split, Split):
        raise TypeError(f"`split` must be a Split (from split_per_identity()); got {type(split).__name__}.")
    if len(split.train) == 0 or len(split.val) == 0:
        raise ValueError(f"`split` must have training and validation images (early stopping needs them); got "
                         f"{split!r}. Use split_per_identity(identity, n_train=5, n_val=1, seed=0).")
    if max(np.max(split.train), np.max(split.val)) >= len(faces):
        raise ValueError(f"`split` indexes images beyond the {len(faces)} in `faces`; draw it from the same data.")
    return faces, split


def _code_only(source: str) -> str:
    """The module's syntax tree without docstrings: comments and docstrings do not change a trained model."""
    import ast

    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False)


def code_fingerprint() -> dict:
    """What, besides settings and data, decides the model that training produces.

    Returns
    -------
    dict of str to str
        ``package``: this package's version; ``code``: the SHA-256 (16 hex
        digits) of the code of :data:`CODE_FILES` (their syntax trees, so
        that editing a comment or a docstring keeps the cached models); ``keras`` and
        ``tensorflow``: the installed versions (of ``tensorflow`` or
        ``tensorflow-cpu``); ``cache_version``: :data:`CACHE_VERSION`.
    """
    from . import __version__

    folder = Path(__file__).resolve().parent
    code = hashlib.sha256()
    for name in CODE_FILES:
        code.update(name.encode() + b"\0" + _code_only((folder / name).read_text(encoding="utf-8")).encode())
    return {"package": __version__, "code": code.hexdigest()[:16],
            "keras": config.installed_version("keras") or "none",
            "tensorflow": config.installed_version("tensorflow", "tensorflow-cpu") or "none",
            "cache_version": str(CACHE_VERSION)}


def cache_key(settings: TrainingSettings, images_train, images_val, *, split_seed=None, fast=None) -> str:
    """A 16-hex-digit hash of everything that determines the trained model.

    It covers the settings, the training and validation images themselves
    (so the split's indices, the image size and the data's source), the
    split's seed, the fast mode, and :func:`code_fingerprint`: the package's
    version, a hash of the model and training code, and the Keras and
    TensorFlow versions. So a cached model is used only by the code and
    libraries that would train exactly it; anything else trains afresh.

    Parameters
    ----------
    settings : TrainingSettings
    images_train, images_val : ndarray of float32, shape (n, H, W, 1)
    split_seed : int, optional
    fast : bool, optional
        None reads :func:`vaeface_utils.config.fast_mode`.

    Returns
    -------
    str
    """
    if not isinstance(settings, TrainingSettings):
        raise TypeError(f"`settings` must be a TrainingSettings; got {type(settings).__name__}.")
    fast = config.fast_mode() if fast is None else bool(fast)
    payload = {"settings": settings.to_dict(), "train": _digest(images_train), "val": _digest(images_val),
               "split_seed": None if split_seed is None else int(split_seed), "fast": fast,
               "code": code_fingerprint()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def cache_path(settings: TrainingSettings, *, faces=None, split=None, cache_dir=None) -> Path:
    """Where :func:`load_or_train_vae` keeps (or would keep) this model.

    ``<cache>/vae-<fast|full>-<cache_key>.keras``, with the history beside it
    in a ``.json`` file of the same name. Arguments as :func:`load_or_train_vae`.
    """
    faces, split = _resolve_data(faces, split)
    fast = config.fast_mode()
    key = cache_key(settings, faces.images[split.train], faces.images[split.val], split_seed=split.seed, fast=fast)
    folder = Path(cache_dir) if cache_dir is not None else config.cache_dir()
    return folder / f"vae-{'fast' if fast else 'full'}-{key}.keras"


def _write_atomically(path: Path, write):
    """Write via a temporary file in the same folder, then rename: a crash never leaves half a file."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def load_or_train_vae(settings: TrainingSettings | None = None, *, split=None, faces=None, cache_dir=None,
                      callbacks=None, verbose=0) -> TrainedVAE:
    """The trained course VAE: loaded from the cache if it was trained before, else trained and saved.

    The cache file's name holds :func:`cache_key` (a hash of the settings,
    the training and validation images, the split's seed, the fast mode and
    :data:`CACHE_VERSION`), so changing any of them trains a new model
    instead of loading a stale one. Training is seeded, so the same
    settings give the same model either way.

    Parameters
    ----------
    settings : TrainingSettings, optional
        Default :func:`course_settings` (full or fast, from the fast mode).
    split : vaeface_utils.data.Split, optional
        Default: the course split, ``split_per_identity(faces.identity,
        n_train=5, n_val=1, seed=0)``. Needs validation images.
    faces : vaeface_utils.data.FaceData, optional
        Default ``load_faces()`` (64 x 64).
    cache_dir : path-like, optional
        Default :func:`vaeface_utils.config.cache_dir` (``VAEFACE_CACHE`` or
        the git-ignored ``data/cache``).
    callbacks, verbose
        Passed to :func:`train_vae` when it trains.

    Returns
    -------
    TrainedVAE
        ``(vae, history, path, from_cache)``.

    Raises
    ------
    TypeError
        If ``settings``, ``faces`` or ``split`` has the wrong type.
    ValueError
        If ``split`` has no validation images or does not fit ``faces``.
    OSError
        If a cached file exists but cannot be read; the message says to delete it.

    Examples
    --------
    >>> result = load_or_train_vae()  # doctest: +SKIP
    >>> z = result.vae.encode(faces.images)  # doctest: +SKIP
    """
    if settings is None:
        settings = course_settings()
    if not isinstance(settings, TrainingSettings):
        raise TypeError(f"`settings` must be a TrainingSettings; got {type(settings).__name__}. "
                        "Use course_settings() or TrainingSettings(...).")
    faces, split = _resolve_data(faces, split)
    path = cache_path(settings, faces=faces, split=split, cache_dir=cache_dir)
    history_path = path.with_suffix(".json")
    keras = config.import_keras()
    from .model import VAE

    if path.is_file() and history_path.is_file():
        try:
            vae = keras.saving.load_model(path, safe_mode=True)
            history = json.loads(history_path.read_text())["history"]
        except Exception as error:  # a damaged or incompatible file
            raise OSError(f"The cached model {path.name} in {path.parent.name}/ could not be read "
                          f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}). "
                          "Delete it (and its .json) to train again.") from error
        if not isinstance(vae, VAE):
            raise OSError(f"The cached file {path.name} does not hold a VAE; delete it to train again.")
        return TrainedVAE(vae, history, path, True)

    vae, history = train_vae(faces.images[split.train], faces.images[split.val], settings,
                             callbacks=callbacks, verbose=verbose)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, vae.save)
    record = {"settings": settings.to_dict(), "split_seed": int(split.seed), "fast": config.fast_mode(),
              "n_train": int(len(split.train)), "n_val": int(len(split.val)), "code": code_fingerprint(),
              "history": history}
    _write_atomically(history_path, lambda p: p.write_text(json.dumps(record, indent=1)))
    return TrainedVAE(vae, history, path, False)
