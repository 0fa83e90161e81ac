"""Checks of the Gaussian-mixture chapter's exercises (``book/gmm_em.ipynb``).

Expected answers: what seed 000 printed on the homework data (its log-likelihood, its first
responsibilities and its first M-step), and ``algos.gmm1d`` (the book's reference, held by the
grader's process only) on the far point and the hidden random data.
"""

from __future__ import annotations

import itertools

import numpy as np

from . import Case, Part, calls, check, written
from ._common import (GMM_INIT, GMM_X, MIXTURE_REFERENCES, PRINT_ATOL, Failed, as_array,
                      as_number, close, densities, describe, fmt, is_numeric, random_mixture)

CHAPTER = "gmm_em.ipynb"

#: Seed 000's log-likelihood of its data under its starting parameters (In [15]).
SEED_LOG_LIKELIHOOD = -24.512532330086678
#: Seed 000's responsibilities after the first E-step (In [14]), printed to 9 digits.
SEED_RESP = np.array([
    [1.36512049e-07, 9.99999863e-01],
    [1.39244156e-05, 9.99986076e-01],
    [4.54661673e-01, 5.45338327e-01],
    [6.66666667e-01, 3.33333333e-01],
    [6.93842896e-01, 3.06157104e-01],
])
#: Seed 000's first M-step (In [17]): weights, means, sigmas, printed to 8 decimals.
SEED_FIRST_M_STEP = ([0.36303706, 0.63696294], [5.13172803, 1.47103149], [0.78457791, 2.63951172])

_UNDERFLOW = ("the point x = 100 is far from every component, so its densities underflow to 0; "
              "work in the log domain (log-sum-exp: subtract the largest log term before exp)")
_PARAMS = ("weights", "means", "sigmas")
_ARGS = ("x", "weights", "means", "sigmas")


def _parameter_parts(rng, judge, call, *, seed_expected):
    """The parts of the log-likelihood and E-step checks: seed data, a far point, random data."""
    w, mu, s = GMM_INIT

    case = calls(call, judge, *_ARGS)
    random = []
    for n, k in [(50, 3), (30, 2)]:
        random.append(case(f"random data ({n} points, k = {k})", *random_mixture(rng, n, k),
                           show=False))
    return [
        Part("the homework data", 1, [case("the seed data", GMM_X, w, mu, s, expected=seed_expected)]),
        # x = 100 is so far from both components that both densities underflow to 0: only a
        # log-domain computation (log-sum-exp), which the chapter asks for, stays finite.
        Part("a point far from every component", 1, [
            case("the seed parameters with a far point", np.array([-1.0, 0.0, 4.0, 100.0]),
                 w, mu, s)]),
        Part("hidden random data", 1, random),
    ]


# --- the log-likelihood -------------------------------------------------------------------------

def _judge_log_likelihood(got, case):
    from algos import gmm1d

    x, w, mu, s = (case.args[a] for a in _ARGS)
    expected = case.expected if case.expected is not None else float(gmm1d.log_likelihood(x, w, mu, s))
    if is_numeric(got) and np.shape(got) == (len(x),):
        raise Failed(f"my_log_likelihood returned one value per point ({case.where}); return "
                     f"the total, their sum")
    got = as_number("my_log_likelihood", got, case, "the total log-likelihood")
    if np.isclose(got, expected, rtol=1e-9, atol=1e-9):
        return
    with np.errstate(all="ignore"):
        dens = densities(x, mu, s)
        hints = [
            (np.log10(dens @ w).sum(), "you used log10; the log-likelihood uses the natural log (np.log)"),
            (np.log(dens.sum(axis=1)).sum(), "each component's density must be multiplied by its weight"),
            (np.log(densities(x, mu, np.sqrt(s)) @ w).sum(),
             "sigmas are standard deviations: the density uses sigma**2 as the variance"),
            (np.exp(expected), "you returned the likelihood; return its logarithm"),
            ((np.log(dens) * w).sum(), "take the log of the mixture density (after summing "
                                       "over the components), not a sum of logs"),
        ]
    hint = next((h for value, h in hints if np.isclose(got, value, rtol=1e-9)), "")
    if not np.isfinite(got):
        hint = _UNDERFLOW
    raise Failed(f"{case.where}: expected {expected:.12g}, your my_log_likelihood returned "
                 f"{got:.12g}" + (f"; {hint}" if hint else ""))


@check("gmm-log-likelihood", chapter=CHAPTER, names=["my_log_likelihood"], points=3,
       references=MIXTURE_REFERENCES)
def gmm_log_likelihood(rng):
    """``my_log_likelihood(x, weights, means, sigmas)``: the total natural-log likelihood,
    finite for a far point.
    """
    return _parameter_parts(rng, _judge_log_likelihood, "my_log_likelihood",
                            seed_expected=SEED_LOG_LIKELIHOOD)


# --- the E-step -----------------------------------------------------------------------------------

def _judge_e_step(got, case):
    from algos import gmm1d

    x, w, mu, s = (case.args[a] for a in _ARGS)
    n, k = len(x), len(w)
    if case.expected is not None:
        # printed to 9 significant digits
        expected, rtol, atol = np.asarray(case.expected), 1e-8, 1e-15
    else:
        expected, rtol, atol = np.asarray(gmm1d.e_step(x, w, mu, s)), 1e-6, 1e-9
    if is_numeric(got) and np.shape(got) == (k, n) and n != k:
        raise Failed(f"my_e_step returned shape ({k}, {n}) ({case.where}); return one row per "
                     f"point and one column per component, shape ({n}, {k})")
    got = as_array("my_e_step", got, (n, k), case, "the responsibilities, one row per point")
    if close(got, expected, rtol=rtol, atol=atol):
        return
    with np.errstate(all="ignore"):
        weighted = densities(x, mu, s) * w
        hints = [
            (weighted, "each row must sum to 1: divide each point's weighted densities by their "
                       "total over the components"),
            (densities(x, mu, s) / densities(x, mu, s).sum(axis=1, keepdims=True),
             "multiply each component's density by its weight before normalising"),
            (weighted / weighted.sum(axis=0, keepdims=True),
             "you normalised each column (over the points); normalise each row (over the components)"),
        ]
    hint = next((h for value, h in hints if close(got, value, rtol=1e-6)), "")
    if not np.isfinite(got).all() and (weighted.sum(axis=1) == 0).any():
        hint = _UNDERFLOW
    i = int(np.flatnonzero(~np.isclose(got, expected, rtol=rtol, atol=atol).all(axis=1))[0])
    raise Failed(f"{case.where}: point {i} (x = {x[i]:.6g}) should have responsibilities "
                 f"{fmt(expected[i])}; yours are {fmt(got[i])}" + (f"; {hint}" if hint else ""))


@check("gmm-e-step", chapter=CHAPTER, names=["my_e_step"], points=3,
       references=MIXTURE_REFERENCES)
def gmm_e_step(rng):
    """``my_e_step(x, weights, means, sigmas)``: (n, k) responsibilities, each row summing to 1,
    valid for a far point.
    """
    return _parameter_parts(rng, _judge_e_step, "my_e_step", seed_expected=SEED_RESP)


# --- the M-step -----------------------------------------------------------------------------------

def _judge_m_step(got, case):
    from algos import gmm1d

    x, resp = case.args["x"], case.args["resp"]
    k = resp.shape[1]
    if case.expected is not None:
        expected, atol = [np.asarray(p, dtype=float) for p in case.expected], PRINT_ATOL + 1e-12
    else:
        expected, atol = [np.asarray(p, dtype=float) for p in gmm1d.m_step(x, resp)], 1e-9
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise Failed(f"my_m_step should return three arrays (weights, means, sigmas); it "
                     f"returned {describe(got)} ({case.where})")
    got = [as_array("my_m_step", p, (k,), case, f"{name}, one per component")
           for p, name in zip(got, _PARAMS)]
    if all(close(g, e, atol=atol) for g, e in zip(got, expected)):
        return
    for order in itertools.permutations(range(3)):
        if order != (0, 1, 2) and all(close(got[i], expected[o], atol=atol) for i, o in enumerate(order)):
            names = ", ".join(_PARAMS[o] for o in order)
            raise Failed(f"{case.where}: you returned ({names}); return them in the order "
                         f"(weights, means, sigmas)")
    wrong = [i for i in range(3) if not close(got[i], expected[i], atol=atol)]
    nk = resp.sum(axis=0)
    if wrong == [2] and close(got[2], expected[2] ** 2, atol=1e-6):
        hint = "; sigmas are standard deviations: take the square root of the weighted variance"
    elif wrong == [0] and close(got[0], nk):
        hint = "; weights are N_k / n: divide each component's total responsibility by the number of points"
    else:
        hint = ""
    details = ", ".join(f"{_PARAMS[i]} {fmt(expected[i])} but yours are {fmt(got[i])}" for i in wrong)
    raise Failed(f"{case.where}: expected {details}{hint}")


@check("gmm-m-step", chapter=CHAPTER, names=["my_m_step"], points=2,
       references=MIXTURE_REFERENCES)
def gmm_m_step(rng):
    """``my_m_step(x, resp)``: ``(weights, means, sigmas)`` in that order."""
    # The seed's first responsibilities, exactly (the printed ones are rounded).
    weighted = densities(GMM_X, GMM_INIT[1], GMM_INIT[2]) * GMM_INIT[0]
    seed_resp = weighted / weighted.sum(axis=1, keepdims=True)
    random = []
    for n, k in [(40, 3), (25, 2)]:
        x, *_ = random_mixture(rng, n, k)
        random.append(Case(f"random data ({n} points, k = {k})",
                           {"x": x, "resp": rng.dirichlet(np.ones(k), size=n)}, _judge_m_step,
                           call="my_m_step"))
    return [
        Part("the homework data", 1, [
            Case("the seed data and its first responsibilities", {"x": GMM_X, "resp": seed_resp},
                 _judge_m_step, call="my_m_step", show=True, expected=SEED_FIRST_M_STEP)]),
        Part("hidden random data", 1, random),
    ]


# --- reading the responsibilities -----------------------------------------------------------------

def _judge_most_uncertain(value, case):
    # Seed 000's first responsibilities (SEED_RESP): x = 4, index 2, is closest to 50/50
    # (0.455 / 0.545).
    expected, n = 2, len(GMM_X)
    gap = np.abs(SEED_RESP[:, 0] - SEED_RESP[:, 1])
    ok = is_numeric(value) and np.ndim(value) == 0
    if ok:
        number = float(np.asarray(value, dtype=float))
        ok = np.isfinite(number) and number == int(number)
    if not ok:
        raise Failed(f"most_uncertain should be a whole-number index (for example from "
                     f"np.argmin); it is {describe(value)}")
    v = int(number)
    if v == expected:
        return
    if not 0 <= v < n:
        extra = " (indices are 0-based here)" if v == n else ""
        raise Failed(f"most_uncertain = {v} is not an index of the {n} seed points (0 to {n - 1}){extra}")
    hint = ""
    if v == expected + 1:
        hint = "; indices are 0-based here (the seed printed 1-based labels)"
    elif GMM_X[expected] == v:
        hint = f"; is {v} the point's value rather than its index?"
    raise Failed(f"most_uncertain = {v} is the point x = {GMM_X[v]:.6g}, whose first-E-step "
                 f"responsibilities are ({SEED_RESP[v, 0]:.3f}, {SEED_RESP[v, 1]:.3f}), "
                 f"{gap[v]:.3f} apart; another seed point is closer to 50/50{hint}")


@check("gmm-responsibilities", chapter=CHAPTER, names=["most_uncertain"], points=1, manual=1)
def gmm_responsibilities(rng):
    """``most_uncertain``: the 0-based index of the seed point whose first responsibilities are
    closest to 50/50; and a comment explaining why (for the teacher).
    """
    return [Part("the homework data", 1, [Case("the seed data", {}, _judge_most_uncertain,
                                               value="most_uncertain")])]


# --- where dividing densities breaks ----------------------------------------------------------------

def _first_nan_x():
    """The smallest whole x > 6 whose responsibilities by division are 0/0 under seed 000's start
    (both weighted densities underflow to 0): 85, set by the wide component 1."""
    w, mu, s = GMM_INIT
    with np.errstate(all="ignore"):
        for x in range(7, 1000):
            if not (densities(np.array([float(x)]), mu, s) * w).sum() > 0:
                return x
    raise AssertionError("no underflow below 1000")  # pragma: no cover


def _judge_first_nan_x(value, case):
    expected = _first_nan_x()
    ok = is_numeric(value) and np.ndim(value) == 0
    if ok:
        number = float(np.asarray(value, dtype=float))
        ok = np.isfinite(number) and number == int(number)
    if not ok:
        raise Failed(f"first_nan_x should be a whole number (the first x of your loop that gives "
                     f"nan); it is {describe(value)}")
    v = int(number)
    if v == expected:
        return
    w, mu, s = GMM_INIT
    with np.errstate(all="ignore"):
        dens = densities(np.array([float(v)]), mu, s)[0] * w
    if v < expected:
        hint = (f"at x = {v} the weighted densities are {fmt(dens)}: component 1 is still "
                f"above 0, so the division gives numbers, not nan")
        if dens[0] == 0:
            hint += "; one density underflowing is not enough, both must"
    else:
        hint = (f"x = {v} gives nan, but a smaller whole number already does; stop your loop at "
                f"the first nan")
    raise Failed(f"first_nan_x = {v}: {hint}")


@check("gmm-far-point", chapter=CHAPTER, names=["first_nan_x"], points=1, manual=1)
def gmm_far_point(rng):
    """``first_nan_x``: the smallest whole x > 6 for which the homework's density-dividing E-step
    gives nan under seed 000's start; and a sentence on which component decides it (for the
    teacher).
    """
    return [Part("the homework start", 1, [Case("the homework start", {}, _judge_first_nan_x,
                                                 value="first_nan_x")])]


# --- deriving the M-step for the variance -----------------------------------------------------------

written("gmm-derive-sigma", chapter=CHAPTER, points=2)


# --- EM with a variance floor ---------------------------------------------------------------------

def _em(x, init, n_iter, min_sigma, floor_start=True):
    """``n_iter`` EM iterations with the sigmas floored after every M-step (and at the start)."""
    from algos import gmm1d

    w, mu, s = (np.asarray(p, dtype=float) for p in init)
    if floor_start:
        s = np.maximum(s, min_sigma)
    for _ in range(n_iter):
        resp = gmm1d.e_step(x, w, mu, s)
        w, mu, s = gmm1d.m_step(x, resp, min_sigma=min_sigma, previous=(w, mu, s))
    return w, mu, s


def _judge_em(got, case):
    from algos import gmm1d

    x, init, n_iter, floor = (case.args[a] for a in ("x", "init", "n_iter", "min_sigma"))
    k = len(init[0])
    fit = gmm1d.fit(x, k=k, init=tuple(init), max_iter=n_iter, tol=0, min_sigma=floor)
    expected = [fit.weights, fit.means, fit.sigmas]
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise Failed(f"my_em should return three arrays (weights, means, sigmas); it returned "
                     f"{describe(got)} ({case.where})")
    got = [as_array("my_em", p, (k,), case, f"{name}, one per component")
           for p, name in zip(got, _PARAMS)]
    if all(close(g, e, rtol=1e-6, atol=1e-8) for g, e in zip(got, expected)):
        return
    for order in itertools.permutations(range(3)):
        if order != (0, 1, 2) and all(close(got[i], expected[o], rtol=1e-6, atol=1e-8)
                                      for i, o in enumerate(order)):
            names = ", ".join(_PARAMS[o] for o in order)
            raise Failed(f"{case.where}: you returned ({names}); return them in the order "
                         f"(weights, means, sigmas)")
    hint = ""
    with np.errstate(all="ignore"):
        finite = all(np.isfinite(g).all() for g in got)
        unfloored_start = _em(x, init, n_iter, floor, floor_start=False)
        if min(init[2]) < floor and (not finite or all(
                close(g, e, rtol=1e-6, atol=1e-8) for g, e in zip(got, unfloored_start))):
            hint = (f"; a starting sigma ({fmt(init[2])}) is below min_sigma = {floor:g}: raise it "
                    f"before the first E-step too")
        elif not finite or np.min(got[2]) < floor * (1 - 1e-9):
            hint = (f"; a sigma is below min_sigma = {floor:g} (or not a number): raise every "
                    f"sigma below the floor to it after each M-step")
        else:
            for other in (n_iter - 1, n_iter + 1):
                if other >= 0 and all(close(g, e, rtol=1e-6, atol=1e-8)
                                      for g, e in zip(got, _em(x, init, other, floor))):
                    hint = (f"; your result is what {other} iterations give: run exactly "
                            f"n_iter = {n_iter} iterations, each an E-step then an M-step")
                    break
    wrong = [i for i in range(3) if not close(got[i], expected[i], rtol=1e-6, atol=1e-8)]
    details = ", ".join(f"{_PARAMS[i]} {fmt(expected[i])} but yours are {fmt(got[i])}"
                        for i in wrong)
    raise Failed(f"{case.where}, after {n_iter} iterations: expected {details}{hint}")


def _collapse_data(rng, n):
    """``n`` standard normal points and one lone point well to their right."""
    x = rng.normal(0.0, 1.0, n)
    return np.append(x, round(float(x.max()) + 3.0, 3))


@check("gmm-em-floor", chapter=CHAPTER, names=["my_em"], points=4,
       references=MIXTURE_REFERENCES)
def gmm_em_floor(rng):
    """``my_em(x, init, n_iter, min_sigma)``: ``n_iter`` EM iterations with every sigma floored
    at the start and after every M-step; returns ``(weights, means, sigmas)``.
    """
    case = calls("my_em", _judge_em, "x", "init", "n_iter", "min_sigma")
    w, mu, s = GMM_INIT
    # A lone point: the component started on it collapses onto the floor (seed 1 of the chapter
    # has the same story with 40 points).
    x_lone = _collapse_data(np.random.default_rng(11), 25)
    lone_init = (np.array([0.5, 0.5]), np.array([0.0, x_lone[-1]]), np.array([1.0, 1.0]))
    # A start below the floor: unfloored, the narrow component holds no point at the first
    # E-step, and the run goes elsewhere.
    low_init = (np.array([0.5, 0.5]), np.array([0.0, 4.5]), np.array([1.0, 1e-3]))
    random = []
    for n, k in [(60, 3), (40, 2)]:
        x, weights, means, sigmas = random_mixture(rng, n, k)
        init = (np.full(k, 1.0 / k), np.sort(rng.choice(x, k, replace=False)),
                np.full(k, float(x.std())))
        random.append(case(f"random data ({n} points, k = {k})", x, init, 15, 0.05, show=False))
    return [
        Part("the homework data", 1, [case("the seed data and its start", GMM_X,
                                           (w, mu, s), 10, 1e-6)]),
        Part("a component collapsing onto a lone point", 1, [
            case("25 points and a lone point, a start on it", x_lone, lone_init, 25, 0.02,
                 show=False)]),
        Part("a start below the floor", 1, [case("the seed data, a starting sigma below the "
                                                  "floor", GMM_X, low_init, 5, 0.3)]),
        Part("hidden random data", 1, random),
    ]
