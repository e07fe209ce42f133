"""Fast mode, seeding, and where data and caches live: resolved in one place.

Every notebook reads these at the top, in its parameters cell::

    from vaeface_utils import config
    FAST = config.fast_mode()
    config.seed_everything(SEED)
"""

from __future__ import annotations

import contextlib
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
    "installed_version",
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
    in a notebook they would land in the stored outputs. So the operating
    system's standard error goes to a file for the import only; afterwards
    every line of it that is not TensorFlow's information or warning chatter
    (errors, fatal messages, anything else) is written to standard error as
    usual. If TensorFlow ends the process while it loads (a processor it was
    not built for, say), the next call shows what it said before trying again.

    Returns
    -------
    module
        ``keras``.

    Raises
    ------
    ImportError
        If TensorFlow or Keras cannot be imported: the message gives the real
        cause (a missing package, or the error TensorFlow raised) and what
        TensorFlow wrote while loading.
    """
    import sys
    import tempfile

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    fix = ("Install it in the environment that runs this code: `pip install -r requirements.txt` in a "
           "checkout of the course (on Colab TensorFlow comes preinstalled: restart the runtime instead)")
    if "tensorflow" not in sys.modules:
        _report_crashed_import()
        sys.stderr.flush()
        handle, log = tempfile.mkstemp(prefix="vaeface-tensorflow-import-", suffix=".log")
        marker = _crash_marker()
        with contextlib.suppress(OSError):
            marker.unlink()
        with contextlib.suppress(OSError):
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            os.write(fd, log.encode())
            os.close(fd)
        saved = os.dup(2)
        failure = None
        try:
            os.dup2(handle, 2)
            import tensorflow  # noqa: F401
        except BaseException as error:  # noqa: BLE001 - shown below with what TensorFlow said, then re-raised
            failure = error
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(handle)
            try:
                said = _not_chatter(Path(log).read_text(errors="replace"))
            except OSError:  # removed by someone else; what TensorFlow said is lost, nothing more
                said = ""
            for path in (Path(log), marker):
                with contextlib.suppress(OSError):
                    path.unlink()
        if isinstance(failure, ImportError):
            missing = getattr(failure, "name", None) == "tensorflow"
            cause = ("TensorFlow is not installed" if missing
                     else f"TensorFlow could not be imported ({type(failure).__name__}: {failure})")
            raise ImportError(f"{cause}. {fix}" + (f". TensorFlow said while loading:\n{said}" if said else ".")) \
                from failure
        if said:
            sys.stderr.write(said + "\n")
        if failure is not None:
            raise failure
    try:
        import keras
    except ImportError as error:
        raise ImportError(f"Keras 3 could not be imported ({type(error).__name__}: {error}). {fix}.") from error
    return keras


def _crash_marker(pid=None):
    """A file naming the capture of this process's import of TensorFlow; left behind if it ended the process."""
    import tempfile

    user = os.getuid() if hasattr(os, "getuid") else 0
    pid = os.getpid() if pid is None else pid
    return Path(tempfile.gettempdir()) / f"vaeface-tensorflow-import-{user}-{pid}.inprogress"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _report_crashed_import():
    """If an earlier import of TensorFlow ended its process, show what TensorFlow said then.

    Each process marks its own import; a marker whose process still runs is
    an import in progress elsewhere (two kernels starting at once), not a crash.
    """
    import sys

    pattern = _crash_marker(pid=0).name.replace("-0.inprogress", "-*.inprogress")
    for marker in sorted(_crash_marker().parent.glob(pattern)):
        try:
            pid = int(marker.name.rsplit("-", 1)[1].split(".")[0])
        except ValueError:
            continue
        if pid == os.getpid() or _alive(pid) or marker.is_symlink():
            continue
        try:
            log = Path(marker.read_text().strip())
            said = _not_chatter(log.read_text(errors="replace"))
        except OSError:
            said = ""
            log = None
        for path in (log, marker):
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink()
        if said:
            sys.stderr.write("An earlier attempt to import TensorFlow ended its process. It said:\n" + said + "\n")
            sys.stderr.flush()


def _not_chatter(text):
    """The lines of TensorFlow's start-up output that are not its INFO or WARNING log lines."""
    kept = []
    for line in text.splitlines():
        stripped = line.strip()
        chatter = (
            not stripped
            or stripped.startswith("WARNING: All log messages before absl::InitializeLog()")
            # C++ log lines: "I0000 00:00:..." / "W tensorflow/..." (information and warnings only).
            or (len(stripped) > 1 and stripped[0] in "IW" and (stripped[1].isdigit() or stripped[1] == " "))
        )
        if not chatter:
            kept.append(line)
    return "\n".join(kept)


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

    Raises
    ------
    ValueError
        If ``VAEFACE_DATA`` is a relative path.
    """
    if data_home is not None:
        return Path(data_home).expanduser()
    env = os.environ.get(DATA_ENV)
    if env:
        return _absolute_from_env(DATA_ENV, env)
    return default_data_home()


def _absolute_from_env(name, value):
    """The folder an environment variable names, which must be an absolute path.

    A notebook's kernel runs in ``notebooks/``, a script wherever it was
    started, so a relative path would name a different folder in each; it is
    refused rather than guessed. ``scripts/course.sh`` and ``scripts/test.sh``
    make a relative one absolute before they start anything.
    """
    path = Path(value).expanduser()
    if not path.is_absolute():
        raise ValueError(
            f"{name} must be an absolute path; got {value!r}. Notebooks run in notebooks/, so a relative "
            f"path would point somewhere else there. Use e.g. {name}=\"$PWD/{value}\" (or start the course "
            "with scripts/course.sh, which does this for you)."
        )
    return path


def cache_dir(create: bool = True) -> Path:
    """A writable folder for trained models and computed caches.

    ``VAEFACE_CACHE`` if set, else ``cache/`` inside :func:`default_data_home`
    (git-ignored). It is separate from the data folder because that one may be
    read-only (a shared copy of the faces).

    Raises
    ------
    ValueError
        If ``VAEFACE_CACHE`` is a relative path.
    """
    env = os.environ.get(CACHE_ENV)
    path = _absolute_from_env(CACHE_ENV, env) if env else default_data_home() / "cache"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def installed_version(*names):
    """The installed version of the first of ``names`` that is installed, or None.

    >>> installed_version("no-such-package", "numpy") == np.__version__
    True
    """
    from importlib import metadata

    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


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

    def version(name):
        return installed_version(name) or "not installed"

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
