"""vaeface_utils.identification against scikit-learn's own computations, and every error path."""

import math

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from vaeface_utils.data import load_faces, repeated_splits, split_per_identity
from vaeface_utils.features import Eigenfaces, Fisherfaces, Pixels
from vaeface_utils.identification import (PerPersonSplits, evaluate_identification, identification_accuracy,
                                          make_classifier)


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
    evaluate_identification(images, identity, features=_Spy(), n_train=2, n_splits=3, seed=5)
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
        return Eigenfaces(5).fit(train_images)

    hooked = evaluate_identification(images, identity, fit_features=fit_features, n_train=3, n_splits=2, seed=7)
    plain = evaluate_identification(images, identity, features=Eigenfaces(5), n_train=3, n_splits=2, seed=7)
    assert calls == [(24, 7), (24, 8)]
    np.testing.assert_array_equal(hooked.accuracies, plain.accuracies)


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
        got = identification_accuracy(x_train, y_train, x_test, y_test, name)
        assert got == expected
        found.add(got)
    assert len(found) > 1  # the fixture separates the classifiers, so the comparison means something


def test_cosine_1nn_equals_euclidean_1nn_on_l2_normalised_features(gallery):
    x_train, y_train, x_test, y_test = gallery
    cosine = make_classifier("1nn-cosine").fit(x_train, y_train).predict(x_test)
    euclid = make_classifier("1nn-euclidean").fit(normalize(x_train), y_train).predict(normalize(x_test))
    via_l2 = make_classifier("1nn-euclidean", normalise="l2").fit(x_train, y_train).predict(x_test)
    np.testing.assert_array_equal(cosine, euclid)
    np.testing.assert_array_equal(cosine, via_l2)


def test_standardise_is_fitted_on_training_features(gallery):
    x_train, y_train, x_test, _ = gallery
    clf = make_classifier("1nn-euclidean", normalise="standardise").fit(x_train, y_train)
    mean, std = x_train.mean(0), x_train.std(0)
    expected = KNeighborsClassifier(1).fit((x_train - mean) / std, y_train).predict((x_test - mean) / std)
    np.testing.assert_array_equal(clf.predict(x_test), expected)
    assert make_classifier("logreg", C=10.0).named_steps["classifier"].C == 10.0


def test_classifier_errors():
    with pytest.raises(ValueError, match=r"Unknown `classifier` 'knn'.*'1nn-euclidean', '1nn-cosine', 'logreg', "
                                         r"'linear-svm'"):
        make_classifier("knn")
    with pytest.raises(ValueError, match=r"Unknown `normalise` 'zscore'.*'standardise'"):
        make_classifier("logreg", normalise="zscore")
    with pytest.raises(TypeError, match="must be a name from"):
        identification_accuracy([[0.0]], [0], [[0.0]], [0], classifier=42)


def test_identification_accuracy_is_sklearn_accuracy_of_1nn(gallery):
    x_train, y_train, x_test, y_test = gallery
    expected = accuracy_score(y_test, KNeighborsClassifier(n_neighbors=1).fit(x_train, y_train).predict(x_test))
    assert identification_accuracy(x_train, y_train, x_test, y_test) == expected
    assert 0 < expected < 1
    # An estimator is cloned, so the caller's stays unfitted.
    mine = KNeighborsClassifier(n_neighbors=1)
    assert identification_accuracy(x_train, y_train, x_test, y_test, mine) == expected
    assert not hasattr(mine, "classes_")


def test_identification_accuracy_errors(gallery):
    x_train, y_train, x_test, y_test = gallery
    with pytest.raises(ValueError, match="`features_train` has 24 rows but `id_train` has 23"):
        identification_accuracy(x_train, y_train[:-1], x_test, y_test)
    with pytest.raises(ValueError, match="`features_test` has 24 rows but `id_test` has 25"):
        identification_accuracy(x_train, y_train, x_test, np.r_[y_test, 0])
    with pytest.raises(ValueError, match=r"`features_train` is empty"):
        identification_accuracy(x_train[:0], y_train[:0], x_test, y_test)
    with pytest.raises(ValueError, match=r"`features_test` must be 2-D.*got shape \(24, 7, 1\)"):
        identification_accuracy(x_train, y_train, x_test[..., None], y_test)
    with pytest.raises(ValueError, match=r"`id_train` must be a non-empty 1-D"):
        identification_accuracy(x_train, y_train[:, None], x_test, y_test)
    with pytest.raises(ValueError, match="7 features per row but `features_test` has 6"):
        identification_accuracy(x_train, y_train, x_test[:, :6], y_test)
    with pytest.raises(ValueError, match=r"no training image \(e.g. \[5\]\).*closed-set"):
        identification_accuracy(x_train[y_train < 5], y_train[y_train < 5], x_test, y_test)
    with pytest.raises(ValueError, match="NaN or infinity"):
        identification_accuracy(np.full_like(x_train, np.inf), y_train, x_test, y_test)
    with pytest.raises(ValueError, match=r"Unknown `classifier` 'svm'.*'linear-svm'"):
        identification_accuracy(x_train, y_train, x_test, y_test, "svm")


def test_protocol_is_deterministic_and_matches_a_hand_loop(blobs):
    images, identity = blobs
    a = evaluate_identification(images, identity, features=Eigenfaces(4), classifier="logreg",
                                n_train=2, n_splits=4, seed=3)
    b = evaluate_identification(images, identity, features=Eigenfaces(4), classifier="logreg",
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
        result = evaluate_identification(images, identity, features=Pixels(), n_train=k, n_splits=1)
        assert result.accuracies.shape == (1,) and math.isnan(result.std)


def test_protocol_errors(blobs):
    images, identity = blobs
    run = lambda **kw: evaluate_identification(images, identity, **{"features": Pixels(), **kw})  # noqa: E731
    for k in (0, -1, 2.5, True, "5"):
        with pytest.raises(ValueError, match=r"`n_train` must be an int >= 1; got .*ORL allows 1-9"):
            run(n_train=k)
    with pytest.raises(ValueError, match=r"n_train = 6 needs at least 7 images of each person.*8 people have fewer"
                                         r".*Use n_train <= 5"):
        run(n_train=6)
    short = np.r_[identity[:-4], [99, 99, 99, 99]]  # person 7 keeps 2 images, person 99 has 4
    with pytest.raises(ValueError, match=r"1 people have fewer: identity \(images\) 7 \(2\)\. Use n_train <= 1"):
        evaluate_identification(images, short, features=Pixels(), n_train=2)
    with pytest.raises(ValueError, match="`images` has 48 rows but `identity` has 40"):
        evaluate_identification(images, identity[:40], features=Pixels())
    with pytest.raises(ValueError, match="non-empty array of images"):
        evaluate_identification(images[:0], identity[:0], features=Pixels())
    with pytest.raises(ValueError, match="exactly one of `features`"):
        evaluate_identification(images, identity)
    with pytest.raises(ValueError, match="exactly one of `features`"):
        run(fit_features=lambda *a: Pixels())
    with pytest.raises(TypeError, match="`features` must be a transformer"):
        evaluate_identification(images, identity, features="eigenfaces")
    with pytest.raises(TypeError, match="`fit_features` must be callable"):
        evaluate_identification(images, identity, fit_features=Pixels())
    with pytest.raises(TypeError, match="must return a transformer"):
        evaluate_identification(images, identity, fit_features=lambda *a: None)
    with pytest.raises(ValueError, match=r"`n_splits` must be an int >= 1; got 0"):
        run(n_splits=0)
    with pytest.raises(ValueError, match=r"Unknown `classifier` 'nn'; the known ones are"):
        run(classifier="nn")
    with pytest.raises(ValueError, match="`identity` must hold ints"):
        evaluate_identification(images, identity.astype(float), features=Pixels())


def test_per_person_splits_are_the_courses_repeated_splits(blobs):
    images, identity = blobs
    splitter = PerPersonSplits(2, n_splits=3, seed=5)
    assert splitter.get_n_splits() == 3
    for (train, test), split in zip(splitter.split(images, identity), repeated_splits(identity, 2, n_splits=3, seed=5)):
        np.testing.assert_array_equal(train, split.train)
        np.testing.assert_array_equal(test, split.test)


def test_cross_validate_on_per_person_splits_gives_the_protocols_accuracies(blobs):
    images, identity = blobs
    for features, classifier in ((Eigenfaces(4), "logreg"), (Fisherfaces(pca_components=10), "1nn-cosine")):
        ours = evaluate_identification(images, identity, features=features, classifier=classifier, n_train=3,
                                       n_splits=3, seed=2)
        pipeline = Pipeline([("features", features), ("classifier", make_classifier(classifier))])
        theirs = cross_validate(pipeline, images, identity, cv=PerPersonSplits(3, n_splits=3, seed=2),
                                error_score="raise")
        np.testing.assert_array_equal(ours.accuracies, theirs["test_score"])


def test_per_person_splits_errors(blobs):
    images, identity = blobs
    with pytest.raises(ValueError, match="needs the identities: pass them as y"):
        next(PerPersonSplits(2).split(images))
    with pytest.raises(ValueError, match=r"`n_splits` must be an int >= 1; got 0"):
        PerPersonSplits(2, n_splits=0).get_n_splits()
    with pytest.raises(ValueError, match=r"`n_train` must be an int from 1 to 5"):
        next(PerPersonSplits(6).split(images, identity))


def test_eigenfaces_1nn_on_orl_5_5_beats_85_percent(orl_path):
    """Eigenfaces + 1-NN on ORL 64x64, 5/5, 3 seeds; the literature reports about 89.5 %.

    ``orl_path`` (conftest.py) skips without the faces, except in CI, where it fails.
    """
    faces = load_faces(orl_path)
    result = evaluate_identification(faces.images, faces.identity, features=Eigenfaces(50),
                                     classifier="1nn-euclidean", n_train=5, n_splits=3, seed=0)
    assert result.mean > 0.85, result
