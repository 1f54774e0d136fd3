"""The HTTP layer: one :class:`requests.Session` factory for downloads and the ConceptNet client.

Every session says who it is (:data:`USER_AGENT`), gives every request a timeout
(:data:`DEFAULT_TIMEOUT` unless the call names one) and retries a ``429`` or ``5xx``
reply with urllib3's :class:`~urllib3.util.Retry`: exponential backoff, ``Retry-After``
honoured, never a retry on another ``4xx``.  Connection errors and cut transfers are
not retried here: the download resumes them from its ``.part`` file, and the ConceptNet
client retries through its token bucket, so each retry is counted and rate-limited
(it asks for ``retries=0``).  ``requests`` is imported when a session is made, keeping
``import labelgraph`` light.

Examples
--------
>>> session = make_session(retries=2)
>>> session.headers["User-Agent"] == USER_AGENT, session.get_adapter("https://x.org").max_retries.total
(True, 2)
>>> session.close()
"""
from __future__ import annotations

import email.utils
import math
import time
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    import requests

__all__ = ["USER_AGENT", "PROJECT_URL", "DEFAULT_TIMEOUT", "RETRY_STATUSES", "make_session", "parse_retry_after"]

#: Where the project lives, named in the User-Agent so that a server operator can reach it.
PROJECT_URL = "https://pypi.org/project/labelgraph/"
#: What every request says it is.
USER_AGENT = f"labelgraph/{__version__} (+{PROJECT_URL})"
#: ``(connect, read)`` seconds for a call that names no timeout of its own.
DEFAULT_TIMEOUT = (10.0, 60.0)
#: Replies worth another attempt: rate limited, or a server error that may pass.
RETRY_STATUSES = (429, 500, 502, 503, 504)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds (fractions accepted) or an HTTP date.

    Examples
    --------
    >>> parse_retry_after("120"), parse_retry_after("0.5"), parse_retry_after(None), parse_retry_after("soon")
    (120.0, 0.5, None, None)
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def make_session(*, retries: int = 3, backoff: float = 0.5, backoff_max: float = 8.0,
                 timeout: float | tuple[float, float] = DEFAULT_TIMEOUT) -> "requests.Session":
    """A :class:`requests.Session` with the project's User-Agent, a default timeout and status retries.

    Parameters
    ----------
    retries : int
        Retries of a ``429``/``5xx`` reply to ``GET``/``HEAD`` (0: none; the reply is
        returned as is, so the caller sees the status).
    backoff, backoff_max : float
        Seconds before the first retry, doubled each time up to ``backoff_max``; a
        ``Retry-After`` header (seconds or a date) overrides them.
    timeout : float or (float, float)
        Used by every request that does not pass ``timeout=``.

    Returns
    -------
    requests.Session
        Close it (or use it as a context manager) when done.

    Examples
    --------
    >>> with make_session(retries=0, timeout=5.0) as s:
    ...     s.get_adapter("http://127.0.0.1").max_retries.status_forcelist
    (429, 500, 502, 503, 504)
    """
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util import Retry

    class _Session(requests.Session):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = timeout
            return super().request(method, url, *args, **kwargs)

    class _LenientRetry(Retry):  # urllib3 refuses "0.5" (fractions) with an exception; a bad value means backoff
        def parse_retry_after(self, retry_after: str) -> float:
            return parse_retry_after(retry_after) or 0.0

    retry = _LenientRetry(total=retries, connect=0, read=False, redirect=0, other=0, status=retries,
                  status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"GET", "HEAD"}),
                  backoff_factor=backoff / 2, backoff_max=backoff_max, respect_retry_after_header=True,
                  raise_on_status=False, raise_on_redirect=False)
    session = _Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session
