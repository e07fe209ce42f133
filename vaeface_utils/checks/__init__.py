"""Self-checks for the exercises at the end of each notebook.

Each notebook imports the checks for its own exercises, for example::

    from vaeface_utils.checks import elbo as check
    check.kl_to_gaussian_prior(answer)

A check never raises on a wrong or missing answer and never prints the answer:
it returns a :class:`CheckResult` that says "correct", "not done yet" (the
placeholder is still there), or what is wrong with a hint.
"""

from ._core import NOT_DONE, CheckResult, check_close, check_true, is_placeholder

__all__ = ["NOT_DONE", "CheckResult", "check_close", "check_true", "is_placeholder"]
