"""The live explorer on the built website, driven as a reader drives it (headless Chromium).

Every chapter page is opened over http with every outside request blocked (and once from
``file://``). On each, the test changes k, chooses "placed by clicking" and clicks the start in,
steps, goes back, runs to the end and resets; after each action it reads what the explorer
shows (``window.algosExplorer.instances[0].state()``: the caption, the "Next: ..." sentence,
the objective, the half-step's labels and parameters) and compares the numbers with
``algos`` run in Python on the same data and start. It also saves screenshots (1280 px,
390 px, dark theme) in ``_build/screenshots/``, checks keyboard operation and accessible names,
and runs axe-core (from the pinned ``axe-playwright-python`` wheel) on the explorer.
"""

from __future__ import annotations

import json
import re
from importlib.resources import files
from urllib.parse import urljoin

import numpy as np
import pytest

from algos import gmm, gmm1d, kmeans, kmedoids
from conftest import SITE_DIR, open_offline_page, wait_until_quiet

CHAPTERS = {"book/kmeans.html": "kmeans", "book/kmedoids.html": "kmedoids",
            "book/gmm_em.html": "gmm1d", "book/gmm_2d.html": "gmm"}
FIT = {"kmeans": kmeans.fit, "kmedoids": kmedoids.fit, "gmm1d": gmm1d.fit, "gmm": gmm.fit}
AXE = files("axe_playwright_python") / "axe.min.js"
CONFIG = re.compile(r'<div class="algos-explorer" data-method="(\w+)">\s*'
                    r'<script type="application/json">(.*?)</script>', re.S)


def embedded_config(page):
    """The data sets and settings the built page embeds (what explorer.py wrote)."""
    found = CONFIG.findall((SITE_DIR / page).read_text(encoding="utf-8"))
    assert len(found) == 1, f"{page} holds {len(found)} explorers, expected 1"
    return json.loads(found[0][1])


def open_explorer(page, url):
    page.goto(url, wait_until="load")
    page.wait_for_function("() => document.querySelector('div.algos-explorer[data-ready]')",
                           timeout=20_000)
    root = page.locator("div.algos-explorer")
    assert root.get_attribute("data-ready") == "1", root.inner_text()
    root.scroll_into_view_if_needed()
    return root


def state(page):
    return page.evaluate("() => window.algosExplorer.instances[0].state()")


def click_data(page, x, y=0.0):
    """Click the plot where the data point (x, y) is drawn (the plot centred in the window,
    clear of the theme's sticky header)."""
    page.locator("div.algos-explorer canvas.ae-plot").evaluate(
        "el => el.scrollIntoView({block: 'center'})")
    at = page.evaluate("([x, y]) => window.algosExplorer.instances[0].clientPoint(x, y)", [x, y])
    page.mouse.click(at["x"], at["y"])


def click_tolerance(page):
    """How far from its target a click may land, in data units: 0.05, or one CSS pixel of the
    plot where the view is wider (2-D EM keeps one unit as long on both axes)."""
    per_pixel = page.evaluate("""() => { const v = window.algosExplorer.instances[0].view;
        return (v.xlim[1] - v.xlim[0]) / v.area.width; }""")
    return max(0.05, per_pixel)


def painted_pixels(page, selector="canvas.ae-plot"):
    """How many pixels of a canvas are neither white nor grey (drawn in a colour)."""
    return page.evaluate(
        """sel => {
            const c = document.querySelector('div.algos-explorer ' + sel);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) {
                const r = d[i], g = d[i + 1], b = d[i + 2];
                if (Math.max(r, g, b) - Math.min(r, g, b) > 40) n++;
            }
            return n;
        }""",
        selector,
    )


def contrast(fg, bg):
    """WCAG contrast ratio of two CSS rgb()/rgba() colours (bg must be opaque)."""
    def luminance(css):
        r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css)[:3])
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    assert not bg.startswith("rgba") or bg.endswith(", 1)"), f"background {bg} is not opaque"
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def button(root, name):
    return root.get_by_role("button", name=name, exact=True)


def disabled(root, name):
    return button(root, name).get_attribute("aria-disabled") == "true"


def wait_for_end(page, timeout=90_000):
    page.wait_for_function(
        "() => { const s = window.algosExplorer.instances[0].state();"
        " return s.done && s.index === s.computed - 1 && !s.running; }", timeout=timeout)


# --------------------------------------------------------------------------- what to do per chapter

def plan(method, config):
    """(data set name, k, start clicks as data coordinates) for one chapter's scenario."""
    sets = {s["name"]: np.array(s["data"], dtype=float) for s in config["datasets"]}
    if method == "kmeans":
        name = "four blobs"
        X = sets[name]
        return name, 3, [tuple(X[i]) for i in (0, 80, 160)]
    if method == "kmedoids":
        name = "three groups + 4 outliers"
        X = sets[name]
        # an outlier and, in each group, its most isolated point (a click cannot miss it)
        gaps = np.sort(np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1)), axis=1)[:, 1]
        rows = [75] + [int(g * 25 + np.argmax(gaps[g * 25:(g + 1) * 25])) for g in range(3)]
        return name, 4, [tuple(X[r]) for r in rows]
    if method == "gmm":  # the three groups of the covariance-type section, near their middles
        return "three shapes", 3, [(0.0, 0.0), (5.5, -3.0), (0.5, -5.0)]
    name = "three bumps"
    return name, 3, [(-5.0, 0.0), (0.5, 0.0), (5.0, 0.0)]


def reference(method, data, k, step_state, covariance_type="full"):
    """algos' fit from the start the explorer shows at its first half-step."""
    init = step_state
    if method == "gmm":
        return gmm.fit(data, k=k, covariance_type=covariance_type,
                       init=(init["weights"], init["means"], init["covariances"]))
    if method == "gmm1d":
        return gmm1d.fit(data, k=k, init=(init["weights"], init["means"], init["sigmas"]))
    if method == "kmedoids":
        return kmedoids.fit(data, k=k, init=np.array(init["medoid_indices"]))
    return kmeans.fit(data, k=k, init=np.array(init["centers"]))


def assert_step_equals(method, shown, expected, where):
    assert shown["kind"] == expected.kind and shown["iteration"] == expected.iteration, where
    if expected.objective is not None:
        assert shown["objective"] == pytest.approx(expected.objective, rel=1e-9), where
    if method == "gmm1d":
        for name in ("weights", "means", "sigmas"):
            np.testing.assert_allclose(shown[name], getattr(expected, name), rtol=1e-9, err_msg=where)
        return
    if method == "gmm":
        for name in ("weights", "means"):
            np.testing.assert_allclose(shown[name], getattr(expected, name), rtol=1e-9, err_msg=where)
        size = np.abs(expected.covariances).max()  # an entry that cancels to 0 has no size
        np.testing.assert_allclose(shown["covariances"], expected.covariances, rtol=1e-9,
                                   atol=1e-9 * size, err_msg=where)
        assert tuple(shown["dead"]) == expected.dead, where
        return
    if expected.labels is not None:
        assert np.array_equal(shown["labels"], expected.labels), where
    np.testing.assert_allclose(shown["centers"], expected.centers, rtol=1e-9, err_msg=where)
    if method == "kmedoids":
        assert shown["medoid_indices"] == expected.medoid_indices.tolist(), where


@pytest.mark.parametrize("page_name", sorted(CHAPTERS))
def test_reader_drives_the_explorer(browser_context, site_url, screenshot_dir, page_name):
    method = CHAPTERS[page_name]
    config = embedded_config(page_name)
    page = open_offline_page(browser_context)
    try:
        root = open_explorer(page, urljoin(site_url, page_name))
        # one script and one style sheet from the site, nothing inlined
        assert page.locator("script[src*='_static/explorer/explorer.js']").count() == 1
        assert page.locator("link[href*='_static/explorer/explorer.css']").count() == 1

        # --- as the page opens: the player's start, on the chapter's first data set
        s = state(page)
        first = config["datasets"][0]
        assert s["dataset"] == first["name"] and s["n"] == len(first["data"]) and s["index"] == 0
        assert s["k"] == config["k"] and s["start"] == "player"
        assert s["caption"].startswith("Start: initial")
        assert s["next"].startswith("Next: E-step, ")
        assert painted_pixels(page) > 300, "the plot is not drawn"
        data0 = np.array(first["data"], dtype=float)
        player_run = reference(method, data0, config["k"], s["init"])
        if method == "gmm":
            assert s["covariance_type"] == config["covariance_type"]
            assert {name: s["init"][name] for name in config["init"]} == config["init"]
        elif method == "gmm1d":
            assert s["init"]["means"] == config["init"]["means"]
        elif method == "kmedoids":
            assert s["init"]["medoid_indices"] == config["init"]
        else:
            assert s["init"]["centers"] == config["init"]
        button(root, "Step").click()
        assert_step_equals(method, state(page)["step"], player_run.history[1], "first step")
        page.screenshot(path=str(screenshot_dir / f"explorer_{method}_player_start.png"))

        # --- another data set and k: the start falls back to a seeded one
        name, k, clicks = plan(method, config)
        root.get_by_role("combobox", name="Data set").select_option(label=name)
        kbox = root.get_by_role("spinbutton", name=re.compile(r"(Clusters|Components) k"))
        kbox.fill(str(k))
        kbox.press("Enter")
        s = state(page)
        assert s["dataset"] == name and s["k"] == k and s["index"] == 0
        assert s["start"] in ("k-means++", "kmeans"), s["start"]
        assert s["init"] is not None
        n_k = len(s["init"]["means"] if method.startswith("gmm") else s["init"]["centers"])
        assert n_k == k
        data = np.array([d for d in config["datasets"] if d["name"] == name][0]["data"], dtype=float)
        covariance_type = "full"
        if method == "gmm":  # the covariance type: the seeded start takes the type's form
            types = root.get_by_role("combobox", name="Covariance type")
            types.select_option(value="diag")
            s = state(page)
            covs = np.array(s["init"]["covariances"])
            assert s["covariance_type"] == "diag" and np.all(covs[:, 0, 1] == 0), covs
            types.select_option(value="tied")
            s = state(page)
            assert s["covariance_type"] == "tied" and s["start"] == "kmeans"
            assert np.all(np.array(s["init"]["covariances"]) == s["init"]["covariances"][0])
            covariance_type = "tied"

        # --- place the start by clicking
        root.get_by_role("combobox", name="Start").select_option(value="placed")
        s = state(page)
        assert s["start"] == "placed" and s["init"] is None and disabled(root, "Step")
        assert "of %d" % k in s["hint"] and s["hint"].startswith("Click on the plot")
        before = painted_pixels(page)
        for j, (x, y) in enumerate(clicks):
            click_data(page, x, y)
            assert len(state(page)["placed"]) == j + 1
        s = state(page)
        assert not disabled(root, "Step") and s["index"] == 0
        assert s["hint"].startswith(f"All {k} starting")
        placed = s["placed"]
        if method in ("kmeans", "gmm"):
            np.testing.assert_allclose(placed, clicks, atol=click_tolerance(page))
        elif method == "kmedoids":
            rows = [int(np.flatnonzero((data == c).all(axis=1))[0]) for c in clicks]
            assert placed == rows, (placed, rows)
        else:
            np.testing.assert_allclose(placed, [c[0] for c in clicks], atol=0.05)
        fit = reference(method, data, k, s["init"], covariance_type)
        assert painted_pixels(page) != before  # the placed start is drawn

        # --- Step, Step, Back
        button(root, "Step").click()
        s = state(page)
        assert s["index"] == 1
        assert_step_equals(method, s["step"], fit.history[1], "E1")
        assert s["caption"] == ("Iteration 1, after the E-step: responsibilities updated"
                                if method.startswith("gmm") else "Iteration 1, after the E-step: points assigned")
        assert s["objective_text"].endswith(format(fit.history[1].objective, ".6g"))
        assert s["next"].startswith("Next: M-step, ")
        button(root, "Step").click()
        s = state(page)
        assert_step_equals(method, s["step"], fit.history[2], "M1")
        assert s["caption"].startswith("Iteration 1, after the M-step: ")
        page.screenshot(path=str(screenshot_dir / f"explorer_{method}_after_M1.png"))
        root.screenshot(path=str(screenshot_dir / f"explorer_{method}_1280.png"))
        button(root, "Back").click()
        s = state(page)
        assert s["index"] == 1 and s["caption"].startswith("Iteration 1, after the E-step")
        assert_step_equals(method, s["step"], fit.history[1], "back to E1")

        # --- Run: animated to the end, Run reads Pause meanwhile
        button(root, "Run").click()
        assert button(root, "Pause").count() == 1 and state(page)["running"]
        wait_for_end(page)
        s = state(page)
        assert button(root, "Run").count() == 1 and disabled(root, "Run") and disabled(root, "Step")
        assert s["computed"] == len(fit.history) and s["converged"] == fit.converged
        assert_step_equals(method, s["step"], fit.history[-1], "the end")
        its = f"{fit.n_iter} iteration{'s' if fit.n_iter != 1 else ''}"
        assert s["next"] == (f"Done: converged after {its}; another step would change nothing."
                             if fit.converged else
                             f"Done: stopped after {its} (max_iter) before converging.")
        assert s["objective_text"].endswith(format(fit.history[-1].objective, ".6g"))
        assert painted_pixels(page, "canvas.ae-chart") > 50  # the objective so far is drawn

        # --- Reset
        button(root, "Reset").click()
        s = state(page)
        assert s["index"] == 0 and s["caption"].startswith("Start: initial") and disabled(root, "Back")
        assert_step_equals(method, s["step"], fit.history[0], "reset")

        # --- a click with all k placed moves the nearest start there
        cx, cy = clicks[0]
        if method == "kmedoids":  # a group medoid's nearest neighbour becomes that medoid
            dist = ((data - data[placed[1]]) ** 2).sum(axis=1)
            dist[placed] = np.inf
            target = int(np.argmin(dist))
            click_data(page, *data[target])
            moved = state(page)["placed"]
            assert moved == [placed[0], target] + placed[2:], (moved, target, placed)
        else:
            click_data(page, cx + 0.3, cy)
            moved = state(page)["placed"]
            first = moved[0] if method == "gmm1d" else moved[0][0]
            assert first == pytest.approx(cx + 0.3, abs=click_tolerance(page)), moved
            assert moved[1:] == placed[1:], moved
        assert state(page)["index"] == 0 and state(page)["init"] is not None

        # --- a phone, and the dark theme
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        root.scroll_into_view_if_needed()
        layout = root.evaluate("""el => ({
            overflow: el.scrollWidth - el.clientWidth,
            pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
            plot: el.querySelector('canvas.ae-plot').getBoundingClientRect().width,
            smallest: Math.min(...[...el.querySelectorAll('*')]
                .filter(e => e.offsetParent !== null && e.childNodes.length &&
                             [...e.childNodes].some(c => c.nodeType === 3 && c.textContent.trim()))
                .map(e => parseFloat(getComputedStyle(e).fontSize))),
        })""")
        assert layout["overflow"] <= 0 and layout["pageOverflow"] <= 0, layout
        assert layout["plot"] >= 280, layout
        assert layout["smallest"] >= 12, layout
        root.screenshot(path=str(screenshot_dir / f"explorer_{method}_390.png"))
        page.set_viewport_size({"width": 1280, "height": 900})
        page.evaluate("() => { document.documentElement.dataset.theme = 'dark'; }")
        page.wait_for_timeout(200)
        colours = root.evaluate("""el => [getComputedStyle(el).backgroundColor,
            ...['.ae-title', '.ae-caption', '.ae-next', '.ae-hint', 'button', 'select']
               .map(s => getComputedStyle(el.querySelector(s)).color)]""")
        background = colours[0]
        for colour in colours[1:]:
            assert contrast(colour, background) >= 4.5, (colour, background)
        root.screenshot(path=str(screenshot_dir / f"explorer_{method}_dark.png"))
        wait_until_quiet(page)
    finally:
        page.close()
    assert page.outside_requests == [], page.outside_requests
    assert page.console_errors == [], page.console_errors


def test_explorer_works_from_a_file_url(browser_context, built_site):
    page = open_offline_page(browser_context)
    try:
        root = open_explorer(page, (built_site / "book" / "kmeans.html").as_uri())
        button(root, "Step").click()
        button(root, "Step").click()
        s = state(page)
        assert s["index"] == 2 and s["caption"].startswith("Iteration 1, after the M-step")
        assert painted_pixels(page) > 300
    finally:
        page.close()
    assert page.outside_requests == [] and page.console_errors == []


def test_only_pages_with_an_explorer_load_its_script(built_site):
    for html in built_site.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        has = 'class="algos-explorer"' in text
        loads = text.count("_static/explorer/explorer.js")
        assert loads == (1 if has else 0), f"{html}: explorer {has}, script tags {loads}"
    assert (built_site / "_static" / "explorer" / "explorer.css").is_file()


def test_drawn_data_set(browser_context, site_url):
    """Clicks add points to a drawn data set, the run uses them, and Clear removes them."""
    page = open_offline_page(browser_context)
    try:
        root = open_explorer(page, urljoin(site_url, "book/kmeans.html"))
        root.get_by_role("combobox", name="Data set").select_option(label="your own points (click to add)")
        assert state(page)["n"] == 0 and button(root, "Clear points").is_visible()
        kbox = root.get_by_role("spinbutton", name="Clusters k")
        kbox.fill("2")
        kbox.press("Enter")
        assert "needs at least 2 points" in state(page)["hint"] and disabled(root, "Step")
        points = [(1.0, 1.0), (1.5, 2.0), (2.0, 1.2), (8.0, 8.0), (8.5, 7.0)]
        for x, y in points:
            click_data(page, x, y)
        s = state(page)
        assert s["n"] == 5 and s["hint"].startswith("Click on the plot") and not disabled(root, "Step")
        button(root, "Run").click()
        wait_for_end(page)
        s = state(page)
        # the run's own start, through algos: the same answer on the points drawn
        X = np.array(page.evaluate("() => window.algosExplorer.instances[0].points"))
        np.testing.assert_allclose(X, points, atol=0.05)
        fit = kmeans.fit(X, k=2, init=np.array(s["init"]["centers"]))
        assert np.array_equal(s["step"]["labels"], fit.labels)
        assert sorted(np.bincount(fit.labels).tolist()) == [2, 3]
        button(root, "Clear points").click()
        assert state(page)["n"] == 0 and disabled(root, "Step")
    finally:
        page.close()
    assert page.outside_requests == [] and page.console_errors == []


# --------------------------------------------------------------------------- keyboard and a11y

def focused(page):
    return page.evaluate("""() => {
        const a = document.activeElement;
        if (!a || !a.closest('div.algos-explorer')) return null;
        const label = a.closest('label');
        return (a.tagName + ' ' + (a.textContent.trim() && a.tagName === 'BUTTON' ? a.textContent.trim()
                : (label ? label.firstChild.textContent : (a.getAttribute('aria-label') || '')))).trim();
    }""")


def test_keyboard_reaches_and_operates_every_control(browser_context, site_url):
    page = open_offline_page(browser_context)
    try:
        root = open_explorer(page, urljoin(site_url, "book/kmeans.html"))
        root.get_by_role("combobox", name="Start").select_option(value="placed")
        root.get_by_role("combobox", name="Data set").focus()
        seen = [focused(page)]
        for _ in range(20):
            page.keyboard.press("Tab")
            now = focused(page)
            if now is None:
                break
            seen.append(now)
        assert seen == ["SELECT Data set", "INPUT Clusters k", "SELECT Metric", "SELECT Start",
                        "BUTTON Step", "BUTTON Back", "BUTTON Run", "BUTTON Reset",
                        "CANVAS Plot: click, or use the arrow keys and Enter, to place the start"], seen

        # place the start from the keyboard: move the cross, Enter places a centre
        plot = root.locator("canvas.ae-plot")
        plot.focus()
        for key in ["ArrowLeft"] * 10 + ["Enter"] + ["ArrowRight"] * 20 + ["Enter"] + \
                   ["ArrowUp"] * 12 + [" "] + ["ArrowDown"] * 25 + ["Shift+ArrowLeft", "Enter"]:
            page.keyboard.press(key)
        s = state(page)
        assert len(s["placed"]) == 4 and s["init"] is not None
        assert len({tuple(p) for p in s["placed"]}) == 4

        # Enter and Space operate the buttons; focus stays on them
        button(root, "Step").focus()
        page.keyboard.press("Enter")
        page.keyboard.press(" ")
        assert state(page)["index"] == 2
        button(root, "Back").focus()
        page.keyboard.press("Enter")
        assert state(page)["index"] == 1
        button(root, "Run").focus()
        page.keyboard.press("Enter")
        assert state(page)["running"]
        page.keyboard.press(" ")  # the same button now reads Pause
        assert not state(page)["running"]
        button(root, "Reset").focus()
        page.keyboard.press(" ")
        assert state(page)["index"] == 0

        # the k box and the selects from the keyboard
        kbox = root.get_by_role("spinbutton", name="Clusters k")
        kbox.focus()
        page.keyboard.press("ArrowDown")
        assert state(page)["k"] == 3
        root.get_by_role("combobox", name="Metric").focus()
        page.keyboard.press("ArrowDown")
        assert state(page)["metric"] == "l1"
    finally:
        page.close()
    assert page.outside_requests == [] and page.console_errors == []


def axe_violations(page):
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
        // preload: false - axe would fetch the theme's @import-ed style sheets itself and
        // resolve one against the wrong base (a 404 for /basic.css); only its
        // css-orientation-lock rule reads them
        const r = await axe.run(document.querySelectorAll('div.algos-explorer'),
                                {resultTypes: ['violations'], preload: false});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.map(n => n.target.join(' '))}));
    }""")
    return result


@pytest.mark.parametrize("page_name", sorted(CHAPTERS))
def test_no_serious_accessibility_violation(browser_context, site_url, page_name):
    page = open_offline_page(browser_context)
    try:
        root = open_explorer(page, urljoin(site_url, page_name))
        for name in ("Step", "Back", "Run", "Reset"):
            assert button(root, name).count() == 1, name
        assert root.get_by_role("spinbutton", name=re.compile("k$")).count() == 1
        assert root.get_by_role("combobox", name="Data set").count() == 1
        assert root.get_by_role("combobox", name="Start").count() == 1
        assert root.get_by_role("combobox", name="Covariance type").count() == \
            (CHAPTERS[page_name] == "gmm")
        assert root.get_by_role("img", name=re.compile("so far|no value yet|no run")).count() == 1
        button(root, "Step").click()
        found = {}
        for theme, width in (("light", 1280), ("dark", 1280), ("light", 390)):
            page.set_viewport_size({"width": width, "height": 900})
            page.evaluate(f"() => {{ document.documentElement.dataset.theme = '{theme}'; }}")
            root.get_by_role("combobox", name="Start").select_option(value="placed")
            found[(theme, width)] = [v for v in axe_violations(page)
                                     if v["impact"] in ("serious", "critical")]
            root.get_by_role("combobox", name="Start").select_option(index=0)
    finally:
        page.close()
    assert all(v == [] for v in found.values()), found
    assert page.console_errors == [], page.console_errors


def test_axe_finds_a_planted_violation(browser_context, tmp_path):
    """The accessibility check works: an unlabelled button inside an explorer div is caught."""
    (tmp_path / "bad.html").write_text(
        "<!doctype html><html lang='en'><head><title>bad</title></head><body><main>"
        "<div class='algos-explorer'><button></button><input type='number'></div>"
        "</main></body></html>", encoding="utf-8")
    page = browser_context.new_page()
    try:
        page.goto((tmp_path / "bad.html").as_uri())
        ids = {v["id"] for v in axe_violations(page) if v["impact"] in ("serious", "critical")}
    finally:
        page.close()
    assert {"button-name", "label"} <= ids, ids
