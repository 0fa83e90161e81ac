"""What the chapters' checks share: messages, type and shape checks, the seed data.

Everything a message shows fits on one line. A judge never trusts what came back: it may be
any plain value (see :mod:`grading.checks`), so it is converted here with a message that says
what was expected and what came instead.
"""

from __future__ import annotations

import numpy as np

from .._plain import Opaque


class Failed(Exception):
    """The student's answer is wrong; the message is shown to the student as it is."""


# --- formatting -------------------------------------------------------------------------------

def fmt(value):
    """Format a number or array compactly on one line (6 significant digits)."""
    arr = np.asarray(value)
    if arr.dtype.kind in "iub":
        text = np.array2string(arr, separator=", ", threshold=24)
    else:
        text = np.array2string(arr.astype(float), separator=", ", threshold=24,
                               formatter={"float_kind": lambda v: f"{v:.6g}"})
    return " ".join(text.split())  # rows of a 2-D array on the same line


def one_line(text, limit=200):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def is_numeric(value):
    """True for a number or a (nested list of) numbers: something numpy reads as numbers."""
    if isinstance(value, (bool, np.bool_, str, bytes, Opaque)) or value is None:
        return False
    try:
        return np.asarray(value).dtype.kind in "iuf"
    except (ValueError, TypeError):
        return False


def describe(value):
    """Say in words what a student's code returned."""
    if value is None:
        return "None (is a `return` missing?)"
    if isinstance(value, Opaque):
        return f"a {value.type_name} object (return numbers or a numpy array)"
    if isinstance(value, (bool, np.bool_)):
        return f"the boolean {value}"
    if isinstance(value, (str, bytes)):
        return f"the string {one_line(repr(value), 60)}"
    if isinstance(value, (tuple, list)) and not is_numeric(value):
        return f"a {type(value).__name__} of {len(value)} items"
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        return f"a {type(value).__name__}"
    if arr.dtype.kind == "b":
        return f"booleans of shape {arr.shape}: {fmt(arr)}"
    if arr.dtype.kind not in "iuf":
        return f"a {type(value).__name__}"
    if arr.ndim == 0:
        return f"the number {fmt(arr)}"
    return f"an array of shape {arr.shape}: {fmt(arr)}"


# --- checking what came back -------------------------------------------------------------------

def as_array(name, result, shape, case, what):
    """The result as a float array of ``shape``, or :class:`Failed` saying why not."""
    if isinstance(result, tuple) and len(shape) == 1:
        result = list(result)
    if not is_numeric(result):
        raise Failed(f"{name} should return {what} (shape {shape}); it returned "
                     f"{describe(result)} ({case.where})")
    arr = np.asarray(result, dtype=float)
    if arr.shape != shape:
        raise Failed(f"{name} should return {what}, an array of shape {shape}; it returned "
                     f"{describe(result)} ({case.where})")
    return arr


def as_indices(name, result, shape, case, what, upper):
    """The result as an int array of ``shape`` with values in ``[0, upper)``."""
    arr = as_array(name, result, shape, case, what)
    if not np.all(np.isfinite(arr) & (arr == np.round(arr))):
        raise Failed(f"{name} should return {what}, whole numbers; it returned {fmt(arr)} "
                     f"({case.where})")
    if arr.size and (arr.min() < 0 or arr.max() >= upper):
        raise Failed(f"{name} returned {fmt(arr)} ({case.where}); each entry should be a whole "
                     f"number from 0 to {upper - 1}")
    return arr.astype(int)


def as_number(name, result, case, what):
    """The result as one float, or :class:`Failed` saying why not."""
    if not is_numeric(result):
        raise Failed(f"{name} should return {what}; it returned {describe(result)} ({case.where})")
    arr = np.asarray(result, dtype=float)
    if arr.size != 1:
        raise Failed(f"{name} should return {what}, one number; it returned {describe(result)} "
                     f"({case.where})")
    return float(arr.reshape(()))


def close(a, b, rtol=1e-7, atol=1e-9):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


# --- data ----------------------------------------------------------------------------------------

# Seed 000: four points and two starting centres (K-means and K-medoids).
SEED000_X = np.array([[0.0, -6.0], [4.0, 4.0], [0.0, 0.0], [-5.0, 2.0]])
SEED000_CENTERS = np.array([[-5.0, 2.0], [0.0, -6.0]])
# Seed 001: five points in two obvious groups (the summing M-step's example).
SEED001_X = np.array([[1.0, 2.0], [2.0, 3.0], [3.0, 4.0], [8.0, 9.0], [9.0, 10.0]])
SEED001_LABELS = np.array([0, 0, 0, 1, 1])
# Seed 000's EM example: five numbers and the starting parameters.
GMM_X = np.array([-1.0, 0.0, 4.0, 5.0, 6.0])
GMM_INIT = (np.array([0.5, 0.5]), np.array([6.0, 7.0]), np.array([1.0, 2.0]))
#: numpy printed 8 decimals: a printed seed value is within half a unit of the last place.
PRINT_ATOL = 0.5e-8 + 1e-15


def random_labels(rng, n, k):
    """Labels with every cluster non-empty, in random order."""
    return rng.permutation(np.concatenate([np.arange(k), rng.integers(0, k, n - k)]))


def pairwise(A, B, metric):
    """Distances between the rows of A and B: l1, or l2 (Euclidean, not squared)."""
    diff = A[:, None, :] - B[None, :, :]
    if metric == "l1":
        return np.abs(diff).sum(axis=-1)
    return np.sqrt((diff ** 2).sum(axis=-1))


def random_mixture(rng, n, k):
    """``n`` points from a random ``k``-component 1-D mixture, and its parameters."""
    weights = rng.dirichlet(np.full(k, 3.0))
    means = np.sort(rng.uniform(-6, 6, k))
    sigmas = rng.uniform(0.6, 2.0, k)
    comp = rng.choice(k, size=n, p=weights)
    x = rng.normal(means[comp], sigmas[comp])
    return x, weights, means, sigmas


def densities(x, means, sigmas):
    """Normal densities, shape (n, k): the plain formula (underflows far from the means)."""
    return np.exp(-0.5 * ((x[:, None] - means) / sigmas) ** 2) / (np.sqrt(2 * np.pi) * sigmas)


# --- references -----------------------------------------------------------------------------------

#: The algorithm modules of ``algos``, every one unavailable to the answers of every automatic
#: exercise: each of them can be bent into another's step (the 2-D mixture's E-step on a 1-D
#: column is the 1-D E-step; the distance kernels behind ``kmeans.e_step`` are its E-step), so
#: guarding only the chapter's own module let such answers pass. Plotting, the step-through
#: and validation stay available.
ALGORITHM_REFERENCES = (
    "algos.kmeans",
    "algos.kmedoids",
    "algos.gmm1d",
    "algos.gmm",
    "algos._distances",
)
#: Installed packages that compute what the implement and extend exercises ask for (SciPy's
#: distances, densities and log-sum-exp; scikit-learn's k-means++ and mixtures, even their
#: private helpers; the kmedoids package's swaps): the chapters ask for numpy, so an answer
#: that calls into one of them earns no points either. Importing them stays allowed.
LIBRARY_REFERENCES = ("scipy", "sklearn", "kmedoids")
#: What an implement or extend exercise's answer may not call.
NUMPY_ONLY_REFERENCES = ALGORITHM_REFERENCES + LIBRARY_REFERENCES
CLUSTERING_REFERENCES = MIXTURE_REFERENCES = NUMPY_ONLY_REFERENCES
