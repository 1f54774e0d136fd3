"""Claim: an 80-label lookup in the 400,000-word GloVe 6B 50-d .txt.gz is ≥ 15× faster than gensim, with ≥ 10× less
peak memory, and within 2× of ``zcat FILE > /dev/null`` (the file has to be inflated anyway).

Every contender is a whole command in its own process (interpreter start-up and imports included), run in the
same session, alternating, ``--repeat`` times; wall time from the parent, peak RSS from ``/usr/bin/time -f %M``.

    .venv/bin/python benchmarks/bench_embeddings_glove6b.py [--repeat 3] [--vectors PATH]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from _measure import measure  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LABELGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))

OURS = """
import sys
from labelgraph.embeddings import label_vectors
labels = [x for x in open(sys.argv[1]).read().splitlines() if x]
vectors, report = label_vectors(labels, sys.argv[2])
assert vectors.shape == (80, 50)
"""

GENSIM = """
import sys
import numpy as np
from gensim.models import KeyedVectors
labels = [x for x in open(sys.argv[1]).read().splitlines() if x]
kv = KeyedVectors.load_word2vec_format(sys.argv[2], binary=False, no_header=True)
rows = [kv[x.replace(' ', '_')] if x.replace(' ', '_') in kv else np.mean([kv[t] for t in x.split()], axis=0)
        for x in labels]
vectors = np.array(rows, dtype=np.float32)
assert vectors.shape == (80, 50)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--vectors", type=Path, default=SHARED / "glove" / "glove.6B.50d.txt.gz")
    parser.add_argument("--labels", type=Path, default=SHARED / "mlgcn" / "coco_categories_mlgcn_order.txt")
    args = parser.parse_args()
    py = sys.executable
    out = Path(tempfile.mkdtemp(prefix="lg-bench-"))
    contenders = {
        "zcat > /dev/null (floor)": ["zcat", str(args.vectors)],
        "start-up: import labelgraph.embeddings": [py, "-c", "import labelgraph.embeddings"],
        "labelgraph label_vectors": [py, "-c", OURS, str(args.labels), str(args.vectors)],
        "labelgraph embed (CLI)": [py, "-m", "labelgraph_cli.main", "embed", "--labels", str(args.labels),
                                   "--vectors", str(args.vectors), "--out", str(out), "--force", "-q"],
        "gensim load_word2vec_format + index": [py, "-c", GENSIM, str(args.labels), str(args.vectors)],
    }
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in contenders}
    for _ in range(args.repeat):
        for name, argv in contenders.items():
            results[name].append(measure(argv))
    print(f"80 COCO labels in {args.vectors.name} ({args.vectors.stat().st_size / 1e6:.0f} MB gz); "
          f"median of {args.repeat}, same session")
    print(f"{'command':40s} {'wall s':>8s} {'peak RSS MiB':>13s}")
    med = {}
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        rss = statistics.median(r[1] for r in runs)
        med[name] = (wall, rss)
        print(f"{name:40s} {wall:8.2f} {rss:13.0f}")
    ours, cli = med["labelgraph label_vectors"], med["labelgraph embed (CLI)"]
    gensim, zcat = med["gensim load_word2vec_format + index"], med["zcat > /dev/null (floor)"]
    print(f"speed-up vs gensim: {gensim[0] / ours[0]:.1f}x (CLI {gensim[0] / cli[0]:.1f}x)   target >= 15x")
    print(f"peak memory vs gensim: {gensim[1] / ours[1]:.1f}x less (CLI {gensim[1] / cli[1]:.1f}x)   target >= 10x")
    print(f"time vs zcat floor: {ours[0] / zcat[0]:.2f}x (CLI {cli[0] / zcat[0]:.2f}x)   target <= 2x")


if __name__ == "__main__":
    main()
