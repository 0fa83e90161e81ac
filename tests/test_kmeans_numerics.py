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
