"""knowledge_artifact: A_K from the store only, meta, warnings, missing concepts, bad relations, real COCO edges."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

import labelgraph
from labelgraph.conceptnet import DEFAULT_RELATIONS, Store, knowledge_artifact
from labelgraph.errors import ConfigError, DataError
from tests._conceptnet_server import store_row
from tests.conftest import require_shared


_edge = store_row


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "cn.sqlite"
    edges = [
        _edge("AtLocation", "/c/en/cat", "/c/en/bed/n", 9.0),
        _edge("RelatedTo", "/c/en/bed", "/c/en/cat", 1.5),
        _edge("Antonym", "/c/en/dog", "/c/en/cat", 7.0),
        _edge("RelatedTo", "/c/en/dog", "/c/en/cat", 3.0),
        _edge("UsedFor", "/c/en/tennis", "/c/en/bed", 1.25),
        _edge("AtLocation", "/c/en/racket", "/c/en/bed", 0.5),
        _edge("IsA", "/c/en/zebra", "/c/en/animal", 2.0),
    ]
    with Store(path) as st:
        st.add_edges(edges)
        for c in ("cat", "bed", "dog", "tennis_racket", "tennis", "racket", "zebra"):
            st.record_page(f"/c/en/{c}", [], None)  # fetched, complete
    return path


LABELS = ["cat", "bed", "dog", "tennis racket", "zebra"]


def test_artifact_matrix_and_meta(store: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        art = knowledge_artifact(LABELS, store=store)
    expected = np.zeros((5, 5), dtype=np.float32)
    expected[0, 1] = expected[1, 0] = 9.0
    expected[0, 2] = expected[2, 0] = 3.0     # Antonym 7.0 excluded by default
    expected[1, 3] = expected[3, 1] = 1.25    # max over tennis / racket
    np.testing.assert_array_equal(art.to_dense(), expected)
    assert art.kind == "knowledge" and art.labels == tuple(LABELS)
    meta = art.meta
    assert meta["relations"] == list(DEFAULT_RELATIONS) and meta["directed"] is False
    assert set(meta["multipliers"].values()) == {1.0}
    assert meta["store"]["edges"] == 7 and meta["store"]["concepts_complete"] == 7
    assert meta["edges_used"] == 5  # zebra-animal has no label at its other end; Antonym excluded
    rows = {r["label"]: r for r in meta["mapping"]}
    assert rows["tennis racket"]["concepts"] == ["/c/en/tennis", "/c/en/racket"]
    assert rows["tennis racket"]["source"] == "words" and rows["tennis racket"]["edges"] == 2
    assert rows["zebra"]["edges"] == 1 and rows["zebra"]["linked_labels"] == 0
    assert meta["isolated_labels"] == ["zebra"] and meta["labels_without_edges"] == []
    out = art.save(tmp_path / "k.npz")
    back = labelgraph.load(out if isinstance(out, Path) else tmp_path / "k.npz")
    np.testing.assert_array_equal(back.to_dense(), expected)
    again = knowledge_artifact(LABELS, store=store)
    assert again.content_hash == art.content_hash and again.meta["edges_sha256"] == meta["edges_sha256"]


def test_directed_relations_multipliers(store: Path) -> None:
    art = knowledge_artifact(["cat", "bed", "dog"], store=store, directed=True,
                             relations=["RelatedTo", "Antonym", "/r/AtLocation"],
                             multipliers={"Antonym": 0.5, "AtLocation": 0.1})
    A = art.to_dense()
    assert A[0, 1] == pytest.approx(0.9) and A[1, 0] == pytest.approx(1.5)
    assert A[2, 0] == pytest.approx(3.5) and A[0, 2] == 0.0
    assert art.meta["multipliers"] == {"RelatedTo": 1.0, "Antonym": 0.5, "AtLocation": 0.1}


def test_label_without_edges_warns(store: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Store(store) as st:
        st.record_page("/c/en/unicorn", [], None)
    with caplog.at_level(logging.WARNING):
        art = knowledge_artifact(["cat", "unicorn", "zebra"], store=store, relations=["AtLocation"])
    assert "2 labels have no ConceptNet edge in the relation set: unicorn, zebra" in caplog.text
    assert art.meta["labels_without_edges"] == ["unicorn", "zebra"]


def test_never_fetched_concepts_name_the_command(store: Path) -> None:
    with pytest.raises(DataError) as info:
        knowledge_artifact(["cat", "hot dog"], store=store, dataset="coco")
    message = str(info.value)
    assert "\n" not in message
    # dog is in the store; the phrase and the other word are not
    assert "2 concepts were never fetched (/c/en/hot_dog, /c/en/hot)" in message
    assert f"labelgraph conceptnet fetch --dataset coco --store {store}" in message


def test_unknown_relation_and_no_store(store: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown ConceptNet relation 'LivesIn' \(known: RelatedTo, IsA"):
        knowledge_artifact(["cat"], store=store, relations=["LivesIn"])
    with pytest.raises(DataError, match="no ConceptNet store here yet"):
        knowledge_artifact(["cat"], store=tmp_path / "none.sqlite")


def test_overrides_file_and_packaged_voc(store: Path, tmp_path: Path) -> None:
    f = tmp_path / "o.csv"
    f.write_text("dog,/c/en/zebra\n")
    art = knowledge_artifact(["cat", "dog"], store=store, overrides=f)
    assert art.meta["mapping"][1]["concepts"] == ["/c/en/zebra"] and art.to_dense()[0, 1] == 0.0
    assert art.meta["overrides"]["file"] == str(f)
    f.write_text("doge,/c/en/zebra\n")
    with pytest.raises(DataError, match="o.csv:1: override for unknown label 'doge'"):
        knowledge_artifact(["cat", "dog"], store=store, overrides=f)
    with Store(store) as st:
        st.add_edges([_edge("AtLocation", "/c/en/cat", "/c/en/television", 2.0)])
        st.record_page("/c/en/television", [], None)
        st.record_page("/c/en/monitor", [], None)
    art = knowledge_artifact(["cat", "tvmonitor"], store=store, dataset="voc")
    assert art.meta["overrides"]["packaged"] == "voc.csv"
    assert art.to_dense()[0, 1] == 2.0


def test_real_coco_atlocation_edges(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The 2021 AtLocation edges of all 80 COCO labels: A_K against pairs found directly in the JSON."""
    data = json.loads(require_shared("conceptnet", "api", "room_env_coco80_atlocation",
                                     "conceptnet-data.json").read_text())
    labels = [key.replace("_", " ") for key in data]
    term = {f"/c/en/{key}": i for i, key in enumerate(data)}
    expected = np.zeros((80, 80))
    touched = set()
    for key, edges in data.items():
        for e in edges:
            if e["start"]["term"] in term:
                touched.add(e["start"]["term"])
            if e["end"]["term"] in term:
                touched.add(e["end"]["term"])
            i, j = term.get(e["start"]["term"]), term.get(e["end"]["term"])
            if i is not None and j is not None and i != j:
                expected[i, j] = max(expected[i, j], e["weight"])
    path = tmp_path / "coco.sqlite"
    with Store(path) as st:
        st.add_edges(_edge("AtLocation", e["start"]["@id"], e["end"]["@id"], e["weight"])
                     for edges in data.values() for e in edges)
        for key in data:  # every phrase concept and every word concept counts as fetched
            st.record_page(f"/c/en/{key}", [], None)
            for word in key.split("_"):
                st.record_page(f"/c/en/{word}", [], None)
            st.record_page(f"/c/en/{key[:-1]}", [], None)  # singular of 'skis'
    with caplog.at_level(logging.WARNING):
        art = knowledge_artifact(labels, store=path, relations=["AtLocation"], directed=True)
    np.testing.assert_allclose(art.to_dense(), expected, rtol=1e-6)
    assert int((expected > 0).sum()) == 26  # the 26 COCO -> COCO pairs its provenance lists
    assert art.to_dense()[term["/c/en/cat"], term["/c/en/bed"]] == pytest.approx(9.381, abs=1e-3)
    # labels whose phrase concept appears nowhere fall back to words; name those that find nothing
    rows = {r["label"]: r for r in art.meta["mapping"]}
    assert {lab for lab, r in rows.items() if r["source"] == "phrase"} == {
        lab for lab, key in zip(labels, data) if f"/c/en/{key}" in touched}
    assert rows["person"]["source"] == "phrase"
    assert set(art.meta["labels_without_edges"]) <= {lab for lab, key in zip(labels, data)
                                                    if f"/c/en/{key}" not in touched}
