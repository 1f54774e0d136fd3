"""Regenerate the statistics artifacts bundled in ``labelgraph/data/``.

- ``coco2014_train_statistics.npz``: ML-GCN's published ``coco_adj.pkl`` imported through the
  restricted unpickler, rows in ML-GCN's (alphabetical) order, N = 82,081.
- ``voc2007_trainval_statistics.npz``: computed by labelgraph's own ``voc`` reader from the
  VOC 2007 ``ImageSets/Main`` files; checked to equal ML-GCN's ``voc_adj.pkl``.

Usage::

    python tools/make_bundled.py [--data ../shared/data] [--out labelgraph/data] [--check-only]

The artifacts' meta carries the origin and the credit; see ``labelgraph/data/README.md``.
"""
from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labelgraph.artifact import Artifact, load  # noqa: E402
from labelgraph.datasets._common import read_label_list  # noqa: E402
from labelgraph.datasets.mlgcn_pkl import KNOWN_NUM_SAMPLES, read_mlgcn_adj  # noqa: E402
from labelgraph.datasets.voc import read_voc  # noqa: E402

COCO_ORIGIN = (
    "ML-GCN's published data/coco/coco_adj.pkl (github.com/megvii-research/ML-GCN, commit "
    "5517d6ff8012ead45c26a07b3a9d960cdaa0b9d1): per-label counts and co-occurrences over the 82,081 "
    "COCO train2014 images with at least one instance annotation; rows in ML-GCN's order "
    "(category names sorted alphabetically)."
)
COCO_CREDIT = (
    "Counts derived from the MS-COCO 2014 annotations, (c) COCO Consortium, licensed CC BY 4.0 "
    "(https://cocodataset.org/#termsofuse); statistics as published by Chen et al., ML-GCN, CVPR 2019."
)
VOC_ORIGIN = (
    "Computed by labelgraph's voc reader from PASCAL VOC 2007 ImageSets/Main/<class>_trainval.txt "
    "(5,011 images; flag 1 only, difficult-only entries not counted); equals ML-GCN's voc_adj.pkl."
)
VOC_CREDIT = (
    "PASCAL VOC 2007 annotations by the PASCAL Visual Object Classes Challenge organisers "
    "(Everingham et al.), distributed for research use."
)


def make_coco(data: Path) -> Artifact:
    labels = read_label_list(data / "coco2014" / "categories_alphabetical_order.txt")
    return read_mlgcn_adj(
        data / "mlgcn" / "coco_adj.pkl", labels, KNOWN_NUM_SAMPLES["coco_adj.pkl"],
        dataset="coco2014", split="train",
        meta={"origin": COCO_ORIGIN, "credit": COCO_CREDIT, "licence": "CC BY 4.0 (COCO Consortium)",
              "label_order": "alphabetical (ML-GCN)"})


def make_voc(data: Path) -> Artifact:
    ls = read_voc(data / "voc2007", "trainval")
    stats = ls.statistics()
    with open(data / "mlgcn" / "voc_adj.pkl", "rb") as handle:  # trusted reference file, checked below
        ref = pickle.load(handle, encoding="latin1")
    if not (np.array_equal(stats.n, ref["nums"]) and np.array_equal(stats.matrix.toarray(), ref["adj"])):
        raise SystemExit("VOC 2007 trainval statistics differ from ML-GCN's voc_adj.pkl")
    meta = {k: v for k, v in stats.meta.items() if k != "content_hash"}
    meta.update(origin=VOC_ORIGIN, credit=VOC_CREDIT, licence="PASCAL VOC (research use)",
                label_order="standard VOC order (ML-GCN voc.py)", matches="ML-GCN voc_adj.pkl (nums and adj)")
    return Artifact.statistics(stats.labels, stats.n, stats.matrix, stats.num_samples, meta)


def _relative(art: Artifact, data: Path) -> Artifact:
    """The same artifact with source paths relative to the data folder (no paths of this machine)."""
    meta = {k: v for k, v in art.meta.items() if k not in ("content_hash", "path")}
    meta["files"] = [{"path": str(Path(f["path"]).resolve().relative_to(data.resolve())), "sha256": f["sha256"]}
                     for f in meta["files"]]
    return Artifact.statistics(art.labels, art.n, art.matrix, art.num_samples, meta)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                        help="the shared data folder (default: ../shared/data)")
    parser.add_argument("--out", type=Path, default=ROOT / "labelgraph" / "data")
    parser.add_argument("--check-only", action="store_true",
                        help="compare with the files in --out instead of writing")
    args = parser.parse_args(argv)
    made = {
        "coco2014_train_statistics.npz": _relative(make_coco(args.data), args.data),
        "voc2007_trainval_statistics.npz": _relative(make_voc(args.data), args.data),
    }
    status = 0
    for name, art in made.items():
        target = args.out / name
        if args.check_only:
            same = target.is_file() and load(target).content_hash == art.content_hash
            print(f"{target}: {'up to date' if same else 'DIFFERS'}")
            status |= 0 if same else 1
        else:
            art.save(target, force=True)
            print(f"{target}: {art!r}, N={art.num_samples}, {target.stat().st_size} bytes")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
