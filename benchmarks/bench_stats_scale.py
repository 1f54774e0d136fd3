"""Web-scale label statistics (issue 13): `labelgraph stats` on an Open-Images-like CSV and the same data as
Parquet shards, vs the plain pyarrow + scipy script (`_baseline_arrow_stats.py`), in the same run.

Data: N samples over C = 20,000 labels with MID-like names (``/m/0xxxxx``), label frequencies Zipf
(p_k ∝ 1/k), 1 + Poisson(7) draws a sample (about 8 distinct labels), generated with numpy and
written with pyarrow: one ``sample,labels`` CSV (``;``-separated) and Parquet shards of N/8 rows
(row groups of 65,536 rows).  Every command runs as a fresh subprocess under ``/usr/bin/time``
(peak RSS of its largest process) while psutil samples the RSS summed over its process tree
every 50 ms (workers included).  labelgraph's ``n`` and ``M`` are checked, label by label, against the
baseline's before any figure is printed.

Also: ``Yᵀ Y`` of one 1,000,000-row chunk on one thread vs its rows split over two threads (scipy's
sparse product releases the GIL), the same integers.

Run from the project root (the sizes in millions of samples)::

    .venv/bin/python benchmarks/bench_stats_scale.py --sizes 1,3 [--no-dask] [--no-csv] [--keep DIR]

The last line printed is a JSON object with every figure.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BASELINE = Path(__file__).with_name("_baseline_arrow_stats.py")


# -- data ----------------------------------------------------------------------------------------------------------

def mid_names(count: int, rng: np.random.Generator) -> list[str]:
    alphabet = np.array(list("0123456789abcdefghijklmnopqrstuvwxyz_"))
    names: set[str] = set()
    while len(names) < count:
        for row in rng.integers(0, len(alphabet), size=(count, 5)):
            names.add("/m/0" + "".join(alphabet[row]))
    return sorted(names)[:count]


def generate(folder: Path, samples: int, labels: int = 20000, mean: float = 8.0, seed: int = 13) -> dict:
    """Write ``data.csv`` and ``shards/part-*.parquet`` holding the same samples; return what was written."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    names = pa.array(mid_names(labels, rng))
    cdf = np.cumsum(1.0 / np.arange(1, labels + 1))
    cdf /= cdf[-1]
    shard_rows = max(1, -(-samples // 8))
    (folder / "shards").mkdir(parents=True, exist_ok=True)
    schema = pa.schema([("sample", pa.string()), ("labels", pa.string())])
    instances = 0
    with pcsv.CSVWriter(folder / "data.csv", schema) as csv:
        for i, start in enumerate(range(0, samples, shard_rows)):
            rows = min(shard_rows, samples - start)
            k = 1 + rng.poisson(mean - 1, rows)
            codes = np.minimum(np.searchsorted(cdf, rng.random(int(k.sum()))), labels - 1)
            key = np.unique(np.repeat(np.arange(rows, dtype=np.int64), k) * labels + codes)
            row, codes = key // labels, key % labels
            offsets = np.zeros(rows + 1, dtype=np.int32)
            np.cumsum(np.bincount(row, minlength=rows), out=offsets[1:])
            lists = pa.ListArray.from_arrays(pa.array(offsets), names.take(pa.array(codes.astype(np.int32))))
            ids = pa.array(np.arange(start, start + rows)).cast(pa.string())
            pq.write_table(pa.table({"sample": ids, "labels": lists}), folder / "shards" / f"part-{i:05d}.parquet",
                           row_group_size=1 << 16)
            csv.write_table(pa.table({"sample": ids, "labels": pc.binary_join(lists, ";")}, schema=schema))
            instances += len(codes)
    return {"samples": samples, "labels": labels, "label_instances": instances,
            "csv_mb": round((folder / "data.csv").stat().st_size / 2**20, 1),
            "parquet_mb": round(sum(p.stat().st_size for p in (folder / "shards").iterdir()) / 2**20, 1),
            "shards": len(list((folder / "shards").iterdir()))}


# -- measuring ----------------------------------------------------------------------------------------------------

def measure(argv: list[str]) -> dict:
    """Wall seconds, peak RSS of the largest process (MiB) and peak RSS summed over the process tree (MiB)."""
    import psutil

    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        start = time.perf_counter()
        proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", report.name, *argv],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        tree_peak = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal tree_peak
            root = psutil.Process(proc.pid)
            while not stop.is_set():
                try:
                    procs = [root, *root.children(recursive=True)]
                    total = 0
                    for p in procs:
                        try:
                            total += p.memory_info().rss
                        except psutil.Error:
                            pass
                    tree_peak = max(tree_peak, total)
                except psutil.Error:
                    return
                stop.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out, err = proc.communicate()
        wall = time.perf_counter() - start
        stop.set()
        sampler.join()
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv[:6])} failed ({proc.returncode}): {err.decode()[-3000:]}")
        peak_kib = int(report.read().strip().splitlines()[-1])
    return {"seconds": round(wall, 2), "peak_mib": round(peak_kib / 1024), "tree_peak_mib": round(tree_peak / 2**20)}


def labelgraph_stats(source: str, out: Path, *extra: str) -> list[str]:
    dataset = ["--dataset", "parquet", "--column", "labels"] if source.endswith(".parquet") else ["--dataset", "csv"]
    return [str(BIN / "labelgraph"), "stats", *dataset, "--annotations", source, "--out", str(out),
            "--name", "bench", "--force", "--quiet", *extra]


def same_counts(artifact: Path, baseline: Path) -> None:
    """labelgraph's n and M equal the baseline's, label by label (the two order labels differently)."""
    sys.path.insert(0, str(ROOT))
    import labelgraph

    art = labelgraph.load(artifact)
    with np.load(baseline) as z:
        names = [str(x) for x in z["labels"]]
        n = z["n"]
        M = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=(len(n), len(n)))
        num = int(z["num_samples"])
    pos = {x: i for i, x in enumerate(art.labels)}
    idx = np.array([pos[x] for x in names])
    assert art.num_samples == num, (art.num_samples, num)
    assert np.array_equal(np.asarray(art.n)[idx], n)
    ours = sp.csr_matrix(art.matrix)[idx][:, idx]
    assert (ours != M).nnz == 0, "M differs from the baseline"


# -- the product on two threads ---------------------------------------------------------------------------------

def product_threads(rows: int = 1_000_000, labels: int = 20000, repeat: int = 3) -> dict:
    rng = np.random.default_rng(1)
    cdf = np.cumsum(1.0 / np.arange(1, labels + 1))
    cdf /= cdf[-1]
    k = 1 + rng.poisson(7, rows)
    codes = np.minimum(np.searchsorted(cdf, rng.random(int(k.sum()))), labels - 1)
    Y = sp.csr_matrix((np.ones(len(codes), dtype=np.int32), (np.repeat(np.arange(rows), k), codes)),
                      shape=(rows, labels))
    Y.sum_duplicates()
    Y.data[:] = 1

    def one(Ypart: sp.csr_matrix) -> sp.csr_matrix:
        return (Ypart.T @ Ypart).tocsr()

    def two(pool: ThreadPoolExecutor) -> sp.csr_matrix:
        half = rows // 2
        a, b = pool.map(one, [Y[:half], Y[half:]])
        return (a + b).tocsr()

    t1, t2 = [], []
    with ThreadPoolExecutor(2) as pool:
        for _ in range(repeat):
            start = time.perf_counter()
            M1 = one(Y)
            t1.append(time.perf_counter() - start)
            start = time.perf_counter()
            M2 = two(pool)
            t2.append(time.perf_counter() - start)
    assert (M1 != M2).nnz == 0
    return {"rows": rows, "one_thread_s": round(min(t1), 3), "two_threads_s": round(min(t2), 3),
            "speedup": round(min(t1) / min(t2), 2)}


# -- main ---------------------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,3", help="Samples, in millions, comma-separated (e.g. 1,3,9).")
    parser.add_argument("--labels", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--no-csv", action="store_true")
    parser.add_argument("--no-product", action="store_true")
    parser.add_argument("--keep", type=Path, help="Generate into this folder and keep it.")
    args = parser.parse_args()

    figures: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
                                f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB",
                     "python": platform.python_version(), "runs": []}
    for size in [float(x) for x in args.sizes.split(",")]:
        samples = int(size * 1_000_000)
        base = args.keep or Path(tempfile.mkdtemp(prefix="lg-scale-"))
        folder = base / f"n{samples}"
        start = time.perf_counter()
        done = folder / "generated.json"
        if done.exists():  # --keep: the same data again
            data = json.loads(done.read_text())
        else:
            data = generate(folder, samples, args.labels)
            data["generate_s"] = round(time.perf_counter() - start, 1)
            done.write_text(json.dumps(data))
        print(f"\n== N = {samples:,}, C = {args.labels:,}: {data}", flush=True)
        inputs = ([] if args.no_csv else [("csv", str(folder / "data.csv"))]) + \
            [("parquet", str(folder / "shards" / "*.parquet"))]
        for fmt, source in inputs:
            runs = {"baseline": [sys.executable, str(BASELINE), source, str(folder / "baseline.npz")],
                    "one process": labelgraph_stats(source, folder / "out"),
                    f"--workers {args.workers}": labelgraph_stats(source, folder / "out", "--workers",
                                                                  str(args.workers))}
            if fmt == "parquet" and not args.no_dask:
                runs[f"dask LocalCluster {args.workers}"] = labelgraph_stats(
                    source, folder / "out", "--engine", "dask", "--workers", str(args.workers))
            got = {}
            for label, argv in runs.items():
                shutil.rmtree(folder / "out", ignore_errors=True)  # every run writes its file (none is "unchanged")
                got[label] = measure(argv)
                if label != "baseline":
                    same_counts(folder / "out" / "bench_statistics.npz", folder / "baseline.npz")
                row = {"samples": samples, "format": fmt, "run": label, **got[label]}
                figures["runs"].append(row)
                ratio = got["baseline"]["seconds"] / got[label]["seconds"]
                print(f"{fmt:8} {label:22} {got[label]['seconds']:8.1f} s  peak {got[label]['peak_mib']:6} MiB "
                      f"(tree {got[label]['tree_peak_mib']:6} MiB)  baseline/this {ratio:5.2f}×", flush=True)
            one = got["one process"]["seconds"]
            for label in got:
                if label not in ("baseline", "one process"):
                    print(f"{fmt:8} one process / {label}: {one / got[label]['seconds']:.2f}×")
        figures.setdefault("data", []).append(data)
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    if not args.no_product:
        figures["product"] = product_threads(labels=args.labels)
        p = figures["product"]
        print(f"\nYᵀY of {p['rows']:,} rows: 1 thread {p['one_thread_s']} s, 2 threads {p['two_threads_s']} s "
              f"({p['speedup']}×)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
