"""The association kinds at scale: ``build --kind ppmi,npmi,jaccard,exclusive --top-k 10`` on C = 20,000 labels.

Claim checked (SPEC §2.7–2.8: "sparse all the way"): on a synthetic statistics file
with C = 20,000 labels (Zipf-distributed label frequencies, ~3 labels a sample,
1,000,000 samples, so ``M`` is sparse) the whole ``labelgraph build`` command
finishes in < 30 s with < 2 GB peak memory.

For comparison, the same four kinds computed the dense way (numpy over C × C
arrays, then a dense top-k) at C = 2,000 — what a dense implementation can still
do — and labelgraph's sparse path on the same C = 2,000 statistics; the ratios are
printed.  Both paths' results are checked equal at C = 2,000.

Run from the project root::

    .venv/bin/python benchmarks/bench_kinds.py

The last line printed is a JSON object with every figure.
"""
from __future__ import annotations

import json
import platform
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import measure  # noqa: E402

from labelgraph import Artifact  # noqa: E402
from labelgraph.assemble import build_graph  # noqa: E402
from labelgraph.stats import cooccurrence_counts  # noqa: E402

KINDS = ("ppmi", "npmi", "jaccard", "exclusive")


def synthetic_statistics(c: int, samples: int, seed: int = 0) -> Artifact:
    """Zipf(1.1) label frequencies, 1 + Poisson(2) labels a sample (duplicates collapse)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, c + 1) ** 1.1
    weights /= weights.sum()
    per_sample = 1 + rng.poisson(2.0, size=samples)
    cols = rng.choice(c, size=int(per_sample.sum()), p=weights)
    indptr = np.concatenate([[0], np.cumsum(per_sample)])
    Y = sp.csr_matrix((np.ones(cols.size, dtype=np.int8), cols, indptr), shape=(samples, c))
    n, M = cooccurrence_counts(Y)
    return Artifact.statistics([f"label{i:05d}" for i in range(c)], n, M, samples)


def dense_kinds(stats: Artifact, k: int) -> dict[str, np.ndarray]:
    """The four kinds over dense C × C arrays, then a dense top-k (ties: lower index)."""
    M = stats.matrix.toarray().astype(np.float64)
    n = stats.n.astype(np.float64)
    N = float(stats.num_samples)
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.where(M > 0, np.log(N * M / np.outer(n, n)), 0.0)
        out["ppmi"] = np.maximum(pmi, 0.0)
        denom = -np.log(np.where(M > 0, M / N, 1.0))
        out["npmi"] = np.where(M > 0, np.clip(np.where(denom > 0, pmi / denom, 1.0), 0, 1), 0.0)
        out["jaccard"] = np.where(M > 0, M / (n[:, None] + n[None, :] - M), 0.0)
    out["exclusive"] = ((M == 0) & (np.outer(n, n) / N >= 5)).astype(np.float64)
    for X in out.values():
        np.fill_diagonal(X, 0.0)
    for name, X in out.items():
        order = np.lexsort((np.broadcast_to(np.arange(X.shape[1]), X.shape), -X), axis=1)[:, :k]
        kept = np.zeros_like(X)
        rows = np.arange(X.shape[0])[:, None]
        kept[rows, order] = X[rows, order]
        out[name] = kept
    return out


def timed(func):
    tracemalloc.start()
    start = time.perf_counter()
    result = func()
    wall = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, wall, peak


def main() -> None:
    figures: dict[str, object] = {"machine": f"{platform.machine()}, {platform.python_version()}"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        big = synthetic_statistics(20_000, 1_000_000)
        big_path = big.save(tmp_path / "zipf20k_statistics.npz")
        figures["C"] = big.num_labels
        figures["M_nnz"] = int(big.matrix.nnz)
        argv = [sys.executable, "-m", "labelgraph_cli.main", "build", "--stats", str(big_path), "--kind",
                ",".join(KINDS), "--top-k", "10", "--out", str(tmp_path / "out"), "--quiet"]
        wall, peak = measure(argv)
        figures.update(build_20k_s=round(wall, 2), build_20k_peak_mib=round(peak, 1),
                       goal="< 30 s, < 2048 MiB", meets_goal=bool(wall < 30 and peak < 2048))
        print(f"C = 20,000, nnz(M) = {big.matrix.nnz:,}: build --kind {','.join(KINDS)} --top-k 10 "
              f"{wall:.2f} s, peak {peak:.0f} MiB (goal < 30 s, < 2048 MiB)")

        small = synthetic_statistics(2_000, 100_000, seed=1)
        dense, dense_s, dense_mib = timed(lambda: dense_kinds(small, 10))
        sparse, sparse_s, sparse_mib = timed(lambda: {k: build_graph(small, k, raw=True, top_k=10) for k in KINDS})
        for k in KINDS:
            np.testing.assert_allclose(sparse[k].to_dense(), dense[k], rtol=1e-6, atol=1e-7)
        figures.update(dense_2k_s=round(dense_s, 3), dense_2k_peak_mib=round(dense_mib, 1),
                       sparse_2k_s=round(sparse_s, 3), sparse_2k_peak_mib=round(sparse_mib, 1),
                       speedup_2k=round(dense_s / sparse_s, 2), memory_ratio_2k=round(dense_mib / sparse_mib, 2))
        print(f"C = 2,000: dense numpy {dense_s:.2f} s / {dense_mib:.0f} MiB (traced), "
              f"labelgraph {sparse_s:.2f} s / {sparse_mib:.0f} MiB: {dense_s / sparse_s:.1f}x faster, "
              f"{dense_mib / sparse_mib:.1f}x less memory (same matrices)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
