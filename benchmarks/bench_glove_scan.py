"""Claim under test: ``labelgraph.embeddings.scan.scan_text`` is ≥ 1.3× faster than a plain line loop (read lines,
split off the first token, parse only wanted keys); otherwise the loop replaces it.  Run at revision 49b0922 it
measured the old block scanner (no win, so it was replaced); now it measures the checks the loop version adds.

Both read the whole file (no key set that stops early) for the 80 COCO labels' words, in this process, alternating,
``--repeat`` times; best wall time of each.  Files: the GloVe 6B 50-d ``.txt.gz`` (inflate included) and a
plain-text file of about ``--big-gb`` GB made of that file's lines repeated (generated once in ``--tmp``).

    .venv/bin/python benchmarks/bench_glove_scan.py [--repeat 3] [--big-gb 1.0] [--tmp /tmp]
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LABELGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))


def simple_loop(path: Path, wanted: set[str]) -> dict[str, np.ndarray]:
    """The 20-line alternative: one pass over the lines, the first token looked up in a set."""
    from labelgraph.files import open_maybe_compressed

    keys = {k.encode("utf-8"): k for k in wanted}
    found: dict[str, np.ndarray] = {}
    with open_maybe_compressed(path) as handle:
        for line in handle:
            key, _, rest = line.partition(b" ")
            name = keys.get(key)
            if name is not None and name not in found:
                found[name] = np.array(rest.split(), dtype=np.float64).astype(np.float32)
    return found


def scanner(path: Path, wanted: set[str]) -> dict[str, np.ndarray]:
    from labelgraph.embeddings.formats import open_vectors
    from labelgraph.embeddings.scan import scan_text

    return scan_text(open_vectors(path), wanted, required=[], spaced_keys=True).vectors


def make_big(src: Path, dest: Path, gigabytes: float) -> Path:
    if dest.exists() and dest.stat().st_size >= gigabytes * 1e9 * 0.99:
        return dest
    from labelgraph.files import open_maybe_compressed

    with open_maybe_compressed(src) as f:
        text = f.read()
    with open(dest, "wb") as out:
        while out.tell() < gigabytes * 1e9:
            out.write(text)
    return dest


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--big-gb", type=float, default=1.0)
    ap.add_argument("--tmp", type=Path, default=Path("/tmp"))
    args = ap.parse_args()
    import logging

    import labelgraph

    logging.getLogger("labelgraph").setLevel(logging.ERROR)  # the repeated big file warns of duplicate keys

    labels = labelgraph.load(labelgraph.bundled_path("coco")).labels
    wanted = {t for label in labels for t in label.split()}
    glove = SHARED / "glove" / "glove.6B.50d.txt.gz"
    files = [glove, make_big(glove, args.tmp / "labelgraph-bench-glove-big.txt", args.big_gb)]
    for path in files:
        best = {"scan_text": float("inf"), "simple loop": float("inf")}
        results = {}
        for _ in range(args.repeat):
            for name, fn in (("scan_text", scanner), ("simple loop", simple_loop)):
                start = time.perf_counter()
                results[name] = fn(path, wanted)
                best[name] = min(best[name], time.perf_counter() - start)
        a, b = results["scan_text"], results["simple loop"]
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a), "the two disagree"
        size = path.stat().st_size / 1e6
        print(f"{path.name} ({size:,.0f} MB on disk, {len(a)} keys found): "
              f"scan_text {best['scan_text']:.2f} s, simple loop {best['simple loop']:.2f} s, "
              f"ratio loop/scan_text {best['simple loop'] / best['scan_text']:.2f}")


if __name__ == "__main__":
    main()
