"""vaeface_utils.elbo against independent computations: SciPy, quadrature, Monte Carlo."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from vaeface_utils import elbo as E
from vaeface_utils import ppca as P
from vaeface_utils import units as U


@pytest.fixture
def small_ppca(rng):
    """A linear-Gaussian model with D = 6, latent_dim = 2 and a non-orthogonal W."""
    d, q = 6, 2
    return P.PPCAParams(rng.normal(size=d), rng.normal(size=(d, q)), 0.3)


# --------------------------------------------------------------------------- KL and Gaussians


def test_kl_standard_matches_general_and_monte_carlo(rng):
    n, q = 3, 4
    z_mean = rng.normal(size=(n, q))
    z_log_var = rng.normal(scale=0.5, size=(n, q))
    kl = E.kl_diag_gaussian_standard(z_mean, z_log_var)
    assert kl.shape == (n,)
    np.testing.assert_allclose(kl, E.kl_diag_gaussians(z_mean, z_log_var, np.zeros(q), np.zeros(q)), rtol=1e-12)
    # Monte Carlo: E_q[log q(z) - log p(z)] with 200k samples; 5 standard errors.
    s = 200_000
    z = z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal((s, n, q))
    diff = stats.norm.logpdf(z, z_mean, np.exp(0.5 * z_log_var)).sum(-1) - stats.norm.logpdf(z).sum(-1)
    se = diff.std(axis=0) / math.sqrt(s)
    assert np.all(np.abs(diff.mean(axis=0) - kl) < 5 * se)


def test_kl_general_monte_carlo_and_properties(rng):
    q = 3
    mq, lq = rng.normal(size=(2, q)), rng.normal(scale=0.4, size=(2, q))
    mp, lp = rng.normal(size=q), rng.normal(scale=0.4, size=q)  # one prior shared by both examples
    kl = E.kl_diag_gaussians(mq, lq, mp, lp)
    s = 200_000
    z = mq + np.exp(0.5 * lq) * rng.standard_normal((s, 2, q))
    diff = (stats.norm.logpdf(z, mq, np.exp(0.5 * lq)) - stats.norm.logpdf(z, mp, np.exp(0.5 * lp))).sum(-1)
    assert np.all(np.abs(diff.mean(0) - kl) < 5 * diff.std(0) / math.sqrt(s))
    assert np.all(kl > 0)
    np.testing.assert_allclose(E.kl_diag_gaussians(mq, lq, mq, lq), 0.0, atol=1e-12)
    assert not np.allclose(kl, E.kl_diag_gaussians(np.broadcast_to(mp, mq.shape), np.broadcast_to(lp, lq.shape), mq, lq))


def test_kl_large_log_variances_stay_finite():
    kl = E.kl_diag_gaussians([[0.0]], [[700.0]], [0.0], [705.0])
    assert np.isfinite(kl).all()
    np.testing.assert_allclose(kl, 0.5 * (5.0 + math.exp(-5.0) - 1.0))


def test_log_normal_diag_matches_scipy(rng):
    z = rng.normal(size=(5, 7, 3))  # (n_importance, n, latent_dim)
    mean, log_var = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    cov = [np.diag(np.exp(lv)) for lv in log_var]
    want = np.stack([[stats.multivariate_normal(mean[i], cov[i]).logpdf(z[k, i]) for i in range(7)] for k in range(5)])
    np.testing.assert_allclose(E.log_normal_diag(z, mean, log_var), want, rtol=1e-12)
    np.testing.assert_allclose(E.log_normal_diag(z, 0.0, 0.0), stats.norm.logpdf(z).sum(-1), rtol=1e-12)


# --------------------------------------------------------------------------- decoder likelihoods


def test_bernoulli_matches_scipy_and_is_stable(rng):
    x = (rng.random((4, 5, 5, 1)) < 0.4).astype(float)
    logits = rng.normal(scale=3.0, size=x.shape)
    p = 1.0 / (1.0 + np.exp(-logits))
    want = stats.bernoulli.logpmf(x, p).reshape(4, -1).sum(1)
    got = E.bernoulli_log_likelihood(x, logits)
    assert got.shape == (4,)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    huge = E.bernoulli_log_likelihood(np.array([[1.0, 0.0, 1.0]]), np.array([[800.0, -800.0, -800.0]]))
    np.testing.assert_allclose(huge, [-800.0])


def test_bernoulli_is_minus_summed_bce_for_grey_values(rng):
    x = rng.random((3, 10))
    logits = rng.normal(size=(3, 10))
    p = 1.0 / (1.0 + np.exp(-logits))
    bce_mean = -(x * np.log(p) + (1 - x) * np.log(1 - p)).mean(axis=1)
    np.testing.assert_allclose(E.bernoulli_log_likelihood(x, logits), -10 * bce_mean, rtol=1e-10)


def test_gaussian_matches_scipy_and_mse_identity(rng):
    x, mean = rng.random((3, 4, 4, 1)), rng.random((3, 4, 4, 1))
    log_var = math.log(0.05)
    want = stats.norm.logpdf(x, mean, math.sqrt(0.05)).reshape(3, -1).sum(1)
    got = E.gaussian_log_likelihood(x, mean, log_var)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    d = 16
    mse = ((x - mean) ** 2).reshape(3, -1).mean(1)
    np.testing.assert_allclose(-got, mse * d / (2 * 0.05) + 0.5 * d * math.log(2 * math.pi * 0.05), rtol=1e-12)
    per_example = np.log(np.array([0.1, 0.2, 0.3])).reshape(3, 1, 1, 1)
    want = stats.norm.logpdf(x, mean, np.sqrt(np.exp(per_example))).reshape(3, -1).sum(1)
    np.testing.assert_allclose(E.gaussian_log_likelihood(x, mean, per_example), want, rtol=1e-12)


# --------------------------------------------------------------------------- ELBO and IWAE


def test_elbo_two_readings_agree_with_closed_form_kl(rng, small_ppca):
    """E_q[log p(x|z)] - KL(q || p(z)) and E_q[log p(x,z) - log q] agree, and match ppca_elbo."""
    x, _ = P.ppca_sample(small_ppca, 2, rng=rng)
    z_mean, z_log_var = rng.normal(size=(2, 2)), rng.normal(scale=0.3, size=(2, 2))
    s = 200_000
    z = z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal((s, 2, 2))
    log_pz = E.log_normal_diag(z, 0.0, 0.0)
    log_qz = E.log_normal_diag(z, z_mean, z_log_var)
    log_px_given_z = P.ppca_log_joint(x, z, small_ppca) - log_pz
    reading_2 = E.elbo_from_samples(log_px_given_z, log_pz, log_qz, sample_axis=0)
    reading_1 = E.elbo(log_px_given_z.mean(0), E.kl_diag_gaussian_standard(z_mean, z_log_var))
    exact = P.ppca_elbo(x, small_ppca, z_mean, z_log_var)
    se = (log_px_given_z + log_pz - log_qz).std(0) / math.sqrt(s)
    assert np.all(np.abs(reading_2 - exact) < 5 * se)
    assert np.all(np.abs(reading_1 - exact) < 5 * se)


def test_elbo_from_samples_without_axis_is_the_log_weight():
    np.testing.assert_allclose(E.elbo_from_samples([-3.0, -4.0], [-1.0, -1.0], [-0.5, 0.5]), [-3.5, -5.5])


def test_iwae_reference_and_stability(rng):
    log_w = rng.normal(size=(7, 3)) - 1000.0
    got = E.iwae_bound(log_w)
    want = np.log(np.mean(np.exp(log_w + 1000.0), axis=0)) - 1000.0
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(E.iwae_bound(log_w[:1]), log_w[0])  # L_1 is the ELBO estimate
    assert np.all(E.iwae_bound(log_w) >= log_w.mean(0))  # Jensen, holds draw by draw


def test_iwae_monotone_in_expectation_and_below_log_px(rng, small_ppca):
    """E[L_1] <= E[L_5] <= E[L_50] <= log p(x) with a poor q (the prior), 4000 replicates each."""
    x, _ = P.ppca_sample(small_ppca, 1, rng=rng)
    log_px = P.ppca_log_likelihood(x, small_ppca)[0]
    elbo_prior = P.ppca_elbo(x, small_ppca, np.zeros((1, 2)), np.zeros((1, 2)))[0]
    reps = 4000
    means = {}
    for k in (1, 5, 50):
        z = rng.standard_normal((k, reps, 2))  # q = prior, so log q = log p(z)
        log_w = P.ppca_log_joint(np.repeat(x, reps, 0), z, small_ppca) - E.log_normal_diag(z, 0.0, 0.0)
        est = E.iwae_bound(log_w)
        means[k] = (est.mean(), est.std() / math.sqrt(reps))
    assert abs(means[1][0] - elbo_prior) < 5 * means[1][1]
    assert means[1][0] < means[5][0] < means[50][0] < log_px + 5 * means[50][1]


def test_iwae_with_exact_posterior_is_exact(rng, small_ppca):
    x, _ = P.ppca_sample(small_ppca, 3, rng=rng)
    z_mean, z_cov = P.ppca_posterior(x, small_ppca)
    chol = np.linalg.cholesky(z_cov)
    z = z_mean + rng.standard_normal((4, 3, 2)) @ chol.T
    log_q = stats.multivariate_normal(np.zeros(2), z_cov).logpdf(z - z_mean)
    log_w = P.ppca_log_joint(x, z, small_ppca) - log_q
    np.testing.assert_allclose(E.iwae_bound(log_w), P.ppca_log_likelihood(x, small_ppca), rtol=1e-10)


# --------------------------------------------------------------------------- units


def test_bits_per_dim_round_trip_and_value():
    d = 64 * 64
    nats = np.array([1000.0, 2839.2])
    bpd = U.nats_to_bits_per_dim(nats, d)
    np.testing.assert_allclose(bpd, nats / d / math.log(2))
    np.testing.assert_allclose(U.bits_per_dim_to_nats(bpd, d), nats)
    assert U.discretization_correction_nats(d) == pytest.approx(d * 8 * math.log(2))
    assert U.nats_to_bits_per_dim(U.discretization_correction_nats(d), d) == pytest.approx(8.0)
    assert U.discretization_correction_nats(3, n_levels=2) == pytest.approx(3 * math.log(2))


def test_discretization_correction_against_binned_gaussian():
    """log P(bin) from the CDF vs log density at the bin centre minus log 256, for a smooth density."""
    levels = np.arange(256)
    y = (levels + 0.5) / 256
    dist = stats.norm(0.5, 0.2)
    log_p_bins = np.log(dist.cdf((levels + 1) / 256) - dist.cdf(levels / 256))
    approx = dist.logpdf(y) - U.discretization_correction_nats(1)
    np.testing.assert_allclose(log_p_bins, approx, atol=1e-4)


# --------------------------------------------------------------------------- PPCA


def test_ppca_log_likelihood_matches_scipy(rng, small_ppca):
    x, _ = P.ppca_sample(small_ppca, 5, rng=rng)
    cov = small_ppca.W @ small_ppca.W.T + small_ppca.sigma2 * np.eye(6)
    want = stats.multivariate_normal(small_ppca.mean, cov).logpdf(x)
    np.testing.assert_allclose(P.ppca_log_likelihood(x, small_ppca), want, rtol=1e-12)


def test_ppca_log_likelihood_by_quadrature():
    """A 1-D latent: log p(x) = log of the integral of p(x|z) p(z) over z, by adaptive quadrature."""
    params = P.PPCAParams(np.array([0.5, -1.0, 2.0]), np.array([[1.5], [-0.7], [0.3]]), 0.4)
    x = np.array([[1.2, -2.0, 2.5]])
    exact = P.ppca_log_likelihood(x, params)[0]

    def joint(z):
        return np.exp(P.ppca_log_joint(x, np.array([[z]]), params)[0] - exact)  # scaled to be near 1

    value, _ = integrate.quad(joint, -12, 12, epsabs=1e-13, epsrel=1e-12)
    assert math.log(value) == pytest.approx(0.0, abs=1e-9)


def test_identity_log_px_equals_elbo_plus_kl_to_posterior(rng):
    """log p(x) = ELBO(q) + KL(q || p(z|x)) to 1e-10, for the exact posterior and for worse q."""
    x_train, _ = P.ppca_sample(P.PPCAParams(np.zeros(8), rng.normal(size=(8, 3)), 0.2), 500, rng=rng)
    params = P.ppca_fit(x_train, 3)
    x = x_train[:4]
    log_px = P.ppca_log_likelihood(x, params)
    post_mean, post_cov = P.ppca_posterior(x, params)
    assert np.allclose(post_cov, np.diag(np.diag(post_cov)), atol=1e-12)  # orthogonal W: diagonal
    post_log_var = np.log(np.diag(post_cov))
    np.testing.assert_allclose(P.ppca_elbo(x, params, post_mean, post_log_var), log_px, rtol=0, atol=1e-10)
    for shift, scale in ((0.3, 0.0), (0.0, 0.7), (-1.0, -1.0)):
        q_mean, q_log_var = post_mean + shift, post_log_var + scale
        value = P.ppca_elbo(x, params, q_mean, q_log_var)
        kl = E.kl_diag_gaussians(q_mean, q_log_var, post_mean, post_log_var)
        np.testing.assert_allclose(value + kl, log_px, rtol=0, atol=1e-10)
        assert np.all(value < log_px)


def test_ppca_fit_is_the_ml_solution(rng):
    true = P.PPCAParams(rng.normal(size=5), rng.normal(size=(5, 2)), 0.1)
    x, _ = P.ppca_sample(true, 400, rng=rng)
    fit = P.ppca_fit(x, 2)
    cov = np.cov(x, rowvar=False, bias=True)
    eig = np.sort(np.linalg.eigvalsh(cov))[::-1]
    assert fit.sigma2 == pytest.approx(eig[2:].mean(), rel=1e-10)
    np.testing.assert_allclose(fit.mean, x.mean(0))
    model_cov = fit.W @ fit.W.T + fit.sigma2 * np.eye(5)
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(model_cov))[::-1][:2], eig[:2], rtol=1e-10)
    # The ML fit beats the true parameters and small perturbations of itself on the training data.
    best = P.ppca_log_likelihood(x, fit).sum()
    assert best >= P.ppca_log_likelihood(x, true).sum()
    for bump in (P.PPCAParams(fit.mean, fit.W * 1.05, fit.sigma2), P.PPCAParams(fit.mean, fit.W, fit.sigma2 * 1.1)):
        assert best > P.ppca_log_likelihood(x, bump).sum()


def test_ppca_scales_to_images(rng):
    """D = 4096 pixels, n = 200 images: fit, likelihood and posterior without a D x D matrix."""
    x = rng.random((200, 4096))
    params = P.ppca_fit(x, 16)
    log_px = P.ppca_log_likelihood(x, params)
    z_mean, z_cov = P.ppca_posterior(x, params)
    assert log_px.shape == (200,) and np.isfinite(log_px).all()
    assert z_mean.shape == (200, 16) and z_cov.shape == (16, 16)
    np.testing.assert_allclose(P.ppca_elbo(x[:5], params, z_mean[:5], np.log(np.diag(z_cov))), log_px[:5],
                               rtol=1e-10)


def test_ppca_posterior_matches_bayes_rule_by_brute_force(small_ppca):
    x = np.array([[0.3, -0.2, 1.0, 0.5, -1.5, 0.7]])
    z_mean, z_cov = P.ppca_posterior(x, small_ppca)
    # p(z|x) = p(x, z) / p(x): compare log densities at a few points.
    z = np.array([[[0.0, 0.0]], [[1.0, -0.5]], [[-0.3, 2.0]]])
    lhs = P.ppca_log_joint(x, z, small_ppca) - P.ppca_log_likelihood(x, small_ppca)
    rhs = stats.multivariate_normal(z_mean[0], z_cov).logpdf(z[:, 0])
    np.testing.assert_allclose(lhs[:, 0], rhs, rtol=1e-10)


def test_ppca_sample_moments(small_ppca):
    x, z = P.ppca_sample(small_ppca, 50_000, rng=0)
    cov = small_ppca.W @ small_ppca.W.T + small_ppca.sigma2 * np.eye(6)
    np.testing.assert_allclose(np.cov(x, rowvar=False), cov, atol=0.1)
    np.testing.assert_allclose(x.mean(0), small_ppca.mean, atol=0.05)
    x2, _ = P.ppca_sample(small_ppca, 3, rng=5)
    x3, _ = P.ppca_sample(small_ppca, 3, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(x2, x3)


# --------------------------------------------------------------------------- errors


def _raises(error, match, func, *args, **kwargs):
    with pytest.raises(error, match=match) as info:
        func(*args, **kwargs)
    return str(info.value)


def test_error_messages_name_argument_and_fix():
    message = _raises(ValueError, r"`log_weights` must hold n_importance >= 1", E.iwae_bound, np.zeros((0, 3)))
    assert "got shape (0, 3)" in message and "K = 1" in message
    _raises(ValueError, r"`log_weights` must have 2 dimension", E.iwae_bound, np.zeros(3))
    _raises(ValueError, r"`log_weights` must have 2 dimension", E.iwae_bound, np.zeros((2, 3, 1)))
    _raises(ValueError, r"`log_weights` must be finite", E.iwae_bound, np.array([[np.nan]]))
    _raises(ValueError, r"`z_mean` and `z_log_var` must have the same shape", E.kl_diag_gaussian_standard,
            np.zeros((2, 3)), np.zeros((2, 2)))
    _raises(ValueError, r"`z_log_var` must be finite.*got 1 NaN", E.kl_diag_gaussian_standard,
            np.zeros((1, 2)), np.array([[0.0, np.inf]]))
    _raises(ValueError, r"`z_mean` must have at least 1 dimension", E.kl_diag_gaussian_standard, 0.0, 0.0)
    _raises(ValueError, r"must broadcast", E.kl_diag_gaussians, np.zeros((2, 3)), np.zeros((2, 3)),
            np.zeros(2), np.zeros(2))
    _raises(ValueError, r"must broadcast", E.log_normal_diag, np.zeros((2, 3)), np.zeros(2), 0.0)
    _raises(ValueError, r"`x` must lie in \[0, 1\].*x / 255", E.bernoulli_log_likelihood,
            np.full((1, 2), 255.0), np.zeros((1, 2)))
    _raises(ValueError, r"`x` and `logits` must have the same shape", E.bernoulli_log_likelihood,
            np.zeros((1, 2)), np.zeros((1, 3)))
    _raises(ValueError, r"`log_var` must broadcast to the shape of `x`", E.gaussian_log_likelihood,
            np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((1, 2, 3)))
    _raises(ValueError, r"must broadcast", E.gaussian_log_likelihood, np.zeros((2, 3)), np.zeros((2, 3)),
            np.zeros(2))
    _raises(ValueError, r"`log_px_given_z` and `kl` must have the same shape", E.elbo, np.zeros(3), np.zeros(2))
    _raises(ValueError, r"`kl` must be finite", E.elbo, np.zeros(1), [np.nan])
    _raises(ValueError, r"`sample_axis` must be None or an axis", E.elbo_from_samples, np.zeros((2, 3)),
            np.zeros((2, 3)), np.zeros((2, 3)), sample_axis=2)
    _raises(ValueError, r"`log_px_given_z` and `log_qz`", E.elbo_from_samples, np.zeros(3), np.zeros(3), np.zeros(2))
    for bad in (0, -3, 2.5, True):
        _raises(ValueError, r"`n_dims` must be an int >= 1; got", U.nats_to_bits_per_dim, 1.0, bad)
    _raises(ValueError, r"`n_dims` must be an int >= 1", U.bits_per_dim_to_nats, 1.0, 0)
    _raises(ValueError, r"`n_levels` must be an int >= 2", U.discretization_correction_nats, 4, n_levels=1)
    _raises(TypeError, r"`x` must be a number or an array of numbers", E.bernoulli_log_likelihood, "abc", [1.0])


def test_ppca_errors(small_ppca):
    x = np.zeros((3, 6))
    for bad in (0, 6, 3.0):
        _raises(ValueError, r"`latent_dim` must be an int with 1 <= latent_dim < min\(n, D\)", P.ppca_fit,
                np.random.default_rng(0).normal(size=(10, 6)), bad)
    _raises(ValueError, r"`x` must have 2 dimension", P.ppca_fit, np.zeros(6), 1)
    _raises(ValueError, r"no variance outside its top 1 directions", P.ppca_fit,
            np.outer(np.arange(10.0), np.ones(4)), 1)
    _raises(ValueError, r"`x` must have D = 6 columns", P.ppca_log_likelihood, np.zeros((3, 5)), small_ppca)
    _raises(ValueError, r"`x` must have 2 dimension", P.ppca_posterior, np.zeros(6), small_ppca)
    _raises(ValueError, r"`params.sigma2` must be > 0", P.ppca_log_likelihood, x,
            P.PPCAParams(small_ppca.mean, small_ppca.W, 0.0))
    _raises(ValueError, r"`params.W` must have one row per dimension", P.ppca_log_likelihood, x,
            P.PPCAParams(small_ppca.mean, small_ppca.W[:4], 1.0))
    _raises(TypeError, r"`params` must be PPCAParams", P.ppca_log_likelihood, x, {"W": small_ppca.W})
    _raises(ValueError, r"`z` must end in \(n, latent_dim\)", P.ppca_log_joint, x, np.zeros((3, 3)), small_ppca)
    _raises(ValueError, r"`z_mean` must have shape \(n, latent_dim\)", P.ppca_elbo, x, small_ppca,
            np.zeros((2, 2)), np.zeros(2))
    _raises(ValueError, r"`z_log_var` must have shape", P.ppca_elbo, x, small_ppca, np.zeros((3, 2)),
            np.zeros((3, 3)))
    _raises(ValueError, r"`n` must be an int >= 1", P.ppca_sample, small_ppca, 0)


def test_ppca_fit_with_a_given_noise_variance(rng):
    x = rng.normal(size=(80, 6)) @ rng.normal(size=(6, 6))
    ml = P.ppca_fit(x, 2)
    same = P.ppca_fit(x, 2, sigma2=ml.sigma2)
    assert np.allclose(same.W @ same.W.T, ml.W @ ml.W.T) and same.sigma2 == ml.sigma2
    bigger = P.ppca_fit(x, 2, sigma2=10 * ml.sigma2)
    assert bigger.sigma2 == 10 * ml.sigma2
    # W W^T + sigma2 I keeps the sample covariance's top-2 variances where they exceed sigma2
    cov = np.cov(x, rowvar=False, bias=True)
    top = np.sort(np.linalg.eigvalsh(cov))[::-1][:2]
    model = np.sort(np.linalg.eigvalsh(bigger.W @ bigger.W.T + bigger.sigma2 * np.eye(6)))[::-1][:2]
    assert np.allclose(model, np.maximum(top, bigger.sigma2))
    with pytest.raises(ValueError, match="noise variance > 0"):
        P.ppca_fit(x, 2, sigma2=0.0)


def test_ppca_select_scores_every_pair_on_held_out_data(rng):
    x = 3 * rng.normal(size=(300, 2)) @ rng.normal(size=(2, 8)) + 0.3 * rng.normal(size=(300, 8))
    chosen = P.ppca_select(x[:150], x[150:], [1, 2, 3], [0.01, 0.09, 1.0])
    assert len(chosen.scores) == 3 * 4 and chosen.latent_dim == 2
    best = max(chosen.scores, key=chosen.scores.get)
    assert np.isclose(chosen.scores[best], P.ppca_log_likelihood(x[150:], chosen.params).mean())
    assert set(chosen.ml_sigma2) == {1, 2, 3}
    with pytest.raises(ValueError, match="latent_dims"):
        P.ppca_select(x[:150], x[150:], [0, 2])
