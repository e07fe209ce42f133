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
# # Review the article's Keras code and fix it into a working VAE
#
# **Goal:** run the article's Keras VAE on the faces, watch every bug fail
# with its real error or symptom, and fix it step by step into the tested
# Keras 3 model the rest of the course uses (`vaeface_utils.model.VAE`).
#
# **You will learn**
# - why a Keras `Layer` cannot be trained, and why layers created inside
#   `call` never learn;
# - what `loss='mse'` leaves out of a VAE (the KL term), and what that does to
#   samples from the prior;
# - why the loss must be *summed* over pixels to be in nats, how mean
#   squared error relates to a Gaussian log-likelihood, and why the Bernoulli
#   loss on grey faces is not a log-likelihood;
# - how to write `train_step` and `test_step` for a VAE in Keras 3, seed its
#   noise, save it and load it back;
# - which test in `tests/test_model.py` guards each fix.
#
# **Prerequisites:** notebook 00 (the faces and the split) and notebook 01
# (the ELBO); basic Keras (`Model`, `compile`, `fit`).
#
# **Run time:** about a minute on a two-core laptop CPU in the full mode,
# under half a minute in the fast mode.
#
# **Reading time:** about 35 minutes, with the code.

# %% [markdown] tags=["launch", "remove-cell"]
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vaeface/vaeface/blob/main/exercises/02_keras_vae.ipynb)
# [![Launch Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/vaeface/vaeface/main?urlpath=lab/tree/exercises/02_keras_vae.ipynb)
# (the exercise version; with solutions: [Colab](https://colab.research.google.com/github/vaeface/vaeface/blob/main/notebooks/02_keras_vae.ipynb),
# [Binder](https://mybinder.org/v2/gh/vaeface/vaeface/main?urlpath=lab/tree/notebooks/02_keras_vae.ipynb))
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
# The fast mode (`VAEFACE_FAST=1`, used by the tests) trains each model for
# only two epochs; the figures then show barely trained models.

# %% tags=["parameters"]
from vaeface_utils import config

FAST = config.fast_mode()  # VAEFACE_FAST=1 in the tests and CI
SEED = 0  # one seed for everything random in this notebook
N_TRAIN, N_VAL = 5, 1  # the course's split: 5 images per person for training and validation (4 + 1)
LATENT_DIM = 32  # size of the fixed model's latent code
BATCH_SIZE = 32
MSE_EPOCHS = 2 if FAST else 30  # the minimally fixed article model, trained with loss='mse'
ONE_PAGE_EPOCHS = 2 if FAST else 20  # the VAE written out on one page, trained briefly
EPOCHS = 2 if FAST else 150  # the fixed VAE
config.seed_everything(SEED)

# %% [markdown]
# ## Set up
#
# The article imports `import tensorflow as tf` and
# `from tensorflow.keras import layers`. We import the same names: `tf`, and
# `layers` with `from keras import layers`; in TensorFlow 2.16 and later
# `tensorflow.keras` is this same Keras 3 (the cell checks it). `show_error`
# runs a piece of code and prints the exception it raises as one line: its
# type and the first line of its message (TensorFlow's messages can carry
# file paths and memory addresses, which we trim so the output is the same on
# every machine).

# %%
import re

import matplotlib.pyplot as plt
import numpy as np

import keras
import tensorflow as tf
from keras import layers

from vaeface_utils import elbo
from vaeface_utils.data import load_faces, split_per_identity
from vaeface_utils.plotting import curves, image_grid

assert tf.keras.layers.Dense is layers.Dense  # tensorflow.keras is the Keras 3 imported here


def show_error(action):
    """Run ``action()`` and print ``ErrorType: first line of the message`` (or 'no error')."""
    try:
        action()
    except Exception as error:  # noqa: BLE001 - we want to see any error
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # Keras colours part of its messages
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        lines = [line for line in lines if not line.startswith("Exception encountered when calling")]
        message = lines[0] if lines else "(no message)"
        message = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", message)  # TensorFlow's internal op names
        message = re.sub(r"\s*\[Op:\w+\].*$", "", message)
        print(f"{type(error).__name__}: {message[:400]}")
    else:
        print("no error")


# %% [markdown]
# ## The faces and the split
#
# The course's split (notebook 00): of each person's ten images, five are for
# training, and one of those five is held back for validation. So 160 images
# to train on, 40 to validate on, 200 to test on. The split is per identity:
# every person has images in all three parts, so a test image is one the
# model never saw, of a person whose other images it trained on.

# %%
faces = load_faces()
split = split_per_identity(faces.identity, N_TRAIN, n_val=N_VAL, seed=SEED)
x_train, x_val, x_test = (faces.images[part] for part in (split.train, split.val, split.test))
print(f"x_train {x_train.shape}, x_val {x_val.shape}, x_test {x_test.shape}; "
      f"dtype {x_train.dtype}, values in [{faces.images.min():.0f}, {faces.images.max():.0f}]")
n_people = len(np.unique(faces.identity))
per_person = {name: np.bincount(faces.identity[part], minlength=n_people)
              for name, part in (("training", split.train), ("validation", split.val), ("test", split.test))}
print(", ".join(f"{counts[0]} {name}" for name, counts in per_person.items()),
      f"images of each of the {n_people} people; no image in two parts")
assert all(np.all(counts == counts[0]) for counts in per_person.values())  # the same for every person
assert not set(split.test) & (set(split.train) | set(split.val)) and not set(split.train) & set(split.val)
# the first test image of each of the first ten people, shown in the figures below
first_test = np.array([np.flatnonzero(faces.identity[split.test] == p)[0] for p in range(10)])
shown_people = faces.identity[split.test][first_test] + 1  # people are named s1 to s40

# %% [markdown]
# ## The article's code
#
# This is the article's code with two changes: its four comment lines are
# left out (`# 编码器`, "encoder"; `# 解码器`, "decoder"; `# VAE`; and
# `# 训练VAE`, "train the VAE"), and its two import lines are in the set-up
# cell above, with `from keras import layers` for
# `from tensorflow.keras import layers` (the same Keras 3 in TensorFlow 2.16
# and later). Its last three lines (which build and train it) are left for
# the cells below, so that we can run them one at a time. `x_train` is our
# training faces.

# %%
class Encoder(layers.Layer):
    def call(self, inputs):
        x = layers.Dense(128)(inputs)
        x = layers.LeakyReLU()(x)
        z_mean = layers.Dense(64)(x)
        z_log_var = layers.Dense(64)(x)
        return {'z_mean': z_mean, 'z_log_var': z_log_var}

class Decoder(layers.Layer):
    def call(self, inputs):
        x = layers.Dense(128)(inputs)
        x = layers.LeakyReLU()(x)
        x = layers.Dense(784)(x)
        x = tf.reshape(x, (-1, 28, 28))
        return x

class VAE(layers.Layer):
    def call(self, inputs):
        encoder = Encoder()
        decoder = Decoder()
        z_mean, z_log_var = encoder(inputs)
        epsilon = tf.random.normal(shape=tf.shape(z_mean))
        z = z_mean + tf.exp(z_log_var / 2) * epsilon
        reconstructed = decoder(z)
        return reconstructed


# %% [markdown]
# ### Bug 1: a `Layer` cannot be compiled or trained
#
# The article's last lines call `compile` and `fit`. Those belong to
# `keras.Model`; a `keras.layers.Layer` is a building block without them.

# %%
vae = VAE()
show_error(lambda: vae.compile(optimizer='adam', loss='mse'))
show_error(lambda: vae.fit(x_train, x_train, epochs=100, batch_size=32))

# %% [markdown]
# ### Bug 2: layers created inside `call` are new, untrained layers on every call
#
# `Encoder.call` builds its `Dense` layers each time it runs. Keras tracks a
# layer's weights when the layer is an attribute set in `__init__` (or
# weights created in `build`); layers made and dropped inside `call` are
# invisible to it. So the encoder owns no weights an optimiser could update,
# and each call draws fresh random ones: the same faces get different codes.

# %%
encoder = Encoder()
first, second = encoder(x_train[:4]), encoder(x_train[:4])
print("trainable weights the encoder owns:", len(encoder.trainable_weights))
print("same input, same z_mean on two calls:", np.allclose(first["z_mean"], second["z_mean"]))

# %% [markdown]
# ### Bug 3: unpacking a dict gives its keys
#
# `Encoder` returns a dict, and `z_mean, z_log_var = encoder(inputs)` unpacks
# it like any Python dict: into its two *keys*, the strings `'z_mean'` and
# `'z_log_var'`. The next line that does arithmetic with them fails.

# %%
z_mean, z_log_var = encoder(x_train[:4])
print(repr(z_mean), repr(z_log_var))
show_error(lambda: vae(x_train[:4]))

# %% [markdown]
# ### Bug 4: shapes for 28x28 digits, and no `Flatten`
#
# The code was written for MNIST (28 x 28 = 784 pixels). On our faces,
# `Dense` acts on the *last* axis only: without a `Flatten`, the encoder
# treats each of the 64 x 64 pixels as a separate one-number input and
# returns a "code" per pixel. The decoder then reshapes whatever it gets into
# 28 x 28 images: from 4 faces it silently makes thousands of 28 x 28 images.
# Flattening the input fixes the encoder, but 784 outputs still cannot be
# compared with 4,096 pixels.

# %%
codes = encoder(x_train[:4])["z_mean"]
print("z_mean from 4 faces without Flatten:", tuple(codes.shape))
print("decoded:", tuple(Decoder()(codes).shape))
flat = x_train[:4].reshape(4, -1)
decoded = Decoder()(encoder(flat)["z_mean"])
print("with the faces flattened, decoded:", tuple(decoded.shape))
show_error(lambda: keras.losses.MeanSquaredError()(x_train[:4], decoded))

# %% [markdown]
# ## A minimal fix that still uses `loss='mse'`
#
# Fix only what stops the code from running: a `keras.Model` with its layers
# created once in `__init__`, a tuple instead of a dict, a `Flatten`, and 4,096
# outputs reshaped to `(64, 64, 1)`. Everything else stays as the article
# wrote it: the same dense sizes, unseeded noise, sampling on every call, and
# `loss='mse'`.

# %%
class MinimallyFixedVAE(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.flatten = layers.Flatten()
        self.encoder_hidden = layers.Dense(128)
        self.encoder_activation = layers.LeakyReLU()
        self.to_z_mean = layers.Dense(64)
        self.to_z_log_var = layers.Dense(64)
        self.decoder_hidden = layers.Dense(128)
        self.decoder_activation = layers.LeakyReLU()
        self.to_pixels = layers.Dense(64 * 64)
        self.to_image = layers.Reshape((64, 64, 1))

    def encode(self, x):
        h = self.encoder_activation(self.encoder_hidden(self.flatten(x)))
        return self.to_z_mean(h), self.to_z_log_var(h)

    def decode(self, z):
        return self.to_image(self.to_pixels(self.decoder_activation(self.decoder_hidden(z))))

    def call(self, inputs):
        z_mean, z_log_var = self.encode(inputs)
        epsilon = tf.random.normal(shape=tf.shape(z_mean))
        z = z_mean + tf.exp(z_log_var / 2) * epsilon
        return self.decode(z)


mse_model = MinimallyFixedVAE()
mse_model.compile(optimizer="adam", loss="mse")
mse_model(x_train[:1])  # build it, so that its weights exist
print("trainable weight tensors:", len(mse_model.trainable_weights),
      "| parameters:", mse_model.count_params())

# %% tags=["nbval-ignore-output"]
mse_history = mse_model.fit(x_train, x_train, epochs=MSE_EPOCHS, batch_size=BATCH_SIZE, verbose=0)
print(f"after {MSE_EPOCHS} epochs: training mse {mse_history.history['loss'][-1]:.4f}")

# %%
assert mse_history.history["loss"][-1] < mse_history.history["loss"][0]  # it trains

# %% [markdown]
# ### Bug 5: `loss='mse'` has no KL term
#
# A VAE maximises the ELBO, `E_q[log p(x|z)] - KL(q(z|x) || p(z))`. The mean
# squared error is (a scaled) reconstruction term only. Nothing pulls the
# encoder's posteriors towards the prior N(0, I), so the model is an
# autoencoder with noisy codes: it can put the codes anywhere and shrink
# the noise until it does not hurt. Then a `z` drawn from the prior is not a
# code the decoder has ever seen, and decoding it gives no face.
#
# We measure the KL it never paid, in nats per image, with
# `elbo.kl_diag_gaussian_standard` on the training faces' posteriors.

# %% tags=["nbval-ignore-output"]
z_mean, z_log_var = (t.numpy() for t in mse_model.encode(x_train))
mse_kl = elbo.kl_diag_gaussian_standard(z_mean, z_log_var).mean()
print(f"KL(q(z|x) || N(0, I)) of the mse model: {mse_kl:.0f} nats per image (training faces)")
print(f"posterior standard deviation, mean over codes and faces: {np.exp(z_log_var / 2).mean():.3f} (prior: 1)")

# %%
assert mse_kl > 50  # far from the prior: the KL term was never paid
assert np.exp(z_log_var / 2).mean() < 1  # the noise shrank below the prior's

# %% [markdown]
# The first test image of each of the first ten people, its reconstruction,
# and decodes of codes drawn from the prior (the fixed model below is shown
# on the same faces):

# %% tags=["nbval-ignore-output"]
mse_latent_dim = mse_model.to_z_mean.units
z_prior = np.random.default_rng(SEED).standard_normal((len(first_test), mse_latent_dim)).astype("float32")
fig, axes = plt.subplots(3, 1, figsize=(10, 4.2))
image_grid(x_test[first_test], ax=axes[0], titles=[f"s{p}" for p in shown_people],
           title=f"The first test image of people s{shown_people.min()} to s{shown_people.max()} "
                 "(test split): the originals")
image_grid(np.clip(mse_model.decode(mse_model.encode(x_test[first_test])[0]).numpy(), 0, 1), ax=axes[1],
           title="mse model: their reconstructions, decoded from the posterior means")
image_grid(np.clip(mse_model.decode(z_prior).numpy(), 0, 1), ax=axes[2],
           title=f"mse model: decoded from {len(z_prior)} codes drawn from the prior N(0, I) (no real person)")
plt.tight_layout()
plt.show()

# %% [markdown]
# The reconstructions resemble the faces above them (blurred); the decodes of
# codes from the prior look unlike any training face. Without the KL term the
# prior is not the distribution of the codes: the posteriors are narrower
# than the prior (the mean standard deviation printed above) and sit where the
# encoder put them, so "sample z from N(0, I), decode it" generates nothing
# meaningful.

# %% [markdown]
# ### Bug 6: `mse` averages over pixels, so even with a KL term the balance is off
#
# Suppose we add the KL to `mse`. A Gaussian decoder with variance `sigma^2`
# has, for an image of `D` pixels,
#
# `-log p(x|z) = D / (2 sigma^2) * mse + D/2 * log(2 pi sigma^2)`,
#
# because `mse` is the *mean* of the `D` squared errors, while a
# log-likelihood is a *sum* over pixels. So `mse + KL` is the negative ELBO
# after **one** rescaling, dividing the reconstruction term by `D`, and it can
# be read in two ways, as in notebook 01's Pitfall A: a KL weight `beta = D`
# on a decoder with `sigma^2 = 1/2`, or the plain ELBO (`beta = 1`) of a
# decoder with `sigma^2 = D/2`. Either way `beta * sigma^2 = D/2`: the KL
# weighs as much against the reconstruction as in the ELBO of a decoder whose
# pixel noise has the standard deviation `sqrt(D/2)`, many times the range of
# a pixel (printed below). The KL then wins and the codes collapse to the
# prior. And the number `mse + KL` is not in nats, so it cannot be compared
# with a log-likelihood. We check the identity numerically, with the mean
# training face as the "reconstruction" of each validation face:

# %%
x, x_hat = x_val.astype("float64"), np.broadcast_to(x_train.mean(axis=0), x_val.shape)
n_pixels = np.prod(x.shape[1:])
sigma2 = 0.5
mse = keras.losses.MeanSquaredError(reduction=None)(x.reshape(len(x), -1), x_hat.reshape(len(x), -1)).numpy()
nll = -elbo.gaussian_log_likelihood(x, x_hat, np.log(sigma2))
assert np.allclose(nll, n_pixels / (2 * sigma2) * mse + n_pixels / 2 * np.log(2 * np.pi * sigma2))
print(f"pixels D = {n_pixels}")
print(f"mean squared error of the mean face:     {mse.mean():.5f} (no unit)")
print(f"-log p(x|z), Gaussian with sigma^2 = 1/2: {nll.mean():.1f} nats per image")
print(f"factor D / (2 sigma^2) = {n_pixels / (2 * sigma2):.0f}; beta * sigma^2 = D/2 = {n_pixels / 2:.0f}, "
      f"a pixel noise standard deviation sqrt(D/2) = {np.sqrt(n_pixels / 2):.1f} on a [0, 1] pixel scale")

# %% [markdown]
# How far the KL wins can be bounded without training anything. An encoder
# that outputs the prior for every face (KL = 0) and a decoder that outputs
# the mean training face reach a training loss `mse + KL` equal to the mean
# squared deviation of the training faces from their mean. A minimiser of
# `mse + KL` does at least as well, and its `mse` is not negative, so at any
# minimiser the KL, averaged over the training faces, is at most that many
# nats per image:

# %%
bound = ((x_train - x_train.mean(0)) ** 2).mean()
print(f"at any minimiser of mse + KL, the average KL over the training faces is at most {bound:.4f} nats per image")
assert bound < 1

# %% [markdown]
# Less than one nat per face. On average, a code carries at most its KL to
# the prior in information about its face, so a model trained to the minimum
# of `mse + KL` keeps almost nothing about the face in its code.

# %% [markdown]
# ### Bug 7: sampling even at inference
#
# The article's `call` always draws `epsilon`. So `predict` gives a different
# reconstruction of the same face every time. Sampling belongs in training
# (it is how the ELBO's expectation is estimated); at inference we decode the
# posterior mean.

# %%
first, second = mse_model.predict(x_test[:5], verbose=0), mse_model.predict(x_test[:5], verbose=0)
print("same face, same reconstruction twice:", np.array_equal(first, second))

# %% [markdown]
# ### Bug 8: unseeded noise
#
# `tf.random.normal` without a seed of its own draws from TensorFlow's
# global, stateful generator. Even after `tf.random.set_seed`, the noise a
# call gets depends on every random op that ran since the seed was set: any
# change upstream (one more random op, anywhere) changes the noise, and with
# it everything trained on it. Keras 3's `keras.random.SeedGenerator` carries
# its own state: in this environment, the same seed gives the same noise
# whatever else drew random numbers before (and its state can be saved with
# the model).

# %%
tf.random.set_seed(SEED)
tf_noise = tf.random.normal((3,)).numpy()
tf.random.set_seed(SEED)
tf_again = tf.random.normal((3,)).numpy()  # the same calls again
tf.random.set_seed(SEED)
tf.random.normal((1,))  # one extra random op upstream
tf_after_extra = tf.random.normal((3,)).numpy()
print("tf.random.set_seed(SEED), then tf.random.normal: same noise when repeated?", np.array_equal(tf_noise, tf_again),
      "| after one extra random op?", np.array_equal(tf_noise, tf_after_extra))

keras_noise = keras.random.normal((3,), seed=keras.random.SeedGenerator(SEED)).numpy()
tf.random.normal((1,))  # other random ops in between
keras.random.normal((1,), seed=keras.random.SeedGenerator(SEED + 1))
keras_after_extra = keras.random.normal((3,), seed=keras.random.SeedGenerator(SEED)).numpy()
print("keras.random.normal with a new SeedGenerator(SEED): same noise after other random ops?",
      np.array_equal(keras_noise, keras_after_extra))
assert np.array_equal(tf_noise, tf_again) and not np.array_equal(tf_noise, tf_after_extra)
assert np.array_equal(keras_noise, keras_after_extra)

# %% [markdown]
# ### Bug 9: no held-out data
#
# `vae.fit(x_train, x_train, epochs=100)` watches only the training loss. With
# 160 images and about a million parameters (printed above) a model can
# memorise the training faces; only a loss on faces it never trained on (our
# 40 validation images) shows whether it has. The fixed model below reports
# both.

# %% [markdown]
# ## The fixed model, step by step
#
# The fix, decision by decision. Items 1 to 6 are all in the one-page model
# below; items 7 and 8 are what the course's `vaeface_utils.model.VAE` adds
# around the same maths.
#
# 1. **A `keras.Model` subclass** with `call`, `train_step` and `test_step`,
#    so `compile`, `fit(validation_data=...)`, `evaluate` and `predict` all
#    work (bug 1). Its encoder and decoder are built once, in `__init__`,
#    as functional models: every weight is tracked and trained (bug 2).
# 2. **A convolutional encoder for `(64, 64, 1)` faces:** three 3x3
#    convolutions with stride 2 (32, 64, 128 filters: 64 -> 32 -> 16 -> 8
#    pixels a side), a `Flatten`, and two dense heads for `z_mean` and
#    `z_log_var`, returned as a list (bugs 3 and 4). The decoder mirrors it
#    with transposed convolutions back to `(64, 64, 1)`. Convolutions share
#    weights across the image, so the convolutional layers have few
#    parameters; most of the model's parameters are in the dense layers at
#    the bottleneck (the two heads from the 8 x 8 x 128 features to the code,
#    and the decoder's first layer back). In all it has almost as many as the
#    article's dense model (both counted below), and it trains on a CPU in
#    minutes (timed below). Other image sizes work if they are multiples of 8;
#    others get an error that says so.
# 3. **The loss is the negative ELBO, summed over pixels** (bugs 5 and 6):
#    `-log p(x|z)` *summed* over the 4,096 pixels, plus the KL in closed form,
#    averaged over the batch. The decoder is Bernoulli by default (one logit
#    per pixel), or Gaussian with `likelihood="gaussian"`: by default a
#    learned scalar variance shared by all pixels; one learned log-variance
#    per pixel with `gaussian_log_var="learned-per-pixel"`; or a fixed one
#    with `gaussian_log_var=<float>` (notebook 03 trains the scalar one). A weight `beta`
#    on the KL (default 1) is there for later notebooks. Three metrics are
#    tracked: `loss`, `reconstruction_loss` (`-E[log p(x|z)]`) and `kl`.
#
#    A caution about the default. The Bernoulli is a distribution over
#    *binary* pixels, and our faces are grey values in [0, 1]. On them the
#    Bernoulli loss (the binary cross-entropy, summed over pixels) still
#    trains a sensible model, and its KL term is in nats, but its
#    reconstruction term is not a normalised log-likelihood: it lacks the
#    continuous Bernoulli's normaliser, $\sum_d \log C(\lambda_d)$, which
#    depends on the decoder's outputs (Loaiza-Ganem and Cunningham, "The
#    continuous Bernoulli: fixing a pervasive error in variational
#    autoencoders", NeurIPS 2019; notebook 01, section 8). So in this notebook
#    we call its value the **Bernoulli loss**: it is what training minimises,
#    but not minus the log-likelihood of the faces in nats, and it cannot be
#    compared with a Gaussian decoder's or PCA's. Notebook 03 trains a
#    Gaussian decoder for that reason. We measure the missing term after
#    training.
# 4. **Deterministic at inference** (bug 7): `call` decodes `z_mean` unless
#    `training=True`; the noise is drawn only in training and in the loss.
# 5. **Seeded noise** (bug 8): a `Sampling` layer draws `epsilon` with
#    `keras.random.normal` and its own `SeedGenerator(seed)`.
# 6. **Held-out data** (bug 9): `fit(x_train, validation_data=x_val)`.
# 7. **Checked inputs:** images without the channel axis, of the wrong size,
#    of an integer type or outside [0, 1] get an error that says how to fix
#    them, before TensorFlow sees them. A NaN loss stops training with an
#    explanation instead of running on with broken weights.
# 8. **Fast on a CPU:** graph mode (`tf.function` with TensorFlow's oneDNN
#    kernels; Keras turns XLA on only where there is a GPU), and several
#    optimiser steps per call into the graph (`steps_per_execution=8`),
#    because an epoch of 160 images is only 5 steps and Keras's per-step
#    overhead would otherwise be a large share of the time. (Keras's
#    callbacks then see one batch end per 8 steps; epoch ends are unchanged.)
#    The model computes in float32 only, so that every machine gets the
#    same numbers; `benchmarks/train_throughput.py` measures its speed.

# %% [markdown]
# ## The whole VAE on one page
#
# Here is the corrected model in full, written the way the keras-io example
# writes a VAE: a `Sampling` layer, the encoder and the decoder as small
# functional models, and a `keras.Model` subclass whose `train_step` and
# `test_step` compute the loss and whose metric trackers report it. It fixes
# bugs 1 to 8 (bug 9 is how we call `fit`). Every line of it is what the
# course's `vaeface_utils.model.VAE` does by default; after it we check that
# the two compute the same loss.

# %%
from keras import ops


class Sampling(layers.Layer):
    """z = z_mean + exp(z_log_var / 2) * epsilon, epsilon ~ N(0, I) from the layer's own seeded generator."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)  # bug 8: seeded noise

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def make_encoder(latent_dim, image_shape=(64, 64, 1)):
    """q(z|x): three stride-2 convolutions (64 -> 32 -> 16 -> 8 pixels a side), then two dense heads."""
    x = inputs = keras.Input(shape=image_shape)
    for filters in (32, 64, 128):
        x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)  # bug 4
    z_mean, z_log_var = layers.Dense(latent_dim)(x), layers.Dense(latent_dim)(x)
    return keras.Model(inputs, [z_mean, z_log_var], name="encoder")  # bug 3: a list, not a dict


def make_decoder(latent_dim, image_shape=(64, 64, 1)):
    """p(x|z): the mirror image, ending in one Bernoulli logit per pixel."""
    z = inputs = keras.Input(shape=(latent_dim,))
    x = layers.Dense(8 * 8 * 128, activation="relu")(z)
    x = layers.Reshape((8, 8, 128))(x)
    for filters in (64, 32):
        x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation="relu")(x)
    logits = layers.Conv2DTranspose(1, 3, strides=2, padding="same")(x)  # (64, 64, 1)
    return keras.Model(inputs, logits, name="decoder")


class OnePageVAE(keras.Model):  # bug 1: a Model, so compile, fit and evaluate exist
    def __init__(self, latent_dim=32, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = make_encoder(latent_dim), make_decoder(latent_dim)  # bug 2: built once
        self.sampling = Sampling(seed)
        self.trackers = [keras.metrics.Mean(name=name) for name in ("loss", "reconstruction_loss", "kl")]

    @property
    def metrics(self):  # Keras resets these at the start of every epoch
        return self.trackers

    def call(self, x, training=False):  # bug 7: the posterior mean at inference
        z_mean, z_log_var = self.encoder(x)
        z = self.sampling([z_mean, z_log_var]) if training else z_mean
        return ops.sigmoid(self.decoder(z))

    def loss_terms(self, x):
        """-E_q[log p(x|z)] (one sample of z) and KL(q(z|x) || N(0, I)), each in nats, averaged over the batch."""
        z_mean, z_log_var = self.encoder(x)
        logits = self.decoder(self.sampling([z_mean, z_log_var]))
        log_px_given_z = ops.sum(x * logits - ops.softplus(logits), axis=(1, 2, 3))  # bug 6: summed over pixels
        kl = -0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1)  # bug 5
        return -ops.mean(log_px_given_z), ops.mean(kl)

    def report(self, reconstruction_loss, kl, x):
        n = ops.cast(ops.shape(x)[0], "float32")  # weight each batch by its size: epoch means per image
        for tracker, value in zip(self.trackers, (reconstruction_loss + kl, reconstruction_loss, kl)):
            tracker.update_state(value, sample_weight=n)
        return {tracker.name: tracker.result() for tracker in self.trackers}

    def train_step(self, data):
        x = data[0] if isinstance(data, tuple) else data  # fit(x) and fit(x, x) alike
        with tf.GradientTape() as tape:
            reconstruction_loss, kl = self.loss_terms(x)
            loss = reconstruction_loss + kl  # the negative ELBO
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self.report(reconstruction_loss, kl, x)

    def test_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        return self.report(*self.loss_terms(x), x)


# %% [markdown]
# Train it briefly on the training faces, with the validation faces held out
# (bug 9), and look at the loss, reported per image in nats (a Bernoulli loss:
# see item 3 above):

# %% tags=["nbval-ignore-output"]
one_page = OnePageVAE(latent_dim=LATENT_DIM, seed=SEED)
one_page.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3))
one_page_history = one_page.fit(x_train, validation_data=(x_val,), epochs=ONE_PAGE_EPOCHS,
                                batch_size=BATCH_SIZE, verbose=0).history
for key in ("loss", "reconstruction_loss", "kl"):
    print(f"{key:>20}: epoch 1 {one_page_history[key][0]:8.1f}, epoch {ONE_PAGE_EPOCHS} "
          f"{one_page_history[key][-1]:8.1f}; validation {one_page_history['val_' + key][-1]:8.1f} per image")

# %%
assert one_page_history["loss"][-1] < one_page_history["loss"][0]  # it learns
assert np.isclose(one_page_history["val_loss"][-1],
                  one_page_history["val_reconstruction_loss"][-1] + one_page_history["val_kl"][-1], rtol=1e-4)

# %% [markdown]
# ## The package's VAE computes the same loss
#
# The course's notebooks use `vaeface_utils.model.VAE`. We give it the weights
# the one-page model has just learned and the same noise state, and let both
# `evaluate` the validation faces: the same loss, reconstruction term and KL,
# to float32 rounding.

# %% tags=["nbval-ignore-output"]
from vaeface_utils.model import VAE

vae = VAE(latent_dim=LATENT_DIM, seed=SEED)
vae.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3))
for ours, theirs in ((one_page.encoder, vae.encoder), (one_page.decoder, vae.decoder)):
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]  # the same layers
    theirs.set_weights(ours.get_weights())
state = one_page.sampling.seed_generator.state.numpy()
vae.sampling.seed_generator.state.assign(state)  # the same noise for the next draw
one_page_loss = one_page.evaluate(x_val, batch_size=len(x_val), verbose=0, return_dict=True)
package_loss = vae.evaluate(x_val, batch_size=len(x_val), verbose=0, return_dict=True)
for key in ("loss", "reconstruction_loss", "kl"):
    print(f"{key:>20}: one-page {one_page_loss[key]:9.3f}, package {package_loss[key]:9.3f} per image")
    assert np.isclose(one_page_loss[key], package_loss[key], rtol=1e-5), key
assert np.array_equal(vae.predict(x_val, verbose=0), one_page.predict(x_val, verbose=0))

# %% [markdown]
# And one training step: from the same weights, the same noise and a fresh
# Adam optimiser each, one `train_step` on the same batch of training faces
# moves both models' weights to the same place.

# %% tags=["nbval-ignore-output"]
for model in (one_page, vae):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3))  # fresh optimiser state
vae.encoder.set_weights(one_page.encoder.get_weights())
vae.decoder.set_weights(one_page.decoder.get_weights())
vae.sampling.seed_generator.state.assign(one_page.sampling.seed_generator.state.numpy())
batch = x_train[:BATCH_SIZE]
step_losses = [float(model.train_on_batch(batch, return_dict=True)["loss"]) for model in (one_page, vae)]
weight_gap = max(float(np.max(np.abs(a - b))) for a, b in zip(
    one_page.encoder.get_weights() + one_page.decoder.get_weights(), vae.encoder.get_weights() + vae.decoder.get_weights()))
print(f"one step on {len(batch)} training faces: loss {step_losses[0]:.3f} (one-page), {step_losses[1]:.3f} (package); "
      f"largest difference between the updated weights {weight_gap:.1e}")
assert np.isclose(*step_losses, rtol=1e-5) and weight_gap < 1e-5

# %% [markdown]
# The package's class adds nothing to the maths; it adds what a course needs
# around it. Its methods that the one-page model lacks, and what they are for:
#
# - **input checks** in `fit`, `evaluate`, `predict` (images of the wrong
#   shape, type or range get an error that says how to fix them), a
#   `StopOnNaN` callback that `fit` adds, and `compile` with
#   `steps_per_execution=8` (item 8 above);
# - **saving and loading:** `get_config`, `from_config` and the `Sampling`
#   layer's noise state, so a `.keras` file loads in safe mode;
# - **options** for later notebooks: a Gaussian decoder
#   (`likelihood="gaussian"`, with a learned or fixed variance), a KL weight
#   `beta`, other image sizes and filter counts, a dtype policy;
# - **NumPy helpers** that batch, and never train: `posterior`, `encode`,
#   `decode`, `reconstruct`, `generate`, `elbo_terms`,
#   `log_importance_weights`.

# %%
own = {name for cls in VAE.__mro__ if cls.__module__.startswith("vaeface_utils")  # VAE and its NumPyInference
       for name in vars(cls) if not name.startswith("_") and callable(getattr(VAE, name))}
new_methods = sorted(own - set(dir(OnePageVAE)))
overridden = sorted((own & set(dir(keras.Model))) - set(vars(OnePageVAE)))
print("methods of vaeface_utils.model.VAE that OnePageVAE lacks:", ", ".join(new_methods))
print("Keras methods it overrides and OnePageVAE does not (input checks, saving, defaults):", ", ".join(overridden))
assert {"posterior", "encode", "decode", "reconstruct", "generate", "elbo_terms", "log_importance_weights"} <= set(new_methods)
assert {"fit", "evaluate", "predict", "compile", "get_config", "from_config"} <= set(overridden)

# %% [markdown]
# The rest of the notebook trains the package's model, from fresh weights, so that
# what follows is exactly what notebook 03 builds on. Its layers, counted:

# %%
vae = VAE(latent_dim=LATENT_DIM, seed=SEED)
vae.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3))
for part in (vae.encoder, vae.decoder):
    print(f"{part.name}: {part.count_params():,} parameters")
    for layer in part.layers[1:]:
        shape = layer.output.shape if not isinstance(layer.output, list) else layer.output[0].shape
        print(f"  {layer.name:<10} output {str(tuple(shape)):<20} {layer.count_params():>8,} parameters")
kinds = {"convolutions": (layers.Conv2D, layers.Conv2DTranspose), "dense layers": (layers.Dense,)}
n_params = {(part.name, kind): sum(layer.count_params() for layer in part.layers if isinstance(layer, types))
            for part in (vae.encoder, vae.decoder) for kind, types in kinds.items()}
n_total = vae.encoder.count_params() + vae.decoder.count_params()
for kind in kinds:
    print(f"{kind:<13} encoder {n_params['encoder', kind]:>9,}   decoder {n_params['decoder', kind]:>9,}   "
          f"both {n_params['encoder', kind] + n_params['decoder', kind]:>9,}")
print(f"fixed VAE: {n_total:,} parameters; the article's model, minimally fixed: {mse_model.count_params():,}")
assert sum(n_params.values()) == n_total == vae.count_params()
assert n_params["encoder", "dense layers"] > 5 * n_params["encoder", "convolutions"]  # most are in the dense heads
assert n_params["encoder", "dense layers"] + n_params["decoder", "dense layers"] > n_total / 2
assert 0.8 * mse_model.count_params() < n_total < mse_model.count_params()  # almost as many as the dense model

# %% [markdown]
# To compare training and validation faces, and the model before and after
# training, like with like, we evaluate each set with the same noise seed:
# `elbo_terms(x, seed=SEED)` returns each face's ELBO with one sample of `z`,
# and minus its mean is the Bernoulli loss.

# %%
face_sets = {"training": x_train, "validation": x_val}
untrained = {name: -vae.elbo_terms(x, seed=SEED)["elbo"].mean() for name, x in face_sets.items()}
print("untrained model's Bernoulli loss, the same seed for both sets: "
      + ", ".join(f"{name} {value:.1f}" for name, value in untrained.items()) + " per image")

# %% [markdown]
# The inputs are checked where they enter:

# %%
show_error(lambda: vae.fit(x_train[..., 0], epochs=1, verbose=0))
show_error(lambda: vae.fit((x_train * 255).astype("uint8"), epochs=1, verbose=0))
show_error(lambda: vae.evaluate(x_train * 255, verbose=0))
show_error(lambda: VAE(image_shape=(92, 112, 1)))

# %% [markdown]
# ## Train it
#
# With the training faces, the validation faces to watch for overfitting, and
# no per-step logs (`verbose=0`).

# %% tags=["nbval-ignore-output"]
import time

start = time.perf_counter()
history = vae.fit(x_train, validation_data=x_val, epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=0).history
seconds = time.perf_counter() - start
print(f"{EPOCHS} epochs in {seconds:.0f} s ({EPOCHS * len(x_train) / seconds:.0f} training images/s)")
for key in ("loss", "reconstruction_loss", "kl"):
    print(f"{key:>20}: training {history[key][-1]:8.1f}, validation {history['val_' + key][-1]:8.1f} per image")

# %% [markdown]
# The same evaluation as before training, with the same seed:

# %% tags=["nbval-ignore-output"]
trained = {name: -vae.elbo_terms(x, seed=SEED)["elbo"].mean() for name, x in face_sets.items()}
gap = trained["validation"] - trained["training"]
print("trained model's Bernoulli loss, the same seed for both sets: "
      + ", ".join(f"{name} {value:.1f}" for name, value in trained.items())
      + f" per image; validation minus training: {gap:.1f}")

# %%
assert all(trained[name] < untrained[name] for name in face_sets)  # training lowered the loss, on both sets
assert np.isclose(history["val_loss"][-1], history["val_reconstruction_loss"][-1] + history["val_kl"][-1],
                  rtol=1e-4)  # beta = 1: reconstruction loss plus KL
assert FAST or trained["validation"] > trained["training"]  # a generalisation gap

# %% [markdown]
# The term the Bernoulli loss leaves out: for the decoder's logit $\ell$ of a
# pixel, $\log C = \log\big(\ell / \tanh(\ell / 2)\big)$, and $\log 2$ at
# $\ell = 0$ (notebook 01, section 8). Summed over the pixels of the
# reconstructions of the validation faces:

# %% tags=["nbval-ignore-output"]
logits_val = vae.decoder(vae.encode(x_val)).numpy().astype("float64")
safe = np.where(logits_val == 0.0, 1.0, logits_val)
log_c = np.where(logits_val == 0.0, np.log(2.0), np.log(safe / np.tanh(safe / 2.0)))
missing_nats = log_c.sum(axis=(1, 2, 3))
print(f"sum of log C over the {n_pixels} pixels: {missing_nats.mean():.0f} nats per validation face on average, "
      f"from {missing_nats.min():.0f} to {missing_nats.max():.0f}; the KL term: {history['val_kl'][-1]:.0f} nats")

# %% [markdown]
# What to notice: the missing term is larger than the whole KL term, and it
# differs from face to face, so the Bernoulli loss is not a log-likelihood
# shifted by a constant. It is a sound training objective, but its value is
# not a measure of how probable the faces are.

# %%
assert np.all(missing_nats >= n_pixels * np.log(2.0) - 1e-6)  # log C >= log 2 for every pixel
assert np.ptp(missing_nats) > 0 and missing_nats.mean() > history["val_kl"][-1]

# %% tags=["nbval-ignore-output"]
fig, ax = plt.subplots(figsize=(7, 4))
curves(history, ["loss", "val_loss"], ax=ax, ylabel="Bernoulli loss per image (not a log-likelihood)",
       title=f"Fixed VAE: {len(x_train)} training and {len(x_val)} validation faces, all {n_people} people")
for line, label in zip(ax.get_lines(), (f"training ({len(x_train)} faces)", f"validation ({len(x_val)} faces)")):
    line.set_label(label)
ax.legend()
plt.show()

# %% [markdown]
# The validation loss is the one to read. After full training it is higher
# than the training loss, evaluated with the same seed (the numbers printed
# above); the difference is the generalisation gap, which includes what the
# model memorised of its training faces (notebook 05 measures memorisation in
# detail). The training curve is a mean over each epoch, taken while the
# weights changed, so the curves alone do not measure the gap.

# %% [markdown]
# ## Look at what it learned
#
# Reconstructions of the same test images as the mse model's above, the
# first test image of each of the first ten people. The model never saw these
# images, but it did see these people: the split is per identity, so each
# person's other images are in the training and validation sets (the counts
# printed at the start). Then faces generated from the prior, which now means
# something: the KL term pulled the codes towards N(0, I).

# %% tags=["nbval-ignore-output"]
fig, axes = plt.subplots(3, 1, figsize=(10, 4.2))
image_grid(x_test[first_test], ax=axes[0], titles=[f"s{p}" for p in shown_people],
           title=f"The first test image of people s{shown_people.min()} to s{shown_people.max()} "
                 "(test split): the originals")
image_grid(vae.reconstruct(x_test[first_test]), ax=axes[1],
           title="Fixed VAE: their reconstructions, decoded from the posterior means")
image_grid(vae.generate(len(first_test), seed=SEED), ax=axes[2],
           title=f"Fixed VAE: generated from {len(first_test)} codes drawn from the prior N(0, I) (no real person)")
plt.tight_layout()
plt.show()

# %% [markdown]
# How far the codes are from the prior: the KL to N(0, I) on the training
# faces. The two models have latent spaces of different sizes, so we compare
# the KL per latent dimension.

# %% tags=["nbval-ignore-output"]
vae_kl = elbo.kl_diag_gaussian_standard(*vae.posterior(x_train)).mean()
print(f"KL(q(z|x) || N(0, I)) on the training faces, per latent dimension: "
      f"fixed VAE {vae_kl / LATENT_DIM:.2f} nats ({vae_kl:.0f} over its {LATENT_DIM} dimensions), "
      f"mse model {mse_kl / mse_latent_dim:.2f} nats ({mse_kl:.0f} over its {mse_latent_dim})")

# %%
assert vae_kl / LATENT_DIM < mse_kl / mse_latent_dim  # paying for the KL keeps the codes close to the prior
assert np.array_equal(vae.predict(x_test[:5], verbose=0), vae.predict(x_test[:5], verbose=0))  # bug 7 fixed

# %% [markdown]
# ## Save it and load it back
#
# A trained model is kept as one `.keras` file: `save` writes the
# architecture, the weights, the optimizer's state and the sampling layer's
# seed state; `keras.saving.load_model` reads it back (in safe mode, which
# refuses code stored in the file, such as lambdas). A round trip through a
# temporary folder:

# %%
import tempfile
from pathlib import Path

with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "vae.keras"
    vae.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
same_codes = np.array_equal(loaded.encode(x_test), vae.encode(x_test))
same_noise = np.array_equal(loaded.sampling.seed_generator.state.numpy(), vae.sampling.seed_generator.state.numpy())
print(f"loaded a {type(loaded).__name__}; the same encodings of the {len(x_test)} test faces: {same_codes}; "
      f"the same noise state: {same_noise}")
assert isinstance(loaded, VAE) and same_codes and same_noise
assert int(loaded.optimizer.iterations.numpy()) == int(vae.optimizer.iterations.numpy())  # the optimizer's state

# %% [markdown]
# ## Summary: each bug, its symptom, its fix, and the test that guards it
#
# | # | bug in the article's code | symptom | fix | test in `tests/test_model.py` |
# |---|---|---|---|---|
# | 1 | `VAE` is a `layers.Layer` | `AttributeError: 'VAE' object has no attribute 'compile'` | subclass `keras.Model`, with `train_step`/`test_step` | `test_validation_data_evaluate_and_predict_work` |
# | 2 | layers created inside `call` | 0 trainable weights; new random outputs on every call | build encoder and decoder once, in `__init__` | `test_gradients_reach_every_encoder_and_decoder_weight` |
# | 3 | a dict unpacked into two names | `z_mean == 'z_mean'`; `TypeError` on `z_log_var / 2` | return `[z_mean, z_log_var]` | `test_loss_equals_negative_elbo_from_numpy` |
# | 4 | 28x28 shapes, no `Flatten` | a code per pixel, 16,384 "images" of 28x28 from 4 faces; `Incompatible shapes` | conv encoder with `Flatten`, decoder to `(64, 64, 1)`; sizes checked | `test_bad_image_size_gets_a_clear_error`, `test_other_sizes_divisible_by_the_stride_work` |
# | 5 | `loss='mse'`: no KL term | posteriors far from N(0, I); samples from the prior are not faces | loss = negative ELBO, KL in closed form | `test_loss_equals_negative_elbo_from_numpy`, `test_closed_form_kl_matches_monte_carlo`, `test_beta_zero_gives_an_autoencoder_loss` |
# | 6 | `mse` averages over pixels | one rescaling, `beta * sigma^2 = D/2`: the KL wins; loss not in nats | log-likelihood summed over pixels | `test_loss_is_in_nats_summed_over_pixels` |
# | 7 | sampling at inference | same face, different reconstructions | `call` decodes `z_mean` unless `training=True` | `test_inference_is_deterministic_and_training_samples` |
# | 8 | unseeded `tf.random.normal` | any change upstream changes the noise | `Sampling` layer with `keras.random.SeedGenerator(seed)`, saved with the model | `test_same_seed_same_loss`, `test_sampling_layer_is_seeded_and_serialisable` |
# | 9 | no held-out data | overfitting invisible | `fit(x_train, validation_data=x_val)`; `evaluate` | `test_validation_data_evaluate_and_predict_work` |
# | - | (new) wrong inputs reach TensorFlow | tracebacks from deep inside TensorFlow | checks at `fit`, `evaluate`, `predict`, `encode` | `test_wrong_input_gets_a_clear_error` |
# | - | (new) a NaN loss trains on | broken weights, silently | `StopOnNaN` callback, added by `fit` | `test_nan_loss_stops_training_with_a_clear_message` |
# | - | (new) a trained model must be kept | retraining every time | `.keras` save and load in safe mode, optimizer state included | `test_save_load_round_trip_restores_outputs_and_optimizer` |

# %% [markdown]
# ## What we did
#
# - Ran the article's Keras code on the faces and saw each bug as a real
#   error or symptom: a `Layer` has no `fit`; layers built in `call` never
#   learn; a dict unpacks into its keys; MNIST shapes; no KL term; a loss
#   averaged over pixels; sampling at inference; unseeded noise; no
#   validation data.
# - Fixed them into `vaeface_utils.model.VAE`, checked its loss against the
#   ELBO written out by hand, read its `train_step` and `test_step`, trained
#   it on 160 faces with 40 held out, looked at reconstructions and samples
#   from the prior, and saved and loaded it.
# - Saw that the default Bernoulli loss, on grey faces, is a training
#   objective but not a log-likelihood: it lacks the continuous Bernoulli's
#   normaliser.
#
# Next: **03 training on faces** trains this model properly and measures it.

# %% [markdown]
# ## References
#
# - Kingma, D. P. and Welling, M. Auto-Encoding Variational Bayes. ICLR 2014.
#   The VAE, its ELBO, and the reparameterisation that the `Sampling` layer
#   implements.
# - Rezende, D. J., Mohamed, S. and Wierstra, D. Stochastic Backpropagation and
#   Approximate Inference in Deep Generative Models. ICML 2014. The same model
#   and trick, found independently.
# - Higgins, I., Matthey, L., Pal, A., Burgess, C., Glorot, X., Botvinick, M.,
#   Mohamed, S. and Lerchner, A. β-VAE: learning basic visual concepts with a
#   constrained variational framework. ICLR 2017. A weight β on the KL term:
#   bug 6 reads `mse` + KL as such a weight, and the fixed model has a `beta`
#   argument.
# - Loaiza-Ganem, G. and Cunningham, J. P. The continuous Bernoulli: fixing a
#   pervasive error in variational autoencoders. NeurIPS 2019. The continuous
#   Bernoulli's normaliser, the term the Bernoulli loss on grey faces leaves
#   out.
# - Kingma, D. P. and Ba, J. Adam: a method for stochastic optimization.
#   ICLR 2015. The optimiser of the article's code and of the fixed model.
# - LeCun, Y., Bottou, L., Bengio, Y. and Haffner, P. Gradient-based learning
#   applied to document recognition. Proceedings of the IEEE 86(11), 1998.
#   MNIST, the 28 x 28 digits that the article's code was written for (bug 4).
# - Chollet, F. Variational AutoEncoder. Keras code examples
#   (keras.io/examples/generative/vae), 2020. Keras's own VAE example: a
#   `Sampling` layer, functional encoder and decoder, and a `keras.Model` with
#   its own `train_step`, the pattern that the one-page VAE and the course's
#   `VAE` follow; `benchmarks/train_throughput.py` times the course's `VAE`
#   against it.
# - Samaria, F. S. and Harter, A. C. Parameterisation of a stochastic model for
#   human face identification. IEEE Workshop on Applications of Computer
#   Vision, 1994. The ORL faces.

# %% [markdown]
# ## Exercises
#
# Replace each `None` with your answer, run the cell, then run the check below
# it. The check says whether you are right and gives a hint if not; it never
# shows the answer.
#
# **Exercise 1.** How many trainable parameters (numbers, not weight tensors)
# does the fixed encoder `vae.encoder` have? Count them by hand from the
# architecture above (3x3 kernels, 1 -> 32 -> 64 -> 128 channels, then two
# dense heads of size 32 on the flattened 8 x 8 x 128 features); then check
# with `vae.encoder.count_params()`.

# %%
from vaeface_utils.checks import model as check

answer_encoder_parameters = None  # replace None with your answer
# solution
conv = (3 * 3 * 1 * 32 + 32) + (3 * 3 * 32 * 64 + 64) + (3 * 3 * 64 * 128 + 128)
heads = 2 * (8 * 8 * 128 * LATENT_DIM + LATENT_DIM)
answer_encoder_parameters = conv + heads
assert answer_encoder_parameters == vae.encoder.count_params()

# %%
check.encoder_parameters(answer_encoder_parameters, latent_dim=LATENT_DIM)

# %% [markdown]
# **Exercise 2.** A Gaussian decoder with standard deviation `sigma = 0.1`
# for every pixel. Find the factor `a` in
# `-log p(x|z) = a * mse + c` for 64 x 64 images, where `mse` is Keras's mean
# squared error (averaged over pixels) and `c` does not depend on the
# reconstruction.

# %%
answer_mse_factor = None  # replace None with your answer
# solution
answer_mse_factor = 64 * 64 / (2 * 0.1**2)

# %%
check.mse_factor(answer_mse_factor, n_pixels=64 * 64, sigma=0.1)

# %% [markdown]
# **Exercise 3.** An untrained Bernoulli decoder whose last layer is all
# zeros outputs logit 0 for every pixel. What is its Bernoulli
# reconstruction loss (minus the Bernoulli expression, summed over the
# pixels), in nats per 64 x 64 image, whatever the face? (Compare it with the
# untrained model's loss above.)

# %%
answer_uniform_nats = None  # replace None with your answer
# solution
answer_uniform_nats = 64 * 64 * np.log(2)

# %%
check.uniform_decoder_nats(answer_uniform_nats, n_pixels=64 * 64)

# %% [markdown]
# **Exercise 4: a `Sampling` layer that draws several codes per face.**
# The IWAE bound (notebook 01, section 9) needs $K$ codes per face, not one.
# Write a Keras layer `MySampling` that
#
# - takes `n_samples=1` and `seed=None` (and `**kwargs`, passed on to
#   `super().__init__`);
# - is called on a list `[z_mean, z_log_var]`, each of shape
#   `(batch, latent_dim)`, and returns `n_samples` codes per face, shape
#   `(n_samples, batch, latent_dim)`, each drawn by the reparameterisation
#   trick;
# - draws its noise with `keras.random.normal` from a generator of its own,
#   so that two layers made with the same seed draw the same codes, one layer
#   draws new codes on every call, and gradients reach `z_mean` and
#   `z_log_var`.
#
# The check runs your layer: the shape of its output, the mean and spread of
# its codes, its seed, and its gradients.

# %%
MySampling = None  # replace None with your class
# solution
class MySampling(layers.Layer):
    def __init__(self, n_samples=1, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.n_samples = n_samples
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        shape = (self.n_samples,) + tuple(ops.shape(z_mean))
        epsilon = keras.random.normal(shape, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

# %%
check.sampling_layer(MySampling)
