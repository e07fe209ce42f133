"""The self-checks of the exercises that build something: each runs the student's code and names the mistake."""

import keras
import numpy as np
import pytest
from keras import ops

from vaeface_utils.checks import elbo as check_elbo
from vaeface_utils.checks import limitations as check_lim
from vaeface_utils.checks import start as check_start
from vaeface_utils.checks import training as check_training

IDENTITY = np.repeat(np.arange(40), 10)


def _split(identity, n_train, seed):
    rng = np.random.default_rng(seed)
    train = np.concatenate([rng.choice(np.flatnonzero(identity == person), n_train, replace=False)
                            for person in np.unique(identity)])
    return train, np.setdiff1d(np.arange(len(identity)), train)


@pytest.mark.parametrize("function, message", [
    (_split, None),
    (lambda identity, n, seed: (np.arange(40 * n), np.arange(40 * n, 400)), "within each person"),
    (lambda identity, n, seed: _split(identity, n, 0), "Seeds 0 and 1 gave the same split"),
    (lambda identity, n, seed: _split(identity, n, np.random.default_rng().integers(1 << 30)), "same seed gave two"),
    (lambda identity, n, seed: (_split(identity, n, seed)[0], np.arange(400)), "in both parts"),
    (lambda identity, n, seed: tuple(np.isin(np.arange(400), p) for p in _split(identity, n, seed)), "integer"),
    (lambda identity, n, seed: 1 / 0, "ZeroDivisionError"),
])
def test_split_function(function, message):
    result = check_start.split_function(function, IDENTITY)
    assert result.passed if message is None else message in repr(result), repr(result)
    assert check_start.split_function(None, IDENTITY).status == "not done"


def test_kl_minimum_derived_on_paper():
    assert check_elbo.kl_minimum((1.0, 0.125)).passed
    assert check_elbo.kl_minimum(None).status == "not done"
    assert "factor of 2" in repr(check_elbo.kl_minimum((1.0, 0.25)))
    assert "differentiate" in repr(check_elbo.kl_minimum((0.25, 0.0)))
    assert "two numbers" in repr(check_elbo.kl_minimum(0.125))


def test_kl_hint_guides_without_the_formula():
    mean = np.zeros((1, 2))
    text = repr(check_elbo.kl_to_gaussian_prior(np.array([9.0]), mean + 1, mean, mean[0], mean[0]))
    assert "Not yet right" in text and "/ var_p - 1" not in text


def _free_bits(z_mean, z_log_var, free_bits):
    return ops.sum(ops.maximum(-0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var)), free_bits), axis=-1)


@pytest.mark.parametrize("function, message", [
    (_free_bits, None),
    (lambda m, v, b: ops.sum(-0.5 * (1 + v - ops.square(m) - ops.exp(v)), axis=-1), "plain KL"),
    (lambda m, v, b: ops.maximum(ops.sum(-0.5 * (1 + v - ops.square(m) - ops.exp(v)), axis=-1), b), "before the sum"),
    (lambda m, v, b: ops.sum(ops.minimum(-0.5 * (1 + v - ops.square(m) - ops.exp(v)), b), axis=-1), "not a ceiling"),
    (lambda m, v, b: -0.5 * (1 + v - ops.square(m) - ops.exp(v)), "one number per image"),
])
def test_free_bits_kl(function, message):
    result = check_lim.free_bits_kl(function)
    assert result.passed if message is None else message in repr(result), repr(result)


def test_free_bits_active_units_and_shift_direction():
    z = np.random.default_rng(0).normal(size=(50, 4)) * np.array([1.0, 1.0, 0.01, 0.0])
    assert check_lim.free_bits_active_units(2, z).passed
    assert not check_lim.free_bits_active_units(4, z).passed
    rng = np.random.default_rng(0)
    gallery, queries = rng.uniform(size=(20, 8, 8, 1)), rng.uniform(size=(20, 8, 8, 1))
    people = np.arange(20) % 10
    args = (gallery, people, queries, people)
    assert check_lim.shift_direction("worse", 1.01, *args, n_components=5).passed  # any accuracy is below 1.01
    assert check_lim.shift_direction("better", -0.01, *args, n_components=5).passed
    assert not check_lim.shift_direction("better", 1.01, *args, n_components=5).passed
    assert "Answer" in repr(check_lim.shift_direction("down", 0.5, *args, n_components=5))


def test_active_units_same():
    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(40, 3)), rng.normal(size=(40, 3)) * np.array([1.0, 1.0, 0.0])
    assert check_training.active_units_same(False, train, test).passed
    assert not check_training.active_units_same(True, train, test).passed
    assert check_training.active_units_same(None, train, test).status == "not done"


def test_fixed_variance_decoder_runs_the_changed_model():
    from vaeface_utils.model import VAE

    keras.utils.set_random_seed(0)
    vae = VAE(image_shape=(8, 8, 1), latent_dim=2, likelihood="gaussian", gaussian_log_var="learned-per-pixel",
              filters=(4,), seed=0)
    x = np.random.default_rng(0).uniform(size=(5, 8, 8, 1)).astype("float32")
    fixed = VAE(image_shape=(8, 8, 1), latent_dim=2, likelihood="gaussian", gaussian_log_var=np.log(0.5),
                filters=(4,))
    fixed.encoder.set_weights(vae.encoder.get_weights())
    fixed.decoder.set_weights(vae.decoder.get_weights())
    loss = -float(np.mean(fixed.elbo_terms(x, seed=0)["log_px_given_z"]))
    learned = -float(np.mean(vae.elbo_terms(x, seed=0)["log_px_given_z"]))
    truth = "higher" if loss > learned else "lower"
    other = "lower" if truth == "higher" else "higher"
    assert check_training.fixed_variance_decoder({"prediction": truth, "loss": loss}, vae, x, np.log(0.5)).passed
    assert "contradicts" in repr(check_training.fixed_variance_decoder({"prediction": other, "loss": loss}, vae, x,
                                                                      np.log(0.5)))
    assert "as trained" in repr(check_training.fixed_variance_decoder({"prediction": truth, "loss": learned}, vae, x,
                                                                     np.log(0.5)))
    assert check_training.fixed_variance_decoder(None, vae, x, 0.0).status == "not done"
