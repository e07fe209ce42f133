"""The examples in the package's docstrings run and print what they say."""

import doctest
import importlib
import pkgutil

import pytest

import vaeface_utils

MODULES = sorted(m.name for m in pkgutil.walk_packages(vaeface_utils.__path__, "vaeface_utils."))


def test_every_module_is_found():
    assert {"vaeface_utils.model", "vaeface_utils.elbo", "vaeface_utils.checks._core"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (output above)"


def test_the_examples_are_many():
    """A guard against a collection that silently finds nothing."""
    attempted = 0
    for name in MODULES:
        finder = doctest.DocTestFinder()
        attempted += sum(len(test.examples) for test in finder.find(importlib.import_module(name)))
    assert attempted >= 50
