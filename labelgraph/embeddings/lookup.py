"""SPEC §3: one vector per label, looked up in a word-vector file, with a report of how.

For each label:

1. **Case folding and the whole key.** The label is lower-cased and its runs of
   whitespace become ``_``: ``"Hot Dog"`` → ``hot_dog``, ``"t-shirt"`` stays
   ``t-shirt``.  When the file has that key (Numberbatch: also ``/c/en/hot_dog``),
   its row is the label's vector.  File keys are matched exactly: a cased file
   (glove.840B) is searched for the lower-case forms, which it holds for common words.
2. **Otherwise the mean of its tokens.** The folded label split on space, ``_`` and
   ``-`` (``hot``, ``dog``); the vector is the mean (computed in float64, stored as
   float32) of the rows of the tokens the file has.  Tokens it lacks are reported.
3. **No known token** (out of vocabulary): ``oov="error"`` (default) raises a
   :class:`~labelgraph.errors.DataError` naming every such label; ``"zeros"`` gives
   a zero vector; ``"random"`` gives a standard-normal vector drawn from
   ``numpy.random.default_rng([seed, crc32(label)])`` and scaled to the mean norm of
   the labels found (1 when none was found) — the same seed gives the same vector
   for a label whatever the other labels are.

``aliases`` maps a label to the text looked up in its place (the label keeps its
name): VOC's ``diningtable`` is looked up as ``dining table`` (:data:`DATASET_ALIASES`,
the shared display names of :mod:`labelgraph.datasets.names`).

Examples
--------
>>> label_terms("Hot Dog")
('hot_dog', ['hot', 'dog'])
>>> label_terms("t-shirt")
('t-shirt', ['t', 'shirt'])
"""
from __future__ import annotations

import logging
import os
import re
import zlib
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ..datasets.names import name_table
from ..errors import ConfigError, DataError
from .formats import VectorFile, detect_format, get_format
from .scan import ScanResult, scan_text
from .known_vectors import KnownVectors, file_fingerprint, resolve_source

if TYPE_CHECKING:  # scipy (through the artifact module) only when an artifact is made
    from ..artifact import Artifact

__all__ = [
    "OOV_POLICIES",
    "DATASET_ALIASES",
    "LabelReport",
    "EmbeddingReport",
    "label_terms",
    "label_vectors",
    "embed_artifact",
]

log = logging.getLogger(__name__)

#: What a label with no known token gets.
OOV_POLICIES = ("error", "zeros", "random")

#: Lookup text for the bundled datasets' label names that are not words (VOC joins two words): the
#: shared display-name table (:data:`labelgraph.datasets.names.DISPLAY_NAMES`) under each dataset name.
DATASET_ALIASES: dict[str, dict[str, str]] = {ds: name_table(ds) for ds in ("voc", "voc2007", "voc2012")}

_TOKEN_SPLIT = re.compile(r"[\s_\-]+")


def label_terms(label: str) -> tuple[str, list[str]]:
    """The whole-label key and the tokens of ``label`` (lower-cased; split on whitespace, ``_``, ``-``).

    Examples
    --------
    >>> label_terms("baseball_bat")
    ('baseball_bat', ['baseball', 'bat'])
    >>> label_terms("  Person ")
    ('person', ['person'])
    """
    folded = label.strip().lower()
    whole = re.sub(r"\s+", "_", folded)
    tokens = [t for t in _TOKEN_SPLIT.split(folded) if t]
    return whole, tokens


@dataclass(frozen=True)
class LabelReport:
    """How one label got its vector.

    Attributes
    ----------
    label : str
        The label.
    query : str
        The text looked up (the label, or its alias).
    key : str or None
        The file key whose row is the vector, when the whole label was found.
    tokens_found, tokens_missing : tuple of str
        The file keys of the tokens averaged, and the tokens not in the file
        (empty when ``key`` is set).
    vector : str
        ``"key"``, ``"mean"``, ``"zeros"`` or ``"random"``.
    lines : tuple of int
        Line (record) numbers of the rows used.
    """

    label: str
    query: str
    key: str | None
    tokens_found: tuple[str, ...]
    tokens_missing: tuple[str, ...]
    vector: str
    lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class EmbeddingReport:
    """The lookup report of :func:`label_vectors`: per label, and for the file.

    ``str(report)`` is a table; :meth:`to_dict` is what an artifact's meta stores.
    """

    source: str
    format: str
    dim: int
    labels: tuple[LabelReport, ...]
    oov: str
    seed: int
    duplicates: Mapping[str, list[int]] = field(default_factory=dict)
    lines_scanned: int = 0
    stopped_early: bool = False

    @property
    def oov_labels(self) -> list[str]:
        """Labels with no known token."""
        return [r.label for r in self.labels if r.vector in ("zeros", "random")]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = asdict(self)
        out["labels"] = [{k: list(v) if isinstance(v, tuple) else v for k, v in asdict(r).items()}
                         for r in self.labels]
        out["duplicates"] = {k: list(v) for k, v in self.duplicates.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "EmbeddingReport":
        """The report back from :meth:`to_dict` (an embeddings artifact's ``meta["report"]``).

        Examples
        --------
        >>> r = EmbeddingReport("v.txt", "glove", 2, (LabelReport("a", "a", "a", (), (), "key", (1,)),), "error", 0)
        >>> EmbeddingReport.from_dict(r.to_dict()) == r
        True
        """
        fields = dict(data)
        fields["labels"] = tuple(LabelReport(**{k: tuple(v) if isinstance(v, list) else v for k, v in row.items()})
                                 for row in data["labels"])
        fields["duplicates"] = {k: list(v) for k, v in data.get("duplicates", {}).items()}
        return cls(**fields)

    def table(self) -> str:
        """The per-label report as an aligned text table, with a summary line.

        Examples
        --------
        >>> r = EmbeddingReport("v.txt", "glove", 50, (
        ...     LabelReport("dog", "dog", "dog", (), (), "key", (7,)),
        ...     LabelReport("hot dog", "hot dog", None, ("hot", "dog"), (), "mean", (9, 7))), "error", 0)
        >>> print(r.table())
        label    vector  from      missing  lines
        -------  ------  --------  -------  -----
        dog      key     dog                7
        hot dog  mean    hot, dog           9, 7
        2 labels, 50-d glove vectors from v.txt; 1 by whole key, 1 by token mean, 0 out of vocabulary
        """
        headers = ["label", "vector", "from", "missing", "lines"]
        rows = []
        for r in self.labels:
            label = r.label if r.query == r.label else f"{r.label} ({r.query})"
            used = r.key if r.key else ", ".join(r.tokens_found)
            rows.append([label, r.vector, used, ", ".join(r.tokens_missing), ", ".join(map(str, r.lines))])
        widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
                 for row in [headers, ["-" * w for w in widths], *rows]]
        kinds = [r.vector for r in self.labels]
        summary = (f"{len(kinds)} labels, {self.dim}-d {self.format} vectors from {self.source}; "
                   f"{kinds.count('key')} by whole key, {kinds.count('mean')} by token mean, "
                   f"{len(kinds) - kinds.count('key') - kinds.count('mean')} out of vocabulary")
        if self.oov_labels:
            summary += f" ({self.oov}: {', '.join(self.oov_labels)})"
        if self.duplicates:
            summary += f"; duplicate keys (first kept): {', '.join(sorted(self.duplicates))}"
        return "\n".join(lines + [summary])

    __str__ = table


@dataclass(frozen=True)
class _Plan:
    label: str
    query: str
    whole: tuple[str, ...]          # the whole-label key in each form the file may use
    tokens: tuple[tuple[str, ...], ...]  # per token, its forms
    token_names: tuple[str, ...]


def _plan(labels: Sequence[str], prefixes: Sequence[str], aliases: Mapping[str, str]) -> list[_Plan]:
    plans = []
    for label in labels:
        query = aliases.get(label, label)
        whole, tokens = label_terms(query)
        plans.append(_Plan(label, query, tuple(p + whole for p in prefixes),
                           tuple(tuple(p + t for p in prefixes) for t in tokens), tuple(tokens)))
    return plans


def _check_labels(labels: Sequence[str]) -> list[str]:
    if isinstance(labels, (str, bytes)):
        raise ConfigError("labels must be a sequence of label names, not one string")
    labels = [str(x) for x in labels]
    if not labels:
        raise ConfigError("no labels given")
    empty = [i for i, x in enumerate(labels) if not x.strip()]
    if empty:
        raise ConfigError(f"label {empty[0]} is empty")
    seen: set[str] = set()
    dups = sorted({x for x in labels if x in seen or seen.add(x)})  # type: ignore[func-returns-value]
    if dups:
        raise ConfigError(f"duplicate labels: {', '.join(dups[:5])}")
    return labels


def _read(vf: VectorFile, fmt_name: str, wanted: set[str], required: list[tuple[str, ...]], dim: int | None,
          strict: bool, progress: bool) -> ScanResult:
    fmt = get_format(fmt_name)
    if fmt.reader == "text":
        return scan_text(vf, wanted, required=required, header=fmt.header, spaced_keys=fmt.spaced_keys,
                         dim=dim, strict=strict, progress=progress)
    from .binary import read_keyed_vectors, scan_word2vec_binary

    if fmt.reader == "word2vec-binary":
        return scan_word2vec_binary(vf, wanted, required=required, dim=dim, progress=progress)
    res = read_keyed_vectors(vf, wanted)
    if dim is not None and res.dim != dim:
        raise DataError(f"{vf.name}: vectors of dimension {res.dim}, expected {dim}")
    return res


def _lookup(labels: Sequence[str], source: str | os.PathLike[str], *, format: str | None, oov: str, seed: int,
            progress: bool, member: str | None, aliases: Mapping[str, str] | None, strict: bool,
            dim: int | None, cache_dir: str | os.PathLike[str] | None,
            base_url: str | None) -> tuple[np.ndarray, EmbeddingReport, VectorFile, KnownVectors | None]:
    labels = _check_labels(labels)
    if oov not in OOV_POLICIES:
        raise ConfigError(f"unknown oov policy {oov!r} (choose one of: {', '.join(OOV_POLICIES)})")
    if format is not None:
        get_format(format)  # an unknown name fails before any download or read
    vf, known = resolve_source(source, member=member, cache_dir=cache_dir, base_url=base_url, progress=progress)
    fmt_name = format or (known.format if known else None) or detect_format(vf)
    if dim is None and known is not None:
        dim = known.dim
    plans = _plan(labels, get_format(fmt_name).key_prefixes, aliases or {})
    wanted = {k for p in plans for k in p.whole} | {k for p in plans for forms in p.tokens for k in forms}
    found = _read(vf, fmt_name, wanted, [p.whole for p in plans], dim, strict, progress)
    matrix, reports = _compose(plans, found, oov, seed, vf.name)
    report = EmbeddingReport(vf.name, fmt_name, found.dim, tuple(reports), oov, int(seed),
                             dict(found.duplicates), found.lines_scanned, found.stopped_early)
    return matrix, report, vf, known


def _compose(plans: list[_Plan], found: ScanResult, oov: str, seed: int,
             name: str) -> tuple[np.ndarray, list[LabelReport]]:
    dim = found.dim
    matrix = np.zeros((len(plans), dim), dtype=np.float32)
    reports: list[LabelReport | None] = []
    missing_labels = []
    for i, p in enumerate(plans):
        key = next((k for k in p.whole if k in found.vectors), None)
        if key is not None:
            matrix[i] = found.vectors[key]
            reports.append(LabelReport(p.label, p.query, key, (), (), "key", (found.lines[key],)))
            continue
        used, missing = [], []
        for token, forms in zip(p.token_names, p.tokens):
            k = next((f for f in forms if f in found.vectors), None)
            (used if k is not None else missing).append(k if k is not None else token)
        if used:
            matrix[i] = np.mean(np.stack([found.vectors[k] for k in used]).astype(np.float64), axis=0)
            reports.append(LabelReport(p.label, p.query, None, tuple(used), tuple(missing), "mean",
                                       tuple(found.lines[k] for k in used)))
            if missing:
                log.warning("%s: label %r: tokens not found: %s (mean of %s)", name, p.label,
                            ", ".join(missing), ", ".join(used))
        else:
            missing_labels.append(i)
            reports.append(None)
    if missing_labels:
        names = [plans[i].label for i in missing_labels]
        if oov == "error":
            shown = ", ".join(repr(n) for n in names[:10]) + (" …" if len(names) > 10 else "")
            raise DataError(f"{name}: no vector for {len(names)} label(s): {shown} (no token in the file); "
                            "use --oov zeros or --oov random to continue, or look them up under another name")
        found_rows = [i for i in range(len(plans)) if i not in set(missing_labels)]
        scale = float(np.linalg.norm(matrix[found_rows].astype(np.float64), axis=1).mean()) if found_rows else 1.0
        for i in missing_labels:
            p = plans[i]
            if oov == "random":
                rng = np.random.default_rng([int(seed), zlib.crc32(p.label.encode("utf-8"))])
                v = rng.standard_normal(dim)
                matrix[i] = v / np.linalg.norm(v) * scale
            reports[i] = LabelReport(p.label, p.query, None, (), tuple(p.token_names), oov)
            log.warning("%s: label %r has no known token; %s vector", name, p.label, oov)
    return matrix, [r for r in reports if r is not None]


def label_vectors(labels: Sequence[str], source: str | os.PathLike[str], *, format: str | None = None,
                  oov: str = "error", seed: int = 0, progress: bool = False, member: str | None = None,
                  aliases: Mapping[str, str] | None = None, strict: bool = False, dim: int | None = None,
                  cache_dir: str | os.PathLike[str] | None = None,
                  base_url: str | None = None) -> tuple[np.ndarray, EmbeddingReport]:
    """One vector per label from a word-vector file, reading only the label words (SPEC §3).

    Parameters
    ----------
    labels : sequence of str
        Label names, in the order of the rows wanted.
    source : str or path
        A vector file (``.txt``, ``.txt.gz``, ``.zip``, word2vec ``.bin``, gensim
        ``.kv``) or a known name (``glove.6B.300d``, ``glove.840B.300d``,
        ``numberbatch-en-19.08``: downloaded once into the cache).
    format : str, optional
        A name in :data:`~labelgraph.embeddings.formats.FORMATS`; default: detected.
    oov : {"error", "zeros", "random"}
        What a label with no known token gets (see the module docstring).
    seed : int
        Seed of the ``"random"`` policy.
    progress : bool
        Show tqdm progress bars (download, scan).
    member : str, optional
        The ``.zip`` member to read.
    aliases : mapping, optional
        Label → text to look up in its place.
    strict : bool
        Check every line's field count, not only the lines parsed.
    dim : int, optional
        The expected dimension (default: from the file).
    cache_dir, base_url : optional
        For known names: the download cache and a mirror (see :func:`labelgraph.download.fetch`).

    Returns
    -------
    vectors : ndarray of float32, shape (C, d)
    report : EmbeddingReport
        Per label: the key used, the tokens found and missing; ``str(report)`` is a table.

    Raises
    ------
    DataError
        A malformed file (naming file and line), or labels with no known token under ``oov="error"``.
    ConfigError
        Unknown format or policy, empty or duplicate labels.

    Examples
    --------
    >>> p = tmp / "tiny.txt"
    >>> _ = p.write_text("hot 1 0\\ndog 0 1\\ncat 2 2\\n")
    >>> vectors, report = label_vectors(["cat", "hot dog", "unicorn"], p, oov="zeros")
    >>> vectors.tolist()
    [[2.0, 2.0], [0.5, 0.5], [0.0, 0.0]]
    >>> [r.vector for r in report.labels]
    ['key', 'mean', 'zeros']
    """
    matrix, report, _, _ = _lookup(labels, source, format=format, oov=oov, seed=seed, progress=progress,
                                   member=member, aliases=aliases, strict=strict, dim=dim, cache_dir=cache_dir,
                                   base_url=base_url)
    return matrix, report


def embed_artifact(labels: Sequence[str], source: str | os.PathLike[str], *, format: str | None = None,
                   oov: str = "error", seed: int = 0, progress: bool = False, member: str | None = None,
                   aliases: Mapping[str, str] | None = None, strict: bool = False, dim: int | None = None,
                   cache_dir: str | os.PathLike[str] | None = None, base_url: str | None = None,
                   meta: Mapping[str, Any] | None = None) -> "Artifact":
    """:func:`label_vectors` as an embeddings :class:`~labelgraph.artifact.Artifact` (SPEC §4).

    ``meta`` holds the source file, its fingerprint (:func:`~labelgraph.embeddings.known_vectors.file_fingerprint`:
    sha256, or a cheap one for files over 512 MiB), the format, the dimension,
    the OOV policy and seed, and the per-label report; ``meta=`` adds entries.

    Examples
    --------
    >>> p = tmp / "tiny.txt"
    >>> _ = p.write_text("hot 1 0\\ndog 0 1\\n")
    >>> art = embed_artifact(["hot dog", "dog"], p)
    >>> art.kind, art.vectors.shape, art.meta["format"], art.meta["report"]["labels"][0]["tokens_found"]
    ('embeddings', (2, 2), 'glove', ['hot', 'dog'])
    """
    from ..artifact import Artifact

    matrix, report, vf, known = _lookup(labels, source, format=format, oov=oov, seed=seed, progress=progress,
                                        member=member, aliases=aliases, strict=strict, dim=dim,
                                        cache_dir=cache_dir, base_url=base_url)
    info = report.to_dict()
    src: dict[str, Any] = {"path": str(vf.path), "member": vf.member, "fingerprint": file_fingerprint(vf.path)}
    if known is not None:
        src["name"] = known.name
    out = {
        "source": src,
        "format": report.format,
        "dimension": report.dim,
        "oov": oov,
        "seed": int(seed),
        "aliases": {k: v for k, v in (aliases or {}).items() if k in set(labels)},
        "report": info,
        **dict(meta or {}),
    }
    return Artifact.embeddings([r.label for r in report.labels], matrix, out)

