"""``kerastorch.fuse_for_inference``: BatchNormalization folded into the conv/Dense before it, identity layers removed.

Every fused model is compared with the unfused model it came from (whose parity with Keras is tested elsewhere) and,
for the recorded Keras model files, with the outputs Keras itself recorded. BatchNormalization statistics are drawn
away from (0, 1) so that a wrong fold cannot pass. Tolerance: the suite's float32 "layer" tolerance (1e-5 relative);
folding rounds ``kernel * gamma / sqrt(var + eps)`` once in float32, far below it.
"""
from __future__ import annotations

import pytest
import torch

import kerastorch
from kerastorch import layers as L
from kerastorch.models import Input, Model, Sequential, load_model
from kt_testing import FIXTURES, assert_close, load_json, load_tensors


def _randomize_bn(model: torch.nn.Module, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, L.BatchNormalization):
                for name in m.weight_names:
                    w = getattr(m, name)
                    lo, hi = (0.5, 2.0) if name in ("gamma", "moving_variance") else (-0.5, 0.5)
                    w.copy_(torch.rand(w.shape, generator=g) * (hi - lo) + lo)


def _classes(model: torch.nn.Module) -> list[str]:
    return [type(m).__name__ for m in model.layers]


def _check(model: torch.nn.Module, x, seed: int = 0, updates_stats: bool = False):
    _randomize_bn(model, seed)
    model.eval()
    before = [w.detach().clone() for w in model.weights]
    fused = kerastorch.fuse_for_inference(model)
    with torch.no_grad():
        want, got = model(x), fused(x)
    assert_close(got, want)
    if not updates_stats:  # (a BatchNormalization called with training=True updates its statistics)
        assert all(torch.equal(a, b) for a, b in zip(before, model.weights)), "the original model changed"
    return fused


# ----------------------------------------------------------------------------- Sequential
def test_sequential_conv_without_bias_bn_dropout_dense_bn():
    model = Sequential([
        Input((10, 10, 3)),
        L.Conv2D(8, 3, use_bias=False), L.BatchNormalization(), L.ReLU(), L.Dropout(0.5),
        L.Flatten(), L.Dense(6), L.BatchNormalization(), L.Activation("linear"), L.Dense(2),
    ])
    fused = _check(model, torch.randn(4, 10, 10, 3))
    assert _classes(fused) == ["Conv2D", "ReLU", "Flatten", "Dense", "Dense"]
    conv = fused.layers[0]
    assert conv.use_bias and conv.bias is not None  # the BN shift became a bias


def test_sequential_bn_not_after_conv_is_kept():
    model = Sequential([Input((5,)), L.BatchNormalization(), L.Dense(4, activation="relu"), L.BatchNormalization()])
    fused = _check(model, torch.randn(3, 5))
    # the first BN has no producer; the second follows a Dense with a relu activation: both stay
    assert _classes(fused) == ["BatchNormalization", "Dense", "BatchNormalization"]


# ----------------------------------------------------------------------------- Functional
def test_functional_depthwise_conv_no_bias_dense_and_shared_output():
    inp = Input((12, 12, 4))
    x = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw")(inp)
    x = L.BatchNormalization(name="dw_bn")(x)
    x = L.ReLU(6.0)(x)
    y = L.Conv2D(6, 1, use_bias=False, name="pw")(x)
    y = L.BatchNormalization(name="pw_bn")(y)
    z = L.Conv2D(6, 3, padding="same", name="twice")(y)  # its output feeds a BN and an Add: no fold
    zb = L.BatchNormalization(name="twice_bn")(z)
    s = L.Add()([z, zb])
    s = L.GlobalAveragePooling2D()(s)
    s = L.Dropout(0.3)(s)
    s = L.Dense(5, name="fc")(s)
    out = L.BatchNormalization(name="fc_bn")(s)
    model = Model(inp, out)
    fused = _check(model, torch.randn(2, 12, 12, 4))
    names = [l.name for l in fused.layers]
    for gone in ("dw_bn", "pw_bn", "fc_bn"):
        assert gone not in names
    assert "twice_bn" in names and "twice" in names
    assert not any(isinstance(l, L.Dropout) for l in fused.layers)


def test_functional_bn_on_input_and_bn_after_activation_are_kept():
    inp = Input((6, 6, 3))
    x = L.BatchNormalization(name="in_bn")(inp)
    x = L.Conv2D(4, 3, activation="relu", name="c")(x)
    x = L.BatchNormalization(name="after_relu")(x)
    model = Model(inp, x)
    fused = _check(model, torch.randn(2, 6, 6, 3))
    assert _classes(fused).count("BatchNormalization") == 2


@pytest.mark.parametrize("make", [
    lambda: (L.SeparableConv2D(5, 3, depth_multiplier=2, padding="same"), (7, 7, 3)),
    lambda: (L.Conv2DTranspose(5, 3, strides=2, padding="same", use_bias=False), (5, 5, 3)),
    lambda: (L.Conv1D(5, 3, groups=1, dilation_rate=2), (11, 4)),
    lambda: (L.Conv2D(6, 3, groups=2, padding="same"), (7, 7, 4)),
    lambda: (L.Conv3D(4, 2), (4, 4, 4, 2)),
    lambda: (L.Dense(7), (3, 5)),  # Dense on the last axis of a 3-D input
], ids=["separable", "transpose_nobias", "conv1d", "grouped", "conv3d", "dense_3d"])
def test_each_foldable_layer(make):
    layer, shape = make()
    inp = Input(shape)
    out = L.BatchNormalization(name="bn")(layer(inp))
    fused = _check(Model(inp, out), torch.randn(2, *shape))
    assert "BatchNormalization" not in _classes(fused)


def test_channels_first_conv_folds_only_with_axis_1():
    inp = Input((3, 8, 8))
    a = L.BatchNormalization(axis=1, name="bn_c")(L.Conv2D(4, 3, data_format="channels_first", name="c1")(inp))
    b = L.BatchNormalization(axis=-1, name="bn_w")(L.Conv2D(4, 3, data_format="channels_first", name="c2")(inp))
    model = Model(inp, [a, b])
    _randomize_bn(model)
    model.eval()
    fused = kerastorch.fuse_for_inference(model)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        for got, want in zip(fused(x), model(x)):
            assert_close(got, want)
    names = [l.name for l in fused.layers]
    assert "bn_c" not in names and "bn_w" in names  # axis -1 normalizes the width: not a channel scale


def test_bn_called_with_training_true_and_dropout_with_training_true_are_kept():
    inp = Input((6,))
    x = L.Dense(4, name="d")(inp)
    x = L.BatchNormalization(name="bn")(x, training=True)
    x = L.Dropout(0.0, name="drop")(x, training=True)
    model = Model(inp, x)
    fused = _check(model, torch.randn(8, 6), updates_stats=True)
    assert [l.name for l in fused.layers][-2:] == ["bn", "drop"]


def test_nested_model_and_identity_layers_removed():
    inner_in = Input((8, 8, 3))
    h = L.Conv2D(4, 3, padding="same", use_bias=False, name="inner_conv")(inner_in)
    h = L.BatchNormalization(name="inner_bn")(h)
    inner = Model(inner_in, h, name="inner")
    inp = Input((8, 8, 3))
    x = L.Identity(name="ident")(inp)
    x = inner(x)
    x = L.Activation("linear", name="lin")(x)
    x = L.SpatialDropout2D(0.5, name="sd")(x)
    x = L.GaussianNoise(1.0, name="gn")(x)
    model = Model(inp, x)
    fused = _check(model, torch.randn(2, 8, 8, 3))
    assert _classes(fused) == ["InputLayer", "Functional"]
    assert _classes(fused.layers[1]) == ["InputLayer", "Conv2D"]


def test_model_input_passed_straight_to_output_through_identity():
    inp = Input((4,))
    out = L.Dropout(0.5)(inp)
    model = Model(inp, [out, L.Dense(2)(inp)])
    fused = kerastorch.fuse_for_inference(model)
    x = torch.randn(3, 4)
    got = fused(x)
    assert torch.equal(got[0], x)


# ----------------------------------------------------------------------------- the copy is eval-only and independent
def test_fused_copy_is_eval_only_and_independent():
    model = Sequential([Input((4,)), L.Dense(3), L.BatchNormalization()])
    _randomize_bn(model)
    fused = kerastorch.fuse_for_inference(model)
    assert not fused.training
    with pytest.raises(ValueError, match="inference-only"):
        fused.train()
    with pytest.raises(ValueError, match="training=True"):
        fused(torch.randn(2, 4), training=True)
    fused.eval()  # train(False) is allowed
    x = torch.randn(2, 4)
    before = fused(x)
    with torch.no_grad():
        for w in model.weights:
            w.add_(1.0)
    assert torch.equal(fused(x), before)


def test_refuses_non_models():
    with pytest.raises(ValueError, match="Sequential or Functional"):
        kerastorch.fuse_for_inference(L.Dense(2))


def test_compiles_without_graph_breaks():
    inp = Input((8, 8, 3))
    x = L.BatchNormalization()(L.Conv2D(4, 3, use_bias=False)(inp))
    model = Model(inp, L.ReLU()(x))
    _randomize_bn(model)
    fused = kerastorch.fuse_for_inference(model)
    x = torch.randn(2, 8, 8, 3)
    compiled = torch.compile(fused, fullgraph=True, backend="eager")
    assert_close(compiled(x), model.eval()(x).detach())


# ----------------------------------------------------------------------------- real Keras files
_MANIFEST = load_json("models/MANIFEST.json")["fixtures"]
_FILES = [(e, k) for e in _MANIFEST if e["model"] in ("cnn_seq", "cnn_nchw") and e["kind"] == "file" for k in sorted(e["files"])]


@pytest.mark.parametrize("entry,kind", _FILES, ids=[f"{e['name']}.{k}" for e, k in _FILES])
def test_fused_keras_file_matches_keras_recorded_outputs(entry, kind):
    model = load_model(str(FIXTURES / "models" / entry["files"][kind])).eval()
    tensors = load_tensors(f"models/{entry['tensors']}")
    x = tensors[entry["inputs"][0]["key"]]
    want = tensors[entry["outputs"]["keys"][0]]
    fused = kerastorch.fuse_for_inference(model)
    with torch.no_grad():
        got = fused(x)
    assert_close(got, want, rtol=entry["tolerance"]["rtol"])  # reason: entry["tolerance"]["why"]
    n_bn = lambda m: sum(isinstance(l, L.BatchNormalization) for l in m.modules())
    assert n_bn(fused) < n_bn(model)
    assert not any(isinstance(l, L.Dropout) for l in fused.modules())


def test_sequential_without_input_shape_folds_conv_bn():
    model = Sequential([L.Conv2D(4, 3), L.BatchNormalization(), L.Dropout(0.1)])
    x = torch.randn(2, 7, 7, 3)
    model(x)  # built by a call: no recorded input shape
    fused = _check(model, x)
    assert _classes(fused) == ["Conv2D"]


def test_deepcopy_of_fused_model_is_guarded_and_independent():
    import copy

    model = Sequential([Input((4,)), L.Dense(3), L.BatchNormalization()])
    _randomize_bn(model)
    fused = kerastorch.fuse_for_inference(model)
    twin = copy.deepcopy(fused)
    x = torch.randn(2, 4)
    with torch.no_grad():
        twin.layers[0].kernel.mul_(2.0)
    assert not torch.equal(twin(x), fused(x))  # the copy runs its own weights
    with pytest.raises(ValueError, match="inference-only"):
        twin.train()
