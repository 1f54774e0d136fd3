"""Every graph kind at C = 20,000 labels: ``labelgraph build`` vs a ~40-line scipy prototype (issue 13).

Claim checked (SPEC §6: "every graph stays sparse"): from a synthetic statistics file
with C = 20,000 labels (Zipf(1.1) label frequencies, 1 + Poisson(7) labels a sample,
so about 8 labels a sample as in Open Images), ``labelgraph build --kind K`` of every
kind (the ML-GCN family, the association kinds, ``ks`` with a synthetic sparse
knowledge graph, the baselines) finishes in < 10 s with < 1.5 GB peak RSS, each kind
one whole command (import, load, build, save).  The baseline is the prototype below,
run the same way (its own process, the same statistics file, the same output format):
the ratios are printed.  Then the same at C = 2,000 with ``--dense`` vs ``--sparse``.

Run from the project root (``--samples`` sets N; the issue's size is 9,000,000)::

    .venv/bin/python benchmarks/bench_sparse_build.py --samples 1000000

The last line printed is a JSON object with every figure.
"""
from __future__ import annotations

import argparse
import io
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import measure  # noqa: E402

KINDS = ("probability", "binary", "reweighted", "mlgcn", "ppmi", "npmi", "jaccard", "exclusive", "ks",
         "identity", "shuffled", "random")
PROTOTYPE_KINDS = ("probability", "binary", "reweighted", "mlgcn", "ppmi", "jaccard")


def prototype(stats_path: str, kind: str, out: str) -> None:
    """The ~40-line scipy prototype: P, B, A', mlgcn, ppmi, jaccard straight from the CSR arrays."""
    z = np.load(stats_path, allow_pickle=False)
    c = int(z["shape"][0])
    M = sp.csr_matrix((z["data"].astype(np.float64), z["indices"], z["indptr"]), shape=(c, c))
    n, N = z["n"].astype(np.float64), float(z["num_samples"])
    rows = np.repeat(np.arange(c), np.diff(M.indptr))
    eye = sp.identity(c, format="csr")

    def norm(A: sp.csr_matrix) -> sp.csr_matrix:
        d = np.asarray(A.sum(axis=1)).ravel()
        d = np.divide(1.0, np.sqrt(d), out=np.zeros_like(d), where=d > 0)
        return sp.csr_matrix(sp.diags(d) @ A @ sp.diags(d))

    P = M.copy()
    P.data /= np.where(n > 0, n, 1.0)[rows]
    B = P.copy()
    B.data = (B.data >= 0.4).astype(np.float64)
    B.eliminate_zeros()
    if kind == "probability":
        G = P
    elif kind == "binary":
        G = norm(B + eye)
    elif kind == "reweighted":
        r = np.asarray(B.sum(axis=1)).ravel()
        G = norm(sp.diags(np.divide(0.2, r, out=np.zeros_like(r), where=r > 0)) @ B + 0.8 * eye)
    elif kind == "mlgcn":
        R = B @ sp.diags(0.25 / (np.asarray(B.sum(axis=0)).ravel() + 1e-6))
        A = sp.csr_matrix(R + eye)
        d = np.asarray(A.sum(axis=1)).ravel() ** -0.5
        G = sp.csr_matrix(sp.diags(d) @ A.T @ sp.diags(d))
    elif kind == "ppmi":
        X = M.copy()
        X.data = np.maximum(np.log(N * M.data / (n[rows] * n[M.indices])), 0.0)
        X.eliminate_zeros()
        G = norm(X + eye)
    else:  # jaccard
        X = M.copy()
        X.data = M.data / (n[rows] + n[M.indices] - M.data)
        G = norm(X + eye)
    G = sp.csr_matrix(G, dtype=np.float32)
    G.sort_indices()
    sp.save_npz(out, G, compressed=True)


def synthetic_statistics(c: int, samples: int, seed: int = 0):
    """Zipf(1.1) label frequencies, 1 + Poisson(7) labels a sample (duplicates collapse), built in chunks."""
    from labelgraph import Artifact
    from labelgraph.stats import cooccurrence_counts

    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, c + 1) ** 1.1
    weights /= weights.sum()
    n_total, M_total = np.zeros(c, dtype=np.int64), sp.csr_matrix((c, c), dtype=np.int64)
    for start in range(0, samples, 500_000):
        size = min(500_000, samples - start)
        per_sample = 1 + rng.poisson(7.0, size=size)
        cols = rng.choice(c, size=int(per_sample.sum()), p=weights)
        indptr = np.concatenate([[0], np.cumsum(per_sample)])
        n, M = cooccurrence_counts(sp.csr_matrix((np.ones(cols.size, dtype=np.int8), cols, indptr), shape=(size, c)))
        n_total += n
        M_total = M_total + M
    return Artifact.statistics([f"label{i:05d}" for i in range(c)], n_total, M_total, samples)


def knowledge_artifact(labels, seed: int = 0):
    """A synthetic symmetric A_K with about 10 neighbours a label, weights in (0, 1]."""
    from labelgraph import Artifact

    c = len(labels)
    rng = np.random.default_rng(seed)
    K = sp.triu(sp.random(c, c, density=5 / c, random_state=rng, format="csr"), k=1)
    return Artifact.graph("knowledge", labels, K + K.T, {"source": "synthetic"})


def saving(art, name: str) -> dict[str, dict[str, float]]:
    """Time and size of one artifact's .npz: np.savez_compressed (level 6), np.savez (stored), zlib level 1 and 6
    in one stream (zipfile), and level 1 in 4 MiB blocks on threads (labelgraph._npz.zip_npz, what saving uses)."""
    from labelgraph._npz import zip_npz
    from labelgraph.artifact import npz_bytes

    arrays = art._arrays()
    writers = {"savez_compressed": lambda: _numpy_npz(np.savez_compressed, arrays),
               "savez": lambda: _numpy_npz(np.savez, arrays),
               "level 1": lambda: npz_bytes(arrays, 1), "level 6": lambda: npz_bytes(arrays, 6),
               "level 1, threads": lambda: zip_npz(arrays, 1)}
    raw = sum(a.nbytes for a in arrays.values())
    out = {}
    for label, write in writers.items():
        start = time.perf_counter()
        size = len(write())
        out[label] = {"s": round(time.perf_counter() - start, 2), "mib": round(size / 2**20, 1)}
        print(f"  save {name:10s} {label:17s} {out[label]['s']:6.2f} s {out[label]['mib']:7.1f} MiB "
              f"(arrays {raw / 2**20:.1f} MiB)", flush=True)
    return out


def _numpy_npz(save, arrays) -> bytes:
    buffer = io.BytesIO()
    save(buffer, **arrays)
    return buffer.getvalue()


def build_argv(stats_path: Path, knowledge_path: Path, kind: str, out: Path, *extra: str) -> list[str]:
    argv = [sys.executable, "-m", "labelgraph_cli.main", "build", "--stats", str(stats_path), "--kind", kind,
            "--out", str(out), "--quiet", "--force", *extra]
    return argv + (["--knowledge", str(knowledge_path)] if kind == "ks" else [])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--prototype", nargs=3, metavar=("STATS", "KIND", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prototype:
        prototype(*args.prototype)
        return
    figures: dict[str, object] = {"machine": f"{platform.machine()}, Python {platform.python_version()}",
                                  "samples": args.samples, "kinds": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        for c, samples in ((20_000, args.samples), (2_000, max(args.samples // 10, 10_000))):
            stats = synthetic_statistics(c, samples)
            stats_path = stats.save(tmp_path / f"zipf{c}_statistics.npz")
            knowledge_path = knowledge_artifact(stats.labels).save(tmp_path / f"zipf{c}_knowledge.npz")
            print(f"C = {c:,}, N = {samples:,}, nnz(M) = {stats.matrix.nnz:,}")
            figures[f"M_nnz_{c}"] = int(stats.matrix.nnz)
            if c == 20_000:
                from labelgraph.assemble import build_graph

                figures["saving"] = {"statistics": saving(stats, "statistics"),
                                     "ppmi": saving(build_graph(stats, "ppmi"), "ppmi graph")}
            del stats
            for kind in KINDS:
                if c == 20_000:
                    wall, peak = measure(build_argv(stats_path, knowledge_path, kind, tmp_path / "out"))
                    row = {"s": round(wall, 2), "peak_mib": round(peak, 1), "meets_goal": wall < 10 and peak < 1536}
                    line = f"  {kind:12s} labelgraph {wall:6.2f} s {peak:7.0f} MiB"
                    if kind in PROTOTYPE_KINDS:
                        p_wall, p_peak = measure([sys.executable, __file__, "--prototype", str(stats_path), kind,
                                                  str(tmp_path / "proto.npz")])
                        row.update(prototype_s=round(p_wall, 2), prototype_peak_mib=round(p_peak, 1),
                                   time_ratio=round(wall / p_wall, 2), memory_ratio=round(peak / p_peak, 2))
                        line += (f" | prototype {p_wall:6.2f} s {p_peak:7.0f} MiB | ratio {wall / p_wall:.2f}x time, "
                                 f"{peak / p_peak:.2f}x memory")
                    figures["kinds"][kind] = row
                    print(line, flush=True)
                elif kind in ("binary", "reweighted", "mlgcn", "ks", "probability"):
                    d_wall, d_peak = measure(build_argv(stats_path, knowledge_path, kind, tmp_path / "d", "--dense"))
                    s_wall, s_peak = measure(build_argv(stats_path, knowledge_path, kind, tmp_path / "s", "--sparse"))
                    figures["kinds"][f"{kind}_2000"] = {"dense_s": round(d_wall, 2), "dense_peak_mib": round(d_peak, 1),
                                                        "sparse_s": round(s_wall, 2), "sparse_peak_mib": round(s_peak, 1)}
                    print(f"  {kind:12s} --dense {d_wall:6.2f} s {d_peak:6.0f} MiB | --sparse {s_wall:6.2f} s "
                          f"{s_peak:6.0f} MiB", flush=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
