"""vaeface_utils.features against scikit-learn's PCA and LDA, and every error path."""

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from vaeface_utils.data import split_per_identity
from vaeface_utils.features import Eigenfaces, EncoderFeatures, Fisherfaces, Pixels
from vaeface_utils.identification import evaluate_identification, identification_accuracy


def test_pixels_flattens_every_image_layout(blobs):
    images, _ = blobs
    flat = Pixels().fit(images).transform(images)
    np.testing.assert_array_equal(flat, images.reshape(48, 20))
    np.testing.assert_array_equal(Pixels().fit_transform(images[..., 0]), flat)


def test_eigenfaces_equal_sklearn_pca(blobs):
    images, _ = blobs
    for whiten in (False, True):
        ours = Eigenfaces(6, whiten=whiten).fit(images[:30]).transform(images[30:])
        theirs = PCA(6, whiten=whiten, svd_solver="full").fit(images[:30].reshape(30, -1)).transform(
            images[30:].reshape(18, -1))
        np.testing.assert_allclose(ours, theirs, atol=1e-10)
    assert Eigenfaces(0.9).fit(images).transform(images).shape[1] < 20


def test_fisherfaces_is_pca_to_n_minus_c_then_lda_to_c_minus_1(blobs):
    images, identity = blobs
    x = images.reshape(48, -1)
    # 20 pixels < n - c = 40, so PCA keeps all 20 (every direction); with more pixels it keeps n - c.
    fisher = Fisherfaces().fit(images, identity)
    z = fisher.transform(images)
    assert z.shape == (48, 8 - 1)
    pca = PCA(min(48 - 8, 20), svd_solver="full").fit(x)
    lda = LinearDiscriminantAnalysis(n_components=7).fit(pca.transform(x), identity)
    np.testing.assert_allclose(z, lda.transform(pca.transform(x)), atol=1e-8)
    # Wide images (more pixels than images), as faces are: PCA keeps exactly n - c = 16.
    wide = np.random.default_rng(0).normal(size=(24, 10, 10, 1)) + np.repeat(np.arange(8), 3)[:, None, None, None]
    fisher = Fisherfaces().fit(wide, np.repeat(np.arange(8), 3))
    assert fisher.pca_.n_components_ == 24 - 8
    assert fisher.transform(wide).shape == (24, 7)
    assert Fisherfaces(3).fit(images, identity).transform(images).shape == (48, 3)
    # Fewer PCA dimensions than the recipe's n - c: the same two sklearn steps with that number.
    small = Fisherfaces(pca_components=10).fit(images, identity)
    pca = PCA(10, svd_solver="full").fit(x)
    lda = LinearDiscriminantAnalysis(n_components=7).fit(pca.transform(x), identity)
    np.testing.assert_allclose(small.transform(images), lda.transform(pca.transform(x)), atol=1e-8)
    assert Fisherfaces(pca_components=5).fit(images, identity).transform(images).shape == (48, 5)


class _Model:
    """Stands in for a Keras model: an encoder that cannot be deep-copied."""

    def __init__(self, w):
        import threading

        self.w = w
        self.lock = threading.Lock()  # copy.deepcopy fails on this, so cloning must not copy the model

    def encode(self, images):
        return np.asarray(images).reshape(len(images), -1) @ self.w


def test_encoder_features_wrap_any_callable_without_copying_it(blobs, rng):
    images, identity = blobs
    model = _Model(rng.normal(size=(20, 3)))
    wrapped = EncoderFeatures(model.encode)
    np.testing.assert_allclose(wrapped.fit(images).transform(images), images.reshape(48, -1) @ model.w)
    result = evaluate_identification(images, identity, features=wrapped, n_train=3, n_splits=2)
    expected = [identification_accuracy(model.encode(images[s.train]), identity[s.train],
                                        model.encode(images[s.test]), identity[s.test])
                for s in (split_per_identity(identity, 3, seed=0), split_per_identity(identity, 3, seed=1))]
    np.testing.assert_allclose(result.accuracies, expected)
    assert result.n_features == 3


def test_encoder_features_errors(blobs):
    images, _ = blobs
    with pytest.raises(TypeError, match="returned a tuple of 3 outputs.*lambda x: encode"):
        EncoderFeatures(lambda x: (x, x, x)).fit(images).transform(images)
    with pytest.raises(ValueError, match=r"one row per image; for 48 images it returned shape \(48, 5, 4, 1\)"):
        EncoderFeatures(lambda x: x).fit(images).transform(images)
    with pytest.raises(ValueError, match="NaN or infinity"):
        EncoderFeatures(lambda x: np.full((len(x), 2), np.nan)).fit(images).transform(images)
    with pytest.raises(TypeError, match="`encode` must be a callable"):
        EncoderFeatures("vae").fit(images)


def test_extractor_errors(blobs):
    images, identity = blobs
    with pytest.raises(ValueError, match=r"non-empty array of images.*got shape \(0, 5, 4, 1\)"):
        Pixels().fit(images[:0])
    with pytest.raises(ValueError, match=r"got shape \(20,\)"):
        Eigenfaces(2).fit(images[0].ravel())
    with pytest.raises(ValueError, match=r"`n_components` must be an int from 1 to 10; got 50.*10 training images"):
        Eigenfaces(50).fit(images[:10])
    with pytest.raises(ValueError, match="fraction of variance in"):
        Eigenfaces(1.5).fit(images)
    with pytest.raises(ValueError, match="was fitted on 20"):
        Pixels().fit(images).transform(np.zeros((2, 3, 3, 1)))
    with pytest.raises(ValueError, match=r"needs the identities to fit"):
        Fisherfaces().fit(images)
    with pytest.raises(ValueError, match=r"more training images than people.*n_train >= 2"):
        Fisherfaces().fit(images[::6], identity[::6])
    with pytest.raises(ValueError, match="at least 2 people"):
        Fisherfaces().fit(images[:6], identity[:6])
    with pytest.raises(ValueError, match="`images` has 48 rows but `identity` has 47"):
        Fisherfaces().fit(images, identity[:-1])
    with pytest.raises(ValueError, match=r"from 1 to 7; got 8"):
        Fisherfaces(8).fit(images, identity)
    with pytest.raises(ValueError, match=r"`pca_components` must be an int from 1 to 16; got 17.*n - c, pixels\) = 16"):
        Fisherfaces(pca_components=17).fit(images[:24], np.repeat(np.arange(8), 3))
    with pytest.raises(ValueError, match=r"`pca_components` must be an int from 1 to 20; got 0"):
        Fisherfaces(pca_components=0).fit(images, identity)
