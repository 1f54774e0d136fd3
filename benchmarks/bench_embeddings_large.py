"""Claim: on a ≥ 1 GB GloVe-format 300-d text file with glove.840B's key shapes, the label-only scan runs within 2×
of Python reading the same file's lines and doing nothing (MB/s).

The file is generated under benchmarks/_work/ (git-ignored) and deleted at the end: 300 values a line written like
glove.840B's (``-0.082752``), keys of every shape that file has — lower and cased words, punctuation, URLs,
numbers with commas, non-ASCII words, and keys containing spaces (``. . .``, ``hot dog``-style) — with the
tokens of the 80 COCO labels spread through it, one of them on the last line.  Each contender is a whole process
(start-up included), alternating, ``--repeat`` times, after one warm-up read so the file is in the page cache.

    .venv/bin/python benchmarks/bench_embeddings_large.py [--size-gb 1.05] [--repeat 2] [--keep]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from _measure import measure  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work"
SHARED = Path(os.environ.get("LABELGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))

FLOOR_BINARY = "import sys\nfor line in open(sys.argv[1], 'rb'): pass"
FLOOR_TEXT = "import sys\nfor line in open(sys.argv[1], encoding='utf-8'): pass"
OURS = """
import sys
from labelgraph.embeddings import label_vectors
labels = [x for x in open(sys.argv[1]).read().splitlines() if x]
vectors, report = label_vectors(labels, sys.argv[2], format="glove", strict=sys.argv[3] == "strict")
assert vectors.shape == (80, 300) and not report.stopped_early and not report.oov_labels
"""


def generate(path: Path, size: int, labels: list[str], seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    rows = [" ".join(f"{v:.6f}" for v in rng.normal(0, 0.4, 300)) for _ in range(512)]
    tokens = sorted({t for lab in labels for t in lab.lower().split(" ")})
    shapes = [lambda i: f"w{i}", lambda i: f"Word{i}", lambda i: ",", lambda i: f"'s{i}", lambda i: f"--{i}",
              lambda i: f"http://x{i}.com", lambda i: f"1,{i:03d}", lambda i: f"café{i}", lambda i: f"日本{i}",
              lambda i: f". . . {i}", lambda i: f"hot dog{i}", lambda i: f"New York{i}", lambda i: f"U.S.{i}"]
    approx_lines = size // (len(rows[0]) + 8)
    spots = set(rng.choice(approx_lines - 10, size=len(tokens) - 1, replace=False).tolist())
    it = iter(tokens[:-1])
    written = 0
    lines = 0
    with open(path, "w", encoding="utf-8") as f:
        buf = []
        while written < size:
            key = next(it) if lines in spots else shapes[lines % len(shapes)](lines)
            line = f"{key} {rows[lines % len(rows)]}\n"
            buf.append(line)
            written += len(line.encode())
            lines += 1
            if len(buf) == 4096:
                f.write("".join(buf))
                buf = []
        buf.append(f"{tokens[-1]} {rows[0]}\n")  # the last line holds a wanted key
        f.write("".join(buf))
    return lines + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=1.05)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument("--labels", type=Path, default=SHARED / "mlgcn" / "coco_categories_mlgcn_order.txt")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "glove.synthetic.300d.txt"
    labels = [x for x in args.labels.read_text().splitlines() if x]
    t = time.perf_counter()
    nlines = generate(path, int(args.size_gb * 1e9), labels)
    size = path.stat().st_size
    print(f"generated {path.name}: {size / 1e9:.2f} GB, {nlines:,} lines, in {time.perf_counter() - t:.0f} s")
    py = sys.executable
    try:
        measure(["cat", str(path)])  # warm the page cache
        contenders = {
            "python: for line in open(f, 'rb') (floor)": [py, "-c", FLOOR_BINARY, str(path)],
            "python: for line in open(f) text (floor)": [py, "-c", FLOOR_TEXT, str(path)],
            "labelgraph label_vectors (80 labels)": [py, "-c", OURS, str(args.labels), str(path), "lax"],
            "labelgraph label_vectors strict=True": [py, "-c", OURS, str(args.labels), str(path), "strict"],
        }
        results: dict[str, list[tuple[float, float]]] = {k: [] for k in contenders}
        for _ in range(args.repeat):
            for name, argv in contenders.items():
                results[name].append(measure(argv))
    finally:
        if not args.keep:
            path.unlink(missing_ok=True)
    print(f"{'command':44s} {'wall s':>7s} {'MB/s':>7s} {'peak RSS MiB':>13s}")
    med = {}
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        med[name] = wall
        print(f"{name:44s} {wall:7.2f} {size / 1e6 / wall:7.0f} {statistics.median(r[1] for r in runs):13.0f}")
    floor = med["python: for line in open(f, 'rb') (floor)"]
    print(f"scan time / binary-lines floor: {med['labelgraph label_vectors (80 labels)'] / floor:.2f}x "
          f"(strict {med['labelgraph label_vectors strict=True'] / floor:.2f}x)   target <= 2x")


if __name__ == "__main__":
    main()
