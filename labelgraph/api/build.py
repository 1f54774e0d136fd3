"""``labelgraph build`` and ``labelgraph stats`` as Python calls: statistics → graph artifacts on disk.

Examples
--------
>>> import tempfile
>>> from labelgraph.api.build import Source, build_outputs
>>> with tempfile.TemporaryDirectory() as out:
...     result = build_outputs(["binary"], Source("voc"), out=out)
>>> [(g["kind"], g["num_labels"], g["status"]) for g in result.graphs]
[('binary', 20, 'new')]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..errors import ConfigError

__all__ = ["DEFAULT_KINDS", "Source", "BuildResult", "build_outputs", "write_statistics", "parse_kinds",
           "parse_multipliers", "file_kind", "modifiers", "output_target"]

#: What ``labelgraph build`` writes without ``--kind``.
DEFAULT_KINDS: tuple[str, ...] = ("probability", "binary", "reweighted", "mlgcn")


@dataclass(frozen=True)
class Source:
    """Where the statistics come from (see :func:`labelgraph.statistics_sources.resolve_statistics`).

    ``options`` are the dataset reader's options (``year``, ``order``, ``labels``, ``column`` …);
    one the reader does not take is refused, named as its CLI flag. ``engine``, ``workers``,
    ``scheduler``, ``timeout`` and ``chunk_size`` say how annotations are counted
    (:func:`labelgraph.engines.map_reduce`; ``workers > 1`` alone means a process pool).

    Examples
    --------
    >>> Source("voc").resolve().origin
    'bundled'
    """

    dataset: str | None = None
    stats: str | Path | None = None
    root: str | Path | None = None
    annotations: str | Path | None = None
    split: str | None = None
    download: bool = False
    progress: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)
    engine: str | None = None
    workers: int | None = None
    scheduler: str | None = None
    chunk_size: int | None = None
    timeout: float = 10.0

    def resolve(self) -> Any:
        """The :class:`~labelgraph.statistics_sources.StatisticsSource` (statistics, description, origin).

        Examples
        --------
        >>> Source("voc").resolve().stats.num_labels
        20
        """
        from ..statistics_sources import resolve_statistics

        given = {k: v for k, v in self.options.items() if v is not None}
        if given and self.dataset is not None and (self.root or self.annotations or self.download):
            from ..datasets import get_reader

            unknown = [k for k in given if k not in get_reader(self.dataset).options]
            if unknown:
                flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
                raise ConfigError(f"{flags} does not apply to dataset {self.dataset!r}")
        return resolve_statistics(self.dataset, stats=self.stats, root=self.root, annotations=self.annotations,
                                  split=self.split, download=self.download, progress=self.progress,
                                  reader_options=given, engine=self.engine, workers=self.workers,
                                  scheduler=self.scheduler, chunk_size=self.chunk_size, timeout=self.timeout)


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build_outputs` wrote: one row per graph, and the statistics file.

    ``statistics`` is the statistics file written (or the one given, then ``statistics_status`` is None).
    """

    source: str
    origin: str
    statistics: str | None
    statistics_status: str | None
    graphs: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """The result as ``labelgraph build --json`` prints it.

        Examples
        --------
        >>> BuildResult("bundled voc2007", "bundled", "g/voc2007_statistics.npz", "new", []).to_dict()["origin"]
        'bundled'
        """
        return {"source": self.source, "origin": self.origin, "statistics": self.statistics,
                "statistics_status": self.statistics_status, "graphs": self.graphs}


def parse_kinds(kinds: str | Iterable[str]) -> list[str]:
    """Kind names from ``"a,b"`` or a list, each checked against the graph-kind registry.

    Examples
    --------
    >>> parse_kinds("binary, ks")
    ['binary', 'ks']
    >>> parse_kinds("binray")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: unknown --kind binray (known: probability, binary, ...)
    """
    from ..graphs import GRAPH_KINDS

    text = kinds if isinstance(kinds, str) else ",".join(kinds)
    names = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in names if k not in GRAPH_KINDS]
    if unknown or not names:
        raise ConfigError(f"unknown --kind {', '.join(unknown) or repr(text)} (known: {', '.join(GRAPH_KINDS)})")
    return names


def parse_multipliers(values: Iterable[str]) -> dict[str, float]:
    """``RELATION=WEIGHT`` strings (``--multiplier``) as a mapping.

    Examples
    --------
    >>> parse_multipliers(["IsA=2", "PartOf=0.5"])
    {'IsA': 2.0, 'PartOf': 0.5}
    >>> parse_multipliers(["IsA"])
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --multiplier 'IsA': expected RELATION=WEIGHT, e.g. IsA=2.0
    """
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


def modifiers(min_count: int | None, top_k: int | None) -> dict[str, float]:
    """``min_count`` and ``top_k`` as file-name parameters (``_m3_k10``), only when given.

    Examples
    --------
    >>> modifiers(3, None), modifiers(None, 10)
    ({'m': 3}, {'k': 10})
    """
    return {k: v for k, v in (("m", min_count), ("k", top_k)) if v is not None}


def file_kind(kind: str, base: str = "binary", symmetrize: str = "none") -> str:
    """The kind part of a file name: ``shuffled-binary`` for a baseline of a base, ``ppmi-max`` when symmetrized.

    Examples
    --------
    >>> file_kind("shuffled", "binary"), file_kind("ppmi", symmetrize="max"), file_kind("ks")
    ('shuffled-binary', 'ppmi-max', 'ks')
    """
    from ..graphs import STATISTICAL_KINDS

    spec = STATISTICAL_KINDS.get(kind)
    name = f"{kind}-{base}" if spec is not None and spec.needs == "base" else kind
    return name if symmetrize == "none" else f"{name}-{symmetrize}"


def output_target(out: str | Path, name: str | None, stats: Any, dataset: str | None = None) -> tuple[Path, str]:
    """The output folder (checked: not a file) and the file-name stem (checked: no folder part).

    Examples
    --------
    >>> import labelgraph
    >>> folder, stem = output_target("graphs", None, labelgraph.load(labelgraph.bundled_path("voc")))
    >>> stem
    'voc2007'
    """
    from ..files import check_stem
    from ..statistics_sources import output_stem

    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir}: is a file; --out needs a folder")
    return out_dir, check_stem(name) if name is not None else output_stem(stats, dataset)


def build_outputs(kinds: str | Sequence[str], source: Source, *, out: str | Path = "graphs",
                  name: str | None = None, force: bool = False, tau: float | None = None, p: float | None = None,
                  raw: bool = False, store: str | Path | None = None, relations: Sequence[str] | None = None,
                  multipliers: Mapping[str, float] | None = None, directed: bool = False,
                  overrides: str | Path | None = None, knowledge: str | Path | None = None,
                  lam: float | None = None, eta: float | None = None, stat_graph: str = "probability",
                  preset: str | None = None, align: bool = False, min_count: int | None = None,
                  top_k: int | None = None, symmetrize: str = "none", embeddings: str | Path | None = None,
                  min_expected: float | None = None, base: str = "binary", seed: int | None = None,
                  sparse: bool | None = None) -> BuildResult:
    """Build every graph of ``kinds`` from ``source``'s statistics and save them (all or none) in ``out``.

    The statistics are saved beside the graphs unless they came from a statistics
    file. Every graph is built before anything is written; an existing file whose
    content would change needs ``force``.

    Parameters
    ----------
    kinds : kind names (``"binary,ks"`` or a list), see ``labelgraph.graphs.GRAPH_KINDS``
    source : where the statistics come from
    out, name, force : output folder, file-name stem (default: the dataset tag), overwrite
    tau, p, lam, eta, min_expected, seed : kind parameters (None: each kind's default)
    raw : save the un-normalized matrix
    store, relations, multipliers, directed, overrides : ConceptNet (knowledge, ks)
    knowledge : a knowledge artifact for ks instead of the store
    stat_graph, preset, align : ks's A_S, parameter preset, label alignment
    min_count, top_k, symmetrize : sparsification (SPEC §2.7–2.8)
    embeddings : label embeddings file (cosine)
    base : the graph ``shuffled`` permutes and ``random`` matches
    sparse : build sparse (True) or dense (False); None: sparse above 2,000 labels

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     r = build_outputs("binary,reweighted", Source("voc"), out=out, tau=0.3)
    >>> [(g["kind"], g["params"]) for g in r.graphs]
    [('binary', 'tau=0.3'), ('reweighted', 'tau=0.3 p=0.2')]
    """
    from ..artifact import save_artifacts
    from ..files import check_stem
    from ..assemble import STATISTICAL_KINDS, build_graph, graph_filename, ks_variant
    from ..graphs.measures import structure_measures

    names = parse_kinds(kinds)
    if name is not None:
        check_stem(name)
    src = source.resolve()
    stats = src.stats
    out_dir, stem = output_target(out, name, stats, source.dataset)

    def knowledge_graph() -> Any:
        from ..conceptnet import knowledge_artifact

        return knowledge_artifact(stats.labels, store=store, relations=list(relations) if relations else None,
                                  multipliers=dict(multipliers or {}), directed=directed, overrides=overrides,
                                  dataset=source.dataset)

    plans: list[tuple[str, dict[str, float], Callable[[], Any]]] = []
    for k in names:
        if k in STATISTICAL_KINDS:
            spec = STATISTICAL_KINDS[k]
            given = {"tau": tau, "p": p, "min_expected": min_expected, "seed": seed}
            params = {n: (given[n] if given[n] is not None else spec.defaults[n]) for n in spec.params}
            options = dict(min_count=min_count, top_k=top_k, symmetrize=symmetrize, base=base, sparse=sparse,
                           embeddings=_embeddings(embeddings) if spec.needs == "embeddings" else None)
            plans.append((k, params, lambda k=k, options=options: build_graph(stats, k, raw=raw, **options,
                                                                               **given)))
        elif min_count is not None:
            raise ConfigError(f"--min-count applies to kinds built from statistics, not {k}")
        elif k == "knowledge":
            plans.append((k, {}, lambda: _sparsified(knowledge_graph(), top_k, symmetrize, normalize=False)))
        else:
            from ..assemble import ks_artifact
            from ..graphs.ks import ks_params

            default = "kssnet-charades" if source.dataset == "charades" else None
            params = ks_params(preset or default, lam=lam, tau=tau, eta=eta)

            def make(params: dict[str, float] = params) -> Any:
                if knowledge:
                    from ..artifact import load

                    know = load(knowledge)
                else:
                    know = knowledge_graph()
                if top_k is None and symmetrize == "none":
                    return ks_artifact(stats, know, stat_graph=stat_graph, align=align, raw=raw, sparse=sparse,
                                       **params)
                A_KS = ks_artifact(stats, know, stat_graph=stat_graph, align=align, raw=True, sparse=sparse, **params)
                return _sparsified(A_KS, top_k, symmetrize, normalize=not raw)

            plans.append((k, params, make))

    stats_path = out_dir / f"{stem}_statistics.npz"
    targets = [out_dir / graph_filename(stem, file_kind(k, base, symmetrize),
                                        {**params, **modifiers(min_count, top_k)}, raw=raw,
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
                     "num_labels": art.num_labels, "num_samples": stats.num_samples, "num_edges": m["num_edges"],
                     "density": round(m["density"], 4), "isolated": m["isolated"], "max_degree": m["max_degree"],
                     "path": str(path), "status": status[path]})
    return BuildResult(src.description, src.origin,
                       str(stats_path) if write_stats else (None if source.stats is None else str(source.stats)),
                       status[stats_path] if write_stats else None, rows)


def write_statistics(source: Source, *, out: str | Path = "graphs", name: str | None = None,
                     force: bool = False) -> dict[str, Any]:
    """Save ``source``'s statistics as ``<out>/<stem>_statistics.npz``; a summary of what was written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     info = write_statistics(Source("voc"), out=out)
    >>> info["num_labels"], info["num_samples"], info["status"]
    (20, 5011, 'new')
    """
    from ..artifact import save_artifacts
    from ..files import check_stem

    if name is not None:
        check_stem(name)
    src = source.resolve()
    art = src.stats
    out_dir, stem = output_target(out, name, art, source.dataset)
    path = out_dir / f"{stem}_statistics.npz"
    [(_, status)] = save_artifacts([(art, path)], force=force)
    return {"source": src.description, "path": str(path), "status": status, "num_labels": art.num_labels,
            "num_samples": art.num_samples, "label_instances": int(art.n.sum()),
            "cooccurring_pairs": int(art.matrix.nnz // 2), "content_hash": art.content_hash}


def _embeddings(path: str | Path | None) -> Any:
    from ..artifact import load

    if path is None:
        raise ConfigError("--kind cosine needs label embeddings: --embeddings FILE (from `labelgraph embed`)")
    return load(path)


def _sparsified(art: Any, top_k: int | None, symmetrize: str, *, normalize: bool) -> Any:
    """``top_k`` / ``symmetrize`` on a knowledge graph or on ks's A_KS (then normalized)."""
    if top_k is None and symmetrize == "none":
        return art
    from ..assemble import sparsify_graph

    return sparsify_graph(art, top_k=top_k, symmetrize=symmetrize, normalize=normalize)
