"""``labelgraph conceptnet``: fill the local ConceptNet store (API fetch or dump ingest) and look into it."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import click

from ._common import echo_json, format_table, progress_enabled

__all__ = ["conceptnet"]

_STORE = click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None,
                      help="ConceptNet store file [default: $LABELGRAPH_HOME/conceptnet.sqlite].")
_QUIET = click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
_OVERRIDES = click.option("--overrides", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                          default=None, help="Override file (CSV or TOML): label -> concept URIs; wins.")


def _label_source(func):  # type: ignore[no-untyped-def]
    func = click.option("--from", "from_artifact", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        default=None, help="Take the labels of any labelgraph .npz artifact.")(func)
    func = click.option("--labels", "labels_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        default=None, help="A text file with one label a line.")(func)
    func = click.option("--dataset", default=None,
                        help="A bundled dataset's labels: coco, coco2014, voc, voc2007.")(func)
    return func


def _labels(dataset: str | None, labels_file: Path | None, from_artifact: Path | None) -> list[str]:
    from labelgraph.api.labels import label_source

    return label_source(dataset, labels_file, from_artifact).labels


def _store_path(store: Path | None) -> Path:
    from labelgraph.conceptnet import default_store_path

    return store if store is not None else default_store_path()


@click.group()
def conceptnet() -> None:
    """Fetch, ingest and query ConceptNet edges in a local SQLite store.

    The store feeds `labelgraph build --kind knowledge`, which never goes online.

    \b
    Example:
      labelgraph conceptnet fetch --dataset coco
      labelgraph conceptnet stats
    """


@conceptnet.command()
@_label_source
@_STORE
@_OVERRIDES
@click.option("--base-url", default=None, envvar="LABELGRAPH_CONCEPTNET_URL", show_envvar=True,
              help="ConceptNet API root [default: https://api.conceptnet.io].")
@click.option("--refresh", is_flag=True, help="Fetch again concepts the store already has complete.")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=0.5, show_default=True,
              envvar="LABELGRAPH_CONCEPTNET_RATE", show_envvar=True,
              help="Requests per second, sustained (the API allows 1 a second; a mirror of your own may allow more).")
@click.option("--burst", type=click.IntRange(min=1), default=20, show_default=True,
              help="Requests allowed back to back (the API allows 120 a minute).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="Read timeout of one request, seconds.")
@click.option("--retries", type=click.IntRange(min=0), default=6, show_default=True,
              help="Retries of a failed request (429, 5xx, reset, timeout, bad body).")
@click.option("--max-pages", type=click.IntRange(min=1), default=100, show_default=True,
              help="Pages followed for one concept in one run (1,000 edges a page).")
@_QUIET
def fetch(dataset: str | None, labels_file: Path | None, from_artifact: Path | None, store: Path | None,
          overrides: Path | None, base_url: str | None, refresh: bool, rate: float, burst: int, timeout: float,
          retries: int, max_pages: int, quiet: bool) -> None:
    """Fetch the edges a label set needs from the ConceptNet API (about one request a label).

    Each label's phrase concept is fetched (all its English edges, page by page);
    its content words only when the phrase has no edge.  An interrupted run resumes
    from the last stored page; a re-run requests nothing already complete.

    \b
    Example:
      labelgraph conceptnet fetch --dataset coco
      labelgraph conceptnet fetch --labels my_labels.txt --store cn.sqlite
    """
    from labelgraph.conceptnet import DEFAULT_BASE_URL, ConceptNetClient, FetchPolicy, Store, fetch_labels
    from labelgraph.conceptnet.build import resolve_overrides

    labels = _labels(dataset, labels_file, from_artifact)
    table, _ = resolve_overrides(labels, overrides, dataset)
    policy = FetchPolicy(rate=rate, burst=burst, read_timeout=timeout, max_retries=retries, max_pages=max_pages)
    # the client checks the base URL: a refused one must not leave an empty store behind
    with ConceptNetClient(base_url or DEFAULT_BASE_URL, policy=policy) as client, Store(_store_path(store)) as st:
        report = fetch_labels(st, client, labels, overrides=table, refresh=refresh,
                              progress=progress_enabled(quiet), dataset=dataset)
    click.echo(report.summary())
    no_edge = [m.label for m in report.mapping if not m.concepts]
    if no_edge:
        click.echo(f"{len(no_edge)} labels have no ConceptNet edge: {', '.join(no_edge)} "
                   "(an --overrides file can map them)", err=True)


@conceptnet.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, allow_dash=True,
                                                        path_type=Path))
@click.option("--download", is_flag=True,
              help="Download conceptnet-assertions-5.7.0.csv.gz (~475 MB) into the cache first.")
@click.option("--lang", "langs", multiple=True, default=("en",), show_default=True,
              help="Keep edges whose both ends are in this language (repeatable).")
@_STORE
@_QUIET
def ingest(file: Path | None, download: bool, langs: Sequence[str], store: Path | None, quiet: bool) -> None:
    """Build the store from the ConceptNet assertions dump, offline.

    The dump is streamed (FILE `-` reads standard input); the new store is built
    beside the old one and renamed over it at the end (edges fetched from the API
    are carried over).  It stops at once if another process has the store open.

    \b
    Example:
      labelgraph conceptnet ingest --download
      labelgraph conceptnet ingest conceptnet-assertions-5.7.0.csv.gz --lang en
      zcat part-*.csv.gz | labelgraph conceptnet ingest -
    """
    from labelgraph.conceptnet import ingest_dump

    if (file is None) == (not download):
        raise click.UsageError("give a dump FILE or --download (not both)")
    if download:
        from labelgraph.download import fetch as download_file

        file = download_file("conceptnet-assertions-5.7.0", progress=progress_enabled(quiet))
    elif str(file) == "-":
        file = Path("/dev/stdin")
    report = ingest_dump(file, _store_path(store), langs=langs, progress=progress_enabled(quiet))
    click.echo(report.summary())


def _edge_rows(edges: Sequence[Any]) -> list[list[Any]]:
    return [[e.rel, e.start, e.end, round(e.weight, 4), e.surface_text or ""] for e in edges]


@conceptnet.command()
@click.argument("label")
@click.argument("label2", required=False)
@_STORE
@click.option("--dataset", default=None, help="Dataset whose shipped overrides apply (voc).")
@_OVERRIDES
@click.option("--relations", default=None, help="Comma-separated relations [default: SPEC's positive set].")
@click.option("--all-relations", is_flag=True, help="Show every relation, negative ones included.")
@click.option("-n", "--limit", type=click.IntRange(min=1), default=10, show_default=True,
              help="Edges shown for one label.")
@_JSON
def show(label: str, label2: str | None, store: Path | None, dataset: str | None, overrides: Path | None,
         relations: str | None, all_relations: bool, limit: int, as_json: bool) -> None:
    """The edges between two labels, or one label's strongest edges.

    A label is mapped to concepts as `build --kind knowledge` does; a concept URI
    (/c/en/...) is taken as it is.

    \b
    Example:
      labelgraph conceptnet show cat bed
      labelgraph conceptnet show "tennis racket" -n 20
    """
    from labelgraph.conceptnet import Store
    from labelgraph.conceptnet.build import map_from_store, resolve_overrides
    from labelgraph.graphs.knowledge import check_relations

    rel_set = None if all_relations else check_relations(relations.split(",") if relations else None)
    names = [x for x in (label, label2) if x is not None]
    table, _ = resolve_overrides([n for n in names if not n.startswith("/c/")], overrides, dataset)
    path = _store_path(store)
    with Store(path, readonly=True) as st:
        concepts: list[list[str]] = []
        for name in names:
            if name.startswith("/c/"):
                from labelgraph.graphs.knowledge import concept_of

                concepts.append([concept_of(name)])
                continue
            (m,), missing = map_from_store(st, [name], table, dataset)
            if missing and not m.concepts:
                click.echo(f"{name}: not in the store yet ({', '.join(missing)}); "
                           "run `labelgraph conceptnet fetch --labels FILE`", err=True)
            concepts.append(list(m.concepts))
        if label2 is None:
            edges = st.strongest_edges(concepts[0], rel_set, limit)
        else:
            a, b = set(concepts[0]), set(concepts[1])
            edges = [e for e in st.edges_between(sorted(a | b), rel_set)
                     if (e.start_concept in a and e.end_concept in b) or (e.start_concept in b and e.end_concept in a)]
            edges.sort(key=lambda e: (-e.weight, e.uri))
    if as_json:
        echo_json({"labels": names, "concepts": concepts,
                   "edges": [{"uri": e.uri, "rel": e.rel, "start": e.start, "end": e.end, "weight": e.weight,
                              "surface_text": e.surface_text, "dataset": e.dataset} for e in edges]})
        return
    click.echo(" / ".join(f"{n} -> {', '.join(c) or '(no concept with edges)'}" for n, c in zip(names, concepts)))
    if not edges:
        click.echo("no edges")
        return
    click.echo(format_table(["relation", "start", "end", "weight", "surface text"], _edge_rows(edges)))


@conceptnet.command()
@_STORE
@_JSON
def stats(store: Path | None, as_json: bool) -> None:
    """Store size, concepts complete, edges by relation, dumps ingested.

    \b
    Example:
      labelgraph conceptnet stats --store cn.sqlite
    """
    from labelgraph.conceptnet import Store

    with Store(_store_path(store), readonly=True) as st:
        info = st.stats()
    if as_json:
        echo_json({("num_edges" if k == "edges" else k): v for k, v in info.items()})
        return
    click.echo(f"store: {info['path']} ({info['bytes'] / 2**20:.1f} MiB, schema {info['schema_version']}, "
               f"revision {info['revision']})")
    click.echo(f"edges: {info['edges']:,}; concepts fetched complete: {info['concepts_complete']:,}, "
               f"partial: {info['concepts_partial']:,}")
    for dump in info["dumps"]:
        click.echo(f"dump: {dump['file']} (sha256 {dump['sha256'][:12]}…, {dump['kept']:,} edges, "
                   f"languages {'/'.join(dump['langs'])})")
    if info["edges_by_relation"]:
        click.echo(format_table(["relation", "edges"], list(info["edges_by_relation"].items())))


@conceptnet.command()
@_label_source
@_STORE
@_OVERRIDES
@click.option("--relations", default=None, help="Comma-separated relations counted in 'edges'.")
@_JSON
def mapping(dataset: str | None, labels_file: Path | None, from_artifact: Path | None, store: Path | None,
            overrides: Path | None, relations: str | None, as_json: bool) -> None:
    """The label -> concept mapping report: concepts used, how they were found, edges at them.

    \b
    Example:
      labelgraph conceptnet mapping --dataset voc
      labelgraph conceptnet mapping --labels my_labels.txt --json
    """
    from labelgraph.conceptnet import Store
    from labelgraph.conceptnet.build import fetch_hint, map_from_store, mapping_report, resolve_overrides
    from labelgraph.graphs.knowledge import check_relations

    labels = _labels(dataset, labels_file, from_artifact)
    rel_set = check_relations(relations.split(",") if relations else None)
    table, _ = resolve_overrides(labels, overrides, dataset)
    path = _store_path(store)
    with Store(path, readonly=True) as st:
        found, missing = map_from_store(st, labels, table, dataset)
        report = mapping_report(st, found, rel_set)
    for row in report:
        row["not_fetched"] = [c for c in row["tried"] if c in missing]
    if as_json:
        echo_json({"store": str(path), "relations": list(rel_set), "labels": report, "not_fetched": missing})
    else:
        rows = [[r["label"], r["source"], " ".join(r["concepts"]) or "-", r["edges"],
                 "not fetched: " + " ".join(r["not_fetched"]) if r["not_fetched"] else ""] for r in report]
        click.echo(format_table(["label", "source", "concepts", "edges", "note"], rows))
    if missing:
        click.echo(f"{len(missing)} concepts not in the store; {fetch_hint(dataset, path)}", err=True)
