"""Models loaded from real Keras files export to ONNX and run in onnxruntime with Keras's outputs.

``torch.onnx.export(dynamo=True)`` on ``kt.models.load_model`` of the tf.keras / Keras 3 fixture files
(compat_fixtures/models): a CNN with BatchNormalization, a channels_first CNN, a small U-Net, a 1-D net,
a model with tf.keras op nodes, and a two-input/two-output graph. The exported graph must reproduce the
outputs real Keras recorded (the fixture's tolerance, plus the suite's "graph" tolerance for fused kernels).
"""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import kerastorch as kt
from kt_testing import FIXTURES, load_json, load_tensors

ONNX_OPSET = 18
FIXTURE_NAMES = ["cnn_seq.tf_keras", "cnn_nchw.keras3", "unet.tf_keras", "conv1d.keras3", "tf_ops.tf_keras", "two_io.tf_keras"]
ENTRIES = {e["name"]: e for e in load_json("models/MANIFEST.json")["fixtures"]}


@pytest.mark.slow
@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_loaded_model_exports_to_onnx_with_keras_outputs(name: str, tmp_path) -> None:
    entry = ENTRIES[name]
    files = entry["files"]
    model = kt.models.load_model(str(FIXTURES / "models" / files.get("h5", files["keras"]))).eval()
    tensors = load_tensors(f"models/{entry['tensors']}")
    xs = tuple(tensors[i["key"]] for i in entry["inputs"])
    args = xs if len(xs) == 1 else (list(xs),)
    path = tmp_path / "model.onnx"
    torch.onnx.export(model, args, str(path), dynamo=True, opset_version=ONNX_OPSET)
    onnx.checker.check_model(onnx.load(str(path)))

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {i.name: x.numpy() for i, x in zip(session.get_inputs(), xs)}
    outs = session.run(None, feed)
    expected = [tensors[k].numpy() for k in entry["outputs"]["keys"]]
    assert len(outs) == len(expected)
    for out, want in zip(outs, expected):
        scale = max(float(np.abs(want).max()), 1e-6)
        np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5 * scale)
