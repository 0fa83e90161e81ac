"""algos.gmm: log-domain steps, covariance types, the fit and its history, parity with
scikit-learn and with algos.gmm1d, equivariance, degenerate data and bad input."""

from __future__ import annotations

import dataclasses
import doctest
import re
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from algos import gmm, gmm1d, kmeans

TYPES = ("full", "diag", "spherical", "tied")


def blobs(seed, n=300, d=2, k=3, spread=4.0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=spread, size=(k, d))
    return centres[rng.integers(k, size=n)] + rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) * 0.5


def random_start(rng, X, k, covariance_type="full"):
    """Weights, means at data points, and covariances in the type's form."""
    n, d = X.shape
    w = rng.dirichlet(np.full(k, 3.0))
    m = X[rng.choice(n, size=k, replace=False)]
    A = rng.normal(size=(k, d, d))
    c = (A @ A.transpose(0, 2, 1) + np.eye(d)) * X.var(axis=0).mean() * rng.uniform(0.2, 1.0)
    if covariance_type == "diag":
        c = np.eye(d) * np.diagonal(c, axis1=1, axis2=2)[:, :, None]
    elif covariance_type == "spherical":
        c = np.eye(d) * c[:, :1, :1]
    elif covariance_type == "tied":
        c = np.repeat(c[:1], k, axis=0)
    return w, m, c


def direct_log_terms(X, w, m, c):
    """log(w_j N(x_i | m_j, c_j)) from scipy, term by term."""
    with np.errstate(divide="ignore"):
        return np.stack([np.log(wj) + multivariate_normal(mj, cj).logpdf(X) for wj, mj, cj in zip(w, m, c)], axis=1)


def direct_log_likelihood(X, w, m, c):
    return float(logsumexp(direct_log_terms(X, w, m, c), axis=1).sum())


# --------------------------------------------------------------------------- steps


def test_e_step_rows_are_posteriors():
    rng = np.random.default_rng(0)
    X = blobs(0, n=200)
    w, m, c = random_start(rng, X, 3)
    resp = gmm.e_step(X, w, m, c)
    assert resp.shape == (200, 3)
    L = direct_log_terms(X, w, m, c)
    np.testing.assert_allclose(resp, np.exp(L - logsumexp(L, axis=1, keepdims=True)), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_log_likelihood_matches_scipy(d):
    rng = np.random.default_rng(d)
    X = blobs(d, n=150, d=d)
    w, m, c = random_start(rng, X, 3)
    assert gmm.log_likelihood(X, w, m, c) == pytest.approx(direct_log_likelihood(X, w, m, c), rel=1e-12)
    assert gmm.objective is gmm.log_likelihood


def test_tiny_covariances_in_ten_dimensions_do_not_underflow():
    # det(1e-40 I_10) = 1e-400 underflows to 0, so a formula through the determinant gives
    # log(0) = -inf; through the Cholesky factor it is 10 * log(1e-20) per log sqrt(det).
    d = 10
    cov = np.eye(d)[None] * 1e-40
    assert np.linalg.det(cov[0]) == 0.0
    X = np.zeros((3, d))
    X[1, 0] = 1e-20
    ll = gmm.log_likelihood(X, [1.0], np.zeros((1, d)), cov)
    expected = 3 * (-0.5 * d * np.log(2 * np.pi) - 0.5 * np.log(1e-40) * d) - 0.5  # one point 1 sd away
    assert ll == pytest.approx(expected, rel=1e-13)


def test_point_fifty_standard_deviations_from_every_component():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [60.0, 0.0]])
    w, m, c = [0.5, 0.5], [[0.0, 0.0], [1.0, 0.0]], [np.eye(2), np.eye(2)]
    assert multivariate_normal([1.0, 0.0], np.eye(2)).pdf(X[2]) == 0.0  # the density underflows
    resp = gmm.e_step(X, w, m, c)
    # log p0 - log p1 = -(60^2 - 59^2) / 2 = -59.5
    np.testing.assert_allclose(resp[2], [1 / (1 + np.exp(59.5)), 1 / (1 + np.exp(-59.5))], rtol=1e-12)
    assert gmm.log_likelihood(X, w, m, c) == pytest.approx(direct_log_likelihood(X, w, m, c), rel=1e-14)


def test_overflowing_mahalanobis_distance_gives_no_nan():
    # |x - mean| / sd about 1e200: |z|^2 overflows; the clipped fallback still answers.
    X = np.array([[0.0, 0.0], [1e90, -1e90]])
    c = np.array([np.eye(2), [[1.0, 0.5], [0.5, 1.0]]]) * 1e-220
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no RuntimeWarning escapes
        resp = gmm.e_step(X, [0.5, 0.5], [[0.0, 0.0], [0.0, 0.0]], c)
        ll = gmm.log_likelihood(X, [0.5, 0.5], [[0.0, 0.0], [0.0, 0.0]], c)
    assert np.isfinite(resp).all() and not np.isnan(ll)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0)


def weighted_statistics(X, r):
    """Weighted means and scatter matrices written out with einsum."""
    Nk = r.sum(axis=0)
    means = r.T @ X / Nk[:, None]
    dev = X[None, :, :] - means[:, None, :]
    S = np.einsum("ik,kia,kib->kab", r, dev, dev) / Nk[:, None, None]
    return Nk, means, S


@pytest.mark.parametrize("covariance_type", TYPES)
def test_m_step_is_weighted_maximum_likelihood_plus_reg(covariance_type):
    rng = np.random.default_rng(2)
    X = blobs(2, n=80, d=3)
    r = rng.random((80, 3))
    r /= r.sum(axis=1, keepdims=True)
    reg = np.array([0.01, 0.02, 0.03])
    w, m, c = gmm.m_step(X, r, covariance_type=covariance_type, reg_covar=reg)
    Nk, means, S = weighted_statistics(X, r)
    np.testing.assert_allclose(w, Nk / 80, rtol=1e-13)
    np.testing.assert_allclose(m, means, rtol=1e-12)
    expected = {
        "full": S,
        "diag": np.eye(3) * np.diagonal(S, axis1=1, axis2=2)[:, :, None],
        "spherical": np.eye(3) * np.diagonal(S, axis1=1, axis2=2).mean(axis=1)[:, None, None],
        "tied": np.repeat(np.tensordot(Nk / 80, S, axes=1)[None], 3, axis=0),
    }[covariance_type]
    expected += np.diag(np.full(3, reg.mean()) if covariance_type == "spherical" else reg)
    np.testing.assert_allclose(c, expected, rtol=1e-12)
    assert c.shape == (3, 3, 3)
    np.testing.assert_array_equal(c, c.transpose(0, 2, 1))


def test_m_step_dead_component_keeps_previous_parameters():
    X = blobs(3, n=40)
    dead = np.zeros((40, 2))
    dead[:, 0] = 1.0
    with pytest.raises(ValueError, match="previous"):
        gmm.m_step(X, dead)
    previous = ([0.5, 0.5], [[0.0, 0.0], [100.0, 100.0]], [np.eye(2), 3 * np.eye(2)])
    for covariance_type in TYPES:
        w, m, c = gmm.m_step(X, dead, covariance_type=covariance_type, previous=previous)
        np.testing.assert_array_equal(w, [1.0, 0.0])
        np.testing.assert_array_equal(m[1], [100.0, 100.0])
        if covariance_type == "tied":
            np.testing.assert_array_equal(c[1], c[0])  # tied: the dead one shares the common matrix
        else:
            np.testing.assert_array_equal(c[1], 3 * np.eye(2))


def test_m_step_without_reg_covar_rejects_a_collapsed_component():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [10.0, 0.0], [11.0, -1.0]])  # two lines
    r = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    for covariance_type in ("full", "tied"):
        with pytest.raises(ValueError, match="reg_covar"):  # a line, or a point (tied: the pooled matrix)
            gmm.m_step(X[:4], r[:4], reg_covar=0, covariance_type=covariance_type)
    with pytest.raises(ValueError, match="component 0 .*reg_covar"):
        gmm.m_step(X, r, reg_covar=0)
    w, m, c = gmm.m_step(X, r, reg_covar=0, covariance_type="tied")  # two directions pooled: fine
    assert np.linalg.eigvalsh(c[0]).min() > 0.1


def test_default_reg_covar_is_relative_to_each_feature():
    X = np.array([[0.0, 5.0, 1.0], [2.0, 5.0, 201.0]])
    np.testing.assert_allclose(gmm.default_reg_covar(X), [1e-6, 1e-6 * (1 + 10000) / 3, 1e-2])
    np.testing.assert_allclose(gmm.default_reg_covar(np.full((4, 2), 7.0)), [1e-6, 1e-6])
    res = gmm.fit(X, k=1, max_iter=1)
    np.testing.assert_array_equal(res.reg_covar, gmm.default_reg_covar(X))
    np.testing.assert_array_equal(gmm.fit(X, k=1, max_iter=1, reg_covar=0.5).reg_covar, [0.5] * 3)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_n_parameters_matches_scikit_learn(covariance_type):
    from sklearn.mixture import GaussianMixture

    X = blobs(4, n=60, d=3)
    sk = GaussianMixture(4, covariance_type=covariance_type, random_state=0, tol=1e3).fit(X)
    assert gmm.n_parameters(4, 3, covariance_type) == sk._n_parameters()


# --------------------------------------------------------------------------- fit and history


def assert_history_consistent(X, res, rel=1e-10):
    """Every step's objective is the log-likelihood of its parameters, recomputed from scratch;
    E-steps keep the parameters and recompute resp; M-steps are m_step of that resp."""
    scale = len(X) + abs(res.log_likelihood)
    prev = res.history[0]
    assert prev.kind == "init" and prev.iteration == 0 and prev.resp is None
    for i, step in enumerate(res.history):
        params = (step.weights, step.means, step.covariances)
        assert step.objective == step.log_likelihood
        assert step.objective == pytest.approx(gmm.log_likelihood(X, *params), rel=rel, abs=rel * scale)
        if i == 0:
            continue
        assert step.kind == ("E", "M")[(i - 1) % 2] and step.iteration == (i + 1) // 2
        if step.kind == "E":
            for a, b in zip(params, (prev.weights, prev.means, prev.covariances)):
                np.testing.assert_array_equal(a, b)
            assert step.objective == prev.objective
            np.testing.assert_allclose(step.resp, gmm.e_step(X, *params), rtol=1e-9, atol=1e-12)
        else:
            assert step.resp is prev.resp and step.dead == prev.dead
            Nk = step.resp.sum(axis=0)
            assert step.dead == tuple(np.flatnonzero(Nk == 0))
            expected = gmm.m_step(X, step.resp, covariance_type=res.covariance_type, reg_covar=res.reg_covar,
                                  previous=(prev.weights, prev.means, prev.covariances))
            for a, b in zip(params, expected):
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12 * np.abs(b).max())
        prev = step
    last = res.history[-1]
    assert res.log_likelihood == last.objective
    for a, b in zip((res.weights, res.means, res.covariances), (last.weights, last.means, last.covariances)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(res.resp, gmm.e_step(X, res.weights, res.means, res.covariances), rtol=1e-9, atol=1e-12)
    assert res.n_iter == last.iteration


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("init", ["kmeans", "random"])
def test_history_is_consistent(covariance_type, init):
    X = blobs(5, n=150)
    res = gmm.fit(X, k=3, covariance_type=covariance_type, init=init, seed=1, max_iter=25, tol=0)
    assert res.n_iter == 25 and not res.converged and len(res.history) == 51
    assert_history_consistent(X, res)
    J = [s.objective for s in res.history]
    assert all(b >= a - 1e-9 * abs(a) for a, b in zip(J, J[1:]))


@pytest.mark.parametrize("covariance_type", TYPES)
def test_covariances_have_the_form_of_their_type(covariance_type):
    X = blobs(6, n=200, d=3)
    res = gmm.fit(X, k=3, covariance_type=covariance_type, seed=0, max_iter=10)
    for c in [res.covariances] + [s.covariances for s in res.history]:
        assert c.shape == (3, 3, 3)
        np.testing.assert_array_equal(c, c.transpose(0, 2, 1))
        assert (np.linalg.eigvalsh(c) > 0).all()
        off = c - np.eye(3) * np.diagonal(c, axis1=1, axis2=2)[:, :, None]
        if covariance_type in ("diag", "spherical"):
            assert (off == 0).all()
        else:
            assert (off != 0).any()
        if covariance_type == "spherical":
            np.testing.assert_array_equal(c, np.eye(3) * c[:, :1, :1])
        if covariance_type == "tied":
            np.testing.assert_array_equal(c, np.repeat(c[:1], 3, axis=0))


def test_result_is_immutable():
    res = gmm.fit(blobs(7, n=50), k=2, seed=0, max_iter=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.means = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.history[1].weights = None
    step = res.history[2]
    for arr in (res.weights, res.means, res.covariances, res.resp, res.reg_covar, step.resp, step.covariances,
                res.history[0].means):
        with pytest.raises(ValueError):
            arr.flat[0] = 0


def test_tol_is_per_point():
    X = blobs(8, n=400)
    res = gmm.fit(X, k=3, seed=2, tol=1e-6, max_iter=500)
    assert res.converged and res.n_iter < 500
    ll = [s.objective for s in res.history if s.kind != "E"]
    assert abs(ll[-1] - ll[-2]) < 1e-6 * len(X)
    assert all(abs(b - a) >= 1e-6 * len(X) for a, b in zip(ll[:-2], ll[1:-1]))
    never = gmm.fit(X, k=3, seed=2, tol=0, max_iter=7)
    assert never.n_iter == 7 and not never.converged


def test_max_iter_zero_returns_the_start():
    X = blobs(9, n=60)
    start = random_start(np.random.default_rng(9), X, 2)
    res = gmm.fit(X, k=2, init=start, max_iter=0)
    assert [s.kind for s in res.history] == ["init"] and res.n_iter == 0 and not res.converged
    np.testing.assert_allclose(res.resp, gmm.e_step(X, *start), rtol=1e-12)
    assert res.log_likelihood == pytest.approx(direct_log_likelihood(X, *start), rel=1e-12)
    np.testing.assert_array_equal(res.covariances, start[2])


@pytest.mark.parametrize("covariance_type", TYPES)
def test_kmeans_start_is_the_m_step_of_a_kmeans_labelling(covariance_type):
    X = blobs(10, n=120)
    start = gmm.fit(X, k=3, covariance_type=covariance_type, init="kmeans", seed=4, max_iter=0).history[0]
    labels = kmeans.fit(X, k=3, init="k-means++", seed=np.random.default_rng(4)).labels
    expected = gmm.m_step(X, np.eye(3)[labels], covariance_type=covariance_type)
    for a, b in zip((start.weights, start.means, start.covariances), expected):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    again = gmm.fit(X, k=3, covariance_type=covariance_type, init="kmeans", seed=4, max_iter=0).history[0]
    np.testing.assert_array_equal(again.means, start.means)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_random_start(covariance_type):
    X = blobs(11, n=100)
    start = gmm.fit(X, k=3, covariance_type=covariance_type, init="random", seed=5, max_iter=0).history[0]
    assert all(any((row == X).all(axis=1)) for row in start.means)
    assert len({tuple(row) for row in start.means}) == 3
    np.testing.assert_array_equal(start.weights, np.full(3, 1 / 3))
    whole = gmm.m_step(X, np.ones((100, 1)), covariance_type=covariance_type)[2]
    np.testing.assert_allclose(start.covariances, np.repeat(whole, 3, axis=0), rtol=1e-12)
    other = gmm.fit(X, k=3, covariance_type=covariance_type, init="random", seed=6, max_iter=0).history[0]
    assert not np.array_equal(other.means, start.means)


# --------------------------------------------------------------------------- agreement with gmm1d


def one_d_cases(count=8):
    rng = np.random.default_rng(17)
    cases = []
    for case in range(count):
        k = int(rng.integers(2, 4))
        n = int(rng.integers(50, 400))
        x = rng.normal(scale=5, size=k)[rng.integers(k, size=n)] + rng.normal(scale=rng.uniform(0.5, 2), size=n)
        start = (rng.dirichlet(np.full(k, 3.0)), rng.choice(x, size=k, replace=False), x.std() * rng.uniform(0.3, 1, k))
        cases.append(pytest.param(x, start, id=f"case{case}-n{n}-k{k}"))
    return cases


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
@pytest.mark.parametrize("x, start", one_d_cases())
def test_one_dimension_agrees_with_gmm1d(x, start, covariance_type):
    # In one dimension "full", "diag" and "spherical" are the same model as gmm1d's; with
    # reg_covar=0 and gmm1d's sigma floor far below every sigma, both run plain EM.
    w, m, s = start
    k = len(w)
    ours = gmm.fit(x[:, None], k=k, covariance_type=covariance_type, init=(w, m[:, None], (s**2)[:, None, None]),
                   reg_covar=0, tol=0, max_iter=40)
    ref = gmm1d.fit(x, k=k, init=start, tol=0, max_iter=40, min_sigma=1e-12 * x.std())
    assert (ref.sigmas > 1e-3 * x.std()).all()  # the floor never acted
    np.testing.assert_allclose(ours.weights, ref.weights, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.means[:, 0], ref.means, rtol=1e-10)
    np.testing.assert_allclose(np.sqrt(ours.covariances[:, 0, 0]), ref.sigmas, rtol=1e-10)
    np.testing.assert_allclose(ours.resp, ref.resp, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose([s.objective for s in ours.history], [s.objective for s in ref.history], rtol=1e-11)


# --------------------------------------------------------------------------- parity with scikit-learn


def to_sklearn_precisions(c, covariance_type):
    """Precisions in scikit-learn's shape for ``precisions_init`` (a test may invert)."""
    P = np.linalg.inv(c)
    return {"full": P, "tied": P[0], "diag": np.diagonal(P, axis1=1, axis2=2), "spherical": P[:, 0, 0]}[covariance_type]


def from_sklearn_covariances(sk, k, d):
    c, t = sk.covariances_, sk.covariance_type
    return {
        "full": lambda: c,
        "tied": lambda: np.repeat(c[None], k, axis=0),
        "diag": lambda: np.eye(d) * c[:, :, None],
        "spherical": lambda: np.eye(d) * c[:, None, None],
    }[t]()


def parity_cases(count=22):
    rng = np.random.default_rng(2024)
    cases = []
    for case in range(count):
        d = int(rng.integers(2, 5))
        k = int(rng.integers(2, 5))
        n = int(rng.integers(80, 600))
        scale = 10.0 ** rng.uniform(-2, 3)  # data in many units
        centres = rng.normal(scale=4, size=(k, d))
        X = centres[rng.integers(k, size=n)] + rng.normal(size=(n, d)) @ rng.normal(size=(d, d))
        X = X * scale + rng.uniform(-50, 50, size=d) * scale
        iters, seed = int(rng.integers(5, 40)), int(rng.integers(2**31))
        cases.append(pytest.param(X, k, iters, seed, id=f"case{case}-n{n}-d{d}-k{k}"))
    return cases


PARITY_CASES = parity_cases()


def test_enough_parity_cases():
    assert len(PARITY_CASES) >= 20
    assert {X.shape[1] for X, *_ in (p.values for p in PARITY_CASES)} == {2, 3, 4}


def sklearn_fit(X, k, covariance_type, start, reg, tol, max_iter):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    w, m, c = start
    sk = GaussianMixture(
        n_components=k, covariance_type=covariance_type, weights_init=w, means_init=m,
        precisions_init=to_sklearn_precisions(c, covariance_type), reg_covar=reg, tol=tol, max_iter=max_iter,
    )
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        return sk.fit(X)


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("X, k, iters, seed", PARITY_CASES)
def test_parity_with_sklearn_gaussian_mixture(X, k, iters, seed, covariance_type):
    n, d = X.shape
    start = random_start(np.random.default_rng(seed), X, k, covariance_type)
    reg = float(gmm.default_reg_covar(X).mean())  # a scalar, as scikit-learn takes, of the data's scale
    # tol=0: neither stops early, both run exactly `iters` iterations
    sk = sklearn_fit(X, k, covariance_type, start, reg, 0.0, iters)
    ours = gmm.fit(X, k=k, covariance_type=covariance_type, init=start, reg_covar=reg, tol=0, max_iter=iters)
    assert sk.n_iter_ == ours.n_iter == iters
    size = np.abs(X).max()
    np.testing.assert_allclose(ours.weights, sk.weights_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.means, sk.means_, rtol=1e-6, atol=1e-6 * size)
    c_sk = from_sklearn_covariances(sk, k, d)
    np.testing.assert_allclose(ours.covariances, c_sk, rtol=1e-6, atol=1e-6 * np.abs(c_sk).max())
    # log-likelihood of the returned parameters: n * score(X); sklearn's lower_bound_ is the
    # per-point log-likelihood of the parameters *entering* its last iteration (our last E-step)
    assert ours.log_likelihood == pytest.approx(n * sk.score(X), rel=1e-9, abs=1e-9 * n)
    assert ours.history[-2].kind == "E"
    assert sk.lower_bound_ == pytest.approx(ours.history[-2].objective / n, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("X, k, iters, seed", PARITY_CASES[:5])
def test_sklearn_stops_one_iteration_after_us_with_the_same_tol(X, k, iters, seed, covariance_type):
    # scikit-learn compares the per-point log-likelihoods of the parameters entering two
    # successive iterations, we those of the parameters leaving them: from the same start
    # and tol it needs one more iteration, and its answer is ours after that iteration.
    n = X.shape[0]
    start = random_start(np.random.default_rng(seed), X, k, covariance_type)
    reg = float(gmm.default_reg_covar(X).mean())
    ours = gmm.fit(X, k=k, covariance_type=covariance_type, init=start, reg_covar=reg, tol=1e-4, max_iter=500)
    sk = sklearn_fit(X, k, covariance_type, start, reg, 1e-4, 500)
    assert ours.converged and sk.converged_
    assert sk.n_iter_ == ours.n_iter + 1
    same = gmm.fit(X, k=k, covariance_type=covariance_type, init=start, reg_covar=reg, tol=0, max_iter=sk.n_iter_)
    np.testing.assert_allclose(same.means, sk.means_, rtol=1e-6, atol=1e-6 * np.abs(X).max())
    assert same.log_likelihood == pytest.approx(n * sk.score(X), rel=1e-9)


# --------------------------------------------------------------------------- equivariance


def transform_start(start, scale, shift):
    w, m, c = start
    return w, m * scale + shift, c * np.outer(scale, scale)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_scale_and_shift_equivariance_with_the_default_reg_covar(covariance_type):
    # Each feature in its own unit: x -> a x + b per feature. "spherical" (one variance for all
    # features) is equivariant only under a scaling common to all features.
    X = blobs(12, n=200)
    start = random_start(np.random.default_rng(12), X, 3, covariance_type)
    scale = np.array([1e3, 1e3]) if covariance_type == "spherical" else np.array([1e-3, 250.0])
    shift = np.array([-40.0, 4e4])
    a = gmm.fit(X, k=3, covariance_type=covariance_type, init=start, max_iter=30, tol=0)
    b = gmm.fit(X * scale + shift, k=3, covariance_type=covariance_type,
                init=transform_start(start, scale, shift), max_iter=30, tol=0)
    np.testing.assert_allclose(b.weights, a.weights, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(b.means, a.means * scale + shift, rtol=1e-8, atol=1e-8 * np.abs(shift).max())
    np.testing.assert_allclose(b.covariances, a.covariances * np.outer(scale, scale), rtol=1e-7,
                               atol=1e-9 * np.abs(b.covariances).max())
    np.testing.assert_allclose(b.resp, a.resp, rtol=1e-7, atol=1e-9)
    # densities scale by 1 / prod(scale): the log-likelihood shifts by -n sum(log scale)
    assert b.log_likelihood == pytest.approx(a.log_likelihood - 200 * np.log(scale).sum(), rel=1e-9, abs=1e-9 * 200)
    np.testing.assert_allclose(b.reg_covar, a.reg_covar * scale**2, rtol=1e-12)


@pytest.mark.parametrize("init", ["kmeans", "random"])
def test_seeded_starts_are_equivariant_too(init):
    X = blobs(13, n=150)
    a = gmm.fit(X, k=3, init=init, seed=3, max_iter=20, tol=0)
    b = gmm.fit(X * 0.01 + 5.0, k=3, init=init, seed=3, max_iter=20, tol=0)
    np.testing.assert_allclose(b.means, a.means * 0.01 + 5.0, rtol=1e-9)
    np.testing.assert_allclose(b.covariances, a.covariances * 1e-4, rtol=1e-7, atol=1e-16)


def test_results_with_sklearns_fixed_reg_covar_depend_on_units():
    # The reason for the relative default: a fixed 1e-6 is negligible in metres^2 for data
    # spread over metres, and decisive for the same data in kilometres.
    rng = np.random.default_rng(14)
    X = np.concatenate([rng.normal(0, 1, (100, 2)), [[5.0, 5.0]]])  # one outlier: a component collapses on it
    start = ([0.5, 0.5], [[0.0, 0.0], [5.0, 5.0]], [np.eye(2), np.eye(2)])
    km = 1e-3
    fixed = [gmm.fit(Y, k=2, init=transform_start(start, np.array([s, s]), 0), reg_covar=1e-6, max_iter=50)
             for Y, s in ((X, 1.0), (X * km, km))]
    relative = [gmm.fit(Y, k=2, init=transform_start(start, np.array([s, s]), 0), max_iter=50)
                for Y, s in ((X, 1.0), (X * km, km))]
    # the component on the outlier: 1e-6 m^2 in metres, 1e-6 km^2 = 1 m^2 in kilometres
    assert fixed[0].covariances[1, 0, 0] == pytest.approx(1e-6, rel=1e-4)
    assert fixed[1].covariances[1, 0, 0] / km**2 == pytest.approx(1.0, rel=1e-4)
    # and the main cloud's variance (about 1 m^2) grows by 1 m^2 when measured in km
    assert fixed[1].covariances[0, 0, 0] / km**2 > 1.5 * fixed[0].covariances[0, 0, 0]
    np.testing.assert_allclose(relative[1].covariances / km**2, relative[0].covariances, rtol=1e-7)


# --------------------------------------------------------------------------- degenerate data


def smallest_eigenvalues(c):
    return np.linalg.eigvalsh(c)[:, 0]


@pytest.mark.parametrize("covariance_type", TYPES)
def test_component_collapsing_onto_one_point(covariance_type):
    rng = np.random.default_rng(15)
    X = np.concatenate([rng.normal(0, 1, (60, 2)), [[30.0, -20.0]]])
    start = ([0.5, 0.5], [[0.0, 0.0], [30.0, -20.0]], [np.eye(2), np.eye(2)])
    res = gmm.fit(X, k=2, covariance_type=covariance_type, init=start, max_iter=30, tol=0)
    assert np.isfinite(res.log_likelihood) and np.isfinite(res.resp).all()
    assert res.weights[1] == pytest.approx(1 / 61)
    if covariance_type != "tied":
        reg = res.reg_covar.mean() if covariance_type == "spherical" else res.reg_covar
        np.testing.assert_allclose(np.diagonal(res.covariances[1]), reg, rtol=1e-6)  # only reg is left
    assert_history_consistent(X, res)


def test_component_collapsing_onto_a_line():
    rng = np.random.default_rng(16)
    t = rng.uniform(-3, 3, 40)
    line = np.stack([t, 2 * t + 1], axis=1)  # exactly collinear
    X = np.concatenate([line, rng.normal([10, -10], 1, (40, 2))])
    res = gmm.fit(X, k=2, seed=0, max_iter=30)
    j = int(np.argmin(smallest_eigenvalues(res.covariances)))
    assert np.isfinite(res.log_likelihood)
    # across the line only reg_covar is left: the smallest variance is of its size
    low = smallest_eigenvalues(res.covariances)[j]
    assert res.reg_covar.min() * 0.5 < low < res.reg_covar.max() * 2
    assert_history_consistent(X, res)
    with pytest.raises(ValueError, match="reg_covar > 0"):
        gmm.fit(X, k=2, seed=0, max_iter=30, reg_covar=0)


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("init", ["kmeans", "random"])
def test_duplicate_points(covariance_type, init):
    X = np.repeat([[1.0, 2.0], [1.0, 2.0], [3.0, -1.0]], 5, axis=0)
    res = gmm.fit(X, k=3, covariance_type=covariance_type, init=init, seed=0, max_iter=30)
    for step in res.history:
        assert np.isfinite(step.objective) and np.isfinite(step.covariances).all() and np.isfinite(step.means).all()
    assert_history_consistent(X, res)
    same = gmm.fit(np.full((6, 2), 4.0), k=2, covariance_type=covariance_type, init=init, seed=0)
    assert np.isfinite(same.log_likelihood) and np.isfinite(same.resp).all()
    np.testing.assert_allclose(same.means, 4.0)


def test_kmeans_start_with_an_empty_cluster_gives_a_dead_component():
    X = np.full((6, 2), 4.0)  # k-means++ picks two equal centres; every point goes to the first
    res = gmm.fit(X, k=2, init="kmeans", seed=0, max_iter=3)
    assert res.history[0].dead == (1,) and res.weights[1] == 0.0
    assert all(step.dead == (1,) for step in res.history)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_k_equals_n(covariance_type):
    X = blobs(18, n=7)
    for init in ("kmeans", "random"):
        res = gmm.fit(X, k=7, covariance_type=covariance_type, init=init, seed=1, max_iter=20)
        assert np.isfinite(res.log_likelihood) and np.isfinite(res.resp).all()
        assert_history_consistent(X, res)


def test_component_nobody_belongs_to_is_dead_not_nan():
    X = np.random.default_rng(19).normal(size=(50, 2))
    start = ([0.5, 0.5], [[0.0, 0.0], [1e4, 1e4]], [np.eye(2), np.eye(2)])
    res = gmm.fit(X, k=2, init=start, max_iter=5, tol=0)
    assert res.weights[1] == 0.0
    np.testing.assert_array_equal(res.means[1], [1e4, 1e4])
    np.testing.assert_array_equal(res.covariances[1], np.eye(2))
    assert [s.dead for s in res.history[1:]] == [(1,)] * 10
    assert np.isfinite(res.log_likelihood) and np.isfinite(res.resp).all()
    np.testing.assert_array_equal(res.resp[:, 0], 1.0)
    assert_history_consistent(X, res)


# --------------------------------------------------------------------------- bad input

X4 = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [6.0, 5.0]])
W, M, C = [0.5, 0.5], [[0.0, 0.0], [5.0, 5.0]], [np.eye(2), np.eye(2)]
RESP = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
NOT_PD = [np.eye(2), [[1.0, 2.0], [2.0, 1.0]]]
NOT_SYMMETRIC = [np.eye(2), [[1.0, 0.5], [0.0, 1.0]]]

# (id, call, expected exception, words the message must contain)
BAD = [
    ("X-nan", lambda: gmm.fit([[0.0, np.nan], [1.0, 1.0]], k=1), ValueError, "X"),
    ("X-inf", lambda: gmm.e_step([[0.0, np.inf]], W, M, C), ValueError, "X"),
    ("X-1d", lambda: gmm.fit(np.arange(4.0), k=1), ValueError, "reshape"),
    ("X-3d", lambda: gmm.fit(np.zeros((2, 2, 2)), k=1), ValueError, "X"),
    ("X-empty", lambda: gmm.fit(np.zeros((0, 2)), k=1), ValueError, "X"),
    ("X-strings", lambda: gmm.fit([["a", "b"]], k=1), TypeError, "X"),
    ("k-zero", lambda: gmm.fit(X4, k=0), ValueError, "k"),
    ("k-too-big", lambda: gmm.fit(X4, k=5), ValueError, "k must be at most"),
    ("k-float", lambda: gmm.fit(X4, k=2.0), TypeError, "k"),
    ("covariance_type", lambda: gmm.fit(X4, k=2, covariance_type="ful"), ValueError, "covariance_type"),
    ("covariance_type-m_step", lambda: gmm.m_step(X4, RESP, covariance_type=None), TypeError,
     "covariance_type must be a string"),
    ("init-unknown", lambda: gmm.fit(X4, k=2, init="k-means++"), ValueError, "init"),
    ("init-short", lambda: gmm.fit(X4, k=2, init=(W, M)), TypeError, "init"),
    ("init-array", lambda: gmm.fit(X4, k=2, init=np.zeros((2, 2))), TypeError, "init"),
    ("max_iter", lambda: gmm.fit(X4, k=2, max_iter=-1), ValueError, "max_iter"),
    ("tol", lambda: gmm.fit(X4, k=2, tol=-1.0), ValueError, "tol"),
    ("seed", lambda: gmm.fit(X4, k=2, seed="x"), TypeError, "seed"),
    ("weights-sum", lambda: gmm.e_step(X4, [0.5, 0.6], M, C), ValueError, "sum to 1"),
    ("weights-negative", lambda: gmm.fit(X4, k=2, init=([1.5, -0.5], M, C)), ValueError, "non-negative"),
    ("weights-length", lambda: gmm.fit(X4, k=3, init=(W, M, C)), ValueError, "weights"),
    ("weights-nan", lambda: gmm.log_likelihood(X4, [np.nan, 1.0], M, C), ValueError, "weights"),
    ("means-shape", lambda: gmm.e_step(X4, W, [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], C), ValueError, "means"),
    ("means-inf", lambda: gmm.e_step(X4, W, [[0.0, np.inf], [1.0, 1.0]], C), ValueError, "means"),
    ("covariances-shape", lambda: gmm.e_step(X4, W, M, np.eye(2)), ValueError, "covariances"),
    ("covariances-k", lambda: gmm.e_step(X4, W, M, [np.eye(2)] * 3), ValueError, "covariances"),
    ("covariances-not-pd", lambda: gmm.e_step(X4, W, M, NOT_PD), ValueError, "covariances[1] is not positive definite"),
    ("covariances-not-pd-ll", lambda: gmm.log_likelihood(X4, W, M, NOT_PD), ValueError,
     "covariances[1] is not positive definite"),
    ("means-d-ll", lambda: gmm.log_likelihood(X4, W, [[0.0, 0.0, 0.0], [5.0, 5.0, 5.0]], [np.eye(3)] * 2),
     ValueError, "means must have shape (2, 2)"),
    ("covariances-not-symmetric", lambda: gmm.log_likelihood(X4, W, M, NOT_SYMMETRIC), ValueError,
     "covariances[1] is not symmetric"),
    ("covariances-zero", lambda: gmm.fit(X4, k=2, init=(W, M, [np.eye(2), np.zeros((2, 2))])), ValueError,
     "positive definite"),
    ("covariances-nan", lambda: gmm.e_step(X4, W, M, [np.eye(2), [[np.nan, 0], [0, 1]]]), ValueError, "covariances"),
    ("resp-rows", lambda: gmm.m_step(X4, RESP * 0.5), ValueError, "resp"),
    ("resp-shape", lambda: gmm.m_step(X4, RESP[:3]), ValueError, "resp"),
    ("previous", lambda: gmm.m_step(X4, RESP, previous=(W, M)), TypeError,
     "previous must be a tuple (weights, means, covariances)"),
    ("previous-k", lambda: gmm.m_step(X4, RESP, previous=([0.2, 0.3, 0.5], M + [[9.0, 9.0]], C + [np.eye(2)])),
     ValueError, "weights must have length k=2"),
    ("previous-d", lambda: gmm.m_step(X4, RESP, previous=(W, [[0.0, 0.0, 0.0], [5.0, 5.0, 5.0]], [np.eye(3)] * 2)),
     ValueError, "means must have shape (2, 2)"),
    ("reg_covar-negative", lambda: gmm.fit(X4, k=2, reg_covar=-1e-6), ValueError, "reg_covar"),
    ("reg_covar-nan", lambda: gmm.m_step(X4, RESP, reg_covar=float("nan")), ValueError, "reg_covar"),
    ("reg_covar-shape", lambda: gmm.fit(X4, k=2, reg_covar=[1e-6, 1e-6, 1e-6]), ValueError, "reg_covar"),
    ("reg_covar-string", lambda: gmm.fit(X4, k=2, reg_covar="small"), TypeError, "reg_covar"),
    ("reg_covar-bool", lambda: gmm.fit(X4, k=2, reg_covar=True), TypeError, "reg_covar"),
    ("n_parameters", lambda: gmm.n_parameters(0, 2), ValueError, "k must be >= 1, got 0"),
    ("n_parameters-d", lambda: gmm.n_parameters(2, 0), ValueError, "d must be >= 1, got 0"),
    ("n_parameters-type", lambda: gmm.n_parameters(2, 2, "ful"), ValueError, "covariance_type must be one of"),
]


@pytest.mark.parametrize("call, exc, words", [pytest.param(c, e, w, id=i) for i, c, e, w in BAD])
def test_bad_input_raises_a_clear_error(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    # the words stand alone (not inside a longer word): "k" is not found in "kmeans"
    assert re.search(rf"(?<!\w){re.escape(words)}(?!\w)", str(info.value)), str(info.value)


def test_inputs_are_never_modified():
    X = blobs(20, n=40)
    start = random_start(np.random.default_rng(20), X, 2)
    reg = np.array([1e-3, 2e-3])
    arrays = [X, *start, reg]
    copies = [a.copy() for a in arrays]
    gmm.fit(X, k=2, init=start, max_iter=5, reg_covar=reg)
    resp = gmm.e_step(X, *start)
    resp_copy = resp.copy()
    gmm.m_step(X, resp, previous=start, reg_covar=reg)
    gmm.log_likelihood(X, *start)
    for a, b in zip(arrays + [resp], copies + [resp_copy]):
        np.testing.assert_array_equal(a, b)
    for covariance_type in TYPES:  # and float32 / integer data are read, not rejected
        gmm.fit(X.astype(np.float32), k=2, covariance_type=covariance_type, max_iter=2, seed=0)
    gmm.fit(np.round(X).astype(int), k=2, max_iter=2, seed=0)


def test_docstring_examples():
    failures, tried = doctest.testmod(gmm, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried >= 20 and failures == 0
