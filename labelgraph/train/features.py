"""The frozen-backbone feature cache: backbone features computed once, then only the GCN head trains.

With ``--freeze-backbone --cache-features DIR`` (ML-GCN), every image of a split
goes through the frozen backbone once, with the evaluation transform (no
augmentation); the pooled features are stored as fp16 in a memory-mapped
``.npy`` under ``DIR``.  A sidecar JSON records what the features depend on
(backbone weights, image size, samples); a later run with the same key reuses the
file, so a graph ablation (binary vs reweighted vs KS, a sweep of τ) retrains
only the head, in minutes.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._atomic import atomic_write
from .data import SplitData, batch_to_device, make_dataset, make_loader
from .distributed import barrier

__all__ = ["cache_key", "cached_features"]

log = logging.getLogger(__name__)


def cache_key(backbone_state: dict[str, torch.Tensor], meta: dict[str, Any]) -> str:
    """sha256 over the backbone's tensors and the settings that shape the features.

    Examples
    --------
    >>> a = cache_key({"w": torch.ones(2)}, {"image_size": 448})
    >>> a == cache_key({"w": torch.ones(2)}, {"image_size": 448}), a == cache_key({"w": torch.zeros(2)}, {"image_size": 448})
    (True, False)
    """
    digest = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
    for name in sorted(backbone_state):
        t = backbone_state[name].detach().cpu().contiguous()
        digest.update(name.encode())
        digest.update(str(tuple(t.shape)).encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def cached_features(setup: Any, data: SplitData, split: str) -> SplitData:
    """The split as pooled backbone features (N × D, fp16, memory-mapped), computed on first use.

    ``setup`` is the trainer's run setup: ``cfg`` (``cache_features`` names the folder),
    ``ctx``, ``model``, ``progress``, ``channels_last`` and ``amp_dtype``.  The file is
    ``<dataset>-<split>-<key>.npy`` with its ``.json`` sidecar; a second call with the
    same backbone, settings and samples reads it back.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from PIL import Image
    >>> from labelgraph.train.config import TrainConfig
    >>> from labelgraph.train.data import load_split
    >>> from labelgraph.train.distributed import init_distributed
    >>> from labelgraph.train.models import build_backbone, build_model
    >>> for name in ("a.png", "b.png"):
    ...     Image.new("RGB", (40, 40)).save(tmp / name)
    >>> _ = (tmp / "train.csv").write_text("a.png,cat\\nb.png,dog\\n")
    >>> cfg = TrainConfig(backbone="resnet18", root=str(tmp), image_size=32, batch_size=2, workers=0,
    ...                   cache_features=str(tmp / "cache"))
    >>> model = build_model("mlgcn", build_backbone("resnet18"), torch.eye(2), torch.zeros(2, 3), hidden=8)
    >>> setup = SimpleNamespace(cfg=cfg, ctx=init_distributed("cpu"), model=model, progress=False,
    ...                         channels_last=False, amp_dtype=None)
    >>> feats = cached_features(setup, load_split(cfg, "train"), "train")
    >>> feats.kind, feats.features.shape, feats.features.dtype, feats.targets.tolist()
    ('features', (2, 512), dtype('float16'), [[1.0, 0.0], [0.0, 1.0]])
    >>> sorted(p.suffix for p in (tmp / "cache").iterdir())
    ['.json', '.npy']
    >>> npy = next((tmp / "cache").glob("*.npy"))
    >>> written = npy.stat().st_mtime_ns
    >>> again = cached_features(setup, load_split(cfg, "train"), "train")   # read back, not recomputed
    >>> npy.stat().st_mtime_ns == written, bool((again.features == feats.features).all())
    (True, True)
    """
    cfg, ctx, model = setup.cfg, setup.ctx, setup.model
    folder = Path(cfg.cache_features)
    meta = {"backbone": cfg.backbone, "image_size": cfg.image_size, "pool": model.pool, "dataset": cfg.dataset,
            "split": split, "samples": hashlib.sha256("\n".join(data.sample_ids).encode()).hexdigest(),
            "count": len(data)}
    key = cache_key(model.backbone.state_dict(), meta)[:20]
    path = folder / f"{cfg.dataset}-{split}-{key}.npy"
    if ctx.is_main and not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        _compute(setup, data, path)
        with atomic_write(path.with_suffix(".json"), "w") as handle:
            json.dump(dict(meta, key=key), handle, indent=2)
    elif ctx.is_main:
        log.info("reusing cached features %s", path)
    barrier(ctx)
    features = np.load(path, mmap_mode="r")
    if features.shape[0] != len(data):
        from ..errors import DataError

        raise DataError(f"{path}: {features.shape[0]} rows, expected {len(data)}; delete it to recompute")
    return SplitData("features", data.labels, data.targets, data.sample_ids, features=features,
                     missing=data.missing, source=data.source, mask=data.mask)


@torch.no_grad()
def _compute(setup: Any, data: SplitData, path: Path) -> None:
    from tqdm.auto import tqdm

    cfg, model, device = setup.cfg, setup.model, setup.ctx.device
    loader = make_loader(make_dataset(data, cfg, train=False), batch_size=cfg.batch_size, shuffle=False,
                         seed=cfg.seed, workers=cfg.workers, pin_memory=device.type == "cuda")
    model.eval()
    tmp = path.with_name(f".{path.name}.tmp")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16,
                                    shape=(len(data), model.backbone.feature_dim))
    try:
        for x, _, idx in tqdm(loader, desc=f"caching features ({path.name})", unit="batch", leave=False,
                              disable=not setup.progress):
            x = batch_to_device(x, device, setup.channels_last)
            with torch.autocast(device.type, dtype=setup.amp_dtype or torch.float32,
                                enabled=setup.amp_dtype is not None):
                feat = model.extract(x)
            out[idx.numpy()] = feat.float().cpu().numpy().astype(np.float16)
        out.flush()
        del out
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
