"""The grader where the sandbox is missing, ``STRICT=1``, and the kernel's environment (issue 20).

Where bubblewrap is missing (simulated here by a ``PATH`` without ``bwrap`` or by
``grading.sandbox._find_bwrap`` finding none) the grader says so once, at the start, and still
grades with the limits; ``--strict`` (``make grade STRICT=1``) refuses to grade at all. What the
sandbox contains is tested with a class folder in ``test_grading_folder.py`` and piece by piece
in ``test_sandbox.py``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from containment import no_bwrap  # noqa: F401 (a fixture)
from grading import exercise, kernel, launch, sandbox
from grading.__main__ import main
from grading.checks import CHECKS
from grading.grader import grade

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "homework"
BOOK = (REPO / "book").resolve()


def _path_without_bwrap(tmp_path):
    """A ``PATH`` with every program of this one but ``bwrap``, as on a machine without
    bubblewrap (links in one folder)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for entry in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(entry):
            continue
        for name in os.listdir(entry):
            if name != "bwrap" and not (folder / name).exists():
                (folder / name).symlink_to(os.path.join(entry, name))
    assert shutil.which("bwrap", path=str(folder)) is None
    return str(folder)


def _hog(path):
    """The solved K-means fixture, with a cell that allocates up to 4 GiB (without touching
    it), an M-step that does the same, and a cell that fails unless the kernel's environment
    is the grader's."""
    nb = json.loads((FIXTURES / "solution_kmeans.ipynb").read_text())
    eat = ("    chunks = []\n    for _ in range(64):  # 4 GiB at most: it fails only at a limit\n"
           "        chunks.append(bytearray(2 ** 26))\n")
    nb["cells"][9]["source"] = ("def my_m_step(X, labels, k):\n" + eat +
                                "    return np.array([X[labels == j].mean(axis=0) for j in range(k)])\n")
    code = lambda src: {"cell_type": "code", "execution_count": None, "metadata": {},
                        "outputs": [], "source": src}
    nb["cells"][2:2] = [
        code("import os, sys, matplotlib\n"
             f"assert os.environ['PYTHONPATH'] == {str(BOOK)!r}, os.environ['PYTHONPATH']\n"
             "assert os.environ['MPLBACKEND'] == 'Agg' and matplotlib.get_backend().lower() == 'agg'\n"
             "assert 'TEACHER_API_TOKEN' not in os.environ\n"),
        code("def eat():\n" + eat + "\n\neat()\n"),
    ]
    path.write_text(json.dumps(nb))


def test_without_bwrap_the_limits_still_apply_and_it_is_said_once(no_bwrap, tmp_path, capsys,
                                                                 monkeypatch):
    folder = tmp_path / "returned"
    folder.mkdir()
    shutil.copy(FIXTURES / "solution_kmeans.ipynb", folder / "solved.ipynb")
    _hog(folder / "hog.ipynb")
    # The caller's environment reaches neither the kernel (the cell above checks) nor a verdict.
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("MPLBACKEND", "module://not_a_backend")
    monkeypatch.setenv("TEACHER_API_TOKEN", "TOKEN-SECRET")
    out = tmp_path / "grades"
    code = main(["grade", str(folder), "--out", str(out), "--jobs", "2", "--timeout", "20",
                 "--memory", "1G", "--seed", "7", "--quiet"])
    said = capsys.readouterr()
    assert code == 0, said.out + said.err
    assert (said.out + said.err).count("grading WITHOUT a sandbox") == 1, said
    assert "bubblewrap (bwrap) is not installed" in said.err
    assert "limits: 1 GiB of memory per process, 64 processes, 256 MiB per file" in said.err
    rows = {r["notebook"]: r for r in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}
    kmeans_max = f'{sum(c.points for c in CHECKS.values() if c.chapter == "kmeans.ipynb"):g}'
    assert (rows["solved.ipynb"]["total"], rows["solved.ipynb"]["max"]) == (kmeans_max, kmeans_max)
    hog = rows["hog.ipynb"]
    assert (hog["kmeans-e-step"], hog["kmeans-m-step"], hog["kmeans-objective"]) == ("3", "0", "2")
    report = next(n["report"] for n in json.loads((out / "grades.json").read_text())["notebooks"]
                  if n["notebook"] == "hog.ipynb")
    assert report["limits"] == ["memory"]
    m_step = next(e for e in report["exercises"] if e["label"] == "kmeans-m-step")
    assert m_step["message"].startswith("your my_m_step was stopped at the memory limit (")
    assert "(the limit is 1 GiB per process)" in m_step["message"]
    assert [c["status"] for c in report["cells"][:3]] == ["ok", "ok", "error"], report["cells"]
    assert report["notes"][0].startswith("cell 4 (code: 'def eat():') was stopped at the memory "
                                         "limit: it ran out of memory (the limit is 1 GiB")
    assert "hog.ipynb ran into the memory limit (its feedback says where)" in said.out
    assert "the memory limit" in (out / "feedback" / "hog.html").read_text()


def test_strict_refuses_to_grade_without_bwrap(tmp_path):
    """Through the command line and make, with a PATH that has no bwrap: nothing is graded."""
    folder = tmp_path / "returned"
    folder.mkdir()
    shutil.copy(FIXTURES / "solution_kmeans.ipynb", folder / "solved.ipynb")
    env = dict(os.environ, PATH=_path_without_bwrap(tmp_path))
    out = tmp_path / "grades"
    for command in ([sys.executable, "-m", "grading", "grade", str(folder), "--out", str(out),
                     "--strict"],
                    [shutil.which("make"), "--no-print-directory", "grade",
                     f"NB={folder / 'solved.ipynb'}", "STRICT=1"]):
        proc = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env,
                              timeout=120)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert proc.stderr.startswith("error: --strict (STRICT=1) refuses to grade without the "
                                      "sandbox: bubblewrap (bwrap) is not installed"), proc.stderr
        echoed = " ".join(proc.stdout.replace("\\\n", " ").split())  # make echoes its command
        assert echoed in ("", f'.venv/bin/python -m grading grade "{folder / "solved.ipynb"}" '
                              f'--strict'), proc.stdout
    assert not out.exists(), "no gradebook"


def test_strict_refuses_in_the_python_api_before_anything_runs(no_bwrap, tmp_path):
    from grading.batch import grade_folder

    with pytest.raises(sandbox.SandboxUnavailable, match="not installed"):
        grade(FIXTURES / "solution_kmeans.ipynb", strict=True)
    with pytest.raises(sandbox.SandboxUnavailable, match="not installed"):
        grade_folder(FIXTURES, tmp_path / "out", strict=True, progress=False)
    assert not (tmp_path / "out").exists()


def test_the_kernel_environment_is_the_graders_not_the_callers(monkeypatch, tmp_path):
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    monkeypatch.setenv("MPLBACKEND", "module://not_a_backend")
    env = kernel.kernel_env(BOOK)
    # Replaced, not prepended: exactly the book's folder.
    assert env == {"PYTHONPATH": str(BOOK), "MPLBACKEND": "Agg",
                   "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    km = launch.kernel_manager(scratch=tmp_path, read_only=[BOOK / "algos"], setenv=env)
    assert isinstance(km, sandbox.KernelManager) and km.setenv == env
    assert km.limits == sandbox.Limits()
    # The exercise process runs ``python -I`` (no PYTHONPATH at all) with only these.
    assert set(exercise.ENVIRONMENT) == {"LANG", "MPLBACKEND", "PYTHONHASHSEED"}
    # Neither passes on anything else of the caller's environment.
    assert "PYTHONPATH" not in sandbox.ENV_KEEP and "MPLBACKEND" not in sandbox.ENV_KEEP


def test_the_kernel_reads_only_algos_and_the_data(tmp_path):
    """The chapters (with their solutions) and the build files are not in the kernel's view."""
    readable = {p.name for p in kernel._readable(BOOK)}
    assert "algos" in readable
    assert not {n for n in readable if n.endswith(".ipynb") or n.startswith(("_", "."))}
    assert "grading" not in readable
    work = kernel._workdir(FIXTURES / "solution_kmeans.ipynb", BOOK, tmp_path)
    assert {p.name for p in work.iterdir()} == readable | {"notebook.ipynb"}


@pytest.mark.parametrize("argv, says", [
    (["--memory", "lots"], "--memory: must be a size such as 2G or 512M, got lots"),
    (["--memory", "0"], "--memory: must be a size such as 2G or 512M, got 0"),
])
def test_memory_option_is_checked(argv, says, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["grade", "x.ipynb", *argv])
    assert exit_.value.code == 2 and says in capsys.readouterr().err
