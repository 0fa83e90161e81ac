"""Every number the two seed notebooks print, reproduced by ``algos``.

Seed 000 (``../shared/seeds/000_*.txt``): K-medoids (medoids chosen among all points) and
K-means with l1/l2 on a 4-point example, and ten EM iterations on 5 points. Seed 001: a K-means
whose M-step sums instead of averaging (``[[23, 28], [0, 0]]``) next to scikit-learn's answer.

The seeds print numbers rounded to 8 or 9 significant digits. Each printed number is checked at
its printed precision, and the same quantity is checked to 1e-10 against a plain re-computation
in the style of the seed (loops over points and components), written here from the formulas.
Labels are compared exactly (the seeds print 1-based labels where noted; ours are 0-based).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from algos import gmm1d, kmeans, kmedoids

# --------------------------------------------------------------------------- seed 000 data

X4 = np.array([[0.0, -6.0], [4.0, 4.0], [0.0, 0.0], [-5.0, 2.0]])
START4 = np.array([[-5.0, 2.0], [0.0, -6.0]])

X5 = np.array([-1.0, 0.0, 4.0, 5.0, 6.0])
START_EM = ([0.5, 0.5], [6.0, 7.0], [1.0, 2.0])

# Printed by seed 000, In [14] (the responsibilities of the first E-step).
PRINTED_RESP = np.array(
    [
        [1.36512049e-07, 9.99999863e-01],
        [1.39244156e-05, 9.99986076e-01],
        [4.54661673e-01, 5.45338327e-01],
        [6.66666667e-01, 3.33333333e-01],
        [6.93842896e-01, 3.06157104e-01],
    ]
)

# Printed by seed 000, In [17]: means, sigmas, weights after each of the ten M-steps.
PRINTED_TRAJECTORY = [
    ([5.13172803, 1.47103149], [0.78457791, 2.63951172], [0.36303706, 0.63696294]),
    ([5.13978976, 1.02237472], [0.77435184, 2.42503305], [0.43173332, 0.56826668]),
    ([5.11546151, 0.58512637], [0.78648, 2.13473459], [0.48889841, 0.51110159]),
    ([5.0734208, 0.12831221], [0.80041232, 1.70726345], [0.54026878, 0.45973122]),
    ([5.02314395, -0.32454628], [0.81208719, 1.01508805], [0.58427959, 0.41572041]),
    ([5.00004802, -0.49967409], [0.8164869, 0.50144798], [0.59997106, 0.40002894]),
    ([4.99999998, -0.5], [0.81649663, 0.5], [0.6, 0.4]),
    ([4.99999998, -0.5], [0.81649664, 0.5], [0.6, 0.4]),
    ([4.99999998, -0.5], [0.81649664, 0.5], [0.6, 0.4]),
    ([4.99999998, -0.5], [0.81649664, 0.5], [0.6, 0.4]),
]

#: numpy prints 8 decimals: a printed value is within half a unit of the last place.
PRINT_ATOL = 0.5e-8 + 1e-15


# --------------------------------------------------------------------------- reference EM
# A direct transcription of the formulas, one point and one component at a time, as the seed
# computes them (densities, not logs). Used only to pin our numbers to 1e-10.


def ref_density(x, mu, sigma):
    return math.exp(-((x - mu) ** 2) / (2 * sigma**2)) / math.sqrt(2 * math.pi * sigma**2)


def ref_log_likelihood(x, w, m, s):
    return sum(math.log(sum(w[j] * ref_density(xi, m[j], s[j]) for j in range(len(w)))) for xi in x)


def ref_e_step(x, w, m, s):
    resp = np.array([[w[j] * ref_density(xi, m[j], s[j]) for j in range(len(w))] for xi in x])
    return resp / resp.sum(axis=1, keepdims=True)


def ref_m_step(x, resp):
    k = resp.shape[1]
    nk = [sum(resp[i, j] for i in range(len(x))) for j in range(k)]
    means = [sum(resp[i, j] * x[i] for i in range(len(x))) / nk[j] for j in range(k)]
    sigmas = [
        math.sqrt(sum(resp[i, j] * (x[i] - means[j]) ** 2 for i in range(len(x))) / nk[j]) for j in range(k)
    ]
    weights = [nk[j] / len(x) for j in range(k)]
    return np.array(weights), np.array(means), np.array(sigmas)


# --------------------------------------------------------------------------- seed 000: K-medoids / K-means


@pytest.mark.parametrize(
    "metric, labels, medoids",
    [
        ("l1", [1, 0, 1, 0], [[4.0, 4.0], [0.0, -6.0]]),  # In [4]
        ("l2", [1, 0, 0, 0], [[0.0, 0.0], [0.0, -6.0]]),  # In [5]
    ],
)
def test_seed000_kmedoids(metric, labels, medoids):
    # The seed picks each medoid among all points and runs ten iterations.
    res = kmedoids.fit(X4, k=2, init=START4, metric=metric, medoids_from="all", max_iter=10)
    np.testing.assert_array_equal(res.labels, labels)
    np.testing.assert_array_equal(res.medoids, medoids)
    np.testing.assert_array_equal(X4[res.medoid_indices], medoids)
    assert res.converged


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_seed000_kmedoids_standard_rule_agrees_here(metric):
    # On this example the standard rule (candidates are the members) gives the same answer.
    a = kmedoids.fit(X4, k=2, init=START4, metric=metric, medoids_from="all", max_iter=10)
    b = kmedoids.fit(X4, k=2, init=START4, metric=metric, medoids_from="cluster", max_iter=10)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.medoid_indices, b.medoid_indices)


def test_seed000_kmeans_l1_assigns_by_l1_and_averages():
    # In [7]: kMeans(10, "l1") -> labels [1, 0, 1, 0], centres [[-0.5, 3], [0, -3]]
    res = kmeans.fit(X4, k=2, init=START4, metric="l1", max_iter=10)
    np.testing.assert_array_equal(res.labels, [1, 0, 1, 0])
    np.testing.assert_allclose(res.centers, [[-0.5, 3.0], [0.0, -3.0]], rtol=0, atol=1e-10)


def test_seed000_kmeans_single_steps_from_start():
    labels = kmeans.e_step(X4, START4, metric="l1")
    np.testing.assert_array_equal(labels, [1, 0, 1, 0])
    centers = kmeans.m_step(X4, labels, 2)
    np.testing.assert_allclose(centers, [[-0.5, 3.0], [0.0, -3.0]], rtol=0, atol=1e-10)


# --------------------------------------------------------------------------- seed 000: EM


def test_seed000_log_likelihood():
    # In [11]
    ll = gmm1d.log_likelihood(X5, *START_EM)
    assert abs(ll - (-24.512532330086678)) <= 1e-10
    assert abs(ll - ref_log_likelihood(X5, *START_EM)) <= 1e-10
    res = gmm1d.fit(X5, k=2, init=START_EM, max_iter=0)
    assert abs(res.history[0].objective - (-24.512532330086678)) <= 1e-10


def test_seed000_first_e_step():
    resp = gmm1d.e_step(X5, *START_EM)
    # In [13]: 1-based hard labels [2, 2, 2, 1, 1]
    np.testing.assert_array_equal(np.argmax(resp, axis=1) + 1, [2, 2, 2, 1, 1])
    # In [14]: the table, at its printed precision (9 significant digits) ...
    np.testing.assert_allclose(resp, PRINTED_RESP, rtol=5e-9, atol=0)
    # ... and to 1e-10 against the reference computation
    np.testing.assert_allclose(resp, ref_e_step(X5, *START_EM), rtol=0, atol=1e-10)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_seed000_first_m_step():
    # In [16]: MStep returns (mus, sigs, pis); our m_step returns (weights, means, sigmas)
    resp = gmm1d.e_step(X5, *START_EM)
    w, m, s = gmm1d.m_step(X5, resp)
    mus, sigs, pis = PRINTED_TRAJECTORY[0]
    np.testing.assert_allclose(m, mus, rtol=0, atol=PRINT_ATOL)
    np.testing.assert_allclose(s, sigs, rtol=0, atol=PRINT_ATOL)
    np.testing.assert_allclose(w, pis, rtol=0, atol=PRINT_ATOL)
    rw, rm, rs = ref_m_step(X5, ref_e_step(X5, *START_EM))
    for ours, ref in ((w, rw), (m, rm), (s, rs)):
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-10)


def test_seed000_ten_iterations():
    res = gmm1d.fit(X5, k=2, init=START_EM, max_iter=10, tol=0)
    assert res.n_iter == 10 and not res.converged
    m_steps = [s for s in res.history if s.kind == "M"]
    assert len(m_steps) == 10
    w, m, s = (np.array(a, dtype=float) for a in START_EM)
    # the print before the loop shows the start
    init = res.history[0]
    np.testing.assert_array_equal(init.means, [6, 7])
    np.testing.assert_array_equal(init.sigmas, [1, 2])
    np.testing.assert_array_equal(init.weights, [0.5, 0.5])
    for step, (mus, sigs, pis) in zip(m_steps, PRINTED_TRAJECTORY):
        np.testing.assert_allclose(step.means, mus, rtol=0, atol=PRINT_ATOL)
        np.testing.assert_allclose(step.sigmas, sigs, rtol=0, atol=PRINT_ATOL)
        np.testing.assert_allclose(step.weights, pis, rtol=0, atol=PRINT_ATOL)
        w, m, s = ref_m_step(X5, ref_e_step(X5, w, m, s))
        np.testing.assert_allclose(step.means, m, rtol=0, atol=1e-10)
        np.testing.assert_allclose(step.sigmas, s, rtol=0, atol=1e-10)
        np.testing.assert_allclose(step.weights, w, rtol=0, atol=1e-10)
        assert abs(step.objective - ref_log_likelihood(X5, w, m, s)) <= 1e-10
    # The GUIDE's summary: means (5, -0.5), sigmas (0.81649664, 0.5), weights (0.6, 0.4)
    np.testing.assert_allclose(res.means, [5.0, -0.5], atol=1e-7)
    np.testing.assert_allclose(res.sigmas, [0.81649664, 0.5], atol=PRINT_ATOL)
    np.testing.assert_allclose(res.weights, [0.6, 0.4], atol=1e-7)


def test_seed000_e_steps_in_history_match_reference():
    res = gmm1d.fit(X5, k=2, init=START_EM, max_iter=10, tol=0)
    w, m, s = (np.array(a, dtype=float) for a in START_EM)
    for step in res.history[1:]:
        if step.kind == "E":
            np.testing.assert_allclose(step.resp, ref_e_step(X5, w, m, s), rtol=0, atol=1e-10)
            assert abs(step.objective - ref_log_likelihood(X5, w, m, s)) <= 1e-10
        else:
            w, m, s = step.weights, step.means, step.sigmas
    np.testing.assert_allclose(res.history[1].resp, PRINTED_RESP, rtol=5e-9, atol=0)


# --------------------------------------------------------------------------- seed 001

POINTS = np.array([[1, 2], [2, 3], [3, 4], [8, 9], [9, 10]], dtype=float)


def test_seed001_summing_m_step_number_is_counts_times_mean():
    # The seed ends with every point in class 0 and "means" [[23, 28], [0, 0]]: the M-step
    # summed. The sum is the count times the mean our m_step returns.
    labels = np.zeros(5, dtype=int)
    mean = kmeans.m_step(POINTS, labels, 1)
    np.testing.assert_allclose(5 * mean, [[23.0, 28.0]], rtol=0, atol=1e-10)
    # with k=2 the second cluster is empty and keeps its previous centre, never NaN
    centers = kmeans.m_step(POINTS, labels, 2, previous=np.array([[0.0, 0.0], [0.0, 0.0]]))
    np.testing.assert_allclose(centers, [[4.6, 5.6], [0.0, 0.0]], rtol=0, atol=1e-10)


def _as_set(centers):
    return sorted(map(tuple, np.round(np.asarray(centers), 10)))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_seed001_kmeans_matches_sklearn_answer(seed, init):
    # In [61]/[62]: sklearn's labels [1, 1, 1, 0, 0] and centres [[8.5, 9.5], [2, 3]]
    res = kmeans.fit(POINTS, k=2, init=init, seed=seed)
    assert _as_set(res.centers) == _as_set([[8.5, 9.5], [2.0, 3.0]])
    sk_labels = np.array([1, 1, 1, 0, 0])
    # same partition up to the order of the labels
    assert np.array_equal(res.labels, sk_labels) or np.array_equal(res.labels, 1 - sk_labels)
    assert res.converged
    assert abs(res.objective - 5.0) <= 1e-10  # 1+0+1 + 0.5+0.5


def test_seed001_sklearn_itself_agrees():
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=2, n_init=10, random_state=0).fit(POINTS)
    assert _as_set(km.cluster_centers_) == _as_set([[8.5, 9.5], [2.0, 3.0]])
    ours = kmeans.fit(POINTS, k=2, init=km.cluster_centers_)
    np.testing.assert_array_equal(ours.labels, km.labels_)
    np.testing.assert_allclose(ours.centers, km.cluster_centers_, rtol=0, atol=1e-10)
