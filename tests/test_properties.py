"""Property tests (hypothesis): invariants that must hold for any data, and safe failure on any input.

* K-means (l2) and K-medoids objectives never increase from one half-step to the next.
* The EM log-likelihood never decreases (1e-9 relative); responsibilities lie in [0, 1] and
  every row sums to 1.
* Medoids are rows of X; the caller's arrays are never modified; results contain no NaN.
* Random bad input raises ValueError or TypeError, never another exception or a NaN result.

Examples are few and small so the file runs in seconds.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from algos import gmm1d, kmeans, kmedoids

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REL = 1e-9

# Values mix small integers (exact ties, duplicates) with arbitrary reals.
values = st.one_of(
    st.integers(-3, 3).map(float),
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
)


@st.composite
def data_and_k(draw, max_n=25, max_d=3, max_k=5):
    n = draw(st.integers(1, max_n))
    d = draw(st.integers(1, max_d))
    X = draw(arrays(np.float64, (n, d), elements=values))
    k = draw(st.integers(1, min(n, max_k)))
    return X, k


@st.composite
def data_1d_and_k(draw, max_n=30, max_k=3):
    n = draw(st.integers(1, max_n))
    x = draw(arrays(np.float64, (n,), elements=values))
    k = draw(st.integers(1, min(n, max_k)))
    return x, k


def non_increasing(values, scale):
    return all(b <= a + REL * max(abs(a), scale) for a, b in zip(values, values[1:]))


def total_scale(X, metric="l2"):
    dev = X - X.mean(axis=0)
    return float((dev**2).sum() if metric == "l2" else np.abs(dev).sum())


# --------------------------------------------------------------------------- invariants


@SETTINGS
@given(data=data_and_k(), init=st.sampled_from(["random", "k-means++"]), seed=st.integers(0, 2**16))
def test_kmeans_l2_objective_never_increases(data, init, seed):
    X, k = data
    X_before = X.copy()
    res = kmeans.fit(X, k=k, init=init, seed=seed, max_iter=100)
    np.testing.assert_array_equal(X, X_before)
    J = [s.objective for s in res.history[1:]]
    assert non_increasing(J, total_scale(X))
    assert np.isfinite(res.centers).all() and np.isfinite(J).all()
    assert res.labels.min() >= 0 and res.labels.max() < k
    assert abs(res.objective - kmeans.objective(X, res.labels, res.centers)) <= REL * max(total_scale(X), 1e-300)


@SETTINGS
@given(data=data_and_k(), seed=st.integers(0, 2**16))
def test_kmeans_l1_runs_stay_finite(data, seed):
    # With l1 the objective may rise (the mean does not minimise l1): only finiteness holds.
    X, k = data
    res = kmeans.fit(X, k=k, init="random", seed=seed, metric="l1", max_iter=50)
    assert np.isfinite(res.centers).all() and np.isfinite([s.objective for s in res.history[1:]]).all()


@SETTINGS
@given(
    data=data_and_k(),
    metric=st.sampled_from(["l1", "l2"]),
    medoids_from=st.sampled_from(["cluster", "all"]),
    seed=st.integers(0, 2**16),
)
def test_kmedoids_objective_never_increases_and_medoids_are_rows(data, metric, medoids_from, seed):
    X, k = data
    X_before = X.copy()
    res = kmedoids.fit(X, k=k, metric=metric, medoids_from=medoids_from, seed=seed, max_iter=100)
    np.testing.assert_array_equal(X, X_before)
    J = [s.objective for s in res.history[1:]]
    assert non_increasing(J, 0.0)
    for step in res.history:
        np.testing.assert_array_equal(step.centers, X[step.medoid_indices])
    np.testing.assert_array_equal(res.medoids, X[res.medoid_indices])
    assert np.isfinite(J).all()


@SETTINGS
@given(data=data_1d_and_k(), init=st.sampled_from(["kmeans", "random"]), seed=st.integers(0, 2**16))
def test_em_log_likelihood_never_decreases(data, init, seed):
    x, k = data
    x_before = x.copy()
    res = gmm1d.fit(x, k=k, init=init, seed=seed, max_iter=40, tol=0)
    np.testing.assert_array_equal(x, x_before)
    ll = [s.objective for s in res.history]
    assert np.isfinite(ll).all()
    assert all(b >= a - REL * abs(a) for a, b in zip(ll, ll[1:])), ll
    floor = gmm1d.default_min_sigma(x)
    for step in res.history:
        assert np.isfinite(step.means).all() and (step.sigmas >= floor * (1 - 1e-12)).all()
        assert abs(step.weights.sum() - 1.0) <= 1e-12 and (step.weights >= 0).all()
        if step.resp is not None:
            assert (step.resp >= 0).all() and (step.resp <= 1).all()
            np.testing.assert_allclose(step.resp.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@SETTINGS
@given(
    x=arrays(np.float64, st.integers(1, 20), elements=values),
    params=st.integers(1, 4).flatmap(
        lambda k: st.tuples(
            arrays(np.float64, (k,), elements=st.floats(0.01, 1.0)),
            arrays(np.float64, (k,), elements=values),
            arrays(np.float64, (k,), elements=st.floats(1e-3, 1e3)),
        )
    ),
)
def test_responsibilities_are_probabilities(x, params):
    w, m, s = params
    w = w / w.sum()
    resp = gmm1d.e_step(x, w, m, s)
    assert (resp >= 0).all() and (resp <= 1).all()
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.isfinite(gmm1d.log_likelihood(x, w, m, s))


# --------------------------------------------------------------------------- bad input

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 8),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.lists(st.one_of(st.floats(), st.integers(-3, 3), st.text(max_size=2)), max_size=4),
    st.lists(st.lists(st.floats(), min_size=0, max_size=3), max_size=3),
    arrays(
        st.sampled_from([np.float64, np.int64, np.bool_, np.complex128]),
        st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple),
        elements=None,
    ),
)
small_int = st.one_of(st.integers(-2, 30), junk)
real = st.one_of(st.floats(-1.0, 1.0), junk)


def no_nan(*arrays_):
    return all(not np.isnan(np.asarray(a, dtype=float)).any() for a in arrays_)


@SETTINGS
@given(
    X=st.one_of(data_and_k().map(lambda t: t[0]), junk),
    k=small_int,
    init=st.one_of(st.sampled_from(["random", "k-means++"]), junk),
    metric=st.one_of(st.sampled_from(["l1", "l2"]), junk),
    max_iter=small_int,
    tol=real,
    seed=st.one_of(st.integers(0, 9), junk),
)
def test_kmeans_bad_input_raises_only_value_or_type_error(X, k, init, metric, max_iter, tol, seed):
    try:
        res = kmeans.fit(X, k=k, init=init, metric=metric, max_iter=max_iter, tol=tol, seed=seed)
    except (ValueError, TypeError):
        return
    assert no_nan(res.centers, res.objective)


@SETTINGS
@given(
    X=st.one_of(data_and_k().map(lambda t: t[0]), junk),
    k=small_int,
    init=st.one_of(st.sampled_from(["random", "k-means++"]), junk),
    metric=st.one_of(st.sampled_from(["l1", "l2"]), junk),
    medoids_from=st.one_of(st.sampled_from(["cluster", "all"]), junk),
    max_iter=small_int,
)
def test_kmedoids_bad_input_raises_only_value_or_type_error(X, k, init, metric, medoids_from, max_iter):
    try:
        res = kmedoids.fit(X, k=k, init=init, metric=metric, medoids_from=medoids_from, max_iter=max_iter)
    except (ValueError, TypeError):
        return
    assert no_nan(res.medoids, res.objective)


@SETTINGS
@given(
    x=st.one_of(data_1d_and_k().map(lambda t: t[0]), junk),
    k=small_int,
    init=st.one_of(
        st.sampled_from(["kmeans", "random"]),
        st.tuples(junk, junk, junk),
        st.tuples(st.just([0.5, 0.5]), junk, st.just([1.0, 1.0])),
        junk,
    ),
    max_iter=small_int,
    tol=real,
    min_sigma=st.one_of(st.none(), real),
)
def test_gmm_bad_input_raises_only_value_or_type_error(x, k, init, max_iter, tol, min_sigma):
    try:
        res = gmm1d.fit(x, k=k, init=init, max_iter=max_iter, tol=tol, min_sigma=min_sigma, seed=0)
    except (ValueError, TypeError):
        return
    assert no_nan(res.weights, res.means, res.sigmas, res.resp, res.log_likelihood)


@SETTINGS
@given(a=junk, b=junk, c=junk)
def test_steps_bad_input_raise_only_value_or_type_error(a, b, c):
    calls = [
        lambda: kmeans.e_step(a, b),
        lambda: kmeans.m_step(a, b, 2),
        lambda: kmeans.objective(a, b, c),
        lambda: kmedoids.e_step(a, b),
        lambda: kmedoids.m_step(a, b, 2),
        lambda: gmm1d.e_step(a, b, c, c),
        lambda: gmm1d.m_step(a, b),
        lambda: gmm1d.log_likelihood(a, b, b, c),
    ]
    for call in calls:
        try:
            out = call()
        except (ValueError, TypeError):
            continue
        assert no_nan(*(out if isinstance(out, tuple) else (out,)))
