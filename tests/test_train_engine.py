"""The training step's parts: the foreach EMA equals the per-tensor formula, the compile fallback covers a failing
recompile, the running loss is read every --log-every steps, and evaluate scores in channels_last."""
from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                reason="needs torch (pip install 'labelgraph[train]')")


def _net():
    from torch import nn

    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))


def test_foreach_ema_equals_the_per_tensor_formula() -> None:
    import torch

    from labelgraph.train.engine import ModelEMA

    torch.manual_seed(0)
    model = _net()
    decay = 0.9
    ema = ModelEMA(model, decay)
    reference = {k: v.clone() for k, v in model.state_dict().items()}
    params = dict(model.named_parameters())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(5):
        model.train()
        loss = model(torch.randn(8, 3, 8, 8)).square().mean()   # BatchNorm's running stats move too
        opt.zero_grad()
        loss.backward()
        opt.step()
        ema.update(model)
        for name, value in model.state_dict().items():
            if name in params:   # e ← d·e + (1 − d)·p
                reference[name] = decay * reference[name] + (1 - decay) * value
            else:                # buffers copied
                reference[name] = value.clone()
    got = ema.state_dict()
    assert set(got) == set(reference)
    for name in reference:
        torch.testing.assert_close(got[name], reference[name], rtol=1e-6, atol=1e-7, msg=name)
    assert int(got["1.num_batches_tracked"]) == 5


def _failing_backend(fail_on: int, calls: list[int]):
    """A torch.compile backend that runs the graph as traced and raises on its ``fail_on``-th compile."""
    def backend(gm, example_inputs):
        calls.append(len(calls) + 1)
        if len(calls) == fail_on:
            raise RuntimeError(f"backend cannot compile graph #{fail_on}")
        return gm.forward
    return backend


@pytest.mark.parametrize("fail_on", [1, 2], ids=["first-call", "recompile"])
def test_compile_falls_back_once_and_stays_eager(fail_on: int, caplog: pytest.LogCaptureFixture) -> None:
    import torch
    import torch._dynamo

    from labelgraph.train.engine import _Compiled, maybe_compile

    torch._dynamo.reset()
    torch.manual_seed(0)
    model = torch.nn.Linear(5, 3)
    calls: list[int] = []
    forward = maybe_compile(model, True, backend=_failing_backend(fail_on, calls))
    assert isinstance(forward, _Compiled)
    with caplog.at_level(logging.WARNING, logger="labelgraph.train.engine"):
        outputs = [(x, forward(x)) for x in (torch.randn(4, 5), torch.randn(3, 5), torch.randn(2, 5),
                                             torch.randn(4, 5))]
    for x, y in outputs:   # every call, compiled or eager, gives the model's output
        torch.testing.assert_close(y, model(x))
    warnings = [r for r in caplog.records if "--compile failed" in r.getMessage()]
    assert len(warnings) == 1 and f"graph #{fail_on}" in warnings[0].getMessage()
    assert forward.failed
    assert len(calls) == fail_on   # no compile attempt after the fallback: eager from then on
    torch._dynamo.reset()


def _toy_mulan(folder: Path, rows: int) -> dict[str, str]:
    import labelgraph

    (folder / "toy.xml").write_text('<labels xmlns="http://mulan.sourceforge.net/labels">'
                                    '<label name="a"/><label name="b"/></labels>')
    head = "@relation toy\n@attribute x numeric\n@attribute y numeric\n@attribute a {0,1}\n@attribute b {0,1}\n"
    data = "".join(f"{i % 3},{i % 2},{i % 2},{1 - i % 2}\n" for i in range(rows))
    for split in ("train", "test"):
        (folder / f"toy-{split}.arff").write_text(head + "@data\n" + data)
    g = labelgraph.Artifact.graph("binary", ["a", "b"], [[1, 0], [0, 1]]).save(folder / "g.npz")
    e = labelgraph.Artifact.embeddings(["a", "b"], [[1.0, 0.0], [0.0, 1.0]]).save(folder / "e.npz")
    return {"dataset": "mulan", "annotations": str(folder / "toy"), "backbone": "features", "graph": str(g),
            "embeddings": str(e), "hidden": 4, "device": "cpu"}


def test_running_loss_is_read_every_log_every_steps(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from labelgraph.train.config import TrainConfig
    from labelgraph.train.engine import fit

    base = _toy_mulan(tmp_path, 40)   # batch 4: 10 steps an epoch
    with caplog.at_level(logging.DEBUG, logger="labelgraph.train.engine"):
        record = fit(TrainConfig(**base, epochs=2, batch_size=4, log_every=3, val_fraction=0, out=str(tmp_path / "run")))
    steps = [r.getMessage() for r in caplog.records if " step " in r.getMessage()]
    assert [m.split(":")[0] for m in steps] == [f"epoch {e} step {s}/10" for e in (1, 2) for s in (3, 6, 9)]
    assert record["train_images"] == 40 and np.isfinite(record["train_loss"])


@pytest.mark.slow
def test_evaluate_checkpoint_in_channels_last_scores_as_contiguous(tmp_path: Path) -> None:
    from PIL import Image

    import labelgraph
    from labelgraph.train.config import TrainConfig
    from labelgraph.train.engine import evaluate_checkpoint, fit

    rng = np.random.default_rng(0)
    lines = []
    for i in range(8):
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(tmp_path / f"{i}.jpg")
        lines.append(f"{i}.jpg,{'a' if i % 2 else 'b'}")
    for split in ("train", "val"):
        (tmp_path / f"{split}.csv").write_text("\n".join(lines) + "\n")
    g = labelgraph.Artifact.graph("binary", ["b", "a"], [[1, 0], [0, 1]]).save(tmp_path / "g.npz")
    e = labelgraph.Artifact.embeddings(["b", "a"], [[1.0, 0.0], [0.0, 1.0]]).save(tmp_path / "e.npz")
    cfg = TrainConfig(root=str(tmp_path), graph=str(g), embeddings=str(e), backbone="resnet18", pretrained=False,
                      image_size=32, batch_size=4, epochs=1, hidden=8, workers=0, device="cpu",
                      channels_last=True, val_fraction=0, out=str(tmp_path / "run"))
    record = fit(cfg)
    last = tmp_path / "run" / "last.pt"
    cl = evaluate_checkpoint(last)
    plain = evaluate_checkpoint(last, channels_last=False)
    np.testing.assert_allclose(cl.scores, plain.scores, rtol=1e-4, atol=1e-4)
    assert cl.metrics["mAP"] == pytest.approx(record["test"]["metrics"]["mAP"], abs=1e-6)   # 1 epoch: best is last
