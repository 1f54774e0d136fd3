"""SPEC §3 lookup on the real GloVe 6B 50-d file (400,000 words), checked against an independent reader.

The file is scanned by labelgraph twice in this module (the COCO + VOC label sets in
one call, the last-line label in another) and read once by the plain reader below.
"""
from __future__ import annotations

import gzip

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.stats import spearmanr

import labelgraph
from labelgraph.embeddings import DATASET_ALIASES, label_vectors, read_mlgcn_pickle
from labelgraph_cli.main import cli
from tests.conftest import require_shared


def _names(path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def glove_path():
    return require_shared("glove", "glove.6B.50d.txt.gz")


@pytest.fixture(scope="module")
def label_sets():
    mlgcn = require_shared("mlgcn")
    return {"coco": _names(mlgcn / "coco_categories_mlgcn_order.txt"),
            "voc": _names(mlgcn / "voc_categories.txt")}


@pytest.fixture(scope="module")
def glove_rows(glove_path):
    """Every row of the file, read with plain Python: word -> (first line number, float32 vector), and the last word."""
    rows: dict[str, tuple[int, np.ndarray]] = {}
    last = None
    with gzip.open(glove_path, "rt", encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            word, rest = line.rstrip("\n").split(" ", 1)
            if word not in rows:
                rows[word] = (number, rest)
            last = word
    assert number == 400_000
    return {"rows": rows, "last": last}


def row(glove_rows, word: str) -> np.ndarray:
    return np.array([float(x) for x in glove_rows["rows"][word][1].split(" ")], dtype=np.float32)


@pytest.fixture(scope="module")
def coco_voc(glove_path, label_sets):
    """One labelgraph scan for COCO's 80 and VOC's 20 labels (VOC's joined names through the VOC aliases)."""
    union = list(dict.fromkeys(label_sets["coco"] + label_sets["voc"] + ["t-shirt"]))
    vectors, report = label_vectors(union, glove_path, aliases=DATASET_ALIASES["voc2007"])
    return union, vectors, report


def test_single_word_labels_equal_the_files_row(coco_voc, glove_rows):
    labels, vectors, report = coco_voc
    single = [(i, lab) for i, lab in enumerate(labels) if " " not in lab and "-" not in lab
              and lab not in DATASET_ALIASES["voc2007"]]
    assert len(single) == 68  # 65 COCO + 3 VOC-only (aeroplane, motorbike, sofa)
    for i, lab in single:
        np.testing.assert_array_equal(vectors[i], row(glove_rows, lab), err_msg=lab)
        r = report.labels[i]
        assert (r.vector, r.key, r.lines) == ("key", lab, (glove_rows["rows"][lab][0],))


def test_multi_word_labels_are_the_mean_of_their_tokens(coco_voc, glove_rows):
    labels, vectors, report = coco_voc
    multi = {lab: lab.split(" ") for lab in labels if " " in lab}
    multi.update({lab: text.split(" ") for lab, text in DATASET_ALIASES["voc2007"].items()})
    assert {"hot dog", "traffic light", "diningtable"} <= set(multi)
    for lab, tokens in multi.items():
        i = labels.index(lab)
        expected = np.mean([row(glove_rows, t).astype(np.float64) for t in tokens], axis=0).astype(np.float32)
        np.testing.assert_array_equal(vectors[i], expected, err_msg=lab)
        assert report.labels[i].vector == "mean" and report.labels[i].tokens_found == tuple(tokens)
        assert report.labels[i].tokens_missing == ()


def test_phrase_key_wins_over_the_mean(coco_voc, glove_rows):
    labels, vectors, report = coco_voc
    assert "t-shirt" in glove_rows["rows"] and "shirt" in glove_rows["rows"]
    i = labels.index("t-shirt")
    np.testing.assert_array_equal(vectors[i], row(glove_rows, "t-shirt"))
    mean = (row(glove_rows, "t").astype(np.float64) + row(glove_rows, "shirt")) / 2
    assert not np.allclose(vectors[i], mean)
    assert report.labels[i].key == "t-shirt"


@pytest.mark.parametrize("dataset, pkl", [("coco", "coco_glove_word2vec.pkl"), ("voc", "voc_glove_word2vec.pkl")])
def test_cosine_structure_matches_mlgcn_300d(coco_voc, label_sets, dataset, pkl):
    labels, vectors, _ = coco_voc
    names = label_sets[dataset]
    ours = vectors[[labels.index(x) for x in names]].astype(np.float64)
    ref = read_mlgcn_pickle(require_shared("mlgcn", pkl)).astype(np.float64)
    assert ref.shape == (len(names), 300)

    def cosines(m):
        m = m / np.linalg.norm(m, axis=1, keepdims=True)
        return (m @ m.T)[np.triu_indices(len(m), 1)]

    rho = spearmanr(cosines(ours), cosines(ref)).correlation
    assert rho >= 0.6, rho
    # the check has teeth: a shuffled label order breaks the correspondence
    perm = np.random.default_rng(0).permutation(len(names))
    assert spearmanr(cosines(ours[perm]), cosines(ref)).correlation < 0.3


def test_label_whose_only_key_is_the_last_line(glove_path, glove_rows):
    last = glove_rows["last"]
    assert glove_rows["rows"][last][0] == 400_000
    vectors, report = label_vectors([last], glove_path)
    np.testing.assert_array_equal(vectors[0], row(glove_rows, last))
    assert report.labels[0].lines == (400_000,) and report.lines_scanned == 400_000
    assert not report.stopped_early


def test_cli_dataset_voc(tmp_path, glove_path, glove_rows):
    res = CliRunner().invoke(cli, ["embed", "--dataset", "voc", "--vectors", str(glove_path),
                                   "--out", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.output
    out = tmp_path / "voc2007_glove.6B.50d.npz"
    art = labelgraph.load(out)
    voc = labelgraph.load(labelgraph.bundled_path("voc")).labels
    assert art.kind == "embeddings" and art.labels == voc and art.vectors.shape == (20, 50)
    np.testing.assert_array_equal(art.vectors[voc.index("person")], row(glove_rows, "person"))
    assert "diningtable (dining table)  mean    dining, table" in res.output
    assert art.meta["source"]["fingerprint"]["sha256"] == \
        "cc099e08739d7347b5ea6b69681e57094b1c3447856c4e3005eb07b854958748"
    assert art.meta["dimension"] == 50 and art.meta["format"] == "glove"
