"""algos.plotting: each function draws what the history says, labelled, in the palette, and
never re-runs the algorithm. A gallery of every function's output for a K-means, a K-medoids
and an EM history is written to _build/screenshots/ for people to look at."""

from __future__ import annotations

import base64
import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_hex, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.transforms import Bbox
from PIL import Image

from algos import gmm1d, kmeans, kmedoids, plotting
from algos._results import ClusterStep, MixtureStep

X4 = np.array([[0.0, -6.0], [4.0, 4.0], [0.0, 0.0], [-5.0, 2.0]])
X_EM = np.array([-1.0, 0.0, 4.0, 5.0, 6.0])
EM_INIT = ([0.5, 0.5], [6.0, 7.0], [1.0, 2.0])


def blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [4.0, 4.0], [0.0, 5.0], [5.0, 0.0]])
    return rng.normal(size=(n, 2)) + centres[np.arange(n) % 4]


def new_ax():
    return Figure(figsize=(5, 4)).subplots()


@pytest.fixture(scope="module")
def km():
    return kmeans.fit(X4, k=2, init=X4[[3, 0]])


@pytest.fixture(scope="module")
def em():
    return gmm1d.fit(X_EM, k=2, init=EM_INIT, max_iter=10, tol=0)


def test_palette_is_okabe_ito():
    assert plotting.PALETTE == ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2",
                                "#D55E00", "#CC79A7", "#000000")
    assert set(plotting.PALETTE) - {"#000000"} <= set(plotting.CLUSTER_COLORS)


def test_at_least_ten_distinct_colour_and_marker_pairs():
    """K = 8 reused a pair before; now the first ten clusters differ in colour and in
    marker, and the first 60 in their colour-and-marker pair."""
    colours = [plotting.cluster_color(j) for j in range(10)]
    markers = [plotting.cluster_marker(j) for j in range(10)]
    assert len(set(colours)) == 10 and len(set(markers)) == 10
    pairs = {(plotting.cluster_color(j), plotting.cluster_marker(j)) for j in range(60)}
    assert len(pairs) == 60
    assert "#000000" not in plotting.CLUSTER_COLORS  # black is for centres and curves
    assert plotting.UNASSIGNED_COLOR not in plotting.CLUSTER_COLORS


# Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of
# color vision deficiency", severity 1.0 matrices (linear RGB).
_CVD = {
    "normal": np.eye(3),
    "protan": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                        [-0.003882, -0.048116, 1.051998]]),
    "deutan": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                        [-0.011820, 0.042940, 0.968881]]),
    "tritan": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                        [0.004733, 0.691367, 0.303900]]),
}


def _lab(hex_colour, matrix):
    """CIELAB (D65) of an sRGB colour as seen through a colour-vision simulation."""
    srgb = np.array(to_rgba(hex_colour)[:3])
    lin = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    lin = np.clip(matrix @ lin, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ lin / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_cluster_colours_stay_apart_with_colour_vision_deficiencies():
    """Every pair of the ten cluster colours differs by at least 15 (CIELAB Delta E) for
    normal vision and simulated protan-, deutan- and tritanopia: no worse than the
    Okabe-Ito colours among themselves (their closest pair, orange and yellow for a deutan
    viewer, is 17)."""
    for name, matrix in _CVD.items():
        labs = [_lab(c, matrix) for c in plotting.CLUSTER_COLORS]
        closest = min(np.linalg.norm(a - b) for i, a in enumerate(labs) for b in labs[i + 1:])
        assert closest >= 15.0, (name, closest)
    # the check can fail: blue and a slightly different blue are too close
    labs = [_lab(c, _CVD["deutan"]) for c in ("#0072B2", "#0a6fb8")]
    assert np.linalg.norm(labs[0] - labs[1]) < 15.0


# ------------------------------------------------------------------ titles


def test_describe_step_says_where_we_are(km, em):
    h = km.history
    assert plotting.describe_step(h[0]) == "Start: initial centres"
    assert plotting.describe_step(h[1], h[0]) == "Iteration 1, after the E-step: points assigned"
    assert plotting.describe_step(h[2]) == "Iteration 1, after the M-step: centres moved"
    assert plotting.describe_step(h[2], h[1]) == "Iteration 1, after the M-step: centres moved"
    assert plotting.describe_step(h[3], h[2]) == (
        "Iteration 2, after the E-step: no point changed cluster")
    med = kmedoids.fit(X4, k=2, init=X4[[3, 0]])
    assert plotting.describe_step(med.history[0]) == "Start: initial medoids"
    assert plotting.describe_step(em.history[0]) == "Start: initial parameters"
    assert plotting.describe_step(em.history[1]) == (
        "Iteration 1, after the E-step: responsibilities updated")
    assert plotting.describe_step(em.history[2], em.history[1]) == (
        "Iteration 1, after the M-step: parameters updated")


def test_describe_step_counts_reassigned_points_and_names_empty_clusters():
    c = np.zeros((3, 2))
    e1 = ClusterStep("E", 1, 1.0, np.array([0, 0, 1, 1]), c)
    m1 = ClusterStep("M", 1, 1.0, np.array([0, 0, 1, 1]), c + 1, empty=(2,))
    e2 = ClusterStep("E", 2, 1.0, np.array([0, 1, 1, 2]), c + 1)
    assert plotting.describe_step(e2, m1) == "Iteration 2, after the E-step: 2 points reassigned"
    assert plotting.describe_step(m1, e1) == (
        "Iteration 1, after the M-step: centres moved (cluster 2 empty: centre kept)")
    same = ClusterStep("M", 2, 1.0, e2.labels, e2.centers)
    assert plotting.describe_step(same, e2) == "Iteration 2, after the M-step: centres unchanged"


@pytest.mark.parametrize("bad", [None, "E", object()])
def test_describe_step_rejects_non_steps(bad):
    with pytest.raises(TypeError, match="step"):
        plotting.describe_step(bad)


# ------------------------------------------------------------------ clusters


def lines_with_marker(ax, marker):
    return [ln for ln in ax.lines if ln.get_marker() == marker]


def test_plot_clusters_points_centres_labels(km):
    ax = new_ax()
    step = km.history[1]
    out = plotting.plot_clusters(step, X4, ax=ax, previous=km.history[0])
    assert out is ax
    assert ax.get_title() == "Iteration 1, after the E-step: points assigned"
    assert ax.get_xlabel() and ax.get_ylabel()
    # one set of points per cluster, in its colour and marker, holding exactly its members
    for j in range(2):
        (pts,) = [ln for ln in ax.lines if ln.get_marker() == plotting.cluster_marker(j)
                  and ln.get_markersize() < 10]
        assert to_rgba(pts.get_color()) == to_rgba(plotting.cluster_color(j))
        assert np.array_equal(np.c_[pts.get_xdata(), pts.get_ydata()], X4[step.labels == j])
    centres = [ln for ln in lines_with_marker(ax, "X") if ln.get_markersize() > 10]
    assert [tuple(np.r_[c.get_xdata(), c.get_ydata()]) for c in centres] == [
        tuple(c) for c in step.centers]
    assert not ax.texts or all(t.get_text() == "" for t in ax.texts)  # no arrows on an E-step


def _owner(regions, points):
    """Index of the region polygon holding each point (-1 if none), by ray casting."""
    from matplotlib.path import Path

    owner = np.full(len(points), -1)
    for j, poly in regions:
        inside = Path(poly).contains_points(points)
        assert not np.any(inside & (owner >= 0)), "two regions overlap"
        owner[inside] = j
    return owner


@pytest.mark.parametrize("metric", ["l2", "l1"])
@pytest.mark.parametrize("case", ["random", "ties"])
def test_nearest_centre_regions_are_exact(metric, case):
    """Every point of the box lies in the polygon of its nearest centre (the E-step's answer,
    ties to the lowest index), and the polygons tile the box: exact cells, no raster."""
    rng = np.random.default_rng(1)
    if case == "random":
        centers = rng.uniform(-5, 5, size=(6, 2))
    else:  # a duplicate centre, and l1's diagonal ties (|dx| = |dy| between two centres)
        centers = np.array([[0.0, 0.0], [2.0, 2.0], [0.0, 0.0], [4.0, -1.0]])
    box = (-8.0, 8.0, -6.0, 7.0)
    regions = plotting.nearest_centre_regions(centers, box, metric)
    area = sum(0.5 * abs(np.dot(p[:, 0], np.roll(p[:, 1], 1)) - np.dot(p[:, 1], np.roll(p[:, 0], 1)))
               for _, p in regions)
    assert area == pytest.approx(16.0 * 13.0, rel=1e-9)
    points = np.column_stack([rng.uniform(-8, 8, 4000), rng.uniform(-6, 7, 4000)])
    # points off the boundaries (a point on one may be counted on either side)
    diff = np.abs(points[:, None, :] - centers[None]) if metric == "l1" else None
    d = diff.sum(-1) if metric == "l1" else ((points[:, None, :] - centers[None]) ** 2).sum(-1)
    srt = np.sort(np.unique(np.round(d, 12), axis=1), axis=1)
    clear = (srt[:, 1] - srt[:, 0]) > 1e-6 if srt.shape[1] > 1 else np.ones(len(points), bool)
    expected = kmeans.e_step(points, centers, metric=metric)
    owner = _owner(regions, points)
    assert np.array_equal(owner[clear], expected[clear])
    if case == "ties":
        assert 2 not in {j for j, _ in regions}  # the duplicate of centre 0 owns nothing
        if metric == "l1":
            # the quarter-plane where centres 0 and 1 are equally far belongs to 0 (lower index)
            q = np.array([[-3.0, 5.0], [-1.0, 6.0]])
            assert np.all(_owner(regions, q) == 0) and np.all(kmeans.e_step(q, centers, "l1") == 0)


def test_plot_clusters_shades_regions_with_polygons_not_pixels(km):
    ax = new_ax()
    step = km.history[2]
    plotting.plot_clusters(step, X4, ax=ax)
    assert not ax.images  # no raster: boundaries stay straight at any size
    (shade,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    colours = {tuple(np.round(fc[:3], 6)) for fc in shade.get_facecolors()}
    expected = {tuple(np.round(1 - 0.18 * (1 - np.array(to_rgba(plotting.cluster_color(j))[:3])), 6))
                for j in range(2)}
    assert colours == expected and shade.get_zorder() < 1


def test_plot_clusters_has_equal_scales(km):
    fig = Figure(figsize=(6, 3))
    ax = fig.subplots()
    plotting.plot_clusters(km.history[2], X4, ax=ax)
    fig.canvas.draw()
    units_per_px = [np.ptp(ax.get_xlim()) / ax.bbox.width, np.ptp(ax.get_ylim()) / ax.bbox.height]
    assert units_per_px[0] == pytest.approx(units_per_px[1], rel=1e-3)
    # the whole data stays in view
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert x0 <= X4[:, 0].min() and X4[:, 0].max() <= x1
    assert y0 <= X4[:, 1].min() and X4[:, 1].max() <= y1


def test_plot_clusters_arrows_after_m_step(km):
    ax = new_ax()
    plotting.plot_clusters(km.history[2], X4, ax=ax, previous=km.history[1])
    moved = np.any(km.history[2].centers != km.history[1].centers, axis=1)
    arrows = [t for t in ax.texts if t.arrow_patch is not None]
    assert len(arrows) == int(moved.sum()) >= 1
    for a in arrows:
        assert tuple(a.xy) in {tuple(c) for c in km.history[2].centers}


def test_plot_clusters_rings_medoids_only():
    med = kmedoids.fit(X4, k=2, init=X4[[3, 0]])
    ax = new_ax()
    plotting.plot_clusters(med.history[2], X4, ax=ax, previous=med.history[1])
    rings = [ln for ln in ax.lines if ln.get_markerfacecolor() == "none"
             and ln.get_markersize() >= 20]
    assert len(rings) == 1 and len(rings[0].get_xdata()) == 2
    ax2 = new_ax()
    plotting.plot_clusters(kmeans.fit(X4, k=2, init=X4[[3, 0]]).history[2], X4, ax=ax2)
    assert not [ln for ln in ax2.lines if ln.get_markerfacecolor() == "none"
                and ln.get_markersize() >= 20]


def test_plot_clusters_init_points_are_unassigned_grey(km):
    ax = new_ax()
    plotting.plot_clusters(km.history[0], X4, ax=ax)
    grey = [ln for ln in ax.lines if to_rgba(ln.get_color()) == to_rgba(plotting.UNASSIGNED_COLOR)]
    assert len(grey) == 1 and len(grey[0].get_xdata()) == 4


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"step": "x"}, TypeError),
        ({"X": np.zeros((4, 3))}, ValueError),
        ({"X": np.zeros((5, 2))}, ValueError),
        ({"metric": "cosine"}, ValueError),
        ({"previous": 3}, TypeError),
    ],
)
def test_plot_clusters_validates(km, kwargs, error):
    args = {"step": km.history[1], "X": X4}
    args.update(kwargs)
    with pytest.raises(error):
        plotting.plot_clusters(args.pop("step"), args.pop("X"), ax=new_ax(), **args)


# ------------------------------------------------------------------ mixtures


def test_plot_mixture_curves_and_responsibilities(em):
    ax = new_ax()
    step = em.history[1]
    plotting.plot_mixture(step, X_EM, ax=ax)
    assert " ".join(ax.get_title().split()) == "Iteration 1, after the E-step: responsibilities updated"
    assert ax.get_xlabel() and ax.get_ylabel() == "density"
    comps = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    (mix,) = [ln for ln in ax.lines if ln.get_label() == "mixture"]
    assert len(comps) == 2
    assert np.allclose(comps[0].get_ydata() + comps[1].get_ydata(), mix.get_ydata())
    # a weighted component integrates to its weight
    xs = comps[0].get_xdata()
    for j, c in enumerate(comps):
        assert np.trapezoid(c.get_ydata(), xs) == pytest.approx(step.weights[j], abs=1e-3)
    # responsibilities: one stacked bar per point and component, heights proportional to r_nj
    (bars,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    segs = bars.get_segments()
    assert len(segs) == X_EM.size * 2
    heights = np.array([s[1, 1] - s[0, 1] for s in segs]).reshape(X_EM.size, 2)
    assert np.allclose(heights / heights.sum(axis=1, keepdims=True), step.resp)


def test_plot_mixture_init_has_a_rug_and_large_data_a_histogram(em):
    ax = new_ax()
    plotting.plot_mixture(em.history[0], X_EM, ax=ax)
    assert not [c for c in ax.collections if isinstance(c, LineCollection)
                and len(c.get_segments()) == 10]
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 1, 300), rng.normal(5, 1, 300)]
    res = gmm1d.fit(x, k=2, seed=0)
    ax2 = new_ax()
    plotting.plot_mixture(res.history[-1], x, ax=ax2)
    (hist,) = [p for p in ax2.patches if p.get_label() == "data (histogram)"]
    heights, edges = hist.get_data()[:2]
    assert len(heights) > 5 and np.sum(heights * np.diff(edges)) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        plotting.plot_mixture(res.history[-1], X_EM, ax=new_ax())
    with pytest.raises(TypeError):
        plotting.plot_mixture(res, x, ax=new_ax())


# ------------------------------------------------------------------ objective


def test_plot_objective_marks_the_current_half_step(km, em):
    ax = new_ax()
    plotting.plot_objective(km.history, current=2, ax=ax)
    (ring,) = [ln for ln in ax.lines if ln.get_markerfacecolor() == "none"]
    assert ring.get_xdata()[0] == 2 and ring.get_ydata()[0] == km.history[2].objective
    assert ax.get_ylabel() == "objective J"
    assert ax.get_xlabel() == "half-step"
    ax2 = new_ax()
    plotting.plot_objective(em.history, current=0, ax=ax2)
    assert ax2.get_ylabel() == "log-likelihood"
    plotted = np.concatenate([ln.get_ydata() for ln in ax2.lines if ln.get_marker() in "os"])
    assert np.all(np.diff(np.array([s.objective for s in em.history])) >= -1e-9)
    assert set(np.round(plotted, 9)) <= {round(s.objective, 9) for s in em.history}
    with pytest.raises(ValueError):
        plotting.plot_objective(km.history, current=len(km.history), ax=new_ax())
    with pytest.raises(ValueError):
        plotting.plot_objective((), ax=new_ax())


def test_plotting_reads_only_and_creates_no_pyplot_figure(km, em, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("plotting re-ran an algorithm step")

    for module in (kmeans, gmm1d):
        for name in ("e_step", "m_step", "fit"):
            monkeypatch.setattr(module, name, boom)
    plt.close("all")
    before = [s.centers.copy() for s in km.history]
    for i in range(len(km.history)):
        plotting.plot_step(km.history, i, X4, ax=new_ax())
    for i in range(len(em.history)):
        plotting.plot_step(em.history, i, X_EM, ax=new_ax())
    plotting.plot_objective(km.history, current=1, ax=new_ax())
    assert plt.get_fignums() == []
    assert all(np.array_equal(a, s.centers) for a, s in zip(before, km.history))


def test_ax_none_uses_pyplot_current_axes(km):
    plt.close("all")
    try:
        ax = plotting.plot_clusters(km.history[1], X4)
        assert ax is plt.gca()
    finally:
        plt.close("all")


def test_objective_up_to_the_current_half_step_or_all(em):
    ax = new_ax()
    plotting.plot_objective(em.history, current=6, ax=ax)
    drawn = np.concatenate([np.asarray(ln.get_xdata(), float) for ln in ax.lines])
    assert drawn.max() == 6  # the curve still to come is not drawn ...
    assert ax.get_xlim() == (-0.5, 20.5)  # ... but the axes span the whole history
    assert "up to M3" in plotting.describe(ax)
    ax2 = new_ax()
    plotting.plot_objective(em.history, current=6, ax=ax2, hide_future=False)
    assert max(np.max(ln.get_xdata()) for ln in ax2.lines) == 20


# ------------------------------------------------------------------ legends and text


def _boxes(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return renderer


@pytest.mark.parametrize("what", ["clusters", "medoids", "mixture", "mixture-many", "objective"])
def test_legends_sit_below_the_axes_and_text_is_legible(what, km, em):
    """Legends never cover the data: they sit under the Axes, below the x label; every text
    is at least 12 CSS px as the page shows the figure (issue 15)."""
    fig, ax = plotting.figure()
    if what == "clusters":
        plotting.plot_clusters(km.history[2], X4, ax=ax, previous=km.history[1])
    elif what == "medoids":
        med = kmedoids.fit(X4, k=2, init=X4[[3, 0]])
        plotting.plot_clusters(med.history[2], X4, ax=ax, previous=med.history[1])
    elif what == "mixture":
        plotting.plot_mixture(em.history[3], X_EM, ax=ax)
    elif what == "mixture-many":
        x = np.r_[np.random.default_rng(0).normal(0, 1, 200), np.random.default_rng(1).normal(5, 1, 100)]
        res = gmm1d.fit(x, k=3, seed=0)
        plotting.plot_mixture(res.history[-1], x, ax=ax)
    else:
        plotting.plot_objective(em.history, current=4, ax=ax)
    renderer = _boxes(fig)
    legend = ax.get_legend().get_window_extent(renderer)
    axes_box = ax.get_window_extent(renderer)
    xlabel = ax.xaxis.label.get_window_extent(renderer)
    assert legend.y1 <= xlabel.y0 + 1 and legend.y1 < axes_box.y0
    plotting.check_figure(fig)  # no legend over data, no text below 12 px
    assert plotting.smallest_text_px(fig) >= 12.0


def test_mixture_band_is_named_beside_it_and_its_legend_is_solid(em):
    fig, ax = plotting.figure()
    plotting.plot_mixture(em.history[1], X_EM, ax=ax)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == "$r_{nk}$" and labels[0] == "0"
    renderer = _boxes(fig)
    (bars,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    corners = ax.transData.transform(np.concatenate(bars.get_segments()))
    band = Bbox([corners.min(axis=0), corners.max(axis=0)])
    # no text of the Axes (titles, labels, annotations) lies on the bars
    for t in ax.texts + [ax.title, ax.xaxis.label, ax.yaxis.label] + ax.get_yticklabels():
        if t.get_text():
            assert not t.get_window_extent(renderer).overlaps(band), t.get_text()
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts[-1] == "responsibilities $r_{nk}$" and "mixture" in texts
    assert texts[0].startswith("0: $w$=")  # the components with their parameters
    blocks = [p for p in legend.findobj(Rectangle) if p is not legend.legendPatch
              and p.get_facecolor()[3] > 0]
    assert {to_hex(b.get_facecolor()) for b in blocks} == {"#0072b2", "#e69f00"}
    assert not any(b.get_hatch() for b in legend.findobj(Rectangle))


def test_check_figure_refuses_unreadable_figures(km):
    fig, ax = plotting.figure()
    ax.plot([0, 1], [0, 1])
    ax.set_title("tiny", fontsize=7)
    with pytest.raises(ValueError, match=r"9\.7 CSS px .*\[7\.0\] pt"):
        plotting.check_figure(fig)
    wide = Figure(figsize=(11, 4))
    wide.subplots().plot([0, 1])
    with pytest.raises(ValueError, match="11.00 in wide"):
        plotting.check_figure(wide)
    covered, ax = plotting.figure()
    ax.plot(np.linspace(0, 1, 50), np.linspace(0, 1, 50), "o", label="points")
    ax.legend(loc="center")
    with pytest.raises(ValueError, match="legend .* lies over"):
        plotting.check_figure(covered)
    free, ax = plotting.figure()
    ax.plot([0, 1], [0, 1], label="diagonal")
    ax.legend(loc="upper left")  # the line runs from lower left to upper right: nothing covered
    plotting.check_figure(free)
    hidden, ax = plotting.figure()
    ax.plot([0, 1], [0, 1])
    ax.yaxis.set_visible(False)
    ax.tick_params(axis="y", labelsize=5)  # small, but on a hidden axis: never drawn
    plotting.check_figure(hidden)


def test_figure_is_sized_for_the_column():
    fig, axes = plotting.figure(1, 2)
    assert fig.get_figwidth() * plotting.PX_PER_INCH == plotting.COLUMN_WIDTH == 688
    assert axes.shape == (2,) and fig.get_layout_engine() is not None
    assert axes[0].xaxis.get_ticklabels()[0].get_fontsize() == plotting.FONT_SIZES["small"]
    small, _ = plotting.figure(width=plotting.PHONE_WIDTH, height=300)
    assert small.get_size_inches().tolist() == [3.5, 3.0]
    with pytest.raises(ValueError, match="width"):
        plotting.figure(width=900)
    with pytest.raises(TypeError, match="height"):
        plotting.figure(height="tall")
    assert plt.get_fignums() == [] or fig.number not in plt.get_fignums()


def test_figure_bundle_carries_the_text_alternative(km):
    fig, (left, right) = plotting.figure(1, 2)
    plotting.plot_clusters(km.history[-1], X4, ax=left, title="End of the run", legend=False)
    plotting.plot_objective(km.history, ax=right, legend=False)
    data, metadata = plotting.figure_bundle(fig, "Two clusters of the seed's four points.")
    text = data["text/plain"]
    assert text.startswith("Two clusters of the seed's four points. Left panel, titled "
                           "\u201cEnd of the run\u201d: K-means with K = 2 on 4 points;")
    assert "Right panel" in text and "never goes up" in text
    assert "(-0.33, 2.00), (0.00, -6.00)" in text  # the final centres, as drawn
    png = base64.b64decode(data["image/png"])
    image = Image.open(io.BytesIO(png))
    assert image.text["Description"] == text  # what the book's Sphinx extension reads
    assert "Software" not in image.text
    # drawn at twice the resolution, shown at 100 CSS px per inch
    assert metadata == {"image/png": {"width": round(image.size[0] / 2)}}
    assert abs(metadata["image/png"]["width"] - 688) <= 8
    again, _ = plotting.figure_bundle(fig, "Two clusters of the seed's four points.")
    assert again == data  # deterministic bytes: a re-run does not change the notebook


def test_a_figure_without_any_description_is_refused():
    fig, ax = plotting.figure()
    ax.plot([0, 1], [2, 3])
    with pytest.raises(ValueError, match="text alternative"):
        plotting.figure_bundle(fig)
    plotting.describe(ax, "A rising line from 2 to 3.")
    assert plotting.figure_bundle(fig)[0]["text/plain"] == "The panel: A rising line from 2 to 3."
    with pytest.raises(ValueError):
        plotting.describe(ax, "  ")


def test_show_displays_the_bundle_and_closes_a_pyplot_figure(monkeypatch, km):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda data, metadata=None, raw=False: shown.append((data, metadata, raw)))
    fig, ax = plt.subplots(figsize=(6, 4))
    plotting.plot_clusters(km.history[-1], X4, ax=ax)
    plotting.show(fig, "The seed's two clusters.")
    ((data, metadata, raw),) = shown
    assert raw and set(data) == {"image/png", "text/plain"} and metadata["image/png"]["width"]
    assert fig.number not in plt.get_fignums()


def test_descriptions_come_from_the_drawn_numbers(km, em):
    step = km.history[2]
    text = plotting.describe_clusters(step, X4, km.history[1])
    assert text.startswith("K-means with K = 2 on 4 points; iteration 1, after the M-step: "
                           "centres moved.")
    assert "Cluster sizes 3, 1." in text and "(-0.33, 2.00), (0.00, -6.00)" in text
    assert f"Objective (sum of squared distances): {step.objective:.6g}." in text
    mix = plotting.describe_mixture(em.history[2], X_EM, em.history[1])
    w, m, sd = em.history[2].weights, em.history[2].means, em.history[2].sigmas
    assert f"component 0: weight {w[0]:.2f}, mean {m[0]:.2f}, sigma {sd[0]:.2f}" in mix
    most = np.bincount(np.argmax(em.history[2].resp, axis=1), minlength=2)
    assert f"{most[0]} to component 0, {most[1]} to component 1" in mix
    obj = plotting.describe_objective(em.history)
    assert obj.endswith("It never goes down.") and "21 values" in obj
    bad = [MixtureStep("init", 0, -5.0, None, *EM_INIT), MixtureStep("E", 1, -6.0, None, *EM_INIT)]
    assert "It goes down at E1." in plotting.describe_objective(bad)


def test_gallery_for_people_to_look_at(screenshot_dir):
    """Every plotting function on a K-means, a K-medoids and an EM history, saved as PNG."""
    X = blobs()
    fits = {
        "kmeans": (kmeans.fit(X, k=4, init="random", seed=3), X, "l2"),
        "kmedoids": (kmedoids.fit(X, k=4, init="random", seed=3, metric="l1"), X, "l1"),
        "gmm1d": (gmm1d.fit(X_EM, k=2, init=EM_INIT, max_iter=10, tol=0), X_EM, "l2"),
    }
    for name, (res, data, metric) in fits.items():
        fig, axes = plotting.figure(2, 2, height=900)
        for ax, i in zip(axes.flat[:3], (0, 1, 2)):
            plotting.plot_step(res.history, i, data, ax=ax, metric=metric)
        plotting.plot_objective(res.history, current=2, ax=axes.flat[3])
        data_, _ = plotting.figure_bundle(fig, f"Gallery of {name}.")
        path = screenshot_dir / f"plotting_{name}.png"
        path.write_bytes(base64.b64decode(data_["image/png"]))
        assert path.stat().st_size > 10_000


def test_mixture_legend_names_the_responsibilities_only_where_the_band_shows_them():
    """The "init" step draws the points as a grey rug, not responsibilities: its legend has no
    responsibilities entry (issue 15: legends match what is drawn); a later step's does."""
    from algos import gmm1d, plotting

    fit = gmm1d.fit([-1.0, 0.0, 4.0, 5.0, 6.0], k=2, init=([.5, .5], [6., 7.], [1., 2.]),
                    max_iter=1)
    labels = {}
    for step in (fit.history[0], fit.history[1]):
        fig, ax = plotting.figure(height=330)
        plotting.plot_mixture(step, [-1.0, 0.0, 4.0, 5.0, 6.0], ax=ax)
        labels[step.kind] = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels["init"] == ["0: $w$=0.50, $\\mu$=6.00, $\\sigma$=1.00",
                              "1: $w$=0.50, $\\mu$=7.00, $\\sigma$=2.00", "mixture"]
    assert labels["E"][:3] == labels["init"] and labels["E"][3] == "responsibilities $r_{nk}$"
