"""ML-GCN's legacy pickles (``*_adj.pkl``, ``*_glove_word2vec.pkl``) read through a restricted unpickler.

The ML-GCN repository ships Python-2 era pickles: ``coco_adj.pkl`` and
``voc_adj.pkl`` are dicts ``{'nums': n, 'adj': M}`` of int64 numpy arrays.  A
pickle can run arbitrary code when loaded, so :func:`restricted_load` lets
through only what numpy needs to rebuild plain arrays (``ndarray``, ``dtype``,
``_reconstruct``, ``scalar``, ``_frombuffer``; ``_codecs.encode`` limited to latin-1 bytes) and refuses every other global *before* it is
called.  Object dtypes are refused too.  The result may hold only dicts, lists,
tuples, strings, numbers, ``None`` and numeric numpy arrays.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..artifact import Artifact
from .._pickle import restricted_load
from ..errors import ConfigError, DataError
from ._common import data_error, file_record, require_file, resolve_labels

__all__ = ["restricted_load", "read_mlgcn_adj", "read_mlgcn_pkl", "KNOWN_NUM_SAMPLES"]

log = logging.getLogger(__name__)

#: ``N`` behind ML-GCN's published pickles, which do not store it: COCO 2014 train images with at
#: least one instance annotation, and VOC 2007 trainval images.
KNOWN_NUM_SAMPLES: dict[str, int] = {"coco_adj.pkl": 82081, "voc_adj.pkl": 5011}


def read_mlgcn_adj(path: str | os.PathLike[str], labels: Sequence[str] | str | os.PathLike[str],
                   num_samples: int, *, dataset: str | None = None, split: str | None = None,
                   meta: dict[str, Any] | None = None) -> Artifact:
    """Import ML-GCN's ``*_adj.pkl`` (``nums`` = n, ``adj`` = M) as a statistics artifact.

    Parameters
    ----------
    path : path
        ``coco_adj.pkl`` / ``voc_adj.pkl`` or a file of the same layout.
    labels : sequence of str or path
        The label order of the pickle's rows (names, or a label-list file with
        one name per line).  ML-GCN's orders: COCO names sorted alphabetically;
        VOC's standard 20-class order.
    num_samples : int
        ``N``, which the pickle does not store: 82,081 for ML-GCN's COCO 2014
        train (images with at least one instance annotation), 5,011 for VOC 2007
        trainval (:data:`KNOWN_NUM_SAMPLES`).
    dataset, split : str, optional
        Recorded in ``meta``.
    meta : dict, optional
        Extra metadata (origin, credit).

    Returns
    -------
    Artifact
        ``kind == "statistics"``, ``meta["source"]`` naming the file and its sha256.

    Raises
    ------
    DataError
        Refused pickle content, missing keys, wrong shapes, a non-symmetric ``adj``,
        a non-zero diagonal, negative counts, or a label count that does not match.

    Examples
    --------
    >>> import pickle, numpy as np
    >>> p = tmp / "toy_adj.pkl"
    >>> adj = np.array([[0, 2], [2, 0]])
    >>> _ = p.write_bytes(pickle.dumps({"nums": np.array([3, 2]), "adj": adj}, protocol=2))
    >>> s = read_mlgcn_adj(p, ["cat", "dog"], num_samples=4)
    >>> s.kind, s.n.tolist(), s.num_samples, s.matrix.toarray().tolist()
    ('statistics', [3, 2], 4, [[0, 2], [2, 0]])
    """
    path = require_file(path, "ML-GCN adjacency pickle")
    names = resolve_labels(labels)
    obj = restricted_load(path)
    if not isinstance(obj, dict) or "nums" not in obj or "adj" not in obj:
        keys = sorted(map(str, obj)) if isinstance(obj, dict) else type(obj).__name__
        raise data_error(path, f"expected a dict with 'nums' and 'adj', got {keys}")
    nums = np.asarray(obj["nums"])
    adj = np.asarray(obj["adj"])
    c = len(names)
    if nums.shape != (c,):
        raise data_error(path, f"'nums' has shape {nums.shape}, expected ({c},) for {c} labels")
    if adj.shape != (c, c):
        raise data_error(path, f"'adj' has shape {adj.shape}, expected ({c}, {c})")
    for key, arr in (("nums", nums), ("adj", adj)):
        if not (np.issubdtype(arr.dtype, np.integer)
                or (np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr)))):
            raise data_error(path, f"'{key}' holds non-integer values (dtype {arr.dtype})")
        if (arr < 0).any():
            raise data_error(path, f"'{key}' holds negative counts")
    nums = nums.astype(np.int64)
    adj = adj.astype(np.int64)
    if not np.array_equal(adj, adj.T):
        i, j = np.argwhere(adj != adj.T)[0]
        raise data_error(path, f"'adj' is not symmetric (adj[{i},{j}]={adj[i, j]} vs adj[{j},{i}]={adj[j, i]})")
    if np.any(np.diag(adj) != 0):
        i = int(np.flatnonzero(np.diag(adj))[0])
        raise data_error(path, f"'adj' has a non-zero diagonal (label {names[i]!r}: {adj[i, i]})")
    if int(num_samples) < 1:
        raise DataError(f"{path}: num_samples must be positive, got {num_samples}")
    if (nums > num_samples).any():
        i = int(np.argmax(nums))
        raise data_error(path, f"label {names[i]!r} has {nums[i]} samples, more than num_samples={num_samples}")
    if (adj > nums[:, None]).any():
        i, j = np.argwhere(adj > nums[:, None])[0]
        raise data_error(path, f"co-occurrence of {names[i]!r} and {names[j]!r} ({adj[i, j]}) exceeds "
                               f"the count of {names[i]!r} ({nums[i]})")
    info: dict[str, Any] = {
        "dataset": dataset,
        "split": split,
        "reader": "mlgcn-pkl",
        "files": [file_record(path)],
        "num_samples_given": int(num_samples),
    }
    info.update(meta or {})
    return Artifact.statistics(names, nums, adj, int(num_samples), info)


def read_mlgcn_pkl(path: str | os.PathLike[str], split: str | None = None, *,
                   labels: Sequence[str] | str | os.PathLike[str] | None = None,
                   num_samples: int | None = None, **_: Any) -> Artifact:
    """The registry's ``mlgcn-pkl`` reader: :func:`read_mlgcn_adj` with ``N`` known for ML-GCN's own files.

    ``labels`` (``--labels FILE``) is required: the pickle holds no label names.
    ``num_samples`` defaults to :data:`KNOWN_NUM_SAMPLES` for ``coco_adj.pkl`` and ``voc_adj.pkl``.

    Examples
    --------
    >>> import pickle, numpy as np
    >>> p = tmp / "voc_adj.pkl"
    >>> _ = p.write_bytes(pickle.dumps({"nums": np.array([3, 2]), "adj": np.array([[0, 1], [1, 0]])}, protocol=2))
    >>> read_mlgcn_pkl(p, labels=["cat", "dog"]).num_samples
    5011
    """
    path = Path(path)
    if labels is None:
        raise ConfigError(f"{path}: --labels FILE is required for mlgcn-pkl (the pickle holds no label names)")
    if num_samples is None:
        num_samples = KNOWN_NUM_SAMPLES.get(path.name)
        if num_samples is None:
            raise ConfigError(f"{path}: --num-samples N is required (the pickle does not store N)")
    return read_mlgcn_adj(path, labels, int(num_samples), split=split)
