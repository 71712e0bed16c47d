"""The ONNX Runtime backend: the torch backend's vectors, exported once, loaded without torch,
and clear errors for models and files it cannot run (real all-MiniLM-L6-v2 from its PyPI package)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from textlens.config import DEFAULT_ENCODER
from textlens.errors import AssetError, InputError

pytest.importorskip("onnxruntime")
pytest.importorskip("sentence_transformers")

from textlens.embed import get_encoder
from textlens.embed.onnx import OnnxEncoder, Pipeline
from textlens.embed.sentence_transformers import SentenceTransformerEncoder
from textlens.models.ref import resolve

PASSAGES = [
    "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.",
    "The Treaty of Westphalia ended the Thirty Years' War in 1648. " * 30,  # past the 256-token limit
    "短い日本語の文です。",
    "",
]
QUERIES = ["how do plants make sugar", "when did the thirty years war end"]


@pytest.fixture(scope="module")
def both() -> tuple[OnnxEncoder, SentenceTransformerEncoder]:
    return OnnxEncoder(), SentenceTransformerEncoder()


def test_onnx_gives_the_torch_vectors_under_the_same_name_and_fingerprint(both) -> None:
    onnx, torch = both
    assert (onnx.name, onnx.dim, onnx.fingerprint, onnx.max_length) == (
        torch.name,
        torch.dim,
        torch.fingerprint,
        torch.max_length,
    )
    for texts in (PASSAGES, PASSAGES[:1]):
        got, want = onnx.encode(texts), torch.encode(texts)
        assert got.dtype == np.float32 and got.shape == want.shape
        assert np.abs(got - want).max() < 1e-5
    assert np.abs(onnx.encode_queries(QUERIES) - torch.encode_queries(QUERIES)).max() < 1e-5
    assert np.allclose(np.linalg.norm(onnx.encode(PASSAGES[:3]), axis=1), 1, atol=1e-5)
    assert onnx.encode([]).shape == (0, onnx.dim) and onnx.encode_queries([]).shape == (0, onnx.dim)


def test_auto_backend_is_onnx_and_the_choice_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEXTLENS_ENCODER_BACKEND", raising=False)
    assert isinstance(get_encoder(), OnnxEncoder)
    monkeypatch.setenv("TEXTLENS_ENCODER_BACKEND", "torch")
    assert isinstance(get_encoder(), SentenceTransformerEncoder)
    monkeypatch.setenv("TEXTLENS_ENCODER_BACKEND", "tensorrt")
    with pytest.raises(InputError, match=r"TEXTLENS_ENCODER_BACKEND='tensorrt' is not a backend") as err:
        get_encoder()
    assert "auto, onnx, torch" in err.value.hint


def test_a_later_process_loads_the_export_without_torch(both) -> None:
    onnx, _ = both
    stamp = onnx.path.stat().st_mtime_ns
    code = (
        "import sys; from textlens.embed.onnx import OnnxEncoder; e = OnnxEncoder();"
        "print(e.encode_queries(['x']).shape, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=True)
    assert out.stdout.split() == ["(1,", "384)", "False"], out.stderr
    assert onnx.path.stat().st_mtime_ns == stamp  # reused, not exported again


def test_a_damaged_export_is_an_asset_error_and_is_made_again(both, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path))
    first = OnnxEncoder("all-MiniLM-L6-v2@32")
    first.path.write_bytes(b"not an onnx graph")
    with pytest.raises(AssetError, match="not a loadable ONNX model") as err:
        OnnxEncoder("all-MiniLM-L6-v2@32")
    assert "removed" in err.value.hint and not first.path.exists()
    again = OnnxEncoder("all-MiniLM-L6-v2@32")  # exported afresh
    assert again.max_length == 32 and np.allclose(again.encode(["a b c"]), first.encode(["a b c"]), atol=1e-6)


def test_a_pipeline_it_cannot_run_says_so_and_auto_falls_back(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "max-pooled"
    shutil.copytree(resolve(DEFAULT_ENCODER).target, folder)
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text()) | {"pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": True}
    pooling.write_text(json.dumps(config))
    with pytest.raises(AssetError, match="pools by mean or CLS token only") as err:
        Pipeline(folder)
    assert "TEXTLENS_ENCODER_BACKEND=torch" in err.value.hint
    monkeypatch.delenv("TEXTLENS_ENCODER_BACKEND", raising=False)
    assert isinstance(get_encoder(str(folder)), SentenceTransformerEncoder)
    (folder / "modules.json").write_text("[{")
    with pytest.raises(AssetError, match=r"modules\.json: not readable JSON"):
        Pipeline(folder)


def test_int8_is_a_model_of_its_own_close_to_fp32(both, monkeypatch: pytest.MonkeyPatch) -> None:
    onnx, _ = both
    monkeypatch.delenv("TEXTLENS_ENCODER_BACKEND", raising=False)
    int8 = get_encoder("minilm:int8")
    assert isinstance(int8, OnnxEncoder) and int8.name == DEFAULT_ENCODER + ":int8"
    assert int8.fingerprint != onnx.fingerprint  # never served from fp32's embedding cache
    # the matrices shrink to a quarter; the token embedding table stays float32
    assert int8.path.name.endswith("-int8.onnx") and int8.path.stat().st_size < onnx.path.stat().st_size * 0.7
    got, want = int8.encode(PASSAGES[:3]), onnx.encode(PASSAGES[:3])
    assert np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)
    cosines = (got * want).sum(axis=1)
    assert cosines.min() > 0.98 and np.abs(got - want).max() > 1e-4  # close, and really quantised
    monkeypatch.setenv("TEXTLENS_ENCODER_BACKEND", "torch")
    with pytest.raises(InputError, match="int8 weights run in ONNX Runtime only"):
        get_encoder("minilm:int8")
    with pytest.raises(InputError, match="int8 weights run in ONNX Runtime only"):
        SentenceTransformerEncoder("minilm:int8")
