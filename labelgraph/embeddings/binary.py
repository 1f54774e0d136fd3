"""Binary vector files: word2vec binary (streamed, label-only) and gensim ``KeyedVectors`` saves.

word2vec binary: a ``count dim`` text header line, then ``count`` records, each a
key, one space and ``dim`` little-endian float32 (the original C tool also writes a
newline after each vector; gensim does not — both are read).  Records are walked
one by one and only the wanted ones are converted; the walk stops when every
required key has been seen.

gensim ``KeyedVectors.save()`` writes a pickle (plus ``<file>.vectors.npy`` when the
array is large).  It is read without gensim and without running pickle code: the
restricted unpickler of :mod:`labelgraph.embeddings.mlgcn_pickle` maps gensim's
``KeyedVectors`` classes to an inert record that only receives the saved attributes
(``index_to_key``, ``vectors`` — or gensim 3's ``index2word``/``index2entity`` and
``vectors``/``syn0``); the side array is opened with ``numpy.load(mmap_mode="r",
allow_pickle=False)``, so only the wanted rows are read.

Examples
--------
>>> import numpy as np
>>> from labelgraph.embeddings.formats import open_vectors
>>> p = tmp / "v.bin"
>>> rows = np.array([[1, 2], [3, 4]], dtype="<f4")
>>> _ = p.write_bytes(b"2 2\\ncat " + rows[0].tobytes() + b"\\ndog " + rows[1].tobytes() + b"\\n")
>>> scan_word2vec_binary(open_vectors(p), {"dog"}).vectors["dog"].tolist()
[3.0, 4.0]
"""
from __future__ import annotations

import logging
import pickle
import re
from pathlib import Path
from typing import Any, Collection, Iterable

import numpy as np

from ..errors import DataError
from ..files import progress as progress_bar
from .formats import BLOCK_SIZE, VectorFile
from .mlgcn_pickle import restricted_loads
from .scan import KeyTracker, ScanResult, parse_values

__all__ = ["scan_word2vec_binary", "read_keyed_vectors"]

log = logging.getLogger(__name__)
_MAX_KEY = 4096
_TEXTLIKE = re.compile(rb"^[\x09-\x0d\x20-\x7e]*$")  # printable ASCII: no float32 row looks like this


def scan_word2vec_binary(vf: VectorFile, wanted: Collection[str], *,
                         required: Iterable[Collection[str]] | None = None, dim: int | None = None,
                         progress: bool = False) -> ScanResult:
    """Read the rows of ``wanted`` keys from a word2vec binary file.

    Parameters
    ----------
    vf : VectorFile
        The file (plain, ``.gz`` or a ``.zip`` member).
    wanted, required : see :func:`~labelgraph.embeddings.scan.scan_text`
    dim : int, optional
        The expected dimension (checked against the header).
    progress : bool
        Show a tqdm progress bar over the bytes read.

    Returns
    -------
    ScanResult
        ``lines`` holds record numbers (1 = the first vector).

    Raises
    ------
    DataError
        A missing header, a text file given as binary, a record cut short (the file
        ends before the header's count), a key that never ends, NaN or inf in a wanted row.

    Examples
    --------
    >>> import numpy as np
    >>> from labelgraph.embeddings.formats import open_vectors
    >>> p = tmp / "v.bin"
    >>> body = b"".join(w + b" " + np.array(v, "<f4").tobytes() for w, v in [(b"a", [1, 2]), (b"b", [3, 4])])
    >>> _ = p.write_bytes(b"2 2\\n" + body)
    >>> r = scan_word2vec_binary(open_vectors(p), {"a"})
    >>> r.vectors["a"].tolist(), r.lines["a"], r.stopped_early
    ([1.0, 2.0], 1, True)
    """
    name = vf.name
    wanted_b = {k.encode("utf-8"): k for k in wanted}
    tracker = KeyTracker(wanted, required)
    res = ScanResult()
    bar = progress_bar(total=vf.total_raw(), unit="B", desc=vf.stem, enabled=True) if progress else None
    blocks = vf.blocks(BLOCK_SIZE, bar.update if bar is not None else None)
    try:
        buf = b""
        for block in blocks:
            buf += block
            if b"\n" in buf[:1024] or len(buf) > 1024:
                break
        header, nl, buf = buf.partition(b"\n")
        fields = header.split()
        if not nl or len(fields) != 2 or not all(f.isdigit() for f in fields):
            shown = header[:40].decode("utf-8", "replace")
            raise DataError(f"{name}:1: expected a word2vec 'count dim' header, got {shown!r}")
        count, res.dim = int(fields[0]), int(fields[1])
        res.dim_source = "the header"
        if dim is not None and dim != res.dim:
            raise DataError(f"{name}:1: the header says dimension {res.dim}, expected {dim}")
        size = 4 * res.dim
        pos = 0
        record = 0
        while record < count:
            while pos < len(buf) and buf[pos] == 0x0A:  # the C tool's newline after a vector
                pos += 1
            sp = buf.find(b" ", pos, pos + _MAX_KEY)
            if sp < 0 or sp + 1 + size > len(buf):
                if sp < 0 and len(buf) - pos >= _MAX_KEY:
                    raise DataError(f"{name}: record {record + 1}: no key ends within {_MAX_KEY} bytes "
                                    "(not a word2vec binary file?)")
                more = next(blocks, None)
                if more is None:
                    raise DataError(f"{name}: truncated: the header announces {count} vectors, "
                                    f"the file ends inside record {record + 1}")
                buf = buf[pos:] + more
                pos = 0
                continue
            record += 1
            key_b = buf[pos:sp]
            if record == 1 and _TEXTLIKE.match(buf[sp + 1: sp + 1 + min(size, 256)]):
                raise DataError(f"{name}: the first vector is text, not binary float32; "
                                "use --format word2vec for a word2vec text file")
            key = wanted_b.get(key_b)
            if key is not None:
                if key in res.vectors:
                    res.duplicates.setdefault(key, []).append(record)
                    log.warning("%s: record %d: duplicate key %r (first kept)", name, record, key)
                else:
                    vec = np.frombuffer(buf, dtype="<f4", count=res.dim, offset=sp + 1).astype(np.float32)
                    if not np.isfinite(vec).all():
                        parse_values([repr(float(v)).encode() for v in vec], f"{name}: record {record}", key)
                    res.vectors[key] = vec
                    res.lines[key] = record
                    if tracker.seen(key):
                        res.stopped_early = record < count
                        break
            pos = sp + 1 + size
        res.lines_scanned = record
    finally:
        blocks.close()
        if bar is not None:
            bar.close()
    return res


class _SavedKeyedVectors:
    """An inert stand-in for gensim's KeyedVectors classes: it only receives the pickled attributes."""

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise pickle.UnpicklingError("a KeyedVectors state that is not a dict")
        self.__dict__.update(state)


_GENSIM_CLASSES = {
    (module, cls): _SavedKeyedVectors
    for module in ("gensim.models.keyedvectors",)
    for cls in ("KeyedVectors", "Word2VecKeyedVectors", "EuclideanKeyedVectors", "BaseKeyedVectors", "Vocab")
}


def read_keyed_vectors(vf: VectorFile, wanted: Collection[str]) -> ScanResult:
    """Read the rows of ``wanted`` keys from a gensim ``KeyedVectors.save()`` file, without gensim.

    Examples
    --------
    >>> import pickle, numpy as np
    >>> from labelgraph.embeddings.formats import open_vectors
    >>> p = tmp / "v.kv"
    >>> from gensim.models import KeyedVectors
    >>> kv = KeyedVectors(vector_size=2)
    >>> kv.add_vectors(["cat", "dog"], np.array([[1, 2], [3, 4]], np.float32))
    >>> kv.save(str(p))
    >>> read_keyed_vectors(open_vectors(p), {"dog"}).vectors["dog"].tolist()
    [3.0, 4.0]
    """
    name = vf.name
    if vf.member is not None or vf.gzipped:
        data = b"".join(vf.blocks())
    else:
        data = vf.path.read_bytes()
    obj = restricted_loads(data, name=name, extra=_GENSIM_CLASSES)
    state = obj.__dict__ if isinstance(obj, _SavedKeyedVectors) else None
    if state is None:
        raise DataError(f"{name}: not a gensim KeyedVectors file (the pickle holds a {type(obj).__name__}); "
                        "save model.wv, not the whole model")
    keys = next((state[k] for k in ("index_to_key", "index2word", "index2entity") if state.get(k) is not None), None)
    if keys is None and isinstance(state.get("vocab"), dict):
        keys = sorted(state["vocab"], key=lambda k: _vocab_index(state["vocab"][k]))
    if not isinstance(keys, list):
        raise DataError(f"{name}: a KeyedVectors pickle without index_to_key")
    bad = next((i for i, key in enumerate(keys) if not isinstance(key, str)), None)
    if bad is not None:
        raise DataError(f"{name}: key {bad + 1} of index_to_key is not a string "
                        f"({type(keys[bad]).__name__}: {keys[bad]!r:.60})")
    vectors = _vectors(vf, state, name)
    if vectors.ndim != 2 or vectors.shape[0] != len(keys):
        raise DataError(f"{name}: {len(keys)} keys but a vectors array of shape {vectors.shape}")
    res = ScanResult(dim=int(vectors.shape[1]), dim_source="the vectors array")
    wanted = set(wanted)
    for i, key in enumerate(keys):
        if key in wanted:
            if key in res.vectors:
                res.duplicates.setdefault(key, []).append(i + 1)
                continue
            vec = np.asarray(vectors[i], dtype=np.float32)
            if not np.isfinite(vec).all():
                parse_values([repr(float(v)).encode() for v in vec], f"{name}: row {i + 1}", key)
            res.vectors[key] = vec.copy()
            res.lines[key] = i + 1
    res.lines_scanned = len(keys)
    return res


def _vocab_index(entry: Any) -> int:
    index = getattr(entry, "index", 0)
    return index if isinstance(index, int) else 0


def _vectors(vf: VectorFile, state: dict[str, Any], name: str) -> np.ndarray:
    for attr in ("vectors", "syn0"):
        value = state.get(attr)
        if isinstance(value, np.ndarray):
            return value
    for attr in ("vectors", "syn0"):
        side = Path(f"{vf.path}.{attr}.npy")
        if side.is_file() and vf.member is None:
            try:
                return np.load(side, mmap_mode="r", allow_pickle=False)
            except ValueError as exc:
                raise DataError(f"{side}: not a plain numpy array ({exc})") from None
    raise DataError(f"{name}: the vectors are stored beside the file ({vf.path}.vectors.npy) and it is missing")
