"""tf-keras's merging tests (tf_keras/layers/merging/merging_test.py) ported to kerastorch, for the behaviours the
recorded fixtures do not cover: scalar inputs, single-element lists, partial (None) shapes, Dot's
compute_output_shape, the list-input errors; plus TF's gradient convention at ties (Maximum/Minimum), the
layouts of the gradients (Dot) and Concatenate's forward writing nothing but its output.

Expected values are tf-keras's own test expectations (numpy formulas of the inputs)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.profiler import ProfilerActivity, profile

import kerastorch.layers as L

ELEMENTWISE = [L.Add, L.Subtract, L.Multiply, L.Minimum, L.Maximum, L.Average]


def _r(*shape: int) -> torch.Tensor:
    return torch.rand(*shape, dtype=torch.float64)


def test_add_three_inputs():
    x1, x2, x3 = _r(2, 4, 5), _r(2, 4, 5), _r(2, 4, 5)
    layer = L.Add()
    assert layer.compute_output_shape([(None, 4, 5)] * 3) == (None, 4, 5)
    torch.testing.assert_close(layer([x1, x2, x3]), x1 + x2 + x3)


def test_subtract_needs_exactly_two_inputs():
    x = _r(2, 4, 5)
    torch.testing.assert_close(L.Subtract()([x, 2 * x]), -x)
    for inputs in ([x, x, x], [x]):
        with pytest.raises(ValueError, match="layer should be called on exactly 2 inputs"):
            L.Subtract()(inputs)


@pytest.mark.parametrize("cls, fn", [(L.Multiply, lambda a, b: a * b), (L.Average, lambda a, b: 0.5 * (a + b)),
                                     (L.Maximum, np.maximum), (L.Minimum, np.minimum)])
def test_two_inputs_formulas(cls, fn):
    x1, x2 = _r(2, 4, 5), _r(2, 4, 5)
    out = cls()([x1, x2])
    assert out.shape == (2, 4, 5)
    np.testing.assert_allclose(out.numpy(), fn(x1.numpy(), x2.numpy()), rtol=1e-12)


@pytest.mark.parametrize("cls", ELEMENTWISE)
def test_merging_with_scalar_input(cls):
    out = cls()([torch.tensor(1.0), torch.tensor(2.0)])
    assert out.shape == ()


@pytest.mark.parametrize("cls", [L.Add, L.Average, L.Concatenate, L.Maximum, L.Minimum, L.Multiply])
def test_single_element(cls):
    x = _r(2, 4, 5)
    layer = cls()
    assert layer.compute_output_shape([(None, 4, 5)]) == (None, 4, 5)
    torch.testing.assert_close(layer([x]), x)
    with pytest.raises(ValueError, match="called on a list"):
        cls()(x)


def test_concatenate_axis1_and_unit_length():
    x1, x2 = _r(2, 4, 5), _r(2, 4, 5)
    layer = L.Concatenate(axis=1)
    assert layer.compute_output_shape([(None, 4, 5), (None, 4, 5)]) == (None, 8, 5)
    torch.testing.assert_close(layer([x1, x2]), torch.cat([x1, x2], 1))
    assert layer.compute_output_shape([(None, 4, 5)]) == (None, 4, 5)


def test_concatenate_errors():
    with pytest.raises(ValueError, match="inputs with matching shapes"):
        L.Concatenate(axis=-1).build([(None, 4, 5), (None, 3, 5)])
    with pytest.raises(ValueError, match="called on a list"):
        L.Concatenate(axis=-1)(_r(2, 4, 5))


def test_concatenate_with_partial_shape():
    i1, i2, i3, i4, i5 = (32, 5), (None, 5), (32, 4, 5), (64, None), (None, 7)
    L.Concatenate(axis=-1).build([i1, i2])  # i2 has a dynamic batch size
    with pytest.raises(ValueError, match="inputs with matching shapes"):
        L.Concatenate(axis=-1).build([i1, i3])  # different rank
    for shapes, axis in (([i1, i4], 0), ([i2, i4], 0), ([i2, i4], 1), ([i1, i2, i4], 0), ([i1, i5], 1)):
        L.Concatenate(axis=axis).build(shapes)
    for shapes in ([i1, i4], [i1, i2, i4]):  # mismatch in the batch dimension
        with pytest.raises(ValueError, match="inputs with matching shapes"):
            L.Concatenate(axis=-1).build(shapes)
    assert L.Concatenate(axis=1).compute_output_shape([(2, 1), (2, 2)]) == (2, 3)
    assert L.Concatenate(axis=1).compute_output_shape([(None, 1), (None, 2)]) == (None, 3)


def test_dot():
    x1, x2 = _r(2, 4), _r(2, 4)
    expected = (x1 * x2).sum(1, keepdim=True)
    for axes in (1, (-1, -1)):
        layer = L.Dot(axes=axes)
        assert layer.compute_output_shape([(None, 4), (None, 4)]) == (None, 1)
        torch.testing.assert_close(layer([x1, x2]), expected)
    assert L.Dot(axes=-1).compute_output_shape([(4, 5), (4, 5)]) == (4, 1)
    assert L.Dot(axes=1).get_config()["axes"] == 1


def test_dot_errors():
    i1, i2, i3 = _r(2, 4, 5), _r(2, 4, 6), _r(2, 4, 6)
    for call in (lambda: L.Dot(axes=-1)([i1, i2]), lambda: L.Dot(axes=-1)(i1), lambda: L.Dot(axes=-1)([i1]),
                 lambda: L.Dot(axes=-1)([i1, i2, i3]), lambda: L.Dot(1).compute_output_shape(1)):
        with pytest.raises(ValueError, match='Dot layer "dot'):
            call()


def test_add_elementwise_errors_and_dynamic_shape():
    with pytest.raises(ValueError, match="incompatible shapes"):
        L.Add().build([(None, 4, 5), (None, 4, 6)])
    with pytest.raises(ValueError, match="called on a list"):
        L.Add()(_r(2, 4, 5))
    assert L.Add().compute_output_shape([(4, None), (4, 5)]) == (4, None)
    layer = L.Add()
    layer.build([(4, None), (4, 5)])
    assert layer([_r(4, 5), _r(4, 5)]).shape == (4, 5)


def test_later_call_with_other_shapes_is_a_keras_error():
    """tf.keras checks shapes at build only; kerastorch checks every new input shape (never a torch error)."""
    layer = L.Add()
    layer([_r(2, 3), _r(2, 3)])
    with pytest.raises(ValueError, match='Add layer "add.*incompatible shapes'):
        layer([_r(2, 3), _r(2, 4)])


@pytest.mark.parametrize("cls, to_first", [(L.Maximum, lambda x, y: x >= y), (L.Minimum, lambda x, y: x <= y)])
def test_tie_gradient_goes_to_the_earlier_input(cls, to_first):
    """TF: ``tf.maximum(x, y)``'s gradient goes to ``x`` where ``x >= y`` (``tf.minimum``: ``x <= y``), so a tie
    gives all of it to the first input (torch.maximum would split it in halves). The recorded fixtures include
    ties (test_merging_parity.py); this pins the rule on a broadcast case."""
    x = torch.tensor([[1.0, 2.0, 3.0], [0.0, 5.0, -1.0]], requires_grad=True)
    y = torch.tensor([[1.0], [5.0]], requires_grad=True)
    out = cls()([x, y])
    g = torch.arange(1.0, 7.0).reshape(2, 3)
    out.backward(g)
    mask = to_first(x.detach(), y.detach())
    torch.testing.assert_close(x.grad, torch.where(mask, g, 0.0))
    torch.testing.assert_close(y.grad, torch.where(mask, 0.0, g).sum(1, keepdim=True))
    assert x.grad[0, 0] == 1.0 and x.grad[1, 1] == 5.0  # the ties
    # NaN propagates forward as in TF
    assert torch.isnan(cls()([torch.tensor([float("nan")]), torch.tensor([1.0])])).all()


def test_maximum_gradcheck_without_ties():
    x = torch.rand(2, 3, dtype=torch.float64, requires_grad=True)
    y = (torch.rand(2, 3, dtype=torch.float64) + 2 * (torch.rand(2, 3) > 0.5)).requires_grad_()
    torch.autograd.gradcheck(lambda a, b: L.Maximum()([a, b]), (x, y))
    torch.autograd.gradgradcheck(lambda a, b: L.Minimum()([a, b]), (x, y))


@pytest.mark.parametrize("axes, shapes, views", [((2, 2), [(2, 3, 4), (2, 5, 4)], True),
                                                 ((1, 2), [(2, 4, 3), (2, 5, 4)], True),
                                                 ((1, 1), [(2, 4, 3), (2, 4, 5)], True),
                                                 (2, [(2, 2, 3, 4), (2, 2, 3, 5)], False)])
def test_dot_gradients_keep_the_input_layout(axes, shapes, views):
    """Where the contracted axes let ``bmm`` read the inputs as views, the input gradients come back contiguous
    (a middle axis of a rank-4 input needs a copy forward, as in hand-written torch: no layout claim there)."""
    xs = [torch.randn(s, dtype=torch.float64, requires_grad=True) for s in shapes]
    out = L.Dot(axes=axes)(xs)
    grads = torch.autograd.grad(out, xs, torch.randn_like(out))
    if views:
        assert all(g.is_contiguous() for g in grads)
    torch.autograd.gradcheck(lambda a, b: L.Dot(axes=axes)([a, b]), tuple(xs))
    torch.autograd.gradgradcheck(lambda a, b: L.Dot(axes=axes, normalize=True)([a, b]), tuple(xs))


def test_average_of_integers_is_tf_true_division():
    a, b = torch.arange(6, dtype=torch.int32).reshape(2, 3), torch.ones(2, 3, dtype=torch.int32)
    out = L.Average()([a, b])  # tf.keras: float64 [[0.5, 1.0, 1.5], [2.0, 2.5, 3.0]]
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, torch.tensor([[0.5, 1.0, 1.5], [2.0, 2.5, 3.0]], dtype=torch.float64))
    assert L.Dot(axes=1)([a, b]).tolist() == [[3], [12]]  # tf.keras: int32 [[3], [12]]
    with pytest.raises(ValueError, match='dot.*floating-point'):
        L.Dot(axes=1, normalize=True)([a, b])  # tf.keras fails in l2_normalize


def test_concatenate_forward_writes_only_its_output():
    """Channels_last activations concatenate on the channels axis with one torch.cat (no other copies)."""
    xs = [torch.randn(2, 6, 6, c).contiguous(memory_format=torch.contiguous_format) for c in (3, 5)]
    layer = L.Concatenate()
    layer(xs)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        y = layer(xs)
    names = [e.name for e in prof.events()]
    assert "aten::cat" in names
    assert not {"aten::copy_", "aten::contiguous", "aten::clone"} & set(names)
    assert y.is_contiguous()
