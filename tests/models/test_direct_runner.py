"""The direct runner (``engine/direct.py``): after a checked pass, a Functional model calls each layer's compute
directly, keeps activations as channels-first views between conv/BN/pooling/elementwise layers, and runs ReLU/ReLU6/
swish in place on tensors it owns. Everything it does must give the checked loop's values and gradients exactly,
and fall back to the checked call wherever its recorded facts no longer hold (hooks, moved or shared layers)."""
from __future__ import annotations

import contextlib
import copy
import sys
from pathlib import Path

import pytest
import torch
from torch.profiler import profile

from kerastorch import layers as L
from kerastorch.models import Input, Model, Sequential
from kt_testing import DEVICE, assert_close

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_model_zero_copy import mobilenet_v2_style, resnet_style  # noqa: E402


def efficientnet_style(size: int = 16) -> Model:
    """EfficientNet's block wiring: swish, depthwise, squeeze-and-excitation (GAP, Reshape, Multiply), the
    per-sample Dropout before the residual Add."""
    inp = Input((size, size, 3))
    x = L.Rescaling(1.0 / 255.0)(inp)
    x = L.ZeroPadding2D(((0, 1), (0, 1)))(x)
    x = L.Conv2D(8, 3, strides=2, use_bias=False)(x)
    x = L.BatchNormalization()(x)
    x = L.Activation("swish")(x)
    shortcut = x
    y = L.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
    y = L.BatchNormalization()(y)
    y = L.Activation("swish")(y)
    se = L.GlobalAveragePooling2D()(y)
    se = L.Reshape((1, 1, 8))(se)
    se = L.Conv2D(2, 1, activation="swish")(se)
    se = L.Conv2D(8, 1, activation="sigmoid")(se)
    y = L.Multiply()([y, se])
    y = L.Conv2D(8, 1, use_bias=False)(y)
    y = L.BatchNormalization()(y)
    y = L.Dropout(0.3, noise_shape=(None, 1, 1, 1))(y)
    x = L.Add()([y, shortcut])
    x = L.MaxPooling2D(2, padding="same")(x)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dropout(0.2)(x)
    return Model(inp, L.Dense(5, activation="softmax")(x))


def sequential_cnn(size: int = 16) -> Sequential:
    return Sequential([
        Input((size, size, 3)), L.Conv2D(8, 3, strides=2, padding="same"), L.BatchNormalization(), L.ReLU(),
        L.MaxPooling2D(2), L.DepthwiseConv2D(3, padding="same"), L.BatchNormalization(), L.Activation("relu"),
        L.GlobalAveragePooling2D(), L.Dense(4),
    ])


BUILDERS = {"resnet": resnet_style, "mobilenet_v2": mobilenet_v2_style, "efficientnet": efficientnet_style,
            "sequential": sequential_cnn}


def _randomize_bn(model: Model) -> Model:
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, L.BatchNormalization):
                m.moving_mean.copy_(torch.rand(m.moving_mean.shape, generator=g) - 0.5)
                m.moving_variance.copy_(torch.rand(m.moving_variance.shape, generator=g) + 0.5)
    return model.to(DEVICE)


def _checked(model: Model, x: torch.Tensor) -> torch.Tensor:
    model.__dict__["_direct"] = model.__dict__["_direct_masked"] = None  # no plan: every layer through its checks
    return model(x)


def _activation_permutes(prof) -> list:
    """Input shapes of the permutes of 4-D tensors with the test's batch size 5 (no layer has 5 filters, so the
    per-call weight views are told apart)."""
    return [e.input_shapes[0] for e in prof.events() if e.name == "aten::permute" and e.input_shapes
            and len(e.input_shapes[0]) == 4 and e.input_shapes[0][0] == 5]


def _train_steps(model: Model, x: torch.Tensor, checked: bool) -> tuple[list, list, list]:
    outs, grads, permutes = [], [], []
    for seed in (1, 2):
        torch.manual_seed(seed)
        watch = not checked and seed == 2
        with profile(record_shapes=True) if watch else contextlib.nullcontext() as prof:
            y = _checked(model, x) if checked else model(x)
            (y * torch.arange(y.shape[-1], device=y.device)).sum().backward()
        if watch:
            permutes.append(_activation_permutes(prof))
        outs.append(y.detach())
        grads.append([p.grad.clone() for p in model.parameters()])
        model.zero_grad()
    return outs, grads, permutes


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_direct_runs_equal_checked_runs(name):
    """Eval outputs, train-mode outputs, gradients and BatchNormalization statistics: the direct runner (second
    call on) against the checked loop on a copy. The direct runs permute only the model input (to the
    channels-first view the first convolution or padding reads): no activation between two layers, forward or
    backward."""
    direct = _randomize_bn(BUILDERS[name](16))
    checked = copy.deepcopy(direct)
    x = torch.rand(5, 16, 16, 3, device=DEVICE) * 255
    direct.eval(), checked.eval()
    with torch.no_grad():
        first = direct(x)
        with profile(record_shapes=True) as prof:
            second = direct(x)
        assert direct.__dict__["_direct"] is not None
        assert _activation_permutes(prof) == [[5, 16, 16, 3]]
        assert_close(second, _checked(checked, x))
        assert_close(first, second)
    direct.train(), checked.train()
    (d_out, d_grads, d_perm), (c_out, c_grads, _) = _train_steps(direct, x, False), _train_steps(checked, x, True)
    assert d_perm == [[[5, 16, 16, 3]]]
    for a, b in zip(d_out, c_out):
        assert_close(a, b)
    for ga, gb in zip(d_grads, c_grads):
        for a, b in zip(ga, gb):
            assert_close(a, b)
    for a, b in zip(direct.buffers(), checked.buffers()):
        assert_close(a, b)


def test_in_place_only_on_values_nobody_else_reads():
    """A ReLU whose input the model also returns (or another layer reads) must not overwrite it."""
    inp = Input((8, 8, 3))
    bn = L.BatchNormalization()(L.Conv2D(4, 3, padding="same")(inp))
    relu = L.ReLU(6.0)(bn)
    other = L.Activation("relu")(L.Conv2D(4, 1)(inp))
    summed = L.Add()([other, L.Conv2D(4, 1)(other)])
    model = _randomize_bn(Model(inp, [bn, relu, L.Activation("swish")(summed)])).eval()
    reference = copy.deepcopy(model)
    x = torch.randn(2, 8, 8, 3, device=DEVICE)
    with torch.no_grad():
        model(x)
        for a, b in zip(model(x), _checked(reference, x)):
            assert_close(a, b)


def test_falls_back_on_hooks_moves_and_shared_layers():
    """A hook registered after recording runs; a model moved to float64 after recording computes in float64;
    a layer shared between inputs of two sizes gives each its own padding plan."""
    conv = L.Conv2D(4, 3, strides=2, padding="same")
    a, b = Input((9, 9, 3)), Input((8, 8, 3))
    out = L.Add()([L.GlobalAveragePooling2D()(L.ReLU()(conv(a))), L.GlobalAveragePooling2D()(conv(b))])
    model = Model([a, b], out).to(DEVICE)
    reference = copy.deepcopy(model)
    xs = [torch.randn(2, 9, 9, 3, device=DEVICE), torch.randn(2, 8, 8, 3, device=DEVICE)]
    for _ in range(3):
        assert_close(model(xs), _checked(reference, xs))
    seen = []
    model.get_layer(conv.name).register_forward_hook(lambda m, i, o: seen.append(o.shape))
    model(xs), model(xs)
    assert len(seen) == 4
    model.double()
    y = model([t.double() for t in xs])
    assert y.dtype == torch.float64
    assert_close(y, _checked(reference.double(), [t.double() for t in xs]))


def test_node_training_argument_runs_direct():
    """A node's own ``training=`` (a file's call argument, e.g. Keras 3's EfficientNet Dropouts) is kept by the
    direct runner as by the checked loop: it wins over the mode, an explicit model ``training=`` wins over it."""
    inp = Input((6, 6, 3))
    x = L.BatchNormalization()(L.Conv2D(4, 3, padding="same")(inp), training=False)
    x = L.Dropout(0.5, noise_shape=(None, 1, 1, 1))(x, training=True)
    x = L.Dropout(0.5)(L.ReLU()(x), training=False)
    model = _randomize_bn(Model(inp, L.GlobalAveragePooling2D()(x)))
    reference = copy.deepcopy(model)
    xs = torch.rand(8, 6, 6, 3, device=DEVICE)
    for mode, training in (("eval", None), ("train", None), ("eval", True), ("train", False)):
        model.train(mode == "train"), reference.train(mode == "train")
        outs = []
        for m in (model, reference):
            for seed in (2, 3):  # the model's first call records its plan, the second runs it
                torch.manual_seed(seed)
                y = m(xs, training=training) if m is model else _checked(m, xs) if training is None else (
                    m.__dict__.__setitem__("_direct", None) or m(xs, training=training))
            outs.append(y)
        assert all(d.kind != 2 for d in model.__dict__["_direct"].steps)  # no node left to the checked loop
        assert_close(outs[0], outs[1])
        for a, b in zip(model.buffers(), reference.buffers()):  # BN: inference unless training=True is given
            assert_close(a, b)


def _conv_zoo() -> Model:
    inp = Input((8, 8, 3))
    x = L.Conv2D(4, 3, padding="same")(inp)
    x = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(x)
    x = L.SeparableConv2D(5, 3, padding="same")(x)
    x = L.Conv2DTranspose(3, 3, strides=2, padding="same")(x)
    return Model(inp, x).to(DEVICE)


def _weight_views(prof) -> int:
    """Permutes/reshapes/movedims other than of the batch-5 model input or its activations."""
    return sum(1 for e in prof.events() if e.name in ("aten::permute", "aten::reshape", "aten::movedim")
               and e.input_shapes and e.input_shapes[0] and e.input_shapes[0][0] != 5)


def test_kernel_views_made_once_without_autograd():
    """Without autograd a convolution's torch-layout kernel view is made once and kept while the stored Parameter
    is the same on the same memory: in-place updates (an optimizer step, load_state_dict) show through it;
    ``param.data = ...``, ``.to()`` and a parametrization give a new view; with autograd a view is made per call
    (gradients reach the stored kernels)."""
    model = _conv_zoo()
    x = torch.randn(5, 8, 8, 3, device=DEVICE)

    def fresh(m: Model) -> torch.Tensor:  # a copy's checked loop: new Parameters, views made anew
        return _checked(copy.deepcopy(m), x)

    with torch.no_grad():
        model(x), model(x)
        with profile(record_shapes=True) as prof:
            model(x)
        assert _weight_views(prof) == 0
        conv = model.layers[1]
        conv.kernel.mul_(-2.0)  # in place (an optimizer step)
        assert_close(model(x), fresh(model))
        model.load_state_dict({k: v * 0.5 for k, v in model.state_dict().items()})
        assert_close(model(x), fresh(model))
        conv.kernel.data = conv.kernel.data.clone() + 1.0  # new memory, same Parameter
        assert_close(model(x), fresh(model))
    torch.nn.utils.parametrize.register_parametrization(conv, "kernel", _Double())
    with torch.no_grad():
        expected = fresh(model)
        assert_close(model(x), expected)
    torch.nn.utils.parametrize.remove_parametrizations(conv, "kernel", leave_parametrized=True)
    model.double()
    with torch.no_grad():
        assert_close(model(x.double()), _checked(copy.deepcopy(model), x.double()))
    model.float()
    y = model(x)  # autograd on: gradients reach every stored kernel
    y.square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for n, p in model.named_parameters() if "kernel" in n)


class _Double(torch.nn.Module):
    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return w * 2.0


def _text_models() -> dict:
    """Masked sequence models: Embedding(mask_zero) into recurrent layers (Functional, with a masked second
    output; Sequential), Masking (its compute_mask reads the input), a nested Sequential (its masks computed
    jointly, through the checked step)."""
    inp = Input((7,), dtype="int64")
    seq = L.LSTM(5, return_sequences=True)(L.Embedding(30, 6, mask_zero=True)(inp))
    seq = L.Dropout(0.4)(L.Dense(5, activation="relu")(seq))
    functional = Model(inp, [L.Dense(3)(L.GlobalAveragePooling1D()(seq)), L.Dense(2)(seq)])
    sequential = Sequential([Input((7, 3)), L.Masking(0.0), L.GRU(4, return_sequences=True), L.Dense(4),
                             L.GlobalAveragePooling1D()])
    inner = Sequential([Input((7, 6)), L.SimpleRNN(4, return_sequences=True), L.Dense(4)])
    inp = Input((7,), dtype="int64")
    nested = Model(inp, L.GlobalAveragePooling1D()(inner(L.Embedding(30, 6, mask_zero=True)(inp))))
    return {"functional": functional, "sequential": sequential, "nested": nested}


@pytest.mark.parametrize("name", ["functional", "sequential", "nested"])
def test_masked_models_run_direct_equal_checked(name):
    """A masked model records its plan as an unmasked one does: the second call runs each node's ``call`` with
    its mask and ``compute_mask`` directly. Outputs, output masks, gradients (train mode, Dropout's draws
    included) equal the checked loop's on a copy."""
    model = _text_models()[name].to(DEVICE)
    reference = copy.deepcopy(model)
    if name == "sequential":
        x = torch.randn(4, 7, 3, device=DEVICE)
        x[:, 5:] = 0.0
        x[1, 2:] = 0.0
    else:
        x = torch.randint(1, 30, (4, 7), device=DEVICE)
        x[:, 5:] = 0
        x[1, 2:] = 0
    with torch.no_grad():
        model.eval(), reference.eval()
        model(x)
        out, masks = model.run_with_masks(x)
        plan = model.__dict__["_direct_masked"]
        steps = (plan[1] if isinstance(plan, tuple) else plan).steps
        assert all(d.kind != 2 for d in steps) == (name != "nested")  # a nested model: its joint, checked step
        reference.__dict__["_direct_masked"] = None
        ref_out, ref_masks = reference.run_with_masks(x)
        for a, b in zip(*(o if isinstance(o, list) else [o] for o in (out, ref_out))):
            assert_close(a, b)
        assert type(masks) is type(ref_masks)
        for a, b in zip(*(m if isinstance(m, list) else [m] for m in (masks, ref_masks))):
            assert (a is None and b is None) or torch.equal(a, b)
    model.train(), reference.train()
    for m in (model, reference):
        for seed in (1, 2):  # the model's first call records, the second runs the plan
            torch.manual_seed(seed)
            y = m(x) if m is model else _checked(m, x)
        loss = sum((t * torch.arange(t.shape[-1], device=t.device)).sum() for t in (y if isinstance(y, list) else [y]))
        loss.backward()
    for (n, a), b in zip(model.named_parameters(), reference.parameters()):
        assert_close(a.grad, b.grad, msg=n)
