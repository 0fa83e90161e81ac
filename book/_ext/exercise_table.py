"""The ``{exercise-table}`` directive: every chapter's exercises, with kind, time and points.

A teacher choosing homework wants one list: which exercises each chapter has, what kind they
are (implement, derive, extend, analyse), how long each should take and what it is worth. All
of that already lives somewhere else, and this directive only gathers it, so the list cannot
disagree with the chapters:

* the exercises, their titles and kinds come from the chapters' ``{exercise}`` blocks, read by
  the grader's own parser (:func:`grading.markers.parse`);
* the time from the statement's ``*About N minutes.*`` line;
* the points from the grader's checks (:data:`grading.checks.CHECKS`): automatic points, and
  the points of written answers the teacher reads.

Chapters are listed in the order of ``_toc.yml``, one table each. The page that holds the
directive is re-read whenever the table it would show changes (a chapter's exercises or the
grader's points), even though its own file did not change.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

#: The repository's top folder, where the grader (``grading/``) lives.
ROOT = Path(__file__).resolve().parents[2]
MINUTES = re.compile(r"\*About (\d+) minutes?\.\*")
#: Shown where a chapter does not say (a kind or a time).
MISSING = "not given"


def _grading():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from grading import markers
    from grading.checks import CHECKS

    return markers, CHECKS


def _toc_chapters(srcdir: Path) -> list[str]:
    """Notebook pages in the order of ``_toc.yml`` (paths without suffix, e.g. book/kmeans)."""
    toc = (srcdir / "_toc.yml").read_text(encoding="utf-8")
    pages = re.findall(r"^\s*-?\s*(?:file|root):\s*(\S+)\s*$", toc, flags=re.M)
    return [p for p in pages if (srcdir / f"{p}.ipynb").is_file()]


def _points(check) -> str:
    def n(x):
        return f"{x:g}"

    if check is None:
        return "not graded"
    if check.written:
        return f"{n(check.manual)} written"
    text = f"{n(check.points)} automatic"
    return text + (f" + {n(check.manual)} written" if check.manual else "")


def exercise_table(srcdir: Path) -> str:
    """The MyST source of the tables (one ``list-table`` per chapter with exercises).

    Parameters
    ----------
    srcdir : pathlib.Path
        The book's source folder (where ``_toc.yml`` is).

    Returns
    -------
    str
        MyST Markdown; empty when no chapter has exercises.
    """
    markers, checks = _grading()
    parts = []
    for page in _toc_chapters(srcdir):
        nb = json.loads((srcdir / f"{page}.ipynb").read_text(encoding="utf-8"))
        exercises = markers.parse(nb, page)
        if not exercises:
            continue
        first = markers.source_of(nb["cells"][0]).lstrip()
        # the chapter's short name: its title up to a colon ("K-means: from the ..." -> "K-means")
        title = first.splitlines()[0].lstrip("# ").split(":")[0].strip() if first.startswith(
            "# ") else page
        rows, minutes, points = [], [], 0.0
        for number, ex in enumerate(exercises, 1):
            m = MINUTES.search(markers.source_of(nb["cells"][ex.cell]))
            minutes.append(int(m.group(1)) if m else None)
            check = checks.get(ex.label)
            points += (check.points + check.manual) if check is not None else 0
            rows.append(
                f"* - {number}\n"
                f"  - {{ref}}`{_escape(ex.title or ex.label)} <{ex.label}>`\n"
                f"  - {ex.kind or MISSING}\n"
                f"  - {m.group(1) + ' min' if m else MISSING}\n"
                f"  - {_points(checks.get(ex.label))}")
        time = (f", about {sum(minutes)} minutes" if None not in minutes else "")
        parts.append(
            f"```{{list-table}} {title}: {len(exercises)} exercises{time}, {points:g} points\n"
            f":header-rows: 1\n:name: exercises-{Path(page).name.replace('_', '-')}\n\n"
            f"* - \n  - Exercise ({{doc}}`the chapter </{page}>`)\n  - Kind\n  - Time\n"
            f"  - Points\n" + "\n".join(rows) + "\n```\n")
    return "\n".join(parts)


def _escape(text: str) -> str:
    return text.replace("<", r"\<").replace("`", "'")


class ExerciseTable(SphinxDirective):
    """``{exercise-table}``: no argument, no options, no content."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        text = exercise_table(Path(self.env.srcdir))
        _tables(self.env)[self.env.docname] = text
        for page in _toc_chapters(Path(self.env.srcdir)):
            self.env.note_dependency(str(Path(self.env.srcdir) / f"{page}.ipynb"))
        container = nodes.container(classes=["exercise-table"])
        self.state.nested_parse(text.splitlines(), self.content_offset, container)
        return [container]


def _tables(env) -> dict:
    if not hasattr(env, "exercise_tables"):
        env.exercise_tables = {}
    return env.exercise_tables


def outdated_tables(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Pages whose table would change (e.g. the grader's points changed)."""
    return [doc for doc, text in _tables(env).items()
            if doc not in removed and exercise_table(Path(env.srcdir)) != text]


def forget_page(app: Sphinx, env, docname: str) -> None:
    _tables(env).pop(docname, None)


def merge_tables(app: Sphinx, env, docnames, other) -> None:
    _tables(env).update({d: t for d, t in _tables(other).items() if d in docnames})


def setup(app: Sphinx) -> dict:
    app.add_directive("exercise-table", ExerciseTable)
    app.connect("env-get-outdated", outdated_tables)
    app.connect("env-purge-doc", forget_page)
    app.connect("env-merge-info", merge_tables)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True,
            "env_version": 1}
