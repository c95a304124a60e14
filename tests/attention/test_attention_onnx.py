"""Transformer models loaded from real Keras files (compat_fixtures/attention, recorded by gen/attention.py)
export to ONNX with both of torch's exporters and run in onnxruntime with Keras's outputs (issue 19): the
padded text classifier (token mask into MultiHeadAttention and the pooling) and the causal decoder with
cross-attention."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import kerastorch as kt
from kt_testing import FIXTURES, load_json, load_tensors

MODELS = {m["id"]: m for m in load_json("attention/attention.json")["models"]}
T = load_tensors("attention/attention.safetensors")


@pytest.mark.slow
@pytest.mark.parametrize("mid, tag, dynamo", [
    ("text_classifier", "tf", True),
    ("text_classifier", "k3", False),  # the legacy (TorchScript) exporter traces sizes as tensors
    ("decoder", "k3", False),
])
def test_transformer_exports_to_onnx_with_keras_outputs(mid, tag, dynamo, tmp_path):
    model = kt.models.load_model(FIXTURES / "attention" / MODELS[mid]["files"][tag]).eval()
    xs = [T[f"{mid}.input.{n}"] for n in MODELS[mid]["inputs"]]
    path = tmp_path / "model.onnx"
    torch.onnx.export(model, (xs,), str(path), dynamo=dynamo, opset_version=18)
    onnx.checker.check_model(onnx.load(str(path)))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = session.run(None, {i.name: x.numpy() for i, x in zip(session.get_inputs(), xs)})[0]
    want = T[f"{mid}.{tag}.out"].numpy()
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5 * max(float(np.abs(want).max()), 1e-6))
