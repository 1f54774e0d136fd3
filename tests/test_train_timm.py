"""timm backbones (``--backbone timm:<model>``): a tiny timm model trains through ``fit``, its weights come from the
local Hugging Face cache only, and unknown models, kssnet, and a missing timm each give one clear line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")
pytest.importorskip("PIL")

from click.testing import CliRunner  # noqa: E402

from labelgraph.errors import ConfigError  # noqa: E402
from labelgraph.train.config import TrainConfig  # noqa: E402
from labelgraph_cli.main import cli  # noqa: E402
from tests.test_train_run import image_args, images  # noqa: E402,F401

ROOT = Path(__file__).resolve().parents[1]


def _small_run(images: dict[str, Path], out: Path, *extra: str) -> list[str]:
    args = image_args(images, out, "--epochs", "1", "--limit", "16", *extra)
    args[args.index("--image-size") + 1] = "32"
    return args


def test_tiny_timm_model_trains_one_epoch_through_fit(images: dict[str, Path], tmp_path: Path) -> None:
    from labelgraph.train.checkpoint import load_checkpoint
    from labelgraph.train.engine import fit

    out = tmp_path / "run"
    cfg = TrainConfig(dataset="imagefolder", root=str(images["root"]), graph=str(images["graph"]),
                      embeddings=str(images["embeddings"]), backbone="timm:test_resnet", pretrained=False,
                      image_size=32, batch_size=8, limit=16, epochs=1, hidden=16, lr=0.01, workers=0, device="cpu",
                      val_fraction=0, out=str(out))
    torch.manual_seed(cfg.seed)
    initial = timm.create_model("test_resnet", num_classes=0, global_pool="").state_dict()
    record = fit(cfg)
    assert record["train_images"] == 16 and np.isfinite(record["train_loss"])
    state = load_checkpoint(out / "last.pt")["model"]
    # the GCN's last layer maps to the timm model's num_features (96 for test_resnet)
    assert timm.create_model("test_resnet", num_classes=0).num_features == 96
    last_gcn = [k for k in state if k.startswith("gcn.") and k.endswith("weight")][-1]
    assert state[last_gcn].shape[-1] == 96
    # fit seeds torch with cfg.seed before it builds the model, so `initial` is its starting point (equal at
    # lr 1e-30); after a step at lr 0.01 the first convolution has moved
    stem = [k for k in initial if k.endswith("weight") and initial[k].dim() == 4][0]
    torch.testing.assert_close(initial[stem].shape, state[f"backbone.model.{stem}"].shape)
    assert not torch.equal(initial[stem], state[f"backbone.model.{stem}"])


def _cache_weights(cache: Path, state: dict) -> Path:
    """The layout huggingface_hub writes: models--<org>--<name>/refs/main and snapshots/<commit>/<file>."""
    from safetensors.torch import save_file

    folder = cache / "models--timm--test_resnet.r160_in1k"
    snapshot = folder / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text("0" * 40)
    save_file({k: v.contiguous() for k, v in state.items()}, str(snapshot / "model.safetensors"))
    return snapshot / "model.safetensors"


def test_pretrained_weights_come_from_the_local_cache_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from labelgraph.train.models import build_backbone
    from labelgraph.train.models.timm_backbone import timm_weights_file

    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(ConfigError, match=r"pretrained weights for timm:test_resnet are not in the local cache: "
                                          r"fetch them once with .*create_model\('test_resnet', pretrained=True\).*"
                                          r"--no-pretrained"):
        build_backbone("timm:test_resnet", pretrained=True)
    torch.manual_seed(123)
    saved = timm.create_model("test_resnet").state_dict()   # with its 1000-class classifier, as published
    path = _cache_weights(cache, saved)
    assert timm_weights_file("test_resnet") == path
    backbone = build_backbone("timm:test_resnet", pretrained=True)
    got = backbone.model.state_dict()
    assert not any(k.startswith("fc.") for k in got)   # the classifier is dropped (num_classes=0)
    for key, value in got.items():
        torch.testing.assert_close(value, saved[key], rtol=0, atol=0, msg=key)


def test_unknown_timm_model_is_one_line(images: dict[str, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, _small_run(images, tmp_path / "run", "--backbone", "timm:no_such_net"))
    assert result.exit_code != 0
    lines = [x for x in result.output.strip().splitlines() if x.startswith("Error:")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert "timm has no model 'no_such_net'" in lines[0]
    assert not (tmp_path / "run" / "last.pt").exists()


def test_kssnet_refuses_timm_backbones() -> None:
    with pytest.raises(ConfigError, match=r"--backbone timm:resnet50: kssnet's lateral connections need the "
                                          r"res2–res4 stages .*--model mlgcn"):
        TrainConfig(model="kssnet", backbone="timm:resnet50").validate()


def test_without_timm_the_line_names_the_extra(images: dict[str, Path], tmp_path: Path) -> None:
    """timm made unimportable in a fresh interpreter (``sys.modules['timm'] = None``), the CLI run as a user would."""
    args = _small_run(images, tmp_path / "run", "--backbone", "timm:resnet50")
    code = ("import sys; sys.modules['timm'] = None; from labelgraph_cli.main import cli; "
            f"cli({args!r}, prog_name='labelgraph')")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=240,
                            cwd=ROOT)
    assert result.returncode != 0
    lines = [x for x in result.stderr.strip().splitlines() if x.strip()]
    assert lines == ["Error: timm is not installed: pip install 'labelgraph[timm]'"], result.stderr
    assert not (tmp_path / "run" / "last.pt").exists()
