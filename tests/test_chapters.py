"""The chapters' house rules, checked on the committed notebooks.

nbval (``pytest --nbval``) proves that each notebook's stored outputs are what the current code
produces. These tests check what nbval cannot: that every chapter the toc promises exists, that it
explains enough, that every number it prints is asserted in the cell that prints it, and that it
was executed once, top to bottom, in a fresh kernel.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ["kmeans", "kmedoids", "gmm_em"]
MIN_WORDS = 1500
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def _load(name):
    return json.loads((ROOT / "book" / f"{name}.ipynb").read_text(encoding="utf-8"))


def _source(cell):
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def _printed_text(cell):
    """Text a reader sees under a code cell, leaving out figures and rich (HTML) displays."""
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream" and out["name"] == "stdout":
            parts.append("".join(out["text"]))
        elif out["output_type"] in ("execute_result", "display_data"):
            data = out["data"]
            if not ({"image/png", "text/html"} & set(data)):
                parts.append("".join(data.get("text/plain", "")))
    return "".join(parts)


def test_toc_lists_every_chapter_and_only_existing_pages():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    files = re.findall(r"file:\s*(\S+)", toc) + re.findall(r"root:\s*(\S+)", toc)
    for name in CHAPTERS:
        assert f"book/{name}" in files, f"_toc.yml does not list book/{name}"
    for f in files:
        assert any((ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb")), f"{f} missing"


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_explains_in_at_least_1500_words(name):
    nb = _load(name)
    prose = "\n".join(_source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    # Directive fences and labels are markup, not explanation.
    prose = re.sub(r"^(```|:::).*$|^:\w+:.*$", "", prose, flags=re.M)
    words = len(WORD.findall(prose))
    assert words >= MIN_WORDS, f"{name}: {words} words of explanation, fewer than {MIN_WORDS}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_has_one_title(name):
    nb = _load(name)
    titles = [
        line
        for c in nb["cells"]
        if c["cell_type"] == "markdown"
        for line in _source(c).splitlines()
        if re.match(r"#\s", line)
    ]
    assert len(titles) == 1, f"{name}: H1 headings {titles}"
    assert _source(nb["cells"][0]).lstrip().startswith("# "), f"{name}: the first cell is not the title"


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_was_run_once_top_to_bottom(name):
    counts = [c["execution_count"] for c in _load(name)["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1)), f"{name}: execution counts {counts}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_printed_number_is_asserted_in_its_cell(name):
    unasserted = []
    for i, cell in enumerate(_load(name)["cells"]):
        if cell["cell_type"] != "code":
            continue
        if re.search(r"\d", _printed_text(cell)) and "assert" not in _source(cell):
            unasserted.append(f"cell {i}: {_printed_text(cell)[:60]!r}")
    assert not unasserted, f"{name} prints numbers no assert checks: {unasserted}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_has_exercises_with_collapsed_solutions(name):
    text = "\n".join(_source(c) for c in _load(name)["cells"] if c["cell_type"] == "markdown")
    labels = re.findall(r"```\{exercise\}[^\n]*\n:label:\s*(\S+)", text)
    starts = re.findall(r"```\{solution-start\}\s*(\S+)\s*\n:class:\s*dropdown", text)
    assert len(labels) >= 3, f"{name}: exercises {labels}"
    assert sorted(starts) == sorted(labels), f"{name}: collapsed solutions {starts} for {labels}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_shows_a_step_through(name):
    sources = [_source(c) for c in _load(name)["cells"] if c["cell_type"] == "code"]
    assert any("step_through(" in s for s in sources), f"{name} has no step-through"
