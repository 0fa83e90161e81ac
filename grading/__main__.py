"""Command line: ``python -m grading student|grade`` (what ``make student`` / ``make grade`` run).

Exit codes of ``grade``:

* one notebook: 0 every exercise passes; 1 the notebook was graded and some exercise does not
  pass; 2 it could not be graded (missing, not a notebook, no exercise of this book);
* a folder: 0 every notebook was graded (whatever the verdicts: they are in the gradebook);
  2 some notebook could not be graded (its row says why).

``student`` exits 0, or 2 when a chapter's markers are not well-formed.

``grade`` says once, at the start, what contains the students' code (:mod:`grading.sandbox`):
the bubblewrap sandbox, or a warning that only the limits apply; ``--strict`` (``STRICT=1``)
refuses to grade without the sandbox (exit code 2). In an unzipped hand-out (a student checking
their own notebook) the warning is left out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ._paths import ROOT, book_dir, use_book_algos


def _show(path):
    """A path as the user would type it: relative to the current folder when possible."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(Path(path).resolve()) if rel.startswith("..") else rel


def _positive(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def _jobs(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2 ** 63:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0, got {text}")
    return value


def _size(text):
    from .sandbox import parse_size

    try:
        return parse_size(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a size such as 2G or 512M, got {text}") from None


def _parser():
    from .grader import CELL_TIMEOUT, TOTAL_TIMEOUT

    p = argparse.ArgumentParser(prog="python -m grading",
                                description="Student notebooks and grading for the book's homework.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("student", help="write the student notebooks and homework.zip")
    s.add_argument("--force", action="store_true",
                   help="overwrite student notebooks that were edited since they were generated")
    s.add_argument("--book", type=Path, default=book_dir(), help="folder of the chapters")
    s.add_argument("--out", type=Path, default=ROOT / "_build" / "student", help="output folder")
    g = sub.add_parser("grade", help="grade a notebook, or every notebook below a folder")
    g.add_argument("target", type=Path, help="a notebook, or a folder of returned notebooks")
    g.add_argument("--timeout", type=_positive, default=CELL_TIMEOUT,
                   help=f"seconds allowed per cell and per call of a student's function "
                        f"(default {CELL_TIMEOUT})")
    g.add_argument("--total-timeout", type=_positive, default=TOTAL_TIMEOUT,
                   help=f"seconds allowed for one notebook (default {TOTAL_TIMEOUT})")
    g.add_argument("--seed", type=_seed, default=None,
                   help="seed of the hidden random data (default: a new one, printed)")
    g.add_argument("--jobs", type=_jobs, default=None,
                   help="folder: notebooks graded at the same time (default: the number of CPUs)")
    g.add_argument("--out", type=Path, default=ROOT / "_build" / "grades",
                   help="folder: where grades.csv and feedback/ go (default _build/grades)")
    g.add_argument("--memory", type=_size, default=None,
                   help="memory each process that runs a notebook's code may use, and all of a "
                        "notebook's processes together (default 2G)")
    g.add_argument("--strict", action="store_true",
                   help="refuse to grade without the sandbox (bubblewrap, Linux)")
    g.add_argument("--json", action="store_true",
                   help="one notebook: print the report as JSON instead of lines")
    g.add_argument("--quiet", action="store_true", help="folder: no progress bar")
    return p


def _student(args):
    from .markers import MarkerError
    from .student import make_student

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


def _limits(args):
    from .grader import default_limits
    from .sandbox import Limits

    memory = Limits.memory if args.memory is None else args.memory
    return default_limits(memory=memory, total_timeout=args.total_timeout)


def _refused(args):
    """True (having said why) if ``--strict`` refuses to grade because the sandbox cannot run."""
    from .sandbox import available

    ok, why = available()
    if args.strict and not ok:
        why = why.replace(" STRICT=1 refuses to grade without the sandbox.", "")
        print(f"error: --strict (STRICT=1) refuses to grade without the sandbox: {why}",
              file=sys.stderr)
        return True
    return False


def _announce(args, limits):
    """Say once, at the start, what contains the students' code."""
    from .sandbox import available

    ok, why = available()
    said = f"limits: {limits.describe()}; {args.timeout:g} s per cell"
    if ok:
        print(f"{why}; {said}", file=sys.stderr if args.json else sys.stdout, flush=True)
    elif book_dir() != ROOT:  # the teacher's repository, not a student's hand-out
        print(f"warning: {why}", file=sys.stderr, flush=True)
        print(said, file=sys.stderr, flush=True)


def _grade_one(args):
    from .grader import GradingError, grade

    if _refused(args):
        return 2
    limits = _limits(args)
    if not args.json:
        print(f"Grading {_show(args.target)} (time limit {args.timeout:g} s per cell)", flush=True)
    _announce(args, limits)
    try:
        report = grade(args.target, timeout=args.timeout, total_timeout=args.total_timeout,
                       seed=args.seed, limits=limits, strict=args.strict)
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), indent=1, allow_nan=False))
    else:
        for line in report.lines():
            print(line)
    return 0 if report.passed else 1


def _grade_folder(args):
    from .batch import grade_folder

    if _refused(args):
        return 2
    limits = _limits(args)
    _announce(args, limits)
    batch = grade_folder(args.target, args.out, jobs=args.jobs, timeout=args.timeout,
                         total_timeout=args.total_timeout, seed=args.seed,
                         progress=not args.quiet, limits=limits, strict=args.strict)
    graded = len(batch.rows) - len(batch.failed)
    print(f"Graded {graded} of {len(batch.rows)} notebooks below {_show(args.target)} "
          f"(seed {batch.seed}; --seed {batch.seed} repeats this grading).")
    print(f"Gradebook: {_show(batch.csv_path)}")
    print(f"Feedback:  {_show(batch.feedback_dir)}/")
    if not batch.rows:
        print(f"error: no notebook (*.ipynb) below {_show(args.target)}", file=sys.stderr)
        return 2
    for row in batch.rows:
        if row.report is not None and row.report.limits:
            print(f"{row.name} ran into the {' and '.join(row.report.limits)} limit"
                  f"{'s' * (len(row.report.limits) > 1)} (its feedback says where)")
    for row in batch.failed:
        print(f"could not grade {row.name}: {row.error}", file=sys.stderr)
    return 2 if batch.failed else 0


def main(argv=None):
    args = _parser().parse_args(argv)
    use_book_algos()
    if args.command == "student":
        return _student(args)
    from .sandbox import SandboxUnavailable

    try:
        return _grade_folder(args) if args.target.is_dir() else _grade_one(args)
    except SandboxUnavailable as exc:
        print(f"error: --strict (STRICT=1) refuses to grade without the sandbox: {exc}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug in the grader: still one readable line, never a traceback
        print(f"error: the grader itself failed ({type(exc).__name__}: {exc}); please tell "
              f"your teacher", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
