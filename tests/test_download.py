"""Downloads against a real loopback HTTP server: resume, checksums, 404, no network, cache, extraction."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import socket
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from labelgraph.download import (
    CHECKSUMS_FILE,
    SOURCES,
    RetryPolicy,
    Source,
    dataset_files,
    extract,
    fetch,
    fetch_extracted,
    fetch_url,
    get_source,
)
from labelgraph.errors import ChecksumError, ConfigError, DataError, LabelGraphError, NetworkError

NO_WAIT = RetryPolicy(retries=2, backoff=0.0)


# -- a loopback server ------------------------------------------------------------------------------------------

class Mirror:
    """State shared with the handler: files served, faults to inject, requests seen."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut_first: dict[str, int] = {}   # path → bytes sent before the first response is cut
        self.wrong: set[str] = set()          # paths served with corrupted bytes
        self.ignore_range: set[str] = set()   # paths answered 200 (whole file) even to a Range request
        self.fail_first: dict[str, int] = {}  # path → status of the first reply (e.g. 503)
        self.html: set[str] = set()           # paths answered 200 with an HTML error page
        self.html_type = "text/html; charset=utf-8"
        self.slow: dict[str, float] = {}      # path → seconds between 64 kB chunks of the body
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.lock = threading.Lock()
        self.base = ""

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)


def _handler(mirror: Mirror) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = self.path.split("?")[0]
            with mirror.lock:
                mirror.requests.append((path, self.headers.get("Range")))
                first = mirror.count(path) == 1
            if first and path in mirror.fail_first:
                self._plain(mirror.fail_first[path], b"try later")
                return
            if path in mirror.html:
                self._plain(200, b"<!DOCTYPE html>\n<html><body><h1>Sign in to continue</h1></body></html>",
                            mirror.html_type)
                return
            if path not in mirror.files:
                self._plain(404, b"not found")
                return
            data = mirror.files[path]
            if path in mirror.wrong:
                data = bytes(b ^ 0xFF for b in data)
            start, status = 0, 200
            rng = self.headers.get("Range")
            if rng and path not in mirror.ignore_range:
                start = int(rng.split("=")[1].split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
            body = data[start:]
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            if path not in mirror.ignore_range:
                self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            if first and path in mirror.cut_first:
                self.wfile.write(body[: mirror.cut_first[path]])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if path in mirror.slow:
                for k in range(0, len(body), 1 << 16):
                    self.wfile.write(body[k:k + (1 << 16)])
                    self.wfile.flush()
                    time.sleep(mirror.slow[path])
                return
            self.wfile.write(body)

        def _plain(self, status: int, body: bytes, ctype: str | None = None) -> None:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class _QuietServer(ThreadingHTTPServer):
    """A cut connection makes the handler's socket fail afterwards; that is the point, not an error."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


@pytest.fixture
def mirror() -> Iterator[Mirror]:
    state = Mirror()
    server = _QuietServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}/files"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- archives of the official structure --------------------------------------------------------------------------

def _instances(split: str, year: int) -> bytes:
    """A small ``instances_<split><year>.json`` with the official top-level keys and record fields."""
    doc = {
        "info": {"description": "COCO 2014 Dataset", "version": "1.0", "year": year},
        "licenses": [{"id": 1, "name": "Attribution-NonCommercial-ShareAlike License", "url": ""}],
        "images": [{"id": 42, "file_name": f"COCO_{split}{year}_000000000042.jpg", "height": 480, "width": 640,
                    "license": 1, "coco_url": "", "flickr_url": "", "date_captured": "2013-11-14 16:28:13"}],
        "annotations": [{"id": 1, "image_id": 42, "category_id": 18, "iscrowd": 0, "area": 10.0,
                         "bbox": [1.0, 2.0, 3.0, 4.0], "segmentation": [[1.0, 2.0, 3.0, 2.0, 3.0, 4.0]]}],
        "categories": [{"supercategory": "animal", "id": 18, "name": "dog"}],
    }
    return json.dumps(doc).encode()


def coco_zip(year: int = 2014) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for split in ("train", "val"):
            z.writestr(f"annotations/instances_{split}{year}.json", _instances(split, year))
            z.writestr(f"annotations/captions_{split}{year}.json", b'{"annotations": []}')
    # pad with incompressible bytes so a cut after a few kB leaves most of the file to resume
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_STORED) as z:
        z.writestr("annotations/padding.bin", os.urandom(600_000))
    return buf.getvalue()


def voc_tar(year: int = 2007, split: str = "trainval") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))

        main = f"VOCdevkit/VOC{year}/ImageSets/Main"
        add(f"{main}/{split}.txt", b"000005\n000007\n")
        add(f"{main}/aeroplane_{split}.txt", b"000005 -1\n000007  1\n")
        add(f"{main}/dog_{split}.txt", b"000005  0\n000007 -1\n")
        add(f"VOCdevkit/VOC{year}/JPEGImages/000005.jpg", b"\xff\xd8 not really a jpeg")
    return buf.getvalue()


def _with_sha256(source: Source, data: bytes) -> Source:
    return dataclasses.replace(source, checksum="sha256:" + hashlib.sha256(data).hexdigest(), size=len(data))


# -- the registry ------------------------------------------------------------------------------------------------

def test_registry_names_and_checksum_formats() -> None:
    for name in ("coco2014-annotations", "coco2017-annotations", "voc2007-trainval", "voc2007-test",
                 "voc2012-trainval", "charades-v1", "glove.6B", "glove.840B.300d", "numberbatch-en-19.08",
                 "conceptnet-assertions-5.7.0"):
        src = get_source(name)
        assert src.url.endswith("/" + src.filename)
        assert src.checksum is None or src.checksum.split(":")[0] in ("md5", "sha1", "sha256")
    assert SOURCES["voc2007-trainval"].checksum == "md5:c52e279531787c972589f7e41ab4ae64"
    with pytest.raises(ConfigError, match="unknown download 'nope'"):
        get_source("nope")
    with pytest.raises(ConfigError, match="bad checksum"):
        Source("x", "http://h/x", "x", "sha256:abc", None, "-", "-")


# -- fetch -------------------------------------------------------------------------------------------------------

def test_resume_after_cut_connection(mirror: Mirror, tmp_path: Path) -> None:
    data = coco_zip(2014)
    mirror.files["/files/annotations_trainval2014.zip"] = data
    cut = 300_000
    mirror.cut_first["/files/annotations_trainval2014.zip"] = cut
    source = _with_sha256(SOURCES["coco2014-annotations"], data)

    path = fetch(source, cache_dir=tmp_path, base_url=mirror.base, retries=NO_WAIT, progress=True)

    assert path == tmp_path / "annotations_trainval2014.zip"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert not (tmp_path / "annotations_trainval2014.zip.part").exists()
    ranges = [r for p, r in mirror.requests if p == "/files/annotations_trainval2014.zip"]
    assert ranges[0] is None
    # the second request resumes from what the cut transfer left in the .part file
    assert ranges[1] is not None and ranges[1].startswith("bytes=") and ranges[1].endswith("-")
    assert 0 < int(ranges[1][6:-1]) <= cut
    assert len(ranges) == 2

    # the extracted layout the dataset readers see
    root = fetch_extracted(source, cache_dir=tmp_path, base_url=mirror.base, dest=tmp_path / "x")
    got = json.loads((root / "annotations" / "instances_train2014.json").read_text())
    assert got["images"][0]["id"] == 42 and got["categories"][0]["name"] == "dog"
    assert sorted(p.name for p in (root / "annotations").iterdir()) == [
        "instances_train2014.json", "instances_val2014.json"]  # captions and padding not extracted
    assert len(mirror.requests) == 2  # fetch_extracted found the cached, verified archive


def test_server_ignoring_range_restarts_from_zero(mirror: Mirror, tmp_path: Path) -> None:
    data = voc_tar()
    mirror.files["/files/VOCtrainval_06-Nov-2007.tar"] = data
    mirror.ignore_range.add("/files/VOCtrainval_06-Nov-2007.tar")
    # a stale partial file whose bytes would corrupt the result if the 200 reply were appended to it
    (tmp_path / "VOCtrainval_06-Nov-2007.tar.part").write_bytes(b"\0" * 1500)
    source = _with_sha256(SOURCES["voc2007-trainval"], data)
    path = fetch(source, cache_dir=tmp_path, base_url=mirror.base, retries=NO_WAIT)
    assert path.read_bytes() == data
    assert mirror.requests == [("/files/VOCtrainval_06-Nov-2007.tar", "bytes=1500-")]


def test_complete_partial_file_answered_416(mirror: Mirror, tmp_path: Path) -> None:
    data = b"glove " * 1000
    mirror.files["/files/glove.6B.zip"] = data
    (tmp_path / "glove.6B.zip.part").write_bytes(data)
    source = dataclasses.replace(SOURCES["glove.6B"], checksum="md5:" + hashlib.md5(data).hexdigest())
    path = fetch(source, cache_dir=tmp_path, base_url=mirror.base, retries=NO_WAIT)
    assert path.read_bytes() == data
    assert mirror.requests == [("/files/glove.6B.zip", f"bytes={len(data)}-")]


def test_server_error_is_retried(mirror: Mirror, tmp_path: Path) -> None:
    data = b"numberbatch"
    mirror.files["/files/numberbatch-en-19.08.txt.gz"] = data
    mirror.fail_first["/files/numberbatch-en-19.08.txt.gz"] = 503
    source = _with_sha256(SOURCES["numberbatch-en-19.08"], data)
    assert fetch(source, cache_dir=tmp_path, base_url=mirror.base, retries=NO_WAIT).read_bytes() == data
    assert len(mirror.requests) == 2


def test_checksum_mismatch_removes_partial(mirror: Mirror, tmp_path: Path) -> None:
    data = coco_zip(2017)
    mirror.files["/files/annotations_trainval2017.zip"] = data
    mirror.wrong.add("/files/annotations_trainval2017.zip")
    source = _with_sha256(SOURCES["coco2017-annotations"], data)
    bad = hashlib.sha256(bytes(b ^ 0xFF for b in data)).hexdigest()
    with pytest.raises(ChecksumError) as info:
        fetch(source, cache_dir=tmp_path, base_url=mirror.base, retries=NO_WAIT)
    message = str(info.value)
    assert "annotations_trainval2017.zip" in message
    assert source.checksum in message and f"sha256:{bad}" in message
    assert not (tmp_path / "annotations_trainval2017.zip.part").exists()
    assert not (tmp_path / "annotations_trainval2017.zip").exists()


def test_published_md5_rejects_other_bytes(mirror: Mirror, tmp_path: Path) -> None:
    # the registry's real md5 for the official archive cannot match the test archive
    mirror.files["/files/annotations_trainval2014.zip"] = coco_zip(2014)
    with pytest.raises(ChecksumError, match="expected md5:0a379cfc70b0e71301e0f377548639bd, got md5:"):
        fetch("coco2014-annotations", cache_dir=tmp_path, base_url=mirror.base, retries=NO_WAIT)


def test_404_names_the_url(mirror: Mirror, tmp_path: Path) -> None:
    with pytest.raises(NetworkError) as info:
        fetch("voc2007-test", cache_dir=tmp_path, base_url=mirror.base, retries=NO_WAIT)
    assert f"{mirror.base}/VOCtest_06-Nov-2007.tar: 404" in str(info.value)
    assert len(mirror.requests) == 1  # a 404 is not retried


def test_no_network_one_line_with_url_and_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = f"http://127.0.0.1:{_free_port()}/mirror"
    monkeypatch.setenv("LABELGRAPH_DOWNLOAD_BASE", base)  # the environment variable is honoured
    with pytest.raises(NetworkError) as info:
        fetch("coco2014-annotations", cache_dir=tmp_path, retries=RetryPolicy(retries=1, backoff=0.0))
    message = str(info.value)
    assert "\n" not in message
    assert f"{base}/annotations_trainval2014.zip" in message
    assert str(tmp_path / "annotations_trainval2014.zip") in message
    assert "connection refused" in message
    assert isinstance(info.value, LabelGraphError)


def test_cached_file_makes_no_request(mirror: Mirror, tmp_path: Path) -> None:
    data = voc_tar(2007, "test")
    mirror.files["/files/VOCtest_06-Nov-2007.tar"] = data
    source = _with_sha256(SOURCES["voc2007-test"], data)
    first = fetch(source, cache_dir=tmp_path, base_url=mirror.base)
    assert len(mirror.requests) == 1
    again = fetch(source, cache_dir=tmp_path, base_url=mirror.base)
    assert again == first and len(mirror.requests) == 1
    # and with nothing listening at all
    again = fetch(source, cache_dir=tmp_path, base_url=f"http://127.0.0.1:{_free_port()}", retries=0)
    assert again.read_bytes() == data


def test_file_placed_by_hand(tmp_path: Path) -> None:
    data = b"placed by hand"
    (tmp_path / "glove.6B.zip").write_bytes(data)
    good = dataclasses.replace(SOURCES["glove.6B"], checksum="sha1:" + hashlib.sha1(data).hexdigest())
    nowhere = f"http://127.0.0.1:{_free_port()}"
    assert fetch(good, cache_dir=tmp_path, base_url=nowhere, retries=0).read_bytes() == data
    bad = dataclasses.replace(good, checksum="sha1:" + "0" * 40)
    with pytest.raises(ChecksumError, match="glove.6B.zip: checksum mismatch: expected sha1:0{40}"):
        fetch(bad, cache_dir=tmp_path, base_url=nowhere, retries=0)
    assert (tmp_path / "glove.6B.zip").exists()  # a user's file is never deleted


def test_trust_on_first_use(mirror: Mirror, tmp_path: Path) -> None:
    assert SOURCES["conceptnet-assertions-5.7.0"].checksum is None
    data = b"/a/[/r/AtLocation/,/c/en/dog/,/c/en/house/]\t/r/AtLocation\t/c/en/dog\t/c/en/house\t{}\n"
    mirror.files["/files/conceptnet-assertions-5.7.0.csv.gz"] = data
    path = fetch("conceptnet-assertions-5.7.0", cache_dir=tmp_path, base_url=mirror.base)
    record = json.loads((tmp_path / CHECKSUMS_FILE).read_text())["files"]["conceptnet-assertions-5.7.0.csv.gz"]
    assert record["checksum"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert record["trust"] == "first-use"

    # a later download must match the recorded sha256
    path.unlink()
    mirror.wrong.add("/files/conceptnet-assertions-5.7.0.csv.gz")
    with pytest.raises(ChecksumError, match="expected sha256:" + hashlib.sha256(data).hexdigest()):
        fetch("conceptnet-assertions-5.7.0", cache_dir=tmp_path, base_url=mirror.base)
    assert not (tmp_path / "conceptnet-assertions-5.7.0.csv.gz.part").exists()
    mirror.wrong.clear()
    assert fetch("conceptnet-assertions-5.7.0", cache_dir=tmp_path, base_url=mirror.base).read_bytes() == data


def test_default_cache_is_labelgraph_home(mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABELGRAPH_HOME", str(tmp_path / "home"))
    data = b"x" * 10
    mirror.files["/files/glove.840B.300d.zip"] = data
    source = _with_sha256(SOURCES["glove.840B.300d"], data)
    assert fetch(source, base_url=mirror.base) == tmp_path / "home" / "downloads" / "glove.840B.300d.zip"


def test_fetch_url_direct(mirror: Mirror, tmp_path: Path) -> None:
    mirror.files["/files/a.bin"] = b"abc"
    out = fetch_url(f"{mirror.base}/a.bin", tmp_path / "sub" / "a.bin",
                    "md5:900150983cd24fb0d6963f7d28e17f72")
    assert out.read_bytes() == b"abc"


def test_dataset_files_charades(mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABELGRAPH_HOME", str(tmp_path))
    buf = io.BytesIO()
    header = "id,subject,scene,quality,relevance,verified,script,objects,descriptions,actions,length\n"
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("Charades/Charades_v1_classes.txt", "c000 Holding some clothes\nc001 Putting clothes somewhere\n")
        z.writestr("Charades/Charades_v1_train.csv", header + "46GP8,HR43,Kitchen,6,7,Yes,s,o,d,c000 0.0 5.2,24.0\n")
        z.writestr("Charades/Charades_v1_test.csv", header)
    mirror.files["/files/Charades.zip"] = buf.getvalue()
    folder = dataset_files("charades", split="train", base_url=mirror.base)
    assert folder == tmp_path / "extracted" / "charades-v1" / "Charades"
    assert (folder / "Charades_v1_train.csv").read_text().splitlines()[1].startswith("46GP8,")
    with pytest.raises(ConfigError, match="VOC 2012 has no public test"):
        dataset_files("voc", year=2012, split="test")


# -- extract -----------------------------------------------------------------------------------------------------

def test_extract_voc_main_folder_only(tmp_path: Path) -> None:
    (tmp_path / "voc.tar.gz").write_bytes(b"")
    with tarfile.open(tmp_path / "voc.tar.gz", "w:gz") as t:
        with tarfile.open(fileobj=io.BytesIO(voc_tar())) as src:
            for m in src.getmembers():
                t.addfile(m, src.extractfile(m))
    out = extract(tmp_path / "voc.tar.gz", tmp_path / "out", members=SOURCES["voc2007-trainval"].members)
    main = out / "VOCdevkit" / "VOC2007" / "ImageSets" / "Main"
    assert sorted(p.name for p in main.iterdir()) == ["aeroplane_trainval.txt", "dog_trainval.txt", "trainval.txt"]
    assert not (out / "VOCdevkit" / "VOC2007" / "JPEGImages").exists()
    assert (main / "dog_trainval.txt").read_text() == "000005  0\n000007 -1\n"
    with pytest.raises(DataError, match="archive has no member 'VOCdevkit/VOC2012/'"):
        extract(tmp_path / "voc.tar.gz", tmp_path / "out12", members=["VOCdevkit/VOC2012/"])


def _zip_with(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("annotations/ok.json", "{}")
        z.writestr(name, "owned")
    return buf.getvalue()


@pytest.mark.parametrize("name", ["../escape.txt", "annotations/../../escape.txt", "/tmp/escape.txt"])
def test_extract_refuses_zip_traversal(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "evil.zip"
    archive.write_bytes(_zip_with(name))
    with pytest.raises(DataError, match="refusing to extract member"):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "escape.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["evil.zip"]  # no temporary folder left behind


@pytest.mark.parametrize("kind", ["dotdot", "symlink"])
def test_extract_refuses_tar_traversal(tmp_path: Path, kind: str) -> None:
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as t:
        ok = tarfile.TarInfo("VOCdevkit/ok.txt")
        ok.size = 2
        t.addfile(ok, io.BytesIO(b"ok"))
        if kind == "dotdot":
            bad = tarfile.TarInfo("VOCdevkit/../../escape.txt")
            bad.size = 1
            t.addfile(bad, io.BytesIO(b"x"))
        else:
            bad = tarfile.TarInfo("VOCdevkit/link")
            bad.type = tarfile.SYMTYPE
            bad.linkname = "../../../etc/passwd"
            t.addfile(bad)
    with pytest.raises(DataError, match="refusing to extract member"):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_extract_corrupt_and_repeat(tmp_path: Path) -> None:
    (tmp_path / "junk.zip").write_bytes(b"not an archive at all")
    with pytest.raises(DataError, match="junk.zip: not a zip or tar archive"):
        extract(tmp_path / "junk.zip", tmp_path / "out")
    (tmp_path / "a.zip").write_bytes(coco_zip())
    out = extract(tmp_path / "a.zip", tmp_path / "out")
    (out / "annotations" / "marker").write_text("kept")
    assert extract(tmp_path / "a.zip", tmp_path / "out") == out
    assert (out / "annotations" / "marker").exists()  # same archive and members: not extracted again
    extract(tmp_path / "a.zip", tmp_path / "out", members=["annotations/instances_val2014.json"])
    assert sorted(p.name for p in (out / "annotations").iterdir()) == ["instances_val2014.json"]
