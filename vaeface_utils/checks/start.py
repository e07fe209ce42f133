"""Self-checks for the exercises of notebook 00 (start here)."""

import numpy as np

from ._core import CheckResult, check_close, is_placeholder

__all__ = ["test_images_3_of_10", "mean_face_s1", "dark_fraction", "split_function"]


def test_images_3_of_10(answer):
    """Exercise 1: test images in the 3/7 protocol on 40 people x 10 images."""
    return check_close(
        "Exercise 1 (test images, 3/7 protocol)", answer, 40 * (10 - 3),
        hint="Each person keeps 3 images for training; every other image of theirs is a test query.",
    )


def mean_face_s1(answer, images, identity):
    """Exercise 2: the mean of person s1's images, shape (H, W)."""
    images = np.asarray(images)
    expected = images[np.asarray(identity) == 0, :, :, 0].mean(axis=0)
    result = check_close(
        "Exercise 2 (mean face of s1)", answer, expected,
        hint="Select the images whose identity is 0, drop the channel axis, and average over the images (axis 0).",
        shape_hint="Average over the images only, and drop the channel axis: the result is one image.",
    )
    if not result.passed and not is_placeholder(answer) and np.shape(answer) == expected.shape:
        if np.isclose(np.mean(answer), images.mean(), rtol=1e-3):
            return CheckResult(result.name, "wrong", "That looks like the mean of everyone; keep only person s1 (identity 0).")
    return result


def dark_fraction(answer, images):
    """Exercise 3: the fraction of pixels below 0.2."""
    expected = float((np.asarray(images) < 0.2).mean())
    result = check_close(
        "Exercise 3 (fraction of dark pixels)", answer, expected, rtol=1e-3,
        hint="Compare every pixel with 0.2 to get booleans; the mean of booleans is a fraction.",
    )
    if not result.passed and not is_placeholder(answer) and np.size(answer) == 1 and float(np.asarray(answer)) > 1:
        return CheckResult(result.name, "wrong", "A fraction lies between 0 and 1: divide the count by the number of pixels.")
    return result


def split_function(answer, identity):
    """Exercise 4: a function ``answer(identity, n_train, seed)`` that splits per person.

    It is run here for several sizes and seeds. It must return two integer
    index arrays ``(train, test)``: ``n_train`` images of every person in
    ``train``, all the others in ``test``, no image in both, and a different
    choice for a different seed but the same one for the same seed.
    """
    name = "Exercise 4 (a split per person)"
    if is_placeholder(answer):
        return CheckResult(name, "not done", "Replace the placeholder with your function and run the cell again.")
    if not callable(answer):
        return CheckResult(name, "wrong", f"Expected a function split(identity, n_train, seed), got {type(answer).__name__}.")
    identity = np.asarray(identity)
    people = np.unique(identity)
    picks = {}
    for n_train in (1, 3, 5):
        for seed in (0, 1):
            try:
                result = answer(identity, n_train, seed)
                train, test = (np.asarray(part) for part in result)
            except Exception as error:  # noqa: BLE001 - the student's code may fail in any way
                return CheckResult(name, "wrong", f"split(identity, {n_train}, {seed}) did not return two index arrays "
                                                  f"(train, test): {type(error).__name__}: {str(error)[:120]}")
            if train.dtype.kind not in "iu" or test.dtype.kind not in "iu":
                return CheckResult(name, "wrong", "Return integer indices (np.flatnonzero, rng.choice of indices), "
                                                  "not booleans or images.")
            if len(np.intersect1d(train, test)) or len(np.unique(train)) != len(train):
                return CheckResult(name, "wrong", "An image is in both parts, or twice in one.")
            if sorted(np.concatenate([train, test]).tolist()) != list(range(len(identity))):
                return CheckResult(name, "wrong", "Together the two parts must hold every image exactly once.")
            counts = np.array([np.sum(identity[train] == person) for person in people])
            if not np.all(counts == n_train):
                return CheckResult(name, "wrong", f"With n_train={n_train}, every person needs exactly {n_train} "
                                                  "training images: choose within each person, not over all images.")
            picks[n_train, seed] = np.sort(train)
    if any(np.array_equal(picks[n, 0], picks[n, 1]) for n in (3, 5)):
        return CheckResult(name, "wrong", "Seeds 0 and 1 gave the same split: draw the choice at random, with "
                                          "np.random.default_rng(seed).")
    again = np.sort(np.asarray(answer(identity, 3, 0)[0]))
    if not np.array_equal(again, picks[3, 0]):
        return CheckResult(name, "wrong", "The same seed gave two different splits: make the generator from the "
                                          "seed inside the function, np.random.default_rng(seed).")
    return CheckResult(name, "correct")
