"""Figures: each function draws what it is given on the Axes it returns, and refuses bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vaeface_utils.plotting import curves, image_grid  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_image_grid_places_every_image_on_one_canvas_with_its_label():
    images = np.stack([np.full((4, 3), value, dtype=np.float32) for value in (0.0, 0.25, 0.5, 0.75, 1.0)])
    ax = image_grid(images[..., None], ncols=2, pad=1, titles=list("abcde"), title="five grey squares")
    (shown,) = ax.images
    canvas = shown.get_array()
    assert canvas.shape == (3 * (4 + 1) + 1, 2 * (3 + 1) + 1)  # 3 rows of 2, 1-pixel padding
    # image i sits at row i // 2, column i % 2, each exactly where it belongs
    for i, value in enumerate((0.0, 0.25, 0.5, 0.75, 1.0)):
        r, c = divmod(i, 2)
        assert np.all(canvas[1 + r * 5: 1 + r * 5 + 4, 1 + c * 4: 1 + c * 4 + 3] == value)
    assert canvas[-2, -2] == 1.0  # the empty sixth place stays white
    assert [t.get_text() for t in ax.texts] == list("abcde") and ax.get_title() == "five grey squares"
    assert shown.get_clim() == (0.0, 1.0)  # grey levels are not rescaled


def test_image_grid_draws_on_a_given_axes_and_narrows_to_the_number_of_images():
    fig, ax = plt.subplots()
    assert image_grid(np.zeros((3, 2, 2)), ax=ax, ncols=10, pad=0) is ax
    assert ax.images[0].get_array().shape == (2, 6)


@pytest.mark.parametrize("images, titles, match", [
    (np.zeros((0, 4, 4)), None, "n >= 1"),
    (np.zeros((4, 4)), None, r"shape \(n, H, W\)"),
    (np.zeros((2, 4, 4, 3)), None, r"shape \(n, H, W\)"),
    (np.zeros((2, 4, 4)), ["only one"], "one per image"),
])
def test_image_grid_refuses_bad_input(images, titles, match):
    with pytest.raises(ValueError, match=match):
        image_grid(images, titles=titles)


def test_curves_draws_each_key_against_epochs_from_one():
    history = {"loss": [3.0, 2.0, 1.5], "val_loss": [3.5, 2.5, 2.0], "kl": [1.0, 1.1, 1.2]}
    ax = curves(history, ["loss", "val_loss"], title="training, split 0")
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["loss", "val_loss"]
    assert np.array_equal(lines[0].get_xdata(), [1, 2, 3]) and np.array_equal(lines[1].get_ydata(), [3.5, 2.5, 2.0])
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "nats per image"
    assert ax.get_title() == "training, split 0" and ax.get_legend() is not None


def test_curves_names_a_missing_key_and_what_there_is():
    with pytest.raises(ValueError, match=r"\['val_kl'\] not in the history; it has \['kl', 'loss'\]"):
        curves({"loss": [1.0], "kl": [0.5]}, ["loss", "val_kl"])
