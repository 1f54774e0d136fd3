"""The quickstart ``labelgraph build --dataset coco --tau 0.4`` imports only what building bundled statistics needs.

Each check runs in a fresh interpreter and reads ``sys.modules`` after the work, so a module
imported at the top of any file on the path shows up, whichever test ran before.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

#: Modules the quickstart build must not import (each costs more than the build computes, or is an extra).
OFF_THE_PATH = (
    "scipy.sparse.linalg", "scipy.sparse.csgraph", "scipy.linalg", "scipy.spatial", "scipy.cluster",
    "scipy.special", "scipy.stats", "matplotlib", "networkx", "pyarrow", "dask", "torch", "tqdm", "sqlite3",
    "labelgraph.api.ablate", "labelgraph.api.sweep", "labelgraph.api.embed", "labelgraph.inspect",
    "labelgraph.train", "labelgraph.conceptnet", "labelgraph.embeddings",
)


def imported_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def on_path(modules: set[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_import_of_the_build_api_keeps_the_heavy_modules_off() -> None:
    modules = imported_after("import labelgraph.api.build")
    assert "labelgraph.api.build" in modules  # the probe works
    assert [name for name in OFF_THE_PATH if on_path(modules, name)] == []


def test_the_quickstart_build_keeps_the_heavy_modules_off(tmp_path: Path) -> None:
    argv = ["labelgraph", "build", "--dataset", "coco", "--tau", "0.4", "--out", str(tmp_path), "-q"]
    code = (f"import sys\nfrom labelgraph_cli.main import cli\nsys.argv = {argv!r}\n"
            "try:\n    cli()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code")
    modules = imported_after(code)
    built = sorted(p.name for p in tmp_path.glob("coco2014_*.npz"))
    assert "coco2014_binary_t0.4.npz" in built and "coco2014_statistics.npz" in built  # it did build
    assert "labelgraph.graphs.measures" in modules
    assert [name for name in OFF_THE_PATH if on_path(modules, name)] == []


def test_the_api_package_still_gives_every_name() -> None:
    import labelgraph.api as api

    for name in api.__all__:
        assert getattr(api, name) is getattr(__import__(f"labelgraph.api.{api._LAZY[name]}",
                                                        fromlist=[name]), name)
