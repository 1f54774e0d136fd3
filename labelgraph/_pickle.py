"""The one restricted unpickler: numpy arrays and plain values, nothing that can run code.

ML-GCN published its statistics and label embeddings as pickles, and gensim saves
``KeyedVectors`` as one.  A pickle can run any code, so labelgraph never calls
``pickle.load`` on a user's file: this unpickler resolves only the globals numpy
needs to rebuild an array (with object dtypes refused) plus, per call, a few inert
classes (gensim's ``KeyedVectors`` mapped to a record class), and refuses every other
global before anything is called, with a :class:`~labelgraph.errors.DataError`
naming the file and the global.  Strings are decoded as latin-1 (Python-2 pickles).

A few hundred bytes of pickle can describe a structure of billions of elements
(containers that reference the same memo entries again and again), so the
unpickler is the pure-Python one (its memo is a dict: a huge memo index costs
nothing), an array may not declare more bytes than the pickle holds, and the
result is refused when it nests deeper than :data:`MAX_DEPTH` or, counted as a
tree (a shared container once per reference), holds more elements than
``max(len(data), MIN_ELEMENTS)``: a pickle written by pickle.dump never does.

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
import math
import os
import pickle
import struct
from pathlib import Path
from typing import IO, Any, Callable, Mapping

import numpy as np

from .errors import DataError

__all__ = ["restricted_load", "restricted_loads", "MAX_DEPTH", "MIN_ELEMENTS"]

#: Deepest nesting of containers accepted (ML-GCN's and gensim's pickles nest at most 4 deep).
MAX_DEPTH = 20
#: Elements (each container, string, number, array counts 1) always accepted, whatever the pickle's size.
MIN_ELEMENTS = 100_000


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


class _NdarrayClass:
    """Stands for ``numpy.ndarray`` in a pickle: only :class:`_BoundReconstruct` turns it into the class.

    Calling ``numpy.ndarray(shape)`` directly (REDUCE, NEWOBJ) would allocate any size
    the pickle asks for; calling this builds an inert object that is refused later.
    """


def _declared_bytes(shape: Any, dtype: Any) -> int:
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    if not all(isinstance(d, int) and d >= 0 for d in dims):
        raise _Refused(f"array shape {shape!r}")
    return math.prod(dims) * np.dtype(dtype).itemsize


def _numpy_internals() -> tuple[Callable[..., Any], Callable[..., Any]]:
    try:
        from numpy._core import multiarray as ma  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray as ma  # type: ignore[no-redef]
    return ma._reconstruct, ma.scalar


_NUMPY_RECONSTRUCT, _NUMPY_SCALAR = _numpy_internals()


class _BoundReconstruct:
    """numpy's ``_reconstruct`` for ``ndarray`` only, refusing a shape larger than the pickle itself."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, cls: Any, shape: Any, dtype: Any) -> np.ndarray:
        if cls is not _NdarrayClass:
            raise _Refused("_reconstruct of a class other than numpy.ndarray")
        declared = _declared_bytes(shape, dtype)
        if declared > self.limit:
            raise _Refused(f"a {declared:,}-byte array (the pickle holds {self.limit:,} bytes)")
        return _NUMPY_RECONSTRUCT(np.ndarray, shape, dtype)


#: (module, name) → the object handed to the unpickler.  Nothing else is ever imported.
_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): _NdarrayClass,
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


class _RestrictedUnpickler(pickle._Unpickler):  # type: ignore[name-defined]
    # The pure-Python unpickler: the C one grows its memo array to any index a PUT names.
    def __init__(self, file: IO[bytes], *, encoding: str, extra: Mapping[tuple[str, str], Any],
                 size: int) -> None:
        super().__init__(file, encoding=encoding)
        reconstruct = _BoundReconstruct(size)
        self.allowed = {**_ALLOWED, ("numpy.core.multiarray", "_reconstruct"): reconstruct,
                        ("numpy._core.multiarray", "_reconstruct"): reconstruct, **extra}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise _RefusedGlobal(module, name) from None

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused("persistent id")


class _Walk:
    """Checks the unpickled value: plain types only, depth and tree size bounded, no cycles.

    Each distinct object is visited once; a shared one adds its (memoized) tree size
    again at every reference, so a few hundred bytes that describe 2**30 elements are
    refused after a few dozen visits.
    """

    def __init__(self, path: str, inert: tuple[type, ...], max_elements: int) -> None:
        self.path = path
        self.inert = inert
        self.max_elements = max_elements
        self.sizes: dict[int, tuple[int, int]] = {}  # id → (tree size, height)
        self.open: set[int] = set()

    def size(self, obj: Any, depth: int = 0) -> tuple[int, int]:
        if depth > MAX_DEPTH:
            raise DataError(f"{self.path}: pickle nests deeper than {MAX_DEPTH} levels")
        if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes, np.generic)):
            return 1, 0
        if isinstance(obj, np.ndarray):
            if type(obj) is not np.ndarray or obj.dtype.hasobject:
                raise DataError(f"{self.path}: refused array of type {type(obj).__name__} / dtype {obj.dtype}")
            return 1, 0
        key = id(obj)
        known = self.sizes.get(key)
        if known is not None:
            if depth + known[1] > MAX_DEPTH:
                raise DataError(f"{self.path}: pickle nests deeper than {MAX_DEPTH} levels")
            return known
        if key in self.open:
            raise DataError(f"{self.path}: pickle holds a container that contains itself")
        self.open.add(key)
        total, height = 1, 0
        for child in self._children(obj):
            n, h = self.size(child, depth + 1)
            total += n
            height = max(height, h + 1)
            if total > self.max_elements:
                raise DataError(f"{self.path}: pickle describes more than {self.max_elements:,} elements "
                                "(shared references expand it far beyond its size); refused")
        self.open.discard(key)
        self.sizes[key] = (total, height)
        return total, height

    def _children(self, obj: Any) -> Any:
        if self.inert and isinstance(obj, self.inert):
            return [vars(obj)]
        if isinstance(obj, dict):
            return [x for pair in obj.items() for x in pair]
        if isinstance(obj, (list, tuple, set, frozenset)):
            return obj
        raise DataError(f"{self.path}: refused object of type {type(obj).__name__}")


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
        obj = _RestrictedUnpickler(io.BytesIO(data), encoding=encoding, extra=extra, size=len(data)).load()
    except _Refused as exc:
        raise DataError(f"{name}: refused {exc} in pickle (only numpy arrays, dicts and scalars are loaded)") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, UnicodeDecodeError, MemoryError, OverflowError, struct.error) as exc:
        raise DataError(f"{name}: not a readable pickle of numpy arrays ({type(exc).__name__}: {exc})") from None
    _Walk(name, tuple(extra.values()), max(len(data), MIN_ELEMENTS)).size(obj)
    return obj


def restricted_load(path: str | os.PathLike[str], *, extra: Mapping[tuple[str, str], type] | None = None,
                    encoding: str = "latin1") -> Any:
    """:func:`restricted_loads` on the file at ``path``; a :class:`DataError` naming it when absent.

    Examples
    --------
    >>> import pickle, numpy as np
    >>> p = tmp / "ok.pkl"
    >>> _ = p.write_bytes(pickle.dumps({"nums": np.arange(3)}, protocol=2))
    >>> restricted_load(p)["nums"].tolist()
    [0, 1, 2]
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such pickle file")
    return restricted_loads(path.read_bytes(), name=str(path), extra=extra, encoding=encoding)
