"""Re-execute a chapter when anything it reads changes, not only its code cells.

myst-nb's execution cache (jupyter-cache) keys a notebook on its code cells, their metadata and
its ``kernelspec``, nothing else (``JupyterCacheBase.create_hashed_notebook``). A chapter whose
code is unchanged is therefore served from the cache after an edit to ``book/algos/`` or to a
data file it loads, and the site would publish old numbers. And Sphinx re-reads a page only when
the page's own file is newer than its last read, so the cache would not even be asked.

This extension makes the inputs part of both decisions:

* for every notebook page (``.ipynb``; the book has no text-based notebooks) it finds the files
  the notebook reads (see :func:`notebook_inputs`) and fingerprints their *contents*, together
  with the Python version and the versions of the installed distributions it imports, with
  their requirements (a numpy upgrade can change every number; installing an unrelated tool
  changes nothing);
* on ``source-read`` it writes that fingerprint into the first code cell's metadata (key
  ``execution_inputs``, in memory only: the file on disk is untouched), so the jupyter-cache key
  changes exactly when an input does. An unchanged book still matches its cache records, and
  going back to an earlier version of ``algos`` finds that version's record again;
* on ``env-get-outdated`` it recomputes each page's fingerprint and asks Sphinx to re-read the
  pages whose fingerprint differs from the one seen at their last read. A file that is touched
  but not changed re-reads nothing;
* each version of the inputs adds cache records (about 1 MB per chapter), so the cache keeps the
  :data:`VERSIONS_KEPT` most recently used versions per notebook and drops older ones.

What a notebook reads is found statically, and errs on the side of reading more:

* local modules: every ``import`` in a code cell (IPython syntax translated first) that resolves
  to a module or package in the notebook's folder (the kernel's working directory, hence
  ``sys.path[0]``), followed through those modules' own imports, relative ones included. An
  imported package brings every non-Python file in its folder (e.g. the step-through player's
  ``_player.css``/``_player.js``), but not its sub-packages that nothing imports; and never
  the build's own folder ``_ext``, whose site files the website loads, not the notebook);
* data files: any other file under the notebook's folder (not a page, not Python) whose name
  occurs in the code cells or in the local modules they import; and every file under a folder
  (e.g. ``data``) whose path occurs as a quoted string or path component there, e.g.
  ``Path("data") / name`` or ``"data/" + name``. A notebook that opens a file by a name built
  from pieces and never spelled out (nor its folder) is not seen: spell out the folder.

If a code cell cannot be parsed, the notebook is taken to read every local module and every
data file.

Side by side: myst-nb executes the notebooks that miss the cache one after another, as it reads
each page, so a first build (a fresh clone, or after a change to ``algos``) kept one core of a
two-core machine idle. Before Sphinx reads the pages (``env-before-read-docs``), the notebooks
about to be read that miss the cache are executed in parallel, one process per CPU, exactly as
myst-nb would execute them (the same notebook, fingerprint included, working directory,
timeout and error settings), and cached; myst-nb then finds them in the cache. A notebook that
fails is not cached, so myst-nb runs it again and reports the error as usual.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Cell-metadata key that carries the fingerprint into the jupyter-cache key.
METADATA_KEY = "execution_inputs"
#: Cache records kept per notebook page (jupyter-cache drops the least recently used beyond).
VERSIONS_KEPT = 4
#: Page sources and Python files are never data (Python files count only when imported).
NOT_DATA = {".ipynb", ".md", ".rst", ".py", ".pyc"}
#: Folders never searched for inputs: caches, the build's output, and the build's own extensions
#: and site files (``_ext``), which the website loads and a notebook never reads (a module's
#: docstring that names ``book/_ext/static/...`` must not make every chapter depend on them).
SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", "_build", "node_modules", ".jupyter_cache",
             "_ext"}


def _skipped(path: Path) -> bool:
    return path.name in SKIP_DIRS or path.name.startswith(".")


def _walk_files(folder: Path, *, into_packages: bool):
    """Yield the files under `folder`, sorted, skipping caches and hidden entries."""
    for entry in sorted(folder.iterdir()):
        if _skipped(entry):
            continue
        if entry.is_dir():
            if not into_packages and (entry / "__init__.py").is_file():
                continue
            yield from _walk_files(entry, into_packages=into_packages)
        elif entry.is_file():
            yield entry


def _module_files(root: Path, dotted: str) -> list[Path]:
    """Files that ``import <dotted>`` runs from `root`: package ``__init__``s and the module.

    Names that do not resolve under `root` (numpy, ...) give nothing; a trailing part that is
    not a module (``from algos.kmeans import fit``) is an attribute and is ignored.
    """
    files, folder = [], root
    for part in dotted.split("."):
        package = folder / part
        if (package / "__init__.py").is_file():
            files.append(package / "__init__.py")
            folder = package
            continue
        if (folder / f"{part}.py").is_file():
            files.append(folder / f"{part}.py")
        break
    return files


@lru_cache(maxsize=1)
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


def _code_to_python(source: str) -> str:
    """Translate IPython syntax (``%magic``, ``!cmd``) into plain Python, as the kernel does."""
    return _transformer().transform_cell(source)


def _imported_names(tree: ast.AST, package: str | None) -> set[str]:
    """Dotted names imported in `tree`; relative imports resolved against `package`."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if not package:
                    continue
                parts = package.split(".")
                if node.level - 1 >= len(parts):
                    continue
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def _package(root: Path, file: Path) -> str:
    """The package a module file under `root` belongs to (what ``from . import`` means)."""
    parts = file.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1])


def notebook_inputs(notebook_path: Path) -> list[Path]:
    """The files a notebook reads when it runs with its own folder as working directory.

    Parameters
    ----------
    notebook_path : pathlib.Path
        A ``.ipynb`` file.

    Returns
    -------
    list of pathlib.Path
        Sorted, absolute paths: the local modules it imports (transitively), the non-Python
        files of the packages among them, and the data files it names (see the module
        docstring for the rules). The notebook itself is not included.
    """
    return _scan(notebook_path).files


@dataclass(frozen=True)
class _Scan:
    files: list[Path]  # local modules, their package files, data files
    imports: frozenset[str] | None  # top-level names imported from outside; None: unknown


def _scan(notebook_path: Path) -> _Scan:
    notebook_path = Path(notebook_path).resolve()
    root = notebook_path.parent
    nb = json.loads(notebook_path.read_text(encoding="utf-8"))
    cells = ["".join(c.get("source", "")) for c in nb.get("cells", [])
             if c.get("cell_type") == "code"]
    texts = list(cells)
    modules: set[Path] = set()
    everything = False
    pending: list[str] = []
    for source in cells:
        try:
            tree = ast.parse(_code_to_python(source))
        except SyntaxError:
            everything = True
            continue
        pending.extend(_imported_names(tree, None))
    if everything:
        pending = [p.stem if p.suffix == ".py" else p.name for p in root.iterdir()
                   if not _skipped(p) and (p.suffix == ".py" or (p / "__init__.py").is_file())]
    seen: set[str] = set()
    external: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        files = _module_files(root, name)
        if not files:
            external.add(name.split(".")[0])
        for file in files:
            if file in modules:
                continue
            modules.add(file)
            source = file.read_text(encoding="utf-8", errors="replace")
            texts.append(source)
            package = _package(root, file)
            try:
                tree = ast.parse(source)
            except SyntaxError:  # the kernel will fail on it; its text still counts
                continue
            pending.extend(_imported_names(tree, package))
    package_data = {f for init in modules if init.name == "__init__.py"
                    for f in _walk_files(init.parent, into_packages=False)
                    if f.suffix not in {".py", ".pyc"}}
    text = "\n".join(texts)
    data = set()
    for file in _walk_files(root, into_packages=False):
        if file.suffix in NOT_DATA:
            continue
        rel = file.relative_to(root)
        folders = [Path(*rel.parts[:i]).as_posix() for i in range(1, len(rel.parts))]
        if everything or file.name in text or any(_names_folder(f, text) for f in folders):
            data.add(file)
    return _Scan(sorted(modules | package_data | data),
                 None if everything else frozenset(external))


def _names_folder(folder: str, text: str) -> bool:
    """True if `folder` (a relative POSIX path) occurs as a quoted string or path component."""
    edge = r"""["'/\\]"""
    return re.search(edge + re.escape(folder) + edge, text) is not None


#: Distributions every notebook uses: the kernel itself.
KERNEL = ("ipykernel",)


@lru_cache(maxsize=1)
def _installed() -> dict[str, metadata.Distribution]:
    return {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions()
            if d.metadata["Name"]}


@lru_cache(maxsize=1)
def _providers() -> dict[str, list[str]]:
    return metadata.packages_distributions()


@lru_cache(maxsize=None)
def _environment(imports: frozenset[str] | None) -> str:
    """The interpreter and the versions of the distributions that `imports` can load.

    Those are the distributions that provide the imported top-level names, the kernel's, and
    everything they require (extras left out), transitively. With `imports` None (a cell did
    not parse), every installed distribution counts.
    """
    installed = _installed()
    if imports is None:
        used = set(installed)
    else:
        todo = [canonicalize_name(d) for name in imports for d in _providers().get(name, [])]
        todo += [canonicalize_name(d) for d in KERNEL]
        used = set()
        while todo:
            name = todo.pop()
            if name in used or name not in installed:
                continue
            used.add(name)
            for line in installed[name].requires or []:
                req = Requirement(line)
                if req.marker is None or req.marker.evaluate({"extra": ""}):
                    todo.append(canonicalize_name(req.name))
    versions = sorted(f"{name}=={installed[name].version}" for name in used)
    return "\n".join([sys.version, *versions])


def fingerprint(notebook_path: Path) -> str:
    """SHA-256 of everything that can change a notebook's outputs besides its code cells.

    Parameters
    ----------
    notebook_path : pathlib.Path
        A ``.ipynb`` file.

    Returns
    -------
    str
        Hex digest over the contents (and paths relative to the notebook's folder) of
        :func:`notebook_inputs`, the Python version and the versions of the installed
        distributions the notebook can import (see :func:`_environment`).
    """
    notebook_path = Path(notebook_path).resolve()
    scan = _scan(notebook_path)
    digest = hashlib.sha256(_environment(scan.imports).encode())
    for file in scan.files:
        digest.update(file.relative_to(notebook_path.parent).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def _is_notebook(env: BuildEnvironment, docname: str) -> bool:
    return str(env.doc2path(docname)).endswith(".ipynb")


def _stored(env: BuildEnvironment) -> dict[str, str]:
    if not hasattr(env, "execution_inputs"):
        env.execution_inputs = {}
    return env.execution_inputs


def _with_fingerprint(text: str, digest: str) -> str:
    """The notebook source ``text`` with ``digest`` in its first code cell's metadata."""
    nb = json.loads(text)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell.setdefault("metadata", {})[METADATA_KEY] = digest
            return json.dumps(nb, ensure_ascii=False)
    return text


def source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    """Put the notebook's input fingerprint into its first code cell's metadata."""
    env = app.env
    if not _is_notebook(env, docname):
        return
    digest = fingerprint(Path(env.doc2path(docname)))
    _stored(env)[docname] = digest
    source[0] = _with_fingerprint(source[0], digest)


def _execute(text: str, cwd: str, timeout: int | None, allow_errors: bool) -> tuple:
    """Run in a worker process: execute one notebook as myst-nb's cache mode does.

    Returns ``(executed notebook as JSON or None, seconds, error text or None)``.
    """
    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.reads(text, as_version=4)
    result = single_nb_execution(nb, cwd=cwd, timeout=timeout, allow_errors=allow_errors,
                                 meta_override=True)
    if result.err is not None:
        return None, result.time, result.exc_string or repr(result.err)
    return nbformat.writes(nb), result.time, None


def execute_in_parallel(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Execute the notebooks about to be read that miss the cache, side by side, and cache them.

    Only what myst-nb would execute in cache mode is run here: not a notebook matched by
    ``execution_excludepatterns``, run in a temporary folder, or carrying its own myst-nb
    settings or a kernel alias (those are left to myst-nb). With fewer than two such
    notebooks, or one CPU, nothing is done here.
    """
    import os
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context
    from pathlib import PurePosixPath

    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    config = getattr(env, "mystnb_config", None)
    if config is None or config.execution_mode != "cache" or config.execution_in_temp:
        return
    cache = get_cache(config.execution_cache_path or ".jupyter_cache")
    todo = []
    for docname in docnames:
        if not _is_notebook(env, docname):
            continue
        path = Path(env.doc2path(docname))
        if any(PurePosixPath(path.as_posix()).match(p) for p in config.execution_excludepatterns):
            continue
        text = _with_fingerprint(path.read_text(encoding="utf-8"), fingerprint(path))
        nb = nbformat.reads(text, as_version=4)
        if config.metadata_key in nb.metadata or config.kernel_rgx_aliases:
            continue
        try:
            cache.match_cache_notebook(nb)
            continue  # cached: myst-nb reads it from there
        except KeyError:
            todo.append((path, text))
    workers = min(len(todo), os.cpu_count() or 1)
    if workers < 2:
        return
    logger.info(f"execution_inputs: executing {len(todo)} notebooks, {workers} at a time")
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_execute, text, str(path.parent), config.execution_timeout,
                               config.execution_allow_errors) for path, text in todo]
        for (path, _), future in zip(todo, futures):
            executed, seconds, error = future.result()
            if error is not None:
                logger.info(f"execution_inputs: {path.name} failed; myst-nb runs it again")
                continue
            stage = cache.add_nb_to_project(str(path))
            cache.cache_notebook_bundle(
                CacheBundleIn(nbformat.reads(executed, as_version=4), stage.uri,
                              data={"execution_seconds": seconds}),
                check_validity=False, overwrite=True)
            logger.info(f"execution_inputs: executed {path.name} in {seconds:.1f} s")


def outdated(app: Sphinx, env: BuildEnvironment, added, changed, removed) -> list[str]:
    """Notebook pages whose inputs changed since they were last read."""
    stored = _stored(env)
    stale = []
    for docname in sorted(env.found_docs - set(added) - set(changed)):
        if not _is_notebook(env, docname):
            continue
        if stored.get(docname) != fingerprint(Path(env.doc2path(docname))):
            stale.append(docname)
    if stale:
        logger.info(f"execution_inputs: inputs changed for {', '.join(stale)}")
    _limit_cache(app, sum(_is_notebook(env, d) for d in env.found_docs))
    return stale


def _limit_cache(app: Sphinx, notebooks: int) -> None:
    if app.config.nb_execution_mode != "cache" or not notebooks:
        return
    from jupyter_cache import get_cache

    cache = get_cache(app.config.nb_execution_cache_path or ".jupyter_cache")
    limit = max(VERSIONS_KEPT * notebooks, 10)
    if cache.get_cache_limit() != limit:
        cache.change_cache_limit(limit)


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    _stored(env).pop(docname, None)


def merge(app: Sphinx, env: BuildEnvironment, docnames, other: BuildEnvironment) -> None:
    _stored(env).update({d: v for d, v in _stored(other).items() if d in docnames})


def setup(app: Sphinx) -> dict:
    app.connect("source-read", source_read)
    app.connect("env-get-outdated", outdated)
    app.connect("env-before-read-docs", execute_in_parallel)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    return {"version": "1.0", "env_version": 1, "parallel_read_safe": True,
            "parallel_write_safe": True}
