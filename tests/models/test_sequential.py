"""Hand-built models with Keras's API (``Sequential([...])``, ``add``, ``Model(inputs, outputs)``) and
``summary()`` against the text real tf.keras 2.21 prints (``compat_fixtures/models/summaries.json``,
recorded by ``gen/models.py:record_summaries``)."""
from __future__ import annotations

import difflib

import pytest
import torch

from kerastorch.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, InputLayer
from kerastorch.models import Functional, Input, Model, Sequential, model_from_config, serialize
from kt_testing import load_json

SUMMARIES = load_json("models/summaries.json")["cases"]


def _recorded(model: str, **kwargs) -> str:
    for case in SUMMARIES:
        if case["model"] == model and case["kwargs"] == kwargs:
            return case["text"]
    raise KeyError((model, kwargs))


def _same_text(got: str, want: str) -> None:
    assert got == want, "\n" + "\n".join(difflib.unified_diff(want.splitlines(), got.splitlines(), "keras", "ours",
                                                               lineterm=""))


# ------------------------------------------------------------------ the same models as gen/models.py, by hand
def seq_mlp() -> Sequential:
    return Sequential([InputLayer(input_shape=(8,), name="x"), Dense(4, activation="relu", name="d1"),
                       Dropout(0.1, name="drop"), Dense(2, name="d2")], name="seq_mlp")


def seq_added() -> Sequential:
    m = Sequential(name="seq_added")
    m.add(Input((6, 6, 2)))
    m.add(Conv2D(3, 3, name="c", trainable=False))
    m.add(BatchNormalization(name="bn"))
    m.add(Flatten(name="f"))
    m.add(Dense(1, name="o"))
    return m


def seq_first() -> Sequential:
    return Sequential([Dense(5, input_shape=(3,), name="d1"), Dense(1, name="d2")], name="seq_first")


def chain() -> Functional:
    x = Input((4,), name="x")
    return Model(x, Dense(2, name="d2")(Dense(3, name="d1")(x)), name="chain")


HAND = {"seq_mlp": seq_mlp, "seq_added": seq_added, "seq_first": seq_first, "chain": chain}
HAND_CASES = [(c["model"], c["kwargs"]) for c in SUMMARIES if c["model"] in HAND]


@pytest.mark.parametrize("name,kwargs", HAND_CASES, ids=[f"{n}-{k}" for n, k in HAND_CASES])
def test_summary_of_hand_built_model_is_keras_text(name: str, kwargs: dict) -> None:
    lines: list[str] = []
    text = HAND[name]().summary(print_fn=lines.append, **kwargs)
    _same_text(text, _recorded(name, **kwargs))
    assert lines == text.split("\n")  # print_fn gets one line per call, as in Keras


@pytest.mark.parametrize("case", SUMMARIES, ids=[f"{c['model']}-{c['kwargs']}" for c in SUMMARIES])
def test_summary_of_model_from_keras_config_is_keras_text(case: dict) -> None:
    """Every recorded model (multi-input, shared layers, nested models, TFOpLambda nodes, expand_nested,
    show_trainable, line_length, positions) rebuilt from tf.keras's ``to_json()`` prints tf.keras's text."""
    model = model_from_config(case["config"])
    _same_text(model.summary(print_fn=lambda s: None, **case["kwargs"]), case["text"])


def test_unbuilt_sequential_summary_is_refused_then_first_call_builds() -> None:
    m = Sequential([Dense(3, name="a"), Dense(2, name="b")])
    with pytest.raises(ValueError, match="not yet been built"):
        m.summary(print_fn=lambda s: None)
    x = torch.randn(4, 5)
    y = m(x)
    assert y.shape == (4, 2)
    assert m.input_shape == (None, 5)
    text = m.summary(print_fn=lambda s: None)
    assert " a (Dense)                   (None, 3)                 18" in text


# ------------------------------------------------------------------ Sequential API
def test_sequential_runs_its_layers_in_order() -> None:
    torch.manual_seed(0)
    m = seq_mlp().eval()
    d1, d2 = m.get_layer("d1"), m.get_layer("d2")
    x = torch.randn(3, 8)
    want = torch.nn.functional.linear(torch.relu(torch.nn.functional.linear(x, d1.kernel, d1.bias)), d2.kernel, d2.bias)
    torch.testing.assert_close(m(x), want)
    assert [l.name for l in m.layers] == ["d1", "drop", "d2"]  # no InputLayer in Sequential.layers (Keras)
    assert m.get_layer(index=2) is d2
    assert m.input_shape == (None, 8)
    assert list(m.state_dict()) == ["d1.kernel", "d1.bias", "d2.kernel", "d2.bias"]


def test_add_pop_and_errors() -> None:
    m = Sequential(name="s")
    m.add(InputLayer(input_shape=(4,), name="inp"))
    m.add(Dense(3, name="h"))
    assert m.get_layer("h").built  # built from the input shape as soon as added
    m.add(Dense(2, name="o"))
    assert m(torch.randn(2, 4)).shape == (2, 2)
    popped = m.pop()
    assert popped.name == "o" and [l.name for l in m.layers] == ["h"]
    assert "o.kernel" not in m.state_dict()
    with pytest.raises(ValueError, match="InputLayer"):
        m.add(InputLayer(input_shape=(4,)))
    with pytest.raises(ValueError, match="Only instances of `keras.Layer`"):
        m.add("dense")
    with pytest.raises(ValueError, match='unique names. Name "h" is already'):
        m.add(Dense(2, name="h"))
    with pytest.raises(ValueError, match="No such layer"):
        m.get_layer("nope")


def test_sequential_input_shape_is_checked_at_call() -> None:
    m = seq_mlp()
    with pytest.raises(ValueError, match="seq_mlp|x|incompatible|expected"):
        m(torch.randn(2, 7))


def test_sequential_config_round_trip_and_state_dict_transfer() -> None:
    for make in (seq_mlp, seq_added, seq_first):
        m = make().eval()
        cfg = serialize(m)
        assert cfg["class_name"] == "Sequential"
        again = model_from_config(cfg).eval()
        assert list(again.state_dict()) == list(m.state_dict())
        again.load_state_dict(m.state_dict())
        x = torch.randn(2, *m.input_shape[1:])
        torch.testing.assert_close(again(x), m(x), rtol=0, atol=0)
        assert again.get_config() == m.get_config()


def test_trainable_false_freezes_every_weight() -> None:
    m = seq_added()
    c = m.get_layer("c")
    assert not c.kernel.requires_grad and m.get_layer("o").kernel.requires_grad
    assert len(m.trainable_weights) == 4  # bn gamma/beta, o kernel/bias
    assert len(m.non_trainable_weights) == 4  # c kernel/bias, bn moving stats
    m.trainable = False
    assert m.trainable_weights == [] and not any(p.requires_grad for p in m.parameters())


# ------------------------------------------------------------------ Model(inputs, outputs)
def test_model_list_io_positional_or_list_call() -> None:
    a, b = Input((3,), name="a"), Input((2,), name="b")
    d = Dense(2, name="d")
    m = Model([a, b], [d(a), b], name="m")
    assert isinstance(m, Functional) and Model is Functional
    xa, xb = torch.randn(5, 3), torch.randn(5, 2)
    out1 = m([xa, xb])
    out2 = m(xa, xb)
    assert isinstance(out1, list) and len(out1) == 2
    torch.testing.assert_close(out1[0], out2[0])
    torch.testing.assert_close(out1[1], xb)
    assert m.input_names == ["a", "b"] and m.output_names == ["d", "b"]
    with pytest.raises(ValueError, match="expects 2 input"):
        m([xa])
    with pytest.raises(ValueError, match="missing"):
        m({"a": xa})


def test_model_single_tensor_in_list_out_structure() -> None:
    x = Input((3,), name="x")
    h = Dense(4, name="h")(x)
    assert isinstance(Model(x, h)(torch.randn(2, 3)), torch.Tensor)
    assert isinstance(Model(x, [h])(torch.randn(2, 3)), list)
    assert list(Model({"x": x}, {"z": h, "a": h})({"x": torch.randn(2, 3)})) == ["z", "a"]  # the dict's own order


def test_sequential_nested_in_functional() -> None:
    inner = Sequential([InputLayer(input_shape=(4,)), Dense(3, name="s1")], name="inner")
    x = Input((4,), name="x")
    m = Model(x, Dense(1, name="head")(inner(x)))
    assert list(m.state_dict()) == ["inner.s1.kernel", "inner.s1.bias", "head.kernel", "head.bias"]
    t = torch.randn(2, 4)
    torch.testing.assert_close(m(t), m.get_layer("head")(inner(t)))


def test_wrong_wiring_fails_at_construction_with_the_layer_message() -> None:
    x = Input((8, 8, 3), name="img")
    with pytest.raises(ValueError, match="conv|ndim|rank"):
        Conv2D(2, 3, name="conv")(Dense(2)(Flatten()(x)))


def test_duplicate_layer_names_in_a_functional_model_are_refused() -> None:
    x = Input((3,), name="x")
    with pytest.raises(ValueError, match='The name "d" is used 2 times in the model. All layer names should be unique.'):
        Model(x, Dense(2, name="d")(Dense(2, name="d")(x)))


def test_layer_names_that_clash_with_module_attributes_or_contain_dots() -> None:
    x = Input((3,), name="training")
    h = Dense(2, name="forward")(x)
    h = Dense(2, name="layers")(h)
    m = Model(x, Dense(2, name="a.b")(h))
    assert list(m.state_dict()) == ["forward_.kernel", "forward_.bias", "layers_.kernel", "layers_.bias",
                                    "a__b.kernel", "a__b.bias"]
    assert [l.name for l in m.layers] == ["training", "forward", "layers", "a.b"]
    again = model_from_config({"class_name": "Functional", "config": m.get_config()})
    again.load_state_dict(m.state_dict())
    t = torch.randn(2, 3)
    torch.testing.assert_close(again(t), m(t))
