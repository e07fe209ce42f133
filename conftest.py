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

    try:
        homes = (config.data_home(), config.default_data_home())
    except ValueError as error:  # a relative VAEFACE_DATA: say so once, not in a traceback
        raise pytest.UsageError(str(error)) from None
    for home in homes:
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


@pytest.fixture
def blob_faces():
    """4 synthetic people x 10 images of 16 x 16: a blob whose place depends on the person, plus noise."""
    import numpy as np

    from vaeface_utils.data import FaceData

    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[:16, :16]
    identity = np.repeat(np.arange(4), 10)
    centres = np.array([[4, 4], [4, 12], [12, 4], [12, 12]])[identity] + rng.normal(0, 1, (40, 2))
    d2 = (rows - centres[:, :1, None]) ** 2 + (cols - centres[:, 1:, None]) ** 2
    images = np.clip(np.exp(-d2 / 8.0) + rng.normal(0, 0.02, d2.shape), 0, 1)[..., None].astype(np.float32)
    return FaceData(images, identity.astype(np.int64), "synthetic blobs, 16x16", "orl")


# Small synthetic data shared by the unit tests of several modules.


@pytest.fixture
def rng():
    """NumPy's generator, seeded."""
    import numpy as np

    return np.random.default_rng(1234)


@pytest.fixture
def blobs(rng):
    """8 people x 6 images of 5 x 4 pixels: a per-person mean face plus noise."""
    import numpy as np

    identity = np.repeat(np.arange(8), 6)
    centres = rng.normal(size=(8, 5, 4, 1))
    images = centres[identity] + 0.8 * rng.normal(size=(48, 5, 4, 1))
    return images, identity


@pytest.fixture
def gallery(rng):
    """Train and test features of 6 people in 7 dimensions, hard enough that classifiers differ."""
    import numpy as np

    identity = np.repeat(np.arange(6), 8)
    x = rng.normal(size=(6, 7))[identity] + 1.2 * rng.normal(size=(48, 7))
    train = np.tile(np.arange(8) < 4, 6)
    return x[train], identity[train], x[~train], identity[~train]


@pytest.fixture
def faces_like():
    """Smooth random 'images' (n, 24, 20, 1) in [0, 1]: blurred noise, like small faces."""
    import numpy as np
    from scipy import ndimage

    rng = np.random.default_rng(0)
    x = ndimage.gaussian_filter(rng.random((5, 24, 20)), sigma=(0, 2, 2))
    x = (x - x.min()) / (x.max() - x.min())
    return x[..., None]


@pytest.fixture
def live_objects():
    """A function: how many objects of the type named ``type_name`` are alive, after a garbage collection.

    For tests that train or compile repeatedly and must leave nothing behind (``"FuncGraph"``: traced
    TensorFlow graphs; ``"AtomicFunction"``: compiled functions).
    """
    import gc

    def count(type_name):
        gc.collect()
        return sum(type(o).__name__ == type_name for o in gc.get_objects())

    return count
