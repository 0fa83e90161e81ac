"""Time ``algos`` against its peers, side by side in one run, and print the ratios.

Run from the repository root::

    PYTHONPATH=book .venv/bin/python benchmarks/bench_algos.py

Every comparison starts both programs from the same initial parameters, checks that they reach
the same answer, and reports time per iteration (ours / peer's, lower is better):

* K-means, 400,000 2-D points, k = 8: ``algos.kmeans.fit`` against scikit-learn's
  ``KMeans(algorithm="lloyd", n_init=1)``. Target: at most 1.0 per iteration over a whole fit
  (issue 11), at most 2.0 for the marginal figure.
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
machine affects both alike; the ``spread`` column gives the smallest and largest ratio of the
individual (interleaved) pairs of runs, a measure of how noisy the machine was. scikit-learn
runs with its default thread pool (all cores); the ``1 thread`` rows limit it to one core, as
numpy's element-wise work in ``algos`` uses one. ``--only kmeans`` (or ``em``, ``kmedoids``)
runs one part. No timing here is a test: see tests/ for correctness.
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


class Timing:
    """Best wall-clock and best CPU time (all threads of this process) over several runs.

    ``walls`` keeps every run's wall-clock time, in order, so interleaved runs can be paired.
    """

    def __init__(self):
        self.wall = self.cpu = float("inf")
        self.walls = []

    def add(self, wall, cpu):
        self.wall, self.cpu = min(self.wall, wall), min(self.cpu, cpu)
        self.walls.append(wall)

    def __sub__(self, other):
        out = Timing()
        out.wall, out.cpu = self.wall - other.wall, self.cpu - other.cpu
        out.walls = [a - b for a, b in zip(self.walls, other.walls)]
        return out

    def __truediv__(self, count):
        out = Timing()
        out.wall, out.cpu = self.wall / count, self.cpu / count
        out.walls = [w / count for w in self.walls]
        return out


def spread(ours, peer):
    """Smallest and largest ratio of the paired (interleaved) runs."""
    ratios = [a / b for a, b in zip(ours.walls, peer.walls) if b > 0]
    return (min(ratios), max(ratios)) if ratios else (float("nan"), float("nan"))


def interleaved(fns, repeats):
    """Best times of each function, running them in turn ``repeats`` times."""
    best = [Timing() for _ in fns]
    outs = [None] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            w0, c0 = time.perf_counter(), time.process_time()
            outs[i] = fn()
            best[i].add(time.perf_counter() - w0, time.process_time() - c0)
    return best, outs


# --------------------------------------------------------------------------- K-means


def per_iteration(ours, peer, repeats):
    """Time per iteration of two iterative fits, ``ours(max_iter)`` and ``peer(max_iter)``.

    Returns both full fits' results and a dict with ``fit`` (a whole fit divided by its
    iterations), ``marginal`` ((25-iteration fit - 5-iteration fit) / 20) and ``n_iter``.
    The peer is a scikit-learn estimator (``n_iter_``); ours an algos result (``n_iter``).
    """
    (t_ours, t_peer), (r_ours, r_peer) = interleaved([ours, peer], repeats)
    (a_o, a_p, b_o, b_p), _ = interleaved(
        [lambda: ours(5), lambda: peer(5), lambda: ours(25), lambda: peer(25)], repeats
    )
    times = dict(
        fit=(t_ours / r_ours.n_iter, t_peer / r_peer.n_iter_),
        marginal=((b_o - a_o) / 20, (b_p - a_p) / 20),
        n_iter=(r_ours.n_iter, int(r_peer.n_iter_)),
    )
    return r_ours, r_peer, times


def kmeans_data(seed, n=400_000, k=8):
    # scikit-learn's standard test data: k unit-variance blobs with centres drawn in a box;
    # some blobs overlap, so Lloyd needs dozens of iterations
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=n, centers=k, random_state=seed)
    start = kmeans.fit(X, k=k, init="k-means++", seed=seed, max_iter=0).centers
    return X, np.array(start)


def bench_kmeans(seed, repeats, threads):
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    X, C0 = kmeans_data(seed)
    k = C0.shape[0]

    def ours(max_iter=300):
        return kmeans.fit(X, k=k, init=C0, tol=0.0, max_iter=max_iter)

    def peer(max_iter=300):
        with threadpool_limits(limits=threads):
            return KMeans(k, init=C0, n_init=1, algorithm="lloyd", tol=0.0, max_iter=max_iter).fit(X)

    r_ours, r_peer, times = per_iteration(ours, peer, repeats)
    times["same"] = np.array_equal(r_ours.labels, r_peer.labels_) and np.allclose(
        r_ours.centers, r_peer.cluster_centers_, atol=1e-8
    )
    return times


# --------------------------------------------------------------------------- 1-D EM


def gmm_data(seed, n=400_000):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(-1.0, 1.0, n // 2), rng.normal(2.0, 1.5, n - n // 2)])
    start = (np.array([0.5, 0.5]), np.array([-3.0, 4.0]), np.array([2.0, 2.0]))
    return x, start


def bench_gmm(seed, repeats, threads, iters=50):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    x, (w, m, s) = gmm_data(seed)
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

    r_ours, r_peer, times = per_iteration(ours, peer, repeats)
    times["same"] = np.allclose(r_ours.means, r_peer.means_[:, 0], atol=1e-6) and np.allclose(
        r_ours.sigmas, np.sqrt(r_peer.covariances_[:, 0, 0]), atol=1e-6
    )
    return times


# --------------------------------------------------------------------------- K-medoids


def kmedoids_data(seed, n, k=5):
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=n, centers=k, random_state=seed)
    return X, np.random.default_rng(seed).choice(n, size=k, replace=False)


def bench_kmedoids(seed, repeats, metric):
    import kmedoids as peer_lib
    from sklearn.metrics import pairwise_distances

    X, init = kmedoids_data(seed, 6000)
    k = init.size
    sk_metric = {"l2": "euclidean", "l1": "manhattan"}[metric]

    def ours():
        return kmedoids.fit(X, k=k, init=init, metric=metric)

    def peer():
        D = pairwise_distances(X, metric=sk_metric)  # the n x n matrix alternating needs
        return peer_lib.alternating(D, init.copy(), max_iter=300)

    (t_ours, t_peer), (r_ours, r_peer) = interleaved([ours, peer], repeats)
    same = sorted(r_ours.medoid_indices.tolist()) == sorted(np.asarray(r_peer.medoids).tolist())
    return dict(total=(t_ours, t_peer), n_iter=(r_ours.n_iter, int(r_peer.n_iter)), same=same)


def kmedoids_peak_memory(seed, n=20_000):
    X, init = kmedoids_data(seed, n)
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
    parser.add_argument("--only", choices=["kmeans", "em", "kmedoids"], help="run one part")
    args = parser.parse_args(argv)

    import sklearn

    cores = os.cpu_count()
    print(f"python {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
          f"{cores} cores, load average {os.getloadavg()[0]:.2f} at start, best of {args.repeats}")
    print()
    header = (f"{'comparison (time per iteration)':46s} {'ours ms':>8s} {'peer ms':>8s} {'ratio':>6s} "
              f"{'cpu ratio':>9s} {'spread':>11s} {'target':>6s}  ok")
    print(header)
    print("-" * len(header))

    def row(label, ours, peer, target, extra=""):
        ratio = ours.wall / peer.wall
        ok = "yes" if ratio <= target else "NO"
        low, high = spread(ours, peer)
        print(f"{label:46s} {ours.wall * 1e3:8.2f} {peer.wall * 1e3:8.2f} {ratio:6.2f} "
              f"{ours.cpu / peer.cpu:9.2f} {low:5.2f}-{high:<5.2f} {target:6.2f}  {ok}{extra}")

    parts = [("kmeans", "K-means 400k x 2, k=8", bench_kmeans, 1.0, 2.0),
             ("em", "1-D EM 400k, k=2", bench_gmm, 0.6, 0.6)]
    for part, name, bench, target, marginal_target in parts:
        if args.only not in (None, part):
            continue
        for threads, tag in ((None, f"{cores} thr"), (1, "1 thr")):
            r = bench(args.seed, args.repeats, threads)
            note = f"  ({r['n_iter'][0]}/{r['n_iter'][1]} iterations, same answer: {r['same']})"
            row(f"{name}, fit, sklearn {tag}", *r["fit"], target, note)
            row(f"{name}, marginal, sklearn {tag}", *r["marginal"], marginal_target)
    if args.only not in (None, "kmedoids"):
        return
    for metric, target in (("l2", 1.0), ("l1", 0.5)):
        r = bench_kmedoids(args.seed, args.repeats, metric)
        (t_o, t_p), (it_o, it_p) = r["total"], r["n_iter"]
        note = f"  ({it_o}/{it_p} iterations, same medoids: {r['same']}; whole runs {t_o.wall:.3f} s / {t_p.wall:.3f} s)"
        row(f"K-medoids 6000 x 2, k=5, {metric}, vs matrix+alt.", t_o / it_o, t_p / it_p, target, note)
    print()
    print("ratio: wall-clock time, ours / peer's (best of each). cpu ratio: CPU time summed over all")
    print("threads. spread: smallest and largest ratio of the individual interleaved pairs of runs.")
    print("fit: a whole fit from the same start to convergence (tol=0), divided by its iterations;")
    print("marginal: (25-iteration fit - 5-iteration fit) / 20. K-medoids: the peer's time includes")
    print("sklearn.metrics.pairwise_distances (the n x n matrix kmedoids.alternating needs).")
    print()
    for metric, (peak, seconds, n_iter) in kmedoids_peak_memory(args.seed).items():
        ok = "yes" if peak < 300e6 else "NO"
        print(f"K-medoids 20,000 x 2, k=5, {metric}: peak memory {peak / 1e6:6.1f} MB (target < 300 MB: {ok}); "
              f"{seconds:.2f} s, {n_iter} iterations; a dense matrix alone: {20_000**2 * 8 / 1e9:.1f} GB")


if __name__ == "__main__":
    main()
