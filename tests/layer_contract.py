"""The layer contract: what every kerastorch layer must do, as Keras's ``run_layer_test`` does for Keras.

Describe a layer once with :class:`LayerCase` and every check below runs on it as its own test id::

    CASES = [LayerCase(Conv2D, dict(filters=4, kernel_size=3), (2, 5, 5, 3), expected_num_weights=2)]

    @parametrize_contract(CASES)
    def test_layer_contract(case, check):
        run_check(case, check)

or, for a one-off in another test file, ``run_layer_contract(Conv2D, dict(filters=4, kernel_size=3),
(2, 5, 5, 3))`` runs every applicable check and reports all failures together.

A check that cannot apply to a layer is not generated at all (no weights: no optimizer or
parametrization checks; no ``activation=`` argument: no plain-callable activation checks; no rank
constraint in the input spec: no wrong-rank check), so a new layer gets exactly the checks it can
fail. ``input_shape`` includes the batch dim; a list of shapes means a layer with a list of inputs.

The checks, in groups:

* building: lazy first call (placeholders materialized in place, an optimizer made before the
  call keeps the same tensors), explicit ``build``, ``input_shape=`` at construction,
  ``compute_output_shape`` (also with a ``None`` batch);
* Keras state: config round trip, ``layers.serialize``/``deserialize``, ``get_weights``/``set_weights``
  (Keras order and shapes, unbuilt layers built by ``set_weights``), ``state_dict`` into an unbuilt
  layer, partial ``load_state_dict`` (loads what it can or refuses clearly, naming the layer);
* torch citizenship: pickle/deepcopy (built and unbuilt), ``.to(float64)``, meta device,
  ``to_empty`` + ``reset_parameters``, ``parameters_to_vector``, contiguous parameters, LBFGS, SGD,
  Adam, pruning, ``weight_norm``, ``spectral_norm``, ``torch.compile(fullgraph=True)``, no hidden
  copies (profiler);
* errors and odds: wrong rank, integer/complex/non-tensor inputs, ``torch.jit.script``, repr, plain
  callable activations (repr, forward, ``save_weights``), ``training=`` and ``train()``/``eval()``.
"""
from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import os
import pickle
import tempfile
import warnings
from typing import Any, Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torch.nn.utils.parametrizations
import torch.nn.utils.prune
from torch.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from torch.profiler import ProfilerActivity, profile

import kerastorch as kt
from kt_testing import assert_close, jsonable

# eager vs torch.compile (aot_eager runs the same kernels; allow rounding only)
COMPILE_TOL = dict(rtol=1e-4, atol=1e-5)
F64_TOL = dict(rtol=1e-12, atol=1e-12)
# Copies that are the op itself, not a hidden layout conversion: the explicit pad of TF 'same'/'causal'
# padding writes its output (and its backward slices the gradient); addmm (F.linear with a bias) writes the
# broadcast bias into its output before the GEMM accumulates into it.
PAD_OPS = {"aten::constant_pad_nd", "ConstantPadNdBackward0", "aten::addmm"}
COPY_OPS = {"aten::copy_", "aten::contiguous", "aten::clone"}
SYNC_OPS = {"aten::item", "aten::_local_scalar_dense"}


# --------------------------------------------------------------------------------------------------
# the case description
# --------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LayerCase:
    """One layer configuration to run the contract on.

    ``input_shape``: full input shape, batch included (a list of shapes for list-input layers).
    ``expected_output_shape``: checked against the actual output when given.
    ``expected_num_weights``: the length of ``get_weights()`` when given.
    ``zero_copy``: profile forward+backward and refuse hidden copies of activations.
    ``supports_compile``: run the ``torch.compile(fullgraph=True)`` check.
    ``float_only``: integer inputs must be refused with a ValueError.
    ``accepts_complex``: complex inputs are legitimate (else a ValueError is required).
    ``training_invariant``: the output does not depend on ``training`` (no dropout/batch statistics).
    ``input_ids``: the input is integer ids in ``[0, input_ids)`` (int64 whatever dtype is asked; no input
    gradient), as an Embedding takes.
    """

    layer_cls: type
    init_kwargs: dict = dataclasses.field(default_factory=dict)
    input_shape: Any = ()
    id: str | None = None
    expected_output_shape: tuple | None = None
    expected_num_weights: int | None = None
    zero_copy: bool = True
    supports_compile: bool = True
    float_only: bool = True
    accepts_complex: bool = False
    training_invariant: bool = True
    input_ids: int | None = None

    def __post_init__(self) -> None:
        if self.id is None:
            args = ",".join(f"{k}={v}" for k, v in self.init_kwargs.items())
            object.__setattr__(self, "id", f"{self.layer_cls.__name__}({args})")

    def __repr__(self) -> str:  # pytest prints this on failures
        return f"LayerCase({self.id}, input_shape={self.input_shape})"

    # --- helpers used by the checks ---
    @property
    def multi_input(self) -> bool:
        return isinstance(self.input_shape, list) and all(isinstance(s, (tuple, list)) for s in self.input_shape)

    def new(self, **overrides: Any) -> Any:
        """A fresh (unbuilt unless ``input_shape=`` is given) layer."""
        return self.layer_cls(**{**self.init_kwargs, **overrides})

    def input(self, dtype: torch.dtype = torch.float32, device: Any = "cpu", seed: int = 0) -> Any:
        g = torch.Generator().manual_seed(seed)

        def one(shape):
            if self.input_ids is not None:
                return torch.randint(0, self.input_ids, tuple(shape), generator=g).to(device=device)
            return torch.randn(tuple(shape), generator=g, dtype=torch.float64).to(dtype=dtype, device=device)

        return [one(s) for s in self.input_shape] if self.multi_input else one(self.input_shape)

    def none_batch_shape(self) -> Any:
        if self.multi_input:
            return [(None, *s[1:]) for s in self.input_shape]
        return (None, *self.input_shape[1:])

    def built(self, seed: int = 0, **overrides: Any) -> Any:
        """A layer built by its first call, with random (non-initial) weights."""
        layer = self.new(**overrides)
        layer(self.input())
        randomize_weights(layer, seed)
        return layer


# --------------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------------
def randomize_weights(layer: Any, seed: int = 0) -> None:
    """Random Keras-layout weights (trainable ~ N(0, 0.5), non-trainable ~ U(0.5, 1.5), e.g. variances)."""
    rng = np.random.default_rng(seed)
    values = []
    for name in layer.weight_names:
        spec = layer.weight_spec(name)
        shape = tuple(layer.keras_weight(name).shape)
        v = rng.standard_normal(shape) * 0.5 if spec.trainable else rng.uniform(0.5, 1.5, shape)
        values.append(v.astype(np.float32))
    if values:
        layer.set_weights(values)


def tensors_of(y: Any) -> list[torch.Tensor]:
    if isinstance(y, torch.Tensor):
        return [y]
    if isinstance(y, (list, tuple)):
        return [t for item in y for t in tensors_of(item)]
    if isinstance(y, dict):
        return [t for item in y.values() for t in tensors_of(item)]
    raise AssertionError(f"layer returned a {type(y).__name__}, not tensors")


def same(actual: Any, expected: Any, msg: str = "", **tol: Any) -> None:
    a, e = tensors_of(actual), tensors_of(expected)
    assert len(a) == len(e), f"{msg}: {len(a)} outputs vs {len(e)}"
    for x, y in zip(a, e):
        assert x.shape == y.shape, f"{msg}: shape {tuple(x.shape)} != {tuple(y.shape)}"
        assert_close(x, y, msg=msg, **tol)


def differs(actual: Any, expected: Any) -> bool:
    return any(not torch.allclose(x, y) for x, y in zip(tensors_of(actual), tensors_of(expected)))


def loss_of(y: Any, seed: int = 1) -> torch.Tensor:
    """A scalar with a non-trivial gradient for every output element."""
    g = torch.Generator().manual_seed(seed)
    return sum((t * torch.randn(t.shape, generator=g, dtype=torch.float64).to(t.dtype)).sum() for t in tensors_of(y))


def with_grad(x: Any) -> Any:
    """A copy that requires grad (integer tensors, e.g. ids, are copied as they are)."""
    def one(t):
        return t.clone().requires_grad_(t.is_floating_point() or t.is_complex())

    return [one(t) for t in x] if isinstance(x, list) else one(x)


def input_grads(x: Any) -> list[torch.Tensor]:
    return [t.grad for t in (x if isinstance(x, list) else [x]) if t.requires_grad]


def lazy_state(layer: Any) -> list[bool]:
    return [is_lazy(getattr(layer, n)) for n in layer.weight_names]


def all_tensors(layer: Any) -> list[tuple[str, torch.Tensor]]:
    return list(layer.named_parameters()) + list(layer.named_buffers())


def trainable_names(layer: Any) -> list[str]:
    return [n for n in layer.weight_names if layer.weight_spec(n).trainable]


def wrong_rank_shape(case: LayerCase) -> tuple | None:
    """An input shape the layer's (unbuilt) input spec refuses by rank, or None if it has no rank rule."""
    if case.multi_input:
        return None
    spec = case.new().input_spec
    shape = tuple(case.input_shape)
    if spec is None or isinstance(spec, (list, tuple)):
        return None
    if spec.ndim is not None:
        return shape[: spec.ndim - 1] if spec.ndim > 1 else shape + (2,)
    if spec.min_ndim is not None and spec.min_ndim > 1:
        return shape[: spec.min_ndim - 1]
    if spec.max_ndim is not None:
        return shape + (1,) * (spec.max_ndim + 1 - len(shape))
    return None


def takes_activation(case: LayerCase) -> bool:
    return "activation" in inspect.signature(case.layer_cls).parameters


def stored_copy_(layer: Any, name: str, value: torch.Tensor) -> None:
    """Overwrite the stored tensor of weight ``name`` (stored layout)."""
    with torch.no_grad():
        getattr(layer, name).copy_(value)


def raises_naming(layer: Any, call: Callable[[], Any], what: str, types: tuple = (ValueError,)) -> str:
    """``call`` must raise one of ``types`` with the layer's name in the message."""
    try:
        call()
    except types as e:
        msg = str(e)
        assert layer.name in msg, f"{what}: the {type(e).__name__} does not name layer {layer.name!r}: {msg}"
        return msg
    except Exception as e:  # noqa: BLE001 - the wrong exception type is the failure
        raise AssertionError(f"{what}: expected {'/'.join(t.__name__ for t in types)}, got {type(e).__name__}: {e}") from e
    raise AssertionError(f"{what}: no error raised")


# --------------------------------------------------------------------------------------------------
# the checks
# --------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    fn: Callable[[LayerCase], None]
    applies: Callable[[LayerCase], bool]


CHECKS: dict[str, Check] = {}


def _always(case: LayerCase) -> bool:
    return True


def _has_weights(case: LayerCase) -> bool:
    return bool(case.new().weight_names)


def _has_params(case: LayerCase) -> bool:
    return any(True for _ in case.new().parameters())


def check(name: str | None = None, applies: Callable[[LayerCase], bool] = _always, **variants: Any):
    """Register a check; ``variants={'suffix': kwargs}`` registers one check id per variant."""

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        base = name or fn.__name__.removeprefix("check_")
        if variants:
            for suffix, kwargs in variants.items():
                CHECKS[f"{base}_{suffix}"] = Check(
                    f"{base}_{suffix}", lambda case, _kw=kwargs: fn(case, **_kw), applies
                )
        else:
            CHECKS[base] = Check(base, fn, applies)
        return fn

    return register


# ----- building -----
@check()
def check_lazy_build(case: LayerCase) -> None:
    layer = case.new()
    assert not layer.built and layer.get_weights() == [] and layer.weights == []
    before = {}
    for n in layer.weight_names:
        t = getattr(layer, n)
        kind = UninitializedParameter if layer.weight_spec(n).trainable else UninitializedBuffer
        assert isinstance(t, kind), f"unbuilt weight {n!r} is a {type(t).__name__}, expected {kind.__name__}"
        before[n] = t
    if layer.weight_names:
        assert layer.has_uninitialized_params()
    params = list(layer.parameters())
    opt = torch.optim.SGD(params, lr=0.1) if params else None
    x = case.input()
    y = layer(x)
    assert layer.built, "the first call did not build the layer"
    assert not layer.has_uninitialized_params()
    for n, t in before.items():
        now = getattr(layer, n)
        assert now is t, f"weight {n!r} was replaced on build (an optimizer made before would lose it)"
        assert not is_lazy(now)
        spec = layer.weight_spec(n)
        assert None not in spec.shape, f"weight {n!r} spec still has unknown dims after build: {spec.shape}"
        assert tuple(now.shape) == tuple(spec.storage_shape)
        assert tuple(layer.keras_weight(n).shape) == tuple(spec.shape)
    assert [id(w) for w in layer.weights] == [id(before[n]) for n in layer.weight_names]
    if case.expected_output_shape is not None:
        assert tuple(tensors_of(y)[0].shape) == tuple(case.expected_output_shape)
    if opt is not None:
        assert all(p is q for p, q in zip(opt.param_groups[0]["params"], layer.parameters()))
        loss_of(y).backward()
        old = [p.detach().clone() for p in layer.parameters()]
        opt.step()
        assert any(not torch.equal(o, p) for o, p in zip(old, layer.parameters())), "optimizer step changed nothing"


@check()
def check_explicit_build(case: LayerCase) -> None:
    reference = case.new()
    reference(case.input())
    layer = case.new()
    layer.build(case.none_batch_shape())
    assert layer.built and not layer.has_uninitialized_params()
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in reference.get_weights()]
    stored = [w for w in layer.weights]
    layer.build(case.input_shape)  # a second build is a no-op
    assert all(a is b for a, b in zip(stored, layer.weights))
    y = layer(case.input())
    assert [t.shape for t in tensors_of(y)] == [t.shape for t in tensors_of(reference(case.input()))]
    build_config = layer.get_build_config()
    assert build_config is not None and jsonable(build_config["input_shape"]) == jsonable(case.none_batch_shape())


@check(applies=lambda case: not case.multi_input)
def check_input_shape_kwarg(case: LayerCase) -> None:
    layer = case.new(input_shape=tuple(case.input_shape[1:]))
    assert layer.built and not layer.has_uninitialized_params()
    assert jsonable(layer.get_config()["batch_input_shape"]) == jsonable(case.none_batch_shape())
    params = list(layer.parameters())
    if params:
        torch.optim.Adam(params)  # usable right away
    y = layer(case.input())
    assert [t.shape for t in tensors_of(y)] == [t.shape for t in tensors_of(case.built()(case.input()))]
    clone = type(layer).from_config(layer.get_config())
    assert clone.built, "from_config of a config with batch_input_shape did not build"


@check()
def check_compute_output_shape(case: LayerCase) -> None:
    layer = case.new()
    unbuilt = layer.compute_output_shape(case.input_shape)
    y = layer(case.input())
    shapes = [tuple(t.shape) for t in tensors_of(y)]
    actual = shapes[0] if len(shapes) == 1 else shapes
    built = layer.compute_output_shape(case.input_shape)
    assert jsonable(built) == jsonable(actual), f"compute_output_shape {built} != actual {actual}"
    assert jsonable(unbuilt) == jsonable(actual), f"unbuilt compute_output_shape {unbuilt} != actual {actual}"
    none = layer.compute_output_shape(case.none_batch_shape())
    expected_none = [(None, *s[1:]) for s in shapes]
    assert jsonable(none) == jsonable(expected_none[0] if len(shapes) == 1 else expected_none), (
        f"compute_output_shape with a None batch: {none}"
    )
    if case.expected_output_shape is not None:
        assert jsonable(actual) == jsonable(case.expected_output_shape)


# ----- Keras state -----
@check()
def check_config_round_trip(case: LayerCase) -> None:
    layer = case.built()
    config = layer.get_config()
    json.dumps(config)  # a Keras config is JSON
    kept = copy.deepcopy(config)
    clone = type(layer).from_config(config)
    assert config == kept, "from_config mutated the config"
    assert clone.get_config() == config
    clone.set_weights(layer.get_weights())
    x = case.input()
    same(clone(x), layer(x), "from_config + set_weights")
    unbuilt = case.new()
    assert type(unbuilt).from_config(unbuilt.get_config()).get_config() == unbuilt.get_config()


@check()
def check_serialize_round_trip(case: LayerCase) -> None:
    layer = case.built()
    serialized = json.loads(json.dumps(kt.layers.serialize(layer)))
    assert serialized["class_name"] == type(layer).__name__
    clone = kt.layers.deserialize(serialized)
    assert type(clone) is type(layer)
    assert jsonable(clone.get_config()) == jsonable(layer.get_config())
    assert clone.built, "deserialize did not apply the build_config (Keras 3 builds the layer)"
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in layer.get_weights()]
    clone.set_weights(layer.get_weights())
    x = case.input()
    same(clone(x), layer(x), "deserialize + set_weights")
    unbuilt = kt.layers.deserialize(json.loads(json.dumps(kt.layers.serialize(case.new()))))
    assert not unbuilt.built


@check()
def check_weights_round_trip(case: LayerCase) -> None:
    layer = case.built()
    weights = layer.get_weights()
    names = layer.weight_names
    assert len(weights) == len(names) == len(layer.weights)
    if case.expected_num_weights is not None:
        assert len(weights) == case.expected_num_weights
    trainable = [layer.weight_spec(n).trainable for n in names]
    assert trainable == sorted(trainable, reverse=True), "Keras order: trainable weights first"
    for n, w in zip(names, weights):
        assert isinstance(w, np.ndarray)
        assert w.shape == tuple(layer.keras_weight(n).shape) == tuple(layer.weight_spec(n).shape)
        np.testing.assert_array_equal(w, layer.keras_weight(n).detach().numpy())
    rng = np.random.default_rng(5)
    new = [rng.standard_normal(w.shape).astype(np.float32) for w in weights]
    fresh = case.new()
    assert fresh.get_weights() == []
    fresh.set_weights(new)  # builds the unbuilt layer from the shapes
    assert not fresh.has_uninitialized_params()
    if names:
        assert fresh.built, "set_weights did not build the unbuilt layer"
    for a, b in zip(fresh.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    layer.set_weights(new)
    x = case.input()
    same(fresh(x), layer(x), "set_weights on an unbuilt vs a built layer")
    for n in names:  # the state_dict holds the stored layout; keras_weight is its Keras view
        spec = layer.weight_spec(n)
        stored = layer.state_dict()[n]
        assert tuple(stored.shape) == tuple(spec.storage_shape)
        assert torch.equal(spec.to_keras(stored), layer.keras_weight(n))
    extra = np.zeros((1,), np.float32)
    for what, target, value in [("built", case.built(), new[:-1]), ("built", case.built(), new + [extra]),
                                ("unbuilt", case.new(), new + [extra])]:
        if what == "built" and not names and not value:
            continue
        before = target.get_weights()
        with pytest.raises(ValueError):
            target.set_weights(value)
        assert all(np.array_equal(a, b) for a, b in zip(target.get_weights(), before)), "a refused set_weights changed weights"


@check()
def check_state_dict_round_trip(case: LayerCase) -> None:
    layer = case.built()
    sd = layer.state_dict()
    for n in layer.weight_names:
        assert n in sd
    fresh = case.new()
    fresh.load_state_dict(sd)
    assert not fresh.has_uninitialized_params()
    if layer.weight_names:
        assert fresh.built, "load_state_dict did not build the unbuilt layer"
    for k, v in fresh.state_dict().items():
        assert torch.equal(v, sd[k]), k
    for _, t in all_tensors(fresh):
        assert t.is_contiguous()
    x = case.input()
    same(fresh(x), layer(x), "load_state_dict into an unbuilt layer")


@check(applies=_has_weights)
def check_partial_load_state_dict(case: LayerCase) -> None:
    sd = case.built().state_dict()
    for n in case.new().weight_names:
        fresh = case.new()
        try:
            fresh.load_state_dict({n: sd[n]}, strict=False)
        except (ValueError, RuntimeError) as e:
            msg = str(e)
            assert fresh.name in msg, f"partial load of {n!r}: the error does not name the layer: {msg}"
            assert "torch.Size([0])" not in msg, f"partial load of {n!r}: torch's raw size-0 error leaks out: {msg}"
            assert not fresh.built and all(lazy_state(fresh)), f"partial load of {n!r} failed but changed the layer"
            fresh(case.input())  # still usable: builds on its first call
            assert fresh.built
        except Exception as e:  # noqa: BLE001
            raise AssertionError(f"partial load of {n!r}: {type(e).__name__}: {e}") from e
        else:
            loaded = getattr(fresh, n)
            assert not is_lazy(loaded), f"partial load of {n!r} succeeded but left it uninitialized"
            assert torch.equal(loaded, sd[n]), f"partial load of {n!r} did not load the value"
            if fresh.built:
                assert not fresh.has_uninitialized_params()
            fresh(case.input())


# ----- torch citizenship -----
def _copy_round_trip(case: LayerCase, how: str, built: bool) -> None:
    layer = case.built() if built else case.new()
    clone = pickle.loads(pickle.dumps(layer)) if how == "pickle" else copy.deepcopy(layer)
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
    assert clone.built == layer.built
    x = case.input()
    if built:
        for (n, p), (_, q) in zip(all_tensors(layer), all_tensors(clone)):
            assert p is not q and (p.numel() == 0 or p.data_ptr() != q.data_ptr()), f"{n} shared"
            assert torch.equal(p, q) and p.stride() == q.stride() and p.requires_grad == q.requires_grad, n
        same(clone(x), layer(x), how)
    else:
        assert all(lazy_state(clone)) and all(lazy_state(layer))
        assert [getattr(clone, n).dtype for n in clone.weight_names] == [getattr(layer, n).dtype for n in layer.weight_names]
        y = clone(x)
        assert clone.built and not layer.built and all(lazy_state(layer)), "building the copy touched the original"
        layer(x)
        for (n, p), (_, q) in zip(all_tensors(layer), all_tensors(clone)):
            assert p is not q and p.data_ptr() != q.data_ptr(), f"{n} shared"
        assert tensors_of(y)[0].shape == tensors_of(layer(x))[0].shape
    if clone.weight_names:
        with torch.no_grad():
            for p in clone.parameters():
                p.add_(1.0)
        if any(True for _ in clone.parameters()):
            assert differs(clone(x), layer(x)), "the copy shares storage with the original"
    y = clone(with_grad(x))
    loss_of(y).backward()


for _how in ("pickle", "deepcopy"):
    for _built in (True, False):
        _name = f"{_how}_{'built' if _built else 'unbuilt'}"
        CHECKS[_name] = Check(_name, lambda case, _h=_how, _b=_built: _copy_round_trip(case, _h, _b), _always)


@check("to_float64", built=dict(built=True), unbuilt=dict(built=False))
def check_to_float64(case: LayerCase, built: bool) -> None:
    layer = (case.built() if built else case.new()).to(torch.float64)
    x = case.input(torch.float64)
    y = layer(with_grad(x))
    for t in tensors_of(y):
        assert t.dtype == torch.float64, f"output dtype {t.dtype} after .to(float64) with float64 input"
    for n, t in all_tensors(layer):
        if t.is_floating_point():
            assert t.dtype == torch.float64, f"{n} is {t.dtype} after .to(float64)"
    if layer.weight_names:
        assert layer.dtype == "float64"
    reference = case.new(dtype="float64")
    if layer.weight_names:
        reference.set_weights(layer.get_weights())
    same(y, reference(x), "float64 recomputation", **F64_TOL)
    loss_of(y).backward()
    for n, p in layer.named_parameters():
        assert p.grad is not None and p.grad.dtype == torch.float64, n


def _assert_reset_reinitializes(layer: Any) -> None:
    with torch.no_grad():
        for _, t in all_tensors(layer):
            if t.is_floating_point():
                t.fill_(float("nan"))  # what to_empty may leave behind
    layer.reset_parameters()
    for n, t in all_tensors(layer):
        assert t.device.type == "cpu", f"{n} on {t.device}"
        if t.is_floating_point():
            assert torch.isfinite(t).all(), f"reset_parameters() left {n} uninitialized"


def _assert_runs_on_cpu(case: LayerCase, layer: Any) -> None:
    y = layer(case.input())
    for t in tensors_of(y):
        assert t.device.type == "cpu" and torch.isfinite(t).all()


@check("meta_to", built=dict(built=True), unbuilt=dict(built=False))
def check_meta_to(case: LayerCase, built: bool) -> None:
    layer = (case.built() if built else case.new()).to("meta")
    expected = [t.shape for t in tensors_of(case.built()(case.input()))]
    y = layer(case.input(device="meta"))
    assert layer.built
    assert [t.shape for t in tensors_of(y)] == expected
    assert all(t.device.type == "meta" for t in tensors_of(y))
    for n, t in all_tensors(layer):
        assert t.device.type == "meta", f"{n} on {t.device}"
    layer.to_empty(device="cpu")
    _assert_reset_reinitializes(layer)
    _assert_runs_on_cpu(case, layer)


@check("meta_device_context", built=dict(built=True), unbuilt=dict(built=False))
def check_meta_device_context(case: LayerCase, built: bool) -> None:
    with torch.device("meta"):
        if built:
            layer = case.new(input_shape=tuple(case.input_shape[1:])) if not case.multi_input else case.new()
            if case.multi_input:
                layer.build(case.input_shape)
        else:
            layer = case.new()
    if built:
        assert layer.built
        for n, t in all_tensors(layer):
            assert t.device.type == "meta", f"{n} on {t.device} though built under torch.device('meta')"
        layer.to_empty(device="cpu")
        _assert_reset_reinitializes(layer)
        _assert_runs_on_cpu(case, layer)
    else:
        # an unbuilt layer made under meta: to_empty to cpu, then the first call builds on cpu
        layer.to_empty(device="cpu")
        layer.reset_parameters()
        assert not layer.built
        _assert_runs_on_cpu(case, layer)
        for n, t in all_tensors(layer):
            assert t.device.type == "cpu", f"{n} on {t.device}"
        # and one built by its first call under meta, then materialized on cpu
        with torch.device("meta"):
            meta_layer = case.new()
            meta_layer(case.input(device="meta"))
        assert meta_layer.built
        meta_layer.to_empty(device="cpu")
        _assert_reset_reinitializes(meta_layer)
        _assert_runs_on_cpu(case, meta_layer)


@check(applies=_has_params)
def check_parameters_to_vector(case: LayerCase) -> None:
    layer = case.built()
    params = list(layer.parameters())
    vec = torch.nn.utils.parameters_to_vector(params)
    assert vec.numel() == sum(p.numel() for p in params)
    x = case.input()
    y0 = layer(x)
    torch.nn.utils.vector_to_parameters(vec * 2, params)
    assert all(p.is_contiguous() for p in layer.parameters())
    y1 = layer(x)
    assert differs(y1, y0), "vector_to_parameters had no effect on the output"
    torch.nn.utils.vector_to_parameters(vec, layer.parameters())
    same(layer(x), y0, "vector_to_parameters round trip")


@check(applies=_has_weights)
def check_contiguous_weights(case: LayerCase) -> None:
    built_by = {"first call": case.built(), "build()": case.new(), "set_weights": case.new(),
                "load_state_dict": case.new()}
    built_by["build()"].build(case.none_batch_shape())
    built_by["set_weights"].set_weights(built_by["first call"].get_weights())
    built_by["load_state_dict"].load_state_dict(built_by["first call"].state_dict())
    built_by["deepcopy"] = copy.deepcopy(built_by["first call"])
    built_by[".to(float64)"] = copy.deepcopy(built_by["first call"]).to(torch.float64)
    if not case.multi_input:
        built_by["input_shape="] = case.new(input_shape=tuple(case.input_shape[1:]))
    for how, layer in built_by.items():
        for n, t in all_tensors(layer):
            assert t.is_contiguous(), f"{n} is not contiguous after {how} (stride {t.stride()}, shape {tuple(t.shape)})"


def _step_changes_every_param(case: LayerCase, make_opt: Callable[[Any], torch.optim.Optimizer]) -> None:
    layer = case.built()
    opt = make_opt(layer.parameters())
    old = {n: p.detach().clone() for n, p in layer.named_parameters()}
    opt.zero_grad()
    loss_of(layer(case.input())).backward()
    opt.step()
    for n, p in layer.named_parameters():
        assert p.is_contiguous(), f"{n} lost contiguity in the optimizer step"
        assert not torch.equal(old[n], p.detach()), f"{type(opt).__name__} step did not change {n}"


@check(applies=_has_params)
def check_optimizer_sgd(case: LayerCase) -> None:
    _step_changes_every_param(case, lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9))


@check(applies=_has_params)
def check_optimizer_adam(case: LayerCase) -> None:
    _step_changes_every_param(case, lambda params: torch.optim.Adam(params, lr=0.01))


@check(applies=_has_params)
def check_lbfgs(case: LayerCase) -> None:
    layer = case.built()
    x = case.input()
    target = [torch.zeros_like(t) for t in tensors_of(layer(x))]

    def objective():
        return sum((t - z).square().mean() for t, z in zip(tensors_of(layer(x)), target))

    opt = torch.optim.LBFGS(layer.parameters(), lr=0.5, max_iter=4, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    with torch.no_grad():
        before = objective().item()
    opt.step(closure)
    with torch.no_grad():
        after = objective().item()
    assert np.isfinite(after) and after < before, f"LBFGS did not decrease the loss: {before} -> {after}"


def _parametrized_forward_check(case: LayerCase, apply: Callable[[Any, str], None], original: Callable[[Any, str], torch.Tensor]) -> None:
    """After ``apply(layer, name)`` the forward uses ``getattr(layer, name)`` (the parametrized weight)."""
    x = case.input()
    base = case.built()
    y_base = base(x)
    for n in trainable_names(base):
        layer = copy.deepcopy(base)
        apply(layer, n)
        layer(x)  # one training-mode call (e.g. spectral_norm's power iteration)
        layer.eval()
        effective = getattr(layer, n).detach().clone()
        y = layer(x)
        assert differs(y, y_base), f"the output ignores the parametrized {n!r}"
        reference = copy.deepcopy(base).eval()
        stored_copy_(reference, n, effective)
        for name in layer.weight_names:  # state the training call updated (moving statistics) is shared
            if not layer.weight_spec(name).trainable:
                stored_copy_(reference, name, getattr(layer, name))
        same(y, reference(x), f"forward with parametrized {n!r}")
        assert_close(layer.keras_weight(n), layer.weight_spec(n).to_keras(effective), msg="keras_weight")
        layer.train()
        loss_of(layer(with_grad(x))).backward()
        assert original(layer, n).grad is not None, f"no gradient reached the original of {n!r}"
        layer.get_weights()
        layer.state_dict()
        repr(layer)


@check(applies=_has_params)
def check_prune_l1_unstructured(case: LayerCase) -> None:
    def apply(layer, n):
        torch.nn.utils.prune.l1_unstructured(layer, name=n, amount=0.5)

    _parametrized_forward_check(case, apply, lambda layer, n: getattr(layer, n + "_orig"))


@check(applies=_has_params)
def check_weight_norm(case: LayerCase) -> None:
    def apply(layer, n):
        torch.nn.utils.parametrizations.weight_norm(layer, name=n)
        with torch.no_grad():  # weight_norm starts as the identity: scale g so the effect shows
            layer.parametrizations[n].original0.mul_(2.0)

    _parametrized_forward_check(case, apply, lambda layer, n: layer.parametrizations[n].original1)


@check(applies=_has_params)
def check_spectral_norm(case: LayerCase) -> None:
    def apply(layer, n):
        torch.nn.utils.parametrizations.spectral_norm(layer, name=n)

    _parametrized_forward_check(case, apply, lambda layer, n: layer.parametrizations[n].original)


@check(applies=lambda case: case.supports_compile)
def check_compile(case: LayerCase) -> None:
    torch._dynamo.reset()
    try:
        eager = case.built()
        compiled_layer = copy.deepcopy(eager)
        compiled = torch.compile(compiled_layer, fullgraph=True, backend="aot_eager")  # fullgraph: no graph breaks
        x = case.input()
        xe, xc = with_grad(x), with_grad(x)
        ye, yc = eager(xe), compiled(xc)
        same(yc, ye, "compiled forward", **COMPILE_TOL)
        loss_of(ye).backward()
        loss_of(yc).backward()
        for ge, gc in zip(input_grads(xe), input_grads(xc)):
            assert_close(gc, ge, msg="compiled input grad", **COMPILE_TOL)
        for (n, pe), (_, pc) in zip(eager.named_parameters(), compiled_layer.named_parameters()):
            assert_close(pc.grad, pe.grad, msg=f"compiled grad of {n}", **COMPILE_TOL)
        x2 = case.input(seed=3)
        with torch.compiler.set_stance("fail_on_recompile"):  # no guard on eager-only state
            same(compiled(with_grad(x2)), eager(with_grad(x2)), "compiled second call", **COMPILE_TOL)
    finally:
        torch._dynamo.reset()


@check(applies=lambda case: case.zero_copy)
def check_zero_copy(case: LayerCase) -> None:
    layer = case.built()
    x0 = case.input()
    grads = [torch.randn_like(t) for t in tensors_of(layer(x0))]  # warm: plans cached, lazy state settled
    x = with_grad(x0)
    xs = [t for t in (x if isinstance(x, list) else [x]) if t.requires_grad]
    params = [p for p in layer.parameters() if p.requires_grad]
    weight_numels = {p.numel() for p in params}
    # autograd.grad, not backward: the grads come back as the kernels produced them, with no
    # AccumulateGrad of the test's own leaf inputs in the profile
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        y = layer(x)
        got = torch.autograd.grad(tensors_of(y), xs + params, grads)
    bad = []
    for e in prof.events():
        if e.name in SYNC_OPS:
            bad.append(f"{e.name} (host sync)")
        if e.name not in COPY_OPS:
            continue
        parents, p = [], e.cpu_parent
        while p is not None:
            parents.append(p.name)
            p = p.cpu_parent
        if PAD_OPS & set(parents):
            continue  # the explicit pad's own write / its backward
        shape = tuple(e.input_shapes[0]) if e.input_shapes and e.input_shapes[0] else ()
        if not shape:
            continue  # a 0-d tensor: a Python scalar wrapped for an op, not an activation
        if int(np.prod(shape)) in weight_numels:
            continue  # weight-sized: torch's kernels writing a weight gradient in the weight's layout
        bad.append(f"{e.name}{list(shape)} <- {' <- '.join(parents) or 'layer code'}")
    assert not bad, "hidden copies of activations:\n  " + "\n  ".join(bad)
    for t in tensors_of(y):
        assert t.is_contiguous(), f"output not contiguous: stride {t.stride()}"
    for g in got[: len(xs)]:
        assert g.is_contiguous(), f"input gradient not contiguous: stride {g.stride()}"
    names = [n for n, p in layer.named_parameters() if p.requires_grad]
    for n, p, g in zip(names, params, got[len(xs):]):  # else AccumulateGrad copies it into p's layout
        assert g.stride() == p.stride(), f"grad of {n} comes back with stride {g.stride()}, parameter {p.stride()}"


# ----- errors -----
@check(applies=lambda case: wrong_rank_shape(case) is not None)
def check_error_wrong_rank(case: LayerCase) -> None:
    bad = torch.randn(wrong_rank_shape(case))
    layer = case.new()
    raises_naming(layer, lambda: layer(bad), f"unbuilt layer, input shape {tuple(bad.shape)}")
    assert not layer.built and all(lazy_state(layer))
    layer = case.built()
    raises_naming(layer, lambda: layer(bad), f"built layer, input shape {tuple(bad.shape)}")
    layer = case.new()
    raises_naming(layer, lambda: layer.build(tuple(bad.shape)), f"build({tuple(bad.shape)})")


def _bad_dtype(case: LayerCase, dtype: torch.dtype) -> None:
    def bad():
        x = case.input()
        return [t.to(dtype) for t in x] if isinstance(x, list) else x.to(dtype)

    layer = case.new()
    raises_naming(layer, lambda: layer(bad()), f"unbuilt layer, {dtype} input")
    assert not layer.built and all(lazy_state(layer)), f"a refused {dtype} input changed the unbuilt layer"
    layer = case.built()
    layer(case.input())  # the fast path must not skip the check
    raises_naming(layer, lambda: layer(bad()), f"built layer, {dtype} input")


@check(applies=lambda case: case.float_only)
def check_error_integer_input(case: LayerCase) -> None:
    _bad_dtype(case, torch.int64)
    _bad_dtype(case, torch.bool)


@check(applies=lambda case: not case.accepts_complex)
def check_error_complex_input(case: LayerCase) -> None:
    _bad_dtype(case, torch.complex64)


@check()
def check_error_non_tensor(case: LayerCase) -> None:
    x = case.input()
    as_numpy = [t.numpy() for t in x] if isinstance(x, list) else x.numpy()
    for built in (False, True):
        layer = case.built() if built else case.new()
        layer.eval()
        with torch.no_grad():  # NumPy input is taken as Keras takes it (README, "Models"): the tensor's result
            torch.testing.assert_close(layer(as_numpy), layer(x), rtol=0, atol=0)
        raises_naming(layer, lambda: layer(3.0), f"{'built' if built else 'unbuilt'} layer, float input")
        raises_naming(layer, lambda: layer("x"), f"{'built' if built else 'unbuilt'} layer, str input")


@check()
def check_jit_script_error(case: LayerCase) -> None:
    for what, module in [("unbuilt", case.new()), ("built", case.built()),
                         ("inside nn.Sequential", torch.nn.Sequential(case.built()))]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.script itself is deprecated
                torch.jit.script(module)
        except Exception as e:  # noqa: BLE001
            assert "torch.compile" in str(e), f"torch.jit.script ({what}) error does not point to torch.compile: {type(e).__name__}: {str(e)[:300]}"
        else:
            raise AssertionError(f"torch.jit.script ({what}) did not raise")


# ----- repr, activations, training -----
@check()
def check_repr(case: LayerCase) -> None:
    layer = case.new()
    for state in ("unbuilt", "built"):
        if state == "built":
            layer(case.input())
        for text in (repr(layer), str(layer)):
            assert type(layer).__name__ in text and repr(layer.name) in text, f"{state} repr lacks the class or name={layer.name!r}: {text}"
    repr(copy.deepcopy(layer).to(torch.float64))


def _plain_activation(case: LayerCase, make: Callable[[], Any]) -> None:
    act = make()
    layer = case.new(activation=act)
    repr(layer)
    str(layer)
    x = case.input()
    y = layer(x)
    repr(layer)
    linear = case.new(activation=None)
    linear.set_weights(layer.get_weights())
    same(y, act(linear(x)), "forward with a plain-callable activation")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "w.safetensors")
        kt.save_weights(layer, path)
        other = case.new(activation=make())
        kt.load_weights(other, path)
        same(other(x), y, "save_weights/load_weights with a plain-callable activation")


@check("activation_callable", applies=takes_activation,
       gelu_function=dict(make=lambda: F.gelu), lambda_expr=dict(make=lambda: (lambda t: torch.tanh(t) * 0.5)),
       silu_module=dict(make=lambda: torch.nn.SiLU()))
def check_activation_callable(case: LayerCase, make: Callable[[], Any]) -> None:
    _plain_activation(case, make)


@check()
def check_training_argument(case: LayerCase) -> None:
    layer = case.built()
    x = case.input()
    outputs = {
        "training=True": layer(x, training=True),
        "training=False": layer(x, training=False),
        "training=None": layer(x, training=None),
    }
    layer.train()
    outputs["train()"] = layer(x)
    layer.eval()
    outputs["eval()"] = layer(x)
    assert layer.training is False
    layer.train()
    if case.training_invariant:
        for how, y in outputs.items():
            same(y, outputs["eval()"], how)


# --------------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------------
def applicable_checks(case: LayerCase, only: Any = None) -> list[str]:
    return [name for name, c in CHECKS.items() if (only is None or name in only) and c.applies(case)]


def run_check(case: LayerCase, name: str) -> None:
    torch.manual_seed(0)
    CHECKS[name].fn(case)


def contract_params(cases: list[LayerCase], only: Any = None) -> list[Any]:
    """One ``pytest.param(case, check_name)`` per applicable (case, check), id ``'<case id>-<check>'``."""
    ids = [c.id for c in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"duplicate case ids: {duplicates}"
    return [pytest.param(case, name, id=f"{case.id}-{name}") for case in cases for name in applicable_checks(case, only)]


def parametrize_contract(cases: list[LayerCase], only: Any = None) -> Any:
    """``@parametrize_contract(CASES)`` on ``def test_x(case, check): run_check(case, check)``."""
    return pytest.mark.parametrize("case,check", contract_params(cases, only))


def run_layer_contract(layer_cls: type, init_kwargs: dict, input_shape: Any, *, only: Any = None, **options: Any) -> None:
    """Every applicable check in one call (Keras's ``run_layer_test``); all failures reported together."""
    case = LayerCase(layer_cls, dict(init_kwargs), input_shape, **options)
    failures = []
    for name in applicable_checks(case, only):
        kt.clear_session()
        try:
            run_check(case, name)
        except Exception as e:  # noqa: BLE001
            failures.append(f"{name}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    assert not failures, f"{case.id} fails the layer contract:\n  " + "\n  ".join(failures)
