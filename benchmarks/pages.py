"""Pages generated from ``benchmarks/results/*.json`` (never typed by hand), checked current by a test.

- ``docs/results.md``: for each result file, the command that produces it, what produced this copy (the
  ``provenance`` block that :func:`provenance.write_result` adds: commit, package versions, machine, or what the
  file itself says where it was written before provenance was recorded), and its tables of rows.
- The README's table of headline figures, between its ``headline`` markers.
- Every table of figures in the docs: each stands between a ``<!-- table SPEC -->`` marker, which says which
  file and rows and columns it shows (:func:`table`), and ``<!-- /table -->``.

Usage: python benchmarks/pages.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks/results"
PAGE = ROOT / "docs/results.md"
README = ROOT / "README.md"
HEADLINE = ("<!-- headline:start (benchmarks/pages.py writes this table) -->", "<!-- headline:end -->")
# Result files that no benchmark script writes: made by the CLI.
BY_CLI = {
    "scifact_eval.json": "textlens eval ../shared/data/beir/scifact --markdown benchmarks/results/scifact_eval.md "
    "--html benchmarks/results/scifact_eval.html --json",
    "scifact_sweep.json": "textlens eval ../shared/data/beir/scifact --sweep --dev-split train "
    "--knobs bm25,fusion,chunking --json",
    "llm_topic_labels.json": "python benchmarks/llm_tasks.py --part topics [--model qwen2.5-coder-1.5b] [--limit N]",
    "search_encoding.json": "python benchmarks/search_vectors.py --only-encoding "
    "--out benchmarks/results/search_encoding.json",
    "search_vectors_345k.json": "python benchmarks/search_vectors.py --out benchmarks/results/search_vectors_345k.json",
    "keyphrases_inspec_200.json": "python benchmarks/keyphrases.py --llm-docs 200 (an earlier run, kept)",
}
# Fields older files use for what produced them, shown where there is no provenance block.
OLD_FIELDS = ("textlens", "machine", "python", "date", "cpu_cores", "cpus", "torch", "bm25s", "tiktoken", "ray")


def scripts() -> dict[str, tuple[re.Pattern[str], str]]:
    """Each benchmark script's result-file pattern (from the names it writes) and its usage line."""
    out = {}
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        text = script.read_text(encoding="utf-8")
        usage = re.search(r"^Usage:\s*(.+?)(?:\s{2,}Writes.*)?$", text, re.M)
        for name in sorted(set(re.findall(r"results/([\w.{}-]+?\.json)", text))):
            pattern = re.escape(name)
            pattern = re.sub(r"\\\{[^}]*\\\}|DATASET", r"[\\w.-]+", pattern)
            out[name] = (re.compile(pattern + "$"), f"{usage.group(1).strip() if usage else script.name}")
    return out


def producer(name: str, known: dict[str, tuple[re.Pattern[str], str]]) -> str:
    if name in BY_CLI:
        return BY_CLI[name]
    for pattern, usage in known.values():
        if pattern.match(name):
            return usage
    return "not known"


def section(path: Path, known: dict[str, tuple[re.Pattern[str], str]]) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    lines = [f"## {path.name}", "", f"Produced by: `{producer(path.name, known)}`", ""]
    prov = data.get("provenance") if isinstance(data, dict) else None
    if prov:
        commit = (prov.get("commit") or "unknown")[:10]
        dirty = " (with uncommitted changes)" if prov.get("uncommitted_changes") else ""
        machine = prov.get("machine", {})
        lines += [
            f"- commit `{commit}`{dirty}",
            f"- machine: {machine.get('cpu')}, {machine.get('cores')} cores, {machine.get('memory_gib')} GiB, "
            f"{machine.get('os')}, Python {machine.get('python')}",
            "- packages: " + ", ".join(f"{k} {v}" for k, v in prov.get("packages", {}).items() if v),
        ]
        if data.get("measured_at"):  # a benchmark whose parts run separately records each part's commit
            parts = ", ".join(f"{k} `{(v or 'unknown')[:10]}`" for k, v in data["measured_at"].items())
            lines.append(f"- each part's commit: {parts}")
    else:
        said = {k: data[k] for k in OLD_FIELDS if isinstance(data, dict) and k in data}
        note = ", ".join(f"{k} {v}" for k, v in said.items()) or "nothing"
        lines.append(f"- provenance not recorded (written before it was); the file says: {note}")
    return [*lines, "", *tables(data), ""]


def tables(data: object, limit: int = 30) -> list[str]:
    """Every list of flat records in the file (``rows``, ``results``...) as a Markdown table, the first
    ``limit`` rows each, under the key path that holds it."""
    out: list[str] = []

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
        text = text.replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= 80 else text[:77] + "..."

    def walk(node: object, path: str) -> None:
        if isinstance(node, list) and node and all(isinstance(r, dict) for r in node):
            keys = list(dict.fromkeys(k for r in node for k in r if not isinstance(r[k], dict | list)))
            if keys:
                out.extend([f"`{path}`" + (f" (first {limit} of {len(node)})" if len(node) > limit else ""), ""])
                out.append("| " + " | ".join(keys) + " |")
                out.append("|" + "---|" * len(keys))
                out.extend("| " + " | ".join(cell(r.get(k, "")) for k in keys) + " |" for r in node[:limit])
                out.append("")
            for i, r in enumerate(node[:limit]):
                for k, v in r.items():
                    if isinstance(v, dict | list):
                        walk(v, f"{path}[{i}].{k}")
        elif isinstance(node, dict) and path != "provenance":
            for k, v in node.items():
                if k != "provenance":
                    walk(v, f"{path}.{k}" if path else k)

    walk(data, "")
    return out


def headline() -> str:
    """The README's table: SciFact test nDCG@10 by mode (``textlens eval``) and the trained pipeline chosen on dev."""
    ev = json.loads((RESULTS / "scifact_eval.json").read_text(encoding="utf-8"))
    tr = json.loads((RESULTS / "train_scifact.json").read_text(encoding="utf-8"))["chosen_by_dev"]
    names = {"keyword": "keyword (BM25, tantivy)", "dense": "dense (all-MiniLM-L6-v2)", "hybrid": "hybrid (RRF)"}
    rows = [(names.get(mode, mode), r["ndcg@10"], r["recall@100"]) for mode, r in ev["results"].items()]
    trained = f"fine-tuned encoder + trained reranker ({tr['mode']})"
    rows.append((trained, tr["test"]["ndcg@10"], tr["test"]["recall@100"]))
    lines = ["| SciFact test (300 queries) | nDCG@10 | Recall@100 |", "|---|---:|---:|"]
    lines += [f"| {name} | {ndcg:.4f} | {recall:.4f} |" for name, ndcg, recall in rows]
    return "\n".join(lines) + "\n"


def readme_with_headline(text: str) -> str:
    return with_block(text, HEADLINE, headline())


def with_block(text: str, markers: tuple[str, str], content: str) -> str:
    """``text`` with what stands between the two markers replaced by ``content``."""
    start, end = text.index(markers[0]), text.index(markers[1])
    return text[: start + len(markers[0])] + "\n" + content + text[end:]


TABLE = re.compile(r"(<!-- table ([^\n]+?) -->\n)(.*?)(<!-- /table -->)", re.S)


def table(spec: str) -> str:
    """The Markdown table a ``<!-- table SPEC -->`` marker asks for.

    ``SPEC`` is ``FILE PATH [if CONDITION] | HEADER: VALUE [~FORMAT] | ...``: the rows are the list of records
    at ``PATH`` in ``benchmarks/results/FILE`` (dots between keys, ``[n]`` for an item). A mapping gives a row per
    key, its key as ``_key`` and a plain value as ``_value``; a mapping of lists of records, a row per record.
    ``CONDITION`` and each ``VALUE`` are Python expressions of the row ``r`` and the whole file ``d`` (a plain
    key may stand alone: ``queries_per_s``); a ``FORMAT`` is a format spec (``,.1f``, ``.1%``). A column of
    numbers is right-aligned; a value that is missing leaves its cell empty."""
    source, *columns = (part.strip() for part in spec.split(" | "))
    name, _, rest = source.partition(" ")
    path, _, condition = rest.partition(" if ")
    node = document = json.loads((RESULTS / name).read_text(encoding="utf-8"))
    for key in re.findall(r"[^.\[\]]+|\[\d+\]", path.strip()):
        node = node[int(key[1:-1])] if key.startswith("[") else node[key]
    if isinstance(node, dict):  # a mapping: a row per key (of its record or its value), or per record of its lists
        rows = []
        for k, v in node.items():
            if isinstance(v, list) and all(isinstance(x, dict) for x in v):
                rows += [{"_key": k, **x} for x in v]
            else:
                rows.append({"_key": k, **v} if isinstance(v, dict) else {"_key": k, "_value": v})
    else:
        rows = node
    rows = [r for r in rows if not condition or _value(condition, r, document)]
    heads, cells = [], []
    for column in columns:
        head, _, value = column.partition(": ")
        value, _, fmt = value.partition(" ~")
        heads.append(head)
        cells.append([_cell(_value(value, r, document), fmt) for r in rows])
    numeric = [all(re.fullmatch(r"[-+\d,.%x× ()/]*", c) for c in col) and any(col) for col in cells]
    lines = ["| " + " | ".join(heads) + " |", "|" + "".join("---:|" if n else "---|" for n in numeric)]
    lines += ["| " + " | ".join(col[i] for col in cells) + " |" for i in range(len(rows))]
    return "\n".join(lines) + "\n"


SAFE = {f.__name__: f for f in (round, len, max, min, map, str, sorted, sum, abs, list, next, iter)}


def _value(expression: str, row: dict, document: object) -> object:
    if expression in row:
        return row[expression]
    try:
        return eval(expression, {"__builtins__": SAFE}, {"r": row, "d": document})
    except (KeyError, TypeError, ZeroDivisionError, IndexError):
        return None


def _cell(value: object, fmt: str) -> str:
    if value is None or value == "":
        return ""
    text = format(value, fmt) if fmt else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def with_tables(text: str) -> str:
    """``text`` with every ``<!-- table ... -->`` block made anew from the JSON."""
    return TABLE.sub(lambda m: m.group(1) + table(m.group(2)) + m.group(4), text)


def table_pages() -> list[Path]:
    """The docs pages that hold generated tables (docs/results.md is generated whole)."""
    return [p for p in sorted((ROOT / "docs").glob("*.md")) if p != PAGE and TABLE.search(p.read_text("utf-8"))]


def render() -> str:
    known = scripts()
    head = [
        "# Benchmark results: what produced each file",
        "",
        "Generated by `python benchmarks/pages.py` from `benchmarks/results/*.json`; do not edit by hand.",
        "A file written since the lock (`requirements/`) came in carries its commit, package versions and machine.",
        "",
    ]
    body = [line for path in sorted(RESULTS.glob("*.json")) for line in section(path, known)]
    return "\n".join(head + body).rstrip() + "\n"


def main() -> None:
    PAGE.write_text(render(), encoding="utf-8")
    README.write_text(readme_with_headline(README.read_text(encoding="utf-8")), encoding="utf-8")
    for page in table_pages():
        page.write_text(with_tables(page.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}, the README's headline table and the tables of {len(table_pages())} pages")


if __name__ == "__main__":
    main()
