"""The hand-out works on a student's machine with nothing but what it says to install (issue 12).

``make student``'s zip is unzipped into a temporary folder, a fresh virtual environment gets
only the zip's ``requirements.txt`` (plus a kernel), and every student notebook runs top to
bottom there, through the self-check the README tells students to run. The only errors allowed
are those of unanswered exercises: ``NotImplementedError``, and the ``NameError`` of a
self-check cell whose exercise is still the stub. pip reads PyPI (or the machine's mirror) and
its cache; the install takes a minute or three, once per content of the requirements (the
environment is kept in ``_build/``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grading.__main__ import main
from grading.checks import CHECKS
from grading.markers import has_markers, parse
from grading.myst import RAW_MYST
from grading.student import ZIP_NAME, ZIP_ROOT

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.name for p in (REPO / "book").glob("*.ipynb")
                  if has_markers(json.loads(p.read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    if not CHAPTERS:
        pytest.fail("no chapter with exercises in book/")
    root = tmp_path_factory.mktemp("handout")
    assert main(["student", "--out", str(root / "student")]) == 0
    with zipfile.ZipFile(root / "student" / ZIP_NAME) as zf:
        zf.extractall(root / "unzipped")
    return root / "unzipped" / ZIP_ROOT


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "MPLBACKEND", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(extra)
    return env


#: Where the fresh environment is kept between runs, one per content of the hand-out's
#: requirements (and Python): `make clean` removes it.
VENVS = REPO / "_build" / "test-handout-venv"


@pytest.fixture(scope="module")
def venv(handout):
    """A virtual environment with only the hand-out's requirements.txt (and a kernel) installed.

    It is made once per content of requirements.txt and Python version, and kept in
    ``_build/test-handout-venv/`` for the next run (an older one is removed): a change to the
    requirements makes a new one, so the test still proves that the file is sufficient. It is
    made without pip (the student's own venv has pip, which no notebook imports), and this
    environment's pip installs into it (``pip --python``), which saves bootstrapping pip.
    """
    requirements = (handout / "requirements.txt").read_bytes()
    base = getattr(sys, "_base_executable", sys.executable)
    key = hashlib.sha256(b"\0".join([requirements, b"ipykernel", os.fsencode(base),
                                     sys.version.encode()])).hexdigest()[:16]
    where = VENVS / key
    python = where / "bin" / "python"
    done = where / "installed.txt"
    if done.is_file() and python.exists():
        return python
    if VENVS.is_dir():
        shutil.rmtree(VENVS)
    subprocess.run([base, "-m", "venv", "--without-pip", str(where)], check=True, timeout=300)
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                           "--disable-pip-version-check", "--quiet", "--no-compile",
                           "-r", str(handout / "requirements.txt"), "ipykernel"],
                          capture_output=True, text=True, timeout=1500, env=_clean_env())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # Compiled as pip compiles a student's install, but on every CPU. Without it, every process
    # (each self-check and its kernel) compiled numpy, matplotlib, scikit-learn and IPython
    # again where PYTHONDONTWRITEBYTECODE is set: 12 s to import them instead of 4.
    proc = subprocess.run([str(python), "-m", "compileall", "-q", "-j", "0", str(where / "lib")],
                          capture_output=True, text=True, timeout=1500, env=_clean_env())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    done.write_bytes(requirements)
    return python


def test_student_notebooks_carry_no_raw_myst(handout):
    for name in CHAPTERS:
        nb = json.loads((handout / name).read_text(encoding="utf-8"))
        raw = [(i, ln) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"
               for ln in "".join(c["source"]).splitlines() if RAW_MYST.search(ln)]
        assert not raw, f"{name}: lines JupyterLab would show as raw markup: {raw[:5]}"
        assert {e.label for e in parse(nb)} == {c.label for c in CHECKS.values()
                                                if c.chapter == name}


def test_every_notebook_runs_in_a_fresh_environment_with_only_unanswered_exercises_failing(handout, venv):
    # The three self-checks run side by side, as a student would run them one after another.
    procs = {name: subprocess.Popen([str(venv), "-m", "grading", "grade", name, "--json",
                                     "--seed", "1"], cwd=handout, env=_clean_env(),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in CHAPTERS}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 1, f"{name}: {err[-3000:]}"
        report = json.loads(out)
        # every cell ran; the only errors are those of unanswered exercises
        errors = [c for c in report["cells"] if c["status"] != "ok"]
        unexpected = [c for c in errors if not c["expected"]]
        assert not unexpected, f"{name}: {unexpected}"
        assert all(c["status"] == "error" and c["ename"] in ("NotImplementedError", "NameError")
                   for c in errors), errors
        assert any(c["ename"] == "NotImplementedError" for c in errors)
        assert report["notes"] == [], report["notes"]
        # and the self-check says so, exercise by exercise
        assert report["exercises"] and all(
            e["message"].startswith(("not implemented yet", "not answered yet"))
            for e in report["exercises"]), report["exercises"]
        assert [e["label"] for e in report["exercises"]] == [
            e.label for e in parse(json.loads((handout / name).read_text(encoding="utf-8")))]
        assert all(e["earned"] == 0 and e["verdict"] == "FAIL" for e in report["exercises"])
        assert report["total"] == 0 and report["max"] > 0 and report["limits"] == []


def test_the_self_check_reports_a_cell_that_fails_for_another_reason(handout, venv):
    # a small K-means notebook (the solved fixture) with one cell that cannot run
    nb = json.loads((REPO / "tests" / "fixtures" / "homework" / "solution_kmeans.ipynb")
                    .read_text(encoding="utf-8"))
    broken = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
              "source": ["import not_installed_anywhere"]}
    nb["cells"].insert(2, broken)
    (handout / "kmeans_broken.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    proc = subprocess.run([str(venv), "-m", "grading", "grade", "kmeans_broken.ipynb", "--seed", "1"],
                          cwd=handout, env=_clean_env(), capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr  # every exercise passes ...
    exercises = sum(c.chapter == "kmeans.ipynb" for c in CHECKS.values())
    assert exercises >= 6 and proc.stdout.count("PASS  ") == exercises, proc.stdout
    # ... and the cell that has nothing to do with them is named
    notes = [ln for ln in proc.stdout.splitlines() if ln.startswith("note:")]
    assert notes == ["note: cell 3 (code: 'import not_installed_anywhere') failed with "
                     "ModuleNotFoundError: No module named 'not_installed_anywhere'"], proc.stdout
