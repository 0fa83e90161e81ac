"""Make the student notebooks and the hand-out from the chapters (``make student``).

Each chapter ``book/<name>.ipynb`` with exercises gives ``_build/student/<name>.ipynb``:

* the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes ``# YOUR CODE HERE``
  / ``raise NotImplementedError``, a markdown cell tagged ``solution`` becomes "Your answer
  here", and the changed cells lose their outputs;
* the MyST markup JupyterLab cannot show becomes plain Markdown (:mod:`grading.myst`): an
  exercise's statement gets a heading ("Exercise 2: Implement the M-step"), its label and
  points, the solution's fold markers go, and the exercise's cells record their role in
  their metadata (see :mod:`grading.markers`), where the grader finds them;
* every other cell is the chapter's, byte for byte.

``homework.zip`` unzips to one ``homework/`` folder with everything a student needs: the
notebooks, the ``algos`` package they import (with the player's CSS and JavaScript), the
book's data, the ``grading`` package for the self-check, a ``requirements.txt`` pinning what
to install (:func:`student_requirements`) and a ``README.md`` with the student instructions
of the Homework page. Its entries are dated when they were generated; a run that changes no
content keeps the zip as it was.

A person may edit a generated file (a teacher adapting the hand-out, a student working in
place). Generating again must not destroy that work, so ``.generated.json`` records the
SHA-256 of every file as generated; a file whose content matches neither that record nor the
new content is kept unless ``force`` is given.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import io
import json
import re
import sys
import time
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from . import myst
from ._paths import book_dir as _book_dir
from .markers import (METADATA_KEY, MarkerError, has_markers, is_tagged_solution, parse,
                      solution_blocks, source_of)

STUB = ("# YOUR CODE HERE", "raise NotImplementedError")
ANSWER_PLACEHOLDER = "Your answer here"
RECORD = ".generated.json"
ZIP_NAME = "homework.zip"
#: Folder inside the zip: unzipping gives one folder holding everything.
ZIP_ROOT = "homework"
#: What a student runs the notebooks with, besides what they import.
STUDENT_TOOLS = ("jupyterlab", "ipykernel")
_HERE = Path(__file__).resolve().parent


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


def _exercise_points(label):
    """``3 points, checked by the grader`` (and the written part), from the grader's checks."""
    from .checks import CHECKS

    check = CHECKS.get(label)
    if check is None:
        return ""

    def n(x):
        return f"{x:g} point{'' if x == 1 else 's'}"

    if check.written:
        return f"{n(check.manual)}, read by your teacher"
    text = f"{n(check.points)}, checked by the grader"
    return text + (f", and {n(check.manual)} for what you write, read by your teacher"
                   if check.manual else "")


def _statement(source, number):
    """The plain-Markdown statement of an exercise: heading, label and points, then the text."""
    def handler(directive, convert):
        if directive.name not in ("exercise", "exercise-start"):
            return None
        label = directive.options.get("label", "").strip()
        title = f": {directive.arg}" if directive.arg else ""
        facts = [f"`{label}`"] if label else []
        if directive.options.get("class", "").strip():
            facts.append(directive.options["class"].strip())
        if points := _exercise_points(label):
            facts.append(points)
        return [f"### Exercise {number}{title}", "", f"*{' · '.join(facts)}*", "",
                *convert(directive.body)]

    return myst.to_markdown(source, handler)


def _needs_plain_markdown(text):
    return any(myst.RAW_MYST.search(ln) or myst._TARGET.match(ln) or ln.strip() == "+++"
               for ln in text.splitlines())


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
        "Your answer here" (the tag stays), the changed code cells and every code cell from the
        first exercise on have no outputs and no execution count (their outputs came from the
        solutions), MyST markup is plain Markdown, the solutions' fold markers are gone,
        and each exercise's cells say in their metadata which exercise they belong to and
        their role (``statement``, ``answer``, ``check``).

    Raises
    ------
    MarkerError
        If the markers are not well-formed (see :func:`grading.markers.parse`).
    """
    exercises = parse(nb, nb_name, strict=True)
    out = copy.deepcopy(nb)
    cells = out.get("cells", [])
    for cell in cells:
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

    # Past the first exercise, every stored output comes from the solutions' run: a check cell
    # printing ``breakdown_copies = 30`` or a later cell drawing the solution's result would
    # hand out the answer. Those cells start empty; the student runs them.
    first = min((ex.cell for ex in exercises), default=len(cells))
    for cell in cells[first:]:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None

    dropped, statements = set(), {}
    for number, ex in enumerate(exercises, start=1):
        dropped.update(ex.gate_cells)
        statements[ex.cell] = number
        roles = [(ex.cell, "statement")] + [(i, "answer") for i in ex.solution_cells] + \
                [(i, "check") for i in ex.check_cells]
        for i, role in roles:
            meta = {"exercise": ex.label, "role": role}
            if role == "statement":
                meta["title"] = ex.title
                if ex.kind:
                    meta["kind"] = ex.kind
            cells[i].setdefault("metadata", {})[METADATA_KEY] = meta
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "markdown":
            continue
        text = source_of(cell)
        if i in statements:
            cell["source"] = _split_lines(_statement(text, statements[i]))
        elif _needs_plain_markdown(text):
            cell["source"] = _split_lines(myst.to_markdown(text))
    out["cells"] = [c for i, c in enumerate(cells) if i not in dropped]
    return out


def dumps_notebook(nb):
    """Serialise a notebook exactly as Jupyter and nbformat write it."""
    return json.dumps(nb, indent=1, sort_keys=True, separators=(",", ": "), ensure_ascii=False) + "\n"


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def build_zip(files, date_time):
    """Return the bytes of a zip holding ``files`` ({name inside the zip: bytes}).

    Every entry is dated ``date_time`` (a ``time.struct_time``-like 6-tuple, local time, as
    zip stores it) and readable by everyone (``rw-r--r--``).
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=tuple(date_time)[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # rw-r--r--, whatever the umask
            info.create_system = 3  # Unix, so the permissions above are honoured
            zf.writestr(info, files[name])
    return buf.getvalue()


def zip_contents(path):
    """{name: bytes} of a zip file, or None if it cannot be read."""
    try:
        with zipfile.ZipFile(path) as zf:
            return {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    except (OSError, zipfile.BadZipFile, ValueError):
        return None


def _folder_files(folder, name):
    """Every file of ``folder`` under ``homework/<name>/`` (no caches, no hidden files)."""
    files = {}
    for path in sorted(Path(folder).rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or any(part.startswith(".") or part == "__pycache__"
                                     for part in rel.parts) or path.suffix == ".pyc":
            continue
        files[f"{ZIP_ROOT}/{name}/{rel.as_posix()}"] = path.read_bytes()
    return files


def _imports(source):
    """Top-level names of the modules a Python source imports (absolute imports only)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _normal(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def student_requirements(sources, *, local=("algos", "grading", "_plain", "_harness")):
    """The text of the hand-out's ``requirements.txt``.

    Parameters
    ----------
    sources : iterable of str
        Python sources whose imports a student needs: the student notebooks' code cells, the
        ``algos`` and ``grading`` packages.
    local : tuple of str
        Modules shipped in the hand-out itself.

    Returns
    -------
    str
        Every distribution those imports come from, plus :data:`STUDENT_TOOLS`, and everything
        they depend on, pinned (``name==version``) to the versions installed here, which
        ``requirements.txt`` and ``constraints.txt`` pin for the book.

    Raises
    ------
    RuntimeError
        If an imported module belongs to no installed distribution.
    """
    modules = set()
    for source in sources:
        modules |= _imports(source)
    modules -= set(sys.stdlib_module_names) | set(local) | {"__future__"}
    owners = metadata.packages_distributions()
    missing = sorted(m for m in modules if m not in owners)
    if missing:
        raise RuntimeError(f"no installed distribution provides {', '.join(missing)}")
    direct = {_normal(d) for m in modules for d in owners[m]} | set(STUDENT_TOOLS)
    pinned, todo = {}, sorted(direct)
    while todo:
        name = todo.pop()
        if name in pinned:
            continue
        dist = metadata.distribution(name)
        pinned[name] = (dist.metadata["Name"], dist.version)
        for spec in dist.requires or []:
            req = _requirement(spec)
            if req is not None:
                todo.append(req)
    lines = ["# What the homework notebooks and the self-check need, pinned to the versions the",
             "# book is tested with (Python 3.11 or newer). In the homework folder:",
             "#     python3 -m venv .venv",
             "#     .venv/bin/python -m pip install -r requirements.txt",
             f"# Needed directly: {', '.join(pinned[n][0] for n in sorted(direct))}; the rest "
             f"is what they need.", ""]
    lines += [f"{display}=={version}" for display, version in
              sorted(pinned.values(), key=lambda item: _normal(item[0]))]
    return "\n".join(lines) + "\n"


def _requirement(spec):
    """The distribution a ``Requires-Dist`` line needs here (no extras asked), or None."""
    from packaging.requirements import Requirement

    req = Requirement(spec)
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        return None
    return _normal(req.name)


def _student_readme(book_dir):
    """The hand-out's README: the student instructions of the book's Homework page."""
    page = Path(book_dir) / "homework.md"
    try:
        text = page.read_text(encoding="utf-8")
    except OSError:
        text = ""
    m = re.search(r"^## For students\s*\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    body = m.group(1).strip() if m else "Open the notebooks in Jupyter and answer each exercise."
    return f"# Homework\n\n{myst.to_markdown(body)}\n".encode("utf-8")


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
        The ``algos`` package copied into the zip; default: the book's.

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
    zip_files.update(_folder_files(package_dir, "algos"))
    zip_files.update(_folder_files(_HERE, "grading"))
    if (book_dir / "data").is_dir():
        zip_files.update(_folder_files(book_dir / "data", "data"))
    sources = [source_of(c) for data in outputs.values()
               for c in json.loads(data)["cells"] if c.get("cell_type") == "code"]
    sources += [f.decode("utf-8") for name, f in zip_files.items() if name.endswith(".py")]
    zip_files[f"{ZIP_ROOT}/requirements.txt"] = student_requirements(sources).encode("utf-8")
    zip_files[f"{ZIP_ROOT}/README.md"] = _student_readme(book_dir)
    # Dated when generated; a zip whose content would not change is kept as it is.
    zip_path = out_dir / ZIP_NAME
    if zip_path.is_file() and zip_contents(zip_path) == zip_files:
        outputs[ZIP_NAME] = zip_path.read_bytes()
    else:
        outputs[ZIP_NAME] = build_zip(zip_files, time.localtime())

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
