"""algos.gmm1d: log-domain steps, the fit and its history, parity with scikit-learn, degenerate data."""

from __future__ import annotations

import dataclasses
import doctest
import math
import warnings
from statistics import NormalDist

import numpy as np
import pytest

from algos import gmm1d

X5 = np.array([-1.0, 0.0, 4.0, 5.0, 6.0])
START = ([0.5, 0.5], [6.0, 7.0], [1.0, 2.0])


def direct_log_terms(x, w, m, s):
    """log(w_j N(x_i | m_j, s_j)) written out term by term."""
    x, w, m, s = (np.asarray(a, dtype=float) for a in (x, w, m, s))
    with np.errstate(divide="ignore"):
        return np.log(w) - np.log(s) - 0.5 * np.log(2 * np.pi) - 0.5 * ((x[:, None] - m) / s) ** 2


def direct_log_likelihood(x, w, m, s):
    L = direct_log_terms(x, w, m, s)
    top = L.max(axis=1)
    return float((top + np.log(np.exp(L - top[:, None]).sum(axis=1))).sum())


# --------------------------------------------------------------------------- steps


def test_e_step_rows_are_posteriors():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200) * 3
    w, m, s = [0.2, 0.5, 0.3], [-2.0, 0.0, 4.0], [0.5, 1.0, 2.0]
    resp = gmm1d.e_step(x, w, m, s)
    assert resp.shape == (200, 3)
    L = direct_log_terms(x, w, m, s)
    expected = np.exp(L) / np.exp(L).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(resp, expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_point_fifty_sds_from_every_component():
    # The densities underflow to 0 for both components (the seed's E-step gives 0/0 here);
    # in the log domain the responsibilities follow from the log-ratio.
    x = np.array([0.0, 1.0, 60.0])
    w, m, s = [0.5, 0.5], [0.0, 1.0], [1.0, 1.0]
    assert math.exp(-0.5 * 59.0**2) == 0.0  # indeed underflows
    resp = gmm1d.e_step(x, w, m, s)
    assert np.isfinite(resp).all()
    # log p0 - log p1 = -(60^2 - 59^2)/2 = -59.5
    np.testing.assert_allclose(resp[2], [1 / (1 + math.exp(59.5)), 1 / (1 + math.exp(-59.5))], rtol=1e-12)
    ll = gmm1d.log_likelihood(x, w, m, s)
    assert np.isfinite(ll)
    assert ll == pytest.approx(direct_log_likelihood(x, w, m, s), rel=1e-14)


def test_extreme_standardised_distance_does_not_give_nan():
    # |x - m| / s around 1e200: the squares overflow, the clipped fallback still answers.
    resp = gmm1d.e_step([0.0, 1e90], [0.5, 0.5], [0.0, 1.0], [1e-120, 1e-120])
    assert np.isfinite(resp).all()
    np.testing.assert_allclose(resp.sum(axis=1), 1.0)


def test_log_likelihood_matches_direct_sum():
    rng = np.random.default_rng(1)
    x = rng.normal(size=100)
    w, m, s = [0.3, 0.7], [-1.0, 1.0], [0.7, 1.3]
    dens = sum(wj * np.exp(-0.5 * ((x - mj) / sj) ** 2) / (sj * np.sqrt(2 * np.pi)) for wj, mj, sj in zip(w, m, s))
    assert gmm1d.log_likelihood(x, w, m, s) == pytest.approx(np.log(dens).sum(), rel=1e-13)
    assert gmm1d.objective is gmm1d.log_likelihood


def test_m_step_weighted_ml_estimates():
    rng = np.random.default_rng(2)
    x = rng.normal(size=50)
    r = rng.random((50, 2))
    r /= r.sum(axis=1, keepdims=True)
    w, m, s = gmm1d.m_step(x, r)
    Nk = r.sum(axis=0)
    np.testing.assert_allclose(w, Nk / 50, rtol=1e-13)
    np.testing.assert_allclose(m, (r * x[:, None]).sum(axis=0) / Nk, rtol=1e-13)
    np.testing.assert_allclose(s, np.sqrt((r * (x[:, None] - m) ** 2).sum(axis=0) / Nk), rtol=1e-13)


def test_m_step_floor_and_dead_component():
    x = np.array([1.0, 1.0, 1.0, 5.0])
    r = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    w, m, s = gmm1d.m_step(x, r, min_sigma=0.01)
    np.testing.assert_allclose(s, [0.01, 0.01])  # both collapse onto points: floored
    dead = np.array([[1.0, 0.0]] * 4)
    with pytest.raises(ValueError, match="previous"):
        gmm1d.m_step(x, dead)
    w, m, s = gmm1d.m_step(x, dead, previous=([0.5, 0.5], [0.0, 100.0], [1.0, 3.0]))
    np.testing.assert_allclose(w, [1.0, 0.0])
    assert m[1] == 100.0 and s[1] == 3.0


MAD_TO_SD = 1.4826022185056018  # 1 / Phi^{-1}(0.75)


def test_default_min_sigma_is_a_robust_scale():
    assert abs(MAD_TO_SD - 1 / NormalDist().inv_cdf(0.75)) < 1e-15
    # 1e-6 * 1.4826 * MAD: median 1, absolute deviations [1, 1] -> MAD 1
    assert gmm1d.default_min_sigma([0.0, 2.0]) == pytest.approx(1e-6 * MAD_TO_SD, rel=1e-15)
    assert gmm1d.default_min_sigma([0.0, 200.0]) == pytest.approx(1e-4 * MAD_TO_SD, rel=1e-15)
    # for normal data it is close to 1e-6 * the standard deviation
    x = np.random.default_rng(0).normal(10.0, 3.0, 20_000)
    assert gmm1d.default_min_sigma(x) == pytest.approx(3e-6, rel=0.03)


@pytest.mark.parametrize("far", [1e6, 1e12, -999.0, -1e90])
def test_default_min_sigma_ignores_a_far_value(far):
    # The old floor, 1e-6 * std(x), grew with the far value (0.07 for 1e6 here, above the
    # groups' spread 0.01). The MAD moves by at most one rank, whatever the value: the floor
    # stays below 1e-6 * 1.4826 * the range of the other values, and equals the floor for
    # any other far value on the same side.
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 0.01, 100), rng.normal(1, 0.01, 100)])
    floor = gmm1d.default_min_sigma(np.append(x, far))
    assert floor <= 1e-6 * MAD_TO_SD * np.ptp(x)
    same_side = 10 * far if far > 0 else -1.0 - rng.random()
    assert floor == gmm1d.default_min_sigma(np.append(x, same_side))
    assert 1e-6 * np.append(x, far).std() > 1e-6 * abs(far) / 20  # the old rule's floor


def test_default_min_sigma_on_degenerate_data():
    # more than half the values equal: MAD 0, the scale is the smallest gap between values
    assert gmm1d.default_min_sigma([5.0, 5.0, 5.0, 7.0]) == pytest.approx(2e-6, rel=1e-15)
    x = np.concatenate([np.zeros(90), [0.25, 0.5, 1e6]])  # a far value does not change the gap
    assert gmm1d.default_min_sigma(x) == pytest.approx(0.25e-6, rel=1e-15)
    # whole millimetres: resolution 1
    assert gmm1d.default_min_sigma(np.array([181.0] * 10 + [186.0, 195.0])) == pytest.approx(5e-6)
    # all equal: the value's size, or 1 for zeros
    assert gmm1d.default_min_sigma([3.0, 3.0]) == pytest.approx(3e-6, rel=1e-15)
    assert gmm1d.default_min_sigma(np.zeros(4)) == pytest.approx(1e-6, rel=1e-15)
    assert gmm1d.default_min_sigma([-2.0]) == pytest.approx(2e-6, rel=1e-15)


# --------------------------------------------------------------------------- fit and history


def test_history_objectives_are_log_likelihoods_of_the_step_parameters():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(-2, 1, 80), rng.normal(3, 0.5, 40)])
    res = gmm1d.fit(x, k=2, init="random", seed=0, max_iter=30, tol=0)
    prev = res.history[0]
    assert prev.kind == "init" and prev.resp is None and prev.iteration == 0
    assert prev.objective == pytest.approx(gmm1d.log_likelihood(x, prev.weights, prev.means, prev.sigmas), rel=1e-13)
    for i, step in enumerate(res.history[1:]):
        assert step.kind == ("E", "M")[i % 2] and step.iteration == i // 2 + 1
        params = (step.weights, step.means, step.sigmas)
        assert step.objective == pytest.approx(gmm1d.log_likelihood(x, *params), rel=1e-12)
        if step.kind == "E":
            # responsibilities from the previous parameters, which the E-step keeps
            np.testing.assert_array_equal(step.means, prev.means)
            np.testing.assert_allclose(step.resp, gmm1d.e_step(x, prev.weights, prev.means, prev.sigmas), rtol=1e-12, atol=1e-300)
        else:
            np.testing.assert_array_equal(step.resp, prev.resp)
            w, m, s = gmm1d.m_step(x, step.resp)
            np.testing.assert_allclose(step.weights, w, rtol=1e-12)
            np.testing.assert_allclose(step.means, m, rtol=1e-12)
            np.testing.assert_allclose(step.sigmas, s, rtol=1e-12)
        prev = step
    last = res.history[-1]
    assert res.log_likelihood == last.objective
    np.testing.assert_array_equal(res.means, last.means)
    np.testing.assert_allclose(res.resp, gmm1d.e_step(x, res.weights, res.means, res.sigmas), rtol=1e-12, atol=1e-300)
    J = [s.objective for s in res.history]
    assert all(b >= a - 1e-9 * abs(a) for a, b in zip(J, J[1:]))


def test_result_is_immutable():
    res = gmm1d.fit(X5, k=2, init=START, max_iter=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.means = None
    for arr in (res.means, res.resp, res.history[1].resp, res.history[0].weights):
        with pytest.raises(ValueError):
            arr[0] = 0


def test_tol_is_per_point():
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.normal(-2, 1, 300), rng.normal(2, 1, 300)])
    res = gmm1d.fit(x, k=2, init="random", seed=1, tol=1e-6, max_iter=500)
    assert res.converged and res.n_iter < 500
    ll = [s.objective for s in res.history if s.kind == "M"]
    assert abs(ll[-1] - ll[-2]) < 1e-6 * len(x)
    assert all(abs(b - a) >= 1e-6 * len(x) for a, b in zip(ll[:-2], ll[1:-1]))
    never = gmm1d.fit(x, k=2, init="random", seed=1, tol=0, max_iter=25)
    assert never.n_iter == 25 and not never.converged


def test_max_iter_zero():
    res = gmm1d.fit(X5, k=2, init=START, max_iter=0)
    assert [s.kind for s in res.history] == ["init"] and res.n_iter == 0
    np.testing.assert_allclose(res.resp, gmm1d.e_step(X5, *START))
    assert res.log_likelihood == pytest.approx(-24.512532330086678, abs=1e-10)


@pytest.mark.parametrize("init", ["kmeans", "random"])
def test_seeded_initialisations(init):
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(-5, 1, 100), rng.normal(5, 1, 100)])
    a = gmm1d.fit(x, k=2, init=init, seed=3, max_iter=0).history[0]
    b = gmm1d.fit(x, k=2, init=init, seed=3, max_iter=0).history[0]
    np.testing.assert_array_equal(a.means, b.means)
    assert a.weights.sum() == pytest.approx(1.0) and (a.sigmas > 0).all()
    if init == "kmeans":
        np.testing.assert_allclose(sorted(a.means), [-5, 5], atol=0.5)
    else:
        assert all(np.isin(a.means, x))
        np.testing.assert_allclose(a.sigmas, x.std())
    res = gmm1d.fit(x, k=2, init=init, seed=3)
    np.testing.assert_allclose(sorted(res.means), [-5, 5], atol=0.5)


def test_column_input_accepted():
    a = gmm1d.fit(X5[:, None], k=2, init=START, max_iter=2)
    b = gmm1d.fit(X5, k=2, init=START, max_iter=2)
    np.testing.assert_array_equal(a.means, b.means)


# --------------------------------------------------------------------------- degenerate data


def test_component_collapsing_onto_one_point_is_floored():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 20.0])
    res = gmm1d.fit(x, k=2, init=([0.5, 0.5], [0.0, 20.0], [1.0, 1.0]), max_iter=20, tol=0)
    floor = gmm1d.default_min_sigma(x)
    assert res.sigmas[1] == floor  # a single point: sigma would be 0
    assert np.isfinite(res.log_likelihood)
    for step in res.history:
        assert np.isfinite(step.objective) and (step.sigmas > 0).all()
    J = [s.objective for s in res.history]
    assert all(b >= a - 1e-9 * abs(a) for a, b in zip(J, J[1:]))
    custom = gmm1d.fit(x, k=2, init=([0.5, 0.5], [0.0, 20.0], [1.0, 1.0]), max_iter=5, min_sigma=0.25)
    assert custom.sigmas[1] == 0.25


def test_component_nobody_belongs_to():
    x = np.random.default_rng(6).normal(size=50)
    res = gmm1d.fit(x, k=2, init=([0.5, 0.5], [0.0, 1e4], [1.0, 1.0]), max_iter=5, tol=0)
    assert res.weights[1] == 0.0 and res.means[1] == 1e4 and res.sigmas[1] == 1.0
    assert np.isfinite(res.log_likelihood) and np.isfinite(res.resp).all()
    np.testing.assert_allclose(res.resp[:, 0], 1.0)


def test_all_points_equal_and_k_equals_n():
    res = gmm1d.fit(np.full(5, 3.0), k=2, seed=0)
    assert np.isfinite(res.log_likelihood) and (res.sigmas > 0).all()
    x = np.array([0.0, 1.0, 2.0])
    res = gmm1d.fit(x, k=3, init="random", seed=0, max_iter=50)
    assert np.isfinite(res.log_likelihood) and np.isfinite(res.resp).all()


def test_inputs_unchanged():
    x = X5.copy()
    w, m, s = (np.array(a) for a in START)
    copies = [a.copy() for a in (x, w, m, s)]
    gmm1d.fit(x, k=2, init=(w, m, s), max_iter=5)
    r = gmm1d.e_step(x, w, m, s)
    r_copy = r.copy()
    gmm1d.m_step(x, r)
    for a, b in zip((x, w, m, s, r), copies + [r_copy]):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- parity with sklearn


def parity_cases(count=22):
    rng = np.random.default_rng(99)
    cases = []
    for case in range(count):
        k = int(rng.integers(2, 4))
        n = int(rng.integers(60, 1500))
        centres = rng.normal(scale=5, size=k)
        x = centres[rng.integers(k, size=n)] + rng.normal(scale=rng.uniform(0.5, 2), size=n) + rng.uniform(-50, 50)
        w = rng.dirichlet(np.full(k, 3.0))
        m = rng.choice(x, size=k, replace=False)
        s = np.full(k, x.std()) * rng.uniform(0.3, 1.0, size=k)
        cases.append(pytest.param(x, (w, m, s), int(rng.integers(10, 60)), id=f"case{case}-n{n}-k{k}"))
    return cases


PARITY_CASES = parity_cases()


def test_enough_parity_cases():
    assert len(PARITY_CASES) >= 20


@pytest.mark.parametrize("x, start, iters", PARITY_CASES)
def test_parity_with_sklearn_gaussian_mixture(x, start, iters):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    w, m, s = start
    k = len(w)
    sk = GaussianMixture(
        n_components=k,
        covariance_type="full",
        weights_init=w,
        means_init=m[:, None],
        precisions_init=(1.0 / s**2)[:, None, None],
        reg_covar=1e-12,  # negligible next to variances of order 1
        tol=0.0,  # never stop early: run exactly `iters` iterations, as ours with tol=0
        max_iter=iters,
        n_init=1,
    )
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk.fit(x[:, None])
    ours = gmm1d.fit(x, k=k, init=start, max_iter=iters, tol=0)
    assert sk.n_iter_ == ours.n_iter == iters
    np.testing.assert_allclose(ours.weights, sk.weights_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.means, sk.means_[:, 0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours.sigmas, np.sqrt(sk.covariances_[:, 0, 0]), rtol=1e-6, atol=1e-6)
    # sklearn's lower_bound_ is the per-point mean log-likelihood of the parameters that
    # entered its last iteration: our E-step of that iteration, divided by n.
    last_e = ours.history[-2]
    assert last_e.kind == "E" and last_e.iteration == iters
    assert sk.lower_bound_ == pytest.approx(last_e.objective / len(x), rel=1e-9)


def test_docstring_examples():
    failures, tried = doctest.testmod(gmm1d, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried >= 5 and failures == 0


# --------------------------------------------------------------------------- the sigma floor (issue 11)


def test_issue_example_far_value_does_not_inflate_the_sigmas():
    # Two groups of spread 0.01 and one value at 1e6. With the old floor (1e-6 * std = 0.070)
    # both groups came out with sigma 0.070; now the floor is 1.4e-6 and the groups keep
    # their own spread (the sample standard deviations, which EM converges to here).
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 0.01, 100), rng.normal(1, 0.01, 100)
    x = np.concatenate([a, b, [1e6]])
    res = gmm1d.fit(x, k=3, seed=0)
    order = np.argsort(res.means)
    np.testing.assert_allclose(res.sigmas[order[:2]], [a.std(), b.std()], rtol=1e-6)
    np.testing.assert_allclose(res.sigmas[order[:2]], [0.00962130, 0.00955702], rtol=1e-5)
    assert res.means[order[2]] == 1e6 and res.sigmas[order[2]] == gmm1d.default_min_sigma(x)
    assert gmm1d.default_min_sigma(x) == pytest.approx(1.41735845e-06, rel=1e-8)


@pytest.mark.parametrize("sentinel", [-999.0, 1e6, 99999.0])
def test_sentinel_values_get_their_own_component(sentinel):
    # A block of missing-value codes: a component collapses onto it (at the floor, listed as
    # floored), and the real groups keep their spread.
    rng = np.random.default_rng(2)
    a, b = rng.normal(10, 0.5, 150), rng.normal(20, 0.5, 150)
    x = np.concatenate([a, b, np.full(5, sentinel)])
    res = gmm1d.fit(x, k=3, seed=1)
    code = int(np.argmin(np.abs(res.means - sentinel)))
    assert res.means[code] == sentinel and res.sigmas[code] == gmm1d.default_min_sigma(x)
    assert res.weights[code] == pytest.approx(5 / 305)
    assert code in res.history[-1].floored
    groups = np.sort(res.sigmas[np.arange(3) != code])
    np.testing.assert_allclose(groups, np.sort([a.std(), b.std()]), rtol=1e-4)
    lls = [s.objective for s in res.history]
    assert all(y >= x_ - 1e-9 * abs(x_) for x_, y in zip(lls, lls[1:]))


def test_starting_sigmas_below_the_floor_are_raised_and_recorded():
    x = np.array([-1.0, 0.0, 4.0, 5.0, 6.0])
    floor = gmm1d.default_min_sigma(x)  # median 4, deviations [5, 4, 0, 1, 2]: MAD 2
    assert floor == pytest.approx(2 * MAD_TO_SD * 1e-6, rel=1e-15)
    res = gmm1d.fit(x, k=2, init=([0.5, 0.5], [6.0, 7.0], [1e-9, 2.0]), max_iter=10, tol=0)
    init = res.history[0]
    np.testing.assert_array_equal(init.sigmas, [floor, 2.0])
    assert init.floored == (0,)
    assert init.objective == gmm1d.log_likelihood(x, init.weights, init.means, init.sigmas)
    lls = [s.objective for s in res.history]
    assert all(b >= a - 1e-12 * len(x) for a, b in zip(lls, lls[1:])), lls
    # an explicit min_sigma is applied the same way
    res = gmm1d.fit(x, k=2, init=([0.5, 0.5], [6.0, 7.0], [1.0, 2.0]), max_iter=0, min_sigma=1.5)
    np.testing.assert_array_equal(res.history[0].sigmas, [1.5, 2.0])
    assert res.history[0].floored == (0,)
    # sigmas above the floor: nothing changes and nothing is listed
    res = gmm1d.fit(x, k=2, init=([0.5, 0.5], [6.0, 7.0], [1.0, 2.0]), max_iter=3)
    assert res.history[0].floored == () and all(s.floored == () for s in res.history)


def test_start_below_the_floor_no_longer_lowers_the_likelihood():
    # Before the fix the start kept sigma 1e-9, below the floor: its log-likelihood was 51.497
    # and the first M-step, raising sigma to the floor, dropped it to 28.683. Now the start is
    # floored first, and the recorded log-likelihood rises from there (28.376 -> 28.484).
    x = np.array([0.0, 0.0, 0.0, 3.0, 4.0, 5.0])
    res = gmm1d.fit(x, k=2, init=([0.5, 0.5], [0.0, 4.0], [1e-9, 1.0]), max_iter=20, tol=0)
    floor = gmm1d.default_min_sigma(x)  # median 1.5, deviations [1.5]*3 + [1.5, 2.5, 3.5]: MAD 1.5
    assert floor == pytest.approx(1.5 * MAD_TO_SD * 1e-6, rel=1e-15)
    assert res.history[0].sigmas[0] == floor
    lls = [s.objective for s in res.history]
    assert lls[0] == pytest.approx(direct_log_likelihood(x, [0.5, 0.5], [0.0, 4.0], [floor, 1.0]), rel=1e-13)
    assert lls[0] == pytest.approx(28.376, abs=1e-3) and lls[-1] == pytest.approx(28.484, abs=1e-3)
    assert all(b >= a - 1e-12 * len(x) for a, b in zip(lls, lls[1:])), lls


def test_collapse_is_listed_in_floored():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 20.0])
    res = gmm1d.fit(x, k=2, init=([0.5, 0.5], [0.0, 20.0], [1.0, 1.0]), max_iter=5, tol=0)
    assert res.history[0].floored == ()
    assert [s.floored for s in res.history if s.kind == "M"] == [(1,)] * 5
    assert all(s.floored == () for s in res.history if s.kind == "E")
