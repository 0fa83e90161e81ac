"""The live step-through in the real client: JupyterLab in headless Chromium.

The module starts one JupyterLab on 127.0.0.1 with its own random token (in a
temporary copy of ``book/``, so autosave never touches the sources); for each notebook it opens it,
runs all cells through ``window.jupyterapp.commands.execute('notebook:run-all-cells')``,
waits for the step-through widget, presses its "Next step" button and asserts that the
picture (the ``widgets.Image`` PNG) changed; then "Play" must advance the half-steps by itself
and "Reset" return to the first. JupyterLab is stopped in the fixture teardown.

Notebooks: one generated here (so the test runs before any chapter exists) plus every
notebook in ``book/`` that calls ``step_through``. Nothing is skipped: a missing Chromium or a
JupyterLab that does not start is a failure, on CI (``CI=true``) and everywhere else.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import open_offline_page

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
JUPYTER = Path(sys.executable).with_name("jupyter")
GENERATED = "stepper_smoke.ipynb"
START_TIMEOUT = 120  # s for JupyterLab to answer
RUN_TIMEOUT = 600_000  # ms for "run all cells" to produce the widget (chapters run real fits)


def chapter_notebooks():
    """Notebooks in book/ that show a step-through (read at collection time)."""
    found = []
    for path in sorted(BOOK.glob("*.ipynb")):
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            found.append(path.name)  # unreadable: let the test fail on it
            continue
        if any("step_through(" in "".join(c.get("source", "")) for c in nb.get("cells", [])
               if c.get("cell_type") == "code"):
            found.append(path.name)
    return found


def write_smoke_notebook(folder):
    """A small notebook that imports algos and displays one K-means step-through."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import numpy as np\nfrom algos import stepper"),
        nbformat.v4.new_code_cell(
            "rng = np.random.default_rng(0)\n"
            "centres = np.array([[0.0, 0.0], [4.0, 4.0], [0.0, 5.0]])\n"
            "X = rng.normal(size=(300, 2)) + centres[np.arange(300) % 3]\n"
            "X2 = rng.normal(size=(200, 2)) * [3.0, 0.5]\n"
            'player = stepper.step_through("kmeans", X, k=3, init="random", seed=1,\n'
            '                              datasets={"blobs": X, "stretched": X2})\n'
            "assert player.result.converged and len(player.frames) >= 4\n"
            "player"
        ),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, folder / GENERATED)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """A JupyterLab server of our own on 127.0.0.1, stopped by :meth:`stop`.

    Parameters
    ----------
    root : pathlib.Path
        ``--ServerApp.root_dir``.
    home : pathlib.Path
        Folder for its config, data, runtime and settings (isolated from the user's).
    """

    def __init__(self, root, home):
        self.root = Path(root)
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.pop("MPLBACKEND", None)  # with Agg forced, inline figures would vanish
        for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                         ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                         ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython")):
            env[var] = str(home / sub)
        # no "get notified about Jupyter news?" toast over the notebook (and no fetch of it)
        news = home / "settings" / "@jupyterlab" / "apputils-extension"
        news.mkdir(parents=True, exist_ok=True)
        (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
        self.log_path = home / "jupyterlab.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(JUPYTER), "lab", "--no-browser", "--allow-root",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
             "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
             "--expose-app-in-browser", f"--ServerApp.root_dir={self.root}",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            cwd=self.root, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its kernels share its process group: stopped with it
        )

    def log_tail(self, chars=3000):
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def wait_until_up(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        status = f"{self.url}/api/status?token={self.token}"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(status, timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        pytest.fail(f"JupyterLab did not answer in {timeout} s:\n{self.log_tail()}")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group only
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self._log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a temporary copy of book/ plus the generated notebook."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "book"
    shutil.copytree(BOOK, root, ignore=shutil.ignore_patterns(
        "_build", ".ipynb_checkpoints", "__pycache__", ".jupyter_cache"))
    write_smoke_notebook(root)
    server = JupyterLab(root, base)
    try:
        server.wait_until_up()
        yield server
    finally:
        server.stop()


def open_notebook(page, lab, name):
    """Open ``name`` in JupyterLab and wait until its kernel is idle."""
    page.goto(f"{lab.url}/lab/tree/{name}?token={lab.token}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=120_000)
    page.wait_for_function(
        """name => {
            const w = window.jupyterapp.shell.currentWidget;
            const kernel = w && w.sessionContext && w.sessionContext.session
                && w.sessionContext.session.kernel;
            return !!(w && w.context && w.context.path.endsWith(name) && kernel
                && kernel.status === 'idle');
        }""",
        arg=name,
        timeout=180_000,
    )


def wait_for_widget_or_error(page, notebook, timeout=RUN_TIMEOUT):
    """Wait until a "Next step" button shows, failing at once if a cell raised an error."""
    handle = page.wait_for_function(
        """() => {
            const buttons = Array.from(document.querySelectorAll('.widget-vbox button'));
            if (buttons.some(b => b.textContent.trim() === 'Next step')) { return 'widget'; }
            const nb = window.jupyterapp.shell.currentWidget.content;
            for (const cell of nb.widgets) {
                const outputs = cell.model.outputs ? cell.model.outputs.toJSON() : [];
                for (const out of outputs) {
                    if (out.output_type === 'error') {
                        return 'error: ' + out.ename + ': ' + out.evalue;
                    }
                }
            }
            return false;
        }""",
        timeout=timeout,
        polling=1000,
    )
    outcome = handle.json_value()
    assert outcome == "widget", f"running {notebook} in JupyterLab failed: {outcome}"


def stepper_widget(page):
    """The first step-through widget on the page (the VBox holding a "Next step" button)."""
    return page.locator(".widget-vbox").filter(
        has=page.get_by_role("button", name="Next step", exact=True)).first


@pytest.mark.parametrize("notebook", [GENERATED, *chapter_notebooks()])
def test_next_step_redraws_in_jupyterlab(lab, browser_context, screenshot_dir, notebook):
    page = open_offline_page(browser_context)
    try:
        open_notebook(page, lab, notebook)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        wait_for_widget_or_error(page, notebook)
        widget = stepper_widget(page)
        widget.wait_for(state="visible", timeout=120_000)
        image = widget.locator("img").first
        page.wait_for_function(
            "img => img.getAttribute('src') && img.complete && img.naturalWidth > 0",
            arg=image.element_handle(), timeout=120_000)
        before = image.get_attribute("src")
        assert widget.get_by_text("Half-step 1 of").count() == 1
        for name in ("Previous step", "Next step", "Play", "Reset"):
            assert widget.get_by_role("button", name=name, exact=True).count() == 1, name
        widget.get_by_role("button", name="Next step", exact=True).click()
        page.wait_for_function(
            "([img, old]) => img.getAttribute('src') !== old && img.complete"
            " && img.naturalWidth > 0",
            arg=[image.element_handle(), before], timeout=120_000)
        widget.get_by_text("Half-step 2 of").wait_for(timeout=120_000)
        widget.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / f"lab_{Path(notebook).stem}.png"))
        # "Play" animates: the browser-side ipywidgets.Play ticks, the kernel redraws
        after_next = image.get_attribute("src")
        widget.get_by_role("button", name="Play", exact=True).click()
        widget.get_by_text("Half-step 4 of").wait_for(timeout=120_000)
        assert image.get_attribute("src") != after_next
        widget.get_by_role("button", name="Reset", exact=True).click()
        widget.get_by_text("Half-step 1 of").wait_for(timeout=120_000)
    except Exception:
        page.screenshot(path=str(screenshot_dir / f"lab_{Path(notebook).stem}_failed.png"))
        print(lab.log_tail())
        raise
    finally:
        page.close()
    assert page.console_errors == [] or all("favicon" in e for e in page.console_errors), (
        page.console_errors)
