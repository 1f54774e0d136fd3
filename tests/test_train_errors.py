"""Bad input to the trainer: one clear line naming the problem, a non-zero exit, nothing half-written."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("PIL")

from click.testing import CliRunner  # noqa: E402

import labelgraph  # noqa: E402
from labelgraph_cli.main import cli  # noqa: E402
from tests.test_train_run import (LABELS, image_args, images, mulan, mulan_args, read_log,  # noqa: E402,F401
                                  write_images)


def invoke(args: list[str]):
    return CliRunner().invoke(cli, args)


def one_line_error(result, *fragments: str) -> str:
    assert result.exit_code != 0, result.output
    lines = [x for x in result.output.strip().splitlines() if x.startswith("Error:")]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture()
def own_images(tmp_path: Path) -> dict[str, Path]:
    from labelgraph.train.data import read_image_csv
    from tests.test_train_run import write_label_inputs

    root = write_images(tmp_path / "imgs", n_train=8, n_val=4)
    ls, _ = read_image_csv(root / "train.csv")
    graph, emb = write_label_inputs(tmp_path, ls)
    return {"root": root, "graph": graph, "embeddings": emb}


def test_graph_with_other_labels_names_the_differences(mulan: dict, tmp_path: Path) -> None:
    data = mulan["scene"]
    g = labelgraph.load(data["graph"])
    renamed = list(g.labels)
    renamed[2] = "Beach"
    other = labelgraph.Artifact.graph(g.kind, renamed, g.matrix, dict(g.meta)).save(tmp_path / "other.npz")
    args = mulan_args(dict(data, graph=other), tmp_path / "run", "--epochs", "1")
    line = one_line_error(invoke(args), str(other), "only in graph", "Beach", "only in dataset", "Class3")
    assert not (tmp_path / "run" / "last.pt").exists()
    # same names in another order: refused, then aligned by name with --align
    shuffled = g.reorder(list(reversed(g.labels))).save(tmp_path / "reversed.npz")
    args = mulan_args(dict(data, graph=shuffled), tmp_path / "run2", "--epochs", "1")
    one_line_error(invoke(args), "another order", "--align")
    ok = invoke(args + ["--align"])
    assert ok.exit_code == 0, ok.output
    assert line


def test_embeddings_of_the_wrong_dimension(mulan: dict, tmp_path: Path) -> None:
    data = mulan["scene"]
    out = tmp_path / "run"
    assert invoke(mulan_args(data, out, "--epochs", "1")).exit_code == 0
    labels = labelgraph.load(data["embeddings"]).labels
    wide = labelgraph.Artifact.embeddings(labels, np.ones((len(labels), 50), np.float32)).save(tmp_path / "e50.npz")
    result = invoke(["evaluate", str(out / "last.pt"), "--graph", str(data["graph"]), "--embeddings", str(wide)])
    one_line_error(result, "e50.npz", "50-dimensional", "6-dimensional")
    resumed = invoke(mulan_args(dict(data, embeddings=wide), out, "--epochs", "2", "--resume"))
    one_line_error(resumed, "50 dimensions", "6-dimensional")


def test_missing_image_is_counted_and_skip_missing_goes_on(own_images: dict, tmp_path: Path) -> None:
    (own_images["root"] / "train" / "003.jpg").unlink()
    (own_images["root"] / "train" / "005.jpg").unlink()
    result = invoke(image_args(own_images, tmp_path / "run", "--epochs", "1"))
    one_line_error(result, "003.jpg", "missing", "2 of 8", "--skip-missing")
    assert not (tmp_path / "run").exists()
    # --val-fraction 0: all 6 present images train (none held out)
    ok = invoke(image_args(own_images, tmp_path / "run", "--epochs", "1", "--skip-missing", "--val-fraction", "0"))
    assert ok.exit_code == 0, ok.output
    assert read_log(tmp_path / "run")[0]["train_images"] == 6


@pytest.mark.parametrize("workers", ["0", "1"])
def test_corrupt_image_names_the_file(own_images: dict, tmp_path: Path, workers: str) -> None:
    bad = own_images["root"] / "train" / "002.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg at all" * 3)
    args = image_args(own_images, tmp_path / "run", "--epochs", "1")
    args[args.index("--workers") + 1] = workers
    one_line_error(invoke(args), "002.jpg", "cannot decode image")
    assert not (tmp_path / "run" / "last.pt").exists()


def test_amp_bf16_without_bf16(mulan: dict, tmp_path: Path) -> None:
    from labelgraph.train.engine import cpu_has_native_bf16

    if torch.cuda.is_available() or cpu_has_native_bf16():
        pytest.skip("this machine has bfloat16 support; the error cannot happen here")
    result = invoke(mulan_args(mulan["scene"], tmp_path / "run", "--epochs", "1", "--amp", "bf16", "--device", "cpu"))
    one_line_error(result, "--amp bf16", "bfloat16")
    fp16 = invoke(mulan_args(mulan["scene"], tmp_path / "run", "--epochs", "1", "--amp", "fp16", "--device", "cpu"))
    one_line_error(fp16, "--amp fp16", "CUDA")


def test_compile_failure_falls_back_with_a_warning(mulan: dict, tmp_path: Path, caplog) -> None:
    import logging

    caplog.set_level(logging.WARNING)
    args = mulan_args(mulan["scene"], tmp_path / "run", "--epochs", "1", "--compile", "--compile-backend",
                      "no-such-backend")
    result = invoke(args)
    assert result.exit_code == 0, result.output
    assert any("--compile failed" in r.getMessage() and "eager" in r.getMessage() for r in caplog.records)
    assert read_log(tmp_path / "run")[0]["metrics"]["mAP"] > 0


def test_resume_without_checkpoint(mulan: dict, tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    result = invoke(mulan_args(mulan["scene"], tmp_path / "run", "--epochs", "1", "--resume"))
    one_line_error(result, str(tmp_path / "run"), "no checkpoint to resume")


def test_unknown_preset_lists_the_presets(mulan: dict, tmp_path: Path) -> None:
    result = invoke(["train", "--preset", "mlgcn-imagenet", "--out", str(tmp_path / "x")])
    one_line_error(result, "mlgcn-imagenet", "mlgcn-coco", "mlgcn-voc", "kssnet-coco", "kssnet-charades")


def test_pickled_graph_is_refused(mulan: dict, tmp_path: Path) -> None:
    data = mulan["scene"]
    g = labelgraph.load(data["graph"])
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, labels=np.array(g.labels), kind=np.array("mlgcn"),
             matrix=np.array([g.to_dense()], dtype=object))
    result = invoke(mulan_args(dict(data, graph=pickled), tmp_path / "run", "--epochs", "1"))
    one_line_error(result, "pickled.npz", "pickle")


class NotAllowed:
    """Any class outside torch's weights-only allow-list."""

    def __init__(self) -> None:
        self.x = 1


def test_checkpoint_needing_full_unpickling_is_refused(mulan: dict, tmp_path: Path) -> None:
    from labelgraph.train.checkpoint import CHECKPOINT_FORMAT, load_checkpoint

    data = mulan["scene"]
    out = tmp_path / "run"
    assert invoke(mulan_args(data, out, "--epochs", "1")).exit_code == 0
    state = torch.load(out / "last.pt", weights_only=True)
    state["payload"] = NotAllowed()
    evil = tmp_path / "evil.pt"
    torch.save(state, evil)
    assert state["format"] == CHECKPOINT_FORMAT
    one_line_error(invoke(["evaluate", str(evil)]), "evil.pt", "weights_only=False")
    from labelgraph.errors import ArtifactError

    with pytest.raises(ArtifactError, match="refused"):
        load_checkpoint(evil)
    # --resume from such a file is refused the same way
    shutil.copy(evil, out / "last.pt")
    one_line_error(invoke(mulan_args(data, out, "--epochs", "2", "--resume")), "weights_only=False")


def test_existing_run_is_not_overwritten(mulan: dict, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert invoke(mulan_args(mulan["scene"], out, "--epochs", "1")).exit_code == 0
    before = (out / "last.pt").read_bytes()
    one_line_error(invoke(mulan_args(mulan["scene"], out, "--epochs", "1")), "already holds a run", "--resume")
    assert (out / "last.pt").read_bytes() == before
    assert json.loads((out / "config.json").read_text())["epochs"] == 1
