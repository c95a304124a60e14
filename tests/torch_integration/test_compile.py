"""torch.compile of kerastorch layers: one graph, no graph breaks, same outputs and gradients as eager.

Compile time is kept low: tiny shapes, ``backend="eager"`` for graph-break analysis,
``"aot_eager"`` (AOTAutograd, no codegen) for the gradient checks, and inductor once for a model
(forward and backward) and once for a single layer.
"""
from __future__ import annotations

import copy

import pytest
import torch

import kerastorch as kt
from kerastorch.layers import Conv2D
from kt_testing import assert_close

# float32, eager vs compiled (inductor may fuse/reorder): differences are rounding only
TOL = dict(kind="graph")  # whole graphs: see kt_testing


@pytest.fixture(autouse=True)
def _reset_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


class Net(torch.nn.Module):
    """Several Conv2D configurations in one model; ``built=True`` gives every layer its input shape."""

    def __init__(self, built: bool = True):
        super().__init__()

        def shape(s):
            return dict(input_shape=s) if built else {}

        # 'same' with stride 2 on an even size: TF pads (0, 1), asymmetric -> explicit pad
        self.stem = Conv2D(8, 3, strides=2, padding="same", activation="relu",
                           activity_regularizer="l2", kernel_regularizer="l2", **shape((10, 8, 3)))
        self.grouped = Conv2D(8, (3, 2), padding="same", groups=4, activation="tanh", **shape((5, 4, 8)))
        self.dilated = Conv2D(6, 3, padding="same", dilation_rate=2, activation="gelu", **shape((5, 4, 8)))
        self.valid = Conv2D(4, 2, activation="swish", **shape((5, 4, 6)))
        # channels_first, 'same' with an even kernel (asymmetric split too)
        self.cf = Conv2D(5, (2, 2), padding="same", data_format="channels_first",
                         activation="sigmoid", bias_regularizer="l1", **shape((4, 4, 3)))

    def forward(self, x):
        y = self.valid(self.dilated(self.grouped(self.stem(x))))
        return self.cf(y.permute(0, 3, 1, 2))


def _x(batch=2, h=10, w=8):
    return torch.randn(batch, h, w, 3)


def _built_pair():
    """An eager model and an independent copy with the same weights, for the compiled side."""
    eager = Net()
    return eager, copy.deepcopy(eager)


def _loss(model, out):
    return out.square().mean() + kt.regularization_loss(model)


def _run(model, fn, x):
    model.zero_grad(set_to_none=True)
    out = fn(x)
    loss = _loss(model, out)
    loss.backward()
    return out.detach(), loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


def _assert_same_step(eager, compiled_model, compiled_fn, x):
    out_e, loss_e, grads_e = _run(eager, eager, x)
    out_c, loss_c, grads_c = _run(compiled_model, compiled_fn, x)
    assert_close(out_c, out_e, **TOL)
    assert_close(loss_c, loss_e, **TOL)
    assert grads_c.keys() == grads_e.keys()
    for name in grads_e:
        assert_close(grads_c[name], grads_e[name], **TOL, msg=name)
    # the activity loss recorded during the compiled call is the real one, not a tracing artefact
    assert_close(compiled_model.stem.losses[0], eager.stem.losses[0], **TOL)


def test_built_model_has_no_graph_breaks():
    model = Net()
    x = _x()
    explanation = torch._dynamo.explain(model)(x)
    assert explanation.graph_break_count == 0, explanation.break_reasons
    assert explanation.graph_count == 1
    # also at a second spatial shape (a new TF padding split) and under no_grad
    with torch.no_grad():
        explanation = torch._dynamo.explain(model)(_x(3, 11, 9))
    assert explanation.graph_break_count == 0, explanation.break_reasons


def test_fullgraph_aot_eager_outputs_and_gradients_match_eager():
    eager, twin = _built_pair()
    compiled = torch.compile(twin, fullgraph=True, backend="aot_eager")
    _assert_same_step(eager, twin, compiled, _x())
    # a new batch size and spatial shape recompiles (still one full graph) and stays correct
    _assert_same_step(eager, twin, compiled, _x(3, 12, 10))


@pytest.mark.parametrize("dynamic,max_graphs", [(None, 2), (True, 1)], ids=["automatic-dynamic", "dynamic"])
def test_new_batch_sizes_do_not_recompile_per_size(dynamic, max_graphs):
    """Nothing in the layers specializes on the batch size (e.g. a Python cache keyed on it).

    With automatic dynamic shapes (the default) a second batch size gives one dynamic recompile,
    then every later size reuses it; with ``dynamic=True`` there is a single graph.
    """
    graphs = []

    def counting_backend(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    model = Net()
    compiled = torch.compile(model, fullgraph=True, backend=counting_backend, dynamic=dynamic)
    with torch.no_grad():
        for batch in (2, 3, 4, 5, 7):
            x = _x(batch)
            assert_close(compiled(x), model(x), **TOL)
    assert len(graphs) <= max_graphs, f"{len(graphs)} graphs for 5 batch sizes"


def test_fullgraph_inductor_model_matches_eager():
    eager, twin = _built_pair()
    compiled = torch.compile(twin, fullgraph=True)  # inductor
    _assert_same_step(eager, twin, compiled, _x())


def test_fullgraph_inductor_single_layer():
    layer = Conv2D(4, 3, strides=2, padding="same", activation="relu", input_shape=(8, 8, 3))
    compiled = torch.compile(layer, fullgraph=True)
    x = torch.randn(2, 8, 8, 3)
    with torch.no_grad():
        assert_close(compiled(x), layer(x), **TOL)
        assert compiled(x).shape == (2, 4, 4, 4)


def test_single_layer_training_step_compiled_with_constraints():
    layer = Conv2D(4, 3, padding="same", kernel_constraint="max_norm", groups=1, input_shape=(6, 6, 2))
    twin = copy.deepcopy(layer)
    compiled = torch.compile(twin, fullgraph=True, backend="aot_eager")
    x = torch.randn(3, 6, 6, 2) * 10
    for model, fn in ((layer, layer), (twin, compiled)):
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        kt.attach_constraints(opt, model)
        for _ in range(2):
            opt.zero_grad()
            fn(x).square().mean().backward()
            opt.step()
    assert_close(twin.kernel, layer.kernel, **TOL)
    assert_close(twin.bias, layer.bias, **TOL)


def test_compiling_an_unbuilt_model_builds_it_during_tracing():
    """Documented behaviour: compiling a model whose layers are not built yet works.

    Dynamo initializes torch lazy modules itself before tracing their forward (it runs
    ``_infer_parameters`` with fake inputs: only the shape is used, the weights are real tensors),
    so ``fullgraph=True`` sees no graph break, the layers end up built with real weights, and the
    weights are the same as an eager first call would draw under the same seed. Caveat (torch,
    not kerastorch): dynamo restores the global RNG state after tracing, so random draws made
    after the first compiled call repeat those used for the weight initialization of nested
    layers. Building before compiling avoids that.
    """
    x = _x()
    torch.manual_seed(0)
    model = Net(built=False)
    assert not any(m.built for m in model.modules() if isinstance(m, Conv2D))
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    out = compiled(x)
    layers = [m for m in model.modules() if isinstance(m, Conv2D)]
    assert all(layer.built and not layer.has_uninitialized_params() for layer in layers)
    assert all(not isinstance(p, torch._subclasses.FakeTensor) for p in model.parameters())

    torch.manual_seed(0)
    reference = Net(built=False)
    reference(x)
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        assert_close(p, q, rtol=0, atol=0, msg=name)
    assert_close(out, reference(x), **TOL)
    # gradients through the compiled, now-built model match eager
    _assert_same_step(reference, model, compiled, x)
    # and once built, the model compiles to a single graph like any built one
    torch._dynamo.reset()
    explanation = torch._dynamo.explain(model)(x)
    assert explanation.graph_break_count == 0 and explanation.graph_count == 1


def test_compiling_an_unbuilt_single_layer():
    layer = Conv2D(4, 3, padding="same", activity_regularizer="l1")
    compiled = torch.compile(layer, fullgraph=True, backend="aot_eager")
    x = torch.randn(2, 5, 5, 3)
    y = compiled(x)
    assert layer.built and not layer.has_uninitialized_params()
    assert_close(y, layer(x), **TOL)
    assert len(layer.losses) == 1
