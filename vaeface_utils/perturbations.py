"""Perturbations of face images, one nuisance factor at a time.

:func:`shift`, :func:`rotate`, :func:`illumination_gradient` and
:func:`occlude` each change one thing about a face that is not who it is:
where it sits, how it is turned, how it is lit, what covers it.
:func:`perturb` applies one of :data:`PERTURBATIONS` by name at a given
strength, which is how notebook 05 sweeps them.

Images are arrays of shape ``(n, H, W, 1)`` (or ``(n, H, W)``) with grey
values in [0, 1]; every function returns float64 images in the layout it was
given and leaves its input unchanged. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import numpy as np

from . import _validate as _v

__all__ = ["PERTURBATIONS", "shift", "rotate", "illumination_gradient", "occlude", "perturb"]

#: The perturbations :func:`perturb` knows: name -> the unit of its strength.
PERTURBATIONS = {
    "shift": "pixels to the right",
    "rotation": "degrees, anticlockwise",
    "illumination": "gain difference across the face",
    "occlusion": "side of a black square, pixels",
}


def shift(images, dx=0, dy=0):
    """Move each image ``dx`` pixels to the right and ``dy`` pixels down, repeating the edge.

    The pixels that come into view are copies of the nearest edge pixel (the
    background continues), so no black band appears.

    Parameters
    ----------
    images : array_like of float, shape (n, H, W, 1) or (n, H, W)
    dx, dy : int, default 0
        Whole pixels; negative moves left or up. ``|dx| < W``, ``|dy| < H``.

    Returns
    -------
    ndarray of float64, the shape of ``images``

    Raises
    ------
    ValueError
        Bad images, or a shift that is not an int or moves the image out of view.

    Examples
    --------
    >>> shift(np.arange(4.0).reshape(1, 1, 4), dx=1).tolist()
    [[[0.0, 0.0, 1.0, 2.0]]]
    """
    x = _v.images(images)
    _, h, w = x.shape
    dx = _v.integer(dx, "dx", low=-(w - 1), high=w - 1, fix="Pass whole pixels smaller than the image's width.")
    dy = _v.integer(dy, "dy", low=-(h - 1), high=h - 1, fix="Pass whole pixels smaller than the image's height.")
    padded = np.pad(x, ((0, 0), (abs(dy), abs(dy)), (abs(dx), abs(dx))), mode="edge")
    top, left = abs(dy) - dy, abs(dx) - dx
    return _v.like(padded[:, top:top + h, left:left + w], images)


def rotate(images, degrees=0.0):
    """Rotate each image about its centre, anticlockwise, by ``degrees``.

    ``scipy.ndimage.rotate`` with linear interpolation, the same size out
    (``reshape=False``), and the nearest edge pixel repeated where the
    rotated image does not reach (the background continues).

    Parameters
    ----------
    images : array_like of float, shape (n, H, W, 1) or (n, H, W)
    degrees : float, default 0.0
        Between -360 and 360.

    Returns
    -------
    ndarray of float64, the shape of ``images``

    Raises
    ------
    ValueError
        Bad images or ``degrees``.

    Examples
    --------
    >>> x = np.arange(4.0).reshape(1, 2, 2)
    >>> np.allclose(rotate(x, 90)[0], np.rot90(x[0]))
    True
    """
    from scipy import ndimage

    x = _v.images(images)
    degrees = _v.number(degrees, "degrees", low=-360.0, high=360.0, fix="Use e.g. 10 for a slight tilt.")
    if degrees == 0.0:
        return _v.like(x.copy(), images)
    out = ndimage.rotate(x, degrees, axes=(2, 1), reshape=False, order=1, mode="nearest")
    return _v.like(out, images)


def illumination_gradient(images, strength=0.0):
    """Light each face from the right: a gain rising linearly from left to right.

    Column ``j`` of ``W`` is multiplied by ``1 + strength * (2 j / (W - 1) - 1)``,
    from ``1 - strength`` at the left edge to ``1 + strength`` at the right
    (so the mean gain is 1), and the result clipped to [0, 1].

    Parameters
    ----------
    images : array_like of float, shape (n, H, W, 1) or (n, H, W)
        W at least 2.
    strength : float, default 0.0
        From 0 (no change) to 1 (the left edge goes black).

    Returns
    -------
    ndarray of float64, the shape of ``images``, in [0, 1]

    Raises
    ------
    ValueError
        Bad images or ``strength`` outside [0, 1].

    Examples
    --------
    >>> illumination_gradient(np.full((1, 1, 3), 0.5), strength=0.5).tolist()
    [[[0.25, 0.5, 0.75]]]
    """
    x = _v.images(images)
    strength = _v.number(strength, "strength", low=0.0, high=1.0, fix="Use e.g. 0.4.")
    if x.shape[2] < 2:
        raise ValueError(f"`images` must be at least 2 pixels wide for a gradient; got width {x.shape[2]}.")
    gain = 1.0 + strength * np.linspace(-1.0, 1.0, x.shape[2])
    return _v.like(np.clip(x * gain[None, None, :], 0.0, 1.0), images)


def occlude(images, size=0, *, value=0.0, seed=0):
    """Cover a ``size`` x ``size`` square of each image, at a seeded random place.

    Each image gets its own position, drawn uniformly among those that keep
    the square inside the image, from ``numpy.random.default_rng(seed)``: the
    same seed covers the same places.

    Parameters
    ----------
    images : array_like of float, shape (n, H, W, 1) or (n, H, W)
    size : int, default 0
        Side of the square in pixels, from 0 (no change) to ``min(H, W)``.
    value : float, default 0.0
        The grey level it is filled with (0 is black), in [0, 1].
    seed : int, default 0

    Returns
    -------
    ndarray of float64, the shape of ``images``

    Raises
    ------
    ValueError
        Bad images, ``size``, ``value`` or ``seed``.

    Examples
    --------
    >>> int((occlude(np.ones((1, 8, 8)), size=3) == 0).sum())
    9
    """
    x = _v.images(images)
    _, h, w = x.shape
    size = _v.integer(size, "size", low=0, high=min(h, w), fix="Pass a side in pixels no larger than the image.")
    value = _v.number(value, "value", low=0.0, high=1.0, fix="Use 0 for black.")
    seed = _v.integer(seed, "seed", low=0, fix="Use 0.")
    out = x.copy()
    if size:
        rng = np.random.default_rng(seed)
        rows = rng.integers(0, h - size + 1, size=len(x))
        cols = rng.integers(0, w - size + 1, size=len(x))
        for image, r, c in zip(out, rows, cols):
            image[r:r + size, c:c + size] = value
    return _v.like(out, images)


def perturb(images, kind, strength, *, seed=0):
    """Apply one of :data:`PERTURBATIONS` by name, at one strength.

    ============  ==========================================================
    kind          what ``strength`` means
    ============  ==========================================================
    shift         :func:`shift` by ``dx = strength`` pixels (an int)
    rotation      :func:`rotate` by ``strength`` degrees
    illumination  :func:`illumination_gradient` with this ``strength``
    occlusion     :func:`occlude` with a black square of side ``strength`` (an int), seeded
    ============  ==========================================================

    Parameters
    ----------
    images : array_like of float, shape (n, H, W, 1) or (n, H, W)
    kind : str
        One of :data:`PERTURBATIONS`.
    strength : int or float
    seed : int, default 0
        Used by ``"occlusion"`` only.

    Returns
    -------
    ndarray of float64, the shape of ``images``

    Raises
    ------
    ValueError
        An unknown ``kind`` (the message lists the known ones), or as the
        function it calls.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((2, 8, 8, 1))
    >>> all(np.array_equal(perturb(x, kind, 0), x) for kind in PERTURBATIONS)
    True
    """
    if not isinstance(kind, str) or kind not in PERTURBATIONS:
        raise ValueError(f"Unknown `kind` {kind!r}; the known perturbations are {list(PERTURBATIONS)}.")
    if kind == "shift":
        return shift(images, dx=strength)
    if kind == "rotation":
        return rotate(images, strength)
    if kind == "illumination":
        return illumination_gradient(images, strength)
    return occlude(images, strength, seed=seed)