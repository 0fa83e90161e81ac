"""Grade a student's notebook (``make grade NB=...``).

The notebook is copied to a temporary folder and run top to bottom in a fresh kernel, with a
time limit per cell and for the whole run; a cell that fails does not stop the others. Then,
in the same kernel, the check of every exercise found in the notebook runs (see
:mod:`grading._checks`), and the result is one line per exercise, ``PASS`` or ``FAIL``
with a sentence for the student.

Why this shape:

* a fresh kernel and a copy: grading never depends on, or changes, the student's session or
  file;
* the kernel's ``algos`` comes from this repository (``book/`` on ``PYTHONPATH``), so the
  reference answers are the book's, whatever the student's folder holds;
* an endless loop is interrupted at the time limit (the kernel survives and grading goes on);
  a kernel that ignores the interrupt is stopped, and the exercises it kept from running are
  reported as not checked.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from ._checks import CHECKS, RESULT_MIME
from ._paths import ROOT, book_dir as _default_book_dir
from ._markers import describe_cell, is_tagged_solution, parse, source_of
from ._student import ANSWER_PLACEHOLDER

#: Default time limit for one cell, and for one exercise's check, in seconds.
CELL_TIMEOUT = 60
#: Default time limit for running the whole notebook and its checks, in seconds.
TOTAL_TIMEOUT = 600
#: Seconds a new kernel may take to answer (a loaded machine can be slow to start Python).
KERNEL_START_TIMEOUT = 60
#: A written answer needs at least this many words besides the placeholder.
MIN_WORDS = 5
# After an interrupt the kernel must answer a trivial request within this time, or it is stuck.
_PROBE_TIMEOUT = 10


class GradingError(Exception):
    """The notebook cannot be graded at all (missing, not a notebook, no exercises)."""


@dataclass
class ExerciseResult:
    label: str
    passed: bool
    message: str

    def line(self):
        return f"{'PASS' if self.passed else 'FAIL'}  {self.label}: {self.message}"


@dataclass
class GradeReport:
    """The outcome of :func:`grade`: one result per exercise, in notebook order.

    ``notes`` holds what the student should know that belongs to no exercise (a cell outside
    the exercises that was stopped by the time limit, a kernel that died).
    """

    notebook: Path
    results: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def passed(self):
        return bool(self.results) and all(r.passed for r in self.results)

    def lines(self):
        out = [r.line() for r in self.results]
        out += [f"note: {n}" for n in self.notes]
        n_pass = sum(r.passed for r in self.results)
        out.append(f"{n_pass} of {len(self.results)} exercises pass.")
        return out


@dataclass
class _Outcome:
    """What happened when a cell ran."""

    status: str  # "ok", "error", "timeout", "not run"
    ename: str = ""
    evalue: str = ""
    seconds: int = 0


class _Client(NotebookClient):
    """nbclient's client, remembering whether the last cell hit its time limit."""

    timed_out = False

    async def _async_handle_timeout(self, timeout, cell=None):
        self.timed_out = True
        return await super()._async_handle_timeout(timeout, cell)


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
                           f"{' '.join(str(exc).split())[:200]})") from None
    if not isinstance(nb.get("cells"), list):
        raise GradingError(f"{path} is not a Jupyter notebook (it has no cells)")
    return nb


def _kernel_env(book_dir):
    env = dict(os.environ)
    # The kernel imports the chapters' ``algos`` and the grader's checks, nothing from the caller.
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([str(book_dir), str(ROOT)]))
    env["MPLBACKEND"] = "Agg"  # figures are not looked at: skip rendering them
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # silence debugpy's startup warning
    return env


def _workdir(notebook, book_dir, tmp):
    """A temporary folder with a copy of the notebook, and the book's other files linked in,
    so a chapter that reads a file next to it (``data/...``) still finds it."""
    work = Path(tmp)
    shutil.copy(notebook, work / "notebook.ipynb")
    for entry in Path(book_dir).iterdir():
        if entry.suffix == ".ipynb" or entry.name.startswith((".", "_")):
            continue
        try:
            (work / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
        except OSError:
            pass
    return work


def _error_of(cell):
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return out.get("ename", ""), " ".join(str(out.get("evalue", "")).split())
    return None


class _Runner:
    """Runs cells in one kernel under a per-cell and an overall time limit."""

    def __init__(self, client, cell_timeout, total_timeout, started):
        self.client = client
        # nbclient stores each executed cell back into the notebook at its index; the
        # grader's own cells (checks, probes) go to this extra slot at the end, so they never
        # replace a cell of the student's notebook.
        client.nb.cells.append(nbformat.v4.new_code_cell(""))
        self.scratch = len(client.nb.cells) - 1
        self.cell_timeout = cell_timeout
        self.total_timeout = total_timeout
        self.deadline = started + total_timeout
        self.broken = ""  # why the kernel cannot run anything more, once it cannot

    def remaining(self):
        return self.deadline - time.monotonic()

    def run(self, cell, index=None):
        """Run one code cell (the notebook's cell ``index``, or a grader's cell if None)."""
        if self.broken:
            return _Outcome("not run")
        budget = min(self.cell_timeout, self.remaining())
        if budget < 1:
            self.broken = f"grading stopped at its overall time limit of {self.total_timeout:g} s"
            return _Outcome("not run")
        seconds = int(math.ceil(budget))
        self.client.timeout = seconds
        self.client.timed_out = False
        try:
            self.client.execute_cell(cell, self.scratch if index is None else index,
                                     store_history=index is not None)
        except DeadKernelError:
            self.broken = "the kernel died (did the notebook exhaust the memory or exit Python?)"
            return _Outcome("not run")
        if self.client.timed_out:
            if not self._responsive():
                self.broken = (f"the kernel did not stop after the time limit of {seconds} s "
                               f"and was shut down")
            return _Outcome("timeout", seconds=seconds)
        err = _error_of(cell)
        return _Outcome("error", *err) if err else _Outcome("ok")

    def _responsive(self):
        # After an interrupt the kernel must answer a trivial request; if the code swallowed
        # the KeyboardInterrupt it is still busy and everything after would time out too.
        probe = nbformat.v4.new_code_cell("pass")
        self.client.timeout = max(2, min(_PROBE_TIMEOUT, int(self.cell_timeout)))
        self.client.timed_out = False
        try:
            self.client.execute_cell(probe, self.scratch, store_history=False)
        except DeadKernelError:
            return False
        return not self.client.timed_out


def _written_result(nb, ex):
    """A written answer passes once it holds a few words; the teacher reads it."""
    cells = nb.cells
    candidates = [i for i in ex.solution_cells if cells[i].get("cell_type") == "markdown"]
    tagged = [i for i in candidates if is_tagged_solution(cells[i])] or candidates
    if not tagged:
        return ExerciseResult(ex.label, False, "not answered yet: the answer cell (a markdown "
                                               "cell tagged 'solution' after the exercise) is missing")
    text = " ".join(source_of(cells[i]) for i in tagged)
    text = re.sub(re.escape(ANSWER_PLACEHOLDER), " ", text, flags=re.IGNORECASE)
    words = re.findall(r"[^\W_]+(?:['’-][^\W_]+)*", text)
    if not words:
        return ExerciseResult(ex.label, False, f"not answered yet: replace "
                                               f"\"{ANSWER_PLACEHOLDER}\" with your answer")
    if len(words) < MIN_WORDS:
        return ExerciseResult(ex.label, False, f"not answered yet: your answer has only "
                                               f"{len(words)} word{'s' * (len(words) != 1)}; "
                                               f"explain in a sentence or two")
    return ExerciseResult(ex.label, True, f"answered ({len(words)} words); your teacher reads "
                                          f"written answers")


def _missing_message(name, ex, outcomes):
    """Why a name the exercise asks for is not defined, told from the exercise's cells."""
    for i in ex.solution_cells:
        out = outcomes.get(i)
        if out and out.status == "error":
            if out.ename == "NotImplementedError":
                return "not implemented yet"
            return (f"{name} is not defined because the cell that should define it stopped with "
                    f"{out.ename}: {out.evalue}")
    return (f"{name} is not defined; define it in this exercise's answer cell (keep the name "
            f"{name})")


def _timeout_in(ex, outcomes):
    return next((i for i in ex.cells if outcomes.get(i) and outcomes[i].status == "timeout"), None)


def _check_cell(label):
    src = (f"__import__('grading._checks', fromlist=['display_result'])"
           f".display_result({label!r}, globals())")
    return nbformat.v4.new_code_cell(src)


def _read_result(cell):
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if RESULT_MIME in data:
            result = data[RESULT_MIME]
            return json.loads(result) if isinstance(result, str) else result
    return None


def grade(path, *, timeout=CELL_TIMEOUT, total_timeout=TOTAL_TIMEOUT, book_dir=None):
    """Run a student's notebook and check each of its exercises.

    Parameters
    ----------
    path : path
        The notebook to grade (it is not modified).
    timeout : float, default 60
        Time limit in seconds for each cell of the notebook and for each exercise's check.
    total_timeout : float, default 600
        Time limit in seconds for running the notebook and its checks, counted once the
        kernel is ready (starting the kernel has its own limit, ``KERNEL_START_TIMEOUT``).
    book_dir : path, optional
        The folder holding ``algos`` and the chapters' files; default: this book.

    Returns
    -------
    GradeReport
        ``.results`` (one :class:`ExerciseResult` per exercise label, in notebook order),
        ``.notes`` and ``.passed``.

    Raises
    ------
    GradingError
        If ``path`` is missing, is not a notebook, or has no exercise.
    ValueError
        If a time limit is not positive.

    Notes
    -----
    Every exercise is checked, even after another failed: a cell that raises does not stop
    the run, and a cell that runs past ``timeout`` is interrupted. An exercise is checked as
    soon as its last cell (its self-check) has run, so a kernel that gets stuck later in the
    notebook cannot take earlier results with it; an exercise whose markers the student broke
    is checked at the end. An exercise whose own cells (statement to self-check) ran past the
    limit is reported as timed out without running its check again.
    """
    if not timeout > 0 or not total_timeout > 0:
        raise ValueError(f"time limits must be positive, got timeout={timeout}, "
                         f"total_timeout={total_timeout}")
    book_dir = Path(book_dir) if book_dir else _default_book_dir()
    nb = load_notebook(path)
    exercises = parse(nb, str(path), strict=False)
    if not exercises:
        raise GradingError(f"{path} has no exercises (an exercise is a {{exercise}} block with "
                           f"a :label:, as in the chapters)")
    report = GradeReport(Path(path))
    outcomes, results = {}, {}
    # Which exercises to check after which cell (None: after the last one).
    due = {}
    for ex in exercises:
        due.setdefault(max(ex.cells) if ex.gate else None, []).append(ex)

    with tempfile.TemporaryDirectory(prefix="algos-grade-") as tmp:
        work = _workdir(path, book_dir, tmp)
        client = _Client(
            nb, timeout=int(math.ceil(timeout)), kernel_name="python3", allow_errors=True,
            interrupt_on_timeout=True, shutdown_kernel="immediate", iopub_timeout=5,
            # After an interrupt, do not wait for the cell's reply: the kernel may never send it.
            error_on_timeout={"ename": "TimeoutError", "evalue": "cell timed out", "traceback": []},
            resources={"metadata": {"path": str(work)}}, startup_timeout=KERNEL_START_TIMEOUT,
            log=_quiet_log(),
        )
        try:
            with client.setup_kernel(env=_kernel_env(book_dir), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL):
                runner = _Runner(client, timeout, total_timeout, time.monotonic())
                for i, cell in enumerate(nb.cells[:runner.scratch]):
                    if cell.get("cell_type") == "code" and source_of(cell).strip():
                        outcomes[i] = runner.run(cell, i)
                    for ex in due.get(i, []):
                        results[ex.label] = _grade_exercise(nb, ex, outcomes, runner)
                for ex in due.get(None, []):
                    results[ex.label] = _grade_exercise(nb, ex, outcomes, runner)
        except RuntimeError as exc:  # the kernel did not start
            raise GradingError(f"could not start a Python kernel to run {path}: {exc}") from None
    report.results = [results[ex.label] for ex in exercises]

    in_exercise = {i for ex in exercises for i in ex.cells}
    for i, out in sorted(outcomes.items()):
        if out.status == "timeout" and i not in in_exercise:
            report.notes.append(f"{describe_cell(None, i, nb.cells[i])} was stopped "
                                f"after {out.seconds} s (an endless loop?)")
    if runner.broken:
        report.notes.append(f"{runner.broken}; what came after was not run")
    return report


def _grade_exercise(nb, ex, outcomes, runner):
    check = CHECKS.get(ex.label)
    if check is None:
        return ExerciseResult(ex.label, False, "the grader has no check for this exercise; "
                                               "please tell your teacher")
    if check.written:
        return _written_result(nb, ex)
    stuck = _timeout_in(ex, outcomes)
    if stuck is not None:
        cell = describe_cell(None, stuck, nb.cells[stuck])
        return ExerciseResult(ex.label, False, f"timed out after {outcomes[stuck].seconds} s: "
                                               f"{cell} did not finish; is there an endless loop?")
    if any(outcomes.get(i) and outcomes[i].status == "not run" for i in ex.cells) or runner.broken:
        return ExerciseResult(ex.label, False, f"not checked: {runner.broken or 'its cells did not run'}")

    cell = _check_cell(ex.label)
    outcome = runner.run(cell)
    names = " / ".join(check.names)
    if outcome.status == "timeout":
        return ExerciseResult(ex.label, False, f"timed out after {outcome.seconds} s while the "
                                               f"grader ran your {names} on its test data (an "
                                               f"endless loop?)")
    if outcome.status == "not run":
        return ExerciseResult(ex.label, False, f"not checked: {runner.broken}")
    result = _read_result(cell)
    if result is None:
        why = f"{outcome.ename}: {outcome.evalue}" if outcome.status == "error" else "no result"
        return ExerciseResult(ex.label, False, f"the grader could not run its check ({why}); "
                                               f"please tell your teacher")
    status = result.get("status")
    if status == "pass":
        return ExerciseResult(ex.label, True, result["message"])
    if status == "missing":
        return ExerciseResult(ex.label, False, _missing_message(result["name"], ex, outcomes))
    return ExerciseResult(ex.label, False, result.get("message", "failed"))


def _quiet_log():
    # nbclient logs every timeout at ERROR level; the report already says it in words.
    log = logging.getLogger("grading.kernel")
    log.addHandler(logging.NullHandler())
    log.propagate = False
    return log
