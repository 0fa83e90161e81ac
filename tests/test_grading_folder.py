"""Grading a class: a folder of returned notebooks into a gradebook and feedback pages (issue 13).

The folder holds what a teacher may get back: solved and blank notebooks, a wrong answer,
notebooks that try to forge their grade (patching the grader, numpy or builtins, printing or
displaying results, returning objects equal to anything), answers that call the reference,
an endless loop, a notebook that kills its kernel, one that asks for more memory than there is,
files that are not notebooks, a notebook of another course, nested folders and Jupyter's
checkpoints. It is graded once, through the command line, two notebooks at a time; the tests
read ``grades.csv``, ``grades.json`` and the feedback pages.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grading import grade, make_student
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
    "memory_hog.ipynb": "memory_hog.ipynb",
}
NOT_GRADABLE = {
    "not_a_notebook.ipynb": "my answers are in the e-mail",
    "broken_json.ipynb": '{"cells": [',
    "other_course.ipynb": json.dumps({"cells": [{"cell_type": "markdown", "metadata": {},
                                                 "source": "# Linear regression"}],
                                      "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    folder = root / "returned"
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

    out = root / "grades"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MPLBACKEND")}
    proc = subprocess.run(
        [sys.executable, "-m", "grading", "grade", str(folder), "--out", str(out), "--jobs", "2",
         "--timeout", "10", "--seed", str(SEED)],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=1200)
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    reports = {n["notebook"]: n for n in json.loads((out / "grades.json").read_text())["notebooks"]}
    return {"proc": proc, "out": out, "folder": folder, "rows": {r["notebook"]: r for r in rows},
            "header": (out / "grades.csv").read_text().splitlines()[0].split(","),
            "reports": reports}


def exercises(graded_class, name):
    return {e["label"]: e for e in graded_class["reports"][name]["report"]["exercises"]}


def test_every_notebook_gets_a_row_and_the_exit_status_says_some_could_not_be_graded(graded_class):
    proc = graded_class["proc"]
    assert proc.returncode == 2, proc.stdout + proc.stderr
    expected = set(COPIED) | set(NOT_GRADABLE) | {"blank/kmeans.ipynb"}
    assert set(graded_class["rows"]) == expected, "one row per notebook, checkpoints skipped"
    assert f"Graded {len(COPIED) + 1} of {len(expected)} notebooks" in proc.stdout
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


def test_endless_loop_dead_kernel_and_memory_are_graded_as_far_as_they_go(graded_class):
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
    hog = exercises(graded_class, "memory_hog.ipynb")
    assert hog["kmeans-m-step"]["earned"] == 0 and "MemoryError" in hog["kmeans-m-step"]["message"]
    assert hog["kmeans-e-step"]["earned"] == 3


def test_blank_and_solved_notebooks(graded_class):
    blank = exercises(graded_class, "blank/kmeans.ipynb")
    assert all(e["earned"] == 0 for e in blank.values())
    assert {e["message"] for label, e in blank.items() if not CHECKS[label].written
            and not CHECKS[label].manual} == {"not implemented yet"}
    assert graded_class["reports"]["blank/kmeans.ipynb"]["report"]["notes"] == []
    solved = graded_class["reports"]["solved/kmeans.ipynb"]["report"]
    assert solved["passed"] and solved["seed"] == SEED


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


def test_a_seed_reproduces_a_verdict_exactly(tmp_path):
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
    assert [r.earned for r in good.results][:1] == [3]
    assert [r.earned for r in bad.results][:1] == [2]
    assert bad.results[0].message.startswith("on random data (60 points in 2-D, 3 centres)")
    assert again.to_dict() == bad.to_dict(), "the same seed gives the same verdict, word for word"
    assert f"Seed {failing} (--seed {failing} repeats this grading exactly)." in bad.lines()
    # Without a seed, each run draws a new one and records it.
    seeds = {grade(path, timeout=30).seed for _ in range(2)}
    assert len(seeds) == 2


def test_make_passes_seed_jobs_and_folder_to_the_grader():
    out = subprocess.run(["make", "-n", "--no-print-directory", "grade", "DIR=returned/", "SEED=42",
                          "JOBS=3", "TIMEOUT=9"], capture_output=True, text=True, cwd=REPO,
                         timeout=60)
    command = " ".join(out.stdout.replace("\\\n", " ").split())
    assert ' -m grading grade "returned/" --timeout 9 --seed 42 --jobs 3' in command, out.stdout
    nb = subprocess.run(["make", "-n", "--no-print-directory", "grade", "NB=a b.ipynb"],
                        capture_output=True, text=True, cwd=REPO, timeout=60)
    assert ' -m grading grade "a b.ipynb"' in nb.stdout
