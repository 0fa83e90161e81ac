"""Time ``algos.gmm.fit`` against scikit-learn's ``GaussianMixture``, side by side in one run.

Run from the repository root::

    PYTHONPATH=book .venv/bin/python benchmarks/bench_gmm.py

100,000 points in 2 dimensions from five Gaussians of different shapes, k = 5, for each
covariance type ("full", "diag", "spherical", "tied"). Both programs start from the same
parameters (our "kmeans" start, passed to scikit-learn as ``weights_init``, ``means_init`` and
``precisions_init``), use the same ``reg_covar`` and ``tol=0`` so that both run the same number
of iterations, and the script checks that they reach the same parameters. Target: time per
iteration at most 1.0 times scikit-learn's for every type.

Time per iteration is measured as in ``bench_algos.py`` (whose helpers this script uses):
**fit** is a whole 50-iteration fit divided by 50, start-up included; **marginal** is
(25-iteration fit - 5-iteration fit) / 20, the iterations alone. Each time is the best of
``--repeats`` runs, ours and scikit-learn's interleaved. scikit-learn runs with its default
thread pool (all cores) and limited to one thread; ``algos`` is single-threaded numpy.
No timing here is a test: see tests/test_gmm.py for correctness.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from algos import gmm  # noqa: E402
from bench_algos import per_iteration  # noqa: E402

TYPES = ("full", "diag", "spherical", "tied")
ITERATIONS = 50
REG_COVAR = 1e-6  # scikit-learn's default; the data have variances of order 1 to 10


def mixture_data(seed, n=100_000, k=5):
    """n points from k Gaussians with random centres, orientations and elongations."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10, 10, size=(k, 2))
    labels = rng.integers(k, size=n)
    shapes = rng.normal(size=(k, 2, 2)) * rng.uniform(0.3, 1.5, size=(k, 1, 1))
    return centres[labels] + np.einsum("nab,nb->na", shapes[labels], rng.normal(size=(n, 2)))


def sklearn_precisions(covariances, covariance_type):
    """``precisions_init`` in scikit-learn's shape for each type (inverting is fine here)."""
    P = np.linalg.inv(covariances)
    return {"full": P, "tied": P[0], "diag": np.diagonal(P, axis1=1, axis2=2), "spherical": P[:, 0, 0]}[covariance_type]


def sklearn_covariances(sk, k, d):
    c = sk.covariances_
    return {
        "full": lambda: c,
        "tied": lambda: np.repeat(c[None], k, axis=0),
        "diag": lambda: np.eye(d) * c[:, :, None],
        "spherical": lambda: np.eye(d) * c[:, None, None],
    }[sk.covariance_type]()


def bench_type(X, covariance_type, seed, repeats, threads, k=5):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    start = gmm.fit(X, k=k, covariance_type=covariance_type, init="kmeans", seed=seed, reg_covar=REG_COVAR,
                    max_iter=0).history[0]
    w, m, c = start.weights, start.means, start.covariances

    def ours(max_iter=ITERATIONS):
        return gmm.fit(X, k=k, covariance_type=covariance_type, init=(w, m, c), reg_covar=REG_COVAR, tol=0.0,
                       max_iter=max_iter)

    def peer(max_iter=ITERATIONS):
        gm = GaussianMixture(
            k, covariance_type=covariance_type, weights_init=w, means_init=m,
            precisions_init=sklearn_precisions(c, covariance_type), reg_covar=REG_COVAR, tol=0.0,
            max_iter=max_iter, n_init=1,
        )
        with threadpool_limits(limits=threads), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return gm.fit(X)

    r_ours, r_peer, times = per_iteration(ours, peer, repeats)
    c_peer = sklearn_covariances(r_peer, k, X.shape[1])
    times["same"] = bool(
        np.allclose(r_ours.weights, r_peer.weights_, rtol=0, atol=1e-6)
        and np.allclose(r_ours.means, r_peer.means_, rtol=1e-6, atol=1e-6)
        and np.allclose(r_ours.covariances, c_peer, rtol=1e-6, atol=1e-9)
        and np.isclose(r_ours.log_likelihood, len(X) * r_peer.score(X), rtol=1e-9)
    )
    return times


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
    header = (f"{'EM, 100k x 2, k=5 (time per iteration)':44s} {'ours ms':>8s} {'peer ms':>8s} {'ratio':>6s} "
              f"{'cpu ratio':>9s} {'target':>6s}  ok")
    print(header)
    print("-" * len(header))
    X = mixture_data(args.seed)
    target = 1.0
    for covariance_type in TYPES:
        for threads, tag in ((None, f"{cores} thr"), (1, "1 thr")):
            r = bench_type(X, covariance_type, args.seed, args.repeats, threads)
            for what in ("fit", "marginal"):
                ours, peer = r[what]
                ratio = ours.wall / peer.wall
                note = (f"  ({r['n_iter'][0]}/{r['n_iter'][1]} iterations, same answer: {r['same']})"
                        if what == "fit" else "")
                print(f"{covariance_type + ', ' + what + ', sklearn ' + tag:44s} {ours.wall * 1e3:8.2f} "
                      f"{peer.wall * 1e3:8.2f} {ratio:6.2f} {ours.cpu / peer.cpu:9.2f} {target:6.2f}  "
                      f"{'yes' if ratio <= target else 'NO'}{note}")
    print()
    print("ratio: wall-clock time, ours / scikit-learn's. cpu ratio: CPU time summed over all threads.")
    print(f"fit: a {ITERATIONS}-iteration fit from the same start (tol=0) divided by its iterations;")
    print("marginal: (25-iteration fit - 5-iteration fit) / 20.")
    print(f"load average {os.getloadavg()[0]:.2f} at the end.")


if __name__ == "__main__":
    main()
