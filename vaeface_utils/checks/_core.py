"""The machinery shared by every exercise self-check."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["NOT_DONE", "CheckResult", "is_placeholder", "as_number", "check_close", "check_true"]

#: The placeholder that student versions of the notebooks put in an answer.
NOT_DONE = None


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one self-check; shown as one line in the notebook.

    Attributes
    ----------
    name : str
        The exercise, e.g. ``"Exercise 1 (KL to a Gaussian prior)"``.
    status : {"correct", "wrong", "not done"}
    message : str
        What is wrong and a hint; never the answer itself.
    """

    name: str
    status: str
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "correct"

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        mark = {"correct": "Correct", "wrong": "Not yet right", "not done": "Not done yet"}[self.status]
        text = f"{self.name}: {mark}."
        return f"{text} {self.message}" if self.message else text

    def _repr_pretty_(self, p, cycle):  # IPython display: the same one line
        p.text(repr(self))


def is_placeholder(answer) -> bool:
    """True for an unanswered exercise (``None`` or ``...``)."""
    return answer is None or answer is Ellipsis


def as_number(answer):
    """The answer as one finite float, or None (not a number, not one number, or not finite)."""
    try:
        value = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(value) if value.shape == () and np.isfinite(value) else None


def _close(got, value, rtol, atol) -> bool:
    value = np.asarray(value, dtype=np.float64)
    return got.shape == value.shape and bool(np.allclose(got, value, rtol=rtol, atol=atol))


def check_close(name, answer, expected, *, hint, rtol=1e-4, atol=1e-6, shape_hint=None, mistakes=()):
    """Compare a numeric answer with the expected value, without revealing it.

    Parameters
    ----------
    name : str
        The exercise's name, shown in the result.
    answer : array_like or None
        The student's answer; ``None`` or ``...`` means "not done yet".
    expected : array_like
        The right value.
    hint : str
        What to reconsider when the answer is wrong.
    rtol, atol : float
        Tolerances, as in :func:`numpy.allclose`.
    shape_hint : str, optional
        Said when the shapes differ.
    mistakes : sequence of (array_like, str)
        Known wrong values, each with its own hint: an answer that matches one
        (same shape, within the tolerances) gets that hint instead of ``hint``.
    """
    if is_placeholder(answer):
        return CheckResult(name, "not done", "Replace the placeholder with your answer and run the cell again.")
    try:
        got = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return CheckResult(name, "wrong", f"Expected a number or an array of numbers, got {type(answer).__name__}.")
    want = np.asarray(expected, dtype=np.float64)
    if not _close(got, want, rtol, atol):
        for wrong_value, mistake_hint in mistakes:
            if _close(got, wrong_value, rtol, atol):
                return CheckResult(name, "wrong", mistake_hint)
    if got.shape != want.shape:
        extra = f" {shape_hint}" if shape_hint else ""
        return CheckResult(name, "wrong", f"Expected shape {want.shape}, got {got.shape}.{extra}")
    if not np.all(np.isfinite(got)):
        return CheckResult(name, "wrong", "Your answer contains NaN or infinity. " + hint)
    if np.allclose(got, want, rtol=rtol, atol=atol):
        return CheckResult(name, "correct")
    return CheckResult(name, "wrong", hint)


def check_true(name, answer, condition, *, hint):
    """A check whose verdict is a boolean the caller computed from ``answer``."""
    if is_placeholder(answer):
        return CheckResult(name, "not done", "Replace the placeholder with your answer and run the cell again.")
    return CheckResult(name, "correct") if condition else CheckResult(name, "wrong", hint)
