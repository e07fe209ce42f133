"""Training the course VAE: the input pipeline and one training loop.

- :func:`make_dataset`, a ``tf.data`` pipeline over images in memory;
- :func:`train_vae`, which builds a :class:`~vaeface_utils.model.VAE` from
  :class:`~vaeface_utils.training_settings.TrainingSettings` and fits it in
  graph mode: with validation images, early stopping on the validation loss
  (best weights restored) and a learning-rate schedule on plateaus; without
  them, a fixed number of epochs.

The settings live in :mod:`vaeface_utils.training_settings`, the callbacks in
:mod:`vaeface_utils.callbacks` and the cache of trained models in
:mod:`vaeface_utils.model_cache`. Importing this module imports neither
TensorFlow nor Keras; the functions that need them import them when called.
"""

from __future__ import annotations



from . import config
from ._validate import image_batch as _check_images
from .training_settings import TrainingSettings, course_settings
from ._validate import int_in

__all__ = ["HISTORY_KEYS", "make_dataset", "train_vae"]

#: Per-epoch entries of the history returned by :func:`train_vae` (all in nats per image, but the last two).
HISTORY_KEYS = ("loss", "reconstruction_loss", "kl", "val_loss", "val_reconstruction_loss", "val_kl",
                "learning_rate", "seconds")


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
    int_in(batch_size, "batch_size", 1, None, "The course uses 32.")
    dataset = tf.data.Dataset.from_tensor_slices(images).cache()
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    if flip:
        coins = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        dataset = tf.data.Dataset.zip((dataset, coins)).map(
            lambda image, coin: tf.where(coin % 2 == 0, image, tf.reverse(image, axis=[1])))
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


# --------------------------------------------------------------------------


def train_vae(images_train, images_val=None, settings: TrainingSettings | None = None, *, callbacks=None,
              verbose=0):
    """Build the course VAE and train it: early stopping on validation images, or a fixed budget.

    Graph mode (Keras compiles ``train_step``), Adam, and
    :class:`~vaeface_utils.callbacks.StopOnNaN` (added by ``VAE.fit``).

    - With ``images_val``: ``EarlyStopping(monitor="val_loss",
      patience=settings.patience, restore_best_weights=True)`` and
      ``ReduceLROnPlateau`` (halving the learning rate after
      ``settings.reduce_lr_patience`` epochs without progress, unless 0).
    - Without (``images_val=None``): exactly ``settings.epochs`` epochs, the
      weights of the last one kept, and no extra pass over any images. The
      settings must then ask for neither early stopping nor a schedule
      (``patience >= epochs``, ``reduce_lr_patience = 0``), since both would
      need a validation loss.

    ``keras.utils.set_random_seed(settings.seed)`` is called first (it seeds
    Python's, NumPy's and TensorFlow's global generators), so the same
    settings and images train the same model.

    Parameters
    ----------
    images_train : ndarray of float32, shape (n_train, H, W, 1)
        Training images, in [0, 1]; H and W multiples of ``2 ** len(settings.filters)``.
    images_val : ndarray of float32, shape (n_val, H, W, 1), optional
        Validation images, for early stopping and the learning-rate schedule.
    settings : TrainingSettings, optional
        Default :func:`~vaeface_utils.training_settings.course_settings` (which reads the fast mode).
    callbacks : list of keras.callbacks.Callback, optional
        Extra callbacks, e.g. :class:`~vaeface_utils.callbacks.ProgressLine`.
    verbose : {0, 1, 2}, default 0
        Keras's progress display; 0 for none.

    Returns
    -------
    vae : vaeface_utils.model.VAE
        Compiled; with validation images, the weights of the epoch with the
        lowest validation loss.
    history : dict of str to list of float
        One value per epoch trained, under :data:`HISTORY_KEYS`: the training
        (and, with validation images, validation) ``loss`` (negative ELBO for
        ``beta = 1``), ``reconstruction_loss`` (``-E_q log p(x|z)``) and
        ``kl``, in nats per image; ``learning_rate``; ``seconds`` (wall-clock
        time of the epoch).

    Raises
    ------
    TypeError
        If ``settings`` is not a :class:`TrainingSettings`, or the images are
        not float arrays.
    ValueError
        If the images are not ``(n, H, W, 1)``, the two sets differ in image
        size, ``verbose`` is not 0, 1 or 2, or the settings ask for early
        stopping or a schedule without validation images.
    vaeface_utils.callbacks.NaNLossError
        If the loss stops being finite.
    """
    if settings is None:
        settings = course_settings()
    if not isinstance(settings, TrainingSettings):
        raise TypeError(f"`settings` must be a TrainingSettings; got {type(settings).__name__}. "
                        "Use course_settings() or TrainingSettings(...).")
    images_train = _check_images(images_train, "images_train")
    if images_val is None:
        if settings.patience < settings.epochs or settings.reduce_lr_patience:
            raise ValueError(
                f"Without validation images there is no validation loss to stop early on or to schedule the "
                f"learning rate by; these settings ask for both or one (patience={settings.patience} < "
                f"epochs={settings.epochs}, or reduce_lr_patience={settings.reduce_lr_patience}). Pass "
                "validation images, or use settings.replace(patience=settings.epochs, reduce_lr_patience=0) "
                "for a fixed budget.")
    else:
        images_val = _check_images(images_val, "images_val")
        if images_train.shape[1:] != images_val.shape[1:]:
            raise ValueError(f"`images_train` and `images_val` must hold images of the same shape; got "
                             f"{images_train.shape[1:]} and {images_val.shape[1:]}.")
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 0, 1 or 2; got {verbose!r}. Use 0 and a ProgressLine for short output.")

    keras = config.import_keras()
    from .callbacks import EpochLog
    from .model import VAE

    keras.utils.set_random_seed(settings.seed)
    vae = VAE(image_shape=images_train.shape[1:], **settings.vae_kwargs())
    vae.compile(optimizer=keras.optimizers.Adam(settings.learning_rate))
    callbacks_ = [EpochLog()]
    if images_val is not None:
        callbacks_.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=settings.patience,
                                                        restore_best_weights=True))
        if settings.reduce_lr_patience:
            callbacks_.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                                                patience=settings.reduce_lr_patience, min_lr=1e-5))
    callbacks_ += list(callbacks or [])

    if settings.pipeline == "tf.data":
        train = make_dataset(images_train, settings.batch_size, shuffle=True, seed=settings.seed, flip=settings.flip)
        val = None if images_val is None else make_dataset(images_val, len(images_val), shuffle=False)
        fit = vae.fit(train, validation_data=val, epochs=settings.epochs, callbacks=callbacks_, verbose=verbose,
                      shuffle=False)  # the dataset reshuffles itself each epoch
    else:
        fit = vae.fit(images_train, validation_data=images_val, epochs=settings.epochs,
                      batch_size=settings.batch_size, callbacks=callbacks_, verbose=verbose, shuffle=True)
    history = {key: [float(v) for v in fit.history[key]] for key in HISTORY_KEYS if key in fit.history}
    return vae, history
