"""Display names (labelgraph.datasets.names): one table for text encoders, word-vector lookup and ConceptNet."""
from __future__ import annotations

import pytest

import labelgraph
from labelgraph.conceptnet.mapping import map_labels, packaged_overrides, read_overrides
from labelgraph.datasets.names import display_name, display_names
from labelgraph.embeddings import DATASET_ALIASES
from labelgraph.embeddings.text import label_texts, load_descriptions, load_templates
from labelgraph.errors import ConfigError, DataError


def test_voc_names_are_words() -> None:
    """SPEC §3.1's examples; every other VOC label is already a word."""
    voc = list(labelgraph.load(labelgraph.bundled_path("voc")).labels)
    names = display_names(voc, "voc2007")
    assert {k: v for k, v in names.items() if k != v} == {
        "diningtable": "dining table", "pottedplant": "potted plant", "tvmonitor": "tv monitor"}


@pytest.mark.parametrize("label, words", [
    ("person_riding_bicycle", "person riding bicycle"),  # HICO-style verb_object
    ("ride_horse", "ride horse"),
    ("cellPhone", "cell phone"),                         # camelCase split
    ("TVMonitor", "TVMonitor"),                          # a capital run is an acronym: kept
    ("t-shirt", "t-shirt"),                              # hyphens are words' own
    ("  hot   dog ", "hot dog"),
])
def test_generic_rule(label: str, words: str) -> None:
    assert display_name(label) == words


def test_user_alias_wins() -> None:
    assert display_name("tvmonitor", "voc", {"tvmonitor": "television"}) == "television"


def test_word_vector_lookup_uses_the_same_table() -> None:
    for ds in ("voc", "voc2007", "voc2012"):
        assert DATASET_ALIASES[ds] == {lab: display_name(lab, ds) for lab in DATASET_ALIASES[ds]}
    assert set(DATASET_ALIASES["voc2007"]) == {"diningtable", "pottedplant", "tvmonitor"}


def test_conceptnet_overrides_agree_with_the_display_names() -> None:
    """With a store holding only the concepts VOC's override file gives, each VOC display name reaches them."""
    voc = list(labelgraph.load(labelgraph.bundled_path("voc")).labels)
    overrides = read_overrides(packaged_overrides("voc2007"), voc)
    assert set(overrides) == {"diningtable", "pottedplant", "tvmonitor"}
    for label, concepts in overrides.items():
        [m] = map_labels([label], set(concepts).__contains__, dataset="voc2007")
        assert m.concepts and set(m.concepts) <= set(concepts), (label, m)
        [bare] = map_labels([label], set(concepts).__contains__)  # without the table: the fused name finds nothing
        assert bare.concepts == ()


def test_templates_and_descriptions_errors(tmp_path) -> None:
    with pytest.raises(ConfigError, match="neither a template set"):
        load_templates("photos")
    bad = tmp_path / "t.txt"
    bad.write_text("a {} and a {}\n")
    with pytest.raises(DataError, match=r"t.txt:1"):
        load_templates(bad)
    d = tmp_path / "d.json"
    d.write_text('["dog"]')
    with pytest.raises(DataError, match="expected a JSON object"):
        load_descriptions(d, ["dog"])
    d.write_text("{bad")
    with pytest.raises(DataError, match="not valid JSON"):
        load_descriptions(d, ["dog"])
    assert label_texts("x", load_templates("imagenet"))[0] == "a bad photo of a x."
