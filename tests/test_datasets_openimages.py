"""The openimages reader on label CSVs in the official format, written here (negatives, sources, unknown MIDs)."""
from __future__ import annotations

import logging
import random
from pathlib import Path

import numpy as np
import pytest

from labelgraph.assemble.statistics import label_statistics, partial_statistics
from labelgraph.datasets import plan_statistics, read_dataset
from labelgraph.errors import ConfigError, DataError

HEADER = "ImageID,Source,LabelName,Confidence"
CLASSES = {"/m/01g317": "Person", "/m/0199g": "Bicycle", "/m/0k4j": "Car", "/m/0bt9lr": "Dog",
           "/m/01yrx": "Cat", "/m/0cmf2": "Airplane"}
UNKNOWN = ["/m/zz001", "/g/11bc9xyz"]  # MIDs the descriptions file does not have
SOURCES = ["verification", "crowdsource-verification", "machine"]


def _rows(seed: int, num_images: int) -> list[tuple[str, str, str, str]]:
    """Consecutive rows per image: positives, verified negatives, machine scores, some unknown MIDs."""
    rng = random.Random(seed)
    mids = list(CLASSES) + UNKNOWN
    rows = []
    for k in range(num_images):
        image = f"{rng.getrandbits(64):016x}"
        for mid in rng.sample(mids, rng.randint(1, 5)):
            source = rng.choice(SOURCES)
            conf = rng.choice(["0.7", "0.3", "0.5"]) if source == "machine" else rng.choice(["1", "1", "0"])
            rows.append((image, source, mid, conf))
    return rows


def _write(path: Path, rows: list) -> Path:
    path.write_text(HEADER + "\n" + "".join(",".join(r) + "\n" for r in rows))
    return path


def _by_hand(rows: list, sources: set[str] | None = None) -> tuple[dict[str, set[str]], list[str]]:
    per_image: dict[str, set[str]] = {}
    for image, source, mid, conf in rows:
        if sources is not None and source not in sources:
            continue
        labels = per_image.setdefault(image, set())
        if float(conf) >= 0.5:
            labels.add(mid)
    return per_image, sorted({m for labels in per_image.values() for m in labels})


def _counts(per_image: dict[str, set[str]], order: list[str]) -> tuple[list[int], np.ndarray]:
    Y = np.array([[int(m in labels) for m in order] for labels in per_image.values()], dtype=np.int64)
    M = Y.T @ Y
    n = M.diagonal().tolist()
    np.fill_diagonal(M, 0)
    return n, M


@pytest.fixture
def classes(tmp_path: Path) -> Path:
    path = tmp_path / "oidv7-class-descriptions.csv"
    path.write_text("LabelName,DisplayName\n" + "".join(f"{m},{n}\n" for m, n in CLASSES.items()))
    return path


@pytest.mark.parametrize("chunk_size", [1, 7, 1 << 20])
def test_counts_by_hand_in_display_name_order(tmp_path: Path, classes: Path, chunk_size: int,
                                               caplog: pytest.LogCaptureFixture) -> None:
    rows = _rows(1, 80)
    path = _write(tmp_path / "oidv6-train-annotations-human-imagelabels.csv", rows)
    with caplog.at_level(logging.WARNING, logger="labelgraph"):
        plan = plan_statistics("openimages", path, chunk_size=chunk_size, classes=str(classes))
        stats = partial_statistics(plan.run(), plan.source)
    per_image, mids = _by_hand(rows)
    names = {m: CLASSES.get(m, m) for m in mids}
    order = sorted(mids, key=names.__getitem__)
    n, M = _counts(per_image, order)
    assert stats.labels == tuple(names[m] for m in order)
    assert stats.n.tolist() == n and np.array_equal(stats.matrix.toarray(), M)
    assert stats.num_samples == len(per_image)  # distinct ImageIDs, negatives-only images included
    assert stats.meta["samples_without_labels"] == sum(1 for v in per_image.values() if not v)
    assert stats.meta["split"] == "train"
    unknown = sorted(m for m in mids if m not in CLASSES)
    warned = [r.getMessage() for r in caplog.records if "no class description" in r.getMessage()]
    assert len(warned) == 1 and f"{len(unknown)} MIDs with no class description" in warned[0]
    assert all(m in warned[0] for m in unknown)
    whole = label_statistics(read_dataset("openimages", path, classes=str(classes)))
    assert whole.labels == stats.labels and np.array_equal(whole.matrix.toarray(), M)


def test_source_filter_and_mid_order(tmp_path: Path) -> None:
    rows = _rows(2, 60)
    path = _write(tmp_path / "labels.csv", rows)
    stats = plan_statistics("openimages", path, chunk_size=5, source="verification,machine", order="mid").run()
    per_image, mids = _by_hand(rows, {"verification", "machine"})
    n, M = _counts(per_image, mids)
    assert stats.labels == tuple(mids) and stats.n.tolist() == n and np.array_equal(stats.M.toarray(), M)
    assert stats.num_samples == len(per_image)


def test_an_image_split_over_chunks_counts_once_per_pair(tmp_path: Path) -> None:
    rows = [("a", "verification", m, "1") for m in ("/m/0k4j", "/m/0bt9lr", "/m/01yrx")]
    rows += [("b", "verification", "/m/0k4j", "1"), ("b", "verification", "/m/0bt9lr", "1")]
    path = _write(tmp_path / "l.csv", rows)
    for chunk_size in (1, 2, 4):
        total = plan_statistics("openimages", path, chunk_size=chunk_size, order="mid").run()
        assert total.labels == ("/m/01yrx", "/m/0bt9lr", "/m/0k4j")
        assert total.M.toarray().tolist() == [[0, 1, 1], [1, 0, 2], [1, 2, 0]]
        assert total.num_samples == 2


def test_rows_of_an_image_resuming_later_are_an_error(tmp_path: Path) -> None:
    rows = [("a", "v", "/m/0k4j", "1"), ("b", "v", "/m/0k4j", "1"), ("a", "v", "/m/01yrx", "1")]
    path = _write(tmp_path / "l.csv", rows)
    with pytest.raises(DataError, match=r"l\.csv:4: the rows of image 'a' are not consecutive"):
        plan_statistics("openimages", path, chunk_size=1).run()
    # within one chunk the rows are grouped by ImageID: no error, counted once
    assert plan_statistics("openimages", path, chunk_size=10).run().M.toarray().tolist() == [[0, 1], [1, 0]]


def test_the_boxable_file_without_header_and_shared_display_names(tmp_path: Path) -> None:
    boxable = tmp_path / "class-descriptions-boxable.csv"
    boxable.write_text("/m/0k4j,Car\n/m/0bt9lr,Dog\n/m/01yrx,Dog\n")
    path = _write(tmp_path / "l.csv", [("a", "v", "/m/0k4j", "1"), ("a", "v", "/m/0bt9lr", "1"),
                                       ("b", "v", "/m/01yrx", "1")])
    total = plan_statistics("openimages", path, classes=str(boxable)).run()
    assert total.labels == ("Car", "Dog (/m/01yrx)", "Dog (/m/0bt9lr)")
    assert total.n.tolist() == [1, 1, 1]


def test_bad_input_is_one_line(tmp_path: Path, classes: Path) -> None:
    bad = tmp_path / "other.csv"
    bad.write_text("ImageID,Label\nx,/m/0k4j\n")
    with pytest.raises(DataError, match=r"other\.csv:1: no column 'LabelName'"):
        plan_statistics("openimages", bad)
    notnum = _write(tmp_path / "conf.csv", [("x", "v", "/m/0k4j", "high")])
    with pytest.raises(DataError, match=r"conf\.csv: not readable as an Open Images label file"):
        plan_statistics("openimages", notnum).run()
    with pytest.raises(ConfigError, match="order='alpha'"):
        plan_statistics("openimages", notnum, order="alpha")
    with pytest.raises(DataError, match=r"oi-\*\.csv: the pattern matches no CSV file"):
        plan_statistics("openimages", str(tmp_path / "oi-*.csv"))


def _split_files(tmp_path: Path, shared: bool) -> tuple[Path, Path, list, list]:
    """Train and validation label files as the official ones are named; ``shared``: one image in both."""
    train, validation = _rows(11, 40), _rows(12, 15)
    if shared:  # one validation image's rows copied between two images in the middle of the train file
        image = sorted({r[0] for r in validation})[3]
        at = next(k for k in range(50, len(train)) if train[k][0] != train[k - 1][0])
        train = train[:at] + [r for r in validation if r[0] == image] + train[at:]
    a = _write(tmp_path / "oidv7-train-annotations-human-imagelabels.csv", train)
    b = _write(tmp_path / "oidv7-validation-annotations-human-imagelabels.csv", validation)
    return a, b, train, validation


@pytest.mark.parametrize("engine", ["serial", "processes", "dask"])
def test_disjoint_files_count_every_image_once_on_every_engine(tmp_path: Path, engine: str) -> None:
    from labelgraph.statistics_sources import count_statistics

    if engine == "dask":
        pytest.importorskip("distributed")
    _, _, train, validation = _split_files(tmp_path, shared=False)
    stats = count_statistics("openimages", str(tmp_path / "oidv7-*-imagelabels.csv"), {"order": "mid"},
                             engine=engine, workers=2, chunk_size=7)
    per_image, mids = _by_hand(train + validation)
    n, M = _counts(per_image, mids)
    assert stats.num_samples == len(per_image) == len({r[0] for r in train}) + len({r[0] for r in validation})
    assert stats.labels == tuple(mids) and stats.n.tolist() == n and np.array_equal(stats.matrix.toarray(), M)


@pytest.mark.parametrize("engine", ["serial", "processes", "dask"])
def test_an_image_id_in_two_files_is_an_error_naming_both(tmp_path: Path, engine: str) -> None:
    from labelgraph.statistics_sources import count_statistics

    a, b, train, validation = _split_files(tmp_path, shared=True)
    image = sorted({r[0] for r in validation})[3]
    # sorted glob order: train, then validation; the later file is named first, then the earlier one
    with pytest.raises(DataError) as info:
        count_statistics("openimages", str(tmp_path / "oidv7-*-imagelabels.csv"), engine=engine, workers=2,
                         chunk_size=7)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{b}: ImageID {image!r} is also in {a}")
    # the whole-file reader refuses it too, and so does a source filter that keeps none of the copied rows
    with pytest.raises(DataError, match=f"ImageID '{image}' is also in"):
        read_dataset("openimages", str(tmp_path / "oidv7-*-imagelabels.csv"))
    # the same file given twice (a copy matched by the glob)
    (tmp_path / "copy").mkdir()
    _write(tmp_path / "copy" / "a.csv", validation)
    _write(tmp_path / "copy" / "b.csv", validation)
    with pytest.raises(DataError, match=r"b\.csv: ImageID '[0-9a-f]{16}' is also in .*a\.csv"):
        plan_statistics("openimages", str(tmp_path / "copy" / "*.csv"))


def test_the_distinct_check_keeps_one_hash_per_image(tmp_path: Path) -> None:
    """8 bytes per image: the sorted hash array of the files read so far, nothing per row."""
    import tracemalloc

    from labelgraph.datasets.openimages import images_distinct

    rows = [(f"{k:016x}", "verification", "/m/0k4j", "1") for k in range(60_000) for _ in range(3)]
    a = _write(tmp_path / "a.csv", rows[: len(rows) // 2])
    b = _write(tmp_path / "b.csv", rows[len(rows) // 2:])
    tracemalloc.start()
    images_distinct([a, b], chunk_size=1 << 12)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # 60,000 images: 480 kB of hashes, about twice that while merging; a Python set of the ids would be ~5 MB
    assert peak < 2_500_000, peak
