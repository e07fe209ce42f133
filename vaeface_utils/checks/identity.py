"""Self-checks for the exercises of ``06_identity_codes``."""

from __future__ import annotations

import numpy as np

from ._core import CheckResult, check_close, is_placeholder

__all__ = ["pooled_identity", "person_posterior", "what_the_identity_part_holds"]


def pooled_identity(answer, means, log_vars):
    """Exercise 1: the split code's pooled identity posterior for one person.

    Parameters
    ----------
    answer : (mean, log_var) or None
        Each of shape (identity_dim,).
    means, log_vars : ndarray, shape (n_images, identity_dim)
        The person's images' posteriors over the identity part.
    """
    name = "Exercise 1 (pooling a person's identity posteriors)"
    if is_placeholder(answer):
        return check_close(name, None, 0.0, hint="")
    try:
        mean, log_var = answer
    except (TypeError, ValueError):
        return CheckResult(name, "wrong", "Answer a pair (mean, log_var), each with one value per identity dimension.")
    precision = np.exp(-np.asarray(log_vars, np.float64))
    want_mean = (precision * means).sum(0) / precision.sum(0)
    want_log_var = -np.log(precision.sum(0))
    result = check_close(name, log_var, want_log_var, rtol=1e-5, atol=1e-6,
                         hint="Multiply the images' Gaussians over each dimension and read off the product's "
                              "variance: how do the certainties of independent measurements of one quantity combine? "
                              "Answer a log-variance, one per dimension.",
                         mistakes=[(np.log(np.exp(log_vars).sum(0)), "You added the variances; it is the "
                                    "precisions, 1 / variance, that add."),
                                   (np.log(np.exp(log_vars).mean(0)), "Averaging variances gives no more "
                                    "certainty than one image; precisions add.")])
    if not result.passed:
        return result
    return check_close(name, mean, want_mean, rtol=1e-5, atol=1e-6,
                       hint="Your variance is right; now the mean of the same product of Gaussians. Should "
                            "an uncertain image count as much as a certain one?",
                       mistakes=[(np.mean(means, 0), "That is the plain average; weight each mean by its "
                                  "precision, exp(-log_var).")])


def person_posterior(answer, kl):
    """Exercise 2: log p(y | x) from the KL of q(z|x) to every person's prior.

    Parameters
    ----------
    answer : ndarray (n_images, n_people) or None
    kl : ndarray, shape (n_images, n_people)
    """
    scores = -np.asarray(kl, np.float64)
    top = scores.max(1, keepdims=True)
    want = scores - top - np.log(np.exp(scores - top).sum(1, keepdims=True))
    return check_close("Exercise 2 (the posterior over people)", answer, want, rtol=1e-6, atol=1e-6,
                       hint="Each row must be a log-probability over the 40 people: after exp it sums to 1. "
                            "Start from the unnormalised log-posterior the text gives, then normalise each row "
                            "in log space (scipy and numpy both have a stable way).",
                       mistakes=[(np.asarray(kl) - np.log(np.exp(np.asarray(kl) - np.asarray(kl).max(1, keepdims=True)
                                                           ).sum(1, keepdims=True)) - np.asarray(kl).max(1, keepdims=True),
                                  "The sign: a person whose prior is *closer* (smaller KL) must be more probable.")],
                       shape_hint="One row per image and one column per person.")


def what_the_identity_part_holds(answer):
    """Exercise 3: which statement about the split code is true (multiple choice)."""
    name = "Exercise 3 (what makes the identity part hold identity)"
    if is_placeholder(answer):
        return check_close(name, None, 0.0, hint="")
    if isinstance(answer, str):
        answer = answer.strip().lower()
    if answer not in ("a", "b", "c", "d"):
        return CheckResult(name, "wrong", "Answer one letter: 'a', 'b', 'c' or 'd'.")
    if answer == "c":
        return CheckResult(name, "correct")
    hints = {"a": "Nothing in the loss names light or pose; think about what one shared code can and cannot fit.",
             "b": "The decoder sees both parts alike; what differs is how each part is drawn in training.",
             "d": "The identity part is not trained to classify; no label enters the loss except through grouping."}
    return CheckResult(name, "wrong", hints[answer])
