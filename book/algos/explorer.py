"""The website's live explorer: a chapter's data sets, embedded for the page's own script.

On the book's website every chapter page has, below its step-through player, an explorer that
runs K-means, K-medoids, 1-D or 2-D Gaussian-mixture EM in the reader's browser: pick a data set
(or draw one), k, the metric or the covariance type, the start (or click it in), then Step,
Back, Run and Reset. The computation is a JavaScript port of :mod:`algos.kmeans`,
:mod:`algos.kmedoids`, :mod:`algos.gmm1d` and :mod:`algos.gmm` that gives the same labels,
medoids, parameters and objectives (a browser test compares them); the script and its style sheet are static files of the site
(``book/_ext/static/explorer/``), loaded by the pages that hold an explorer.

This module only packs the data. :func:`embed` returns an :class:`Explorer` whose
``_repr_mimebundle_`` gives

* ``text/html``: a ``<div class="algos-explorer">`` holding the data sets and the settings as
  JSON, which the site's script turns into the explorer (and a short note for places where
  that script is not loaded, such as JupyterLab);
* ``text/plain``: a short, stable line such as ``Explorer(kmeans, k=4: four blobs (300 points))``.
"""

from __future__ import annotations

import html
import json

import numpy as np

from . import _validation as v
from . import gmm

#: The methods the explorer runs, with the names used in its title.
METHODS = {"kmeans": "K-means", "kmedoids": "K-medoids", "gmm1d": "Gaussian-mixture EM",
           "gmm": "Gaussian-mixture EM in 2-D"}

#: Largest k the explorer offers.
MAX_K = 10

#: Most points in one data set: the page stays small and every half-step fast in a browser.
MAX_POINTS = 5000

_STARTS = {"kmeans": ("k-means++", "random"), "kmedoids": ("k-means++", "random"),
           "gmm1d": ("kmeans", "random"), "gmm": ("kmeans", "random")}


def embed(method, datasets, *, k, init=None, start=None, metric="l2", medoids_from="cluster",
          seed=0, covariance_type="full"):
    """The explorer for ``method`` on the given data sets, as a displayable object.

    Parameters
    ----------
    method : {"kmeans", "kmedoids", "gmm1d", "gmm"}
        Which algorithm the explorer runs ("gmm": :mod:`algos.gmm` on 2-D data).
    datasets : dict of str to array_like
        Named data sets, the first shown first: arrays of shape (n, 2) for K-means, K-medoids
        and 2-D EM, of shape (n,) for 1-D EM; at most :data:`MAX_POINTS` points each. The values are
        embedded exactly (shortest round-trip decimals), so the browser computes on the same
        numbers as the chapter.
    k : int
        Number of clusters (components) to start with, 1 <= k <= :data:`MAX_K` and at most
        the size of the first data set.
    init : array_like or tuple, optional
        An explicit start for the first data set, offered as the start "as in the
        step-through above": centres of shape (k, 2) for K-means, k distinct row indices for
        K-medoids, ``(weights, means, sigmas)`` for 1-D EM, ``(weights, means, covariances)``
        of shapes (k,), (k, 2), (k, 2, 2) for 2-D EM. Typically the player's first half-step,
        so the explorer starts where the player started.
    start : {"k-means++", "random"} or {"kmeans", "random"}, optional
        The seeded start to use when ``init`` is not given (default "k-means++" for K-means
        and K-medoids, "kmeans" for EM). The browser follows the rule of the method's ``fit``
        with its own generator: the same seed gives another start than numpy's.
    metric : {"l2", "l1"}, default "l2"
        Distance for K-means and K-medoids (ignored by EM).
    medoids_from : {"cluster", "all"}, default "cluster"
        K-medoids' candidate rule.
    seed : int, default 0
        Seed of the seeded starts, >= 0.
    covariance_type : {"full", "diag", "spherical", "tied"}, default "full"
        2-D EM's covariance type to start with (the reader can change it; ignored by the
        other methods). The explicit ``init`` is offered with this type only.

    Returns
    -------
    Explorer

    Raises
    ------
    ValueError, TypeError
        For an unknown method, no data set, a name that is not a string, data of the wrong
        shape or with NaN/inf, more than :data:`MAX_POINTS` points, k out of range, or a bad
        ``init``, ``start``, ``metric``, ``medoids_from``, ``seed`` or ``covariance_type``
        (for 2-D EM, covariances of ``init`` that are not symmetric positive definite).

    Examples
    --------
    >>> import numpy as np
    >>> from algos import explorer
    >>> X = np.array([[0., -6.], [4., 4.], [0., 0.], [-5., 2.]])
    >>> explorer.embed("kmeans", {"seed 000": X}, k=2, init=X[[3, 0]])
    Explorer(kmeans, k=2: seed 000 (4 points))
    """
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    if not isinstance(datasets, dict):
        raise TypeError(f"datasets must be a dict of name -> data array, got {type(datasets).__name__}")
    if not datasets:
        raise ValueError("datasets must hold at least one data set")
    sets = []
    for name, data in datasets.items():
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"datasets keys must be non-empty str names, got {name!r}")
        arr = _check_data(method, data, f"datasets[{name!r}]")
        sets.append({"name": name, "data": arr.tolist()})
    n_first = len(sets[0]["data"])
    k = v.check_int(k, "k", minimum=1, maximum=MAX_K)
    v.check_k(k, n_first)
    metric = v.check_metric(metric)
    medoids_from = v.check_choice(medoids_from, "medoids_from", ("cluster", "all"))
    seed = v.check_int(seed, "seed", minimum=0, maximum=2**32 - 1)
    covariance_type = v.check_choice(covariance_type, "covariance_type", gmm.COVARIANCE_TYPES)
    if start is None:
        start = _STARTS[method][0]
    start = v.check_choice(start, "start", _STARTS[method])
    first = np.asarray(sets[0]["data"], dtype=float)
    config = {
        "method": method,
        "k": k,
        "metric": metric,
        "medoids_from": medoids_from,
        "start": start,
        "seed": seed,
        "covariance_type": covariance_type,
        "init": None if init is None else _check_init(method, init, k, first),
        "datasets": sets,
    }
    return Explorer(config)


def _check_data(method, data, name):
    if method == "gmm1d":
        arr = v.check_x1d(data, name)
    else:
        arr = v.check_X(data, name)
        if arr.shape[1] != 2:
            raise ValueError(f"{name} must have 2 columns (the explorer draws the plane), got shape {arr.shape}")
    if arr.shape[0] > MAX_POINTS:
        raise ValueError(f"{name} has {arr.shape[0]} points; the explorer takes at most {MAX_POINTS}")
    return arr


def _check_init(method, init, k, first):
    """The explicit start as plain lists, checked against the first data set."""
    if method == "kmeans":
        return v.check_centers(init, k, 2, name="init").tolist()
    if method == "kmedoids":
        rows = np.asarray(init)
        if rows.ndim != 1 or rows.dtype.kind not in "iu":
            raise TypeError("init must be a 1-D array of k integer row indices for K-medoids")
        if rows.shape[0] != k:
            raise ValueError(f"init must hold k={k} row indices, got {rows.shape[0]}")
        if rows.min() < 0 or rows.max() >= first.shape[0]:
            raise ValueError(f"init must index rows of the first data set (0..{first.shape[0] - 1})")
        if np.unique(rows).size != k:
            raise ValueError(f"init must hold k={k} distinct rows, got {rows.tolist()}")
        return [int(r) for r in rows]
    if method == "gmm":
        if not isinstance(init, (tuple, list)) or len(init) != 3:
            raise TypeError("init must be a tuple (weights, means, covariances) for 2-D EM")
        w, m, c = v.check_gaussian_mixture(*init, k=k, d=2)
        gmm.log_likelihood(first, w, m, c)  # refuses covariances that are not positive definite
        return {"weights": w.tolist(), "means": m.tolist(), "covariances": c.tolist()}
    if not isinstance(init, (tuple, list)) or len(init) != 3:
        raise TypeError("init must be a tuple (weights, means, sigmas) for EM")
    w, m, s = v.check_mixture(*init, k=k)
    return {"weights": w.tolist(), "means": m.tolist(), "sigmas": s.tolist()}


class Explorer:
    """The data and settings of one live explorer (see :func:`embed`).

    Attributes
    ----------
    config : dict
        What the page's script reads: ``method``, ``k``, ``metric``, ``medoids_from``,
        ``start``, ``seed``, ``covariance_type``, ``init`` and ``datasets`` (a list of ``{"name", "data"}``).
    """

    def __init__(self, config):
        self.config = config

    def __repr__(self):
        sets = ", ".join(f"{s['name']} ({len(s['data'])} points)" for s in self.config["datasets"])
        return f"Explorer({self.config['method']}, k={self.config['k']}: {sets})"

    def to_html(self):
        """The ``<div class="algos-explorer">`` the site's script turns into the explorer.

        Returns
        -------
        str
            The settings and data sets as JSON in a ``<script type="application/json">``
            (``</`` escaped, so no value can end the script early), and a note that shows
            where the script is not loaded. The same data give the same HTML.
        """
        method = self.config["method"]
        data = json.dumps(self.config, separators=(",", ":"), allow_nan=False)
        data = data.replace("</", "<\\/")
        names = ", ".join(s["name"] for s in self.config["datasets"])
        note = (f"Live explorer of {METHODS[method]} ({names}): it runs on the book's website, "
                "where the page's script draws it. In JupyterLab, the step-through widget above "
                "does the same in Python.")
        return (
            f'<div class="algos-explorer" data-method="{method}">\n'
            f'<script type="application/json">{data}</script>\n'
            f'<p class="algos-explorer-fallback">{html.escape(note)}</p>\n'
            "</div>"
        )

    def _repr_html_(self):
        return self.to_html()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": repr(self), "text/html": self.to_html()}
