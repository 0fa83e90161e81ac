"""algos.kmedoids: behaviour that mutation testing found unchecked (see tests/mutation/).

Expected medoids come from sums of distances worked out by hand in the comments; messages are
checked for what they must tell the reader (the argument, the clash, the count of distinct
points).
"""

from __future__ import annotations

import numpy as np
import pytest

from algos import kmedoids

# One cluster whose l1 and l2 medoids differ. Sums of distances to the other three points:
# l1: row 0 costs 4 + 3 + 3 = 10, row 2 costs 3 + 3 + 6 = 12, rows 1 and 3 cost 14 and 16;
# l2: row 2 costs sqrt(5) + sqrt(5) + sqrt(20) = 8.944, row 0 costs 4 + sqrt(5) + 3 = 9.236.
P = np.array([[3.0, 0.0], [3.0, 4.0], [4.0, 2.0], [0.0, 0.0]])


@pytest.mark.parametrize("metric, medoid", [("l1", 0), ("l2", 2)])
def test_m_step_uses_the_metric_it_is_given(metric, medoid):
    X = np.vstack([P, [[40.0, 40.0]]])
    assert kmedoids.m_step(X, [0, 0, 0, 0, 1], 2, metric=metric).tolist() == [medoid, 4]
    assert kmedoids.m_step(X, [0, 0, 0, 0, 1], 2, metric=metric, previous=[1, 4]).tolist() == [medoid, 4]


def test_m_step_refuses_previous_of_another_length():
    X = np.vstack([P, [[40.0, 40.0]]])
    with pytest.raises(ValueError, match=r"previous must hold k=2 row indices, got 3"):
        kmedoids.m_step(X, [0, 0, 0, 0, 1], 2, previous=[0, 1, 4])


def test_m_step_names_previous_when_two_of_its_medoids_coincide():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0]])
    with pytest.raises(ValueError, match=r"^previous: medoids 0 and 1 are at the same position \[0\.0, 0\.0\]"):
        kmedoids.m_step(X, [0, 0, 1], 2, previous=[0, 1])


def test_a_clash_with_any_earlier_medoid_is_found():
    # The third medoid repeats the second, not the first: every earlier medoid is compared.
    X = np.array([[0.0, 0.0], [5.0, 5.0], [5.0, 5.0], [9.0, 1.0]])
    with pytest.raises(ValueError, match=r"init: medoids 1 and 2 are at the same position \[5\.0, 5\.0\]"):
        kmedoids.fit(X, k=3, init=np.array([0, 1, 2]))


def test_the_message_says_when_k_exceeds_the_distinct_points():
    # Three rows, two distinct (3 distinct coordinate values per row: rows, not values, count).
    X = np.array([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    with pytest.raises(ValueError) as info:
        kmedoids.fit(X, k=3, init=np.array([0, 1, 2]))
    assert str(info.value).endswith("k=3 exceeds the number of distinct points in X (2)")
    # k = 2 <= 2 distinct points: the clash is the whole story
    with pytest.raises(ValueError) as info:
        kmedoids.fit(X, k=2, init=np.array([0, 1]))
    assert str(info.value).endswith("so K-medoids needs k distinct points")


def test_a_two_dimensional_integer_array_is_read_as_coordinates():
    # Only a 1-D integer array lists row indices; integer coordinates are coordinates.
    X = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [6.0, 5.0]])
    coords = np.array([[0, 0], [5, 5]])
    assert kmedoids.e_step(X, coords).tolist() == [0, 0, 1, 1]
    assert kmedoids.objective(X, [0, 0, 1, 1], coords) == 2.0
    assert kmedoids.fit(X, k=2, init=coords, max_iter=0).medoid_indices.tolist() == [0, 2]


def test_the_start_is_iteration_zero():
    X = np.vstack([P, [[40.0, 40.0]]])
    res = kmedoids.fit(X, k=2, init=np.array([0, 4]))
    assert [(s.kind, s.iteration) for s in res.history[:3]] == [("init", 0), ("E", 1), ("M", 1)]


def test_an_m_step_that_keeps_every_medoid_ends_the_fit_as_converged():
    # Start at the l2 medoids of the two clusters (row 2 of P, see above, and the far point):
    # the first M-step picks them again, so the fit stops there, converged, after one iteration.
    X = np.vstack([P, [[40.0, 40.0]]])
    res = kmedoids.fit(X, k=2, init=np.array([2, 4]), metric="l2")
    assert [s.kind for s in res.history] == ["init", "E", "M"]
    assert res.converged is True and res.n_iter == 1
    assert res.medoid_indices.tolist() == [2, 4]
    # with l1 the medoid of the first cluster is row 0: it moves, then the next E-step changes nothing
    res = kmedoids.fit(X, k=2, init=np.array([2, 4]), metric="l1")
    assert [s.kind for s in res.history] == ["init", "E", "M", "E"]
    assert res.converged is True and res.medoid_indices.tolist() == [0, 4]


def test_default_max_iter_is_the_documented_300():
    """``fit``'s default cap is 300 iterations, as its docstring says. (This does not kill
    mutmut's ``max_iter=301`` mutant: mutmut's wrapper keeps the original signature, and no
    data set in the tests needs 300 iterations, so that mutant stays listed as a survivor.)"""
    import inspect

    default = inspect.signature(kmedoids.fit).parameters["max_iter"].default
    assert default == 300
    assert "max_iter : int, default 300" in kmedoids.fit.__doc__
