"""ConceptNet API fetch: requests to build COCO's 80-label store vs querying every label pair.

Claim checked (issue 4): filling the store for a label set costs about C requests
(one ``/query?node=…&other=/c/en`` chain a concept), not C·(C−1)/2 pair queries; a
second run makes 0 requests.

Both ways run against the loopback test server (``tests/_conceptnet_server.py``,
real HTTP on 127.0.0.1) holding a synthetic English graph around COCO's 80 labels:
each concept gets a log-normal number of English edges (median 400, clipped to
5..4,000, so some concepts need several 1,000-edge pages), labels are linked to each
other at random, and two multi-word phrases (``sports ball``, ``hair drier``) have no
concept of their own, so their words are fetched instead.  Both ways run with a fast
policy; the wall time **under the default rate limit** (bursts of 20, then 0.5
requests/s) is computed from the request counts — ``max(0, R − 20) / 0.5`` seconds —
not slept through.  The same formula at the API's published limit (1 request/s) is
printed too.

Run from the project root::

    .venv/bin/python benchmarks/bench_conceptnet_fetch.py

The last line printed is a JSON object with every figure.
"""
from __future__ import annotations

import json
import math
import platform
import random
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import labelgraph  # noqa: E402
from labelgraph.conceptnet import ConceptNetClient, FetchPolicy, Store, fetch_labels  # noqa: E402
from labelgraph.conceptnet.mapping import content_words, phrase_concept  # noqa: E402
from tests._conceptnet_server import FakeConceptNet, make_edge  # noqa: E402

ABSENT_PHRASES = {"sports ball", "hair drier"}
DEFAULT = FetchPolicy()
FAST = FetchPolicy(rate=1e6, burst=10**6, backoff_base=0.01)


def synthetic_graph(labels: list[str], seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    concepts = []
    for label in labels:
        if label in ABSENT_PHRASES:
            concepts += [f"/c/en/{w}" for w in content_words(label)]
        else:
            concepts.append(phrase_concept(label))
    edges = []
    rels = ["RelatedTo", "IsA", "AtLocation", "UsedFor", "Synonym", "HasA", "PartOf", "Antonym"]
    for c in concepts:
        n = int(min(4000, max(5, rng.lognormvariate(math.log(400), 1.0))))
        for k in range(n):
            other = f"/c/en/{c.rsplit('/', 1)[1]}_n{k}"
            a, b = (c, other) if k % 2 else (other, c)
            edges.append(make_edge(rels[k % len(rels)], a, b, round(rng.uniform(0.1, 5.0), 3)))
    for a, b in combinations(concepts, 2):
        if rng.random() < 0.08:
            edges.append(make_edge(rng.choice(rels), a, b, round(rng.uniform(0.5, 9.0), 3)))
    return edges


def hours(requests: int, policy: FetchPolicy) -> float:
    return max(0, requests - policy.burst) / policy.rate / 3600


def main() -> None:
    labels = list(labelgraph.load(labelgraph.bundled_path("coco")).labels)
    c = len(labels)
    edges = synthetic_graph(labels)
    published = FetchPolicy(rate=1.0, burst=120)
    with FakeConceptNet(edges) as srv, tempfile.TemporaryDirectory() as tmp:
        store_path = Path(tmp) / "cn.sqlite"
        t0 = time.perf_counter()
        with Store(store_path) as st, ConceptNetClient(srv.url, policy=FAST) as client:
            report = fetch_labels(st, client, labels)
        ours_s = time.perf_counter() - t0
        ours = len(srv.log)
        with Store(store_path, readonly=True) as st:
            stored = st.stats()["edges"]
        srv.log.clear()
        with Store(store_path) as st, ConceptNetClient(srv.url, policy=FAST) as client:
            fetch_labels(st, client, labels)
        second = len(srv.log)

        srv.log.clear()
        concepts = [m.concepts[0] if m.concepts else phrase_concept(m.label) for m in report.mapping]
        t0 = time.perf_counter()
        with ConceptNetClient(srv.url, policy=FAST) as client:
            for a, b in combinations(concepts, 2):
                client.get_json(client.query_url(a, other=b), what=f"{a} {b}")
        pairs_s = time.perf_counter() - t0
        pairs = len(srv.log)

    result = {
        "labels": c, "edges_served": len(edges), "edges_stored": stored,
        "ours_requests": ours, "ours_pages": report.pages, "ours_concepts": len(report.fetched),
        "second_run_requests": second, "pairwise_requests": pairs, "pairwise_formula": c * (c - 1) // 2,
        "ratio_requests": pairs / ours,
        "ours_hours_default_limit": hours(ours, DEFAULT), "pairwise_hours_default_limit": hours(pairs, DEFAULT),
        "ours_hours_published_limit": hours(ours, published),
        "pairwise_hours_published_limit": hours(pairs, published),
        "ours_loopback_s": ours_s, "pairwise_loopback_s": pairs_s,
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
    }
    print(f"COCO, C = {c} labels; synthetic graph of {len(edges):,} edges on the loopback server")
    print(f"labelgraph fetch : {ours:5d} requests ({len(report.fetched)} concepts, {report.pages} pages), "
          f"{stored:,} edges stored, {ours_s:.1f}s on loopback")
    print(f"pair by pair     : {pairs:5d} requests (C(C-1)/2 = {c * (c - 1) // 2}), {pairs_s:.1f}s on loopback")
    print(f"ratio            : {pairs / ours:.1f}x fewer requests")
    print(f"second run       : {second} requests")
    print(f"wall time at the default limit (20 burst, 0.5/s), computed: {hours(ours, DEFAULT) * 60:.1f} min "
          f"vs {hours(pairs, DEFAULT):.2f} h; at the published 1/s: {hours(ours, published) * 60:.1f} min "
          f"vs {hours(pairs, published):.2f} h")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
