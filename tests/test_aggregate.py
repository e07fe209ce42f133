"""The aggregate posterior: its exact mixture density, and the KL term split into information and mismatch."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from vaeface_utils.aggregate import aggregate_posterior_kl, mixture_log_density


def test_mixture_density_matches_scipy():
    rng = np.random.default_rng(0)
    means, log_vars = rng.normal(size=(3, 2)), rng.normal(scale=0.3, size=(3, 2))
    z = rng.normal(size=(5, 2))
    expected = np.log(np.mean([multivariate_normal(m, np.diag(np.exp(v))).pdf(z) for m, v in zip(means, log_vars)],
                              axis=0))
    assert np.allclose(mixture_log_density(z, means, log_vars, batch_size=2), expected)


def test_one_posterior_gives_no_information_and_its_own_kl():
    mean, log_var = np.array([[1.0, -0.5]]), np.array([[-1.0, 0.5]])
    r = aggregate_posterior_kl(mean, log_var, n_samples=200000)
    assert r.mutual_information == pytest.approx(0.0, abs=1e-9)
    assert r.kl_aggregate_prior == pytest.approx(r.mean_kl, abs=4 * r.standard_error)


def test_narrow_separated_posteriors_carry_log_n_nats_and_the_identity_holds():
    n = 8
    means = 6.0 * np.eye(n)[:, :4] * np.arange(1, n + 1)[:, None] / n + np.arange(n)[:, None] * 2.0
    log_vars = np.full((n, 4), np.log(1e-4))
    r = aggregate_posterior_kl(means, log_vars, n_samples=20000)
    assert r.mutual_information == pytest.approx(np.log(n), abs=1e-3)
    assert r.mean_kl == pytest.approx(r.mutual_information + r.kl_aggregate_prior, abs=4 * r.sum_standard_error + 1e-3)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="shape \\(n, latent_dim\\)"):
        aggregate_posterior_kl(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="batch_size"):
        mixture_log_density(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2)), batch_size=-1)
    with pytest.raises(ValueError, match="n_samples"):
        aggregate_posterior_kl(np.zeros((2, 2)), np.zeros((2, 2)), n_samples=1)
