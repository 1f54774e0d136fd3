"""``labelgraph build`` and ``labelgraph stats``: statistics → graphs as .npz files."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from ._common import echo_json, format_table, progress_enabled

from labelgraph.graphs.kinds import GRAPH_KINDS as KIND_CHOICES  # the kind registry

DEFAULT_KINDS = "probability,binary,reweighted,mlgcn"


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
                     help="COCO label order (default alphabetical, ML-GCN's)."),
        click.option("--keep-empty", is_flag=True, default=None, help="Keep images without annotations (COCO)."),
        click.option("--difficult", is_flag=True, default=None, help="Count VOC's 'difficult' (0) marks as labels."),
        click.option("--labels", "labels_file", type=click.Path(dir_okay=False), metavar="FILE",
                     help="Label-list file (labelmatrix, csv, jsonl readers)."),
        click.option("--num-samples", type=int, metavar="N", help="N for mlgcn-pkl files other than ML-GCN's own."),
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


def _statistics(dataset: str | None, stats_file: str | None, root: str | None, annotations: str | None,
                split: str | None, year: str | None, order: str | None, keep_empty: bool | None,
                difficult: bool | None, labels_file: str | None, num_samples: int | None, download: bool,
                quiet: bool):
    from labelgraph.errors import ConfigError
    from labelgraph.sources import resolve_statistics

    given = {"year": year, "order": order, "keep_empty": keep_empty, "difficult": difficult, "labels": labels_file,
             "num_samples": num_samples}
    given = {k: v for k, v in given.items() if v is not None}
    if given and dataset is not None and (root or annotations or download):
        from labelgraph.datasets import get_reader

        unknown = [k for k in given if k not in get_reader(dataset).options]
        if unknown:
            flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
            raise ConfigError(f"{flags} does not apply to dataset {dataset!r}")
    return resolve_statistics(dataset, stats=stats_file, root=root, annotations=annotations, split=split,
                              download=download, progress=progress_enabled(quiet), reader_options=given)


def _output(out: str, name: str | None, stats: Any, dataset: str | None) -> tuple[Path, str]:
    """The output folder (checked: not a file) and the file-name stem (checked: no folder part)."""
    from labelgraph._atomic import check_stem
    from labelgraph.errors import ConfigError
    from labelgraph.sources import output_stem

    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir}: is a file; --out needs a folder")
    return out_dir, check_stem(name) if name is not None else output_stem(stats, dataset)


def _parse_multipliers(values: tuple[str, ...]) -> dict[str, float]:
    from labelgraph.errors import ConfigError

    out: dict[str, float] = {}
    for value in values:
        rel, sep, weight = value.partition("=")
        try:
            out[rel.strip()] = float(weight)
        except ValueError:
            raise ConfigError(f"--multiplier {value!r}: expected RELATION=WEIGHT, e.g. IsA=2.0") from None
        if not sep:
            raise ConfigError(f"--multiplier {value!r}: expected RELATION=WEIGHT, e.g. IsA=2.0")
    return out


@click.command()
@_source_options
@click.option("--kind", "-k", default=DEFAULT_KINDS, show_default=True, metavar="KIND[,KIND…]",
              help=f"Graphs to build: {', '.join(KIND_CHOICES)}.")
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
@click.option("--stat-graph", type=click.Choice(["probability", "binary", "reweighted"]), default="probability",
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
@click.option("--base", type=click.Choice(["probability", "binary", "reweighted", "mlgcn", "ppmi", "npmi",
                                           "jaccard"]), default="binary", show_default=True,
              help="The graph shuffled permutes and random matches in edge count.")
@click.option("--seed", type=int, help="Seed of shuffled and random (default 0).")
def build(kind: str, tau: float | None, p: float | None, raw: bool, store: str | None, relations: str | None,
          multiplier: tuple[str, ...], directed: bool, overrides: str | None, knowledge_file: str | None,
          lam: float | None, eta: float | None, stat_graph: str, preset: str | None, align: bool,
          min_count: int | None, top_k: int | None, symmetrize: str, embeddings_file: str | None,
          min_expected: float | None, base: str, seed: int | None,
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
    from labelgraph.errors import ConfigError
    from labelgraph.assemble import STATISTICAL_KINDS, build_graph, graph_filename, ks_variant

    kinds = [k.strip() for k in kind.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KIND_CHOICES]
    if unknown or not kinds:
        raise ConfigError(f"unknown --kind {', '.join(unknown) or kind!r} (known: {', '.join(KIND_CHOICES)})")
    if name is not None:
        from labelgraph._atomic import check_stem

        check_stem(name)
    src = _statistics(**source)
    stats = src.stats
    out_dir, stem = _output(out, name, stats, source.get("dataset"))

    plans: list[tuple[str, dict[str, float], Callable[[], Any]]] = []
    for k in kinds:
        if k in STATISTICAL_KINDS:
            spec = STATISTICAL_KINDS[k]
            given = {"tau": tau, "p": p, "min_expected": min_expected, "seed": seed}
            params = {n: (given[n] if given[n] is not None else spec.defaults[n]) for n in spec.params}
            options = dict(min_count=min_count, top_k=top_k, symmetrize=symmetrize, base=base,
                           embeddings=_embeddings(embeddings_file) if spec.needs == "embeddings" else None)
            plans.append((k, params, lambda k=k, options=options: build_graph(stats, k, raw=raw, **options,
                                                                               **given)))
        elif min_count is not None:
            raise ConfigError(f"--min-count applies to kinds built from statistics, not {k}")
        elif k == "knowledge":
            plans.append((k, {}, lambda: _sparsified(_knowledge(stats, store, relations, multiplier, directed,
                                                                 overrides, source.get("dataset")),
                                                      top_k, symmetrize, normalize=False)))
        else:
            from labelgraph.assemble import ks_artifact
            from labelgraph.graphs.ks import ks_params

            default = "kssnet-charades" if source.get("dataset") == "charades" else None
            params = ks_params(preset or default, lam=lam, tau=tau, eta=eta)

            def make(params: dict[str, float] = params) -> Any:
                if knowledge_file:
                    from labelgraph import load

                    knowledge = load(knowledge_file)
                else:
                    knowledge = _knowledge(stats, store, relations, multiplier, directed, overrides,
                                           source.get("dataset"))
                if top_k is None and symmetrize == "none":
                    return ks_artifact(stats, knowledge, stat_graph=stat_graph, align=align, raw=raw, **params)
                A_KS = ks_artifact(stats, knowledge, stat_graph=stat_graph, align=align, raw=True, **params)
                return _sparsified(A_KS, top_k, symmetrize, normalize=not raw)

            plans.append((k, params, make))

    from labelgraph.artifact import save_artifacts
    from labelgraph.graphs.measures import structure_measures

    stats_path = out_dir / f"{stem}_statistics.npz"
    targets = [out_dir / graph_filename(stem, _file_kind(k, base, symmetrize),
                                        {**params, **_modifiers(min_count, top_k)}, raw=raw,
                                        variant=ks_variant(stat_graph) if k == "ks" else None)
               for k, params, _ in plans]
    write_stats = src.origin != "file"
    artifacts = [(k, params, make()) for k, params, make in plans]  # every graph is built before any write
    saved = save_artifacts(([(stats, stats_path)] if write_stats else [])
                           + [(art, path) for (_, _, art), path in zip(artifacts, targets)], force=force)
    status = {path: state for path, state in saved}

    rows = []
    for (k, params, art), path in zip(artifacts, targets):
        m = structure_measures(art.matrix)
        rows.append({"kind": k, "params": " ".join(f"{n}={v:g}" for n, v in params.items()),
                     "num_labels": art.num_labels, "num_samples": stats.num_samples, "num_edges": m["edges"],
                     "density": round(m["density"], 4), "isolated": m["isolated"], "max_degree": m["max_degree"],
                     "path": str(path), "status": status[path]})
    if as_json:
        echo_json({"source": src.description, "origin": src.origin,
                   "statistics": str(stats_path) if write_stats else source.get("stats_file"),
                   "statistics_status": status[stats_path] if write_stats else None, "graphs": rows})
        return
    click.echo(f"source: {src.description}")
    if write_stats:
        click.echo(f"statistics: {stats_path} ({status[stats_path]})")
    headers = ["kind", "params", "num_labels", "num_samples", "num_edges", "density", "isolated", "max_degree",
               "path", "status"]
    click.echo(format_table(headers, [[r[h] for h in headers] for r in rows]))


def _embeddings(path: str | None) -> Any:
    from labelgraph import load
    from labelgraph.errors import ConfigError

    if path is None:
        raise ConfigError("--kind cosine needs label embeddings: --embeddings FILE (from `labelgraph embed`)")
    return load(path)


def _sparsified(art: Any, top_k: int | None, symmetrize: str, *, normalize: bool) -> Any:
    """``--top-k`` / ``--symmetrize`` on a knowledge graph or on ks's A_KS (then normalized)."""
    if top_k is None and symmetrize == "none":
        return art
    from labelgraph.assemble import sparsify_graph

    return sparsify_graph(art, top_k=top_k, symmetrize=symmetrize, normalize=normalize)


def _modifiers(min_count: int | None, top_k: int | None) -> dict[str, float]:
    """``--min-count`` and ``--top-k`` in the file name (``_m3_k10``), only when given."""
    return {k: v for k, v in (("m", min_count), ("k", top_k)) if v is not None}


def _file_kind(kind: str, base: str, symmetrize: str) -> str:
    """The kind part of a file name: ``shuffled-binary`` for a baseline of a base, ``ppmi-max`` when symmetrized."""
    from labelgraph.graphs import STATISTICAL_KINDS

    spec = STATISTICAL_KINDS.get(kind)
    name = f"{kind}-{base}" if spec is not None and spec.needs == "base" else kind
    return name if symmetrize == "none" else f"{name}-{symmetrize}"


def _knowledge(stats: Any, store: str | None, relations: str | None, multiplier: tuple[str, ...],
               directed: bool, overrides: str | None, dataset: str | None) -> Any:
    from labelgraph.conceptnet import knowledge_artifact

    rels = [r.strip() for r in relations.split(",") if r.strip()] if relations else None
    return knowledge_artifact(stats.labels, store=store, relations=rels, multipliers=_parse_multipliers(multiplier),
                              directed=directed, overrides=overrides, dataset=dataset)


@click.command()
@_source_options
def stats(out: str, name: str | None, force: bool, as_json: bool, **source: Any) -> None:
    """Compute label statistics (n, M, N) only and write them as one .npz.

    \b
    Examples:
      labelgraph stats --dataset voc --root VOCdevkit --split trainval
      labelgraph stats --dataset csv --annotations my_labels.csv --name mydata
    """
    from labelgraph.artifact import save_artifacts

    if name is not None:
        from labelgraph._atomic import check_stem

        check_stem(name)
    src = _statistics(**source)
    art = src.stats
    out_dir, stem = _output(out, name, art, source.get("dataset"))
    path = out_dir / f"{stem}_statistics.npz"
    [(_, status)] = save_artifacts([(art, path)], force=force)
    info = {"source": src.description, "path": str(path), "status": status, "num_labels": art.num_labels,
            "num_samples": art.num_samples, "label_instances": int(art.n.sum()),
            "cooccurring_pairs": int(art.matrix.nnz // 2), "content_hash": art.content_hash}
    if as_json:
        echo_json(info)
        return
    click.echo(f"source: {src.description}")
    columns = ("num_labels", "num_samples", "label_instances", "cooccurring_pairs", "path", "status")
    click.echo(format_table(list(columns), [[info[k] for k in columns]]))
