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
# # Start here: meet the course and its faces
#
# **Goal:** check that your set-up works, load the 400 faces that the whole
# course uses, and fix the split of people and images that every later
# notebook shares.
#
# **You will learn**
# - what the course covers, in which order, and what each notebook needs;
# - how the helper package `vaeface_utils` finds the face data, and what it
#   says when it cannot;
# - what is in the AT&T/ORL "Database of Faces", measured, not asserted;
# - why the split is drawn *per person* and seeded.
#
# **Prerequisites:** Python and NumPy. No machine learning yet.
#
# **Run time:** under a minute, in the full mode and the fast mode alike.
#
# **Reading time:** about 10 minutes, with the code.

# %% [markdown] tags=["launch", "remove-cell"]
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vaeface/vaeface/blob/main/exercises/00_start_here.ipynb)
# [![Launch Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/vaeface/vaeface/main?urlpath=lab/tree/exercises/00_start_here.ipynb)
# (the exercise version; with solutions: [Colab](https://colab.research.google.com/github/vaeface/vaeface/blob/main/notebooks/00_start_here.ipynb),
# [Binder](https://mybinder.org/v2/gh/vaeface/vaeface/main?urlpath=lab/tree/notebooks/00_start_here.ipynb))
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
# ## What this course is
#
# A popular blog article, "VAE for face recognition", suggests training a
# variational autoencoder (VAE) on face images and recognising people from its
# latent features. The idea is reasonable; the article's maths and code are
# not. This course rebuilds it properly, one notebook at a time, and measures
# every claim on real faces:
#
# | notebook | what you do |
# |---|---|
# | **00 start here** | check the set-up, load the faces, fix the split (this notebook) |
# | **01 the ELBO** | derive the evidence lower bound twice and check every step by computation |
# | **02 the article's Keras code** | run the article's code, watch each bug fail, fix it into a tested Keras 3 VAE |
# | **03 training on faces** | train the VAE, look at reconstructions and samples, measure it in nats and bits per pixel |
# | **04 recognising people** | classify people from the latent features against eigenfaces and fisherfaces, honestly |
# | **05 limitations** | blur, posterior collapse, small data, nuisance factors, privacy: each one measured |
#
# Code that matters lives in the small helper package `vaeface_utils` and is
# tested there; the notebooks import it. Each notebook ends in exercises whose
# answers a self-check marks without giving them away.

# %% [markdown]
# ## Parameters
#
# Every notebook has one cell like this. `config.fast_mode()` reads the
# environment variable `VAEFACE_FAST`: the tests set it to `1` to shrink
# training so that the whole course runs in minutes; leave it unset for the
# real course. `seed_everything` seeds Python, NumPy and Keras from one number.

# %% tags=["parameters"]
from vaeface_utils import config

FAST = config.fast_mode()  # VAEFACE_FAST=1 in the tests and CI
SEED = 0  # one seed for everything random in this notebook
IMAGE_SIZE = (64, 64)  # (height, width) the course works at
N_TRAIN = 5  # images of each person for training (ORL's standard protocol)
N_VAL = 1  # of those, how many are held back for validation
config.seed_everything(SEED)

# %% [markdown]
# ## Check the environment
#
# The versions below are the ones `requirements.txt` pins. A GPU is never
# needed: every notebook is sized for a two-core laptop CPU.

# %% tags=["nbval-ignore-output"]
import numpy as np
import matplotlib.pyplot as plt

environment = config.environment()
for name, value in environment.items():
    print(f"{name:>14}: {value}")

# %% [markdown]
# The listing above depends on your machine. What the course needs of it:

# %%
assert environment["keras"].startswith("3."), "the course needs Keras 3"
assert environment["keras backend"] == "tensorflow", "set KERAS_BACKEND=tensorflow (or unset it)"
assert int(environment["tensorflow"].split(".")[1]) >= 16, "the course needs TensorFlow 2.16 or newer"
print("Environment OK: Keras 3 on TensorFlow", environment["tensorflow"])

# %% [markdown]
# ## Load the faces
#
# `load_faces()` looks in a fixed order: a path you pass; the folder named by
# the environment variable `VAEFACE_DATA`; the repository's `data/` folder;
# and last, scikit-learn's copy of the same faces, downloaded once and cached.
# When it finds nothing it says where it looked and how to fix it (see
# `data/README.md`). It checks every file on the way: a missing person, a
# stray file or a damaged image is an error that names the file, never a
# silently smaller data set.

# %%
from vaeface_utils.data import load_faces

faces = load_faces(size=IMAGE_SIZE)
images, identity = faces.images, faces.identity
print(faces.description)
print(f"images:   shape {images.shape}, dtype {images.dtype}")
print(f"identity: shape {identity.shape}, dtype {identity.dtype}, values {identity.min()} to {identity.max()}")

# %% [markdown]
# `images` has the shape every Keras image model in the course expects,
# `(n, height, width, channels)`, with one grey channel and values in
# [0, 1]. `identity[i]` is the person in image `i`: person 0 is the archive's
# folder `s1`, person 39 is `s40`.

# %% [markdown]
# ## Everyone in the data set
#
# The first image of each of the 40 people, labelled with their folder name.

# %%
from vaeface_utils.plotting import image_grid

first_of_each = np.array([np.flatnonzero(identity == person)[0] for person in range(40)])
fig, ax = plt.subplots(figsize=(10, 4.6))
image_grid(images[first_of_each], ax=ax, ncols=10, titles=[f"s{p + 1}" for p in range(40)],
           title=f"All 40 people, first image of each ({IMAGE_SIZE[0]}x{IMAGE_SIZE[1]} pixels, whole data set)")
plt.show()

# %% [markdown]
# And all ten images of two people: this is the variation a recogniser must
# see past (pose, expression, glasses, lighting), with only ten pictures of
# anyone.

# %%
fig, axes = plt.subplots(2, 1, figsize=(10, 2.6))
for ax, person in zip(axes, [0, 13]):
    image_grid(images[identity == person], ax=ax, ncols=10,
               title=f"All 10 images of person s{person + 1} (whole data set)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Facts about the data, computed
#
# Every number below is computed here, from the arrays you just loaded.

# %%
counts = np.bincount(identity)
pixels_per_image = images.shape[1] * images.shape[2]
print(f"people:                 {len(counts)}")
print(f"images:                 {len(images)}")
print(f"images per person:      min {counts.min()}, max {counts.max()}")
print(f"pixels per image:       {pixels_per_image} ({images.shape[1]} x {images.shape[2]})")
print(f"pixel mean:             {images.mean():.4f}")
print(f"pixel std:              {images.std():.4f}")
print(f"pixel min, max:         {images.min():.4f}, {images.max():.4f}")
print(f"memory as float32:      {images.nbytes / 2**20:.2f} MiB")
person_means = np.array([images[identity == p].mean() for p in range(40)])
print(f"darkest, lightest person (mean grey): s{person_means.argmin() + 1} {person_means.min():.3f}, "
      f"s{person_means.argmax() + 1} {person_means.max():.3f}")

# %% [markdown]
# Two facts to keep in mind for later. There are 4,096 pixels per image but
# only 400 images: far fewer examples than dimensions, so any model with many
# parameters can memorise the training set (notebook 05 measures this). And a
# pixel is a grey level in [0, 1], not a coin flip: when notebook 01 writes a
# likelihood for an image, it has to say what kind of number a pixel is.
#
# The histogram shows how the grey levels are spread.

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.hist(images.ravel(), bins=64, range=(0, 1), color="0.3")
ax.set_xlabel("grey level (0 = black, 1 = white)")
ax.set_ylabel("number of pixels")
ax.set_title(f"Grey levels of all {len(images)} images, all 40 people")
plt.show()

# %% [markdown]
# ## The split every notebook shares
#
# Recognising a person means recognising a *new picture* of someone seen
# before. So the split is drawn per person: of each person's ten images,
# `N_TRAIN = 5` go to training and the other five are the test queries
# (ORL's standard protocol), and `N_VAL = 1` of the five training images is
# held back for validation: choosing epochs, latent size and other settings
# happens on validation images, never on test images. The seed makes the
# split the same on every machine.

# %%
from vaeface_utils.data import split_per_identity

split = split_per_identity(identity, N_TRAIN, n_val=N_VAL, seed=SEED)
print(split)
for name, part in [("train", split.train), ("val", split.val), ("test", split.test)]:
    per_person = np.bincount(identity[part], minlength=40)
    print(f"{name:>5}: {len(part):3d} images, {per_person.min()} of each of {np.count_nonzero(per_person)} people")
print("person s1: train", split.train[identity[split.train] == 0],
      "val", split.val[identity[split.val] == 0], "test", split.test[identity[split.test] == 0])

# %% [markdown]
# Check that no image is in two parts and none is left out:

# %%
parts = np.concatenate([split.train, split.val, split.test])
assert len(parts) == len(np.unique(parts)) == len(images)
again = split_per_identity(identity, N_TRAIN, n_val=N_VAL, seed=SEED)
assert all(np.array_equal(a, b) for a, b in [(split.train, again.train), (split.val, again.val), (split.test, again.test)])
print("Disjoint, complete, and the same every time it is drawn with the same seed.")

# %%
fig, axes = plt.subplots(3, 1, figsize=(8, 3.6))
for ax, (name, part) in zip(axes, [("training", split.train), ("validation", split.val), ("test", split.test)]):
    chosen = part[identity[part] < 2]
    image_grid(images[chosen], ax=ax, ncols=10, title=f"{name} images of people s1 and s2")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## What we did
#
# - Checked the environment: Keras 3 on TensorFlow, on the CPU.
# - Loaded the 400 faces of 40 people as float32 arrays of shape
#   `(400, 64, 64, 1)` in [0, 1], with their identities.
# - Looked at everyone, and at the variation within one person.
# - Drew the per-person split that the rest of the course uses:
#   160 training, 40 validation and 200 test images.
#
# Next: **01 the ELBO**, the objective a VAE maximises, derived and checked.

# %% [markdown]
# ## References
#
# - Kingma, D. P. and Welling, M. Auto-Encoding Variational Bayes. ICLR 2014.
#   The variational autoencoder that the course rebuilds and tests.
# - Rezende, D. J., Mohamed, S. and Wierstra, D. Stochastic Backpropagation and
#   Approximate Inference in Deep Generative Models. ICML 2014. The same model,
#   found independently.
# - Samaria, F. S. and Harter, A. C. Parameterisation of a stochastic model for
#   human face identification. IEEE Workshop on Applications of Computer
#   Vision, 1994. The ORL faces (the AT&T "Database of Faces") loaded and split
#   here.

# %% [markdown]
# ## Exercises
#
# Replace each `None` with your answer, run the cell, then run the check below
# it. The check says whether you are right and gives a hint if not; it never
# shows the answer.
#
# **Exercise 1.** With the 3/7 protocol (3 training images of each person, no
# validation), how many test images are there in all? Compute it with
# `split_per_identity`.

# %%
from vaeface_utils.checks import start as check

answer_test_images = None  # replace None with your answer
# solution
answer_test_images = len(split_per_identity(identity, 3, seed=SEED).test)

# %%
check.test_images_3_of_10(answer_test_images)

# %% [markdown]
# **Exercise 2.** Compute the mean face of person s1 (the average of their
# ten images), as an array of shape `(64, 64)`.

# %%
answer_mean_face = None  # replace None with your answer
# solution
answer_mean_face = images[identity == 0, :, :, 0].mean(axis=0)

# %%
check.mean_face_s1(answer_mean_face, images, identity)

# %% [markdown]
# **Exercise 3.** What fraction of all pixels are darker than 0.2 (nearly
# black)? A number between 0 and 1.

# %%
answer_dark_fraction = None  # replace None with your answer
# solution
answer_dark_fraction = float((images < 0.2).mean())

# %%
check.dark_fraction(answer_dark_fraction, images)

# %% [markdown]
# **Exercise 4: write the split yourself.** Write a function
# `my_split(identity, n_train, seed)` that returns two arrays of image
# indices, `(train, test)`: for every person, `n_train` of their images
# chosen at random in `train`, all their other images in `test`. The same
# seed must give the same split, another seed (almost always) another one.
# Use `np.random.default_rng(seed)`, and `np.flatnonzero(identity == person)`
# for the indices of one person's images. The check runs your function for
# several sizes and seeds.

# %%
my_split = None  # replace None with your function
# solution
def my_split(identity, n_train, seed):
    rng = np.random.default_rng(seed)
    train = np.concatenate([rng.choice(np.flatnonzero(identity == person), n_train, replace=False)
                            for person in np.unique(identity)])
    return train, np.setdiff1d(np.arange(len(identity)), train)

# %%
check.split_function(my_split, identity)

