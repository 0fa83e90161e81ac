"""``algos.explorer``: what a chapter embeds for the website's live explorer (no browser here).

The browser side is tested in test_explorer_parity.py (the computation) and
test_explorer_site.py (the built pages).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from algos import explorer

X4 = np.array([[0.0, -6.0], [4.0, 4.0], [0.0, 0.0], [-5.0, 2.0]])
X_EM = np.array([-1.0, 0.0, 4.0, 5.0, 6.0])


class _Parts(HTMLParser):
    """The div's attributes, the JSON script's text and the note's text."""

    def __init__(self):
        super().__init__()
        self.div, self.script, self.note, self._in = None, "", "", None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and self.div is None:
            self.div = attrs
        self._in = tag if tag in ("script", "p") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.script += data
        elif self._in == "p":
            self.note += data


def parts(html):
    parser = _Parts()
    parser.feed(html)
    return parser


def test_kmeans_embed_carries_exact_data_and_settings():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2)) * 1e-7 + 1e6  # values whose short decimals are long
    e = explorer.embed("kmeans", {"seed 000": X4, "noise": X}, k=2, init=X4[[3, 0]], seed=7,
                       metric="l1")
    p = parts(e.to_html())
    assert p.div == {"class": "algos-explorer", "data-method": "kmeans"}
    config = json.loads(p.script)
    assert config["k"] == 2 and config["metric"] == "l1" and config["seed"] == 7
    assert config["init"] == [[-5.0, 2.0], [0.0, -6.0]]
    assert [s["name"] for s in config["datasets"]] == ["seed 000", "noise"]
    # the browser reads back the very same doubles
    assert np.array_equal(np.array(config["datasets"][1]["data"]), X)
    assert "JupyterLab" in p.note


def test_mimebundle_has_html_for_the_site_and_a_stable_plain_line():
    e = explorer.embed("gmm1d", {"seed 000": X_EM}, k=2, init=([0.5, 0.5], [6, 7], [1, 2]))
    bundle = e._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/plain"] == "Explorer(gmm1d, k=2: seed 000 (5 points))"
    assert bundle["text/html"] == e.to_html() == explorer.embed(
        "gmm1d", {"seed 000": X_EM}, k=2, init=([0.5, 0.5], [6, 7], [1, 2])).to_html()
    config = json.loads(parts(e.to_html()).script)
    assert config["init"] == {"weights": [0.5, 0.5], "means": [6.0, 7.0], "sigmas": [1.0, 2.0]}
    assert config["start"] == "kmeans"


def test_kmedoids_start_is_row_indices():
    e = explorer.embed("kmedoids", {"four": X4}, k=2, init=np.array([3, 0]), medoids_from="all")
    config = json.loads(parts(e.to_html()).script)
    assert config["init"] == [3, 0] and config["medoids_from"] == "all"


def test_gmm_start_is_full_covariances_and_the_type_is_carried():
    c = [[[2.0, 0.5], [0.5, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]
    e = explorer.embed("gmm", {"four": X4}, k=2, init=([0.25, 0.75], X4[[3, 0]], c),
                       covariance_type="tied", seed=3)
    p = parts(e.to_html())
    assert p.div == {"class": "algos-explorer", "data-method": "gmm"}
    config = json.loads(p.script)
    assert config["init"] == {"weights": [0.25, 0.75], "means": [[-5.0, 2.0], [0.0, -6.0]],
                              "covariances": c}
    assert (config["covariance_type"], config["start"], config["seed"]) == ("tied", "kmeans", 3)
    assert repr(e) == "Explorer(gmm, k=2: four (4 points))"
    assert json.loads(parts(explorer.embed("gmm", {"a": X4}, k=2).to_html()).script)[
        "covariance_type"] == "full"


def test_a_name_cannot_end_the_script_early():
    e = explorer.embed("kmeans", {"</script><script>alert(1)</script>": X4}, k=2)
    html = e.to_html()
    assert html.count("</script>") == 1
    assert json.loads(parts(html).script)["datasets"][0]["name"].startswith("</script>")
    assert re.search(r"<p class=\"algos-explorer-fallback\">[^<]*&lt;/script&gt;", html)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: explorer.embed("kmeans", X4, k=2), TypeError, "datasets must be a dict"),
        (lambda: explorer.embed("kmeans", {}, k=2), ValueError, "at least one data set"),
        (lambda: explorer.embed("pam", {"a": X4}, k=2), ValueError, "method must be one of"),
        (lambda: explorer.embed("kmeans", {3: X4}, k=2), TypeError, "keys must be non-empty str"),
        (lambda: explorer.embed("kmeans", {"a": X_EM}, k=2), ValueError, "must be 2-D"),
        (lambda: explorer.embed("kmeans", {"a": np.ones((5, 3))}, k=2), ValueError, "2 columns"),
        (lambda: explorer.embed("gmm1d", {"a": X4}, k=2), ValueError, "must be 1-D"),
        (lambda: explorer.embed("kmeans", {"a": [[0.0, np.nan]]}, k=1), ValueError, "NaN"),
        (lambda: explorer.embed("kmeans", {"a": np.zeros((5001, 2))}, k=2), ValueError, "at most 5000"),
        (lambda: explorer.embed("kmeans", {"a": X4}, k=0), ValueError, "k must be >= 1"),
        (lambda: explorer.embed("kmeans", {"a": np.zeros((20, 2))}, k=11), ValueError, "k must be <= 10"),
        (lambda: explorer.embed("kmeans", {"a": X4}, k=5), ValueError, "at most the number of points"),
        (lambda: explorer.embed("kmeans", {"a": X4}, k=2.0), TypeError, "k must be an integer"),
        (lambda: explorer.embed("kmeans", {"a": X4}, k=2, metric="l3"), ValueError, "metric"),
        (lambda: explorer.embed("kmedoids", {"a": X4}, k=2, medoids_from="any"), ValueError, "medoids_from"),
        (lambda: explorer.embed("kmeans", {"a": X4}, k=2, start="kmeans"), ValueError, "start"),
        (lambda: explorer.embed("kmeans", {"a": X4}, k=2, seed=-1), ValueError, "seed"),
        (lambda: explorer.embed("kmeans", {"a": X4}, k=2, init=X4[:3]), ValueError, "init"),
        (lambda: explorer.embed("kmedoids", {"a": X4}, k=2, init=[0, 0]), ValueError, "distinct"),
        (lambda: explorer.embed("kmedoids", {"a": X4}, k=2, init=[0, 9]), ValueError, "index rows"),
        (lambda: explorer.embed("kmedoids", {"a": X4}, k=2, init=X4[:2]), TypeError, "row indices"),
        (lambda: explorer.embed("gmm1d", {"a": X_EM}, k=2, init=([0.5, 0.6], [0, 1], [1, 1])),
         ValueError, "sum to 1"),
        (lambda: explorer.embed("gmm1d", {"a": X_EM}, k=2, init=[0.5, 0.5]), TypeError, "weights, means, sigmas"),
        (lambda: explorer.embed("gmm", {"a": X_EM}, k=2), ValueError, "must be 2-D"),
        (lambda: explorer.embed("gmm", {"a": X4}, k=2, covariance_type="round"), ValueError,
         "covariance_type"),
        (lambda: explorer.embed("gmm", {"a": X4}, k=2, start="k-means++"), ValueError, "start"),
        (lambda: explorer.embed("gmm", {"a": X4}, k=2, init=([0.5, 0.5], [0, 1], [1, 1])),
         ValueError, "means"),
        (lambda: explorer.embed("gmm", {"a": X4}, k=2, init=[0.5, 0.5]), TypeError,
         "weights, means, covariances"),
        (lambda: explorer.embed("gmm", {"a": X4}, k=1, init=([1.0], [[0, 0]], [[[1, 2], [2, 1]]])),
         ValueError, "not positive definite"),
        (lambda: explorer.embed("gmm", {"a": X4}, k=1, init=([1.0], [[0, 0]], [[[1, 0], [0.5, 1]]])),
         ValueError, "not symmetric"),
    ],
)
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_callers_arrays_are_not_changed():
    X = X4.copy()
    explorer.embed("kmeans", {"a": X}, k=2, init=X[[0, 1]])
    assert np.array_equal(X, X4)


def test_docstring_examples():
    import doctest

    failures, tried = doctest.testmod(explorer, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried >= 2 and failures == 0
