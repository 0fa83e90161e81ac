"""Shared pytest fixtures: the built website, a local web server and an offline browser.

The browser fixtures are meant for every test that drives the site or JupyterLab:

* ``built_site``: the ``_build/html`` folder (fails with a clear message if it is missing);
* ``site_url``: that folder served on ``http://127.0.0.1:<ephemeral port>`` for the session;
* ``browser_context``: a headless Debian Chromium (``/usr/bin/chromium``) driven by
  playwright, with a fresh profile;
* ``offline_page``: a new page in that context on which every request that does not go to
  127.0.0.1/localhost is aborted and recorded in ``page.outside_requests``; console errors and
  uncaught exceptions are recorded in ``page.console_errors``.

Two rules hold for the whole session:

* the caller's environment does not change results: the variables in :data:`CALLER_ENV`
  (``MPLBACKEND=Agg`` would make every inline figure vanish; ``PYTHONPATH`` could import another
  copy of ``algos``) are removed before any test starts a kernel or a subprocess, as the Makefile
  does for its own targets, and ``algos`` must come from this repository's ``book/``;
* tests leave nothing running: every process started during the session (kernels, JupyterLab,
  Chromium, subprocesses, and their children, even re-parented ones) must be gone when it ends;
  any that is left is listed as an error and then stopped (see ``no_leftover_processes``).

A missing build or a missing Chromium is a test *failure*, never a skip: on CI (``CI=true``)
a skipped browser test would report an untested site as passing.
"""

from __future__ import annotations

import functools
import http.server
import os
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest

REPO = Path(__file__).resolve().parents[1]
SITE_DIR = REPO / "_build" / "html"
SCREENSHOT_DIR = REPO / "_build" / "screenshots"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
#: The Makefile's "requirements installed" stamp; tests that run make pass ``-o`` it, so that
#: make never reinstalls anything.
INSTALL_STAMP = ".venv/.requirements-installed"
#: Variables of the caller's environment that would change results (the Makefile unexports them).
CALLER_ENV = ("MPLBACKEND", "MATPLOTLIBRC", "PYTHONPATH", "PYTHONHOME")
#: Marks every process this session starts (inherited through the environment), one token per
#: session: a pytest run inside a test adds its own, so each session checks only its own.
SESSION_MARK = "ALGOS_TEST_SESSIONS"
#: Seconds a process may take to exit after the session ends (a kernel shutting down).
LEFTOVER_GRACE = 20


def pytest_configure(config):
    for var in CALLER_ENV:
        os.environ.pop(var, None)
    token = secrets.token_hex(8)
    config._session_token = token
    os.environ[SESSION_MARK] = ":".join(
        t for t in (os.environ.get(SESSION_MARK), token) if t)


def pytest_sessionstart(session):
    import algos

    book = REPO / "book"
    origin = Path(algos.__file__).resolve()
    # `make mutate` runs the tests on mutmut's copy, where the package sits at the top
    # (_build/mutation/mutants/algos, next to the copied tests/) and MUTANT_UNDER_TEST is set
    mutmut_copy = "MUTANT_UNDER_TEST" in os.environ and origin.parent.parent == REPO
    if book not in origin.parents and not mutmut_copy:
        raise pytest.UsageError(f"the tests imported algos from {origin}, not from {book}")


def pytest_ignore_collect(collection_path, config):
    """Leave notebooks under tests/ alone: they are test data (e.g. for the grader).

    `--nbval` (in pyproject's addopts) collects every ``.ipynb`` pytest walks past; the book's
    notebooks are the ones in ``book/``, which this conftest does not govern.
    """
    if collection_path.suffix == ".ipynb":
        return True
    return None


def is_local_url(url: str) -> bool:
    """Return True for a request the offline site may make (same machine, or inline data).

    Parameters
    ----------
    url : str
        The requested URL.

    Returns
    -------
    bool
        True for ``data:``, ``blob:``, ``about:`` and ``file:`` URLs and for http(s)/ws(s)
        URLs whose host is 127.0.0.1, localhost or ::1; False for everything else.
    """
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about", "file"}:
        return True
    if parts.scheme in {"http", "https", "ws", "wss"}:
        return parts.hostname in LOCAL_HOSTS
    return False


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static file handler that does not log every request to stderr."""

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass


class StaticServer:
    """Serve a folder on 127.0.0.1 at an ephemeral port, in a background thread.

    Parameters
    ----------
    root : pathlib.Path
        The folder to serve.

    Examples
    --------
    >>> with StaticServer(Path("_build/html")) as url:  # doctest: +SKIP
    ...     print(url)
    http://127.0.0.1:40123/
    """

    def __init__(self, root: Path):
        handler = functools.partial(_QuietHandler, directory=str(root))
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL, ending in a slash."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def __enter__(self) -> str:
        self._thread.start()
        return self.url

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)


def require(condition: bool, message: str) -> None:
    """Fail the test (never skip) with `message` unless `condition` holds."""
    if not condition:
        pytest.fail(message + (" [CI=true]" if ON_CI else ""), pytrace=False)


@pytest.fixture(scope="session")
def built_site() -> Path:
    """The built website folder; fails if `make book` has not produced it."""
    require(
        (SITE_DIR / "index.html").is_file(),
        f"The website is not built: {SITE_DIR / 'index.html'} is missing. Run `make book` "
        "(or `make test`, which builds first).",
    )
    return SITE_DIR


@pytest.fixture(scope="session")
def site_url(built_site: Path):
    """The built site served on 127.0.0.1 for the whole session."""
    with StaticServer(built_site) as url:
        yield url


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Folder for page screenshots people review (`_build/screenshots/`)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


@pytest.fixture(scope="session")
def browser_context():
    """A headless Chromium context with a fresh, temporary user-data-dir."""
    require(
        CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK),
        f"Chromium not found at {CHROMIUM}. Install it (Debian: `apt-get install chromium`) "
        "or set CHROMIUM=/path/to/chromium. Browser tests cannot be skipped.",
    )
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900},
                service_workers="block",
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def open_offline_page(context):
    """Open a page that blocks and records every non-local request and every console error.

    Parameters
    ----------
    context : playwright.sync_api.BrowserContext
        The browser context to open the page in.

    Returns
    -------
    playwright.sync_api.Page
        The page, with two extra list attributes: ``outside_requests`` (URLs that were
        requested from anywhere but this machine; each was aborted) and ``console_errors``
        (console messages of type "error", uncaught page exceptions and HTTP
        responses with status 400 or more), and a set ``in_flight`` of the requests not yet
        finished (see `wait_until_quiet`). Each outside URL
        is listed once, however often it was requested.
    """
    page = context.new_page()
    page.outside_requests = []
    page.console_errors = []

    def route(route):
        url = route.request.url
        if is_local_url(url):
            route.continue_()
        else:
            if url not in page.outside_requests:
                page.outside_requests.append(url)
            route.abort("blockedbyclient")

    def on_request(request):
        # Belt and braces: anything that bypassed routing is still counted.
        if not is_local_url(request.url) and request.url not in page.outside_requests:
            page.outside_requests.append(request.url)

    page.in_flight = set()
    page.on("request", lambda request: page.in_flight.add(request))
    page.on("requestfinished", lambda request: page.in_flight.discard(request))
    page.on("requestfailed", lambda request: page.in_flight.discard(request))

    page.route("**/*", route)
    page.on("request", on_request)
    page.on(
        "console",
        lambda msg: page.console_errors.append(f"console.{msg.type}: {msg.text}")
        if msg.type == "error"
        else None,
    )
    page.on("pageerror", lambda exc: page.console_errors.append(f"uncaught: {exc}"))
    page.on(
        "response",
        lambda r: page.console_errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    return page


def wait_until_quiet(page, quiet_ms: int = 500, timeout_ms: int = 30000) -> None:
    """Wait until a page from `open_offline_page` has had no request in flight for `quiet_ms`.

    Like playwright's "networkidle", but it names the requests still pending when it gives
    up, and it does not count connections the page keeps open on purpose.

    Raises
    ------
    AssertionError
        If requests are still in flight after `timeout_ms`.
    """
    step = 50
    quiet = waited = 0
    while quiet < quiet_ms:
        if waited >= timeout_ms:
            pending = sorted(r.url for r in page.in_flight)
            raise AssertionError(f"requests still pending after {timeout_ms} ms: {pending}")
        page.wait_for_timeout(step)
        waited += step
        quiet = quiet + step if not page.in_flight else 0


@pytest.fixture
def offline_page(browser_context):
    """A fresh offline page (see `open_offline_page`), closed after the test."""
    page = open_offline_page(browser_context)
    yield page
    page.close()


def write_notebook(path, *code, title=None):
    """Write a notebook of code cells (after a ``# title`` markdown cell if given) for the
    python3 kernel; return its path."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in code]
    if title:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"# {title}"))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def hostile_env(decoy):
    """The caller's environment of issue 11 item 5: Agg backend and a decoy on PYTHONPATH.

    The decoy holds an ``algos`` that refuses to import and a ``sitecustomize`` module, which
    every Python process that sees this PYTHONPATH runs at start-up: it appends its process id
    and command line to ``decoy / "seen.log"`` (see `decoy_seen`).
    """
    (decoy / "algos").mkdir(parents=True)
    (decoy / "algos" / "__init__.py").write_text(
        'raise ImportError("decoy algos imported: PYTHONPATH leaked")\n')
    (decoy / "sitecustomize.py").write_text(
        "import os, sys\n"
        f"with open({str(decoy / 'seen.log')!r}, 'a') as f:\n"
        "    f.write(f'{os.getpid()} {sys.argv}\\n')\n")
    return dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(decoy))


def decoy_seen(decoy):
    """Lines the decoy's sitecustomize wrote: one per Python process that saw PYTHONPATH."""
    log = decoy / "seen.log"
    return log.read_text().splitlines() if log.exists() else []


def session_processes(token: str) -> list[psutil.Process]:
    """Processes other than this one whose environment carries this session's `token`."""
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            if token in proc.environ().get(SESSION_MARK, "").split(":"):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def describe(proc: psutil.Process) -> str:
    try:
        started = time.strftime("%H:%M:%S", time.localtime(proc.create_time()))
        return f"pid {proc.pid} (started {started}): {' '.join(proc.cmdline())[:200]}"
    except psutil.Error:
        return f"pid {proc.pid} (gone)"


@pytest.fixture(scope="session", autouse=True)
def no_leftover_processes(request):
    """Fail the session if a test leaves a kernel, server, browser or subprocess running.

    Set up before, and so torn down after, every other session fixture (the shared browser and
    web server included). Leftovers get `LEFTOVER_GRACE` seconds to exit, are then listed as an
    error at teardown and stopped (they carry this session's mark: they are ours).
    """
    yield
    token = request.config._session_token
    left = session_processes(token)
    _, left = psutil.wait_procs(left, timeout=LEFTOVER_GRACE)
    if not left:
        return
    report = "\n".join(describe(p) for p in left)
    for proc in left:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, still = psutil.wait_procs(left, timeout=10)
    for proc in still:
        try:
            proc.kill()
        except psutil.Error:
            pass
    pytest.fail(f"tests left {len(left)} process(es) running (now stopped):\n{report}",
                pytrace=False)


# ------------------------------------------------------------------ order of the files

#: The slowest test files first, as measured (``--durations=0``, seconds summed per file, on
#: the 2-core machine with other work running; December 2026). `make test` runs whole files on
#: several processes (``--dist loadfile --no-loadscope-reorder``): taking the longest first
#: keeps one long file from starting last and running alone at the end. Only the order
#: depends on this list; a file missing from it runs after these, in the usual order.
SLOWEST_FIRST = [
    # seconds of test time in a whole `make test` (3 processes on 2 cores), 2026-12-02
    "tests/test_homework.py",       # ~270 s: the grader on every chapter's solutions
    "tests/test_site.py",           # ~250 s: every page loaded once, MathJax, contrast
    "tests/test_explorer_site.py",  # ~225 s
    "tests/test_stepper.py",        # ~220 s
    "tests/test_lab.py",            # ~210 s: JupyterLab
    "tests/test_grading_folder.py",  # ~140 s: a class folder graded
    "tests/test_handout.py",        # ~110 s: a fresh virtual environment
    "tests/test_grading_checks.py",
    "tests/test_build.py",
    "tests/test_stepper_browser.py",
    "book/kmeans.ipynb",
    "tests/test_explorer_parity.py",
    "tests/test_env.py",
    "book/gmm_em.ipynb",
    "tests/test_sandbox.py",
    "tests/test_properties.py",
    "tests/test_grading_sandbox.py",
    "tests/test_stepper_gmm.py",
    "tests/test_plotting.py",
    "book/gmm_2d.ipynb",
]


def pytest_collection_modifyitems(session, config, items):
    """Put the files of :data:`SLOWEST_FIRST` first, in that order (a stable sort: the tests
    of a file keep their order)."""
    rank = {path: i for i, path in enumerate(SLOWEST_FIRST)}

    def key(item):
        path = Path(str(item.fspath)).resolve()
        try:
            relative = path.relative_to(REPO).as_posix()
        except ValueError:
            return len(rank)
        return rank.get(relative, len(rank))

    items.sort(key=key)
