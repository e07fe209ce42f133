"""vaeface_utils.latent_diagnostics: activity, active units and KL per dimension against direct computations."""

import numpy as np
import pytest
from scipy import stats

from vaeface_utils import elbo
from vaeface_utils import latent_diagnostics as D
from vaeface_utils.latent_diagnostics import sampled_z


# --------------------------------------------------------------------------
# The latent code


def test_activity_and_active_units():
    rng = np.random.default_rng(4)
    z_mean = rng.standard_normal((500, 4)) * np.array([1.0, 0.3, 0.05, 0.0])  # variances 1, 0.09, 0.0025, 0
    assert np.allclose(D.latent_activity(z_mean), np.var(z_mean, axis=0))
    assert D.active_units(z_mean) == 2
    assert D.active_units(z_mean, threshold=0.001) == 3
    assert D.active_units(z_mean, threshold=2.0) == 0


def test_kl_per_dimension_sums_to_the_kl_and_matches_monte_carlo():
    rng = np.random.default_rng(5)
    z_mean, z_log_var = rng.normal(0, 1, (50, 3)), rng.normal(-1, 0.5, (50, 3))
    per_dim = D.kl_per_dimension(z_mean, z_log_var)
    assert per_dim.shape == (3,) and np.all(per_dim >= 0)
    assert np.isclose(per_dim.sum(), elbo.kl_diag_gaussian_standard(z_mean, z_log_var).mean())
    # Monte Carlo for one dimension of one image: E_q[log q(z) - log p(z)], 400,000 draws, tolerance 5 standard errors.
    m, s = z_mean[0, 0], np.exp(0.5 * z_log_var[0, 0])
    z = rng.normal(m, s, 400_000)
    terms = stats.norm.logpdf(z, m, s) - stats.norm.logpdf(z)
    exact = D.kl_per_dimension(z_mean[:1, :1], z_log_var[:1, :1])[0]
    assert abs(terms.mean() - exact) < 5 * terms.std() / np.sqrt(len(z))


@pytest.mark.parametrize("z, match", [(np.zeros(3), r"\(n, latent_dim\)"), (np.zeros((0, 2)), r"\(n, latent_dim\)"),
                                      (np.full((2, 2), np.nan), "NaN")])
def test_latent_bad_input(z, match):
    with pytest.raises(ValueError, match=match):
        D.latent_activity(z)


def test_latent_errors():
    with pytest.raises(ValueError, match="at least 2 images"):
        D.active_units(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="`threshold`"):
        D.active_units(np.zeros((4, 3)), threshold=-1)
    with pytest.raises(ValueError, match="same shape"):
        D.kl_per_dimension(np.zeros((4, 3)), np.zeros((4, 2)))


def test_the_active_threshold_is_defined_once():
    from vaeface_utils import latent_features
    from vaeface_utils.checks import limitations as check_limitations
    from vaeface_utils.checks import training as check_training

    assert D.ACTIVE_THRESHOLD == 0.01
    assert check_training.ACTIVE_THRESHOLD is D.ACTIVE_THRESHOLD
    assert check_limitations.free_bits_active_units.__defaults__ == (D.ACTIVE_THRESHOLD,)
    assert latent_features.sampled_z is sampled_z


# --------------------------------------------------------------------------
# sampled_z


def test_sampled_z_is_the_reparameterisation_with_numpy_noise():
    z_mean = np.array([[0.5, -1.0], [2.0, 0.0]])
    z_log_var = np.array([[0.0, np.log(4.0)], [-2.0, 1.0]])
    eps = np.random.default_rng(3).standard_normal(z_mean.shape)
    assert np.allclose(sampled_z(z_mean, z_log_var, seed=3), z_mean + np.exp(z_log_var / 2) * eps)


def test_sampled_z_has_the_posterior_moments():
    # Monte Carlo with 200,000 draws: the standard error of the mean is sigma / 447, under 0.005 here.
    n = 200_000
    z_mean = np.tile([[1.0, -2.0]], (n, 1))
    z_log_var = np.tile([[0.0, np.log(0.25)]], (n, 1))
    z = sampled_z(z_mean, z_log_var, seed=0)
    assert np.allclose(z.mean(axis=0), [1.0, -2.0], atol=0.02)
    assert np.allclose(z.std(axis=0), [1.0, 0.5], atol=0.01)


def test_sampled_z_accepts_a_generator_and_rejects_bad_shapes():
    rng = np.random.default_rng(0)
    a, b = sampled_z([[0.0]], [[0.0]], seed=rng), sampled_z([[0.0]], [[0.0]], seed=rng)
    assert a.shape == (1, 1) and a[0, 0] != b[0, 0]  # the generator advances
    with pytest.raises(ValueError, match="z_log_var"):
        sampled_z(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="2-D"):
        sampled_z(np.zeros(3), np.zeros(3))
