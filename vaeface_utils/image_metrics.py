"""How sharp an image is, and how alike two images are.

:func:`gradient_energy`
    The mean squared finite difference of each image: blur lowers it.
:func:`radial_power_spectrum` and :func:`high_frequency_fraction`
    How much of an image's contrast sits at each spatial frequency, and in
    fine detail.
:func:`ssim`
    scikit-image's structural similarity, one value per pair of images.
:func:`squared_error` and :func:`nearest_rmse`
    The mean squared pixel difference of each image from its own
    reconstruction, and the root mean squared difference from each image to
    the nearest of a set of reference images (e.g. the training faces).

Images are arrays of shape ``(n, H, W, 1)`` (or ``(n, H, W)``) with grey
values in [0, 1]. The functions leave their inputs unchanged and return
float64 values, except :func:`squared_error`, which computes in the dtype of
its inputs. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import numpy as np

from . import _validate as _v

__all__ = ["gradient_energy", "radial_power_spectrum", "high_frequency_fraction", "ssim", "squared_error",
           "nearest_rmse"]


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
    x = _v.images(images)
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
    x = _v.images(images)
    n_bins = _v.integer(n_bins, "n_bins", low=1, fix="Use e.g. 16.")
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
    x = _v.images(images)
    cutoff = _v.number(cutoff, "cutoff", low=0.0, high=0.5, fix="Use e.g. 0.25 (a period of 4 pixels).")
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

    a = _v.images(images_a, "images_a")
    b = _v.images(images_b, "images_b")
    if a.shape != b.shape:
        raise ValueError(f"`images_a` and `images_b` must have the same shape, one pair per row; got {a.shape} "
                         f"and {b.shape}. Compare each image with its own reconstruction.")
    if min(a.shape[1:]) < 7:
        raise ValueError(f"SSIM uses a 7 x 7 window, so images must be at least 7 x 7; got {a.shape[1:]}.")
    return np.array([structural_similarity(p, q, data_range=1.0) for p, q in zip(a, b)])

def squared_error(images, reconstructions):
    """The mean squared pixel difference of each image from its reconstruction.

    Computed as ``mean((reconstructions - images) ** 2)`` over each image's
    pixels, in the dtype NumPy gives the two arrays (float32 for float32
    images), so that it matches the same expression written out.

    Parameters
    ----------
    images, reconstructions : array_like of float, shape (n, H, W, 1) or (n, H, W)
        The same shape; row ``i`` of ``reconstructions`` reconstructs row ``i`` of ``images``.

    Returns
    -------
    ndarray of float, shape (n,)
        In grey levels squared.

    Raises
    ------
    ValueError
        Bad images (see :func:`gradient_energy`) or different shapes.

    Examples
    --------
    >>> squared_error(np.zeros((2, 2, 2, 1)), np.full((2, 2, 2, 1), 0.5)).tolist()
    [0.25, 0.25]
    """
    for name, value in (("images", images), ("reconstructions", reconstructions)):
        _v.images(value, name)
    x, r = np.asarray(images), np.asarray(reconstructions)
    if x.shape != r.shape:
        raise ValueError(f"`images` and `reconstructions` must have the same shape, one reconstruction per image; "
                         f"got {x.shape} and {r.shape}. Pass reconstructions = vae.reconstruct(images).")
    return np.mean((r - x) ** 2, axis=tuple(range(1, x.ndim)))


def nearest_rmse(images, references):
    """Root mean squared pixel difference from each image to the nearest reference image.

    For each image, the smallest Euclidean distance to any of ``references``
    (scikit-learn's ``pairwise_distances``), divided by the square root of
    the number of pixels: how far, in grey levels per pixel, the image lies
    from the closest of, say, the training faces.

    Parameters
    ----------
    images : array_like of float, shape (n, H, W, 1) or (n, H, W)
    references : array_like of float, shape (m, H, W, 1) or (m, H, W)
        The same image size as ``images``.

    Returns
    -------
    ndarray of float64, shape (n,)

    Raises
    ------
    ValueError
        Bad images, or references of another image size.

    Examples
    --------
    >>> nearest_rmse(np.full((1, 2, 2), 0.5), np.stack([np.zeros((2, 2)), np.ones((2, 2)) * 0.4])).round(6).tolist()
    [0.1]
    """
    from sklearn.metrics import pairwise_distances

    x = _v.images(images)
    ref = _v.images(references, "references")
    if x.shape[1:] != ref.shape[1:]:
        raise ValueError(f"`images` and `references` must be images of one size; got {x.shape[1:]} and "
                         f"{ref.shape[1:]}. Compare faces loaded at the same size.")
    flat = x.reshape(len(x), -1)
    return pairwise_distances(flat, ref.reshape(len(ref), -1)).min(axis=1) / np.sqrt(flat.shape[1])
