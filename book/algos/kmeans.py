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
from ._distances import distance_to_assigned, nearest_center, two_nearest
from ._results import ClusterStep, KMeansResult, readonly

__all__ = ["e_step", "e_step_bounded", "m_step", "objective", "fit", "KMeansResult", "HamerlyState"]

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
        Pass it to the next call (it is updated in place by that call).

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
    if state is not None:
        if not isinstance(state, HamerlyState):
            raise TypeError("state must be None or the HamerlyState returned by a previous call")
        if state.labels.shape[0] != X.shape[0] or state.centers.shape != C.shape:
            raise ValueError("state belongs to other data or another number of centres")
    state, _ = _hamerly_assign(_transpose(X), C, state)
    return state.labels.copy(), state


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

    **Objective.** ``history`` holds the objective of every half-step: squared l2 distances
    for "l2", l1 distances for "l1". With "l2" it never increases from one half-step to the
    next.

    **Memory.** ``history`` keeps one label array per iteration (8 bytes per point), the
    price of replaying every step; for n = 400,000 that is 3.2 MB per iteration.

    **How the work is done.** For "l1" every step is computed in full by the code of
    :func:`e_step`, :func:`m_step` and :func:`objective`. For "l2" the fit skips work that
    cannot change anything (see ``_BoundedLloyd``): E-steps use Hamerly's bounds as
    :func:`e_step_bounded` does (the labels of :func:`e_step`, ties included); cluster sums
    and objectives are updated from the points that changed cluster, using exact identities.
    The centres then agree with :func:`m_step` to rounding (about 1e-15 relative) and the
    objectives with :func:`objective` to about 1e-12 of the data's total sum of squares.

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
    centers = readonly(_init_centers(X, k, init, seed, metric=metric))
    # Both engines produce the same steps; the l2 one skips work with Hamerly's bounds.
    engine = _BoundedLloyd(Xt, k) if metric == "l2" else _PlainLloyd(Xt, k, metric)

    history = [ClusterStep("init", 0, None, None, centers)]
    labels = None
    converged = False
    previous_objective = None
    n_iter = 0
    for t in range(1, max_iter + 1):
        n_iter = t
        # E-step: new labels with the old centres.
        current, J, counts, unchanged = engine.assign(centers)
        unchanged = unchanged and labels is not None
        labels = readonly(current.copy())  # the engine keeps working on ``current``
        empty = tuple(int(j) for j in np.flatnonzero(counts == 0))
        history.append(ClusterStep("E", t, J, labels, centers, empty=empty))
        if unchanged:
            converged = True
            break
        # M-step: new centres from the new labels; an empty cluster keeps its centre.
        new_centers, J = engine.update(centers)
        centers = readonly(new_centers)
        history.append(ClusterStep("M", t, J, labels, centers, empty=empty))
        if previous_objective is not None and 0 <= previous_objective - J <= tol * previous_objective:
            converged = True
            break
        previous_objective = J

    if labels is None:  # max_iter == 0: assign once so the result is complete
        labels = readonly(nearest_center(Xt, centers, metric)[0])
        final_objective = float(distance_to_assigned(Xt, centers, labels, metric).sum())
    else:
        final_objective = history[-1].objective
    return KMeansResult(
        labels=labels,
        centers=centers,
        objective=final_objective,
        n_iter=n_iter,
        converged=converged,
        history=tuple(history),
    )


class _PlainLloyd:
    """Lloyd's steps exactly as :func:`e_step`, :func:`m_step` and :func:`objective` do them."""

    def __init__(self, Xt, k, metric):
        self.Xt, self.k, self.metric = Xt, k, metric

    def assign(self, centers):
        """New labels, their objective with ``centers``, the cluster sizes, and "unchanged"."""
        previous = getattr(self, "labels", None)
        self.labels, dist = nearest_center(self.Xt, centers, self.metric)
        self.counts = np.bincount(self.labels, minlength=self.k)
        unchanged = previous is not None and np.array_equal(previous, self.labels)
        return self.labels, float(dist.sum()), self.counts, unchanged

    def update(self, centers):
        """Cluster means (empty clusters keep their centre) and the objective with them."""
        new, _ = _mean_update(self.Xt, self.labels, self.k, centers, self.counts)
        dist = distance_to_assigned(self.Xt, new, self.labels, self.metric)
        return new, float(dist.sum())


class _BoundedLloyd:
    """Lloyd's steps for metric "l2" with O(changed points) work per iteration.

    * E-step: Hamerly's bounds (:func:`_hamerly_assign`) find the points whose label may
      change; only those are examined, by the same code as :func:`e_step`.
    * M-step: each cluster's coordinate sums and size are kept up to date by adding and
      removing just the points that changed cluster, so the means cost O(k) per step.
    * Objectives: the E-step objective changes only by the points that moved,
      ``J_E(t) = J_M(t-1) + sum_moved (|x - c_new|^2 - |x - c_old|^2)`` (both distances are
      computed exactly for those points); the M-step objective follows from the identity
      ``sum_{i in j} |x_i - c|^2 = sum_{i in j} |x_i - mean_j|^2 + n_j |mean_j - c|^2``, so
      ``J_M(t) = J_E(t) - sum_j n_j |c_j(t) - c_j(t-1)|^2``. Both are exact identities; only
      rounding (about 1e-12 of the total sum of squares, measured over hundreds of runs)
      separates them from a fresh :func:`objective`.
    """

    def __init__(self, Xt, k):
        self.Xt, self.k = Xt, k
        self.state = None

    def assign(self, centers):
        Xt, k = self.Xt, self.k
        if self.state is None:
            self.state, best = _hamerly_assign(Xt, centers, None)
            labels = self.state.labels
            self.counts = np.bincount(labels, minlength=k)
            self.sums = np.stack(
                [np.bincount(labels, weights=Xt[j], minlength=k) for j in range(Xt.shape[0])], axis=1
            )
            self.J = float(best.sum())
            unchanged = False
        else:
            self.state, moved = _hamerly_assign(Xt, centers, self.state)
            idx, old, new, d2_old, d2_new = moved
            if idx.size:
                self.counts += np.bincount(new, minlength=k) - np.bincount(old, minlength=k)
                for j in range(Xt.shape[0]):
                    xj = np.take(Xt[j], idx)
                    self.sums[:, j] += np.bincount(new, weights=xj, minlength=k)
                    self.sums[:, j] -= np.bincount(old, weights=xj, minlength=k)
                self.J += float(d2_new.sum() - d2_old.sum())
            unchanged = idx.size == 0
        return self.state.labels, self.J, self.counts, unchanged

    def update(self, centers):
        full = self.counts > 0
        new = np.array(centers, dtype=np.float64, copy=True)
        new[full] = self.sums[full] / self.counts[full, None]
        self.J -= float((self.counts * ((new - centers) ** 2).sum(axis=1)).sum())
        return new, self.J


# --------------------------------------------------------------------------- helpers


def _init_centers(X, k, init, seed, metric="l2"):
    """Starting centres for K-means (also used by K-medoids and 1-D EM).

    ``X`` must already be validated. Returns a new (k, d) float array.
    """
    n, d = X.shape
    if isinstance(init, str):
        v.check_choice(init, "init", INITS)
        rng = v.make_rng(seed)
        return X[_init_indices(X, k, init, rng, metric)].copy()
    return v.check_centers(init, k, d, name="init")


def _init_indices(X, k, method, rng, metric="l2"):
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


def _mean_update(Xt, labels, k, previous, counts=None):
    """Cluster means by bincount; an empty cluster keeps ``previous`` (if given).

    Returns ``(centers, empty)`` where ``empty`` is a tuple of the empty clusters' indices.
    """
    d = Xt.shape[0]
    if counts is None:
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


def _transpose(X):
    """(d, n) contiguous copy: each coordinate becomes one contiguous row."""
    return np.ascontiguousarray(X.T)


# --------------------------------------------------------------------------- Hamerly's bounds


class HamerlyState:
    """Bounds carried between E-steps by :func:`e_step_bounded` (treat as opaque).

    ``labels`` is the last assignment; ``upper[i]`` an upper bound on the distance from point
    i to its centre; ``lower[i] + margin`` a lower bound on its distance to every other
    centre (the safety margin is folded into ``lower`` once, instead of once per call);
    ``centers`` the centres of the last call; ``lo``/``hi`` the bounding box of data and
    centres, from which ``margin`` is set. The arrays are updated in place by the next call.
    """

    __slots__ = ("labels", "upper", "lower", "centers", "lo", "hi", "margin", "scratch")

    def __init__(self, labels, upper, lower, centers, lo, hi, margin):
        self.labels, self.upper, self.lower = labels, upper, lower
        self.centers, self.lo, self.hi, self.margin = centers, lo, hi, margin
        self.scratch = np.empty_like(upper)  # reused every call: fresh big arrays cost page faults


#: Points closer than MARGIN * (diameter of data and centres) to a tie are always recomputed.
MARGIN = 1e-9


def _hamerly_assign(Xt, C, state):
    """One E-step with Hamerly's bounds (Hamerly 2010, "Making k-means even faster").

    First call (``state`` None): every distance is computed; returns ``(state, best)`` with
    ``best`` the squared distance of each point to its centre. Later calls update ``state`` in
    place and return ``(state, moved)`` where ``moved = (idx, old, new, d2_old, d2_new)``
    describes the points that changed cluster: their indices, old and new labels, and their
    squared distances to the old and the new centre (both under ``C``).

    A point keeps its label without looking at the other centres when the upper bound u on its
    distance to its own centre a satisfies ``u + margin < max(lower, s_a)``: ``lower`` bounds
    the distance to every other centre and ``s_a = min_{j != a} |c_a - c_j| / 2`` guarantees,
    by the triangle inequality, that no other centre is closer. When the centres move, u grows
    by its centre's move and ``lower`` shrinks by the largest move. If the test fails, u is
    first made exact; if it still fails, the point is compared with every centre by the code
    of :func:`e_step`. The margin (1e-9 of the diameter of data and centres, far above
    rounding error) sends every point near a tie to that exact comparison, so the labels are
    those of :func:`e_step` bit for bit, ties included.
    """
    if state is None:
        labels, best, second = two_nearest(Xt, C)
        lo = np.minimum(Xt.min(axis=1), C.min(axis=0))
        hi = np.maximum(Xt.max(axis=1), C.max(axis=0))
        margin = MARGIN * float(np.sqrt(((hi - lo) ** 2).sum()))
        lower = np.sqrt(second)
        lower -= margin
        return HamerlyState(labels, np.sqrt(best), lower, C.copy(), lo, hi, margin), best

    k = C.shape[0]
    labels, upper, lower, bound = state.labels, state.upper, state.lower, state.scratch
    state.lo = np.minimum(state.lo, C.min(axis=0))
    state.hi = np.maximum(state.hi, C.max(axis=0))
    margin = MARGIN * float(np.sqrt(((state.hi - state.lo) ** 2).sum()))
    shift = np.sqrt(((C - state.centers) ** 2).sum(axis=1))
    state.centers = C.copy()
    # Centres moved: the distance to the own centre may have grown by that centre's move and
    # the distance to any other centre shrunk by at most the largest move. A centre outside
    # the old box (an explicit start far away) widens the margin.
    upper += np.take(shift, labels, out=bound, mode="clip")
    lower -= shift.max() + max(margin - state.margin, 0.0)
    state.margin = max(margin, state.margin)
    if k > 1:
        gaps = np.sqrt(((C[:, None, :] - C[None, :, :]) ** 2).sum(axis=2))
        np.fill_diagonal(gaps, np.inf)
        half = 0.5 * gaps.min(axis=1) - state.margin
        np.take(half, labels, out=bound, mode="clip")
        np.maximum(bound, lower, out=bound)
    else:
        bound.fill(np.inf)
    idx = np.flatnonzero(upper >= bound)  # keep a label only if upper + margin < the bound
    # (np.take and np.compress below: several times faster than fancy and boolean indexing)
    if idx.size:
        # tighten: the exact distance to the own centre
        old = np.take(labels, idx)
        d2_old = distance_to_assigned(np.take(Xt, idx, axis=1), C, old, "l2")
        u = np.sqrt(d2_old)
        upper[idx] = u
        still = u >= np.take(bound, idx)
        idx, old, d2_old = (np.compress(still, a) for a in (idx, old, d2_old))
    else:
        old, d2_old = idx, np.empty(0)
    if idx.size:
        new, d2_new, second = two_nearest(np.take(Xt, idx, axis=1), C)
        labels[idx] = new
        upper[idx] = np.sqrt(d2_new)
        lower[idx] = np.sqrt(second) - state.margin
        changed = new != old
        moved = tuple(np.compress(changed, a) for a in (idx, old, new, d2_old, d2_new))
    else:
        moved = (idx, old, old, d2_old, d2_old)
    return state, moved
