"""``labelgraph ablate`` as a Python call: does the graph help? Graphs × seeds trained on equal terms.

The graphs of the listed kinds are built from the training split's label statistics
(all of it, held-out part included; never the test split), saved under ``<out>/graphs``
and trained by :func:`labelgraph.train.ablate.run_arms` next to the no-GCN baseline;
the summary goes to ``ablation.csv`` and ``ablation.json`` (both or neither), and with
``plot`` to ``ablation.png``.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from ..errors import ConfigError, LabelMismatchError

__all__ = ["ABLATION_MODELS", "AblationResult", "ablation_kinds", "parse_ablation_graphs", "ablation_outputs"]

#: The GCN models an ablation compares graphs with (``--model``).
ABLATION_MODELS: tuple[str, ...] = ("mlgcn", "kssnet")
_LEARNED = "learned"


def ablation_kinds() -> tuple[str, ...]:
    """The names ``--graphs`` accepts: every graph kind built from statistics, and ``learned``.

    Examples
    --------
    >>> {"identity", "binary", "shuffled", "random", "learned"} <= set(ablation_kinds())
    True
    """
    from ..graphs.kinds import STATISTICAL_KINDS

    return (*(k for k, spec in STATISTICAL_KINDS.items() if spec.needs != "embeddings"), _LEARNED)


def parse_ablation_graphs(text: str | Sequence[str]) -> list[str]:
    """The kinds of a ``--graphs`` list, in order, without repeats; an unknown one lists the known ones.

    Examples
    --------
    >>> parse_ablation_graphs("identity, binary,identity")
    ['identity', 'binary']
    >>> parse_ablation_graphs("binary,bogus")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --graphs: unknown graph kind 'bogus' (known: probability, binary, reweighted, mlgcn, ppmi, npmi, jaccard, exclusive, identity, complete, shuffled, random, learned)
    """
    names = [x.strip() for x in (text.split(",") if isinstance(text, str) else text) if x.strip()]
    known = ablation_kinds()
    for name in names:
        if name not in known:
            raise ConfigError(f"--graphs: unknown graph kind {name!r} (known: {', '.join(known)})")
    return list(dict.fromkeys(names))


@dataclass
class AblationResult:
    """What :func:`ablation_outputs` made: the table's rows, every run, and the files written."""

    rows: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    paths: list[Path] = field(default_factory=list)
    reused: bool = False
    note: str = ""

    def table(self) -> str:
        """The rows as text (see :func:`labelgraph.train.ablate.format_ablation_table`)."""
        from ..train.ablate import format_ablation_table

        return format_ablation_table(self.rows)


def _training_labelset(cfg: Any) -> Any:
    from ..train.preflight import annotation_path, resolve_splits

    split = resolve_splits(cfg)[0]
    if cfg.dataset == "imagefolder":
        from ..train.data import read_image_csv

        root = cfg.root or "."
        return read_image_csv(annotation_path(cfg.annotations, cfg.root, split, str(Path(root) / "{split}.csv")))[0]
    from ..datasets import read_dataset

    if cfg.dataset != "mulan" and cfg.root is None:
        raise ConfigError(f"--root is required for dataset {cfg.dataset!r} (the folder of its images)")
    return read_dataset(cfg.dataset, annotation_path(cfg.annotations, cfg.root, split, str(cfg.root)), split=split)


def _same_label_set(labels: Sequence[str], path: str | Path, what: str, dataset_labels: Sequence[str]) -> None:
    ours, theirs = set(dataset_labels), set(labels)
    if ours == theirs:
        return
    only_file = [x for x in labels if x not in ours]
    only_data = [x for x in dataset_labels if x not in theirs]
    parts = ([f"only in the file: {', '.join(only_file[:10])}" + (" …" if len(only_file) > 10 else "")]
             if only_file else []) + \
            ([f"only in the dataset: {', '.join(only_data[:10])}" + (" …" if len(only_data) > 10 else "")]
             if only_data else [])
    raise LabelMismatchError(f"{path}: {what} of other labels than the dataset's ({'; '.join(parts)})")


def _train_config(dataset: str, options: dict[str, Any], loss: str | None) -> Any:
    from ..train.config import TrainConfig

    names = {f.name for f in dataclasses.fields(TrainConfig)}
    if loss is not None:
        if "loss" in names:
            options["loss"] = loss
        elif loss != "bce":
            raise ConfigError(f"--loss {loss}: this trainer has binary cross-entropy only (--loss bce)")
    return TrainConfig.from_dict({**options, "dataset": dataset, "align_labels": True}).validate()


def ablation_outputs(graphs: str | Sequence[str] = "identity,binary,reweighted,mlgcn,ppmi,shuffled,random,learned",
                     *, dataset: str, embeddings: str | Path, graph_files: Sequence[str | Path] = (),
                     seeds: int = 3, model: str = "mlgcn", loss: str | None = None, base: str = "binary",
                     out: str | Path = "runs/ablation", force: bool = False, plot: bool = False,
                     keep_checkpoints: bool = False, progress: bool = False,
                     on_run: Callable[[dict[str, Any]], None] | None = None,
                     **train_options: Any) -> AblationResult:
    """Train the no-GCN baseline and a model over every graph, ``seeds`` times each, and compare them.

    Parameters
    ----------
    graphs : kinds of :func:`ablation_kinds` (``learned``: a trainable graph initialised from ``base``)
    dataset, embeddings : the trainer's ``--dataset`` and label embeddings (``.npz``)
    graph_files : the user's graphs, each over the dataset's labels (any order)
    seeds : runs per graph, seeds ``0 … seeds-1`` (the same for every graph: paired)
    model : ``mlgcn`` or ``kssnet``
    loss : passed to the trainer when it has a ``loss`` option
    base : the kind ``shuffled`` permutes, ``random`` matches in edges and ``learned`` starts from
    out : folder of ``ablation.csv``, ``ablation.json``, ``graphs/``, ``runs/`` (and ``ablation.png``)
    force : replace an ablation of other settings in ``out`` (one of the same settings is reused)
    train_options : other :class:`~labelgraph.train.config.TrainConfig` fields (``annotations``, ``root``,
        ``backbone``, ``epochs``, ``val_fraction`` …)

    Examples
    --------
    >>> import labelgraph
    >>> _ = (tmp / "toy.xml").write_text('<labels xmlns="http://mulan.sourceforge.net/labels">'
    ...                                  '<label name="a"/><label name="b"/></labels>')
    >>> head = "@relation toy\\n@attribute x numeric\\n@attribute y numeric\\n@attribute a {0,1}\\n@attribute b {0,1}\\n"
    >>> for split in ("train", "test"):
    ...     _ = (tmp / f"toy-{split}.arff").write_text(head + "@data\\n" + "0,0,1,0\\n1,0,1,1\\n0,1,0,1\\n1,1,1,1\\n" * 2)
    >>> e = labelgraph.Artifact.embeddings(["a", "b"], [[1.0, 0.0], [0.0, 1.0]]).save(tmp / "e.npz")
    >>> result = ablation_outputs("identity,binary", dataset="mulan", annotations=str(tmp / "toy"),
    ...                           backbone="features", embeddings=e, seeds=2, hidden=4, epochs=1, batch_size=4,
    ...                           workers=0, device="cpu", val_fraction=0.25, out=tmp / "ablation")
    >>> [r["graph"] for r in result.rows], [p.name for p in result.paths]
    (['linear', 'identity', 'binary'], ['ablation.csv', 'ablation.json'])
    >>> ablation_outputs("identity,binary", dataset="mulan", annotations=str(tmp / "toy"), backbone="features",
    ...                  embeddings=e, seeds=2, hidden=4, epochs=1, batch_size=4, workers=0, device="cpu",
    ...                  val_fraction=0.25, out=tmp / "ablation").reused     # the same settings: read back
    True
    """
    from ..artifact import load
    from ..assemble import build_graph, label_statistics

    kinds = parse_ablation_graphs(graphs)
    if model not in ABLATION_MODELS:
        raise ConfigError(f"--model must be one of {', '.join(ABLATION_MODELS)} (got {model!r})")
    if int(seeds) < 1:
        raise ConfigError(f"--seeds must be at least 1 (got {seeds})")
    if plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            from ..errors import missing_dependency

            raise missing_dependency("matplotlib", "plot") from None
    out = Path(out)
    options = {k: v for k, v in train_options.items() if v is not None}
    options.update(model=model, embeddings=str(embeddings))
    cfg = _train_config(dataset, options, loss)
    if cfg.backbone != "features" and model == "mlgcn" and not cfg.freeze_backbone:
        # the frozen-backbone cache: features computed once, every run trains only its head
        cfg = cfg.replace(freeze_backbone=True, cache_features=cfg.cache_features or str(out / "feature_cache"))

    labelset = _training_labelset(cfg)
    labels = list(labelset.labels)
    emb = load(embeddings)
    if emb.kind != "embeddings":
        raise ConfigError(f"{embeddings}: a {emb.kind} artifact, not label embeddings")
    _same_label_set(emb.labels, embeddings, "embeddings", labels)
    stats = label_statistics(labelset)

    from ..graphs.kinds import STATISTICAL_KINDS

    seed_list = list(range(int(seeds)))
    # a seeded baseline (shuffled, random) draws another graph with every run's seed
    seeded = {k for k in kinds if k != _LEARNED and "seed" in STATISTICAL_KINDS[k].params}
    built: dict[str, Any] = {"identity": build_graph(stats, "identity")}
    for kind in kinds:
        name = base if kind == _LEARNED else kind
        if kind in seeded:
            built.update({f"{kind}_s{s}": build_graph(stats, kind, base=base, seed=s) for s in seed_list})
        elif name not in built:
            built[name] = build_graph(stats, name, base=base)
    user: dict[str, Path] = {}
    for path in graph_files:
        art = load(path)
        if art.kind in ("statistics", "embeddings"):
            raise ConfigError(f"{path}: a {art.kind} artifact, not a graph")
        _same_label_set(art.labels, path, "a graph", labels)
        name = Path(path).name.removesuffix(".npz")
        if name in user or name in kinds or name == "linear":
            raise ConfigError(f"{path}: another graph of this ablation is named {name!r}; rename the file")
        user[name] = Path(path)

    from ..train.ablate import BASELINE, Arm

    files = {name: out / "graphs" / f"{name}.npz" for name in built}
    # (arm, model, graph file, the graph's content hash); the baseline's graph only gives the label count
    plan = [(BASELINE, BASELINE, files["identity"], built["identity"].content_hash)]
    for kind in kinds:
        if kind in seeded:
            names = {s: f"{kind}_s{s}" for s in seed_list}
            plan.append((kind, model, {s: str(files[n]) for s, n in names.items()},
                         [built[n].content_hash for n in names.values()]))
            continue
        source = base if kind == _LEARNED else kind
        plan.append((kind, _LEARNED if kind == _LEARNED else model, files[source], built[source].content_hash))
    plan += [(name, model, path, load(path).content_hash) for name, path in user.items()]
    arms = [Arm(name, arm_model, path if isinstance(path, dict) else str(path)) for name, arm_model, path, _ in plan]
    request = {"arms": [{"graph": name, "model": arm_model, "graph_hash": digest}
                        for name, arm_model, _, digest in plan],
               "seeds": seed_list, "embeddings_hash": emb.content_hash,
               "config": {k: v for k, v in cfg.to_dict().items() if k not in ("graph", "seed", "out", "model")}}
    request = json.loads(json.dumps(request))

    document = out / "ablation.json"
    if document.is_file():
        previous = json.loads(document.read_text())
        if previous.get("request") == request:
            result = AblationResult(previous["rows"], previous["runs"], [out / "ablation.csv", document], True,
                                    previous.get("note", ""))
            if plot:
                result.paths.append(_plot(result.rows, out / "ablation.png"))
            return result
        if not force:
            raise ConfigError(f"{out}: holds an ablation of other settings (ablation.json); use --force to replace "
                              "it, or another --out")

    from ..artifact import save_artifacts
    from ..train.ablate import run_arms, summarize

    save_artifacts([(art, files[name]) for name, art in built.items()], force=force)
    runs = run_arms(cfg, arms, seed_list, out / "runs", keep_checkpoints=keep_checkpoints,
                    force=force, progress=progress, on_run=on_run)
    rows = summarize(runs, BASELINE)
    note = ("one seed: no std and no p-value" if int(seeds) == 1 else
            f"p: paired t-test (scipy.stats.ttest_rel) of test mAP over {int(seeds)} seeds against {BASELINE}")
    paths = _write(out, request, rows, runs, note, force)
    if plot:
        paths.append(_plot(rows, out / "ablation.png"))
    return AblationResult(rows, runs, paths, False, note)


def _write(out: Path, request: dict[str, Any], rows: list[dict[str, Any]], runs: list[dict[str, Any]],
           note: str, force: bool) -> list[Path]:
    import csv
    import io

    from ..files import StagedWrites

    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    document = {"request": request, "note": note, "rows": rows, "runs": runs}
    with StagedWrites(force=True) as staged:  # ablation.json was checked above: same settings, none, or --force
        staged.add(out / "ablation.csv", text.getvalue().encode())
        staged.add(out / "ablation.json", (json.dumps(document, indent=2) + "\n").encode())
    return list(staged.paths)


def _plot(rows: list[dict[str, Any]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..files import atomic_write

    names = [r["graph"] for r in rows]
    means = [100 * r["mAP_mean"] for r in rows]
    errors = [100 * (r["mAP_std"] or 0.0) for r in rows]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.8 * len(rows) + 1.5), 3.5))
    try:
        ax.bar(names, means, yerr=errors, capsize=3, color=["0.6"] + ["C0"] * (len(rows) - 1))
        ax.axhline(means[0], color="0.3", linewidth=0.8, linestyle="--")
        low = min(m - e for m, e in zip(means, errors))
        ax.set_ylim(max(0.0, low - 5), min(100.0, max(m + e for m, e in zip(means, errors)) + 2))
        ax.set_ylabel("test mAP (%)")
        ax.set_title("graph ablation (mean ± std over seeds)")
        ax.tick_params(axis="x", rotation=30)
        fig.tight_layout()
        with atomic_write(path) as handle:
            fig.savefig(handle, format="png", dpi=120)
    finally:
        plt.close(fig)
    return path
