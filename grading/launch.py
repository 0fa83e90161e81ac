"""The one place where the grader starts processes that run students' code.

Two kinds of process run a student's code: the Jupyter kernel that runs the notebook top to
bottom (:func:`kernel_manager`), and the exercise processes that call the student's functions
without the reference answers (:func:`start_exercise`). Both run contained by
:mod:`grading.sandbox`: on Linux with bubblewrap inside a sandbox (no network, a read-only view
of only the Python environment and what the caller names, a private writable folder, their own
process IDs), and everywhere with resource limits (:class:`grading.sandbox.Limits`). Without
bubblewrap they run with the limits only, unless ``strict`` refuses.
"""

from __future__ import annotations

import os
import signal

from . import sandbox

#: The kernel the grader runs notebooks in (the Python environment the grader runs in).
KERNEL_NAME = "python3"


def kernel_manager(*, scratch, read_only, limits=None, strict=False, setenv=None):
    """A kernel manager for one notebook's kernel, which runs contained.

    Parameters
    ----------
    scratch : path
        The kernel's working folder (a copy of the notebook and links to the book's files),
        and its ``HOME``: the only place it may write besides a private ``/tmp``.
    read_only : list of path
        What else it may read: the book's ``algos`` and data (the Python environment always).
    limits : grading.sandbox.Limits, optional
        Memory, processes, file size, CPU time; default ``Limits()``.
    strict : bool, default False
        Refuse to start the kernel without the sandbox (:class:`grading.sandbox.SandboxUnavailable`).
    setenv : dict, optional
        The kernel's environment variables besides the sandbox's own (``HOME``, ``PATH``...):
        nothing else of the caller's environment reaches it.

    Returns
    -------
    grading.sandbox.KernelManager
        An asynchronous manager (nbclient needs one: with a blocking one, waiting for a cell's
        output blocks the time limit too).
    """
    return sandbox.KernelManager(
        kernel_name=KERNEL_NAME, scratch=str(scratch), read_only=[str(p) for p in read_only],
        limits=sandbox.Limits() if limits is None else limits, strict=strict,
        setenv=dict(setenv or {}))


def start_exercise(argv, *, scratch, read_only, setenv, limits=None, strict=False, stderr=None):
    """Start an exercise process contained, in ``scratch``.

    Its standard input and output are pipes (the request goes in, the results come out);
    ``stderr`` receives what the student's code prints.

    Returns
    -------
    grading.sandbox.Contained
        ``.process`` is the :class:`subprocess.Popen`; ``.stop()`` kills it and everything it
        started; ``.limit_hit()`` tells which limit stopped it.
    """
    import subprocess

    return sandbox.start(argv, scratch=scratch, read_only=read_only, limits=limits,
                         strict=strict, setenv=setenv, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE,
                         stderr=stderr if stderr is not None else subprocess.DEVNULL)


def stop_group(pgid):
    """Kill every process left in the process group ``pgid`` (quietly if there is none)."""
    if not pgid or not hasattr(os, "killpg") or pgid == os.getpgrp():
        return  # (Windows has no process groups: the caller kills the process itself)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
