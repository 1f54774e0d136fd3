"""``LabelSet``: what every dataset reader returns — samples, labels in a stated order, a sparse 0/1 matrix."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from .errors import DataError
from .files import unique_names

__all__ = ["LabelSet"]


@dataclass(frozen=True, eq=False)
class LabelSet:
    """Validated image- or video-level labels.

    Parameters
    ----------
    sample_ids : sequence of str
        One id per row of ``Y`` (unique).
    labels : tuple of str
        Label names, in column order (unique).
    Y : scipy.sparse.csr_matrix
        N × C, 0/1 (int8); a sample listing a label twice still has a 1.
    source : dict
        Where it came from: ``dataset`` (e.g. ``coco2014``), ``split``, ``files``
        (path and sha256 each), ``reader`` and reader-specific notes
        (e.g. ``dropped_empty``).
    mask : scipy.sparse.csr_matrix or None
        N × C, 0/1 (int8): entries whose label is uncertain (VOC's "difficult
        only" marks), which the trainer's loss and metrics treat apart; ``None``
        when the format has no such marks.  ``Y`` (and so the statistics) does
        not depend on it.

    Examples
    --------
    >>> ls = LabelSet.from_lists(["a", "b"], ["cat", "dog"], [["cat"], ["cat", "dog"]])
    >>> ls.Y.toarray().tolist()
    [[1, 0], [1, 1]]
    >>> ls.num_samples, ls.num_labels
    (2, 2)
    """

    sample_ids: Sequence[str]
    labels: tuple[str, ...]
    Y: sp.csr_matrix
    source: Mapping[str, Any] = field(default_factory=dict)
    mask: sp.csr_matrix | None = None

    def __post_init__(self) -> None:
        where = self.source.get("path") or self.source.get("dataset") or "label set"
        labels = tuple(str(x) for x in self.labels)
        object.__setattr__(self, "labels", labels)
        unique_names(labels, where=where)
        Y = sp.csr_matrix(self.Y)
        Y.sum_duplicates()
        if Y.shape != (len(self.sample_ids), len(labels)):
            raise DataError(f"{where}: label matrix is {Y.shape}, expected "
                            f"({len(self.sample_ids)}, {len(labels)})")
        Y.eliminate_zeros()
        Y.data = np.ones_like(Y.data, dtype=np.int8)
        Y = Y.astype(np.int8)
        object.__setattr__(self, "Y", Y)
        if self.mask is not None:
            mask = sp.csr_matrix(self.mask)
            if mask.shape != Y.shape:
                raise DataError(f"{where}: mask is {mask.shape}, expected {Y.shape} like the label matrix")
            mask.sum_duplicates()
            mask.eliminate_zeros()
            mask.data = np.ones_like(mask.data, dtype=np.int8)
            object.__setattr__(self, "mask", mask.astype(np.int8))

    @classmethod
    def from_lists(cls, sample_ids: Sequence[str], labels: Sequence[str],
                   sample_labels: Sequence[Sequence[str]], source: Mapping[str, Any] | None = None) -> "LabelSet":
        """Build from per-sample label-name lists; an unknown name is a :class:`DataError`."""
        index = {name: i for i, name in enumerate(labels)}
        rows: list[int] = []
        cols: list[int] = []
        for r, names in enumerate(sample_labels):
            for name in names:
                if name not in index:
                    where = (source or {}).get("path", "labels")
                    raise DataError(f"{where}: sample {sample_ids[r]!r} has label {name!r} not in the label list")
                rows.append(r)
                cols.append(index[name])
        Y = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)),
                          shape=(len(sample_ids), len(labels)))
        return cls(list(sample_ids), tuple(labels), Y, dict(source or {}))

    @property
    def num_samples(self) -> int:
        """N."""
        return self.Y.shape[0]

    @property
    def num_labels(self) -> int:
        """C."""
        return self.Y.shape[1]

    def reorder(self, labels: Sequence[str]) -> "LabelSet":
        """The same samples with columns in the order ``labels`` (a permutation of :attr:`labels`)."""
        if sorted(labels) != sorted(self.labels) or len(labels) != len(self.labels):
            missing = sorted(set(self.labels) - set(labels))
            extra = sorted(set(labels) - set(self.labels))
            raise DataError(f"label order file does not match the dataset's labels "
                            f"(missing: {', '.join(missing[:5]) or '-'}; unknown: {', '.join(extra[:5]) or '-'})")
        pos = {name: i for i, name in enumerate(self.labels)}
        idx = np.array([pos[x] for x in labels])
        mask = None if self.mask is None else self.mask[:, idx]
        return LabelSet(self.sample_ids, tuple(labels), self.Y[:, idx], self.source, mask)

    def take(self, rows: Sequence[int] | np.ndarray) -> "LabelSet":
        """The samples at positions ``rows`` (in that order), labels and mask kept.

        Examples
        --------
        >>> ls = LabelSet.from_lists(["a", "b", "c"], ["cat", "dog"], [["cat"], ["dog"], []])
        >>> part = ls.take([2, 0])
        >>> part.sample_ids, part.Y.toarray().tolist()
        (['c', 'a'], [[0, 0], [1, 0]])
        """
        idx = np.asarray(rows, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < -self.num_samples or idx.max() >= self.num_samples):
            raise DataError(f"row index out of range for {self.num_samples} samples")
        mask = None if self.mask is None else self.mask[idx]
        return LabelSet([self.sample_ids[i] for i in idx], self.labels, self.Y[idx], self.source, mask)

    def mask_dense(self) -> np.ndarray | None:
        """The mask as an N × C boolean array (``None`` when there is none).

        Examples
        --------
        >>> import scipy.sparse as sp
        >>> ls = LabelSet(["a"], ("cat", "dog"), sp.csr_matrix([[1, 0]]), mask=sp.csr_matrix([[0, 1]]))
        >>> ls.mask_dense().tolist(), ls.reorder(["dog", "cat"]).mask_dense().tolist()
        ([[False, True]], [[True, False]])
        """
        return None if self.mask is None else self.mask.toarray().astype(bool)

    def statistics(self):
        """The statistics artifact (``n``, ``M``, ``N``) of these labels; see :func:`labelgraph.assemble.label_statistics`."""
        from .assemble.statistics import label_statistics

        return label_statistics(self)
