"""The rendered book: it builds, every page is there, no link is dead, no figure is broken."""

import base64
import binascii
import io
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif")


class Page(HTMLParser):
    """The ids, links (href/src) and <img> sources of one HTML page."""

    def __init__(self, path):
        super().__init__(convert_charrefs=True)
        self.ids, self.links, self.images, self.rel = set(), [], [], {}
        self.feed(Path(path).read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key) is not None:
                self.links.append((tag, key, attrs[key]))
        if tag == "img":
            self.images.append(attrs.get("src") or "")
        if tag == "a" and attrs.get("rel") in ("prev", "next"):
            self.rel[attrs["rel"]] = attrs.get("href")


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """The book, built by its documented command into a temporary folder."""
    out = tmp_path_factory.mktemp("book")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_book.py"), "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (out / "index.html").is_file()
    return out


@pytest.fixture(scope="module")
def pages(book):
    return {path.name: Page(path) for path in sorted(book.glob("*.html"))}


def _is_external(target):
    return urlsplit(target).scheme in ("http", "https", "mailto") or target.startswith("//")


def _check_image(data_uri):
    """Decode a data: URI and open it as an image; return an error message or None."""
    header, _, payload = data_uri.partition(",")
    if not header.startswith("data:image/") or ";base64" not in header:
        return f"not a base64 image data URI: {header[:40]!r}"
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        return f"bad base64 ({error})"
    if header.startswith("data:image/svg"):
        return None if b"<svg" in raw[:2000] else "SVG without <svg>"
    from PIL import Image

    try:
        with Image.open(io.BytesIO(raw)) as image:
            image.verify()
            if min(image.size) < 1:
                return "empty image"
    except Exception as error:  # PIL raises many kinds for a broken image
        return f"does not decode: {error}"
    return None


def test_every_notebook_has_a_page_linked_from_the_index(book, pages):
    index = pages["index.html"]
    linked = {href for _, key, href in index.links if key == "href"}
    for notebook in NOTEBOOKS:
        page = notebook.with_suffix(".html").name
        assert (book / page).is_file(), f"no page for {notebook.name}"
        assert page in linked, f"the index does not link to {page}"
        assert (book / notebook.name).is_file(), f"{notebook.name} is not there to download"


def test_chapters_link_to_previous_and_next(pages):
    names = [p.with_suffix(".html").name for p in NOTEBOOKS]
    for i, name in enumerate(names):
        rel = pages[name].rel
        assert rel.get("prev") == (names[i - 1] if i else None), f"{name}: wrong previous link"
        assert rel.get("next") == (names[i + 1] if i + 1 < len(names) else None), f"{name}: wrong next link"


def test_every_internal_link_resolves(book, pages):
    dead = []
    for name, page in pages.items():
        for tag, key, target in page.links:
            if _is_external(target) or target.startswith("data:"):
                continue
            parts = urlsplit(target)
            file = book / unquote(parts.path) if parts.path else book / name
            if not file.is_file():
                dead.append(f"{name}: <{tag} {key}={target!r}> -> no such file")
            elif parts.fragment and file.suffix == ".html":
                ids = pages[file.name].ids if file.name in pages else Page(file).ids
                if unquote(parts.fragment) not in ids and parts.fragment not in ids:
                    dead.append(f"{name}: <{tag} {key}={target!r}> -> no element with that id")
    assert not dead, "dead links in the book:\n" + "\n".join(dead)


def test_no_image_is_missing_or_broken(book, pages):
    broken = []
    for name, page in pages.items():
        for src in page.images:
            if src.startswith("data:"):
                error = _check_image(src)
            elif not src or _is_external(src):
                error = "missing or external source (the book must work offline)"
            else:
                error = None if (book / unquote(urlsplit(src).path)).is_file() else "no such file"
            if error:
                broken.append(f"{name}: <img src={src[:60]!r}...>: {error}")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_stored_figure_is_on_the_page(pages, ipynb):
    import nbformat

    notebook = nbformat.read(ipynb, as_version=4)
    figures = sum(
        1
        for cell in notebook.cells
        if cell.cell_type == "code" and "remove-cell" not in cell.metadata.get("tags", [])
        and "remove-output" not in cell.metadata.get("tags", [])
        for output in cell.get("outputs", [])
        if any(mime in output.get("data", {}) for mime in IMAGE_MIMES)
    )
    images = [src for src in pages[ipynb.with_suffix(".html").name].images if src.startswith("data:image/")]
    assert len(images) >= figures, f"{ipynb.name}: {figures} stored figures, {len(images)} on the page"


def test_launch_cells_are_links_not_cells(pages):
    for notebook in NOTEBOOKS:
        page = pages[notebook.with_suffix(".html").name]
        external = [target for _, _, target in page.links if _is_external(target)]
        assert any(t.startswith("https://colab.research.google.com/github/") and t.endswith(notebook.name) for t in external)
        assert any(t.startswith("https://mybinder.org/v2/gh/") and t.endswith(notebook.name) for t in external)
        assert not any("colab-badge.svg" in src for src in page.images), "badge images need the network"


def test_no_machine_paths_in_the_book(book):
    for path in book.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        for machine_path in (str(ROOT), str(book), "/tmp/"):
            assert machine_path not in text, f"{path.name} contains the machine path {machine_path}"


def test_maths_comes_from_the_books_own_mathjax(book, pages):
    """No page loads a script from the network: MathJax is copied into the book."""
    assert (book / "mathjax" / "MathJax.js").is_file()
    assert (book / "mathjax" / "config" / "TeX-AMS-MML_HTMLorMML-full.js").is_file()
    for name, page in pages.items():
        scripts = [target for tag, key, target in page.links if tag == "script"]
        assert not [s for s in scripts if _is_external(s)], f"{name} loads scripts from the network: {scripts}"
        if name != "index.html":
            assert "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe" in scripts, f"{name}: {scripts}"
