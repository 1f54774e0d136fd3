"""Benchmark: labelgraph's streaming COCO reader vs ``json.load`` + a dict loop (time and peak RSS).

Generates a COCO ``instances_train2017.json`` of the official structure under
``benchmarks/_work/`` (120,000 images, 860,000 annotations with segmentation
polygons, ~1 % crowd RLE, bbox; about 460 MB), then reads it in fresh
subprocesses, one method each, alternating, and prints time and peak RSS with
the ratios.  The generated file is deleted at the end unless ``--keep``.

Claim (issue 3): the reader is no slower than ``json.load`` and needs at most
0.5x its peak memory.

Usage::

    .venv/bin/python benchmarks/bench_coco_json.py [--images 120000] [--annotations 860000] [--repeat 1] [--keep]
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "_work"
sys.path.insert(0, str(HERE))

from _coco_gen import write_instances  # noqa: E402

CHILD = r"""
import json, resource, sys, time
path, method = sys.argv[1], sys.argv[2]
t = time.perf_counter()
if method == "labelgraph":
    from labelgraph.datasets.coco import read_coco
    ls = read_coco(path)
    result = (ls.num_samples, int(ls.Y.nnz))
else:
    with open(path, "rb") as handle:
        doc = json.load(handle)
    labels = {}
    for ann in doc["annotations"]:
        labels.setdefault(ann["image_id"], set()).add(ann["category_id"])
    result = (len(labels), sum(len(v) for v in labels.values()))
elapsed = time.perf_counter() - t
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"method": method, "seconds": elapsed, "peak_mb": peak_mb, "result": result}))
"""


def run(path: Path, method: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), method], check=True,
                         capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=120_000)
    parser.add_argument("--annotations", type=int, default=860_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "instances_train2017.json"
    shared = ROOT.parent / "shared" / "data" / "coco2014" / "categories_coco80_order.txt"
    names = ([x.strip() for x in shared.read_text().splitlines() if x.strip()] if shared.is_file()
             else [f"category {k:02d}" for k in range(80)])
    if not path.is_file():
        t = time.perf_counter()
        write_instances(path, names, args.images, args.annotations)
        print(f"generated {path.name}: {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t:.0f} s")
    size_mb = path.stat().st_size / 1e6
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, "
          f"{__import__('os').cpu_count()} cores (shared with other work: timings are noisy)")
    rows = {"labelgraph": [], "json.load": []}
    for _ in range(args.repeat):
        for method in ("labelgraph", "json.load"):
            rows[method].append(run(path, method))
    ours, base = rows["labelgraph"], rows["json.load"]
    if ours[0]["result"] != base[0]["result"]:
        print(f"RESULTS DIFFER: {ours[0]['result']} vs {base[0]['result']}")
        return 1
    print(f"file: {size_mb:.0f} MB, {args.images:,} images, {args.annotations:,} annotations; "
          f"samples, labels = {ours[0]['result']}")
    print(f"{'method':<12} {'seconds (best)':>15} {'peak RSS MB (max)':>18}")
    best = {}
    for method, rs in rows.items():
        best[method] = (min(r["seconds"] for r in rs), max(r["peak_mb"] for r in rs))
        print(f"{method:<12} {best[method][0]:>15.1f} {best[method][1]:>18.0f}")
    print(f"time ratio labelgraph / json.load:   {best['labelgraph'][0] / best['json.load'][0]:.2f} (target <= 1)")
    print(f"memory ratio labelgraph / json.load: {best['labelgraph'][1] / best['json.load'][1]:.3f} (target <= 0.5)")
    if not args.keep:
        shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
