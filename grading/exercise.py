"""Run a student's answer in an exercise process, without the reference answers.

For each exercise the grader starts a fresh Python process (``python -I``: no ``PYTHONPATH``,
no user site, not even the script's folder on ``sys.path``) in a scratch folder holding:

* ``_harness.py`` and ``_plain.py`` (copied from this package), which run the statements the
  answer needs and call the student's functions on the grader's inputs;
* ``algos/``, a copy of the book's package in which the references the exercise asks the
  student to write are stand-ins (``Check.references``): a whole module (``algos.kmeans``)
  becomes a module whose every function records the call and raises ``ReferenceCalled``, a
  single function (``algos._distances.nearest_center``) is replaced the same way; installed
  packages named in the references (``"scipy"``, ``"sklearn"``) stay importable, but a call
  into one of them while a case runs stops the case (see :mod:`grading._harness`);
* links to the book's data files (:func:`grading._paths.book_files`), which a notebook may read.

Nothing of the grader is importable there, and the inputs arrive on standard input: the
process never sees an expected answer. What it sends back on standard output is read as
plain data (:mod:`grading._plain`), validated, and judged in the grader's process.

The process runs contained (:mod:`grading.launch`): with resource limits and, on Linux with
bubblewrap, in a sandbox that sees only the Python environment, the scratch folder and the
data. Each case has the per-cell time limit; the process is killed (with everything it
started) when a case runs past it, when the run passes its deadline, or when it is done. A
case stopped by a limit says which (``CaseOutcome.limit``).
"""

from __future__ import annotations

import importlib.util
import json
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _plain, launch, sandbox
from ._paths import book_files

_HERE = Path(__file__).resolve().parent
#: Most a process may write back (bytes); past it the process is stopped.
MAX_OUTPUT = 256 * 1024 * 1024
#: Bytes of the process's standard error kept to explain a crash.
LOG_TAIL = 4000

_GUARD = '''"""Stand-ins for the reference implementations while the grader checks an exercise.

The exercise asks you to write this yourself, so the grader's copy of ``algos`` does not have it:
calling it records the call and raises ``ReferenceCalled``.
"""

CALLED = []


class ReferenceCalled(BaseException):
    """Raised by a stand-in: the answer called the reference the exercise asks you to write."""


def reference(qualname):
    """A function that stands for ``qualname``: calling it records the call and raises."""
    def stand_in(*args, **kwargs):
        CALLED.append(qualname)
        raise ReferenceCalled(qualname)

    stand_in.__name__ = stand_in.__qualname__ = qualname.rsplit(".", 1)[-1]
    stand_in.__doc__ = (f"Not available while the grader checks an exercise that asks you to "
                        f"write {qualname} yourself.")
    return stand_in


def module(modname):
    """A module ``__getattr__`` under which every function is a stand-in."""
    def __getattr__(name):
        if name.startswith("__"):
            raise AttributeError(name)
        return reference(f"{modname}.{name}")

    return __getattr__
'''

_STAND_IN_MODULE = '''"""Stand-in for ``{name}`` while the grader checks an exercise that asks you to write it."""

from algos._guard import module as _module

__getattr__ = _module(__name__)
'''


@dataclass
class CaseOutcome:
    """What happened when one case ran in the exercise process.

    ``status`` is one of ``ok`` (``value`` holds the decoded answer), ``missing`` (``name``
    is not defined), ``not-callable`` (``value`` is what the name holds), ``not-implemented``,
    ``reference`` (``name``: the stand-in that was called), ``raised`` (``error``), ``timeout``,
    ``died`` (``error`` says how), ``bad-data`` (what came back is not plain data) and
    ``not-run``. ``limit`` is the :class:`grading.sandbox.LimitHit` that stopped a case that
    ``raised`` or ``died``, if a limit did.
    """

    status: str
    value: Any = None
    name: str = ""
    error: str = ""
    changed: tuple = ()
    seconds: float = 0.0
    limit: object = None


@dataclass
class ExerciseRun:
    """The outcome of :func:`run_exercise`; ``limit`` is the limit that stopped the process
    (a :class:`grading.sandbox.LimitHit`), if one did."""

    outcomes: dict = field(default_factory=dict)
    statement_errors: list = field(default_factory=list)
    references: list = field(default_factory=list)
    stopped: str = ""
    log: str = ""
    limit: object = None


def prepare_algos(source, dest, references):
    """Copy the ``algos`` package from ``source`` to ``dest`` with ``references`` stood in for.

    Parameters
    ----------
    source, dest : path
        The book's ``algos`` folder, and where the copy goes (created).
    references : iterable of str
        ``algos.<module>`` (every function of the module) or ``algos.<module>.<name>``.

    Raises
    ------
    ValueError
        If a reference does not name a module of the package.
    """
    source, dest = Path(source), Path(dest)
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (dest / "_guard.py").write_text(_GUARD, encoding="utf-8")
    extra = {}
    for ref in references:
        parts = ref.split(".")
        if parts[0] != "algos" or len(parts) not in (2, 3) or not (dest / f"{parts[1]}.py").is_file():
            raise ValueError(f"reference {ref!r} does not name a module of algos or a function in one")
        if len(parts) == 2:
            (dest / f"{parts[1]}.py").write_text(_STAND_IN_MODULE.format(name=ref), encoding="utf-8")
        else:
            extra.setdefault(parts[1], []).append(parts[2])
    for module, names in extra.items():
        path = dest / f"{module}.py"
        text = path.read_text(encoding="utf-8")
        if text.startswith('"""Stand-in'):
            continue  # the whole module is stood in for already
        lines = ["", "", "# --- added by the grader: references the exercise asks you to write ---",
                 "from algos._guard import reference as _grading_reference  # noqa: E402"]
        lines += [f"{n} = _grading_reference({f'algos.{module}.{n}'!r})" for n in names]
        path.write_text(text + "\n".join(lines) + "\n", encoding="utf-8")


def split_references(references):
    """``(references into algos, installed packages)``: ``"algos.kmeans"`` and
    ``"algos._distances.nearest_center"`` are stood in for in the copy of ``algos``
    (:func:`prepare_algos`); a bare package name such as ``"scipy"`` or ``"sklearn"`` is
    watched in the exercise process, where any call into it stops the case.

    Raises
    ------
    ValueError
        If a name that is not in ``algos`` is dotted or not an installed package.
    """
    inside, outside = [], []
    for ref in references:
        if ref.split(".")[0] == "algos":
            inside.append(ref)
        elif "." in ref or importlib.util.find_spec(ref) is None:
            raise ValueError(f"reference {ref!r} is neither in algos nor an installed package")
        else:
            outside.append(ref)
    return inside, outside


#: The exercise process's environment variables besides the sandbox's own (``HOME`` is the
#: scratch folder, one thread for numpy's libraries...); nothing else of the caller's passes.
ENVIRONMENT = {"LANG": "C.UTF-8", "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}


def _reader(stream, out):
    total = 0
    try:
        for line in iter(stream.readline, b""):
            total += len(line)
            if total > MAX_OUTPUT:
                out.put(("overflow", None))
                return
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict) and isinstance(message.get("event"), str):
                out.put(("message", message))
    except (OSError, ValueError):
        pass
    finally:
        out.put(("eof", None))


def _writer(stream, data):
    try:
        stream.write(data)
    except (BrokenPipeError, OSError):
        pass
    finally:
        try:
            stream.close()
        except OSError:
            pass


def _how_it_ended(returncode, limit=None):
    if limit is not None and limit.limit != "killed":
        return f"it was stopped at its {limit.limit} limit: {limit.message}"
    if returncode is None:
        return "it stopped answering"
    if 128 < returncode < 128 + 65:  # bwrap exits with 128 + N when its program dies of signal N
        returncode = 128 - returncode
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        extra = " (out of memory?)" if name == "SIGKILL" else ""
        return f"the process was killed by {name}{extra}"
    return f"the process exited with code {returncode} (os._exit or exit in the code?)"


def _decode_outcome(message, limits):
    status = message.get("status")
    if status == "ok":
        try:
            value = _plain.decode(message.get("value"))
        except (_plain.PlainError, RecursionError, ValueError, TypeError) as exc:
            return CaseOutcome("bad-data", error=str(exc))
        changed = message.get("changed") or []
        changed = tuple(i for i in changed if isinstance(i, int)) if isinstance(changed, list) else ()
        seconds = message.get("seconds")
        return CaseOutcome("ok", value, changed=changed,
                           seconds=float(seconds) if isinstance(seconds, (int, float)) else 0.0)
    if status == "not-callable":
        try:
            value = _plain.decode(message.get("value"))
        except (_plain.PlainError, RecursionError, ValueError, TypeError):
            value = _plain.Opaque("unreadable")
        return CaseOutcome("not-callable", value)
    if status in ("missing", "reference"):
        return CaseOutcome(status, name=str(message.get("name", ""))[:200])
    if status == "not-implemented":
        return CaseOutcome(status)
    if status == "raised":
        err = message.get("error") or {}
        if not isinstance(err, dict):
            err = {}
        ename, evalue = str(err.get("ename", "Exception")), str(err.get("evalue", ""))
        return CaseOutcome("raised", error=" ".join(f"{ename}: {evalue}".split())[:400],
                           limit=sandbox.limit_hit(limits, ename=ename, evalue=evalue))
    return CaseOutcome("bad-data", error=f"unknown status {str(status)[:40]!r}")


def run_exercise(statements, requests, *, references, book_dir, timeout, deadline=None,
                 limits=None, strict=False):
    """Run the statements an answer needs, then each request, in a fresh exercise process.

    Parameters
    ----------
    statements : list of dict
        ``{"cell", "line", "source"}``, in notebook order (see :mod:`grading.slicing`).
    requests : list of dict
        ``{"id", "call", "args"}`` (args as plain data) or ``{"id", "value"}``.
    references : iterable of str
        What the answer must not call (see :func:`prepare_algos`).
    book_dir : path
        The folder holding the book's ``algos`` and data.
    timeout : float
        Seconds for running the statements, and for each request.
    deadline : float, optional
        A ``time.monotonic()`` after which everything still running is stopped.
    limits : grading.sandbox.Limits, optional
        Resource limits of the process; default ``Limits()``.
    strict : bool, default False
        Refuse to run without the sandbox.

    Returns
    -------
    ExerciseRun
        ``outcomes`` has a :class:`CaseOutcome` for every request id.

    Raises
    ------
    grading.sandbox.SandboxUnavailable
        If `strict` and the sandbox cannot run here.
    """
    run = ExerciseRun()
    ids = [r["id"] for r in requests]
    limits = sandbox.Limits() if limits is None else limits
    scratch = Path(tempfile.mkdtemp(prefix="grading-exercise-"))
    started = None
    try:
        shutil.copy(_HERE / "_harness.py", scratch / "_harness.py")
        shutil.copy(_HERE / "_plain.py", scratch / "_plain.py")
        inside, outside = split_references(references)
        prepare_algos(Path(book_dir) / "algos", scratch / "algos", inside)
        read_only = []
        for entry in book_files(book_dir):
            (scratch / entry.name).symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
            read_only.append(entry.resolve())
        request = json.dumps({"statements": statements, "cases": requests, "outside": outside},
                             allow_nan=False).encode("utf-8")
        argv = [sys.executable, "-I", "-B", str(scratch / "_harness.py")]
        with open(scratch / "stderr.log", "wb") as log:
            started = launch.start_exercise(argv, scratch=scratch, read_only=read_only,
                                            setenv=ENVIRONMENT, limits=limits, strict=strict,
                                            stderr=log)
        proc = started.process
        events = queue.Queue()
        threads = [threading.Thread(target=_writer, args=(proc.stdin, request), daemon=True),
                   threading.Thread(target=_reader, args=(proc.stdout, events), daemon=True)]
        for t in threads:
            t.start()
        _follow(started, events, ids, run, timeout, deadline)
        started.stop()
        for t in threads:
            t.join(timeout=5)
        run.log = _tail(scratch / "stderr.log")
    finally:
        if started is not None:
            started.stop()
            for stream in (started.process.stdin, started.process.stdout):
                try:
                    stream.close()
                except (OSError, AttributeError):
                    pass
        shutil.rmtree(scratch, ignore_errors=True)
    for i in ids:
        run.outcomes.setdefault(i, CaseOutcome("not-run"))
    return run


def _follow(started, events, ids, run, timeout, deadline):
    """Read the process's messages until it is done, stops, or runs out of time."""
    proc = started.process
    known = set(ids)
    current = None  # the request running now
    phase_end = time.monotonic() + timeout
    while True:
        now = time.monotonic()
        end = phase_end if deadline is None else min(phase_end, deadline)
        if now >= end:
            why = (f"timed out after {timeout:g} s" if deadline is None or phase_end <= deadline
                   else "stopped at the grading time limit")
            if current is not None:
                run.outcomes[current] = CaseOutcome("timeout", error=why, seconds=timeout)
            run.stopped = why + (" while running the statements your answer needs"
                                 if current is None else "")
            return
        try:
            kind, message = events.get(timeout=min(end - now, 0.5))
        except queue.Empty:
            continue
        if kind == "overflow":
            run.stopped = "it wrote too much output"
            if current is not None:
                run.outcomes[current] = CaseOutcome("died", error=run.stopped)
            return
        if kind == "eof":
            try:
                proc.wait(timeout=5)
            except Exception:
                pass
            hit = started.limit_hit()
            hit = hit if hit is not None and hit.limit != "killed" else None
            why = _how_it_ended(proc.poll(), hit)
            if current is not None:
                run.outcomes[current] = CaseOutcome("died", error=why, limit=hit)
            run.limit = hit
            run.stopped = why
            return
        event = message["event"]
        if event == "statement":
            err = message.get("error") if isinstance(message.get("error"), dict) else {}
            run.statement_errors.append({
                "cell": message.get("cell") if isinstance(message.get("cell"), int) else -1,
                "ename": str(err.get("ename", ""))[:100], "evalue": str(err.get("evalue", ""))[:300]})
            refs = message.get("references")
            if isinstance(refs, list):
                run.references += [str(r)[:200] for r in refs]
        elif event == "start" and message.get("id") in known:
            current = message["id"]
            phase_end = time.monotonic() + timeout
        elif event == "case" and message.get("id") in known:
            run.outcomes[message["id"]] = _decode_outcome(message, started.limits)
            current = None
            phase_end = time.monotonic() + timeout
        elif event == "done":
            refs = message.get("early_references")
            if isinstance(refs, list):
                run.references += [str(r)[:200] for r in refs]
            return


def _tail(path):
    try:
        data = Path(path).read_bytes()[-LOG_TAIL:]
    except OSError:
        return ""
    return data.decode("utf-8", "replace")
