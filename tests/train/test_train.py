"""Training a reranker and an encoder on real SciFact judgements (a small slice), with real models.

The slice keeps 20 training queries, their judged documents and 60 others, texts cut to
600 characters, and trains one short epoch at 64 tokens: the tests check what training
promises (folders that load, reports, refusals, no half-written model), not model quality;
the quality is measured in benchmarks/train_scifact.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.shared import scifact_slice
from textlens.cli import app
from textlens.errors import AssetError, Conflict, InputError
from textlens.index import CollectionError, create_collection, open_collection
from textlens.train import train_encoder, train_reranker
from textlens.train.core import check_output, staged_folder

FAST = {"epochs": 1, "max_length": 64, "batch_size": 8, "negatives": 3, "dev_fraction": 0.25}


@pytest.fixture(scope="module")
def beir(tmp_path_factory) -> Path:
    """A BEIR folder of 20 SciFact training queries, their judged documents and 60 others."""
    return scifact_slice(tmp_path_factory.mktemp("scifact-slice"))


def test_a_trained_reranker_is_a_folder_that_rerank_loads(beir, tmp_path):
    out = tmp_path / "reranker"
    args = ["train", "reranker", str(beir), "-o", str(out), "--keep-worse", "--json"]
    args += ["--epochs", "1", "--max-length", "64", "--batch-size", "8", "--negatives", "3", "--dev-fraction", "0.25"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["saved"] and report["kind"] == "reranker" and report["output"] == str(out)
    assert report["data"]["train_queries"] == 15 and report["data"]["dev_queries"] == 5
    assert 2 <= report["data"]["negatives_per_query"] <= 3 and report["estimate_seconds"] > 0
    assert report["dev_before"] is not None and len(report["history"]) == 1 and report["steps"] > 0
    assert report["trainable_parameters"] == report["total_parameters"] > 20_000_000
    # measured alone and interpolated with the first stage: the better is the figure, with its weight
    assert report["rerank_weight"] in (1.0, 0.7, 0.5, 0.3)
    assert report["dev_after"] >= max(h["dev_ndcg@10"] for h in report["history"])
    saved = json.loads((out / "textlens_training.json").read_text(encoding="utf-8"))
    assert saved["dev_after"] == report["dev_after"]
    with open_collection(f"beir-{beir.name}") as col:
        res = col.search("vitamin D and bone health", mode="hybrid", k=5, rerank=str(out), rerank_depth=3)
    assert [h.scores.get("rerank") is not None for h in res.hits] == [True, True, True, False, False]
    first = [h.score for h in res.hits[:3]]
    assert first == sorted(first, reverse=True)
    # the REST API takes it when the operator allows the folder
    from fastapi.testclient import TestClient

    from textlens.server import ServerSettings, create_app

    settings = ServerSettings(preload=False, rerankers=(str(out),), collections=(f"beir-{beir.name}",))
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        body = {"query": "vitamin D and bone health", "mode": "hybrid", "k": 3, "rerank": str(out)}
        res = client.post(f"/api/collections/beir-{beir.name}/search", json=body)
        assert res.status_code == 200, res.text
        assert all("rerank" in hit["scores"] for hit in res.json()["hits"])
    # the eval command takes it too, reranking only the first N hits
    args = ["eval", str(beir), "--split", "train", "-m", "keyword", "--rerank", str(out), "--rerank-depth", "5"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert "hybrid+rerank@5" in json.loads(result.stdout)["results"]


def test_a_lora_encoder_builds_a_collection_and_a_retrained_folder_is_refused(beir, tmp_path):
    out = tmp_path / "encoder"
    report = train_encoder(beir, out, lora_rank=4, keep_worse=True, **{**FAST, "batch_size": 4})
    assert report.saved and report.config["lora_rank"] == 4
    assert 0 < report.trainable_parameters < report.total_parameters / 20
    assert report.adapter_bytes and (out / "lora" / "adapter_model.safetensors").is_file()
    assert (out / "modules.json").is_file() and not list(tmp_path.glob(".encoder.partial-*"))
    with create_collection("trained-encoder", encoder=str(out)) as col:
        from textlens.corpus import read_documents

        col.add(read_documents(beir, format="beir"))
        hits = col.search("vitamin D", mode="dense", k=3).hits
        assert len(hits) == 3 and col.manifest["encoder"]["fingerprint"]
    # the same folder written again holds another model: the collection refuses to mix the two
    again = train_encoder(beir, out, overwrite=True, keep_worse=True, **{**FAST, "batch_size": 4, "seed": 1})
    assert again.saved
    from textlens.embed import _LOADED

    _LOADED.clear()
    with open_collection("trained-encoder") as col, pytest.raises(CollectionError, match=r"weights .* changed"):
        col.search("vitamin D", mode="dense", k=3)


def test_a_model_that_got_worse_is_not_written(beir, tmp_path):
    out = tmp_path / "wrecked"
    report = train_encoder(beir, out, learning_rate=0.5, **{**FAST, "batch_size": 4})
    assert not report.saved and not out.exists()
    assert report.dev_after is not None and report.dev_after <= report.dev_before
    assert "did not improve" in report.note and "nothing was written" in report.note
    kept = train_encoder(beir, out, learning_rate=0.5, keep_worse=True, **{**FAST, "batch_size": 4})
    assert kept.saved and (out / "modules.json").is_file() and "written anyway" in kept.note
    assert kept.dev_after == kept.history[-1]["dev_ndcg@10"] < kept.dev_before  # the figure of what was written


def _prepared():
    from textlens.train.data import Candidates, Judgements
    from textlens.train.models import Prepared

    qrels = {"q1": {"pos": 1, "judged-0": 0}}
    judgements = Judgements({"q1": "vitamin D and bone density"}, qrels, train=["q1"], dev=[])
    texts = {d: f"abstract {d}" for d in ["pos", "judged-0", "m1", "m2", "m3", "r1", "r2", "r3", "r4"]}
    return Prepared(judgements, Candidates({}, {"q1": ["m1", "m2", "m3"]}), texts)


def test_reranker_negatives_mix_mined_and_random_and_a_new_head_learns_at_its_own_rate(tmp_path):
    import random

    from textlens.train.core import TrainConfig
    from textlens.train.models import RerankerTask

    config = TrainConfig(negatives=3, random_negatives=1, learning_rate=7e-5, head_learning_rate=2e-3)
    task = RerankerTask("all-MiniLM-L6-v2", _prepared(), config)
    for epoch in range(3):
        picked = task._negatives("q1", epoch, 3, random.Random(epoch))
        assert len(picked) == 3 == len(set(picked))
        assert set(picked[:2]) <= {"m1", "m2", "m3"} and picked[2] in {"r1", "r2", "r3", "r4"}  # never judged
    assert task._negatives("q1", 1, 3, random.Random(0))[:2] == ["m3", "m1"]  # rotated by epoch
    # the bi-encoder's weights get a new pooler + classifier head, trained at the head's rate
    body, head = task.param_groups()
    names = {id(p): n for n, p in task.module.named_parameters()}
    assert head["lr"] == 2e-3 and "lr" not in body
    assert sorted(names[id(p)] for p in head["params"]) == [
        "bert.pooler.dense.bias",
        "bert.pooler.dense.weight",
        "classifier.bias",
        "classifier.weight",
    ]
    assert len(body["params"]) + 4 == len(names)
    # with LoRA the head is trained whole beside the adapters, at the same rate
    lora = RerankerTask("all-MiniLM-L6-v2", _prepared(), TrainConfig(**{**vars(config), "lora_rank": 4}))
    body, head = lora.param_groups()
    assert head["lr"] == 2e-3 and len(head["params"]) == 4
    assert all(
        "lora_" in n for n, p in lora.module.named_parameters() if p.requires_grad and "modules_to_save" not in n
    )
    # a reranker to train further keeps its trained head at the body's rate
    task.save(tmp_path / "ce")
    again = RerankerTask(str(tmp_path / "ce"), _prepared(), config)
    assert len(again.param_groups()) == 1
    with pytest.raises(InputError, match="random negatives"):
        TrainConfig(negatives=2, random_negatives=3).check()


def test_estimate_only_trains_nothing(beir, tmp_path):
    report = train_reranker(beir, tmp_path / "r", estimate_only=True, **FAST)
    assert report.estimate_seconds > 0 and report.steps == 0 and not report.saved
    assert not (tmp_path / "r").exists()


def test_bad_training_input_is_named(beir, tmp_path):
    # unknown queries and documents are counted, the rest trains
    qrels = (beir / "qrels/train.tsv").read_text(encoding="utf-8") + "no-such-query\t4983\t1\n"
    qrels += (beir / "qrels/train.tsv").read_text(encoding="utf-8").splitlines()[1].split("\t")[0] + "\tnope\t1\n"
    (tmp_path / "qrels.tsv").write_text(qrels, encoding="utf-8")
    report = train_reranker(
        collection=f"beir-{beir.name}",
        qrels=tmp_path / "qrels.tsv",
        queries=beir / "queries.jsonl",
        estimate_only=True,
        **FAST,
    )
    assert report.data["problems"] == {
        "judged queries not in the queries file": 1,
        "judged documents not in the corpus": 1,
    }
    # no positive at all
    (tmp_path / "zero.tsv").write_text("query-id\tcorpus-id\tscore\n1\t4983\t0\n", encoding="utf-8")
    with pytest.raises(InputError, match="no positive judgement"):
        train_reranker(collection=f"beir-{beir.name}", qrels=tmp_path / "zero.tsv", queries=beir / "queries.jsonl")
    # a LoRA target the model does not have: the error lists the names it has
    with pytest.raises(InputError, match=r"nope.*not found.*query, value"):
        train_reranker(beir, estimate_only=True, lora_rank=4, lora_targets=("nope",), **FAST)
    # an output folder that holds something already
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(Conflict, match="already exists"):
        train_reranker(beir, tmp_path / "taken", **FAST)
    assert (tmp_path / "taken" / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_folder_of_the_wrong_kind_is_refused(tmp_path):
    from textlens.embed import get_encoder
    from textlens.models.ref import resolve
    from textlens.search.rerank import CrossEncoderReranker

    encoder_folder = resolve("all-MiniLM-L6-v2").target
    with pytest.raises(AssetError, match=r"is not a cross-encoder.*BertModel.*embedding model"):
        CrossEncoderReranker(encoder_folder)
    (tmp_path / "ce").mkdir()
    config = json.loads((Path(encoder_folder) / "config.json").read_text(encoding="utf-8"))
    config["architectures"] = ["BertForSequenceClassification"]
    (tmp_path / "ce" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(AssetError, match="is a cross-encoder"):
        get_encoder(str(tmp_path / "ce"))
    with pytest.raises(AssetError, match="not a model folder"):
        get_encoder(str(tmp_path))


KILLED = """
import os, signal, sys
from pathlib import Path
from textlens.train.core import staged_folder
with staged_folder(Path(sys.argv[1]), False) as folder:
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"half")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_run_leaves_no_model_folder(beir, tmp_path):
    out = tmp_path / "model"
    done = subprocess.run([sys.executable, "-c", KILLED, str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert not out.exists() and len(list(tmp_path.glob(".model.partial-*"))) == 1
    check_output(out, overwrite=False)  # the next run clears what the dead one left
    assert not list(tmp_path.glob(".model.partial-*"))
    with staged_folder(out, False) as folder:
        (folder / "config.json").write_text("{}", encoding="utf-8")
    assert (out / "config.json").is_file()


def test_ctrl_c_stops_training_without_writing(beir, tmp_path):
    out = tmp_path / "interrupted"
    cmd = [sys.executable, "-m", "textlens", "train", "reranker", str(beir), "-o", str(out), "--keep-worse"]
    cmd += ["--epochs", "3", "--max-length", "64", "--batch-size", "8", "--negatives", "3"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("estimate:"):
            time.sleep(1)
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.stderr.read()
    assert proc.wait(timeout=120) == 130, "".join(lines) + rest
    assert "interrupted; no model folder was written" in rest
    assert not out.exists() and not list(tmp_path.glob(".interrupted.partial-*"))
