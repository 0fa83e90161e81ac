"""K-medoids clustering by alternating (Voronoi) iteration.

K-medoids looks for k data points, the medoids, that minimise the sum of distances (not
squared) from every point to its nearest medoid; any distance works, here "l2" or "l1". The
alternating algorithm mirrors Lloyd's K-means: the E-step assigns every point to its nearest
medoid, the M-step replaces each medoid by the candidate point with the smallest sum of
distances to the cluster's members.

Functions: :func:`e_step`, :func:`m_step`, :func:`objective` and :func:`fit`. No n x n
distance matrix is ever built: medoid costs are computed per cluster, in blocks, and for "l1"
from sorted prefix sums.
"""

from __future__ import annotations

import numpy as np

from . import _validation as v
from ._distances import argmin_tie, distance_to_assigned, medoid_costs, nearest_center
from ._results import ClusterStep, KMedoidsResult, readonly
from .kmeans import INITS, _init_indices, _transpose

__all__ = ["e_step", "m_step", "objective", "fit", "KMedoidsResult"]

MEDOIDS_FROM = ("cluster", "all")


# --------------------------------------------------------------------------- public steps


def e_step(X, medoids, metric="l2"):
    """Assign every point to its nearest medoid.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Data points.
    medoids : array_like
        The medoids, either as coordinates of shape (k, d) or as a 1-D integer array of k row
        indices into X.
    metric : {"l2", "l1"}, default "l2"

    Returns
    -------
    labels : ndarray of int, shape (n,)
        Index of the nearest medoid; ties go to the lowest index.

    Examples
    --------
    >>> import numpy as np
    >>> from algos import kmedoids
    >>> X = np.array([[0., -6.], [4., 4.], [0., 0.], [-5., 2.]])
    >>> kmedoids.e_step(X, [2, 0])
    array([1, 0, 0, 0])
    """
    X = v.check_X(X)
    v.check_metric(metric)
    M = X[_medoid_rows(X, medoids, None, "medoids")] if _is_index_array(medoids) else \
        v.check_centers(medoids, None, X.shape[1], name="medoids")
    labels, _ = nearest_center(_transpose(X), M, metric)
    return labels


def m_step(X, labels, k, metric="l2", medoids_from="cluster", previous=None):
    """Choose each cluster's medoid: the candidate with the least total distance to the members.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Data points.
    labels : array_like of int, shape (n,)
        Cluster of each point, in 0..k-1.
    k : int
        Number of clusters.
    metric : {"l2", "l1"}, default "l2"
    medoids_from : {"cluster", "all"}, default "cluster"
        Candidates for a cluster's medoid: its own members (the standard algorithm) or every
        point of X (the variant in seed notebook 000).
    previous : array_like of int, shape (k,), optional
        Medoid row indices before this step, at k distinct positions. A cluster without
        members keeps its previous medoid; without ``previous`` an empty cluster is an error.

    Returns
    -------
    medoid_indices : ndarray of int, shape (k,)
        Rows of X that are the new medoids, at k distinct positions.

    Raises
    ------
    ValueError
        If a cluster is empty and ``previous`` is None; if two ``previous`` medoids are at the
        same position; if every candidate of a cluster sits where another cluster's medoid is
        (possible only for labels that split equal points between clusters, which
        :func:`e_step` never does).

    Notes
    -----
    Ties go to the lowest row index. Costs that agree to a relative 1e-12 count as tied, so the
    rule does not depend on the order in which a sum of distances was accumulated; l1 costs on
    integer data are computed exactly, so there the rule is exactly ``np.argmin``.

    **Medoids stay at distinct positions.** Clusters are processed in order 0, 1, ..., k - 1,
    and a cluster skips every candidate at the position of another cluster's medoid: the new
    medoid of an earlier cluster or the ``previous`` medoid of a later one. Its own previous
    medoid is never skipped, so the step never raises the objective; the cheapest remaining
    candidate wins, ties to the lowest index. In a fit, with ``medoids_from="cluster"``, the
    rule never has to skip anything, since :func:`e_step` puts equal points in one cluster; with
    ``"all"`` two clusters could otherwise pick the same central point, and one of them would
    then lose all its points.

    Examples
    --------
    >>> import numpy as np
    >>> from algos import kmedoids
    >>> X = np.array([[0., -6.], [4., 4.], [0., 0.], [-5., 2.]])
    >>> kmedoids.m_step(X, [1, 0, 0, 0], k=2)
    array([2, 0])
    """
    X = v.check_X(X)
    k = v.check_k(k, X.shape[0])
    labels = v.check_labels(labels, X.shape[0], k)
    metric = v.check_metric(metric)
    medoids_from = v.check_choice(medoids_from, "medoids_from", MEDOIDS_FROM)
    prev = None if previous is None else _medoid_rows(X, previous, k, "previous")
    if prev is not None:
        _check_distinct(X, prev, "previous")
    else:
        empty = np.flatnonzero(np.bincount(labels, minlength=k) == 0)
        if empty.size:
            raise ValueError(
                f"cluster(s) {empty.tolist()} have no points; pass previous= (the medoid "
                f"indices before this step) so an empty cluster can keep its medoid"
            )
    return _medoid_update(X, labels, k, metric, medoids_from, prev)


def objective(X, labels, medoids, metric="l2"):
    """K-medoids objective: the sum of distances (not squared) from each point to its medoid.

    Parameters
    ----------
    X : array_like, shape (n, d)
    labels : array_like of int, shape (n,)
    medoids : array_like
        Coordinates (k, d) or a 1-D integer array of k row indices into X.
    metric : {"l2", "l1"}, default "l2"

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from algos import kmedoids
    >>> X = np.array([[0., 0.], [3., 4.]])
    >>> float(kmedoids.objective(X, [0, 0], [0]))
    5.0
    """
    X = v.check_X(X)
    metric = v.check_metric(metric)
    M = X[_medoid_rows(X, medoids, None, "medoids")] if _is_index_array(medoids) else \
        v.check_centers(medoids, None, X.shape[1], name="medoids")
    labels = v.check_labels(labels, X.shape[0], M.shape[0])
    return _objective(_transpose(X), M, labels, metric)


# --------------------------------------------------------------------------- fit


def fit(X, *, k, init="k-means++", metric="l2", medoids_from="cluster", max_iter=300, seed=None):
    """Cluster X around k medoids by alternating iteration, recording every half-step.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Data points (any d >= 1).
    k : int
        Number of clusters, 1 <= k <= n.
    init : {"k-means++", "random"} or array_like, default "k-means++"
        Starting medoids, always k points at k distinct positions: a (k, d) array of
        coordinates that are rows of X (each maps to the lowest-index row with those
        coordinates), a 1-D integer array of k row indices, ``"random"`` (k rows drawn
        uniformly; a row at the position of an earlier pick is redrawn from the rows at
        positions not taken yet) or ``"k-means++"`` (each next medoid drawn with probability
        proportional to its squared distance, in ``metric``, to the nearest one chosen so far,
        so a chosen position is never drawn again), seeded by ``seed``.
    metric : {"l2", "l1"}, default "l2"
        Distance for both steps and the objective.
    medoids_from : {"cluster", "all"}, default "cluster"
        Candidates for a medoid: the cluster's members, or all points (seed 000's variant).
    max_iter : int, default 300
        Maximum number of iterations (E-step + M-step).
    seed : int, numpy.random.Generator or None
        Seed for the random initialisations.

    Returns
    -------
    KMedoidsResult
        ``.labels .medoids .medoid_indices .objective .n_iter .converged .history``.

    Raises
    ------
    ValueError
        If k exceeds the number of distinct points of X, or an explicit ``init`` puts two
        medoids at the same position (they would tie for every point, and the higher one's
        cluster would stay empty); and for the invalid arguments every function refuses.
    TypeError
        If a 1-D ``init`` (row indices) holds anything but integers, e.g. ``[0.0, 3.0]``.

    Notes
    -----
    The run has converged when an E-step leaves every label unchanged (``history`` then ends
    with that E-step) or an M-step leaves every medoid unchanged (the next E-step would
    repeat the last one). The objective never increases from one half-step to the next: the
    E-step picks the nearest medoid and the M-step the cheapest candidate, and the current
    medoid is always a candidate.

    **k non-empty clusters.** The medoids start at k distinct positions and every M-step keeps
    them there (see :func:`m_step`). A medoid is then strictly nearest to itself, so every
    cluster contains at least its medoid: no cluster is ever empty, and a fit always returns k
    clusters. (The ``empty`` field of the steps exists for the shared history format and is
    always empty here.)

    Memory stays O(n): costs are computed per cluster and in blocks, never as an n x n matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from algos import kmedoids
    >>> X = np.array([[0., -6.], [4., 4.], [0., 0.], [-5., 2.]])
    >>> res = kmedoids.fit(X, k=2, init=np.array([[-5., 2.], [0., -6.]]), metric="l1",
    ...                    medoids_from="all")
    >>> res.labels, res.medoids
    (array([1, 0, 1, 0]), array([[ 4.,  4.],
           [ 0., -6.]]))
    """
    X = v.check_X(X)
    n, d = X.shape
    k = v.check_k(k, n)
    metric = v.check_metric(metric)
    medoids_from = v.check_choice(medoids_from, "medoids_from", MEDOIDS_FROM)
    max_iter = v.check_int(max_iter, "max_iter", minimum=0)
    rng = v.make_rng(seed)  # checked even when an explicit start does not use it
    Xt = _transpose(X)
    if isinstance(init, str):
        v.check_choice(init, "init", INITS)
        idx = _init_indices(X, k, init, rng, metric, distinct=True)
    else:
        if _is_index_array(init):
            idx = _medoid_rows(X, init, k, "init")
        else:
            idx = _rows_of(X, v.check_centers(init, k, d, name="init"), "init")
        _check_distinct(X, idx, "init")

    idx = readonly(np.asarray(idx, dtype=np.intp).copy())
    medoids = readonly(X[idx])
    history = [ClusterStep("init", 0, None, None, medoids, medoid_indices=idx)]
    labels = None
    converged = False
    n_iter = 0
    for t in range(1, max_iter + 1):
        n_iter = t
        new_labels, best = nearest_center(Xt, medoids, metric)
        J = float((np.sqrt(best) if metric == "l2" else best).sum())
        unchanged = labels is not None and np.array_equal(new_labels, labels)
        labels = readonly(new_labels)
        counts = np.bincount(labels, minlength=k)
        empty = tuple(int(j) for j in np.flatnonzero(counts == 0))
        history.append(ClusterStep("E", t, J, labels, medoids, medoid_indices=idx, empty=empty))
        if unchanged:
            converged = True
            break
        new_idx = _medoid_update(X, labels, k, metric, medoids_from, idx)
        same = np.array_equal(new_idx, idx)
        idx = readonly(new_idx)
        medoids = readonly(X[idx])
        J = _objective(Xt, medoids, labels, metric)
        history.append(ClusterStep("M", t, J, labels, medoids, medoid_indices=idx, empty=empty))
        if same:
            converged = True
            break

    if labels is None:  # max_iter == 0: assign once so the result is complete
        labels = readonly(nearest_center(Xt, medoids, metric)[0])
        final = _objective(Xt, medoids, labels, metric)
    else:
        final = history[-1].objective
    return KMedoidsResult(
        labels=labels,
        medoids=medoids,
        medoid_indices=idx,
        objective=final,
        n_iter=n_iter,
        converged=converged,
        history=tuple(history),
    )


# --------------------------------------------------------------------------- helpers


def _medoid_update(X, labels, k, metric, medoids_from, previous):
    """New medoid row index per cluster, at distinct positions (see :func:`m_step`'s Notes).

    ``previous`` (or None) holds the medoids before the step; an empty cluster keeps its one.
    """
    order = np.argsort(labels, kind="stable")  # members of each cluster, in row order
    bounds = np.searchsorted(labels[order], np.arange(k + 1))
    everyone = np.arange(X.shape[0])
    new = np.empty(k, dtype=np.intp)
    for j in range(k):  # loop over clusters, not samples
        members = order[bounds[j]:bounds[j + 1]]
        if members.size == 0:
            new[j] = previous[j]
            continue
        candidates = members if medoids_from == "cluster" else everyone
        # np.take: several times faster than X[members] for long index arrays
        costs = medoid_costs(np.take(X, members, axis=0), np.take(X, candidates, axis=0), metric)
        best = argmin_tie(costs)
        others = new[:j] if previous is None else np.concatenate([new[:j], previous[j + 1:]])
        taken = X[others]
        if taken.size and (taken == X[candidates[best]]).all(axis=1).any():
            # the cheapest candidate sits on another cluster's medoid: skip every such one
            blocked = np.zeros(candidates.size, dtype=bool)
            for position in taken:  # loop over the k - 1 other medoids
                blocked |= (np.take(X, candidates, axis=0) == position).all(axis=1)
            if blocked.all():
                raise ValueError(
                    f"every candidate for cluster {j}'s medoid sits at another cluster's medoid; "
                    f"labels that put equal points in different clusters cannot give k distinct "
                    f"medoids"
                )
            best = argmin_tie(np.where(blocked, np.inf, costs))
        new[j] = candidates[best]
    return new


def _objective(Xt, M, labels, metric):
    dist = distance_to_assigned(Xt, M, labels, metric)
    if metric == "l2":
        np.sqrt(dist, out=dist)
    return float(dist.sum())


def _is_index_array(a):
    """True for a 1-D array (row indices) rather than (k, d) coordinates.

    Any 1-D array counts, so that 1-D floats such as ``[0.0, 3.0]`` are refused as row
    indices that are not integers (:func:`_medoid_rows`), not as coordinates of the wrong
    shape.
    """
    if isinstance(a, (str, bytes)):
        return False
    try:
        return np.ndim(a) == 1
    except Exception:  # ragged input: the coordinates' check names it
        return False


def _medoid_rows(X, indices, k, name):
    """Validate a 1-D array of row indices into X (length k if k is given)."""
    arr = np.asarray(indices)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        got = f", got {arr.dtype} values {arr[:5].tolist()}" if arr.ndim == 1 else ""
        raise TypeError(
            f"{name} must be a 1-D array of integer row indices{got}; pass integers for row "
            f"indices (np.asarray({name}, dtype=int)), or the medoids' coordinates as a "
            f"(k, d) array"
        )
    if k is not None and arr.shape[0] != k:
        raise ValueError(f"{name} must hold k={k} row indices, got {arr.shape[0]}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    n = X.shape[0]
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"{name} must index rows of X (0..{n - 1}), got values in {arr.min()}..{arr.max()}")
    return arr.astype(np.intp, copy=True)


def _check_distinct(X, idx, name):
    """Refuse medoids (row indices) of which two sit at the same position."""
    P = X[idx]
    for i in range(1, P.shape[0]):  # loop over the k medoids, not the samples
        same = np.flatnonzero((P[:i] == P[i]).all(axis=1))
        if same.size:
            distinct = np.unique(X, axis=0).shape[0]
            enough = "" if idx.size <= distinct else (
                f"; k={idx.size} exceeds the number of distinct points in X ({distinct})")
            raise ValueError(
                f"{name}: medoids {int(same[0])} and {i} are at the same position "
                f"{P[i].tolist()}: they would tie for every point and one cluster would stay "
                f"empty, so K-medoids needs k distinct points{enough}"
            )


def _rows_of(X, coords, name):
    """Lowest row index of X equal to each row of ``coords``; an error if there is none."""
    out = np.empty(coords.shape[0], dtype=np.intp)
    for i, c in enumerate(coords):  # loop over the k medoids, not the samples
        hits = np.flatnonzero((X == c).all(axis=1))
        if hits.size == 0:
            raise ValueError(f"{name}[{i}] = {c.tolist()} is not a row of X; medoids must be data points")
        out[i] = hits[0]
    return out
