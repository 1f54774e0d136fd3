"""Claim: AMP + channels_last (+ torch.compile) trains ML-GCN ≥ 2.5× faster than fp32 eager on a GPU, with the
GPU busy ≥ 90 % (ResNet-101, 448², batch 32) — timed over the whole training step, data loader included.

The script writes synthetic JPEGs (COCO-like 640 × 480, smooth content) into a temporary folder and
trains on them with the trainer's own loader (uint8 workers, ML-GCN's multi-scale crop and flip,
drop_last, pinned memory on CUDA), device-side normalization, ML-GCN over 80 labels with 300-d
embeddings and SGD as the mlgcn-coco preset.  Each mode: warm-up steps, then timed steps, each
step fetching its batch from the loader.  A second table times the loader alone per worker count.

Usage (one command on a GPU machine; defaults ResNet-101, 448², batch 32, 8 workers, + compile):
  python benchmarks/bench_train_throughput.py
  python benchmarks/bench_train_throughput.py --device cpu --backbone resnet18 --batch-size 4 --steps 4
Prints two tables and one JSON line.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from labelgraph.train.data import (ImageDataset, SplitData, batch_to_device, default_workers, make_loader,
                                   train_transform)
from labelgraph.train.engine import cpu_has_native_bf16, maybe_compile
from labelgraph.train.models import MLGCN, build_backbone

LABELS = 80


def write_jpegs(folder: Path, n: int, seed: int = 0) -> SplitData:
    from PIL import Image

    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        small = rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)
        path = folder / f"{i:05d}.jpg"
        Image.fromarray(small).resize((640, 480), Image.BILINEAR).save(path, quality=90)
        paths.append(path)
    targets = (rng.random((n, LABELS)) < 0.04).astype(np.float32)
    return SplitData("image", tuple(f"l{j}" for j in range(LABELS)), targets, [p.stem for p in paths], paths)


def _loader(data: SplitData, args: argparse.Namespace, workers: int, pin: bool):
    ds = ImageDataset(data, train_transform(args.image_size), seed=0)
    return make_loader(ds, batch_size=args.batch_size, shuffle=True, seed=0, workers=workers, pin_memory=pin,
                       drop_last=True)


def _batches(loader, count: int):
    """``count`` batches, starting new epochs as needed (workers persist)."""
    epoch = 0
    while True:
        loader.sampler.set_epoch(epoch)
        for batch in loader:
            yield batch
            count -= 1
            if count == 0:
                return
        epoch += 1


def _utilization_sampler(stop: threading.Event, samples: list[int]) -> None:
    while not stop.is_set():
        try:
            samples.append(int(torch.cuda.utilization()))
        except Exception:   # no NVML (pynvml) or no permission: no figure rather than a failed benchmark
            return
        time.sleep(0.05)


def run_mode(name: str, data: SplitData, args: argparse.Namespace, device: torch.device, amp: torch.dtype | None,
             channels_last: bool, compile_: bool) -> dict:
    torch.manual_seed(0)
    model = MLGCN(build_backbone(args.backbone), torch.eye(LABELS) * 0.5 + 0.5 / LABELS,
                  torch.randn(LABELS, 300)).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    scaler = torch.amp.GradScaler(device.type, enabled=amp == torch.float16)
    forward = maybe_compile(model, compile_)
    cuda = device.type == "cuda"
    loader = _loader(data, args, args.workers, pin=cuda)
    loss_sum = torch.zeros((), device=device)

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        nonlocal loss_sum
        x = batch_to_device(x, device, channels_last)
        y = y.to(device, non_blocking=True)
        with torch.autocast(device.type, dtype=amp or torch.float32, enabled=amp is not None):
            logits = forward(x)
        loss = F.binary_cross_entropy_with_logits(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        loss_sum += loss.detach()   # no host read per step, as in the trainer

    batches = _batches(loader, args.warmup + args.steps)
    for _ in range(args.warmup):
        step(*next(batches)[:2])
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    stop, samples = threading.Event(), []
    sampler = threading.Thread(target=_utilization_sampler, args=(stop, samples), daemon=True) if cuda else None
    if sampler:
        sampler.start()
    t0 = time.perf_counter()
    for x, y, _ in batches:
        step(x, y)
    float(loss_sum)   # waits for the device
    elapsed = time.perf_counter() - t0
    stop.set()
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else \
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"mode": name, "images_per_s": round(args.steps * args.batch_size / elapsed, 2),
            "peak_memory_mib": round(peak, 1),
            "gpu_busy_pct": round(sum(samples) / len(samples), 1) if samples else None}


def time_loader(data: SplitData, args: argparse.Namespace, workers: int) -> dict:
    loader = _loader(data, args, workers, pin=False)
    batches = _batches(loader, args.loader_batches + 1)
    next(batches)   # workers started, first batch in
    t0 = time.perf_counter()
    n = sum(int(x.shape[0]) for x, _, _ in batches)
    elapsed = time.perf_counter() - t0
    return {"workers": workers, "images_per_s": round(n / elapsed, 2),
            "images_per_s_per_worker": round(n / elapsed / max(workers, 1), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--backbone")
    parser.add_argument("--image-size", type=int, default=448)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--workers", type=int, help="loader processes in the training modes [default: the "
                                                    "trainer's default from the CPU count]")
    parser.add_argument("--loader-workers", default=None, help="comma-separated worker counts for the loader table "
                                                              "[CPU: 0,1,2; CUDA: 0,2,4,8]")
    parser.add_argument("--loader-batches", type=int, help="batches timed per worker count")
    parser.add_argument("--images", type=int, help="synthetic JPEGs written [enough for 2 epochs' worth of steps]")
    parser.add_argument("--compile", action="store_true", help="add the +compile mode (default on CUDA)")
    args = parser.parse_args()
    device = torch.device(args.device)
    gpu = device.type == "cuda"
    args.backbone = args.backbone or ("resnet101" if gpu else "resnet18")
    args.batch_size = args.batch_size or (32 if gpu else 4)
    args.steps = args.steps or (30 if gpu else 4)
    args.workers = default_workers() if args.workers is None else args.workers
    args.loader_batches = args.loader_batches or (20 if gpu else 4)
    counts = [int(w) for w in (args.loader_workers or ("0,2,4,8" if gpu else "0,1,2")).split(",")]
    args.images = args.images or max(2 * args.batch_size, min(1000, (args.warmup + args.steps) * args.batch_size))
    with_compile = args.compile or gpu
    if gpu:
        torch.backends.cudnn.benchmark = True
        amp = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        amp = torch.bfloat16 if cpu_has_native_bf16() else None
    modes = [("fp32 eager", None, False, False)]
    modes.append(("channels_last" if amp is None else f"amp {str(amp).split('.')[-1]} + channels_last",
                  amp, True, False))
    if with_compile:
        modes.append((modes[-1][0] + " + compile", amp, True, True))
    folder = Path(tempfile.mkdtemp(prefix="bench_train_"))
    try:
        data = write_jpegs(folder, args.images)
        results = [run_mode(name, data, args, device, a, cl, comp) for name, a, cl, comp in modes]
        loader_results = [time_loader(data, args, w) for w in counts]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    base = results[0]["images_per_s"]
    print(f"{args.backbone} {args.image_size}² batch {args.batch_size}, {args.workers} loader workers, on "
          f"{device.type}" + (f" ({torch.cuda.get_device_name()})" if gpu else "") + " — step incl. data loading")
    print(f"{'mode':<38}{'images/s':>10}{'speed-up':>10}{'peak MiB':>10}{'GPU busy %':>12}")
    for r in results:
        r["speedup"] = round(r["images_per_s"] / base, 2)
        busy = "-" if r["gpu_busy_pct"] is None else f"{r['gpu_busy_pct']:.0f}"
        print(f"{r['mode']:<38}{r['images_per_s']:>10.1f}{r['speedup']:>9.2f}x{r['peak_memory_mib']:>10.0f}{busy:>12}")
    if amp is None:
        print("no AMP mode: this device has no native bfloat16 (and fp16 AMP needs CUDA)")
    print(f"loader alone (decode + multi-scale crop + flip + resize to {args.image_size}², uint8):")
    print(f"{'workers':<10}{'images/s':>10}{'per worker':>12}")
    for r in loader_results:
        print(f"{r['workers']:<10}{r['images_per_s']:>10.1f}{r['images_per_s_per_worker']:>12.1f}")
    print(json.dumps({"bench": "train_throughput", "device": device.type,
                      "gpu": torch.cuda.get_device_name() if gpu else None, "backbone": args.backbone,
                      "image_size": args.image_size, "batch_size": args.batch_size, "steps": args.steps,
                      "workers": args.workers, "torch": torch.__version__,
                      "machine": f"{platform.machine()} {platform.python_version()}",
                      "results": results, "loader": loader_results}))


if __name__ == "__main__":
    main()
