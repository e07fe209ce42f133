"""The AT&T/ORL "Database of Faces": loading, checking and per-person splits.

Dataset card
------------
Source
    AT&T Laboratories Cambridge (formerly the Olivetti Research Laboratory),
    photographed 1992-1994; cite Samaria & Harter (1994). See ``data/README.md``
    for where to get it and its terms.
Classes
    40 people (identities 0-39, from the folders ``s1`` ... ``s40``).
Samples
    10 images per person, 400 in all: varied lighting, expression (open or
    closed eyes, smiling or not) and details (glasses or not), upright and
    frontal with some tilt and turn, against a dark even background.
Original format
    Binary PGM (``P5``), 92 x 112 pixels, 8-bit grey.
Returned format
    ``images``: float32 in [0, 1], shape ``(400, H, W, 1)`` (64 x 64 by
    default, resized with anti-aliasing); ``identity``: int64 in 0-39.

Two layouts are read: the original archive unpacked anywhere
(``orl_faces/s1/1.pgm`` ...) and scikit-learn's 64 x 64 Olivetti copy of the
same 400 images (:func:`sklearn.datasets.fetch_olivetti_faces`), which is
downloaded only when nothing is found locally.
"""

from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from . import config
from ._validate import int_in

__all__ = [
    "N_SUBJECTS",
    "IMAGES_PER_SUBJECT",
    "ORL_SHAPE",
    "FaceData",
    "Split",
    "DataNotFoundError",
    "read_pgm",
    "load_faces",
    "load_orl",
    "load_olivetti",
    "manual_route",
    "verify_orl_checksums",
    "split_per_identity",
    "repeated_splits",
]

#: People in the database and images of each.
N_SUBJECTS = 40
IMAGES_PER_SUBJECT = 10
#: (height, width) of the original images.
ORL_SHAPE = (112, 92)

_CHECKSUMS = Path(__file__).with_name("orl_faces.sha256")


class DataNotFoundError(FileNotFoundError):
    """No copy of the faces was found, and none could be downloaded."""


@dataclass(frozen=True)
class FaceData:
    """Face images with their identities.

    Attributes
    ----------
    images : ndarray of float32, shape (n, H, W, 1)
        Grey levels scaled to [0, 1].
    identity : ndarray of int64, shape (n,)
        The person in each image, 0 to 39.
    description : str
        One line on where the images came from and how they were prepared.
    source : {"orl", "olivetti"}
        Which layout was read.
    """

    images: np.ndarray
    identity: np.ndarray
    description: str
    source: str

    def __len__(self) -> int:
        return len(self.identity)

    def __repr__(self) -> str:
        n, h, w, _ = self.images.shape
        return f"FaceData({n} images of {len(np.unique(self.identity))} people, {h}x{w}, source={self.source!r})"


@dataclass(frozen=True)
class Split:
    """Indices of one per-person split into training, validation and test images.

    Attributes
    ----------
    train, val, test : ndarray of int64
        Indices into the data set, sorted; ``val`` is empty when no validation
        images were asked for.
    seed : int
        The seed that drew this split.
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    seed: int = field(default=0)

    def __repr__(self) -> str:
        return f"Split(train={len(self.train)}, val={len(self.val)}, test={len(self.test)}, seed={self.seed})"


# --------------------------------------------------------------------------
# Reading images


def read_pgm(path: str | os.PathLike) -> np.ndarray:
    """Read one binary (``P5``) 8-bit PGM image.

    Parameters
    ----------
    path : path-like
        The ``.pgm`` file.

    Returns
    -------
    ndarray of uint8, shape (height, width)

    Raises
    ------
    ValueError
        If the file is not a binary 8-bit PGM or is truncated; the message
        names the file.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] != b"P5":
        raise ValueError(
            f"{path} is not a binary PGM image (it starts with {raw[:2]!r}, not b'P5'). "
            "Replace it with the file from the original archive."
        )
    # Header: magic, width, height, maxval, separated by whitespace, with
    # optional '#' comments; then exactly one whitespace byte before the pixels.
    fields: list[bytes] = []
    pos = 2
    while len(fields) < 3:
        while pos < len(raw) and raw[pos : pos + 1].isspace():
            pos += 1
        if raw[pos : pos + 1] == b"#":
            end = raw.find(b"\n", pos)
            pos = len(raw) if end < 0 else end + 1
            continue
        start = pos
        while pos < len(raw) and not raw[pos : pos + 1].isspace():
            pos += 1
        if start == pos:
            raise ValueError(f"{path} has a truncated PGM header. Replace it with the file from the original archive.")
        fields.append(raw[start:pos])
    try:
        width, height, maxval = (int(f) for f in fields)
    except ValueError:
        raise ValueError(f"{path} has a malformed PGM header {fields!r}. Replace it with the original file.") from None
    if not (0 < maxval < 256):
        raise ValueError(f"{path} is not an 8-bit PGM (maxval {maxval}); the ORL images are 8-bit grey.")
    pos += 1  # the single whitespace byte after maxval
    n_pixels = width * height
    if len(raw) - pos < n_pixels:
        raise ValueError(
            f"{path} is truncated: {len(raw) - pos} bytes of pixels, expected {n_pixels} "
            f"for {width}x{height}. Replace it with the file from the original archive."
        )
    return np.frombuffer(raw, dtype=np.uint8, count=n_pixels, offset=pos).reshape(height, width)


def _resize(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a stack (n, h, w) of floats to (n, *size) with anti-aliasing."""
    if images.shape[1:] == tuple(size):
        return images
    from skimage.transform import resize

    # One call for the whole stack: the first axis keeps its length, so its
    # smoothing sigma is 0 and images do not bleed into each other.
    sigma = [0.0] + [max(0.0, (old / new - 1) / 2) for old, new in zip(images.shape[1:], size)]
    return resize(images, (len(images), *size), order=1, mode="reflect", anti_aliasing=True,
                  anti_aliasing_sigma=sigma, preserve_range=True)


def _check_size(size) -> tuple[int, int]:
    try:
        h, w = (int(s) for s in size)
    except (TypeError, ValueError):
        raise TypeError(f"`size` must be a pair (height, width) of ints; got {size!r}. Use (64, 64).") from None
    if h < 8 or w < 8 or (h, w) != tuple(size):
        raise ValueError(f"`size` must be two ints >= 8; got {size!r}. Use (64, 64), the course's default.")
    return h, w


def _finish(images_u8_or_float: np.ndarray, identity: np.ndarray, size, description: str, source: str) -> FaceData:
    images = np.asarray(images_u8_or_float, dtype=np.float32)
    if images_u8_or_float.dtype == np.uint8:
        images = images / np.float32(255.0)
    images = _resize(images, size).astype(np.float32, copy=False)
    np.clip(images, 0.0, 1.0, out=images)
    h, w = size
    return FaceData(images[..., None], identity.astype(np.int64), f"{description}, resized to {h}x{w}", source)


# --------------------------------------------------------------------------
# The original layout


def _orl_folder(path: Path) -> Path:
    """Accept the ``orl_faces`` folder itself or a folder that holds it."""
    if not path.exists():
        raise FileNotFoundError(
            f"The face folder {path} does not exist. Pass the folder that holds s1 ... s40 "
            f"(or its parent), or set {config.DATA_ENV} to a folder that holds orl_faces/."
        )
    if not path.is_dir():
        raise NotADirectoryError(
            f"{path} is a file, not a folder. Unpack the archive and pass the folder that holds s1 ... s40."
        )
    if (path / "orl_faces").is_dir() and not (path / "s1").exists():
        return path / "orl_faces"
    return path


def load_orl(path: str | os.PathLike, *, size=(64, 64), verify: bool = True) -> FaceData:
    """Load the ORL faces from the original layout, checking every file.

    Parameters
    ----------
    path : path-like
        The folder that holds ``s1`` ... ``s40`` (or a folder that holds
        ``orl_faces/``).
    size : (int, int), default (64, 64)
        Target (height, width); the 92 x 112 originals are resized with
        anti-aliasing. ``(112, 92)`` keeps them as they are.
    verify : bool, default True
        Compare every file's SHA-256 with the published archive's, so that a
        damaged or edited copy is caught. Turn off only for other copies of the
        same layout (the tests' small fixtures).

    Returns
    -------
    FaceData

    Raises
    ------
    FileNotFoundError
        The folder does not exist, is empty, or a subject folder or image is
        missing.
    NotADirectoryError
        The path is a file.
    ValueError
        A subject folder holds other files or another number of images; a
        file is not a PGM, is truncated, or differs in size from the others;
        a checksum differs.
    """
    size = _check_size(size)
    folder = _orl_folder(Path(path))
    entries = sorted(p.name for p in folder.iterdir())
    if not entries:
        raise FileNotFoundError(
            f"The face folder {folder} is empty. Unpack the ORL archive there, so that it holds s1 ... s40."
        )
    missing = [f"s{i}" for i in range(1, N_SUBJECTS + 1) if not (folder / f"s{i}").is_dir()]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise FileNotFoundError(
            f"{folder} is not the ORL layout: {len(missing)} of the {N_SUBJECTS} subject folders are missing "
            f"({shown}). Expected s1 ... s40, each with 1.pgm ... 10.pgm; unpack the whole archive again."
        )
    expected = {f"{j}.pgm" for j in range(1, IMAGES_PER_SUBJECT + 1)}
    pixels, shape, shape_file = [], None, None
    for i in range(1, N_SUBJECTS + 1):
        subject = folder / f"s{i}"
        names = {p.name for p in subject.iterdir()}
        strangers = sorted(names - expected)
        if strangers:
            raise ValueError(
                f"{subject} holds files that are not its 10 images: {', '.join(strangers[:5])}. "
                "Move them out of the face folder (nothing is skipped silently)."
            )
        absent = sorted(expected - names, key=lambda n: int(n.split('.')[0]))
        if absent:
            raise FileNotFoundError(
                f"{subject} holds {len(names)} images, expected {IMAGES_PER_SUBJECT}: "
                f"missing {', '.join(absent)}. Unpack the whole archive again."
            )
        for j in range(1, IMAGES_PER_SUBJECT + 1):
            file = subject / f"{j}.pgm"
            image = read_pgm(file)
            if shape is None:
                shape, shape_file = image.shape, file
            elif image.shape != shape:
                raise ValueError(
                    f"{file} is {image.shape[1]}x{image.shape[0]} pixels but {shape_file} is "
                    f"{shape[1]}x{shape[0]}; every image must have the same size. Replace it with the original."
                )
            pixels.append(image)
    if verify:
        verify_orl_checksums(folder)
    images = np.stack(pixels)
    identity = np.repeat(np.arange(N_SUBJECTS), IMAGES_PER_SUBJECT)
    description = (
        f"AT&T/ORL Database of Faces (original layout): {len(images)} images of {N_SUBJECTS} people, "
        f"{shape[1]}x{shape[0]} 8-bit PGM"
    )
    return _finish(images, identity, size, description, "orl")


def verify_orl_checksums(folder: str | os.PathLike) -> None:
    """Check every image against the SHA-256 list of the published archive.

    Raises
    ------
    ValueError
        Naming the files whose contents differ.
    """
    folder = Path(folder)
    wrong = []
    for line in _CHECKSUMS.read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        relative = name.split("/", 1)[1]  # "orl_faces/s1/1.pgm" -> "s1/1.pgm"
        if hashlib.sha256((folder / relative).read_bytes()).hexdigest() != digest:
            wrong.append(relative)
    if wrong:
        raise ValueError(
            f"{len(wrong)} image(s) in {folder} differ from the published archive "
            f"({', '.join(wrong[:5])}{' ...' if len(wrong) > 5 else ''}): the copy is damaged or edited. "
            "Unpack the archive again, or pass verify=False for a deliberately different copy."
        )


# --------------------------------------------------------------------------
# scikit-learn's Olivetti copy


def load_olivetti(*, data_home=None, size=(64, 64), download_if_missing: bool = True,
                  timeout: float = 30.0) -> FaceData:
    """Load scikit-learn's 64 x 64 Olivetti copy of the same 400 faces.

    Parameters
    ----------
    data_home : path-like, optional
        Where scikit-learn caches the download; default the course's data
        folder (see :func:`vaeface_utils.config.data_home`).
    size : (int, int), default (64, 64)
    download_if_missing : bool, default True
    timeout : float, default 30
        Seconds to wait on the network before giving up.

    Raises
    ------
    DataNotFoundError
        Not cached and the download failed or was not allowed.
    """
    from sklearn.datasets import fetch_olivetti_faces

    size = _check_size(size)
    home = config.data_home(data_home)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        bunch = fetch_olivetti_faces(data_home=str(home), download_if_missing=download_if_missing, n_retries=1)
    except OSError as error:  # includes URLError and "data not found" from scikit-learn
        why = (f"could not be downloaded: {_download_failure(error)}" if download_if_missing
               else "no download was tried (download_if_missing=False)")
        raise DataNotFoundError(
            f"scikit-learn's Olivetti faces are not cached in {home}, and {why}. {manual_route()}"
        ) from error
    finally:
        socket.setdefaulttimeout(previous)
    description = "Olivetti faces (scikit-learn's 64x64 copy of the AT&T/ORL database): 400 images of 40 people"
    return _finish(bunch.images.astype(np.float32), bunch.target, size, description, "olivetti")


def _download_failure(error: OSError) -> str:
    """What went wrong with a download, in words a student can act on."""
    from urllib.error import HTTPError, URLError

    if isinstance(error, HTTPError):
        return (f"the server answered HTTP {error.code} {error.reason} for {error.url} (the host sometimes "
                "refuses automated downloads; trying again later may work)")
    if isinstance(error, URLError):
        return f"no connection to the download server ({error.reason}); is this machine offline or behind a proxy?"
    if isinstance(error, (TimeoutError, socket.timeout)):
        return "the download timed out"
    return f"{type(error).__name__}: {error}"


def manual_route() -> str:
    """How to get the faces by hand, with the folder to unpack them into on this machine."""
    target = config.default_data_home() / "orl_faces"
    return (
        "To get the faces by hand, download the AT&T/ORL archive (att_faces.zip, also called orl_faces.zip; "
        "linked from https://cam-orl.co.uk/facedatabase.html and kept by many data set mirrors) and unpack it "
        f"so that {target / 's1' / '1.pgm'} exists, or unpack it anywhere and set {config.DATA_ENV} to the "
        "folder that holds orl_faces/. See data/README.md."
    )


# --------------------------------------------------------------------------
# The one entry point


def load_faces(path: str | os.PathLike | None = None, *, data_home=None, size=(64, 64),
               download_if_missing: bool = True, verify: bool = True) -> FaceData:
    """Load the 400 faces from wherever they are, in a fixed order of places.

    Where it looks, in order:

    1. ``path``, if given: the ORL folder (or a folder holding ``orl_faces/``).
       Nothing else is tried when it is wrong.
    2. ``$VAEFACE_DATA/orl_faces`` (or ``data_home/orl_faces``).
    3. ``orl_faces/`` in the repository's ``data/`` folder.
    4. scikit-learn's Olivetti copy, cached in the data folder, downloaded if
       missing and allowed.

    Parameters
    ----------
    path : path-like, optional
    data_home : path-like, optional
        Overrides ``VAEFACE_DATA``.
    size : (int, int), default (64, 64)
        Target (height, width), resized with anti-aliasing.
    download_if_missing : bool, default True
    verify : bool, default True
        Check the ORL files' SHA-256 (see :func:`load_orl`).

    Returns
    -------
    FaceData
        ``images`` float32 in [0, 1] of shape ``(400, H, W, 1)``,
        ``identity`` int64 in 0-39, and a ``description`` of the source.

    Raises
    ------
    DataNotFoundError
        Nothing found anywhere; the message lists where it looked and how to
        fix it.

    Examples
    --------
    >>> faces = load_faces()                      # doctest: +SKIP
    >>> faces.images.shape, faces.identity.max()  # doctest: +SKIP
    ((400, 64, 64, 1), 40 - 1)
    """
    if path is not None:
        return load_orl(path, size=size, verify=verify)
    homes = [config.data_home(data_home), config.default_data_home()]
    looked = []
    for home in dict.fromkeys(homes):  # unique, in order
        candidate = home / "orl_faces"
        looked.append(str(candidate))
        if candidate.is_dir():
            return load_orl(candidate, size=size, verify=verify)
    try:
        return load_olivetti(data_home=homes[0] if data_home or os.environ.get(config.DATA_ENV) else homes[1],
                             size=size, download_if_missing=download_if_missing)
    except DataNotFoundError as error:
        raise DataNotFoundError(
            "No face data found. Looked for the ORL folder in: " + "; ".join(looked)
            + f"; then for scikit-learn's Olivetti copy: {error} "
            "Or pass load_faces(path=...), or let scikit-learn download and cache its copy "
            "(a machine with network access; try again later if its host refused)."
        ) from None


# --------------------------------------------------------------------------
# Splits


def _check_identity(identity) -> np.ndarray:
    identity = np.asarray(identity)
    if identity.ndim != 1 or identity.size == 0 or not np.issubdtype(identity.dtype, np.integer):
        raise ValueError(
            f"`identity` must be a non-empty 1-D array of ints; got shape {identity.shape} "
            f"and dtype {identity.dtype}. Pass FaceData.identity."
        )
    return identity


def split_per_identity(identity, n_train: int = 5, *, n_val: int = 0, seed: int = 0) -> Split:
    """Draw ``n_train`` images of each person for training, the rest for testing.

    ORL's standard protocol is ``n_train = 5``: 200 training and 200 test
    images. ``n_val`` of each person's training images are set aside for
    validation (so training keeps ``n_train - n_val``). The same seed gives
    the same split on every machine (NumPy's PCG64 generator).

    Parameters
    ----------
    identity : array_like of int, shape (n,)
    n_train : int, default 5
        Images of each person for training (and validation); between 1 and
        one less than the fewest images anyone has.
    n_val : int, default 0
        How many of those ``n_train`` go to validation instead; less than
        ``n_train``.
    seed : int, default 0

    Returns
    -------
    Split

    Raises
    ------
    ValueError
        ``n_train`` or ``n_val`` out of range, or ``identity`` not 1-D ints.
    """
    identity = _check_identity(identity)
    people, counts = np.unique(identity, return_counts=True)
    if isinstance(n_train, bool) or not isinstance(n_train, (int, np.integer)) or not 1 <= n_train < counts.min():
        raise ValueError(
            f"`n_train` must be an int from 1 to {counts.min() - 1} (the fewest images of one person, "
            f"{counts.min()}, minus one test image); got {n_train!r}. ORL's standard is 5."
        )
    if isinstance(n_val, bool) or not isinstance(n_val, (int, np.integer)) or not 0 <= n_val < n_train:
        raise ValueError(
            f"`n_val` must be an int from 0 to n_train - 1 = {n_train - 1}; got {n_val!r}. "
            "Use 0 for no validation images."
        )
    rng = np.random.default_rng(seed)
    train, val, test = [], [], []
    for person in people:
        chosen = rng.permutation(np.flatnonzero(identity == person))
        val.append(chosen[:n_val])
        train.append(chosen[n_val:n_train])
        test.append(chosen[n_train:])
    as_sorted = lambda parts: np.sort(np.concatenate(parts)).astype(np.int64)  # noqa: E731
    return Split(as_sorted(train), as_sorted(val), as_sorted(test), seed=int(seed))


def repeated_splits(identity, n_train: int = 5, *, n_splits: int = 10, n_val: int = 0,
                    seed: int = 0) -> Iterator[Split]:
    """Yield ``n_splits`` independent random splits, for confidence intervals.

    Split ``i`` uses the seed ``seed + i``, so any one of them can be
    reproduced alone with :func:`split_per_identity`.

    Raises
    ------
    ValueError
        ``n_splits`` is not an int >= 1 (and as :func:`split_per_identity`).
    """
    int_in(n_splits, "n_splits", 1, None, "Use 10 for the usual protocol.")
    identity = _check_identity(identity)
    split_per_identity(identity, n_train, n_val=n_val, seed=seed)  # bad arguments fail here, not mid-loop
    return (split_per_identity(identity, n_train, n_val=n_val, seed=seed + i) for i in range(int(n_splits)))
