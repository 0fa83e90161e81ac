"""Expectation-maximisation (EM) for a mixture of k Gaussians in one dimension.

A 1-D Gaussian mixture models each point as drawn from component j with probability
``weights[j]`` and then from a normal distribution N(means[j], sigmas[j]^2). EM maximises the
total log-likelihood ``sum_n log sum_j weights[j] N(x_n | means[j], sigmas[j])`` by alternating
an E-step (responsibilities: the posterior probability of each component for each point) and an
M-step (weighted means, standard deviations and weights); no iteration lowers the likelihood.

Everything runs in the log domain with log-sum-exp, so a point far from every component gets
valid responsibilities instead of 0/0, and the log-likelihood of an iteration comes from the
E-step's own normaliser.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _validation as v
from . import _distances
from ._distances import blocks
from ._results import GMMResult, MixtureStep, readonly

__all__ = ["e_step", "m_step", "log_likelihood", "objective", "fit", "GMMResult", "default_min_sigma"]

INITS = ("kmeans", "random")

#: Relative size of the default sigma floor: ``min_sigma = MIN_SIGMA_FACTOR * scale``, where
#: ``scale`` is a robust spread of the data (see :func:`default_min_sigma`).
MIN_SIGMA_FACTOR = 1e-6

#: Scales the median absolute deviation to the standard deviation for normal data:
#: 1 / Phi^{-1}(3/4) = 1.4826 (Rousseeuw and Croux 1993).
MAD_TO_SD = 1.482602218505602

_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)


# --------------------------------------------------------------------------- public functions


def e_step(x, weights, means, sigmas):
    """Responsibilities: the posterior probability of each component for each point.

    Parameters
    ----------
    x : array_like, shape (n,)
        Data.
    weights : array_like, shape (k,)
        Mixture weights, non-negative and summing to 1 (within 1e-8).
    means : array_like, shape (k,)
    sigmas : array_like, shape (k,)
        Standard deviations, all > 0.

    Returns
    -------
    resp : ndarray, shape (n, k)
        ``resp[i, j] = weights[j] N(x_i | means[j], sigmas[j]) / sum_l (same for l)``; every
        row lies in [0, 1] and sums to 1.

    Notes
    -----
    Computed as ``exp(log p_ij - logsumexp_j log p_ij)``: a point 50 standard deviations from
    every component, whose densities all underflow to 0, still gets a valid row (the
    nearest component, in standard deviations weighted by the weights, takes it).

    Examples
    --------
    >>> import numpy as np
    >>> from algos import gmm1d
    >>> resp = gmm1d.e_step([-1, 0, 4, 5, 6], [.5, .5], [6, 7], [1, 2])
    >>> np.round(resp[3], 6)
    array([0.666667, 0.333333])
    """
    x = v.check_x1d(x)
    w, m, s = v.check_mixture(weights, means, sigmas)
    R, _ = _e_step(x, w, m, s)
    return R.T


def m_step(x, resp, *, min_sigma=None, previous=None):
    """New mixture parameters from responsibilities (weighted maximum likelihood).

    Parameters
    ----------
    x : array_like, shape (n,)
        Data.
    resp : array_like, shape (n, k)
        Responsibilities, in [0, 1], rows summing to 1 (within 1e-6).
    min_sigma : float, optional
        Floor for the standard deviations (default :func:`default_min_sigma` of ``x``).
    previous : tuple (weights, means, sigmas), optional
        Parameters before this step: a component whose total responsibility is exactly 0
        keeps its previous mean and sigma (its weight becomes 0). Without ``previous`` such a
        component is an error, never a NaN.

    Returns
    -------
    weights, means, sigmas : ndarray, shape (k,)
        ``N_j = sum_i resp[i, j]``; ``weights = N / n``; ``means[j]`` the resp-weighted mean;
        ``sigmas[j]`` the square root of the resp-weighted mean squared deviation (the
        maximum-likelihood, biased estimate), raised to ``min_sigma`` if below it.

    Examples
    --------
    >>> import numpy as np
    >>> from algos import gmm1d
    >>> x = [-1, 0, 4, 5, 6]
    >>> resp = gmm1d.e_step(x, [.5, .5], [6, 7], [1, 2])
    >>> w, m, s = gmm1d.m_step(x, resp)
    >>> np.round(m, 8)
    array([5.13172803, 1.47103149])
    """
    x = v.check_x1d(x)
    r = v.check_resp(resp, x.shape[0])
    floor = _min_sigma(x, min_sigma)
    prev = None
    if previous is not None:
        if not isinstance(previous, (tuple, list)) or len(previous) != 3:
            raise TypeError("previous must be a tuple (weights, means, sigmas)")
        prev = v.check_mixture(*previous, k=r.shape[1])
    R = np.ascontiguousarray(r.T)
    if prev is None:
        dead = np.flatnonzero(R.sum(axis=1) == 0)
        if dead.size:
            raise ValueError(
                f"component(s) {dead.tolist()} have zero total responsibility; pass "
                f"previous=(weights, means, sigmas) so they keep their parameters"
            )
    return _m_step(x, R, floor, prev)[:3]


def log_likelihood(x, weights, means, sigmas):
    """Total log-likelihood ``sum_i log sum_j weights[j] N(x_i | means[j], sigmas[j])``.

    Parameters
    ----------
    x : array_like, shape (n,)
    weights, means, sigmas : array_like, shape (k,)

    Returns
    -------
    float
        The sum over points (natural log), not the per-point mean that scikit-learn reports
        as ``GaussianMixture.lower_bound_``; divide by n to compare.

    Examples
    --------
    >>> from algos import gmm1d
    >>> round(gmm1d.log_likelihood([-1, 0, 4, 5, 6], [.5, .5], [6, 7], [1, 2]), 10)
    -24.5125323301
    """
    x = v.check_x1d(x)
    w, m, s = v.check_mixture(weights, means, sigmas)
    return _e_step(x, w, m, s)[1]


#: The EM objective under the common name used by the other modules.
objective = log_likelihood


def default_min_sigma(x):
    """The default sigma floor for data ``x``: 1e-6 times a robust scale of the data.

    The scale is ``1.4826 * MAD``, the median absolute deviation from the median scaled to
    equal the standard deviation for normal data (Hampel 1974, "The influence curve and its
    role in robust estimation", JASA 69; Rousseeuw and Croux 1993, "Alternatives to the median
    absolute deviation", JASA 88). Unlike the standard deviation it has a 50% breakdown point:
    one far value (a missing-value code such as -999 or 1e6, a typo) moves it by at most one
    rank, so it cannot lift the floor above the spread of the groups, whatever its size.

    Degenerate data: if more than half the values are equal the MAD is 0, and the scale is the
    smallest gap between two distinct values (the resolution of the data, e.g. 1 for whole
    millimetres), so the floor stays far below any spread the data can show; one far value
    changes that gap only when it is the data's one other value. If all values are equal the
    scale is their absolute value (1 if they are 0).

    Parameters
    ----------
    x : array_like, shape (n,)

    Returns
    -------
    float
        ``MIN_SIGMA_FACTOR * scale`` (``MIN_SIGMA_FACTOR`` is 1e-6), always > 0.

    Examples
    --------
    >>> from algos import gmm1d
    >>> gmm1d.default_min_sigma([0., 1., 2., 3., 4.])   # MAD 1
    1.482602218505602e-06
    >>> gmm1d.default_min_sigma([0., 1., 2., 3., 1e6])  # one far value: the same floor
    1.482602218505602e-06
    >>> gmm1d.default_min_sigma([5., 5., 5., 7.])       # MAD 0: the gap 2
    2e-06
    """
    x = v.check_x1d(x)
    return _min_sigma(x, None)


def fit(x, *, k, init="kmeans", max_iter=100, tol=1e-8, seed=None, min_sigma=None):
    """Fit a k-component 1-D Gaussian mixture by EM, recording every half-step.

    Parameters
    ----------
    x : array_like, shape (n,)
        Data (a column of shape (n, 1) is accepted too).
    k : int
        Number of components, 1 <= k <= n.
    init : {"kmeans", "random"} or tuple (weights, means, sigmas), default "kmeans"
        Starting parameters. Explicit parameters reproduce a given run exactly (a sigma below
        ``min_sigma`` is raised to it first, see Notes). ``"kmeans"``: run
        :func:`algos.kmeans.fit` (k-means++ start, seeded) and take each cluster's share of
        points, mean and standard deviation. ``"random"``: means at k data points drawn at
        random at distinct values (as K-means' ``"random"`` start draws them), every sigma
        ``std(x)``, equal weights.
    max_iter : int, default 100
        Maximum number of EM iterations (E-step + M-step).
    tol : float, default 1e-8
        Stop when the log-likelihood *per point* changes by less than ``tol`` in one iteration,
        ``|LL(t) - LL(t-1)| / n < tol``; ``tol=0`` always runs ``max_iter`` iterations.
    seed : int, numpy.random.Generator or None
        Seed for the random initialisations.
    min_sigma : float, optional
        Floor for every sigma, at the start and after every M-step. Default
        :func:`default_min_sigma`: 1e-6 times a robust scale of the data (1.4826 times the
        median absolute deviation), far below any sigma that describes the data and not
        inflated by outliers, yet it keeps a component that collapses onto a single point at a
        finite density.

    Returns
    -------
    GMMResult
        ``.weights .means .sigmas .resp .log_likelihood .n_iter .converged .history``.

    Notes
    -----
    **History.** ``"init"`` holds the starting parameters and their log-likelihood. Iteration
    t adds an ``"E"`` step (responsibilities from the previous parameters; objective: the
    log-likelihood of those parameters, which the E-step does not change) and an ``"M"`` step
    (new parameters; objective: their log-likelihood). Each log-likelihood is the normaliser
    of the E-step that uses those parameters (one pass over the data per iteration); the
    last M-step's comes from one extra E-step, whose responsibilities are ``resp``.

    **Log-likelihood.** ``log_likelihood`` is the total over the n points, in nats.
    scikit-learn's ``GaussianMixture.lower_bound_`` is the *mean per point* (the total
    divided by n), and its ``tol`` applies to that mean; our ``tol`` is on the same per-point
    scale. EM never lowers the log-likelihood, from the first recorded step on: starting
    sigmas below ``min_sigma`` are raised to it before the first E-step (the ``"init"`` step
    holds the raised sigmas and lists those components in its ``floored`` field), and every
    M-step maximises over sigmas >= ``min_sigma``. Each step's ``floored`` lists the
    components whose sigma the floor raised in that step.

    **Memory.** ``history`` keeps the responsibilities of every iteration (8 k bytes per
    point), the price of replaying every step.

    **Collapse and dead components.** Without a floor a component sitting on one point has
    sigma -> 0 and likelihood -> infinity; with it, sigma stops at ``min_sigma``. A component
    whose responsibilities all underflow to 0 gets weight 0 and keeps its mean and sigma.

    Examples
    --------
    >>> import numpy as np
    >>> from algos import gmm1d
    >>> res = gmm1d.fit([-1, 0, 4, 5, 6], k=2, init=([.5, .5], [6, 7], [1, 2]),
    ...                 max_iter=10, tol=0)
    >>> np.round(res.means, 6), np.round(res.sigmas, 6), np.round(res.weights, 6)
    (array([ 5. , -0.5]), array([0.816497, 0.5     ]), array([0.6, 0.4]))
    """
    x = v.check_x1d(x)
    n = x.shape[0]
    k = v.check_k(k, n)
    max_iter = v.check_int(max_iter, "max_iter", minimum=0)
    tol = v.check_tol(tol)
    floor = _min_sigma(x, min_sigma)
    rng = v.make_rng(seed)  # checked even when an explicit start does not use it
    w, m, s, floored = _initial_parameters(x, k, init, rng, floor)

    w, m, s = (readonly(a) for a in (w, m, s))
    R, ll = _e_step(x, w, m, s)
    history = [MixtureStep("init", 0, ll, None, w, m, s, floored=floored)]
    converged = False
    n_iter = 0
    for t in range(1, max_iter + 1):
        n_iter = t
        resp = readonly(R).T  # a view of a read-only array is read-only too
        history.append(MixtureStep("E", t, ll, resp, w, m, s))
        w, m, s, floored = _m_step(x, R, floor, (w, m, s))
        w, m, s = (readonly(a) for a in (w, m, s))
        R, new_ll = _e_step(x, w, m, s)  # the next E-step; its normaliser is LL(new params)
        history.append(MixtureStep("M", t, new_ll, resp, w, m, s, floored=floored))
        change, ll = new_ll - ll, new_ll
        if abs(change) < tol * n:
            converged = True
            break
    return GMMResult(
        weights=w,
        means=m,
        sigmas=s,
        resp=readonly(R).T,
        log_likelihood=ll,
        n_iter=n_iter,
        converged=converged,
        history=tuple(history),
    )


# --------------------------------------------------------------------------- numerics


def _e_step(x, w, m, s):
    """Responsibilities as a (k, n) array and the total log-likelihood, in one pass.

    ``log p[j, i] = log w_j - log s_j - log(2 pi)/2 - ((x_i - m_j) / s_j)^2 / 2``; the
    log-likelihood of point i is ``logsumexp_j log p[j, i]``, computed as ``top + log sum_j
    exp(log p[j, i] - top)`` with ``top`` the largest term, so nothing overflows or gives 0/0.
    The data are processed in blocks that fit in the processor cache; each block's
    responsibilities are written straight into the result.
    """
    k, n = w.shape[0], x.shape[0]
    R = np.empty((k, n))
    with np.errstate(divide="ignore"):
        const = np.log(w) - np.log(s) - _HALF_LOG_2PI  # -inf for a weight of 0
    scale = np.sqrt(0.5) / s
    size = min(n, _distances.BLOCK)
    top, total = np.empty(size), np.empty(size)
    ll = 0.0
    for sl in blocks(n):
        L, xb = R[:, sl], x[sl]
        t, tot = top[: xb.size], total[: xb.size]
        with np.errstate(over="ignore"):  # an overflow to inf is caught just below
            for j in range(k):  # loop over components; each line is one pass over the block
                row = L[j]
                np.subtract(xb, m[j], out=row)
                row *= scale[j]
                np.square(row, out=row)
                np.subtract(const[j], row, out=row)
        np.max(L, axis=0, out=t)
        if not np.isfinite(t).all():
            # Every term of some point is -inf: its squared distance overflowed (|x - m| / s
            # above 1e154). Clip the standardised distances so the nearest component takes it.
            L[...] = _clipped_log_terms(xb, m, s, const)
            np.max(L, axis=0, out=t)
        L -= t
        np.exp(L, out=L)
        np.sum(L, axis=0, out=tot)
        L /= tot
        np.log(tot, out=tot)
        ll += float(tot.sum() + t.sum())
    return R, ll


def _clipped_log_terms(x, m, s, const):
    with np.errstate(over="ignore"):
        z = np.clip((x[None, :] - m[:, None]) / s[:, None], -1e150, 1e150)
    L = const[:, None] - 0.5 * z * z
    return np.where(np.isfinite(const)[:, None], L, -np.inf)


def _m_step(x, R, floor, previous):
    """Weighted ML parameters from (k, n) responsibilities; sigmas floored at ``floor``.

    Returns ``(weights, means, sigmas, floored)``, ``floored`` the tuple of components whose
    weighted standard deviation was below the floor.

    ``N_j = sum_i R[j, i]``, ``mean_j = sum_i R[j, i] x_i / N_j`` and
    ``var_j = sum_i R[j, i] (x_i - mean_j)^2 / N_j`` (deviations from the new mean, not the
    cancellation-prone ``E[x^2] - mean^2``). The weighted sums are formed block by block with
    element-wise products rather than BLAS dot products: on a busy machine a multi-threaded
    BLAS call on long vectors can stall for far longer than the arithmetic takes.
    """
    k, n = R.shape
    Nk = R.sum(axis=1)
    alive = Nk > 0
    safe = np.where(alive, Nk, 1.0)  # a dead component divides by 1, then takes ``previous``
    buf = np.empty(min(n, _distances.BLOCK))
    sums = np.zeros(k)
    for sl in blocks(n):
        xb, t = x[sl], buf[: sl.stop - sl.start]
        for j in range(k):
            sums[j] += np.multiply(R[j, sl], xb, out=t).sum()
    means = sums / safe
    var = np.zeros(k)
    for sl in blocks(n):
        xb, t = x[sl], buf[: sl.stop - sl.start]
        for j in range(k):
            np.subtract(xb, means[j], out=t)
            np.square(t, out=t)
            var[j] += np.multiply(t, R[j, sl], out=t).sum()
    raw = np.sqrt(var / safe)
    sigmas = np.maximum(raw, floor)
    weights = Nk / n
    if not alive.all():
        means[~alive] = previous[1][~alive]
        sigmas[~alive] = previous[2][~alive]
    floored = tuple(int(j) for j in np.flatnonzero(alive & (raw < floor)))
    return weights, means, sigmas, floored


def _min_sigma(x, min_sigma):
    if min_sigma is None:
        return MIN_SIGMA_FACTOR * _robust_scale(x)
    if isinstance(min_sigma, (bool, np.bool_)) or not isinstance(min_sigma, numbers.Real):
        raise TypeError(f"min_sigma must be a positive number or None, got {type(min_sigma).__name__}")
    min_sigma = float(min_sigma)
    if not (np.isfinite(min_sigma) and min_sigma > 0):
        raise ValueError(f"min_sigma must be finite and > 0, got {min_sigma}")
    return min_sigma


def _robust_scale(x):
    """1.4826 * MAD; the smallest gap between distinct values if that is 0; see default_min_sigma."""
    med = np.median(x)
    mad = float(np.median(np.abs(x - med)))
    if mad > 0:
        return MAD_TO_SD * mad
    values = np.unique(x)
    if values.size > 1:
        return float(np.diff(values).min())
    return abs(float(values[0])) or 1.0


def _initial_parameters(x, k, init, rng, floor):
    """Starting (weights, means, sigmas) with every sigma >= floor, and the floored components."""
    if isinstance(init, str):
        v.check_choice(init, "init", INITS)
        spread = float(x.std())
        if init == "random":
            from .kmeans import _init_indices

            means = x[_init_indices(x[:, None], k, "random", rng)].copy()
            w, m, s = np.full(k, 1.0 / k), means, np.full(k, spread)
        else:
            from .kmeans import fit as kmeans_fit

            km = kmeans_fit(x[:, None], k=k, init="k-means++", seed=rng)
            R = np.zeros((k, x.shape[0]))
            R[km.labels, np.arange(x.shape[0])] = 1.0
            previous = (np.full(k, 1.0 / k), km.centers[:, 0].copy(), np.full(k, max(spread, floor)))
            w, m, s, _ = _m_step(x, R, 0.0, previous)
    else:
        if not isinstance(init, (tuple, list)) or len(init) != 3:
            raise TypeError(
                f"init must be 'kmeans', 'random' or a tuple (weights, means, sigmas), got {type(init).__name__}"
            )
        w, m, s = v.check_mixture(*init, k=k)
    floored = tuple(int(j) for j in np.flatnonzero(s < floor))
    return w, m, np.maximum(s, floor), floored
