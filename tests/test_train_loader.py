"""The loader that feeds a GPU: uint8 images from the workers normalized on the device (numerically the old float
pipeline), drop_last for training only, the default worker count from the CPUs this process may use."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                reason="needs torch (pip install 'labelgraph[train]')")

ROOT = Path(__file__).resolve().parents[1]
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _jpegs(folder: Path, n: int, size: tuple[int, int] = (60, 44), seed: int = 0) -> list[Path]:
    from PIL import Image

    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        base = rng.integers(0, 255, (size[1] // 4, size[0] // 4, 3), dtype=np.uint8)
        img = Image.fromarray(base).resize(size, Image.BILINEAR)   # smooth content, as photographs are
        paths.append(folder / f"{i:03d}.jpg")
        img.save(paths[-1], quality=90)
    return paths


def _split(paths: list[Path], labels: int = 3):
    from labelgraph.train.data import SplitData

    targets = np.eye(len(paths), labels, dtype=np.float32)
    return SplitData("image", tuple(f"l{j}" for j in range(labels)), targets, [p.stem for p in paths], paths)


def _old_float(transforms: list):
    """The loader's transform as it was before: ToDtype and Normalize in the worker."""
    import torch
    from torchvision.transforms import v2

    return v2.Compose([*transforms, v2.ToDtype(torch.float32, scale=True), v2.Normalize(MEAN, STD)])


def test_workers_give_uint8_and_device_normalization_equals_the_float_pipeline(tmp_path: Path) -> None:
    import torch
    from PIL import Image
    from torchvision.transforms import v2

    from labelgraph.train.data import (ImageDataset, MultiScaleCrop, batch_to_device, eval_transform, make_loader,
                                       train_transform)

    paths = _jpegs(tmp_path, 6)
    data = _split(paths)
    for train in (True, False):
        new = ImageDataset(data, train_transform(32) if train else eval_transform(32), seed=5)
        old_tf = _old_float([v2.ToImage(), MultiScaleCrop(32), v2.RandomHorizontalFlip()] if train else
                            [v2.ToImage(), v2.Resize((32, 32), antialias=True)])
        old = ImageDataset(data, old_tf, seed=5)
        loader = make_loader(new, batch_size=3, shuffle=False, seed=0, workers=1, pin_memory=False)
        loader.sampler.set_epoch(2)
        for x, _, idx in loader:
            assert x.dtype == torch.uint8 and x.shape == (3, 3, 32, 32)
            got = batch_to_device(x, torch.device("cpu"), channels_last=True)
            assert got.dtype == torch.float32 and got.is_contiguous(memory_format=torch.channels_last)
            want = torch.stack([old[(2, int(i))][0] for i in idx])   # same (epoch, sample): same crop and flip
            torch.testing.assert_close(got, want, rtol=0, atol=1e-5)
    # against a pipeline that converts to float first and resizes in float: within 1/255 of a pixel (in
    # units of std), the rounding of the uint8 resize
    image = Image.open(paths[0]).convert("RGB")
    float_first = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True),
                              v2.Resize((32, 32), antialias=True), v2.Normalize(MEAN, STD)])(image)
    ours = batch_to_device(eval_transform(32)(image)[None], torch.device("cpu"))[0]
    err = ((ours - float_first) * torch.tensor(STD).view(3, 1, 1)).abs()   # back to [0, 1] pixel units
    assert float(err.max()) <= 1.0 / 255 + 1e-6
    # by hand: (v / 255 - mean) / std per channel
    x = torch.tensor([0, 128, 255], dtype=torch.uint8).view(1, 3, 1, 1)
    want = [(v / 255 - m) / s for v, m, s in zip((0, 128, 255), MEAN, STD)]
    np.testing.assert_allclose(batch_to_device(x, torch.device("cpu")).flatten().numpy(), want, rtol=1e-6)
    # feature vectors pass through unchanged
    f = torch.tensor([[0.5, 300.0]])
    assert torch.equal(batch_to_device(f, torch.device("cpu"), channels_last=True), f)


def test_clips_are_uint8_and_normalized_per_channel(tmp_path: Path) -> None:
    import torch

    from labelgraph.train.data import SplitData, VideoDataset, batch_to_device, eval_transform

    video = tmp_path / "v0"
    video.mkdir()
    _jpegs(video, 4, size=(40, 40))
    data = SplitData("video", ("a",), np.ones((1, 1), np.float32), ["v0"], [video])
    clip, _, _ = VideoDataset(data, eval_transform(16), frames=2, train=False)[0]
    assert clip.dtype == torch.uint8 and clip.shape == (3, 2, 16, 16)
    out = batch_to_device(clip[None], torch.device("cpu"), channels_last=True)
    assert out.is_contiguous(memory_format=torch.channels_last_3d)
    for c in range(3):
        want = (clip[c].float() / 255 - MEAN[c]) / STD[c]
        torch.testing.assert_close(out[0, c], want, rtol=0, atol=1e-6)


def test_drop_last_for_training_only_two_batches_plus_one(tmp_path: Path) -> None:
    """2 × batch + 1 samples: 2 training batches (the 1-sample batch left out), 3 evaluation batches in which
    every sample is scored exactly once."""
    from labelgraph.train.data import FeatureDataset, make_loader

    batch = 4
    n = 2 * batch + 1
    ds = FeatureDataset(np.arange(2 * n, dtype=np.float32).reshape(n, 2), np.eye(n, 3))
    train = make_loader(ds, batch_size=batch, shuffle=True, seed=0, workers=0, pin_memory=False, drop_last=True)
    train.sampler.set_epoch(0)
    sizes = [len(i) for _, _, i in train]
    assert sizes == [batch, batch] and len(train) == 2
    evaluation = make_loader(ds, batch_size=batch, shuffle=False, seed=0, workers=0, pin_memory=False)
    seen = [int(i) for _, _, idx in evaluation for i in idx]
    assert len(evaluation) == 3 and sorted(seen) == list(range(n))


def test_fit_trains_on_full_batches_and_scores_every_sample(tmp_path: Path) -> None:
    import labelgraph
    from labelgraph.train.config import TrainConfig
    from labelgraph.train.engine import fit

    (tmp_path / "toy.xml").write_text('<labels xmlns="http://mulan.sourceforge.net/labels">'
                                      '<label name="a"/><label name="b"/></labels>')
    head = "@relation toy\n@attribute x numeric\n@attribute y numeric\n@attribute a {0,1}\n@attribute b {0,1}\n"
    rows = "".join(f"{i % 3},{i % 2},{i % 2},{1 - i % 2}\n" for i in range(9))   # 9 = 2 × 4 + 1
    for split in ("train", "test"):
        (tmp_path / f"toy-{split}.arff").write_text(head + "@data\n" + rows)
    g = labelgraph.Artifact.graph("binary", ["a", "b"], [[1, 0], [0, 1]]).save(tmp_path / "g.npz")
    e = labelgraph.Artifact.embeddings(["a", "b"], [[1.0, 0.0], [0.0, 1.0]]).save(tmp_path / "e.npz")
    record = fit(TrainConfig(dataset="mulan", annotations=str(tmp_path / "toy"), backbone="features", graph=str(g),
                             embeddings=str(e), hidden=4, epochs=1, batch_size=4, device="cpu", val_fraction=0,
                             out=str(tmp_path / "run")))
    assert record["train_images"] == 8 and record["test"]["samples"] == 9


def test_loader_keeps_workers_and_prefetches(tmp_path: Path) -> None:
    from labelgraph.train.data import ImageDataset, eval_transform, make_loader

    ds = ImageDataset(_split(_jpegs(tmp_path, 2)), eval_transform(8))
    loader = make_loader(ds, batch_size=2, shuffle=False, seed=0, workers=1, pin_memory=False)
    assert loader.num_workers == 1 and loader.persistent_workers and loader.prefetch_factor == 4
    plain = make_loader(ds, batch_size=2, shuffle=False, seed=0, workers=0, pin_memory=False)
    assert plain.num_workers == 0 and not plain.persistent_workers


def test_default_workers_follow_the_cpus_this_process_may_use() -> None:
    from labelgraph.train.config import TrainConfig
    from labelgraph.train.data import default_workers

    cpus = len(os.sched_getaffinity(0))
    assert default_workers(1) == min(8, cpus - 1)
    assert default_workers(cpus) == 0
    assert TrainConfig().workers is None   # resolved by make_loader
    taskset = shutil.which("taskset")
    if taskset is None:
        pytest.skip("taskset is not installed")
    code = "from labelgraph.train.data import default_workers; print(default_workers())"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("LOCAL_WORLD_SIZE", None)
    one = subprocess.run([taskset, "-c", "0", sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120)
    assert one.returncode == 0, one.stderr
    assert one.stdout.strip() == "0"   # one CPU: load in the training process
    if cpus >= 2:
        two = subprocess.run([taskset, "-c", "0,1", sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, timeout=120)
        assert two.stdout.strip() == "1"
        shared = subprocess.run([taskset, "-c", "0,1", sys.executable, "-c", code], capture_output=True, text=True,
                                env=dict(env, LOCAL_WORLD_SIZE="2"), timeout=120)
        assert shared.stdout.strip() == "0"   # two ranks on two CPUs: one CPU each
