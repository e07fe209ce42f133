"""vaeface_utils.recognition against scikit-learn's own computations, and every error path."""

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score, roc_curve
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from vaeface_utils import recognition as R
from vaeface_utils.checks import recognition as check
from vaeface_utils.data import load_faces, split_per_identity


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def blobs(rng):
    """8 people x 6 images of 5 x 4 pixels: a per-person mean face plus noise."""
    identity = np.repeat(np.arange(8), 6)
    centres = rng.normal(size=(8, 5, 4, 1))
    images = centres[identity] + 0.8 * rng.normal(size=(48, 5, 4, 1))
    return images, identity


@pytest.fixture
def gallery(rng):
    """Train and test features of 6 people in 7 dimensions, hard enough that classifiers differ."""
    identity = np.repeat(np.arange(6), 8)
    x = rng.normal(size=(6, 7))[identity] + 1.2 * rng.normal(size=(48, 7))
    train = np.tile(np.arange(8) < 4, 6)
    return x[train], identity[train], x[~train], identity[~train]


# --------------------------------------------------------------------------- feature extractors


def test_pixels_flattens_every_image_layout(blobs):
    images, _ = blobs
    flat = R.Pixels().fit(images).transform(images)
    np.testing.assert_array_equal(flat, images.reshape(48, 20))
    np.testing.assert_array_equal(R.Pixels().fit_transform(images[..., 0]), flat)


def test_eigenfaces_equal_sklearn_pca(blobs):
    images, _ = blobs
    for whiten in (False, True):
        ours = R.Eigenfaces(6, whiten=whiten).fit(images[:30]).transform(images[30:])
        theirs = PCA(6, whiten=whiten, svd_solver="full").fit(images[:30].reshape(30, -1)).transform(
            images[30:].reshape(18, -1))
        np.testing.assert_allclose(ours, theirs, atol=1e-10)
    assert R.Eigenfaces(0.9).fit(images).transform(images).shape[1] < 20


def test_fisherfaces_is_pca_to_n_minus_c_then_lda_to_c_minus_1(blobs):
    images, identity = blobs
    x = images.reshape(48, -1)
    # 20 pixels < n - c = 40, so PCA keeps all 20 (every direction); with more pixels it keeps n - c.
    fisher = R.Fisherfaces().fit(images, identity)
    z = fisher.transform(images)
    assert z.shape == (48, 8 - 1)
    pca = PCA(min(48 - 8, 20), svd_solver="full").fit(x)
    lda = LinearDiscriminantAnalysis(n_components=7).fit(pca.transform(x), identity)
    np.testing.assert_allclose(z, lda.transform(pca.transform(x)), atol=1e-8)
    # Wide images (more pixels than images), as faces are: PCA keeps exactly n - c = 16.
    wide = np.random.default_rng(0).normal(size=(24, 10, 10, 1)) + np.repeat(np.arange(8), 3)[:, None, None, None]
    fisher = R.Fisherfaces().fit(wide, np.repeat(np.arange(8), 3))
    assert fisher.pca_.n_components_ == 24 - 8
    assert fisher.transform(wide).shape == (24, 7)
    assert R.Fisherfaces(3).fit(images, identity).transform(images).shape == (48, 3)
    # Fewer PCA dimensions than the recipe's n - c: the same two sklearn steps with that number.
    small = R.Fisherfaces(pca_components=10).fit(images, identity)
    pca = PCA(10, svd_solver="full").fit(x)
    lda = LinearDiscriminantAnalysis(n_components=7).fit(pca.transform(x), identity)
    np.testing.assert_allclose(small.transform(images), lda.transform(pca.transform(x)), atol=1e-8)
    assert R.Fisherfaces(pca_components=5).fit(images, identity).transform(images).shape == (48, 5)


class _Spy(TransformerMixin, BaseEstimator):
    """Records every image it is fitted on (class-level, since the protocol clones it)."""

    fitted_on: list = []

    def fit(self, images, identity=None):
        type(self).fitted_on.append(np.asarray(images).reshape(len(images), -1).copy())
        self.fitted_ = True
        return self

    def transform(self, images):
        return np.asarray(images).reshape(len(images), -1)


def test_feature_extractor_never_sees_a_query(blobs):
    images, identity = blobs
    images = images + np.arange(48)[:, None, None, None] * 100.0  # every image unique and recognisable by its row
    _Spy.fitted_on = []
    R.evaluate_identification(images, identity, features=_Spy(), n_train=2, n_splits=3, seed=5)
    assert len(_Spy.fitted_on) == 3
    flat = images.reshape(48, -1)
    for i, seen in enumerate(_Spy.fitted_on):
        split = split_per_identity(identity, 2, seed=5 + i)
        rows = [int(np.flatnonzero((flat == row).all(axis=1))[0]) for row in seen]
        assert sorted(rows) == split.train.tolist()
        assert not set(rows) & set(split.test.tolist())


def test_fit_features_hook_gets_the_training_split_only(blobs):
    images, identity = blobs
    calls = []

    def fit_features(train_images, train_identity, split):
        calls.append((len(train_images), split.seed))
        np.testing.assert_array_equal(train_identity, identity[split.train])
        np.testing.assert_array_equal(train_images, images[split.train])
        return R.Eigenfaces(5).fit(train_images)

    hooked = R.evaluate_identification(images, identity, fit_features=fit_features, n_train=3, n_splits=2, seed=7)
    plain = R.evaluate_identification(images, identity, features=R.Eigenfaces(5), n_train=3, n_splits=2, seed=7)
    assert calls == [(24, 7), (24, 8)]
    np.testing.assert_array_equal(hooked.accuracies, plain.accuracies)


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
    wrapped = R.EncoderFeatures(model.encode)
    np.testing.assert_allclose(wrapped.fit(images).transform(images), images.reshape(48, -1) @ model.w)
    result = R.evaluate_identification(images, identity, features=wrapped, n_train=3, n_splits=2)
    expected = [R.identification_accuracy(model.encode(images[s.train]), identity[s.train],
                                          model.encode(images[s.test]), identity[s.test])
                for s in (split_per_identity(identity, 3, seed=0), split_per_identity(identity, 3, seed=1))]
    np.testing.assert_allclose(result.accuracies, expected)
    assert result.n_features == 3


def test_encoder_features_errors(blobs):
    images, _ = blobs
    with pytest.raises(TypeError, match="returned a tuple of 3 outputs.*lambda x: encode"):
        R.EncoderFeatures(lambda x: (x, x, x)).fit(images).transform(images)
    with pytest.raises(ValueError, match=r"one row per image; for 48 images it returned shape \(48, 5, 4, 1\)"):
        R.EncoderFeatures(lambda x: x).fit(images).transform(images)
    with pytest.raises(ValueError, match="NaN or infinity"):
        R.EncoderFeatures(lambda x: np.full((len(x), 2), np.nan)).fit(images).transform(images)
    with pytest.raises(TypeError, match="`encode` must be a callable"):
        R.EncoderFeatures("vae").fit(images)


def test_extractor_errors(blobs):
    images, identity = blobs
    with pytest.raises(ValueError, match=r"non-empty array of images.*got shape \(0, 5, 4, 1\)"):
        R.Pixels().fit(images[:0])
    with pytest.raises(ValueError, match=r"got shape \(20,\)"):
        R.Eigenfaces(2).fit(images[0].ravel())
    with pytest.raises(ValueError, match=r"`n_components` must be an int from 1 to 10; got 50.*10 training images"):
        R.Eigenfaces(50).fit(images[:10])
    with pytest.raises(ValueError, match="fraction of variance in"):
        R.Eigenfaces(1.5).fit(images)
    with pytest.raises(ValueError, match="was fitted on 20"):
        R.Pixels().fit(images).transform(np.zeros((2, 3, 3, 1)))
    with pytest.raises(ValueError, match=r"needs the identities to fit"):
        R.Fisherfaces().fit(images)
    with pytest.raises(ValueError, match=r"more training images than people.*n_train >= 2"):
        R.Fisherfaces().fit(images[::6], identity[::6])
    with pytest.raises(ValueError, match="at least 2 people"):
        R.Fisherfaces().fit(images[:6], identity[:6])
    with pytest.raises(ValueError, match="`images` has 48 rows but `identity` has 47"):
        R.Fisherfaces().fit(images, identity[:-1])
    with pytest.raises(ValueError, match=r"from 1 to 7; got 8"):
        R.Fisherfaces(8).fit(images, identity)
    with pytest.raises(ValueError, match=r"`pca_components` must be an int from 1 to 16; got 17.*n - c, pixels\) = 16"):
        R.Fisherfaces(pca_components=17).fit(images[:24], np.repeat(np.arange(8), 3))
    with pytest.raises(ValueError, match=r"`pca_components` must be an int from 1 to 20; got 0"):
        R.Fisherfaces(pca_components=0).fit(images, identity)


# --------------------------------------------------------------------------- classifiers


def test_classifiers_match_hand_built_sklearn_estimators(gallery):
    x_train, y_train, x_test, y_test = gallery
    hand_built = {
        "1nn-euclidean": KNeighborsClassifier(n_neighbors=1),
        "1nn-cosine": KNeighborsClassifier(n_neighbors=1, metric="cosine", algorithm="brute"),
        "logreg": LogisticRegression(max_iter=5000),
        "linear-svm": LinearSVC(max_iter=20000, random_state=0),
    }
    found = set()
    for name, estimator in hand_built.items():
        expected = accuracy_score(y_test, estimator.fit(x_train, y_train).predict(x_test))
        got = R.identification_accuracy(x_train, y_train, x_test, y_test, name)
        assert got == expected
        found.add(got)
    assert len(found) > 1  # the fixture separates the classifiers, so the comparison means something


def test_cosine_1nn_equals_euclidean_1nn_on_l2_normalised_features(gallery):
    x_train, y_train, x_test, y_test = gallery
    cosine = R.make_classifier("1nn-cosine").fit(x_train, y_train).predict(x_test)
    euclid = R.make_classifier("1nn-euclidean").fit(normalize(x_train), y_train).predict(normalize(x_test))
    via_l2 = R.make_classifier("1nn-euclidean", normalise="l2").fit(x_train, y_train).predict(x_test)
    np.testing.assert_array_equal(cosine, euclid)
    np.testing.assert_array_equal(cosine, via_l2)


def test_standardise_is_fitted_on_training_features(gallery):
    x_train, y_train, x_test, _ = gallery
    clf = R.make_classifier("1nn-euclidean", normalise="standardise").fit(x_train, y_train)
    mean, std = x_train.mean(0), x_train.std(0)
    expected = KNeighborsClassifier(1).fit((x_train - mean) / std, y_train).predict((x_test - mean) / std)
    np.testing.assert_array_equal(clf.predict(x_test), expected)
    assert R.make_classifier("logreg", C=10.0).named_steps["classifier"].C == 10.0


def test_classifier_errors():
    with pytest.raises(ValueError, match=r"Unknown `classifier` 'knn'.*'1nn-euclidean', '1nn-cosine', 'logreg', "
                                         r"'linear-svm'"):
        R.make_classifier("knn")
    with pytest.raises(ValueError, match=r"Unknown `normalise` 'zscore'.*'standardise'"):
        R.make_classifier("logreg", normalise="zscore")
    with pytest.raises(TypeError, match="must be a name from"):
        R.identification_accuracy([[0.0]], [0], [[0.0]], [0], classifier=42)


# --------------------------------------------------------------------------- identification


def test_identification_accuracy_is_sklearn_accuracy_of_1nn(gallery):
    x_train, y_train, x_test, y_test = gallery
    expected = accuracy_score(y_test, KNeighborsClassifier(n_neighbors=1).fit(x_train, y_train).predict(x_test))
    assert R.identification_accuracy(x_train, y_train, x_test, y_test) == expected
    assert 0 < expected < 1
    # An estimator is cloned, so the caller's stays unfitted.
    mine = KNeighborsClassifier(n_neighbors=1)
    assert R.identification_accuracy(x_train, y_train, x_test, y_test, mine) == expected
    assert not hasattr(mine, "classes_")


def test_identification_accuracy_errors(gallery):
    x_train, y_train, x_test, y_test = gallery
    with pytest.raises(ValueError, match="`features_train` has 24 rows but `id_train` has 23"):
        R.identification_accuracy(x_train, y_train[:-1], x_test, y_test)
    with pytest.raises(ValueError, match="`features_test` has 24 rows but `id_test` has 25"):
        R.identification_accuracy(x_train, y_train, x_test, np.r_[y_test, 0])
    with pytest.raises(ValueError, match=r"`features_train` is empty"):
        R.identification_accuracy(x_train[:0], y_train[:0], x_test, y_test)
    with pytest.raises(ValueError, match=r"`features_test` must be 2-D.*got shape \(24, 7, 1\)"):
        R.identification_accuracy(x_train, y_train, x_test[..., None], y_test)
    with pytest.raises(ValueError, match=r"`id_train` must be a non-empty 1-D"):
        R.identification_accuracy(x_train, y_train[:, None], x_test, y_test)
    with pytest.raises(ValueError, match="7 features per row but `features_test` has 6"):
        R.identification_accuracy(x_train, y_train, x_test[:, :6], y_test)
    with pytest.raises(ValueError, match=r"no training image \(e.g. \[5\]\).*closed-set"):
        R.identification_accuracy(x_train[y_train < 5], y_train[y_train < 5], x_test, y_test)
    with pytest.raises(ValueError, match="NaN or infinity"):
        R.identification_accuracy(np.full_like(x_train, np.inf), y_train, x_test, y_test)
    with pytest.raises(ValueError, match=r"Unknown `classifier` 'svm'.*'linear-svm'"):
        R.identification_accuracy(x_train, y_train, x_test, y_test, "svm")


def test_protocol_is_deterministic_and_matches_a_hand_loop(blobs):
    images, identity = blobs
    a = R.evaluate_identification(images, identity, features=R.Eigenfaces(4), classifier="logreg",
                                  n_train=2, n_splits=4, seed=3)
    b = R.evaluate_identification(images, identity, features=R.Eigenfaces(4), classifier="logreg",
                                  n_train=2, n_splits=4, seed=3)
    np.testing.assert_array_equal(a.accuracies, b.accuracies)
    np.testing.assert_array_equal(a.seeds, [3, 4, 5, 6])
    assert len(set(a.accuracies)) > 1  # the splits differ
    by_hand = []
    for s in a.seeds:
        split = split_per_identity(identity, 2, seed=int(s))
        pca = PCA(4, svd_solver="full").fit(images[split.train].reshape(16, -1))
        model = LogisticRegression(max_iter=5000).fit(pca.transform(images[split.train].reshape(16, -1)),
                                                      identity[split.train])
        predicted = model.predict(pca.transform(images[split.test].reshape(32, -1)))
        by_hand.append(accuracy_score(identity[split.test], predicted))
    np.testing.assert_allclose(a.accuracies, by_hand)
    assert a.mean == pytest.approx(np.mean(by_hand))
    assert a.std == pytest.approx(np.std(by_hand, ddof=1))
    assert a.n_train == 2 and a.n_features == 4
    assert a.fit_seconds.shape == a.predict_seconds.shape == (4,) and np.all(a.fit_seconds > 0)
    assert "n_splits=4" in repr(a)


def test_protocol_runs_every_k_from_1_to_the_most_allowed(blobs):
    images, identity = blobs
    for k in range(1, 6):
        result = R.evaluate_identification(images, identity, features=R.Pixels(), n_train=k, n_splits=1)
        assert result.accuracies.shape == (1,) and math.isnan(result.std)


def test_protocol_errors(blobs):
    images, identity = blobs
    run = lambda **kw: R.evaluate_identification(images, identity, **{"features": R.Pixels(), **kw})  # noqa: E731
    for k in (0, -1, 2.5, True, "5"):
        with pytest.raises(ValueError, match=r"`n_train` must be an int >= 1; got .*ORL allows 1-9"):
            run(n_train=k)
    with pytest.raises(ValueError, match=r"n_train = 6 needs at least 7 images of each person.*8 people have fewer"
                                         r".*Use n_train <= 5"):
        run(n_train=6)
    short = np.r_[identity[:-4], [99, 99, 99, 99]]  # person 7 keeps 2 images, person 99 has 4
    with pytest.raises(ValueError, match=r"1 people have fewer: identity \(images\) 7 \(2\)\. Use n_train <= 1"):
        R.evaluate_identification(images, short, features=R.Pixels(), n_train=2)
    with pytest.raises(ValueError, match="`images` has 48 rows but `identity` has 40"):
        R.evaluate_identification(images, identity[:40], features=R.Pixels())
    with pytest.raises(ValueError, match="non-empty array of images"):
        R.evaluate_identification(images[:0], identity[:0], features=R.Pixels())
    with pytest.raises(ValueError, match="exactly one of `features`"):
        R.evaluate_identification(images, identity)
    with pytest.raises(ValueError, match="exactly one of `features`"):
        run(fit_features=lambda *a: R.Pixels())
    with pytest.raises(TypeError, match="`features` must be a transformer"):
        R.evaluate_identification(images, identity, features="eigenfaces")
    with pytest.raises(TypeError, match="`fit_features` must be callable"):
        R.evaluate_identification(images, identity, fit_features=R.Pixels())
    with pytest.raises(TypeError, match="must return a transformer"):
        R.evaluate_identification(images, identity, fit_features=lambda *a: None)
    with pytest.raises(ValueError, match=r"`n_splits` must be an int >= 1; got 0"):
        run(n_splits=0)
    with pytest.raises(ValueError, match=r"Unknown `classifier` 'nn'; the known ones are"):
        run(classifier="nn")
    with pytest.raises(ValueError, match="`identity` must hold ints"):
        R.evaluate_identification(images, identity.astype(float), features=R.Pixels())


# --------------------------------------------------------------------------- verification


def test_all_pairs_and_balanced_samples():
    identity = np.repeat(np.arange(5), 4)
    pairs = R.make_pairs(identity)
    assert len(pairs) == 20 * 19 // 2 and pairs.same.sum() == 5 * 6
    assert np.all(pairs.first < pairs.second)
    np.testing.assert_array_equal(pairs.same, identity[pairs.first] == identity[pairs.second])
    sample = R.make_pairs(identity, n_pairs=40, seed=1)
    assert sample.same.sum() == 20 and (~sample.same).sum() == 20
    assert len(set(zip(sample.first.tolist(), sample.second.tolist()))) == 40  # no pair twice
    again = R.make_pairs(identity, n_pairs=40, seed=1)
    np.testing.assert_array_equal(sample.first, again.first)
    np.testing.assert_array_equal(sample.second, again.second)
    other = R.make_pairs(identity, n_pairs=40, seed=2)
    assert not np.array_equal(sample.first, other.first) or not np.array_equal(sample.second, other.second)


def test_pair_scores_are_cosine_similarity_and_negative_distance(rng):
    x = rng.normal(size=(6, 3))
    pairs = R.make_pairs([0, 0, 1, 1, 2, 2])
    cos = R.pair_scores(x, pairs.first, pairs.second)
    for s, i, j in zip(cos, pairs.first, pairs.second):
        assert s == pytest.approx(x[i] @ x[j] / np.linalg.norm(x[i]) / np.linalg.norm(x[j]))
    euclid = R.pair_scores(x, pairs.first, pairs.second, metric="euclidean")
    np.testing.assert_allclose(euclid, -np.linalg.norm(x[pairs.first] - x[pairs.second], axis=1))


def test_verification_roc_and_auc_equal_sklearn(gallery):
    x, y = np.r_[gallery[0], gallery[2]], np.r_[gallery[1], gallery[3]]
    for metric in R.METRICS:
        result = R.verification_roc(x, y, metric=metric)
        pairs = R.make_pairs(y)
        scores = R.pair_scores(x, pairs.first, pairs.second, metric=metric)
        fpr, tpr, thresholds = roc_curve(pairs.same, scores)
        np.testing.assert_array_equal(result.fpr, fpr)
        np.testing.assert_array_equal(result.tpr, tpr)
        np.testing.assert_array_equal(result.thresholds, thresholds)
        assert result.auc == roc_auc_score(pairs.same, scores)
        assert 0.5 < result.auc < 1
        assert (result.n_same, result.n_different) == (6 * 28, 48 * 47 // 2 - 6 * 28)
        # At the EER threshold, false accepts and false rejects are both about the EER.
        far = np.mean(scores[~pairs.same] >= result.eer_threshold)
        frr = np.mean(scores[pairs.same] < result.eer_threshold)
        assert abs(far - result.eer) < 0.02 and abs(frr - result.eer) < 0.02
    sampled = R.verification_roc(x, y, n_pairs=100, seed=0)
    assert sampled.n_same == sampled.n_different == 50


def test_equal_error_rate_known_answers():
    # Interpolation between (0.2, 0.6) and (0.6, 0.9): fpr = 1 - tpr at 11/35.
    assert R.equal_error_rate([0.0, 0.2, 0.6, 1.0], [0.0, 0.6, 0.9, 1.0]) == pytest.approx(11 / 35, abs=1e-12)
    # A ROC point exactly on the line, and the perfect and the reversed score.
    assert R.equal_error_rate([0.0, 0.5, 1.0], [0.0, 0.5, 1.0]) == pytest.approx(0.5)
    assert R.verification_roc([[0.0], [0.1], [5.0], [5.2]], [0, 0, 1, 1], metric="euclidean").eer == 0.0
    # Every different pair scored above every same pair: EER 1.
    fpr, tpr, _ = roc_curve([1, 1, 0, 0], [0.0, 1.0, 2.0, 3.0])
    assert R.equal_error_rate(fpr, tpr) == pytest.approx(1.0)
    # A case worked by hand: same scores {-9, -9}, different {-1, -10, -8, -1}; the ROC jumps from
    # (0.75, 0) at threshold -8 to (0.75, 1) at -9, so fpr = 1 - tpr = 0.75 on that segment.
    worked = R.verification_roc([[0.0], [9.0], [1.0], [10.0]], [0, 0, 1, 1], metric="euclidean")
    assert worked.eer == pytest.approx(0.75) and -9.0 <= worked.eer_threshold <= -8.0


def test_equal_error_rate_of_two_gaussians_monte_carlo(rng):
    """Scores N(+1, 1) for same, N(-1, 1) for different: EER = Phi(-1) = 0.1587 by symmetry."""
    n = 20_000
    scores = np.r_[rng.normal(1.0, 1.0, n), rng.normal(-1.0, 1.0, n)]
    fpr, tpr, _ = roc_curve(np.r_[np.ones(n), np.zeros(n)], scores)
    # Binomial standard error of a rate near 0.16 from 20k samples is 0.0026; allow 4 of them.
    assert R.equal_error_rate(fpr, tpr) == pytest.approx(stats.norm.cdf(-1.0), abs=0.011)


def test_verification_errors(rng):
    x = rng.normal(size=(4, 2))
    with pytest.raises(ValueError, match="No same-person pairs"):
        R.make_pairs([0, 1, 2])
    with pytest.raises(ValueError, match="No different-person pairs"):
        R.make_pairs([3, 3, 3])
    with pytest.raises(ValueError, match="at least 2 rows"):
        R.make_pairs([0])
    with pytest.raises(ValueError, match=r"non-empty 1-D"):
        R.make_pairs([])
    for bad in (3, 0, 10, 2.0):
        with pytest.raises(ValueError, match=r"`n_pairs` must be None \(all pairs\) or an even int from 2 to 4"):
            R.make_pairs([0, 0, 1, 1], n_pairs=bad)
    with pytest.raises(ValueError, match=r"Unknown `metric` 'l1'"):
        R.verification_roc(x, [0, 0, 1, 1], metric="l1")
    with pytest.raises(ValueError, match="`features` has 4 rows but `identity` has 3"):
        R.verification_roc(x, [0, 0, 1])
    with pytest.raises(ValueError, match="must be 2-D"):
        R.verification_roc(x.ravel(), [0, 0, 1, 1, 2, 2, 3, 3])
    with pytest.raises(ValueError, match="all zero"):
        R.verification_roc(np.r_[x[:3], [[0.0, 0.0]]], [0, 0, 1, 1])
    with pytest.raises(ValueError, match="rows of `features`"):
        R.pair_scores(x, [0], [4])
    with pytest.raises(ValueError, match="one length >= 2"):
        R.equal_error_rate([0.0, 1.0], [0.0])
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        R.equal_error_rate([0.0, 2.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="never crosses"):
        R.equal_error_rate([0.0, 0.1], [0.0, 0.2])


# --------------------------------------------------------------------------- tables


def test_results_table_rows_and_quoted_numbers():
    result = R.IdentificationResult(np.array([0.9, 1.0]), np.array([0, 1]), 5, 50, np.ones(2), np.ones(2))
    rows = R.results_table({"pixels": [0.97, 0.975, 0.98], "eigenfaces": result}, quoted=R.QUOTED_ORL_5_5)
    assert [r.method for r in rows] == ["pixels", "eigenfaces", "eigenfaces", "SOM + CNN"]
    assert rows[0].mean == pytest.approx(0.975) and rows[0].std == pytest.approx(0.005)
    assert rows[0].text == "97.5 ± 0.5 %" and rows[0].n_splits == 3 and rows[0].note == ""
    assert rows[1].text == "95.0 ± 7.1 %" and not rows[1].quoted
    assert rows[2].text == "89.5 %" and rows[3].text == "96.2 %"
    assert all(r.quoted and r.note.startswith("quoted, not measured: Lawrence et al. 1997") for r in rows[2:])
    table = R.format_table(rows, title="ORL 5/5")
    lines = table.splitlines()
    assert lines[0] == "ORL 5/5" and lines[1].split() == ["method", "accuracy", "splits", "note"]
    assert sum("quoted, not measured" in line for line in lines) == 2
    assert R.results_table({"one split": [0.5]})[0].text == "50.0 %"
    assert R.results_table({"m": [0.97512]}, digits=2)[0].text == "97.51 %"


def test_results_table_errors():
    with pytest.raises(ValueError, match="`accuracies` is empty"):
        R.results_table({})
    with pytest.raises(ValueError, match="has no accuracies"):
        R.results_table({"m": []})
    with pytest.raises(ValueError, match="fractions in \\[0, 1\\].*Divide percentages by 100"):
        R.results_table({"m": [97.5, 96.0]})
    with pytest.raises(TypeError, match="QuotedResult"):
        R.results_table({"m": [0.9]}, quoted=[("eigenfaces", 0.105)])
    with pytest.raises(ValueError, match="non-empty list from results_table"):
        R.format_table([])


# --------------------------------------------------------------------------- exercise self-checks


def test_check_nearest_neighbour_accuracy(gallery):
    right = R.identification_accuracy(*gallery)
    assert check.nearest_neighbour_accuracy(right, *gallery).passed
    assert check.nearest_neighbour_accuracy(None, *gallery).status == "not done"
    assert "percentage" in repr(check.nearest_neighbour_accuracy(100 * right, *gallery))
    assert "error rate" in repr(check.nearest_neighbour_accuracy(1 - right, *gallery))
    wrong = check.nearest_neighbour_accuracy(0.01, *gallery)
    assert wrong.status == "wrong" and f"{right}" not in repr(wrong) and f"{100 * right:.1f}" not in repr(wrong)


def test_check_pair_counts():
    identity = np.repeat(np.arange(40), 10)
    assert check.pair_counts((1800, 78000), identity).passed
    assert check.pair_counts(None, identity).status == "not done"
    assert "ordered pairs" in repr(check.pair_counts((3600, 156000), identity))
    assert "itself" in repr(check.pair_counts((2200, 78000), identity))
    assert "swapped" in repr(check.pair_counts((78000, 1800), identity))
    wrong = check.pair_counts((1000, 2000), identity)
    assert wrong.status == "wrong" and "1800" not in repr(wrong) and "78000" not in repr(wrong)


def test_check_equal_error_rate():
    fpr, tpr = [0.0, 0.2, 0.6, 1.0], [0.0, 0.6, 0.9, 1.0]
    assert check.equal_error_rate(11 / 35, fpr, tpr).passed
    assert check.equal_error_rate(None, fpr, tpr).status == "not done"
    assert "1 - tpr" in repr(check.equal_error_rate(24 / 35, fpr, tpr))
    assert "interpolate" in repr(check.equal_error_rate(0.2, fpr, tpr))
    assert "percentage" in repr(check.equal_error_rate(100 * 11 / 35, fpr, tpr))
    assert "0.314" not in repr(check.equal_error_rate(0.5, fpr, tpr))


# --------------------------------------------------------------------------- the real faces


def test_eigenfaces_1nn_on_orl_5_5_beats_85_percent(orl_path):
    """Eigenfaces + 1-NN on ORL 64x64, 5/5, 3 seeds; the literature reports about 89.5 %.

    ``orl_path`` (conftest.py) skips without the faces, except in CI, where it fails.
    """
    faces = load_faces(orl_path)
    result = R.evaluate_identification(faces.images, faces.identity, features=R.Eigenfaces(50),
                                       classifier="1nn-euclidean", n_train=5, n_splits=3, seed=0)
    assert result.mean > 0.85, result
