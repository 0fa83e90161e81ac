"""Serve the live explorer's script and style sheet to the pages that hold an explorer.

A chapter embeds its data sets in a ``<div class="algos-explorer">`` (made by
``book/algos/explorer.py``); ``static/explorer/explorer.js`` turns it into the explorer and
``static/explorer/explorer.css`` styles it. Both are copied to ``_static/explorer/`` of the
built site, and only pages whose body holds an explorer load them: one script and one style
sheet per page, nothing inlined into the notebook outputs, nothing from outside the site, so
the explorer works from ``file://`` as well as over ``make serve``.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

#: This extension's static folder (Sphinx copies its contents into ``_static/``).
STATIC_DIR = Path(__file__).resolve().parent / "static"
SCRIPT = "explorer/explorer.js"
STYLE = "explorer/explorer.css"
#: What marks a page that holds an explorer (the class of the div explorer.py writes).
MARKER = 'class="algos-explorer"'


def add_static_path(app: Sphinx) -> None:
    """Copy ``static/`` into the site (once, even if another extension already added it)."""
    paths = [str(Path(p).resolve()) for p in app.config.html_static_path]
    if str(STATIC_DIR) not in paths:
        app.config.html_static_path.append(str(STATIC_DIR))


def add_assets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Load the explorer's script and style sheet on this page if it holds an explorer.

    Called for each page (``html-page-context``); files added here go to this page only.
    """
    if MARKER in (context.get("body") or ""):
        app.add_css_file(STYLE)
        app.add_js_file(SCRIPT)


def setup(app: Sphinx) -> dict:
    """Register the Sphinx hooks."""
    app.connect("builder-inited", add_static_path)
    app.connect("html-page-context", add_assets)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
