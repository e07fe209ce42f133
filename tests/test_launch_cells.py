"""Colab and Binder launch cells: present, built from the one repository URL, harmless.

The URL lives only in ``[project.urls] Repository`` of pyproject.toml;
``scripts/launch_cells.py`` builds every badge link and the Colab install line
from it, and these tests fail when a notebook's launch cells differ from what
the script would write now.
"""

import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
IPYNB = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
sys.path.insert(0, str(ROOT / "scripts"))

import launch_cells  # noqa: E402  (scripts/launch_cells.py)


def _tagged(notebook):
    return [c for c in notebook.cells if launch_cells.LAUNCH_TAG in c.metadata.get("tags", [])]


@pytest.mark.parametrize("ipynb", IPYNB, ids=[p.stem for p in IPYNB])
def test_notebook_has_exactly_the_generated_launch_cells(ipynb):
    notebook = nbformat.read(ipynb, as_version=4)
    wanted = launch_cells.launch_cells(ipynb.name)
    found = notebook.cells[1:3]
    assert [(c.cell_type, c.source, c.metadata.get("tags")) for c in found] == [
        (c.cell_type, c.source, c.metadata["tags"]) for c in wanted
    ], f"{ipynb.name}: launch cells out of date; run `python scripts/launch_cells.py notebooks/{ipynb.name}`"
    assert len(_tagged(notebook)) == 2, f"{ipynb.name}: more than one set of launch cells"
    assert found[1].outputs == [], f"{ipynb.name}: the Colab cell must have no stored output"
    _, changed = launch_cells.with_launch_cells(notebook, ipynb.name)
    assert not changed, "the script would change this notebook"


@pytest.mark.parametrize("ipynb", IPYNB, ids=[p.stem for p in IPYNB])
def test_badges_open_this_notebook(ipynb):
    badges = nbformat.read(ipynb, as_version=4).cells[1].source
    owner_repo = launch_cells.owner_repo()
    assert f"https://colab.research.google.com/github/{owner_repo}/blob/main/notebooks/{ipynb.name})" in badges
    assert f"https://mybinder.org/v2/gh/{owner_repo}/main?urlpath=lab/tree/notebooks/{ipynb.name})" in badges
    assert (NOTEBOOKS / ipynb.name).is_file()


def test_repository_url_is_read_from_pyproject(tmp_path):
    assert launch_cells.repository_url() == "https://github.com/vaeface/vaeface"
    other = tmp_path / "pyproject.toml"
    other.write_text('[project]\nname = "x"\n\n[project.urls]\nRepository = "https://github.com/me/fork.git"\n')
    assert launch_cells.owner_repo(launch_cells.repository_url(other)) == "me/fork"
    cells = launch_cells.launch_cells("00_start_here.ipynb", launch_cells.repository_url(other))
    assert "colab.research.google.com/github/me/fork/blob/main/notebooks/00_start_here.ipynb" in cells[0].source
    assert "mybinder.org/v2/gh/me/fork/main?urlpath=lab/tree/notebooks/00_start_here.ipynb" in cells[0].source
    assert "vaeface-utils @ git+https://github.com/me/fork@main" in cells[1].source
    assert "vaeface/vaeface" not in cells[0].source + cells[1].source


@pytest.mark.parametrize(
    "text, message",
    [('[project]\nname = "x"\n', "no \\[project.urls\\] Repository"),
     ('[project.urls]\nRepository = "https://gitlab.com/a/b"\n', "must be https://github.com/OWNER/REPO")],
)
def test_bad_repository_url_is_an_error(tmp_path, text, message):
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(ValueError, match=message):
        launch_cells.repository_url(tmp_path / "pyproject.toml")


def _run_colab_cell(monkeypatch, on_colab):
    calls = []
    monkeypatch.setattr(subprocess, "check_call", lambda *a, **k: calls.append((a, k)))
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append((a, k)))
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: calls.append((a, k)))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    code = launch_cells.launch_cells("00_start_here.ipynb")[1].source
    exec(compile(code, "<launch cell>", "exec"), {})
    return calls


def test_colab_cell_does_nothing_outside_colab(monkeypatch, capsys):
    assert _run_colab_cell(monkeypatch, on_colab=False) == []
    assert capsys.readouterr() == ("", ""), "the cell must print nothing, or nbval would see an output"


def test_colab_cell_installs_only_the_helper_package_on_colab(monkeypatch):
    calls = _run_colab_cell(monkeypatch, on_colab=True)
    assert len(calls) == 1
    (command,), _ = calls[0]
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    packages = [arg for arg in command[4:] if not arg.startswith("-")]
    assert packages == ["vaeface-utils @ git+https://github.com/vaeface/vaeface@main"]
    assert "--upgrade" not in command and "-U" not in command, "must not upgrade Colab's packages"


def test_helper_package_does_not_pull_tensorflow():
    """What Colab installs must not replace its TensorFlow: no TensorFlow in the core dependencies."""
    try:
        import tomllib
    except ModuleNotFoundError:
        pytest.skip("tomllib needs Python 3.11+")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.lower().startswith("tensorflow")]


def test_apply_is_idempotent_and_keeps_outputs(tmp_path):
    source = nbformat.read(NOTEBOOKS / "00_start_here.ipynb", as_version=4)
    source.cells = [c for c in source.cells if launch_cells.LAUNCH_TAG not in c.metadata.get("tags", [])]
    path = tmp_path / "00_start_here.ipynb"
    nbformat.write(source, path)
    assert launch_cells.apply(path) is True
    first = path.read_text()
    assert launch_cells.apply(path) is False
    assert path.read_text() == first
    result = nbformat.read(path, as_version=4)
    paired = jupytext.read(launch_cells.paired_script(path))
    assert [c.source for c in paired.cells] == [c.source for c in result.cells], "the .py pair was not synced"
    assert len(result.cells) == len(source.cells) + 2
    assert [c.get("outputs") for c in result.cells[3:]] == [c.get("outputs") for c in source.cells[1:]]


def test_readme_badges_are_the_generated_ones():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Binder and Colab", 1)[1].split("\n## ", 1)[0]
    assert launch_cells.badges_markdown("00_start_here.ipynb") in section, (
        "README.md's Binder and Colab badges differ from the repository URL in pyproject.toml; "
        "paste `python -c 'import sys; sys.path.insert(0, \"scripts\"); import launch_cells; "
        "print(launch_cells.badges_markdown(\"00_start_here.ipynb\"))'` into that section."
    )
