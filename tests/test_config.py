"""Fast mode, seeding and where data and caches live."""

import random

import numpy as np
import pytest

from vaeface_utils import config


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("ON", True), ("0", False), ("", False), ("no", False)])
def test_fast_mode_reads_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv(config.FAST_ENV, value)
    assert config.fast_mode() is expected


def test_fast_mode_rejects_a_typo(monkeypatch):
    monkeypatch.setenv(config.FAST_ENV, "yes please")
    with pytest.raises(ValueError, match="VAEFACE_FAST must be 1 or 0"):
        config.fast_mode()


def test_seed_everything_seeds_python_numpy_and_keras():
    keras = config.import_keras()

    def draw():
        return random.random(), np.random.rand(), float(keras.random.normal(()))

    config.seed_everything(3)
    first = draw()
    config.seed_everything(3)
    assert draw() == first
    config.seed_everything(4)
    assert draw() != first


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_seed_must_be_a_non_negative_int(seed):
    with pytest.raises(ValueError, match="`seed` must be an int >= 0"):
        config.seed_everything(seed)


def test_data_home_order(monkeypatch, tmp_path):
    monkeypatch.setenv(config.DATA_ENV, str(tmp_path / "env"))
    assert config.data_home(tmp_path / "arg") == tmp_path / "arg"
    assert config.data_home() == tmp_path / "env"
    monkeypatch.delenv(config.DATA_ENV)
    assert config.data_home() == config.default_data_home()
    assert config.repo_root() is not None and config.default_data_home() == config.repo_root() / "data"


def test_cache_dir_is_separate_and_configurable(monkeypatch, tmp_path):
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "cache"))
    assert config.cache_dir() == tmp_path / "cache" and (tmp_path / "cache").is_dir()


def test_environment_report_names_what_the_course_needs():
    report = config.environment()
    assert report["keras"].startswith("3.") and report["keras backend"] == "tensorflow"
    assert report["fast mode"] in {"on", "off"} and int(report["cpus"]) >= 1
