"""Distances for the 2-D methods: nearest centre, distance to an assigned centre, medoid costs.

Two metrics: ``"l2"`` (Euclidean) and ``"l1"`` (Manhattan, sum of absolute coordinate
differences). Distances are computed from coordinate differences, never through the expansion
``|x|^2 - 2 x.c + |c|^2``: that expansion cancels catastrophically for nearby points (two equal
points can come out at distance 1e-8 instead of 0), which would break exact ties and the
seeds' numbers.

Everything works on the data transposed to ``Xt`` with shape (d, n), so each coordinate is one
contiguous row and a distance is a handful of whole-array operations; long arrays are cut into
blocks that fit in the processor cache. No loop runs over individual samples.
"""

from __future__ import annotations

import numpy as np

#: Points per block: 32,768 float64 values (256 kB) per temporary stay in the L2 cache. Every
#: blocked loop in ``algos`` (nearest centre, medoid costs, the E- and M-steps of ``gmm1d``)
#: reads this value when it runs, so a test can set it to a few points to exercise the
#: multi-block paths on small data (``monkeypatch.setattr(algos._distances, "BLOCK", 7)``).
BLOCK = 32_768

#: Candidate costs within this relative distance of the minimum count as tied (see ``argmin_tie``).
TIE_RTOL = 1e-12


def blocks(n, size=None):
    """Slices that cut range(n) into consecutive blocks of at most ``size`` (default BLOCK)."""
    size = BLOCK if size is None else size
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def _distance_to_point(Xt, c, metric, out, tmp):
    """Write into ``out`` the squared l2 (or the l1) distance of every column of Xt to ``c``."""
    np.subtract(Xt[0], c[0], out=out)
    if metric == "l2":
        np.square(out, out=out)
    else:
        np.abs(out, out=out)
    for j in range(1, Xt.shape[0]):
        np.subtract(Xt[j], c[j], out=tmp)
        if metric == "l2":
            np.square(tmp, out=tmp)
        else:
            np.abs(tmp, out=tmp)
        out += tmp
    return out


def nearest_center(Xt, C, metric):
    """Index of the nearest row of C for every column of Xt, and that distance.

    Returns ``(labels, best)`` where ``best`` is the squared l2 distance (metric "l2") or the
    l1 distance (metric "l1") to the chosen centre. The loop runs over the k centres, keeping a
    running minimum; a centre replaces the current best only if it is strictly closer, so ties
    go to the lowest index, exactly as ``np.argmin`` would break them.
    """
    labels, best, _ = _scan_centers(Xt, C, metric, second=False)
    return labels, best


def two_nearest(Xt, C):
    """Like :func:`nearest_center` (metric "l2") but also the second-smallest squared distance.

    Returns ``(labels, best, second)``; ``second`` is inf when there is one centre.
    """
    return _scan_centers(Xt, C, "l2", second=True)


def _scan_centers(Xt, C, metric, second):
    d, n = Xt.shape
    labels = np.zeros(n, dtype=np.intp)
    best = np.empty(n)
    runner_up = np.full(n, np.inf) if second else None
    size = min(n, BLOCK)
    dist, tmp = np.empty(size), np.empty(size)
    closer = np.empty(size, dtype=bool)
    moved = np.empty(size, dtype=np.intp)
    for sl in blocks(n):
        m = sl.stop - sl.start
        xb, bb, lb = Xt[:, sl], best[sl], labels[sl]
        _distance_to_point(xb, C[0], metric, out=bb, tmp=tmp[:m])
        for j in range(1, C.shape[0]):
            dj = _distance_to_point(xb, C[j], metric, out=dist[:m], tmp=tmp[:m])
            cj = np.less(dj, bb, out=closer[:m])  # strictly closer: ties keep the lower index
            if second:
                sb = runner_up[sl]
                np.minimum(sb, np.maximum(bb, dj, out=tmp[:m]), out=sb)
            np.minimum(bb, dj, out=bb)
            # Centres are scanned in increasing j and every current label is below j, so
            # "label = j where closer" is max(label, j * closer): no slow masked copy.
            np.maximum(lb, np.multiply(cj, j, out=moved[:m]), out=lb)
    return labels, best, runner_up


def distance_to_assigned(Xt, C, labels, metric, out=None, tmp=None):
    """Squared l2 (or l1) distance of every point to its assigned centre ``C[labels]``.

    ``labels`` must already be valid indices into C (mode="clip" skips a second bounds
    check). ``out`` and ``tmp``, if given, are float arrays of shape (n,): ``out`` receives the
    result and ``tmp`` is scratch space (reusing both saves fresh memory per call).

    Each value is formed exactly as :func:`nearest_center` forms the distance to the chosen
    centre (coordinate 0 first, then each further coordinate added), so the two agree bit for
    bit.
    """
    d, n = Xt.shape
    out = np.empty(n) if out is None else out
    if d > 1 and tmp is None:
        tmp = np.empty(n)
    for j in range(d):
        target = out if j == 0 else tmp
        np.take(np.ascontiguousarray(C[:, j]), labels, out=target, mode="clip")
        np.subtract(Xt[j], target, out=target)
        if metric == "l2":
            np.square(target, out=target)
        else:
            np.abs(target, out=target)
        if j > 0:
            out += tmp
    return out


def argmin_tie(costs, rtol=TIE_RTOL):
    """Lowest index whose cost is within ``rtol`` (relative) of the minimum.

    Candidate costs are sums of many distances; two candidates that tie exactly in real
    arithmetic can differ in the last bits depending on the order of summation. Treating costs
    within ``rtol * min`` of the minimum as equal makes "ties go to the lowest index" hold no
    matter how the sums were formed. With exact ties (e.g. l1 costs on integer data, which are
    computed exactly) this is the same as ``np.argmin``.
    """
    low = costs.min()
    return int(np.flatnonzero(costs <= low + rtol * abs(low))[0])


def _l1_costs_1d(values, candidates):
    """sum_i |a - values_i| for every a in ``candidates``, in O((n + m) log n).

    With ``values`` sorted and S its cumulative sum, a point a with ``r`` values at or below it
    has cost ``a*r - S[r] + (S[n] - S[r]) - a*(n - r)``. Data are shifted by a central value
    first so the prefix sums stay of the size of the spread and keep their precision; on integer
    data every step is exact.
    """
    v = np.sort(values)
    shift = v[(v.size - 1) // 2]  # a data value, so integer data stay integers
    v = v - shift
    a = candidates - shift
    S = np.concatenate(([0.0], np.cumsum(v)))
    r = np.searchsorted(v, a, side="right")
    below = a * r - S[r]
    above = (S[-1] - S[r]) - a * (v.size - r)
    return below + above


def medoid_costs(members, candidates, metric):
    """Sum of distances from each candidate to all members (shapes (m, d) and (c, d)).

    For "l1" the distance separates by coordinate, so each coordinate's sums of absolute
    deviations come from sorted prefix sums in O((m + c) log m), with no pairwise distances.
    For "l2" the pairwise distances are formed block by block (about BLOCK of them at a time,
    from coordinate differences), so memory stays small whatever m and c are; an n x n matrix
    is never built.
    """
    m, d = members.shape
    c = candidates.shape[0]
    if metric == "l1":
        cost = np.zeros(c)
        for j in range(d):
            cost += _l1_costs_1d(members[:, j], candidates[:, j])
        return cost
    Pt = np.ascontiguousarray(members.T)  # (d, m): one contiguous row per coordinate
    cost = np.empty(c)
    rows = max(1, BLOCK // m)  # candidates per block, so a block holds about BLOCK distances
    buf = np.empty((rows, m))
    tmp = np.empty((rows, m))
    for start in range(0, c, rows):
        block = candidates[start:start + rows]
        b = block.shape[0]
        acc, t = buf[:b], tmp[:b]
        np.subtract(block[:, 0:1], Pt[0], out=acc)
        np.square(acc, out=acc)
        for j in range(1, d):
            np.subtract(block[:, j:j + 1], Pt[j], out=t)
            np.square(t, out=t)
            acc += t
        np.sqrt(acc, out=acc)
        acc.sum(axis=1, out=cost[start:start + b])
    return cost
