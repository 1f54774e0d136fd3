"""Claim: with --freeze-backbone --cache-features, an ML-GCN epoch (head only, on cached fp16
features) takes a small fraction of a full-training epoch, so graph ablations take minutes.

Writes a small folder of real JPEGs, then runs `fit` three ways on it in the same process:
full training, and the frozen mode twice (the first run fills the cache, the second reuses it).
Reported per epoch from each run's log.jsonl.

Usage:
  python benchmarks/bench_train_frozen.py --device cpu                    # ResNet-18, 96², 96 images
  python benchmarks/bench_train_frozen.py --device cuda --backbone resnet101 --image-size 448 --images 2048
Prints a table and one JSON line.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

import labelgraph
from labelgraph.train.config import TrainConfig
from labelgraph.train.data import read_image_csv
from labelgraph.train.engine import fit


def write_dataset(root: Path, n: int, size: int, labels: int = 20) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    names = [f"l{i:02d}" for i in range(labels)]
    for split, count in (("train", n), ("val", max(n // 4, 8))):
        (root / split).mkdir(parents=True, exist_ok=True)
        rows = []
        for i in range(count):
            Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(root / split / f"{i}.jpg")
            present = [names[j] for j in np.flatnonzero(rng.random(labels) < 0.15)] or [names[i % labels]]
            rows.append(f"{split}/{i}.jpg,{';'.join(present)}")
        (root / f"{split}.csv").write_text("\n".join(rows) + "\n")
    (root / "labels.txt").write_text("\n".join(names) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lg-bench-frozen-"))
    try:
        root = work / "data"
        write_dataset(root, args.images, args.image_size)
        ls, _ = read_image_csv(root / "train.csv")
        graph = labelgraph.build_graph(ls.statistics(), "reweighted", tau=0.1, p=0.2).save(work / "g.npz")
        emb = labelgraph.Artifact.embeddings(ls.labels, np.random.default_rng(0).normal(
            size=(ls.num_labels, 300)).astype(np.float32)).save(work / "e.npz")
        base = TrainConfig(model="mlgcn", backbone=args.backbone, dataset="imagefolder", root=str(root),
                           graph=str(graph), embeddings=str(emb), pretrained=False, image_size=args.image_size,
                           batch_size=args.batch_size, epochs=args.epochs, lr=0.01, workers=args.workers,
                           device=args.device)
        runs = {}
        for name, extra in (("full training", {}),
                            ("frozen, filling the cache", {"freeze_backbone": True,
                                                           "cache_features": str(work / "cache")}),
                            ("frozen, cache reused", {"freeze_backbone": True, "cache_features": str(work / "cache")})):
            out = work / name.replace(" ", "_").replace(",", "")
            t0 = time.perf_counter()
            fit(base.replace(out=str(out), **extra))
            total = time.perf_counter() - t0
            log = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
            runs[name] = {"run_s": round(total, 2), "epoch_s": [r["time_s"] for r in log]}
        full = np.mean(runs["full training"]["epoch_s"])
        cached = np.mean(runs["frozen, cache reused"]["epoch_s"])
        print(f"{args.backbone} {args.image_size}², {args.images} train images, batch {args.batch_size}, "
              f"{args.epochs} epochs on {args.device}")
        print(f"{'run':<28}{'whole run s':>12}{'epoch s (each)':>24}")
        for name, r in runs.items():
            print(f"{name:<28}{r['run_s']:>12.2f}{', '.join(f'{x:.2f}' for x in r['epoch_s']):>24}")
        print(f"epoch time, full / cached head: {full / cached:.1f}x")
        print(json.dumps({"bench": "train_frozen", "device": args.device, "backbone": args.backbone,
                          "image_size": args.image_size, "images": args.images, "batch_size": args.batch_size,
                          "runs": runs, "full_over_cached_epoch": round(float(full / cached), 1),
                          "machine": f"{platform.machine()} {platform.python_version()}"}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
