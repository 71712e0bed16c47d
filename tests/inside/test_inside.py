"""``textlens inside`` on real weights: SmolLM2-135M (a GGUF decoder with grouped-query attention
and RoPE, the test LLM) and all-MiniLM-L6-v2 (a BERT encoder). Our own step-by-step code is
checked against the models' own attention and logits."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("transformers")
from typer.testing import CliRunner

from textlens.cli import app
from textlens.errors import AssetError, InputError
from textlens.inside import (
    architecture,
    attention,
    attention_steps,
    cache_memory,
    cache_timing,
    contextual,
    load,
    lora_plan,
    lora_targets,
    lora_train,
    module_tree,
    neighbours,
    next_tokens,
    sampling,
    undertrained,
)
from textlens.inside.gguf_meta import ArrayOf, read_meta
from textlens.inside.models import locate_model

LLM, ENCODER = "smollm2-135m", "all-MiniLM-L6-v2"
TEXT = "The cat sat on the mat because it was tired."


def test_the_gguf_header_reads_as_the_gguf_package_reads_it(tmp_path) -> None:
    """textlens reads a GGUF's fields and tensor sizes itself (the gguf package parses every token string into
    numpy views: seconds): every field and tensor of SmolLM2's file as ``gguf.GGUFReader`` sees it."""
    import gguf

    path = locate_model(LLM).path
    meta, reader = read_meta(path), gguf.GGUFReader(path)
    assert meta.fields.keys() == {k for k in reader.fields if not k.startswith("GGUF.")}
    for key, value in meta.fields.items():
        theirs = reader.fields[key]
        if isinstance(value, ArrayOf):
            assert value.length == len(theirs.data), key
        else:
            assert value == pytest.approx(theirs.contents()), key
    assert meta.tensors == {t.name: int(t.n_elements) for t in reader.tensors}
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(path.read_bytes()[:100_000])  # inside the vocabulary
    with pytest.raises(InputError, match=r"not a readable GGUF file.*ends inside its metadata"):
        architecture(str(cut))


def test_facts_come_from_the_files_and_match_the_loaded_model() -> None:
    facts = architecture(LLM)
    assert facts.source == "GGUF metadata" and facts.architecture == "llama" and facts.kind == "decoder"
    model = load(LLM).model
    config = model.config
    assert (facts.layers, facts.hidden_size, facts.heads, facts.kv_heads, facts.vocab_size) == (
        config.num_hidden_layers,
        config.hidden_size,
        config.num_attention_heads,
        config.num_key_value_heads,
        config.vocab_size,
    )
    assert facts.attention_type == "GQA" and facts.group_size == facts.heads // facts.kv_heads > 1
    assert facts.parameters == sum(p.numel() for p in model.parameters())  # tied embeddings once
    assert facts.rope_base == config.rope_parameters["rope_theta"] and facts.norm == "RMSNorm"
    assert facts.activation == config.hidden_act  # llama.cpp's table agrees with transformers' definition

    bert = architecture(ENCODER)
    assert bert.source == "config.json" and bert.kind == "encoder" and bert.attention_type == "MHA"
    assert bert.rope_base is None and bert.norm == "LayerNorm"
    assert bert.parameters == sum(p.numel() for p in load(ENCODER).model.parameters())


def test_module_tree_counts_every_parameter_once() -> None:
    tree = module_tree(LLM)
    assert tree.total_parameters == architecture(LLM).parameters
    block = next(r for r in tree.rows if r.path == "model.layers.0")
    assert block.repeat == tree.facts.layers
    k_proj = next(r for r in tree.rows if r.path == "model.layers.0.self_attn.k_proj")
    facts = tree.facts
    assert k_proj.weights == [("weight", (facts.kv_heads * facts.head_dim, facts.hidden_size))]
    head = next(r for r in tree.rows if r.path == "lm_head")
    assert head.tied_to == "model.embed_tokens"
    assert not any(r.path.startswith("model.layers.1.") for r in tree.rows)


@pytest.mark.parametrize(("model", "layers"), [(LLM, (0, 14, 29)), (ENCODER, (0, 5))])
def test_attention_by_hand_reproduces_the_model(model: str, layers: tuple[int, ...]) -> None:
    for layer in layers:
        steps = attention_steps(TEXT, layer, model)
        assert steps.max_weight_error < 1e-4, (model, layer)
        assert steps.max_output_error < 1e-4 * max(1.0, float(np.abs(steps.output).max())), (model, layer)
        names = [s.name for s in steps.steps]
        if model == LLM:
            assert {"RoPE", "shared heads", "causal mask"} <= set(names)
        else:
            assert "RoPE" not in names and "causal mask" not in names


def test_attention_of_prompt_and_generated_tokens() -> None:
    view = attention(TEXT, LLM, generate=3)
    facts = view.facts
    n = len(view.tokens)
    assert view.weights.shape == (facts.layers, facts.heads, n, n) and n == view.prompt_tokens + 3
    np.testing.assert_allclose(view.weights.sum(-1), 1.0, atol=1e-4)
    assert np.abs(np.triu(view.weights, 1)).max() == 0.0  # causal: nothing attends ahead
    # the generated tokens are greedy decoding's
    greedy = next_tokens(TEXT, LLM, steps=3, top=1)
    assert "".join(view.tokens[view.prompt_tokens :]) == greedy.text
    top = view.strongest(facts.layers - 1, 0, n - 1, top=2)
    assert len(top) == 2 and top[0][1] >= top[1][1]
    page = view.to_html(window=8)
    assert page.startswith("<!doctype html>") and "<svg" in page and "http" not in page.split("<style>")[0]
    data = view.to_dict(layers=[0])
    assert data["layers"] == [0] and len(data["weights"][0]) == facts.heads

    bert = attention("the bank of the river", ENCODER)
    assert np.abs(np.triu(bert.weights, 1)).max() > 0  # an encoder looks both ways


def test_next_token_head_by_hand() -> None:
    run = next_tokens("The capital of France is", LLM, steps=3, top=4)
    assert all(s.max_logit_error < 1e-3 for s in run.steps)
    first = run.steps[0].candidates
    assert [c.probability for c in first] == sorted((c.probability for c in first), reverse=True)
    import torch

    lm = load(LLM)
    ids = lm.encode("The capital of France is")
    with torch.no_grad():
        out = lm.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=3, do_sample=False)
    assert lm.tokenizer.decode(out[0, ids.shape[1] :]) == run.text
    assert "France" in run.to_html()


def test_sampling_settings_reshape_the_distribution() -> None:
    rows = {s.setting: s for s in sampling("The capital of France is", LLM, top_k=5, top_p=0.5, show=50)}
    cold, hot = rows["temperature 0.5"].tokens[0][1], rows["temperature 1.5"].tokens[0][1]
    assert cold > rows["temperature 1"].tokens[0][1] > hot
    top_k = rows["top-k 5"]
    assert top_k.kept == 5 and sum(p for _, p in top_k.tokens) == pytest.approx(1.0)
    nucleus = rows["top-p 0.5"]
    assert nucleus.kept <= 50 and sum(p for _, p in nucleus.tokens) == pytest.approx(1.0)
    plain = [p for _, p in rows["temperature 1"].tokens]  # the smallest set of most likely tokens reaching 0.5
    assert sum(plain[: nucleus.kept - 1]) < 0.5 <= sum(plain[: nucleus.kept])


def test_kv_cache_memory_and_the_same_tokens_either_way() -> None:
    facts = architecture(LLM)
    rows = cache_memory(facts, context=1000, batch=2)
    built, mha, mqa = rows
    assert built.bytes_per_token == 2 * facts.layers * facts.kv_heads * facts.head_dim * 2
    assert mha.bytes_per_token == built.bytes_per_token * facts.group_size
    assert mqa.kv_heads == 1 and built.total_bytes == built.bytes_per_token * 1000 * 2
    timing = cache_timing(LLM, new_tokens=8)
    assert timing.same_tokens and timing.new_tokens == 8
    with pytest.raises(InputError, match="encoder"):
        cache_memory(architecture(ENCODER))


def test_embedding_neighbours_context_and_untrained_rows() -> None:
    near = neighbours("king", LLM, top=10)
    assert near.pieces == [" king"] and {" queen", " kings"} & {t for t, _ in near.neighbours}
    cosines = [c for _, c in near.neighbours]
    assert cosines == sorted(cosines, reverse=True) and all(-1 <= c <= 1 for c in cosines)
    split = neighbours("photosynthesis", ENCODER)
    assert split.pieces == ["photos", "##yn", "##thesis"] and split.token == "photos"  # the split is shown
    river, money = "We sat on the bank of the river.", "She opened an account at the bank."
    ctx = contextual("bank", (river, money), LLM)
    assert len(ctx.cosine_per_layer) == architecture(LLM).layers + 1
    assert ctx.cosine_per_layer[0] == pytest.approx(1.0) and min(ctx.cosine_per_layer) < 0.9  # context moves it
    bert = undertrained(ENCODER, show=30)
    assert bert.flagged > 0 and sum("unused" in t for _, t, _ in bert.tokens) >= 20  # BERT's [unusedN] rows
    with pytest.raises(InputError, match="does not occur"):
        contextual("bank", ("no such word here", money), LLM)


def test_lora_targets_plan_and_a_real_adapter() -> None:
    names = {t.name for t in lora_targets(LLM)}
    assert {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"} == names
    facts = architecture(LLM)
    plan = lora_plan(LLM, rank=8, targets=["q_proj", "v_proj"])
    kv = facts.kv_heads * facts.head_dim
    assert plan.trainable == facts.layers * 8 * ((576 + 576) + (576 + kv))
    assert plan.adapter_bytes == plan.trainable * 4 and 0 < plan.share < 0.01
    with pytest.raises(InputError, match="no module named 'qproj'") as unknown:
        lora_plan(LLM, rank=8, targets=["qproj"])
    assert "q_proj" in unknown.value.hint
    for bad in (0, 10_000):
        with pytest.raises(InputError, match=f"rank {bad} is not between 1 and"):
            lora_plan(LLM, rank=bad)
    run = lora_train(LLM, rank=8, steps=10)  # on q, k, v and o
    assert run.peft_trainable == run.plan.trainable  # peft counts what the plan says
    assert run.losses[-1] < run.losses[0] / 2  # it learns the small task
    assert run.max_merge_error < 1e-3  # merged weights answer as the adapter did
    assert run.plan.trainable * 4 <= run.adapter_bytes_on_disk < run.plan.trainable * 4 + 100_000


def test_bad_input_says_what_and_how(tmp_path) -> None:
    with pytest.raises(InputError, match=r"layer 30 does not exist.*0\.\.29"):
        attention_steps(TEXT, 30, LLM)
    with pytest.raises(InputError, match="head 9 does not exist"):
        attention(TEXT, LLM).head(0, 9)
    with pytest.raises(InputError, match="empty"):
        attention("", LLM)
    with pytest.raises(InputError, match="reads at most 512"):
        attention("word " * 600, ENCODER)
    with pytest.raises(InputError, match="encoder"):
        attention(TEXT, ENCODER, generate=2)
    with pytest.raises(AssetError, match="not on this machine") as missing:
        architecture("qwen2.5-coder-1.5b")  # never pulled into the tests' throw-away TEXTLENS_HOME
    assert missing.value.hint == "textlens models pull qwen2.5-coder-1.5b"
    with pytest.raises(AssetError, match="unknown model"):
        architecture("no-such-model")
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 20)
    with pytest.raises(InputError, match="not a readable GGUF file"):
        architecture(str(broken))
    (tmp_path / "vision").mkdir()
    (tmp_path / "vision/config.json").write_text('{"model_type": "resnet", "num_channels": 3}')
    with pytest.raises(InputError, match=r"no num_attention_heads.*not a transformer configuration"):
        architecture(str(tmp_path / "vision"))
    with pytest.raises(InputError, match="temperatures"):
        sampling(TEXT, LLM, temperatures=(0.0,))


def test_cli(tmp_path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["inside", "model", LLM, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["facts"]["attention_type"] == "GQA"
    page = tmp_path / "attention.html"
    res = runner.invoke(app, ["inside", "attention", TEXT, "--layer", "2", "--json", "--html", str(page)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output.splitlines()[-1])
    assert data["check"]["max_weight_error"] < 1e-4 and data["layers"] == [2]
    assert page.read_text().startswith("<!doctype html>")
    res = runner.invoke(app, ["inside", "attention", TEXT, "--layer", "99"])
    assert res.exit_code == 2 and "layer 99 does not exist" in res.output
    res = runner.invoke(app, ["inside", "kv-cache", LLM, "--context", "4096", "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["memory"][0]["total_bytes"] > 0
    res = runner.invoke(app, ["inside", "next-token", "The capital of France is", "--steps", "2", "--json"])
    assert res.exit_code == 0 and json.loads(res.output.splitlines()[-1])["generated"]
    res = runner.invoke(app, ["inside", "embeddings", "king", "--top", "3", "--json"])
    assert res.exit_code == 0 and len(json.loads(res.output.splitlines()[-1])["neighbours"]["neighbours"]) == 3
    res = runner.invoke(app, ["inside", "lora", LLM, "--rank", "4", "--rank", "16", "--targets", "q_proj"])
    assert res.exit_code == 0 and "q_proj" in res.output and "trainable" in res.output
    res = runner.invoke(app, ["inside", "lora", LLM, "--targets", "attn"])
    assert res.exit_code == 2 and "no module named 'attn'" in res.output
