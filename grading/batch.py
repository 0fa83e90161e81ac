"""Grade a whole class: every notebook below a folder, a gradebook and feedback pages.

``make grade DIR=returned/`` grades every ``*.ipynb`` below the folder (hidden folders such
as ``.ipynb_checkpoints`` are skipped), several at a time, and writes into ``out``
(``_build/grades/`` by default):

* ``grades.csv``: one row per notebook, columns ``notebook`` (its path relative to the
  folder), ``chapter``, ``status`` (``graded``, or ``error: <why>``), one column per exercise
  label holding the automatic points earned (empty where the exercise belongs to another
  chapter; for a written exercise empty when answered, awaiting the teacher, and 0 when not
  answered), then ``total`` and ``max`` (automatic points) and ``manual_max`` (the points of
  written answers awaiting the teacher);
* ``feedback/<path relative to the folder, without .ipynb>.html``: one page per notebook;
* ``grades.json``: the same, in full (every exercise's parts and messages), for scripts.

All notebooks of one run share one seed for the hidden random data, recorded in every page.
A notebook that cannot be graded (not a notebook, not of this book) gets its row with the
reason; one that loops, kills its kernel or runs into a resource limit (memory, processes,
file size, CPU time; :mod:`grading.sandbox`) is graded as far as it goes, and its feedback
names the limit. Either way the batch goes on.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from . import feedback
from ._paths import ROOT
from .checks import CHECKS
from .grader import CELL_TIMEOUT, TOTAL_TIMEOUT, GradingError, grade, new_seed, require_sandbox


@dataclass
class Row:
    """One notebook of a batch: its report, or why it could not be graded."""

    name: str
    report: object = None
    error: str = ""


@dataclass
class Batch:
    """What :func:`grade_folder` did."""

    seed: int
    rows: list = field(default_factory=list)
    csv_path: Path | None = None
    feedback_dir: Path | None = None

    @property
    def failed(self):
        return [r for r in self.rows if r.error]


def find_notebooks(folder):
    """Every ``*.ipynb`` below ``folder``, sorted, skipping hidden files and folders."""
    folder = Path(folder)
    found = []
    for path in folder.rglob("*.ipynb"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() or path.is_symlink():
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _grade_one(path, name, **kwargs):
    try:
        return Row(name, report=grade(path, **kwargs))
    except GradingError as exc:  # the reason names the file as the gradebook does
        return Row(name, error=" ".join(str(exc).replace(str(path), name).split()))
    except Exception as exc:  # a bug in the grader: the batch goes on, the row says so
        return Row(name, error=f"the grader itself failed ({type(exc).__name__}: "
                               f"{' '.join(str(exc).split())[:200]})")


def grade_folder(folder, out, *, jobs=None, timeout=CELL_TIMEOUT, total_timeout=TOTAL_TIMEOUT,
                 seed=None, progress=True, limits=None, strict=False):
    """Grade every notebook below ``folder`` and write the gradebook and feedback into ``out``.

    Parameters
    ----------
    folder : path
        The returned notebooks (any layout of subfolders).
    out : path
        Where ``grades.csv`` and ``feedback/`` go; an older ``feedback/`` there is replaced.
    jobs : int, optional
        Notebooks graded at the same time; default: the number of CPUs.
    timeout, total_timeout : float
        Per cell (and per call of a student's function), and per notebook, in seconds.
    seed : int, optional
        Seed of the hidden random data; default: a new one.
    progress : bool
        Show a progress bar (tqdm) on standard error.
    limits : grading.sandbox.Limits, optional
        Resource limits of each process that runs a notebook's code (see
        :func:`grading.grader.grade`).
    strict : bool, default False
        Refuse to grade where the sandbox cannot run.

    Returns
    -------
    Batch

    Raises
    ------
    GradingError
        If ``folder`` is not a folder.
    grading.sandbox.SandboxUnavailable
        If `strict` and the sandbox cannot run here (before any notebook is graded).
    """
    folder, out = Path(folder), Path(out)
    if not folder.is_dir():
        raise GradingError(f"{folder} is not a folder")
    if strict:
        require_sandbox()
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    seed = new_seed() if seed is None else int(seed)
    paths = find_notebooks(folder)
    names = {p: p.relative_to(folder).as_posix() for p in paths}
    batch = Batch(seed)
    rows = {}
    from tqdm import tqdm

    with tqdm(total=len(paths), desc="Grading", unit="notebook", disable=not progress,
              file=sys.stderr) as bar, ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_grade_one, p, names[p], timeout=timeout,
                               total_timeout=total_timeout, seed=seed, limits=limits,
                               strict=strict): p
                   for p in paths}
        for future in as_completed(futures):
            row = future.result()
            rows[futures[future]] = row
            bar.set_postfix_str(row.name[-30:], refresh=False)
            bar.update()
    batch.rows = [rows[p] for p in paths]
    batch.csv_path, batch.feedback_dir = write_gradebook(batch.rows, out, seed)
    return batch


def _chapter_order():
    """Chapter notebooks in the book's order (its ``_toc.yml``), where there is one."""
    toc = ROOT / "_toc.yml"
    try:
        text = toc.read_text(encoding="utf-8")
    except OSError:
        return []
    return [f"{m}.ipynb" for m in re.findall(r"file:\s*book/([\w.-]+?)(?:\.ipynb)?\s*$", text, re.M)]


def _labels(rows):
    """Exercise columns: the labels of every chapter graded, chapter by chapter in the book's
    order, each chapter's in the order its checks are registered (the chapter's order)."""
    chapters = {r.report.chapter for r in rows if r.report is not None}
    order = _chapter_order()
    rank = {c: (order.index(c) if c in order else len(order), c) for c in chapters}
    labels = [label for chapter in sorted(chapters, key=rank.get)
              for label, c in CHECKS.items() if c.chapter == chapter]
    extra = {x.label for r in rows if r.report is not None for x in r.report.results} - set(labels)
    return labels + sorted(extra)


def _cell(result):
    if result.status == "no-check":
        return ""
    if result.points == 0:  # a written exercise: the teacher's to grade
        return "" if result.answered else "0"
    return f"{result.earned:g}"


def gradebook_csv(rows):
    """The text of ``grades.csv`` for the rows of a batch."""
    labels = _labels(rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["notebook", "chapter", "status", *labels, "total", "max", "manual_max"])
    for row in rows:
        if row.report is None:
            writer.writerow([row.name, "", f"error: {row.error}", *[""] * len(labels), "", "", ""])
            continue
        rep = row.report
        by_label = {r.label: r for r in rep.results}
        cells = [_cell(by_label[label]) if label in by_label else "" for label in labels]
        writer.writerow([row.name, rep.chapter.removesuffix(".ipynb"), "graded", *cells,
                         f"{rep.total:g}", f"{rep.max:g}", f"{rep.manual_max:g}"])
    return buf.getvalue()


def write_gradebook(rows, out, seed):
    """Write ``grades.csv``, ``grades.json`` and ``feedback/`` into ``out``; return the paths
    of the CSV file and of the feedback folder."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "grades.csv"
    csv_path.write_text(gradebook_csv(rows), encoding="utf-8")
    everything = {"seed": seed, "notebooks": [
        {"notebook": r.name, "status": f"error: {r.error}" if r.error else "graded",
         "report": r.report.to_dict() if r.report is not None else None} for r in rows]}
    (out / "grades.json").write_text(json.dumps(everything, indent=1, allow_nan=False) + "\n",
                                     encoding="utf-8")
    pages = out / "feedback"
    shutil.rmtree(pages, ignore_errors=True)
    for row in rows:
        target = pages / f"{row.name.removesuffix('.ipynb')}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        text = (feedback.notebook_page(row.name, row.report) if row.report is not None
                else feedback.error_page(row.name, row.error))
        target.write_text(text, encoding="utf-8")
    return csv_path, pages
