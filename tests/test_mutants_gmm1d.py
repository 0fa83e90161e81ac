"""algos.gmm1d: behaviour that mutation testing found unchecked (see tests/mutation/).

Each test pins a documented behaviour to a value from a closed form or from numpy's own
generator: the clipped fallback for standardised distances whose squares overflow, the
``floored`` record at the exact edge of the floor, the ``"random"`` start's draw, and the
checks on ``previous``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from algos import gmm1d

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def log_term(x, w, m, s):
    """log(w N(x | m, s^2)) from the formula, in Python floats."""
    return math.log(w) - math.log(s) - HALF_LOG_2PI - 0.5 * ((x - m) / s) ** 2


# --------------------------------------------------------------------------- clipped fallback


def test_overflowing_distances_use_the_clipped_terms():
    # Two components with sigmas near 1e-55 and one of weight 0. For x = +-1e100 every
    # standardised distance is about 1e155, whose square overflows, so the whole block goes
    # through the fallback that clips |z| at 1e150: both live components get the term
    # const_j - 1e300 / 2, where const_j (about 126) is below the rounding of 5e299, so the
    # far points split evenly between them; the weight-0 component gets exactly 0.
    # The near point (z = 0.5 and -0.25) is in the same block and must keep its exact value.
    w, m, s = [0.3, 0.7, 0.0], [0.0, 1e-55, 5.0], [1e-55, 2e-55, 1.0]
    x = np.array([-1e100, 5e-56, 1e100])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning reaches the reader
        resp = gmm1d.e_step(x, w, m, s)
        ll = gmm1d.log_likelihood(x, w, m, s)
    np.testing.assert_array_equal(resp[[0, 2]], [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])
    lp0, lp1 = log_term(5e-56, 0.3, 0.0, 1e-55), log_term(5e-56, 0.7, 1e-55, 2e-55)
    r0 = 1.0 / (1.0 + math.exp(lp1 - lp0))
    np.testing.assert_allclose(resp[1], [r0, 1.0 - r0, 0.0], rtol=1e-12, atol=0)
    # two far points at -1e300 / 2 each (log 2 and the constants are below their rounding)
    assert ll == pytest.approx(-1e300, rel=1e-12)


def test_clipped_terms_keep_the_sign_of_the_distance():
    # Only the far point below the means: if the lower clip were lost its square would
    # overflow to inf and the row would be NaN.
    w, m, s = [0.5, 0.5], [0.0, 1e-55], [1e-55, 1e-55]
    resp = gmm1d.e_step([-1e100, 0.0], w, m, s)
    np.testing.assert_array_equal(resp[0], [0.5, 0.5])
    # the point at 0 is on the first mean and 1 sd from the second: exp(-1/2) odds
    np.testing.assert_allclose(resp[1], [1 / (1 + math.exp(-0.5)), 1 / (1 + math.exp(0.5))], rtol=1e-13)


# --------------------------------------------------------------------------- the floor


def test_a_sigma_exactly_at_the_floor_is_not_recorded_as_floored():
    # x = [0, 2] around the mean 1: the ML sigma is exactly 1. A floor of exactly 1 does not
    # raise it (``floored`` lists the components the floor *raised*); a floor of 1.5 does.
    x = np.array([0.0, 2.0])
    at = gmm1d.fit(x, k=1, init=([1.0], [1.0], [1.0]), min_sigma=1.0, max_iter=1, tol=0)
    assert [step.floored for step in at.history] == [(), (), ()]
    assert at.sigmas[0] == 1.0
    above = gmm1d.fit(x, k=1, init=([1.0], [1.0], [1.0]), min_sigma=1.5, max_iter=1, tol=0)
    assert [step.floored for step in above.history] == [(0,), (), (0,)]
    assert above.history[0].sigmas[0] == 1.5 and above.sigmas[0] == 1.5


# --------------------------------------------------------------------------- starts


@pytest.mark.parametrize("seed", [0, 7, 123])
def test_random_start_is_numpys_draw_without_replacement(seed):
    # Distinct values never need a redraw, so the means are the k rows numpy's
    # ``choice(n, k, replace=False)`` draws with the same seed; sigmas std(x), weights 1/k.
    x = np.random.default_rng(99).normal(size=40)
    k = 4
    start = gmm1d.fit(x, k=k, init="random", seed=seed, max_iter=0).history[0]
    rows = np.random.default_rng(seed).choice(x.size, size=k, replace=False)
    np.testing.assert_array_equal(start.means, x[rows])
    np.testing.assert_array_equal(start.sigmas, np.full(k, x.std()))
    np.testing.assert_array_equal(start.weights, np.full(k, 1 / k))


# --------------------------------------------------------------------------- previous


def test_m_step_refuses_previous_of_another_length():
    x = np.array([0.0, 1.0, 5.0])
    resp = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="weights must have length k=2"):
        gmm1d.m_step(x, resp, previous=([0.2, 0.3, 0.5], [0.0, 1.0, 2.0], [1.0, 1.0, 1.0]))


# --------------------------------------------------------------------------- fit's defaults


def test_defaults_max_iter_100_and_converged_false_when_it_runs_out():
    # tol=0 never stops early, so the default max_iter (100, as documented) is what ends it.
    res = gmm1d.fit(np.array([-1.0, 0.0, 4.0, 5.0, 6.0]), k=2, init=([0.5, 0.5], [6.0, 7.0], [1.0, 2.0]), tol=0)
    assert res.n_iter == 100 and len(res.history) == 201
    assert res.converged is False


def test_min_sigma_of_the_wrong_type_is_named_in_the_error():
    with pytest.raises(TypeError, match="min_sigma must be a positive number or None, got str"):
        gmm1d.fit(np.array([0.0, 1.0, 2.0]), k=1, min_sigma="0.1")


def test_a_standardised_distance_beyond_the_float_range_is_clipped_silently():
    # (1e100 - 0) / 1e-250 overflows to inf before it is clipped at 1e150 (the other
    # component's 1e100 / 1e-100 does not): the row must still split evenly between the two
    # (both terms are -5e299 to rounding; the constants are below it) with no overflow
    # warning, and the point at 0 keep its exact value.
    w, m, s = [0.5, 0.5], [0.0, 1.0], [1e-250, 1e-100]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resp = gmm1d.e_step([1e100, 0.0], w, m, s)
        ll = gmm1d.log_likelihood([1e100, 0.0], w, m, s)
    np.testing.assert_array_equal(resp[0], [0.5, 0.5])
    # the point at 0 is on the first mean and 1e100 sd from the second: odds exp(-5e199) = 0
    np.testing.assert_array_equal(resp[1], [1.0, 0.0])
    assert ll == pytest.approx(-5e299 + log_term(0.0, 0.5, 0.0, 1e-250), rel=1e-12)


def test_kmeans_start_takes_each_clusters_share_mean_and_standard_deviation():
    # Two groups 10 apart with spreads far below 1: k-means finds them from any start, and
    # the start is their share, mean and (unfloored) ML standard deviation.
    x = np.array([0.0, 0.01, 0.03, 10.0, 10.02, 10.05, 10.1])
    start = gmm1d.fit(x, k=2, init="kmeans", seed=3, max_iter=0).history[0]
    groups = [x[:3], x[3:]]
    order = np.argsort(start.means)
    np.testing.assert_allclose(start.weights[order], [3 / 7, 4 / 7], rtol=1e-15)
    np.testing.assert_allclose(start.means[order], [g.mean() for g in groups], rtol=1e-14)
    np.testing.assert_allclose(start.sigmas[order], [g.std() for g in groups], rtol=1e-12)
    assert start.floored == ()
