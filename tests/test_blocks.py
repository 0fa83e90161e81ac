"""Every blocked loop of ``algos`` gives the same answer with any block size.

Long arrays are processed in blocks of ``algos._distances.BLOCK`` points (32,768 by default),
which every blocked loop reads when it runs. No test data is that large, so here the block is
shrunk to a few points: every multi-block path runs (first block, middle blocks, a short last
block), and each result must equal the one-block result. A bug that keeps only one block's
share (of a log-likelihood, a weighted sum, a distance scan) changes the result and fails here.

The last tests check what blocks are for: the distance kernels keep their working memory to a
block (measured with ``tracemalloc``, which sees numpy's array memory), never to an array of
length n or a dense n x k or candidate x member matrix, and form each distance once.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from algos import _distances, gmm1d, kmeans, kmedoids

#: Block sizes: one point per block, a few points with a short last block, one block.
SIZES = [1, 7, 64]


@pytest.fixture(params=SIZES)
def block(request, monkeypatch):
    monkeypatch.setattr(_distances, "BLOCK", request.param)
    return request.param


def mixture_data():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-2, 1, 60), rng.normal(3, 0.5, 41)])  # n = 101: a short last block
    return x, ([0.3, 0.3, 0.4], [-1.0, 0.0, 2.0], [1.0, 2.0, 0.5])


def reference(fn, *args, **kwargs):
    """``fn`` run with one block holding all the data."""
    saved = _distances.BLOCK
    _distances.BLOCK = 1 << 30
    try:
        return fn(*args, **kwargs)
    finally:
        _distances.BLOCK = saved


def test_blocks_cover_range_exactly(block):
    for n in (1, block, block + 1, 5 * block + 3):
        parts = _distances.blocks(n)
        assert parts[0].start == 0 and parts[-1].stop == n
        assert all(a.stop == b.start for a, b in zip(parts, parts[1:]))
        assert all(0 < p.stop - p.start <= block for p in parts)


def test_blocks_of_an_explicit_size():
    """``blocks(n, size)`` cuts by ``size``, not by BLOCK (a ``size`` ignored gives one block)."""
    assert _distances.blocks(10, 3) == [slice(0, 3), slice(3, 6), slice(6, 9), slice(9, 10)]
    assert _distances.blocks(6, 3) == [slice(0, 3), slice(3, 6)]
    assert _distances.blocks(2, 3) == [slice(0, 2)]
    assert _distances.blocks(0, 3) == []


def test_em_steps_with_small_blocks(block):
    x, (w, m, s) = mixture_data()
    assert len(_distances.blocks(x.size)) == -(-x.size // block)
    resp = gmm1d.e_step(x, w, m, s)
    np.testing.assert_allclose(resp, reference(gmm1d.e_step, x, w, m, s), rtol=1e-14, atol=1e-300)
    ll = gmm1d.log_likelihood(x, w, m, s)
    assert ll == pytest.approx(reference(gmm1d.log_likelihood, x, w, m, s), rel=1e-14)
    # the log-likelihood is the sum over every point, not over one block
    dens = sum(wj * np.exp(-0.5 * ((x - mj) / sj) ** 2) / (sj * np.sqrt(2 * np.pi)) for wj, mj, sj in zip(w, m, s))
    assert ll == pytest.approx(np.log(dens).sum(), rel=1e-13)
    new = gmm1d.m_step(x, resp)
    for ours, ref in zip(new, reference(gmm1d.m_step, x, resp)):
        np.testing.assert_allclose(ours, ref, rtol=1e-14)
    Nk = resp.sum(axis=0)
    np.testing.assert_allclose(new[1], (resp * x[:, None]).sum(axis=0) / Nk, rtol=1e-13)
    np.testing.assert_allclose(new[2], np.sqrt((resp * (x[:, None] - new[1]) ** 2).sum(axis=0) / Nk), rtol=1e-13)


def test_em_fit_with_small_blocks(block):
    x, start = mixture_data()
    ours = gmm1d.fit(x, k=3, init=start, max_iter=15, tol=0)
    ref = reference(gmm1d.fit, x, k=3, init=start, max_iter=15, tol=0)
    for a, b in zip(ours.history, ref.history):
        assert a.objective == pytest.approx(b.objective, rel=1e-13)
        np.testing.assert_allclose(a.means, b.means, rtol=1e-12)
        np.testing.assert_allclose(a.sigmas, b.sigmas, rtol=1e-12)


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_nearest_centre_scan_with_small_blocks(block, metric):
    rng = np.random.default_rng(1)
    X = rng.integers(0, 4, size=(101, 2)).astype(float)  # many ties: the lowest index must win
    C = rng.integers(0, 4, size=(5, 2)).astype(float)
    Xt = np.ascontiguousarray(X.T)
    labels, best = _distances.nearest_center(Xt, C, metric)
    ref_labels, ref_best = reference(_distances.nearest_center, Xt, C, metric)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_array_equal(best, ref_best)
    power = 2 if metric == "l2" else 1
    D = (np.abs(X[:, None, :] - C[None]) ** power).sum(axis=2)
    np.testing.assert_array_equal(labels, D.argmin(axis=1))
    labels2, best2, second = _distances.two_nearest(Xt, C)
    D2 = np.sort(((X[:, None, :] - C[None]) ** 2).sum(axis=2), axis=1)
    np.testing.assert_array_equal(best2, D2[:, 0])
    np.testing.assert_array_equal(second, D2[:, 1])


def test_kmeans_and_kmedoids_fits_with_small_blocks(block):
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(c, 0.7, size=(35, 2)) for c in ((0, 0), (4, 0), (0, 4))])
    for fit, kw in ((kmeans.fit, {}), (kmedoids.fit, {"metric": "l2"}), (kmedoids.fit, {"medoids_from": "all"})):
        ours = fit(X, k=3, seed=3, **kw)
        ref = reference(fit, X, k=3, seed=3, **kw)
        assert len(ours.history) == len(ref.history)
        for a, b in zip(ours.history[1:], ref.history[1:]):
            np.testing.assert_array_equal(a.labels, b.labels)
            np.testing.assert_allclose(a.centers, b.centers, rtol=1e-14)
            assert a.objective == pytest.approx(b.objective, rel=1e-13)


def test_medoid_costs_with_small_blocks(block):
    rng = np.random.default_rng(4)
    members, candidates = rng.normal(size=(23, 3)), rng.normal(size=(11, 3))
    dense = np.sqrt(((candidates[:, None, :] - members[None]) ** 2).sum(axis=2)).sum(axis=1)
    np.testing.assert_allclose(_distances.medoid_costs(members, candidates, "l2"), dense, rtol=1e-13)


# --------------------------------------------------------------------------- memory and work


def peak_bytes(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` and the peak memory (bytes) it allocated, as ``tracemalloc`` sees it.

    Measured from the memory in use when ``fn`` starts, so it also holds if something else
    (``python -X tracemalloc``) is already tracing.
    """
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = fn(*args, **kwargs)
        return result, tracemalloc.get_traced_memory()[1] - before
    finally:
        if not tracing:
            tracemalloc.stop()


def test_nearest_centre_scan_keeps_its_working_memory_to_a_block(monkeypatch):
    """Besides its outputs (labels and distances: 16 bytes a point), the scan holds a few arrays
    of one block, whatever n is. Catches a scan that fills an n-long array it does not return
    (``nearest_center`` computing the unused runner-up distances, 8 bytes a point) or a dense
    n x k distance matrix. The bound, 4 bytes a point, is below any float array of length n.
    """
    monkeypatch.setattr(_distances, "BLOCK", 256)
    n = 20_000
    rng = np.random.default_rng(7)
    Xt = np.ascontiguousarray(rng.normal(size=(2, n)))
    C = rng.normal(size=(4, 2))
    for metric in ("l2", "l1"):
        extra = peak_bytes(_distances.nearest_center, Xt, C, metric)[1] - 16 * n
        assert extra < 4 * n, f"nearest_center ({metric}): {extra} bytes beyond its outputs"
    extra = peak_bytes(_distances.two_nearest, Xt, C)[1] - 24 * n  # labels, best and second
    assert extra < 4 * n, f"two_nearest: {extra} bytes beyond its outputs"


@pytest.mark.parametrize("metric", ["l2", "l1"])
@pytest.mark.parametrize("d", [1, 3])
def test_distance_to_assigned_fills_out_and_allocates_nothing_of_length_n(d, metric):
    """With ``out`` (and, for d > 1, the scratch ``tmp``) given, the distances land in ``out``
    and the call allocates no array of length n, as its docstring promises. Catches ``out``
    ignored (a fresh array returned, the caller's left unwritten), ``tmp`` replaced by a fresh
    array, scratch allocated for one coordinate (which needs none), and ``np.take`` with its
    default mode "raise", which copies ``out`` before writing into it (numpy's docs: "out is
    always buffered if mode='raise'").
    """
    n, k = 10_000, 4
    rng = np.random.default_rng(8)
    X, C = rng.normal(size=(n, d)), rng.normal(size=(k, d))
    labels = rng.integers(0, k, size=n).astype(np.intp)
    Xt = np.ascontiguousarray(X.T)
    out = np.full(n, np.nan)
    tmp = np.empty(n) if d > 1 else None
    power = 2 if metric == "l2" else 1
    expected = (np.abs(X - C[labels]) ** power).sum(axis=1)
    result, peak = peak_bytes(_distances.distance_to_assigned, Xt, C, labels, metric, out=out, tmp=tmp)
    assert result is out
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    assert peak < 4 * n, f"{peak} bytes allocated with out and tmp given"


class CountingNumpy:
    """``numpy`` as ``_distances`` sees it, recording the size of every ``np.sqrt`` argument."""

    def __init__(self):
        self.sizes = []

    def __getattr__(self, name):
        return getattr(np, name)

    def sqrt(self, x, *args, **kwargs):
        self.sizes.append(np.size(x))
        return np.sqrt(x, *args, **kwargs)


@pytest.mark.parametrize("size, m, c", [(16, 5, 23), (16, 10, 7), (16, 40, 7)])
def test_medoid_costs_forms_each_distance_once_about_a_block_at_a_time(monkeypatch, size, m, c):
    """An l2 distance takes one square root, so ``medoid_costs`` takes c * m of them, in
    ceil(c / rows) blocks of rows = max(1, BLOCK // m) candidates: at most max(BLOCK, m)
    distances at a time. Catches blocks that overlap (each block's work redone up to rows
    times: same costs, rows times slower), blocks of two candidates when there are more than
    BLOCK / 2 members (2 m distances at a time, over BLOCK, where one candidate would do) and
    a dense c x m matrix.
    """
    monkeypatch.setattr(_distances, "BLOCK", size)
    counting = CountingNumpy()
    monkeypatch.setattr(_distances, "np", counting)
    rng = np.random.default_rng(9)
    members, candidates = rng.normal(size=(m, 2)), rng.normal(size=(c, 2))
    costs = _distances.medoid_costs(members, candidates, "l2")
    monkeypatch.undo()
    dense = np.sqrt(((candidates[:, None, :] - members[None]) ** 2).sum(axis=2)).sum(axis=1)
    np.testing.assert_allclose(costs, dense, rtol=1e-13)
    rows = max(1, size // m)
    assert sum(counting.sizes) == c * m
    assert max(counting.sizes) <= max(size, m)
    assert len(counting.sizes) == math.ceil(c / rows)
