"""Self-checks for the exercises of notebook 00 (start here)."""

import numpy as np

from ._core import CheckResult, check_close, is_placeholder

__all__ = ["test_images_3_of_10", "mean_face_s1", "dark_fraction"]


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
