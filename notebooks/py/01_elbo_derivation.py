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
# # Derive the ELBO step by step and check every step by computation
#
# **Goal:** derive the evidence lower bound (ELBO) that a variational
# autoencoder maximises, and check every statement about it with a computation
# on a model where the true answer is known exactly.
#
# **You will learn**
# - the names in a latent-variable model: prior $p(z)$, decoder
#   $p_\theta(x \mid z)$, encoder $q_\phi(z \mid x)$, true posterior
#   $p_\theta(z \mid x)$ and marginal likelihood $\log p_\theta(x)$;
# - two derivations of the ELBO (Jensen's inequality, and an exact identity)
#   and its two readings;
# - the training objective with the right sign, over both parameter sets;
# - why the reparameterisation trick matters, measured as gradient variance;
# - the closed-form KL term, the Bernoulli and Gaussian decoder likelihoods
#   (what binary cross-entropy and MSE really compute, and why cross-entropy on
#   grey values is not a likelihood), nats per image and bits per dimension;
# - the importance-weighted bound $\mathcal L_K$, which closes the gap to $\log p(x)$;
# - what the blog article "VAE for face recognition" gets wrong, each point
#   with the cell that shows it.
#
# **Prerequisites:** NumPy; Gaussian densities, expectations and logarithms;
# the chain rule. No face data and no neural network are needed here.
#
# **Run time:** about 15 seconds in the full mode, about 10 seconds in the fast mode
# (`VAEFACE_FAST=1`), on a laptop CPU.
#
# **Reading time:** about 50 minutes, with the code
# (two sittings read well: sections 1 to 5, then 6 to 10).

# %% [markdown] tags=["launch", "remove-cell"]
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vaeface/vaeface/blob/main/exercises/01_elbo_derivation.ipynb)
# [![Launch Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/vaeface/vaeface/main?urlpath=lab/tree/exercises/01_elbo_derivation.ipynb)
# (the exercise version; with solutions: [Colab](https://colab.research.google.com/github/vaeface/vaeface/blob/main/notebooks/01_elbo_derivation.ipynb),
# [Binder](https://mybinder.org/v2/gh/vaeface/vaeface/main?urlpath=lab/tree/notebooks/01_elbo_derivation.ipynb))
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
# ## Set up
#
# NumPy and SciPy for the maths, matplotlib for the figures. Keras is used once,
# to show that its binary cross-entropy is a Bernoulli log-likelihood; the
# environment variable keeps TensorFlow's start-up messages out of the way.

# %%
import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats
from scipy.special import logsumexp

# %% [markdown]
# ## Parameters
#
# The fast mode (used by the tests) draws fewer Monte Carlo samples. Every
# number that depends on them is checked by an `assert`, so both modes test
# the same claims; exact results print the same in both.

# %% tags=["parameters"]
from vaeface_utils import config

FAST = config.fast_mode()  # VAEFACE_FAST=1 in tests and CI
SEED = 0
N_MC = 20_000 if FAST else 1_000_000  # Monte Carlo samples for the KL and ELBO checks
N_GRAD_REPEATS = 300 if FAST else 5_000  # repeated gradient estimates per sample size
GRAD_SAMPLE_SIZES = (1, 10, 100) if FAST else (1, 10, 100, 1000)
IWAE_KS = (1, 3, 10, 30, 100, 300, 1000) if FAST else (1, 3, 10, 30, 100, 300, 1000, 3000)
N_IWAE_REPEATS = 200 if FAST else 2_000  # independent draws of L_K per K
TRAIN_STEPS = 300  # gradient steps on the ELBO (deterministic, so the same in both modes)
config.seed_everything(SEED)

# %% [markdown]
# ## 1. The latent-variable model and its names
#
# A VAE explains each image $x$ by an unobserved code $z$:
#
# | name | symbol | in a VAE |
# |---|---|---|
# | prior | $p(z)$ | fixed, $\mathcal N(0, I)$; no parameters |
# | decoder (likelihood) | $p_\theta(x \mid z)$ | a network with parameters $\theta$ |
# | marginal likelihood (evidence) | $p_\theta(x) = \int p_\theta(x \mid z)\, p(z)\, dz$ | what we would like to maximise |
# | true posterior | $p_\theta(z \mid x) = p_\theta(x \mid z)\, p(z) / p_\theta(x)$ | intractable for a neural decoder |
# | encoder (approximate posterior) | $q_\phi(z \mid x)$ | a network with parameters $\phi$ that approximates $p_\theta(z \mid x)$ |
#
# **Erratum 2.** The article says (§3.1) "其中，$x$是输入数据，$z$是随机变量，$p(x|z)$是解码器，$p(z)$是编码器。",
# "where $x$ is the input data, $z$ is a random variable, $p(x|z)$ is the
# decoder and $p(z)$ is the encoder". $p(z)$ is not the encoder. It is the
# **prior**: it does not look at $x$ at all. The encoder is $q_\phi(z \mid x)$.
#
# To check every claim we need a model in which all five are exact. The
# **linear-Gaussian latent model** (probabilistic PCA; Tipping and Bishop,
# 1999) is one: a VAE whose decoder is linear,
#
# $$z \sim \mathcal N(0, I_q), \qquad x \mid z \sim \mathcal N(W z + \mu,\ \sigma^2 I_D),
# \qquad\text{so}\qquad x \sim \mathcal N(\mu,\ W W^\top + \sigma^2 I_D).$$
#
# We take $D = 5$ "pixels" and a one-dimensional $z$, so that integrals over
# $z$ can also be done by brute force on a grid.

# %%
from vaeface_utils.ppca import PPCAParams, ppca_log_likelihood, ppca_posterior, ppca_sample

params = PPCAParams(
    mean=np.array([0.5, -1.0, 0.0, 2.0, 1.0]),
    W=np.array([[1.2], [-0.8], [0.5], [1.5], [-0.3]]),
    sigma2=0.5,
)
x, z_true = ppca_sample(params, 1, rng=SEED)  # one observation, shape (1, D)
print("x =", x.round(3), "  generated from z =", z_true.round(3))

# %% [markdown]
# **Erratum 5.** The article says (§3.2, step 2) "解码器的输入层应该是与原始输入数据$x$相同的形状。",
# "the decoder's input layer should have the same shape as the original input
# data $x$". It is the decoder's **output** that has the shape of $x$; its
# input is a code $z$, with the shape of the latent space. The article's own
# code agrees with this and not with its text: it calls
# `reconstructed = decoder(z)`, and its decoder ends in
# `x = tf.reshape(x, (-1, 28, 28))`. In the toy model the decoder's mean is
# $W z + \mu$:

# %%
def decoder_mean(z):
    """E[x | z] = W z + mu for codes z of shape (n, latent_dim); returns shape (n, D)."""
    return z @ params.W.T + params.mean


latent_dim, n_dims = params.W.shape[1], params.W.shape[0]
print(f"decoder input: z of shape {z_true.shape} (latent_dim = {latent_dim}); "
      f"output: shape {decoder_mean(z_true).shape}, the shape of x (D = {n_dims})")
try:
    decoder_mean(x)  # an input of the shape of x, as the article's text says
except ValueError as error:
    print(f"an input of the shape of x, {x.shape}: {type(error).__name__}; "
          f"the decoder takes codes of length {latent_dim}, not {n_dims}")
assert decoder_mean(z_true).shape == x.shape and z_true.shape[1] == latent_dim != x.shape[1]

# %% [markdown]
# Now the marginal likelihood, three ways: by brute force,
# $\log p(x) = \log \int p(x \mid z)\, p(z)\, dz$ as a sum over a fine grid of
# $z$ (in log space, with `logsumexp`); from the closed form
# $\mathcal N(x; \mu, WW^\top + \sigma^2 I)$ with SciPy; and with the package's
# `ppca_log_likelihood`.

# %%
z_grid = np.linspace(-10.0, 10.0, 20_001)
dz = z_grid[1] - z_grid[0]


def log_decoder(x, z):
    """log p(x | z) for each z on the grid: independent Gaussian pixels, summed. Shape (len(z),)."""
    x_mean = z[:, None] * params.W[:, 0] + params.mean
    return stats.norm.logpdf(x, x_mean, math.sqrt(params.sigma2)).sum(axis=1)


log_prior = stats.norm.logpdf(z_grid)
log_joint = log_decoder(x, z_grid) + log_prior  # log p(x, z) on the grid
log_px_grid = logsumexp(log_joint) + math.log(dz)  # log of the integral
covariance = params.W @ params.W.T + params.sigma2 * np.eye(5)
log_px_scipy = stats.multivariate_normal(params.mean, covariance).logpdf(x[0])
log_px = ppca_log_likelihood(x, params)[0]
print(f"log p(x) by quadrature:     {log_px_grid:.10f} nats")
print(f"log p(x) by SciPy:          {log_px_scipy:.10f} nats")
print(f"log p(x) by the package:    {log_px:.10f} nats")
assert abs(log_px_grid - log_px) < 1e-9 and abs(log_px_scipy - log_px) < 1e-9

# %% [markdown]
# What to notice: all three agree to 10 decimals. The true posterior is
# Bayes' rule, $p(z \mid x) = p(x, z) / p(x)$; on the grid we can compute it
# directly and compare it with the package's closed form
# $\mathcal N\big(M^{-1} W^\top (x - \mu),\ \sigma^2 M^{-1}\big)$, $M = W^\top W + \sigma^2 I$.

# %%
posterior_grid = np.exp(log_joint - log_px)  # p(z | x) on the grid, a density in z
post_mean, post_cov = ppca_posterior(x, params)
post_mean, post_var = post_mean[0, 0], post_cov[0, 0]
print(f"posterior mean: grid {np.sum(z_grid * posterior_grid) * dz:.8f}, closed form {post_mean:.8f}")
print(f"posterior var:  grid {np.sum((z_grid - post_mean) ** 2 * posterior_grid) * dz:.8f}, closed form {post_var:.8f}")
assert abs(np.sum(z_grid * posterior_grid) * dz - post_mean) < 1e-8
assert abs(np.sum((z_grid - post_mean) ** 2 * posterior_grid) * dz - post_var) < 1e-8 and post_var < 1.0  # prior var: 1

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(z_grid, np.exp(log_prior), label="prior p(z)")
ax.plot(z_grid, posterior_grid, label="true posterior p(z | x)")
likelihood = np.exp(log_decoder(x, z_grid))
ax.plot(z_grid, likelihood / (likelihood.sum() * dz), "--", label="p(x | z) as a function of z (rescaled)")
ax.axvline(z_true[0, 0], color="grey", lw=0.8, label="the z that generated x")
ax.set(xlim=(-4, 4), xlabel="latent z (no unit)", ylabel="density per unit of z",
       title="Toy linear-Gaussian model, one observation x: prior vs posterior")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# What to notice: the data move the belief about $z$ from the broad prior to
# a narrow posterior. The encoder's job is to output (an approximation of)
# this posterior for each $x$; the prior is the same for every $x$.

# %% [markdown]
# ## 2. First derivation: Jensen's inequality
#
# For **any** density $q(z \mid x)$ that is positive where $p(x, z)$ is,
# multiply and divide inside the integral, then use that $\log$ is concave
# ($\log \mathbb E[w] \ge \mathbb E[\log w]$):
#
# $$\log p(x) = \log \int q(z \mid x)\, \frac{p(x, z)}{q(z \mid x)}\, dz
# = \log \mathbb E_{q}\!\left[\frac{p(x, z)}{q(z \mid x)}\right]
# \ \ge\ \mathbb E_{q}\!\left[\log \frac{p(x, z)}{q(z \mid x)}\right] =: \mathrm{ELBO}(q).$$
#
# We check it with a deliberately poor $q = \mathcal N(0.5, 0.5^2)$, first on
# the grid and then with the package's closed form `ppca_elbo`.

# %%
from vaeface_utils.ppca import ppca_elbo

q_mean, q_log_var = 0.5, math.log(0.25)
log_q = stats.norm.logpdf(z_grid, q_mean, math.exp(0.5 * q_log_var))
q_grid = np.exp(log_q)
elbo_grid = np.sum(q_grid * (log_joint - log_q)) * dz  # E_q[log p(x, z) - log q(z|x)]
elbo_closed = ppca_elbo(x, params, np.array([[q_mean]]), np.array([[q_log_var]]))[0]
print(f"log p(x)               = {log_px:.6f} nats")
print(f"ELBO(q) by quadrature  = {elbo_grid:.6f} nats")
print(f"ELBO(q) closed form    = {elbo_closed:.6f} nats")
print(f"gap log p(x) - ELBO(q) = {log_px - elbo_closed:.6f} nats")
assert abs(elbo_grid - elbo_closed) < 1e-9 and elbo_closed < log_px

# %% [markdown]
# What to notice: the ELBO is below $\log p(x)$, as Jensen promises.
#
# **Erratum 1.** The article says (§3.1) "VAE的目标是最大化下列概率模型的对数概率：",
# "the goal of a VAE is to maximise the log-probability of the following
# probabilistic model:"
#
# $$
# \log p(x) = \int p(z) \log p(x|z) dz
# $$
#
# The logarithm belongs *outside* the integral. The inside form is Jensen's
# bound with $q = p(z)$, the prior: a lower bound, not an equality. Both,
# computed:

# %%
inside_form = np.sum(np.exp(log_prior) * log_decoder(x, z_grid)) * dz  # the article's formula
outside_form = math.log(np.sum(np.exp(log_prior + log_decoder(x, z_grid))) * dz)  # log p(x)
elbo_prior_q = ppca_elbo(x, params, np.zeros((1, 1)), np.zeros((1, 1)))[0]  # ELBO with q = prior
print(f"article:  integral of p(z) log p(x|z) dz = {inside_form:.6f} nats")
print(f"correct:  log of integral p(z) p(x|z) dz  = {outside_form:.6f} nats")
print(f"ELBO with q = p(z) (closed form)          = {elbo_prior_q:.6f} nats")
print(f"the article's formula is short by           {outside_form - inside_form:.6f} nats")
assert abs(inside_form - elbo_prior_q) < 1e-9 and inside_form < outside_form

# %% [markdown]
# What to notice: the article's formula falls short of $\log p(x)$ for this
# $x$ by the last amount printed, and it is exactly the ELBO of an "encoder"
# that ignores $x$.

# %% [markdown]
# ## 3. Second derivation: an exact identity
#
# Jensen says *that* the ELBO is below $\log p(x)$; this derivation says *by
# how much*. Since $\log p(x)$ does not depend on $z$, it equals its own
# expectation under $q$, and $p(x) = p(x, z) / p(z \mid x)$:
#
# $$\log p(x) = \mathbb E_q\left[\log \frac{p(x, z)}{p(z \mid x)}\right]
# = \mathbb E_q\left[\log \frac{p(x, z)}{q(z \mid x)}\right] + \mathbb E_q\left[\log \frac{q(z \mid x)}{p(z \mid x)}\right]
# = \mathrm{ELBO}(q) + \mathrm{KL}\big(q(z \mid x)\,\|\,p(z \mid x)\big).$$
#
# A KL divergence is $\ge 0$ and is $0$ only when the two densities are
# equal, so $\mathrm{ELBO}(q) \le \log p(x)$ with **equality if and only if
# $q$ is the true posterior**. We check the identity with the KL computed
# by quadrature and in closed form.

# %%
from vaeface_utils.elbo import kl_diag_gaussians

kl_to_posterior_grid = np.sum(q_grid * (log_q - np.log(posterior_grid))) * dz
kl_to_posterior = kl_diag_gaussians([[q_mean]], [[q_log_var]], [post_mean], [math.log(post_var)])[0]
residual = log_px - (elbo_closed + kl_to_posterior)
print(f"KL(q || p(z|x)): quadrature {kl_to_posterior_grid:.8f}, closed form {kl_to_posterior:.8f} nats")
print(f"log p(x) - ELBO(q) - KL(q || p(z|x)) is below 1e-12: {abs(residual) < 1e-12}")
assert abs(kl_to_posterior_grid - kl_to_posterior) < 1e-8

# %% [markdown]
# What to notice: the gap of section 2 is exactly the KL from $q$ to the
# true posterior, to floating-point precision. Next, the equality case: the
# ELBO of the exact posterior, and of $q$'s that move away from it, in a
# batch of 50 observations of a model with $D = 20$ and a 3-dimensional
# latent space, fitted by maximum likelihood with `ppca_fit`.

# %%
from vaeface_utils.elbo import kl_diag_gaussian_standard
from vaeface_utils.ppca import ppca_fit

model_3d = PPCAParams(np.zeros(20), np.random.default_rng(SEED).normal(size=(20, 3)), 0.3)
x_train, _ = ppca_sample(model_3d, 500, rng=SEED + 1)
fitted = ppca_fit(x_train, latent_dim=3)
x_batch = x_train[:50]
log_px_batch = ppca_log_likelihood(x_batch, fitted)
exact_mean, exact_cov = ppca_posterior(x_batch, fitted)
exact_log_var = np.log(np.diag(exact_cov))  # fitted W has orthogonal columns: the posterior is diagonal
off_diagonal = np.abs(exact_cov - exact_cov * np.eye(3)).max()
print(f"posterior covariance is diagonal (off-diagonal < 1e-12): {bool(off_diagonal < 1e-12)}")
print(f"{'q(z|x)':<34}{'mean ELBO':>12}{'mean KL(q||p(z|x))':>20}{'max |identity error|':>22}")
elbo_of_q, identity_error = {}, {}
for label, mean_shift, log_var_shift in [
    ("exact posterior", 0.0, 0.0),
    ("mean shifted by 0.3", 0.3, 0.0),
    ("variance x 3", 0.0, math.log(3.0)),
    ("variance / 3", 0.0, -math.log(3.0)),
    ("prior N(0, I) (ignores x)", None, None),
]:
    if mean_shift is None:
        m, lv = np.zeros_like(exact_mean), np.zeros_like(exact_mean)
    else:
        m, lv = exact_mean + mean_shift, np.broadcast_to(exact_log_var + log_var_shift, exact_mean.shape)
    elbo_q = ppca_elbo(x_batch, fitted, m, lv)
    kl_q = kl_diag_gaussians(m, lv, exact_mean, exact_log_var)
    error = np.abs(log_px_batch - elbo_q - kl_q).max()
    elbo_of_q[label], identity_error[label] = elbo_q, error
    print(f"{label:<34}{elbo_q.mean():>12.4f}{kl_q.mean():>20.4f}{'< 1e-10' if error < 1e-10 else error:>22}")
print(f"{'log p(x), exact':<34}{log_px_batch.mean():>12.4f}")

# %% [markdown]
# What to notice: the exact posterior's ELBO equals $\log p(x)$ and every
# other $q$ falls below it by exactly its KL to the posterior. The prior as
# $q$ is the worst of these. The checks:

# %%
assert off_diagonal < 1e-12
assert max(identity_error.values()) < 1e-10  # ELBO + KL(q || p(z|x)) = log p(x) for every q
assert np.abs(elbo_of_q["exact posterior"] - log_px_batch).max() < 1e-10  # equality at the posterior
assert min(elbo_of_q, key=lambda label: elbo_of_q[label].mean()) == "prior N(0, I) (ignores x)"

# %% [markdown]
# A figure makes the same point: the ELBO of the toy model's $x$ as a
# function of $q$'s mean, with $q$'s variance set to the posterior's, peaks
# at the posterior mean and touches $\log p(x)$ there.

# %%
means = np.linspace(-1.5, 1.5, 301)
elbo_curve = ppca_elbo(np.repeat(x, len(means), axis=0), params, means[:, None], np.full((len(means), 1), math.log(post_var)))
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(means, elbo_curve, label="ELBO(q), q = N(mean, posterior variance)")
ax.axhline(log_px, color="k", ls="--", label="log p(x), exact")
ax.axvline(post_mean, color="grey", lw=0.8, label="true posterior mean")
ax.set(xlabel="mean of q(z | x) (latent units)", ylabel="nats per example",
       title="Toy model, one observation: the ELBO touches log p(x) at the true posterior")
ax.legend(fontsize=8)
plt.show()
assert abs(elbo_curve.max() - log_px) < 1e-4 and np.all(elbo_curve <= log_px + 1e-12)

# %% [markdown]
# ## 4. Two readings of the ELBO
#
# Split $\log p(x, z) = \log p(x \mid z) + \log p(z)$ inside the expectation:
#
# $$\mathrm{ELBO} = \underbrace{\mathbb E_q[\log p_\theta(x \mid z)]}_{\text{reconstruction}}
# - \underbrace{\mathrm{KL}\big(q_\phi(z \mid x)\,\|\,p(z)\big)}_{\text{distance from the prior}}
# = \mathbb E_q\big[\log p_\theta(x, z) - \log q_\phi(z \mid x)\big].$$
#
# A VAE uses the first reading, because for a Gaussian encoder the KL has a
# closed form (section 7) and only the reconstruction term needs a sample.
# The second needs only densities, so it works for any $q$. Both are
# estimated below with the same samples $z \sim q$, and compared with the
# exact value.

# %% tags=["nbval-ignore-output"]
rng = np.random.default_rng(SEED)
z_samples = q_mean + math.exp(0.5 * q_log_var) * rng.standard_normal(N_MC)
log_px_given_z = log_decoder(x, z_samples)
log_pz = stats.norm.logpdf(z_samples)
log_qz = stats.norm.logpdf(z_samples, q_mean, math.exp(0.5 * q_log_var))
kl_prior = 0.5 * (math.exp(q_log_var) + q_mean**2 - 1.0 - q_log_var)  # closed form, section 7

reading_1 = log_px_given_z - kl_prior  # reconstruction minus KL, per sample
reading_2 = log_px_given_z + log_pz - log_qz  # log p(x, z) - log q(z | x), per sample
for name, values in (("E_q[log p(x|z)] - KL(q || p(z))", reading_1), ("E_q[log p(x,z) - log q(z|x)]", reading_2)):
    print(f"{name:<34} {values.mean():.4f} +- {values.std() / math.sqrt(N_MC):.4f} nats "
          f"(per-sample std {values.std():.3f})")
print(f"{'exact ELBO(q)':<34} {elbo_closed:.4f} nats")

# %% [markdown]
# What to notice: both readings estimate the exact ELBO, within their
# standard errors. Here they are about equally noisy, because almost all of
# the noise comes from the reconstruction term. The estimates depend on the
# number of samples, so the cell above is not compared by the tests; this one
# checks what the text claims.

# %%
for values in (reading_1, reading_2):
    assert abs(values.mean() - elbo_closed) < 5 * values.std() / math.sqrt(N_MC)
assert abs(reading_1.std() - reading_2.std()) < 0.05 * reading_2.std()

# %% [markdown]
# The package writes both readings as functions: `elbo(log_px_given_z, kl)`
# and `elbo_from_samples(log_px_given_z, log_pz, log_qz)`. They agree with the
# lines above:

# %%
from vaeface_utils.elbo import elbo, elbo_from_samples

assert np.allclose(elbo(log_px_given_z, np.full(N_MC, kl_prior)), reading_1)
assert np.allclose(elbo_from_samples(log_px_given_z, log_pz, log_qz), reading_2)
print("elbo() and elbo_from_samples() agree with the inline formulas")

# %% [markdown]
# **Erratum 6.** Of the KL term the article says (§3.2)
# "其中，$KL(q_\theta(z|x) || p(z))$是KL散度，用于衡量编码器与真实分布之间的差距。",
# "where $KL(q_\theta(z|x) || p(z))$ is the KL divergence, used to measure the
# gap between the encoder and the true distribution". It measures the distance
# from $q(z \mid x)$ to the **prior** $p(z)$, the same $\mathcal N(0, I)$ for
# every $x$. The gap between the encoder and the true posterior is another
# KL, $\mathrm{KL}(q \,\|\, p(z \mid x)) = \log p(x) - \mathrm{ELBO}$
# (section 3), and no term of the ELBO computes it. Both, for the poor $q$ of
# section 2 and for the true posterior itself:

# %%
print(f"{'q(z|x)':<30}{'KL(q || p(z))':>15}{'KL(q || p(z|x)) = log p(x) - ELBO':>36}  (nats)")
kl_to_prior_of, gap_of = {}, {}
for label, m, lv in (("N(0.5, 0.5^2) of section 2", q_mean, q_log_var),
                     ("the true posterior p(z | x)", post_mean, math.log(post_var))):
    kl_to_prior_of[label] = kl_diag_gaussian_standard([[m]], [[lv]])[0]
    gap_of[label] = kl_diag_gaussians([[m]], [[lv]], [post_mean], [math.log(post_var)])[0]
    elbo_of_q = ppca_elbo(x, params, np.array([[m]]), np.array([[lv]]))[0]
    assert abs(log_px - elbo_of_q - gap_of[label]) < 1e-10  # the identity of section 3
    print(f"{label:<30}{kl_to_prior_of[label]:>15.4f}{gap_of[label]:>36.4f}")

# %% [markdown]
# What to notice: the true posterior has no gap at all, yet its KL to the
# prior is not zero, and is even larger than that of the poor $q$, whose gap
# is large. The KL to the prior is the price every useful encoder pays for
# moving away from the prior; it does not say how far the encoder is from
# the truth.

# %%
poor, exact = kl_to_prior_of.keys()
assert gap_of[exact] == 0.0 and gap_of[poor] > 1.0
assert kl_to_prior_of[exact] > kl_to_prior_of[poor] > 0.0

# %% [markdown]
# ## 5. The training objective: maximise, over θ and φ
#
# The data set's log-likelihood $\sum_i \log p_\theta(x_i)$ is what we want
# to maximise over the decoder's parameters $\theta$, and we cannot compute
# it. The ELBO is a lower bound on it that we can compute, so we
# **maximise** the ELBO over **both** $\theta$ (the decoder) and $\phi$ (the
# encoder):
#
# $$\max_{\theta, \phi} \sum_i \mathrm{ELBO}(x_i;\ \theta, \phi),
# \qquad\text{equivalently}\qquad
# \min_{\theta, \phi}\ \underbrace{-\sum_i \mathrm{ELBO}(x_i;\ \theta, \phi)}_{\text{the loss}}.$$
#
# By section 3, $\mathrm{ELBO} = \log p_\theta(x) - \mathrm{KL}\big(q_\phi(z \mid x) \,\|\, p_\theta(z \mid x)\big)$,
# and only the KL depends on $\phi$. So raising the ELBO over $\phi$ can only
# shrink that KL: the bound tightens. Over $\theta$ both terms move. A step
# that raises the ELBO may raise $\log p_\theta(x)$, but it may instead
# shrink the KL, by bending the model's posterior $p_\theta(z \mid x)$
# towards $q$, even at the cost of $\log p_\theta(x)$. Raising the ELBO over
# $\theta$ is therefore not guaranteed to improve the model: it favours
# decoders whose posteriors the encoder can match. The end of this section
# shows a step over $\theta$ that lowers $\log p_\theta(x)$.
#
# **Erratum 3.** The article writes (§3.2, step 3) "训练：通过最小化下列目标函数来训练编码器和解码器：",
# "training: train the encoder and the decoder by minimising the following
# objective function:"
#
# $$\min_\theta \mathbb{E}_{z \sim q_\theta(z|x)} [\log p_\theta(x|z) - KL(q_\theta(z|x) || p(z))]$$
#
# One $\theta$ stands in both $q_\theta$ and $p_\theta$, so this minimum is
# over both networks, as the sentence says. Two things are wrong. The
# **sign**: the bracket is the ELBO, and minimising it has no solution. And
# **one symbol for two networks**: the encoder and the decoder have separate
# parameters, $\phi$ and $\theta$, and they do different things to the bound
# (above). We run both directions, each over both parameter sets, on 100
# observations of the toy model. The decoder's $\theta$ is the matrix $W$
# (with $\mu$ and $\sigma^2$ held at their maximum-likelihood values) and
# $\phi$ holds a mean and a log-variance of $q$ per observation. The
# gradients of the closed-form ELBO are written out by hand and checked
# against finite differences.

# %%
x_data, _ = ppca_sample(params, 100, rng=SEED + 2)
ml = ppca_fit(x_data, latent_dim=1)  # the maximum-likelihood solution, for reference
best_log_lik = ppca_log_likelihood(x_data, ml).sum()


def total_elbo(W, m, lv):
    return ppca_elbo(x_data, PPCAParams(ml.mean, W, ml.sigma2), m, lv).sum()


def elbo_gradients(W, m, lv):
    """Gradients of the total closed-form ELBO with respect to W (theta) and m, lv (phi)."""
    residual = x_data - ml.mean - m @ W.T
    var = np.exp(lv)
    grad_W = (residual.T @ m - W * var.sum(axis=0)) / ml.sigma2
    grad_m = residual @ W / ml.sigma2 - m
    grad_lv = -0.5 * var * np.sum(W**2, axis=0) / ml.sigma2 - 0.5 * (var - 1.0)
    return grad_W, grad_m, grad_lv


# finite differences at a random point, for one entry of each of the three gradients
rng = np.random.default_rng(SEED + 3)
point = [rng.normal(size=(5, 1)), rng.normal(size=(100, 1)), rng.normal(scale=0.5, size=(100, 1))]  # W, m, lv
analytic = elbo_gradients(*point)
eps = 1e-6
for which, index in ((0, (2, 0)), (1, (7, 0)), (2, (7, 0))):
    up, down = [a.copy() for a in point], [a.copy() for a in point]
    up[which][index] += eps
    down[which][index] -= eps
    numeric = (total_elbo(*up) - total_elbo(*down)) / (2 * eps)
    assert abs(numeric - analytic[which][index]) < 1e-5 * max(1.0, abs(numeric))
W0, m0, lv0 = np.full((5, 1), 0.1), np.zeros((100, 1)), np.zeros((100, 1))


def run(direction, n_steps, lr_theta=0.002, lr_phi=0.1):
    """Gradient steps on the ELBO: direction=+1 ascends (right), -1 descends (the article's min).

    Returns the ELBO after each step (-inf once it is no longer finite), the decoder, and the
    largest |W|, |m| and log-variance at the last step with a finite ELBO.
    """
    W, m, lv = W0.copy(), m0.copy(), lv0.copy()
    history = [total_elbo(W, m, lv)]
    last_finite = (np.abs(W).max(), np.abs(m).max(), lv.max())
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(n_steps):
            grad_W, grad_m, grad_lv = elbo_gradients(W, m, lv)
            W, m, lv = W + direction * lr_theta * grad_W, m + direction * lr_phi * grad_m, lv + direction * lr_phi * grad_lv
            finite = all(np.all(np.isfinite(a)) for a in (W, m, lv)) and np.all(lv < 700)
            value = total_elbo(W, m, lv) if finite else -np.inf
            history.append(value)
            if not np.isfinite(value):
                break
            last_finite = (np.abs(W).max(), np.abs(m).max(), lv.max())
    return np.array(history), PPCAParams(ml.mean, W, ml.sigma2), last_finite


maximised, theta_max, _ = run(+1, TRAIN_STEPS)
minimised, _, runaway = run(-1, TRAIN_STEPS)
print(f"{'step':>6}{'maximise ELBO':>16}{'minimise ELBO':>18}")
for step in (0, 1, 2, 3, 5, 10, 100, TRAIN_STEPS):
    right = f"{maximised[step]:.2f}" if step < len(maximised) else ""
    wrong = f"{minimised[step]:.4g}" if step < len(minimised) else "(diverged)"
    print(f"{step:>6}{right:>16}{wrong:>18}")
print(f"\nmaximum-likelihood log p(x), summed over the 100 observations: {best_log_lik:.2f} nats")
print(f"log p_theta(x) after maximising the ELBO:                      {ppca_log_likelihood(x_data, theta_max).sum():.2f} nats")
n_finite = len(minimised) - 2  # steps before the first non-finite ELBO
print(f"\nminimising: the ELBO is no longer finite at step {n_finite + 1}; at step {n_finite}, "
      f"max |W| = {runaway[0]:.1f} (from {np.abs(W0).max():.1f}), max |m| = {runaway[1]:.1f} (from 0), "
      f"max log-variance = {runaway[2]:.1f} (from 0)")

# %% [markdown]
# What to notice: maximising the ELBO over $\theta$ and $\phi$ together climbs
# to the maximum-likelihood value: the trained decoder is the best linear
# decoder, and the bound is tight because $q$ has become the posterior.
# Minimising it runs off to $-\infty$ after the few steps printed above, with
# every parameter running away together: the decoder's weights $W$, the
# encoder's means and its log-variances all grow from their starting values.
# "Minimise the ELBO" has no solution.

# %%
assert np.all(np.diff(maximised) > -1e-9) and abs(maximised[-1] - best_log_lik) < 0.01
assert minimised[-1] == -np.inf and n_finite < 20
assert runaway[0] > 10 * np.abs(W0).max() and runaway[1] > 10.0 and runaway[2] > 1.0  # all three ran away

# %% [markdown]
# ### A step over $\theta$ alone can lower $\log p_\theta(x)$
#
# The joint run reached the maximum-likelihood decoder because here the
# Gaussian family of $q$ contains the model's exact posterior, so $\phi$
# could close the gap. Now hold the encoder fixed at an imperfect $q$ and
# move $\theta$ alone. Start from the maximum-likelihood decoder, the best
# model of this family for these data, with $q$ at that model's posterior
# means and three times its posterior variance (the same distortion as the
# "variance x 3" row of section 3, there of another model), and ascend the
# ELBO over $\theta$ only:

# %%
m_fixed, post_cov_ml = ppca_posterior(x_data, ml)
lv_fixed = np.full_like(m_fixed, math.log(3.0 * post_cov_ml[0, 0]))  # too wide; phi is not trained
W = ml.W.copy()
theta_only = []  # (step, ELBO, log p_theta(x), KL(q || p_theta(z|x))), summed over the 100 observations
for step in range(101):
    model_log_lik = ppca_log_likelihood(x_data, PPCAParams(ml.mean, W, ml.sigma2)).sum()
    elbo_value = total_elbo(W, m_fixed, lv_fixed)
    theta_only.append((step, elbo_value, model_log_lik, model_log_lik - elbo_value))
    W = W + 0.002 * elbo_gradients(W, m_fixed, lv_fixed)[0]  # a step over theta only
theta_only = np.array(theta_only)
print(f"{'step':>6}{'ELBO':>12}{'log p_theta(x)':>17}{'KL(q || p_theta(z|x))':>24}"
      "   (nats, summed over 100 observations)")
for step, elbo_value, model_log_lik, kl_gap in theta_only[[0, 1, 2, 5, 20, 100]]:
    print(f"{step:>6.0f}{elbo_value:>12.2f}{model_log_lik:>17.2f}{kl_gap:>24.2f}")

# %% [markdown]
# What to notice: every step raises the ELBO, yet $\log p_\theta(x)$ falls
# from its maximum. The whole gain, and more, comes from the KL: the decoder
# bends its posterior towards the fixed $q$. With a neural decoder the
# encoder's family in general does not contain every posterior, so this pull
# is generally there, and the decoder that maximises the ELBO is in general
# not the one that maximises the likelihood.

# %%
elbo_path, log_lik_path, kl_path = theta_only[:, 1], theta_only[:, 2], theta_only[:, 3]
assert np.all(np.diff(elbo_path) > -1e-9) and elbo_path[-1] > elbo_path[0] + 1.0  # the ELBO rises
assert abs(log_lik_path[0] - best_log_lik) < 1e-9 and log_lik_path[-1] < log_lik_path[0] - 1.0  # the model gets worse
assert kl_path[-1] < kl_path[0] - (elbo_path[-1] - elbo_path[0])  # the KL fell by more than the ELBO rose

# %% [markdown]
# ## 6. The reparameterisation trick, measured
#
# Training needs the gradient of $\mathbb E_{q_\phi}[f(z)]$ with respect to
# $\phi$, where $f(z) = \log p_\theta(x \mid z)$. Two standard unbiased
# estimators for $q_\phi = \mathcal N(m, s^2)$ are:
#
# - **score function (REINFORCE; Williams, 1992):** $\nabla_m \mathbb E_q[f] = \mathbb E_q\big[f(z)\, \nabla_m \log q(z)\big]
#   = \mathbb E_q\big[f(z)\, (z - m) / s^2\big]$; it only needs values of $f$;
# - **reparameterisation:** write $z = m + s\,\varepsilon$ with $\varepsilon \sim \mathcal N(0, 1)$,
#   so $\nabla_m \mathbb E_\varepsilon[f(m + s\varepsilon)] = \mathbb E_\varepsilon[f'(m + s\varepsilon)]$;
#   it uses the derivative of $f$, which a network provides by backpropagation
#   (Kingma and Welling, 2014; Rezende, Mohamed and Wierstra, 2014).
#
# The score-function estimator has a standard remedy for its variance: since
# $\mathbb E_q[\nabla_m \log q(z)] = 0$, any constant $b$ (a **baseline**) may be
# subtracted from $f$ without bias, $\mathbb E_q\big[(f(z) - b)\, (z - m) / s^2\big]$.
# We use $b = f(m)$, the decoder's log-likelihood at $q$'s mean: one extra
# evaluation, and it does not depend on the samples.
#
# For the toy decoder the exact gradient is $W^\top (x - \mu - W m) / \sigma^2$. We draw
# each estimator many times at each sample size $S$ and measure its variance.

# %% tags=["nbval-ignore-output"]
w_vec, r_vec = params.W[:, 0], x[0] - params.mean
exact_gradient = w_vec @ (r_vec - w_vec * q_mean) / params.sigma2


def f(z):
    """log p(x | z) for a batch of z of any shape: the toy decoder."""
    sq = ((r_vec - z[..., None] * w_vec) ** 2).sum(axis=-1)
    return -0.5 * (5 * math.log(2 * math.pi * params.sigma2) + sq / params.sigma2)


def f_prime(z):
    """d/dz log p(x | z)."""
    return (w_vec @ r_vec - z * (w_vec @ w_vec)) / params.sigma2


s = math.exp(0.5 * q_log_var)
baseline = f(np.array(q_mean))  # b = f(m): a constant, independent of the samples
rng = np.random.default_rng(SEED)
rows = []
for n_samples in GRAD_SAMPLE_SIZES:
    eps_draws = rng.standard_normal((N_GRAD_REPEATS, n_samples))
    z_draws = q_mean + s * eps_draws
    reparam = f_prime(z_draws).mean(axis=1)
    score = (f(z_draws) * (z_draws - q_mean) / s**2).mean(axis=1)
    score_baseline = ((f(z_draws) - baseline) * (z_draws - q_mean) / s**2).mean(axis=1)
    rows.append((n_samples, reparam.mean(), reparam.var(), score.mean(), score.var(),
                 score_baseline.mean(), score_baseline.var()))
print(f"exact gradient: {exact_gradient:.4f} nats per unit of m;  baseline b = f(m) = {baseline:.4f} nats")
print(f"{'':>5} |{'mean of the estimates':^27}|{'variance of the estimates':^27}|{'variance ratios':^27}")
print(f"{'S':>5} |{'reparam':>9}{'score':>9}{'score-b':>9}|{'reparam':>9}{'score':>9}{'score-b':>9}"
      f"|{'score/reparam':>14}{'score/(score-b)':>16}")
for n_samples, rm, rv, sm, sv, bm, bv in rows:
    print(f"{n_samples:>5} |{rm:>9.3f}{sm:>9.3f}{bm:>9.3f}|{rv:>9.4f}{sv:>9.2f}{bv:>9.2f}"
          f"|{sv / rv:>14.1f}{sv / bv:>16.2f}")
baseline_gain = np.mean([row[4] / row[6] for row in rows])
print(f"with the baseline, REINFORCE's variance falls {baseline_gain:.1f}x (mean over S); it stays "
      f"{np.mean([row[6] / row[2] for row in rows]):.1f}x the reparameterisation's")
print(f"for the same precision, REINFORCE needs about {np.mean([row[4] / row[2] for row in rows]):.0f} times as "
      f"many samples as the reparameterisation estimator (the mean 'score/reparam' ratio), "
      f"{np.mean([row[6] / row[2] for row in rows]):.1f} times with the baseline")

fig, ax = plt.subplots(figsize=(7, 4))
sizes = np.array([row[0] for row in rows])
ax.loglog(sizes, [row[2] for row in rows], "o-", label="reparameterisation")
ax.loglog(sizes, [row[4] for row in rows], "s-", label="score function (REINFORCE)")
ax.loglog(sizes, [row[6] for row in rows], "^-", label="score function with baseline b = f(m)")
for k in (2, 4, 6):  # a 1/S line through each estimator's variance at S = 1
    ax.loglog(sizes, rows[0][k] / sizes, "--", color="grey", lw=0.8,
              label="1/S, through each variance at S = 1" if k == 2 else None)
ax.set(xlabel="samples per estimate S", ylabel="variance, (nats per unit of m)²",
       title=f"Toy model, one observation: variance of three estimates of the gradient\n"
             f"of E_q[log p(x|z)] with respect to q's mean ({N_GRAD_REPEATS} repeats per S)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# What to notice: all three estimators are centred on the exact gradient and
# all variances fall like $1/S$ (each follows its dashed line), but the
# score-function estimator's is far larger at every $S$: for the same
# precision, REINFORCE needs the "score/reparam" factor more samples (the
# last line printed above). The baseline cuts its variance by the factor in
# the last column, which helps, but leaves it well above the
# reparameterisation's.
#
# Score-function estimators still matter where the trick cannot be used: when
# $z$ is **discrete** (a category, a binary code), there is no differentiable
# $z = m + s\,\varepsilon$ to backpropagate through; and when $f$ is **not
# differentiable** (a simulator, a count, a reward from outside the model),
# there is no $f'$. They need only values of $f$, and baselines (and other
# control variates) are what make them usable. The checks:

# %%
for n_samples, rm, rv, sm, sv, bm, bv in rows:
    assert abs(rm - exact_gradient) < 5 * math.sqrt(rv / N_GRAD_REPEATS)
    assert abs(sm - exact_gradient) < 5 * math.sqrt(sv / N_GRAD_REPEATS)
    assert abs(bm - exact_gradient) < 5 * math.sqrt(bv / N_GRAD_REPEATS)  # the baseline adds no bias
    assert sv > 10 * rv  # REINFORCE is far noisier
    assert 1.5 * bv < sv  # the baseline reduces its variance
    assert bv > 2 * rv  # but not to the reparameterisation's
for k in (2, 4, 6):  # variance x S stays at the variance for S = 1: each variance falls like 1/S
    assert np.allclose([row[k] * row[0] for row in rows], rows[0][k], rtol=0.2)

# %% [markdown]
# ## 7. The KL term in closed form
#
# For an encoder output $q = \mathcal N(\mu, \operatorname{diag} \sigma^2)$ and the prior
# $\mathcal N(0, I)$, each dimension contributes
#
# $$\mathbb E_q\Big[\log \mathcal N(z; \mu, \sigma^2) - \log \mathcal N(z; 0, 1)\Big]
# = \mathbb E_q\Big[-\tfrac12 \log \sigma^2 - \frac{(z-\mu)^2}{2\sigma^2} + \frac{z^2}{2}\Big]
# = -\tfrac12 \log \sigma^2 - \tfrac12 + \tfrac12 (\sigma^2 + \mu^2),$$
#
# using $\mathbb E_q[(z-\mu)^2] = \sigma^2$ and $\mathbb E_q[z^2] = \sigma^2 + \mu^2$
# (the $\log 2\pi$ terms cancel). Summed over dimensions:
#
# $$\mathrm{KL}\big(q \,\|\, \mathcal N(0, I)\big) = \tfrac12 \sum_j \big(\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2\big).$$
#
# In NumPy, with the log-variance that the encoder outputs:

# %%
def kl_to_standard_normal(z_mean, z_log_var):
    """KL(N(z_mean, diag exp(z_log_var)) || N(0, I)), summed over the last axis."""
    return 0.5 * np.sum(np.exp(z_log_var) + z_mean**2 - 1.0 - z_log_var, axis=-1)


z_mean = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
z_log_var = np.array([[0.0, -1.0, 0.5], [0.0, 0.0, 0.0]])
print("closed-form KL per example:", kl_to_standard_normal(z_mean, z_log_var).round(6), "nats")

# %% [markdown]
# Check against Monte Carlo: average $\log q(z) - \log p(z)$ over samples $z \sim q$.

# %% tags=["nbval-ignore-output"]
rng = np.random.default_rng(SEED)
z_q = z_mean[0] + np.exp(0.5 * z_log_var[0]) * rng.standard_normal((N_MC, 3))
log_ratio = stats.norm.logpdf(z_q, z_mean[0], np.exp(0.5 * z_log_var[0])).sum(1) - stats.norm.logpdf(z_q).sum(1)
kl_mc, kl_se = log_ratio.mean(), log_ratio.std() / math.sqrt(N_MC)
print(f"Monte Carlo ({N_MC} samples): {kl_mc:.4f} +- {kl_se:.4f} nats;  closed form: "
      f"{kl_to_standard_normal(z_mean[0], z_log_var[0]):.4f} nats")

# %% [markdown]
# The Monte Carlo number changes with the sample size; the check: within five
# standard errors. Then the package's version, which must agree with ours.

# %%
assert abs(kl_mc - kl_to_standard_normal(z_mean[0], z_log_var[0])) < 5 * kl_se
assert np.allclose(kl_diag_gaussian_standard(z_mean, z_log_var), kl_to_standard_normal(z_mean, z_log_var))
assert np.allclose(kl_diag_gaussians(z_mean, z_log_var, np.zeros(3), np.zeros(3)), kl_to_standard_normal(z_mean, z_log_var))
print("kl_diag_gaussian_standard and kl_diag_gaussians agree with the inline formula")

# %% [markdown]
# **Erratum 4.** The article's text says (§3.2, step 1) "编码器的输出层应该是一个均值和方差的二元组",
# "the encoder's output layer should be a pair of a mean and a variance".
# Its own code disagrees: the second output is a log-variance,
# `z_log_var = layers.Dense(64)(x)`, used as
# `z = z_mean + tf.exp(z_log_var / 2) * epsilon`. The code is right. A dense
# layer's output can be any real number, and a negative variance breaks
# everything downstream. The encoder outputs a **log-variance**; the variance
# $\exp(\text{log-variance})$ is positive for every output.

# %%
raw_output = np.array([[0.8, -0.3]])  # what a dense layer might produce for one image
center = np.zeros((1, 2))
with np.errstate(invalid="ignore"):
    as_variance_kl = 0.5 * np.sum(raw_output + center**2 - 1.0 - np.log(raw_output), axis=-1)
    as_variance_z = center + np.sqrt(raw_output) * np.array([[0.1, 0.1]])
print("read as a variance:     KL =", as_variance_kl, "  sample z =", as_variance_z)
print("read as a log-variance: KL =", kl_diag_gaussian_standard(center, raw_output).round(4),
      "  sample z =", (center + np.exp(0.5 * raw_output) * np.array([[0.1, 0.1]])).round(4))

# %% [markdown]
# What to notice: one negative output turns the KL and the sample into NaN,
# and a NaN loss stops training. With a log-variance, no output can make the
# variance negative: the KL and the sample stay finite.

# %%
assert np.isnan(as_variance_kl).all() and np.isnan(as_variance_z[0, 1])  # the negative output
assert np.isfinite(kl_diag_gaussian_standard(center, raw_output)).all()
assert np.isfinite(center + np.exp(0.5 * raw_output) * np.array([[0.1, 0.1]])).all()

# %% [markdown]
# ## 8. Decoder likelihoods for images
#
# ### Bernoulli decoder = binary cross-entropy on logits
#
# For binary pixels, $x_d \in \{0, 1\}$, the decoder outputs one logit $\ell_d$ per pixel and
# $p(x_d = 1 \mid z) = \operatorname{sigmoid}(\ell_d)$. Pixels are independent
# given $z$, so the log-likelihood of an image is a **sum** over its $D$ pixels:
#
# $$\log p(x \mid z) = \sum_{d=1}^{D} \Big[x_d \log \operatorname{sigmoid}(\ell_d) + (1 - x_d) \log\big(1 - \operatorname{sigmoid}(\ell_d)\big)\Big]
# = \sum_{d=1}^{D} \big[x_d\, \ell_d - \operatorname{softplus}(\ell_d)\big].$$
#
# The second form never takes the log of 0. Both in NumPy, on four random
# $8 \times 8$ binary "images", with logits as large as a confident decoder makes them:

# %%
rng = np.random.default_rng(SEED)
images = (rng.random((4, 8, 8, 1)) < 0.3).astype(np.float64)
logits = 40.0 * rng.standard_normal(images.shape)
with np.errstate(divide="ignore", invalid="ignore"):
    p = 1.0 / (1.0 + np.exp(-logits))
    naive = (images * np.log(p) + (1 - images) * np.log(1 - p)).reshape(4, -1).sum(axis=1)
stable = (images * logits - np.logaddexp(0.0, logits)).reshape(4, -1).sum(axis=1)
print("naive formula: ", naive.round(3), "nats per image")
print("stable formula:", stable.round(3), "nats per image")

# %% [markdown]
# What to notice: the naive form gives $-\infty$ or NaN as soon as a sigmoid
# rounds to exactly 0 or 1. Now the package's `bernoulli_log_likelihood`,
# SciPy's Bernoulli distribution (with moderate logits, where the naive
# probabilities are fine), and Keras's `binary_crossentropy(from_logits=True)`
# times the number of pixels: Keras *averages* over the last axis, here the
# 64 pixels of each flattened image, so its loss must be multiplied by $D$ to
# be $-\log p(x \mid z)$ in nats per image.

# %%
import keras

from vaeface_utils.elbo import bernoulli_log_likelihood

moderate = logits / 20.0
n_pixels = 8 * 8
ours = bernoulli_log_likelihood(images, moderate)
scipy_value = stats.bernoulli.logpmf(images, 1.0 / (1.0 + np.exp(-moderate))).reshape(4, -1).sum(axis=1)
keras_bce = np.asarray(keras.losses.binary_crossentropy(
    images.reshape(4, -1).astype("float32"), moderate.reshape(4, -1).astype("float32"), from_logits=True))
print("package:               ", ours.round(3), "nats per image")
print("SciPy Bernoulli:       ", scipy_value.round(3))
print("-Keras BCE x D pixels: ", (-n_pixels * keras_bce).round(3))
print("Keras BCE (a mean):    ", keras_bce.round(4), "nats per pixel")
assert np.allclose(bernoulli_log_likelihood(images, logits), stable)
assert np.allclose(ours, scipy_value, rtol=1e-10) and np.allclose(ours, -n_pixels * keras_bce, rtol=1e-5)

# %% [markdown]
# ### On grey values the Bernoulli expression is not a likelihood
#
# The sum above is a log-probability when every $x_d$ is 0 or 1. Faces are
# grey values in $[0, 1]$. Keras's cross-entropy accepts them, and the same
# expression is still what it computes, but it is no longer the log of a
# normalised density: for one pixel with $\lambda = \operatorname{sigmoid}(\ell)$,
# $\int_0^1 \lambda^x (1 - \lambda)^{1 - x}\, dx \ne 1$. Normalising it gives
# the **continuous Bernoulli** distribution (Loaiza-Ganem and Cunningham,
# "The continuous Bernoulli: fixing a pervasive error in variational
# autoencoders", NeurIPS 2019):
#
# $$p(x \mid \lambda) = C(\lambda)\, \lambda^x (1 - \lambda)^{1 - x}, \quad x \in [0, 1], \qquad
# C(\lambda) = \frac{2 \operatorname{atanh}(1 - 2\lambda)}{1 - 2\lambda}\ \ (\lambda \ne \tfrac12), \qquad C(\tfrac12) = 2.$$
#
# With $1 - 2\lambda = -\tanh(\ell / 2)$ this is $C = \ell / \tanh(\ell / 2)$ in
# terms of the logit, which stays finite for large logits. So on grey values
# the Bernoulli expression is the log-density minus $\sum_d \log C(\lambda_d)$:
# off by an amount that depends on the decoder's outputs, so it changes the
# gradients as well as the value. $\log C(\lambda)$ for a few $\lambda$, from
# both forms and from the integral itself:

# %%
from scipy import integrate


def log_cb_normaliser(logits):
    """log C of the continuous Bernoulli with lambda = sigmoid(logits): log(l / tanh(l / 2)), log 2 at l = 0."""
    logits = np.asarray(logits, dtype=np.float64)
    safe = np.where(logits == 0.0, 1.0, logits)
    return np.where(logits == 0.0, math.log(2.0), np.log(safe / np.tanh(safe / 2.0)))


lambdas = np.array([0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
from_lambda = np.array([math.log(2.0) if lam == 0.5 else math.log(2 * math.atanh(1 - 2 * lam) / (1 - 2 * lam))
                        for lam in lambdas])
from_logits = log_cb_normaliser(np.log(lambdas) - np.log1p(-lambdas))
by_quadrature = np.array([-math.log(integrate.quad(lambda v, lam=lam: lam**v * (1 - lam) ** (1 - v), 0.0, 1.0)[0])
                          for lam in lambdas])
print(f"{'lambda':>8}{'log C(lambda)':>15}{'from the logit':>16}{'-log of the integral':>22}  (nats per pixel)")
for row in zip(lambdas, from_lambda, from_logits, by_quadrature):
    print(f"{row[0]:>8.2f}{row[1]:>15.6f}{row[2]:>16.6f}{row[3]:>22.6f}")
missing = log_cb_normaliser(moderate).reshape(4, -1).sum(axis=1)
print(f"sum of log C over the {n_pixels} pixels of the four images above:", missing.round(3), "nats per image")

# %% [markdown]
# What to notice: $\log C$ is never zero (its smallest value is
# $\log 2$, at $\lambda = \frac12$) and it changes with $\lambda$, so the
# missing term differs from image to image. A loss built on the Bernoulli
# expression can be trained on grey values, but its value is not a negative
# log-likelihood in nats, and it cannot be compared with a density such as a
# Gaussian decoder's (notebook 03 trains a Gaussian decoder for that reason).

# %%
assert np.allclose(from_lambda, by_quadrature, atol=1e-10) and np.allclose(from_logits, by_quadrature, atol=1e-10)
assert from_lambda[lambdas == 0.5][0] == math.log(2.0) and np.all(from_lambda >= math.log(2.0))
assert np.ptp(from_lambda) > 0.5 and np.ptp(missing) > 0.0  # lambda-dependent, not a constant

# %% [markdown]
# ### Gaussian decoder and what MSE leaves out
#
# For grey values a Gaussian decoder $p(x \mid z) = \mathcal N(x;\ \hat x(z),\ \sigma^2 I)$ gives
#
# $$-\log p(x \mid z) = \frac{\lVert x - \hat x \rVert^2}{2\sigma^2} + \frac D2 \log(2\pi\sigma^2)
# = \frac{D}{2\sigma^2}\,\mathrm{MSE} + \frac D2 \log(2\pi\sigma^2).$$
#
# So the mean squared error is a negative log-likelihood only after scaling
# by $D / (2\sigma^2)$ and adding a constant. The constant does not change the
# gradient, but the scale sets the weight of reconstruction against the KL, and
# MSE alone says nothing about $\sigma^2$ (**Pitfall B**). Checked numerically with $\sigma^2 = 0.01$:

# %%
from vaeface_utils.elbo import gaussian_log_likelihood

sigma2 = 0.01
grey = rng.random((4, 8, 8, 1))
reconstruction = np.clip(grey + 0.1 * rng.standard_normal(grey.shape), 0.0, 1.0)
mse = ((grey - reconstruction) ** 2).reshape(4, -1).mean(axis=1)
from_mse = n_pixels * mse / (2 * sigma2) + 0.5 * n_pixels * math.log(2 * math.pi * sigma2)
neg_log_lik = -gaussian_log_likelihood(grey, reconstruction, math.log(sigma2))
by_scipy = -stats.norm.logpdf(grey, reconstruction, math.sqrt(sigma2)).reshape(4, -1).sum(axis=1)
print("MSE per image:                  ", mse.round(5))
print("MSE x D/(2 sigma^2) + constant: ", from_mse.round(4), "nats per image")
print("-gaussian_log_likelihood:       ", neg_log_lik.round(4))
print("-SciPy norm.logpdf, summed:     ", by_scipy.round(4))
assert np.allclose(from_mse, neg_log_lik) and np.allclose(by_scipy, neg_log_lik)

# %% [markdown]
# ### Summed over pixels, not averaged
#
# $\log p(x \mid z)$ and the KL are both in **nats per image**: that is the
# unit in which $\log p(x) = \mathrm{ELBO} + \mathrm{KL}(q \| p(z|x))$ holds.
#
# **Pitfall A.** A loss written as "mean reconstruction error over pixels + KL"
# divides the reconstruction term by $D$ but not the KL. It is what
# `compile(loss='mse')` gives for images of shape `(n, H, W, 1)`: Keras's
# losses average over the last axis only, here the channel axis of size 1,
# and the averaging over pixels comes from the default reduction,
# `sum_over_batch_size`, which then takes the mean over everything else. So
# the loss is the mean over every element of the batch, every pixel of every
# image (checked below). That is **one** rescaling, and with the mean squared
# error it can be read in two ways:
#
# - a KL weight (a "β") of $D$ on a Gaussian decoder with $\sigma^2 = \tfrac12$:
#   $D \cdot (\mathrm{MSE} + \mathrm{KL}) = \lVert x - \hat x \rVert^2 + D \cdot \mathrm{KL}$,
#   and $\lVert x - \hat x \rVert^2$ is $-\log p(x \mid z)$ for $\sigma^2 = \tfrac12$, up to a constant;
# - or the plain ELBO, $\beta = 1$, of a Gaussian decoder with $\sigma^2 = D/2$:
#   $\mathrm{MSE} = \lVert x - \hat x \rVert^2 / (2 \cdot D/2)$.
#
# These are two descriptions of the same objective, not two harms: a positive
# factor and an added constant change neither the minimiser nor the
# direction of the gradient, and in both readings $\beta \sigma^2 = D / 2$, the
# one number that sets the balance between reconstruction and KL. (With the
# mean binary cross-entropy there is no $\sigma^2$ to absorb the factor, and
# the only reading is $\beta = D$.) Notebook 02's Bug 6 finds the same in
# Keras's `mse`. Checked on three made-up $64 \times 64$ images, with made-up
# KL values, first what Keras's `mse` averages over:

# %%
D_faces = 64 * 64
x_faces = rng.random((3, D_faces))
x_hat_faces = np.clip(x_faces + 0.1 * rng.standard_normal(x_faces.shape), 0.0, 1.0)
y, y_hat = (a.reshape(3, 64, 64, 1).astype("float32") for a in (x_faces, x_hat_faces))
per_element = keras.losses.mean_squared_error(y, y_hat)  # the loss function alone
mse_loss = keras.losses.MeanSquaredError()  # what compile(loss='mse') uses
print(f"keras.losses.mean_squared_error on images of shape {y.shape}: output shape "
      f"{tuple(per_element.shape)} (the channel axis averaged away)")
print(f"MeanSquaredError(), reduction {mse_loss.reduction!r}: {float(mse_loss(y, y_hat)):.6f}; "
      f"mean over all {y.size} squared errors: {((y - y_hat) ** 2).mean():.6f}")
assert tuple(per_element.shape) == (3, 64, 64) and mse_loss.reduction == "sum_over_batch_size"
assert np.isclose(float(mse_loss(y, y_hat)), ((y - y_hat) ** 2).mean(), rtol=1e-5)

# %% [markdown]
# Then the two readings of 'mse' + KL:

# %%
kl_faces = np.array([10.0, 25.0, 40.0])  # nats per image, for illustration
mean_loss = ((x_faces - x_hat_faces) ** 2).mean(axis=1) + kl_faces  # 'mse' + KL
beta_d_reading = (-gaussian_log_likelihood(x_faces, x_hat_faces, math.log(0.5)) + D_faces * kl_faces) / D_faces
sigma_reading = -gaussian_log_likelihood(x_faces, x_hat_faces, math.log(D_faces / 2)) + kl_faces
print(f"pixels per face D = {D_faces}")
print("'mse' + KL, per image:                                     ", mean_loss.round(4))
print("'mse' + KL minus reading 1 (beta = D, sigma^2 = 1/2), over D:", (mean_loss - beta_d_reading).round(6))
print("'mse' + KL minus reading 2 (beta = 1, sigma^2 = D/2):        ", (mean_loss - sigma_reading).round(4))
print(f"beta * sigma^2 = D/2 = {D_faces / 2:.0f} in both; reading 2's pixel noise standard deviation: "
      f"{math.sqrt(D_faces / 2):.1f} on a [0, 1] pixel scale")

# %% [markdown]
# What to notice: each difference is the same constant for every image, so
# all three losses have the same minimiser and the same gradients. The one
# harm, read either way: the KL weighs as much against the reconstruction as
# in the ELBO of a decoder whose pixel noise has the standard deviation
# printed above, many times the whole range of a pixel, so encoders are
# pushed towards the prior (posterior collapse). The fix costs nothing: sum
# over pixels, and choose $\sigma^2$ for a Gaussian decoder (or learn it).

# %%
assert np.allclose(mean_loss - beta_d_reading, -0.5 * math.log(math.pi))
assert np.allclose(mean_loss - sigma_reading, -0.5 * D_faces * math.log(math.pi * D_faces))

# %% [markdown]
# ### Bits per dimension
#
# To compare models across image sizes, divide $-\log p(x)$ (or $-$ELBO) by
# the number of dimensions and convert nats to bits:
# $\text{bits/dim} = -\log p(x) / (D \ln 2)$.

# %%
from vaeface_utils.units import bits_per_dim_to_nats, discretization_correction_nats, nats_to_bits_per_dim

neg_elbo_nats = 2000.0  # an example -ELBO for one 64 x 64 face, nats per image
bpd = neg_elbo_nats / (D_faces * math.log(2))
print(f"{neg_elbo_nats:.0f} nats per image = {bpd:.4f} bits per dimension")
assert math.isclose(nats_to_bits_per_dim(neg_elbo_nats, D_faces), bpd)
assert math.isclose(bits_per_dim_to_nats(bpd, D_faces), neg_elbo_nats)

# %% [markdown]
# One caution. Pixels are stored as 8-bit integers, 256 levels, but a
# Gaussian decoder on $[0, 1]$ assigns a *density*, and a density can exceed 1
# (log-density above 0, negative bits/dim). The probability of an 8-bit
# value is the density integrated over its bin of width $1/256$; for a density
# that is smooth on that scale,
# $\log P(\text{8-bit image}) \approx \log p_{[0,1]}(x) - D \log 256$. In bits
# per dimension: **add 8**. Smooth or not, uniform dequantisation gives a
# bound (Theis, van den Oord and Bethge, 2016): for an 8-bit image $x_{\text{int}}$
# and noise $u \sim \mathcal U[0, 1)^D$, $P(x_{\text{int}}) = \mathbb E_u\big[p\big((x_{\text{int}} + u) / 256\big)\big]\, 256^{-D}$,
# so by Jensen
#
# $$\log P(x_{\text{int}}) \ \ge\ \mathbb E_u\Big[\log p\big((x_{\text{int}} + u) / 256\big)\Big] - D \log 256.$$
#
# The check on one pixel: the exact probability of each bin from the Gaussian
# CDF against the density times the bin width, and against the bound.

# %%
levels = np.arange(256)
pixel = stats.norm(0.45, 0.1)  # a decoder's prediction for one pixel, on the [0, 1] scale
log_p_bins = np.log(pixel.cdf((levels + 1) / 256) - pixel.cdf(levels / 256))
log_density = pixel.logpdf((levels + 0.5) / 256)
corrected = log_density - discretization_correction_nats(1)
print(f"largest |log P(bin) - (log density - log 256)| over the 256 levels: {np.abs(log_p_bins - corrected).max():.1e} nats")
print(f"at the mode: log density {log_density.max():.3f} nats (> 0), "
      f"{nats_to_bits_per_dim(-log_density.max(), 1):.3f} bits on [0, 1]; "
      f"{nats_to_bits_per_dim(-log_p_bins.max(), 1):.3f} bits as an 8-bit value")
u_nodes = (np.arange(1000) + 0.5) / 1000  # midpoints: E_u[...] over each bin by quadrature
dequantised = pixel.logpdf((levels[:, None] + u_nodes) / 256).mean(axis=1) - discretization_correction_nats(1)
print(f"dequantisation bound: below log P(bin) at every level, by at most "
      f"{(log_p_bins - dequantised).max():.1e} nats")

# %% [markdown]
# What to notice: after the correction the two agree to the largest
# difference printed above, a few thousandths of a nat; the dequantisation
# bound is below the exact value at every level; the density on $[0, 1]$ has
# a *negative* cost in bits, the 8-bit probability a positive one about 8
# bits larger.

# %%
assert np.abs(log_p_bins - corrected).max() < 5e-3
assert np.all(dequantised <= log_p_bins)
assert nats_to_bits_per_dim(-log_density.max(), 1) < 0 < nats_to_bits_per_dim(-log_p_bins.max(), 1)
assert abs(nats_to_bits_per_dim(-log_p_bins.max(), 1) - nats_to_bits_per_dim(-log_density.max(), 1) - 8) < 0.01

# %% [markdown]
# ## 9. The importance-weighted bound $\mathcal L_K$
#
# Jensen's step in section 2 lost the gap because it moved the log inside
# a one-sample average. Average $K$ importance weights first:
#
# $$\mathcal L_K = \mathbb E_{z_1..z_K \sim q}\left[\log \frac1K \sum_{k=1}^K w_k\right], \qquad
# w_k = \frac{p(x, z_k)}{q(z_k \mid x)}.$$
#
# $\mathcal L_1$ is the ELBO, $\mathcal L_K \le \mathcal L_{K+1}$, and
# $\mathcal L_K \to \log p(x)$ as $K \to \infty$ if the weights
# $p(x, z) / q(z \mid x)$ are bounded (Burda, Grosse and Salakhutdinov,
# "Importance Weighted Autoencoders", ICLR 2016). In code the weights must
# stay in log space: $\log \frac1K \sum_k e^{\log w_k}$ is
# `logsumexp(log_w) - log K`. A log-weight of an image is a sum over
# thousands of pixels, so it can be thousands of nats in size, of either sign
# (a Gaussian decoder's density can exceed 1, section 8). `np.exp` overflows
# to infinity above about $709.8$ and underflows to 0 below about $-745$ (the
# limits of 64-bit floats, printed below):

# %%
tiny = np.finfo(np.float64).smallest_subnormal
exp_max = math.log(np.finfo(np.float64).max)  # above this, exp overflows to inf
exp_min = math.log(tiny) - math.log(2.0)  # below this, exp rounds to 0 (half the smallest float)
with np.errstate(over="ignore"):
    assert np.isinf(np.exp(exp_max + 0.01)) and np.isfinite(np.exp(exp_max - 0.01))
assert np.exp(exp_min - 0.01) == 0.0 < np.exp(exp_min + 0.01)
print(f"np.exp(x) overflows to inf for x above {exp_max:.1f} and underflows to 0 for x below {exp_min:.1f}")
log_w_examples = np.array([[-1002.3, -1000.1, -1005.0, -1000.9], [1002.3, 1000.1, 1005.0, 1000.9]])
stable_bounds = []
for log_w in log_w_examples:
    with np.errstate(divide="ignore", over="ignore"):
        naive_bound = np.log(np.mean(np.exp(log_w)))
    stable_bounds.append(logsumexp(log_w) - math.log(len(log_w)))
    print(f"log_w = {log_w}:  naive log(mean(exp(log_w))) = {naive_bound};  "
          f"logsumexp(log_w) - log K = {stable_bounds[-1]:.6f}")
    assert not np.isfinite(naive_bound) and np.isfinite(stable_bounds[-1])

# %% [markdown]
# The package's `iwae_bound` takes log-weights of shape `(n_importance, n)`
# and agrees:

# %%
from vaeface_utils.elbo import iwae_bound, log_normal_diag
from vaeface_utils.ppca import ppca_log_joint

assert np.allclose(iwae_bound(log_w_examples.T), stable_bounds)  # one column per example
print("iwae_bound agrees with the inline formula")

# %% [markdown]
# Now $\mathcal L_K$ on the toy model, with the proposal that ignores $x$,
# $q = p(z)$, the prior (so $\mathcal L_1$ is the article's formula, short of
# $\log p(x)$ by the amount printed below). Each $\mathcal L_K$ is averaged
# over independent draws.
#
# For large $K$ the gap $\log p(x) - \mathcal L_K$ becomes smaller than the
# Monte Carlo error of $\mathcal L_K$ itself, so to see it on a log scale we
# estimate it a second way. Let $r = \frac1K \sum_k w_k / p(x)$. Importance
# sampling is unbiased, $\mathbb E[r] = 1$, so
#
# $$\log p(x) - \mathcal L_K = \mathbb E[-\log r] = \mathbb E[r - 1 - \log r],$$
#
# and every term $r - 1 - \log r$ is $\ge 0$ (this needs the exact $p(x)$,
# which the toy model has and a real VAE does not). Expanding the log to
# second order, $-\log r \approx -(r - 1) + (r - 1)^2 / 2$, gives the rate for
# large $K$:
#
# $$\log p(x) - \mathcal L_K \approx \frac{\operatorname{Var}_q[w / p(x)]}{2K}, \qquad
# \operatorname{Var}_q[w / p(x)] = \frac{\int p(z)\, p(x \mid z)^2\, dz}{p(x)^2} - 1 \quad\text{for } q = p(z),$$
#
# with the integral computed on the grid of section 1.

# %%
print(f"q = p(z): L_1 = ELBO = {elbo_prior_q:.4f} nats, {log_px - elbo_prior_q:.4f} nats below "
      f"log p(x) = {log_px:.4f} nats")

# %% tags=["nbval-ignore-output"]
var_w = math.exp(logsumexp(log_prior + 2 * log_decoder(x, z_grid)) + math.log(dz) - 2 * log_px) - 1.0
rng = np.random.default_rng(SEED)
iwae_means, iwae_ses, gap_means, gap_ses = [], [], [], []
for k in IWAE_KS:
    z_k = rng.standard_normal((k, N_IWAE_REPEATS, 1))  # K samples from q = prior, per repeat
    log_weights = ppca_log_joint(np.repeat(x, N_IWAE_REPEATS, axis=0), z_k, params) - log_normal_diag(z_k, 0.0, 0.0)
    estimates = iwae_bound(log_weights)
    iwae_means.append(estimates.mean())
    iwae_ses.append(estimates.std() / math.sqrt(N_IWAE_REPEATS))
    log_r = estimates - log_px
    gap_terms = np.expm1(log_r) - log_r  # r - 1 - log r, each >= 0
    gap_means.append(gap_terms.mean())
    gap_ses.append(gap_terms.std() / math.sqrt(N_IWAE_REPEATS))
iwae_means, iwae_ses, gap_means, gap_ses = map(np.array, (iwae_means, iwae_ses, gap_means, gap_ses))
gap_rate = var_w / (2 * np.array(IWAE_KS))
print(f"Var_q[w / p(x)] = {var_w:.4f} (quadrature); all values in nats, mean +- standard error")
print(f"{'K':>5}{'L_K':>18}{'log p(x) - L_K':>20}{'mean of r - 1 - log r':>26}{'Var / (2K)':>12}")
for k, m, se, g, g_se, rate in zip(IWAE_KS, iwae_means, iwae_ses, gap_means, gap_ses, gap_rate):
    print(f"{k:>5}{m:>10.4f} +- {se:.4f}{log_px - m:>12.4f} +- {se:.4f}{g:>16.6f} +- {g_se:.6f}{rate:>12.6f}")

fig, (ax, ax_gap) = plt.subplots(1, 2, figsize=(13, 4.2))
ax.errorbar(IWAE_KS, iwae_means, yerr=2 * iwae_ses, fmt="o-", capsize=3, label="L_K, mean ± 2 s.e.")
ax.axhline(log_px, color="k", ls="--", label="log p(x), exact")
ax.axhline(elbo_prior_q, color="tab:red", ls=":", label="ELBO with q = prior (= L_1)")
ax.set_xscale("log")
ax.set(xlabel="number of importance samples K", ylabel="bound on log p(x) (nats per example)",
       title=f"Toy model, one observation, q = prior: L_K climbs to log p(x)\n({N_IWAE_REPEATS} draws per K)")
ax.legend(fontsize=8)
ax_gap.errorbar(IWAE_KS, gap_means, yerr=2 * gap_ses, fmt="o-", capsize=3,
                label="log p(x) - L_K: mean of r - 1 - log r, ± 2 s.e.")
ax_gap.plot(IWAE_KS, gap_rate, "k--", label="Var_q[w / p(x)] / (2K), the large-K rate")
ax_gap.set_xscale("log")
ax_gap.set_yscale("log")
ax_gap.set(xlabel="number of importance samples K", ylabel="gap log p(x) - L_K (nats per example, log scale)",
           title=f"The same runs: the gap on a log scale falls like 1/K\n({N_IWAE_REPEATS} draws per K)")
ax_gap.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# What to notice: $\mathcal L_1$ is the ELBO; each larger $K$ gives a higher
# bound, and none is above $\log p(x)$ by more than its Monte Carlo error.
# For large $K$ the gap is smaller than that error, so an estimate of
# $\mathcal L_K$ may land a hair above $\log p(x)$ (a negative entry in the
# "log p(x) - L_K" column); its expectation cannot. The right panel shows the
# gap itself, from the non-negative terms $r - 1 - \log r$: for large $K$ it
# follows the straight line $\operatorname{Var}_q[w / p(x)] / (2K)$ of slope
# $-1$, so multiplying $K$ by ten divides the gap by ten. The checks:

# %%
assert abs(iwae_means[0] - elbo_prior_q) < 5 * iwae_ses[0]
assert np.all(np.diff(iwae_means) > -3 * np.sqrt(iwae_ses[1:] ** 2 + iwae_ses[:-1] ** 2))
assert np.all(iwae_means < log_px + 5 * iwae_ses)
assert log_px - iwae_means[IWAE_KS.index(1000)] < 0.01 * (log_px - iwae_means[0])
assert np.all(np.abs(gap_means - (log_px - iwae_means)) < 5 * np.sqrt(iwae_ses**2 + gap_ses**2))  # same gap
assert np.all(gap_means > 0) and np.all(np.diff(gap_means) < 0)
large_k = np.array(IWAE_KS) >= 100
assert np.all(np.abs(gap_means[large_k] / gap_rate[large_k] - 1) < 0.25)  # the 1/K rate

# %% [markdown]
# And with the exact posterior as $q$, every weight equals $p(x)$: $\mathcal L_K = \log p(x)$
# for every $K$, even from a single draw.

# %%
z_post = post_mean + math.sqrt(post_var) * rng.standard_normal((5, 1, 1))
log_w_post = ppca_log_joint(x, z_post, params) - log_normal_diag(z_post, post_mean, math.log(post_var))
print(f"L_5 with q = true posterior, one draw: {iwae_bound(log_w_post)[0]:.10f};  log p(x): {log_px:.10f}")
assert np.allclose(log_w_post, log_px, atol=1e-10)  # every weight is p(x)

# %% [markdown]
# ## 10. Errata for "VAE for face recognition"
#
# The six statements below are the article's (§3.1 and §3.2 of its text);
# each has a cell above that computes the difference.
#
# | # | the article says | correct | shown in |
# |---|---|---|---|
# | 1 | "VAE的目标是最大化下列概率模型的对数概率：" ("the goal of a VAE is to maximise the log-probability of the following probabilistic model:") $\log p(x) = \int p(z) \log p(x\vert z) dz$ | $\log p(x) = \log \int p(z)\, p(x \mid z)\, dz$; the inside form is a Jensen lower bound (the ELBO with $q = p(z)$), short of $\log p(x)$ by the amount §2 prints | §2, the "Erratum 1" cell |
# | 2 | "其中，$x$是输入数据，$z$是随机变量，$p(x\vert z)$是解码器，$p(z)$是编码器。" ("where $x$ is the input data, $z$ is a random variable, $p(x\vert z)$ is the decoder and $p(z)$ is the encoder") | $p(z)$ is the **prior**, fixed and independent of $x$; the encoder is $q_\phi(z \mid x)$, an approximation of the true posterior $p_\theta(z \mid x)$ | §1, the table and the figure |
# | 3 | "训练：通过最小化下列目标函数来训练编码器和解码器：" ("training: train the encoder and the decoder by minimising the following objective function:"), $\min_\theta \mathbb{E}_{z \sim q_\theta(z\vert x)} [\log p_\theta(x\vert z) - KL(q_\theta(z\vert x) \vert\vert p(z))]$ | its one $\theta$ covers both networks, so the minimum is over both; the errors are the **sign** ($\max_{\theta, \phi} \mathrm{ELBO}$, loss $= -\mathrm{ELBO}$; minimising diverges to $-\infty$) and **one symbol for two networks**: the encoder's $\phi$ only tightens the bound, the decoder's $\theta$ changes the model, and a step over $\theta$ can even lower $\log p_\theta(x)$ | §5, the maximise/minimise table and the step over $\theta$ alone |
# | 4 | "编码器的输出层应该是一个均值和方差的二元组" ("the encoder's output layer should be a pair of a mean and a variance") | a mean and a **log-variance**, as the article's own code has it (`z_log_var = layers.Dense(64)(x)`); a negative "variance" makes the KL and $z$ NaN | §7, the "Erratum 4" cell |
# | 5 | "解码器的输入层应该是与原始输入数据$x$相同的形状" ("the decoder's input layer should have the same shape as the original input data $x$") | the decoder's **output** has the shape of $x$; its input is a code $z$, with the latent space's shape | §1, the "Erratum 5" cell |
# | 6 | of the KL term $\mathrm{KL}(q_\theta(z \mid x) \,\|\, p(z))$: "是KL散度，用于衡量编码器与真实分布之间的差距" ("is the KL divergence, used to measure the gap between the encoder and the true distribution") | it is the distance from $q(z \mid x)$ to the **prior**; the gap to the true posterior is $\mathrm{KL}(q \,\|\, p(z \mid x)) = \log p(x) - \mathrm{ELBO}$, which the exact posterior closes although its KL to the prior is not zero | §4, the "Erratum 6" cell |
#
# Four pitfalls that often come with them; watch for them when notebook 02
# runs the article's code:
#
# | | pitfall | correct | shown in |
# |---|---|---|---|
# | A | reconstruction loss averaged over pixels, KL added | **summed** over pixels, in nats per image; averaging is one rescaling, which reads as a KL weight $\beta = D$ with $\sigma^2 = \frac12$ or, equally, as $\beta = 1$ with $\sigma^2 = D/2$: two readings of one harm | §8, "Summed over pixels" |
# | B | "MSE is the reconstruction term" | MSE is $-\log p(x \mid z)$ only after the factor $D / (2\sigma^2)$ and a constant; $\sigma^2$ must be chosen or learned | §8, the Gaussian decoder cell |
# | C | the ELBO read as the log-likelihood | $\mathrm{ELBO} = \log p(x) - \mathrm{KL}(q \,\|\, p(z \mid x)) \le \log p(x)$, equal only for the true posterior; $\mathcal L_K$ tightens it | §3 and §9 |
# | D | binary cross-entropy on grey values read as $-\log p(x \mid z)$ in nats | a likelihood only for binary pixels; on grey values it lacks $\sum_d \log C(\lambda_d)$, the continuous Bernoulli's normaliser, which depends on the decoder's outputs | §8, "On grey values" |

# %% [markdown]
# ## What we did
#
# - Named the parts of a latent-variable model and computed each one exactly
#   on a linear-Gaussian model: $\log p(x)$ by quadrature, SciPy and closed form.
# - Derived the ELBO twice: by Jensen (a bound) and by the identity
#   $\log p(x) = \mathrm{ELBO}(q) + \mathrm{KL}(q \| p(z \mid x))$ (how loose it
#   is), and checked the identity to $10^{-10}$.
# - Read it as reconstruction minus KL and as $\mathbb E_q[\log p(x,z) - \log q]$;
#   trained it with the right sign over $\theta$ and $\phi$ to the
#   maximum-likelihood solution, and watched the wrong sign diverge.
# - Saw that a step over $\theta$ alone can raise the ELBO while lowering
#   $\log p_\theta(x)$, by bending the model's posterior towards $q$.
# - Measured the reparameterisation gradient's variance against REINFORCE's,
#   with and without a baseline.
# - Wrote the closed-form KL, the Bernoulli (= BCE on logits, summed; a
#   likelihood for binary pixels only, and on grey values short of the
#   continuous Bernoulli's normaliser) and Gaussian (= scaled MSE plus a
#   constant) likelihoods, and bits per dimension.
# - Closed the gap with $\mathcal L_K$, watched it fall like $1/K$, and listed
#   the article's errors with the cells that demonstrate them.
#
# Next, `02`: the article's Keras code, fixed into a VAE whose loss is the
# negative ELBO of this notebook, summed over pixels (its default Bernoulli
# decoder on grey faces is Pitfall D).

# %% [markdown]
# ## References
#
# - Kingma, D. P. and Welling, M. Auto-Encoding Variational Bayes. ICLR 2014.
#   The VAE, the ELBO as its objective, the reparameterisation trick.
# - Rezende, D. J., Mohamed, S. and Wierstra, D. Stochastic Backpropagation and
#   Approximate Inference in Deep Generative Models. ICML 2014. The same model
#   and trick, found independently.
# - Williams, R. J. Simple statistical gradient-following algorithms for
#   connectionist reinforcement learning. Machine Learning 8, 1992. The
#   score-function (REINFORCE) estimator of section 6.
# - Burda, Y., Grosse, R. and Salakhutdinov, R. Importance Weighted
#   Autoencoders. ICLR 2016. The bound $\mathcal L_K$ of section 9.
# - Loaiza-Ganem, G. and Cunningham, J. P. The continuous Bernoulli: fixing a
#   pervasive error in variational autoencoders. NeurIPS 2019. Section 8,
#   "On grey values".
# - Theis, L., van den Oord, A. and Bethge, M. A note on the evaluation of
#   generative models. ICLR 2016. Densities of discrete data, dequantisation,
#   bits per dimension (section 8).
# - Tipping, M. E. and Bishop, C. M. Probabilistic principal component
#   analysis. Journal of the Royal Statistical Society, Series B 61(3), 1999.
#   The linear-Gaussian model used throughout.
# - Higgins, I., Matthey, L., Pal, A., Burgess, C., Glorot, X., Botvinick, M.,
#   Mohamed, S. and Lerchner, A. β-VAE: learning basic visual concepts with a
#   constrained variational framework. ICLR 2017. A weight β on the KL term
#   (Pitfall A).

# %% [markdown]
# ## Exercises
#
# Replace each `None` with your answer, run the cell, then run the check
# below it. A check says "Correct", "Not done yet", or what to reconsider; it
# never shows the answer.
#
# **Exercise 1: KL to a Gaussian prior that is not $\mathcal N(0, I)$.** Some
# models learn their prior. Compute $\mathrm{KL}(q \,\|\, p)$ for two
# examples, with $q = \mathcal N(\text{mean\_q}, \operatorname{diag} e^{\text{log\_var\_q}})$
# and $p = \mathcal N(\text{mean\_p}, \operatorname{diag} e^{\text{log\_var\_p}})$, in
# NumPy (one number per example, in nats). Derive it the way section 7 does.

# %%
from vaeface_utils.checks import elbo as check

mean_q = np.array([[0.5, -1.0], [0.0, 2.0]])
log_var_q = np.array([[-0.5, 0.2], [0.0, -1.0]])
mean_p = np.array([1.0, -0.5])
log_var_p = np.array([0.7, -0.3])

# Exercise 1: KL(q || p), shape (2,)
answer = None  # replace None with your answer
# solution
answer = 0.5 * np.sum(log_var_p - log_var_q + (np.exp(log_var_q) + (mean_q - mean_p) ** 2) / np.exp(log_var_p) - 1.0, axis=-1)

# %%
check.kl_to_gaussian_prior(answer, mean_q, log_var_q, mean_p, log_var_p)

# %% [markdown]
# **Exercise 2: the IWAE bound for given log-weights.** Five importance
# samples of one image gave these log-weights (nats). Compute the estimate of
# $\mathcal L_5$; mind the underflow.

# %%
log_w_exercise = np.array([-1402.3, -1400.1, -1405.0, -1400.9, -1401.4])

# Exercise 2: L_K from the log-weights, one float
answer = None  # replace None with your answer
# solution
answer = logsumexp(log_w_exercise) - np.log(len(log_w_exercise))

# %%
check.iwae_bound(answer, log_w_exercise)

# %% [markdown]
# **Exercise 3: bits per dimension from nats.** A VAE's negative ELBO on a
# $64 \times 64$ grey face is 5321.7 nats. What is it in bits per dimension?

# %%
neg_elbo_exercise, n_dims_exercise = 5321.7, 64 * 64

# Exercise 3: bits per dimension, one float
answer = None  # replace None with your answer
# solution
answer = neg_elbo_exercise / (n_dims_exercise * np.log(2))

# %%
check.bits_per_dim(answer, neg_elbo_exercise, n_dims_exercise)

# %% [markdown]
# **Exercise 4: a Gaussian log-likelihood from the MSE.** A decoder with
# pixel noise variance $\sigma^2 = 0.01$ reconstructs two $64 \times 64$ faces
# with these mean squared errors (mean over pixels). Compute
# $\log p(x \mid z)$ for each face, in nats per image.

# %%
mse_exercise = np.array([0.004, 0.011])
sigma2_exercise = 0.01

# Exercise 4: log p(x | z), shape (2,)
answer = None  # replace None with your answer
# solution
answer = -n_dims_exercise * mse_exercise / (2 * sigma2_exercise) - 0.5 * n_dims_exercise * np.log(2 * np.pi * sigma2_exercise)

# %%
check.gaussian_log_likelihood_from_mse(answer, mse_exercise, n_dims_exercise, sigma2_exercise)

# %% [markdown]
# **Exercise 5: on paper, then one number.** Take one latent dimension,
# $q = \mathcal N(\mu, v)$ and $p = \mathcal N(0, 1)$. Write
# $\mathrm{KL}(q \,\|\, p)$ as a function of the variance $v$ at a fixed
# mean $\mu$, differentiate with respect to $v$ and find the $v$ that
# minimises it; then the smallest KL for $\mu = 0.5$. (It tells you what the
# KL term alone asks of every posterior, and why it is never negative.)
# Enter the pair `(v, smallest KL)`.

# %%
answer = None  # replace None with your answer: (v, smallest KL)
# solution
answer = (1.0, 0.5**2 / 2)

# %%
check.kl_minimum(answer, mean=0.5)

