"""VAE codes as face-recognition features, with a VAE trained on each split's training images only.

Notebook 04 compares the VAE's latent codes with pixels, eigenfaces and
fisherfaces over repeated per-person splits. For the comparison to be honest
the VAE used on a split must never have seen that split's query faces, so it
is trained afresh on each split's training images. This module holds the
pieces that make that cheap and repeatable:

:class:`PerSplitVAE`
    Trains (or loads from the git-ignored cache) one VAE per split, for a fixed
    training budget counted in images seen, and hands out ``fit_features``
    hooks for :func:`vaeface_utils.recognition.evaluate_identification`:
    the posterior mean, a sampled ``z``, or the posterior mean followed by
    LDA. Each split's VAE is trained once and shared by all classifiers.
:func:`sampled_z`
    The reparameterised sample ``z = z_mean + exp(z_log_var / 2) * eps``.
:func:`accuracy_during_training`
    Trains one VAE on training images and records the identification accuracy
    of validation images every few epochs (cached), for choosing the latent
    size, ``beta`` and the training budget on validation images only.

Importing this module imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from numbers import Integral
from pathlib import Path

import numpy as np

from . import config
from . import recognition as _recognition
from . import training as _training

__all__ = [
    "KINDS",
    "CACHE_PREFIX",
    "sampled_z",
    "epochs_for",
    "PerSplitVAE",
    "accuracy_during_training",
]

#: What :meth:`PerSplitVAE.fit_features` can hand out.
KINDS = ("mean", "sample", "mean+lda")
#: Prefix of this module's cache files (beside notebook 03's ``vae-*`` files).
CACHE_PREFIX = "vae04"


def sampled_z(z_mean, z_log_var, seed=0):
    """One reparameterised sample from each posterior: ``z_mean + exp(z_log_var / 2) * eps``.

    Parameters
    ----------
    z_mean, z_log_var : array_like of float, shape (n, latent_dim)
        The posterior q(z|x) = N(z_mean, diag(exp(z_log_var))), e.g. from
        :meth:`vaeface_utils.model.VAE.posterior`.
    seed : int or numpy.random.Generator, default 0
        The noise ``eps ~ N(0, I)`` comes from ``numpy.random.default_rng(seed)``.

    Returns
    -------
    ndarray of float64, shape (n, latent_dim)

    Raises
    ------
    ValueError
        If the two arrays differ in shape or are not 2-D.

    Examples
    --------
    >>> z = sampled_z([[0.0, 1.0]], [[-50.0, -50.0]])  # a tiny variance: the mean, almost exactly
    >>> z.shape, bool(np.allclose(z, [[0.0, 1.0]]))
    ((1, 2), True)
    """
    z_mean = np.asarray(z_mean, dtype=np.float64)
    z_log_var = np.asarray(z_log_var, dtype=np.float64)
    if z_mean.ndim != 2 or z_mean.shape != z_log_var.shape:
        raise ValueError(f"`z_mean` and `z_log_var` must be 2-D arrays of one shape (n, latent_dim); got "
                         f"{z_mean.shape} and {z_log_var.shape}. Pass the two outputs of vae.posterior(images).")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal(z_mean.shape)


def epochs_for(images_seen, n_images):
    """Epochs that show the model about ``images_seen`` images when there are ``n_images``.

    A training budget counted in images seen (so in gradient steps, at a fixed
    batch size) treats every training-set size alike: 5 images of 40 people
    for 30 epochs and 1 image of 40 people for 150 epochs are the same budget.

    Parameters
    ----------
    images_seen : int
        The budget, >= 1.
    n_images : int
        Training images, >= 1.

    Returns
    -------
    int
        ``max(1, round(images_seen / n_images))``.

    Raises
    ------
    ValueError
        If either argument is not an int >= 1.

    Examples
    --------
    >>> epochs_for(4800, 160), epochs_for(4800, 200), epochs_for(4800, 40)
    (30, 24, 120)
    """
    for name, value in (("images_seen", images_seen), ("n_images", n_images)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
            raise ValueError(f"`{name}` must be an int >= 1; got {value!r}.")
    return max(1, int(round(images_seen / n_images)))


def _fixed_budget(settings, epochs):
    """The settings with ``epochs`` epochs and neither early stopping nor a learning-rate schedule."""
    return settings.replace(epochs=int(epochs), patience=int(epochs), reduce_lr_patience=0)


def _load(path):
    keras = config.import_keras()
    from .model import VAE

    try:
        vae = keras.saving.load_model(path, safe_mode=True)
        record = json.loads(path.with_suffix(".json").read_text())
    except Exception as error:  # a damaged or incompatible file
        raise OSError(f"The cached model {path.name} in {path.parent.name}/ could not be read "
                      f"({type(error).__name__}). Delete it (and its .json) to train again.") from error
    if not isinstance(vae, VAE):
        raise OSError(f"The cached file {path.name} does not hold a VAE; delete it to train again.")
    return vae, record


def _save(path, vae, record):
    path.parent.mkdir(parents=True, exist_ok=True)
    _training._write_atomically(path, vae.save)
    _training._write_atomically(path.with_suffix(".json"), lambda p: p.write_text(json.dumps(record, indent=1)))


class PerSplitVAE:
    """One VAE per split, trained on that split's training images only, cached on disk.

    Use it through :meth:`fit_features` as the ``fit_features`` hook of
    :func:`vaeface_utils.recognition.evaluate_identification`: for every split
    the hook receives the split's training images and returns a feature
    extractor built on a VAE trained on exactly those images (or loaded from
    the cache, if the same settings were trained on the same images before).
    The query images are never seen in training.

    The training budget is fixed in advance (chosen on validation images):
    ``images_seen`` images, i.e. :func:`epochs_for` ``(images_seen, n)``
    epochs for ``n`` training images, with no early stopping and no
    learning-rate schedule (there is no validation set inside a split's
    training images to stop on). :func:`vaeface_utils.training.train_vae`
    still needs validation images for its loss curves; it gets the training
    images, so its "validation" loss is the training loss measured once more.
    Note that ``train_vae`` restores the weights of the epoch with the lowest
    such loss, which is almost always one of the last epochs.

    Parameters
    ----------
    settings : vaeface_utils.training.TrainingSettings
        The model and optimiser; ``epochs``, ``patience`` and
        ``reduce_lr_patience`` are replaced as described above.
    images_seen : int, optional
        The training budget in images seen; default ``settings.epochs`` times
        the number of training images (a budget in epochs).
    cache_dir : path-like, optional
        Default :func:`vaeface_utils.config.cache_dir`. Files are named
        ``vae04-<fast|full>-<key>.keras`` (and ``.json``), the key being
        :func:`vaeface_utils.training.cache_key` of the per-split settings,
        the training images, the split's seed and the fast mode.
    max_in_memory : int, default 2
        How many VAEs to keep in memory, the most recently used; older ones
        are read back from the cache when needed again. Each trained VAE
        kept (with its optimiser and compiled steps) holds on to memory that
        notebook 04, with dozens of them, cannot spare on Binder (2 GB).

    Attributes
    ----------
    train_seconds : dict of str to float
        Wall-clock seconds that training each split's VAE took (read from
        the cache's record when it was loaded), by cache key.
    trained, loaded : int
        How many VAEs this object trained, and how many it loaded from disk.

    Raises
    ------
    TypeError
        If ``settings`` is not a TrainingSettings.
    ValueError
        If ``images_seen`` is not an int >= 1.

    Examples
    --------
    >>> from vaeface_utils.training import course_settings
    >>> per_split = PerSplitVAE(course_settings(fast=True), images_seen=4800)
    >>> result = evaluate_identification(faces.images, faces.identity,   # doctest: +SKIP
    ...                                  fit_features=per_split.fit_features("mean"))
    """

    def __init__(self, settings, *, images_seen=None, cache_dir=None, max_in_memory=2):
        if not isinstance(settings, _training.TrainingSettings):
            raise TypeError(f"`settings` must be a TrainingSettings; got {type(settings).__name__}. "
                            "Use training.course_settings().replace(...).")
        if images_seen is not None and (isinstance(images_seen, bool) or not isinstance(images_seen, Integral)
                                        or images_seen < 1):
            raise ValueError(f"`images_seen` must be None or an int >= 1; got {images_seen!r}. "
                             "E.g. 30 epochs of 160 images is 4800.")
        if isinstance(max_in_memory, bool) or not isinstance(max_in_memory, Integral) or max_in_memory < 1:
            raise ValueError(f"`max_in_memory` must be an int >= 1; got {max_in_memory!r}. "
                             "Use 1 to keep only the VAE in use.")
        self.settings = settings
        self.max_in_memory = int(max_in_memory)
        self.images_seen = None if images_seen is None else int(images_seen)
        self.cache_dir = cache_dir
        self.train_seconds = {}
        self.trained = 0
        self.loaded = 0
        self._vaes = OrderedDict()  # least recently used first

    def __repr__(self):
        budget = f"{self.images_seen} images seen" if self.images_seen else f"{self.settings.epochs} epochs"
        return (f"PerSplitVAE(latent_dim={self.settings.latent_dim}, beta={self.settings.beta}, {budget}; "
                f"{len(self._vaes)} VAEs in memory)")

    def split_settings(self, n_images):
        """The settings a split with ``n_images`` training images is trained with."""
        epochs = self.settings.epochs if self.images_seen is None else epochs_for(self.images_seen, n_images)
        return _fixed_budget(self.settings, epochs)

    def _key(self, images_train, split_seed):
        settings = self.split_settings(len(images_train))
        return settings, _training.cache_key(settings, images_train, images_train, split_seed=split_seed)

    def vae(self, images_train, split_seed=0):
        """The VAE for one split: from memory, from the cache, or trained now (and cached).

        Parameters
        ----------
        images_train : ndarray of float32, shape (n, H, W, 1)
            The split's training images, and nothing else.
        split_seed : int, default 0
            The split's seed (part of the cache key).

        Returns
        -------
        vaeface_utils.model.VAE
        """
        images_train = _training._check_images(images_train, "images_train")
        settings, key = self._key(images_train, split_seed)
        if key in self._vaes:
            self._vaes.move_to_end(key)
            return self._vaes[key]
        folder = Path(self.cache_dir) if self.cache_dir is not None else config.cache_dir()
        path = folder / f"{CACHE_PREFIX}-{'fast' if config.fast_mode() else 'full'}-{key}.keras"
        if path.is_file() and path.with_suffix(".json").is_file():
            vae, record = _load(path)
            self.loaded += 1
        else:
            vae, history = _training.train_vae(images_train, images_train, settings)
            record = {"settings": settings.to_dict(), "split_seed": int(split_seed), "n_train": len(images_train),
                      "fast": config.fast_mode(), "train_seconds": float(sum(history["seconds"])),
                      "code": _training.code_fingerprint(), "history": history}
            _save(path, vae, record)
            self.trained += 1
        self.train_seconds[key] = float(record["train_seconds"])
        self._vaes[key] = vae
        while len(self._vaes) > self.max_in_memory:
            self._vaes.popitem(last=False)
        return vae

    def fit_features(self, kind="mean", *, seed=0):
        """A ``fit_features`` hook for :func:`~vaeface_utils.recognition.evaluate_identification`.

        Parameters
        ----------
        kind : {"mean", "sample", "mean+lda"}, default "mean"
            ``"mean"``: the posterior mean ``z_mean`` (``vae.encode``).
            ``"sample"``: one sampled ``z`` per image (:func:`sampled_z`),
            fresh noise for every image, gallery and queries alike.
            ``"mean+lda"``: the posterior mean, then linear discriminant
            analysis fitted on the split's training codes and identities
            (needs at least two training images of some people).
        seed : int, default 0
            For ``"sample"``: the noise of split ``s`` comes from the seed
            ``(seed, s)``.

        Returns
        -------
        callable
            ``fit_features(images_train, identity_train, split) -> transformer``.

        Raises
        ------
        ValueError
            Unknown ``kind``.
        """
        if kind not in KINDS:
            raise ValueError(f"Unknown `kind` {kind!r}; the known ones are {', '.join(map(repr, KINDS))}.")

        def fit_features(images_train, identity_train, split):
            vae = self.vae(images_train, split.seed)
            if kind == "sample":
                rng = np.random.default_rng([int(seed), int(split.seed)])
                encode = lambda x: sampled_z(*vae.posterior(x), seed=rng)  # noqa: E731
                return _recognition.EncoderFeatures(encode).fit(images_train)
            if kind == "mean":
                return _recognition.EncoderFeatures(vae.encode).fit(images_train)
            from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
            from sklearn.pipeline import Pipeline

            return Pipeline([("vae", _recognition.EncoderFeatures(vae.encode)),
                             ("lda", LinearDiscriminantAnalysis())]).fit(images_train, identity_train)

        fit_features.__name__ = f"per_split_vae_{kind.replace('+', '_')}"
        return fit_features


def accuracy_during_training(settings, images_train, identity_train, images_val, identity_val, *,
                             classifiers=(("1nn-euclidean", "none"),), every=5, split_seed=0, cache_dir=None):
    """Train one VAE and measure validation accuracy every few epochs (cached).

    The VAE is trained on ``images_train`` for ``settings.epochs`` epochs
    (fixed budget: no early stopping, no learning-rate schedule). Every
    ``every`` epochs, and after the last, the posterior means of the training
    images are the gallery and those of the validation images the queries,
    for each classifier. Use it on training and validation images only: the
    curve is what the training budget, latent size and ``beta`` are chosen on.

    Parameters
    ----------
    settings : vaeface_utils.training.TrainingSettings
    images_train, images_val : ndarray of float32, shape (n, H, W, 1)
    identity_train, identity_val : array_like of int, shape (n,)
    classifiers : sequence of (str, str), default (("1nn-euclidean", "none"),)
        ``(name, normalise)`` pairs for :func:`vaeface_utils.recognition.make_classifier`.
    every : int, default 5
    split_seed : int, default 0
        Part of the cache key.
    cache_dir : path-like, optional
        Default :func:`vaeface_utils.config.cache_dir`; the result is kept as
        ``vae04-<fast|full>-curve-<key>.json``.

    Returns
    -------
    dict
        ``"epochs"``: list of int; ``"accuracy"``: dict from ``"name/normalise"``
        to a list of accuracies in [0, 1], one per entry of ``"epochs"``;
        ``"train_seconds"``: float; ``"from_cache"``: bool.

    Raises
    ------
    TypeError
        If ``settings`` is not a TrainingSettings.
    ValueError
        If ``every`` is not an int >= 1, or a classifier is unknown.
    """
    if not isinstance(settings, _training.TrainingSettings):
        raise TypeError(f"`settings` must be a TrainingSettings; got {type(settings).__name__}.")
    if isinstance(every, bool) or not isinstance(every, Integral) or every < 1:
        raise ValueError(f"`every` must be an int >= 1; got {every!r}. Use e.g. 5.")
    classifiers = [(str(name), str(normalise)) for name, normalise in classifiers]
    for name, normalise in classifiers:
        _recognition.make_classifier(name, normalise=normalise)  # unknown names fail here
    if not classifiers:
        raise ValueError("`classifiers` is empty; pass e.g. [('1nn-euclidean', 'none')].")
    settings = _fixed_budget(settings, settings.epochs)
    images_train = _training._check_images(images_train, "images_train")
    images_val = _training._check_images(images_val, "images_val")
    identity_train, identity_val = np.asarray(identity_train), np.asarray(identity_val)
    key = _training.cache_key(settings, images_train, images_val, split_seed=split_seed)
    extra = hashlib.sha256(json.dumps([classifiers, int(every), identity_train.tolist(),
                                       identity_val.tolist()]).encode()).hexdigest()[:8]
    folder = Path(cache_dir) if cache_dir is not None else config.cache_dir()
    path = folder / f"{CACHE_PREFIX}-{'fast' if config.fast_mode() else 'full'}-curve-{key}-{extra}.json"
    if path.is_file():
        return {**json.loads(path.read_text()), "from_cache": True}

    keras = config.import_keras()
    labels = [f"{name}/{normalise}" for name, normalise in classifiers]
    curve = {"epochs": [], "accuracy": {label: [] for label in labels}}

    class ValidationAccuracy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if (epoch + 1) % every and epoch + 1 != settings.epochs:
                return
            z_train, z_val = self.model.encode(images_train), self.model.encode(images_val)
            curve["epochs"].append(epoch + 1)
            for label, (name, normalise) in zip(labels, classifiers):
                clf = _recognition.make_classifier(name, normalise=normalise)
                curve["accuracy"][label].append(_recognition.identification_accuracy(
                    z_train, identity_train, z_val, identity_val, clf))

    start = time.perf_counter()
    _, history = _training.train_vae(images_train, images_val, settings, callbacks=[ValidationAccuracy()])
    curve["train_seconds"] = float(sum(history["seconds"]))
    curve["wall_seconds"] = time.perf_counter() - start
    path.parent.mkdir(parents=True, exist_ok=True)
    _training._write_atomically(path, lambda p: p.write_text(json.dumps(curve)))
    return {**curve, "from_cache": False}
