"""Time grading a class: a folder of returned notebooks, serially and several at a time.

Builds a folder of returned chapter notebooks (by default 30: a third solved, a third blank,
a third with one wrong answer, spread over the book's chapters), grades it with
``grade_folder`` once with one job and once with the default number of jobs (one per CPU),
and prints the wall time of each and the time per notebook. Every grading of the same folder
uses the same seed, and the script checks that both runs give the same gradebook.

Run from the repository root::

    .venv/bin/python benchmarks/bench_grading.py              # 30 notebooks, about 10-20 min
    .venv/bin/python benchmarks/bench_grading.py --notebooks 6

The load average before and after is printed: on a shared machine other jobs slow grading
down, and the parallel run gains less when the cores are already busy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "book")]

from grading.batch import grade_folder, gradebook_csv  # noqa: E402
from grading.markers import has_markers, source_of  # noqa: E402
from grading.student import make_student  # noqa: E402

# One wrong answer per chapter: a mistake a student makes (the function keeps its name).
WRONG = {
    "kmeans.ipynb": ("def my_m_step", "def my_m_step(X, labels, k):\n"
                     "    return np.array([X[labels == j].sum(axis=0) for j in range(k)])\n"),
    "kmedoids.ipynb": ("def my_candidate_costs", "def my_candidate_costs(P, metric):\n"
                       "    P = np.asarray(P, dtype=float)\n"
                       "    return ((P[:, None, :] - P[None, :, :]) ** 2).sum(axis=2).sum(axis=1)\n"),
    "gmm_em.ipynb": ("def my_log_likelihood", "def my_log_likelihood(x, weights, means, sigmas):\n"
                     "    x = np.asarray(x, dtype=float)[:, None]\n"
                     "    d = np.exp(-0.5 * ((x - means) / sigmas) ** 2) / sigmas\n"
                     "    return float(np.log10(d @ np.asarray(weights)).sum())\n"),
}


def build_class(folder, n):
    """``n`` returned notebooks in ``folder``: solved, blank and wrong, chapter by chapter."""
    book = REPO / "book"
    chapters = sorted(p for p in book.glob("*.ipynb") if has_markers(json.loads(p.read_text())))
    student = folder.parent / "student"
    make_student(book, student)
    kinds = ["solved", "blank", "wrong"]
    for i in range(n):
        chapter = chapters[i % len(chapters)]
        kind = kinds[(i // len(chapters)) % len(kinds)]
        nb = json.loads((student / chapter.name if kind == "blank" else chapter).read_text())
        if kind == "wrong":  # the solved chapter, with one answer replaced by a typical mistake
            start, text = WRONG.get(chapter.name, (None, None))
            for cell in nb["cells"]:
                if start and source_of(cell).startswith(start):
                    cell["source"] = text
        target = folder / f"student{i + 1:02d}" / chapter.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(nb))


def timed(folder, out, jobs, seed):
    start = time.perf_counter()
    batch = grade_folder(folder, out, jobs=jobs, seed=seed, progress=False)
    return time.perf_counter() - start, batch


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    cpus = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        folder = Path(tmp) / "returned"
        build_class(folder, args.notebooks)
        print(f"{args.notebooks} notebooks, {cpus} CPUs, load average "
              f"{os.getloadavg()[0]:.2f} at start", flush=True)
        serial, one = timed(folder, Path(tmp) / "serial", 1, args.seed)
        print(f"JOBS=1: {serial:7.1f} s  ({serial / args.notebooks:5.1f} s per notebook)", flush=True)
        parallel, many = timed(folder, Path(tmp) / "parallel", None, args.seed)
        print(f"JOBS={cpus}: {parallel:7.1f} s  ({parallel / args.notebooks:5.1f} s per notebook), "
              f"{serial / parallel:.2f}x faster", flush=True)
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
        if gradebook_csv(one.rows) != gradebook_csv(many.rows):
            print("the two runs gave different gradebooks", file=sys.stderr)
            return 1
        failed = one.failed
        if failed:
            print(f"{len(failed)} notebooks could not be graded: {[r.name for r in failed]}",
                  file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
