"""K-means clustering by Lloyd's algorithm.

K-means looks for k centres that minimise the sum of squared Euclidean distances from every
point to its nearest centre. Lloyd's algorithm alternates two steps that each can only lower
that objective: the E-step assigns every point to its nearest centre, the M-step moves every
centre to the mean of its points.

Functions: :func:`e_step`, :func:`m_step`, :func:`objective` and :func:`fit`; the fit records
every half-step in ``history`` (see :mod:`algos._results`). :func:`e_step_bounded` gives the same
assignments as :func:`e_step` while skipping most distance computations (Hamerly's bounds);
``fit`` uses it for speed. Every objective ``fit`` reports is computed as :func:`objective`
computes it, never carried over from an earlier step.
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
    Xt = _transpose(X)
    if state is None:
        state, _ = _hamerly_assign(Xt, C, None)
    else:
        _hamerly_assign(Xt, C, state)
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
        (k data points drawn uniformly) or ``"k-means++"`` (Arthur and Vassilvitskii 2007:
        each next centre drawn with probability proportional to its squared distance, in
        ``metric``, to the nearest centre chosen so far). Both random starts put the k centres
        at k distinct positions whenever X has at least k distinct rows (see Notes). Random
        draws use ``np.random.default_rng(seed)``.
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

    Raises
    ------
    ValueError, TypeError
        For invalid arguments (each message names the argument).

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

    **Objective.** Every objective in ``history`` (and so ``objective`` and the ``tol`` rule)
    is the objective of that step's labels and centres as :func:`objective` computes it:
    squared l2 distances for "l2", l1 distances for "l1". Nothing is carried over from earlier
    steps, so the values agree with a fresh :func:`objective` to rounding (about 1e-15 of the
    value itself) whatever the data and the start. With "l2" the objective never increases
    from one half-step to the next.

    **Empty clusters.** A cluster that loses all its points keeps its previous centre (it does
    not become NaN and is not moved elsewhere). Its index is listed in the ``empty`` field of
    that E-step and of the following M-step, so the history shows it.

    **Starts at one position.** ``"random"`` and ``"k-means++"`` never put two centres at the
    same coordinates while X has an unused distinct row: ``"random"`` draws k rows uniformly
    without replacement and redraws each one whose position repeats an earlier pick from the
    rows at positions not yet taken; ``"k-means++"`` gives a point at a chosen position weight
    0. With fewer than k distinct rows the remaining centres are further rows at positions
    already taken. Explicit centres may coincide (as in scikit-learn). Two centres at the same
    position tie for every point and ties go to the lower index, so the higher one gets no
    points: its cluster is empty and keeps its centre (scikit-learn instead moves an empty
    cluster's centre to a far point). It gets points back only if the lower centre moves away
    (its mean differs from the shared position); if all its points sit exactly there, it
    stays empty to the end and the result has fewer than k non-empty clusters. ``empty`` shows
    it in every step.

    **Memory.** ``history`` keeps one label array per iteration (8 bytes per point), the
    price of replaying every step; for n = 400,000 that is 3.2 MB per iteration.

    **How the work is done.** The M-step and every objective are computed in full by the code
    of :func:`m_step` and :func:`objective`; with "l2" the fit also keeps each point's squared
    distance to its own centre, which gives the E-step's objective by replacing only the
    values of the points that changed cluster. E-steps use :func:`e_step` for "l1" and, for
    "l2", Hamerly's bounds as :func:`e_step_bounded` does: the points whose label cannot change
    are skipped and the others go through the code of :func:`e_step`, so the labels are those
    of :func:`e_step`, ties included.

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
    rng = v.make_rng(seed)  # checked even when an explicit start does not use it
    centers = readonly(_init_centers(X, k, init, rng, metric=metric))
    engine = _Lloyd(_transpose(X), k, metric)

    history = [ClusterStep("init", 0, None, None, centers)]
    labels = None
    converged = False
    previous_objective = None
    n_iter = 0
    for t in range(1, max_iter + 1):
        n_iter = t
        # E-step: new labels with the old centres.
        current, J, counts, unchanged = engine.assign(centers)
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
        labels = readonly(e_step(X, centers, metric))
        final_objective = objective(X, labels, centers, metric)
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


class _Lloyd:
    """Lloyd's steps on the transposed data ``Xt`` (d, n), with certified incremental updates.

    For "l1" every step is computed in full by the code of :func:`e_step`, :func:`m_step` and
    :func:`objective`. For "l2" the work per iteration is proportional to the points that
    changed cluster, and every number the fit reports is certified:

    * E-step: Hamerly's bounds (:func:`_hamerly_assign`) find the points whose label may
      change; only those go through :func:`e_step`'s code, so the labels are :func:`e_step`'s.
    * ``counts`` (cluster sizes) are integers updated from the points that moved: exact.
    * ``sums`` (each cluster's coordinate sums) are updated from the points that moved; ``esum``
      is a proven bound on their error (see :class:`_ErrorBounds`), per cluster and coordinate.
    * The objective follows from two exact identities. E-step:
      ``J_E(t) = J_M(t-1) + sum_moved (|x - c_new|^2 - |x - c_old|^2)``. M-step, per cluster,
      with ``b = c' - c`` the centre's move and ``S`` the cluster's sum:
      ``sum |x - c'|^2 = sum |x - c|^2 - 2 b . (S - n c) + n |b|^2``. Each value carries a
      proven bound ``eJ`` on its distance from the exact objective; whenever ``eJ`` exceeds
      ``REL_BOUND`` (2e-13) of the value, the objective is recomputed from scratch by
      :func:`objective`'s code. That happens when an identity cancels (a far start, or tight
      clusters far from the origin), not on ordinary data.
    """

    def __init__(self, Xt, k, metric):
        self.Xt, self.k, self.metric = Xt, k, metric
        self.labels = None

    def assign(self, centers):
        """New labels, their objective with ``centers``, the cluster sizes, and "unchanged"."""
        Xt, k = self.Xt, self.k
        if self.metric != "l2":
            previous = self.labels
            self.labels, dist = nearest_center(Xt, centers, self.metric)
            self.counts = np.bincount(self.labels, minlength=k)
            unchanged = previous is not None and np.array_equal(previous, self.labels)
            return self.labels, float(dist.sum()), self.counts, unchanged
        if self.labels is None:
            self.state, best = _hamerly_assign(Xt, centers, None)
            self.labels = self.state.labels
            self.counts = np.bincount(self.labels, minlength=k)
            self.sums, sums_abs, sizes = _group_sums(Xt, self.labels, k)
            self.esum = _ErrorBounds.sums_fresh(sums_abs, sizes)
            self.J = float(best.sum())
            self.eJ = _ErrorBounds.fresh(self.J, Xt.shape)
            return self.labels, self.J, self.counts, False
        idx, old, new, d2_old, d2_new = _hamerly_assign(Xt, centers, self.state)
        if idx.size:
            self.counts += np.bincount(new, minlength=k) - np.bincount(old, minlength=k)
            x = np.take(Xt, idx, axis=1)
            gain, gain_abs, n_in = _group_sums(x, new, k)
            loss, loss_abs, n_out = _group_sums(x, old, k)
            grown = self.sums + gain
            self.sums = grown - loss
            self.esum += _ErrorBounds.sums_update(gain_abs, n_in, loss_abs, n_out, grown, self.sums)
            added, removed = float(d2_new.sum()), float(d2_old.sum())
            J = self.J + added - removed
            self.eJ += _ErrorBounds.e_step(self.J, added, removed, J, idx.size, Xt.shape[0])
            self.J = J
            self._certify(centers)
        return self.labels, self.J, self.counts, idx.size == 0

    def update(self, centers):
        """Cluster means (empty clusters keep their centre) and the objective with them."""
        if self.metric != "l2":
            new, _ = _mean_update(self.Xt, self.labels, self.k, centers, self.counts)
            return new, float(distance_to_assigned(self.Xt, new, self.labels, self.metric).sum())
        full = self.counts > 0
        new = np.array(centers, dtype=np.float64, copy=True)
        new[full] = self.sums[full] / self.counts[full, None]
        move = new - centers
        offset = self.sums - self.counts[:, None] * centers  # S - n c
        change = self.counts * (move**2).sum(axis=1) - 2.0 * (move * offset).sum(axis=1)
        J = self.J + float(change.sum())
        self.eJ += _ErrorBounds.m_step(self, centers, new, move, offset, change, J)
        self.J = J
        self._certify(new)
        return new, self.J

    def _certify(self, centers):
        """Recompute the objective from scratch if its bound is not within REL_BOUND of it."""
        if not self.eJ <= REL_BOUND * self.J:
            self.J = float(distance_to_assigned(self.Xt, centers, self.labels, "l2").sum())
            self.eJ = _ErrorBounds.fresh(self.J, self.Xt.shape)


#: The fit recomputes an "l2" objective from scratch unless its proven error bound is within
#: this fraction of its value (so it always agrees with :func:`objective` to 1e-12).
REL_BOUND = 2e-13

_U = 2.0**-53  # unit roundoff of float64

#: The bounds are themselves computed in floating point: a sum of products of non-negative
#: numbers with fewer than 100 roundings, so this factor makes each a true upper bound.
_SAFETY = 1.0 + 1e-12


def _gamma(m):
    """Higham's gamma_m = m u / (1 - m u): bounds the relative error of m roundings."""
    return m * _U / (1.0 - m * _U)


def _pairwise(m):
    """Roundings on any path of numpy's pairwise sum of m terms.

    ``np.sum`` of contiguous float64 data and each segment of ``np.add.reduceat`` (checked by
    a test) add blocks of up to 128 terms in 8 interleaved sequential sums and combine them in
    a tree (at most 15 + 3 + 7 roundings on any path), and split longer arrays in halves (one
    more rounding per level). So a sum of m terms errs by at most gamma_{_pairwise(m)} times
    the sum of their absolute values (Higham, *Accuracy and Stability of Numerical
    Algorithms*, 2nd ed., section 4.2).
    """
    return 26 + np.ceil(np.log2(np.maximum(m, 1)))


class _ErrorBounds:
    """Proven bounds on the rounding errors of :class:`_Lloyd`'s updates (standard model).

    Floating-point arithmetic rounds each operation to ``(1 + delta) * exact`` with
    ``|delta| <= u = 2^-53`` (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd
    ed., chapters 2-4). A squared distance of d coordinates has d + 2 roundings on its path,
    so it errs by at most ``gamma_{d+2}`` of itself, and a pairwise sum of m terms by
    ``gamma_{_pairwise(m)}`` of the sum of their absolute values. Each bound adds such terms
    for every operation of its update.
    """

    @staticmethod
    def fresh(J, shape):
        """Bound for an objective summed from scratch (``np.sum`` of squared distances)."""
        d, n = shape
        return _SAFETY * _gamma(d + 2 + _pairwise(n)) * J

    @staticmethod
    def e_step(J_old, added, removed, J_new, m, d):
        """``J_new = (J_old + added) - removed``, ``added``/``removed``: np.sum of m distances."""
        terms = _gamma(d + 2 + _pairwise(m)) * (added + removed)
        return _SAFETY * (terms + _U * (abs(J_old + added) + abs(J_new)))

    @staticmethod
    def sums_fresh(sums_abs, sizes):
        """Bound for cluster sums formed by :func:`_group_sums` (per cluster and coordinate)."""
        return _SAFETY * _gamma(_pairwise(sizes))[:, None] * sums_abs

    @staticmethod
    def sums_update(gain_abs, n_in, loss_abs, n_out, grown, sums):
        """Error added to the cluster sums by ``(S + gain) - loss``."""
        g_in = _gamma(_pairwise(n_in))[:, None]
        g_out = _gamma(_pairwise(n_out))[:, None]
        return _SAFETY * (g_in * gain_abs + g_out * loss_abs + _U * (np.abs(grown) + np.abs(sums)))

    @staticmethod
    def m_step(engine, c, c_new, move, offset, change, J_new):
        """Error of ``J_M = J_E + sum_j (n_j |b_j|^2 - 2 b_j . (S_j - n_j c_j))``.

        The identity holds exactly for the exact move ``b = c' - c`` and the exact sums. The
        computed move differs from the exact one by at most u |b| per coordinate, and since
        the identity is stationary at the mean that changes the result by at most
        ``2 u |b| |n c' - S| + n u^2 |b|^2``. The error of the sums enters as ``2 |b| |S err|``;
        forming ``S - n c`` rounds by ``u (n |c| + |S - n c|)`` per coordinate; the products
        and sums over d coordinates and k clusters add gamma terms. ``drift`` bounds
        ``|n c' - S|`` for the exact S (the computed difference, its rounding, the sums' error).
        """
        k, d = c.shape
        n = engine.counts.astype(np.float64)[:, None]
        b = np.abs(move)
        serr = engine.esum + 2.0 * _U * (n * np.abs(c) + np.abs(offset))
        drift = np.abs(n * c_new - engine.sums) + 2.0 * _U * n * np.abs(c_new) + engine.esum
        per_cluster = (
            2.0 * (b * serr).sum(axis=1)
            + 2.0 * _U * (b * drift).sum(axis=1)
            + _gamma(d + 4) * (n[:, 0] * (b**2).sum(axis=1) + 2.0 * (b * np.abs(offset)).sum(axis=1))
            + 2.0 * n[:, 0] * _U**2 * (b**2).sum(axis=1)
        )
        total = per_cluster.sum() + _gamma(_pairwise(k) + 1) * np.abs(change).sum()
        return _SAFETY * (total + _U * (abs(engine.J) + abs(J_new)))


def _group_sums(values, groups, k):
    """Per-group sums of the columns of ``values`` (d, m) by numpy's pairwise summation.

    Returns ``(sums, abs_sums, sizes)``: the (k, d) sums of the columns in each group, the
    sums of their absolute values (for the error bound) and the (k,) group sizes. The columns
    are grouped by a stable sort of ``groups`` (a radix sort for 16-bit keys) and each group
    summed by ``np.add.reduceat``.
    """
    d, m = values.shape
    sizes = np.bincount(groups, minlength=k)
    sums = np.zeros((k, d))
    abs_sums = np.zeros((k, d))
    full = np.flatnonzero(sizes)
    if full.size:
        keys = groups.astype(np.uint16) if k <= np.iinfo(np.uint16).max else groups
        grouped = np.take(values, np.argsort(keys, kind="stable"), axis=1)
        starts = (np.cumsum(sizes) - sizes)[full]
        sums[full] = np.add.reduceat(grouped, starts, axis=1).T
        abs_sums[full] = np.add.reduceat(np.abs(grouped), starts, axis=1).T
    return sums, abs_sums, sizes


# --------------------------------------------------------------------------- helpers


def _init_centers(X, k, init, seed, metric="l2"):
    """Starting centres for K-means (also used by 1-D EM).

    ``X`` must already be validated. Returns a new (k, d) float array.
    """
    n, d = X.shape
    if isinstance(init, str):
        v.check_choice(init, "init", INITS)
        rng = v.make_rng(seed)
        return X[_init_indices(X, k, init, rng, metric)].copy()
    return v.check_centers(init, k, d, name="init")


def _init_indices(X, k, method, rng, metric="l2", distinct=False):
    """Row indices of k starting points chosen by "random" or "k-means++", at distinct positions.

    Whenever X has at least k distinct rows, the k rows returned have k distinct coordinates:

    * "random": ``rng.choice(n, k, replace=False)``; then, in order, each pick whose position
      repeats an earlier pick is replaced by a row drawn uniformly from the rows at positions
      not taken yet. Data without repeated rows never need a redraw.
    * "k-means++": the first row uniformly, each next row with probability proportional to its
      squared distance (in ``metric``) to the nearest row chosen so far. A row at a chosen
      position has weight 0 and is never drawn; if every weight is 0 while distinct positions
      remain (squared distances below the smallest float), one of those is drawn uniformly.

    When the distinct positions run out: with ``distinct=False`` (K-means, EM) the remaining
    picks are further rows, at positions already taken; with ``distinct=True`` (K-medoids) a
    ValueError says that k exceeds the number of distinct points.
    """
    n = X.shape[0]
    if method == "random":
        chosen = rng.choice(n, size=k, replace=False)
        free = None  # rows at positions no earlier pick has taken, once a repeat was seen
        for i in range(1, k):  # loop over the k picks, not over the samples
            if free is None:
                if not (X[chosen[:i]] == X[chosen[i]]).all(axis=1).any():
                    continue
                free = np.ones(n, dtype=bool)
                for row in X[chosen[:i]]:
                    free &= (X != row).any(axis=1)
            if not free[chosen[i]]:
                candidates = np.flatnonzero(free)
                if candidates.size:
                    chosen[i] = rng.choice(candidates)
                elif distinct:
                    raise _too_few_distinct(X, k)
                elif chosen[i] in chosen[:i]:  # a redrawn row took it: keep the rows distinct
                    chosen[i] = rng.choice(np.setdiff1d(np.arange(n), chosen[:i]))
            free &= (X != X[chosen[i]]).any(axis=1)
        return chosen
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
            # every weight is 0: take a row at a position not chosen yet, if there is one
            free = np.ones(n, dtype=bool)
            for row in X[chosen[:i]]:
                free &= (X != row).any(axis=1)
            if not free.any():
                if distinct:
                    raise _too_few_distinct(X, k)
                free = ~taken  # fewer than k distinct rows: further rows at taken positions
            idx = int(rng.choice(np.flatnonzero(free)))
        chosen[i] = idx
        taken[idx] = True
        np.minimum(weight, _sq_dist_to_row(Xt, X[idx], metric), out=weight)
    return chosen


def _too_few_distinct(X, k):
    m = np.unique(X, axis=0).shape[0]
    return ValueError(
        f"k={k} exceeds the number of distinct points in X ({m}): medoids must be k distinct "
        f"points, since medoids at the same position would share their points and leave a "
        f"cluster empty"
    )


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

    ``labels`` is the last assignment and ``centers`` the centres it was made with. The bounds
    hold for those centres, in exact arithmetic on the stored numbers, and the property tests
    check them against fresh distances:

    * ``upper[i] >= |x_i - centers[labels[i]]|`` (distance to the own centre);
    * ``lower[i] <= |x_i - centers[j]|`` for every ``j != labels[i]``.

    Both carry half the safety margin ``margin`` (``upper`` above, ``lower`` below), which is
    set from the bounding box ``lo``/``hi`` of data and centres. (The proof assumes squared
    distances do not underflow: distances above about 1e-154, or exactly 0.) The arrays are
    updated in place by the next call.
    """

    __slots__ = ("labels", "upper", "lower", "centers", "lo", "hi", "margin", "scratch")

    def __init__(self, labels, upper, lower, centers, lo, hi, margin):
        self.labels, self.upper, self.lower = labels, upper, lower
        self.centers, self.lo, self.hi, self.margin = centers, lo, hi, margin
        self.scratch = np.empty_like(upper)  # reused every call: fresh big arrays cost page faults


#: Points closer than MARGIN * (diameter of data and centres) to a tie are always recomputed.
MARGIN = 1e-9


def _margin(lo, hi):
    return MARGIN * float(np.sqrt(((hi - lo) ** 2).sum()))


def _hamerly_assign(Xt, C, state):
    """One E-step with Hamerly's bounds (Hamerly 2010, "Making k-means even faster").

    First call (``state`` None): every distance is computed; returns ``(state, best)`` with
    ``best`` the squared distance of each point to its centre. A later call updates ``state``
    in place for the new centres ``C`` and returns ``(idx, old, new, d2_old, d2_new)`` for the
    points that changed cluster: their indices, old and new labels, and their squared distances
    to the old and the new centre (both under ``C``, formed as :func:`objective` forms them).

    A point keeps its label without looking at the other centres when ``upper < max(lower,
    s_a)``: ``lower`` bounds the distance to every other centre and ``s_a = min_{j != a} |c_a
    - c_j| / 2`` guarantees, by the triangle inequality, that no other centre is closer
    (Hamerly's two tests). When the centres move, the distance to the own centre grows by at
    most that centre's move and the distance to any other centre shrinks by at most the
    largest move, so ``upper`` and ``lower`` move by those amounts. If the test fails,
    ``upper`` is first made exact; if it still fails, the point is compared with every centre
    by the code of :func:`e_step`.

    Rounding: every distance, move and bound here is off by less than 1e-15 of the diameter D
    of data and centres per update, while the bounds carry margin / 2 = 5e-10 D each way, so
    they stay valid for far more updates than any run makes, and a point is skipped only when
    its own centre is nearer than every other by more than 5e-10 D, where floating-point
    distances cannot reverse the order. The labels are therefore those of :func:`e_step` bit
    for bit, ties included. Centres outside the box of the previous call widen it and the
    margin.
    """
    if state is None:
        labels, best, second = two_nearest(Xt, C)
        lo = np.minimum(Xt.min(axis=1), C.min(axis=0))
        hi = np.maximum(Xt.max(axis=1), C.max(axis=0))
        margin = _margin(lo, hi)
        upper = np.sqrt(best)
        upper += 0.5 * margin
        lower = np.sqrt(second)
        lower -= 0.5 * margin
        return HamerlyState(labels, upper, lower, C.copy(), lo, hi, margin), best

    k = C.shape[0]
    labels, upper, lower, bound = state.labels, state.upper, state.lower, state.scratch
    state.lo = np.minimum(state.lo, C.min(axis=0))
    state.hi = np.maximum(state.hi, C.max(axis=0))
    widen = max(_margin(state.lo, state.hi) - state.margin, 0.0)  # centres left the box
    state.margin += widen
    half_margin = 0.5 * state.margin
    shift = np.sqrt(((C - state.centers) ** 2).sum(axis=1))
    state.centers = C.copy()
    # Centres moved: the distance to the own centre may have grown by that centre's move and
    # the distance to any other centre shrunk by at most the largest move.
    upper += np.take(shift, labels, out=bound, mode="clip")
    if widen:
        upper += 0.5 * widen
    lower -= shift.max() + 0.5 * widen
    if k > 1:
        gaps = np.sqrt(((C[:, None, :] - C[None, :, :]) ** 2).sum(axis=2))
        np.fill_diagonal(gaps, np.inf)
        half = 0.5 * gaps.min(axis=1) - half_margin
        np.take(half, labels, out=bound, mode="clip")
        np.maximum(bound, lower, out=bound)
    else:
        bound.fill(np.inf)
    idx = np.flatnonzero(upper >= bound)  # keep a label only if upper < the bound
    # (np.take and np.compress below: several times faster than fancy and boolean indexing)
    if idx.size:
        # tighten: the exact distance to the own centre
        old = np.take(labels, idx)
        d2_old = distance_to_assigned(np.take(Xt, idx, axis=1), C, old, "l2")
        u = np.sqrt(d2_old)
        u += half_margin
        upper[idx] = u
        still = u >= np.take(bound, idx)
        idx, old, d2_old = (np.compress(still, a) for a in (idx, old, d2_old))
    else:
        old, d2_old = idx, np.empty(0)
    if idx.size:
        new, d2_new, second = two_nearest(np.take(Xt, idx, axis=1), C)
        labels[idx] = new
        upper[idx] = np.sqrt(d2_new) + half_margin
        lower[idx] = np.sqrt(second) - half_margin
        changed = new != old
        return tuple(np.compress(changed, a) for a in (idx, old, new, d2_old, d2_new))
    return idx, old, old, d2_old, d2_old
