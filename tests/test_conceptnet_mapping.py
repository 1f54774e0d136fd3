"""Label → concept mapping: phrase, singular, content words, override files (CSV, TOML), bad files."""
from __future__ import annotations

from pathlib import Path

import pytest

from labelgraph.conceptnet.mapping import (
    content_words,
    label_candidates,
    map_labels,
    packaged_overrides,
    phrase_concept,
    read_overrides,
    singularize,
)
from labelgraph.errors import DataError


def _has(*concepts: str):
    known = {f"/c/en/{c}" for c in concepts}
    looked: list[str] = []

    def has_edges(concept: str) -> bool:
        looked.append(concept)
        return concept in known

    has_edges.looked = looked  # type: ignore[attr-defined]
    return has_edges


@pytest.mark.parametrize("label, concept", [
    ("tennis racket", "/c/en/tennis_racket"), ("hot dog", "/c/en/hot_dog"), ("potted plant", "/c/en/potted_plant"),
    ("wine glass", "/c/en/wine_glass"), ("Hair-Drier", "/c/en/hair_drier"), ("tv", "/c/en/tv"),
])
def test_phrase(label: str, concept: str) -> None:
    assert phrase_concept(label) == concept


def test_phrase_wins_when_it_has_edges() -> None:
    has = _has("tennis_racket", "tennis", "racket", "hot_dog", "wine_glass")
    got = {m.label: (m.source, m.concepts) for m in map_labels(["tennis racket", "hot dog", "wine glass"], has)}
    assert got == {"tennis racket": ("phrase", ("/c/en/tennis_racket",)),
                   "hot dog": ("phrase", ("/c/en/hot_dog",)),
                   "wine glass": ("phrase", ("/c/en/wine_glass",))}
    assert "/c/en/tennis" not in has.looked  # words are not even looked at


def test_word_fallbacks() -> None:
    has = _has("tennis", "racket", "hot", "dog", "plant", "wine", "glass")
    got = {m.label: (m.source, m.concepts, m.tried)
           for m in map_labels(["tennis racket", "hot dog", "potted plant", "wine glass"], has)}
    assert got["tennis racket"] == ("words", ("/c/en/tennis", "/c/en/racket"),
                                    ("/c/en/tennis_racket", "/c/en/tennis", "/c/en/racket"))
    assert got["hot dog"][:2] == ("words", ("/c/en/hot", "/c/en/dog"))
    assert got["potted plant"][:2] == ("words", ("/c/en/plant",))  # "potted" has no edge
    assert got["wine glass"][:2] == ("words", ("/c/en/wine", "/c/en/glass"))  # glass is not a plural


def test_plural_forms() -> None:
    has = _has("ski", "wine_glass", "teddy_bear", "knife", "battery", "person", "box", "bus")
    got = {m.label: (m.source, m.concepts)
           for m in map_labels(["skis", "wine glasses", "teddy bears", "knives", "batteries", "people", "boxes", "bus"],
                               has)}
    assert got == {"skis": ("singular", ("/c/en/ski",)), "wine glasses": ("singular", ("/c/en/wine_glass",)),
                   "teddy bears": ("singular", ("/c/en/teddy_bear",)), "knives": ("singular", ("/c/en/knife",)),
                   "batteries": ("singular", ("/c/en/battery",)), "people": ("singular", ("/c/en/person",)),
                   "boxes": ("singular", ("/c/en/box",)), "bus": ("phrase", ("/c/en/bus",))}
    assert [singularize(w) for w in ("scissors", "glass", "tennis", "sheep", "mice", "dishes", "horses")] == \
        ["scissors", "glass", "tennis", "sheep", "mouse", "dish", "horse"]


def test_stop_words_and_no_edge() -> None:
    assert content_words("The Cup of Tea and 2 spoons") == ["cup", "tea", "spoon"]
    steps, words = label_candidates("bottle of wine")
    assert steps == ["/c/en/bottle_of_wine"] and words == ["/c/en/bottle", "/c/en/wine"]
    (m,) = map_labels(["zzyzx qwv"], _has())
    assert m.source == "none" and m.concepts == ()
    assert m.tried == ("/c/en/zzyzx_qwv", "/c/en/zzyzx", "/c/en/qwv")


def test_overrides_win_csv_and_toml(tmp_path: Path) -> None:
    csv_file = tmp_path / "o.csv"
    csv_file.write_text("label,concepts\n# comment\ntvmonitor,/c/en/television/n,monitor\n"
                        "tvmonitor,/c/en/tv\n\nhot dog,/c/en/sausage\n", encoding="utf-8")
    table = read_overrides(csv_file, ["tvmonitor", "hot dog", "cat"])
    assert table == {"tvmonitor": ("/c/en/television", "/c/en/monitor", "/c/en/tv"), "hot dog": ("/c/en/sausage",)}
    toml_file = tmp_path / "o.toml"
    toml_file.write_text('tvmonitor = ["/c/en/television", "computer monitor"]\n"hot dog" = "/c/en/sausage"\n')
    assert read_overrides(toml_file, ["tvmonitor", "hot dog"]) == {
        "tvmonitor": ("/c/en/television", "/c/en/computer_monitor"), "hot dog": ("/c/en/sausage",)}
    has = _has("hot_dog", "sausage")
    (m,) = map_labels(["hot dog"], has, table)
    assert (m.source, m.concepts) == ("override", ("/c/en/sausage",))
    assert has.looked == ["/c/en/sausage"]  # the phrase is not consulted: the override wins


def test_override_unknown_label_names_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "o.csv"
    f.write_text("tvmonitor,/c/en/tv\ntvmoniter,/c/en/tv\n")
    with pytest.raises(DataError, match=r"o\.csv:2: override for unknown label 'tvmoniter'.*'tvmonitor'"):
        read_overrides(f, ["tvmonitor", "cat"])
    t = tmp_path / "o.toml"
    t.write_text('zebra = "/c/en/zebra"\n')
    with pytest.raises(DataError, match=r"o\.toml: key 'zebra': override for unknown label"):
        read_overrides(t, ["cat"])


@pytest.mark.parametrize("text, message", [
    ("cat\n", r":1: label 'cat' has no concept"),
    ("cat,/c/\n", r":1: '/c/' is not a concept URI"),
    ("cat,http://dbpedia.org/Cat\n", r":1: .*is a URL"),
])
def test_override_bad_concepts(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "o.csv"
    f.write_text(text)
    with pytest.raises(DataError, match=message):
        read_overrides(f, ["cat"])


def test_override_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "o.toml"
    bad.write_text("cat = [1, 2]\n")
    with pytest.raises(DataError, match="expected a concept string"):
        read_overrides(bad, ["cat"])
    bad.write_text("cat = \n")
    with pytest.raises(DataError, match="not valid TOML"):
        read_overrides(bad, ["cat"])
    other = tmp_path / "o.json"
    other.write_text("{}")
    with pytest.raises(DataError, match="unknown override file type"):
        read_overrides(other, ["cat"])
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00cat")
    with pytest.raises(DataError, match="not UTF-8"):
        read_overrides(binary, ["cat"])


def test_packaged_voc_overrides_cover_fused_names() -> None:
    path = packaged_overrides("voc2007")
    voc_fused = ["diningtable", "pottedplant", "tvmonitor"]
    table = read_overrides(path, voc_fused)  # every packaged label is a real VOC name
    assert set(table) == set(voc_fused)
    assert table["tvmonitor"] == ("/c/en/television", "/c/en/monitor")
    assert packaged_overrides("coco") is None
