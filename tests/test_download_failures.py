"""Failed downloads leave nothing that trips the next run: each case fails once against a real loopback
server, then succeeds when the server serves the right file, with no clean-up by hand."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labelgraph.download import CHECKSUMS_FILE, SOURCES, RetryPolicy, fetch
from labelgraph.errors import ChecksumError, NetworkError
from tests.conftest import ROOT
from tests.test_download import NO_WAIT, Mirror, _with_sha256, coco_zip, mirror  # noqa: F401 - the fixture

ONE_TRY = RetryPolicy(retries=0)


def _leftovers(folder: Path) -> list[str]:
    """Everything in the cache folder but the checksum record."""
    return sorted(p.name for p in folder.iterdir() if p.name != CHECKSUMS_FILE)


def test_checksum_failure_then_success(mirror: Mirror, tmp_path: Path) -> None:
    data = coco_zip(2017)
    path = "/files/annotations_trainval2017.zip"
    mirror.files[path] = data
    mirror.wrong.add(path)
    source = _with_sha256(SOURCES["coco2017-annotations"], data)
    with pytest.raises(ChecksumError) as info:
        fetch(source, cache_dir=tmp_path, base_url=mirror.base, retries=NO_WAIT)
    message = str(info.value)
    assert "\n" not in message
    assert f"{mirror.base}/annotations_trainval2017.zip" in message and source.checksum in message
    assert "Run again to retry" in message and str(tmp_path / "annotations_trainval2017.zip") in message
    assert _leftovers(tmp_path) == []  # no .part, no lock, no file

    mirror.wrong.clear()
    got = fetch(source, cache_dir=tmp_path, base_url=mirror.base, retries=NO_WAIT)
    assert hashlib.sha256(got.read_bytes()).hexdigest() == source.checksum.split(":")[1]
    assert [r for p, r in mirror.requests] == [None, None]  # the second run started afresh, no Range
    assert _leftovers(tmp_path) == ["annotations_trainval2017.zip"]


def test_404_removes_the_partial_file_then_success(mirror: Mirror, tmp_path: Path) -> None:
    data = b"voc test tar " * 5000
    source = _with_sha256(SOURCES["voc2007-test"], data)
    # a .part kept by an earlier, interrupted run: its bytes are right, but a 404 ends its use
    (tmp_path / "VOCtest_06-Nov-2007.tar.part").write_bytes(data[:1000])
    with pytest.raises(NetworkError) as info:
        fetch(source, cache_dir=tmp_path, base_url=mirror.base, retries=NO_WAIT)
    message = str(info.value)
    assert message.startswith(f"{mirror.base}/VOCtest_06-Nov-2007.tar: 404")
    assert "check the URL or mirror" in message and str(tmp_path / "VOCtest_06-Nov-2007.tar") in message
    assert mirror.requests == [("/files/VOCtest_06-Nov-2007.tar", "bytes=1000-")]  # not retried
    assert _leftovers(tmp_path) == []

    mirror.files["/files/VOCtest_06-Nov-2007.tar"] = data
    assert fetch(source, cache_dir=tmp_path, base_url=mirror.base, retries=NO_WAIT).read_bytes() == data
    assert mirror.requests[-1] == ("/files/VOCtest_06-Nov-2007.tar", None)


@pytest.mark.parametrize("ctype", ["text/html; charset=utf-8", "application/octet-stream"])
def test_html_page_is_not_the_file_nor_trusted(mirror: Mirror, tmp_path: Path, ctype: str) -> None:
    """A login page served with 200 (labelled HTML or not) is refused, and never recorded on first use."""
    name = "conceptnet-assertions-5.7.0"
    assert SOURCES[name].checksum is None  # trust on first use: an accepted page would be trusted for ever
    path = "/files/conceptnet-assertions-5.7.0.csv.gz"
    mirror.html.add(path)
    mirror.html_type = ctype
    with pytest.raises(NetworkError) as info:
        fetch(name, cache_dir=tmp_path, base_url=mirror.base, retries=NO_WAIT)
    message = str(info.value)
    assert message.startswith(f"{mirror.base}/conceptnet-assertions-5.7.0.csv.gz: the server sent an HTML page")
    assert str(tmp_path / "conceptnet-assertions-5.7.0.csv.gz") in message
    assert len(mirror.requests) == 1  # not retried
    assert _leftovers(tmp_path) == []
    assert not (tmp_path / CHECKSUMS_FILE).exists()

    data = b"/a/[/r/IsA/,/c/en/cat/,/c/en/pet/]\t/r/IsA\t/c/en/cat\t/c/en/pet\t{\"weight\": 1.0}\n"
    mirror.html.clear()
    mirror.files[path] = data
    assert fetch(name, cache_dir=tmp_path, base_url=mirror.base, retries=NO_WAIT).read_bytes() == data
    record = json.loads((tmp_path / CHECKSUMS_FILE).read_text())["files"]["conceptnet-assertions-5.7.0.csv.gz"]
    assert record["checksum"] == "sha256:" + hashlib.sha256(data).hexdigest()


def test_cut_transfer_keeps_a_resumable_part(mirror: Mirror, tmp_path: Path) -> None:
    data = coco_zip(2014)
    path = "/files/annotations_trainval2014.zip"
    mirror.files[path] = data
    mirror.cut_first[path] = 200_000
    source = _with_sha256(SOURCES["coco2014-annotations"], data)
    with pytest.raises(NetworkError) as info:
        fetch(source, cache_dir=tmp_path, base_url=mirror.base, retries=ONE_TRY)
    part = tmp_path / "annotations_trainval2014.zip.part"
    kept = part.stat().st_size
    assert 0 < kept <= 200_000 and part.read_bytes() == data[:kept]
    assert f"{kept} bytes kept in {part.name}; the next run resumes" in str(info.value)
    assert _leftovers(tmp_path) == [part.name]  # the lock went with the run

    got = fetch(source, cache_dir=tmp_path, base_url=mirror.base, retries=ONE_TRY)
    assert got.read_bytes() == data
    assert mirror.requests == [(path, None), (path, f"bytes={kept}-")]
    assert _leftovers(tmp_path) == ["annotations_trainval2014.zip"]


def test_cut_transfer_from_a_server_without_ranges_keeps_nothing(mirror: Mirror, tmp_path: Path) -> None:
    data = coco_zip(2014)
    path = "/files/annotations_trainval2014.zip"
    mirror.files[path] = data
    mirror.cut_first[path] = 200_000
    mirror.ignore_range.add(path)  # 200 without Accept-Ranges: a .part could never be resumed
    source = _with_sha256(SOURCES["coco2014-annotations"], data)
    with pytest.raises(NetworkError, match="the partial download was removed: this server cannot resume it"):
        fetch(source, cache_dir=tmp_path, base_url=mirror.base, retries=ONE_TRY)
    assert _leftovers(tmp_path) == []
    assert fetch(source, cache_dir=tmp_path, base_url=mirror.base, retries=ONE_TRY).read_bytes() == data
    assert [r for _, r in mirror.requests] == [None, None]


def test_killed_download_leaves_a_stale_lock_the_next_run_takes_over(mirror: Mirror, tmp_path: Path) -> None:
    data = os.urandom(3 << 20)
    path = "/files/glove.6B.zip"
    mirror.files[path] = data
    mirror.slow[path] = 0.05  # ~1.3 MB/s: the child is still downloading when it is killed
    digest = "sha1:" + hashlib.sha1(data).hexdigest()
    script = ("import dataclasses, sys\n"
              "from labelgraph.download import SOURCES, fetch\n"
              f"src = dataclasses.replace(SOURCES['glove.6B'], checksum={digest!r})\n"
              f"fetch(src, cache_dir={str(tmp_path)!r}, base_url={mirror.base!r})\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE)
    part = tmp_path / "glove.6B.zip.part"
    lock = tmp_path / ".glove.6B.zip.lock"
    deadline = time.monotonic() + 60
    while (not part.exists() or part.stat().st_size < 300_000) and time.monotonic() < deadline:
        assert child.poll() is None, child.stderr.read().decode()
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    assert lock.read_text() == str(child.pid)  # left behind by the dead process
    kept = part.stat().st_size
    assert 0 < kept < len(data)

    mirror.slow.clear()
    source = dataclasses.replace(SOURCES["glove.6B"], checksum=digest)
    started = time.monotonic()
    assert fetch(source, cache_dir=tmp_path, base_url=mirror.base, retries=NO_WAIT).read_bytes() == data
    assert time.monotonic() - started < 10  # the dead process's lock did not make it wait
    assert mirror.requests[-1] == (path, f"bytes={kept}-")
    assert _leftovers(tmp_path) == ["glove.6B.zip"]
