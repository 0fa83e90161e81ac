"""Figures that draw one half-step of a fit, read straight from its ``history``.

Every function here only *reads* a :class:`~algos._results.ClusterStep` or
:class:`~algos._results.MixtureStep`. Nothing is re-fitted for display: the only numbers
computed here are purely visual (which centre each pixel of the shaded background is
nearest to, and the density curves of the step's own mixture parameters).

With ``ax=None`` a function draws into pyplot's current Axes, which is what a notebook
cell wants (end the cell with ``plt.show()``). The step-through passes Axes of its own
:class:`matplotlib.figure.Figure`, so it never touches pyplot and never leaks a figure.
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ._results import ClusterStep, MixtureStep

#: The Okabe-Ito palette (Okabe & Ito 2008), distinguishable with every common colour-vision
#: deficiency: orange, sky blue, bluish green, yellow, blue, vermillion, reddish purple, black.
PALETTE = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#000000",
)

#: Cluster colours: the palette without black (kept for centres and the mixture curve),
#: ordered so that neighbouring clusters contrast and pale yellow comes last.
CLUSTER_COLORS = (
    PALETTE[4],  # blue
    PALETTE[0],  # orange
    PALETTE[2],  # bluish green
    PALETTE[5],  # vermillion
    PALETTE[6],  # reddish purple
    PALETTE[1],  # sky blue
    PALETTE[3],  # yellow
)

#: One marker shape per cluster, so clusters differ in shape as well as in colour
#: (greyscale print, and the few readers no palette serves).
CLUSTER_MARKERS = ("o", "s", "^", "D", "v", "P", "X")

#: Colour of points that have no cluster yet (the "init" half-step).
UNASSIGNED_COLOR = "#8C8C8C"

_SHADE_ALPHA = 0.16
_GRID = 150  # pixels per side of the nearest-centre background: coarse is enough
_BARS_UP_TO = 60  # up to this many points, each gets its own responsibility bar


def cluster_color(j):
    """Colour of cluster ``j`` (cycles through :data:`CLUSTER_COLORS`)."""
    return CLUSTER_COLORS[int(j) % len(CLUSTER_COLORS)]


def cluster_marker(j):
    """Marker shape of cluster ``j`` (cycles through :data:`CLUSTER_MARKERS`)."""
    return CLUSTER_MARKERS[int(j) % len(CLUSTER_MARKERS)]


# ----------------------------------------------------------------------------- titles


def _is_medoid_step(step):
    return isinstance(step, ClusterStep) and step.medoid_indices is not None


def _check_step(step, name="step"):
    if not isinstance(step, (ClusterStep, MixtureStep)):
        raise TypeError(
            f"{name} must be a ClusterStep or MixtureStep from a fit's history, "
            f"got {type(step).__name__}"
        )


def describe_step(step, previous=None):
    """Say in words where a half-step is, for a figure title or a caption.

    Parameters
    ----------
    step : ClusterStep or MixtureStep
        One element of a fit's ``history``.
    previous : ClusterStep or MixtureStep, optional
        The half-step before ``step``. When given, the title says whether anything changed
        (how many points were reassigned, or that the centres did not move).

    Returns
    -------
    str
        For example ``"Start: initial centres"``, ``"Iteration 3, after the E-step: points
        reassigned"`` or ``"Iteration 3, after the M-step: centres moved"``.

    Notes
    -----
    Clusters are numbered from 0, as in the code. An empty cluster (K-means keeps its
    previous centre) is named in the title, so the failure mode is visible.

    Examples
    --------
    >>> import numpy as np
    >>> from algos._results import ClusterStep
    >>> describe_step(ClusterStep("M", 3, 1.0, np.zeros(4, int), np.zeros((2, 2))))
    'Iteration 3, after the M-step: centres moved'
    """
    _check_step(step)
    if previous is not None:
        _check_step(previous, "previous")
    mixture = isinstance(step, MixtureStep)
    medoids = _is_medoid_step(step)
    things = "parameters" if mixture else ("medoids" if medoids else "centres")

    if step.kind == "init":
        return f"Start: initial {things}"
    if step.kind not in ("E", "M"):
        raise ValueError(f"step.kind must be 'init', 'E' or 'M', got {step.kind!r}")
    head = f"Iteration {step.iteration}, after the {step.kind}-step: "

    if step.kind == "E":
        if mixture:
            return head + "responsibilities updated"
        if previous is None:
            return head + "points reassigned"
        if previous.labels is None:  # the first assignment ever
            return head + "points assigned"
        moved = int(np.count_nonzero(np.asarray(previous.labels) != np.asarray(step.labels)))
        if moved == 0:
            return head + "no point changed cluster"
        return head + f"{moved} point{'s' if moved != 1 else ''} reassigned"

    # M-step
    if mixture:
        text = head + "parameters updated"
        if previous is not None and _same_mixture(previous, step):
            text = head + "parameters unchanged"
        return text
    verb = "updated" if medoids else "moved"
    text = head + f"{things} {verb}"
    if previous is not None and np.array_equal(previous.centers, step.centers):
        text = head + f"{things} unchanged"
    if step.empty:
        names = ", ".join(str(int(j)) for j in step.empty)
        plural = "s" if len(step.empty) > 1 else ""
        text += f" (cluster{plural} {names} empty: centre kept)"
    return text


def _same_mixture(a, b):
    return all(
        np.array_equal(getattr(a, f), getattr(b, f)) for f in ("weights", "means", "sigmas")
    )


# ----------------------------------------------------------------------------- helpers


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # only for interactive use; the stepper passes its own Axes

    return plt.gca()


def _as_points(X):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must be a 2-D array with 2 columns to be plotted, got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError("X must not be empty")
    return X


def _as_line(x):
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x must be a non-empty 1-D array, got shape {x.shape}")
    return x


def cluster_extent(X, centers=(), pad=0.08):
    """Axis limits ``(xmin, xmax, ymin, ymax)`` that hold the points and all given centres.

    Parameters
    ----------
    X : array_like, shape (n, 2)
        The data.
    centers : sequence of array_like, shape (k, 2)
        Centre sets to include (for example every step of a history, so that the limits do
        not jump while stepping).
    pad : float
        Margin as a fraction of the larger data range.

    Returns
    -------
    tuple of float
    """
    X = _as_points(X)
    pts = [X] + [np.asarray(c, dtype=float).reshape(-1, 2) for c in centers]
    allp = np.concatenate(pts)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    span = max(float(np.max(hi - lo)), 1e-9)
    lo, hi = lo - pad * span, hi + pad * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def _nearest_centre_image(centers, extent, metric):
    """RGBA image of the nearest-centre regions: the Voronoi cells, drawn as pixels."""
    xmin, xmax, ymin, ymax = extent
    gx = np.linspace(xmin, xmax, _GRID)
    gy = np.linspace(ymin, ymax, _GRID)
    G = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
    diff = G[:, None, :] - np.asarray(centers, dtype=float)[None, :, :]
    if metric == "l1":
        d = np.abs(diff).sum(axis=-1)
    else:
        d = (diff**2).sum(axis=-1)
    region = np.argmin(d, axis=1).reshape(_GRID, _GRID)
    from matplotlib.colors import to_rgba

    colours = np.array([to_rgba(cluster_color(j), _SHADE_ALPHA) for j in range(len(centers))])
    return colours[region]


def _point_size(n):
    # big dots for the seeds' handful of points, small ones for 2,000
    return float(np.clip(2400.0 / n, 7.0, 70.0))


# ----------------------------------------------------------------------------- 2-D clusters


def cluster_legend_handles(medoids=False, moved=True):
    """Legend entries explaining :func:`plot_clusters`' marks (for a figure-level legend).

    Parameters
    ----------
    medoids : bool
        K-medoids (ringed medoids) rather than K-means (centres).
    moved : bool
        Include the "previous position" entry (drawn after M-steps).

    Returns
    -------
    list of matplotlib.lines.Line2D
    """
    handles = [
        Line2D([], [], ls="", marker="o" if medoids else "X", ms=11, mfc="white", mec="black",
               mew=1.6, label="medoid (ringed: a data point)" if medoids else "centre (mean)"),
    ]
    if moved:
        handles.append(Line2D([], [], ls="", marker="o", ms=11, mfc="none", mec="black",
                              mew=1.0, label="previous position"))
    handles.append(Line2D([], [], ls="", marker="s", ms=10, mfc=cluster_color(0), mec="none",
                          alpha=0.35, label=f"nearest-{'medoid' if medoids else 'centre'} region"))
    return handles


def plot_clusters(
    step,
    X,
    *,
    ax=None,
    previous=None,
    title=None,
    metric="l2",
    extent=None,
    legend=True,
    xlabel="$x_1$",
    ylabel="$x_2$",
):
    """Draw one half-step of K-means or K-medoids on 2-D data.

    Parameters
    ----------
    step : ClusterStep
        One element of ``fit(...).history``.
    X : array_like, shape (n, 2)
        The data the fit was run on.
    ax : matplotlib.axes.Axes, optional
        Where to draw; pyplot's current Axes if omitted.
    previous : ClusterStep, optional
        The half-step before ``step``. After an M-step an arrow goes from each previous
        centre to its new position; after an E-step the title counts reassigned points.
    title : str, optional
        Defaults to :func:`describe_step`.
    metric : {"l2", "l1"}
        The metric of the fit; it decides the shape of the shaded nearest-centre regions.
    extent : tuple of float, optional
        ``(xmin, xmax, ymin, ymax)``; defaults to :func:`cluster_extent` of the data and the
        centres drawn. Pass a fixed extent to keep the axes still while stepping.
    legend : bool
        Whether to draw the (small) legend of marker kinds.
    xlabel, ylabel : str
        Axis labels.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The background is shaded by the centre nearest to each pixel of a coarse grid, with the
    step's own centres: after an M-step a point whose colour differs from its region's is
    exactly a point the next E-step will reassign. Points without a cluster (the "init"
    step) are grey. Medoids are data points, so they are ringed.

    Examples
    --------
    >>> import matplotlib
    >>> from matplotlib.figure import Figure
    >>> import numpy as np
    >>> from algos._results import ClusterStep
    >>> X = np.array([[0., -6.], [4., 4.], [0., 0.], [-5., 2.]])
    >>> step = ClusterStep("E", 1, 70.0, np.array([1, 0, 0, 0]), X[[3, 0]])
    >>> ax = plot_clusters(step, X, ax=Figure().subplots())
    >>> ax.get_title()
    'Iteration 1, after the E-step: points reassigned'
    """
    if not isinstance(step, ClusterStep):
        raise TypeError(f"step must be a ClusterStep, got {type(step).__name__}")
    if previous is not None and not isinstance(previous, ClusterStep):
        raise TypeError(f"previous must be a ClusterStep or None, got {type(previous).__name__}")
    if metric not in ("l1", "l2"):
        raise ValueError(f"metric must be 'l1' or 'l2', got {metric!r}")
    X = _as_points(X)
    centers = np.asarray(step.centers, dtype=float)
    if centers.ndim != 2 or centers.shape[1] != 2:
        raise ValueError(f"step.centers must have shape (k, 2), got {centers.shape}")
    k = centers.shape[0]
    labels = step.labels
    if labels is not None and np.shape(labels) != (X.shape[0],):
        raise ValueError(
            f"step.labels has shape {np.shape(labels)} but X has {X.shape[0]} rows: "
            "was the step made from this X?"
        )
    ax = _axes(ax)
    if extent is None:
        shown = [centers] + ([previous.centers] if previous is not None else [])
        extent = cluster_extent(X, shown)

    ax.imshow(
        _nearest_centre_image(centers, extent, metric),
        extent=extent,
        origin="lower",
        interpolation="nearest",
        aspect="auto",
        zorder=0,
    )

    # Line2D markers, not scatter: the same picture, and much cheaper to build and draw
    size = np.sqrt(_point_size(X.shape[0]))
    edge = 0.4 if X.shape[0] <= 500 else 0.0
    if labels is None:
        ax.plot(X[:, 0], X[:, 1], ls="", marker="o", ms=size, color=UNASSIGNED_COLOR,
                mec="white", mew=edge, zorder=2)
    else:
        labels = np.asarray(labels)
        for j in range(k):  # a loop over clusters, not over points
            members = X[labels == j]
            ax.plot(members[:, 0], members[:, 1], ls="", marker=cluster_marker(j), ms=size,
                    color=cluster_color(j), mec="white", mew=edge, zorder=2)

    moved = previous is not None and step.kind == "M"
    if moved:
        old = np.asarray(previous.centers, dtype=float)
        ax.plot(old[:, 0], old[:, 1], ls="", marker="o", ms=12, mfc="none", mec="black",
                mew=1.0, zorder=3)
        for j in range(k):
            if not np.array_equal(old[j], centers[j]):
                ax.annotate("", xy=centers[j], xytext=old[j], zorder=4,
                            arrowprops=dict(arrowstyle="-|>", color="black", lw=1.6,
                                            shrinkA=4, shrinkB=7, mutation_scale=14))

    medoids = step.medoid_indices is not None
    for j in range(k):
        ax.plot(centers[j, 0], centers[j, 1], ls="", marker="o" if medoids else "X",
                ms=16 if medoids else 17, mfc=cluster_color(j), mec="black", mew=1.6, zorder=5)
    if medoids:
        ax.plot(centers[:, 0], centers[:, 1], ls="", marker="o", ms=25, mfc="none",
                mec="black", mew=1.8, zorder=5)
    for j in step.empty:
        ax.annotate("empty", xy=centers[int(j)], xytext=(8, 8), textcoords="offset points",
                    fontsize=8, zorder=6)

    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(describe_step(step, previous) if title is None else title, fontsize=10)
    if legend:
        ax.legend(handles=cluster_legend_handles(medoids, moved), loc="upper left", fontsize=7,
                  framealpha=0.85, borderpad=0.4, handletextpad=0.3, labelspacing=0.3)
    return ax


# ----------------------------------------------------------------------------- 1-D mixtures


def _normal_pdf(xs, mean, sigma):
    return np.exp(-0.5 * ((xs - mean) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def mixture_xlim(x, steps=(), pad=0.1):
    """Axis limits for 1-D data and the components of the given steps (within 3 sigmas).

    Parameters
    ----------
    x : array_like, shape (n,)
    steps : sequence of MixtureStep
        Usually a whole history, so that the axes do not move while stepping.
    pad : float
        Margin as a fraction of the range.

    Returns
    -------
    tuple of float
    """
    x = _as_line(x)
    lo, hi = float(x.min()), float(x.max())
    for s in steps:
        m, sd = np.asarray(s.means, float), np.asarray(s.sigmas, float)
        lo = min(lo, float(np.min(m - 3 * sd)))
        hi = max(hi, float(np.max(m + 3 * sd)))
    # keep far-out initial components from squashing the data into a sliver
    span0 = float(x.max() - x.min()) or 1.0
    lo = max(lo, float(x.min()) - 2 * span0)
    hi = min(hi, float(x.max()) + 2 * span0)
    span = hi - lo or 1.0
    return lo - pad * span, hi + pad * span


def mixture_peak(step, xlim, num=400):
    """Largest value of the step's mixture density on ``xlim`` (for a fixed y-axis)."""
    xs = np.linspace(xlim[0], xlim[1], num)
    comp = np.asarray(step.weights)[:, None] * _normal_pdf(
        xs[None, :], np.asarray(step.means)[:, None], np.asarray(step.sigmas)[:, None]
    )
    return float(max(comp.sum(axis=0).max(), comp.max()))


def mixture_legend_handles(k, histogram=False):
    """Legend entries for :func:`plot_mixture` without the parameters (a figure-level legend).

    Parameters
    ----------
    k : int
        Number of components.
    histogram : bool
        Include the histogram entry (drawn for 20 points or more).

    Returns
    -------
    list of matplotlib.artist.Artist
    """
    from matplotlib.patches import Patch

    handles = [Patch(color="#D9D9D9", label="data (histogram)")] if histogram else []
    handles += [Line2D([], [], color=cluster_color(j), lw=2, ls="--", label=f"component {j}")
                for j in range(k)]
    handles.append(Line2D([], [], color="black", lw=2, label="mixture"))
    handles.append(Patch(facecolor=cluster_color(0), edgecolor=cluster_color(1), hatch="////",
                         label="responsibilities (bars below 0)"))
    return handles


def plot_mixture(step, x, *, ax=None, title=None, xlim=None, ymax=None, legend=True,
                 xlabel="$x$", band_label=True):
    """Draw one half-step of 1-D Gaussian-mixture EM.

    Parameters
    ----------
    step : MixtureStep
        One element of ``gmm1d.fit(...).history``.
    x : array_like, shape (n,)
        The data the fit was run on.
    ax : matplotlib.axes.Axes, optional
        Where to draw; pyplot's current Axes if omitted.
    title : str, optional
        Defaults to :func:`describe_step`.
    xlim : tuple of float, optional
        Defaults to :func:`mixture_xlim` of the data and this step.
    ymax : float, optional
        Top of the density axis; defaults to 1.15 times the highest curve (and histogram).
    legend : bool
        Whether to list the components' parameters in a legend.
    xlabel : str
        Label of the x axis.
    band_label : bool
        Whether to write what the band below the axis shows (a figure-level legend from
        :func:`mixture_legend_handles` can say it instead).

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Above zero: a light histogram of the data (only with 20 points or more), each weighted
    component ``w_j N(x | mu_j, sigma_j)`` dashed in its cluster colour, and the mixture
    (their sum) in black. Below zero, one bar per data point stacks its responsibilities
    ``r_nj`` in the component colours, so a half-and-half point shows two equal halves. In
    the "init" step there are no responsibilities yet and the points are a grey rug.

    After an M-step the bars still show the responsibilities the M-step used (the ones of
    the E-step before it), while the curves show the new parameters.
    """
    if not isinstance(step, MixtureStep):
        raise TypeError(f"step must be a MixtureStep, got {type(step).__name__}")
    x = _as_line(x)
    if step.resp is not None and np.shape(step.resp)[0] != x.size:
        raise ValueError(
            f"step.resp has {np.shape(step.resp)[0]} rows but x has {x.size} points: "
            "was the step made from this x?"
        )
    ax = _axes(ax)
    weights = np.asarray(step.weights, float)
    means = np.asarray(step.means, float)
    sigmas = np.asarray(step.sigmas, float)
    k = weights.size
    if xlim is None:
        xlim = mixture_xlim(x, [step])
    xs = np.linspace(xlim[0], xlim[1], 500)
    comps = weights[:, None] * _normal_pdf(xs[None, :], means[:, None], sigmas[:, None])
    mix = comps.sum(axis=0)

    top = float(mix.max())
    if x.size >= 20:
        # one StepPatch, not a Rectangle per bin: the same picture, cheaper to redraw
        heights, edges = np.histogram(x, bins="auto", density=True)
        ax.stairs(heights, edges, fill=True, color="#D9D9D9", zorder=1, label="data (histogram)")
        top = max(top, float(np.max(heights)))
    if ymax is None:
        ymax = 1.15 * top
    for j in range(k):
        c = cluster_color(j)
        ax.fill_between(xs, comps[j], color=c, alpha=0.12, linewidth=0, zorder=2)
        ax.plot(xs, comps[j], color=c, lw=2, ls="--", zorder=3,
                label=f"{j}: w={weights[j]:.2f}, $\\mu$={means[j]:.2f}, $\\sigma$={sigmas[j]:.2f}")
    ax.plot(xs, mix, color="black", lw=2, zorder=4, label="mixture")

    # responsibilities: a band below the axis, one stacked bar per point
    band = 0.22 * ymax
    gap = 0.04 * ymax
    base = -gap - band
    width = float(np.clip(300.0 / x.size, 1.0, 9.0))
    if step.resp is None:
        ax.vlines(x, base, -gap, color=UNASSIGNED_COLOR, lw=width, zorder=3)
        band_text = "points (no responsibilities yet)"
    elif x.size <= _BARS_UP_TO:
        # few points: one bar per point, split into its responsibilities
        resp = np.asarray(step.resp, float)
        cum = np.concatenate([np.zeros((x.size, 1)), np.cumsum(resp, axis=1)], axis=1)
        lo = base + band * cum[:, :-1]  # (n, k)
        hi = base + band * cum[:, 1:]
        xx = np.broadcast_to(x[:, None], lo.shape)
        segs = np.stack([np.stack([xx, lo], -1), np.stack([xx, hi], -1)], axis=2)
        colours = [cluster_color(j) for j in range(k)] * x.size
        ax.add_collection(LineCollection(segs.reshape(-1, 2, 2), colors=colours,
                                         linewidths=width, zorder=3))
        band_text = "responsibilities r_nj of each point"
    else:
        # many points: bars would overlap, so stack the responsibilities as bands over the
        # sorted points (each band's height at a point is that point's r_nj)
        order = np.argsort(x, kind="stable")
        xs_sorted = x[order]
        cum = np.cumsum(np.asarray(step.resp, float)[order], axis=1)
        lower = np.full(x.size, base)
        for j in range(k):
            upper = base + band * cum[:, j]
            ax.fill_between(xs_sorted, lower, upper, step="mid", color=cluster_color(j),
                            linewidth=0, zorder=3)
            lower = upper
        ax.plot(xs_sorted, np.full(x.size, base), ls="", marker="|", ms=4, color="black",
                alpha=0.5, zorder=4)
        band_text = "responsibilities r_nj of the points (stacked)"
    ax.axhline(0, color="black", lw=0.8, zorder=3)
    if band_label:
        ax.annotate(band_text, xy=(0.01, 0), xycoords=("axes fraction", "data"), xytext=(0, -3),
                    textcoords="offset points", va="top", fontsize=7, color="#333333", zorder=5)

    ax.set_xlim(*xlim)
    ax.set_ylim(base - 0.5 * gap, ymax)
    ticks = MaxNLocator(nbins=5).tick_values(0, ymax)
    ax.set_yticks(ticks[(ticks >= 0) & (ticks <= ymax)])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(describe_step(step) if title is None else title, fontsize=10)
    if legend:
        ax.legend(loc="upper left", fontsize=7, framealpha=0.85, borderpad=0.4,
                  handlelength=1.6, labelspacing=0.3)
    return ax


# ----------------------------------------------------------------------------- objective


def objective_label(history):
    """Name of the objective a history records, for an axis label.

    Returns ``"log-likelihood"`` for EM, ``"cost (sum of distances)"`` for K-medoids and
    ``"objective (sum of squared distances)"`` for K-means.
    """
    first = history[0]
    if isinstance(first, MixtureStep):
        return "log-likelihood"
    if _is_medoid_step(first):
        return "cost (sum of distances)"
    return "objective (sum of squared distances)"


def half_step_name(step):
    """Short tick label of a half-step: ``"init"``, ``"E1"``, ``"M1"``, ``"E2"``, ...

    The kind comes first: "2M" would read as two million on an axis.
    """
    return "init" if step.kind == "init" else f"{step.kind}{step.iteration}"


_KIND_MARKER = {"init": "D", "E": "o", "M": "s"}


def objective_legend_handles():
    """Legend entries for :func:`plot_objective`'s markers (for a figure-level legend)."""
    return [Line2D([], [], ls="", marker=m, ms=5, color=PALETTE[4], label=lab)
            for m, lab in (("D", "start"), ("o", "after E-step"), ("s", "after M-step"))] + [
        Line2D([], [], ls="", marker="o", ms=9, mfc="none", mec=PALETTE[5], mew=2,
               label="current half-step")]


def plot_objective(history, *, current=None, ax=None, ylabel=None, title=None, legend=True):
    """Plot the objective after every half-step, with the current one marked.

    Parameters
    ----------
    history : sequence of ClusterStep or MixtureStep
        A fit's ``history``.
    current : int, optional
        Index into ``history`` of the half-step to mark.
    ax : matplotlib.axes.Axes, optional
        Where to draw; pyplot's current Axes if omitted.
    ylabel : str, optional
        Defaults to :func:`objective_label`.
    title : str, optional
        Defaults to the current value (or ``"Objective"``).
    legend : bool
        Whether to draw the legend of marker kinds.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Half-steps whose objective is ``None`` (K-means and K-medoids before the first
    assignment) are left out. E-steps are circles, M-steps squares. K-means and K-medoids
    never go up and EM's log-likelihood never goes down: a kink the wrong way is a bug.
    """
    history = tuple(history)
    if not history:
        raise ValueError("history must not be empty")
    for s in history:
        _check_step(s, "history element")
    if current is not None:
        current = int(current)
        if not 0 <= current < len(history):
            raise ValueError(f"current must be in [0, {len(history) - 1}], got {current}")
    ax = _axes(ax)
    values = np.array([np.nan if s.objective is None else float(s.objective) for s in history])
    idx = np.arange(len(history))
    ax.plot(idx, values, color="#777777", lw=1.2, zorder=1)
    for kind, marker in _KIND_MARKER.items():
        sel = np.array([s.kind == kind for s in history])
        if sel.any():
            ax.plot(idx[sel], values[sel], ls="", marker=marker, ms=4.5, color=PALETTE[4],
                    zorder=2, label={"init": "start", "E": "after E-step", "M": "after M-step"}[kind])
    if current is not None:
        ax.axvline(current, color=PALETTE[5], lw=1.2, zorder=0)
        if not np.isnan(values[current]):
            ax.plot([current], [values[current]], ls="", marker="o", ms=11, mfc="none",
                    mec=PALETTE[5], mew=2, zorder=3)
    names = [half_step_name(s) for s in history]
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _: names[int(v)] if float(v).is_integer() and 0 <= v < len(names) else "")
    )
    ax.set_xlim(-0.5, len(history) - 0.5)
    ax.set_xlabel("half-step")
    ax.set_ylabel(objective_label(history) if ylabel is None else ylabel, fontsize=9)
    if title is None:
        if current is not None and not np.isnan(values[current]):
            title = f"now: {values[current]:.6g}"
        else:
            title = "Objective"
    ax.set_title(title, fontsize=10)
    if legend:
        ax.legend(loc="best" if len(history) < 200 else "upper right", fontsize=7,
                  framealpha=0.85)
    return ax


def plot_step(history, index, data, *, ax=None, metric="l2", extent=None, xlim=None,
              ymax=None, title=None, legend=True):
    """Draw ``history[index]`` with the right function, passing the step before it.

    Parameters
    ----------
    history : sequence of ClusterStep or MixtureStep
    index : int
    data : array_like
        ``X`` (n, 2) for K-means / K-medoids, ``x`` (n,) for EM.
    ax, metric, extent, xlim, ymax, title, legend
        Passed on to :func:`plot_clusters` or :func:`plot_mixture`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    step = history[index]
    previous = history[index - 1] if index > 0 else None
    if isinstance(step, MixtureStep):
        return plot_mixture(step, data, ax=ax, title=title, xlim=xlim, ymax=ymax, legend=legend,
                            band_label=legend)
    return plot_clusters(step, data, ax=ax, previous=previous, title=title, metric=metric,
                         extent=extent, legend=legend)
