"""Measuring what a VAE for faces cannot do: blur, collapse, nuisance factors, leaks.

Notebook 05 measures each limitation with one of these:

Sharpness and similarity
    :func:`gradient_energy` (mean squared finite difference per image),
    :func:`radial_power_spectrum` and :func:`high_frequency_fraction` (how
    much of an image's contrast sits in fine detail), and :func:`ssim`
    (scikit-image's structural similarity, one value per image pair).
Perturbations of query images, one nuisance factor at a time
    :func:`shift`, :func:`rotate`, :func:`illumination_gradient` and
    :func:`occlude`, and :func:`perturb`, which applies one of
    :data:`PERTURBATIONS` by name at a given strength.
The latent code
    :func:`latent_activity`, :func:`active_units` and :func:`kl_per_dimension`.
Privacy
    :func:`membership_roc`: how well a score (an ELBO, a negative
    reconstruction error) tells training images from held-out ones.
Comparing two methods on the same queries
    :func:`bootstrap_difference`: the mean per-query difference with a
    bootstrap interval that resamples people, not single images.
Scope
    :data:`QUOTED_LFW`, a published result on a harder benchmark, kept as a
    :class:`~vaeface_utils.recognition.QuotedResult` so that it is never
    mistaken for a measurement.

Images are arrays of shape ``(n, H, W, 1)`` (or ``(n, H, W)``) with grey
values in [0, 1]; every function returns float64 values and leaves its input
unchanged. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from .recognition import QuotedResult

__all__ = [
    "QUOTED_LFW",
    "PERTURBATIONS",
    "ACTIVE_THRESHOLD",
    "gradient_energy",
    "radial_power_spectrum",
    "high_frequency_fraction",
    "ssim",
    "shift",
    "rotate",
    "illumination_gradient",
    "occlude",
    "perturb",
    "latent_activity",
    "active_units",
    "kl_per_dimension",
    "membership_roc",
    "bootstrap_difference",
]

#: The perturbations :func:`perturb` knows: name -> the unit of its strength.
PERTURBATIONS = {
    "shift": "pixels to the right",
    "rotation": "degrees, anticlockwise",
    "illumination": "gain difference across the face",
    "occlusion": "side of a black square, pixels",
}

#: Schroff, Kalenichenko & Philbin (2015), "FaceNet: A Unified Embedding for Face
#: Recognition and Clustering", CVPR: 99.63 % accuracy on Labeled Faces in the
#: Wild (pair verification: same person or not?, with face alignment), a deep
#: network trained on 100 to 200 million face images of about 8 million
#: people. Quoted, not measured.
QUOTED_LFW = QuotedResult("FaceNet", 0.0037, "LFW pair verification (unrestricted, labelled outside data)",
                          "Schroff, Kalenichenko & Philbin, CVPR 2015")

#: A latent dimension is active when its posterior mean varies across images by more than this (variance).
ACTIVE_THRESHOLD = 0.01


# --------------------------------------------------------------------------
# Argument checks


def _images(images, name="images"):
    """``images`` as a float64 array (n, H, W); accepts (n, H, W, 1) and (n, H, W)."""
    try:
        x = np.asarray(images)
    except (TypeError, ValueError):  # pragma: no cover - ragged input
        raise TypeError(f"`{name}` must be an array of images (n, H, W, 1); got {type(images).__name__}.") from None
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise TypeError(f"`{name}` must hold real grey values in [0, 1]; got dtype {x.dtype}. "
                        "Convert 8-bit images with images.astype('float32') / 255.")
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3 or min(x.shape) < 1:
        raise ValueError(f"`{name}` must have shape (n, H, W, 1) or (n, H, W) with n >= 1; got {np.shape(images)}. "
                         f"For one image pass {name}[None].")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"`{name}` holds NaN or infinite values; pass grey values in [0, 1].")
    return x


def _like(result, images):
    """Give ``result`` (n, H, W) the layout of the input (a channel axis if it had one)."""
    return result[..., None] if np.ndim(images) == 4 else result


def _number(value, name, *, low=None, high=None, fix=""):
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number; got {value!r}. {fix}".rstrip())
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"from {low} to {high}" if low is not None and high is not None else \
            (f">= {low}" if low is not None else f"<= {high}")
        raise ValueError(f"`{name}` must be {span}; got {value!r}. {fix}".rstrip())
    return float(value)


def _int(value, name, *, low=None, high=None, fix=""):
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"`{name}` must be an int; got {value!r}. {fix}".rstrip())
    _number(float(value), name, low=low, high=high, fix=fix)
    return int(value)


def _latent(z, name):
    try:
        z = np.asarray(z, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be an array of numbers (n, latent_dim); got {type(z).__name__}.") from None
    if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] < 1:
        raise ValueError(f"`{name}` must have shape (n, latent_dim) with n >= 1; got {z.shape}. "
                         "Use z_mean, z_log_var = vae.posterior(images).")
    if not np.all(np.isfinite(z)):
        raise ValueError(f"`{name}` holds NaN or infinite values; check the encoder (a diverged model?).")
    return z


# --------------------------------------------------------------------------
# Sharpness and similarity


def gradient_energy(images):
    r"""Sharpness: the mean squared finite difference of each image.

    .. math::

        G(x) = \frac{1}{H(W-1)} \sum_{i,j} (x_{i,j+1} - x_{i,j})^2
             + \frac{1}{(H-1)W} \sum_{i,j} (x_{i+1,j} - x_{i,j})^2

    the mean squared horizontal difference plus the mean squared vertical
    one, in (grey levels per pixel) squared. Blurring lowers it; a constant
    image has 0.

    Parameters
    ----------
    images : array_like of float, shape (n, H, W, 1) or (n, H, W)
        H and W at least 2.

    Returns
    -------
    ndarray of float64, shape (n,)

    Raises
    ------
    TypeError
        Not real numbers.
    ValueError
        Not (n, H, W[, 1]), smaller than 2 x 2 pixels, or not finite.

    Examples
    --------
    >>> ramp = np.tile(np.linspace(0.0, 1.0, 11), (5, 1))[None]  # steps of 0.1 to the right
    >>> round(float(gradient_energy(ramp)[0]), 6)
    0.01
    """
    x = _images(images)
    if x.shape[1] < 2 or x.shape[2] < 2:
        raise ValueError(f"`images` must be at least 2 x 2 pixels to have differences; got {x.shape[1:]}.")
    dx = np.diff(x, axis=2)
    dy = np.diff(x, axis=1)
    return (dx ** 2).mean(axis=(1, 2)) + (dy ** 2).mean(axis=(1, 2))


def _power(x):
    """|FFT|^2 of each mean-removed image, and the radial frequency (cycles per pixel) of each bin."""
    n, h, w = x.shape
    x = x - x.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fft2(x)) ** 2 / (h * w)
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    return power, np.sqrt(fx ** 2 + fy ** 2)


def radial_power_spectrum(images, *, n_bins=16):
    """The mean power of the images at each radial spatial frequency.

    Each image's mean is removed, its 2-D discrete Fourier transform taken,
    and the power ``|X(f)|^2 / (H W)`` averaged over the frequencies in each
    of ``n_bins`` rings of width ``0.5 / n_bins`` cycles per pixel (from 0 to
    the Nyquist frequency 0.5; the corners beyond 0.5 are left out), then over
    the images. Blur removes power at high frequencies.

    Parameters
    ----------
    images : array_like of float, shape (n, H, W, 1) or (n, H, W)
    n_bins : int, default 16

    Returns
    -------
    frequency : ndarray of float64, shape (n_bins,)
        The centre of each ring, in cycles per pixel.
    power : ndarray of float64, shape (n_bins,)
        Mean power per frequency in the ring (grey levels squared); NaN for
        a ring that holds no frequency (possible for tiny images only).

    Raises
    ------
    ValueError
        Bad images (see :func:`gradient_energy`) or ``n_bins`` not an int >= 1.

    Examples
    --------
    >>> rows = np.cos(2 * np.pi * 0.3 * np.arange(40))            # 0.3 cycles per pixel
    >>> frequency, power = radial_power_spectrum(np.tile(rows, (40, 1))[None], n_bins=4)
    >>> frequency.tolist(), int(np.argmax(power))
    ([0.0625, 0.1875, 0.3125, 0.4375], 2)
    """
    x = _images(images)
    n_bins = _int(n_bins, "n_bins", low=1, fix="Use e.g. 16.")
    power, radius = _power(x)
    edges = np.linspace(0.0, 0.5, n_bins + 1)
    which = np.digitize(radius, edges[1:-1], right=True)   # ring 0 holds radius <= edges[1]
    inside = radius <= 0.5
    mean_power = power.mean(axis=0)
    out = np.full(n_bins, np.nan)
    for k in range(n_bins):
        mask = inside & (which == k)
        if mask.any():
            out[k] = mean_power[mask].mean()
    return 0.5 * (edges[:-1] + edges[1:]), out


def high_frequency_fraction(images, *, cutoff=0.25):
    """The fraction of each image's contrast (power, mean removed) above a spatial frequency.

    Parameters
    ----------
    images : array_like of float, shape (n, H, W, 1) or (n, H, W)
    cutoff : float, default 0.25
        Radial frequency in cycles per pixel, in (0, 0.5): 0.25 is a period
        of 4 pixels.

    Returns
    -------
    ndarray of float64, shape (n,)
        In [0, 1]; 0 for a constant image (it has no contrast at all).

    Raises
    ------
    ValueError
        Bad images, or ``cutoff`` outside (0, 0.5).

    Examples
    --------
    >>> rows = np.cos(2 * np.pi * 0.375 * np.arange(16))           # period 2.7 pixels: fine detail
    >>> high_frequency_fraction(np.tile(rows, (16, 1))[None]).round(6).tolist()
    [1.0]
    """
    x = _images(images)
    cutoff = _number(cutoff, "cutoff", low=0.0, high=0.5, fix="Use e.g. 0.25 (a period of 4 pixels).")
    if not 0.0 < cutoff < 0.5:
        raise ValueError(f"`cutoff` must be strictly between 0 and 0.5 cycles per pixel; got {cutoff!r}.")
    power, radius = _power(x)
    total = power.sum(axis=(1, 2))
    high = power[:, radius > cutoff].sum(axis=1)
    return np.divide(high, total, out=np.zeros_like(total), where=total > 0)


def ssim(images_a, images_b):
    """Structural similarity of each pair of images, from scikit-image.

    ``skimage.metrics.structural_similarity(a, b, data_range=1.0)`` (Wang et
    al. 2004, a 7 x 7 window), image by image: 1 for identical images, lower
    when local means, contrasts or structure differ.

    Parameters
    ----------
    images_a, images_b : array_like of float, shape (n, H, W, 1) or (n, H, W)
        Grey values in [0, 1]; the same shape; H and W at least 7.

    Returns
    -------
    ndarray of float64, shape (n,)

    Raises
    ------
    ValueError
        Bad images, different shapes, or images smaller than 7 x 7.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((2, 16, 16))
    >>> ssim(x, x).tolist()
    [1.0, 1.0]
    """
    from skimage.metrics import structural_similarity

    a = _images(images_a, "images_a")
    b = _images(images_b, "images_b")
    if a.shape != b.shape:
        raise ValueError(f"`images_a` and `images_b` must have the same shape, one pair per row; got {a.shape} "
                         f"and {b.shape}. Compare each image with its own reconstruction.")
    if min(a.shape[1:]) < 7:
        raise ValueError(f"SSIM uses a 7 x 7 window, so images must be at least 7 x 7; got {a.shape[1:]}.")
    return np.array([structural_similarity(p, q, data_range=1.0) for p, q in zip(a, b)])


# --------------------------------------------------------------------------
# Perturbations of query images


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
    x = _images(images)
    _, h, w = x.shape
    dx = _int(dx, "dx", low=-(w - 1), high=w - 1, fix="Pass whole pixels smaller than the image's width.")
    dy = _int(dy, "dy", low=-(h - 1), high=h - 1, fix="Pass whole pixels smaller than the image's height.")
    padded = np.pad(x, ((0, 0), (abs(dy), abs(dy)), (abs(dx), abs(dx))), mode="edge")
    top, left = abs(dy) - dy, abs(dx) - dx
    return _like(padded[:, top:top + h, left:left + w], images)


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

    x = _images(images)
    degrees = _number(degrees, "degrees", low=-360.0, high=360.0, fix="Use e.g. 10 for a slight tilt.")
    if degrees == 0.0:
        return _like(x.copy(), images)
    out = ndimage.rotate(x, degrees, axes=(2, 1), reshape=False, order=1, mode="nearest")
    return _like(out, images)


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
    x = _images(images)
    strength = _number(strength, "strength", low=0.0, high=1.0, fix="Use e.g. 0.4.")
    if x.shape[2] < 2:
        raise ValueError(f"`images` must be at least 2 pixels wide for a gradient; got width {x.shape[2]}.")
    gain = 1.0 + strength * np.linspace(-1.0, 1.0, x.shape[2])
    return _like(np.clip(x * gain[None, None, :], 0.0, 1.0), images)


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
    x = _images(images)
    _, h, w = x.shape
    size = _int(size, "size", low=0, high=min(h, w), fix="Pass a side in pixels no larger than the image.")
    value = _number(value, "value", low=0.0, high=1.0, fix="Use 0 for black.")
    seed = _int(seed, "seed", low=0, fix="Use 0.")
    out = x.copy()
    if size:
        rng = np.random.default_rng(seed)
        rows = rng.integers(0, h - size + 1, size=len(x))
        cols = rng.integers(0, w - size + 1, size=len(x))
        for image, r, c in zip(out, rows, cols):
            image[r:r + size, c:c + size] = value
    return _like(out, images)


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


# --------------------------------------------------------------------------
# The latent code


def latent_activity(z_mean):
    """How much each latent dimension's posterior mean moves from image to image.

    ``A_j = Var_x(E_q[z_j | x])``, the variance across images of column ``j``
    of ``z_mean`` (Burda et al. 2016).

    Parameters
    ----------
    z_mean : array_like of float, shape (n, latent_dim)

    Returns
    -------
    ndarray of float64, shape (latent_dim,)

    Raises
    ------
    ValueError
        Not 2-D with at least one row, or not finite.
    """
    return _latent(z_mean, "z_mean").var(axis=0)


def active_units(z_mean, threshold=ACTIVE_THRESHOLD):
    """The number of active latent dimensions: ``A_j > threshold``.

    Parameters
    ----------
    z_mean : array_like of float, shape (n, latent_dim)
        Posterior means of ``n`` images (at least two, for a variance).
    threshold : float, default 0.01

    Returns
    -------
    int

    Raises
    ------
    ValueError
        Bad ``z_mean`` or fewer than two images, or ``threshold`` < 0.

    Examples
    --------
    >>> active_units([[0.0, 0.0], [1.0, 0.001]])
    1
    """
    z = _latent(z_mean, "z_mean")
    if len(z) < 2:
        raise ValueError(f"`z_mean` must hold at least 2 images to measure a variance across images; got {len(z)}.")
    threshold = _number(threshold, "threshold", low=0.0, fix="The usual threshold is 0.01.")
    return int(np.sum(latent_activity(z) > threshold))


def kl_per_dimension(z_mean, z_log_var):
    r"""The KL from ``q(z_j | x)`` to ``N(0, 1)`` of each latent dimension, averaged over images.

    .. math::

        \mathrm{KL}_j = \frac1n \sum_x \tfrac12\big(e^{s_j(x)} + m_j(x)^2 - 1 - s_j(x)\big)

    with ``m = z_mean`` and ``s = z_log_var``; the sum over ``j`` is the mean
    KL term of the ELBO. A collapsed dimension has ``KL_j`` near 0.

    Parameters
    ----------
    z_mean, z_log_var : array_like of float, shape (n, latent_dim)

    Returns
    -------
    ndarray of float64, shape (latent_dim,)
        In nats per image; never negative.

    Raises
    ------
    ValueError
        Bad arrays or different shapes.
    """
    m = _latent(z_mean, "z_mean")
    s = _latent(z_log_var, "z_log_var")
    if m.shape != s.shape:
        raise ValueError(f"`z_mean` and `z_log_var` must have the same shape; got {m.shape} and {s.shape}. "
                         "Pass both outputs of vae.posterior(images).")
    return 0.5 * (np.exp(s) + m ** 2 - 1.0 - s).mean(axis=0)


# --------------------------------------------------------------------------
# Privacy


def _scores(scores, name, *, what, per, fix):
    """``scores`` as a finite, non-empty 1-D float64 array, or an error naming ``name``."""
    try:
        s = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be {what}; got {type(scores).__name__}.") from None
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"`{name}` must be a non-empty 1-D array, one score per {per}; got shape {s.shape}.")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"`{name}` holds NaN or infinite scores; {fix}")
    return s


def membership_roc(scores_members, scores_nonmembers):
    """How well a score tells training images (members) from held-out ones: ROC and AUC.

    The attacker guesses "was in the training set" when the score is above a
    threshold; a higher score must mean "more likely a member" (use the ELBO,
    or minus the reconstruction error). The AUC is the probability that a
    random member scores higher than a random non-member (ties count half):
    0.5 is no leak, 1 a complete one.

    Parameters
    ----------
    scores_members : array_like of float, shape (n_members,)
    scores_nonmembers : array_like of float, shape (n_nonmembers,)

    Returns
    -------
    fpr, tpr : ndarray of float64
        ``sklearn.metrics.roc_curve``'s false and true positive rates.
    auc : float
        ``sklearn.metrics.roc_auc_score``.

    Raises
    ------
    ValueError
        An empty or non-1-D score array, or scores that are not finite.

    Examples
    --------
    >>> fpr, tpr, auc = membership_roc([3.0, 2.0], [1.0, 2.0])
    >>> auc
    0.875
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    arrays = [_scores(scores, name, what="an array of numbers", per="image",
                      fix="a diverged model? Check the ELBO first.")
              for name, scores in (("scores_members", scores_members), ("scores_nonmembers", scores_nonmembers))]
    labels = np.r_[np.ones(len(arrays[0])), np.zeros(len(arrays[1]))]
    scores = np.concatenate(arrays)
    fpr, tpr, _ = roc_curve(labels, scores)
    return fpr, tpr, float(roc_auc_score(labels, scores))


# --------------------------------------------------------------------------
# Comparing two methods on the same queries


def bootstrap_difference(correct_a, correct_b, groups, n_resamples=2000, seed=0, *, confidence=0.95):
    """The mean per-query difference ``a - b``, with a bootstrap interval over groups (people).

    Two methods scored on the same queries give paired scores. The queries
    of one person are not independent of each other (an easy person is easy
    for every picture), so the interval resamples whole groups: each
    resample draws as many groups as there are, with replacement, and takes
    the mean difference over every query of the groups drawn (a group drawn
    twice counts twice). The interval is the percentile interval of those
    means.

    Parameters
    ----------
    correct_a, correct_b : array_like of float or bool, shape (n,)
        One score per query for each method, in the same order: 1/0 for a
        right/wrong answer, or a fraction (e.g. the share of perturbed
        versions of the query identified correctly).
    groups : array_like, shape (n,)
        The group of each query, e.g. the person's identity; at least two
        distinct groups.
    n_resamples : int, default 2000
    seed : int, default 0
        Seed of the NumPy generator that draws the groups.
    confidence : float, default 0.95

    Returns
    -------
    mean, low, high : float
        The mean of ``a - b`` over all queries, and the bootstrap interval.

    Raises
    ------
    ValueError
        Arrays that are not 1-D of one length, empty or not finite; fewer
        than two groups; ``n_resamples`` < 1; ``confidence`` outside (0, 1).
    TypeError
        Scores that are not numbers.

    Examples
    --------
    >>> bootstrap_difference([1, 1, 0, 1], [1, 0, 0, 1], ["p", "p", "q", "q"])[0]
    0.25
    """
    a, b = (_scores(scores, name, what="an array of numbers (or booleans), one per query", per="query",
                    fix="pass 1/0 or fractions per query.")
            for name, scores in (("correct_a", correct_a), ("correct_b", correct_b)))
    g = np.asarray(groups)
    if a.shape != b.shape or g.shape != a.shape:
        raise ValueError(f"`correct_a`, `correct_b` and `groups` must have one entry per query, the same queries; "
                         f"got shapes {a.shape}, {b.shape} and {g.shape}.")
    labels, index = np.unique(g, return_inverse=True)
    if len(labels) < 2:
        raise ValueError(f"`groups` must hold at least 2 distinct groups to resample; got {len(labels)}. "
                         "Pass each query's person.")
    n_resamples = _int(n_resamples, "n_resamples", low=1, fix="Use 2000 or more.")
    confidence = _number(confidence, "confidence", low=0.0, high=1.0, fix="Use 0.95.")
    if confidence in (0.0, 1.0):
        raise ValueError(f"`confidence` must be strictly between 0 and 1; got {confidence!r}. Use 0.95.")
    d = a - b
    total = np.bincount(index, weights=d, minlength=len(labels))  # sum of the differences of each group
    count = np.bincount(index, minlength=len(labels)).astype(np.float64)  # queries per group
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, len(labels), size=(n_resamples, len(labels)))
    means = total[drawn].sum(axis=1) / count[drawn].sum(axis=1)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(d.mean()), float(low), float(high)
