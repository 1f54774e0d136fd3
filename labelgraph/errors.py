"""One exception hierarchy for the whole library.

Library code raises these; the CLI turns each into one line on stderr and a
non-zero exit code.  Messages name the file (and line or label) where known.

Examples
--------
>>> from labelgraph.errors import DataError, LabelGraphError
>>> issubclass(DataError, LabelGraphError)
True
"""
from __future__ import annotations

__all__ = [
    "LabelGraphError",
    "DataError",
    "ConfigError",
    "LabelMismatchError",
    "ArtifactError",
    "WriteError",
    "NetworkError",
    "ChecksumError",
    "MissingDependencyError",
]


class LabelGraphError(Exception):
    """Base class of every error labelgraph raises on purpose."""

    exit_code = 1


class DataError(LabelGraphError, ValueError):
    """An input file or value is malformed: the message names file and line or label."""

    exit_code = 2


class ConfigError(LabelGraphError, ValueError):
    """A parameter is out of range or options contradict each other."""

    exit_code = 2


class LabelMismatchError(DataError):
    """Two label-indexed inputs do not carry the same labels in the same order."""


class ArtifactError(DataError):
    """A ``.npz`` artifact cannot be read, is of the wrong kind, or would be overwritten."""


class WriteError(ArtifactError):
    """The operating system refused a write (disk full, permission, I/O error): the message names the path."""

    exit_code = 5


class NetworkError(LabelGraphError):
    """A download or API request failed after its retries."""

    exit_code = 3


class ChecksumError(NetworkError):
    """A downloaded file does not have its known checksum (md5, sha1 or sha256)."""


class MissingDependencyError(LabelGraphError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    exit_code = 4


def missing_dependency(module: str, extra: str) -> MissingDependencyError:
    """Build the error raised when an optional ``module`` is absent.

    Examples
    --------
    >>> str(missing_dependency("torch", "train"))
    "torch is not installed: pip install 'labelgraph[train]'"
    """
    return MissingDependencyError(f"{module} is not installed: pip install 'labelgraph[{extra}]'")
