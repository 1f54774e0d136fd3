"""Running a command twice: unchanged outputs are reused, changed ones need --force, a failed run leaves nothing.

Everything runs the real CLI (click's CliRunner, or a subprocess where a process-level limit,
a signal or a mount namespace is part of the case).
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import labelgraph
from labelgraph_cli.main import cli

LABELGRAPH = [sys.executable, "-m", "labelgraph_cli.main"]
ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(ROOT)}


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def coco_knowledge(path: Path) -> Path:
    """A symmetric 0/1 knowledge graph over COCO's labels (random, fixed seed)."""
    stats = labelgraph.load(labelgraph.bundled_path("coco"))
    rng = np.random.default_rng(3)
    A = np.triu(rng.random((80, 80)) < 0.05, 1).astype(float)
    labelgraph.Artifact.graph("knowledge", stats.labels, A + A.T).save(path)
    return path


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_readme_sequence_reuses_the_statistics(tmp_path: Path) -> None:
    out = tmp_path / "graphs"
    first = run("build", "--dataset", "coco", "--tau", "0.4", "--out", out, "--json")
    assert first.exit_code == 0, first.output
    stats_file = out / "coco2014_statistics.npz"
    before = (stats_file.read_bytes(), stats_file.stat().st_mtime_ns)
    knowledge = coco_knowledge(tmp_path / "knowledge.npz")
    second = run("build", "--dataset", "coco", "--kind", "ks", "--preset", "kssnet-coco", "--knowledge", knowledge,
                 "--out", out, "--json")
    assert second.exit_code == 0, second.output
    doc = json.loads(second.output)
    assert doc["statistics_status"] == "unchanged"
    assert [g["status"] for g in doc["graphs"]] == ["new"]
    assert (stats_file.read_bytes(), stats_file.stat().st_mtime_ns) == before  # not even rewritten
    bundled = labelgraph.load(labelgraph.bundled_path("coco"))
    assert labelgraph.load(stats_file).content_hash == bundled.content_hash


def test_the_same_build_twice_changes_nothing(tmp_path: Path) -> None:
    assert run("build", "--dataset", "voc", "--out", tmp_path).exit_code == 0
    before = snapshot(tmp_path)
    again = run("build", "--dataset", "voc", "--out", tmp_path, "--json")
    assert again.exit_code == 0, again.output
    doc = json.loads(again.output)
    assert doc["statistics_status"] == "unchanged" and {g["status"] for g in doc["graphs"]} == {"unchanged"}
    assert snapshot(tmp_path) == before
    assert run("stats", "--dataset", "voc", "--out", tmp_path).exit_code == 0
    assert snapshot(tmp_path) == before


def test_a_changed_output_names_what_differs(tmp_path: Path) -> None:
    assert run("build", "--dataset", "voc", "--kind", "binary", "--name", "mine", "--out", tmp_path).exit_code == 0
    res = run("build", "--dataset", "coco", "--kind", "binary", "--name", "mine", "--out", tmp_path)
    assert res.exit_code != 0
    assert len(res.output.strip().splitlines()) == 1
    assert "mine_statistics.npz: already exists and would change (labels (20 -> 80)" in res.output
    assert labelgraph.load(tmp_path / "mine_binary_t0.4.npz").num_labels == 20  # nothing of the second run
    res = run("build", "--dataset", "coco", "--kind", "binary", "--name", "mine", "--out", tmp_path, "--force",
              "--json")
    assert res.exit_code == 0 and {g["status"] for g in json.loads(res.output)["graphs"]} == {"replaced"}
    assert labelgraph.load(tmp_path / "mine_binary_t0.4.npz").num_labels == 80


def test_sweep_files_written_twice(tmp_path: Path) -> None:
    args = ["sweep", "--kind", "binary", "--dataset", "voc", "--tau", "0.3,0.4", "--csv", tmp_path / "s.csv",
            "--save-json", tmp_path / "s.json", "-q"]
    assert run(*args).exit_code == 0
    before = snapshot(tmp_path)
    assert run(*args).exit_code == 0
    assert snapshot(tmp_path) == before
    res = run("sweep", "--kind", "binary", "--dataset", "voc", "--tau", "0.5", "--csv", tmp_path / "s.csv", "-q")
    assert res.exit_code != 0 and "s.csv: already exists and would change" in res.output


def _limited_build(out: Path, max_bytes: int) -> subprocess.CompletedProcess:
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return subprocess.run(LABELGRAPH + ["build", "--dataset", "coco", "--out", str(out)], preexec_fn=limit,
                          capture_output=True, text=True, env=ENV, timeout=300)


def test_a_failed_write_leaves_no_output_of_the_run(tmp_path: Path) -> None:
    # The statistics file (13 kB) fits under 15 000 bytes; the probability graph (18 kB) does not.
    out = tmp_path / "graphs"
    proc = _limited_build(out, 15_000)
    assert proc.returncode == 5  # the operating system refused the write (WriteError)
    assert proc.stderr.strip() == f"Error: {out / 'coco2014_probability.npz'}: cannot write (File too large)"
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert list(out.iterdir()) == []  # neither the statistics nor any temporary


def test_a_full_filesystem_leaves_no_output_of_the_run(tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("no unshare(1) to mount a small tmpfs")
    mount = tmp_path / "small"
    mount.mkdir()
    script = textwrap.dedent(f"""
        mount -t tmpfs -o size=16k tmpfs {mount} || exit 77
        {' '.join(LABELGRAPH[:2])} '{LABELGRAPH[2]}' build --dataset coco --out {mount}/graphs
        echo "exit=$?"
        ls -A {mount}/graphs
    """)
    flags = ["-m"] if os.geteuid() == 0 else ["-r", "-m"]
    proc = subprocess.run([unshare, *flags, "sh", "-c", script], capture_output=True, text=True, env=ENV,
                          timeout=300)
    if proc.returncode == 77 or "unshare failed" in proc.stderr or "Operation not permitted" in proc.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()[:200]}")
    error_lines = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert error_lines and "No space left on device" in error_lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout.splitlines() == ["exit=5"]  # WriteError's exit code; `ls -A` printed no file


def test_an_os_error_in_atomic_write_is_one_artifact_error(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import resource, signal, sys
        from labelgraph._atomic import atomic_write
        from labelgraph.errors import ArtifactError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (10_000, 10_000))
        try:
            with atomic_write(sys.argv[1]) as handle:
                handle.write(b"x" * 100_000)
        except ArtifactError as exc:
            print(exc)
    """)
    target = tmp_path / "big.bin"
    proc = subprocess.run([sys.executable, "-c", script, str(target)], capture_output=True, text=True, env=ENV,
                          timeout=60)
    assert proc.stdout.strip() == f"{target}: cannot write (File too large)", proc.stderr
    assert list(tmp_path.iterdir()) == []


WRITER = """
import sys, time
from labelgraph._atomic import atomic_write
with atomic_write(sys.argv[1]) as handle:
    handle.write(b"x" * 3_000_000)
    handle.flush()
    print("ready", flush=True)
    time.sleep(600)
"""


def test_temporaries_of_a_killed_writer_are_removed_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "voc2007_binary_t0.4.npz"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True,
                              env=ENV)
    assert writer.stdout.readline().strip() == "ready"
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    [left] = list(tmp_path.iterdir())
    assert left.name.startswith(f".{target.name}.{writer.pid}.") and left.name.endswith(".tmp")
    assert left.stat().st_size == 3_000_000 and not target.exists()
    an_hour_ago = time.time() - 3600
    os.utime(left, (an_hour_ago, an_hour_ago))

    # A temporary of a process that still runs, and a recent one of a dead process, are kept.
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        live_tmp = tmp_path / f".other.npz.{alive.pid}.abc123.tmp"
        live_tmp.write_bytes(b"y")
        os.utime(live_tmp, (an_hour_ago, an_hour_ago))
        recent_tmp = tmp_path / f".recent.npz.{writer.pid}.def456.tmp"
        recent_tmp.write_bytes(b"z")
        res = run("build", "--dataset", "voc", "--kind", "binary", "--out", tmp_path)
        assert res.exit_code == 0, res.output
        assert not left.exists()
        assert live_tmp.exists() and recent_tmp.exists()
        assert target.exists()
    finally:
        alive.kill()
        alive.wait()


@pytest.mark.parametrize("target, suffix", [("pyg", ".pyg.npz"), ("npy", ".npy"), ("pt", ".pt"), ("csv", ".csv")])
def test_export_twice_keeps_the_file_and_a_change_needs_force(tmp_path: Path, target: str, suffix: str) -> None:
    if target == "pt":
        pytest.importorskip("torch")
    g = labelgraph.Artifact.graph("binary", ["a", "b", "c"], [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    source = g.save(tmp_path / "g.npz")
    out = tmp_path / f"out{suffix}"
    assert run("export", source, "--to", target, "--out", out).exit_code == 0
    before = (out.read_bytes(), out.stat().st_mtime_ns)
    again = run("export", source, "--to", target, "--out", out)
    assert again.exit_code == 0, again.output
    assert (out.read_bytes(), out.stat().st_mtime_ns) == before
    other = labelgraph.Artifact.graph("binary", ["a", "b", "c"], [[0, 1, 1], [0, 0, 1], [1, 0, 0]])
    other.save(source, force=True)
    changed = run("export", source, "--to", target, "--out", out)
    assert changed.exit_code != 0 and "would change" in changed.output and str(out) in changed.output
    assert run("export", source, "--to", target, "--out", out, "--force").exit_code == 0
    assert out.read_bytes() != before[0]


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_plot_twice_writes_the_same_bytes(tmp_path: Path, suffix: str) -> None:
    pytest.importorskip("matplotlib")
    source = labelgraph.Artifact.graph("binary", ["a", "b", "c"], [[0, 1, 0], [1, 0, 1], [0, 1, 0]]).save(
        tmp_path / "g.npz")
    out = tmp_path / f"fig{suffix}"
    first = subprocess.run([*LABELGRAPH, "plot", str(source), "--out", str(out)], env=ENV, capture_output=True,
                           text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    data = out.read_bytes()
    second = subprocess.run([*LABELGRAPH, "plot", str(source), "--out", str(out)], env=ENV, capture_output=True,
                            text=True, timeout=120)  # another process: no state shared with the first
    assert second.returncode == 0, second.stderr
    assert out.read_bytes() == data
