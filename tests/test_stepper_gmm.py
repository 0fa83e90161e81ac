"""algos.stepper for d-dimensional Gaussian mixtures on 2-D data (method "gmm"): the frames
come from ``gmm.fit``'s history, say one truth each, are legible, and the live widget refits
with k, start, seed, covariance type and data set."""

from __future__ import annotations

import html
import json

import numpy as np
import pytest
from matplotlib.patches import Ellipse
from matplotlib.text import Text

from algos import gmm, plotting, stepper
from algos._results import GaussianMixtureStep


def bands(seed=3, n=40):
    """Three long thin horizontal bands (the K-means chapter's elongated data, smaller)."""
    rng = np.random.default_rng(seed)
    return np.concatenate([np.c_[rng.normal(0, 4, n), rng.normal(y, 0.35, n)]
                           for y in (0, 2.2, 4.4)])


X = bands()


@pytest.fixture(scope="module")
def player():
    return stepper.step_through("gmm", X, k=3, init="random", seed=0, max_iter=8, tol=0)


def controls(p):
    p.widget()
    return p._controls


def payload(page):
    return json.loads(page.split('<script type="application/json">', 1)[1]
                      .split("</script>", 1)[0].replace("<\\/", "</"))


def test_frames_are_the_fits_history(player):
    direct = gmm.fit(X, k=3, init="random", seed=0, max_iter=8, tol=0)
    assert player.method == "gmm" and len(player) == len(direct.history) == 17
    for a, b in zip(player.frames, direct.history):
        assert isinstance(a, GaussianMixtureStep) and a.kind == b.kind
        assert np.array_equal(a.covariances, b.covariances)
    assert player.metric is None
    assert player.objective_text(4) == f"Log-likelihood: {direct.history[4].objective:.6g}"


def test_frame_words_come_from_the_drawn_numbers(player):
    texts = player.frame_texts(2)
    step = player.frames[2]
    assert texts["title"] == "Iteration 1, after the M-step: parameters updated"
    assert texts["next"].startswith("Next: E-step, compute every point's responsibilities")
    assert player.next_text(1).startswith("Next: M-step, re-estimate weights, means and "
                                          "covariances (the ellipses)")
    major, minor, angle = plotting.covariance_ellipse_axes(step.covariances[1])
    assert (f"1: w = {step.weights[1]:.2f}, \u03bc = ({step.means[1][0]:.2f}, "
            f"{step.means[1][1]:.2f}), \u03c3 = {major:.2f} and {minor:.2f} at {angle:.0f}\u00b0"
            in texts["detail"])
    assert texts["alt"] == ("Half-step 3 of 17. "
                            + plotting.describe_gaussian_mixture(step, X, player.frames[1]))
    alts = [player.alt_text(i) for i in range(len(player))]
    assert len(set(alts)) == len(alts)


def test_the_state_picture_draws_the_ellipses_of_the_frame(player):
    for i in (0, 2, len(player) - 1):
        ax = player.draw(i)["state"].axes[0]
        ellipses = [p for p in ax.patches if isinstance(p, Ellipse)]
        moved = player.frames[i].kind == "M"
        assert len(ellipses) == 3 * len(plotting.ELLIPSE_STDS) + (3 if moved else 0)
        assert ax.get_title() == "" and ax.get_aspect() == 1.0
    # the axes stay still while stepping
    limits = {tuple(np.round(player.draw(i)["state"].axes[0].get_xlim(), 9))
              for i in range(0, len(player), 4)}
    assert len(limits) == 1


def _cases():
    return [
        (dict(k=3, init="random", seed=0, max_iter=0), "init", False),
        (dict(k=3, init="random", seed=0, max_iter=3, tol=0), "M", False),
        (dict(k=3, init="random", seed=0, tol=1e-3), "M", True),
    ]


@pytest.mark.parametrize("kwargs, last_kind, converged", _cases())
def test_one_truth_per_frame(kwargs, last_kind, converged):
    p = stepper.step_through("gmm", X, **kwargs)
    last = len(p) - 1
    assert p.frames[-1].kind == last_kind and p.result.converged == converged
    texts = p.frame_texts(last)
    figures = p.draw(last)
    assert all(ax.get_title() == "" for fig in figures.values() for ax in fig.axes)
    p.png = lambda *args, **kwargs: b"PNG"  # the words are compared, not the pictures
    page = p.to_html()
    assert payload(page)[-1]["title"] == texts["title"] == p.title(last)
    c = controls(p)
    c.slider.value = len(p)
    assert c.title.value == f"<b>{html.escape(texts['position'])}: {html.escape(texts['title'])}</b>"
    assert texts["title"].lower() in texts["alt"].lower()
    done = texts["next"]
    assert done.startswith("Done:") and done == payload(page)[-1]["next"]
    if last_kind == "init":
        assert "no iteration was run" in done
        return
    assert texts["title"].endswith("parameters updated")
    assert ("converged" in done and "before converging" not in done) == converged
    if converged:
        assert "the log-likelihood rose by less than tol per point" in done


def test_picture_text_is_legible_and_inside_the_picture(player):
    assert player.smallest_text_px() >= plotting.MIN_TEXT_PX
    assert f'data-min-text-px="{player.smallest_text_px():.1f}"' in player.to_html()
    for i in (0, 1, len(player) - 1):
        for name, fig in player.draw(i).items():
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
                if not (t.get_visible() and t.get_text().strip()) or t in undrawn:
                    continue
                box = t.get_window_extent(renderer)
                if box.width == 0:
                    continue
                assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= fig.bbox.x1 + 1 \
                    and box.y1 <= fig.bbox.y1 + 1, (i, name, t.get_text(), box)


def test_legend_names_what_is_drawn(player):
    (legend,) = player.draw(2)["state"].legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == ["mean", "1 std. dev.", "2 std. dev.", "previous", "pale: uncertain"]


def test_widget_offers_covariance_type_and_refits(player):
    long = bands(seed=4)
    p = stepper.step_through("gmm", X, k=3, init="random", seed=0, max_iter=5,
                             datasets={"bands": X, "other bands": long})
    c = controls(p)
    assert c.metric is None
    assert [v for _, v in c.init.options] == ["kmeans", "random"]
    assert c.covariance_type.options == ("full", "diag", "spherical", "tied")
    assert c.covariance_type.value == "full"
    c.covariance_type.value = "diag"
    direct = gmm.fit(X, k=3, init="random", seed=0, max_iter=5, covariance_type="diag")
    assert p.fit_kwargs["covariance_type"] == "diag"
    assert np.array_equal(p.result.covariances, direct.covariances)
    assert np.all(p.result.covariances[:, 0, 1] == 0)  # axis-aligned ellipses
    c.dataset.value = "other bands"
    c.k.value = 2
    direct = gmm.fit(long, k=2, init="random", seed=0, max_iter=5, covariance_type="diag")
    assert np.array_equal(p.result.means, direct.means) and c.covariance_type.value == "diag"
    c.init.value = "kmeans"
    assert p.fit_kwargs["init"] == "kmeans" and c.index == 0


def test_three_dimensional_data_are_refused():
    X3 = np.random.default_rng(0).normal(size=(30, 3))
    with pytest.raises(ValueError, match=r"2-D data"):
        stepper.step_through("gmm", X3, k=2, seed=0, max_iter=2)


def test_a_kmeans_history_is_not_a_gmm_history():
    from algos import kmeans

    with pytest.raises(TypeError, match="GaussianMixtureStep"):
        stepper.StepThrough("gmm", X, kmeans.fit(X, k=2, seed=0))
