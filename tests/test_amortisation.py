"""vaeface_utils.amortisation, and the model options it is used with (per-pixel variance, flips)."""

import numpy as np
import pytest

from vaeface_utils import amortisation, config, training, training_settings
from vaeface_utils.model import VAE

SHAPE = (16, 16, 1)


@pytest.fixture(scope="module")
def trained():
    """A small Gaussian VAE with one variance per pixel, trained briefly on blobs."""
    keras = config.import_keras()
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[:16, :16]
    centres = rng.uniform(4, 12, size=(64, 2))
    x = np.exp(-((rows - centres[:, :1, None]) ** 2 + (cols - centres[:, 1:, None]) ** 2) / 6.0)[..., None]
    x = np.clip(x + rng.normal(0, 0.02, x.shape), 0, 1).astype(np.float32)
    keras.utils.set_random_seed(0)
    vae = VAE(SHAPE, 4, likelihood="gaussian", gaussian_log_var="learned-per-pixel", filters=(8, 16), seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    vae.fit(x, epochs=30, batch_size=16, verbose=0)
    return vae, x


def test_per_pixel_variance_is_one_learned_value_per_pixel(trained, tmp_path):
    vae, x = trained
    assert tuple(vae.x_log_var.shape) == SHAPE
    log_var = np.clip(vae.x_log_var.numpy(), -9, 2)
    assert log_var.std() > 0  # the pixels learned different variances
    mean = vae.decode(vae.encode(x[:2]))
    by_hand = -0.5 * (np.log(2 * np.pi) + log_var + (x[:2] - mean) ** 2 / np.exp(log_var)).sum(axis=(1, 2, 3))
    eps_free = vae._log_px_given_z_numpy(x[:2], vae._decoder_output(vae.encode(x[:2])))
    assert np.allclose(eps_free, by_hand, rtol=1e-4)
    path = tmp_path / "vae.keras"
    vae.save(path)
    again = config.import_keras().saving.load_model(path)
    assert np.array_equal(again.x_log_var.numpy(), vae.x_log_var.numpy())


def test_posterior_log_weights_with_the_encoders_posterior_are_the_models(trained):
    vae, x = trained
    z_mean, z_log_var = vae.posterior(x[:5])
    ours = amortisation.posterior_log_weights(vae, x[:5], z_mean, z_log_var, 7, seed=3)
    assert np.allclose(ours, vae.log_importance_weights(x[:5], 7, seed=3), rtol=1e-6)


def test_refining_the_posterior_raises_each_elbo(trained):
    vae, x = trained
    refined = amortisation.refine_posterior(vae, x[:8], steps=40, seed=0, eval_samples=20)
    assert refined.z_mean.shape == (8, 4) and refined.gap.mean() > 0
    # reported on fresh noise (seed + 2), not the noise that chose between the two posteriors (seed + 1)
    again = amortisation.posterior_elbo(vae, x[:8], refined.z_mean, refined.z_log_var, n_samples=20, seed=2)
    assert np.allclose(again, refined.refined_elbo)
    none = amortisation.refine_posterior(vae, x[:3], steps=0, eval_samples=5)
    assert np.array_equal(none.gap, np.zeros(3))


@pytest.mark.parametrize("call, error, match", [
    (lambda vae, x: amortisation.refine_posterior("vae", x), TypeError, "must be a vaeface_utils.model.VAE"),
    (lambda vae, x: amortisation.refine_posterior(vae, x, steps=-1), ValueError, "steps"),
    (lambda vae, x: amortisation.posterior_elbo(vae, x[:2], np.zeros((2, 3)), np.zeros((2, 3))), ValueError, "shape"),
])
def test_bad_input(trained, call, error, match):
    vae, x = trained
    with pytest.raises(error, match=match):
        call(vae, x)


def test_flips_mirror_about_half_of_the_images_each_epoch():
    import tensorflow as tf

    images = np.tile(np.arange(8, dtype=np.float32)[None, None, :, None], (64, 8, 1, 1))  # each row 0..7
    dataset = training.make_dataset(images, 64, shuffle=False, flip=True, seed=0)
    epochs = [next(iter(dataset)).numpy() for _ in range(2)]
    for batch in epochs:
        mirrored = batch[:, 0, 0, 0] == 7
        assert np.all(batch[mirrored] == images[:1, :, ::-1]) and np.all(batch[~mirrored] == images[:1])
        assert 16 < mirrored.sum() < 48
    assert not np.array_equal(epochs[0], epochs[1])  # drawn afresh each epoch
    assert isinstance(dataset, tf.data.Dataset)
    with pytest.raises(ValueError, match="pipeline='tf.data'"):
        training_settings.TrainingSettings(flip=True, pipeline="arrays")
    with pytest.raises(TypeError, match="True or False"):
        training_settings.TrainingSettings(flip="yes")


# --------------------------------------------------------------------------
# iwae_estimate


def test_iwae_estimate_averages_the_bound_over_disjoint_groups():
    from scipy.special import logsumexp

    from vaeface_utils import elbo

    log_w = np.random.default_rng(0).normal(-100.0, 3.0, size=(64, 5))
    assert np.allclose(amortisation.iwae_estimate(log_w, 64), elbo.iwae_bound(log_w))  # one group
    assert np.allclose(amortisation.iwae_estimate(log_w, 1), log_w.mean(axis=0))  # K = 1: the ELBO estimate
    by_loop = np.mean([[logsumexp(log_w[g * 8:(g + 1) * 8, i]) - np.log(8) for i in range(5)] for g in range(8)],
                      axis=0)
    assert np.allclose(amortisation.iwae_estimate(log_w, 8), by_loop)
    assert np.allclose(amortisation.iwae_estimate(log_w, 30), amortisation.iwae_estimate(log_w[:60], 30))  # rest unused


def test_iwae_estimate_rises_with_k_in_expectation():
    # Monte Carlo: log-weights of a fixed distribution; E[L_K] is non-decreasing in K (Burda et al. 2016).
    log_w = np.random.default_rng(1).normal(0.0, 1.0, size=(4096, 200))
    means = [amortisation.iwae_estimate(log_w, k).mean() for k in (1, 4, 16, 64)]
    assert all(b > a for a, b in zip(means, means[1:]))
    assert means[-1] < 0.5 + 0.05  # below log E[w] = sigma^2 / 2, with Monte Carlo slack


@pytest.mark.parametrize("log_w, k, match", [
    (np.zeros(4), 1, r"\(K_max, n\)"),
    (np.zeros((4, 2)), 0, "from 1 to K_max = 4"),
    (np.zeros((4, 2)), 5, "from 1 to K_max = 4"),
    (np.zeros((4, 2)), 2.0, "must be an int"),
    (np.full((4, 2), np.inf), 2, "finite"),
])
def test_iwae_estimate_bad_input(log_w, k, match):
    with pytest.raises(ValueError, match=match):
        amortisation.iwae_estimate(log_w, k)


def test_codes_are_scored_a_batch_at_a_time_with_the_values_of_all_at_once(trained):
    """Scoring S x n decoded codes in small batches (bounded memory) changes no value (beyond float32 rounding:
    the decoder's kernels may round differently for another batch size)."""
    vae, x = trained
    z = vae.posterior(x[:5])[0] + np.random.default_rng(0).normal(size=(3, 5, 4))  # (S, n, L)
    all_at_once = vae._log_px_given_z_numpy(x[:5], vae._decoder_output(z.reshape(-1, 4)).reshape((3,) + x[:5].shape))
    in_batches = vae._log_px_of_codes(x[:5], z, batch_size=4)  # batches cut across samples and images
    assert in_batches.shape == (3, 5) and np.allclose(in_batches, all_at_once, rtol=1e-6)


def test_refining_posteriors_again_and_again_leaves_no_traced_step_behind(trained, live_objects):
    vae, x = trained
    counts = []
    for seed in range(4):
        amortisation.refine_posterior(vae, x[:4], steps=2, seed=seed, eval_samples=3)
        counts.append(live_objects("FuncGraph"))
    assert counts[3] <= counts[1], f"traced graphs alive after each call: {counts}"
