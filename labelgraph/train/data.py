"""Training data: images, video frames or feature vectors with their 0/1 label rows.

Where the labels come from (``--dataset``):

* ``imagefolder`` — a CSV ``image,labels`` (labels ``;``-separated, header optional)
  whose image paths are relative to ``--root``; ``--annotations`` defaults to
  ``<root>/{split}.csv``.  Label order: a ``labels.txt`` beside the CSV (one name a
  line) when present, else order of first appearance in the training CSV.
* ``mulan`` — a MULAN ARFF set (features, no images): ``--annotations …/scene``
  reads ``scene-<split>.arff[.gz]`` and ``scene.xml``.
* any reader of :mod:`labelgraph.datasets` (``coco``, ``voc``, ``charades`` …) —
  labels from ``read_dataset(name, annotations, split=…)``; each sample id is found
  under ``--root`` as ``<id>``, ``<id>.jpg``, ``JPEGImages/<id>.jpg``, or by file
  stem / trailing image number anywhere below it; a video is a folder of frames.

Augmentation (SPEC §5, ML-GCN's recipe) uses torchvision transforms v2: a
multi-scale corner/centre crop (scales 1, .875, .75, .66, .5), a horizontal flip,
then resize to ``S × S``; evaluation warps the whole image to ``S × S``.  The
random draws of sample ``i`` in epoch ``e`` come from a generator seeded with
``(seed, e, i)``, so augmentation does not depend on worker count or on resuming.

The workers hand out ``uint8`` images (a quarter of float32's bytes through the
queues and the host-to-device copy); :func:`batch_to_device` converts them to
float and normalizes them with ImageNet's mean and std on the device.
"""
from __future__ import annotations

import csv
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler, Sampler
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from ..errors import ConfigError, DataError
from ..labelset import LabelSet
from .preflight import annotation_path

__all__ = ["SplitData", "load_split", "holdout_indices", "split_validation", "read_image_csv", "MultiScaleCrop", "train_transform", "eval_transform",
           "ImageDataset", "VideoDataset", "FeatureDataset", "EpochSampler", "make_dataset", "make_loader",
           "IMAGENET_MEAN", "IMAGENET_STD", "default_workers", "normalize_images", "batch_to_device"]

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_IMAGE_EXT = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


@dataclass
class SplitData:
    """One split, ready for a dataset class.

    Attributes
    ----------
    kind : ``image``, ``video`` or ``features``
    labels : label names, in column order
    targets : (N, C) float32 0/1
    sample_ids : one per row
    items : image paths or frame folders (``image``/``video``)
    features : (N, F) float32 (``features``)
    missing : how many samples were dropped by ``--skip-missing``
    mask : (N, C) bool, the label set's uncertain entries (VOC's difficult marks), or ``None``
    """

    kind: str
    labels: tuple[str, ...]
    targets: np.ndarray
    sample_ids: list[str]
    items: list[Path] = field(default_factory=list)
    features: np.ndarray | None = None
    missing: int = 0
    source: dict[str, Any] = field(default_factory=dict)
    mask: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.sample_ids)

    def limit(self, n: int | None) -> "SplitData":
        """The first ``n`` samples (all when ``None``)."""
        if n is None or n >= len(self):
            return self
        return SplitData(self.kind, self.labels, self.targets[:n], self.sample_ids[:n], self.items[:n],
                         None if self.features is None else self.features[:n], self.missing, self.source,
                         None if self.mask is None else self.mask[:n])

    def subset(self, rows: Sequence[int] | np.ndarray) -> "SplitData":
        """The samples at ``rows``, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        return SplitData(self.kind, self.labels, self.targets[rows], [self.sample_ids[i] for i in rows],
                         [self.items[i] for i in rows] if self.items else [],
                         None if self.features is None else self.features[rows], self.missing, self.source,
                         None if self.mask is None else self.mask[rows])


# -- label sources --------------------------------------------------------------------------------
def read_image_csv(path: str | Path, labels: Sequence[str] | None = None) -> tuple[LabelSet, list[str]]:
    """Read an ``image,labels`` CSV; returns the label set and the image paths as written.

    Parameters
    ----------
    path : CSV file; rows ``image,label;label`` (a first row starting ``image``/``path``/``file`` is a header)
    labels : the label order; default: ``labels.txt`` beside the CSV, else order of first appearance

    Examples
    --------
    >>> p = tmp / "train.csv"
    >>> _ = p.write_text("image,labels\\na.jpg,dog;cat\\nb.jpg,cat\\nc.jpg,\\n")
    >>> ls, images = read_image_csv(p)
    >>> ls.labels, images, ls.Y.toarray().tolist()
    (('dog', 'cat'), ['a.jpg', 'b.jpg', 'c.jpg'], [[1, 1], [0, 1], [0, 0]])
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such label CSV")
    if labels is None and (path.parent / "labels.txt").is_file():
        from ..files import read_label_list

        labels = list(read_label_list(path.parent / "labels.txt"))
    images: list[str] = []
    rows: list[list[str]] = []
    with open(path, newline="", encoding="utf-8") as handle:
        for lineno, row in enumerate(csv.reader(handle), 1):
            if not row or not "".join(row).strip():
                continue
            if lineno == 1 and row[0].strip().lower() in ("image", "path", "file", "filename"):
                continue
            if len(row) > 2:
                raise DataError(f"{path}:{lineno}: expected 2 columns (image, labels), got {len(row)}")
            images.append(row[0].strip())
            rows.append([x.strip() for x in (row[1] if len(row) > 1 else "").split(";") if x.strip()])
    if labels is None:
        seen: dict[str, None] = {}
        for names in rows:
            for name in names:
                seen.setdefault(name, None)
        labels = list(seen)
    return LabelSet.from_lists(images, labels, rows, {"dataset": "imagefolder", "path": str(path)}), images


class _FileIndex:
    """Files below a root by stem and by trailing number, built on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._by_stem: dict[str, Path] | None = None
        self._by_number: dict[int, Path] = {}

    def find(self, sample_id: str) -> Path | None:
        if self._by_stem is None:
            self._by_stem = {}
            for folder, _, files in os.walk(self.root):
                for name in files:
                    stem, ext = os.path.splitext(name)
                    if ext.lower() in _IMAGE_EXT:
                        p = Path(folder) / name
                        self._by_stem.setdefault(stem, p)
                        m = re.search(r"(\d+)$", stem)
                        if m:
                            self._by_number.setdefault(int(m.group(1)), p)
        stem = os.path.splitext(os.path.basename(sample_id))[0]
        if stem in self._by_stem:
            return self._by_stem[stem]
        m = re.fullmatch(r"\d+", stem)
        return self._by_number.get(int(stem)) if m else None


def _resolve(root: Path, sample_id: str, video: bool, index: _FileIndex) -> Path:
    candidates = [root / sample_id] if video else [
        root / sample_id, root / f"{sample_id}.jpg", root / "JPEGImages" / f"{sample_id}.jpg"]
    for c in candidates:
        if (c.is_dir() if video else c.is_file()):
            return c
    if not video:
        found = index.find(sample_id)
        if found is not None:
            return found
        # name the path a user would expect, so that a "missing" message points at the right place
        if (root / "JPEGImages").is_dir():
            return candidates[2]
        if not Path(sample_id).suffix:
            return candidates[1]
    return candidates[0]


def load_split(cfg: Any, split: str, labels: Sequence[str] | None = None) -> SplitData:
    """Read split ``split`` of the configured dataset; missing images are counted and named.

    ``labels`` fixes the label order (the training split's) for an evaluation split.
    Without ``cfg.skip_missing`` a missing image is a :class:`DataError` naming the
    first one and the count; with it they are dropped with a warning.

    Examples
    --------
    >>> from PIL import Image
    >>> from labelgraph.train.config import TrainConfig
    >>> Image.new("RGB", (8, 8)).save(tmp / "a.png")
    >>> _ = (tmp / "train.csv").write_text("a.png,cat;dog\\nb.png,dog\\n")
    >>> load_split(TrainConfig(root=str(tmp)), "train")
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: ...b.png: missing; 1 of 2 images of split 'train' are missing (--skip-missing leaves them out)
    >>> data = load_split(TrainConfig(root=str(tmp), skip_missing=True), "train")
    >>> data.kind, data.labels, data.targets.tolist(), data.missing
    ('image', ('cat', 'dog'), [[1.0, 1.0]], 1)
    """
    name = cfg.dataset
    if name == "mulan":
        from ..datasets.arff import mulan_files, read_arff

        stem = annotation_path(cfg.annotations, cfg.root, split, None)
        arff, xml = mulan_files(stem, split)
        data = read_arff(arff, xml=xml)
        ls = data.labelset
        if labels is not None and tuple(labels) != ls.labels:
            ls = ls.reorder(labels)
        out = SplitData("features", ls.labels, ls.Y.toarray().astype(np.float32), list(ls.sample_ids),
                        features=data.features, source=dict(ls.source))
        return out.limit(cfg.limit)
    if cfg.root is None:
        raise ConfigError(f"--root is required for dataset {name!r} (the folder of its images)")
    root = Path(cfg.root)
    if not root.is_dir():
        raise DataError(f"{root}: --root is not a folder")
    video = name == "charades" or cfg.model == "kssnet3d"
    if name == "imagefolder":
        csv_path = annotation_path(cfg.annotations, cfg.root, split, str(root / "{split}.csv"))
        ls, images = read_image_csv(csv_path, labels)
        items = [root / p for p in images]
    else:
        from ..datasets import read_dataset

        ann = annotation_path(cfg.annotations, cfg.root, split, str(root))
        ls = read_dataset(name, ann, split=split)
        if labels is not None and tuple(labels) != ls.labels:
            ls = ls.reorder(labels)
        index = _FileIndex(root)
        items = [_resolve(root, sid, video, index) for sid in ls.sample_ids]
    split_data = SplitData("video" if video else "image", ls.labels, ls.Y.toarray().astype(np.float32),
                           list(ls.sample_ids), items, source=dict(ls.source), mask=ls.mask_dense())
    split_data = split_data.limit(cfg.limit)
    present = np.array([(p.is_dir() if video else p.is_file()) for p in split_data.items], dtype=bool)
    missing = int((~present).sum())
    if missing:
        first = split_data.items[int(np.flatnonzero(~present)[0])]
        what = "frame folders" if video else "images"
        if not cfg.skip_missing:
            raise DataError(f"{first}: missing; {missing} of {len(present)} {what} of split {split!r} are "
                            "missing (--skip-missing leaves them out)")
        log.warning("%d of %d %s of split %r are missing and left out (first: %s)",
                    missing, len(present), what, split, first)
        keep = np.flatnonzero(present)
        split_data = SplitData(split_data.kind, split_data.labels, split_data.targets[keep],
                               [split_data.sample_ids[i] for i in keep], [split_data.items[i] for i in keep],
                               None, missing, split_data.source,
                               None if split_data.mask is None else split_data.mask[keep])
    if len(split_data) == 0:
        raise DataError(f"split {split!r} of {name} has no samples")
    return split_data


def holdout_indices(n: int, fraction: float, seed: int) -> np.ndarray:
    """The rows of an ``n``-sample training split held out for validation, sorted.

    ``round(fraction × n)`` rows (at least 1 when ``fraction`` > 0), drawn uniformly without
    stratification by a generator seeded with ``seed``; ``fraction`` 0 holds out none.
    A split too small to keep a sample on each side is a :class:`DataError`.

    Examples
    --------
    >>> holdout_indices(10, 0.2, seed=0).tolist() == holdout_indices(10, 0.2, seed=0).tolist()
    True
    >>> len(holdout_indices(10, 0.2, seed=0)), len(holdout_indices(10, 0.0, seed=0))
    (2, 0)
    >>> holdout_indices(1, 0.5, seed=0)
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: --val-fraction 0.5 of 1 training sample leaves none to train on or none to validate; use more samples or --val-fraction 0
    """
    if fraction <= 0:
        return np.zeros(0, dtype=np.int64)
    k = max(1, int(round(fraction * n)))
    if k >= n:
        raise DataError(f"--val-fraction {fraction:g} of {n} training sample{'s' * (n != 1)} leaves none to train "
                        "on or none to validate; use more samples or --val-fraction 0")
    # a stream of its own: the same seed also seeds the model, which must not move the split
    rng = np.random.default_rng([int(seed), 0x5A11D])
    return np.sort(rng.choice(n, size=k, replace=False)).astype(np.int64)


def split_validation(data: SplitData, fraction: float, seed: int,
                     held_out_ids: Sequence[str] | None = None) -> tuple[SplitData, SplitData | None]:
    """``(training part, held-out part)`` of a training split; the held-out part is ``None`` for ``fraction`` 0.

    ``held_out_ids`` (a resumed run's record) fixes the held-out samples by id instead of drawing them;
    an id not in ``data`` is a :class:`ConfigError`.

    Examples
    --------
    >>> data = SplitData("features", ("a",), np.eye(10, 1, dtype=np.float32), [f"s{i}" for i in range(10)],
    ...                  features=np.arange(10, dtype=np.float32)[:, None])
    >>> fit_part, val = split_validation(data, 0.3, seed=1)
    >>> len(fit_part), len(val), sorted(set(fit_part.sample_ids) | set(val.sample_ids)) == sorted(data.sample_ids)
    (7, 3, True)
    >>> split_validation(data, 0.3, seed=5, held_out_ids=val.sample_ids)[1].sample_ids == val.sample_ids
    True
    """
    if held_out_ids is not None:
        position = {sid: i for i, sid in enumerate(data.sample_ids)}
        unknown = [sid for sid in held_out_ids if sid not in position]
        if unknown:
            raise ConfigError(f"the run's held-out validation samples are not all in the training split "
                              f"(first: {unknown[0]!r}, {len(unknown)} in all); the data changed since the run began")
        rows = np.sort(np.array([position[sid] for sid in held_out_ids], dtype=np.int64))
    else:
        rows = holdout_indices(len(data), fraction, seed)
    if len(rows) == 0:
        return data, None
    keep = np.setdiff1d(np.arange(len(data)), rows)
    return data.subset(keep), data.subset(rows)


# -- transforms -------------------------------------------------------------------------------------
class MultiScaleCrop(v2.Transform):
    """ML-GCN's multi-scale crop: a crop of side ``scale × short side`` (width and height scales at
    most ``max_distort`` steps apart) at one of 13 fixed positions, resized to ``size × size``.

    Examples
    --------
    >>> MultiScaleCrop(8)(torch.zeros(3, 20, 30)).shape
    torch.Size([3, 8, 8])
    """

    def __init__(self, size: int, scales: Sequence[float] = (1.0, 0.875, 0.75, 0.66, 0.5),
                 max_distort: int = 2) -> None:
        super().__init__()
        self.size = int(size)
        self.scales = tuple(scales)
        self.max_distort = max_distort

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        h, w = v2.query_size(flat_inputs)
        base = min(h, w)
        sizes = [int(base * s) for s in self.scales]
        sizes = [self.size if abs(x - self.size) < 3 else x for x in sizes]
        pairs = [(cw, ch) for i, ch in enumerate(sizes) for j, cw in enumerate(sizes)
                 if abs(i - j) <= self.max_distort]
        cw, ch = pairs[int(torch.randint(len(pairs), ()).item())]
        cw, ch = max(1, min(cw, w)), max(1, min(ch, h))
        ws, hs = (w - cw) // 4, (h - ch) // 4
        offsets = [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs), (2 * ws, 2 * hs),
                   (0, 2 * hs), (4 * ws, 2 * hs), (2 * ws, 4 * hs), (2 * ws, 0),
                   (ws, hs), (3 * ws, hs), (ws, 3 * hs), (3 * ws, 3 * hs)]
        left, top = offsets[int(torch.randint(len(offsets), ()).item())]
        return {"top": top, "left": left, "height": ch, "width": cw}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._call_kernel(TF.resized_crop, inpt, params["top"], params["left"], params["height"],
                                 params["width"], size=[self.size, self.size], antialias=True)


def train_transform(size: int, scales: Sequence[float] = (1.0, 0.875, 0.75, 0.66, 0.5)):
    """Multi-scale crop + horizontal flip (ML-GCN's training transform), transforms v2, in ``uint8``.

    Normalization is left to :func:`normalize_images`, on the device.

    Examples
    --------
    >>> from PIL import Image
    >>> x = train_transform(32)(Image.new("RGB", (50, 40)))
    >>> x.shape, x.dtype
    (torch.Size([3, 32, 32]), torch.uint8)
    """
    return v2.Compose([v2.ToImage(), MultiScaleCrop(size, scales), v2.RandomHorizontalFlip()])


def eval_transform(size: int):
    """Warp to ``size × size`` (ML-GCN's evaluation transform), in ``uint8``.

    Examples
    --------
    >>> from PIL import Image
    >>> x = eval_transform(16)(Image.new("RGB", (30, 20)))
    >>> x.shape, x.dtype
    (torch.Size([3, 16, 16]), torch.uint8)
    """
    return v2.Compose([v2.ToImage(), v2.Resize((size, size), antialias=True)])


def normalize_images(x: torch.Tensor, mean: Sequence[float] = IMAGENET_MEAN,
                     std: Sequence[float] = IMAGENET_STD) -> torch.Tensor:
    """``uint8`` images (B × 3 × H × W, or clips B × 3 × T × H × W) to float32, ``(x / 255 − mean) / std``.

    Runs where ``x`` is (the GPU in training); the memory format of ``x`` is kept.

    Examples
    --------
    >>> [round(v, 4) for v in normalize_images(torch.full((1, 3, 1, 1), 255, dtype=torch.uint8)).flatten().tolist()]
    [2.2489, 2.4286, 2.64]
    """
    shape = (1, 3) + (1,) * (x.dim() - 2)
    m = torch.tensor(mean, dtype=torch.float32, device=x.device).view(shape)
    s = torch.tensor(std, dtype=torch.float32, device=x.device).view(shape)
    return (x.float() / 255.0 - m) / s


def batch_to_device(x: torch.Tensor, device: torch.device, channels_last: bool = False) -> torch.Tensor:
    """A loader's input batch on ``device``: ``uint8`` images normalized there, then (with
    ``channels_last``) in the channels-last layout; feature vectors as they are.

    The copy is ``non_blocking`` (asynchronous from pinned memory on CUDA; a plain copy on CPU).

    Examples
    --------
    >>> x = batch_to_device(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.device("cpu"), channels_last=True)
    >>> x.dtype, x.is_contiguous(memory_format=torch.channels_last), round(float(x[0, 0, 0, 0]), 4)
    (torch.float32, True, -2.1179)
    """
    x = x.to(device, non_blocking=True)
    if x.dtype == torch.uint8:
        x = normalize_images(x)
    if channels_last and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    elif channels_last and x.dim() == 5:
        x = x.contiguous(memory_format=torch.channels_last_3d)
    return x


# -- datasets ---------------------------------------------------------------------------------------
def _sample_seed(seed: int, epoch: int, index: int) -> int:
    return (int(seed) * 1_000_003 + int(epoch) * 7_919 + int(index)) % (2**63 - 1)


def _open_image(path: Path):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except FileNotFoundError:
        raise DataError(f"{path}: missing (it was present when the run started)") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{path}: cannot decode image ({type(exc).__name__}: {exc})") from None


class _Seeded(Dataset):
    """Items are ``(epoch, index)`` pairs (from :class:`EpochSampler`) or plain indices."""

    seed = 0

    def _draw(self, key: Any) -> tuple[int, int]:
        return key if isinstance(key, tuple) else (0, int(key))


class ImageDataset(_Seeded):
    """Images with 0/1 targets; ``__getitem__`` gives ``(uint8 image tensor, target, index)``."""

    def __init__(self, data: SplitData, transform: Any, seed: int = 0) -> None:
        self.items, self.targets = data.items, torch.from_numpy(data.targets)
        self.transform, self.seed = transform, seed

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key: Any) -> tuple[torch.Tensor, torch.Tensor, int]:
        epoch, i = self._draw(key)
        img = _open_image(self.items[i])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_sample_seed(self.seed, epoch, i))
            x = self.transform(img)
        return x, self.targets[i], i


class VideoDataset(_Seeded):
    """Clips of ``frames`` frames from a folder of frame images per video (B × 3 × T × H × W ``uint8`` batches).

    Training takes one random frame in each of ``frames`` equal segments (TSN
    sampling); evaluation takes the segments' centres.  The same crop and flip
    apply to every frame of a clip.
    """

    def __init__(self, data: SplitData, transform: Any, frames: int, train: bool, seed: int = 0) -> None:
        self.items, self.targets = data.items, torch.from_numpy(data.targets)
        self.transform, self.frames, self.train, self.seed = transform, frames, train, seed
        self._cache: dict[int, list[Path]] = {}

    def __len__(self) -> int:
        return len(self.items)

    def _frame_files(self, i: int) -> list[Path]:
        if i not in self._cache:
            files = sorted(p for p in self.items[i].iterdir() if p.suffix.lower() in _IMAGE_EXT)
            if not files:
                raise DataError(f"{self.items[i]}: no frame images in this folder")
            self._cache[i] = files
        return self._cache[i]

    def __getitem__(self, key: Any) -> tuple[torch.Tensor, torch.Tensor, int]:
        from torchvision import tv_tensors

        epoch, i = self._draw(key)
        files = self._frame_files(i)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_sample_seed(self.seed, epoch, i))
            edges = np.linspace(0, len(files), self.frames + 1)
            if self.train:
                picks = [int(a + torch.rand(()).item() * max(b - a, 1e-9)) for a, b in zip(edges[:-1], edges[1:])]
            else:
                picks = [int((a + b) / 2) for a, b in zip(edges[:-1], edges[1:])]
            frames = [TF.pil_to_tensor(_open_image(files[min(p, len(files) - 1)])) for p in picks]
            clip = tv_tensors.Video(torch.stack(frames))          # T × 3 × H × W
            clip = self.transform(clip)
        return clip.permute(1, 0, 2, 3).contiguous(), self.targets[i], i


class FeatureDataset(_Seeded):
    """Precomputed feature vectors (MULAN sets, or the frozen-backbone cache)."""

    def __init__(self, features: np.ndarray, targets: np.ndarray) -> None:
        self.features, self.targets = features, torch.from_numpy(np.asarray(targets, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, key: Any) -> tuple[torch.Tensor, torch.Tensor, int]:
        _, i = self._draw(key)
        return torch.from_numpy(np.asarray(self.features[i], dtype=np.float32)), self.targets[i], i


def make_dataset(data: SplitData, cfg: Any, train: bool) -> Dataset:
    """The dataset class for ``data.kind`` with the training or evaluation transform.

    Items are ``(input, target row, index)``: a ``uint8`` image ``3 × S × S`` (``image_size``),
    a ``uint8`` clip ``3 × T × S × S``, or a float feature vector.

    Examples
    --------
    >>> from labelgraph.train.config import TrainConfig
    >>> data = SplitData("features", ("a", "b"), np.array([[1, 0], [0, 1]], dtype=np.float32), ["s0", "s1"],
    ...                  features=np.array([[0.5, 2.0], [1.5, 3.0]], dtype=np.float32))
    >>> ds = make_dataset(data, TrainConfig(backbone="features"), train=True)
    >>> x, y, i = ds[1]
    >>> type(ds).__name__, len(ds), x.tolist(), y.tolist(), i
    ('FeatureDataset', 2, [1.5, 3.0], [0.0, 1.0], 1)
    """
    if data.kind == "features":
        return FeatureDataset(data.features, data.targets)
    transform = train_transform(cfg.image_size, cfg.scales) if train else eval_transform(cfg.image_size)
    if data.kind == "video":
        return VideoDataset(data, transform, cfg.frames, train, cfg.seed)
    return ImageDataset(data, transform, cfg.seed)


class EpochSampler(Sampler):
    """A :class:`DistributedSampler` (also with one process, so one and N ranks see the same global
    order) whose items are ``(epoch, index)``, so datasets seed augmentation per epoch and sample."""

    def __init__(self, dataset: Dataset, *, shuffle: bool, seed: int, rank: int = 0, world_size: int = 1) -> None:
        self.inner = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=shuffle,
                                        seed=seed, drop_last=False)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.inner.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.inner)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for i in self.inner:
            yield (self.epoch, i)


def default_workers(local_processes: int | None = None) -> int:
    """Loader processes per training process: the CPUs this process may use, shared among the
    processes of this node, one left to the process itself, at most 8.

    ``local_processes`` defaults to ``$LOCAL_WORLD_SIZE`` (set by ``torchrun``), else 1.  A
    machine with one CPU per process gets 0 (loading in the training process).

    Examples
    --------
    >>> cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    >>> default_workers(1) == min(8, cpus - 1), default_workers(cpus)
    (True, 0)
    """
    from .._threads import usable_cpus

    cpus = usable_cpus()
    if local_processes is None:
        local_processes = int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1)
    return max(0, min(8, cpus // max(1, local_processes) - 1))


def make_loader(dataset: Dataset, *, batch_size: int, shuffle: bool, seed: int, workers: int | None,
                pin_memory: bool, rank: int = 0, world_size: int = 1,
                drop_last: bool = False) -> torch.utils.data.DataLoader:
    """A loader that keeps an accelerator fed: workers, pinned memory, persistent workers, prefetch.

    Its sampler is an :class:`EpochSampler`: call ``loader.sampler.set_epoch(e)`` before
    each epoch; with ``world_size`` > 1 each rank gets its share of the samples.
    ``workers=None`` is :func:`default_workers`.  ``drop_last`` (training) leaves out a
    last, smaller batch (a new shape recompiles a compiled model; a batch of one breaks
    BatchNorm) unless the rank's share is smaller than one batch.

    Examples
    --------
    >>> ds = FeatureDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.eye(5, 3))
    >>> loader = make_loader(ds, batch_size=2, shuffle=False, seed=0, workers=0, pin_memory=False)
    >>> [tuple(x.shape) for x, y, i in loader], next(iter(loader))[2].tolist()
    ([(2, 2), (2, 2), (1, 2)], [0, 1])
    >>> len(make_loader(ds, batch_size=2, shuffle=True, seed=0, workers=0, pin_memory=False, drop_last=True))
    2
    >>> half = make_loader(ds, batch_size=8, shuffle=True, seed=0, workers=0, pin_memory=False, rank=1, world_size=2)
    >>> len(half.sampler)   # 5 samples over 2 ranks: 3 each (one repeated)
    3
    """
    sampler = EpochSampler(dataset, shuffle=shuffle, seed=seed, rank=rank, world_size=world_size)
    if workers is None:
        workers = default_workers()
    if drop_last and len(sampler) < batch_size:
        log.warning("%d samples per process are fewer than one batch of %d: training on the partial batch",
                    len(sampler), batch_size)
        drop_last = False
    extra: dict[str, Any] = {}
    if workers > 0:
        extra = {"persistent_workers": True, "prefetch_factor": 4}
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=workers,
                                       pin_memory=pin_memory, drop_last=drop_last, **extra)
