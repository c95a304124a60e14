"""``kerastorch eject`` of op layers (``keras.ops`` nodes of Keras 3 files, tf.keras ``TFOpLambda`` /
``SlicingOpLambda``), proven on the recorded op fixtures.

Every op model of ``compat_fixtures/ops`` (``ops_cases.json``: arithmetic, activations, unary math, min/max/clip,
reductions, shapes, slicing, matmul, l2_normalize, integer dtypes, numpy constants (module buffers);
``transformer_ops_cases.json``: split, einsum, transposed matmul, attention as ops, head reshapes, gelu/erf,
tf.shape + tf.range, where/tile/repeat; each from tf.keras and Keras 3) is ejected and run in ONE fresh process
where kerastorch cannot be imported: outputs, shapes and dtypes equal the recorded Keras outputs (the float32
layer tolerance: one op, or a few chained, per output). One ops-heavy model runs through
torch.compile(fullgraph=True), torch.export and ONNX. A hand-built squeeze-excite block checks that reductions,
softmax, concatenation, slicing and constants follow channels-first tensors without permutes, and a training step; a
slicing model checks negative steps. Every operation of kerastorch's op table has an ejected form; an argument
combination without one is an EjectError naming the layer and the op, and nothing is written.
"""
from __future__ import annotations

import copy
import gzip
import json
import pathlib

import pytest
import torch

from eject_testing import assert_standalone_outputs, record, run_standalone
from kt_testing import FIXTURES, assert_close, load_json, load_tensors

from kerastorch.eject import EjectError, eject
from kerastorch.eject.codegen import identifier

FILES = {"ops": "ops/ops_cases.json", "transformer": "ops/transformer_ops_cases.json"}
CASES = {c["name"]: (family, c) for family, fn in FILES.items() for c in load_json(fn)["cases"] if not c["refuse"]}
#: torch.compile(fullgraph=True), torch.export and ONNX (onnxruntime)
EXPORT = "tf.attention_as_ops"
#: tf.range(tf.shape(x)[1]): torch.compile(fullgraph=True) and torch.export (a bound read from a shape is no tensor)
SIZED = "tf.positions"


def _tensors(family: str) -> dict[str, torch.Tensor]:
    return load_tensors(f"ops/{'transformer_ops' if family == 'transformer' else 'ops'}_tensors.safetensors")


def _se_block():
    """Conv2D -> tf.reduce_mean over H, W (keepdims) -> sigmoid -> multiply: Keras 3 and tf ops in a CNN, with
    a per-channel constant, a channel softmax, a channel concat, a channel sum, a spatial max, a slice and a
    transpose to NCHW."""
    from kerastorch import layers
    from kerastorch.models import Input, Model, OpLayer

    x = Input((6, 6, 3), name="image")
    h = layers.Conv2D(4, 3, padding="same", name="conv")(x)
    s = OpLayer("tf:math.reduce_mean", name="squeeze")(h, axis=[1, 2], keepdims=True)
    h = OpLayer("k3:Multiply", name="excite")(h, OpLayer("k3:Sigmoid", name="gate")(s))
    h = OpLayer("tf:math.subtract", name="shift")(h, y=[0.5, -1.0, 0.25, 2.0])  # a per-channel constant
    p = OpLayer("k3:Softmax", {"axis": -1}, name="probs")(h)
    c = OpLayer("k3:Concatenate", {"axis": -1}, name="cat")([h, p])
    c = layers.Conv2D(2, 1, name="proj")(c)
    total = OpLayer("k3:Sum", {"axis": -1, "keepdims": False}, name="channel_sum")(c)
    peak = OpLayer("k3:Max", {"axis": [1, 2], "keepdims": False}, name="spatial_max")(c)
    window = OpLayer("k3:GetItem", name="window")(c, [slice(None), slice(None, None, -1), slice(1, 5), slice(0, 1)])
    nchw = OpLayer("k3:Transpose", {"axes": [0, 3, 1, 2]}, name="nchw")(c)  # the channels-first tensor itself
    model = Model(x, [total, peak, OpLayer("k3:Sum", {"axis": -1, "keepdims": False}, name="window_sum")(window),
                      OpLayer("tf:math.reduce_max", name="per_row")(nchw, axis=3)])
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p_ in model.parameters():
            p_.copy_(torch.randn(p_.shape, generator=g) * 0.5)
    return model, [torch.randn(2, 6, 6, 3, generator=g)]


def _slicing_model():
    """numpy slicing with negative steps (torch has none: a flip, then the same elements forward) on known axes."""
    from kerastorch.models import Input, Model, OpLayer

    x = Input((7, 5), name="x")
    every = slice(None)
    specs = [[every, slice(5, 1, -2)], [Ellipsis, slice(-1, 0, -3)], [every, slice(3, None, -1), slice(None, None, -1)],
             [every, slice(1, 5, -1)], [every, None, slice(None, None, -1), 2]]
    model = Model(x, [OpLayer("k3:GetItem", name=f"slice_{i}")(x, spec) for i, spec in enumerate(specs)])
    return model, [torch.randn(2, 7, 5, generator=torch.Generator().manual_seed(4))]


@pytest.fixture(scope="module")
def ejected(tmp_path_factory) -> dict[str, dict]:
    from kerastorch.models import model_from_config

    root = tmp_path_factory.mktemp("eject_ops")
    cases = {}
    for name, (family, case) in CASES.items():
        model = model_from_config(copy.deepcopy(case["config"]))
        t = _tensors(family)
        xs = [t[f"input.{i.node.layer.name}"] for i in model._in_flat]
        expected = [t[o["key"]].reshape(o["shape"]) for o in case["outputs"]]
        out = root / identifier(name)
        eject(model, out)
        cases[name] = record(name, model, xs, expected, 1e-5, out, {"export": name in (EXPORT, SIZED),
                                                                      "onnx": name == EXPORT})
        cases[name]["dtypes"] = [o["dtype"] for o in case["outputs"]]
    model, xs = _se_block()
    eject(model, root / "se_block")
    cases["se_block"] = record("se_block", model, xs, [], 1e-5, root / "se_block", {"grad": True})
    model, xs = _slicing_model()
    eject(model, root / "slicing")
    cases["slicing"] = record("slicing", model, xs, [], 0.0, root / "slicing", {})
    return run_standalone(root, cases)


@pytest.mark.parametrize("name", sorted(CASES) + ["se_block", "slicing"])
def test_standalone_ops_match_keras(ejected, name):
    assert_standalone_outputs(ejected[name], name)


def test_compile_export_onnx(ejected):
    case = ejected[EXPORT]
    for kind in ("compiled", "exported", "onnx"):
        for i, want in enumerate(case["expected"]):
            assert_close(case["result"][f"{kind}{i}"], want, rtol=case["rtol"], msg=f"{EXPORT}: {kind} output {i}")


def test_range_over_a_shape_reads_the_shape(ejected):
    """tf.range(tf.shape(x)[1]) is torch.arange over x.shape[1] (a Python int; a SymInt when compiled), not over a
    tensor's value, and the shape tensor it no longer reads is not computed: the file compiles with fullgraph=True
    and exports, giving Keras's positions."""
    source = (pathlib.Path(ejected[SIZED]["dir"]) / "model.py").read_text()
    assert "torch.arange(0, x_.shape[1], 1, dtype=torch.int32, device=x_.device)" in source, source
    assert source.count("torch.tensor(x_.shape") == 1 and "[1]\n" not in source, source  # the shape output alone
    case = ejected[SIZED]
    for kind in ("compiled", "exported"):
        assert torch.equal(case["result"][f"{kind}0"], case["expected"][0].cpu()), kind


def test_channels_first_ops_without_permutes(ejected):
    """In a CNN the ops follow the channels-first tensors (dims mapped): no permute between the convolutions; a
    training step gives kerastorch's input gradient."""
    source = (pathlib.Path(ejected["se_block"]["dir"]) / "model.py").read_text()
    forward = source.split("def forward")[1].split("def load")[0]
    assert ".mean(dim=(2, 3), keepdim=True)" in forward and "torch.softmax(" in forward and "dim=1)" in forward
    assert forward.count("permute") == 1, forward  # the input's, once
    assert 'self.register_buffer("shift", torch.empty((1, 4, 1, 1), dtype=torch.float32))' in source
    assert ".flip(2)[:, 0:1, :, 1:5]" in forward  # x[:, ::-1, 1:5, 0:1] of its channels-first view
    assert "nchw = proj" in forward and "per_row = nchw.amax(dim=3)" in forward
    assert_close(ejected["se_block"]["result"]["grad_x0"], ejected["se_block"]["grad_x"][0], rtol=1e-4)


def test_every_table_op_has_an_ejected_form():
    """Each operation kerastorch runs (every key of the op table) has an ejected form."""
    from kerastorch.eject.emit_ops import ejectable_ops
    from kerastorch.layers.ops import OPS

    assert ejectable_ops() == sorted(OPS)
    used = {op for _, c in CASES.values() for op in c["ops"]}
    assert len(used) >= 100, len(used)  # the fixtures exercise most of them


@pytest.mark.parametrize("op, config, call, why", [
    ("tf:split", {}, lambda layer, x: layer(x, num_or_size_splits=[1, -1], axis=0)[0], "unknown size"),
    ("k3:LogicalAnd", {}, lambda layer, x: layer(x, True), "constant operand"),
    ("k3:GetItem", {}, lambda layer, x: layer(x, [slice(3, 0, -2)]), "negative slice step along an axis of unknown"),
], ids=["split_unknown_rest", "logical_constant", "negative_step"])
def test_op_without_ejected_form_names_layer_and_op(tmp_path, op, config, call, why):
    from kerastorch.layers.ops.op_layer import _display
    from kerastorch.models import Input, Model, OpLayer

    x = Input((4, 6), name="x")
    layer = OpLayer(op, config, name="odd_op")
    model = Model(x, call(layer, x))
    with pytest.raises(EjectError, match=rf'Layer "odd_op" \(OpLayer\).*{_display(op)}.*{why}'):
        eject(model, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_application_configs_with_ops_eject(tmp_path):
    """keras.applications architectures whose configs hold op nodes (hard-swish of MobileNetV3 and ConvNeXt's
    residual adds: TFOpLambda in tf.keras, keras.ops in Keras 3) eject with their ops as torch expressions (the
    tf.keras MobileNetV3 and ConvNeXt's outputs are checked in test_eject.py)."""
    from kerastorch.models import model_from_config

    for name in ("mobilenetv3small.keras3", "convnext_droppath.tf_keras"):
        entry = {e["name"]: e for e in load_json("applications/MANIFEST.json")["fixtures"]}[name]
        with gzip.open(FIXTURES / "applications" / entry["config"], "rt") as f:
            model = model_from_config(json.load(f))
        source = eject(model, tmp_path / identifier(name)).source
        assert " + " in source and "F.relu6(" in source if "mobilenet" in name else " + " in source, name


def test_one_op_layer_called_with_different_constants(tmp_path):
    """An op layer called three times, with two different constants: each distinct constant gets its own buffer
    (the calls with equal constants share one), so the ejected forward equals the kerastorch model's."""
    import importlib.util

    from kerastorch.layers.ops.op_layer import OpLayer
    from kerastorch.models import Input, Model

    x = Input((4,), name="x")
    shift = OpLayer("tf:math.subtract", name="shift")
    a = shift(x, y=[0.5, -1.0, 0.25, 2.0])
    b = shift(a, y=[1.0, 2.0, 3.0, 4.0])
    model = Model(x, [a, b, shift(b, y=[0.5, -1.0, 0.25, 2.0])])
    ejected = eject(model, tmp_path)
    assert sorted(ejected.state_dict) == ["shift", "shift_2"]
    spec = importlib.util.spec_from_file_location("ejected_op_constants", tmp_path / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    xs = torch.randn(3, 4)
    with torch.no_grad():
        for got, want in zip(module.load()(xs), model(xs)):
            assert_close(got, want)
