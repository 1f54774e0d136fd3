"""KSSNet's KS graph, Eqs. (2)–(4): hand-computed numbers, limiting cases, permutations, bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from labelgraph import Artifact, load
from labelgraph.errors import ArtifactError, ConfigError, DataError, LabelMismatchError
from labelgraph.assemble import ks_artifact, statistical_adjacency
from labelgraph.graphs.ks import PRESETS, KSParts, ks_graph, ks_params


def norm_by_hand(A: np.ndarray) -> np.ndarray:
    """D^{-1/2} A D^{-1/2} with row sums, written again here (zero degree → zero row/column)."""
    A = np.asarray(A, dtype=float)
    d = A.sum(axis=1)
    inv = np.array([1 / math.sqrt(x) if x > 0 else 0.0 for x in d])
    return inv[:, None] * A * inv[None, :]


# ----------------------------------------------------------------------------------------------
# The hand-computed 3-label example
#   A_S = [[0,2,0],[2,0,0],[0,0,0]]  → degrees 2, 2, 0 → Â_S = [[0,1,0],[1,0,0],[0,0,0]]
#   A_K = [[0,1,1],[1,0,0],[1,0,0]]  → degrees 2, 1, 1 → Â_K_ab = Â_K_ac = 1/√2 = r
#   λ = 0.4: A = [[0, 0.4 + 0.6r, 0.6r], [0.4 + 0.6r, 0, 0], [0.6r, 0, 0]]
#            0.6r = 0.424264069, 0.4 + 0.6r = 0.824264069
#   τ = 0.5: only the a–b pair survives: A_τ = [[0, w, 0], [w, 0, 0], [0, 0, 0]], w = 0.824264069
#   η = 0.4: A_KS = [[0.6, 0.4w, 0], [0.4w, 0.6, 0], [0, 0, 0.6]], 0.4w = 0.329705627
#   row sums 0.929705627, 0.929705627, 0.6 →
#   Â_KS = [[0.6/0.9297, 0.3297/0.9297, 0], [same], [0, 0, 1]] = [[0.645365, 0.354635, 0], ..., [0, 0, 1]]
# ----------------------------------------------------------------------------------------------
A_S = np.array([[0, 2, 0], [2, 0, 0], [0, 0, 0]], dtype=float)
A_K = np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=float)


def test_hand_computed_example_every_part() -> None:
    parts = ks_graph(A_S, A_K, lam=0.4, tau=0.5, eta=0.4, parts=True)
    assert isinstance(parts, KSParts)
    r = 1 / math.sqrt(2)
    np.testing.assert_allclose(parts.A_S_hat, [[0, 1, 0], [1, 0, 0], [0, 0, 0]], atol=1e-12)
    np.testing.assert_allclose(parts.A_K_hat, [[0, r, r], [r, 0, 0], [r, 0, 0]], atol=1e-12)
    np.testing.assert_allclose(parts.A, [[0, 0.824264069, 0.424264069],
                                         [0.824264069, 0, 0],
                                         [0.424264069, 0, 0]], atol=1e-8)
    np.testing.assert_allclose(parts.A_tau, [[0, 0.824264069, 0], [0.824264069, 0, 0], [0, 0, 0]], atol=1e-8)
    np.testing.assert_allclose(parts.A_KS, [[0.6, 0.329705627, 0], [0.329705627, 0.6, 0], [0, 0, 0.6]], atol=1e-8)
    np.testing.assert_allclose(parts.A_KS_hat, [[0.645365, 0.354635, 0], [0.354635, 0.645365, 0], [0, 0, 1]],
                               atol=1e-6)
    np.testing.assert_array_equal(ks_graph(A_S, A_K, 0.4, 0.5, 0.4), parts.A_KS_hat)


def test_threshold_keeps_tau_itself() -> None:
    # Degrees 1, 1, 0 make the a–b weight exactly 1.0 at λ = 1; τ = 1.0 keeps it (Eq. 3 uses ≥).
    S = [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
    kept = ks_graph(S, A_K, lam=1.0, tau=1.0, eta=0.5, parts=True).A_tau
    dropped = ks_graph(S, A_K, lam=1.0, tau=1.0 + 1e-9, eta=0.5, parts=True).A_tau
    assert kept[0, 1] == 1.0 and dropped[0, 1] == 0.0


def test_asymmetric_statistical_graph_uses_row_sums() -> None:
    # P-like A_S = [[0, 1], [0.5, 0]]: D = diag(1, 0.5) → Â_S = [[0, 1/√0.5], [0.5/√0.5, 0]] = [[0, √2], [√½, 0]]
    parts = ks_graph([[0, 1], [0.5, 0]], [[0, 0], [0, 0]], lam=1.0, tau=0.0, eta=1.0, parts=True)
    np.testing.assert_allclose(parts.A_S_hat, [[0, math.sqrt(2)], [math.sqrt(0.5), 0]], atol=1e-12)


# ----------------------------------------------------------------------------------------------
# Limiting cases
# ----------------------------------------------------------------------------------------------
def _random_pair(seed: int, c: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    S = rng.random((c, c)) * (rng.random((c, c)) < 0.5)
    np.fill_diagonal(S, 0)
    K = rng.random((c, c)) * (rng.random((c, c)) < 0.4)
    K = np.maximum(K, K.T)
    np.fill_diagonal(K, 0)
    return S, K


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lambda_one_gives_normalized_statistical_graph_before_threshold(seed: int) -> None:
    S, K = _random_pair(seed)
    parts = ks_graph(S, K, lam=1.0, tau=0.3, eta=0.4, parts=True)
    np.testing.assert_allclose(parts.A, norm_by_hand(S), atol=1e-12)
    parts0 = ks_graph(S, K, lam=0.0, tau=0.3, eta=0.4, parts=True)
    np.testing.assert_allclose(parts0.A, norm_by_hand(K), atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eta_zero_gives_identity(seed: int) -> None:
    S, K = _random_pair(seed)
    np.testing.assert_array_equal(ks_graph(S, K, lam=0.4, tau=0.02, eta=0.0), np.identity(S.shape[0]))


@pytest.mark.parametrize("eta", [0.0, 0.4, 0.9])
def test_tau_above_every_weight_leaves_only_the_diagonal(eta: float) -> None:
    S, K = _random_pair(3)
    parts = ks_graph(S, K, lam=0.5, tau=10.0, eta=eta, parts=True)
    assert not parts.A_tau.any()
    np.testing.assert_allclose(parts.A_KS, (1 - eta) * np.identity(7))
    np.testing.assert_allclose(parts.A_KS_hat, np.identity(7))


def test_zero_degree_labels_give_no_nan() -> None:
    S, K = _random_pair(4)
    S[2, :] = S[:, 2] = 0
    K[2, :] = K[:, 2] = 0
    for eta in (0.0, 0.4, 1.0):
        parts = ks_graph(S, K, lam=0.4, tau=0.0, eta=eta, parts=True)
        for name, part in zip(KSParts._fields, parts):
            assert np.isfinite(part).all(), name
        assert not parts.A_S_hat[2].any() and not parts.A_K_hat[:, 2].any()
        expected = np.zeros(7)
        expected[2] = 1.0 if eta < 1 else 0.0
        np.testing.assert_allclose(parts.A_KS_hat[2], expected, atol=1e-15)


def test_all_zero_inputs() -> None:
    Z = np.zeros((3, 3))
    np.testing.assert_allclose(ks_graph(Z, Z, 0.4, 0.0, 0.4), np.identity(3), atol=1e-15)
    np.testing.assert_array_equal(ks_graph(Z, Z, 0.4, 0.0, 1.0), Z)


square = st.integers(2, 6).flatmap(
    lambda c: st.tuples(
        hnp.arrays(np.float64, (c, c), elements=st.floats(0, 5, allow_nan=False, width=32)),
        hnp.arrays(np.float64, (c, c), elements=st.floats(0, 5, allow_nan=False, width=32)),
        st.permutations(list(range(c))),
    ))


@settings(max_examples=60, deadline=None)
@given(square, st.floats(0, 1), st.floats(0, 0.5), st.floats(0, 1))
def test_permuting_labels_permutes_every_part(data, lam, tau, eta) -> None:
    S, K, perm = data
    perm = np.array(perm)
    a = ks_graph(S, K, lam, tau, eta, parts=True)
    b = ks_graph(S[np.ix_(perm, perm)], K[np.ix_(perm, perm)], lam, tau, eta, parts=True)
    for name, x, y in zip(KSParts._fields, a, b):
        np.testing.assert_allclose(x[np.ix_(perm, perm)], y, rtol=1e-12, atol=1e-12, err_msg=name)
        assert np.isfinite(y).all()


def test_second_hand_example_threshold_cuts_mixed_weights() -> None:
    # S: path 0–1–2 with weight 2, degrees 2, 4, 2 → norm(S)_01 = norm(S)_12 = 2 / (√2·2) = 1/√2
    # K: one edge 0–2, label 1 has degree 0 → norm(K) = K
    # λ = 0.5: A_01 = A_12 = 1/(2√2) ≈ 0.354 (cut by τ = 0.4), A_02 = 0.5 (kept)
    # η = 0.4: 0.4·A_τ + 0.6·I = [[.6, 0, .2], [0, .6, 0], [.2, 0, .6]], row sums .8, .6, .8
    # norm: .6/.8 = .75, .2/.8 = .25, .6/.6 = 1
    S = np.array([[0, 2, 0], [2, 0, 2], [0, 2, 0]], dtype=float)
    K = np.array([[0, 0, 1], [0, 0, 0], [1, 0, 0]], dtype=float)
    parts = ks_graph(S, K, lam=0.5, tau=0.4, eta=0.4, parts=True)
    h = 1 / (2 * math.sqrt(2))
    np.testing.assert_allclose(parts.A, [[0, h, 0.5], [h, 0, h], [0.5, h, 0]], atol=1e-12)
    np.testing.assert_allclose(parts.A_tau, [[0, 0, 0.5], [0, 0, 0], [0.5, 0, 0]], atol=1e-12)
    np.testing.assert_allclose(parts.A_KS_hat, [[0.75, 0, 0.25], [0, 1, 0], [0.25, 0, 0.75]], atol=1e-12)


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"lam": 1.5, "tau": 0.02, "eta": 0.4}, "lam must be in [0, 1], got 1.5"),
    ({"lam": -0.1, "tau": 0.02, "eta": 0.4}, "lam must be in [0, 1]"),
    ({"lam": 0.4, "tau": 0.02, "eta": 1.01}, "eta must be in [0, 1], got 1.01"),
    ({"lam": 0.4, "tau": 0.02, "eta": -0.5}, "eta must be in [0, 1]"),
    ({"lam": 0.4, "tau": -0.01, "eta": 0.4}, "tau must be >= 0, got -0.01"),
    ({"lam": 0.4, "tau": float("nan"), "eta": 0.4}, "tau must be >= 0"),
    ({"lam": float("nan"), "tau": 0.02, "eta": 0.4}, "lam must be in [0, 1]"),
])
def test_parameters_out_of_range(kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        ks_graph(A_S, A_K, **kwargs)


def test_bad_matrices() -> None:
    with pytest.raises(DataError, match="A_S is 3 x 3 but A_K is 2 x 2"):
        ks_graph(A_S, np.zeros((2, 2)), 0.4, 0.02, 0.4)
    with pytest.raises(DataError, match="square"):
        ks_graph(np.zeros((2, 3)), np.zeros((2, 3)), 0.4, 0.02, 0.4)
    with pytest.raises(DataError, match="negative"):
        ks_graph(-A_S, A_K, 0.4, 0.02, 0.4)
    bad = A_K.copy()
    bad[0, 1] = np.inf
    with pytest.raises(DataError, match="NaN or inf"):
        ks_graph(A_S, bad, 0.4, 0.02, 0.4)


# ----------------------------------------------------------------------------------------------
# Presets and artifacts
# ----------------------------------------------------------------------------------------------
def test_presets_are_the_papers_values() -> None:
    # KSSNet (AAAI 2020): COCO "λ 0.4, τ 0.02, η 0.4"; Charades "λ, η and τ are set to 0.6, 0.4 and 0.03".
    assert PRESETS["kssnet-coco"].params == {"lam": 0.4, "tau": 0.02, "eta": 0.4}
    assert PRESETS["kssnet-charades"].params == {"lam": 0.6, "tau": 0.03, "eta": 0.4}
    assert ks_params("kssnet-charades", eta=0.5) == {"lam": 0.6, "tau": 0.03, "eta": 0.5}
    with pytest.raises(ConfigError, match="unknown KS preset 'kssnet-voc'"):
        ks_params("kssnet-voc")
    with pytest.raises(ConfigError, match="lam must be in"):
        ks_params(lam=2)


LABELS = ("cat", "dog", "sofa", "tv")
N_COUNTS = np.array([10, 8, 5, 0])
M_COUNTS = np.array([[0, 6, 3, 0], [6, 0, 2, 0], [3, 2, 0, 0], [0, 0, 0, 0]])


@pytest.fixture
def stats() -> Artifact:
    return Artifact.statistics(LABELS, N_COUNTS, M_COUNTS, 20, {"dataset": "toy"})


@pytest.fixture
def knowledge() -> Artifact:
    K = np.zeros((4, 4))
    K[0, 1] = K[1, 0] = 2.0
    K[2, 3] = K[3, 2] = 1.0
    return Artifact.graph("knowledge", LABELS, K, {"source": "hand"})


def test_ks_artifact_equals_ks_graph_of_P(stats, knowledge) -> None:
    P = M_COUNTS / np.where(N_COUNTS > 0, N_COUNTS, 1)[:, None]
    g = ks_artifact(stats, knowledge, lam=0.4, tau=0.02, eta=0.4)
    expected = ks_graph(P, knowledge.to_dense(), 0.4, 0.02, 0.4)
    assert g.kind == "ks" and g.labels == LABELS
    assert g.matrix.dtype == np.float32
    np.testing.assert_allclose(g.to_dense(), expected, rtol=1e-6, atol=1e-7)
    assert g.meta["lam"] == 0.4 and g.meta["tau"] == 0.02 and g.meta["eta"] == 0.4
    assert g.meta["stat_graph"] == "probability" and g.meta["normalized"] is True
    assert g.meta["statistics_hash"] == stats.content_hash and g.meta["knowledge_hash"] == knowledge.content_hash
    raw = ks_artifact(stats, knowledge, lam=0.4, tau=0.02, eta=0.4, raw=True)
    np.testing.assert_allclose(raw.to_dense(), ks_graph(P, knowledge.to_dense(), 0.4, 0.02, 0.4, parts=True).A_KS,
                               rtol=1e-6)
    assert raw.meta["normalized"] is False


def test_ks_artifact_round_trips_through_a_file(tmp_path, stats, knowledge) -> None:
    g = ks_artifact(stats, knowledge, **PRESETS["kssnet-coco"].params)
    back = load(g.save(tmp_path / "ks.npz"))
    assert back.content_hash == g.content_hash and back.meta["lam"] == 0.4


@pytest.mark.parametrize("stat_graph", ["binary", "reweighted"])
def test_stat_graph_variants(stats, knowledge, stat_graph) -> None:
    P = M_COUNTS / np.where(N_COUNTS > 0, N_COUNTS, 1)[:, None]
    B = (P >= 0.5).astype(float)
    np.fill_diagonal(B, 0)
    if stat_graph == "binary":
        expected_AS = B
    else:  # ML-GCN Eq. 8 by hand: p / row count off the diagonal, 1 − p on it
        rows = B.sum(axis=1, keepdims=True)
        expected_AS = np.where(rows > 0, 0.3 * B / np.where(rows > 0, rows, 1), 0)
        np.fill_diagonal(expected_AS, 0.7)
    np.testing.assert_allclose(statistical_adjacency(stats, stat_graph, stat_tau=0.5, p=0.3), expected_AS)
    g = ks_artifact(stats, knowledge, lam=0.6, tau=0.03, eta=0.4, stat_graph=stat_graph, stat_tau=0.5, p=0.3)
    np.testing.assert_allclose(g.to_dense(), ks_graph(expected_AS, knowledge.to_dense(), 0.6, 0.03, 0.4),
                               rtol=1e-6, atol=1e-7)
    assert g.meta["stat_graph"] == stat_graph and g.meta["stat_tau"] == 0.5
    assert ("p" in g.meta) == (stat_graph == "reweighted")


def test_reordered_knowledge_needs_align(stats, knowledge) -> None:
    shuffled = knowledge.reorder(["tv", "sofa", "cat", "dog"])
    with pytest.raises(LabelMismatchError, match="same names in another order.*--align"):
        ks_artifact(stats, shuffled, lam=0.4, tau=0.02, eta=0.4)
    aligned = ks_artifact(stats, shuffled, lam=0.4, tau=0.02, eta=0.4, align=True)
    direct = ks_artifact(stats, knowledge, lam=0.4, tau=0.02, eta=0.4)
    np.testing.assert_array_equal(aligned.to_dense(), direct.to_dense())
    assert aligned.meta["aligned"] is True and direct.meta["aligned"] is False


def test_mismatched_label_sets_list_the_differences(stats) -> None:
    other = Artifact.graph("knowledge", ["cat", "dog", "couch", "tv"], np.zeros((4, 4)))
    for align in (False, True):
        with pytest.raises(LabelMismatchError, match="only in statistics: sofa; only in knowledge: couch"):
            ks_artifact(stats, other, lam=0.4, tau=0.02, eta=0.4, align=align)


def test_wrong_kinds_and_parameters(stats, knowledge) -> None:
    with pytest.raises(ArtifactError, match="needs a knowledge artifact second, got statistics"):
        ks_artifact(stats, stats, lam=0.4, tau=0.02, eta=0.4)
    with pytest.raises(ArtifactError, match="needs a statistics artifact first, got knowledge"):
        ks_artifact(knowledge, knowledge, lam=0.4, tau=0.02, eta=0.4)
    with pytest.raises(ConfigError, match="unknown statistical graph 'cooc'"):
        ks_artifact(stats, knowledge, lam=0.4, tau=0.02, eta=0.4, stat_graph="cooc")
    with pytest.raises(ConfigError, match="eta must be in"):
        ks_artifact(stats, knowledge, lam=0.4, tau=0.02, eta=4)
