"""``labelgraph sweep``: graph measures over a grid of λ, τ, η (ks) or τ, p (binary, reweighted, mlgcn)."""
from __future__ import annotations

from pathlib import Path

import click

from labelgraph.graphs.ks import STAT_GRAPHS
from labelgraph.inspect.sweep import MAX_SETTINGS, SWEEP_KINDS

from ._common import RegistryChoice, base_kinds, echo_json, format_table, progress_enabled

__all__ = ["sweep"]


@click.command("sweep")
@click.option("--kind", type=RegistryChoice(lambda: SWEEP_KINDS), default="ks", show_default=True,
              help="Graph family to sweep.")
@click.option("--dataset", default=None, metavar="NAME", help="Dataset whose bundled statistics to start from.")
@click.option("--stats", "stats_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="A statistics artifact (.npz) instead of --dataset.")
@click.option("--knowledge", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Knowledge graph artifact (A_K); required for --kind ks.")
@click.option("--lam", default=None, help="λ values (ks): a range 0.2:0.8:0.1 (end included) or a list 0.2,0.4.")
@click.option("--tau", default=None, help="τ values: a range or a list.")
@click.option("--eta", default=None, help="η values (ks): a range or a list.")
@click.option("--p", "p", default=None,
              help="p values (reweighted, mlgcn); for ks the one p of a reweighted --stat-graph.")
@click.option("--stat-graph", type=click.Choice(STAT_GRAPHS), default="probability", show_default=True,
              help="A_S of the ks graph.")
@click.option("--stat-tau", default=None, help="τ of a binary/reweighted --stat-graph (ks; one value).")
@click.option("--embeddings", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Label embeddings (.npz) for the over-smoothing indicator.")
@click.option("--align", is_flag=True, help="Align knowledge and embeddings to the statistics' labels by name.")
@click.option("--csv", "csv_out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the rows as CSV.")
@click.option("--save-json", "json_out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the rows as JSON to this file.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout (nothing else).")
@click.option("--save", "save_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Also save every setting's graph artifact in this folder.")
@click.option("--force", is_flag=True, help="Replace existing output files whose content would change.")
@click.option("--yes", is_flag=True, help=f"Run a sweep of more than {MAX_SETTINGS:,} settings.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar, no table.")
@click.option("--top-k", "top_k", default=None, help="top-k values (kinds built from statistics): a range or a list.")
@click.option("--min-count", "min_count", default=None, help="--min-count values: a range or a list.")
@click.option("--min-expected", "min_expected", default=None, help="exclusive: min_expected values.")
@click.option("--seed", default=None, help="shuffled, random: seed values (a range or a list).")
@click.option("--base", type=RegistryChoice(base_kinds), default="binary", show_default=True,
              help="shuffled, random: the graph they permute or match in edge count.")
@click.option("--sparse/--dense", default=None,
              help="Build every setting sparse (CSR from M on; spectral gap per connected component) or dense "
                   "(default: sparse above 2,000 labels, as build).")
def sweep(kind: str, dataset: str | None, stats_file: Path | None, knowledge: Path | None, lam: str | None,
          tau: str | None, eta: str | None, p: str | None, stat_graph: str, stat_tau: str | None,
          embeddings: Path | None, align: bool, csv_out: Path | None, json_out: Path | None,
          save_dir: Path | None, force: bool, as_json: bool, yes: bool, quiet: bool, top_k: str | None,
          min_count: str | None, min_expected: str | None, seed: str | None, base: str,
          sparse: bool | None) -> None:
    """Graph measures for every setting of a parameter grid (statistics read once).

    Each row: num_edges, density, isolated labels, mean degree, connected components,
    spectral gap of the normalized graph, and with --embeddings the mean cosine
    similarity of the rows of Â^k·E for k = 2 and 4 (over-smoothing).

    \b
    Example:
      labelgraph sweep --kind ks --dataset coco --knowledge graphs/coco2014_knowledge.npz \\
          --lam 0.2:0.8:0.1 --tau 0.01,0.02,0.05 --eta 0.4 --csv sweep.csv
      labelgraph sweep --kind reweighted --dataset voc --tau 0.1:0.5:0.1 --p 0.2,0.25
      labelgraph sweep --kind shuffled --base binary --dataset voc --seed 0:4:1
      labelgraph sweep --kind cosine --dataset voc --embeddings embeddings/voc2007_glove.6B.50d.npz --top-k 3,5
    """
    from labelgraph.api.sweep import sweep_outputs

    result = sweep_outputs(kind, dataset=dataset, stats=stats_file, knowledge=knowledge, embeddings=embeddings,
                           csv_out=csv_out, json_out=json_out, save_dir=save_dir, force=force, lam=lam, tau=tau,
                           eta=eta, p=p, stat_graph=stat_graph, stat_tau=stat_tau, align=align, yes=yes,
                           progress=progress_enabled(quiet), top_k=top_k, min_count=min_count,
                           min_expected=min_expected, seed=seed, base=base, sparse=sparse)
    if as_json:
        doc = result.to_document()
        doc.update(csv=str(csv_out) if csv_out else None, json=str(json_out) if json_out else None,
                   saved=[str(p) for p in result.saved])
        echo_json(doc)
    elif not quiet:
        columns = result.columns
        click.echo(format_table(columns, [[row.get(c) for c in columns] for row in result.rows]))
        for path in (csv_out, json_out):
            if path is not None:
                click.echo(f"wrote {path}")
        if result.saved:
            click.echo(f"saved {len(result.saved)} graphs in {save_dir}")

