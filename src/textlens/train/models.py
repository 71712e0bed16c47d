"""The two trainable kinds: a cross-encoder reranker (listwise loss) and a bi-encoder (in-batch negatives).

Both read the same prepared data (:class:`Prepared`): judged queries, mined negatives,
each query's first-stage ranking and the documents' texts. Each gives :func:`~textlens.train.core.fit`
its batches, loss, dev nDCG@10 and a ``save`` that writes a plain model folder: a Hugging
Face sequence-classification folder for the reranker (``--rerank FOLDER`` loads it), a
sentence-transformers folder for the encoder (``--encoder FOLDER``). With LoRA the adapters
are merged into the saved weights (so the folder loads like any other) and also saved apart
under ``lora/``.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textlens.errors import AssetError, InputError
from textlens.evaluate.metrics import evaluate_run
from textlens.models.ref import architectures, resolve
from textlens.train.core import TrainConfig
from textlens.train.data import Candidates, Judgements

SCALE = 20.0  # cosine similarities times this are the logits of the in-batch softmax (MNRL's scale)
BLEND = (0.7, 0.5, 0.3)  # the --rerank-weight values a trained reranker is also measured at on dev


@dataclass
class Prepared:
    judgements: Judgements
    candidates: Candidates
    texts: dict[str, str]  # doc id -> title and text


def _quiet():
    """transformers' load reports and progress bars off while a model loads."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return contextlib.nullcontext()
    hf_logging.disable_progress_bar()
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()

    @contextlib.contextmanager
    def restore():
        try:
            yield
        finally:
            hf_logging.set_verbosity(level)

    return restore()


def is_cross_encoder(folder: Path) -> bool:
    return any(a.endswith("ForSequenceClassification") for a in architectures(folder))


def model_folder(model: str, what: str) -> Path:
    """A local transformer folder for ``model`` (a path, or an encoder alias such as all-MiniLM-L6-v2).

    A folder is taken as it is (a reranker may continue from a cross-encoder, which the encoder
    resolver refuses); each task checks the kind it needs."""
    path = Path(model).expanduser()
    folder = path.resolve() if path.is_dir() else Path(resolve(model).target)
    if not (folder / "config.json").is_file():
        raise AssetError(
            f"{model!r} is not a local model folder (no config.json at {folder})",
            hint=f"Name a folder holding a transformer's config.json and weights as the {what}, "
            "or all-MiniLM-L6-v2 (installed with textlens).",
        )
    return folder


# -- LoRA ------------------------------------------------------------------------------------------
def add_lora(model, config: TrainConfig, keep: list[str]):
    """Wrap ``model`` with LoRA adapters on ``config.lora_targets`` (checked against its linear layers)."""
    import torch

    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as exc:
        from textlens.errors import MissingDependency

        raise MissingDependency("LoRA training needs peft", hint="pip install 'textlens[search,inside]'") from exc
    names = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)})
    missing = [t for t in config.lora_targets if t not in names]
    if missing or not config.lora_targets:
        raise InputError(
            f"LoRA target module(s) {', '.join(missing) or '(none given)'} not found in the model; "
            f"its linear layers are named: {', '.join(names)}",
            hint="Pass --lora-targets with some of those names (e.g. query,value).",
        )
    lora = LoraConfig(
        r=config.lora_rank,
        lora_alpha=config.lora_alpha or 2 * config.lora_rank,
        lora_dropout=0.1,
        target_modules=list(config.lora_targets),
        modules_to_save=keep or None,
    )
    return get_peft_model(model, lora)


def merged(model, folder: Path):
    """Save the adapters under ``folder/lora``; return (the model with them merged in, adapter bytes)."""
    model.save_pretrained(str(folder / "lora"))
    size = sum(f.stat().st_size for f in (folder / "lora").rglob("*") if f.is_file())
    return model.merge_and_unload(), size


def _ndcg(judgements: Judgements, run: dict[str, dict[str, float]]) -> float | None:
    if not judgements.dev:
        return None
    qrels = {q: judgements.qrels[q] for q in judgements.dev}
    return evaluate_run(qrels, run, ("ndcg@10",))[0]["ndcg@10"]


class _Common:
    def __init__(self, prepared: Prepared, config: TrainConfig) -> None:
        self.data, self.config = prepared, config
        self.judgements, self.candidates = prepared.judgements, prepared.candidates
        self.pool = {q: self.candidates.ranked[q] for q in self.judgements.dev}
        self.dev_items = sum(len(v) for v in self.pool.values())
        self.ids = list(prepared.texts)  # random negatives' pool, made once (not per query and epoch)

    def param_groups(self) -> list[dict[str, Any]]:
        return [{"params": [p for p in self.module.parameters() if p.requires_grad]}]

    def _negatives(self, qid: str, epoch: int, n: int, rng: random.Random) -> list[str]:
        """``n`` negatives for ``qid``: mined ones, rotated by epoch, then random unjudged documents
        (``config.random_negatives`` of them, or more when too few were mined)."""
        mined = self.candidates.negatives.get(qid, [])
        hard = min(n, n - self.config.random_negatives)
        if mined and hard > 0:
            shift = epoch * hard % len(mined)
            picked = (mined[shift:] + mined[:shift])[:hard]
        else:
            picked = []
        judged = self.judgements.qrels[qid]
        while len(picked) < n and len(self.ids) > len(judged) + len(picked):
            doc = rng.choice(self.ids)
            if doc not in judged and doc not in picked:
                picked.append(doc)
        return picked

    def first_stage_ndcg(self) -> float | None:
        return _ndcg(self.judgements, {q: {d: -i for i, d in enumerate(ids)} for q, ids in self.pool.items()})


class RerankerTask(_Common):
    """A cross-encoder: one score per (query, document); listwise softmax over a positive and its negatives."""

    kind = "reranker"

    def __init__(self, base: str, prepared: Prepared, config: TrainConfig) -> None:
        super().__init__(prepared, config)
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        folder = model_folder(base, "reranker's starting point")
        self.base, self.was_reranker = str(folder), is_cross_encoder(folder)
        with _quiet():
            self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
            model = AutoModelForSequenceClassification.from_pretrained(str(folder), num_labels=1)
        self.lora = config.lora_rank > 0
        # a bi-encoder's weights get a new score head (the pooler feeding it was never trained to score)
        self.head = ["classifier"] if self.was_reranker else ["pooler", "classifier"]
        self.module = add_lora(model, config, self.head) if self.lora else model
        self.group = 1 + config.negatives
        self.items_per_step = max(1, config.batch_size // self.group) * self.group

    def param_groups(self) -> list[dict[str, Any]]:
        """A new head learns at ``head_learning_rate``: at the body's rate it starts from noise and the
        listwise loss stays at chance for hundreds of steps. A reranker's own head keeps the body's rate."""
        trainable = [(n, p) for n, p in self.module.named_parameters() if p.requires_grad]
        rate = self.config.head_learning_rate
        if self.was_reranker or rate is None:
            return super().param_groups()
        is_head = [any(f".{h}." in f".{n}" for h in self.head) for n, _ in trainable]
        return [
            {"params": [p for (_, p), head in zip(trainable, is_head, strict=True) if not head]},
            {"params": [p for (_, p), head in zip(trainable, is_head, strict=True) if head], "lr": rate},
        ]

    def batches(self, epoch: int) -> list[Any]:
        rng = random.Random(self.config.seed * 1000 + epoch)
        groups = [
            (self.judgements.queries[q], [p, *self._negatives(q, epoch, self.config.negatives, rng)])
            for q in self.judgements.train
            for p in self.judgements.positives(q)
        ]
        groups = [g for g in groups if len(g[1]) == self.group]
        rng.shuffle(groups)
        size = max(1, self.config.batch_size // self.group)
        return [groups[i : i + size] for i in range(0, len(groups), size)]

    def _scores(self, queries: list[str], docs: list[str]):
        enc = self.tokenizer(
            queries,
            [self.data.texts[d] for d in docs],
            truncation="longest_first",
            max_length=self.config.max_length,
            padding=True,
            return_tensors="pt",
        )
        return self.module(**enc).logits.view(-1)

    def loss(self, batch: list) -> Any:
        import torch

        queries = [q for q, docs in batch for _ in docs]
        docs = [d for _, ds in batch for d in ds]
        logits = self._scores(queries, docs).view(len(batch), self.group)
        return torch.nn.functional.cross_entropy(logits, torch.zeros(len(batch), dtype=torch.long))

    def _dev_scores(self) -> dict[str, list[float]]:
        import torch

        out = {}
        with torch.inference_mode():
            for qid, ids in self.pool.items():
                scores = []
                for i in range(0, len(ids), 32):
                    part = ids[i : i + 32]
                    scores += self._scores([self.judgements.queries[qid]] * len(part), part).tolist()
                out[qid] = scores
        return out

    def dev_ndcg(self) -> float | None:
        scores = self._dev_scores()
        return _ndcg(self.judgements, {q: dict(zip(ids, scores[q], strict=True)) for q, ids in self.pool.items()})

    def interpolated(self) -> tuple[float, float | None]:
        """(weight, dev nDCG@10) of the best of the reranker alone (weight 1) and its scores interpolated
        with the first stage's at each of :data:`BLEND`, as ``--rerank-weight`` does at search time."""
        from textlens.search.rerank import interpolate

        scores, first = self._dev_scores(), self.candidates.scores
        found: dict[float, float | None] = {}
        for weight in (1.0, *BLEND):
            run = {}
            for qid, ids in self.pool.items():
                final = interpolate(first[qid], scores[qid], weight) if qid in first else scores[qid]
                run[qid] = dict(zip(ids, final, strict=True))
            found[weight] = _ndcg(self.judgements, run)
        weight = max(found, key=lambda w: -1.0 if found[w] is None else found[w])  # ties: the first, 1.0
        return weight, found[weight]

    def baseline(self) -> float | None:
        """Before training: the base model's reranking if it already is a reranker, else the first stage's."""
        return self.dev_ndcg() if self.was_reranker else self.first_stage_ndcg()

    def save(self, folder: Path) -> int | None:
        model, size = merged(self.module, folder) if self.lora else (self.module, None)
        model.save_pretrained(str(folder))
        self.tokenizer.model_max_length = self.config.max_length
        self.tokenizer.save_pretrained(str(folder))
        return size


class EncoderTask(_Common):
    """A bi-encoder: queries and documents embedded apart; in-batch negatives plus one hard negative each."""

    kind = "encoder"

    def __init__(self, base: str, prepared: Prepared, config: TrainConfig) -> None:
        super().__init__(prepared, config)
        from sentence_transformers import SentenceTransformer

        folder = model_folder(base, "encoder to fine-tune")
        if is_cross_encoder(folder) and not (folder / "modules.json").is_file():
            raise AssetError(
                f"{folder} is a cross-encoder (a reranker), not an embedding model",
                hint="Fine-tune a sentence-transformers folder (e.g. all-MiniLM-L6-v2), or train it as a reranker.",
            )
        self.base = str(folder)
        with _quiet():
            self.model = SentenceTransformer(str(folder), device="cpu")
        self.model.max_seq_length = config.max_length
        self.query_prompt = (getattr(self.model, "prompts", None) or {}).get("query", "")
        self.lora = config.lora_rank > 0
        # peft adds the adapters inside the transformer in place; the wrapper is kept to save and merge them
        self.peft = add_lora(self.model[0].auto_model, config, []) if self.lora else None
        self.module = self.model
        self.items_per_step = 3 * config.batch_size

    def batches(self, epoch: int) -> list[Any]:
        """(query, positive, negative) triples; no document twice in a batch (it would be its own negative)."""
        rng = random.Random(self.config.seed * 1000 + epoch)
        triples = [
            (self.judgements.queries[q], p, neg[0])
            for q in self.judgements.train
            for p in self.judgements.positives(q)
            if (neg := self._negatives(q, epoch, 1, rng))
        ]
        rng.shuffle(triples)
        batches, current, seen = [], [], set()
        waiting: list = []
        for triple in triples:
            if triple[1] in seen or triple[2] in seen:
                waiting.append(triple)
                continue
            current.append(triple)
            seen.update(triple[1:])
            if len(current) == self.config.batch_size:
                batches.append(current)
                current, seen = [], set()
                rest, waiting = waiting, []
                for t in rest:
                    if t[1] in seen or t[2] in seen or len(current) == self.config.batch_size:
                        waiting.append(t)
                    else:
                        current.append(t)
                        seen.update(t[1:])
        tail = current + waiting
        batches += [tail[i : i + self.config.batch_size] for i in range(0, len(tail), self.config.batch_size)]
        return [b for b in batches if len(b) >= 2]

    def _embed(self, texts: list[str]):
        import torch

        features = self.model.preprocess(texts)
        out = self.model(features)["sentence_embedding"]
        return torch.nn.functional.normalize(out, dim=-1)

    def loss(self, batch: list) -> Any:
        import torch

        q = self._embed([self.query_prompt + t[0] for t in batch])
        d = self._embed([self.data.texts[t[1]] for t in batch] + [self.data.texts[t[2]] for t in batch])
        logits = q @ d.T * SCALE
        return torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))

    def dev_ndcg(self) -> float | None:
        import torch

        if not self.pool:
            return None
        docs = sorted({d for ids in self.pool.values() for d in ids})
        with torch.inference_mode():
            vecs = torch.cat(
                [self._embed([self.data.texts[d] for d in docs[i : i + 32]]) for i in range(0, len(docs), 32)]
            )
            qids = list(self.pool)
            qv = self._embed([self.query_prompt + self.judgements.queries[q] for q in qids])
        row = {d: i for i, d in enumerate(docs)}
        run = {}
        for n, qid in enumerate(qids):
            ids = self.pool[qid]
            scores = (vecs[[row[d] for d in ids]] @ qv[n]).tolist()
            run[qid] = dict(zip(ids, scores, strict=True))
        return _ndcg(self.judgements, run)

    def baseline(self) -> float | None:
        return self.dev_ndcg()

    def save(self, folder: Path) -> int | None:
        size = merged(self.peft, folder)[1] if self.peft is not None else None  # merged in place
        self.model.save(str(folder))
        return size
