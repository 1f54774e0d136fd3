"""SPEC §2.7: ppmi, npmi, jaccard, exclusive, cosine and --min-count — by hand, and against plain numpy on real statistics."""
from __future__ import annotations

import math

import numpy as np
import pytest

import labelgraph
from labelgraph import Artifact
from labelgraph.errors import ConfigError, LabelMismatchError
from labelgraph.assemble import build_graph

# Four labels a, b, c, d over N = 10 samples: n = (5, 4, 2, 1); pairs a–b 3, a–c 1, b–c 2, b–d 1; a–d, c–d never.
LABELS = ["a", "b", "c", "d"]
N4 = 10
n4 = [5, 4, 2, 1]
M4 = np.array([[0, 3, 1, 0], [3, 0, 2, 1], [1, 2, 0, 0], [0, 1, 0, 0]])


@pytest.fixture(scope="module")
def four() -> Artifact:
    return Artifact.statistics(LABELS, n4, M4, N4)


def _sym(entries: dict[tuple[int, int], float]) -> np.ndarray:
    out = np.zeros((4, 4))
    for (i, j), v in entries.items():
        out[i, j] = out[j, i] = v
    return out


def test_ppmi_by_hand(four) -> None:
    # a–b: log(10·3 / (5·4)) = log 1.5; a–c: log(10·1 / (5·2)) = 0 (dropped); b–c: log(20/8); b–d: log(10/4)
    want = _sym({(0, 1): math.log(1.5), (1, 2): math.log(2.5), (1, 3): math.log(2.5)})
    np.testing.assert_allclose(build_graph(four, "ppmi", raw=True).to_dense(), want, rtol=1e-6)


def test_npmi_by_hand(four) -> None:
    # NPMI = PMI / −log(M/N): a–b log1.5/−log0.3, b–c log2.5/−log0.2, b–d log2.5/−log0.1
    want = _sym({(0, 1): 0.405465 / 1.203973, (1, 2): 0.916291 / 1.609438, (1, 3): 0.916291 / 2.302585})
    np.testing.assert_allclose(build_graph(four, "npmi", raw=True).to_dense(), want, rtol=1e-5)


def test_jaccard_by_hand(four) -> None:
    # a–b 3/(5+4−3), a–c 1/(5+2−1), b–c 2/(4+2−2), b–d 1/(4+1−1)
    want = _sym({(0, 1): 0.5, (0, 2): 1 / 6, (1, 2): 0.5, (1, 3): 0.25})
    np.testing.assert_allclose(build_graph(four, "jaccard", raw=True).to_dense(), want, rtol=1e-6)


def test_exclusive_by_hand(four) -> None:
    # never together: a–d (chance 5·1/10 = 0.5) and c–d (chance 2·1/10 = 0.2)
    np.testing.assert_array_equal(build_graph(four, "exclusive", raw=True, min_expected=0.5).to_dense(),
                                  _sym({(0, 3): 1}))
    np.testing.assert_array_equal(build_graph(four, "exclusive", raw=True, min_expected=0.2).to_dense(),
                                  _sym({(0, 3): 1, (2, 3): 1}))
    assert build_graph(four, "exclusive", raw=True).matrix.nnz == 0  # default 5: nothing expected that often


def test_min_count_by_hand(four) -> None:
    # --min-count 2: a–c and b–d (seen once) count as never seen
    want = _sym({(0, 1): 0.5, (1, 2): 0.5})
    np.testing.assert_allclose(build_graph(four, "jaccard", raw=True, min_count=2).to_dense(), want, rtol=1e-6)
    # ...and c–d as well as b–d become "never together" for exclusive
    np.testing.assert_array_equal(build_graph(four, "exclusive", raw=True, min_count=2, min_expected=0.2).to_dense(),
                                  _sym({(0, 3): 1, (2, 3): 1, (1, 3): 1, (0, 2): 1}))
    g = build_graph(four, "binary", min_count=2, raw=True)  # P after min-count: a→b 3/5, b→a 3/4, b→c 2/4, c→b 1
    np.testing.assert_array_equal(g.to_dense(), [[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]])
    with pytest.raises(ConfigError, match="--min-count must be an integer >= 0, got -1"):
        build_graph(four, "ppmi", min_count=-1)


def test_saved_matrix_is_norm_of_x_plus_identity(four) -> None:
    X = _sym({(0, 1): 0.5, (0, 2): 1 / 6, (1, 2): 0.5, (1, 3): 0.25}) + np.identity(4)
    d = 1 / np.sqrt(X.sum(axis=1))
    np.testing.assert_allclose(build_graph(four, "jaccard").to_dense(), d[:, None] * X * d[None, :], rtol=1e-6)


def test_cosine_by_hand_and_bad_embeddings(four) -> None:
    E = Artifact.embeddings(["d", "c", "b", "a"], [[0, 0, 1], [1, 1, 0], [-1, 0, 0], [1, 0, 0]])
    # aligned by name: a = (1,0,0), b = (−1,0,0), c = (1,1,0), d = (0,0,1): only a–c is positive, 1/√2
    want = _sym({(0, 2): 1 / math.sqrt(2)})
    np.testing.assert_allclose(build_graph(four, "cosine", raw=True, embeddings=E).to_dense(), want, rtol=1e-6)
    with pytest.raises(ConfigError, match="cosine needs label embeddings"):
        build_graph(four, "cosine")
    other = Artifact.embeddings(["a", "b", "x", "y"], np.ones((4, 2)))
    with pytest.raises(LabelMismatchError, match="no vector for 2 label\\(s\\): c, d"):
        build_graph(four, "cosine", embeddings=other)


# -- against an independent dense implementation on real statistics ---------------------------------------------

def _dense_reference(stats: Artifact, kind: str, min_count: int = 0) -> np.ndarray:
    M = stats.matrix.toarray().astype(float)
    M[M < min_count] = 0
    n = stats.n.astype(float)
    N = float(stats.num_samples)
    c = len(n)
    X = np.zeros((c, c))
    for i in range(c):
        for j in range(c):
            if i == j:
                continue
            if kind == "exclusive":
                X[i, j] = 1.0 if M[i, j] == 0 and n[i] * n[j] / N >= 5 else 0.0
            elif M[i, j] > 0:
                pmi = math.log(N * M[i, j] / (n[i] * n[j]))
                if kind == "ppmi":
                    X[i, j] = max(pmi, 0.0)
                elif kind == "npmi":
                    X[i, j] = 1.0 if M[i, j] == N else max(pmi / -math.log(M[i, j] / N), 0.0)
                else:
                    X[i, j] = M[i, j] / (n[i] + n[j] - M[i, j])
    return X


@pytest.mark.parametrize("dataset", ["voc2007", "coco2014"])
@pytest.mark.parametrize("kind", ["ppmi", "npmi", "jaccard", "exclusive"])
@pytest.mark.parametrize("min_count", [0, 3])
def test_against_plain_numpy_on_real_statistics(dataset, kind, min_count) -> None:
    stats = labelgraph.load(labelgraph.bundled_path(dataset))
    want = _dense_reference(stats, kind, min_count)
    raw = build_graph(stats, kind, raw=True, min_count=min_count).to_dense()
    np.testing.assert_allclose(raw, want, rtol=2e-7, atol=1e-7)
    assert np.count_nonzero(raw) == np.count_nonzero(want)
    if kind != "exclusive":
        assert not (raw[stats.matrix.toarray() == 0]).any(), "only pairs with M_ij > 0 may be non-zero"
    np.testing.assert_array_equal(raw, raw.T)
    if kind == "npmi":
        assert raw.min() >= 0 and raw.max() <= 1


def test_exclusive_empty_when_every_pair_cooccurs() -> None:
    c = 6
    M = np.full((c, c), 7) - 7 * np.identity(c, dtype=int)
    stats = Artifact.statistics([f"l{i}" for i in range(c)], [50] * c, M, 60)
    assert build_graph(stats, "exclusive", raw=True).matrix.nnz == 0
    assert build_graph(stats, "exclusive").to_dense().tolist() == np.identity(c).tolist()
