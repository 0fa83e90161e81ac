"""K-means clustering by Lloyd's algorithm.

K-means looks for k centres that minimise the sum of squared Euclidean distances from every
point to its nearest centre. Lloyd's algorithm alternates two steps that each can only lower
that objective: the E-step assigns every point to its nearest centre, the M-step moves every
centre to the mean of its points.

Functions: :func:`e_step`, :func:`m_step`, :func:`objective` and :func:`fit`; the fit records
every half-step in ``history`` (see :mod:`algos._results`). :func:`e_step_bounded` gives the same
assignments as :func:`e_step` while skipping most distance computations (Hamerly's bounds);
``fit`` uses it for speed.
"""

from __future__ import annotations

import numpy as np

from . import _validation as v
from ._distances import distance_to_assigned, nearest_center
from ._results import ClusterStep, KMeansResult, frozen_array, readonly

__all__ = ["e_step", "e_step_bounded", "m_step", "objective", "fit", "KMeansResult"]

INITS = ("k-means++", "random")


# --------------------------------------------------------------------------- public steps


def e_step(X, centers, metric="l2"):
    """Assign every point to its nearest centre.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Data points.
    centers : array_like, shape (k, d)
        Current centres.
    metric : {"l2", "l1"}, default "l2"
        Distance used to decide which centre is nearest.

    Returns
    -------
    labels : ndarray of int, shape (n,)
        Index of the nearest centre (0-based).

    Notes
    -----
    Ties go to the lowest index, as with ``np.argmin``. For "l2" squared distances are
    compared (same order as distances).

    Examples
    --------
    >>> import numpy as np
    >>> from algos import kmeans
    >>> X = np.array([[0., 0.], [1., 0.], [9., 9.]])
    >>> kmeans.e_step(X, np.array([[0., 0.], [9., 9.]]))
    array([0, 0, 1])
    """
    X = v.check_X(X)
    C = v.check_centers(centers, None, X.shape[1])
    v.check_metric(metric)
    labels, _ = nearest_center(_transpose(X), C, metric)
    return labels


def m_step(X, labels, k, previous=None):
    """Move every centre to the mean of the points assigned to it.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Data points.
    labels : array_like of int, shape (n,)
        Cluster of each point, in 0..k-1.
    k : int
        Number of clusters.
    previous : array_like, shape (k, d), optional
        Centres before this step. An empty cluster (no point assigned) keeps its previous
        centre; without ``previous`` an empty cluster is an error, never a NaN.

    Returns
    -------
    centers : ndarray, shape (k, d)
        The cluster means.

    Raises
    ------
    ValueError
        If a cluster is empty and ``previous`` is None.

    Examples
    --------
    >>> import numpy as np
    >>> from algos import kmeans
    >>> X = np.array([[1., 2.], [2., 3.], [3., 4.], [8., 9.], [9., 10.]])
    >>> kmeans.m_step(X, [0, 0, 0, 1, 1], k=2)
    array([[2. , 3. ],
           [8.5, 9.5]])
    """
    X = v.check_X(X)
    k = v.check_k(k, X.shape[0])
    labels = v.check_labels(labels, X.shape[0], k)
    prev = None if previous is None else v.check_centers(previous, k, X.shape[1], name="previous")
    centers, empty = _mean_update(_transpose(X), labels, k, prev)
    if empty and prev is None:
        raise ValueError(
            f"cluster(s) {list(empty)} have no points; pass previous= (the centres before "
            f"this step) so an empty cluster can keep its centre"
        )
    return centers


def objective(X, labels, centers, metric="l2"):
    """K-means objective: sum of squared l2 distances (or of l1 distances) to the assigned centre.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Data points.
    labels : array_like of int, shape (n,)
        Cluster of each point.
    centers : array_like, shape (k, d)
        Centres.
    metric : {"l2", "l1"}, default "l2"
        "l2": sum of squared Euclidean distances (the K-means objective); "l1": sum of
        Manhattan distances (not squared).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from algos import kmeans
    >>> X = np.array([[0., 0.], [2., 0.]])
    >>> float(kmeans.objective(X, [0, 0], np.array([[1., 0.]])))
    2.0
    """
    X = v.check_X(X)
    C = v.check_centers(centers, None, X.shape[1])
    labels = v.check_labels(labels, X.shape[0], C.shape[0])
    v.check_metric(metric)
    return float(distance_to_assigned(_transpose(X), C, labels, metric).sum())


def e_step_bounded(X, centers, state=None, metric="l2"):
    """Same labels as :func:`e_step`, computed with Hamerly's bounds to skip most distances.

    For each point the method keeps an upper bound on the distance to its assigned centre and a
    lower bound on the distance to every other centre. When the centres move a little, the
    bounds are updated from how far each centre moved, and only the points whose bounds overlap
    are examined again. A safety margin makes every point that is close to a tie go through the
    exact computation of :func:`e_step`, so the labels are identical, ties included.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Data points.
    centers : array_like, shape (k, d)
        Current centres.
    state : HamerlyState or None
        The state returned by the previous call for the same ``X`` (None on the first call).
    metric : {"l2"}
        Only Euclidean distances obey the bounds used here.

    Returns
    -------
    labels : ndarray of int, shape (n,)
    state : HamerlyState
        Pass it to the next call.

    Examples
    --------
    >>> import numpy as np
    >>> from algos import kmeans
    >>> X = np.array([[0., 0.], [1., 0.], [9., 9.]])
    >>> labels, state = kmeans.e_step_bounded(X, np.array([[0., 0.], [9., 9.]]))
    >>> labels
    array([0, 0, 1])
    """
    X = v.check_X(X)
    C = v.check_centers(centers, None, X.shape[1])
    if v.check_metric(metric) != "l2":
        raise ValueError("metric must be 'l2' for e_step_bounded (the bounds need Euclidean distances)")
    from ._hamerly import HamerlyState, hamerly_assign

    if state is not None and not isinstance(state, HamerlyState):
        raise TypeError("state must be None or the state returned by a previous call")
    labels, state = hamerly_assign(_transpose(X), C, state)
    return labels.copy(), state


# --------------------------------------------------------------------------- fit


def fit(X, *, k, init="k-means++", metric="l2", max_iter=300, tol=0.0, seed=None):
    """Cluster X into k groups by Lloyd's algorithm, recording every half-step.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Data points (any d >= 1).
    k : int
        Number of clusters, 1 <= k <= n.
    init : {"k-means++", "random"} or array_like of shape (k, d), default "k-means++"
        Starting centres: explicit coordinates (reproduce a given run exactly), ``"random"``
        (k distinct data points drawn uniformly) or ``"k-means++"`` (each next centre drawn
        with probability proportional to its squared distance to the nearest centre chosen so
        far). Random draws use ``np.random.default_rng(seed)``.
    metric : {"l2", "l1"}, default "l2"
        Distance used by the E-step. The M-step always takes means, so "l1" is the
        seed-notebook variant (assign by Manhattan distance, then average), not K-medians.
    max_iter : int, default 300
        Maximum number of iterations (E-step + M-step). 0 returns the initial centres.
    tol : float, default 0.0
        Relative tolerance on the decrease of the objective, see Notes.
    seed : int, numpy.random.Generator or None
        Seed for the random initialisations.

    Returns
    -------
    KMeansResult
        ``.labels .centers .objective .n_iter .converged .history``.

    Notes
    -----
    **Stopping rule.** Iteration t runs an E-step and then, unless the assignment is the same as
    in iteration t - 1, an M-step. The run has *converged* when

    1. the E-step leaves every label unchanged (a fixed point: the M-step would reproduce the
       same centres, so it is not run and ``history`` ends with that E-step), or
    2. after the M-step, the objective decreased since the previous M-step by at least 0 and at
       most ``tol`` times its previous value: ``0 <= J(t-1) - J(t) <= tol * J(t-1)``.

    With the default ``tol=0`` the second rule only fires when an iteration changed labels
    without changing the objective, so the run goes to the exact fixed point. An *increase* of
    the objective never counts as convergence: with metric "l2" it cannot happen (up to
    rounding), but with "l1" it can, because the mean does not minimise a sum of l1 distances;
    such a run continues until the labels stop changing or ``max_iter`` is reached.

    **Empty clusters.** A cluster that loses all its points keeps its previous centre (it does
    not become NaN and is not moved elsewhere). Its index is listed in the ``empty`` field of
    that E-step and of the following M-step, so the history shows it.

    **Objective.** ``history`` holds the objective of every half-step, computed exactly from
    coordinate differences: squared l2 distances for "l2", l1 distances for "l1". With "l2"
    it never increases from one half-step to the next.

    For metric "l2" the E-steps use :func:`e_step_bounded` (identical labels, fewer
    distances); for "l1" they use :func:`e_step`.

    Examples
    --------
    >>> import numpy as np
    >>> from algos import kmeans
    >>> X = np.array([[1., 2.], [2., 3.], [3., 4.], [8., 9.], [9., 10.]])
    >>> res = kmeans.fit(X, k=2, init=X[[0, 4]])
    >>> res.labels
    array([0, 0, 0, 1, 1])
    >>> res.centers
    array([[2. , 3. ],
           [8.5, 9.5]])
    >>> [step.kind for step in res.history]
    ['init', 'E', 'M', 'E']
    """
    X = v.check_X(X)
    n, d = X.shape
    k = v.check_k(k, n)
    metric = v.check_metric(metric)
    max_iter = v.check_int(max_iter, "max_iter", minimum=0)
    tol = v.check_tol(tol)
    Xt = _transpose(X)
    C = init_centers(X, k, init, seed, metric=metric)

    centers = readonly(C)
    history = [ClusterStep("init", 0, None, None, centers)]
    labels = None
    converged = False
    previous_objective = None
    state = None
    n_iter = 0
    for t in range(1, max_iter + 1):
        n_iter = t
        # E-step: new labels with the old centres.
        new_labels, dist = nearest_center(Xt, centers, metric)
        unchanged = labels is not None and np.array_equal(new_labels, labels)
        labels = readonly(new_labels)
        empty = _empty_clusters(labels, k)
        history.append(ClusterStep("E", t, float(dist.sum()), labels, centers, empty=empty))
        if unchanged:
            converged = True
            break
        # M-step: new centres from the new labels; an empty cluster keeps its centre.
        C, empty = _mean_update(Xt, labels, k, centers)
        centers = readonly(C)
        J = float(distance_to_assigned(Xt, centers, labels, metric).sum())
        history.append(ClusterStep("M", t, J, labels, centers, empty=empty))
        if previous_objective is not None and 0 <= previous_objective - J <= tol * previous_objective:
            converged = True
            break
        previous_objective = J

    last = history[-1]
    if labels is None:  # max_iter == 0: assign once so the result is complete
        labels = readonly(nearest_center(Xt, centers, metric)[0])
        final_objective = float(distance_to_assigned(Xt, centers, labels, metric).sum())
    else:
        final_objective = last.objective
    return KMeansResult(
        labels=labels,
        centers=centers,
        objective=final_objective,
        n_iter=n_iter,
        converged=converged,
        history=tuple(history),
    )


# --------------------------------------------------------------------------- helpers


def init_centers(X, k, init, seed, metric="l2"):
    """Starting centres for K-means (also used by K-medoids and 1-D EM).

    ``X`` must already be validated. Returns a new (k, d) float array.
    """
    n, d = X.shape
    if isinstance(init, str):
        v.check_choice(init, "init", INITS)
        rng = v.make_rng(seed)
        return X[init_indices(X, k, init, rng, metric)].copy()
    return v.check_centers(init, k, d, name="init")


def init_indices(X, k, method, rng, metric="l2"):
    """Row indices of k distinct points chosen by "random" or "k-means++"."""
    n = X.shape[0]
    if method == "random":
        return rng.choice(n, size=k, replace=False)
    Xt = _transpose(X)
    chosen = np.empty(k, dtype=np.intp)
    chosen[0] = rng.integers(n)
    taken = np.zeros(n, dtype=bool)
    taken[chosen[0]] = True
    # weight of each point: squared distance (in the metric) to the nearest chosen centre
    weight = _sq_dist_to_row(Xt, X[chosen[0]], metric)
    for i in range(1, k):
        cum = np.cumsum(weight)
        total = cum[-1]
        if total > 0:
            # first index whose cumulative weight exceeds u * total: never a zero-weight point
            idx = int(np.searchsorted(cum, rng.random() * total, side="right"))
            idx = min(idx, int(np.flatnonzero(weight > 0)[-1]))
        else:
            # every point coincides with a chosen centre (duplicates): take an unused row
            idx = int(rng.choice(np.flatnonzero(~taken)))
        chosen[i] = idx
        taken[idx] = True
        np.minimum(weight, _sq_dist_to_row(Xt, X[idx], metric), out=weight)
    return chosen


def _sq_dist_to_row(Xt, c, metric):
    dist = distance_to_assigned(Xt, c[None, :], np.zeros(Xt.shape[1], dtype=np.intp), metric)
    return dist if metric == "l2" else dist * dist


def _mean_update(Xt, labels, k, previous):
    """Cluster means by bincount; an empty cluster keeps ``previous`` (if given).

    Returns ``(centers, empty)`` where ``empty`` is a tuple of the empty clusters' indices.
    """
    d = Xt.shape[0]
    counts = np.bincount(labels, minlength=k)
    sums = np.empty((k, d))
    for j in range(d):
        sums[:, j] = np.bincount(labels, weights=Xt[j], minlength=k)
    empty = tuple(int(j) for j in np.flatnonzero(counts == 0))
    centers = np.empty((k, d))
    full = counts > 0
    centers[full] = sums[full] / counts[full, None]
    if empty:
        if previous is not None:
            centers[~full] = previous[~full]
        else:
            centers[~full] = 0.0  # caller (m_step) raises; never returned
    return centers, empty


def _empty_clusters(labels, k):
    counts = np.bincount(labels, minlength=k)
    return tuple(int(j) for j in np.flatnonzero(counts == 0))


def _transpose(X):
    """(d, n) contiguous copy: each coordinate becomes one contiguous row."""
    return np.ascontiguousarray(X.T)
