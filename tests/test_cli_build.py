"""``labelgraph build / stats / show / datasets`` through CliRunner and once as the installed script."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import labelgraph
from labelgraph.graphs.ks import ks_graph
from labelgraph_cli.main import COMMANDS, cli
from tests.conftest import require_shared


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_build_bundled_coco(tmp_path):
    res = run("build", "--dataset", "coco", "--tau", "0.4", "--out", str(tmp_path), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["origin"] == "bundled"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["coco2014_binary_t0.4.npz", "coco2014_mlgcn_t0.4_p0.25.npz", "coco2014_probability.npz",
                     "coco2014_reweighted_t0.4_p0.2.npz", "coco2014_statistics.npz"]
    got = labelgraph.load(tmp_path / "coco2014_binary_t0.4.npz")
    assert got.kind == "binary" and got.num_labels == 80
    B = got.to_dense() != 0   # the edges are the saved graph's off-diagonal entries
    np.fill_diagonal(B, False)
    row = {r["kind"]: r for r in out["graphs"]}["binary"]
    assert row["num_edges"] == int(B.sum()) and row["num_labels"] == 80 and row["num_samples"] == 82081
    assert row["isolated"] == int(((B + B.T).sum(axis=1) == 0).sum())


def test_binary_graph_of_a_toy_statistics_file_by_hand(tmp_path):
    # n = (4, 2, 2), M_01 = 2, M_02 = 1 → P = M / n = [[0, .5, .25], [1, 0, 0], [.5, 0, 0]]
    # τ = 0.4 → B = [[0, 1, 0], [1, 0, 0], [1, 0, 0]]; every row of B + I sums to 2 → norm(B + I) = (B + I) / 2
    stats = labelgraph.Artifact.statistics(["a", "b", "c"], [4, 2, 2], [[0, 2, 1], [2, 0, 0], [1, 0, 0]], 6,
                                           {"dataset": "toy", "split": "train"}).save(tmp_path / "toy_statistics.npz")
    res = run("build", "--stats", str(stats), "--kind", "binary", "--tau", "0.4", "--out", str(tmp_path / "g"))
    assert res.exit_code == 0, res.output
    got = labelgraph.load(tmp_path / "g" / "toy_binary_t0.4.npz").to_dense()
    np.testing.assert_allclose(got, [[0.5, 0.5, 0], [0.5, 0.5, 0], [0.5, 0, 0.5]], atol=1e-7)


def test_table_output_and_source_line(tmp_path):
    res = run("build", "--dataset", "voc", "--kind", "reweighted", "--p", "0.3", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    assert res.output.startswith("source: bundled voc2007")
    assert "voc2007_reweighted_t0.4_p0.3.npz" in res.output
    g = labelgraph.load(tmp_path / "voc2007_reweighted_t0.4_p0.3.npz")
    assert g.meta["p"] == 0.3 and g.meta["tau"] == 0.4 and g.meta["normalized"] is True


def test_raw_flag_saves_unnormalized(tmp_path):
    res = run("build", "--dataset", "voc", "--kind", "reweighted", "--raw", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    g = labelgraph.load(tmp_path / "voc2007_reweighted_t0.4_p0.2_raw.npz")
    assert g.meta["normalized"] is False
    np.testing.assert_allclose(np.diag(g.to_dense()), 0.8)


def test_existing_output_without_force_changes_nothing(tmp_path):
    target = tmp_path / "voc2007_binary_t0.4.npz"
    other = labelgraph.build_graph(labelgraph.load(labelgraph.bundled_path("voc")), "binary", tau=0.5)
    other.save(target)  # a file under the name this build writes, with other content
    before = target.read_bytes()
    res = run("build", "--dataset", "voc", "--kind", "binary,reweighted", "--out", str(tmp_path))
    assert res.exit_code != 0
    assert "already exists and would change (parameters: tau 0.5 -> 0.4" in res.output and "--force" in res.output
    assert target.read_bytes() == before
    assert not (tmp_path / "voc2007_reweighted_t0.4_p0.2.npz").exists()
    assert not (tmp_path / "voc2007_statistics.npz").exists()
    assert run("build", "--dataset", "voc", "--kind", "binary", "--out", str(tmp_path), "--force").exit_code == 0
    assert labelgraph.load(target).meta["tau"] == 0.4


@pytest.mark.parametrize("args,message", [
    (["--tau", "1.5"], "tau must be in [0, 1]"),
    (["--p", "-0.1", "--kind", "reweighted"], "p must be in [0, 1]"),
    (["--kind", "nonsense"], "unknown --kind"),
    (["--split", "test"], "bundled voc2007 statistics are for split 'trainval'"),
])
def test_bad_parameters_write_nothing(tmp_path, args, message):
    res = run("build", "--dataset", "voc", "--out", str(tmp_path / "out"), *args)
    assert res.exit_code == 2
    assert message in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_unknown_dataset_and_unwritable_output(tmp_path):
    res = run("build", "--dataset", "imagenet")
    assert res.exit_code == 2 and "unknown dataset 'imagenet'" in res.output
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = run("build", "--dataset", "voc", "--out", str(blocker / "sub"))
    assert res.exit_code == 2 and "cannot create output folder" in res.output


def test_build_from_voc_annotations_equals_bundled(tmp_path):
    root = require_shared("voc2007")
    res = run("build", "--dataset", "voc", "--root", str(root), "--kind", "binary", "--out", str(tmp_path), "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["origin"] == "annotations"
    fresh = labelgraph.load(tmp_path / "voc2007_statistics.npz")
    bundled = labelgraph.load(labelgraph.bundled_path("voc"))
    assert fresh.labels == bundled.labels
    assert fresh.n.tolist() == bundled.n.tolist()
    assert (fresh.matrix != bundled.matrix).nnz == 0


def test_stats_and_show(tmp_path):
    res = run("stats", "--dataset", "voc", "--out", str(tmp_path), "--json")
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    path = Path(info["path"])
    stats = labelgraph.load(path)
    assert info["label_instances"] == int(stats.n.sum()) and info["num_samples"] == 5011
    shown = json.loads(run("show", str(path), "--json").output)
    assert shown["kind"] == "statistics" and shown["num_samples"] == 5011
    assert shown["most_frequent"][0][0] == "person"
    res = run("show", str(tmp_path / "absent.npz"))
    assert res.exit_code != 0 and "no such file" in res.output


def test_graph_from_given_statistics_file(tmp_path):
    stats_file = labelgraph.bundled_path("voc")
    res = run("build", "--stats", str(stats_file), "--kind", "mlgcn", "--out", str(tmp_path), "--name", "mine")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine_mlgcn_t0.4_p0.25.npz"]


def test_datasets_lists_registry():
    rows = json.loads(run("datasets", "--json").output)
    assert {"coco", "voc", "charades", "nuswide", "csv", "jsonl", "labelmatrix"} <= {r["name"] for r in rows}


def test_every_command_help_has_an_example():
    for name in COMMANDS:
        res = CliRunner().invoke(cli, [name, "--help"])
        if res.exit_code != 0 and isinstance(res.exception, ModuleNotFoundError):
            pytest.fail(f"command {name}: module missing ({res.exception})")
        assert res.exit_code == 0, (name, res.output)
        assert "Example" in res.output, name


def test_help_imports_no_command_module():
    code = ("import sys; from click.testing import CliRunner; from labelgraph_cli.main import cli; "
            "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0; "
            "print(','.join(m for m in sys.modules if m.startswith('labelgraph_cli.') and m not in "
            "('labelgraph_cli.main',) or m in ('torch', 'gensim', 'matplotlib', 'networkx')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_installed_script_as_subprocess(tmp_path):
    script = shutil.which("labelgraph", path=os.path.dirname(sys.executable)) or shutil.which("labelgraph")
    assert script, "the console script `labelgraph` is not installed"
    proc = subprocess.run([script, "build", "--dataset", "coco", "--tau", "0.4", "--kind", "binary",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "coco2014_binary_t0.4.npz" in proc.stdout
    bad = subprocess.run([script, "build", "--dataset", "coco", "--tau", "2"], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip() == "Error: tau must be in [0, 1], got 2"
    assert not (tmp_path / "graphs").exists()


def test_mlgcn_pkl_import_through_cli(tmp_path):
    pkl = require_shared("mlgcn", "coco_adj.pkl")
    order = require_shared("coco2014", "categories_alphabetical_order.txt")
    res = run("stats", "--dataset", "mlgcn-pkl", "--annotations", str(pkl), "--labels", str(order),
              "--out", str(tmp_path), "--name", "imported", "--json")
    assert res.exit_code == 0, res.output
    imported = labelgraph.load(tmp_path / "imported_statistics.npz")
    bundled = labelgraph.load(labelgraph.bundled_path("coco"))
    assert imported.labels == bundled.labels and imported.num_samples == 82081
    assert imported.n.tolist() == bundled.n.tolist() and (imported.matrix != bundled.matrix).nnz == 0
    res = run("stats", "--dataset", "mlgcn-pkl", "--annotations", str(pkl), "--out", str(tmp_path / "x"))
    assert res.exit_code == 2 and "--labels FILE is required" in res.output


def test_option_that_does_not_apply_is_refused(tmp_path):
    root = require_shared("voc2007")
    res = run("stats", "--dataset", "voc", "--root", str(root), "--order", "category-id", "--out", str(tmp_path))
    assert res.exit_code == 2 and "--order does not apply to dataset 'voc'" in res.output


def test_build_ks_from_a_knowledge_file(tmp_path):
    stats = labelgraph.load(labelgraph.bundled_path("voc"))
    C = stats.num_labels
    rng = np.random.default_rng(3)
    K = np.triu(rng.random((C, C)) * (rng.random((C, C)) < 0.3), 1)
    K = K + K.T
    kfile = labelgraph.Artifact.graph("knowledge", stats.labels, K).save(tmp_path / "k.npz")
    res = run("build", "--dataset", "voc", "--kind", "ks", "--knowledge", str(kfile), "--lam", "0.5",
              "--out", str(tmp_path / "g"), "--json")
    assert res.exit_code == 0, res.output
    got = labelgraph.load(tmp_path / "g" / "voc2007_ks_l0.5_t0.02_e0.4.npz")
    # the CLI's file holds ks_graph (checked by hand in test_ks.py) of P = M / n and the file's K:
    # λ = 0.5, τ = 0.02 (preset), η = 0.4
    P = stats.matrix.toarray() / stats.n[:, None]
    expected = ks_graph(P, K.astype(np.float32).astype(float), lam=0.5, tau=0.02, eta=0.4)
    np.testing.assert_allclose(got.to_dense(), expected, atol=1e-5)
    shuffled = labelgraph.Artifact.graph("knowledge", stats.labels[::-1], K[::-1, ::-1]).save(tmp_path / "r.npz")
    res = run("build", "--dataset", "voc", "--kind", "ks", "--knowledge", str(shuffled), "--out", str(tmp_path / "h"))
    assert res.exit_code == 2 and "--align" in res.output
    res = run("build", "--dataset", "voc", "--kind", "ks", "--knowledge", str(shuffled), "--align",
              "--lam", "0.5", "--out", str(tmp_path / "h"))
    assert res.exit_code == 0, res.output
    np.testing.assert_allclose(labelgraph.load(tmp_path / "h" / "voc2007_ks_l0.5_t0.02_e0.4.npz").to_dense(),
                               expected, atol=1e-5)


def test_build_knowledge_and_ks_from_a_store(tmp_path):
    from labelgraph.conceptnet import Store
    from tests._conceptnet_server import store_row as edge

    labels = ["cat", "bed", "dog"]
    store = tmp_path / "cn.sqlite"
    with Store(store) as st:
        st.add_edges([edge("AtLocation", "/c/en/cat", "/c/en/bed", 2.0), edge("RelatedTo", "/c/en/dog", "/c/en/cat", 1.0),
                      edge("Antonym", "/c/en/dog", "/c/en/bed", 5.0)])
        for concept in labels:
            st.record_page(f"/c/en/{concept}", [], None)
    stats = labelgraph.Artifact.statistics(labels, [4, 2, 2], [[0, 2, 1], [2, 0, 0], [1, 0, 0]], 6,
                                           {"dataset": "toy", "split": "train"})
    stats_file = stats.save(tmp_path / "toy_statistics.npz")
    res = run("build", "--stats", str(stats_file), "--kind", "knowledge,ks", "--store", str(store),
              "--lam", "0.5", "--tau", "0.1", "--out", str(tmp_path / "g"), "--json")
    assert res.exit_code == 0, res.output
    K = labelgraph.load(tmp_path / "g" / "toy_knowledge.npz").to_dense()
    np.testing.assert_array_equal(K, [[0, 2, 1], [2, 0, 0], [1, 0, 0]])  # Antonym excluded, both directions
    # ks_graph (checked by hand in test_ks.py) of P = [[0, .5, .25], [1, 0, 0], [.5, 0, 0]] and the fetched K:
    # λ = 0.5, τ = 0.1, η = 0.4 (kssnet-coco preset)
    P = np.array([[0, 0.5, 0.25], [1, 0, 0], [0.5, 0, 0]])
    ks = labelgraph.load(tmp_path / "g" / "toy_ks_l0.5_t0.1_e0.4.npz")
    np.testing.assert_allclose(ks.to_dense(), ks_graph(P, K.astype(float), lam=0.5, tau=0.1, eta=0.4), atol=1e-6)
    res = run("build", "--stats", str(stats_file), "--kind", "knowledge", "--store", str(tmp_path / "none.sqlite"),
              "--out", str(tmp_path / "h"))
    assert res.exit_code != 0 and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "h").exists()


def test_build_with_download_from_a_loopback_mirror(tmp_path, monkeypatch):
    from labelgraph.download import SOURCES
    from tests.test_download import _QuietServer, Mirror, _handler, _with_sha256, coco_zip
    import threading

    state = Mirror()
    server = _QuietServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        data = coco_zip(2014)
        source = SOURCES["coco2014-annotations"]
        state.files[f"/files/{source.filename}"] = data
        monkeypatch.setitem(SOURCES, "coco2014-annotations", _with_sha256(source, data))
        monkeypatch.setenv("LABELGRAPH_DOWNLOAD_BASE", f"http://127.0.0.1:{server.server_address[1]}/files")
        res = run("build", "--dataset", "coco", "--download", "--split", "val", "--kind", "binary",
                  "--out", str(tmp_path), "--json")
        assert res.exit_code == 0, res.output
        out = json.loads(res.output)
        assert out["origin"] == "download" and "instances_val2014.json" in out["source"]
        stats = labelgraph.load(tmp_path / "coco2014_val_statistics.npz")
        assert stats.labels == ("dog",) and stats.num_samples == 1 and stats.n.tolist() == [1]
        assert stats.meta["split"] == "val"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_download_without_network_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("LABELGRAPH_DOWNLOAD_BASE", "http://127.0.0.1:9/files")
    res = run("build", "--dataset", "voc", "--download", "--out", str(tmp_path / "out"))
    assert res.exit_code != 0
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "127.0.0.1:9/files/VOCtrainval_06-Nov-2007.tar" in lines[0]
    assert "place it at" in lines[0] and not (tmp_path / "out").exists()
