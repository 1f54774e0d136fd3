"""HTTP fetch into the download cache: Range resume from a ``.part`` file, checksum, atomic rename, a lock.

See the package docstring (:mod:`labelgraph.download`) for the steps.  The session
comes from :func:`labelgraph.http.make_session` (User-Agent, timeouts, ``429``/``5xx``
retries with ``Retry-After``); connection errors and cut transfers are retried here,
resuming from the ``.part`` file.

Examples
--------
>>> list(RetryPolicy(retries=2, backoff=1.0).delays())
[1.0, 2.0]
"""
from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from .._lockfile import FileLock
from ..cache import home
from ..errors import ChecksumError, ConfigError, NetworkError
from ..files import progress as progress_bar
from ..http import make_session
from .catalogue import Source, download_url, get_source
from .checksums import _CHUNK, _Hashes, _Record, _split_checksum, _stamp, file_digest

if TYPE_CHECKING:  # requests is imported where a download happens, keeping ``import labelgraph`` light
    import requests

__all__ = ["RetryPolicy", "fetch", "fetch_url"]

log = logging.getLogger("labelgraph.download")

_NET_CHUNK = 1 << 16  # small enough that a cut transfer keeps nearly all it received


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


def fetch(name_or_source: str | Source, *, cache_dir: str | os.PathLike[str] | None = None,
          base_url: str | None = None, progress: bool = False, session: "requests.Session | None" = None,
          timeout: float | tuple[float, float] = (10, 60), retries: int | RetryPolicy = 3) -> Path:
    """Download a known file into the cache (once) and return its path.

    Parameters
    ----------
    name_or_source : str or Source
        A name in :data:`SOURCES` (``"coco2014-annotations"``, ``"glove.6B"`` …) or a :class:`Source`.
    cache_dir : path, optional
        Where files go; default ``labelgraph.cache.home() / "downloads"``.
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

    >>> import hashlib, pathlib
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
    >>> import pathlib
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
    http = session if session is not None else make_session(retries=policy.retries, backoff=policy.backoff,
                                                            backoff_max=policy.max_backoff)
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
                if exc.status is not None and own_session:
                    delays = iter(())  # the session's Retry has already retried this reply
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
    """A reply worth another attempt (a 5xx, 429, a transfer cut short); ``status`` for a reply's status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


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
            raise _Retryable(f"HTTP {status} {resp.reason or ''}".strip(), status)
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
        with open(part, mode) as out, progress_bar(total=expected_end, initial=offset, unit="B", desc=desc,
                                                   enabled=progress) as bar:
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
