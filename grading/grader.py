"""Grade one student's notebook (``make grade NB=...``).

Two independent things happen to a notebook:

1. It runs top to bottom in a fresh kernel (:mod:`grading.kernel`), with a time limit per
   cell and for the whole run. That run decides nothing: it says which cells failed or ran too
   long, for the report's notes and messages.
2. Each exercise's answer is exercised in a process of its own (:mod:`grading.exercise`): the
   statements the answer needs (:mod:`grading.slicing`) run there with an ``algos`` whose
   reference for that exercise is a stand-in, the student's functions are called on the
   check's inputs, and what they return comes back as plain data. This process, the grader's,
   holds the expected answers and judges (:mod:`grading.checks`).

So no code in the notebook can change a verdict: it never runs in the grader's process, its
output is never read as a result, and its return values arrive as numbers, not objects.

Both run contained (:mod:`grading.sandbox`): with limits on memory, processes, file size and
CPU time and, on Linux with bubblewrap, in a sandbox without network that sees only the Python
environment and the book's ``algos`` and data. A limit that stops a cell, the kernel or an
answer is named in the report.

The random data each check adds are drawn from a seed that is new for every run unless one is
given (``seed=``, ``--seed``, ``SEED=``); the report records it, so a verdict can be
reproduced exactly.
"""

from __future__ import annotations

import collections
import copy
import re
import secrets
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import _plain, sandbox
from ._paths import book_dir as _default_book_dir
from .checks import CHECKS, Failed, chapter_checks, rng_for
from .checks._common import describe, one_line
from .exercise import run_exercise
from .kernel import KernelStartError, run_notebook
from .markers import describe_cell, is_tagged_solution, parse, source_of
from .slicing import binders, parse_notebook, slice_for
from .student import ANSWER_PLACEHOLDER, STUB

#: Default time limit for one cell, and for one call of a student's function, in seconds.
CELL_TIMEOUT = 60
#: Default time limit for running the whole notebook and its checks, in seconds.
TOTAL_TIMEOUT = 600
#: A written answer needs at least this many words besides the placeholder.
MIN_WORDS = 5


def default_limits(memory=sandbox.Limits.memory, total_timeout=TOTAL_TIMEOUT):
    """The resource limits of the processes that run a notebook's code.

    Parameters
    ----------
    memory : int, default 2 GiB
        Bytes per process (and for all the processes of one kernel or exercise together).
    total_timeout : float, default 600
        The notebook's time limit in seconds, which is also each process's CPU time limit: a
        backstop for a process the per-cell (wall-clock) time limit does not reach.

    Returns
    -------
    grading.sandbox.Limits
        With the sandbox's defaults for processes (64) and file size (256 MiB).
    """
    return sandbox.Limits(memory=memory, cpu_time=total_timeout)


def points(n):
    """``1 point``, ``2 points``, ``1.5 points``."""
    return f"{n:g} point{'' if n == 1 else 's'}"


class GradingError(Exception):
    """The notebook cannot be graded at all (missing, not a notebook, no exercises)."""


@dataclass
class PartResult:
    """One part of an exercise: its points, and whether every case in it passed."""

    title: str
    points: float
    earned: float
    message: str


@dataclass
class ExerciseResult:
    """The verdict on one exercise.

    Attributes
    ----------
    label, title : str
        The exercise's label and title.
    status : str
        ``pass`` (every automatic point), ``partial``, ``fail``, ``not-done`` (not
        implemented, or not defined), ``reference`` (the answer called the reference it was
        asked to write), ``written`` (a written answer for the teacher), ``unanswered`` (a
        written answer still missing) or ``no-check`` (the grader does not know the label).
    message : str
        The sentence to act on.
    points, earned : float
        Automatic points available and earned.
    manual : float
        Points of the written part, which the teacher awards.
    answered : bool or None
        Whether the written part has an answer (None: there is no written part).
    answer : str
        The written answer, for the teacher.
    parts : list of PartResult
    """

    label: str
    title: str = ""
    status: str = "fail"
    message: str = ""
    points: float = 0
    earned: float = 0
    manual: float = 0
    answered: bool | None = None
    answer: str = ""
    parts: list = field(default_factory=list)

    @property
    def passed(self):
        """Every automatic point earned, and the written part (if any) answered."""
        if self.status == "no-check":
            return False
        return self.earned >= self.points and self.answered is not False

    @property
    def verdict(self):
        """``PASS``; ``PART`` when some automatic points were earned, or all of them with the
        written part still unanswered; else ``FAIL``."""
        if self.passed:
            return "PASS"
        return "PART" if 0 < self.earned else "FAIL"

    def points_text(self):
        auto = f"{self.earned:g}/{points(self.points)}" if self.points else ""
        if auto and self.manual:
            return f"{auto} + {self.manual:g} for your teacher"
        return auto or (f"{points(self.manual)} for your teacher" if self.manual else "no points")

    def line(self):
        return f"{self.verdict}  {self.label} ({self.points_text()}): {self.message}"


@dataclass
class NotebookGrade:
    """The outcome of :func:`grade` for one notebook (``limits``: the names of the resource
    limits its code ran into, such as ``"memory"``)."""

    notebook: Path
    chapter: str
    seed: int
    results: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    cells: list = field(default_factory=list)
    limits: list = field(default_factory=list)

    @property
    def total(self):
        """Automatic points earned."""
        return sum(r.earned for r in self.results)

    @property
    def max(self):
        """Automatic points available."""
        return sum(r.points for r in self.results)

    @property
    def manual_max(self):
        """Points of written answers, which the teacher awards."""
        return sum(r.manual for r in self.results)

    @property
    def passed(self):
        return bool(self.results) and all(r.passed for r in self.results)

    def lines(self):
        out = [r.line() for r in self.results]
        out += [f"note: {n}" for n in self.notes]
        n_pass = sum(r.passed for r in self.results)
        written = (f"; {points(self.manual_max)} more for written answers, which your teacher "
                   f"reads" if self.manual_max else "")
        out.append(f"{n_pass} of {len(self.results)} exercises pass: {self.total:g} of "
                   f"{points(self.max)}{written}.")
        out.append(f"Seed {self.seed} (--seed {self.seed} repeats this grading exactly).")
        return out

    def to_dict(self):
        """The report as JSON-able data (``python -m grading grade --json``)."""
        return {
            "notebook": str(self.notebook), "chapter": self.chapter, "seed": self.seed,
            "total": self.total, "max": self.max, "manual_max": self.manual_max,
            "passed": self.passed, "notes": list(self.notes), "cells": list(self.cells),
            "limits": list(self.limits),
            "exercises": [{
                "label": r.label, "title": r.title, "status": r.status, "verdict": r.verdict,
                "message": r.message, "points": r.points, "earned": r.earned,
                "manual": r.manual, "answered": r.answered, "answer": r.answer,
                "parts": [vars(p) for p in r.parts]} for r in self.results],
        }


def load_notebook(path):
    """Read a notebook, or raise :class:`GradingError` saying what is wrong with the path."""
    path = Path(path)
    if not path.exists():
        raise GradingError(f"{path}: no such file")
    if not path.is_file():
        raise GradingError(f"{path} is not a file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat warns about old or odd but usable files
            nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        raise GradingError(f"{path} is not a Jupyter notebook ({type(exc).__name__}: "
                           f"{one_line(exc)})") from None
    if not isinstance(nb.get("cells"), list):
        raise GradingError(f"{path} is not a Jupyter notebook (it has no cells)")
    return nb


def chapter_of(exercises):
    """The chapter most of a notebook's exercise labels belong to, or None."""
    chapters = collections.Counter(CHECKS[e.label].chapter for e in exercises if e.label in CHECKS)
    return chapters.most_common(1)[0][0] if chapters else None


def new_seed():
    """A fresh seed for one grading run (the hidden random data)."""
    return secrets.randbits(32)


def grade(path, *, timeout=CELL_TIMEOUT, total_timeout=TOTAL_TIMEOUT, seed=None, book_dir=None,
          limits=None, strict=False):
    """Run a student's notebook and grade each exercise of its chapter.

    Parameters
    ----------
    path : path
        The notebook to grade (it is not modified).
    timeout : float, default 60
        Time limit in seconds for each cell, and for each call of a student's function.
    total_timeout : float, default 600
        Time limit in seconds for running the notebook and its checks, counted once the
        kernel is ready.
    seed : int, optional
        Seed of the hidden random data; default: a new one (recorded in the report).
    book_dir : path, optional
        The folder holding ``algos`` and the chapters' files; default: this book.
    limits : grading.sandbox.Limits, optional
        Resource limits of each process that runs the student's code; default
        :func:`default_limits` for ``total_timeout``.
    strict : bool, default False
        Refuse to grade where the sandbox cannot run (see :func:`grading.sandbox.available`).

    Returns
    -------
    NotebookGrade

    Raises
    ------
    GradingError
        If ``path`` is missing, is not a notebook, has no exercise of this book, or no kernel
        can be started.
    grading.sandbox.SandboxUnavailable
        If `strict` and the sandbox cannot run here (raised before anything runs).
    ValueError
        If a time limit is not positive.

    Notes
    -----
    Every exercise of the notebook's chapter is graded, even one whose cells the student
    deleted (the functions are looked for by name in the whole notebook).
    """
    if not timeout > 0 or not total_timeout > 0:
        raise ValueError(f"time limits must be positive, got timeout={timeout}, "
                         f"total_timeout={total_timeout}")
    if strict:
        require_sandbox()
    limits = default_limits(total_timeout=total_timeout) if limits is None else limits
    book_dir = Path(book_dir) if book_dir else _default_book_dir()
    seed = new_seed() if seed is None else int(seed)
    nb = load_notebook(path)
    exercises = {e.label: e for e in parse(nb, str(path), strict=False)}
    chapter = chapter_of(exercises.values())
    if chapter is None:
        found = f" (it has {', '.join(sorted(exercises))})" if exercises else ""
        raise GradingError(f"{path} has no exercise of this book{found}; an exercise is an "
                           f"{{exercise}} block with a :label:, as in the chapters")

    deadline = time.monotonic() + total_timeout
    try:
        kernel = run_notebook(copy.deepcopy(nb), path, book_dir=book_dir, timeout=timeout,
                              deadline=deadline, total_timeout=total_timeout, limits=limits,
                              strict=strict)
    except KernelStartError as exc:
        raise GradingError(f"could not start a Python kernel to run {path}: {exc}") from None

    parsed = parse_notebook(nb.cells)
    report = NotebookGrade(Path(path), chapter, seed)
    graded, hits = [], [kernel.limit] + [o.limit for o in kernel.outcomes.values()]
    for check in chapter_checks(chapter):
        ex = exercises.get(check.label)
        if check.written:
            graded.append((ex.cell if ex else len(nb.cells), _written_result(nb, ex, check)))
        else:
            result = _grade_auto(nb, ex, check, parsed, kernel, seed, book_dir, timeout,
                                 deadline, limits, strict, hits)
            graded.append((ex.cell if ex else len(nb.cells), result))
    for label, ex in exercises.items():
        if label not in CHECKS:
            graded.append((ex.cell, ExerciseResult(
                label, ex.title, "no-check", "the grader has no check for this exercise; "
                                             "please tell your teacher")))
    report.results = [r for _, r in sorted(graded, key=lambda item: item[0])]
    report.notes, report.cells = _cell_notes(nb, exercises.values(), kernel, report.results)
    report.limits = sorted({hit.limit for hit in hits if hit is not None})
    return report


def require_sandbox():
    """Raise :class:`grading.sandbox.SandboxUnavailable` (saying why) if the sandbox cannot
    run here."""
    ok, why = sandbox.available()
    if not ok:
        raise sandbox.SandboxUnavailable(why)


# --- automatic exercises --------------------------------------------------------------------------

def _end_of(ex, parsed, names):
    """Where the answer is checked: after the exercise's cells, or the notebook's end when a
    name is only defined later (or the exercise's cells are gone)."""
    end = len(parsed.statements)
    if ex is not None:
        at = parsed.cell_end(max(ex.cells))
        if all(binders(parsed.statements, n, at) for n in names):
            end = at
    return end


def _requests(cases):
    out = []
    for i, case in enumerate(cases):
        if case.call is not None:
            out.append({"id": i, "call": case.call,
                        "args": [_plain.encode(v) for v in case.args.values()]})
        else:
            out.append({"id": i, "value": case.value if isinstance(case.value, str)
                        else list(case.value)})
    return out


def _what(case):
    if case.call is not None:
        return f"your {case.call}"
    names = [case.value] if isinstance(case.value, str) else list(case.value)
    return " / ".join(names)


def _judge(case, outcome, stopped):
    """(passed, message) for one case."""
    what, status = _what(case), outcome.status
    if status == "ok":
        if outcome.changed:
            names = list(case.args)
            changed = ", ".join(names[i] for i in outcome.changed if 0 <= i < len(names))
            return False, (f"{what} changed its argument {changed} ({case.where}); it should "
                           f"only read its inputs (work on a copy)")
        try:
            case.judge(outcome.value, case)
        except Failed as exc:
            return False, str(exc)
        except Exception as exc:  # a bug in the check, not in the student's work
            return False, (f"the grader's check broke ({type(exc).__name__}: {one_line(exc)}); "
                           f"please tell your teacher")
        return True, ""
    if status == "not-implemented":
        return False, "not implemented yet"
    if status == "raised" and outcome.limit is not None:
        return False, (f"{what} was stopped at the {outcome.limit.limit} limit ({case.where}): "
                       f"{outcome.limit.message}")
    if status == "raised":
        return False, f"{what} raised {outcome.error} ({case.where})"
    if status == "timeout":
        return False, (f"{outcome.error} {case.where}: {what} did not finish (is there an "
                       f"endless loop?)")
    if status == "died":
        return False, f"{what} stopped the process that ran it ({case.where}): {outcome.error}"
    if status == "not-callable":
        return False, f"{case.call} should be a function, but it is {describe(outcome.value)}"
    if status == "bad-data":
        return False, (f"what {what} returned ({case.where}) could not be read as numbers "
                       f"({outcome.error})")
    if status == "not-run":
        return False, f"not checked: {stopped or 'the process that ran your code stopped'}"
    return False, f"not checked ({status})"


def _grade_auto(nb, ex, check, parsed, kernel, seed, book_dir, timeout, deadline, limits,
                strict, hits):
    result = ExerciseResult(check.label, ex.title if ex else "", points=check.points,
                            manual=check.manual)
    if check.manual:
        result.answer, result.answered = _written_part(nb, ex, check)
    parts = check.build(rng_for(seed, check.label))
    cases = [case for part in parts for case in part.cases]
    end = _end_of(ex, parsed, check.names)
    needed = slice_for(parsed, check.names, end)
    statements = [{"cell": s.cell, "line": s.line, "source": src} for s, src in needed]
    run = run_exercise(statements, _requests(cases), references=check.references,
                       book_dir=book_dir, timeout=timeout, deadline=deadline, limits=limits,
                       strict=strict)
    outcomes = [run.outcomes[i] for i in range(len(cases))]
    hits += [run.limit] + [o.limit for o in outcomes]

    called = [o.name for o in outcomes if o.status == "reference"] + run.references
    if called:
        result.status = "reference"
        package = called[0].split(".")[0]
        if package == "algos":
            result.message = (f"your answer calls {called[0]}, which this exercise asks you to "
                              f"write yourself: no points. Write it with numpy (the grader runs "
                              f"your code without the book's version)")
        else:
            result.message = (f"your answer calls {called[0]} ({package}), but this exercise "
                              f"asks for numpy only: no points. Write the computation with "
                              f"numpy yourself")
        result.parts = [PartResult(p.title, p.points, 0, result.message) for p in parts]
        return result
    if all(o.status == "not-implemented" for o in outcomes):
        result.status, result.message = "not-done", "not implemented yet"
    elif all(o.status == "missing" for o in outcomes):
        result.status = "not-done"
        result.message = _missing_message(outcomes[0].name, ex, nb, parsed, kernel, run)
    if result.status == "not-done":
        result.parts = [PartResult(p.title, p.points, 0, result.message) for p in parts]
        return _with_written_part(result, check)

    k = 0
    for part in parts:
        first_failure = ""
        for case in part.cases:
            outcome = outcomes[k]
            k += 1
            if outcome.status == "missing":
                ok, message = False, _missing_message(outcome.name, ex, nb, parsed, kernel, run)
            else:
                ok, message = _judge(case, outcome, run.stopped)
            if not ok and not first_failure:
                first_failure = message
        earned = 0 if first_failure else part.points
        result.parts.append(PartResult(part.title, part.points, earned, first_failure or "right"))
        result.earned += earned
    failures = [p.message for p in result.parts if p.earned < p.points]
    if not failures:
        result.status = "pass"
        result.message = (f"{' and '.join(check.names)} passed every part: "
                          f"{'; '.join(p.title for p in parts)}")
    else:
        result.status = "partial" if result.earned > 0 else "fail"
        result.message = failures[0]
    return _with_written_part(result, check)


def _with_written_part(result, check):
    if check.manual and not result.answered:
        result.message += (f". The written part ({points(check.manual)}) is not answered yet: "
                           f"explain in a few sentences, your teacher reads them")
    return result


_STUB = re.compile(rf"^\s*{re.escape(STUB[0])}\s*\n\s*{re.escape(STUB[1])}\s*$", re.MULTILINE)


def _stubbed(ex, nb):
    """True when an answer cell of the exercise still holds the hand-out's stub."""
    return ex is not None and any(_STUB.search(source_of(nb.cells[i])) for i in ex.solution_cells)


def _missing_message(name, ex, nb, parsed, kernel, run):
    """Why a name the exercise asks for is not defined, told from the notebook's cells."""
    if _stubbed(ex, nb):
        return "not implemented yet"
    answer_cells = ex.solution_cells if ex is not None else []
    for c in answer_cells:
        if c in parsed.syntax_errors:
            return (f"{name} is not defined because the cell that should define it does not "
                    f"parse: {parsed.syntax_errors[c]}")
    for err in run.statement_errors:
        if err["cell"] in answer_cells:
            return (f"{name} is not defined because the cell that should define it stopped "
                    f"with {err['ename']}: {err['evalue']}")
    for c in answer_cells:
        out = kernel.outcomes.get(c)
        if out is not None and out.status == "error":
            if out.ename == "NotImplementedError":
                return "not implemented yet"
            return (f"{name} is not defined because the cell that should define it stopped "
                    f"with {out.ename}: {out.evalue}")
    return (f"{name} is not defined; define it in this exercise's answer cell (keep the name "
            f"{name})")


# --- written answers ---------------------------------------------------------------------------------

def _words(text):
    text = re.sub(re.escape(ANSWER_PLACEHOLDER), " ", text, flags=re.IGNORECASE)
    return re.findall(r"[^\W_]+(?:['’-][^\W_]+)*", text)


def _written_part(nb, ex, check):
    """(the written answer's text, whether it is answered) for an exercise with a written part.

    The answer is the markdown answer cell (tagged ``solution``), or, where the exercise has
    none, the comments in its code answer cells.
    """
    if ex is None:
        return "", False
    cells = nb.cells
    markdown = [i for i in ex.solution_cells if cells[i].get("cell_type") == "markdown"]
    tagged = [i for i in markdown if is_tagged_solution(cells[i])] or markdown
    if tagged:
        text = "\n\n".join(source_of(cells[i]).strip() for i in tagged)
    else:
        comments = []
        for i in ex.solution_cells:
            for line in source_of(cells[i]).splitlines():
                stripped = line.strip()
                if stripped.startswith("#") and stripped != STUB[0]:
                    comments.append(stripped.lstrip("#").strip())
        text = "\n".join(comments)
    return text, len(_words(text)) >= MIN_WORDS


def _written_result(nb, ex, check):
    """A written answer is listed for the teacher once it holds a few words."""
    result = ExerciseResult(check.label, ex.title if ex else "", "unanswered", manual=check.manual)
    if ex is None or not any(nb.cells[i].get("cell_type") == "markdown" for i in ex.solution_cells):
        result.answered = False
        result.message = ("not answered yet: the answer cell (a markdown cell after the "
                          "exercise, tagged 'solution') is missing")
        return result
    result.answer, result.answered = _written_part(nb, ex, check)
    words = _words(result.answer)
    if not words:
        result.message = f"not answered yet: replace \"{ANSWER_PLACEHOLDER}\" with your answer"
    elif not result.answered:
        result.message = (f"not answered yet: your answer has only {len(words)} "
                          f"word{'s' * (len(words) != 1)}; explain in a sentence or two")
    else:
        result.status = "written"
        result.message = (f"answered ({len(words)} words); your teacher reads written answers "
                          f"and awards their {points(check.manual)}")
    return result


# --- what the kernel run tells the student ----------------------------------------------------------

def _cell_notes(nb, exercises, kernel, results):
    """Notes on cells that failed or ran too long, except what the exercises' verdicts say.

    Returns the notes and, for ``to_dict``, every code cell's outcome with ``expected`` saying
    whether its error comes from an unanswered exercise (``NotImplementedError``, or a
    ``NameError`` in the cells of an exercise that is still the hand-out's stub). An error in
    the cells of an exercise that does not pass is left to that exercise's verdict.
    """
    unanswered, explained = set(), set()
    failing = {r.label for r in results if not r.passed}
    for ex in exercises:
        if _stubbed(ex, nb):
            unanswered.update(ex.cells)
        if ex.label in failing:
            explained.update(ex.cells)
    notes, cells = [], []
    for i, out in sorted(kernel.outcomes.items()):
        expected = out.status == "error" and (
            out.ename == "NotImplementedError"
            or (out.ename == "NameError" and i in unanswered))
        cells.append({"cell": i, "status": out.status, "ename": out.ename,
                      "evalue": out.evalue, "expected": expected})
        where = describe_cell(None, i, nb.cells[i])
        if out.status == "timeout":
            notes.append(f"{where} was stopped after {out.seconds} s (an endless loop?)")
        elif out.status == "error" and out.limit is not None:
            notes.append(f"{where} was stopped at the {out.limit.limit} limit: {out.limit.message}")
        elif out.status == "error" and not expected and i not in explained:
            notes.append(f"{where} failed with {out.ename}: {one_line(out.evalue)}")
    if kernel.broken:
        notes.append(f"{kernel.broken}; what came after was not run")
    return notes, cells
