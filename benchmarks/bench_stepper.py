"""Time one redraw of the step-through for 2,000 points (target: 100 ms or less per step).

A redraw is what pressing "Next step" costs in the kernel: draw the half-step on the
player's two figures (the state and the objective so far), rasterise them and encode the two
PNGs the widget shows (``StepThrough.png`` with the frame cache cleared: one call makes both). The website's compact frames are timed too, and the size of
each player's HTML is printed.

Run from the repository root::

    .venv/bin/python benchmarks/bench_stepper.py            # table
    .venv/bin/python benchmarks/bench_stepper.py --check    # exit 1 if over the target

Both wall-clock and process CPU time are reported: on a shared machine the wall time
includes waiting for a core, the CPU time is what the redraw itself costs. The target is
checked on the median CPU time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book"))

from algos import stepper  # noqa: E402

TARGET_MS = 100.0
N_POINTS = 2000


def blobs(n, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [4.0, 4.0], [0.0, 5.0], [5.0, 0.0]])
    return rng.normal(size=(n, 2)) + centres[np.arange(n) % 4]


def mixture(n, seed=0):
    rng = np.random.default_rng(seed)
    half = n // 2
    return np.concatenate([rng.normal(0.0, 1.0, half), rng.normal(4.0, 0.7, n - half)])


def cases(n):
    X, x = blobs(n), mixture(n)
    return {
        "kmeans": stepper.step_through("kmeans", X, k=4, init="random", seed=3),
        "kmedoids": stepper.step_through("kmedoids", X, k=4, init="random", seed=3),
        "gmm1d": stepper.step_through("gmm1d", x, k=2, init="random", seed=1, max_iter=20),
    }


def time_frames(player, compact, repeats):
    wall, cpu = [], []
    player.png(0, compact=compact)  # first frame builds the figure and its background
    for _ in range(repeats):
        for i in range(len(player)):
            player._cache.clear()  # time the drawing, not the cache
            w0, c0 = time.perf_counter(), time.process_time()
            player.png(i, compact=compact)
            wall.append(time.perf_counter() - w0)
            cpu.append(time.process_time() - c0)
    return 1e3 * statistics.median(wall), 1e3 * statistics.median(cpu), 1e3 * max(cpu)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=N_POINTS, help="number of points")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--check", action="store_true", help=f"fail above {TARGET_MS:g} ms")
    args = parser.parse_args(argv)

    print(f"redraw per half-step, {args.n} points (median over all half-steps x {args.repeats})")
    print(f"{'method':10s} {'frames':>6s} {'live wall':>10s} {'live cpu':>9s} {'cpu max':>8s}"
          f" {'web cpu':>8s} {'html KB':>8s}")
    worst = 0.0
    for name, player in cases(args.n).items():
        wall, cpu, cpu_max = time_frames(player, False, args.repeats)
        _, web_cpu, _ = time_frames(player, True, 1)
        size = len(player.to_html().encode()) / 1024
        worst = max(worst, cpu)
        print(f"{name:10s} {len(player):6d} {wall:8.1f}ms {cpu:7.1f}ms {cpu_max:6.1f}ms"
              f" {web_cpu:6.1f}ms {size:8.0f}")
    verdict = "meets" if worst <= TARGET_MS else "MISSES"
    print(f"worst median live redraw {worst:.1f} ms (cpu): {verdict} the {TARGET_MS:g} ms target")
    return 0 if (worst <= TARGET_MS or not args.check) else 1


if __name__ == "__main__":
    sys.exit(main())
