"""Grading a class: a folder of returned notebooks into a gradebook and feedback pages (issue 13).

The folder holds what a teacher may get back: solved and blank notebooks, a wrong answer,
notebooks that try to forge their grade (patching the grader, numpy or builtins, printing or
displaying results, returning objects equal to anything), answers that call the reference,
an endless loop, a notebook that kills its kernel, one that tries to escape its sandbox and
exhaust its limits (below), files that are not notebooks, a notebook of another course, nested folders and Jupyter's
checkpoints. It is graded once, through the command line, two notebooks at a time; the tests
read ``grades.csv``, ``grades.json`` and the feedback pages.

The grader runs as a teacher's would (issue 20): with a home folder holding a private key and
notes, a secret in the environment, a listener on 127.0.0.1, and a ``PYTHONPATH`` and
``MPLBACKEND`` that would break the notebooks if they reached them. ``mallory.ipynb`` tries, in
its kernel and in the functions the grader calls in the exercise processes, to read the key and
a classmate's submission, write into the home, connect to the listener, start hundreds of
processes that sleep and allocate memory until it fails; the tests check that each attempt
failed or was stopped (the verdicts and notes say so), that the teacher's files are unchanged,
the listener saw no connection, no process is left, and every other notebook is graded normally.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from containment import Listener

import grading.grader
from grading import grade, make_student, parse
from grading.checks import CHECKS, rng_for

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "homework"
SEED = 20261201
KMEANS_LABELS = ["kmeans-e-step", "kmeans-m-step", "kmeans-objective", "kmeans-mean-minimises",
                 "kmeans-plus-plus", "kmeans-local-optima"]

COPIED = {
    "solved/kmeans.ipynb": "solution_kmeans.ipynb",
    "solved/kmedoids.ipynb": "solution_kmedoids.ipynb",
    "solved/gmm_em.ipynb": "solution_gmm_em.ipynb",
    "wrong/sum_m_step.ipynb": "kmeans_sum_m_step.ipynb",
    "forgery/patch_grader.ipynb": "forgery_patch_grader.ipynb",
    "forgery/monkeypatch.ipynb": "forgery_monkeypatch.ipynb",
    "forgery/fake_output.ipynb": "forgery_fake_output.ipynb",
    "forgery/equal_objects.ipynb": "forgery_equal_objects.ipynb",
    "reference_calls.ipynb": "reference_calls.ipynb",
    "endless_loop.ipynb": "kmeans_infinite_loop.ipynb",
    "dead_kernel.ipynb": "dead_kernel.ipynb",
}
NOT_GRADABLE = {
    "not_a_notebook.ipynb": "my answers are in the e-mail",
    "broken_json.ipynb": '{"cells": [',
    "other_course.ipynb": json.dumps({"cells": [{"cell_type": "markdown", "metadata": {},
                                                 "source": "# Linear regression"}],
                                      "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
}


# A sleep no other program runs, to find the processes mallory.ipynb starts.
SLEEP = "913.75"
BOOK = (REPO / "book").resolve()
# Where mallory.ipynb tries to plant a module (removed after the test if it got there).
PLANTED = BOOK / "algos" / "mallory_was_here.py"


class Teacher:
    """The teacher's side of the machine: a home with a key and notes, a secret in the
    environment, a listener on 127.0.0.1, and a ``PYTHONPATH`` holding an ``algos`` that fails."""

    def __init__(self, root):
        self.home = root / "home" / "teacher"
        self.key = self.home / ".ssh" / "id_rsa"
        self.notes = self.home / "grades-draft.txt"
        self.key.parent.mkdir(parents=True)
        self.key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nTEACHER-SECRET\n")
        self.notes.write_text("alice 18/20\n")
        self.evil = root / "callers-path"
        (self.evil / "algos").mkdir(parents=True)
        (self.evil / "algos" / "__init__.py").write_text(
            "raise ImportError('the algos of the caller PYTHONPATH was imported')\n")
        self.listener = Listener()

    def env(self):
        # (IPython, in the grader's own process, makes ~/.ipython unless told otherwise: that is
        # the teacher's tool writing, kept out of the home the test watches.)
        return dict(os.environ, HOME=str(self.home), TEACHER_API_TOKEN="TOKEN-SECRET",
                    PYTHONPATH=str(self.evil), MPLBACKEND="module://not_a_backend",
                    IPYTHONDIR=str(self.home.parent / "grader-ipython"))


def snapshot(*folders):
    """Every file below `folders`: path -> (content hash, mode, mtime), Python's bytecode
    caches excepted (the grader's own process may write those)."""
    out = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if "__pycache__" in path.parts:
                continue
            st = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            out[str(path)] = (digest, st.st_mode, st.st_mtime_ns)
    return out


def mallory(teacher, classmate):
    """The solved K-means fixture, with every escape tried in the kernel and in the answers.

    In the kernel, one cell tries to reach the teacher and fails with the attempts that got
    through (none may), one checks the kernel's environment, one starts 300 sleeping processes
    and one allocates up to 4 GiB (without touching it: quick on a busy machine, and harmless
    if no limit held; the memory of processes together is tested in test_sandbox.py). In the
    exercise processes the E-step tries the same escapes
    and starts sleepers, and returns the right labels only if every escape failed; the M-step
    allocates memory until it fails; the objective is right.
    """
    nb = json.loads((FIXTURES / "solution_kmeans.ipynb").read_text())
    attempts = (
        "    attempts = {\n"
        f"        'read the key': lambda: open({str(teacher.key)!r}).read(),\n"
        "        'read ~/.ssh': lambda: open(os.path.expanduser('~/.ssh/id_rsa')).read(),\n"
        f"        'list the home': lambda: os.listdir({str(teacher.home)!r}),\n"
        f"        'read a classmate': lambda: open({str(classmate)!r}).read(),\n"
        f"        'write into the home': lambda: open({str(teacher.home / 'pwned.txt')!r}, 'w').write('x'),\n"
        f"        'change the notes': lambda: open({str(teacher.notes)!r}, 'a').write('mallory 20/20'),\n"
        f"        'write into algos': lambda: open({str(PLANTED)!r}, 'w').write('x = 1'),\n"
        f"        'connect to 127.0.0.1': lambda: socket.create_connection(('127.0.0.1', {teacher.listener.port}), timeout=3).close(),\n"
        "        'see the token': lambda: os.environ['TEACHER_API_TOKEN'],\n"
        "    }\n"
        "    got = {}\n"
        "    for name, attempt in attempts.items():\n"
        "        try:\n"
        "            attempt()\n"
        "            got[name] = 'ok'\n"
        "        except BaseException as exc:\n"
        "            got[name] = type(exc).__name__\n"
        "    return [name for name, how in got.items() if how == 'ok']\n")
    escape = ("import os, socket, subprocess\n\n\ndef escapes():\n" + attempts + "\n\n"
              "assert escapes() == [], f'got through: {escapes()}'\n")
    environment = (
        "import sys, matplotlib\n"
        f"assert os.environ['PYTHONPATH'] == {str(BOOK)!r}, os.environ['PYTHONPATH']\n"
        "assert os.environ['MPLBACKEND'] == 'Agg' and matplotlib.get_backend().lower() == 'agg'\n"
        f"assert not any({str(teacher.evil)!r} in p for p in sys.path), sys.path\n"
        f"assert os.environ['HOME'] != {str(teacher.home)!r}\n")
    fork = (f"sleepers = []\nfor _ in range(300):\n"
            f"    sleepers.append(subprocess.Popen(['sleep', '{SLEEP}']))\n")
    memory = ("def eat():\n    chunks = []\n    for _ in range(64):  # 4 GiB at most\n"
              "        chunks.append(bytearray(2 ** 26))\n\n\neat()\n")
    e_step = ("def my_e_step(X, centers):\n"
              "    import os, socket, subprocess\n"
              "    if not getattr(my_e_step, 'sleepers', None):\n"
              "        my_e_step.sleepers = []\n"
              "        try:\n"
              "            for _ in range(300):\n"
              f"                my_e_step.sleepers.append(subprocess.Popen(['sleep', '{SLEEP}']))\n"
              "        except OSError:\n"
              "            pass\n"
              + attempts.replace("    return [name", "    through = [name") +
              "    labels = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)\n"
              "    return np.zeros(len(X), dtype=int) if through else labels\n")
    m_step = ("def my_m_step(X, labels, k):\n    chunks = []\n"
              "    for _ in range(64):  # 4 GiB at most\n"
              "        chunks.append(bytearray(2 ** 26))\n"
              "    return np.array([X[labels == j].mean(axis=0) for j in range(k)])\n")
    code = lambda src: {"cell_type": "code", "execution_count": None, "metadata": {},
                        "outputs": [], "source": src}
    nb["cells"][4]["source"] = e_step
    nb["cells"][9]["source"] = m_step
    nb["cells"][2:2] = [code(escape), code(environment), code(fork), code(memory)]
    return json.dumps(nb)


def sleepers():
    """Processes running the sleep mallory.ipynb starts."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if SLEEP in " ".join(proc.info["cmdline"] or []) and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    folder = root / "returned"
    teacher = Teacher(root)
    for name, fixture in COPIED.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / fixture, folder / name)
    for name, text in NOT_GRADABLE.items():
        (folder / name).write_text(text)
    # Jupyter's checkpoints and hidden folders are not homework.
    (folder / ".ipynb_checkpoints").mkdir()
    shutil.copy(FIXTURES / "solution_kmeans.ipynb", folder / ".ipynb_checkpoints" / "kmeans-checkpoint.ipynb")
    (folder / "notes.txt").write_text("not a notebook, and not named like one")
    # A blank hand-out, as generated.
    book = root / "book"
    book.mkdir()
    shutil.copy(FIXTURES / "solution_kmeans.ipynb", book / "kmeans.ipynb")
    make_student(book, root / "student")
    (folder / "blank").mkdir()
    shutil.copy(root / "student" / "kmeans.ipynb", folder / "blank" / "kmeans.ipynb")

    (folder / "mallory.ipynb").write_text(mallory(teacher, folder / "solved" / "kmeans.ipynb"))

    out = root / "grades"
    before = snapshot(teacher.home, folder, BOOK / "algos")
    assert not sleepers()
    proc = subprocess.Popen(
        [sys.executable, "-m", "grading", "grade", str(folder), "--out", str(out), "--jobs", "2",
         "--timeout", "10", "--seed", str(SEED)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=teacher.env())
    most_sleepers = 0
    while proc.poll() is None:  # watch the sleepers mallory.ipynb starts
        most_sleepers = max(most_sleepers, len(sleepers()))
        time.sleep(0.5)
    stdout, stderr = proc.communicate(timeout=1200)
    left = sleepers()
    for p in left:
        p.kill()
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    reports = {n["notebook"]: n for n in json.loads((out / "grades.json").read_text())["notebooks"]}
    yield {"proc": subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr),
           "out": out, "folder": folder, "rows": {r["notebook"]: r for r in rows},
           "header": (out / "grades.csv").read_text().splitlines()[0].split(","),
           "reports": reports, "connections": teacher.listener.connections(), "left": left,
           "most_sleepers": most_sleepers,
           "changed": sorted(set(snapshot(teacher.home, folder, BOOK / "algos").items())
                             ^ set(before.items()))}
    teacher.listener.close()
    PLANTED.unlink(missing_ok=True)


def exercises(graded_class, name):
    return {e["label"]: e for e in graded_class["reports"][name]["report"]["exercises"]}


def test_every_notebook_gets_a_row_and_the_exit_status_says_some_could_not_be_graded(graded_class):
    proc = graded_class["proc"]
    assert proc.returncode == 2, proc.stdout + proc.stderr
    expected = set(COPIED) | set(NOT_GRADABLE) | {"blank/kmeans.ipynb", "mallory.ipynb"}
    assert set(graded_class["rows"]) == expected, "one row per notebook, checkpoints skipped"
    assert f"Graded {len(COPIED) + 2} of {len(expected)} notebooks" in proc.stdout, \
        proc.stdout + proc.stderr
    assert f"seed {SEED}" in proc.stdout
    assert "Grading: 100%" in proc.stderr, "a progress bar"
    for name in NOT_GRADABLE:
        assert f"could not grade {name}: " in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_gradebook_columns_are_the_ones_the_issue_lists(graded_class):
    header = graded_class["header"]
    labels = [label for chapter in ("kmeans.ipynb", "kmedoids.ipynb", "gmm_em.ipynb")
              for label, c in CHECKS.items() if c.chapter == chapter]
    assert header == ["notebook", "chapter", "status", *labels, "total", "max", "manual_max"]
    rows = graded_class["rows"]
    assert rows["solved/kmeans.ipynb"] == {
        **{k: "" for k in header}, "notebook": "solved/kmeans.ipynb", "chapter": "kmeans",
        "status": "graded", "kmeans-e-step": "3", "kmeans-m-step": "3", "kmeans-objective": "2",
        "kmeans-mean-minimises": "", "kmeans-plus-plus": "3", "kmeans-local-optima": "1",
        "total": "12", "max": "12", "manual_max": "4"}
    assert rows["blank/kmeans.ipynb"]["kmeans-mean-minimises"] == "0", "an unanswered written answer"
    assert rows["blank/kmeans.ipynb"]["kmeans-local-optima"] == "0"
    for name in ("solved/kmedoids.ipynb", "solved/gmm_em.ipynb"):
        assert rows[name]["total"] == rows[name]["max"] and rows[name]["status"] == "graded"
    for name in NOT_GRADABLE:
        row = rows[name]
        assert row["status"].startswith(f"error: {name} ")
        assert all(row[k] == "" for k in header if k not in ("notebook", "status"))
    assert rows["other_course.ipynb"]["status"].endswith("as in the chapters")
    assert "is not a Jupyter notebook" in rows["not_a_notebook.ipynb"]["status"]


@pytest.mark.parametrize("name", ["forgery/patch_grader.ipynb", "forgery/monkeypatch.ipynb",
                                  "forgery/fake_output.ipynb", "forgery/equal_objects.ipynb"])
def test_forgery_earns_nothing(graded_class, name):
    row = graded_class["rows"][name]
    assert row["status"] == "graded"
    assert [row[label] for label in KMEANS_LABELS[:3]] == ["0", "0", "0"], row
    assert row["total"] == "0"
    for label, ex in exercises(graded_class, name).items():
        if label != "kmeans-local-optima":
            assert ex["verdict"] == "FAIL" and all(p["earned"] == 0 for p in ex["parts"]), ex


def test_forged_objects_are_named_for_what_they_are(graded_class):
    ex = exercises(graded_class, "forgery/equal_objects.ipynb")
    assert "it returned a __main__.AlwaysEqual object" in ex["kmeans-e-step"]["message"]
    assert "yours is [0, 0]" in ex["kmeans-m-step"]["message"], "the subclass's real numbers"
    assert "it returned a __main__.Yes object" in ex["kmeans-objective"]["message"]


def test_calling_the_reference_earns_nothing_and_says_why(graded_class):
    ex = exercises(graded_class, "reference_calls.ipynb")
    for label, name in [("kmeans-e-step", "algos.kmeans.fit"), ("kmeans-m-step", "algos.kmeans.m_step"),
                        ("kmeans-objective", "algos.kmeans.objective")]:
        assert ex[label]["status"] == "reference" and ex[label]["earned"] == 0
        assert ex[label]["message"].startswith(f"your answer calls {name}, which this exercise asks "
                                               f"you to write yourself: no points")
    assert graded_class["rows"]["reference_calls.ipynb"]["total"] == "0"


def test_a_wrong_answer_fails_with_its_hint_and_the_rest_passes(graded_class):
    row = graded_class["rows"]["wrong/sum_m_step.ipynb"]
    assert (row["kmeans-e-step"], row["kmeans-m-step"], row["kmeans-objective"]) == ("3", "0", "2")
    assert "you returned the sum of each cluster's points" in \
        exercises(graded_class, "wrong/sum_m_step.ipynb")["kmeans-m-step"]["message"]


def test_endless_loop_and_dead_kernel_are_graded_as_far_as_they_go(graded_class):
    rows = graded_class["rows"]
    loop = rows["endless_loop.ipynb"]
    assert (loop["status"], loop["kmeans-e-step"], loop["kmeans-m-step"], loop["kmeans-objective"]) \
        == ("graded", "0", "3", "1")
    # The kernel died after the M-step's cells; the exercises are checked in their own
    # processes, so the answers still count. The objective exits Python on the hidden data.
    dead = exercises(graded_class, "dead_kernel.ipynb")
    assert rows["dead_kernel.ipynb"]["status"] == "graded"
    assert [dead[label]["earned"] for label in KMEANS_LABELS[:3]] == [3, 3, 1]
    assert "the process exited with code 3" in dead["kmeans-objective"]["message"]
    notes = graded_class["reports"]["dead_kernel.ipynb"]["report"]["notes"]
    assert any(n.startswith("the kernel died") for n in notes), notes


# --- containment (issue 20) -----------------------------------------------------------------

def test_the_grader_says_once_what_contains_the_notebooks(graded_class):
    out = graded_class["proc"].stdout
    assert out.count("sandbox: bubblewrap") == 1, out
    assert "limits: 2 GiB of memory per process, 64 processes, 256 MiB per file" in out
    assert "WITHOUT a sandbox" not in out + graded_class["proc"].stderr


def test_no_escape_reaches_the_teacher(graded_class):
    """Read the key, a classmate's notebook, the home; write into it; change algos; connect to
    127.0.0.1; see the environment: in the kernel (the cell asserts every attempt failed) and
    in the exercise process (the E-step is right only if every attempt failed)."""
    report = graded_class["reports"]["mallory.ipynb"]["report"]
    cells = {c["cell"]: c for c in report["cells"]}
    assert cells[2]["status"] == "ok", cells[2]  # escapes() == [] in the kernel
    assert cells[3]["status"] == "ok", cells[3]  # PYTHONPATH, MPLBACKEND, HOME are the grader's
    assert graded_class["rows"]["mallory.ipynb"]["kmeans-e-step"] == "3"
    assert graded_class["connections"] == 0, "the listener on 127.0.0.1 saw a connection"
    assert graded_class["changed"] == [], "the teacher's files changed"


def test_processes_and_memory_are_capped_and_named(graded_class):
    report = graded_class["reports"]["mallory.ipynb"]["report"]
    cells = {c["cell"]: c for c in report["cells"]}
    assert cells[4]["ename"] == "BlockingIOError" and cells[5]["ename"] == "MemoryError"
    assert report["limits"] == ["memory", "processes"]
    memory = ("was stopped at the memory limit: it ran out of memory (the limit is 2 GiB per "
              "process): a very large array, or a list or loop that grows without end?")
    assert report["notes"] == [
        "cell 5 (code: 'sleepers = []') was stopped at the processes limit: it tried to start "
        "too many processes or threads (the limit is 64 at once, the notebook's own threads "
        "included)",
        f"cell 6 (code: 'def eat():') {memory}",
        # the M-step's own check cell, which calls my_m_step in the kernel
        f"cell 16 (code: 'points = np.array([[1., 2.], [2., 3.], [3., 4.]...') {memory}",
    ], report["notes"]
    m_step = exercises(graded_class, "mallory.ipynb")["kmeans-m-step"]
    assert m_step["earned"] == 0
    assert m_step["message"].startswith("your my_m_step was stopped at the memory limit (")
    assert "the limit is 2 GiB per process" in m_step["message"]
    row = graded_class["rows"]["mallory.ipynb"]
    # every automatic point of the chapter but the M-step's 3
    kmeans_max = sum(c.points for c in CHECKS.values() if c.chapter == "kmeans.ipynb")
    assert (row["status"], row["kmeans-objective"], row["total"]) == \
        ("graded", "2", f"{kmeans_max - 3:g}")
    assert "mallory.ipynb ran into the memory and processes limits" in graded_class["proc"].stdout
    page = (graded_class["out"] / "feedback" / "mallory.html").read_text()
    assert "was stopped at the processes limit" in page and "stopped at the memory limit" in page


def test_no_process_is_left(graded_class):
    # The kernel's and the exercise process's sleepers were running (capped near 64 each) ...
    assert 30 <= graded_class["most_sleepers"] <= 2 * 64, graded_class["most_sleepers"]
    # ... and none outlived the grading.
    assert graded_class["left"] == []
    mine = [p for p in psutil.Process().children(recursive=True) if p.is_running()
            and p.status() != psutil.STATUS_ZOMBIE and "bwrap" in " ".join(p.cmdline())]
    assert mine == []


def test_blank_and_solved_notebooks(graded_class):
    blank = exercises(graded_class, "blank/kmeans.ipynb")
    assert all(e["earned"] == 0 for e in blank.values())
    assert {e["message"] for label, e in blank.items() if not CHECKS[label].written
            and not CHECKS[label].manual} == {"not implemented yet"}
    assert graded_class["reports"]["blank/kmeans.ipynb"]["report"]["notes"] == []
    # Answers written independently of algos, checked against the seeds' constants and, on the
    # hidden data, against algos: every exercise of each chapter, every point, no note.
    for chapter in ("kmeans", "kmedoids", "gmm_em"):
        solved = graded_class["reports"][f"solved/{chapter}.ipynb"]["report"]
        checks = [c for c in CHECKS.values() if c.chapter == f"{chapter}.ipynb"]
        in_notebook = parse(json.loads((FIXTURES / f"solution_{chapter}.ipynb").read_text()))
        assert [e["label"] for e in solved["exercises"]] == [e.label for e in in_notebook]
        assert {e.label for e in in_notebook} == {c.label for c in checks}
        assert solved["passed"] and solved["seed"] == SEED, solved["exercises"]
        assert solved["notes"] == [] and solved["limits"] == []
        assert solved["total"] == solved["max"] == sum(c.points for c in checks)
        assert solved["manual_max"] == sum(c.manual for c in checks)


def test_feedback_pages_one_per_notebook_readable_offline(graded_class):
    pages = graded_class["out"] / "feedback"
    expected = {n.removesuffix(".ipynb") + ".html" for n in graded_class["rows"]}
    assert {p.relative_to(pages).as_posix() for p in pages.rglob("*.html")} == expected
    text = (pages / "wrong" / "sum_m_step.html").read_text()
    assert text.startswith("<!DOCTYPE html>") and '<html lang="en">' in text
    assert not re.search(r"<script|<link|src=|https?://", text), "nothing to load, nothing to run"
    for label in KMEANS_LABELS:
        assert f'id="{label}"' in text
    assert "you returned the sum of each cluster&#x27;s points" in text
    assert f"Hidden random data from seed {SEED}." in text
    assert "0/3 points" in text and "3/3 points" in text
    assert html.escape("Each run only goes downhill") in text, "the written answer, for the teacher"
    error = (pages / "not_a_notebook.html").read_text()
    assert "could not be graded" in error and "is not a Jupyter notebook" in error


def test_student_text_cannot_inject_markup_into_feedback(tmp_path):
    nb = json.loads((FIXTURES / "solution_kmeans.ipynb").read_text())
    answer = next(c for c in nb["cells"] if "solution" in c["metadata"].get("tags", []))
    answer["source"] = '<script>alert("x")</script> <img src=x onerror=alert(1)> five more words here'
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "nb.ipynb").write_text(json.dumps(nb))
    from grading.batch import grade_folder

    batch = grade_folder(tmp_path / "in", tmp_path / "out", jobs=1, progress=False, seed=1)
    page = (batch.feedback_dir / "nb.html").read_text()
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def _seed_sensitive_notebook(path):
    """A K-means notebook whose E-step is wrong only when the first hidden data set starts
    with a positive coordinate: its verdict depends on the seed."""
    nb = json.loads((FIXTURES / "solution_kmeans.ipynb").read_text())
    cell = next(c for c in nb["cells"] if "def my_e_step" in "".join(c["source"]))
    cell["source"] = ("def my_e_step(X, centers):\n"
                      "    sq = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)\n"
                      "    labels = np.argmin(sq, axis=1)\n"
                      "    if len(X) == 60 and X[0, 0] > 0:\n"
                      "        labels = labels[::-1].copy()\n"
                      "    return labels\n")
    path.write_text(json.dumps(nb))


def test_a_seed_reproduces_a_verdict_exactly(tmp_path, monkeypatch):
    path = tmp_path / "sensitive.ipynb"
    _seed_sensitive_notebook(path)

    def first_x(seed):
        parts = CHECKS["kmeans-e-step"].build(rng_for(seed, "kmeans-e-step"))
        return parts[-1].cases[0].args["X"][0, 0]

    passing = next(s for s in range(100) if first_x(s) <= 0)
    failing = next(s for s in range(100) if first_x(s) > 0)
    good = grade(path, seed=passing, timeout=30)
    bad = grade(path, seed=failing, timeout=30)
    again = grade(path, seed=failing, timeout=30)
    # Without a seed, each run draws a new one and records it.
    monkeypatch.setattr(grading.grader, "new_seed", lambda: passing)
    drawn = grade(path, timeout=30)
    assert [r.earned for r in good.results][:1] == [3]
    assert [r.earned for r in bad.results][:1] == [2]
    assert bad.results[0].message.startswith("on random data (60 points in 2-D, 3 centres)")
    assert again.to_dict() == bad.to_dict(), "the same seed gives the same verdict, word for word"
    assert f"Seed {failing} (--seed {failing} repeats this grading exactly)." in bad.lines()
    assert drawn.to_dict() == good.to_dict()
    monkeypatch.undo()
    assert len({grading.grader.new_seed() for _ in range(8)}) == 8


def test_make_passes_seed_jobs_and_folder_to_the_grader():
    out = subprocess.run(["make", "-n", "--no-print-directory", "grade", "DIR=returned/", "SEED=42",
                          "JOBS=3", "TIMEOUT=9", "MEMORY=1.5G", "STRICT=1"], capture_output=True,
                         text=True, cwd=REPO, timeout=60)
    command = " ".join(out.stdout.replace("\\\n", " ").split())
    assert (' -m grading grade "returned/" --timeout 9 --seed 42 --jobs 3 --memory 1.5G --strict'
            in command), out.stdout
    nb = subprocess.run(["make", "-n", "--no-print-directory", "grade", "NB=a b.ipynb"],
                        capture_output=True, text=True, cwd=REPO, timeout=60)
    assert ' -m grading grade "a b.ipynb"' in nb.stdout
