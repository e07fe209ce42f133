"""Self-checks for the exercises of ``03_training_on_faces``.

Each check takes the student's ``answer`` (and the exercise's data), computes
the right value itself, and returns a :class:`~vaeface_utils.checks.CheckResult`:
"Correct", "Not done yet" for the placeholder ``None``, or what is wrong with
a hint. Common mistakes get their own hint; no message contains the answer.

Examples
--------
>>> from vaeface_utils.checks import training as check
>>> check.beta_effect(None)
Exercise 1 (a larger beta): Not done yet. Replace the placeholder with your answer and run the cell again.
"""

from __future__ import annotations

import math

import numpy as np

from .. import ppca as _ppca
from .. import units as _units
from ..latent_diagnostics import ACTIVE_THRESHOLD
from ._core import CheckResult, as_number, check_close, is_placeholder

__all__ = ["beta_effect", "bits_per_dim", "active_units", "active_units_same", "ppca_noise_variance",
           "fixed_variance_decoder", "ACTIVE_THRESHOLD"]

_CHOICES = ("lower", "higher", "same")


def beta_effect(answer):
    """Exercise 1: predict how a larger ``beta`` changes the KL and the reconstruction loss.

    Parameters
    ----------
    answer : dict or None
        ``{"kl": ..., "reconstruction_loss": ...}``, each one of ``"lower"``,
        ``"higher"`` or ``"same"``, for a model trained with ``beta = 4``
        compared with ``beta = 1`` (same data, seed and epochs).
    """
    name = "Exercise 1 (a larger beta)"
    if is_placeholder(answer):
        return CheckResult(name, "not done", "Replace the placeholder with your answer and run the cell again.")
    if not isinstance(answer, dict) or set(answer) != {"kl", "reconstruction_loss"}:
        return CheckResult(name, "wrong", 'Give a dict with the two keys "kl" and "reconstruction_loss".')
    bad = [key for key, value in answer.items() if value not in _CHOICES]
    if bad:
        return CheckResult(name, "wrong", f"Each value must be one of {_CHOICES}; look at {bad}.")
    kl_right = answer["kl"] == "lower"
    reconstruction_right = answer["reconstruction_loss"] == "higher"
    if kl_right and reconstruction_right:
        return CheckResult(name, "correct")
    if not kl_right and not reconstruction_right:
        return CheckResult(name, "wrong", "Both predictions need another look. The loss is reconstruction_loss "
                                          "+ beta * kl: which term does a larger beta make more expensive?")
    if not kl_right:
        return CheckResult(name, "wrong", "The reconstruction prediction is right; reconsider the KL. A larger "
                                          "beta makes each nat of KL cost more in the loss.")
    return CheckResult(name, "wrong", "The KL prediction is right; reconsider the reconstruction. Codes that "
                                      "carry less information about the image (less KL) cannot describe it as well.")


def bits_per_dim(answer, log_px_nats, n_dims):
    """Exercise 2: bits per dimension of ``-log p(x)``, from a log density in nats per image.

    Parameters
    ----------
    answer : float or None
    log_px_nats : float
        A log-likelihood (or a bound on one) in nats per image; for a density
        over grey values in [0, 1] it may be positive.
    n_dims : int
        Pixels per image.
    """
    name = "Exercise 2 (bits per dimension)"
    expected = float(_units.nats_to_bits_per_dim(-float(log_px_nats), int(n_dims)))
    mistakes = [
        (-expected, "The sign is flipped: bits per dimension measure the cost -log p(x). A density above 1 "
                    "(a positive log p) gives a negative cost, and that is allowed for a density."),
        (-log_px_nats / n_dims, "That is nats per dimension. A bit is ln 2 nats: convert the unit as well."),
        (-log_px_nats / math.log(2.0), "That is bits per image. Bits per *dimension* share them among the pixels."),
        (-log_px_nats * math.log(2.0) / n_dims, "The conversion goes the other way: 1 bit = ln 2 nats, so an "
                                                 "amount has more bits than nats."),
        (-log_px_nats / (n_dims * math.log(10.0)), "That used log base 10. Bits are base 2."),
    ]
    for wrong, hint in mistakes:
        if not is_placeholder(answer) and _answer_is(answer, wrong) and not _answer_is(answer, expected):
            return CheckResult(name, "wrong", hint)
    return check_close(name, answer, expected, rtol=1e-4, atol=1e-6,
                       hint="Negate the log-likelihood, share it among the dimensions, convert nats to bits.")


def active_units(answer, z_mean, threshold=ACTIVE_THRESHOLD):
    """Exercise 3: the number of active latent dimensions.

    A dimension ``j`` is active when ``Var_x(E_q[z_j | x]) > threshold``: the
    variance, across images, of the posterior mean ``z_mean[:, j]``.

    Parameters
    ----------
    answer : int or None
    z_mean : array_like, shape (n, latent_dim)
        Posterior means of ``n`` images.
    threshold : float, default ACTIVE_THRESHOLD (0.01, from :mod:`vaeface_utils.latent_diagnostics`)
    """
    name = "Exercise 3 (active units)"
    z_mean = np.asarray(z_mean, dtype=np.float64)
    expected = int(np.sum(z_mean.var(axis=0) > threshold))
    if is_placeholder(answer):
        return CheckResult(name, "not done", "Replace the placeholder with your answer and run the cell again.")
    try:
        got = float(np.asarray(answer, dtype=np.float64))
    except (TypeError, ValueError):
        return CheckResult(name, "wrong", f"Give one number, a count of dimensions; got {type(answer).__name__}.")
    if got == expected:
        return CheckResult(name, "correct")
    if got == int(np.sum(z_mean.var(axis=1) > threshold)):
        return CheckResult(name, "wrong", "That took the variance along the wrong axis (over the dimensions of "
                                          "each image). Take it across images, one value per dimension.")
    if got == int(np.sum(z_mean.std(axis=0) > threshold)):
        return CheckResult(name, "wrong", "That compared the standard deviation with the threshold; the "
                                          "criterion is on the variance.")
    if got > z_mean.shape[1]:
        return CheckResult(name, "wrong", f"There are only {z_mean.shape[1]} latent dimensions to count.")
    return CheckResult(name, "wrong", "Compute the variance of each column of z_mean across images, then count "
                                      "the columns above the threshold.")


def ppca_noise_variance(answer, x_train, x_val, latent_dim, sigma2s):
    """Exercise 4: the noise variance, among ``sigma2s``, that gives PPCA the best validation log-likelihood.

    Parameters
    ----------
    answer : float or None
    x_train, x_val : array_like, shape (n, D)
        Flattened training and validation faces.
    latent_dim : int
    sigma2s : sequence of float
        The variances to choose from.
    """
    name = "Exercise 4 (PPCA's noise variance, chosen on validation)"
    x_train = np.asarray(x_train, dtype=np.float64)
    x_val = np.asarray(x_val, dtype=np.float64)
    scores = {float(s2): _ppca.ppca_log_likelihood(x_val, _ppca.ppca_fit(x_train, latent_dim, sigma2=s2)).mean()
              for s2 in sigma2s}
    best = max(scores, key=scores.get)
    on_train = max(scores, key=lambda s2: _ppca.ppca_log_likelihood(
        x_train, _ppca.ppca_fit(x_train, latent_dim, sigma2=s2)).mean())
    ml = _ppca.ppca_fit(x_train, latent_dim).sigma2
    mistakes = [(on_train, "That variance fits the training faces best; score each on the validation faces."),
                (ml, "That is the maximum-likelihood variance from the training faces; choose among `sigma2s` by "
                     "the validation faces' log-likelihood.")]
    return check_close(name, answer, best, rtol=1e-9, atol=0.0, mistakes=mistakes,
                       hint="Fit PPCA on the training faces once per variance (ppca.ppca_fit(..., sigma2=s2)), "
                            "score the validation faces (ppca.ppca_log_likelihood, mean over faces), keep the best.")


def _answer_is(answer, value):
    """Whether the answer is one number close to ``value``."""
    got = as_number(answer)
    return got is not None and math.isclose(got, float(value), rel_tol=1e-4, abs_tol=1e-6)


def active_units_same(answer, z_mean_train, z_mean_test, threshold=ACTIVE_THRESHOLD):
    """Exercise 3, second part: is the count of active units the same on the training and the test faces?

    ``answer`` is ``True`` (the same) or ``False``; the counts are computed here.
    """
    name = "Exercise 3 (the same count on test faces?)"
    if is_placeholder(answer):
        return CheckResult(name, "not done", "Replace the placeholder with True or False and run the cell again.")
    if not isinstance(answer, (bool, np.bool_)):
        return CheckResult(name, "wrong", f"Answer True or False, not {answer!r}.")
    counts = [int(np.sum(np.asarray(z, dtype=np.float64).var(axis=0) > threshold)) for z in (z_mean_train, z_mean_test)]
    if bool(answer) == (counts[0] == counts[1]):
        return CheckResult(name, "correct")
    return CheckResult(name, "wrong", "Count the active units on the test faces too (vae.encode(x_test)) and compare.")


def fixed_variance_decoder(answer, vae, x, log_var, seed=0):
    """Exercise 5: the model's reconstruction loss with its decoder's learned variances replaced by one fixed one.

    ``answer`` is a dict ``{"prediction": "higher" | "lower" | "same", "loss": float}``: the
    prediction, made before running, of how ``-E_q[log p(x|z)]`` on ``x`` changes when the
    trained ``vae``'s encoder and decoder are kept and its likelihood becomes a Gaussian with
    the fixed log-variance ``log_var``, and the loss measured with ``elbo_terms(x, seed=seed)``.
    """
    from ..model import VAE

    name = "Exercise 5 (a fixed-variance decoder)"
    if is_placeholder(answer):
        return CheckResult(name, "not done", "Replace the placeholder with your answer and run the cell again.")
    if getattr(vae, "likelihood", None) != "gaussian":
        raise ValueError("fixed_variance_decoder compares Gaussian decoders; pass the course's trained VAE "
                         "(likelihood='gaussian').")
    if not isinstance(answer, dict) or set(answer) != {"prediction", "loss"}:
        return CheckResult(name, "wrong", 'Answer a dict {"prediction": "higher" or "lower" or "same", "loss": a number}.')
    fixed = VAE(image_shape=vae.image_shape, latent_dim=vae.latent_dim, likelihood="gaussian",
                gaussian_log_var=float(log_var), filters=vae.filters, kernel_size=vae.kernel_size)
    fixed.encoder.set_weights(vae.encoder.get_weights())
    fixed.decoder.set_weights(vae.decoder.get_weights())
    learned = -float(np.mean(vae.elbo_terms(x, seed=seed)["log_px_given_z"]))
    expected = -float(np.mean(fixed.elbo_terms(x, seed=seed)["log_px_given_z"]))
    if answer["prediction"] not in _CHOICES:
        return CheckResult(name, "wrong", f"The prediction must be one of {_CHOICES}.")
    loss = check_close(name, answer["loss"], expected, rtol=1e-4,
                       hint="Build VAE(likelihood='gaussian', gaussian_log_var=...) with the same sizes, copy the "
                            "encoder's and the decoder's weights, and take minus the mean of "
                            "elbo_terms(x, seed=...)['log_px_given_z'].",
                       mistakes=[(learned, "That is the loss of the model as trained, with its learned variances.")])
    if not loss.passed:
        return loss
    truth = "higher" if expected > learned else "lower" if expected < learned else "same"
    if answer["prediction"] != truth:
        return CheckResult(name, "wrong", "The loss is right, but it contradicts your prediction: compare the two "
                                          "numbers and think about what training chose the learned variances for.")
    return CheckResult(name, "correct")
