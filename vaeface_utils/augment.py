"""Data augmentation: more training faces made from the ones there are.

Each augmented copy of a training face is mirrored left-right with
probability one half, moved by a whole number of pixels in each direction
(up to ``max_shift``) and turned by an angle drawn uniformly from
``[-max_degrees, max_degrees]``, with the edge pixels repeated where the
moved face leaves a gap (:func:`vaeface_utils.perturbations.shift` and
:func:`~vaeface_utils.perturbations.rotate`). The validation and test faces are
never augmented.

:func:`with_augmented_training` returns the faces with the copies appended and
a split whose training part holds the originals and their copies, so that
:func:`vaeface_utils.model_cache.load_or_train_vae` trains on (and caches) the
augmented set like any other.
"""

from __future__ import annotations

import numpy as np

from .perturbations import rotate, shift
from .data import FaceData, Split
from ._validate import int_in

__all__ = ["augment", "with_augmented_training"]


def augment(images, copies, *, max_shift=2, max_degrees=5.0, flip=True, seed=0):
    """``copies`` randomly moved, turned and mirrored versions of each image.

    Parameters
    ----------
    images : array_like of float, shape (n, H, W, 1)
    copies : int
        Augmented versions per image, >= 1.
    max_shift : int, default 2
        Largest move in pixels, in each direction.
    max_degrees : float, default 5.0
        Largest turn, either way.
    flip : bool, default True
        Mirror left-right with probability one half.
    seed : int, default 0

    Returns
    -------
    ndarray of float32, shape (copies * n, H, W, 1)
        Copy ``k`` of image ``i`` is row ``k * n + i``.

    Examples
    --------
    >>> augment(np.zeros((2, 8, 8, 1)), 3).shape
    (6, 8, 8, 1)
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim != 4 or x.shape[-1] != 1:
        raise ValueError(f"`images` must have shape (n, H, W, 1); got {x.shape}.")
    int_in(copies, "copies", 1, None, "")
    if (not isinstance(max_shift, (int, np.integer)) or isinstance(max_shift, bool)
            or not 0 <= max_shift < min(x.shape[1:3])):
        raise ValueError(f"`max_shift` must be an int from 0 to {min(x.shape[1:3]) - 1}; got {max_shift!r}.")
    if not isinstance(max_degrees, (int, float, np.integer, np.floating)) or not 0 <= float(max_degrees) <= 180:
        raise ValueError(f"`max_degrees` must be between 0 and 180; got {max_degrees!r}.")
    rng = np.random.default_rng(seed)
    out = np.empty((copies * len(x),) + x.shape[1:], dtype=np.float32)
    for k in range(copies):
        for i, image in enumerate(x):
            mirror = rng.random() < 0.5  # drawn even without flips, so the moves match with and without
            face = image[:, ::-1] if flip and mirror else image
            dx, dy = (int(v) for v in rng.integers(-max_shift, max_shift + 1, size=2))
            face = shift(face[None], dx=dx, dy=dy)
            face = rotate(face, float(rng.uniform(-max_degrees, max_degrees)))
            out[k * len(x) + i] = np.clip(face[0], 0.0, 1.0)
    return out


def with_augmented_training(faces, split, copies, *, max_shift=2, max_degrees=5.0, flip=True, seed=0):
    """The faces with augmented copies of the training faces appended, and the split that trains on them.

    Parameters
    ----------
    faces : FaceData
    split : Split
        Its training faces are augmented; validation and test stay as they are.
    copies, max_shift, max_degrees, flip, seed
        As in :func:`augment`.

    Returns
    -------
    (FaceData, Split)
        ``len(faces) + copies * len(split.train)`` images; the split's
        ``train`` holds the original training faces and every copy, its
        ``val`` and ``test`` are unchanged.
    """
    if not isinstance(faces, FaceData) or not isinstance(split, Split):
        raise TypeError("`faces` must be a FaceData and `split` a Split (from load_faces and split_per_identity); "
                        f"got {type(faces).__name__} and {type(split).__name__}.")
    extra = augment(faces.images[split.train], copies, max_shift=max_shift, max_degrees=max_degrees, flip=flip,
                    seed=seed)
    images = np.concatenate([faces.images, extra.astype(faces.images.dtype)])
    identity = np.concatenate([faces.identity, np.tile(faces.identity[split.train], copies)])
    new = np.arange(len(faces), len(images))
    description = (f"{faces.description}; plus {copies} augmented copies of each of the {len(split.train)} training "
                   f"faces (flip={flip}, shifts up to {max_shift} px, turns up to {max_degrees:g} degrees, seed {seed})")
    augmented = FaceData(images=images, identity=identity, description=description, source=faces.source)
    return augmented, Split(train=np.concatenate([split.train, new]), val=split.val, test=split.test, seed=split.seed)
