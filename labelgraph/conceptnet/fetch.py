"""Fetch a label set's edges from the ConceptNet API into the store: about C requests, resumable.

For each concept: ``GET {base}/query?node=/c/en/X&other=/c/en&limit=1000``, then
``view.nextPage`` until there is none.  Each page and the concept's place in the fetch
log are written in one transaction, so a killed run resumes from the recorded page
and a re-run requests nothing already complete (``refresh=True`` redoes it).
Which concepts are fetched follows the label mapping: a label's phrase first, its
content words only when the phrase has no edge (:mod:`labelgraph.conceptnet.mapping`).

A hostile or broken server cannot lead the fetcher astray: a ``nextPage`` (or a
redirect) to another scheme, host or port than the base URL's is an error, a page
URL seen before is an error, and the paging of one query stops, with a warning naming
it, after ``FetchPolicy.max_pages`` pages or ``max_stale_pages`` pages in a row that
bring no edge not already seen.
"""
from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import orjson

from ..errors import DataError
from ..files import progress as progress_bar
from .client import ConceptNetClient
from .mapping import LabelMapping, map_labels
from .store import Store, edge_row

__all__ = ["FetchReport", "parse_api_edge", "parse_page", "fetch_concept", "fetch_concepts", "fetch_labels"]

log = logging.getLogger(__name__)

@dataclass
class FetchReport:
    """What a fetch did.

    Attributes
    ----------
    fetched : list of str
        Concepts whose pages were requested in this run (completed now).
    already : list of str
        Concepts skipped because the store had them complete.
    requests : int
        HTTP requests sent (retries included).
    pages : int
        Pages stored.
    edges_new : int
        Edges new to the store.
    skipped : Counter
        Edges left out, by reason (``other language``, ``missing field``, ``bad weight``).
    mapping : list of LabelMapping
        The label mapping, for :func:`fetch_labels`.
    stopped : list of str
        Concepts whose paging was stopped early (``FetchPolicy.max_pages`` or
        ``max_stale_pages``); they stay *partial* in the fetch log.
    """

    fetched: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    requests: int = 0
    pages: int = 0
    edges_new: int = 0
    skipped: Counter = field(default_factory=Counter)
    mapping: list[LabelMapping] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the CLI."""
        bad = sum(v for k, v in self.skipped.items() if k != "other language")
        text = (f"{len(self.fetched)} concepts fetched, {len(self.already)} already complete; "
                f"{self.requests} requests, {self.pages} pages, {self.edges_new} new edges")
        text += f"; {bad} malformed edges skipped" if bad else ""
        if self.stopped:
            text += (f"; paging stopped early for {len(self.stopped)} concepts ({', '.join(self.stopped)}), "
                     "left partial")
        return text


def parse_api_edge(edge: Any, langs: Sequence[str] = ("en",)) -> tuple | str:
    """An API edge object → a store row, or the reason it is left out.

    Needed: ``@id``, ``rel.@id``, ``start.@id``, ``end.@id`` and a finite numeric
    ``weight``; ``dataset``, ``license``, ``surfaceText`` and ``sources`` are kept when
    present; unknown keys are ignored.  Both ends must be concepts of ``langs``.

    Examples
    --------
    >>> e = {"@id": "/a/[/r/IsA/,/c/en/cat/,/c/en/pet/]", "rel": {"@id": "/r/IsA"},
    ...      "start": {"@id": "/c/en/cat"}, "end": {"@id": "/c/en/pet"}, "weight": 2}
    >>> parse_api_edge(e)[:7]
    ('/a/[/r/IsA/,/c/en/cat/,/c/en/pet/]', 'IsA', '/c/en/cat', '/c/en/pet', '/c/en/cat', '/c/en/pet', 2.0)
    >>> parse_api_edge(dict(e, weight="heavy")), parse_api_edge(dict(e, end={"@id": "/c/fr/chat"}))
    ('bad weight', 'other language')
    """
    try:
        uri = edge["@id"]
        rel = edge["rel"]["@id"]
        start = edge["start"]["@id"]
        end = edge["end"]["@id"]
        weight = edge["weight"]
    except (KeyError, TypeError):
        return "missing field"
    if not all(isinstance(x, str) and x for x in (uri, rel, start, end)):
        return "missing field"
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight):
        return "bad weight"
    prefixes = tuple(f"/c/{lang}/" for lang in langs)
    if not (start.startswith(prefixes) and end.startswith(prefixes)):
        return "other language"
    sources = edge.get("sources")
    surface = edge.get("surfaceText")
    dataset = edge.get("dataset")
    lic = edge.get("license")
    return edge_row(uri, rel, start, end, float(weight),
                    dataset=dataset if isinstance(dataset, str) else None,
                    license=lic if isinstance(lic, str) else None,
                    surface_text=surface if isinstance(surface, str) else None,
                    sources=orjson.dumps(sources).decode() if sources is not None else None)


def parse_page(page: Mapping[str, Any], langs: Sequence[str] = ("en",)) -> tuple[list[tuple], Counter, str | None]:
    """The kept rows of an API page, the skipped edges by reason, and ``view.nextPage`` (or ``None``).

    Examples
    --------
    >>> parse_page({"edges": [{"@id": "x"}], "view": {"nextPage": "/query?node=/c/en/cat&offset=20"}})
    ([], Counter({'missing field': 1}), '/query?node=/c/en/cat&offset=20')
    """
    rows: list[tuple] = []
    skipped: Counter = Counter()
    seen: set[str] = set()
    for edge in page.get("edges") or []:
        row = parse_api_edge(edge, langs)
        if isinstance(row, str):
            skipped[row] += 1
        elif row[0] not in seen:
            seen.add(row[0])
            rows.append(row)
    view = page.get("view")
    nxt = view.get("nextPage") if isinstance(view, dict) else None
    return rows, skipped, (nxt if isinstance(nxt, str) and nxt else None)


def fetch_concept(store: Store, client: ConceptNetClient, concept: str, *, refresh: bool = False,
                  langs: Sequence[str] = ("en",), report: FetchReport | None = None) -> FetchReport:
    """Fetch every page of ``concept`` (resuming a partial fetch) unless the store has it complete.

    Examples
    --------
    >>> with Store(tmp / "cn.sqlite") as st:
    ...     _ = st.record_page("/c/en/cat", [], None)  # complete: nothing to request
    ...     fetch_concept(st, ConceptNetClient("http://127.0.0.1:9"), "/c/en/cat").already
    ['/c/en/cat']
    """
    report = report if report is not None else FetchReport()
    state = store.fetch_state(concept)
    if refresh and state is not None:
        store.reset_fetch(concept)
        state = None
    if state is not None and state.complete:
        report.already.append(concept)
        return report
    other = f"/c/{langs[0]}" if len(langs) == 1 else None
    url = state.next_page if state is not None and state.next_page else client.query_url(concept, other)
    policy = client.policy
    seen_urls: set[str] = set()
    seen_edges: set[Any] = set()
    stale = 0
    before = client.requests_made
    bad = Counter()
    while url is not None:
        if url in seen_urls:
            raise DataError(f"ConceptNet API: the pages of {concept} loop back to {url}")
        if len(seen_urls) >= policy.max_pages:
            log.warning("ConceptNet API: stopped paging %s after %d pages (FetchPolicy.max_pages, --max-pages); "
                        "the concept stays partial, next page %s", client.query_url(concept, other),
                        len(seen_urls), url)
            report.stopped.append(concept)
            break
        seen_urls.add(url)
        page = client.get_json(url, what=concept)
        rows, skipped, nxt = parse_page(page, langs)
        if nxt is not None:
            client.check_link(nxt, concept)  # before recording it: a rerun must not resume from it either
        report.edges_new += store.record_page(concept, rows, nxt)
        report.pages += 1
        report.skipped.update(skipped)
        bad.update({k: v for k, v in skipped.items() if k != "other language"})
        ids = {_edge_id(e) for e in page.get("edges") or []}
        stale = stale + 1 if ids <= seen_edges else 0
        seen_edges |= ids
        if nxt is not None and stale >= policy.max_stale_pages:
            log.warning("ConceptNet API: stopped paging %s after %d pages in a row with no new edge "
                        "(the server repeats itself); the concept stays partial", client.query_url(concept, other),
                        stale)
            report.stopped.append(concept)
            break
        url = nxt
    else:
        report.fetched.append(concept)
    report.requests += client.requests_made - before
    if bad:
        log.warning("%s: skipped %s", concept, ", ".join(f"{v} edges with {k}" for k, v in sorted(bad.items())))
    return report


def _edge_id(edge: Any) -> Any:
    """What tells two edges of a page apart: the ``@id``, else the whole (hashable) edge."""
    if isinstance(edge, dict) and isinstance(edge.get("@id"), str):
        return edge["@id"]
    return orjson.dumps(edge, option=orjson.OPT_SORT_KEYS)


def fetch_concepts(store: Store, client: ConceptNetClient, concepts: Iterable[str], *, refresh: bool = False,
                   langs: Sequence[str] = ("en",), progress: bool = False) -> FetchReport:
    """Fetch each concept in turn (see :func:`fetch_concept`); a progress bar shows concepts, edges, requests.

    Examples
    --------
    >>> with Store(tmp / "cn.sqlite") as st:
    ...     _ = st.record_page("/c/en/cat", [], None)
    ...     fetch_concepts(st, ConceptNetClient("http://127.0.0.1:9"), ["/c/en/cat"]).summary()
    '0 concepts fetched, 1 already complete; 0 requests, 0 pages, 0 new edges'
    """
    concepts = list(dict.fromkeys(concepts))
    report = FetchReport()
    with progress_bar(total=len(concepts), unit="concept", enabled=progress, desc="conceptnet", leave=True) as bar:
        for concept in concepts:
            fetch_concept(store, client, concept, refresh=refresh, langs=langs, report=report)
            bar.update(1)
            bar.set_postfix(edges=report.edges_new, requests=report.requests, refresh=False)
    return report


def fetch_labels(store: Store, client: ConceptNetClient, labels: Sequence[str], *,
                 overrides: Mapping[str, Sequence[str]] | None = None, refresh: bool = False,
                 lang: str = "en", progress: bool = False, dataset: str | None = None) -> FetchReport:
    """Fetch what a label set needs: each label's phrase concept, its words only where the phrase has no edge.

    Parameters
    ----------
    store : Store
    client : ConceptNetClient
    labels : sequence of str
    overrides : mapping, optional
        label → concepts (:func:`~labelgraph.conceptnet.mapping.read_overrides`); fetched instead.
    refresh : bool
        Fetch again concepts the store has complete.
    lang : str
        Language of both ends of the edges kept.
    progress : bool
        A tqdm bar over labels, with concepts, edges and requests.
    dataset : str, optional
        The labels' dataset: its display names (``diningtable`` → ``dining table``,
        :mod:`labelgraph.datasets.names`) are the texts mapped to concepts.

    Returns
    -------
    FetchReport
        With ``mapping`` filled in.

    Examples
    --------
    >>> with Store(tmp / "cn.sqlite") as st:
    ...     _ = st.record_page("/c/en/cat", [edge_row("/a/[/r/IsA/,/c/en/cat/,/c/en/pet/]", "/r/IsA",
    ...                                               "/c/en/cat", "/c/en/pet", 2.0)], None)
    ...     report = fetch_labels(st, ConceptNetClient("http://127.0.0.1:9"), ["cat"])
    >>> report.requests, report.mapping[0].concepts
    (0, ('/c/en/cat',))
    """
    report = FetchReport()
    with progress_bar(total=len(labels), unit="label", enabled=progress, desc="conceptnet", leave=True) as bar:
        handled: set[str] = set()

        def has_edges(concept: str) -> bool:
            if concept not in handled:
                handled.add(concept)
                fetch_concept(store, client, concept, refresh=refresh, langs=(lang,), report=report)
            bar.set_postfix(concepts=len(report.fetched) + len(report.already), edges=report.edges_new,
                            requests=report.requests, refresh=False)
            return store.has_edges(concept)

        for label in labels:
            report.mapping.extend(map_labels([label], has_edges, overrides, lang, dataset=dataset))
            bar.update(1)
    return report
