"""The self-checks of notebook 05's exercises (vaeface_utils.checks.limitations)."""

import numpy as np
from scipy import ndimage

from vaeface_utils.perturbations import shift


def test_check_gradient_energy():
    from vaeface_utils.checks import limitations as check

    image = np.random.default_rng(7).random((8, 8, 1))
    x = image[..., 0]
    right = np.mean(np.diff(x, axis=1) ** 2) + np.mean(np.diff(x, axis=0) ** 2)
    assert check.gradient_energy(right, image).passed
    assert check.gradient_energy(None, image).status == "not done"
    horizontal_only = check.gradient_energy(np.mean(np.diff(x, axis=1) ** 2), image)
    assert horizontal_only.status == "wrong" and "horizontal part" in repr(horizontal_only)
    summed = check.gradient_energy(np.sum(np.diff(x, axis=1) ** 2) + np.sum(np.diff(x, axis=0) ** 2), image)
    assert "sum over pixels" in repr(summed)
    assert f"{right:.4f}" not in repr(check.gradient_energy(0.5, image))
    assert "one number" in repr(check.gradient_energy(np.ones(3), image))


def test_check_membership_auc():
    from vaeface_utils.checks import limitations as check

    members, nonmembers = np.array([3.0, 2.0, 1.0]), np.array([2.0, 0.0, 0.5, -1.0])
    right = np.mean((members[:, None] > nonmembers) + 0.5 * (members[:, None] == nonmembers))
    assert check.membership_auc(right, members, nonmembers).passed
    assert check.membership_auc(None, members, nonmembers).status == "not done"
    assert "reversed" in repr(check.membership_auc(1 - right, members, nonmembers))
    assert "one half" in repr(check.membership_auc(np.mean(members[:, None] > nonmembers), members, nonmembers))
    assert "percentage" in repr(check.membership_auc(100 * right, members, nonmembers))


def test_check_shifted_down_accuracy():
    from vaeface_utils.checks import limitations as check
    from vaeface_utils.features import Eigenfaces
    from vaeface_utils.identification import identification_accuracy

    rng = np.random.default_rng(8)
    people = ndimage.gaussian_filter(rng.random((6, 16, 16)), sigma=(0, 1.5, 1.5))
    identity = np.repeat(np.arange(6), 4)
    images = (people[identity] + 0.02 * rng.standard_normal((24, 16, 16)))[..., None]
    gallery, test = np.arange(24) % 4 < 2, np.arange(24) % 4 >= 2
    eigenfaces = Eigenfaces(5).fit(images[gallery])
    right = identification_accuracy(eigenfaces.transform(images[gallery]), identity[gallery],
                                    eigenfaces.transform(shift(images[test], dy=4)), identity[test])
    args = (images[gallery], identity[gallery], images[test], identity[test])
    assert check.shifted_down_accuracy(right, *args, n_components=5).passed
    assert check.shifted_down_accuracy(None, *args, n_components=5).status == "not done"
    assert "percentage" in repr(check.shifted_down_accuracy(50.0, *args, n_components=5))
    wrong = check.shifted_down_accuracy(-0.5, *args, n_components=5)
    assert wrong.status == "wrong" and "identification_accuracy" in repr(wrong)


def test_check_shifted_down_accuracy_with_eigenfaces_fitted_on_other_images():
    from vaeface_utils.checks import limitations as check
    from vaeface_utils.features import Eigenfaces
    from vaeface_utils.identification import identification_accuracy

    rng = np.random.default_rng(9)
    people = ndimage.gaussian_filter(rng.random((6, 16, 16)), sigma=(0, 1.5, 1.5))
    identity = np.repeat(np.arange(6), 5)
    images = (people[identity] + 0.05 * rng.standard_normal((30, 16, 16)))[..., None]
    fit, gallery, test = np.arange(30) % 5 < 2, np.arange(30) % 5 < 3, np.arange(30) % 5 >= 3
    eigenfaces = Eigenfaces(4).fit(images[fit])  # fitted on part of the gallery, as notebook 05 does
    right = identification_accuracy(eigenfaces.transform(images[gallery]), identity[gallery],
                                    eigenfaces.transform(shift(images[test], dy=4)), identity[test])
    args = (images[gallery], identity[gallery], images[test], identity[test])
    assert check.shifted_down_accuracy(right, *args, n_components=4, x_fit=images[fit]).passed
    on_gallery = Eigenfaces(4).fit(images[gallery])
    default = identification_accuracy(on_gallery.transform(images[gallery]), identity[gallery],
                                      on_gallery.transform(shift(images[test], dy=4)), identity[test])
    assert check.shifted_down_accuracy(default, *args, n_components=4).passed  # default: fitted on the gallery
    assert right != default and not check.shifted_down_accuracy(right, *args, n_components=4).passed
