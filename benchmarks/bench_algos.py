"""Time ``algos`` against its peers, side by side in one run, and print the ratios.

Run from the repository root::

    PYTHONPATH=book .venv/bin/python benchmarks/bench_algos.py

Every comparison starts both programs from the same initial parameters, checks that they reach
the same answer, and reports time per iteration (ours / peer's, lower is better):

* K-means, 400,000 2-D points, k = 8: ``algos.kmeans.fit`` against scikit-learn's
  ``KMeans(algorithm="lloyd", n_init=1)``. Target at most 2.0 (aim 1.0).
* 1-D EM, 400,000 points, k = 2: ``algos.gmm1d.fit`` against scikit-learn's
  ``GaussianMixture``. Target at most 0.6 (aim 0.4).
* K-medoids, 6,000 2-D points, k = 5: ``algos.kmedoids.fit`` against
  ``kmedoids.alternating`` *including* the distance matrix it needs
  (``sklearn.metrics.pairwise_distances``). Target below 1.0 (l2) and 0.5 (l1).
* Peak memory of ``algos.kmedoids.fit`` on 20,000 points (tracemalloc). Target under 300 MB.

Two measures of time per iteration are printed:

* **fit**: a whole fit to convergence (tol = 0) divided by its number of iterations, start-up
  work included. Both sides run the same number of iterations from the same start.
* **marginal**: (time of a 25-iteration fit - time of a 5-iteration fit) / 20, which removes
  the start-up work and measures the iterations alone.

Each time is the best of ``--repeats`` runs, ours and the peer's interleaved so that a busy
machine affects both alike. scikit-learn runs with its default thread pool (all cores); the
``1 thread`` rows limit it to one core, as numpy's element-wise work in ``algos`` uses one.
No timing here is a test: see tests/ for correctness.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book"))

from algos import gmm1d, kmeans, kmedoids  # noqa: E402


def best_time(fn, repeats):
    """(best wall time in seconds, result of the last call)."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def interleaved(fns, repeats):
    """Best time of each function, running them in turn ``repeats`` times."""
    best = [float("inf")] * len(fns)
    outs = [None] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            outs[i] = fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best, outs


# --------------------------------------------------------------------------- K-means


def kmeans_data(rng, n=400_000, k=8):
    # overlapping blobs: Lloyd needs dozens of iterations, as on real data
    centers = rng.normal(scale=3.0, size=(k, 2))
    X = centers[rng.integers(k, size=n)] + rng.normal(size=(n, 2))
    start = kmeans.fit(X, k=k, init="k-means++", seed=0, max_iter=0).centers
    return X, np.array(start)


def bench_kmeans(rng, repeats, threads):
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    X, C0 = kmeans_data(rng)
    k = C0.shape[0]

    def ours(max_iter=300):
        return kmeans.fit(X, k=k, init=C0, tol=0.0, max_iter=max_iter)

    def peer(max_iter=300):
        with threadpool_limits(limits=threads):
            return KMeans(k, init=C0, n_init=1, algorithm="lloyd", tol=0.0, max_iter=max_iter).fit(X)

    (t_ours, t_peer), (r_ours, r_peer) = interleaved([ours, peer], repeats)
    same = np.array_equal(r_ours.labels, r_peer.labels_) and np.allclose(r_ours.centers, r_peer.cluster_centers_, atol=1e-8)
    fit_ratio = (t_ours / r_ours.n_iter) / (t_peer / r_peer.n_iter_)
    (a_o, a_p, b_o, b_p), _ = interleaved([lambda: ours(5), lambda: peer(5), lambda: ours(25), lambda: peer(25)], repeats)
    marg_ours, marg_peer = (b_o - a_o) / 20, (b_p - a_p) / 20
    return dict(
        ours_fit=t_ours / r_ours.n_iter,
        peer_fit=t_peer / r_peer.n_iter_,
        fit_ratio=fit_ratio,
        ours_marg=marg_ours,
        peer_marg=marg_peer,
        marg_ratio=marg_ours / marg_peer,
        n_iter=(r_ours.n_iter, int(r_peer.n_iter_)),
        same=same,
    )


# --------------------------------------------------------------------------- 1-D EM


def gmm_data(rng, n=400_000):
    x = np.concatenate([rng.normal(-1.0, 1.0, n // 2), rng.normal(2.0, 1.5, n - n // 2)])
    start = (np.array([0.5, 0.5]), np.array([-3.0, 4.0]), np.array([2.0, 2.0]))
    return x, start


def bench_gmm(rng, repeats, threads, iters=50):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    x, (w, m, s) = gmm_data(rng)
    X = x[:, None]

    def ours(max_iter=iters):
        return gmm1d.fit(x, k=2, init=(w, m, s), tol=0.0, max_iter=max_iter)

    def peer(max_iter=iters):
        gm = GaussianMixture(
            2, weights_init=w, means_init=m[:, None], precisions_init=(1 / s**2)[:, None, None],
            tol=0.0, max_iter=max_iter, reg_covar=1e-12, n_init=1,
        )
        with threadpool_limits(limits=threads), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return gm.fit(X)

    (t_ours, t_peer), (r_ours, r_peer) = interleaved([ours, peer], repeats)
    same = np.allclose(r_ours.means, r_peer.means_[:, 0], atol=1e-6) and np.allclose(
        r_ours.sigmas, np.sqrt(r_peer.covariances_[:, 0, 0]), atol=1e-6
    )
    (a_o, a_p, b_o, b_p), _ = interleaved([lambda: ours(5), lambda: peer(5), lambda: ours(25), lambda: peer(25)], repeats)
    marg_ours, marg_peer = (b_o - a_o) / 20, (b_p - a_p) / 20
    return dict(
        ours_fit=t_ours / r_ours.n_iter,
        peer_fit=t_peer / r_peer.n_iter_,
        fit_ratio=(t_ours / r_ours.n_iter) / (t_peer / r_peer.n_iter_),
        ours_marg=marg_ours,
        peer_marg=marg_peer,
        marg_ratio=marg_ours / marg_peer,
        n_iter=(r_ours.n_iter, int(r_peer.n_iter_)),
        same=same,
    )


# --------------------------------------------------------------------------- K-medoids


def kmedoids_data(rng, n, k=5):
    centers = rng.normal(scale=6.0, size=(k, 2))
    X = centers[rng.integers(k, size=n)] + rng.normal(size=(n, 2))
    return X, rng.choice(n, size=k, replace=False)


def bench_kmedoids(rng, repeats, metric):
    import kmedoids as peer_lib
    from sklearn.metrics import pairwise_distances

    X, init = kmedoids_data(rng, 6000)
    k = init.size
    sk_metric = {"l2": "euclidean", "l1": "manhattan"}[metric]

    def ours():
        return kmedoids.fit(X, k=k, init=init, metric=metric)

    def peer():
        D = pairwise_distances(X, metric=sk_metric)  # the n x n matrix alternating needs
        return peer_lib.alternating(D, init.copy(), max_iter=300)

    (t_ours, t_peer), (r_ours, r_peer) = interleaved([ours, peer], repeats)
    same = sorted(r_ours.medoid_indices.tolist()) == sorted(np.asarray(r_peer.medoids).tolist())
    return dict(
        ours_total=t_ours,
        peer_total=t_peer,
        total_ratio=t_ours / t_peer,
        per_iter_ratio=(t_ours / r_ours.n_iter) / (t_peer / max(int(r_peer.n_iter), 1)),
        n_iter=(r_ours.n_iter, int(r_peer.n_iter)),
        same=same,
    )


def kmedoids_peak_memory(rng, n=20_000):
    X, init = kmedoids_data(rng, n)
    peaks = {}
    for metric in ("l1", "l2"):
        tracemalloc.start()
        try:
            t0 = time.perf_counter()
            res = kmedoids.fit(X, k=init.size, init=init, metric=metric)
            seconds = time.perf_counter() - t0
            peaks[metric] = (tracemalloc.get_traced_memory()[1], seconds, res.n_iter)
        finally:
            tracemalloc.stop()
    return peaks


# --------------------------------------------------------------------------- report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import sklearn

    cores = os.cpu_count()
    print(f"python {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
          f"{cores} cores, load average {os.getloadavg()[0]:.2f} at start, best of {args.repeats}")
    print()
    header = f"{'comparison':44s} {'ours ms/it':>10s} {'peer ms/it':>10s} {'ratio':>7s} {'target':>7s}  ok"
    print(header)
    print("-" * len(header))

    def row(label, ours_s, peer_s, ratio, target, extra=""):
        ok = "yes" if ratio <= target else "NO"
        print(f"{label:44s} {ours_s * 1e3:10.2f} {peer_s * 1e3:10.2f} {ratio:7.2f} {target:7.2f}  {ok}{extra}")

    rng = np.random.default_rng(args.seed)
    for threads, tag in ((None, f"sklearn {cores} threads"), (1, "sklearn 1 thread")):
        r = bench_kmeans(np.random.default_rng(args.seed), args.repeats, threads)
        note = f"  iters {r['n_iter'][0]}/{r['n_iter'][1]}, same answer: {r['same']}"
        row(f"K-means 400k x 2, k=8, fit ({tag})", r["ours_fit"], r["peer_fit"], r["fit_ratio"], 2.0, note)
        row(f"K-means 400k x 2, k=8, marginal ({tag})", r["ours_marg"], r["peer_marg"], r["marg_ratio"], 2.0)
    for threads, tag in ((None, f"sklearn {cores} threads"), (1, "sklearn 1 thread")):
        r = bench_gmm(np.random.default_rng(args.seed), args.repeats, threads)
        note = f"  iters {r['n_iter'][0]}/{r['n_iter'][1]}, same answer: {r['same']}"
        row(f"1-D EM 400k, k=2, fit ({tag})", r["ours_fit"], r["peer_fit"], r["fit_ratio"], 0.6, note)
        row(f"1-D EM 400k, k=2, marginal ({tag})", r["ours_marg"], r["peer_marg"], r["marg_ratio"], 0.6)
    for metric, target in (("l2", 1.0), ("l1", 0.5)):
        r = bench_kmedoids(np.random.default_rng(args.seed), args.repeats, metric)
        it_o, it_p = r["n_iter"]
        note = f"  iters {it_o}/{it_p}, same medoids: {r['same']}, per-iteration ratio {r['per_iter_ratio']:.2f}"
        row(f"K-medoids 6000 x 2, k=5, {metric}, whole run", r["ours_total"] / it_o, r["peer_total"] / it_p,
            r["total_ratio"], target, note)
    print()
    print("K-medoids whole run: ours / (pairwise_distances + kmedoids.alternating), total times;")
    print("the ms/it columns divide each total by its own iteration count.")
    print()
    for metric, (peak, seconds, n_iter) in kmedoids_peak_memory(rng).items():
        ok = "yes" if peak < 300e6 else "NO"
        print(f"K-medoids 20,000 x 2, k=5, {metric}: peak memory {peak / 1e6:7.1f} MB (target < 300 MB: {ok}); "
              f"{seconds:.2f} s, {n_iter} iterations; a dense matrix alone would be {20_000**2 * 8 / 1e9:.1f} GB")


if __name__ == "__main__":
    main()
