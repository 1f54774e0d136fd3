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
     "Layers: CLI > API > trainer"),
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


def overlap_graph(M, n):
    """The toy kind's pure function (docs/architecture.md): ``M_ij / min(n_i, n_j)``, arrays in and out."""
    import numpy as np
    import scipy.sparse as sp

    M = sp.csr_matrix(M, dtype=np.float64).tocoo()
    n = np.asarray(n, dtype=np.float64)
    values = M.data / np.minimum(n[M.row], n[M.col])
    return sp.csr_matrix((values, (M.row, M.col)), shape=M.shape)


def test_a_graph_kind_is_one_registry_entry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import numpy as np

    from labelgraph import Artifact, build_graph, load
    from labelgraph.errors import ArtifactError
    from labelgraph.graphs.kinds import STATISTICAL_KINDS, GraphKind, association_kind

    stats = Artifact.statistics(["a", "b", "c"], [4, 2, 2], [[0, 2, 1], [2, 0, 0], [1, 0, 0]], 6)
    path = tmp_path / "overlap.npz"
    with np.load(labelgraph_file(tmp_path)) as z:
        arrays = dict(z.items())
    np.savez(path, **{**arrays, "kind": np.array("overlap")})  # a file of a kind not (yet) registered
    with pytest.raises(ArtifactError, match="unknown artifact kind 'overlap'"):
        load(path)

    # the whole change: this entry in labelgraph/graphs/kinds.py (and the function in graphs/)
    monkeypatch.setitem(STATISTICAL_KINDS, "overlap", GraphKind(
        "overlap", (), {}, "M_ij / min(n_i, n_j), saved as norm(X + I)",
        make=association_kind(lambda i: overlap_graph(i.M, i.n))))

    raw = build_graph(stats, "overlap", raw=True)
    # by hand: a-b 2 / min(4, 2) = 1, a-c 1 / min(4, 2) = 0.5, b-c never together
    assert raw.to_dense().tolist() == [[0, 1, 0.5], [1, 0, 0], [0.5, 0, 0]]
    assert raw.meta["kind"] == "overlap" and raw.meta["normalized"] is False
    normalized = build_graph(stats, "overlap", top_k=1)
    assert normalized.meta["top_k"] == 1 and normalized.to_dense()[0, 2] == 0.0  # a keeps only b
    assert load(normalized.save(tmp_path / "built.npz")).content_hash == normalized.content_hash
    assert load(path).kind == "overlap"  # the artifact's kind check reads the registry


def labelgraph_file(tmp_path: Path) -> Path:
    from labelgraph import Artifact

    return Artifact.graph("binary", ["a", "b"], [[0, 1], [1, 0]]).save(tmp_path / "plain.npz")
