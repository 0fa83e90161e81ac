"""Where the grader finds the book and its ``algos`` package.

Two layouts are supported:

* the repository: ``grading/`` next to ``book/``, which holds ``algos/`` and the chapters;
* an unzipped hand-out (``homework/``): ``grading/`` next to ``algos/`` and the notebooks.

The grader imports ``algos`` from there, whatever ``PYTHONPATH`` says, so the reference
answers are always the book's.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: The folder holding the ``grading`` package.
ROOT = Path(__file__).resolve().parents[1]


def book_dir():
    """The folder that holds ``algos/`` (``book/`` in the repository, the hand-out folder)."""
    book = ROOT / "book"
    return book if (book / "algos").is_dir() else ROOT


def use_book_algos():
    """Put the book's folder first on ``sys.path`` so ``import algos`` finds the book's package."""
    folder = str(book_dir())
    if sys.path[:1] != [folder]:
        sys.path.insert(0, folder)


def book_files(folder):
    """What a student's code may read from the book's folder besides ``algos``: its data.

    Every entry of `folder` except ``algos``, the notebooks (the chapters hold the solutions),
    hidden entries and ``_``-prefixed ones (build files, extensions) and the ``grading`` package
    (in the hand-out it sits in the same folder), sorted by name.
    """
    return [entry for entry in sorted(Path(folder).iterdir())
            if entry.name not in ("algos", "grading") and entry.suffix != ".ipynb"
            and not entry.name.startswith((".", "_"))]
