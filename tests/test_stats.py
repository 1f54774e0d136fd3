"""SPEC §1 statistics: hand-computed examples and properties over random label matrices."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labelgraph.labelset import LabelSet
from labelgraph.assemble import label_statistics
from labelgraph.stats import conditional_probability, cooccurrence_counts


def test_hand_computed_four_labels():
    # samples: {a,b}, {a,c}, {a,b,c}, {}, {d}
    Y = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1]])
    n, M = cooccurrence_counts(Y)
    assert n.tolist() == [3, 2, 2, 1]
    assert M.toarray().tolist() == [[0, 2, 2, 0], [2, 0, 1, 0], [2, 1, 0, 0], [0, 0, 0, 0]]
    assert M.dtype == np.int64 and n.dtype == np.int64
    P = conditional_probability(M, n)
    # P(b|a) = 2/3, P(a|b) = 2/2, P(c|b) = 1/2
    assert P[0, 1] == pytest.approx(2 / 3)
    assert P[1, 0] == pytest.approx(1.0)
    assert P[1, 2] == pytest.approx(0.5)
    assert P[3].tolist() == [0, 0, 0, 0]


def test_duplicate_labels_on_one_sample_count_once():
    # a COO with the (0, 0) entry twice: sample 0 lists label 0 twice
    Y = sp.coo_matrix((np.ones(3), ([0, 0, 0], [0, 0, 1])), shape=(1, 2))
    n, M = cooccurrence_counts(Y)
    assert n.tolist() == [1, 1]
    assert M.toarray().tolist() == [[0, 1], [1, 0]]


def test_zero_count_label_gets_zero_row_and_warning(caplog):
    P = conditional_probability(np.zeros((2, 2)), [0, 3], labels=["ghost", "real"])
    assert np.isfinite(P).all() and P[0].tolist() == [0.0, 0.0]
    assert "ghost" in caplog.text


def test_samples_without_labels_stay_in_N():
    ls = LabelSet.from_lists(["x", "y", "z"], ["a", "b"], [["a", "b"], [], ["a"]])
    s = label_statistics(ls)
    assert s.num_samples == 3
    assert s.n.tolist() == [2, 1]
    assert s.meta["samples_without_labels"] == 1


label_matrices = arrays(np.int8, st.tuples(st.integers(1, 30), st.integers(1, 8)), elements=st.integers(0, 1))


@settings(max_examples=60, deadline=None)
@given(label_matrices)
def test_properties_against_dense_loop(Y):
    n, M = cooccurrence_counts(Y)
    # independent: the per-sample loop of the ML-GCN scripts
    C = Y.shape[1]
    ref_n = np.zeros(C, dtype=np.int64)
    ref_M = np.zeros((C, C), dtype=np.int64)
    for row in Y:
        idx = np.flatnonzero(row)
        ref_n[idx] += 1
        for i in idx:
            for j in idx:
                if i != j:
                    ref_M[i, j] += 1
    assert n.tolist() == ref_n.tolist()
    dense = M.toarray()
    assert (dense == ref_M).all()
    assert (dense == dense.T).all() and not dense.diagonal().any()
    P = conditional_probability(M, n)
    assert np.isfinite(P).all() and (P >= 0).all() and (P <= 1).all()


@settings(max_examples=40, deadline=None)
@given(label_matrices, st.randoms(use_true_random=False))
def test_permuting_labels_permutes_statistics(Y, rnd):
    perm = list(range(Y.shape[1]))
    rnd.shuffle(perm)
    n, M = cooccurrence_counts(Y)
    n2, M2 = cooccurrence_counts(Y[:, perm])
    assert n2.tolist() == n[perm].tolist()
    assert (M2.toarray() == M.toarray()[np.ix_(perm, perm)]).all()
