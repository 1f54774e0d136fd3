"""Parameter sweeps: graph measures for every setting of a grid, with the statistics read once.

For each setting the graph the GCN consumes (what ``build`` saves by default:
``Â_KS`` for ``ks``, ``norm(B + I)`` for ``binary``, ``norm(A')`` for
``reweighted``, ML-GCN's ``Â`` for ``mlgcn``) is measured:

* ``num_edges``, ``density``, ``isolated``, ``mean_degree``, ``max_degree``,
  ``components`` — as defined in :mod:`labelgraph.graphs.measures`;
* ``spectral_gap`` — ``λ₁ − λ₂``, the two largest eigenvalues of ``Â`` (of its
  symmetric part ``(Â + Âᵀ) / 2`` when ``Â`` is not symmetric), by LAPACK's
  symmetric solver asked for the top two only (``scipy.linalg.eigvalsh`` with
  ``subset_by_index``; the same values ``numpy.linalg.eigvalsh`` gives, ~25 % faster).  For a symmetric ``Â = norm(A)`` with every degree
  > 0 (the KS graph of symmetric inputs with η < 1), ``λ₁ = 1`` and the gap is 0
  exactly when the graph is disconnected; a large gap means propagation mixes
  labels fast.  For an asymmetric ``Â`` (graphs built from ``P``) the symmetric
  part is a proxy and a disconnected graph may still show a positive gap;
* ``oversmoothing_k{k}`` (only with label embeddings ``E``) — the mean cosine
  similarity over all pairs of distinct labels of the rows of ``Âᵏ E``: how alike
  the label embeddings have become after ``k`` propagations without weights or
  non-linearities (1 = all rows parallel).  Rows that are exactly zero are left out.

The KS sweep normalizes ``A_S`` and ``A_K`` once, blends once per λ, thresholds
once per (λ, τ), and per setting only applies η and the final normalization,
with the same functions (hence the same numbers) as
:func:`~labelgraph.assemble.ks_artifact`.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from .._atomic import StagedWrites
from .._dense import use_sparse
from ..artifact import Artifact
from ..errors import ArtifactError, ConfigError
from ..assemble.graphs import STATISTICAL_KINDS, build_graph, check_param, graph_filename, ks_variant
from ..assemble.ks import align_to_labels, ks_meta, statistical_adjacency
from ..graphs.ks import PRESETS, blend, check_tau, self_weight, threshold
from ..graphs.measures import graph_measures, oversmoothing, spectral_gap, structure_measures
from ..graphs.normalize import symmetric_normalize
from ..graphs.sparsify import check_min_count, check_top_k
from ..graphs.statistical import check_unit
from ..stats import conditional_probability

__all__ = [
    "MAX_SETTINGS",
    "SWEEP_KINDS",
    "parse_values",
    "spectral_gap",
    "oversmoothing",
    "graph_measures",
    "SweepResult",
    "sweep",
]

log = logging.getLogger(__name__)

#: A sweep (or one axis) larger than this needs ``yes=True`` (``--yes``).
MAX_SETTINGS = 10_000
#: No sweep, and no axis, is larger than this, ``--yes`` or not.
HARD_LIMIT = 1_000_000
class _SweepKinds(Mapping[str, tuple[str, ...]]):
    """Read from the kind registry on every use, so a kind registered later can be swept."""

    def _kinds(self) -> dict[str, tuple[str, ...]]:
        return {"ks": ("lam", "tau", "eta"), **{name: spec.params for name, spec in STATISTICAL_KINDS.items()}}

    def __getitem__(self, kind: str) -> tuple[str, ...]:
        return self._kinds()[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds())

    def __len__(self) -> int:
        return len(self._kinds())


#: Kinds a sweep can build, and the parameters each sweeps over.
SWEEP_KINDS: Mapping[str, tuple[str, ...]] = _SweepKinds()
#: Axes every kind built from statistics also takes (``--top-k``, ``--min-count``; SPEC §2.7–2.8).
SPARSIFY_AXES: tuple[str, ...] = ("top_k", "min_count")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def parse_values(text: str | float | Iterable[float], name: str = "value", *,
                 limit: int = MAX_SETTINGS) -> tuple[float, ...]:
    """Parse a sweep axis: ``"start:stop:step"`` (both ends included), ``"a,b,c"``, or one number.

    The end of a range is included when it lies within ``step·1e-6`` of a grid
    point; values are rounded to 12 decimals, so ``0.2:0.8:0.1`` gives exactly
    ``0.3``, not ``0.30000000000000004``.  The number of values of a range is
    computed from start, stop and step before any is made.

    Raises
    ------
    ConfigError
        Malformed text, a value that is not finite (NaN, inf), a step ≤ 0 or below
        1e-12, an empty or reversed range, or more than ``limit`` values.

    Examples
    --------
    >>> parse_values("0.2:0.8:0.2", "lam")
    (0.2, 0.4, 0.6, 0.8)
    >>> parse_values("0.01,0.02", "tau")
    (0.01, 0.02)
    >>> parse_values("0.8:0.2:0.1", "lam")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: lam: the range 0.8:0.2:0.1 is empty (start > stop); write it as 0.2:0.8:0.1
    >>> parse_values("0:1:1e-7", "tau")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: tau: the range 0:1:1e-7 has 10,000,001 values, more than 10,000 (pass --yes to allow up to 1,000,000)
    """
    if isinstance(text, (int, float)):
        values: tuple[float, ...] = (float(text),)
    elif not isinstance(text, str):
        values = tuple(float(v) for v in text)
        if not values:
            raise ConfigError(f"{name}: no values given")
    else:
        values = _parse_text(text, name, limit)
    bad = [v for v in values if not math.isfinite(v)]
    if bad:
        raise ConfigError(f"{name}: {bad[0]} is not a finite number")
    if len(values) > limit:
        raise ConfigError(f"{name}: {len(values):,} values, more than {limit:,}")
    return values


def _parse_text(text: str, name: str, limit: int) -> tuple[float, ...]:
    spec = text.strip()
    if not spec:
        raise ConfigError(f"{name}: no values given")
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 3 or not all(re.fullmatch(_NUMBER, p.strip()) for p in parts):
            raise ConfigError(f"{name}: {text!r} is not a range start:stop:step (e.g. 0.2:0.8:0.1)")
        start, stop, step = (float(p) for p in parts)
        if not all(math.isfinite(v) for v in (start, stop, step)):
            raise ConfigError(f"{name}: the range {spec} has a bound or step that is not a finite number")
        if step <= 0:
            raise ConfigError(f"{name}: the range {spec} needs a step > 0")
        if step < 1e-12:
            raise ConfigError(f"{name}: the range {spec} has a step below 1e-12 (values are rounded to 12 decimals)")
        if start > stop:
            raise ConfigError(f"{name}: the range {spec} is empty (start > stop); write it as {parts[1]}:{parts[0]}:{parts[2]}")
        span = (stop - start) / step + 1e-6
        if not math.isfinite(span) or span + 1 > limit:
            count = f"{int(math.floor(span)) + 1:,}" if math.isfinite(span) else "too many"
            hint = f" (pass --yes to allow up to {HARD_LIMIT:,})" if limit < HARD_LIMIT else ""
            raise ConfigError(f"{name}: the range {spec} has {count} values, more than {limit:,}{hint}")
        count = int(math.floor(span)) + 1
        return tuple(round(start + k * step, 12) for k in range(count))
    items = [p.strip() for p in spec.split(",")]
    if any(not re.fullmatch(_NUMBER, p) for p in items):
        bad = next(p for p in items if not re.fullmatch(_NUMBER, p))
        raise ConfigError(f"{name}: {bad!r} is not a number (in {text!r})")
    return tuple(float(p) for p in items)


@dataclass
class SweepResult:
    """The rows of a sweep: one dict per setting (its parameters, then its measures)."""

    kind: str
    params: tuple[str, ...]
    rows: list[dict[str, Any]]
    fixed: dict[str, Any] = field(default_factory=dict)
    saved: list[Path] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """Column names, parameters first (a ``note`` column only when some row has a note)."""
        columns = {name: None for name in self.params}
        for row in self.rows:
            columns.update(dict.fromkeys(row))
        return list(columns)

    def to_csv_text(self) -> str:
        """The rows as CSV text (NaN written as ``nan``)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.columns, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return out.getvalue()

    def to_document(self) -> dict[str, Any]:
        """``{"kind", "params", "fixed", "rows"}``, JSON-ready (NaN as None)."""
        rows = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in self.rows]
        return {"kind": self.kind, "params": list(self.params), "fixed": self.fixed, "rows": rows}

    def to_csv(self, path: str | os.PathLike[str], *, force: bool = False) -> Path:
        """Write the rows as CSV (atomically; the same text already there is left as it is)."""
        with StagedWrites(force=force) as run:
            run.add(path, self.to_csv_text().encode())
        return Path(path)

    def to_json(self, path: str | os.PathLike[str], *, force: bool = False) -> Path:
        """Write :meth:`to_document` as JSON (atomically; the same text already there is left as it is)."""
        text = json.dumps(self.to_document(), indent=2, default=str) + "\n"
        with StagedWrites(force=force) as run:
            run.add(path, text.encode())
        return Path(path)


def _axis_values(kind: str, name: str, value: Any, default: float, limit: int) -> tuple[float, ...]:
    values = parse_values(default if value is None else value, name, limit=limit)
    if name == "tau" and kind == "ks":
        return tuple(check_tau(v) for v in values)
    return tuple(check_param(name, v) for v in values)


def _single(name: str, value: Any, default: float) -> float:
    if value is None:
        return default
    values = parse_values(value, name)
    if len(values) != 1:
        raise ConfigError(f"{name} takes one value in a ks sweep, got {len(values)}")
    return check_unit(name, values[0])


def sweep(stats: Artifact, kind: str = "ks", *, knowledge: Artifact | None = None,
          lam: Any = None, tau: Any = None, eta: Any = None, p: Any = None,
          stat_graph: str = "probability", stat_tau: Any = None, embeddings: Artifact | None = None,
          align: bool = False, ks: Sequence[int] = (2, 4), yes: bool = False, max_settings: int = MAX_SETTINGS,
          save_dir: str | os.PathLike[str] | None = None, stem: str | None = None, force: bool = False,
          progress: bool = False, top_k: Any = None, min_count: Any = None,
          min_expected: Any = None, seed: Any = None, base: str = "binary",
          sparse: bool | None = None) -> SweepResult:
    """Graph measures for every setting of a parameter grid.

    Parameters
    ----------
    stats : Artifact
        The statistics artifact, read once for the whole grid.
    kind : str
        ``ks`` or a kind built from statistics (:data:`SWEEP_KINDS`); it sweeps over
        λ, τ, η (``ks``), τ (``binary``), τ and p, ``min_expected`` (``exclusive``),
        and ``top_k`` / ``min_count`` when given.
    knowledge : Artifact, optional
        The ``knowledge`` artifact (``A_K``); required for ``ks``.
    lam, tau, eta, p : str, float or sequence, optional
        Axis values: ``"0.2:0.8:0.1"``, ``"0.01,0.02"``, a number or a list
        (see :func:`parse_values`); unset axes take the kind's defaults (``ks``:
        the ``kssnet-coco`` preset).  For ``ks``, ``p`` and ``stat_tau`` are the
        single parameters of a binary/re-weighted statistical graph.
    stat_graph : {"probability", "binary", "reweighted"}
        ``A_S`` for ``ks`` (see :func:`~labelgraph.assemble.ks_artifact`).
    embeddings : Artifact, optional
        Label embeddings (kind ``embeddings``); adds ``oversmoothing_k{k}`` for ``k`` in ``ks``.
    align : bool
        Align the knowledge graph and the embeddings to the statistics' label order by name.
    yes : bool
        Allow more than ``max_settings`` settings.
    save_dir : path, optional
        Also save every setting's artifact there (file names carry the parameters).
    stem : str, optional
        File-name stem for saved artifacts (default: the statistics' dataset name).
    progress : bool
        Show a tqdm progress bar.
    min_expected : str, float or sequence, optional
        The ``exclusive`` kind's axis.
    sparse : bool, optional
        Build every setting sparse (True: CSR from ``M`` on, as ``build --sparse``; the
        spectral gap by ``spectral_gap(method="sparse")``, per connected component) or
        dense (False); by default sparse above ``SPARSE_ABOVE`` = 2,000 labels, as ``build``.
    top_k, min_count : str, int or sequence, optional
        Extra axes for kinds built from statistics (``--top-k``, ``--min-count``,
        SPEC §2.7–2.8); each setting is then built by ``build_graph``.

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> stats = Artifact.statistics(["a", "b", "c"], [10, 5, 4], [[0, 4, 3], [4, 0, 1], [3, 1, 0]], 12)
    >>> result = sweep(stats, "binary", tau="0.3:0.5:0.1")
    >>> [row["tau"] for row in result.rows]
    [0.3, 0.4, 0.5]
    >>> result.rows[0]["num_edges"] >= result.rows[-1]["num_edges"]
    True
    """
    if kind not in SWEEP_KINDS:
        raise ConfigError(f"unknown sweep kind {kind!r} (known: {', '.join(SWEEP_KINDS)})")
    if stats.kind != "statistics":
        raise ArtifactError(f"a sweep starts from a statistics artifact, got {stats.kind}")
    names = SWEEP_KINDS[kind]
    given = {"lam": lam, "tau": tau, "eta": eta, "p": p, "min_expected": min_expected, "seed": seed}
    fixed: dict[str, Any] = {}
    if kind == "ks":
        if knowledge is None:
            raise ConfigError("a ks sweep needs a knowledge graph: build one first with "
                              "`labelgraph build --kind knowledge ...` and pass it with --knowledge FILE")
        if knowledge.kind != "knowledge":
            raise ArtifactError(f"--knowledge must be a knowledge artifact, got {knowledge.kind}")
        defaults = PRESETS["kssnet-coco"].params
        fixed = {"stat_graph": stat_graph, "stat_tau": _single("stat_tau", stat_tau, 0.4),
                 "p": _single("p", p, 0.2)}
    else:
        for name in ("lam", "eta"):
            if given[name] is not None:
                raise ConfigError(f"{name} does not apply to a {kind} sweep (it sweeps over {', '.join(names)})")
        if stat_tau is not None:
            raise ConfigError(f"stat_tau does not apply to a {kind} sweep")
        if kind == "binary" and p is not None:
            raise ConfigError("p does not apply to a binary sweep (it sweeps over tau)")
        defaults = STATISTICAL_KINDS[kind].defaults
        needs = STATISTICAL_KINDS[kind].needs
        if needs == "embeddings" and embeddings is None:
            raise ConfigError(f"a {kind} sweep needs label embeddings: --embeddings FILE (from `labelgraph embed`)")
        if needs == "base":
            fixed = {"base": base}
        for name, value in given.items():
            if value is not None and name not in names:
                over = ", ".join(names) or "no parameter of its own"
                raise ConfigError(f"{name} does not apply to a {kind} sweep (it sweeps over {over})")
    limit = HARD_LIMIT if yes else max_settings
    axes = {name: _axis_values(kind, name, given[name], defaults[name], limit) for name in names}
    sparsify = {"top_k": top_k, "min_count": min_count}
    for name, value in sparsify.items():
        if value is not None:
            if kind == "ks":
                raise ConfigError(f"{name} applies to kinds built from statistics, not to a ks sweep")
            check = (lambda v: check_top_k(v, stats.num_labels)) if name == "top_k" else check_min_count
            axes[name] = tuple(check(v) for v in parse_values(value, name, limit=limit))
    names = tuple(axes)
    total = math.prod(len(v) for v in axes.values())
    if total > HARD_LIMIT:
        raise ConfigError(f"this sweep has {total:,} settings (at most {HARD_LIMIT:,}); sweep fewer values")
    if total > max_settings and not yes:
        raise ConfigError(f"this sweep has {total:,} settings (more than {max_settings:,}); "
                          "pass --yes (yes=True) to run it anyway")
    E = None
    if embeddings is not None:
        if embeddings.kind != "embeddings":
            raise ArtifactError(f"--embeddings must be an embeddings artifact, got {embeddings.kind}")
        E = align_to_labels(stats.labels, embeddings, align=align, what="embeddings").vectors.astype(np.float64)
    out_dir = None if save_dir is None else Path(save_dir)
    stem = stem or str(stats.meta.get("dataset") or "graph")
    settings = [dict(zip(names, combo)) for combo in itertools.product(*axes.values())]
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=f"sweep {kind}", unit="setting", disable=not progress)
    result = SweepResult(kind, names, [], fixed)
    try:
        if kind == "ks":
            _sweep_ks(stats, knowledge, axes, fixed, E, ks, align, out_dir, stem, force, result, bar,
                      sparse=use_sparse(stats.num_labels, sparse))
        else:
            _sweep_statistical(stats, kind, settings, E, ks, out_dir, stem, force, result, bar,
                               embeddings=embeddings, base=base, sparse=use_sparse(stats.num_labels, sparse))
    finally:
        bar.close()
    return result


def _sweep_ks(stats: Artifact, knowledge: Artifact, axes: Mapping[str, tuple[float, ...]],
              fixed: Mapping[str, Any], E: np.ndarray | None, ks: Sequence[int], align: bool,
              out_dir: Path | None, stem: str, force: bool, result: SweepResult, bar: Any, *,
              sparse: bool = False) -> None:
    aligned = knowledge.labels != stats.labels
    knowledge = align_to_labels(stats.labels, knowledge, align=align)
    A_S = statistical_adjacency(stats, fixed["stat_graph"], stat_tau=fixed["stat_tau"], p=fixed["p"],
                                sparse=sparse)
    A_K = sp.csr_matrix(knowledge.matrix, dtype=np.float64) if sparse else knowledge.matrix
    A_S_hat = symmetric_normalize(A_S)
    A_K_hat = symmetric_normalize(A_K)
    spectral = "sparse" if sparse else "auto"
    c = stats.num_labels
    empty = structure_measures(sp.identity(c, format="csr"))
    for lam in axes["lam"]:
        A = blend(A_S_hat, A_K_hat, lam)
        for tau in axes["tau"]:
            A_tau = threshold(A, tau)
            shared: dict[str, Any] | None = None
            for eta in axes["eta"]:
                A_KS_hat = symmetric_normalize(self_weight(A_tau, eta))
                # For 0 < η < 1 every label keeps a self loop, so the edges of Â_KS are those of A_τ.
                if eta == 0.0:
                    structure: dict[str, Any] | None = empty
                elif eta < 1.0:
                    structure = shared = shared or structure_measures(A_tau)
                else:
                    structure = None
                row = graph_measures(A_KS_hat, E, ks, structure=structure, spectral=spectral)
                params = {"lam": lam, "tau": tau, "eta": eta}
                if out_dir is not None:
                    meta = ks_meta(stats, knowledge, params, fixed["stat_graph"], fixed["stat_tau"],
                                   fixed["p"], aligned, False)
                    art = Artifact.graph("ks", stats.labels, A_KS_hat, meta)
                    variant = ks_variant(fixed["stat_graph"], fixed["stat_tau"], fixed["p"])
                    result.saved.append(art.save(out_dir / graph_filename(stem, "ks", params, variant=variant),
                                                 force=force))
                result.rows.append({**params, **row})
                bar.update(1)


def _sweep_statistical(stats: Artifact, kind: str, settings: list[dict[str, float]], E: np.ndarray | None,
                       ks: Sequence[int], out_dir: Path | None, stem: str, force: bool,
                       result: SweepResult, bar: Any, *, embeddings: Artifact | None = None,
                       base: str = "binary", sparse: bool = False) -> None:
    spec = STATISTICAL_KINDS[kind]
    P = (conditional_probability(stats.matrix, stats.n, labels=stats.labels, sparse=sparse)
         if spec.compute is not None else None)
    inputs = {"embeddings": embeddings} if spec.needs == "embeddings" else {"base": base} if spec.needs == "base" \
        else {}
    name = f"{kind}-{base}" if spec.needs == "base" else kind  # as `labelgraph build` names it
    for params in settings:
        art = None
        if spec.compute is None or any(axis in params for axis in SPARSIFY_AXES):
            art = build_graph(stats, kind, **inputs, **params, sparse=sparse)
            matrix = art.matrix
        else:
            _, matrix = spec.compute(P, stats.matrix, stats.n, **params)
        row = graph_measures(matrix, E, ks, spectral="sparse" if sparse else "auto")
        if out_dir is not None:
            art = art or build_graph(stats, kind, **inputs, **params, sparse=sparse)
            result.saved.append(art.save(out_dir / graph_filename(stem, name, params), force=force))
        result.rows.append({**params, **row})
        bar.update(1)
