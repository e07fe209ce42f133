"""vaeface_utils.image_metrics: each measure against an independent computation or a known case."""

import numpy as np
import pytest
from scipy import ndimage
from sklearn.metrics import pairwise_distances

from vaeface_utils import image_metrics as M


def cosine_image(frequency, size=40, amplitude=1.0):
    """A vertical-stripe image whose rows are cos(2 pi f j): one spatial frequency, in cycles per pixel."""
    return np.tile(amplitude * np.cos(2 * np.pi * frequency * np.arange(size)), (size, 1))


# --------------------------------------------------------------------------
# gradient_energy


def test_gradient_energy_known_cases():
    ramp = np.tile(np.arange(6) * 0.2, (4, 1))            # horizontal steps of 0.2, no vertical change
    checkerboard = np.indices((6, 6)).sum(axis=0) % 2.0    # every neighbour differs by 1
    constant = np.full((6, 6), 0.3)
    energy = M.gradient_energy(np.stack([ramp[:, :4], checkerboard[:4, :4], constant[:4, :4]]))
    assert np.allclose(energy, [0.04, 2.0, 0.0])


def test_gradient_energy_against_loops(faces_like):
    x = faces_like[..., 0]
    for image, got in zip(x, M.gradient_energy(faces_like)):
        h, w = image.shape
        horizontal = sum((image[i, j + 1] - image[i, j]) ** 2 for i in range(h) for j in range(w - 1)) / (h * (w - 1))
        vertical = sum((image[i + 1, j] - image[i, j]) ** 2 for i in range(h - 1) for j in range(w)) / ((h - 1) * w)
        assert np.isclose(got, horizontal + vertical)


def test_blurring_lowers_gradient_energy(faces_like):
    blurred = ndimage.gaussian_filter(faces_like, sigma=(0, 1.5, 1.5, 0))
    assert np.all(M.gradient_energy(blurred) < M.gradient_energy(faces_like))


def test_channel_axis_is_optional(faces_like):
    assert np.array_equal(M.gradient_energy(faces_like), M.gradient_energy(faces_like[..., 0]))


@pytest.mark.parametrize("bad, error, match", [
    (np.zeros((3, 1, 5)), ValueError, "at least 2 x 2"),
    (np.zeros((5, 5)), ValueError, r"\(n, H, W, 1\)"),
    (np.zeros((2, 5, 5, 3)), ValueError, r"\(n, H, W, 1\)"),
    (np.full((1, 4, 4), np.nan), ValueError, "NaN"),
    (np.array([[["a", "b"], ["c", "d"]]]), TypeError, "real grey values"),
])
def test_gradient_energy_bad_input(bad, error, match):
    with pytest.raises(error, match=match):
        M.gradient_energy(bad)


# --------------------------------------------------------------------------
# radial_power_spectrum and high_frequency_fraction


def test_power_spectrum_against_a_brute_force_dft():
    rng = np.random.default_rng(1)
    x = rng.random((2, 6, 8))
    h, w = 6, 8
    rows, cols = np.arange(h)[:, None], np.arange(w)[None, :]
    n_bins = 3
    edges = np.linspace(0, 0.5, n_bins + 1)
    sums, counts = np.zeros(n_bins), np.zeros(n_bins)
    for image in x:
        centred = image - image.mean()
        for u in range(h):
            for v in range(w):
                coefficient = np.sum(centred * np.exp(-2j * np.pi * (u * rows / h + v * cols / w)))
                fu, fv = (u if u <= h // 2 else u - h) / h, (v if v <= w // 2 else v - w) / w
                radius = np.hypot(fu, fv)
                if radius > 0.5:
                    continue
                k = max(0, int(np.ceil(radius / 0.5 * n_bins)) - 1)   # rings (edge_k, edge_k+1], ring 0 holds 0
                sums[k] += abs(coefficient) ** 2 / (h * w)
                counts[k] += 1
    frequency, power = M.radial_power_spectrum(x, n_bins=n_bins)
    assert np.allclose(frequency, 0.5 * (edges[:-1] + edges[1:]))
    assert np.allclose(power, sums / counts)


def test_power_spectrum_peaks_at_the_stripes_frequency():
    frequency, power = M.radial_power_spectrum(cosine_image(0.3)[None], n_bins=4)  # rings of 0.125
    assert np.argmax(power) == 2 and frequency[2] - 0.0625 < 0.3 <= frequency[2] + 0.0625
    assert np.allclose(np.delete(power, 2), 0.0, atol=1e-20)


def test_power_spectrum_bad_bins():
    with pytest.raises(ValueError, match="`n_bins` must be"):
        M.radial_power_spectrum(np.zeros((1, 4, 4)), n_bins=0)


def test_high_frequency_fraction_of_two_stripes():
    low, high = cosine_image(0.1, amplitude=2.0), cosine_image(0.4, amplitude=1.0)
    got = M.high_frequency_fraction(np.stack([low, high, low + high, np.full((40, 40), 0.5)]), cutoff=0.25)
    assert np.allclose(got, [0.0, 1.0, 1.0 / (1.0 + 4.0), 0.0])  # power goes as amplitude squared


def test_blurring_lowers_the_high_frequency_fraction(faces_like):
    rng = np.random.default_rng(2)
    sharp = rng.random((4, 32, 32))
    assert np.all(M.high_frequency_fraction(ndimage.gaussian_filter(sharp, (0, 1, 1))) < M.high_frequency_fraction(sharp))


@pytest.mark.parametrize("cutoff", [0.0, 0.5, -0.1, 0.7, float("nan"), "0.25"])
def test_high_frequency_fraction_bad_cutoff(cutoff):
    with pytest.raises(ValueError, match="`cutoff`"):
        M.high_frequency_fraction(np.zeros((1, 8, 8)), cutoff=cutoff)


# --------------------------------------------------------------------------
# ssim


def ssim_by_hand(a, b, window=7, k1=0.01, k2=0.03):
    """Wang et al. (2004) with a uniform window and sample covariances, averaged away from the borders."""
    c1, c2 = k1 ** 2, k2 ** 2
    n = window ** 2
    mean = lambda image: ndimage.uniform_filter(image, size=window)  # noqa: E731
    ua, ub = mean(a), mean(b)
    va = (mean(a * a) - ua ** 2) * n / (n - 1)
    vb = (mean(b * b) - ub ** 2) * n / (n - 1)
    cov = (mean(a * b) - ua * ub) * n / (n - 1)
    s = (2 * ua * ub + c1) * (2 * cov + c2) / ((ua ** 2 + ub ** 2 + c1) * (va + vb + c2))
    pad = (window - 1) // 2
    return s[pad:-pad, pad:-pad].mean()


def test_ssim_against_the_formula(faces_like):
    other = np.clip(faces_like + 0.05 * np.random.default_rng(3).standard_normal(faces_like.shape), 0, 1)
    got = M.ssim(faces_like, other)
    expected = [ssim_by_hand(a, b) for a, b in zip(faces_like[..., 0], other[..., 0])]
    assert np.allclose(got, expected, atol=1e-10)
    assert np.all(got < 1)
    assert np.allclose(M.ssim(faces_like, faces_like), 1.0)


@pytest.mark.parametrize("a, b, match", [
    (np.zeros((2, 8, 8)), np.zeros((3, 8, 8)), "same shape"),
    (np.zeros((2, 6, 6)), np.zeros((2, 6, 6)), "at least 7 x 7"),
])
def test_ssim_bad_input(a, b, match):
    with pytest.raises(ValueError, match=match):
        M.ssim(a, b)


# --------------------------------------------------------------------------
# squared_error and nearest_rmse


def test_squared_error_is_the_mean_over_pixels_in_the_inputs_dtype(faces_like):
    x = faces_like.astype(np.float32)
    r = np.clip(x + 0.1, 0, 1).astype(np.float32)
    got = M.squared_error(x, r)
    assert got.dtype == np.float32 and got.shape == (len(x),)
    assert np.array_equal(got, np.mean((r - x) ** 2, axis=(1, 2, 3)))  # the expression written out, bit for bit
    by_loop = [np.mean([(float(r[i].flat[j]) - float(x[i].flat[j])) ** 2 for j in range(x[i].size)])
               for i in range(len(x))]
    assert np.allclose(got, by_loop, rtol=1e-5)
    assert np.array_equal(M.squared_error(x[..., 0], r[..., 0]), got)


def test_squared_error_bad_input(faces_like):
    with pytest.raises(ValueError, match="same shape"):
        M.squared_error(faces_like, faces_like[:2])
    with pytest.raises(ValueError, match="`reconstructions` holds NaN"):
        M.squared_error(faces_like, np.full_like(faces_like, np.nan))


def test_nearest_rmse_against_a_loop(faces_like):
    images, references = faces_like[:2], faces_like[2:]
    pixels = images[0].size
    by_loop = [min(np.sqrt(np.sum((a - b) ** 2) / pixels) for b in references) for a in images]
    assert np.allclose(M.nearest_rmse(images, references), by_loop)
    assert np.allclose(M.nearest_rmse(references, references), 0.0, atol=1e-7)  # each is its own nearest
    flat = lambda x: np.asarray(x, np.float64).reshape(len(x), -1)  # noqa: E731 - the notebook's expression
    expected = pairwise_distances(flat(images), flat(references)).min(axis=1) / np.sqrt(pixels)
    assert np.array_equal(M.nearest_rmse(images, references), expected)


def test_nearest_rmse_bad_input(faces_like):
    with pytest.raises(ValueError, match="one size"):
        M.nearest_rmse(faces_like, faces_like[:, :10])
