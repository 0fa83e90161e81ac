"""algos.kmedoids: steps, fit, a dense-matrix reference, degenerate data, memory."""

from __future__ import annotations

import dataclasses
import doctest
import tracemalloc

import numpy as np
import pytest

from algos import kmedoids
from algos._distances import medoid_costs

TIE_RTOL = 1e-12  # the documented tie rule: costs within 1e-12 relative count as equal


# --------------------------------------------------------------------------- dense reference


def dense_distances(X, metric):
    diff = X[:, None, :] - X[None, :, :]
    return np.sqrt((diff**2).sum(axis=2)) if metric == "l2" else np.abs(diff).sum(axis=2)


def lowest_within_tolerance(costs):
    return int(np.flatnonzero(costs <= costs.min() + TIE_RTOL * abs(costs.min()))[0])


def dense_fit(X, init_idx, metric, medoids_from, max_iter=100):
    """The alternating algorithm on a full n x n matrix: the obvious, slow version.

    M-step rule (documented in kmedoids.m_step): clusters in order; a candidate at the
    position of another cluster's medoid (new for earlier clusters, old for later ones) is
    skipped.
    """
    D = dense_distances(X, metric)
    n, k = len(X), len(init_idx)
    idx = np.array(init_idx)
    labels = None
    steps = []  # (kind, labels, medoid indices)
    for _ in range(max_iter):
        new_labels = D[:, idx].argmin(axis=1)
        steps.append(("E", new_labels, idx.copy()))
        if labels is not None and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        new_idx = idx.copy()
        for j in range(k):
            members = np.flatnonzero(labels == j)
            if members.size == 0:
                continue
            candidates = members if medoids_from == "cluster" else np.arange(n)
            costs = D[np.ix_(candidates, members)].sum(axis=1)
            others = np.concatenate([new_idx[:j], idx[j + 1:]])
            at_other = [any((X[c] == X[o]).all() for o in others) for c in candidates]
            costs = np.where(at_other, np.inf, costs)
            new_idx[j] = candidates[lowest_within_tolerance(costs)]
        steps.append(("M", labels, new_idx.copy()))
        if np.array_equal(new_idx, idx):
            break
        idx = new_idx
    return steps


def reference_cases(count=24):
    rng = np.random.default_rng(77)
    cases = []
    for case in range(count):
        n = int(rng.integers(8, 120))
        d = int(rng.integers(1, 4))
        k = int(rng.integers(1, min(n, 6) + 1))
        if case % 3 == 0:  # integer grid: exact ties in distances and costs
            X = rng.integers(0, 5, size=(n, d)).astype(float)
        else:
            X = rng.normal(size=(n, d)) * rng.uniform(0.1, 10) + rng.uniform(-50, 50)
        # a start at k distinct positions (K-medoids refuses coinciding medoids)
        _, first_rows = np.unique(X, axis=0, return_index=True)
        k = min(k, first_rows.size)
        init = rng.choice(first_rows, k, replace=False)
        cases.append(pytest.param(X, init, id=f"case{case}-n{n}-d{d}-k{k}"))
    return cases


@pytest.mark.parametrize("medoids_from", ["cluster", "all"])
@pytest.mark.parametrize("metric", ["l2", "l1"])
@pytest.mark.parametrize("X, init", reference_cases())
def test_matches_dense_reference(X, init, metric, medoids_from):
    ours = kmedoids.fit(X, k=len(init), init=init, metric=metric, medoids_from=medoids_from, max_iter=100)
    ref = dense_fit(X, init, metric, medoids_from)
    assert [s.kind for s in ours.history[1:]] == [kind for kind, _, _ in ref]
    D = dense_distances(X, metric)
    for step, (kind, labels, idx) in zip(ours.history[1:], ref):
        np.testing.assert_array_equal(step.labels, labels)
        np.testing.assert_array_equal(step.medoid_indices, idx)
        np.testing.assert_array_equal(step.centers, X[idx])
        expected = D[np.arange(len(X)), idx[labels]].sum()
        assert step.objective == pytest.approx(expected, rel=1e-12, abs=1e-12)


# --------------------------------------------------------------------------- costs


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_medoid_costs_equal_dense_sums(metric):
    rng = np.random.default_rng(1)
    for X in (rng.normal(size=(300, 3)) * 5 + 1e4, rng.integers(-3, 4, size=(300, 2)).astype(float)):
        members, candidates = X[:200], X[100:]
        dense = dense_distances(np.vstack([candidates, members]), metric)[: len(candidates), len(candidates):]
        costs = medoid_costs(members, candidates, metric)
        if metric == "l1" and (X == np.round(X)).all():
            np.testing.assert_array_equal(costs, dense.sum(axis=1))  # exact on integers
        else:
            np.testing.assert_allclose(costs, dense.sum(axis=1), rtol=1e-12)


def test_l2_costs_in_blocks_when_clusters_are_large():
    # More candidates x members than one block holds: the blocked sum must equal the dense one.
    rng = np.random.default_rng(2)
    members = rng.normal(size=(700, 2))
    candidates = rng.normal(size=(90, 2))
    dense = np.sqrt(((candidates[:, None, :] - members[None]) ** 2).sum(axis=2)).sum(axis=1)
    np.testing.assert_allclose(medoid_costs(members, candidates, "l2"), dense, rtol=1e-12)


# --------------------------------------------------------------------------- steps


X4 = np.array([[0.0, -6.0], [4.0, 4.0], [0.0, 0.0], [-5.0, 2.0]])


def test_e_step_accepts_indices_or_coordinates():
    np.testing.assert_array_equal(kmedoids.e_step(X4, [2, 0]), [1, 0, 0, 0])
    np.testing.assert_array_equal(kmedoids.e_step(X4, X4[[2, 0]]), [1, 0, 0, 0])


def test_m_step_candidates_cluster_versus_all():
    # Cluster 0 is a triangle; point 3, inside it but labelled 1, is closer to all three.
    X = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 3.0], [2.0, 1.0], [50.0, 50.0]])
    labels = np.array([0, 0, 0, 1, 1])
    # member costs: 4 + sqrt(13) for the base corners, 2 sqrt(13) = 7.21 for the apex;
    # point 3 costs 2 sqrt(5) + 2 = 6.47 but is not a member
    assert kmedoids.m_step(X, labels, 2, medoids_from="cluster")[0] == 2
    assert kmedoids.m_step(X, labels, 2, medoids_from="all")[0] == 3
    costs = dense_distances(X, "l2")[:, :3].sum(axis=1)
    assert lowest_within_tolerance(costs) == 3


def test_m_step_ties_go_to_the_lowest_index():
    X = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 5.0]])
    # cluster {0, 1}: both members cost 2 -> 0; with "all", point 2 costs 2 sqrt(26) > 2
    assert kmedoids.m_step(X, [0, 0, 1], 2, metric="l2")[0] == 0
    assert kmedoids.m_step(X, [0, 0, 1], 2, metric="l1")[0] == 0
    assert kmedoids.m_step(X, [1, 1, 0], 2, metric="l1", medoids_from="all")[1] == 0


def test_m_step_empty_cluster():
    labels = np.array([0, 0, 0, 0])
    out = kmedoids.m_step(X4, labels, 2, previous=[0, 3])
    assert out[1] == 3
    with pytest.raises(ValueError, match="previous"):
        kmedoids.m_step(X4, labels, 2)


def test_objective_is_sum_of_unsquared_distances():
    X = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    assert kmedoids.objective(X, [0, 0, 0], [1]) == pytest.approx(10.0)
    assert kmedoids.objective(X, [0, 0, 0], [1], metric="l1") == pytest.approx(14.0)
    assert kmedoids.objective(X, [0, 0, 0], X[[1]]) == pytest.approx(10.0)


# --------------------------------------------------------------------------- fit


def test_fit_result_and_history():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 2)) + np.repeat([[0, 0], [6, 0], [0, 6]], 40, axis=0)
    X_before = X.copy()
    res = kmedoids.fit(X, k=3, seed=0)
    np.testing.assert_array_equal(X, X_before)
    assert res.history[0].kind == "init" and res.history[0].labels is None
    np.testing.assert_array_equal(res.medoids, X[res.medoid_indices])
    np.testing.assert_array_equal(res.labels, res.history[-1].labels)
    assert res.objective == res.history[-1].objective
    assert res.objective == pytest.approx(kmedoids.objective(X, res.labels, res.medoid_indices), rel=1e-12)
    assert res.converged
    J = [s.objective for s in res.history[1:]]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(J, J[1:]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.medoids = None
    with pytest.raises(ValueError):
        res.medoid_indices[0] = 1


def test_init_forms():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [9.0, 9.0], [9.0, 9.0]])
    a = kmedoids.fit(X, k=2, init=np.array([0, 3]), max_iter=0)
    b = kmedoids.fit(X, k=2, init=X[[0, 4]], max_iter=0)  # coordinates map to the lowest row
    np.testing.assert_array_equal(a.medoid_indices, [0, 3])
    np.testing.assert_array_equal(b.medoid_indices, [0, 3])
    with pytest.raises(ValueError, match="not a row of X"):
        kmedoids.fit(X, k=2, init=np.array([[0.5, 0.5], [9.0, 9.0]]))
    with pytest.raises(ValueError, match="init"):
        kmedoids.fit(X, k=2, init=np.array([0, 7]))
    for init in ("random", "k-means++"):
        r1 = kmedoids.fit(X, k=3, init=init, seed=5)
        r2 = kmedoids.fit(X, k=3, init=init, seed=5)
        np.testing.assert_array_equal(r1.medoid_indices, r2.medoid_indices)
        assert len(set(r1.history[0].medoid_indices.tolist())) == 3


# --------------------------------------------------------------------------- degenerate data


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_k_equals_n_and_duplicates(metric):
    X = np.random.default_rng(4).normal(size=(6, 2))
    res = kmedoids.fit(X, k=6, init="random", seed=0, metric=metric)
    assert res.objective == 0.0 and sorted(res.medoid_indices) == list(range(6))
    D = np.array([[1.0, 1.0]] * 4 + [[2.0, 2.0]] * 3)
    # two distinct points: k = 2 works and gives both, k = 3 is refused whatever the start
    for init in ("random", "k-means++"):
        res = kmedoids.fit(D, k=2, init=init, seed=0, metric=metric)
        assert res.objective == 0.0 and sorted(res.medoids[:, 0]) == [1.0, 2.0]
        with pytest.raises(ValueError, match=r"k=3 exceeds the number of distinct points in X \(2\)"):
            kmedoids.fit(D, k=3, init=init, seed=0, metric=metric)
    with pytest.raises(ValueError, match="init: medoids 0 and 1 are at the same position"):
        kmedoids.fit(D, k=3, init=np.array([0, 1, 4]), metric=metric)


def test_coinciding_explicit_start_is_refused():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0], [5.0, 6.0]])
    with pytest.raises(ValueError, match=r"init: medoids 0 and 1 are at the same position \[0.0, 0.0\]"):
        kmedoids.fit(X, k=3, init=np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="same position"):
        kmedoids.fit(X, k=2, init=np.array([[5.0, 5.0], [5.0, 5.0]]))  # coordinates: both row 2
    with pytest.raises(ValueError, match="previous"):
        kmedoids.m_step(X, [0, 0, 1, 1], 2, previous=[0, 1])
    # an empty cluster (labels given by hand) keeps its previous medoid
    np.testing.assert_array_equal(kmedoids.m_step(X, [0, 0, 0, 0], 2, previous=[0, 3]), [0, 3])


@pytest.mark.parametrize("d", [1, 5])
@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_one_and_five_dimensional_data(d, metric):
    rng = np.random.default_rng(10 + d)
    X = rng.normal(size=(60, d)) + rng.integers(0, 3, size=(60, 1)) * 5
    res = kmedoids.fit(X, k=3, init=np.array([0, 1, 2]), metric=metric)
    ref = dense_fit(X, np.array([0, 1, 2]), metric, "cluster")
    np.testing.assert_array_equal(res.medoid_indices, ref[-1][2])
    np.testing.assert_array_equal(res.labels, ref[-1][1])


def test_far_point():
    rng = np.random.default_rng(5)
    X = np.vstack([rng.normal(size=(40, 2)), [[50.0, 50.0]]])
    res = kmedoids.fit(X, k=2, seed=0)
    assert 40 in res.medoid_indices


def test_memory_stays_far_below_a_dense_matrix():
    # One cluster of 5,000 points, l2: a dense candidate x member matrix would be 200 MB.
    X = np.random.default_rng(6).normal(size=(5000, 2))
    labels = np.zeros(5000, dtype=int)
    tracemalloc.start()
    try:
        kmedoids.m_step(X, labels, 1, metric="l2")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6, f"peak {peak / 1e6:.1f} MB"


def test_docstring_examples():
    failures, tried = doctest.testmod(kmedoids, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried >= 5 and failures == 0


# --------------------------------------------------------------------------- k clusters on repeated data


def heavily_repeated(rng):
    return {
        "integer grid": rng.integers(0, 4, size=(120, 2)).astype(float),
        "rounded values": np.round(rng.normal(0, 1.0, size=(120, 2)), 0),
        "pixel levels": (rng.integers(0, 256, size=(120, 3)) // 64 * 64).astype(float),
        "few points": np.repeat(rng.normal(size=(5, 2)), [60, 30, 20, 6, 4], axis=0),
    }


@pytest.mark.parametrize("medoids_from", ["cluster", "all"])
@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_every_fit_on_repeated_data_keeps_k_clusters(metric, medoids_from):
    # Integer grids, rounded values and pixel levels: many exact ties and coinciding points.
    # Every start and every step keeps k medoids at k distinct positions, so every cluster
    # keeps at least its medoid: no fit ever returns fewer than k clusters.
    rng = np.random.default_rng(11)
    for name, X in heavily_repeated(rng).items():
        distinct = np.unique(X, axis=0).shape[0]
        for k in sorted({2, 3, min(5, distinct), distinct}):
            for seed in range(12):
                for init in ("random", "k-means++"):
                    res = kmedoids.fit(X, k=k, init=init, seed=seed, metric=metric, medoids_from=medoids_from)
                    for step in res.history:
                        assert np.unique(step.centers, axis=0).shape[0] == k, (name, k, seed, init)
                        if step.labels is not None:
                            assert np.unique(step.labels).size == k and step.empty == ()
                    J = [s.objective for s in res.history[1:]]
                    assert all(b <= a * (1 + 1e-12) for a, b in zip(J, J[1:]))


def test_m_step_never_gives_two_clusters_one_position():
    # With candidates from all points, clusters {(0,0), (2,0)} and {(1,1), (1,-1)} (l1) and
    # the point (1,0) in a third cluster all have (1,0), row 0, among their cheapest
    # candidates (cost 2, 2 and 0); the lowest-index tie rule alone gave [0, 0, 0].
    X = np.array([[1.0, 0.0], [0.0, 0.0], [2.0, 0.0], [1.0, 1.0], [1.0, -1.0]])
    labels = [2, 0, 0, 1, 1]
    # clusters in order; a candidate at another cluster's medoid (new for earlier clusters,
    # previous for later ones) is skipped, ties to the lowest remaining index
    got = kmedoids.m_step(X, labels, 3, metric="l1", medoids_from="all", previous=[1, 3, 0])
    np.testing.assert_array_equal(got, [1, 3, 0])
    got = kmedoids.m_step(X, labels, 3, metric="l1", medoids_from="all")
    np.testing.assert_array_equal(got, [0, 3, 1])
    # with a cluster's own members as candidates the rule never has to act
    np.testing.assert_array_equal(kmedoids.m_step(X, labels, 3, metric="l1"), [1, 3, 0])
    # labels that split equal points between clusters can leave a cluster no candidate
    with pytest.raises(ValueError, match="cluster 1"):
        kmedoids.m_step(np.array([[0.0], [0.0], [3.0]]), [0, 1, 0], 2)


# --------------------------------------------------------------------------- max_iter


@pytest.mark.parametrize("medoids_from", ["cluster", "all"])
@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_every_max_iter_stops_after_exactly_that_many_iterations(metric, medoids_from):
    # A run that needs several iterations; every max_iter from 0 to convergence gives exactly
    # that many iterations, and the state after each equals the dense reference's.
    rng = np.random.default_rng(12)
    X = np.vstack([rng.normal(c, 0.8, size=(25, 2)) for c in ((0, 0), (5, 0), (2.5, 4))])
    init = np.array([0, 1, 2])  # three points of the first blob: a slow start
    ref = dense_fit(X, init, metric, medoids_from)
    full = kmedoids.fit(X, k=3, init=init, metric=metric, medoids_from=medoids_from)
    T = full.n_iter
    assert T >= 3 and full.converged
    for t in range(T + 2):
        res = kmedoids.fit(X, k=3, init=init, metric=metric, medoids_from=medoids_from, max_iter=t)
        assert res.n_iter == min(t, T)
        assert res.converged == (t >= T)
        steps = res.history[1:]
        assert len(steps) == (2 * t if t < T else len(full.history) - 1)
        for step, (kind, labels, idx) in zip(steps, ref):
            assert step.kind == kind
            np.testing.assert_array_equal(step.labels, labels)
            np.testing.assert_array_equal(step.medoid_indices, idx)
        if t == 0:
            np.testing.assert_array_equal(res.medoid_indices, init)
            np.testing.assert_array_equal(res.labels, kmedoids.e_step(X, init, metric=metric))
        else:
            last_m = [s for s in steps if s.kind == "M"][-1]
            np.testing.assert_array_equal(res.medoid_indices, last_m.medoid_indices)
            np.testing.assert_array_equal(res.labels, steps[-1].labels)
        assert res.objective == pytest.approx(
            kmedoids.objective(X, res.labels, res.medoid_indices, metric=metric), rel=1e-12)
