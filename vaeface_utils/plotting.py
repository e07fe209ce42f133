"""Figures for the course: image grids and training curves.

Each function draws on an Axes (a new one when none is given) and returns it;
none calls ``plt.show()`` or changes matplotlib's global settings.
"""

from __future__ import annotations

import numpy as np

__all__ = ["image_grid", "curves"]


def _new_axes(ax, figsize):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def image_grid(images, *, ax=None, ncols: int = 10, titles=None, title: str | None = None,
               pad: int = 2, fontsize: float = 7):
    """Show a batch of grey images as one grid, with an optional label under each.

    Parameters
    ----------
    images : array_like, shape (n, H, W) or (n, H, W, 1), values in [0, 1]
    ax : matplotlib Axes, optional
    ncols : int, default 10
    titles : sequence of str, optional
        One label per image, drawn below it.
    title : str, optional
        The Axes title: say which split and which people are shown.
    pad : int, default 2
        White pixels between images.

    Returns
    -------
    matplotlib Axes
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(f"`images` must have shape (n, H, W) or (n, H, W, 1) with n >= 1; got {images.shape}.")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"`titles` has {len(titles)} labels for {len(images)} images; give one per image.")
    n, h, w = images.shape
    ncols = max(1, min(int(ncols), n))
    nrows = -(-n // ncols)
    canvas = np.ones((nrows * (h + pad) + pad, ncols * (w + pad) + pad), dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, ncols)
        canvas[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = image
    ax = _new_axes(ax, figsize=(1.0 * ncols, 1.1 * nrows + 0.4))
    ax.imshow(canvas, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if titles is not None:
        for i, label in enumerate(titles):
            r, c = divmod(i, ncols)
            ax.text(pad + c * (w + pad) + w / 2, pad + r * (h + pad) + h - 1, str(label), ha="center",
                    va="bottom", fontsize=fontsize, color="white",
                    bbox=dict(boxstyle="square,pad=0.1", facecolor="black", alpha=0.6, linewidth=0))
    if title:
        ax.set_title(title)
    return ax


def curves(history: dict, keys, *, ax=None, xlabel: str = "epoch", ylabel: str = "nats per image",
           title: str | None = None):
    """Plot named per-epoch curves from a Keras ``History.history`` dict.

    Parameters
    ----------
    history : dict of str to sequence of float
    keys : sequence of str
        Which curves to draw; each must be in ``history``.
    ax : matplotlib Axes, optional
    xlabel, ylabel, title : str

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    ValueError
        If a key is not in ``history``.
    """
    missing = [k for k in keys if k not in history]
    if missing:
        raise ValueError(f"{missing} not in the history; it has {sorted(history)}. Pick `keys` from those.")
    ax = _new_axes(ax, figsize=(6, 4))
    for key in keys:
        values = np.asarray(history[key], dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, label=key)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax
