"""Read the homework markers of a notebook.

A chapter marks each exercise with five consecutive pieces (see the package docstring):
the ``{exercise}`` cell, a ``{solution-start} <label>`` cell, the solution cells, a
``{solution-end}`` cell and the self-check code cells. This module finds them and, in strict
mode, reports every way the markers can go wrong, so that generating the student notebooks can
refuse a chapter that would hand a solution to the students.

Student notebooks carry plain Markdown instead of MyST directives (JupyterLab shows
directives as raw text), so there the same roles are recorded in cell metadata,
``{"homework": {"exercise": <label>, "role": "statement" | "answer" | "check"}}``.
:func:`parse` reads both forms: the grader also meets students' notebooks made before that
change, which still carry the directives.

Notebooks are handled as plain JSON dictionaries (what ``json.load`` returns), so that the
student notebook can be written back byte for byte like the chapter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
#: The tag of a markdown cell that holds a written answer.
SOLUTION_TAG = "solution"
#: The cell-metadata key under which student notebooks record the exercise a cell belongs to.
METADATA_KEY = "homework"

# The opening line of a MyST directive: ```{name} argument (also ~~~ and ::: fences).
_DIRECTIVE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,}|:{3,})\{(?P<name>[\w-]+)\}[ \t]*(?P<arg>.*?)[ \t]*$")
_OPTION = re.compile(r"^[ \t]*:(?P<key>[\w-]+):[ \t]*(?P<value>.*?)[ \t]*$")


class MarkerError(ValueError):
    """The homework markers of one or more notebooks are not well-formed.

    ``problems`` holds one sentence per problem, each naming the notebook and the cell.
    """

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class Exercise:
    """Where one exercise lives in a notebook (all indices are 0-based cell positions).

    Attributes
    ----------
    label : str
        The ``:label:`` of the ``{exercise}`` block, e.g. ``"kmeans-e-step"``.
    cell : int
        The cell holding the ``{exercise}`` block.
    gate : tuple of int or None
        The ``{solution-start}`` and ``{solution-end}`` cells, when both were found.
    solution_cells : list of int
        The cells between the two gate cells.
    check_cells : list of int
        The code cells right after ``{solution-end}``, up to the next non-code cell: the
        self-check the student runs.
    title : str
        The exercise's title (the directive's argument).
    kind : str
        Its ``:class:`` (``implement``, ``derive``, ``extend``, ``analyse``), if given.
    """

    label: str
    cell: int
    title: str = ""
    kind: str = ""
    gate: tuple | None = None
    solution_cells: list = field(default_factory=list)
    check_cells: list = field(default_factory=list)

    @property
    def cells(self):
        """Every cell that belongs to this exercise, from its statement to its self-check."""
        return [self.cell, *self.gate_cells, *self.solution_cells, *self.check_cells]

    @property
    def gate_cells(self):
        return list(self.gate) if self.gate else []


def source_of(cell):
    """Return a cell's source as one string (the JSON may store a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def tags_of(cell):
    return cell.get("metadata", {}).get("tags", []) or []


def is_tagged_solution(cell):
    return cell.get("cell_type") == "markdown" and SOLUTION_TAG in tags_of(cell)


def describe_cell(nb_name, index, cell):
    """Name a cell for a message: notebook (unless None), 1-based position and first line."""
    first = next((ln.strip() for ln in source_of(cell).splitlines() if ln.strip()), "")
    if len(first) > 50:
        first = first[:47] + "..."
    kind = cell.get("cell_type", "?")
    what = f"cell {index + 1} ({kind}: {first!r})" if first else f"cell {index + 1} ({kind}, empty)"
    return f"{nb_name}, {what}" if nb_name else what


@dataclass
class Directive:
    name: str
    arg: str
    options: dict
    first_line: int
    last_line: int


def directives(source):
    """Return the MyST directives opened in ``source`` (top level and nested alike)."""
    lines = source.splitlines()
    found = []
    for i, line in enumerate(lines):
        m = _DIRECTIVE.match(line)
        if not m:
            continue
        fence = m.group("fence")
        options = {}
        j = i + 1
        while j < len(lines) and (opt := _OPTION.match(lines[j])):
            options[opt.group("key")] = opt.group("value")
            j += 1
        # The block ends at the first line made only of the same fence character, at least
        # as long as the opening fence; an unclosed block runs to the end of the cell.
        last = len(lines) - 1
        for k in range(j, len(lines)):
            s = lines[k].strip()
            if len(s) >= len(fence) and set(s) == {fence[0]}:
                last = k
                break
        found.append(Directive(m.group("name"), m.group("arg"), options, i, last))
    return found


def solution_blocks(source):
    """Find the ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` blocks of a code cell.

    Returns
    -------
    blocks : list of (int, int)
        Line numbers (0-based) of each BEGIN line and its END line.
    problems : list of str
        Unbalanced, nested or misspelled markers, one sentence each (without the cell name).
    """
    blocks, problems = [], []
    open_at = None
    for i, line in enumerate(source.splitlines()):
        text = line.strip()
        if "BEGIN SOLUTION" not in text and "END SOLUTION" not in text:
            continue
        if text == BEGIN:
            if open_at is not None:
                problems.append(f"line {i + 1}: {BEGIN} inside another solution block "
                                f"(opened on line {open_at + 1}); blocks cannot be nested")
            else:
                open_at = i
        elif text == END:
            if open_at is None:
                problems.append(f"line {i + 1}: {END} without a {BEGIN} before it")
            else:
                blocks.append((open_at, i))
                open_at = None
        else:
            problems.append(f"line {i + 1}: {text!r} looks like a solution marker but is not "
                            f"exactly {BEGIN!r} or {END!r}")
    if open_at is not None:
        problems.append(f"line {open_at + 1}: {BEGIN} is never closed by {END}")
    return blocks, problems


def _only_directive(source, directive):
    """True when ``source`` holds nothing but ``directive`` (blank lines aside)."""
    lines = source.splitlines()
    outside = lines[:directive.first_line] + lines[directive.last_line + 1:]
    return not any(ln.strip() for ln in outside)


def parse(nb, nb_name="notebook", *, strict=False):
    """Find the exercises of a notebook and, in strict mode, check its markers.

    Parameters
    ----------
    nb : dict
        The notebook as loaded by ``json.load`` (or an ``nbformat.NotebookNode``).
    nb_name : str
        How to name the notebook in messages.
    strict : bool
        If True, raise :class:`MarkerError` listing every problem. If False (the grader
        reading a student's notebook, whose markers the student may have edited), find what
        can be found and ignore the rest.

    Returns
    -------
    list of Exercise
        In notebook order.

    Raises
    ------
    MarkerError
        In strict mode, when a marker is unbalanced, nested or misspelled, when solution
        material sits outside a ``{solution-start}``/``{solution-end}`` gate or a gate holds
        material that would be handed to students, when an exercise has no solution or no
        label, or when a label is used twice.

    Examples
    --------
    >>> nb = {"cells": [
    ...     {"cell_type": "markdown", "metadata": {}, "source": "```{exercise} E\\n:label: a-b\\n\\nDo it.\\n```"},
    ...     {"cell_type": "markdown", "metadata": {}, "source": "```{solution-start} a-b\\n:class: dropdown\\n```"},
    ...     {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
    ...      "source": "x = 1\\n### BEGIN SOLUTION\\nx = 2\\n### END SOLUTION"},
    ...     {"cell_type": "markdown", "metadata": {}, "source": "```{solution-end}\\n```"}]}
    >>> [(e.label, e.gate, e.solution_cells) for e in parse(nb, strict=True)]
    [('a-b', (1, 3), [2])]
    """
    cells = nb.get("cells", [])
    problems = []
    exercises = {}
    open_gate = None  # (exercise, start index) while inside a gate

    def where(i):
        return describe_cell(nb_name, i, cells[i])

    for i, cell in enumerate(cells):
        kind = cell.get("cell_type")
        src = source_of(cell)

        if kind == "code":
            blocks, block_problems = solution_blocks(src)
            problems.extend(f"{where(i)}: {p}" for p in block_problems)
            if open_gate is None and (blocks or block_problems):
                problems.append(f"{where(i)}: solution code outside a {{solution-start}}/"
                                f"{{solution-end}} pair; move it into the exercise's solution")
            elif open_gate is not None and not blocks and not block_problems:
                problems.append(f"{where(i)}: this code cell is inside the solution of "
                                f"{open_gate[0].label!r} but has no {BEGIN} / {END} lines, so "
                                f"its code would be handed to students")
        if kind != "markdown":
            if open_gate is not None:
                open_gate[0].solution_cells.append(i)
                if kind not in ("code", "markdown"):
                    problems.append(f"{where(i)}: a {kind} cell inside the solution of "
                                    f"{open_gate[0].label!r} would be handed to students")
            continue

        found = directives(src)
        names = [d.name for d in found]
        gate_names = [n for n in names if n in ("solution-start", "solution-end")]
        if len(gate_names) > 1:
            problems.append(f"{where(i)}: {' and '.join(gate_names)} in one cell; put each in "
                            f"its own cell with the solution cells between them")
            continue

        if "solution-start" in names:
            d = found[names.index("solution-start")]
            label = d.arg.split()[0] if d.arg.split() else ""
            if not _only_directive(src, d):
                problems.append(f"{where(i)}: the {{solution-start}} cell holds other text, "
                                f"which would be handed to students; keep only the directive")
            if open_gate is not None:
                problems.append(f"{where(i)}: {{solution-start}} {label} inside the solution of "
                                f"{open_gate[0].label!r}, which is not closed by {{solution-end}}")
                continue
            ex = exercises.get(label)
            if ex is None:
                problems.append(f"{where(i)}: {{solution-start}} {label or '(no label)'} does not "
                                f"name an exercise defined above it")
                continue
            if ex.gate is not None:
                problems.append(f"{where(i)}: a second solution for {label!r}")
                continue
            open_gate = (ex, i)
            continue

        if "solution-end" in names:
            d = found[names.index("solution-end")]
            if not _only_directive(src, d):
                problems.append(f"{where(i)}: the {{solution-end}} cell holds other text; keep "
                                f"only the directive")
            if open_gate is None:
                problems.append(f"{where(i)}: {{solution-end}} without a {{solution-start}} before it")
                continue
            ex, start = open_gate
            ex.gate = (start, i)
            open_gate = None
            # The self-check: the code cells that follow, up to the next non-code cell.
            j = i + 1
            while j < len(cells) and cells[j].get("cell_type") == "code":
                ex.check_cells.append(j)
                j += 1
            continue

        if open_gate is not None:
            open_gate[0].solution_cells.append(i)
            if not is_tagged_solution(cell):
                problems.append(f"{where(i)}: this markdown cell is inside the solution of "
                                f"{open_gate[0].label!r} but is not tagged {SOLUTION_TAG!r}, so "
                                f"it would be handed to students")
            if "exercise" in names or "exercise-start" in names:
                problems.append(f"{where(i)}: an exercise inside the solution of "
                                f"{open_gate[0].label!r}")
            continue

        if is_tagged_solution(cell):
            problems.append(f"{where(i)}: markdown tagged {SOLUTION_TAG!r} outside a "
                            f"{{solution-start}}/{{solution-end}} pair")
        if "solution" in names and not is_tagged_solution(cell):
            problems.append(f"{where(i)}: a {{solution}} block in an untagged cell would be "
                            f"handed to students; use {{solution-start}}/{{solution-end}} "
                            f"around a cell tagged {SOLUTION_TAG!r}")
        for d in found:
            if d.name not in ("exercise", "exercise-start"):
                continue
            label = d.options.get("label", "").strip()
            if not label:
                problems.append(f"{where(i)}: {{{d.name}}} without a :label: (the grader finds "
                                f"exercises by label)")
            elif label in exercises:
                problems.append(f"{where(i)}: exercise label {label!r} is used twice")
            else:
                exercises[label] = Exercise(label, i, d.arg, d.options.get("class", "").strip())

    if open_gate is not None:
        ex, start = open_gate
        problems.append(f"{where(start)}: {{solution-start}} {ex.label} is never closed by "
                        f"{{solution-end}}")
    unclosed = open_gate[0] if open_gate is not None else None
    for ex in exercises.values():
        if ex.gate is None and ex is not unclosed:  # an unclosed gate is reported above
            problems.append(f"{where(ex.cell)}: exercise {ex.label!r} has no solution (add "
                            f"{{solution-start}} {ex.label} ... {{solution-end}} after it)")
        elif ex.gate is not None and not ex.solution_cells:
            problems.append(f"{where(ex.gate[0])}: the solution of {ex.label!r} is empty")

    if strict and problems:
        raise MarkerError(problems)
    for label, ex in metadata_exercises(cells).items():
        exercises.setdefault(label, ex)
    return sorted(exercises.values(), key=lambda e: e.cell)


def cell_role(cell):
    """``(label, role)`` recorded in a student notebook's cell metadata, or ``(None, None)``."""
    meta = cell.get("metadata", {}).get(METADATA_KEY)
    if not isinstance(meta, dict) or not isinstance(meta.get("exercise"), str):
        return None, None
    return meta["exercise"], meta.get("role")


def metadata_exercises(cells):
    """The exercises a student notebook records in cell metadata (see the module docstring)."""
    found = {}
    for i, cell in enumerate(cells):
        label, role = cell_role(cell)
        if label is None:
            continue
        ex = found.get(label)
        if role == "statement" and ex is None:
            meta = cell["metadata"][METADATA_KEY]
            found[label] = Exercise(label, i, str(meta.get("title", "")), str(meta.get("kind", "")))
        elif ex is not None and role == "answer":
            ex.solution_cells.append(i)
        elif ex is not None and role == "check":
            ex.check_cells.append(i)
    return found


def has_markers(nb):
    """True when a notebook uses any homework marker (so it is a homework chapter)."""
    for cell in nb.get("cells", []):
        if cell_role(cell)[0] is not None:
            return True
        src = source_of(cell)
        if "BEGIN SOLUTION" in src or "END SOLUTION" in src or is_tagged_solution(cell):
            return True
        if cell.get("cell_type") == "markdown" and any(
                d.name in ("exercise", "exercise-start", "solution-start", "solution-end")
                for d in directives(src)):
            return True
    return False
