"""algos.kmeans: behaviour that mutation testing found unchecked (see tests/mutation/)."""

from __future__ import annotations

import ast
import inspect
import re

import numpy as np
import pytest

from algos import gmm, gmm1d, kmeans, kmedoids


def hamerly_reference(X, C, previous):
    """Hamerly's bounds as ``kmeans._hamerly_assign`` documents them, written out plainly.

    ``previous`` is None or (labels, upper, lower, centres, lo, hi, margin) of the last call.
    Returns the same seven things after this call: a point keeps its label and its moved
    bounds when ``upper < max(lower, s_a)``; otherwise ``upper`` becomes its exact distance
    plus half the margin, and if the test still fails every distance is computed.
    """
    D = np.sqrt(((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2))
    rows = np.arange(X.shape[0])
    lo = np.minimum(X.min(axis=0), C.min(axis=0))
    hi = np.maximum(X.max(axis=0), C.max(axis=0))
    if previous is None:
        margin = kmeans.MARGIN * np.linalg.norm(hi - lo)
        labels = D.argmin(axis=1)
        others = D.copy()
        others[rows, labels] = np.inf
        return labels, D[rows, labels] + margin / 2, others.min(axis=1) - margin / 2, C.copy(), lo, hi, margin
    labels, upper, lower, C_old, lo_old, hi_old, margin = (np.array(a, copy=True) for a in previous)
    lo, hi = np.minimum(lo_old, C.min(axis=0)), np.maximum(hi_old, C.max(axis=0))
    widen = max(kmeans.MARGIN * np.linalg.norm(hi - lo) - margin, 0.0)
    margin = margin + widen
    shift = np.linalg.norm(C - C_old, axis=1)
    upper = upper + shift[labels] + widen / 2
    lower = lower - shift.max() - widen / 2
    gaps = np.linalg.norm(C[:, None, :] - C[None, :, :], axis=2)
    np.fill_diagonal(gaps, np.inf)
    bound = np.maximum(0.5 * gaps.min(axis=1)[labels] - margin / 2, lower)
    check = upper >= bound
    upper[check] = D[rows, labels][check] + margin / 2
    full = check & (upper >= bound)
    new = D.argmin(axis=1)
    others = D.copy()
    others[rows, new] = np.inf
    labels[full] = new[full]
    upper[full] = D[rows, new][full] + margin / 2
    lower[full] = others.min(axis=1)[full] - margin / 2
    return labels, upper, lower, C.copy(), lo, hi, margin


def test_hamerly_bounds_follow_the_documented_update_rule():
    # Centres that move a little every call (some far, leaving the box, so the margin widens):
    # the labels and both bounds of every point are those of the rule, to rounding. A looser
    # bound would still give the right labels, only slower; this checks the bounds themselves.
    rng = np.random.default_rng(21)
    X = np.concatenate([rng.normal(c, 0.6, size=(60, 2)) for c in ([0, 0], [4, 1], [1, 5])])
    C = X[[0, 60, 120]] + 0.5
    labels, state = kmeans.e_step_bounded(X, C)
    ref = hamerly_reference(X, C, None)
    for step in range(8):
        np.testing.assert_array_equal(labels, ref[0])
        np.testing.assert_allclose(state.upper, ref[1], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(state.lower, ref[2], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose([state.margin], [ref[6]], rtol=1e-12)
        np.testing.assert_array_equal(state.lo, ref[4])
        np.testing.assert_array_equal(state.hi, ref[5])
        move = rng.normal(scale=0.4 if step != 4 else 6.0, size=C.shape)
        C = C + move
        labels, state = kmeans.e_step_bounded(X, C, state)
        ref = hamerly_reference(X, C, ref)


@pytest.mark.parametrize("function", [kmeans.fit, kmeans.e_step, kmeans.objective, kmedoids.fit, kmedoids.m_step,
                                      gmm1d.fit, gmm.fit, gmm.m_step])
def test_documented_defaults_are_the_real_defaults(function):
    # "name : type, default VALUE" in the numpydoc Parameters section is what the signature says
    documented = dict(re.findall(r"^(\w+) : .*, default (.+)$", inspect.getdoc(function), flags=re.M))
    assert documented, "no documented default found"
    signature = inspect.signature(function).parameters
    for name, value in documented.items():
        assert signature[name].default == ast.literal_eval(value), name


# --------------------------------------------------------------------------- fit and the l1 engine

# Four points in two pairs; the start puts both centres in the left pair.
PAIRS = np.array([[0.0, 0.0], [1.0, 0.0], [9.0, 9.0], [10.0, 9.0]])


def test_l1_fit_stops_at_the_fixed_point_e_step():
    """An "l1" run ends with the E-step that changes no label (rule 1), not with an M-step.

    Catches an engine that never reports "unchanged" for l1 (the run then stops one M-step
    later by the tol rule). By hand (Manhattan distances): E1 gives [0, 1, 1, 1], M1 moves the
    centres to (0, 0) and (20/3, 6), E2 gives [0, 0, 1, 1], M2 to (0.5, 0) and (9.5, 9), E3
    changes nothing; each point is 0.5 from its centre.
    """
    res = kmeans.fit(PAIRS, k=2, init=PAIRS[[0, 1]], metric="l1")
    assert [s.kind for s in res.history] == ["init", "E", "M", "E", "M", "E"]
    assert res.converged is True and res.n_iter == 3
    assert res.history[1].labels.tolist() == [0, 1, 1, 1]
    np.testing.assert_allclose(res.history[2].centers, [[0.0, 0.0], [20 / 3, 6.0]], rtol=1e-15)
    np.testing.assert_array_equal(res.centers, [[0.5, 0.0], [9.5, 9.0]])
    assert res.labels.tolist() == [0, 0, 1, 1]
    assert res.objective == 2.0 and res.history[-2].objective == 2.0


def test_l1_empty_cluster_keeps_its_centre_and_is_listed():
    """With "l1", a centre that gets no point stays where it is and ``empty`` names it.

    Catches an l1 M-step that forgets the previous centres (the empty cluster's centre would
    become 0) or an engine that loses the cluster sizes (``empty`` would be ()). By hand: both
    points are nearer (0.5, 0) than (10, 10), the mean is (0.5, 0) again, E2 changes nothing.
    """
    X = np.array([[0.0, 0.0], [1.0, 0.0]])
    start = np.array([[0.5, 0.0], [10.0, 10.0]])
    res = kmeans.fit(X, k=2, init=start, metric="l1")
    assert [s.kind for s in res.history] == ["init", "E", "M", "E"]
    assert [s.empty for s in res.history[1:]] == [(1,), (1,), (1,)]
    np.testing.assert_array_equal(res.centers, start)
    assert res.labels.tolist() == [0, 0] and res.objective == 1.0


def test_max_iter_zero_assigns_in_the_chosen_metric():
    """``max_iter=0`` labels the points by the metric asked for, not by l2.

    (2, 0) is 1.9 from (0.1, 0) and 2.0 from (1.4, 1.4) in l1, but 1.9 and 1.52 in l2.
    """
    X = np.array([[2.0, 0.0], [0.0, 0.0]])
    start = np.array([[0.1, 0.0], [1.4, 1.4]])
    res = kmeans.fit(X, k=2, init=start, metric="l1", max_iter=0)
    assert res.labels.tolist() == [0, 0]
    assert res.objective == pytest.approx(1.9 + 0.1, rel=1e-15)
    assert kmeans.fit(X, k=2, init=start, max_iter=0).labels.tolist() == [1, 0]


def test_converged_is_false_not_none():
    """``converged`` is the bool False when the run stops at max_iter (or does not run)."""
    res = kmeans.fit(PAIRS, k=2, init=PAIRS[[0, 1]], max_iter=1)
    assert res.converged is False and res.n_iter == 1
    assert kmeans.fit(PAIRS, k=2, init=PAIRS[[0, 1]], max_iter=0).converged is False


def test_default_max_iter_is_300():
    """Without ``max_iter`` a run that needs more than 300 iterations stops after 300.

    1,000 evenly spaced points on [0, 1] with the 20 centres starting at the 20 leftmost
    points: the centres spread out slowly (about 350 iterations to the fixed point).
    """
    x = ((np.arange(1000) + 0.5) / 1000)[:, None]
    res = kmeans.fit(x, k=20, init=x[:20])
    assert res.n_iter == 300 and res.converged is False
    assert [s.kind for s in res.history[-2:]] == ["E", "M"]


def test_tol_zero_stops_when_labels_change_but_the_objective_does_not():
    """Rule 2 with ``tol=0``: labels changed, objective equal to the last M-step's: converged.

    The objective (2e6, from two points 1000 either side of their centre) absorbs the tiny
    within-cluster sums of squares (about 1e-11) of a 5-point chain of spacing 1e-6 far away,
    so every step reports exactly 2e6 while the chain's two clusters still trade points.
    Catches a rule that needs a strict or a unit decrease (``0 <``, ``1 <=``, ``< tol * J``).
    """
    chain = np.array([0, 1, 2.2, 3, 10]) * 1e-6
    X = np.concatenate([[[-1000.0, 0.0], [1000.0, 0.0]], np.c_[chain, np.full(5, 1e4)]])
    start = np.array([[0.0, 0.0], [chain[0], 1e4], [chain[1], 1e4]])
    res = kmeans.fit(X, k=3, init=start)
    assert [s.kind for s in res.history] == ["init", "E", "M", "E", "M"]
    assert res.converged is True and res.n_iter == 2
    assert res.history[1].labels.tolist() == [0, 0, 1, 2, 2, 2, 2]
    assert res.history[3].labels.tolist() == [0, 0, 1, 1, 2, 2, 2]  # labels changed
    assert [s.objective for s in res.history[1:]] == [2e6] * 4
    assert kmeans.e_step(X, res.centers).tolist() == [0, 0, 1, 1, 1, 2, 2]  # not a fixed point


def test_tol_rule_fires_at_equality():
    """Rule 2 includes its upper end: a decrease of exactly ``tol`` times J(t-1) converges.

    1-D points 0, 1, 2, 3, 10 with centres at 0 and 1 (all sums exact in binary): J after M1
    is 50 (centres 0 and 4), after M2 26.5 (centres 1 and 6.5); a decrease of 23.5 = 0.47 * 50
    up to rounding, so ``tol`` is set to the exact quotient 23.5 / 50 as a float and checked.
    """
    X = np.array([[0.0], [1.0], [2.0], [3.0], [10.0]])
    start = np.array([[0.0], [1.0]])
    free = kmeans.fit(X, k=2, init=start)
    assert [s.objective for s in free.history if s.kind == "M"][:2] == [50.0, 26.5]
    tol = 23.5 / 50.0
    assert tol * 50.0 == 23.5  # the rule's two sides are exactly equal
    res = kmeans.fit(X, k=2, init=start, tol=tol)
    assert [s.kind for s in res.history] == ["init", "E", "M", "E", "M"] and res.converged is True
    assert [s.kind for s in free.history][:6] == ["init", "E", "M", "E", "M", "E"]  # ran on


# --------------------------------------------------------------------------- Hamerly's state


def test_hamerly_box_is_taken_per_coordinate():
    """The bounding box ``lo``/``hi`` of data and centres is per coordinate (and sets the margin).

    Catches a box that takes the smallest (largest) centre coordinate over all coordinates:
    here the box is [-5, 2] x [10, 20], not [-5, ...] in both.
    """
    X = np.array([[0.0, 10.0], [1.0, 11.0]])
    C = np.array([[-5.0, 10.5], [2.0, 20.0]])
    labels, state = kmeans.e_step_bounded(X, C)
    np.testing.assert_array_equal(state.lo, [-5.0, 10.0])
    np.testing.assert_array_equal(state.hi, [2.0, 20.0])
    assert state.margin == pytest.approx(kmeans.MARGIN * np.hypot(7.0, 10.0), rel=1e-15)
    D = np.sqrt(((X[:, None, :] - C[None]) ** 2).sum(axis=2))
    assert labels.tolist() == [0, 0]
    np.testing.assert_allclose(state.upper, D[:, 0] + state.margin / 2, rtol=1e-15)
    np.testing.assert_allclose(state.lower, D[:, 1] - state.margin / 2, rtol=1e-15)


def test_hamerly_half_gap_test_keeps_the_margin():
    """A point is skipped by the half-gap test only if ``upper < s_a - margin / 2``.

    The point (0, 0) belongs to the centre (0.5, 0), which then moves by t = 0.01 sideways;
    the other near centre is placed so that the moved upper bound 0.5 + t + margin/2 lies
    between s_a - margin/2 and s_a + margin/2 (a third centre jumps far, so the lower bound
    does not decide). The documented rule examines the point and makes its upper bound exact
    (0.5001 + margin/2); a test with "+ margin/2" would skip it and keep 0.51 + margin/2.
    """
    X = np.array([[0.0, 0.0], [-3.0, -1.0], [3.0, 1.0]])
    C = np.array([[-1.5, 0.0], [0.5, 0.0], [3.0, 1.0]])
    labels, state = kmeans.e_step_bounded(X, C)
    ref = hamerly_reference(X, C, None)
    half_margin = state.margin / 2
    assert half_margin == pytest.approx(kmeans.MARGIN * np.hypot(6.0, 2.0) / 2, rel=1e-15)
    t = 0.01
    C2 = np.array([[-0.5 - 2 * t - half_margin, t], [0.5, t], [-3.0, -1.0]])
    labels, state = kmeans.e_step_bounded(X, C2, state)
    ref = hamerly_reference(X, C2, ref)
    assert labels.tolist() == ref[0].tolist() and labels[0] == 1
    assert state.upper[0] == pytest.approx(np.hypot(0.5, t) + half_margin, rel=1e-14)
    np.testing.assert_allclose(state.upper, ref[1], rtol=1e-14)
    np.testing.assert_allclose(state.lower, ref[2], rtol=1e-14)


# --------------------------------------------------------------------------- sums by group


def test_group_sums_with_more_than_65535_groups():
    """Grouping uses 16-bit sort keys only while k fits them; k = 70,000 needs wider keys.

    Column i holds the value i and belongs to group i mod k, so group j holds j and j + k and
    sums to 2j + k exactly.
    """
    k = 70_000
    m = 2 * k
    values = np.arange(m, dtype=np.float64)[None, :]
    groups = np.arange(m) % k
    sums, abs_sums, sizes = kmeans._group_sums(values, groups, k)
    expected = 2.0 * np.arange(k) + k
    np.testing.assert_array_equal(sums[:, 0], expected)
    np.testing.assert_array_equal(abs_sums[:, 0], expected)
    assert (sizes == 2).all()


# --------------------------------------------------------------------------- k-means++ draws


class ScriptedRng:
    """A stand-in for numpy's Generator that returns given draws (in its ranges, in order)."""

    def __init__(self, first, uniforms):
        self.first, self.uniforms = first, list(uniforms)

    def integers(self, n):
        assert 0 <= self.first < n
        return self.first

    def random(self):
        return self.uniforms.pop(0)

    def choice(self, a):
        raise AssertionError("no uniform redraw expected")


@pytest.mark.parametrize(("X", "u", "expected"), [
    # weights 0, 1, 4 (cumulative 0, 1, 5): u = 0 must not pick the weight-0 first row
    (np.array([[0.0], [1.0], [2.0]]), 0.0, [0, 1]),
    # weights 0, 1, 1 (cumulative 0, 1, 2): u * total = 1 exactly falls to the row after it
    (np.array([[0.0], [1.0], [-1.0]]), 0.5, [0, 2]),
])
def test_kmeanspp_draw_on_a_cumulative_boundary(X, u, expected):
    """The next row is the first whose cumulative weight *exceeds* u * total (u in [0, 1)).

    Generator.random() can return 0.0 and values that land exactly on a cumulative weight;
    "at least" instead of "exceeds" would pick the first row again (weight 0) or the row before.
    """
    assert kmeans._init_indices(X, 2, "k-means++", ScriptedRng(0, [u])).tolist() == expected


def reference_kmeanspp_few_positions(X, k, rng):
    """k-means++ as ``_init_indices`` documents it, with its fallback when weights are all 0:
    a row at a position not chosen yet, else any row not chosen yet (uniformly, in row order)."""
    n = len(X)
    D2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    chosen = [int(rng.integers(n))]
    for _ in range(1, k):
        weight = D2[:, chosen].min(axis=1)
        if weight.sum() > 0:
            chosen.append(int(np.flatnonzero(np.cumsum(weight) > rng.random() * weight.sum())[0]))
            continue
        fresh = [i for i in range(n) if all((X[i] != X[j]).any() for j in chosen)]
        unchosen = [i for i in range(n) if i not in chosen]
        chosen.append(int(rng.choice(fresh or unchosen)))
    return chosen


def test_kmeanspp_with_fewer_positions_than_k_takes_each_row_once():
    """With fewer distinct positions than k, the extra picks are further rows, never a row twice.

    Catches a pick that is not marked as taken (the first or a later one) or a fallback that
    draws from the taken rows: with k = n = 6 every row must be chosen exactly once, in the
    order the reference sampler draws them with the same generator.
    """
    X = np.array([[1.0, 1.0]] * 4 + [[5.0, 5.0]] * 2)
    for seed in range(12):
        got = kmeans._init_indices(X, 6, "k-means++", np.random.default_rng(seed)).tolist()
        assert got == reference_kmeanspp_few_positions(X, 6, np.random.default_rng(seed))
        assert sorted(got) == list(range(6))
