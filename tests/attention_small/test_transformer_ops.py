"""The operation nodes of keras.io-style transformer graphs against real Keras (compat_fixtures/ops/
transformer_ops_*, gen/transformer_ops.py): tf.keras TFOpLambda (einsum, split, matmul with transposes,
softmax attention as ops, head reshapes, gelu approximate / erf, ``tf.shape`` + ``tf.range`` position ids,
where, tile) and Keras 3 ``keras.ops`` (Einsum, Split, Swapaxes, Moveaxis, Greater, Where, Tile, Repeat, ...).
Each config is loaded with ``model_from_config`` and run on the recorded inputs; values, shapes and dtypes
must be Keras's, and gradients reach the float inputs."""
from __future__ import annotations

import copy

import pytest
import torch

from kt_testing import assert_close, load_json, load_tensors

CASES = load_json("ops/transformer_ops_cases.json")["cases"]


def _inputs() -> list[torch.Tensor]:
    t = load_tensors("ops/transformer_ops_tensors.safetensors")
    return [t["input.x"], t["input.y"], t["input.i"]]


def _load(case: dict) -> torch.nn.Module:
    from kerastorch.models import model_from_config

    return model_from_config(copy.deepcopy(case["config"]))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_transformer_op_model_matches_keras(case):
    model = _load(case).eval()
    xs = [t.clone().requires_grad_(t.is_floating_point()) for t in _inputs()]
    outs = model(xs)
    outs = [outs] if isinstance(outs, torch.Tensor) else list(outs)
    tensors = load_tensors("ops/transformer_ops_tensors.safetensors")
    assert len(outs) == len(case["outputs"])
    for k, (got, rec) in enumerate(zip(outs, case["outputs"])):
        want = tensors[rec["key"]]
        assert got.dtype == want.dtype, f"{case['name']} output {k}: dtype {got.dtype}, Keras {want.dtype}"
        assert tuple(got.shape) == tuple(rec["shape"]), f"{case['name']} output {k}: shape {tuple(got.shape)}"
        assert_close(got, want.reshape(rec["shape"]), msg=f"{case['name']} output {k}")
    floating = [o for o in outs if o.is_floating_point() and o.requires_grad]
    if floating:
        sum(o.sum() for o in floating).backward()
        assert xs[0].grad is not None or xs[1].grad is not None


def test_unknown_op_names_itself():
    """An op kerastorch does not map is refused at load with a ValueError naming it."""
    case = copy.deepcopy(next(c for c in CASES if c["name"] == "k3.einsum"))
    for layer in case["config"]["config"]["layers"]:
        if layer["class_name"] == "Einsum":
            layer["class_name"] = "NoSuchOp"
    with pytest.raises(ValueError, match="NoSuchOp"):
        _load(case)
