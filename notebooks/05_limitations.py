# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Measure the limits of a VAE for faces
#
# **Goal:** take each weakness of the course's VAE as a face model and a face
# recogniser (blur, posterior collapse, a loose bound, too little data,
# nuisance factors, privacy, scope), state it as a claim, and back it with an
# experiment, a number and a figure.
#
# **You will learn**
# - how to measure blur (gradient energy, high-frequency power, SSIM) and
#   why a Gaussian decoder produces it;
# - what posterior collapse is, how to see it (active units, KL per
#   dimension) and how $\beta$ and the latent size move it;
# - how far the ELBO is below the IWAE bound on new faces;
# - how to read overfitting from training and validation curves;
# - how recognition from VAE codes, eigenfaces and fisherfaces degrades when
#   the query is shifted, rotated, lit from one side or partly covered;
# - what a membership-inference test is, and what a trained VAE leaks about
#   the faces it was trained on;
# - what 40 people photographed in one lab cannot tell us.
#
# **Prerequisites:** notebooks 00 to 04. The course model is notebook 03's;
# if it is not in the cache yet, this notebook trains it first.
#
# **Run time:** about 6 minutes on a two-core laptop CPU in the full mode
# the first time (nine short trainings for the sweeps take most of it),
# about a minute once they are in the cache; about a minute in the fast
# mode.

# %% [markdown] tags=["launch", "remove-cell"]
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vaeface/vaeface/blob/main/notebooks/05_limitations.ipynb)
# [![Launch Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/vaeface/vaeface/main?urlpath=lab/tree/notebooks/05_limitations.ipynb)
#
# Run this notebook in the cloud: **Colab** already has TensorFlow (the next cell
# installs only the course's helper package); **Binder** builds the course's own
# environment (the first start takes a few minutes). Anywhere but Colab the next
# cell does nothing.

# %% tags=["launch", "remove-cell"]
# On Colab only: install the course's helper package. Its dependencies are version
# ranges without TensorFlow, so Colab's TensorFlow and Keras stay as they are.
# Anywhere else this cell does nothing.
import subprocess
import sys

if "google.colab" in sys.modules:
    requirement = "vaeface-utils @ git+https://github.com/vaeface/vaeface@main"
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", requirement])

# %% [markdown]
# ## Parameters
#
# The fast mode (`VAEFACE_FAST=1`, used by the tests) loads the fast course
# model, sweeps fewer settings with shorter trainings and draws fewer
# importance samples. Its figures show barely trained models; the stored
# outputs come from the full mode. Everything that does not involve a
# trained VAE (the baselines, the perturbations, the data) is the same in
# both modes.

# %% tags=["parameters"]
from vaeface_utils import config

FAST = config.fast_mode()  # VAEFACE_FAST=1 in the tests and CI
SEED = 0  # one seed for everything random in this notebook
N_TRAIN, N_VAL, SPLIT_SEED = 5, 1, 0  # the course split: 160 training, 40 validation, 200 test faces
SWEEP_EPOCHS = 20 if FAST else 60  # epochs of each model in the beta and latent-size sweeps
BETAS = (1.0, 1024.0) if FAST else (0.25, 1.0, 4.0, 16.0, 64.0, 256.0, 1024.0)  # weights of the KL term to sweep
LATENT_DIMS = (32, 64) if FAST else (8, 32, 64)  # latent sizes to sweep (at beta = 1)
K_MAX = 8 if FAST else 64  # importance samples per test face for the IWAE bound
ACTIVE_THRESHOLD = 0.01  # a latent dimension is active if Var_x(E_q[z_j|x]) exceeds this
N_EIGENFACES = 50  # eigenfaces baseline: principal components kept
FISHER_PCA = 60  # fisherfaces baseline: PCA dimensions before LDA
STRENGTHS = {  # perturbations of the query faces, from none to strong
    "shift": (0, 2, 4, 6, 8),  # pixels to the right
    "rotation": (0, 5, 10, 15, 20),  # degrees, anticlockwise
    "illumination": (0.0, 0.2, 0.4, 0.6, 0.8),  # gain from 1 - s (left edge) to 1 + s (right edge)
    "occlusion": (0, 8, 16, 24, 32),  # side of a black square at a random place, pixels
}
config.seed_everything(SEED)

# %% [markdown]
# ## Set up
#
# The faces and the course split of notebook 00, and the course VAE of
# notebook 03, from the cache (`load_or_train_vae` trains it only if the
# cache does not hold it). The **gallery** for recognition is each person's
# five training images (the 160 training and 40 validation faces); the
# **queries** are the 200 test faces, five of each of the 40 people.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

keras = config.import_keras()
import tensorflow as tf  # noqa: E402

tf.get_logger().setLevel("ERROR")  # no "tf.function retracing" notes: this notebook encodes with a dozen models

from vaeface_utils import elbo, training  # noqa: E402
from vaeface_utils import limitations as lim  # noqa: E402
from vaeface_utils.data import load_faces, split_per_identity  # noqa: E402
from vaeface_utils.plotting import curves, image_grid  # noqa: E402
from vaeface_utils.recognition import Eigenfaces, Fisherfaces, identification_accuracy  # noqa: E402

faces = load_faces(size=(64, 64))
split = split_per_identity(faces.identity, n_train=N_TRAIN, n_val=N_VAL, seed=SPLIT_SEED)
x_train, x_val, x_test = (faces.images[idx] for idx in (split.train, split.val, split.test))
id_test = faces.identity[split.test]
gallery = np.concatenate([split.train, split.val])
x_gallery, id_gallery = faces.images[gallery], faces.identity[gallery]
N_DIMS = int(np.prod(x_test.shape[1:]))  # D, pixels per image
first_test = np.array([np.flatnonzero(id_test == p)[0] for p in range(40)])  # first test face of each person
print(split)
print(f"gallery: {len(x_gallery)} faces ({N_TRAIN} of each person); queries: {len(x_test)} test faces")

# %% tags=["nbval-ignore-output"]
settings = training.course_settings()
start = time.perf_counter()
course = training.load_or_train_vae(settings, faces=faces, split=split)
vae, history = course.vae, course.history
print(f"course VAE (latent_dim {vae.latent_dim}, beta {vae.beta:g}): "
      f"{'loaded from the cache' if course.from_cache else 'trained now'} in {time.perf_counter() - start:.0f} s; "
      f"{len(history['loss'])} epochs, best validation loss at epoch {int(np.argmin(history['val_loss'])) + 1}")

# %%
assert vae.latent_dim == settings.latent_dim and vae.likelihood == "gaussian" and vae.beta == 1.0

# %% [markdown]
# ## 1. Blur: reconstructions and samples are smooth
#
# **Claim.** The VAE's reconstructions and samples are blurred: they lack
# the fine detail of real faces (hair, eyelids, the edges of glasses). The
# reason is the decoder: under a Gaussian $p(x \mid z)$ the best image to
# output for a code is the *average* of the faces that code could stand
# for, and averages are smooth. The same holds for PCA, whose reconstruction
# is a projection onto 32 smooth eigenfaces.
#
# **Experiment.** Reconstruct the 200 test faces with the VAE (the decoded
# posterior mean) and with PCA at the same latent size (32 components fitted
# on the 160 training faces), draw 200 samples from each model, and measure:
#
# - **gradient energy**, the mean squared difference between neighbouring
#   pixels (`lim.gradient_energy`): sharp edges raise it, blur lowers it;
# - **high-frequency fraction**, the share of an image's contrast at spatial
#   frequencies above 0.25 cycles per pixel, i.e. detail finer than 4 pixels
#   (`lim.high_frequency_fraction`);
# - **SSIM**, the structural similarity of each reconstruction to its
#   original (`lim.ssim`, scikit-image's; 1 is identical).
#
# First the measure, written out once for one face and checked against the
# package's version:

# %%
face = x_test[0, :, :, 0]
by_hand = np.mean(np.diff(face, axis=1) ** 2) + np.mean(np.diff(face, axis=0) ** 2)
assert np.isclose(by_hand, lim.gradient_energy(x_test[:1])[0])
print(f"gradient energy of the first test face: {by_hand:.5f} (grey levels per pixel, squared)")

# %% [markdown]
# PCA and the real faces do not depend on the VAE's training, so their
# numbers are the same in every run. PCA's samples decode codes drawn from
# $\mathcal N(0, \mathrm{diag}(\lambda))$, the prior of probabilistic PCA
# without its pixel noise (the mean image, like the VAE's samples).

# %%
LATENT = settings.latent_dim
pca = Eigenfaces(n_components=LATENT).fit(x_train).pca_
flat_test = x_test.reshape(len(x_test), -1)
pca_reconstructions = np.clip(pca.inverse_transform(pca.transform(flat_test)), 0, 1).reshape(x_test.shape)
pca_codes = np.random.default_rng(SEED).standard_normal((200, LATENT)) * np.sqrt(pca.explained_variance_)
pca_samples = np.clip(pca.inverse_transform(pca_codes), 0, 1).reshape((200,) + x_test.shape[1:])


def blur_row(images, originals=None):
    """Mean gradient energy, high-frequency fraction and (if originals are given) SSIM and RMSE."""
    row = [lim.gradient_energy(images).mean(), lim.high_frequency_fraction(images).mean()]
    if originals is not None:
        row += [lim.ssim(images, originals).mean(), np.sqrt(np.mean((images - originals) ** 2))]
    return row


def print_blur_rows(rows, reference):
    for label, row in rows.items():
        cells = [f"{row[0]:.5f}", f"{row[0] / reference:6.0%}", f"{row[1]:.4f}"]
        cells += [f"{row[2]:.3f}", f"{row[3]:.4f}"] if len(row) > 2 else ["-", "-"]
        print(f"{label:<34}" + "".join(f"{c:>12}" for c in cells))


blur = {"test faces (originals)": blur_row(x_test),
        "PCA reconstructions (32 dims)": blur_row(pca_reconstructions, x_test),
        "PCA samples (32 dims)": blur_row(pca_samples)}
reference = blur["test faces (originals)"][0]
print(f"{'200 images each':<34}" + "".join(f"{h:>12}" for h in ("grad. energy", "of original", "HF fraction",
                                                                    "SSIM", "RMSE")))
print_blur_rows(blur, reference)

# %% [markdown]
# Now the VAE, with the same measures:

# %% tags=["nbval-ignore-output"]
vae_reconstructions = vae.reconstruct(x_test)
vae_samples = vae.generate(200, seed=SEED)
blur["VAE reconstructions (32 dims)"] = blur_row(vae_reconstructions, x_test)
blur["VAE samples (32 dims)"] = blur_row(vae_samples)
print_blur_rows({k: blur[k] for k in ("VAE reconstructions (32 dims)", "VAE samples (32 dims)")}, reference)
sharpness_kept = blur["VAE reconstructions (32 dims)"][0] / reference
print(f"\nVAE reconstructions keep {sharpness_kept:.0%} of the test faces' gradient energy, "
      f"PCA's {blur['PCA reconstructions (32 dims)'][0] / reference:.0%}; "
      f"SSIM to the originals: VAE {blur['VAE reconstructions (32 dims)'][2]:.3f}, "
      f"PCA {blur['PCA reconstructions (32 dims)'][2]:.3f}")

# %%
originals = blur["test faces (originals)"]
for label in ("VAE reconstructions (32 dims)", "VAE samples (32 dims)", "PCA reconstructions (32 dims)"):
    assert blur[label][0] < 0.5 * originals[0], label  # less than half the gradient energy of real faces
    assert blur[label][1] < 0.5 * originals[1], label  # less than half their share of fine detail
assert blur["VAE reconstructions (32 dims)"][2] < 1  # not the original
assert FAST or abs(blur["VAE reconstructions (32 dims)"][2] - blur["PCA reconstructions (32 dims)"][2]) < 0.1

# %% [markdown]
# The same in pictures: real test faces of people s1 to s8, their VAE and
# PCA reconstructions, and samples from each model.

# %% tags=["nbval-ignore-output"]
show = first_test[:8]
rows = [(x_test[show], "Test faces of s1 to s8, first test image of each (test split)"),
        (vae_reconstructions[show], "their VAE reconstructions (decoded posterior means)"),
        (pca_reconstructions[show], "their PCA reconstructions (32 components, fitted on the 160 training faces)"),
        (vae_samples[:8], "VAE samples: codes from the prior N(0, I), decoded (no real person)"),
        (pca_samples[:8], "PCA samples: codes from N(0, diag(eigenvalues)), decoded (no real person)")]
fig, axes = plt.subplots(len(rows), 1, figsize=(8, 7.4))
for ax, (images, title) in zip(axes, rows):
    image_grid(images, ax=ax, ncols=8, title=title)
plt.tight_layout()
plt.show()

# %% [markdown]
# Where the detail goes: the power of each spatial frequency, averaged over
# the 200 test faces (or samples). Blur is missing power at high
# frequencies; a log scale shows how much.

# %% tags=["nbval-ignore-output"]
fig, ax = plt.subplots(figsize=(7, 4))
for images, label, style in [(x_test, "test faces (originals)", "k-"),
                             (vae_reconstructions, "VAE reconstructions", "C0-"),
                             (pca_reconstructions, "PCA reconstructions", "C1-"),
                             (vae_samples, "VAE samples", "C0:"), (pca_samples, "PCA samples", "C1:")]:
    frequency, power = lim.radial_power_spectrum(images, n_bins=16)
    ax.semilogy(frequency, power, style, label=label)
ax.axvline(0.25, color="0.5", linewidth=0.8)
ax.set_xlabel("spatial frequency (cycles per pixel; 0.5 = alternate pixels)")
ax.set_ylabel("mean power (grey levels squared)")
ax.set_title("Power spectrum, 200 test faces of all 40 people (test split) and 200 samples")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# What to notice (full mode): both models keep the coarse structure (low
# frequencies) and lose most of the fine detail. The non-linear VAE is no
# sharper than the linear PCA at the same latent size: its reconstructions
# keep about a third of the real faces' gradient energy, as PCA's do, with a
# similar SSIM (about 0.6), and even less of the finest detail. Its samples
# are smoother still, smoother than PCA's: a code drawn from the prior is
# more uncertain than the code of a real face, and the decoder answers
# uncertainty with an average. Blur is not a bug of this code: it is what a
# Gaussian (squared-error) decoder optimises. Sharper decoders need other
# likelihoods or adversarial and perceptual losses, which give up the exact
# ELBO.

# %% [markdown]
# ## 2. Posterior collapse: latent dimensions the model does not use
#
# **Claim.** A VAE pays a KL price for every nat of information its code
# carries about an image, so it uses only as many latent dimensions as it
# can afford; in the others $q(z_j \mid x) \approx p(z_j)$ for every face,
# and the dimension carries nothing (it has *collapsed*). Raising the KL's
# weight $\beta$ makes information more expensive: less KL, fewer **active
# units**, worse reconstructions, and in the end codes that say nothing about
# who is who.
#
# **Experiment.** Short trainings (`SWEEP_EPOCHS` epochs each, the same
# seed, data and split) with $\beta$ in `BETAS`, cached like the course
# model (`load_or_train_vae` with `settings.replace(beta=...)`; the
# $\beta = 4$ run is the one of notebook 03's exercise). For each, on the
# 200 test faces: the root mean squared error of the reconstructions, the KL
# per face, the active units $\mathrm{Var}_x(\mathbb E_q[z_j \mid x]) > 0.01$,
# and the identification accuracy of 1-nearest-neighbour (gallery: the 200
# training and validation faces; queries: the 200 test faces), once on the
# posterior means and once on codes *sampled* from each posterior, one
# $z \sim q(z \mid x)$ per face: what the code as a distribution tells.

# %%
def sweep_model(**changes):
    """A model of the sweeps: the course settings with `changes`, SWEEP_EPOCHS epochs, no early stop."""
    return training.load_or_train_vae(settings.replace(epochs=SWEEP_EPOCHS, patience=SWEEP_EPOCHS, **changes),
                                      faces=faces, split=split)


def measure(model):
    """What the sweeps compare, on the 200 test faces; 1-NN accuracy on posterior means and on sampled codes."""
    z_mean, z_log_var = model.posterior(x_test)
    gallery_mean, gallery_log_var = model.posterior(x_gallery)
    rng = np.random.default_rng(SEED)
    sample = lambda mean, log_var: mean + np.exp(0.5 * log_var) * rng.standard_normal(mean.shape)  # noqa: E731
    return {"rmse": float(np.sqrt(np.mean((model.decode(z_mean) - x_test) ** 2))),
            "kl": float(elbo.kl_diag_gaussian_standard(z_mean, z_log_var).mean()),
            "elbo": float(model.elbo_terms(x_test, seed=SEED)["elbo"].mean()),
            "active": lim.active_units(z_mean, ACTIVE_THRESHOLD),
            "kl_per_dim": lim.kl_per_dimension(z_mean, z_log_var),
            "accuracy": identification_accuracy(gallery_mean, id_gallery, z_mean, id_test),
            "accuracy_sampled": identification_accuracy(sample(gallery_mean, gallery_log_var), id_gallery,
                                                        sample(z_mean, z_log_var), id_test)}


def print_sweep(name, results, units_of):
    print(f"{name:>10} {'RMSE':>8} {'KL (nats)':>10} {'ELBO (nats)':>12} {'active':>9} {'acc. means':>11} "
          f"{'acc. samples':>13}")
    for key, m in results.items():
        print(f"{key:10g} {m['rmse']:8.4f} {m['kl']:10.2f} {m['elbo']:12.1f} {m['active']:5d}/{units_of(key):<3d} "
              f"{m['accuracy']:11.1%} {m['accuracy_sampled']:13.1%}")


# %% tags=["nbval-ignore-output"]
start = time.perf_counter()
by_beta, sources = {}, []
for beta in BETAS:
    result = sweep_model(beta=beta)
    by_beta[beta] = measure(result.vae)
    sources.append("cache" if result.from_cache else "trained")
print(f"{len(BETAS)} models ({', '.join(sources)}), {time.perf_counter() - start:.0f} s")
print_sweep("beta", by_beta, lambda beta: LATENT)

# %%
betas = sorted(by_beta)
kls, active, rmses = ([by_beta[b][key] for b in betas] for key in ("kl", "active", "rmse"))
assert all(k2 < k1 for k1, k2 in zip(kls, kls[1:]))  # more weight on the KL, less KL
assert all(a2 <= a1 + 2 for a1, a2 in zip(active, active[1:]))  # active units non-increasing (within 2)
assert active[-1] < active[0] and rmses[-1] > rmses[0]  # the largest beta: fewer units, worse reconstructions
assert all(np.isclose(by_beta[b]["kl_per_dim"].sum(), by_beta[b]["kl"]) for b in betas)  # KL = sum over dims
assert all(by_beta[b]["accuracy"] > 1 / 40 for b in betas)  # the means: better than guessing among 40 people
collapsed = by_beta[betas[-1]]
assert collapsed["kl"] < 1 and collapsed["accuracy_sampled"] < 0.25  # collapsed: samples say ~nothing of who
assert collapsed["accuracy_sampled"] < collapsed["accuracy"] - 0.3

# %% tags=["nbval-ignore-output"]
fig, axes = plt.subplots(1, 4, figsize=(15, 3.4))
panels = [("rmse", "reconstruction RMSE (grey levels)"), ("kl", "KL (nats per face, log scale)"),
          ("active", f"active units (of {LATENT})"), ("accuracy", "1-NN identification accuracy (%)")]
for ax, (key, label) in zip(axes, panels):
    values = [by_beta[b][key] * (100 if key == "accuracy" else 1) for b in betas]
    ax.plot(betas, values, "o-", label="posterior means" if key == "accuracy" else None)
    if key == "accuracy":
        ax.plot(betas, [100 * by_beta[b]["accuracy_sampled"] for b in betas], "s--", label="sampled codes")
        ax.axhline(100 / 40, color="0.5", linewidth=0.8, linestyle=":", label="chance (1 in 40)")
        ax.legend(fontsize=8)
    if key == "kl":
        ax.set_yscale("log")
    if key == "active":
        ax.set_ylim(0, LATENT + 1)
    ax.set_xscale("log", base=2)
    ax.set_xticks(betas, [f"{b:g}" for b in betas])
    ax.set_xlabel("beta (weight of the KL, log scale)")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
axes[0].set_title("Reconstruction")
axes[1].set_title("Information in the code")
axes[2].set_title("Active latent dimensions")
axes[3].set_title("Recognition, 5/5 split")
fig.suptitle(f"Beta sweep, {SWEEP_EPOCHS} epochs each, measured on the 200 test faces of all 40 people (test split)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Where the KL goes: each model's KL per latent dimension, sorted. A
# collapsed dimension sits at the bottom (near 0 nats); a larger $\beta$
# collapses more of them.

# %% tags=["nbval-ignore-output"]
fig, ax = plt.subplots(figsize=(8, 3.8))
for beta in betas:
    ax.plot(np.arange(1, LATENT + 1), np.sort(by_beta[beta]["kl_per_dim"])[::-1], "o-", markersize=3,
            label=f"beta = {beta:g} ({by_beta[beta]['active']} active)")
ax.set_yscale("log")
ax.set_xlabel("latent dimension, sorted by its KL (rank)")
ax.set_ylabel("KL per dimension (nats per face, log scale)")
ax.set_title(f"KL(q(z_j|x) || N(0, 1)) per dimension, beta sweep ({SWEEP_EPOCHS} epochs each)\n"
             "mean over the 200 test faces (test split, all 40 people)")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# What to notice (full mode):
#
# - The KL falls by three orders of magnitude, from about 140 nats per face
#   at $\beta = 0.25$ to about 0.1 at $\beta = 1024$, and the
#   reconstructions get worse.
# - Yet all 32 dimensions stay active up to $\beta = 64$. With a Gaussian
#   decoder whose pixel variance is learned (and small), the reconstruction
#   term is worth thousands of nats per face, so a nat of KL is cheap and
#   the model keeps every dimension. Only at $\beta$ in the hundreds do
#   dimensions collapse; at $\beta = 1024$ only 8 of 32 are (barely) above
#   the threshold. The course model ($\beta = 1$) has no collapsed
#   dimension, so collapse is not why it recognises people no better than
#   eigenfaces.
# - Recognition from the posterior means is best near $\beta = 1$ and
#   falls slowly. Codes *sampled* from the posterior tell a different story:
#   from $\beta = 16$ on, the posterior's spread swamps the differences
#   between people, and at the largest $\beta$ samples identify people at
#   chance level, because $q(z \mid x)$ is the prior for every face. The
#   means still separate people because they differ from face to face by a
#   tiny fraction of the prior's spread, which a nearest-neighbour rule does
#   not notice. So the active-unit count, and a code measured by its means
#   alone, can both overstate what the model encodes.

# %% [markdown]
# ### Is a bigger latent space better?
#
# The same short training at $\beta = 1$ with `LATENT_DIMS` latent
# dimensions (the 32-dimensional one is the $\beta = 1$ model above):

# %% tags=["nbval-ignore-output"]
by_latent = {latent_dim: measure(sweep_model(latent_dim=latent_dim).vae) for latent_dim in LATENT_DIMS}
print_sweep("latent_dim", by_latent, lambda latent_dim: latent_dim)

# %%
largest, smaller = max(LATENT_DIMS), sorted(LATENT_DIMS)[-2]
assert all(by_latent[d]["active"] <= d for d in LATENT_DIMS)
assert all(by_latent[d]["accuracy"] > 1 / 40 for d in LATENT_DIMS)
# Full mode: twice the dimensions buy little, in ELBO (under 2 %) and in recognition (under 2 points).
assert FAST or by_latent[largest]["elbo"] < by_latent[smaller]["elbo"] + 0.02 * abs(by_latent[smaller]["elbo"])
assert FAST or by_latent[largest]["accuracy"] < by_latent[smaller]["accuracy"] + 0.02

# %% [markdown]
# What to notice (full mode): 8 dimensions are too few (worse reconstructions,
# a lower ELBO, worse recognition), but 64 are barely better than 32: the
# ELBO moves by less than two percent, the accuracy by less than two points.
# How much exactly varies from machine to machine: on one processor core
# instead of two, floating-point sums run in another order and the same
# training ends somewhere slightly different. By the variance criterion all 64
# dimensions are "active", yet each carries less KL: the model spreads about
# the same information over more coordinates. How much a VAE *encodes* is
# set by the data, the decoder and $\beta$, not by `latent_dim`; the course's
# 32 was chosen on the validation faces in notebook 03.

# %% [markdown]
# ## 3. The ELBO is only a bound
#
# **Claim.** The ELBO is not the log-likelihood. The gap between them is
# $\mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x))$, the error of the encoder's
# approximate posterior, and on faces the model never saw it is not small.
#
# **Experiment.** The importance-weighted bound $\mathcal L_K$ (notebooks 01
# and 03) with $K$ samples per face, on the 200 test faces; $\mathcal L_1$
# is the ELBO. From `K_MAX` log-weights per face we estimate $\mathcal L_K$
# for smaller $K$ by averaging `elbo.iwae_bound` over disjoint groups of
# $K$. Since $\mathbb E[\mathcal L_K] \le \log p(x)$, the gap
# $\mathcal L_K - \mathcal L_1$ estimates a lower bound on how far the ELBO is
# below $\log p(x)$.

# %% tags=["nbval-ignore-output"]
start = time.perf_counter()
log_w = vae.log_importance_weights(x_test, K_MAX, seed=SEED)  # (K_MAX, 200)
ks = [k for k in (1, 2, 4, 8, 16, 32, 64, 128) if k <= K_MAX]
bound = {k: np.mean([elbo.iwae_bound(group) for group in log_w.reshape(K_MAX // k, k, -1)], axis=0) for k in ks}
gap = bound[K_MAX] - bound[1]  # per test face, nats
for k in ks:
    print(f"L_{k:<3d} {bound[k].mean():9.1f} nats per face  ({elbo.nats_to_bits_per_dim(-bound[k].mean(), N_DIMS):+.4f} "
          "bits/dim of the cost -log p(x))")
print(f"\nELBO-IWAE gap with K = {K_MAX}: {gap.mean():.1f} nats per face on average "
      f"(median {np.median(gap):.1f}, largest {gap.max():.1f}); "
      f"{gap.mean() / (N_DIMS * np.log(2)):.4f} bits/dim; {time.perf_counter() - start:.0f} s")

# %%
assert np.allclose(bound[1], log_w.mean(axis=0))  # L_1 averaged over the samples: the ELBO estimate
assert bound[K_MAX].mean() >= bound[1].mean()  # IWAE >= ELBO
assert all(bound[k2].mean() >= bound[k1].mean() - 1.0 for k1, k2 in zip(ks, ks[1:]))  # non-decreasing in K (1 nat MC)

# %% tags=["nbval-ignore-output"]
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
axes[0].plot(ks, [bound[k].mean() for k in ks], "o-")
axes[0].set_xscale("log", base=2)
axes[0].set_xticks(ks, [str(k) for k in ks])
axes[0].set_xlabel("importance samples K per face (log scale)")
axes[0].set_ylabel("L_K, mean (nats per face)")
axes[0].set_title("The IWAE bound rises with K: the ELBO (K = 1) is loose\n200 test faces, all 40 people (test split)")
axes[0].grid(alpha=0.3)
axes[1].hist(gap, bins=30, color="C0")
axes[1].set_xlabel(f"L_{K_MAX} - ELBO (nats per face)")
axes[1].set_ylabel("number of test faces")
axes[1].set_title(f"Gap per face, K = {K_MAX}\n200 test faces, all 40 people (test split)")
plt.tight_layout()
plt.show()

# %% [markdown]
# What to notice (full mode): tens of nats per face separate the ELBO from
# even a modest importance-weighted bound, and the curve has not levelled off
# at $K = 64$: the true $\log p(x)$ is higher still. Some faces have a much
# larger gap than others, so ranking faces (or models) by the ELBO is not
# ranking them by likelihood. Anything that treats the ELBO as $\log p(x)$,
# such as an "anomaly score" or the membership test of section 5, inherits
# this error.

# %% [markdown]
# ## 4. Small data: 160 faces are memorised
#
# **Claim.** 160 training faces are very few for a model with nearly a
# million weights. The VAE keeps improving on its training faces long
# after it has stopped improving on new ones: it memorises.
#
# **Experiment.** The course model's training history (notebook 03):
# negative ELBO per face on the training faces (averaged during each epoch)
# and on the 40 validation faces, epoch by epoch; then the ELBO of the final
# model (the weights of its best validation epoch) on the three splits.

# %% tags=["nbval-ignore-output"]
n_weights = vae.count_params()
best_epoch = int(np.argmin(history["val_loss"])) + 1
train_gap = np.subtract(history["val_loss"], history["loss"])  # held-out minus training loss, nats per face
elbo_by_split = {name: vae.elbo_terms(x, seed=SEED)["elbo"] for name, x in
                 [("training", x_train), ("validation", x_val), ("test", x_test)]}
print(f"{n_weights:,} weights, trained on {len(x_train)} faces x {N_DIMS} pixels = {len(x_train) * N_DIMS:,} numbers")
for name, values in elbo_by_split.items():
    print(f"ELBO on the {len(values):3d} {name + ' faces:':<18} {values.mean():9.1f} nats per face")
generalisation_gap = elbo_by_split["training"].mean() - elbo_by_split["test"].mean()
print(f"training minus test ELBO: {generalisation_gap:.1f} nats per face "
      f"({generalisation_gap / (N_DIMS * np.log(2)):.3f} bits/dim); at the last epoch the validation loss "
      f"exceeded the training loss by {train_gap[-1]:.0f} nats")

# %%
assert n_weights > len(x_train) * N_DIMS / 10  # far from "many examples per parameter"
assert FAST or elbo_by_split["training"].mean() > elbo_by_split["test"].mean() + 100  # training faces fit better
assert FAST or train_gap[-1] > 10 * abs(train_gap[min(9, len(train_gap) - 1)])  # the gap opens as training goes on

# %% tags=["nbval-ignore-output"]
fig, axes = plt.subplots(1, 2, figsize=(13, 3.8))
curves(history, ["loss", "val_loss"], ax=axes[0], ylabel="negative ELBO (nats per face)",
       title="Training vs validation loss\n160 training / 40 validation faces, all 40 people")
axes[0].axvline(best_epoch, color="k", linestyle=":", linewidth=1)
axes[0].set_ylim(None, np.percentile(history["val_loss"], 95))
axes[1].plot(np.arange(1, len(train_gap) + 1), train_gap, color="C3")
axes[1].axvline(best_epoch, color="k", linestyle=":", linewidth=1, label=f"best validation epoch ({best_epoch})")
axes[1].axhline(0, color="0.5", linewidth=0.8)
axes[1].set_xlabel("epoch")
axes[1].set_ylabel("validation - training loss (nats per face)")
axes[1].set_title("The generalisation gap opens with training\n40 validation minus 160 training faces")
axes[1].legend()
axes[1].grid(alpha=0.3)
plt.tight_layout()
plt.show()

# %% [markdown]
# What to notice (full mode): the two curves agree for the first twenty or
# so epochs; then the training loss keeps falling while the validation loss
# levels off, and the gap between them grows to well over a thousand nats
# per face. Early stopping (the dotted line) keeps the weights of the best
# validation epoch, which limits the damage but cannot undo it: the model
# still explains its training faces far better than new pictures of the
# same people. With a few hundred images every number in this course has a
# wide error bar, and every choice made on the validation faces (40 images)
# can itself overfit them.

# %% [markdown]
# ## 5. Privacy: what a trained VAE leaks about its training faces
#
# **Claim.** Faces are biometric data: in the EU's GDPR, biometric data
# used to identify a person is a special category (Article 9), and its
# processing is prohibited unless an exception applies, such as explicit
# consent. A model trained on faces is not automatically anonymous: section 4
# showed that the VAE fits its training faces far better than new ones, and
# anyone holding the model can use that to tell which pictures it was
# trained on (**membership inference**).
#
# **Experiment.** The attacker has the trained model and a picture, and
# scores it: the higher the ELBO (or the lower the reconstruction error),
# the more likely "it was in the training set". We compare the 160 training
# faces (members) with the 200 test faces (non-members, pictures of the same
# people that the model never saw), and measure the ROC curve and its AUC
# (`lim.membership_roc`, scikit-learn's `roc_auc_score`): 0.5 means the
# score reveals nothing, 1 that it reveals membership perfectly. Two
# controls: PCA with 32 components fitted on the same 160 faces, attacked
# the same way through its reconstruction error; and the 40 validation
# faces against the test faces, both unseen in training, where an attack
# should find nothing.
#
# PCA's numbers do not depend on the VAE's training:

# %%
def reconstruction_error(reconstruct, images):
    """Mean squared error of each image's reconstruction, shape (n,)."""
    return np.mean((reconstruct(images) - images) ** 2, axis=(1, 2, 3))


def pca_reconstruct(images):
    flat = images.reshape(len(images), -1)
    return pca.inverse_transform(pca.transform(flat)).reshape(images.shape)


pca_error = {name: reconstruction_error(pca_reconstruct, x) for name, x in
             [("training", x_train), ("validation", x_val), ("test", x_test)]}
_, _, pca_auc = lim.membership_roc(-pca_error["training"], -pca_error["test"])
_, _, pca_control_auc = lim.membership_roc(-pca_error["validation"], -pca_error["test"])
print(f"PCA (32 dims) reconstruction error: training faces {pca_error['training'].mean():.5f}, "
      f"test faces {pca_error['test'].mean():.5f}")
print(f"membership AUC, PCA reconstruction error: {pca_auc:.3f} (control, validation vs test: {pca_control_auc:.3f})")

# %% tags=["nbval-ignore-output"]
attacks = {
    "VAE, ELBO": (elbo_by_split["training"], elbo_by_split["test"]),
    "VAE, reconstruction error": (-reconstruction_error(vae.reconstruct, x_train),
                                  -reconstruction_error(vae.reconstruct, x_test)),
    "PCA (32 dims), reconstruction error": (-pca_error["training"], -pca_error["test"]),
    "control: VAE ELBO, validation vs test": (elbo_by_split["validation"], elbo_by_split["test"]),
}
roc = {name: lim.membership_roc(*scores) for name, scores in attacks.items()}
for name, (fpr, tpr, auc) in roc.items():
    tpr_at_5 = np.interp(0.05, fpr, tpr)
    print(f"{name:<40} AUC {auc:.3f}; at 5 % false alarms it finds {tpr_at_5:5.1%} of the members")
membership_auc = roc["VAE, ELBO"][2]

# %% [markdown]
# The AUC is the probability that a random member scores higher than a
# random non-member. Checked against that definition, pair by pair:

# %%
members, nonmembers = attacks["VAE, ELBO"]
pairwise = np.mean((members[:, None] > nonmembers[None, :]) + 0.5 * (members[:, None] == nonmembers[None, :]))
assert np.isclose(pairwise, membership_auc)
assert FAST or membership_auc > 0.9  # training faces score higher: the model leaks membership (not yet after 20 epochs)
assert pca_auc > 0.75 and abs(pca_control_auc - 0.5) < 0.1  # a linear model fitted to 160 faces leaks too

# %% tags=["nbval-ignore-output"]
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for (name, (fpr, tpr, auc)), (color, line) in zip(roc.items(), [("C0", "-"), ("C0", "--"), ("C1", "-"), ("0.5", "-")]):
    axes[0].plot(100 * fpr, 100 * tpr, color=color, linestyle=line, label=f"{name} (AUC {auc:.2f})")
axes[0].plot([0, 100], [0, 100], "k:", linewidth=0.8)
axes[0].set_xlabel("non-members flagged as members (false positive rate, %)")
axes[0].set_ylabel("members found (true positive rate, %)")
axes[0].set_title("Membership inference: 160 training vs 200 test faces\n(all 40 people; control: 40 validation faces)")
axes[0].legend(fontsize=8, loc="lower right")
axes[0].grid(alpha=0.3)
bins = np.linspace(min(v.min() for v in elbo_by_split.values()), max(v.max() for v in elbo_by_split.values()), 40)
for name in ("training", "test"):
    axes[1].hist(elbo_by_split[name], bins=bins, alpha=0.6, density=True,
                 label=f"{name} faces ({len(elbo_by_split[name])})")
axes[1].set_xlabel("ELBO (nats per face)")
axes[1].set_ylabel("density (fraction of faces per nat)")
axes[1].set_title("The attacker's score: the ELBO of each face\n(course VAE, all 40 people)")
axes[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# What to notice (full mode): the training faces' ELBOs barely overlap with
# the test faces', so a threshold on the ELBO tells almost perfectly whether
# a picture was used for training, and the reconstruction error does as
# well. PCA leaks too: any model fitted closely to a few hundred images
# does. The control is near 0.5, so the attack detects training, not some
# difference between the splits. (The fast mode's 20-epoch model has not
# memorised anything yet, so its AUC is near 0.5; the test
# `test_an_overtrained_vae_leaks_membership_of_real_faces` in
# `tests/test_limitations.py` checks the same leak on real faces at a small
# scale in every test run.)
#
# What this does *not* show: here every person is in the training set, so
# the test asks "was this picture used?", not "was this person used?"; a
# person-level test needs models trained without some people. Defences
# exist (more data, stronger regularisation, differentially private
# training), all at some cost in quality. The practical rule: a model
# trained on faces is personal data and should be stored, shared and
# deleted like the faces themselves.

# %% [markdown]
# ## 6. Nuisance factors: recognition from a shifted, turned, lit or covered face
#
# **Claim.** The VAE's code describes *pixels*, and most of a face's pixel
# variance is pose, lighting and position, not identity. So codes, like
# eigenfaces, change when the same face is moved a few pixels, tilted, lit
# from one side or partly covered, and recognition suffers. Fisherfaces are
# trained to ignore within-person variation, but only the variation present
# in the training images.
#
# **Experiment.** Perturb the 200 test (query) faces in one way at a time,
# at increasing strength, and recognise them with 1-nearest-neighbour
# against the unperturbed gallery (the 200 training and validation faces),
# on three kinds of features: the VAE's posterior means (32 dims),
# eigenfaces (50 principal components) and fisherfaces (PCA to 60
# dimensions, then LDA to 39), the last two fitted on the gallery. The
# perturbations (`lim.perturb`):

# %%
example = x_test[first_test[4]]
kinds = list(STRENGTHS)
fig, axes = plt.subplots(len(kinds), 1, figsize=(6, 6.4))
for ax, kind in zip(axes, kinds):
    images = np.concatenate([lim.perturb(example[None], kind, s, seed=SEED) for s in STRENGTHS[kind]])
    image_grid(images, ax=ax, ncols=len(STRENGTHS[kind]), titles=[f"{s:g}" for s in STRENGTHS[kind]],
               title=f"{kind} ({lim.PERTURBATIONS[kind]})")
fig.suptitle("The perturbations at each strength: first test face of s5 (test split)")
plt.tight_layout()
plt.show()


# %% [markdown]
# The baselines do not depend on the VAE, so their accuracies are the same
# in every run:

# %%
def robustness_curves(features):
    """{kind: [accuracy at each strength]} of 1-NN on `features(images)` against the unperturbed gallery."""
    gallery_features = features(x_gallery)
    return {kind: [identification_accuracy(gallery_features, id_gallery,
                                           features(lim.perturb(x_test, kind, s, seed=SEED).astype(np.float32)),
                                           id_test) for s in STRENGTHS[kind]] for kind in STRENGTHS}


def print_curves(name, curves_):
    for kind, accuracies in curves_.items():
        cells = " ".join(f"{a:6.1%}" for a in accuracies)
        print(f"{name:<12} {kind:<13} {cells}")


eigenfaces = Eigenfaces(N_EIGENFACES).fit(x_gallery)
fisherfaces = Fisherfaces(pca_components=FISHER_PCA).fit(x_gallery, id_gallery)
robustness = {"eigenfaces": robustness_curves(eigenfaces.transform),
              "fisherfaces": robustness_curves(fisherfaces.transform)}
def mean_perturbed(by_kind):
    """Mean accuracy over every perturbation and every strength but 0."""
    return float(np.mean([accuracies[1:] for accuracies in by_kind.values()]))


print(f"{'features':<12} {'perturbation':<13} accuracy at each strength in STRENGTHS (200 test faces)")
for name in robustness:
    print_curves(name, robustness[name])
for name in robustness:
    print(f"{name}: {mean_perturbed(robustness[name]):.1%} on average over the perturbed queries")

# %% tags=["nbval-ignore-output"]
robustness["VAE"] = robustness_curves(vae.encode)
print_curves("VAE", robustness["VAE"])
print(f"VAE: {mean_perturbed(robustness['VAE']):.1%} on average over the perturbed queries")

# %%
for name, by_kind in robustness.items():
    clean = {accuracies[0] for accuracies in by_kind.values()}
    assert len(clean) == 1, name  # strength 0 is the unperturbed accuracy, whatever the kind
    for kind, accuracies in by_kind.items():
        assert accuracies[-1] < accuracies[0], (name, kind)  # the strongest perturbation hurts
        assert min(accuracies) > 1 / 40, (name, kind)  # still better than guessing
assert FAST or mean_perturbed(robustness["VAE"]) < min(mean_perturbed(robustness[name])
                                                       for name in ("eigenfaces", "fisherfaces"))

# %% tags=["nbval-ignore-output"]
fig, axes = plt.subplots(1, 4, figsize=(16, 3.6), sharey=True)
for ax, kind in zip(axes, kinds):
    for name, style in [("VAE", "C0o-"), ("eigenfaces", "C1s-"), ("fisherfaces", "C2^-")]:
        ax.plot(STRENGTHS[kind], 100 * np.array(robustness[name][kind]), style, label=name)
    ax.set_xlabel(f"{kind} strength ({lim.PERTURBATIONS[kind]})")
    ax.set_title(kind)
    ax.grid(alpha=0.3)
axes[0].set_ylabel("1-NN identification accuracy (%)")
axes[0].legend()
fig.suptitle("Recognition of perturbed queries: 200 test faces of all 40 people against the unperturbed "
             "gallery of 200 training and validation faces (5/5 split)")
plt.tight_layout()
plt.show()

# %% [markdown]
# What to notice (full mode): all three fall quickly with a shift or an
# occlusion; none of them knows that a face moved by six pixels is the
# same face. On clean queries the VAE is level with eigenfaces; perturbed,
# it loses more than either baseline on average, most under occlusion and
# side light. (It holds up better than fisherfaces under rotation, the one
# factor where fisherfaces, tuned to the training images' variation, fall
# fastest.) A generative model of pixels learns pixel statistics, nuisance
# factors included, and nothing in its objective asks the code to ignore
# them. Robustness comes from data that show the variation (augmentation),
# from alignment (find the eyes, then crop), or from an objective that pulls
# pictures of the same person together: the route that discriminative face
# recognition took (section 7).

# %% [markdown]
# ## 7. Scope and fairness: what 40 people in one lab cannot tell us
#
# **What the data are.** The database's own README: "a set of faces taken
# between April 1992 and April 1994 at the Olivetti Research Laboratory in
# Cambridge, UK ... 10 different images of 40 distinct subjects ... taken
# against a dark homogeneous background and the subjects are in up-right,
# frontal position (with tolerance for some side movement)". It records
# nothing about the people: not their age, sex, skin tone or how they
# agreed to be photographed. From this course we therefore cannot say:
#
# - how any of these methods does on **other people**: 40 volunteers of one
#   laboratory are not a sample of any population;
# - whether errors are **shared fairly**: without demographic labels we
#   cannot even measure error rates by group, let alone compare them. On
#   commercial systems such differences are large (quoted, not measured:
#   Buolamwini & Gebru, "Gender Shades", FAT* 2018, found gender-classification
#   error rates up to 34.7 % for darker-skinned women against 0.8 % for
#   lighter-skinned men; NIST's FRVT Part 3, *Demographic Effects*, NISTIR
#   8280, 2019, found false-match rates differing across demographic groups
#   by factors of 10 to over 100 for many algorithms);
# - how they do **in the wild**: every face here is upright, frontal, lit
#   indoors and in front of the same dark background; section 6 shows what
#   even a small shift does;
# - how they do at **scale**: 40 people make identification a 40-way
#   choice; a real gallery has thousands to millions, and the chance of a
#   wrong match grows with it;
# - anything about **open-set** use, where the person may be in no gallery
#   at all.
#
# **What discriminative face recognition reaches**, on a far harder
# benchmark, for scale (quoted, not measured; a different task, data set and
# training set, so not comparable with any number of ours):

# %%
quoted = lim.QUOTED_LFW
print(f"QUOTED, NOT MEASURED: {quoted.method}: {quoted.accuracy:.2%} accuracy; {quoted.protocol}; {quoted.source}.")
print("Labeled Faces in the Wild (Huang et al. 2007): 13,233 photographs of 5,749 people collected from the web, "
      "in uncontrolled poses, light and backgrounds.")

# %% [markdown]
# FaceNet is trained on 100 to 200 million face images of about 8 million
# people, with an objective (the triplet loss) that pulls pictures of one
# person together and pushes different people apart: exactly what a VAE's
# objective does not ask for. Our measurements, on 40 people in a lab, with
# 5 pictures each to learn from (notebook 04 and sections 2 and 6 here):

# %% tags=["nbval-ignore-output"]
clean_accuracy = {name: by_kind["shift"][0] for name, by_kind in robustness.items()}
for name in ("VAE", "eigenfaces", "fisherfaces"):
    print(f"MEASURED here: {name:<12} 1-NN identification accuracy {clean_accuracy[name]:.1%} "
          "(ORL, 40 people, 5 gallery images each, 200 test faces)")

# %%
assert clean_accuracy["fisherfaces"] > 0.9 and clean_accuracy["eigenfaces"] > 0.9  # the baselines of notebook 04
assert FAST or clean_accuracy["VAE"] < max(clean_accuracy["eigenfaces"], clean_accuracy["fisherfaces"])

# %% [markdown]
# ## 8. The article's FAQ, answered from measurements
#
# The blog article that this course rebuilds answers a few frequently asked
# questions. Here they are again, answered from what this course measured.
# The numbers below are computed from this notebook's results (the stored
# outputs are the full mode's), each with the section that shows it.

# %% tags=["nbval-ignore-output"]
history_seconds = sum(history["seconds"])
start = time.perf_counter()
Eigenfaces(N_EIGENFACES).fit(x_gallery)
pca_seconds = time.perf_counter() - start
start = time.perf_counter()
vae.encode(x_test)
encode_seconds = time.perf_counter() - start
z_mean_test, _ = vae.posterior(x_test)
mean_reconstruction = vae.decode(z_mean_test)
sigma2 = float(np.exp(np.clip(vae.x_log_var.numpy(), -9, 2)))
mse = np.mean((mean_reconstruction - x_test) ** 2, axis=(1, 2, 3))
reconstruction_nats = -elbo.gaussian_log_likelihood(x_test.reshape(200, -1), mean_reconstruction.reshape(200, -1),
                                                    np.log(sigma2))
kl_test = elbo.kl_diag_gaussian_standard(*vae.posterior(x_test))
print(f"Recognition (sections 6, 7): VAE {clean_accuracy['VAE']:.1%}, eigenfaces {clean_accuracy['eigenfaces']:.1%}, "
      f"fisherfaces {clean_accuracy['fisherfaces']:.1%}")
print(f"Computation: training the VAE took {history_seconds:.0f} s; fitting eigenfaces {pca_seconds:.2f} s; "
      f"encoding 200 faces: VAE {encode_seconds:.2f} s")
eigenface_numbers = eigenfaces.pca_.components_.size + eigenfaces.pca_.mean_.size
print(f"Model size: the VAE has {vae.count_params():,} weights, eigenfaces {eigenface_numbers:,} numbers "
      f"({N_EIGENFACES} eigenfaces and the mean face); features per face: VAE {vae.latent_dim}, eigenfaces "
      f"{N_EIGENFACES}, fisherfaces {fisherfaces.transform(x_test[:1]).shape[1]}")
print(f"The loss: -log p(x|z_mean) = D/2 log(2 pi sigma^2) + D MSE / (2 sigma^2) with the learned sigma^2 = {sigma2:.5f}: "
      f"{reconstruction_nats.mean():.0f} nats per test face, plus a KL of {kl_test.mean():.0f} nats")
units = ", ".join(f"{by_latent[d]['active']}/{d}" for d in LATENT_DIMS)
accuracies = ", ".join(f"{by_latent[d]['accuracy']:.1%}" for d in LATENT_DIMS)
print(f"Latent size (section 2): latent_dim {LATENT_DIMS}: active units {units}; accuracy {accuracies}")
print(f"Samples (section 1): gradient energy {blur['VAE samples (32 dims)'][0] / reference:.0%} of real faces'")

# %%
assert np.allclose(reconstruction_nats, N_DIMS / 2 * np.log(2 * np.pi * sigma2) + N_DIMS * mse / (2 * sigma2))
assert history_seconds > pca_seconds  # training a VAE costs more than fitting PCA
assert kl_test.mean() > 0  # the loss is more than a reconstruction error

# %% [markdown]
# **Can a VAE recognise faces?** Yes, about as well as eigenfaces and a
# little worse than fisherfaces on these clean, aligned faces, and worse
# than both once the query is shifted, side-lit or partly covered (sections
# 6 and 7; notebook 04 compares them over ten splits). That is, no better
# than linear methods from the early 1990s. The VAE was never told who is
# who: its code spends its capacity on whatever explains most pixels,
# lighting and pose included (section 6, and the traversals of notebook 03).
#
# **Does a larger $\beta$ give better features for recognition?** No:
# recognition is best near $\beta = 1$ and falls as $\beta$ squeezes the KL;
# at the largest $\beta$ the posterior says nothing about who is who
# (section 2).
#
# **Does it reduce computation?** No. The VAE's 32 numbers per face are no
# fewer than fisherfaces' 39, and getting them costs a trained convolutional
# network: minutes of training against a fraction of a second to fit PCA,
# and a network's forward pass per face against one matrix product (the
# numbers above). What "reduces" is only the size of the feature vector,
# which any projection does.
#
# **Is the loss MSE?** No. The loss is the negative ELBO: a reconstruction
# term plus a KL term (notebooks 01 and 02). With a Gaussian decoder the
# reconstruction term is a mean squared error, but scaled by the learned
# pixel variance and shifted by its log (the identity checked above), and the
# KL term (about 90 nats per face for the course model) is what makes it a
# VAE: remove it and the codes stop being a distribution you can sample
# from; weigh it far more and the codes collapse (section 2). Calling the
# loss "MSE" hides both the likelihood's variance and the prior.
#
# **Is a bigger latent space better?** No. 64 dimensions give the same ELBO
# and the same recognition accuracy as 32, while 8 are too few (section 2,
# *Is a bigger latent space better?*). The latent size was chosen on the
# validation faces in notebook 03.
#
# **Are VAE samples realistic faces?** No: face-like but blurred, with a
# small fraction of real faces' fine detail, less even than PCA's samples
# (section 1, the gradient energy and the power spectrum of samples). Nor
# are they new people in any useful sense: with 160 training faces, the
# decoder fits its training faces far more closely than any new one
# (section 4).
#
# **Is the ELBO the log-likelihood of a face?** No, a lower bound on it:
# tens of nats per face below even a 64-sample importance-weighted bound,
# which is itself below $\log p(x)$ (section 3).
#
# **Is it safe to train and share such a model?** Not without care: it
# reveals which pictures it was trained on (membership AUC near 1, section
# 5), and faces are biometric data.
#
# **Does it work on my photos?** This course cannot tell: 40 people, one
# lab, frontal, uniform background, no demographic labels (section 7).

# %% [markdown]
# ## What we did
#
# - **Blur:** measured the sharpness (gradient energy, high-frequency power)
#   and SSIM of the VAE's reconstructions and samples against real faces and
#   PCA at the same latent size.
# - **Posterior collapse:** swept $\beta$ and the latent size; counted
#   active units, split the KL by dimension, and followed reconstruction and
#   recognition.
# - **A loose bound:** measured the ELBO-IWAE gap on the test faces.
# - **Small data:** read the overfitting in the training and validation
#   curves, and the training-test gap of the final model.
# - **Nuisance factors:** recognised shifted, rotated, side-lit and occluded
#   test faces with VAE codes, eigenfaces and fisherfaces.
# - **Privacy:** ran a membership-inference attack on the trained VAE.
# - **Scope:** set what 40 people in one lab can and cannot show against
#   what discriminative face recognition reaches elsewhere (quoted).
# - Answered the article's FAQ from these measurements.
#
# This is the end of the course. The VAE is a fine way to learn about
# latent-variable models, variational inference and honest evaluation; it is
# not a good face recogniser, and the reasons are now measured.

# %% [markdown]
# ## Exercises
#
# Replace each `None` with your answer, run the cell, then run the check
# below it. The check says whether you are right and gives a hint if not; it
# never shows the answer.
#
# **Exercise 1.** Compute by hand, with NumPy, the gradient energy of the
# VAE's reconstruction of the first test face, `vae_reconstructions[0]`
# (shape `(64, 64, 1)`): the mean squared difference between horizontally
# neighbouring pixels plus the mean squared difference between vertically
# neighbouring pixels.

# %%
from vaeface_utils.checks import limitations as check

answer = None  # replace None with your answer
# solution
image = vae_reconstructions[0, :, :, 0]
answer = np.mean(np.diff(image, axis=1) ** 2) + np.mean(np.diff(image, axis=0) ** 2)

# %%
check.gradient_energy(answer, vae_reconstructions[0])

# %% [markdown]
# **Exercise 2.** The membership AUC by hand. From PCA's scores in section 5,
# `members = -pca_error["training"]` and `nonmembers = -pca_error["test"]`,
# compute the fraction of (member, non-member) pairs in which the member
# scores higher, counting ties as one half. Do not use scikit-learn.

# %%
answer = None  # replace None with your answer
# solution
members, nonmembers = -pca_error["training"], -pca_error["test"]
answer = np.mean((members[:, None] > nonmembers[None, :]) + 0.5 * (members[:, None] == nonmembers[None, :]))

# %%
check.membership_auc(answer, -pca_error["training"], -pca_error["test"])

# %% [markdown]
# **Exercise 3.** Section 6 shifted the queries to the right. Shift the 200
# test faces 4 pixels **down** instead (`lim.shift(x_test, dy=4)`) and
# measure the identification accuracy of 1-NN on eigenfaces (the fitted
# `eigenfaces` above) against the unperturbed gallery, as a fraction in
# [0, 1]. Is a vertical shift of 4 pixels worse or better than a horizontal
# one?

# %%
answer = None  # replace None with your answer
# solution
answer = identification_accuracy(eigenfaces.transform(x_gallery), id_gallery,
                                 eigenfaces.transform(lim.shift(x_test, dy=4)), id_test)

# %%
check.shifted_down_accuracy(answer, x_gallery, id_gallery, x_test, id_test)
