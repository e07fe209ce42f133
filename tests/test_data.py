"""Loading the faces: both layouts, every bad input, splits and their determinism."""

import inspect
import shutil
import urllib.error

import numpy as np
import pytest

from vaeface_utils import config, data
from vaeface_utils.data import DataNotFoundError, load_faces, load_orl, read_pgm, repeated_splits, split_per_identity


def write_pgm(path, pixels, header=None):
    pixels = np.asarray(pixels, dtype=np.uint8)
    h, w = pixels.shape
    head = header if header is not None else f"P5\n{w} {h}\n255\n".encode()
    path.write_bytes(head + pixels.tobytes())


@pytest.fixture
def tiny_orl(tmp_path):
    """A synthetic copy of the ORL layout: 40 people x 10 images of 12 x 10 pixels."""
    rng = np.random.default_rng(0)
    root = tmp_path / "orl_faces"
    for i in range(1, 41):
        (root / f"s{i}").mkdir(parents=True)
        for j in range(1, 11):
            write_pgm(root / f"s{i}" / f"{j}.pgm", rng.integers(0, 256, size=(12, 10)))
    (root / "README").write_text("the database's own README may sit at the top")
    return root


# ---------------------------------------------------------------- reading PGM


def test_read_pgm_matches_the_bytes_and_skips_comments(tmp_path):
    pixels = np.arange(20, dtype=np.uint8).reshape(4, 5)
    write_pgm(tmp_path / "a.pgm", pixels, header=b"P5\n# a comment\n5 4\n255\n")
    np.testing.assert_array_equal(read_pgm(tmp_path / "a.pgm"), pixels)


def test_read_pgm_rejects_other_formats_and_truncation(tmp_path):
    (tmp_path / "ascii.pgm").write_bytes(b"P2\n2 2\n255\n0 1 2 3\n")
    with pytest.raises(ValueError, match=r"ascii\.pgm is not a binary PGM"):
        read_pgm(tmp_path / "ascii.pgm")
    write_pgm(tmp_path / "short.pgm", np.zeros((4, 5)))
    (tmp_path / "short.pgm").write_bytes((tmp_path / "short.pgm").read_bytes()[:-3])
    with pytest.raises(ValueError, match=r"short\.pgm is truncated: 17 bytes of pixels, expected 20"):
        read_pgm(tmp_path / "short.pgm")
    (tmp_path / "sixteen.pgm").write_bytes(b"P5\n1 1\n65535\n\x00\x00")
    with pytest.raises(ValueError, match="not an 8-bit PGM"):
        read_pgm(tmp_path / "sixteen.pgm")


# ---------------------------------------------------------- the original layout


def test_load_orl_layout_shapes_range_and_labels(tiny_orl):
    faces = load_orl(tiny_orl, size=(16, 16), verify=False)
    assert faces.images.shape == (400, 16, 16, 1)
    assert faces.images.dtype == np.float32
    assert 0.0 <= faces.images.min() and faces.images.max() <= 1.0
    np.testing.assert_array_equal(faces.identity, np.repeat(np.arange(40), 10))
    assert faces.source == "orl"
    assert "40 people" in faces.description and "10x12" in faces.description


def test_load_orl_keeps_pixels_exactly_at_the_original_size(tiny_orl):
    faces = load_orl(tiny_orl, size=(12, 10), verify=False)
    expected = read_pgm(tiny_orl / "s3" / "7.pgm") / 255.0
    np.testing.assert_allclose(faces.images[2 * 10 + 6, :, :, 0], expected, atol=1e-7)


def test_load_orl_accepts_the_parent_folder(tiny_orl):
    faces = load_orl(tiny_orl.parent, size=(16, 16), verify=False)
    assert len(faces) == 400


def test_resizing_is_anti_aliased():
    """A fine checkerboard averages to grey when shrunk, and images do not mix."""
    board = (np.indices((112, 92)).sum(axis=0) % 2).astype(np.float32)
    stack = np.stack([board, np.zeros_like(board)])
    small = data._resize(stack, (16, 16))
    assert small.shape == (2, 16, 16)
    assert abs(small[0].mean() - 0.5) < 0.02 and small[0].std() < 0.05
    assert np.all(small[1] == 0.0)


@pytest.mark.parametrize(
    "damage, error, message",
    [
        (lambda root: shutil.rmtree(root / "s17"), FileNotFoundError, r"1 of the 40 subject folders are missing \(s17\)"),
        (lambda root: (root / "s5" / "10.pgm").unlink(), FileNotFoundError, r"s5 holds 9 images, expected 10: missing 10\.pgm"),
        (lambda root: (root / "s2" / "notes.txt").write_text("x"), ValueError, r"s2 holds files that are not its 10 images: notes\.txt"),
        (lambda root: (root / "s2" / "11.pgm").write_bytes(b"P5\n10 12\n255\n" + bytes(120)), ValueError, r"not its 10 images: 11\.pgm"),
        (lambda root: (root / "s9" / "4.pgm").write_bytes(b"\x89PNG\r\n\x1a\n"), ValueError, r"s9.4\.pgm is not a binary PGM"),
        (lambda root: (root / "s9" / "4.pgm").write_bytes(b"P5\n10 12\n255\n" + bytes(50)), ValueError, r"s9.4\.pgm is truncated"),
        (lambda root: write_pgm(root / "s30" / "2.pgm", np.zeros((13, 10))), ValueError, r"s30.2\.pgm is 10x13 pixels but .*s1.1\.pgm is 10x12"),
    ],
    ids=["subject-missing", "image-missing", "stray-file", "extra-image", "not-pgm", "truncated", "other-size"],
)
def test_bad_layouts_name_the_file_and_the_fix(tiny_orl, damage, error, message):
    damage(tiny_orl)
    with pytest.raises(error, match=message):
        load_orl(tiny_orl, verify=False)


def test_missing_empty_and_file_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_orl(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="is empty"):
        load_orl(tmp_path / "empty")
    (tmp_path / "file.zip").write_bytes(b"PK")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        load_orl(tmp_path / "file.zip")


def test_checksums_catch_an_edited_copy(tiny_orl):
    with pytest.raises(ValueError, match=r"400 image\(s\) in .* differ from the published archive"):
        load_orl(tiny_orl, verify=True)


@pytest.mark.parametrize("size", [(64,), "64", (4, 4), (64.5, 64)])
def test_bad_size(tiny_orl, size):
    with pytest.raises((TypeError, ValueError), match="`size` must be"):
        load_orl(tiny_orl, size=size, verify=False)


# ----------------------------------------------------------- where to look


def test_load_faces_order_argument_then_environment(tiny_orl, tmp_path, monkeypatch):
    monkeypatch.setenv(config.DATA_ENV, str(tiny_orl.parent))
    assert len(load_faces(size=(16, 16), verify=False)) == 400
    # An explicit path wins, and a wrong one is an error, not a fallback.
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_faces(tmp_path / "nowhere", verify=False)


def test_nothing_found_offline_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(config.DATA_ENV, str(tmp_path))
    monkeypatch.setattr(config, "default_data_home", lambda: tmp_path / "repo_data")
    with pytest.raises(DataNotFoundError) as info:
        load_faces(download_if_missing=False)
    message = str(info.value)
    assert str(tmp_path / "orl_faces") in message and str(tmp_path / "repo_data" / "orl_faces") in message
    assert "VAEFACE_DATA" in message and "data/README.md" in message


@pytest.mark.parametrize("failure, says", [
    (lambda: urllib.error.HTTPError("https://example.org/olivetti.mat", 403, "Forbidden", {}, None),
     "HTTP 403 Forbidden"),
    (lambda: urllib.error.URLError("Name or service not known"), "no connection to the download server"),
    (lambda: TimeoutError("timed out"), "timed out"),
])
def test_a_failed_download_names_the_cause_and_the_manual_route(tmp_path, monkeypatch, failure, says):
    from sklearn import datasets

    def fake_fetch(**kwargs):
        raise failure()

    monkeypatch.setattr(datasets, "fetch_olivetti_faces", fake_fetch)
    monkeypatch.setenv(config.DATA_ENV, str(tmp_path))
    monkeypatch.setattr(config, "default_data_home", lambda: tmp_path / "home")
    with pytest.raises(DataNotFoundError) as info:
        load_faces()
    message = str(info.value)
    assert says in message and "att_faces.zip" in message
    assert str(tmp_path / "home" / "orl_faces" / "s1" / "1.pgm") in message and "VAEFACE_DATA" in message


def test_olivetti_cache_is_read_without_network(tmp_path, monkeypatch):
    """scikit-learn's cached copy is used when no ORL folder is found."""
    from sklearn import datasets

    rng = np.random.default_rng(1)

    class Bunch:
        images = rng.random((400, 64, 64)).astype(np.float32)
        target = np.repeat(np.arange(40), 10)

    calls = []
    real_signature = inspect.signature(datasets.fetch_olivetti_faces)

    def fake_fetch(**kwargs):
        real_signature.bind(**kwargs)  # fails as the installed scikit-learn would, on an argument it lacks
        calls.append((kwargs["data_home"], kwargs["download_if_missing"]))
        return Bunch

    monkeypatch.setattr(datasets, "fetch_olivetti_faces", fake_fetch)
    monkeypatch.setenv(config.DATA_ENV, str(tmp_path))
    faces = load_faces(download_if_missing=False)
    assert faces.source == "olivetti" and faces.images.shape == (400, 64, 64, 1)
    np.testing.assert_allclose(faces.images[..., 0], Bunch.images)
    assert calls == [(str(tmp_path), False)]
    assert load_faces(size=(32, 32), download_if_missing=False).images.shape == (400, 32, 32, 1)


# ------------------------------------------------------------------ splits


identity = np.repeat(np.arange(40), 10)


def test_split_is_per_person_disjoint_and_complete():
    split = split_per_identity(identity, 5, n_val=1, seed=3)
    assert (len(split.train), len(split.val), len(split.test)) == (160, 40, 200)
    everything = np.concatenate([split.train, split.val, split.test])
    assert len(np.unique(everything)) == 400
    for part, k in [(split.train, 4), (split.val, 1), (split.test, 5)]:
        assert np.all(np.bincount(identity[part], minlength=40) == k)


def test_same_seed_same_split_and_a_pinned_value():
    a, b = split_per_identity(identity, 5, seed=7), split_per_identity(identity, 5, seed=7)
    np.testing.assert_array_equal(a.train, b.train)
    assert not np.array_equal(a.train, split_per_identity(identity, 5, seed=8).train)
    # Pinned so that a change of generator or algorithm shows up: every
    # machine must draw the same split for the same seed.
    assert split_per_identity(identity, 5, seed=0).train[:10].tolist() == [2, 3, 4, 6, 7, 10, 12, 13, 16, 19]


def test_repeated_splits_use_consecutive_seeds():
    splits = list(repeated_splits(identity, 3, n_splits=4, seed=10))
    assert [s.seed for s in splits] == [10, 11, 12, 13]
    np.testing.assert_array_equal(splits[2].test, split_per_identity(identity, 3, seed=12).test)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_train=0), r"`n_train` must be an int from 1 to 9"),
        (dict(n_train=10), r"`n_train` must be an int from 1 to 9"),
        (dict(n_train=5, n_val=5), r"`n_val` must be an int from 0 to n_train - 1 = 4"),
        (dict(n_train=2.0), r"`n_train` must be an int"),
    ],
)
def test_split_arguments_out_of_range(kwargs, message):
    with pytest.raises(ValueError, match=message):
        split_per_identity(identity, **kwargs)


def test_repeated_splits_check_arguments_before_iterating():
    with pytest.raises(ValueError, match="`n_splits` must be an int >= 1"):
        repeated_splits(identity, 5, n_splits=0)
    with pytest.raises(ValueError, match="`n_train`"):
        repeated_splits(identity, 12)
    with pytest.raises(ValueError, match="`identity` must be a non-empty 1-D array of ints"):
        split_per_identity(np.zeros((4, 2), dtype=int))


# ------------------------------------------------------------ the real faces


def test_the_real_orl_faces_load_and_verify(orl_path):
    faces = load_faces(orl_path)  # checksums on
    assert faces.images.shape == (400, 64, 64, 1)
    assert faces.images.dtype == np.float32
    assert 0.0 <= faces.images.min() < 0.1 and 0.9 < faces.images.max() <= 1.0
    assert "AT&T/ORL" in faces.description
