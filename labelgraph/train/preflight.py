"""Checks of a training run that need no torch: options, paths, and the label files' agreement.

``labelgraph train`` runs :func:`check_run` before it imports torch, so a typo in a
path, a preset or a label order is reported in well under a second; :func:`fit`
runs it again for callers from Python.  Everything here reads files through the
public :func:`labelgraph.load` (validated, never unpickled) or the dataset readers.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..artifact import Artifact, load, require_same_labels
from ..errors import ArtifactError, ConfigError, DataError, LabelMismatchError
from .config import TrainConfig

__all__ = ["check_run", "RunInputs", "load_label_inputs", "resolve_splits", "annotation_path",
           "IMAGEFOLDER_SPLITS"]

log = logging.getLogger(__name__)

#: ``imagefolder`` (the trainer's own CSV layout, not a registered reader): its (training, evaluation) splits.
IMAGEFOLDER_SPLITS = ("train", "val")


@dataclass(frozen=True)
class RunInputs:
    """The graph and label-embeddings artifacts of a run, checked against each other."""

    graph: Artifact
    embeddings: Artifact
    dataset_labels: tuple[str, ...] | None  # None where reading them needs the whole annotation file


def resolve_splits(cfg: TrainConfig) -> tuple[str, str]:
    """The (training, test) split names of ``cfg``, with the dataset's defaults.

    The validation part comes from the training split (``val_fraction``), so it has no name here.

    Examples
    --------
    >>> resolve_splits(TrainConfig(dataset="voc"))
    ('trainval', 'test')
    >>> resolve_splits(TrainConfig(dataset="mulan", test_split="train"))
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --test-split 'train' is the training split: the test split must be another one
    """
    if cfg.dataset == "imagefolder":
        train, val = IMAGEFOLDER_SPLITS
    else:
        from ..datasets.registry import default_splits  # the registry's splits, one table for every command

        train, val = default_splits(cfg.dataset)
    train_split, test_split = cfg.split or train or "train", cfg.test_split or val or "val"
    if train_split == test_split:
        raise ConfigError(f"--test-split {test_split!r} is the training split: the test split must be another one")
    return train_split, test_split


def annotation_path(annotations: str | None, root: str | None, split: str, default: str | None) -> Path:
    """The annotation path of ``split``: ``{split}`` and ``{root}`` in the template are filled in.

    Examples
    --------
    >>> annotation_path("ann/{split}.csv", None, "val", None).as_posix()
    'ann/val.csv'
    >>> annotation_path(None, "data", "train", "data/{split}.csv").as_posix()
    'data/train.csv'
    """
    text = annotations if annotations is not None else default
    if text is None:
        raise ConfigError("give --annotations (the annotation file; '{split}' is replaced by the split)")
    return Path(text.replace("{split}", split).replace("{root}", str(root or ".")))


def load_label_inputs(graph: str | None, embeddings: str | None, labels: Sequence[str] | None = None, *,
                      align: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The graph's dense matrix and the label embeddings, in the order ``labels``.

    Both files go through :func:`labelgraph.load` (validated, never unpickled).  Their
    labels must equal ``labels``, in order; with ``align`` they are reordered by name
    (labels that ``labels`` has and a file lacks are still an error).  Without
    ``labels`` the graph's order is used.

    Examples
    --------
    >>> import labelgraph
    >>> d = tmp
    >>> g = labelgraph.Artifact.graph("binary", ["a", "b"], [[0, 1], [1, 0]]).save(d / "g.npz")
    >>> e = labelgraph.Artifact.embeddings(["b", "a"], [[2.0], [1.0]]).save(d / "e.npz")
    >>> A, E = load_label_inputs(str(g), str(e), ["a", "b"], align=True)
    >>> E.ravel().tolist()
    [1.0, 2.0]
    """
    inputs = _read_inputs(graph, embeddings)
    order = list(labels) if labels is not None else list(inputs.graph.labels)
    out = []
    for art, path, what in ((inputs.graph, graph, "graph"), (inputs.embeddings, embeddings, "embeddings")):
        out.append(_in_order(art, path, what, order, align).to_dense().astype(np.float32))
    return out[0], out[1]


def _read_inputs(graph: str | None, embeddings: str | None) -> RunInputs:
    if graph is None:
        raise ConfigError("--graph is required (a graph .npz from `labelgraph build`)")
    if embeddings is None:
        raise ConfigError("--embeddings is required (a label-embeddings .npz from `labelgraph embed`)")
    g = load(graph)
    if g.kind in ("statistics", "embeddings"):
        raise ArtifactError(f"{graph}: a {g.kind} artifact, not a graph (build one with `labelgraph build`)")
    if g.kind in ("probability", "knowledge") or g.meta.get("normalized") is False:
        log.warning("%s: a raw (un-normalized) %s matrix; the GCN will use it as it is", graph, g.kind)
    e = load(embeddings)
    if e.kind != "embeddings":
        raise ArtifactError(f"{embeddings}: a {e.kind} artifact, not label embeddings")
    return RunInputs(g, e, None)


def _in_order(art: Artifact, path: str | None, what: str, labels: Sequence[str], align: bool,
              reference: str = "dataset") -> Artifact:
    try:
        if align:
            return art.reorder(list(labels))
        require_same_labels(art.labels, labels, f"{what} {path}", reference)
        return art
    except LabelMismatchError as exc:
        raise LabelMismatchError(f"{path}: {exc}") from None


def _dataset_labels(cfg: TrainConfig, split: str) -> tuple[str, ...] | None:
    """The dataset's label order where it is cheap to read (MULAN's XML); None elsewhere."""
    if cfg.dataset != "mulan":
        return None
    from ..datasets.arff import mulan_files, mulan_labels

    _, xml = mulan_files(annotation_path(cfg.annotations, cfg.root, split, None), split)
    return mulan_labels(xml) if xml is not None else None


def _check_paths(cfg: TrainConfig, splits: tuple[str, str]) -> None:
    if cfg.dataset == "mulan":
        from ..datasets.arff import mulan_files

        for split in splits:
            mulan_files(annotation_path(cfg.annotations, cfg.root, split, None), split)
        return
    if cfg.root is None:
        raise ConfigError(f"--root is required for dataset {cfg.dataset!r} (the folder of its images)")
    if not Path(cfg.root).is_dir():
        raise DataError(f"{cfg.root}: --root is not a folder")
    default = str(Path(cfg.root) / "{split}.csv") if cfg.dataset == "imagefolder" else str(cfg.root)
    for split in splits:
        path = annotation_path(cfg.annotations, cfg.root, split, default)
        if not path.exists():
            raise DataError(f"{path}: no such annotation file or folder (split {split!r})")


def check_run(cfg: TrainConfig) -> RunInputs:
    """Check ``cfg`` without torch: option ranges, input paths, the graph and embeddings files and
    their labels (against each other, and against the dataset's where that is cheap to read).

    Raises :class:`~labelgraph.errors.ConfigError`, :class:`~labelgraph.errors.DataError` or
    :class:`~labelgraph.errors.LabelMismatchError` naming the option or file.

    Examples
    --------
    >>> check_run(TrainConfig(dataset="mulan", annotations="/nonexistent/scene", backbone="features"))
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: /nonexistent/scene: no scene-train.arff or scene-train.arff.gz beside it
    """
    cfg = cfg.validate()
    splits = resolve_splits(cfg)
    _check_paths(cfg, splits)
    out = Path(cfg.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: --out is a file, not a run folder")
    last = out / "last.pt"
    if cfg.resume and not last.is_file():
        raise ConfigError(f"{out}: --resume, but there is no checkpoint to resume ({last.name} not found)")
    if not cfg.resume and last.is_file():
        raise ConfigError(f"{out}: already holds a run (last.pt); use --resume to continue it or another --out")
    inputs = _read_inputs(cfg.graph, cfg.embeddings)
    labels = _dataset_labels(cfg, splits[0])
    if labels is not None:
        for art, path, what in ((inputs.graph, cfg.graph, "graph"), (inputs.embeddings, cfg.embeddings, "embeddings")):
            _in_order(art, path, what, labels, cfg.align_labels)
    else:  # the dataset's own order is checked once its annotations are read
        _in_order(inputs.embeddings, cfg.embeddings, "embeddings", inputs.graph.labels, cfg.align_labels,
                  f"graph {cfg.graph}")
    return RunInputs(inputs.graph, inputs.embeddings, labels)
