"""Render the course as a static HTML book, with the notebooks' stored outputs.

Nothing is executed: each page shows the outputs stored in the notebook (the
full-mode run, see CONTRIBUTING.md). The book is one folder of plain files::

    _build/book/index.html              the notebook map, with links
    _build/book/00_start_here.html      one page per notebook, prev/next links
    _build/book/00_start_here.ipynb     the notebook itself, to download

Figures are embedded in the pages as data URIs, so a page can be copied or
opened on its own. Cells tagged ``remove-cell`` (the Colab/Binder launch cells)
are left out; each page instead links to Colab, Binder and the notebook file
in its header. Links between notebooks (``NN_name.ipynb``) point at their
pages; links to other files in the repository point at them on GitHub (the
URL in ``[project.urls]`` of pyproject.toml). Equations are typeset by MathJax
2.7 from the book's own copy (``_build/book/mathjax/``, taken from the
``jupyter-server-mathjax`` package that requirements.txt installs), so a page
needs no network: offline, behind a classroom proxy, or copied with its
folder.

Command line (from the repository root)::

    .venv/bin/python scripts/build_book.py            # -> _build/book/index.html
    .venv/bin/python scripts/build_book.py --out DIR  # somewhere else
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
from pathlib import Path

import nbformat
from jinja2 import DictLoader
from nbconvert import HTMLExporter
from nbconvert.filters import markdown2html
from nbconvert.preprocessors import TagRemovePreprocessor

sys.path.insert(0, str(Path(__file__).resolve().parent))
import launch_cells  # noqa: E402  (scripts/launch_cells.py: the repository URL and launch links)

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO_ROOT / "notebooks"
DEFAULT_OUT = REPO_ROOT / "_build" / "book"

# The lab template, plus a navigation bar above and below each notebook, and
# without the CDN scripts a static book does not use (require.js, mermaid).
_PAGE_TEMPLATE = """\
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}<style>{{ resources.book_css }}</style>{% endblock extra_css %}
{%- block body_header -%}
{{ super() }}
<!--book-nav-top-->
{%- endblock body_header -%}
{% block body_footer %}
<!--book-nav-bottom-->
{{ super() }}
{% endblock body_footer %}
"""

_CSS = """
nav.book-nav { font-family: system-ui, sans-serif; font-size: 15px; display: flex;
  flex-wrap: wrap; gap: 0.5em 1.5em; justify-content: space-between; align-items: baseline;
  max-width: 1100px; margin: 0 auto; padding: 10px 16px; border-bottom: 1px solid #ddd; }
nav.book-nav.bottom { border-top: 1px solid #ddd; border-bottom: none; margin-top: 2em; }
nav.book-nav a { text-decoration: none; color: #1a5fb4; }
nav.book-nav a:hover { text-decoration: underline; }
nav.book-nav .launch { font-size: 13px; color: #555; }
"""

_INDEX_CSS = """
body { font-family: system-ui, sans-serif; max-width: 960px; margin: 2em auto; padding: 0 16px;
  line-height: 1.5; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 8px 10px; border-bottom: 1px solid #ddd; }
td.number { font-variant-numeric: tabular-nums; color: #555; }
td p { margin: 0 0 0.4em 0; }
a { color: #1a5fb4; }
"""


def notebook_paths(folder=NOTEBOOKS):
    """The course notebooks (``NN_*.ipynb``) in reading order."""
    paths = sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"No notebooks named NN_*.ipynb in {folder}; pass --notebooks FOLDER.")
    return paths


def page_name(ipynb):
    """``00_start_here.ipynb`` -> ``00_start_here.html``."""
    return Path(ipynb).with_suffix(".html").name


def summary(notebook):
    """Title, goal and run time, read from the notebook's first (markdown) cell."""
    first = notebook.cells[0].source if notebook.cells else ""
    title = next((line[2:].strip() for line in first.splitlines() if line.startswith("# ")), None)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", first)]

    def field(label):
        found = next((p for p in paragraphs if p.startswith(f"**{label}:**")), "")
        return " ".join(found.removeprefix(f"**{label}:**").split())

    return {"title": title, "goal": field("Goal"), "run_time": field("Run time")}


def _rewrite_links(body, names, repository, folder=NOTEBOOKS):
    """Point notebook links at book pages and other repository files at GitHub."""

    def fix(match):
        attribute, quote, target = match.group(1), match.group(2), html.unescape(match.group(3))
        if re.match(r"^([a-z][a-z0-9+.-]*:|#|//)", target, re.I):
            return match.group(0)  # absolute URL, data URI or an anchor on this page
        path, _, anchor = target.partition("#")
        if path.startswith(f"{MATHJAX_FOLDER}/"):
            return match.group(0)  # the book's own copy of MathJax
        if Path(path).name in names:
            new = page_name(path) + (f"#{anchor}" if anchor else "")
        else:
            resolved = (Path(folder) / path).resolve()
            try:
                relative = resolved.relative_to(REPO_ROOT).as_posix()
            except ValueError:
                return match.group(0)
            kind = "tree" if resolved.is_dir() else "blob"
            new = f"{repository}/{kind}/{launch_cells.BRANCH}/{relative}" + (f"#{anchor}" if anchor else "")
        return f"{attribute}={quote}{html.escape(new, quote=True)}{quote}"

    return re.sub(r'\b(href|src)=(["\'])([^"\']*)\2', fix, body)


def _nav(position, previous, following, name, repository):
    links = ['<a href="index.html">Contents</a>']
    empty = "<span></span>"  # keeps the bar's layout on the first and last page
    if previous:
        links.append(f'<a rel="prev" href="{page_name(previous)}">&larr; {html.escape(previous.stem)}</a>')
    else:
        links.append(empty)
    if following:
        links.append(f'<a rel="next" href="{page_name(following)}">{html.escape(following.stem)} &rarr;</a>')
    else:
        links.append(empty)
    if position == "top":
        launch = (
            f'<span class="launch">Do the exercises: <a href="{html.escape(launch_cells.colab_url(name, repository))}">Colab</a>'
            f' &middot; <a href="{html.escape(launch_cells.binder_url(name, repository))}">Binder</a>'
            f' &middot; <a href="{html.escape(name)}" download>download the notebook</a></span>'
        )
        links.insert(1, launch)
    return f'<nav class="book-nav {position}">' + "\n".join(links) + "</nav>"


MATHJAX_FOLDER = "mathjax"
# The configuration jupyter-server-mathjax ships (HTML-CSS output), plus Safe mode, as nbconvert uses.
MATHJAX_URL = f"{MATHJAX_FOLDER}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"


def mathjax_source():
    """The folder holding MathJax 2.7 (``MathJax.js``), from the jupyter-server-mathjax package.

    Raises
    ------
    ImportError
        If jupyter-server-mathjax is not installed, with the command that installs it.
    """
    try:
        import jupyter_server_mathjax
    except ImportError as error:
        raise ImportError("The book serves MathJax from the package jupyter-server-mathjax, which is not "
                          "installed: pip install -r requirements.txt (or pip install jupyter-server-mathjax).") from error
    folder = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (folder / "MathJax.js").is_file():
        raise ImportError(f"jupyter-server-mathjax has no MathJax.js in {folder}; reinstall it.")
    return folder


def _exporter():
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({"book_page.html.j2": _PAGE_TEMPLATE})],
        template_file="book_page.html.j2",
        embed_images=True,
        mathjax_url=MATHJAX_URL,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(
            remove_cell_tags={"remove-cell"},
            remove_input_tags={"remove-input"},
            remove_all_outputs_tags={"remove-output"},
            enabled=True,
        ),
        enabled=True,
    )
    return exporter


def _index_html(entries, readme_title):
    rows = []
    for path, info in entries:
        number = path.stem[:2]
        title = html.escape(info["title"] or path.stem)
        goal = markdown2html(info["goal"]) if info["goal"] else ""
        run_time = markdown2html(info["run_time"]) if info["run_time"] else ""
        rows.append(
            f'<tr><td class="number">{number}</td><td><a href="{page_name(path)}">{title}</a></td>'
            f"<td>{goal}</td><td>{run_time}</td></tr>"
        )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(readme_title)}</title>
<style>{_INDEX_CSS}</style>
</head>
<body>
<main>
<h1 id="contents">{html.escape(readme_title)}</h1>
<p>The course's notebooks with the outputs of a full run, in reading order. Each page
links to the next, and to Colab and Binder to run it yourself.</p>
<table>
<thead><tr><th></th><th>notebook</th><th>goal</th><th>run time</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
<p>Start with <a href="{page_name(entries[0][0])}">{html.escape(entries[0][1]["title"] or entries[0][0].stem)}</a>.</p>
</main>
</body>
</html>
"""


def build_book(out=DEFAULT_OUT, notebooks=NOTEBOOKS):
    """Write the book into ``out`` (replaced if it exists) and return the index page.

    Parameters
    ----------
    out : path-like
        Folder for the book; created, and emptied first if it exists.
    notebooks : path-like
        Folder holding the ``NN_*.ipynb`` notebooks.

    Returns
    -------
    pathlib.Path
        ``out / "index.html"``.
    """
    out, paths = Path(out), notebook_paths(notebooks)
    repository = launch_cells.repository_url()
    mathjax = mathjax_source()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    shutil.copytree(mathjax, out / MATHJAX_FOLDER)
    names = {p.name for p in paths}
    exporter = _exporter()
    entries = []
    for i, path in enumerate(paths):
        notebook = nbformat.read(path, as_version=4)
        info = summary(notebook)
        entries.append((path, info))
        notebook.metadata["title"] = f"{path.stem[:2]} {info['title'] or path.stem}"
        previous = paths[i - 1] if i > 0 else None
        following = paths[i + 1] if i + 1 < len(paths) else None
        resources = {
            "metadata": {"name": path.stem, "path": str(path.parent)},
            "book_css": _CSS,
        }
        body, _ = exporter.from_notebook_node(notebook, resources=resources)
        # Links in the notebook are rewritten first, then the book's own navigation goes in.
        body = _rewrite_links(body, names, repository, notebooks)
        body = body.replace("<!--book-nav-top-->", _nav("top", previous, following, path.name, repository), 1)
        body = body.replace("<!--book-nav-bottom-->", _nav("bottom", previous, following, path.name, repository), 1)
        (out / page_name(path)).write_text(body, encoding="utf-8")
        shutil.copy2(path, out / path.name)
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    title = next((line[2:].strip() for line in readme if line.startswith("# ")), "vaeface")
    index = out / "index.html"
    index.write_text(_index_html(entries, title), encoding="utf-8")
    return index


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: _build/book)")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help="folder of NN_*.ipynb (default: notebooks)")
    args = parser.parse_args(argv)
    index = build_book(args.out, args.notebooks)
    try:
        shown = index.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        shown = index
    print(f"wrote {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
