"""A loopback ConceptNet API for tests and benchmarks: real HTTP on 127.0.0.1, the API's JSON shape, faults.

``FakeConceptNet`` serves ``/query?node=…&other=…&offset=…&limit=…`` pages built from
synthetic edges (the shape of api.conceptnet.io 5.7: ``@context``, ``@id``, ``edges``,
``view`` with ``nextPage``; pages of at most ``page_cap`` edges; each edge with ``@id``, ``rel``, ``start``, ``end``,
``weight``, ``surfaceText``, ``sources``, ``dataset``, ``license``), and recorded real
pages indexed by their own ``view.@id`` (a ``/query`` for a recorded word starts at its
first recorded page).  A recorded ``nextPage`` that points past the recording is left
out of the served page, so the chain ends where the recording ends.

Faults are queued in ``server.faults`` and taken one per request, in order
(``None`` = answer normally): ``("429", seconds)``, ``"500"``, ``"503"``, ``"reset"``
(the TCP connection is reset before any reply), ``("slow", seconds)`` (sleep, then
answer), ``"truncated"`` (half the body under the full Content-Length, then close),
``"html"`` (a 200 with an HTML page), ``("redirect", location)`` (a 302 to ``location``).
Every request is logged with its arrival time (``time.monotonic``) in ``server.log``.

A hostile pager: ``endless="repeat"`` answers every ``/query`` with the same edges and a
``nextPage`` one offset further, for ever; ``endless="fresh"`` with one new edge a page.
"""
from __future__ import annotations

import contextlib
import socket
import struct
import tarfile
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson

CONTEXT_57 = ["http://api.conceptnet.io/ld/conceptnet5.7/context.ld.json"]


def node(uri: str) -> dict[str, Any]:
    """A node object as the API writes it."""
    parts = uri.split("/")
    term = "/".join(parts[:4])
    return {"@id": uri, "@type": "Node", "label": parts[3].replace("_", " "), "language": parts[2], "term": term}


def store_row(rel: str, start: str, end: str, weight: float) -> tuple:
    """A store row (as ``Store.add_edges`` takes) for the edge ``start -rel-> end``."""
    from labelgraph.conceptnet.store import edge_row

    return edge_row(f"/a/[/r/{rel}/,{start}/,{end}/]", f"/r/{rel}", start, end, weight)


def make_edge(rel: str, start: str, end: str, weight: float, *, dataset: str = "/d/conceptnet/4/en",
              surface: str | None = None) -> dict[str, Any]:
    """An edge object in the API's exact shape."""
    return {
        "@id": f"/a/[/r/{rel}/,{start}/,{end}/]",
        "@type": "Edge",
        "dataset": dataset,
        "end": node(end),
        "license": "cc:by/4.0",
        "rel": {"@id": f"/r/{rel}", "@type": "Relation", "label": rel},
        "sources": [{"@id": "/and/[/s/activity/omcs/omcs1_possibly_free_text/,/s/contributor/omcs/test/]",
                     "@type": "Source", "activity": "/s/activity/omcs/omcs1_possibly_free_text",
                     "contributor": "/s/contributor/omcs/test"}],
        "start": node(start),
        "surfaceText": surface,
        "weight": weight,
    }


def _matches(uri: str, prefix: str) -> bool:
    return uri == prefix or uri.startswith(prefix.rstrip("/") + "/")


def load_recorded(tar_path: Path, words: Iterable[str] | None = None) -> tuple[dict[str, dict], dict[str, str]]:
    """Index the recorded API pages of a tarball by ``view.@id``; also word concept → first page id."""
    wanted = None if words is None else {f"/c/en/{w}" for w in words}
    pages: dict[str, dict] = {}
    roots: dict[str, str] = {}
    with tarfile.open(tar_path) as tar:
        for member in tar:
            if not member.isfile():
                continue
            page = orjson.loads(tar.extractfile(member).read())
            concept = page.get("@id")
            if wanted is not None and concept not in wanted:
                continue
            view = page.get("view") or {}
            page_id = view.get("@id") or f"{concept}?offset=0&limit=20"
            pages[page_id] = page
            if "?offset=0&" in page_id or not view:
                roots[concept] = page_id
    return pages, roots


class FakeConceptNet:
    """The loopback server; use as a context manager or call :meth:`start`/:meth:`stop`."""

    def __init__(self, edges: Iterable[dict[str, Any]] = (), *, recorded: dict[str, dict] | None = None,
                 roots: dict[str, str] | None = None, delay: float = 0.0, page_cap: int = 1000,
                 endless: str | None = None) -> None:
        self.edges = list(edges)
        self.endless = endless
        self.page_cap = page_cap
        self.recorded = recorded or {}
        self.roots = roots or {}
        self.delay = delay
        self.faults: deque = deque()
        self.log: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._by_concept: dict[str, list[dict]] = {}
        for e in self.edges:
            for end in ("start", "end"):  # a deliberately broken edge may lack one end
                if isinstance(e.get(end), dict):
                    self._by_concept.setdefault(e[end]["term"], []).append(e)

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> "FakeConceptNet":
        owner = self

        class Handler(_Handler):
            server_owner = owner

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        httpd.handle_error = lambda request, address: None  # faults break connections on purpose
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "FakeConceptNet":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- content -------------------------------------------------------------------------------
    def requests_for(self, concept: str) -> list[str]:
        """Logged request paths about ``concept`` (a /query for it or one of its recorded pages)."""
        out = []
        for _, path in self.log:
            parts = urlsplit(path)
            qs = parse_qs(parts.query)
            if qs.get("node", [None])[0] == concept or parts.path == concept:
                out.append(path)
        return out

    def page(self, path: str) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(path)
        qs = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/query" and "node" in qs and self.endless:
            return 200, self._endless_page(qs["node"], int(qs.get("offset", 0)))
        if parts.path == "/query" and "node" in qs:
            concept = qs["node"]
            offset = int(qs.get("offset", 0))
            if concept in self.roots and offset == 0:
                return 200, self._recorded(self.roots[concept])
            return 200, self._query_page(concept, qs.get("other"), offset, min(int(qs.get("limit", 50)), self.page_cap))
        if path in self.recorded:
            return 200, self._recorded(path)
        return 404, {"error": {"status": 404, "details": f"{path} is not a URI this server knows"}}

    def _endless_page(self, concept: str, offset: int) -> dict[str, Any]:
        k = offset if self.endless == "fresh" else 0
        edges = [make_edge("RelatedTo", concept, f"{concept}_{k}_{j}", 1.0) for j in range(2)]
        nxt = "/query?" + urlencode({"node": concept, "offset": offset + 1, "limit": 2}, safe="/")
        return {"@context": CONTEXT_57, "@id": f"/query?node={concept}", "edges": edges,
                "view": {"@id": f"/query?node={concept}&offset={offset}", "nextPage": nxt}}

    def _recorded(self, page_id: str) -> dict[str, Any]:
        page = dict(self.recorded[page_id])
        view = page.get("view")
        if isinstance(view, dict) and view.get("nextPage") not in self.recorded:
            page["view"] = {k: v for k, v in view.items() if k != "nextPage"}
        return page

    def _query_page(self, concept: str, other: str | None, offset: int, limit: int) -> dict[str, Any]:
        hits = []
        for e in self._by_concept.get(concept, []):
            s, t = (e.get("start") or {}).get("@id", ""), (e.get("end") or {}).get("@id", "")
            if not (s and t):
                hits.append(e)
            elif _matches(s, concept) and (other is None or _matches(t, other)):
                hits.append(e)
            elif _matches(t, concept) and (other is None or _matches(s, other)):
                hits.append(e)
        base = {"node": concept, **({"other": other} if other else {})}
        page_id = "/query?" + urlencode(base, safe="/")
        out: dict[str, Any] = {"@context": CONTEXT_57, "@id": page_id, "edges": hits[offset:offset + limit]}
        if len(hits) > limit or offset:
            view = {"@id": "/query?" + urlencode({**base, "offset": offset, "limit": limit}, safe="/"),
                    "@type": "PartialCollectionView",
                    "firstPage": "/query?" + urlencode({**base, "offset": 0, "limit": limit}, safe="/"),
                    "paginatedProperty": "edges"}
            if offset + limit < len(hits):
                view["nextPage"] = "/query?" + urlencode({**base, "offset": offset + limit, "limit": limit}, safe="/")
            if offset:
                view["previousPage"] = "/query?" + urlencode(
                    {**base, "offset": max(0, offset - limit), "limit": limit}, safe="/")
            out["view"] = view
        return out


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server_owner: FakeConceptNet

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def finish(self) -> None:
        with contextlib.suppress(Exception):
            super().finish()

    def _send(self, status: int, body: bytes, ctype: str = "application/json", headers: dict | None = None,
              cut: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if cut else body)
        self.wfile.flush()
        if cut:
            self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802
        owner = self.server_owner
        with owner._lock:
            owner.log.append((time.monotonic(), self.path))
            fault = owner.faults.popleft() if owner.faults else None
        kind, arg = (fault if isinstance(fault, tuple) else (fault, None))
        try:
            if kind == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            if kind == "429":
                self._send(429, b'{"error": "rate limit"}', headers={"Retry-After": f"{arg:g}"})
                return
            if kind == "redirect":
                self._send(302, b"", "text/plain", headers={"Location": arg})
                return
            if kind in ("500", "503"):
                self._send(int(kind), b'{"error": "server error"}')
                return
            if kind == "html":
                self._send(200, b"<html><body><h1>Service temporarily unavailable</h1></body></html>",
                           "text/html; charset=utf-8")
                return
            if kind == "slow":
                time.sleep(arg)
            elif owner.delay:
                time.sleep(owner.delay)
            status, page = owner.page(self.path)
            self._send(status, orjson.dumps(page), cut=(kind == "truncated"))
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
