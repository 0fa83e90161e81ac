"""Figures that draw one half-step of a fit, read straight from its ``history``.

Every function here only *reads* a :class:`~algos._results.ClusterStep`,
:class:`~algos._results.MixtureStep` or :class:`~algos._results.GaussianMixtureStep`.
Nothing is re-fitted for display: the only numbers
computed here are purely visual (the nearest-centre regions of the step's own centres, the
density curves of the step's own mixture parameters) or descriptive (the text alternative).

Sizes are chosen for the book's page. A figure is designed at ``PX_PER_INCH`` = 100 CSS
pixels per inch and never shown smaller than that, so a text of ``s`` points is
``s * 100 / 72`` CSS pixels on the page: :data:`FONT_SIZES` keep every text at 13 px or more,
above the 12 px floor (:data:`MIN_TEXT_PX`) that a classroom projector still shows legibly.
:func:`figure` makes a figure as wide as the content column (:data:`COLUMN_WIDTH`);
:func:`show` displays it with its text alternative and refuses a figure with text that would
be too small, a legend over the data, or a width the column cannot hold.

Every ``plot_*`` function also records a description of what it drew, made from the same
numbers (:func:`describe_clusters`, :func:`describe_mixture`, :func:`describe_objective`);
:func:`show` puts those descriptions into the figure's text alternative.

With ``ax=None`` a ``plot_*`` function draws into pyplot's current Axes. The step-through
passes Axes of its own :class:`matplotlib.figure.Figure`, so it never touches pyplot and never
leaks a figure.
"""

from __future__ import annotations

import base64
import io
import sys
import weakref

import numpy as np
from cycler import cycler
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse, Patch
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.transforms import ScaledTranslation

from ._results import ClusterStep, GaussianMixtureStep, MixtureStep

#: The half-steps of EM (1-D and d-dimensional): their objective is a log-likelihood.
_MIXTURE_STEPS = (MixtureStep, GaussianMixtureStep)

# ----------------------------------------------------------------------------- page sizes

#: Width in CSS pixels of the book's content column in a 1280 px wide window (sphinx-book-theme
#: 1.3 with the "Contents" sidebar; 755 px at 1024, 358 px on a 390 px phone). A figure is
#: at most this wide, so on a laptop or a projector it is never scaled down.
COLUMN_WIDTH = 688

#: Width in CSS pixels of a panel that fits a 390 px phone's 358 px column (with a border).
PHONE_WIDTH = 350

#: CSS pixels per inch of figure: a figure ``w`` inches wide is ``100 w`` CSS pixels on the page.
PX_PER_INCH = 100

#: Smallest text, in CSS pixels, allowed on a figure as it is shown on the page.
MIN_TEXT_PX = 12.0

#: Font sizes in points. At 100 CSS px per inch, 9.5 pt is 13.2 px, the smallest text.
FONT_SIZES = {"small": 9.5, "normal": 10.5, "large": 11.5}

#: Resolution of the PNG that :func:`show` writes, as a multiple of ``PX_PER_INCH``: sharp on
#: high-density screens and in print, shown at ``PX_PER_INCH`` per inch.
PNG_SCALE = 2

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

#: Ten cluster colours: the Okabe-Ito palette without black (kept for centres and curves),
#: then wine, indigo and brown (wine and indigo from Paul Tol's "muted" scheme), chosen so
#: that every pair stays apart under simulated protan-, deutan- and tritanopia (Machado et
#: al. 2009) as far as the Okabe-Ito colours themselves do. Pale yellow comes last.
CLUSTER_COLORS = (
    PALETTE[4],  # blue
    PALETTE[0],  # orange
    PALETTE[2],  # bluish green
    PALETTE[5],  # vermillion
    PALETTE[6],  # reddish purple
    PALETTE[1],  # sky blue
    "#882255",  # wine
    "#332288",  # indigo
    "#6F4E37",  # brown
    PALETTE[3],  # yellow
)

#: One marker shape per cluster, so that clusters differ in shape as well as in colour
#: (greyscale print, and the few readers no palette serves). Twelve shapes against ten
#: colours: the first 60 clusters all get a different colour-and-marker pair.
CLUSTER_MARKERS = ("o", "s", "^", "D", "v", "P", "h", "*", "<", ">", "p", "X")

#: Colour of points that have no cluster yet (the "init" half-step).
UNASSIGNED_COLOR = "#8C8C8C"

#: Matplotlib settings of the book's figures (applied by :func:`figure` and the step-through).
STYLE = {
    "font.size": FONT_SIZES["normal"],
    "axes.titlesize": FONT_SIZES["large"],
    "axes.labelsize": FONT_SIZES["normal"],
    "xtick.labelsize": FONT_SIZES["small"],
    "ytick.labelsize": FONT_SIZES["small"],
    "legend.fontsize": FONT_SIZES["small"],
    "legend.title_fontsize": FONT_SIZES["normal"],
    "figure.titlesize": FONT_SIZES["large"] + 1,
    "figure.dpi": PX_PER_INCH,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=CLUSTER_COLORS),
    "legend.framealpha": 0.9,
}

_SHADE_ALPHA = 0.18  # strength of the nearest-centre regions' colours over white
_BARS_UP_TO = 60  # up to this many points, each gets its own responsibility bar
_DESCRIPTIONS = weakref.WeakKeyDictionary()  # Axes -> what a plot_* function drew on it


def cluster_color(j):
    """Colour of cluster ``j`` (cycles through :data:`CLUSTER_COLORS`)."""
    return CLUSTER_COLORS[int(j) % len(CLUSTER_COLORS)]


def cluster_marker(j):
    """Marker shape of cluster ``j`` (cycles through :data:`CLUSTER_MARKERS`)."""
    return CLUSTER_MARKERS[int(j) % len(CLUSTER_MARKERS)]


def _shade(j):
    """Opaque pale version of cluster ``j``'s colour (the colour at 18 % over white).

    Opaque, so that the pieces a region is drawn from leave no seams where they meet.
    """
    rgb = np.asarray(to_rgb(cluster_color(j)))
    return tuple(1.0 - _SHADE_ALPHA * (1.0 - rgb))


# ----------------------------------------------------------------------------- titles


def _is_medoid_step(step):
    return isinstance(step, ClusterStep) and step.medoid_indices is not None


def _check_step(step, name="step"):
    if not isinstance(step, (ClusterStep, MixtureStep, GaussianMixtureStep)):
        raise TypeError(
            f"{name} must be a ClusterStep, MixtureStep or GaussianMixtureStep from a fit's "
            "history, "
            f"got {type(step).__name__}"
        )


def _same_mixture(a, b):
    spread = "covariances" if isinstance(a, GaussianMixtureStep) else "sigmas"
    return all(
        np.array_equal(getattr(a, f), getattr(b, f)) for f in ("weights", "means", spread)
    )


def step_changed(step, previous):
    """Whether half-step ``step`` changed anything since ``previous``.

    Parameters
    ----------
    step, previous : ClusterStep, MixtureStep or GaussianMixtureStep
        Two consecutive elements of a fit's ``history``.

    Returns
    -------
    bool
        For an E-step of K-means / K-medoids: some point changed cluster (the first
        assignment always counts as a change); for an E-step of EM: always True (the
        responsibilities are recomputed); for an M-step: the centres, medoids or mixture
        parameters are not all exactly equal to the previous ones. True for an "init" step.
    """
    _check_step(step)
    _check_step(previous, "previous")
    if step.kind == "E":
        if isinstance(step, _MIXTURE_STEPS) or previous.labels is None:
            return True
        return not np.array_equal(previous.labels, step.labels)
    if step.kind == "M":
        if isinstance(step, _MIXTURE_STEPS):
            return not _same_mixture(previous, step)
        return not np.array_equal(previous.centers, step.centers)
    return True


def describe_step(step, previous=None):
    """Say in words where a half-step is, for a figure title or a caption.

    Parameters
    ----------
    step : ClusterStep, MixtureStep or GaussianMixtureStep
        One element of a fit's ``history``.
    previous : ClusterStep, MixtureStep or GaussianMixtureStep, optional
        The half-step before ``step``. When given, the title says whether anything changed
        (how many points were reassigned, or that the centres did not move).

    Returns
    -------
    str
        For example ``"Start: initial centres"``, ``"Iteration 3, after the E-step: 4 points
        reassigned"`` or ``"Iteration 3, after the M-step: centres moved"``.

    Notes
    -----
    Clusters are numbered from 0, as in the code. An empty cluster (K-means keeps its
    previous centre) is named in the title, so the failure mode is visible. Whether a step
    changed anything is decided by :func:`step_changed`, the rule the step-through's "Done"
    sentence uses too, so a title and a caption never disagree.

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
    mixture = isinstance(step, _MIXTURE_STEPS)
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
        unchanged = previous is not None and not step_changed(step, previous)
        return head + ("parameters unchanged" if unchanged else "parameters updated")
    if previous is not None and not step_changed(step, previous):
        text = head + f"{things} unchanged"
    else:
        text = head + f"{things} {'updated' if medoids else 'moved'}"
    if step.empty:
        names = ", ".join(str(int(j)) for j in step.empty)
        plural = "s" if len(step.empty) > 1 else ""
        text += f" (cluster{plural} {names} empty: centre kept)"
    return text


def objective_label(history):
    """Name of the objective a history records, short enough for an axis label.

    Returns ``"log-likelihood"`` for EM, ``"cost J"`` for K-medoids and ``"objective J"``
    for K-means (:func:`objective_text` says which distances J sums).
    """
    first = history[0]
    if isinstance(first, _MIXTURE_STEPS):
        return "log-likelihood"
    if _is_medoid_step(first):
        return "cost J"
    return "objective J"


def objective_text(step, metric="l2"):
    """The objective of one half-step in words, e.g. ``"Log-likelihood: -24.5125"``.

    Parameters
    ----------
    step : ClusterStep, MixtureStep or GaussianMixtureStep
    metric : {"l2", "l1"}
        The metric of a K-means or K-medoids fit (ignored for EM).

    Returns
    -------
    str
        Six significant digits, or "not defined yet" before the first assignment.
    """
    _check_step(step)
    if isinstance(step, _MIXTURE_STEPS):
        name = "Log-likelihood"
    elif _is_medoid_step(step):
        name = f"Cost (sum of {metric} distances)"
    elif metric == "l1":
        name = "Objective (sum of l1 distances)"
    else:
        name = "Objective (sum of squared distances)"
    if step.objective is None:
        return f"{name}: not defined yet (no point is assigned)"
    return f"{name}: {step.objective:.6g}"


def half_step_name(step):
    """Short tick label of a half-step: ``"init"``, ``"E1"``, ``"M1"``, ``"E2"``, ...

    The kind comes first: "2M" would read as two million on an axis.
    """
    return "init" if step.kind == "init" else f"{step.kind}{step.iteration}"


# ----------------------------------------------------------------------------- descriptions


def _lower_first(text):
    return text[:1].lower() + text[1:]


def _xy(c):
    return f"({c[0]:.2f}, {c[1]:.2f})"


def describe_clusters(step, X, previous=None, metric="l2"):
    """Describe in words what :func:`plot_clusters` draws, from the same numbers.

    Parameters
    ----------
    step : ClusterStep
        One element of a K-means or K-medoids ``history``.
    X : array_like, shape (n, 2)
        The data the fit was run on.
    previous : ClusterStep, optional
        The half-step before ``step`` (for what changed).
    metric : {"l2", "l1"}
        The metric of the fit.

    Returns
    -------
    str
        A few sentences: the method, where the step is, the cluster sizes, where the centres
        (or medoids) are, how far they moved, empty clusters and the objective. Meant as the
        text alternative of the figure, for readers who cannot see it.
    """
    if not isinstance(step, ClusterStep):
        raise TypeError(f"step must be a ClusterStep, got {type(step).__name__}")
    X = _as_points(X)
    centers = np.asarray(step.centers, dtype=float)
    k, n = centers.shape[0], X.shape[0]
    medoids = step.medoid_indices is not None
    method = "K-medoids" if medoids else "K-means"
    parts = [f"{method} with K = {k} on {n} points; {_lower_first(describe_step(step, previous))}."]
    if step.labels is None:
        parts.append("No point is assigned yet: all points are grey.")
    else:
        sizes = np.bincount(np.asarray(step.labels), minlength=k)
        parts.append("Cluster sizes " + ", ".join(str(int(s)) for s in sizes) + ".")
    shown = min(k, 8)
    where = ", ".join(_xy(c) for c in centers[:shown]) + (" ..." if k > shown else "")
    label = "Medoids (ringed data points)" if medoids else "Centres (crosses)"
    parts.append(f"{label} at {where}.")
    if previous is not None and step.kind == "M":
        move = np.sqrt(((centers - np.asarray(previous.centers, float)) ** 2).sum(axis=1))
        if move.max() > 0:
            j = int(np.argmax(move))
            parts.append(f"Arrows show the moves; the largest is cluster {j}'s, {move[j]:.2f}.")
    if step.empty:
        names = ", ".join(str(int(j)) for j in step.empty)
        parts.append(f"Empty: cluster {names}, which keeps its centre.")
    parts.append(f"The shading shows each {'medoid' if medoids else 'centre'}'s region of "
                 f"nearest points ({metric} distance).")
    parts.append(objective_text(step, metric) + ".")
    return " ".join(parts)


def describe_mixture(step, x, previous=None):
    """Describe in words what :func:`plot_mixture` draws, from the same numbers.

    Parameters
    ----------
    step : MixtureStep
        One element of a ``gmm1d.fit(...).history``.
    x : array_like, shape (n,)
        The data the fit was run on.
    previous : MixtureStep, optional
        The half-step before ``step`` (for what changed).

    Returns
    -------
    str
        The step, each component's weight, mean and standard deviation, how many points each
        component is most responsible for, and the log-likelihood.
    """
    if not isinstance(step, MixtureStep):
        raise TypeError(f"step must be a MixtureStep, got {type(step).__name__}")
    x = _as_line(x)
    k = len(step.means)
    parts = [f"Gaussian mixture with K = {k} on {x.size} points; "
             f"{_lower_first(describe_step(step, previous))}."]
    comps = "; ".join(
        f"component {j}: weight {w:.2f}, mean {m:.2f}, sigma {s:.2f}"
        for j, (w, m, s) in enumerate(zip(step.weights, step.means, step.sigmas))
    )
    parts.append(f"Curves of {k} weighted normal densities ({comps}) and their sum.")
    if step.resp is None:
        parts.append("No responsibilities yet: the points are a grey rug below the axis.")
    else:
        most = np.bincount(np.argmax(np.asarray(step.resp), axis=1), minlength=k)
        counts = ", ".join(f"{int(c)} to component {j}" for j, c in enumerate(most))
        parts.append("Below the axis each point's bar is split by its responsibilities r_nk; "
                     f"the largest share goes {counts}.")
    parts.append(objective_text(step) + ".")
    return " ".join(parts)


def _objective_values(history):
    return np.array([np.nan if s.objective is None else float(s.objective) for s in history])


def describe_objective(history, current=None, *, hide_future=True):
    """Describe in words what :func:`plot_objective` draws, from the same numbers.

    Parameters
    ----------
    history : sequence of ClusterStep, MixtureStep or GaussianMixtureStep
    current : int, optional
        The marked half-step.
    hide_future : bool
        With ``current``: describe the curve only up to it, as the step-through shows it.

    Returns
    -------
    str
        How many half-steps are shown, the first and last value, whether the curve ever
        goes the wrong way (K-means and K-medoids never go up, EM never goes down), and the
        current value.
    """
    history = tuple(history)
    if not history:
        raise ValueError("history must not be empty")
    values = _objective_values(history)
    names = [half_step_name(s) for s in history]
    last = len(history) - 1 if current is None or not hide_future else int(current)
    shown = [i for i in range(last + 1) if not np.isnan(values[i])]
    label = objective_label(history)
    upto = f" up to {names[last]}" if last < len(history) - 1 else ""
    if not shown:
        return f"The {label} after each half-step{upto}: not defined yet (no point is assigned)."
    text = (f"The {label} after each half-step{upto}: {len(shown)} values, from "
            f"{values[shown[0]]:.6g} at {names[shown[0]]} to {values[shown[-1]]:.6g} at "
            f"{names[shown[-1]]}.")
    vals = values[shown]
    mixture = isinstance(history[0], _MIXTURE_STEPS)
    scale = 1e-9 * max(1.0, float(np.max(np.abs(vals))))
    wrong = np.flatnonzero((np.diff(vals) < -scale) if mixture else (np.diff(vals) > scale))
    if len(shown) > 1:
        if wrong.size:
            text += (f" It goes {'down' if mixture else 'up'} at "
                     + ", ".join(names[shown[i + 1]] for i in wrong[:5]) + ".")
        else:
            text += f" It never goes {'down' if mixture else 'up'}."
    if current is not None and not np.isnan(values[int(current)]):
        text += f" Marked: {names[int(current)]}, {values[int(current)]:.6g}."
    return text


def describe(ax, text=None):
    """Get or set the description of what an Axes shows (used by :func:`show`).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    text : str, optional
        The new description. Omit it to read the current one.

    Returns
    -------
    str or None
        The description (None if nothing was recorded). Every ``plot_*`` function records
        one; set your own for a panel you drew by hand.
    """
    if text is None:
        return _DESCRIPTIONS.get(ax)
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must be a non-empty string")
    _DESCRIPTIONS[ax] = text.strip()
    return _DESCRIPTIONS[ax]


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


def cluster_extent(X, centers=(), pad=0.08, aspect=None):
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
    aspect : float, optional
        Height / width of the Axes box the extent is for. When given, the shorter side is
        widened (about its middle) so that one unit is as long on both axes: the picture
        keeps true geometry without empty bands.

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
    if aspect is not None:
        aspect = float(aspect)
        if not aspect > 0:
            raise ValueError(f"aspect must be positive, got {aspect}")
        w, h = hi - lo
        mid = (lo + hi) / 2
        if h / w < aspect:
            h = w * aspect
        else:
            w = h / aspect
        lo, hi = mid - [w / 2, h / 2], mid + [w / 2, h / 2]
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def _clip(poly, a, b, c, keep_if_flat):
    """Part of the convex polygon ``poly`` (m, 2) where ``a x + b y <= c``."""
    if poly.shape[0] == 0:
        return poly
    if a == 0 and b == 0:  # the two distances differ by a constant here
        return poly if keep_if_flat else poly[:0]
    s = poly @ np.array([a, b]) - c
    inside = s <= 0
    if inside.all():
        return poly
    if not inside.any():
        return poly[:0]
    out = []
    nxt = np.roll(np.arange(poly.shape[0]), -1)
    for i, j in enumerate(nxt):
        if inside[i]:
            out.append(poly[i])
        if inside[i] != inside[j]:
            t = s[i] / (s[i] - s[j])
            out.append(poly[i] + t * (poly[j] - poly[i]))
    return np.array(out)


def nearest_centre_regions(centers, box, metric="l2"):
    """The exact regions of points nearest to each centre (Voronoi cells), as polygons.

    Parameters
    ----------
    centers : array_like, shape (k, 2)
    box : tuple of float
        ``(xmin, xmax, ymin, ymax)``: the regions are cut to this rectangle.
    metric : {"l2", "l1"}

    Returns
    -------
    list of (int, ndarray)
        ``(j, polygon)`` pairs, each polygon an (m, 2) array of corners; a cluster can own
        several polygons (l1) or none (a duplicate centre).

    Notes
    -----
    A point is nearer to centre j than to centre i where ``d_j(x) - d_i(x) <= 0``. For l2
    that difference is affine in x (the squares cancel), so j's cell is the box cut by k - 1
    half-planes, each a perpendicular bisector. For l1 it is affine inside each rectangle of
    the grid of vertical and horizontal lines through the centres (there every
    ``|x - c|`` has a fixed sign), so the cell is cut rectangle by rectangle. Where two
    distances are equal over a whole area (l1 only) or two centres coincide, the lower index
    wins, as in the E-step. The cuts are exact: the boundaries are straight lines at any zoom.
    """
    C = np.asarray(centers, dtype=float).reshape(-1, 2)
    xmin, xmax, ymin, ymax = (float(v) for v in box)
    if metric == "l2":
        xs, ys = [xmin, xmax], [ymin, ymax]
    elif metric == "l1":
        xs = np.unique(np.r_[xmin, xmax, C[:, 0].clip(xmin, xmax)])
        ys = np.unique(np.r_[ymin, ymax, C[:, 1].clip(ymin, ymax)])
    else:
        raise ValueError(f"metric must be 'l1' or 'l2', got {metric!r}")
    k = C.shape[0]
    regions = []
    for x0, x1 in zip(xs[:-1], xs[1:]):
        for y0, y1 in zip(ys[:-1], ys[1:]):
            rect = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
            mid = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
            if metric == "l1":
                sx, sy = np.sign(mid[0] - C[:, 0]), np.sign(mid[1] - C[:, 1])
                # d_m(x) = sx_m (x - cx_m) + sy_m (y - cy_m): coefficients and constant
                coef = np.c_[sx, sy]
                const = -(sx * C[:, 0] + sy * C[:, 1])
            else:
                # |x - c|^2 without the common |x|^2: -2 c . x + |c|^2
                coef = -2.0 * C
                const = (C**2).sum(axis=1)
            for j in range(k):
                poly = rect
                for i in range(k):
                    if i == j:
                        continue
                    a, b = coef[j] - coef[i]
                    gap = const[j] - const[i]  # d_j - d_i = a x + b y + gap
                    # where the two are equal everywhere, the lower index keeps the area
                    poly = _clip(poly, a, b, -gap, keep_if_flat=gap < 0 or (gap == 0 and j < i))
                    if poly.shape[0] == 0:
                        break
                if poly.shape[0] >= 3:
                    regions.append((j, poly))
    return regions


def _draw_regions(ax, centers, extent, metric):
    xmin, xmax, ymin, ymax = extent
    w, h = xmax - xmin, ymax - ymin
    # wider than the view, so that an equal-aspect Axes that widens its limits stays covered
    box = (xmin - w, xmax + w, ymin - h, ymax + h)
    regions = nearest_centre_regions(centers, box, metric)
    colours = [_shade(j) for j, _ in regions]
    # edges in the fill colour close the hairline gaps antialiasing leaves between pieces
    ax.add_collection(PolyCollection([p for _, p in regions], facecolors=colours,
                                     edgecolors=colours, linewidths=0.6, zorder=0),
                      autolim=False)


def _point_size(n):
    # big dots for the seeds' handful of points, small ones for 2,000
    return float(np.clip(2400.0 / n, 9.0, 80.0))


def _set_view(ax, extent):
    """Show at least ``extent`` with equal scales on both axes.

    The limits widen to fill the Axes box (they are data limits, autoscaled without margins,
    so matplotlib may widen them); when the Axes share both axes with others, the box shrinks
    instead.
    """
    shared = (len(ax.get_shared_x_axes().get_siblings(ax)) > 1
              and len(ax.get_shared_y_axes().get_siblings(ax)) > 1)
    ax.set_aspect("equal", adjustable="box" if shared else "datalim")
    ax.dataLim.update_from_data_xy([(extent[0], extent[2]), (extent[1], extent[3])],
                                   ignore=False)
    ax.set_xmargin(0)
    ax.set_ymargin(0)
    ax.autoscale(True)


def set_title(ax, text, **kwargs):
    """Set ``ax``'s title, broken onto two lines when one line is wider than the panel.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    text : str
    **kwargs
        Passed on to :meth:`matplotlib.axes.Axes.set_title`.

    Returns
    -------
    matplotlib.text.Text
    """
    title = ax.set_title(text, **kwargs)
    if "\n" in text or not text:
        return title
    renderer = _ensure_canvas(ax.figure).get_renderer()
    room = ax.get_position().width * ax.figure.get_figwidth() * ax.figure.dpi
    if title.get_window_extent(renderer).width <= 1.05 * room:
        return title
    # break after a colon if there is one, else at the space nearest the middle
    if ": " in text:
        head, tail = text.split(": ", 1)
        return ax.set_title(f"{head}:\n{tail}", **kwargs)
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    if not spaces:
        return title
    cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return ax.set_title(text[:cut] + "\n" + text[cut + 1:], **kwargs)


def legend_below(ax, handles=None, *, ncol=2, **kwargs):
    """Put ``ax``'s legend under the Axes, below its x label, where it covers no data.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    handles : list of matplotlib.artist.Artist, optional
        Legend entries; by default the labelled artists of ``ax``.
    ncol : int
        Number of columns.
    **kwargs
        Passed on to :meth:`matplotlib.axes.Axes.legend`.

    Returns
    -------
    matplotlib.legend.Legend

    Notes
    -----
    A figure from :func:`figure` (constrained layout) makes room for it; with pyplot call
    ``fig.tight_layout()`` or let :func:`show` crop the picture to what is drawn.
    """
    # room for the tick labels and the x label (sizes in points)
    gap = 4.0
    if ax.xaxis.get_visible() and any(t.get_visible() for t in ax.get_xticklabels()):
        gap += 1.3 * FONT_SIZES["small"] + 7.0
    if ax.get_xlabel():
        gap += 1.3 * ax.xaxis.label.get_fontsize() + 4.0
    offset = ScaledTranslation(0, -gap / 72, ax.figure.dpi_scale_trans)
    options = dict(loc="upper center", bbox_to_anchor=(0.5, 0.0),
                   bbox_transform=ax.transAxes + offset, frameon=False,
                   fontsize=FONT_SIZES["small"], borderaxespad=0.0, handletextpad=0.4,
                   columnspacing=1.2)
    options.update(kwargs)
    if handles is not None:
        options["handles"] = handles
    # fewer columns until the legend is no wider than its panel (with a little slack)
    room = 1.1 * ax.get_position().width * ax.figure.get_figwidth() * ax.figure.dpi
    renderer = _ensure_canvas(ax.figure).get_renderer()
    for columns in range(max(int(ncol), 1), 0, -1):
        legend = ax.legend(ncol=columns, **options)
        if columns == 1 or legend.get_window_extent(renderer).width <= room:
            return legend
    return legend


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
               mew=1.6, label="medoid (a data point)" if medoids else "centre (mean)"),
    ]
    if moved:
        handles.append(Line2D([], [], ls="", marker="o", ms=11, mfc="none", mec="black",
                              mew=1.0, label="previous position"))
    handles.append(Patch(facecolor=_shade(0), edgecolor="#999999", linewidth=0.6,
                         label=f"nearest-{'medoid' if medoids else 'centre'} region"))
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
    """Draw one half-step of K-means or K-medoids on 2-D data, with equal axis scales.

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
        Defaults to :func:`describe_step`; ``""`` for none.
    metric : {"l2", "l1"}
        The metric of the fit; it decides the shape of the shaded nearest-centre regions.
    extent : tuple of float, optional
        ``(xmin, xmax, ymin, ymax)``; defaults to :func:`cluster_extent` of the data and the
        centres drawn. Pass a fixed extent to keep the axes still while stepping.
    legend : bool
        Whether to draw the legend of marker kinds (below the Axes, see :func:`legend_below`).
    xlabel, ylabel : str
        Axis labels.

    Returns
    -------
    matplotlib.axes.Axes
        Its description (:func:`describe`) is :func:`describe_clusters` of the step.

    Notes
    -----
    The background shows each centre's exact region of nearest points
    (:func:`nearest_centre_regions`), with the step's own centres: after an M-step a point
    whose colour differs from its region's is exactly a point the next E-step will reassign.
    Points without a cluster (the "init" step) are grey. Medoids are data points, so they
    are ringed. One unit is as long on both axes, so distances and bisectors look true;
    unless the Axes share both axes, the limits widen to fill the Axes box.

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

    _draw_regions(ax, centers, extent, metric)

    # Line2D markers, not scatter: the same picture, and much cheaper to build and draw
    size = np.sqrt(_point_size(X.shape[0]))
    edge = 0.5 if X.shape[0] <= 500 else 0.0
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
                ms=14 if medoids else 15, mfc=cluster_color(j), mec="black", mew=1.5, zorder=5)
    if medoids:
        ax.plot(centers[:, 0], centers[:, 1], ls="", marker="o", ms=22, mfc="none",
                mec="black", mew=1.6, zorder=5)
    for j in step.empty:
        ax.annotate("empty", xy=centers[int(j)], xytext=(8, 8), textcoords="offset points",
                    fontsize=FONT_SIZES["small"], zorder=6)

    _set_view(ax, extent)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    set_title(ax, describe_step(step, previous) if title is None else title)
    if legend:
        legend_below(ax, cluster_legend_handles(medoids, moved), ncol=3 if moved else 2)
    describe(ax, describe_clusters(step, X, previous, metric))
    return ax


# ----------------------------------------------------------------------------- 1-D mixtures


def _normal_pdf(xs, mean, sigma):
    return np.exp(-0.5 * ((xs - mean) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def _bar_width(ax, x, xlim):
    """Line width in points of one responsibility bar: thick for few points, never so thick
    that the bars of two neighbouring points touch."""
    fig = ax.figure
    axes_pt = ax.get_position().width * fig.get_figwidth() * 72.0
    gaps = np.diff(np.unique(x))
    width = 300.0 / x.size
    if gaps.size:
        width = min(width, 0.7 * float(gaps.min()) / (xlim[1] - xlim[0]) * axes_pt)
    return float(np.clip(width, 1.0, 9.0))


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


def _responsibility_handle(k):
    """A legend entry drawn as the band is: solid blocks in the component colours."""
    return tuple(Patch(facecolor=cluster_color(j), edgecolor="none") for j in range(k))


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
        Pass them with ``handler_map=plotting.LEGEND_HANDLERS`` (the responsibilities entry
        is a tuple of coloured blocks), or use :func:`mixture_legend`.
    """
    handles = [Patch(color="#D9D9D9", label="data (histogram)")] if histogram else []
    handles += [Line2D([], [], color=cluster_color(j), lw=2, ls="--", label=f"component {j}")
                for j in range(k)]
    handles.append(Line2D([], [], color="black", lw=2, label="mixture"))
    return handles


#: Handler map for legends holding :func:`mixture_legend_handles`' responsibilities entry.
LEGEND_HANDLERS = {tuple: HandlerTuple(ndivide=None, pad=0.0)}


def mixture_legend_entries(k, histogram=False, with_band=True):
    """Legend handles and labels for :func:`plot_mixture`, the responsibilities band included.

    Parameters
    ----------
    k : int
        Number of components.
    histogram : bool
        Include the histogram entry.
    with_band : bool
        Include the band of responsibilities (drawn as solid blocks in the component colours,
        as the band is).

    Returns
    -------
    handles, labels : list
        For ``legend(handles, labels, handler_map=LEGEND_HANDLERS)``.
    """
    handles = mixture_legend_handles(k, histogram)
    labels = [h.get_label() for h in handles]
    if with_band:
        handles.append(_responsibility_handle(k))
        labels.append("responsibilities $r_{nk}$")
    return handles, labels


def plot_mixture(step, x, *, ax=None, previous=None, title=None, xlim=None, ymax=None,
                 legend=True, xlabel="$x$"):
    """Draw one half-step of 1-D Gaussian-mixture EM.

    Parameters
    ----------
    step : MixtureStep
        One element of ``gmm1d.fit(...).history``.
    x : array_like, shape (n,)
        The data the fit was run on.
    ax : matplotlib.axes.Axes, optional
        Where to draw; pyplot's current Axes if omitted.
    previous : MixtureStep, optional
        The half-step before ``step``; the default title then says whether an M-step changed
        the parameters.
    title : str, optional
        Defaults to :func:`describe_step`; ``""`` for none.
    xlim : tuple of float, optional
        Defaults to :func:`mixture_xlim` of the data and this step.
    ymax : float, optional
        Top of the density axis; defaults to 1.15 times the highest curve (and histogram).
    legend : bool
        Whether to draw the legend (below the Axes): each component with its weight ``w``,
        mean ``mu`` and standard deviation ``sigma``, the mixture, the histogram and the
        responsibilities band.
    xlabel : str
        Label of the x axis.

    Returns
    -------
    matplotlib.axes.Axes
        Its description (:func:`describe`) is :func:`describe_mixture` of the step.

    Notes
    -----
    Above zero: a light histogram of the data (only with 20 points or more), each weighted
    component ``w_k N(x | mu_k, sigma_k)`` dashed in its cluster colour, and the mixture
    (their sum) in black. Below zero, the band labelled ``r_nk`` on the y axis: one bar per
    data point stacks its responsibilities in the component colours, so a half-and-half point
    shows two equal halves (with more than 60 points, bands over the sorted points). In the
    "init" step there are no responsibilities yet and the points are a grey rug.

    After an M-step the bars still show the responsibilities the M-step used (the ones of
    the E-step before it), while the curves show the new parameters.
    """
    if not isinstance(step, MixtureStep):
        raise TypeError(f"step must be a MixtureStep, got {type(step).__name__}")
    if previous is not None and not isinstance(previous, MixtureStep):
        raise TypeError(f"previous must be a MixtureStep or None, got {type(previous).__name__}")
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
    histogram = x.size >= 20
    if histogram:
        # one StepPatch, not a Rectangle per bin: the same picture, cheaper to redraw
        heights, edges = np.histogram(x, bins="auto", density=True)
        ax.stairs(heights, edges, fill=True, color="#D9D9D9", zorder=1, label="data (histogram)")
        top = max(top, float(np.max(heights)))
    if ymax is None:
        ymax = 1.15 * top
    lines = []
    for j in range(k):
        c = cluster_color(j)
        ax.fill_between(xs, comps[j], color=c, alpha=0.12, linewidth=0, zorder=2)
        lines += ax.plot(xs, comps[j], color=c, lw=2, ls="--", zorder=3,
                         label=f"{j}: $w$={weights[j]:.2f}, $\\mu$={means[j]:.2f}, "
                               f"$\\sigma$={sigmas[j]:.2f}")
    lines += ax.plot(xs, mix, color="black", lw=2, zorder=4, label="mixture")

    # responsibilities: a band below the axis, one stacked bar per point
    band = 0.22 * ymax
    gap = 0.05 * ymax
    base = -gap - band
    width = _bar_width(ax, x, xlim)
    if step.resp is None:
        ax.vlines(x, base, -gap, color=UNASSIGNED_COLOR, lw=width, zorder=3)
        band_name = "points"
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
        band_name = "$r_{nk}$"
    else:
        # many points: bars would overlap, so stack the responsibilities as bands over the
        # sorted points (each band's height at a point is that point's r_nk)
        order = np.argsort(x, kind="stable")
        xs_sorted = x[order]
        cum = np.cumsum(np.asarray(step.resp, float)[order], axis=1)
        lower = np.full(x.size, base)
        for j in range(k):
            upper = base + band * cum[:, j]
            ax.fill_between(xs_sorted, lower, upper, step="mid", color=cluster_color(j),
                            linewidth=0, zorder=3)
            lower = upper
        band_name = "$r_{nk}$"
    ax.axhline(0, color="black", lw=0.8, zorder=3)

    ax.set_xlim(*xlim)
    ax.set_ylim(base - 0.5 * gap, ymax)
    # the band is named on the y axis, beside it, so no label sits on the bars
    ticks = MaxNLocator(nbins=4).tick_values(0, ymax)
    ticks = [t for t in ticks if 0 <= t <= ymax]
    ax.set_yticks(ticks + [base + band / 2],
                  [f"{t:g}" for t in ticks] + [band_name])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    set_title(ax, describe_step(step, previous) if title is None else title)
    if legend:
        # the band's entry only when the band shows responsibilities (not the "init" rug)
        has_band = step.resp is not None
        handles, labels = mixture_legend_entries(k, histogram, with_band=has_band)
        end = len(handles) - has_band
        handles[end - k - 1:end] = lines  # the entries with the parameters
        labels[end - k - 1:end] = [ln.get_label() for ln in lines]
        legend_below(ax, handles, labels=labels, ncol=2, handler_map=LEGEND_HANDLERS)
    describe(ax, describe_mixture(step, x, previous))
    return ax


def mixture_legend(fig, k, histogram=False, **kwargs):
    """One legend for a figure of several :func:`plot_mixture` panels, below them all.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Best made by :func:`figure` (constrained layout makes room for the legend).
    k : int
        Number of components.
    histogram : bool
        Include the histogram entry.
    **kwargs
        Passed on to :meth:`matplotlib.figure.Figure.legend`.

    Returns
    -------
    matplotlib.legend.Legend
    """
    handles, labels = mixture_legend_entries(k, histogram)
    options = dict(loc="outside lower center", ncol=min(len(handles), 4), frameon=False,
                   fontsize=FONT_SIZES["small"], handler_map=LEGEND_HANDLERS)
    options.update(kwargs)
    return fig.legend(handles, labels, **options)


# ----------------------------------------------------------------------------- 2-D mixtures

#: Radii of the ellipses :func:`plot_gaussian_mixture` draws, in standard deviations
#: (Mahalanobis distance): in 2-D they hold 39 % and 86 % of a component's probability.
ELLIPSE_STDS = (1.0, 2.0)

#: A point is *uncertain* when its largest responsibility is below this (the text alternative
#: counts them; the picture draws them pale).
UNCERTAIN_BELOW = 0.9


def covariance_ellipse_axes(covariance):
    """Principal axes of a 2-D covariance matrix: the ellipse of one standard deviation.

    Parameters
    ----------
    covariance : array_like, shape (2, 2)
        Symmetric positive semi-definite.

    Returns
    -------
    major, minor : float
        Standard deviations along the principal axes, ``sqrt`` of the eigenvalues (largest
        first): the semi-axes of the ellipse ``(x - mean)^T covariance^{-1} (x - mean) = 1``.
    angle : float
        Direction of the major axis, in degrees counter-clockwise from the first coordinate
        axis, in [0, 180).

    Raises
    ------
    ValueError
        If ``covariance`` is not a finite symmetric (2, 2) matrix with eigenvalues >= 0.

    Notes
    -----
    With ``covariance = V diag(lambda) V^T`` (eigenvectors ``V``, :func:`numpy.linalg.eigh`),
    the substitution ``x - mean = V y`` turns the quadratic form into
    ``y_1^2 / lambda_1 + y_2^2 / lambda_2``: an ellipse whose axes are the eigenvectors and
    whose semi-axes are ``sqrt(lambda)`` (Bishop, *Pattern Recognition and Machine Learning*,
    section 2.3, figure 2.7). The ellipse of ``c`` standard deviations is scaled by ``c``; in
    2-D it holds ``1 - exp(-c^2 / 2)`` of the probability (39.3 % for c = 1, 86.5 % for 2).

    Examples
    --------
    >>> major, minor, angle = covariance_ellipse_axes([[4.0, 0.0], [0.0, 1.0]])
    >>> float(major), float(minor), float(angle)
    (2.0, 1.0, 0.0)
    >>> [round(float(v), 6) for v in covariance_ellipse_axes([[2.0, 1.0], [1.0, 2.0]])]
    [1.732051, 1.0, 45.0]
    """
    c = np.asarray(covariance, dtype=float)
    if c.shape != (2, 2) or not np.isfinite(c).all():
        raise ValueError(f"covariance must be a finite (2, 2) matrix, got shape {c.shape}")
    if not np.isclose(c[0, 1], c[1, 0], rtol=1e-8, atol=1e-12 * max(abs(c[0, 0]), abs(c[1, 1]), 1e-300)):
        raise ValueError(f"covariance must be symmetric, got {c.tolist()}")
    values, vectors = np.linalg.eigh((c + c.T) / 2)
    if values[0] < -1e-12 * max(abs(values[1]), 1e-300):
        raise ValueError(f"covariance must be positive semi-definite, eigenvalues {values.tolist()}")
    values = np.clip(values, 0.0, None)
    vx, vy = vectors[:, 1]
    angle = float(np.degrees(np.arctan2(vy, vx))) % 180.0
    if np.isclose(angle, 180.0):
        angle = 0.0
    return float(np.sqrt(values[1])), float(np.sqrt(values[0])), angle


def covariance_ellipse(mean, covariance, n_std=1.0, **kwargs):
    """The ellipse of ``n_std`` standard deviations of a 2-D Gaussian, as a patch.

    Parameters
    ----------
    mean : array_like, shape (2,)
        Centre of the ellipse.
    covariance : array_like, shape (2, 2)
        See :func:`covariance_ellipse_axes`.
    n_std : float
        Mahalanobis radius: 1 for the ellipse of one standard deviation.
    **kwargs
        Passed on to :class:`matplotlib.patches.Ellipse` (``edgecolor``, ``lw``, ``ls``, ...);
        by default it is not filled.

    Returns
    -------
    matplotlib.patches.Ellipse
        Add it with ``ax.add_patch``.
    """
    major, minor, angle = covariance_ellipse_axes(covariance)
    if not (isinstance(n_std, (int, float, np.integer, np.floating)) and n_std > 0):
        raise ValueError(f"n_std must be a positive number, got {n_std!r}")
    options = dict(fill=False)
    options.update(kwargs)
    return Ellipse(tuple(np.asarray(mean, dtype=float).reshape(2)), 2 * n_std * major,
                   2 * n_std * minor, angle=angle, **options)


def _check_gaussian_step(step, X, name="step"):
    if not isinstance(step, GaussianMixtureStep):
        raise TypeError(f"{name} must be a GaussianMixtureStep from gmm.fit(...).history, "
                        f"got {type(step).__name__}")
    means = np.asarray(step.means, dtype=float)
    if means.ndim != 2 or means.shape[1] != 2:
        raise ValueError(f"{name}.means must have shape (k, 2) to be plotted, got {means.shape}")
    if X is not None and step.resp is not None and np.shape(step.resp)[0] != X.shape[0]:
        raise ValueError(f"{name}.resp has {np.shape(step.resp)[0]} rows but X has "
                         f"{X.shape[0]} points: was the step made from this X?")


def responsibility_shades(resp):
    """Each point's component (largest responsibility) and how sure the model is of it.

    Parameters
    ----------
    resp : array_like, shape (n, k)
        Responsibilities, rows summing to 1.

    Returns
    -------
    labels : ndarray of int, shape (n,)
        ``argmax`` of each row (ties to the lowest index).
    strength : ndarray, shape (n,)
        0 for a point shared equally by all k components (largest responsibility 1/k), 1 for
        a point that belongs to one component only: ``(r_max - 1/k) / (1 - 1/k)`` (1 if k = 1).
    """
    r = np.asarray(resp, dtype=float)
    labels = np.argmax(r, axis=1)
    k = r.shape[1]
    top = r[np.arange(r.shape[0]), labels]
    strength = np.ones_like(top) if k == 1 else (top - 1.0 / k) / (1.0 - 1.0 / k)
    return labels, np.clip(strength, 0.0, 1.0)


def _pale(j, strength):
    """Cluster ``j``'s colour mixed with white: full colour at strength 1, 12 % at 0."""
    rgb = np.asarray(to_rgb(cluster_color(j)))
    a = 0.12 + 0.88 * np.asarray(strength, dtype=float)[:, None]
    return 1.0 - a * (1.0 - rgb)


def describe_gaussian_mixture(step, X, previous=None):
    """Describe in words what :func:`plot_gaussian_mixture` draws, from the same numbers.

    Parameters
    ----------
    step : GaussianMixtureStep
        One element of ``gmm.fit(...).history`` on 2-D data.
    X : array_like, shape (n, 2)
        The data the fit was run on.
    previous : GaussianMixtureStep, optional
        The half-step before ``step`` (for what changed).

    Returns
    -------
    str
        The step; each component's weight, mean, standard deviations along its ellipse's axes
        and the direction of the long axis; how many points each component is most
        responsible for and how many are uncertain (largest responsibility below
        :data:`UNCERTAIN_BELOW`); the log-likelihood.
    """
    X = _as_points(X)
    _check_gaussian_step(step, X)
    k = len(step.weights)
    parts = [f"Gaussian mixture with K = {k} on {X.shape[0]} points; "
             f"{_lower_first(describe_step(step, previous))}."]
    comps = []
    for j in range(k):
        major, minor, angle = covariance_ellipse_axes(step.covariances[j])
        comps.append(f"component {j}: weight {step.weights[j]:.2f}, mean "
                     f"{_xy(step.means[j])}, standard deviations {major:.2f} and {minor:.2f}, "
                     f"long axis at {angle:.0f} degrees")
    parts.append("Ellipses of 1 and 2 standard deviations around each mean ("
                 + "; ".join(comps) + ").")
    if previous is not None and step.kind == "M":
        move = np.sqrt(((np.asarray(step.means) - np.asarray(previous.means)) ** 2).sum(axis=1))
        if move.max() > 0:
            j = int(np.argmax(move))
            parts.append(f"Dotted grey ellipses show the previous components; the largest move "
                         f"is component {j}'s mean, {move[j]:.2f}.")
    if step.dead:
        parts.append("Dead (weight 0): component " + ", ".join(str(int(j)) for j in step.dead)
                     + ".")
    if step.resp is None:
        parts.append("No responsibilities yet: all points are grey.")
    else:
        labels, _ = responsibility_shades(step.resp)
        top = np.max(np.asarray(step.resp, dtype=float), axis=1)
        most = np.bincount(labels, minlength=k)
        unsure = int(np.count_nonzero(top < UNCERTAIN_BELOW))
        parts.append("Each point has the colour of its most responsible component ("
                     + ", ".join(f"{int(c)} to component {j}" for j, c in enumerate(most))
                     + f"); {unsure} point{'s' if unsure != 1 else ''} with no responsibility "
                     f"above {UNCERTAIN_BELOW:g} {'are' if unsure != 1 else 'is'} drawn pale.")
    parts.append(objective_text(step) + ".")
    return " ".join(parts)


def gaussian_mixture_extent(X, steps=(), n_std=2.0, pad=0.06, aspect=None):
    """Axis limits ``(xmin, xmax, ymin, ymax)`` for 2-D data and the ellipses of some steps.

    Parameters
    ----------
    X : array_like, shape (n, 2)
    steps : sequence of GaussianMixtureStep
        Usually a whole history, so that the axes stay still while stepping.
    n_std : float
        The largest ellipse drawn, in standard deviations.
    pad : float
        Margin as a fraction of the larger range.
    aspect : float, optional
        Height / width of the Axes box (see :func:`cluster_extent`).

    Returns
    -------
    tuple of float
        The box holds the points, the means and the ellipses, but reaches at most one data
        range beyond the data on each side (a broad first guess would squash the data).
    """
    X = _as_points(X)
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.maximum(hi - lo, 1e-9)
    corners = []
    for s in steps:
        _check_gaussian_step(s, None, "steps element")
        m = np.asarray(s.means, dtype=float)
        reach = n_std * np.sqrt(np.diagonal(np.asarray(s.covariances, float), axis1=1, axis2=2))
        corners += [m - reach, m + reach]
    if corners:
        allc = np.concatenate(corners)
        lo = np.maximum(np.minimum(lo, allc.min(axis=0)), X.min(axis=0) - span)
        hi = np.minimum(np.maximum(hi, allc.max(axis=0)), X.max(axis=0) + span)
    box = np.array([lo, hi])
    return cluster_extent(box, pad=pad, aspect=aspect)


def gaussian_mixture_legend_handles(moved=True, n_std=ELLIPSE_STDS):
    """Legend entries explaining :func:`plot_gaussian_mixture`'s marks.

    Parameters
    ----------
    moved : bool
        Include the "previous component" entry (drawn after M-steps).
    n_std : sequence of float
        The ellipses drawn.

    Returns
    -------
    list of matplotlib.artist.Artist
    """
    styles = ("-", "--", ":")
    handles = [Line2D([], [], ls="", marker="X", ms=11, mfc="white", mec="black", mew=1.6,
                      label="mean")]
    for c, ls in zip(n_std, styles):
        handles.append(Line2D([], [], color="black", lw=1.8 if ls == "-" else 1.3, ls=ls,
                              label=f"{c:g} std. dev."))
    if moved:
        handles.append(Line2D([], [], color="#8C8C8C", lw=1.3, ls=":",
                              label="previous"))
    handles.append(Line2D([], [], ls="", marker="o", ms=7, mfc=_pale(0, [0.1])[0],
                          mec=cluster_color(0), mew=0.8, label="pale: uncertain"))
    return handles


def plot_gaussian_mixture(step, X, *, ax=None, previous=None, title=None, extent=None,
                          legend=True, n_std=ELLIPSE_STDS, xlabel="$x_1$", ylabel="$x_2$"):
    """Draw one half-step of Gaussian-mixture EM on 2-D data: ellipses and soft colours.

    Parameters
    ----------
    step : GaussianMixtureStep
        One element of ``gmm.fit(...).history`` (2-D data).
    X : array_like, shape (n, 2)
        The data the fit was run on.
    ax : matplotlib.axes.Axes, optional
        Where to draw; pyplot's current Axes if omitted.
    previous : GaussianMixtureStep, optional
        The half-step before ``step``. After an M-step the previous one-standard-deviation
        ellipses are drawn dotted grey, with an arrow from each old mean to the new one.
    title : str, optional
        Defaults to :func:`describe_step`; ``""`` for none.
    extent : tuple of float, optional
        ``(xmin, xmax, ymin, ymax)``; defaults to :func:`gaussian_mixture_extent` of the
        data and the step. Pass a fixed extent to keep the axes still while stepping.
    legend : bool
        Whether to draw the legend of marks (below the Axes).
    n_std : sequence of float
        Radii of the ellipses in standard deviations (solid, dashed, dotted).
    xlabel, ylabel : str
        Axis labels.

    Returns
    -------
    matplotlib.axes.Axes
        Its description (:func:`describe`) is :func:`describe_gaussian_mixture` of the step.

    Notes
    -----
    Each component is drawn as its mean (a cross) and the ellipses of ``n_std`` standard
    deviations (:func:`covariance_ellipse`), in its cluster colour. Each point takes the
    colour and marker of its most responsible component, mixed with white in proportion to
    how unsure the model is (:func:`responsibility_shades`): a point the model gives wholly to
    one component is fully coloured, a point shared evenly is nearly white with a coloured
    rim. At the "init" step there are no responsibilities yet and the points are grey. After
    an M-step the colours still show the responsibilities the M-step used, while the
    ellipses show the new parameters. One unit is as long on both axes, so the ellipses keep
    their true shape.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> import numpy as np
    >>> from algos import gmm
    >>> X = np.array([[0., 0.], [1., 0.], [0., 1.], [5., 5.], [6., 5.], [5., 6.]])
    >>> fit = gmm.fit(X, k=2, init="random", seed=0, max_iter=2)
    >>> ax = plot_gaussian_mixture(fit.history[-1], X, ax=Figure().subplots())
    >>> len(ax.patches)  # two ellipses per component
    4
    """
    X = _as_points(X)
    _check_gaussian_step(step, X)
    if previous is not None:
        _check_gaussian_step(previous, None, "previous")
    ax = _axes(ax)
    means = np.asarray(step.means, dtype=float)
    covs = np.asarray(step.covariances, dtype=float)
    k = means.shape[0]
    if extent is None:
        extent = gaussian_mixture_extent(X, [step], n_std=max(n_std))

    size = np.sqrt(_point_size(X.shape[0]))
    if step.resp is None:
        ax.plot(X[:, 0], X[:, 1], ls="", marker="o", ms=size, color=UNASSIGNED_COLOR,
                mec="white", mew=0.5 if X.shape[0] <= 500 else 0.0, zorder=2)
    else:
        labels, strength = responsibility_shades(step.resp)
        for j in range(k):  # a loop over components, not over points
            sel = labels == j
            if sel.any():
                # sure points first, so the pale (uncertain) ones stay visible on top
                order = np.argsort(-strength[sel], kind="stable")
                ax.scatter(X[sel, 0][order], X[sel, 1][order], s=size ** 2 * 1.1,
                           marker=cluster_marker(j), c=_pale(j, strength[sel][order]),
                           edgecolors=cluster_color(j), linewidths=0.7, zorder=2)

    moved = previous is not None and step.kind == "M"
    if moved:
        old = np.asarray(previous.means, dtype=float)
        for j in range(k):
            ax.add_patch(covariance_ellipse(old[j], previous.covariances[j], n_std[0],
                                            edgecolor="#8C8C8C", lw=1.3, ls=":", zorder=3))
            if not np.array_equal(old[j], means[j]):
                ax.annotate("", xy=means[j], xytext=old[j], zorder=4,
                            arrowprops=dict(arrowstyle="-|>", color="black", lw=1.4,
                                            shrinkA=2, shrinkB=7, mutation_scale=12))
    styles = ("-", "--", ":")
    for j in range(k):
        for c, ls in zip(n_std, styles):
            ax.add_patch(covariance_ellipse(means[j], covs[j], c, edgecolor=cluster_color(j),
                                            lw=2.2 if ls == "-" else 1.5, ls=ls, zorder=4))
        ax.plot(means[j, 0], means[j, 1], ls="", marker="X", ms=12, mfc=cluster_color(j),
                mec="black", mew=1.5, zorder=5)
    for j in step.dead:
        ax.annotate("dead", xy=means[int(j)], xytext=(8, 8), textcoords="offset points",
                    fontsize=FONT_SIZES["small"], zorder=6)

    _set_view(ax, extent)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    set_title(ax, describe_step(step, previous) if title is None else title)
    if legend:
        legend_below(ax, gaussian_mixture_legend_handles(moved, n_std), ncol=2)
    describe(ax, describe_gaussian_mixture(step, X, previous))
    return ax


# ----------------------------------------------------------------------------- objective


_KIND_MARKER = {"init": "D", "E": "o", "M": "s"}


def objective_legend_handles(history=None, current=True):
    """Legend entries for :func:`plot_objective`'s markers.

    Parameters
    ----------
    history : sequence of ClusterStep, MixtureStep or GaussianMixtureStep, optional
        Only the kinds of half-step that have an objective in it get an entry (K-means and
        K-medoids have none at the start). All three kinds if omitted.
    current : bool
        Include the "current half-step" ring.

    Returns
    -------
    list of matplotlib.lines.Line2D
    """
    kinds = ({s.kind for s in history if s.objective is not None} if history is not None
             else set(_KIND_MARKER))
    names = {"init": "start", "E": "after E-step", "M": "after M-step"}
    handles = [Line2D([], [], ls="", marker=m, ms=6, color=PALETTE[4], label=names[kind])
               for kind, m in _KIND_MARKER.items() if kind in kinds]
    if current:
        handles.append(Line2D([], [], ls="", marker="o", ms=10, mfc="none", mec=PALETTE[5],
                              mew=2, label="current half-step"))
    return handles


def plot_objective(history, *, current=None, ax=None, ylabel=None, title=None, legend=True,
                   hide_future=True):
    """Plot the objective after every half-step, with the current one marked.

    Parameters
    ----------
    history : sequence of ClusterStep, MixtureStep or GaussianMixtureStep
        A fit's ``history``.
    current : int, optional
        Index into ``history`` of the half-step to mark.
    ax : matplotlib.axes.Axes, optional
        Where to draw; pyplot's current Axes if omitted.
    ylabel : str, optional
        Defaults to :func:`objective_label`.
    title : str, optional
        Defaults to the current value (or ``"Objective"``); ``""`` for none.
    legend : bool
        Whether to draw the legend of marker kinds (below the Axes).
    hide_future : bool
        With ``current``, draw the curve only up to it (the axes still span the whole
        history, so they stay still while stepping): a reader sees what has happened, not
        what is to come.

    Returns
    -------
    matplotlib.axes.Axes
        Its description (:func:`describe`) is :func:`describe_objective`.

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
    values = _objective_values(history)
    idx = np.arange(len(history))
    last = current if (current is not None and hide_future) else len(history) - 1
    upto = idx <= last
    ax.plot(idx[upto], values[upto], color="#777777", lw=1.2, zorder=1)
    for kind, marker in _KIND_MARKER.items():
        sel = upto & np.array([s.kind == kind for s in history])
        if sel.any():
            ax.plot(idx[sel], values[sel], ls="", marker=marker, ms=5, color=PALETTE[4],
                    zorder=2, label={"init": "start", "E": "after E-step", "M": "after M-step"}[kind])
    if current is not None:
        ax.axvline(current, color=PALETTE[5], lw=1.2, zorder=0)
        if not np.isnan(values[current]):
            ax.plot([current], [values[current]], ls="", marker="o", ms=11, mfc="none",
                    mec=PALETTE[5], mew=2, zorder=3)
    finite = values[~np.isnan(values)]
    if finite.size:  # limits of the whole history: the axes stay still while stepping
        lo, hi = float(finite.min()), float(finite.max())
        pad = 0.06 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.05
        ax.set_ylim(lo - pad, hi + pad)
    names = [half_step_name(s) for s in history]
    # ticks at "init" and at M-steps (even indices), about five of them
    every = 2 * max(1, int(np.ceil((len(history) - 1) / 2 / 5)))
    ax.set_xticks(np.arange(0, len(history), every))
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _: names[int(v)] if float(v).is_integer() and 0 <= v < len(names) else "")
    )
    ax.set_xlim(-0.5, len(history) - 0.5)
    ax.set_xlabel("half-step")
    ax.set_ylabel(objective_label(history) if ylabel is None else ylabel)
    if title is None:
        if current is not None and not np.isnan(values[current]):
            title = f"now: {values[current]:.6g}"
        else:
            title = "Objective"
    set_title(ax, title)
    if legend:
        legend_below(ax, objective_legend_handles(history, current is not None), ncol=2)
    describe(ax, describe_objective(history, current, hide_future=hide_future))
    return ax


def plot_step(history, index, data, *, ax=None, metric="l2", extent=None, xlim=None,
              ymax=None, title=None, legend=True):
    """Draw ``history[index]`` with the right function, passing the step before it.

    Parameters
    ----------
    history : sequence of ClusterStep, MixtureStep or GaussianMixtureStep
    index : int
    data : array_like
        ``X`` (n, 2) for K-means, K-medoids and 2-D EM, ``x`` (n,) for 1-D EM.
    ax, metric, extent, xlim, ymax, title, legend
        Passed on to :func:`plot_clusters`, :func:`plot_mixture` or
        :func:`plot_gaussian_mixture`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    step = history[index]
    previous = history[index - 1] if index > 0 else None
    if isinstance(step, MixtureStep):
        return plot_mixture(step, data, ax=ax, previous=previous, title=title, xlim=xlim,
                            ymax=ymax, legend=legend)
    if isinstance(step, GaussianMixtureStep):
        return plot_gaussian_mixture(step, data, ax=ax, previous=previous, title=title,
                                     extent=extent, legend=legend)
    return plot_clusters(step, data, ax=ax, previous=previous, title=title, metric=metric,
                         extent=extent, legend=legend)


# ----------------------------------------------------------------------------- book figures


def _check_px(value, name, lo, hi):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number of CSS pixels, got {type(value).__name__}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi} CSS pixels, got {value}")
    return float(value)


def figure(nrows=1, ncols=1, *, width=COLUMN_WIDTH, height=None, **subplots_kw):
    """A figure sized for the book's content column, in the book's style.

    Parameters
    ----------
    nrows, ncols : int
        Grid of panels, as for :func:`matplotlib.pyplot.subplots`.
    width : float
        Width in CSS pixels: at most :data:`COLUMN_WIDTH` (688, the column at 1280 px);
        :data:`PHONE_WIDTH` (350) for a small figure that fits a phone without scrolling.
    height : float, optional
        Height in CSS pixels; by default 0.75 of a panel's width plus 110 px for the title,
        labels and a legend below, per row (between 240 and 460 per row).
    **subplots_kw
        Passed on to :meth:`matplotlib.figure.Figure.subplots` (``sharex``, ``sharey``,
        ``gridspec_kw``, ...).

    Returns
    -------
    fig : matplotlib.figure.Figure
        Constrained layout, white background, :data:`STYLE`'s font sizes. It is not
        registered with pyplot: show it with :func:`show` (``plt.show()`` does nothing to it).
    axes : matplotlib.axes.Axes or array of Axes
        As :func:`matplotlib.pyplot.subplots` returns them.

    Raises
    ------
    ValueError, TypeError
        For a width wider than the column or a size that is not a number of pixels.

    Examples
    --------
    >>> fig, (left, right) = figure(1, 2)
    >>> [round(float(v), 2) for v in fig.get_size_inches()]
    [6.88, 3.68]
    """
    width = _check_px(width, "width", 150, COLUMN_WIDTH)
    if height is None:  # room for a title, axis labels and a legend below each panel
        panel = width / int(ncols)
        height = int(nrows) * min(max(0.75 * panel + 110.0, 240.0), 460.0)
    height = _check_px(height, "height", 100, 2000)
    with rc_context(STYLE):
        fig = Figure(figsize=(width / PX_PER_INCH, height / PX_PER_INCH), dpi=PX_PER_INCH,
                     layout="constrained", facecolor="white")
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrows, ncols, **subplots_kw)
    return fig, axes


def _axes_position_name(ax, axes):
    """"left", "top right", ... : where a panel is among the figure's panels."""
    boxes = {a: a.get_position() for a in axes}
    cols = sorted({round(b.x0, 2) for b in boxes.values()})
    rows = sorted({round(b.y0, 2) for b in boxes.values()}, reverse=True)
    col, row = cols.index(round(boxes[ax].x0, 2)), rows.index(round(boxes[ax].y0, 2))
    horiz = {1: [""], 2: ["left", "right"], 3: ["left", "middle", "right"]}.get(
        len(cols), [f"column {c + 1}" for c in range(len(cols))])[col]
    vert = {1: [""], 2: ["top", "bottom"], 3: ["top", "middle", "bottom"]}.get(
        len(rows), [f"row {r + 1}" for r in range(len(rows))])[row]
    return " ".join(w for w in (vert, horiz) if w)


def figure_description(fig, alt=None):
    """The text alternative of a figure: ``alt`` and then what each panel shows.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    alt : str, optional
        What the figure shows and teaches, in a sentence or two (written by the author).

    Returns
    -------
    str
        ``alt``, followed by each panel's title and description (:func:`describe`) in
        reading order (rows top to bottom, then left to right).

    Raises
    ------
    ValueError
        If neither ``alt`` nor any panel description says anything.
    """
    if alt is not None and not isinstance(alt, str):
        raise TypeError(f"alt must be a string, got {type(alt).__name__}")
    axes = [a for a in fig.axes if a.get_visible() and a.get_label() != "<colorbar>"]
    axes.sort(key=lambda a: (-round(a.get_position().y0, 2), round(a.get_position().x0, 2)))
    parts = [alt.strip()] if alt and alt.strip() else []
    described = [a for a in axes if describe(a)]
    for a in described:
        where = _axes_position_name(a, axes) if len(axes) > 1 else ""
        head = f"{where[:1].upper() + where[1:]} panel" if where else "The panel"
        title = " ".join(a.get_title().split())
        if title and title.lower() not in describe(a).lower():
            head += f", titled \u201c{title}\u201d"
        parts.append(f"{head}: {describe(a)}")
    if not parts:
        raise ValueError(
            "a figure needs a text alternative: pass alt='what it shows and teaches' "
            "(no panel was drawn by an algos.plotting function that describes itself)"
        )
    return " ".join(parts)


def _ensure_canvas(fig):
    if fig.canvas is None or not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)
    return fig.canvas


def _visible_texts(fig):
    """The texts of ``fig`` that are drawn (non-empty, visible, not on a hidden axis)."""
    hidden = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if not (ax.get_visible() and axis.get_visible()):
                hidden.update(axis.findobj(Text))
        if not ax.get_visible():
            hidden.update(ax.findobj(Text))
    return [t for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip() and t not in hidden]


def smallest_text_px(fig):
    """Size in CSS pixels of the smallest visible text of ``fig`` as the page shows it.

    A text of ``s`` points is ``s * PX_PER_INCH / 72`` CSS pixels: :func:`show` shows figures
    at ``PX_PER_INCH`` pixels per inch, never scaled down (they are at most as wide as the
    column).

    Returns
    -------
    float
        ``inf`` for a figure without text.
    """
    sizes = [t.get_fontsize() for t in _visible_texts(fig)]
    return min(sizes) * PX_PER_INCH / 72.0 if sizes else float("inf")


def _mark_points(ax):
    """Display coordinates of what ``ax`` plots (line samples, markers, bar corners)."""
    pts = []
    for line in ax.lines:
        xy = np.asarray(line.get_xydata(), dtype=float)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if not line.get_visible() or len(xy) == 0:
            continue
        xy = line.get_transform().transform(xy)
        if line.get_linestyle() not in ("None", "", " ", "none") and len(xy) > 1:
            # samples every 2 px along the segments, so a line under a legend is found
            seg = np.diff(xy, axis=0)
            steps = np.maximum(1, (np.hypot(*seg.T) / 2.0).astype(int))
            steps = np.minimum(steps, 2000)
            xy = np.concatenate([xy[i] + np.outer(np.arange(s) / s, seg[i])
                                 for i, s in enumerate(steps)] + [xy[-1:]])
        pts.append(xy)
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if isinstance(coll, PathCollection) and len(coll.get_offsets()):
            pts.append(coll.get_offset_transform().transform(coll.get_offsets()))
        elif isinstance(coll, LineCollection):
            for seg in coll.get_segments():
                if len(seg):
                    pts.append(coll.get_transform().transform(np.asarray(seg)))
    for patch in ax.patches:
        if patch.get_visible():
            path = patch.get_path()
            pts.append(patch.get_transform().transform(path.vertices))
    if not pts:
        return np.empty((0, 2))
    pts = np.concatenate(pts)
    box = ax.bbox  # only what is drawn (clipped to the Axes) counts
    keep = (pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1) & (pts[:, 1] >= box.y0) & (pts[:, 1] <= box.y1)
    return pts[keep & np.isfinite(pts).all(axis=1)]


def check_figure(fig):
    """Refuse a figure a reader could not read on the page.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If a text is smaller than :data:`MIN_TEXT_PX` CSS pixels as shown, if the figure is
        wider than :data:`COLUMN_WIDTH`, or if a legend lies over plotted points or lines.
    """
    width_px = fig.get_figwidth() * PX_PER_INCH
    if width_px > COLUMN_WIDTH + 0.5:
        raise ValueError(
            f"the figure is {fig.get_figwidth():.2f} in wide ({width_px:.0f} CSS px); the "
            f"book's column holds {COLUMN_WIDTH / PX_PER_INCH:.2f} in: make it with "
            "plotting.figure(...)"
        )
    small = smallest_text_px(fig)
    if small < MIN_TEXT_PX - 1e-9:
        tiny = sorted({t.get_fontsize() for t in _visible_texts(fig)
                       if t.get_fontsize() * PX_PER_INCH / 72 < MIN_TEXT_PX})
        raise ValueError(
            f"the figure has text of {small:.1f} CSS px (font sizes {tiny} pt); at least "
            f"{MIN_TEXT_PX:g} px is needed, that is {MIN_TEXT_PX * 72 / PX_PER_INCH:.2f} pt "
            f"or more (plotting.FONT_SIZES['small'] is {FONT_SIZES['small']} pt)"
        )
    canvas = _ensure_canvas(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is None or not leg.get_visible():
            continue
        box = leg.get_window_extent(renderer)
        pts = _mark_points(ax)
        covered = int(np.count_nonzero(
            (pts[:, 0] > box.x0) & (pts[:, 0] < box.x1) & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1)))
        if covered:
            name = f"the panel titled {ax.get_title()!r}" if ax.get_title() else "a panel"
            raise ValueError(
                f"the legend of {name} lies over {covered} plotted points or line samples: "
                "place it where nothing is drawn (loc=...) or below the Axes with "
                "plotting.legend_below(ax)"
            )


def figure_bundle(fig, alt=None):
    """The MIME bundle :func:`show` displays: a PNG with its text alternative.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    alt : str, optional
        What the figure shows and teaches (see :func:`figure_description`).

    Returns
    -------
    data : dict
        ``{"image/png": base64 text, "text/plain": description}``. The PNG is drawn at
        ``PNG_SCALE * PX_PER_INCH`` dots per inch and carries the description in its standard
        ``Description`` text chunk, which the book's Sphinx extension
        (``book/_ext/figure_alt.py``) turns into the ``alt`` of the page's ``<img>``.
    metadata : dict
        ``{"image/png": {"width": CSS pixels}}``: the page shows the picture at
        ``PX_PER_INCH`` pixels per inch whatever its resolution.

    Raises
    ------
    ValueError
        From :func:`check_figure` and :func:`figure_description`.
    """
    check_figure(fig)
    text = figure_description(fig, alt)
    dpi = PNG_SCALE * PX_PER_INCH
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.04,
                facecolor="white", metadata={"Description": text, "Software": None})
    png = out.getvalue()
    width = int.from_bytes(png[16:20], "big")  # the IHDR chunk
    css_width = int(round(width * PX_PER_INCH / dpi))
    if css_width > COLUMN_WIDTH + 1:
        raise ValueError(
            f"with everything drawn around it the figure is {css_width} CSS px wide, more than "
            f"the column's {COLUMN_WIDTH}: move labels or legends inside the figure"
        )
    data = {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": text}
    return data, {"image/png": {"width": css_width}}


def show(fig, alt=None):
    """Display a figure in the notebook with its text alternative, then close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Best made by :func:`figure`; a pyplot figure works too.
    alt : str, optional
        What the figure shows and teaches, for a reader who cannot see it: what is plotted,
        the pattern, the number that matters. The descriptions of the panels drawn by this
        module's ``plot_*`` functions are appended.

    Raises
    ------
    ValueError
        If the figure would be unreadable on the page (:func:`check_figure`) or has no text
        alternative at all.

    Notes
    -----
    The output is a PNG with ``text/plain`` set to the description, so ``pytest --nbval``
    compares the description and the website uses it as the image's ``alt``.
    """
    data, metadata = figure_bundle(fig, alt)
    from IPython.display import display

    display(data, metadata=metadata, raw=True)
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)  # a pyplot figure would be shown a second time at the cell's end
