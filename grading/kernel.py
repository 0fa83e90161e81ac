"""Run a notebook top to bottom in a fresh kernel, with time limits, and record what happened.

The kernel run decides no verdict: it tells the student which cells failed or ran too long
(the messages of the grader's report and the self-check's notes). Nothing the kernel prints
or displays is read; only nbclient's own record of each cell (an error, a time-out, a dead
kernel) is.

* The notebook is copied to a temporary folder with the book's ``algos`` and data linked next
  to it, so a chapter that reads ``data/...`` still finds it; the student's file is never
  changed.
* The kernel runs contained (:mod:`grading.launch`, :mod:`grading.sandbox`): with limits, and on
  Linux with bubblewrap in a sandbox that sees only the Python environment, ``algos``, the data
  and that folder. A cell or a kernel stopped by a limit is reported with the limit's name.
* A cell that fails does not stop the run. A cell that runs past the time limit is
  interrupted, and the kernel must then answer a trivial request, or it is stopped and the
  rest is reported as not run. A kernel that dies (``os._exit``, the out-of-memory killer)
  ends the run the same way.
* When the run ends, everything left in the kernel's process group is killed.
"""

from __future__ import annotations

import logging
import math
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from . import launch, sandbox
from ._paths import book_files

#: Seconds a new kernel may take to answer (a loaded machine can be slow to start Python).
KERNEL_START_TIMEOUT = 60
# After an interrupt the kernel must answer a trivial request within this time, or it is stuck.
_PROBE_TIMEOUT = 10


class KernelStartError(RuntimeError):
    """No kernel could be started to run the notebook."""


@dataclass
class CellOutcome:
    """What happened when a code cell ran.

    ``status`` is ``ok``, ``error`` (``ename``/``evalue``), ``timeout`` (after ``seconds``)
    or ``not run``; ``limit`` is the :class:`grading.sandbox.LimitHit` an error came from.
    """

    status: str
    ename: str = ""
    evalue: str = ""
    seconds: int = 0
    limit: object = None


@dataclass
class NotebookRun:
    """:func:`run_notebook`'s result: an outcome per code cell that has code, why the run
    stopped early (``broken``, empty if it did not), and the limit that stopped it (``limit``,
    a :class:`grading.sandbox.LimitHit`, or None)."""

    outcomes: dict = field(default_factory=dict)
    broken: str = ""
    limit: object = None


class _Client(NotebookClient):
    """nbclient's client, remembering whether the last cell hit its time limit."""

    timed_out = False

    async def _async_handle_timeout(self, timeout, cell=None):
        self.timed_out = True
        return await super()._async_handle_timeout(timeout, cell)


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _error_of(cell):
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return str(out.get("ename", "")), " ".join(str(out.get("evalue", "")).split())
    return None


class _Runner:
    """Runs cells in one kernel under a per-cell and an overall time limit."""

    def __init__(self, client, cell_timeout, deadline, total_timeout):
        self.client = client
        self.km = client.km
        # nbclient stores each executed cell back into the notebook at its index; the
        # grader's probes go to this extra slot at the end, so they never replace a cell of
        # the student's notebook.
        client.nb.cells.append(nbformat.v4.new_code_cell(""))
        self.scratch = len(client.nb.cells) - 1
        self.cell_timeout = cell_timeout
        self.deadline = deadline
        self.total_timeout = total_timeout
        self.broken = ""
        self.limit = None

    def run(self, cell, index):
        if self.broken:
            return CellOutcome("not run")
        budget = min(self.cell_timeout, self.deadline - time.monotonic())
        if budget < 1:
            self.broken = f"grading stopped at its overall time limit of {self.total_timeout:g} s"
            return CellOutcome("not run")
        seconds = int(math.ceil(budget))
        self.client.timeout = seconds
        self.client.timed_out = False
        try:
            self.client.execute_cell(cell, index, store_history=True)
        except DeadKernelError:
            hit = self.km.limit_hit()
            if hit is not None and hit.limit != "killed":
                self.limit = hit
                self.broken = f"the kernel was stopped at its {hit.limit} limit: {hit.message}"
            else:
                self.broken = ("the kernel died (did the notebook exit Python, or the machine "
                               "run out of memory?)")
            return CellOutcome("not run")
        if self.client.timed_out:
            if not self._responsive():
                self.broken = (f"the kernel did not stop after the time limit of {seconds} s "
                               f"and was shut down")
            return CellOutcome("timeout", seconds=seconds)
        err = _error_of(cell)
        if err is None:
            return CellOutcome("ok")
        hit = sandbox.limit_hit(self.km.limits, ename=err[0], evalue=err[1])
        return CellOutcome("error", *err, limit=hit)

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


def _readable(book_dir):
    """What the kernel may read of the book: ``algos`` and the data (resolved paths)."""
    book_dir = Path(book_dir).resolve()
    return [book_dir / "algos", *(entry.resolve() for entry in book_files(book_dir))]


def _workdir(notebook, book_dir, tmp):
    """A temporary folder with a copy of the notebook and the book's algos and data linked in."""
    work = Path(tmp)
    shutil.copy(notebook, work / "notebook.ipynb")
    for entry in _readable(book_dir):
        try:
            (work / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
        except OSError:
            pass
    return work


def kernel_env(book_dir):
    """The kernel's environment variables: exactly these, whatever the caller's are.

    ``PYTHONPATH`` is the book's folder alone (the chapters' ``algos``, never a copy the
    caller's path would find first), ``MPLBACKEND`` is ``Agg`` (figures are not looked at).
    The sandbox passes nothing else of the caller's environment but the locale
    (:data:`grading.sandbox.ENV_KEEP`).
    """
    return {"PYTHONPATH": str(Path(book_dir).resolve()), "MPLBACKEND": "Agg",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1"}  # silence debugpy's startup warning


def _quiet_log():
    # nbclient logs every timeout at ERROR level; the report already says it in words.
    log = logging.getLogger("grading.kernel")
    log.addHandler(logging.NullHandler())
    log.propagate = False
    return log


def run_notebook(nb, path, *, book_dir, timeout, deadline, total_timeout, limits=None,
                 strict=False):
    """Run every code cell of ``nb`` (a copy of the file ``path``) in a fresh kernel.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook (its cells receive the outputs; pass a copy).
    path : path
        The notebook file, copied into the kernel's working folder.
    book_dir : path
        The folder with ``algos`` and the chapters' files.
    timeout : float
        Seconds per cell.
    deadline : float
        ``time.monotonic()`` after which no cell starts.
    total_timeout : float
        The overall limit, for the message.
    limits : grading.sandbox.Limits, optional
        The kernel's resource limits.
    strict : bool, default False
        Refuse to run the kernel without the sandbox.

    Returns
    -------
    NotebookRun

    Raises
    ------
    KernelStartError
        If the kernel does not start.
    grading.sandbox.SandboxUnavailable
        If `strict` and the sandbox cannot run here.
    """
    run = NotebookRun()
    with tempfile.TemporaryDirectory(prefix="grading-kernel-") as tmp:
        work = _workdir(path, book_dir, tmp)
        km = launch.kernel_manager(scratch=work, read_only=_readable(book_dir), limits=limits,
                                   strict=strict, setenv=kernel_env(book_dir))
        client = _Client(
            nb, km=km, timeout=int(math.ceil(timeout)), allow_errors=True,
            interrupt_on_timeout=True, shutdown_kernel="immediate", iopub_timeout=5,
            # After an interrupt, do not wait for the cell's reply: the kernel may never send it.
            error_on_timeout={"ename": "TimeoutError", "evalue": "cell timed out", "traceback": []},
            resources={"metadata": {"path": str(work)}}, startup_timeout=KERNEL_START_TIMEOUT,
            log=_quiet_log(),
        )
        client.owns_km = True  # nbclient shuts the kernel down and closes its channels at the end
        pgid = None
        try:
            with client.setup_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
                pgid = getattr(km.provisioner, "pgid", None)
                runner = _Runner(client, timeout, deadline, total_timeout)
                for i, cell in enumerate(nb.cells[:runner.scratch]):
                    if cell.get("cell_type") == "code" and _source(cell).strip():
                        run.outcomes[i] = runner.run(cell, i)
                run.broken, run.limit = runner.broken, runner.limit
                del nb.cells[runner.scratch:]
        except sandbox.SandboxUnavailable:
            raise
        except RuntimeError as exc:  # the kernel did not start
            raise KernelStartError(str(exc)) from None
        finally:
            km.stop()  # a kernel that started but failed to answer; no-op after nbclient's shutdown
            launch.stop_group(pgid)
    return run
