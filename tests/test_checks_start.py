"""The self-checks of notebook 00: right, not done, and wrong with a hint that hides the answer."""

import numpy as np

from vaeface_utils.checks import start

rng = np.random.default_rng(0)
images = rng.random((400, 8, 8, 1)).astype(np.float32)
identity = np.repeat(np.arange(40), 10)


def test_test_images():
    assert start.test_images_3_of_10(280).passed
    assert start.test_images_3_of_10(None).status == "not done"
    wrong = start.test_images_3_of_10(120)
    assert wrong.status == "wrong" and "280" not in repr(wrong)


def test_mean_face():
    right = images[identity == 0, :, :, 0].mean(axis=0)
    assert start.mean_face_s1(right, images, identity).passed
    assert start.mean_face_s1(None, images, identity).status == "not done"
    everyone = images[..., 0].mean(axis=0)
    assert "mean of everyone" in repr(start.mean_face_s1(everyone, images, identity))
    assert "shape" in repr(start.mean_face_s1(right[None], images, identity))


def test_dark_fraction():
    right = float((images < 0.2).mean())
    assert start.dark_fraction(right, images).passed
    wrong = start.dark_fraction(right * images.size, images)
    assert wrong.status == "wrong" and "between 0 and 1" in repr(wrong)
    assert f"{right}" not in repr(wrong)
