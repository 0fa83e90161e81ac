"""The caller's environment does not change results (issue 11, item 5).

With ``MPLBACKEND=Agg`` exported, every inline figure of a chapter used to vanish (29 nbval
cells failed); a stray ``PYTHONPATH`` can import another copy of ``algos`` (or numpy). The
Makefile unexports those variables for every target, and ``tests/conftest.py`` drops them when
pytest is run directly. Both paths are tested here with a hostile environment: ``MPLBACKEND=Agg``
and ``PYTHONPATH`` pointing at a decoy folder whose ``algos`` refuses to import and whose
``sitecustomize`` logs every Python process that sees it (see ``conftest.hostile_env``).
``tests/test_build.py`` runs ``make book`` under the same environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from conftest import INSTALL_STAMP, decoy_seen, hostile_env

REPO = Path(__file__).resolve().parents[1]
CHAPTER = "book/kmedoids.ipynb"  # the quickest chapter; it draws figures and imports algos


def test_make_test_runs_a_chapter_unchanged_under_a_hostile_environment(tmp_path):
    # `-o book`: the site is already built; only the pytest recipe runs, on one chapter (so
    # tests/conftest.py is not even loaded: the Makefile alone must protect the kernel), in one
    # process (TEST_JOBS=0: three test processes for one notebook only cost their start-up).
    decoy = tmp_path / "decoy"
    proc = subprocess.run(
        ["make", "--no-print-directory", "-o", "book", "-o", INSTALL_STAMP, "test",
         "TEST_JOBS=0", f"PYTEST_ARGS={CHAPTER} -p no:cacheprovider -q"],
        cwd=REPO, env=hostile_env(decoy), capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout, proc.stdout[-2000:]
    assert decoy_seen(decoy) == [], "make passed the caller's PYTHONPATH on"


def kernel_report():
    """Run a figure and an ``import algos`` in a fresh kernel started with this environment."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import os, algos\nimport matplotlib.pyplot as plt\n"
        "print(os.path.dirname(algos.__file__))\nprint(plt.get_backend())\n"
        "plt.plot([0, 1])\nplt.show()")]
    NotebookClient(nb, kernel_name="python3", timeout=300,
                   resources={"metadata": {"path": str(REPO / "book")}}).execute()
    outputs = nb.cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs)
    return text.splitlines(), {m for o in outputs for m in o.get("data", {})}


def test_kernels_started_by_tests_get_a_clean_environment():
    # conftest.py removed the caller's variables before any test ran; a kernel (as nbval, the
    # grader and JupyterLab start them) inherits this process's environment.
    assert "MPLBACKEND" not in os.environ and "PYTHONPATH" not in os.environ
    lines, mimes = kernel_report()
    assert lines[0] == str(REPO / "book" / "algos")
    assert lines[1] == "module://matplotlib_inline.backend_inline"
    assert "image/png" in mimes


def test_pytest_run_directly_cleans_the_environment_it_was_given(tmp_path):
    # The same test as above, in a pytest started with the hostile environment.
    decoy = tmp_path / "decoy"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"{Path(__file__)}::test_kernels_started_by_tests_get_a_clean_environment"],
        cwd=REPO, env=hostile_env(decoy), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-4000:]
    assert "1 passed" in out, out[-2000:]
    # Only the pytest process itself saw the decoy (its own start-up, which no conftest can
    # change); no kernel or other subprocess did.
    seen = decoy_seen(decoy)
    assert [line.split()[0] for line in seen] == [str(proc.pid)], seen



def test_the_slowest_first_order_names_files_that_exist():
    """`make test` starts the files of conftest.SLOWEST_FIRST first; a renamed file would
    silently lose its place."""
    from conftest import REPO, SLOWEST_FIRST

    missing = [p for p in SLOWEST_FIRST if not (REPO / p).is_file()]
    assert not missing and len(set(SLOWEST_FIRST)) == len(SLOWEST_FIRST), missing
