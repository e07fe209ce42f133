"""Tests of vaeface_utils.latent_features: per-split VAEs, training budgets, validation curves.

Tiny 16 x 16 images of a few synthetic "people", a two-layer network and a
few epochs keep each test to seconds on a CPU.
"""

import json

import numpy as np
import pytest

from vaeface_utils import config, latent_features
from vaeface_utils.checks import recognition as check
from vaeface_utils.data import split_per_identity
from vaeface_utils.identification import evaluate_identification
from vaeface_utils.latent_features import PerSplitVAE, accuracy_during_training, epochs_for
from vaeface_utils.training_settings import TrainingSettings

TINY = TrainingSettings(latent_dim=2, filters=(4, 8), epochs=2, batch_size=8, seed=0)


@pytest.fixture
def blobs(blob_faces):
    """The shared synthetic faces (conftest.py), as (images, identity)."""
    return blob_faces.images, blob_faces.identity


@pytest.fixture(autouse=True)
def full_mode(monkeypatch):
    monkeypatch.setenv(config.FAST_ENV, "0")


# --------------------------------------------------------------------------
# epochs_for


def test_epochs_for_keeps_the_images_seen():
    assert epochs_for(4800, 160) == 30 and epochs_for(4800, 200) == 24 and epochs_for(4800, 40) == 120
    assert epochs_for(10, 1000) == 1


@pytest.mark.parametrize("args", [(0, 10), (10, 0), (1.5, 10), (True, 10)])
def test_epochs_for_rejects_bad_arguments(args):
    with pytest.raises(ValueError, match="must be an int >= 1"):
        epochs_for(*args)


# --------------------------------------------------------------------------
# PerSplitVAE


def test_per_split_vae_trains_on_the_gallery_only_and_caches(blobs, tmp_path):
    images, identity = blobs
    seen = []
    per_split = PerSplitVAE(TINY, images_seen=40, cache_dir=tmp_path)
    original = per_split.vae

    def spy(images_train):
        seen.append(images_train.copy())
        return original(images_train)

    per_split.vae = spy
    result = evaluate_identification(images, identity, fit_features=per_split.fit_features("mean"),
                                     n_train=5, n_splits=2, seed=0)
    assert result.n_features == TINY.latent_dim and len(result.accuracies) == 2
    for gallery, split in zip(seen, [split_per_identity(identity, 5, seed=s) for s in (0, 1)]):
        assert np.array_equal(gallery, images[split.train])  # never a query image
    assert per_split.trained == 2 and per_split.loaded == 0
    assert len(list(tmp_path.glob("vae04-full-*.keras"))) == 2 and len(per_split.train_seconds) == 2
    record = json.loads(next(tmp_path.glob("vae04-full-*.json")).read_text())
    assert record["settings"]["epochs"] == epochs_for(40, 20) == 2 and record["n_train"] == 20
    # trained without validation images: no extra pass, the fixed budget's last epoch kept
    assert len(record["history"]["loss"]) == 2 and not any(k.startswith("val_") for k in record["history"])

    again = PerSplitVAE(TINY, images_seen=40, cache_dir=tmp_path)
    z_again = again.vae(images[split.train]).encode(images)
    assert again.loaded == 1 and again.trained == 0
    assert np.array_equal(z_again, original(images[split.train]).encode(images))
    assert set(again.train_seconds.values()) <= set(per_split.train_seconds.values())


def test_per_split_vae_memoises_and_the_key_depends_on_the_training_images(blobs, tmp_path):
    images, _ = blobs
    per_split = PerSplitVAE(TINY, cache_dir=tmp_path)
    a = per_split.vae(images[:20])
    assert per_split.vae(images[:20]) is a
    assert per_split.path(images[:20]) != per_split.path(images[1:21])
    per_split.vae(images[1:21])
    assert per_split.trained == 2  # other training images, another model


def test_per_split_vae_keeps_only_the_most_recent_in_memory(blobs, tmp_path):
    images, _ = blobs
    per_split = PerSplitVAE(TINY, cache_dir=tmp_path, max_in_memory=1)
    a = per_split.vae(images[:20])
    per_split.vae(images[1:21])  # pushes the first VAE out of memory
    assert "1 VAEs in memory" in repr(per_split)
    again = per_split.vae(images[:20])
    assert again is not a and (per_split.trained, per_split.loaded) == (2, 1)  # read back, not retrained
    np.testing.assert_allclose(again.encode(images[:5]), a.encode(images[:5]), rtol=1e-6, atol=1e-6)
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="max_in_memory"):
            PerSplitVAE(TINY, max_in_memory=bad)


def test_budget_in_epochs_or_images_seen():
    per_split = PerSplitVAE(TINY.replace(epochs=7, patience=3, reduce_lr_patience=2))
    fixed = per_split.split_settings(100)
    assert (fixed.epochs, fixed.patience, fixed.reduce_lr_patience) == (7, 7, 0)
    assert PerSplitVAE(TINY, images_seen=300).split_settings(100).epochs == 3
    assert "images seen" in repr(PerSplitVAE(TINY, images_seen=300))


def test_the_three_kinds_of_features(blobs, tmp_path):
    images, identity = blobs
    split = split_per_identity(identity, 5, seed=0)
    per_split = PerSplitVAE(TINY, cache_dir=tmp_path)
    x_train, y_train = images[split.train], identity[split.train]
    z_mean, z_log_var = per_split.vae(x_train).posterior(images[split.test])
    mean = per_split.fit_features("mean")(x_train, y_train, split).transform(images[split.test])
    assert np.allclose(mean, z_mean)
    sample = per_split.fit_features("sample", seed=4)(x_train, y_train, split)
    first, second = sample.transform(images[split.test]), sample.transform(images[split.test])
    eps = np.random.default_rng([4, 0]).standard_normal(z_mean.shape)
    assert np.allclose(first, z_mean + np.exp(z_log_var / 2) * eps, atol=1e-5)
    assert not np.allclose(first, second)  # fresh noise at every call
    again = per_split.fit_features("sample", seed=4)(x_train, y_train, split).transform(images[split.test])
    assert np.allclose(first, again)  # but seeded: the same for the same seed and split
    lda = per_split.fit_features("mean+lda")(x_train, y_train, split)
    assert lda.transform(images[split.test]).shape == (len(split.test), min(TINY.latent_dim, 3))
    assert per_split.trained == 1  # one VAE served all three


def test_vae_codes_is_a_scikit_learn_transformer(blobs, tmp_path):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    images, _ = blobs
    per_split = PerSplitVAE(TINY, cache_dir=tmp_path)
    codes = latent_features.VAECodes(per_split, kind="mean")
    assert clone(codes).get_params() == codes.get_params()  # the same store, shared
    with pytest.raises(NotFittedError):
        codes.transform(images[:3])
    pipeline = make_pipeline(codes, StandardScaler()).fit(images[:20])
    out = pipeline.transform(images[20:])
    z = per_split.vae(images[:20]).encode(images[20:])
    np.testing.assert_allclose(out, (z - z_train_mean(per_split, images)) / z_train_std(per_split, images),
                               rtol=1e-4, atol=1e-4)
    with pytest.raises(TypeError, match="PerSplitVAE"):
        latent_features.VAECodes(None).fit(images[:20])
    with pytest.raises(ValueError, match="'mean' or 'sample'"):
        latent_features.VAECodes(per_split, kind="mean+lda").fit(images[:20])


def z_train_mean(per_split, images):
    return per_split.vae(images[:20]).encode(images[:20]).mean(axis=0)


def z_train_std(per_split, images):
    return per_split.vae(images[:20]).encode(images[:20]).std(axis=0)


def test_bad_arguments_get_clear_errors(tmp_path):
    with pytest.raises(TypeError, match="TrainingSettings"):
        PerSplitVAE({"latent_dim": 2})
    with pytest.raises(ValueError, match="images_seen"):
        PerSplitVAE(TINY, images_seen=0)
    with pytest.raises(ValueError, match="Unknown `kind`"):
        PerSplitVAE(TINY).fit_features("median")
    with pytest.raises(TypeError, match="floats"):
        PerSplitVAE(TINY, cache_dir=tmp_path).vae(np.zeros((4, 16, 16, 1), dtype=np.uint8))


def test_a_damaged_cache_file_gets_a_clear_error(blobs, tmp_path):
    images, _ = blobs
    PerSplitVAE(TINY, cache_dir=tmp_path).vae(images[:20])
    path = next(tmp_path.glob("vae04-*.keras"))
    path.write_bytes(b"not a model")
    with pytest.raises(OSError, match="Delete it"):
        PerSplitVAE(TINY, cache_dir=tmp_path).vae(images[:20])


# --------------------------------------------------------------------------
# accuracy_during_training


def test_accuracy_during_training_records_every_n_epochs_and_caches(blobs, tmp_path):
    images, identity = blobs
    split = split_per_identity(identity, 5, n_val=1, seed=0)
    args = (TINY.replace(epochs=5), images[split.train], identity[split.train], images[split.val],
            identity[split.val])
    kwargs = dict(classifiers=[("1nn-euclidean", "none"), ("logreg", "standardise")], every=2, cache_dir=tmp_path)
    curve = accuracy_during_training(*args, **kwargs)
    assert curve["epochs"] == [2, 4, 5] and not curve["from_cache"] and curve["train_seconds"] > 0
    assert set(curve["accuracy"]) == {"1nn-euclidean/none", "logreg/standardise"}
    assert all(len(a) == 3 and all(0 <= v <= 1 for v in a) for a in curve["accuracy"].values())
    again = accuracy_during_training(*args, **kwargs)
    assert again["from_cache"] and again["accuracy"] == curve["accuracy"]
    other = accuracy_during_training(*args, **{**kwargs, "every": 5})
    assert not other["from_cache"] and other["epochs"] == [5]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(every=0), ValueError, "every"),
    (dict(classifiers=[("3-nn", "none")]), ValueError, "classifier"),
    (dict(classifiers=[]), ValueError, "empty"),
])
def test_accuracy_during_training_rejects_bad_arguments(blobs, tmp_path, kwargs, error, match):
    images, identity = blobs
    with pytest.raises(error, match=match):
        accuracy_during_training(TINY, images[:20], identity[:20], images[20:], identity[20:], cache_dir=tmp_path,
                                 **kwargs)
    with pytest.raises(TypeError, match="TrainingSettings"):
        accuracy_during_training(None, images[:20], identity[:20], images[20:], identity[20:])


def test_importing_the_module_imports_no_tensorflow():
    import subprocess
    import sys

    code = "import sys, vaeface_utils.latent_features; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    assert latent_features.KINDS == ("mean", "sample", "mean+lda")


# --------------------------------------------------------------------------
# The exercise check added for notebook 04


def test_check_sampled_code_and_its_hints():
    rng = np.random.default_rng(0)
    z_mean, z_log_var, eps = rng.normal(size=(3, 5, 2))
    right = z_mean + np.exp(z_log_var / 2) * eps
    assert check.sampled_code(right, z_mean, z_log_var, eps).passed
    assert check.sampled_code(None, z_mean, z_log_var, eps).status == "not done"
    for wrong, says in [(z_mean + np.exp(z_log_var) * eps, "variance"), (z_mean + z_log_var * eps, "log-variance"),
                        (z_mean, "posterior mean"), (right[:2], "shape"), (right + 1, "sigma")]:
        result = check.sampled_code(wrong, z_mean, z_log_var, eps)
        assert result.status == "wrong" and says in result.message
        assert str(np.round(right[0, 0], 3)) not in result.message  # never the answer


def test_accuracy_curves_miss_the_cache_when_the_code_that_scores_them_changes(blobs, tmp_path, monkeypatch):
    images, identity = blobs
    split = split_per_identity(identity, 5, n_val=1, seed=0)
    args = (TINY.replace(epochs=2), images[split.train], identity[split.train], images[split.val],
            identity[split.val])
    assert not accuracy_during_training(*args, every=1, cache_dir=tmp_path)["from_cache"]
    assert accuracy_during_training(*args, every=1, cache_dir=tmp_path)["from_cache"]
    real = latent_features._cache.code_hash
    monkeypatch.setattr(latent_features._cache, "code_hash",
                        lambda names: "edited" if "identification.py" in names else real(names))
    assert not accuracy_during_training(*args, every=1, cache_dir=tmp_path)["from_cache"]
