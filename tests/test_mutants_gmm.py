"""algos.gmm: behaviour that mutation testing found unchecked (see tests/mutation/)."""

from __future__ import annotations

import pytest

from algos import gmm


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
def test_one_component_in_one_dimension_has_a_mean_and_a_variance(covariance_type):
    # k = 1, d = 1: no free weight (it is 1), one mean, one variance, whatever the type
    assert gmm.n_parameters(1, 1, covariance_type) == 2


def test_n_parameters_counts_full_covariances_by_default():
    # k = 3, d = 2: 2 free weights, 6 mean coordinates, 3 symmetric 2 x 2 matrices (3 each)
    assert gmm.n_parameters(3, 2) == 2 + 6 + 9
    assert gmm.n_parameters(1, 2) == 0 + 2 + 3
