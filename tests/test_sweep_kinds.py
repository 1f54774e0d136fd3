"""Every registered kind can be swept: cosine (with embeddings) and the baselines (with a base kind)."""
from __future__ import annotations

import numpy as np
import pytest

import labelgraph
from labelgraph.errors import ConfigError
from labelgraph.inspect.sweep import SWEEP_KINDS, sweep


@pytest.fixture(scope="module")
def voc() -> labelgraph.Artifact:
    return labelgraph.load(labelgraph.bundled_path("voc"))


def off_diagonal_entries(matrix) -> int:
    dense = matrix.toarray()
    np.fill_diagonal(dense, 0)
    return int(np.count_nonzero(dense))


def test_every_registered_kind_is_a_sweep_kind() -> None:
    assert set(labelgraph.graphs.STATISTICAL_KINDS) | {"ks"} == set(SWEEP_KINDS)


def test_shuffled_and_random_sweep_over_seeds_of_a_base(voc) -> None:
    binary_edges = off_diagonal_entries(labelgraph.build_graph(voc, "binary", tau=0.4).matrix)
    for kind in ("shuffled", "random"):
        result = sweep(voc, kind, seed="0:2:1", base="binary")
        assert [row["seed"] for row in result.rows] == [0, 1, 2]
        assert result.fixed == {"base": "binary"}
        for row in result.rows:  # both keep the base graph's number of edges (SPEC §2.8)
            assert row["num_edges"] == binary_edges


def test_cosine_sweeps_top_k_with_embeddings(voc) -> None:
    rng = np.random.default_rng(0)
    E = labelgraph.Artifact.embeddings(voc.labels, rng.standard_normal((voc.num_labels, 8)))
    result = sweep(voc, "cosine", embeddings=E, top_k="2,4")
    # with random 8-d vectors about half the cosines are positive, far more than 4 a row: top-k keeps k each
    assert [row["num_edges"] for row in result.rows] == [2 * voc.num_labels, 4 * voc.num_labels]
    with pytest.raises(ConfigError, match="needs label embeddings"):
        sweep(voc, "cosine")
