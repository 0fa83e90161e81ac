"""Give each notebook figure the text alternative it carries, and add the book's CSS.

A figure shown with ``algos.plotting.show(fig, alt)`` is a PNG whose standard ``Description``
text chunk holds its description (written from the same numbers the figure draws, plus the
author's sentence). myst-nb (1.4) copies an output's PNG to the site but reads only ``width``
and ``height`` from the output's metadata, and a cell's ``mystnb: image: alt:`` is fixed text;
so after a page is read, this extension opens each PNG image that has no ``alt`` yet and uses
its ``Description``. An ``alt`` given in the cell metadata wins.

It also serves ``static/book.css``: outputs that wrap instead of scrolling sideways, figures
that keep their design width on a phone, and a print layout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from docutils import nodes
from PIL import Image
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"


def png_description(path: Path) -> str | None:
    """The ``Description`` text chunk of a PNG file, with runs of white space made single.

    Returns
    -------
    str or None
        None if the file is not a readable PNG or has no description.
    """
    try:
        with Image.open(path) as image:
            if image.format != "PNG":
                return None
            text = getattr(image, "text", {}).get("Description")
    except OSError:
        return None
    return " ".join(text.split()) if text and text.strip() else None


def set_alt_texts(app: Sphinx, doctree: nodes.document) -> None:
    """Set ``alt`` of every PNG image of the page that has none from its description."""
    env = app.env
    for image in doctree.findall(nodes.image):
        uri = image.get("uri", "")
        if image.get("alt") or "://" in uri or not uri.lower().endswith(".png"):
            continue
        # Sphinx's image collector (also on "doctree-read") may already have made the uri
        # relative to the source folder and listed it in "candidates"
        found = image.get("candidates", {}).get("*")
        path = Path(app.srcdir, found) if found else Path(env.relfn2path(uri, env.docname)[1])
        text = png_description(path)
        if text:
            image["alt"] = text


def add_static_path(app: Sphinx) -> None:
    """Serve ``static/`` (book.css) with the site."""
    if str(STATIC) not in app.config.html_static_path:
        app.config.html_static_path.append(str(STATIC))


def refresh_css(app: Sphinx, exception: Exception | None) -> None:
    """Copy ``book.css`` into the site even when no page needed rebuilding.

    Sphinx stops early when no page is out of date, before it copies static files, so a
    change to the CSS alone would not reach ``_build/html`` with ``make book``.
    """
    if exception is not None or app.builder.format != "html":
        return
    source, target = STATIC / "book.css", Path(app.outdir) / "_static" / "book.css"
    if not target.is_file() or target.read_bytes() != source.read_bytes():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def setup(app: Sphinx) -> dict:
    """Register the Sphinx hooks."""
    app.connect("builder-inited", add_static_path)
    app.connect("build-finished", refresh_css)
    app.connect("doctree-read", set_alt_texts)
    app.add_css_file("book.css")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
