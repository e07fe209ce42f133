"""Argument checks shared by the package: image batches, numbers, ints, arrays, labels, choices, scores.

Each check returns the value in the form the caller computes with, or raises
a ``TypeError`` or ``ValueError`` that names the argument, what is allowed,
what was received and how to fix it.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Sequence

import numpy as np


def images(value, name="images"):
    """``value`` as a float64 array (n, H, W); accepts (n, H, W, 1) and (n, H, W).

    Examples
    --------
    >>> images(np.zeros((2, 4, 4, 1))).shape
    (2, 4, 4)
    """
    try:
        x = np.asarray(value)
    except (TypeError, ValueError):  # pragma: no cover - ragged input
        raise TypeError(f"`{name}` must be an array of images (n, H, W, 1); got {type(value).__name__}.") from None
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise TypeError(f"`{name}` must hold real grey values in [0, 1]; got dtype {x.dtype}. "
                        "Convert 8-bit images with images.astype('float32') / 255.")
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3 or min(x.shape) < 1:
        raise ValueError(f"`{name}` must have shape (n, H, W, 1) or (n, H, W) with n >= 1; got {np.shape(value)}. "
                         f"For one image pass {name}[None].")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"`{name}` holds NaN or infinite values; pass grey values in [0, 1].")
    return x


def like(result, value):
    """Give ``result`` (n, H, W) the layout of the input ``value`` (a channel axis if it had one)."""
    return result[..., None] if np.ndim(value) == 4 else result


def number(value, name, *, low=None, high=None, fix=""):
    """``value`` as a float, finite and within [``low``, ``high``] where they are given.

    Examples
    --------
    >>> number(0.5, "strength", low=0.0, high=1.0)
    0.5
    """
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number; got {value!r}. {fix}".rstrip())
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"from {low} to {high}" if low is not None and high is not None else \
            (f">= {low}" if low is not None else f"<= {high}")
        raise ValueError(f"`{name}` must be {span}; got {value!r}. {fix}".rstrip())
    return float(value)


def integer(value, name, *, low=None, high=None, fix=""):
    """``value`` as an int (not a bool), within [``low``, ``high``] where they are given.

    Examples
    --------
    >>> integer(np.int64(3), "size", low=0)
    3
    """
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"`{name}` must be an int; got {value!r}. {fix}".rstrip())
    number(float(value), name, low=low, high=high, fix=fix)
    return int(value)


def latent(value, name):
    """``value`` as a finite float64 array (n, latent_dim) with n >= 1."""
    try:
        z = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be an array of numbers (n, latent_dim); got {type(value).__name__}.") from None
    if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] < 1:
        raise ValueError(f"`{name}` must have shape (n, latent_dim) with n >= 1; got {z.shape}. "
                         "Use z_mean, z_log_var = vae.posterior(images).")
    if not np.all(np.isfinite(z)):
        raise ValueError(f"`{name}` holds NaN or infinite values; check the encoder (a diverged model?).")
    return z


def scores(value, name, *, what, per, fix):
    """``value`` as a finite, non-empty 1-D float64 array, one score per ``per``."""
    try:
        s = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be {what}; got {type(value).__name__}.") from None
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"`{name}` must be a non-empty 1-D array, one score per {per}; got shape {s.shape}.")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"`{name}` holds NaN or infinite scores; {fix}")
    return s


# Feature matrices, labels and choices (features, identification, verification, reporting, protocol)


def as_rows(images, name: str = "images") -> np.ndarray:
    """(n, ...) array -> float (n, d); the rows are images or feature vectors."""
    x = np.asarray(images)
    if x.ndim < 2 or x.shape[0] == 0 or x.size == 0:
        raise ValueError(
            f"`{name}` must be a non-empty array of images (n, H, W, 1) or features (n, d); "
            f"got shape {x.shape}. Pass at least one image, e.g. faces.images[split.train]."
        )
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise TypeError(f"`{name}` must hold real numbers; got dtype {x.dtype}. Pass pixels as floats in [0, 1].")
    return x.reshape(len(x), -1).astype(np.float64, copy=False)


def as_features(features, name: str) -> np.ndarray:
    """A non-empty, finite, 2-D float array (n, d)."""
    x = np.asarray(features)
    if x.size == 0:
        raise ValueError(f"`{name}` is empty (shape {x.shape}); it needs at least one row of features.")
    if x.ndim != 2:
        raise ValueError(
            f"`{name}` must be 2-D, (n_images, n_features); got shape {x.shape}. "
            "Transform images with a feature extractor first, or flatten with x.reshape(len(x), -1)."
        )
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise TypeError(f"`{name}` must hold real numbers; got dtype {x.dtype}.")
    x = x.astype(np.float64, copy=False)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"`{name}` holds NaN or infinity; check the feature extractor (a diverged encoder?).")
    return x


def as_labels(identity, name: str, n: int | None = None, features_name: str = "features") -> np.ndarray:
    """A non-empty 1-D label array, of length ``n`` when given."""
    y = np.asarray(identity)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(
            f"`{name}` must be a non-empty 1-D array with one identity per row; got shape {y.shape}. "
            "Pass FaceData.identity (or the same indices of it as the features)."
        )
    if n is not None and len(y) != n:
        raise ValueError(
            f"`{features_name}` has {n} rows but `{name}` has {len(y)} identities; they must match row for row. "
            "Index both with the same split indices, e.g. features[split.train] and identity[split.train]."
        )
    return y


def int_in(value, name: str, low: int, high: int | None, fix: str) -> int:
    """``value`` as an int (not a bool) from ``low`` to ``high`` (no upper limit when ``high`` is None)."""
    ok = not isinstance(value, bool) and isinstance(value, (int, np.integer))
    ok = ok and value >= low and (high is None or value <= high)
    if not ok:
        allowed = f"an int from {low} to {high}" if high is not None else f"an int >= {low}"
        raise ValueError(f"`{name}` must be {allowed}; got {value!r}. {fix}".rstrip())
    return int(value)


def one_of(value, name: str, allowed: Sequence[str], fix: str = "") -> str:
    """``value`` itself, if it is one of the strings in ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        known = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"Unknown `{name}` {value!r}; the known ones are {known}.{' ' + fix if fix else ''}")
    return value


# Float64 arrays for the reference formulas (elbo, ppca, units)


def array(value, name, *, min_ndim=0, ndim=None, allow=""):
    """``value`` as a finite float64 array, or an error that names ``name``."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"`{name}` must be a number or an array of numbers; got {type(value).__name__}. "
            "Pass a NumPy array (convert tensors with np.asarray(tensor))."
        ) from None
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"`{name}` must have {ndim} dimension(s){allow}; got shape {array.shape}.")
    if array.ndim < min_ndim:
        raise ValueError(
            f"`{name}` must have at least {min_ndim} dimension(s){allow}; got shape {array.shape}. "
            "Add the missing axis, e.g. x[None] for a single example."
        )
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(
            f"`{name}` must be finite; got {bad} NaN or infinite value(s) among {array.size}. "
            "Look for an overflow upstream (exp of a large log-variance, log of 0)."
        )
    return array


def same_shape(a, b, name_a, name_b):
    if a.shape != b.shape:
        raise ValueError(
            f"`{name_a}` and `{name_b}` must have the same shape; got {a.shape} and {b.shape}. "
            "They describe the same variables, one value each."
        )


def broadcast(arrays, names):
    try:
        return np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        shapes = ", ".join(f"`{n}` {a.shape}" for n, a in zip(names, arrays))
        raise ValueError(
            f"{shapes} must broadcast against each other (NumPy rules); they do not. "
            "Give them the same shape, or size 1 where a value is shared."
        ) from None


def positive_int(value, name, *, fix):
    """``value`` as an int >= 1 (not a bool)."""
    return int_in(value, name, 1, None, fix)


def sum_non_batch(values):
    return values.reshape(values.shape[0], -1).sum(axis=1) if values.ndim > 1 else values


# Image batches for training (training, latent_features, labelled)


def image_batch(images, name):
    """``images`` as a contiguous float32 array (n, H, W, 1), n >= 1, for training."""
    if not hasattr(images, "shape") or not hasattr(images, "dtype"):
        raise TypeError(f"`{name}` must be a NumPy array of images (n, H, W, 1); got {type(images).__name__}.")
    if np.dtype(images.dtype).kind != "f":
        raise TypeError(f"`{name}` must hold floats in [0, 1]; got dtype {images.dtype}. "
                        f"Convert with `{name}.astype('float32') / 255`.")
    if images.ndim != 4 or images.shape[-1] != 1 or images.shape[0] < 1:
        raise ValueError(f"`{name}` must have shape (n, H, W, 1) with n >= 1; got {images.shape}. "
                         "Use load_faces().images, or add the channel axis with [..., None].")
    return np.ascontiguousarray(images, dtype=np.float32)


# Images for the VAE (model.check_images)


def _is_tensor(x) -> bool:
    """A TensorFlow tensor or variable, told without importing TensorFlow."""
    return type(x).__module__.startswith("tensorflow") and hasattr(x, "numpy")


def is_array_like(x) -> bool:
    """An array, a list, a tuple or a tensor: something ``fit`` would take as data."""
    return isinstance(x, (np.ndarray, list, tuple)) or _is_tensor(x) or hasattr(x, "__array__")


def vae_images(x, *, name="x", image_shape=None, likelihood="bernoulli") -> None:
    """Check that ``x`` is a batch of float images the VAE can use.

    Parameters
    ----------
    x : array_like, shape (n, H, W, 1)
        Floating point; in [0, 1] for the Bernoulli likelihood.
    name : str
        The argument's name, used in the messages.
    image_shape : (int, int, 1), optional
        The shape the model was built for.
    likelihood : {"bernoulli", "gaussian"}

    Raises
    ------
    TypeError
        Integer, boolean or non-numeric dtype.
    ValueError
        Wrong number of axes, wrong height/width, no images, values that are
        not finite, or outside [0, 1] for the Bernoulli likelihood.
    """
    dtype = np.dtype(x.dtype.as_numpy_dtype) if _is_tensor(x) else getattr(x, "dtype", None)
    if dtype is None:
        x = np.asarray(x)
        dtype = x.dtype
    dtype = np.dtype(dtype)
    if dtype.kind in "iub":
        raise TypeError(
            f"`{name}` has dtype {dtype}; the VAE expects floating-point images with values in [0, 1]. "
            f"Convert it with `{name}.astype('float32') / 255` (for 8-bit images), or use "
            "vaeface_utils.data.load_faces, which returns float32 in [0, 1]."
        )
    if dtype.kind != "f":
        raise TypeError(f"`{name}` must be a float array of images; got dtype {dtype}.")
    shape = tuple(x.shape)
    want = tuple(image_shape) if image_shape is not None else None
    if len(shape) == 3 and (want is None or shape[1:] == want[:2]):
        raise ValueError(
            f"`{name}` has shape {shape}: 3 axes, but images must be (n, height, width, 1) with a channel "
            f"axis. Add it with `{name}[..., None]` (or np.expand_dims({name}, -1))."
        )
    if len(shape) != 4:
        raise ValueError(
            f"`{name}` must have 4 axes (n, height, width, 1); got shape {shape}. For a single image "
            f"use `{name}[None]`."
        )
    if shape[0] == 0:
        raise ValueError(f"`{name}` holds no images (shape {shape}); pass at least one.")
    if want is not None and shape[1:] != want:
        raise ValueError(
            f"This VAE was built for images of shape {want}; `{name}` has images of shape {shape[1:]}. "
            f"Resize them (e.g. load_faces(size={want[:2]})) or build a new VAE with "
            f"image_shape={shape[1:]}."
        )
    values = x.numpy() if _is_tensor(x) else np.asarray(x)
    lo, hi = float(np.min(values)), float(np.max(values))
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"`{name}` contains NaN or infinite values; remove or replace them before training.")
    if likelihood == "bernoulli" and (lo < 0.0 or hi > 1.0):
        raise ValueError(
            f"`{name}` has values from {lo:.4g} to {hi:.4g}, but the Bernoulli likelihood needs pixel values "
            f"in [0, 1]. Rescale: divide 8-bit images by 255, or use "
            f"({name} - {name}.min()) / ({name}.max() - {name}.min())."
        )
