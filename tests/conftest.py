"""Shared fixtures: the real data in ../shared/data (skipped when absent, required when CI=true)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LABELGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))


def require_shared(*parts: str) -> Path:
    """The path ``../shared/data/<parts>``; skip the test when it is absent, fail when ``CI=true``."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        message = f"real data not found: {path}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true requires ../shared/data)")
        pytest.skip(message)
    return path


@pytest.fixture
def shared_data() -> Path:
    """The ``../shared/data`` folder."""
    return require_shared()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own LABELGRAPH_HOME (cache, stores), never the user's."""
    monkeypatch.setenv("LABELGRAPH_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture
def one_torch_thread():
    """Two cores shared by many processes: one torch thread trains the small heads many times faster than two."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
