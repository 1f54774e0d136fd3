"""Claim: a sweep of 100 KS settings at C = 600 labels takes < 10 s on 2 cores, and beats building each graph.

Baseline (the obvious way): for every setting, call the build path
``ks_artifact(stats, knowledge, ...)`` and measure the artifact with
``graph_measures`` — P and both normalizations are recomputed each time.
The sweep normalizes Â_S and Â_K once, blends once per λ, thresholds once per
(λ, τ), and per setting only applies η, the final normalization and the measures.
Both runs compute the same rows (checked below); the ratio is printed.

Usage::

    python benchmarks/bench_sweep.py [--labels 600] [--embeddings 0] [--repeat 1] [--threads 2]

``--threads`` sets the BLAS/LAPACK threads (OMP/OpenBLAS/MKL) before numpy is
imported.  On a machine whose cores are busy with other work, 1 thread is much
faster than 2 (spinning BLAS threads fight for the cores).
"""
from __future__ import annotations

import argparse
import os
import sys

_early = argparse.ArgumentParser(add_help=False)
_early.add_argument("--threads", type=int, default=2)
_THREADS = _early.parse_known_args(sys.argv[1:])[0].threads
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(_THREADS)

import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from labelgraph import Artifact  # noqa: E402
from labelgraph.assemble import ks_artifact  # noqa: E402
from labelgraph.inspect.sweep import graph_measures, sweep  # noqa: E402

LAMS = "0.1:1.0:0.1"
TAUS = "0.001:0.01:0.001"
ETA = "0.4"


def synthetic(c: int, seed: int = 0) -> tuple[Artifact, Artifact, Artifact]:
    """Statistics from 20,000 random samples (label frequencies 0.2 %–10 %), a sparse knowledge graph, embeddings."""
    rng = np.random.default_rng(seed)
    freq = rng.uniform(0.002, 0.1, size=c)
    Y = sp.csr_matrix((rng.random((20_000, c)) < freq).astype(np.int32))
    n = np.asarray(Y.sum(axis=0)).ravel()
    M = (Y.T @ Y).tocsr()
    M.setdiag(0)
    M.eliminate_zeros()
    labels = [f"label{i:04d}" for i in range(c)]
    stats = Artifact.statistics(labels, n, M, 20_000, {"dataset": "synthetic"})
    K = sp.random(c, c, density=0.05, random_state=seed, format="csr")
    K = K.maximum(K.T).tolil()
    K.setdiag(0)
    knowledge = Artifact.graph("knowledge", labels, K.tocsr())
    emb = Artifact.embeddings(labels, rng.normal(size=(c, 300)))
    return stats, knowledge, emb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=600)
    parser.add_argument("--embeddings", type=int, choices=(0, 1), default=0,
                        help="also compute the over-smoothing indicator with 300-d embeddings")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="BLAS/LAPACK threads")
    parser.add_argument("--cli-settings", type=int, default=5,
                        help="settings timed as one `labelgraph build --kind ks` process each (0: skip)")
    args = parser.parse_args()
    stats, knowledge, emb = synthetic(args.labels)
    E = emb if args.embeddings else None
    print(f"C = {args.labels}, grid lam {LAMS} x tau {TAUS} x eta {ETA}, embeddings: {bool(E)}; "
          f"{platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}, "
          f"BLAS threads {_THREADS}")
    best_sweep = best_base = best_build = best_measure = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = sweep(stats, "ks", knowledge=knowledge, lam=LAMS, tau=TAUS, eta=ETA, embeddings=E)
        best_sweep = min(best_sweep, time.perf_counter() - t0)
        t0 = time.perf_counter()
        base_rows = []
        build = measure = 0.0
        for row in result.rows:
            t1 = time.perf_counter()
            art = ks_artifact(stats, knowledge, lam=row["lam"], tau=row["tau"], eta=row["eta"])
            t2 = time.perf_counter()
            base_rows.append(graph_measures(art.matrix, None if E is None else E.vectors))
            build += t2 - t1
            measure += time.perf_counter() - t2
        best_base = min(best_base, time.perf_counter() - t0)
        best_build, best_measure = min(best_build, build), min(best_measure, measure)
    assert len(result.rows) == 100
    for row, base in zip(result.rows, base_rows):
        assert row["edges"] == base["edges"] and row["components"] == base["components"]
        assert abs(row["spectral_gap"] - base["spectral_gap"]) < 1e-5
    edges = [r["edges"] for r in result.rows]
    print(f"edges per setting: {min(edges)}..{max(edges)}")
    print(f"sweep (vectorized):          {best_sweep:7.2f} s for 100 settings ({best_sweep * 10:.1f} ms/setting)")
    print(f"ks_artifact + measures each: {best_base:7.2f} s "
          f"(building {best_build:.2f} s, measuring {best_measure:.2f} s)")
    print(f"ratio baseline / sweep:      {best_base / best_sweep:7.2f}x")
    if args.cli_settings:
        per_build = cli_build_seconds(stats, knowledge, result.rows[: args.cli_settings])
        print(f"`labelgraph build` per setting: {per_build:7.2f} s each (mean of {args.cli_settings} processes) "
              f"→ {per_build * 100:.1f} s for 100")
        print(f"ratio CLI builds / sweep:    {per_build * 100 / best_sweep:7.1f}x")
    print(f"claim < 10 s: {'PASS' if best_sweep < 10 else 'FAIL'}")


def cli_build_seconds(stats: Artifact, knowledge: Artifact, rows: list[dict]) -> float:
    """Mean wall time of one `labelgraph build --kind ks` process per setting (what a shell loop would do)."""
    script = shutil.which("labelgraph", path=os.path.dirname(sys.executable)) or "labelgraph"
    with tempfile.TemporaryDirectory() as tmp:
        stats_file = stats.save(Path(tmp) / "s_statistics.npz")
        knowledge_file = knowledge.save(Path(tmp) / "k.npz")
        t0 = time.perf_counter()
        for i, row in enumerate(rows):
            subprocess.run([script, "build", "--stats", str(stats_file), "--knowledge", str(knowledge_file),
                            "--kind", "ks", "--lam", str(row["lam"]), "--tau", str(row["tau"]),
                            "--eta", str(row["eta"]), "--out", str(Path(tmp) / f"out{i}"), "--quiet"],
                           check=True, capture_output=True)
        return (time.perf_counter() - t0) / len(rows)


if __name__ == "__main__":
    main()
