"""Tests of vaeface_utils.model: the loss against an independent NumPy ELBO,
gradients, training, saving, seeding and every input check the docstrings promise.

Small images (16 x 16 or 32 x 32), tiny latent sizes and random data keep each
test to a few seconds on a CPU.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from vaeface_utils import elbo
from vaeface_utils.model import (
    VAE,
    NaNLossError,
    Sampling,
    StopOnNaN,
    build_decoder,
    build_encoder,
    check_images,
    total_stride,
)

SHAPE = (16, 16, 1)


@pytest.fixture
def blobs():
    """48 images of one bright blob at a random place: structure a VAE can learn quickly."""
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[:16, :16]
    centres = rng.uniform(3, 13, size=(48, 2))
    d2 = (rows - centres[:, :1, None]) ** 2 + (cols - centres[:, 1:, None]) ** 2
    return np.exp(-d2 / 8.0)[..., None].astype(np.float32)


@pytest.fixture
def x():
    """32 random 'images' of 16 x 16 in [0, 1], float32."""
    return np.random.default_rng(0).random((32,) + SHAPE, dtype=np.float32)


def make_vae(seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    kwargs.setdefault("image_shape", SHAPE)
    kwargs.setdefault("latent_dim", 3)
    kwargs.setdefault("filters", (8, 16))
    vae = VAE(seed=seed, **kwargs)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    return vae


def make_noise_matter(vae):
    """Large posterior variances and a sensitive decoder, so that the loss depends clearly on the noise."""
    bias = vae.encoder.get_layer("z_log_var").bias
    bias.assign(np.ones(bias.shape, np.float32))
    kernel = vae.decoder.get_layer("dense").kernel
    kernel.assign(20 * kernel.numpy())
    return vae


def numpy_negative_elbo(vae, x, jit_compile=False, skip=0):
    """The loss of one batch, recomputed with vaeface_utils.elbo on the noise the model will draw next.

    XLA draws different numbers from the same seed, so with ``jit_compile`` the noise is drawn under XLA too.
    ``skip`` > 0 uses a later draw instead: other noise, for comparison.
    """
    generator = vae.sampling.seed_generator
    state = generator.state.numpy().copy()
    z_mean, z_log_var = (np.asarray(a, np.float64) for a in vae.encoder(x))
    draw = tf.function(lambda: keras.random.normal(z_mean.shape, seed=generator), jit_compile=jit_compile)
    for _ in range(skip):
        draw()
    epsilon = np.asarray(draw(), np.float64)
    generator.state.assign(state)  # the model draws the same noise again
    z = z_mean + np.exp(z_log_var / 2) * epsilon
    output = np.asarray(vae.decoder(z.astype(np.float32)), np.float64)
    if vae.likelihood == "bernoulli":
        log_px = elbo.bernoulli_log_likelihood(x, output)
    else:
        log_var = float(vae.x_log_var.numpy()) if vae.x_log_var is not None else vae.gaussian_log_var
        log_px = elbo.gaussian_log_likelihood(x, 1 / (1 + np.exp(-output)), log_var)
    kl = elbo.kl_diag_gaussian_standard(z_mean, z_log_var)
    return -np.mean(elbo.elbo(log_px, kl)), -np.mean(log_px), np.mean(kl)


# --------------------------------------------------------------------------
# The loss is the negative ELBO


@pytest.mark.parametrize("likelihood, extra", [("bernoulli", {}), ("gaussian", {}),
                                               ("gaussian", {"gaussian_log_var": -3.0})])
def test_loss_equals_negative_elbo_from_numpy(x, likelihood, extra):
    vae = make_noise_matter(make_vae(likelihood=likelihood, **extra))
    want_loss, want_rec, want_kl = numpy_negative_elbo(vae, x)
    other_noise, _, _ = numpy_negative_elbo(vae, x, skip=1)
    assert abs(other_noise - want_loss) > 20 * 1e-5 * want_loss  # so the check below can tell the noise apart
    got = vae.evaluate(x, batch_size=len(x), verbose=0, return_dict=True)  # graph mode
    assert got["loss"] == pytest.approx(want_loss, rel=1e-5)
    assert got["reconstruction_loss"] == pytest.approx(want_rec, rel=1e-5)
    assert got["kl"] == pytest.approx(want_kl, rel=1e-4, abs=1e-6)
    assert want_loss > 0  # nats per image, summed over 256 pixels


def test_loss_under_xla_equals_negative_elbo_from_numpy(x):
    vae = make_noise_matter(make_vae())
    vae.compile(optimizer="adam", jit_compile=True)  # what "auto" picks on a GPU
    want_loss, _, _ = numpy_negative_elbo(vae, x, jit_compile=True)
    got = vae.evaluate(x, batch_size=len(x), verbose=0, return_dict=True)
    assert got["loss"] == pytest.approx(want_loss, rel=1e-5)


def test_training_loss_is_the_negative_elbo_before_the_step(x):
    vae = make_noise_matter(make_vae())
    want_loss, _, _ = numpy_negative_elbo(vae, x)
    history = vae.fit(x, batch_size=len(x), epochs=1, shuffle=False, verbose=0)  # loss before the step
    assert history.history["loss"][0] == pytest.approx(want_loss, rel=1e-5)


def test_loss_is_in_nats_summed_over_pixels(x):
    """A decoder that outputs logit 0 everywhere gives log p(x|z) = -H*W*log 2 per image."""
    vae = make_vae()
    last = vae.decoder.get_layer("logits")
    last.kernel.assign(np.zeros(last.kernel.shape, np.float32))
    last.bias.assign(np.zeros(last.bias.shape, np.float32))
    got = vae.evaluate(x, batch_size=len(x), verbose=0, return_dict=True)
    assert got["reconstruction_loss"] == pytest.approx(16 * 16 * np.log(2), rel=1e-6)


def test_closed_form_kl_matches_monte_carlo(x):
    vae = make_vae()
    z_mean, z_log_var = (a.astype(np.float64) for a in vae.posterior(x[:4]))
    z_mean, z_log_var = z_mean + 0.5, z_log_var - 0.3  # away from the prior, so the KL is not ~0
    closed = elbo.kl_diag_gaussian_standard(z_mean, z_log_var)
    assert np.allclose(closed, vae._kl(z_mean, z_log_var).numpy(), rtol=1e-6)  # the graph's formula
    rng = np.random.default_rng(1)
    n_mc = 200_000
    z = z_mean + np.exp(z_log_var / 2) * rng.standard_normal((n_mc,) + z_mean.shape)
    log_ratio = elbo.log_normal_diag(z, z_mean, z_log_var) - elbo.log_normal_diag(z, 0.0, 0.0)
    mc, stderr = log_ratio.mean(0), log_ratio.std(0) / np.sqrt(n_mc)
    assert np.all(np.abs(mc - closed) < 4 * stderr + 1e-9)


def test_kl_metric_is_closed_form_of_posterior(x):
    vae = make_vae()
    got = vae.evaluate(x, batch_size=8, verbose=0, return_dict=True)
    z_mean, z_log_var = vae.posterior(x)
    assert got["kl"] == pytest.approx(np.mean(elbo.kl_diag_gaussian_standard(z_mean, z_log_var)), rel=1e-4)


def test_log_importance_weights_match_numpy(x):
    vae = make_vae()
    k, seed = 5, 3
    log_w = vae.log_importance_weights(x[:6], k, seed=seed)
    assert log_w.shape == (k, 6) and log_w.dtype == np.float64
    z_mean, z_log_var = (a.astype(np.float64) for a in vae.posterior(x[:6]))
    eps = np.random.default_rng(seed).standard_normal((k,) + z_mean.shape)
    z = z_mean + np.exp(z_log_var / 2) * eps
    want = np.empty((k, 6))
    for i in range(k):
        logits = np.asarray(vae.decoder(z[i].astype(np.float32)), np.float64)
        want[i] = (elbo.bernoulli_log_likelihood(x[:6], logits) + elbo.log_normal_diag(z[i], 0.0, 0.0)
                   - elbo.log_normal_diag(z[i], z_mean, z_log_var))
    assert np.allclose(log_w, want, rtol=1e-5)
    # Batching (a smaller max_decodes: 2 images at a time) changes nothing but the order the noise is
    # drawn in: one (K, 2, L) block per batch, from the same generator.
    rng = np.random.default_rng(seed)
    eps = np.concatenate([rng.standard_normal((k, 2, z_mean.shape[1])) for _ in range(3)], axis=1)
    z = z_mean + np.exp(z_log_var / 2) * eps
    for i in range(k):
        logits = np.asarray(vae.decoder(z[i].astype(np.float32)), np.float64)
        want[i] = (elbo.bernoulli_log_likelihood(x[:6], logits) + elbo.log_normal_diag(z[i], 0.0, 0.0)
                   - elbo.log_normal_diag(z[i], z_mean, z_log_var))
    batched = vae.log_importance_weights(x[:6], k, seed=seed, max_decodes=k * 2)
    assert np.allclose(batched, want, rtol=1e-5) and not np.allclose(batched, log_w, rtol=1e-5)
    # The IWAE bound of K = 50 weights: finite, and at least their mean (Jensen), which is the ELBO's estimate.
    log_w50 = vae.log_importance_weights(x[:6], 50, seed=0)
    bound = elbo.iwae_bound(log_w50)
    assert np.isfinite(bound).all() and np.all(bound >= log_w50.mean(axis=0))


def test_elbo_terms_match_numpy(x):
    vae = make_vae()
    terms = vae.elbo_terms(x[:6], seed=2)
    z_mean, z_log_var = (a.astype(np.float64) for a in vae.posterior(x[:6]))
    z = z_mean + np.exp(z_log_var / 2) * np.random.default_rng(2).standard_normal(z_mean.shape)
    logits = np.asarray(vae.decoder(z.astype(np.float32)), np.float64)
    assert np.allclose(terms["log_px_given_z"], elbo.bernoulli_log_likelihood(x[:6], logits), rtol=1e-5)
    assert np.allclose(terms["kl"], elbo.kl_diag_gaussian_standard(z_mean, z_log_var), rtol=1e-6)
    assert np.allclose(terms["elbo"], terms["log_px_given_z"] - terms["kl"])


def test_beta_zero_gives_an_autoencoder_loss(x):
    vae = make_vae(beta=0.0)
    got = vae.evaluate(x, verbose=0, return_dict=True)
    assert got["kl"] > 0
    assert got["loss"] == pytest.approx(got["reconstruction_loss"], rel=1e-7)


def test_beta_weights_the_kl(x):
    vae = make_vae(beta=4.0)
    got = vae.evaluate(x, batch_size=len(x), verbose=0, return_dict=True)
    assert got["loss"] == pytest.approx(got["reconstruction_loss"] + 4.0 * got["kl"], rel=1e-6)


# --------------------------------------------------------------------------
# Training


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_gradients_reach_every_encoder_and_decoder_weight(x, likelihood):
    vae = make_vae(likelihood=likelihood)
    vae.compile(optimizer=keras.optimizers.SGD(1e-3))
    before = [w.numpy().copy() for w in vae.trainable_weights]
    names = [w.path for w in vae.trainable_weights]
    ids = {id(w) for w in vae.trainable_weights}
    assert all(id(w) in ids for w in vae.encoder.trainable_weights + vae.decoder.trainable_weights)
    vae.fit(x, batch_size=len(x), epochs=1, verbose=0)
    unchanged = [n for n, b, w in zip(names, before, vae.trainable_weights) if np.array_equal(b, w.numpy())]
    assert unchanged == []
    expected = len(vae.encoder.trainable_weights) + len(vae.decoder.trainable_weights)
    assert len(vae.trainable_weights) == expected + (likelihood == "gaussian")  # + the learned log-variance


def test_a_few_epochs_lower_the_loss(blobs):
    vae = make_vae()
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = vae.evaluate(blobs, verbose=0)[0]
    history = vae.fit(blobs, batch_size=8, epochs=5, verbose=0).history
    after = vae.evaluate(blobs, verbose=0)[0]
    assert history["loss"][-1] < history["loss"][0]
    assert after < before - 10.0  # nats per image


def test_validation_data_evaluate_and_predict_work(x):
    vae = make_vae()
    history = vae.fit(x[:24], x[:24], validation_data=(x[24:], x[24:]), epochs=2, batch_size=8, verbose=0)
    assert set(history.history) == {"loss", "reconstruction_loss", "kl",
                                    "val_loss", "val_reconstruction_loss", "val_kl"}
    history = vae.fit(x[:24], validation_data=x[24:], epochs=1, batch_size=8, verbose=0)  # bare array
    assert "val_loss" in history.history
    result = vae.evaluate(x[24:], verbose=0, return_dict=True)
    assert set(result) == {"loss", "reconstruction_loss", "kl"} and np.isfinite(result["loss"])
    assert isinstance(vae.evaluate(x[24:], x[24:], verbose=0), list)
    reconstructions = vae.predict(x, verbose=0)
    assert reconstructions.shape == x.shape and reconstructions.min() >= 0 and reconstructions.max() <= 1


def test_fit_x_and_fit_x_x_train_the_same(x):
    a = make_vae(seed=3).fit(x, epochs=2, batch_size=8, shuffle=False, verbose=0).history["loss"]
    b = make_vae(seed=3).fit(x, x, epochs=2, batch_size=8, shuffle=False, verbose=0).history["loss"]
    # Equal up to float rounding: without TensorFlow's op determinism, the order of a
    # multi-threaded sum may differ between two runs.
    assert a == pytest.approx(b, rel=1e-6)


def test_same_seed_same_loss(x):
    a = make_vae(seed=5).fit(x, epochs=2, batch_size=8, verbose=0).history
    b = make_vae(seed=5).fit(x, epochs=2, batch_size=8, verbose=0).history
    c = make_vae(seed=6).fit(x, epochs=2, batch_size=8, verbose=0).history
    assert set(a) == set(b) and all(a[key] == pytest.approx(b[key], rel=1e-6) for key in a)
    assert a["loss"] != c["loss"]


def test_inference_is_deterministic_and_training_samples(x):
    vae = make_vae()
    assert np.array_equal(vae.predict(x, verbose=0), vae.predict(x, verbose=0))
    assert np.allclose(vae.predict(x, verbose=0), vae.reconstruct(x), atol=1e-6)
    assert not np.allclose(vae(x, training=True), vae(x, training=True))


def test_sampling_layer_is_seeded_and_serialisable():
    z_mean, z_log_var = np.zeros((4, 3), np.float32), np.zeros((4, 3), np.float32)
    a, b = Sampling(seed=1), Sampling(seed=1)
    assert np.array_equal(a([z_mean, z_log_var]), b([z_mean, z_log_var]))
    assert not np.array_equal(a([z_mean, z_log_var]), a([z_mean, z_log_var]))  # the state advances
    clone = Sampling.from_config(a.get_config())
    assert clone.seed == 1


def test_nan_loss_stops_training_with_a_clear_message(x):
    vae = make_vae()
    kernel = vae.decoder.get_layer("logits").kernel
    kernel.assign(np.full(kernel.shape, np.nan, np.float32))
    with pytest.raises(NaNLossError, match=r"loss became nan at epoch 1, by step \d+.*learning rate"):
        vae.fit(x, epochs=3, batch_size=8, verbose=0)
    assert issubclass(NaNLossError, FloatingPointError)


def test_nan_callback_can_stop_quietly(x):
    vae = make_vae()
    kernel = vae.decoder.get_layer("logits").kernel
    kernel.assign(np.full(kernel.shape, np.nan, np.float32))
    guard = StopOnNaN(raise_error=False)
    with pytest.warns(RuntimeWarning, match="loss became nan"):
        history = vae.fit(x, epochs=3, batch_size=8, verbose=0, callbacks=[guard])
    assert "loss became nan" in guard.message
    assert len(history.history["loss"]) == 1  # stopped in the first epoch


# --------------------------------------------------------------------------
# Saving and loading


def test_save_load_round_trip_restores_outputs_and_optimizer(x, tmp_path):
    vae = make_vae(likelihood="gaussian")
    vae.fit(x, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "vae.keras"
    vae.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, VAE) and loaded.get_config() == vae.get_config()
    assert np.array_equal(loaded.encode(x), vae.encode(x))
    assert np.array_equal(loaded.posterior(x)[1], vae.posterior(x)[1])
    assert np.array_equal(loaded.reconstruct(x), vae.reconstruct(x))
    assert np.array_equal(loaded.generate(5, seed=0), vae.generate(5, seed=0))
    assert np.array_equal(loaded.x_log_var.numpy(), vae.x_log_var.numpy())
    saved_opt = {v.path: v.numpy() for v in vae.optimizer.variables}
    loaded_opt = {v.path: v.numpy() for v in loaded.optimizer.variables}
    assert saved_opt.keys() == loaded_opt.keys() and len(saved_opt) > 2
    assert all(np.array_equal(saved_opt[k], loaded_opt[k]) for k in saved_opt)
    assert int(loaded.optimizer.iterations.numpy()) == 8
    assert loaded.optimizer._all_reduce_sum_gradients._single_replica_skips  # loading compiles as VAE.compile does
    # the same next step: optimizer moments and sampling noise were restored
    a = vae.fit(x, epochs=1, batch_size=8, shuffle=False, verbose=0).history["loss"]
    b = loaded.fit(x, epochs=1, batch_size=8, shuffle=False, verbose=0).history["loss"]
    assert a == pytest.approx(b, rel=1e-6)


# --------------------------------------------------------------------------
# Float32 throughout


def test_the_model_computes_and_returns_float32_even_under_a_mixed_global_policy(x):
    try:
        keras.config.set_dtype_policy("mixed_bfloat16")
        vae = make_vae(likelihood="gaussian")
    finally:
        keras.config.set_dtype_policy("float32")
    assert vae.encoder.get_layer("conv1").compute_dtype == "float32"
    assert vae.decoder.get_layer("logits").compute_dtype == "float32"
    assert {w.dtype for w in vae.weights} == {"float32"}
    for out in (vae.encode(x), vae.posterior(x)[1], vae.reconstruct(x), vae.generate(2, seed=0),
                vae.predict(x, verbose=0)):
        assert out.dtype == np.float32


def test_pixel_log_var_is_the_clipped_value_the_loss_uses():
    vae = VAE(image_shape=SHAPE, latent_dim=2, filters=(4, 8), likelihood="gaussian")
    vae.x_log_var.assign(-20.0)
    assert float(vae.pixel_log_var()) == -9.0
    vae.x_log_var.assign(-1.5)
    assert float(vae.pixel_log_var()) == -1.5
    per_pixel = VAE(image_shape=SHAPE, latent_dim=2, filters=(4, 8), likelihood="gaussian",
                    gaussian_log_var="learned-per-pixel")
    assert per_pixel.pixel_log_var().shape == SHAPE
    assert VAE(image_shape=SHAPE, latent_dim=2, filters=(4, 8), likelihood="gaussian",
               gaussian_log_var=-3.0).pixel_log_var() == -3.0
    assert VAE(image_shape=SHAPE, latent_dim=2, filters=(4, 8)).pixel_log_var() is None


# --------------------------------------------------------------------------
# Clear errors at the entry points


@pytest.mark.parametrize("bad, error, match", [
    (np.random.default_rng(0).random((4, 16, 16)).astype("float32"), ValueError, r"channel axis.*\[\.\.\., None\]"),
    (np.random.default_rng(0).random((4, 32, 32, 1)).astype("float32"), ValueError, r"built for images of shape \(16, 16, 1\)"),
    (np.random.default_rng(0).random((16, 16, 1)).astype("float32"), ValueError, r"4 axes"),
    (np.full((4, 16, 16, 1), 255.0, "float32"), ValueError, r"values from 255 to 255.*\[0, 1\].*255"),
    (np.full((4, 16, 16, 1), -0.5, "float32"), ValueError, r"\[0, 1\]"),
    (np.full((4, 16, 16, 1), np.nan, "float32"), ValueError, r"NaN"),
    (np.zeros((4, 16, 16, 1), "uint8"), TypeError, r"dtype uint8.*astype\('float32'\) / 255"),
    (np.zeros((4, 16, 16, 1), "int64"), TypeError, r"dtype int64"),
    (np.zeros((0, 16, 16, 1), "float32"), ValueError, r"no images"),
])
@pytest.mark.parametrize("entry", ["fit", "evaluate", "predict", "encode", "validation_data", "log_weights"])
def test_wrong_input_gets_a_clear_error(bad, error, match, entry):
    vae = make_vae()
    good = np.zeros((4,) + SHAPE, np.float32)
    call = {
        "fit": lambda: vae.fit(bad, epochs=1, verbose=0),
        "evaluate": lambda: vae.evaluate(bad, verbose=0),
        "predict": lambda: vae.predict(bad, verbose=0),
        "encode": lambda: vae.encode(bad),
        "validation_data": lambda: vae.fit(good, validation_data=(bad, bad), epochs=1, verbose=0),
        "log_weights": lambda: vae.log_importance_weights(bad, 2),
    }[entry]
    with pytest.raises(error, match=match):
        call()


def test_gaussian_accepts_values_outside_unit_interval():
    vae = make_vae(likelihood="gaussian")
    check_images(np.full((2,) + SHAPE, 2.0, np.float32), image_shape=SHAPE, likelihood="gaussian")
    assert np.isfinite(vae.evaluate(np.full((2,) + SHAPE, 1.5, np.float32), verbose=0))[0]


@pytest.mark.parametrize("size", [(60, 60), (64, 50), (12, 12)])
def test_bad_image_size_gets_a_clear_error(size):
    with pytest.raises(ValueError, match=rf"{size[0]}x{size[1]}.*total stride of 8.*multiples of 8.*load_faces\(size="):
        VAE(image_shape=size + (1,))
    with pytest.raises(ValueError, match=r"total stride of 8"):
        build_encoder(size + (1,))


def test_other_sizes_divisible_by_the_stride_work():
    assert total_stride((32, 64, 128)) == 8
    for shape in [(64, 64, 1), (32, 48, 1), (112, 96, 1)]:
        encoder, decoder = build_encoder(shape, 4), build_decoder(shape, 4)
        assert encoder.output_shape == [(None, 4), (None, 4)]
        assert decoder.output_shape == (None,) + shape
    assert VAE(image_shape=(24, 24), latent_dim=2, filters=(4, 8)).image_shape == (24, 24, 1)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"likelihood": "poisson"}, ValueError, "likelihood"),
    ({"beta": -1}, ValueError, "beta"),
    ({"latent_dim": 0}, ValueError, "latent_dim"),
    ({"image_shape": (16, 16, 3)}, ValueError, r"\(height, width, 1\)"),
    ({"gaussian_log_var": "fixed"}, TypeError, "gaussian_log_var"),
    ({"dtype": "float64"}, ValueError, r"computes in float32; got dtype='float64'"),
    ({"dtype": "mixed_bfloat16"}, ValueError, "Leave `dtype` out"),
])
def test_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        VAE(**{"image_shape": SHAPE, **kwargs})


def test_compile_rejects_a_loss():
    with pytest.raises(ValueError, match="takes no `loss`"):
        VAE(image_shape=SHAPE, latent_dim=2).compile(optimizer="adam", loss="mse")


def test_generate_decode_and_numpy_helpers(x):
    vae = make_vae()
    images = vae.generate(7, seed=1)
    assert images.shape == (7,) + SHAPE and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1
    assert np.array_equal(images, vae.generate(7, seed=1))
    assert not np.array_equal(images, vae.generate(7, seed=2))
    assert vae.encode(x, batch_size=5).shape == (32, 3)
    assert np.allclose(vae.encode(x, batch_size=5), vae.encode(x), atol=1e-6)
    with pytest.raises(ValueError, match=r"`z` must have shape \(n, 3\)"):
        vae.decode(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="n_importance"):
        vae.log_importance_weights(x, 0)
    with pytest.raises(ValueError, match="`n`"):
        vae.generate(0)


# --------------------------------------------------------------------------
# The self-checks of notebook 02 (vaeface_utils.checks.model)


def test_check_encoder_parameters_agrees_with_keras():
    from vaeface_utils.checks import model as check

    for shape, latent_dim, filters in [((64, 64, 1), 32, (32, 64, 128)), ((16, 16, 1), 3, (8, 16))]:
        right = build_encoder(shape, latent_dim, filters).count_params()
        assert check.expected_encoder_parameters(shape, latent_dim, filters) == right
    right = build_encoder().count_params()
    assert check.encoder_parameters(right).passed
    assert check.encoder_parameters(None).status == "not done"
    no_bias = right - (32 + 64 + 128) - 2 * 32
    assert "bias" in repr(check.encoder_parameters(no_bias))
    assert "two dense heads" in repr(check.encoder_parameters(right - (8 * 8 * 128 * 32 + 32)))
    assert "weight tensors" in repr(check.encoder_parameters(10))
    assert str(right) not in repr(check.encoder_parameters(right + 1))


def test_check_mse_factor_matches_gaussian_log_likelihood():
    from vaeface_utils.checks import model as check

    rng = np.random.default_rng(0)
    x, x_hat = rng.random((3, 64, 64, 1)), rng.random((3, 64, 64, 1))
    sigma = 0.1
    mse = ((x - x_hat) ** 2).mean(axis=(1, 2, 3))
    nll = -elbo.gaussian_log_likelihood(x, x_hat, np.log(sigma ** 2))
    factor = 4096 / (2 * sigma ** 2)
    assert np.allclose(nll, factor * mse + 2048 * np.log(2 * np.pi * sigma ** 2))
    assert check.mse_factor(factor).passed
    assert check.mse_factor(None).status == "not done"
    assert "mean to a sum" in repr(check.mse_factor(4096))
    assert "one pixel" in repr(check.mse_factor(50.0))
    assert "204800" not in repr(check.mse_factor(3.0))


def test_check_uniform_decoder_nats():
    from vaeface_utils.checks import model as check

    assert check.uniform_decoder_nats(4096 * np.log(2)).passed
    assert check.uniform_decoder_nats(None).status == "not done"
    assert "bits" in repr(check.uniform_decoder_nats(4096))
    assert "summed" in repr(check.uniform_decoder_nats(np.log(2)))
    assert "positive" in repr(check.uniform_decoder_nats(-4096 * np.log(2)))
    assert "log-likelihood" not in repr(check.uniform_decoder_nats(-4096 * np.log(2)))  # grey faces: not one


def test_compile_builds_the_optimizer_so_training_leaves_no_graphs_behind(x, live_objects):
    """Slots built inside the first compiled step leave tf.cond graphs alive after the model is gone;
    compile builds them eagerly, so training one model after another does not grow memory."""
    vae = make_vae()
    assert vae.optimizer.built and len(vae.optimizer.variables) > len(vae.trainable_variables)
    counts = []
    for seed in range(3):
        vae = make_vae(seed)
        vae.fit(x, epochs=1, batch_size=16, verbose=0)
        del vae
        counts.append(live_objects("AtomicFunction"))
    assert counts[2] <= counts[1], f"compiled functions after each training: {counts}"


def test_training_one_model_after_another_leaves_no_traced_step_behind(x, live_objects):
    """Keras's one-replica gradient all-reduce registers a custom gradient that keeps each traced training
    step alive for ever; VAE.compile and FaceCNN.compile skip it, so the traced steps go with their models."""
    from vaeface_utils.cnn import FaceCNN

    def train_vae(seed):
        make_vae(seed).fit(x, epochs=1, batch_size=16, verbose=0)

    def train_cnn(seed):
        cnn = FaceCNN(n_people=4, image_shape=SHAPE, filters=(8,), embedding_dim=8, seed=seed)
        cnn.compile(optimizer=keras.optimizers.Adam(1e-3))
        cnn.fit(x, np.arange(len(x)) % 4, epochs=1, batch_size=16, verbose=0)

    for train in (train_vae, train_cnn):
        counts = []
        for seed in range(4):
            train(seed)
            counts.append(live_objects("FuncGraph"))
        assert counts[3] <= counts[1], f"{train.__name__}: traced graphs alive after each model: {counts}"


def test_skipping_the_one_replica_all_reduce_changes_no_weight(x):
    """The sum over one replica is the identity: Keras's own update path gives the same weights, bit for bit."""
    trained = []
    for skip in (True, False):
        vae = make_vae(3)
        if not skip:
            del vae.optimizer._all_reduce_sum_gradients  # back to Keras's method
        keras.utils.set_random_seed(3)
        vae.fit(x, epochs=2, batch_size=8, verbose=0, shuffle=False)
        trained.append(vae.get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(*trained))


def test_a_loss_scale_optimizer_skips_the_all_reduce_in_the_optimizer_it_wraps():
    """Mixed precision wraps the optimizer; the update is the inner one's, so that is the one to change."""
    from vaeface_utils._optimizer import sum_gradients_only_across_replicas

    wrapped = sum_gradients_only_across_replicas(keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam()))
    assert wrapped.inner_optimizer._all_reduce_sum_gradients._single_replica_skips
    assert wrapped._all_reduce_sum_gradients._single_replica_skips
    before = wrapped.inner_optimizer._all_reduce_sum_gradients
    sum_gradients_only_across_replicas(wrapped)  # a second call wraps nothing twice
    assert wrapped.inner_optimizer._all_reduce_sum_gradients is before


def test_seed_none_draws_fresh_noise_that_seed_everything_does_not_fix(x):
    """As the docstrings say: only an explicit seed repeats generate/elbo_terms/log_importance_weights."""
    from vaeface_utils import config

    vae = make_vae()
    config.seed_everything(0)
    first = vae.generate(2), vae.elbo_terms(x[:4])["elbo"], vae.log_importance_weights(x[:4], 3)
    config.seed_everything(0)
    second = vae.generate(2), vae.elbo_terms(x[:4])["elbo"], vae.log_importance_weights(x[:4], 3)
    assert all(not np.allclose(a, b) for a, b in zip(first, second))
    assert np.array_equal(vae.generate(2, seed=5), vae.generate(2, seed=5))


def _sampling_class(scale="std", seeded=True, generator_in_call=False, samples_first=True):
    """A Sampling layer with n_samples codes per face, right or with one of the mistakes the check names."""

    class Layer(keras.layers.Layer):
        def __init__(self, n_samples=1, seed=None, **kwargs):
            super().__init__(**kwargs)
            self.n_samples, self.seed = n_samples, seed
            self.seed_generator = keras.random.SeedGenerator(seed if seeded else None)

        def call(self, inputs):
            z_mean, z_log_var = inputs
            generator = keras.random.SeedGenerator(self.seed) if generator_in_call else self.seed_generator
            shape = (self.n_samples,) + tuple(keras.ops.shape(z_mean))
            epsilon = keras.random.normal(shape, seed=generator)
            sigma = {"std": keras.ops.exp(0.5 * z_log_var), "var": keras.ops.exp(z_log_var), "one": 1.0}[scale]
            z = z_mean + sigma * epsilon
            return z if samples_first else keras.ops.transpose(z, (1, 0, 2))

    return Layer


def test_check_sampling_layer_runs_the_layer_and_names_the_mistake():
    from vaeface_utils.checks import model as check

    assert check.sampling_layer(None).status == "not done"
    assert check.sampling_layer(_sampling_class()).passed
    assert "variance" in repr(check.sampling_layer(_sampling_class(scale="var")))
    assert "spread is wrong" in repr(check.sampling_layer(_sampling_class(scale="one")))
    assert "same seed drew different codes" in repr(check.sampling_layer(_sampling_class(seeded=False)))
    assert "keep its state" in repr(check.sampling_layer(_sampling_class(generator_in_call=True)))
    assert "samples first" in repr(check.sampling_layer(_sampling_class(samples_first=False)))
    assert "subclasses keras.layers.Layer" in repr(check.sampling_layer(lambda inputs: inputs[0]))
