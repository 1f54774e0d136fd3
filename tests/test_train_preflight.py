"""`labelgraph train` checks its arguments before importing torch, and `--help` shows TrainConfig's defaults."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest

import labelgraph
from labelgraph.train.config import TrainConfig
from tests.conftest import require_shared

# Runs the CLI in a fresh interpreter, then reports whether torch was imported on the way.
PROBE = """
import sys
from labelgraph_cli.main import cli
try:
    cli(sys.argv[1:], prog_name="labelgraph")
except SystemExit as exc:
    code = exc.code
print("torch imported:", "torch" in sys.modules, file=sys.stderr)
sys.exit(code)
"""


def run_probe(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))


def graph_and_embeddings(folder: Path, labels: list[str], dim: int = 4) -> tuple[Path, Path]:
    c = len(labels)
    g = labelgraph.Artifact.graph("binary", labels, np.eye(c)).save(folder / "g.npz")
    e = labelgraph.Artifact.embeddings(labels, np.ones((c, dim))).save(folder / "e.npz")
    return g, e


@pytest.mark.parametrize("case", ["preset", "annotations", "graph-missing", "embeddings-labels", "dataset-labels",
                                  "out-is-file"])
def test_bad_arguments_are_reported_without_importing_torch(tmp_path: Path, case: str) -> None:
    mulan = require_shared("mulan") / "yeast"
    root = ElementTree.parse(mulan.with_name("yeast.xml")).getroot()
    yeast = [el.attrib["name"] for el in root.iter() if el.tag.endswith("label")]  # the file's order
    g, e = graph_and_embeddings(tmp_path, yeast)
    base = ["train", "--dataset", "mulan", "--annotations", str(mulan), "--backbone", "features",
            "--graph", str(g), "--embeddings", str(e), "--out", str(tmp_path / "run")]
    expected = {"preset": "unknown preset 'mlgcn-cocoo'", "annotations": "no yeasst-train.arff",
                "graph-missing": "nope.npz", "embeddings-labels": "e.npz: label sets differ: only in dataset: " + yeast[13],
                "dataset-labels": "only in dataset: " + yeast[13], "out-is-file": "is a file"}[case]
    args = list(base)
    if case == "preset":
        args += ["--preset", "mlgcn-cocoo"]
    elif case == "annotations":
        args[args.index("--annotations") + 1] = str(mulan.with_name("yeasst"))
    elif case == "graph-missing":
        args[args.index("--graph") + 1] = str(tmp_path / "nope.npz")
    elif case in ("embeddings-labels", "dataset-labels"):
        (tmp_path / "short").mkdir()
        g13, e13 = graph_and_embeddings(tmp_path / "short", yeast[:13])
        args[args.index("--embeddings") + 1] = str(e13)
        if case == "dataset-labels":
            args[args.index("--graph") + 1] = str(g13)
    elif case == "out-is-file":
        (tmp_path / "run").write_text("not a folder")
    proc = run_probe(*args, cwd=tmp_path)
    lines = [x for x in proc.stderr.splitlines() if x.startswith("Error:")]
    assert proc.returncode != 0 and len(lines) == 1, proc.stderr
    assert expected in lines[0], lines[0]
    assert "torch imported: False" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_shows_the_config_defaults() -> None:
    from click.testing import CliRunner

    from labelgraph_cli.main import cli

    text = " ".join(CliRunner().invoke(cli, ["train", "--help"], terminal_width=200).output.split())
    text = text[text.index("Options:"):]
    defaults = TrainConfig()
    for option, value in (("--epochs", defaults.epochs), ("--batch-size", defaults.batch_size),
                          ("--lr", defaults.lr), ("--hidden", defaults.hidden), ("--optimizer", defaults.optimizer),
                          ("--out", defaults.out)):
        start = text.index(option + " ")
        assert f"[default: {value}]" in text[start:start + 300], option
    # --workers has no fixed default since issue 14: None in the config, resolved from the CPU count
    assert defaults.workers is None
    start = text.index("--workers ")
    assert "[default: CPUs per process − 1, at most 8]" in text[start:start + 300]
