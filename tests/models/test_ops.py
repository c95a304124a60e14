"""Operation nodes of functional models (``kerastorch.layers.ops``) against real Keras.

Fixtures: ``compat_fixtures/ops/`` (``gen/ops.py``): weight-free models whose nodes are tf.keras
``TFOpLambda`` / ``SlicingOpLambda`` layers (TensorFlow functions on symbolic tensors) or Keras 3 ``keras.ops``
classes, with the outputs Keras computed -- values, shapes and dtypes (TF's / Keras 3's broadcasting and
dtype promotion). Each config is loaded with ``model_from_config`` and run on the recorded inputs.
Tolerance: the float32 layer tolerance (one op, or a few chained, per output).
"""
from __future__ import annotations

import copy

import pytest
import torch

from kt_testing import assert_close, load_json, load_tensors

CASES = load_json("ops/ops_cases.json")["cases"]
RUN = [c for c in CASES if not c["refuse"]]
REFUSED = [c for c in CASES if c["refuse"]]


def _inputs() -> list[torch.Tensor]:
    t = load_tensors("ops/ops_tensors.safetensors")
    return [t["input.x"], t["input.y"], t["input.i"]]


def _load(case: dict) -> torch.nn.Module:
    from kerastorch.models import model_from_config

    return model_from_config(copy.deepcopy(case["config"]))


@pytest.mark.parametrize("case", RUN, ids=[c["name"] for c in RUN])
def test_op_model_matches_keras(case):
    model = _load(case)
    model.eval()
    with torch.no_grad():
        outs = model(_inputs())
    outs = [outs] if isinstance(outs, torch.Tensor) else list(outs)
    tensors = load_tensors("ops/ops_tensors.safetensors")
    assert len(outs) == len(case["outputs"])
    for k, (got, rec) in enumerate(zip(outs, case["outputs"])):
        want = tensors[rec["key"]]
        assert got.dtype == want.dtype, f"{case['name']} output {k}: dtype {got.dtype}, Keras {want.dtype}"
        assert tuple(got.shape) == tuple(rec["shape"]), f"{case['name']} output {k}: shape {tuple(got.shape)}"
        # safetensors stores a 0-d output as shape (1,): compare in the recorded shape
        assert_close(got, want.reshape(rec["shape"]), msg=f"{case['name']} output {k}")


@pytest.mark.parametrize("case", RUN, ids=[c["name"] for c in RUN])
def test_op_model_symbolic_shapes_and_dtypes(case):
    """The graph's symbolic outputs (computed at load, before any data) have Keras's shapes and dtypes."""
    model = _load(case)
    specs = model.outputs
    for k, (t, rec) in enumerate(zip(specs, case["outputs"])):
        assert t.dtype == getattr(torch, rec["dtype"]), f"output {k}: symbolic dtype {t.dtype}, Keras {rec['dtype']}"
        # unknown dims (the batch, wherever an op moved it) are None; every known dim is Keras's
        assert len(t.shape) == len(rec["shape"]), f"output {k}: symbolic rank {t.shape} vs {rec['shape']}"
        assert all(d is None or d == r for d, r in zip(t.shape, rec["shape"])), f"output {k}: {t.shape} vs {rec['shape']}"
        assert t.shape.count(None) <= 1, f"output {k}: {t.shape}: only the batch dim is unknown"


GRAD = [c for c in RUN if "int_dtypes" not in c["name"]]  # the int cases: mostly integer outputs


@pytest.mark.parametrize("case", GRAD, ids=[c["name"] for c in GRAD])
def test_op_model_gradients_flow(case):
    """Float outputs are differentiable w.r.t. the float inputs (ops are plain torch ops)."""
    model = _load(case)
    x, y, i = _inputs()
    x = x.clone().requires_grad_(True)
    y = y.clone().requires_grad_(True)
    outs = model([x, y, i])
    outs = [outs] if isinstance(outs, torch.Tensor) else list(outs)
    assert all(o.requires_grad for o in outs), "every output of these cases depends on x or y"
    sum(o.sum() for o in outs).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("case", REFUSED, ids=[c["name"] for c in REFUSED])
def test_unmapped_op_is_refused_naming_op_and_layer(case):
    layer_names = [l.get("name") or l["config"]["name"] for l in case["config"]["config"]["layers"]
                   if l["class_name"] not in ("InputLayer",)]
    with pytest.raises(ValueError) as info:
        _load(case)
    msg = str(info.value)
    assert "cumsum" in msg.lower(), msg
    assert any(n in msg for n in layer_names), msg


def test_every_recorded_op_is_covered():
    """Every op kind the fixtures use is in kerastorch's table (guards against silently dropped cases)."""
    from kerastorch.layers.ops import OPS

    used = {op for c in RUN for op in c["ops"]}
    keys = set()
    for op in used:
        keys.add("tf:" + op[3:] if op.startswith("tf.") else "k3:" + op.split(".")[-1])
    missing = sorted(k for k in keys if k not in OPS)
    assert not missing, missing


def test_op_error_names_layer_and_op():
    """A bad input to an op node is a ValueError naming the layer and the op (not a raw torch error)."""
    from kerastorch.models import Input, Model, OpLayer

    a = Input((4, 6), name="a")
    b = Input((5, 6), name="b")
    layer = OpLayer("tf:math.add", name="bad_add")
    with pytest.raises(ValueError, match="bad_add.*tf.math.add"):
        Model([a, b], layer(a, b))


def test_reduction_axis_out_of_range_is_refused_not_wrapped():
    """``keras.ops.any``/``all``/``prod`` with an axis outside ``[-rank, rank)``: refused when the graph is built (a
    fuzzer mutant with axis 10**12 used to wrap modulo the rank, load, and fail at the first call), and at call time."""
    from kerastorch.models import Input, OpLayer

    x = Input((5, 3), name="x")
    for op, axis in (("k3:Any", 10**12), ("k3:All", -2**31), ("k3:Any", 3)):
        with pytest.raises(ValueError, match=rf"cannot be applied.*axis {axis} is out of bounds for a tensor of rank 3"):
            OpLayer(op, {"axis": axis}, name="red")(x)
    assert OpLayer("k3:Any", {"axis": -3}, name="ok")(x).shape == (5, 3)  # -rank is the first (batch) axis
    with pytest.raises(ValueError, match="out of bounds"):
        OpLayer("k3:Any", {"axis": 2}, name="eager")(torch.ones(2, 3))


def test_op_models_deepcopy_and_pickle():
    """Op nodes hold table functions (lambdas): deepcopy and torch.save / torch.load (full pickle) keep the
    model and its outputs, every RUN case in one model file each."""
    import io

    x = _inputs()
    for case in RUN:
        model = _load(case).eval()
        with torch.no_grad():
            want = model(x)
        want = [want] if isinstance(want, torch.Tensor) else list(want)
        buf = io.BytesIO()
        torch.save(model, buf)
        buf.seek(0)
        for again in (copy.deepcopy(model), torch.load(buf, weights_only=False)):
            with torch.no_grad():
                got = again(x)
            got = [got] if isinstance(got, torch.Tensor) else list(got)
            assert len(got) == len(want), case["name"]
            for g, w in zip(got, want):
                torch.testing.assert_close(g, w, rtol=0, atol=0, msg=case["name"])


def test_constant_operands_save_and_load(tmp_path):
    """Numpy constants of op nodes (Keras 3: ``__numpy__``/``__tensor__`` args, tf.keras: lists in the kwargs) load,
    and a model holding them saves (Keras 3: as ``__tensor__`` values) and loads back with the same outputs."""
    from kerastorch.models import load_model, save_model

    x = _inputs()
    for name, ext in (("k3.constants", ".keras"), ("tf.constants", ".safetensors")):
        case = next(c for c in RUN if c["name"] == name)
        model = _load(case).eval()
        path = tmp_path / f"{name}{ext}"
        save_model(model, path)
        with torch.no_grad():
            for got, want in zip(load_model(path)(x), model(x)):
                torch.testing.assert_close(got, want, rtol=0, atol=0, msg=name)
