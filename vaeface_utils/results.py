"""Results records: a notebook's headline numbers, kept as JSON beside it.

A notebook that measures something writes, in the full mode, the numbers its
prose rests on to ``notebooks/results/<notebook>.json``, from the same run
as its stored outputs. The tests read these records to check the prose's
conclusions, and a reader or a script can compare two runs by them. The fast
mode never overwrites a record: its barely trained models are not the
course's results.

>>> record = {"accuracy": 0.9125, "classifier": "logreg", "nested": {"auc": 0.98}}
>>> print(format_record(record))
accuracy: 0.9125
classifier: logreg
nested.auc: 0.98
"""

from __future__ import annotations

import json
import math
import numbers
from pathlib import Path

import numpy as np

from . import config

__all__ = ["RESULTS_DIR", "results_dir", "to_plain", "flatten", "format_record", "write_record", "load_record"]

#: Where records live, relative to the repository root.
RESULTS_DIR = Path("notebooks") / "results"


def results_dir() -> Path:
    """The folder of the records: ``notebooks/results`` in a checkout, else ``./results``."""
    root = config.repo_root()
    return root / RESULTS_DIR if root is not None else Path.cwd() / "results"


def to_plain(value):
    """``value`` with NumPy scalars and arrays turned into JSON's types.

    Floats are rounded to 6 significant digits, so that a record says no
    more than a run can repeat and reads the same in the notebook's output.

    Raises
    ------
    TypeError
        For anything JSON cannot hold (a model, a function, ...).
    ValueError
        For a float that is not finite.
    """
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"a results record holds only finite numbers; got {value!r}.")
        return float(f"{value:.6g}")
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"a results record holds numbers, strings, lists and dicts; got {type(value).__name__}.")


def flatten(record: dict, prefix: str = "") -> dict:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``: one key per leaf, lists kept whole."""
    out = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def format_record(record: dict) -> str:
    """One line ``key: value`` per leaf of ``record``, as the notebooks print it."""
    return "\n".join(f"{key}: {value}" for key, value in flatten(to_plain(record)).items())


def write_record(name: str, record: dict, *, fast: bool | None = None, directory=None) -> Path | None:
    """Write ``record`` to ``<directory>/<name>.json`` in the full mode; in the fast mode, do nothing.

    Parameters
    ----------
    name : str
        The notebook's name without extension, e.g. ``"03_training_on_faces"``.
    record : dict
        Numbers (NumPy's too), strings, lists and nested dicts.
    fast : bool, optional
        None (the default) reads :func:`vaeface_utils.config.fast_mode`.
    directory : path-like, optional
        Default :func:`results_dir`.

    Returns
    -------
    pathlib.Path or None
        The file written, or None in the fast mode.
    """
    if not isinstance(name, str) or not name or "/" in name or name.endswith(".json"):
        raise ValueError(f"`name` must be a notebook's name such as '03_training_on_faces'; got {name!r}.")
    if not isinstance(record, dict) or not record:
        raise TypeError(f"`record` must be a non-empty dict of results; got {type(record).__name__}.")
    plain = to_plain(record)
    if config.fast_mode() if fast is None else fast:
        return None
    folder = Path(directory) if directory is not None else results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(plain, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def load_record(name: str, *, directory=None) -> dict:
    """The committed record ``<directory>/<name>.json``.

    Raises
    ------
    FileNotFoundError
        If there is none, saying how to make it.
    """
    folder = Path(directory) if directory is not None else results_dir()
    path = folder / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"No results record {name}.json in {folder.name}/. Run notebooks/{name}.ipynb in the full mode "
            "(VAEFACE_FAST=0) to write it."
        )
    return json.loads(path.read_text(encoding="utf-8"))
