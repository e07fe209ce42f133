"""The latent explorer: sliders change the code, and the code the face."""

import numpy as np
import pytest

from vaeface_utils.explorer import latent_explorer


def fake_decode(z):
    """A decoder whose image brightness is sigmoid(z[0])."""
    return np.ones((len(z), 8, 8, 1), dtype=np.float32) / (1 + np.exp(-z[:, :1, None, None]))


def test_moving_a_slider_changes_the_code_and_the_image():
    box = latent_explorer(fake_decode, np.zeros(4), dims=[0, 2])
    first = bytes(box.image.value)
    assert first.startswith(b"\x89PNG")
    box.sliders[0].value = 2.0
    np.testing.assert_allclose(box.code(), [2.0, 0, 0, 0])
    assert bytes(box.image.value) != first
    box.sliders[1].value = -1.0  # z[2] does not affect this decoder's image
    np.testing.assert_allclose(box.code(), [2.0, 0, -1.0, 0])


def test_slider_range_covers_the_start_value():
    box = latent_explorer(fake_decode, np.array([4.5, 0.0]), dims=[0], limit=3.0)
    assert box.sliders[0].max >= 4.5 and box.sliders[0].value == pytest.approx(4.5)


@pytest.mark.parametrize("z_start, dims, message", [
    (np.zeros((2, 4)), [0], "one code of shape"),
    (np.zeros(4), [4], r"in 0\.\.3"),
    (np.zeros(4), [], "1 or more latent dimensions"),
])
def test_bad_arguments(z_start, dims, message):
    with pytest.raises(ValueError, match=message):
        latent_explorer(fake_decode, z_start, dims)
