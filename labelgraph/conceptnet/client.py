"""A polite client for the ConceptNet web API: one Session, timeouts, a token bucket, retries by policy.

The manners live in :class:`FetchPolicy` (a frozen dataclass): the published limits
of ``api.conceptnet.io`` are 3,600 requests an hour with bursts of 120 a minute;
the defaults stay well inside them (0.5 requests/s = 1,800 an hour, bursts of 20).
A ``429`` waits as long as its ``Retry-After`` says; ``5xx`` replies, reset
connections, timeouts and truncated or non-JSON bodies are retried with exponential
backoff and jitter; after the last retry one :class:`~labelgraph.errors.NetworkError`
names what was being fetched.

Examples
--------
>>> policy = FetchPolicy(rate=100.0, burst=5, backoff_base=0.01)
>>> client = ConceptNetClient("http://127.0.0.1:9", policy=policy)
>>> client.query_url("/c/en/tennis_racket")
'http://127.0.0.1:9/query?node=/c/en/tennis_racket&other=/c/en&limit=1000'
>>> client.close()
"""
from __future__ import annotations

import logging
import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlencode, urljoin, urlsplit

import orjson
import requests

from ..errors import ConfigError, NetworkError
from ..http import USER_AGENT, make_session, parse_retry_after

__all__ = ["DEFAULT_BASE_URL", "USER_AGENT", "FetchPolicy", "TokenBucket", "ConceptNetClient", "parse_retry_after",
           "check_base_url", "origin"]

log = logging.getLogger(__name__)

#: The public ConceptNet API.
DEFAULT_BASE_URL = "https://api.conceptnet.io"
#: Redirects followed for one request (each to the base URL's own scheme, host and port).
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)


def origin(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of a URL, the default port filled in: what "the same server" means here.

    Examples
    --------
    >>> origin("https://api.conceptnet.io/query?node=/c/en/cat") == origin("https://API.conceptnet.io:443/")
    True
    """
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port if port is not None else {"http": 80, "https": 443}.get(scheme)


def check_base_url(url: str) -> str:
    """The API root without its trailing ``/``; a :class:`ConfigError` unless it is an ``http(s)://host[:port][/path]`` URL.

    Examples
    --------
    >>> check_base_url("http://127.0.0.1:8084/")
    'http://127.0.0.1:8084'
    >>> check_base_url("ftp://conceptnet.io")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: ConceptNet base URL must start with http:// or https://, got 'ftp://conceptnet.io'
    """
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise ConfigError(f"ConceptNet base URL must start with http:// or https://, got {url!r}")
    parts = urlsplit(url)
    problem = None
    if any(c.isspace() for c in url):
        problem = "it contains white space"
    elif not parts.hostname:
        problem = "it has no host name"
    elif parts.query or parts.fragment:
        problem = "it has a query or fragment; give the API root only"
    elif parts.username or parts.password:
        problem = "it has a user name or password"
    else:
        try:
            parts.port
        except ValueError:
            problem = "its port is not a number in 1..65535"
    if problem:
        raise ConfigError(f"bad ConceptNet base URL {url!r}: {problem}")
    return url.rstrip("/")


@dataclass(frozen=True)
class FetchPolicy:
    """How the client behaves towards the server.

    Parameters
    ----------
    rate : float
        Sustained requests per second allowed by the token bucket (default 0.5 = 1,800/h,
        half the published 3,600/h).
    burst : int
        Bucket capacity: requests that may go out back to back (default 20; the API allows 120 a minute).
    connect_timeout, read_timeout : float
        Seconds for ``requests``' ``timeout=(connect, read)``.
    max_retries : int
        Retries after the first attempt (so ``max_retries + 1`` attempts in all).
    backoff_base, backoff_max : float
        Backoff before retry k (0-based) is ``min(backoff_max, backoff_base * 2**k)``, with jitter.
    jitter : float
        Fraction of the backoff drawn at random: the wait is uniform in
        ``[(1 - jitter) * b, b]``.
    retry_after_max : float
        Longest ``Retry-After`` honoured; a server asking for more gets this.
    page_limit : int
        ``limit`` of each ``/query`` page (the API's maximum is 1,000).
    retry_statuses : tuple of int
        HTTP statuses retried (others fail at once).
    max_pages : int
        Pages followed for one query in one run; a server that pages on beyond this
        is left with a warning naming the query (the concept stays *partial*).
    max_stale_pages : int
        Consecutive pages that bring no edge not already seen for the query after which
        the paging stops, with a warning (an endless pager).

    Examples
    --------
    >>> 8.0 <= FetchPolicy().backoff(3, rng=random.Random(0)) <= 16.0
    True
    """

    rate: float = 0.5
    burst: int = 20
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 6
    backoff_base: float = 2.0
    backoff_max: float = 120.0
    jitter: float = 0.5
    retry_after_max: float = 900.0
    page_limit: int = 1000
    retry_statuses: tuple[int, ...] = field(default=(429, 500, 502, 503, 504))
    max_pages: int = 100
    max_stale_pages: int = 3

    def __post_init__(self) -> None:
        for name in ("rate", "connect_timeout", "read_timeout"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ConfigError(f"FetchPolicy.{name} must be a positive number, got {value!r}")
        if int(self.burst) < 1:
            raise ConfigError(f"FetchPolicy.burst must be >= 1, got {self.burst!r}")
        if int(self.max_retries) < 0:
            raise ConfigError(f"FetchPolicy.max_retries must be >= 0, got {self.max_retries!r}")
        if not 0 <= self.jitter <= 1:
            raise ConfigError(f"FetchPolicy.jitter must be in [0, 1], got {self.jitter!r}")
        if not 1 <= int(self.page_limit) <= 1000:
            raise ConfigError(f"FetchPolicy.page_limit must be in 1..1000, got {self.page_limit!r}")
        for name in ("max_pages", "max_stale_pages"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"FetchPolicy.{name} must be >= 1, got {getattr(self, name)!r}")

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` seconds for requests."""
        return (self.connect_timeout, self.read_timeout)

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry ``attempt`` (0-based): exponential, capped, with jitter."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** attempt)
        u = (rng or random).random()
        return ceiling * (1.0 - self.jitter * u)


class TokenBucket:
    """A token bucket: at most ``capacity + rate * t`` acquisitions in any window of ``t`` seconds.

    Examples
    --------
    >>> bucket = TokenBucket(rate=1000.0, capacity=2)
    >>> [round(bucket.acquire(), 3) for _ in range(2)]
    [0.0, 0.0]
    """

    def __init__(self, rate: float, capacity: int, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = float(rate)
        self.capacity = float(capacity)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(capacity)
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is there; returns the seconds waited."""
        with self._lock:
            waited = 0.0
            while True:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return waited
                pause = (1.0 - self._tokens) / self.rate
                self._sleep(pause)
                waited += pause


class _Retry(Exception):
    """An attempt failed in a way worth retrying."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


class ConceptNetClient:
    """HTTP access to a ConceptNet API server.

    Parameters
    ----------
    base_url : str
        Server root (default :data:`DEFAULT_BASE_URL`); tests point it at a loopback server.
    session : requests.Session, optional
        The transport, injected; one is made (and closed by :meth:`close`) otherwise.
        Its ``User-Agent`` is set to :data:`USER_AGENT` unless it already names one of its own.
    policy : FetchPolicy, optional
        Rate limit, timeouts, retries.
    rng : random.Random, optional
        Source of the backoff jitter.
    sleep, clock : callables, optional
        ``time.sleep`` and ``time.monotonic`` unless given.

    Attributes
    ----------
    requests_made : int
        HTTP requests sent so far (retries included).
    """

    def __init__(self, base_url: str = DEFAULT_BASE_URL, *, session: requests.Session | None = None,
                 policy: FetchPolicy | None = None, rng: random.Random | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.base_url = check_base_url(base_url)
        self.origin = origin(self.base_url)
        self.policy = policy or FetchPolicy()
        self._own_session = session is None
        self.session = session or make_session(retries=0)  # retries go through the token bucket, counted
        if self._own_session or "labelgraph" not in self.session.headers.get("User-Agent", ""):
            self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers.setdefault("Accept", "application/json")
        self.bucket = TokenBucket(self.policy.rate, self.policy.burst, clock=clock, sleep=sleep)
        self._rng = rng or random.Random()
        self._sleep = sleep
        self.requests_made = 0

    def close(self) -> None:
        """Close the session if this client made it."""
        if self._own_session:
            self.session.close()

    def __enter__(self) -> "ConceptNetClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def query_url(self, concept: str, other: str | None = "/c/en") -> str:
        """The first page of every edge of ``concept`` whose other end is under ``other``."""
        params: dict[str, Any] = {"node": concept}
        if other:
            params["other"] = other
        params["limit"] = self.policy.page_limit
        return f"{self.base_url}/query?{urlencode(params, safe='/')}"

    def resolve(self, url: str) -> str:
        """An absolute URL for a page link (``view.nextPage`` is relative to the server root)."""
        return urljoin(self.base_url + "/", url)

    def check_link(self, url: str, what: str) -> str:
        """``url`` made absolute; a :class:`NetworkError` when it leads to another server than the base URL's.

        Examples
        --------
        >>> client = ConceptNetClient("http://127.0.0.1:8084")
        >>> client.check_link("/query?node=/c/en/cat&offset=1000", "/c/en/cat")
        'http://127.0.0.1:8084/query?node=/c/en/cat&offset=1000'
        >>> client.check_link("http://127.0.0.1:9999/query", "/c/en/cat")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        labelgraph.errors.NetworkError: ConceptNet API: ... leads to http://127.0.0.1:9999/query, ...
        """
        full = self.resolve(url)
        if origin(full) != self.origin:
            raise NetworkError(f"ConceptNet API: a link met while fetching {what} leads to {full}, not to "
                               f"{self.base_url}; not followed (another server is never contacted)")
        return full

    def get_json(self, url: str, *, what: str) -> dict[str, Any]:
        """GET ``url`` and return its JSON object, retrying by the policy.

        Parameters
        ----------
        url : str
            Absolute, or relative to the server root.
        what : str
            What is being fetched (a concept), named in log lines and in the final error.

        Raises
        ------
        NetworkError
            After the last retry, or at once for a status the policy does not retry.
        """
        full = self.check_link(url, what)
        policy = self.policy
        attempts = policy.max_retries + 1
        for attempt in range(attempts):
            self.bucket.acquire()
            self.requests_made += 1
            try:
                return self._attempt(full, what)
            except _Retry as exc:
                if attempt + 1 == attempts:
                    raise NetworkError(
                        f"ConceptNet API: fetching {what} failed after {attempts} attempts ({exc.reason}) "
                        f"at {full}; run the same command again to resume") from None
                wait = exc.wait if exc.wait is not None else policy.backoff(attempt, self._rng)
                log.info("%s: %s; retry %d/%d in %.2fs", what, exc.reason, attempt + 1, policy.max_retries, wait)
                if wait > 0:
                    self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, url: str, what: str) -> dict[str, Any]:
        response = self._get(url)
        hops = 0
        while response.status_code in _REDIRECTS and response.headers.get("Location"):
            target = urljoin(url, response.headers["Location"])
            response.close()
            if origin(target) != self.origin:
                scheme, host, port = origin(target)
                raise NetworkError(f"ConceptNet API: {url} redirects to {target}, another server than "
                                   f"{self.base_url}; not followed (pass --base-url {scheme}://{host}:{port} "
                                   "if that server is meant)")
            hops += 1
            if hops > MAX_REDIRECTS:
                raise NetworkError(f"ConceptNet API: more than {MAX_REDIRECTS} redirects for {what} from {url}")
            self.bucket.acquire()
            self.requests_made += 1
            url = target
            response = self._get(url)
        return self._page(response, url, what)

    def _get(self, url: str) -> requests.Response:
        """One GET, redirects not followed (each hop is checked by :meth:`_attempt`)."""
        try:
            return self.session.get(url, timeout=self.policy.timeout, allow_redirects=False)
        except (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema,
                requests.exceptions.InvalidURL) as exc:
            raise ConfigError(f"ConceptNet API: bad URL {url!r} ({exc})") from None
        except requests.exceptions.Timeout:
            raise _Retry(f"no answer within the {self.policy.read_timeout:g}s timeout") from None
        except requests.exceptions.ChunkedEncodingError:
            raise _Retry("the response body was cut short") from None
        except requests.exceptions.ConnectionError as exc:
            raise _Retry(_connection_reason(exc)) from None
        except requests.exceptions.RequestException as exc:
            raise _Retry(type(exc).__name__) from None

    def _page(self, response: requests.Response, url: str, what: str) -> dict[str, Any]:
        """The JSON page of a final (non-redirect) response, or why not."""
        status = response.status_code
        if status in self.policy.retry_statuses:
            wait = parse_retry_after(response.headers.get("Retry-After")) if status in (429, 503) else None
            if wait is not None:
                wait = min(wait, self.policy.retry_after_max)
            raise _Retry(f"HTTP {status}" + (f", Retry-After {wait:g}s" if wait is not None else ""), wait)
        if status != 200:
            raise NetworkError(f"ConceptNet API: HTTP {status} for {what} at {url}")
        body = response.content
        expected = response.headers.get("Content-Length")
        if expected is not None and expected.isdigit() and int(expected) != len(body):
            raise _Retry(f"the response body was cut short ({len(body)} of {expected} bytes)")
        try:
            page = orjson.loads(body)
        except orjson.JSONDecodeError:
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise _Retry(f"the response is not JSON ({kind}, {len(body)} bytes)") from None
        if not isinstance(page, dict) or not isinstance(page.get("edges"), list):
            raise _Retry("the JSON response has no 'edges' list")
        return page


def _connection_reason(exc: BaseException) -> str:
    text = str(exc)
    if "refused" in text.lower():
        return "connection refused"
    if "reset" in text.lower() or "aborted" in text.lower():
        return "connection reset"
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return "host name not found"
    if "RemoteDisconnected" in text or "closed connection" in text:
        return "the server closed the connection"
    return "connection failed"
