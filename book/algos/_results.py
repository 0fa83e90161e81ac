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
    """

    kind: str
    iteration: int
    objective: float
    resp: np.ndarray | None
    weights: np.ndarray
    means: np.ndarray
    sigmas: np.ndarray
