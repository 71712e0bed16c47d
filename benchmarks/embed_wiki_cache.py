"""Fill the embedding cache with all-MiniLM-L6-v2 vectors of the Wikipedia passages.

Embedding all 345,653 passages cut at 32 tokens (``--encoder ...@32``, the
vectors the PostgreSQL benchmark reads) takes this 2-core machine about 20
minutes (285 passages/s on the ONNX runtime); the indexing and vector-search
benchmarks then read the vectors from the cache (the same cache a collection
uses), so they can be rerun in minutes.

Usage: python benchmarks/embed_wiki_cache.py [--limit N]
"""

from __future__ import annotations

import argparse
import time

from passages import wiki_passages
from textlens.corpus import batched
from textlens.embed import EmbeddingCache, embed_with_cache, get_encoder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument(
        "--encoder",
        default="sentence-transformers/all-MiniLM-L6-v2",
        help="MODEL@N cuts each passage at N tokens (faster)",
    )
    args = parser.parse_args()
    encoder, cache = get_encoder(args.encoder), EmbeddingCache()
    start, done = time.time(), 0
    for batch in batched(wiki_passages(args.limit), 5000):
        embed_with_cache(encoder, [d.text for d in batch], cache, batch_size=64)
        done += len(batch)
        rate = done / (time.time() - start)
        print(f"{done:,} passages, {rate:.0f}/s, cache hits {cache.hits:,} misses {cache.misses:,}", flush=True)


if __name__ == "__main__":
    main()
