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
        return LabelSet(self.sample_ids, tuple(labels), self.Y[:, idx], self.source)

    def statistics(self):
        """The statistics artifact (``n``, ``M``, ``N``) of these labels; see :func:`labelgraph.assemble.label_statistics`."""
        from .assemble.statistics import label_statistics

        return label_statistics(self)
