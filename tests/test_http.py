"""The HTTP layer against a real loopback server: status retries, Retry-After, no 4xx retry, timeouts, User-Agent."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest
import requests

from labelgraph._version import __version__
from labelgraph.http import USER_AGENT, make_session


class Server:
    """Replies from a script: each request pops ``(status, headers, delay)``; then 200 with a JSON body."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str], float]] = []
        self.log: list[tuple[float, str, str]] = []  # (time, path, User-Agent)
        self.url = ""


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            state.log.append((time.monotonic(), self.path, self.headers.get("User-Agent", "")))
            status, headers, delay = state.script.pop(0) if state.script else (200, {}, 0.0)
            time.sleep(delay)
            body = json.dumps({"edges": [], "status": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def test_user_agent_names_project_and_version(server: Server) -> None:
    with make_session() as s:
        assert s.get(server.url + "/a").status_code == 200
    assert server.log[0][2] == USER_AGENT
    assert USER_AGENT.startswith(f"labelgraph/{__version__} (+http")


def test_503_and_429_retried_with_retry_after(server: Server) -> None:
    server.script = [(503, {"Retry-After": "0.3"}, 0.0), (429, {"Retry-After": "0.2"}, 0.0)]
    with make_session(retries=3, backoff=0.0) as s:
        reply = s.get(server.url + "/x")
    assert reply.status_code == 200 and len(server.log) == 3
    assert server.log[1][0] - server.log[0][0] >= 0.29
    assert server.log[2][0] - server.log[1][0] >= 0.19


def test_retries_run_out_and_the_last_reply_is_returned(server: Server) -> None:
    server.script = [(500, {}, 0.0)] * 5
    with make_session(retries=2, backoff=0.0) as s:
        reply = s.get(server.url + "/x")
    assert reply.status_code == 500 and len(server.log) == 3


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_other_4xx_not_retried(server: Server, status: int) -> None:
    server.script = [(status, {}, 0.0)]
    with make_session(retries=3, backoff=0.0) as s:
        assert s.get(server.url + "/x").status_code == status
    assert len(server.log) == 1


def test_retries_zero_returns_the_status_at_once(server: Server) -> None:
    server.script = [(503, {"Retry-After": "5"}, 0.0)]
    started = time.monotonic()
    with make_session(retries=0) as s:
        assert s.get(server.url + "/x").status_code == 503
    assert len(server.log) == 1 and time.monotonic() - started < 2


def test_default_timeout_applies_and_a_call_may_override_it(server: Server) -> None:
    server.script = [(200, {}, 1.0), (200, {}, 0.3)]
    with make_session(retries=0, timeout=(2.0, 0.2)) as s:
        with pytest.raises(requests.Timeout):
            s.get(server.url + "/slow")
        assert s.get(server.url + "/slow", timeout=3.0).status_code == 200


def test_downloads_and_conceptnet_send_the_same_user_agent(server: Server, tmp_path) -> None:
    from labelgraph.conceptnet.client import ConceptNetClient, FetchPolicy
    from labelgraph.download import fetch_url

    fetch_url(server.url + "/file.json", tmp_path / "file.json")
    with ConceptNetClient(server.url, policy=FetchPolicy(rate=1000.0, burst=1000)) as client:
        client.get_json(client.query_url("/c/en/cat"), what="/c/en/cat")
    assert [ua for _, _, ua in server.log] == [USER_AGENT, USER_AGENT]


def test_conceptnet_retries_stay_counted(server: Server) -> None:
    """The ConceptNet session does not retry by itself: each retry passes the token bucket and is counted."""
    from labelgraph.conceptnet.client import ConceptNetClient, FetchPolicy

    server.script = [(503, {}, 0.0)]
    policy = FetchPolicy(rate=1000.0, burst=1000, max_retries=2, backoff_base=0.005, backoff_max=0.01)
    with ConceptNetClient(server.url, policy=policy) as client:
        client.get_json(client.query_url("/c/en/cat"), what="/c/en/cat")
        assert client.requests_made == len(server.log) == 2
