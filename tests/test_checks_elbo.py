"""The self-checks of 01_elbo_derivation: right answers pass, None is "not done", wrong answers get a hint."""

import math

import numpy as np
import pytest
from scipy.special import logsumexp

from vaeface_utils.checks import CheckResult
from vaeface_utils.checks import elbo as check

MEAN_Q = np.array([[0.5, -1.0], [0.0, 2.0]])
LOG_VAR_Q = np.array([[-0.5, 0.2], [0.0, -1.0]])
MEAN_P = np.array([1.0, -0.5])
LOG_VAR_P = np.array([0.7, -0.3])
LOG_W = np.array([-1002.3, -1000.1, -1005.0, -1000.9, -1001.4])
NATS, N_DIMS, SIGMA2 = 5321.7, 64 * 64, 0.01
MSE = np.array([0.004, 0.011])


def _kl(mq, lq, mp, lp):
    return 0.5 * np.sum(lp - lq + (np.exp(lq) + (mq - mp) ** 2) / np.exp(lp) - 1, axis=-1)


# Each exercise: the check, its data, the right answer (computed independently here), wrong answers.
KL = _kl(MEAN_Q, LOG_VAR_Q, MEAN_P, LOG_VAR_P)
IWAE = float(np.log(np.mean(np.exp(LOG_W + 1000.0))) - 1000.0)
BPD = NATS / (N_DIMS * math.log(2))
GAUSS = -N_DIMS * MSE / (2 * SIGMA2) - 0.5 * N_DIMS * math.log(2 * math.pi * SIGMA2)

CASES = {
    "kl": (check.kl_to_gaussian_prior, (MEAN_Q, LOG_VAR_Q, MEAN_P, LOG_VAR_P), KL, [
        _kl(MEAN_Q, LOG_VAR_Q, 0.0, 0.0),  # standard prior
        _kl(MEAN_P, LOG_VAR_P, MEAN_Q, LOG_VAR_Q),  # wrong direction
        2 * KL,
        KL + 0.3,
        KL[0],  # wrong shape
    ]),
    "iwae": (check.iwae_bound, (LOG_W,), IWAE, [
        LOG_W.mean(), float(logsumexp(LOG_W)), LOG_W.max(), -np.inf, IWAE + 0.5,
    ]),
    "bpd": (check.bits_per_dim, (NATS, N_DIMS), BPD, [
        -BPD, NATS / N_DIMS, NATS / math.log(2), NATS * math.log(2) / N_DIMS, 2 * BPD,
    ]),
    "gauss": (check.gaussian_log_likelihood_from_mse, (MSE, N_DIMS, SIGMA2), GAUSS, [
        -N_DIMS * MSE / (2 * SIGMA2), -GAUSS, GAUSS / N_DIMS, GAUSS + 1.0,
    ]),
}


def _forms(value):
    """Ways the expected value could leak into a message."""
    forms = set()
    for v in np.atleast_1d(value):
        for fmt in ("{}", "{:.1f}", "{:.2f}", "{:.3f}", "{:.4f}", "{:.4g}", "{:.6g}"):
            forms.add(fmt.format(float(v)))
    return forms


@pytest.mark.parametrize("case", CASES)
def test_right_answer_passes(case):
    func, data, right, _ = CASES[case]
    result = func(right, *data)
    assert isinstance(result, CheckResult)
    assert result.passed and result.status == "correct"
    assert repr(result).endswith(": Correct.")


@pytest.mark.parametrize("case", CASES)
def test_placeholder_is_not_done(case):
    func, data, _, _ = CASES[case]
    for placeholder in (None, ...):
        result = func(placeholder, *data)
        assert result.status == "not done" and not result.passed
        assert "Not done yet" in repr(result)


@pytest.mark.parametrize("case", CASES)
def test_wrong_answers_get_a_hint_without_the_answer(case):
    func, data, right, wrongs = CASES[case]
    for wrong in wrongs:
        result = func(wrong, *data)
        assert result.status == "wrong", (case, wrong)
        assert len(result.message) > 20
        leaked = [form for form in _forms(right) if form in repr(result)]
        assert not leaked, f"{case}: the message reveals the answer ({leaked}): {result!r}"


def test_specific_hints_name_the_mistake():
    assert "standard normal" in check.kl_to_gaussian_prior(CASES["kl"][3][0], *CASES["kl"][1]).message
    assert "other direction" in check.kl_to_gaussian_prior(CASES["kl"][3][1], *CASES["kl"][1]).message
    assert "shape" in check.kl_to_gaussian_prior(KL[0], *CASES["kl"][1]).message
    assert "ELBO estimate" in check.iwae_bound(LOG_W.mean(), LOG_W).message
    assert "logsumexp" in check.iwae_bound(-np.inf, LOG_W).message
    assert "1/K" in check.iwae_bound(float(logsumexp(LOG_W)), LOG_W).message
    assert "ln 2" in check.bits_per_dim(NATS / N_DIMS, NATS, N_DIMS).message
    assert "normalising constant" in check.gaussian_log_likelihood_from_mse(
        -N_DIMS * MSE / (2 * SIGMA2), MSE, N_DIMS, SIGMA2).message
    assert "sums over its pixels" in check.gaussian_log_likelihood_from_mse(GAUSS / N_DIMS, MSE, N_DIMS, SIGMA2).message


def test_iwae_check_accepts_a_batch_and_non_numbers_are_wrong():
    log_w = np.stack([LOG_W, LOG_W + 3.0], axis=1)
    assert check.iwae_bound(np.array([IWAE, IWAE + 3.0]), log_w).passed
    assert check.iwae_bound("minus a lot", LOG_W).status == "wrong"


def test_the_naive_formula_fails_the_check():
    """The exercise's trap: exp of log-weights near -1000 underflows."""
    with np.errstate(divide="ignore"):
        naive = np.log(np.mean(np.exp(LOG_W)))
    assert check.iwae_bound(naive, LOG_W).status == "wrong"
