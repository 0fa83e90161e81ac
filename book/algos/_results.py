"""Immutable records of a fit: one ``Step`` per half-step and one result per fit.

Every figure, widget, player, homework check and property test reads these records, so an
iteration is computed once, by the algorithm, and never recomputed for display.

Arrays stored here are read-only copies: a reader cannot change a history by accident.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The three kinds of half-step, in the order they occur.
STEP_KINDS = ("init", "E", "M")


def frozen_array(a):
    """Return a read-only copy of ``a`` (``None`` passes through)."""
    if a is None:
        return None
    out = np.array(a, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class ClusterStep:
    """State after one half-step of K-means or K-medoids.

    Attributes
    ----------
    kind : {"init", "E", "M"}
        ``"init"`` holds the starting centres (no assignment yet, ``labels`` is None),
        ``"E"`` the new assignment with the old centres, ``"M"`` the new centres.
    iteration : int
        0 for ``"init"``; the E- and M-step of iteration ``t`` both carry ``t`` (1-based).
    objective : float or None
        The objective for (labels, centers) of this step; None for ``"init"``.
    labels : ndarray of int, shape (n,) or None
        Cluster of each point (0-based).
    centers : ndarray, shape (k, d)
        Centres (K-means) or the medoids' coordinates (K-medoids).
    medoid_indices : ndarray of int, shape (k,) or None
        Rows of X that are the medoids (K-medoids only).
    empty : tuple of int
        Clusters that had no point in this step (K-means keeps their previous centre).
    """

    kind: str
    iteration: int
    objective: float | None
    labels: np.ndarray | None
    centers: np.ndarray
    medoid_indices: np.ndarray | None = None
    empty: tuple = ()


@dataclass(frozen=True)
class MixtureStep:
    """State after one half-step of 1-D Gaussian-mixture EM.

    Attributes
    ----------
    kind : {"init", "E", "M"}
        ``"init"`` holds the starting parameters (``resp`` is None), ``"E"`` the new
        responsibilities with the old parameters, ``"M"`` the new parameters.
    iteration : int
        0 for ``"init"``; the E- and M-step of iteration ``t`` both carry ``t`` (1-based).
    objective : float
        Total log-likelihood of the data under this step's parameters.
    resp : ndarray, shape (n, k) or None
        Responsibilities r_nk (rows sum to 1).
    weights, means, sigmas : ndarray, shape (k,)
        Mixture parameters after this step.
    floored : tuple of int
        Components whose sigma the floor ``min_sigma`` raised in this step: at ``"init"`` a
        starting sigma below the floor, at ``"M"`` a weighted standard deviation below it
        (a component collapsing onto a point). Always empty for ``"E"``.
    """

    kind: str
    iteration: int
    objective: float
    resp: np.ndarray | None
    weights: np.ndarray
    means: np.ndarray
    sigmas: np.ndarray
    floored: tuple = ()


@dataclass(frozen=True)
class KMeansResult:
    """Outcome of :func:`algos.kmeans.fit`.

    Attributes
    ----------
    labels : ndarray of int, shape (n,)
        Assignment of the last E-step (0-based).
    centers : ndarray, shape (k, d)
        Centres after the last M-step (or the initial centres if no M-step ran).
    objective : float
        Objective of (labels, centers): ``history[-1].objective``.
    n_iter : int
        Iterations run (the number of E-steps).
    converged : bool
        True if the stopping rule fired before ``max_iter`` ran out.
    history : tuple of ClusterStep
        Every half-step, starting with ``"init"``.
    """

    labels: np.ndarray
    centers: np.ndarray
    objective: float
    n_iter: int
    converged: bool
    history: tuple


@dataclass(frozen=True)
class KMedoidsResult:
    """Outcome of :func:`algos.kmedoids.fit`.

    Attributes
    ----------
    labels : ndarray of int, shape (n,)
        Assignment of the last E-step (0-based).
    medoids : ndarray, shape (k, d)
        Coordinates of the medoids, ``X[medoid_indices]``.
    medoid_indices : ndarray of int, shape (k,)
        Rows of X that are the medoids.
    objective : float
        Sum of distances (not squared) from each point to its medoid.
    n_iter : int
        Iterations run (the number of E-steps).
    converged : bool
        True if the stopping rule fired before ``max_iter`` ran out.
    history : tuple of ClusterStep
        Every half-step, starting with ``"init"``.
    """

    labels: np.ndarray
    medoids: np.ndarray
    medoid_indices: np.ndarray
    objective: float
    n_iter: int
    converged: bool
    history: tuple


@dataclass(frozen=True)
class GMMResult:
    """Outcome of :func:`algos.gmm1d.fit`.

    Attributes
    ----------
    weights, means, sigmas : ndarray, shape (k,)
        Parameters after the last M-step.
    resp : ndarray, shape (n, k)
        Responsibilities under the final parameters (one extra E-step, the one whose
        normaliser also gives ``log_likelihood``).
    log_likelihood : float
        Total (summed, natural-log) log-likelihood of the final parameters,
        ``history[-1].objective``.
    n_iter : int
        EM iterations run (E-step + M-step pairs).
    converged : bool
        True if the log-likelihood changed by less than ``tol`` before ``max_iter`` ran out.
    history : tuple of MixtureStep
        Every half-step, starting with ``"init"``.
    """

    weights: np.ndarray
    means: np.ndarray
    sigmas: np.ndarray
    resp: np.ndarray
    log_likelihood: float
    n_iter: int
    converged: bool
    history: tuple


@dataclass(frozen=True)
class GaussianMixtureStep:
    """State after one half-step of Gaussian-mixture EM in d dimensions (:mod:`algos.gmm`).

    Attributes
    ----------
    kind : {"init", "E", "M"}
        ``"init"`` holds the starting parameters (``resp`` is None), ``"E"`` the new
        responsibilities with the old parameters, ``"M"`` the new parameters.
    iteration : int
        0 for ``"init"``; the E- and M-step of iteration ``t`` both carry ``t`` (1-based).
    objective : float
        Total log-likelihood of the data under this step's parameters (also readable as
        ``log_likelihood``).
    resp : ndarray, shape (n, k) or None
        Responsibilities r_ij (rows sum to 1): for ``"E"`` the new ones, for ``"M"`` the ones
        the M-step used (the same array).
    weights : ndarray, shape (k,)
    means : ndarray, shape (k, d)
    covariances : ndarray, shape (k, d, d)
        Mixture parameters after this step; covariances are full matrices whatever the
        covariance type.
    dead : tuple of int
        Components whose total responsibility is exactly 0 in this step: their weight is 0
        and they kept their previous mean and covariance.
    """

    kind: str
    iteration: int
    objective: float
    resp: np.ndarray | None
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    dead: tuple = ()

    @property
    def log_likelihood(self):
        """The same number as ``objective``: the total log-likelihood of this step's parameters."""
        return self.objective


@dataclass(frozen=True)
class GaussianMixtureResult:
    """Outcome of :func:`algos.gmm.fit`.

    Attributes
    ----------
    weights : ndarray, shape (k,)
    means : ndarray, shape (k, d)
    covariances : ndarray, shape (k, d, d)
        Parameters after the last M-step (full matrices whatever the covariance type).
    resp : ndarray, shape (n, k)
        Responsibilities under the final parameters (one extra E-step, the one whose
        normaliser also gives ``log_likelihood``).
    log_likelihood : float
        Total (summed, natural-log) log-likelihood of the final parameters,
        ``history[-1].objective``.
    n_iter : int
        EM iterations run (E-step + M-step pairs).
    converged : bool
        True if the log-likelihood changed by less than ``tol`` per point before ``max_iter``
        ran out.
    history : tuple of GaussianMixtureStep
        Every half-step, starting with ``"init"``.
    covariance_type : str
        ``"full"``, ``"diag"``, ``"spherical"`` or ``"tied"``.
    reg_covar : ndarray, shape (d,)
        What was added to the diagonal of every covariance after each M-step.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    resp: np.ndarray
    log_likelihood: float
    n_iter: int
    converged: bool
    history: tuple
    covariance_type: str
    reg_covar: np.ndarray


def readonly(a):
    """Mark a freshly computed array read-only without copying it (the fit owns it)."""
    a.setflags(write=False)
    return a
