"""Serve MathJax from the built site, so formulas typeset with no network.

MathJax 2 ships inside the ``jupyter-server-mathjax`` wheel (pinned in requirements.txt), so
``make book`` installs it from the package registry like every other dependency. After an HTML
build this extension copies it to ``<outdir>/_vendor/mathjax/``; ``mathjax_path`` in
``_config.yml`` points there.

Notes
-----
The copy deliberately lives outside ``_static/``: Jupyter Book 1 adds every ``.js`` and ``.css``
file under a ``_static`` folder to every page, which for MathJax's 600 files would be both slow
and broken. A small stamp file records which MathJax was copied, so a rebuild copies nothing.

The wheel ships MathJax's STIX-Web fonts but not its TeX fonts; ``_config.yml`` selects STIX-Web,
and ``static/vendor-mathjax.css`` stops the hidden MathML copy (for screen readers) from asking
for the missing TeX fonts.
"""

from __future__ import annotations

import shutil
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ConfigError, ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Where MathJax lands inside the HTML output directory.
VENDOR_DIR = "_vendor/mathjax"


def mathjax_source() -> Path:
    """Return the folder that holds ``MathJax.js`` inside the installed wheel.

    Returns
    -------
    pathlib.Path
        The ``static`` folder of the ``jupyter_server_mathjax`` package.

    Raises
    ------
    sphinx.errors.ExtensionError
        If the package is not installed or does not contain MathJax.
    """
    try:
        source = Path(str(files("jupyter_server_mathjax") / "static"))
    except ModuleNotFoundError as err:
        raise ExtensionError(
            "vendor_mathjax: the package jupyter-server-mathjax is not installed; "
            "run `make book`, which installs requirements.txt"
        ) from err
    if not (source / "MathJax.js").is_file():
        raise ExtensionError(f"vendor_mathjax: no MathJax.js in {source}")
    return source


def check_config(app: Sphinx, config) -> None:
    """Refuse a ``mathjax_path`` that would load MathJax from anywhere but the site."""
    path = config.mathjax_path or ""
    if "://" in path or VENDOR_DIR + "/MathJax.js" not in path:
        raise ConfigError(
            f"vendor_mathjax: mathjax_path must point into {VENDOR_DIR}/ "
            f"(the offline copy), got {path!r}"
        )


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """Copy MathJax into the HTML output after a successful HTML build."""
    if exception is not None or app.builder.format != "html":
        return
    source = mathjax_source()
    target = Path(app.outdir) / VENDOR_DIR
    stamp = target / ".vendored-from"
    wanted = f"jupyter-server-mathjax {version('jupyter-server-mathjax')}\n"
    if stamp.is_file() and stamp.read_text() == wanted:
        return
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    stamp.write_text(wanted)
    logger.info("vendor_mathjax: copied MathJax from %s to %s", source, target)


def add_static_path(app: Sphinx) -> None:
    """Serve this extension's CSS (see ``static/vendor-mathjax.css``)."""
    app.config.html_static_path.append(str(Path(__file__).parent / "static"))


def setup(app: Sphinx) -> dict:
    """Register the Sphinx hooks."""
    app.connect("config-inited", check_config)
    app.connect("builder-inited", add_static_path)
    app.add_css_file("vendor-mathjax.css")
    app.connect("build-finished", copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
