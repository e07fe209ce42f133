"""VAEs trained on faces together with who is in them: the base of notebook 06's models.

A plain VAE is trained on images alone. Notebook 06 asks whether telling the
model *who* is in each training image makes its code an identity code. Its
three models (a class-conditional prior, a supervised head, a split code)
share what is here:

:class:`LabelledVAE`
    The course's :class:`~vaeface_utils.model.VAE` (Gaussian decoder, loss in
    nats per image) trained on pairs ``(images, people)``, where ``people``
    holds one index ``0 .. n_people - 1`` per image. On its own it ignores the
    people and is the plain VAE, trained exactly like the others, which makes
    it the fair reference. Subclasses change :meth:`LabelledVAE._terms`.
:func:`people_index`
    Turns any identity labels into the indices the models take.
:func:`grouped_dataset`
    Batches that hold *all* training images of a few people, so that every
    person in a batch appears with all their images (the split code needs
    this; the other models are trained on the same batches, for fairness).
:func:`train_labelled`
    Trains a model for a fixed budget on grouped batches, seeded.
:class:`PerSplitModels`
    One trained model per split and setting, cached on disk under a key of the
    model's configuration, the budget, the images, the people and the code.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from . import _validate, config
from . import model_cache as _cache
from ._validate import int_in
from ._validate import is_array_like as _is_array_like
from .callbacks import StopOnNaN
from .model import VAE, keras, ops, tf

__all__ = ["LabelledVAE", "people_index", "check_people", "grouped_dataset", "train_labelled", "PerSplitModels",
           "CODE_FILES"]

#: The modules whose code decides what a trained labelled model is (hashed into every cache key).
CODE_FILES = ("model.py", "elbo.py", "labelled.py", "conditional_prior.py", "supervised_head.py", "split_code.py",
              "cnn.py")


def _positive_int(value, name, fix, low=1):
    return int_in(value, name, low, None, fix)


def people_index(identity):
    """Map identity labels to indices ``0 .. P - 1``.

    Parameters
    ----------
    identity : array_like, shape (n,)
        Any labels, e.g. ``faces.identity[split.train]``.

    Returns
    -------
    index : ndarray of int32, shape (n,)
        ``people[index] == identity``.
    people : ndarray, shape (P,)
        The distinct labels, sorted.

    Examples
    --------
    >>> index, people = people_index([7, 3, 7, 9])
    >>> index.tolist(), people.tolist()
    ([1, 0, 1, 2], [3, 7, 9])
    """
    identity = np.asarray(identity)
    if identity.ndim != 1 or len(identity) == 0:
        raise ValueError(f"`identity` must be a non-empty 1-D array of labels; got shape {identity.shape}.")
    people, index = np.unique(identity, return_inverse=True)
    return index.astype(np.int32), people


def check_people(people, n, n_people, name="people"):
    """Check person indices: integers in ``[0, n_people)``, one per image; returns int32.

    Raises
    ------
    TypeError
        If they are not integers.
    ValueError
        If their number is not ``n``, or one is out of range.
    """
    if not _is_array_like(people):
        raise TypeError(f"`{name}` must be an array of person indices, one per image; got "
                        f"{type(people).__name__}. Use labelled.people_index(identity)[0].")
    people = np.asarray(people)
    if people.dtype.kind not in "iu":
        raise TypeError(f"`{name}` must hold integer person indices; got dtype {people.dtype}. "
                        "Use labelled.people_index(identity)[0] to turn labels into indices.")
    if people.ndim != 1 or len(people) != n:
        raise ValueError(f"`{name}` must have one index per image: shape ({n},); got {people.shape}.")
    if n and (people.min() < 0 or people.max() >= n_people):
        raise ValueError(f"`{name}` must lie in [0, {n_people}) (the model's n_people); got values from "
                         f"{people.min()} to {people.max()}. Build the model with n_people = the number of "
                         "people in training, and map labels with labelled.people_index.")
    return people.astype(np.int32)


@keras.saving.register_keras_serializable(package="vaeface")
class LabelledVAE(VAE):
    """A VAE trained on ``(images, people)``; this base class ignores the people.

    Everything of :class:`~vaeface_utils.model.VAE` holds (the encoder and
    decoder, the Gaussian decoder's learned variance, the NumPy helpers
    ``posterior``, ``encode``, ``decode``, ``elbo_terms``); ``fit`` and
    ``evaluate`` take the person index of each image as ``y``.

    Parameters
    ----------
    n_people : int, default 40
        How many people training can name; person indices lie in ``[0, n_people)``.
    image_shape, latent_dim, filters, seed, ...
        As :class:`~vaeface_utils.model.VAE`; the likelihood defaults to
        ``"gaussian"`` and the filters to ``(16, 32, 64)``.
    """

    #: Extra per-batch quantities a subclass reports, besides loss, reconstruction_loss and kl.
    extra_metrics = ()

    def __init__(self, n_people=40, image_shape=(32, 32, 1), latent_dim=32, filters=(16, 32, 64),
                 likelihood="gaussian", **kwargs):
        if float(kwargs.get("beta", 1.0)) != 1.0:
            raise ValueError(f"A LabelledVAE trains on the ELBO itself: `beta` must be 1; got {kwargs['beta']!r}. "
                             "Use vaeface_utils.model.VAE to weight the KL.")
        if kwargs.get("dtype") not in (None, "float32"):
            raise ValueError(f"A LabelledVAE computes in float32; got dtype={kwargs['dtype']!r}. Leave `dtype` unset.")
        super().__init__(image_shape=image_shape, latent_dim=latent_dim, filters=filters, likelihood=likelihood,
                         **kwargs)
        self.n_people = _positive_int(n_people, "n_people", "Give the number of people in training.")
        self.extra_trackers = [keras.metrics.Mean(name=name) for name in self.extra_metrics]

    def get_config(self):
        return {**super().get_config(), "n_people": self.n_people}

    @staticmethod
    def check_training_people(people):
        """Check that these training people suit the model (any do, here); subclasses raise ValueError."""

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker, *self.extra_trackers]

    # -- the loss -----------------------------------------------------------

    def _terms(self, x, people, training):
        """The loss and its parts, each a mean over the batch in nats per image; here the plain ELBO."""
        loss, reconstruction_loss, kl = self._loss_terms(x, training)
        return {"loss": loss, "reconstruction_loss": reconstruction_loss, "kl": kl}

    def _step_data(self, data):
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError("A LabelledVAE is trained on (images, people): pass `y=people` to fit/evaluate, "
                             "or a dataset of (images, people) pairs such as labelled.grouped_dataset(...).")
        return ops.cast(data[0], "float32"), ops.cast(data[1], "int32")

    def _report(self, terms, n):
        for tracker in self.metrics:
            tracker.update_state(terms[tracker.name], sample_weight=n)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        x, people = self._step_data(data)
        with tf.GradientTape() as tape:
            terms = self._terms(x, people, training=True)
            total = terms["loss"] + ops.sum(self.losses) if self.losses else terms["loss"]
        grads = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        return self._report(terms, ops.cast(ops.shape(x)[0], "float32"))

    def test_step(self, data):
        x, people = self._step_data(data)
        return self._report(self._terms(x, people, training=False), ops.cast(ops.shape(x)[0], "float32"))

    # -- checked entry points ------------------------------------------------

    def fit(self, x=None, y=None, *args, callbacks=None, **kwargs):
        """``keras.Model.fit`` on ``(images, people)``; checks both and stops on NaN."""
        if _is_array_like(x):
            self._check(x, "x")
            if y is None:
                raise ValueError("A LabelledVAE needs the person index of each image: fit(images, people).")
            y = check_people(y, len(x), self.n_people, "y")
        callbacks = list(callbacks or [])
        if not any(isinstance(c, keras.callbacks.TerminateOnNaN) for c in callbacks):
            callbacks.append(StopOnNaN())
        return keras.Model.fit(self, x, y, *args, callbacks=callbacks, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """``keras.Model.evaluate`` on ``(images, people)``, checked."""
        if _is_array_like(x):
            self._check(x, "x")
            if y is None:
                raise ValueError("A LabelledVAE needs the person index of each image: evaluate(images, people).")
            y = check_people(y, len(x), self.n_people, "y")
        return keras.Model.evaluate(self, x, y, *args, **kwargs)

    # -- what notebook 06 reads off a trained model ------------------------------

    def identity_features(self, x):
        """The code recognition uses: here the whole posterior mean, (n, latent_dim)."""
        return self.encode(x)

    def heldout_elbo(self, x, seed=0, n_samples=8):
        """The ELBO of each image, a lower bound on log p(x) that uses no label, in nats.

        The average of ``n_samples`` one-sample estimates (seeded), float64 of shape (n,).
        """
        n_samples = _positive_int(n_samples, "n_samples", "Use e.g. 8.")
        return np.mean([self.elbo_terms(x, seed=[seed, i])["elbo"] for i in range(n_samples)], axis=0)


# --------------------------------------------------------------------------
# Training


def grouped_dataset(images, people, *, people_per_batch=8, epochs=1, seed=0):
    """Batches that each hold all the images of ``people_per_batch`` people, reshuffled every epoch.

    Parameters
    ----------
    images : ndarray of float32, shape (n, H, W, 1)
    people : array_like of int, shape (n,)
        Person indices ``0 .. P - 1`` (see :func:`people_index`).
    people_per_batch : int, default 8
    epochs : int, default 1
        The dataset yields ``epochs * ceil(P / people_per_batch)`` batches.
    seed : int, default 0
        The order of people in each epoch comes from this seed.

    Returns
    -------
    dataset : tf.data.Dataset of (images, people)
    steps_per_epoch : int
    """
    images = _validate.image_batch(images, "images")
    people = check_people(people, len(images), int(np.max(people)) + 1 if len(images) else 1)
    people_per_batch = _positive_int(people_per_batch, "people_per_batch", "Use e.g. 8.")
    epochs = _positive_int(epochs, "epochs", "Train for at least one epoch.")
    persons = np.unique(people)
    rows = [np.flatnonzero(people == p) for p in persons]
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(epochs):
        order = rng.permutation(len(persons))
        for start in range(0, len(order), people_per_batch):
            batches.append(np.concatenate([rows[i] for i in order[start:start + people_per_batch]]))
    steps = -(-len(persons) // people_per_batch)
    indices = tf.RaggedTensor.from_row_lengths(np.concatenate(batches), [len(b) for b in batches])
    x, y = tf.constant(images), tf.constant(people)
    dataset = tf.data.Dataset.from_tensor_slices(indices).map(lambda i: (tf.gather(x, i), tf.gather(y, i)))
    return dataset.prefetch(tf.data.AUTOTUNE), steps


def train_labelled(model, images, people, *, epochs, learning_rate=2e-3, people_per_batch=8, seed=0,
                   callbacks=None):
    """Train ``model`` for exactly ``epochs`` epochs of grouped batches, seeded; returns its history.

    Adam at ``learning_rate``, no early stopping (the budget is chosen on
    validation beforehand). Without ``callbacks`` the epochs' steps run as
    one Keras epoch, so the history holds one value per quantity: its mean
    over the whole training; with callbacks, one value per epoch. ``keras.utils.set_random_seed(seed)`` is called
    first, so build the model *after* seeding if its initial weights must
    repeat too (:class:`PerSplitModels` does).
    """
    people = check_people(people, len(images), model.n_people)
    epochs = _positive_int(epochs, "epochs", "Train for at least one epoch.")
    if hasattr(model, "check_training_people"):
        model.check_training_people(people)
    dataset, steps = grouped_dataset(images, people, people_per_batch=people_per_batch, epochs=epochs, seed=seed)
    if not model.compiled:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    if callbacks:
        fit = model.fit(dataset, epochs=epochs, steps_per_epoch=steps, callbacks=callbacks, verbose=0,
                        shuffle=False)  # the batches are shuffled by person already
    else:  # the same steps as one Keras epoch: a third faster, without Keras's per-epoch overhead
        fit = model.fit(dataset, epochs=1, steps_per_epoch=steps * epochs, verbose=0, shuffle=False)
    return {key: [float(v) for v in values] for key, values in fit.history.items()}


def _fingerprint():
    return {**_cache.code_fingerprint(), "labelled_code": _cache.code_hash(CODE_FILES)}


class PerSplitModels:
    """Trained labelled models, one per (settings, training images, people), kept in a disk cache.

    Parameters
    ----------
    cache_dir : path-like, optional
        Default :func:`vaeface_utils.config.cache_dir`. Files are named
        ``id06-<fast|full>-<key>.keras`` (with a ``.json`` record beside).
    max_in_memory : int, default 2
        How many trained models to keep in memory (the most recently used).

    Attributes
    ----------
    trained, loaded : int
    train_seconds : dict of str to float
        Seconds each model took to train, by cache key.
    """

    def __init__(self, cache_dir=None, max_in_memory=2):
        self.cache_dir = cache_dir
        self.max_in_memory = _positive_int(max_in_memory, "max_in_memory", "Use 1 to keep only the model in use.")
        self.trained = 0
        self.loaded = 0
        self.train_seconds = {}
        self._models = OrderedDict()

    def get(self, make_model, config_, images, people, *, epochs, learning_rate=2e-3, people_per_batch=8, seed=0):
        """The model ``make_model(**config_)`` trained on ``images, people``: from memory, the cache, or trained now.

        ``config_`` must be JSON-ready; it is part of the cache key, with the
        budget, the model's class, the images, the people, the fast mode and
        the code of :data:`CODE_FILES` and the libraries' versions.
        """
        images = _validate.image_batch(images, "images")
        people = np.asarray(people)
        payload = {"model": getattr(make_model, "__name__", str(make_model)), "config": config_,
                   "epochs": int(epochs), "learning_rate": float(learning_rate),
                   "people_per_batch": int(people_per_batch), "seed": int(seed),
                   "images": _cache._digest(images), "people": _cache._digest(people.astype(np.int64)),
                   "fast": config.fast_mode(), "code": _fingerprint()}
        key = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
        if key in self._models:
            self._models.move_to_end(key)
            return self._models[key]
        folder = Path(self.cache_dir) if self.cache_dir is not None else config.cache_dir()
        path = folder / f"id06-{'fast' if config.fast_mode() else 'full'}-{key}.keras"
        if path.is_file() and path.with_suffix(".json").is_file():
            try:
                model = keras.saving.load_model(path, safe_mode=True)
                record = json.loads(path.with_suffix(".json").read_text())
            except Exception as error:  # a damaged or incompatible file
                raise OSError(f"The cached model {path.name} in {path.parent.name}/ could not be read "
                              f"({type(error).__name__}). Delete it (and its .json) to train again.") from error
            self.loaded += 1
        else:
            keras.utils.set_random_seed(seed)
            model = make_model(**config_)
            start = time.perf_counter()
            history = train_labelled(model, images, people, epochs=epochs, learning_rate=learning_rate,
                                     people_per_batch=people_per_batch, seed=seed)
            record = {**payload, "train_seconds": time.perf_counter() - start, "history": history}
            path.parent.mkdir(parents=True, exist_ok=True)
            _cache._write_atomically(path, model.save)
            _cache._write_atomically(path.with_suffix(".json"), lambda p: p.write_text(json.dumps(record)))
            self.trained += 1
        self.train_seconds[key] = float(record["train_seconds"])
        self._models[key] = model
        while len(self._models) > self.max_in_memory:
            self._models.popitem(last=False)
        return model
