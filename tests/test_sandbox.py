"""Tests of the grader's containment (issue 20): ``grading/sandbox.py``.

Every test builds a graded folder as a teacher has one: the teacher's home with a private key,
a class folder with several students' submissions, a listener on the teacher's 127.0.0.1. Student
code then runs through :func:`grading.sandbox.wrap` (a plain program, as the exercise process
runs) and through :class:`grading.sandbox.KernelManager` with nbclient (a notebook), tries to
reach what it must not, and exhausts each limit. Each attempt must fail or be stopped, the
teacher's files must be unchanged, the listener must see no connection, no process may be left,
and an ordinary notebook next to it must run normally.

bubblewrap must be installed (``.ci/run`` installs it): without it these tests fail, they are
never skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from conftest import require
from containment import Listener, no_bwrap  # noqa: F401 (a fixture)
from grading import sandbox
from grading.sandbox import KernelManager, Limits, limit_hit, parse_size, run, wrap

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
ALGOS = BOOK / "algos"
MiB = 1024 ** 2
# A sleep no other program on the machine runs, to find the sleepers the tests start.
SLEEP = "917.25"
# Small limits keep the tests fast; the attacks go well past them.
LIMITS = Limits(memory=1024 * MiB, processes=32, file_size=8 * MiB)
SANDBOX_UID = sandbox.SANDBOX_UIDS[0]


# --- the graded folder ------------------------------------------------------------------------

class GradedFolder:
    """A teacher's machine in a temporary folder: a home, a class of submissions, book data."""

    def __init__(self, root: Path):
        self.root = root
        self.home = root / "home" / "teacher"
        self.key = self.home / ".ssh" / "id_rsa"
        self.notes = self.home / "grades-draft.txt"
        self.classroom = root / "class"
        self.sibling = self.classroom / "bob" / "homework.ipynb"
        self.data = root / "book-data"
        self.points = self.data / "points.csv"
        self.key.parent.mkdir(parents=True)
        self.key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nTEACHER-SECRET\n")
        self.key.chmod(0o600)
        self.notes.write_text("alice 18/20\n")
        self.sibling.parent.mkdir(parents=True)
        self.sibling.write_text('{"cells": [], "metadata": {}, "BOB-SECRET": 1}')
        self.data.mkdir()
        self.points.write_text("0,0\n0,1\n10,10\n10,11\n")
        self.before = self.snapshot()

    def snapshot(self):
        """Every file outside the scratch folders: path -> (content hash, mode, mtime)."""
        out = {}
        for path in sorted(self.root.rglob("*")):
            if "scratch" in path.relative_to(self.root).parts:
                continue
            st = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            out[str(path)] = (digest, st.st_mode, st.st_mtime_ns)
        return out

    def scratch(self, name: str) -> Path:
        path = self.root / "scratch" / name
        path.mkdir(parents=True)
        return path

    def unchanged(self):
        after = self.snapshot()
        assert after == self.before, "the teacher's files changed: " + ", ".join(
            sorted(set(after.items()) ^ set(self.before.items()), key=str)[:5].__repr__())


@pytest.fixture(scope="module")
def sandbox_here():
    """The sandbox must work on this machine (fails, never skips, when bwrap is missing)."""
    sandbox.available.cache_clear()
    ok, why = sandbox.available()
    require(ok, f"The sandbox does not work here: {why}")
    return why


@pytest.fixture
def folder(tmp_path, tmp_path_factory, monkeypatch, sandbox_here):
    folder = GradedFolder(tmp_path)
    # The grader runs with the teacher's environment: HOME and a secret token. (IPython, in the
    # grader's process, would make ~/.ipython: that is the grader's doing, kept out of the way.)
    monkeypatch.setenv("HOME", str(folder.home))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("grader-ipython")))
    monkeypatch.setenv("TEACHER_API_TOKEN", "TOKEN-SECRET")
    yield folder
    folder.unchanged()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def processes_running(marker=SLEEP):
    """The processes these tests started (with `marker` in their command line) still alive."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if marker in cmd and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def no_sleepers_left(marker=SLEEP, wait=0.0):
    """Nothing the sandbox started is still running, right after the run returned (or within
    `wait` seconds)."""
    deadline = time.monotonic() + wait
    while processes_running(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = processes_running(marker)
    for proc in left:  # do not leave them to the next test
        proc.kill()
    assert not left, f"{len(left)} processes outlived the sandbox: {left}"


# --- what student code tries ------------------------------------------------------------------

def attack_code(folder: GradedFolder, port: int) -> str:
    """Python that tries every escape and prints, per attempt, "ok" or the error it met."""
    targets = {
        "read the teacher's key": f"open({str(folder.key)!r}).read()",
        "read a sibling submission": f"open({str(folder.sibling)!r}).read()",
        "list the class folder": f"os.listdir({str(folder.classroom)!r})",
        "list the teacher's home": f"os.listdir({str(folder.home)!r})",
        "read ~/.ssh through HOME": "open(os.path.expanduser('~/.ssh/id_rsa')).read()",
        "write into the teacher's home":
            f"open({str(folder.home / 'pwned.txt')!r}, 'w').write('x')",
        "change the teacher's notes": f"open({str(folder.notes)!r}, 'a').write('alice 20/20')",
        "delete a sibling submission": f"os.remove({str(folder.sibling)!r})",
        "change the book's algos": f"open({str(ALGOS / 'kmeans.py')!r}, 'a').write('#')",
        "read /root": "os.listdir('/root/.ssh')",
        "read the repository": f"os.listdir({str(REPO / '.git')!r})",
        "connect to the teacher's 127.0.0.1":
            f"socket.create_connection(('127.0.0.1', {port}), timeout=3).close()",
        "connect to the outside": "socket.create_connection(('1.1.1.1', 53), timeout=3).close()",
        "see the teacher's secret token": "os.environ['TEACHER_API_TOKEN']",
        "see the host's processes":
            "assert len([p for p in os.listdir('/proc') if p.isdigit()]) > 20",
    }
    lines = ["import json, os, socket", "out = {}"]
    for name, code in targets.items():
        lines += [f"try:\n    {code}\n    out[{name!r}] = 'ok'",
                  f"except BaseException as exc:\n"
                  f"    out[{name!r}] = type(exc).__name__ + ': ' + str(exc)"]
    lines.append("print(json.dumps(out))")
    return "\n".join(lines)


def assert_all_blocked(outcomes: dict):
    assert len(outcomes) == 15
    allowed = {name: result for name, result in outcomes.items() if result == "ok"}
    assert not allowed, f"the sandbox let these through: {allowed}"
    for name, result in outcomes.items():
        assert result.split(":")[0] in {
            "FileNotFoundError", "PermissionError", "OSError", "ConnectionRefusedError",
            "KeyError", "AssertionError",
        }, f"{name}: {result}"
    # Nothing of the host is there at all (not merely unreadable).
    assert outcomes["read the teacher's key"].startswith("FileNotFoundError")
    assert outcomes["read a sibling submission"].startswith("FileNotFoundError")
    # Read-only: as root the sandbox's uid may not write root's files anyway; as the teacher it
    # could, but the mount is read-only.
    assert outcomes["change the book's algos"].startswith(("OSError: [Errno 30]",
                                                           "PermissionError"))
    assert outcomes["connect to the outside"].startswith("OSError: [Errno 101]")  # no route


PROCESSES = textwrap.dedent(f"""
    import subprocess
    started, error = [], None
    try:
        for _ in range(300):
            started.append(subprocess.Popen(["sleep", "{SLEEP}"]))
    except Exception as exc:
        error = exc
    print(len(started), type(error).__name__, error)
""")

MEMORY = textwrap.dedent("""
    chunks = []
    try:
        while True:
            chunks.append(bytearray(64 * 1024 ** 2))
    except MemoryError:
        print(len(chunks) * 64, "MiB before MemoryError")
        del chunks
        raise
""")

HUGE_FILE = textwrap.dedent("""
    import os
    block = b"x" * 1024 ** 2
    with open("huge.bin", "wb", buffering=0) as f:
        for _ in range(1024):
            f.write(block)
""")

TMP_FILL = textwrap.dedent("""
    block = b"x" * 1024 ** 2
    for i in range(100):
        with open(f"/tmp/part{i}", "wb", buffering=0) as f:
            for _ in range(4):
                f.write(block)
""")


def python_run(code, folder, name, limits=LIMITS, **kwargs):
    return run([sys.executable, "-c", code], read_only=[ALGOS, folder.data],
               scratch=folder.scratch(name), limits=limits, timeout=60, **kwargs)


# --- through wrap: the exercise process's way -------------------------------------------------

def test_student_code_reaches_nothing_of_the_teacher(folder, listener):
    done = python_run(attack_code(folder, listener.port), folder, "attacker")
    assert done.returncode == 0, done.stderr.decode()
    assert_all_blocked(json.loads(done.stdout))
    assert listener.connections() == 0


def test_an_ordinary_program_runs_normally(folder, monkeypatch):
    # What the caller's environment says does not change results; what the grader sets does.
    monkeypatch.setenv("PYTHONPATH", str(folder.home))
    monkeypatch.setenv("MPLBACKEND", "TkAgg")
    code = textwrap.dedent(f"""
        import os, tempfile, numpy as np
        from algos import kmeans
        X = np.loadtxt({str(folder.points)!r}, delimiter=",")
        result = kmeans.fit(X, k=2, init=X[[0, 2]])
        open("answer.txt", "w").write(str(result.labels.tolist()))
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"temporary")
        print(result.labels.tolist(), os.path.expanduser("~") == os.getcwd(),
              os.environ["PYTHONPATH"], os.environ.get("MPLBACKEND"))
    """)
    done = python_run(code, folder, "alice", setenv={"PYTHONPATH": str(BOOK)})
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().split() == ["[0,", "0,", "1,", "1]", "True", str(BOOK), "None"]
    assert (folder.root / "scratch" / "alice" / "answer.txt").read_text() == "[0, 0, 1, 1]"
    assert done.limit is None


def test_hundreds_of_processes_are_capped_and_none_survives(folder):
    done = python_run(PROCESSES, folder, "forker")
    started, error = done.stdout.decode().split()[:2]
    assert 0 < int(started) < LIMITS.processes
    assert error == "BlockingIOError"
    no_sleepers_left()


def test_processes_of_a_stopped_program_do_not_survive(folder):
    # Sleepers that leave the process group (setsid), then the program runs past its time.
    code = PROCESSES.replace('subprocess.Popen(["sleep"', 'subprocess.Popen(["setsid", "sleep"')
    code += "\nimport time\ntime.sleep(60)\n"
    started = time.monotonic()
    done = run([sys.executable, "-c", code], scratch=folder.scratch("daemon"), limits=LIMITS,
               timeout=3)
    assert done.timed_out and done.limit.limit == "time"
    assert time.monotonic() - started < 30
    no_sleepers_left()


def test_sandbox_dies_with_a_grader_that_is_killed(folder):
    """kill -9 of the grader (or a crash) takes the sandbox and all it started with it."""
    student = PROCESSES + "\nimport time\ntime.sleep(600)\n"
    grader = textwrap.dedent(f"""
        import subprocess, sys, time
        from grading.sandbox import wrap
        cmd = wrap([sys.executable, "-c", {student!r}], scratch={str(folder.scratch("orphan"))!r})
        subprocess.Popen(cmd, start_new_session=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", grader], cwd=REPO)
    deadline = time.monotonic() + 30
    while len(processes_running()) < 10 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(processes_running()) >= 10
    proc.kill()
    proc.wait()
    no_sleepers_left(wait=5)  # the kernel delivers the parent-death signal asynchronously


def test_memory_limit_stops_allocation_and_is_named(folder):
    done = python_run(MEMORY, folder, "hog")
    assert done.returncode == 1
    mib = int(done.stdout.split()[0])
    assert 0 < mib <= 1024
    assert done.limit.limit == "memory"
    assert "1 GiB" in done.limit.message


MANY_HOGS = textwrap.dedent("""
    import subprocess, sys
    hog = "x = b'1' * (400 * 1024 ** 2); import time; time.sleep(60)"
    hogs = [subprocess.Popen([sys.executable, "-c", hog]) for _ in range(4)]
    for h in hogs:
        h.wait()
""")


def test_memory_of_many_processes_together_is_limited(folder):
    """Each process stays under RLIMIT_AS; together they go over, and the sandbox is stopped."""
    limits = Limits(memory=768 * MiB, processes=32)
    started = time.monotonic()
    done = python_run(MANY_HOGS, folder, "hogs", limits=limits)
    assert time.monotonic() - started < 30 and not done.timed_out
    assert done.returncode == -signal.SIGKILL
    assert done.limit.limit == "memory" and "together" in done.limit.message
    assert "768 MiB" in done.limit.message
    no_sleepers_left("x = b'1' * (400 * 1024 ** 2)")


def test_file_size_limit_stops_a_huge_file_and_is_named(folder):
    scratch = folder.root / "scratch" / "writer"
    done = python_run(HUGE_FILE, folder, "writer")
    assert done.returncode == 1
    assert "[Errno 27] File too large" in done.stderr.decode()
    assert done.limit.limit == "file size"
    assert (scratch / "huge.bin").stat().st_size <= LIMITS.file_size


def test_private_tmp_is_limited_and_thrown_away(folder):
    done = python_run(TMP_FILL, folder, "tmpfill")
    assert "[Errno 28] No space left on device" in done.stderr.decode()
    assert done.limit.limit == "file size"
    leaked = [p for p in Path(tempfile.gettempdir()).glob("part*")]
    assert not leaked


def test_cpu_time_limit_stops_a_busy_loop_and_is_named(folder):
    started = time.monotonic()
    done = python_run("while True: pass", folder, "spinner", limits=Limits(cpu_time=1))
    assert done.returncode == 128 + signal.SIGXCPU
    assert not done.timed_out and done.limit.limit == "time"
    assert time.monotonic() - started < 30


def test_process_cap_counts_only_the_sandbox_for_an_ordinary_user(tmp_path, sandbox_here,
                                                                   monkeypatch):
    """A teacher is not root: RLIMIT_NPROC then counts the sandbox's user namespace only.

    The teacher already runs more processes than the limit; the sandbox still starts some, and
    stops at the limit. As root the test plays the teacher with an unprivileged uid (and the
    system's Python, as root's virtual environment is not theirs to read).
    """
    as_root = os.geteuid() == 0
    uid = 54321 if as_root else os.getuid()
    python = "/usr/bin/python3" if as_root else sys.executable
    require(os.access(python, os.X_OK), f"{python} is needed to play an ordinary user")
    prefix = as_teacher(uid if as_root else None)
    limits = Limits(memory=None, processes=16)
    outside = start_outside_sleepers(prefix)
    scratch = Path(tempfile.mkdtemp(prefix="sandbox-user-"))
    try:
        os.chown(scratch, uid, uid)
        monkeypatch.setattr(sandbox, "_running_as_root", lambda: False)
        cmd = wrap([python, "-c", PROCESSES], scratch=scratch, limits=limits, python=python)
        assert "--unshare-user" in cmd
        done = subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=60,
                              start_new_session=True, cwd=scratch)
        assert done.returncode == 0, done.stderr
        started, error = done.stdout.split()[:2]
        assert 4 <= int(started) < limits.processes, done.stdout
        assert error == "BlockingIOError"
    finally:
        for proc in outside:
            proc.kill()
            proc.wait()
        shutil.rmtree(scratch, ignore_errors=True)
    no_sleepers_left()


def as_teacher(uid):
    """The command prefix that runs a program as an ordinary user (when the tests run as root)."""
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"] if uid else []


def start_outside_sleepers(prefix, n=24):
    """`n` sleepers of the (pretend) teacher, running as that user once this returns."""
    procs = [subprocess.Popen([*prefix, "sleep", SLEEP]) for _ in range(n)]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(psutil.Error):
            if all(psutil.Process(p.pid).cmdline()[:1] == ["sleep"] for p in procs):
                return procs
        time.sleep(0.05)
    raise AssertionError("the outside sleepers did not start")


# --- without bubblewrap -----------------------------------------------------------------------

def test_without_bwrap_the_grader_is_told_why(no_bwrap):
    ok, why = sandbox.available()
    assert not ok
    assert "bubblewrap" in why and "apt-get install bubblewrap" in why and "STRICT=1" in why


@pytest.mark.parametrize("platform, says", [
    ("darwin", "no sandbox on darwin (it needs Linux and bubblewrap): grade inside a Linux"),
    ("win32", "no sandbox and no limits on Windows: grade inside WSL2"),
])
def test_elsewhere_the_grader_says_what_to_do(no_bwrap, monkeypatch, platform, says):
    monkeypatch.setattr(sandbox.sys, "platform", platform)
    sandbox.available.cache_clear()
    ok, why = sandbox.available()
    assert not ok and why.startswith(says) and why.endswith(
        "STRICT=1 refuses to grade without the sandbox.")
    assert ".," not in why and ". ." not in why


def test_without_bwrap_strict_refuses(no_bwrap, tmp_path):
    with pytest.raises(sandbox.SandboxUnavailable, match="not installed"):
        wrap([sys.executable, "-c", "pass"], scratch=tmp_path, strict=True)


def test_without_bwrap_an_ordinary_user_gets_a_process_cap_above_what_runs(no_bwrap,
                                                                         monkeypatch):
    """No user namespace: RLIMIT_NPROC counts all the user's processes, so the cap is set to
    what the user runs already plus `processes` (shared with the user's other programs)."""
    as_root = os.geteuid() == 0
    uid = 54321 if as_root else None
    python = "/usr/bin/python3" if as_root else sys.executable
    require(os.access(python, os.X_OK), f"{python} is needed to play an ordinary user")
    prefix = as_teacher(uid)
    outside = start_outside_sleepers(prefix)
    scratch = Path(tempfile.mkdtemp(prefix="sandbox-user-"))
    try:
        os.chown(scratch, uid or os.getuid(), uid or os.getgid())
        monkeypatch.setattr(sandbox, "_running_as_root", lambda: False)
        cmd = wrap([python, "-c", PROCESSES], scratch=scratch, python=python,
                   limits=Limits(memory=None, processes=16))
        assert os.path.basename(cmd[0]) != "bwrap"
        proc = subprocess.Popen([*prefix, *cmd], stdout=subprocess.PIPE, text=True,
                                start_new_session=True, cwd=scratch)
        out = proc.stdout.readline()  # its sleepers hold the pipe open: no communicate()
        proc.wait(timeout=60)
        os.killpg(proc.pid, signal.SIGKILL)  # and without the sandbox nothing else stops them
        started, error = out.split()[:2]
        # Capped near 16 more than the user ran (the count is taken once, at the start).
        assert 4 <= int(started) < 32 and error == "BlockingIOError", out
    finally:
        for p in outside:
            p.kill()
            p.wait()
        shutil.rmtree(scratch, ignore_errors=True)
    no_sleepers_left(wait=10)  # killed by the test, which the sandbox would have done


def test_without_bwrap_the_limits_still_apply(no_bwrap, tmp_path, monkeypatch):
    monkeypatch.setenv("TEACHER_API_TOKEN", "TOKEN-SECRET")
    cmd = wrap([sys.executable, "-c", "pass"], scratch=tmp_path, limits=LIMITS)
    assert "bwrap" not in os.path.basename(cmd[0])
    code = MEMORY.replace("raise", "import os; print('TEACHER_API_TOKEN' in os.environ)")
    done = run([sys.executable, "-c", code], scratch=tmp_path, limits=LIMITS, timeout=60)
    mib, *_, token = done.stdout.split()
    assert 0 < int(mib) <= 1024 and token == b"False"
    done = run([sys.executable, "-c", HUGE_FILE], scratch=tmp_path, limits=LIMITS, timeout=60)
    assert done.limit.limit == "file size"


# --- through the kernel manager: a notebook ---------------------------------------------------

def notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def execute(nb, folder, name, limits=LIMITS, timeout=30):
    """Run `nb` as the grader would, in the sandbox; return the kernel manager."""
    path = folder.classroom / name / "homework.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    folder.before = folder.snapshot()  # the submission is one of the teacher's files now
    work = folder.scratch(name)
    shutil.copy(path, work / "notebook.ipynb")
    km = KernelManager(kernel_name="python3", read_only=[str(ALGOS), str(folder.data)],
                       limits=limits, strict=True, setenv={"PYTHONPATH": str(BOOK)})
    km.died = False
    client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=True, startup_timeout=60,
                            interrupt_on_timeout=True, resources={"metadata": {"path": str(work)}},
                            error_on_timeout={"ename": "TimeoutError", "evalue": "cell timed out",
                                              "traceback": []})
    client.owns_km = True  # nbclient shuts the kernel down at the end
    try:
        client.execute()
    except DeadKernelError:
        km.died = True
    assert km._runtime_dir is None  # the connection folder is gone
    return km


def outputs(cell):
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    errors = [(o.ename, o.evalue) for o in cell.outputs if o.output_type == "error"]
    return text, errors


def test_a_class_folder_graded_in_the_sandbox(folder, listener):
    """An ordinary notebook runs normally; the one next to it gets nowhere and hits the limits."""
    alice = execute(notebook(
        "import numpy as np\nfrom algos import kmeans",
        f"X = np.loadtxt({str(folder.points)!r}, delimiter=',')\n"
        "print(kmeans.fit(X, k=2, init=X[[0, 2]]).labels.tolist())",
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.savefig('figure.png')\n"
        "print('saved')",
    ), folder, "alice")
    mallory_nb = notebook(attack_code(folder, listener.port), PROCESSES, MEMORY, HUGE_FILE,
                          "print('still alive')")
    mallory = execute(mallory_nb, folder, "mallory")

    alice_nb = nbformat.read(folder.classroom / "alice" / "homework.ipynb", as_version=4)
    assert alice_nb.cells[0].outputs == []  # the submission itself is not written to
    assert alice.exit_status is None
    assert not alice.died
    assert (folder.root / "scratch" / "alice" / "figure.png").stat().st_size > 1000

    attack, processes, memory, huge, alive = (outputs(c) for c in mallory_nb.cells)
    assert_all_blocked(json.loads(attack[0]))
    assert listener.connections() == 0
    started = int(processes[0].split()[0])
    assert 0 < started < LIMITS.processes and "BlockingIOError" in processes[0]
    assert memory[1][0][0] == "MemoryError"
    assert mallory.limit_hit(ename=memory[1][0][0], evalue=memory[1][0][1]).limit == "memory"
    assert mallory.limit_hit(ename=huge[1][0][0], evalue=huge[1][0][1]).limit == "file size"
    assert alive == ("still alive\n", [])
    assert not mallory.died
    no_sleepers_left()
    assert (folder.root / "scratch" / "mallory" / "huge.bin").stat().st_size <= LIMITS.file_size


def test_kernel_is_interrupted_at_the_time_limit_in_the_sandbox(folder):
    """The grader interrupts a cell at its time limit: a message, as bwrap passes no SIGINT."""
    nb = notebook("while True: pass", "print('next cell')")
    started = time.monotonic()
    km = execute(nb, folder, "looper", timeout=3)
    assert outputs(nb.cells[0])[1][0][0] == "KeyboardInterrupt"
    assert outputs(nb.cells[1]) == ("next cell\n", [])
    assert km.exit_status is None
    assert time.monotonic() - started < 30


def test_kernel_killed_by_its_cpu_limit_names_it(folder):
    nb = notebook("print('first')", "while True: pass", "print('never')")
    km = execute(nb, folder, "burner", limits=Limits(cpu_time=3), timeout=60)
    assert km.died
    assert km.exit_status == 128 + signal.SIGXCPU
    hit = km.limit_hit()
    assert hit.limit == "time" and "3 s" in hit.message
    assert outputs(nb.cells[2]) == ("", [])


def test_kernel_whose_processes_together_hold_too_much_memory_is_stopped(folder):
    nb = notebook("print('first')", MANY_HOGS, "print('never')")
    km = execute(nb, folder, "hogs", limits=Limits(memory=768 * MiB, processes=32), timeout=60)
    assert km.died
    hit = km.limit_hit()
    assert hit.limit == "memory" and "together" in hit.message
    assert outputs(nb.cells[0]) == ("first\n", [])


def test_kernel_manager_as_context_manager_stops_its_kernel(folder):
    """Left to nbclient's default (it does not shut down a kernel manager it was given)."""
    nb = notebook(f"import subprocess\np = subprocess.Popen(['sleep', '{SLEEP}'])")
    with KernelManager(kernel_name="python3", limits=LIMITS, strict=True) as km:
        NotebookClient(nb, km=km, resources={"metadata": {"path": str(folder.scratch("cm"))}},
                       startup_timeout=60).execute()
        assert km.has_kernel and processes_running()
        runtime = km._runtime_dir
    assert not km.has_kernel and not os.path.exists(runtime)
    no_sleepers_left()


def test_kernel_manager_without_bwrap_still_applies_the_limits(no_bwrap, tmp_path):
    nb = notebook("import os, resource\n"
                  "print(resource.getrlimit(resource.RLIMIT_AS)[0], os.environ['HOME'])")
    with KernelManager(kernel_name="python3", limits=LIMITS) as km:
        client = NotebookClient(nb, km=km, resources={"metadata": {"path": str(tmp_path)}},
                                startup_timeout=60)
        client.owns_km = True
        client.execute()
    assert outputs(nb.cells[0]) == (f"{LIMITS.memory} {tmp_path}\n", [])
    with pytest.raises(sandbox.SandboxUnavailable):
        with KernelManager(kernel_name="python3", strict=True) as km:
            NotebookClient(notebook("1"), km=km, startup_timeout=60,
                           resources={"metadata": {"path": str(tmp_path)}}).execute()


def test_no_kernel_or_sandbox_survives_the_tests():
    mine = psutil.Process().children(recursive=True)
    assert not [p for p in mine if p.is_running() and p.status() != psutil.STATUS_ZOMBIE
                and "bwrap" in " ".join(p.cmdline())]


# --- the pieces -------------------------------------------------------------------------------

@pytest.mark.parametrize("ename, evalue, returncode, limit", [
    ("MemoryError", "", None, "memory"),
    ("_ArrayMemoryError", "Unable to allocate 8.00 GiB for an array with shape (1073741824,)",
     None, "memory"),
    ("BlockingIOError", "[Errno 11] Resource temporarily unavailable", None, "processes"),
    ("RuntimeError", "can't start new thread", None, "processes"),
    ("OSError", "[Errno 27] File too large", None, "file size"),
    ("OSError", "[Errno 28] No space left on device", None, "file size"),
    ("", "", -signal.SIGXCPU, "time"),
    ("", "", 128 + signal.SIGXCPU, "time"),
    ("", "", 128 + signal.SIGXFSZ, "file size"),
    ("", "", -signal.SIGKILL, "killed"),
    ("ZeroDivisionError", "division by zero", None, None),
    ("RuntimeError", "maximum recursion depth exceeded", None, None),
    ("", "", 1, None),
    ("", "", 0, None),
    ("", "", 128 + signal.SIGSEGV, None),
])
def test_limit_hit_names_the_limit(ename, evalue, returncode, limit):
    hit = limit_hit(Limits(cpu_time=2), ename=ename, evalue=evalue, returncode=returncode)
    assert (hit.limit if hit else None) == limit
    if hit:
        assert hit.limit in sandbox.LIMIT_NAMES and hit.message


def test_limit_messages_name_the_values():
    limits = Limits(memory=parse_size("512M"), processes=40, file_size=parse_size("8M"), cpu_time=5)
    assert "512 MiB" in limit_hit(limits, ename="MemoryError").message
    assert "40" in limit_hit(limits, ename="BlockingIOError", evalue="[Errno 11] x").message
    assert "8 MiB" in limit_hit(limits, ename="OSError", evalue="[Errno 27] File too large").message
    assert "5 s" in limit_hit(limits, returncode=-signal.SIGXCPU).message


def test_limits_defaults_and_validation():
    limits = Limits()
    assert limits.memory == 2 * 1024 ** 3 and limits.cpu_time is None
    assert limits.rlimits() == {"RLIMIT_CORE": 0, "RLIMIT_AS": 2 * 1024 ** 3,
                                "RLIMIT_FSIZE": 256 * MiB}
    with pytest.raises(AttributeError):
        limits.memory = 1  # frozen
    with pytest.raises(ValueError, match="Limits.memory"):
        Limits(memory=0)
    with pytest.raises(ValueError, match="Limits.cpu_time"):
        Limits(cpu_time=float("inf"))
    with pytest.raises(TypeError, match="Limits.processes"):
        Limits(processes=2.5)
    with pytest.raises(TypeError, match="Limits.file_size"):
        Limits(file_size="8M")
    assert Limits(cpu_time=1.5).rlimits()["RLIMIT_CPU"] == 2


@pytest.mark.parametrize("text, size", [
    ("2G", 2 * 1024 ** 3), ("512M", 512 * MiB), ("1.5G", 3 * 1024 ** 3 // 2), ("64 KiB", 65536),
    ("1000", 1000), (4096, 4096), ("3gb", 3 * 1024 ** 3), ("1T", 1024 ** 4),
])
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "two gigs", "2X", "-1G", "0", 0, "1e9"])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError, match="size"):
        parse_size(text)


def test_wrap_checks_its_arguments(tmp_path):
    with pytest.raises(ValueError, match="argv"):
        wrap([], scratch=tmp_path)
    with pytest.raises(ValueError, match="argv"):
        wrap("python", scratch=tmp_path)
    with pytest.raises(ValueError, match="scratch"):
        wrap(["true"], scratch=tmp_path / "missing")
    with pytest.raises(ValueError, match="read_only"):
        wrap(["true"], scratch=tmp_path, read_only=[tmp_path / "missing"])
    with pytest.raises(TypeError, match="limits"):
        wrap(["true"], scratch=tmp_path, limits={"memory": 1})


def test_the_sandbox_shows_only_what_it_must(folder):
    code = "import os; print(sorted(os.listdir('/')), sorted(os.listdir('/etc')))"
    done = python_run(code, folder, "looker")
    top, etc = done.stdout.decode().strip().split("] [")
    top_level = set(eval(top + "]"))
    # The system's folders, and the folders leading to the Python environment and the book.
    expected = {"bin", "dev", "etc", "lib", "lib64", "proc", "sbin", "tmp", "usr"}
    expected |= {Path(p).parts[1] for p in [*sandbox.python_paths(), ALGOS, folder.data]}
    assert top_level <= expected | {"lib32", "libx32"}
    assert "shadow" not in etc and "ssh" not in etc and "passwd" not in etc


@pytest.mark.parametrize("version, recent", [((0, 8, 0), True), ((0, 11, 0), True),
                                             ((0, 6, 1), False)])
def test_older_bubblewrap_gets_only_options_it_knows(tmp_path, version, recent):
    """Ubuntu 22.04 ships bubblewrap 0.6, without --size and --disable-userns."""
    for uid in (None, SANDBOX_UID):
        cmd = sandbox._sandbox_argv("bwrap", ["true"], scratch=str(tmp_path), read_only=(),
                                    writable=(), limits=Limits(), setenv={},
                                    python=sys.executable, uid=uid, version=version)
        assert ("--size" in cmd) == recent
        assert ("--disable-userns" in cmd) == (recent and uid is None)
        assert ("--unshare-user" in cmd) == (uid is None)
        assert cmd.count("--tmpfs") == 2 and "--unshare-net" in cmd


def test_as_root_the_sandbox_gets_its_own_uid_and_the_scratch(tmp_path, sandbox_here):
    if os.geteuid() != 0:
        cmd = wrap(["true"], scratch=tmp_path)
        assert "--unshare-user" in cmd and "--cap-add" not in cmd
        return
    (tmp_path / "notebook.ipynb").write_text("{}")
    cmd = wrap(["true"], scratch=tmp_path)
    uid = json.loads(cmd[-2])["uid"]
    assert uid in sandbox.SANDBOX_UIDS
    assert {p.stat().st_uid for p in [tmp_path, *tmp_path.iterdir()]} == {uid}
    assert "--unshare-user" not in cmd and cmd[cmd.index("--cap-drop") + 1] == "ALL"
    assert uid != json.loads(wrap(["true"], scratch=tmp_path)[-2])["uid"]  # one per sandbox
