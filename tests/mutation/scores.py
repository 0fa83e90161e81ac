"""Per-module mutation scores of the last ``make mutate`` run (see README "Mutation testing").

Run from the staging folder ``_build/mutation`` after ``mutmut run``: reads mutmut's per-file
results (``mutants/algos/<module>.py.meta``), prints one line per module and writes the same
table to ``scores.md`` there. A mutant counts as killed if a test failed (or it ran into
mutmut's time limit, as mutmut's own score counts it). Surviving mutants must be listed, with
the reason they cannot change behaviour, in ``tests/mutation/EQUIVALENT.md``.

Exit status 1 if an algorithm module scores below 90% of its mutants killed or a surviving
mutant is not listed there; 0 otherwise.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

from mutmut.stats import status_by_exit_code  # mutmut's own meaning of each exit code

ALGORITHMS = ("kmeans", "kmedoids", "gmm1d", "gmm")
HELPERS = ("_distances", "_validation", "_results")
GOAL = 0.90
LISTING = Path(__file__).with_name("EQUIVALENT.md")
NAME = re.compile(r"algos\.\w+\.x[^\s|`]*?__mutmut_\d+")


def module_results(meta):
    """{mutant name: status} from one ``.meta`` file."""
    data = json.loads(meta.read_text())
    return {name: status_by_exit_code[code] for name, code in data["exit_code_by_key"].items()}


def main(root=Path(".")):
    listed = set(NAME.findall(LISTING.read_text())) if LISTING.exists() else set()
    rows, unlisted, stale, failing = [], [], [], []
    for module in ALGORITHMS + HELPERS:
        meta = root / "mutants" / "algos" / f"{module}.py.meta"
        if not meta.exists():
            continue
        results = module_results(meta)
        counts = {}
        for status in results.values():
            counts[status] = counts.get(status, 0) + 1
        total = len(results)
        killed = counts.get("killed", 0) + counts.get("timeout", 0)
        survivors = sorted(n for n, s in results.items() if s in ("survived", "no tests", "suspicious"))
        equivalent = [n for n in survivors if n in listed]
        unlisted += [n for n in survivors if n not in listed]
        stale += sorted(n for n, s in results.items() if n in listed and s in ("killed", "timeout"))
        unchecked = counts.get("not checked", 0)
        score = killed / total if total else 0.0
        if module in ALGORITHMS and (score < GOAL or unchecked):
            failing.append(module)
        rows.append((module, total, killed, len(equivalent), len(survivors) - len(equivalent), unchecked, score))

    header = "| module | mutants | killed | equivalent (listed) | other survivors | not run | killed % |"
    lines = [header, "|" + "---|" * 7]
    for module, total, killed, eq, other, unchecked, score in rows:
        lines.append(f"| {module} | {total} | {killed} | {eq} | {other} | {unchecked} | {100 * score:.1f} |")
    table = "\n".join(lines)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    (root / "scores.md").write_text(f"Mutation scores, {stamp}\n\n{table}\n")
    print(table)
    if unlisted:
        print(f"\n{len(unlisted)} surviving mutant(s) not listed in {LISTING.name} "
              f"(see each with `cd _build/mutation && ../../.venv/bin/mutmut show NAME`):")
        print("\n".join("  " + n for n in unlisted))
    if stale:
        print(f"\nListed as equivalent but killed now (remove from {LISTING.name}):")
        print("\n".join("  " + n for n in stale))
    if failing:
        print(f"\nBelow {GOAL:.0%} killed, or not fully run: {', '.join(failing)}")
    return 1 if (unlisted or failing) else 0


if __name__ == "__main__":
    sys.exit(main())
