"""Every blocked loop of ``algos`` gives the same answer with any block size.

Long arrays are processed in blocks of ``algos._distances.BLOCK`` points (32,768 by default),
which every blocked loop reads when it runs. No test data is that large, so here the block is
shrunk to a few points: every multi-block path runs (first block, middle blocks, a short last
block), and each result must equal the one-block result. A bug that keeps only one block's
share (of a log-likelihood, a weighted sum, a distance scan) changes the result and fails here.
"""

from __future__ import annotations

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
