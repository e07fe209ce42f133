"""Features for face recognition, as scikit-learn transformers: ``fit(images, identity)``, then ``transform(images)``.

:class:`Pixels`
    Raw pixels, each image flattened to one row: the baseline every other
    feature has to beat.
:class:`Eigenfaces`
    PCA of the pixels (Turk & Pentland 1991).
:class:`Fisherfaces`
    PCA then LDA (Belhumeur, Hespanha & Kriegman 1997); needs identities to fit.
:class:`EncoderFeatures`
    Wraps any ``encode(images) -> (n, d)`` callable, such as a VAE's
    posterior mean; it knows nothing about Keras.

Each is fitted on training images only, and each works inside a
:class:`sklearn.pipeline.Pipeline` or a model search.

>>> import numpy as np
>>> x = np.random.default_rng(0).random((20, 8, 8, 1))
>>> Eigenfaces(n_components=5).fit(x).transform(x).shape
(20, 5)
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.utils.validation import check_is_fitted

from ._validate import as_features, as_labels, as_rows, int_in

__all__ = ["Pixels", "Eigenfaces", "Fisherfaces", "EncoderFeatures"]


class Pixels(TransformerMixin, BaseEstimator):
    """Raw pixels as features: each image flattened to one row.

    The baseline every other feature has to beat. ``fit`` learns nothing.

    Examples
    --------
    >>> import numpy as np
    >>> Pixels().fit_transform(np.zeros((3, 4, 4, 1))).shape
    (3, 16)
    """

    def fit(self, images, identity=None):
        """Check the input and remember the number of pixels.

        Parameters
        ----------
        images : array_like, shape (n, H, W, 1), (n, H, W) or (n, d)
        identity : ignored

        Returns
        -------
        self
        """
        self.n_features_in_ = as_rows(images).shape[1]
        return self

    def transform(self, images):
        """Flatten.

        Parameters
        ----------
        images : array_like, shape (n, H, W, 1), (n, H, W) or (n, d)

        Returns
        -------
        ndarray of float64, shape (n, H * W)

        Raises
        ------
        ValueError
            Empty input, or not as many pixels as the images seen in ``fit``.
        """
        check_is_fitted(self)
        x = as_rows(images)
        if x.shape[1] != self.n_features_in_:
            raise ValueError(
                f"These images have {x.shape[1]} pixels each but the extractor was fitted on "
                f"{self.n_features_in_}; use images of the same size for training and queries."
            )
        return x


class Eigenfaces(Pixels):
    """Eigenfaces: project the pixels onto the leading principal components.

    Turk & Pentland (1991). The principal components of the training images
    (the "eigenfaces") span a ``n_components``-dimensional face space; each
    image is described by its coordinates there.

    Parameters
    ----------
    n_components : int or float, default 50
        Dimensions kept: an int from 1 to ``min(n_train_images, n_pixels)``,
        or a float in (0, 1) for the fraction of variance to keep.
    whiten : bool, default False
        Divide each coordinate by its standard deviation, so that every
        direction counts equally in a distance.

    Attributes
    ----------
    pca_ : sklearn.decomposition.PCA
        The fitted PCA; ``pca_.components_`` reshaped to (H, W) are the
        eigenfaces and ``pca_.mean_`` the mean face.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((20, 8, 8, 1))
    >>> Eigenfaces(n_components=5).fit(x).transform(x).shape
    (20, 5)
    """

    def __init__(self, n_components=50, *, whiten: bool = False):
        self.n_components = n_components
        self.whiten = whiten

    def fit(self, images, identity=None):
        """Fit the PCA on training images only.

        Parameters
        ----------
        images : array_like, shape (n, H, W, 1), (n, H, W) or (n, d)
        identity : ignored

        Returns
        -------
        self

        Raises
        ------
        ValueError
            ``n_components`` larger than the number of training images or
            pixels, or not a positive int or a fraction in (0, 1).
        """
        x = as_rows(images)
        limit = min(x.shape)
        k = self.n_components
        if isinstance(k, (float, np.floating)) and not isinstance(k, bool):
            if not 0.0 < k < 1.0:
                raise ValueError(f"`n_components` as a float is a fraction of variance in (0, 1); got {k!r}.")
        else:
            int_in(k, "n_components", 1, limit,
                   f"There are {x.shape[0]} training images of {x.shape[1]} pixels, so at most {limit} "
                   f"components exist; pass n_components <= {limit} or a fraction of variance such as 0.95.")
        self.n_features_in_ = x.shape[1]
        self.pca_ = PCA(n_components=k, whiten=self.whiten, svd_solver="full").fit(x)
        return self

    def transform(self, images):
        """Coordinates in face space.

        Returns
        -------
        ndarray of float64, shape (n, n_components)
        """
        return self.pca_.transform(super().transform(images))


class Fisherfaces(Pixels):
    """Fisherfaces: PCA to ``n - c`` dimensions, then LDA to ``c - 1``.

    Belhumeur, Hespanha & Kriegman (1997). With ``n`` training images of ``c``
    people the within-person scatter of raw pixels is singular (its rank is at
    most ``n - c``), so PCA first keeps ``n - c`` dimensions, where it is not;
    LDA then finds the ``c - 1`` directions that best separate the people
    relative to how much each person varies. Needs identities to fit, and at
    least two training images of some people.

    The strict recipe can overfit badly: with ``n - c`` PCA dimensions the
    within-person scatter is only just invertible, and its smallest
    directions are noise that LDA then magnifies (notebook 04 measures by
    how much on the faces). Choose ``pca_components`` on training or
    validation images only.

    Parameters
    ----------
    n_components : int, optional
        LDA dimensions kept; default all, ``min(c - 1, pca_components)``
        (``c - 1`` when every person has at least two training images).
    pca_components : int, optional
        PCA dimensions before LDA, from 1 to ``n - c`` (or the number of
        pixels, if smaller); default that maximum, the Belhumeur et al.
        recipe.

    Attributes
    ----------
    pca_ : sklearn.decomposition.PCA
    lda_ : sklearn.discriminant_analysis.LinearDiscriminantAnalysis

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((30, 8, 8, 1))
    >>> identity = np.repeat(np.arange(6), 5)          # 6 people, 5 images each
    >>> Fisherfaces().fit(x, identity).transform(x).shape
    (30, 5)
    """

    def __init__(self, n_components: int | None = None, *, pca_components: int | None = None):
        self.n_components = n_components
        self.pca_components = pca_components

    def fit(self, images, identity=None):
        """Fit PCA then LDA on the training images and their identities.

        Parameters
        ----------
        images : array_like, shape (n, H, W, 1), (n, H, W) or (n, d)
        identity : array_like, shape (n,)

        Returns
        -------
        self

        Raises
        ------
        ValueError
            No identities, fewer than two people, nobody with two images
            (``n - c = 0``), lengths that differ, or ``n_components`` or
            ``pca_components`` out of range.
        """
        x = as_rows(images)
        if identity is None:
            raise ValueError("Fisherfaces needs the identities to fit: call fit(images, identity).")
        y = as_labels(identity, "identity", len(x), "images")
        n, c = len(x), len(np.unique(y))
        if c < 2:
            raise ValueError(f"Fisherfaces needs at least 2 people to separate; got {c}. Pass images of more people.")
        n_pca = min(n - c, x.shape[1])
        if n_pca < 1:
            raise ValueError(
                f"Fisherfaces needs more training images than people (n - c >= 1) for the within-person "
                f"scatter; got n = {n} images of c = {c} people. Use at least 2 training images per person "
                "(n_train >= 2), or eigenfaces for one image per person."
            )
        if self.pca_components is not None:
            n_pca = int_in(self.pca_components, "pca_components", 1, n_pca,
                           f"With n = {n} training images of c = {c} people and {x.shape[1]} pixels, at most "
                           f"min(n - c, pixels) = {n_pca} PCA dimensions keep the within-person scatter "
                           "invertible; pass None for that many.")
        top = min(c - 1, n_pca)
        k = top if self.n_components is None else int_in(
            self.n_components, "n_components", 1, top,
            f"LDA gives at most min(c - 1, pca_components) = {top} dimensions here; pass None for all of them.")
        self.n_features_in_ = x.shape[1]
        self.pca_ = PCA(n_components=n_pca, svd_solver="full").fit(x)
        self.lda_ = LinearDiscriminantAnalysis(n_components=k).fit(self.pca_.transform(x), y)
        return self

    def transform(self, images):
        """Coordinates in the Fisher space.

        Returns
        -------
        ndarray of float64, shape (n, n_components)
        """
        return self.lda_.transform(self.pca_.transform(super().transform(images)))


class EncoderFeatures(TransformerMixin, BaseEstimator):
    """Turn any encoder callable into a feature extractor.

    Wraps ``encode(images) -> (n, d)``: a VAE's posterior mean, a sampled
    ``z``, or anything else. It knows nothing about Keras: the callable gets
    the images exactly as they were passed (e.g. ``(n, 64, 64, 1)``) and must
    return something :func:`numpy.asarray` turns into an ``(n, d)`` array.
    ``fit`` trains nothing (train the encoder before, or per split through the
    ``fit_features`` hook of
    :func:`vaeface_utils.identification.evaluate_identification`); cloning
    shares the callable instead of copying the model behind it.

    Parameters
    ----------
    encode : callable
        ``encode(images) -> array (n, d)``. For a model that returns
        ``(z_mean, z_log_var, z)`` pass a function that picks one, e.g.
        ``lambda x: vae.encoder.predict(x, verbose=0)[0]``.

    Examples
    --------
    >>> import numpy as np
    >>> mean_and_spread = EncoderFeatures(lambda x: np.c_[x.mean(axis=(1, 2, 3)), x.std(axis=(1, 2, 3))])
    >>> mean_and_spread.fit_transform(np.ones((4, 8, 8, 1))).tolist()
    [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]
    """

    def __init__(self, encode: Callable):
        self.encode = encode

    def __sklearn_clone__(self):
        return type(self)(self.encode)

    def fit(self, images, identity=None):
        """Check that ``encode`` is callable; nothing is trained.

        Raises
        ------
        TypeError
            ``encode`` is not callable.
        """
        if not callable(self.encode):
            raise TypeError(
                f"`encode` must be a callable encode(images) -> (n, d) array; got {type(self.encode).__name__}. "
                "Pass e.g. lambda x: vae.encoder.predict(x, verbose=0)[0]."
            )
        self.fitted_ = True
        return self

    def transform(self, images):
        """Run the encoder.

        Parameters
        ----------
        images : array_like, shape (n, ...)
            Passed to ``encode`` unchanged.

        Returns
        -------
        ndarray of float64, shape (n, d)

        Raises
        ------
        TypeError
            ``encode`` returned a tuple or list (several outputs).
        ValueError
            The output is not 2-D with one row per image, or is not finite.
        """
        check_is_fitted(self)
        n = len(images)
        out = self.encode(images)
        if isinstance(out, (tuple, list)):
            raise TypeError(
                f"`encode` returned a {type(out).__name__} of {len(out)} outputs; it must return one (n, d) array. "
                "Wrap it to pick one, e.g. lambda x: encode(x)[0] for the posterior mean."
            )
        z = np.asarray(out)
        if z.ndim != 2 or z.shape[0] != n:
            raise ValueError(
                f"`encode` must return an array (n, d) with one row per image; for {n} images it returned "
                f"shape {z.shape}. Reshape its output, e.g. z.reshape(len(z), -1)."
            )
        return as_features(z, "encode(images)")
