"""The layers of docs/architecture.md hold: the import-linter contract passes, breaks on a forbidden import,
and ``import labelgraph`` + ``load`` pulls in no heavy library."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed (test extra)")


def _lint(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_layer_contract_is_kept() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package and the CLI as importable source folders, with the project's contract."""
    root = tmp_path_factory.mktemp("tree")
    ignore = shutil.ignore_patterns("__pycache__", "*.npz", "*.pkl", "*.csv")
    shutil.copytree(ROOT / "labelgraph", root / "labelgraph", ignore=ignore)
    shutil.copytree(ROOT / "cli", root / "labelgraph_cli", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


# (file, line to add at its end, the contract that must then break)
FORBIDDEN = [
    ("labelgraph/graphs/normalize.py", "def _late():\n    from ..artifact import Artifact\n",
     "The numeric core (graphs, stats) imports no artifact"),
    ("labelgraph/artifact.py", "def _late():\n    from .inspect.html import artifact_html\n",
     "Layers: CLI > trainer"),
    ("labelgraph/stats.py", "def _late():\n    import torch\n",
     "The numeric core (graphs, stats) imports no artifact"),
    ("labelgraph/inspect/summary.py", "def _late():\n    from ..train import engine\n",
     "Nothing imports the trainer but the CLI"),
]


@pytest.mark.parametrize("relpath, addition, contract", FORBIDDEN, ids=[f[0] for f in FORBIDDEN])
def test_a_forbidden_function_level_import_breaks_the_contract(tree_copy: Path, relpath: str, addition: str,
                                                               contract: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree_copy)}
    assert _lint(tree_copy, env).returncode == 0  # the copy is the project: kept before the change
    target = tree_copy / relpath
    original = target.read_text()
    target.write_text(original + "\n\n" + addition)
    try:
        result = _lint(tree_copy, env)
    finally:
        target.write_text(original)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert broken, result.stdout
    report = result.stdout.replace("\n", " ")
    assert f"{contract}" in report and "BROKEN" in report.split(contract, 1)[1][:200]


def test_import_and_load_pull_in_no_heavy_library() -> None:
    code = ("import sys, labelgraph\n"
            "a = labelgraph.load(labelgraph.bundled_path('voc'))\n"
            "print(a.num_labels, sorted(m for m in ('torch', 'networkx', 'matplotlib', 'pyarrow', 'dask')"
            " if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "20 []"
