"""KL warm-up and free bits: each changes only the KL term, as its formula says."""

import keras
import numpy as np
import pytest

from vaeface_utils.remedies import FreeBitsVAE, KLWarmUp, WarmUpVAE

SMALL = dict(image_shape=(8, 8, 1), latent_dim=3, likelihood="gaussian", filters=(4,), seed=0)


def _x(n=16):
    return np.random.default_rng(0).uniform(size=(n, 8, 8, 1)).astype("float32")


def _kl_per_dim(z_mean, z_log_var):
    return -0.5 * (1 + z_log_var - z_mean ** 2 - np.exp(z_log_var))


def test_free_bits_kl_is_the_floored_sum():
    model = FreeBitsVAE(free_bits=0.3, **SMALL)
    rng = np.random.default_rng(1)
    z_mean, z_log_var = rng.normal(size=(5, 3)).astype("float32"), rng.normal(scale=0.5, size=(5, 3)).astype("float32")
    expected = np.maximum(_kl_per_dim(z_mean, z_log_var), 0.3).sum(axis=1)
    assert np.allclose(keras.ops.convert_to_numpy(model._kl(z_mean, z_log_var)), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="free_bits"):
        FreeBitsVAE(free_bits=0, **SMALL)


def test_free_bits_round_trips_through_a_keras_file(tmp_path):
    model = FreeBitsVAE(free_bits=0.3, **SMALL)
    model.compile()
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(loaded, FreeBitsVAE) and loaded.free_bits == 0.3


def test_warm_up_weight_rises_and_scales_the_kl():
    model = WarmUpVAE(**SMALL)
    model.compile()
    weights = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            weights.append(float(model.kl_weight.numpy()))

    history = model.fit(_x(), epochs=5, batch_size=8, verbose=0, callbacks=[KLWarmUp(2), Record()]).history
    assert weights == [0.0, 0.5, 1.0, 1.0, 1.0]
    assert history["kl"][0] == 0.0 and history["kl"][-1] > 0
    with pytest.raises(ValueError, match="`epochs` must be an int"):
        KLWarmUp(0)


def test_warm_up_needs_its_callback_and_free_bits_a_positive_number():
    model = WarmUpVAE(**SMALL)
    model.compile()
    with pytest.raises(ValueError, match="KLWarmUp"):
        model.fit(_x(), epochs=1, verbose=0)
    for bad in (float("inf"), True, "1"):
        with pytest.raises(ValueError, match="free_bits"):
            FreeBitsVAE(free_bits=bad, **SMALL)
    with pytest.raises(ValueError, match="`epochs` must be an int"):
        KLWarmUp(True)
    assert KLWarmUp(np.int64(3)).epochs == 3
