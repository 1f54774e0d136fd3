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

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tarfile
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ._atomic import atomic_write
from ._lockfile import FileLock
from ._version import __version__
from .config import home
from .errors import ChecksumError, ConfigError, DataError, NetworkError

if TYPE_CHECKING:  # requests is imported where a download happens, keeping ``import labelgraph`` light
    import requests

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

log = logging.getLogger(__name__)

#: Name of the file, in the download cache, that records verified files and trust-on-first-use checksums.
CHECKSUMS_FILE = "checksums.json"
_CHUNK = 1 << 20
_NET_CHUNK = 1 << 16  # small enough that a cut transfer keeps nearly all it received
_ALGORITHMS = ("md5", "sha1", "sha256")
_EXTRACT_MARKER = ".labelgraph-extracted.json"


def _split_checksum(checksum: str) -> tuple[str, str]:
    algo, sep, digest = checksum.partition(":")
    algo = algo.lower()
    size = {"md5": 32, "sha1": 40, "sha256": 64}.get(algo)
    digest = digest.lower()
    if not sep or size is None or len(digest) != size or any(c not in "0123456789abcdef" for c in digest):
        raise ConfigError(f"bad checksum {checksum!r}: expected 'md5:<32 hex>', 'sha1:<40 hex>' or 'sha256:<64 hex>'")
    return algo, digest


@dataclass(frozen=True)
class Source:
    """One downloadable file.

    Attributes
    ----------
    name : str
        Registry name (``fetch(name)``).
    url : str
        The official URL.
    filename : str
        File name in the cache (and the last part of the URL under ``base_url``).
    checksum : str or None
        ``"md5:<hex>"``, ``"sha1:<hex>"`` or ``"sha256:<hex>"`` as published; ``None``
        where none is published (trust on first use, see :func:`fetch`).
    size : int or None
        Size in bytes where known (the progress bar's total).
    licence : str
        The data's licence, in a few words.
    description : str
        What the file is.
    members : tuple of str or None
        The archive members labelgraph reads (names or folder prefixes ending in
        ``/``); :func:`fetch_extracted` extracts only these.  ``None``: everything.

    Examples
    --------
    >>> s = Source("x", "https://example.org/x.zip", "x.zip", "sha256:" + "0" * 64, None, "CC0", "a test file")
    >>> s.algorithm
    'sha256'
    """

    name: str
    url: str
    filename: str
    checksum: str | None
    size: int | None
    licence: str
    description: str
    members: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.checksum is not None:
            _split_checksum(self.checksum)
        if "/" in self.filename or self.filename in ("", ".", ".."):
            raise ConfigError(f"source {self.name!r}: filename must be a plain file name, got {self.filename!r}")

    @property
    def algorithm(self) -> str | None:
        """The published checksum's algorithm (``md5``, ``sha1``, ``sha256``), ``None`` when unpublished."""
        return None if self.checksum is None else _split_checksum(self.checksum)[0]


def _coco(year: int, md5: str, size: int) -> Source:
    return Source(
        f"coco{year}-annotations", f"http://images.cocodataset.org/annotations/annotations_trainval{year}.zip",
        f"annotations_trainval{year}.zip", f"md5:{md5}", size,
        "CC BY 4.0 (COCO Consortium annotations)",
        f"MS-COCO {year} train/val annotations (instances, captions, person keypoints)",
        (f"annotations/instances_train{year}.json", f"annotations/instances_val{year}.json"))


def _voc(name: str, url: str, md5: str, size: int, year: int, what: str) -> Source:
    return Source(name, url, url.rsplit("/", 1)[1], f"md5:{md5}", size,
                  "PASCAL VOC (annotations for research use; images from Flickr under their own terms)",
                  what, (f"VOCdevkit/VOC{year}/ImageSets/Main/",))


#: Every known download, by name.  Checksums: md5 for COCO and VOC as listed by the
#: dataset loaders of torchvision (VOC) and many COCO scripts (the S3 ETag), sha1 for
#: GloVe as published by Apache MXNet/GluonNLP; none published for Charades, Numberbatch
#: and the ConceptNet dump (trust on first use).  See ``docs/downloads.md``.
SOURCES: dict[str, Source] = {s.name: s for s in [
    _coco(2014, "0a379cfc70b0e71301e0f377548639bd", 252_872_794),
    _coco(2017, "f4bbac642086de4f52a3fdda2de5fa2c", 252_907_541),
    _voc("voc2007-trainval", "http://host.robots.ox.ac.uk/pascal/VOC/voc2007/VOCtrainval_06-Nov-2007.tar",
         "c52e279531787c972589f7e41ab4ae64", 460_032_000, 2007, "PASCAL VOC 2007 trainval devkit and images"),
    _voc("voc2007-test", "http://host.robots.ox.ac.uk/pascal/VOC/voc2007/VOCtest_06-Nov-2007.tar",
         "b6e924de25625d8de591ea690078ad9f", 451_020_800, 2007, "PASCAL VOC 2007 test annotations and images"),
    _voc("voc2012-trainval", "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar",
         "6cd6e144f989b92b3379bac3b3de84fd", 1_999_639_040, 2012, "PASCAL VOC 2012 trainval devkit and images"),
    Source("charades-v1", "https://ai2-public-datasets.s3-us-west-2.amazonaws.com/charades/Charades.zip",
           "Charades.zip", None, None,
           "Charades licence (non-commercial research use; no redistribution)",
           "Charades v1 annotations and evaluation code (Charades_v1_{train,test}.csv, Charades_v1_classes.txt); "
           "the 55 GB videos (Charades_v1.zip) are not needed for label statistics",
           None),
    Source("glove.6B", "https://nlp.stanford.edu/data/glove.6B.zip", "glove.6B.zip",
           "sha1:b64e54f1877d2f735bdd000c1d7d771e25c7dfdc", 862_182_613,
           "Public Domain Dedication and License (ODC-PDDL)",
           "GloVe vectors trained on Wikipedia 2014 + Gigaword 5 (6B tokens; 50/100/200/300-d)"),
    Source("glove.840B.300d", "https://nlp.stanford.edu/data/glove.840B.300d.zip", "glove.840B.300d.zip",
           "sha1:8084fbacc2dee3b1fd1ca4cc534cbfff3519ed0d", None,
           "Public Domain Dedication and License (ODC-PDDL)",
           "GloVe vectors trained on Common Crawl (840B tokens, 300-d) — the ones ML-GCN used"),
    Source("numberbatch-en-19.08",
           "https://conceptnet.s3.amazonaws.com/downloads/2019/numberbatch/numberbatch-en-19.08.txt.gz",
           "numberbatch-en-19.08.txt.gz", None, None, "CC BY-SA 4.0 (ConceptNet)",
           "ConceptNet Numberbatch 19.08, English terms, 300-d text vectors"),
    Source("conceptnet-assertions-5.7.0",
           "https://s3.amazonaws.com/conceptnet/downloads/2019/edges/conceptnet-assertions-5.7.0.csv.gz",
           "conceptnet-assertions-5.7.0.csv.gz", None, None, "CC BY-SA 4.0 (ConceptNet 5.7; parts CC BY 4.0)",
           "ConceptNet 5.7 assertions dump (all languages, one edge per tab-separated line)"),
]}


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a download is retried after a connection error, timeout or 5xx reply.

    Parameters
    ----------
    retries : int
        Attempts after the first (0: one attempt only).
    backoff : float
        Seconds before the first retry; doubled each time, capped at ``max_backoff``.
    max_backoff : float
        Longest wait between two attempts.

    Examples
    --------
    >>> list(RetryPolicy(retries=4, backoff=0.5, max_backoff=1.5).delays())
    [0.5, 1.0, 1.5, 1.5]
    """

    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0

    def __post_init__(self) -> None:
        if self.retries < 0 or self.backoff < 0 or self.max_backoff < 0:
            raise ConfigError(f"retry policy values must be >= 0, got {self}")

    def delays(self) -> Iterator[float]:
        """The wait before each retry, in order."""
        for k in range(self.retries):
            yield min(self.backoff * 2 ** k, self.max_backoff)


def get_source(name_or_source: str | Source) -> Source:
    """The :class:`Source` called ``name`` (or the source itself); a :class:`ConfigError` listing the known ones.

    Examples
    --------
    >>> get_source("glove.6B").filename
    'glove.6B.zip'
    >>> get_source("imagenet")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: unknown download 'imagenet' (known: coco2014-annotations, ...)
    """
    if isinstance(name_or_source, Source):
        return name_or_source
    try:
        return SOURCES[name_or_source]
    except KeyError:
        raise ConfigError(f"unknown download {name_or_source!r} (known: {', '.join(SOURCES)})") from None


def download_url(source: Source, base_url: str | None = None) -> str:
    """The URL ``source`` is fetched from: its official URL, or ``base_url/filename`` for a mirror.

    ``base_url`` defaults to the ``LABELGRAPH_DOWNLOAD_BASE`` environment variable.

    Examples
    --------
    >>> download_url(SOURCES["voc2007-test"], "http://127.0.0.1:8000/mirror/")
    'http://127.0.0.1:8000/mirror/VOCtest_06-Nov-2007.tar'
    """
    base = base_url if base_url is not None else os.environ.get("LABELGRAPH_DOWNLOAD_BASE") or None
    return source.url if not base else base.rstrip("/") + "/" + source.filename


# -- checksums -------------------------------------------------------------------------------------------------

def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """The checksum of a file as ``"<algorithm>:<hex>"``, read in 1 MiB chunks.

    Examples
    --------
    >>> p = tmp / "a.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> file_digest(p, "md5")
    'md5:900150983cd24fb0d6963f7d28e17f72'
    """
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return f"{algorithm}:{h.hexdigest()}"


class _Hashes:
    """Several running hashes of one byte stream (the expected algorithm and sha256 for the record)."""

    def __init__(self, algorithms: Iterable[str]) -> None:
        self._h = {a: hashlib.new(a) for a in dict.fromkeys(algorithms)}

    def update(self, data: bytes) -> None:
        for h in self._h.values():
            h.update(data)

    def digest(self, algorithm: str) -> str:
        return f"{algorithm}:{self._h[algorithm].hexdigest()}"


class _Record:
    """``checksums.json``: per file, the trusted checksum and the size/mtime at which it was last verified."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / CHECKSUMS_FILE
        self.entries: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise DataError(f"{self.path}: unreadable checksum record ({exc}); delete it to start afresh") from None
            if not isinstance(data, dict) or not isinstance(data.get("files", {}), dict):
                raise DataError(f"{self.path}: not a labelgraph checksum record; delete it to start afresh")
            self.entries = data.get("files", {})

    def get(self, filename: str) -> dict[str, Any]:
        entry = self.entries.get(filename)
        return entry if isinstance(entry, dict) else {}

    def set(self, filename: str, **values: Any) -> None:
        self.entries[filename] = {k: v for k, v in values.items() if v is not None}
        with atomic_write(self.path, "w") as f:
            json.dump({"format": "labelgraph-checksums/1", "files": self.entries}, f, indent=2, sort_keys=True)


def _stamp(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


# -- downloading ------------------------------------------------------------------------------------------------

def fetch(name_or_source: str | Source, *, cache_dir: str | os.PathLike[str] | None = None,
          base_url: str | None = None, progress: bool = False, session: "requests.Session | None" = None,
          timeout: float | tuple[float, float] = (10, 60), retries: int | RetryPolicy = 3) -> Path:
    """Download a known file into the cache (once) and return its path.

    Parameters
    ----------
    name_or_source : str or Source
        A name in :data:`SOURCES` (``"coco2014-annotations"``, ``"glove.6B"`` …) or a :class:`Source`.
    cache_dir : path, optional
        Where files go; default ``labelgraph.config.home() / "downloads"``.
    base_url : str, optional
        A mirror: the URL becomes ``base_url.rstrip('/') + '/' + filename``.  Default: the
        ``LABELGRAPH_DOWNLOAD_BASE`` environment variable, else the official URL.
    progress : bool
        Show a tqdm progress bar (the CLI switches it on).
    session : requests.Session, optional
        The HTTP session to use (one is made and closed otherwise).
    timeout : float or (connect, read)
        Seconds, passed to every request.
    retries : int or RetryPolicy
        Retries after connection errors, timeouts and 5xx replies; a cut transfer
        resumes with a Range request.

    Returns
    -------
    pathlib.Path
        ``cache_dir / source.filename``, verified.

    Raises
    ------
    ChecksumError
        The file does not match the published checksum, or (no published checksum)
        the sha256 recorded at its first download; a partial download is removed.
    NetworkError
        A 404 or other refusal (names the URL), or no connection after the retries
        (one line naming the URL and the path where the file can be placed by hand).

    Examples
    --------
    A file already in the cache and matching the checksum needs no network:

    >>> import hashlib
    >>> cache = tmp
    >>> _ = (cache / "labels.txt").write_bytes(b"cat dog")
    >>> src = Source("demo", "http://127.0.0.1:9/labels.txt", "labels.txt",
    ...              "sha256:" + hashlib.sha256(b"cat dog").hexdigest(), 7, "CC0", "two labels")
    >>> fetch(src, cache_dir=cache).read_text()
    'cat dog'
    """
    source = get_source(name_or_source)
    folder = Path(cache_dir) if cache_dir is not None else home() / "downloads"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{folder}: cannot create download folder ({exc.strerror})") from None
    dest = folder / source.filename
    url = download_url(source, base_url)

    with _lock(folder / f".{source.filename}.lock", source.filename):
        record = _Record(folder)
        entry = record.get(source.filename)
        trusted = source.checksum or entry.get("checksum")
        if source.checksum is not None and entry.get("checksum") not in (None, source.checksum):
            entry = {}  # the published checksum changed since the file was verified: verify again
        trust = "published" if source.checksum else "first-use"

        if dest.exists():
            if entry.get("verified") == _stamp(dest) and entry.get("checksum") == trusted:
                log.debug("%s: in the cache, verified before", dest)
                return dest
            if trusted is None:
                got = file_digest(dest, "sha256")
                log.info("%s: recording sha256 on first use (file placed by hand)", dest)
                record.set(source.filename, checksum=got, trust=trust, verified=_stamp(dest), url=url)
                return dest
            algo = _split_checksum(trusted)[0]
            got = file_digest(dest, algo)
            if got != trusted:
                raise ChecksumError(f"{dest}: checksum mismatch: expected {trusted}, got {got} "
                                    f"(delete the file to download it again)")
            record.set(source.filename, checksum=trusted, trust=trust, verified=_stamp(dest), url=url)
            return dest

        try:
            digests = _download(url, dest, trusted, size=source.size, session=session, timeout=timeout,
                                retries=retries, progress=progress, desc=source.filename)
        except ChecksumError as exc:
            if trust != "first-use":
                raise
            raise ChecksumError(f"{exc}; the expected sha256 is the one recorded at the first download, in "
                                f"{record.path}: if {source.filename} has changed on purpose, delete its entry "
                                "there and run again") from None
        checksum = trusted or digests["sha256"]
        if trusted is None:
            log.info("%s: no published checksum; recorded %s (trust on first use)", dest.name, checksum)
        record.set(source.filename, checksum=checksum, trust=trust, verified=_stamp(dest), url=url)
        return dest


def fetch_url(url: str, dest: str | os.PathLike[str], checksum: str | None = None, *,
              size: int | None = None, session: "requests.Session | None" = None,
              timeout: float | tuple[float, float] = (10, 60), retries: int | RetryPolicy = 3,
              progress: bool = False) -> Path:
    """Download ``url`` to ``dest`` through ``dest.part`` with Range resume, checksum check and atomic rename.

    This is the transport under :func:`fetch`; it keeps no record and does not look
    in any cache: an existing ``dest`` is replaced.

    Parameters
    ----------
    url : str
        What to download.
    dest : path
        The final file; ``<dest>.part`` holds the bytes while they arrive (and is
        resumed from when a previous attempt left it).
    checksum : str, optional
        ``"md5:<hex>"``, ``"sha1:<hex>"`` or ``"sha256:<hex>"``; a mismatch removes the
        partial file and raises :class:`ChecksumError`.
    size : int, optional
        Expected size, for the progress bar when the server sends no length.
    session, timeout, retries, progress
        As in :func:`fetch`.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Examples
    --------
    >>> fetch_url("http://127.0.0.1:9/x.zip", tmp / "x.zip",
    ...           retries=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    labelgraph.errors.NetworkError: cannot download http://127.0.0.1:9/x.zip (connection failed: ...); ...
    """
    _download(url, Path(dest), checksum, size=size, session=session, timeout=timeout, retries=retries,
              progress=progress, desc=Path(dest).name)
    return Path(dest)


def _download(url: str, dest: Path, checksum: str | None, *, size: int | None,
              session: "requests.Session | None", timeout: float | tuple[float, float],
              retries: int | RetryPolicy, progress: bool, desc: str) -> dict[str, str]:
    """The download loop; returns the file's digests (``sha256`` and the checksum's algorithm)."""
    import requests

    policy = retries if isinstance(retries, RetryPolicy) else RetryPolicy(retries=int(retries))
    algorithm = _split_checksum(checksum)[0] if checksum else None
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    own_session = session is None
    http = session if session is not None else requests.Session()
    if own_session:
        http.headers["User-Agent"] = f"labelgraph/{__version__} (+requests)"
    delays = policy.delays()
    last_error = ""
    server = _Server()
    try:
        while True:
            try:
                hashes = _transfer(http, url, part, algorithm, size=size, timeout=timeout,
                                   progress=progress, desc=desc, server=server)
                break
            except _Retryable as exc:
                last_error = str(exc)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_error = _reason(exc)
            except requests.RequestException as exc:  # e.g. a broken chunked stream
                last_error = f"{type(exc).__name__}: {exc}"
            except BaseException as exc:
                if not isinstance(exc, KeyboardInterrupt):  # an interrupted transfer can be resumed
                    _discard(part)  # a refusal (404, an HTML page): its bytes are not the file's
                raise
            delay = next(delays, None)
            if delay is None:
                where = f"; run again later, or download it by hand and place it at {dest}"
                if part.exists() and server.ranges is False:
                    _discard(part)
                    kept = " (the partial download was removed: this server cannot resume it)"
                elif part.exists():
                    kept = f" ({part.stat().st_size} bytes kept in {part.name}; the next run resumes from there)"
                else:
                    kept = ""
                raise NetworkError(f"cannot download {url} ({last_error}){kept}{where}")
            log.warning("%s: %s; retrying in %.1f s", url, last_error, delay)
            time.sleep(delay)
    finally:
        if own_session:
            http.close()

    digests = {"sha256": hashes.digest("sha256")}
    if algorithm is not None:
        digests[algorithm] = hashes.digest(algorithm)
        if digests[algorithm] != checksum.lower():  # type: ignore[union-attr]
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
            raise ChecksumError(f"{dest}: checksum mismatch: expected {checksum}, got {digests[algorithm]} "
                                f"(downloaded from {url}; the download was removed). Run again to retry; if it "
                                f"fails again, {url} does not serve the expected file: check the URL or mirror "
                                f"(LABELGRAPH_DOWNLOAD_BASE), or place the right file at {dest}")
    with open(part, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(part, dest)
    return digests


class _Retryable(Exception):
    """A reply worth another attempt (a 5xx, 429, a transfer cut short)."""


class _Server:
    """What this run learnt about the server: ``ranges`` is True once it answered a Range request
    with ``206`` or announced ``Accept-Ranges: bytes``, False when it answered ``200`` without that."""

    def __init__(self) -> None:
        self.ranges: bool | None = None


def _discard(part: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        part.unlink()


def _looks_like_html(first: bytes) -> bool:
    head = first[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def _reason(exc: Exception) -> str:
    text = str(exc)
    for needle, reason in (("Name or service not known", "DNS lookup failed"),
                           ("nodename nor servname", "DNS lookup failed"),
                           ("Temporary failure in name resolution", "DNS lookup failed"),
                           ("Connection refused", "connection refused"),
                           ("Network is unreachable", "network unreachable"),
                           ("timed out", "timed out")):
        if needle in text:
            return f"connection failed: {reason}"
    import requests

    if isinstance(exc, requests.Timeout):
        return "connection failed: timed out"
    return f"connection failed: {type(exc).__name__}"


def _transfer(http: "requests.Session", url: str, part: Path, algorithm: str | None, *, size: int | None,
              timeout: float | tuple[float, float], progress: bool, desc: str, server: _Server) -> _Hashes:
    """One attempt: request (with Range when ``part`` has bytes), stream into ``part``; return the hashes."""
    from tqdm.auto import tqdm

    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    with http.get(url, stream=True, timeout=timeout, headers=headers) as resp:
        status = resp.status_code
        if status == 416 and offset:
            total = _content_range_total(resp.headers.get("Content-Range", ""))
            if total == offset:  # the .part is already complete
                log.info("%s: partial file already complete (%d bytes)", part, offset)
                return _hash_existing(part, algorithm)
            log.warning("%s: server refused range %d- (416); starting over", url, offset)
            part.unlink()
            raise _Retryable("range not satisfiable; restarting")
        dest = part.with_name(part.name[: -len(".part")])
        if status in (404, 410):
            raise NetworkError(f"{url}: {status} {resp.reason or 'Not Found'}; the URL is wrong or the file has "
                               f"moved: check the URL or mirror (LABELGRAPH_DOWNLOAD_BASE), or download the file "
                               f"by hand and place it at {dest}")
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status} {resp.reason or ''}".strip())
        if status not in (200, 206):
            raise NetworkError(f"{url}: HTTP {status} {resp.reason or ''}".strip() + f"; download the file by hand "
                               f"and place it at {dest}")
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype in ("text/html", "application/xhtml+xml") and not dest.name.lower().endswith((".html", ".htm")):
            raise NetworkError(_html_message(url, dest, ctype))
        if status == 206 or resp.headers.get("Accept-Ranges", "").strip().lower() == "bytes":
            server.ranges = True
        elif server.ranges is None:
            server.ranges = False
        if status == 206:
            start = _content_range_start(resp.headers.get("Content-Range", ""))
            if start != offset:
                log.warning("%s: server resumed at %s, not %d; starting over", url, start, offset)
                part.unlink()
                raise _Retryable("unexpected Content-Range; restarting")
            mode = "ab"
            hashes = _hash_existing(part, algorithm)
        else:
            if offset:
                log.info("%s: server ignored the Range request; starting over", url)
            offset = 0
            mode = "wb"
            hashes = _Hashes(["sha256"] + ([algorithm] if algorithm else []))
        length = resp.headers.get("Content-Length")
        expected_end = offset + int(length) if length and length.isdigit() else size
        written = offset
        with open(part, mode) as out, tqdm(total=expected_end, initial=offset, unit="B", unit_scale=True,
                                           unit_divisor=1024, desc=desc, disable=not progress,
                                           leave=False) as bar:
            first = True
            for chunk in resp.iter_content(chunk_size=_NET_CHUNK):
                if not chunk:
                    continue
                if first and mode == "wb" and _looks_like_html(chunk):
                    raise NetworkError(_html_message(url, dest, ctype or "no content type"))
                first = False
                out.write(chunk)
                hashes.update(chunk)
                written += len(chunk)
                bar.update(len(chunk))
        if length and length.isdigit() and written < offset + int(length):
            raise _Retryable(f"transfer cut after {written} of {offset + int(length)} bytes")
    return hashes


def _html_message(url: str, dest: Path, ctype: str) -> str:
    return (f"{url}: the server sent an HTML page ({ctype}) instead of {dest.name} (an error or login page: the "
            f"URL is wrong or the file has moved); check the URL or mirror (LABELGRAPH_DOWNLOAD_BASE), or download "
            f"the file with a browser and place it at {dest}")


def _hash_existing(part: Path, algorithm: str | None) -> _Hashes:
    hashes = _Hashes(["sha256"] + ([algorithm] if algorithm else []))
    with open(part, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            hashes.update(chunk)
    return hashes


def _content_range_start(value: str) -> int | None:
    # "bytes 100-199/200"
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _content_range_total(value: str) -> int | None:
    # "bytes */200"
    try:
        return int(value.rsplit("/", 1)[1])
    except (IndexError, ValueError):
        return None


@contextlib.contextmanager
def _lock(path: Path, filename: str) -> Iterator[None]:
    """An exclusive advisory lock, so two processes never write one ``.part``; a second waits for the first.

    The lock dies with its process, and the file goes with the last holder, so a killed
    download leaves nothing that blocks the next run.
    """
    def waiting(pid: int | None) -> None:
        who = f"process {pid}" if pid else "another process"
        log.warning("%s: %s is downloading it; waiting for it to finish", filename, who)

    lock = FileLock(path, exclusive=True, timeout=None, on_wait=waiting)
    try:
        lock.acquire()
    except OSError as exc:
        raise ConfigError(f"{path.parent}: cannot write in the download folder ({exc.strerror})") from None
    try:
        yield
    finally:
        lock.release()


# -- extracting -------------------------------------------------------------------------------------------------

def _member_problem(name: str) -> str | None:
    """Why an archive member name is unsafe to extract, or ``None``."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        return "absolute path"
    if ".." in PurePosixPath(posix).parts:
        return "path with '..'"
    return None


def _check_name_conflicts(path: Path, names: list[str]) -> None:
    """Refuse members that would land on the same path: a file twice, or a name both a file and a folder."""
    files: set[str] = set()
    folders: set[str] = set()
    for name in names:
        posix = name.replace("\\", "/")
        parts = [p for p in posix.split("/") if p not in ("", ".")]
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
        if posix.endswith("/"):
            folders.add("/".join(parts))
        elif "/".join(parts) in files:
            raise DataError(f"{path}: member {name!r} appears twice in the archive")
        else:
            files.add("/".join(parts))
    clash = sorted(files & folders)
    if clash:
        raise DataError(f"{path}: member {clash[0]!r} is both a file and a folder in the archive")


def _wanted(name: str, members: tuple[str, ...] | None) -> bool:
    if members is None:
        return True
    name = name.rstrip("/")
    return any(name == m.rstrip("/") or (m.endswith("/") and name.startswith(m)) for m in members)


def extract(path: str | os.PathLike[str], dest: str | os.PathLike[str],
            members: Iterable[str] | None = None) -> Path:
    """Extract a zip or tar (``.tar``, ``.tar.gz``, ``.tgz``) archive into ``dest``, atomically and safely.

    Members with an absolute path, a ``..`` component, or (tar) a link pointing
    outside the archive, a device or a fifo are refused before anything is written.
    The archive is extracted into a temporary folder beside ``dest`` that is renamed
    to ``dest`` when complete; a ``dest`` that holds an earlier extraction of the same
    archive file with the same members is returned as is.

    Parameters
    ----------
    path : path
        The archive.
    dest : path
        The folder to create (replaced if it holds a different extraction).
    members : iterable of str, optional
        Member names to extract; a name ending in ``/`` selects a folder.  A name
        matching nothing is a :class:`DataError`.  Default: all.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Examples
    --------
    >>> import zipfile
    >>> d = tmp
    >>> with zipfile.ZipFile(d / "a.zip", "w") as z:
    ...     z.writestr("annotations/instances_val2014.json", "{}")
    ...     z.writestr("annotations/captions_val2014.json", "{}")
    >>> out = extract(d / "a.zip", d / "out", members=["annotations/instances_val2014.json"])
    >>> sorted(p.name for p in (out / "annotations").iterdir())
    ['instances_val2014.json']
    >>> with zipfile.ZipFile(d / "evil.zip", "w") as z:
    ...     z.writestr("../evil.txt", "x")
    >>> extract(d / "evil.zip", d / "out2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: .../evil.zip: refusing to extract member '../evil.txt' (path with '..')
    """
    path, dest = Path(path), Path(dest)
    if not path.is_file():
        raise DataError(f"{path}: no such archive")
    wanted = None if members is None else tuple(members)
    st = path.stat()
    marker = {"archive": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
              "members": None if wanted is None else sorted(wanted)}
    with contextlib.suppress(OSError, ValueError):
        if json.loads((dest / _EXTRACT_MARKER).read_text(encoding="utf-8")) == marker:
            log.debug("%s: already extracted into %s", path, dest)
            return dest

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        if zipfile.is_zipfile(path):
            _extract_zip(path, tmp, wanted)
        elif _is_tar(path):
            _extract_tar(path, tmp, wanted)
        else:
            raise DataError(f"{path}: not a zip or tar archive")
        (tmp / _EXTRACT_MARKER).write_text(json.dumps(marker), encoding="utf-8")
        _replace_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _check_selection(path: Path, names: list[str], wanted: tuple[str, ...] | None) -> None:
    if wanted is None:
        return
    for m in wanted:
        if not any(_wanted(n, (m,)) for n in names):
            raise DataError(f"{path}: archive has no member {m!r}")


def _extract_zip(path: Path, tmp: Path, wanted: tuple[str, ...] | None) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if _wanted(i.filename, wanted)]
            _check_selection(path, [i.filename for i in zf.infolist()], wanted)
            for info in infos:
                problem = _member_problem(info.filename)
                if problem:
                    raise DataError(f"{path}: refusing to extract member {info.filename!r} ({problem})")
            _check_name_conflicts(path, [i.filename for i in infos])
            for info in infos:
                zf.extract(info, tmp)
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: corrupt zip archive ({exc})") from None


def _extract_tar(path: Path, tmp: Path, wanted: tuple[str, ...] | None) -> None:
    try:
        with tarfile.open(path, "r:*") as tf:
            all_members = tf.getmembers()
            _check_selection(path, [m.name for m in all_members], wanted)
            chosen = [m for m in all_members if _wanted(m.name, wanted)]
            for m in chosen:
                problem = _member_problem(m.name)
                if problem is None and (m.issym() or m.islnk()):
                    target = m.linkname if m.islnk() else str(PurePosixPath(m.name).parent / m.linkname)
                    problem = _member_problem(target) or (
                        "link outside the archive" if _escapes(target) else None)
                    if problem:
                        problem = f"link to {m.linkname!r}: {problem}"
                if problem is None and (m.isdev() or m.isfifo()):
                    problem = "device or fifo"
                if problem:
                    raise DataError(f"{path}: refusing to extract member {m.name!r} ({problem})")
            # a tar may repeat a file (the last copy wins, as tar itself does); a file/folder clash is refused
            _check_name_conflicts(path, list(dict.fromkeys(m.name + ("/" if m.isdir() else "") for m in chosen)))
            if hasattr(tarfile, "data_filter"):
                tf.extractall(tmp, members=chosen, filter="data")
            else:  # pragma: no cover - Python < 3.10.12 / 3.11.4, no extraction filters
                link = next((m for m in chosen if m.issym() or m.islnk()), None)
                if link is not None:  # a link inside the archive can still lead out through another link
                    raise DataError(f"{path}: refusing to extract link member {link.name!r} "
                                    "(this Python has no tarfile extraction filter; use 3.10.12+ or 3.11.4+)")
                tf.extractall(tmp, members=chosen)
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{path}: corrupt or unsafe tar archive ({exc})") from None


def _escapes(target: str) -> bool:
    depth = 0
    for part in PurePosixPath(target).parts:
        if part == "..":
            depth -= 1
        elif part not in (".", ""):
            depth += 1
        if depth < 0:
            return True
    return False


def _replace_dir(new: Path, dest: Path) -> None:
    """Rename ``new`` to ``dest``; an existing ``dest`` is moved aside first and removed after."""
    old = None
    if dest.exists() or dest.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
        os.replace(dest, old / "x")
    os.replace(new, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# -- datasets ---------------------------------------------------------------------------------------------------

def fetch_extracted(name_or_source: str | Source, *, dest: str | os.PathLike[str] | None = None,
                    members: Iterable[str] | None = None, **fetch_options: Any) -> Path:
    """:func:`fetch` an archive, then :func:`extract` the members labelgraph reads.

    The default ``dest`` is ``labelgraph.config.home() / "extracted" / <source name>``;
    the default ``members`` are the source's :attr:`Source.members`.

    Examples
    --------
    >>> import hashlib, io, zipfile
    >>> cache = tmp
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w") as z:
    ...     z.writestr("Charades/Charades_v1_classes.txt", "c000 Holding some clothes\\n")
    >>> _ = (cache / "Charades.zip").write_bytes(buf.getvalue())
    >>> root = fetch_extracted("charades-v1", cache_dir=cache, dest=cache / "x")
    >>> (root / "Charades" / "Charades_v1_classes.txt").read_text()
    'c000 Holding some clothes\\n'
    """
    source = get_source(name_or_source)
    archive = fetch(source, **fetch_options)
    target = Path(dest) if dest is not None else home() / "extracted" / source.name
    return extract(archive, target, source.members if members is None else members)


#: (dataset, year, split) → (source name, path of what the dataset reader reads, relative to the extraction)
_DATASET_LAYOUT: dict[tuple[str, str], tuple[str, str]] = {
    ("coco", "2014"): ("coco2014-annotations", "annotations/instances_{split}2014.json"),
    ("coco", "2017"): ("coco2017-annotations", "annotations/instances_{split}2017.json"),
    ("voc", "2007"): ("voc2007-trainval", "VOCdevkit/VOC2007"),
    ("voc", "2007-test"): ("voc2007-test", "VOCdevkit/VOC2007"),
    ("voc", "2012"): ("voc2012-trainval", "VOCdevkit/VOC2012"),
    ("charades", "v1"): ("charades-v1", "Charades"),
}
_DEFAULT_YEAR = {"coco": "2014", "voc": "2007", "charades": "v1"}
_SPLITS = {"coco": ("train", "val"), "voc": ("train", "val", "trainval", "test"), "charades": ("train", "test")}


def dataset_files(dataset: str, *, year: str | int | None = None, split: str | None = None,
                  **fetch_options: Any) -> Path:
    """Download (once) and extract a dataset's annotations; return what its reader takes.

    ======== ============== ================================================================
    dataset  year           returns (under ``home()/extracted/<source>/``)
    ======== ============== ================================================================
    coco     2014 (default) ``annotations/instances_<split>2014.json`` (split train or val)
    coco     2017           ``annotations/instances_<split>2017.json``
    voc      2007 (default) ``VOCdevkit/VOC2007`` (split test: from ``voc2007-test``)
    voc      2012           ``VOCdevkit/VOC2012`` (train, val, trainval)
    charades v1             ``Charades`` (``Charades_v1_{train,test}.csv``, classes)
    ======== ============== ================================================================

    Keyword arguments go to :func:`fetch` (``base_url``, ``progress``, ``session`` …)
    and ``dest`` to :func:`fetch_extracted`.

    Examples
    --------
    >>> dataset_files("voc", year=2012, split="test")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: VOC 2012 has no public test annotations (splits: train, val, trainval)
    """
    dataset = dataset.lower()
    if dataset not in _DEFAULT_YEAR:
        raise ConfigError(f"no download for dataset {dataset!r} (downloads exist for: {', '.join(_DEFAULT_YEAR)})")
    year_s = str(year if year is not None else _DEFAULT_YEAR[dataset])
    if split is not None and split not in _SPLITS[dataset]:
        raise ConfigError(f"dataset {dataset!r} has no split {split!r} (splits: {', '.join(_SPLITS[dataset])})")
    key = year_s
    if dataset == "voc" and split == "test":
        if year_s != "2007":
            raise ConfigError(f"VOC {year_s} has no public test annotations (splits: train, val, trainval)")
        key = "2007-test"
    if (dataset, key) not in _DATASET_LAYOUT:
        years = sorted({k[1] for k in _DATASET_LAYOUT if k[0] == dataset and "test" not in k[1]})
        raise ConfigError(f"no download for {dataset} {year_s} (years: {', '.join(years)})")
    name, relative = _DATASET_LAYOUT[(dataset, key)]
    relative = relative.format(split=split or "train")
    root = fetch_extracted(name, **fetch_options)
    target = root / relative
    if not target.exists():
        raise DataError(f"{root}: the {name} archive has no {relative}")
    return target

