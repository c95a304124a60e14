"""Model configs are untrusted input: ``model_from_config`` / ``model_from_json`` refuse what they cannot
build safely with a ValueError (never RecursionError / MemoryError / a raw torch error), resolve classes
only through kerastorch's registry (``custom_objects`` and ``register_torch_layer`` included), never
import a config's ``module`` field, and never decode a ``Lambda``."""
from __future__ import annotations

import json
import sys

import pytest
import torch

from kerastorch.models import model_from_config, model_from_json, register_torch_layer
from kerastorch.engine import serialization


def _seq(*layers: dict, shape: list | None = None) -> dict:
    """A tf.keras Sequential config: an InputLayer of ``shape`` then ``layers``."""
    inp = {"class_name": "InputLayer", "config": {"batch_input_shape": shape or [None, 8], "name": "in"}}
    return {"class_name": "Sequential", "config": {"name": "s", "layers": [inp, *layers]}}


def _functional(*layers: dict, inputs=(("x", 0, 0),), outputs=(("out", 0, 0),)) -> dict:
    return {"class_name": "Functional", "config": {"name": "f", "layers": list(layers),
                                                     "input_layers": [list(i) for i in inputs],
                                                     "output_layers": [list(o) for o in outputs]}}


def _input(name: str = "x", shape: list | None = None) -> dict:
    return {"class_name": "InputLayer", "name": name, "inbound_nodes": [],
            "config": {"batch_input_shape": shape or [None, 4], "dtype": "float32", "name": name}}


def _node(cls: str, name: str, src: str, **config) -> dict:
    return {"class_name": cls, "name": name, "config": {"name": name, **config}, "inbound_nodes": [[[src, 0, 0, {}]]]}


# ------------------------------------------------------------------ depth and size bombs
def test_deep_json_is_refused_before_parsing() -> None:
    text = "[" * 200_000 + "]" * 200_000
    with pytest.raises(ValueError, match="nested too deeply"):
        model_from_json(text)


def test_deep_dict_config_is_refused_without_recursion() -> None:
    root: dict = {}
    cur = root
    for _ in range(100_000):
        cur["config"] = {"class_name": "Sequential"}
        cur = cur["config"]
    with pytest.raises(ValueError, match="nested too deeply"):
        model_from_config({"class_name": "Sequential", "config": root})


def test_deeply_nested_models_are_refused_but_a_reasonable_nesting_builds() -> None:
    def nest(levels: int) -> dict:
        cfg = {"class_name": "Dense", "config": {"name": "leaf", "units": 2}}
        for i in range(levels):
            cfg = {"class_name": "Sequential", "config": {"name": f"s{i}", "layers": [cfg]}}
        return cfg

    model = model_from_config(nest(10))
    assert model(torch.randn(3, 4)).shape == (3, 2)
    with pytest.raises(ValueError, match="nested too deeply"):
        model_from_config(nest(2000))
    with pytest.raises(ValueError, match="nested too deeply"):
        model_from_json(json.dumps(nest(150)))  # ~450 brackets deep


@pytest.mark.parametrize("units", [10**12, 10**30, 1e300])
def test_absurd_sizes_are_refused_before_allocating(units) -> None:
    with pytest.raises(ValueError, match='"big"'):
        model_from_config(_seq({"class_name": "Dense", "config": {"name": "big", "units": units}}))


def test_absurd_input_shape_is_refused_in_a_functional_graph() -> None:
    cfg = _functional(_input(shape=[None, 10**30]), _node("Dense", "out", "x", units=3))
    with pytest.raises(ValueError, match=r'InputLayer "x".*each <= 2147483647'):  # refused where it is declared
        model_from_config(cfg)
    cfg = _functional(_input(shape=[None, 10**6]), _node("Dense", "out", "x", units=10**6))
    with pytest.raises(ValueError, match="refused before allocating"):
        model_from_config(cfg)


def test_total_allocation_is_bounded(monkeypatch) -> None:
    """Many weights each under the per-tensor bound are refused by the total bound."""
    from kerastorch.saving import untrusted

    monkeypatch.setattr(untrusted, "DEFAULT_LIMITS", untrusted.LoadLimits(max_total_elements=10_000))
    layers = [{"class_name": "Dense", "config": {"name": f"d{i}", "units": 64}} for i in range(10)]
    with pytest.raises(ValueError, match="max_total_elements"):
        model_from_config(_seq(*layers, shape=[None, 64]))


# ------------------------------------------------------------------ class resolution
@pytest.fixture
def trap_module(tmp_path, monkeypatch):
    """A module on sys.path that leaves a marker file if anything imports it."""
    marker = tmp_path / "imported"
    (tmp_path / "kt_trap_module.py").write_text(
        f"open({str(marker)!r}, 'w').write('x')\nclass Evil:\n    pass\nclass Dense:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield marker
    sys.modules.pop("kt_trap_module", None)


def test_module_fields_are_never_imported(trap_module) -> None:
    known = {"module": "kt_trap_module", "class_name": "Dense", "config": {"name": "d", "units": 2},
             "registered_name": "kt_trap_module>Dense"}
    model = model_from_config(_seq(known))
    assert type(model.get_layer("d")).__module__.startswith("kerastorch.")
    unknown = {"module": "kt_trap_module", "class_name": "Evil", "config": {"name": "e"},
               "registered_name": "kt_trap_module>Evil"}
    with pytest.raises(ValueError, match="Unknown layer class 'Evil'"):
        model_from_config(_seq(unknown))
    evil_activation = {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": {
        "module": "kt_trap_module", "class_name": "function", "config": "Evil", "registered_name": "function"}}}
    with pytest.raises(ValueError, match="activation"):
        model_from_config(_seq(evil_activation))
    assert not trap_module.exists() and "kt_trap_module" not in sys.modules


@pytest.mark.parametrize("cls", ["__import__", "eval", "os.system", "builtins.exec", "Layer", "Module"])
def test_unknown_class_error_names_class_and_layer(cls: str) -> None:
    with pytest.raises(ValueError) as info:
        model_from_config(_seq({"class_name": cls, "config": {"name": "odd"}}))
    assert repr(cls) in str(info.value) and '"odd"' in str(info.value) and "custom_objects" in str(info.value)


@pytest.mark.parametrize("where", ["sequential", "functional", "nested"])
def test_lambda_is_refused_naming_the_layer(where: str) -> None:
    lam = {"class_name": "Lambda", "config": {"name": "my_lambda", "function": ["4wEAAAAA", None, None],
                                              "function_type": "lambda"}}
    if where == "sequential":
        cfg = _seq(lam)
    elif where == "functional":
        cfg = _functional(_input(), dict(lam, name="my_lambda", inbound_nodes=[[["x", 0, 0, {}]]]),
                          outputs=(("my_lambda", 0, 0),))
    else:
        cfg = _seq({"class_name": "Sequential", "config": {"name": "inner", "layers": [lam]}})
    with pytest.raises(ValueError, match='Layer "my_lambda" is a Lambda layer'):
        model_from_config(cfg)


def test_bad_graphs_are_value_errors() -> None:
    loop = _functional(_input(), _node("Dense", "a", "b", units=4), _node("Dense", "b", "a", units=4),
                       outputs=(("b", 0, 0),))
    with pytest.raises(ValueError, match="loops or disconnected"):
        model_from_config(loop)
    missing = _functional(_input(), _node("Dense", "out", "nowhere", units=2))
    with pytest.raises(ValueError, match="Missing node: nowhere|nowhere"):
        model_from_config(missing)
    with pytest.raises(ValueError, match="config dict"):
        model_from_config(["not", "a", "dict"])
    with pytest.raises(ValueError, match="class_name"):
        model_from_config({"config": {}})
    with pytest.raises(ValueError, match="Invalid model JSON"):
        model_from_json("{not json")


# ------------------------------------------------------------------ custom objects
class MyScale(torch.nn.Module):
    """A user's torch implementation of a custom Keras layer ``MyScale(factor)``."""

    def __init__(self, name: str, factor: float = 1.0, **kwargs):
        super().__init__()
        self.name = name
        self.factor = torch.nn.Parameter(torch.tensor(float(factor)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor

    def compute_output_shape(self, shape):
        return shape


def _custom_model_config(cls_name: str = "MyScale", registered: str | None = None) -> dict:
    node = _node(cls_name, "sc", "x", factor=3.0, trainable=True)
    if registered:
        node["registered_name"] = registered
        node["module"] = "some_user_package"
    return _functional(_input(), node, _node("Dense", "out", "sc", units=2))


def test_custom_objects_supply_a_torch_module() -> None:
    cfg = _custom_model_config()
    with pytest.raises(ValueError, match="Unknown layer class 'MyScale'"):
        model_from_config(cfg)
    model = model_from_config(cfg, custom_objects={"MyScale": MyScale})
    assert list(model.state_dict()) == ["sc.factor", "out.kernel", "out.bias"]
    assert model.get_layer("out").built  # built through the module's compute_output_shape
    x = torch.randn(5, 4)
    out = model.get_layer("out")
    torch.testing.assert_close(model(x), torch.nn.functional.linear(3.0 * x, out.kernel, out.bias))
    weights = model.get_weights()  # the module's parameter in Keras's weight list too, in layer order
    assert [w.shape for w in weights] == [(), (4, 2), (2,)] and float(weights[0]) == 3.0
    model.set_weights([weights[0] * 0 + 5.0, weights[1], weights[2]])
    assert float(model.get_layer("sc").factor.detach()) == 5.0


def test_register_torch_layer_decorator(monkeypatch) -> None:
    monkeypatch.setattr(serialization, "_USER_CLASSES", {})

    @register_torch_layer("my_package>MyScale")
    class Registered(MyScale):
        pass

    model = model_from_config(_custom_model_config(registered="my_package>MyScale"))
    assert isinstance(model.get_layer("sc"), Registered)
    register_torch_layer()(MyScale)  # default: its own class name
    assert isinstance(model_from_config(_custom_model_config()).get_layer("sc"), MyScale)


def test_custom_object_must_build_a_module() -> None:
    with pytest.raises(ValueError, match="torch.nn.Module"):
        model_from_config(_custom_model_config(), custom_objects={"MyScale": lambda **kw: 42})
    with pytest.raises(ValueError, match='"sc"'):
        model_from_config(_custom_model_config(), custom_objects={"MyScale": lambda: None})
