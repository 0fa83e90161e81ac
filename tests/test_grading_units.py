"""Unit tests of the grader's parts: the plain-data codec, the program slice, the MyST
conversion, and the exercise process (what it can and cannot reach)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from grading import _plain
from grading._paths import book_dir
from grading.exercise import prepare_algos, run_exercise
from grading.myst import RAW_MYST, to_markdown
from grading.slicing import parse_notebook, slice_for


# --- plain data ---------------------------------------------------------------------------------

class AlwaysEqual:
    def __eq__(self, other):
        return True


class Agreeable(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)

    def tobytes(self, *args, **kwargs):
        return b"forged"


class Yes(float):
    def __eq__(self, other):
        return True


def roundtrip(value):
    return _plain.decode(json.loads(json.dumps(_plain.encode(value), allow_nan=False)))


@pytest.mark.parametrize("value", [None, True, 3, -2 ** 70, 1.5, float("inf"), "l1",
                                   [1, (2.0, "x")], (np.arange(3), None)])
def test_plain_values_cross_unchanged(value):
    back = roundtrip(value)
    assert type(back) is type(value)
    assert repr(back) == repr(value)


def test_arrays_cross_with_dtype_shape_and_values():
    for arr in [np.arange(6, dtype=np.int32).reshape(2, 3), np.array([[0.5, np.nan]]),
                np.zeros((0, 2)), np.array(True), np.float32(2.5), np.int64(-4)]:
        back = roundtrip(arr)
        assert type(back) in (np.ndarray, type(arr))
        assert back.dtype == np.asarray(arr).dtype and np.shape(back) == np.shape(arr)
        assert np.array_equal(back, arr, equal_nan=True)


def test_objects_do_not_cross_only_their_type_name():
    for value, name in [(AlwaysEqual(), "AlwaysEqual"), (Yes(1.0), "Yes"), ({"a": 1}, "dict"),
                        (np.array(["a"]), "dtype <U1"), (np.array([1j]), "complex")]:
        back = roundtrip(value)
        assert isinstance(back, _plain.Opaque) and name in back.type_name
        assert back != back and not (back == 0)
    # a numpy subclass crosses as its numbers, read with the base class's own methods
    back = roundtrip(np.array([1.0, 2.0]).view(Agreeable))
    assert type(back) is np.ndarray and back.tolist() == [1.0, 2.0]
    assert not np.array_equal(back, [0.0, 0.0])


@pytest.mark.parametrize("payload", [
    [1, 2],
    {"list": [1], "extra": 2},
    {"pickle": "gASVAAAAAAAAAAA="},
    {"array": {"dtype": "|O", "shape": [1], "data": "", "scalar": False}},
    {"array": {"dtype": "<f8", "shape": [2], "data": "AAAAAAAAAAA=", "scalar": False}},
    {"array": {"dtype": "<f8", "shape": [-1], "data": "", "scalar": False}},
    {"array": {"dtype": "V8", "shape": [1], "data": "AAAAAAAAAAA=", "scalar": False}},
    {"array": {"dtype": "<f8", "shape": [1], "data": "not base64!", "scalar": False}},
    {"int": "1" * 500},
    {"float": "1e400"},
    "x" * (_plain.MAX_STRING + 1),
])
def test_decode_refuses_what_is_not_plain_data(payload):
    with pytest.raises(_plain.PlainError):
        _plain.decode(payload)


# --- the slice ------------------------------------------------------------------------------------

def cells(*sources):
    return [{"cell_type": "code", "source": s, "metadata": {}, "outputs": []} for s in sources]


def sliced(sources, names, end=None):
    parsed = parse_notebook(cells(*sources))
    end = len(parsed.statements) if end is None else end
    return [src for _, src in slice_for(parsed, names, end)]


def test_slice_takes_what_the_answer_reads_and_nothing_else():
    out = sliced([
        "import numpy as np\nfrom algos import kmeans as km, plotting\nimport matplotlib.pyplot as plt",
        "X = np.zeros((3, 2))\nlabels = km.e_step(X, X[:2])  # a demo that calls the reference",
        "SCALE = 2\ndef helper(a):\n    return a * SCALE",
        "def my_m_step(X, labels, k):\n    out = helper(X)\n    return np.array([out[labels == j].mean(0) for j in range(k)])",
        "print(my_m_step(X, labels, 2))\nplt.show()",
    ], ["my_m_step"])
    assert out == ["import numpy as np", "SCALE = 2",
                   "def helper(a):\n    return a * SCALE",
                   "def my_m_step(X, labels, k):\n    out = helper(X)\n"
                   "    return np.array([out[labels == j].mean(0) for j in range(k)])"]


def test_slice_follows_top_level_data_and_mutations_in_order():
    out = sliced(["import numpy as np", "x = np.arange(3)", "x[0] = 5", "y = x * 2", "x = None",
                  "answer = int(y.sum())"], ["answer"])
    assert out == ["import numpy as np", "x = np.arange(3)", "x[0] = 5", "y = x * 2",
                   "answer = int(y.sum())"]


def test_slice_keeps_only_needed_import_names_and_defaults_and_decorators():
    out = sliced(["from algos import gmm1d, plotting, stepper",
                  "import functools\n@functools.cache\ndef f(x, scale=gmm1d):\n    return x"],
                 ["f"])
    assert out == ["from algos import gmm1d", "import functools",
                   "@functools.cache\ndef f(x, scale=gmm1d):\n    return x"]


def test_slice_stops_at_the_exercise_and_skips_cells_that_do_not_parse():
    parsed = parse_notebook(cells("def f():\n    return 1", "def f(:\n    pass", "def f():\n    return 3"))
    assert 1 in parsed.syntax_errors and parsed.syntax_errors[1].startswith("SyntaxError")
    assert [s for _, s in slice_for(parsed, ["f"], 1)] == ["def f():\n    return 1"]
    assert [s for _, s in slice_for(parsed, ["f"], 2)] == ["def f():\n    return 3"]


def test_magics_do_not_break_the_slice():
    out = sliced(["%matplotlib inline\nimport numpy as np", "!ls\ndef f():\n    return np.pi"], ["f"])
    assert out == ["import numpy as np", "def f():\n    return np.pi"]


# --- MyST to plain Markdown ---------------------------------------------------------------------

def test_myst_becomes_markdown_jupyterlab_renders():
    text = ("(sec-x)=\n## Title\n\n% a comment\n```{note}\nA note with $x^2$.\n```\n\n"
            ":::{admonition} Learning objectives\n:class: tip\n- one\n:::\n\n"
            "```{hint} Try this\n:class: dropdown\nSort first.\n```\n\n"
            "See {ref}`the E-step <sec-e>`, {math}`\\mu_k` and {term}`medoid`.\n\n"
            "```{math}\n:label: eq-j\nJ = \\sum_n x_n\n```\n")
    out = to_markdown(text)
    assert not any(RAW_MYST.search(ln) for ln in out.splitlines()), out
    assert "(sec-x)=" not in out and "% a comment" not in out
    assert "> **Note**\n>\n> A note with $x^2$." in out
    assert "> **Learning objectives**\n>\n> - one" in out
    assert "<details>\n<summary>Try this</summary>\n\nSort first.\n\n</details>" in out
    assert "See the E-step, $\\mu_k$ and medoid." in out
    assert "$$\nJ = \\sum_n x_n\n$$" in out


# --- the exercise process -------------------------------------------------------------------------

def test_stand_ins_replace_the_references_and_nothing_else(tmp_path):
    prepare_algos(book_dir() / "algos", tmp_path / "algos",
                  ["algos.kmeans", "algos._distances.nearest_center"])
    probe = """
import algos, numpy as np
from algos import kmeans, gmm1d, _distances
from algos._guard import ReferenceCalled, CALLED
for call in (lambda: kmeans.e_step(np.zeros((2, 2)), np.zeros((1, 2))),
             lambda: kmeans.fit(np.zeros((3, 2)), k=1),
             lambda: _distances.nearest_center(None, None, "l2")):
    try:
        call()
    except ReferenceCalled as exc:
        print("stood in:", exc)
print(gmm1d.log_likelihood(np.array([0.0]), [1.0], [0.0], [1.0]) < 0, CALLED)
"""
    proc = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n{probe}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "stood in: algos.kmeans.e_step", "stood in: algos.kmeans.fit",
        "stood in: algos._distances.nearest_center",
        "True ['algos.kmeans.e_step', 'algos.kmeans.fit', 'algos._distances.nearest_center']"]
    with pytest.raises(ValueError, match="does not name a module"):
        prepare_algos(book_dir() / "algos", tmp_path / "again", ["algos.nothing"])


def test_the_exercise_process_cannot_reach_the_grader_or_the_reference():
    source = '''
import os, sys
def probe():
    found = []
    for name in ("grading", "grading.checks", "_checks"):
        try:
            __import__(name)
            found.append(name)
        except ImportError:
            pass
    import algos.kmeans
    return [found, os.path.realpath(algos.__file__).startswith(os.getcwd()),
            sys.flags.isolated, "PYTHONPATH" in os.environ]
'''
    run = run_exercise([{"cell": 0, "line": 1, "source": source}],
                       [{"id": 0, "call": "probe", "args": []}],
                       references=["algos.kmeans"], book_dir=book_dir(), timeout=60)
    assert run.outcomes[0].status == "ok", (run.outcomes, run.log)
    found, algos_is_the_copy, isolated, pythonpath = run.outcomes[0].value
    assert found == [] and algos_is_the_copy and isolated == 1 and not pythonpath


def test_a_case_that_runs_too_long_is_stopped_and_the_rest_is_not_run():
    source = "import time\ndef f(x):\n    while x:\n        time.sleep(0.01)\n    return x"
    requests = [{"id": i, "call": "f", "args": [x]} for i, x in enumerate([0, 1, 0])]
    run = run_exercise([{"cell": 0, "line": 1, "source": source}], requests, references=[],
                       book_dir=book_dir(), timeout=1.5)
    assert [run.outcomes[i].status for i in range(3)] == ["ok", "timeout", "not-run"]
    assert run.stopped.startswith("timed out after 1.5 s")


def test_every_automatic_check_guards_every_algorithm_module():
    """Any algorithm module can be bent into another's step (the 2-D mixture's E-step on a
    1-D column is the 1-D E-step; ``_distances``' kernels are K-means' E-step), so every check
    of code stands in for all of them, not only for its own chapter's module."""
    from grading.checks import CHECKS

    modules = {f"algos.{p.stem}" for p in (book_dir() / "algos").glob("*.py")
               if p.stem in ("kmeans", "kmedoids", "gmm1d", "gmm") or p.stem == "_distances"}
    assert len(modules) == 5, modules
    # a check with no references at all asks for a value computed on data (analyse), which the
    # answer may compute with algos; a check that guards anything guards everything
    weak = {label: sorted(modules - set(check.references)) for label, check in CHECKS.items()
            if check.references and not modules <= set(check.references)}
    assert not weak, f"checks that leave a reference callable: {weak}"
    assert sum(bool(check.references) for check in CHECKS.values()) >= 12


def test_an_answer_built_from_another_algos_module_is_a_reference_call():
    """The bypasses a reviewer found: the 1-D E-step through ``algos.gmm``, K-means' E-step
    through the private kernel ``_distances._scan_centers``."""
    from grading.checks._common import ALGORITHM_REFERENCES

    source = '''
import numpy as np
def via_gmm(x):
    from algos import gmm
    x = np.asarray(x, float)[:, None]
    return gmm.e_step(x, [0.5, 0.5], np.array([[0.0], [1.0]]), np.ones((2, 1, 1)))
def via_kernel(X):
    from algos import _distances
    return _distances._scan_centers(np.asarray(X, float).T.copy(), np.zeros((1, 2)), "l2", False)
'''
    run = run_exercise([{"cell": 0, "line": 1, "source": source}],
                       [{"id": 0, "call": "via_gmm", "args": [_plain.encode(np.array([0.0, 1.0]))]},
                        {"id": 1, "call": "via_kernel",
                         "args": [_plain.encode(np.zeros((1, 2)))]}],
                       references=list(ALGORITHM_REFERENCES), book_dir=book_dir(), timeout=60)
    assert [run.outcomes[i].status for i in range(2)] == ["reference", "reference"], run.outcomes


def test_an_answer_built_from_scipy_or_scikit_learn_is_a_reference_call():
    """The bypasses a reviewer found for the "numpy only" exercises: SciPy's multivariate
    normal for the 2-D log-density, scikit-learn's private M-step helper for the covariance
    M-step; and k-means++ from scikit-learn. Importing the packages at the top (as a chapter
    does for its data) stays allowed, and so does numpy code; a student's own helper module
    name that merely starts like a package's is not one."""
    from grading.checks._common import NUMPY_ONLY_REFERENCES

    source = '''
import numpy as np
from scipy.stats import multivariate_normal
import sklearn.mixture._gaussian_mixture as sk_gm
def via_scipy(X):
    return multivariate_normal.logpdf(np.asarray(X, float), np.zeros(2), np.eye(2))
def via_private_sklearn(X):
    X = np.asarray(X, float)
    resp = np.full((len(X), 1), 1.0)
    return sk_gm._estimate_gaussian_parameters(X, resp, 1e-6, "full")[2]
def via_import_inside(X):
    from sklearn.cluster import kmeans_plusplus
    return kmeans_plusplus(np.asarray(X, float), 1, random_state=0)[0]
def with_numpy(X):
    X = np.asarray(X, float)
    return -0.5 * (X ** 2).sum(axis=1) - np.log(2 * np.pi)
'''
    X = _plain.encode(np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]]))
    names = ["via_scipy", "via_private_sklearn", "via_import_inside", "with_numpy"]
    run = run_exercise([{"cell": 0, "line": 1, "source": source}],
                       [{"id": i, "call": name, "args": [X]} for i, name in enumerate(names)],
                       references=list(NUMPY_ONLY_REFERENCES), book_dir=book_dir(), timeout=120)
    outcomes = [run.outcomes[i] for i in range(4)]
    assert [o.status for o in outcomes] == ["reference", "reference", "reference", "ok"], \
        (outcomes, run.statement_errors, run.log)
    assert outcomes[0].name.startswith("scipy.stats."), outcomes[0].name
    assert outcomes[1].name.startswith("sklearn.mixture._gaussian_mixture."), outcomes[1].name
    assert outcomes[2].name.startswith("sklearn."), outcomes[2].name
    np.testing.assert_allclose(outcomes[3].value, [-2.337877, -4.337877, -2.087877], atol=1e-6)
    assert not run.statement_errors and not run.references
    # without the packages among the references the same answers run
    run = run_exercise([{"cell": 0, "line": 1, "source": source}],
                       [{"id": 0, "call": "via_scipy", "args": [X]}],
                       references=list(NUMPY_ONLY_REFERENCES[:-3]), book_dir=book_dir(),
                       timeout=120)
    np.testing.assert_allclose(run.outcomes[0].value, [-2.337877, -4.337877, -2.087877], atol=1e-6)


def test_a_reference_must_be_in_algos_or_an_installed_package():
    from grading.exercise import split_references

    assert split_references(["algos.kmeans", "scipy", "sklearn"]) == (["algos.kmeans"],
                                                                      ["scipy", "sklearn"])
    for bad in ["scipy.stats", "no_such_package_here"]:
        with pytest.raises(ValueError, match=bad):
            split_references([bad])


def test_every_check_of_code_is_numpy_only():
    """A check that guards algos also refuses SciPy, scikit-learn and kmedoids."""
    from grading.checks import CHECKS
    from grading.checks._common import LIBRARY_REFERENCES

    loose = sorted(label for label, check in CHECKS.items()
                   if check.references and not set(LIBRARY_REFERENCES) <= set(check.references))
    assert not loose, f"checks that let an answer call a library: {loose}"


@pytest.mark.parametrize("chapter", sorted(p.name for p in book_dir().glob("*.ipynb")))
def test_student_notebooks_show_no_output_of_the_solutions(chapter):
    """From the first exercise on, no code cell of a student notebook keeps the output the
    solutions produced (a self-check printing the answer, a cell drawing the solution's
    result); the cells before it keep theirs, so the chapter still reads with its figures."""
    from grading import student_notebook
    from grading.markers import parse

    nb = json.loads((book_dir() / chapter).read_text(encoding="utf-8"))
    exercises = parse(nb, chapter)
    if not exercises:
        pytest.fail(f"{chapter} has no exercises")
    student = student_notebook(nb, chapter)
    roles = [c.get("metadata", {}).get("homework", {}).get("role") for c in student["cells"]]
    first = next(i for i, c in enumerate(student["cells"])
                 if c.get("metadata", {}).get("homework", {}).get("role") == "statement")
    shown = [i for i, c in enumerate(student["cells"][first:], first)
             if c["cell_type"] == "code" and (c["outputs"] or c["execution_count"])]
    assert not shown, f"{chapter}: cells {shown} keep the solutions' outputs"
    assert any(c["cell_type"] == "code" and c["outputs"] for c in student["cells"][:first]), \
        f"{chapter}: the chapter before the exercises lost its outputs"
    assert "check" in roles


def test_verdict_of_an_exercise_whose_written_part_is_still_missing():
    """A reviewer saw FAIL for an exercise whose automatic points were all earned while its
    written sentence was still to come: that is partly done, not failed."""
    from grading.grader import ExerciseResult

    def verdict(earned, answered):
        return ExerciseResult("x", status="pass", points=2, earned=earned, manual=1,
                              answered=answered).verdict

    assert verdict(2, True) == "PASS"
    assert verdict(2, False) == "PART"
    assert verdict(1, True) == "PART"
    assert verdict(0, True) == "FAIL" and verdict(0, False) == "FAIL"
