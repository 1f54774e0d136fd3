"""The training loop: optimizer and schedule presets, AMP, channels_last, compile, accumulation, EMA,
per-epoch evaluation with ML-GCN's metrics, a JSONL log and atomic checkpoints.

:func:`fit` runs a :class:`~labelgraph.train.config.TrainConfig`; :func:`evaluate_checkpoint`
scores a saved run on a split.  Graph and embeddings are read only through
:func:`labelgraph.load`.  Under ``torchrun`` the same code runs DDP; rank 0 writes.
"""
from __future__ import annotations

import contextlib
import copy
import inspect
import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._atomic import atomic_write
from ..artifact import require_same_labels
from ..errors import ConfigError, DataError, LabelGraphError
from .checkpoint import load_checkpoint, remove_stale_temporaries, rng_state, save_checkpoint, set_rng_state
from .config import TrainConfig
from .data import batch_to_device, load_split, make_dataset, make_loader, split_validation
from .distributed import DistContext, all_reduce_sum, barrier, gather_rows, init_distributed, shutdown
from .global_state import run_settings
from .losses import BCELoss, difficult_targets, make_loss
from .metrics import multilabel_metrics
from .preflight import check_run, load_label_inputs, resolve_splits
from .models import FeatureBackbone, build_backbone, build_model
from .registry import model_class

__all__ = ["fit", "evaluate_checkpoint", "EvalResult", "load_label_inputs", "autocast_dtype",
           "cpu_has_native_bf16", "make_optimizer", "make_scheduler", "ModelEMA", "maybe_compile",
           "clip_gradients", "metric_mask"]

log = logging.getLogger(__name__)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU has bfloat16 instructions (AVX512-BF16 or AMX); Linux only, else False.

    ``--amp bf16`` runs on a CPU only when this is true.

    Examples
    --------
    >>> try:
    ...     bf16_on_cpu = autocast_dtype("bf16", torch.device("cpu")) == torch.bfloat16
    ... except ConfigError:
    ...     bf16_on_cpu = False
    >>> bf16_on_cpu == cpu_has_native_bf16()
    True
    """
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            flags = set(handle.read().split())
    except OSError:
        return False
    return bool({"avx512_bf16", "amx_bf16"} & flags)


def autocast_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``--amp`` on ``device``; a :class:`ConfigError` when it cannot run there.

    Examples
    --------
    >>> autocast_dtype("off", torch.device("cpu")) is None
    True
    """
    if amp == "off":
        return None
    if amp == "bf16":
        if device.type == "cuda":
            if not torch.cuda.is_bf16_supported():
                raise ConfigError(f"--amp bf16: {torch.cuda.get_device_name(device)} has no bfloat16 support; "
                                  "use --amp fp16 or --amp off")
        elif device.type != "cpu" or not cpu_has_native_bf16():
            raise ConfigError(f"--amp bf16: device {device.type} has no native bfloat16 support "
                              "(CPU needs AVX512-BF16 or AMX); use --amp off")
        return torch.bfloat16
    if amp == "fp16":
        if device.type != "cuda":
            raise ConfigError(f"--amp fp16 needs a CUDA device (and its gradient scaler); this run is on "
                              f"{device.type}: use --amp off")
        return torch.float16
    raise ConfigError(f"--amp must be off, bf16 or fp16 (got {amp!r})")


# -- model ----------------------------------------------------------------------------------------
def _build(cfg: TrainConfig, adjacency: torch.Tensor, embeddings: torch.Tensor,
           feature_dim: int | None = None, feature_stats: tuple[np.ndarray, np.ndarray] | None = None,
           pretrained: bool | None = None) -> nn.Module:
    if cfg.backbone == "features":
        if not feature_dim:
            raise ConfigError("the 'features' backbone needs a dataset of feature vectors (e.g. --dataset mulan)")
        mean, std = (None, None) if feature_stats is None else (torch.from_numpy(feature_stats[0]),
                                                                 torch.from_numpy(feature_stats[1]))
        backbone: nn.Module = FeatureBackbone(feature_dim, mean, std)
    else:
        use_weights = cfg.pretrained if pretrained is None else pretrained
        backbone = build_backbone(cfg.backbone, weights=cfg.weights if use_weights else "none")
    options: dict[str, Any] = {"pool": cfg.pool, "dropout": cfg.dropout if cfg.dropout > 0 else None}
    if "hidden" in inspect.signature(model_class(cfg.model)).parameters:
        options["hidden"] = cfg.hidden
    return build_model(cfg.model, backbone, adjacency, embeddings, **options)


class _HeadOnly(nn.Module):
    """Forward = the ML-GCN head on cached features (what DDP wraps in the frozen-backbone mode)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        return self.model.classify(feature)


def make_optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """SGD (momentum) or Adam with two learning rates: the head at ``lr``, the backbone at
    ``lr × backbone_lr_mult``; with ``no_bias_decay`` biases and norms get no weight decay.

    Frozen parameters are left out; a model with nothing to train is a :class:`ConfigError`.

    Examples
    --------
    >>> from labelgraph.train.models import build_backbone, build_model
    >>> model = build_model("mlgcn", build_backbone("resnet18"), torch.eye(2), torch.zeros(2, 3), hidden=8)
    >>> opt = make_optimizer(TrainConfig(lr=0.5, backbone_lr_mult=0.5, no_bias_decay=True), model)
    >>> type(opt).__name__, [(g["name"], g["lr"], g["weight_decay"]) for g in opt.param_groups]
    ('SGD', [('head', 0.5, 0.0001), ('backbone', 0.25, 0.0001), ('backbone-nodecay', 0.25, 0.0)])
    """
    head_ids = {id(p) for m in model.head_modules() for p in m.parameters()}
    groups: dict[tuple[str, bool], list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        part = "head" if id(p) in head_ids else "backbone"
        no_decay = cfg.no_bias_decay and p.ndim <= 1
        groups.setdefault((part, no_decay), []).append(p)
    if not groups:
        raise ConfigError("nothing to train: every parameter is frozen")
    params = [{"params": ps, "lr": cfg.lr * (1.0 if part == "head" else cfg.backbone_lr_mult),
               "weight_decay": 0.0 if no_decay else cfg.weight_decay, "name": f"{part}{'-nodecay' * no_decay}"}
              for (part, no_decay), ps in sorted(groups.items(), key=lambda kv: (kv[0][0] != "head", kv[0][1]))]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    return torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.momentum, 0.999), weight_decay=cfg.weight_decay)


def lr_factor(cfg: TrainConfig, epoch: int) -> float:
    """The schedule's multiplier of the base rates in ``epoch`` (0-based).

    Examples
    --------
    >>> cfg = TrainConfig(schedule="step", lr_steps=(30,), gamma=0.1, epochs=40)
    >>> lr_factor(cfg, 29), round(lr_factor(cfg, 30), 6)
    (1.0, 0.1)
    >>> lr_factor(TrainConfig(schedule="cosine", epochs=4), 2)
    0.5
    """
    if cfg.schedule == "step":
        return cfg.gamma ** sum(1 for s in cfg.lr_steps if epoch >= s)
    if cfg.schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * epoch / cfg.epochs))
    return 1.0


def make_scheduler(cfg: TrainConfig, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-epoch :class:`LambdaLR` following :func:`lr_factor`.

    Examples
    --------
    >>> opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    >>> sched = make_scheduler(TrainConfig(schedule="step", lr_steps=(2, 3), gamma=0.5, epochs=4), opt)
    >>> rates = []
    >>> for epoch in range(4):
    ...     rates.append(opt.param_groups[0]["lr"])
    ...     opt.step()
    ...     sched.step()
    >>> rates
    [1.0, 1.0, 0.5, 0.25]
    """
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: lr_factor(cfg, epoch))


class ModelEMA:
    """An exponential moving average of a model's weights (buffers copied), used for evaluation.

    ``update`` is ``e ← decay · e + (1 − decay) · p`` over every parameter, as one
    ``torch._foreach_lerp_`` over the parameter lists (a few kernel launches, not two per tensor).

    Examples
    --------
    >>> model = nn.Linear(1, 1, bias=False)
    >>> _ = model.weight.data.fill_(1.0)
    >>> ema = ModelEMA(model, decay=0.75)
    >>> _ = model.weight.data.fill_(5.0)
    >>> ema.update(model)
    >>> ema.module.weight.item()   # 0.75 · 1 + 0.25 · 5
    2.0
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self._params = list(self.module.parameters())
        self._buffers = list(self.module.buffers())

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        params = [p.detach() for p in model.parameters()]
        if self._params:
            torch._foreach_lerp_(self._params, params, 1.0 - self.decay)
        buffers = list(model.buffers())
        if self._buffers:
            torch._foreach_copy_(self._buffers, buffers)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.module.load_state_dict(state)


def _compile_error(exc: BaseException) -> str:
    """``Type: first line`` of the error that made compiling fail (dynamo wraps a backend's own error)."""
    outer = type(exc).__name__
    while getattr(exc, "inner_exception", None) is not None or exc.__cause__ is not None:
        exc = getattr(exc, "inner_exception", None) or exc.__cause__
    text = str(exc).strip()
    inner = f"{type(exc).__name__}: {text.splitlines()[0][:200]}" if text else type(exc).__name__
    return inner if outer == type(exc).__name__ else f"{outer}: {inner}"


class _Compiled:
    """``torch.compile``'s module that falls back to eager, once and with one warning, when a call
    fails: the first one, or a later one that recompiles (a new input shape, a new dtype)."""

    def __init__(self, compiled: Callable, eager: nn.Module) -> None:
        self.compiled, self.eager, self.failed = compiled, eager, False

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.failed:
            return self.eager(x)
        try:
            return self.compiled(x)
        except Exception as exc:  # inductor / dynamo errors have no common base class
            log.warning("--compile failed (%s); continuing in eager mode", _compile_error(exc))
            self.failed = True
            return self.eager(x)


def maybe_compile(module: nn.Module, enabled: bool, backend: str = "inductor") -> Callable:
    """``torch.compile(module)`` when ``enabled``; on failure (now or at any later call, e.g. a
    recompile) one warning and eager from then on.

    Examples
    --------
    >>> m = nn.Linear(2, 1)
    >>> maybe_compile(m, enabled=False) is m
    True
    >>> maybe_compile(m, enabled=True, backend="no-such-backend") is m   # cannot compile: eager, with a warning
    True
    """
    if not enabled:
        return module
    try:
        compiled = torch.compile(module, backend=backend)
    except Exception as exc:
        log.warning("--compile failed (%s); continuing in eager mode", _compile_error(exc))
        return module
    return _Compiled(compiled, module)


# -- one epoch ------------------------------------------------------------------------------------
def _worker_error(exc: BaseException) -> BaseException:
    """A DataLoader worker's exception re-raised in the main process carries the worker's traceback
    in its message; keep only the error's own line (and its class)."""
    text = str(exc)
    if "Original Traceback" not in text:
        return exc
    last = text.strip().splitlines()[-1]
    message = last.split(": ", 1)[1] if ": " in last else last
    return type(exc)(message) if isinstance(exc, LabelGraphError) else DataError(message)


def _batches(loader: Any):
    """Iterate ``loader``, turning worker-wrapped errors into one-line library errors."""
    iterator = iter(loader)
    while True:
        try:
            batch = next(iterator)
        except StopIteration:
            return
        except Exception as exc:
            err = _worker_error(exc)
            if err is exc:
                raise
            raise err from None
        yield batch


@dataclass
class _Setup:
    cfg: TrainConfig
    ctx: DistContext
    model: nn.Module
    labels: tuple[str, ...]
    amp_dtype: torch.dtype | None
    channels_last: bool
    progress: bool
    extra: dict[str, Any] = field(default_factory=dict)


def metric_mask(cfg: TrainConfig, data: Any) -> np.ndarray | None:
    """The (N, C) entries the metrics leave out: the split's difficult marks, unless
    ``--difficult negative`` counts them as plain negatives.

    Examples
    --------
    >>> from labelgraph.train.data import SplitData
    >>> data = SplitData("features", ("a",), np.zeros((2, 1), np.float32), ["s0", "s1"],
    ...                  mask=np.array([[True], [False]]))
    >>> metric_mask(TrainConfig(), data).tolist(), metric_mask(TrainConfig(difficult="negative"), data)
    ([[True], [False]], None)
    """
    mask = getattr(data, "mask", None)
    return None if mask is None or cfg.difficult == "negative" else mask


def clip_gradients(optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler, max_norm: float) -> float:
    """Unscale (fp16) and clip the gradients of ``optimizer``'s parameters to total norm ``max_norm``
    (``--clip-grad-norm``); returns the norm before clipping.

    Examples
    --------
    >>> w = nn.Parameter(torch.zeros(2))
    >>> opt = torch.optim.SGD([w], lr=1.0)
    >>> (w * torch.tensor([300.0, 400.0])).sum().backward()
    >>> norm = clip_gradients(opt, torch.amp.GradScaler("cpu", enabled=False), 10.0)
    >>> norm, [round(g, 4) for g in w.grad.tolist()]   # clip_grad_norm_ adds 1e-6 to the norm it divides by
    (500.0, [6.0, 8.0])
    """
    scaler.unscale_(optimizer)
    params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    return float(torch.nn.utils.clip_grad_norm_(params, max_norm))


def _run_eval(setup: _Setup, forward: Callable, loader: torch.utils.data.DataLoader,
              num_labels: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """Scores, targets (gathered over ranks, in dataset order, padding removed) and mean loss.

    The loss is BCE whatever ``--loss`` trains with (so runs compare), averaged over the
    entries the metrics count (``mask`` true = left out)."""
    device = setup.ctx.device
    scores, targets, indices = [], [], []
    with torch.inference_mode():
        for x, y, idx in _batches(loader):
            x = batch_to_device(x, device, setup.channels_last)
            with torch.autocast(device.type, dtype=setup.amp_dtype or torch.float32,
                                enabled=setup.amp_dtype is not None):
                logits = forward(x)
            scores.append(logits.float())   # kept on the device: one copy (one wait) at the end
            targets.append(y.float())
            indices.append(idx.long())
    s = torch.cat(scores).cpu() if scores else torch.zeros(0, num_labels)
    t = torch.cat(targets) if targets else torch.zeros(0, num_labels)
    i = torch.cat(indices) if indices else torch.zeros(0, dtype=torch.long)
    s, t, i = (gather_rows(a, setup.ctx) for a in (s, t, i))
    uniq, first = np.unique(i.numpy(), return_index=True)   # DistributedSampler pads with repeats
    s, t = s[first], t[first]
    per_entry = F.binary_cross_entropy_with_logits(s, t, reduction="none")
    if mask is not None and mask.shape == tuple(per_entry.shape):
        per_entry = per_entry[~torch.from_numpy(np.asarray(mask, dtype=bool))]
    loss = float(per_entry.mean()) if per_entry.numel() else float("nan")
    return s.numpy(), t.numpy(), loss


def _train_epoch(setup: _Setup, forward: Callable, ddp_module: nn.Module | None, loader, optimizer, scaler,
                 ema: ModelEMA | None, epoch: int) -> tuple[float, float, int]:
    from tqdm.auto import tqdm

    cfg, device = setup.cfg, setup.ctx.device
    setup.model.train()
    if cfg.freeze_backbone:
        setup.model.backbone.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)   # read every cfg.log_every steps only
    n_batches = len(loader)
    seen = 0
    start = time.perf_counter()
    bar = tqdm(total=n_batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch", leave=False,
               disable=not (setup.progress and setup.ctx.is_main), dynamic_ncols=True)
    optimizer.zero_grad(set_to_none=True)
    criterion = setup.extra.get("loss") or BCELoss()
    train_mask = setup.extra.get("train_mask")
    for step, (x, y, idx) in enumerate(_batches(loader)):
        x = batch_to_device(x, device, setup.channels_last)
        y = y.to(device, non_blocking=True).float()
        rows = None if train_mask is None else train_mask[torch.as_tensor(idx, device=train_mask.device)]
        y, weight = difficult_targets(y, rows, cfg.difficult)
        boundary = (step + 1) % cfg.accumulate == 0 or step + 1 == n_batches
        sync = contextlib.nullcontext() if (boundary or ddp_module is None) else ddp_module.no_sync()
        with sync:
            with torch.autocast(device.type, dtype=setup.amp_dtype or torch.float32,
                                enabled=setup.amp_dtype is not None):
                logits = forward(x)
            loss = criterion(logits.float(), y, weight)
            scaler.scale(loss / cfg.accumulate).backward()
        if boundary:
            if cfg.clip_grad_norm:
                clip_gradients(optimizer, scaler, cfg.clip_grad_norm)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
            if ema is not None:
                ema.update(setup.model)
        batch = int(y.shape[0])
        loss_sum += loss.detach().double() * batch
        seen += batch
        if (step + 1) % cfg.log_every == 0:
            elapsed = max(time.perf_counter() - start, 1e-9)
            running = float(loss_sum) / seen
            bar.set_postfix(loss=f"{running:.4f}", img_s=f"{seen * setup.ctx.world_size / elapsed:.1f}")
            log.debug("epoch %d step %d/%d: mean loss %.4f", epoch + 1, step + 1, n_batches, running)
        bar.update(1)
    bar.close()
    total = torch.stack([loss_sum.cpu(), torch.tensor(float(seen), dtype=torch.float64)])
    elapsed = time.perf_counter() - start   # after the loss's copy: the device has finished the epoch
    total = all_reduce_sum(total, setup.ctx)
    images = int(total[1].item())
    return float(total[0] / max(total[1], 1)), images / max(elapsed, 1e-9), images


# -- fit ------------------------------------------------------------------------------------------
def _check_resume_compatible(state: dict[str, Any], cfg: TrainConfig, labels: Sequence[str],
                             model: nn.Module, out: Path) -> None:
    old = state["config"]
    keys = ("model", "backbone", "dataset", "hidden") + (("val_fraction",) if "split" in state else ())
    for key in keys:
        if old.get(key) != getattr(cfg, key):
            raise ConfigError(f"{out}: --resume with --{key.replace('_', '-')} {getattr(cfg, key)!r}, but the run "
                              f"was started with {old.get(key)!r}")
    if list(state["labels"]) != list(labels):
        require_same_labels(labels, state["labels"], "dataset", f"checkpoint {out / 'last.pt'}")
    _check_shapes(state["model"], model, out / "last.pt")


def _check_shapes(saved: dict[str, torch.Tensor], model: nn.Module, where: Path) -> None:
    current = model.state_dict()
    if "embeddings" in saved and saved["embeddings"].shape != current["embeddings"].shape:
        raise ConfigError(f"embeddings of {current['embeddings'].shape[1]} dimensions do not fit the model in "
                          f"{where}, trained with {saved['embeddings'].shape[1]}-dimensional embeddings")
    for key, value in saved.items():
        if key in current and current[key].shape != value.shape:
            raise ConfigError(f"{where}: {key} has shape {tuple(value.shape)}, the model built from these options "
                              f"expects {tuple(current[key].shape)}")


def fit(cfg: TrainConfig, *, progress: bool = False,
        on_epoch_end: Callable[[int, dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Train ``cfg``; returns the last epoch's log record (plus ``best_mAP`` and the run folder).

    Writes, in ``cfg.out`` (rank 0 only): ``config.json``, ``log.jsonl`` (one line an
    epoch: losses, metrics, learning rates, time, images/s), ``last.pt`` every epoch
    and ``best.pt`` whenever validation mAP improves.  Validation is the held-out
    ``val_fraction`` of the training split; the test split is scored once, at the end,
    with ``best.pt`` (``metrics.json``, and ``test`` in the returned record).  The random
    states and torch's backend flags it sets are restored when it returns
    (:func:`~.global_state.run_settings`).

    Examples
    --------
    Two epochs of ML-GCN on a tiny MULAN set (2 features, 2 labels, 8 samples) on CPU:

    >>> import labelgraph
    >>> _ = (tmp / "toy.xml").write_text('<labels xmlns="http://mulan.sourceforge.net/labels">'
    ...                                  '<label name="a"/><label name="b"/></labels>')
    >>> head = "@relation toy\\n@attribute x numeric\\n@attribute y numeric\\n@attribute a {0,1}\\n@attribute b {0,1}\\n"
    >>> for split in ("train", "test"):
    ...     _ = (tmp / f"toy-{split}.arff").write_text(head + "@data\\n" + "0,0,1,0\\n1,0,1,0\\n0,1,0,1\\n1,1,0,1\\n" * 2)
    >>> g = labelgraph.Artifact.graph("binary", ["a", "b"], [[1, 0], [0, 1]]).save(tmp / "g.npz")
    >>> e = labelgraph.Artifact.embeddings(["a", "b"], [[1.0, 0.0], [0.0, 1.0]]).save(tmp / "e.npz")
    >>> cfg = TrainConfig(dataset="mulan", annotations=str(tmp / "toy"), backbone="features", graph=str(g),
    ...                   embeddings=str(e), hidden=4, epochs=2, batch_size=4, workers=0, device="cpu",
    ...                   out=str(tmp / "run"))
    >>> record = fit(cfg)
    >>> # 8 samples: 1 held out for validation; of the 7 left one full batch of 4 trains (drop_last)
    >>> record["epoch"], record["train_images"], record["val_images"], 0.0 <= record["best_mAP"] <= 1.0
    (2, 4, 1, True)
    >>> record["test"]["split"], record["test"]["samples"], record["test"]["checkpoint"]   # scored once, at the end
    ('test', 8, 'best.pt')
    >>> sorted(p.name for p in (tmp / "run").iterdir())
    ['best.pt', 'config.json', 'last.pt', 'log.jsonl', 'metrics.json']
    >>> len((tmp / "run" / "log.jsonl").read_text().splitlines())   # one line an epoch
    2
    >>> fit(cfg)   # the folder holds a run now
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: ...run: already holds a run (last.pt); use --resume to continue it or another --out
    """
    check_run(cfg)
    ctx = init_distributed(cfg.device)
    try:
        with run_settings(cfg, ctx.device):
            run = _set_up(cfg, ctx, progress)
            if cfg.resume:
                _resume(run)
            _wrap_for_training(run)
            _prepare_run_folder(run)
            return _epoch_loop(run, on_epoch_end)
    finally:
        shutdown(ctx)


@dataclass
class _Run:
    """One run's parts, built by :func:`_set_up`, advanced by :func:`_epoch_loop`."""

    setup: _Setup
    train_data: Any
    val_data: Any
    test_data: Any
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    ema: ModelEMA | None
    start_epoch: int = 0
    best: float = -math.inf
    forward: Callable | None = None
    ddp_module: nn.Module | None = None
    eval_forward: Callable | None = None
    eval_model: nn.Module | None = None
    train_loader: Any = None
    val_loader: Any = None
    test_loader: Any = None
    resume_state: dict[str, Any] | None = None

    @property
    def out(self) -> Path:
        return Path(self.setup.cfg.out)


def _set_up(cfg: TrainConfig, ctx: DistContext, progress: bool) -> _Run:
    """Data, label inputs, the model on its device, optimizer, schedule, scaler and EMA."""
    device = ctx.device
    amp_dtype = autocast_dtype(cfg.amp, device)
    train_split, test_split = resolve_splits(cfg)
    train_full = load_split(cfg, train_split)
    test_data = load_split(cfg, test_split, labels=train_full.labels)
    labels = train_full.labels
    resume_state = load_checkpoint(Path(cfg.out) / "last.pt") if cfg.resume else None
    # a resumed run holds out the samples its checkpoint records (older runs: drawn again from the seed)
    held_out = (resume_state.get("split") or {}).get("held_out") if resume_state is not None else None
    train_data, val_data = (train_full, None) if cfg.cache_features else \
        split_validation(train_full, cfg.val_fraction, cfg.seed, held_out)
    adjacency, embeddings = load_label_inputs(cfg.graph, cfg.embeddings, labels, align=cfg.align_labels)
    feature_dim = train_data.features.shape[1] if train_data.kind == "features" else None
    stats = None
    if train_data.kind == "features":
        if cfg.backbone != "features":
            raise ConfigError(f"dataset {cfg.dataset} holds feature vectors: use --backbone features")
        f = train_data.features.astype(np.float64)
        stats = (f.mean(axis=0).astype(np.float32), f.std(axis=0).astype(np.float32))
    elif cfg.backbone == "features":
        raise ConfigError(f"--backbone features needs a dataset of feature vectors; {cfg.dataset} holds images")
    model = _build(cfg, torch.from_numpy(adjacency), torch.from_numpy(embeddings), feature_dim, stats)
    if cfg.freeze_backbone:
        for p in model.backbone.parameters():
            p.requires_grad_(False)
    channels_last = bool(cfg.channels_last if cfg.channels_last is not None else device.type == "cuda")
    channels_last = channels_last and cfg.backbone != "features" and not cfg.cache_features
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last_3d if cfg.model == "kssnet3d" else torch.channels_last)
    setup = _Setup(cfg, ctx, model, labels, amp_dtype, channels_last, progress)
    setup.extra["loss"] = make_loss(cfg)

    if cfg.cache_features:
        from .features import cached_features

        # the whole training split is cached, then split: every seed's held-out part reuses one file
        train_data = cached_features(setup, train_full, train_split)
        test_data = cached_features(setup, test_data, test_split)
        train_data, val_data = split_validation(train_data, cfg.val_fraction, cfg.seed, held_out)
        setup.channels_last = False
    if train_data.mask is not None:  # rows of the training part, after the held-out samples are taken out
        setup.extra["train_mask"] = torch.from_numpy(np.asarray(train_data.mask, dtype=bool)).to(device)
    setup.extra["splits"] = {"train_split": train_split, "test_split": test_split,
                             "val_fraction": cfg.val_fraction, "seed": cfg.seed,
                             "held_out": [] if val_data is None else list(val_data.sample_ids)}

    optimizer = make_optimizer(cfg, model)
    return _Run(setup, train_data, val_data, test_data, optimizer, make_scheduler(cfg, optimizer),
                torch.amp.GradScaler(device.type, enabled=cfg.amp == "fp16"),
                ModelEMA(model, cfg.ema) if cfg.ema > 0 else None, resume_state=resume_state)


def _resume(run: _Run) -> None:
    """Load ``last.pt`` of the run folder into the run's parts (and the random states)."""
    cfg, model = run.setup.cfg, run.setup.model
    state = run.resume_state if run.resume_state is not None else load_checkpoint(run.out / "last.pt")
    run.resume_state = None
    _check_resume_compatible(state, cfg, run.setup.labels, model, run.out)
    model.load_state_dict(state["model"])
    run.optimizer.load_state_dict(state["optimizer"])
    run.scheduler.load_state_dict(state["scheduler"])
    run.scaler.load_state_dict(state["scaler"])
    if run.ema is not None and state.get("ema") is not None:
        run.ema.load_state_dict(state["ema"])
    set_rng_state(state["rng"])
    run.start_epoch, run.best = int(state["epoch"]), float(state["best_map"])
    log.info("resuming %s at epoch %d", run.out, run.start_epoch + 1)


def _wrap_for_training(run: _Run) -> None:
    """DDP and ``torch.compile`` around the model, the evaluation forward, and the two loaders."""
    cfg, ctx, model = run.setup.cfg, run.setup.ctx, run.setup.model
    device = ctx.device
    train_module: nn.Module = _HeadOnly(model) if cfg.cache_features else model
    if ctx.enabled:
        from torch.nn.parallel import DistributedDataParallel as DDP

        run.ddp_module = DDP(train_module, device_ids=[ctx.local_rank] if device.type == "cuda" else None)
        train_module = run.ddp_module
    run.forward = maybe_compile(train_module, cfg.compile, cfg.compile_backend)
    eval_model = run.eval_model = run.ema.module if run.ema is not None else model
    run.eval_forward = (lambda x: eval_model.classify(x)) if cfg.cache_features else eval_model

    pin = bool(cfg.pin_memory if cfg.pin_memory is not None else device.type == "cuda")
    workers = 0 if run.train_data.kind == "features" else cfg.workers
    run.train_loader, run.val_loader, run.test_loader = (
        None if data is None else
        make_loader(make_dataset(data, cfg, train=train), batch_size=cfg.batch_size, shuffle=train,
                    seed=cfg.seed, workers=workers, pin_memory=pin, rank=ctx.rank, world_size=ctx.world_size,
                    drop_last=train)
        for data, train in ((run.train_data, True), (run.val_data, False), (run.test_data, False)))


def _prepare_run_folder(run: _Run) -> None:
    """Rank 0: the folder, ``config.json``, and on resume the log cut back to the checkpoint's epoch."""
    if not run.setup.ctx.is_main:
        return
    out, cfg = run.out, run.setup.cfg
    log_path = out / "log.jsonl"
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    with atomic_write(out / "config.json", "w") as handle:
        json.dump(cfg.to_dict(), handle, indent=2)
    if cfg.resume and log_path.is_file():
        kept = [line for line in log_path.read_text().splitlines()
                if line.strip() and json.loads(line).get("epoch", 0) <= run.start_epoch]
        with atomic_write(log_path, "w") as handle:
            handle.write("".join(line + "\n" for line in kept))


def _epoch_loop(run: _Run, on_epoch_end: Callable[[int, dict[str, Any]], None] | None) -> dict[str, Any]:
    """Train and evaluate each remaining epoch; rank 0 checkpoints and logs after each."""
    setup = run.setup
    cfg, ctx, labels = setup.cfg, setup.ctx, setup.labels
    record: dict[str, Any] = {}
    for epoch in range(run.start_epoch, cfg.epochs):
        t0 = time.perf_counter()
        run.train_loader.sampler.set_epoch(epoch)
        lrs = [group["lr"] for group in run.optimizer.param_groups]
        train_loss, images_per_s, images = _train_epoch(setup, run.forward, run.ddp_module, run.train_loader,
                                                        run.optimizer, run.scaler, run.ema, epoch)
        run.scheduler.step()
        run.eval_model.eval()
        if run.val_loader is not None:
            mask = metric_mask(cfg, run.val_data)
            scores, targets, val_loss = _run_eval(setup, run.eval_forward, run.val_loader, len(labels), mask)
            metrics = (multilabel_metrics(scores, targets, logits=True, labels=labels, mask=mask)
                       if ctx.is_main else {})
            improved = ctx.is_main and metrics["mAP"] == metrics["mAP"] and metrics["mAP"] > run.best
            if improved:
                run.best = metrics["mAP"]
            val_images: int = int(len(scores))
        else:  # --val-fraction 0: nothing to select on, the last epoch is the selected one
            val_loss, metrics, improved, val_images = None, {}, ctx.is_main, 0
        record = {"epoch": epoch + 1, "train_loss": train_loss, "val_loss": val_loss, "lr": lrs,
                  "time_s": round(time.perf_counter() - t0, 3), "images_per_s": round(images_per_s, 2),
                  "train_images": images, "val_images": val_images, "metrics": metrics,
                  "best_mAP": run.best if run.best > -math.inf else None}
        if ctx.is_main:
            _checkpoint(run, epoch, metrics, record, improved)
            log.info("epoch %d: loss %.4f, val mAP %.4f", epoch + 1, train_loss, metrics.get("mAP", math.nan))
        barrier(ctx)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, record)
    test = _test_once(run)
    return dict(record, out=str(run.out), best_mAP=run.best if run.best > -math.inf else None, test=test)


def _test_once(run: _Run) -> dict[str, Any]:
    """The test split, scored once with the selected checkpoint (``best.pt``); rank 0 writes ``metrics.json``.

    Every rank reads the checkpoint (the run folder is shared, as ``--resume`` assumes).
    """
    setup = run.setup
    ctx, labels = setup.ctx, setup.labels
    barrier(ctx)
    path = run.out / "best.pt"
    if not path.is_file():  # no epoch gave a validation mAP (no positive label in the held-out part)
        log.warning("%s: no best.pt (validation mAP was never defined); testing last.pt", run.out)
        path = run.out / "last.pt"
    state = load_checkpoint(path)
    if run.ema is not None and state.get("ema") is not None:
        run.eval_model.load_state_dict(state["ema"])
    else:
        run.eval_model.load_state_dict(state["model"])
    run.eval_model.eval()
    mask = metric_mask(setup.cfg, run.test_data)
    scores, targets, loss = _run_eval(setup, run.eval_forward, run.test_loader, len(labels), mask)
    if not ctx.is_main:
        return {}
    splits = setup.extra["splits"]
    result = {"split": splits["test_split"], "samples": int(len(scores)), "checkpoint": path.name,
              "epoch": int(state["epoch"]), "val_mAP": state["best_map"] if state["best_map"] > -math.inf else None,
              "val_samples": len(splits["held_out"]), "loss": loss,
              "metrics": multilabel_metrics(scores, targets, logits=True, labels=labels, mask=mask)}
    with atomic_write(run.out / "metrics.json", "w") as handle:
        json.dump(result, handle, indent=2)
    return result


def _checkpoint(run: _Run, epoch: int, metrics: dict[str, Any], record: dict[str, Any], improved: bool) -> None:
    """``last.pt`` (and ``best.pt`` when ``improved``) atomically, then the epoch's log line, fsynced."""
    cfg, model = run.setup.cfg, run.setup.model
    state = {"epoch": epoch + 1, "config": cfg.to_dict(), "labels": list(run.setup.labels),
             "model": model.state_dict(), "optimizer": run.optimizer.state_dict(),
             "scheduler": run.scheduler.state_dict(), "scaler": run.scaler.state_dict(),
             "ema": run.ema.state_dict() if run.ema is not None else None, "rng": rng_state(),
             "best_map": run.best, "metrics": metrics, "split": run.setup.extra["splits"]}
    save_checkpoint(run.out / "last.pt", state)
    if improved:
        save_checkpoint(run.out / "best.pt", state)
    with open(run.out / "log.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


# -- evaluate -------------------------------------------------------------------------------------
@dataclass
class EvalResult:
    """Metrics of a checkpoint on one split, with the scores behind them."""

    metrics: dict[str, float]
    scores: np.ndarray
    targets: np.ndarray
    labels: tuple[str, ...]
    split: str
    checkpoint: str


def evaluate_checkpoint(path: str | os.PathLike[str], *, progress: bool = False,
                        **overrides: Any) -> EvalResult:
    """Score the checkpoint at ``path`` on a split.

    ``overrides`` replace the run's options (``dataset``, ``root``, ``annotations``,
    ``split``, ``batch_size``, ``device``, ``workers``, ``amp``, ``limit``, ``skip_missing``,
    ``difficult`` (whether VOC's difficult marks are left out of the metrics);
    ``graph``/``embeddings`` to evaluate the trained weights with other label inputs,
    which must fit the model's dimensions).

    Examples
    --------
    A tiny run (as in :func:`fit`), then its last checkpoint scored again on the test split:

    >>> import labelgraph
    >>> _ = (tmp / "toy.xml").write_text('<labels xmlns="http://mulan.sourceforge.net/labels">'
    ...                                  '<label name="a"/><label name="b"/></labels>')
    >>> head = "@relation toy\\n@attribute x numeric\\n@attribute y numeric\\n@attribute a {0,1}\\n@attribute b {0,1}\\n"
    >>> for split in ("train", "test"):
    ...     _ = (tmp / f"toy-{split}.arff").write_text(head + "@data\\n" + "0,0,1,0\\n1,0,1,0\\n0,1,0,1\\n1,1,0,1\\n" * 2)
    >>> g = labelgraph.Artifact.graph("binary", ["a", "b"], [[1, 0], [0, 1]]).save(tmp / "g.npz")
    >>> e = labelgraph.Artifact.embeddings(["a", "b"], [[1.0, 0.0], [0.0, 1.0]]).save(tmp / "e.npz")
    >>> record = fit(TrainConfig(dataset="mulan", annotations=str(tmp / "toy"), backbone="features", graph=str(g),
    ...                          embeddings=str(e), hidden=4, epochs=1, batch_size=4, workers=0, device="cpu",
    ...                          out=str(tmp / "run")))
    >>> result = evaluate_checkpoint(tmp / "run" / "best.pt", batch_size=3)
    >>> result.split, result.labels, result.scores.shape, result.targets[:2].tolist()
    ('test', ('a', 'b'), (8, 2), [[1.0, 0.0], [1.0, 0.0]])
    >>> abs(result.metrics["mAP"] - record["test"]["metrics"]["mAP"]) < 1e-6   # the run's own test score
    True
    >>> evaluate_checkpoint(tmp / "run" / "nothing.pt")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ArtifactError: ...nothing.pt: no such checkpoint
    """
    path = Path(path)
    state = load_checkpoint(path)
    split = overrides.pop("split", None)
    graph, embeddings = overrides.pop("graph", None), overrides.pop("embeddings", None)
    cfg = TrainConfig.from_dict(state["config"]).replace(
        **{k: v for k, v in overrides.items() if v is not None}, resume=False, compile=False)
    cfg.validate()
    device = torch.device(cfg.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {cfg.device}: CUDA is not available on this machine")
    ctx = DistContext(0, 1, 0, device, None)
    labels = tuple(state["labels"])
    split = split or resolve_splits(cfg)[1]
    data = load_split(cfg, split, labels=labels)
    saved = state["model"]
    adjacency, emb = saved["adjacency"], saved["embeddings"]
    if graph is not None or embeddings is not None:
        g_np, e_np = load_label_inputs(graph, embeddings, labels, align=cfg.align_labels) if (graph and embeddings) \
            else (None, None)
        if g_np is None:
            raise ConfigError("give both --graph and --embeddings to evaluate with other label inputs")
        if e_np.shape[1] != emb.shape[1]:
            raise ConfigError(f"{embeddings}: {e_np.shape[1]}-dimensional embeddings do not fit the model in {path}, "
                              f"trained with {emb.shape[1]}-dimensional ones")
        adjacency, emb = torch.from_numpy(g_np), torch.from_numpy(e_np)
    feature_dim = saved["backbone.mean"].shape[0] if cfg.backbone == "features" else None
    model = _build(cfg, torch.zeros_like(saved["adjacency"]), torch.zeros_like(saved["embeddings"]),
                   feature_dim, pretrained=False)
    _check_shapes(saved, model, path)
    model.load_state_dict(state["ema"] if state.get("ema") is not None else saved)
    model.adjacency.copy_(adjacency)
    model.embeddings.copy_(emb)
    model.to(device).eval()
    channels_last = bool(cfg.channels_last if cfg.channels_last is not None else device.type == "cuda")
    channels_last = channels_last and data.kind != "features"
    if channels_last:
        model.to(memory_format=torch.channels_last_3d if data.kind == "video" else torch.channels_last)
    amp_dtype = autocast_dtype(cfg.amp, device)
    setup = _Setup(cfg, ctx, model, labels, amp_dtype, channels_last, progress)
    pin = device.type == "cuda"
    workers = 0 if data.kind == "features" else cfg.workers
    loader = make_loader(make_dataset(data, cfg, train=False), batch_size=cfg.batch_size, shuffle=False,
                         seed=cfg.seed, workers=workers, pin_memory=pin)
    mask = metric_mask(cfg, data)
    scores, targets, _ = _run_eval(setup, model, loader, len(labels), mask)
    metrics = multilabel_metrics(scores, targets, logits=True, labels=labels, mask=mask)
    return EvalResult(metrics, scores, targets, labels, split, str(path))
