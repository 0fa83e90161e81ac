"""Input checks shared by the public functions of ``algos``.

Each public function validates its arguments once, here, and then works on clean float64
copies. Every error names the offending argument and says what was wrong, so a student who
passes ``X`` with a NaN reads ``X contains NaN or inf`` rather than a numpy traceback.
Bad values raise ``ValueError``; arguments of the wrong kind raise ``TypeError``.
"""

from __future__ import annotations

import numbers

import numpy as np

METRICS = ("l2", "l1")

#: Largest magnitude accepted in any array: squares of differences stay far from overflow.
MAX_ABS = 1e100


def as_float_array(a, name, *, ndim=None):
    """Return ``a`` as a new float64 array after checking type, shape and finiteness.

    The result is always a copy, so the algorithms may use it freely without touching the
    caller's array.
    """
    if a is None or isinstance(a, (str, bytes, dict, set)):
        raise TypeError(f"{name} must be an array of numbers, got {type(a).__name__}")
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged nested lists and the like
        raise ValueError(f"{name} could not be read as an array: {exc}") from None
    if arr.dtype == object:
        # Ragged or mixed input: try a numeric conversion before giving up.
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must contain numbers only") from None
    if arr.dtype.kind == "b":
        raise TypeError(f"{name} must contain numbers, got booleans")
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must contain real numbers, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    out = np.array(arr, dtype=np.float64, copy=True)
    if not np.isfinite(out).all():
        raise ValueError(f"{name} contains NaN or inf")
    if np.abs(out).max() > MAX_ABS:
        raise ValueError(f"{name} has values beyond +-{MAX_ABS:g}: squared distances would overflow")
    return out


def check_X(X, name="X"):
    """Data for the 2-D methods: an (n, d) float array, n >= 1, d >= 1, all finite."""
    try:
        ndim = np.ndim(X)
    except Exception:
        ndim = None
    if ndim == 1:
        raise ValueError(
            f"{name} must be 2-D with shape (n_samples, n_features), got a 1-D array; "
            f"for one feature pass {name}.reshape(-1, 1)"
        )
    return as_float_array(X, name, ndim=2)


def check_x1d(x, name="x"):
    """Data for 1-D EM: shape (n,) or (n, 1), returned as a flat float array."""
    arr = as_float_array(x, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0].copy()
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D with shape (n,), got shape {arr.shape}")
    return arr


def check_int(value, name, *, minimum=None, maximum=None):
    """An integer (Python or numpy, not bool) within the given bounds."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_k(k, n):
    """Number of clusters: an integer with 1 <= k <= n."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an integer, got {type(k).__name__}")
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if k > n:
        raise ValueError(f"k must be at most the number of points ({n}), got {k}")
    return k


def check_tol(tol, name="tol"):
    """A finite, non-negative real number."""
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(tol).__name__}")
    tol = float(tol)
    if not np.isfinite(tol) or tol < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {tol}")
    return tol


def check_metric(metric):
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a string, one of {METRICS}, got {type(metric).__name__}")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    return metric


def check_choice(value, name, choices):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {choices}, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def make_rng(seed):
    """``np.random.default_rng(seed)`` for None, a non-negative int or a Generator."""
    if seed is None or isinstance(seed, np.random.Generator):
        return np.random.default_rng(seed)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be None, an int or a numpy Generator, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return np.random.default_rng(int(seed))


def check_centers(centers, k, d, name="centers"):
    """Centres: a (k, d) finite float array (k may be None to accept any k >= 1)."""
    C = as_float_array(centers, name, ndim=2)
    if (k is not None and C.shape[0] != k) or C.shape[1] != d:
        want = f"({k}, {d})" if k is not None else f"(k, {d})"
        raise ValueError(f"{name} must have shape {want} to match X, got {C.shape}")
    return C


def check_labels(labels, n, k, name="labels"):
    """Labels: n integers in [0, k)."""
    arr = np.asarray(labels)
    if arr.dtype.kind == "f" and arr.size and np.isfinite(arr).all() and (arr == np.round(arr)).all():
        arr = arr.astype(np.intp)  # whole-number floats (as the seeds produce) are accepted
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an array of integers, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) to match X, got {arr.shape}")
    if n and (arr.min() < 0 or arr.max() >= k):
        raise ValueError(f"{name} must lie in 0..{k - 1} (k={k}), got values in {arr.min()}..{arr.max()}")
    return arr.astype(np.intp, copy=True)


def check_mixture(weights, means, sigmas, k=None):
    """1-D mixture parameters: three (k,) arrays; weights >= 0 summing to 1, sigmas > 0."""
    w = as_float_array(weights, "weights", ndim=1)
    m = as_float_array(means, "means", ndim=1)
    s = as_float_array(sigmas, "sigmas", ndim=1)
    if k is not None and w.shape[0] != k:
        raise ValueError(f"weights must have length k={k}, got {w.shape[0]}")
    if m.shape != w.shape or s.shape != w.shape:
        raise ValueError(
            f"weights, means and sigmas must have the same length, got "
            f"{w.shape[0]}, {m.shape[0]} and {s.shape[0]}"
        )
    check_weights(w)
    if (s <= 0).any():
        raise ValueError("sigmas must be > 0")
    return w, m, s


def check_weights(w, name="weights"):
    """Mixture weights (a float array already read): non-negative and summing to 1 (within 1e-8)."""
    if (w < 0).any():
        raise ValueError(f"{name} must be non-negative")
    if abs(w.sum() - 1.0) > 1e-8:
        raise ValueError(f"{name} must sum to 1 (within 1e-8), got sum {w.sum()!r}")
    return w


#: Relative asymmetry accepted in a covariance matrix: |C - C^T| <= SYMMETRY_RTOL * max|C|.
SYMMETRY_RTOL = 1e-8


def check_gaussian_mixture(weights, means, covariances, k=None, d=None):
    """d-dimensional mixture parameters: weights (k,), means (k, d), covariances (k, d, d).

    Weights are non-negative and sum to 1; every covariance is symmetric (within
    ``SYMMETRY_RTOL`` of its largest entry; the result is made exactly symmetric). Whether
    each is positive definite is decided by its Cholesky factorisation, in :mod:`algos.gmm`.
    """
    w = check_weights(as_float_array(weights, "weights", ndim=1))
    m = as_float_array(means, "means", ndim=2)
    c = as_float_array(covariances, "covariances", ndim=3)
    k = w.shape[0] if k is None else k
    d = m.shape[1] if d is None else d
    if w.shape[0] != k:
        raise ValueError(f"weights must have length k={k}, got {w.shape[0]}")
    if m.shape != (k, d):
        raise ValueError(f"means must have shape ({k}, {d}) (k components, d features), got {m.shape}")
    if c.shape != (k, d, d):
        raise ValueError(f"covariances must have shape ({k}, {d}, {d}) (one d x d matrix per component), got {c.shape}")
    ct = c.transpose(0, 2, 1)
    scale = np.abs(c).max(axis=(1, 2))
    bad = np.flatnonzero(np.abs(c - ct).max(axis=(1, 2)) > SYMMETRY_RTOL * scale)
    if bad.size:
        raise ValueError(f"covariances[{int(bad[0])}] is not symmetric")
    return w, m, 0.5 * (c + ct)


def check_resp(resp, n, name="resp"):
    """Responsibilities: an (n, k) array in [0, 1] whose rows sum to 1 (within 1e-6)."""
    r = as_float_array(resp, name, ndim=2)
    if r.shape[0] != n:
        raise ValueError(f"{name} must have one row per point ({n}), got shape {r.shape}")
    if (r < 0).any() or (r > 1).any():
        raise ValueError(f"{name} must lie in [0, 1]")
    if (np.abs(r.sum(axis=1) - 1.0) > 1e-6).any():
        raise ValueError(f"every row of {name} must sum to 1 (within 1e-6)")
    return r
