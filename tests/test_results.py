"""Results records: the module, and the committed records against their notebooks' prose.

Each notebook that measures writes ``notebooks/results/<notebook>.json`` in
the full mode, from the run that made its stored outputs. These tests check
that each record is complete, that its numbers are the ones the notebook's
stored outputs print, and that the conclusions the prose draws hold for it.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from vaeface_utils import results

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
RECORDED = ("03_training_on_faces", "04_latent_face_recognition", "05_limitations", "06_identity_codes")


def load(name):
    """The repository's committed record (also where the package is installed elsewhere, as in CI's colab job)."""
    return results.load_record(name, directory=NOTEBOOKS / "results")


# --------------------------------------------------------------------------- the module


def test_a_record_round_trips_and_the_fast_mode_writes_nothing(tmp_path):
    record = {"a": np.float32(0.25), "b": {"c": np.int64(3), "d": [np.float64(1 / 3), 2]}, "e": "text", "f": True}
    assert results.write_record("demo", record, fast=True, directory=tmp_path) is None
    assert not list(tmp_path.iterdir())
    path = results.write_record("demo", record, fast=False, directory=tmp_path)
    assert path == tmp_path / "demo.json"
    assert results.load_record("demo", directory=tmp_path) == {"a": 0.25, "b": {"c": 3, "d": [0.333333, 2]},
                                                               "e": "text", "f": True}
    assert results.format_record(record).splitlines() == ["a: 0.25", "b.c: 3", "b.d: [0.333333, 2]", "e: text",
                                                          "f: True"]


@pytest.mark.parametrize("name, record, error, match", [
    ("demo.json", {"a": 1}, ValueError, "notebook's name"),
    ("", {"a": 1}, ValueError, "notebook's name"),
    ("demo", {}, TypeError, "non-empty dict"),
    ("demo", {"a": float("nan")}, ValueError, "finite"),
    ("demo", {"a": object()}, TypeError, "numbers, strings"),
])
def test_bad_records_are_refused(tmp_path, name, record, error, match):
    with pytest.raises(error, match=match):
        results.write_record(name, record, fast=False, directory=tmp_path)


def test_a_missing_record_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="VAEFACE_FAST=0"):
        results.load_record("99_nothing", directory=tmp_path)


# --------------------------------------------------------------------------- the committed records


def _stored_output_text(name):
    notebook = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
    chunks = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            chunks.append("".join(output.get("text", "")))
            chunks.append("".join(output.get("data", {}).get("text/plain", "")))
    return "\n".join(chunks)


@pytest.mark.parametrize("name", RECORDED)
def test_each_record_is_what_its_notebook_printed(name):
    """Every line of the record appears in the stored outputs: record and outputs come from one run."""
    record = load(name)
    printed = _stored_output_text(name)
    missing = [line for line in results.format_record(record).splitlines() if line not in printed]
    assert not missing, f"{name}.json lines not in the notebook's stored outputs: {missing[:5]}"


def test_record_03_keys_and_conclusions():
    r = load("03_training_on_faces")
    for key in ("vae_test_elbo_nats", "vae_test_iwae_nats", "iwae_k", "ppca_test_nats", "ppca_latent_dim",
                "active_units", "amortisation_gap_nats"):
        assert key in r, key
    # "we could not show a VAE matching the validated PPCA": the best bound is below, face by face
    assert r["vae_minus_ppca_nats"] < 0 and r["vae_minus_ppca_interval"][1] < 0
    assert np.isclose(r["vae_test_iwae_nats"] - r["ppca_test_nats"], r["vae_minus_ppca_nats"], atol=0.01)
    # the untuned PPCA was a handicapped baseline: the course VAE beat it, the validated PPCA beats the VAE
    assert r["course_vae_test_iwae_200_nats"] > r["ppca_untuned_test_200_nats"]
    assert r["ppca_test_200_nats"] > r["course_vae_test_iwae_200_nats"]
    # the bound is above the ELBO; the amortisation gap is positive
    assert r["vae_test_iwae_nats"] >= r["vae_test_elbo_nats"] - 1 and r["amortisation_gap_nats"] > 0
    # settings chosen on validation beat the course model there
    variants = r["variants_validation_iwae_nats"]
    assert variants[r["vae_setting"]] == max(variants.values()) > variants["course model"]
    # PPCA at the same latent size reconstructs test faces at least as closely as the VAE
    assert r["reconstruction_mse"]["ppca_32"] < r["reconstruction_mse"]["vae"]
    assert 0 < r["active_units"] <= r["latent_dim"] and r["ppca_latent_dim"] >= 100


def test_record_04_keys_and_conclusions():
    r = load("04_latent_face_recognition")
    methods = {"pixels", "eigenfaces", "fisherfaces", "vae_mean", "vae_sampled", "vae_mean_lda"}
    assert set(r["identification"]) == methods
    for m, v in r["identification"].items():
        assert {"mean", "std", "classifier"} <= set(v) and 0 < v["mean"] <= 1, m
        assert np.isclose(np.mean(v["accuracies"]), v["mean"], atol=1e-5), m
    assert set(r["verification"]) == methods and all({"auc", "eer"} <= set(v) for v in r["verification"].values())
    acc = {m: v["mean"] for m, v in r["identification"].items()}
    paired = r["paired_differences"]
    # "nothing here supports the claim that VAE features raise recognition accuracy"
    assert not any(paired[f"vae_mean - {b}"]["low"] > 0 for b in ("pixels", "eigenfaces", "fisherfaces"))
    assert acc["vae_mean"] < acc["eigenfaces"] and acc["vae_mean"] < acc["fisherfaces"]  # point estimates below
    # "a supervised step on top helps": better on every split
    assert acc["vae_mean_lda"] > acc["vae_mean"] and paired["vae_mean_lda - vae_mean"]["wins"] == r["splits"]
    # the paired means are the differences of the means; corrected intervals contain the plain ones
    for key, d in paired.items():
        a, b = key.split(" - ")
        assert np.isclose(d["mean"], acc[a] - acc[b], atol=1e-5) and d["low"] <= d["mean"] <= d["high"], key
        assert d["low"] <= d["plain_low"] <= d["plain_high"] <= d["high"] and 0 <= d["holm_p"] <= 1, key
    # the training budget lies inside the grid searched
    assert r["vae_epochs"] < r["max_epochs_tried"]
    assert r["splits"] == 10


def test_record_05_keys_and_conclusions():
    r = load("05_limitations")
    # privacy: the VAE leaks which faces it was trained on, and so does PCA at its validated size
    assert r["membership_auc"] > 0.9 and r["membership_auc_pca_validated"] > r["membership_auc_pca"]
    # blur: decoded prior codes are smoother than PCA's, and smoother than decoded aggregate-posterior codes
    assert r["blur_gradient_energy_vae_prior_means"] < r["blur_gradient_energy_pca_prior_means"]
    assert r["blur_gradient_energy_vae_prior_means"] < r["blur_gradient_energy_vae_aggregate_posterior_means"]
    # collapse: units go inactive only at the largest beta
    assert r["collapse_active_units_largest_beta"] < r["collapse_active_units_beta_1"] / 2
    # robustness: the VAE loses more under perturbation, with people-level bootstrap intervals below 0
    for baseline in ("eigenfaces", "fisherfaces"):
        assert r["perturbed_accuracy_vae"] < r[f"perturbed_accuracy_{baseline}"]
        low, mean, high = (r[f"perturbed_difference_vae_minus_{baseline}{end}"] for end in ("_low", "", "_high"))
        assert low <= mean <= high < 0
    # small data: the training faces' ELBO far above the test faces'
    assert r["train_minus_test_elbo_nats"] > 100
    # the ELBO ranks faces as the tighter bound does; its error is in the value
    assert r["elbo_iwae_rank_correlation"] > 0.9 and r["elbo_iwae_gap_nats"] > 10
    # face repair: the VAE beats the mean face, and is about as good as PPCA (within a fifth of that gain)
    assert r["repair_difference_vae_minus_mean_face_high"] < 0
    assert abs(r["repair_difference_vae_minus_ppca"]) < 0.2 * abs(r["repair_difference_vae_minus_mean_face"])
    assert r["repair_hole_rmse_ppca"] < r["repair_hole_rmse_mean_face"]
    # augmentation: helps the VAE on perturbed queries (interval above 0), helps fisherfaces more
    assert r["augmentation_vae_perturbed_difference_low"] > 0
    assert r["augmentation_fisherfaces_perturbed_difference"] > r["augmentation_vae_perturbed_difference"]
    # remedies at the largest beta: free bits keep every unit, warm-up keeps no more than no remedy
    assert r["remedy_free_bits_active"] > r["remedy_none_active"] >= r["remedy_warm_up_active"]


def test_record_06_keys_and_conclusions():
    r = load("06_identity_codes")
    shared = {"pixels", "eigenfaces", "fisherfaces", "vae_mean", "vae_mean_lda"}
    new = {"vae_conditional_prior", "vae_supervised", "vae_split_code", "cnn"}
    assert set(r["identification"]) == shared | new == set(r["new_people"])
    for m, row in r["identification"].items():
        assert {"mean", "std", "classifier"} <= set(row) and len(row["accuracies"]) == r["splits"] == 10, m
        assert np.isclose(np.mean(row["accuracies"]), row["mean"], atol=1e-6), m
    for m, row in r["new_people"].items():
        assert 0.5 < row["auc"] <= 1 and 0 <= row["eer"] < 0.5, m
        assert np.isclose(np.mean(r["new_people_eer_per_split"][m]), row["eer"], atol=1e-6), m
    accuracy = {m: row["mean"] for m, row in r["identification"].items()}
    vaes = [m for m in accuracy if m.startswith("vae_")]
    # "falls short of it": no VAE-based model reaches fisherfaces, which have the highest mean of all;
    # the CNN is "not established to differ" from fisherfaces (its corrected interval contains 0)
    assert max(accuracy[m] for m in vaes) < accuracy["fisherfaces"] == max(accuracy.values())
    assert r["minus_fisherfaces"]["cnn"]["low"] < 0 < r["minus_fisherfaces"]["cnn"]["high"]
    # the plain code and the conditional prior are behind fisherfaces (per-comparison corrected interval below 0)
    for m in ("vae_mean", "vae_conditional_prior"):
        assert r["minus_fisherfaces"][m]["high"] < 0, m
    # what the labels gain: the head no more than LDA on the plain code, the prior alone the least
    gain = r["gain_over_vae_mean"]
    assert gain["vae_supervised"]["mean"] <= gain["vae_mean_lda"]["mean"] + 0.01
    assert gain["vae_conditional_prior"]["mean"] < min(gain[m]["mean"] for m in gain if m != "vae_conditional_prior")
    assert gain["vae_supervised"]["wins"] == gain["vae_mean_lda"]["wins"] == 10
    for d in gain.values():
        assert d["low"] <= d["mean"] <= d["high"] and 0 <= d["holm_p"] <= 1
    # held-out ELBO at each model's budget, and the comparison at equal epochs the prose relies on
    for m, d in r["heldout_elbo_minus_plain"].items():
        assert np.isclose(np.mean(r["heldout_elbo_per_split"][m]) - np.mean(r["heldout_elbo_per_split"]["vae_mean"]),
                          d["mean"], atol=0.01), m
    assert r["validation_elbo_minus_plain_at_equal_epochs"]["vae_split_code"] < 0  # the split code pays a price
    # the split code: the nuisance part decides most of the decoded face, and identity leaks into it
    assert r["split_code_nuisance_over_identity_change"] > 2 and r["split_code_part_accuracy"]["nuisance part"] > 0.5
    # new people: the best VAE does not beat fisherfaces' equal error rate
    best_new = min(vaes, key=lambda m: r["new_people"][m]["eer"])
    assert r["new_people"][best_new]["eer"] > r["new_people"]["fisherfaces"]["eer"]
    assert r["new_people_fisherfaces_eer_minus"][best_new]["mean"] < 0
    # every budget chosen lies inside the grid searched
    budget, top = r["settings"]["budget_epochs"], r["max_epochs_tried"]
    assert all(1 <= e < top for m, e in budget.items() if m != "cnn")  # the CNN's may reach its grid's end: said so
    assert r["person_splits"] == 3
