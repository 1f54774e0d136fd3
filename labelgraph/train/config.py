"""``TrainConfig``, the one description of a training run, and the papers' presets by name.

No torch here: a configuration can be built, validated and saved anywhere.

The presets hold the papers' numbers (SPEC §5).  Where a paper is silent the
choice is written in the preset's ``notes`` and in ``docs/train.md``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from ..errors import ConfigError
from .registry import model_names

__all__ = ["TrainConfig", "Preset", "PRESETS", "get_preset", "register_preset",
           "AMP_MODES", "OPTIMIZERS", "SCHEDULES", "LOSS_NAMES", "DIFFICULT_MODES"]

AMP_MODES: tuple[str, ...] = ("off", "bf16", "fp16")
OPTIMIZERS: tuple[str, ...] = ("sgd", "adam")
SCHEDULES: tuple[str, ...] = ("step", "cosine", "constant")
#: ``--loss`` names; :func:`labelgraph.train.losses.register_loss` adds to them.
LOSS_NAMES: tuple[str, ...] = ("bce", "asl", "focal")
#: ``--difficult``: how VOC's difficult-only entries enter the loss (see ``docs/train.md``).
DIFFICULT_MODES: tuple[str, ...] = ("positive", "negative", "ignore")


@dataclass
class TrainConfig:
    """Everything a run needs; saved as ``config.json`` beside its checkpoints.

    Attributes
    ----------
    model : ``mlgcn``, ``kssnet`` or ``kssnet3d``
    backbone : a torchvision ResNet (``resnet101`` …), a video ResNet (``r3d_18``,
        ``r2plus1d_18``), ``features`` (precomputed vectors) or ``timm:<model>`` (mlgcn)
    dataset : a trainer dataset (``imagefolder``, ``mulan``, ``coco``, ``voc``, ``charades``)
    root : folder of the images / frames
    annotations : the annotation file; ``{split}`` is replaced by the split name
    graph, embeddings : ``.npz`` artifacts read with :func:`labelgraph.load`
    align_labels : reorder graph and embeddings to the dataset's label order by name
    lr : learning rate of the head (GCN, lateral connections); the backbone gets
        ``lr * backbone_lr_mult``
    lr_steps, gamma : epochs at which a ``step`` schedule multiplies the rate by ``gamma``
    accumulate : micro-batches per optimizer step (effective batch = batch_size × accumulate × ranks)
    ema : decay of an exponential moving average of the weights (0 = off); evaluation uses it
    amp : ``off``, ``bf16`` or ``fp16`` (fp16 with a gradient scaler)
    channels_last : ``None`` = on for CUDA
    compile : wrap the model in ``torch.compile`` (falls back to eager with a warning)
    freeze_backbone, cache_features : train only the head; with a cache folder the
        backbone's features are computed once (fp16, memory-mapped)
    workers : loader processes; ``None`` = from the CPU count (:func:`~labelgraph.train.data.default_workers`)
    limit : use only the first ``limit`` samples of each split (quick runs)
    hidden : width of ML-GCN's hidden GCN layer (1024)
    val_split : deprecated alias of ``test_split`` (it named the evaluation split before validation
        came from the training split)
    val_fraction : the part of the training split held out (seeded by ``seed``) to select ``best.pt``;
        0 = none held out, ``best.pt`` is the last epoch
    test_split : the split evaluated once, at the end, with the selected checkpoint
    log_every : training steps between reads of the running loss (progress bar, debug log)
    loss : ``bce``, ``asl`` or ``focal`` (mean over labels and batch); ``asl_gamma_pos``,
        ``asl_gamma_neg``, ``asl_margin`` are ASL's γ+, γ−, m; ``focal_gamma``, ``focal_alpha`` focal's
    difficult : VOC's difficult-only entries in the loss: ``positive`` (ML-GCN's code; left out of
        the metrics), ``ignore`` (left out of loss and metrics) or ``negative`` (negatives everywhere)
    clip_grad_norm : clip the gradients' total norm to this before each optimizer step (``None`` = off)
    weights : the backbone's initial weights: a torchvision weights name (``IMAGENET1K_V1``,
        ``IMAGENET1K_V2``, ``DEFAULT``), ``none``, or a state_dict file; ``pretrained=False`` means ``none``

    Examples
    --------
    >>> cfg = TrainConfig(model="mlgcn", epochs=2)
    >>> cfg.replace(lr=0.5).lr, cfg.lr
    (0.5, 0.1)
    >>> TrainConfig.from_dict(cfg.to_dict()) == cfg
    True
    """

    model: str = "mlgcn"
    backbone: str = "resnet101"
    dataset: str = "imagefolder"
    root: str | None = None
    annotations: str | None = None
    split: str | None = None
    val_split: str | None = None
    graph: str | None = None
    embeddings: str | None = None
    align_labels: bool = False
    pretrained: bool = True
    image_size: int = 448
    scales: tuple[float, ...] = (1.0, 0.875, 0.75, 0.66, 0.5)
    frames: int = 16
    epochs: int = 40
    batch_size: int = 32
    optimizer: str = "sgd"
    lr: float = 0.1
    backbone_lr_mult: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    no_bias_decay: bool = False
    schedule: str = "step"
    lr_steps: tuple[int, ...] = (30,)
    gamma: float = 0.1
    hidden: int = 1024
    dropout: float = 0.0
    pool: str | None = None
    accumulate: int = 1
    ema: float = 0.0
    amp: str = "off"
    channels_last: bool | None = None
    compile: bool = False
    compile_backend: str = "inductor"
    freeze_backbone: bool = False
    cache_features: str | None = None
    workers: int | None = None
    pin_memory: bool | None = None
    skip_missing: bool = False
    limit: int | None = None
    device: str | None = None
    seed: int = 0
    deterministic: bool = False
    out: str = "runs/run"
    resume: bool = False
    preset: str | None = None
    # validation from the training split (issue 14, part 1)
    val_fraction: float = 0.1
    test_split: str | None = None
    # issue 14 part 3 (a fed GPU): steps between reads of the running loss (each read waits for the device)
    log_every: int = 20
    # recipe fidelity (issue 14, part 2): loss, difficult marks, clipping, backbone weights
    loss: str = "bce"
    asl_gamma_pos: float = 0.0
    asl_gamma_neg: float = 4.0
    asl_margin: float = 0.05
    focal_gamma: float = 2.0
    focal_alpha: float | None = None
    difficult: str = "positive"
    clip_grad_norm: float | None = None
    weights: str = "DEFAULT"

    def __post_init__(self) -> None:
        self.scales = tuple(float(s) for s in self.scales)
        self.lr_steps = tuple(int(s) for s in self.lr_steps)
        if self.val_split is not None and self.test_split in (None, self.val_split):
            self.test_split, self.val_split = self.val_split, None

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> "TrainConfig":
        """The preset called ``name`` with ``overrides`` applied (``None`` values are ignored).

        Examples
        --------
        >>> TrainConfig.from_preset("kssnet-coco", epochs=1).optimizer
        'adam'
        """
        preset = get_preset(name)
        values = dict(preset.values)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if overrides.get("val_split") is not None:  # the deprecated name overrides the preset's test split
            values["test_split"] = values.pop("val_split")
        values["preset"] = name
        return cls.from_dict(values)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "TrainConfig":
        """Build from a mapping; an unknown key is a :class:`ConfigError` naming it."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown training option(s): {', '.join(unknown)}")
        return cls(**dict(values))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}

    def replace(self, **changes: Any) -> "TrainConfig":
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)

    # -- checks -------------------------------------------------------------------------------
    def validate(self) -> "TrainConfig":
        """Check ranges and combinations; a :class:`ConfigError` naming the option otherwise.

        Examples
        --------
        >>> TrainConfig(amp="fp8").validate()
        Traceback (most recent call last):
        ...
        labelgraph.errors.ConfigError: --amp must be one of off, bf16, fp16 (got 'fp8')
        """
        def choice(option: str, value: str | None, allowed: tuple[str, ...]) -> None:
            if value not in allowed:
                raise ConfigError(f"--{option} must be one of {', '.join(allowed)} (got {value!r})")

        choice("model", self.model, model_names())
        choice("amp", self.amp, AMP_MODES)
        choice("optimizer", self.optimizer, OPTIMIZERS)
        choice("schedule", self.schedule, SCHEDULES)
        choice("loss", self.loss, LOSS_NAMES)
        choice("difficult", self.difficult, DIFFICULT_MODES)
        if self.clip_grad_norm is not None and not self.clip_grad_norm > 0:
            raise ConfigError(f"--clip-grad-norm must be > 0 (got {self.clip_grad_norm})")
        if self.asl_gamma_pos < 0 or self.asl_gamma_neg < 0 or not 0.0 <= self.asl_margin < 1.0:
            raise ConfigError("--asl-gamma-pos and --asl-gamma-neg must be >= 0 and --asl-margin in [0, 1)")
        if self.focal_gamma < 0 or (self.focal_alpha is not None and not 0.0 <= self.focal_alpha <= 1.0):
            raise ConfigError("--focal-gamma must be >= 0 and --focal-alpha in [0, 1]")
        if not str(self.weights).strip():
            raise ConfigError("--weights must name weights (IMAGENET1K_V1, DEFAULT, none …) or a file")
        if self.pool is not None:
            choice("pool", self.pool, ("max", "avg"))
        for name in ("epochs", "batch_size", "accumulate", "image_size", "frames", "hidden"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be at least 1 (got {getattr(self, name)})")
        if self.lr <= 0 or self.backbone_lr_mult < 0 or self.weight_decay < 0:
            raise ConfigError("--lr must be > 0, the backbone multiplier and weight decay >= 0")
        if not 0.0 <= self.ema < 1.0:
            raise ConfigError(f"--ema must be in [0, 1) (got {self.ema})")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"--dropout must be in [0, 1) (got {self.dropout})")
        if self.workers is not None and self.workers < 0:
            raise ConfigError("--workers must be >= 0")
        if self.val_split is not None:
            raise ConfigError(f"--val-split (deprecated: it is --test-split) {self.val_split!r} and --test-split "
                              f"{self.test_split!r} disagree; give --test-split only")
        if not (0.0 <= self.val_fraction <= 0.5):
            raise ConfigError(f"--val-fraction must be in (0, 0.5], or 0 for no held-out part "
                              f"(got {self.val_fraction})")
        if self.log_every < 1:
            raise ConfigError(f"--log-every must be at least 1 (got {self.log_every})")
        if self.model == "kssnet3d" and self.backbone not in ("r3d_18", "r2plus1d_18", "mc3_18"):
            raise ConfigError(f"kssnet3d needs a video backbone (r3d_18, r2plus1d_18, mc3_18), got {self.backbone!r}")
        if self.model.startswith("kssnet") and self.backbone == "features":
            raise ConfigError("kssnet's lateral connections need a convolutional backbone, not 'features'")
        if self.cache_features and self.model.startswith("kssnet"):
            raise ConfigError("--cache-features works with mlgcn only (and its baselines linear, learned): "
                              "KSSNet's lateral connections change the backbone's features; use --freeze-backbone alone")
        if self.model.startswith("kssnet") and self.backbone.startswith("timm:"):
            raise ConfigError(f"--backbone {self.backbone}: kssnet's lateral connections need the res2–res4 stages "
                              "of a torchvision ResNet; timm backbones work with --model mlgcn")
        if self.cache_features and not self.freeze_backbone:
            raise ConfigError("--cache-features needs --freeze-backbone")
        return self


@dataclass(frozen=True)
class Preset:
    """A named set of :class:`TrainConfig` values from a paper.

    Attributes
    ----------
    name : registry name (``--preset``)
    summary : one line
    values : the :class:`TrainConfig` fields it sets
    notes : the choices the paper leaves open, and how this preset makes them
    """

    name: str
    summary: str
    values: Mapping[str, Any] = field(default_factory=dict)
    notes: str = ""


#: Presets by name (``--preset``).
PRESETS: dict[str, Preset] = {}


def register_preset(preset: Preset) -> Preset:
    """Add ``preset`` to :data:`PRESETS` (its values are checked against :class:`TrainConfig`).

    Examples
    --------
    >>> p = register_preset(Preset("tiny-doc", "a doctest preset", {"epochs": 1}))
    >>> TrainConfig.from_preset("tiny-doc").epochs
    1
    >>> _ = PRESETS.pop("tiny-doc")
    """
    TrainConfig.from_dict(preset.values)
    PRESETS[preset.name] = preset
    return preset


def get_preset(name: str) -> Preset:
    """The preset called ``name``; a :class:`ConfigError` listing the presets otherwise.

    Examples
    --------
    >>> get_preset("mlgcn-voc").values["model"]
    'mlgcn'
    >>> get_preset("mlgcn-imagenet")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: unknown preset 'mlgcn-imagenet' (presets: mlgcn-coco, mlgcn-voc, kssnet-coco, kssnet-charades)
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r} (presets: {', '.join(PRESETS)})") from None


_MLGCN = dict(model="mlgcn", backbone="resnet101", image_size=448, optimizer="sgd", lr=0.1,
              backbone_lr_mult=0.1, momentum=0.9, weight_decay=1e-4, schedule="step", lr_steps=(30,),
              gamma=0.1, epochs=40, batch_size=32, pool="max", clip_grad_norm=10.0, weights="IMAGENET1K_V1",
              difficult="positive")
register_preset(Preset(
    "mlgcn-coco", "ML-GCN on MS-COCO 2014 (CVPR 2019): ResNet-101, 448², SGD 0.1/0.01, ×0.1 at epoch 30 of 40",
    dict(_MLGCN, dataset="coco", split="train", test_split="val"),
    "batch 32 (the reference code's evaluation batch; the paper does not state the training batch); "
    "use --accumulate to reach it on a small GPU. As the reference code: gradients clipped to norm 10, "
    "torchvision's original ResNet-101 weights (IMAGENET1K_V1, 2019)."))
register_preset(Preset(
    "mlgcn-voc", "ML-GCN on PASCAL VOC 2007 (CVPR 2019): same recipe as COCO",
    dict(_MLGCN, dataset="voc", split="trainval", test_split="test"),
    "the paper trains VOC with the COCO recipe; difficult-only marks are positives in the loss and left out "
    "of the metrics, as in the reference code."))
register_preset(Preset(
    "kssnet-coco", "KSSNet on MS-COCO (AAAI 2020): ResNet-101, 4 GCN layers + lateral connections, Adam 0.01, "
                   "batch 80, 100 epochs",
    dict(model="kssnet", backbone="resnet101", dataset="coco", split="train", test_split="val", image_size=448,
         optimizer="adam", lr=0.01, backbone_lr_mult=0.1, momentum=0.9, weight_decay=1e-4, epochs=100,
         batch_size=80, schedule="cosine", pool="max", weights="IMAGENET1K_V1"),
    "the paper names no schedule: cosine; the backbone runs at 0.1× the head's rate as in ML-GCN, "
    "whose preprocessing (448², multi-scale crop, flip) KSSNet says it follows; torchvision's IMAGENET1K_V1 "
    "ResNet-101 weights, the ones of the paper's time."))
register_preset(Preset(
    "kssnet-charades", "KSSNet-3D on Charades (AAAI 2020): video ResNet, Adam, GCN lr 1e-3 / others 1e-4, "
                       "16 clips, dropout 0.5",
    dict(model="kssnet3d", backbone="r3d_18", dataset="charades", split="train", test_split="test",
         image_size=224, frames=64, optimizer="adam", lr=1e-3, backbone_lr_mult=0.1, momentum=0.9,
         weight_decay=1e-4, no_bias_decay=True, dropout=0.5, pool="avg", batch_size=16, epochs=50,
         schedule="cosine"),
    "the paper's Inception-I3D is not in torchvision: r3d_18 (Kinetics-400 weights) stands in; the paper "
    "states no epoch count or schedule: 50 epochs, cosine."))
