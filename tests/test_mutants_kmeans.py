"""algos.kmeans: behaviour that mutation testing found unchecked (see tests/mutation/)."""

from __future__ import annotations

import ast
import inspect
import re

import numpy as np
import pytest

from algos import gmm, gmm1d, kmeans, kmedoids


def hamerly_reference(X, C, previous):
    """Hamerly's bounds as ``kmeans._hamerly_assign`` documents them, written out plainly.

    ``previous`` is None or (labels, upper, lower, centres, lo, hi, margin) of the last call.
    Returns the same seven things after this call: a point keeps its label and its moved
    bounds when ``upper < max(lower, s_a)``; otherwise ``upper`` becomes its exact distance
    plus half the margin, and if the test still fails every distance is computed.
    """
    D = np.sqrt(((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2))
    rows = np.arange(X.shape[0])
    lo = np.minimum(X.min(axis=0), C.min(axis=0))
    hi = np.maximum(X.max(axis=0), C.max(axis=0))
    if previous is None:
        margin = kmeans.MARGIN * np.linalg.norm(hi - lo)
        labels = D.argmin(axis=1)
        others = D.copy()
        others[rows, labels] = np.inf
        return labels, D[rows, labels] + margin / 2, others.min(axis=1) - margin / 2, C.copy(), lo, hi, margin
    labels, upper, lower, C_old, lo_old, hi_old, margin = (np.array(a, copy=True) for a in previous)
    lo, hi = np.minimum(lo_old, C.min(axis=0)), np.maximum(hi_old, C.max(axis=0))
    widen = max(kmeans.MARGIN * np.linalg.norm(hi - lo) - margin, 0.0)
    margin = margin + widen
    shift = np.linalg.norm(C - C_old, axis=1)
    upper = upper + shift[labels] + widen / 2
    lower = lower - shift.max() - widen / 2
    gaps = np.linalg.norm(C[:, None, :] - C[None, :, :], axis=2)
    np.fill_diagonal(gaps, np.inf)
    bound = np.maximum(0.5 * gaps.min(axis=1)[labels] - margin / 2, lower)
    check = upper >= bound
    upper[check] = D[rows, labels][check] + margin / 2
    full = check & (upper >= bound)
    new = D.argmin(axis=1)
    others = D.copy()
    others[rows, new] = np.inf
    labels[full] = new[full]
    upper[full] = D[rows, new][full] + margin / 2
    lower[full] = others.min(axis=1)[full] - margin / 2
    return labels, upper, lower, C.copy(), lo, hi, margin


def test_hamerly_bounds_follow_the_documented_update_rule():
    # Centres that move a little every call (some far, leaving the box, so the margin widens):
    # the labels and both bounds of every point are those of the rule, to rounding. A looser
    # bound would still give the right labels, only slower; this checks the bounds themselves.
    rng = np.random.default_rng(21)
    X = np.concatenate([rng.normal(c, 0.6, size=(60, 2)) for c in ([0, 0], [4, 1], [1, 5])])
    C = X[[0, 60, 120]] + 0.5
    labels, state = kmeans.e_step_bounded(X, C)
    ref = hamerly_reference(X, C, None)
    for step in range(8):
        np.testing.assert_array_equal(labels, ref[0])
        np.testing.assert_allclose(state.upper, ref[1], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(state.lower, ref[2], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose([state.margin], [ref[6]], rtol=1e-12)
        np.testing.assert_array_equal(state.lo, ref[4])
        np.testing.assert_array_equal(state.hi, ref[5])
        move = rng.normal(scale=0.4 if step != 4 else 6.0, size=C.shape)
        C = C + move
        labels, state = kmeans.e_step_bounded(X, C, state)
        ref = hamerly_reference(X, C, ref)


@pytest.mark.parametrize("function", [kmeans.fit, kmeans.e_step, kmeans.objective, kmedoids.fit, kmedoids.m_step,
                                      gmm1d.fit, gmm.fit, gmm.m_step])
def test_documented_defaults_are_the_real_defaults(function):
    # "name : type, default VALUE" in the numpydoc Parameters section is what the signature says
    documented = dict(re.findall(r"^(\w+) : .*, default (.+)$", inspect.getdoc(function), flags=re.M))
    assert documented, "no documented default found"
    signature = inspect.signature(function).parameters
    for name, value in documented.items():
        assert signature[name].default == ast.literal_eval(value), name
