"""Test-wide settings: the fast mode, quiet TensorFlow, and where the faces are.

Set here, before anything imports TensorFlow, so that they also reach the
kernels that nbval starts for the notebooks (they inherit this environment).
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("VAEFACE_FAST", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("PYTHONHASHSEED", "0")

# Notebooks that need no face data run everywhere; the others need the faces.
NOTEBOOKS_WITHOUT_FACES = {"01_elbo_derivation.ipynb"}


def _find_orl():
    from vaeface_utils import config

    for home in (config.data_home(), config.default_data_home()):
        if (home / "orl_faces" / "s1").is_dir():
            return home / "orl_faces"
    return None


def _missing_faces_reason():
    return (
        "the AT&T/ORL faces were not found: set VAEFACE_DATA to a folder that holds orl_faces/ "
        "or unpack them into data/orl_faces (see data/README.md)"
    )


@pytest.fixture(scope="session")
def orl_path():
    """The ORL folder; a skip with the reason outside CI, a failure in CI."""
    path = _find_orl()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI must test on the real faces, but " + _missing_faces_reason())
        pytest.skip(_missing_faces_reason())
    return path


def pytest_collection_modifyitems(config, items):
    if _find_orl() is not None:
        return
    if os.environ.get("CI"):
        return  # in CI the notebooks run and fail loudly with the loader's own error
    skip = pytest.mark.skip(reason=_missing_faces_reason())
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb" and path.name not in NOTEBOOKS_WITHOUT_FACES:
            item.add_marker(skip)
