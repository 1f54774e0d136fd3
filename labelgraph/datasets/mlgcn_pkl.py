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
import pickle
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..artifact import Artifact
from ..errors import ConfigError, DataError
from ._common import data_error, file_record, require_file, resolve_labels

__all__ = ["restricted_load", "read_mlgcn_adj", "read_mlgcn_pkl", "KNOWN_NUM_SAMPLES"]

log = logging.getLogger(__name__)

#: ``N`` behind ML-GCN's published pickles, which do not store it: COCO 2014 train images with at
#: least one instance annotation, and VOC 2007 trainval images.
KNOWN_NUM_SAMPLES: dict[str, int] = {"coco_adj.pkl": 82081, "voc_adj.pkl": 5011}


def _safe_dtype(*args: Any) -> np.dtype:
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise _Refused(f"object dtype {dtype}")
    return dtype


def _safe_scalar(dtype: Any, *args: Any) -> Any:
    if not isinstance(dtype, np.dtype) or dtype.hasobject:
        raise _Refused("numpy scalar of object dtype")
    return _NUMPY_SCALAR(dtype, *args)


def _latin1_bytes(text: Any, encoding: str = "latin1") -> bytes:
    # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(str, "latin1").
    if not isinstance(text, str) or encoding.lower().replace("-", "") != "latin1":
        raise _Refused("_codecs.encode other than str -> latin1 bytes")
    return text.encode("latin1")


def _safe_frombuffer(buf: Any, dtype: Any, shape: Any, order: str, axis_order: Any = None) -> np.ndarray:
    # Protocol-5 pickles of arrays (numpy >= 1.16) rebuild them from an in-band buffer.
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(buf, (bytes, bytearray)):
        raise _Refused("_frombuffer of object dtype or non-bytes buffer")
    array = np.frombuffer(bytes(buf), dtype=dtype)
    if order == "K" and axis_order is not None:
        return array.reshape(shape, order="C").transpose(axis_order).copy()
    return array.reshape(shape, order=order).copy()


def _numpy_internals() -> tuple[Callable[..., Any], Callable[..., Any]]:
    try:
        from numpy._core import multiarray as ma  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray as ma  # type: ignore[no-redef]
    return ma._reconstruct, ma.scalar


_NUMPY_RECONSTRUCT, _NUMPY_SCALAR = _numpy_internals()

#: (module, name) → the object handed to the unpickler.  Nothing else is ever imported.
_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _NUMPY_RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _NUMPY_RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _safe_dtype,
    ("numpy.core.multiarray", "scalar"): _safe_scalar,
    ("numpy._core.multiarray", "scalar"): _safe_scalar,
    ("numpy.core.numeric", "_frombuffer"): _safe_frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _safe_frombuffer,
    ("_codecs", "encode"): _latin1_bytes,
}


class _Refused(pickle.UnpicklingError):
    """Something the restricted unpickler will not build; the message says what."""


class _RefusedGlobal(_Refused):
    def __init__(self, module: str, name: str) -> None:
        super().__init__(f"global '{module}.{name}'")


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise _RefusedGlobal(module, name) from None

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused("persistent id")


def _check_plain(obj: Any, path: Path, depth: int = 0) -> None:
    if depth > 20:
        raise data_error(path, "pickle nests too deeply")
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        return
    if isinstance(obj, np.ndarray):
        if type(obj) is not np.ndarray or obj.dtype.hasobject:
            raise data_error(path, f"refused array of type {type(obj).__name__} / dtype {obj.dtype}")
        return
    if isinstance(obj, np.generic):
        return
    if isinstance(obj, dict):
        for key, value in obj.items():
            _check_plain(key, path, depth + 1)
            _check_plain(value, path, depth + 1)
        return
    if isinstance(obj, (list, tuple)):
        for value in obj:
            _check_plain(value, path, depth + 1)
        return
    raise data_error(path, f"refused object of type {type(obj).__name__}")


def restricted_load(path: str | os.PathLike[str], *, encoding: str = "latin1") -> Any:
    """Unpickle ``path`` allowing numpy arrays, dicts, lists, tuples, strings and numbers only.

    Any other global named in the pickle (``os.system``, ``builtins.eval``, a
    class of your own, …) is refused when the unpickler meets it, before
    anything is called, with a :class:`DataError` naming the file and the global.
    ``encoding="latin1"`` reads Python-2 pickles of numpy arrays.

    Parameters
    ----------
    path : path
        The pickle file.
    encoding : str
        Passed to :class:`pickle.Unpickler` for Python-2 ``str`` objects.

    Returns
    -------
    object
        The unpickled value (nested dicts/lists/tuples of plain values and arrays).

    Examples
    --------
    >>> import pickle, tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ok.pkl"
    >>> _ = p.write_bytes(pickle.dumps({"nums": np.arange(3)}, protocol=2))
    >>> restricted_load(p)["nums"].tolist()
    [0, 1, 2]
    >>> _ = p.write_bytes(pickle.dumps(print))
    >>> restricted_load(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: ...ok.pkl: refused global 'builtins.print' in pickle (only numpy arrays, dicts and scalars are loaded)
    """
    path = require_file(path, "pickle file")
    try:
        with open(path, "rb") as handle:
            obj = _RestrictedUnpickler(handle, encoding=encoding).load()
    except _Refused as exc:
        raise data_error(path, f"refused {exc} in pickle "
                               "(only numpy arrays, dicts and scalars are loaded)") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, UnicodeDecodeError, MemoryError, OverflowError) as exc:
        raise data_error(path, f"not a readable pickle of numpy arrays ({type(exc).__name__}: {exc})") from None
    _check_plain(obj, path)
    return obj


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
    >>> import pickle, tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "toy_adj.pkl"
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
    >>> import pickle, tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "voc_adj.pkl"
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
