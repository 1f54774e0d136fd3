"""Read and validate an artifact ``.npz`` once, at load: a file from any program is either valid or refused.

Reading (:func:`read_arrays`) trusts nothing in the zip: each member's declared
size in the central directory must agree with its ``.npy`` header, small members
(``kind``, ``shape``, ``format``, ``num_samples``, ``meta``) have absolute caps, and
large members must have the shapes that ``shape``, ``indptr`` and ``labels``
allow before a byte of their data is inflated.  A member whose declared size
is far beyond its compressed size is refused as a likely zip bomb.

Checking (:func:`check_arrays`) then looks at the values: index ranges and
``indptr`` order, finite weights, and the per-kind rules of :data:`KIND_RULES`.
Numeric code downstream trusts what passes.
"""
from __future__ import annotations

import json
import math
import zipfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ArtifactError
from .graphs.kinds import OTHER_GRAPH_KINDS, STATISTICAL_KINDS

__all__ = ["KindRule", "KIND_RULES", "known_kinds", "MAX_LABELS", "MAX_LABEL_CHARS", "MAX_META_BYTES",
           "read_arrays", "check_arrays", "parse_meta", "member_text"]


def known_kinds() -> tuple[str, ...]:
    """Every artifact kind (SPEC §4): statistics, each graph kind of the registry, embeddings.

    Examples
    --------
    >>> known_kinds()[0], known_kinds()[-1]
    ('statistics', 'embeddings')
    """
    return ("statistics", *STATISTICAL_KINDS, *OTHER_GRAPH_KINDS, "embeddings")
#: More labels than this is refused at load (a corrupt ``shape`` rather than a label set).
MAX_LABELS = 10_000_000
#: Longest label name, in characters.
MAX_LABEL_CHARS = 4096
#: Largest ``meta`` JSON member, in bytes.
MAX_META_BYTES = 16 * 2**20
_SMALL_CAP = 4096
_BOMB_FLOOR = 64 * 2**20
_BOMB_RATIO = 100
_KNOWN_KEYS = ("labels", "kind", "meta", "data", "indices", "indptr", "row", "col", "shape", "format",
               "n", "num_samples", "vectors")


@dataclass(frozen=True)
class KindRule:
    """What the values of one artifact kind must satisfy (all kinds: finite weights, valid indices).

    Attributes
    ----------
    counts : bool
        Statistics: ``M``, ``n`` and ``N`` are non-negative whole numbers with
        ``n_i ≤ N`` and ``M_ij ≤ min(n_i, n_j)``.
    nonnegative : bool
        No negative matrix entry.
    zero_diagonal : bool
        The diagonal must be zero; a non-zero one is dropped with a warning.
    """

    counts: bool = False
    nonnegative: bool = False
    zero_diagonal: bool = False


#: The per-kind rules, in one place (SPEC §1, §2.5, §4).
KIND_RULES: dict[str, KindRule] = {
    "statistics": KindRule(counts=True, nonnegative=True),
    "knowledge": KindRule(nonnegative=True, zero_diagonal=True),
}


@dataclass(frozen=True)
class _Header:
    info: zipfile.ZipInfo
    stream: Any
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    nbytes: int


def _fail(path: Path, key: str, message: str) -> ArtifactError:
    return ArtifactError(f"{path}: {key}: {message}")


def _header(path: Path, zf: zipfile.ZipFile, key: str, info: zipfile.ZipInfo, stack: ExitStack) -> _Header:
    """The member's ``.npy`` header, its stream left open just after it."""
    fmt = np.lib.format
    fp = stack.enter_context(zf.open(info))
    try:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fp, max_header_size=_SMALL_CAP)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(fp, max_header_size=_SMALL_CAP)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, EOFError, SyntaxError) as exc:
        raise _fail(path, key, f"not a readable .npy member ({exc})") from None
    if dtype.hasobject:
        raise ArtifactError(f"{path}: holds pickled objects, which labelgraph never loads")
    shape = tuple(int(x) for x in shape)
    nbytes = math.prod(shape) * dtype.itemsize
    if fp.tell() + nbytes != info.file_size:
        raise _fail(path, key, f"the zip declares {info.file_size:,} bytes but the array header "
                               f"{shape} {dtype} needs {fp.tell() + nbytes:,}")
    return _Header(info, fp, shape, dtype, bool(fortran), nbytes)


def _read(path: Path, key: str, header: _Header) -> np.ndarray:
    info = header.info
    if info.file_size > _BOMB_FLOOR and info.file_size > _BOMB_RATIO * max(1, info.compress_size):
        raise _fail(path, key, f"{info.file_size:,} bytes compressed into {info.compress_size:,} "
                               f"(over {_BOMB_RATIO}:1); refusing a likely zip bomb")
    buffer = bytearray(header.nbytes)
    view = memoryview(buffer)
    done = 0
    while done < len(buffer):
        got = header.stream.readinto(view[done:done + 2**22])
        if not got:
            raise _fail(path, key, "member ends before its array data")
        done += got
    order = "F" if header.fortran else "C"
    return np.frombuffer(buffer, dtype=header.dtype).reshape(header.shape, order=order)


def _expect(path: Path, key: str, header: _Header, shape: tuple[int, ...], kinds: str, what: str) -> None:
    if header.shape != shape:
        raise _fail(path, key, f"shape {header.shape}, expected {shape}")
    if header.dtype.kind not in kinds:
        raise _fail(path, key, f"dtype {header.dtype} is not {what}")


def member_text(path: Path, key: str, arr: np.ndarray) -> str:
    """The one string a member such as ``kind`` or ``format`` holds (0-d or one element).

    Examples
    --------
    >>> member_text(Path("g.npz"), "format", np.array(b"csr"))
    'csr'
    """
    if arr.dtype.kind not in "US" or arr.size != 1 or arr.ndim > 1:
        raise _fail(path, key, f"expected one string, got a {arr.dtype} array of shape {arr.shape}")
    value = arr.reshape(()).item()
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an artifact ``.npz``, each checked against the zip and the others before it is inflated.

    Members outside the SPEC §4 layout are never read.

    Examples
    --------
    >>> import labelgraph
    >>> sorted(read_arrays(labelgraph.bundled_path("voc2007")))[:4]
    ['data', 'format', 'indices', 'indptr']
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: not a readable .npz ({type(exc).__name__}: {exc})") from None
    with zf, ExitStack() as stack:
        infos = {i.filename[:-4]: i for i in zf.infolist() if i.filename.endswith(".npy")}
        for key in ("labels", "kind"):
            if key not in infos:
                raise ArtifactError(f"{path}: missing key {key!r}; not a labelgraph artifact")
        headers = {k: _header(path, zf, k, infos[k], stack) for k in _KNOWN_KEYS if k in infos}
        arrays: dict[str, np.ndarray] = {}
        for key in ("kind", "format", "shape", "num_samples", "meta"):
            if key in headers:
                cap = MAX_META_BYTES if key == "meta" else _SMALL_CAP
                if headers[key].info.file_size > cap:
                    raise _fail(path, key, f"{headers[key].info.file_size:,} bytes, more than the {cap:,} allowed")
                arrays[key] = _read(path, key, headers[key])
        kind = member_text(path, "kind", arrays["kind"]).strip()
        if kind not in known_kinds():
            raise ArtifactError(f"{path}: kind: unknown artifact kind {kind!r} (known: {', '.join(known_kinds())})")

        lab = headers["labels"]
        if len(lab.shape) != 1:
            raise _fail(path, "labels", f"expected a 1-D array of names, got shape {lab.shape}")
        if lab.dtype.kind not in "US":
            raise _fail(path, "labels", f"label names must be strings, got dtype {lab.dtype}")
        c = lab.shape[0]
        if c > MAX_LABELS:
            raise _fail(path, "labels", f"{c:,} labels, more than the {MAX_LABELS:,} allowed")
        chars = lab.dtype.itemsize // (4 if lab.dtype.kind == "U" else 1)
        if chars > MAX_LABEL_CHARS:
            raise _fail(path, "labels", f"names up to {chars:,} characters, more than the {MAX_LABEL_CHARS:,} allowed")
        arrays["labels"] = _read(path, "labels", lab)

        def need(key: str) -> _Header:
            if key not in headers:
                raise ArtifactError(f"{path}: a {kind} artifact needs {key!r}")
            return headers[key]

        if kind == "embeddings":
            vec = need("vectors")
            if len(vec.shape) != 2 or vec.shape[0] != c:
                raise _fail(path, "vectors", f"shape {vec.shape}, expected ({c}, d) for {c} labels")
            if vec.shape[1] < 1:
                raise _fail(path, "vectors", "zero-width vectors (d = 0)")
            _expect(path, "vectors", vec, vec.shape, "biuf", "a real number type")
            arrays["vectors"] = _read(path, "vectors", vec)
            return arrays

        need("shape")
        need("format")
        fmt = member_text(path, "format", arrays["format"])
        shape = arrays["shape"]
        if shape.shape != (2,) or shape.dtype.kind not in "iu":
            raise _fail(path, "shape", f"expected two whole numbers, got {shape.dtype} {shape.shape}")
        if tuple(int(x) for x in shape) != (c, c):
            raise _fail(path, "shape", f"{tuple(int(x) for x in shape)} does not match the {c} labels")
        if fmt in ("csr", "csc"):
            _expect(path, "indptr", need("indptr"), (c + 1,), "iu", "an integer type")
            indptr = arrays["indptr"] = _read(path, "indptr", headers["indptr"])
            if indptr[0] != 0 or (c and (np.diff(indptr) < 0).any()):
                raise _fail(path, "indptr", "must start at 0 and never decrease")
            nnz = int(indptr[-1])
            index_keys = ("indices",)
        elif fmt == "coo":
            if len(need("row").shape) != 1:
                raise _fail(path, "row", f"expected a 1-D array, got shape {headers['row'].shape}")
            nnz = headers["row"].shape[0]
            index_keys = ("row", "col")
        else:
            raise _fail(path, "format", f"unsupported sparse format {fmt!r} (csr, csc or coo)")
        if not 0 <= nnz <= c * c:
            raise _fail(path, index_keys[0], f"{nnz:,} entries cannot fit a {c} x {c} matrix")
        for key in index_keys:
            _expect(path, key, need(key), (nnz,), "iu", "an integer type")
        _expect(path, "data", need("data"), (nnz,), "biuf", "a real number type")
        if kind == "statistics":
            _expect(path, "n", need("n"), (c,), "biuf", "a number type")
            need("num_samples")
        for key in (*index_keys, "data", *(("n",) if kind == "statistics" else ())):
            arrays[key] = _read(path, key, headers[key])
        return arrays


def parse_meta(path: Path, arr: np.ndarray | None) -> dict[str, Any]:
    """The ``meta`` member as a dict: one JSON object (an absent member is ``{}``).

    Examples
    --------
    >>> parse_meta(Path("x.npz"), np.array('{"tau": 0.4}'))
    {'tau': 0.4}
    """
    if arr is None:
        return {}
    text = member_text(path, "meta", arr)
    try:
        meta = json.loads(text)
    except RecursionError:
        raise _fail(path, "meta", "JSON nested too deeply") from None
    except ValueError as exc:
        raise _fail(path, "meta", f"not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise _fail(path, "meta", f"must be a JSON object, got a {type(meta).__name__}")
    return meta


def _integral(x: np.ndarray) -> bool:
    return x.dtype.kind in "biu" or bool(np.all(np.floor(x) == x))


def check_arrays(path: Path, kind: str, arrays: dict[str, np.ndarray]) -> None:
    """Check the values read by :func:`read_arrays`: indices, finiteness and :data:`KIND_RULES`.

    Examples
    --------
    >>> a = {"data": np.array([1.0]), "indices": np.array([5]), "indptr": np.array([0, 1, 1]),
    ...      "format": np.array("csr"), "labels": np.array(["a", "b"])}
    >>> check_arrays(Path("g.npz"), "binary", a)
    Traceback (most recent call last):
    ...
    labelgraph.errors.ArtifactError: g.npz: indices: column index 5 outside 0..1
    """
    c = len(arrays["labels"])
    if kind == "embeddings":
        if not np.isfinite(arrays["vectors"]).all():
            raise _fail(path, "vectors", "holds NaN or inf")
        return
    fmt = member_text(path, "format", arrays["format"])
    for key in ("indices",) if fmt in ("csr", "csc") else ("row", "col"):
        idx = arrays[key]
        if idx.size and (idx.min() < 0 or idx.max() >= c):
            bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
            what = {"indices": "row" if fmt == "csc" else "column", "row": "row", "col": "column"}[key]
            raise _fail(path, key, f"{what} index {bad} outside 0..{c - 1}")
    data = arrays["data"]
    if data.dtype.kind == "f" and not np.isfinite(data).all():
        raise _fail(path, "data", "holds NaN or inf")
    rule = KIND_RULES.get(kind, KindRule())
    if rule.nonnegative and data.size and data.min() < 0:
        raise _fail(path, "data", f"negative entry {data.min():g}; a {kind} matrix is non-negative")
    if rule.counts:
        _check_counts(path, fmt, arrays, c)


def _check_counts(path: Path, fmt: str, arrays: dict[str, np.ndarray], c: int) -> None:
    n, data = arrays["n"], arrays["data"]
    if not _integral(data):
        raise _fail(path, "data", "co-occurrence counts M must be whole numbers")
    if (n.dtype.kind == "f" and not np.isfinite(n).all()) or not _integral(n) or (n.size and n.min() < 0):
        raise _fail(path, "n", "label counts must be whole numbers >= 0")
    num = arrays["num_samples"]
    if num.size != 1 or num.dtype.kind not in "iuf" or not _integral(num.ravel()) or not np.isfinite(num).all():
        raise _fail(path, "num_samples", f"expected one whole number, got {num.dtype} {num.shape}")
    total = int(num.ravel()[0])
    if total < 0:
        raise _fail(path, "num_samples", f"N = {total} is negative")
    if n.size and n.max() > total:
        i = int(np.argmax(n))
        raise _fail(path, "n", f"label {str(arrays['labels'][i])!r} occurs {int(n[i])} times in N = {total} samples")
    if fmt == "coo":
        rows, cols = arrays["row"], arrays["col"]
    else:
        major = np.repeat(np.arange(c), np.diff(arrays["indptr"]))
        rows, cols = (major, arrays["indices"]) if fmt == "csr" else (arrays["indices"], major)
    over = data > np.minimum(n[rows], n[cols])
    if over.any():
        k = int(np.argmax(over))
        a, b = str(arrays["labels"][rows[k]]), str(arrays["labels"][cols[k]])
        raise _fail(path, "data", f"M[{a!r}, {b!r}] = {data[k]:g} exceeds min(n_i, n_j) = "
                                  f"{min(n[rows[k]], n[cols[k]]):g}; not co-occurrence counts")
