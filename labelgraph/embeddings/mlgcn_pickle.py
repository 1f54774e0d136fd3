"""ML-GCN's ``*_glove_word2vec.pkl`` label embeddings, read through a restricted unpickler.

ML-GCN published its GloVe label embeddings as Python pickles of one numpy array
(``coco_glove_word2vec.pkl``: 80 × 300 float32).  A pickle can run any code, so
labelgraph never calls ``pickle.load`` on one: it goes through the project's one restricted
unpickler (:mod:`labelgraph._pickle`), which rebuilds numpy arrays and plain values and
refuses every other global with a :class:`~labelgraph.errors.DataError` naming the file.

Examples
--------
>>> import io, pickle, numpy as np
>>> restricted_loads(pickle.dumps(np.eye(2, dtype=np.float32))).tolist()
[[1.0, 0.0], [0.0, 1.0]]
>>> restricted_loads(pickle.dumps(print), name="evil.pkl")
Traceback (most recent call last):
...
labelgraph.errors.DataError: evil.pkl: refused global 'builtins.print' in pickle (only numpy arrays, dicts and scalars are loaded)
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from .._pickle import restricted_load, restricted_loads
from ..errors import DataError, LabelMismatchError
from .known_vectors import file_fingerprint

if TYPE_CHECKING:
    from ..artifact import Artifact

__all__ = ["restricted_load", "restricted_loads", "read_mlgcn_pickle", "import_mlgcn_pickle"]


def read_mlgcn_pickle(path: str | os.PathLike[str]) -> np.ndarray:
    """The C × d float32 matrix in an ML-GCN ``*_glove_word2vec.pkl``.

    Raises
    ------
    DataError
        A refused global, an unreadable pickle, or anything but a 2-D numeric array.

    Examples
    --------
    >>> import pickle, numpy as np
    >>> p = tmp / "voc_glove_word2vec.pkl"
    >>> _ = p.write_bytes(pickle.dumps(np.ones((20, 300), np.float32), protocol=2))
    >>> read_mlgcn_pickle(p).shape
    (20, 300)
    """
    value = restricted_load(path)
    if not isinstance(value, np.ndarray) or value.ndim != 2 or value.dtype.kind not in "fiu":
        what = f"a {value.ndim}-D {value.dtype} array" if isinstance(value, np.ndarray) else type(value).__name__
        raise DataError(f"{path}: expected a 2-D numeric array (labels x dimensions), got {what}")
    out = value.astype(np.float32)
    if not np.isfinite(out).all():
        row = int(np.flatnonzero(~np.isfinite(out).all(axis=1))[0])
        raise DataError(f"{path}: row {row} holds NaN or inf")
    return out


def import_mlgcn_pickle(path: str | os.PathLike[str], labels: Sequence[str]) -> "Artifact":
    """An embeddings artifact from an ML-GCN pickle, its rows named by ``labels`` (in the pickle's order).

    Parameters
    ----------
    path : path
        ``coco_glove_word2vec.pkl``, ``voc_glove_word2vec.pkl`` or a pickle of the same kind.
    labels : sequence of str
        One name per row, in row order (ML-GCN: COCO names sorted alphabetically;
        VOC in ``voc.py``'s ``object_categories`` order).

    Raises
    ------
    LabelMismatchError
        ``len(labels)`` differs from the number of rows.

    Examples
    --------
    >>> import pickle, numpy as np
    >>> p = tmp / "two.pkl"
    >>> _ = p.write_bytes(pickle.dumps(np.eye(2, 3, dtype=np.float32), protocol=2))
    >>> art = import_mlgcn_pickle(p, ["cat", "dog"])
    >>> art.kind, art.vectors.shape, art.meta["format"]
    ('embeddings', (2, 3), 'mlgcn-pickle')
    """
    from ..artifact import Artifact

    path = Path(path)
    vectors = read_mlgcn_pickle(path)
    labels = [str(x) for x in labels]
    if len(labels) != vectors.shape[0]:
        raise LabelMismatchError(f"{path}: {vectors.shape[0]} rows but {len(labels)} labels given")
    meta = {
        "source": {"path": str(path), "fingerprint": file_fingerprint(path, limit=None)},
        "format": "mlgcn-pickle",
        "dimension": int(vectors.shape[1]),
        "note": "imported from an ML-GCN pickle: rows taken as given, no lookup",
    }
    return Artifact.embeddings(labels, vectors, meta)
