"""One error boundary in the click group: each exception family through a real command and a real trigger.

Every case checks what a user sees: a non-zero exit code, exactly one line on
stderr naming the file, and no traceback; ``--debug`` and ``LABELGRAPH_DEBUG=1``
bring the traceback back.
"""
from __future__ import annotations

import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import labelgraph
from labelgraph_cli._common import EXIT_CODES, error_line
from labelgraph_cli.main import cli


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def labelgraph_process(*args: object, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """The real CLI in a child process (``python -m labelgraph_cli.main``)."""
    return subprocess.run([sys.executable, "-m", "labelgraph_cli.main", *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120, **kwargs)


def assert_one_line(exit_code: int, stderr: str, *fragments: str, code: int | None = None) -> str:
    assert exit_code not in (0, None), stderr
    if code is not None:
        assert exit_code == code, (exit_code, stderr)
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def graph(tmp_path: Path) -> Path:
    res = run("build", "--dataset", "voc", "--kind", "binary", "--out", tmp_path / "g", "-q")
    assert res.exit_code == 0, res.output
    return tmp_path / "g" / "voc2007_binary_t0.4.npz"


def test_exit_codes_are_documented_in_the_help():
    res = run("--help")
    assert res.exit_code == 0
    for code in EXIT_CODES:
        if code:
            assert f"{code} " in res.output, code


def test_out_under_a_regular_file_is_one_line(tmp_path, graph):
    # the store's folder cannot be made: its parent is a regular file (NotADirectoryError / FileExistsError)
    (tmp_path / "afile").write_text("x")
    dump = tmp_path / "dump.csv"
    dump.write_text("")
    res = run("conceptnet", "ingest", dump, "--store", tmp_path / "afile" / "sub" / "cn.sqlite", "-q")
    assert_one_line(res.exit_code, res.stderr, str(tmp_path / "afile"), code=5)


def test_output_to_a_full_disk_names_stdout(graph):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "labelgraph_cli.main", "show", str(graph), "--json"],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    line = assert_one_line(proc.returncode, proc.stderr, "<stdout>", "no space left on device", code=5)
    assert line.startswith("Error: ")


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux sysfs")
def test_permission_denied_names_the_file(graph):
    # sysfs refuses new files to everyone, root included (chmod would not stop root)
    res = run("export", graph, "--to", "csv", "--out", "/sys/labelgraph-test.csv")
    line = assert_one_line(res.exit_code, res.stderr, "/sys/", code=5)
    assert "permission denied" in line.lower() or "operation not permitted" in line.lower(), line
    assert not Path("/sys/labelgraph-test.csv").exists()


def test_non_utf8_file_in_a_reader_without_its_own_check(tmp_path):
    # Charades' classes file is read as UTF-8 text: 0xe9 (latin-1 é) reaches the boundary as UnicodeDecodeError
    root = tmp_path / "Charades"
    root.mkdir()
    (root / "Charades_v1_classes.txt").write_bytes(b"c000 Holding some clothes\nc001 Caf\xe9 scene\n")
    (root / "Charades_v1_train.csv").write_text("id,actions\nV1,c000 0.0 1.0\n")
    res = run("build", "--dataset", "charades", "--root", root, "--kind", "binary", "--out", tmp_path / "g", "-q")
    line = assert_one_line(res.exit_code, res.stderr, "Charades_v1_classes.txt", "not UTF-8 text", code=2)
    assert not (tmp_path / "g").exists() or not any((tmp_path / "g").iterdir()), line


def test_deeply_nested_json_meta_is_one_line(tmp_path, graph):
    # an artifact whose meta JSON nests 100,000 lists deep: json.loads hits the recursion limit
    arrays = dict(np.load(graph, allow_pickle=False))
    arrays["meta"] = np.array("[" * 100_000 + "]" * 100_000)
    hostile = tmp_path / "nested.npz"
    np.savez(hostile, **arrays)
    res = run("show", hostile)
    assert_one_line(res.exit_code, res.stderr, str(hostile), code=2)


def test_locked_store_is_one_line_naming_it(tmp_path):
    store = tmp_path / "cn.sqlite"
    dump = tmp_path / "dump.csv"
    dump.write_text("")
    assert run("conceptnet", "ingest", dump, "--store", store, "-q").exit_code == 0
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        t0 = time.monotonic()
        proc = labelgraph_process("conceptnet", "ingest", dump, "--store", store, "-q")
        elapsed = time.monotonic() - t0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_one_line(proc.returncode, proc.stderr, str(store), "locked")
    assert elapsed < 60


def test_debug_flag_and_environment_show_the_traceback(graph):
    def show_to_full_disk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        with open("/dev/full", "w") as full:
            return subprocess.run([sys.executable, "-m", "labelgraph_cli.main", *args, "show", str(graph), "--json"],
                                  stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
                                  env={**os.environ, **(env or {})})

    quiet = show_to_full_disk(env={"LABELGRAPH_DEBUG": "0"})
    assert_one_line(quiet.returncode, quiet.stderr, "<stdout>", code=5)
    for proc in (show_to_full_disk("--debug"), show_to_full_disk(env={"LABELGRAPH_DEBUG": "1"})):
        assert proc.returncode != 0
        assert "Traceback" in proc.stderr and "No space left on device" in proc.stderr, proc.stderr[-2000:]


def test_interrupt_is_one_line_exit_130(tmp_path):
    # a real SIGINT while the command waits for input (an ingest reading a dump from a pipe that stays open)
    store = tmp_path / "cn.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "labelgraph_cli.main", "conceptnet", "ingest", "-",
                             "--store", str(store), "-q"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".*ingest*")) and time.monotonic() < deadline:
            time.sleep(0.1)  # until the ingest has started (its temporary database exists)
        time.sleep(2.0)  # and is blocked reading the pipe (its imports done: Python ignores an interrupt there)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert_one_line(proc.returncode, stderr, "interrupted", code=130)
    assert not store.exists()  # nothing half-written


def test_vector_zip_member_outside_the_archive_is_read_by_name_not_extracted(tmp_path):
    # a member named ../../escaped.txt is read in place; its name is reported; nothing lands outside
    archive = tmp_path / "deep" / "er" / "v.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../escaped.txt", "cat 1 2\ndog 3 4\n")
    (tmp_path / "labels.txt").write_text("cat\ndog\n")
    res = run("embed", "--labels", tmp_path / "labels.txt", "--vectors", archive, "--out", tmp_path / "out", "-q",
              "--json")
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "deep" / "escaped.txt").exists()
    art = labelgraph.load(next((tmp_path / "out").glob("*.npz")))
    np.testing.assert_array_equal(art.vectors, [[1, 2], [3, 4]])
    assert "../../escaped.txt" in json.dumps(dict(art.meta))


def test_vector_zip_with_a_file_and_a_folder_of_one_name(tmp_path):
    archive = tmp_path / "v.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("glove.txt", "cat 1 2\n")
        z.writestr("glove.txt/inner.txt", "dog 3 4\n")
    (tmp_path / "labels.txt").write_text("cat\n")
    res = run("embed", "--labels", tmp_path / "labels.txt", "--vectors", archive, "--out", tmp_path / "out", "-q")
    assert_one_line(res.exit_code, res.stderr, str(archive), "'glove.txt' is both a file and a folder", code=2)


@pytest.mark.parametrize("exc, expected", [
    (IsADirectoryError(errno.EISDIR, "Is a directory", "graphs"), ("graphs: is a directory", 5)),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory", "a/b"), ("a/b: a path component is a file, not a folder",
                                                                   5)),
    (PermissionError(errno.EACCES, "Permission denied", "x.npz"), ("x.npz: permission denied", 5)),
    (OSError(errno.ENOSPC, "No space left on device", "x.npz"), ("x.npz: no space left on device", 5)),
    (FileNotFoundError(errno.ENOENT, "No such file", "x.csv"), ("x.csv: no such file or folder", 2)),
    (MemoryError(), ("out of memory while reading", 6)),
    (OverflowError("int too large to convert to float"),
     ("a number too large while reading (int too large to convert to float)", 2)),
    (RecursionError("maximum recursion depth exceeded"),
     ("input nests too deeply to read (Python's recursion limit)", 2)),
    (sqlite3.OperationalError("database is locked"),
     ("database is locked (another process is writing to it); try again when it is done", 5)),
    (KeyboardInterrupt(), ("interrupted", 130)),
])
def test_error_line_by_family(exc, expected):
    # families without a safe real trigger here (memory, overflow) and the exact wording of the others
    assert error_line(exc) == expected


def test_error_line_leaves_click_exits_and_broken_pipes_to_click():
    import click

    assert error_line(click.exceptions.Exit(0)) is None
    assert error_line(click.UsageError("x")) is None
    assert error_line(BrokenPipeError(errno.EPIPE, "Broken pipe")) is None
