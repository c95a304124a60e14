"""Checks a layer against the cases recorded from real Keras by ``compat_fixtures/gen/layer_cases.py``.

A family's parity test is a few lines::

    from layer_parity import Family
    FAMILY = Family(["BatchNormalization", "LayerNormalization"])

    @pytest.mark.parametrize("case", FAMILY.cases, ids=FAMILY.id)
    def test_matches_tf_keras(case):
        FAMILY.check_case(case)

plus the error tests (``FAMILY.value_errors`` / ``other_errors`` / ``accepted``, run by ``check_error``) and
the Keras 3 configs (``FAMILY.keras3_cases`` run by ``check_keras3_config``).
"""
from __future__ import annotations

import re
from typing import Any, Callable

import pytest
import torch

import kerastorch.layers as L
from kt_testing import assert_close, jsonable, keras_grad, load_json, load_tensors, tolerance

DTYPES = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64, "int32": torch.int32,
          "int64": torch.int64, "uint8": torch.uint8, "bool": torch.bool}


def snake_name(class_name: str) -> str:
    """tf.keras's default layer name of a class (the fixture file prefix)."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", class_name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()


def close(actual: torch.Tensor, expected: torch.Tensor, what: str, rtol: float) -> None:
    """The suite's comparison: relative ``rtol``, absolute slack scaled by the expected tensor's magnitude."""
    scale = expected.abs().max().item() if expected.numel() and expected.is_floating_point() else 0.0
    assert_close(actual, expected, rtol=rtol, atol=rtol * max(scale, 1.0), msg=what)


def keras_core(message: str) -> str:
    """The part of a Keras message kerastorch reproduces (no call-time wrapper, no doc link)."""
    if message.startswith("Exception encountered when calling layer"):
        message = message.split(" | ", 1)[-1]
    message = re.sub(r"ListWrapper\((\[[^\]]*\])\)", r"\1", message)  # tf.keras's wrapped list -> the list
    return message.replace("ListWrapper(", "").split(" See https")[0].strip()


_NON_FINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def _floats(args: Any) -> Any:
    """The generator's JSON writes non-finite floats as "NaN"/"Infinity"/"-Infinity": the recorded arguments
    were floats, so they are passed back as floats."""
    if isinstance(args, dict):
        return {k: _floats(v) for k, v in args.items()}
    if isinstance(args, list):
        return [_floats(v) for v in args]
    return _NON_FINITE.get(args, args) if isinstance(args, str) else args


class Family:
    """The recorded cases and errors of some classes; ``tolerance(case)`` may loosen one with a reason."""

    def __init__(self, classes: list[str], tolerance: Callable[[dict], float] | None = None):
        self.classes = classes
        self.cases: list[dict] = []
        self.errors: list[dict] = []
        for cls in classes:
            snake = snake_name(cls)
            self.cases += [{**c, "class": cls, "_snake": snake, "args": _floats(c["args"])}
                           for c in load_json(f"{snake}_cases.json")]
            self.errors += [{**c, "class": cls, "_snake": snake, "args": _floats(c["args"])}
                            for c in load_json(f"{snake}_errors.json")]
        self._tolerance = tolerance

    @staticmethod
    def id(case: dict) -> str:
        return f"{case['class']}-{case['id']}"

    @property
    def value_errors(self) -> list[dict]:
        return [c for c in self.errors if c["keras_error_type"] == "ValueError"]

    @property
    def other_errors(self) -> list[dict]:
        return [c for c in self.errors if c["keras_error_type"] not in (None, "ValueError")]

    @property
    def accepted(self) -> list[dict]:
        return [c for c in self.errors if c["keras_error_type"] is None]

    @property
    def keras3_cases(self) -> list[dict]:
        return [c for c in self.cases if "keras3_config" in c]

    def rtol(self, case: dict) -> float:
        dtype = DTYPES.get(case["dtype"], torch.float32)
        base = tolerance(dtype if dtype.is_floating_point else torch.float32)[0]
        return max(base, self._tolerance(case)) if self._tolerance else base

    # ---------------- outputs, gradients, state ----------------
    def tensors(self, case: dict) -> dict[str, torch.Tensor]:
        return load_tensors(f"{case['_snake']}_tensors.safetensors")

    def make(self, case: dict, config: dict | None = None) -> Any:
        cls = getattr(L, case["class"])
        return cls.from_config(config) if config is not None else cls(**case["args"])

    def inputs(self, case: dict, requires_grad: bool = False) -> Any:
        T = self.tensors(case)
        xs = [T[f"{case['id']}.input.{i}"].clone().requires_grad_(requires_grad) for i in range(len(case["input_shapes"]))]
        return xs if case["list_input"] else xs[0]

    def call(self, layer: Any, case: dict, inputs: Any) -> torch.Tensor:
        kwargs = dict(case.get("call_kwargs") or {})
        if case["training"] is not None:
            kwargs["training"] = case["training"]
        return layer(inputs, **kwargs)

    def built(self, case: dict, config: dict | None = None) -> Any:
        """The layer, built and holding the case's weights."""
        T, cid = self.tensors(case), case["id"]
        layer = self.make(case, config)
        shapes = [tuple(s) for s in case["input_shapes"]]
        layer.build(shapes if case["list_input"] else shapes[0])
        assert layer.weight_names == case["weight_names"]
        if case["weight_names"]:
            layer.set_weights([T[f"{cid}.weight.{n}"] for n in case["weight_names"]])
        return layer

    def check_case(self, case: dict, compare_output: bool = True) -> torch.Tensor:
        """Output, gradients, weights after the call (moving statistics), shapes, config and losses."""
        if case["config"].get("trainable") is False:
            # a frozen kerastorch layer sets requires_grad=False on its weights; tf.keras keeps its variables'
            # `trainable` flag and empties the layer's trainable_weights instead (no gradients recorded)
            case = {**case, "weight_trainable": [False] * len(case["weight_names"])}
        T, cid, rtol = self.tensors(case), case["id"], self.rtol(case)
        layer = self.built(case)
        assert [list(w.shape) for w in layer.get_weights()] == case["weight_shapes"]
        assert [bool(w.requires_grad) for w in layer.weights] == case["weight_trainable"]
        grads = case["grads"]
        xs = self.inputs(case, requires_grad=grads)
        y = self.call(layer, case, xs)
        assert list(y.shape) == case["output_shape"]
        first = (xs if case["list_input"] else [xs])[0]
        if not case["weight_names"] and "dtype" not in case["args"] and y.dtype != DTYPES[case["output_dtype"]] \
                and y.dtype.is_floating_point:
            # a weight-free layer without an explicit dtype keeps its input's floating dtype where tf.keras
            # casts to float32 (README, deliberate differences): compare at the recorded precision
            assert y.dtype == first.dtype
        else:
            assert str(y.dtype).replace("torch.", "") == case["output_dtype"]
        if compare_output:
            close(y, T[f"{cid}.output"], "output", rtol)
        if grads and compare_output:
            (y * T[f"{cid}.upstream"]).sum().backward()
            for i, x in enumerate(xs if case["list_input"] else [xs]):
                close(x.grad, T[f"{cid}.grad_input.{i}"], f"grad_input {i}", rtol)
            for n, trainable in zip(case["weight_names"], case["weight_trainable"]):
                if trainable:
                    close(keras_grad(layer, n), T[f"{cid}.grad.{n}"], f"grad {n}", rtol)
        for n in case["weight_names"]:
            close(layer.keras_weight(n), T[f"{cid}.after.{n}"], f"{n} after the call", rtol)
        if case["compute_output_shape"] is not None:
            shapes = [[None] + s[1:] for s in case["input_shapes"]]
            got = layer.compute_output_shape(shapes if case["list_input"] else shapes[0])
            assert jsonable(got) == case["compute_output_shape"]
        assert jsonable(layer.get_config()) == case["config"]
        assert len(layer.losses) == len(case["losses"])
        for ours, theirs in zip(layer.losses, case["losses"]):
            close(ours, torch.tensor(theirs, dtype=ours.dtype), "loss", max(rtol, 1e-6))
        return y

    def check_keras3_config(self, case: dict) -> None:
        """Keras 3's config of the same layer builds a layer computing tf.keras's output."""
        layer = self.built(case, config=case["keras3_config"])
        if case.get("keras3_max_abs_diff") is None or case["keras3_max_abs_diff"] > 1e-4 or case["output_dtype"] == "bool":
            return  # Keras 3 itself computes something else here: the config is only required to load
        y = self.call(layer, case, self.inputs(case))
        close(y, self.tensors(case)[f"{case['id']}.output"], "output from Keras 3's config", self.rtol(case))

    # ---------------- errors ----------------
    def stage(self, case: dict) -> Any:
        """Run an error case up to the stage where Keras failed; return the layer (or the computed shape)."""
        layer = getattr(L, case["class"])(**case["args"])
        shapes = [tuple(s) for s in case["input_shapes"]] if case["input_shapes"] is not None else None
        arg = (shapes if case["list_input"] else shapes[0]) if shapes else None
        if case["kind"] == "build":
            layer.build(arg)
        elif case["kind"] == "compute_output_shape":
            return layer.compute_output_shape(arg)
        elif case["kind"] == "call":
            xs = [torch.zeros(s, dtype=DTYPES[case["dtype"]]) for s in shapes]
            return layer(xs if case["list_input"] else xs[0])
        return layer

    def check_error(self, case: dict, core: Callable[[str], str] = keras_core) -> None:
        """tf.keras's ValueError with its message; its other errors as a ValueError naming the layer."""
        with pytest.raises(ValueError) as err:
            self.stage(case)
        if case["keras_error_type"] == "ValueError":
            assert core(case["keras_message"]) in str(err.value)
        else:
            assert case["args"]["name"] in str(err.value)

    def check_accepted(self, case: dict) -> None:
        """What tf.keras accepts, kerastorch accepts, with the same output shape."""
        result = self.stage(case)
        if case["kind"] in ("call", "compute_output_shape") and case.get("keras_output_shape") is not None:
            shape = result.shape if isinstance(result, torch.Tensor) else result
            assert jsonable(shape) == case["keras_output_shape"]
