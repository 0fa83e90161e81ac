"""algos.gmm: behaviour that mutation testing found unchecked (see tests/mutation/).

Each test pins a documented behaviour to a value from a closed form, from scipy or from
numpy's own generator: the parameter count, the block-by-block E- and M-steps, the clipped
fallback for Mahalanobis distances whose squares overflow, the singularity test of the
Cholesky factorisation at its exact edge, the default ``reg_covar`` for constant features,
the ``"random"`` start's draw, the fit's defaults, and the exact wording of the errors.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from algos import _distances, gmm

LOG_2PI = math.log(2 * math.pi)
X3 = np.array([[0.0, 0.0], [1.0, 2.0], [3.0, 1.0]])  # three 2-D points, for the error messages


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
def test_one_component_in_one_dimension_has_a_mean_and_a_variance(covariance_type):
    # k = 1, d = 1: no free weight (it is 1), one mean, one variance, whatever the type
    assert gmm.n_parameters(1, 1, covariance_type) == 2


def test_n_parameters_counts_full_covariances_by_default():
    # k = 3, d = 2: 2 free weights, 6 mean coordinates, 3 symmetric 2 x 2 matrices (3 each)
    assert gmm.n_parameters(3, 2) == 2 + 6 + 9
    assert gmm.n_parameters(1, 2) == 0 + 2 + 3


# --------------------------------------------------------------------------- blocks


def test_steps_over_several_blocks_with_a_short_last_one(monkeypatch):
    """Blocks of 4 points over 10 points (4, 4, 2): every block counts, the short one too.

    Catches a block length taken wrongly (the scratch buffers' full length, or ``stop + start``:
    a shape error or garbage on the short last block), a log-likelihood that keeps only the
    last block's sum, and M-step sums (means or scatter matrices) that keep only the last
    block's share. References: scipy's densities and the weighted statistics written out.
    """
    monkeypatch.setattr(_distances, "BLOCK", 4)  # how blocks() cuts
    monkeypatch.setattr(gmm, "BLOCK", 4)  # the size of gmm's scratch buffers
    rng = np.random.default_rng(3)
    X = rng.normal(size=(10, 3)) * [1.0, 2.0, 0.5]
    w = np.array([0.3, 0.7])
    m = np.array([[0.5, -1.0, 0.0], [-0.5, 1.0, 0.2]])
    c = np.array([[[1.0, 0.3, 0.1], [0.3, 2.0, -0.4], [0.1, -0.4, 0.5]], np.diag([0.5, 3.0, 0.2])])

    terms = np.stack([np.log(wj) + multivariate_normal(mj, cj).logpdf(X) for wj, mj, cj in zip(w, m, c)], axis=1)
    np.testing.assert_allclose(gmm.e_step(X, w, m, c), np.exp(terms - logsumexp(terms, axis=1, keepdims=True)),
                               rtol=1e-12, atol=1e-15)
    assert gmm.log_likelihood(X, w, m, c) == pytest.approx(logsumexp(terms, axis=1).sum(), rel=1e-13)

    r = rng.dirichlet([1.0, 1.0], size=10)
    reg = np.array([1e-3, 2e-3, 3e-3])
    weights, means, covariances = gmm.m_step(X, r, covariance_type="full", reg_covar=reg)
    Nk = r.sum(axis=0)
    expected_means = r.T @ X / Nk[:, None]
    np.testing.assert_allclose(weights, Nk / 10, rtol=1e-14)
    np.testing.assert_allclose(means, expected_means, rtol=1e-12)
    for j in range(2):
        dev = X - expected_means[j]
        S = (r[:, j, None] * dev).T @ dev / Nk[j]
        np.testing.assert_allclose(covariances[j], S + np.diag(reg), rtol=1e-12)


# --------------------------------------------------------------------------- E-step numerics


def test_zero_weight_gives_no_divide_by_zero_warning():
    """A component of weight 0 has log weight -inf: responsibility 0, and no RuntimeWarning.

    Catches the ``np.errstate(divide="ignore")`` around ``log(weights)`` being lost: numpy then
    warns "divide by zero encountered in log" on every E-step of a fit with a dead component.
    """
    X = np.array([[0.0, 0.0], [1.0, 2.0]])
    m, c = [[0.0, 0.0], [1.0, 1.0]], [np.eye(2), np.eye(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resp = gmm.e_step(X, [0.0, 1.0], m, c)
        ll = gmm.log_likelihood(X, [0.0, 1.0], m, c)
    np.testing.assert_array_equal(resp, [[0.0, 1.0], [0.0, 1.0]])
    # both points under N((1, 1), I): squared distances 2 and 1
    assert ll == pytest.approx(2 * -LOG_2PI - 0.5 * (2 + 1), rel=1e-14)


def test_distance_beyond_the_clip_limit_whose_square_fits_is_not_clipped():
    """|z| = 1e152 exceeds the fallback's clip (1e150 / sqrt(d)), but |z|^2 = 1e304 fits.

    The exact term -|z|^2 / 2 = -5e303 must be used: the clipped fallback is only for squares
    that overflow. Catches clipping in the ordinary path (which would give -2.5e299).
    """
    X = np.array([[100.0, 0.0]])
    c = np.diag([1e-300, 1.0])[None]  # sd 1e-150 along the first axis: z = (1e152, 0)
    # log N = -log(2 pi) - log(1e-150) - 5e303: the constants are below the rounding of 5e303
    assert gmm.log_likelihood(X, [1.0], [[0.0, 0.0]], c) == pytest.approx(-5e303, rel=1e-12)


def test_clipped_fallback_in_two_dimensions():
    """Far point: z about (1e200, -1e200), whose squares overflow; near point in the same block.

    The fallback clips every coordinate of z at 1e150 / sqrt(d), so the far point's squared
    distance is 1e300 (d = 2: two squares of 5e299) and its log-likelihood -5e299; the
    components' constants (about 500) are below its rounding, so it splits 0.5 / 0.5. The near
    point, recomputed in the same fallback, keeps its exact terms (z = 0 and (-0.5, 0)).
    Catches a clip at 1e150 * sqrt(d) (log-likelihood -2e300) and a lower clip bound of
    +limit instead of -limit (every z, the near point's too, set to +limit).
    """
    X = np.array([[0.0, 0.0], [1e90, -1e90]])
    w, m = [0.4, 0.6], [[0.0, 0.0], [1e-110, 0.0]]
    c = np.array([np.eye(2) * 1e-220, np.eye(2) * 4e-220])  # sds 1e-110 and 2e-110
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resp = gmm.e_step(X, w, m, c)
        ll = gmm.log_likelihood(X, w, m, c)
    np.testing.assert_array_equal(resp[1], [0.5, 0.5])
    # near point: log p_j = log w_j - log det(L_j) - log(2 pi) - |z_j|^2 / 2
    lp0 = math.log(0.4) - 2 * math.log(1e-110) - LOG_2PI
    lp1 = math.log(0.6) - 2 * math.log(2e-110) - LOG_2PI - 0.5 * 0.25
    r0 = 1.0 / (1.0 + math.exp(lp1 - lp0))
    np.testing.assert_allclose(resp[0], [r0, 1.0 - r0], rtol=1e-13)
    assert ll == pytest.approx(-5e299, rel=1e-12)


def test_off_diagonal_cholesky_entry_of_exactly_one_is_used():
    """Covariance [[1, 1], [1, 2]] has the Cholesky factor [[1, 0], [1, 1]]: L[1, 0] = 1.

    The forward substitution skips only the zeros of L ("diag" and "spherical" factors);
    an entry of exactly 1 must still be subtracted: z = (x0, x1 - x0), |z|^2 = 2 x0^2 - 2 x0 x1
    + x1^2, which is the inverse [[2, -1], [-1, 1]] read as a quadratic form. log det(C) = 0.
    """
    c = np.array([[1.0, 1.0], [1.0, 2.0]])
    np.testing.assert_array_equal(np.linalg.cholesky(c), [[1.0, 0.0], [1.0, 1.0]])
    X = np.array([[1.0, 0.0], [2.0, 3.0], [-1.0, 1.0]])
    squared = [2 - 0 + 0, 8 - 12 + 9, 2 + 2 + 1]  # 2 x0^2 - 2 x0 x1 + x1^2
    expected = sum(-LOG_2PI - 0.5 * q for q in squared)
    assert gmm.log_likelihood(X, [1.0], [[0.0, 0.0]], c[None]) == pytest.approx(expected, rel=1e-14)
    assert expected == pytest.approx(multivariate_normal([0.0, 0.0], c).logpdf(X).sum(), rel=1e-12)


# --------------------------------------------------------------------------- Cholesky test


def edge_covariance(total):
    """8 x 8 covariance L L^T with L the identity but for its last row (s_1..s_7, 1).

    Integers, so the Cholesky factor is L exactly: every pivot is 1, and the last diagonal
    entry is ``total + 1`` where ``total = sum s_b^2``.
    """
    s = {2**49 - 1: [23726566, 4389, 75, 3, 0, 0, 0], 2**49 - 2: [23726566, 4389, 75, 2, 2, 0, 0]}[total]
    assert sum(x * x for x in s) == total
    L = np.eye(8)
    L[7, :7] = s
    return L @ L.T


def test_singularity_test_at_its_exact_edge():
    """A pivot equal to d eps C[a, a] counts as singular ("at most"), one just above does not.

    d = 8, d eps = 2^-49: with C[7, 7] = 2^49 the last pivot, 1, is exactly d eps C[7, 7] and
    the matrix is rejected; with C[7, 7] = 2^49 - 1 the pivot exceeds 1 - 2^-49 and it is
    accepted. Catches ``<=`` turned into ``<``.
    """
    edge, inside = edge_covariance(2**49 - 1), edge_covariance(2**49 - 2)
    assert edge[7, 7] == 2.0**49 and 1.0 == 8 * np.finfo(float).eps * edge[7, 7]
    X, m = np.zeros((1, 8)), np.zeros((2, 8))
    with pytest.raises(ValueError, match=r"^covariances\[1\] is not positive definite$"):
        gmm.e_step(X, [0.5, 0.5], m, [np.eye(8), edge])
    # accepted: the point at both means; log det(L) = 0 for both factors
    assert gmm.log_likelihood(X, [0.5, 0.5], m, [np.eye(8), inside]) == pytest.approx(-4 * LOG_2PI, rel=1e-14)


def test_component_collapsing_during_the_fit_without_reg_covar_names_it():
    """reg_covar=0: component 1 takes three equal points only, so its covariance becomes 0.

    The fit must stop with the documented ValueError naming the component (not an
    AttributeError or a LinAlgError from the Cholesky factorisation after the M-step).
    """
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]] + [[100.0, 100.0]] * 3)
    start = ([0.5, 0.5], [[0.5, 0.5], [100.0, 100.0]], [np.eye(2), np.eye(2)])
    message = (r"^the covariance of component 1 is singular \(the component collapsed onto a point or a "
               r"line\); use reg_covar > 0$")
    with pytest.raises(ValueError, match=message):
        gmm.fit(X, k=2, init=start, reg_covar=0)


# --------------------------------------------------------------------------- reg_covar


def test_default_reg_covar_of_a_constant_feature_when_every_variance_is_below_one():
    """A constant feature gets 1e-6 times the mean variance of the features, even below 1.

    Variances (0.25, 0): 1e-6 * 0.25 and 1e-6 * 0.125. Catches the fallback switching to the
    fixed 1e-6 (meant for all-constant data only) whenever the largest variance is <= 1.
    """
    np.testing.assert_allclose(gmm.default_reg_covar([[0.0, 5.0], [1.0, 5.0]]), [2.5e-7, 1.25e-7], rtol=1e-15)


@pytest.mark.parametrize("value, kind", [("small", "str"), (True, "bool"), (b"x", "bytes")])
def test_reg_covar_of_the_wrong_kind_is_named_in_the_error(value, kind):
    """The TypeError names the type the caller passed (not NoneType)."""
    message = rf"^reg_covar must be a number, an array of shape \(2,\) or None, got {kind}$"
    with pytest.raises(TypeError, match=message):
        gmm.fit(X3, k=1, reg_covar=value)


def test_two_dimensional_reg_covar_is_rejected_by_its_name():
    """A (1, d) reg_covar is refused as not 1-D, under the argument's own name.

    Catches the name or the ``ndim=1`` being lost in the array check (the message would name
    None or XXreg_covarXX, or fall through to the shape message).
    """
    with pytest.raises(ValueError, match=r"^reg_covar must be 1-D, got shape \(1, 2\)$"):
        gmm.m_step(X3, np.ones((3, 1)), reg_covar=[[1e-3, 1e-3]])


# --------------------------------------------------------------------------- starts


def test_random_start_draws_k_distinct_points_with_numpys_choice():
    """init="random": means are X[rng.choice(n, size=k, replace=False)] for rng = default_rng(seed).

    With k = n they are the n points in some order. Catches drawing with replacement
    (repeated points, other draws).
    """
    X = np.arange(14.0).reshape(7, 2) ** 1.5
    start = gmm.fit(X, k=3, init="random", seed=5, max_iter=0).history[0]
    np.testing.assert_array_equal(start.means, X[np.random.default_rng(5).choice(7, size=3, replace=False)])
    every = gmm.fit(X, k=7, init="random", seed=5, max_iter=0).history[0]
    np.testing.assert_array_equal(np.sort(every.means, axis=0), X)


@pytest.mark.parametrize("init, kind", [(5, "int"), ([[0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]]], "list")])
def test_init_of_the_wrong_kind_is_named_in_the_error(init, kind):
    """The TypeError names the type the caller passed (not NoneType)."""
    message = rf"^init must be 'kmeans', 'random' or a tuple \(weights, means, covariances\), got {kind}$"
    with pytest.raises(TypeError, match=message):
        gmm.fit(X3, k=2, init=init)


def test_explicit_start_in_the_wrong_dimension_is_refused():
    """Means of 3 coordinates for 2-D data: the start is checked against the data's d."""
    start = ([0.5, 0.5], np.zeros((2, 3)), [np.eye(3)] * 2)
    message = r"^means must have shape \(2, 2\) \(k components, d features\), got \(2, 3\)$"
    with pytest.raises(ValueError, match=message):
        gmm.fit(X3, k=2, init=start)


def test_explicit_start_that_is_not_positive_definite_says_init():
    """The error names the start ("init: covariances[1] ..."), not some later step."""
    start = ([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], [np.eye(2), [[1.0, 2.0], [2.0, 1.0]]])
    with pytest.raises(ValueError, match=r"^init: covariances\[1\] is not positive definite$"):
        gmm.fit(X3, k=2, init=start)


# --------------------------------------------------------------------------- fit's defaults


def test_default_max_iter_is_100_and_converged_is_a_bool():
    """With tol=0 the fit runs max_iter iterations: 100 by default, and it did not converge.

    ``converged`` is the bool False, not another false value such as None.
    """
    X = np.array([[0.0, 0.0], [1.0, 0.3], [0.2, 1.1], [4.0, 4.0], [5.0, 4.2], [4.4, 5.1], [2.0, 2.5]])
    res = gmm.fit(X, k=2, tol=0, seed=0)
    assert res.n_iter == 100 and len(res.history) == 201
    assert res.converged is False
