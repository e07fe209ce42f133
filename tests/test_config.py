"""Fast mode, seeding and where data and caches live."""

import os
import random
import subprocess
import sys
from pathlib import Path

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
    # From a checkout the default is its data/ folder; installed elsewhere (Colab), a folder at home.
    root = config.repo_root()
    assert config.default_data_home() == (root / "data" if root is not None else Path.home() / "vaeface_data")
    monkeypatch.setattr(config, "repo_root", lambda: None)
    assert config.default_data_home() == Path.home() / "vaeface_data"


def test_cache_dir_is_separate_and_configurable(monkeypatch, tmp_path):
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "cache"))
    assert config.cache_dir() == tmp_path / "cache" and (tmp_path / "cache").is_dir()


def test_environment_report_names_what_the_course_needs():
    report = config.environment()
    assert report["keras"].startswith("3.") and report["keras backend"] == "tensorflow"
    assert report["fast mode"] in {"on", "off"} and int(report["cpus"]) >= 1


def _import_keras_with_fake_tensorflow(tmp_path, body):
    """Run config.import_keras() in a fresh Python whose `tensorflow` is a fake package."""
    import subprocess
    import sys

    fake = tmp_path / "fake"
    (fake / "tensorflow").mkdir(parents=True, exist_ok=True)
    (fake / "tensorflow" / "__init__.py").write_text(body)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake), str(Path(config.__file__).parent.parent)]),
           "TMPDIR": str(tmp_path)}
    code = "from vaeface_utils import config\ntry:\n    config.import_keras()\nexcept ImportError as e:\n    print('ImportError:', e)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_import_keras_shows_the_real_cause_and_what_tensorflow_said(tmp_path):
    run = _import_keras_with_fake_tensorflow(tmp_path, (
        "import os\n"
        "os.write(2, b'I0000 00:00:1.0 port.cc:153] oneDNN custom operations are on.\\n')\n"
        "os.write(2, b'E0000 00:00:1.0 loader.cc:1] could not load libfoo.so\\n')\n"
        "raise ImportError('libfoo.so: cannot open shared object file')\n"))
    assert "TensorFlow could not be imported (ImportError: libfoo.so: cannot open shared object file)" in run.stdout
    assert "could not load libfoo.so" in run.stdout and "oneDNN" not in run.stdout + run.stderr
    assert "is not installed" not in run.stdout


def test_import_keras_names_a_missing_tensorflow(tmp_path):
    run = _import_keras_with_fake_tensorflow(
        tmp_path, "raise ModuleNotFoundError(\"No module named 'tensorflow'\", name='tensorflow')\n")
    assert "TensorFlow is not installed" in run.stdout and "pip install" in run.stdout


def test_a_fatal_message_during_import_is_shown_on_the_next_call(tmp_path):
    fatal = "import os\nos.write(2, b'F0000 cpu_feature_guard.cc:1] compiled to use AVX, not available\\n')\nos.abort()\n"
    first = _import_keras_with_fake_tensorflow(tmp_path, fatal)
    assert first.returncode != 0  # the process ended, as TensorFlow's fatal error ends it
    second = _import_keras_with_fake_tensorflow(tmp_path, "raise ImportError('still broken')\n")
    assert "An earlier attempt to import TensorFlow ended its process" in second.stderr
    assert "compiled to use AVX, not available" in second.stderr


@pytest.mark.parametrize("name, read", [(config.DATA_ENV, config.data_home), (config.CACHE_ENV, config.cache_dir)])
def test_a_relative_folder_in_the_environment_is_refused_with_the_fix(monkeypatch, name, read):
    monkeypatch.setenv(name, "somewhere/relative")
    with pytest.raises(ValueError, match=f"{name} must be an absolute path; got 'somewhere/relative'.*PWD"):
        read()


def test_the_scripts_make_relative_folders_absolute(tmp_path):
    import subprocess

    snippet = Path(__file__).resolve().parent.parent / "scripts" / "absolute_paths.sh"
    env = {**os.environ, "VAEFACE_DATA": "faces", "VAEFACE_CACHE": "/abs/cache"}
    run = subprocess.run(["bash", "-c", f'set -euo pipefail; . "{snippet}"; echo "$VAEFACE_DATA|$VAEFACE_CACHE"'],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.stdout.strip() == f"{tmp_path}/faces|/abs/cache", run.stderr
    del env["VAEFACE_CACHE"]
    run = subprocess.run(["bash", "-c", f'set -euo pipefail; . "{snippet}"; echo "${{VAEFACE_CACHE-unset}}"'],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.stdout.strip() == "unset", run.stderr


def test_another_error_during_import_shows_what_tensorflow_said_and_is_not_called_a_crash(tmp_path):
    broken = ("import os\nos.write(2, b'E0000 00:00:1.0 proto.cc:1] descriptor mismatch\\n')\n"
              "raise AttributeError('module has no attribute Descriptor')\n")
    first = _import_keras_with_fake_tensorflow(tmp_path, broken)
    assert "AttributeError: module has no attribute Descriptor" in first.stderr  # raised as it was
    assert "descriptor mismatch" in first.stderr
    second = _import_keras_with_fake_tensorflow(tmp_path, "raise ImportError('still broken')\n")
    assert "ended its process" not in second.stderr
    assert not list(tmp_path.glob("vaeface-tensorflow-import-*"))  # nothing left behind


def test_an_import_in_progress_in_another_process_is_not_taken_for_a_crash(tmp_path, monkeypatch):
    """Two kernels starting at once: the second must neither report nor delete the first's capture."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        log = tmp_path / "vaeface-tensorflow-import-capture.log"
        log.write_text("E0000 loader.cc:1] still loading\n")
        marker = config._crash_marker(pid=running.pid)
        marker.write_text(str(log))
        config._report_crashed_import()
        assert log.exists() and marker.exists()  # left alone: its process is alive
    finally:
        running.kill()
        running.wait()
    config._report_crashed_import()
    assert not log.exists() and not marker.exists()  # its process is gone: reported and cleaned up
