"""ONNX Runtime backend: the same sentence-transformers model, exported once, run without torch.

The first use of a model exports its transformer together with the pooling and the
normalisation (one graph: token ids in, unit vectors out) from the local weights, into
``$TEXTLENS_HOME/cache/onnx/``; later processes load that file and never import torch.
The vectors equal the torch backend's to about 1e-6 (tested), so the model's name, the
embedding cache and collections are shared between the two backends.

Queries are embedded one request at a time on one thread each (the model is compute-bound
on a CPU: batching short queries saves nothing and padding costs), at most as many at
once as there are cores; passages go through a second session that uses every core.

Which backend loads is :func:`textlens.embed.backend`'s choice (``TEXTLENS_ENCODER_BACKEND``).
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from textlens.atomic import atomic_open
from textlens.config import DEFAULT_ENCODER, settings
from textlens.embed.base import Progress, encode_by_length
from textlens.embed.sentence_transformers import _fingerprint, _quiet_loading
from textlens.errors import AssetError, MissingDependency
from textlens.models.ref import ModelRef, resolve

POOLING = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def require_onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise MissingDependency(
            "the ONNX encoder backend needs onnxruntime", hint="pip install 'textlens[search]'"
        ) from exc
    return onnxruntime


class Pipeline:
    """What a sentence-transformers folder says about its pipeline: pooling, normalisation, length, prompts."""

    def __init__(self, folder: Path) -> None:
        modules = _read_json(folder / "modules.json", [])
        kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
        if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
            raise AssetError(
                f"{folder}: the ONNX backend runs Transformer → Pooling (→ Normalize) models, this one has "
                f"{' → '.join(kinds) or 'no modules.json'}",
                hint="Use the torch backend for this model: TEXTLENS_ENCODER_BACKEND=torch.",
            )
        pooling = _read_json(folder / modules[1].get("path", "1_Pooling") / "config.json", {})
        on = [key for key, value in pooling.items() if key.startswith("pooling_mode_") and value is True]
        if len(on) != 1 or on[0] not in POOLING or pooling.get("include_prompt") is False:
            raise AssetError(
                f"{folder}: the ONNX backend pools by mean or CLS token only (pooling config: {pooling})",
                hint="Use the torch backend for this model: TEXTLENS_ENCODER_BACKEND=torch.",
            )
        self.pooling = POOLING[on[0]]
        self.max_length = int(_read_json(folder / "sentence_bert_config.json", {}).get("max_seq_length") or 512)
        prompts = _read_json(folder / "config_sentence_transformers.json", {}).get("prompts") or {}
        self.query_prompt = prompts.get("query", "")


def _read_json(path: Path, default):
    if not path.is_file():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AssetError(f"{path}: not readable JSON ({exc})", hint="Reinstall or re-download the model.") from exc


def export(folder: Path, out: Path, pooling: str) -> None:
    """Export ``folder``'s transformer + pooling + L2 normalisation to ``out`` (written atomically).

    Needs torch and transformers (the ``search`` extra); runs once per model and weights.
    """
    try:
        import onnx  # noqa: F401  (torch's exporter writes the graph with it)
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise MissingDependency(
            f"exporting a model to ONNX needs torch, transformers and onnx ({exc})",
            hint="pip install torch==2.13.0 'textlens[search]'",
        ) from exc

    _quiet_loading()
    # eager attention: a plain graph ONNX Runtime fuses into its own attention kernels
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    takes_types = "token_type_ids" in model.forward.__code__.co_varnames

    class Embed(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            extra = {"token_type_ids": token_type_ids} if takes_types else {}
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
            if pooling == "cls":
                vector = hidden[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                vector = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(vector, dim=-1)

    sample = torch.ones((2, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS} | {"embedding": {0: "batch"}}
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(out) as fh, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's notes on tracing and on its own future
        torch.onnx.export(
            Embed(),
            (sample, sample, torch.zeros_like(sample)),
            fh,
            input_names=list(INPUTS),
            output_names=["embedding"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def quantize(source: Path, out: Path) -> None:
    """int8 weights for ``source``'s matrix products, written to ``out`` (ONNX Runtime's dynamic
    quantisation: activations are quantised per batch at run time, so no calibration data).

    Per-channel scales with a 7-bit range: on all-MiniLM-L6-v2 (SciFact abstracts) the vectors
    keep a cosine of 0.99 to fp32's, against 0.93 with one scale per matrix (measured here).
    """
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise MissingDependency(f"int8 quantisation needs onnx ({exc})", hint="pip install 'textlens[search]'") from exc
    tmp = out.with_name(f".tmp-{os.getpid()}-{out.name}")
    try:
        quantize_dynamic(
            source,
            tmp,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            per_channel=True,
            reduce_range=True,
        )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


class OnnxEncoder:
    """An :class:`~textlens.embed.base.Encoder` running a sentence-transformers model in ONNX Runtime.

    Args:
        model: id, alias or local folder (default all-MiniLM-L6-v2); ``MODEL@N`` cuts input at N tokens;
            ``MODEL:int8`` runs int8 weights (faster, slightly different vectors: a model of its own); or a
            resolved :class:`ModelRef`.
        threads: threads for passage batches (default: every core).
    """

    def __init__(self, model: str | ModelRef = DEFAULT_ENCODER, *, threads: int | None = None) -> None:
        ort = require_onnxruntime()
        from tokenizers import Tokenizer

        ref = resolve(model)
        self.name, target, int8 = ref.name, ref.target, ref.int8
        folder = Path(target)
        if not folder.is_dir():
            raise AssetError(
                f"the ONNX backend needs the model {ref.text!r} as a local folder",
                hint="Download it once (the torch backend does), or use TEXTLENS_ENCODER_BACKEND=torch.",
            )
        pipeline = Pipeline(folder)
        # fp32: the torch backend's fingerprint (same vectors, same cache); int8 has a name of its own
        self.fingerprint = _fingerprint(self.name, target)
        # one export per weights, whatever the token limit (the graph takes any length)
        exported = settings().home / "cache" / "onnx" / f"{folder.name}-{_fingerprint(folder.name, target)}.onnx"
        if not exported.is_file():
            export(folder, exported, pipeline.pooling)
        self.path = exported.with_name(exported.stem + "-int8.onnx") if int8 else exported
        if not self.path.is_file():
            quantize(exported, self.path)
        self.query_prompt = pipeline.query_prompt
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.max_length = ref.max_length or pipeline.max_length
        self.tokenizer.enable_truncation(self.max_length)
        self._ort, self._threads = ort, threads or os.cpu_count() or 1
        self._query_session = self._session(1)
        self._passage_session = None
        self._passage_lock = threading.Lock()
        self._query_slots = threading.BoundedSemaphore(os.cpu_count() or 1)
        self.dim = int(self._run(self._query_session, ["dimension"]).shape[1])

    def _session(self, threads: int):
        options = self._ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # idle pool threads sleep instead of spinning (a server's searches need those cores)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            return self._ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # a damaged export: remove it so the next load exports again
            self.path.unlink(missing_ok=True)
            raise AssetError(
                f"{self.path}: not a loadable ONNX model ({exc})".split("\n")[0],
                hint="It was removed; load the encoder again to export it afresh.",
            ) from exc

    def _run(self, session, texts: Sequence[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(list(texts))
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n], mask[row, :n], types[row, :n] = e.ids, e.attention_mask, e.type_ids
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        # the exporter drops inputs the model ignores (token types, for models without them)
        return session.run(None, {i.name: feed[i.name] for i in session.get_inputs()})[0]

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        """Embed passages in length-sorted batches (see :func:`~textlens.embed.base.encode_by_length`)."""
        if self._passage_session is None:
            with self._passage_lock:
                if self._passage_session is None:
                    self._passage_session = self._session(self._threads)
        return encode_by_length(
            texts, self.dim, lambda batch: self._run(self._passage_session, batch), batch_size, progress
        )

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries (with the model's query prompt), one thread each, at most one call per core at once."""
        texts = [self.query_prompt + t for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._query_slots:
            return self._run(self._query_session, texts).astype(np.float32, copy=False)
