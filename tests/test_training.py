"""Tests of training the course VAE: settings, callbacks, the training loop, and the model cache.

Tiny 16 x 16 images of a few synthetic "people", a two-layer network and one
or two epochs keep each test to seconds on a CPU.
"""

import dataclasses
import json

from pathlib import Path

import numpy as np
import pytest

from vaeface_utils import callbacks, config, model_cache, training_settings
from vaeface_utils.data import FaceData, split_per_identity
from vaeface_utils.model_cache import TrainedVAE, load_or_train_vae
from vaeface_utils.training import HISTORY_KEYS, make_dataset, train_vae
from vaeface_utils.training_settings import TrainingSettings, course_settings

SHAPE = (16, 16, 1)
TINY = TrainingSettings(latent_dim=2, filters=(4, 8), epochs=2, batch_size=8, patience=2,
                        reduce_lr_patience=1, seed=0)


@pytest.fixture
def faces(blob_faces):
    """The shared synthetic faces (conftest.py)."""
    return blob_faces


@pytest.fixture
def split(faces):
    return split_per_identity(faces.identity, n_train=5, n_val=1, seed=0)


@pytest.fixture(autouse=True)
def full_mode(monkeypatch):
    monkeypatch.setenv(config.FAST_ENV, "0")


# --------------------------------------------------------------------------
# Settings


def test_course_settings_full_and_fast():
    full, fast = course_settings(fast=False), course_settings(fast=True)
    assert full == TrainingSettings()
    assert fast.epochs < full.epochs and fast.latent_dim == full.latent_dim and fast.filters == full.filters
    assert fast.likelihood == full.likelihood == "gaussian"


def test_course_settings_reads_the_fast_mode(monkeypatch):
    monkeypatch.setenv(config.FAST_ENV, "1")
    assert course_settings() == course_settings(fast=True)
    monkeypatch.setenv(config.FAST_ENV, "0")
    assert course_settings() == course_settings(fast=False)


def test_settings_are_frozen_hashable_and_normalised():
    settings = TrainingSettings(filters=[8, 16])
    assert settings.filters == (8, 16) and isinstance(settings.learning_rate, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.beta = 2.0
    assert hash(settings) == hash(TrainingSettings(filters=(8, 16)))
    assert settings.replace(beta=4.0).beta == 4.0 and settings.beta == 1.0
    assert json.loads(json.dumps(settings.to_dict()))["filters"] == [8, 16]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"latent_dim": 0}, ValueError, r"`latent_dim` must be an int >= 1; got 0"),
    ({"latent_dim": 2.5}, ValueError, r"`latent_dim`"),
    ({"filters": ()}, ValueError, r"`filters` must be a non-empty"),
    ({"filters": 32}, TypeError, r"`filters` must be a sequence"),
    ({"likelihood": "poisson"}, ValueError, r"`likelihood` must be one of \('bernoulli', 'gaussian'\); got 'poisson'"),
    ({"gaussian_log_var": "fixed"}, ValueError, r"'learned', 'learned-per-pixel' or a finite float"),
    ({"beta": -1.0}, ValueError, r"`beta` must be a finite number >= 0"),
    ({"epochs": 0}, ValueError, r"`epochs` must be an int >= 1"),
    ({"batch_size": True}, ValueError, r"`batch_size`"),
    ({"learning_rate": 0.0}, ValueError, r"`learning_rate` must be a finite number > 0"),
    ({"patience": 0}, ValueError, r"`patience`"),
    ({"reduce_lr_patience": -1}, ValueError, r"`reduce_lr_patience`.*0 to keep"),
    ({"seed": -1}, ValueError, r"`seed`"),
    ({"pipeline": "generator"}, ValueError, r"`pipeline` must be one of \('arrays', 'tf.data'\)"),
])
def test_bad_settings_get_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        TrainingSettings(**kwargs)


def test_replace_rejects_unknown_fields():
    with pytest.raises(TypeError, match=r"no field\(s\) \['epoch'\]"):
        TrainingSettings().replace(epoch=3)


# --------------------------------------------------------------------------
# Training


def test_make_dataset_batches_and_reshuffles(faces):
    dataset = make_dataset(faces.images[:20], 8, seed=0)
    batches = [b.numpy() for b in dataset]
    assert [len(b) for b in batches] == [8, 8, 4] and batches[0].shape[1:] == SHAPE
    again = np.concatenate([b.numpy() for b in dataset])
    first = np.concatenate(batches)
    assert sorted(first.sum(axis=(1, 2, 3))) == pytest.approx(sorted(faces.images[:20].sum(axis=(1, 2, 3))))
    assert not np.array_equal(first, again)  # a new order each epoch
    ordered = np.concatenate([b.numpy() for b in make_dataset(faces.images[:20], 8, shuffle=False)])
    assert np.array_equal(ordered, faces.images[:20])


@pytest.mark.parametrize("pipeline", training_settings.PIPELINES)
def test_history_has_the_expected_keys_per_epoch(faces, split, pipeline):
    vae, history = train_vae(faces.images[split.train], faces.images[split.val], TINY.replace(pipeline=pipeline))
    assert tuple(history) == HISTORY_KEYS
    assert all(len(values) == TINY.epochs for values in history.values())
    assert all(np.isfinite(values).all() for values in history.values())
    # beta = 1: the loss is the negative ELBO, reconstruction plus KL
    assert np.allclose(history["val_loss"], np.add(history["val_reconstruction_loss"], history["val_kl"]), rtol=1e-4)
    assert min(history["kl"]) >= 0
    assert vae.latent_dim == 2 and vae.likelihood == "gaussian" and vae.image_shape == SHAPE


def test_same_settings_train_the_same_model(faces, split):
    a, history_a = train_vae(faces.images[split.train], faces.images[split.val], TINY)
    b, history_b = train_vae(faces.images[split.train], faces.images[split.val], TINY)
    assert history_a["loss"] == pytest.approx(history_b["loss"], rel=1e-5)
    assert np.allclose(a.encode(faces.images), b.encode(faces.images), atol=1e-5)


def weight_snapshots():
    """A callback that keeps a copy of the weights at the end of every epoch (in ``.weights``)."""
    keras = config.import_keras()

    class Snapshots(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.weights = []

        def on_epoch_end(self, epoch, logs=None):
            self.weights.append([w.copy() for w in self.model.get_weights()])

    return Snapshots()


def test_early_stopping_restores_the_best_weights(faces, split):
    # A learning rate far too high makes the validation loss jump about, so the best epoch is not the
    # last; the weights at the end of training must be the best epoch's, not the last one's.
    snapshots = weight_snapshots()
    settings = TINY.replace(epochs=20, patience=20, reduce_lr_patience=0, learning_rate=0.05)
    vae, history = train_vae(faces.images[split.train], faces.images[split.val], settings, callbacks=[snapshots])
    best = int(np.argmin(history["val_loss"]))
    assert best < len(history["val_loss"]) - 1, "the best epoch must not be the last, or restoring shows nothing"
    restored = vae.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(restored, snapshots.weights[best]))
    assert not all(np.array_equal(a, b) for a, b in zip(restored, snapshots.weights[-1]))


def test_without_validation_images_training_runs_the_whole_budget_and_keeps_the_last_epoch(faces, split):
    snapshots = weight_snapshots()
    # A learning rate far too high: the training loss jumps about, so its lowest is not the last epoch's.
    settings = TINY.replace(epochs=12, patience=12, reduce_lr_patience=0, learning_rate=0.2)
    vae, history = train_vae(faces.images[split.train], None, settings, callbacks=[snapshots])
    assert len(history["loss"]) == 12 and not any(key.startswith("val_") for key in history)
    assert int(np.argmin(history["loss"])) < 11, "the lowest loss must not be the last epoch's"
    assert all(np.array_equal(a, b) for a, b in zip(vae.get_weights(), snapshots.weights[-1]))


@pytest.mark.parametrize("changes", [{"patience": 1}, {"reduce_lr_patience": 1, "patience": 2}])
def test_without_validation_images_early_stopping_or_a_schedule_is_refused(faces, split, changes):
    with pytest.raises(ValueError, match=r"no validation loss.*patience=settings.epochs, reduce_lr_patience=0"):
        train_vae(faces.images[split.train], None, TINY.replace(**changes))


def test_progress_line_reports_every_n_epochs_and_at_the_end(faces, split):
    printed = []
    every_epoch = callbacks.ProgressLine(every=1, print_fn=printed.append)
    at_the_end = callbacks.ProgressLine(every=5)
    train_vae(faces.images[split.train], faces.images[split.val], TINY, callbacks=[every_epoch, at_the_end])
    assert len(printed) == 2 and printed == every_epoch.lines
    assert printed[0].startswith("epoch   1: loss") and "val_loss" in printed[0] and "s/epoch" in printed[0]
    assert len(at_the_end.lines) == 1 and at_the_end.lines[0].startswith("epoch   2:")


@pytest.mark.parametrize("call, error, match", [
    (lambda x, v: train_vae(x, v, {"epochs": 2}), TypeError, r"`settings` must be a TrainingSettings; got dict"),
    (lambda x, v: train_vae((x * 255).astype("uint8"), v, TINY), TypeError, r"`images_train` must hold floats.*255"),
    (lambda x, v: train_vae(x[..., 0], v, TINY), ValueError, r"`images_train` must have shape \(n, H, W, 1\)"),
    (lambda x, v: train_vae(x, v[:, :8, :8], TINY), ValueError, r"same shape; got \(16, 16, 1\) and \(8, 8, 1\)"),
    (lambda x, v: train_vae(x, v, TINY, verbose=3), ValueError, r"`verbose` must be 0, 1 or 2"),
    (lambda x, v: train_vae(list(x), v, TINY), TypeError, r"`images_train` must be a NumPy array"),
    (lambda x, v: callbacks.ProgressLine(every=0), ValueError, r"`every` must be an int >= 1"),
])
def test_bad_training_arguments_get_clear_errors(faces, split, call, error, match):
    with pytest.raises(error, match=match):
        call(faces.images[split.train], faces.images[split.val])


# --------------------------------------------------------------------------
# The cache


def test_cache_round_trip_returns_identical_encodings(faces, split, tmp_path):
    first = load_or_train_vae(TINY, faces=faces, split=split, cache_dir=tmp_path)
    assert isinstance(first, TrainedVAE) and not first.from_cache
    assert first.path.parent == tmp_path and first.path.name.startswith("vae-full-")
    assert first.path.is_file() and first.path.with_suffix(".json").is_file()
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary files left behind
    second = load_or_train_vae(TINY, faces=faces, split=split, cache_dir=tmp_path)
    assert second.from_cache and second.path == first.path
    assert np.array_equal(second.vae.encode(faces.images), first.vae.encode(faces.images))
    assert np.array_equal(second.vae.posterior(faces.images)[1], first.vae.posterior(faces.images)[1])
    assert np.array_equal(second.vae.generate(4, seed=0), first.vae.generate(4, seed=0))
    assert second.history == first.history and tuple(second.history) == HISTORY_KEYS
    assert second.vae.get_config() == first.vae.get_config()


def test_cache_dir_defaults_to_the_config_cache(faces, split, tmp_path, monkeypatch):
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "cache"))
    result = load_or_train_vae(TINY.replace(epochs=1), faces=faces, split=split)
    assert result.path.parent == tmp_path / "cache"


@pytest.mark.parametrize("change", [
    {"beta": 2.0}, {"latent_dim": 3}, {"epochs": 1}, {"seed": 1}, {"pipeline": "arrays"},
    {"gaussian_log_var": -4.0},
])
def test_a_changed_setting_misses_the_cache(faces, split, tmp_path, change):
    base = model_cache.cache_path(TINY, faces=faces, split=split, cache_dir=tmp_path)
    changed = TINY.replace(**change)
    assert model_cache.cache_path(changed, faces=faces, split=split, cache_dir=tmp_path) != base


def test_a_changed_split_data_or_mode_misses_the_cache(faces, split, tmp_path, monkeypatch):
    base = model_cache.cache_path(TINY, faces=faces, split=split, cache_dir=tmp_path)
    other_split = split_per_identity(faces.identity, n_train=5, n_val=1, seed=1)
    assert model_cache.cache_path(TINY, faces=faces, split=other_split, cache_dir=tmp_path) != base
    brighter = FaceData(faces.images * 0.5, faces.identity, faces.description, faces.source)
    assert model_cache.cache_path(TINY, faces=brighter, split=split, cache_dir=tmp_path) != base
    monkeypatch.setenv(config.FAST_ENV, "1")
    fast = model_cache.cache_path(TINY, faces=faces, split=split, cache_dir=tmp_path)
    assert fast != base and fast.name.startswith("vae-fast-")


def test_changed_model_code_or_library_versions_miss_the_cache(faces, split, tmp_path, monkeypatch):
    """The key covers the code that trains the model and the libraries it runs on, not just the settings."""
    from importlib import metadata

    base = model_cache.cache_path(TINY, faces=faces, split=split, cache_dir=tmp_path)
    assert model_cache.cache_path(TINY, faces=faces, split=split, cache_dir=tmp_path) == base  # stable

    # The model's code: a copy of the package with model.py edited.
    package = Path(model_cache.__file__).resolve().parent
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in model_cache.CODE_FILES:
        (copy / name).write_bytes((package / name).read_bytes())
    real_code = model_cache.code_fingerprint()["code"]
    source = (package / "model.py").read_text()
    with monkeypatch.context() as patch:
        patch.setattr(model_cache, "__file__", str(copy / "model_cache.py"))
        # A comment or a docstring changes nothing that training does: same key.
        (copy / "model.py").write_text(source.replace('"""', '"""Reworded. ', 1) + "\n# a comment\n")
        assert model_cache.code_fingerprint()["code"] == real_code
        # A line of code does: a new key.
        (copy / "model.py").write_text(source + "\n_CHANGED = 1\n")
        assert model_cache.code_fingerprint()["code"] != real_code
        assert model_cache.cache_path(TINY, faces=faces, split=split, cache_dir=tmp_path) != base

    # Another Keras (or TensorFlow) version.
    real_version = metadata.version

    def version(name):
        return "3.99.0" if name == "keras" else real_version(name)

    with monkeypatch.context() as patch:
        patch.setattr(metadata, "version", version)
        assert model_cache.code_fingerprint()["keras"] == "3.99.0"
        assert model_cache.cache_path(TINY, faces=faces, split=split, cache_dir=tmp_path) != base
    assert model_cache.cache_path(TINY, faces=faces, split=split, cache_dir=tmp_path) == base


def test_code_fingerprint_names_what_it_covers():
    fingerprint = model_cache.code_fingerprint()
    assert set(fingerprint) == {"package", "code", "keras", "tensorflow", "cache_version"}
    assert fingerprint["tensorflow"][0].isdigit() and fingerprint["keras"].startswith("3.")
    assert len(fingerprint["code"]) == 16


def test_a_changed_setting_trains_a_new_model(faces, split, tmp_path):
    first = load_or_train_vae(TINY.replace(epochs=1), faces=faces, split=split, cache_dir=tmp_path)
    other = load_or_train_vae(TINY.replace(epochs=1, beta=3.0), faces=faces, split=split, cache_dir=tmp_path)
    assert not other.from_cache and other.path != first.path and other.vae.beta == 3.0
    assert len(list(tmp_path.glob("*.keras"))) == 2


def test_a_damaged_cache_file_gets_a_clear_error(faces, split, tmp_path):
    path = model_cache.cache_path(TINY, faces=faces, split=split, cache_dir=tmp_path)
    path.write_bytes(b"not a zip file")
    path.with_suffix(".json").write_text("{}")
    with pytest.raises(OSError, match=r"could not be read.*Delete it"):
        load_or_train_vae(TINY, faces=faces, split=split, cache_dir=tmp_path)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"settings": "fast"}, TypeError, r"`settings` must be a TrainingSettings; got str"),
    ({"faces": np.zeros((4, 16, 16, 1))}, TypeError, r"`faces` must be a FaceData"),
    ({"split": (np.arange(5), np.arange(5))}, TypeError, r"`split` must be a Split"),
    ({"split": "no validation"}, ValueError, r"must have training and validation images"),
])
def test_bad_cache_arguments_get_clear_errors(faces, split, tmp_path, kwargs, error, match):
    arguments = {"settings": TINY, "faces": faces, "split": split, "cache_dir": tmp_path, **kwargs}
    if arguments["split"] == "no validation":
        arguments["split"] = split_per_identity(faces.identity, n_train=5, n_val=0, seed=0)
    with pytest.raises(error, match=match):
        load_or_train_vae(**arguments)


# --------------------------------------------------------------------------
# The exercises' self-checks


def test_check_beta_effect():
    from vaeface_utils.checks import training as check

    assert check.beta_effect(None).status == "not done"
    assert check.beta_effect({"kl": "lower", "reconstruction_loss": "higher"}).passed
    for wrong in ({"kl": "higher", "reconstruction_loss": "higher"}, {"kl": "lower", "reconstruction_loss": "same"},
                  {"kl": "same", "reconstruction_loss": "lower"}, {"kl": "down"}, "lower"):
        result = check.beta_effect(wrong)
        assert result.status == "wrong" and result.message


def test_check_bits_per_dim_and_its_hints():
    from vaeface_utils.checks import training as check

    log_px, d = 4200.0, 4096
    right = -log_px / (d * np.log(2.0))
    assert check.bits_per_dim(right, log_px, d).passed
    assert check.bits_per_dim(None, log_px, d).status == "not done"
    assert "sign" in check.bits_per_dim(-right, log_px, d).message
    assert "nats per dimension" in check.bits_per_dim(-log_px / d, log_px, d).message
    assert "bits per image" in check.bits_per_dim(-log_px / np.log(2.0), log_px, d).message
    assert f"{right:.3f}" not in repr(check.bits_per_dim(1.0, log_px, d))  # never shows the answer


def test_check_active_units_and_its_hints():
    from vaeface_utils.checks import training as check

    from vaeface_utils.latent_diagnostics import ACTIVE_THRESHOLD

    z_mean = np.random.default_rng(0).normal(size=(50, 6)) * np.array([1.0, 0.5, 0.2, 0.05, 0.01, 0.0])
    right = int(np.sum(z_mean.var(axis=0) > ACTIVE_THRESHOLD))
    assert right == 3 and check.active_units(right, z_mean).passed
    assert check.active_units(None, z_mean).status == "not done"
    assert "standard deviation" in check.active_units(int(np.sum(z_mean.std(axis=0) > ACTIVE_THRESHOLD)), z_mean).message
    assert "only 6" in check.active_units(7, z_mean).message


def test_check_ppca_noise_variance():
    from vaeface_utils import ppca
    from vaeface_utils.checks import training as check

    rng = np.random.default_rng(0)
    x_train, x_val = rng.normal(size=(60, 10)), rng.normal(size=(20, 10))
    sigma2s = [0.1, 0.5, 1.0, 2.0]
    scores = {s2: ppca.ppca_log_likelihood(x_val, ppca.ppca_fit(x_train, 2, sigma2=s2)).mean() for s2 in sigma2s}
    best = max(scores, key=scores.get)
    assert check.ppca_noise_variance(best, x_train, x_val, 2, sigma2s).passed
    assert check.ppca_noise_variance(None, x_train, x_val, 2, sigma2s).status == "not done"
    wrong = next(s2 for s2 in sigma2s if s2 != best)
    result = check.ppca_noise_variance(wrong, x_train, x_val, 2, sigma2s)
    assert result.status == "wrong" and f"{best}" not in repr(result)
