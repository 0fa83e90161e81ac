"""Expectation-maximisation (EM) for a mixture of k Gaussians in d dimensions.

A Gaussian mixture models each point as drawn from component j with probability
``weights[j]`` and then from the normal distribution N(means[j], covariances[j]). EM maximises
the total log-likelihood ``sum_i log sum_j weights[j] N(x_i | means[j], covariances[j])`` by
alternating an E-step (responsibilities: the posterior probability of each component for each
point) and an M-step (weighted means, covariances and weights). This is :mod:`algos.gmm1d` with
vectors for means and matrices for variances.

Covariance types (scikit-learn's names and meanings). Covariances are always returned as
(k, d, d) matrices, so code that draws them reads one shape:

============  ============================================  =======================
type          each component's covariance                    free parameters
============  ============================================  =======================
"full"        its own symmetric positive definite matrix     k d (d + 1) / 2
"diag"        its own diagonal matrix (axis-aligned)         k d
"spherical"   its own variance times the identity            k
"tied"        one full matrix shared by all components       d (d + 1) / 2
============  ============================================  =======================

Numerics. Densities are never formed: everything runs in the log domain, through the
Cholesky factor L of each covariance (``covariance = L L^T``). The squared Mahalanobis distance
``(x - mean)^T covariance^{-1} (x - mean)`` is ``|z|^2`` with ``L z = x - mean`` solved by
forward substitution, and ``log det(covariance) = 2 sum_a log L[a, a]``; no matrix is inverted
and no determinant is formed (a determinant of a 10-dimensional covariance of values near 1e-40
underflows to 0). A small ``reg_covar`` is added to the diagonal of every covariance after each
M-step, as scikit-learn does, so a component that collapses onto one point or a line keeps a
finite density (see :func:`default_reg_covar`).

Sources: C. M. Bishop, *Pattern Recognition and Machine Learning* (2006), section 9.2
(mixtures of Gaussians: 9.2.1 on the singularities of the likelihood, 9.2.2 on the E- and
M-step), section 9.3 (EM as maximising the expected complete-data log-likelihood) and 9.4 (why
the likelihood never decreases); scikit-learn's ``sklearn/mixture/_gaussian_mixture.py``
(covariance types, ``reg_covar``, the Cholesky-factor log density).
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _validation as v
from . import kmeans
from ._distances import BLOCK, blocks
from .kmeans import _transpose  # (d, n) contiguous copy: one row per coordinate
from ._results import GaussianMixtureResult, GaussianMixtureStep, readonly

__all__ = [
    "e_step",
    "m_step",
    "log_likelihood",
    "objective",
    "fit",
    "default_reg_covar",
    "n_parameters",
    "GaussianMixtureResult",
    "GaussianMixtureStep",
]

COVARIANCE_TYPES = ("full", "diag", "spherical", "tied")
INITS = ("kmeans", "random")

#: Relative size of the default regularisation: ``reg_covar = REG_COVAR_FACTOR * var(X[:, a])``.
REG_COVAR_FACTOR = 1e-6

#: In the fallback for absurdly distant points, standardised coordinates are clipped so that
#: the squared Mahalanobis distance stays below Z_MAX**2 = 1e300 (see ``_log_terms``).
Z_MAX = 1e150

_LOG_2PI = np.log(2.0 * np.pi)


# --------------------------------------------------------------------------- public functions


def e_step(X, weights, means, covariances):
    """Responsibilities: the posterior probability of each component for each point.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Data points.
    weights : array_like, shape (k,)
        Mixture weights, non-negative and summing to 1 (within 1e-8).
    means : array_like, shape (k, d)
    covariances : array_like, shape (k, d, d)
        Symmetric positive definite matrices.

    Returns
    -------
    resp : ndarray, shape (n, k)
        ``resp[i, j] = weights[j] N(x_i | means[j], covariances[j]) / sum_l (same for l)``
        (Bishop, section 9.2.2); every row lies in [0, 1] and sums to 1.

    Raises
    ------
    ValueError
        If a covariance is not symmetric positive definite, shapes disagree, the weights are
        negative or do not sum to 1, or any input holds NaN or inf.

    Notes
    -----
    Computed as ``exp(log p_ij - logsumexp_j log p_ij)`` with
    ``log p_ij = log weights[j] - log det(L_j) - d log(2 pi) / 2 - |z_ij|^2 / 2`` and
    ``L_j z_ij = x_i - means[j]``: a point whose densities all underflow to 0 still gets a
    valid row.

    Examples
    --------
    >>> import numpy as np
    >>> from algos import gmm
    >>> X = np.array([[0., 0.], [2., 2.], [2.5, 2.5]])
    >>> resp = gmm.e_step(X, [.5, .5], [[0., 0.], [4., 4.]], [np.eye(2), np.eye(2)])
    >>> resp.round(3)
    array([[1.   , 0.   ],
           [0.5  , 0.5  ],
           [0.018, 0.982]])
    """
    X = v.check_X(X)
    w, m, c = v.check_gaussian_mixture(weights, means, covariances, d=X.shape[1])
    R, _ = _e_step(_transpose(X), w, m, _cholesky(c, _NOT_PD))
    return R.T


def m_step(X, resp, *, covariance_type="full", reg_covar=None, previous=None):
    """New mixture parameters from responsibilities (weighted maximum likelihood + reg_covar).

    Parameters
    ----------
    X : array_like, shape (n, d)
        Data points.
    resp : array_like, shape (n, k)
        Responsibilities, in [0, 1], rows summing to 1 (within 1e-6).
    covariance_type : {"full", "diag", "spherical", "tied"}, default "full"
        Form of the covariances (see the module docstring).
    reg_covar : float, array_like of shape (d,), or None
        Added to the diagonal of every covariance. Default :func:`default_reg_covar` ``(X)``.
    previous : tuple (weights, means, covariances), optional
        Parameters before this step: a component whose total responsibility is exactly 0
        keeps its previous mean and covariance (its weight becomes 0). Without ``previous``
        such a component is an error, never a NaN.

    Returns
    -------
    weights : ndarray, shape (k,)
        ``N_j / n`` with ``N_j = sum_i resp[i, j]``.
    means : ndarray, shape (k, d)
        Responsibility-weighted means.
    covariances : ndarray, shape (k, d, d)
        With ``S_j = sum_i resp[i, j] (x_i - means[j]) (x_i - means[j])^T / N_j`` (Bishop,
        section 9.2.2): "full" ``S_j``; "diag" the diagonal of ``S_j``; "spherical" the mean
        of that diagonal times the identity; "tied" the pooled ``sum_j weights[j] S_j`` for
        every component. Then ``reg_covar`` is added to the diagonal ("spherical": its mean).

    Raises
    ------
    ValueError
        If a component has zero total responsibility and ``previous`` is None, or a
        covariance is not positive definite (possible only with ``reg_covar=0``).

    Examples
    --------
    >>> import numpy as np
    >>> from algos import gmm
    >>> X = np.array([[0., 0.], [2., 0.], [10., 10.], [10., 12.]])
    >>> w, m, c = gmm.m_step(X, [[1, 0], [1, 0], [0, 1], [0, 1]], reg_covar=0.01)
    >>> w, m
    (array([0.5, 0.5]), array([[ 1.,  0.],
           [10., 11.]]))
    >>> c[0]  # no spread in the second feature: its variance is reg_covar
    array([[1.01, 0.  ],
           [0.  , 0.01]])
    """
    X = v.check_X(X)
    n, d = X.shape
    r = v.check_resp(resp, n)
    covariance_type = v.check_choice(covariance_type, "covariance_type", COVARIANCE_TYPES)
    reg = _reg_covar(X, reg_covar)
    k = r.shape[1]
    prev = None
    if previous is not None:
        if not isinstance(previous, (tuple, list)) or len(previous) != 3:
            raise TypeError("previous must be a tuple (weights, means, covariances)")
        prev = v.check_gaussian_mixture(*previous, k=k, d=d)
    R = np.ascontiguousarray(r.T)
    if prev is None:
        dead = np.flatnonzero(R.sum(axis=1) == 0)
        if dead.size:
            raise ValueError(
                f"component(s) {dead.tolist()} have zero total responsibility; pass "
                f"previous=(weights, means, covariances) so they keep their parameters"
            )
    w, m, c, _ = _m_step(_transpose(X), R, covariance_type, reg, prev)
    if (reg == 0).any():
        _cholesky(c, _SINGULAR)
    return w, m, c


def log_likelihood(X, weights, means, covariances):
    """Total log-likelihood ``sum_i log sum_j weights[j] N(x_i | means[j], covariances[j])``.

    Parameters
    ----------
    X : array_like, shape (n, d)
    weights : array_like, shape (k,)
    means : array_like, shape (k, d)
    covariances : array_like, shape (k, d, d)

    Returns
    -------
    float
        The sum over points (natural log; Bishop, section 9.2.1), not the per-point mean that
        scikit-learn's ``GaussianMixture.score`` reports: divide by n to compare.

    Examples
    --------
    >>> import numpy as np
    >>> from algos import gmm
    >>> X = np.zeros((1, 2))
    >>> bool(np.isclose(gmm.log_likelihood(X, [1.], [[0., 0.]], [np.eye(2)]), -np.log(2 * np.pi)))
    True
    """
    X = v.check_X(X)
    w, m, c = v.check_gaussian_mixture(weights, means, covariances, d=X.shape[1])
    return _e_step(_transpose(X), w, m, _cholesky(c, _NOT_PD))[1]


#: The EM objective under the common name used by the other modules.
objective = log_likelihood


def default_reg_covar(X):
    """The default ``reg_covar`` for data ``X``: ``1e-6`` times each feature's variance.

    Parameters
    ----------
    X : array_like, shape (n, d)

    Returns
    -------
    ndarray, shape (d,)
        ``1e-6 * X[:, a].var()`` for feature a. A feature with variance 0 (a constant column)
        gets ``1e-6`` times the mean variance of all the features, or ``1e-6`` if every
        feature is constant.

    Notes
    -----
    scikit-learn adds a fixed ``reg_covar=1e-6`` to every variance. That number has units:
    1e-6 mm^2 is negligible, 1e-6 m^2 (one mm^2) is not, so the fitted model would depend on
    the units of the data. Relative to each feature's own variance, the amount scales with the
    data: measuring a feature in other units (or shifting it) transforms the fitted means and
    covariances exactly as the data, for the "full", "diag" and "tied" types (and for
    "spherical" under a scaling common to all features). A factor of 1e-6 changes a standard
    deviation that describes the data by at most 5e-7 relative, far below what a figure or a
    reader sees, yet a component that collapses onto one point or a line keeps a variance of
    at least ``reg_covar`` in every direction, hence a finite density (Bishop, section 9.2.1,
    on why an unregularised likelihood has no maximum).

    Examples
    --------
    >>> from algos import gmm
    >>> gmm.default_reg_covar([[0., 0.], [2., 200.]])
    array([1.e-06, 1.e-02])
    """
    return _reg_covar(v.check_X(X), None)


def n_parameters(k, d, covariance_type="full"):
    """Number of free parameters of a k-component mixture in d dimensions.

    ``k - 1`` weights (they sum to 1), ``k d`` mean coordinates, and the covariances:
    ``k d (d + 1) / 2`` ("full"), ``k d`` ("diag"), ``k`` ("spherical") or ``d (d + 1) / 2``
    ("tied"). This is the penalty count of the BIC (scikit-learn's ``_n_parameters``).

    Examples
    --------
    >>> from algos import gmm
    >>> [gmm.n_parameters(3, 2, t) for t in ("full", "diag", "spherical", "tied")]
    [17, 14, 11, 11]
    """
    k = v.check_int(k, "k", minimum=1)
    d = v.check_int(d, "d", minimum=1)
    covariance_type = v.check_choice(covariance_type, "covariance_type", COVARIANCE_TYPES)
    per_matrix = d * (d + 1) // 2
    covariance = {"full": k * per_matrix, "diag": k * d, "spherical": k, "tied": per_matrix}
    return covariance[covariance_type] + k * d + k - 1


def fit(X, *, k, covariance_type="full", init="kmeans", max_iter=100, tol=1e-8, seed=None, reg_covar=None):
    """Fit a k-component Gaussian mixture by EM, recording every half-step.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Data points (any d >= 1).
    k : int
        Number of components, 1 <= k <= n.
    covariance_type : {"full", "diag", "spherical", "tied"}, default "full"
        Form of the covariances, as in scikit-learn (see the module docstring). They are
        always returned as (k, d, d) matrices.
    init : {"kmeans", "random"} or tuple (weights, means, covariances), default "kmeans"
        Starting parameters. Explicit parameters (shapes (k,), (k, d), (k, d, d)) reproduce a
        given run exactly; they are used as given by the first E-step, whatever their form.
        ``"kmeans"`` (scikit-learn's default): run :func:`algos.kmeans.fit` (k-means++ start,
        seeded by ``seed``) and take the M-step of its labelling, i.e. each cluster's share of
        the points, mean and covariance (+ ``reg_covar``). ``"random"``: means at k distinct
        data points drawn at random, equal weights, and every covariance that of the whole
        data set in the type's form (+ ``reg_covar``).
    max_iter : int, default 100
        Maximum number of EM iterations (E-step + M-step).
    tol : float, default 1e-8
        Stop when the log-likelihood *per point* changes by less than ``tol`` in one
        iteration, ``|LL(t) - LL(t-1)| / n < tol``; ``tol=0`` always runs ``max_iter``.
    seed : int, numpy.random.Generator or None
        Seed for the random initialisations.
    reg_covar : float, array_like of shape (d,), or None
        Added to the diagonal of every covariance after each M-step (and in the "kmeans" and
        "random" starts). A float is added to every feature, as scikit-learn's ``reg_covar``;
        an array gives one value per feature. Default :func:`default_reg_covar`: ``1e-6``
        times each feature's variance, so results do not depend on the units of the data.
        ``reg_covar=0`` is plain EM: a component collapsing onto a point or a line then stops
        the fit with a ValueError.

    Returns
    -------
    GaussianMixtureResult
        ``.weights (k,) .means (k, d) .covariances (k, d, d) .resp (n, k) .log_likelihood
        .n_iter .converged .history``, plus ``.covariance_type`` and ``.reg_covar`` (d,).

    Raises
    ------
    ValueError
        Bad data, k out of range, explicit covariances that are not symmetric positive
        definite, weights that are negative or do not sum to 1, NaN or inf anywhere.
    TypeError
        Arguments of the wrong kind (``k=2.0``, ``init=[...]`` of the wrong length, ...).

    Notes
    -----
    **History.** ``"init"`` holds the starting parameters and their log-likelihood.
    Iteration t adds an ``"E"`` step (responsibilities from the previous parameters, which it
    keeps; objective: their log-likelihood, which the E-step does not change) and an ``"M"``
    step (new parameters, the responsibilities they came from; objective: the new
    log-likelihood). Each log-likelihood is the normaliser of the E-step that uses those
    parameters; the last M-step's comes from one extra E-step, whose responsibilities are
    ``resp``. A step's ``log_likelihood`` is the same number as its ``objective``.

    **Log-likelihood and tol.** ``log_likelihood`` is the total over the n points, in nats.
    scikit-learn's ``GaussianMixture.score(X)`` is the mean per point, and its ``tol``
    applies to the per-point lower bound of the parameters *entering* an iteration, so from
    the same start it stops one iteration after us.

    **Monotonicity.** Without ``reg_covar`` EM never lowers the log-likelihood (Bishop,
    section 9.4). Adding ``reg_covar`` after the M-step makes each covariance slightly larger
    than the maximising one, so an iteration may lose a little: about
    ``(reg_covar / variance)^2 / 4`` per point and direction (1e-12 with the default) while
    the variances are large, and at most ``(log 2 - 1/2) / 2``, about 0.1, per point and
    direction while a component collapses through variances of the size of ``reg_covar``.
    tests/test_gmm_properties.py checks every iteration against that bound; on tiny
    degenerate data sets it finds drops of up to 1e-4 per point.

    **Collapse and dead components.** A component that collapses onto one point or a line
    keeps a variance of at least ``reg_covar`` in every direction, so its density stays
    finite. A component whose responsibilities all underflow to exactly 0 is *dead*: its
    weight becomes 0, it keeps its previous mean and covariance ("tied": it shares the new
    common covariance), it never comes back, and the ``dead`` field of every later step
    lists it. Nothing becomes NaN.

    **Memory.** ``history`` keeps the responsibilities of every iteration (8 k bytes per
    point), the price of replaying every step.

    Examples
    --------
    >>> import numpy as np
    >>> from algos import gmm
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal([0, 0], 1, (100, 2)), rng.normal([3, 2], [1, 0.5], (100, 2))])
    >>> res = gmm.fit(X, k=2, seed=0)
    >>> res.converged, res.n_iter, res.covariances.shape
    (True, 9, (2, 2, 2))
    >>> np.round(res.means, 1)
    array([[ 2.8,  1.9],
           [-0.1,  0.1]])
    >>> [step.kind for step in res.history[:5]], len(res.history)
    (['init', 'E', 'M', 'E', 'M'], 19)
    """
    X = v.check_X(X)
    n, d = X.shape
    k = v.check_k(k, n)
    covariance_type = v.check_choice(covariance_type, "covariance_type", COVARIANCE_TYPES)
    max_iter = v.check_int(max_iter, "max_iter", minimum=0)
    tol = v.check_tol(tol)
    reg = readonly(_reg_covar(X, reg_covar))
    Xt = _transpose(X)
    w, m, c, dead = _initial_parameters(X, Xt, k, init, seed, covariance_type, reg)

    w, m, c = (readonly(a) for a in (w, m, c))
    R, ll = _e_step(Xt, w, m, _cholesky(c, _SINGULAR))  # explicit starts are checked already
    history = [GaussianMixtureStep("init", 0, ll, None, w, m, c, dead)]
    converged = False
    n_iter = 0
    for t in range(1, max_iter + 1):
        n_iter = t
        resp = readonly(R).T  # a view of a read-only array is read-only too
        new_w, new_m, new_c, dead = _m_step(Xt, R, covariance_type, reg, (w, m, c))
        history.append(GaussianMixtureStep("E", t, ll, resp, w, m, c, dead))
        w, m, c = (readonly(a) for a in (new_w, new_m, new_c))
        R, new_ll = _e_step(Xt, w, m, _cholesky(c, _SINGULAR))  # the next E-step: LL(new params)
        history.append(GaussianMixtureStep("M", t, new_ll, resp, w, m, c, dead))
        change, ll = new_ll - ll, new_ll
        if abs(change) < tol * n:
            converged = True
            break
    return GaussianMixtureResult(
        weights=w,
        means=m,
        covariances=c,
        resp=readonly(R).T,
        log_likelihood=ll,
        n_iter=n_iter,
        converged=converged,
        history=tuple(history),
        covariance_type=covariance_type,
        reg_covar=reg,
    )


# --------------------------------------------------------------------------- E-step


def _e_step(Xt, weights, means, chol):
    """Responsibilities as a (k, n) array and the total log-likelihood, in one pass.

    ``Xt`` is the data transposed to (d, n); ``chol`` holds the lower Cholesky factors of
    the covariances. The log-likelihood of point i is ``logsumexp_j log p[j, i]``, computed
    as ``top + log sum_j exp(log p[j, i] - top)`` with ``top`` the largest term, so nothing
    overflows or gives 0/0. The data are processed in blocks that fit in the processor cache;
    each block's responsibilities are written straight into the result.
    """
    k = weights.shape[0]
    d, n = Xt.shape
    R = np.empty((k, n))
    log_det = np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)  # log det(L_j)
    with np.errstate(divide="ignore"):
        const = np.log(weights) - log_det - 0.5 * d * _LOG_2PI  # -inf for a weight of 0
    size = min(n, BLOCK)
    Z, tmp = np.empty((d, size)), np.empty(size)
    top, total = np.empty(size), np.empty(size)
    ll = 0.0
    for sl in blocks(n):
        nb = sl.stop - sl.start
        logp, work = R[:, sl], (Z[:, :nb], tmp[:nb])  # logp[j, i] = log(weights[j] N(x_i | ...))
        try:
            with np.errstate(over="raise", invalid="raise"):
                _log_terms(Xt[:, sl], means, chol, const, logp, *work)
        except FloatingPointError:
            # Some |z| overflowed: a point absurdly far (in standard deviations) from a
            # component. Recompute the block with clipped z; those terms are about -1e300.
            with np.errstate(over="ignore"):
                _log_terms(Xt[:, sl], means, chol, const, logp, *work, clip=True)
        t, tot = top[:nb], total[:nb]
        np.max(logp, axis=0, out=t)
        logp -= t
        np.exp(logp, out=logp)
        np.sum(logp, axis=0, out=tot)
        logp /= tot  # now the responsibilities of the block
        np.log(tot, out=tot)
        ll += float(tot.sum() + t.sum())
    return R, ll


def _log_terms(Xt, means, chol, const, out, Z, tmp, clip=False):
    """``out[j, i] = log(weights[j] N(x_i | means[j], L_j L_j^T)) = const[j] - |z|^2 / 2``.

    ``z`` solves ``L_j z = x_i - means[j]`` by forward substitution, one coordinate at a time
    for all points of the block: ``z_a = (x_a - mean_a - sum_{b<a} L[a, b] z_b) / L[a, a]``.
    The loops run over components and coordinates; each line is one pass over the block.
    """
    k, d = means.shape
    limit = Z_MAX / np.sqrt(d)
    for j in range(k):
        L, row = chol[j], out[j]
        for a in range(d):
            z = Z[a]
            np.subtract(Xt[a], means[j, a], out=z)
            for b in range(a):
                if L[a, b] != 0.0:  # always 0 for the "diag" and "spherical" types
                    z -= np.multiply(Z[b], L[a, b], out=tmp)
            z *= 1.0 / L[a, a]
            if clip:
                np.clip(z, -limit, limit, out=z)
            if a == 0:
                np.square(z, out=row)
            else:
                row += np.square(z, out=tmp)
        row *= -0.5
        row += const[j]


# --------------------------------------------------------------------------- M-step


def _m_step(Xt, R, covariance_type, reg, previous):
    """Weighted ML parameters from (k, n) responsibilities, then ``reg`` on the diagonal.

    Returns ``(weights, means, covariances, dead)``. The averages use the weights
    ``p_i = R[j, i] / N_j``, which sum to 1: means are convex combinations of the points and
    every scatter matrix is a weighted average of ``(x - mean)(x - mean)^T``, even for a
    component whose responsibilities are tiny. Deviations are taken from the new means (not
    the cancellation-prone ``E[x x^T] - mean mean^T``). Sums are formed block by block with
    element-wise products rather than BLAS calls: on a busy machine a multi-threaded BLAS call
    on long vectors can stall for far longer than the arithmetic takes.
    """
    k, n = R.shape
    d = Xt.shape[0]
    Nk = R.sum(axis=1)
    alive = np.flatnonzero(Nk > 0)
    off_diagonal = covariance_type in ("full", "tied")  # do we need S[j, a, b] for b < a?
    size = min(n, BLOCK)
    p, tmp, wdev = np.empty(size), np.empty(size), np.empty(size)
    dev = np.empty((d, size))

    means = np.zeros((k, d))
    for sl in blocks(n):
        nb = sl.stop - sl.start
        for j in alive:
            np.divide(R[j, sl], Nk[j], out=p[:nb])
            for a in range(d):
                means[j, a] += np.multiply(p[:nb], Xt[a, sl], out=tmp[:nb]).sum()

    S = np.zeros((k, d, d))  # S[j] = sum_i p_i (x_i - means[j]) (x_i - means[j])^T
    for sl in blocks(n):
        nb = sl.stop - sl.start
        for j in alive:
            np.divide(R[j, sl], Nk[j], out=p[:nb])
            for a in range(d):
                np.subtract(Xt[a, sl], means[j, a], out=dev[a, :nb])
            for a in range(d):
                np.multiply(p[:nb], dev[a, :nb], out=wdev[:nb])
                for b in range(a + 1) if off_diagonal else (a,):
                    S[j, a, b] += np.multiply(wdev[:nb], dev[b, :nb], out=tmp[:nb]).sum()
    lower = np.tril_indices(d, -1)
    S[:, lower[1], lower[0]] = S[:, lower[0], lower[1]]  # fill the upper triangle

    weights = Nk / n
    diagonal = np.arange(d)
    if covariance_type == "full":
        covariances = S
    elif covariance_type == "tied":
        covariances = np.broadcast_to(np.tensordot(weights, S, axes=1), (k, d, d)).copy()
    elif covariance_type == "diag":
        covariances = np.zeros((k, d, d))
        covariances[:, diagonal, diagonal] = S[:, diagonal, diagonal]
    else:  # spherical
        variance = S[:, diagonal, diagonal].mean(axis=1)
        covariances = variance[:, None, None] * np.eye(d)
    covariances[:, diagonal, diagonal] += reg.mean() if covariance_type == "spherical" else reg

    dead = np.flatnonzero(Nk == 0)
    if dead.size:
        means[dead] = previous[1][dead]
        if covariance_type != "tied":
            covariances[dead] = previous[2][dead]
    return weights, means, covariances, tuple(int(j) for j in dead)


# --------------------------------------------------------------------------- helpers

_NOT_PD = "covariances[{j}] is not positive definite"
_SINGULAR = (
    "the covariance of component {j} is singular (the component collapsed onto a point or a "
    "line); use reg_covar > 0"
)


def _cholesky(covariances, message):
    """Lower Cholesky factors of (k, d, d) matrices; ValueError ``message`` naming the first bad j.

    A matrix fails if the factorisation fails or if it is singular to working precision:
    some pivot ``L[a, a]^2`` (the variance of feature a left once the features before it
    are known) is at most ``d * eps`` times that feature's variance ``C[a, a]``. Rounding can
    let the factorisation of a singular matrix through with a pivot of 1e-17, and its log
    determinant would be noise.
    """
    k, d, _ = covariances.shape
    chol = np.empty_like(covariances)
    for j in range(k):
        try:
            chol[j] = np.linalg.cholesky(covariances[j])
        except np.linalg.LinAlgError:
            raise ValueError(message.format(j=j)) from None
        pivots = np.diagonal(chol[j]) ** 2
        if (pivots <= d * np.finfo(float).eps * np.diagonal(covariances[j])).any():
            raise ValueError(message.format(j=j))
    return chol


def _reg_covar(X, reg_covar):
    """``reg_covar`` as a (d,) array: the default for X, a float for every feature, or (d,)."""
    d = X.shape[1]
    if reg_covar is None:
        var = X.var(axis=0)
        fallback = REG_COVAR_FACTOR * (var.mean() if var.max() > 0 else 1.0)
        return np.where(var > 0, REG_COVAR_FACTOR * var, fallback)
    if isinstance(reg_covar, (bool, np.bool_)) or isinstance(reg_covar, (str, bytes)):
        raise TypeError(f"reg_covar must be a number, an array of shape ({d},) or None, got {type(reg_covar).__name__}")
    if isinstance(reg_covar, numbers.Real):
        reg = np.full(d, float(reg_covar))
    else:
        reg = v.as_float_array(reg_covar, "reg_covar", ndim=1)
        if reg.shape != (d,):
            raise ValueError(f"reg_covar must be a number or have shape ({d},) (one per feature), got {reg.shape}")
    if not np.isfinite(reg).all() or (reg < 0).any():
        raise ValueError(f"reg_covar must be finite and >= 0, got {reg_covar!r}")
    return reg


def _initial_parameters(X, Xt, k, init, seed, covariance_type, reg):
    """Starting (weights, means, covariances, dead) for "kmeans", "random" or explicit init."""
    n, d = X.shape
    if isinstance(init, str):
        v.check_choice(init, "init", INITS)
        rng = v.make_rng(seed)
        # the covariance of the whole data set, in the type's form, + reg
        _, _, spread, _ = _m_step(Xt, np.ones((1, n)), covariance_type, reg, None)
        spread = np.repeat(spread, k, axis=0)
        if init == "random":
            means = X[rng.choice(n, size=k, replace=False)]
            return np.full(k, 1.0 / k), means, spread, ()
        km = kmeans.fit(X, k=k, init="k-means++", seed=rng)
        R = np.zeros((k, n))
        R[km.labels, np.arange(n)] = 1.0
        previous = (np.full(k, 1.0 / k), km.centers, spread)  # for a cluster k-means left empty
        return _m_step(Xt, R, covariance_type, reg, previous)
    if not isinstance(init, (tuple, list)) or len(init) != 3:
        raise TypeError(
            f"init must be 'kmeans', 'random' or a tuple (weights, means, covariances), got {type(init).__name__}"
        )
    w, m, c = v.check_gaussian_mixture(*init, k=k, d=d)
    _cholesky(c, "init: " + _NOT_PD)
    return w, m, c, ()
