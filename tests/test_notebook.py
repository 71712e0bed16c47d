"""Result objects render themselves in Jupyter: a real notebook, run by nbclient on a real IPython
kernel, shows each one as self-contained HTML (no script or stylesheet from outside)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

SETUP = """
import json, pathlib, tempfile
from textlens import compare
from textlens.evaluate import ModeSpec, evaluate_beir
from textlens.index import create_collection
from textlens.corpus import Document
from textlens.keywords.extract import extract_keywords
from textlens.topics.model import TopicModel
import numpy as np
root = pathlib.Path(tempfile.mkdtemp())
docs = {"d1": "Solar panels turn sunlight into electricity.", "d2": "Wind turbines spin in the wind.",
        "d3": "Tigers hunt deer in the forest.", "d4": "Owls hunt mice at night."}
(root / "qrels").mkdir()
rows = [json.dumps({"_id": k, "title": "", "text": v}) for k, v in docs.items()]
(root / "corpus.jsonl").write_text("\\n".join(rows) + "\\n")
(root / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "sunlight power"}) + "\\n"
                                    + json.dumps({"_id": "q2", "text": "hunting animals"}) + "\\n")
(root / "qrels/test.tsv").write_text("query-id\\tcorpus-id\\tscore\\nq1\\td1\\t1\\nq2\\td3\\t1\\nq2\\td4\\t1\\n")
"""

CELLS = {
    "tokens": 'compare("Héllo wörld 👋", ["gpt-4", "bert-base-uncased"])',
    "search": """col = create_collection("nb-energy", encoder=None)
col.add([Document(k, v) for k, v in docs.items()])
col.search("sunlight electricity", mode="keyword")""",
    "eval": 'evaluate_beir(root, [ModeSpec("keyword")], collection="nb-beir")',
    "keywords": 'extract_keywords(["Solar panels turn sunlight into electricity on rooftops."])[0]',
    "topics": """texts = ["cats purr", "cats sleep", "cats chase mice", "dogs bark", "dogs fetch", "dogs run"]
emb = np.array([[1, 0], [1, .1], [.9, 0], [0, 1], [.1, 1], [0, .9]], dtype=np.float32)
TopicModel(reducer="none", clusterer="kmeans", n_clusters=2, min_df=1).fit(texts, embeddings=emb)""",
    "inside-attention": 'from textlens.inside import attention\nattention("The cat sat.", "all-MiniLM-L6-v2")',
    "inside-steps": 'from textlens.inside import attention_steps\nattention_steps("The cat.", 0, "all-MiniLM-L6-v2")',
}
MARKS = {
    "tokens": "gpt-4",
    "search": "<mark>sunlight</mark>",
    "eval": "nDCG@10",
    "keywords": "electricity</mark>",
    "topics": "<svg",
    "inside-attention": "<svg",
    "inside-steps": "output projection",
}


def test_results_render_in_a_real_notebook(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP)] + [nbformat.v4.new_code_cell(code) for code in CELLS.values()]
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}})
    client.execute()
    for (name, _), cell in zip(CELLS.items(), nb.cells[1:], strict=True):
        html = next((o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})), None)
        assert html is not None, (name, cell.outputs)
        assert html.startswith("<!doctype html>") and MARKS[name] in html, name
        # self-contained: nothing loaded from elsewhere
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), name
