"""Put "Open in Colab" and "Binder" launch cells at the top of notebooks.

Each notebook gets two cells right after its title cell, both tagged
``launch`` (and ``remove-cell``, so the rendered book leaves them out and shows
plain launch links instead):

1. a markdown cell with an "Open in Colab" badge and a Binder badge that open
   the notebook's exercise version (``exercises/``, solutions removed; see
   ``scripts/exercises.py``), and two plain links to the version with
   solutions (``notebooks/``);
2. a code cell that does nothing outside Colab, and on Colab installs only
   the helper package from the repository (``vaeface-utils @ git+URL``), whose
   dependencies are version ranges without TensorFlow, so Colab's TensorFlow
   stays in place. Outside Colab it prints nothing, so nbval sees no output.

The repository URL lives in one place, ``[project.urls] Repository`` in
``pyproject.toml``; every link and the install line are built from it. The
script is idempotent: cells tagged ``launch`` are replaced, a notebook that
already has the right cells is left untouched. It writes the ``.ipynb``
(keeping every other cell and its stored outputs) and re-syncs the py:percent
pair with ``jupytext --sync``.

Command line::

    python scripts/launch_cells.py notebooks/00_start_here.ipynb [...]
    python scripts/launch_cells.py --all          # every notebooks/NN_*.ipynb
    python scripts/launch_cells.py --check FILES  # exit 1 if any is out of date
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = REPO_ROOT / "pyproject.toml"
NOTEBOOKS = REPO_ROOT / "notebooks"
BRANCH = "main"
LAUNCH_TAG = "launch"
REMOVE_TAG = "remove-cell"  # the rendered book (scripts/build_book.py) drops these cells
BADGES_ID = "launch-badges"
COLAB_ID = "launch-colab"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"


def repository_url(pyproject=PYPROJECT):
    """The repository's URL, from ``[project.urls] Repository`` in ``pyproject``.

    Returns
    -------
    str
        For example ``"https://github.com/vaeface/vaeface"`` (no trailing slash
        or ``.git``).

    Raises
    ------
    ValueError
        If the entry is missing or is not a GitHub repository URL.
    """
    text = Path(pyproject).read_text(encoding="utf-8")
    try:
        import tomllib  # Python 3.11+

        url = tomllib.loads(text).get("project", {}).get("urls", {}).get("Repository")
    except ModuleNotFoundError:  # Python 3.10: read the one line we need
        section = re.search(r"^\[project\.urls\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        match = section and re.search(r'^\s*Repository\s*=\s*"([^"]+)"', section.group(1), re.M)
        url = match.group(1) if match else None
    if not url:
        raise ValueError(
            f"{Path(pyproject).name} has no [project.urls] Repository entry; add e.g. "
            'Repository = "https://github.com/OWNER/REPO".'
        )
    url = url.rstrip("/").removesuffix(".git")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(
            f"[project.urls] Repository must be https://github.com/OWNER/REPO (Colab and Binder "
            f"open GitHub repositories); got {url!r}."
        )
    return url


def owner_repo(url=None):
    """``"OWNER/REPO"`` of the repository URL (by default the one in pyproject.toml)."""
    return (url or repository_url()).removeprefix("https://github.com/")


EXERCISES = "exercises"  # the versions students open: solutions removed (scripts/exercises.py)
WITH_SOLUTIONS = "notebooks"


def colab_url(name, url=None, folder=EXERCISES):
    """Link that opens ``<folder>/<name>`` from the repository in Colab (the exercise version by default)."""
    return f"https://colab.research.google.com/github/{owner_repo(url)}/blob/{BRANCH}/{folder}/{name}"


def binder_url(name, url=None, folder=EXERCISES):
    """Link that opens ``<folder>/<name>`` in JupyterLab on Binder (the exercise version by default)."""
    return f"https://mybinder.org/v2/gh/{owner_repo(url)}/{BRANCH}?urlpath=lab/tree/{folder}/{name}"


def pip_requirement(url=None):
    """The one thing Colab installs: the helper package, straight from the repository."""
    return f"vaeface-utils @ git+{url or repository_url()}@{BRANCH}"


def badges_markdown(name, url=None):
    """Markdown for the two badges of notebook ``name`` (also used in README.md)."""
    return (
        f"[![Open in Colab]({COLAB_BADGE})]({colab_url(name, url)})\n"
        f"[![Launch Binder]({BINDER_BADGE})]({binder_url(name, url)})\n"
        f"(the exercise version; with solutions: [Colab]({colab_url(name, url, WITH_SOLUTIONS)}),\n"
        f"[Binder]({binder_url(name, url, WITH_SOLUTIONS)}))"
    )


def launch_cells(name, url=None):
    """The two launch cells for notebook ``name``, e.g. ``"00_start_here.ipynb"``.

    Returns
    -------
    list of nbformat.NotebookNode
        A markdown cell with the badges and a code cell (no outputs) that
        installs the helper package on Colab and does nothing elsewhere.
    """
    tags = [LAUNCH_TAG, REMOVE_TAG]
    text = (
        badges_markdown(name, url)
        + "\n\n"
        + "Run this notebook in the cloud: **Colab** already has TensorFlow (the next cell\n"
        "installs only the course's helper package); **Binder** builds the course's own\n"
        "environment (the first start takes a few minutes). Anywhere but Colab the next\n"
        "cell does nothing."
    )
    code = (
        "# On Colab only: install the course's helper package. Its dependencies are version\n"
        "# ranges without TensorFlow, so Colab's TensorFlow and Keras stay as they are.\n"
        "# Anywhere else this cell does nothing.\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    requirement = "{pip_requirement(url)}"\n'
        '    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", requirement])'
    )
    markdown = nbformat.v4.new_markdown_cell(text, metadata={"tags": list(tags)})
    markdown["id"] = BADGES_ID
    cell = nbformat.v4.new_code_cell(code, metadata={"tags": list(tags)})
    cell["id"] = COLAB_ID
    return [markdown, cell]


def _key(cell):
    return (cell.cell_type, cell.source, sorted(cell.get("metadata", {}).get("tags", [])))


def with_launch_cells(notebook, name, url=None):
    """Return ``(notebook, changed)``: launch cells replaced, right after the title cell.

    Raises
    ------
    ValueError
        If the notebook does not start with a markdown title cell (``# ...``).
    """
    cells = notebook.cells
    if not cells or cells[0].cell_type != "markdown" or not cells[0].source.startswith("# "):
        raise ValueError(
            f"{name}: the first cell must be the markdown title ('# ...') so the launch cells "
            "can go right after it; see CONTRIBUTING.md."
        )
    wanted = launch_cells(name, url)
    current = [c for c in cells if LAUNCH_TAG in c.get("metadata", {}).get("tags", [])]
    if [_key(c) for c in cells[1:3]] == [_key(c) for c in wanted] and len(current) == 2:
        return notebook, False
    others = [c for c in cells if LAUNCH_TAG not in c.get("metadata", {}).get("tags", [])]
    notebook.cells = others[:1] + wanted + others[1:]
    return notebook, True


def apply(path, url=None, sync=True):
    """Write the launch cells into the notebook at ``path``; return True if it changed.

    Stored outputs of every other cell are kept. With ``sync``, the paired
    py:percent file is brought up to date with ``jupytext --sync``.
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    notebook, changed = with_launch_cells(notebook, path.name, url)
    if changed:
        nbformat.validate(notebook)
        nbformat.write(notebook, path)
    if sync and (changed or not paired_script(path).exists()):
        subprocess.run([sys.executable, "-m", "jupytext", "--sync", "--quiet", str(path)], check=True)
    return changed


def paired_script(path):
    """The py:percent pair of notebook ``path``: ``py/<name>.py`` beside it (see ``notebooks/jupytext.toml``)."""
    path = Path(path)
    return path.parent / "py" / f"{path.stem}.py"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to update (.ipynb)")
    parser.add_argument("--all", action="store_true", help="every notebooks/NN_*.ipynb")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if any notebook is out of date")
    args = parser.parse_args(argv)
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) if args.all else args.notebooks
    if not paths:
        parser.error("name the notebooks to update, or pass --all")
    stale = []
    for path in paths:
        if path.suffix != ".ipynb":
            parser.error(f"expected .ipynb files; got {path}")
        if args.check:
            _, changed = with_launch_cells(nbformat.read(path, as_version=4), path.name)
            stale += [path] if changed else []
        elif apply(path):
            print(f"updated {path.name} and its pair py/{path.stem}.py")
        else:
            print(f"{path.name} already up to date")
    for path in stale:
        print(f"{path.name}: launch cells missing or out of date; run python scripts/launch_cells.py notebooks/{path.name}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
