"""Checks of the K-means chapter's exercises (``book/kmeans.ipynb``).

Expected answers: seed constants on the homework data (worked out in the comments), hand-made
ties, ``algos.kmeans`` (the book's reference, held by the grader's process only) on the
hidden random data, probabilities worked out by hand for the k-means++ start, and the
chapter's eight-group data for the analysis of restarts.
"""

from __future__ import annotations

import functools

import numpy as np

from . import Case, Part, calls, check, written
from ._common import (CLUSTERING_REFERENCES, SEED000_CENTERS, SEED000_X, SEED001_LABELS,
                      SEED001_X, Failed, as_array, as_number, close, describe, fmt, is_numeric,
                      pairwise, random_labels)

CHAPTER = "kmeans.ipynb"


# --- the E-step -------------------------------------------------------------------------------

def _judge_e_step(got, case):
    from algos import kmeans

    X, centers = case.args["X"], case.args["centers"]
    n, k = len(X), len(centers)
    expected = case.expected if case.expected is not None else kmeans.e_step(X, centers)
    expected = np.asarray(expected)
    if is_numeric(got) and np.shape(got) == (n, k) and set(np.unique(np.asarray(got))) <= {0, 1}:
        raise Failed(f"my_e_step returned a ({n}, {k}) one-hot matrix ({case.where}), like "
                     f"the five-point homework's E_step (seed 001); return one label per point, shape ({n},) "
                     f"(np.argmin over the centres)")
    got = as_array("my_e_step", got, (n,), case, "one label per point")
    if np.array_equal(got, expected):
        return
    dist = pairwise(X, centers, "l2")
    if np.array_equal(got, expected + 1):
        hint = "; your labels look 1-based, but clusters are numbered from 0 (np.argmin gives that)"
    elif np.array_equal(got, np.argmax(dist, axis=1)):
        hint = "; you picked the farthest centre instead of the nearest"
    elif np.array_equal(got, np.argmin(pairwise(X, centers, "l1"), axis=1)):
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


@check("kmeans-e-step", chapter=CHAPTER, names=["my_e_step"], points=3,
       references=CLUSTERING_REFERENCES)
def kmeans_e_step(rng):
    """``my_e_step(X, centers)``: the index of each point's nearest centre (Euclidean)."""
    case = calls("my_e_step", _judge_e_step, "X", "centers")
    random = []
    for n, d, k in [(60, 2, 3), (40, 3, 5)]:
        random.append(case(f"random data ({n} points in {d}-D, {k} centres)",
                           rng.normal(size=(n, d)) * 3, rng.normal(size=(k, d)) * 3, show=False))
    return [
        Part("the homework data", 1, [
            # (0, -6) is centre 1 itself; (4, 4), (0, 0), (-5, 2) have squared distances
            # 85 < 116, 29 < 36 and 0 to centre 0.
            case("seed 000's four points", SEED000_X, SEED000_CENTERS, expected=[1, 0, 0, 0]),
            case("seed 001's five points, started at its first and last point",
                 SEED001_X, SEED001_X[[0, 4]], expected=[0, 0, 0, 1, 1]),
        ]),
        # (1, 0) and (1, 1) are as far from centre 1, (0, 0), as from centre 2, (2, 0).
        Part("a tie", 1, [case("a tie", np.array([[1.0, 0.0], [1.0, 1.0], [5.0, 5.0], [2.0, 0.5]]),
                               np.array([[5.0, 5.0], [0.0, 0.0], [2.0, 0.0]]), expected=[1, 1, 0, 2])]),
        Part("hidden random data", 1, random),
    ]


# --- the M-step -------------------------------------------------------------------------------

def _judge_m_step(got, case):
    from algos import kmeans

    X, labels, k = case.args["X"], case.args["labels"], case.args["k"]
    d = X.shape[1]
    expected = case.expected if case.expected is not None else kmeans.m_step(X, labels, k)
    expected = np.asarray(expected, dtype=float)
    if is_numeric(got) and np.shape(got) == (d, k) and close(np.asarray(got, dtype=float).T, expected):
        raise Failed(f"my_m_step returned the centres as columns ({case.where}); return one "
                     f"row per cluster, shape ({k}, {d}): row j is the mean of cluster j")
    got = as_array("my_m_step", got, (k, d), case, "one centre per row")
    if close(got, expected):
        return
    counts = np.bincount(labels, minlength=k)
    sums = np.array([X[labels == j].sum(axis=0) for j in range(k)])
    if close(got, sums):
        raise Failed(f"{case.where}: you returned the sum of each cluster's points; the "
                     f"M-step takes their mean (divide by the number of points in the "
                     f"cluster): expected {fmt(expected)}, got {fmt(got)}")
    if close(got, np.broadcast_to(X.mean(axis=0), (k, d))):
        raise Failed(f"{case.where}: every centre you returned is the mean of all the points, "
                     f"{fmt(got[0])}; centre j is the mean of the points labelled j only "
                     f"(X[labels == j]), expected {fmt(expected)}")
    j = int(np.flatnonzero(~np.isclose(got, expected, rtol=1e-7, atol=1e-9).all(axis=1))[0])
    raise Failed(f"{case.where}: centre {j} should be the mean of the {counts[j]} points "
                 f"labelled {j}, {fmt(expected[j])}; yours is {fmt(got[j])}")


@check("kmeans-m-step", chapter=CHAPTER, names=["my_m_step"], points=3,
       references=CLUSTERING_REFERENCES)
def kmeans_m_step(rng):
    """``my_m_step(X, labels, k)``: the mean of each cluster, one row per cluster."""
    case = calls("my_m_step", _judge_m_step, "X", "labels", "k")
    random = []
    for n, d, k in [(60, 2, 3), (40, 3, 5)]:
        random.append(case(f"random data ({n} points in {d}-D, k = {k})",
                           rng.normal(size=(n, d)) * 3 + 1, random_labels(rng, n, k), k, show=False))
    return [
        # (1 + 2 + 3) / 3 = 2, (2 + 3 + 4) / 3 = 3; (8 + 9) / 2 = 8.5, (9 + 10) / 2 = 9.5
        Part("seed 001's points", 1, [case("seed 001's points", SEED001_X, SEED001_LABELS, 2,
                                           expected=[[2.0, 3.0], [8.5, 9.5]])]),
        # cluster 0 = (4, 4), (0, 0), (-5, 2): mean (-1/3, 2); cluster 1 = (0, -6) alone
        Part("the homework data", 1, [case("the seed data", SEED000_X, np.array([1, 0, 0, 0]), 2,
                                           expected=[[-1 / 3, 2.0], [0.0, -6.0]])]),
        Part("hidden random data", 1, random),
    ]


# --- the objective ------------------------------------------------------------------------------

def _judge_objective(got, case):
    from algos import kmeans

    X, labels, centers = case.args["X"], case.args["labels"], case.args["centers"]
    expected = case.expected if case.expected is not None else float(kmeans.objective(X, labels, centers))
    per_point = ((X - centers[labels]) ** 2).sum(axis=1)
    if is_numeric(got) and np.shape(got) == (len(X),):
        raise Failed(f"my_objective returned one value per point ({case.where}); return one "
                     f"number, their sum, {expected:.6g}")
    got = as_number("my_objective", got, case, "the sum of squared distances")
    if np.isclose(got, expected, rtol=1e-9, atol=1e-9):
        return
    dist = np.sqrt(per_point)
    nearest = pairwise(X, centers, "l2").min(axis=1) ** 2
    hints = [
        (dist.sum(), "you added the distances; the K-means objective adds their squares"),
        (np.sqrt(expected), "you took a square root; the objective is the plain sum of squared distances"),
        (per_point.mean(), "you averaged over the points; the objective is their sum"),
        (nearest.sum(), "you used each point's nearest centre; use its own centre, centers[labels[i]]"),
    ]
    hint = next((h for value, h in hints if np.isclose(got, value, rtol=1e-9)), "")
    raise Failed(f"{case.where}: expected {expected:.6g}, your my_objective returned "
                 f"{got:.6g}" + (f"; {hint}" if hint else ""))


@check("kmeans-objective", chapter=CHAPTER, names=["my_objective"], points=2,
       references=CLUSTERING_REFERENCES)
def kmeans_objective(rng):
    """``my_objective(X, labels, centers)``: squared distances to each point's own centre, summed."""
    case = calls("my_objective", _judge_objective, "X", "labels", "centers")
    random = []
    for n, d, k in [(50, 2, 3), (30, 3, 4)]:
        # Labels drawn at random, not the nearest centre: the objective must use each point's
        # own centre.
        random.append(case(f"random data ({n} points in {d}-D, k = {k}, labels not the nearest "
                           f"centre)", rng.normal(size=(n, d)) * 2, random_labels(rng, n, k),
                           rng.normal(size=(k, d)) * 2, show=False))
    return [
        Part("the homework data", 1, [
            # 0 for (0, -6) on centre 1; 9^2 + 2^2 = 85, 5^2 + 2^2 = 29 and 0 to centre 0
            case("the seed data", SEED000_X, np.array([1, 0, 0, 0]), SEED000_CENTERS, expected=114.0),
            # 1 + 1, 0, 1 + 1 for the first cluster, 0.25 + 0.25 twice for the second
            case("seed 001's points", SEED001_X, SEED001_LABELS, np.array([[2.0, 3.0], [8.5, 9.5]]),
                 expected=5.0),
        ]),
        Part("hidden random data", 1, random),
    ]


written("kmeans-mean-minimises", chapter=CHAPTER, points=2)


# --- the k-means++ start ------------------------------------------------------------------------

#: x = 0, 1, 3 on a line, k = 2. The first pick is uniform (1/3 each); the second is drawn with
#: probability proportional to the squared distance to the first: after 0 the weights of 1 and 3
#: are 1 and 9, after 1 they are 1 (for 0) and 4 (for 3), after 3 they are 9 and 4.
PP_LINE = np.array([[0.0], [1.0], [3.0]])
PP_PAIRS = {(0, 1): 1 / 30, (0, 2): 9 / 30, (1, 0): 1 / 15, (1, 2): 4 / 15,
            (2, 0): 9 / 39, (2, 1): 4 / 39}
#: The same with plain (not squared) distances and with uniform picks: known mistakes.
PP_PAIRS_DISTANCE = {(0, 1): 1 / 12, (0, 2): 3 / 12, (1, 0): 1 / 9, (1, 2): 2 / 9,
                     (2, 0): 3 / 15, (2, 1): 2 / 15}
PP_PAIRS_UNIFORM = dict.fromkeys(PP_PAIRS, 1 / 6)
PP_SEEDS = 600
#: Chi-square (5 degrees of freedom) above which the picks are refused: a correct k-means++
#: exceeds it with probability about 1e-6, so a right answer fails about once in a million.
PP_CHI2_LIMIT = 35.9


def _indices(name, got, n, k, case):
    """The result as k distinct integer row indices of an n-row X, or Failed."""
    got = as_array(name, got, (k,), case, f"{k} row indices")
    if not np.all(np.isfinite(got)) or not np.all(got == np.round(got)):
        raise Failed(f"{name} should return whole-number row indices ({case.where}); it "
                     f"returned {fmt(got)}")
    idx = got.astype(int)
    if idx.min() < 0 or idx.max() >= n:
        raise Failed(f"{name} returned {fmt(idx)} ({case.where}): row indices of X go from 0 "
                     f"to {n - 1}")
    if len(set(idx.tolist())) < k:
        raise Failed(f"{name} returned the same row twice, {fmt(idx)} ({case.where}): a chosen "
                     f"row has squared distance 0 to the chosen rows, so it is never drawn again")
    return idx


def _judge_pp_valid(got, case):
    _indices("my_kmeans_pp", got, len(case.args["X"]), case.args["k"], case)


def _judge_pp_groups(got, case):
    idx = _indices("my_kmeans_pp", got, len(case.args["X"]), case.args["k"], case)
    groups = sorted((idx // case.expected).tolist())
    if groups != list(range(case.args["k"])):
        raise Failed(f"{case.where}: the {case.args['k']} groups are far apart, so k-means++ "
                     f"puts one start in each (a group already chosen has tiny squared "
                     f"distances); your picks {fmt(idx)} fall in groups {groups}")


def _pp_distribution(seeds):
    """A judge for each of ``seeds`` calls on PP_LINE; the last one judges the frequencies."""
    counts = dict.fromkeys(PP_PAIRS, 0)

    def judge(got, case):
        idx = _indices("my_kmeans_pp", got, 3, 2, case)
        counts[tuple(idx.tolist())] += 1
        if case.args["seed"] != seeds[-1]:
            return
        n = sum(counts.values())
        chi2 = sum((counts[p] - n * q) ** 2 / (n * q) for p, q in PP_PAIRS.items())
        if chi2 <= PP_CHI2_LIMIT:
            return

        def fit(model):
            return sum((counts[p] - n * q) ** 2 / (n * q) for p, q in model.items())

        hint = ""
        if fit(PP_PAIRS_DISTANCE) < PP_CHI2_LIMIT:
            hint = ("; these look like probabilities proportional to the distance: k-means++ "
                    "uses the squared distance")
        elif fit(PP_PAIRS_UNIFORM) < PP_CHI2_LIMIT:
            hint = "; these look like uniform picks: weight each row by its squared distance"
        first = {i: sum(c for p, c in counts.items() if p[0] == i) / n for i in range(3)}
        if max(first.values()) > 0.5:
            hint += "; is the first row drawn uniformly?"
        seen = ", ".join(f"{p}: {counts[p] / n:.3f}" for p in PP_PAIRS)
        want = ", ".join(f"{p}: {q:.3f}" for p, q in PP_PAIRS.items())
        raise Failed(f"on X = [[0], [1], [3]] with k = 2 over seeds 0 to {n - 1}, the pairs "
                     f"(first, second) came up with frequencies {seen}; k-means++ gives them "
                     f"probabilities {want}{hint}")

    return judge


@check("kmeans-plus-plus", chapter=CHAPTER, names=["my_kmeans_pp"], points=3,
       references=CLUSTERING_REFERENCES)
def kmeans_plus_plus(rng):
    """``my_kmeans_pp(X, k, seed)``: row indices of a k-means++ start, judged by its properties
    and by its distribution over many seeds (not by matching one random draw)."""
    case = calls("my_kmeans_pp", _judge_pp_valid, "X", "k", "seed")
    groups = calls("my_kmeans_pp", _judge_pp_groups, "X", "k", "seed")
    seeds = list(range(PP_SEEDS))
    line = calls("my_kmeans_pp", _pp_distribution(seeds), "X", "k", "seed")
    m = 30  # points per group; groups 1000 apart, spread 1
    far = np.concatenate([rng.normal(size=(m, 2)) + [1000.0 * g, 0.0] for g in range(4)])
    valid = [case(f"random data ({n} points in {d}-D, k = {k}, seed {s})",
                  rng.normal(size=(n, d)), k, s, show=False)
             for n, d, k, s in [(50, 2, 5, 0), (20, 3, 20, 1), (7, 1, 1, 2)]]
    return [
        Part("valid, distinct row indices", 1, valid),
        Part("one start in each of four far-apart groups", 1,
             [groups(f"four groups of {m} points 1000 apart (k = 4, seed {s})", far, 4, s,
                     expected=m, show=False) for s in range(10)]),
        Part(f"the distribution of the picks over {PP_SEEDS} seeds", 1,
             [line(f"X = [[0], [1], [3]], k = 2, seed {s}", PP_LINE, 2, s, show=False)
              for s in seeds]),
    ]


# --- how many restarts? -------------------------------------------------------------------------

def eight_groups():
    """The chapter's ``X8``: eight tight groups in four pairs (``blobs`` with seed 1)."""
    centers = np.array([[0, 0], [2.5, 0], [0, 6], [2.5, 6], [8, 0], [10.5, 0], [8, 6],
                        [10.5, 6]], dtype=float)
    noise = 0.5 * np.random.default_rng(1).standard_normal((8, 40, 2))
    return (centers[:, None, :] + noise).reshape(-1, 2)


@functools.lru_cache(maxsize=None)
def _share_best():
    """(share of 100 random starts within 0.1 of the best objective, their objectives),
    computed once per process: every notebook of a class asks the same question."""
    from algos import kmeans

    J = np.array([kmeans.fit(eight_groups(), k=8, init="random", seed=s).objective
                  for s in range(100)])
    J.setflags(write=False)  # shared by every call
    return float(np.mean(J <= J.min() + 0.1)), J


def _judge_share_best(value, case):
    expected, J = _share_best()
    if not is_numeric(value) or np.ndim(value) != 0 or not np.isfinite(float(value)):
        raise Failed(f"share_best should be one number, a fraction between 0 and 1; it is "
                     f"{describe(value)}")
    v = float(value)
    if abs(v - expected) <= 0.005:
        return
    hint = ""
    if abs(v - 100 * expected) <= 0.5:
        hint = ("; that looks like a percentage (or a count of the 100 runs): give the "
                "fraction, between 0 and 1")
    elif any(abs(v - np.mean(J[:m] <= J[:m].min() + 0.1)) <= 0.005 for m in (10, 30, 50)):
        hint = "; use the 100 seeds 0 to 99"
    raise Failed(f"share_best = {v:.6g}, but {np.sum(J <= J.min() + 0.1)} of the 100 runs "
                 f"(seeds 0 to 99 on X8) end within 0.1 of the smallest objective, "
                 f"{J.min():.6g}{hint}")


@check("kmeans-local-optima", chapter=CHAPTER, names=["share_best"], points=1, manual=2)
def kmeans_local_optima(rng):
    """``share_best``: the fraction of 100 random starts on the chapter's X8 that reach the
    best objective; and a written explanation with the number of restarts (for the teacher)."""
    return [Part("the chapter's eight groups", 1,
                 [Case("the chapter's X8", {}, _judge_share_best, value="share_best")])]
