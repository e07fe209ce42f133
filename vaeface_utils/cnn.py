"""A small discriminative CNN for faces: what face recognition does instead of a generative model.

Convolutions, an embedding layer and a softmax over the training people,
trained with cross-entropy on randomly flipped, shifted and rotated copies
of the gallery (Keras's preprocessing layers, active only in training).
Identification reads the softmax; verification and new people use the
embedding (the layer before the softmax), compared by cosine similarity, the
way metric-learning systems such as FaceNet (Schroff et al. 2015) use theirs,
though they train the embedding on millions of images with a triplet loss.
"""

from __future__ import annotations

import numpy as np

from .labelled import _positive_int, check_people
from ._validate import vae_images as check_images
from ._optimizer import prepare_optimizer
from .model import _check_architecture, keras, layers

__all__ = ["FaceCNN"]


@keras.saving.register_keras_serializable(package="vaeface")
class FaceCNN(keras.Model):
    """A softmax classifier over people, with an embedding layer before the softmax.

    Parameters
    ----------
    n_people : int, default 40
    image_shape : (int, int, 1), default (32, 32, 1)
    filters : sequence of int, default (16, 32, 64)
        Stride-2 convolutions, each batch-normalised before its ReLU.
    embedding_dim : int, default 64
    dropout : float, default 0.3
        Dropout on the embedding, in training.
    augment : bool, default True
        Random horizontal flips, shifts of up to 6 % and rotations of up to
        ±0.03 turns (about ±11°) in training.
    seed : int, optional
        Seed of the augmentation and dropout noise.
    """

    def __init__(self, n_people=40, image_shape=(32, 32, 1), filters=(16, 32, 64), embedding_dim=64, dropout=0.3,
                 augment=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.image_shape, _, self.filters, _ = _check_architecture(image_shape, 1, filters, 3)
        self.n_people = _positive_int(n_people, "n_people", "Give the number of people in training.")
        self.embedding_dim = _positive_int(embedding_dim, "embedding_dim", "Use e.g. 64.")
        if not 0 <= float(dropout) < 1:
            raise ValueError(f"`dropout` must lie in [0, 1); got {dropout!r}.")
        self.dropout_rate, self.augment, self.seed = float(dropout), bool(augment), seed
        seeds = [None if seed is None else int(seed) + k for k in range(4)]  # one stream of noise per layer
        self.augmentation = keras.Sequential([
            layers.RandomFlip("horizontal", seed=seeds[0]),
            layers.RandomTranslation(0.06, 0.06, fill_mode="nearest", seed=seeds[1]),
            layers.RandomRotation(0.03, fill_mode="nearest", seed=seeds[2])], name="augmentation")
        body = []
        for f in self.filters:
            body += [layers.Conv2D(f, 3, strides=2, padding="same", use_bias=False),
                     layers.BatchNormalization(momentum=0.9), layers.ReLU()]
        body += [layers.GlobalAveragePooling2D(), layers.Dense(self.embedding_dim, activation="relu", name="embedding")]
        self.body = keras.Sequential(body, name="body")
        self.drop = layers.Dropout(self.dropout_rate, seed=seeds[3])
        self.head = layers.Dense(self.n_people, name="head")
        self.build((None,) + self.image_shape)

    def build(self, input_shape):
        self.augmentation.build(input_shape)
        self.body.build(input_shape)
        self.head.build((None, self.embedding_dim))
        self.built = True

    def get_config(self):
        return {"name": self.name, "n_people": self.n_people, "image_shape": list(self.image_shape),
                "filters": list(self.filters), "embedding_dim": self.embedding_dim, "dropout": self.dropout_rate,
                "augment": self.augment, "seed": self.seed}

    def call(self, x, training=False):
        if training and self.augment:
            x = self.augmentation(x, training=True)
        return self.head(self.drop(self.body(x), training=training))

    def compile(self, optimizer="adam", **kwargs):
        """Cross-entropy on the logits and accuracy, unless given otherwise."""
        kwargs.setdefault("loss", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        kwargs.setdefault("metrics", ["accuracy"])
        super().compile(optimizer=optimizer, **kwargs)
        # Slots built now, so that loading restores the saved optimiser state; and no compiled step left behind.
        prepare_optimizer(self.optimizer, self.trainable_variables)

    def compile_from_config(self, config):
        """Re-compile when loading, with this class's defaults."""
        self.compile(**keras.saving.deserialize_keras_object(config))

    def fit(self, x=None, y=None, *args, **kwargs):
        """``keras.Model.fit``; with arrays, checks the images and the person indices first."""
        if hasattr(x, "shape"):
            check_images(x, name="x", image_shape=self.image_shape, likelihood="gaussian")
            y = check_people(y, len(x), self.n_people, "y")
        return super().fit(x, y, *args, **kwargs)

    def embed(self, x):
        """The embedding of each image, float32 (n, embedding_dim)."""
        check_images(x, name="x", image_shape=self.image_shape, likelihood="gaussian")
        return np.asarray(self.body.predict(np.asarray(x, np.float32), verbose=0, batch_size=256))

    def identity_features(self, x):
        """The embedding, as for the VAEs' identity codes."""
        return self.embed(x)

    def predict_people(self, x):
        """The most probable person index of each image, int (n,)."""
        return np.argmax(np.asarray(self.head(self.embed(x))), axis=1)
