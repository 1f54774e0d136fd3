"""docs/inspect.ipynb runs top to bottom in a real Jupyter kernel; any cell error (or failed assert) fails."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "inspect.ipynb"
KERNEL = "labelgraph-test"


@pytest.fixture
def kernel_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec that runs *this* interpreter (the project's venv), found first on JUPYTER_PATH."""
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "labelgraph test kernel",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return KERNEL


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_inspect_notebook_executes(kernel_spec: str) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name=kernel_spec, timeout=180, allow_errors=False,
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells and all(c.execution_count for c in code_cells)
    errors = [o for c in code_cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    text = "".join(o.get("text", "") for c in code_cells for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert "80 labels, 82081 images" in text
    # the executing kernel was the venv's interpreter: its html view of the ks artifact shows every label
    html = [o["data"]["text/html"] for c in code_cells for o in c.get("outputs", [])
            if o.get("output_type") == "execute_result" and "text/html" in o.get("data", {})]
    assert any("labelgraph ks artifact" in h and "toothbrush" in h for h in html)
