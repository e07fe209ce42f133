"""vaeface_utils.robustness: recognition of perturbed queries against a direct loop."""

import numpy as np
import pytest
from scipy import ndimage
from sklearn.neighbors import KNeighborsClassifier

from vaeface_utils import perturbations, robustness


@pytest.fixture
def people():
    """Six smooth 'people', four noisy pictures each: gallery (first two) and queries (last two)."""
    rng = np.random.default_rng(3)
    faces = ndimage.gaussian_filter(rng.random((6, 16, 16)), sigma=(0, 1.5, 1.5))
    identity = np.repeat(np.arange(6), 4)
    images = (faces[identity] + 0.05 * rng.standard_normal((24, 16, 16)))[..., None].astype(np.float32)
    gallery = np.arange(24) % 4 < 2
    return images[gallery], identity[gallery], images[~gallery], identity[~gallery]


def flat(images):
    return np.asarray(images).reshape(len(images), -1)


STRENGTHS = {"shift": (0, 2, 4), "occlusion": (0, 6, 12)}


def test_perturbed_correct_against_a_loop(people):
    x_gallery, id_gallery, x_query, id_query = people
    classifier = KNeighborsClassifier(1)
    correct = robustness.perturbed_correct(flat, classifier, x_gallery, id_gallery, x_query, id_query, STRENGTHS,
                                           seed=4)
    assert not hasattr(classifier, "classes_")  # the caller's estimator stays unfitted
    fitted = KNeighborsClassifier(1).fit(flat(x_gallery), id_gallery)
    for kind, values in STRENGTHS.items():
        assert correct[kind].shape == (len(values), len(x_query)) and correct[kind].dtype == bool
        for row, s in zip(correct[kind], values):
            queries = perturbations.perturb(x_query, kind, s, seed=4).astype(np.float32)
            assert np.array_equal(row, fitted.predict(flat(queries)) == id_query)


def test_accuracies_and_shares_per_query(people):
    correct = robustness.perturbed_correct(flat, KNeighborsClassifier(1), *people, STRENGTHS)
    curves = robustness.accuracy_by_strength(correct)
    assert list(curves) == list(STRENGTHS)
    assert curves["shift"][0] == curves["occlusion"][0]  # strength 0: the clean queries, whatever the kind
    mean = robustness.mean_perturbed_accuracy(curves)
    assert np.isclose(mean, np.mean([curves[k][i] for k in STRENGTHS for i in (1, 2)]))
    per_query = robustness.share_correct_per_query(correct)
    assert per_query.shape == (len(people[2]),) and np.isclose(per_query.mean(), mean)
    only_shift = robustness.share_correct_per_query(correct, ("shift",))
    assert np.array_equal(only_shift, correct["shift"][1:].mean(axis=0))


def test_robustness_bad_input(people):
    x_gallery, id_gallery, x_query, id_query = people
    with pytest.raises(ValueError, match="Unknown kinds"):
        robustness.perturbed_correct(flat, KNeighborsClassifier(1), *people, {"blur": (0, 1)})
    with pytest.raises(ValueError, match="at least one strength"):
        robustness.perturbed_correct(flat, KNeighborsClassifier(1), *people, {"shift": ()})
    with pytest.raises(TypeError, match="`strengths` must be a non-empty dict"):
        robustness.perturbed_correct(flat, KNeighborsClassifier(1), *people, [0, 2])
    with pytest.raises(TypeError, match="`features` must be a function"):
        robustness.perturbed_correct(None, KNeighborsClassifier(1), *people, STRENGTHS)
    with pytest.raises(ValueError, match="one label per image"):
        robustness.perturbed_correct(flat, KNeighborsClassifier(1), x_gallery, id_gallery, x_query, id_query[:3],
                                     STRENGTHS)
    with pytest.raises(ValueError, match="not in `correct_by_kind`"):
        robustness.share_correct_per_query({"shift": np.ones((2, 3), bool)}, ("rotation",))
