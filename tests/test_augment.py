"""Data augmentation: seeded copies, moved, turned and mirrored; validation and test faces untouched."""

import numpy as np
import pytest

from vaeface_utils.augment import augment, with_augmented_training
from vaeface_utils.data import FaceData, split_per_identity


def _faces():
    rng = np.random.default_rng(0)
    return FaceData(images=rng.uniform(size=(40, 8, 8, 1)).astype(np.float32), identity=np.repeat(np.arange(4), 10),
                    description="noise", source="orl")


def test_copies_are_seeded_and_in_range():
    x = _faces().images
    a, b = augment(x, 2, seed=3), augment(x, 2, seed=3)
    assert a.shape == (80, 8, 8, 1) and a.dtype == np.float32 and np.array_equal(a, b)
    assert not np.array_equal(a, augment(x, 2, seed=4))
    assert a.min() >= 0 and a.max() <= 1


def test_without_moves_a_copy_is_the_image_or_its_mirror():
    x = _faces().images
    copies = augment(x, 1, max_shift=0, max_degrees=0.0, flip=True, seed=0)
    same = np.all(np.isclose(copies, x), axis=(1, 2, 3))
    mirrored = np.all(np.isclose(copies, x[:, :, ::-1]), axis=(1, 2, 3))
    assert np.all(same | mirrored) and same.any() and mirrored.any()
    assert np.allclose(augment(x, 1, max_shift=0, max_degrees=0.0, flip=False), x)


def test_augmented_split_trains_on_copies_and_keeps_validation_and_test():
    faces = _faces()
    split = split_per_identity(faces.identity, n_train=5, n_val=1, seed=0)
    augmented, new_split = with_augmented_training(faces, split, 3)
    assert len(augmented) == 40 + 3 * len(split.train)
    assert np.array_equal(new_split.val, split.val) and np.array_equal(new_split.test, split.test)
    assert len(new_split.train) == 4 * len(split.train) and np.all(np.diff(new_split.train) > 0)
    assert np.array_equal(augmented.identity[new_split.train[len(split.train):]],
                          np.tile(faces.identity[split.train], 3))
    assert np.array_equal(augmented.images[:40], faces.images)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="`copies` must be an int >= 1"):
        augment(np.zeros((1, 8, 8, 1)), 0)
    with pytest.raises(ValueError, match="`max_shift`"):
        augment(np.zeros((1, 8, 8, 1)), 1, max_shift=8)
    with pytest.raises(TypeError, match="FaceData"):
        with_augmented_training(np.zeros((1, 8, 8, 1)), None, 1)
