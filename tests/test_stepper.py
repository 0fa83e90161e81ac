"""algos.stepper without a browser: the MIME bundle, the HTML player's markup, the live widget
driven through its Python API, refits, determinism and the no-leaked-figures promise."""

from __future__ import annotations

import base64
import html
import io
import json
import re
from types import SimpleNamespace

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from PIL import Image

from algos import gmm1d, kmeans, kmedoids, stepper
from algos._results import ClusterStep, MixtureStep

X4 = np.array([[0.0, -6.0], [4.0, 4.0], [0.0, 0.0], [-5.0, 2.0]])
X_EM = np.array([-1.0, 0.0, 4.0, 5.0, 6.0])
EM_INIT = ([0.5, 0.5], [6.0, 7.0], [1.0, 2.0])
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [4.0, 4.0], [0.0, 5.0]])
    return rng.normal(size=(n, 2)) + centres[np.arange(n) % 3]


@pytest.fixture
def km():
    return stepper.step_through("kmeans", X4, k=2, init=X4[[3, 0]])


@pytest.fixture
def em():
    return stepper.step_through("gmm1d", X_EM, k=2, init=EM_INIT, max_iter=10, tol=0)


def frame_srcs(html):
    """The PNG payloads embedded in a player (first frame from the <img>, others from JSON)."""
    return re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)


# ------------------------------------------------------------------ the fit it shows


def test_step_through_runs_the_real_fit(km, em):
    direct = kmeans.fit(X4, k=2, init=X4[[3, 0]])
    assert km.method == "kmeans"
    assert len(km.frames) == len(direct.history)
    for a, b in zip(km.frames, direct.history):
        assert a.kind == b.kind and a.iteration == b.iteration
        assert np.array_equal(a.centers, b.centers)
    assert np.array_equal(km.result.labels, direct.labels)
    # the seed's EM: ten iterations, 21 half-steps, the printed log-likelihood first
    assert len(em.frames) == 21
    assert em.frames[0].objective == pytest.approx(-24.512532330086678, abs=1e-10)
    assert np.allclose(em.result.means, [5.0, -0.5])


def test_kmedoids_passes_its_keywords():
    p = stepper.step_through("kmedoids", X4, k=2, init=X4[[3, 0]], metric="l1",
                             medoids_from="all")
    direct = kmedoids.fit(X4, k=2, init=X4[[3, 0]], metric="l1", medoids_from="all")
    assert np.array_equal(p.result.medoids, direct.medoids)
    assert p.metric == "l1"
    assert "among all points" in p.next_text(1)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: stepper.step_through("kmeens", X4, k=2), ValueError),
        (lambda: stepper.step_through("kmeans", X4), TypeError),
        (lambda: stepper.step_through("kmeans", X4, k=2, datasets=[X4]), TypeError),
        (lambda: stepper.step_through("kmeans", X4, k=2, datasets={1: X4}), TypeError),
        (lambda: stepper.step_through("kmeans", X4, k=9), ValueError),
    ],
)
def test_bad_input_is_rejected(call, error):
    with pytest.raises(error):
        call()


def test_a_hand_made_history_can_be_shown():
    history = (
        ClusterStep("init", 0, None, None, X4[[3, 0]]),
        ClusterStep("E", 1, 70.0, np.array([1, 0, 1, 0]), X4[[3, 0]]),
        ClusterStep("M", 1, 50.0, np.array([1, 0, 1, 0]), np.array([[-0.5, 3.0], [0.0, -3.0]])),
    )
    p = stepper.StepThrough("kmeans", X4, SimpleNamespace(history=history, converged=False,
                                                          n_iter=1))
    assert len(p) == 3 and p.frames == history
    assert p.next_text(2) == "Done: stopped at max_iter after 1 iteration, before converging."
    with pytest.raises(TypeError):
        stepper.StepThrough("gmm1d", X4, SimpleNamespace(history=history))
    with pytest.raises(ValueError):
        stepper.StepThrough("kmeans", X4, SimpleNamespace(history=()))


# ------------------------------------------------------------------ words


def test_texts_say_what_comes_next(km, em):
    assert km.next_text(0) == "Next: E-step, assign every point to its nearest centre"
    assert km.next_text(1) == "Next: M-step, move every centre to the mean of its points"
    assert km.next_text(2) == "Next: E-step, reassign every point to its nearest centre"
    assert km.next_text(len(km) - 1) == (
        "Done: converged after 2 iterations: no point changed cluster, so the M-step would "
        "give the same centres.")
    assert em.next_text(1).startswith("Next: M-step, re-estimate weights")
    # the seed's tenth M-step reproduces the ninth's parameters exactly: a fixed point that
    # tol=0 cannot flag as converged; title and "Done" say the same thing (issue 15)
    assert em.title(20) == "Iteration 10, after the M-step: parameters unchanged"
    assert em.next_text(20) == (
        "Done: stopped at max_iter after 10 iterations; the M-step left the parameters "
        "unchanged, so the next E-step would repeat the last one: the fit is at a fixed point.")
    assert km.title(0) == "Start: initial centres"
    assert km.title(2) == "Iteration 1, after the M-step: centres moved"
    assert em.objective_text(0) == "Log-likelihood: -24.5125"
    assert km.objective_text(0).endswith("not defined yet (no point is assigned)")
    assert km.objective_text(1) == f"Objective (sum of squared distances): {km.frames[1].objective:.6g}"
    assert km.position_text(2) == f"Half-step 3 of {len(km)}"


def test_alt_text_describes_each_frame(km, em):
    alts = [km.alt_text(i) for i in range(len(km))]
    assert len(set(alts)) == len(alts)
    # the first M-step's centres: the means of the first assignment, (-1/3, 2) and (0, -6)
    assert "(-0.33, 2.00), (0.00, -6.00)" in km.alt_text(2)
    means = em.frames[2].means
    assert f"mean {means[0]:.2f}" in em.alt_text(2) and f"mean {means[1]:.2f}" in em.alt_text(2)


# ------------------------------------------------------------------ one truth per frame


def _last_step_cases():
    """(method, data, fit keywords, kind of the last half-step, converged?) for every way a
    history can end: the start only, an E-step (a fixed point) and an M-step (by tolerance,
    a fixed point, or at max_iter)."""
    x5 = X_EM
    blob = blobs(60, seed=2)
    return [
        ("kmeans", X4, dict(k=2, init=X4[[3, 0]], max_iter=0), "init", False),
        ("kmeans", X4, dict(k=2, init=X4[[3, 0]]), "E", True),
        ("kmeans", blob, dict(k=3, init="random", seed=0, max_iter=1), "M", False),
        ("kmeans", blob, dict(k=3, init="random", seed=0, tol=0.5), "M", True),
        ("kmedoids", X4, dict(k=2, init=X4[[3, 0]], max_iter=0), "init", False),
        ("kmedoids", X4, dict(k=2, init=X4[[3, 0]], metric="l1"), "E", True),
        ("kmedoids", blob, dict(k=3, init="random", seed=0, max_iter=1), "M", False),
        ("kmedoids", blob, dict(k=3, init="random", seed=1), "M", True),
        ("gmm1d", x5, dict(k=2, init=EM_INIT, max_iter=0), "init", False),
        ("gmm1d", x5, dict(k=2, init=EM_INIT, max_iter=3, tol=0), "M", False),
        ("gmm1d", x5, dict(k=2, init=EM_INIT, max_iter=10, tol=0), "M", False),
        ("gmm1d", x5, dict(k=2, init=EM_INIT, tol=1e-3), "M", True),
    ]


@pytest.mark.parametrize("method, data, kwargs, last_kind, converged", _last_step_cases(),
                         ids=lambda v: v if isinstance(v, str) else None)
def test_one_truth_per_frame(method, data, kwargs, last_kind, converged):
    """Caption, live widget, text alternative and "Done" sentence of the last frame agree
    (the mixture player's last frame said "parameters updated" in its picture and
    "parameters unchanged" in its caption)."""
    p = stepper.step_through(method, data, **kwargs)
    last = len(p) - 1
    assert p.frames[-1].kind == last_kind and p.result.converged == converged
    texts = p.frame_texts(last)
    # the pictures carry no title: the sentence lives in one place only
    figures = p.draw(last)
    assert all(ax.get_title() == "" for fig in figures.values() for ax in fig.axes)
    assert all(not t.get_text().startswith(("Iteration", "Start")) for fig in figures.values()
               for t in fig.texts)
    # caption (HTML), widget title and alt text say the same sentence (the words are
    # compared, not the pictures, which to_html would draw for every frame)
    p.png = lambda *args, **kwargs: b"PNG"
    page = p.to_html()
    payload = json.loads(page.split('<script type="application/json">', 1)[1]
                         .split("</script>", 1)[0].replace("<\\/", "</"))
    assert payload[-1]["title"] == texts["title"] == p.title(last)
    c = controls(p)
    c.slider.value = len(p)
    assert c.title.value == f"<b>{html.escape(texts['position'])}: {html.escape(texts['title'])}</b>"
    assert texts["title"].lower() in texts["alt"].lower()
    # and the "Done" sentence agrees with the title about whether anything changed
    title, done = texts["title"], texts["next"]
    assert done.startswith("Done:") and done == payload[-1]["next"]
    if last_kind == "init":
        assert "no iteration was run" in done
        return
    nothing = title.endswith(("no point changed cluster", "unchanged"))
    assert nothing == ("fixed point" in done or "would give the same" in done
                       or "would repeat" in done)
    assert ("converged" in done and "before converging" not in done) == converged
    assert ("before converging" in done) == (not converged and not nothing)


# ------------------------------------------------------------------ the pictures


def test_objective_picture_shows_the_history_only_up_to_the_current_half_step(em):
    for i in (0, 5, 20):
        ax = em.draw(i)["objective"].axes[0]
        xs = np.concatenate([np.asarray(ln.get_xdata(), float) for ln in ax.lines])
        assert xs.max() == i and xs.min() == 0  # nothing drawn right of the current step
        # the axes span the whole history, so the picture does not jump while stepping
        assert ax.get_xlim() == (-0.5, len(em) - 0.5)
        lo, hi = ax.get_ylim()
        assert lo < min(s.objective for s in em.frames) < max(s.objective for s in em.frames) < hi
    assert "up to M2" in em.objective_alt_text(4) and "up to" not in em.objective_alt_text(20)


@pytest.mark.parametrize("fixture", ["km", "em"])
def test_picture_text_is_at_least_12_css_px(fixture, request):
    p = request.getfixturevalue(fixture)
    assert p.smallest_text_px() >= 12.0
    assert f'data-min-text-px="{p.smallest_text_px():.1f}"' in p.to_html()
    # each picture fits a 390 px phone's 358 px column, and both fit the book's 688 px column
    # side by side, also inside the padded panel the dark theme puts around HTML outputs
    # (342 and 656 px measured in Chromium)
    widths = [w for w, _ in p.panel_px.values()]
    assert max(widths) + 2 <= 342 and sum(widths) + 6 <= 656


@pytest.mark.parametrize("method, scale", [("kmeans", 1.0), ("kmedoids", 1.0), ("gmm1d", 1.0),
                                           ("kmedoids", 2.5), ("kmeans", -3000.0),
                                           ("gmm1d", -3000.0)])
def test_no_text_is_cut_at_the_picture_edges(method, scale):
    """Every label, tick label and legend entry lies inside its picture, whatever the width of
    the tick labels (the mixture's "density" label was cut at the left edge behind the band's
    "points" tick label; "x2" behind "-7.5" and "10.0" on the K-medoids outliers)."""
    if method == "gmm1d":
        p = stepper.step_through(method, X_EM * scale, k=2,
                                 init=([0.5, 0.5], [6.0 * scale, 7.0 * scale],
                                       [abs(scale), 2 * abs(scale)]), max_iter=3, tol=0)
    else:
        p = stepper.step_through(method, blobs(80) * [1.0, scale], k=3, init="random", seed=0)
    for i in (0, 1, len(p) - 1):
        for name, fig in p.draw(i).items():
            fig.canvas.draw()
            renderer = fig.canvas.get_renderer()
            undrawn = set()  # labels of ticks outside the view are kept but not drawn
            for ax in fig.axes:
                for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
                    lo, hi = sorted(lim)
                    for tick in axis.get_major_ticks():
                        if not lo - 1e-9 <= tick.get_loc() <= hi + 1e-9:
                            undrawn.update((tick.label1, tick.label2))
            for t in fig.findobj(Text):
                if t.get_visible() and t.get_text().strip() and t not in undrawn:
                    box = t.get_window_extent(renderer)
                    if box.width == 0:
                        continue
                    assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= fig.bbox.x1 + 1 \
                        and box.y1 <= fig.bbox.y1 + 1, (method, i, name, t.get_text(), box)


def test_mixture_legend_matches_what_is_drawn(em):
    fig = em.draw(3)["state"]
    (legend,) = fig.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == ["component 0", "component 1", "mixture", "responsibilities $r_{nk}$"]
    # the band's entry is solid blocks in the component colours, as the bars are drawn
    patches = [p for p in legend.findobj(Rectangle) if p.get_facecolor()[3] > 0
               and p is not legend.legendPatch]
    assert {to_hex(p.get_facecolor()) for p in patches} >= {"#0072b2", "#e69f00"}
    assert all(not p.get_hatch() for p in legend.findobj(Rectangle))


# ------------------------------------------------------------------ the MIME bundle


def test_mimebundle_has_widget_html_and_stable_text(km):
    bundle = km._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", WIDGET_MIME}
    assert bundle["text/plain"] == f"StepThrough(kmeans, {len(km)} half-steps)" == repr(km)
    view = bundle[WIDGET_MIME]
    assert view["version_major"] == 2 and view["model_id"] == km.widget().model_id
    # displayed twice: the same widget model, and the text stays the same
    again = km._repr_mimebundle_()
    assert again[WIDGET_MIME]["model_id"] == view["model_id"]
    assert again["text/plain"] == bundle["text/plain"]


def test_html_player_markup(km):
    page = km.to_html()
    for name in ("Previous step", "Next step", "Play", "Reset"):
        assert page.count(f">{name}</button>") == 1
    assert page.count('<input type="range" min="0" max="%d"' % (len(km) - 1)) == 1
    assert page.count('<img class="algos-player-state" src="data:image/png;base64,') == 1
    assert page.count('<img class="algos-player-curve" src="data:image/png;base64,') == 1
    assert f'alt="{html.escape(km.alt_text(0))}"' in page
    assert f'alt="{html.escape(km.objective_alt_text(0))}"' in page
    assert 'width="336" height="380"' in page and 'width="310" height="380"' in page
    # self-contained: no URL to anywhere but inline data
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)
    assert "http://" not in page and "https://" not in page and "@import" not in page
    # two PNGs per half-step (the first frame's in the <img>s, the others in the JSON data)
    srcs = frame_srcs(page)
    assert len(srcs) == 2 * len(km)
    assert len(set(srcs)) == 2 * len(km)
    # a JSON payload cannot close its own <script> element early
    data = page.split('<script type="application/json">', 1)[1].split("</script>", 1)[0]
    assert "</" not in data


def test_each_rendering_gets_its_own_id(km):
    ids = [re.search(r'id="(algos-player-[^"]+)"', km.to_html()).group(1) for _ in range(3)]
    assert len(set(ids)) == 3
    assert all(re.fullmatch(r"algos-player-[0-9a-f]{12}-\d+", i) for i in ids)
    # the script addresses its own player only
    page = km.to_html()
    pid = re.search(r'id="(algos-player-[^"]+)"', page).group(1)
    assert f'document.getElementById("{pid}")' in page and "__ID__" not in page


def test_frames_are_deterministic_and_compact(em):
    other = stepper.step_through("gmm1d", X_EM, k=2, init=EM_INIT, max_iter=10, tol=0)
    assert frame_srcs(em.to_html()) == frame_srcs(other.to_html())
    png = em.png(3, compact=True)
    assert png == other.png(3, compact=True)
    image = Image.open(io.BytesIO(png))
    # the website's pictures: 1.5 times the design size (sharp on high-density screens)
    assert image.mode == "P" and image.size == (504, 570)
    assert Image.open(io.BytesIO(em.png(3, panel="objective", compact=True))).size == (465, 570)
    assert not (set(image.info) & {"Software", "Creation Time", "date:create"})
    live = Image.open(io.BytesIO(em.png(3)))
    assert live.size == (336, 380)
    with pytest.raises(ValueError, match="panel"):
        em.png(3, panel="left")


def test_long_history_is_capped_first_and_last(em):
    em.max_html_frames = 8
    assert em.html_frame_indices() == [0, 1, 2, 3, 4, 5, 19, 20]
    page = em.to_html()
    assert len(frame_srcs(page)) == 16
    assert "the last two of 21" in page
    assert "Half-step 21 of 21" in page


def test_page_size_per_player_is_reported(em, km, capsys):
    sizes = {name: len(p.to_html().encode()) for name, p in (("kmeans", km), ("gmm1d", em))}
    print("player sizes in bytes:", sizes)
    assert max(sizes.values()) < 1_000_000


def test_no_figure_leaks_into_pyplot(km, em):
    plt.close("all")
    km._repr_mimebundle_()
    em.png(4)
    km.widget()
    assert plt.get_fignums() == []


# ------------------------------------------------------------------ the live widget


def controls(player):
    player.widget()
    return player._controls


def test_widget_buttons_and_labels(km):
    box = km.widget()
    c = controls(km)
    descriptions = [w.description for w in (c.prev, c.next, c.play_toggle, c.reset)]
    assert descriptions == ["Previous step", "Next step", "Play", "Reset"]
    assert all(w.tooltip for w in (c.prev, c.next, c.play_toggle, c.reset))
    assert (c.slider.min, c.slider.max) == (1, len(km))
    assert c.prev.disabled and not c.next.disabled
    assert c.next_text.value == html.escape(km.next_text(0))
    assert c.objective.value == html.escape(km.objective_text(0))
    assert c.image.value == km.png(0) and c.curve.value == km.png(0, panel="objective")
    assert c.metric.value == "l2" and c.dataset is None
    assert box.children[0].children[:4] == (c.prev, c.next, c.play_toggle, c.reset)
    assert box.children[1] is c.title and box.children[2].children == (c.image, c.curve)


def test_widget_next_previous_reset_redraw(km):
    c = controls(km)
    first = c.image.value
    c.next.click()
    assert c.index == 1 and c.slider.value == 2 and c.image.value != first
    assert c.title.value == f"<b>Half-step 2 of {len(km)}: {html.escape(km.title(1))}</b>"
    c.next.click()
    c.prev.click()
    assert c.index == 1
    c.slider.value = len(km)  # the slider counts half-steps from 1, as the caption does
    assert c.next.disabled and c.image.value == km.png(len(km) - 1)
    assert c.title.value.startswith(f"<b>Half-step {len(km)} of {len(km)}:")
    c.next.click()  # at the end: stays
    assert c.index == len(km) - 1
    c.play_toggle.value = True
    c.reset.click()
    assert c.index == 0 and c.image.value == first and not c.play_toggle.value


def test_widget_play_reads_pause_while_playing(km):
    c = controls(km)
    assert c.play_toggle.description == "Play"
    c.play_toggle.value = True  # what the browser sends when the button is pressed
    assert c.play_toggle.description == "Pause" and "Stop" in c.play_toggle.tooltip
    c.play_toggle.value = False  # pressed again, or the Play widget reached the end
    assert c.play_toggle.description == "Play"
    c.play_toggle.value = True
    c.reset.click()
    assert c.play_toggle.description == "Play"


# "Play" runs on the kernel's event loop; here asyncio.run stands in for the kernel's loop. It
# runs in a thread of its own: in the test process, Playwright's synchronous API (the browser
# tests' session fixture) leaves its own loop registered as running in the main thread, where
# asyncio.run would refuse to start and the widget would take that loop for a kernel's.


def in_fresh_thread(function, *args):
    """``function(*args)`` in a new thread (no event loop running there); its result, or its
    exception raised here."""
    import threading

    box = {}

    def run():
        try:
            box["value"] = function(*args)
        except BaseException as exc:  # re-raised in the test's thread
            box["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def play_and_watch(c, scenario, interval_ms=5):
    """Run ``scenario(c, shown)`` (a coroutine function) on an event loop, as a kernel runs the
    widget; ``shown`` collects every half-step the slider showed (1-based)."""
    import asyncio

    shown = []
    c.slider.observe(lambda change: shown.append(change["new"]), names="value")
    c.player.play_interval_ms = interval_ms

    async def main():
        await asyncio.wait_for(scenario(c, shown), timeout=60)
        assert c._playing is None
        assert asyncio.all_tasks() == {asyncio.current_task()}, "Play left a task running"

    in_fresh_thread(asyncio.run, main())
    return shown


async def until(condition, what, timeout_s=30.0):
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        assert loop.time() < deadline, f"the widget did not reach {what} in {timeout_s} s"
        await asyncio.sleep(0.001)


def test_widget_play_shows_every_half_step_then_stops(em):
    c = controls(em)
    n = len(em)
    assert n >= 8

    async def scenario(c, shown):
        c.play_toggle.value = True  # what the browser sends when "Play" is pressed
        assert c.play_toggle.description == "Pause" and c._playing is not None
        await until(lambda: not c.play_toggle.value, "the end")
        assert c.index == n - 1 and c.play_toggle.description == "Play"
        assert c.image.value == em.png(n - 1) and c.next.disabled
        # pressed at the last half-step it plays again from the first, as the website does
        shown.clear()
        c.play_toggle.value = True
        await until(lambda: not c.play_toggle.value, "the end again")

    shown = play_and_watch(c, scenario)
    assert shown == list(range(1, n + 1)), "Play skipped or repeated half-steps"


def small_player(method):
    """A step-through of each method with at least 8 half-steps and quick pictures."""
    X = blobs(60)
    if method == "gmm1d":
        return stepper.step_through("gmm1d", X_EM, k=2, init=EM_INIT, max_iter=10, tol=0)
    # the kmeans player offers a data set with fewer points than clusters: a refit that fails
    datasets = {"blobs": X, "two points": X4[:2]} if method == "kmeans" else None
    seed = {"kmeans": 2, "kmedoids": 1}[method]
    return stepper.step_through(method, X, k=3, init="random", seed=seed, datasets=datasets)


async def play_to(c, index):
    """Press "Play", wait until it shows ``index``; return the longest wait between two
    half-steps (a picture drawn and the interval), to know how long "stays there" must be."""
    import asyncio

    loop = asyncio.get_running_loop()
    c.play_toggle.value = True  # what the browser sends when "Play" is pressed
    tick, last, t = 0.0, c.index, loop.time()
    while c.index < index:
        await until(lambda: c.index != last, f"half-step {index + 1}")
        assert c.index == last + 1, "Play skipped a half-step"
        tick, last, t = max(tick, loop.time() - t), c.index, loop.time()
    return tick


async def stays(c, index, tick):
    """Assert the widget stays on ``index`` and is not playing, for three ticks of Play."""
    import asyncio

    assert c.index == index and not c.play_toggle.value and c._playing is None
    await asyncio.sleep(3 * tick + 0.02)
    assert c.index == index, f"after stopping at {index + 1} the widget moved to {c.index + 1}"
    assert not c.play_toggle.value and c.play_toggle.description == "Play"


@pytest.mark.parametrize("method", ["kmeans", "kmedoids", "gmm1d"])
def test_widget_reset_while_playing_returns_to_the_start(method):
    """Issue 12: "Reset" while playing lands on half-step 1 and stays there, for every method."""
    player = small_player(method)
    assert len(player) >= 8
    c = controls(player)
    first = (c.image.value, c.curve.value, c.title.value)

    async def scenario(c, shown):
        tick = await play_to(c, 3)
        c.reset.click()
        await stays(c, 0, tick)

    shown = play_and_watch(c, scenario)
    assert shown == [2, 3, 4, 1], "a half-step of the playing followed the Reset"
    assert (c.image.value, c.curve.value, c.title.value) == first
    assert c.title.value.startswith("<b>Half-step 1 of") and c.prev.disabled


#: What the reader does while playing, and the half-step (0-based) it must stop on when playing
#: was at ``i``.
STOPS = {
    "pause": lambda c: c.play_toggle.set_state({"value": False}),
    "next": lambda c: c.next.click(),
    "previous": lambda c: c.prev.click(),
    # the browser's update of the slider (the kernel's own ticks do not go through set_state)
    "slider": lambda c: c.slider.set_state({"value": 2}),
    # the reader lets go on the half-step Play has just shown: stop there all the same
    "slider where it is": lambda c: c.slider.set_state({"value": c.slider.value}),
    # a Dropdown's browser sends the index of the chosen option
    "init dropdown": lambda c: c.init.set_state({"index": [v for _, v in c.init.options]
                                                 .index("random")}),
    "seed": lambda c: c.seed.set_state({"value": 3}),
    "refit that fails": lambda c: c.dataset.set_state({"index": c.dataset.options
                                                       .index("two points")}),
}
STOPPED_AT = {"pause": lambda i: i, "next": lambda i: i + 1, "previous": lambda i: i - 1,
              "slider": lambda i: 1, "slider where it is": lambda i: i,
              "init dropdown": lambda i: 0, "seed": lambda i: 0, "refit that fails": lambda i: i}


@pytest.mark.parametrize("stop", list(STOPS))
def test_widget_stops_playing_at_once(stop):
    """Everything the reader does while playing, except "Play", stops it at once (as in the
    website's player): no half-step of the playing follows."""
    player = small_player("kmeans" if stop == "refit that fails" else "gmm1d")
    c = controls(player)
    history = player.result

    async def scenario(c, shown):
        tick = await play_to(c, 3)
        i = c.index
        STOPS[stop](c)
        await stays(c, STOPPED_AT[stop](i), tick)

    shown = play_and_watch(c, scenario)
    assert shown[:3] == [2, 3, 4]
    assert shown[-1] == c.index + 1
    if stop == "refit that fails":
        assert c.status.value.startswith("Could not re-run the fit") and player.result is history
        assert c.dataset.value == "blobs"


def test_widget_pause_next_previous_reset_then_play_again(em):
    """The buttons in a row, as a teacher presses them: Pause, Next, Previous, Reset while
    paused, Play again from the start, Pause and Play pressed quickly (one playing, never two
    at double speed), and Play at the last half-step starting again from the first."""
    import asyncio

    c = controls(em)
    n = len(em)

    async def scenario(c, shown):
        tick = await play_to(c, 3)
        c.play_toggle.value = False  # Pause
        await stays(c, 3, tick)
        c.next.click()
        await stays(c, 4, tick)
        c.prev.click()
        c.prev.click()
        await stays(c, 2, tick)
        c.reset.click()  # while paused
        await stays(c, 0, tick)
        assert await play_to(c, 2) > 0  # Play again, from the start
        c.play_toggle.value = False
        c.play_toggle.value = True
        c.play_toggle.value = False
        c.play_toggle.value = True
        await asyncio.sleep(0)  # the cancelled playings end
        playing = [t for t in asyncio.all_tasks() if t.get_coro().__name__ == "_play"]
        assert playing == [c._playing], "two playings at once"
        await play_to(c, 5)  # one half-step at a time: play_to checks that none is skipped
        c.slider.set_state({"value": n})  # the reader drags to the end
        await stays(c, n - 1, tick)
        shown.clear()
        c.play_toggle.value = True  # at the last half-step: again from the first
        await until(lambda: shown == [1, 2], "half-steps 1 and 2")
        c.reset.click()
        await stays(c, 0, tick)
        assert shown == [1, 2, 1]

    play_and_watch(c, scenario)


def test_widget_play_outside_an_event_loop_only_changes_the_label(km):
    c = controls(km)

    def script():
        c.play_toggle.value = True  # a script has no kernel loop to play on
        assert c.play_toggle.description == "Pause" and c._playing is None and c.index == 0
        c.reset.click()
        assert c.play_toggle.description == "Play"

    in_fresh_thread(script)


def test_widget_controls_wrap_instead_of_truncating(km):
    """In a narrow notebook (JupyterLab at 1024 x 768) rows wrap; no button shrinks below its
    label ("Previous ...", "Next s...", "P..." before) and widths are in em, not pixels."""
    box = km.widget()
    c = controls(km)
    rows = [w for w in box.children if isinstance(w, widgets.HBox)]
    assert len(rows) == 3 and all(r.layout.flex_flow == "row wrap" for r in rows)
    for b in (c.prev, c.next, c.play_toggle, c.reset):
        assert b.layout.width == "auto" and b.layout.flex == "0 0 auto"
    for w in (c.slider, c.k, c.init, c.seed, c.metric):
        assert "px" not in str(w.layout.width) and "px" not in str(w.layout.min_width)
        assert w.style.description_width == "initial"
    # long sentences are HTML (wrapping), not Label (which cuts them with "...")
    assert all(isinstance(w, widgets.HTML) for w in (c.title, c.next_text, c.objective))


def test_widget_refit_controls():
    X2 = blobs(150, seed=5) * [2.0, 0.5]
    X = blobs()
    p = stepper.step_through("kmeans", X, k=3, init="random", seed=0,
                             datasets={"blobs": X, "stretched": X2, "three points": X4[:3]})
    c = controls(p)
    assert c.dataset.options == ("blobs", "stretched", "three points")
    assert c.dataset.value == "blobs"
    assert list(c.init.options) == [("k-means++", "k-means++"), ("random", "random")]
    c.slider.value = 3
    c.k.value = 4
    assert p.fit_kwargs["k"] == 4 and p.frames[0].centers.shape == (4, 2)
    assert c.index == 0 and c.slider.max == len(p)
    direct = kmeans.fit(X, k=4, init="random", seed=0)
    assert np.array_equal(p.result.centers, direct.centers)
    c.dataset.value = "stretched"
    assert p.data.shape == (150, 2) and p.current_dataset() == "stretched"
    c.metric.value = "l1"
    assert np.array_equal(p.result.labels, kmeans.fit(X2, k=4, init="random", seed=0,
                                                      metric="l1").labels)
    c.seed.value = 7
    assert p.fit_kwargs["seed"] == 7
    c.k.value = 200  # the box stops at 12 clusters
    assert c.k.value == 12 and p.fit_kwargs["k"] == 12
    c.k.value = 4
    before = p.result
    c.dataset.value = "three points"  # fewer points than clusters: the fit refuses ...
    assert c.status.value.startswith("Could not re-run the fit") and "k" in c.status.value
    # ... and the widget keeps showing the last good fit, with its controls
    assert p.result is before and c.dataset.value == "stretched" and c.k.value == 4


def test_widget_explicit_start_is_offered_and_restored():
    p = stepper.step_through("kmeans", X4, k=2, init=X4[[3, 0]])
    c = controls(p)
    assert c.init.value == "explicit" and "explicit" in p.init_choices()
    c.k.value = 3  # a new k cannot use the given 2 centres: a generated start is used
    assert c.init.value == "k-means++" and p.frames[0].centers.shape == (3, 2)
    c.init.value = "explicit"  # back to the given start, with its k
    assert c.k.value == 2 and np.array_equal(p.frames[0].centers, X4[[3, 0]])


def test_gmm_widget_has_no_metric_and_its_own_inits(em):
    c = controls(em)
    assert c.metric is None
    assert [v for _, v in c.init.options] == ["kmeans", "random", "explicit"]
    c.init.value = "random"
    direct = gmm1d.fit(X_EM, k=2, init="random", seed=0, max_iter=10, tol=0)
    assert np.allclose(em.result.means, direct.means)


def test_refit_api_rejects_unknown_dataset(km):
    with pytest.raises(ValueError, match="dataset"):
        km.refit(dataset="nope")


def test_png_index_is_checked(km):
    with pytest.raises(IndexError):
        km.png(len(km))


def test_mixture_frames_come_from_the_history_not_a_refit(em, monkeypatch):
    # drawing must never call the algorithm again
    def boom(*a, **k):
        raise AssertionError("the stepper re-ran an algorithm step for display")

    for name in ("e_step", "m_step", "fit", "log_likelihood"):
        monkeypatch.setattr(gmm1d, name, boom)
    em._cache.clear()
    for i in range(len(em)):
        em.png(i)
    assert isinstance(em.frames[3], MixtureStep)


def test_base64_frames_decode_as_png(km):
    for src in frame_srcs(km.to_html()):
        assert Image.open(io.BytesIO(base64.b64decode(src))).format == "PNG"


# ------------------------------------------------------------------ nbval re-execution


def test_nbval_reexecution_matches_the_stored_outputs(tmp_path):
    """A notebook that displays players, executed and saved, passes ``pytest --nbval``:
    a fresh kernel reproduces text/plain and text/html exactly (the widget view's volatile
    model id is not compared by nbval), with the project's sanitize file."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import nbformat
    from nbclient import NotebookClient

    repo = Path(__file__).resolve().parents[1]
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import numpy as np\nfrom algos import stepper"),
        nbformat.v4.new_code_cell(
            "X = np.array([[0., -6.], [4., 4.], [0., 0.], [-5., 2.]])\n"
            "p = stepper.step_through('kmedoids', X, k=2, init=X[[3, 0]], metric='l1')\n"
            "from algos import kmedoids\n"
            "direct = kmedoids.fit(X, k=2, init=X[[3, 0]], metric='l1')\n"
            "assert np.array_equal(p.result.medoids, direct.medoids)\n"
            "p"),
        nbformat.v4.new_code_cell(
            "q = stepper.step_through('gmm1d', [-1, 0, 4, 5, 6], k=2,\n"
            "                         init=([.5, .5], [6, 7], [1, 2]), max_iter=10, tol=0)\n"
            "assert abs(q.frames[0].objective - -24.512532330086678) < 1e-10\n"
            "q"),
    ]
    env = dict(os.environ, PYTHONPATH=str(repo / "book"))
    NotebookClient(nb, kernel_name="python3", timeout=300,
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert [sorted(o["data"]) for o in outputs] == [
        ["application/vnd.jupyter.widget-view+json", "text/html", "text/plain"]] * 2
    path = tmp_path / "players.ipynb"
    nbformat.write(nb, path)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--rootdir", str(tmp_path), "-c", os.devnull,
         "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with", str(repo / "tests" / "sanitize.cfg"), str(path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "3 passed" in run.stdout
