"""The teacher's tools: student notebooks, the hand-out, and a grader a notebook cannot fool.

One chapter notebook gives the website (solutions folded), the student notebook (solutions
removed, ``make student``) and the grading (``make grade``). Command line, from the
repository's top folder::

    python -m grading student [--force]          # _build/student/*.ipynb + homework.zip
    python -m grading grade NB [--seed N] ...     # one notebook: PASS/PART/FAIL per exercise
    python -m grading grade DIR [--jobs N] ...    # a class: _build/grades/grades.csv + feedback

Modules:

* :mod:`grading.markers`: the exercise markers of a chapter (nbgrader's ``### BEGIN
  SOLUTION`` / ``### END SOLUTION`` inside sphinx-exercise blocks) and of a student notebook
  (cell metadata);
* :mod:`grading.student` and :mod:`grading.myst`: the student notebooks (plain Markdown) and
  the hand-out zip;
* :mod:`grading.grader`: grades one notebook; :mod:`grading.kernel` runs it in a kernel,
  :mod:`grading.slicing` finds the statements an answer needs, :mod:`grading.exercise` runs
  them without the reference answers, and :mod:`grading.checks` (one module per chapter, with
  the points) judges what came back;
* :mod:`grading.batch` and :mod:`grading.feedback`: a folder of notebooks into a gradebook
  CSV and one feedback page per student;
* :mod:`grading.launch`: the one place where processes that run students' code start, contained
  by :mod:`grading.sandbox` (bubblewrap on Linux: no network, a read-only view of only the
  Python environment and the book's ``algos`` and data; limits on memory, processes, file size
  and CPU time everywhere).
"""

import importlib

# Imported on first use: the command line should not pay for nbclient to print its help.
_PUBLIC = {
    "CHECKS": "checks",
    "ExerciseResult": "grader",
    "GradingError": "grader",
    "NotebookGrade": "grader",
    "grade": "grader",
    "grade_folder": "batch",
    "MarkerError": "markers",
    "parse": "markers",
    "make_student": "student",
    "student_notebook": "student",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
