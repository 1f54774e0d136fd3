"""``labelgraph train`` and ``labelgraph evaluate``: thin wrappers over :mod:`labelgraph.train`."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from labelgraph.errors import missing_dependency
from labelgraph.train.config import DIFFICULT_MODES, LOSS_NAMES, PRESETS
from labelgraph.train.registry import model_names

from ._common import RegistryChoice, echo_json, progress_enabled



def _train_datasets() -> tuple[str, ...]:
    """``imagefolder`` and every registered dataset with a default evaluation split."""
    from labelgraph.datasets import DATASETS

    return ("imagefolder", *(r.name for r in DATASETS.values() if r.eval_split))


def _require_torch() -> None:
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError:
        raise missing_dependency("torch/torchvision", "train") from None


@click.command(context_settings={"max_content_width": 100})
@click.option("--preset", help=f"Paper recipe: {', '.join(PRESETS)}; other options override it.")
@click.option("--model", type=click.Choice(model_names()), help="Architecture.")
@click.option("--backbone", help="torchvision ResNet (resnet18 … resnet152, resnext*), r3d_18, r2plus1d_18, "
                                 "'features', or timm:<model> (e.g. timm:tresnet_m; the timm extra).")
@click.option("--dataset", type=RegistryChoice(_train_datasets), help="Where labels come from.")
@click.option("--root", type=click.Path(file_okay=False), help="Folder of the images / frame folders.")
@click.option("--annotations", help="Annotation file; '{split}' becomes the split name "
                                    "(imagefolder: <root>/{split}.csv; mulan: …/yeast).")
@click.option("--split", help="Training split [default: train; voc: trainval].")
@click.option("--test-split", help="Split scored once at the end with best.pt [default: val; voc, mulan, charades: "
                                   "test].")
@click.option("--val-split", "deprecated_val_split", hidden=True, help="Deprecated name of --test-split.")
@click.option("--val-fraction", type=float, help="Part of the training split held out to select best.pt, in "
                                                 "(0, 0.5]; 0: none, best.pt is the last epoch.")
@click.option("--graph", type=click.Path(dir_okay=False), help="Graph .npz (labelgraph build).")
@click.option("--embeddings", type=click.Path(dir_okay=False), help="Label embeddings .npz (labelgraph embed).")
@click.option("--align", "align_labels", is_flag=True, default=None,
              help="Reorder graph and embeddings to the dataset's label order by name.")
@click.option("--epochs", type=click.IntRange(min=1))
@click.option("--batch-size", type=click.IntRange(min=1))
@click.option("--lr", type=float, help="Head learning rate; the backbone uses lr × --backbone-lr-mult.")
@click.option("--backbone-lr-mult", type=float)
@click.option("--optimizer", type=click.Choice(["sgd", "adam"]))
@click.option("--schedule", type=click.Choice(["step", "cosine", "constant"]))
@click.option("--lr-steps", help="Comma-separated epochs of the step schedule, e.g. 30.")
@click.option("--weight-decay", type=float)
@click.option("--image-size", type=click.IntRange(min=8))
@click.option("--hidden", type=click.IntRange(min=1), help="ML-GCN's hidden GCN width.")
@click.option("--dropout", type=float, help="Dropout on the pooled feature.")
@click.option("--frames", type=click.IntRange(min=1), help="Frames per clip (kssnet3d).")
@click.option("--amp", type=click.Choice(["off", "bf16", "fp16"]), help="Mixed precision.")
@click.option("--channels-last/--no-channels-last", default=None, help="Channels-last memory format [default: on for CUDA].")
@click.option("--compile", "compile_", is_flag=True, default=None, help="torch.compile (eager if it fails).")
@click.option("--compile-backend", help="torch.compile backend.")
@click.option("--accumulate", type=click.IntRange(min=1), help="Micro-batches per optimizer step.")
@click.option("--ema", type=float, help="EMA decay of the weights for evaluation, e.g. 0.999 (0 = off).")
@click.option("--freeze-backbone", is_flag=True, default=None, help="Train only the head.")
@click.option("--cache-features", type=click.Path(file_okay=False),
              help="With --freeze-backbone: cache backbone features here (fp16, memory-mapped).")
@click.option("--weights", help="Backbone weights: IMAGENET1K_V1 (2019, the reproduction presets'), "
                                 "IMAGENET1K_V2, DEFAULT, none, or a state_dict file.")
@click.option("--pretrained/--no-pretrained", default=None,
              help="Aliases: --no-pretrained is --weights none; --pretrained keeps --weights.")
@click.option("--loss", type=click.Choice(list(LOSS_NAMES)), help="Training loss (mean over labels and batch).")
@click.option("--asl-gamma-pos", type=click.FloatRange(min=0), help="ASL's γ+.")
@click.option("--asl-gamma-neg", type=click.FloatRange(min=0), help="ASL's γ−.")
@click.option("--asl-margin", type=click.FloatRange(0, 1, max_open=True), help="ASL's probability margin m.")
@click.option("--focal-gamma", type=click.FloatRange(min=0), help="Focal loss γ.")
@click.option("--focal-alpha", type=click.FloatRange(0, 1), help="Focal loss α (weight of positives) [default: none].")
@click.option("--difficult", type=click.Choice(list(DIFFICULT_MODES)),
              help="VOC difficult-only marks: positive in the loss and left out of the metrics (ML-GCN), "
                   "ignore (left out of both), negative (negatives in both).")
@click.option("--clip-grad-norm", type=click.FloatRange(min=0, min_open=True),
              help="Clip the gradient norm before each step (the ML-GCN presets: 10) [default: off].")
@click.option("--workers", type=click.IntRange(min=0),
              help="Data-loading processes [default: CPUs per process − 1, at most 8].")
@click.option("--skip-missing", is_flag=True, default=None, help="Leave out missing images (counted).")
@click.option("--limit", type=click.IntRange(min=1), help="Use only the first N samples of each split.")
@click.option("--device", help="cpu, cuda, cuda:1 [default: cuda when available].")
@click.option("--seed", type=int)
@click.option("--deterministic", is_flag=True, default=None, help="Deterministic algorithms (slower).")
@click.option("--out", type=click.Path(file_okay=False), help="Run folder.")
@click.option("--resume", is_flag=True, default=None, help="Continue the run in --out from last.pt.")
@click.option("--log-every", type=click.IntRange(min=1), help="Steps between reads of the running loss.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the last epoch's record as JSON.")
def train(preset: str | None, lr_steps: str | None, compile_: bool | None, quiet: bool, as_json: bool,
          deprecated_val_split: str | None, **options: Any) -> None:
    """Train ML-GCN, KSSNet or KSSNet-3D on labelgraph's graph and embedding files.

    Writes config.json, log.jsonl (one line an epoch), last.pt and best.pt (by the
    mAP of a held-out --val-fraction of the training split) to --out, then scores
    the test split once with best.pt (metrics.json). Runs unchanged under torchrun for several GPUs or nodes.
    The defaults shown are TrainConfig's; a --preset sets its own, and options given
    on the command line override both. Paths, the preset and the label orders of
    --graph and --embeddings are checked before torch is imported.

    \b
    Examples:
      labelgraph train --dataset mulan --annotations mulan/yeast --backbone features \\
          --graph graphs/yeast_reweighted_t0.4_p0.2.npz --embeddings embeddings/yeast_glove.6B.50d.npz \\
          --epochs 30 --device cpu --out runs/yeast
      labelgraph train --preset mlgcn-coco --root data/coco --annotations data/coco/annotations \\
          --graph graphs/coco2014_reweighted_t0.4_p0.2.npz --embeddings embeddings/coco_glove300.npz \\
          --amp bf16 --accumulate 4 --out runs/mlgcn-coco
      torchrun --nproc-per-node 4 -m labelgraph_cli.main train --preset mlgcn-coco ... --out runs/x
    """
    from labelgraph.train.config import TrainConfig

    values = {k: v for k, v in options.items() if v is not None}
    if deprecated_val_split is not None:
        if values.get("test_split", deprecated_val_split) != deprecated_val_split:
            raise click.BadParameter(f"{deprecated_val_split!r} disagrees with --test-split {values['test_split']!r}; "
                                     "give --test-split only", param_hint="--val-split")
        click.echo("warning: --val-split is deprecated, it names the test split: use --test-split "
                   "(validation is a held-out --val-fraction of the training split)", err=True)
        values["test_split"] = deprecated_val_split
    if values.get("pretrained") is False and str(values.get("weights", "none")).lower() != "none":
        raise click.BadParameter(f"--no-pretrained means --weights none; it conflicts with --weights "
                                 f"{values['weights']}", param_hint="--weights")
    if compile_ is not None:
        values["compile"] = compile_
    if lr_steps:
        try:
            values["lr_steps"] = tuple(int(x) for x in lr_steps.split(","))
        except ValueError:
            raise click.BadParameter("comma-separated integers, e.g. 30 or 20,30", param_hint="--lr-steps") from None
    cfg = TrainConfig.from_preset(preset, **values) if preset else TrainConfig.from_dict(values)
    from labelgraph.train.preflight import check_run

    check_run(cfg)  # paths, preset, label orders: reported before torch is imported
    _require_torch()
    from labelgraph.train.engine import fit
    from labelgraph.train.metrics import format_metrics_table

    record = fit(cfg, progress=progress_enabled(quiet))
    if not record.get("test"):
        return  # not rank 0
    if as_json:
        echo_json(record)
        return
    test = record["test"]
    best = "—" if record["best_mAP"] is None else f"{100 * record['best_mAP']:.2f}"
    if "epoch" in record:  # absent when --resume found every epoch done: only the test is run
        click.echo(f"run: {record['out']}  epoch {record['epoch']}  train loss {record['train_loss']:.4f}  "
                   f"best validation mAP {best} ({record['val_images']} held-out samples)")
    click.echo(f"test: {test['split']} ({test['samples']} samples), {test['checkpoint']} of epoch {test['epoch']}")
    click.echo(format_metrics_table({test["split"]: test["metrics"]}))


def _show_config_defaults(command: click.Command) -> click.Command:
    """Append TrainConfig's default to the help of every option that sets a TrainConfig field."""
    from labelgraph.train.config import TrainConfig

    fields = TrainConfig.__dataclass_fields__
    for param in command.params:
        field = fields.get(param.name or "")
        if not isinstance(param, click.Option) or field is None or field.default is None \
                or "[default:" in (param.help or ""):
            continue
        value = field.default
        if isinstance(value, bool):
            text = "on" if value else "off"
        elif isinstance(value, tuple):
            text = ",".join(map(str, value))
        else:
            text = str(value)
        param.help = f"{param.help or ''} [default: {text}]".strip()
    return command


_show_config_defaults(train)


@click.command(context_settings={"max_content_width": 100})
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@click.option("--dataset", type=RegistryChoice(_train_datasets), help="Override the run's dataset.")
@click.option("--root", type=click.Path(file_okay=False), help="Override the run's image folder.")
@click.option("--annotations", help="Override the run's annotation file ('{split}' allowed).")
@click.option("--split", help="Split to score [the run's validation split].")
@click.option("--graph", type=click.Path(dir_okay=False), help="Evaluate with another graph (needs --embeddings).")
@click.option("--embeddings", type=click.Path(dir_okay=False), help="Evaluate with other label embeddings.")
@click.option("--batch-size", type=click.IntRange(min=1))
@click.option("--workers", type=click.IntRange(min=0))
@click.option("--amp", type=click.Choice(["off", "bf16", "fp16"]))
@click.option("--difficult", type=click.Choice(list(DIFFICULT_MODES)),
              help="VOC difficult marks: left out of the metrics (positive, ignore) or negatives (negative) "
                   "[the run's].")
@click.option("--device")
@click.option("--skip-missing", is_flag=True, default=None)
@click.option("--limit", type=click.IntRange(min=1))
@click.option("--scores", "scores_path", type=click.Path(dir_okay=False),
              help="Also save the logits and targets to this .npz.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def evaluate(checkpoint: str, scores_path: str | None, quiet: bool, as_json: bool, **options: Any) -> None:
    """Score a trained checkpoint with ML-GCN's metrics (mAP, CP, CR, CF1, OP, OR, OF1, top-3).

    \b
    Example:
      labelgraph evaluate runs/mlgcn-coco/best.pt --split val
      labelgraph evaluate runs/mlgcn-coco/best.pt --root data/coco --split val --json
    """
    _require_torch()
    import numpy as np

    from labelgraph.files import atomic_write
    from labelgraph.train.engine import evaluate_checkpoint
    from labelgraph.train.metrics import format_metrics_table

    result = evaluate_checkpoint(checkpoint, progress=progress_enabled(quiet),
                                 **{k: v for k, v in options.items() if v is not None})
    if scores_path:
        with atomic_write(Path(scores_path)) as handle:
            np.savez(handle, scores=result.scores, targets=result.targets, labels=np.array(result.labels))
    if as_json:
        echo_json({"checkpoint": result.checkpoint, "split": result.split, "samples": int(len(result.scores)),
                   "metrics": result.metrics})
        return
    click.echo(f"{result.checkpoint} on {result.split} ({len(result.scores)} samples)")
    click.echo(format_metrics_table({Path(checkpoint).parent.name or "model": result.metrics}))
