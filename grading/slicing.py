"""Which statements of a notebook an exercise's answer needs (a program slice).

The grader runs a student's functions in a separate process that holds no reference answers.
That process does not replay the whole notebook: it gets the statements that define the names
an exercise asks for (``my_e_step``, ``most_uncertain``, ...) and, recursively, the statements
those depend on (imports, data, helper functions), in notebook order.

A statement here is one top-level statement of a code cell (a whole ``def``, ``for`` or ``if``
counts as one). Python's own scope analysis (:mod:`symtable`) says which names a statement
binds and which it reads, and when: a name read at the top level (or in a class body, a
default argument, a decorator, a comprehension) must be bound *before* that statement, while a
name read inside a function body only has to exist when the function is called, that is, by
the time the exercise is checked.

The slice over-approximates what a program needs in a few places (a statement that assigns
into ``X[...]`` or ``X.attr`` counts as binding ``X``), and under-approximates in others (a
function that sets a global with ``global``, a method call that mutates an object): the same
limits as reading a notebook by eye.
"""

from __future__ import annotations

import ast
import symtable
from dataclasses import dataclass, field

_COMPREHENSIONS = {"listcomp", "setcomp", "dictcomp", "genexpr"}


@dataclass(frozen=True)
class Statement:
    """One top-level statement of a code cell.

    Attributes
    ----------
    index : int
        Position in the notebook's list of statements (notebook order).
    cell : int
        The code cell (0-based index in the notebook).
    line : int
        First line of the statement in the cell (1-based, after IPython's transformation of
        magics, which keeps lines where they are).
    source : str
        The statement's text.
    binds : frozenset of str
        Names the statement (re)binds or changes when it runs.
    complete : frozenset of str
        Names it binds on every path, replacing whatever was there (an assignment, ``def``,
        ``import``), as opposed to changing or maybe binding them (``x += 1``, ``x[0] = 1``,
        an assignment inside ``if``).
    uses_now : frozenset of str
        Names read when the statement runs.
    uses_later : frozenset of str
        Names read only when a function it defines is called.
    star : bool
        ``from module import *`` (binds names nobody can list).
    """

    index: int
    cell: int
    line: int
    source: str
    binds: frozenset = field(default_factory=frozenset)
    complete: frozenset = field(default_factory=frozenset)
    uses_now: frozenset = field(default_factory=frozenset)
    uses_later: frozenset = field(default_factory=frozenset)
    star: bool = False


@dataclass
class ParsedNotebook:
    """The statements of every code cell, and the cells that are not valid Python."""

    statements: list
    syntax_errors: dict  # cell index -> "SyntaxError: message (line n)"

    def cell_end(self, cell):
        """The statement index just after the statements of cells up to ``cell`` (inclusive)."""
        return sum(1 for s in self.statements if s.cell <= cell)


def python_source(source):
    """A cell's source as plain Python: IPython magics (``%time``, ``!ls``) become calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # IPython is part of every Jupyter install; without it, take the text
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:
        return source


def _segment(lines, node):
    """The exact text of a top-level statement, decorators included."""
    start_line, start_col = node.lineno, node.col_offset
    for dec in getattr(node, "decorator_list", []):
        if dec.lineno < start_line or (dec.lineno == start_line and dec.col_offset < start_col):
            start_line = dec.lineno
            # the '@' before the decorator expression
            start_col = lines[dec.lineno - 1].rfind("@", 0, dec.col_offset + 1)
    end_line, end_col = node.end_lineno, node.end_col_offset
    if start_line == end_line:
        return lines[start_line - 1][start_col:end_col], start_line
    parts = [lines[start_line - 1][start_col:]]
    parts += lines[start_line:end_line - 1]
    parts.append(lines[end_line - 1][:end_col])
    return "\n".join(parts), start_line


def _mutated_roots(node):
    """Names whose object a top-level statement changes in place: ``X[0] = 1``, ``X.a = 1``,
    ``X += 1`` (not looking inside function or class bodies, which run later)."""
    roots = set()

    def root(target):
        while isinstance(target, (ast.Subscript, ast.Attribute, ast.Starred)):
            target = target.value
        return target.id if isinstance(target, ast.Name) else None

    def visit(n):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return
        targets = []
        if isinstance(n, ast.Assign):
            targets = n.targets
        elif isinstance(n, (ast.AugAssign, ast.AnnAssign)):
            targets = [n.target]
        elif isinstance(n, ast.Delete):
            targets = n.targets
        for t in targets:
            for sub in ast.walk(t):
                if isinstance(sub, (ast.Subscript, ast.Attribute)) and (name := root(sub)):
                    roots.add(name)
            if isinstance(n, ast.AugAssign) and isinstance(t, ast.Name):
                roots.add(t.id)
        for child in ast.iter_child_nodes(n):
            visit(child)

    visit(node)
    return roots


def _scopes(table, later):
    """(names read now, names read later) by the scopes below ``table``."""
    now, deferred = set(), set()
    for child in table.get_children():
        kind, name = child.get_type(), child.get_name()
        if kind == "function" and name not in _COMPREHENSIONS:
            child_later = True  # a def or lambda body runs when called
        else:
            child_later = later  # a class body or comprehension runs right away
        reads = {s.get_name() for s in child.get_symbols()
                 if s.is_global() and (s.is_referenced() or s.is_assigned())}
        (deferred if child_later else now).update(reads)
        sub_now, sub_later = _scopes(child, child_later)
        now |= sub_now
        deferred |= sub_later
    return now, deferred


def _analyse(node, source):
    table = symtable.symtable(source, "<statement>", "exec")
    binds, now = set(), set()
    for sym in table.get_symbols():
        name = sym.get_name()
        if sym.is_assigned() or sym.is_imported() or sym.is_namespace():
            binds.add(name)
        if sym.is_referenced():
            now.add(name)
    child_now, later = _scopes(table, False)
    now |= child_now
    mutated = _mutated_roots(node)
    simple = (ast.Assign, ast.AnnAssign, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
              ast.Import, ast.ImportFrom)
    complete = set(binds) if isinstance(node, simple) else set()
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        complete -= mutated
    star = isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)
    return binds | mutated, complete, now | mutated, later, star


def parse_notebook(cells):
    """Split every code cell into top-level statements and analyse each one.

    Parameters
    ----------
    cells : list of dict
        The notebook's cells (``nb["cells"]``).

    Returns
    -------
    ParsedNotebook
    """
    statements, errors = [], {}
    for c, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        raw = cell.get("source", "")
        raw = "".join(raw) if isinstance(raw, list) else str(raw)
        source = python_source(raw)
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            errors[c] = f"SyntaxError: {exc.msg} (line {exc.lineno})"
            continue
        except (ValueError, RecursionError, MemoryError) as exc:
            errors[c] = f"{type(exc).__name__}: {exc}"
            continue
        lines = source.splitlines()
        for node in tree.body:
            text, line = _segment(lines, node)
            try:
                binds, complete, now, later, star = _analyse(node, text)
            except (SyntaxError, ValueError, RecursionError):
                # e.g. a `return` or `nonlocal` at the top level: Python refuses it as well
                binds, complete, now, later, star = set(), set(), set(), set(), False
            statements.append(Statement(len(statements), c, line, text, frozenset(binds),
                                        frozenset(complete), frozenset(now), frozenset(later),
                                        star))
    return ParsedNotebook(statements, errors)


def binders(statements, name, before):
    """Statements before index ``before`` that give ``name`` its value at that point.

    Walking back from ``before``: every statement that binds or changes ``name``, up to and
    including the last one that binds it completely.
    """
    found = []
    for s in reversed(statements[:before]):
        if name in s.binds:
            found.append(s)
            if name in s.complete:
                break
    if not found or name not in found[-1].complete:
        # Maybe it came from `from module import *`.
        found += [s for s in statements[:before] if s.star and s not in found]
    return found


def slice_for(parsed, names, end):
    """The statements needed to define ``names`` as they are at statement index ``end``.

    Parameters
    ----------
    parsed : ParsedNotebook
    names : iterable of str
        The names the exercise asks for.
    end : int
        Statement index at which the exercise is checked (statements from ``end`` on are not
        considered).

    Returns
    -------
    list of (Statement, str)
        Each needed statement with the source to run, in notebook order. An import statement
        keeps only the names that are needed (``from algos import gmm1d, plotting`` becomes
        ``from algos import gmm1d`` when ``plotting`` is not), so the process does not pay
        for importing what it does not use. Names bound nowhere (builtins, or a name the
        student never defined) add nothing.
    """
    statements = parsed.statements
    chosen = {}  # statement index -> the names it was chosen for
    todo = [(name, end) for name in names]
    seen = set()
    while todo:
        name, before = todo.pop()
        if (name, before) in seen:
            continue
        seen.add((name, before))
        for s in binders(statements, name, before):
            new = s.index not in chosen
            chosen.setdefault(s.index, set()).add(name)
            if new:
                todo.extend((n, s.index) for n in s.uses_now)
                todo.extend((n, end) for n in s.uses_later)
    return [(statements[i], _only_needed_imports(statements[i], chosen[i]))
            for i in sorted(chosen)]


def _bound_by(alias):
    return alias.asname or alias.name.split(".")[0]


def _only_needed_imports(statement, wanted):
    try:
        (node,) = ast.parse(statement.source).body
    except (SyntaxError, ValueError):
        return statement.source
    if not isinstance(node, (ast.Import, ast.ImportFrom)) or any(a.name == "*" for a in node.names):
        return statement.source
    keep = [a for a in node.names if _bound_by(a) in wanted]
    if not keep or len(keep) == len(node.names):
        return statement.source
    node.names = keep
    return ast.unparse(node)
