"""vaeface_utils.limitations: each measure against an independent computation or a known case."""

import numpy as np
import pytest
from scipy import ndimage, stats

from vaeface_utils import elbo
from vaeface_utils import limitations as L


@pytest.fixture
def faces_like():
    """Smooth random 'images' (n, 24, 20, 1) in [0, 1]: blurred noise, like small faces."""
    rng = np.random.default_rng(0)
    x = ndimage.gaussian_filter(rng.random((5, 24, 20)), sigma=(0, 2, 2))
    x = (x - x.min()) / (x.max() - x.min())
    return x[..., None]


def cosine_image(frequency, size=40, amplitude=1.0):
    """A vertical-stripe image whose rows are cos(2 pi f j): one spatial frequency, in cycles per pixel."""
    return np.tile(amplitude * np.cos(2 * np.pi * frequency * np.arange(size)), (size, 1))


# --------------------------------------------------------------------------
# gradient_energy


def test_gradient_energy_known_cases():
    ramp = np.tile(np.arange(6) * 0.2, (4, 1))            # horizontal steps of 0.2, no vertical change
    checkerboard = np.indices((6, 6)).sum(axis=0) % 2.0    # every neighbour differs by 1
    constant = np.full((6, 6), 0.3)
    energy = L.gradient_energy(np.stack([ramp[:, :4], checkerboard[:4, :4], constant[:4, :4]]))
    assert np.allclose(energy, [0.04, 2.0, 0.0])


def test_gradient_energy_against_loops(faces_like):
    x = faces_like[..., 0]
    for image, got in zip(x, L.gradient_energy(faces_like)):
        h, w = image.shape
        horizontal = sum((image[i, j + 1] - image[i, j]) ** 2 for i in range(h) for j in range(w - 1)) / (h * (w - 1))
        vertical = sum((image[i + 1, j] - image[i, j]) ** 2 for i in range(h - 1) for j in range(w)) / ((h - 1) * w)
        assert np.isclose(got, horizontal + vertical)


def test_blurring_lowers_gradient_energy(faces_like):
    blurred = ndimage.gaussian_filter(faces_like, sigma=(0, 1.5, 1.5, 0))
    assert np.all(L.gradient_energy(blurred) < L.gradient_energy(faces_like))


def test_channel_axis_is_optional(faces_like):
    assert np.array_equal(L.gradient_energy(faces_like), L.gradient_energy(faces_like[..., 0]))


@pytest.mark.parametrize("bad, error, match", [
    (np.zeros((3, 1, 5)), ValueError, "at least 2 x 2"),
    (np.zeros((5, 5)), ValueError, r"\(n, H, W, 1\)"),
    (np.zeros((2, 5, 5, 3)), ValueError, r"\(n, H, W, 1\)"),
    (np.full((1, 4, 4), np.nan), ValueError, "NaN"),
    (np.array([[["a", "b"], ["c", "d"]]]), TypeError, "real grey values"),
])
def test_gradient_energy_bad_input(bad, error, match):
    with pytest.raises(error, match=match):
        L.gradient_energy(bad)


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
    frequency, power = L.radial_power_spectrum(x, n_bins=n_bins)
    assert np.allclose(frequency, 0.5 * (edges[:-1] + edges[1:]))
    assert np.allclose(power, sums / counts)


def test_power_spectrum_peaks_at_the_stripes_frequency():
    frequency, power = L.radial_power_spectrum(cosine_image(0.3)[None], n_bins=4)  # rings of 0.125
    assert np.argmax(power) == 2 and frequency[2] - 0.0625 < 0.3 <= frequency[2] + 0.0625
    assert np.allclose(np.delete(power, 2), 0.0, atol=1e-20)


def test_power_spectrum_bad_bins():
    with pytest.raises(ValueError, match="`n_bins` must be"):
        L.radial_power_spectrum(np.zeros((1, 4, 4)), n_bins=0)


def test_high_frequency_fraction_of_two_stripes():
    low, high = cosine_image(0.1, amplitude=2.0), cosine_image(0.4, amplitude=1.0)
    got = L.high_frequency_fraction(np.stack([low, high, low + high, np.full((40, 40), 0.5)]), cutoff=0.25)
    assert np.allclose(got, [0.0, 1.0, 1.0 / (1.0 + 4.0), 0.0])  # power goes as amplitude squared


def test_blurring_lowers_the_high_frequency_fraction(faces_like):
    rng = np.random.default_rng(2)
    sharp = rng.random((4, 32, 32))
    assert np.all(L.high_frequency_fraction(ndimage.gaussian_filter(sharp, (0, 1, 1))) < L.high_frequency_fraction(sharp))


@pytest.mark.parametrize("cutoff", [0.0, 0.5, -0.1, 0.7, float("nan"), "0.25"])
def test_high_frequency_fraction_bad_cutoff(cutoff):
    with pytest.raises(ValueError, match="`cutoff`"):
        L.high_frequency_fraction(np.zeros((1, 8, 8)), cutoff=cutoff)


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
    got = L.ssim(faces_like, other)
    expected = [ssim_by_hand(a, b) for a, b in zip(faces_like[..., 0], other[..., 0])]
    assert np.allclose(got, expected, atol=1e-10)
    assert np.all(got < 1)
    assert np.allclose(L.ssim(faces_like, faces_like), 1.0)


@pytest.mark.parametrize("a, b, match", [
    (np.zeros((2, 8, 8)), np.zeros((3, 8, 8)), "same shape"),
    (np.zeros((2, 6, 6)), np.zeros((2, 6, 6)), "at least 7 x 7"),
])
def test_ssim_bad_input(a, b, match):
    with pytest.raises(ValueError, match=match):
        L.ssim(a, b)


# --------------------------------------------------------------------------
# Perturbations


@pytest.mark.parametrize("dx, dy", [(3, 0), (-2, 0), (0, 4), (0, -1), (2, -3)])
def test_shift_against_slicing(faces_like, dx, dy):
    x = faces_like[..., 0]
    out = L.shift(faces_like, dx=dx, dy=dy)[..., 0]
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
    out = L.shift(faces_like)
    assert np.array_equal(out, faces_like) and out.shape == faces_like.shape and out is not faces_like


@pytest.mark.parametrize("kwargs, match", [({"dx": 20}, "`dx`"), ({"dy": -24}, "`dy`"), ({"dx": 1.5}, "`dx` must be an int")])
def test_shift_bad_amounts(faces_like, kwargs, match):
    with pytest.raises(ValueError, match=match):
        L.shift(faces_like, **kwargs)


def test_rotate_quarter_turns_match_rot90(faces_like):
    square = faces_like[:, :20, :20]
    assert np.allclose(L.rotate(square, 90), np.rot90(square, 1, axes=(1, 2)))
    assert np.allclose(L.rotate(square, -90), np.rot90(square, -1, axes=(1, 2)))
    assert np.allclose(L.rotate(square, 180), np.rot90(square, 2, axes=(1, 2)))
    assert np.array_equal(L.rotate(square, 0), square)


def test_rotate_turns_a_blob_anticlockwise():
    size, centre = 41, 20.0
    rows, cols = np.indices((size, size))
    blob = np.exp(-((rows - centre) ** 2 + (cols - (centre + 10)) ** 2) / 4.0)  # 10 pixels right of the centre
    out = L.rotate(blob[None], 30)[0]
    r, c = ndimage.center_of_mass(out)
    # Anticlockwise on screen (rows point down): the blob moves up, to 30 degrees above the horizontal.
    assert np.isclose(c - centre, 10 * np.cos(np.radians(30)), atol=0.1)
    assert np.isclose(centre - r, 10 * np.sin(np.radians(30)), atol=0.1)


def test_rotate_bad_angle(faces_like):
    with pytest.raises(ValueError, match="`degrees`"):
        L.rotate(faces_like, 400)


def test_illumination_gradient_by_hand(faces_like):
    x = faces_like[..., 0]
    w = x.shape[2]
    out = L.illumination_gradient(faces_like, 0.6)[..., 0]
    for j in range(w):
        gain = 1 + 0.6 * (2 * j / (w - 1) - 1)
        assert np.allclose(out[:, :, j], np.clip(x[:, :, j] * gain, 0, 1))
    assert np.array_equal(L.illumination_gradient(faces_like, 0.0), faces_like)
    assert out.min() >= 0 and out.max() <= 1
    assert np.allclose(L.illumination_gradient(np.full((1, 3, 9), 0.4), 0.5).mean(), 0.4)  # mean gain 1


@pytest.mark.parametrize("strength", [-0.1, 1.5, float("inf"), None])
def test_illumination_bad_strength(faces_like, strength):
    with pytest.raises(ValueError, match="`strength`"):
        L.illumination_gradient(faces_like, strength)


def test_occlude_covers_one_square_per_image():
    ones = np.ones((10, 16, 12, 1))
    out = L.occlude(ones, 5, seed=3)[..., 0]
    for image in out:
        rows, cols = np.nonzero(image == 0)
        assert len(rows) == 25 and np.ptp(rows) == 4 and np.ptp(cols) == 4  # one 5 x 5 square
    assert np.array_equal(out, L.occlude(ones, 5, seed=3)[..., 0])            # seeded
    assert not np.array_equal(out, L.occlude(ones, 5, seed=4)[..., 0])
    assert np.array_equal(L.occlude(ones, 0), ones)
    assert np.all(ones == 1)                                                   # the input is untouched
    assert np.isclose(L.occlude(ones[:1], 16 - 4, value=0.5).min(), 0.5)


@pytest.mark.parametrize("kwargs, match", [({"size": 13}, "`size`"), ({"size": -1}, "`size`"),
                                           ({"size": 2, "value": 2.0}, "`value`"), ({"size": 2, "seed": -1}, "`seed`")])
def test_occlude_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        L.occlude(np.ones((1, 16, 12)), **kwargs)


def test_perturb_dispatches(faces_like):
    assert np.array_equal(L.perturb(faces_like, "shift", 3), L.shift(faces_like, dx=3))
    assert np.array_equal(L.perturb(faces_like, "rotation", 10), L.rotate(faces_like, 10))
    assert np.array_equal(L.perturb(faces_like, "illumination", 0.3), L.illumination_gradient(faces_like, 0.3))
    assert np.array_equal(L.perturb(faces_like, "occlusion", 6, seed=2), L.occlude(faces_like, 6, seed=2))
    with pytest.raises(ValueError, match="known perturbations are"):
        L.perturb(faces_like, "blur", 1)


# --------------------------------------------------------------------------
# The latent code


def test_activity_and_active_units():
    rng = np.random.default_rng(4)
    z_mean = rng.standard_normal((500, 4)) * np.array([1.0, 0.3, 0.05, 0.0])  # variances 1, 0.09, 0.0025, 0
    assert np.allclose(L.latent_activity(z_mean), np.var(z_mean, axis=0))
    assert L.active_units(z_mean) == 2
    assert L.active_units(z_mean, threshold=0.001) == 3
    assert L.active_units(z_mean, threshold=2.0) == 0


def test_kl_per_dimension_sums_to_the_kl_and_matches_monte_carlo():
    rng = np.random.default_rng(5)
    z_mean, z_log_var = rng.normal(0, 1, (50, 3)), rng.normal(-1, 0.5, (50, 3))
    per_dim = L.kl_per_dimension(z_mean, z_log_var)
    assert per_dim.shape == (3,) and np.all(per_dim >= 0)
    assert np.isclose(per_dim.sum(), elbo.kl_diag_gaussian_standard(z_mean, z_log_var).mean())
    # Monte Carlo for one dimension of one image: E_q[log q(z) - log p(z)], 400,000 draws, tolerance 5 standard errors.
    m, s = z_mean[0, 0], np.exp(0.5 * z_log_var[0, 0])
    z = rng.normal(m, s, 400_000)
    terms = stats.norm.logpdf(z, m, s) - stats.norm.logpdf(z)
    exact = L.kl_per_dimension(z_mean[:1, :1], z_log_var[:1, :1])[0]
    assert abs(terms.mean() - exact) < 5 * terms.std() / np.sqrt(len(z))


@pytest.mark.parametrize("z, match", [(np.zeros(3), r"\(n, latent_dim\)"), (np.zeros((0, 2)), r"\(n, latent_dim\)"),
                                      (np.full((2, 2), np.nan), "NaN")])
def test_latent_bad_input(z, match):
    with pytest.raises(ValueError, match=match):
        L.latent_activity(z)


def test_latent_errors():
    with pytest.raises(ValueError, match="at least 2 images"):
        L.active_units(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="`threshold`"):
        L.active_units(np.zeros((4, 3)), threshold=-1)
    with pytest.raises(ValueError, match="same shape"):
        L.kl_per_dimension(np.zeros((4, 3)), np.zeros((4, 2)))


# --------------------------------------------------------------------------
# membership_roc


def test_membership_auc_is_the_mann_whitney_statistic():
    rng = np.random.default_rng(6)
    members = np.round(rng.normal(1.0, 1.0, 60), 1)        # rounded: ties happen and count half
    nonmembers = np.round(rng.normal(0.0, 1.0, 80), 1)
    fpr, tpr, auc = L.membership_roc(members, nonmembers)
    u = stats.mannwhitneyu(members, nonmembers).statistic
    assert np.isclose(auc, u / (len(members) * len(nonmembers)))
    pairs = np.mean((members[:, None] > nonmembers[None, :]) + 0.5 * (members[:, None] == nonmembers[None, :]))
    assert np.isclose(auc, pairs)
    assert fpr[0] == 0 and tpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1 and np.all(np.diff(fpr) >= 0)


def test_membership_extremes():
    assert L.membership_roc([2.0, 3.0], [0.0, 1.0])[2] == 1.0
    assert L.membership_roc([0.0, 1.0], [2.0, 3.0])[2] == 0.0
    assert L.membership_roc([1.0, 1.0], [1.0, 1.0])[2] == 0.5


@pytest.mark.parametrize("members, nonmembers, error, match", [
    ([], [1.0], ValueError, "`scores_members` must be a non-empty 1-D"),
    ([1.0], [[1.0]], ValueError, "`scores_nonmembers` must be a non-empty 1-D"),
    ([np.nan], [1.0], ValueError, "NaN"),
    (["a"], [1.0], TypeError, "`scores_members` must be an array of numbers"),
])
def test_membership_bad_input(members, nonmembers, error, match):
    with pytest.raises(error, match=match):
        L.membership_roc(members, nonmembers)


# --------------------------------------------------------------------------
# bootstrap_difference


def test_bootstrap_difference_matches_a_brute_force_loop():
    rng = np.random.default_rng(7)
    groups = np.repeat(np.arange(12), 5)
    a = rng.random(60) < 0.8
    b = rng.random(60) < 0.6
    mean, low, high = L.bootstrap_difference(a, b, groups, n_resamples=300, seed=3)
    assert np.isclose(mean, np.mean(a.astype(float) - b))
    draws = np.random.default_rng(3).integers(0, 12, size=(300, 12))  # the same draws, resampled one by one
    means = [np.mean(np.concatenate([(a.astype(float) - b)[groups == g] for g in row])) for row in draws]
    assert np.allclose([low, high], np.percentile(means, [2.5, 97.5]))


def test_bootstrap_difference_agrees_with_scipy_on_group_means():
    rng = np.random.default_rng(8)
    groups = np.repeat(np.arange(40), 5)  # equal groups: resampling groups is resampling the 40 group means
    person = rng.normal(0.0, 0.3, 40)[groups]  # a per-person effect shared by the person's queries
    a = np.clip(0.7 + person + rng.normal(0, 0.2, 200), 0, 1)
    b = np.clip(0.6 + person + rng.normal(0, 0.2, 200), 0, 1)
    mean, low, high = L.bootstrap_difference(a, b, groups, n_resamples=4000, seed=0)
    group_means = np.bincount(groups, weights=a - b) / 5
    ci = stats.bootstrap((group_means,), np.mean, n_resamples=20000, method="percentile",
                         random_state=np.random.default_rng(1)).confidence_interval
    width = high - low
    assert abs(low - ci.low) < 0.1 * width and abs(high - ci.high) < 0.1 * width  # Monte Carlo tolerance
    assert low < mean < high


def test_bootstrap_difference_resamples_people_not_faces():
    """Queries of one person move together: the interval over people is wider than one over single faces."""
    groups = np.repeat(np.arange(20), 10)
    d = np.where(np.arange(20) % 2 == 0, 1.0, -0.8)[groups]  # every face of a person has that person's difference
    low_people, high_people = L.bootstrap_difference(d, np.zeros(200), groups, seed=0)[1:]
    low_faces, high_faces = L.bootstrap_difference(d, np.zeros(200), np.arange(200), seed=0)[1:]
    assert high_people - low_people > 2 * (high_faces - low_faces)


def test_bootstrap_difference_known_cases():
    groups = [0, 0, 1, 1, 2, 2]
    assert L.bootstrap_difference([1, 0, 1, 1, 0, 1], [1, 0, 1, 1, 0, 1], groups) == (0.0, 0.0, 0.0)
    assert np.allclose(L.bootstrap_difference([1.0] * 6, [0.75] * 6, groups), 0.25)  # a constant difference
    first = L.bootstrap_difference([1, 0, 1, 1, 0, 1], [0, 0, 1, 0, 0, 1], groups, seed=5)
    assert first == L.bootstrap_difference([1, 0, 1, 1, 0, 1], [0, 0, 1, 0, 0, 1], groups, seed=5)  # seeded


@pytest.mark.parametrize("kwargs, error, match", [
    ({"correct_a": [1.0, 0.0]}, ValueError, "one entry per query"),
    ({"groups": [0, 0, 0]}, ValueError, "at least 2 distinct groups"),
    ({"correct_b": []}, ValueError, "`correct_b` must be a non-empty 1-D"),
    ({"correct_a": [[1.0, 0.0, 1.0]]}, ValueError, "`correct_a` must be a non-empty 1-D"),
    ({"correct_a": [1.0, np.nan, 0.0]}, ValueError, "NaN"),
    ({"correct_a": ["a", "b", "c"]}, TypeError, "`correct_a` must be an array of numbers"),
    ({"n_resamples": 0}, ValueError, "`n_resamples`"),
    ({"n_resamples": 2.5}, ValueError, "`n_resamples` must be an int"),
    ({"confidence": 1.0}, ValueError, "`confidence`"),
])
def test_bootstrap_difference_bad_input(kwargs, error, match):
    arguments = {"correct_a": [1.0, 0.0, 1.0], "correct_b": [0.0, 0.0, 1.0], "groups": [0, 1, 1], **kwargs}
    with pytest.raises(error, match=match):
        L.bootstrap_difference(**arguments)


@pytest.mark.claims
def test_an_overtrained_vae_leaks_membership_of_real_faces(orl_path):
    """Notebook 05's privacy claim at a small scale that CI can afford (about 15 s).

    The notebook's fast mode trains too briefly to memorise anything, so its
    membership assertion runs only in the full mode. Here a small VAE is
    trained for 200 epochs on 80 faces (32 x 32, two per person): its ELBO
    then tells those faces from 80 other faces of the same people, while
    two sets of unseen faces stay indistinguishable.
    """
    from vaeface_utils import config
    from vaeface_utils.data import load_faces, split_per_identity
    from vaeface_utils.model import VAE

    keras = config.import_keras()
    faces = load_faces(orl_path, size=(32, 32))
    split = split_per_identity(faces.identity, n_train=4, n_val=2, seed=0)
    members, nonmembers, unseen = faces.images[split.train], faces.images[split.val], faces.images[split.test]
    keras.utils.set_random_seed(0)
    vae = VAE((32, 32, 1), 16, likelihood="gaussian", filters=(16, 32), seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    vae.fit(members, epochs=200, batch_size=16, verbose=0)
    elbo_of = {name: vae.elbo_terms(images, seed=0)["elbo"]
               for name, images in [("members", members), ("nonmembers", nonmembers), ("unseen", unseen[:80])]}
    assert L.membership_roc(elbo_of["members"], elbo_of["nonmembers"])[2] > 0.9
    assert abs(L.membership_roc(elbo_of["nonmembers"], elbo_of["unseen"])[2] - 0.5) < 0.1
    assert elbo_of["members"].mean() > elbo_of["nonmembers"].mean() + 100  # the generalisation gap, in nats


# --------------------------------------------------------------------------
# The exercises' self-checks (vaeface_utils.checks.limitations)


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
    from vaeface_utils.recognition import Eigenfaces, identification_accuracy

    rng = np.random.default_rng(8)
    people = ndimage.gaussian_filter(rng.random((6, 16, 16)), sigma=(0, 1.5, 1.5))
    identity = np.repeat(np.arange(6), 4)
    images = (people[identity] + 0.02 * rng.standard_normal((24, 16, 16)))[..., None]
    gallery, test = np.arange(24) % 4 < 2, np.arange(24) % 4 >= 2
    eigenfaces = Eigenfaces(5).fit(images[gallery])
    right = identification_accuracy(eigenfaces.transform(images[gallery]), identity[gallery],
                                    eigenfaces.transform(L.shift(images[test], dy=4)), identity[test])
    args = (images[gallery], identity[gallery], images[test], identity[test])
    assert check.shifted_down_accuracy(right, *args, n_components=5).passed
    assert check.shifted_down_accuracy(None, *args, n_components=5).status == "not done"
    assert "percentage" in repr(check.shifted_down_accuracy(50.0, *args, n_components=5))
    wrong = check.shifted_down_accuracy(-0.5, *args, n_components=5)
    assert wrong.status == "wrong" and "identification_accuracy" in repr(wrong)


def test_check_shifted_down_accuracy_with_eigenfaces_fitted_on_other_images():
    from vaeface_utils.checks import limitations as check
    from vaeface_utils.recognition import Eigenfaces, identification_accuracy

    rng = np.random.default_rng(9)
    people = ndimage.gaussian_filter(rng.random((6, 16, 16)), sigma=(0, 1.5, 1.5))
    identity = np.repeat(np.arange(6), 5)
    images = (people[identity] + 0.05 * rng.standard_normal((30, 16, 16)))[..., None]
    fit, gallery, test = np.arange(30) % 5 < 2, np.arange(30) % 5 < 3, np.arange(30) % 5 >= 3
    eigenfaces = Eigenfaces(4).fit(images[fit])  # fitted on part of the gallery, as notebook 05 does
    right = identification_accuracy(eigenfaces.transform(images[gallery]), identity[gallery],
                                    eigenfaces.transform(L.shift(images[test], dy=4)), identity[test])
    args = (images[gallery], identity[gallery], images[test], identity[test])
    assert check.shifted_down_accuracy(right, *args, n_components=4, x_fit=images[fit]).passed
    on_gallery = Eigenfaces(4).fit(images[gallery])
    default = identification_accuracy(on_gallery.transform(images[gallery]), identity[gallery],
                                      on_gallery.transform(L.shift(images[test], dy=4)), identity[test])
    assert check.shifted_down_accuracy(default, *args, n_components=4).passed  # default: fitted on the gallery
    assert right != default and not check.shifted_down_accuracy(right, *args, n_components=4).passed
