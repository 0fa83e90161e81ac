"""The grader's checks: one per exercise label, one module per chapter.

Each chapter's exercises are checked in their own module (``kmeans.py``, ``kmedoids.py``,
``gmm_em.py``, ...); every module in this package whose name does not start with ``_`` is
imported here, so adding a chapter's checks means adding a module, nothing else.

An automatic check is a function ``parts(rng) -> list[Part]`` registered with :func:`check`.
It runs in the grader's process and only describes the work: which function to call on which
inputs (:class:`Case`), and how to judge what came back (``judge(value, case)``, which raises
:class:`Failed` with a sentence for the student). The student's functions run in a separate
process (see :mod:`grading.exercise`) and their results come back as plain data (see
:mod:`grading._plain`): numbers, strings, lists and numpy arrays, never objects. So a judge
receives ``None``, ``bool``, ``int``, ``float``, ``str``, ``list``, ``tuple``,
:class:`numpy.ndarray`, a numpy scalar or :class:`grading._plain.Opaque` (anything else the
student returned, known only by its type's name).

Points belong to the check: ``points`` (default 1) are the automatic points, split across the
check's parts (say 1 for the homework data, 1 for a tie, 1 for hidden random data), and a part
earns its points only when every case in it passes; ``manual`` are the points of a written
part the teacher reads. :func:`written` registers an exercise answered in words only.

``rng`` is a :class:`numpy.random.Generator` seeded from the run's seed and the label: the
hidden random data are new each run and the same for the same seed (``--seed``).

Example (in ``grading/checks/<chapter>.py``)::

    @check("kmeans-e-step", chapter="kmeans.ipynb", names=["my_e_step"], points=3,
           references=CLUSTERING_REFERENCES)
    def kmeans_e_step(rng):
        case = calls("my_e_step", judge_e_step, "X", "centers")
        return [
            Part("the homework data", 1, [case("seed 000's points", X0, C0, expected=[1, 0, 0, 0])]),
            Part("a tie", 1, [...]),
            Part("hidden random data", 1, [case("random data", rng.normal(size=(60, 2)),
                                                rng.normal(size=(3, 2)), show=False)]),
        ]

where ``judge_e_step(value, case)`` raises :class:`Failed` when ``value`` is wrong. A test
(tests/test_grading_checks.py) runs every check on the chapters' solutions, on answers written
with scikit-learn and on known mistakes: add the new exercise's mistakes there.
"""

from __future__ import annotations

import importlib
import pkgutil
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ._common import Failed, fmt

__all__ = ["CHECKS", "Case", "Check", "Failed", "Part", "calls", "check", "chapter_checks",
           "rng_for", "written"]


@dataclass
class Case:
    """One thing the grader asks of the student's code, and how to judge the answer.

    Attributes
    ----------
    title : str
        What the input is, e.g. ``"seed 000's four points"`` or ``"random data (60 points in
        2-D, 3 centres)"``.
    args : dict
        The inputs, in the order the function takes them (plain data: arrays, numbers,
        strings).
    judge : callable
        ``judge(value, case)``: returns if ``value`` is right, raises :class:`Failed` with a
        sentence saying what was expected, on which input, and what came back.
    call : str or None
        The function to call with ``args``.
    value : str or None
        Or the variable whose value is the answer (``call`` is then None).
    show : bool
        Print the inputs in messages (small homework data); random data only give their size.
    expected : object, optional
        The right answer when it is a known constant (seed data, a hand-made tie), for the
        judge; None when the judge computes it.
    """

    title: str
    args: dict
    judge: Callable[[Any, "Case"], None]
    call: str | None = None
    value: str | None = None
    show: bool = False
    expected: Any = None

    @property
    def where(self):
        """``on <title> (<inputs>)``: the input, as a message names it."""
        if not self.show or not self.args:
            return f"on {self.title}"
        shown = ", ".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {fmt(v)}"
                          for k, v in self.args.items())
        return f"on {self.title} ({shown})"


def calls(function, judge, *parameters):
    """A maker of cases that call ``function`` with ``parameters`` (in that order).

    ``case = calls("my_e_step", judge, "X", "centers")``, then
    ``case("the seed data", X, centers, expected=[1, 0, 0, 0])``; ``show`` (default True)
    prints the inputs in messages, so pass ``show=False`` for random data.
    """
    def case(title, *values, expected=None, show=True):
        if len(values) != len(parameters):
            raise TypeError(f"{function} takes {len(parameters)} inputs, got {len(values)}")
        return Case(title, dict(zip(parameters, values)), judge, call=function, show=show,
                    expected=expected)
    return case


@dataclass
class Part:
    """A share of an exercise's points, earned when every one of its cases passes."""

    title: str
    points: float
    cases: list


@dataclass(frozen=True)
class Check:
    """How one exercise is graded (see the module docstring).

    Attributes
    ----------
    label : str
        The exercise's ``:label:``.
    chapter : str
        The chapter notebook that holds it, e.g. ``"kmeans.ipynb"``.
    names : tuple of str
        The functions or variables the student defines.
    points : float
        Automatic points (0 for a written exercise).
    manual : float
        Points of the written part, read by the teacher.
    references : tuple of str
        Dotted names (``"algos.kmeans"`` for a whole module, ``"algos._distances.nearest_center"``
        for one function) that compute what the exercise asks for. In the process that runs
        the student's code they are replaced by stand-ins that record the call and raise; an
        answer that calls one earns no points.
    parts : callable or None
        ``parts(rng) -> list of Part``; None for a written exercise.
    """

    label: str
    chapter: str
    names: tuple = ()
    points: float = 1
    manual: float = 0
    references: tuple = ()
    parts: Callable | None = field(default=None, compare=False)

    @property
    def written(self):
        """True for an exercise answered in words only (no automatic check)."""
        return self.parts is None

    def build(self, rng):
        """The check's parts for one run; their points must add up to ``points``."""
        parts = list(self.parts(rng))
        total = sum(p.points for p in parts)
        if not np.isclose(total, self.points):
            raise ValueError(f"{self.label}: the parts' points add up to {total}, not "
                             f"{self.points}")
        return parts


#: Exercise label -> :class:`Check`, in registration order (chapter by chapter).
CHECKS: dict[str, Check] = {}


def _register(entry):
    if entry.label in CHECKS:
        raise ValueError(f"two checks for the exercise {entry.label!r}")
    CHECKS[entry.label] = entry


def check(label, *, chapter, names, points=1, manual=0, references=()):
    """Register ``parts(rng)`` as the automatic check of ``label`` (a decorator)."""
    def decorate(func):
        _register(Check(label, chapter, tuple(names), points, manual, tuple(references), func))
        return func
    return decorate


def written(label, *, chapter, points=1):
    """Register ``label`` as a written exercise worth ``points``, read by the teacher."""
    _register(Check(label, chapter, (), 0, points))


def chapter_checks(chapter):
    """The checks of one chapter (``"kmeans.ipynb"``), in registration order."""
    return [c for c in CHECKS.values() if c.chapter == chapter]


def rng_for(seed, label):
    """The random generator a check draws its hidden data from, for one run's ``seed``."""
    return np.random.default_rng([int(seed), zlib.crc32(label.encode("utf-8"))])


for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if not _module.startswith("_"):
        importlib.import_module(f"{__name__}.{_module}")
