"""Tests of the homework tooling: markers, ``make student`` and ``make grade`` (issue 7).

The fixtures in ``tests/fixtures/homework/`` are small notebooks in the chapters' exact
convention: one solved notebook per chapter (``solution_<chapter>.ipynb``), one with seed 001's
summing M-step and one with endless loops. The same checks run on the real chapters
(``book/*.ipynb`` with exercises) as soon as they exist; on CI (``CI=true``) all three must.

Grading starts a kernel (about two seconds), so each graded notebook is graded once per session
and the tests read the shared report.
"""

from __future__ import annotations

import ast
from concurrent.futures import ThreadPoolExecutor
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from algos import gmm1d, kmeans, kmedoids

from grading import CHECKS, MarkerError, grade, make_student, parse, student_notebook
from grading.__main__ import main
from grading._checks import run_check
from grading._grade import GradingError, _written_result
from grading._markers import BEGIN, END, has_markers, solution_blocks, source_of
from grading._student import ANSWER_PLACEHOLDER, RECORD, STUB, ZIP_NAME, ZIP_ROOT, stub_code

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "homework"
ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# The exercise list is fixed by the team brief: the grader and the chapters depend on it.
BRIEF_EXERCISES = {
    "kmeans.ipynb": {"kmeans-e-step", "kmeans-m-step", "kmeans-objective", "kmeans-local-optima"},
    "kmedoids.ipynb": {"kmedoids-update", "kmedoids-tie", "kmedoids-rules-differ"},
    "gmm_em.ipynb": {"gmm-log-likelihood", "gmm-e-step", "gmm-m-step", "gmm-responsibilities"},
}
SOLUTION_FIXTURES = {chapter: FIXTURES / f"solution_{chapter}" for chapter in BRIEF_EXERCISES}
SUM_M_STEP = FIXTURES / "kmeans_sum_m_step.ipynb"
ENDLESS = FIXTURES / "kmeans_infinite_loop.ipynb"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def chapters_present():
    return sorted(p for p in BOOK.glob("*.ipynb") if has_markers(load(p)))


CHAPTERS = chapters_present()
# Every notebook in the chapter convention: the real chapters and the solved fixtures.
SOLVED = {f"book/{p.name}": p for p in CHAPTERS}
SOLVED.update({f"fixture {p.name}": p for p in SOLUTION_FIXTURES.values()})


def chapter_name(path):
    """The chapter a solved notebook stands for (``solution_kmeans.ipynb`` -> ``kmeans.ipynb``)."""
    return path.name.removeprefix("solution_")


def labels_in(path):
    return [ex.label for ex in parse(load(path), str(path), strict=True)]


# --- the registry and the chapters agree ------------------------------------------------------

def test_registry_is_the_brief_exercise_list():
    assert set(CHECKS) == set().union(*BRIEF_EXERCISES.values())
    for chapter, labels in BRIEF_EXERCISES.items():
        for label in labels:
            assert CHECKS[label].chapter == chapter
            assert CHECKS[label].written or CHECKS[label].run is not None


@pytest.mark.parametrize("path", list(SOLVED.values()), ids=list(SOLVED))
def test_every_exercise_has_a_check(path):
    labels = labels_in(path)
    assert labels, f"{path} has no exercise"
    no_check = [label for label in labels if label not in CHECKS]
    assert not no_check, f"{path}: exercises without a grader check: {no_check}"
    elsewhere = [label for label in labels if CHECKS[label].chapter != chapter_name(path)]
    assert not elsewhere, f"{path}: exercises the grader expects in another chapter: {elsewhere}"


def test_every_check_has_an_exercise():
    expected = set(BRIEF_EXERCISES)
    present = {p.name for p in CHAPTERS}
    if ON_CI:
        assert present >= expected, f"chapters with exercises missing on CI: {expected - present}"
    # While the chapters are being written, the solved fixtures stand in for the missing ones.
    sources = CHAPTERS if present >= expected else list(SOLVED.values())
    found = {label for p in sources for label in labels_in(p)}
    assert set(CHECKS) - found == set(), f"checks without an exercise: {set(CHECKS) - found}"


def test_solution_fixtures_cover_every_check():
    # The fixtures exercise every check's passing path, whatever the chapters' state.
    found = {label for p in SOLUTION_FIXTURES.values() for label in labels_in(p)}
    assert found == set(CHECKS)


# --- markers ----------------------------------------------------------------------------------

def md(text, tags=None):
    cell = {"cell_type": "markdown", "metadata": {}, "source": text}
    if tags:
        cell["metadata"]["tags"] = tags
    return cell


def code(text):
    return {"cell_type": "code", "execution_count": 3, "metadata": {},
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "out\n"}], "source": text}


def exercise(label="ch-ex"):
    return md(f"```{{exercise}} Title\n:label: {label}\n\nDo it.\n```")


def start(label="ch-ex"):
    return md(f"```{{solution-start}} {label}\n:class: dropdown\n```")


END_CELL = md("```{solution-end}\n```")
GOOD_CODE = code(f"def f(x):\n    {BEGIN}\n    return x + 1\n    {END}\n")


def nb_of(*cells):
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


@pytest.mark.parametrize("path", list(SOLVED.values()), ids=list(SOLVED))
def test_markers_are_well_formed(path):
    nb = load(path)
    exercises = parse(nb, str(path), strict=True)
    for ex in exercises:
        assert ex.gate and ex.solution_cells, ex.label
        kinds = {nb["cells"][i]["cell_type"] for i in ex.solution_cells}
        assert kinds <= {"code", "markdown"}


def test_a_good_exercise_parses():
    nb = nb_of(exercise(), start(), GOOD_CODE, END_CELL, code("assert f(1) == 2"), md("next"))
    (ex,) = parse(nb, strict=True)
    assert (ex.label, ex.cell, ex.gate, ex.solution_cells, ex.check_cells) == ("ch-ex", 0, (1, 3), [2], [4])


BAD_MARKERS = {
    "END without BEGIN": (
        nb_of(exercise(), start(), code(f"x = 1\n{END}\n"), END_CELL), "without a ### BEGIN SOLUTION"),
    "BEGIN never closed": (
        nb_of(exercise(), start(), code(f"{BEGIN}\nx = 1\n"), END_CELL), "never closed"),
    "nested BEGIN": (
        nb_of(exercise(), start(), code(f"{BEGIN}\n{BEGIN}\nx = 1\n{END}\n{END}\n"), END_CELL), "nested"),
    "misspelled marker": (
        nb_of(exercise(), start(), code("## BEGIN SOLUTION\nx = 1\n### END SOLUTION\n"), END_CELL),
        "looks like a solution marker"),
    "solution code outside the gate": (
        nb_of(exercise(), start(), GOOD_CODE, END_CELL, code(f"{BEGIN}\ny = 2\n{END}\n")),
        "outside a {solution-start}/{solution-end} pair"),
    "code without markers in the gate": (
        nb_of(exercise(), start(), GOOD_CODE, code("y = 2\n"), END_CELL), "would be handed to students"),
    "untagged markdown in the gate": (
        nb_of(exercise(), start(), md("The answer is 42."), END_CELL), "not tagged 'solution'"),
    "tagged markdown outside the gate": (
        nb_of(exercise(), start(), GOOD_CODE, END_CELL, md("secret", tags=["solution"])),
        "outside a {solution-start}/{solution-end} pair"),
    "exercise without a solution": (
        nb_of(exercise(), code("x = 1")), "has no solution"),
    "solution for an unknown exercise": (
        nb_of(exercise(), start(), GOOD_CODE, END_CELL, start("ch-other"), GOOD_CODE, END_CELL),
        "does not name an exercise defined above it"),
    "solution-start never closed": (
        nb_of(exercise(), start(), GOOD_CODE), "never closed by {solution-end}"),
    "nested solution-start": (
        nb_of(exercise(), exercise("ch-two"), start(), start("ch-two"), GOOD_CODE, END_CELL, END_CELL),
        "inside the solution of"),
    "solution-end without start": (
        nb_of(exercise(), start(), GOOD_CODE, END_CELL, END_CELL), "without a {solution-start}"),
    "empty solution": (
        nb_of(exercise(), start(), END_CELL), "is empty"),
    "duplicate label": (
        nb_of(exercise(), start(), GOOD_CODE, END_CELL, exercise(), code("x = 1")), "used twice"),
    "exercise without a label": (
        nb_of(md("```{exercise} Title\n\nDo it.\n```")), "without a :label:"),
    "{solution} block in an untagged cell": (
        nb_of(exercise(), start(), GOOD_CODE, END_CELL, md("```{solution} ch-ex\nsecret\n```")),
        "would be handed to students"),
    "text in the solution-start cell": (
        nb_of(exercise(), md("```{solution-start} ch-ex\n```\nThe trick is to sort."), GOOD_CODE, END_CELL),
        "holds other text"),
    "start and end in one cell": (
        nb_of(exercise(), md("```{solution-start} ch-ex\n```\n\n```{solution-end}\n```")),
        "in one cell"),
}


@pytest.mark.parametrize("nb, phrase", list(BAD_MARKERS.values()), ids=list(BAD_MARKERS))
def test_bad_markers_are_refused_with_notebook_and_cell(nb, phrase):
    with pytest.raises(MarkerError) as info:
        student_notebook(nb, "book/ch.ipynb")
    message = str(info.value)
    assert phrase in message
    assert re.search(r"book/ch\.ipynb, cell \d+ \(", message), message


def test_the_grader_reads_markers_leniently():
    # A student may break the markers; the grader still finds the exercise.
    nb = nb_of(exercise(), start(), code("def f(x):\n    return x"), END_CELL)
    assert [e.label for e in parse(nb)] == ["ch-ex"]
    with pytest.raises(MarkerError):
        parse(nb, strict=True)


# --- student notebooks ------------------------------------------------------------------------

def test_stub_keeps_indentation_and_the_rest_of_the_cell():
    src = (f"import numpy as np\n\ndef f(x):\n    y = x\n    {BEGIN}\n    return y + 1\n    {END}\n\n"
           f"{BEGIN}\nz = 3\n{END}")
    out = stub_code(src)
    assert out == ("import numpy as np\n\ndef f(x):\n    y = x\n    # YOUR CODE HERE\n"
                   "    raise NotImplementedError\n\n# YOUR CODE HERE\nraise NotImplementedError")
    ast.parse(out)
    ns = {}
    exec(stub_code(f"def g(x):\n    {BEGIN}\n    return x\n    {END}\n"), ns)
    with pytest.raises(NotImplementedError):
        ns["g"](1)


def solution_lines(nb):
    """Non-blank lines that only the solutions contain (a line also present elsewhere in the
    chapter, e.g. ``return labels`` in a later demo, is not a leak)."""
    inside, outside = set(), set()
    for cell in nb["cells"]:
        lines = source_of(cell).splitlines()
        if cell["cell_type"] == "markdown" and "solution" in cell["metadata"].get("tags", []):
            inside.update(ln.strip() for ln in lines)
            continue
        blocks = solution_blocks(source_of(cell))[0] if cell["cell_type"] == "code" else []
        in_block = {i for b, e in blocks for i in range(b, e + 1)}
        for i, ln in enumerate(lines):
            (inside if i in in_block else outside).add(ln.strip())
    return {ln for ln in inside - outside if ln and ln not in (BEGIN, END)}


def changed_cells(nb):
    return {i for i, c in enumerate(nb["cells"])
            if (c["cell_type"] == "code" and solution_blocks(source_of(c))[0])
            or (c["cell_type"] == "markdown" and "solution" in c["metadata"].get("tags", []))}


@pytest.mark.parametrize("path", list(SOLVED.values()), ids=list(SOLVED))
def test_student_notebook_has_no_solution_and_keeps_everything_else(path):
    chapter = load(path)
    student = student_notebook(chapter, str(path))
    assert chapter == load(path), "the chapter itself must not change"
    text = json.dumps(student)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    student_lines = {ln.strip() for c in student["cells"] for ln in source_of(c).splitlines()}
    leaked = solution_lines(chapter) & student_lines
    assert not leaked, f"solution lines in the student notebook: {leaked}"

    changed = changed_cells(chapter)
    assert changed, "no solution was replaced"
    assert {k: v for k, v in student.items() if k != "cells"} == \
        {k: v for k, v in chapter.items() if k != "cells"}
    assert len(student["cells"]) == len(chapter["cells"])
    for i, (before, after) in enumerate(zip(chapter["cells"], student["cells"])):
        if i not in changed:
            assert after == before, f"cell {i + 1} changed"
            continue
        assert after["metadata"] == before["metadata"], "tags and metadata stay"
        if after["cell_type"] == "code":
            src = source_of(after)
            assert STUB[0] in src and STUB[1] in src
            ast.parse(src)  # the def still parses
            assert after["outputs"] == [] and after["execution_count"] is None
        else:
            assert source_of(after) == ANSWER_PLACEHOLDER
            assert "solution" in after["metadata"]["tags"]


@pytest.fixture(scope="module")
def fixture_book(tmp_path_factory):
    """A book folder holding the three solved fixtures under their chapter names."""
    book = tmp_path_factory.mktemp("book")
    for chapter, path in SOLUTION_FIXTURES.items():
        (book / chapter).write_bytes(path.read_bytes())
    (book / "intro.ipynb").write_text(json.dumps(nb_of(md("# No exercises here"))))
    return book


def run_student(book, out, *args):
    return main(["student", "--book", str(book), "--out", str(out), *args])


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_make_student_writes_each_chapter_and_is_idempotent(fixture_book, tmp_path, capsys):
    out = tmp_path / "student"
    assert run_student(fixture_book, out) == 0
    first = snapshot(out)
    assert set(first) == {*BRIEF_EXERCISES, ZIP_NAME, RECORD}, "intro.ipynb has no exercises"
    for chapter in BRIEF_EXERCISES:
        assert load(out / chapter) == student_notebook(load(fixture_book / chapter))
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    time.sleep(0.01)
    capsys.readouterr()
    assert run_student(fixture_book, out) == 0
    assert snapshot(out) == first, "a second run must change nothing"
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == mtimes, "nothing rewritten"
    assert capsys.readouterr().out.count("up to date") == len(BRIEF_EXERCISES) + 1
    # A fresh folder gets byte-identical files (the zip has fixed timestamps).
    again = tmp_path / "again"
    run_student(fixture_book, again)
    assert snapshot(again) == first


def test_zip_holds_the_student_notebooks_and_algos(fixture_book, tmp_path):
    out = tmp_path / "student"
    run_student(fixture_book, out)
    with zipfile.ZipFile(out / ZIP_NAME) as zf:
        infos = zf.infolist()
        names = {i.filename for i in infos}
        for chapter in BRIEF_EXERCISES:
            assert zf.read(f"{ZIP_ROOT}/{chapter}") == (out / chapter).read_bytes()
        assert f"{ZIP_ROOT}/algos/__init__.py" in names, "an unzipped hand-out must import algos"
        assert f"{ZIP_ROOT}/algos/kmeans.py" in names
        assert all(n.startswith(f"{ZIP_ROOT}/") for n in names)
        assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
        assert {n for n in names if n.endswith(".ipynb")} == {f"{ZIP_ROOT}/{c}" for c in BRIEF_EXERCISES}
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        for name in names:
            assert "BEGIN SOLUTION" not in zf.read(name).decode("utf-8", "replace") or \
                name.endswith(".py"), name


def test_unzipped_hand_out_runs_on_its_own(fixture_book, tmp_path):
    # The zip is all a student gets: its notebooks must import the algos next to them, and the
    # grader must run from there too.
    out = tmp_path / "student"
    run_student(fixture_book, out)
    with zipfile.ZipFile(out / ZIP_NAME) as zf:
        zf.extractall(tmp_path / "unzipped")
    folder = tmp_path / "unzipped" / ZIP_ROOT
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-m", "grading", "grade", "kmedoids.ipynb"],
                          capture_output=True, text=True, cwd=folder, env=env, timeout=300)
    assert proc.returncode == 1, proc.stderr
    verdicts = [ln for ln in proc.stdout.splitlines() if ln.startswith(("PASS", "FAIL"))]
    assert len(verdicts) == len(BRIEF_EXERCISES["kmedoids.ipynb"])
    assert all(ln.endswith(": not implemented yet") for ln in verdicts), proc.stdout


def test_edited_student_notebook_is_kept_unless_forced(fixture_book, tmp_path, capsys):
    out = tmp_path / "student"
    run_student(fixture_book, out)
    target = out / "kmeans.ipynb"
    edited = target.read_text().replace(STUB[1], "return np.zeros(len(X), dtype=int)", 1)
    target.write_text(edited)
    capsys.readouterr()

    assert run_student(fixture_book, out) == 0
    assert target.read_text() == edited, "a person's edits must survive"
    err = capsys.readouterr().err
    assert "KEPT" in err and "kmeans.ipynb" in err and "FORCE=1" in err

    # Still kept after the chapter changes (the file still differs from what was generated).
    chapter = load(fixture_book / "kmeans.ipynb")
    chapter["cells"][0]["source"] = ["# K-means, revised\n"]
    (fixture_book / "kmeans.ipynb").write_text(json.dumps(chapter, indent=1))
    try:
        run_student(fixture_book, out)
        assert target.read_text() == edited
        # An unedited notebook follows the chapter.
        assert load(out / "kmeans.ipynb") != student_notebook(chapter)
        assert run_student(fixture_book, out, "--force") == 0
        assert load(target) == student_notebook(chapter)
        assert "overwrote" in capsys.readouterr().out
        # Once forced, it is generated content again: the next run is a no-op.
        before = snapshot(out)
        run_student(fixture_book, out)
        assert snapshot(out) == before
    finally:
        (fixture_book / "kmeans.ipynb").write_bytes(SOLUTION_FIXTURES["kmeans.ipynb"].read_bytes())


def test_unedited_student_notebook_follows_the_chapter(fixture_book, tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "gmm_em.ipynb").write_bytes((fixture_book / "gmm_em.ipynb").read_bytes())
    out = tmp_path / "student"
    run_student(book, out)
    chapter = load(book / "gmm_em.ipynb")
    chapter["cells"][0]["source"] = ["# EM, revised\n"]
    (book / "gmm_em.ipynb").write_text(json.dumps(chapter, indent=1))
    run_student(book, out)
    assert load(out / "gmm_em.ipynb") == student_notebook(chapter)


def test_bad_markers_write_nothing(tmp_path, capsys):
    book = tmp_path / "book"
    book.mkdir()
    bad = BAD_MARKERS["code without markers in the gate"][0]
    (book / "ch.ipynb").write_text(json.dumps(bad))
    assert run_student(book, tmp_path / "student") == 2
    assert not (tmp_path / "student").exists()
    err = capsys.readouterr().err
    assert "ch.ipynb, cell 4" in err and "would be handed to students" in err


# --- grading: no kernel needed --------------------------------------------------------------

def test_grade_refuses_what_is_not_a_notebook(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "missing.ipynb")]) == 2
    assert "missing.ipynb: no such file" in capsys.readouterr().err
    text = tmp_path / "essay.ipynb"
    text.write_text("my homework, as plain text")
    assert main(["grade", str(text)]) == 2
    assert "is not a Jupyter notebook" in capsys.readouterr().err
    assert main(["grade", str(tmp_path)]) == 2
    assert "is not a file" in capsys.readouterr().err
    empty = tmp_path / "empty.ipynb"
    empty.write_text(json.dumps(nb_of(md("# nothing to do"))))
    assert main(["grade", str(empty)]) == 2
    assert "has no exercises" in capsys.readouterr().err
    with pytest.raises(GradingError):
        grade(empty)
    with pytest.raises(SystemExit):
        main(["grade", str(empty), "--timeout", "0"])
    assert "positive number of seconds" in capsys.readouterr().err


@pytest.mark.parametrize("answer, passed, phrase", [
    (ANSWER_PLACEHOLDER, False, "not answered yet: replace"),
    ("", False, "not answered yet"),
    ("No idea.", False, "only 2 words"),
    ("Your answer here: local minima.", False, "only 2 words"),
    ("Each run stops in the local minimum nearest its start, so keep the best of several runs.",
     True, "your teacher reads written answers"),
])
def test_written_answer(answer, passed, phrase):
    nb = nb_of(exercise("kmeans-local-optima"), start("kmeans-local-optima"),
               md(answer, tags=["solution"]), END_CELL)
    (ex,) = parse(nb)
    result = _written_result(_Node(nb), ex)
    assert result.passed is passed and phrase in result.message


class _Node:
    """The attribute access of an nbformat node, enough for _written_result."""

    def __init__(self, nb):
        self.cells = nb["cells"]


# --- the checks, called directly (no kernel) -------------------------------------------------

def _pairwise(P, metric):
    diff = P[:, None, :] - P[None, :, :]
    return np.abs(diff).sum(-1) if metric == "l1" else np.sqrt((diff ** 2).sum(-1))


def _dens(x, means, sigmas):
    return np.exp(-0.5 * ((x[:, None] - means) / sigmas) ** 2) / (np.sqrt(2 * np.pi) * sigmas)


def _sq(X, C):
    return ((X[:, None] - C[None]) ** 2).sum(-1)


def _means(X, labels, k):
    return np.array([X[labels == j].mean(0) for j in range(k)])


def _medoid_positions(X, labels, k, metric):
    return np.array([np.argmin(_pairwise(X[labels == j], metric).sum(1)) for j in range(k)])


def _reordered_m_step(x, resp):
    weights, means, sigmas = gmm1d.m_step(x, resp)
    return means, sigmas, weights  # seed 000's MStep order


def _mutating_e_step(X, centers):
    X -= 1
    return np.argmin(_sq(X + 1, centers), 1)


# (label, the student's names, a phrase the message must contain)
MISTAKES = {
    "1-based labels": ("kmeans-e-step", {"my_e_step": lambda X, C: np.argmin(_sq(X, C), 1) + 1},
                       "your labels look 1-based"),
    "farthest centre": ("kmeans-e-step", {"my_e_step": lambda X, C: np.argmax(_sq(X, C), 1)},
                        "farthest centre"),
    "l1 distance": ("kmeans-e-step",
                    {"my_e_step": lambda X, C: np.argmin(np.abs(X[:, None] - C[None]).sum(-1), 1)},
                    "Euclidean (l2) distance"),
    "ties to the highest": ("kmeans-e-step",
                            {"my_e_step": lambda X, C: len(C) - 1 - np.argmin(_sq(X, C)[:, ::-1], 1)},
                            "ties go to the lowest index"),
    "one-hot": ("kmeans-e-step", {"my_e_step": lambda X, C: np.eye(len(C))[np.argmin(_sq(X, C), 1)]},
                "one-hot matrix"),
    "no return": ("kmeans-e-step", {"my_e_step": lambda X, C: None}, "is a `return` missing?"),
    "exception": ("kmeans-e-step", {"my_e_step": lambda X, C: 1 / 0},
                  "your my_e_step raised ZeroDivisionError: division by zero (on the seed data"),
    "changes its input": ("kmeans-e-step", {"my_e_step": _mutating_e_step}, "changed its argument X"),
    "not a function": ("kmeans-e-step", {"my_e_step": 3}, "should be a function"),
    "sums": ("kmeans-m-step", {"my_m_step": lambda X, l, k: np.array([X[l == j].sum(0) for j in range(k)])},
             "you returned the sum of each cluster's points"),
    "transposed centres": ("kmeans-m-step", {"my_m_step": lambda X, l, k: _means(X, l, k).T},
                           "returned the centres as columns"),
    "overall mean": ("kmeans-m-step", {"my_m_step": lambda X, l, k: np.tile(X.mean(0), (k, 1))},
                     "mean of all the points"),
    "distances not squared": ("kmeans-objective",
                              {"my_objective": lambda X, l, C: np.sqrt(((X - C[l]) ** 2).sum(1)).sum()},
                              "adds their squares"),
    "averaged objective": ("kmeans-objective", {"my_objective": lambda X, l, C: ((X - C[l]) ** 2).sum(1).mean()},
                           "you averaged"),
    "per-point objective": ("kmeans-objective", {"my_objective": lambda X, l, C: ((X - C[l]) ** 2).sum(1)},
                            "one value per point"),
    "nearest centre objective": ("kmeans-objective", {"my_objective": lambda X, l, C: _sq(X, C).min(1).sum()},
                                 "use its own centre"),
    "squared costs": ("kmedoids-tie", {"my_candidate_costs": lambda P, m: (_pairwise(P, m) ** 2).sum(1)},
                      "squared distances"),
    "wrong metric": ("kmedoids-tie", {"my_candidate_costs": lambda P, m: _pairwise(P, "l2").sum(1)},
                     "asked for metric='l1'"),
    "cost matrix": ("kmedoids-tie", {"my_candidate_costs": lambda P, m: _pairwise(P, m)}, "distance matrix"),
    "candidates from all points": (
        "kmedoids-update",
        {"my_medoid_update": lambda X, l, k, m: kmedoids.m_step(X, l, k, metric=m, medoids_from="all")},
        "the cluster's own members"),
    "coordinates": ("kmedoids-update",
                    {"my_medoid_update": lambda X, l, k, m: X[kmedoids.m_step(X, l, k, metric=m)]},
                    "return their row indices"),
    "positions in the cluster": ("kmedoids-update", {"my_medoid_update": _medoid_positions},
                                 "position inside its cluster"),
    "same medoids": ("kmedoids-rules-differ", {"differ_X": np.array([[0, 0], [1, 1.0]]), "differ_init": [0, 1]},
                     "both rules end with the same medoids"),
    "bad init": ("kmedoids-rules-differ", {"differ_X": np.array([[0, 0], [1, 1.0]]), "differ_init": [0, 5]},
                 "different row indices of differ_X, from 0 to 1"),
    "log10": ("gmm-log-likelihood",
              {"my_log_likelihood": lambda x, w, mu, s: np.log10(_dens(x, mu, s) @ w).sum()}, "natural log"),
    "no weights": ("gmm-log-likelihood",
                   {"my_log_likelihood": lambda x, w, mu, s: np.log(_dens(x, mu, s).sum(1)).sum()},
                   "multiplied by its weight"),
    "underflow": ("gmm-log-likelihood",
                  {"my_log_likelihood": lambda x, w, mu, s: np.log(_dens(x, mu, s) @ w).sum()},
                  "work in the log domain"),
    "unnormalised": ("gmm-e-step", {"my_e_step": lambda x, w, mu, s: _dens(x, mu, s) * w}, "sum to 1"),
    "transposed resp": ("gmm-e-step", {"my_e_step": lambda x, w, mu, s: gmm1d.e_step(x, w, mu, s).T},
                        "one row per point"),
    "0/0 far away": ("gmm-e-step",
                     {"my_e_step": lambda x, w, mu, s: _dens(x, mu, s) * w / (_dens(x, mu, s) * w).sum(1, keepdims=True)},
                     "work in the log domain"),
    "seed 000's order": ("gmm-m-step", {"my_m_step": _reordered_m_step},
                         "you returned (means, sigmas, weights)"),
    "variances": ("gmm-m-step", {"my_m_step": lambda x, r: (*gmm1d.m_step(x, r)[:2], gmm1d.m_step(x, r)[2] ** 2)},
                  "take the square root"),
    "one array": ("gmm-m-step", {"my_m_step": lambda x, r: gmm1d.m_step(x, r)[1]}, "three arrays"),
    "1-based index": ("gmm-responsibilities", {"most_uncertain": 3}, "0-based"),
    "the value": ("gmm-responsibilities", {"most_uncertain": 4}, "the point's value rather than its index"),
    "a string": ("gmm-responsibilities", {"most_uncertain": "2"}, "whole-number index"),
    "out of range": ("gmm-responsibilities", {"most_uncertain": 7}, "not an index of the 5 seed points"),
}


@pytest.mark.parametrize("label, names, phrase", list(MISTAKES.values()), ids=list(MISTAKES))
def test_a_known_mistake_gets_a_hint(label, names, phrase):
    result = run_check(label, dict(names))
    assert result["status"] == "fail", result
    assert phrase in result["message"]
    assert "\n" not in result["message"] and "Traceback" not in result["message"]


def _reference_namespace():
    """Correct answers built from algos itself (the chapters' solutions are tested by running them)."""
    def costs(P, metric):
        return _pairwise(np.asarray(P, dtype=float), metric).sum(1)

    return {
        "kmeans": {"my_e_step": kmeans.e_step, "my_m_step": lambda X, l, k: kmeans.m_step(X, l, k),
                   "my_objective": kmeans.objective},
        "kmedoids": {"my_medoid_update": lambda X, l, k, m: kmedoids.m_step(X, l, k, metric=m),
                     "my_candidate_costs": costs,
                     "differ_X": np.array([[-20.0, 0], [-1, 10], [-1, -10], [0.5, 0], [20, 0]]),
                     "differ_init": [0, 4]},
        "gmm": {"my_log_likelihood": gmm1d.log_likelihood, "my_e_step": gmm1d.e_step,
                "my_m_step": gmm1d.m_step, "most_uncertain": 2},
    }


@pytest.mark.parametrize("label", sorted(label for label, c in CHECKS.items() if not c.written))
def test_a_correct_answer_passes_and_an_unfinished_one_does_not(label):
    ns = _reference_namespace()[label.split("-")[0]]
    result = run_check(label, ns)
    assert result["status"] == "pass", result
    assert run_check(label, {})["status"] == "missing"

    def unfinished(*args):
        raise NotImplementedError

    stubs = {name: unfinished for name in CHECKS[label].names if callable(ns[name])}
    if stubs:
        assert run_check(label, {**ns, **stubs}) == {"status": "not-implemented",
                                                     "message": "not implemented yet"}


def test_the_checks_are_repeatable():
    # "Random data the student has not seen" is fixed: every student gets the same cases.
    ns = dict(MISTAKES["nearest centre objective"][1])  # right on the seed data, wrong on random data
    first = run_check("kmeans-objective", ns)
    assert first["message"].startswith("on random data") and re.search(r"expected \d", first["message"])
    assert run_check("kmeans-objective", ns) == first


# --- grading: running notebooks ---------------------------------------------------------------

_REPORTS = {}


def graded(path, **kwargs):
    """Grade a notebook once per session (each run starts a kernel)."""
    key = (str(path), tuple(sorted(kwargs.items())))
    if key not in _REPORTS:
        _REPORTS[key] = grade(path, **kwargs)
    return _REPORTS[key]


def results_of(report):
    return {r.label: r for r in report.results}


@pytest.mark.parametrize("path", list(SOLVED.values()), ids=list(SOLVED))
def test_solution_notebooks_pass_everything(path, prefetched):
    report = graded(path)
    assert [r.label for r in report.results] == labels_in(path)
    failed = [r.line() for r in report.results if not r.passed]
    assert not failed, "\n".join(failed)
    assert report.passed and not report.notes


@pytest.fixture(scope="module")
def student_dirs(fixture_book, tmp_path_factory):
    """Student notebooks made from the solved fixtures, and from the real chapters."""
    dirs = {"fixture": tmp_path_factory.mktemp("student-fixtures")}
    make_student(fixture_book, dirs["fixture"])
    if CHAPTERS:
        dirs["book"] = tmp_path_factory.mktemp("student-book")
        make_student(BOOK, dirs["book"])
    return dirs


STUDENT_CASES = [("fixture", c) for c in BRIEF_EXERCISES] + [("book", p.name) for p in CHAPTERS]


@pytest.fixture(scope="module")
def prefetched(student_dirs):
    """Grade every solved and every fresh student notebook, two at a time.

    Each grading is mostly one kernel running a chapter; two kernels share the machine's two
    cores better than one. The tests then read the reports from the cache.
    """
    paths = list(SOLVED.values()) + [student_dirs[src] / chapter for src, chapter in STUDENT_CASES]
    todo = [p for p in paths if (str(p), ()) not in _REPORTS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for path, report in zip(todo, pool.map(grade, todo)):
            _REPORTS[(str(path), ())] = report


@pytest.mark.parametrize("source, chapter", STUDENT_CASES, ids=[f"{s} {c}" for s, c in STUDENT_CASES])
def test_fresh_student_notebook_fails_every_exercise_as_not_done(student_dirs, prefetched, source, chapter):
    report = graded(student_dirs[source] / chapter)
    assert [r.label for r in report.results] == labels_in(
        SOLUTION_FIXTURES[chapter] if source == "fixture" else BOOK / chapter)
    for r in report.results:
        assert not r.passed
        expected = "not answered yet" if CHECKS[r.label].written else "not implemented yet"
        assert r.message.startswith(expected), r.line()
    assert not report.passed


def test_cli_grades_seed_001_m_step_with_an_averaging_hint():
    proc = subprocess.run([sys.executable, "-m", "grading", "grade", str(SUM_M_STEP)],
                          capture_output=True, text=True, cwd=REPO, timeout=300,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Grading ")
    (m_step,) = [ln for ln in lines if "kmeans-m-step" in ln]
    assert m_step.startswith("FAIL  kmeans-m-step: ")
    assert ("you returned the sum of each cluster's points; the M-step takes their mean (divide "
            "by the number of points in the cluster)") in m_step
    assert "labels = [0, 0, 0, 1, 1]" in m_step, "the input"
    assert "expected [[2, 3], [8.5, 9.5]]" in m_step
    assert "got [[6, 9], [17, 19]]" in m_step
    others = [ln for ln in lines if ln.startswith(("PASS", "FAIL")) and "kmeans-m-step" not in ln]
    assert len(others) == 3 and all(ln.startswith("PASS  ") for ln in others)
    assert lines[-1] == "3 of 4 exercises pass."
    assert "Traceback" not in proc.stdout + proc.stderr


def test_endless_loops_are_stopped_and_reported():
    t0 = time.monotonic()
    report = graded(ENDLESS, timeout=2)
    elapsed = time.monotonic() - t0
    res = results_of(report)
    # my_e_step loops in the notebook's own self-check cell ...
    assert not res["kmeans-e-step"].passed
    assert res["kmeans-e-step"].message.startswith("timed out after 2 s")
    assert "labels = my_e_step(X, centers)" in res["kmeans-e-step"].message
    # ... my_objective only on the grader's larger data.
    assert not res["kmeans-objective"].passed
    assert res["kmeans-objective"].message.startswith("timed out after 2 s while the grader ran your my_objective")
    # The kernel survived the interrupts: the other exercises are graded as usual.
    assert res["kmeans-m-step"].passed and res["kmeans-local-optima"].passed
    assert elapsed < 60


def test_a_kernel_that_ignores_the_time_limit_is_stopped(tmp_path):
    nb = load(SOLUTION_FIXTURES["kmeans.ipynb"])
    cell = next(c for c in nb["cells"] if "def my_m_step" in source_of(c))
    cell["source"] = ("import time\n\ndef my_m_step(X, labels, k):\n    while True:\n        try:\n"
                      "            time.sleep(0.05)\n        except KeyboardInterrupt:\n"
                      "            pass  # swallows the grader's interrupt\n\n"
                      "my_m_step(None, None, 2)\n")
    path = tmp_path / "stubborn.ipynb"
    path.write_text(json.dumps(nb))
    report = grade(path, timeout=2)
    res = results_of(report)
    assert res["kmeans-e-step"].passed, "graded before the stuck cell"
    assert res["kmeans-m-step"].message.startswith("timed out after 2 s")
    assert res["kmeans-objective"].message.startswith("not checked: the kernel did not stop")
    assert res["kmeans-local-optima"].passed, "written answers need no kernel"
    assert any("did not stop" in n for n in report.notes)


def test_overall_time_limit_stops_grading():
    report = grade(ENDLESS, timeout=2, total_timeout=2.5)
    res = results_of(report)
    stopped = "not checked: grading stopped at its overall time limit of 2.5 s"
    # The endless e-step uses up the time (unless slow imports in the first cell already did).
    assert res["kmeans-e-step"].message.startswith(("timed out after", stopped))
    for label in ("kmeans-m-step", "kmeans-objective"):
        assert res[label].message == stopped
    assert res["kmeans-local-optima"].passed, "written answers need no kernel"
    assert not report.passed


def test_broken_code_gets_a_sentence_not_a_traceback(tmp_path):
    nb = load(SOLUTION_FIXTURES["kmeans.ipynb"])

    def replace(name, new_source):
        cell = next(c for c in nb["cells"] if f"def {name}" in source_of(c))
        cell["source"] = new_source

    replace("my_e_step", "def my_e_step(X, centers)\n    return 0\n")  # missing colon
    replace("my_m_step", "def my_m_step(X, labels, k):\n    return X.sum(axis=0) / 0 + 1 / 0\n")
    replace("my_objective", "# I deleted my function by mistake\n")
    answer = next(c for c in nb["cells"] if "solution" in c["metadata"].get("tags", []))
    answer["source"] = "Local minima."
    path = tmp_path / "broken.ipynb"
    path.write_text(json.dumps(nb))
    report = graded(path)
    res = results_of(report)
    assert res["kmeans-e-step"].message.startswith(
        "my_e_step is not defined because the cell that should define it stopped with SyntaxError")
    assert res["kmeans-m-step"].message.startswith("your my_m_step raised ZeroDivisionError: division by zero")
    assert res["kmeans-objective"].message.startswith("my_objective is not defined; define it")
    assert res["kmeans-local-optima"].message.startswith("not answered yet: your answer has only 2 words")
    lines = report.lines()
    assert lines[-1] == "0 of 4 exercises pass."
    assert all("Traceback" not in ln and "\n" not in ln for ln in lines)
