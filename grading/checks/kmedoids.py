"""Checks of the K-medoids chapter's exercises (``book/kmedoids.ipynb``).

Expected answers: seed constants on the homework data (worked out in the comments), hand-made
ties, and ``algos.kmedoids`` (the book's reference, held by the grader's process only) on the
hidden random data.
"""

from __future__ import annotations

import numpy as np

from . import Case, Part, calls, check, written
from ._common import (CLUSTERING_REFERENCES, SEED000_X, Failed, as_array, as_indices, close,
                      describe, fmt, is_numeric, one_line, pairwise, random_labels)

CHAPTER = "kmedoids.ipynb"


# --- the medoid update ------------------------------------------------------------------------

def _judge_update(got, case):
    from algos import kmedoids

    X, labels, k, metric = (case.args[a] for a in ("X", "labels", "k", "metric"))
    if case.expected is not None:
        expected = np.asarray(case.expected)
    else:
        expected = np.asarray(kmedoids.m_step(X, labels, k, metric=metric, medoids_from="cluster"))
    if is_numeric(got) and np.shape(got) == (k, X.shape[1]) and close(got, X[expected]):
        raise Failed(f"my_medoid_update returned the medoids' coordinates ({case.where}); "
                     f"return their row indices in X, {fmt(expected)}")
    got = as_indices("my_medoid_update", got, (k,), case, "one row index per cluster", len(X))
    if np.array_equal(got, expected):
        return
    members = [np.flatnonzero(labels == j) for j in range(k)]
    cost = pairwise(X, X, metric)
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


@check("kmedoids-update", chapter=CHAPTER, names=["my_medoid_update"], points=3,
       references=CLUSTERING_REFERENCES)
def kmedoids_update(rng):
    """``my_medoid_update(X, labels, k, metric)``: each cluster's medoid, as a row index of X,
    chosen among the cluster's members.
    """
    case = calls("my_medoid_update", _judge_update, "X", "labels", "k", "metric")
    random = [case(f"random data ({n} points in 2-D, k = {k}, metric {metric!r})",
                   rng.normal(size=(n, 2)) * 3, random_labels(rng, n, k), k, metric, show=False)
              for n, k, metric in [(40, 3, "l2"), (30, 4, "l1")]]
    return [
        Part("the homework data", 1, [
            # l1 clusters {1, 3} and {0, 2}: both pairs tie (11 and 11, 6 and 6), so the lower
            # row index wins in each.
            case("the seed data", SEED000_X, np.array([1, 0, 1, 0]), 2, "l1", expected=[1, 0]),
            # l2 cluster {1, 2, 3}: (0, 0), row 2, has the smallest sum, sqrt(32) + sqrt(29);
            # cluster {0} is row 0 alone.
            case("the seed data", SEED000_X, np.array([1, 0, 0, 0]), 2, "l2", expected=[2, 0]),
        ]),
        # Both members of each cluster are equally good: the lower row index wins.
        Part("a tie", 1, [case("a tie", np.array([[0.0, 0.0], [10.0, 10.0], [2.0, 0.0], [12.0, 10.0]]),
                               np.array([0, 1, 0, 1]), 2, "l2", expected=[0, 1])]),
        Part("hidden random data", 1, random),
    ]


# --- the candidate costs ----------------------------------------------------------------------

def _judge_costs(got, case):
    P, metric = case.args["P"], case.args["metric"]
    m = len(P)
    expected = np.asarray(case.expected if case.expected is not None
                          else pairwise(P, P, metric).sum(axis=1), dtype=float)
    if is_numeric(got) and np.shape(got) == (m, m) and m > 1:
        raise Failed(f"my_candidate_costs returned the ({m}, {m}) distance matrix "
                     f"({case.where}); return one number per row of P, the sum of its row")
    got = as_array("my_candidate_costs", got, (m,), case, "one cost per row of P")
    if close(got, expected):
        return
    other = "l2" if metric == "l1" else "l1"
    hints = [
        ((pairwise(P, P, metric) ** 2).sum(axis=1),
         "you added squared distances; K-medoids adds plain distances"),
        (pairwise(P, P, other).sum(axis=1),
         f"you used the {other} distance, but this call asked for metric={metric!r}"),
        (expected / m, "you averaged the distances; the cost is their sum"),
    ]
    hint = next((h for value, h in hints if close(got, value)), "")
    i = int(np.flatnonzero(~np.isclose(got, expected, rtol=1e-7, atol=1e-9))[0])
    raise Failed(f"{case.where}: row {i} of P, {fmt(P[i])}, has total {metric} distance "
                 f"{expected[i]:.6g} to all rows; your my_candidate_costs gave {got[i]:.6g}"
                 + (f"; {hint}" if hint else ""))


@check("kmedoids-tie", chapter=CHAPTER, names=["my_candidate_costs"], points=3,
       references=CLUSTERING_REFERENCES)
def kmedoids_tie(rng):
    """``my_candidate_costs(P, metric)``: each row's sum of (unsquared) distances to all rows."""
    case = calls("my_candidate_costs", _judge_costs, "P", "metric")
    r = np.sqrt
    random = [case(f"random data ({m} points in 2-D, metric {metric!r})",
                   rng.normal(size=(m, 2)) * 2, metric, show=False)
              for m, metric in [(15, "l2"), (12, "l1")]]
    return [
        Part("the homework data", 1, [
            # l1 distances of (0, -6), (4, 4), (0, 0), (-5, 2): 14, 6, 13 from the first,
            # 8, 11 from the second, 7 between the last two.
            case("the seed data", SEED000_X, "l1", expected=[33.0, 33.0, 21.0, 31.0]),
            # the same pairs in l2: sqrt(116), 6, sqrt(89), sqrt(32), sqrt(85), sqrt(29)
            case("the seed data", SEED000_X, "l2",
                 expected=[r(116) + 6 + r(89), r(116) + r(32) + r(85), 6 + r(32) + r(29),
                  r(89) + r(85) + r(29)]),
        ]),
        Part("ties", 1, [
            case("the seed's l1 cluster {(4, 4), (-5, 2)}", SEED000_X[[1, 3]], "l1",
                 expected=[11.0, 11.0]),
            case("four points on a line",
                 np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]), "l1",
                 expected=[6.0, 4.0, 4.0, 6.0]),
        ]),
        Part("hidden random data", 1, random),
    ]


# --- when the two rules differ ------------------------------------------------------------------

#: Larger data sets are refused: the grader runs algos.kmedoids.fit on them twice.
_MAX_POINTS = 500


def _rules_data(value_X, value_init):
    """differ_X and differ_init as arrays, or :class:`Failed` saying what is wrong."""
    if not is_numeric(value_X):
        raise Failed(f"differ_X should be an (n, 2) array of numbers; it is {describe(value_X)}")
    X = np.asarray(value_X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2 or not 2 <= len(X) <= _MAX_POINTS:
        raise Failed(f"differ_X should be an (n, 2) array of 2 to {_MAX_POINTS} points; it has "
                     f"shape {X.shape}")
    if not np.isfinite(X).all():
        raise Failed("differ_X contains NaN or inf")
    ok = is_numeric(value_init)
    if ok:
        init = np.asarray(value_init, dtype=float)
        ok = init.ndim == 1 and init.size >= 1 and bool(np.all(init == np.round(init)))
    if not ok:
        raise Failed(f"differ_init should be a list of k row indices of differ_X; it is "
                     f"{describe(value_init)}")
    init = init.astype(int)
    if init.min() < 0 or init.max() >= len(X) or len(np.unique(init)) != len(init):
        raise Failed(f"differ_init = {fmt(init)} should hold k different row indices of differ_X, "
                     f"from 0 to {len(X) - 1}")
    return X, init


def _final_medoids(X, init):
    from algos import kmedoids

    results = {}
    for rule in ("all", "cluster"):
        try:
            res = kmedoids.fit(X, k=len(init), init=init, medoids_from=rule)
        except (ValueError, TypeError) as exc:
            raise Failed(f"algos.kmedoids.fit rejected differ_X / differ_init: {one_line(exc)}") from None
        results[rule] = np.unique(np.asarray(res.medoids), axis=0)
    return results


def _judge_differ(got, case, *, k=None):
    X, init = _rules_data(*got)
    ends = _final_medoids(X, init)
    where = f"with differ_X = {fmt(X)} and differ_init = {fmt(init)} (metric 'l2')"
    if close(ends["all"], ends["cluster"]):
        raise Failed(f"{where} both rules end with the same medoids {fmt(ends['all'])}; look for "
                     f"a cluster whose best centre is a point outside it")
    if k is not None and len(init) != k:
        raise Failed(f"your data make the rules differ with k = {len(init)}; the exercise asks "
                     f"for k = {k} (three starting indices in differ_init)")


@check("kmedoids-rules-differ", chapter=CHAPTER, names=["differ_X", "differ_init"], points=3,
       manual=1)
def kmedoids_rules_differ(rng):
    """``differ_X`` and ``differ_init``: data on which ``algos.kmedoids.fit`` (metric l2) ends
    with different medoids for ``medoids_from="all"`` and ``"cluster"``, with k = 3; and a
    sentence on what the data have in common with the chapter's example (for the teacher).
    """
    def case(judge):
        return Case("your data", {}, judge, value=("differ_X", "differ_init"))

    return [
        Part("the two rules end with different medoids", 2, [case(_judge_differ)]),
        Part("with k = 3, as asked", 1, [case(lambda got, c: _judge_differ(got, c, k=3))]),
    ]


# --- an outsider is at most twice as good (derive) ------------------------------------------

written("kmedoids-within-twice", chapter=CHAPTER, points=2)


# --- how many copies break the medoid (analyse) ---------------------------------------------

#: The chapter's far point and its group B: ``rng = np.random.default_rng(11)`` draws group A,
#: then group B (section "K-means and K-medoids with far outliers").
_FAR_POINT = np.array([17.0, 12.0])


def _group_b():
    rng = np.random.default_rng(11)
    rng.normal([0.0, 0.0], 0.7, size=(30, 2))  # group A, drawn first
    return rng.normal([5.0, 0.0], 0.7, size=(30, 2))


def _medoid_is_a_copy(group, m):
    """True when the medoid (l2, ties to the lowest row) of group + m copies is a copy."""
    P = np.vstack([group, np.tile(_FAR_POINT, (m, 1))])
    return int(np.argmin(pairwise(P, P, "l2").sum(axis=1))) >= len(group)


def breakdown_copies_expected():
    """The smallest number of copies of the far point that makes one of them the medoid."""
    group = _group_b()
    return next(m for m in range(1, 10 * len(group)) if _medoid_is_a_copy(group, m))


def _judge_breakdown(got, case):
    if isinstance(got, (bool, np.bool_)) or not is_numeric(got) or np.size(got) != 1:
        raise Failed(f"breakdown_copies should be one whole number of copies; it is "
                     f"{describe(got)}")
    value = float(np.asarray(got, dtype=float).reshape(()))
    if value != round(value):
        raise Failed(f"breakdown_copies should be a whole number of copies; it is {value:g}")
    m, expected = int(round(value)), case.expected
    if m == expected:
        return
    if m == expected - 1:
        hint = (f"; with {m} copies group B's best point still costs less (a tie goes to group "
                f"B, whose rows come first)")
    elif m == expected + 1:
        hint = f"; {m - 1} copies already make a copy the medoid"
    elif m < 1:
        hint = "; count the copies, at least 1"
    else:
        hint = ""
    raise Failed(f"with group B (30 points) and m copies of (17, 12), the medoid first becomes "
                 f"a copy at m = {expected}; you gave {m}{hint}")


@check("kmedoids-breakdown", chapter=CHAPTER, names=["breakdown_copies"], points=2, manual=1)
def kmedoids_breakdown(rng):
    """``breakdown_copies``: how many copies of a far point it takes to move the medoid of the
    chapter's group B onto one of them (30: half the points); and a sentence comparing it with
    the mean (for the teacher).
    """
    return [Part("the number of copies", 2,
                 [Case("group B and copies of (17, 12)", {}, _judge_breakdown,
                       value="breakdown_copies", expected=breakdown_copies_expected())])]


# --- one PAM swap (extend) ------------------------------------------------------------------

def _swap_costs(D, medoids):
    """J of every single swap: {(position, row): J}, every point at its nearest medoid."""
    out = {}
    for p in range(len(medoids)):
        for x in range(D.shape[0]):
            if x in medoids:
                continue
            trial = medoids.copy()
            trial[p] = x
            out[p, x] = float(D[:, trial].min(axis=1).sum())
    return out


def _judge_swap(got, case):
    X, medoids, metric = (case.args[a] for a in ("X", "medoids", "metric"))
    medoids = np.asarray(medoids, dtype=int)
    k, n = len(medoids), len(X)
    got = as_indices("my_best_swap", got, (k,), case, "k row indices of X, the new medoids", n)
    D = pairwise(X, X, metric)
    J0 = float(D[:, medoids].min(axis=1).sum())
    swaps = _swap_costs(D, medoids)
    (p_best, x_best), J_best = min(swaps.items(), key=lambda item: item[1])
    tol = 1e-9 * max(J0, 1.0)
    improves = J_best < J0 - tol
    changed = np.flatnonzero(got != medoids)
    if len(set(got.tolist())) < k:
        raise Failed(f"{case.where}: my_best_swap returned {fmt(got)}, with a row twice; the "
                     f"k medoids are different rows")
    if not improves:
        if changed.size:
            J_got = float(D[:, got].min(axis=1).sum())
            raise Failed(f"{case.where}: no swap lowers J = {J0:.6g} (the best swap gives "
                         f"{J_best:.6g}), so the medoids {fmt(medoids)} should come back "
                         f"unchanged; yours, {fmt(got)}, give J = {J_got:.6g}")
        return
    if changed.size == 0:
        raise Failed(f"{case.where}: a swap lowers J from {J0:.6g} to {J_best:.6g} (for "
                     f"example row {x_best} in place of medoid {p_best}, row "
                     f"{medoids[p_best]}); you returned the medoids unchanged")
    if changed.size > 1:
        raise Failed(f"{case.where}: one swap replaces one medoid, but you changed the "
                     f"positions {fmt(changed)} of {fmt(medoids)} (got {fmt(got)}); keep every "
                     f"other medoid at its position")
    J_got = float(D[:, got].min(axis=1).sum())
    if J_got <= J_best + tol:
        return
    raise Failed(f"{case.where}: the best swap gives J = {J_best:.6g} (row {x_best} in place "
                 f"of medoid {p_best}); yours, {fmt(got)}, gives {J_got:.6g} with every point "
                 f"at its nearest medoid. Did you reassign every point after the swap, and use "
                 f"the plain {metric} distance?")


@check("kmedoids-swap", chapter=CHAPTER, names=["my_best_swap"], points=3,
       references=CLUSTERING_REFERENCES)
def kmedoids_swap(rng):
    """``my_best_swap(X, medoids, metric)``: the medoids after the best single PAM swap, or
    the same medoids when no swap lowers J.
    """
    case = calls("my_best_swap", _judge_swap, "X", "medoids", "metric")
    random = [case(f"random data ({n} points in 2-D, k = {k}, metric {metric!r})",
                   rng.normal(size=(n, 2)) * 3, rng.choice(n, size=k, replace=False), metric,
                   show=False)
              for n, k, metric in [(30, 3, "l2"), (25, 2, "l1")]]
    return [
        # l1 from the homework's start (-5, 2), (0, -6): J = 17; (0, 0) in for (0, -6)
        # gives 14 (the reversed-order optimum), every other swap 15 or more.
        Part("the homework data", 1, [case("the seed data", SEED000_X, np.array([3, 0]), "l1")]),
        # two tight pairs, one medoid in each: every swap ties (J = 2) or is worse.
        Part("a local optimum", 1, [case("two pairs", np.array(
            [[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0]]), np.array([0, 2]), "l2")]),
        Part("hidden random data", 1, random),
    ]
