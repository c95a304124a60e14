"""Keras mixed-precision policy files: half-precision compute with float32 variables, as Keras does.

Fixtures: ``compat_fixtures/mixed_precision/`` (``gen/mixed_precision.py``): a convnet (Conv2D, BatchNormalization,
ReLU, GlobalAveragePooling2D, a float32 softmax head) and an LSTM tagger (Embedding, LSTM, a float32 head) saved by real
tf.keras 2.21 (``mixed_float16``, ``.h5`` and ``.keras``) and Keras 3.15.1 (``mixed_float16`` and ``mixed_bfloat16``),
with the dtype Keras gives every layer's variables and outputs and Keras's inference output.

Tolerance: Keras and torch both compute these layers in the half type (float16: 11 mantissa bits, bfloat16: 8) but
round intermediate sums at different points, so the float32 head sees inputs that differ by a few half-precision ulps:
2e-3 relative for float16 (as the tf_mixed user file), 2e-2 for bfloat16.
"""
from __future__ import annotations

import pytest
import torch

import kerastorch as kt
from kt_testing import DEVICE, FIXTURES, assert_close, load_json, load_tensors

CASES = load_json("mixed_precision/cases.json")["cases"]
PARAMS = [pytest.param(case, kind, id=f"{case}-{kind}") for case, c in CASES.items() for kind in c["files"]]
TOL = {"mixed_float16": 2e-3, "mixed_bfloat16": 2e-2}


@pytest.mark.parametrize("case, kind", PARAMS)
def test_policy_file_computes_in_half_with_float32_variables(case, kind):
    spec = CASES[case]
    model = kt.models.load_model(FIXTURES / "mixed_precision" / spec["files"][kind]).to(DEVICE).eval()
    seen: dict[str, str] = {}
    hooks = [layer.register_forward_hook(lambda m, i, o, n=layer.name: seen.__setitem__(n, str(o.dtype).replace("torch.", "")))
             for layer in model.layers if layer.name in spec["outputs"]]
    T = load_tensors("mixed_precision/tensors.safetensors")
    x = T[f"{case}.input"]
    y = model(x.long() if not x.is_floating_point() else x)
    for h in hooks:
        h.remove()
    assert seen == spec["outputs"], "each layer's output dtype as Keras gives it"
    for layer in model.layers:
        if layer.name in spec["variables"]:
            got = sorted({str(w.dtype).replace("torch.", "") for w in layer.weights})
            assert got == spec["variables"][layer.name], layer.name
    assert str(y.dtype).replace("torch.", "") == spec["output_dtype"]
    tol = TOL[spec["policy"]]
    assert_close(y, T[f"{case}.output"], rtol=tol, atol=tol)
    # training: the half-precision graph backpropagates into float32 variables
    model.train()
    model(x.long() if not x.is_floating_point() else x).float().square().sum().backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 and torch.isfinite(p.grad).all()
               for p in model.parameters() if p.requires_grad)
