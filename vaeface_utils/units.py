"""Units of log-likelihoods: nats, bits per dimension, and the discretisation correction.

Log-likelihoods in the course are in nats per image. Papers report bits per
dimension (per pixel); :func:`nats_to_bits_per_dim` and
:func:`bits_per_dim_to_nats` convert, and :func:`discretization_correction_nats`
is what turns a density over continuous grey values into a probability of
8-bit pixel values. NumPy only.
"""

from __future__ import annotations

import math
from numbers import Integral

from ._validate import array as _array
from ._validate import positive_int as _positive_int

__all__ = ["nats_to_bits_per_dim", "bits_per_dim_to_nats", "discretization_correction_nats"]


def _n_dims(n_dims):
    return _positive_int(n_dims, "n_dims", fix="Pass the number of pixels per image, e.g. 64 * 64 * 1.")


def nats_to_bits_per_dim(nats, n_dims):
    r"""Convert nats per example to bits per dimension: ``nats / (n_dims * ln 2)``.

    Bits per dimension are usually reported for the negative log-likelihood
    (or negative ELBO), so pass ``-log_px`` to get the familiar positive number;
    the sign is kept as given.

    Parameters
    ----------
    nats : float or array_like, float
        An amount in nats per example.
    n_dims : int >= 1
        Dimensions per example, e.g. pixels per image ``H * W * channels``.

    Returns
    -------
    bits_per_dim : float64 or ndarray
        Same shape as ``nats``.

    Raises
    ------
    ValueError
        If ``n_dims`` is not an int >= 1 or ``nats`` is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(nats_to_bits_per_dim(4096 * np.log(2.0), 4096)), 6)
    1.0
    """
    nats = _array(nats, "nats")
    return nats / (_n_dims(n_dims) * math.log(2.0))


def bits_per_dim_to_nats(bpd, n_dims):
    r"""Convert bits per dimension to nats per example: ``bpd * n_dims * ln 2``.

    The inverse of :func:`nats_to_bits_per_dim`.

    Parameters
    ----------
    bpd : float or array_like, float
        Bits per dimension.
    n_dims : int >= 1
        Dimensions per example.

    Returns
    -------
    nats : float64 or ndarray
        Same shape as ``bpd``.

    Raises
    ------
    ValueError
        If ``n_dims`` is not an int >= 1 or ``bpd`` is not finite.

    Examples
    --------
    >>> round(float(bits_per_dim_to_nats(8.0, 1)), 6)  # 8 bits = log(256) nats
    5.545177
    """
    bpd = _array(bpd, "bpd")
    return bpd * (_n_dims(n_dims) * math.log(2.0))


def discretization_correction_nats(n_dims, n_levels=256):
    r"""``n_dims * log(n_levels)``: the nats between a density on [0, 1] and one per grey level.

    A continuous model of 8-bit images scaled to [0, 1] assigns a *density*
    ``p(y)`` to ``y = (x_int + u) / 256`` (``x_int`` in ``{0, ..., 255}^D``,
    uniform dequantisation noise ``u`` in ``[0, 1)^D``). The probability it
    gives the discrete image is the integral of ``p`` over that image's bin,
    a cube of side ``1/256``:

    .. math::

        \log P(x_{\mathrm{int}}) = \log \int_{\mathrm{bin}} p(y)\,dy
        = \log \mathbb E_u\big[p(y)\big] - D \log 256
        \;\ge\; \mathbb E_u\big[\log p(y)\big] - D \log 256 ,

    with equality when ``p`` is constant on each bin (approximately, when it
    varies little within ``1/256``). So to report a discrete log-likelihood
    (or bits per dimension comparable with other papers, which use the 0-255
    scale), **subtract** this correction from the [0, 1]-scale log density:
    ``log p_discrete ~= log p_[0,1] - D log 256``; in bits per dimension, **add**
    ``log2(256) = 8``. A log density on [0, 1] can be positive and its bits per
    dimension negative; after the correction neither can happen.

    Parameters
    ----------
    n_dims : int >= 1
        Dimensions per example ``D`` (pixels times channels).
    n_levels : int >= 2, default 256
        Grey levels per dimension (256 for 8-bit data).

    Returns
    -------
    float
        ``n_dims * log(n_levels)`` in nats per example.

    Raises
    ------
    ValueError
        If ``n_dims`` is not an int >= 1 or ``n_levels`` not an int >= 2.

    Examples
    --------
    >>> round(discretization_correction_nats(1), 6)  # log 256 nats = 8 bits
    5.545177
    """
    n_dims = _n_dims(n_dims)
    if isinstance(n_levels, bool) or not isinstance(n_levels, Integral) or n_levels < 2:
        raise ValueError(f"`n_levels` must be an int >= 2; got {n_levels!r}. Use 256 for 8-bit images.")
    return n_dims * math.log(int(n_levels))
