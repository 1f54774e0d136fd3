"""Inspection at 2,000–20,000 labels, and the small things: BLAS threads on small products, ISA-L inflate.

Claims checked (issue 13), each against the old way run in this same script:

* ``labelgraph inspect`` of a statistics file: C = 2,000 in < 10 s; C = 20,000 works.
  Before: ``P`` densified (``Artifact.conditional_probability``) and then made sparse again.
* ``labelgraph export --to graphml`` at C = 2,000: peak memory O(nnz).  Before: networkx's
  graph and writer (what the export used).
* ``labelgraph plot`` at C = 5,000 in < 10 s.  Before: ``pdist`` for the cluster order
  (the order is checked equal).
* One BLAS thread for small dense products (over-smoothing, plot distances, the cosine
  graph) vs the library's default thread count, C = 80 and 300.
* ISA-L vs zlib inflating ``../shared/data/glove/glove.6B.50d.txt.gz`` for 5 labels.

Statistics are synthetic (Zipf(1.1) label frequencies, 1 + Poisson(2) labels a sample,
the generator of ``bench_kinds.py``).  Every command runs in its own process; wall time by
the parent, peak RSS by ``/usr/bin/time``.

Run from the project root::

    .venv/bin/python benchmarks/bench_inspect_scale.py            # about 3–5 minutes on 2 busy cores
    .venv/bin/python benchmarks/bench_inspect_scale.py --quick    # C = 600 / 1,000 / 2,000 only

The last line printed is a JSON object with every figure.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import zlib
from pathlib import Path
from statistics import median

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import measure  # noqa: E402
from bench_kinds import synthetic_statistics  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GLOVE = ROOT.parent / "shared" / "data" / "glove" / "glove.6B.50d.txt.gz"

# the old graph_matrix for a statistics file: P as a dense C × C array, then CSR
DENSE_P = ("import sys, scipy.sparse as sp\n"
           "import labelgraph.inspect.summary as s\n"
           "old = s.graph_matrix\n"
           "s.graph_matrix = lambda a: sp.csr_matrix(a.conditional_probability()) if a.kind == 'statistics' "
           "else old(a)\n"
           "from labelgraph_cli.main import cli\n"
           "sys.argv = ['labelgraph'] + sys.argv[1:]\n"
           "cli()\n")
NETWORKX_GRAPHML = ("import io, sys, networkx as nx\n"
                    "from labelgraph import load\n"
                    "a = load(sys.argv[1]); g = a.to_networkx(self_loops=True)\n"
                    "for i, x in enumerate(a.labels): g.nodes[x]['index'] = i\n"
                    "b = io.BytesIO(); nx.write_graphml(g, b); open(sys.argv[2], 'wb').write(b.getvalue())\n")
PDIST_PLOT = ("import sys, numpy as np\n"
              "import labelgraph.inspect.plot as p\n"
              "from scipy.cluster.hierarchy import leaves_list, linkage\n"
              "from scipy.spatial.distance import pdist\n"
              "def old(m):\n"
              "    A = m.toarray() if hasattr(m, 'toarray') else np.asarray(m, dtype=np.float64)\n"
              "    S = (A + A.T) / 2\n"
              "    return leaves_list(linkage(pdist(S, 'euclidean'), method='average')).astype(np.int64)\n"
              "p.cluster_order = old\n"
              "from labelgraph_cli.main import cli\n"
              "sys.argv = ['labelgraph'] + sys.argv[1:]\n"
              "cli()\n")


def lg(*args: object) -> list[str]:
    return [sys.executable, "-m", "labelgraph_cli.main", *map(str, args)]


def py(code: str, *args: object) -> list[str]:
    return [sys.executable, "-c", code, *map(str, args)]


def best_of(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return median(times)


def inspect_figures(tmp: Path, sizes: list[int], before_max: int, figures: dict) -> None:
    for c in sizes:
        stats = synthetic_statistics(c, max(100_000, 50 * c), seed=c)
        path = stats.save(tmp / f"s{c}.npz")
        now_s, now_mib = measure(lg("inspect", path))
        row = {"nnz_M": int(stats.matrix.nnz), "now_s": round(now_s, 2), "now_peak_mib": round(now_mib)}
        line = f"inspect statistics C = {c:,} (nnz {stats.matrix.nnz:,}): now {now_s:.2f} s / {now_mib:.0f} MiB"
        if c <= before_max:
            before_s, before_mib = measure(py(DENSE_P, "inspect", path))
            row.update(before_s=round(before_s, 2), before_peak_mib=round(before_mib),
                       speedup=round(before_s / now_s, 2), memory_ratio=round(before_mib / now_mib, 2))
            line += f"; dense P {before_s:.2f} s / {before_mib:.0f} MiB ({before_s / now_s:.1f}x, " \
                    f"{before_mib / now_mib:.1f}x less memory)"
        figures[f"inspect_{c}"] = row
        print(line)


def export_figures(tmp: Path, figures: dict) -> None:
    from labelgraph import build_graph

    stats = synthetic_statistics(2_000, 300_000, seed=2)
    graph = build_graph(stats, "probability")
    path = graph.save(tmp / "p2000.npz")
    now_s, now_mib = measure(lg("export", path, "--to", "graphml", "--out", tmp / "now.graphml"))
    before_s, before_mib = measure(py(NETWORKX_GRAPHML, path, tmp / "before.graphml"))
    same = (tmp / "now.graphml").read_bytes() == (tmp / "before.graphml").read_bytes()
    _, load_mib = measure(py("import sys; from labelgraph import load; load(sys.argv[1])", path))
    figures["export_graphml_2000"] = {"edges": int(graph.matrix.nnz), "now_s": round(now_s, 2),
                                      "now_peak_mib": round(now_mib), "networkx_s": round(before_s, 2),
                                      "networkx_peak_mib": round(before_mib), "load_only_peak_mib": round(load_mib),
                                      "same_bytes": same}
    print(f"export --to graphml C = 2,000 ({graph.matrix.nnz:,} entries): now {now_s:.2f} s / {now_mib:.0f} MiB, "
          f"networkx {before_s:.2f} s / {before_mib:.0f} MiB (loading the file alone: {load_mib:.0f} MiB); "
          f"same bytes: {same}")


def plot_figures(tmp: Path, c: int, figures: dict) -> None:
    from labelgraph import build_graph
    from labelgraph.inspect.plot import cluster_order

    stats = synthetic_statistics(c, 50 * c, seed=3)
    graph = build_graph(stats, "reweighted")
    path = graph.save(tmp / f"r{c}.npz")
    now_s, now_mib = measure(lg("plot", path, "--out", tmp / "now.png"))
    before_s, before_mib = measure(py(PDIST_PLOT, "plot", path, "--out", tmp / "before.png"))
    rng = np.random.default_rng(0)
    A = rng.random((1500, 1500)) * (rng.random((1500, 1500)) < 0.2)
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import pdist

    start = time.perf_counter()
    want = leaves_list(linkage(pdist((A + A.T) / 2, "euclidean"), method="average"))
    pdist_s = time.perf_counter() - start
    start = time.perf_counter()
    got = cluster_order(A)
    blas_s = time.perf_counter() - start
    figures[f"plot_{c}"] = {"now_s": round(now_s, 2), "now_peak_mib": round(now_mib), "pdist_s": round(before_s, 2),
                            "pdist_peak_mib": round(before_mib), "speedup": round(before_s / now_s, 2),
                            "order_1500_pdist_s": round(pdist_s, 2), "order_1500_blas_s": round(blas_s, 2),
                            "same_order_1500": bool(np.array_equal(want, got))}
    print(f"plot C = {c:,} ({graph.kind}): now {now_s:.2f} s / {now_mib:.0f} MiB, with pdist {before_s:.2f} s / "
          f"{before_mib:.0f} MiB ({before_s / now_s:.1f}x); cluster order of a random 1,500 × 1,500: pdist "
          f"{pdist_s:.2f} s, BLAS {blas_s:.2f} s, same order: {np.array_equal(want, got)}")


def thread_figures(figures: dict, repeat: int) -> None:
    from threadpoolctl import threadpool_info

    import labelgraph._threads as t
    from labelgraph._threads import SMALL_BLAS_MAX
    from labelgraph.graphs.association import cosine_graph
    from labelgraph.graphs.measures import oversmoothing
    from labelgraph.inspect.plot import _condensed_euclidean

    threads = sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
    rng = np.random.default_rng(0)
    for c in (80, 300, 1000):
        A = rng.random((c, c))
        E = rng.standard_normal((c, 300))
        S = (A + A.T) / 2
        work = {
            "oversmoothing k=2,4": lambda: oversmoothing(A, E),
            "plot distances": lambda: _condensed_euclidean(S),
            "cosine graph": lambda: cosine_graph(E),
        }
        for name, func in work.items():
            t.SMALL_BLAS_MAX = 0  # the same function with the limit lifted, then as shipped
            default_s = best_of(func, repeat)
            t.SMALL_BLAS_MAX = SMALL_BLAS_MAX
            one_s = best_of(func, repeat)
            figures[f"threads_{name}_{c}"] = {"default_s": default_s, "shipped_s": one_s,
                                              "ratio": round(default_s / one_s, 2)}
            print(f"BLAS threads {threads}, C = {c:5d} {name:20s}: default {default_s * 1e3:8.2f} ms, "
                  f"as shipped ({'1 thread' if c <= SMALL_BLAS_MAX else 'default'}) {one_s * 1e3:8.2f} ms "
                  f"({default_s / one_s:.2f}x)")


def inflate_figures(figures: dict, repeat: int) -> None:
    if not GLOVE.exists():
        print(f"(no {GLOVE}: ISA-L vs zlib skipped)")
        return
    try:
        from isal import isal_zlib
    except ImportError:
        print("(isal not installed: ISA-L vs zlib skipped)")
        return
    from labelgraph import files
    from labelgraph.embeddings import label_vectors

    labels = ["hot dog", "tennis racket", "person", "dining table", "traffic light"]
    out = {}
    for name, module in (("zlib", zlib), ("isal", isal_zlib), ("zlib ", zlib), ("isal ", isal_zlib)):
        files.inflate_module = lambda m=module: m
        out.setdefault(name.strip(), []).append(best_of(lambda: label_vectors(labels, GLOVE), repeat))
    zlib_s, isal_s = min(out["zlib"]), min(out["isal"])
    figures["glove_6b_50d_gz"] = {"zlib_s": round(zlib_s, 2), "isal_s": round(isal_s, 2),
                                  "isal_over_zlib": round(isal_s / zlib_s, 2)}
    print(f"label_vectors(5 labels, glove.6B.50d.txt.gz, whole file scanned): zlib {zlib_s:.2f} s, "
          f"ISA-L {isal_s:.2f} s ({isal_s / zlib_s:.2f}x zlib's time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per in-process timing (median)")
    args = parser.parse_args()
    figures: dict[str, object] = {"machine": f"{platform.machine()}, Python {platform.python_version()}"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        if args.quick:
            inspect_figures(tmp_path, [600, 2_000], 2_000, figures)
            plot_figures(tmp_path, 1_000, figures)
        else:
            inspect_figures(tmp_path, [600, 2_000, 20_000], 2_000, figures)
            export_figures(tmp_path, figures)
            plot_figures(tmp_path, 5_000, figures)
        thread_figures(figures, args.repeat)
        inflate_figures(figures, 1 if args.quick else 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
