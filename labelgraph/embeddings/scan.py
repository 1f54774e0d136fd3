"""The label-only scan of a text vector file: one pass, numbers parsed only for wanted keys.

A GloVe file holds 400,000 to 2.2 million lines; a label set needs a few hundred of
them.  :func:`scan_text` reads the (decompressed) file line by line, takes each
line's first token and tests it against the set of wanted keys.  Only a line whose
first token is wanted is split and parsed.  (A block scanner walking 1 MiB blocks
with ``bytes.find`` was measured no faster, see ``docs/benchmarks.md``, and was
replaced by this loop.)  The scan stops as soon as every key the caller must
see has been seen (``required``); the vocabulary is never held in memory.

Decisions:

* Fields are separated by single spaces (the GloVe and word2vec layouts); trailing
  spaces, tabs and ``\\r`` are stripped from a parsed line.
* Keys may contain spaces in GloVe files (glove.840B has ``". . ."``-style keys), so a
  wanted line is split from the right into its ``d`` values and the key.
* The dimension comes from the word2vec header, else from the first line's field
  count, unless the caller knows it (``dim=``).
* A parsed line with fewer than ``d + 1`` fields, or whose vector is longer than
  ``d`` (a wanted key followed by more numbers than ``d``), is an error naming the
  line; the first data line is always checked.  Lines whose key is not wanted are
  not split, so a malformed one is not noticed unless ``strict=True`` (which counts
  every line's fields, reads the whole file, and runs at about half the speed).
* Numbers are parsed as decimal → float64 → float32 (what ``float()`` then
  ``numpy.float32`` gives); NaN or ±inf in a wanted vector is an error.
* A key seen again is ignored: the first occurrence is kept and the later line
  numbers are reported (``duplicates``) — for wanted keys, over the lines scanned.

Examples
--------
>>> from labelgraph.embeddings.formats import open_vectors
>>> p = tmp / "v.txt"
>>> _ = p.write_text("the 1 0\\ncat 0.5 2\\ndog 3 4\\n")
>>> r = scan_text(open_vectors(p), {"cat"})
>>> r.vectors["cat"].tolist(), r.lines["cat"], r.stopped_early
([0.5, 2.0], 2, True)
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Collection, Iterable, Iterator

import numpy as np

from ..errors import DataError
from ..files import block_stream
from ..files import progress as progress_bar  # the name `progress` is a parameter here
from .formats import BLOCK_SIZE, VectorFile

__all__ = ["ScanResult", "KeyTracker", "scan_text", "parse_values"]

log = logging.getLogger(__name__)


@dataclass
class ScanResult:
    """What a reader found.

    Attributes
    ----------
    vectors : dict
        File key → its vector (float32, shape ``(dim,)``), for the wanted keys found.
    lines : dict
        File key → line number (record number for binary files) of the row kept.
    duplicates : dict
        File key → line numbers of later rows with the same key (ignored).
    dim : int
        The file's dimension.
    dim_source : str
        Where ``dim`` came from, for messages (``"the header on line 1"``, ``"line 1"``).
    lines_scanned : int
        Lines (records) read before the end of the file or the early stop.
    stopped_early : bool
        The scan stopped before the end because every required key had been seen.
    """

    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, list[int]] = field(default_factory=dict)
    dim: int = 0
    dim_source: str = ""
    lines_scanned: int = 0
    stopped_early: bool = False


def parse_values(tokens: list[bytes], where: str, key: str) -> np.ndarray:
    """Parse a wanted row's number tokens to float32 (via float64); reject non-numbers, NaN and inf.

    Examples
    --------
    >>> parse_values([b"0.1", b"-2"], "v.txt:3", "cat").tolist()
    [0.10000000149011612, -2.0]
    >>> parse_values([b"0.1", b"nan"], "v.txt:3", "cat")
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: v.txt:3: key 'cat' has a non-finite value (nan) at position 2
    """
    try:
        values = np.array(tokens, dtype=np.float64)
    except ValueError:
        bad = next((t for t in tokens if not _is_number(t)), b"?")
        raise DataError(f"{where}: key {key!r}: value {bad.decode('utf-8', 'replace')!r} is not a number") from None
    with np.errstate(over="ignore"):
        out = values.astype(np.float32)
    finite = np.isfinite(out)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise DataError(f"{where}: key {key!r} has a non-finite value ({values[i]}) at position {i + 1}")
    return out


def _is_number(token: bytes) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


class KeyTracker:
    """Which required key groups have been seen; says when a scan may stop.

    Examples
    --------
    >>> t = KeyTracker({"cat", "dog", "hot"}, [["cat"], ["dog", "/c/en/dog"]])
    >>> t.seen("cat"), t.seen("hot"), t.seen("/c/en/dog")
    (False, False, True)
    """

    def __init__(self, wanted: Collection[str], required: Iterable[Collection[str]] | None) -> None:
        groups = [frozenset(g) for g in (required if required is not None else [[k] for k in wanted])]
        groups = [g for g in groups if g]
        self.open = len(groups)
        self.done = [False] * len(groups)
        self.key_groups: dict[str, list[int]] = {}
        for i, g in enumerate(groups):
            for k in g:
                self.key_groups.setdefault(k, []).append(i)

    def seen(self, key: str) -> bool:
        """Record ``key`` as found; True when every group has been seen (and there is at least one)."""
        for g in self.key_groups.get(key, ()):
            if not self.done[g]:
                self.done[g] = True
                self.open -= 1
        return self.open == 0 and bool(self.done)


class _Scanner:
    """State of one scan: the wanted keys, what was found, and when to stop."""

    def __init__(self, vf: VectorFile, wanted: Collection[str], required: Iterable[Collection[str]] | None,
                 spaced_keys: bool, strict: bool) -> None:
        self.vf = vf
        self.name = vf.name
        self.wanted = {k.encode("utf-8"): k for k in wanted}
        # keys containing spaces are matched through their first token, then split from the right
        self.first_tokens = {k.split(b" ", 1)[0] for k in self.wanted}
        self.tracker = KeyTracker(wanted, required)
        self.spaced_keys = spaced_keys
        self.strict = strict
        self.result = ScanResult()

    # -- one line ----------------------------------------------------------------------------
    def ragged(self, lineno: int, nfields: int) -> DataError:
        dim = self.result.dim
        return DataError(f"{self.name}:{lineno}: {nfields} fields, expected {dim + 1} "
                         f"(a key and {dim} values; dimension {dim} from {self.result.dim_source})")

    def check_fields(self, line: bytes, lineno: int) -> None:
        """Field-count check of any line (strict mode and the first data line)."""
        line = line.rstrip(b" \t\r")
        if not line:
            return
        nfields = line.count(b" ") + 1
        if nfields < self.result.dim + 1 or (nfields > self.result.dim + 1 and not self.spaced_keys):
            raise self.ragged(lineno, nfields)

    def hit(self, line: bytes, lineno: int) -> bool:
        """Parse a line whose first token is wanted; True when the scan may stop."""
        dim = self.result.dim
        line = line.rstrip(b" \t\r")
        if self.spaced_keys:
            parts = line.rsplit(b" ", dim)
            if len(parts) < dim + 1:
                raise self.ragged(lineno, len(parts))
            key_b = parts[0]
            if b" " in key_b:
                rest = key_b.split(b" ")[1:]
                if all(_is_number(t) for t in rest):  # a wanted word followed by too many numbers
                    raise DataError(f"{self.name}:{lineno}: key {key_b.split(b' ')[0].decode('utf-8', 'replace')!r}"
                                    f" has {dim + len(rest)} values, expected {dim} "
                                    f"(dimension {dim} from {self.result.dim_source})")
        else:
            parts = line.split(b" ")
            if len(parts) != dim + 1:
                raise self.ragged(lineno, len(parts))
            key_b = parts[0]
        key = self.wanted.get(key_b)
        if key is None:
            return False
        res = self.result
        if key in res.vectors:
            res.duplicates.setdefault(key, []).append(lineno)
            log.warning("%s:%d: duplicate key %r (first kept, from line %d)", self.name, lineno, key, res.lines[key])
            return False
        res.vectors[key] = parse_values(parts[1:], f"{self.name}:{lineno}", key)
        res.lines[key] = lineno
        return self.tracker.seen(key) and not self.strict  # strict mode reads every line


def scan_text(vf: VectorFile, wanted: Collection[str], *, required: Iterable[Collection[str]] | None = None,
              header: bool = False, spaced_keys: bool = False, dim: int | None = None, strict: bool = False,
              progress: bool = False) -> ScanResult:
    """Scan a GloVe / word2vec / Numberbatch text file for the rows of ``wanted`` keys.

    Parameters
    ----------
    vf : VectorFile
        From :func:`~labelgraph.embeddings.formats.open_vectors`.
    wanted : collection of str
        File keys whose rows to keep (exact, case-sensitive).
    required : iterable of collections of str, optional
        Groups of keys; the scan stops once every group has one key seen.  Default:
        every wanted key is its own group (stop when all are seen).
    header : bool
        The first line is a word2vec ``count dim`` header.
    spaced_keys : bool
        Keys may contain spaces (GloVe): split a wanted line from the right.
    dim : int, optional
        The known dimension; default: from the header or the first line.
    strict : bool
        Check every line's field count, not only the parsed ones.
    progress : bool
        Show a tqdm progress bar over the bytes read.

    Returns
    -------
    ScanResult

    Raises
    ------
    DataError
        Naming the file and line: binary data, a bad header, a ragged line, a wrong
        dimension, a value that is not a number, NaN or inf in a wanted row.

    Examples
    --------
    >>> from labelgraph.embeddings.formats import open_vectors
    >>> p = tmp / "v.txt"
    >>> _ = p.write_text("2 2\\ncat 1 2\\ncat 3 4\\n")
    >>> r = scan_text(open_vectors(p), {"cat"}, header=True, required=[])
    >>> r.vectors["cat"].tolist(), r.duplicates
    ([1.0, 2.0], {'cat': [3]})
    """
    scanner = _Scanner(vf, wanted, required, spaced_keys, strict)
    res = scanner.result
    bar = progress_bar(total=vf.total_raw(), unit="B", desc=vf.stem, enabled=True) if progress else None
    blocks = vf.blocks(BLOCK_SIZE, bar.update if bar is not None else None)
    try:
        _run(scanner, blocks, header, dim)
    finally:
        if hasattr(blocks, "close"):
            blocks.close()
        if bar is not None:
            bar.close()
    log.info("%s: %d of %d wanted keys found in %d lines%s", vf.name, len(res.vectors), len(scanner.wanted),
             res.lines_scanned, " (stopped early)" if res.stopped_early else "")
    return res


def _checked(blocks: Iterator[bytes], name: str) -> Iterator[bytes]:
    """``blocks``, refusing binary data (a NUL byte near the start) before the first is used."""
    for i, block in enumerate(blocks):
        if i == 0:
            nul = block.find(b"\x00", 0, 1 << 16)
            if nul >= 0:
                raise DataError(f"{name}: binary data (a NUL byte at offset {nul}) where text vectors were "
                                "expected; for a word2vec binary file use --format word2vec-binary")
        yield block


def _run(scanner: _Scanner, blocks: Iterator[bytes], header: bool, dim: int | None) -> None:
    name = scanner.name
    with block_stream(_checked(blocks, name), name) as stream:
        _walk(scanner, iter(stream), header, dim)


def _walk(scanner: _Scanner, lines: Iterator[bytes], header: bool, dim: int | None) -> None:
    res = scanner.result
    name = scanner.name
    first = next(lines, b"").rstrip(b"\n")
    if not first.strip() and not _more(lines):
        raise DataError(f"{name}: empty file (no vector line)")
    base = 0  # lines consumed so far
    if header:
        fields = first.split()
        if len(fields) != 2 or not all(f.isdigit() for f in fields):
            shown = first[:60].decode("utf-8", "replace")
            raise DataError(f"{name}:1: expected a word2vec 'count dim' header, got {shown!r}"
                            " (a GloVe file has no header: --format glove)")
        res.dim, res.dim_source = int(fields[1]), "the header on line 1"
        if dim is not None and dim != res.dim:
            raise DataError(f"{name}:1: the header says dimension {res.dim}, expected {dim}")
        base = 1
        first = next(lines, b"").rstrip(b"\n")
    else:
        stripped = first.rstrip(b" \t\r")
        fields = stripped.split(b" ")
        if len(fields) == 2 and all(f.isdigit() for f in fields):
            raise DataError(f"{name}:1: looks like a word2vec 'count dim' header; use --format word2vec "
                            "(or word2vec-binary / numberbatch)")
        if dim is not None:
            res.dim, res.dim_source = dim, "the source's known dimension"
        else:
            res.dim, res.dim_source = len(fields) - 1, "line 1"
        if res.dim < 1:
            raise DataError(f"{name}:1: no vector on the first line ({len(fields)} field)")
    # the first data line: always field-checked, then treated like any line
    if not first.strip():
        raise DataError(f"{name}:{base + 1}: empty line where the first vector was expected")
    scanner.check_fields(first, base + 1)
    first_tokens, hit, check = scanner.first_tokens, scanner.hit, scanner.check_fields
    base += 1
    if first[:first.find(b" ")] in first_tokens and hit(first, base):
        res.lines_scanned, res.stopped_early = base, _more(lines)
        return
    line = first
    # find() is -1 on a line with no space, which then loses its "\n": the key either way, never copying the line
    if scanner.strict:
        for base, line in enumerate(lines, base + 1):
            body = line.rstrip(b"\n")
            check(body, base)
            if line[:line.find(b" ")] in first_tokens and hit(body, base):
                res.lines_scanned, res.stopped_early = base, _more(lines)
                return
    else:
        for base, line in enumerate(lines, base + 1):
            if line[:line.find(b" ")] in first_tokens and hit(line.rstrip(b"\n"), base):
                res.lines_scanned, res.stopped_early = base, _more(lines)
                return
    if line is not first and not line.endswith(b"\n"):  # a last line without its newline
        if line.strip():
            check(line, base)
        else:
            base -= 1  # blanks after the last newline are not a line
    res.lines_scanned = base


def _more(lines: Iterator[bytes]) -> bool:
    """Whether anything but whitespace follows."""
    return any(line.strip() for line in lines)
