# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py//py:percent
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
# # Train the VAE on faces and measure how good a face model it is
#
# **Goal:** train the course's VAE on the 160 training faces until the
# validation faces stop improving, look at what it learned, and measure it
# on faces it never saw, in nats per image and bits per dimension, against a
# baseline whose likelihood is exact.
#
# **You will learn**
# - how to train with Keras callbacks: early stopping on a validation loss,
#   a learning-rate schedule, a NaN guard, a one-line progress report;
# - how to read the training curves: the negative ELBO, its reconstruction
#   term and its KL term, in nats per image;
# - what reconstructions, samples from the prior, interpolations and latent
#   traversals show (and do not show);
# - why samples from the prior look worse than reconstructions: the
#   aggregate posterior against the prior, measured in nats;
# - what a VAE with a two-dimensional code learns, drawn as a map of faces;
# - how to estimate a held-out log-likelihood with the importance-weighted
#   (IWAE) bound, and why it rises with the number of samples `K`;
# - how to compare a VAE honestly with probabilistic PCA, whose
#   log-likelihood is exact, and what "the same data model" means for that;
# - what active latent units are and how the KL is shared among dimensions;
# - why a baseline must be tuned on validation data just as the model is, and
#   what an honest comparison then says;
# - what the amortisation gap is, how to measure it by optimising one
#   face's posterior, and how it relates to the gap between the ELBO and the
#   IWAE bound.
#
# **Prerequisites:** notebooks 00 (faces and split), 01 (the ELBO and the
# IWAE bound) and 02 (the Keras VAE).
#
# **Run time:** about 6 minutes on a two-core laptop CPU in the full mode
# (training six VAEs takes most of it; a second run loads them from the
# cache and takes about 1.5 minutes), about a minute in the fast mode.
#
# **Reading time:** about 40 minutes, with the code.

# %% [markdown] tags=["launch", "remove-cell"]
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vaeface/vaeface/blob/main/exercises/03_training_on_faces.ipynb)
# [![Launch Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/vaeface/vaeface/main?urlpath=lab/tree/exercises/03_training_on_faces.ipynb)
# (the exercise version; with solutions: [Colab](https://colab.research.google.com/github/vaeface/vaeface/blob/main/notebooks/03_training_on_faces.ipynb),
# [Binder](https://mybinder.org/v2/gh/vaeface/vaeface/main?urlpath=lab/tree/notebooks/03_training_on_faces.ipynb))
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
# The training settings themselves live in `vaeface_utils.training`, so that
# notebooks 04 and 05 load exactly this model. The fast mode
# (`VAEFACE_FAST=1`, used by the tests) trains for 20 epochs only and uses
# fewer importance samples: its figures show a barely trained model.

# %% tags=["parameters"]
import numpy as np

from vaeface_utils import config
from vaeface_utils.latent_diagnostics import ACTIVE_THRESHOLD  # active: Var_x(E_q[z_j|x]) > 0.01

FAST = config.fast_mode()  # VAEFACE_FAST=1 in the tests and CI
SEED = 0  # one seed for everything random in this notebook
N_TRAIN, N_VAL, SPLIT_SEED = 5, 1, 0  # the course split: 160 training, 40 validation, 200 test faces
REPORT_EVERY = 5 if FAST else 25  # one progress line every this many epochs
K_ALL = 10 if FAST else 100  # importance samples per face on all 200 test faces
K_SUBSET = 100 if FAST else 1000  # importance samples per face on 40 test faces (one per person)
BETA_EPOCHS = 20 if FAST else 60  # the exercise's short beta = 4 run
PPCA_DIMS = (8, 16, 32, 64, 128, 159, 256, 319)  # PPCA latent sizes tried on validation (those < the faces fitted)
SIGMA2S = tuple(np.geomspace(1e-3, 3e-2, 16))  # PPCA noise variances tried, besides the maximum-likelihood one
K_VAL = 20 if FAST else 100  # importance samples per validation face when choosing among VAE settings
REFINE_STEPS = (10, 20) if FAST else (100, 300)  # gradient steps per face when optimising posteriors
VARIANCE_SCALES = (1.0, 0.5, 0.71, 1.41, 2.0)  # factors on the VAE's decoder variance tried on validation
MANIFOLD_EPOCHS = 20 if FAST else 150  # epochs of the VAE with a two-dimensional code
MANIFOLD_GRID = 10  # codes per side of its decoded grid
AGGREGATE_SAMPLES = 5000 if FAST else 20000  # Monte Carlo codes for the aggregate posterior's KL to the prior
config.seed_everything(SEED)

# %% [markdown]
# ## Set up
#
# `config.import_keras()` imports Keras without TensorFlow's start-up log
# lines. The faces and the course split are those of notebook 00.

# %%
import gc
import logging
import time

import matplotlib.pyplot as plt

keras = config.import_keras()

from vaeface_utils import amortisation, elbo, results  # noqa: E402
from vaeface_utils.callbacks import ProgressLine  # noqa: E402
from vaeface_utils.model_cache import load_or_train_vae  # noqa: E402
from vaeface_utils.ppca import ppca_fit, ppca_log_likelihood, ppca_posterior, ppca_select  # noqa: E402
from vaeface_utils.training import HISTORY_KEYS  # noqa: E402
from vaeface_utils.training_settings import course_settings  # noqa: E402
from vaeface_utils.units import nats_to_bits_per_dim  # noqa: E402
from vaeface_utils.data import load_faces, split_per_identity  # noqa: E402
from vaeface_utils.plotting import curves, image_grid  # noqa: E402

faces = load_faces(size=(64, 64))
split = split_per_identity(faces.identity, n_train=N_TRAIN, n_val=N_VAL, seed=SPLIT_SEED)
x_train, x_val, x_test = (faces.images[idx] for idx in (split.train, split.val, split.test))
identity_test = faces.identity[split.test]
N_DIMS = int(np.prod(x_train.shape[1:]))  # D, pixels per image
print(split)
print(f"{len(x_train)} training, {len(x_val)} validation and {len(x_test)} test faces of "
      f"{len(np.unique(faces.identity))} people; D = {N_DIMS} pixels each")

# %% [markdown]
# ## The data model: a density over grey values
#
# To compare two models by likelihood they must assign probabilities to the
# same things. Our pixels are grey values in [0, 1] (averages of 8-bit
# values, after resizing to 64 x 64), so we treat each image as a point in
# $[0, 1]^D$ and both models give it a **Gaussian density**:
#
# - the VAE with a **Gaussian decoder**,
#   $p(x \mid z) = \mathcal N(x;\ \mathrm{sigmoid}(f(z)),\ \sigma^2 I)$, with one
#   learned pixel variance $\sigma^2$, and $p(x) = \int p(x \mid z)\, p(z)\, dz$;
# - probabilistic PCA, $x = W z + \mu + \varepsilon$, a linear decoder with
#   the same prior and the same kind of noise.
#
# Both densities are measured against the same volume element (grey values on
# the [0, 1] scale), so their log densities in nats per image are directly
# comparable. A density can exceed 1, so $\log p(x)$ can be positive and its
# bits per dimension, $-\log_2 p(x) / D$, negative. (Both Gaussians put a
# little mass outside [0, 1]; that can only lower the numbers, for both. To
# compare with results on 8-bit images quoted on the 0-255 scale, add
# $\log_2 256 = 8$ bits per dimension, see `vaeface_utils.units.discretization_correction_nats`.)
#
# What we must *not* do is compare a Bernoulli "likelihood" of grey values
# with a Gaussian density: the Bernoulli expression is not normalised over
# [0, 1], so its numbers are not log-probabilities of anything. That is why
# the course trains a Gaussian decoder.

# %% [markdown]
# ## The training settings
#
# One frozen record holds every hyper-parameter; `load_or_train_vae` hashes
# it (with the data, the split and the mode) into the cache's file name, so a
# changed setting trains a new model instead of loading a stale one. These
# are the course model's settings, which notebooks 04 and 05 load; the
# section *Can a VAE beat the validated PPCA?* below tries other settings and
# chooses among them on the **validation** faces only. The test faces are used
# only for the final measurements.

# %% tags=["nbval-ignore-output"]
settings = course_settings()
for name, value in settings.to_dict().items():
    print(f"{name:>18}: {value}")

# %%
assert settings.likelihood == "gaussian" and settings.beta == 1.0  # a density, and the ELBO itself
assert settings.latent_dim == 32 and settings.epochs == (20 if FAST else 400)

# %% [markdown]
# ## Train, with callbacks
#
# `load_or_train_vae` trains with `train_vae` unless the cache already holds
# this model. Training runs in graph mode on a `tf.data` pipeline (shuffled
# each epoch, batches prefetched while the previous step runs; see
# `benchmarks/input_pipeline.py` for the speed-up over plain arrays), with
# these Keras callbacks:
#
# - `EarlyStopping(monitor="val_loss", patience=40, restore_best_weights=True)`:
#   stop when the validation loss has not improved for 40 epochs, and go back
#   to the weights of the best epoch;
# - `ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=20)`: halve
#   the learning rate when progress stalls;
# - `StopOnNaN`: stop with an explanation if the loss stops being finite;
# - `ProgressLine`: instead of Keras's progress bar (`verbose=1`, one line
#   per step), one short line every few epochs.

# %% tags=["nbval-ignore-output"]
progress = ProgressLine(every=REPORT_EVERY, print_fn=print)
start = time.perf_counter()
result = load_or_train_vae(settings, faces=faces, split=split, callbacks=[progress])
wall_seconds = time.perf_counter() - start
vae, history = result.vae, result.history
best_epoch = int(np.argmin(history["val_loss"])) + 1
print(f"{'loaded from the cache' if result.from_cache else 'trained and saved to the cache'} "
      f"in {wall_seconds:.0f} s")
print(f"{len(history['loss'])} epochs, {sum(history['seconds']):.0f} s of training "
      f"({np.median(history['seconds']):.2f} s per epoch, "
      f"{len(x_train) / np.median(history['seconds']):.0f} training images/s); best validation loss at epoch "
      f"{best_epoch}, final learning rate {history['learning_rate'][-1]:.2g}")

# %%
assert tuple(history) == HISTORY_KEYS and len(set(map(len, history.values()))) == 1
assert min(history["val_loss"]) < history["val_loss"][0]  # training lowered the validation loss
assert np.allclose(history["val_loss"], np.add(history["val_reconstruction_loss"], history["val_kl"]),
                   rtol=1e-4)  # beta = 1: the loss is the negative ELBO, reconstruction + KL
assert min(history["kl"]) >= 0 and min(history["val_kl"]) >= 0  # a KL is never negative

# %% [markdown]
# ## The training curves
#
# Three curves per split, all in nats per image: the loss (the negative ELBO,
# one sample of $z$ per image), its reconstruction term
# $-\mathbb E_q[\log p(x \mid z)]$, and the KL term
# $\mathrm{KL}(q(z \mid x) \,\|\, p(z))$. The dotted line marks the epoch whose
# weights early stopping restored.

# %% tags=["nbval-ignore-output"]
fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), layout="constrained")
for ax, key, label in zip(axes, ["loss", "reconstruction_loss", "kl"],
                          ["negative ELBO", "reconstruction -E_q log p(x|z)", "KL(q(z|x) || p(z))"]):
    curves(history, [key, "val_" + key], ax=ax, ylabel="nats per image", title=label)
    ax.axvline(best_epoch, color="k", linestyle=":", linewidth=1)
    if key != "kl":
        ax.set_ylim(None, np.percentile(history["val_" + key], 95))
fig.suptitle("Training curves of the course VAE: 160 training and 40 validation faces of all 40 people "
             "(course split); dotted: the epoch restored")
plt.show()

# %% [markdown]
# What to notice (full mode):
#
# - The loss goes **below zero**: $\log p(x \mid z)$ is a log *density*, and a
#   Gaussian with a small variance has a density far above 1 near its mean.
#   Negative losses are fine; comparisons between models are what matter.
# - The training loss keeps falling after the epoch early stopping
#   restored, while the validation loss rises again: with 160 faces the
#   decoder starts to memorise them, and early stopping keeps the weights
#   from before that. (The curves' vertical axes stop at the 95th percentile
#   of the validation values, so the first epochs are cut off.)
# - After a spike in the first epochs, the KL grows slowly as the decoder
#   learns to use the code: it is the price, in information, of the code
#   that describes each face.

# %%
assert FAST or history["loss"][-1] < history["loss"][best_epoch - 1]  # training kept improving ...
assert FAST or history["val_loss"][-1] > min(history["val_loss"])  # ... validation did not
assert FAST or history["val_kl"][best_epoch - 1] > history["val_kl"][len(history["val_kl"]) // 10]  # the KL grew

# %% [markdown]
# ## Reconstructions of test faces
#
# Test faces of people s1 to s10 (one image each: these images were not trained
# on, though other images of the same people were), and the
# decoder's mean for their posterior mean code.

# %% tags=["nbval-ignore-output"]
first_test = np.array([np.flatnonzero(identity_test == p)[0] for p in range(40)])
show = first_test[:10]
reconstructions = vae.reconstruct(x_test)
fig, axes = plt.subplots(2, 1, figsize=(10, 2.8))
image_grid(x_test[show], ax=axes[0], titles=[f"s{p + 1}" for p in range(10)],
           title="Test faces of people s1 to s10, first test image of each (test split)")
image_grid(reconstructions[show], ax=axes[1], title="Their VAE reconstructions (decoded posterior means)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Reconstructions are blurred: a Gaussian decoder's best guess under
# uncertainty is an average. Are they still *this* person's face? For every
# test face we compare its reconstruction's distance to its own original with
# its distance to the test faces of the other 39 people.

# %% tags=["nbval-ignore-output"]
from sklearn.metrics import pairwise_distances

flat_rec, flat_test = reconstructions.reshape(len(x_test), -1), x_test.reshape(len(x_test), -1)
# Root mean squared difference of every (reconstruction, face) pair: the Euclidean distance over sqrt(pixels).
distances = pairwise_distances(flat_rec, flat_test) / np.sqrt(flat_test.shape[1])
own = np.diag(distances)
other_people = identity_test[:, None] != identity_test[None, :]
nearest_other = np.where(other_people, distances, np.inf).min(axis=1)
closer_to_own = float(np.mean(own < nearest_other))
print(f"root mean squared error of reconstruction: {own.mean():.3f} (grey levels in [0, 1])")
print(f"reconstructions closer to their own original than to every other person's test face: {closer_to_own:.0%}")

# %%
assert np.all(own < np.where(other_people, distances, 0).sum(axis=1) / other_people.sum(axis=1))  # < the average other
assert FAST or closer_to_own > 0.9  # in the fast mode the model is barely trained

# %% [markdown]
# ## Faces from the prior
#
# Codes drawn from $p(z) = \mathcal N(0, I)$, decoded. These are not people
# from the data set: no split, no identity.

# %% tags=["nbval-ignore-output"]
samples = vae.generate(20, seed=SEED)
fig, ax = plt.subplots(figsize=(10, 2.6))
image_grid(samples, ax=ax, title="20 faces decoded from codes drawn from the prior N(0, I) (no real person)")
plt.show()

# %%
assert samples.shape == (20, 64, 64, 1) and samples.min() >= 0 and samples.max() <= 1

# %% [markdown]
# ### Why prior samples look worse than reconstructions: the aggregate posterior
#
# A reconstruction decodes a code the encoder made for a real face; a sample
# decodes a code drawn from the prior. The codes of the 160 training faces
# follow the *aggregate posterior*
# $q(z) = \frac1N \sum_n q(z \mid x_n)$, a mixture of $N = 160$ Gaussians,
# and the decoder was trained only on codes from it. Where $q(z)$ differs
# from $p(z) = \mathcal N(0, I)$, prior samples land where the decoder has
# seen no face. How much they differ can be measured in nats: the KL term of
# the ELBO, averaged over the training faces, splits exactly into two parts
# (Hoffman and Johnson 2016),
#
# $$\frac1N \sum_n \mathrm{KL}\big(q(z \mid x_n) \,\|\, p(z)\big)
#   = I_q(n; z) + \mathrm{KL}\big(q(z) \,\|\, p(z)\big),$$
#
# the information the code carries about which face it came from, which is
# at most $\log N$, plus the mismatch between the aggregate posterior and the
# prior. The left side is in closed form; `aggregate.aggregate_posterior_kl`
# estimates the two terms on the right by Monte Carlo, with $q(z)$'s density
# computed exactly as a mixture. The cell checks that the two sides agree;
# sample by sample, $\log q(z)$ cancels from the sum, so this checks the
# sampling and the closed-form KL (the mixture density itself is checked
# against SciPy in `tests/test_aggregate.py`).

# %% tags=["nbval-ignore-output"]
from vaeface_utils import aggregate  # noqa: E402

train_mean, train_log_var = vae.posterior(x_train)
surgery = aggregate.aggregate_posterior_kl(train_mean, train_log_var, n_samples=AGGREGATE_SAMPLES, seed=SEED)
print(f"average KL term over the {len(x_train)} training faces: {surgery.mean_kl:.1f} nats (closed form)")
print(f"  = information about the face, I_q(n; z): {surgery.mutual_information:.2f} nats "
      f"(at most log {len(x_train)} = {surgery.log_n:.2f})")
print(f"  + mismatch KL(q(z) || p(z)): {surgery.kl_aggregate_prior:.1f} nats "
      f"(Monte Carlo standard error {surgery.standard_error:.2f})")
prior_codes = np.random.default_rng(SEED).standard_normal((2000, vae.latent_dim))
rng = np.random.default_rng(SEED + 1)
which = rng.integers(len(x_train), size=2000)  # a training face, then a code from its posterior
aggregate_codes = train_mean[which] + np.exp(0.5 * train_log_var[which]) * rng.standard_normal(prior_codes.shape)
log_q_of_prior_codes = aggregate.mixture_log_density(prior_codes, train_mean, train_log_var)
log_q_of_own_codes = aggregate.mixture_log_density(aggregate_codes, train_mean, train_log_var)
print(f"log q(z), the aggregate posterior's density, median over 2,000 codes: at prior samples "
      f"{np.median(log_q_of_prior_codes):.0f}, at its own samples {np.median(log_q_of_own_codes):.0f}")

# %%
assert np.isclose(surgery.mean_kl, surgery.mutual_information + surgery.kl_aggregate_prior,
                  atol=5 * surgery.sum_standard_error + 0.05)  # the identity, up to Monte Carlo error
assert 0 <= surgery.mutual_information <= surgery.log_n + 1e-6
assert FAST or surgery.kl_aggregate_prior > 0.8 * surgery.mean_kl  # most of the KL term is the mismatch
assert surgery.kl_aggregate_prior >= surgery.mean_kl - surgery.log_n - 5 * surgery.standard_error
assert np.median(log_q_of_prior_codes) < np.median(log_q_of_own_codes)  # prior samples fall where q(z) is thin

# %% [markdown]
# The information term is at its ceiling, $\log 160 \approx 5.1$ nats: the
# posteriors of different faces barely overlap, so a code tells which
# training face it came from. Being at most that, it leaves nearly
# all of the KL term the model pays to the mismatch between $q(z)$ and the
# prior: the aggregate posterior is far from $\mathcal N(0, I)$ in nats. With
# only 160 faces this is partly unavoidable: a mixture of 160 narrow
# posteriors cannot fill the prior, and the identity forces the mismatch to
# be at least the average KL minus $\log 160$. Prior samples land in the
# gaps between the training faces' codes, where the decoder has no face to
# imitate. A
# picture of the same thing, two coordinates at a time: the codes of the
# training faces (posterior means) and codes drawn from the prior, projected
# on the two directions along which the posterior means vary most.

# %% tags=["nbval-ignore-output"]
from sklearn.decomposition import PCA  # noqa: E402

directions = PCA(n_components=2).fit(train_mean)
fig, ax = plt.subplots(figsize=(6, 5))
ax.scatter(*directions.transform(prior_codes[:500]).T, s=6, alpha=0.4, color="grey", label="500 codes from the prior")
ax.scatter(*directions.transform(train_mean).T, s=10, c=faces.identity[split.train], cmap="tab20",
           label=f"the {len(x_train)} training faces' posterior means (colour: person)")
ax.set_xlabel("first principal direction of the posterior means (latent units)")
ax.set_ylabel("second principal direction (latent units)")
ax.set_title("Codes of real faces and codes from the prior\n(training split, all 40 people)")
ax.legend(loc="lower right", fontsize=8)
plt.show()

# %% [markdown]
# Notebook 05 (section 1) measures what this does to the pictures: faces
# decoded from the prior are smoother than faces decoded from codes of the
# aggregate posterior.

# %% [markdown]
# ## Interpolating between two people
#
# The straight line in latent space between the posterior means of a test
# face of s1 and a test face of s14, decoded at eight evenly spaced points.

# %% tags=["nbval-ignore-output"]
a, b = first_test[0], first_test[13]
z_a, z_b = vae.encode(x_test[[a, b]])
steps = np.linspace(0.0, 1.0, 8)
path = vae.decode((1 - steps[:, None]) * z_a + steps[:, None] * z_b)
fig, ax = plt.subplots(figsize=(10, 1.9))
image_grid(np.concatenate([x_test[[a]], path, x_test[[b]]]), ax=ax,
           titles=["s1"] + [f"{t:.2f}" for t in steps] + ["s14"],
           title="From s1 to s14 (test split): originals at the ends, decoded codes between")
plt.show()

# %%
assert np.allclose(path[[0, -1]], reconstructions[[a, b]], atol=1e-5)  # the ends are the reconstructions

# %% [markdown]
# ## Active latent units and the KL per dimension
#
# A dimension $j$ of the code is **active** when its posterior mean moves
# from face to face: $A_j = \mathrm{Var}_x\big(\mathbb E_q[z_j \mid x]\big) > 0.01$
# (Burda et al., 2016). An inactive dimension has $q(z_j \mid x) \approx p(z_j)$
# for every face: it carries no information and costs no KL. We measure
# both on the 200 test faces.

# %% tags=["nbval-ignore-output"]
z_mean_test, z_log_var_test = vae.posterior(x_test)
activity = z_mean_test.var(axis=0)  # A_j, (latent_dim,)
active = activity > ACTIVE_THRESHOLD
kl_per_dim = 0.5 * (np.exp(z_log_var_test) + z_mean_test**2 - 1.0 - z_log_var_test).mean(axis=0)
order = np.argsort(kl_per_dim)[::-1]
print(f"{active.sum()} of {vae.latent_dim} latent dimensions are active; they carry "
      f"{kl_per_dim[active].sum() / kl_per_dim.sum():.0%} of the KL ({kl_per_dim.sum():.1f} nats per test face)")
fig, ax = plt.subplots(figsize=(10, 3.4))
ax.bar(np.arange(vae.latent_dim), kl_per_dim[order], color=np.where(active[order], "C0", "C7"))
ax.set_xticks(np.arange(vae.latent_dim), order, fontsize=7)
colours = "blue: active, grey: inactive" if (~active).any() else "all active"
ax.set_xlabel(f"latent dimension j (sorted by KL; {colours})")
ax.set_ylabel("KL per dimension (nats per image)")
ax.set_title("KL(q(z_j|x) || N(0, 1)) per latent dimension, mean over the 200 test faces (all 40 people)")
plt.show()

# %%
kl_total = elbo.kl_diag_gaussian_standard(z_mean_test, z_log_var_test).mean()
assert np.all(kl_per_dim >= -1e-6)  # a KL is never negative, dimension by dimension
assert np.isclose(kl_per_dim.sum(), kl_total, rtol=1e-5)  # inline formula = elbo.kl_diag_gaussian_standard
assert active.sum() == np.sum(z_mean_test.var(axis=0) > ACTIVE_THRESHOLD) <= vae.latent_dim

# %% [markdown]
# ## Traversals along the most active dimensions
#
# Start from the code of one test face (s1) and move along one latent
# dimension at a time, from $-2.5$ to $+2.5$ (in units of the prior's
# standard deviation), keeping the others fixed. One row per dimension, the
# five most active first.

# %% tags=["nbval-ignore-output"]
top = np.argsort(activity)[::-1][:5]
values = np.linspace(-2.5, 2.5, 7)
codes = np.repeat(vae.encode(x_test[[first_test[0]]]), len(top) * len(values), axis=0)
for row, j in enumerate(top):
    codes[row * len(values):(row + 1) * len(values), j] = values
traversal = vae.decode(codes)
fig, ax = plt.subplots(figsize=(8, 6.6))
image_grid(traversal, ax=ax, ncols=len(values),
           titles=[f"z{j} = {v:+.1f}" for j in top for v in values], fontsize=8,
           title="Traversals from the code of s1's first test face (test split): one row per active dimension")
plt.show()

# %%
assert traversal.shape == (len(top) * len(values), 64, 64, 1)

# %% [markdown]
# What does each row change? Rather than name it by eye, we measure, between
# the two ends of each row ($z_j = -2.5$ and $+2.5$), four properties of the
# decoded face: its mean brightness, the difference in brightness between
# its left and right halves (light from one side), the horizontal position
# of its centre of brightness in pixels (a turn or a shift of the head), and
# the root mean squared change of all pixels.

# %% tags=["nbval-ignore-output"]
def face_properties(images):
    """Mean brightness, left-minus-right brightness, horizontal centre of brightness (pixels) per image."""
    x = images[..., 0]
    columns = np.arange(x.shape[2])
    centre = (x.sum(axis=1) * columns).sum(axis=1) / x.sum(axis=(1, 2))
    half = x.shape[2] // 2
    return x.mean(axis=(1, 2)), x[:, :, :half].mean(axis=(1, 2)) - x[:, :, half:].mean(axis=(1, 2)), centre


ends = traversal.reshape(len(top), len(values), 64, 64, 1)[:, [0, -1]]
low, high = face_properties(ends[:, 0]), face_properties(ends[:, 1])
change = {name: h - l for name, l, h in zip(("brightness", "left - right", "centre (px)"), low, high)}
rms_change = np.sqrt(((ends[:, 1] - ends[:, 0]) ** 2).mean(axis=(1, 2, 3)))
print(f"{'dimension':>9} {'brightness':>11} {'left - right':>13} {'centre (px)':>12} {'RMS change':>11}")
for row, j in enumerate(top):
    print(f"{'z' + str(j):>9} {change['brightness'][row]:+11.3f} {change['left - right'][row]:+13.3f} "
          f"{change['centre (px)'][row]:+12.2f} {rms_change[row]:11.3f}")

THRESHOLDS = {"brightness": 0.02, "left - right": 0.02, "centre (px)": 0.5}  # a change we call visible
for row, j in enumerate(top):
    moved = [name for name, limit in THRESHOLDS.items() if abs(change[name][row]) > limit]
    print(f"z{j}: changes {', '.join(moved) if moved else 'none of the three above these thresholds'}")

# %%
assert np.all(rms_change > 0)  # every active dimension changes the decoded face
assert np.allclose(face_properties(traversal[:1])[0], traversal[0].mean())  # brightness is the mean grey value

# %% [markdown]
# The table says what each of the most active dimensions does to the
# *pixels*: brightness, light from one side, where the face sits, alone or
# together (what else changes, such as shape or expression, we have not
# measured). None of these is who the person is. The VAE was never told who
# is who; notebook 04 asks how much identity the codes carry anyway.

# %% [markdown]
# ### Explore the latent space yourself
#
# The sliders below move the same five dimensions, starting from the same
# test face (s1), and show the decoded face as you go; "reset" returns to the
# face's own code. They are live only in a running notebook: in the rendered
# book the traversal grid above is the static version of this explorer.

# %% tags=["nbval-ignore-output"]
from vaeface_utils.explorer import latent_explorer  # noqa: E402

explorer = latent_explorer(vae.decode, vae.encode(x_test[[first_test[0]]])[0], dims=top)
explorer

# %% [markdown]
# Moving a slider changes only its own dimension of the code, and the face
# with it:

# %%
start = explorer.code().copy()
before = bytes(explorer.image.value)
explorer.sliders[0].value = explorer.sliders[0].value + 1.0
changed = np.flatnonzero(~np.isclose(explorer.code(), start))
assert changed.tolist() == [top[0]] and bytes(explorer.image.value) != before
explorer.sliders[0].value = float(start[top[0]])
print("moved the first slider by +1.0: one dimension of the code changed, and the decoded face with it")

# %% [markdown]
# ## A VAE with a two-dimensional code: its latent space on one page
#
# With two latent dimensions instead of 32, the latent space fits in one
# picture. The same settings as the course model except `latent_dim=2` and a
# fixed budget of `MANIFOLD_EPOCHS` epochs (no early stop; the epoch with the
# best validation loss is kept, as always; cached like the course model). On
# the left, the decoder's means for a grid of codes placed at the prior's
# quantiles from 5 % to 95 % in each coordinate (the middle 90 % of the prior
# in each), so that every cell of the grid is equally probable under
# $\mathcal N(0, I)$; on the right, where the encoder puts the 160 training
# faces.

# %% tags=["nbval-ignore-output"]
from scipy.stats import norm  # noqa: E402

manifold_settings = settings.replace(latent_dim=2, epochs=MANIFOLD_EPOCHS, patience=MANIFOLD_EPOCHS)
vae_2d = load_or_train_vae(manifold_settings, faces=faces, split=split).vae
quantiles = norm.ppf(np.linspace(0.05, 0.95, MANIFOLD_GRID))
grid_codes = np.array([[z1, z2] for z2 in quantiles[::-1] for z1 in quantiles])  # top row: the largest z2
fig, axes = plt.subplots(1, 2, figsize=(13, 6.4), gridspec_kw={"width_ratios": [1.15, 1]})
image_grid(vae_2d.decode(grid_codes), ax=axes[0], ncols=MANIFOLD_GRID, pad=1,
           title=f"Decoded grid: z1 left to right, z2 bottom to top, {MANIFOLD_GRID} prior quantiles each\n"
                 "(no real person)")
codes_2d = vae_2d.encode(x_train)
axes[1].scatter(*codes_2d.T, c=faces.identity[split.train], cmap="tab20", s=14)
axes[1].set_xlabel("z1 (posterior mean)")
axes[1].set_ylabel("z2 (posterior mean)")
axes[1].set_title("The 160 training faces' codes (colour: person; training split, all 40 people)")
edge = quantiles[-1]
axes[1].add_patch(plt.Rectangle((-edge, -edge), 2 * edge, 2 * edge, fill=False, linestyle="--", color="grey"))
axes[1].text(-edge, edge * 1.04, "the grid on the left", color="grey", fontsize=8)
plt.tight_layout()
plt.show()

# %% tags=["nbval-ignore-output"]
from IPython.display import Markdown, display  # noqa: E402

elbo_2d = float(vae_2d.elbo_terms(x_val, seed=SEED)["elbo"].mean())
elbo_32 = float(vae.elbo_terms(x_val, seed=SEED)["elbo"].mean())
people_2d = faces.identity[split.train]
distances_2d = np.linalg.norm(codes_2d[:, None] - codes_2d[None], axis=-1) + np.diag(np.full(len(codes_2d), np.inf))
same_person_2d = float(np.mean(people_2d[distances_2d.argmin(axis=1)] == people_2d))
chance_2d = (N_TRAIN - N_VAL - 1) / (len(x_train) - 1)  # another of the person's 3 other training faces, at random
grid_faces = vae_2d.decode(grid_codes).reshape(MANIFOLD_GRID, MANIFOLD_GRID, -1)
neighbour_rmse = float(np.sqrt(np.mean((grid_faces[:, 1:] - grid_faces[:, :-1]) ** 2)))  # left-right neighbours
pair_rmse = float(np.sqrt(np.mean((x_train[:80] - x_train[80:]) ** 2)))  # two training faces, mostly two people
inside_grid = float(np.mean(np.all(np.abs(codes_2d) <= quantiles[-1], axis=1)))  # codes inside the grid's square
display(Markdown(
    f"Two numbers per face hold much less of these faces: on the 40 validation faces the 2-D model's ELBO is "
    f"{elbo_2d:.0f} nats per face, {elbo_32 - elbo_2d:.0f} below the course model's ({elbo_32:.0f}). Yet the map "
    f"groups people: the nearest other training code belongs to the same person for {same_person_2d:.0%} of "
    f"the training faces (at random: {chance_2d:.1%}). Moving across the grid changes the faces smoothly: "
    f"neighbouring cells differ by a root mean squared {neighbour_rmse:.3f} per pixel, two training faces by "
    f"{pair_rmse:.3f}. But only {inside_grid:.0%} of the training faces' codes lie inside the grid's square, "
    "the middle of the prior: the codes of real faces spread far beyond it, as the aggregate posterior above "
    "predicts, and the grid shows mostly what lies between them."))

# %%
assert FAST or elbo_2d < elbo_32  # two dimensions hold less of the faces than 32
assert FAST or same_person_2d > 5 * chance_2d  # people group in the 2-D map
assert neighbour_rmse < pair_rmse  # neighbouring codes, similar faces
assert vae_2d.latent_dim == 2 and codes_2d.shape == (len(x_train), 2)

# %% [markdown]
# ## Held-out log-likelihood: the ELBO and the IWAE bound
#
# The ELBO is a lower bound on $\log p(x)$. Notebook 01 derived a tighter
# one, the importance-weighted bound with $K$ samples $z_k \sim q(z \mid x)$:
#
# $$\mathcal L_K(x) = \mathbb E\Big[\log \frac1K \sum_{k=1}^K
#   \frac{p(x \mid z_k)\, p(z_k)}{q(z_k \mid x)}\Big],
# \qquad \mathrm{ELBO} = \mathcal L_1 \le \mathcal L_K \le \mathcal L_{K+1} \le \log p(x).$$
#
# `vae.log_importance_weights(x, K)` returns the log-weights
# $\log w_k = \log p(x \mid z_k) + \log p(z_k) - \log q(z_k \mid x)$, shape
# `(K, n)`. From $K_{\max}$ of them we estimate $\mathcal L_K$ for each smaller
# $K$ by averaging the bound over the $K_{\max}/K$ disjoint groups of $K$
# samples (an unbiased estimate of $\mathbb E[\mathcal L_K]$ with less noise
# than one group; `amortisation.iwae_estimate`). Decoding is the cost: $K$
# decoder passes per face. So we use $K \le$ `K_ALL` on all 200 test faces,
# and up to `K_SUBSET` on 40 of them
# (the first test face of each person).

# %%
from vaeface_utils.amortisation import iwae_estimate  # noqa: E402 - L_K from disjoint groups of k log-weights

check_w = np.random.default_rng(SEED).normal(-100.0, 3.0, size=(100, 5))
assert np.allclose(iwae_estimate(check_w, 100), elbo.iwae_bound(check_w))  # one group: the package's bound
assert np.allclose(iwae_estimate(check_w, 1), check_w.mean(axis=0))  # K = 1: the average log-weight (ELBO)
print("iwae_estimate agrees with vaeface_utils.elbo.iwae_bound")

# %%
start = time.perf_counter()
log_w_all = vae.log_importance_weights(x_test, K_ALL, seed=SEED)  # (K_ALL, 200)
subset = first_test  # the first test face of each of the 40 people
log_w_subset = vae.log_importance_weights(x_test[subset], K_SUBSET, seed=SEED + 1)  # (K_SUBSET, 40)
eval_seconds = time.perf_counter() - start
k_all = [k for k in (1, 10, 100, 1000) if k <= K_ALL]
k_subset = [k for k in (1, 10, 100, 1000) if k <= K_SUBSET]
bound_all = {k: iwae_estimate(log_w_all, k).mean() for k in k_all}
bound_subset = {k: iwae_estimate(log_w_subset, k).mean() for k in k_subset}


# %% [markdown]
# ## The baseline with an exact likelihood: probabilistic PCA, tuned on validation
#
# Probabilistic PCA, $x = W z + \mu + \varepsilon$ with
# $\varepsilon \sim \mathcal N(0, \sigma^2 I)$, is a linear decoder with the
# same prior and the same kind of noise as the VAE, fitted in closed form on
# the same 160 training faces (`vaeface_utils.ppca.ppca_fit`), with an exact held-out
# $\log p(x)$ (`ppca_log_likelihood`). It has two settings, the latent
# size $q$ and the noise variance $\sigma^2$. Maximum likelihood sets
# $\sigma^2$ to the average variance of the *training* faces outside their
# top $q$ directions; with 160 faces in 4,096 dimensions that is biased low:
# the model fits its own training faces too closely and is overconfident on
# new ones. So PPCA gets the same protocol as the VAE: a grid of latent sizes
# and noise variances, each scored by the exact log-likelihood of the 40
# validation faces (`ppca_select`), the best kept, and the test faces
# touched once. PPCA does not depend on any training run, so its numbers are
# the same in the fast and the full mode.

# %%
def flat(images):
    return images.reshape(len(images), -1).astype(np.float64)


def ppca_validation_table(choice, title):
    """Print, per latent size, the validation log p(x) with the maximum-likelihood and the best sigma^2."""
    print(title)
    print(f"{'q':>5} {'ML sigma^2':>11} {'val log p':>10} | {'best of grid':>12} {'val log p':>10}")
    for q in sorted({q for q, _ in choice.scores}):
        ml = choice.scores.get((q, None))
        tuned = max((s2 for qq, s2 in choice.scores if qq == q and s2 is not None),
                    key=lambda s2: choice.scores[q, s2])
        ml_cells = (f"{choice.ml_sigma2[q]:11.5f} {ml:10.1f}" if ml is not None
                    else f"{'(rank)':>11} {'-':>10}")
        print(f"{q:>5} {ml_cells} | {tuned:12.5f} {choice.scores[q, tuned]:10.1f}")
    print(f"chosen: q = {choice.latent_dim}, sigma^2 = {choice.sigma2:.5f} "
          f"(validation log p(x) {max(choice.scores.values()):.1f} nats per face)")


flat_train, flat_val, flat_test = flat(x_train), flat(x_val), flat(x_test)
ppca_choice = ppca_select(flat_train, flat_val, [q for q in PPCA_DIMS if q < len(x_train)], SIGMA2S)
ppca_validation_table(ppca_choice, "PPCA on the 160 training faces, scored on the 40 validation faces "
                                   "(nats per face, higher is better)")
ppca = ppca_choice.params
ppca_all = ppca_log_likelihood(flat_test, ppca)
ppca_subset = ppca_all[subset]
ppca_ml = ppca_fit(flat_train, latent_dim=settings.latent_dim)  # untuned: q = 32, maximum-likelihood sigma^2
ppca_ml_all = ppca_log_likelihood(flat_test, ppca_ml)
print(f"\ntest faces, exact log p(x): validated PPCA {ppca_all.mean():.1f} nats per face "
      f"({ppca_subset.mean():.1f} on the 40-face subset); untuned PPCA (q = 32, maximum-likelihood "
      f"sigma^2 = {ppca_ml.sigma2:.5f}) {ppca_ml_all.mean():.1f}")

# %%
best_sigma2_at_32 = max((s2 for q, s2 in ppca_choice.scores if q == 32 and s2 is not None),
                        key=lambda s2: ppca_choice.scores[32, s2])
assert best_sigma2_at_32 > ppca_ml.sigma2  # the maximum-likelihood variance is too small for new faces
assert max(ppca_choice.scores.values()) >= ppca_choice.scores[32, None]  # the grid includes the untuned model
assert ppca_all.mean() > ppca_ml_all.mean()  # and the choice made on validation holds on the test faces

# %% [markdown]
# Now the table: log-likelihoods (higher is better) in nats per image, and
# the cost $-\log_2 p(x)/D$ in bits per dimension (lower is better; negative
# because these are densities, see above).

# %% tags=["nbval-ignore-output"]
def bits(nats):
    return float(nats_to_bits_per_dim(-nats, N_DIMS))


rows = [("VAE, ELBO (K = 1)" if k == 1 else f"VAE, IWAE K = {k}", bound_all.get(k), bound_subset.get(k))
        for k in sorted(set(k_all) | set(k_subset))]
rows.append((f"PPCA q = {ppca_choice.latent_dim}, validated", ppca_all.mean(), ppca_subset.mean()))
rows.append(("PPCA q = 32, untuned", ppca_ml_all.mean(), ppca_ml_all[subset].mean()))
print(f"{'':<26} | {'200 test faces':^27} | {'40 test faces, 1 per person':^27}")
print(f"{'model, bound':<26} | {'nats/image':>12} {'bits/dim':>14} | {'nats/image':>12} {'bits/dim':>14}")
print("-" * 88)
for label, value_all, value_subset in rows:
    cells = [f"{v:12.1f} {bits(v):14.4f}" if v is not None else f"{'-':>12} {'-':>14}"
             for v in (value_all, value_subset)]
    print(f"{label:<26} | {cells[0]} | {cells[1]}")
gap = bound_subset[max(k_subset)] - bound_subset[1]
margin = bound_all[max(k_all)] - ppca_all.mean()
print(f"\nIWAE gain, K = {max(k_subset)} over the ELBO: {gap:.1f} nats per image (40 faces)")
print(f"the course VAE's bound (K = {max(k_all)}, 200 faces) minus the validated PPCA's exact log-likelihood: "
      f"{margin:+.1f} nats per image ({-margin / (N_DIMS * np.log(2)):+.4f} bits/dim); against the untuned "
      f"PPCA: {bound_all[max(k_all)] - ppca_ml_all.mean():+.1f}")
print(f"evaluation took {eval_seconds:.0f} s")

# %% [markdown]
# The claims the table makes, checked (with a Monte Carlo allowance of 1 nat
# per image for the $K$-sample averages):

# %%
elbo_one_sample = vae.elbo_terms(x_test, seed=SEED)["elbo"]  # closed-form KL, one z per face
se = elbo_one_sample.std() / np.sqrt(len(elbo_one_sample))
assert abs(elbo_one_sample.mean() - bound_all[1]) < 4 * se + 1.0  # two estimates of the same ELBO agree
for bounds in (bound_all, bound_subset):
    ks = sorted(bounds)
    assert all(bounds[k2] >= bounds[k1] - 1.0 for k1, k2 in zip(ks, ks[1:]))  # L_K non-decreasing in K
    assert bounds[max(ks)] >= bounds[1]  # IWAE >= ELBO
if not FAST:  # beating the untuned baseline was an artefact: the validated PPCA is far ahead
    assert bound_all[max(k_all)] > ppca_ml_all.mean() and bound_all[max(k_all)] < ppca_all.mean()

# %% [markdown]
# How to read it (full mode):
#
# - **The ELBO is not the log-likelihood.** The IWAE bound rises with $K$,
#   and the rise is a lower bound on how far the ELBO sits below
#   $\log p(x)$. That distance is $\mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x))$,
#   the mismatch between the encoder's posterior and the model's true one.
#   It is *not* the ELBO's KL term $\mathrm{KL}(q(z \mid x) \,\|\, p(z))$,
#   which measures how far each face's code is from the prior, and which
#   even a perfect encoder pays.
# - **The untuned PPCA is a handicapped baseline.** At the VAE's latent size
#   and with its maximum-likelihood noise variance it is overconfident on new
#   faces, and the VAE beats it. Tuned on the validation faces, as the VAE's
#   settings are, PPCA is far ahead of the course VAE (the numbers are
#   printed below).
# - **Reconstructions:** how close each model's reconstruction of a test face
#   is to the face, at the same latent size and at PPCA's validated one:

# %% tags=["nbval-ignore-output"]
def ppca_reconstruct(params, images):
    z_mean, _ = ppca_posterior(flat(images), params)
    return z_mean @ params.W.T + params.mean


ppca_ml_mse = np.mean((ppca_reconstruct(ppca_ml, x_test) - flat_test) ** 2)
ppca_mse = np.mean((ppca_reconstruct(ppca, x_test) - flat_test) ** 2)
vae_mse = np.mean((reconstructions - x_test) ** 2)
vae_sigma2 = float(np.exp(vae.pixel_log_var()))
print(f"mean squared reconstruction error on the 200 test faces: VAE (32 dims) {vae_mse:.5f}; PPCA, 32 dims "
      f"{ppca_ml_mse:.5f} ({1 - ppca_ml_mse / vae_mse:.0%} smaller than the VAE's); validated PPCA, "
      f"{ppca_choice.latent_dim} dims {ppca_mse:.5f}")
print(f"pixel noise variance: VAE {vae_sigma2:.5f} (learned, early stopping on validation faces), PPCA 32 dims "
      f"{ppca_ml.sigma2:.5f} (maximum likelihood on training faces), validated PPCA {ppca.sigma2:.5f}")
print(f"the course VAE's best bound minus the validated PPCA: {margin:+.1f} nats per test face")

# %%
assert ppca_ml_mse > ppca_ml.sigma2  # PPCA's maximum-likelihood variance is smaller than its error on new faces
assert ppca_mse <= ppca_ml_mse  # more components reconstruct new faces at least as well
if not FAST:  # PPCA at the same latent size reconstructs test faces at least as closely as the VAE
    assert ppca_ml_mse < vae_mse

# %% [markdown]
# So the linear model with the same 32 dimensions already reconstructs new
# faces at least as closely as the VAE, and with the latent size chosen on
# validation it reconstructs them much more closely, with a noise variance
# fitted to the error it actually makes. The course VAE's settings were not
# chosen to win this comparison. Can other settings win it?

# %% [markdown]
# ## Can a VAE beat the validated PPCA?
#
# We try, choosing on the validation faces only, settings that give the VAE
# a better chance, each trained with the course's early stopping:
#
# - **one noise variance per pixel** instead of one for all (the background
#   is easy to predict, eyes and hair are not);
# - **horizontal flips** of the training faces, drawn afresh each epoch (a
#   mirrored face is still a face: twice the data for free). For fairness,
#   PPCA then gets the mirrored faces too, and is validated again;
# - **a larger latent size**, 128, with both.
#
# Each PPCA is scored by its exact validation log-likelihood. Each VAE is
# scored by its IWAE bound ($K$ = `K_VAL`) on the 40 validation faces, with
# each face's posterior first optimised for that face (see *the amortisation
# gap* below): the encoder's own answer is a loose proposal, and ranking
# models by it would rank their encoders. We print both. Trained models are
# cached, so a second run only loads them.
#
# Not tried here, each for the time it would add to this notebook: a
# variance predicted per image by the decoder, $\beta \ne 1$ or a KL warm-up
# (both change what is optimised; early stopping still selects on the
# validation loss), and a wider network.

# %% tags=["nbval-ignore-output"]
logging.getLogger("tensorflow").setLevel(logging.ERROR)  # no "retracing" notes: four models, on purpose
VARIANTS = {"course model": {},
            "per-pixel variance": dict(gaussian_log_var="learned-per-pixel"),
            "per-pixel variance + flips": dict(gaussian_log_var="learned-per-pixel", flip=True),
            "per-pixel variance + flips, latent 128": dict(gaussian_log_var="learned-per-pixel", flip=True,
                                                         latent_dim=128)}
variants, variant_val, variant_val_encoder, refined_val = {}, {}, {}, {}
start = time.perf_counter()
print(f"{'setting':<40} {'epochs':>6}   validation IWAE (K = {K_VAL}), nats per face: encoder's | optimised proposal")
for name, changes in VARIANTS.items():
    trained = load_or_train_vae(settings.replace(**changes), faces=faces, split=split)
    variants[name] = trained.history  # the model itself is kept only while it is the best so far (memory)
    variant_val_encoder[name] = iwae_estimate(trained.vae.log_importance_weights(x_val, K_VAL, seed=SEED), K_VAL).mean()
    refined_val[name] = amortisation.refine_posterior(trained.vae, x_val, steps=REFINE_STEPS[0], seed=SEED)
    variant_val[name] = iwae_estimate(amortisation.posterior_log_weights(
        trained.vae, x_val, refined_val[name].z_mean, refined_val[name].z_log_var, K_VAL, seed=SEED), K_VAL).mean()
    print(f"{name:<40} {len(trained.history['loss']):6d}   {variant_val_encoder[name]:10.1f} | {variant_val[name]:10.1f}"
          f"{'  (cache)' if trained.from_cache else ''}")
    if name == max(variant_val, key=variant_val.get):  # the best so far, by the same rule as the final choice
        best_vae = trained.vae
    del trained
    gc.collect()
best_variant = max(variant_val, key=variant_val.get)
print(f"chosen on validation: {best_variant} ({time.perf_counter() - start:.0f} s)")

# %%
assert set(variant_val) == set(VARIANTS) and best_variant in VARIANTS
assert np.isclose(variant_val_encoder["course model"], iwae_estimate(
    vae.log_importance_weights(x_val, K_VAL, seed=SEED), K_VAL).mean())  # the same model as above
assert FAST or variant_val[best_variant] > variant_val["course model"]  # a better VAE exists, and validation finds it

# %% [markdown]
# PPCA's noise variance was chosen on the validation faces; the VAE's was
# learned on the training faces. To give both the same protocol, we also
# try multiplying the chosen VAE's decoder variance by a few factors
# (`amortisation.decoder_variance_scaled`; no retraining) and keep the factor
# with the best validation bound, 1 on a tie.

# %% tags=["nbval-ignore-output"]
scale_val = {}
for factor in VARIANCE_SCALES:
    with amortisation.decoder_variance_scaled(best_vae, factor):
        scale_val[factor] = iwae_estimate(amortisation.posterior_log_weights(
            best_vae, x_val, refined_val[best_variant].z_mean, refined_val[best_variant].z_log_var, K_VAL,
            seed=SEED), K_VAL).mean()
variance_scale = max(scale_val, key=scale_val.get)  # VARIANCE_SCALES starts with 1: ties keep the learned variance
print("validation IWAE by factor on the decoder variance: "
      + ", ".join(f"x{factor:g}: {value:.1f}" for factor, value in scale_val.items())
      + f"; chosen: x{variance_scale:g}")

# %%
assert variance_scale in VARIANCE_SCALES and scale_val[variance_scale] >= scale_val[1.0]

# %%
flipped_train = np.concatenate([x_train, x_train[:, :, ::-1]])
ppca_flip_choice = ppca_select(flat(flipped_train), flat_val,
                                    [q for q in PPCA_DIMS if q < len(flipped_train)], SIGMA2S)
ppca_validation_table(ppca_flip_choice, "PPCA on the 160 training faces and their mirror images (320), "
                                        "scored on the 40 validation faces")
ppca_candidates = {"PPCA": ppca_choice, "PPCA + flips": ppca_flip_choice}
best_ppca_name = max(ppca_candidates, key=lambda n: max(ppca_candidates[n].scores.values()))
best_ppca = ppca_candidates[best_ppca_name]
print(f"chosen on validation: {best_ppca_name}, q = {best_ppca.latent_dim}, sigma^2 = {best_ppca.sigma2:.5f}")

# %%
assert max(ppca_flip_choice.scores.values()) > max(ppca_choice.scores.values())  # mirror images help PPCA too

# %% [markdown]
# ### The amortisation gap: how much of the loss is the encoder's
#
# The encoder answers for every face in one pass; for one face, we can do
# better by optimising that face's posterior mean and variance directly, by
# gradient ascent on its ELBO, starting from the encoder's answer, with the
# decoder fixed (`amortisation.refine_posterior`). The ELBO gained is the
# **amortisation gap** (Cremer, Li & Duvenaud, 2018): what a better encoder
# could win without changing the model. The optimised posterior is also a
# better proposal for the IWAE bound, which stays a valid lower bound on
# $\log p(x)$ whatever proposal it uses (`amortisation.posterior_log_weights`).
# Optimising a test face's own posterior uses nothing but that face, as the
# encoder does. We do it for the chosen VAE, with its chosen decoder
# variance, on the 40-face subset (one test face per person), for two
# numbers of steps: if the gap still grows with more steps, what we measure
# is only a lower bound on it.

# %% tags=["nbval-ignore-output"]
start = time.perf_counter()
with amortisation.decoder_variance_scaled(best_vae, variance_scale):
    refined_by_steps = {steps: amortisation.refine_posterior(best_vae, x_test[subset], steps=steps, seed=SEED)
                        for steps in REFINE_STEPS}
    refined = refined_by_steps[max(REFINE_STEPS)]
    best_log_w = best_vae.log_importance_weights(x_test, K_ALL, seed=SEED)
    refined_log_w = amortisation.posterior_log_weights(best_vae, x_test[subset], refined.z_mean, refined.z_log_var,
                                                       K_ALL, seed=SEED)
    best_elbo_all = best_vae.elbo_terms(x_test, seed=SEED)["elbo"]
best_iwae_all = iwae_estimate(best_log_w, K_ALL)
refined_iwae_faces = iwae_estimate(refined_log_w, K_ALL)
refined_iwae = refined_iwae_faces.mean()
amortisation_gap = float(refined.gap.mean())
print(f"chosen VAE ({best_variant}, decoder variance x{variance_scale:g}), 40 test faces, ELBO with the encoder's "
      f"posterior {refined.encoder_elbo.mean():.1f} nats per face")
for steps, r in refined_by_steps.items():
    print(f"  optimised for {steps:4d} steps: ELBO {r.refined_elbo.mean():.1f}, amortisation gap at least "
          f"{r.gap.mean():.1f} nats per face")
print(f"IWAE (K = {K_ALL}) on the same 40 faces: encoder's proposal {best_iwae_all[subset].mean():.1f}, "
      f"optimised proposal {refined_iwae:.1f} ({time.perf_counter() - start:.0f} s)")

# %%
steps_short, steps_long = REFINE_STEPS
assert np.all(refined.gap >= -1.0) and amortisation_gap > 0  # the optimised posteriors are better
assert refined_iwae >= refined.refined_elbo.mean() - 1.0  # an IWAE bound is no lower than its ELBO
assert FAST or refined_by_steps[steps_long].gap.mean() >= refined_by_steps[steps_short].gap.mean() - 1.0

# %% [markdown]
# How the amortisation gap relates to the ELBO-IWAE gap (measured above, and
# again in notebook 05, section 3): the distance from the encoder's ELBO to
# $\log p(x)$ splits into the **amortisation gap** (the encoder's ELBO against
# the best ELBO for that face in the Gaussian family) and the **approximation
# gap** (that best ELBO against $\log p(x)$: a diagonal Gaussian cannot match
# the true posterior) (Cremer et al. 2018). Every IWAE bound lies between an
# ELBO and $\log p(x)$. So, on the same 40 faces and with the same estimates
# as the table above: the IWAE bound with the encoder's proposal says how far
# $\log p(x)$ is at least above the encoder's ELBO; the optimised posterior's
# ELBO gives the amortisation gap; and what the IWAE bound with the optimised
# proposal adds on top of the optimised ELBO is a lower bound on the
# approximation gap.

# %% tags=["nbval-ignore-output"]
encoder_elbo_40 = float(refined.encoder_elbo.mean())
iwae_gap_40 = float(best_iwae_all[subset].mean()) - encoder_elbo_40
approximation_at_least = refined_iwae - float(refined.refined_elbo.mean())
print(f"the encoder's ELBO, as refine_posterior estimates it: {encoder_elbo_40:.1f} nats per face")
print(f"IWAE (K = {K_ALL}, the encoder's proposal) minus it: {iwae_gap_40:.1f}: log p(x) is at least this far above")
print(f"amortisation gap: at least {amortisation_gap:.1f}; approximation gap: at least {approximation_at_least:.1f} "
      f"(IWAE with the optimised proposal minus the optimised ELBO)")

# %%
assert approximation_at_least >= -1.0  # an IWAE bound is no lower than the ELBO of its proposal

# %% [markdown]
# The two lower bounds say that much of the encoder's distance to
# $\log p(x)$ is amortisation: a better encoder, or per-face optimisation,
# would win most of what the IWAE bound shows. How large the approximation
# gap really is, these bounds cannot say: each is only "at least". (The gap
# is measured for the chosen VAE with its chosen decoder variance, a setting
# its encoder was not trained with, which may widen it.)

# %% [markdown]
# ### The verdict
#
# The best VAE against the best PPCA, each chosen on the validation faces,
# on the test faces. (The test faces were used once before, above, to compare
# the course VAE with the validated PPCA; that comparison is what prompted
# the search, whose choices were made on the validation faces only.) For the
# VAE we can only compute lower bounds on $\log p(x)$; for PPCA,
# $\log p(x)$ itself.

# %% tags=["nbval-ignore-output"]
from scipy import stats  # noqa: E402

ppca_best_test = ppca_log_likelihood(flat_test, best_ppca.params)
verdict_rows = [(f"VAE ({best_variant}), ELBO", best_elbo_all.mean(), best_elbo_all[subset].mean()),
                (f"VAE, IWAE K = {K_ALL}, encoder's proposal", best_iwae_all.mean(), best_iwae_all[subset].mean()),
                (f"VAE, IWAE K = {K_ALL}, optimised proposal", None, refined_iwae),
                (f"{best_ppca_name}, q = {best_ppca.latent_dim}, exact", ppca_best_test.mean(),
                 ppca_best_test[subset].mean())]
print(f"{'model, bound (nats per face)':<50} | {'200 test faces':>14} | {'40-face subset':>14}")
for label, value_all, value_subset in verdict_rows:
    print(f"{label:<50} | {'-' if value_all is None else f'{value_all:.1f}':>14} | {value_subset:14.1f}")
per_face = refined_iwae_faces - ppca_best_test[subset]  # the VAE's best bound minus PPCA, face by face
vae_minus_ppca = float(per_face.mean())
low, high = stats.t.interval(0.95, len(per_face) - 1, loc=per_face.mean(), scale=stats.sem(per_face))
print(f"\nthe VAE's best lower bound minus PPCA's exact log-likelihood, 40 faces: {vae_minus_ppca:+.1f} nats per "
      f"face, 95 % interval over faces [{low:+.1f}, {high:+.1f}]; below PPCA for {np.sum(per_face < 0)} of "
      f"{len(per_face)} faces; in bits per dimension of the cost, {-vae_minus_ppca / (N_DIMS * np.log(2)):+.4f}")

# %% tags=["nbval-ignore-output"]
proposal_gain = refined_iwae - refined.refined_elbo.mean()
missing = ppca_best_test[subset].mean() - refined.encoder_elbo.mean()
print(f"IWAE with the optimised proposal minus its ELBO: {proposal_gain:.1f} nats per face; the amortisation gap "
      f"measured closes {amortisation_gap / missing:.0%} of the distance from the encoder's ELBO to PPCA")

# %%
assert FAST or high < 0  # the best bound we could compute is below PPCA, face by face and on average
assert best_ppca.latent_dim == max(q for q in PPCA_DIMS if q < len(flipped_train))  # as many directions as allowed
assert FAST or amortisation_gap < missing  # the encoder explains only part of the distance

# %% [markdown]
# What the verdict says (full mode): the best lower bound we could compute
# for any VAE tried, with its settings and its decoder variance chosen on
# validation and each test face's posterior optimised, stays below PPCA's
# exact log-likelihood, by the margin printed above, for most faces. **We
# could not show a VAE matching the validated PPCA.** A bound cannot prove
# that the VAE is the worse model: its $\log p(x)$ could lie anywhere above
# the bound, and a Gaussian posterior, even optimised, may stay far from
# the true one. What the numbers do show:
#
# - the settings chosen on validation (per-pixel variance, flips) raised the
#   VAE's bound a lot, and the encoder was costing hundreds of nats per face
#   (the amortisation gap, a lower bound on what a better encoder could win);
# - PPCA, tuned the same way, uses as many directions as the training faces
#   allow and a noise variance chosen on new faces: with 160 faces (320 with
#   mirror images) in 4,096 dimensions, a Gaussian spread over their span is
#   hard to beat.
#
# Why a VAE does not win here is a question this notebook can only raise,
# not settle. Two plausible reasons, not measured: a decoder that must learn
# a curved surface of faces from 160 points has little to learn it from,
# and a small code pays in KL for what PPCA's many directions explain. What
# might change it (far more faces, a sharper likelihood, a hierarchical VAE)
# does not fit a 160-face course notebook. The claim "the VAE is the better
# face model" is not supported on this data.

# %% [markdown]
# ### The conclusions at a small scale
#
# The fast mode trains too briefly to show the conclusions above, so the
# test suite reproduces them on 32 x 32 faces with small networks
# (`tests/test_claims.py`, marker `claims`): the validated PPCA above the
# untuned one and above a VAE's bound
# (`test_validated_ppca_beats_the_vae_and_the_untuned_ppca_on_test_faces`),
# and an amortisation gap that is real but smaller than the distance to
# PPCA (`test_the_amortisation_gap_is_real_but_closes_only_part_of_the_distance_to_ppca`).
# The ranking of the four VAE settings and the chosen variance factor are
# not reproduced small: they depend on the full-size faces and networks,
# and are checked only in the full-mode run.

# %% [markdown]
# ## The results record
#
# The numbers this notebook's conclusions rest on, from this run, saved to
# `notebooks/results/03_training_on_faces.json` in the full mode (the fast
# mode leaves the committed record alone). The tests check the conclusions
# above against it.

# %% tags=["nbval-ignore-output"]
record = {
    "vae_setting": best_variant,
    "test_faces": len(subset),  # the bounds and PPCA's log-likelihood below are on the 40-face subset ...
    "vae_test_elbo_nats": best_elbo_all[subset].mean(),
    "vae_test_elbo_200_nats": best_elbo_all.mean(),  # ... and these "_200" ones on all 200 test faces
    "vae_test_iwae_nats": refined_iwae,
    "vae_decoder_variance_scale": variance_scale,
    "iwae_k": K_ALL,
    "vae_test_iwae_encoder_200_nats": best_iwae_all.mean(),
    "ppca_test_nats": ppca_best_test[subset].mean(),
    "ppca_test_200_nats": ppca_best_test.mean(),
    "ppca_latent_dim": best_ppca.latent_dim,
    "ppca_sigma2": best_ppca.sigma2,
    "ppca_flips": best_ppca_name == "PPCA + flips",
    "ppca_untuned_test_200_nats": ppca_ml_all.mean(),
    "course_vae_test_iwae_200_nats": bound_all[max(k_all)],
    "course_vae_test_elbo_200_nats": bound_all[1],
    "vae_minus_ppca_nats": vae_minus_ppca,
    "vae_minus_ppca_interval": [low, high],
    "active_units": int(active.sum()),  # of the course model
    "latent_dim": vae.latent_dim,
    "amortisation_gap_nats": amortisation_gap,
    "variants_validation_iwae_nats": variant_val,
    "variants_validation_iwae_encoder_nats": variant_val_encoder,
    "amortisation_gap_by_steps": {str(steps): r.gap.mean() for steps, r in refined_by_steps.items()},
    "reconstruction_mse": {"vae": vae_mse, "ppca_32": ppca_ml_mse, "ppca_validated": ppca_mse},
}
results.write_record("03_training_on_faces", record)
print(results.format_record(record))


# %% [markdown]
# ## The trained model is in the cache
#
# `load_or_train_vae` saved the model (weights, optimiser state, sampling
# noise state) with its history in the git-ignored cache
# (`config.cache_dir()`). Notebooks 04 and 05 call it with the same settings
# and get this model back in a second, without training:

# %%
again = load_or_train_vae(settings, faces=faces, split=split)
assert again.from_cache and again.path == result.path
assert np.array_equal(again.vae.encode(x_test), vae.encode(x_test))
assert again.history == history
print("loaded from the cache:", again.from_cache, "| same encodings:",
      np.array_equal(again.vae.encode(x_test), vae.encode(x_test)))

# %% [markdown]
# ## What we did
#
# - Trained the course VAE (Gaussian decoder, 32 latent dimensions) on 160
#   faces, with early stopping on 40 validation faces, a learning-rate
#   schedule and a NaN guard, and saved it to the cache for the next
#   notebooks.
# - Read its training curves in nats per image, and looked at
#   reconstructions of test faces, samples from the prior, an interpolation
#   between two people and traversals of the most active latent dimensions.
# - Measured it on the test faces: the ELBO and the IWAE bound (up to
#   $K = 100$ on all 200, $K = 1000$ on one face per person), in nats per
#   image and bits per dimension, against PPCA's exact
#   log-likelihood under the same data model, with PPCA's latent size and
#   noise variance chosen on the validation faces, as the VAE's settings are.
# - Tried to make a VAE win (per-pixel variance, flips, a larger code, a
#   rescaled decoder variance; all chosen on validation), measured the
#   amortisation gap, and found no VAE whose bound reaches the validated
#   PPCA's exact log-likelihood.
# - Counted active latent units and saw how the KL is shared among them.
#
# Next: **04 recognising people** asks whether the codes of this model know
# who is who.

# %% [markdown]
# ## References
#
# - Kingma, D. P. and Welling, M. Auto-Encoding Variational Bayes. ICLR 2014.
#   The VAE and its ELBO, trained here on faces.
# - Rezende, D. J., Mohamed, S. and Wierstra, D. Stochastic Backpropagation and
#   Approximate Inference in Deep Generative Models. ICML 2014. The same model,
#   found independently.
# - Burda, Y., Grosse, R. and Salakhutdinov, R. Importance Weighted
#   Autoencoders. ICLR 2016. The bound $\mathcal L_K$ used for held-out
#   log-likelihoods, and the criterion for active latent units.
# - Tipping, M. E. and Bishop, C. M. Probabilistic principal component
#   analysis. Journal of the Royal Statistical Society, Series B 61(3), 1999.
#   Probabilistic PCA, the baseline with an exact log-likelihood.
# - Hoffman, M. D. and Johnson, M. J. ELBO surgery: yet another way to carve
#   up the variational evidence lower bound. NIPS 2016 Workshop on Advances
#   in Approximate Bayesian Inference. The KL term split into information
#   and the aggregate posterior's mismatch with the prior.
# - Cremer, C., Li, X. and Duvenaud, D. Inference suboptimality in variational
#   autoencoders. ICML 2018. The amortisation gap, measured by optimising each
#   face's posterior.
# - Loaiza-Ganem, G. and Cunningham, J. P. The continuous Bernoulli: fixing a
#   pervasive error in variational autoencoders. NeurIPS 2019. Why a Bernoulli
#   "likelihood" of grey values is not normalised, and so why the course trains
#   a Gaussian decoder.
# - Theis, L., van den Oord, A. and Bethge, M. A note on the evaluation of
#   generative models. ICLR 2016. Comparing image models by log-likelihood, and
#   bits per dimension.
# - Higgins, I., Matthey, L., Pal, A., Burgess, C., Glorot, X., Botvinick, M.,
#   Mohamed, S. and Lerchner, A. β-VAE: learning basic visual concepts with a
#   constrained variational framework. ICLR 2017. A KL weight β other than 1
#   (Exercise 1).
# - Bowman, S. R., Vilnis, L., Vinyals, O., Dai, A. M., Jozefowicz, R. and
#   Bengio, S. Generating sentences from a continuous space. CoNLL 2016.
#   Annealing the KL weight from 0, the "KL warm-up" named among the settings
#   not tried.
# - Sønderby, C. K., Raiko, T., Maaløe, L., Sønderby, S. K. and Winther, O.
#   Ladder variational autoencoders. NIPS 2016. The same schedule, under the
#   name warm-up.
# - Samaria, F. S. and Harter, A. C. Parameterisation of a stochastic model for
#   human face identification. IEEE Workshop on Applications of Computer
#   Vision, 1994. The ORL faces.

# %% [markdown]
# ## Exercises
#
# Replace each `None` with your answer, run the cell, then run the check
# below it. The check says whether you are right and gives a hint if not; it
# never shows the answer.
#
# **Exercise 1.** Predict, before running anything: compared with the model
# above ($\beta = 1$), what does training with $\beta = 4$ (same data, seed
# and number of epochs) do to the KL term and to the reconstruction loss on
# the validation faces? Answer `"lower"`, `"higher"` or `"same"` for each.

# %%
from vaeface_utils.checks import training as check

answer = None  # replace None with your answer
# solution
answer = {"kl": "lower", "reconstruction_loss": "higher"}

# %%
check.beta_effect(answer)

# %% [markdown]
# Now run it: a short run with $\beta = 4$, compared with the $\beta = 1$
# run above at the same epoch (both start from the same seeded weights).

# %% tags=["nbval-ignore-output"]
beta_settings = settings.replace(beta=4.0, epochs=BETA_EPOCHS, patience=BETA_EPOCHS)
beta_history = load_or_train_vae(beta_settings, faces=faces, split=split).history
epoch = min(BETA_EPOCHS, len(history["loss"])) - 1
for key in ("val_kl", "val_reconstruction_loss"):
    print(f"epoch {epoch + 1}, {key:>23}: beta = 1: {history[key][epoch]:9.1f}, "
          f"beta = 4: {beta_history[key][epoch]:9.1f} nats per image")

# %%
assert beta_history["val_kl"][epoch] < history["val_kl"][epoch]
assert beta_history["val_reconstruction_loss"][epoch] > history["val_reconstruction_loss"][epoch]

# %% [markdown]
# **Exercise 2.** The VAE's IWAE bound with the largest $K$ on the 40-face
# subset is `bound_subset[max(k_subset)]` nats per image. Convert it by hand
# (with NumPy, not `nats_to_bits_per_dim`) into bits per dimension of
# the cost $-\log p(x)$, for images of `N_DIMS` pixels.

# %%
answer = None  # replace None with your answer
# solution
answer = -bound_subset[max(k_subset)] / (N_DIMS * np.log(2.0))

# %%
check.bits_per_dim(answer, bound_subset[max(k_subset)], N_DIMS)

# %% [markdown]
# **Exercise 3.** Count the active latent units of the model on the
# *training* faces: the dimensions whose posterior mean (`vae.encode`) has a
# variance across the 160 training faces above `ACTIVE_THRESHOLD`. Is the
# count the same as on the test faces?

# %%
answer = None  # replace None with your answer
# solution
answer = int(np.sum(vae.encode(x_train).var(axis=0) > ACTIVE_THRESHOLD))

# %%
check.active_units(answer, vae.encode(x_train), threshold=ACTIVE_THRESHOLD)

# %% [markdown]
# And the question: is the count on the training faces the same as on the
# test faces? Answer `True` or `False` (count on `vae.encode(x_test)` too).

# %%
answer = None  # replace None with True or False
# solution
answer = bool(np.sum(vae.encode(x_train).var(axis=0) > ACTIVE_THRESHOLD)
              == np.sum(vae.encode(x_test).var(axis=0) > ACTIVE_THRESHOLD))

# %%
check.active_units_same(answer, vae.encode(x_train), vae.encode(x_test), threshold=ACTIVE_THRESHOLD)

# %% [markdown]
# **Exercise 4.** Tune PPCA yourself: at the VAE's latent size (32), which
# noise variance in `SIGMA2S` gives the highest mean log-likelihood of the
# validation faces? Fit on `flat_train` with `ppca_fit(..., sigma2=s2)`
# and score `flat_val` with `ppca_log_likelihood`. Is it above or below
# the maximum-likelihood variance `ppca_ml.sigma2`, and why?

# %%
answer = None  # replace None with your answer
# solution
scores = {s2: ppca_log_likelihood(flat_val, ppca_fit(flat_train, 32, sigma2=s2)).mean() for s2 in SIGMA2S}
answer = max(scores, key=scores.get)

# %%
check.ppca_noise_variance(answer, flat_train, flat_val, 32, SIGMA2S)

# %% [markdown]
# **Exercise 5: change the decoder's likelihood.** The course model's decoder
# learned one noise variance, shared by all pixels. Keep its encoder and
# decoder, and replace the learned variance by a fixed one,
# $\sigma^2 = 0.01$: build
# `VAE(likelihood="gaussian", gaussian_log_var=np.log(0.01), ...)` with the
# same `image_shape`, `latent_dim`, `filters` and `kernel_size` as `vae`,
# and copy the weights with `new.encoder.set_weights(vae.encoder.get_weights())`
# (and the same for the decoder). **First predict**, after looking at the
# learned variance `float(np.exp(vae.x_log_var.numpy()))`: is the reconstruction
# loss $-\mathbb E_q[\log p(x \mid z)]$ on the validation faces `"higher"`,
# `"lower"` or the `"same"` with the fixed variance? Then measure it, as
# minus the mean of `new.elbo_terms(x_val, seed=SEED)["log_px_given_z"]`.
# Answer `{"prediction": ..., "loss": ...}`.

# %%
from vaeface_utils.model import VAE

answer = None  # replace None with your answer
# solution
fixed = VAE(image_shape=vae.image_shape, latent_dim=vae.latent_dim, likelihood="gaussian",
            gaussian_log_var=np.log(0.01), filters=vae.filters, kernel_size=vae.kernel_size)
fixed.encoder.set_weights(vae.encoder.get_weights())
fixed.decoder.set_weights(vae.decoder.get_weights())
answer = {"prediction": "higher", "loss": -float(np.mean(fixed.elbo_terms(x_val, seed=SEED)["log_px_given_z"]))}

# %%
check.fixed_variance_decoder(answer, vae, x_val, np.log(0.01), seed=SEED)

