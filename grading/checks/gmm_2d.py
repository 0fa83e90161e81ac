"""Checks of the two-dimensional mixture chapter's exercises (``book/gmm_2d.ipynb``).

Expected answers come from numpy formulas written here (the log-density, the sampler) and from
``algos.gmm`` (the book's reference, held by the grader's process only) for the M-steps and the
two data questions. The implement and extend exercises may not call ``algos``, SciPy or
scikit-learn.
"""

from __future__ import annotations

import functools

import numpy as np

from . import Case, Part, calls, check, written
from ._common import (NUMPY_ONLY_REFERENCES, Failed, as_array, as_number, close, describe,
                      fmt, is_numeric)

CHAPTER = "gmm_2d.ipynb"
#: What the answers may not call (every algorithm module of ``algos``, SciPy, scikit-learn).
GAUSSIAN_REFERENCES = NUMPY_ONLY_REFERENCES
#: The homework input of the log-density exercise: four points, the last one 1,000 units
#: (about 700 standard deviations) from the mean.
HW_X = np.array([[0.0, 0.0], [1.0, 2.0], [-3.0, 0.5], [1000.0, 0.0]])
HW_MEAN = np.array([0.5, 0.5])
HW_COV = np.array([[2.0, 0.3], [0.3, 0.5]])


def random_covariance(rng, d, scale=1.0):
    """A random symmetric positive definite (d, d) matrix, condition number at most ~50."""
    A = rng.normal(size=(d, d))
    Q, _ = np.linalg.qr(A)
    values = scale * rng.uniform(0.2, 3.0, d)
    return (Q * values) @ Q.T


def log_density(X, mean, cov):
    """log N(x | mean, cov) for each row of X, through the Cholesky factor."""
    L = np.linalg.cholesky(cov)
    z = np.linalg.solve(L, (X - mean).T)
    return -0.5 * (X.shape[1] * np.log(2 * np.pi) + 2 * np.log(np.diag(L)).sum()
                   + (z ** 2).sum(axis=0))


# --- the log-density --------------------------------------------------------------------------

def _judge_log_density(got, case):
    X, mean, cov = (case.args[a] for a in ("X", "mean", "covariance"))
    n = len(X)
    expected = log_density(X, mean, cov)
    if is_numeric(got) and np.ndim(got) == 0:
        raise Failed(f"my_log_density returned one number ({case.where}); return one value per "
                     f"point, shape ({n},)")
    got = as_array("my_log_density", got, (n,), case, "one log-density per point")
    if close(got, expected, rtol=1e-8, atol=1e-8):
        return
    with np.errstate(all="ignore"):
        diff = X - mean
        maha = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff)
        det = np.linalg.det(cov)
        d = X.shape[1]
        hints = [
            (np.exp(expected), "you returned the density; return its natural logarithm"),
            (-0.5 * (d * np.log(2 * np.pi) + np.log(det) + np.einsum(
                "ni,ij,nj->n", diff, cov, diff)),
             "the quadratic form uses the inverse of the covariance (solve with its Cholesky "
             "factor), not the covariance itself"),
            (-0.5 * (d * np.log(2 * np.pi) + 0.5 * np.log(det) + maha),
             "log|Sigma| is 2 sum log L_aa: the diagonal of the Cholesky factor holds square "
             "roots"),
            (-0.5 * (np.log(2 * np.pi) + np.log(det) + maha),
             "the constant is d log(2 pi) / 2: one factor of 2 pi per dimension"),
            (-0.5 * (d * np.log(2 * np.pi) + np.log(det)) - maha,
             "the exponent is minus one half of the squared Mahalanobis distance"),
        ]
    hint = next((h for value, h in hints if close(got, value, rtol=1e-6, atol=1e-6)), "")
    bad = ~np.isclose(got, expected, rtol=1e-8, atol=1e-8)
    if not np.isfinite(got).all():
        hint = ("a point far from the mean must get a finite value: do not exponentiate, "
                "work with the log-density directly")
    i = int(np.flatnonzero(bad)[0])
    raise Failed(f"{case.where}: point {i} should have log-density {expected[i]:.10g}; yours "
                 f"is {got[i]:.10g}" + (f"; {hint}" if hint else ""))


@check("gmm2d-log-density", chapter=CHAPTER, names=["my_log_density"], points=3,
       references=GAUSSIAN_REFERENCES)
def gmm2d_log_density(rng):
    """``my_log_density(X, mean, covariance)``: one natural-log density per row."""
    case = calls("my_log_density", _judge_log_density, "X", "mean", "covariance")
    random = []
    for n, d in [(40, 2), (30, 3), (25, 4)]:
        cov = random_covariance(rng, d, scale=rng.uniform(0.5, 4))
        mean = rng.normal(0, 3, d)
        X = mean + rng.normal(size=(n, d)) @ np.linalg.cholesky(cov).T * 1.5
        random.append(case(f"random data ({n} points in {d}-D)", X, mean, cov, show=False))
    return [
        Part("the homework data", 1, [case("the exercise's four points", HW_X[:3], HW_MEAN,
                                           HW_COV)]),
        Part("a point far from the mean", 1, [case("a point 700 standard deviations away",
                                                   HW_X, HW_MEAN, HW_COV)]),
        Part("hidden random data in 2 to 4 dimensions", 1, random),
    ]


# --- the sampler --------------------------------------------------------------------------------

def sample(weights, means, covs, u, z):
    """The exercise's sampler: inverse cumulative weights, then mean + L z."""
    cum = np.cumsum(weights)
    c = np.minimum(np.searchsorted(cum, u, side="right"), len(weights) - 1)
    L = np.linalg.cholesky(covs)
    return means[c] + np.einsum("nab,nb->na", L[c], z), c


def _judge_sample(got, case):
    w, m, c, u, z = (case.args[a] for a in ("weights", "means", "covariances", "u", "z"))
    expected, comp = sample(w, m, c, u, z)
    got = as_array("my_sample", got, expected.shape, case, "one sampled point per row")
    if close(got, expected, rtol=1e-9, atol=1e-9):
        return
    cum = np.cumsum(w)
    L = np.linalg.cholesky(c)
    # u <= cumulative weight instead of u < it: u on a boundary goes one component too early
    early = np.minimum(np.searchsorted(cum, u, side="left"), len(w) - 1)
    hints = [(m[early] + np.einsum("nab,nb->na", L[early], z),
              "a point goes to the first component with u < cumulative weight (strictly): "
              "use side='right' in np.searchsorted")]
    hints.append((m[comp] + np.einsum("nab,nb->na", np.swapaxes(L, 1, 2)[comp], z),
                  "multiply z by the lower Cholesky factor L (Sigma = L L^T), not by L^T"))
    hints.append((m[comp] + np.einsum("nab,nb->na", c[comp], z),
                  "multiply z by the Cholesky factor of the covariance, not by the covariance: "
                  "then L z has covariance L L^T = Sigma"))
    hint = next((h for value, h in hints if close(got, value, rtol=1e-9, atol=1e-9)), "")
    bad = ~np.all(np.isclose(got, expected, rtol=1e-9, atol=1e-9), axis=1)
    i = int(np.flatnonzero(bad)[0])
    raise Failed(f"{case.where}: sample {i} (u = {u[i]:.6g}, component {comp[i]}) should be "
                 f"{fmt(expected[i])}; yours is {fmt(got[i])}" + (f"; {hint}" if hint else ""))


@check("gmm2d-sample", chapter=CHAPTER, names=["my_sample"], points=2,
       references=GAUSSIAN_REFERENCES)
def gmm2d_sample(rng):
    """``my_sample(weights, means, covariances, u, z)``: points from given random numbers."""
    case = calls("my_sample", _judge_sample, "weights", "means", "covariances", "u", "z")
    w = np.array([0.2, 0.5, 0.3])
    m = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    c = np.array([np.eye(2), [[2.0, 0.9], [0.9, 1.0]], 0.2 * np.eye(2)])
    # u exactly on the cumulative weights 0.2 and 0.7: the strict rule decides
    u = np.array([0.0, 0.1, 0.2, 0.5, 0.7, 0.95])
    z = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 2.0], [0.5, -0.5], [2.0, 2.0]])
    random = []
    for n, k, d in [(50, 3, 2), (40, 4, 3)]:
        weights = rng.dirichlet(np.ones(k))
        means = rng.normal(0, 4, (k, d))
        covs = np.array([random_covariance(rng, d) for _ in range(k)])
        random.append(case(f"a random mixture ({k} components in {d}-D, {n} samples)",
                           weights, means, covs, rng.random(n), rng.standard_normal((n, d)),
                           show=False))
    return [
        Part("the exercise's mixture, with u on the cumulative weights", 1,
             [case("three components and six hand-picked samples", w, m, c, u, z)]),
        Part("hidden random mixtures", 1, random),
    ]


# --- the M-steps --------------------------------------------------------------------------------

_PARAMS = ("weights", "means", "covariances")


def _judge_m_step(name, covariance_type):
    def judge(got, case):
        from algos import gmm

        X, resp = case.args["X"], case.args["resp"]
        (n, d), k = X.shape, resp.shape[1]
        expected = gmm.m_step(X, resp, covariance_type=covariance_type, reg_covar=0)
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            raise Failed(f"{name} should return three arrays (weights, means, covariances); "
                         f"it returned {describe(got)} ({case.where})")
        shapes = [(k,), (k, d), (k, d, d)]
        got = [as_array(name, g, s, case, what)
               for g, s, what in zip(got, shapes, ["weights, one per component",
                                                   "means, one row per component",
                                                   "covariances, one (d, d) matrix per "
                                                   "component"])]
        wrong = [i for i in range(3) if not close(got[i], expected[i], rtol=1e-7, atol=1e-9)]
        if not wrong:
            return
        nk = resp.sum(axis=0)
        hint = ""
        if 0 in wrong and close(got[0], nk):
            hint = "weights are N_k / n: divide each total responsibility by the number of points"
        elif 2 in wrong and 1 not in wrong:
            g = got[2]
            if close(g * (n / nk)[:, None, None], expected[2]):
                hint = "divide each component's weighted scatter by N_k, its total responsibility, not by n"
            elif close(g, expected[2] * (nk / (nk - 1))[:, None, None]) if (nk > 1).all() else False:
                hint = "divide by N_k (maximum likelihood), not N_k - 1"
            elif covariance_type == "tied" and close(g, np.mean(
                    gmm.m_step(X, resp, covariance_type="full", reg_covar=0)[2], axis=0)[None]
                    .repeat(k, axis=0)):
                hint = ("pool the scatter matrices with the weights pi_k "
                        "(sum_k pi_k Sigma_k), not their plain mean")
            elif covariance_type == "tied" and g.shape[0] == k and close(
                    g, gmm.m_step(X, resp, covariance_type="full", reg_covar=0)[2]):
                hint = "tied means one covariance shared by all components: pool the scatters"
            else:
                raw = np.einsum("nk,na,nb->kab", resp, X, X) / nk[:, None, None]
                if covariance_type == "full" and close(g, raw):
                    hint = "subtract each component's mean before forming the outer products"
        i = wrong[0]
        raise Failed(f"{case.where}: {_PARAMS[i]} should be {fmt(expected[i])}; yours are "
                     f"{fmt(got[i])}" + (f"; {hint}" if hint else ""))
    return judge


def _m_step_parts(rng, name, covariance_type):
    judge = _judge_m_step(name, covariance_type)
    X = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [10.0, 10.0], [12.0, 10.0], [10.0, 13.0]])
    resp = np.array([[1.0, 0.0], [0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.0, 1.0], [0.2, 0.8]])
    random = []
    for n, k, d in [(60, 3, 2), (40, 2, 3)]:
        random.append(Case(f"random data ({n} points in {d}-D, k = {k})",
                           {"X": rng.normal(0, 3, (n, d)),
                            "resp": rng.dirichlet(np.ones(k), size=n)},
                           judge, call=name))
    return [
        Part("six points and soft responsibilities", 1,
             [Case("six points in two groups", {"X": X, "resp": resp}, judge, call=name,
                   show=True)]),
        Part("hidden random data", 1, random),
    ]


@check("gmm2d-m-step", chapter=CHAPTER, names=["my_m_step_full"], points=2,
       references=GAUSSIAN_REFERENCES)
def gmm2d_m_step(rng):
    """``my_m_step_full(X, resp)``: weights, means and full covariances, no regularisation."""
    return _m_step_parts(rng, "my_m_step_full", "full")


@check("gmm2d-tied", chapter=CHAPTER, names=["my_m_step_tied"], points=2,
       references=GAUSSIAN_REFERENCES)
def gmm2d_tied(rng):
    """``my_m_step_tied(X, resp)``: the pooled covariance, k copies."""
    return _m_step_parts(rng, "my_m_step_tied", "tied")


written("gmm2d-derive-covariance", chapter=CHAPTER, points=3)


# --- the data questions -------------------------------------------------------------------------

def unequal_data():
    """The chapter's unequal-variance data (the K-means chapter's recipe, seed 3)."""
    rng = np.random.default_rng(3)
    for y in (0, 2.2, 4.4):  # the bands are drawn first from the same generator
        rng.normal(0, 4, 100)
        rng.normal(y, 0.35, 100)
    return np.concatenate([rng.normal([0, 0], 2.2, (200, 2)),
                           rng.normal([4.5, 0.5], 0.35, (50, 2)),
                           rng.normal([4.5, -1.5], 0.35, (50, 2))])


@functools.lru_cache(maxsize=None)
def good_starts():
    """How many of 20 random starts (seeds 0 to 19) reach the best fit of the unequal data
    (computed once per process: a class's notebooks all ask the same question)."""
    from algos import gmm

    X = unequal_data()
    ll = np.array([gmm.fit(X, k=3, init="random", seed=s).log_likelihood for s in range(20)])
    return int(np.sum(ll > ll.max() - 0.5))


def _whole(name, value, lo, hi):
    ok = is_numeric(value) and np.ndim(value) == 0
    if ok:
        v = float(np.asarray(value, dtype=float))
        ok = np.isfinite(v) and v == int(v)
    if not ok:
        raise Failed(f"{name} should be a whole number; it is {describe(value)}")
    v = int(v)
    if not lo <= v <= hi:
        raise Failed(f"{name} = {v} is not between {lo} and {hi}")
    return v


def _judge_good_starts(value, case):
    v = _whole("n_good_starts", value, 0, 20)
    expected = good_starts()
    if v == expected:
        return
    hint = ""
    if v == 20 - expected:
        hint = "; you counted the runs that did not reach the best log-likelihood"
    elif v == 0:
        hint = "; the best run itself is within 0.5 of the best"
    raise Failed(f"n_good_starts = {v}, but {expected} of the 20 random starts (seeds 0 to "
                 f"19) end within 0.5 of the best log-likelihood{hint}")


@check("gmm2d-restarts", chapter=CHAPTER, names=["n_good_starts"], points=1, manual=1)
def gmm2d_restarts(rng):
    """``n_good_starts``: random starts on the unequal data that reach the best fit."""
    return [Part("the chapter's unequal-variance data", 1,
                 [Case("20 random starts", {}, _judge_good_starts, value="n_good_starts")])]


@functools.lru_cache(maxsize=None)
def penguin_bills():
    """(best k by BIC, share of uncertain birds) on bill length and depth, as the exercise says
    (computed once per process)."""
    from palmerpenguins import load_penguins

    from algos import gmm

    cols = ["bill_length_mm", "bill_depth_mm"]
    B = load_penguins().dropna(subset=cols)[cols].to_numpy(dtype=float)
    n = len(B)
    fits = {k: max((gmm.fit(B, k=k, seed=s) for s in range(5)), key=lambda f: f.log_likelihood)
            for k in range(1, 7)}
    bic = {k: -2 * f.log_likelihood + gmm.n_parameters(k, 2, "full") * np.log(n)
           for k, f in fits.items()}
    best = min(bic, key=bic.get)
    return best, float(np.mean(fits[best].resp.max(axis=1) < 0.9))


def _judge_bills(value, case):
    k, share = value
    best, expected_share = penguin_bills()
    v = _whole("best_k_bills", k, 1, 6)
    if v != best:
        raise Failed(f"best_k_bills = {v}, but k = {best} has the lowest BIC (full covariances, "
                     f"best of seeds 0 to 4 for each k); BIC = -2 log-likelihood + p ln n, "
                     f"lower is better")
    s = as_number("uncertain_share", share, case, "a fraction between 0 and 1")
    if abs(s - expected_share) <= 0.01:
        return
    hint = ""
    if abs(s - expected_share * 342) <= 1:
        hint = "; give the fraction of birds, not their number"
    elif abs(s - (1 - expected_share)) <= 0.01:
        hint = "; you counted the sure birds; count those whose largest responsibility is below 0.9"
    raise Failed(f"uncertain_share = {s:.4g}, but {expected_share:.4f} of the birds have no "
                 f"responsibility above 0.9 under the k = {best} fit{hint}")


@check("gmm2d-penguin-bills", chapter=CHAPTER, names=["best_k_bills", "uncertain_share"],
       points=2, manual=1)
def gmm2d_penguin_bills(rng):
    """``best_k_bills`` and ``uncertain_share`` on the penguins' bill length and depth."""
    return [Part("the penguins' bills", 2,
                 [Case("bill length and depth of 342 penguins", {}, _judge_bills,
                       value=("best_k_bills", "uncertain_share"))])]
