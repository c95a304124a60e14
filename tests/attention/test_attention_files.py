"""Whole transformer models saved by real tf.keras 2.21 (.h5) and Keras 3.15.1 (.keras) load with Keras's outputs
(compat_fixtures/attention/, gen/attention.py): keras.io's text classifier on a padded batch (the token Embedding's
mask reaches MultiHeadAttention through the graph), a mini ViT, a causal decoder with cross-attention, a
causal block on Keras 3's GroupQueryAttention. Written back
by kerastorch they load again with the same outputs (real Keras 3 reading them: compat_fixtures/prove_attention_files.py,
18/18 checks); they train in a torch loop, compile with fullgraph and export."""
from __future__ import annotations

import pytest
import torch

import kerastorch as kt
from kt_testing import FIXTURES, assert_close, load_json, load_tensors

MODELS = {m["id"]: m for m in load_json("attention/attention.json")["models"]}
T = load_tensors("attention/attention.safetensors")


def _inputs(mid: str) -> list[torch.Tensor]:
    return [T[f"{mid}.input.{n}"] for n in MODELS[mid]["inputs"]]


def _load(mid: str, tag: str):
    model = kt.models.load_model(FIXTURES / "attention" / MODELS[mid]["files"][tag])
    model.eval()
    return model


@pytest.mark.parametrize("mid, tag", [(m, t) for m in sorted(MODELS) for t in sorted(MODELS[m]["files"])])
def test_model_file_gives_keras_outputs(mid, tag):
    assert_close(_load(mid, tag)(_inputs(mid)), T[f"{mid}.{tag}.out"], msg=f"{mid} {tag}")


def test_padding_mask_reaches_attention():
    """Without the token mask the classifier computes something else: the mask is what Keras's output needs."""
    model = _load("text_classifier", "tf")
    tokens, positions = _inputs("text_classifier")
    assert torch.equal(tokens[1, 2:], torch.zeros_like(tokens[1, 2:]))  # a padded row
    mha = model.get_layer("mha")
    y_masked = model([tokens, positions])
    calls = []
    handle = mha.register_forward_pre_hook(lambda m, a, kw: calls.append(kw.get("mask")), with_kwargs=True)
    model([tokens, positions])
    handle.remove()
    assert calls and calls[0] is not None and torch.equal(calls[0], tokens != 0)
    assert_close(y_masked, T["text_classifier.tf.out"])


@pytest.mark.parametrize("tag", ["tf", "k3"])
def test_saved_model_loads_back(tmp_path, tag):
    model = _load("text_classifier", tag)
    path = tmp_path / "m.keras"
    kt.models.save_model(model, path)
    again = kt.models.load_model(path)
    again.eval()
    # a .keras file is Keras 3's: its Add drops the token mask (Keras 3 merges masks only when every input has
    # one), so the tf.keras model written as .keras computes what Keras 3 computes on it (real Keras 3 agrees:
    # prove_attention_files.py compares its load_model of this file with the recorded Keras 3 outputs)
    assert_close(again(_inputs("text_classifier")), T["text_classifier.k3.out"])


def test_trains_in_a_torch_loop():
    model = _load("text_classifier", "k3")
    model.train()
    x = _inputs("text_classifier")
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    target = torch.tensor([0, 1, 1])
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = torch.nn.functional.nll_loss(torch.log(model(x) + 1e-7), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    mha = model.get_layer("mha")
    assert all(p.grad is not None for p in mha.parameters())


@pytest.mark.parametrize("mid, tag", [("mini_vit", "k3"), ("text_classifier", "tf")])  # the second with its masks
def test_compile_fullgraph_and_export(mid, tag):
    model = _load(mid, tag)
    x = _inputs(mid)
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    assert_close(compiled(x), T[f"{mid}.{tag}.out"])
    exported = torch.export.export(model, (x,))
    assert_close(exported.module()(x), T[f"{mid}.{tag}.out"])
