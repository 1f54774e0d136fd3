"""Known downloads: official archives fetched into the cache with a checksum, Range resume and an atomic rename.

``fetch("coco2014-annotations")`` downloads ``annotations_trainval2014.zip`` into
``$LABELGRAPH_HOME/downloads/`` (default ``~/.cache/labelgraph/downloads``) and
returns its path.  What happens, in order:

1. A file already in the cache whose checksum was verified before (its size and
   mtime are recorded in ``checksums.json`` beside it) is returned at once, with no
   request.  A file placed there by hand is hashed once and then recorded.
2. Otherwise the file is streamed into ``<file>.part``; when a ``.part`` is left from
   an interrupted run the request carries ``Range: bytes=N-`` and a ``206`` reply is
   appended to it (a ``200`` means the server ignored the range: start over).
3. The whole file is checked against the source's published checksum (md5, sha1
   or sha256).  For sources with no published checksum the sha256 of the first
   complete download is recorded in ``checksums.json`` (trust on first use) and
   later downloads must match it.  A mismatch removes the partial file and raises
   :class:`~labelgraph.errors.ChecksumError`.
4. ``os.replace`` renames the ``.part`` to the final name.

A failed download leaves nothing that trips the next run: the ``.part`` is kept only
when it can be resumed (a transfer cut by the network from a server that takes
``Range`` requests); a checksum mismatch, a ``404`` or an HTML page served instead of
the file removes it, and the lock file (``.<file>.lock``, an ``flock``) goes with the
process that held it.

With no network the error is one line naming the URL and the path where the file
can be placed by hand.  ``base_url=`` (or ``LABELGRAPH_DOWNLOAD_BASE``) replaces the
host: the URL becomes ``base_url + "/" + filename``, for mirrors and for tests that
serve archives from a loopback server.

Examples
--------
>>> from labelgraph.download import SOURCES
>>> SOURCES["voc2007-trainval"].filename
'VOCtrainval_06-Nov-2007.tar'
>>> SOURCES["coco2014-annotations"].checksum
'md5:0a379cfc70b0e71301e0f377548639bd'
"""
from __future__ import annotations

from .archives import extract, fetch_extracted
from .catalogue import SOURCES, Source, dataset_files, download_url, get_source
from .checksums import CHECKSUMS_FILE, file_digest
from .fetch import RetryPolicy, fetch, fetch_url

__all__ = [
    "Source",
    "SOURCES",
    "RetryPolicy",
    "get_source",
    "download_url",
    "fetch",
    "fetch_url",
    "extract",
    "fetch_extracted",
    "dataset_files",
    "file_digest",
    "CHECKSUMS_FILE",
]
