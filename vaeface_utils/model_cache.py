"""The cache of trained VAEs: a model is served only to the code that would train exactly it.

:func:`load_or_train_vae` returns the course VAE from the git-ignored cache
(:func:`vaeface_utils.config.cache_dir`) when the same settings, data, split
and mode were trained before, and trains and saves it otherwise. The file's
name holds :func:`cache_key`: a hash of the settings, the images, the split's
seed, the fast mode and :func:`code_fingerprint` (the package's version, the
code of the modules that decide a trained model, and the Keras and TensorFlow
versions). So a change to any of them trains a new model instead of loading a
stale one. :func:`read_vae` and :func:`write_vae` are the reading and writing
that other trainers (:mod:`vaeface_utils.latent_features`) share.

Importing this module imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import config
from .training import train_vae
from .training_settings import TrainingSettings, course_settings

__all__ = [
    "CACHE_VERSION",
    "CODE_FILES",
    "TrainedVAE",
    "code_hash",
    "code_fingerprint",
    "cache_key",
    "cache_path",
    "read_vae",
    "write_vae",
    "load_or_train_vae",
]

#: Bumped to make every old cache miss for a reason the fingerprint below cannot see.
CACHE_VERSION = 1
#: The modules whose code runs when the course VAE is built and trained: hashed into every cache key.
CODE_FILES = ("model.py", "callbacks.py", "training_settings.py", "training.py", "_validate.py", "_optimizer.py")


class TrainedVAE(NamedTuple):
    """What :func:`load_or_train_vae` returns.

    Attributes
    ----------
    vae : vaeface_utils.model.VAE
    history : dict of str to list of float
        As from :func:`train_vae` (kept beside the model in the cache).
    path : pathlib.Path
        The ``.keras`` file in the cache.
    from_cache : bool
        True if it was loaded, False if it was trained just now.
    """

    vae: object
    history: dict
    path: Path
    from_cache: bool


def _digest(array) -> str:
    array = np.ascontiguousarray(array)
    h = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    h.update(array.tobytes())
    return h.hexdigest()


def _resolve_data(faces, split):
    from .data import FaceData, Split, load_faces, split_per_identity

    if faces is None:
        faces = load_faces()
    if not isinstance(faces, FaceData):
        raise TypeError(f"`faces` must be a FaceData (from load_faces()); got {type(faces).__name__}.")
    if split is None:
        split = split_per_identity(faces.identity, n_train=5, n_val=1, seed=0)
    if not isinstance(split, Split):
        raise TypeError(f"`split` must be a Split (from split_per_identity()); got {type(split).__name__}.")
    if len(split.train) == 0 or len(split.val) == 0:
        raise ValueError(f"`split` must have training and validation images (early stopping needs them); got "
                         f"{split!r}. Use split_per_identity(identity, n_train=5, n_val=1, seed=0).")
    if max(np.max(split.train), np.max(split.val)) >= len(faces):
        raise ValueError(f"`split` indexes images beyond the {len(faces)} in `faces`; draw it from the same data.")
    return faces, split


def _code_only(source: str) -> str:
    """The module's syntax tree without docstrings: comments and docstrings do not change a trained model."""
    import ast

    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False)


def code_hash(names) -> str:
    """SHA-256 (16 hex digits) of the code of the package's modules ``names`` (syntax trees, no docstrings)."""
    folder = Path(__file__).resolve().parent
    code = hashlib.sha256()
    for name in names:
        code.update(name.encode() + b"\0" + _code_only((folder / name).read_text(encoding="utf-8")).encode())
    return code.hexdigest()[:16]


def code_fingerprint() -> dict:
    """What, besides settings and data, decides the model that training produces.

    Returns
    -------
    dict of str to str
        ``package``: this package's version; ``code``: the SHA-256 (16 hex
        digits) of the code of :data:`CODE_FILES` (their syntax trees, so
        that editing a comment or a docstring keeps the cached models); ``keras`` and
        ``tensorflow``: the installed versions (of ``tensorflow`` or
        ``tensorflow-cpu``); ``cache_version``: :data:`CACHE_VERSION`.
    """
    from . import __version__

    return {"package": __version__, "code": code_hash(CODE_FILES),
            "keras": config.installed_version("keras") or "none",
            "tensorflow": config.installed_version("tensorflow", "tensorflow-cpu") or "none",
            "cache_version": str(CACHE_VERSION)}


def cache_key(settings: TrainingSettings, images_train, images_val, *, split_seed=None, fast=None) -> str:
    """A 16-hex-digit hash of everything that determines the trained model.

    It covers the settings, the training and validation images themselves
    (so the split's indices, the image size and the data's source), the
    split's seed, the fast mode, and :func:`code_fingerprint`: the package's
    version, a hash of the model and training code, and the Keras and
    TensorFlow versions. So a cached model is used only by the code and
    libraries that would train exactly it; anything else trains afresh.

    Parameters
    ----------
    settings : TrainingSettings
    images_train : ndarray of float32, shape (n, H, W, 1)
    images_val : ndarray of float32, shape (n, H, W, 1), or None
        None for a model trained without validation images (a fixed budget).
    split_seed : int, optional
    fast : bool, optional
        None reads :func:`vaeface_utils.config.fast_mode`.

    Returns
    -------
    str
    """
    if not isinstance(settings, TrainingSettings):
        raise TypeError(f"`settings` must be a TrainingSettings; got {type(settings).__name__}.")
    fast = config.fast_mode() if fast is None else bool(fast)
    payload = {"settings": settings.to_dict(), "train": _digest(images_train),
               "val": None if images_val is None else _digest(images_val),
               "split_seed": None if split_seed is None else int(split_seed), "fast": fast,
               "code": code_fingerprint()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def cache_path(settings: TrainingSettings, *, faces=None, split=None, cache_dir=None) -> Path:
    """Where :func:`load_or_train_vae` keeps (or would keep) this model.

    ``<cache>/vae-<fast|full>-<cache_key>.keras``, with the history beside it
    in a ``.json`` file of the same name. Arguments as :func:`load_or_train_vae`.
    """
    faces, split = _resolve_data(faces, split)
    fast = config.fast_mode()
    key = cache_key(settings, faces.images[split.train], faces.images[split.val], split_seed=split.seed, fast=fast)
    folder = Path(cache_dir) if cache_dir is not None else config.cache_dir()
    return folder / f"vae-{'fast' if fast else 'full'}-{key}.keras"


def _write_atomically(path: Path, write):
    """Write via a temporary file in the same folder, then rename: a crash never leaves half a file."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_vae(path: Path):
    """The VAE saved at ``path`` and the record beside it (``path`` with ``.json``).

    Raises
    ------
    OSError
        If either file cannot be read or the file holds no VAE; the message
        says to delete it.
    """
    keras = config.import_keras()
    from .model import VAE

    try:
        vae = keras.saving.load_model(path, safe_mode=True)
        record = json.loads(path.with_suffix(".json").read_text())
    except Exception as error:  # a damaged or incompatible file
        raise OSError(f"The cached model {path.name} in {path.parent.name}/ could not be read "
                      f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}). "
                      "Delete it (and its .json) to train again.") from error
    if not isinstance(vae, VAE):
        raise OSError(f"The cached file {path.name} does not hold a VAE; delete it to train again.")
    return vae, record


def write_vae(path: Path, vae, record: dict) -> None:
    """Save ``vae`` at ``path`` and ``record`` (with :func:`code_fingerprint` added) beside it, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, vae.save)
    record = {**record, "code": code_fingerprint()}
    _write_atomically(path.with_suffix(".json"), lambda p: p.write_text(json.dumps(record, indent=1)))


def load_or_train_vae(settings: TrainingSettings | None = None, *, split=None, faces=None, cache_dir=None,
                      callbacks=None, verbose=0) -> TrainedVAE:
    """The trained course VAE: loaded from the cache if it was trained before, else trained and saved.

    The cache file's name holds :func:`cache_key` (a hash of the settings,
    the training and validation images, the split's seed, the fast mode and
    :func:`code_fingerprint`: the package's version, the code of
    :data:`CODE_FILES`, the Keras and TensorFlow versions and
    :data:`CACHE_VERSION`), so changing any of them trains a new model
    instead of loading a stale one. Training is seeded, so the same
    settings give the same model either way.

    Parameters
    ----------
    settings : TrainingSettings, optional
        Default :func:`course_settings` (full or fast, from the fast mode).
    split : vaeface_utils.data.Split, optional
        Default: the course split, ``split_per_identity(faces.identity,
        n_train=5, n_val=1, seed=0)``. Needs validation images.
    faces : vaeface_utils.data.FaceData, optional
        Default ``load_faces()`` (64 x 64).
    cache_dir : path-like, optional
        Default :func:`vaeface_utils.config.cache_dir` (``VAEFACE_CACHE`` or
        the git-ignored ``data/cache``).
    callbacks, verbose
        Passed to :func:`train_vae` when it trains.

    Returns
    -------
    TrainedVAE
        ``(vae, history, path, from_cache)``.

    Raises
    ------
    TypeError
        If ``settings``, ``faces`` or ``split`` has the wrong type.
    ValueError
        If ``split`` has no validation images or does not fit ``faces``.
    OSError
        If a cached file exists but cannot be read; the message says to delete it.

    Examples
    --------
    >>> result = load_or_train_vae()  # doctest: +SKIP
    >>> z = result.vae.encode(faces.images)  # doctest: +SKIP
    """
    if settings is None:
        settings = course_settings()
    if not isinstance(settings, TrainingSettings):
        raise TypeError(f"`settings` must be a TrainingSettings; got {type(settings).__name__}. "
                        "Use course_settings() or TrainingSettings(...).")
    faces, split = _resolve_data(faces, split)
    path = cache_path(settings, faces=faces, split=split, cache_dir=cache_dir)
    if path.is_file() and path.with_suffix(".json").is_file():
        vae, record = read_vae(path)
        return TrainedVAE(vae, record["history"], path, True)

    vae, history = train_vae(faces.images[split.train], faces.images[split.val], settings,
                             callbacks=callbacks, verbose=verbose)
    write_vae(path, vae, {"settings": settings.to_dict(), "split_seed": int(split.seed), "fast": config.fast_mode(),
                          "n_train": int(len(split.train)), "n_val": int(len(split.val)), "history": history})
    return TrainedVAE(vae, history, path, False)
