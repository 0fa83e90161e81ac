"""algos.plotting for d-dimensional Gaussian mixtures (2-D data): covariance ellipses from the
eigenvectors, points shaded by their responsibilities, and a text alternative made from the
same numbers the picture draws."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from algos import gmm, plotting
from algos._results import GaussianMixtureStep


def new_ax():
    return Figure(figsize=(5, 4)).subplots()


def two_groups(seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal([0.0, 0.0], [3.0, 0.4], (80, 2))
    b = rng.normal([0.0, 4.0], [0.5, 0.5], (40, 2))
    return np.concatenate([a, b])


@pytest.fixture(scope="module")
def fit():
    X = two_groups()
    return X, gmm.fit(X, k=2, init="random", seed=0, max_iter=6, tol=0)


# ------------------------------------------------------------------ the ellipse


@pytest.mark.parametrize("theta", [0.0, 30.0, 90.0, 135.0, 179.0])
def test_ellipse_axes_come_from_the_eigenvectors(theta):
    t = np.radians(theta)
    R = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    cov = R @ np.diag([9.0, 0.25]) @ R.T
    major, minor, angle = plotting.covariance_ellipse_axes(cov)
    assert major == pytest.approx(3.0) and minor == pytest.approx(0.5)
    assert angle == pytest.approx(theta % 180.0, abs=1e-9)
    # the points at the ends of the axes lie on the Mahalanobis unit circle
    for length, phi in ((major, angle), (minor, angle + 90.0)):
        v = length * np.array([np.cos(np.radians(phi)), np.sin(np.radians(phi))])
        assert v @ np.linalg.solve(cov, v) == pytest.approx(1.0)


def test_ellipse_patch_has_the_right_size_and_holds_the_right_mass():
    cov = np.array([[2.0, 1.2], [1.2, 1.5]])
    e = plotting.covariance_ellipse([1.0, -2.0], cov, n_std=2.0)
    major, minor, angle = plotting.covariance_ellipse_axes(cov)
    assert isinstance(e, Ellipse) and not e.get_fill()
    assert e.width == pytest.approx(4 * major) and e.height == pytest.approx(4 * minor)
    assert e.angle == pytest.approx(angle) and e.center == (1.0, -2.0)
    # a 2-sigma ellipse of a 2-D Gaussian holds 1 - exp(-2) = 86.5 % of the points
    rng = np.random.default_rng(1)
    pts = rng.multivariate_normal([1.0, -2.0], cov, 40_000)
    unit = e.get_patch_transform().inverted().transform(pts)  # the ellipse -> unit circle
    inside = np.hypot(*unit.T) <= 1.0
    assert inside.mean() == pytest.approx(1 - np.exp(-2), abs=0.01)


@pytest.mark.parametrize("cov, error", [
    (np.eye(3), "finite \\(2, 2\\)"),
    ([[1.0, 0.5], [0.0, 1.0]], "symmetric"),
    ([[1.0, 2.0], [2.0, 1.0]], "positive semi-definite"),
    ([[np.nan, 0.0], [0.0, 1.0]], "finite"),
])
def test_ellipse_rejects_bad_covariances(cov, error):
    with pytest.raises(ValueError, match=error):
        plotting.covariance_ellipse_axes(cov)


def test_ellipse_rejects_bad_radius():
    with pytest.raises(ValueError, match="n_std"):
        plotting.covariance_ellipse([0, 0], np.eye(2), n_std=0)


# ------------------------------------------------------------------ soft colours


def test_responsibility_shades():
    labels, strength = plotting.responsibility_shades([[1.0, 0.0], [0.5, 0.5], [0.2, 0.8],
                                                       [0.25, 0.75]])
    assert labels.tolist() == [0, 0, 1, 1]  # the tie goes to the lower index
    assert strength == pytest.approx([1.0, 0.0, 0.6, 0.5])
    assert plotting.responsibility_shades([[1.0], [1.0]])[1].tolist() == [1.0, 1.0]


def test_points_take_their_component_colour_paler_when_uncertain(fit):
    X, res = fit
    step = res.history[-1]
    ax = plotting.plot_gaussian_mixture(step, X, ax=new_ax(), previous=res.history[-2])
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in scatters) == X.shape[0]
    labels, strength = plotting.responsibility_shades(step.resp)
    for c in scatters:
        offsets = np.asarray(c.get_offsets())
        rows = [int(np.flatnonzero((X == p).all(axis=1))[0]) for p in offsets]
        (j,) = set(labels[rows])
        # the rim is the component's colour; the fill is that colour mixed with white
        assert np.allclose(c.get_edgecolors()[:, :3], to_rgb(plotting.cluster_color(j)))
        fill = c.get_facecolors()[:, :3]
        whiteness = (fill - np.asarray(to_rgb(plotting.cluster_color(j)))).sum(axis=1)
        # paler (further from the pure colour) exactly when less sure
        order = np.argsort(strength[rows])
        assert np.all(np.diff(whiteness[order]) <= 1e-9)


def test_init_points_are_grey_and_ellipses_drawn_per_component(fit):
    X, res = fit
    ax = plotting.plot_gaussian_mixture(res.history[0], X, ax=new_ax())
    assert not [c for c in ax.collections if isinstance(c, PathCollection)]
    ellipses = [p for p in ax.patches if isinstance(p, Ellipse)]
    assert len(ellipses) == 2 * len(plotting.ELLIPSE_STDS)
    for j in range(2):
        mine = [e for e in ellipses if np.allclose(e.get_edgecolor()[:3],
                                                   to_rgb(plotting.cluster_color(j)))]
        major, _, _ = plotting.covariance_ellipse_axes(res.history[0].covariances[j])
        assert sorted(e.width for e in mine) == pytest.approx([2 * major, 4 * major])
    assert ax.get_aspect() == 1.0


def test_m_step_shows_the_previous_components(fit):
    X, res = fit
    m = next(i for i, s in enumerate(res.history) if s.kind == "M")
    ax = plotting.plot_gaussian_mixture(res.history[m], X, ax=new_ax(),
                                        previous=res.history[m - 1])
    grey = [p for p in ax.patches if isinstance(p, Ellipse)
            and np.allclose(p.get_edgecolor()[:3], to_rgb("#8C8C8C"))]
    assert len(grey) == 2
    assert {tuple(np.round(e.center, 9)) for e in grey} == {
        tuple(np.round(mu, 9)) for mu in res.history[m - 1].means}
    assert "Dotted grey ellipses show the previous components" in plotting.describe(ax)


# ------------------------------------------------------------------ words and titles


def test_description_comes_from_the_drawn_numbers(fit):
    X, res = fit
    step = res.history[-1]
    text = plotting.describe_gaussian_mixture(step, X, res.history[-2])
    major, minor, angle = plotting.covariance_ellipse_axes(step.covariances[0])
    assert f"standard deviations {major:.2f} and {minor:.2f}, long axis at {angle:.0f}" in text
    assert f"mean ({step.means[1][0]:.2f}, {step.means[1][1]:.2f})" in text
    unsure = int((step.resp.max(axis=1) < plotting.UNCERTAIN_BELOW).sum())
    assert f"{unsure} point" in text and f"Log-likelihood: {step.objective:.6g}." in text
    assert text.startswith(f"Gaussian mixture with K = 2 on {len(X)} points; iteration 6, "
                           "after the M-step")


def test_describe_step_and_objective_know_2d_mixtures(fit):
    X, res = fit
    h = res.history
    assert plotting.describe_step(h[0]) == "Start: initial parameters"
    assert plotting.describe_step(h[1], h[0]) == "Iteration 1, after the E-step: responsibilities updated"
    assert plotting.describe_step(h[2], h[1]) == "Iteration 1, after the M-step: parameters updated"
    same = GaussianMixtureStep("M", 1, h[1].objective, h[1].resp, h[1].weights, h[1].means,
                               h[1].covariances)
    assert plotting.describe_step(same, h[1]).endswith("parameters unchanged")
    assert not plotting.step_changed(same, h[1]) and plotting.step_changed(h[2], h[1])
    assert plotting.objective_label(h) == "log-likelihood"
    text = plotting.describe_objective(h)
    assert "never goes down" in text  # EM with the default reg_covar on these data
    ax = plotting.plot_step(h, 2, X, ax=new_ax())
    assert " ".join(ax.get_title().split()) == "Iteration 1, after the M-step: parameters updated"


def test_a_dead_component_is_named(fit):
    X, res = fit
    s = res.history[-1]
    dead = GaussianMixtureStep("M", s.iteration, s.objective, s.resp, np.array([1.0, 0.0]),
                               s.means, s.covariances, dead=(1,))
    text = plotting.describe_gaussian_mixture(dead, X)
    assert "Dead (weight 0): component 1." in text
    ax = plotting.plot_gaussian_mixture(dead, X, ax=new_ax())
    assert "dead" in [t.get_text() for t in ax.texts]


@pytest.mark.parametrize("kwargs, error, kind", [
    (dict(step="not a step"), "GaussianMixtureStep", TypeError),
    (dict(X=np.zeros((5, 2))), "was the step made from this X", ValueError),
    (dict(X=np.zeros((120, 3))), "2 columns", ValueError),
])
def test_plot_validates(fit, kwargs, error, kind):
    X, res = fit
    args = dict(step=res.history[-1], X=X)
    args.update(kwargs)
    with pytest.raises(kind, match=error):
        plotting.plot_gaussian_mixture(args["step"], args["X"], ax=new_ax())


def test_three_dimensional_means_are_refused():
    X = np.random.default_rng(0).normal(size=(30, 3))
    res = gmm.fit(X, k=2, seed=0, max_iter=2)
    with pytest.raises(ValueError, match=r"shape \(k, 2\)"):
        plotting.plot_gaussian_mixture(res.history[-1], X[:, :2], ax=new_ax())


# ------------------------------------------------------------------ on the page


def test_book_figure_is_legible_and_described(fit):
    X, res = fit
    # a little narrower than the column: at 200 dpi the equal-aspect limits can put a tick
    # label ("10") at the right edge of the panel, a pixel or two outside it
    fig, (left, right) = plotting.figure(1, 2, width=plotting.COLUMN_WIDTH - 8)
    plotting.plot_gaussian_mixture(res.history[0], X, ax=left, legend=False)
    plotting.plot_gaussian_mixture(res.history[-1], X, ax=right, previous=res.history[-2])
    data, meta = plotting.figure_bundle(fig, "Start and sixth M-step of EM on two groups.")
    assert plotting.smallest_text_px(fig) >= plotting.MIN_TEXT_PX
    assert meta["image/png"]["width"] <= plotting.COLUMN_WIDTH
    assert data["text/plain"].startswith("Start and sixth M-step of EM on two groups. Left panel")
    assert "No responsibilities yet" in data["text/plain"]


def test_extent_holds_data_and_ellipses_but_not_a_huge_start(fit):
    X, res = fit
    box = plotting.gaussian_mixture_extent(X, res.history)
    assert box[0] < X[:, 0].min() and box[1] > X[:, 0].max()
    huge = GaussianMixtureStep("init", 0, -1.0, None, np.array([1.0]), np.zeros((1, 2)),
                               np.eye(2)[None] * 1e8)
    wide = plotting.gaussian_mixture_extent(X, [huge])
    span = X.max(axis=0) - X.min(axis=0)
    assert wide[1] - wide[0] <= 3 * (1 + 2 * 0.06) * span.max() + 1e-9  # pad 6 %
