"""K-means "l2" reports exact numbers: the examples of issue 11 and the guarantees behind them.

``kmeans.fit`` updates its objective and cluster sums from the points that change cluster and
carries a proven bound on their rounding error (``_Lloyd`` and ``_ErrorBounds`` in
``algos.kmeans``); whenever the bound exceeds 2e-13 of the objective it recomputes it from
scratch. These tests check the reported values against fresh computations on the data that
broke the old running update (far starts, tight clusters, huge offsets, float32), check the
bounds themselves against extended-precision values, and check the one numpy behaviour the
bounds rely on. The hypothesis versions of these checks are in ``test_properties.py``.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest

from algos import kmeans

REL = 1e-12  # the promise: every reported objective within 1e-12 of objective(), relative to itself


def assert_objectives_exact(X, res, metric="l2"):
    for step in res.history[1:]:
        fresh = kmeans.objective(X, step.labels, step.centers, metric=metric)
        assert abs(step.objective - fresh) <= REL * fresh, (step.kind, step.iteration, step.objective, fresh)
    assert res.objective == res.history[-1].objective


def tight_far_clusters(rng, n_per=50, spread=1e-3, gap=1.0, dims=2):
    centres = np.array([[0.0] * dims, [gap] + [0.0] * (dims - 1)])
    return np.concatenate([rng.normal(0, spread, (n_per, dims)) + c for c in centres])


def test_issue_example_far_start_on_tight_clusters():
    # The old running update kept the rounding error of the first, huge objective (about
    # 1.8e9) and reported 1.8245e-04 for a final objective of 1.8241e-04.
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 1e-3, (50, 2)), rng.normal(0, 1e-3, (50, 2)) + [1, 0]])
    res = kmeans.fit(X, k=2, init=np.array([[3e3, 3e3], [-3e3, -3e3]]))
    assert_objectives_exact(X, res)
    # the right value, from the data alone: the two blobs' within-cluster sums of squares
    blobs = [X[:50], X[50:]]
    within = math.fsum(math.fsum(((b - b.mean(axis=0)) ** 2).ravel()) for b in blobs)
    assert res.objective == pytest.approx(within, rel=1e-12)
    assert res.objective == pytest.approx(1.8241095305819604e-04, rel=1e-12)
    assert sorted(np.bincount(res.labels).tolist()) == [50, 50]


def test_issue_example_three_tight_clusters_far_apart_200_seeds():
    # Off by up to 1.7e-4 relative before; now every step of every run agrees to 1e-12.
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(c, 1e-2, (100, 2)) for c in ([0, 0], [1000, 0], [0, 1000])])
    worst = 0.0
    for seed in range(200):
        res = kmeans.fit(X, k=3, init="random", seed=seed)
        for step in res.history[1:]:
            fresh = kmeans.objective(X, step.labels, step.centers)
            worst = max(worst, abs(step.objective - fresh) / fresh)
    assert worst <= REL


@pytest.mark.parametrize("offset", [1e6, 1e9, 1e12])
def test_huge_offset_never_gives_a_negative_or_drifting_objective(offset):
    # Tight clusters far from the origin: the identities behind the update cancel, so the fit
    # must notice and recompute; the old update could even report negative objectives here.
    rng = np.random.default_rng(2)
    X = tight_far_clusters(rng, spread=1e-2) + offset
    for seed in range(20):
        res = kmeans.fit(X, k=3, init="random", seed=seed)
        assert all(step.objective >= 0 for step in res.history[1:])
        assert_objectives_exact(X, res)


def test_float32_input_and_far_starts():
    rng = np.random.default_rng(3)
    X = (tight_far_clusters(rng, spread=1e-3, dims=3) * 7.3 + 100.0).astype(np.float32)
    for scale in (1e2, 1e5, 1e8):
        start = np.vstack([X[:1], X[:1]]).astype(np.float64) + scale * np.array([[1.0, -1.0, 0.5], [-1.0, 1.0, 2.0]])
        res = kmeans.fit(X, k=2, init=start)
        assert_objectives_exact(X, res)
        np.testing.assert_array_equal(res.labels, kmeans.e_step(X, res.centers))


def test_repeated_points_give_exact_zero():
    X = np.repeat(np.array([[0.1, 0.2], [0.3, 0.7], [1e8 + 0.1, -3.0]]), 40, axis=0)
    res = kmeans.fit(X, k=3, init="k-means++", seed=0)
    assert_objectives_exact(X, res)
    assert res.objective == kmeans.objective(X, res.labels, res.centers)
    assert res.objective <= 1e-12 * 40 * 1e16  # only the rounding of the means


def test_tol_rule_uses_exact_objectives():
    rng = np.random.default_rng(4)
    X = tight_far_clusters(rng, n_per=200, spread=1.0, gap=3.0) + 1e5
    res = kmeans.fit(X, k=4, init="random", seed=5, tol=1e-3)
    m_steps = [s for s in res.history if s.kind == "M"]
    fresh = [kmeans.objective(X, s.labels, s.centers) for s in m_steps]
    if res.converged and res.history[-1].kind == "M":
        assert 0 <= fresh[-2] - fresh[-1] <= 1e-3 * fresh[-2] * (1 + 1e-9)
    for a, b in zip(fresh[:-2], fresh[1:-1]):
        assert not 0 <= a - b <= 1e-3 * a * (1 - 1e-9)  # the rule did not fire earlier
    assert_objectives_exact(X, res)


# --------------------------------------------------------------------------- the bounds themselves


def extended_objective(X, labels, centers):
    """The objective in 80-bit extended precision (unit roundoff 5.4e-20): a stand-in for exact."""
    diff = X.astype(np.longdouble) - centers.astype(np.longdouble)[labels]
    return (diff * diff).sum()


def drive(X, k, start, max_iter=100):
    """Run the fit's engine step by step and yield it after every half-step."""
    engine = kmeans._Lloyd(np.ascontiguousarray(X.T), k, "l2")
    centers = np.array(start, dtype=np.float64)
    for _ in range(max_iter):
        labels, J, counts, unchanged = engine.assign(centers)
        yield "E", engine, centers
        if unchanged:
            return
        centers, J = engine.update(centers)
        yield "M", engine, centers


def test_extended_precision_is_available():
    assert np.finfo(np.longdouble).eps < 1e-18  # x86-64: 80-bit long double


@pytest.mark.parametrize("case", ["far-start", "offset", "blobs"])
def test_error_bound_holds_and_is_small(case):
    rng = np.random.default_rng(5)
    if case == "far-start":
        X = tight_far_clusters(rng)
        start = np.array([[3e3, 3e3], [-3e3, -3e3], [0.5, 1e4]])
    elif case == "offset":
        X = tight_far_clusters(rng, spread=1e-2) + 1e7
        start = X[[0, 1, 60]]
    else:
        X = np.concatenate([rng.normal(c, 1.0, (300, 2)) for c in ([0, 0], [6, 1], [2, 7])])
        start = X[[0, 300, 600]]  # one point of each blob
    recomputed = 0
    for kind, engine, centers in drive(X, 3, start):
        exact = extended_objective(X, engine.labels, centers)
        assert abs(np.longdouble(engine.J) - exact) <= np.longdouble(engine.eJ) + 1e-17 * exact
        assert engine.eJ <= kmeans.REL_BOUND * engine.J  # certified, or recomputed
        recomputed += engine.eJ == kmeans._ErrorBounds.fresh(engine.J, (2, X.shape[0]))
        for j in range(3):
            members = X[engine.labels == j]
            for c in range(2):
                exact_sum = math.fsum(members[:, c])
                assert abs(engine.sums[j, c] - exact_sum) <= engine.esum[j, c] + 2**-53 * abs(exact_sum)
    if case == "blobs":
        assert recomputed == 1  # only the first E-step computes from scratch on ordinary data
    else:
        assert recomputed >= 2  # the cancellation was detected and the value recomputed


def test_reduceat_sums_pairwise():
    # The bounds assume np.add.reduceat adds each segment pairwise, as np.sum does (numpy
    # documents pairwise summation for np.sum; reduceat uses the same inner loop). Adding 0.1
    # 2^16 times sequentially (as np.bincount does) errs by 200 times the pairwise bound.
    m = 2**16
    rng = np.random.default_rng(6)
    for values in (1.0 + rng.random((2, m)), np.full((2, m), 0.1)):
        starts = np.array([0, 5, m // 2 + 3])
        got = np.add.reduceat(values, starts, axis=1)
        for c in range(2):
            for i, (a, b) in enumerate(zip(starts, [*starts[1:], m])):
                exact = math.fsum(values[c, a:b])
                assert abs(got[c, i] - exact) <= kmeans._gamma(kmeans._pairwise(b - a)) * exact
    exact = math.fsum(values[0])
    sequential = np.bincount(np.zeros(m, dtype=np.intp), weights=values[0])[0]
    assert abs(sequential - exact) > 10 * kmeans._gamma(kmeans._pairwise(m)) * exact


def test_hamerly_bounds_hold_after_every_e_step():
    rng = np.random.default_rng(7)
    X = np.concatenate([rng.normal(c, 1.0, (200, 2)) for c in ([0, 0], [3, 1], [1, 4], [5, 5])])
    for kind, engine, centers in drive(X, 4, X[:4] * 10):
        if kind != "E":
            continue
        state = engine.state
        D = np.sqrt((((X[:, None, :] - centers[None]).astype(np.longdouble)) ** 2).sum(axis=2))
        own = D[np.arange(len(X)), state.labels]
        D[np.arange(len(X)), state.labels] = np.inf
        assert (state.upper >= own).all()
        assert (state.lower <= D.min(axis=1)).all()
        np.testing.assert_array_equal(state.labels, kmeans.e_step(X, centers))


# --------------------------------------------------------------------------- each bound, against
# the error of the operation it bounds (exact rationals or 80-bit sums): a bound that is negative,
# NaN or below the actual error of its own step lets the objective drift without recomputation.

U = 2.0**-53
#: a value just above half an ulp of 1: 1 + V rounds up to 1 + 2u, so adding it again and again
#: to a sum near 1 rounds up every time (error almost u per addition)
V = U * (1 + 2.0**-5)


def up_rounding_block():
    """128 values that numpy's pairwise sum adds with an error of 15u per accumulator (8 of them):
    eight 1.0 start the 8 accumulators, 120 values V each round every accumulator up."""
    return np.array([1.0] * 8 + [V] * 120)


def exact_sum(values):
    return sum((Fraction(float(x)) for x in np.ravel(values)), Fraction(0))


def test_gamma_bounds_the_error_of_m_roundings():
    """gamma_m = m u / (1 - m u) >= (1 + u)^m - 1 (Higham, Lemma 3.1), the worst growth of m
    roundings; m u (1 - m u), m u / (1 + m u) or half of gamma are below it."""
    for m in (1, 30, 1000):
        worst = (1 + Fraction(U)) ** m - 1
        assert Fraction(kmeans._gamma(m)) >= worst
    m = 2**40  # m u = 1.2e-4: (1 + u)^m - 1 = m u (1 + 6.1e-5), far from rounding
    worst = math.expm1(m * math.log1p(U))
    assert kmeans._gamma(m) >= worst * (1 + 1e-9)


def test_pairwise_count_covers_sums_that_round_up_at_every_step():
    """A sum of m terms by np.sum / np.add.reduceat errs by at most gamma_{_pairwise(m)} times the
    sum of their absolute values, also on data where every addition rounds the same way.

    65,536 terms in blocks of 128 that each err by 12u to 15u of their sum: a count that
    shrinks with m (26 - log2 m = 10) falls below the actual error.
    """
    values = np.tile(up_rounding_block(), 512)
    m = values.size
    exact = 512 * (8 + 120 * Fraction(V))
    bound = kmeans._gamma(kmeans._pairwise(m)) * float(exact)
    for got in (np.sum(values), np.add.reduceat(values[None, :], [0], axis=1)[0, 0]):
        error = abs(Fraction(float(got)) - exact)
        assert error > 11 * U * exact  # the data do what they are meant to
        assert error <= bound


def sums_update_case(S, incoming, outgoing):
    """((S + gain) - loss) for one cluster in 1-D, as _Lloyd.assign forms it, its bound and error
    (gain and loss are pairwise sums of the points in the order given)."""
    def one(v):
        v = np.array(v, dtype=float)
        return np.array([[np.sum(v)]]), np.array([[np.sum(np.abs(v))]]), np.array([v.size])
    gain, gain_abs, n_in = one(incoming)
    loss, loss_abs, n_out = one(outgoing)
    sums = np.array([[S]])
    grown = sums + gain
    new = grown - loss
    bound = kmeans._ErrorBounds.sums_update(gain_abs, n_in, loss_abs, n_out, grown, new)[0, 0]
    error = abs(Fraction(float(new[0, 0])) - (Fraction(S) + exact_sum(incoming) - exact_sum(outgoing)))
    return error, bound


def test_sums_update_bound_covers_each_rounding():
    """The bound on a cluster sum's update covers the rounding of S + gain, of the subtraction
    and of the points' own sums (dropping or subtracting any of the terms falls below it).

    2^53 + 1 rounds to 2^53 (error 1); 16 minus the up-rounded sum of 128 leaving values
    (error about 84u, in rationals).
    """
    error, bound = sums_update_case(2.0**53, [1.0], [])
    assert error == 1 and bound >= error
    error, bound = sums_update_case(16.0, [], up_rounding_block())
    assert error > 50 * U and bound >= error


def e_step_case(J_old, added_terms, removed_terms, d=1):
    """``J_new = (J_old + added) - removed`` as _Lloyd.assign forms it, its bound and its error."""
    added, removed = float(np.sum(added_terms)), float(np.sum(removed_terms))
    J_new = J_old + added - removed
    bound = kmeans._ErrorBounds.e_step(J_old, added, removed, J_new, len(added_terms), d)
    error = abs(Fraction(J_new) - (Fraction(J_old) + exact_sum(added_terms) - exact_sum(removed_terms)))
    return error, bound


def test_e_step_bound_covers_each_rounding():
    """The E-step's bound covers the sums of the moved points' distances and the two final
    roundings; a term divided instead of multiplied, a difference instead of a sum, or a
    subtracted term falls below the actual error of one of these two updates.

    2^53 + 1 rounds to 2^53 (error 1); an up-rounded sum of 128 distances (error about 100u).
    """
    error, bound = e_step_case(2.0**53, [1.0], [0.0])
    assert error == 1 and bound >= error
    error, bound = e_step_case(8.5, up_rounding_block(), np.full(128, 0.0625))
    assert error > 50 * U and bound >= error


class BoundLog:
    """Records every bound increment ``_ErrorBounds`` hands to the engine."""

    def __init__(self, monkeypatch):
        self.calls = []
        for name in ("e_step", "m_step", "sums_update"):
            original = getattr(kmeans._ErrorBounds, name)
            monkeypatch.setattr(kmeans._ErrorBounds, name, staticmethod(self.recorder(name, original)))

    def recorder(self, name, original):
        def record(*args):
            result = original(*args)
            self.calls.append((name, args, result))
            return result
        return record

    def take(self, name):
        found = [(args, result) for kind, args, result in self.calls if kind == name]
        self.calls = [call for call in self.calls if call[0] != name]
        return found


def ld_sq(X, C, labels):
    """Squared distances of each point to ``C[labels]`` in 80-bit extended precision."""
    diff = X.astype(np.longdouble) - C.astype(np.longdouble)[labels]
    return (diff * diff).sum(axis=1)


EPS_LD = float(np.finfo(np.longdouble).eps)


def checked_assign(engine, X, C, log):
    """engine.assign(C), checking the E-step's and the sums' bound increments against the error
    of their own step (80-bit values of the exact quantities) and the bookkeeping of eJ."""
    before = engine.labels.copy()
    J_old, eJ_old = engine.J, engine.eJ
    S_old, esum_old = engine.sums.copy(), engine.esum.copy()
    engine.assign(C)
    moved = np.flatnonzero(engine.labels != before)
    (e_calls, s_calls) = log.take("e_step"), log.take("sums_update")
    if not moved.size:
        assert not e_calls and not s_calls
        return 0
    ((args, inc),) = e_calls
    _, added, removed, J_new, _, _ = args
    assert args[0] == J_old and math.isfinite(inc) and inc >= 0
    x = X[moved]
    added_x = ld_sq(x, C, engine.labels[moved]).sum()
    removed_x = ld_sq(x, C, before[moved]).sum()
    error = abs(np.longdouble(J_new) - (np.longdouble(J_old) + added_x - removed_x))
    assert error <= inc + 8 * moved.size * EPS_LD * (J_old + added + removed)
    assert engine.eJ == eJ_old + inc or engine.eJ == kmeans._ErrorBounds.fresh(engine.J, X.T.shape)
    ((args, inc_sums),) = s_calls
    assert np.isfinite(inc_sums).all() and (inc_sums >= 0).all()
    k = S_old.shape[0]
    xl = x.astype(np.longdouble)
    gain = np.array([xl[engine.labels[moved] == j].sum(axis=0) for j in range(k)])
    loss = np.array([xl[before[moved] == j].sum(axis=0) for j in range(k)])
    error = np.abs(engine.sums.astype(np.longdouble) - (S_old.astype(np.longdouble) + gain - loss))
    assert (error <= inc_sums + 8 * moved.size * EPS_LD * (np.abs(S_old) + np.abs(x).sum())).all()
    np.testing.assert_array_equal(engine.esum, esum_old + inc_sums)
    return moved.size


def checked_update(engine, X, C, log):
    """engine.update(C), checking the M-step's bound increment against the error of the step."""
    J_E, eJ_old = engine.J, engine.eJ
    new, J = engine.update(C)
    ((args, inc),) = log.take("m_step")
    J_new = args[-1]
    assert math.isfinite(inc) and inc >= 0
    before, after = ld_sq(X, C, engine.labels), ld_sq(X, new, engine.labels)
    error = abs(np.longdouble(J_new) - (np.longdouble(J_E) + (after.sum() - before.sum())))
    assert error <= inc + 8 * len(X) * EPS_LD * float(before.sum() + after.sum())
    assert engine.eJ == eJ_old + inc or engine.eJ == kmeans._ErrorBounds.fresh(engine.J, X.T.shape)
    return new


def checked_run(X, k, start, monkeypatch, max_iter=60):
    log = BoundLog(monkeypatch)
    engine = kmeans._Lloyd(np.ascontiguousarray(X.T), k, "l2")
    C = np.array(start, dtype=np.float64)
    engine.assign(C)
    log.calls.clear()
    moves = 0
    for _ in range(max_iter):
        C = checked_update(engine, X, C, log)
        moved = checked_assign(engine, X, C, log)
        moves += moved
        if not moved:
            break
    return moves


@pytest.mark.parametrize("case", ["far-start-1d", "far-start-50d", "offset-blobs"])
def test_every_bound_increment_covers_its_own_step(case, monkeypatch):
    """Each E-step, M-step and cluster-sum increment of the error bounds is finite, not negative,
    at least the actual rounding error of its own step, and is what eJ / esum grow by.

    A negative increment (a sign slip in a term) would let eJ shrink and hide later errors, so
    the fit would stop recomputing; far starts make the M-step's identity cancel (J falls by
    a factor of 1e10), 50 coordinates make its per-coordinate terms count.
    """
    rng = np.random.default_rng(8)
    if case == "far-start-1d":
        X = np.concatenate([rng.normal(0, 1, (30, 1)), rng.normal(6, 1, (30, 1))])
        start = [[1.0 - 1e5], [1.0 + 1e5], [5e5]]  # split the data at 1; the third stays empty
    elif case == "far-start-50d":
        X = np.concatenate([rng.normal(0, 1, (30, 50)), rng.normal(3, 1, (30, 50))]) + 1e3
        far = np.zeros((3, 50))
        far[0, 0], far[1, 0], far[2, 1] = -1e4, 1e4, 1e5
        start = X.mean(axis=0) + far
    else:
        X = np.concatenate([rng.normal(c, 1.0, (40, 2)) for c in ([0, 0], [4, 1], [1, 5])]) + 1e6
        start = X[[0, 1, 2]]
    assert checked_run(X, 3, start, monkeypatch) > 0


def test_m_step_bound_covers_the_final_rounding(monkeypatch):
    """A centre moved by 1e-6 changes J (about 400) by 2e-10: the sum J + change rounds by up to
    half an ulp of J, which only the final-roundings term of the M-step's bound covers."""
    rng = np.random.default_rng(9)
    X = rng.normal(0, 1, (200, 2))
    S = [exact_sum(X[:, j]) for j in range(2)]
    log = BoundLog(monkeypatch)
    worst = 0
    for shift in (1e-6, 3e-6, 7e-6):
        engine = kmeans._Lloyd(np.ascontiguousarray(X.T), 1, "l2")
        C = X.mean(axis=0, keepdims=True) + shift
        engine.assign(C)
        J_E = engine.J
        new, _ = engine.update(C)
        ((args, inc),) = log.take("m_step")
        b = [Fraction(float(new[0, j])) - Fraction(float(C[0, j])) for j in range(2)]
        change = sum(200 * bj * bj - 2 * bj * (S[j] - 200 * Fraction(float(C[0, j]))) for j, bj in enumerate(b))
        error = abs(Fraction(args[-1]) - Fraction(J_E) - change)
        assert 0 <= error <= inc
        worst = max(worst, error)
    assert worst > U * J_E / 20  # the rounding the test is about did happen


def test_e_step_bound_counts_every_coordinate(monkeypatch):
    """The E-step's bound counts the d + 2 roundings of a squared distance in d coordinates.

    A point of 2,000 coordinates (1, δ, ..., δ) with δ² just above u: adding the coordinates
    one by one rounds up every time, so its squared distance errs by about 1,800u. It moves
    from a centre at distance 1.5 to the origin; a bound that counted n (= 2) coordinates
    instead of d would be about 100u.
    """
    d = 2000
    delta = 1.1e-8
    p = np.full(d, delta)
    p[0] = 1.0
    X = np.vstack([np.zeros(d), p])
    log = BoundLog(monkeypatch)
    engine = kmeans._Lloyd(np.ascontiguousarray(X.T), 2, "l2")
    engine.assign(X.copy())
    log.calls.clear()
    C2 = X.copy()
    C2[1] = 0.0
    C2[1, 0] = 2.5
    assert checked_assign(engine, X, C2, log) == 1 and engine.labels.tolist() == [0, 0]
    added = float(ld_sq(X[1:], C2, [0])[0])
    assert abs(float(np.sum(p * p)) - added) < 1e-14  # sanity: the exact value is 1 + 1999 δ²
    computed = kmeans.objective(X[1:], [0], C2)
    assert computed - added > 1500 * U  # the rounding the test is about did happen


def test_fit_emits_no_warnings():
    """A fit warns about nothing: no division by zero or invalid value inside the bounds, with
    empty clusters, clusters that stop moving and centres at coordinate 0."""
    X = np.array([[-1.0, 0.0], [1.0, 0.0], [-1.0, 2.0], [1.0, 2.0], [5.0, 0.0], [7.0, 0.0]])
    starts = [np.array([[0.0, 0.0], [0.0, 2.0], [6.0, 0.0], [50.0, 50.0]]),  # an empty cluster
              X[[0, 1, 2, 4]], X[[0, 2, 4, 5]]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for start in starts:
            res = kmeans.fit(X, k=4, init=start)
            assert res.converged
        res = kmeans.fit(X, k=1)
        np.testing.assert_array_equal(res.centers, [[2.0, 2.0 / 3.0]])
