"""vaeface_utils.perturbations: each perturbation against slicing, SciPy or a hand computation."""

import numpy as np
import pytest
from scipy import ndimage

from vaeface_utils import perturbations as P


# --------------------------------------------------------------------------
# Perturbations


@pytest.mark.parametrize("dx, dy", [(3, 0), (-2, 0), (0, 4), (0, -1), (2, -3)])
def test_shift_against_slicing(faces_like, dx, dy):
    x = faces_like[..., 0]
    out = P.shift(faces_like, dx=dx, dy=dy)[..., 0]
    h, w = x.shape[1:]
    # Where the shifted image comes from inside the original, it is the original moved.
    rows_out = slice(max(dy, 0), h + min(dy, 0))
    cols_out = slice(max(dx, 0), w + min(dx, 0))
    rows_in = slice(max(-dy, 0), h + min(-dy, 0))
    cols_in = slice(max(-dx, 0), w + min(-dx, 0))
    assert np.array_equal(out[:, rows_out, cols_out], x[:, rows_in, cols_in])
    # Elsewhere it repeats the nearest edge pixel: each output pixel is the original at clipped coordinates.
    r = np.clip(np.arange(h) - dy, 0, h - 1)
    c = np.clip(np.arange(w) - dx, 0, w - 1)
    assert np.array_equal(out, x[:, r[:, None], c[None, :]])


def test_shift_by_zero_is_a_copy(faces_like):
    out = P.shift(faces_like)
    assert np.array_equal(out, faces_like) and out.shape == faces_like.shape and out is not faces_like


@pytest.mark.parametrize("kwargs, match", [({"dx": 20}, "`dx`"), ({"dy": -24}, "`dy`"), ({"dx": 1.5}, "`dx` must be an int")])
def test_shift_bad_amounts(faces_like, kwargs, match):
    with pytest.raises(ValueError, match=match):
        P.shift(faces_like, **kwargs)


def test_rotate_quarter_turns_match_rot90(faces_like):
    square = faces_like[:, :20, :20]
    assert np.allclose(P.rotate(square, 90), np.rot90(square, 1, axes=(1, 2)))
    assert np.allclose(P.rotate(square, -90), np.rot90(square, -1, axes=(1, 2)))
    assert np.allclose(P.rotate(square, 180), np.rot90(square, 2, axes=(1, 2)))
    assert np.array_equal(P.rotate(square, 0), square)


def test_rotate_turns_a_blob_anticlockwise():
    size, centre = 41, 20.0
    rows, cols = np.indices((size, size))
    blob = np.exp(-((rows - centre) ** 2 + (cols - (centre + 10)) ** 2) / 4.0)  # 10 pixels right of the centre
    out = P.rotate(blob[None], 30)[0]
    r, c = ndimage.center_of_mass(out)
    # Anticlockwise on screen (rows point down): the blob moves up, to 30 degrees above the horizontal.
    assert np.isclose(c - centre, 10 * np.cos(np.radians(30)), atol=0.1)
    assert np.isclose(centre - r, 10 * np.sin(np.radians(30)), atol=0.1)


def test_rotate_bad_angle(faces_like):
    with pytest.raises(ValueError, match="`degrees`"):
        P.rotate(faces_like, 400)


def test_illumination_gradient_by_hand(faces_like):
    x = faces_like[..., 0]
    w = x.shape[2]
    out = P.illumination_gradient(faces_like, 0.6)[..., 0]
    for j in range(w):
        gain = 1 + 0.6 * (2 * j / (w - 1) - 1)
        assert np.allclose(out[:, :, j], np.clip(x[:, :, j] * gain, 0, 1))
    assert np.array_equal(P.illumination_gradient(faces_like, 0.0), faces_like)
    assert out.min() >= 0 and out.max() <= 1
    assert np.allclose(P.illumination_gradient(np.full((1, 3, 9), 0.4), 0.5).mean(), 0.4)  # mean gain 1


@pytest.mark.parametrize("strength", [-0.1, 1.5, float("inf"), None])
def test_illumination_bad_strength(faces_like, strength):
    with pytest.raises(ValueError, match="`strength`"):
        P.illumination_gradient(faces_like, strength)


def test_occlude_covers_one_square_per_image():
    ones = np.ones((10, 16, 12, 1))
    out = P.occlude(ones, 5, seed=3)[..., 0]
    for image in out:
        rows, cols = np.nonzero(image == 0)
        assert len(rows) == 25 and np.ptp(rows) == 4 and np.ptp(cols) == 4  # one 5 x 5 square
    assert np.array_equal(out, P.occlude(ones, 5, seed=3)[..., 0])            # seeded
    assert not np.array_equal(out, P.occlude(ones, 5, seed=4)[..., 0])
    assert np.array_equal(P.occlude(ones, 0), ones)
    assert np.all(ones == 1)                                                   # the input is untouched
    assert np.isclose(P.occlude(ones[:1], 16 - 4, value=0.5).min(), 0.5)


@pytest.mark.parametrize("kwargs, match", [({"size": 13}, "`size`"), ({"size": -1}, "`size`"),
                                           ({"size": 2, "value": 2.0}, "`value`"), ({"size": 2, "seed": -1}, "`seed`")])
def test_occlude_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        P.occlude(np.ones((1, 16, 12)), **kwargs)


def test_perturb_dispatches(faces_like):
    assert np.array_equal(P.perturb(faces_like, "shift", 3), P.shift(faces_like, dx=3))
    assert np.array_equal(P.perturb(faces_like, "rotation", 10), P.rotate(faces_like, 10))
    assert np.array_equal(P.perturb(faces_like, "illumination", 0.3), P.illumination_gradient(faces_like, 0.3))
    assert np.array_equal(P.perturb(faces_like, "occlusion", 6, seed=2), P.occlude(faces_like, 6, seed=2))
    with pytest.raises(ValueError, match="known perturbations are"):
        P.perturb(faces_like, "blur", 1)
