"""Fast mode, seeding, and where data and caches live: resolved in one place.

Every notebook reads these at the top, in its parameters cell::

    from vaeface_utils import config
    FAST = config.fast_mode()
    config.seed_everything(SEED)
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np

__all__ = [
    "FAST_ENV",
    "DATA_ENV",
    "CACHE_ENV",
    "fast_mode",
    "seed_everything",
    "repo_root",
    "default_data_home",
    "data_home",
    "cache_dir",
    "environment",
    "import_keras",
]

#: Environment variable that switches the fast mode on (``VAEFACE_FAST=1``).
FAST_ENV = "VAEFACE_FAST"
#: Environment variable naming a folder that holds ``orl_faces/``.
DATA_ENV = "VAEFACE_DATA"
#: Environment variable naming a writable folder for trained models and caches.
CACHE_ENV = "VAEFACE_CACHE"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def fast_mode() -> bool:
    """Whether the fast mode is on.

    The fast mode (``VAEFACE_FAST=1``, used by the tests and CI) shrinks epochs,
    sweeps and repetitions so that every notebook runs in about a minute. The
    full mode is the real course.

    Returns
    -------
    bool
        True when ``VAEFACE_FAST`` is one of ``1, true, yes, on``.

    Raises
    ------
    ValueError
        If ``VAEFACE_FAST`` holds anything else, so that a typo does not
        silently run the slow mode.
    """
    value = os.environ.get(FAST_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{FAST_ENV} must be 1 or 0 (or true/false); got {value!r}. "
        f"Unset it for the full course or set {FAST_ENV}=1 for the fast mode."
    )


def import_keras():
    """Import Keras (TensorFlow backend) without TensorFlow's start-up log lines.

    TensorFlow writes lines such as "oneDNN custom operations are on" straight
    to the process's standard error while it loads, whatever its log level;
    in a notebook they would land in the stored outputs. This silences the
    operating system's standard error for the import only; warnings after it
    are shown as usual.

    Returns
    -------
    module
        ``keras``.

    Raises
    ------
    ImportError
        If TensorFlow or Keras is not installed, with the command that fixes it.
    """
    import sys

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "tensorflow" not in sys.modules:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            import tensorflow  # noqa: F401
        except ImportError:
            raise ImportError(
                "TensorFlow is not installed. Install the course's versions with "
                "`pip install -r requirements.txt`, or `pip install tensorflow-cpu`."
            ) from None
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
    import keras

    return keras


def seed_everything(seed: int = 0) -> None:
    """Seed Python's ``random``, NumPy and Keras/TensorFlow from one integer.

    Keras is seeded only if it is installed; importing it here (not at module
    import) keeps the data helpers usable without TensorFlow.

    Parameters
    ----------
    seed : int
        A non-negative integer.

    Raises
    ------
    ValueError
        If ``seed`` is not an int >= 0.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be an int >= 0; got {seed!r}.")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    try:
        keras = import_keras()
    except ImportError:  # the maths and data helpers work without TensorFlow
        return
    keras.utils.set_random_seed(seed)


def repo_root() -> Path | None:
    """The checkout this package runs from, or None when installed elsewhere."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "vaeface_utils").is_dir():
        return root
    return None


def default_data_home() -> Path:
    """The repository's ``data/`` folder, or ``~/vaeface_data`` outside a checkout."""
    root = repo_root()
    return root / "data" if root is not None else Path.home() / "vaeface_data"


def data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Resolve where face data is looked for and cached.

    Order: the argument, then ``VAEFACE_DATA``, then :func:`default_data_home`.
    The folder is not created and not checked here; the loaders do that and
    say what they found.
    """
    if data_home is not None:
        return Path(data_home).expanduser()
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    return default_data_home()


def cache_dir(create: bool = True) -> Path:
    """A writable folder for trained models and computed caches.

    ``VAEFACE_CACHE`` if set, else ``cache/`` inside :func:`default_data_home`
    (git-ignored). It is separate from the data folder because that one may be
    read-only (a shared copy of the faces).
    """
    env = os.environ.get(CACHE_ENV)
    path = Path(env).expanduser() if env else default_data_home() / "cache"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def environment() -> dict:
    """What the course runs on: versions, processors, the fast mode.

    Imports TensorFlow (to list its devices) only when it is installed.

    Returns
    -------
    dict of str to str
        ``python``, ``numpy``, ``tensorflow``, ``keras``, ``keras backend``,
        ``scikit-learn``, ``scikit-image``, ``matplotlib``, ``cpus`` (logical
        processors), ``gpus`` (the GPUs TensorFlow sees, or "none") and
        ``fast mode``.
    """
    import platform
    from importlib import metadata

    def version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    report = {"python": platform.python_version(), "numpy": np.__version__}
    try:
        import_keras()
        import tensorflow as tf

        report["tensorflow"] = tf.__version__
        gpus = tf.config.list_physical_devices("GPU")
        report["gpus"] = ", ".join(g.name for g in gpus) if gpus else "none"
    except ImportError:
        report["tensorflow"] = "not installed (pip install tensorflow-cpu)"
        report["gpus"] = "unknown"
    report["keras"] = version("keras")
    if report["tensorflow"][0].isdigit():
        import keras

        report["keras backend"] = keras.backend.backend()
    for name in ("scikit-learn", "scikit-image", "matplotlib"):
        report[name] = version(name)
    report["cpus"] = str(os.cpu_count())
    report["fast mode"] = "on" if fast_mode() else "off"
    return report
