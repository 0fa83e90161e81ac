"""The random starts of K-means, K-medoids and EM: the draws themselves, and distinct positions.

* k-means++ (Arthur and Vassilvitskii 2007) is checked draw for draw against a short reference
  sampler written from the paper, fed the same numpy Generator, and its distribution over a
  fixed set of seeds against the exact probabilities, for both metrics: weights in the wrong
  metric, a wrong normalisation or an off-by-one in the cumulative sum fail.
* Both random starts pick k distinct *positions* whenever X has k distinct rows, and are
  unchanged on data without repeated rows (the draws of ``rng.choice(n, k, replace=False)``).
* K-medoids refuses k larger than the number of distinct points; K-means accepts it and
  documents the consequence.
"""

from __future__ import annotations

import numpy as np
import pytest

from algos import gmm1d, kmeans, kmedoids
from algos.kmeans import _init_indices


def pairwise(X, metric):
    diff = X[:, None, :] - X[None, :, :]
    return np.sqrt((diff**2).sum(axis=2)) if metric == "l2" else np.abs(diff).sum(axis=2)


def reference_kmeanspp(X, k, rng, metric):
    """k-means++ from the paper: first centre uniform, then D(x)^2 sampling, in ``metric``."""
    D2 = pairwise(X, metric) ** 2
    chosen = [int(rng.integers(len(X)))]
    for _ in range(1, k):
        weight = D2[:, chosen].min(axis=1)
        p = weight / weight.sum()
        u = rng.random()
        chosen.append(int(np.flatnonzero(np.cumsum(p) > u)[0]))  # first index whose mass passes u
    return chosen


def rows_of(X, coords):
    return [int(np.flatnonzero((X == c).all(axis=1))[0]) for c in coords]


# --------------------------------------------------------------------------- k-means++


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_kmeanspp_draws_equal_the_reference_sampler(metric):
    rng = np.random.default_rng(0)
    for trial in range(30):
        n, k = int(rng.integers(5, 60)), int(rng.integers(2, 6))
        X = rng.normal(size=(n, 2)) * rng.uniform(0.5, 5, size=2)
        ref = reference_kmeanspp(X, k, np.random.default_rng(trial), metric)
        km = kmeans.fit(X, k=k, init="k-means++", seed=trial, metric=metric, max_iter=0)
        kmd = kmedoids.fit(X, k=k, init="k-means++", seed=trial, metric=metric, max_iter=0)
        assert rows_of(X, km.history[0].centers) == ref
        assert kmd.medoid_indices.tolist() == ref


# Five points whose squared l1 and squared l2 distances give clearly different probabilities.
X5 = np.array([[0.0, 0.0], [1.0, 0.0], [0.7, 0.7], [0.0, 2.0], [2.5, 1.0]])
DRAWS = 6000
#: 99.9% quantile of the chi-square distribution with 19 degrees of freedom (20 cells - 1).
CHI2_19_999 = 43.82


def pair_probabilities(metric):
    """P(first = i, second = j) of k-means++ with k = 2 on X5."""
    W = pairwise(X5, metric) ** 2
    return W / W.sum(axis=1, keepdims=True) / len(X5)


def chi_square(counts, probabilities):
    expected = probabilities * counts.sum()
    cells = expected > 0
    assert counts[~cells].sum() == 0  # a zero-probability pair (the same point twice) never occurs
    return float((((counts - expected) ** 2)[cells] / expected[cells]).sum())


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_kmeanspp_distribution_over_many_seeds(metric):
    counts = np.zeros((5, 5))
    for seed in range(DRAWS):
        first, second = _init_indices(X5, 2, "k-means++", np.random.default_rng(seed), metric)
        counts[first, second] += 1
    other = "l1" if metric == "l2" else "l2"
    assert chi_square(counts, pair_probabilities(metric)) < CHI2_19_999
    # the test has the power to tell the metrics apart
    assert chi_square(counts, pair_probabilities(other)) > 3 * CHI2_19_999


def test_kmeanspp_never_draws_a_chosen_position():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [6.0, 5.0]]), 3, axis=0)
    for seed in range(200):
        for metric in ("l2", "l1"):
            idx = _init_indices(X, 4, "k-means++", np.random.default_rng(seed), metric)
            assert len({tuple(X[i]) for i in idx}) == 4


def test_kmeanspp_when_squared_distances_underflow():
    # Distinct points closer than 1e-162: every squared distance is 0, yet they are distinct
    # positions, and k-means++ must still find them.
    X = np.array([[0.0], [1e-170], [2e-170], [3e-170]])
    assert (pairwise(X, "l2") ** 2 == 0).all()
    for seed in range(20):
        idx = _init_indices(X, 4, "k-means++", np.random.default_rng(seed), "l2")
        assert sorted(idx.tolist()) == [0, 1, 2, 3]
    assert sorted(kmedoids.fit(X, k=4, seed=0).medoid_indices.tolist()) == [0, 1, 2, 3]


# --------------------------------------------------------------------------- random


def test_random_start_is_rng_choice_without_repeated_rows():
    # Data without repeated rows: exactly the draws of rng.choice(n, k, replace=False), so
    # every earlier seeded run is reproduced.
    X = np.random.default_rng(1).normal(size=(40, 2))
    for seed in range(50):
        expected = np.random.default_rng(seed).choice(40, size=5, replace=False)
        np.testing.assert_array_equal(_init_indices(X, 5, "random", np.random.default_rng(seed)), expected)
        np.testing.assert_array_equal(kmeans.fit(X, k=5, init="random", seed=seed, max_iter=0).centers, X[expected])
        np.testing.assert_array_equal(kmedoids.fit(X, k=5, init="random", seed=seed, max_iter=0).medoid_indices, expected)


def test_random_start_redraws_repeated_positions():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [6.0, 5.0]]), [20, 1, 1, 1], axis=0)
    firsts = set()
    for seed in range(300):
        idx = _init_indices(X, 4, "random", np.random.default_rng(seed))
        assert len({tuple(X[i]) for i in idx}) == 4 and len(set(idx.tolist())) == 4
        firsts.add(tuple(X[idx[0]]))
    assert len(firsts) == 4  # no position is left out of the first pick


def repeated_datasets():
    rng = np.random.default_rng(2)
    return {
        "integer grid": rng.integers(0, 3, size=(150, 2)).astype(float),  # 9 positions
        "rounded": np.round(rng.normal(0, 0.6, size=(150, 2))),
        "pixel levels": (rng.integers(0, 256, size=(150, 3)) // 128 * 128).astype(float),  # 8 levels
        "one heavy point": np.vstack([np.zeros((140, 2)), rng.normal(size=(10, 2))]),
    }


@pytest.mark.parametrize("name", list(repeated_datasets()))
@pytest.mark.parametrize("init", ["random", "k-means++"])
def test_starts_pick_distinct_positions_on_repeated_data(name, init):
    X = repeated_datasets()[name]
    distinct = np.unique(X, axis=0).shape[0]
    for k in (2, distinct - 1, distinct):
        for seed in range(25):
            for metric in ("l2", "l1"):
                C = kmeans.fit(X, k=k, init=init, seed=seed, metric=metric, max_iter=0).centers
                assert np.unique(C, axis=0).shape[0] == k
                M = kmedoids.fit(X, k=k, init=init, seed=seed, metric=metric, max_iter=0).medoids
                assert np.unique(M, axis=0).shape[0] == k


def test_kmeans_with_fewer_distinct_points_than_k():
    # K-means accepts it: every distinct position gets a centre, the remaining centres
    # coincide with others, their clusters stay empty and keep their centres.
    X = np.array([[1.0, 1.0]] * 4 + [[5.0, 5.0]] * 2)
    for init in ("random", "k-means++"):
        for seed in range(10):
            res = kmeans.fit(X, k=4, init=init, seed=seed)
            start = res.history[0].centers
            assert {tuple(c) for c in start} == {(1.0, 1.0), (5.0, 5.0)}
            assert res.objective == 0.0 and len(res.history[1].empty) == 2
            assert sorted(np.bincount(res.labels, minlength=4).tolist()) == [0, 0, 2, 4]
    with pytest.raises(ValueError, match=r"k=3 exceeds the number of distinct points in X \(2\)"):
        kmedoids.fit(X, k=3, init="random", seed=0)


def test_kmeans_accepts_coinciding_explicit_centres():
    start = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0]])
    # ties go to the lower index: cluster 1 gets no point and keeps its centre ...
    X = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [6.0, 5.0]])
    res = kmeans.fit(X, k=3, init=start)
    assert [step.empty for step in res.history[1:]] == [(1,), (1,), (), (), ()]
    np.testing.assert_array_equal(res.history[2].centers, [[0.5, 0.0], [0.0, 0.0], [5.5, 5.0]])
    # ... until centre 0 moves away and leaves the point at (0, 0) to it
    np.testing.assert_array_equal(res.labels, [1, 0, 2, 2])
    np.testing.assert_array_equal(res.centers, [[1.0, 0.0], [0.0, 0.0], [5.5, 5.0]])
    # if every point of the shared position stays with centre 0, cluster 1 stays empty
    X = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0], [6.0, 5.0]])
    res = kmeans.fit(X, k=3, init=start)
    assert all(step.empty == (1,) for step in res.history[1:]) and res.converged
    np.testing.assert_array_equal(res.centers, [[0.0, 0.0], [0.0, 0.0], [5.5, 5.0]])


def test_em_random_start_means_at_distinct_values():
    x = np.repeat([0.0, 1.0, 2.0, 10.0], [50, 1, 1, 1])
    for seed in range(50):
        start = gmm1d.fit(x, k=3, init="random", seed=seed, max_iter=0).history[0].means
        assert len(set(start.tolist())) == 3


# --------------------------------------------------------------------------- the issue's examples


@pytest.mark.parametrize("init", ["random", "k-means++"])
@pytest.mark.parametrize("medoids_from", ["cluster", "all"])
@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_issue_example_kmedoids_keeps_three_clusters(init, medoids_from, metric):
    # Before: with init="random", 20 of these 100 seeds ended with fewer than 3 clusters.
    X = np.repeat(np.array([[0.0, 0.0], [1, 0], [5, 5], [6, 5]]), 3, axis=0)
    for seed in range(100):
        res = kmedoids.fit(X, k=3, init=init, seed=seed, metric=metric, medoids_from=medoids_from)
        assert np.unique(res.labels).size == 3
        assert np.unique(res.medoids, axis=0).shape[0] == 3


def test_issue_example_one_point_two_medoids_is_refused():
    # Before: medoid_indices [0, 1], two medoids at one point.
    with pytest.raises(ValueError, match=r"k=2 exceeds the number of distinct points in X \(1\)"):
        kmedoids.fit(np.ones((3, 1)), k=2, seed=0)


def test_random_start_with_fewer_positions_than_k_keeps_rows_distinct():
    # Every distinct position gets a centre first; the remaining picks are further rows, never
    # a row twice (a redraw may take a later pick's row, which is then redrawn).
    X = np.repeat(np.array([[0.0], [1.0], [2.0]]), [6, 1, 1], axis=0)
    for seed in range(300):
        idx = _init_indices(X, 5, "random", np.random.default_rng(seed))
        assert len(set(idx.tolist())) == 5
        assert {float(X[i, 0]) for i in idx} == {0.0, 1.0, 2.0}
