"""Batch embedding on a Ray cluster into PostgreSQL: a real local cluster of two Ray nodes on this machine,
a real driver killed and run again, a real worker killed in the middle."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.shared import shared
from textlens.corpus.document import Document
from textlens.errors import InputError
from textlens.index import CollectionNotFound, create_collection, open_collection
from textlens.index.ray_embed import RayError, connect, index_with_ray

N = 1200
ENCODER = "sentence-transformers/all-MiniLM-L6-v2@64"  # texts cut at 64 tokens: the same path, a quarter of the work


@pytest.fixture(scope="module")
def ray_address():
    from ray.cluster_utils import Cluster

    # on this machine's own address: Ray swaps 127.0.0.1 for it when a driver connects
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    yield cluster.address
    import ray

    ray.shutdown()
    cluster.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("ray") / "scifact.jsonl"
    with (shared("data/beir/scifact") / "corpus.jsonl").open(encoding="utf-8") as f, path.open("w") as out:
        for _, line in zip(range(N), f, strict=False):
            row = json.loads(line)
            out.write(json.dumps({"id": row["_id"], "title": row["title"], "text": row["text"]}) + "\n")
    return path


def _workers() -> list[int]:
    import psutil

    return [p.pid for p in psutil.process_iter(["cmdline"]) if "MapWorker" in " ".join(p.info["cmdline"] or [])]


def _count(name: str, url: str) -> int:
    try:
        with open_collection(name, backend=url) as col:
            return len(col)
    except CollectionNotFound:  # not created yet
        return 0


def test_driver_and_worker_killed_and_everything_is_written_once(ray_address, pg_url, corpus):
    name = "ray-scifact"
    cmd = [sys.executable, "-m", "textlens", "index", str(corpus), "-c", name, "--backend", pg_url]
    cmd += ["--encoder", ENCODER, "--ray", ray_address, "--json"]
    driver = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())
    deadline = time.time() + 600
    while (first := _count(name, pg_url)) == 0:  # the first batch (512) is committed: kill the driver
        assert driver.poll() is None and time.time() < deadline, driver.stderr.read().decode()[-2000:]
        time.sleep(0.2)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    assert 0 < first < N and first % 512 == 0

    killed, dead_drivers = [], set(_workers())  # the killed driver's actors may linger a while on a busy machine

    def kill_a_worker() -> None:  # as soon as the second driver's two encoder actors are up
        while time.time() < deadline and not killed:
            pids = [p for p in _workers() if p not in dead_drivers]
            if len(pids) >= 2:
                time.sleep(1)
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.05)

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    again = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy(), timeout=600)
    killer.join()
    assert again.returncode == 0, again.stderr[-3000:]
    assert killed, "no Ray worker was seen embedding"
    report = json.loads(again.stdout.strip().splitlines()[-1])
    assert (report["added"], report["documents"], report["embedded"]) == (N - first, N, 0)
    with open_collection(name, backend=pg_url) as col:
        ids = [json.loads(line)["id"] for line in corpus.open()]
        assert col.stored_ids() == set(ids)
        for doc in [col.get(ids[0]), col.get(ids[-1])]:  # the vectors are the documents' own
            hit = col.search(col.embedded_text(doc), mode="dense", k=1).hits[0]
            assert hit.doc_id == doc.id and hit.score > 0.99
        col.delete_collection()


def test_ray_errors_are_clear(ray_address, pg_url, tmp_path):
    with pytest.raises(RayError, match=r"no Ray cluster at '127\.0\.0\.1:1'") as err:
        connect("127.0.0.1:1")
    assert "ray start --head" in err.value.hint
    keyword = create_collection(tmp_path / "kw", encoder=None)
    with pytest.raises(InputError, match="has no encoder"):
        index_with_ray(keyword, [Document("a", "text")], ray_address)
    from typer.testing import CliRunner

    from textlens.cli import app

    both = CliRunner().invoke(app, ["index", str(tmp_path), "-c", "x", "--ray", "auto", "--upsert"])
    assert both.exit_code == 2 and "does not replace documents" in both.output
    # in process: the documents already there are skipped, empty ones reported
    col = create_collection(tmp_path / "dense")
    col.add([Document("a", "Cells divide.")])
    docs = [Document("a", "Cells divide."), Document("b", "Stars shine."), Document("c", "  ")]
    report = index_with_ray(col, docs, ray_address, workers=2)
    assert (report.added, report.skipped_empty, len(col)) == (1, ["c"], 2)
