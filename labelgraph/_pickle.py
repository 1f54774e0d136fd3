"""The one restricted unpickler: numpy arrays and plain values, nothing that can run code.

ML-GCN published its statistics and label embeddings as pickles, and gensim saves
``KeyedVectors`` as one.  A pickle can run any code, so labelgraph never calls
``pickle.load`` on a user's file: this unpickler resolves only the globals numpy
needs to rebuild an array (with object dtypes refused) plus, per call, a few inert
classes (gensim's ``KeyedVectors`` mapped to a record class), and refuses every other
global before anything is called, with a :class:`~labelgraph.errors.DataError`
naming the file and the global.  Strings are decoded as latin-1 (Python-2 pickles).

Examples
--------
>>> import pickle, numpy as np
>>> restricted_loads(pickle.dumps({"nums": np.arange(3)}, protocol=2))["nums"].tolist()
[0, 1, 2]
>>> restricted_loads(pickle.dumps(print), name="evil.pkl")
Traceback (most recent call last):
...
labelgraph.errors.DataError: evil.pkl: refused global 'builtins.print' in pickle (only numpy arrays, dicts and scalars are loaded)
"""
from __future__ import annotations

import io
import os
import pickle
from pathlib import Path
from typing import IO, Any, Callable, Mapping

import numpy as np

from .errors import DataError

__all__ = ["restricted_load", "restricted_loads"]


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
    def __init__(self, file: IO[bytes], *, encoding: str, extra: Mapping[tuple[str, str], Any]) -> None:
        super().__init__(file, encoding=encoding)
        self.allowed = {**_ALLOWED, **extra}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise _RefusedGlobal(module, name) from None

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused("persistent id")


def _check_plain(obj: Any, path: str, inert: tuple[type, ...], depth: int = 0) -> None:
    if depth > 20:
        raise DataError(f"{path}: pickle nests too deeply")
    if inert and isinstance(obj, inert):
        _check_plain(vars(obj), path, inert, depth + 1)
        return
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        return
    if isinstance(obj, np.ndarray):
        if type(obj) is not np.ndarray or obj.dtype.hasobject:
            raise DataError(f"{path}: refused array of type {type(obj).__name__} / dtype {obj.dtype}")
        return
    if isinstance(obj, np.generic):
        return
    if isinstance(obj, dict):
        for key, value in obj.items():
            _check_plain(key, path, inert, depth + 1)
            _check_plain(value, path, inert, depth + 1)
        return
    if isinstance(obj, (list, tuple, set, frozenset)):
        for value in obj:
            _check_plain(value, path, inert, depth + 1)
        return
    raise DataError(f"{path}: refused object of type {type(obj).__name__}")


def restricted_loads(data: bytes, *, name: str = "<pickle>", extra: Mapping[tuple[str, str], type] | None = None,
                     encoding: str = "latin1") -> Any:
    """Unpickle ``data`` allowing numpy arrays, dicts, lists, tuples, strings and numbers only.

    Parameters
    ----------
    data : bytes
        The pickle.
    name : str
        How error messages name the file.
    extra : mapping, optional
        ``(module, name) → class`` of inert record classes to allow as well; their
        instances' attributes are checked like everything else.
    encoding : str
        For Python-2 ``str`` objects.

    Examples
    --------
    >>> import pickle, numpy as np
    >>> restricted_loads(pickle.dumps([np.float32(1.5), "a"], protocol=2))
    [np.float32(1.5), 'a']
    """
    extra = dict(extra or {})
    try:
        obj = _RestrictedUnpickler(io.BytesIO(data), encoding=encoding, extra=extra).load()
    except _Refused as exc:
        raise DataError(f"{name}: refused {exc} in pickle (only numpy arrays, dicts and scalars are loaded)") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, UnicodeDecodeError, MemoryError, OverflowError) as exc:
        raise DataError(f"{name}: not a readable pickle of numpy arrays ({type(exc).__name__}: {exc})") from None
    _check_plain(obj, name, tuple(extra.values()))
    return obj


def restricted_load(path: str | os.PathLike[str], *, extra: Mapping[tuple[str, str], type] | None = None,
                    encoding: str = "latin1") -> Any:
    """:func:`restricted_loads` on the file at ``path``; a :class:`DataError` naming it when absent.

    Examples
    --------
    >>> import pickle, tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ok.pkl"
    >>> _ = p.write_bytes(pickle.dumps({"nums": np.arange(3)}, protocol=2))
    >>> restricted_load(p)["nums"].tolist()
    [0, 1, 2]
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such pickle file")
    return restricted_loads(path.read_bytes(), name=str(path), extra=extra, encoding=encoding)
