"""Initializers, regularizers, constraints and activations against outputs recorded from tf.keras 2.21."""
from __future__ import annotations

import math

import pytest
import torch

from kerastorch import activations, constraints, initializers, regularizers
from kt_testing import assert_close, jsonable, load_json, load_tensors

ACT = load_json("activations.json")
REG = load_json("regularizers.json")
CON = load_json("constraints.json")
INIT = load_json("initializers.json")
TENSORS = load_tensors("components.safetensors")
ACT_TENSORS = load_tensors("activations.safetensors")

# Activation layer classes that tf.keras's activations.get also returns (as layer instances).
_LAYER_ACTIVATIONS = {"ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax", "ThresholdedReLU"}
_NOT_ACTIVATIONS = {"serialize", "deserialize", "get"}  # module functions tf.keras's lookup also finds
FUNCTION_ACTIVATIONS = sorted(set(ACT["tf_keras_accepted"]) - _LAYER_ACTIVATIONS - _NOT_ACTIVATIONS)


def _build(module, entry):
    """The identifier exactly as tf.keras was given it: string, dict or the same constructor call."""
    ident = entry["identifier"]
    if entry["kind"] == "obj":
        return eval(ident["constructor"], vars(module))  # e.g. "L1(0.3)" in kerastorch.regularizers
    return module.get(ident)


# ---------------- activations ----------------
@pytest.mark.parametrize("name", FUNCTION_ACTIVATIONS)
def test_activation_values_and_gradients(name):
    fn = activations.get(name)
    x = ACT_TENSORS["input"].clone().requires_grad_(True)
    y = fn(x)
    assert_close(y, ACT_TENSORS[f"{name}.output"], msg=name)
    (y * ACT_TENSORS["upstream"]).sum().backward()
    assert_close(x.grad, ACT_TENSORS[f"{name}.grad"], msg=f"{name} grad")


@pytest.mark.parametrize("name", FUNCTION_ACTIVATIONS)
def test_activation_serialize(name):
    assert activations.serialize(activations.get(name)) == ACT["activations"][name]["serialized"]


@pytest.mark.parametrize("name", sorted(_LAYER_ACTIVATIONS - {"PReLU"}))
def test_activation_layer_identifiers(name):
    # tf.keras's activations.get('LeakyReLU') returns a layer; its config is what layer configs hold.
    fn = activations.get(name)
    rec = ACT["activations"][name]
    assert activations.serialize(fn) == rec["serialized"]  # recorded before any call (no build_config yet)
    x = ACT_TENSORS["input"].clone().requires_grad_(True)
    y = fn(x)
    assert_close(y, ACT_TENSORS[rec["output_key"]], msg=name)
    (y * ACT_TENSORS["upstream"]).sum().backward()
    assert_close(x.grad, ACT_TENSORS[rec["grad_key"]], msg=f"{name} grad")
    again = activations.get(rec["serialized"])
    assert again.get_config() == rec["layer_config"]


def test_prelu_activation_is_refused():
    with pytest.raises(ValueError, match="PReLU has trainable weights"):
        activations.get("PReLU")


def test_activation_none_is_linear():
    assert activations.get(None) is activations.linear
    assert activations.serialize(activations.get(None)) == ACT["get_None"]["serialized"]


def test_hard_sigmoid_follows_tf_keras_not_keras3():
    x = ACT_TENSORS["input"]
    ours = activations.hard_sigmoid(x)
    assert_close(ours, ACT_TENSORS["hard_sigmoid.output"])
    assert (ours - ACT_TENSORS["hard_sigmoid.keras3_output"]).abs().max() > 0.05


@pytest.mark.parametrize("name", sorted(ACT["tf_keras_rejected"]))
def test_activation_rejected_names(name):
    with pytest.raises(ValueError, match="Unknown activation function"):
        activations.get(name)


def test_activation_callable_passthrough_and_bad_type():
    fn = lambda t: t * 2  # noqa: E731
    assert activations.get(fn) is fn
    with pytest.raises(ValueError, match="Could not interpret activation"):
        activations.get(3)


# ---------------- regularizers ----------------
def _reg_entries():
    return [e for e in REG["entries"] if "config" in e["tf_keras"]]


@pytest.mark.parametrize("entry", _reg_entries(), ids=lambda e: e["id"])
def test_regularizer_config_and_values(entry):
    reg = _build(regularizers, entry)
    keras = entry["tf_keras"]
    assert type(reg).__name__ == keras["class"]
    assert jsonable(reg.get_config()) == keras["config"]
    assert jsonable(regularizers.serialize(reg)) == keras["serialized"]
    for tag, rec in keras["values"].items():
        x = TENSORS[REG["input_keys"][tag]]
        if "error" in rec:
            with pytest.raises(ValueError, match="must have rank 2"):
                reg(x)
        else:
            assert_close(reg(x), torch.tensor(rec["value"], dtype=torch.float32), msg=f"{entry['id']} {tag}")


@pytest.mark.parametrize("entry", _reg_entries(), ids=lambda e: e["id"])
def test_regularizer_roundtrips_through_both_serialized_forms(entry):
    reg = _build(regularizers, entry)
    for form in ("serialized", "serialized_legacy"):
        again = regularizers.get(entry["tf_keras"][form])
        assert jsonable(again.get_config()) == entry["tf_keras"]["config"]
        assert type(again) is type(reg) and again.get_config() == reg.get_config()
    again = regularizers.get(regularizers.serialize(reg))  # and through our own serialized form
    assert type(again) is type(reg) and again.get_config() == reg.get_config()


def test_unknown_regularizer_string_is_a_value_error():
    # tf.keras returns the bare string here and fails later with "'str' object is not callable"
    # (recorded in regularizers.json as entry 'l1l2'); we fail at construction instead.
    rec = next(e for e in REG["entries"] if e["id"] == "l1l2")
    assert "not callable" in rec["tf_keras"]["values"]["4"]["error"]
    with pytest.raises(ValueError, match="Unknown regularizer: 'l1l2'"):
        regularizers.get("l1l2")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "0.1"])
def test_regularizer_bad_penalty(bad):
    with pytest.raises(ValueError, match="not a valid regularization penalty"):
        regularizers.L2(bad)


# ---------------- constraints ----------------
@pytest.mark.parametrize("entry", CON["entries"], ids=lambda e: e["id"])
def test_constraint_outputs_and_config(entry):
    con = _build(constraints, entry)
    keras = entry["tf_keras"]
    assert type(con).__name__ == keras["class"]
    if "config" in keras:
        assert jsonable(con.get_config()) == keras["config"]
        assert jsonable(constraints.serialize(con)) == keras["serialized"]
    for tag, rec in keras["outputs"].items():
        w = TENSORS[CON["input_keys"][tag]]
        if "error" in rec:
            with pytest.raises(ValueError):
                con(w)
        else:
            assert_close(con(w), TENSORS[rec["key"]], msg=f"{entry['id']} {tag}")


# ---------------- initializers ----------------
def _init_names():
    return [n for n in INIT["tf_keras_names"] if n not in ("Initializer", "initializer")]


@pytest.mark.parametrize("name", _init_names())
def test_initializer_names_and_configs(name):
    init = initializers.get(name)
    keras = INIT["by_name"][name]["tf_keras"]
    assert type(init).__name__ == keras["class"]
    assert jsonable(initializers.serialize(init)) == keras["serialized"]
    assert jsonable(initializers.get(keras["serialized_legacy"]).get_config()) == keras["config"]


@pytest.mark.parametrize("key", sorted(INIT["objects"]))
def test_initializer_objects_configs(key):
    rec = INIT["objects"][key]
    init = eval(rec["constructor"], vars(initializers))
    assert jsonable(init.get_config()) == rec["tf_keras"]["config"]
    assert jsonable(initializers.serialize(init)) == rec["tf_keras"]["serialized"]
    keras3 = rec.get("keras3", {})
    extra = ("input_axes", "output_axes")
    if "config" in keras3 and {k: v for k, v in keras3["config"].items() if k not in extra} == rec["tf_keras"]["config"]:
        # Keras 3 configs load too (its extra VarianceScaling keys are ignored).
        assert initializers.get(keras3["serialized"]).get_config() == init.get_config()


def _stat_cases():
    for key, rec in INIT["stats"].items():
        for tag, stats in rec["shapes"].items():
            yield pytest.param(key, tag, id=f"{key}-{tag}")


@pytest.mark.parametrize("key,tag", list(_stat_cases()))
def test_initializer_statistics(key, tag):
    rec = INIT["stats"][key]
    stats = rec["shapes"][tag]
    shape = tuple(int(s) for s in tag.split("x"))
    init = eval(rec["constructor"], vars(initializers))
    if "error" in stats:
        with pytest.raises(ValueError, match=stats["error"].split(": ", 1)[1].split(".")[0]):
            init(shape)
        return
    values = init(shape, dtype=torch.float32).double()
    assert values.shape == shape
    if "values" in stats or "values_key" in stats:  # deterministic: exact values
        expected = torch.tensor(stats["values"]) if "values" in stats else TENSORS[stats["values_key"]]
        assert_close(values, expected.double())
        return
    # Different RNGs: compare distribution statistics within sampling error.
    n, std = values.numel(), stats["std"]
    assert abs(values.mean().item() - stats["mean"]) <= 12 * std / math.sqrt(n) + 1e-7
    if n >= 64:
        assert values.std(unbiased=INIT["std_ddof"] == 1).item() == pytest.approx(std, rel=6 / math.sqrt(n))
    if n >= 1000:  # support bounds (truncation at 2 sigma, uniform limits) are reached closely
        span = stats["max"] - stats["min"]
        assert stats["min"] - 0.15 * span <= values.min().item() <= stats["min"] + 0.15 * span
        assert stats["max"] - 0.15 * span <= values.max().item() <= stats["max"] + 0.15 * span


@pytest.mark.parametrize("key", sorted(INIT["orthogonality"]))
def test_orthogonal_is_orthogonal(key):
    rec = INIT["orthogonality"][key]
    init = eval(rec["constructor"], vars(initializers))
    for tag, o in rec["shapes"].items():
        shape = [int(s) for s in tag.split("x")]
        w = init(tuple(shape), dtype=torch.float32).double().reshape(-1, shape[-1])
        gram = w @ w.T if w.shape[0] < w.shape[1] else w.T @ w
        dev = (gram - o["gain"] ** 2 * torch.eye(gram.shape[0], dtype=torch.float64)).abs().max().item()
        assert dev < max(10 * o["max_abs_dev_from_gain2_I"], 1e-5)


@pytest.mark.parametrize("cls", ["RandomNormal", "RandomUniform", "TruncatedNormal", "GlorotUniform", "HeNormal", "Orthogonal", "VarianceScaling"])
def test_seeded_initializers_repeat_like_tf_keras(cls):
    sem = INIT["repeat_semantics"][cls]["tf_keras"]
    a, b, c = (getattr(initializers, cls)(seed=s) for s in (5, 5, 6))
    shape = (4, 6)
    assert torch.equal(a(shape), a(shape)) == sem["seeded_same_object_twice_equal"]
    assert torch.equal(a(shape), b(shape)) == sem["seeded_two_objects_same_seed_equal"]
    assert torch.equal(a(shape), c(shape)) == sem["different_seed_equal"]


def test_unseeded_initializers_follow_torch_manual_seed():
    # Deliberate difference: tf.keras's unseeded initializer repeats its values on every call
    # (with a warning); kerastorch draws from torch's global RNG so torch.manual_seed governs it.
    assert INIT["repeat_semantics"]["RandomNormal"]["tf_keras"]["unseeded_same_object_twice_equal"] is True
    init = initializers.RandomNormal()
    torch.manual_seed(0)
    first = init((10,))
    assert not torch.equal(first, init((10,)))
    torch.manual_seed(0)
    assert torch.equal(first, init((10,)))


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16, torch.float16])
def test_initializer_dtypes(dtype):
    w = initializers.GlorotUniform(seed=1)((3, 3, 4, 8), dtype=dtype)
    assert w.dtype == dtype and w.shape == (3, 3, 4, 8)


@pytest.mark.parametrize(
    "ctor,match",
    [
        (lambda: initializers.VarianceScaling(scale=0), "`scale` must be positive"),
        (lambda: initializers.VarianceScaling(mode="fan"), "Invalid `mode`"),
        (lambda: initializers.VarianceScaling(distribution="cauchy"), "Invalid `distribution`"),
        (lambda: initializers.get("nope"), "Unknown initializer: 'nope'"),
        (lambda: initializers.Identity()((3, 3, 1, 1)), "2D matrices"),
        (lambda: initializers.Orthogonal()((5,)), "at least two-dimensional"),
    ],
)
def test_initializer_errors(ctor, match):
    with pytest.raises(ValueError, match=match):
        ctor()
