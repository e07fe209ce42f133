"""VAE codes as face-recognition features, with a VAE trained on each split's training images only.

Notebook 04 compares the VAE's latent codes with pixels, eigenfaces and
fisherfaces over repeated per-person splits. For the comparison to be honest
the VAE used on a split must never have seen that split's query faces, so it
is trained afresh on each split's training images. This module holds the
pieces that make that cheap and repeatable:

:class:`PerSplitVAE`
    Trains (or loads from the git-ignored cache) one VAE per split, for a fixed
    training budget counted in images seen, and hands out ``fit_features``
    hooks for :func:`vaeface_utils.identification.evaluate_identification`:
    the posterior mean, a sampled ``z``, or the posterior mean followed by
    LDA. Each split's VAE is trained once and shared by all classifiers.
:class:`VAECodes`
    A scikit-learn transformer: ``fit`` takes the VAE trained on exactly the
    images it is given (from a :class:`PerSplitVAE`), ``transform`` encodes
    (posterior means, or one sample per image with
    :func:`~vaeface_utils.latent_diagnostics.sampled_z`).
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
from sklearn.base import BaseEstimator, TransformerMixin

from . import _validate, config
from . import model_cache as _cache
from . import training as _training
from .training_settings import TrainingSettings
from .identification import identification_accuracy, make_classifier
from .latent_diagnostics import sampled_z
from ._validate import int_in

__all__ = [
    "KINDS",
    "CACHE_PREFIX",
    "epochs_for",
    "PerSplitVAE",
    "VAECodes",
    "accuracy_during_training",
]

#: What :meth:`PerSplitVAE.fit_features` can hand out.
KINDS = ("mean", "sample", "mean+lda")
#: Prefix of this module's cache files (beside notebook 03's ``vae-*`` files).
CACHE_PREFIX = "vae04"


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
        int_in(value, name, 1, None, "")
    return max(1, int(round(images_seen / n_images)))


def _fixed_budget(settings, epochs):
    """The settings with ``epochs`` epochs and neither early stopping nor a learning-rate schedule."""
    return settings.replace(epochs=int(epochs), patience=int(epochs), reduce_lr_patience=0)


class PerSplitVAE:
    """One VAE per split, trained on that split's training images only, cached on disk.

    Use it through :meth:`fit_features` as the ``fit_features`` hook of
    :func:`vaeface_utils.identification.evaluate_identification`: for every split
    the hook receives the split's training images and returns a feature
    extractor built on a VAE trained on exactly those images (or loaded from
    the cache, if the same settings were trained on the same images before).
    The query images are never seen in training.

    The training budget is fixed in advance (chosen on validation images):
    ``images_seen`` images, i.e. :func:`epochs_for` ``(images_seen, n)``
    epochs for ``n`` training images, with no early stopping and no
    learning-rate schedule (there is no validation set inside a split's
    training images to stop on): :func:`vaeface_utils.training.train_vae`
    without validation images, which keeps the weights of the last epoch.

    Parameters
    ----------
    settings : vaeface_utils.training_settings.TrainingSettings
        The model and optimiser; ``epochs``, ``patience`` and
        ``reduce_lr_patience`` are replaced as described above.
    images_seen : int, optional
        The training budget in images seen; default ``settings.epochs`` times
        the number of training images (a budget in epochs).
    cache_dir : path-like, optional
        Default :func:`vaeface_utils.config.cache_dir`. Files are named
        ``vae04-<fast|full>-<key>.keras`` (and ``.json``), the key being
        :func:`vaeface_utils.model_cache.cache_key` of the per-split settings,
        the training images and the fast mode (no validation images).
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
    >>> from vaeface_utils.training_settings import course_settings
    >>> per_split = PerSplitVAE(course_settings(fast=True), images_seen=4800)
    >>> result = evaluate_identification(faces.images, faces.identity,   # doctest: +SKIP
    ...                                  fit_features=per_split.fit_features("mean"))
    """

    def __init__(self, settings, *, images_seen=None, cache_dir=None, max_in_memory=2):
        if not isinstance(settings, TrainingSettings):
            raise TypeError(f"`settings` must be a TrainingSettings; got {type(settings).__name__}. "
                            "Use training_settings.course_settings().replace(...).")
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

    def __deepcopy__(self, memo):
        """The store itself: scikit-learn's ``clone`` of a :class:`VAECodes` shares its VAEs, not copies them."""
        return self

    def split_settings(self, n_images):
        """The settings a split with ``n_images`` training images is trained with."""
        epochs = self.settings.epochs if self.images_seen is None else epochs_for(self.images_seen, n_images)
        return _fixed_budget(self.settings, epochs)

    def path(self, images_train):
        """Where the VAE for these training images is cached (it may not exist yet)."""
        settings = self.split_settings(len(images_train))
        key = _cache.cache_key(settings, images_train, None)
        folder = Path(self.cache_dir) if self.cache_dir is not None else config.cache_dir()
        return folder / f"{CACHE_PREFIX}-{'fast' if config.fast_mode() else 'full'}-{key}.keras"

    def vae(self, images_train):
        """The VAE trained on exactly ``images_train``: from memory, from the cache, or trained now (and cached).

        Parameters
        ----------
        images_train : ndarray of float32, shape (n, H, W, 1)
            The split's training images, and nothing else.

        Returns
        -------
        vaeface_utils.model.VAE
        """
        images_train = _validate.image_batch(images_train, "images_train")
        path = self.path(images_train)
        key = path.stem
        if key in self._vaes:
            self._vaes.move_to_end(key)
            return self._vaes[key]
        if path.is_file() and path.with_suffix(".json").is_file():
            vae, record = _cache.read_vae(path)
            self.loaded += 1
        else:
            settings = self.split_settings(len(images_train))
            vae, history = _training.train_vae(images_train, None, settings)
            record = {"settings": settings.to_dict(), "n_train": len(images_train), "fast": config.fast_mode(),
                      "train_seconds": float(sum(history["seconds"])), "history": history}
            _cache.write_vae(path, vae, record)
            self.trained += 1
        self.train_seconds[key] = float(record["train_seconds"])
        self._vaes[key] = vae
        while len(self._vaes) > self.max_in_memory:
            self._vaes.popitem(last=False)
        return vae

    def fit_features(self, kind="mean", *, seed=0):
        """A ``fit_features`` hook for :func:`~vaeface_utils.identification.evaluate_identification`.

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
            ``fit_features(images_train, identity_train, split) -> transformer``:
            a fitted :class:`VAECodes`, or a ``Pipeline`` of one and LDA.

        Raises
        ------
        ValueError
            Unknown ``kind``.
        """
        if kind not in KINDS:
            raise ValueError(f"Unknown `kind` {kind!r}; the known ones are {', '.join(map(repr, KINDS))}.")

        def fit_features(images_train, identity_train, split):
            codes = VAECodes(self, kind="sample" if kind == "sample" else "mean", seed=[int(seed), int(split.seed)])
            if kind == "mean+lda":
                from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
                from sklearn.pipeline import Pipeline

                return Pipeline([("vae", codes), ("lda", LinearDiscriminantAnalysis())]).fit(images_train,
                                                                                            identity_train)
            return codes.fit(images_train)

        fit_features.__name__ = f"per_split_vae_{kind.replace('+', '_')}"
        return fit_features


class VAECodes(TransformerMixin, BaseEstimator):
    """A scikit-learn transformer: the codes of a VAE trained on the images it is fitted on.

    ``fit(X)`` takes the VAE trained on exactly ``X`` from ``source``
    (a :class:`PerSplitVAE`: its memory, the cache, or training now, for its
    fixed budget); ``transform(X)`` encodes. So it can sit first in a
    ``Pipeline`` that is fitted on a split's training images only.

    Parameters
    ----------
    source : PerSplitVAE
    kind : {"mean", "sample"}, default "mean"
        ``"mean"``: the posterior mean ``z_mean``. ``"sample"``: one
        reparameterised sample per image (:func:`sampled_z`), fresh noise for
        every image and every call: the noise a batch gets depends on how
        many ``transform`` calls came before it since ``fit`` (as in
        :meth:`PerSplitVAE.fit_features`, where the gallery is encoded
        first, then the queries).
    seed : int or sequence of int, default 0
        Seed of the noise of ``"sample"``, reset by each ``fit``.

    Attributes
    ----------
    vae_ : vaeface_utils.model.VAE
        The VAE, after ``fit``.
    """

    def __init__(self, source=None, kind="mean", seed=0):
        self.source = source
        self.kind = kind
        self.seed = seed

    def fit(self, X, y=None):
        if not isinstance(self.source, PerSplitVAE):
            raise TypeError(f"`source` must be a PerSplitVAE; got {type(self.source).__name__}.")
        if self.kind not in ("mean", "sample"):
            raise ValueError(f"`kind` must be 'mean' or 'sample'; got {self.kind!r}.")
        self.vae_ = self.source.vae(X)
        self.rng_ = np.random.default_rng(self.seed)
        return self

    def transform(self, X):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "vae_")
        if self.kind == "sample":
            return sampled_z(*self.vae_.posterior(X), seed=self.rng_)
        return self.vae_.encode(X)


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
    settings : vaeface_utils.training_settings.TrainingSettings
    images_train, images_val : ndarray of float32, shape (n, H, W, 1)
    identity_train, identity_val : array_like of int, shape (n,)
    classifiers : sequence of (str, str), default (("1nn-euclidean", "none"),)
        ``(name, normalise)`` pairs for :func:`vaeface_utils.identification.make_classifier`.
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
    if not isinstance(settings, TrainingSettings):
        raise TypeError(f"`settings` must be a TrainingSettings; got {type(settings).__name__}.")
    int_in(every, "every", 1, None, "Use e.g. 5.")
    classifiers = [(str(name), str(normalise)) for name, normalise in classifiers]
    for name, normalise in classifiers:
        make_classifier(name, normalise=normalise)  # unknown names fail here
    if not classifiers:
        raise ValueError("`classifiers` is empty; pass e.g. [('1nn-euclidean', 'none')].")
    settings = _fixed_budget(settings, settings.epochs)
    images_train = _validate.image_batch(images_train, "images_train")
    images_val = _validate.image_batch(images_val, "images_val")
    identity_train, identity_val = np.asarray(identity_train), np.asarray(identity_val)
    key = _cache.cache_key(settings, images_train, images_val, split_seed=split_seed)
    # The curve is computed by the encoder's NumPy helpers and the classifiers: their code is in its key too.
    scoring_code = _cache.code_hash(("inference.py", "identification.py", "latent_features.py", "_validate.py"))
    extra = hashlib.sha256(json.dumps([classifiers, int(every), identity_train.tolist(), identity_val.tolist(),
                                       scoring_code]).encode()).hexdigest()[:8]
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
                clf = make_classifier(name, normalise=normalise)
                curve["accuracy"][label].append(identification_accuracy(
                    z_train, identity_train, z_val, identity_val, clf))

    start = time.perf_counter()
    _, history = _training.train_vae(images_train, None, settings, callbacks=[ValidationAccuracy()])
    curve["train_seconds"] = float(sum(history["seconds"]))
    curve["wall_seconds"] = time.perf_counter() - start
    path.parent.mkdir(parents=True, exist_ok=True)
    _cache._write_atomically(path, lambda p: p.write_text(json.dumps(curve)))
    return {**curve, "from_cache": False}
