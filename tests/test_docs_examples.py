"""The documentation's copy-paste examples run as they are written, in a fresh folder."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, require_shared


def bash_block_after(page: Path, marker: str) -> str:
    """The first ```bash block after the line holding ``marker``."""
    text = page.read_text()
    start = text.index(marker)
    match = re.search(r"```bash\n(.*?)```", text[start:], re.S)
    assert match, f"{page}: no bash block after {marker!r}"
    return match.group(1)


def run_block(block: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    bindir = str(Path(sys.executable).parent)
    full_env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"], **(env or {}))
    return subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=900)


@pytest.mark.slow
@pytest.mark.timeout(1200)  # 20 epochs on a CPU, in a subprocess per command
def test_train_md_mulan_example_runs_and_its_scores_give_its_map(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from sklearn.metrics import average_precision_score

    data = require_shared("mulan").parent
    require_shared("glove", "glove.6B.50d.txt.gz")
    block = bash_block_after(ROOT / "docs" / "train.md", "tests/test_docs_examples.py runs this block")
    assert block.startswith("DATA=../shared/data\n")
    block = block.replace("DATA=../shared/data", f"DATA={data}", 1)
    proc = run_block(block, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "runs" / "yeast" / "best.pt").is_file()
    # the evaluation's printed mAP is the mean per-label AP of its own saved scores (sklearn, independently)
    with np.load(tmp_path / "runs" / "yeast" / "test_scores.npz", allow_pickle=False) as z:
        scores, targets = z["scores"], z["targets"]
    assert scores.shape == targets.shape == (917, 14)  # yeast-test: 917 samples, 14 labels (MULAN's own figures)
    expected = np.mean([average_precision_score(targets[:, j], scores[:, j]) for j in range(14)])
    printed = re.search(r"best\.pt on test \(917 samples\)\n.*?\n.*?\n\S+\s+([\d.]+)", proc.stdout, re.S)
    assert printed, proc.stdout
    assert float(printed.group(1)) == pytest.approx(100 * expected, abs=0.051)
    assert expected > 0.45  # 20 epochs on yeast learn more than chance (mean label frequency 0.30)
