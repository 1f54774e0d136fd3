"""Where labelgraph keeps its cache: ``LABELGRAPH_HOME`` (default ``~/.cache/labelgraph``), read at call time."""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["home"]


def home() -> Path:
    """The cache folder (downloads, the ConceptNet store); created on first use.

    Examples
    --------
    >>> home().is_dir()
    True
    """
    path = Path(os.environ.get("LABELGRAPH_HOME") or Path.home() / ".cache" / "labelgraph").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path
