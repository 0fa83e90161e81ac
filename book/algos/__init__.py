"""Helpers for the book: K-means, K-medoids and Gaussian-mixture EM (1-D and d-dimensional).

The four algorithm modules share one structure (``e_step``, ``m_step``, ``objective`` or
``log_likelihood``, and ``fit`` returning an immutable result with a ``history`` of half-steps).
They need only numpy; the figures (``algos.plotting``) and the step-through player
(``algos.stepper``) are imported separately because they need matplotlib and ipywidgets.
"""

from . import gmm, gmm1d, kmeans, kmedoids

__all__ = ["kmeans", "kmedoids", "gmm1d", "gmm"]
