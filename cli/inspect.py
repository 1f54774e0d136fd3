"""``labelgraph inspect | compare | export | plot``: look at a graph artifact from the terminal."""
from __future__ import annotations

from pathlib import Path

import click

from labelgraph.api.inspect import neighbours, strongest_out
from labelgraph.artifact import load
from labelgraph.inspect.compare import compare_graphs
from labelgraph.inspect.export import EXPORT_FORMATS, default_export_path, export_artifact
from labelgraph.inspect.summary import graph_summary

from ._common import RegistryChoice, echo_json, format_table

__all__ = ["inspect", "compare", "export", "plot"]

_FILE = click.Path(path_type=Path, dir_okay=False)


def _pairs(pairs: list[tuple[str, float]]) -> str:
    return ", ".join(f"{name} {w:.3g}" for name, w in pairs) or "(none)"


#: Labels listed in the terminal's "strongest neighbours" table (a 20,000-label graph would print 20,000 lines).
_NEIGHBOUR_ROWS = 200


@click.command("inspect")
@click.argument("file", type=_FILE)
@click.option("--label", default=None, help="Show this label's strongest neighbours (out and in).")
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many neighbours per label / strongest edges to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def inspect(file: Path, label: str | None, top: int, as_json: bool) -> None:
    """Summary of a graph: edges, density, isolated labels, degrees, asymmetry, strongest neighbours.

    A statistics file is inspected through its conditional-probability graph P.

    \b
    Example:
      labelgraph inspect graphs/coco2014_ks_l0.4_t0.02_e0.4.npz
      labelgraph inspect graphs/coco2014_ks_l0.4_t0.02_e0.4.npz --label person --top 10
    """
    artifact = load(file)
    if label is not None:
        info = neighbours(artifact, label, top)
        if as_json:
            echo_json(info)
            return
        click.echo(f"{label}: degree {info['degree']}, self weight {info['self_weight']:.4g}")
        click.echo(f"  strongest out: {_pairs(info['out'])}")
        click.echo(f"  strongest in:  {_pairs(info['in'])}")
        return
    summary = graph_summary(artifact, top=top)
    strongest = strongest_out(artifact, top)
    if as_json:
        echo_json({"file": str(file), "summary": summary.as_dict(), "neighbours": strongest})
        return
    click.echo(f"{file}")
    click.echo(format_table(["measure", "value"], summary.rows()))
    click.echo("\ndegree histogram")
    click.echo(format_table(["degree", "labels"],
                            [[f"{lo}" if lo == hi else f"{lo}-{hi}", n] for lo, hi, n in summary.degree_histogram]))
    click.echo("\nstrongest edges")
    click.echo(format_table(["from", "to", "weight"], [[a, b, w] for a, b, w in summary.strongest]))
    click.echo(f"\nstrongest neighbours (top {top})")
    shown = list(strongest.items())[:_NEIGHBOUR_ROWS]
    width = max((len(name) for name, _ in shown), default=0)
    for name, pairs in shown:
        click.echo(f"  {name.ljust(width)}  {_pairs(pairs)}")
    if len(strongest) > len(shown):
        click.echo(f"  … and {len(strongest) - len(shown):,} more labels (--label NAME shows one, --json lists all)")


@click.command("compare")
@click.argument("first", type=_FILE)
@click.argument("second", type=_FILE)
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many edges found in only one graph to list.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def compare(first: Path, second: Path, top: int, as_json: bool) -> None:
    """Compare two graphs: label alignment, edge Jaccard, Frobenius distance, rank correlation, differing edges.

    Labels are aligned by name; only the labels both graphs share are compared.

    \b
    Example:
      labelgraph compare graphs/coco2014_binary_t0.4.npz graphs/coco2014_ks_l0.4_t0.02_e0.4.npz
    """
    result = compare_graphs(load(first), load(second), top=top)
    if as_json:
        keys = {"common_labels": "num_common_labels", "edges_a": "num_edges_first", "edges_b": "num_edges_second",
                "edges_common": "num_edges_common"}
        echo_json({"first": str(first), "second": str(second),
                   **{keys.get(k, k): v for k, v in result.as_dict().items()}})
        return
    spearman = "n/a" if result.spearman is None else f"{result.spearman:.4f}"
    rows = [
        ("kinds", f"{result.kinds[0]} vs {result.kinds[1]}"),
        ("labels", f"{result.common_labels} shared ({result.alignment})"),
        ("only in first", ", ".join(result.only_in_a[:10]) or "-"),
        ("only in second", ", ".join(result.only_in_b[:10]) or "-"),
        ("edges", f"{result.edges_a} vs {result.edges_b}, {result.edges_common} in both"),
        ("edge Jaccard", f"{result.edge_jaccard:.4f}"),
        ("Frobenius distance", f"{result.frobenius:.4g} (relative {result.frobenius_relative:.4f})"),
        ("Spearman of weights", spearman),
    ]
    click.echo(format_table(["measure", "value"], rows))
    for title, edges in ((f"edges only in {first.name}", result.edges_only_in_a),
                         (f"edges only in {second.name}", result.edges_only_in_b)):
        if edges:
            click.echo(f"\n{title} (strongest {len(edges)})")
            click.echo(format_table(["label", "label", "weight"], [list(e) for e in edges]))


@click.command("export")
@click.argument("file", type=_FILE)
@click.option("--to", "fmt", type=RegistryChoice(lambda: EXPORT_FORMATS), required=True,
              help="Output format: " + "; ".join(f"{f.name}: {f.summary}" for f in EXPORT_FORMATS.values()) + ".")
@click.option("--out", type=_FILE, default=None, help="Output path (default: beside FILE, named for the format).")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
def export(file: Path, fmt: str, out: Path | None, force: bool) -> None:
    """Export an artifact for other tools and other repositories' code.

    Graphs: GraphML, GEXF, CSV, a tab-separated edge list, PyTorch Geometric arrays
    (edge_index[0] = source j, edge_index[1] = target i, weight Â_ij, so message
    passing computes Â·H). ML-GCN's adj.pkl / glove_word2vec.pkl and SSGRL's
    prob_train.npy / vectors.npy from statistics / embeddings files. The dense
    matrix as .npy or .pt with a labels.txt beside it.

    \b
    Example:
      labelgraph export graphs/coco2014_ks_l0.4_t0.02_e0.4.npz --to pyg
      labelgraph export graphs/coco2014_statistics.npz --to mlgcn
      labelgraph export graphs/coco2014_mlgcn_t0.4_p0.25.npz --to npy --out coco_adj.npy
    """
    artifact = load(file)
    target = out or default_export_path(file, fmt, artifact.kind)
    for path in export_artifact(artifact, target, fmt, force=force):
        click.echo(f"wrote {path}")


@click.command("plot")
@click.argument("file", type=_FILE)
@click.option("--out", type=_FILE, required=True, help="Figure file: .png, .svg or .pdf.")
@click.option("--network/--no-network", default=None,
              help="Add a network drawing (default: when the graph has at most 100 labels).")
@click.option("--size", type=click.FloatRange(min=1.0), default=6.0, show_default=True, help="Panel size in inches.")
@click.option("--dpi", type=click.IntRange(min=20, max=600), default=100, show_default=True, help="Resolution.")
@click.option("--top", type=click.IntRange(min=1), default=None,
              help="Draw only the N labels of highest degree (needed above 5,000 labels).")
@click.option("--force", is_flag=True, help="Overwrite an existing figure.")
def plot(file: Path, out: Path, network: bool | None, size: float, dpi: int, top: int | None, force: bool) -> None:
    """Plot a graph: a heatmap in hierarchical-clustering order, and a network drawing for <= 100 labels.

    Needs matplotlib (pip install 'labelgraph[plot]').

    \b
    Example:
      labelgraph plot graphs/coco2014_ks_l0.4_t0.02_e0.4.npz --out ks.png
      labelgraph plot graphs/openimages_ppmi.npz --top 500 --out ppmi.png
    """
    from labelgraph.inspect.plot import plot_graph

    path = plot_graph(load(file), out, network=network, size=size, dpi=dpi, force=force, top=top)
    click.echo(f"wrote {path}")
