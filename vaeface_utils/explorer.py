"""An interactive latent explorer: sliders over latent dimensions, the decoded face beside them.

Needs ipywidgets (installed with the course) and a running notebook to move
the sliders; a static figure (a traversal grid) should sit beside it for
readers of the rendered book, where widgets are not live.
"""

from __future__ import annotations

import io

import numpy as np

__all__ = ["latent_explorer"]


def _png(image: np.ndarray) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    plt.imsave(buffer, np.clip(image, 0.0, 1.0), cmap="gray", vmin=0.0, vmax=1.0, format="png")
    return buffer.getvalue()


def latent_explorer(decode, z_start, dims, *, limit: float = 3.0, step: float = 0.1, size: int = 192):
    """Sliders for chosen latent dimensions and the face they decode to.

    Parameters
    ----------
    decode : callable
        Maps codes of shape ``(n, latent_dim)`` to images ``(n, H, W, 1)`` in
        [0, 1], e.g. ``vae.decode``.
    z_start : array_like, shape (latent_dim,)
        The code the sliders start from (e.g. a test face's posterior mean);
        the other dimensions stay fixed there.
    dims : sequence of int
        The latent dimensions to put on sliders (e.g. the most active).
    limit : float, default 3.0
        Each slider runs from ``-limit`` to ``+limit`` (prior standard
        deviations), widened if the start value lies outside.
    step : float, default 0.1
    size : int, default 192
        Width and height of the shown face, in screen pixels.

    Returns
    -------
    ipywidgets.HBox
        The sliders and the image. ``box.sliders`` lists the sliders and
        ``box.code()`` returns the current code, so the explorer can be
        driven and tested without a screen.

    Raises
    ------
    ValueError
        If ``z_start`` is not 1-D or a dimension is out of range.
    """
    import ipywidgets as widgets

    z_start = np.asarray(z_start, dtype=np.float32)
    if z_start.ndim != 1:
        raise ValueError(f"`z_start` must be one code of shape (latent_dim,); got shape {z_start.shape}. "
                         "Pass vae.encode(x)[0], not the whole batch.")
    dims = [int(d) for d in dims]
    bad = [d for d in dims if not 0 <= d < len(z_start)]
    if not dims or bad:
        raise ValueError(f"`dims` must name 1 or more latent dimensions in 0..{len(z_start) - 1}; got {dims}.")

    sliders = []
    for d in dims:
        bound = max(limit, abs(float(z_start[d])))
        sliders.append(widgets.FloatSlider(value=float(z_start[d]), min=-bound, max=bound, step=step,
                                           description=f"z[{d}]", continuous_update=False, readout_format="+.1f"))
    image = widgets.Image(format="png", width=size, height=size)

    def code() -> np.ndarray:
        z = z_start.copy()
        for d, slider in zip(dims, sliders):
            z[d] = slider.value
        return z

    def render(_change=None) -> None:
        image.value = _png(np.asarray(decode(code()[None]))[0, ..., 0])

    for slider in sliders:
        slider.observe(render, names="value")
    render()
    reset = widgets.Button(description="reset")
    reset.on_click(lambda _button: [setattr(s, "value", float(z_start[d])) for d, s in zip(dims, sliders)])
    box = widgets.HBox([widgets.VBox([*sliders, reset]), image])
    box.sliders, box.image, box.code = sliders, image, code
    return box
