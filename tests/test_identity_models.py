"""Notebook 06's models: a labelled VAE, a conditional prior, a supervised head, a split code, a CNN.

Each model's loss is compared with an independent NumPy computation (the
sampling noise switched off, so both sides see the same code), gradients must
reach every weight, models survive saving and loading in safe mode, seeded
training repeats, and bad input gets a clear error.
"""

import math

import numpy as np
import pytest

from vaeface_utils import config

keras = config.import_keras()

from vaeface_utils import elbo  # noqa: E402
from vaeface_utils import labelled  # noqa: E402
from vaeface_utils.cnn import FaceCNN  # noqa: E402
from vaeface_utils.conditional_prior import ConditionalPriorVAE  # noqa: E402
from vaeface_utils.split_code import SplitCodeVAE  # noqa: E402
from vaeface_utils.supervised_head import SupervisedVAE  # noqa: E402

SMALL = dict(image_shape=(16, 16, 1), latent_dim=4, filters=(8, 16), seed=0)
N_PEOPLE = 3


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.random((12, 16, 16, 1), dtype=np.float32)
    people = np.repeat(np.arange(N_PEOPLE), 4).astype(np.int32)
    return x, people


def make(cls, **kwargs):
    keras.utils.set_random_seed(0)
    return cls(n_people=N_PEOPLE, **SMALL, **kwargs)


MODELS = {
    "plain": lambda: make(labelled.LabelledVAE),
    "conditional": lambda: make(ConditionalPriorVAE),
    "supervised": lambda: make(SupervisedVAE, classification_weight=10.0),
    "split": lambda: make(SplitCodeVAE, identity_dim=2),
}


def no_noise(model):
    """Make the model's sampling return the mean, so that its loss is a deterministic function."""
    object.__setattr__(model, "sampling", lambda inputs: inputs[0])
    return model


def terms(model, x, people):
    return {k: float(v) for k, v in model._terms(keras.ops.convert_to_tensor(x),
                                                   keras.ops.convert_to_tensor(people), training=False).items()}


def reconstruction(model, x, z):
    """-mean log p(x|z) in NumPy, from the model's decoder output for codes z."""
    return -float(np.mean(model._log_px_given_z_numpy(x, model._decoder_output(z))))


def kl_standard(mean, log_var):
    return elbo.kl_diag_gaussian_standard(mean, log_var)


# --------------------------------------------------------------------------- the losses


def test_the_plain_labelled_vae_has_the_vaes_loss(data):
    x, people = data
    model = no_noise(MODELS["plain"]())
    m, lv = model.posterior(x)
    t = terms(model, x, people)
    assert t["reconstruction_loss"] == pytest.approx(reconstruction(model, x, m), rel=1e-4)
    assert t["kl"] == pytest.approx(float(np.mean(kl_standard(m, lv))), rel=1e-4)
    assert t["loss"] == pytest.approx(t["reconstruction_loss"] + t["kl"], rel=1e-5)


def test_the_conditional_prior_loss_is_the_kl_to_each_images_person(data):
    x, people = data
    model = no_noise(MODELS["conditional"]())
    model.prior_log_var.assign(np.random.default_rng(1).normal(scale=0.3, size=(N_PEOPLE, 4)))
    m, lv = model.posterior(x)
    mean_p, log_var_p = model.prior()
    kl = elbo.kl_diag_gaussians(m, lv, mean_p[people], log_var_p[people])
    t = terms(model, x, people)
    assert t["kl"] == pytest.approx(float(kl.mean()), rel=1e-4)
    assert t["loss"] == pytest.approx(reconstruction(model, x, m) + kl.mean(), rel=1e-4)


def test_the_posterior_over_people_is_a_softmax_of_minus_the_kl(data):
    x, _ = data
    model = MODELS["conditional"]()
    m, lv = model.posterior(x)
    mean_p, log_var_p = model.prior()
    kl = np.stack([elbo.kl_diag_gaussians(m, lv, mean_p[y], log_var_p[y]) for y in range(N_PEOPLE)], axis=1)
    expected = np.exp(-kl) / np.exp(-kl).sum(1, keepdims=True)
    assert np.allclose(np.exp(model.person_log_posterior(x)), expected, atol=1e-10)
    assert np.array_equal(model.predict_people(x), expected.argmax(1))


def test_the_conditional_priors_label_free_bound(data):
    x, _ = data
    model = MODELS["conditional"]()
    kl = model.kl_to_people(x)
    log_px = np.mean([model.elbo_terms(x, seed=[5, i])["log_px_given_z"] for i in range(3)], axis=0)
    expected = log_px + np.log(np.mean(np.exp(-kl), axis=1))
    assert np.allclose(model.heldout_elbo(x, seed=5, n_samples=3), expected, rtol=1e-10)
    # between the bound with the best person (times 1/P) and the bound with the best person
    best = log_px - kl.min(axis=1)
    assert np.all(model.heldout_elbo(x, seed=5, n_samples=3) <= best + 1e-9)
    assert np.all(model.heldout_elbo(x, seed=5, n_samples=3) >= best - math.log(N_PEOPLE) - 1e-9)


def test_a_unit_variance_prior_keeps_its_variances_fixed(data):
    x, people = data
    model = make(ConditionalPriorVAE, prior_kind="unit-variance")
    assert all(w is not model.prior_log_var for w in model.trainable_weights)
    labelled.train_labelled(model, x, people, epochs=2, people_per_batch=2)
    assert np.all(model.prior()[1] == 0)


def test_the_supervised_loss_adds_the_weighted_cross_entropy(data):
    x, people = data
    model = no_noise(MODELS["supervised"]())
    m, lv = model.posterior(x)
    logits = model.person_logits(x).astype(np.float64)
    log_softmax = logits - logits.max(1, keepdims=True)
    log_softmax -= np.log(np.exp(log_softmax).sum(1, keepdims=True))
    cross_entropy = -float(np.mean(log_softmax[np.arange(len(x)), people]))
    t = terms(model, x, people)
    assert t["cross_entropy"] == pytest.approx(cross_entropy, rel=1e-4)
    expected = reconstruction(model, x, m) + float(np.mean(kl_standard(m, lv))) + 10.0 * cross_entropy
    assert t["loss"] == pytest.approx(expected, rel=1e-4)


def test_the_split_code_pools_each_persons_identity_and_counts_its_kl_once(data):
    x, people = data
    order = np.array([0, 4, 1, 5, 8, 2])  # two images of person 0, two of person 1, one of person 2, one more of 0
    x, people = x[order], people[order]
    model = no_noise(MODELS["split"]())
    m, lv = model.posterior(x)
    d = model.identity_dim
    z = m.astype(np.float64).copy()
    kl_identity = 0.0
    for person in np.unique(people):
        rows = people == person
        precision = np.exp(-lv[rows, :d].astype(np.float64))
        pooled_mean, pooled_log_var = (precision * m[rows, :d]).sum(0) / precision.sum(0), -np.log(precision.sum(0))
        z[rows, :d] = pooled_mean
        kl_identity += float(kl_standard(pooled_mean[None], pooled_log_var[None])[0])
    kl_identity /= len(x)
    kl_nuisance = float(np.mean(kl_standard(m[:, d:], lv[:, d:])))
    t = terms(model, x, people)
    assert t["kl_identity"] == pytest.approx(kl_identity, rel=1e-4)
    assert t["kl_nuisance"] == pytest.approx(kl_nuisance, rel=1e-4)
    assert t["reconstruction_loss"] == pytest.approx(reconstruction(model, x, z), rel=1e-4)
    assert t["loss"] == pytest.approx(t["reconstruction_loss"] + kl_identity + kl_nuisance, rel=1e-4)


def test_a_split_code_of_single_images_has_the_plain_elbo(data):
    x, _ = data
    model = no_noise(MODELS["split"]())
    m, lv = model.posterior(x[:3])
    t = terms(model, x[:3], np.arange(3, dtype=np.int32))  # three people, one image each: nothing pooled
    assert t["kl"] == pytest.approx(float(np.mean(kl_standard(m, lv))), rel=1e-4)
    assert t["reconstruction_loss"] == pytest.approx(reconstruction(model, x[:3], m), rel=1e-4)


def test_swapping_decodes_one_faces_identity_with_anothers_nuisance(data):
    x, _ = data
    model = MODELS["split"]()
    a, b = model.encode(x[:2]), model.encode(x[2:4])
    expected = model.decode(np.concatenate([a[:, :2], b[:, 2:]], axis=1))
    assert np.allclose(model.swap(x[:2], x[2:4]), expected)
    assert np.allclose(model.swap(x[:2], x[:2]), model.reconstruct(x[:2]), atol=1e-6)
    assert model.identity_features(x).shape == (12, 2)


# --------------------------------------------------------------------------- training


@pytest.mark.parametrize("name", MODELS)
def test_gradients_reach_every_weight(data, name):
    import tensorflow as tf

    x, people = data
    model = MODELS[name]()
    with tf.GradientTape() as tape:
        loss = model._terms(tf.constant(x), tf.constant(people), training=True)["loss"]
    grads = tape.gradient(loss, model.trainable_weights)
    missing = [w.path for w, g in zip(model.trainable_weights, grads)
               if g is None or not np.any(tf.convert_to_tensor(g).numpy())]
    assert not missing


def test_cnn_gradients_reach_every_weight(data):
    import tensorflow as tf

    x, people = data
    model = FaceCNN(n_people=N_PEOPLE, image_shape=(16, 16, 1), filters=(8, 16), seed=0)
    with tf.GradientTape() as tape:
        logits = model(tf.constant(x), training=True)
        loss = keras.ops.mean(keras.losses.sparse_categorical_crossentropy(people, logits, from_logits=True))
    grads = tape.gradient(loss, model.trainable_weights)
    assert all(g is not None and np.any(g.numpy()) for g in grads)


CONFIGS = {"plain": {}, "conditional": {}, "supervised": {"classification_weight": 10.0}, "split": {"identity_dim": 2}}


@pytest.mark.parametrize("name", MODELS)
def test_training_lowers_the_loss_and_repeats_with_the_seed(data, name, tmp_path):
    x, people = data
    cls, cfg = type(MODELS[name]()), {"n_people": N_PEOPLE, **SMALL, **CONFIGS[name]}
    runs = []
    for folder in ("a", "b"):
        cache = labelled.PerSplitModels(cache_dir=tmp_path / folder)
        runs.append(cache.get(cls, cfg, x, people, epochs=20, people_per_batch=2, seed=3))
        assert cache.trained == 1
    keras.utils.set_random_seed(3)
    untrained = cls(**cfg)
    untrained.compile(optimizer="adam")
    before = untrained.evaluate(x, people, verbose=0, return_dict=True)["loss"]
    after = runs[0].evaluate(x, people, verbose=0, return_dict=True)["loss"]
    assert after < before - 1.0
    for a, b in zip(runs[0].get_weights(), runs[1].get_weights()):
        assert np.allclose(a, b, rtol=1e-5, atol=1e-6)


def test_the_cache_returns_the_same_model_without_training(data, tmp_path):
    x, people = data
    cache = labelled.PerSplitModels(cache_dir=tmp_path, max_in_memory=1)
    first = cache.get(SupervisedVAE, {"n_people": N_PEOPLE, **SMALL}, x, people, epochs=2, people_per_batch=2)
    cache.get(SupervisedVAE, {"n_people": N_PEOPLE, **SMALL, "classification_weight": 5.0}, x, people, epochs=2,
              people_per_batch=2)  # pushes the first out of memory
    again = cache.get(SupervisedVAE, {"n_people": N_PEOPLE, **SMALL}, x, people, epochs=2, people_per_batch=2)
    assert (cache.trained, cache.loaded) == (2, 1)
    assert np.allclose(first.encode(x), again.encode(x), atol=1e-6)
    assert len(cache.train_seconds) == 2


def test_a_grouped_batch_holds_all_images_of_its_people(data):
    x, people = data
    dataset, steps = labelled.grouped_dataset(x, people, people_per_batch=2, epochs=3, seed=0)
    batches = [p.numpy() for _, p in dataset]
    assert steps == 2 and len(batches) == 6
    for b in batches:
        for person in np.unique(b):
            assert np.sum(b == person) == 4
    for epoch in range(3):
        assert sorted(np.concatenate(batches[2 * epoch:2 * epoch + 2])) == sorted(people)
    again = [p.numpy() for _, p in labelled.grouped_dataset(x, people, people_per_batch=2, epochs=3, seed=0)[0]]
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))


# --------------------------------------------------------------------------- saving


@pytest.mark.parametrize("name", MODELS)
def test_save_and_load_in_safe_mode(data, name, tmp_path):
    x, people = data
    model = MODELS[name]()
    labelled.train_labelled(model, x, people, epochs=1, people_per_batch=2)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    assert np.allclose(loaded.identity_features(x), model.identity_features(x), atol=1e-6)
    if hasattr(model, "predict_people"):
        assert np.array_equal(loaded.predict_people(x), model.predict_people(x))


def test_the_cnn_saves_loads_and_names_people(data, tmp_path):
    x, people = data
    keras.utils.set_random_seed(0)
    model = FaceCNN(n_people=N_PEOPLE, image_shape=(16, 16, 1), filters=(8, 16), seed=0)
    labelled.train_labelled(model, x, people, epochs=2, people_per_batch=2)
    model.save(tmp_path / "cnn.keras")
    loaded = keras.saving.load_model(tmp_path / "cnn.keras", safe_mode=True)
    assert np.allclose(loaded.embed(x), model.embed(x), atol=1e-5)
    assert model.predict_people(x).shape == (12,) and model.embed(x).shape == (12, 64)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("people, error, match", [
    (np.array([0, 1, 2, 3] * 3), ValueError, r"lie in \[0, 3\)"),
    (np.array([0, 1, 2] * 3), ValueError, "one index per image"),
    (np.zeros(12, dtype=np.float32), TypeError, "integer person indices"),
    ([0] * 12, None, None),
])
def test_bad_people_get_a_clear_error(data, people, error, match):
    x, _ = data
    model = MODELS["plain"]()
    model.compile(optimizer="adam")
    if error is None:
        model.fit(x, np.asarray(people), epochs=1, verbose=0)
        return
    with pytest.raises(error, match=match):
        model.fit(x, people, epochs=1, verbose=0)


def test_fit_without_people_says_what_is_missing(data):
    x, _ = data
    model = MODELS["plain"]()
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="person index of each image"):
        model.fit(x, epochs=1, verbose=0)


def test_the_split_code_needs_two_images_of_each_person(data):
    x, people = data
    model = MODELS["split"]()
    people = people.copy()
    people[0] = 2  # person 0 now has three images; make person 1 have a single one
    people[4:8] = [1, 2, 2, 2]
    with pytest.raises(ValueError, match=r"at least two training images.*\[1\]"):
        labelled.train_labelled(model, x, people, epochs=1)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="at least two training images"):
        model.fit(x, people, epochs=1, verbose=0)


def test_the_split_code_refuses_arrays_that_keras_would_cut_apart(data):
    x, people = data
    model = MODELS["split"]()
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="train_labelled"):
        model.fit(x, people, epochs=1, verbose=0)


def test_the_split_code_ignores_people_absent_from_a_batch(data):
    x, people = data
    model = no_noise(MODELS["split"]())
    rows = people != 1  # person 1 absent: its segment sums are zero and must count for nothing
    m, lv = model.posterior(x[rows])
    t = terms(model, x[rows], people[rows])
    expected = 0.0
    for person in (0, 2):
        own = people[rows] == person
        precision = np.exp(-lv[own, :2].astype(np.float64))
        expected += float(kl_standard(((precision * m[own, :2]).sum(0) / precision.sum(0))[None],
                                      -np.log(precision.sum(0))[None])[0])
    assert np.isfinite(t["loss"]) and t["kl_identity"] == pytest.approx(expected / rows.sum(), rel=1e-4)


@pytest.mark.parametrize("make_bad, error, match", [
    (lambda: make(ConditionalPriorVAE, prior_kind="mixture"), ValueError, "prior_kind"),
    (lambda: make(SplitCodeVAE, identity_dim=4), ValueError, "smaller than latent_dim"),
    (lambda: make(SupervisedVAE, classification_weight=-1), ValueError, "classification_weight"),
    (lambda: make(SupervisedVAE, classification_weight="big"), TypeError, "classification_weight"),
    (lambda: labelled.LabelledVAE(n_people=0, **SMALL), ValueError, "n_people"),
    (lambda: make(labelled.LabelledVAE, beta=4.0), ValueError, "beta"),
    (lambda: make(SupervisedVAE, dtype="mixed_bfloat16"), ValueError, "float32"),
    (lambda: FaceCNN(n_people=3, image_shape=(18, 18, 1), filters=(8, 16)), ValueError, "multiples of 4"),
])
def test_bad_settings_get_a_clear_error(make_bad, error, match):
    with pytest.raises(error, match=match):
        make_bad()


def test_people_index_maps_labels_to_indices():
    index, people = labelled.people_index(np.array([12, 3, 12, 40]))
    assert index.tolist() == [1, 0, 1, 2] and people[index].tolist() == [12, 3, 12, 40]
    with pytest.raises(ValueError, match="non-empty 1-D"):
        labelled.people_index([])
