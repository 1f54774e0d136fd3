"""Graphs compared on equal terms: every graph × seed trains the same head, selected and tested the same way.

:func:`run_arms` trains one run per (arm, seed) with :func:`labelgraph.train.engine.fit`: an arm
is a model and a graph file (the no-GCN ``linear`` baseline, a graph kind, a learned graph, a
user's graph).  For a given seed every arm sees the same held-out validation part, the same
batches in the same order and the same initial random state, so the runs are paired across
arms.  Each run selects ``best.pt`` on its validation part and scores the test split once;
:func:`summarize` turns the test metrics into the table's rows (mean ± std over seeds, the
difference to the baseline's mAP with a paired t-test over seeds).

This module imports torch only inside :func:`run_arms`.
"""
from __future__ import annotations

import json
import logging
import math
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from .config import TrainConfig

__all__ = ["Arm", "ABLATION_METRICS", "BASELINE", "run_arms", "summarize", "format_ablation_table"]

log = logging.getLogger(__name__)

#: The metrics the table reports (test split, selected checkpoint).
ABLATION_METRICS: tuple[str, ...] = ("mAP", "CF1", "OF1")
#: The arm every other is compared with: a linear head on the pooled feature, no graph.
BASELINE = "linear"


@dataclass(frozen=True)
class Arm:
    """One row of an ablation: its name, the registered model it trains and the graph file it reads.

    ``graph`` is one file, or a file per seed (the seeded baselines: another permutation or
    random graph with every seed).

    Examples
    --------
    >>> Arm("binary", "mlgcn", "graphs/binary.npz").graph_for(1)
    'graphs/binary.npz'
    >>> Arm("shuffled", "mlgcn", {0: "s0.npz", 1: "s1.npz"}).graph_for(1)
    's1.npz'
    """

    name: str
    model: str
    graph: str | Mapping[int, str]

    def graph_for(self, seed: int) -> str:
        """The graph file of run ``seed``."""
        return str(self.graph if isinstance(self.graph, (str, Path)) else self.graph[int(seed)])


def _normalized(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(values))


def _run_folder(cfg: TrainConfig, folder: Path, force: bool) -> dict[str, Any] | None:
    """A finished run of exactly ``cfg`` in ``folder`` (its ``metrics.json``), or None after clearing the way.

    A folder holding a run of other settings is refused without ``force``; an unfinished run of the
    same settings (killed) is ours to redo.
    """
    if not folder.exists():
        return None
    config, metrics = folder / "config.json", folder / "metrics.json"
    same = config.is_file() and json.loads(config.read_text()) == _normalized(cfg.to_dict())
    if same and metrics.is_file():
        return json.loads(metrics.read_text())
    if not same and not force:
        raise ConfigError(f"{folder}: holds a run of other settings; use --force to replace it, or another --out")
    shutil.rmtree(folder)
    return None


def run_arms(cfg: TrainConfig, arms: Sequence[Arm], seeds: Sequence[int], folder: str | Path, *,
             keep_checkpoints: bool = False, force: bool = False, progress: bool = False,
             on_run: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Train every arm with every seed (``cfg`` with the arm's model, graph and the seed).

    Runs go to ``folder/<arm>-seed<k>``; a finished run of the same settings there is
    reused.  Their checkpoints are removed once tested unless ``keep_checkpoints``.

    Returns one record per run: ``graph``, ``model``, ``seed``, ``epoch`` (the selected
    one), ``val_mAP`` and the test ``metrics``.

    Examples
    --------
    A toy MULAN set (as in :func:`labelgraph.train.engine.fit`), the baseline and one graph, 2 seeds:

    >>> import labelgraph
    >>> _ = (tmp / "toy.xml").write_text('<labels xmlns="http://mulan.sourceforge.net/labels">'
    ...                                  '<label name="a"/><label name="b"/></labels>')
    >>> head = "@relation toy\\n@attribute x numeric\\n@attribute y numeric\\n@attribute a {0,1}\\n@attribute b {0,1}\\n"
    >>> for split in ("train", "test"):
    ...     _ = (tmp / f"toy-{split}.arff").write_text(head + "@data\\n" + "0,0,1,0\\n1,0,1,0\\n0,1,0,1\\n1,1,0,1\\n" * 2)
    >>> g = labelgraph.Artifact.graph("binary", ["a", "b"], [[1, 0], [0, 1]]).save(tmp / "g.npz")
    >>> e = labelgraph.Artifact.embeddings(["a", "b"], [[1.0, 0.0], [0.0, 1.0]]).save(tmp / "e.npz")
    >>> cfg = TrainConfig(dataset="mulan", annotations=str(tmp / "toy"), backbone="features", embeddings=str(e),
    ...                   hidden=4, epochs=1, batch_size=4, workers=0, device="cpu", val_fraction=0.25)
    >>> runs = run_arms(cfg, [Arm("linear", "linear", str(g)), Arm("binary", "mlgcn", str(g))], [0, 1], tmp / "runs")
    >>> [(r["graph"], r["seed"]) for r in runs]
    [('linear', 0), ('binary', 0), ('linear', 1), ('binary', 1)]
    >>> sorted(p.name for p in (tmp / "runs" / "binary-seed0").iterdir())   # checkpoints removed once tested
    ['config.json', 'log.jsonl', 'metrics.json']
    """
    from .engine import fit

    folder = Path(folder)
    runs: list[dict[str, Any]] = []
    for seed in seeds:
        for arm in arms:
            run_cfg = cfg.replace(model=arm.model, graph=arm.graph_for(seed), seed=int(seed),
                                  out=str(folder / f"{arm.name}-seed{seed}"), resume=False)
            run_cfg.validate()
            test = _run_folder(run_cfg, Path(run_cfg.out), force)
            if test is None:
                test = fit(run_cfg, progress=progress)["test"]
                if not keep_checkpoints:
                    for name in ("last.pt", "best.pt"):
                        (Path(run_cfg.out) / name).unlink(missing_ok=True)
            record = {"graph": arm.name, "model": arm.model, "seed": int(seed), "epoch": test["epoch"],
                      "val_mAP": test["val_mAP"], "metrics": test["metrics"]}
            log.info("%s seed %d: test mAP %.4f", arm.name, seed, test["metrics"]["mAP"])
            if on_run is not None:
                on_run(record)
            runs.append(record)
    return runs


def _mean_std(values: np.ndarray) -> tuple[float, float | None]:
    return float(values.mean()), (float(values.std(ddof=1)) if len(values) > 1 else None)


def summarize(runs: Sequence[dict[str, Any]], baseline: str = BASELINE,
              metrics: Sequence[str] = ABLATION_METRICS) -> list[dict[str, Any]]:
    """One row per arm (in first-seen order): each metric's mean and sample std over seeds, and
    ``delta_mAP`` (mean of the per-seed differences to ``baseline``) with the two-sided p-value of
    :func:`scipy.stats.ttest_rel` over the seeds both ran.

    With one seed there is no std and no p-value (``None``); a p-value is also ``None`` when the
    differences are all equal (the t statistic is undefined).

    Examples
    --------
    >>> runs = [{"graph": g, "model": "m", "seed": s, "metrics": {"mAP": v, "CF1": v, "OF1": v}}
    ...         for g, vals in (("linear", (0.50, 0.52, 0.54)), ("binary", (0.53, 0.54, 0.58)))
    ...         for s, v in enumerate(vals)]
    >>> rows = summarize(runs)
    >>> [(r["graph"], round(r["mAP_mean"], 4), round(r["delta_mAP"], 4)) for r in rows]
    [('linear', 0.52, 0.0), ('binary', 0.55, 0.03)]
    >>> round(rows[1]["p_value"], 4), rows[0]["p_value"] is None
    (0.0351, True)
    """
    from scipy import stats

    by_arm: dict[str, dict[int, dict[str, Any]]] = {}
    models: dict[str, str] = {}
    for run in runs:
        by_arm.setdefault(run["graph"], {})[int(run["seed"])] = run["metrics"]
        models.setdefault(run["graph"], run["model"])
    base = by_arm.get(baseline, {})
    rows = []
    for name, per_seed in by_arm.items():
        seeds = sorted(per_seed)
        row: dict[str, Any] = {"graph": name, "model": models[name], "seeds": len(seeds)}
        for metric in metrics:
            row[f"{metric}_mean"], row[f"{metric}_std"] = _mean_std(np.array([per_seed[s][metric] for s in seeds]))
        paired = [s for s in seeds if s in base]
        delta, p_value = None, None
        if paired and name != baseline:
            a = np.array([per_seed[s]["mAP"] for s in paired])
            b = np.array([base[s]["mAP"] for s in paired])
            delta = float((a - b).mean())
            if len(paired) > 1:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    p = float(stats.ttest_rel(a, b).pvalue)
                p_value = p if math.isfinite(p) else None
        elif name == baseline:
            delta = 0.0
        row["delta_mAP"], row["p_value"] = delta, p_value
        rows.append(row)
    return rows


def format_ablation_table(rows: Sequence[dict[str, Any]], metrics: Sequence[str] = ABLATION_METRICS) -> str:
    """The rows as a text table, metrics in percent: ``mean ± std``, then Δ mAP and p.

    Examples
    --------
    >>> print(format_ablation_table([{"graph": "linear", "model": "linear", "seeds": 1, "mAP_mean": 0.5,
    ...     "mAP_std": None, "CF1_mean": 0.4, "CF1_std": None, "OF1_mean": 0.45, "OF1_std": None,
    ...     "delta_mAP": 0.0, "p_value": None}]))
    graph   model   seeds  mAP          CF1          OF1          ΔmAP   p
    linear  linear  1      50.00 ± —    40.00 ± —    45.00 ± —    +0.00  —
    """
    def pm(mean: float, std: float | None) -> str:
        return f"{100 * mean:.2f} ± " + ("—" if std is None else f"{100 * std:.2f}")

    header = ["graph", "model", "seeds", *metrics, "ΔmAP", "p"]
    body = [[r["graph"], r["model"], str(r["seeds"]), *(pm(r[f"{m}_mean"], r[f"{m}_std"]) for m in metrics),
             "—" if r["delta_mAP"] is None else f"{100 * r['delta_mAP']:+.2f}",
             "—" if r["p_value"] is None else f"{r['p_value']:.3g}"] for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    widths = [max(w, 12) if 3 <= i < 3 + len(metrics) else w for i, w in enumerate(widths)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in [header, *body])
