"""The one place where the grader starts processes that run students' code.

Two kinds of process run a student's code: the Jupyter kernel that runs the notebook top to
bottom (:func:`kernel_manager`), and the exercise processes that call the student's functions
without the reference answers (:func:`start_exercise`). Both start here, each in its own
process group (session) so that whatever the student's code starts can be stopped with it
(:func:`stop_group`).

Containment (issue 20) plugs in here and nowhere else: the arguments already say what each
process needs to read (``read_only``), where it may write (``scratch``) and its ``limits``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from jupyter_client import AsyncKernelManager

#: The kernel the grader runs notebooks in (the Python environment the grader runs in).
KERNEL_NAME = "python3"


def python_paths():
    """Folders a Python process of this environment reads: its prefix and its base install."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent}
    return sorted(paths)


def kernel_manager(*, scratch, read_only, limits=None):
    """A kernel manager for one notebook's kernel.

    Parameters
    ----------
    scratch : path
        The kernel's working folder (a copy of the notebook and links to the book's files);
        the only place it needs to write.
    read_only : list of path
        What else it needs to read: the Python environment and the book.
    limits : object, optional
        Resource limits (memory, processes, file size, CPU time), for the sandbox.

    Returns
    -------
    jupyter_client.AsyncKernelManager
        jupyter_client starts the kernel in a new session, so its process group holds the
        kernel and what it starts. nbclient needs the asynchronous manager: with a blocking
        one, waiting for a cell's output blocks the time limit too.
    """
    # TODO(issue 20): run the kernel in the sandbox (a subclass of AsyncKernelManager), e.g.
    #     from . import sandbox
    #     if sandbox.available()[0]:
    #         return sandbox.KernelManager(kernel_name=KERNEL_NAME, read_only=read_only,
    #                                      scratch=scratch, limits=limits)
    return AsyncKernelManager(kernel_name=KERNEL_NAME)


def exercise_command(argv, *, scratch, read_only, limits=None):
    """The command line that runs ``argv`` (an exercise process) for a student's answer."""
    # TODO(issue 20): wrap it in the sandbox, e.g.
    #     from . import sandbox
    #     if sandbox.available()[0]:
    #         return sandbox.wrap(argv, read_only=read_only, scratch=scratch, limits=limits)
    return list(argv)


def start_exercise(argv, *, scratch, read_only, env, limits=None, stderr=None):
    """Start an exercise process in ``scratch``, in a process group of its own.

    Its standard input and output are pipes (the request goes in, the results come out);
    ``stderr`` receives what the student's code prints.
    """
    command = exercise_command(argv, scratch=scratch, read_only=read_only, limits=limits)
    return subprocess.Popen(command, cwd=scratch, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=stderr if stderr is not None
                            else subprocess.DEVNULL, start_new_session=True)


def stop_group(pgid):
    """Kill every process left in the process group ``pgid`` (quietly if there is none).

    A process that left the group (``setsid``) escapes this; only the sandbox's own process
    namespace (issue 20) stops it.
    """
    if not pgid or not hasattr(os, "killpg") or pgid == os.getpgrp():
        return  # (Windows has no process groups: the caller kills the process itself)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
