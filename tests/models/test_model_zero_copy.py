"""Whole models keep one memory layout: no layer copies an activation, forward or backward.

A small ResNet-style and a small MobileNetV2-style model, built from kerastorch layers exactly as
``keras.applications`` builds them (same layer kinds, names and wiring, fewer blocks and channels), are profiled
for one forward and one forward+backward, next to the same network written by hand in torch.nn
(``benchmarks/reference_nets.py``, built from the kerastorch model's weights, channels_last). Every copy-like aten
op (``copy_``, ``clone``, ``contiguous``, ``_to_copy``) on more than one element is keyed by its parent op: kerastorch may run none that the
hand-written network does not run (the explicit ZeroPadding2D pads and torch's own convolution-backward internals
appear on both sides). The outputs are checked equal first (float32 "layer" tolerance), so the comparison is
between two implementations of the same computation. A saved-and-reloaded copy of each model is profiled too.
"""
from __future__ import annotations

import math
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch
from torch import nn
from torch._inductor.utils import run_and_get_code
from torch.profiler import ProfilerActivity, profile

from kerastorch import layers as L
from kerastorch.models import Input, Model, load_model, save_model
from kt_testing import assert_close

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import reference_nets as R  # noqa: E402

COPIES = {"aten::copy_", "aten::clone", "aten::contiguous", "aten::_to_copy"}


# ----------------------------------------------------------------------------- the models (keras.applications wiring)
def _resnet_block(x, filters: int, stride: int, name: str, shortcut: bool):
    eps = 1.001e-5
    if shortcut:
        s = L.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(x)
        s = L.BatchNormalization(epsilon=eps, name=name + "_0_bn")(s)
    else:
        s = x
    x = L.Conv2D(filters, 1, strides=stride, name=name + "_1_conv")(x)
    x = L.BatchNormalization(epsilon=eps, name=name + "_1_bn")(x)
    x = L.Activation("relu", name=name + "_1_relu")(x)
    x = L.Conv2D(filters, 3, padding="same", name=name + "_2_conv")(x)
    x = L.BatchNormalization(epsilon=eps, name=name + "_2_bn")(x)
    x = L.Activation("relu", name=name + "_2_relu")(x)
    x = L.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    x = L.BatchNormalization(epsilon=eps, name=name + "_3_bn")(x)
    x = L.Add(name=name + "_add")([s, x])
    return L.Activation("relu", name=name + "_out")(x)


def resnet_style(size: int = 32):
    inp = Input((size, size, 3))
    x = L.ZeroPadding2D(3, name="conv1_pad")(inp)
    x = L.Conv2D(8, 7, strides=2, name="conv1_conv")(x)
    x = L.BatchNormalization(epsilon=1.001e-5, name="conv1_bn")(x)
    x = L.Activation("relu", name="conv1_relu")(x)
    x = L.ZeroPadding2D(1, name="pool1_pad")(x)
    x = L.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = _resnet_block(x, 4, 1, "conv2_block1", True)
    x = _resnet_block(x, 8, 2, "conv3_block1", True)
    x = _resnet_block(x, 8, 1, "conv3_block2", False)
    x = L.GlobalAveragePooling2D(name="avg_pool")(x)
    return Model(inp, L.Dense(10, activation="softmax", name="predictions")(x))


class _TinyResNet(R._Net):
    def __init__(self, w):
        super().__init__()
        self.body = nn.Sequential(
            nn.ZeroPad2d(3), R.conv(w, "conv1_conv", 2), R.bn(w, "conv1_bn", 1.001e-5), nn.ReLU(inplace=True),
            nn.ZeroPad2d(1), nn.MaxPool2d(3, 2),
            R.Bottleneck(w, "conv2_block1", 1, True), R.Bottleneck(w, "conv3_block1", 2, True),
            R.Bottleneck(w, "conv3_block2", 1, False))
        self.head = R.dense(w, "predictions")


def _mobilenet_block(x, expansion: int, filters: int, stride: int, block_id: int):
    channels = x.shape[-1]
    prefix = f"block_{block_id}_" if block_id else "expanded_conv_"
    inputs = x
    if block_id:
        x = L.Conv2D(expansion * channels, 1, use_bias=False, name=prefix + "expand")(x)
        x = L.BatchNormalization(epsilon=1e-3, momentum=0.999, name=prefix + "expand_BN")(x)
        x = L.ReLU(6.0, name=prefix + "expand_relu")(x)
    if stride == 2:
        x = L.ZeroPadding2D(((0, 1), (0, 1)), name=prefix + "pad")(x)
    x = L.DepthwiseConv2D(3, strides=stride, use_bias=False, padding="same" if stride == 1 else "valid",
                          name=prefix + "depthwise")(x)
    x = L.BatchNormalization(epsilon=1e-3, momentum=0.999, name=prefix + "depthwise_BN")(x)
    x = L.ReLU(6.0, name=prefix + "depthwise_relu")(x)
    x = L.Conv2D(filters, 1, use_bias=False, name=prefix + "project")(x)
    x = L.BatchNormalization(epsilon=1e-3, momentum=0.999, name=prefix + "project_BN")(x)
    if channels == filters and stride == 1:
        return L.Add(name=prefix + "add")([inputs, x])
    return x


BLOCKS = [(1, 8, 1), (6, 16, 2), (6, 16, 1)]  # (expansion, filters, stride) of blocks 0, 1, 2


def mobilenet_v2_style(size: int = 32):
    inp = Input((size, size, 3))
    x = L.Conv2D(16, 3, strides=2, padding="same", use_bias=False, name="Conv1")(inp)
    x = L.BatchNormalization(epsilon=1e-3, momentum=0.999, name="bn_Conv1")(x)
    x = L.ReLU(6.0, name="Conv1_relu")(x)
    for i, (e, f, s) in enumerate(BLOCKS):
        x = _mobilenet_block(x, e, f, s, i)
    x = L.Conv2D(32, 1, use_bias=False, name="Conv_1")(x)
    x = L.BatchNormalization(epsilon=1e-3, momentum=0.999, name="Conv_1_bn")(x)
    x = L.ReLU(6.0, name="out_relu")(x)
    x = L.GlobalAveragePooling2D()(x)
    return Model(inp, L.Dense(10, activation="softmax", name="predictions")(x))


class _TinyMobileNetV2(R._Net):
    def __init__(self, w):
        super().__init__()
        layers = [nn.ZeroPad2d((0, 1, 0, 1)), R.conv(w, "Conv1", 2), R.bn(w, "bn_Conv1", 1e-3), nn.ReLU6(inplace=True)]
        channels = 16
        for i, (_, f, s) in enumerate(BLOCKS):
            layers.append(R.InvertedResidual(w, i, s, channels == f and s == 1))
            channels = f
        layers += [R.conv(w, "Conv_1"), R.bn(w, "Conv_1_bn", 1e-3), nn.ReLU6(inplace=True)]
        self.body = nn.Sequential(*layers)
        self.head = R.dense(w, "predictions")


MODELS = {"resnet": (resnet_style, _TinyResNet), "mobilenet_v2": (mobilenet_v2_style, _TinyMobileNetV2)}


# ----------------------------------------------------------------------------- profiling
def _randomize_bn(model):
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, L.BatchNormalization):
                m.moving_mean.copy_(torch.rand(m.moving_mean.shape, generator=g) - 0.5)
                m.moving_variance.copy_(torch.rand(m.moving_variance.shape, generator=g) + 0.5)


def _copies(fn, x0, backward: bool) -> Counter:
    x = x0.clone().requires_grad_(backward)
    fn(x)  # warm: per-shape work done
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        if backward:
            y = fn(x)
            y.backward(torch.ones_like(y))
        else:
            with torch.no_grad():
                fn(x)
    out = Counter()
    for e in prof.events():
        if e.name in COPIES and any(math.prod(s) > 1 for s in e.input_shapes if s):  # not scalars (mean's divisor)
            parent = e.cpu_parent
            while parent is not None and parent.name in COPIES | {"aten::to"}:
                parent = parent.cpu_parent
            out[(e.name, parent.name if parent is not None else None)] += 1
    return out


def _pair(kind: str, tmp_path=None):
    make, hand = MODELS[kind]
    model = make()
    _randomize_bn(model)
    if tmp_path is not None:  # through a .keras file and back
        save_model(model, str(tmp_path / f"{kind}.keras"))
        model = load_model(str(tmp_path / f"{kind}.keras"))
    ref = R.to_channels_last(hand(lambda n: model.get_layer(n).get_weights()))
    return model, ref


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("backward", [False, True], ids=["fwd", "fwd+bwd"])
@pytest.mark.parametrize("kind", list(MODELS))
def test_no_activation_copies_beyond_hand_written_torch(kind, backward, train):
    model, ref = _pair(kind)
    model.train(train)
    ref.train(train)
    x = torch.randn(2, 32, 32, 3)
    if not train:
        with torch.no_grad():
            assert_close(model(x), ref(x))
    ours, theirs = _copies(model, x, backward), _copies(ref, x, backward)
    extra = ours - theirs
    assert not extra, f"kerastorch copies that hand-written torch does not make: {dict(extra)}"
    # and what copies there are: the explicit pads (forward and backward) and torch's conv/linear internals
    allowed = {"aten::constant_pad_nd", "aten::convolution_backward", "aten::addmm", "aten::mm",
               "aten::_softmax_backward_data"}
    assert {p for _, p in ours} <= allowed, dict(ours)


@pytest.mark.parametrize("kind", list(MODELS))
def test_loaded_model_has_no_activation_copies(kind, tmp_path):
    model, ref = _pair(kind, tmp_path)
    model.train()
    ref.train()
    x = torch.randn(2, 32, 32, 3)
    extra = _copies(model, x, True) - _copies(ref, x, True)
    assert not extra, dict(extra)


@pytest.mark.parametrize("kind", list(MODELS))
def test_every_activation_is_a_channels_last_view(kind):
    """Each 4-D activation a layer returns is a contiguous NHWC tensor (the channels_last NCHW view of torch)."""
    model, _ = _pair(kind)
    seen = []

    def hook(mod, args, out):
        if isinstance(out, torch.Tensor) and out.dim() == 4:
            seen.append((mod.name, out.is_contiguous()))

    for layer in model.layers:
        layer.register_forward_hook(hook)
    model(torch.randn(2, 32, 32, 3))
    assert seen and all(ok for _, ok in seen), [n for n, ok in seen if not ok]


@pytest.mark.parametrize("kind", list(MODELS))
def test_loaded_and_fused_models_compile_without_graph_breaks(kind, tmp_path):
    """torch.compile(fullgraph=True) traces a loaded model (train and eval, forward+backward) and its fused copy."""
    import kerastorch

    model, _ = _pair(kind, tmp_path)
    x = torch.randn(2, 32, 32, 3)
    for train in (True, False):
        model.train(train)
        torch._dynamo.reset()
        # a graph break raises here; aot_eager traces the backward too
        compiled = torch.compile(model, fullgraph=True, backend="aot_eager" if train else "eager")
        xc = x.clone().requires_grad_(True)
        xe = x.clone().requires_grad_(True)
        got, want = compiled(xc), model(xe)
        if not train:  # (training: BatchNormalization statistics moved between the two calls)
            assert_close(got, want, kind="graph")
        got.sum().backward()
        want.sum().backward()
        assert xc.grad is not None and torch.isfinite(xc.grad).all()
    fused = kerastorch.fuse_for_inference(model.eval())
    torch._dynamo.reset()
    with torch.no_grad():
        assert_close(torch.compile(fused, fullgraph=True, backend="eager")(x), model(x), kind="graph")


@pytest.mark.slow
def test_inductor_keeps_activations_channels_last() -> None:
    """Compiled with inductor, a MobileNetV2 block and a pooled residual copy no activation.

    - The depthwise kernel reaches the convolution with channels_last strides (with the contiguous
      ``(C*M, 1, kh, kw)`` view, inductor converted every depthwise input to NCHW: one copy per DepthwiseConv2D).
    - A value read by two nodes (``y``: a conv and an Add) is channels-first in the traced graph
      (engine/traced.py): inductor gives every 4-D conv input channels_last strides *for its logical shape*, so
      a Keras-layout (N, H, W, C) value was written transposed (H innermost, a ``transpose_mxn`` store) and
      copied back for the convolution (ResNet50: 19 such pairs per forward, compiled 1.5x the hand-written net).
    The model is compiled fresh, without an eager call first: the trace keeps no per-size state."""
    inp = Input((12, 12, 8))
    x = L.Conv2D(16, 1, use_bias=False)(inp)
    x = L.ReLU(6.0)(L.BatchNormalization()(x))
    x = L.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
    x = L.ReLU(6.0)(L.BatchNormalization()(x))
    x = L.BatchNormalization()(L.Conv2D(8, 1, use_bias=False)(x))
    y = L.ReLU()(L.Add()([inp, x]))  # read by a conv and an Add, as a ResNet block's output
    y = L.Add()([y, L.BatchNormalization()(L.Conv2D(8, 3, padding="same", use_bias=False)(y))])
    model = Model(inp, L.Conv2D(8, 1, use_bias=False)(L.MaxPooling2D(3, strides=2, padding="same")(y))).eval()
    compiled = torch.compile(model, fullgraph=True)
    x_in = torch.randn(1, 12, 12, 8)
    with torch.no_grad():
        _, (code, *_) = run_and_get_code(compiled, x_in)
        compiled(x_in)
        with torch.profiler.profile() as prof:
            out = compiled(x_in)
        copies = [e.name for e in prof.events() if e.name in ("aten::copy_", "aten::clone", "aten::contiguous")]
        assert copies == []
        assert "transpose_mxn" not in code
        assert_close(out, model(x_in), kind="graph")
