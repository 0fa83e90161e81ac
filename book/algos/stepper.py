"""Step through a fit's half-steps: live widgets in a kernel, a kernel-free player on the web.

One display call serves both audiences. :func:`step_through` runs a fit and returns a
:class:`StepThrough`, whose ``_repr_mimebundle_`` holds

* ``application/vnd.jupyter.widget-view+json``: the live ipywidgets view (JupyterLab,
  Notebook 7, VS Code) with "Previous step" / "Next step" / "Play" (reads "Pause" while
  playing) / "Reset" buttons, a half-step slider, the next step in words, the objective, and
  controls that re-run the fit;
* ``text/html``: a self-contained player (pre-rendered PNG frames, plain buttons and a range
  slider, inline JavaScript, nothing loaded from outside) that the website shows;
* ``text/plain``: a short, stable line such as ``StepThrough(kmeans, 12 half-steps)``.

Both views draw the fit's own ``history`` with :mod:`algos.plotting`: nothing is re-computed
for display. A frame is two pictures, each small enough for a phone's column and side by side
in the book's: the state (points and centres, or the mixture) and the objective up to the
current half-step. They are drawn on two :class:`matplotlib.figure.Figure` objects owned by the
player, never through pyplot, so no figure leaks into the notebook. The pictures carry no
title: the caption says where the step is, once, in the words :meth:`StepThrough.frame_texts`
gives the caption, the live widget and the text alternatives alike.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
from collections import Counter
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox
from PIL import Image

from . import plotting
from ._results import ClusterStep, GaussianMixtureStep, MixtureStep

#: The methods a step-through can show, with the names used in captions.
METHODS = {"kmeans": "K-means", "kmedoids": "K-medoids", "gmm1d": "Gaussian-mixture EM",
           "gmm": "Gaussian-mixture EM in 2-D"}
#: The kind of half-step each method's history holds.
_STEP_TYPES = {"kmeans": ClusterStep, "kmedoids": ClusterStep, "gmm1d": MixtureStep,
               "gmm": GaussianMixtureStep}

# What each half-step does, said before it happens ("Next: ...").
_NEXT = {
    ("kmeans", "E"): "E-step, reassign every point to its nearest centre",
    ("kmeans", "M"): "M-step, move every centre to the mean of its points",
    ("kmedoids", "E"): "E-step, reassign every point to its nearest medoid",
    ("kmedoids", "M"): (
        "M-step, make each cluster's medoid the member with the smallest total distance "
        "to the other members"
    ),
    ("kmedoids", "M", "all"): (
        "M-step, make each cluster's medoid the point (among all points) with the smallest "
        "total distance to the cluster's members"
    ),
    ("gmm1d", "E"): "E-step, compute every point's responsibilities from the current parameters",
    ("gmm1d", "M"): "M-step, re-estimate weights, means and sigmas from the responsibilities",
    ("gmm", "E"): "E-step, compute every point's responsibilities from the current parameters",
    ("gmm", "M"): (
        "M-step, re-estimate weights, means and covariances (the ellipses) from the "
        "responsibilities"
    ),
}
_FIRST_E = {
    "kmeans": "E-step, assign every point to its nearest centre",
    "kmedoids": "E-step, assign every point to its nearest medoid",
    "gmm1d": _NEXT[("gmm1d", "E")],
    "gmm": _NEXT[("gmm", "E")],
}
_INIT_CHOICES = {
    "kmeans": ("k-means++", "random"),
    "kmedoids": ("k-means++", "random"),
    "gmm1d": ("kmeans", "random"),
    "gmm": ("kmeans", "random"),
}
_EXPLICIT = "explicit"
_GIVEN = "(given data)"

_PLAYER_DIR = Path(__file__).resolve().parent
_ids = Counter()  # how often each player content was rendered: makes ids unique yet reproducible


def _wipe(ax):
    """Remove everything drawn on ``ax`` but keep the Axes and its tick objects.

    ``Axes.clear`` would rebuild the ticks, and making tick objects is a large part of a
    redraw; the plotting functions set limits, locators and labels again anyway.
    """
    for artist in (*ax.images, *ax.collections, *ax.lines, *ax.patches, *ax.texts):
        artist.remove()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    ax.set_title("")
    ax.dataLim.set_points(Bbox.null().get_points())
    ax.ignore_existing_data_limits = True
    ax.relim()


def _moving_artists(ax):
    """What changes from frame to frame: all but the axis objects (ticks, labels) and the
    Axes background; spines are redrawn so that they stay on top of the shading."""
    still = {ax.xaxis, ax.yaxis, ax.patch}
    return [a for a in ax.get_children() if a not in still and a.get_visible()]


def _axes_signature(ax):
    # everything the still background depends on
    return (ax.get_position().bounds, ax.get_xlim(), ax.get_ylim(),
            tuple(ax.get_xticks()), tuple(ax.get_yticks()), ax.get_xlabel(), ax.get_ylabel(),
            tuple(t.get_text() for t in ax.get_yticklabels()))


def _fit(method, data, fit_kwargs):
    # imported here so that plotting a hand-made history does not need the algorithms
    if method == "kmeans":
        from . import kmeans as module
    elif method == "kmedoids":
        from . import kmedoids as module
    elif method == "gmm":
        from . import gmm as module
    else:
        from . import gmm1d as module
    return module.fit(data, **fit_kwargs)


def _check_method(method):
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    return method


def _check_datasets(datasets):
    if datasets is None:
        return {}
    if not isinstance(datasets, dict):
        raise TypeError(f"datasets must be a dict of name -> data array, got {type(datasets).__name__}")
    for name in datasets:
        if not isinstance(name, str):
            raise TypeError(f"datasets keys must be str names, got {name!r}")
    return dict(datasets)


def step_through(method, data, *, datasets=None, **fit_kwargs):
    """Fit ``data`` with ``method`` and return a step-through of every half-step.

    Parameters
    ----------
    method : {"kmeans", "kmedoids", "gmm1d", "gmm"}
        Which algorithm's ``fit`` to run (``"gmm"``: :func:`algos.gmm.fit` on 2-D data).
    data : array_like
        ``X`` of shape (n, 2) for K-means, K-medoids and ``"gmm"``, ``x`` of shape (n,) for
        ``"gmm1d"``.
    datasets : dict of str to array_like, optional
        Data sets the live widget offers in its "dataset" menu (``data`` is preselected when
        it is one of them, by identity or equal values).
    **fit_kwargs
        Passed to the method's ``fit`` (``k``, ``init``, ``metric``, ``seed``, ``max_iter``,
        ``covariance_type``, ...). ``k`` is required.

    Returns
    -------
    StepThrough
        ``.result`` is the fit result and ``.frames`` its ``history``. Displayed as a cell's
        value, it is a live widget in a kernel and a kernel-free player on the website.

    Raises
    ------
    ValueError, TypeError
        For an unknown ``method``, a bad ``datasets`` mapping, or anything ``fit`` rejects.

    Examples
    --------
    >>> import numpy as np
    >>> from algos import stepper
    >>> X = np.array([[0., -6.], [4., 4.], [0., 0.], [-5., 2.]])
    >>> player = stepper.step_through("kmeans", X, k=2, init=X[[3, 0]])
    >>> player
    StepThrough(kmeans, 4 half-steps)
    >>> player.frames[-1].kind, player.result.converged
    ('E', True)
    """
    method = _check_method(method)
    datasets = _check_datasets(datasets)
    if "k" not in fit_kwargs:
        raise TypeError("step_through() needs k=... (the number of clusters or components)")
    result = _fit(method, data, fit_kwargs)
    return StepThrough(method, data, result, datasets=datasets, fit_kwargs=fit_kwargs)


class StepThrough:
    """A fit's half-steps, shown as a live widget or as a kernel-free HTML player.

    Usually made by :func:`step_through`; construct it directly to show a result (or a
    hand-made history) you already have.

    Parameters
    ----------
    method : {"kmeans", "kmedoids", "gmm1d", "gmm"}
    data : array_like
        The data ``result`` was fitted on.
    result : object
        A fit result: anything with a ``history`` (tuple of ClusterStep, MixtureStep or
        GaussianMixtureStep, as the method makes), and
        optionally ``converged`` and ``n_iter``.
    datasets : dict, optional
        Named data sets for the live widget's dataset menu.
    fit_kwargs : dict, optional
        The keywords ``result`` was fitted with; the live widget's refit controls start from
        them.

    Attributes
    ----------
    method : str
    data : ndarray
    result : object
        The fit shown now (the refit controls replace it).
    frames : tuple of ClusterStep, MixtureStep or GaussianMixtureStep
        ``result.history``.
    max_html_frames : int
        Longest history the HTML player embeds in full; a longer one shows its first
        ``max_html_frames - 2`` half-steps and its last two (the page stays small).
    html_dpi, live_dpi : float
        Resolution of the website frames and of the live widget's picture.
    play_interval_ms : int
        Time between frames when playing.
    """

    max_html_frames = 40
    #: Design size (width, height) in CSS pixels of the two pictures of a frame: the state
    #: (points and centres, or the mixture) and the objective so far. Each fits a 390 px phone's
    #: column; side by side they fit the book's column at 1280 px (``plotting.COLUMN_WIDTH``).
    panel_px = {"state": (336, 380), "objective": (310, 380)}
    html_scale = 1.5
    live_scale = 1.0
    html_colors = 96
    play_interval_ms = 800

    def __init__(self, method, data, result, *, datasets=None, fit_kwargs=None):
        self.method = _check_method(method)
        self._datasets = _check_datasets(datasets)
        self.fit_kwargs = dict(fit_kwargs or {})
        history = getattr(result, "history", None)
        if not history:
            raise ValueError("result must have a non-empty history (a fit result's .history)")
        want = _STEP_TYPES[self.method]
        if not all(isinstance(s, want) for s in history):
            raise TypeError(f"result.history of a {self.method} fit must hold {want.__name__}s")
        if self.method == "gmm" and any(np.shape(s.means)[1:] != (2,) for s in history):
            raise ValueError("a step-through of 'gmm' draws 2-D data: the means must have "
                             "shape (k, 2)")
        self._original = (data, self.fit_kwargs.get("init"), self.fit_kwargs.get("k"))
        self._panels = {}  # panel name -> (Figure, Axes), made on first use
        self._backgrounds = {}  # panel name -> (signature, saved pixels)
        self._widget = None
        self._controls = None
        self._set_fit(data, result)

    # ------------------------------------------------------------------ state

    def _set_fit(self, data, result):
        self.data = np.asarray(data, dtype=float)
        self.result = result
        self._cache = {}
        self._panels = {}  # their legends and margins depend on the fit: made again
        self._margins_fitted = False
        self._backgrounds = {}
        self._layout = self._fixed_limits()

    @property
    def frames(self):
        """The half-steps shown: ``result.history``."""
        return tuple(self.result.history)

    @property
    def metric(self):
        """Metric of the fit (``"l2"`` unless ``metric=`` was given); None for EM."""
        if self.method in ("gmm1d", "gmm"):
            return None
        return self.fit_kwargs.get("metric", "l2")

    def __len__(self):
        return len(self.result.history)

    def __repr__(self):
        return f"StepThrough({self.method}, {len(self)} half-steps)"

    def _fixed_limits(self):
        # the same axes for every frame, so stepping never makes the picture jump
        history = self.result.history
        if self.method == "gmm1d":
            xlim = plotting.mixture_xlim(self.data, history)
            ymax = 1.15 * max(plotting.mixture_peak(s, xlim) for s in history)
            if self.data.size >= 20:
                counts, edges = np.histogram(self.data, bins="auto", density=True)
                ymax = max(ymax, 1.15 * float(counts.max()))
            return {"xlim": xlim, "ymax": ymax}
        # as wide as the panel's box in data units, so equal scales need no widening later
        ax = self._panel("state")[1]
        box = ax.get_position()
        w, h = self.panel_px["state"]
        aspect = (box.height * h) / (box.width * w)
        if self.method == "gmm":
            return {"extent": plotting.gaussian_mixture_extent(self.data, history,
                                                               aspect=aspect)}
        return {"extent": plotting.cluster_extent(self.data, [s.centers for s in history],
                                                  aspect=aspect)}

    # ------------------------------------------------------------------ words

    def title(self, i):
        """Where half-step ``i`` is, e.g. "Iteration 3, after the M-step: centres moved".

        The one sentence the caption, the live widget and the text alternative all use (the
        pictures carry no title of their own), made by :func:`algos.plotting.describe_step`.
        """
        history = self.result.history
        return plotting.describe_step(history[i], history[i - 1] if i > 0 else None)

    def _things(self):
        return {"kmeans": "centres", "kmedoids": "medoids", "gmm1d": "parameters",
                "gmm": "parameters"}[self.method]

    def done_text(self):
        """Why the history ends, in words that agree with the last half-step's title.

        The last step either changed something (then the fit stopped because it converged by
        its tolerance, or at ``max_iter``) or changed nothing (a fixed point: the title says
        "no point changed cluster" or "... unchanged"); :func:`algos.plotting.step_changed`
        decides, the rule the title uses.
        """
        history = self.result.history
        last = history[-1]
        if last.kind == "init":
            return "Done: no iteration was run (max_iter = 0)."
        n_iter = getattr(self.result, "n_iter", last.iteration)
        its = f"{n_iter} iteration{'s' if n_iter != 1 else ''}"
        converged = bool(getattr(self.result, "converged", False))
        if not plotting.step_changed(last, history[-2]):
            if last.kind == "E":
                why = f"no point changed cluster, so the M-step would give the same {self._things()}"
            else:
                why = (f"the M-step left the {self._things()} unchanged, so the next E-step "
                       "would repeat the last one")
            if converged:
                return f"Done: converged after {its}: {why}."
            return f"Done: stopped at max_iter after {its}; {why}: the fit is at a fixed point."
        if converged:
            rule = ("the log-likelihood rose by less than tol per point"
                    if self.method in ("gmm1d", "gmm")
                    else "the objective fell by at most tol times its value")
            return f"Done: converged after {its}: {rule}."
        return f"Done: stopped at max_iter after {its}, before converging."

    def next_text(self, i):
        """What the half-step after ``i`` will do ("Next: E-step, ..."), or why none comes."""
        history = self.result.history
        if i >= len(history) - 1:
            return self.done_text()
        kind = history[i].kind
        if kind == "init":
            return "Next: " + _FIRST_E[self.method]
        nxt = "M" if kind == "E" else "E"
        key = (self.method, nxt)
        if key == ("kmedoids", "M") and self.fit_kwargs.get("medoids_from") == "all":
            key = ("kmedoids", "M", "all")
        return "Next: " + _NEXT[key]

    def objective_text(self, i):
        """The objective of half-step ``i`` in words, e.g. "Log-likelihood: -24.5125"."""
        return plotting.objective_text(self.result.history[i], self.metric or "l2")

    def detail_text(self, i):
        """The numbers of half-step ``i`` the picture shows: cluster sizes, or the parameters."""
        step = self.result.history[i]
        if isinstance(step, GaussianMixtureStep):
            parts = []
            for j, (w, m, c) in enumerate(zip(step.weights, step.means, step.covariances)):
                major, minor, angle = plotting.covariance_ellipse_axes(c)
                parts.append(f"{j}: w = {w:.2f}, \u03bc = ({m[0]:.2f}, {m[1]:.2f}), "
                             f"\u03c3 = {major:.2f} and {minor:.2f} at {angle:.0f}\u00b0")
            return "Parameters: " + "; ".join(parts)
        if isinstance(step, MixtureStep):
            return "Parameters: " + "; ".join(
                f"{j}: w = {w:.2f}, \u03bc = {m:.2f}, \u03c3 = {sd:.2f}"
                for j, (w, m, sd) in enumerate(zip(step.weights, step.means, step.sigmas)))
        if step.labels is None:
            return "Cluster sizes: no point is assigned yet."
        sizes = np.bincount(np.asarray(step.labels), minlength=len(step.centers))
        return "Cluster sizes: " + ", ".join(f"{j}: {int(c)}" for j, c in enumerate(sizes))

    def position_text(self, i):
        """``"Half-step 3 of 12"``."""
        return f"Half-step {i + 1} of {len(self)}"

    def alt_text(self, i):
        """The state picture of frame ``i`` in words, for readers who cannot see it.

        Made from the same numbers the picture draws (:func:`algos.plotting.describe_clusters`
        or :func:`~algos.plotting.describe_mixture`), so it cannot disagree with the caption.
        """
        history = self.result.history
        step, previous = history[i], (history[i - 1] if i > 0 else None)
        if isinstance(step, MixtureStep):
            text = plotting.describe_mixture(step, self.data, previous)
        elif isinstance(step, GaussianMixtureStep):
            text = plotting.describe_gaussian_mixture(step, self.data, previous)
        else:
            text = plotting.describe_clusters(step, self.data, previous, self.metric)
        return f"{self.position_text(i)}. {text}"

    def objective_alt_text(self, i):
        """The objective picture of frame ``i`` in words (the curve up to half-step ``i``)."""
        return plotting.describe_objective(self.result.history, i)

    # ------------------------------------------------------------------ drawing

    def _panel(self, name):
        """The Figure and Axes of one picture (made once; fixed margins, legend below)."""
        if name in self._panels:
            return self._panels[name]
        w, h = self.panel_px[name]
        with rc_context(plotting.STYLE):
            # white, whatever the notebook's rcParams say: frames are opaque PNGs
            fig = Figure(figsize=(w / plotting.PX_PER_INCH, h / plotting.PX_PER_INCH),
                         dpi=plotting.PX_PER_INCH, facecolor="white")
            FigureCanvasAgg(fig)
            ax = fig.subplots()
        handles, labels = self._legend_entries(name)
        with rc_context(plotting.STYLE):
            # a figure legend: it never changes, so it is part of the still background;
            # two columns if they fit the picture's width, else one
            for ncol in (2, 1):
                legend = fig.legend(handles, labels, loc="lower center", ncol=ncol,
                                    frameon=False, fontsize=plotting.FONT_SIZES["small"],
                                    handletextpad=0.4, columnspacing=1.0, borderaxespad=0.3,
                                    handler_map=plotting.LEGEND_HANDLERS)
                width = legend.get_window_extent(fig.canvas.get_renderer()).width
                if ncol == 1 or width <= fig.bbox.width - 8:
                    break
                legend.remove()
        rows = -(-len(handles) // ncol)
        # margins in pixels: tick labels and axis label ("points" and r_nk name the mixture
        # band on the y axis: wider), then the legend rows
        left = {"state": 82 if self.method == "gmm1d" else 52, "objective": 66}[name]
        bottom = 50 + 18 * rows + 6
        fig.subplots_adjust(left=left / w, right=1 - 10 / w, top=1 - 10 / h, bottom=bottom / h)
        self._panels[name] = (fig, ax)
        return self._panels[name]

    def _legend_entries(self, name):
        """(handles, labels) of a picture's legend: the marks of the whole fit."""
        first = self.result.history[0]
        if name == "objective":
            handles = plotting.objective_legend_handles(self.result.history)
        elif self.method == "gmm1d":
            return plotting.mixture_legend_entries(len(first.means), self.data.size >= 20)
        elif self.method == "gmm":
            handles = plotting.gaussian_mixture_legend_handles(moved=True)
        else:
            handles = plotting.cluster_legend_handles(medoids=self.method == "kmedoids",
                                                      moved=True)
        return handles, [h.get_label() for h in handles]

    def draw(self, i):
        """Draw half-step ``i`` on the player's own two figures and return them.

        Returns
        -------
        dict
            ``{"state": Figure, "objective": Figure}``: the state is
            :func:`algos.plotting.plot_clusters`, :func:`~algos.plotting.plot_mixture` or
            :func:`~algos.plotting.plot_gaussian_mixture`, the
            objective :func:`~algos.plotting.plot_objective` up to half-step ``i``. The
            artists are replaced, the Axes (and their tick objects) are reused. Neither
            picture has a title: the caption says where the step is.
        """
        history = self.result.history
        i = int(i)
        if not 0 <= i < len(history):
            raise IndexError(f"half-step index must be in [0, {len(history) - 1}], got {i}")
        if not self._margins_fitted:
            # the fit's first drawing: fit the margins to its tick labels (the limits are
            # the same for every frame, so the labels are too; frame 0 has the widest band
            # label of a mixture, "points")
            self._margins_fitted = True
            for _ in range(3):
                self._plot(0)
                if not any([self._fit_margins("state"), self._fit_margins("objective")]):
                    break
        self._plot(i)
        return {name: self._panels[name][0] for name in self.panel_px}

    def _plot(self, i):
        history = self.result.history
        state = self._panel("state")[1]
        objective = self._panel("objective")[1]
        with rc_context(plotting.STYLE):
            _wipe(state)
            _wipe(objective)
            plotting.plot_step(history, i, self.data, ax=state, metric=self.metric or "l2",
                               legend=False, title="", **self._layout)
            state.apply_aspect()  # settle the limits before the still background is compared
            plotting.plot_objective(history, current=i, ax=objective, legend=False, title="")

    def _fit_margins(self, name, pad=4.0):
        """Move the Axes' left, right and top edges so that its labels (tick labels, axis
        label, an offset such as "1e8") end ``pad`` px inside the picture; return whether
        anything moved (by more than a pixel)."""
        fig, ax = self._panels[name]
        fig.set_dpi(plotting.PX_PER_INCH)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        tight, box = ax.get_tightbbox(renderer), ax.get_window_extent(renderer)
        width, height = fig.bbox.width, fig.bbox.height
        left = box.x0 + (pad - tight.x0)
        right = box.x1 - max(0.0, tight.x1 - (width - pad))
        top = box.y1 - max(0.0, tight.y1 - (height - pad))
        if abs(left - box.x0) <= 1 and abs(right - box.x1) <= 1 and abs(top - box.y1) <= 1:
            return False
        fig.subplots_adjust(left=left / width, right=right / width, top=top / height)
        return True

    def _render(self, name, dpi):
        """Rasterise the panel ``name`` (already drawn by :meth:`draw`); return its canvas.

        Drawing text (tick labels, axis labels) is most of matplotlib's time, and between
        two frames of one fit only the data change. So the still parts are rasterised once
        into a background (while the panel's layout stays the same) and each frame pastes it
        and draws only its own artists, in zorder as Axes.draw would.
        """
        fig, ax = self._panels[name]
        fig.set_dpi(dpi)
        canvas = fig.canvas
        signature = (dpi, _axes_signature(ax))
        moving = _moving_artists(ax)
        saved = self._backgrounds.get(name)
        if saved is None or saved[0] != signature:
            for a in moving:
                a._algos_visible = a.get_visible()
                a.set_visible(False)
            canvas.draw()
            for a in moving:
                a.set_visible(a._algos_visible)
            saved = self._backgrounds[name] = (signature, canvas.copy_from_bbox(fig.bbox))
        canvas.restore_region(saved[1])
        renderer = canvas.get_renderer()
        for a in sorted(moving, key=lambda a: a.get_zorder()):
            a.draw(renderer)
        return canvas

    def png(self, i, *, panel="state", compact=False):
        """One picture of frame ``i`` as PNG bytes.

        Parameters
        ----------
        i : int
            Half-step index.
        panel : {"state", "objective"}
            Which picture: the points and centres (or the mixture), or the objective so far.
        compact : bool
            False: the live widget's picture (``live_scale`` times the design size, fast to
            encode). True: the website's (``html_scale`` times the design size, sharp on
            high-density screens, reduced to ``html_colors`` colours).

        Returns
        -------
        bytes
            The same drawing gives the same bytes: no date or software tag is written.
        """
        if panel not in self.panel_px:
            raise ValueError(f"panel must be one of {sorted(self.panel_px)}, got {panel!r}")
        key = (int(i), bool(compact))
        if (key, panel) not in self._cache:
            self.draw(i)
            scale = self.html_scale if compact else self.live_scale
            for name in self.panel_px:  # both pictures of a frame come from one drawing
                canvas = self._render(name, scale * plotting.PX_PER_INCH)
                image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(),
                                         "raw", "RGBA", 0, 1).convert("RGB")
                out = io.BytesIO()
                if compact:
                    image = image.quantize(self.html_colors, method=Image.Quantize.MEDIANCUT,
                                           dither=Image.Dither.NONE)
                    image.save(out, format="PNG", optimize=True)
                else:
                    image.save(out, format="PNG", compress_level=1)
                self._cache[(key, name)] = out.getvalue()
        return self._cache[(key, panel)]

    # ------------------------------------------------------------------ website player

    def smallest_text_px(self):
        """Smallest text of the pictures, in CSS pixels, when shown at their design width.

        The page shows each picture at ``panel_px`` (its ``width`` attribute) or, on a
        screen too narrow for that, smaller: a test in the browser multiplies this by the
        shown width over the design width.
        """
        self.draw(0)
        return min(plotting.smallest_text_px(fig) for fig, _ in self._panels.values())

    def html_frame_indices(self):
        """Indices of the half-steps the HTML player embeds (all, or the first and last ones)."""
        n = len(self)
        cap = max(int(self.max_html_frames), 3)
        if n <= cap:
            return list(range(n))
        return list(range(cap - 2)) + [n - 2, n - 1]

    def frame_texts(self, i):
        """Everything frame ``i`` says in words: one dict, so that nothing can disagree.

        Returns
        -------
        dict
            ``title``, ``next``, ``objective``, ``detail``, ``position``, ``alt`` (state
            picture) and ``objective_alt`` (objective picture).
        """
        return {
            "title": self.title(i),
            "next": self.next_text(i),
            "objective": self.objective_text(i),
            "detail": self.detail_text(i),
            "position": self.position_text(i),
            "alt": self.alt_text(i),
            "objective_alt": self.objective_alt_text(i),
        }

    def to_html(self):
        """The kernel-free player: one self-contained ``<div>`` with frames, controls and script.

        Returns
        -------
        str
            HTML with each frame's two pictures as base64 PNGs, real ``<button>`` elements
            named "Previous step", "Next step", "Play" (it reads "Pause" while playing) and
            "Reset", an ``<input type="range">`` slider, the caption, the next step, the
            objective and the step's numbers in text, alt text on every picture, and inline
            JavaScript. It loads nothing from outside, so it works from ``file://``. Its
            element id is derived from the content plus a per-process counter: unique on a
            page, and the same on every fresh re-execution of a notebook.
        """
        indices = self.html_frame_indices()
        frames = []
        for i in indices:
            texts = self.frame_texts(i)
            for name in self.panel_px:
                texts["src_" + name] = ("data:image/png;base64,"
                                        + base64.b64encode(self.png(i, panel=name, compact=True)).decode())
            frames.append(texts)
        # the id comes from what the frames say, not from their pixels, so it is the same on
        # every machine even if a font renders a pixel differently
        words = [{k: v for k, v in f.items() if not k.startswith("src_")} for f in frames]
        digest = hashlib.sha1(
            json.dumps([self.method, words], sort_keys=True).encode()
        ).hexdigest()[:12]
        _ids[digest] += 1
        pid = f"algos-player-{digest}-{_ids[digest]}"
        first = frames[0]
        payload = [dict(f) for f in frames]
        for name in self.panel_px:
            payload[0]["src_" + name] = None  # already in the <img>: do not embed it twice
        data = json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")
        note = ""
        if len(indices) < len(self):
            note = (f'<p class="algos-player-note">Showing half-steps 1 to {indices[-3] + 1} and '
                    f"the last two of {len(self)}; run the notebook to step through all.</p>")
        css = (_PLAYER_DIR / "_player.css").read_text()
        js = (_PLAYER_DIR / "_player.js").read_text()
        js = js.replace("__ID__", pid).replace("__INTERVAL__", str(int(self.play_interval_ms)))
        esc = html.escape
        label = f"Step-through of {METHODS[self.method]}"
        (sw, sh), (ow, oh) = self.panel_px["state"], self.panel_px["objective"]
        return (
            f'<div class="algos-player" id="{pid}" role="group" aria-label="{esc(label)}" '
            f'data-min-text-px="{self.smallest_text_px():.1f}">\n'
            f"<style>{css}</style>\n"
            # the controls come first: on a phone or in a narrow notebook the pictures stack,
            # and the buttons stay in view with the first picture
            f'<div class="algos-player-controls">'
            f'<button type="button" data-act="prev" title="Go back one half-step" disabled>'
            f"Previous step</button>"
            f'<button type="button" data-act="next" title="Go forward one half-step">Next step</button>'
            f'<button type="button" data-act="play" '
            f'title="Play the half-steps one after another">Play</button>'
            f'<button type="button" data-act="reset" title="Back to the start">Reset</button>'
            f'<input type="range" min="0" max="{len(frames) - 1}" step="1" value="0" '
            f'aria-label="Half-step">'
            f'<output aria-live="off">{esc(first["position"])}</output></div>\n'
            f'<figure><figcaption aria-live="polite">{esc(first["title"])}</figcaption>\n'
            f'<div class="algos-player-panels">'
            f'<img class="algos-player-state" src="{first["src_state"]}" '
            f'alt="{esc(first["alt"])}" width="{sw}" height="{sh}">'
            f'<img class="algos-player-curve" src="{first["src_objective"]}" '
            f'alt="{esc(first["objective_alt"])}" width="{ow}" height="{oh}"></div></figure>\n'
            f'<p class="algos-player-next">{esc(first["next"])}</p>\n'
            f'<p class="algos-player-objective">{esc(first["objective"])}</p>\n'
            f'<p class="algos-player-detail">{esc(first["detail"])}</p>\n{note}'
            f'<script type="application/json">{data}</script>\n'
            f"<script>{js}</script>\n</div>"
        )

    def _repr_html_(self):
        return self.to_html()

    # ------------------------------------------------------------------ live widget

    def widget(self):
        """The live ipywidgets view (built once, then reused).

        Returns
        -------
        ipywidgets.VBox
            Buttons "Previous step", "Next step", "Play" (reads "Pause" while playing) and
            "Reset" with a half-step slider (a row that wraps in a narrow notebook), the
            title, the two pictures (PNG images redrawn in place, side by side or stacked),
            the next step, the objective and the step's numbers as text, and refit controls:
            k, initialisation, seed, metric (K-means and K-medoids), covariance type (2-D
            EM) and dataset (when
            ``datasets`` was given).
        """
        if self._widget is None:
            from ._stepper_widget import build_widget

            self._widget, self._controls = build_widget(self)
        return self._widget

    def refit(self, **changes):
        """Re-run the fit with some keywords changed and show the new history from its start.

        Parameters
        ----------
        **changes
            ``fit`` keywords to change (``k``, ``init``, ``seed``, ``metric``, ...), and
            ``dataset``: the name of one of ``datasets`` (or ``"(given data)"``).

        Returns
        -------
        StepThrough
            ``self``, now showing the new fit (``.result`` and ``.frames`` are replaced).
        """
        data = self.data
        if "dataset" in changes:
            name = changes.pop("dataset")
            if name == _GIVEN:
                data = self._original[0]
            elif name in self._datasets:
                data = self._datasets[name]
            else:
                raise ValueError(f"dataset must be one of {self.dataset_names()}, got {name!r}")
        kwargs = dict(self.fit_kwargs)
        kwargs.update(changes)
        result = _fit(self.method, data, kwargs)
        self.fit_kwargs = kwargs
        self._set_fit(data, result)
        if self._controls is not None:
            self._controls.refresh()
        return self

    def dataset_names(self):
        """Names for the dataset menu; ``"(given data)"`` first unless ``data`` is one of them."""
        names = list(self._datasets)
        if self.current_dataset() == _GIVEN:
            names.insert(0, _GIVEN)
        return names

    def current_dataset(self):
        """Name of the data shown now (``"(given data)"`` if it is not one of ``datasets``)."""
        for name, d in self._datasets.items():
            if d is self.data or (np.shape(d) == self.data.shape
                                  and np.array_equal(np.asarray(d, float), self.data)):
                return name
        return _GIVEN

    def init_choices(self):
        """Initialisations the widget offers: the method's named ones, plus ``"explicit"``
        when the original call passed explicit starting parameters."""
        choices = list(_INIT_CHOICES[self.method])
        if not isinstance(self._original[1], str) and self._original[1] is not None:
            choices.append(_EXPLICIT)
        return choices

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": repr(self), "text/html": self.to_html()}
        try:
            widget = self.widget()
        except ImportError:  # no ipywidgets: the HTML player still works
            return bundle
        bundle["application/vnd.jupyter.widget-view+json"] = {
            "version_major": 2,
            "version_minor": 0,
            "model_id": widget.model_id,
        }
        return bundle
