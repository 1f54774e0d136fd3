"""Writing output files safely: atomic writes, all-or-none runs, checked names and targets.

The public home of :mod:`labelgraph._atomic` (the implementation), for the CLI and notebooks.

Examples
--------
>>> import tempfile, pathlib
>>> from labelgraph.files import StagedWrites, check_stem
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> with StagedWrites() as run:
...     run.add(d / f"{check_stem('mydata')}.txt", b"hello")
'new'
"""
from __future__ import annotations

from ._atomic import StagedWrites, atomic_write, check_stem, check_writable, write_error

__all__ = ["StagedWrites", "atomic_write", "check_stem", "check_writable", "write_error"]
