"""BatchNormalization under mixed precision (issue 26, item 10): a float16/bfloat16 input with float32
weights (a ``mixed_float16``/``mixed_bfloat16`` policy, or ``torch.autocast``) is computed in float32 and
returned in the input's dtype, as Keras 3 does (``bn_mixed_precision.*``, gen/keras3_configs.py: a model
with BatchNormalization on its fused 4-D, axis-2 and 2-D paths, recorded from Keras 3.15.1)."""
from __future__ import annotations

import json

import pytest
import torch

import kerastorch as kt
from kt_testing import assert_close, load_json, load_tensors

CASES = {c["policy"]: c for c in load_json("bn_mixed_precision.json")["cases"]}
TENSORS = load_tensors("bn_mixed_precision.safetensors")
HALF = {"mixed_float16": torch.float16, "mixed_bfloat16": torch.bfloat16}


def _model(policy: str, as_policy: str | None = None) -> torch.nn.Module:
    case = CASES[policy]
    text = json.dumps(case["config"])
    if as_policy is not None:  # the same model with every layer under another policy
        text = text.replace(f'"{policy}"', f'"{as_policy}"')
    model = kt.models.model_from_json(text)
    model.set_weights([TENSORS[f"{policy}.weight.{i}"].numpy() for i in range(case["weights"])])
    return model


@pytest.mark.parametrize("policy", sorted(CASES))
def test_mixed_policy_matches_keras_3(policy):
    model = _model(policy)
    x = TENSORS["input"]
    model.eval()
    with torch.no_grad():
        out = model(x)
    assert out.dtype == HALF[policy] and CASES[policy]["output_dtype"] == str(out.dtype).split(".")[1]
    # Keras (TF kernels) and torch round the float16/bfloat16 conv and dense differently: half tolerance.
    assert_close(out, TENSORS[f"{policy}.eval"].to(out.dtype))
    model.train()
    out = model(x)
    assert out.dtype == HALF[policy]
    assert_close(out, TENSORS[f"{policy}.train"].to(out.dtype))
    out.float().sum().backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in model.parameters())


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_autocast_on_cpu_runs_and_keeps_float32_statistics(dtype):
    model = _model("mixed_float16", as_policy="float32")  # a float32 model, run under torch.autocast
    x = TENSORS["input"]
    model.eval()
    with torch.no_grad():
        expected = model(x)
    with torch.autocast("cpu", dtype=dtype), torch.no_grad():
        out = model(x)
    assert_close(out.float(), expected, rtol=5e-2, atol=5e-2)  # autocast's conv/dense run in half precision
    model.train()
    before = [b.clone() for b in model.buffers()]
    with torch.autocast("cpu", dtype=dtype):
        model(x).float().sum().backward()
    assert all(b.dtype == torch.float32 for b in model.buffers())
    assert any(not torch.equal(a, b) for a, b in zip(before, model.buffers()))  # moving statistics updated
