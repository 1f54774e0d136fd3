"""Label statistics: labelgraph.stats.cooccurrence_counts vs ML-GCN's per-sample Python loop.

Claims checked (issue 3):

1. At COCO train size (82,081 images × 80 labels, the real label lists in
   ``../shared/data/coco2014/clipes/train.txt``) labelgraph is >= 50x faster than
   ML-GCN's way, a Python loop adding every label pair of every sample into a dense
   numpy matrix; both give the same ``n`` and ``M``.  Timed twice: from the label
   lists (building the CSR included) and from a CSR already built (counts alone).
2. 5,000,000 samples × 10,000 labels (synthetic; Zipf-distributed labels, ~3 per
   sample) in < 60 s and < 4 GB peak memory.  The label matrix is generated with
   numpy in one child process and written to a temporary folder; the counts run in
   a second, fresh child whose peak RSS is read from its own rusage (``os.wait4``)
   and from ``resource.getrusage(RUSAGE_CHILDREN)``.

Run from the project root::

    .venv/bin/python benchmarks/bench_stats.py            # both parts
    .venv/bin/python benchmarks/bench_stats.py --skip-large

The last line printed is a JSON object with every figure.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CLIPES = Path(os.environ.get("LABELGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data")) / "coco2014" / "clipes"

from labelgraph.stats import cooccurrence_counts  # noqa: E402


# -- ML-GCN's way ------------------------------------------------------------------------------------------------

def mlgcn_counts(samples: list[list[int]], num_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """The reference: per sample, per label pair, ``adj[i, j] += 1``; per label ``nums[i] += 1``."""
    adj = np.zeros((num_labels, num_labels), dtype=np.int64)
    nums = np.zeros(num_labels, dtype=np.int64)
    for labels in samples:
        n = len(labels)
        for a in range(n):
            i = labels[a]
            nums[i] += 1
            for b in range(n):
                if a != b:
                    adj[i, labels[b]] += 1
    return nums, adj


# -- labelgraph's way --------------------------------------------------------------------------------------------

def lists_to_csr(samples: list[list[int]], num_labels: int) -> sp.csr_matrix:
    """Label lists → a 0/1 CSR matrix, without a Python loop over label pairs."""
    lengths = np.fromiter(map(len, samples), dtype=np.int64, count=len(samples))
    indptr = np.zeros(len(samples) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.array(list(itertools.chain.from_iterable(samples)), dtype=np.int32)
    return sp.csr_matrix((np.ones(len(indices), dtype=np.int8), indices, indptr), shape=(len(samples), num_labels))


def read_clipes(path: Path) -> list[list[int]]:
    samples = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if parts:
                samples.append([int(x) for x in parts[1:]])
    return samples


def timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, times


def bench_coco(repeat_fast: int, repeat_slow: int) -> dict:
    train = CLIPES / "train.txt"
    if not train.exists():
        print(f"skipping the COCO part: {train} not found")
        return {"skipped": str(train)}
    samples = read_clipes(train)
    C = 80
    nnz = sum(len(s) for s in samples)
    print(f"COCO train (clipes): {len(samples):,} samples × {C} labels, {nnz:,} labels in all")

    (nums, adj), t_ref = timed(lambda: mlgcn_counts(samples, C), repeat_slow)
    (n1, M1), t_lists = timed(lambda: cooccurrence_counts(lists_to_csr(samples, C)), repeat_fast)
    Y = lists_to_csr(samples, C)
    (n2, M2), t_counts = timed(lambda: cooccurrence_counts(Y), repeat_fast)

    same = bool(np.array_equal(n1, nums) and np.array_equal(M1.toarray(), adj)
                and np.array_equal(n2, nums) and np.array_equal(M2.toarray(), adj))
    ref, lists, counts = median(t_ref), median(t_lists), median(t_counts)
    print(f"  ML-GCN loop (dense numpy, Python loop) : {ref * 1e3:9.1f} ms  (median of {repeat_slow})")
    print(f"  labelgraph, label lists → CSR → counts : {lists * 1e3:9.1f} ms  ({ref / lists:7.1f}x faster)")
    print(f"  labelgraph, counts from a built CSR    : {counts * 1e3:9.1f} ms  ({ref / counts:7.1f}x faster)")
    print(f"  identical n and M: {same}")
    return {"samples": len(samples), "labels": C, "nnz": nnz,
            "mlgcn_loop_s": ref, "labelgraph_from_lists_s": lists, "labelgraph_counts_only_s": counts,
            "speedup_from_lists": ref / lists, "speedup_counts_only": ref / counts,
            "identical": same, "target_speedup": 50.0,
            "meets_target": bool(same and ref / lists >= 50.0)}


# -- 5M × 10k ----------------------------------------------------------------------------------------------------

def generate(folder: Path, n: int, c: int, mean_labels: float, zipf_s: float, seed: int) -> None:
    """A deduplicated 0/1 CSR matrix straight from numpy: k ~ 1 + Poisson(mean - 1) labels, Zipf(s) over labels."""
    rng = np.random.default_rng(seed)
    k = 1 + rng.poisson(mean_labels - 1.0, size=n).astype(np.int64)
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    p = 1.0 / np.arange(1, c + 1, dtype=np.float64) ** zipf_s
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    cols = np.searchsorted(cdf, rng.random(rows.size)).astype(np.int64)
    key = np.unique(rows * c + cols)  # sorted by row then label; duplicates on one sample dropped
    del rows, cols
    indices = (key % c).astype(np.int32)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(key // c, minlength=n), out=indptr[1:])
    np.save(folder / "indices.npy", indices)
    np.save(folder / "indptr.npy", indptr)
    json.dump({"n": n, "c": c}, open(folder / "shape.json", "w"))


def compute(folder: Path) -> None:
    shape = json.load(open(folder / "shape.json"))
    indices = np.load(folder / "indices.npy")
    indptr = np.load(folder / "indptr.npy")
    Y = sp.csr_matrix((np.ones(indices.size, dtype=np.int8), indices, indptr), shape=(shape["n"], shape["c"]))
    t0 = time.perf_counter()
    n, M = cooccurrence_counts(Y)
    elapsed = time.perf_counter() - t0
    # a cheap independent check: sum_j M_ij = sum over samples holding i of (k - 1)
    k = np.diff(indptr)
    rowsum = np.bincount(indices, weights=np.repeat(k - 1, k), minlength=shape["c"]).astype(np.int64)
    ok = bool(np.array_equal(np.asarray(M.sum(axis=1)).ravel(), rowsum)
              and np.array_equal(n, np.bincount(indices, minlength=shape["c"])))
    print(json.dumps({"seconds": elapsed, "nnz_Y": int(indices.size), "nnz_M": int(M.nnz), "check": ok}))


def run_child(args: list[str]) -> tuple[str, float, float]:
    """Run this script as a child; return (stdout, wall seconds, peak RSS in MiB from its own rusage)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed with exit code {proc.returncode}")
    return out, wall, usage.ru_maxrss / 1024  # Linux: KiB


def bench_large(n: int, c: int, mean_labels: float, zipf_s: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="lg-bench-") as tmp:
        _, gen_wall, gen_rss = run_child(["--child-generate", tmp, str(n), str(c), str(mean_labels), str(zipf_s)])
        out, wall, rss = run_child(["--child-compute", tmp])
    result = json.loads(out.strip().splitlines()[-1])
    all_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"synthetic: {n:,} samples × {c:,} labels (Zipf s={zipf_s}, mean {mean_labels} labels), "
          f"{result['nnz_Y']:,} labels in all; generated in {gen_wall:.1f} s (child peak {gen_rss:,.0f} MiB)")
    print(f"  cooccurrence_counts: {result['seconds']:.1f} s (target < 60 s); M has {result['nnz_M']:,} non-zeros")
    print(f"  compute child: wall {wall:.1f} s (incl. start and loading), peak RSS {rss:,.0f} MiB (target < 4096 MiB)")
    print(f"  RUSAGE_CHILDREN max RSS over both children: {all_children:,.0f} MiB; row-sum check: {result['check']}")
    return {"samples": n, "labels": c, "nnz": result["nnz_Y"], "nnz_M": result["nnz_M"],
            "counts_s": result["seconds"], "child_wall_s": wall, "peak_rss_mib": rss,
            "generate_s": gen_wall, "generate_peak_rss_mib": gen_rss, "rusage_children_max_mib": all_children,
            "check": result["check"],
            "meets_target": bool(result["check"] and result["seconds"] < 60 and rss < 4096)}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child-generate":
        folder, n, c, mean, s = sys.argv[2:7]
        generate(Path(folder), int(n), int(c), float(mean), float(s), seed=0)
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--child-compute":
        compute(Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of the fast variants (median reported)")
    parser.add_argument("--repeat-slow", type=int, default=3, help="runs of the ML-GCN loop")
    parser.add_argument("--samples", type=int, default=5_000_000)
    parser.add_argument("--labels", type=int, default=10_000)
    parser.add_argument("--mean-labels", type=float, default=3.0)
    parser.add_argument("--zipf", type=float, default=1.0, help="Zipf exponent s: P(label r) ∝ 1/r^s")
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}, scipy {__import__('scipy').__version__}")
    figures = {"benchmark": "stats", "coco": bench_coco(args.repeat, args.repeat_slow)}
    if not args.skip_large:
        figures["large"] = bench_large(args.samples, args.labels, args.mean_labels, args.zipf)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
