"""Bad input raises ValueError or TypeError whose message names the argument."""

from __future__ import annotations

import re

import numpy as np
import pytest

from algos import gmm1d, kmeans, kmedoids

X = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [6.0, 5.0]])
C = X[[0, 2]]
LABELS = np.array([0, 0, 1, 1])
x = np.array([-1.0, 0.0, 4.0, 5.0, 6.0])
W, M, S = [0.5, 0.5], [0.0, 5.0], [1.0, 1.0]
RESP = gmm1d.e_step(x, W, M, S)
_, STATE = kmeans.e_step_bounded(X, C)  # Hamerly bounds of X for the two centres C

with_nan = X.copy()
with_nan[1, 1] = np.nan
with_inf = X.copy()
with_inf[0, 0] = np.inf

# (id, call, expected exception, word the message must contain)
CASES = [
    # ---- data
    ("X-nan", lambda: kmeans.fit(with_nan, k=2), ValueError, "X"),
    ("X-inf", lambda: kmedoids.fit(with_inf, k=2), ValueError, "X"),
    ("X-strings", lambda: kmeans.fit([["a", "b"], ["c", "d"]], k=1), TypeError, "X"),
    ("X-string", lambda: kmeans.fit("abc", k=1), TypeError, "X"),
    ("X-bool", lambda: kmeans.fit(np.ones((3, 2), dtype=bool), k=1), TypeError, "X"),
    ("X-complex", lambda: kmeans.fit(X + 1j, k=1), TypeError, "X"),
    ("X-1d", lambda: kmeans.fit(np.arange(5.0), k=2), ValueError, "X"),
    ("X-3d", lambda: kmedoids.fit(np.zeros((2, 2, 2)), k=1), ValueError, "X"),
    ("X-empty", lambda: kmeans.fit(np.zeros((0, 2)), k=1), ValueError, "X"),
    ("X-no-features", lambda: kmeans.fit(np.zeros((3, 0)), k=1), ValueError, "X"),
    ("X-ragged", lambda: kmeans.fit([[1.0, 2.0], [3.0]], k=1), (ValueError, TypeError), "X"),
    ("X-None", lambda: kmeans.e_step(None, C), TypeError, "X"),
    ("x-2col", lambda: gmm1d.fit(X, k=2), ValueError, "x"),
    ("x-nan", lambda: gmm1d.fit([1.0, np.nan, 2.0], k=1), ValueError, "x"),
    ("x-empty", lambda: gmm1d.log_likelihood([], W, M, S), ValueError, "x"),
    ("x-strings", lambda: gmm1d.e_step(["a", "b"], W, M, S), TypeError, "x"),
    # ---- k
    ("k-zero", lambda: kmeans.fit(X, k=0), ValueError, "k"),
    ("k-too-big", lambda: kmedoids.fit(X, k=5), ValueError, "k"),
    ("k-float", lambda: gmm1d.fit(x, k=2.0), TypeError, "k"),
    ("k-bool", lambda: kmeans.fit(X, k=True), TypeError, "k"),
    ("k-m_step", lambda: kmeans.m_step(X, LABELS, 0), ValueError, "k"),
    # ---- options
    ("metric-unknown", lambda: kmeans.fit(X, k=2, metric="cosine"), ValueError, "metric"),
    ("metric-type", lambda: kmedoids.e_step(X, C, metric=2), TypeError, "metric"),
    ("medoids_from", lambda: kmedoids.fit(X, k=2, medoids_from="some"), ValueError, "medoids_from"),
    ("medoids_from-m_step", lambda: kmedoids.m_step(X, LABELS, 2, medoids_from=None), TypeError, "medoids_from"),
    ("max_iter-negative", lambda: kmeans.fit(X, k=2, max_iter=-1), ValueError, "max_iter"),
    ("max_iter-float", lambda: gmm1d.fit(x, k=2, max_iter=2.5), TypeError, "max_iter"),
    ("max_iter-kmedoids", lambda: kmedoids.fit(X, k=2, max_iter=-3), ValueError, "max_iter"),
    ("tol-negative", lambda: kmeans.fit(X, k=2, tol=-1e-3), ValueError, "tol"),
    ("tol-nan", lambda: gmm1d.fit(x, k=2, tol=float("nan")), ValueError, "tol"),
    ("tol-string", lambda: gmm1d.fit(x, k=2, tol="small"), TypeError, "tol"),
    ("seed-negative", lambda: kmeans.fit(X, k=2, seed=-1), ValueError, "seed"),
    ("seed-string", lambda: kmedoids.fit(X, k=2, seed="zero"), TypeError, "seed"),
    ("min_sigma-zero", lambda: gmm1d.fit(x, k=2, min_sigma=0.0), ValueError, "min_sigma"),
    ("min_sigma-string", lambda: gmm1d.m_step(x, RESP, min_sigma="tiny"), TypeError, "min_sigma"),
    # ---- initialisation
    ("init-name", lambda: kmeans.fit(X, k=2, init="kmeans"), ValueError, "init"),
    ("init-shape", lambda: kmeans.fit(X, k=2, init=np.zeros((3, 2))), ValueError, "init"),
    ("init-nan", lambda: kmeans.fit(X, k=2, init=np.array([[0.0, np.nan], [1.0, 1.0]])), ValueError, "init"),
    ("init-kmedoids-rows", lambda: kmedoids.fit(X, k=2, init=X[:3]), ValueError,
     "init must have shape (2, 2) to match X, got (3, 2)"),
    ("init-not-row", lambda: kmedoids.fit(X, k=2, init=np.array([[0.5, 0.0], [5.0, 5.0]])), ValueError, "init"),
    ("init-index-range", lambda: kmedoids.fit(X, k=2, init=np.array([0, 9])), ValueError, "init"),
    ("init-index-count", lambda: kmedoids.fit(X, k=2, init=np.array([0, 1, 2])), ValueError, "init"),
    ("init-gmm-name", lambda: gmm1d.fit(x, k=2, init="k-means++"), ValueError, "init"),
    ("init-gmm-tuple", lambda: gmm1d.fit(x, k=2, init=(W, M)), TypeError, "init"),
    ("init-gmm-type", lambda: gmm1d.fit(x, k=2, init=5), TypeError,
     "init must be 'kmeans', 'random' or a tuple (weights, means, sigmas), got int"),
    ("init-gmm-k", lambda: gmm1d.fit(x, k=3, init=(W, M, S)), ValueError, "weights"),
    # ---- steps
    ("centers-d", lambda: kmeans.e_step(X, np.zeros((2, 3))), ValueError, "centers"),
    ("centers-1d", lambda: kmeans.e_step(X, np.zeros(2)), ValueError, "centers"),
    ("labels-range", lambda: kmeans.m_step(X, [0, 0, 1, 2], 2), ValueError, "labels"),
    ("labels-negative", lambda: kmedoids.m_step(X, [0, -1, 1, 1], 2), ValueError, "labels"),
    ("labels-length", lambda: kmeans.objective(X, [0, 1], C), ValueError, "labels"),
    ("labels-float", lambda: kmeans.m_step(X, [0.5, 0, 1, 1], 2), TypeError, "labels"),
    ("labels-strings", lambda: kmedoids.objective(X, ["a", "b", "c", "d"], C), TypeError, "labels"),
    ("previous-shape", lambda: kmeans.m_step(X, LABELS, 2, previous=np.zeros((3, 2))), ValueError, "previous"),
    ("previous-kmedoids", lambda: kmedoids.m_step(X, LABELS, 2, previous=[0, 7]), ValueError, "previous"),
    ("medoids-range", lambda: kmedoids.e_step(X, [0, 4]), ValueError,
     "medoids must index rows of X (0..3), got values in 0..4"),
    ("medoids-string", lambda: kmedoids.e_step(X, "ab"), TypeError, "medoids must be an array of numbers, got str"),
    ("medoids-empty", lambda: kmedoids.e_step(X, np.array([], dtype=int)), ValueError, "medoids is empty"),
    ("previous-floats", lambda: kmedoids.m_step(X, LABELS, 2, previous=[0.0, 2.0]), TypeError,
     "previous must be a 1-D array of integer row indices"),
    # 1-D floats are row indices that are not integers, not coordinates of the wrong shape
    ("init-float-indices", lambda: kmedoids.fit(X, k=2, init=[0.0, 3.0]), TypeError,
     "init must be a 1-D array of integer row indices, got float64 values [0.0, 3.0]; pass "
     "integers for row indices (np.asarray(init, dtype=int)), or the medoids' coordinates"),
    ("medoids-float-indices", lambda: kmedoids.e_step(X, np.array([0.5, 2.0])), TypeError,
     "medoids must be a 1-D array of integer row indices, got float64 values [0.5, 2.0]"),
    ("medoids-bool-mask", lambda: kmedoids.objective(X, LABELS, [True, False]), TypeError,
     "medoids must be a 1-D array of integer row indices, got bool values [True, False]"),
    ("medoids-shape", lambda: kmedoids.objective(X, LABELS, np.zeros((2, 3))), ValueError, "medoids"),
    ("state", lambda: kmeans.e_step_bounded(X, C, state=np.zeros(4)), TypeError,
     "state must be None or the HamerlyState returned by a previous call"),
    ("state-other-data", lambda: kmeans.e_step_bounded(X[:3], C, state=STATE), ValueError,
     "state belongs to other data or another number of centres"),
    ("state-other-k", lambda: kmeans.e_step_bounded(X, X[:3], state=STATE), ValueError,
     "state belongs to other data or another number of centres"),
    ("metric-bounded", lambda: kmeans.e_step_bounded(X, C, metric="l1"), ValueError,
     "metric must be 'l2' for e_step_bounded (the bounds need Euclidean distances)"),
    # ---- mixture parameters
    ("weights-sum", lambda: gmm1d.e_step(x, [0.5, 0.6], M, S), ValueError, "weights"),
    ("weights-negative", lambda: gmm1d.log_likelihood(x, [1.5, -0.5], M, S), ValueError, "weights"),
    ("weights-nan", lambda: gmm1d.e_step(x, [np.nan, 0.5], M, S), ValueError, "weights"),
    ("sigmas-zero", lambda: gmm1d.e_step(x, W, M, [1.0, 0.0]), ValueError, "sigmas"),
    ("sigmas-negative", lambda: gmm1d.fit(x, k=2, init=(W, M, [1.0, -1.0])), ValueError, "sigmas"),
    ("means-length", lambda: gmm1d.log_likelihood(x, W, [0.0], S), ValueError, "means"),
    ("means-2d", lambda: gmm1d.e_step(x, W, [[0.0, 1.0]], S), ValueError, "means"),
    ("resp-shape", lambda: gmm1d.m_step(x, RESP[:4]), ValueError, "resp"),
    ("resp-1d", lambda: gmm1d.m_step(x, RESP[:, 0]), ValueError, "resp"),
    ("resp-rows", lambda: gmm1d.m_step(x, RESP * 0.9), ValueError, "resp"),
    ("resp-negative", lambda: gmm1d.m_step(x, np.column_stack([RESP[:, 0] + 0.5, RESP[:, 1] - 0.5])), ValueError, "resp"),
    ("resp-nan", lambda: gmm1d.m_step(x, np.where(RESP > 0.5, np.nan, RESP)), ValueError, "resp"),
    ("previous-gmm", lambda: gmm1d.m_step(x, RESP, previous=(W, M)), TypeError, "previous"),
]


@pytest.mark.parametrize("call, error, word", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_names_the_argument(call, error, word):
    with pytest.raises(error) as info:
        call()
    assert re.search(rf"(?<!\w){re.escape(word)}(?!\w)", str(info.value)), str(info.value)


def test_good_input_of_other_types_is_accepted():
    # lists, integer arrays and float32 all work and give float64 results
    a = kmeans.fit([[0, 0], [1, 0], [5, 5], [6, 5]], k=2, init=[[0, 0], [5, 5]])
    b = kmeans.fit(X.astype(np.float32), k=2, init=C)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.centers.dtype == np.float64
    # numpy integers for k / max_iter, whole-number float labels (as the seeds produce)
    kmeans.fit(X, k=np.int64(2), max_iter=np.int32(5))
    np.testing.assert_allclose(kmeans.m_step(X, LABELS.astype(float), 2), kmeans.m_step(X, LABELS, 2))
    gmm1d.fit(list(x), k=2, init=(tuple(W), M, np.array(S)))


def test_weights_tolerance_is_1e8():
    gmm1d.e_step(x, [0.5, 0.5 + 5e-9], M, S)  # within 1e-8: accepted
    with pytest.raises(ValueError, match="weights"):
        gmm1d.e_step(x, [0.5, 0.5 + 5e-8], M, S)
