"""Homework from the chapters: student notebooks and an autograder.

One chapter notebook gives the website (solutions collapsed), the student notebook (solutions
removed, ``make student``) and the grading (``make grade NB=...``). In a chapter, an exercise
is five consecutive pieces:

1. a markdown cell with a sphinx-exercise block whose label starts with the chapter's name::

       ```{exercise} Implement the E-step
       :label: kmeans-e-step

       Write `my_e_step(X, centers)` that returns ...
       ```

2. a markdown cell holding only ```` ```{solution-start} kmeans-e-step ```` (with
   ``:class: dropdown``) and the closing fence;
3. the solution: code cells whose solution lines sit between ``### BEGIN SOLUTION`` and
   ``### END SOLUTION`` (the rest of the cell, e.g. the ``def`` line, is handed out), or for a
   written answer a markdown cell tagged ``solution``;
4. a markdown cell holding only ```` ```{solution-end} ````;
5. code cells that check the answer on the seed data with plain asserts (students run them).

Everything between the two gate cells is solution: a code cell there without the markers, or
an untagged markdown cell, is an error, because it would be handed to students.

Command line, from the repository's top folder::

    python -m grading student [--force]   # _build/student/*.ipynb + homework.zip
    python -m grading grade NB [--timeout S] [--total-timeout S]

The grader's checks live in :mod:`grading._checks`, one per exercise label
(:data:`CHECKS`).
"""

import importlib

# Imported on first use: the grader's kernel imports ``grading._checks`` and must not
# pay for nbformat/nbclient (importing nbformat takes seconds), which only the grader needs.
_PUBLIC = {
    "CHECKS": "_checks",
    "GradeReport": "_grade",
    "GradingError": "_grade",
    "grade": "_grade",
    "MarkerError": "_markers",
    "parse": "_markers",
    "make_student": "_student",
    "student_notebook": "_student",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
