"""Docs that run: every public name documented with an example, doctests pass, the README's commands work."""
from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
import tempfile
from pathlib import Path

import pytest

import labelgraph

ROOT = Path(__file__).resolve().parents[1]


_NEEDS_TRAIN_EXTRA = ("torch", "torchvision", "PIL", "timm")  # timm: the [timm] extra


def _modules():
    names = ["labelgraph"]
    for info in pkgutil.walk_packages(labelgraph.__path__, "labelgraph."):
        names.append(info.name)
    return names


def _import(name: str):
    """The module; a skip naming the missing extra when it needs the trainer's packages."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in _NEEDS_TRAIN_EXTRA:
            pytest.skip(f"{name} needs {exc.name} (pip install 'labelgraph[train]')")
        raise


@pytest.mark.parametrize("name", _modules())
def test_doctests(name, tmp_path, monkeypatch):
    """Each docstring's examples run in a fresh folder, which is also their working folder and their
    ``tmp`` (a :class:`pathlib.Path`); the system temp folder they see is another fresh folder, which
    must be empty afterwards: an example leaves nothing behind."""
    module = _import(name)
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    for var in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.setenv(var, str(system_tmp))
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures = []
    for i, test in enumerate(finder.find(module, name)):
        if not test.examples:
            continue
        folder = tmp_path / f"doc{i}"
        folder.mkdir()
        monkeypatch.chdir(folder)
        test.globs["tmp"] = folder
        out: list[str] = []
        result = runner.run(test, out=out.append, clear_globs=True)
        if result.failed:
            failures.append("".join(out))
    assert not failures, f"doctest(s) failed in {name}:\n" + "\n".join(failures)
    # torch keeps its compiler cache (torchinductor_<user>) in the temp folder on first import: not an example's
    left = sorted(p.name for p in system_tmp.iterdir() if not p.name.startswith("torchinductor_"))
    assert not left, f"{name}'s examples left {left} in the temp folder: write under `tmp` instead"


def test_public_names_have_docstrings_with_examples():
    missing = []
    for name in _modules():
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] in _NEEDS_TRAIN_EXTRA:
                continue  # checked where the trainer's extra is installed
            raise
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or obj.__module__ != name:
                continue
            doc = inspect.getdoc(obj) or ""
            if inspect.isfunction(obj) and "Examples" not in doc:
                missing.append(f"{name}.{attr}")
            elif not doc:
                missing.append(f"{name}.{attr} (no docstring)")
    assert not missing, "public functions without an Examples section: " + ", ".join(missing)


def _readme_block(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split(f"## {title}", 1)[1]
    return re.search(r"```(?:bash|python)\n(.*?)```", section, re.S).group(1)


def test_readme_quickstart_commands_are_the_ci_commands():
    quick = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text().split("## Quickstart", 1)[1], re.S)
    run_cmd, test_cmd = quick[0].strip(), quick[1].strip()
    assert run_cmd.endswith("labelgraph build --dataset coco --tau 0.4")
    assert test_cmd in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
def test_readme_first_session_runs_top_to_bottom_twice(tmp_path):
    """The README's first session as a user types it, in an empty folder, twice; ConceptNet is a
    loopback server with the API's page format (edges between neighbouring COCO labels)."""
    import os
    import subprocess
    import sys

    import labelgraph
    from tests._conceptnet_server import FakeConceptNet, make_edge

    block = _readme_block("The command line")
    labels = labelgraph.load(labelgraph.bundled_path("coco")).labels
    concept = {x: "/c/en/" + x.replace(" ", "_") for x in labels}
    edges = [make_edge("AtLocation", concept[a], concept[b], 2.0) for a, b in zip(labels, labels[1:])]
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
               LABELGRAPH_CONCEPTNET_RATE="1000")
    with FakeConceptNet(edges) as server:
        env["LABELGRAPH_CONCEPTNET_URL"] = server.url
        first = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=600)
        assert first.returncode == 0, first.stderr[-3000:]
        files = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "graphs").iterdir()}
        second = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=600)
        assert second.returncode == 0, second.stderr[-3000:]
        assert len([r for r in server.log if "/query" in r[1]]) == len(labels)  # the second fetch asks nothing
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "graphs").iterdir()} == files  # nothing rewritten
    for name in ("coco2014_statistics.npz", "coco2014_knowledge.npz", "coco2014_ks_l0.4_t0.02_e0.4.npz",
                 "voc2007_ppmi_k5.npz", "coco2014_identity.npz", "coco2014_mlgcn_t0.4_p0.25.pyg.npz"):
        assert name in files, sorted(files)
    # the knowledge graph holds exactly the served edges (either direction, SPEC §2.5)
    A_K = labelgraph.load(tmp_path / "graphs" / "coco2014_knowledge.npz")
    assert A_K.matrix.nnz == 2 * (len(labels) - 1)
    assert A_K.matrix[0, 1] == A_K.matrix[1, 0] == 2.0 and A_K.matrix[0, 2] == 0.0
    statuses = re.findall(r"\s(new|replaced|unchanged)$", second.stdout, re.M)
    assert statuses and set(statuses) == {"unchanged"}, second.stdout


def test_readme_python_block_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "graphs").mkdir()
    code = _readme_block("Python, in five lines")
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["A"].kind == "reweighted"
    assert namespace["dense"].shape == (80, 80)
