"""Where a command's label list comes from: a bundled dataset, a label file, or any artifact."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

__all__ = ["LabelSource", "read_label_file", "label_source", "file_stem"]

#: Suffixes taken off a file name to make an output stem (``glove.6B.50d.txt.gz`` → ``glove.6B.50d``).
_SUFFIXES = (".gz", ".zip", ".txt", ".vec", ".bin", ".kv", ".model", ".w2v", ".pkl", ".npz")


@dataclass(frozen=True)
class LabelSource:
    """Labels in their row order and the file-name stem outputs made from them take."""

    labels: list[str]
    stem: str


def file_stem(name: str) -> str:
    """A file name without its vector/archive/label-file suffixes.

    Examples
    --------
    >>> file_stem("glove.6B.50d.txt.gz"), file_stem("my_labels.txt"), file_stem(".txt")
    ('glove.6B.50d', 'my_labels', '.txt')
    """
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name


def read_label_file(path: str | Path) -> list[str]:
    """One label a line, by the one label-list rule of :func:`labelgraph.files.read_label_list`.

    Blank lines and ``#`` comments are skipped; a repeated label is an error naming both lines.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d) / "labels.txt"
    ...     _ = p.write_text("# mine\\ncat\\n dog \\n\\n")
    ...     read_label_file(p)
    ['cat', 'dog']
    """
    from ..files import read_label_list

    return list(read_label_list(path))


def label_source(dataset: str | None = None, labels_file: str | Path | None = None,
                 from_artifact: str | Path | None = None) -> LabelSource:
    """The labels of exactly one of: a bundled dataset, a label file, an artifact.

    The stem is the one ``labelgraph build`` gives the dataset's files (a bundled
    dataset, or an artifact that names its dataset), else the file's name.

    Examples
    --------
    >>> src = label_source("voc")
    >>> src.labels[:2], src.stem
    (['aeroplane', 'bicycle'], 'voc2007')
    """
    given = [x for x in (dataset, labels_file, from_artifact) if x is not None]
    if len(given) != 1:
        raise ConfigError("give exactly one of --dataset, --labels, --from")
    from ..artifact import load
    from ..bundled import bundled_path
    from ..statistics_sources import output_stem

    if dataset is not None:
        stats = load(bundled_path(dataset))
        return LabelSource(list(stats.labels), output_stem(stats, dataset))
    if labels_file is not None:
        return LabelSource(read_label_file(labels_file), file_stem(Path(labels_file).name))
    art = load(from_artifact)  # type: ignore[arg-type]
    if art.kind != "embeddings" and art.meta.get("dataset"):
        return LabelSource(list(art.labels), output_stem(art))
    return LabelSource(list(art.labels), file_stem(Path(from_artifact).name))  # type: ignore[arg-type]
