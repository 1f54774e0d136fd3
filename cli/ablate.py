"""``labelgraph ablate``: does the graph help? Graphs × seeds on equal terms (:mod:`labelgraph.api.ablate`)."""
from __future__ import annotations

from typing import Any

import click

from ._common import RegistryChoice, echo_json, progress_enabled


def _datasets() -> tuple[str, ...]:
    from labelgraph.datasets import DATASETS

    return ("imagefolder", *(r.name for r in DATASETS.values() if r.eval_split))


@click.command(context_settings={"max_content_width": 100})
@click.option("--dataset", required=True, type=RegistryChoice(_datasets), help="Where labels come from.")
@click.option("--root", type=click.Path(file_okay=False), help="Folder of the images (not for mulan).")
@click.option("--annotations", help="Annotation file; '{split}' becomes the split name (mulan: …/yeast).")
@click.option("--split", help="Training split [the dataset's].")
@click.option("--test-split", help="Split scored once per run with its best.pt [the dataset's].")
@click.option("--graphs", "kinds", default="identity,binary,reweighted,mlgcn,ppmi,shuffled,random,learned",
              show_default=True, help="Graph kinds built from the training split, comma-separated; 'learned' is "
                                      "a trainable graph initialised from --base.")
@click.option("--graph-files", help="Your graphs (.npz over the dataset's labels), comma-separated.")
@click.option("--embeddings", required=True, type=click.Path(dir_okay=False), help="Label embeddings .npz.")
@click.option("--seeds", type=click.IntRange(min=1), default=3, show_default=True,
              help="Runs per graph (seeds 0 … N-1, the same for every graph).")
@click.option("--model", type=click.Choice(["mlgcn", "kssnet"]), default="mlgcn", show_default=True)
@click.option("--loss", type=click.Choice(["bce", "asl", "focal"]), help="Training loss [the trainer's].")
@click.option("--base", default="binary", show_default=True,
              help="Kind that shuffled permutes, random matches in edges and learned starts from.")
@click.option("--backbone", default="features", show_default=True, help="'features' (MULAN) or a torchvision ResNet.")
@click.option("--epochs", type=click.IntRange(min=1))
@click.option("--batch-size", type=click.IntRange(min=1))
@click.option("--lr", type=float, help="Head learning rate.")
@click.option("--hidden", type=click.IntRange(min=1), help="ML-GCN's hidden GCN width.")
@click.option("--val-fraction", type=float, help="Part of the training split held out to select best.pt "
                                                 "[default: 0.1].")
@click.option("--image-size", type=click.IntRange(min=8))
@click.option("--pretrained/--no-pretrained", default=None, help="torchvision ImageNet weights.")
@click.option("--cache-features", type=click.Path(file_okay=False),
              help="Frozen-backbone feature cache [<out>/feature_cache].")
@click.option("--workers", type=click.IntRange(min=0), help="Data-loading processes.")
@click.option("--device", help="cpu, cuda, cuda:1 [default: cuda when available].")
@click.option("--out", default="runs/ablation", show_default=True, type=click.Path(file_okay=False),
              help="Folder of ablation.csv, ablation.json, graphs/ and runs/.")
@click.option("--force", is_flag=True, help="Replace an ablation of other settings in --out.")
@click.option("--keep-checkpoints", is_flag=True, help="Keep every run's last.pt and best.pt.")
@click.option("--plot", is_flag=True, help="Also write ablation.png, a bar chart (needs matplotlib).")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
def ablate(kinds: str, graph_files: str | None, dataset: str, embeddings: str, quiet: bool, as_json: bool,
           **options: Any) -> None:
    """Compare graphs on equal terms: the no-GCN baseline and a GCN over every graph, seed by seed.

    Each graph × seed trains the head with the same seeds and data order, selects
    best.pt on a held-out part of the training split and scores the test split once.
    The table gives mAP, CF1 and OF1 as mean ± std over seeds and the mAP difference
    to the no-GCN baseline ('linear') with a paired t-test over seeds. An --out
    holding the same ablation is read back; one of other settings needs --force.

    \b
    Example:
      labelgraph ablate --dataset mulan --annotations mulan/yeast \\
          --embeddings embeddings/yeast_glove.6B.50d.npz --graphs identity,binary,shuffled,learned \\
          --seeds 3 --epochs 20 --device cpu --out runs/ablation-yeast
    """
    from labelgraph.api.ablate import ablation_outputs, parse_ablation_graphs

    parse_ablation_graphs(kinds)
    _require_torch()
    files = [x.strip() for x in (graph_files or "").split(",") if x.strip()]
    verbose = not quiet and not as_json

    def report(run: dict[str, Any]) -> None:
        if verbose:
            click.echo(f"{run['graph']} seed {run['seed']}: test mAP {100 * run['metrics']['mAP']:.2f} "
                       f"(best.pt of epoch {run['epoch']})", err=True)

    result = ablation_outputs(kinds, dataset=dataset, embeddings=embeddings, graph_files=files,
                              progress=progress_enabled(quiet), on_run=report, **options)
    if as_json:
        echo_json({"rows": result.rows, "note": result.note, "reused": result.reused,
                   "files": [str(p) for p in result.paths]})
        return
    if result.reused:
        click.echo(f"{options['out']}: the same ablation is there; read back (--force to run it again)")
    click.echo(result.table())
    click.echo(f"test split, selected on the held-out validation part; {result.note}")
    click.echo("wrote " + ", ".join(str(p) for p in result.paths))


def _require_torch() -> None:
    """Stop now if the trainer's packages are absent; found, not imported (bad input is reported first)."""
    from importlib.util import find_spec

    from labelgraph.errors import missing_dependency

    if find_spec("torch") is None or find_spec("torchvision") is None:
        raise missing_dependency("torch/torchvision", "train")
