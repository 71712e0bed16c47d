"""Batch embedding on Ray into PostgreSQL: passages/s with one and with two Ray nodes on this machine.

Both clusters run on the same two cores (``ray.cluster_utils.Cluster``: a head node, plus a second
node for the two-node run, one CPU each), so two nodes cannot be faster here than the cores
allow; the point is what scales and what does not. Rows, on the same Wikipedia passages (past
the ones ``embed_wiki_cache.py`` caches, so nothing comes from the cache):

- textlens without Ray (the collection embeds in-process: ONNX Runtime on both cores);
- ``--ray`` with 1 node (1 encoder actor) and with 2 nodes (2 actors);
- the driver's share: the same documents added again to a new collection with every vector
  already in the embedding cache (what the driver does with the vectors Ray returns: analyse,
  COPY, commit), the ceiling on how fast any cluster could fill one collection.

Usage: python benchmarks/ray_embed.py [--passages 3000] [--skip 60000]
Writes benchmarks/results/ray_embed.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import tempfile
import time
from pathlib import Path

from passages import wiki_passages
from provenance import write_result
from textlens.config import DEFAULT_ENCODER
from textlens.index import CollectionBase, collection_exists, create_collection, open_collection
from textlens.index.ray_embed import index_with_ray

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks/results/ray_embed.json"


def fresh(name: str, url: str) -> CollectionBase:
    if collection_exists(name, backend=url):
        open_collection(name, backend=url).delete_collection()
    return create_collection(name, backend=url, embed_title=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=3000)
    parser.add_argument("--skip", type=int, default=60_000)
    args = parser.parse_args()
    import pgserver
    import ray
    from ray.cluster_utils import Cluster

    docs = list(itertools.islice(wiki_passages(args.skip + args.passages), args.skip, None))
    rows = {}
    with tempfile.TemporaryDirectory() as pgdata:
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
        url = server.get_uri()

        # no Ray: the collection embeds in-process (these passages are not in the embedding cache yet)
        col = fresh("ray-bench-local", url)
        start = time.perf_counter()
        report = col.add(docs, batch_size=512)
        seconds = time.perf_counter() - start
        rows["textlens, no Ray (in-process, 2 cores)"] = {
            "seconds": round(seconds, 1),
            "passages_per_s": round(len(docs) / seconds, 1),
            "embedded": report.embedded,
        }
        col.close()
        print(rows, flush=True)
        for nodes in (1, 2):
            cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
            for _ in range(nodes - 1):
                cluster.add_node(num_cpus=1)
            cluster.wait_for_nodes()
            col = fresh(f"ray-bench-{nodes}", url)
            start = time.perf_counter()
            report = index_with_ray(col, docs, cluster.address, workers=nodes)
            seconds = time.perf_counter() - start
            rows[f"--ray, {nodes} node(s), {nodes} actor(s)"] = {
                "seconds": round(seconds, 1),
                "passages_per_s": round(len(docs) / seconds, 1),
                "added": report.added,
                "embedded_by_driver": report.embedded,
            }
            col.close()
            ray.shutdown()
            cluster.shutdown()
            print(rows, flush=True)
        # the driver's share: every vector in the cache already (the runs above put them there)
        col = fresh("ray-bench-driver", url)
        start = time.perf_counter()
        report = col.add(docs, batch_size=512)
        seconds = time.perf_counter() - start
        rows["driver only: analyse + COPY + commit (vectors from the cache)"] = {
            "seconds": round(seconds, 1),
            "passages_per_s": round(len(docs) / seconds, 1),
            "cache_hits": report.cache_hits,
        }
        col.close()
        server.cleanup()
    result = {
        "machine": f"{platform.processor() or platform.machine()}, 2 cores, Python {platform.python_version()}",
        "encoder": DEFAULT_ENCODER,
        "passages": len(docs),
        "ray": ray.__version__,
        "rows": rows,
    }
    write_result(OUT, result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
