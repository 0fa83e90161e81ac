"""Command line: ``python -m grading student|grade`` (what ``make student`` / ``make grade`` run).

Exit codes: 0 success (``grade``: every exercise passes); 1 ``grade`` ran and some exercise
failed; 2 the input is unusable (missing notebook, not a notebook, malformed markers).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ._grade import CELL_TIMEOUT, TOTAL_TIMEOUT, GradingError, grade
from ._markers import MarkerError
from ._paths import ROOT, book_dir, use_book_algos
from ._student import make_student

_REPO = ROOT


def _show(path):
    """A path as the user would type it: relative to the current folder when possible."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(Path(path).resolve()) if rel.startswith("..") else rel


def _positive(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def _parser():
    p = argparse.ArgumentParser(prog="python -m grading",
                                description="Student notebooks and grading for the book's homework.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("student", help="write the student notebooks and homework.zip")
    s.add_argument("--force", action="store_true",
                   help="overwrite student notebooks that were edited since they were generated")
    s.add_argument("--book", type=Path, default=book_dir(), help="folder of the chapters")
    s.add_argument("--out", type=Path, default=_REPO / "_build" / "student", help="output folder")
    g = sub.add_parser("grade", help="run a notebook and check every exercise")
    g.add_argument("notebook", type=Path)
    g.add_argument("--timeout", type=_positive, default=CELL_TIMEOUT,
                   help=f"seconds allowed per cell and per check (default {CELL_TIMEOUT})")
    g.add_argument("--total-timeout", type=_positive, default=TOTAL_TIMEOUT,
                   help=f"seconds allowed for the whole run (default {TOTAL_TIMEOUT})")
    return p


def _student(args):
    try:
        report = make_student(args.book, args.out, force=args.force)
    except MarkerError as exc:
        print("The homework markers are not well-formed; nothing was written:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    out = _show(args.out)
    for name in report.written:
        print(f"wrote      {out}/{name}")
    for name in report.overwritten:
        print(f"overwrote  {out}/{name} (edited since it was generated; --force)")
    for name in report.unchanged:
        print(f"up to date {out}/{name}")
    for name in report.kept:
        print(f"KEPT       {out}/{name}: it was edited since it was generated, so it was not "
              f"overwritten; run `make student FORCE=1` to replace it", file=sys.stderr)
    if report.kept:
        print(f"note: {out}/homework.zip holds the freshly generated notebooks, not the edited "
              f"files.", file=sys.stderr)
    return 0


def _grade(args):
    print(f"Grading {_show(args.notebook)} (time limit {args.timeout:g} s per cell)", flush=True)
    try:
        report = grade(args.notebook, timeout=args.timeout, total_timeout=args.total_timeout)
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug in the grader: still one readable line, never a traceback
        print(f"error: the grader itself failed ({type(exc).__name__}: {exc}); please tell "
              f"your teacher", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line)
    return 0 if report.passed else 1


def main(argv=None):
    use_book_algos()
    args = _parser().parse_args(argv)
    return _student(args) if args.command == "student" else _grade(args)


if __name__ == "__main__":
    sys.exit(main())
