"""algos.plotting: each function draws what the history says, labelled, in the palette, and
never re-runs the algorithm. A gallery of every function's output for a K-means, a K-medoids
and an EM history is written to _build/screenshots/ for people to look at."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

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
    assert set(plotting.CLUSTER_COLORS) == set(plotting.PALETTE) - {"#000000"}
    assert plotting.cluster_color(7) == plotting.cluster_color(0)


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


def test_plot_clusters_shades_nearest_centre_regions(km):
    ax = new_ax()
    step = km.history[2]
    extent = (-6.0, 5.0, -7.0, 5.0)
    plotting.plot_clusters(step, X4, ax=ax, extent=extent)
    (image,) = ax.images
    rgba = image.get_array()
    ny, nx = rgba.shape[:2]
    # the pixel under each centre has that centre's colour, lightly (alpha < 0.3)
    for j, (cx, cy) in enumerate(step.centers):
        px = int((cx - extent[0]) / (extent[1] - extent[0]) * (nx - 1))
        py = int((cy - extent[2]) / (extent[3] - extent[2]) * (ny - 1))
        assert np.allclose(rgba[py, px, :3], to_rgba(plotting.cluster_color(j))[:3])
        assert 0 < rgba[py, px, 3] < 0.3
    assert image.get_extent() == list(extent) or tuple(image.get_extent()) == extent


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
    assert ax.get_title() == "Iteration 1, after the E-step: responsibilities updated"
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
    assert ax.get_ylabel() == "objective (sum of squared distances)"
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


def test_gallery_for_people_to_look_at(screenshot_dir):
    """Every plotting function on a K-means, a K-medoids and an EM history, saved as PNG."""
    X = blobs()
    fits = {
        "kmeans": (kmeans.fit(X, k=4, init="random", seed=3), X),
        "kmedoids": (kmedoids.fit(X, k=4, init="random", seed=3), X),
        "gmm1d": (gmm1d.fit(X_EM, k=2, init=EM_INIT, max_iter=10, tol=0), X_EM),
    }
    for name, (res, data) in fits.items():
        fig = Figure(figsize=(13, 8), layout="constrained")
        axes = fig.subplots(2, 2).ravel()
        for ax, i in zip(axes[:3], (0, 1, 2)):
            plotting.plot_step(res.history, i, data, ax=ax)
        plotting.plot_objective(res.history, current=2, ax=axes[3])
        path = screenshot_dir / f"plotting_{name}.png"
        fig.savefig(path, dpi=70, metadata={"Software": None})
        assert path.stat().st_size > 10_000
