"""Per-module mutation scores of the last ``make mutate`` run (see README "Mutation testing").

Run from the staging folder ``_build/mutation`` after ``mutmut run``: reads mutmut's per-file
results (``mutants/algos/<module>.py.meta``), prints one line per module and writes the same
table to ``scores.md`` there. A mutant counts as killed if a test failed (or it ran into
mutmut's CPU-time limit, as mutmut's own score counts it: a mutant that loops forever).

Every surviving mutant must be listed, with the reason it cannot change behaviour, in
``tests/mutation/EQUIVALENT.md``. A listing names the mutant by what it changes, not by
mutmut's number (``x_fit__mutmut_12`` numbers the mutants of a function in order, so any edit
of the function renumbers them) nor by line number: the module (a ``## kmeans`` heading), the
function, the original code and the mutated code, as ``mutmut show NAME`` prints them::

    - `_ErrorBounds.fresh`: `return _SAFETY * J` → `return _SAFETY / J`; reason ...

A listing that matches no surviving mutant of a fully run module (the mutant is killed now, or
the code changed) is reported as stale.

Exit status 1 if an algorithm module scores below 90% of its mutants killed, if a surviving
mutant is not listed, or if a listing is stale; 0 otherwise.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code  # mutmut's own meaning of each exit code
from mutmut.utils.format_utils import orig_function_and_class_names_from_key

ALGORITHMS = ("kmeans", "kmedoids", "gmm1d", "gmm")
HELPERS = ("_distances",)
GOAL = 0.90
LISTING = Path(__file__).with_name("EQUIVALENT.md")
SURVIVED = ("survived", "no tests", "suspicious", "segfault", "check was interrupted by user")
KILLED = ("killed", "timeout")
COMMENT = re.compile(r"\s+# .*$")  # an inline comment (no string in these modules holds " # ")
ENTRY = re.compile(r"^- `(?P<function>[^`]+)`: `(?P<original>[^`]*)` → `(?P<mutant>[^`]*)`")


def listed_mutants(text):
    """{(module, function, original code, mutated code)} from EQUIVALENT.md."""
    keys, module = set(), None
    for line in text.splitlines():
        if line.startswith("## "):
            module = line[3:].strip()
        elif (match := ENTRY.match(line)) and module:
            keys.add((module, match["function"], match["original"], match["mutant"]))
    return keys


def code(lines):
    """The changed lines of a diff on one line, without indentation or ``  # comments``."""
    return " ".join(COMMENT.sub("", line[1:]).strip() for line in lines)


def mutant_key(module, name):
    """(module, function, original code, mutated code) of one mutant, from its diff."""
    function, cls = orig_function_and_class_names_from_key(name)
    diff = get_diff_for_mutant(name, path=Path("algos") / f"{module}.py").splitlines()[2:]
    removed = code(line for line in diff if line.startswith("-"))
    added = code(line for line in diff if line.startswith("+"))
    return module, f"{cls}.{function}" if cls else function, removed, added


def entry(key):
    """The EQUIVALENT.md line (without its reason) for a mutant's key."""
    _, function, removed, added = key
    return f"- `{function}`: `{removed}` → `{added}`"


def main(root=Path(".")):
    listed = listed_mutants(LISTING.read_text()) if LISTING.exists() else set()
    matched = set()
    rows, unlisted, failing = [], [], []
    for module in ALGORITHMS + HELPERS:
        meta = root / "mutants" / "algos" / f"{module}.py.meta"
        if not meta.exists():
            continue
        data = json.loads(meta.read_text())
        results = {name: status_by_exit_code[code] for name, code in data["exit_code_by_key"].items()}
        total = len(results)
        killed = sum(status in KILLED for status in results.values())
        unchecked = sum(status == "not checked" for status in results.values())
        equivalent = 0
        for name in sorted(n for n, status in results.items() if status in SURVIVED):
            key = mutant_key(module, name)
            if key in listed:
                matched.add(key)
                equivalent += 1
            else:
                unlisted.append((name, results[name], key))
        score = killed / total if total else 0.0
        if module in ALGORITHMS and (score < GOAL or unchecked):
            failing.append(module)
        survivors = total - killed - unchecked
        rows.append((module, total, killed, equivalent, survivors - equivalent, unchecked, score))

    header = ("| module | mutants | killed | equivalent (listed) | other survivors | not run | killed % "
              "| killed % of non-equivalent |")
    lines = [header, "|" + "---|" * 8]
    for module, total, killed, eq, other, unchecked, score in rows:
        effective = killed / (total - eq) if total > eq else 0.0
        lines.append(f"| {module} | {total} | {killed} | {eq} | {other} | {unchecked} | {100 * score:.1f} "
                     f"| {100 * effective:.1f} |")
    table = "\n".join(lines)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    (root / "scores.md").write_text(f"Mutation scores, {stamp}\n\n{table}\n")
    print(table)
    if unlisted:
        print(f"\n{len(unlisted)} surviving mutant(s) not listed in {LISTING.name} "
              f"(see each with `cd _build/mutation && ../../.venv/bin/mutmut show NAME`):")
        module = None
        for name, status, key in unlisted:
            if key[0] != module:
                module = key[0]
                print(f"## {module}")
            print(f"{entry(key)}  [{name}: {status}]")
    # a listing can only be judged in a module whose every mutant was run
    complete = {row[0] for row in rows if row[5] == 0}
    stale = sorted(key for key in listed - matched if key[0] in complete)
    if stale:
        print(f"\n{len(stale)} listing(s) in {LISTING.name} match no surviving mutant "
              f"(killed now, or the code changed): remove or update them")
        print("\n".join(f"  ## {key[0]} {entry(key)}" for key in stale))
    if failing:
        print(f"\nBelow {GOAL:.0%} killed, or not fully run: {', '.join(failing)}")
    return 1 if (unlisted or failing or stale) else 0


if __name__ == "__main__":
    sys.exit(main())
