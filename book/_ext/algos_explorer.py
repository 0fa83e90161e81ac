"""Serve the live explorer's script and style sheet to the pages that hold an explorer.

A chapter embeds its data sets in a ``<div class="algos-explorer">`` (made by
``book/algos/explorer.py``); ``static/explorer/explorer.js`` turns it into the explorer and
``static/explorer/explorer.css`` styles it. Both are copied to ``_static/explorer/`` of the
built site, and only pages whose body holds an explorer load them: one script and one style
sheet per page, nothing inlined into the notebook outputs, nothing from outside the site, so
the explorer works from ``file://`` as well as over ``make serve``.

Sphinx copies static files only when it writes pages, and it writes none when no page changed;
so when the explorer's files change, the pages that hold an explorer are marked out of date
(they are re-read from the execution cache, not re-executed), and the new files are copied.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sphinx.application import Sphinx

#: This extension's static folder (Sphinx copies its contents into ``_static/``).
STATIC_DIR = Path(__file__).resolve().parent / "static"
SCRIPT = "explorer/explorer.js"
STYLE = "explorer/explorer.css"
#: What marks a page that holds an explorer (the class of the div explorer.py writes).
MARKER = 'class="algos-explorer"'


def files_digest() -> str:
    """SHA-1 of the explorer's static files (names and contents)."""
    digest = hashlib.sha1()
    for path in sorted((STATIC_DIR / "explorer").rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(STATIC_DIR).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def note_explorer_page(app: Sphinx, doctree) -> None:
    """Remember whether this page holds an explorer (its raw HTML output has the marker)."""
    if MARKER in doctree.astext():
        _pages(app.env).add(app.env.docname)


def forget_page(app: Sphinx, env, docname: str) -> None:
    _pages(env).discard(docname)


def merge_pages(app: Sphinx, env, docnames, other) -> None:
    """Parallel reading: take the pages a worker found."""
    _pages(env).update(_pages(other) & set(docnames))


def _pages(env) -> set:
    if not hasattr(env, "algos_explorer_pages"):
        env.algos_explorer_pages = set()
    return env.algos_explorer_pages


def outdated_when_files_change(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Pages to rebuild because the explorer's files changed since the last build."""
    digest = files_digest()
    if getattr(env, "algos_explorer_digest", None) == digest:
        return []
    env.algos_explorer_digest = digest
    return sorted(_pages(env) & set(env.found_docs))


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
    app.connect("env-purge-doc", forget_page)
    app.connect("doctree-read", note_explorer_page)
    app.connect("env-merge-info", merge_pages)
    app.connect("env-get-outdated", outdated_when_files_change)
    app.connect("html-page-context", add_assets)
    # env_version: environments pickled before this extension tracked its pages are re-read
    return {"version": "1.0", "env_version": 1, "parallel_read_safe": True,
            "parallel_write_safe": True}
