"""Docs that run: every public name documented with an example, doctests pass, the README's commands work."""
from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

import labelgraph
from labelgraph_cli.main import cli

ROOT = Path(__file__).resolve().parents[1]


def _modules():
    names = ["labelgraph"]
    for info in pkgutil.walk_packages(labelgraph.__path__, "labelgraph."):
        if info.name.startswith("labelgraph.train"):
            continue  # torch modules: tested by the trainer's own tests
        names.append(info.name)
    return names


@pytest.mark.parametrize("name", _modules())
def test_doctests(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"


def test_public_names_have_docstrings_with_examples():
    missing = []
    for name in _modules():
        module = importlib.import_module(name)
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


def test_readme_offline_commands_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for line in _readme_block("The command line").splitlines():
        command = line.split("#")[0].strip()
        args = shlex.split(command)[1:]
        if not args or args[0] not in ("build", "show", "datasets") or any(
                a in args for a in ("--root", "--annotations", "--download", "--kind")):
            continue  # commands that need data or a store are covered by their own tests
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 0, (command, res.output)


def test_readme_python_block_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "graphs").mkdir()
    code = _readme_block("Python, in five lines")
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["A"].kind == "reweighted"
    assert namespace["dense"].shape == (80, 80)
