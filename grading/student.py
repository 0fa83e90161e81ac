"""Make the student notebooks from the chapters (``make student``).

Each chapter ``book/<name>.ipynb`` with exercises gives ``_build/student/<name>.ipynb``: the
code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes ``# YOUR CODE HERE`` /
``raise NotImplementedError``, a markdown cell tagged ``solution`` becomes "Your answer here",
the changed cells lose their outputs, and every other byte of the chapter is kept.
``homework.zip`` bundles the notebooks with the ``algos`` package they import.

A person may edit a generated file (a teacher adapting the hand-out, a student working in
place). Generating again must not destroy that work, so ``.generated.json`` records the
SHA-256 of every file as generated; a file whose content matches neither that record nor the
new content is kept unless ``force`` is given.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ._paths import book_dir as _book_dir
from .markers import MarkerError, has_markers, parse, solution_blocks, source_of, is_tagged_solution

STUB = ("# YOUR CODE HERE", "raise NotImplementedError")
ANSWER_PLACEHOLDER = "Your answer here"
RECORD = ".generated.json"
ZIP_NAME = "homework.zip"
#: Folder inside the zip: unzipping gives one folder holding notebooks and ``algos``.
ZIP_ROOT = "homework"
# Any fixed date makes the zip reproducible; 1980-01-01 is the earliest a zip can store.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _split_lines(text):
    """Store a source as Jupyter does: a list of lines, each keeping its newline."""
    return text.splitlines(keepends=True)


def stub_code(source):
    """Replace each solution block of a code cell's source by the student stub.

    The stub keeps the indentation of the ``### BEGIN SOLUTION`` line, so a solution inside a
    ``def`` leaves a function that still parses and raises ``NotImplementedError`` when called.

    Examples
    --------
    >>> print(stub_code("def f(x):\\n    ### BEGIN SOLUTION\\n    return x\\n    ### END SOLUTION\\n"))
    def f(x):
        # YOUR CODE HERE
        raise NotImplementedError
    <BLANKLINE>
    """
    blocks, problems = solution_blocks(source)
    if problems:
        raise MarkerError(problems)
    lines = source.splitlines(keepends=True)
    out = []
    pos = 0
    for begin, end in blocks:
        out.extend(lines[pos:begin])
        marker = lines[begin]
        indent = marker[: len(marker) - len(marker.lstrip())]
        # The END line decides whether the stub ends the cell without a newline.
        newline = "\n" if lines[end].endswith("\n") else ""
        out.append(f"{indent}{STUB[0]}\n{indent}{STUB[1]}{newline}")
        pos = end + 1
    out.extend(lines[pos:])
    return "".join(out)


def student_notebook(nb, nb_name="notebook"):
    """Return the student version of a chapter notebook (the argument is not modified).

    Parameters
    ----------
    nb : dict
        The chapter as loaded by ``json.load``.
    nb_name : str
        How to name the notebook in error messages.

    Returns
    -------
    dict
        A deep copy in which solution code is replaced by the stub, tagged solution markdown by
        "Your answer here" (the tag stays, so the grader finds the answer cell), and the changed
        code cells have no outputs and no execution count.

    Raises
    ------
    MarkerError
        If the markers are not well-formed (see :func:`grading._markers.parse`).
    """
    parse(nb, nb_name, strict=True)
    out = copy.deepcopy(nb)
    for cell in out.get("cells", []):
        if cell.get("cell_type") == "code":
            src = source_of(cell)
            if not solution_blocks(src)[0]:
                continue
            cell["source"] = _split_lines(stub_code(src))
            cell["outputs"] = []
            cell["execution_count"] = None
        elif is_tagged_solution(cell):
            cell["source"] = _split_lines(ANSWER_PLACEHOLDER)
            # Pasted images belong to the answer, not to the question.
            cell.pop("attachments", None)
    return out


def dumps_notebook(nb):
    """Serialise a notebook exactly as Jupyter and nbformat write it."""
    return json.dumps(nb, indent=1, sort_keys=True, separators=(",", ": "), ensure_ascii=False) + "\n"


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def build_zip(files):
    """Return the bytes of a reproducible zip holding ``files`` ({name inside the zip: bytes})."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # rw-r--r--, whatever the umask
            info.create_system = 3  # Unix, so the permissions above are honoured
            zf.writestr(info, files[name])
    return buf.getvalue()


def _package_files(package_dir, name):
    """A package's sources under ``homework/<name>/``: the hand-out imports ``algos`` next to
    the notebooks, and a student grades themselves with the ``grading`` copy."""
    files = {}
    for path in sorted(package_dir.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        files[f"{ZIP_ROOT}/{name}/{path.relative_to(package_dir).as_posix()}"] = path.read_bytes()
    return files


def find_chapters(book_dir):
    """The notebooks directly in ``book_dir`` that use homework markers, sorted by name."""
    chapters = []
    for path in sorted(Path(book_dir).glob("*.ipynb")):
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
        if has_markers(nb):
            chapters.append((path, nb))
    return chapters


@dataclass
class StudentReport:
    """What :func:`make_student` did to each file of the output folder (names, not paths)."""

    written: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    kept: list = field(default_factory=list)
    overwritten: list = field(default_factory=list)


def _load_record(out_dir):
    try:
        with open(out_dir / RECORD, encoding="utf-8") as f:
            return dict(json.load(f).get("files", {}))
    except (OSError, ValueError, AttributeError):
        return {}


def make_student(book_dir, out_dir, *, force=False, package_dir=None):
    """Write the student notebooks and the zip; never overwrite a file a person edited.

    Parameters
    ----------
    book_dir : path
        Folder of the chapter notebooks (every ``*.ipynb`` in it that has homework markers).
    out_dir : path
        Output folder, created if needed (``_build/student``).
    force : bool
        Overwrite files that were edited since they were generated.
    package_dir : path, optional
        The ``algos`` package copied into the zip; default: the one this module belongs to.

    Returns
    -------
    StudentReport

    Raises
    ------
    MarkerError
        If any chapter's markers are not well-formed; nothing is written then.

    Notes
    -----
    A file is overwritten when it is missing, when it still has the content recorded in
    ``.generated.json`` when it was last generated, or with ``force``. A file that already has
    exactly the new content is left untouched, so running twice changes nothing.
    """
    book_dir, out_dir = Path(book_dir), Path(out_dir)
    package_dir = Path(package_dir) if package_dir else _book_dir() / "algos"

    outputs, problems = {}, []
    for path, nb in find_chapters(book_dir):
        try:
            outputs[path.name] = dumps_notebook(student_notebook(nb, str(path))).encode("utf-8")
        except MarkerError as exc:
            problems.extend(exc.problems)
    if problems:
        raise MarkerError(problems)

    zip_files = {f"{ZIP_ROOT}/{name}": data for name, data in outputs.items()}
    zip_files.update(_package_files(package_dir, "algos"))
    zip_files.update(_package_files(Path(__file__).resolve().parent, "grading"))
    outputs[ZIP_NAME] = build_zip(zip_files)

    out_dir.mkdir(parents=True, exist_ok=True)
    record = _load_record(out_dir)
    report = StudentReport()
    for name in sorted(outputs):
        data, target = outputs[name], out_dir / name
        new_hash = _sha256(data)
        if not target.exists():
            target.write_bytes(data)
            report.written.append(name)
        else:
            on_disk = _sha256(target.read_bytes())
            if on_disk == new_hash:
                report.unchanged.append(name)
            elif on_disk == record.get(name) or force:
                target.write_bytes(data)
                (report.overwritten if on_disk != record.get(name) else report.written).append(name)
            else:
                report.kept.append(name)
                continue  # keep the old record: the file still counts as edited next time
        record[name] = new_hash

    text = json.dumps({"comment": "SHA-256 of each file as generated by "
                       "`python -m grading student`; a file that differs was edited "
                       "and is not overwritten without --force.",
                       "files": dict(sorted(record.items()))}, indent=1) + "\n"
    record_path = out_dir / RECORD
    if not record_path.exists() or record_path.read_text(encoding="utf-8") != text:
        record_path.write_text(text, encoding="utf-8")
    return report
