"""KSSNet Eq. (1) by hand: the max rule, direction, excluded relations, multipliers, zero diagonal."""
from __future__ import annotations

import numpy as np
import pytest

from labelgraph.errors import ConfigError, DataError
from labelgraph.graphs.knowledge import (
    ALL_RELATIONS,
    DEFAULT_RELATIONS,
    NEGATIVE_RELATIONS,
    check_multipliers,
    concept_of,
    knowledge_graph,
    relation_name,
)

# labels: 0 cat, 1 bed, 2 dog, 3 tennis racket (two word concepts)
CONCEPTS = [["/c/en/cat"], ["/c/en/bed"], ["/c/en/dog"], ["/c/en/tennis", "/c/en/racket"]]
EDGES = [
    ("/r/AtLocation", "/c/en/cat", "/c/en/bed/n", 9.0),     # cat -> bed, sense suffix on the end
    ("/r/RelatedTo", "/c/en/bed", "/c/en/cat", 1.5),        # bed -> cat, weaker
    ("/r/RelatedTo", "/c/en/dog", "/c/en/cat", 3.0),        # dog -> cat
    ("/r/Antonym", "/c/en/dog", "/c/en/cat", 7.0),          # negative: excluded by default
    ("/r/IsA", "/c/en/cat/n/wn/animal", "/c/en/dog", 2.0),  # cat -> dog
    ("/r/AtLocation", "/c/en/racket", "/c/en/bed", 0.5),    # racket -> bed
    ("/r/UsedFor", "/c/en/tennis", "/c/en/bed", 1.25),      # tennis -> bed: max over the word pairs
    ("/r/RelatedTo", "/c/en/cat", "/c/en/cat", 4.0),        # self loop: never on the diagonal
    ("/r/ExternalURL", "/c/en/cat", "/c/en/dog", 8.0),      # not in the default set
    ("/r/RelatedTo", "/c/en/cat", "/c/en/elephant", 6.0),   # end outside the label set
]


def test_undirected_max_rule_by_hand() -> None:
    A = knowledge_graph(EDGES, CONCEPTS)
    expected = np.zeros((4, 4))
    expected[0, 1] = expected[1, 0] = 9.0          # max(9.0, 1.5)
    expected[0, 2] = expected[2, 0] = 3.0          # max(3.0 RelatedTo, 2.0 IsA); Antonym 7.0 excluded
    expected[1, 3] = expected[3, 1] = 1.25         # max(0.5, 1.25) over tennis/racket
    np.testing.assert_array_equal(A, expected)
    assert A.dtype == np.float64
    assert np.all(np.diag(A) == 0)


def test_directed_keeps_direction() -> None:
    A = knowledge_graph(EDGES, CONCEPTS, directed=True)
    expected = np.zeros((4, 4))
    expected[0, 1] = 9.0
    expected[1, 0] = 1.5
    expected[2, 0] = 3.0
    expected[0, 2] = 2.0
    expected[3, 1] = 1.25
    np.testing.assert_array_equal(A, expected)


def test_negative_relation_only_when_asked_and_multipliers() -> None:
    A = knowledge_graph(EDGES, CONCEPTS, relations=["RelatedTo", "Antonym"], multipliers={"Antonym": 0.5})
    # cat-dog: max(RelatedTo 3.0, Antonym 7.0 * 0.5 = 3.5) = 3.5; cat-bed only RelatedTo 1.5
    assert A[0, 2] == A[2, 0] == 3.5
    assert A[0, 1] == A[1, 0] == 1.5
    assert A[1, 3] == 0.0
    B = knowledge_graph(EDGES, CONCEPTS, multipliers={"AtLocation": 0.1, "IsA": 2.0})
    # cat-bed: max(9.0 * 0.1, 1.5) = 1.5; cat-dog: max(3.0, 2.0 * 2) = 4.0; bed-racket: max(0.05, 1.25)
    assert B[0, 1] == pytest.approx(1.5)
    assert B[0, 2] == pytest.approx(4.0)
    assert B[1, 3] == pytest.approx(1.25)


def test_shared_concept_and_negative_weight() -> None:
    # a concept shared by two labels feeds both; an all-negative S_ij keeps its (negative) max
    concepts = [["/c/en/dog"], ["/c/en/hot", "/c/en/dog"], ["/c/en/cat"]]
    edges = [("RelatedTo", "/c/en/dog", "/c/en/cat", 2.0), ("RelatedTo", "/c/en/hot", "/c/en/dog", -1.0)]
    A = knowledge_graph(edges, concepts)
    assert A[0, 2] == A[1, 2] == 2.0
    assert A[0, 1] == A[1, 0] == -1.0   # S_01 = {hot -> dog}: max is -1, not 0
    assert A[0, 0] == A[1, 1] == 0.0


def test_empty_inputs() -> None:
    assert knowledge_graph([], []).shape == (0, 0)
    np.testing.assert_array_equal(knowledge_graph([], [["/c/en/a"], []]), np.zeros((2, 2)))


def test_relation_names_and_sets() -> None:
    assert relation_name("/r/IsA") == relation_name("isa") == "IsA"
    assert len(DEFAULT_RELATIONS) == 25 and len(set(DEFAULT_RELATIONS)) == 25
    assert not set(NEGATIVE_RELATIONS) & set(DEFAULT_RELATIONS)
    assert "ExternalURL" in ALL_RELATIONS and "ExternalURL" not in DEFAULT_RELATIONS
    assert set(DEFAULT_RELATIONS) <= set(ALL_RELATIONS)
    with pytest.raises(ConfigError, match="unknown ConceptNet relation 'LivesIn'.*AtLocation"):
        knowledge_graph(EDGES, CONCEPTS, relations=["LivesIn"])


def test_bad_multipliers() -> None:
    with pytest.raises(ConfigError, match="not in the relation set"):
        check_multipliers({"Antonym": 2.0}, DEFAULT_RELATIONS)
    with pytest.raises(ConfigError, match=">= 0"):
        check_multipliers({"IsA": -1}, DEFAULT_RELATIONS)
    with pytest.raises(ConfigError, match="must be a number"):
        check_multipliers({"IsA": "x"}, DEFAULT_RELATIONS)
    with pytest.raises(DataError, match="non-finite"):
        knowledge_graph([("IsA", "/c/en/a", "/c/en/b", float("nan"))], [["/c/en/a"], ["/c/en/b"]])


def test_concept_of() -> None:
    assert concept_of("/c/en/dog/n/wn/animal") == "/c/en/dog"
    assert concept_of("/c/en/dog") == "/c/en/dog"
    assert concept_of("http://dbpedia.org/resource/Dog") == "http://dbpedia.org/resource/Dog"
