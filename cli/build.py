"""``labelgraph build`` and ``labelgraph stats``: statistics → graphs as .npz files (:mod:`labelgraph.api.build`)."""
from __future__ import annotations

from typing import Any, Callable

import click

from labelgraph.api.build import DEFAULT_KINDS, Source
from labelgraph.engines import DEFAULT_TIMEOUT, ENGINES
from labelgraph.graphs import GRAPH_KINDS

from ._common import RegistryChoice, base_kinds, echo_json, format_table, progress_enabled


def _stat_graphs() -> list[str]:
    from labelgraph.graphs.ks import STAT_GRAPHS

    return list(STAT_GRAPHS)


def _source_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by ``build`` and ``stats``: where the labels come from and how to read them."""
    options = [
        click.option("--dataset", "-d", metavar="NAME", help="Dataset reader (see `labelgraph datasets`)."),
        click.option("--stats", "stats_file", type=click.Path(dir_okay=False), metavar="FILE",
                     help="Use this statistics artifact instead of reading annotations."),
        click.option("--root", type=click.Path(), metavar="DIR", help="Dataset folder with the raw annotations."),
        click.option("--annotations", type=click.Path(), metavar="FILE", help="One annotation file."),
        click.option("--split", metavar="NAME", help="Split (default: the reader's, e.g. train / trainval)."),
        click.option("--year", metavar="YEAR", help="Dataset year for COCO (2014, 2017) or VOC (2007, 2012)."),
        click.option("--order", metavar="alphabetical|category-id|FILE",
                     help="Label order: COCO's (default alphabetical, ML-GCN's); openimages' (name or mid)."),
        click.option("--keep-empty", is_flag=True, default=None, help="Keep images without annotations (COCO)."),
        click.option("--difficult", is_flag=True, default=None, help="Count VOC's 'difficult' (0) marks as labels."),
        click.option("--labels", "labels_file", type=click.Path(dir_okay=False), metavar="FILE",
                     help="Label-list file (labelmatrix, csv, jsonl readers)."),
        click.option("--num-samples", type=int, metavar="N", help="N for mlgcn-pkl files other than ML-GCN's own."),
        click.option("--column", metavar="NAME", help="Column of label lists (parquet, hf)."),
        click.option("--classes", "classes_file", type=click.Path(dir_okay=False), metavar="FILE",
                     help="Class-name file (openimages: MID → display name)."),
        click.option("--source", "label_source", metavar="NAME[,NAME…]",
                     help="Open Images label sources to keep (e.g. verification,crowdsource-verified)."),
        click.option("--min-confidence", type=float, metavar="C",
                     help="Open Images: rows with Confidence ≥ C are labels (default 0.5: 1 kept, 0 dropped)."),
        click.option("--engine", type=click.Choice(ENGINES), metavar="serial|processes|dask",
                     help="Where shards are counted (default serial; --workers K > 1 alone: processes)."),
        click.option("--workers", type=click.IntRange(min=1), metavar="K",
                     help="Worker processes: a process pool, or the Dask LocalCluster's size."),
        click.option("--scheduler", metavar="ADDRESS", help="Dask scheduler address (tcp://HOST:8786); implies "
                     "--engine dask. Without it --engine dask starts a LocalCluster."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_TIMEOUT,
                     show_default=True, metavar="SECONDS", help="How long to wait for the Dask scheduler."),
        click.option("--chunk-size", type=click.IntRange(min=1), metavar="ROWS",
                     help="Samples counted at once (memory: one chunk plus nnz(M))."),
        click.option("--download", is_flag=True, help="Download the official annotations into the cache first."),
        click.option("--out", "-o", type=click.Path(), default="graphs", show_default=True,
                     help="Output folder."),
        click.option("--name", metavar="STEM", help="File-name stem (default: the dataset tag, e.g. coco2014)."),
        click.option("--force", is_flag=True, help="Replace existing outputs whose content would change."),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
        click.option("--quiet", "-q", is_flag=True, help="No progress bars."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _source(dataset: str | None, stats_file: str | None, root: str | None, annotations: str | None,
            split: str | None, year: str | None, order: str | None, keep_empty: bool | None,
            difficult: bool | None, labels_file: str | None, num_samples: int | None, download: bool,
            quiet: bool, column: str | None = None, classes_file: str | None = None, label_source: str | None = None,
            min_confidence: float | None = None, engine: str | None = None, workers: int | None = None,
            scheduler: str | None = None, timeout: float = DEFAULT_TIMEOUT, chunk_size: int | None = None) -> Source:
    options = {"year": year, "order": order, "keep_empty": keep_empty, "difficult": difficult, "labels": labels_file,
               "num_samples": num_samples, "column": column, "classes": classes_file, "source": label_source,
               "min_confidence": min_confidence}
    return Source(dataset, stats=stats_file, root=root, annotations=annotations, split=split, download=download,
                  progress=progress_enabled(quiet), options=options, engine=engine, workers=workers,
                  scheduler=scheduler, chunk_size=chunk_size, timeout=timeout)


@click.command()
@_source_options
@click.option("--kind", "-k", default=",".join(DEFAULT_KINDS), show_default=True, metavar="KIND[,KIND…]",
              help=f"Graphs to build: {', '.join(GRAPH_KINDS)}.")
@click.option("--tau", type=float, help="Threshold τ (default per kind: 0.4; ks 0.02).")
@click.option("--p", "p", type=float, help="Re-weighting p (default: reweighted 0.2, mlgcn 0.25).")
@click.option("--raw", is_flag=True, help="Save the un-normalized matrix instead of the one the GCN consumes.")
@click.option("--store", type=click.Path(dir_okay=False), help="ConceptNet store (knowledge, ks).")
@click.option("--relations", metavar="REL[,REL…]", help="ConceptNet relations for A_K (default: SPEC's positive set).")
@click.option("--multiplier", multiple=True, metavar="REL=W", help="Per-relation weight multiplier (repeatable).")
@click.option("--directed", is_flag=True, help="Keep ConceptNet edge direction in A_K.")
@click.option("--overrides", type=click.Path(dir_okay=False), help="Label → concept override file (TOML or CSV).")
@click.option("--knowledge", "knowledge_file", type=click.Path(dir_okay=False),
              help="A knowledge artifact to use for ks instead of the store.")
@click.option("--lam", type=float, help="KS λ, Eq. 2 (default 0.4; preset).")
@click.option("--eta", type=float, help="KS η, Eq. 4 (default 0.4; preset).")
@click.option("--stat-graph", type=RegistryChoice(_stat_graphs), default="probability",
              show_default=True, help="A_S for ks.")
@click.option("--preset", metavar="NAME", help="KS preset: kssnet-coco or kssnet-charades.")
@click.option("--align", is_flag=True, help="Align the knowledge graph's labels to the statistics' by name.")
@click.option("--min-count", type=int, help="Pairs seen fewer than this many times count as never seen.")
@click.option("--top-k", type=int, help="Keep the k strongest off-diagonal entries of each row (ties: lower index).")
@click.option("--symmetrize", type=click.Choice(["none", "max", "mean"]), default="none", show_default=True,
              help="After --top-k: max(A, Aᵀ), (A + Aᵀ)/2 or neither.")
@click.option("--embeddings", "embeddings_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Label embeddings for cosine.")
@click.option("--min-expected", type=float, help="exclusive: chance co-occurrences needed (default 5).")
@click.option("--base", type=RegistryChoice(base_kinds), default="binary", show_default=True,
              help="The graph shuffled permutes and random matches in edge count.")
@click.option("--seed", type=int, help="Seed of shuffled and random (default 0).")
@click.option("--sparse/--dense", default=None,
              help="Build every kind sparse (CSR from M to the file) or dense (default: sparse above 2,000 labels).")
def build(kind: str, tau: float | None, p: float | None, raw: bool, store: str | None, relations: str | None,
          multiplier: tuple[str, ...], directed: bool, overrides: str | None, knowledge_file: str | None,
          lam: float | None, eta: float | None, stat_graph: str, preset: str | None, align: bool,
          min_count: int | None, top_k: int | None, symmetrize: str, embeddings_file: str | None,
          min_expected: float | None, base: str, seed: int | None, sparse: bool | None,
          out: str, name: str | None, force: bool, as_json: bool, **source: Any) -> None:
    """Build label statistics and graphs, one .npz per graph.

    Without --root/--annotations/--download, COCO and VOC use the statistics
    bundled with the package (no download needed).

    \b
    Examples:
      labelgraph build --dataset coco --tau 0.4
      labelgraph build --dataset voc --root VOCdevkit --kind binary,reweighted --p 0.2
      labelgraph build --dataset coco --kind ks --preset kssnet-coco
    """
    from labelgraph.api.build import build_outputs, parse_multipliers

    result = build_outputs(
        kind, _source(**source), out=out, name=name, force=force, tau=tau, p=p, raw=raw, store=store,
        relations=[r.strip() for r in relations.split(",") if r.strip()] if relations else None,
        multipliers=parse_multipliers(multiplier), directed=directed, overrides=overrides,
        knowledge=knowledge_file, lam=lam, eta=eta, stat_graph=stat_graph, preset=preset, align=align,
        min_count=min_count, top_k=top_k, symmetrize=symmetrize, embeddings=embeddings_file,
        min_expected=min_expected, base=base, seed=seed, sparse=sparse)
    rows = result.graphs
    if as_json:
        echo_json(result.to_dict())
        return
    click.echo(f"source: {result.source}")
    if result.statistics_status is not None:
        click.echo(f"statistics: {result.statistics} ({result.statistics_status})")
    headers = ["kind", "params", "num_labels", "num_samples", "num_edges", "density", "isolated", "max_degree",
               "path", "status"]
    click.echo(format_table(headers, [[r[h] for h in headers] for r in rows]))


@click.command()
@_source_options
def stats(out: str, name: str | None, force: bool, as_json: bool, **source: Any) -> None:
    """Compute label statistics (n, M, N) only and write them as one .npz.

    \b
    Examples:
      labelgraph stats --dataset voc --root VOCdevkit --split trainval
      labelgraph stats --dataset csv --annotations my_labels.csv --name mydata
      labelgraph stats --dataset parquet --annotations 'shards/*.parquet' --column labels --workers 2
    """
    from labelgraph.api.build import write_statistics

    info = write_statistics(_source(**source), out=out, name=name, force=force)
    if as_json:
        echo_json(info)
        return
    click.echo(f"source: {info['source']}")
    columns = ("num_labels", "num_samples", "label_instances", "cooccurring_pairs", "path", "status")
    click.echo(format_table(list(columns), [[info[k] for k in columns]]))
