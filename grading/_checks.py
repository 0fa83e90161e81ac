"""The grader's checks: one function per exercise label, run inside the student's kernel.

Each check, ``check(ns) -> str``, takes the kernel's namespace ``ns`` (a dict), pulls out the names the exercise asks for (say
``my_m_step``), runs them on the seed data and on random data the notebook never shows, and
compares the answers with ``algos``. It returns a sentence for a pass and raises

* :class:`Failed` with a sentence a student understands (the input, what was expected, what
  came back, and a hint when the mistake is a known one, such as seed 001's summing M-step);
* :class:`NotImplementedYet` when the student's code raises ``NotImplementedError``;
* :class:`Missing` when a name is not defined (the grader then looks at the notebook's cells
  to say why).

The registry :data:`CHECKS` maps every exercise label of the book to its check; a test keeps
it equal to the set of exercises in the chapters.

This module imports only numpy and ``algos`` (nothing from the grader), so the kernel imports
it cheaply.
"""

from __future__ import annotations

import contextlib
import copy
import io
import itertools
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

#: MIME type under which a check's result travels from the kernel to the grader.
RESULT_MIME = "application/vnd.algos-homework.result+json"
# Fixed, so every student gets the same unseen data; different per exercise (see _rng).
_RANDOM_SEED = 20240607


class Failed(Exception):
    """The student's answer is wrong; the message is shown to the student as it is."""


class NotImplementedYet(Exception):
    """The student's code still raises ``NotImplementedError``."""


class Missing(Exception):
    """A name the exercise asks for is not defined in the notebook."""

    def __init__(self, name):
        super().__init__(name)
        self.name = name


@dataclass(frozen=True)
class Check:
    """How one exercise is graded.

    Attributes
    ----------
    label : str
        The exercise's ``:label:``.
    chapter : str
        The chapter notebook that holds the exercise.
    names : tuple of str
        The functions or variables the student writes.
    written : bool
        A written answer (a markdown cell tagged ``solution``), read by the teacher; the
        grader only checks that it was answered.
    run : callable or None
        ``run(namespace) -> str``: the pass message, or raises as the module docstring says.
    """

    label: str
    chapter: str
    names: tuple = ()
    written: bool = False
    run: Callable | None = None


#: Exercise label -> :class:`Check`.
CHECKS: dict[str, Check] = {}


def _register(label, chapter, *names):
    def decorate(func):
        CHECKS[label] = Check(label, chapter, names, run=func)
        return func
    return decorate


CHECKS["kmeans-local-optima"] = Check("kmeans-local-optima", "kmeans.ipynb", written=True)


def run_check(label, namespace):
    """Run the check of ``label`` on ``namespace`` and return a JSON-able result.

    Returns
    -------
    dict
        ``{"status": s, "message": m, "name": n}`` with ``s`` one of "pass", "fail",
        "not-implemented", "missing" (``n`` is the missing name) and "error" (the check
        itself broke, which is the grader's fault, not the student's).

    Notes
    -----
    What the student's code prints, and numpy's warnings, are swallowed: the grader's report
    stays one line per exercise. ``KeyboardInterrupt`` (the grader's time limit) is not caught.
    """
    check = CHECKS.get(label)
    if check is None or check.run is None:
        return {"status": "error", "message": f"there is no automatic check for {label!r}"}
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
                warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            message = check.run(namespace)
    except NotImplementedYet:
        return {"status": "not-implemented", "message": "not implemented yet"}
    except Missing as exc:
        return {"status": "missing", "name": exc.name, "message": f"{exc.name} is not defined"}
    except Failed as exc:
        return {"status": "fail", "message": str(exc)}
    except Exception as exc:  # a bug in the check, not in the student's work
        return {"status": "error", "message": f"the grader's check broke ({type(exc).__name__}: "
                                              f"{_one_line(exc)}); please tell your teacher"}
    return {"status": "pass", "message": message}


def display_result(label, namespace):
    """Run a check in the kernel and send its result to the grader as display data."""
    from IPython.display import display

    display({RESULT_MIME: run_check(label, namespace)}, raw=True)


# --- formatting: everything a message shows fits on one line --------------------------------

def fmt(value):
    """Format a number or array compactly on one line (6 significant digits)."""
    arr = np.asarray(value)
    if arr.dtype.kind in "iub":
        text = np.array2string(arr, separator=", ", threshold=24)
    else:
        text = np.array2string(arr.astype(float), separator=", ", threshold=24,
                               formatter={"float_kind": lambda v: f"{v:.6g}"})
    return " ".join(text.split())  # rows of a 2-D array on the same line


def _one_line(exc):
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."


def describe(value):
    """Say what a student's function returned, in words."""
    if value is None:
        return "None (is a `return` missing?)"
    if isinstance(value, (bool, np.bool_)):
        return f"the boolean {value}"
    if isinstance(value, (str, bytes)):
        return f"the string {value!r}"
    if isinstance(value, (tuple, list)) and not _is_numeric_array(value):
        return f"a {type(value).__name__} of {len(value)} items"
    try:
        arr = np.asarray(value)
    except Exception:
        return f"a {type(value).__name__}"
    if arr.dtype.kind not in "iufb":
        return f"a {type(value).__name__}"
    if arr.ndim == 0:
        return f"the number {fmt(arr)}"
    return f"an array of shape {arr.shape}: {fmt(arr)}"


def _is_numeric_array(value):
    try:
        return np.asarray(value).dtype.kind in "iufb"
    except Exception:
        return False


# --- calling the student's code ----------------------------------------------------------------

@dataclass
class Case:
    """One input for a student's function.

    ``title`` says what the data is ("the seed data", "random data (60 points in 2-D,
    k = 3)"); seed cases also print their values in messages (``show=True``), random cases
    only their size, since the values would not help.
    """

    title: str
    args: dict
    show: bool = False

    @property
    def where(self):
        if not self.show:
            return f"on {self.title}"
        shown = ", ".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {fmt(v)}"
                          for k, v in self.args.items())
        return f"on {self.title} ({shown})"


def _function(ns, name):
    if name not in ns:
        raise Missing(name)
    func = ns[name]
    if not callable(func):
        raise Failed(f"{name} should be a function, but it is {describe(func)}")
    return func


def _call(name, func, case):
    """Call the student's ``func`` on copies of the case's inputs; report what went wrong."""
    args = {k: copy.deepcopy(v) for k, v in case.args.items()}
    try:
        result = func(*args.values())
    except NotImplementedError:
        raise NotImplementedYet() from None
    except Exception as exc:
        raise Failed(f"your {name} raised {type(exc).__name__}: {_one_line(exc)} "
                     f"({case.where})") from None
    for key, original in case.args.items():
        if isinstance(original, np.ndarray) and not np.array_equal(args[key], original):
            raise Failed(f"your {name} changed its argument {key} ({case.where}); it should "
                         f"only read its inputs (work on a copy)")
    return result


def _as_array(name, result, shape, case, what):
    """The student's result as a float array of ``shape``, or a message saying why not."""
    if isinstance(result, tuple) and len(shape) == 1:
        result = list(result)
    try:
        arr = np.asarray(result, dtype=float)
    except Exception:
        raise Failed(f"{name} should return {what} (shape {shape}); it returned "
                     f"{describe(result)} ({case.where})") from None
    if arr.shape != shape:
        raise Failed(f"{name} should return {what}, an array of shape {shape}; it returned "
                     f"{describe(result)} ({case.where})")
    return arr


def _as_number(name, result, case, what):
    if isinstance(result, (str, bytes)) or not _is_numeric_array(result):
        raise Failed(f"{name} should return {what}; it returned {describe(result)} ({case.where})")
    arr = np.asarray(result, dtype=float)
    if arr.size != 1:
        raise Failed(f"{name} should return {what}, one number; it returned {describe(result)} "
                     f"({case.where})")
    return float(arr.reshape(()))


def _close(a, b, rtol=1e-7, atol=1e-9):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _rng(label):
    # One stream per exercise, so adding a case to one check does not change another's data.
    return np.random.default_rng([_RANDOM_SEED, sum(map(ord, label))])


def _pass(name, reference, cases):
    """E.g. "my_e_step agrees with algos.kmeans.e_step on the seed data, a tie and 2 random data sets"."""
    fixed = list(dict.fromkeys(c.title for c in cases if not c.title.startswith("random")))
    n_random = sum(c.title.startswith("random") for c in cases)
    parts = fixed + ([f"{n_random} random data set{'s' * (n_random != 1)}"] if n_random else [])
    listed = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    return f"{name} agrees with {reference} on {listed}"


# --- data ---------------------------------------------------------------------------------------

# Seed 000: four points and two starting centres (K-means and K-medoids).
SEED000_X = np.array([[0.0, -6.0], [4.0, 4.0], [0.0, 0.0], [-5.0, 2.0]])
SEED000_CENTERS = np.array([[-5.0, 2.0], [0.0, -6.0]])
# Seed 001: five points in two obvious groups (the summing M-step's example).
SEED001_X = np.array([[1.0, 2.0], [2.0, 3.0], [3.0, 4.0], [8.0, 9.0], [9.0, 10.0]])
SEED001_LABELS = np.array([0, 0, 0, 1, 1])
# Seed 000's EM example: five numbers and the starting parameters.
GMM_X = np.array([-1.0, 0.0, 4.0, 5.0, 6.0])
GMM_INIT = (np.array([0.5, 0.5]), np.array([6.0, 7.0]), np.array([1.0, 2.0]))


def _random_labels(rng, n, k):
    """Labels with every cluster non-empty, in random order."""
    return rng.permutation(np.concatenate([np.arange(k), rng.integers(0, k, n - k)]))


def _pairwise(A, B, metric):
    diff = A[:, None, :] - B[None, :, :]
    if metric == "l1":
        return np.abs(diff).sum(axis=-1)
    return np.sqrt((diff ** 2).sum(axis=-1))


def _random_mixture(rng, n, k):
    weights = rng.dirichlet(np.full(k, 3.0))
    means = np.sort(rng.uniform(-6, 6, k))
    sigmas = rng.uniform(0.6, 2.0, k)
    comp = rng.choice(k, size=n, p=weights)
    x = rng.normal(means[comp], sigmas[comp])
    return x, weights, means, sigmas


# --- K-means --------------------------------------------------------------------------------------

def _kmeans_e_cases():
    rng = _rng("kmeans-e-step")
    # A point exactly halfway between centres 1 and 2 must go to 1 (ties to the lowest index).
    tie = Case("a tie", {"X": np.array([[1.0, 0.0], [1.0, 1.0], [5.0, 5.0], [2.0, 0.5]]),
                         "centers": np.array([[5.0, 5.0], [0.0, 0.0], [2.0, 0.0]])}, show=True)
    cases = [Case("the seed data", {"X": SEED000_X, "centers": SEED000_CENTERS}, show=True), tie]
    for n, d, k in [(60, 2, 3), (40, 3, 5)]:
        X = rng.normal(size=(n, d)) * 3
        cases.append(Case(f"random data ({n} points in {d}-D, {k} centres)",
                          {"X": X, "centers": rng.normal(size=(k, d)) * 3}))
    return cases


@_register("kmeans-e-step", "kmeans.ipynb", "my_e_step")
def check_kmeans_e_step(ns):
    """Check ``my_e_step(X, centers)``: nearest-centre labels, on seed 000's points, a tie and
    random data.
    """
    from algos import kmeans

    f = _function(ns, "my_e_step")
    cases = _kmeans_e_cases()
    for case in cases:
        X, centers = case.args["X"], case.args["centers"]
        n, k = len(X), len(centers)
        expected = kmeans.e_step(X, centers)
        got = _call("my_e_step", f, case)
        arr = np.asarray(got) if _is_numeric_array(got) else None
        if arr is not None and arr.shape == (n, k) and set(np.unique(arr)) <= {0, 1}:
            raise Failed(f"my_e_step returned a ({n}, {k}) one-hot matrix ({case.where}), like "
                         f"seed 001's E-step; return one label per point, shape ({n},) "
                         f"(np.argmin over the centres)")
        got = _as_array("my_e_step", got, (n,), case, "one label per point")
        if np.array_equal(got, expected):
            continue
        dist = _pairwise(X, centers, "l2")
        if np.array_equal(got, expected + 1):
            hint = "; your labels look 1-based, but clusters are numbered from 0 (np.argmin gives that)"
        elif np.array_equal(got, np.argmax(dist, axis=1)):
            hint = "; you picked the farthest centre instead of the nearest"
        elif np.array_equal(got, np.argmin(_pairwise(X, centers, "l1"), axis=1)):
            hint = "; you measured l1 (Manhattan) distance, but the E-step uses the Euclidean (l2) distance"
        else:
            hint = ""
        i = int(np.flatnonzero(got != expected)[0])
        g = got[i]
        tied = 0 <= g < k and g == int(g) and np.isclose(dist[i, int(g)], dist[i, expected[i]])
        if tied:
            hint = (f"; point {i} is exactly as far from centre {int(g)} as from centre "
                    f"{expected[i]}: ties go to the lowest index (as np.argmin does)")
        wrong = int(np.sum(got != expected))
        raise Failed(f"{case.where}: point {i} at {fmt(X[i])} should get label {expected[i]} "
                     f"(its nearest centre, {fmt(centers[expected[i]])}), but your my_e_step gave "
                     f"{fmt(g)}; {wrong} of {n} labels differ{hint}")
    return _pass("my_e_step", "algos.kmeans.e_step", cases)


def _kmeans_m_cases():
    rng = _rng("kmeans-m-step")
    cases = [
        Case("seed 001's points", {"X": SEED001_X, "labels": SEED001_LABELS, "k": 2}, show=True),
        Case("the seed data", {"X": SEED000_X, "labels": np.array([1, 0, 0, 0]), "k": 2}, show=True),
    ]
    for n, d, k in [(60, 2, 3), (40, 3, 5)]:
        cases.append(Case(f"random data ({n} points in {d}-D, k = {k})",
                          {"X": rng.normal(size=(n, d)) * 3 + 1, "labels": _random_labels(rng, n, k),
                           "k": k}))
    return cases


@_register("kmeans-m-step", "kmeans.ipynb", "my_m_step")
def check_kmeans_m_step(ns):
    """Check ``my_m_step(X, labels, k)``: cluster means, on seed 001's points (the summing trap),
    seed 000's and random data.
    """
    from algos import kmeans

    f = _function(ns, "my_m_step")
    cases = _kmeans_m_cases()
    for case in cases:
        X, labels, k = case.args["X"], case.args["labels"], case.args["k"]
        d = X.shape[1]
        expected = kmeans.m_step(X, labels, k)
        raw = _call("my_m_step", f, case)
        if _is_numeric_array(raw) and np.shape(raw) == (d, k) and _close(np.asarray(raw).T, expected):
            raise Failed(f"my_m_step returned the centres as columns ({case.where}); return one "
                         f"row per cluster, shape ({k}, {d}): row j is the mean of cluster j")
        got = _as_array("my_m_step", raw, (k, d), case, "one centre per row")
        if _close(got, expected):
            continue
        counts = np.bincount(labels, minlength=k)
        sums = np.array([X[labels == j].sum(axis=0) for j in range(k)])
        if _close(got, sums):
            raise Failed(f"{case.where}: you returned the sum of each cluster's points; the "
                         f"M-step takes their mean (divide by the number of points in the "
                         f"cluster): expected {fmt(expected)}, got {fmt(got)}")
        if _close(got, np.broadcast_to(X.mean(axis=0), (k, d))):
            raise Failed(f"{case.where}: every centre you returned is the mean of all the points, "
                         f"{fmt(got[0])}; centre j is the mean of the points labelled j only "
                         f"(X[labels == j]), expected {fmt(expected)}")
        j = int(np.flatnonzero(~np.isclose(got, expected, rtol=1e-7, atol=1e-9).all(axis=1))[0])
        raise Failed(f"{case.where}: centre {j} should be the mean of the {counts[j]} points "
                     f"labelled {j}, {fmt(expected[j])}; yours is {fmt(got[j])}")
    return _pass("my_m_step", "algos.kmeans.m_step", cases)


def _kmeans_objective_cases():
    rng = _rng("kmeans-objective")
    cases = [Case("the seed data", {"X": SEED000_X, "labels": np.array([1, 0, 0, 0]),
                                    "centers": SEED000_CENTERS}, show=True),
             Case("seed 001's points", {"X": SEED001_X, "labels": SEED001_LABELS,
                                        "centers": np.array([[2.0, 3.0], [8.5, 9.5]])}, show=True)]
    for n, d, k in [(50, 2, 3), (30, 3, 4)]:
        # Labels drawn at random, not the nearest centre: the objective must use each point's
        # own centre.
        cases.append(Case(f"random data ({n} points in {d}-D, k = {k}, labels not the nearest centre)",
                          {"X": rng.normal(size=(n, d)) * 2, "labels": _random_labels(rng, n, k),
                           "centers": rng.normal(size=(k, d)) * 2}))
    return cases


@_register("kmeans-objective", "kmeans.ipynb", "my_objective")
def check_kmeans_objective(ns):
    """Check ``my_objective(X, labels, centers)``: sum of squared distances to each point's own
    centre.
    """
    from algos import kmeans

    f = _function(ns, "my_objective")
    cases = _kmeans_objective_cases()
    for case in cases:
        X, labels, centers = case.args["X"], case.args["labels"], case.args["centers"]
        expected = float(kmeans.objective(X, labels, centers))
        raw = _call("my_objective", f, case)
        per_point = ((X - centers[labels]) ** 2).sum(axis=1)
        if _is_numeric_array(raw) and np.shape(raw) == (len(X),):
            raise Failed(f"my_objective returned one value per point ({case.where}); return one "
                         f"number, their sum, {expected:.6g}")
        got = _as_number("my_objective", raw, case, "the sum of squared distances")
        if np.isclose(got, expected, rtol=1e-9, atol=1e-9):
            continue
        dist = np.sqrt(per_point)
        nearest = _pairwise(X, centers, "l2").min(axis=1) ** 2
        hints = [
            (dist.sum(), "you added the distances; the K-means objective adds their squares"),
            (np.sqrt(expected), "you took a square root; the objective is the plain sum of squared distances"),
            (per_point.mean(), "you averaged over the points; the objective is their sum"),
            (nearest.sum(), "you used each point's nearest centre; use its own centre, centers[labels[i]]"),
        ]
        hint = next((h for value, h in hints if np.isclose(got, value, rtol=1e-9)), "")
        raise Failed(f"{case.where}: expected {expected:.6g}, your my_objective returned "
                     f"{got:.6g}" + (f"; {hint}" if hint else ""))
    return _pass("my_objective", "algos.kmeans.objective", cases)


# --- K-medoids ------------------------------------------------------------------------------------

def _kmedoids_update_cases():
    rng = _rng("kmedoids-update")
    cases = [
        Case("the seed data", {"X": SEED000_X, "labels": np.array([1, 0, 1, 0]), "k": 2,
                               "metric": "l1"}, show=True),
        Case("the seed data", {"X": SEED000_X, "labels": np.array([1, 0, 0, 0]), "k": 2,
                               "metric": "l2"}, show=True),
        # Both members of each cluster are equally good: the lower row index wins.
        Case("a tie", {"X": np.array([[0.0, 0.0], [10.0, 10.0], [2.0, 0.0], [12.0, 10.0]]),
                       "labels": np.array([0, 1, 0, 1]), "k": 2, "metric": "l2"}, show=True),
    ]
    for n, k, metric in [(40, 3, "l2"), (30, 4, "l1")]:
        cases.append(Case(f"random data ({n} points in 2-D, k = {k}, metric {metric!r})",
                          {"X": rng.normal(size=(n, 2)) * 3, "labels": _random_labels(rng, n, k),
                           "k": k, "metric": metric}))
    return cases


@_register("kmedoids-update", "kmedoids.ipynb", "my_medoid_update")
def check_kmedoids_update(ns):
    """Check ``my_medoid_update(X, labels, k, metric)``: medoid row indices chosen among each
    cluster's members.
    """
    from algos import kmedoids

    f = _function(ns, "my_medoid_update")
    cases = _kmedoids_update_cases()
    for case in cases:
        X, labels, k, metric = (case.args[a] for a in ("X", "labels", "k", "metric"))
        expected = np.asarray(kmedoids.m_step(X, labels, k, metric=metric, medoids_from="cluster"))
        raw = _call("my_medoid_update", f, case)
        if _is_numeric_array(raw) and np.shape(raw) == (k, X.shape[1]) and _close(raw, X[expected]):
            raise Failed(f"my_medoid_update returned the medoids' coordinates ({case.where}); "
                         f"return their row indices in X, {fmt(expected)}")
        got = _as_array("my_medoid_update", raw, (k,), case, "one row index per cluster")
        if np.array_equal(got, expected):
            continue
        if not np.all((got == np.round(got)) & (got >= 0) & (got < len(X))):
            raise Failed(f"my_medoid_update returned {fmt(got)} ({case.where}); each entry should "
                         f"be a row index of X, a whole number from 0 to {len(X) - 1}")
        got = got.astype(int)
        members = [np.flatnonzero(labels == j) for j in range(k)]
        cost = _pairwise(X, X, metric)
        if all(g < len(m) for m, g in zip(members, got)) and \
                np.array_equal([m[g] for m, g in zip(members, got)], expected):
            raise Failed(f"{case.where}: you returned each medoid's position inside its cluster, "
                         f"{fmt(got)}; return its row index in X, {fmt(expected)}")
        from_all = np.asarray(kmedoids.m_step(X, labels, k, metric=metric, medoids_from="all"))
        j = int(np.flatnonzero(got != expected)[0])
        e, g = expected[j], got[j]
        cost_e, cost_g = cost[e, members[j]].sum(), cost[g, members[j]].sum()
        if np.array_equal(got, from_all):
            hint = ("; you searched all points, but the candidates for a cluster's medoid are "
                    "the cluster's own members")
        elif np.isclose(cost_e, cost_g):
            hint = (f"; points {min(e, g)} and {max(e, g)} tie with the same total distance: "
                    f"ties go to the lowest index")
        elif labels[g] != j:
            hint = f"; point {g} is not in cluster {j}"
        else:
            hint = ""
        raise Failed(f"{case.where}: the medoid of cluster {j} should be point {e} (total "
                     f"{metric} distance {cost_e:.6g} to the cluster's points); yours is point "
                     f"{g} (total {cost_g:.6g}){hint}")
    return _pass("my_medoid_update", "algos.kmedoids.m_step", cases)


def _candidate_costs(P, metric):
    return _pairwise(P, P, metric).sum(axis=1)


@_register("kmedoids-tie", "kmedoids.ipynb", "my_candidate_costs")
def check_kmedoids_tie(ns):
    """Check ``my_candidate_costs(P, metric)``: each row's sum of (unsquared) distances to all rows
    of P.
    """
    f = _function(ns, "my_candidate_costs")
    rng = _rng("kmedoids-tie")
    cases = [Case("the seed data", {"P": SEED000_X, "metric": "l1"}, show=True),
             Case("the seed data", {"P": SEED000_X, "metric": "l2"}, show=True),
             Case("four points on a line", {"P": np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0],
                                                           [3.0, 0.0]]), "metric": "l1"}, show=True)]
    for m, metric in [(15, "l2"), (12, "l1")]:
        cases.append(Case(f"random data ({m} points in 2-D, metric {metric!r})",
                          {"P": rng.normal(size=(m, 2)) * 2, "metric": metric}))
    for case in cases:
        P, metric = case.args["P"], case.args["metric"]
        m = len(P)
        expected = _candidate_costs(P, metric)
        raw = _call("my_candidate_costs", f, case)
        if _is_numeric_array(raw) and np.shape(raw) == (m, m):
            raise Failed(f"my_candidate_costs returned the ({m}, {m}) distance matrix "
                         f"({case.where}); return one number per row of P, the sum of its row")
        got = _as_array("my_candidate_costs", raw, (m,), case, "one cost per row of P")
        if _close(got, expected):
            continue
        other = "l2" if metric == "l1" else "l1"
        hints = [
            ((_pairwise(P, P, metric) ** 2).sum(axis=1),
             "you added squared distances; K-medoids adds plain distances"),
            (_candidate_costs(P, other),
             f"you used the {other} distance, but this call asked for metric={metric!r}"),
            (expected / m, "you averaged the distances; the cost is their sum"),
        ]
        hint = next((h for value, h in hints if _close(got, value)), "")
        i = int(np.flatnonzero(~np.isclose(got, expected, rtol=1e-7, atol=1e-9))[0])
        raise Failed(f"{case.where}: row {i} of P, {fmt(P[i])}, has total {metric} distance "
                     f"{expected[i]:.6g} to all rows; your my_candidate_costs gave {got[i]:.6g}"
                     + (f"; {hint}" if hint else ""))
    return _pass("my_candidate_costs", "each row's sum of distances", cases)


@_register("kmedoids-rules-differ", "kmedoids.ipynb", "differ_X", "differ_init")
def check_kmedoids_rules_differ(ns):
    """Check ``differ_X`` and ``differ_init``: data on which the two candidate rules of
    ``algos.kmedoids.fit`` (metric l2, other arguments at their defaults) end with different
    medoids.
    """
    from algos import kmedoids

    for name in ("differ_X", "differ_init"):
        if name not in ns:
            raise Missing(name)
    try:
        X = np.asarray(ns["differ_X"], dtype=float)
    except Exception:
        raise Failed(f"differ_X should be an (n, 2) array of numbers; it is "
                     f"{describe(ns['differ_X'])}") from None
    if X.ndim != 2 or X.shape[1] != 2 or len(X) < 2:
        raise Failed(f"differ_X should be an (n, 2) array of at least 2 points; it has shape {X.shape}")
    if not np.isfinite(X).all():
        raise Failed("differ_X contains NaN or inf")
    try:
        init = np.asarray(ns["differ_init"])
        ok = init.ndim == 1 and init.size >= 1 and init.dtype.kind in "iuf" and np.all(init == np.round(init))
    except Exception:
        ok = False
    if not ok:
        raise Failed(f"differ_init should be a list of k row indices of differ_X; it is "
                     f"{describe(ns['differ_init'])}")
    init = init.astype(int)
    if init.min() < 0 or init.max() >= len(X) or len(np.unique(init)) != len(init):
        raise Failed(f"differ_init = {fmt(init)} should hold k different row indices of differ_X, "
                     f"from 0 to {len(X) - 1}")
    k = len(init)
    results = {}
    for rule in ("all", "cluster"):
        try:
            res = kmedoids.fit(X, k=k, init=init, medoids_from=rule)
        except (ValueError, TypeError) as exc:
            raise Failed(f"algos.kmedoids.fit rejected differ_X / differ_init: {_one_line(exc)}") from None
        results[rule] = np.unique(np.asarray(res.medoids), axis=0)
    same = results["all"].shape == results["cluster"].shape and np.allclose(results["all"], results["cluster"])
    where = f"with differ_X = {fmt(X)} and differ_init = {fmt(init)} (metric 'l2')"
    if same:
        raise Failed(f"{where} both rules end with the same medoids {fmt(results['all'])}; look for "
                     f"a cluster whose best centre is a point outside it")
    return (f"{where} medoids_from='all' ends with medoids {fmt(results['all'])} and "
            f"medoids_from='cluster' with {fmt(results['cluster'])}: different, as asked")


# --- Gaussian mixtures and EM ----------------------------------------------------------------------

def _gmm_param_cases(label):
    rng = _rng(label)
    w, mu, s = GMM_INIT
    cases = [Case("the seed data", {"x": GMM_X, "weights": w, "means": mu, "sigmas": s}, show=True)]
    for n, k in [(50, 3), (30, 2)]:
        x, weights, means, sigmas = _random_mixture(rng, n, k)
        cases.append(Case(f"random data ({n} points, k = {k})",
                          {"x": x, "weights": weights, "means": means, "sigmas": sigmas}))
    # x = 100 is so far from both components that both densities underflow to 0: only a
    # log-domain computation (log-sum-exp), which the chapter asks for, stays finite.
    cases.append(Case("the seed parameters with a far point",
                      {"x": np.array([-1.0, 0.0, 4.0, 100.0]), "weights": w, "means": mu,
                       "sigmas": s}, show=True))
    return cases


_UNDERFLOW = ("the point x = 100 is far from every component, so its densities underflow to 0; "
              "work in the log domain (log-sum-exp: subtract the largest log term before exp)")


def _densities(x, means, sigmas):
    return np.exp(-0.5 * ((x[:, None] - means) / sigmas) ** 2) / (np.sqrt(2 * np.pi) * sigmas)


@_register("gmm-log-likelihood", "gmm_em.ipynb", "my_log_likelihood")
def check_gmm_log_likelihood(ns):
    """Check ``my_log_likelihood(x, weights, means, sigmas)``: total natural-log likelihood, finite
    for a far point.
    """
    from algos import gmm1d

    f = _function(ns, "my_log_likelihood")
    cases = _gmm_param_cases("gmm-log-likelihood")
    for case in cases:
        x, w, mu, s = (case.args[a] for a in ("x", "weights", "means", "sigmas"))
        expected = float(gmm1d.log_likelihood(x, w, mu, s))
        raw = _call("my_log_likelihood", f, case)
        if _is_numeric_array(raw) and np.shape(raw) == (len(x),):
            raise Failed(f"my_log_likelihood returned one value per point ({case.where}); return "
                         f"the total, their sum")
        got = _as_number("my_log_likelihood", raw, case, "the total log-likelihood")
        if np.isclose(got, expected, rtol=1e-9, atol=1e-9):
            continue
        dens = _densities(x, mu, s)
        hints = [
            (np.log10(dens @ w).sum(), "you used log10; the log-likelihood uses the natural log (np.log)"),
            (np.log(dens.sum(axis=1)).sum(), "each component's density must be multiplied by its weight"),
            (np.log(_densities(x, mu, np.sqrt(s)) @ w).sum(),
             "sigmas are standard deviations: the density uses sigma**2 as the variance"),
            (np.exp(expected), "you returned the likelihood; return its logarithm"),
            ((np.log(dens) * w).sum(), "take the log of the mixture density (after summing "
                                       "over the components), not a sum of logs"),
        ]
        hint = next((h for value, h in hints if np.isclose(got, value, rtol=1e-9)), "")
        if not np.isfinite(got):
            hint = _UNDERFLOW
        raise Failed(f"{case.where}: expected {expected:.12g}, your my_log_likelihood returned "
                     f"{got:.12g}" + (f"; {hint}" if hint else ""))
    return _pass("my_log_likelihood", "algos.gmm1d.log_likelihood", cases)


@_register("gmm-e-step", "gmm_em.ipynb", "my_e_step")
def check_gmm_e_step(ns):
    """Check ``my_e_step(x, weights, means, sigmas)``: (n, k) responsibilities, valid for a far
    point.
    """
    from algos import gmm1d

    f = _function(ns, "my_e_step")
    cases = _gmm_param_cases("gmm-e-step")
    for case in cases:
        x, w, mu, s = (case.args[a] for a in ("x", "weights", "means", "sigmas"))
        n, k = len(x), len(w)
        expected = np.asarray(gmm1d.e_step(x, w, mu, s))
        raw = _call("my_e_step", f, case)
        if _is_numeric_array(raw) and np.shape(raw) == (k, n) and n != k:
            raise Failed(f"my_e_step returned shape ({k}, {n}) ({case.where}); return one row per "
                         f"point and one column per component, shape ({n}, {k})")
        got = _as_array("my_e_step", raw, (n, k), case, "the responsibilities, one row per point")
        if _close(got, expected, rtol=1e-6, atol=1e-9):
            continue
        weighted = _densities(x, mu, s) * w
        hints = [
            (weighted, "each row must sum to 1: divide each point's weighted densities by their "
                       "total over the components"),
            (_densities(x, mu, s) / _densities(x, mu, s).sum(axis=1, keepdims=True),
             "multiply each component's density by its weight before normalising"),
            (weighted / weighted.sum(axis=0, keepdims=True),
             "you normalised each column (over the points); normalise each row (over the components)"),
        ]
        hint = next((h for value, h in hints if _close(got, value, rtol=1e-6)), "")
        if not np.isfinite(got).all() and np.isfinite(weighted).all() and (weighted.sum(axis=1) == 0).any():
            hint = _UNDERFLOW
        i = int(np.flatnonzero(~np.isclose(got, expected, rtol=1e-6, atol=1e-9).all(axis=1))[0])
        raise Failed(f"{case.where}: point {i} (x = {x[i]:.6g}) should have responsibilities "
                     f"{fmt(expected[i])}; yours are {fmt(got[i])}" + (f"; {hint}" if hint else ""))
    return _pass("my_e_step", "algos.gmm1d.e_step", cases)


_PARAMS = ("weights", "means", "sigmas")


@_register("gmm-m-step", "gmm_em.ipynb", "my_m_step")
def check_gmm_m_step(ns):
    """Check ``my_m_step(x, resp)``: ``(weights, means, sigmas)`` in that order.
    """
    from algos import gmm1d

    f = _function(ns, "my_m_step")
    rng = _rng("gmm-m-step")
    cases = [Case("the seed data", {"x": GMM_X, "resp": np.asarray(gmm1d.e_step(GMM_X, *GMM_INIT))},
                  show=True)]
    for n, k in [(40, 3), (25, 2)]:
        x, *_ = _random_mixture(rng, n, k)
        cases.append(Case(f"random data ({n} points, k = {k})",
                          {"x": x, "resp": rng.dirichlet(np.ones(k), size=n)}))
    for case in cases:
        x, resp = case.args["x"], case.args["resp"]
        k = resp.shape[1]
        expected = [np.asarray(p, dtype=float) for p in gmm1d.m_step(x, resp)]
        raw = _call("my_m_step", f, case)
        if not isinstance(raw, (tuple, list)) or len(raw) != 3:
            raise Failed(f"my_m_step should return three arrays (weights, means, sigmas); it "
                         f"returned {describe(raw)} ({case.where})")
        got = [_as_array("my_m_step", p, (k,), case, f"{name}, one per component")
               for p, name in zip(raw, _PARAMS)]
        if all(_close(g, e) for g, e in zip(got, expected)):
            continue
        for order in itertools.permutations(range(3)):
            if order != (0, 1, 2) and all(_close(got[i], expected[o]) for i, o in enumerate(order)):
                names = ", ".join(_PARAMS[o] for o in order)
                raise Failed(f"{case.where}: you returned ({names}); return them in the order "
                             f"(weights, means, sigmas)")
        wrong = [i for i in range(3) if not _close(got[i], expected[i])]
        nk = resp.sum(axis=0)
        if wrong == [2] and _close(got[2], expected[2] ** 2):
            hint = "; sigmas are standard deviations: take the square root of the weighted variance"
        elif wrong == [0] and _close(got[0], nk):
            hint = "; weights are N_k / n: divide each component's total responsibility by the number of points"
        else:
            hint = ""
        details = ", ".join(f"{_PARAMS[i]} {fmt(expected[i])} but yours are {fmt(got[i])}" for i in wrong)
        raise Failed(f"{case.where}: expected {details}{hint}")
    return _pass("my_m_step", "algos.gmm1d.m_step", cases)


@_register("gmm-responsibilities", "gmm_em.ipynb", "most_uncertain")
def check_gmm_responsibilities(ns):
    """Check ``most_uncertain``: 0-based index of the seed point whose first responsibilities are
    closest to 50/50.
    """
    from algos import gmm1d

    if "most_uncertain" not in ns:
        raise Missing("most_uncertain")
    value = ns["most_uncertain"]
    resp = np.asarray(gmm1d.e_step(GMM_X, *GMM_INIT))
    # Closest to 50/50: the smallest gap between the two responsibilities.
    expected = int(np.argmin(np.abs(resp[:, 0] - resp[:, 1])))
    try:
        number = float(np.asarray(value, dtype=float).reshape(()))
        is_index = number == int(number) and not isinstance(value, (bool, np.bool_, str, bytes))
    except Exception:
        is_index = False
    if not is_index:
        raise Failed(f"most_uncertain should be a whole-number index (for example from "
                     f"np.argmin); it is {describe(value)}")
    v = int(number)
    n = len(GMM_X)
    if v == expected:
        return (f"most_uncertain = {v}: x = {GMM_X[v]:.6g}, responsibilities "
                f"({resp[v, 0]:.3f}, {resp[v, 1]:.3f})")
    if not 0 <= v < n:
        extra = " (indices are 0-based here)" if v == n else ""
        raise Failed(f"most_uncertain = {v} is not an index of the {n} seed points (0 to {n - 1}){extra}")
    hint = ""
    if v == expected + 1:
        hint = "; indices are 0-based here (the seed printed 1-based labels)"
    elif GMM_X[expected] == v:
        hint = f"; is {v} the point's value rather than its index?"
    raise Failed(f"most_uncertain = {v} is the point x = {GMM_X[v]:.6g}, whose first-E-step "
                 f"responsibilities are ({resp[v, 0]:.3f}, {resp[v, 1]:.3f}); another seed point "
                 f"is closer to 50/50{hint}")
