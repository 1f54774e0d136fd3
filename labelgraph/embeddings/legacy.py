"""ML-GCN's ``*_glove_word2vec.pkl`` label embeddings, read through a restricted unpickler.

ML-GCN published its GloVe label embeddings as Python pickles of one numpy array
(``coco_glove_word2vec.pkl``: 80 × 300 float32).  A pickle can run any code, so
labelgraph never calls ``pickle.load`` on one: :class:`RestrictedUnpickler` resolves
only the globals numpy needs to rebuild an array (``_reconstruct``, ``ndarray``,
``dtype``, ``scalar``, ``_frombuffer``, and ``_codecs.encode`` for bytes in protocol-2 pickles) and refuses every other global with a
:class:`~labelgraph.errors.DataError` naming the file and the global.  Strings are
decoded as latin-1, as Python-2 pickles require.

Examples
--------
>>> import io, pickle, numpy as np
>>> restricted_loads(pickle.dumps(np.eye(2, dtype=np.float32))).tolist()
[[1.0, 0.0], [0.0, 1.0]]
>>> restricted_loads(pickle.dumps(print), name="evil.pkl")
Traceback (most recent call last):
...
labelgraph.errors.DataError: evil.pkl: refused to unpickle builtins.print (only numpy arrays, dtypes and plain values are allowed)
"""
from __future__ import annotations

import codecs
import hashlib
import importlib
import io
import os
import pickle
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ..errors import DataError, LabelMismatchError

if TYPE_CHECKING:
    from ..artifact import Artifact

__all__ = ["RestrictedUnpickler", "restricted_load", "restricted_loads", "read_mlgcn_pickle", "import_mlgcn_pickle"]


def _numpy_globals() -> dict[tuple[str, str], Any]:
    core = importlib.import_module("numpy._core" if hasattr(np, "_core") else "numpy.core")
    multiarray = importlib.import_module(core.__name__ + ".multiarray")
    numeric = importlib.import_module(core.__name__ + ".numeric")
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        # Python 3 pickles of protocol <= 2 spell bytes as _codecs.encode(str, "latin1")
        ("_codecs", "encode"): codecs.encode,
    }
    for prefix in ("numpy.core", "numpy._core"):
        allowed[(f"{prefix}.multiarray", "_reconstruct")] = multiarray._reconstruct
        allowed[(f"{prefix}.multiarray", "scalar")] = multiarray.scalar
        if hasattr(numeric, "_frombuffer"):
            allowed[(f"{prefix}.numeric", "_frombuffer")] = numeric._frombuffer
    return allowed


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds numpy arrays and plain values and nothing else.

    Parameters
    ----------
    file : binary file
        The pickle stream.
    name : str
        How error messages name the file.
    extra : mapping, optional
        More ``(module, name) → object`` globals to allow (the gensim reader maps
        gensim's ``KeyedVectors`` class to an inert record class this way).
    """

    def __init__(self, file: IO[bytes], name: str = "<pickle>",
                 extra: Mapping[tuple[str, str], Any] | None = None) -> None:
        super().__init__(file, encoding="latin1")
        self.name = name
        self.allowed = {**_numpy_globals(), **(extra or {})}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise DataError(f"{self.name}: refused to unpickle {module}.{name} "
                            "(only numpy arrays, dtypes and plain values are allowed)") from None

    def persistent_load(self, pid: Any) -> Any:
        raise DataError(f"{self.name}: refused a persistent id in the pickle (not a plain array pickle)")


def restricted_loads(data: bytes, *, name: str = "<pickle>",
                     extra: Mapping[tuple[str, str], Any] | None = None) -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler`; a :class:`DataError` for anything refused or broken.

    Examples
    --------
    >>> import pickle, numpy as np
    >>> restricted_loads(pickle.dumps([np.float32(1.5), "a"], protocol=2))
    [np.float32(1.5), 'a']
    """
    return _load(io.BytesIO(data), name, extra)


def restricted_load(path: str | os.PathLike[str], *,
                    extra: Mapping[tuple[str, str], Any] | None = None) -> Any:
    """Unpickle the file at ``path`` with :class:`RestrictedUnpickler`.

    Examples
    --------
    >>> import pickle, tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.pkl"
    >>> _ = p.write_bytes(pickle.dumps({"nums": np.arange(3)}, protocol=2))
    >>> restricted_load(p)["nums"].tolist()
    [0, 1, 2]
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    with open(path, "rb") as f:
        return _load(f, str(path), extra)


def _load(f: IO[bytes], name: str, extra: Mapping[tuple[str, str], Any] | None) -> Any:
    try:
        return RestrictedUnpickler(f, name, extra).load()
    except DataError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, UnicodeDecodeError) as exc:
        raise DataError(f"{name}: not a readable pickle ({type(exc).__name__}: {exc})") from None


def read_mlgcn_pickle(path: str | os.PathLike[str]) -> np.ndarray:
    """The C × d float32 matrix in an ML-GCN ``*_glove_word2vec.pkl``.

    Raises
    ------
    DataError
        A refused global, an unreadable pickle, or anything but a 2-D numeric array.

    Examples
    --------
    >>> import pickle, tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "voc_glove_word2vec.pkl"
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
    >>> import pickle, tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "two.pkl"
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
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    meta = {
        "source": {"path": str(path), "fingerprint": {"method": "sha256", "sha256": digest,
                                                      "size": path.stat().st_size}},
        "format": "mlgcn-pickle",
        "dimension": int(vectors.shape[1]),
        "note": "imported from an ML-GCN pickle: rows taken as given, no lookup",
    }
    return Artifact.embeddings(labels, vectors, meta)
