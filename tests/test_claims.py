"""The headline conclusions of notebooks 03-06, reproduced at a scale CI affords.

The notebooks' fast mode trains too briefly to show what a fully trained
model does, so each conclusion it asserts only in the full mode (``assert
FAST or ...``) is shown here on the real faces, at 32 x 32 pixels, with
small networks and few splits. Every test is marked ``claims``:
``pytest -m claims`` runs them alone. Each names, in its docstring, the notebook section whose
conclusion it reproduces (checked by ``test_every_claim_names_its_notebook``).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from vaeface_utils import amortisation, image_metrics, latent_diagnostics, perturbations, protocol
from vaeface_utils import ppca, training, training_settings
from vaeface_utils.data import load_faces, repeated_splits, split_per_identity
from vaeface_utils.features import Eigenfaces
from vaeface_utils.identification import CLASSIFIERS, identification_accuracy

pytestmark = pytest.mark.claims

SIZE = (32, 32)
SMALL = training_settings.TrainingSettings(latent_dim=16, filters=(16, 32), batch_size=16, learning_rate=2e-3,
                                           epochs=150, patience=30, reduce_lr_patience=0, seed=0)


def flat(images):
    return images.reshape(len(images), -1).astype(np.float64)


def iwae(log_w):
    return logsumexp(log_w, axis=0) - np.log(len(log_w))


@pytest.fixture(scope="module")
def faces(orl_path):
    return load_faces(orl_path, size=SIZE)


@pytest.fixture(scope="module")
def course(faces):
    """The course split at 32 x 32, and a small VAE trained on it with early stopping (about 10 s)."""
    split = split_per_identity(faces.identity, n_train=5, n_val=1, seed=0)
    x_train, x_val, x_test = (faces.images[i] for i in (split.train, split.val, split.test))
    vae, history = training.train_vae(x_train, x_val, SMALL)
    return dict(split=split, x_train=x_train, x_val=x_val, x_test=x_test, vae=vae, history=history,
                id_train=faces.identity[split.train], id_test=faces.identity[split.test])


def _train(x_train, x_val, **changes):
    return training.train_vae(x_train, x_val, SMALL.replace(**changes))[0]


# --------------------------------------------------------------------------- notebook 03


def test_validated_ppca_beats_the_vae_and_the_untuned_ppca_on_test_faces(course):
    """03, *The verdict*: the VAE's bound stays below the exact log-likelihood of PPCA tuned on validation."""
    x_train, x_val, x_test = course["x_train"], course["x_val"], course["x_test"]
    chosen = ppca.ppca_select(flat(x_train), flat(x_val), [8, 16, 32, 64, 128, 159], np.geomspace(1e-3, 3e-2, 12))
    ppca_test = ppca.ppca_log_likelihood(flat(x_test), chosen.params).mean()
    untuned = ppca.ppca_log_likelihood(flat(x_test), ppca.ppca_fit(flat(x_train), SMALL.latent_dim)).mean()
    vae_bound = iwae(course["vae"].log_importance_weights(x_test, 50, seed=0)).mean()
    assert ppca_test > untuned  # tuning on validation helps on the test faces
    assert ppca_test > vae_bound + 50  # and the validated PPCA beats the VAE's bound clearly


def test_the_amortisation_gap_is_real_but_closes_only_part_of_the_distance_to_ppca(course):
    """03, *The amortisation gap*: optimising each face's posterior raises its ELBO, but not to PPCA."""
    vae, x_train, x_val, x_test = course["vae"], course["x_train"], course["x_val"], course["x_test"]
    faces40 = x_test[::5]
    refined = amortisation.refine_posterior(vae, faces40, steps=60, seed=0, eval_samples=50)
    chosen = ppca.ppca_select(flat(x_train), flat(x_val), [32, 64, 128, 159], np.geomspace(1e-3, 3e-2, 12))
    missing = ppca.ppca_log_likelihood(flat(faces40), chosen.params).mean() - refined.encoder_elbo.mean()
    assert refined.gap.mean() > 5  # the encoder leaves nats on the table ...
    assert refined.gap.mean() < missing  # ... but a perfect encoder would not reach PPCA


# --------------------------------------------------------------------------- notebook 04


@pytest.fixture(scope="module")
def per_split(faces):
    """Two 5/5 splits, a small VAE trained on each gallery only (about 5 s each)."""
    out = []
    for s in repeated_splits(faces.identity, 5, n_splits=2, seed=0):
        x_gallery, x_query = faces.images[s.train], faces.images[s.test]
        vae = _train(x_gallery, x_gallery[:40], epochs=60, patience=60)  # fixed budget: no early stop
        out.append(dict(vae=vae, x_gallery=x_gallery, x_query=x_query, id_gallery=faces.identity[s.train],
                        id_query=faces.identity[s.test]))
    return out


def _accuracy(split, features_of, classifier="1nn-euclidean"):
    return identification_accuracy(features_of(split["x_gallery"], split), split["id_gallery"],
                                   features_of(split["x_query"], split), split["id_query"], classifier)


def test_the_vae_code_identifies_fewer_faces_than_eigenfaces(per_split):
    """04, *What we found*: the posterior mean is below eigenfaces, each at its best classifier."""
    vae_acc, eigen_acc = [], []
    for split in per_split:
        pca = Eigenfaces(50).fit(split["x_gallery"])
        vae_acc.append(max(_accuracy(split, lambda x, s: s["vae"].encode(x), c) for c in CLASSIFIERS[:3]))
        eigen_acc.append(max(_accuracy(split, lambda x, s: pca.transform(x), c) for c in CLASSIFIERS[:3]))
    assert np.mean(vae_acc) < np.mean(eigen_acc)


def test_lda_on_the_vae_code_helps(per_split):
    """04, *With a supervised step*: LDA fitted on the gallery's codes beats the codes alone."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    plain, with_lda = [], []
    for split in per_split:
        lda = LinearDiscriminantAnalysis().fit(split["vae"].encode(split["x_gallery"]), split["id_gallery"])
        plain.append(_accuracy(split, lambda x, s: s["vae"].encode(x)))
        with_lda.append(_accuracy(split, lambda x, s: lda.transform(s["vae"].encode(x))))
    assert np.mean(with_lda) > np.mean(plain) + 0.01


def sampled_codes(vae, x):
    from vaeface_utils.latent_diagnostics import sampled_z

    return sampled_z(*vae.posterior(x), seed=0)


@pytest.mark.filterwarnings("ignore:The number of unique classes")  # k = 1: one image per person, as intended
def test_more_gallery_images_help_the_vae_code(faces):
    """04, *Fewer or more training images per person*: k = 9 beats k = 1 by far."""
    accuracy = {}
    for k in (1, 9):
        s = next(repeated_splits(faces.identity, k, n_splits=1, seed=0))
        x_gallery = faces.images[s.train]
        vae = _train(x_gallery, x_gallery[:40], epochs=max(10, 6000 // len(x_gallery)), patience=1000)
        accuracy[k] = identification_accuracy(vae.encode(x_gallery), faces.identity[s.train],
                                              vae.encode(faces.images[s.test]), faces.identity[s.test])
    assert accuracy[9] > accuracy[1] + 0.15


# --------------------------------------------------------------------------- notebook 05


def test_decoder_means_of_prior_codes_are_blurrier_than_real_faces(course):
    """05 §1: decoded prior codes keep only part of real faces' fine detail."""
    vae, x_test = course["vae"], course["x_test"]
    real = image_metrics.gradient_energy(x_test).mean()
    samples = image_metrics.gradient_energy(vae.generate(200, seed=0)).mean()
    reconstructions = image_metrics.gradient_energy(vae.reconstruct(x_test)).mean()
    assert samples < 0.7 * real and reconstructions < 0.8 * real


def test_a_large_beta_collapses_the_posterior(course):
    """05 §2: at a large beta few latent dimensions stay active and sampled codes stop identifying people."""
    x_train, x_val, x_test = course["x_train"], course["x_val"], course["x_test"]
    collapsed = _train(x_train, x_val, beta=256.0, epochs=60, patience=60)
    active = {name: latent_diagnostics.active_units(vae.encode(x_test)) for name, vae in [("beta 1", course["vae"]),
                                                                          ("beta 256", collapsed)]}
    assert active["beta 256"] < active["beta 1"] / 2
    sampled = identification_accuracy(sampled_codes(collapsed, x_train), course["id_train"],
                                      sampled_codes(collapsed, x_test), course["id_test"])
    assert sampled < 0.25


def test_the_elbo_is_well_below_the_importance_weighted_bound(course):
    """05 §3: the ELBO is only a bound; with 64 importance samples the bound rises by nats per face."""
    vae, x_test = course["vae"], course["x_test"]
    log_w = vae.log_importance_weights(x_test, 64, seed=0)
    gap = iwae(log_w) - log_w.mean(axis=0)  # L_64 - L_1 (the same samples), per face
    assert gap.mean() > 5 and np.all(gap >= 0)


def test_a_bigger_latent_space_does_not_help(course):
    """05 §2, *Is a bigger latent space better?*: 4x the latent size, about the same validation ELBO."""
    x_train, x_val = course["x_train"], course["x_val"]
    best = {d: -min(training.train_vae(x_train, x_val, SMALL.replace(latent_dim=d))[1]["val_loss"]) for d in (16, 64)}
    assert abs(best[64] - best[16]) < 0.03 * abs(best[16])


def test_the_vae_code_is_less_robust_to_perturbed_queries_than_eigenfaces(course):
    """05 §6: shifted, turned, side-lit or covered queries are recognised less often from the VAE's code."""
    vae, x_train, x_test = course["vae"], course["x_train"], course["x_test"]
    pca = Eigenfaces(40).fit(x_train)
    strengths = {"shift": (1, 2, 3, 4), "rotation": (5, 10, 15, 20), "illumination": (0.2, 0.4, 0.6, 0.8),
                 "occlusion": (4, 8, 12, 16)}  # notebook 05's, for faces half the size
    perturbed = {}
    for name, features in [("vae", vae.encode), ("eigenfaces", pca.transform)]:
        gallery = features(x_train)
        perturbed[name] = np.mean([identification_accuracy(
            gallery, course["id_train"], features(perturbations.perturb(x_test, kind, s, seed=0).astype(np.float32)),
            course["id_test"]) for kind, values in strengths.items() for s in values])
    assert perturbed["vae"] < perturbed["eigenfaces"]


# --------------------------------------------------------------------------- notebook 06



def test_the_vae_repairs_covered_faces_about_as_well_as_ppca(course):
    """05, *Repairing covered faces, measured*: the VAE fills a hole far better than the mean face, about as PPCA."""
    from vaeface_utils import repair

    x_train, x_val, x_test, vae = course["x_train"], course["x_val"], course["x_test"], course["vae"]
    hidden_val, hidden_test = repair.hidden_squares(x_val, 8, seed=1), repair.hidden_squares(x_test, 8, seed=0)
    fits = {q: ppca.ppca_fit(flat(x_train), q) for q in (8, 16, 32, 64)}
    q = min(fits, key=lambda q: repair.hole_rmse(repair.repair_with_ppca(x_val, hidden_val, fits[q]), x_val,
                                                 hidden_val).mean())
    steps = min((0, 30, 100, 300), key=lambda s: repair.hole_rmse(repair.repair_with_vae(vae, x_val, hidden_val,
                                                                                          steps=s), x_val,
                                                                  hidden_val).mean())
    errors = {name: repair.hole_rmse(images, x_test, hidden_test) for name, images in (
        ("mean face", repair.repair_with_mean_face(x_test, hidden_test, x_train.mean(axis=0))),
        ("PPCA", repair.repair_with_ppca(x_test, hidden_test, fits[q])),
        ("VAE", repair.repair_with_vae(vae, x_test, hidden_test, steps=steps)))}
    to_ppca = protocol.bootstrap_difference(errors["VAE"], errors["PPCA"], course["id_test"])
    to_mean = protocol.bootstrap_difference(errors["VAE"], errors["mean face"], course["id_test"])
    assert to_mean[2] < 0  # the VAE's hole error is below the mean face's, the interval below 0
    assert abs(to_ppca[0]) < 0.2 * abs(to_mean[0])  # and within a fifth of that gain of PPCA's



def test_free_bits_keep_units_that_a_large_beta_collapses(course):
    """05, *Two remedies for collapse, measured*: at a collapsing beta, free bits keep more units active."""
    import keras

    from vaeface_utils import config, remedies
    from vaeface_utils.model import VAE

    def trained(model_class, **kwargs):
        config.seed_everything(0)
        model = model_class(image_shape=SIZE + (1,), **SMALL.replace(beta=256.0).vae_kwargs(), **kwargs)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=SMALL.learning_rate))
        model.fit(course["x_train"], epochs=40, batch_size=SMALL.batch_size, verbose=0)
        return latent_diagnostics.active_units(model.encode(course["x_test"]), latent_diagnostics.ACTIVE_THRESHOLD)

    plain, free = trained(VAE), trained(remedies.FreeBitsVAE, free_bits=0.5)
    assert plain < SMALL.latent_dim / 2  # the large beta collapses most units
    assert free > plain + SMALL.latent_dim / 4  # free bits keep clearly more


@pytest.fixture(scope="module")
def labelled_runs(faces, tmp_path_factory):
    """Notebook 06's plain VAE, conditional prior and supervised head, trained per split on two 5/5 splits."""
    from vaeface_utils import labelled
    from vaeface_utils.conditional_prior import ConditionalPriorVAE
    from vaeface_utils.supervised_head import SupervisedVAE

    cache = labelled.PerSplitModels(cache_dir=tmp_path_factory.mktemp("id06"))
    kinds = {"plain": (labelled.LabelledVAE, {}), "conditional": (ConditionalPriorVAE, {}),
             "supervised": (SupervisedVAE, {"classification_weight": 1000.0})}
    runs = {kind: [] for kind in kinds}
    for s in repeated_splits(faces.identity, 5, n_splits=2, seed=0):
        p_gallery, people = labelled.people_index(faces.identity[s.train])
        p_query = np.searchsorted(people, faces.identity[s.test])
        x_gallery, x_query = faces.images[s.train], faces.images[s.test]
        for kind, (make, extra) in kinds.items():
            model = cache.get(make, {"n_people": 40, "image_shape": SIZE + (1,), "latent_dim": 32, "seed": 0, **extra},
                              x_gallery, p_gallery, epochs=60, seed=0)
            z_gallery, z_query = model.encode(x_gallery), model.encode(x_query)
            runs[kind].append({"accuracy": identification_accuracy(z_gallery, p_gallery, z_query, p_query, "logreg"),
                               "elbo": float(model.heldout_elbo(x_query, seed=s.seed, n_samples=2).mean())})
    return runs


def test_a_supervised_head_makes_the_code_identify_better(labelled_runs):
    """06, *What we found*: the supervised head's code identifies more queries than the plain VAE's, every split."""
    for plain, supervised in zip(labelled_runs["plain"], labelled_runs["supervised"]):
        assert supervised["accuracy"] > plain["accuracy"]


def test_a_prior_per_person_costs_no_held_out_elbo(labelled_runs):
    """06, *What we found*: the conditional prior's label-free bound is not below the plain VAE's ELBO."""
    plain = np.mean([r["elbo"] for r in labelled_runs["plain"]])
    conditional = np.mean([r["elbo"] for r in labelled_runs["conditional"]])
    assert conditional > plain


def test_every_claim_names_its_notebook():
    meta = {"test_every_claim_names_its_notebook", "test_the_notebooks_name_tests_that_exist"}
    tests = [f for name, f in globals().items() if name.startswith("test_") and name not in meta]
    assert len(tests) >= 8
    for f in tests:
        assert f.__doc__ and f.__doc__.split()[0] in {"03,", "04,", "04:", "05", "05,", "03:", "06,"}, f.__name__


def test_the_notebooks_name_tests_that_exist():
    """Each claims test a notebook names (``test_...``) is defined, and every claims test is named by one."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    named = set()
    for notebook in ("03_training_on_faces", "04_latent_face_recognition", "05_limitations", "06_identity_codes"):
        named |= set(re.findall(r"`(?:tests/test_\w+\.py::)?(test_\w+)`", (root / "notebooks" / "py" / f"{notebook}.py").read_text()))
    defined = {name for name in globals() if name.startswith("test_")}
    for other in ("test_privacy.py", "test_results.py"):
        defined |= set(re.findall(r"^def (test_\w+)", (root / "tests" / other).read_text(), re.M))
    assert named and named <= defined, sorted(named - defined)
    claims = {name for name in globals() if name.startswith("test_") and name not in {
        "test_every_claim_names_its_notebook", "test_the_notebooks_name_tests_that_exist"}}
    assert claims <= named, sorted(claims - named)
