"""Run students' code contained: a bubblewrap sandbox plus resource limits.

A teacher grades notebooks written by other people with the teacher's own account. This module
is the containment the grader puts around every program that runs a student's code (the Jupyter
kernel that runs the notebook, and the process that exercises the student's functions):

* :class:`Limits`: memory, number of processes, file size and CPU time;
* :func:`wrap`: the command line that runs a program inside the sandbox, with those limits;
* :func:`start` and :func:`run`: start a program that way (and stop it, leaving nothing behind),
  or run it to the end with a time limit;
* :class:`KernelManager`: a Jupyter kernel manager that starts the kernel through :func:`wrap`,
  for ``nbclient``;
* :func:`limit_hit`: which limit a failure came from, in a sentence the student can act on;
* :func:`available`: whether the sandbox works on this machine and, if not, why.

What the sandbox holds (Linux, with ``bwrap`` from the Debian package ``bubblewrap``):

* **no network at all**: a new network namespace has only its own loopback, so not even a server
  on the teacher's 127.0.0.1 can be reached. The Jupyter kernel talks to the grader over Unix
  domain sockets (ZeroMQ's ``ipc`` transport) in a directory shared with the sandbox;
* **a read-only view of only what is needed**: the system's programs and libraries (``/usr``,
  a few files of ``/etc``), the Python environment (the virtual environment and the interpreter
  it was made from) and the paths the caller names (the book's ``algos``). The teacher's home,
  other submissions, the repository, ``/root``, the rest of ``/etc`` are not there at all;
* **a private writable directory** (``scratch``, the caller's temporary folder, which is also
  ``HOME`` and the working directory) and a private, size-limited ``/tmp`` and ``/dev/shm``;
* **its own process IDs** (a PID namespace): when the program exits or is killed, the kernel
  kills every process it started, daemons included (``--die-with-parent`` also covers the
  grader being killed);
* **a clean environment**: of the teacher's environment only the locale and a few harmless
  variables pass (:data:`ENV_KEEP`); tokens and other secrets do not, nor ``PYTHONPATH`` or
  ``MPLBACKEND``: the grader sets what the program needs (``setenv``).

The limits are POSIX resource limits set inside the sandbox, just before the program starts:
``RLIMIT_AS`` (memory), ``RLIMIT_FSIZE`` (file size), ``RLIMIT_CPU`` (CPU time),
``RLIMIT_NPROC`` (processes) and ``RLIMIT_CORE`` = 0. What really caps the number of processes
depends on who grades (measured on Linux 6.x):

* an ordinary user: bubblewrap makes a new user namespace, and since Linux 5.14 the kernel counts
  ``RLIMIT_NPROC`` per user namespace, so the limit counts the sandbox's processes and threads
  only, whatever else the teacher runs;
* root: the kernel never applies ``RLIMIT_NPROC`` to uid 0 (nor to a user namespace mapped to
  it), so the sandbox drops to a fresh unprivileged uid (one per sandbox, from
  :data:`SANDBOX_UIDS`) that owns no other process; ``scratch`` and the ``writable`` folders are
  given to that uid;
* without bubblewrap (see below): the limit is set to the processes the user already runs plus
  ``Limits.processes``, which other programs of the same user share; as root there is no cap.

Without bubblewrap (``bwrap`` missing, or user namespaces disabled), :func:`wrap` applies the
limits only: the program can read and write whatever the teacher can, use the network, and a
process that leaves its process group can outlive grading. ``strict=True`` refuses instead
(:class:`SandboxUnavailable`). On macOS and Windows there is no sandbox: grade inside a Linux
virtual machine, WSL2 or a container.

``RLIMIT_AS`` bounds each process; the memory of all the sandbox's processes together is
watched from the grader's side (:func:`run` and :class:`KernelManager` sample it four times a
second and kill the sandbox beyond ``Limits.memory``), so a burst faster than that can overshoot
for a moment. A memory cgroup is exact: a teacher with systemd can put the whole batch in one
(``systemd-run --user --scope -p MemoryMax=8G -p TasksMax=500 make grade ...``). Disk space in
``scratch`` is bounded per file (``file_size``), not in total.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import json
import math
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from jupyter_client import AsyncKernelManager
from jupyter_core.utils import run_sync
from traitlets import Bool, Dict, Instance, List, Unicode

__all__ = [
    "Completed",
    "Contained",
    "KernelManager",
    "LIMIT_NAMES",
    "LimitHit",
    "Limits",
    "SandboxUnavailable",
    "available",
    "limit_hit",
    "parse_size",
    "python_paths",
    "run",
    "start",
    "wrap",
]

#: The names :func:`limit_hit` reports, in :attr:`LimitHit.limit`.
LIMIT_NAMES = ("memory", "processes", "file size", "time", "killed")

#: The uids a sandbox started by root runs as: a fresh one per sandbox, high above the ranges
#: that system accounts, people, container subuids (100000 + 65536 n) and systemd's dynamic users
#: use, so that no other process on the machine counts against ``RLIMIT_NPROC``.
SANDBOX_UIDS = range(0x7F000000, 0x7FFF0000)

#: Environment variables that pass from the caller's environment into the sandbox (``LC_*``
#: too); all others are dropped, secrets and those that change results (``PYTHONPATH``,
#: ``MPLBACKEND``, ``PYTHONHASHSEED``...) alike: the caller sets those with ``setenv``.
ENV_KEEP = frozenset({
    "LANG", "LANGUAGE", "TZ", "TERM", "COLUMNS", "LINES", "NO_COLOR",
    "PYTHONIOENCODING", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE",
    "PYDEVD_DISABLE_FILE_VALIDATION", "JPY_SESSION_NAME",
})

# Files of /etc that programs need (dynamic linker, time zone, alternatives, fonts for
# matplotlib's `fc-list`); nothing else of /etc is visible, not even the names of the users.
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "nsswitch.conf",
        "alternatives", "mime.types", "fonts")
# The system's top-level folders of programs and libraries (symlinks into /usr on merged-/usr
# systems such as Debian 12, real folders elsewhere).
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Numeric libraries start one thread per CPU unless told otherwise; threads count as processes
# (RLIMIT_NPROC) and each reserves memory (RLIMIT_AS), so the sandbox uses one.
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_MiB = 1024 ** 2
_GiB = 1024 ** 3
# bubblewrap 0.5 brought --perms; 0.8 (Debian 12, Ubuntu 23.04) --size and --disable-userns.
_BWRAP_OLDEST = (0, 5)
_BWRAP_SIZE = (0, 8)


class SandboxUnavailable(RuntimeError):
    """The sandbox was required (``strict=True``) but cannot run here; the message says why."""


# --- limits -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed program (and each process it starts).

    Parameters
    ----------
    memory : int or None, default 2 GiB
        Bytes of virtual memory (address space) each process may map, ``RLIMIT_AS``: beyond it
        an allocation fails (Python raises ``MemoryError``). Also the memory all the sandbox's
        processes may hold together (their proportional set size, PSS): :func:`run` and
        :class:`KernelManager` check it four times a second and kill the sandbox beyond it, so
        that many processes cannot add up to more. None: no limit.
    processes : int or None, default 64
        Processes and threads that may exist at once in the sandbox, the program itself and the
        threads of the Jupyter kernel included (about a dozen), ``RLIMIT_NPROC``. Beyond it ``fork``
        and thread creation fail (``BlockingIOError``, "can't start new thread"). See the module
        notes for what enforces it where. None: no limit.
    file_size : int or None, default 256 MiB
        Bytes of the largest file a process may write, ``RLIMIT_FSIZE`` (writing past it fails
        with ``OSError`` errno ``EFBIG``); also the size of the sandbox's private ``/tmp`` and of
        its ``/dev/shm`` (both in memory). None: no file limit, and 256 MiB for ``/tmp``.
    cpu_time : float or None, default None
        Seconds of CPU time each process may use, ``RLIMIT_CPU`` (rounded up to whole seconds);
        the process is then stopped with ``SIGXCPU``. None: no limit; the grader's wall-clock
        time limit per cell still applies.

    Raises
    ------
    ValueError
        If a limit is not a positive number (or None).
    TypeError
        If a limit is not a number.
    """

    memory: int | None = 2 * _GiB
    processes: int | None = 64
    file_size: int | None = 256 * _MiB
    cpu_time: float | None = None

    def __post_init__(self):
        for name in ("memory", "processes", "file_size", "cpu_time"):
            value = getattr(self, name)
            if value is None:
                continue
            integral = name != "cpu_time"
            if isinstance(value, bool) or not isinstance(value, int if integral else (int, float)):
                raise TypeError(f"Limits.{name} must be {'an int' if integral else 'a number'} "
                                f"or None, got {value!r}")
            if not value > 0 or (not integral and not math.isfinite(value)):
                raise ValueError(f"Limits.{name} must be positive, got {value!r}")

    @property
    def tmp_size(self) -> int:
        """Bytes of the private ``/tmp`` (and ``/dev/shm``): ``file_size``, or 256 MiB."""
        return self.file_size or 256 * _MiB

    def describe(self) -> str:
        """The limits in words: ``"2 GiB of memory per process, 64 processes, ..."``."""
        parts = [f"{_human(self.memory)} of memory per process" if self.memory else
                 "no memory limit",
                 f"{self.processes} processes" if self.processes else "no process limit",
                 f"{_human(self.file_size)} per file" if self.file_size else "no file-size limit"]
        if self.cpu_time:
            parts.append(f"{self.cpu_time:g} s of CPU time per process")
        return ", ".join(parts)

    def rlimits(self) -> dict[str, int]:
        """The resource limits to set, ``{"RLIMIT_...": value}`` (``RLIMIT_NPROC`` excluded)."""
        out = {"RLIMIT_CORE": 0}
        if self.memory is not None:
            out["RLIMIT_AS"] = self.memory
        if self.file_size is not None:
            out["RLIMIT_FSIZE"] = self.file_size
        if self.cpu_time is not None:
            out["RLIMIT_CPU"] = math.ceil(self.cpu_time)
        return out


_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_size(text) -> int:
    """Read a size in bytes as people write it (``MEMORY=2G``).

    Parameters
    ----------
    text : str or int
        A number of bytes, or a number followed by ``K``, ``M``, ``G`` or ``T`` (binary
        multiples: ``1K`` = 1024 bytes; ``KiB``, ``MB``... are read the same way).

    Returns
    -------
    int
        The size in bytes.

    Raises
    ------
    ValueError
        If `text` is not such a size, or is zero.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        match = _SIZE.match(str(text))
        if not match:
            raise ValueError(f"size must be a number of bytes or a number followed by K, M, G or "
                             f"T (for example 2G), got {text!r}")
        number, unit = match.groups()
        value = int(float(number) * 1024 ** " kmgt".index(unit.lower() or " "))
    if value <= 0:
        raise ValueError(f"size must be positive, got {text!r}")
    return value


def _human(nbytes: int) -> str:
    for unit, size in (("GiB", _GiB), ("MiB", _MiB), ("KiB", 1024)):
        if nbytes >= size:
            return f"{nbytes / size:g} {unit}"
    return f"{nbytes} bytes"


# --- which limit was hit ----------------------------------------------------------------------

@dataclass(frozen=True)
class LimitHit:
    """A limit the sandboxed program ran into.

    Attributes
    ----------
    limit : str
        One of :data:`LIMIT_NAMES`: ``"memory"``, ``"processes"``, ``"file size"``, ``"time"``
        (CPU time) or ``"killed"`` (stopped by a signal from outside: the grader, or the machine
        running out of memory).
    message : str
        A sentence for the student's feedback, naming the limit and its value.
    """

    limit: str
    message: str


_PROCESS_ERRORS = ("can't start new thread", "[errno 11]", "resource temporarily unavailable")


def limit_hit(limits: Limits, *, returncode: int | None = None, ename: str = "",
              evalue: str = "") -> LimitHit | None:
    """Tell whether a failure of a sandboxed program came from one of its limits.

    Parameters
    ----------
    limits : Limits
        The limits the program ran with (their values go into the message).
    returncode : int, optional
        The program's exit status as :mod:`subprocess` reports it (``-N`` for signal N), or as a
        shell does (``128 + N``, which is what ``bwrap`` returns when its program is killed).
    ename, evalue : str, optional
        The name and message of the exception the student's code raised (a notebook cell's
        error output, or what the exercise process sent back).

    Returns
    -------
    LimitHit or None
        The limit, or None if the failure is not one of them (an ordinary bug).

    Notes
    -----
    How each limit shows (Linux): memory, ``MemoryError`` (numpy's ``_ArrayMemoryError``,
    "Unable to allocate ...") or, for a program that is not Python, death by ``SIGSEGV`` or
    ``SIGABRT`` that cannot be told apart from a crash (so not reported); processes,
    ``BlockingIOError`` errno ``EAGAIN`` from ``fork`` or "can't start new thread"; file size,
    ``OSError`` errno ``EFBIG`` (Python ignores ``SIGXFSZ``; other programs die of it) or
    ``ENOSPC`` when the private ``/tmp`` is full; CPU time, death by ``SIGXCPU`` (or ``SIGKILL``
    at the hard limit, one second later).
    """
    if not isinstance(limits, Limits):
        raise TypeError(f"limits must be a Limits, got {type(limits).__name__}")
    text = f"{ename}: {evalue}".lower()
    if ename in ("MemoryError", "_ArrayMemoryError") or "unable to allocate" in text:
        return _hit("memory", limits)
    if f"[errno {errno.EFBIG}]" in text or "file too large" in text:
        return _hit("file size", limits)
    if f"[errno {errno.ENOSPC}]" in text or "no space left on device" in text:
        return _hit("file size", limits, full=True)
    if ename in ("BlockingIOError", "RuntimeError", "OSError") and any(
            s in text for s in _PROCESS_ERRORS):
        return _hit("processes", limits)
    signum = _signal_of(returncode)
    if signum == signal.SIGXCPU:
        return _hit("time", limits)
    if signum == signal.SIGXFSZ:
        return _hit("file size", limits)
    if signum == signal.SIGKILL:
        return _hit("killed", limits)
    return None


def _signal_of(returncode):
    if returncode is None or returncode == 0:
        return None
    if returncode < 0:
        return -returncode
    if 128 < returncode < 128 + 65:
        return returncode - 128
    return None


def _hit(limit, limits, full=False, seconds=None, together=False):
    if limit == "memory" and together:
        message = (f"its processes together used more memory than the limit of "
                   f"{_human(limits.memory)} and were stopped: fewer processes, or smaller arrays?")
    elif limit == "memory":
        value = f"{_human(limits.memory)} per process" if limits.memory else "the machine's memory"
        message = (f"it ran out of memory (the limit is {value}): a very large array, or a list "
                   f"or loop that grows without end?")
    elif limit == "processes":
        message = (f"it tried to start too many processes or threads (the limit is "
                   f"{limits.processes} at once, the notebook's own threads included)")
    elif limit == "file size" and full:
        message = (f"it filled its temporary space (the limit is {_human(limits.tmp_size)} in "
                   f"/tmp and {_human(limits.file_size or limits.tmp_size)} per file)")
    elif limit == "file size":
        message = (f"it tried to write a file larger than the limit of "
                   f"{_human(limits.file_size) if limits.file_size else 'the disk'}")
    elif limit == "time" and seconds is not None:
        message = f"it ran longer than the time limit of {seconds:g} s: an endless loop?"
    elif limit == "time":
        message = (f"it used more than its CPU time limit of {limits.cpu_time:g} s: an endless "
                   f"loop?")
    else:
        message = ("it was killed from outside (the grader stopped it, or the machine ran out of "
                   "memory)")
    return LimitHit(limit, message)


# --- is the sandbox available -----------------------------------------------------------------

def _find_bwrap() -> str | None:
    return shutil.which("bwrap")


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@functools.lru_cache(maxsize=None)
def available() -> tuple[bool, str]:
    """Whether the sandbox works on this machine and, if not, why.

    The answer is found once per process (``available.cache_clear()`` asks again): bubblewrap
    must be installed and able to build the sandbox :func:`wrap` builds (it cannot where user
    namespaces are disabled, for example in some containers).

    Returns
    -------
    ok : bool
        True if :func:`wrap` runs programs inside the sandbox.
    message : str
        One line for the grader to print once, at the start: what contains the student's code,
        or why nothing does and what to do about it.
    """
    refuse = "STRICT=1 refuses to grade without the sandbox."
    if sys.platform == "win32":
        return False, ("no sandbox and no limits on Windows: grade inside WSL2 or a Linux "
                       f"virtual machine. {refuse}")
    kept = ("memory, file-size and CPU limits still apply"
            + (" (the process limit does not, as root)" if _running_as_root() else ""))
    if not sys.platform.startswith("linux"):
        return False, (f"no sandbox on {sys.platform} (it needs Linux and bubblewrap): grade "
                       f"inside a Linux virtual machine or a container. Grading here, students' "
                       f"code can read and change your files and use the network; {kept} as "
                       f"far as {sys.platform} enforces them. {refuse}")
    fallback = (f"grading WITHOUT a sandbox: students' code can read and change your files and "
                f"use the network; {kept}. {refuse}")
    bwrap = _find_bwrap()
    if bwrap is None:
        return False, ("bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install "
                       f"bubblewrap; Fedora: dnf install bubblewrap); {fallback}")
    version = _bwrap_version(bwrap)
    if version < _BWRAP_OLDEST:
        return False, (f"bubblewrap {'.'.join(map(str, version))} is too old (0.5 or newer is "
                       f"needed); {fallback}")
    with tempfile.TemporaryDirectory(prefix="sandbox-probe-") as scratch:
        argv = _sandbox(bwrap, [sys.executable, "-c", "pass"], scratch=scratch, read_only=(),
                        writable=(), limits=Limits(), setenv={}, python=sys.executable)
        try:
            probe = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                                   stdin=subprocess.DEVNULL)
            why = (probe.stderr.strip().splitlines() or [f"exit status {probe.returncode}"])[-1]
            ok = probe.returncode == 0
        except (OSError, subprocess.TimeoutExpired) as exc:
            ok, why = False, str(exc)
    if not ok:
        return False, (f"bubblewrap cannot build a sandbox here ({why}; are user namespaces "
                       f"disabled?); {fallback}")
    who = ", student code as an unprivileged uid" if _running_as_root() else ""
    old = "" if version >= _BWRAP_SIZE else "; bubblewrap < 0.8 cannot limit the size of /tmp"
    return True, (f"sandbox: bubblewrap {'.'.join(map(str, version))} (no network, read-only "
                  f"view of the Python environment and the book, private /tmp, own process "
                  f"IDs{who}{old})")


@functools.lru_cache(maxsize=None)
def _bwrap_version(bwrap: str) -> tuple[int, ...]:
    """bubblewrap's version, ``(0, 8, 0)``; ``(0,)`` if it cannot be told."""
    try:
        out = subprocess.run([bwrap, "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return (0,)
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out)
    return tuple(int(g) for g in match.groups(default="0")) if match else (0,)


# --- building the command line ----------------------------------------------------------------

_PYTHON_PATHS = ("import sys, json; print(json.dumps([sys.prefix, sys.exec_prefix, "
                 "sys.base_prefix, sys.base_exec_prefix, sys.executable]))")


@functools.lru_cache(maxsize=None)
def python_paths(python: str | None = None) -> tuple[str, ...]:
    """The folders a Python interpreter needs to run: its environment and its installation.

    Parameters
    ----------
    python : str, optional
        Path of the interpreter; default: this one (``sys.executable``).

    Returns
    -------
    tuple of str
        ``sys.prefix`` (the virtual environment), ``sys.base_prefix`` (the installation it was
        made from), their ``exec_prefix`` twins, the folder of the resolved executable, and the
        resolved form of each where a symbolic link leads elsewhere; without duplicates or
        folders inside another one of the list. Folders inside ``/usr`` are left out (the
        sandbox shows ``/usr`` anyway).
    """
    if python is None or python == sys.executable:
        found = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix,
                 sys.executable]
    else:
        out = subprocess.run([python, "-I", "-S", "-c", _PYTHON_PATHS], capture_output=True,
                             text=True, check=True)
        found = json.loads(out.stdout)
    executable = found.pop()
    found.append(str(Path(os.path.realpath(executable)).parent))
    paths = []
    for p in found:
        for q in (os.path.abspath(p), os.path.realpath(p)):
            if q not in paths:
                paths.append(q)
    return _outermost(p for p in paths if not _inside(p, "/usr"))


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _outermost(paths):
    paths = sorted(set(paths))
    return tuple(p for p in paths if not any(q != p and _inside(p, q) for q in paths))


def _with_targets(path):
    """`path` and, if a symbolic link on the way leads elsewhere, its resolved form too."""
    absolute, real = os.path.abspath(path), os.path.realpath(path)
    return (absolute,) if absolute == real else (absolute, real)


# The launcher runs inside the sandbox, between bwrap and the program: it sets the limits (after
# the namespaces exist, which RLIMIT_NPROC needs), keeps only the harmless environment variables,
# drops to the sandbox uid when bwrap ran as root, then becomes the program (exec).
_LAUNCHER = r"""
import json, os, resource, sys
cfg = json.loads(sys.argv[1])
argv = sys.argv[2:]
def limit(name, soft, hard):
    try:
        resource.setrlimit(getattr(resource, name), (soft, hard))
    except (AttributeError, ValueError, OSError) as exc:
        if not cfg["fallback"]:  # in the sandbox (Linux) every limit must hold
            raise
        print(f"sandbox: {name} cannot be set here ({exc})", file=sys.stderr)
for name, value in cfg["rlimits"].items():
    limit(name, value, value + 1 if name == "RLIMIT_CPU" else value)
nproc = cfg["nproc"]
if nproc is not None and cfg["fallback"]:
    # No user namespace of its own: RLIMIT_NPROC counts all the user's processes.
    me, tasks = os.getuid(), 0
    for pid in os.listdir("/proc") if os.path.isdir("/proc") else []:
        try:
            with open(f"/proc/{pid}/status") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
            if int(status["Uid"].split()[0]) == me:
                tasks += int(status["Threads"])
        except (OSError, ValueError, KeyError):
            pass
    nproc = nproc + tasks if tasks else None
if nproc is not None:
    limit("RLIMIT_NPROC", nproc, nproc)
keep = set(cfg["keep"])
env = {k: v for k, v in os.environ.items() if k in keep or k.startswith("LC_")}
env.update(cfg["env"])
uid = cfg["uid"]
if uid is not None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
os.chdir(cfg["cwd"])
try:
    os.execvpe(argv[0], argv, env)
except OSError as exc:
    sys.exit(f"sandbox: cannot run {argv[0]}: {exc}")
"""


def _launcher_argv(argv, *, limits, setenv, scratch, python, uid, fallback):
    # Inside the sandbox /tmp is private; without it, temporary files go to the scratch folder.
    env = {"HOME": str(scratch), "TMPDIR": str(scratch) if fallback else "/tmp",
           "USER": "student", "LOGNAME": "student",
           "PATH": os.pathsep.join([str(Path(python).parent), "/usr/local/bin", "/usr/bin",
                                    "/bin"])}
    env.update({var: "1" for var in _THREAD_VARS})
    env.update(setenv)
    cfg = {"rlimits": limits.rlimits(), "nproc": limits.processes, "fallback": fallback,
           "keep": sorted(ENV_KEEP), "env": env, "uid": uid, "cwd": str(scratch)}
    return [python, "-I", "-S", "-c", _LAUNCHER, json.dumps(cfg), *argv]


def _sandbox(bwrap, argv, *, scratch, read_only, writable, limits, setenv, python):
    """The bwrap command line; as root, also give `scratch` and `writable` to a fresh uid."""
    uid = None
    if _running_as_root():
        uid = SANDBOX_UIDS[secrets.randbelow(len(SANDBOX_UIDS))]
        _give_to(uid, [scratch, *writable])
    return _sandbox_argv(bwrap, argv, scratch=scratch, read_only=read_only, writable=writable,
                         limits=limits, setenv=setenv, python=python, uid=uid,
                         version=_bwrap_version(bwrap))


def _sandbox_argv(bwrap, argv, *, scratch, read_only, writable, limits, setenv, python, uid,
                  version):
    recent = version >= _BWRAP_SIZE
    cmd = [bwrap, "--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid",
           "--unshare-net", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
    if uid is None:
        # An ordinary user: a user namespace (which makes RLIMIT_NPROC count the sandbox only);
        # no further namespaces inside.
        cmd += ["--unshare-user"] + ["--disable-userns"] * recent
    else:
        # Root: no user namespace (it would map to uid 0, which RLIMIT_NPROC exempts); keep only
        # what the launcher needs to drop to `uid`, which then loses those too.
        cmd += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    for top in _SYSTEM:
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            cmd += ["--ro-bind", top, top]
    cmd += ["--perms", "0755", "--dir", "/etc"]
    for name in _ETC:
        cmd += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    size = ["--size", str(limits.tmp_size)] * recent
    cmd += ["--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", *size, "--tmpfs", "/tmp",
            "--perms", "1777", *size, "--tmpfs", "/dev/shm"]
    # Later mounts go on top of earlier ones: paths under /tmp come after the private /tmp.
    mounted, made = ["/usr", "/proc", "/dev"], {"/", "/tmp", "/dev/shm"}
    for option, paths in (("--ro-bind", [*python_paths(python), *read_only]),
                          ("--bind", [scratch, *writable])):
        for path in paths:
            for p in _with_targets(path):
                if p in mounted:
                    continue
                # bwrap would make the folders on the way mode 0700, closed to the sandbox uid.
                for parent in map(str, reversed(Path(p).parents)):
                    if parent not in made and not any(_inside(parent, m) for m in mounted):
                        cmd += ["--perms", "0755", "--dir", parent]
                        made.add(parent)
                cmd += [option, p, p]
                mounted.append(p)
    # The launcher moves into `scratch` once it is the sandbox uid (root without its capabilities
    # may not enter a folder of that uid's).
    cmd += ["--chdir", "/", "--"]
    return cmd + _launcher_argv(argv, limits=limits, setenv=setenv,
                                scratch=os.path.abspath(scratch), python=python, uid=uid,
                                fallback=False)


def _check_paths(kind, paths, *, folder=False):
    out = []
    for p in paths:
        if not isinstance(p, (str, os.PathLike)):
            raise TypeError(f"{kind} must hold paths, got {p!r}")
        path = Path(p)
        if not path.exists():
            raise ValueError(f"{kind}: {path} does not exist")
        if folder and not path.is_dir():
            raise ValueError(f"{kind}: {path} is not a folder")
        out.append(str(path.absolute()))
    return out


def _give_to(uid, folders):
    """Make `folders` (and everything in them) belong to `uid`, so the sandbox can write there."""
    for folder in folders:
        os.chown(folder, uid, uid, follow_symlinks=False)
        for root, dirs, files in os.walk(folder):
            for name in dirs + files:
                os.chown(os.path.join(root, name), uid, uid, follow_symlinks=False)


def wrap(argv, *, read_only=(), scratch, limits=None, strict=False, writable=(), setenv=None,
         python=None) -> list[str]:
    """The command line that runs `argv` contained: in the sandbox, with `limits`.

    Parameters
    ----------
    argv : sequence of str
        The program and its arguments, as for :func:`subprocess.run`.
    read_only : sequence of path, optional
        Files and folders the program may read (at the same path), besides the system's
        libraries and the Python environment, which are always there. For a notebook: the
        book's ``algos`` and data, not the chapters with their solutions.
    scratch : path
        An existing folder the program may write: its working directory and ``HOME``. It is
        the caller's to create and to delete afterwards (see :func:`run`).
    limits : Limits, optional
        The resource limits; default ``Limits()``.
    strict : bool, default False
        If True and the sandbox cannot run here, raise :class:`SandboxUnavailable` instead of
        applying the limits only.
    writable : sequence of path, optional
        Other folders the program may write (the kernel's connection folder).
    setenv : mapping of str to str, optional
        Environment variables to set inside (``PYTHONPATH``, ``MPLBACKEND``...). Of the
        caller's environment only :data:`ENV_KEEP` and ``LC_*`` pass; ``HOME`` (`scratch`),
        ``TMPDIR``, ``PATH``, ``USER`` and one thread for OpenMP/OpenBLAS/MKL are set.
    python : str, optional
        The interpreter that applies the limits inside the sandbox, and whose environment the
        sandbox shows (:func:`python_paths`); default: this one. It need not be the program's.

    Returns
    -------
    list of str
        The command to run. Start it in its own session (``start_new_session=True``) and kill
        its process tree when done, as :func:`run` does. When the sandbox runs as root,
        `scratch` and `writable` are given to the sandbox's uid (``chown -R``) by this call.

    Raises
    ------
    SandboxUnavailable
        If `strict` and :func:`available` says no.
    ValueError
        If `argv` is empty, or `scratch` or a path is missing.
    TypeError
        If `argv` does not hold strings, or `limits` is not a :class:`Limits`.

    Notes
    -----
    The sandbox is bubblewrap's (``bwrap``, https://github.com/containers/bubblewrap): new user
    (not as root), PID, network, IPC, UTS and cgroup namespaces, a root file system on a
    ``tmpfs`` holding only the mounts listed above, ``--die-with-parent`` and
    ``--new-session``. ``--die-with-parent`` follows the *thread* that started ``bwrap``
    (``PR_SET_PDEATHSIG``): start sandboxes from a thread that lives as long as they do.

    Examples
    --------
    >>> cmd = wrap(["python", "answer.py"], read_only=["book/algos"], scratch=tmp,
    ...            limits=Limits(memory=parse_size("1G")))  # doctest: +SKIP
    >>> subprocess.run(cmd, start_new_session=True, timeout=60)  # doctest: +SKIP
    """
    if isinstance(argv, (str, bytes)) or not argv:
        raise ValueError(f"argv must be a non-empty list of strings, got {argv!r}")
    argv = [os.fspath(a) for a in argv]
    if not all(isinstance(a, str) for a in argv):
        raise TypeError(f"argv must hold strings, got {argv!r}")
    limits = Limits() if limits is None else limits
    if not isinstance(limits, Limits):
        raise TypeError(f"limits must be a Limits, got {type(limits).__name__}")
    (scratch,) = _check_paths("scratch", [scratch], folder=True)
    read_only = _check_paths("read_only", read_only)
    writable = _check_paths("writable", writable, folder=True)
    setenv = {str(k): str(v) for k, v in (setenv or {}).items()}
    python = os.path.abspath(python) if python else sys.executable

    ok, why = available()
    if not ok:
        if strict:
            raise SandboxUnavailable(why)
        if sys.platform == "win32":
            return argv
        root = _running_as_root()
        return _launcher_argv(argv, limits=Limits(limits.memory, None if root else limits.processes,
                                                  limits.file_size, limits.cpu_time),
                              setenv=setenv, scratch=scratch, python=python, uid=None,
                              fallback=True)
    return _sandbox(_find_bwrap(), argv, scratch=scratch, read_only=read_only, writable=writable,
                    limits=limits, setenv=setenv, python=python)


# --- the processes of a sandbox ---------------------------------------------------------------

def _tree(pid: int) -> list[psutil.Process]:
    """Process `pid` and all its descendants (inside the sandbox: everything, as its PID
    namespace's init is a child of bwrap and adopts every orphan)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _kill_tree(pid: int, wait: float = 10.0) -> None:
    """Kill `pid`'s process group and every descendant; wait up to `wait` seconds for the
    descendants to be gone (`pid` itself is left for its parent to reap)."""
    procs = _tree(pid)
    _kill_group(pid)
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    if wait:
        _wait_dead(procs[1:], timeout=wait)


def _wait_dead(procs, timeout: float) -> None:
    """Wait up to `timeout` seconds for every process of `procs` to have died.

    A zombie counts as dead: it runs nothing and holds no memory, and whoever reaps it (the
    machine's init, for the processes of a sandbox whose bwrap is gone) may take its time.
    """
    deadline = time.monotonic() + timeout
    alive = list(procs)
    while alive:
        alive = [p for p in alive if _running(p)]
        if not alive or time.monotonic() > deadline:
            return
        time.sleep(0.02)


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _kill_group(pgid):
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)



def _pss(proc: psutil.Process) -> int:
    """Bytes of memory `proc` holds, shared pages divided among their users (PSS)."""
    try:
        with open(f"/proc/{proc.pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return proc.memory_info().rss
    except psutil.Error:
        return 0


class _MemoryWatch:
    """Kill a process tree once its processes together hold more than `limit` bytes.

    ``RLIMIT_AS`` bounds each process; this bounds their sum, sampled every `interval` seconds
    by a thread of the caller's process (a tree that grows faster than that between two samples
    can overshoot for that long).

    Attributes
    ----------
    exceeded : bool
        True once the tree was killed for going over `limit`.
    peak : int
        The largest total seen, in bytes.
    """

    def __init__(self, pid: int, limit: int, interval: float = 0.25):
        self.pid, self.limit, self.interval = pid, limit, interval
        self.exceeded, self.peak = False, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=f"sandbox-memory-{pid}",
                                        daemon=True)
        self._thread.start()

    def _watch(self):
        while not self._stop.wait(self.interval):
            procs = _tree(self.pid)
            if not procs:
                return
            total = sum(_pss(p) for p in procs)
            self.peak = max(self.peak, total)
            if total > self.limit:
                self.exceeded = True
                # Wait here for the processes to be gone: once bwrap is dead they are no longer
                # its descendants, and nobody else could find them to wait for.
                _kill_tree(self.pid)
                return

    def stop(self):
        """Stop watching (after the processes it killed, if any, are gone)."""
        self._stop.set()
        self._thread.join()


# --- running a program ------------------------------------------------------------------------

@dataclass(frozen=True)
class Completed:
    """What :func:`run` saw.

    Attributes
    ----------
    returncode : int
        The exit status (``-N`` or ``128 + N`` after signal N; -9 when :func:`run` killed it at
        the time limit).
    stdout, stderr : bytes
        What the program wrote.
    timed_out : bool
        True if it was killed at the time limit (`limit` is then ``"time"``).
    limit : LimitHit or None
        The limit it ran into, if any (see :func:`limit_hit`; a Python program that died of an
        uncaught exception is judged by the exception's last traceback line).
    """

    returncode: int
    stdout: bytes
    stderr: bytes
    timed_out: bool
    limit: LimitHit | None


_EXCEPTION_LINE = re.compile(
    r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt)): ?(.*)$|^(MemoryError)$")


def _last_exception(stderr: bytes):
    """The name and message of the exception a Python traceback in `stderr` ends with."""
    for line in reversed(stderr.decode("utf-8", "replace").strip().splitlines()[-5:]):
        match = _EXCEPTION_LINE.match(line.strip())
        if match:
            name = match.group(1) or match.group(3)
            return name.rsplit(".", 1)[-1], match.group(2) or ""
    return "", ""


class Contained:
    """A program started contained (:func:`start`): its process, and what stopped it.

    Attributes
    ----------
    process : subprocess.Popen
        The process (``bwrap``, or the program itself without the sandbox).
    limits : Limits
        The limits it runs with.
    """

    def __init__(self, process: subprocess.Popen, limits: Limits):
        self.process, self.limits = process, limits
        self._watch = _MemoryWatch(process.pid, limits.memory) if limits.memory else None
        self._stopped = False

    @property
    def memory_exceeded(self) -> bool:
        """True if its processes together held more than ``limits.memory`` and were killed."""
        return self._watch is not None and self._watch.exceeded

    def stop(self) -> None:
        """Kill the program and everything it started, and return once they are gone.

        Inside the sandbox that is every process it started (its PID namespace ends with it);
        without the sandbox, a process that left both its process group (``setsid``) and its
        process tree (a double fork) can survive. Idempotent.
        """
        if self._stopped:
            return
        if self._watch is not None:
            self._watch.stop()
        _kill_tree(self.process.pid)
        self.process.wait()
        self._stopped = True

    def limit_hit(self, *, ename: str = "", evalue: str = "") -> LimitHit | None:
        """Which limit the program (or its exception `ename`: `evalue`) ran into, if any.

        See :func:`limit_hit`; the memory of its processes together is checked first.
        """
        if self.memory_exceeded:
            return _hit("memory", self.limits, together=True)
        return limit_hit(self.limits, returncode=self.process.poll(), ename=ename, evalue=evalue)


def start(argv, *, scratch, read_only=(), limits=None, strict=False, writable=(), setenv=None,
          python=None, **popen) -> Contained:
    """Start `argv` contained (:func:`wrap`), in a session of its own, and watch its memory.

    Parameters
    ----------
    argv, read_only, scratch, limits, strict, writable, setenv, python
        As for :func:`wrap` (`scratch` is also the working directory).
    **popen
        Passed to :class:`subprocess.Popen` (``stdin``, ``stdout``, ``stderr``...).

    Returns
    -------
    Contained
        Call its :meth:`Contained.stop` when done (also after the program exited: it kills what
        the program left behind).

    Raises
    ------
    SandboxUnavailable
        If `strict` and the sandbox cannot run here.
    """
    limits = Limits() if limits is None else limits
    cmd = wrap(argv, read_only=read_only, scratch=scratch, limits=limits, strict=strict,
               writable=writable, setenv=setenv, python=python)
    process = subprocess.Popen(cmd, start_new_session=True, cwd=scratch, **popen)
    return Contained(process, limits)


def run(argv, *, read_only=(), scratch=None, limits=None, strict=False, timeout=None,
        input=None, writable=(), setenv=None, python=None) -> Completed:
    """Run `argv` contained (:func:`wrap`), wait for it, and leave nothing of it running.

    Parameters
    ----------
    argv, read_only, limits, strict, writable, setenv, python
        As for :func:`wrap`.
    scratch : path, optional
        The writable working folder; default: a new temporary folder, deleted afterwards.
    timeout : float, optional
        Seconds of wall-clock time before the program is killed.
    input : bytes, optional
        Sent to the program's standard input (default: none, it reads end of file).

    Returns
    -------
    Completed
        Exit status, output, whether it timed out, and the limit it hit if any.

    Raises
    ------
    SandboxUnavailable
        If `strict` and the sandbox cannot run here.

    Notes
    -----
    The program runs in its own session; when it ends (or is killed) it is stopped as
    :meth:`Contained.stop` says, and :func:`run` returns once everything it started is gone.
    """
    limits = Limits() if limits is None else limits
    with contextlib.ExitStack() as stack:
        if scratch is None:
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="sandbox-"))
        # Files, not pipes: the run ends when the program does, even if something it started
        # (outside the sandbox) still holds its output open; and RLIMIT_FSIZE bounds them.
        stdin, stdout, stderr = (stack.enter_context(tempfile.TemporaryFile()) for _ in range(3))
        stdin.write(input or b"")
        stdin.seek(0)
        started = start(argv, read_only=read_only, scratch=scratch, limits=limits,
                        strict=strict, writable=writable, setenv=setenv, python=python,
                        stdin=stdin, stdout=stdout, stderr=stderr)
        timed_out = False
        try:
            started.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            started.stop()
        stdout.seek(0)
        stderr.seek(0)
        out, err = stdout.read(), stderr.read()
    if timed_out and not started.memory_exceeded:
        hit = _hit("time", limits, seconds=timeout)
    else:
        ename, evalue = _last_exception(err)
        hit = started.limit_hit(ename=ename, evalue=evalue)
    return Completed(started.process.returncode, out, err, timed_out, hit)


# --- a Jupyter kernel in the sandbox ----------------------------------------------------------



class KernelManager(AsyncKernelManager):
    """A Jupyter kernel manager whose kernel runs in the sandbox (:func:`wrap`), for nbclient.

    The kernel talks to the client over Unix domain sockets (ZeroMQ ``ipc`` transport) in a
    private folder that only it and the client see, so the sandbox keeps no network at all; it
    is interrupted by an ``interrupt_request`` message (a signal sent to ``bwrap`` would not
    reach it).

    Parameters
    ----------
    read_only : list of path
        As for :func:`wrap`: what the notebook may read besides the Python environment.
    scratch : path, optional
        The notebook's writable working folder (and ``HOME``); default: the ``cwd`` the kernel
        is started with (nbclient passes ``resources["metadata"]["path"]``).
    limits : Limits, default ``Limits()``
    strict : bool, default False
        Refuse to start the kernel when the sandbox cannot run here (:class:`SandboxUnavailable`).
    setenv : dict, optional
        Environment variables to set in the kernel (``PYTHONPATH``...): the environment
        nbclient passes is filtered as :func:`wrap` does.
    **kwargs
        Passed to :class:`jupyter_client.AsyncKernelManager` (``kernel_name``...).

    Attributes
    ----------
    exit_status : int or None
        The kernel's exit status if it died by itself (not shut down by the client), for
        :meth:`limit_hit`.

    Notes
    -----
    nbclient shuts down only a kernel manager it made itself. With one passed as ``km=``, set
    ``client.owns_km = True`` so that it shuts the kernel down and closes its channels when the
    run ends (and cleans up after a kernel that died); using the manager as a context manager
    (``with KernelManager(...) as km``) also stops a kernel still running at the end.

    Examples
    --------
    >>> with KernelManager(kernel_name="python3", read_only=["book/algos"],
    ...                    limits=Limits(memory=parse_size("2G"))) as km:  # doctest: +SKIP
    ...     client = nbclient.NotebookClient(nb, km=km, allow_errors=True, timeout=60,
    ...                                      resources={"metadata": {"path": work}})
    ...     client.owns_km = True
    ...     try:
    ...         client.execute()
    ...     except nbclient.exceptions.DeadKernelError:
    ...         print(km.limit_hit())          # e.g. LimitHit("time", ...)
    >>> km.limit_hit(ename="MemoryError")  # doctest: +SKIP
    """

    read_only = List(help="Paths (str or Path) the kernel may read (see sandbox.wrap).")
    scratch = Unicode(None, allow_none=True, help="The kernel's writable working folder.")
    limits = Instance(Limits, args=(), help="Resource limits of the kernel.")
    strict = Bool(False, help="Refuse to run without the sandbox.")
    setenv = Dict(help="Environment variables set inside the sandbox.")

    exit_status: int | None = None
    _runtime_dir: str | None = None
    _watch: _MemoryWatch | None = None

    async def _async_pre_start_kernel(self, **kw):
        self.exit_status = None
        if self._runtime_dir is None:
            self._runtime_dir = os.path.realpath(tempfile.mkdtemp(prefix="sandbox-kernel-"))
            self.connection_file = os.path.join(self._runtime_dir, "kernel.json")
            if sys.platform != "win32":  # ZeroMQ has no ipc transport on Windows
                self.transport = "ipc"
                self.ip = os.path.join(self._runtime_dir, "kernel-ipc")
        self._scratch = self.scratch or kw.get("cwd")
        if not self._scratch:
            raise ValueError("KernelManager needs a scratch folder (or a cwd to start in)")
        # bwrap starts the kernel in a session of its own: SIGINT to bwrap's process group would
        # not reach it, a message does (ipykernel then interrupts itself).
        self.kernel_spec.interrupt_mode = "message"
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments=None):
        """The kernel's command line (its kernel spec's ``argv``), wrapped in the sandbox."""
        cmd = super().format_kernel_cmd(extra_arguments)
        return wrap(cmd, read_only=self.read_only, scratch=self._scratch, limits=self.limits,
                    strict=self.strict, writable=[self._runtime_dir], setenv=self.setenv)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        await super()._async_launch_kernel(kernel_cmd, **kw)
        if self.limits.memory:
            self._watch = _MemoryWatch(self.provisioner.process.pid, self.limits.memory)

    async def _async_kill_kernel(self, restart=False):
        process = getattr(self.provisioner, "process", None)
        procs = _tree(process.pid)[1:] if process is not None else []
        await super()._async_kill_kernel(restart=restart)
        # bwrap is gone; wait for its sandbox to finish dying too.
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        await asyncio.to_thread(_wait_dead, procs, timeout=10)

    def _note_exit(self):
        # The kernel's exit status, if it ended by itself (not by the client shutting it down).
        process = getattr(self.provisioner, "process", None)
        if self.exit_status is None and process is not None and process.poll() is not None:
            self.exit_status = process.returncode

    async def _async_shutdown_kernel(self, now=False, restart=False):
        self._note_exit()
        await super()._async_shutdown_kernel(now=now, restart=restart)

    async def _async_cleanup_resources(self, restart=False):
        if not self.shutting_down:  # nbclient found the kernel dead and cleans up
            self._note_exit()
        await super()._async_cleanup_resources(restart=restart)
        if self._watch is not None:
            self._watch.stop()
        if not restart and self._runtime_dir is not None:
            shutil.rmtree(self._runtime_dir, ignore_errors=True)
            self._runtime_dir = None

    # AsyncKernelManager binds its public coroutine names to the base class's functions.
    shutdown_kernel = _async_shutdown_kernel
    cleanup_resources = _async_cleanup_resources

    async def _async_stop(self):
        # A kernel that died was cleaned up (by nbclient) but still "has" its process.
        if self.has_kernel and await self._async_is_alive():
            await self._async_shutdown_kernel(now=True)
        elif self._runtime_dir is not None:
            await self._async_cleanup_resources()

    def stop(self):
        """Stop the kernel now, if it runs, and remove its connection folder (idempotent)."""
        run_sync(self._async_stop)()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def limit_hit(self, *, ename="", evalue=""):
        """Which limit a failed cell (`ename`, `evalue`) or the kernel's death came from.

        Returns
        -------
        LimitHit or None
            See :func:`limit_hit`; the kernel's exit status is used when it died by itself, and
            ``"memory"`` is the answer when the kernel's processes together held more than
            ``limits.memory`` and were killed for it.
        """
        if self._watch is not None and self._watch.exceeded:
            return _hit("memory", self.limits, together=True)
        self._note_exit()  # a kernel nbclient found dead is not cleaned up yet
        return limit_hit(self.limits, returncode=self.exit_status, ename=ename, evalue=evalue)
