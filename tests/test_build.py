"""`make book` never publishes stale outputs, and re-runs only what changed (issue 11, item 4).

The execution cache (jupyter-cache, through myst-nb) keys a notebook on its code cells; the
``execution_inputs`` extension (``book/_ext/execution_inputs.py``) adds what the notebook reads:
the local modules it imports, their package files, the data files it names and the installed
packages. The fast tests below check which files count as a chapter's inputs; the slow one builds
a reduced book in a scratch copy of the repository with ``make book`` and proves, from the
execution cache's own records, that

* a real chapter is served from a copy of this worktree's warm cache (nothing re-executed in a
  fresh tree), and a rebuild after only touching ``book/algos/kmeans.py`` re-executes nothing;
* after a comment is added to ``book/algos/kmeans.py`` and a data file changes, exactly the
  chapters that import ``algos`` or read that file are re-executed, and the site shows the new
  value;

all under a hostile caller environment (``MPLBACKEND=Agg``, ``PYTHONPATH`` with a decoy
``algos``), which the Makefile must keep away from the kernels (issue 11, item 5).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import INSTALL_STAMP, decoy_seen, hostile_env, require, write_notebook

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
WARM_CACHE = REPO / "_build" / ".jupyter_cache"
REAL_CHAPTER = "kmedoids"  # the smallest chapter that imports algos


def load_extension():
    spec = importlib.util.spec_from_file_location(
        "execution_inputs", BOOK / "_ext" / "execution_inputs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as Sphinx imports it (dataclasses look it up there)
    spec.loader.exec_module(module)
    return module


ext = load_extension()


def rel(paths, root):
    return {p.relative_to(root).as_posix() for p in paths}


# --- what counts as a chapter's input ---------------------------------------------------------

@pytest.mark.parametrize("chapter", ["kmeans", "kmedoids", "gmm_em", "gmm_2d"])
def test_a_chapter_reads_the_algos_it_imports_and_the_player_files(chapter):
    inputs = rel(ext.notebook_inputs(BOOK / f"{chapter}.ipynb"), BOOK)
    assert {"algos/__init__.py", "algos/kmeans.py", "algos/kmedoids.py", "algos/gmm1d.py",
            "algos/stepper.py", "algos/plotting.py", "algos/_player.css",
            "algos/_player.js"} <= inputs
    # the grader's sub-package is not imported by a chapter, and the build's own files are not
    # read by it: editing them must not re-run the chapters
    assert not {p for p in inputs if p.startswith(("algos/homework/", "_ext/"))}, inputs


@pytest.fixture
def folder(tmp_path):
    """A chapter folder with a package, data files and other files next to the notebooks."""
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("from . import core\n")
    (tmp_path / "pkg" / "core.py").write_text("from .deep import helper\nimport numpy\n")
    (tmp_path / "pkg" / "deep.py").write_text("def helper():\n    return 1\n")
    (tmp_path / "pkg" / "unused.py").write_text("X = 1\n")
    (tmp_path / "pkg" / "style.css").write_text("p {}\n")
    (tmp_path / "pkg" / "sub" / "__init__.py").write_text("")
    (tmp_path / "other.py").write_text("Y = 2\n")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "a.csv").write_text("1\n")
    (tmp_path / "data" / "raw" / "b.csv").write_text("2\n")
    (tmp_path / "notes.txt").write_text("3\n")
    (tmp_path / "page.md").write_text("# page\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.txt").write_text("cache\n")
    return tmp_path


def test_imports_are_followed_through_the_local_package(folder):
    nb = write_notebook(folder / "a.ipynb", "%matplotlib inline\nimport numpy as np",
                        "from pkg import core\n!echo hi")
    assert rel(ext.notebook_inputs(nb), folder) == {
        "pkg/__init__.py", "pkg/core.py", "pkg/deep.py", "pkg/style.css"}


def test_data_files_count_when_named_or_their_folder_is(folder):
    by_name = write_notebook(folder / "b.ipynb", 'text = open("notes.txt").read()')
    assert rel(ext.notebook_inputs(by_name), folder) == {"notes.txt"}
    by_folder = write_notebook(folder / "c.ipynb",
                               'from pathlib import Path\nrows = (Path("data") / name).read_text()')
    assert rel(ext.notebook_inputs(by_folder), folder) == {"data/a.csv", "data/raw/b.csv"}
    by_subfolder = write_notebook(folder / "d.ipynb", 'f = "data/raw/" + name')
    assert "data/raw/b.csv" in rel(ext.notebook_inputs(by_subfolder), folder)
    none = write_notebook(folder / "e.ipynb", "import other\nprint(other.Y)")
    assert rel(ext.notebook_inputs(none), folder) == {"other.py"}


def test_a_cell_that_does_not_parse_makes_everything_an_input(folder):
    nb = write_notebook(folder / "f.ipynb", "def broken(:\n    pass")
    inputs = rel(ext.notebook_inputs(nb), folder)
    assert {"pkg/__init__.py", "pkg/core.py", "other.py", "data/a.csv", "notes.txt"} <= inputs
    assert "page.md" not in inputs and "__pycache__/x.txt" not in inputs


def test_fingerprint_follows_content_not_modification_time(folder):
    nb = write_notebook(folder / "g.ipynb", "import pkg", 'open("notes.txt")')
    first = ext.fingerprint(nb)
    os.utime(folder / "pkg" / "deep.py", (time.time() + 60,) * 2)
    (folder / "pkg" / "unused.py").write_text("X = 2\n")  # not imported
    (folder / "data" / "a.csv").write_text("9\n")  # not named
    assert ext.fingerprint(nb) == first
    with open(folder / "pkg" / "deep.py", "a") as f:
        f.write("# a comment\n")
    second = ext.fingerprint(nb)
    assert second != first
    (folder / "notes.txt").write_text("4\n")
    assert ext.fingerprint(nb) not in {first, second}


def test_only_the_packages_a_chapter_imports_count():
    # installing or upgrading a tool the chapters never import (jupyter-book, playwright)
    # must not re-run them; numpy, the kernel and their requirements must
    versions = ext._environment(frozenset({"numpy"})).splitlines()
    names = {line.split("==")[0] for line in versions[1:]}
    assert {"numpy", "ipykernel", "ipython", "pyzmq"} <= names
    assert not {"jupyter-book", "playwright", "sphinx"} & names, names
    assert {"jupyter-book", "playwright"} <= {
        line.split("==")[0] for line in ext._environment(None).splitlines()[1:]}
    # a chapter's imports from outside book/: its own and those of the algos modules it uses
    assert {"palmerpenguins", "sklearn", "numpy", "matplotlib", "ipywidgets", "PIL"} <= (
        ext._scan(BOOK / "gmm_em.ipynb").imports)
    assert "kmedoids" in ext._scan(BOOK / "kmedoids.ipynb").imports  # the FasterPAM package
    assert "algos" not in ext._scan(BOOK / "kmeans.ipynb").imports  # ours: files, not versions


# --- the real build, in a scratch copy --------------------------------------------------------

def cache_records(root):
    """{notebook file name: set of cache record ids} of the scratch build's execution cache."""
    from jupyter_cache import get_cache

    records = {}
    for record in get_cache(root / "_build" / ".jupyter_cache").list_cache_records():
        records.setdefault(Path(record.uri).name, set()).add(record.pk)
    return records


def executed(before, after):
    """Notebooks that got a new cache record, i.e. were executed, between two builds."""
    return {name for name, pks in after.items() if pks - before.get(name, set())}


def make_book(root, env):
    start = time.monotonic()
    proc = subprocess.run(["make", "--no-print-directory", "-o", INSTALL_STAMP, "book"], cwd=root,
                          env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.monotonic() - start
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    print(f"make book: {seconds:.1f} s")
    return proc.stdout + proc.stderr


@pytest.fixture
def scratch(tmp_path):
    """A copy of the repository's build inputs with a reduced table of contents."""
    require((WARM_CACHE / "global.db").is_file(),
            f"no execution cache in {WARM_CACHE}: run `make book` first")
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("Makefile", "_config.yml", "requirements.txt", "constraints.txt"):
        shutil.copy2(REPO / name, root / name)
    (root / ".venv").symlink_to((REPO / ".venv").resolve())
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    (root / "book").mkdir()
    for name in ("algos", "_ext", "data"):
        if (BOOK / name).is_dir():
            shutil.copytree(BOOK / name, root / "book" / name, ignore=ignore)
    shutil.copy2(BOOK / f"{REAL_CHAPTER}.ipynb", root / "book")
    shutil.copytree(WARM_CACHE, root / "_build" / ".jupyter_cache")
    (root / "book" / "probe_data").mkdir()
    (root / "book" / "probe_data" / "value.txt").write_text("41\n")
    write_notebook(
        root / "book" / "probe_algos.ipynb",
        "import os\nimport matplotlib.pyplot as plt\nimport algos\nfrom algos import kmeans",
        'print("algos from", os.path.dirname(algos.__file__))\n'
        'print("backend", plt.get_backend())',
        "fig, ax = plt.subplots(figsize=(2, 2))\nax.plot([0, 1], [1, 0])\nplt.show()",
        title="Probe: imports algos")
    write_notebook(root / "book" / "probe_plain.ipynb", "print(sum(range(4)))",
                   title="Probe: reads nothing")
    write_notebook(root / "book" / "probe_reader.ipynb",
                   'from pathlib import Path\n'
                   'print("value", Path("probe_data/value.txt").read_text().strip())',
                   title="Probe: reads a data file")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/probe_plain\nchapters:\n"
        f"  - file: book/probe_algos\n  - file: book/probe_reader\n  - file: book/{REAL_CHAPTER}\n")
    return root


def outputs(root, name):
    """(printed text, kinds of output) of a page of the scratch build, read from its HTML.

    The page, not ``_build/jupyter_execute``: myst-nb writes a notebook found in the cache there
    without its outputs, and the build executes notebooks ahead of reading them and caches them.
    """
    from bs4 import BeautifulSoup

    html = (root / "_build" / "html" / "book" / f"{name}.html").read_text(encoding="utf-8")
    cells = BeautifulSoup(html, "html.parser").select("div.cell_output")
    text = "".join(pre.get_text() for cell in cells for pre in cell.select("pre"))
    mimes = {"image/png" for cell in cells for img in cell.select("img")
             if img.get("src", "").endswith(".png")}
    return text, mimes


def test_make_book_reexecutes_exactly_the_chapters_whose_inputs_changed(scratch, tmp_path):
    decoy = tmp_path / "decoy"
    env = hostile_env(decoy)
    chapter = f"{REAL_CHAPTER}.ipynb"
    warm = cache_records(scratch)

    make_book(scratch, env)
    first = cache_records(scratch)
    assert chapter not in executed(warm, first), (
        f"{chapter} was executed although this worktree's execution cache was copied: is the "
        "cache warm (`make book`)?")
    assert executed(warm, first) == {"probe_algos.ipynb", "probe_plain.ipynb",
                                     "probe_reader.ipynb"}
    text, mimes = outputs(scratch, "probe_algos")
    assert f"algos from {scratch / 'book' / 'algos'}" in text
    assert "backend module://matplotlib_inline.backend_inline" in text  # not Agg
    assert "image/png" in mimes  # the figure is there
    assert "value 41" in outputs(scratch, "probe_reader")[0]

    # A touched, unchanged input changes nothing.
    os.utime(scratch / "book" / "algos" / "kmeans.py", (time.time() + 5,) * 2)
    make_book(scratch, env)
    assert executed(first, cache_records(scratch)) == set()

    # A comment in algos re-runs what imports algos; a data file what reads it.
    with open(scratch / "book" / "algos" / "kmeans.py", "a", encoding="utf-8") as f:
        f.write("# a comment that changes no result\n")
    (scratch / "book" / "probe_data" / "value.txt").write_text("42\n")
    second = cache_records(scratch)
    log = make_book(scratch, env)
    assert executed(second, cache_records(scratch)) == {
        "probe_algos.ipynb", "probe_reader.ipynb", chapter}, log[-3000:]
    assert "value 42" in outputs(scratch, "probe_reader")[0]
    page = (scratch / "_build" / "html" / "book" / "probe_reader.html").read_text()
    assert "value 42" in page and "value 41" not in page
    # the three notebooks that missed the cache ran side by side (book/_ext/execution_inputs.py)
    workers = min(3, os.cpu_count() or 1)
    if workers > 1:
        assert f"executing 3 notebooks, {workers} at a time" in log, log[-3000:]

    # Two notebooks miss the cache and one fails: it is not cached, myst-nb runs it again and
    # the build fails naming it, with its error; the other one is cached.
    write_notebook(scratch / "book" / "probe_plain.ipynb", "print(sum(range(5)))",
                   title="Probe: reads nothing")
    write_notebook(scratch / "book" / "probe_algos.ipynb",
                   "raise RuntimeError('a planted failure')", title="Probe: fails")
    third = cache_records(scratch)
    proc = subprocess.run(["make", "--no-print-directory", "-o", INSTALL_STAMP, "book"],
                          cwd=scratch, env=env, capture_output=True, text=True, timeout=1800)
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, log[-3000:]
    assert "probe_algos.ipynb failed; myst-nb runs it again" in log, log[-3000:]
    assert "a planted failure" in log and "probe_algos" in log, log[-3000:]
    assert executed(third, cache_records(scratch)) == {"probe_plain.ipynb"}
    assert decoy_seen(decoy) == [], "the Makefile passed the caller's PYTHONPATH on"


# --- make help --------------------------------------------------------------------------------

def test_make_and_make_help_list_every_target_once_as_the_readme_does():
    def run(*args):
        proc = subprocess.run(["make", "--no-print-directory", *args], cwd=REPO,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    bare, help_text = run(), run("help")
    assert bare == help_text and "up to date" not in bare + help_text
    lines = help_text.splitlines()
    listed = [line.split()[1] for line in lines]
    assert all(line.startswith("make ") for line in lines), lines
    assert len(listed) == len(set(listed)), listed
    phony = re.search(r"^\.PHONY:(.*)$", (REPO / "Makefile").read_text(), re.M).group(1).split()
    assert sorted(listed) == sorted(phony)
    section = (REPO / "README.md").read_text().split("## Make targets", 1)[1].split("\n## ", 1)[0]
    in_readme = re.findall(r"^\| `make (\w+)", section, re.M)
    assert sorted(in_readme) == sorted(listed)
